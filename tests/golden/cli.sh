#!/bin/sh
# Command-line behaviour whose exact text depends on the machine (library
# versions), checked by pattern rather than golden file. Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
out=$("$SCEPDUMP" --version 2>&1)
echo "1..2"
if echo "$out" | head -1 | grep -q '^scepdump [0-9][0-9.]*$'; then
	echo "ok 1 - --version names scepdump's version first"
else
	echo "not ok 1 - --version names scepdump's version first"; echo "$out" | sed 's/^/# /'
fi
missing=""
for lib in 'libpcap version' 'OpenSSL 3' 'nghttp2 ' 'libhtp ' 'jansson '; do
	echo "$out" | grep -q "^$lib" || missing="$missing [$lib]"
done
if [ -z "$missing" ]; then
	echo "ok 2 - --version names the running libpcap, OpenSSL, nghttp2, libhtp and jansson"
else
	echo "not ok 2 - --version lacks$missing"
fi
