#!/bin/sh
# live.sh [--perf] - scepdump live-capture benchmark ('make bench-live').
#
# Does 'scepdump -i' keep up with traffic replayed at full speed? Needs root
# and tcpreplay. Builds gen and writes (or reuses: same BENCH_DIR and file
# names as run.sh) the deterministic gateway-like capture of 'make bench'
# at BENCH_LIVE_MB, with enrollments at run.sh's density. Creates a private
# network namespace holding a veth pair, vcap <-> vrep (both ends inside,
# no addresses, IPv6 off: nothing but the replay on the wire; nothing
# outside the namespace is touched), and for each offload setting replays
# the file with tcpreplay onto vrep while one capture runs on vcap:
#   scepdump     scepdump -i vcap -q: libpcap immediate mode (TPACKET_V2
#                ring of fixed-size frames), BENCH_LIVE_BUFFER_MIB ring
#                (-B; default 64, scepdump's own default in capture.c);
#                SCEP decoded on its second thread (--decode-threads 1)
#   tcpdump-imm  tcpdump --immediate-mode -B <same> -w /dev/null tcp: the
#                same ring with no analysis: the capture path's own limit
#   tcpdump      tcpdump -B <same> -w /dev/null tcp: libpcap's default
#                ring (TPACKET_V3 blocks of packed packets); topspeed only
# First all at --topspeed; then, unless scepdump lost nothing there, a
# ladder of fixed rates (tcpreplay --pps, percentages of scepdump's top
# rate), scepdump and tcpdump-imm at each, down to the first rate at which
# scepdump loses nothing. A capture is stopped with SIGINT once it has gone
# idle after the replay; its kernel counters ('received by filter',
# 'dropped by kernel'), CPU time and peak RSS (/usr/bin/time -v) are kept.
#
# Offload settings: 'on' is the veth as created (TSO/GSO on, like a NIC
# with GRO): libpcap then sizes ring frames for 64 KiB packets, 1024 frames
# in 64 MiB. 'off' turns TSO/GSO/GRO off on vcap (ethtool): MTU-sized
# frames, about 40000 in 64 MiB.
#
# A run is lossless when the kernel dropped nothing and the filter saw every
# packet tcpreplay sent; scepdump's run must also report one transaction per
# spliced enrollment. PASS when, for every offload setting, scepdump is
# lossless at topspeed or at some ladder rate; the table says which rates
# were. Exit 0 PASS, 1 FAIL, 2 setup error.
#
#   --perf   one scepdump topspeed run (first BENCH_LIVE_OFFLOAD) under
#            'perf record -g': where its time goes (top 15 symbols, self)
#
# Environment: SCEPDUMP (the binary; 'make bench-live' sets it), SRCDIR,
# BENCH_LIVE_MB (100), BENCH_LIVE_OFFLOAD ("on off"), BENCH_LIVE_LADDER
# (percentages of the top rate, "75 50 35 25 15 10 5"), BENCH_LIVE_PPS (fixed
# packets/s rates instead, e.g. "100000 50000"), BENCH_LIVE_BUFFER_MIB
# (the ring, default scepdump's -B default), BENCH_LIVE_OPTS (more
# scepdump options, e.g. "-s 2048"), BENCH_LIVE_TCPDUMP=0 skips the tcpdump
# baselines; from run.sh: BENCH_MB and BENCH_ENROLL (the density), BENCH_FLOWS,
# BENCH_DIR.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SRCDIR:-$(cd "$here/../.." && pwd)}
scepdump=${SCEPDUMP:-$srcdir/build/src/scepdump}
mb=${BENCH_LIVE_MB:-100}
density_mb=${BENCH_MB:-450}
enroll=${BENCH_ENROLL:-400}
flows=${BENCH_FLOWS:-800}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/scepdump-bench}
offloads=${BENCH_LIVE_OFFLOAD:-on off}
ladder=${BENCH_LIVE_LADDER:-75 50 35 25 15 10 5}
fixed_pps=${BENCH_LIVE_PPS:-}
extra_args=${BENCH_LIVE_OPTS:-}
mode=${1:-bench}
sources="$srcdir/captures/scepclient-post-enroll.pcap $srcdir/captures/concurrent-20.pcap"
ns=scepdump-live-$$
cap_if=vcap
rep_if=vrep

die() { echo "bench-live: $*" >&2; exit 2; }

case "$mode" in
bench|--perf) ;;
*) die "usage: live.sh [--perf]" ;;
esac
case "$mb" in ''|*[!0-9]*|0) die "BENCH_LIVE_MB must be a positive number" ;; esac
[ "$(id -u)" = 0 ] || die "needs root (network namespace, raw capture): sudo make bench-live"
[ -x "$scepdump" ] || die "no scepdump at '$scepdump' (set SCEPDUMP, or run 'make bench-live')"
command -v ip >/dev/null || die "ip missing: apt-get install iproute2"
command -v tcpreplay >/dev/null || die "tcpreplay missing: apt-get install tcpreplay"
command -v pgrep >/dev/null || die "pgrep missing: apt-get install procps"
if [ ! -x /usr/bin/time ]; then
	if command -v apt-get >/dev/null; then
		echo "bench-live: /usr/bin/time missing: installing the 'time' package" >&2
		apt-get install -y -qq time >/dev/null 2>&1 || die "apt-get install time failed"
	else
		die "/usr/bin/time missing: apt-get install time"
	fi
fi
[ "$mode" = --perf ] && ! command -v perf >/dev/null && die "perf missing: apt-get install linux-perf"
tcpdump_on=0
if [ "${BENCH_LIVE_TCPDUMP:-1}" != 0 ]; then
	if command -v tcpdump >/dev/null; then tcpdump_on=1
	else echo "bench-live: no tcpdump baseline (apt-get install tcpdump)" >&2; fi
fi
case " $offloads " in
*" off "*) command -v ethtool >/dev/null ||
	die "ethtool missing (needed for BENCH_LIVE_OFFLOAD=off): apt-get install ethtool" ;;
esac
for o in $offloads; do
	case $o in on|off) ;; *) die "BENCH_LIVE_OFFLOAD: '$o' is neither on nor off" ;; esac
done
for r in $ladder $fixed_pps; do
	case $r in *[!0-9]*|0) die "BENCH_LIVE_LADDER / BENCH_LIVE_PPS: '$r' is not a positive number" ;; esac
done

# scepdump's live buffer, so that the tcpdump baselines ask for the same
# the ring both tools get: scepdump -B, tcpdump -B (default: scepdump's)
buf_mib=${BENCH_LIVE_BUFFER_MIB:-$(sed -n 's/^#define CAPTURE_LIVE_BUFFER (\([0-9][0-9]*\) \* 1024 \* 1024)$/\1/p' "$srcdir/src/capture/capture.c" 2>/dev/null)}
buf_mib=${buf_mib:-64}

# ---- the capture (as run.sh writes it) -----------------------------------
mkdir -p "$dir/bin" || die "cannot create $dir"
# the last run's outputs only: ladder rates differ from run to run
rm -f "$dir"/live-*.replay "$dir"/live-*.stdout "$dir"/live-*.stderr "$dir"/live-*.time
prog=bench-live
# shellcheck source=tests/bench/common.sh
. "$here/common.sh"
build_tools gen


f=$(make_capture "$mb" "$(scaled_enroll "$mb")") || exit 2
packets=$(meta "$f" packets)
want=$(meta "$f" enrollments)

# ---- the namespace --------------------------------------------------------
tpid=
# shellcheck disable=SC2317  # run from the trap
cleanup() {
	if [ -n "$tpid" ] && kill -0 "$tpid" 2>/dev/null; then
		kill -TERM "$(pgrep -P "$tpid")" "$tpid" 2>/dev/null
		wait "$tpid" 2>/dev/null
	fi
	veth_netns_down
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP
veth_netns_up

set_offload() {
	[ "$1" = on ] && [ ! "${offload_touched:-}" ] && return 0
	offload_touched=1
	nsx ethtool -K "$cap_if" tso "$1" gso "$1" gro "$1" >/dev/null 2>&1 ||
		die "ethtool -K $cap_if tso/gso/gro $1 failed"
}

# ---- one run --------------------------------------------------------------
# cpu_ticks PID: utime + stime of PID, in clock ticks
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }

# ready TOOL PID OUT: is the capture open and filtering? Both tcpdump and
# scepdump say "listening on" once it is.
ready() {
	grep -q 'listening on' "$3.stderr"
}

# live_run TOOL RATE OUT: RATE is 'top' or packets/s. Leaves OUT.replay,
# OUT.stdout, OUT.stderr, OUT.time; prints nothing.
live_run() {
	tool=$1 rate=$2 out=$3
	rm -f "$out.replay" "$out.stdout" "$out.stderr" "$out.time"
	# shellcheck disable=SC2086
	case $tool in
	scepdump) set -- "$scepdump" -i "$cap_if" -q -B $((buf_mib * 1024)) $extra_args ;;
	tcpdump-imm) set -- tcpdump -i "$cap_if" --immediate-mode -B $((buf_mib * 1024)) -w /dev/null tcp ;;
	tcpdump) set -- tcpdump -i "$cap_if" -B $((buf_mib * 1024)) -w /dev/null tcp ;;
	esac
	# a simple command, so that $! is /usr/bin/time ('ip netns exec'
	# execs) and the tool its only child
	ip netns exec "$ns" /usr/bin/time -v -o "$out.time" "$@" >"$out.stdout" 2>"$out.stderr" &
	tpid=$!
	pid='' n=0
	while :; do
		kill -0 "$tpid" 2>/dev/null || die "$tool exited at start: $(head -c 300 "$out.stderr")"
		[ -n "$pid" ] || pid=$(pgrep -P "$tpid" | head -n 1)
		[ -n "$pid" ] && ready "$tool" "$pid" "$out" && break
		n=$((n + 1))
		[ $n -lt 100 ] || die "$tool did not start capturing within 10 s: $(head -c 300 "$out.stderr")"
		sleep 0.1
	done
	# perf attached before the replay starts
	if [ "$mode" = --perf ]; then
		perf record -g -o "$dir/live.perf.data" -p "$pid" >/dev/null 2>"$dir/live.perf.stderr" &
		perf_pid=$!
		sleep 0.5
	fi
	case $rate in
	top) nsx tcpreplay --topspeed -i "$rep_if" "$f" ;;
	*) nsx tcpreplay --pps="$rate" -i "$rep_if" "$f" ;;
	esac >"$out.replay" 2>&1 || die "tcpreplay failed: $(tail -n 3 "$out.replay")"
	# let it empty its ring: wait until its CPU time stands still (<= 1
	# tick over 0.3 s), at most 20 s
	prev=$(cpu_ticks "$pid") n=0
	while [ $n -lt 66 ]; do
		sleep 0.3
		cur=$(cpu_ticks "$pid")
		[ -n "$cur" ] && [ -n "$prev" ] && [ $((cur - prev)) -le 1 ] && break
		prev=$cur n=$((n + 1))
	done
	if [ "$mode" = --perf ]; then
		kill -INT "$perf_pid" 2>/dev/null
		wait "$perf_pid"
	fi
	kill -INT "$pid" 2>/dev/null
	n=0
	while kill -0 "$tpid" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 100 ] || die "$tool did not stop within 10 s of SIGINT"
		sleep 0.1
	done
	wait "$tpid"
	rc=$?
	tpid=
	[ $rc = 0 ] || die "$tool failed (exit $rc): $(head -c 300 "$out.stderr")"
}

# result TOOL OUT: one line of space-separated fields, '-' when unknown:
#   sent pps mbps received dropped found cpu_s rss_mib ok
# ok is 1 when the kernel dropped nothing, the filter saw every packet sent
# and (scepdump) every enrollment was reported.
result() {
	sent=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$2.replay")
	rated=$(sed -n 's/^Rated: .* Bps, \([0-9.]*\) Mbps, \([0-9.]*\) pps.*/\2 \1/p' "$2.replay")
	recv=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$2.stderr")
	drop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$2.stderr")
	got=-
	[ "$1" = scepdump ] && got=$(sed -n '1s/^\([0-9][0-9]*\) transactions\{0,1\}:.*/\1/p' "$2.stdout")
	awk -v sent="${sent:--}" -v rated="${rated:--}" -v recv="${recv:--}" -v drop="${drop:--}" \
	    -v got="${got:--}" -v want="$want" -v scep="$([ "$1" = scepdump ] && echo 1)" '
	/User time/ { cpu += $NF } /System time/ { cpu += $NF } /Maximum resident/ { rss = $NF / 1024 }
	END {
		split(rated, r, " ")
		ok = (drop == 0 && drop != "-" && recv != "-" && recv + 0 >= sent + 0 && (!scep || got == want)) ? 1 : 0
		printf "%s %.0f %.1f %s %s %s %.2f %.1f %d\n", sent, r[1], r[2], recv, drop, got, cpu, rss, ok
	}' "$2.time"
}

row() { # OFFLOAD TOOL RATE RESULT...
	o=$1 t=$2 rt=$3; shift 3
	awk -v o="$o" -v t="$t" -v rt="$rt" -v want="$want" -v sent="$1" -v pps="$2" -v mbps="$3" \
	    -v recv="$4" -v drop="$5" -v got="$6" -v cpu="$7" -v rss="$8" -v ok="$9" 'BEGIN {
		pct = (recv + 0 > 0 && drop != "-") ? sprintf("%.1f%%", 100 * drop / recv) : "-"
		printf "%-4s %-12s %-8s %9s %8s %9s %9s %7s %9s %6s %7s  %s\n", o, t, rt, pps, mbps, recv, drop, pct,
			(got == "-") ? "-" : got "/" want, cpu, rss, ok ? "lossless" : "LOSS"
	}'
}

if [ "$mode" = --perf ]; then
	set_offload "${offloads%% *}"
	echo "perf: scepdump -i $cap_if -q $extra_args, tcpreplay --topspeed $(basename "$f"), offloads ${offloads%% *}"
	live_run scepdump top "$dir/live-perf"
	# shellcheck disable=SC2046
	set -- $(result scepdump "$dir/live-perf")
	echo "  $2 pps, $4 received, $5 dropped by kernel, $6/$want transactions, $7 s CPU"
	echo
	echo "by object (self, % of scepdump's samples):"
	perf report -i "$dir/live.perf.data" --no-children --stdio -g none --sort dso 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -n 8
	echo
	echo "top 15 symbols (self):"
	perf report -i "$dir/live.perf.data" --no-children --stdio -g none --sort dso,symbol 2>/dev/null |
		grep -E '^ +[0-9.]+%' | sed 's/[ -]*$//' | head -n 15
	echo
	echo "under poll() (inclusive: libpcap waiting for the next packet):"
	perf report -i "$dir/live.perf.data" --children --stdio -g none --sort symbol 2>/dev/null |
		awk '$3 == "[.]" && ($4 == "__poll" || $4 == "poll") { print "  " $1 " of the samples"; exit }'
	echo "(full profile: perf report -i $dir/live.perf.data)"
	exit 0
fi

echo "capture: $f"
echo "  $(meta "$f" bytes) bytes, $packets packets, $(meta "$f" flows) flows, $want SCEP enrollments"
echo "  netns $ns: tcpreplay on $rep_if -> capture on $cap_if (veth); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  ring buffer $buf_mib MiB (scepdump -B$([ $tcpdump_on = 1 ] && echo "; tcpdump -B asks for the same"))"
[ -n "$extra_args" ] && echo "  scepdump options: -q $extra_args"
echo

tools=scepdump
[ $tcpdump_on = 1 ] && tools="scepdump tcpdump-imm tcpdump"
status=0
summary=
printf '%-4s %-12s %-8s %9s %8s %9s %9s %7s %9s %6s %7s  %s\n' offl mode rate "pps" "Mbit/s" received "k-drops" "drop%" found "CPU s" "RSS MiB" ""
for o in $offloads; do
	set_offload "$o"
	for t in $tools; do
		live_run "$t" top "$dir/live-$o-$t-top"
		# shellcheck disable=SC2046
		row "$o" "$t" top $(result "$t" "$dir/live-$o-$t-top")
	done
	# shellcheck disable=SC2046
	set -- $(result scepdump "$dir/live-$o-scepdump-top")
	top_pps=$2 top_ok=$9 top_recv=$4 top_drop=$5 top_cpu=$7
	cmp=
	if [ $tcpdump_on = 1 ]; then
		# shellcheck disable=SC2046
		set -- $(result tcpdump-imm "$dir/live-$o-tcpdump-imm-top")
		cmp=$(awk -v pps="$2" -v r="$4" -v d="$5" -v cpu="$7" -v spps="$top_pps" -v sd="$top_drop" -v scpu="$top_cpu" 'BEGIN {
			printf "; tcpdump-imm (same ring, no analysis) at %d pps dropped %.1f%%", pps, (r > 0) ? 100 * d / r : 0
			if (d > 0) printf ", scepdump %.2fx its drops", sd / d
			if (cpu > 0) printf ", %.2fx its CPU time", scpu / cpu }')
	fi
	best=
	if [ "$top_ok" = 1 ]; then
		best="at topspeed ($top_pps pps)"
	else
		if [ -n "$fixed_pps" ]; then rates=$fixed_pps
		else rates=$(for p in $ladder; do awk -v t="$top_pps" -v p="$p" 'BEGIN { printf "%d\n", t * p / 100 }'; done); fi
		lt=scepdump
		[ $tcpdump_on = 1 ] && lt="scepdump tcpdump-imm"
		for r in $rates; do
			[ "$r" -gt 0 ] || continue
			for t in $lt; do
				live_run "$t" "$r" "$dir/live-$o-$t-$r"
				# shellcheck disable=SC2046
				row "$o" "$t" "$r" $(result "$t" "$dir/live-$o-$t-$r")
			done
			# shellcheck disable=SC2046
			set -- $(result scepdump "$dir/live-$o-scepdump-$r")
			if [ "$9" = 1 ]; then best="at --pps $r ($2 pps reached); the rate above lost packets"; break; fi
		done
	fi
	top=$(awk -v a="$top_drop" -v b="$top_recv" -v p="$top_pps" 'BEGIN {
		printf "topspeed %d pps: scepdump dropped %.1f%%", p, (b > 0) ? 100 * a / b : 0 }')
	if [ -n "$best" ]; then
		summary="$summary
offloads $o: scepdump lossless $best
  $top$cmp"
	else
		summary="$summary
offloads $o: scepdump lost packets at every rate tried, down to ${r:-?} pps
  $top$cmp"
		status=1
	fi
done
echo "$summary"
echo
if [ $status = 0 ]; then
	echo "PASS: scepdump lost no packet and reported $want/$want transactions at the lossless rates above"
else
	echo "FAIL: scepdump lost packets (kernel drops, or the filter saw fewer than sent) or transactions at every rate tried"
fi
exit $status
