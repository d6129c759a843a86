#!/bin/sh
# --metrics: the file written for captures/ passes 'promtool check metrics'
# and its values equal what the text summary prints (and what
# captures/README.md says of the capture); node_exporter's textfile
# collector serves it (scraped once, inside a network namespace of its own);
# a metrics directory removed during a run costs one stderr line, not the
# run. Each case is skipped (TAP "# SKIP") without the tool it needs
# (promtool: prometheus; prometheus-node-exporter, curl, unshare; root).
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
TZ=UTC LC_ALL=C
export TZ LC_ALL
caps=$SRCDIR/captures
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-metrics.XXXXXX")
nepid=
cleanup() {
	[ -n "$nepid" ] && kill "$nepid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 0; }
echo "1..6"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1${2:+: $2}"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# compare PROM SUMMARY-TEXT EXPECT...: the file's figures against the
# summary lines and against EXPECT (metric{labels}=value); prints what differs
compare() {
	python3 - "$@" <<'PYEOF'
import re, sys
prom, summ, expect = sys.argv[1], sys.argv[2], sys.argv[3:]
vals = {}
for l in open(prom):
    if l.startswith('#') or not l.strip():
        continue
    k, v = l.rsplit(' ', 1)
    vals[k] = float(v)
def total(name, **lab):
    t = 0
    for k, v in vals.items():
        m = re.match(r'(\w+)(?:\{(.*)\})?$', k)
        if m.group(1) != name:
            continue
        labs = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ''))
        if all(labs.get(a) == b for a, b in lab.items()):
            t += v
    return t
bad = []
text = open(summ).read()
# the summary's first two lines: verdicts, then the capture's figures
first = ' | '.join(text.splitlines()[:2])
m = re.match(r'(\d+) transactions?(?:: ([^;|]*))?(?:; (\d+) endpoint-only groups? \(([^)]*)\))? \| (\d+) packets?, (\d+) flows?', first)
if not m:
    print('summary line not understood: ' + first); sys.exit()
def verdicts(s):
    return {v: int(c) for c, v in re.findall(r'(\d+) (\w+)', s or '')}
if total('scepdump_enrollments_total') != int(m.group(1)):
    bad.append('enrollments %g != %s' % (total('scepdump_enrollments_total'), m.group(1)))
for v, c in verdicts(m.group(2)).items():
    if total('scepdump_enrollments_total', verdict=v) != c:
        bad.append('%s %g != %d' % (v, total('scepdump_enrollments_total', verdict=v), c))
if total('scepdump_endpoint_groups_total') != int(m.group(3) or 0):
    bad.append('endpoint groups %g != %s' % (total('scepdump_endpoint_groups_total'), m.group(3)))
for v, c in verdicts(m.group(4)).items():
    if total('scepdump_endpoint_groups_total', verdict=v) != c:
        bad.append('group %s %g != %d' % (v, total('scepdump_endpoint_groups_total', verdict=v), c))
if total('scepdump_capture_packets_total') != int(m.group(5)):
    bad.append('packets')
if total('scepdump_flows_total') != int(m.group(6)):
    bad.append('flows')
c = re.search(r'(\d+) capped', first)
if not c or total('scepdump_capped_total') != int(c.group(1)):
    bad.append('capped')
lat = re.search(r'^latency .*, (\d+) enrollments?\)', text, re.M)
if total('scepdump_enrollment_latency_seconds_count') != (int(lat.group(1)) if lat else 0):
    bad.append('latency count')
for srv, cnt in re.findall(r'(\S+): (\d+) \(', (re.search(r'^servers: (.*)', text, re.M) or [None, ''])[1]):
    if total('scepdump_enrollments_total', server=srv) != int(cnt):
        bad.append('server ' + srv)
for e in expect:
    k, v = e.rsplit('=', 1)
    if vals.get(k) != float(v):
        bad.append('%s is %s, not %s' % (k, vals.get(k), v))
print('; '.join(bad))
PYEOF
}

# ---- 1-3: promtool, and the values the summary prints --------------------
for case in \
	"concurrent-20 scepdump_enrollments_total{server=\"127.0.0.1:8008\",verdict=\"ISSUED\"}=17 scepdump_enrollments_total{server=\"127.0.0.1:8008\",verdict=\"REJECTED\"}=3 scepdump_failinfo_total{failinfo=\"badRequest\"}=3" \
	"ndes-pending-strongswan scepdump_polls_total{kind=\"CertPoll\"}=2 scepdump_enrollments_total{server=\"127.0.0.1:8102\",verdict=\"ISSUED\"}=1" \
	"ndes-proxy-302 scepdump_http_errors_total{status=\"302\"}=2 scepdump_endpoint_groups_total{verdict=\"HTTP_ERROR\"}=2"; do
	set -- $case
	name=$1
	shift
	"$SCEPDUMP" -q -r "$caps/$name.pcap" --metrics "$tmp/$name.prom" >"$tmp/$name.txt" 2>"$tmp/err"
	rc=$?
	if [ $rc != 0 ] || [ ! -s "$tmp/$name.prom" ]; then
		not_ok "$name: promtool check metrics, values equal the summary" "exit $rc, $(head -n 1 "$tmp/err")"
		continue
	fi
	why=$(compare "$tmp/$name.prom" "$tmp/$name.txt" "$@")
	if ! command -v promtool >/dev/null 2>&1; then
		[ -z "$why" ] && ok "$name: values equal the summary (promtool not installed: not checked)" ||
			not_ok "$name: values equal the summary" "$why"
	elif ! promtool check metrics <"$tmp/$name.prom" >"$tmp/promtool" 2>&1; then
		not_ok "$name: promtool check metrics" "$(head -n 3 "$tmp/promtool" | tr '\n' ' ')"
	elif [ -n "$why" ]; then
		not_ok "$name: values equal the summary" "$why"
	else
		ok "$name: promtool check metrics passes, values equal the summary and captures/README.md"
	fi
done
[ -e "$tmp/concurrent-20.prom.tmp" ] && not_ok "no FILE.tmp left behind" || ok "no FILE.tmp left behind"

# ---- 5: the directory removed during the run ----------------------------
# The capture arrives through a pipe in two parts; the directory goes once
# the file was written (at the start): the next write fails with one line
# on stderr, the last one (at the end) says nothing more, the run goes on.
python3 - "$caps/concurrent-20.pcap" "$tmp" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
endian = '<' if d[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
off, recs = 24, []
while off + 16 <= len(d):
    caplen = struct.unpack(endian + 'I', d[off + 8:off + 12])[0]
    recs.append(d[off:off + 16 + caplen]); off += 16 + caplen
half = len(recs) // 2
open(sys.argv[2] + '/part1', 'wb').write(d[:24] + b''.join(recs[:half]))
open(sys.argv[2] + '/nudge', 'wb').write(recs[half])
open(sys.argv[2] + '/part2', 'wb').write(b''.join(recs[half + 1:]))
PYEOF
mkdir "$tmp/dir"
mkfifo "$tmp/fifo"
"$SCEPDUMP" -r - --metrics "$tmp/dir/scepdump.prom" --metrics-interval 1 <"$tmp/fifo" >"$tmp/out" 2>"$tmp/err" &
sdpid=$!
exec 3>"$tmp/fifo"
cat "$tmp/part1" >&3
i=0
while [ ! -s "$tmp/dir/scepdump.prom" ] && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
cat "$tmp/nudge" >&3
rm -rf "$tmp/dir"
sleep 1.2
cat "$tmp/part2" >&3
exec 3>&-
wait $sdpid
rc=$?
lines=$(grep -c 'metrics' "$tmp/err")
if [ $rc = 0 ] && [ "$lines" = 1 ] && grep -q '^20 transactions: 17 ISSUED, 3 REJECTED' "$tmp/out"; then
	ok "directory removed mid-run: one stderr line, exit 0, the normal summary"
else
	not_ok "directory removed mid-run: one stderr line, exit 0, the normal summary" "exit $rc, $lines lines: $(tr '\n' ' ' <"$tmp/err")"
fi

# ---- 6: node_exporter's textfile collector serves it ---------------------
# In a network namespace of its own (loopback only): nothing listens
# outside it, and the port is ours.
if [ "$(id -u)" != 0 ]; then
	skip "node_exporter scrape" "needs root (unshare --net)"
elif ! command -v prometheus-node-exporter >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1 ||
     ! command -v unshare >/dev/null 2>&1; then
	skip "node_exporter scrape" "prometheus-node-exporter, curl or unshare not installed"
else
	mkdir -p "$tmp/textfile"
	cp "$tmp/concurrent-20.prom" "$tmp/textfile/scepdump.prom"
	unshare --net sh -c '
		ip link set lo up 2>/dev/null || exit 3
		prometheus-node-exporter --collector.disable-defaults --collector.textfile \
			--collector.textfile.directory="$1" --web.listen-address=127.0.0.1:19100 >"$2/ne.log" 2>&1 &
		i=0
		while [ $i -lt 50 ]; do
			curl -sf http://127.0.0.1:19100/metrics >"$2/scrape" && break
			i=$((i + 1))
			sleep 0.1
		done
		kill $!
		wait $! 2>/dev/null
		[ $i -lt 50 ]' sh "$tmp/textfile" "$tmp" 2>"$tmp/err"
	rc=$?
	if [ $rc = 3 ]; then
		skip "node_exporter scrape" "no loopback in a new network namespace"
	elif [ $rc != 0 ]; then
		not_ok "node_exporter scrape" "no answer: $(tail -n 2 "$tmp/ne.log" | tr '\n' ' ')"
	elif grep -q '^scepdump_enrollments_total{server="127.0.0.1:8008",verdict="ISSUED"} 17$' "$tmp/scrape" &&
	     grep -q '^scepdump_enrollments_total{server="127.0.0.1:8008",verdict="REJECTED"} 3$' "$tmp/scrape" &&
	     grep -q '^scepdump_failinfo_total{failinfo="badRequest"} 3$' "$tmp/scrape" &&
	     grep -q '^scepdump_enrollment_latency_seconds_count 20$' "$tmp/scrape" &&
	     grep -q '^node_textfile_scrape_error 0$' "$tmp/scrape"; then
		ok "node_exporter (textfile collector, own network namespace) serves the scepdump_ series: 17 ISSUED, 3 REJECTED"
	else
		not_ok "node_exporter serves the scepdump_ series" "$(grep -E '^(scepdump_enrollments|node_textfile)' "$tmp/scrape" | head -n 4 | tr '\n' ' ')"
	fi
fi
exit 0
