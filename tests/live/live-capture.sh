#!/bin/sh
# Live capture on a veth pair inside a network namespace made here (no
# other interface is touched): tcpreplay replays captures from captures/
# onto one end while 'scepdump -i' listens on the other. Checks, by
# content and not by time (the bounds are generous):
#   - an enrollment is printed once its CertRep is in, with the default
#     decode thread, while no further packet comes (it used to wait for
#     the next packet);
#   - packets the kernel dropped (scepdump stopped with SIGSTOP while a
#     flood fills its small ring) are in the summary, text and JSON, and
#     the PKIOperation whose answer was among them is INCOMPLETE because
#     the capture lost packets, not NO_RESPONSE;
#   - the same first check with --decode-threads 0, and -s 0 taken as
#     whole packets (tcpdump's meaning).
# Needs root, network namespaces, tcpreplay and python3; skipped (TAP
# "1..0 # SKIP") without them. Prints TAP.
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
command -v ip >/dev/null 2>&1 || skip_all "ip (iproute2) not installed"
command -v tcpreplay >/dev/null 2>&1 || skip_all "tcpreplay not installed (apt-get install tcpreplay)"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"

ns=scepdump-live-test-$$
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-live.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP
veth_up

# The inputs, from captures/: scepclient-post-enroll.pcap is one ISSUED
# enrollment (captures/README.md): packets 1-11 are GetCACert, GetCACaps
# and the PKIOperation request, 12-15 its CertRep, 16-19 the close.
# wrong-challenge.pcap's packets 1-6 are a GetCACert on another
# connection (port 57516), replayed last as a marker: once scepdump shows
# it, everything before it was read. The filler is 300 TCP packets of a
# third connection, to overflow a stopped scepdump's ring.
python3 - "$SRCDIR/captures" "$tmp" <<'PYEOF' || { echo "1..0 # SKIP could not write the inputs"; exit 0; }
import struct, sys
caps, tmp = sys.argv[1], sys.argv[2]

def records(path):
    d = open(path, 'rb').read()
    endian = '<' if d[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    off, recs = 24, []
    while off + 16 <= len(d):
        caplen = struct.unpack(endian + 'I', d[off + 8:off + 12])[0]
        recs.append(d[off:off + 16 + caplen])
        off += 16 + caplen
    return d[:24], recs

def write(name, hdr, recs):
    with open(tmp + '/' + name, 'wb') as f:
        f.write(hdr + b''.join(recs))
    with open(tmp + '/' + name + '.n', 'w') as f:
        f.write('%d\n' % len(recs))

hdr, enroll = records(caps + '/scepclient-post-enroll.pcap')
write('until-certrep.pcap', hdr, enroll[:15])
write('request.pcap', hdr, enroll[:11])
write('answer.pcap', hdr, enroll[11:])
hdr2, other = records(caps + '/wrong-challenge.pcap')
write('marker.pcap', hdr2, other[:6])
filler = []
for i in range(300):
    payload = bytes(1000)
    tcp = struct.pack('>HHIIBBHHH', 1234, 9, i * 1000, 0, 5 << 4, 0x18, 512, 0, 0)
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp) + len(payload), i, 0, 64, 6, 0,
                     bytes([10, 9, 9, 1]), bytes([10, 9, 9, 2]))
    frame = bytes(12) + b'\x08\x00' + ip + tcp + payload
    filler.append(struct.pack('<IIII', 1, i, len(frame), len(frame)) + frame)
write('filler.pcap', struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1), filler)
PYEOF

echo "1..7"
n=0
result() { # OK-OR-NOT NAME [WHY]
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2${3:+: $3}"
		sed 's/^/# stdout: /' "$tmp/out" | head -20
		sed 's/^/# stderr: /' "$tmp/err" | head -10
	fi
}


# start OPTIONS...: scepdump -i vcap in the namespace, its pid in $pid
# (a simple command, not nsx: 'ip netns exec' execs it, so $! is
# scepdump itself), once it is listening
start() {
	: >"$tmp/out"
	: >"$tmp/err"
	ip netns exec "$ns" "$SCEPDUMP" -i vcap "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	wait_for 'listening on' 100 "$tmp/err"
}

replay() { # PCAP [tcpreplay options]: all its packets sent, or fail
	f=$1
	shift
	nsx tcpreplay "$@" -i vrep "$tmp/$f" >"$tmp/replay" 2>&1 &&
		grep -q "^Actual: $(cat "$tmp/$f.n") packets" "$tmp/replay"
}

sent() { # the packets in the inputs named
	t=0
	for f in "$@"; do t=$((t + $(cat "$tmp/$f.n"))); done
	echo $t
}

# ---- 1: printed when the CertRep is in, with nothing after it ----------
if ! start; then
	result not "the enrollment is printed with no packet after its CertRep" "scepdump did not start"
elif ! replay until-certrep.pcap; then
	result not "the enrollment is printed with no packet after its CertRep" "tcpreplay failed: $(tail -n 2 "$tmp/replay")"
	stop
else
	# the line that opens the transaction, before the next packet: there
	# is none; 5 s is a bound for a slow machine, not a speed check
	if ! wait_for 'ISSUED +PKCSReq ' 50 "$tmp/out"; then
		result not "the enrollment is printed with no packet after its CertRep" "not printed within 5 s"
		stop
	elif ! stop; then
		result not "the enrollment is printed with no packet after its CertRep" "exit $rc after SIGINT"
	else
		result ok "the enrollment is printed with no packet after its CertRep"
	fi
fi

# ---- drops: a request goes in, scepdump stops, its answer is lost --------
# -s 2000 -B 64: frames of about 2 kB in a 64 KiB ring, room for the 11
# request packets while it runs and far less than the 300 filler packets
# while it is stopped, so the answer behind them is dropped by the kernel.
drop_run() { # OPTIONS...: leaves out, err; returns 1 when the run failed
	start -s 2000 -B 64 "$@" || return 1
	replay request.pcap --pps=100 || return 1
	wait_for 'GetCACaps' 100 "$tmp/out" || return 1
	kill -STOP "$pid"
	replay filler.pcap --pps=3000 && replay answer.pcap --pps=3000
	ok=$?
	kill -CONT "$pid"
	[ $ok = 0 ] || return 1
	replay marker.pcap --pps=100 || return 1
	wait_for '57516' 100 "$tmp/out" || return 1
	stop
}
total=$(sent request.pcap filler.pcap answer.pcap marker.pcap)

if drop_run; then
	dropped=$(sed -n 's/^\([0-9][0-9]*\) packets\{0,1\} dropped by the kernel during the capture.*/\1/p' "$tmp/out")
	packets=$(sed -n 's/^\([0-9][0-9]*\) packets\{0,1\}, [0-9]* flows\{0,1\}, .*/\1/p' "$tmp/out")
	if [ -n "$dropped" ] && [ -n "$packets" ] && [ "$dropped" -gt 0 ] && [ $((dropped + packets)) -eq "$total" ]; then
		result ok "the text summary counts the kernel's drops (packets read + dropped = $total sent)"
	else
		result not "the text summary counts the kernel's drops" "dropped '${dropped:-}', read '${packets:-}', sent $total"
	fi
	if grep -qE 'why: +no response captured, but the capture lost [0-9]+ packets \(kernel drops\)' "$tmp/out"; then
		result ok "the request whose answer was dropped is INCOMPLETE: the capture lost packets"
	else
		result not "the request whose answer was dropped is INCOMPLETE: the capture lost packets"
	fi
	if grep -q 'NO_RESPONSE' "$tmp/out"; then
		result not "no transaction says NO_RESPONSE"
	else
		result ok "no transaction says NO_RESPONSE"
	fi
else
	for c in "the text summary counts the kernel's drops" \
		 "the request whose answer was dropped is INCOMPLETE: the capture lost packets" \
		 "no transaction says NO_RESPONSE"; do
		result not "$c" "the replay did not go as planned"
	done
	stop 2>/dev/null
fi

if drop_run --json; then
	why=$(python3 - "$tmp/out" "$total" <<'PYEOF'
import json, sys
total = int(sys.argv[2])
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
summ = [o for o in lines if o.get('type') == 'summary']
if len(summ) != 1:
    print('no summary line'); sys.exit()
c = summ[0]['counters']
if not c.get('capture_dropped') or c['capture_dropped'] + c['packets'] != total:
    print('capture_dropped %s + packets %s != %d sent' % (c.get('capture_dropped'), c.get('packets'), total))
    sys.exit()
txns = [o for o in lines if o.get('type') == 'transaction' and o.get('transaction_id')]
if not any(t.get('verdict') == 'INCOMPLETE' and 'capture lost' in (t.get('reason') or '') for t in txns):
    print('no INCOMPLETE transaction whose reason is the capture loss')
PYEOF
)
	if [ -z "$why" ]; then
		result ok "JSON: counters.capture_dropped + packets = $total sent, the transaction INCOMPLETE"
	else
		result not "JSON: counters.capture_dropped and the INCOMPLETE transaction" "$why"
	fi
else
	result not "JSON: counters.capture_dropped and the INCOMPLETE transaction" "the replay did not go as planned"
	stop 2>/dev/null
fi

# ---- --decode-threads 0 prints at once too (the behaviour to match) ------
if start --decode-threads 0 && replay until-certrep.pcap && wait_for 'ISSUED +PKCSReq ' 50 "$tmp/out"; then
	result ok "--decode-threads 0: the enrollment is printed with no packet after its CertRep"
else
	result not "--decode-threads 0: the enrollment is printed with no packet after its CertRep"
fi
stop 2>/dev/null

# ---- -s 0: whole packets, as tcpdump takes it ----------------------------
if start -s 0 && grep -q 'snapshot length 262144 bytes' "$tmp/err"; then
	result ok "-s 0 captures whole packets (snapshot length 262144)"
else
	result not "-s 0 captures whole packets (snapshot length 262144)"
fi
stop 2>/dev/null
exit 0
