#!/bin/sh
# replay.sh - every seed (tests/fuzz/corpus/<harness>/) and every saved
# reproducer (tests/fuzz/crashes/<harness>-*) through its harness, built
# without libFuzzer by replay.c (check_PROGRAMS tests/fuzz/replay_*). Under
# --enable-sanitizers a leak or an over-read found once by the fuzzer fails
# here, in every 'make check'. One TAP line per harness.
set -u
: "${SRCDIR:?SRCDIR must be set (make check sets it)}"
bindir=${REPLAY_BINDIR:-tests/fuzz}
harnesses=$(cd "$SRCDIR/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
n=$(echo $harnesses | wc -w)
log=$(mktemp "${TMPDIR:-/tmp}/scepdump-replay.XXXXXX")
trap 'rm -f "$log"' EXIT

echo "1..$n"
k=0
for h in $harnesses; do
	k=$((k + 1))
	prog="$bindir/replay_${h#fuzz_}"
	set --
	for f in "$SRCDIR/tests/fuzz/corpus/$h"/* "$SRCDIR/tests/fuzz/crashes/$h"-*; do
		case "$f" in *.log) continue ;; esac
		[ -f "$f" ] && set -- "$@" "$f"
	done
	if [ ! -x "$prog" ]; then
		echo "not ok $k - $h: $prog not built"
		continue
	fi
	"$prog" "$@" >"$log" 2>&1
	rc=$?
	total=$#
	oks=$(grep -c '^ok ' "$log")
	if [ "$rc" -eq 0 ] && [ "$oks" -eq "$total" ]; then
		echo "ok $k - $h: $total inputs replayed (seeds and saved reproducers)"
	else
		at=$(sed -n 's/^# running //p' "$log" | tail -n 1)
		echo "not ok $k - $h: exit $rc after $oks of $total inputs, on ${at:-?}"
		grep -v '^ok \|^1\.\.\|^# running ' "$log" | head -n 20 | sed 's/^/# /'
	fi
done
