#!/bin/sh
# Golden-output tests, tcpdump style: each line of TESTLIST names a test, a
# capture and options; scepdump's text and JSON output must match
# NAME.out and NAME.json byte for byte. Prints TAP. With --regen, rewrites
# the expected files instead (review the change with 'git diff'); with
# --regen NAME..., only those tests' files.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
regen=0
only=""
if [ "${1:-}" = "--regen" ]; then
	regen=1
	shift
	only="$*"
fi
list="$SRCDIR/tests/golden/TESTLIST"
for want in $only; do
	grep -v '^[[:space:]]*#' "$list" | grep -q "^$want[[:space:]]" ||
		{ echo "run.sh: no test named '$want' in TESTLIST" >&2; exit 2; }
done
gdir="$SRCDIR/tests/golden"
TZ=UTC LC_ALL=C
export TZ LC_ALL

tests=$(grep -v '^[[:space:]]*#' "$list" | grep -c '[^[:space:]]')
[ $regen -eq 1 ] || echo "1..$((tests * 2))"
n=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Tests named *-evtx-* read .evtx device logs: a scepdump built without
# libevtx (configure --with-libevtx=no, or no libevtx-dev) refuses those
# with one line (tests/hostile/run.sh checks it), so they are skipped
# there, not failed, and not regenerated.
evtx_skip=""
if (cd "$SRCDIR" && "$SCEPDUMP" --device-log tests/devlogs/windows-strongswan-enroll.evtx) 2>&1 </dev/null |
	grep -q 'built without libevtx'; then
	evtx_skip="scepdump built without libevtx"
fi

# run_one NAME FORMAT-OPTION SUFFIX "OPTIONS": one TAP line. OPTIONS are
# split like a shell command line, so a quoted BPF filter stays one word.
# A trailing "< FILE" feeds FILE on standard input (for '-r -').
run_one() {
	name=$1; fmt=$2; suffix=$3; opts=$4; input=/dev/null
	case "$opts" in
	*" < "*) input=$SRCDIR/${opts##* < }; opts=${opts% < *} ;;
	esac
	eval "set -- $opts"
	n=$((n + 1))
	case "$name" in
	*-evtx-*)
		if [ -n "$evtx_skip" ]; then
			[ $regen -eq 1 ] && echo "not regenerated ($evtx_skip): $name.$suffix" ||
				echo "ok $n - $name.$suffix # SKIP $evtx_skip"
			return
		fi ;;
	esac
	# Captures and keys are named relative to the source tree.
	(cd "$SRCDIR" && "$SCEPDUMP" $fmt "$@") <"$input" >"$tmp/out" 2>"$tmp/err"
	echo "exit $?" >>"$tmp/err"
	cat "$tmp/err" >>"$tmp/out"
	if [ $regen -eq 1 ]; then
		cp "$tmp/out" "$gdir/$name.$suffix"
		echo "regenerated $name.$suffix"
		return
	fi
	if [ ! -f "$gdir/$name.$suffix" ]; then
		echo "not ok $n - $name.$suffix (no expected file; run 'make golden')"
		fail=$((fail + 1))
	elif diff -u "$gdir/$name.$suffix" "$tmp/out" >"$tmp/diff"; then
		echo "ok $n - $name.$suffix"
	else
		echo "not ok $n - $name.$suffix"
		sed 's/^/# /' "$tmp/diff" | head -60
		fail=$((fail + 1))
	fi
}

grep -v '^[[:space:]]*#' "$list" | grep '[^[:space:]]' | while read -r name args; do
	case " ${only:-$name} " in
	*" $name "*) ;;
	*) continue ;;
	esac
	run_one "$name" "" out "$args"
	run_one "$name" "--json" json "$args"
done
