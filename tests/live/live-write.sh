#!/bin/sh
# Live -w, its rotation (-C, -G, -W), --json-file, --metrics while the
# capture runs, SIGHUP and SIGUSR1, and
# a full disk, on a veth pair inside a network namespace made here (as
# live-capture.sh). captures/concurrent-20.pcap (20 SCEP connections) is
# merged by time with connections that carry no SCEP (plain HTTP to the
# same server port and to port 80, and bare TCP), replayed with tcpreplay
# onto one end while 'scepdump -i' listens on the other. What scepdump
# wrote is read by other tools: tshark counts packets per connection,
# tcpdump and capinfos read the files, jq parses the JSON Lines.
# Needs root, network namespaces, tcpreplay, tshark (mergecap, capinfos),
# tcpdump, jq, python3 and unshare; skipped (TAP "1..0 # SKIP") without
# them. Prints TAP.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
TZ=UTC LC_ALL=C
export TZ LC_ALL

# shellcheck source=tests/live/common.sh
. "$here/common.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespace, live capture)"
for t in ip tcpreplay tshark mergecap capinfos tcpdump jq python3 unshare; do
	command -v $t >/dev/null 2>&1 || skip_all "$t not installed"
done

ns=scepdump-livew-test-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-livew.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP
veth_up

# The connections without SCEP, inside concurrent-20's time span: a GET
# of / to the SCEP server's port 8008 from port 60001, GETs to port 80,
# and a bare TCP exchange to port 9999; each opened and closed.
python3 - "$SRCDIR/captures/concurrent-20.pcap" "$tmp/noise.pcap" <<'PYEOF' || skip_all "could not write the inputs"
import struct, sys
d = open(sys.argv[1], 'rb').read()
t0 = struct.unpack('<I', d[24:28])[0] + struct.unpack('<I', d[28:32])[0] / 1e6
recs = []
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def pkt(t, src, sport, dst, dport, seq, ack, flags, payload=b''):
    tcp = struct.pack('>HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack('>H', csum(ip)) + ip[12:]
    frame = b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00' + ip + tcp
    recs.append((t, struct.pack('<IIII', int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame))
def conn(t, c, cport, s, sport, req, resp):
    cs, ss = 1000, 5000
    pkt(t, c, cport, s, sport, cs, 0, 0x02); pkt(t + .001, s, sport, c, cport, ss, cs + 1, 0x12)
    pkt(t + .002, c, cport, s, sport, cs + 1, ss + 1, 0x10)
    pkt(t + .003, c, cport, s, sport, cs + 1, ss + 1, 0x18, req)
    pkt(t + .004, s, sport, c, cport, ss + 1, cs + 1 + len(req), 0x18, resp)
    pkt(t + .005, c, cport, s, sport, cs + 1 + len(req), ss + 1 + len(resp), 0x11)
    pkt(t + .006, s, sport, c, cport, ss + 1 + len(resp), cs + 2 + len(req), 0x11)
    pkt(t + .007, c, cport, s, sport, cs + 2 + len(req), ss + 2 + len(resp), 0x10)
lo, a, b = [127, 0, 0, 1], [10, 7, 7, 1], [10, 7, 7, 2]
get = b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
ok = b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello'
conn(t0 + 0.01, lo, 60001, lo, 8008, get, ok)
for i in range(4):
    conn(t0 + 0.05 + i * 0.07, a, 41000 + i, b, 80, get, ok)
conn(t0 + 0.2, a, 42000, b, 9999, b'\x01' * 300, b'\x02' * 200)
recs.sort(key=lambda r: r[0])
with open(sys.argv[2], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1) + b''.join(r[1] for r in recs))
PYEOF
mergecap -F pcap -w "$tmp/mixed.pcap" "$SRCDIR/captures/concurrent-20.pcap" "$tmp/noise.pcap" 2>/dev/null ||
	skip_all "mergecap failed"
mixed_n=$(capinfos -c -M "$tmp/mixed.pcap" | sed -n 's/^Number of packets: *//p')

echo "1..12"
n=0
result() { # OK-OR-NOT NAME [WHY]
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2${3:+: $3}"
		sed 's/^/# stdout: /' "$tmp/out" 2>/dev/null | tail -5
		sed 's/^/# stderr: /' "$tmp/err" 2>/dev/null | tail -5
	fi
}


start() { # scepdump -i vcap OPTIONS..., from $tmp/run
	: >"$tmp/out"
	: >"$tmp/err"
	(cd "$tmp/run" && exec ip netns exec "$ns" "$SCEPDUMP" -i vcap "$@" >"$tmp/out" 2>"$tmp/err") &
	pid=$!
	wait_for 'listening on' 100 "$tmp/err"
}

replay() { # PCAP [tcpreplay options]: all its packets sent, or fail
	f=$1
	shift
	nsx tcpreplay "$@" -i vrep "$f" >"$tmp/replay" 2>&1 && grep -q "^Actual: " "$tmp/replay"
}

# packets per connection (both directions), as "count a:port b:port" lines
per_conn() {
	tshark -r "$1" -T fields -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport 2>/dev/null |
		awk 'NF == 4 { a = $1 ":" $2; b = $3 ":" $4; k = (a < b) ? a " " b : b " " a; c[k]++ }
		     END { for (k in c) print c[k], k }' | sort
}

valid_pcap() { # FILE: tcpdump reads it to its end without complaint
	tcpdump -n -r "$1" >/dev/null 2>"$tmp/tcpdump.err" && ! grep -qi 'truncated\|bogus\|error' "$tmp/tcpdump.err"
}

mkdir -p "$tmp/run"

# ---- 1-4: -w holds exactly the SCEP connections; --json-file; SIGUSR1 ----
if start -q -w w.pcap --json-file t.jsonl --metrics m.prom --metrics-interval 1; then
	replay "$tmp/mixed.pcap" --pps=120 &
	rp=$!
	sleep 2
	cp "$tmp/run/w.pcap" "$tmp/midrun.pcap"
	kill -USR1 "$pid"
	wait $rp
	sleep 1
	# the metrics as node_exporter would read them while the capture runs
	sleep 1.5
	cp "$tmp/run/m.prom" "$tmp/live.prom" 2>/dev/null
	if valid_pcap "$tmp/midrun.pcap" && [ "$(capinfos -c -M "$tmp/midrun.pcap" | sed -n 's/^Number of packets: *//p')" -gt 0 ]; then
		result ok "a copy of the -w file taken while the capture runs is a valid pcap with packets (tcpdump, capinfos)"
	else
		result not "a copy of the -w file taken while the capture runs is a valid pcap with packets (tcpdump, capinfos)" "$(cat "$tmp/tcpdump.err")"
	fi
	if wait_for '^scepdump: [0-9]+ packets, [0-9]+ dropped by the kernel, [0-9]+ transactions settled' 30 "$tmp/err" &&
	   kill -0 "$pid" 2>/dev/null; then
		result ok "SIGUSR1 prints a statistics line and the capture goes on"
	else
		result not "SIGUSR1 prints a statistics line and the capture goes on"
	fi
	stop
	per_conn "$SRCDIR/captures/concurrent-20.pcap" >"$tmp/want"
	per_conn "$tmp/run/w.pcap" >"$tmp/got"
	if [ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/got"; then
		result ok "-w holds exactly the packets of the 20 SCEP connections, none of the others (tshark, per connection)"
	else
		result not "-w holds exactly the packets of the 20 SCEP connections (tshark, per connection)" \
			"$(diff "$tmp/want" "$tmp/got" | head -5 | tr '\n' ' ')"
	fi
	txns=$(jq -c 'select(.type == "transaction" and .transaction_id != null)' "$tmp/run/t.jsonl" 2>/dev/null | wc -l)
	summ=$(jq -c 'select(.type == "summary") | .transactions' "$tmp/run/t.jsonl" 2>/dev/null)
	if jq -e . "$tmp/run/t.jsonl" >/dev/null 2>&1 && [ "$txns" -eq 20 ] && [ "$summ" = 20 ]; then
		result ok "--json-file: every line parses (jq), 20 transactions, then the summary"
	else
		result not "--json-file: every line parses (jq), 20 transactions, then the summary" "$txns transaction lines, summary '$summ'"
	fi
	live_enroll=$(awk '/^scepdump_enrollments_total\{/ { n += $NF } END { print n + 0 }' "$tmp/live.prom" 2>/dev/null)
	if [ "$live_enroll" = 20 ]; then
		result ok "--metrics during the live capture, before it stopped: 20 enrollments settled"
	else
		result not "--metrics during the live capture, before it stopped: 20 enrollments settled" "got '$live_enroll'"
	fi
else
	for c in 1 2 3 4 5; do result not "-w/--json-file/--metrics run $c" "scepdump did not start"; done
fi

# ---- 5: SIGHUP after a rename makes a new valid file ----------------------
rm -rf "$tmp/run" && mkdir -p "$tmp/run"
if start -q -w h.pcap && replay "$SRCDIR/captures/concurrent-20.pcap" --pps=500; then
	sleep 0.5
	mv "$tmp/run/h.pcap" "$tmp/run/h.pcap.1"
	kill -HUP "$pid"
	i=0
	while [ ! -e "$tmp/run/h.pcap" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	head24=$(od -An -tx1 -N4 "$tmp/run/h.pcap" 2>/dev/null | tr -d ' ')
	replay "$SRCDIR/captures/concurrent-20.pcap" --pps=500
	sleep 0.5
	stop
	a=$(capinfos -c -M "$tmp/run/h.pcap.1" 2>/dev/null | sed -n 's/^Number of packets: *//p')
	b=$(capinfos -c -M "$tmp/run/h.pcap" 2>/dev/null | sed -n 's/^Number of packets: *//p')
	if [ "$head24" = 4d3cb2a1 ] && valid_pcap "$tmp/run/h.pcap.1" && valid_pcap "$tmp/run/h.pcap" &&
	   [ "${a:-0}" = 389 ] && [ "${b:-0}" = 389 ]; then
		result ok "SIGHUP after a rename: a new file with a pcap header at once; each file holds one replay (capinfos, tcpdump)"
	else
		result not "SIGHUP after a rename makes a new valid file" "header '$head24', renamed $a packets, new $b packets"
	fi
else
	result not "SIGHUP after a rename makes a new valid file" "scepdump did not start or the replay failed"
	stop 2>/dev/null
fi

# ---- 6-7: -C 1 -W 3: the ring w.pcap0..w.pcap2 ---------------------------
rm -rf "$tmp/run" && mkdir -p "$tmp/run"
if start -q -w r.pcap -C 1 -W 3 && replay "$SRCDIR/captures/concurrent-20.pcap" --pps=4000 --loop=20; then
	sleep 1
	stop
	names=$(cd "$tmp/run" && ls | tr '\n' ' ')
	ok=1
	for f in r.pcap0 r.pcap1 r.pcap2; do valid_pcap "$tmp/run/$f" || ok=0; done
	if [ "$names" = "r.pcap0 r.pcap1 r.pcap2 " ] && [ $ok = 1 ]; then
		result ok "-C 1 -W 3 leaves the ring r.pcap0 r.pcap1 r.pcap2, each a valid pcap (tcpdump)"
	else
		result not "-C 1 -W 3 leaves the ring r.pcap0 r.pcap1 r.pcap2, each a valid pcap" "files: $names"
	fi
	# 20 x 167 kB is four files of 1 MB (the fourth short): the ring came round,
	# and r.pcap0 was written after r.pcap2
	s0=$(capinfos -a -S -M "$tmp/run/r.pcap0" 2>/dev/null | sed -n 's/^First packet time: *//p')
	s2=$(capinfos -a -S -M "$tmp/run/r.pcap2" 2>/dev/null | sed -n 's/^First packet time: *//p')
	if [ -n "$s0" ] && [ -n "$s2" ] && awk -v a="$s0" -v b="$s2" 'BEGIN { exit !(a + 0 > b + 0) }'; then
		result ok "the ring came round: r.pcap0 starts after r.pcap2 (capinfos)"
	else
		result not "the ring came round: r.pcap0 starts after r.pcap2 (capinfos)" "r.pcap0 '$s0', r.pcap2 '$s2'"
	fi
else
	result not "-C 1 -W 3 ring" "scepdump did not start or the replay failed"
	result not "the ring came round" "scepdump did not start or the replay failed"
	stop 2>/dev/null
fi

# ---- 8: -G 1 -W 2: strftime names, at most two kept ----------------------
rm -rf "$tmp/run" && mkdir -p "$tmp/run"
if start -q -w 'g-%H%M%S.pcap' -G 1 -W 2 && replay "$SRCDIR/captures/concurrent-20.pcap" --pps=100; then
	sleep 0.5
	stop
	names=$(cd "$tmp/run" && ls | tr '\n' ' ')
	cnt=$(cd "$tmp/run" && ls | grep -cE '^g-[0-9]{6}\.pcap$')
	ok=1
	for f in "$tmp"/run/g-*.pcap; do valid_pcap "$f" || ok=0; done
	if [ "$cnt" = 2 ] && [ "$(cd "$tmp/run" && ls | wc -l)" = 2 ] && [ $ok = 1 ]; then
		result ok "-G 1 -W 2: two files named by the strftime pattern remain, each a valid pcap (tcpdump)"
	else
		result not "-G 1 -W 2: two files named by the strftime pattern remain" "files: $names"
	fi
else
	result not "-G 1 -W 2: two strftime-named files" "scepdump did not start or the replay failed"
	stop 2>/dev/null
fi

# ---- 9-10: a full disk: one line, the capture goes on, the loss counted ---
rm -rf "$tmp/run" && mkdir -p "$tmp/run" "$tmp/small"
: >"$tmp/out"
: >"$tmp/err"
unshare -m sh -c '
	mount -t tmpfs -o size=64k tmpfs "$1" || exit 99
	ip netns exec "$2" "$3" -i vcap --json -w "$1/w.pcap" >"$4/out" 2>"$4/err" &
	echo $! >"$4/inner.pid"
	wait $!
	echo $? >"$4/inner.rc"
	tcpdump -n -r "$1/w.pcap" >/dev/null 2>"$4/full.tcpdump" && echo ok >"$4/full.valid"
	capinfos -c -M "$1/w.pcap" 2>/dev/null | sed -n "s/^Number of packets: *//p" >"$4/full.n"
' sh "$tmp/small" "$ns" "$SCEPDUMP" "$tmp" &
outer=$!
if wait_for 'listening on' 100 "$tmp/err"; then
	replay "$SRCDIR/captures/concurrent-20.pcap" --pps=500
	sleep 0.5
	kill -INT "$(cat "$tmp/inner.pid")"
	wait $outer
	lines=$(grep -c 'No space left on device' "$tmp/err")
	lost=$(jq -r 'select(.type == "summary") | .write_file.lost' "$tmp/out" 2>/dev/null)
	pk=$(jq -r 'select(.type == "summary") | .counters.packets' "$tmp/out" 2>/dev/null)
	if [ "$lines" = 1 ] && [ "${pk:-0}" = 389 ] && [ "$(cat "$tmp/inner.rc")" = 0 ]; then
		result ok "a full disk: one line on stderr, all 389 packets still read, a clean exit"
	else
		result not "a full disk: one line on stderr, all packets still read" "$lines lines, $pk packets, exit $(cat "$tmp/inner.rc")"
	fi
	if [ "${lost:-0}" -gt 0 ] && [ -s "$tmp/full.valid" ] &&
	   [ $(( $(cat "$tmp/full.n") + lost )) -eq 389 ]; then
		result ok "a full disk: the file is a valid pcap (tcpdump), written + lost (summary) = 389"
	else
		result not "a full disk: the file is a valid pcap, written + lost = 389" \
			"lost '$lost', in the file '$(cat "$tmp/full.n")', tcpdump: $(cat "$tmp/full.tcpdump")"
	fi
else
	result not "a full disk: one line" "scepdump did not start (tmpfs in a mount namespace?)"
	result not "a full disk: written + lost" "scepdump did not start"
	kill -TERM "$(cat "$tmp/inner.pid" 2>/dev/null)" 2>/dev/null
	wait $outer
fi

# ---- 12: the output directory removed mid-capture --------------------------
rm -rf "$tmp/run" && mkdir -p "$tmp/run/gone"
if start --json -w gone/w.pcap; then
	replay "$SRCDIR/captures/concurrent-20.pcap" --pps=200 &
	rp=$!
	sleep 1
	rm -rf "$tmp/run/gone"
	wait $rp
	sleep 0.5
	stop
	rc=$?
	lines=$(grep -c 'w.pcap' "$tmp/err")
	pk=$(jq -r 'select(.type == "summary") | .counters.packets' "$tmp/out" 2>/dev/null)
	lost=$(jq -r 'select(.type == "summary") | .write_file.lost' "$tmp/out" 2>/dev/null)
	if [ $rc = 0 ] && [ "$lines" = 1 ] && [ "${pk:-0}" = 389 ] && [ "${lost:-0}" -gt 0 ]; then
		result ok "the -w directory removed mid-capture: one line naming the file, all 389 packets read, $lost packets counted lost, exit 0"
	else
		result not "the -w directory removed mid-capture: one line, the capture goes on, the loss counted" \
			"exit $rc, $lines lines naming w.pcap, $pk packets, lost '$lost'"
	fi
else
	result not "the -w directory removed mid-capture" "scepdump did not start"
fi
exit 0
