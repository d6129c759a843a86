#!/bin/sh
# run.sh [--callgrind | --rss | --txns | --flows] - scepdump throughput benchmark ('make bench').
#
# Builds gen and bare (cc -O2, libpcap), writes a deterministic gateway-like
# capture with gen (HTTP/1.1, TLS and BENCH_ENROLL real SCEP enrollments
# replayed from captures/), then times, BENCH_RUNS times each and in turns
# (so machine noise hits all alike), from a warm page cache:
#   bare            pcap_next_ex loop: the speed of reading the file
#   bare --parse    + Ethernet/IPv4/TCP and a 5-tuple hash lookup/insert
#   scepdump -q -r FILE                 (SCEP decoded on its second thread)
#   scepdump -q --decode-threads 0 -r FILE   (the same on one thread: "scepdump-1t")
#   tcpdump -r FILE -w /dev/null tcp                     (if installed)
#   tshark -Y 'http.request.uri contains "operation="'    (once; if installed)
# and prints medians (wall s, CPU s = user + system, MB/s, packets/s, peak
# RSS) with ratios of wall time to the
# two bare loops. scepdump must report one transaction per spliced
# enrollment: PASS/FAIL, and exit 1 on FAIL.
#
#   --callgrind  scepdump under callgrind on a BENCH_CALLGRIND_MB file (same
#                traffic mix, enrollments scaled to size): top 15 functions
#   --rss        scepdump's peak RSS on BENCH_RSS_SIZES files (MB, default
#                "100 400", enrollments scaled to size): is memory flat?
#   --txns       enrollment-dense files (BENCH_TXN_SPECS "MB:enrollments ...",
#                default "250:4000 1000:16000": both last longer than the
#                60 s a closed connection lingers, so both hold a full
#                window of them) at --max-transactions BENCH_TXN_CAP
#                (1000): every enrollment counted, peak RSS within 1.5x;
#                exit 1 otherwise
#   --flows      the same kind of traffic with more conversations open at
#                once: gen -c (conversations run to their end, so every
#                file holds the same mix) at BENCH_FLOWS_SPECS concurrent
#                flows (default "200 800 3200"), BENCH_FLOWS_MB (300) of
#                them plus what is under way then, 100 enrollments;
#                scepdump's wall time as a ratio of the flow-lookup loop's,
#                and peak RSS per concurrent flow against the loop's. PASS
#                when the largest ratio is within 1.25x of the smallest and
#                every enrollment is found; exit 1 otherwise
#
# Environment: SCEPDUMP (the binary; 'make bench' sets it), SRCDIR,
# BENCH_MB (450), BENCH_ENROLL (400), BENCH_FLOWS (800 concurrent),
# BENCH_RUNS (5), BENCH_DIR (files and tools; default
# ${TMPDIR:-/tmp}/scepdump-bench, reused across runs), BENCH_TSHARK=0 skips
# tshark, BENCH_TCPDUMP=0 skips tcpdump, BENCH_CALLGRIND_MB (50).
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SRCDIR:-$(cd "$here/../.." && pwd)}
scepdump=${SCEPDUMP:-$srcdir/build/src/scepdump}
mb=${BENCH_MB:-450}
enroll=${BENCH_ENROLL:-400}
flows=${BENCH_FLOWS:-800}
runs=${BENCH_RUNS:-5}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/scepdump-bench}
mode=${1:-bench}
sources="$srcdir/captures/scepclient-post-enroll.pcap $srcdir/captures/concurrent-20.pcap"

die() { echo "bench: $*" >&2; exit 2; }

case "$mode" in
bench|--callgrind|--rss|--txns|--flows) ;;
*) die "usage: run.sh [--callgrind | --rss | --txns | --flows]" ;;
esac
[ -x "$scepdump" ] || die "no scepdump at '$scepdump' (set SCEPDUMP, or run 'make bench')"
case "$runs" in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number" ;; esac

if [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "bench: /usr/bin/time missing: installing the 'time' package" >&2
		apt-get install -y -qq time >/dev/null 2>&1 || die "apt-get install time failed"
	else
		die "/usr/bin/time missing: apt-get install time"
	fi
fi

prog=bench
density_mb=$mb
# shellcheck source=tests/bench/common.sh
. "$here/common.sh"
build_tools gen bare


# measure OUT CMD...: runs CMD, appends "wall_s rss_kib cpu_s" to OUT.times;
# its stdout goes to OUT.stdout. Wall time from date(1) in ns: %e has 10 ms steps.
measure() {
	out=$1; shift
	t0=$(date +%s%N)
	/usr/bin/time -f '%M %U %S' -o "$out.rss" "$@" >"$out.stdout" 2>"$out.stderr"
	rc=$?
	t1=$(date +%s%N)
	set -- $(tail -n 1 "$out.rss")
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }') $1 $(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')" >>"$out.times"
	return $rc
}

# median COLUMN FILE
median() { cut -d' ' -f"$1" "$2" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# top_functions N: the first N function lines of callgrind_annotate output
# as "percent function", paths made relative to the source tree and
# symbol-less library code named by its library.
top_functions() {
	awk -v t="$total" -v max="$1" -v src="$srcdir/" -v q=\' '
	/^-+$/ { sep++; next }
	sep >= 3 && $1 ~ /^[0-9,]+$/ {
		n = $1; gsub(",", "", n); line = $0
		sub(/^ *[0-9,]+ +(\([ 0-9.]+%\) +)?/, "", line)
		# recursion-cycle entries (name, quote, level) count twice: skip them
		if (line ~ /PROGRAM TOTALS|below main|libc_start_main|ld-linux/ || index(line, q)) next
		obj = ""
		if (match(line, / \[[^]]*\]$/)) { obj = substr(line, RSTART + 2, RLENGTH - 3); line = substr(line, 1, RSTART - 1) }
		if (index(line, src) == 1) line = substr(line, length(src) + 1)
		if (line ~ /^\?\?\?:/) { sub(/.*\//, "", obj); line = line " in " obj }
		printf "  %6.2f%%  %s\n", 100 * n / t, line
		if (++k == max) exit
	}'
}

if [ "$mode" = --callgrind ]; then
	command -v valgrind >/dev/null || die "valgrind missing: apt-get install valgrind"
	cmb=${BENCH_CALLGRIND_MB:-50}
	f=$(make_capture "$cmb" "$(scaled_enroll "$cmb")")
	out="$dir/callgrind.out"
	echo "callgrind: $scepdump -q -r $(basename "$f") ($(meta "$f" bytes) bytes, $(meta "$f" packets) packets, $(meta "$f" enrollments) enrollments)"
	rm -f "$out" "$out"-*
	valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out" "$scepdump" -q -r "$f" \
		>"$dir/callgrind.stdout" 2>"$dir/callgrind.stderr" ||
		die "valgrind failed: see $dir/callgrind.stderr"
	head -n 1 "$dir/callgrind.stdout"
	for part in "$out"-*; do
		total=$(sed -n 's/^summary: *//p' "$part")
		case $part in
		*-01) what="capture thread (packets, TCP, HTTP, TLS; scepdump's main)" ;;
		*) what="decode thread (SCEP/PKCS#7 through OpenSSL)" ;;
		esac
		echo
		echo "== $what: $total instructions ($(awk -v t="$total" -v p="$(meta "$f" packets)" 'BEGIN { printf "%.0f", t / p }') per packet)"
		echo "top 15 functions by instructions (self):"
		callgrind_annotate --threshold=100 "$part" 2>/dev/null | top_functions 15
		echo
		echo "top 20 by instructions (inclusive: with what they call):"
		callgrind_annotate --inclusive=yes --threshold=100 "$part" 2>/dev/null | top_functions 20
	done
	echo "(full profiles: callgrind_annotate $out-01, $out-02)"
	exit 0
fi

if [ "$mode" = --rss ]; then
	printf '%-8s %10s %9s %8s %10s %12s\n' "MB" "packets" "enroll" "wall s" "RSS MiB" "transactions"
	for s in ${BENCH_RSS_SIZES:-100 400}; do
		f=$(make_capture "$s" "$(scaled_enroll "$s")")
		rm -f "$dir/rss.times"
		measure "$dir/rss" "$scepdump" -q -r "$f" || die "scepdump failed on $f"
		set -- $(cat "$dir/rss.times")
		printf '%-8s %10s %9s %8s %10.1f %12s\n' "$s" "$(meta "$f" packets)" "$(meta "$f" enrollments)" "$1" \
			"$(awk -v k="$2" 'BEGIN { print k / 1024 }')" "$(sed -n '1s/ transactions\{0,1\}:.*//p' "$dir/rss.stdout")"
	done
	exit 0
fi

if [ "$mode" = --txns ]; then
	# Enrollment-dense files (gen -m MB -e N): the transaction table, not
	# the flow table, is what grows. Memory must stay flat past the cap,
	# and every enrollment must still be counted in the summary.
	cap=${BENCH_TXN_CAP:-1000}
	printf '%-8s %8s %8s %10s %12s %10s\n' "MB" "enroll" "wall s" "RSS MiB" "summary" "evicted"
	rss1="" fail=0
	for spec in ${BENCH_TXN_SPECS:-250:4000 1000:16000}; do
		smb=${spec%%:*} sen=${spec#*:}
		f=$(make_capture "$smb" "$sen")
		rm -f "$dir/txns.times"
		measure "$dir/txns" "$scepdump" -q --max-transactions "$cap" -r "$f" || die "scepdump failed on $f"
		set -- $(cat "$dir/txns.times")
		got=$(sed -n '1s/ transactions\{0,1\}:.*//p' "$dir/txns.stdout")
		ev=$(sed -n 's/^scepdump: \([0-9]*\) transactions past --max-transactions.*/\1/p' "$dir/txns.stderr")
		printf '%-8s %8s %8s %10.1f %12s %10s\n' "$smb" "$(meta "$f" enrollments)" "$1" \
			"$(awk -v k="$2" 'BEGIN { print k / 1024 }')" "$got" "${ev:-0}"
		[ "$got" = "$(meta "$f" enrollments)" ] || { echo "FAIL: summary counts $got, want $(meta "$f" enrollments)"; fail=1; }
		if [ -z "$rss1" ]; then
			rss1=$2
		elif [ "$2" -gt $((rss1 * 3 / 2)) ]; then
			echo "FAIL: peak RSS $2 KiB is over 1.5x the small file's $rss1 KiB"
			fail=1
		fi
	done
	[ $fail = 0 ] && echo "PASS: every enrollment counted, memory within 1.5x at --max-transactions $cap"
	exit $fail
fi

if [ "$mode" = --flows ]; then
	fmb=${BENCH_FLOWS_MB:-300}
	printf '%-7s %8s %9s %8s %8s %8s %7s %10s %10s\n' "flows" "MB" "packets" "conns" "parse s" "scep s" "ratio" "parse MiB" "scep MiB"
	fail=0 rmin="" rmax="" base=""
	for nf in ${BENCH_FLOWS_SPECS:-200 800 3200}; do
		f="$dir/flows-c-${fmb}MB-f$nf.pcap"
		if [ ! -s "$f.meta" ] || [ "$dir/bin/gen" -nt "$f" ]; then
			echo "bench: writing $f" >&2
			# shellcheck disable=SC2086
			"$dir/bin/gen" -c -o "$f" -m "$fmb" -e 100 -f "$nf" $sources >"$f.meta.tmp" || die "gen failed"
			mv "$f.meta.tmp" "$f.meta"
		fi
		rm -f "$dir/fparse.times" "$dir/fscep.times"
		cat "$f" >/dev/null
		i=0
		while [ $i -lt "$runs" ]; do
			i=$((i + 1))
			measure "$dir/fparse" "$dir/bin/bare" --parse "$f" || die "bare failed on $f"
			measure "$dir/fscep" "$scepdump" -q -r "$f" || die "scepdump failed on $f"
		done
		tp=$(median 1 "$dir/fparse.times") ts=$(median 1 "$dir/fscep.times")
		mp=$(median 2 "$dir/fparse.times") ms=$(median 2 "$dir/fscep.times")
		ratio=$(awk -v a="$ts" -v b="$tp" 'BEGIN { printf "%.2f", a / b }')
		printf '%-7s %8.0f %9s %8s %8.3f %8.3f %6sx %10.1f %10.1f\n' "$nf" "$(awk -v b="$(meta "$f" bytes)" 'BEGIN { print b / 1e6 }')" \
			"$(meta "$f" packets)" "$(meta "$f" flows)" "$tp" "$ts" "$ratio" \
			"$(awk -v k="$mp" 'BEGIN { print k / 1024 }')" "$(awk -v k="$ms" 'BEGIN { print k / 1024 }')"
		got=$(sed -n '1s/ transactions\{0,1\}:.*//p' "$dir/fscep.stdout")
		[ "$got" = 100 ] || { echo "FAIL: $got transactions, want 100"; fail=1; }
		rmin=$(awk -v r="$ratio" -v m="${rmin:-$ratio}" 'BEGIN { print (r < m ? r : m) }')
		rmax=$(awk -v r="$ratio" -v m="${rmax:-$ratio}" 'BEGIN { print (r > m ? r : m) }')
		if [ -z "$base" ]; then
			base="$nf $mp $ms"
		else
			set -- $base
			echo "        from $1 to $nf flows at once: parse +$(awk -v a="$mp" -v b="$2" -v n="$nf" -v m="$1" 'BEGIN { printf "%.2f", (a - b) / (n - m) }') KiB, scepdump +$(awk -v a="$ms" -v b="$3" -v n="$nf" -v m="$1" 'BEGIN { printf "%.2f", (a - b) / (n - m) }') KiB per flow"
		fi
	done
	if awk -v a="$rmax" -v b="$rmin" 'BEGIN { exit !(a > 1.25 * b) }'; then
		echo "FAIL: the ratio to the flow-lookup loop goes from ${rmin}x to ${rmax}x"
		fail=1
	fi
	[ $fail = 0 ] && echo "PASS: time per packet flat in concurrent flows (${rmin}x to ${rmax}x the flow-lookup loop), every enrollment found"
	exit $fail
fi

f=$(make_capture "$mb" "$enroll")
bytes=$(meta "$f" bytes)
packets=$(meta "$f" packets)
want=$(meta "$f" enrollments)
echo "capture: $f"
echo "  $bytes bytes, $packets packets, $(meta "$f" flows) flows ($(meta "$f" http_flows) HTTP, $(meta "$f" tls_flows) TLS, $want SCEP enrollments), $(meta "$f" seconds) s of traffic"
echo "  $runs runs each, in turns, warm page cache; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$f" >/dev/null
"$dir/bin/bare" "$f" >/dev/null

tools="bare parse scepdump scepdump-1t"
[ "${BENCH_TCPDUMP:-1}" != 0 ] && command -v tcpdump >/dev/null && tools="$tools tcpdump"
for t in $tools tshark; do rm -f "$dir/$t.times"; done

i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	for t in $tools; do
		case $t in
		bare) measure "$dir/$t" "$dir/bin/bare" "$f" ;;
		parse) measure "$dir/$t" "$dir/bin/bare" --parse "$f" ;;
		scepdump) measure "$dir/$t" "$scepdump" -q -r "$f" ;;
		scepdump-1t) measure "$dir/$t" "$scepdump" -q --decode-threads 0 -r "$f" ;;
		tcpdump) measure "$dir/$t" tcpdump -r "$f" -w /dev/null tcp ;;
		esac || die "$t failed (run $i): $(head -c 300 "$dir/$t.stderr")"
	done
	printf 'run %d/%d done\r' "$i" "$runs" >&2
done
echo >&2
if [ "${BENCH_TSHARK:-1}" != 0 ] && command -v tshark >/dev/null; then
	echo "bench: tshark (one run)..." >&2
	measure "$dir/tshark" tshark -r "$f" -Y 'http.request.uri contains "operation="' -T fields -e frame.number ||
		die "tshark failed: $(head -c 300 "$dir/tshark.stderr")"
	tools="$tools tshark"
fi

bare_s=$(median 1 "$dir/bare.times")
parse_s=$(median 1 "$dir/parse.times")
echo
printf '%-11s %9s %15s %7s %9s %12s %9s %8s %9s\n' tool "wall s" "min-max" "CPU s" "MB/s" "packets/s" "RSS MiB" "x bare" "x parse"
for t in $tools; do
	w=$(median 1 "$dir/$t.times")
	r=$(median 2 "$dir/$t.times")
	c=$(median 3 "$dir/$t.times")
	lo=$(cut -d' ' -f1 "$dir/$t.times" | sort -n | head -n 1)
	hi=$(cut -d' ' -f1 "$dir/$t.times" | sort -n | tail -n 1)
	awk -v t="$t" -v w="$w" -v r="$r" -v c="$c" -v lo="$lo" -v hi="$hi" -v b="$bytes" -v p="$packets" \
	    -v bs="$bare_s" -v ps="$parse_s" -v n="$(wc -l <"$dir/$t.times")" 'BEGIN {
		name = (t == "parse") ? "bare-parse" : t
		printf "%-11s %9.3f %15s %7.2f %9.0f %12.0f %9.1f %8.1f %9.1f%s\n", name, w, sprintf("%.3f-%.3f", lo, hi),
			c, b / 1e6 / w, p / w, r / 1024, w / bs, w / ps, (n == 1) ? "  (1 run)" : "" }'
done

echo
sed -n 1p "$dir/scepdump.stdout"
got=$(sed -n '1s/^\([0-9][0-9]*\) transactions\{0,1\}:.*/\1/p' "$dir/scepdump.stdout")
if [ -f "$dir/tshark.stdout" ] && [ -s "$dir/tshark.times" ]; then
	echo "tshark: $(wc -l <"$dir/tshark.stdout") HTTP requests with operation= in the URI"
fi
if [ "$got" = "$want" ]; then
	echo "PASS: scepdump reported $got transactions for $want spliced enrollments"
else
	echo "FAIL: scepdump reported '${got:-?}' transactions for $want spliced enrollments"
	exit 1
fi
