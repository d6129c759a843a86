#!/bin/sh
# -w FILE: a gateway-style capture (SCEP mixed with other HTTP) goes in;
# the written pcap must hold exactly the SCEP connections' packets and tell
# the same story when read back. Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
TZ=UTC LC_ALL=C
export TZ LC_ALL
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$SRCDIR" || exit 1
scep=captures/scepclient-post-enroll.pcap
other=tests/unit/data/cap-v4-eth.pcap     # curl to python's http.server: not SCEP
packets() { sed -n 's/^\([0-9]*\) packets\{0,1\}, .*/\1/p' "$1" | head -1; }

echo "1..3"
"$SCEPDUMP" -q -r "$scep" -r "$other" -w "$tmp/out.pcap" >"$tmp/mixed" 2>&1
"$SCEPDUMP" -q -r "$scep" >"$tmp/alone" 2>&1
"$SCEPDUMP" -q -r "$tmp/out.pcap" >"$tmp/back" 2>&1
if [ -s "$tmp/out.pcap" ] && [ "$(packets "$tmp/mixed")" -gt "$(packets "$tmp/alone")" ]; then
	echo "ok 1 - -w wrote a file from a capture with other traffic"
else
	echo "not ok 1 - -w wrote a file from a capture with other traffic"; sed 's/^/# /' "$tmp/mixed"
fi
if [ "$(packets "$tmp/back")" = "$(packets "$tmp/alone")" ]; then
	echo "ok 2 - written pcap holds exactly the SCEP connection's $(packets "$tmp/alone") packets"
else
	echo "not ok 2 - written pcap holds $(packets "$tmp/back") packets, SCEP alone is $(packets "$tmp/alone")"
fi
if diff "$tmp/alone" "$tmp/back" >"$tmp/diff"; then
	echo "ok 3 - read back, the same transactions"
else
	echo "not ok 3 - read back, the same transactions"; sed 's/^/# /' "$tmp/diff"
fi
