#!/bin/sh
# Command-line behaviour whose exact text depends on the machine (library
# versions), checked by pattern rather than golden file. Prints TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
out=$("$SCEPDUMP" --version 2>&1)
echo "1..17"
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

# ---- options given where they do nothing, and option errors -------------
# Each case runs from the source tree (paths relative to it) and checks
# the exit status and every stderr line: an option that does nothing in
# this kind of run is one warning line (not an error), an option error is
# exactly one line. Under --enable-sanitizers a leak report would be more
# lines and another status.
TZ=UTC LC_ALL=C
export TZ LC_ALL
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=2
# case NAME WANT-EXIT WANT-STDERR-LINES PATTERN... -- ARGS...: every stderr
# line must match one of the patterns (grep -E), and there must be
# WANT-STDERR-LINES of them
case_run() {
	name=$1 want=$2 lines=$3
	shift 3
	pats=""
	while [ "$1" != "--" ]; do
		pats="$pats$1
"
		shift
	done
	shift
	(cd "$SRCDIR" && "$SCEPDUMP" "$@") </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	n=$((n + 1))
	why=""
	[ "$rc" -eq "$want" ] || why="exit $rc, want $want"
	got=$(wc -l <"$tmp/err")
	[ -n "$why" ] || [ "$got" -eq "$lines" ] || why="$got lines on stderr, want $lines"
	if [ -z "$why" ] && [ "$lines" -gt 0 ]; then
		printf '%s' "$pats" | grep -v '^$' >"$tmp/pats"
		bad=$(grep -v -E -f "$tmp/pats" "$tmp/err" | head -n 1)
		[ -z "$bad" ] || why="unexpected stderr line: $bad"
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name: $why"
		sed 's/^/# stderr: /' "$tmp/err" | head -n 8
	fi
}
enroll=captures/scepclient-post-enroll.pcap
w='^scepdump: warning: '

case_run "-s 0 means whole packets, as in tcpdump (no error)" 2 1 \
	'^scepdump: nosuchif0: ' -- -s 0 -i nosuchif0
case_run "a bad -s is one line" 2 1 \
	"^scepdump: -s: '70000000' is not a snap length" -- -s 70000000 -r "$enroll"
case_run "-B past what libpcap takes is one line (it was the default, silently)" 2 1 \
	"^scepdump: -B: " -- -B 3000000 -i nosuchif0
case_run "-s, -B and -Z with -r: one warning each" 0 3 \
	"$w-s is ignored when reading files" "$w-B is ignored when reading files" \
	"$w-Z is ignored when reading files" -- -s 100 -B 64 -Z nobody -r "$enroll"
case_run "--no-spill in a live capture: a warning" 2 2 \
	"$w--no-spill is ignored in a live capture" '^scepdump: nosuchif0: ' -- --no-spill -i nosuchif0
case_run "decode: capture options are each one warning" 0 7 \
	"$w--decode-threads is ignored by decode" "$w--keylog is ignored by decode" \
	"$w--checksums is ignored by decode" "$w--max-body is ignored by decode" \
	"$w--check is ignored by decode" "$w-q is ignored by decode" "$w-w is ignored by decode" -- \
	decode --decode-threads 0 --keylog captures/keys/tls13-h2.keylog --checksums --max-body 10 \
	--check -q -w "$tmp/never.pcap" tests/unit/data/pkcsreq.der --key tests/unit/data/ca.key
case_run "decode: an ignored --keylog is not read (a missing one is no error)" 0 1 \
	"$w--keylog is ignored by decode" -- decode --keylog no-such.keylog tests/unit/data/pkcsreq.der
case_run "--device-tz, --device-date, --device-skew without --device-log: one warning each" 0 3 \
	"$w--device-tz is ignored without --device-log" "$w--device-date is ignored without --device-log" \
	"$w--device-skew is ignored without --device-log" -- \
	--device-tz +01:00 --device-date 2026-11-25 --device-skew 3 -r "$enroll"
case_run "--key-pass without --key: a warning" 0 1 "$w--key-pass is ignored without --key" -- \
	--key-pass secret -r "$enroll"
case_run "-q and --color with --json: one warning each" 0 2 \
	"$w-q is ignored with --json" "$w--color is ignored with --json" -- --json -q --color=always -r "$enroll"
case_run "device logs alone: -f, -w, --keylog and --checksums are each a warning" 0 4 \
	"$w-f is ignored with device logs alone" "$w-w is ignored with device logs alone" \
	"$w--keylog is ignored with device logs alone" "$w--checksums is ignored with device logs alone" -- \
	--device-log tests/devlogs/android-scepclient-post-enroll.log -f tcp -w "$tmp/never.pcap" \
	--keylog no-such.keylog --checksums
n=$((n + 1))
if [ -e "$tmp/never.pcap" ]; then
	echo "not ok $n - an ignored -w creates no file"
else
	echo "ok $n - an ignored -w creates no file"
fi
# the filter given twice: one line, and (sanitizers) nothing leaked
case_run "-f and a trailing filter: one line" 2 1 \
	'^scepdump: give the BPF filter either with -f or as trailing arguments' -- \
	-r "$enroll" -f tcp 'port 80'
case_run "-f then a bad option: one line" 2 1 "^scepdump: option '--bogus'" -- -f tcp --bogus -r "$enroll"
# the summary's capped figure: concurrent-20 holds 20 enrollments of 3
# exchanges each (captures/README.md); --max-txn-exchanges 1 keeps the
# PKIOperation of each, and the 40 GetCACaps/GetCACert left form one
# endpoint group per connection (20) keeping one each: 60 - 40 = 20 capped
(cd "$SRCDIR" && "$SCEPDUMP" -q --max-txn-exchanges 1 -r captures/concurrent-20.pcap) >"$tmp/out" 2>&1
n=$((n + 1))
if grep -q ' 20 capped$' "$tmp/out"; then
	echo "ok $n - the summary's capped figure counts exchanges past --max-txn-exchanges"
else
	echo "not ok $n - the summary's capped figure counts exchanges past --max-txn-exchanges"
	sed 's/^/# /' "$tmp/out" | head -n 3
fi
