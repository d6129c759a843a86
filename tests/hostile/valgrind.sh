#!/bin/sh
# valgrind.sh UNIT-TEST... - 'make valgrind': the golden table
# (tests/golden/run.sh) with scepdump run under valgrind through a wrapper,
# then each cmocka unit test under valgrind. valgrind's own report goes to
# one log per process (so the golden comparison still sees scepdump's exact
# output); a process with a memory error or a definite leak exits 99, which
# fails its golden line ("exit 99"), and its log is printed at the end.
# Still-reachable and possibly-lost blocks (libhtp, OpenSSL and libpcap
# keep some for the life of the process) are not errors. Prints TAP; the
# last line is "N passed, N failed".
#   SRCDIR, SCEPDUMP  as for tests/golden/run.sh (SCEPDUMP: the real binary)
#   VALGRIND          default valgrind; VALGRIND_FLAGS adds options
#   KEEP_VG_LOGS=DIR  keeps every log in DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
export SRCDIR
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
VALGRIND=${VALGRIND:-valgrind}
command -v "$VALGRIND" >/dev/null 2>&1 || {
	echo "valgrind.sh: $VALGRIND not found: apt-get install valgrind" >&2
	exit 2
}
case "$SCEPDUMP" in /*) ;; *) SCEPDUMP=$(pwd)/$SCEPDUMP ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-valgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
logs=${KEEP_VG_LOGS:-$tmp/logs}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)
FLAGS="--error-exitcode=99 --suppressions=$here/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=30 ${VALGRIND_FLAGS:-}"

# the wrapper the golden runner calls as scepdump
cat >"$tmp/scepdump" <<WRAP
#!/bin/sh
exec $VALGRIND $FLAGS --log-file=$logs/scepdump.%p.log "$SCEPDUMP" "\$@"
WRAP
chmod +x "$tmp/scepdump"

pass=0
fail=0
echo "== golden table under valgrind =="
SCEPDUMP=$tmp/scepdump sh "$SRCDIR/tests/golden/run.sh" >"$tmp/golden.tap" 2>&1
cat "$tmp/golden.tap"
pass=$((pass + $(grep -c '^ok ' "$tmp/golden.tap")))
fail=$((fail + $(grep -c '^not ok ' "$tmp/golden.tap")))

echo "== unit tests under valgrind =="
# A unit test that forks (test_pcapng feeds stdin from a child) must not
# see valgrind's exit code in its child: the child leaves by _exit() with
# the parent's heap, which valgrind's leak check at exit would call lost.
# So unit tests run without --error-exitcode and are judged by the log of
# the test process itself (its parent is this script); logs of forked
# children are left out.
UFLAGS=$(echo "$FLAGS" | sed 's/--error-exitcode=[0-9]*//')
is_child_log() {
	ppid=$(sed -n 's/^==[0-9]*== Parent PID: //p' "$1" | head -n 1)
	case "$(basename "$1")" in scepdump.*) return 1 ;; esac
	[ "$ppid" != "$$" ]
}
k=0
[ $# -gt 0 ] && echo "1..$#"
for t in "$@"; do
	k=$((k + 1))
	name=$(basename "$t")
	# shellcheck disable=SC2086
	CMOCKA_MESSAGE_OUTPUT=TAP TZ=UTC LC_ALL=C \
		$VALGRIND $UFLAGS --log-file="$logs/$name.%p.log" "$t" >"$tmp/$name.out" 2>&1
	rc=$?
	cases=$(grep -c '^ok ' "$tmp/$name.out")
	bad=$(grep -c '^not ok ' "$tmp/$name.out")
	errs=0
	for l in "$logs/$name".*.log; do
		[ -f "$l" ] && ! is_child_log "$l" && grep -q 'ERROR SUMMARY: [1-9]' "$l" && errs=$((errs + 1))
	done
	if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$errs" -eq 0 ]; then
		echo "ok $k - $name ($cases cases, no valgrind error)"
		pass=$((pass + 1))
	else
		echo "not ok $k - $name: exit $rc, $bad failed cases, valgrind errors: $errs"
		grep '^not ok' "$tmp/$name.out" | sed 's/^/# /' | head -5
		fail=$((fail + 1))
	fi
done

# every process that reported something, with its first frames
echo "== valgrind reports =="
found=0
for l in "$logs"/*.log; do
	[ -f "$l" ] || continue
	grep -q 'ERROR SUMMARY: [1-9]' "$l" || continue
	is_child_log "$l" && continue
	found=$((found + 1))
	cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$l" | head -n 1)
	echo "# $(basename "$l"): $cmd"
	grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|Argument|[0-9,]+ bytes in [0-9,]+ blocks are definitely)|^==[0-9]+== +(at|by) 0x' "$l" |
		sed 's/^==[0-9]*== */#   /' | head -n 24
	grep 'ERROR SUMMARY' "$l" | sed 's/^==[0-9]*== */#   /'
done
[ "$found" -eq 0 ] && echo "# no process reported a memory error or a definite leak"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$found" -eq 0 ]
