#!/bin/sh
# threads.sh - the decode thread and spilling change no output: a dense mix
# written by tests/bench/gen (hundreds of real enrollments among HTTP and
# TLS) goes through scepdump with --decode-threads 0 --no-spill once and with
# the defaults (worker thread, finished transactions spilled to a temporary
# file) several times; text (-v) and JSON must be byte for byte the same.
# The golden captures are small enough that the worker is rarely behind and
# few transactions are open while others finish: here both happen all the
# time. Prints TAP.
#   SRCDIR, SCEPDUMP as for run.sh; GEN (tests/bench/gen, built by make check)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
GEN=${GEN:-tests/bench/gen}
RUNS=${THREADS_RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..$((2 * RUNS + 1))"
if ! "$GEN" -o "$tmp/mix.pcap" -m 6 -e 300 -f 100 \
	"$SRCDIR/captures/scepclient-post-enroll.pcap" "$SRCDIR/captures/concurrent-20.pcap" >"$tmp/meta" 2>"$tmp/gen.err"; then
	i=0
	while [ $i -lt $((2 * RUNS + 1)) ]; do
		i=$((i + 1))
		echo "not ok $i - gen failed: $(head -c 200 "$tmp/gen.err")"
	done
	exit 0
fi
"$SCEPDUMP" --decode-threads 0 --no-spill -v -r "$tmp/mix.pcap" >"$tmp/ref.txt" 2>&1
"$SCEPDUMP" --decode-threads 0 --no-spill --json -r "$tmp/mix.pcap" >"$tmp/ref.json" 2>&1
want=$(sed -n 's/^enrollments=//p' "$tmp/meta")
k=0
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	for kind in txt json; do
		k=$((k + 1))
		if [ $kind = txt ]; then
			"$SCEPDUMP" -v -r "$tmp/mix.pcap" >"$tmp/run.$kind" 2>&1
		else
			"$SCEPDUMP" --json -r "$tmp/mix.pcap" >"$tmp/run.$kind" 2>&1
		fi
		if ! cmp -s "$tmp/ref.$kind" "$tmp/run.$kind"; then
			echo "not ok $k - run $i ($kind) differs from --decode-threads 0 --no-spill:"
			diff "$tmp/ref.$kind" "$tmp/run.$kind" | head -n 10 | sed 's/^/# /'
		else
			echo "ok $k - run $i ($kind): the same as --decode-threads 0 --no-spill"
		fi
	done
done
# and it is the right story: one transaction per enrollment gen spliced in
k=$((k + 1))
got=$("$SCEPDUMP" -q -r "$tmp/mix.pcap" 2>&1 | sed -n '1s/ transactions:.*//p')
if [ "$got" = "$want" ]; then
	echo "ok $k - $got transactions for the $want enrollments gen spliced in"
else
	echo "not ok $k - '$got' transactions for the $want enrollments gen spliced in"
fi
