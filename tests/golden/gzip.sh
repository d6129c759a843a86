#!/bin/sh
# Compressed captures: a .pcap.gz / .pcapng.gz (made here with gzip from the
# bundled captures) must give exactly the output of the file it holds, text
# and JSON, from a file or piped in; a .gz cut short gives one line naming
# it and the other -r files are still read. Prints TAP.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
TZ=UTC LC_ALL=C
export TZ LC_ALL
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-gzip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1)); echo "not ok $n - $1"
	[ -z "${2:-}" ] || sed 's/^/# /' "$2" | head -8
}
# same NAME FILE-A FILE-B: the two runs' outputs (stdout, stderr, exit) equal
same() {
	if cmp -s "$2" "$3"; then ok "$1"; else diff "$2" "$3" >"$tmp/diff"; fail "$1" "$tmp/diff"; fi
}
# out FILE ARGS...: stdout and stderr, then the exit status, into FILE;
# stderr names the input as given, so every run names it the same way
out() {
	o=$1; shift
	(cd "$tmp" && "$SCEPDUMP" "$@") >"$o" 2>&1 </dev/null
	echo "exit $?" >>"$o"
}

echo "1..8"
cp "$SRCDIR/captures/wrong-challenge.pcap" "$tmp/wc.pcap"
cp "$SRCDIR/captures/enroll.pcapng" "$tmp/enroll.pcapng"
gzip -9 -n -c "$tmp/wc.pcap" >"$tmp/wc.pcap.gz"
gzip -9 -n -c "$tmp/enroll.pcapng" >"$tmp/enroll.pcapng.gz"

for f in wc.pcap enroll.pcapng; do
	out "$tmp/plain.txt" -v -r "$f"
	grep -q '^[0-9]* transactions\{0,1\}: ' "$tmp/plain.txt" || fail "$f: no listing" "$tmp/plain.txt"
	out "$tmp/gz.txt" -v -r "$f.gz"
	sed "s/$f\.gz/$f/g" "$tmp/gz.txt" >"$tmp/gz-named.txt"
	same "$f.gz: the same text output as $f" "$tmp/plain.txt" "$tmp/gz-named.txt"
	out "$tmp/plain.json" --json -r "$f"
	out "$tmp/gz.json" --json -r "$f.gz"
	same "$f.gz: the same JSON output as $f" "$tmp/plain.json" "$tmp/gz.json"
done

(cd "$tmp" && "$SCEPDUMP" -v -r - <"$tmp/enroll.pcapng.gz") >"$tmp/stdin.txt" 2>&1
echo "exit $?" >>"$tmp/stdin.txt"
out "$tmp/plain.txt" -v -r enroll.pcapng
same "gzip piped to -r -: the same output as the file" "$tmp/plain.txt" "$tmp/stdin.txt"

# two gzip members one after the other (gzip -c a >x; gzip -c b >>x) are one
# stream to gzip -d, and so to us
head -c 4000 "$tmp/wc.pcap" | gzip -n -c >"$tmp/two.pcap.gz"
tail -c +4001 "$tmp/wc.pcap" | gzip -n -c >>"$tmp/two.pcap.gz"
out "$tmp/plain.txt" -v -r wc.pcap
out "$tmp/two.txt" -v -r two.pcap.gz
sed "s/two\.pcap\.gz/wc.pcap/g" "$tmp/two.txt" >"$tmp/two-named.txt"
same "a .gz of two gzip members: the same output as the file" "$tmp/plain.txt" "$tmp/two-named.txt"

# the .gz cut short in the middle of its deflate data, read with another file
head -c 3000 "$tmp/wc.pcap.gz" >"$tmp/cut.pcap.gz"
cp "$SRCDIR/captures/renewal.pcap" "$tmp/renewal.pcap"
(cd "$tmp" && "$SCEPDUMP" -r cut.pcap.gz -r renewal.pcap) >"$tmp/out" 2>"$tmp/err" </dev/null
if [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^scepdump: cut.pcap.gz: the compressed file is cut short' "$tmp/err"; then
	ok "a .gz cut short: one line on stderr naming it and saying so"
else
	fail "a .gz cut short: one line on stderr naming it and saying so" "$tmp/err"
fi
out "$tmp/alone.txt" -r renewal.pcap
if grep -q 'RenewalReq' "$tmp/out" && grep -q 'ISSUED' "$tmp/out" &&
	grep -q '127.0.0.1:8005' "$tmp/out"; then
	ok "a .gz cut short: its packets before the cut and the other file are still read"
else
	fail "a .gz cut short: its packets before the cut and the other file are still read" "$tmp/out"
fi
