#!/bin/sh
# soak.sh - scepdump left running on a gateway ('make soak'; not in CI).
#
# Live capture on a veth pair in a private network namespace (as
# live.sh), while tcpreplay loops the bench mix (gen: HTTP/1.1, TLS and
# real SCEP enrollments) at SOAK_PPS packets per second for SOAK_MINUTES,
# with rotation on: -w into a ring of SOAK_FILES pcap files of SOAK_ROTATE_MB
# million bytes, transactions as JSON Lines (--json-file). Every minute it
# prints scepdump's resident memory (VmRSS) and asks it for its statistics
# line (SIGUSR1). At the end (SIGINT):
#   - memory flat: the last minute's RSS within SOAK_RSS_SLACK percent (10)
#     of the RSS after the warm-up minutes (SOAK_WARMUP, 3);
#   - every enrollment counted: the summary's transactions equal the
#     enrollments tcpreplay sent (the file's, times the loops it completed);
#   - drops reported: the kernel's drop count as scepdump printed it;
#   - every rotated pcap readable by tcpdump -r, and no packet of a SCEP
#     connection left out of them by the hold caps.
# Needs root, tcpreplay, tcpdump. Exit 0 PASS, 1 FAIL, 2 setup error.
# Environment: SCEPDUMP, SRCDIR, SOAK_MINUTES (30), SOAK_PPS (20000),
# SOAK_MB (the looped file, 100), SOAK_ROTATE_MB (10), SOAK_FILES (5),
# SOAK_OPTS (more scepdump options), BENCH_DIR and the density of run.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SRCDIR:-$(cd "$here/../.." && pwd)}
scepdump=${SCEPDUMP:-$srcdir/build/src/scepdump}
minutes=${SOAK_MINUTES:-30}
pps=${SOAK_PPS:-20000}
mb=${SOAK_MB:-100}
rotate_mb=${SOAK_ROTATE_MB:-10}
files=${SOAK_FILES:-5}
warmup=${SOAK_WARMUP:-3}
slack=${SOAK_RSS_SLACK:-10}
density_mb=${BENCH_MB:-450}
enroll=${BENCH_ENROLL:-400}
flows=${BENCH_FLOWS:-800}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/scepdump-bench}
sources="$srcdir/captures/scepclient-post-enroll.pcap $srcdir/captures/concurrent-20.pcap"
ns=scepdump-soak-$$
cap_if=vcap
rep_if=vrep
prog=soak

die() { echo "soak: $*" >&2; exit 2; }

for v in "$minutes" "$pps" "$mb" "$rotate_mb" "$files" "$warmup"; do
	case $v in ''|*[!0-9]*|0) die "SOAK_* settings must be positive numbers ('$v')" ;; esac
done
[ "$(id -u)" = 0 ] || die "needs root (network namespace, raw capture): sudo make soak"
[ -x "$scepdump" ] || die "no scepdump at '$scepdump' (set SCEPDUMP, or run 'make soak')"
for t in ip tcpreplay tcpdump; do
	command -v "$t" >/dev/null || die "$t missing: apt-get install iproute2 tcpreplay tcpdump"
done

# shellcheck source=tests/bench/common.sh
. "$here/common.sh"
build_tools gen
f=$(make_capture "$mb" "$(scaled_enroll "$mb")") || exit 2
packets=$(meta "$f" packets)
per_loop=$(meta "$f" enrollments)
# whole loops only, so that the enrollments sent are known exactly
loops=$(awk -v m="$minutes" -v r="$pps" -v p="$packets" 'BEGIN { n = int(m * 60 * r / p); print n < 1 ? 1 : n }')

out="$dir/soak"
rm -rf "$out"
mkdir -p "$out" || die "cannot create $out"

cpid=
rpid=
# shellcheck disable=SC2317  # run from the trap
cleanup() {
	[ -n "$rpid" ] && kill -TERM "$rpid" 2>/dev/null
	[ -n "$cpid" ] && kill -INT "$cpid" 2>/dev/null
	veth_netns_down
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP
veth_netns_up

echo "soak: $minutes min at $pps packets/s: $loops loops of $f ($packets packets, $per_loop enrollments each)"
echo "soak: -w $out/soak.pcap -C $rotate_mb -W $files, --json-file $out/soak.jsonl; netns $ns"
# 'ip netns exec' itself (it execs the command), not the nsx function:
# $! must be scepdump, for the signals and /proc/PID/status
# shellcheck disable=SC2086
ip netns exec "$ns" "$scepdump" -i "$cap_if" -q -w "$out/soak.pcap" -C "$rotate_mb" -W "$files" \
	--json-file "$out/soak.jsonl" ${SOAK_OPTS:-} >"$out/stdout" 2>"$out/stderr" &
cpid=$!
sleep 2
kill -0 "$cpid" 2>/dev/null || die "scepdump did not start: $(head -n 3 "$out/stderr")"

ip netns exec "$ns" tcpreplay -q --pps="$pps" --loop="$loops" -i "$rep_if" "$f" >"$out/tcpreplay" 2>&1 &
rpid=$!

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$cpid/status" 2>/dev/null; }
minute=0
: >"$out/rss"
while kill -0 "$rpid" 2>/dev/null; do
	sleep 60
	minute=$((minute + 1))
	kill -USR1 "$cpid" 2>/dev/null
	sleep 1
	r=$(rss)
	echo "$minute $r" >>"$out/rss"
	echo "soak: minute $minute: RSS $r kB; $(grep -v '^$' "$out/stderr" | tail -n 1)"
done
wait "$rpid"
rpid=
sleep 5                                  # the last exchanges settle
kill -INT "$cpid"
wait "$cpid"
status=$?
cpid=

fail=0
check() { # OK MESSAGE
	if [ "$1" = 1 ]; then echo "PASS: $2"; else echo "FAIL: $2"; fail=1; fi
}
check "$([ "$status" = 0 ] && echo 1)" "scepdump exited 0 after SIGINT (got $status)"

base=$(awk -v w="$warmup" '$1 == w { print $2 }' "$out/rss")
last=$(tail -n 1 "$out/rss" | cut -d' ' -f2)
if [ -n "$base" ] && [ -n "$last" ]; then
	check "$(awk -v b="$base" -v l="$last" -v s="$slack" 'BEGIN { print (l <= b * (1 + s / 100)) ? 1 : 0 }')" \
		"resident memory flat after minute $warmup: $base kB then $last kB at the end (within $slack%)"
else
	echo "soak: too short for a memory verdict (warm-up $warmup min): RSS by minute in $out/rss"
fi

want=$((loops * per_loop))
got=$(sed -n 's/^\([0-9][0-9]*\) transactions\{0,1\}[:;].*/\1/p' "$out/stdout" "$out/stderr" | tail -n 1)
drops=$(grep -ho '[0-9][0-9]* packets dropped by kernel' "$out/stdout" "$out/stderr" | tail -n 1)
check "$([ "${got:-x}" = "$want" ] && echo 1)" \
	"every enrollment counted: $want sent ($loops loops x $per_loop), scepdump counted ${got:-none} (drops: ${drops:-none reported})"

capped=$(sed -n 's/^-w .*; \([0-9][0-9]*\) packets ([0-9]* bytes) of SCEP connections past the hold caps.*/\1/p' "$out/stdout")
check "$([ "${capped:-x}" = 0 ] && echo 1)" "-w: no packet of a SCEP connection past the hold caps (${capped:-no figure})"
n=0
for p in "$out"/soak.pcap*; do
	[ -e "$p" ] || continue
	n=$((n + 1))
	tcpdump -r "$p" -c 1 >/dev/null 2>&1
	check "$([ $? = 0 ] && echo 1)" "tcpdump -r reads $(basename "$p") ($(wc -c <"$p") bytes)"
done
check "$([ "$n" -ge 1 ] && [ "$n" -le "$files" ] && echo 1)" "$n rotated pcap files, at most -W $files"
# the ring keeps the last -W files: every line written is counted, the
# files left must each parse whole
lines=$(sed -n 's/^--json-file .*: \([0-9][0-9]*\) lines written.*/\1/p' "$out/stdout")
check "$([ "${lines:-x}" = "${got:-x}" ] && echo 1)" "--json-file: ${lines:-no} lines written, one per transaction counted"
for j in "$out"/soak.jsonl*; do
	[ -e "$j" ] || continue
	python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$j" 2>/dev/null
	check "$([ $? = 0 ] && echo 1)" "every line of $(basename "$j") parses as JSON ($(wc -l <"$j") lines)"
done
echo "soak: RSS by minute in $out/rss; tcpreplay: $(grep -i 'actual\|rated' "$out/tcpreplay" | tr -s ' \t\n' ' ')"
[ $fail = 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit $fail
