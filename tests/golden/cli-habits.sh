#!/bin/sh
# Command-line habits checked against what other tools read from the same
# files: --verdict/--failed against the unfiltered JSON, -w/--html's line
# against the files written (size, tcpdump's packet count), NO_COLOR under
# script(1), options after the filter, and decode of a pasted URL, of bare
# base64 and of a whole log against openssl's reading of the same bytes.
# Prints TAP; cases whose tool is missing are skipped.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
TZ=UTC LC_ALL=C
export TZ LC_ALL
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-habits.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$SRCDIR" || exit 1
echo "1..14"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1: $2"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# result NAME WHY: ok when WHY is empty
result() { if [ -z "$2" ]; then ok "$1"; else notok "$1" "$2"; fi; }
have() { command -v "$1" >/dev/null 2>&1; }

three="-r captures/wrong-challenge.pcap -r captures/strongswan-enroll.pcap -r captures/ndes-503.pcap"

# ---- options after the filter expression ---------------------------------
# shellcheck disable=SC2086
"$SCEPDUMP" -r captures/wrong-challenge.pcap tcp port 80 -v >"$tmp/out" 2>"$tmp/err"
rc=$?
why=""
[ $rc -eq 2 ] || why="exit $rc"
[ -n "$why" ] || [ "$(wc -l <"$tmp/err")" -eq 1 ] || why="not one line"
[ -n "$why" ] || grep -q "^scepdump: option '-v' after the filter expression 'tcp port 80': put options before the filter$" "$tmp/err" ||
	why="stderr: $(cat "$tmp/err")"
result "an option after the filter is a usage error naming it" "$why"
"$SCEPDUMP" tcp port 80 -r captures/wrong-challenge.pcap >"$tmp/out" 2>"$tmp/err"
rc=$?
why=""
[ $rc -eq 2 ] || why="exit $rc"
[ -n "$why" ] || grep -q "^scepdump: option '-r' after the filter expression 'tcp port 80'" "$tmp/err" || why="stderr: $(cat "$tmp/err")"
result "-r after the filter: named, not 'nothing to read'" "$why"
# pcap-filter(7) arithmetic: '-' alone is an operator, not an option
"$SCEPDUMP" -q -r captures/wrong-challenge.pcap 'ip[2:2]' - 20 '>' 0 >"$tmp/out" 2>"$tmp/err"
rc=$?
why=""
[ $rc -eq 0 ] || why="exit $rc: $(cat "$tmp/err")"
[ -n "$why" ] || grep -q '^1 transaction: 1 REJECTED' "$tmp/out" || why="stdout: $(head -1 "$tmp/out")"
result "a filter with a '-' operator still reads" "$why"

# ---- --verdict / --failed against the unfiltered listing -----------------
if have python3; then
	# shellcheck disable=SC2086
	"$SCEPDUMP" --json $three >"$tmp/all.json" 2>/dev/null
	for args in "--verdict REJECTED,http_error" "--failed" "--failed --no-spill" "--verdict ISSUED --no-spill"; do
		case $args in
		*ISSUED*) want="ISSUED" ;;
		*) want="REJECTED HTTP_ERROR" ;;
		esac
		# shellcheck disable=SC2086
		"$SCEPDUMP" --json $args $three >"$tmp/some.json" 2>/dev/null
		why=$(python3 - "$tmp/all.json" "$tmp/some.json" "$want" 2>&1 <<'EOF' || echo "not read: $(head -c 200 "$tmp/some.json")"
import json, sys
def objs(p):
    return [json.loads(l) for l in open(p)]
all_, some, want = objs(sys.argv[1]), objs(sys.argv[2]), sys.argv[3].split()
exp = [o for o in all_ if o.get("type") != "summary" and o.get("verdict") in want]
got = [o for o in some if o.get("type") != "summary"]
s_all = [o for o in all_ if o.get("type") == "summary"][0]
s_some = [o for o in some if o.get("type") == "summary"][0]
if got != exp:
    print("listed %d, want the %d of the unfiltered listing" % (len(got), len(exp)))
elif s_some.get("shown") != len(exp):
    print("summary says %r shown, want %d" % (s_some.get("shown"), len(exp)))
elif s_some["verdicts"] != s_all["verdicts"] or s_some["transactions"] != s_all["transactions"]:
    print("the summary does not count them all")
EOF
)
		result "$args lists what the unfiltered JSON has with those verdicts, the summary counts all" "$why"
	done
else
	for i in 1 2 3 4; do skip "--verdict against the unfiltered listing" "no python3"; done
fi

# ---- -w and --html say what they wrote ----------------------------------
"$SCEPDUMP" -q -r captures/wrong-challenge.pcap -w "$tmp/w.pcap" --html "$tmp/r.html" >/dev/null 2>"$tmp/err"
wbytes=$(wc -c <"$tmp/w.pcap")
hbytes=$(wc -c <"$tmp/r.html")
hrows=$(grep -c '^<tr><td><a href="#t' "$tmp/r.html")
why=""
grep -q "^scepdump: --html $tmp/r.html: $hrows transactions\{0,1\}, $hbytes bytes$" "$tmp/err" ||
	why="no line '--html $tmp/r.html: $hrows transaction(s), $hbytes bytes': $(cat "$tmp/err")"
result "--html says the transactions and bytes it wrote" "$why"
if have tcpdump; then
	pk=$(tcpdump -r "$tmp/w.pcap" 2>/dev/null | wc -l)
	why=""
	grep -q "^scepdump: -w $tmp/w.pcap: $pk packets of the SCEP connections, $wbytes bytes$" "$tmp/err" ||
		why="tcpdump reads $pk packets, $wbytes bytes: $(cat "$tmp/err")"
	result "-w says the packets (as tcpdump counts them) and bytes it wrote" "$why"
else
	skip "-w says the packets and bytes it wrote" "no tcpdump"
fi

# ---- NO_COLOR (no-color.org) ---------------------------------------------
esc=$(printf '\033')
if have script; then
	NO_COLOR=1 script -qc "'$SCEPDUMP' -r captures/wrong-challenge.pcap" /dev/null >"$tmp/tty1" 2>&1
	script -qc "'$SCEPDUMP' -r captures/wrong-challenge.pcap" /dev/null >"$tmp/tty2" 2>&1
	NO_COLOR=1 script -qc "'$SCEPDUMP' --color=always -r captures/wrong-challenge.pcap" /dev/null >"$tmp/tty3" 2>&1
	why=""
	grep -q "$esc\[" "$tmp/tty1" && why="NO_COLOR=1 on a terminal still colours"
	grep -q "$esc\[" "$tmp/tty2" || why="a terminal without NO_COLOR is not coloured"
	grep -q "$esc\[" "$tmp/tty3" || why="--color=always with NO_COLOR is not coloured"
	result "NO_COLOR turns the terminal's colours off; --color=always still colours" "$why"
else
	skip "NO_COLOR on a terminal" "no script(1)"
fi

# ---- decode: a pasted URL, bare base64, a whole log ----------------------
# the transactionID openssl reads from message= of a log line
log=captures/logs/ndes-pending-certmonger.nginx-access.log
openssl_tid() {
	python3 -c "import sys,urllib.parse,base64; sys.stdout.buffer.write(base64.b64decode(urllib.parse.unquote(sys.argv[1])))" "$1" >"$tmp/m.der" &&
		openssl cms -cmsout -print -inform DER -in "$tmp/m.der" | grep -A2 '(2.16.840.1.113733.1.9.7)' | sed -n 's/.*PRINTABLESTRING://p'
}
json_field() { python3 -c "import json,sys; [print(json.loads(l)['pki_message'].get('transaction_id'), json.loads(l).get('line')) for l in sys.stdin]"; }
if have python3 && have openssl; then
	value=$(sed -n 4p "$log" | sed 's/.*message=//; s/[ &].*//')
	tid=$(openssl_tid "$value")
	got=$("$SCEPDUMP" decode --json "http://127.0.0.1/certsrv/mscep/mscep.dll?operation=PKIOperation&message=$value" 2>"$tmp/err" | json_field)
	result "decode URL: the message of a pasted URL" "$([ "$got" = "$tid None" ] || echo "got '$got', openssl '$tid'")"
	b64=$(python3 -c "import sys,urllib.parse; print(urllib.parse.unquote(sys.argv[1]))" "$value")
	got=$("$SCEPDUMP" decode --json "$b64" 2>"$tmp/err" | json_field)
	result "decode BASE64: the message given as the argument" "$([ "$got" = "$tid None" ] || echo "got '$got', openssl '$tid'")"
	want=""
	for no in $(grep -n 'operation=PKIOperation&message=' "$log" | cut -d: -f1); do
		want="$want$(openssl_tid "$(sed -n "${no}p" "$log" | sed 's/.*message=//; s/[ &].*//')") $no
"
	done
	got=$("$SCEPDUMP" decode --json <"$log" 2>"$tmp/err" | json_field)
	result "decode < log: every message, each with its line" \
		"$([ "$got
" = "$want" ] || echo "got '$got', want '$want'")"
	# the seed page's iOS line, message= cut by the log after 477 characters:
	# 357 whole bytes; openssl asn1parse reads signedData and sha512 there
	v=$(sed -n 3p tests/devlogs/page-ios-console.log | sed 's/.*message=//; s/[\\ ]*$//; s/&.*//')
	python3 -c "import sys,base64; s=sys.argv[1]; sys.stdout.buffer.write(base64.b64decode(s[:len(s)//4*4]))" "$v" >"$tmp/cut.der"
	bytes=$(wc -c <"$tmp/cut.der")
	oids=$(openssl asn1parse -inform DER -in "$tmp/cut.der" 2>/dev/null | sed -n 's/.*OBJECT *://p' | head -2 | tr '\n' ' ')
	got=$("$SCEPDUMP" decode --json <tests/devlogs/page-ios-console.log 2>/dev/null |
		python3 -c "import json,sys; o=json.loads(sys.stdin.readline()); p=o['pki_message']; print(o['line'], o['length'], p['content_type'], p['digest_alg'], p['cut'])")
	result "decode < the seed page's iOS log: its cut message, on line 3" \
		"$([ "$got" = "3 $bytes ${oids% } True" ] || echo "got '$got', want '3 $bytes $oids True'")"
else
	for i in 1 2 3 4; do skip "decode against openssl" "no python3 or openssl"; done
fi
