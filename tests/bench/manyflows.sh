#!/bin/sh
# manyflows.sh - is scepdump's memory bounded however many flows a capture
# holds? ('make manyflows')
#
# Builds manyflows (cc -O2, libpcap), writes two captures of short, distinct
# TCP connections one after the other (manyflows.c: SYN, SYN-ACK, ACK, one
# small data segment - a tiny HTTP GET without operation= or bytes that are
# not HTTP - and FIN both ways, 10 us per packet): MANYFLOWS_BASE (100000)
# and MANYFLOWS_N (1000000) connections. Runs
#   /usr/bin/time -f '%e %M' scepdump -q -v -r FILE
# on each and prints wall time, peak RSS and the flows, flows_capped and
# flows_timed_out counters. FAIL (exit 1) when the big run's peak RSS is
# more than 2x the small run's or above MANYFLOWS_MAX_MIB (256), or when
# scepdump did not count every connection as a flow; exit 2 when it cannot
# run at all.
#
# Environment: SCEPDUMP (the binary; 'make manyflows' sets it), SRCDIR,
# MANYFLOWS_N, MANYFLOWS_BASE, MANYFLOWS_MAX_MIB, MANYFLOWS_ARGS (more
# scepdump options, e.g. '--max-flows 1000'), BENCH_DIR (files and tools;
# default ${TMPDIR:-/tmp}/scepdump-bench, captures reused across runs).
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${SRCDIR:-$(cd "$here/../.." && pwd)}
scepdump=${SCEPDUMP:-$srcdir/build/src/scepdump}
big=${MANYFLOWS_N:-1000000}
base=${MANYFLOWS_BASE:-100000}
max_mib=${MANYFLOWS_MAX_MIB:-256}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/scepdump-bench}

die() { echo "manyflows: $*" >&2; exit 2; }

[ -x "$scepdump" ] || die "no scepdump at '$scepdump' (set SCEPDUMP, or run 'make manyflows')"
for v in "$big" "$base" "$max_mib"; do
	case "$v" in ''|*[!0-9]*|0) die "MANYFLOWS_N, MANYFLOWS_BASE and MANYFLOWS_MAX_MIB must be positive numbers" ;; esac
done
if [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "manyflows: /usr/bin/time missing: installing the 'time' package" >&2
		apt-get install -y -qq time >/dev/null 2>&1 || die "apt-get install time failed"
	else
		die "/usr/bin/time missing: apt-get install time"
	fi
fi

mkdir -p "$dir/bin" || die "cannot create $dir"
gen="$dir/bin/manyflows"
if [ ! -x "$gen" ] || [ "$here/manyflows.c" -nt "$gen" ]; then
	# shellcheck disable=SC2086
	${CC:-cc} -O2 -o "$gen" "$here/manyflows.c" $(pkg-config --cflags --libs libpcap 2>/dev/null || echo -lpcap) ||
		die "cannot build manyflows"
fi

# capture N: prints the path of an N-connection capture, writing it unless
# a current one is there.
capture() {
	f="$dir/manyflows-$1.pcap"
	if [ ! -s "$f.meta" ] || [ "$gen" -nt "$f" ]; then
		echo "manyflows: writing $f" >&2
		"$gen" -o "$f" -n "$1" >"$f.meta.tmp" || die "manyflows generator failed"
		mv "$f.meta.tmp" "$f.meta"
	fi
	echo "$f"
}

counter() { sed -n "s/.*[ :]$1=\([0-9]*\).*/\1/p" "$2" | head -n 1; }

# run N: scepdump on the N-connection capture; sets wall, rss_kib, flows.
run() {
	f=$(capture "$1")
	out="$dir/manyflows-$1"
	# shellcheck disable=SC2086
	/usr/bin/time -f '%e %M' -o "$out.time" "$scepdump" -q -v ${MANYFLOWS_ARGS:-} -r "$f" \
		>"$out.stdout" 2>"$out.stderr" ||
		die "scepdump failed on $f: $(head -c 300 "$out.stderr")"
	set -- $(tail -n 1 "$out.time")
	wall=$1
	rss_kib=$2
	flows=$(counter flows "$out.stdout")
	capped=$(counter flows_capped "$out.stdout")
	timed_out=$(counter flows_timed_out "$out.stdout")
	packets=$(sed -n 's/^packets=//p' "$f.meta")
	printf '%-9s %9s %8s %9.1f %9s %13s %16s\n' "$n" "$packets" "$wall" \
		"$(awk -v k="$rss_kib" 'BEGIN { print k / 1024 }')" "${flows:-?}" "${capped:-?}" "${timed_out:-?}"
}

echo "scepdump -q -v ${MANYFLOWS_ARGS:+$MANYFLOWS_ARGS }-r FILE on captures of short TCP connections (7 packets, 10 us apart)"
printf '%-9s %9s %8s %9s %9s %13s %16s\n' connections packets "wall s" "RSS MiB" flows flows_capped flows_timed_out
n=$base
run "$base"
base_rss=$rss_kib
base_flows=$flows
n=$big
run "$big"
big_rss=$rss_kib
big_flows=$flows

fail=0
if [ "$big_rss" -gt $((2 * base_rss)) ]; then
	echo "FAIL: peak RSS with $big connections ($big_rss KiB) is more than 2x that with $base ($base_rss KiB)"
	fail=1
fi
if [ "$big_rss" -gt $((max_mib * 1024)) ]; then
	echo "FAIL: peak RSS with $big connections ($big_rss KiB) is above $max_mib MiB"
	fail=1
fi
if [ "${base_flows:-0}" != "$base" ] || [ "${big_flows:-0}" != "$big" ]; then
	echo "FAIL: scepdump counted ${base_flows:-?} and ${big_flows:-?} flows for $base and $big connections"
	fail=1
fi
if [ "$fail" = 0 ]; then
	echo "PASS: peak RSS $(awk -v a="$big_rss" -v b="$base_rss" 'BEGIN { printf "%.2fx", a / b }') from $base to $big connections, $((big_rss / 1024)) MiB <= $max_mib MiB"
fi
exit "$fail"
