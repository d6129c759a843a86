#!/bin/sh
# A capture whose file header claims a smaller snap length than its
# records hold (a tool rewrote the header, or wrote it wrong): libpcap cut
# every record to that length, and a whole enrollment read as nothing,
# with no message. Copies of two captures from captures/ are patched with
# python3 (the classic pcap header's snaplen field; the pcapng Interface
# Description Block's); each must still show its one enrollment, ISSUED
# (captures/README.md: both end in SUCCESS), with one line on stderr
# naming the file and the snap length it claimed. Prints TAP.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
TZ=UTC LC_ALL=C
export TZ LC_ALL

command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-snaplen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

python3 - "$SRCDIR/captures" "$tmp" <<'PYEOF' || { echo "1..0 # SKIP could not write the patched copies"; exit 0; }
import struct, sys
caps, tmp = sys.argv[1], sys.argv[2]

# classic pcap: snaplen is the fifth field of the 24-byte header
d = bytearray(open(caps + '/scepclient-post-enroll.pcap', 'rb').read())
e = '<' if d[:4] == b'\xd4\xc3\xb2\xa1' else '>'
struct.pack_into(e + 'I', d, 16, 100)
open(tmp + '/snaplen-100.pcap', 'wb').write(d)

# pcapng: every Interface Description Block (type 1) gets snaplen 100,
# at byte 12 of the block
d = bytearray(open(caps + '/enroll.pcapng', 'rb').read())
e = '<' if d[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
off, n = 0, 0
while off + 12 <= len(d):
    btype, blen = struct.unpack_from(e + 'II', d, off)
    if blen < 12:
        sys.exit('bad block')
    if btype == 1:
        struct.pack_into(e + 'I', d, off + 12, 100)
        n += 1
    off += blen
if not n:
    sys.exit('no interface block')
open(tmp + '/snaplen-100.pcapng', 'wb').write(d)
PYEOF

echo "1..4"
n=0
for f in snaplen-100.pcap snaplen-100.pcapng; do
	(cd "$tmp" && "$SCEPDUMP" -r "$f") >"$tmp/out" 2>"$tmp/err"
	rc=$?
	n=$((n + 1))
	if grep -q '^1 transaction: 1 ISSUED' "$tmp/out"; then
		echo "ok $n - $f: the enrollment is read whole, ISSUED"
	else
		echo "not ok $n - $f: the enrollment is read whole, ISSUED"
		sed 's/^/# stdout: /' "$tmp/out" | head -5
	fi
	n=$((n + 1))
	# an input error (exit 2), said once
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	   grep -q "^scepdump: $f: .*snapshot length 100" "$tmp/err"; then
		echo "ok $n - $f: one line names the file and the snap length it claims (exit 2)"
	else
		echo "not ok $n - $f: one line names the file and the snap length it claims: exit $rc"
		sed 's/^/# stderr: /' "$tmp/err" | head -5
	fi
done
exit 0
