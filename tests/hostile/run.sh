#!/bin/sh
# Hostile input that needs setup a golden line cannot give (a file cut in
# a temp dir, a pipe, another user, chmod 000): each case checks the exit
# status and the class of the one-line message on stderr, by pattern, so
# the exact wording may improve. README "Bad input and what it gets" lists
# every case with its message; the deterministic ones are golden tests
# (tests/golden/TESTLIST, "Hostile input"). Prints TAP; a case marked
# "# TODO" is a known shortcoming (automake counts it XFAIL, not FAIL).
# Permission cases run as user nobody when run as root (setpriv or su),
# as the current user otherwise; they are skipped when neither can work.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
TZ=UTC LC_ALL=C
export TZ LC_ALL
cap=$SRCDIR/captures/wrong-challenge.pcap

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-hostile.XXXXXX")
trap 'chmod -R u+rwX "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

n=0
# check NAME WANT-EXIT STDERR-PATTERN [STDOUT-PATTERN|-] [TODO-REASON]:
# one TAP line about the last run (exit in $rc, output in $tmp/out, $tmp/err).
# Patterns are grep -E, case-insensitive; '-' means that output must be
# empty, '' that it is not looked at (stdout or stderr).
check() {
	name=$1; want=$2; epat=$3; opat=${4:-}; todo=${5:-}
	n=$((n + 1))
	why=""
	[ "$rc" -eq "$want" ] || why="exit $rc, want $want"
	if [ -z "$why" ] && [ "$(wc -l <"$tmp/err")" -gt 1 ] && [ "$want" -eq 2 ]; then
		why="more than one line on stderr"
	fi
	if [ -z "$why" ] && [ "$epat" = "-" ] && [ -s "$tmp/err" ]; then
		why="stderr not empty"
	elif [ -z "$why" ] && [ -n "$epat" ] && [ "$epat" != "-" ] && ! grep -qiE -e "$epat" "$tmp/err"; then
		why="stderr does not match /$epat/"
	fi
	if [ -z "$why" ] && [ "$opat" = "-" ] && [ -s "$tmp/out" ]; then
		why="stdout not empty"
	elif [ -z "$why" ] && [ -n "$opat" ] && [ "$opat" != "-" ] && ! grep -qiE -e "$opat" "$tmp/out"; then
		why="stdout does not match /$opat/"
	fi
	suffix=""
	[ -n "$todo" ] && suffix=" # TODO $todo"
	if [ -z "$why" ]; then
		echo "ok $n - $name$suffix"
	else
		echo "not ok $n - $name: $why$suffix"
		sed 's/^/# stderr: /' "$tmp/err" | head -5
		sed 's/^/# stdout: /' "$tmp/out" | head -3
	fi
}
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
run() {
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

# As another user: nobody when root, else ourselves (no privilege to lose).
as_user=""
if [ "$(id -u)" -ne 0 ]; then
	as_user="env"
elif command -v setpriv >/dev/null 2>&1 &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
	as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups"
elif command -v su >/dev/null 2>&1 && su -s /bin/sh nobody -c true 2>/dev/null; then
	as_user="su_nobody"
fi
su_nobody() {
	cmd=""
	for a in "$@"; do cmd="$cmd '$a'"; done
	su -s /bin/sh nobody -c "$cmd"
}
# nobody must reach the binary (a build under /root is out of its reach)
user_why=""
if [ -z "$as_user" ]; then
	user_why="running as root without setpriv or su to drop to nobody"
elif ! $as_user test -x "$SCEPDUMP" 2>/dev/null; then
	user_why="user nobody cannot execute $SCEPDUMP"
fi

echo "1..27"

# ---- capture files --------------------------------------------------------
head -c 10 "$cap" >"$tmp/head10.pcap"
run "$SCEPDUMP" -r "$tmp/head10.pcap"
check "pcap cut inside its file header (10 bytes): exit 2, 'truncated'" 2 "head10.pcap: .*truncated" -
check "pcap cut inside its file header: the message says the file has 10 of 24 bytes" 2 "10 of 24 bytes"

head -c 10 "$SRCDIR/captures/enroll.pcapng" >"$tmp/head10.pcapng"
run "$SCEPDUMP" -r "$tmp/head10.pcapng"
check "pcapng cut inside its section header (10 bytes): exit 2, 'truncated'" 2 "head10.pcapng: .*(truncated|cut|short)" ""

: >"$tmp/empty.pcap"
run "$SCEPDUMP" -r "$tmp/empty.pcap"
check "empty file: exit 2, says it is empty or truncated" 2 "empty.pcap: .*(empty|truncated)" -

head -c 24 "$cap" >"$tmp/header-only.pcap"
run "$SCEPDUMP" -r "$tmp/header-only.pcap"
check "file header and no packet: a valid empty capture, exit 0" 0 - "^0 packets, 0 flows"

# cut in the middle of record 10: records 1-9 processed, the stop reported
size=$(python3 -c "
import struct,sys
d=open(sys.argv[1],'rb').read(); off=24
for i in range(9): off+=16+struct.unpack('<I',d[off+8:off+12])[0]
print(off+16+5)" "$cap" 2>/dev/null) || size=1500
head -c "$size" "$cap" >"$tmp/cut.pcap"
run "$SCEPDUMP" -r "$tmp/cut.pcap"
check "record cut in the middle: packets before it processed, where it stopped said, exit 2" 2 \
	"cut.pcap: truncated.*packet 10 .*processed 9 packets" "9 packets"

run sh -c "head -c $size '$cap' | '$SCEPDUMP' -r -"
check "the same cut read from a pipe (-r -)" 2 "truncated.*processed 9 packets" "9 packets"

run sh -c "head -c 20000000 /dev/zero | '$SCEPDUMP' -r -"
check "20 MB of zeros on stdin: not a capture, exit 2" 2 "(unknown file format|not a (pcap|capture))" -

# ---- scepdump decode --------------------------------------------------------
run sh -c "head -c 20000000 /dev/zero | '$SCEPDUMP' decode"
check "decode: 20 MB on stdin, over the 16 MiB cap: exit 2, the cap named" 2 "more than 16777216 bytes"

tr -d '\n' <"$SRCDIR/tests/unit/data/pkcsreq.b64" | head -c 1000 >"$tmp/cut4.b64"
run "$SCEPDUMP" decode "$tmp/cut4.b64"
# a cut is what log lines do: decoded as far as it goes, not an error
check "decode: base64 cut at a multiple of 4 (valid base64, cut DER): where it stops said, exit 0" 0 - \
	"truncated at byte 750 of 2531"

# ---- live capture without privilege ---------------------------------------
if [ -n "$user_why" ]; then
	skip "live -i lo without CAP_NET_RAW: exit 2, says root or setcap" "$user_why"
else
	run $as_user "$SCEPDUMP" -i lo
	if [ "$rc" -eq 0 ]; then
		skip "live -i lo without CAP_NET_RAW: exit 2, says root or setcap" "this user may capture"
	else
		check "live -i lo without CAP_NET_RAW: exit 2, says root or setcap" 2 \
			"lo: .*(root|setcap).*cap_net_raw"
	fi
fi
if [ -n "$user_why" ]; then
	skip "live capture: the message names setcap cap_net_raw,cap_net_admin" "$user_why"
elif [ "$rc" -ne 0 ]; then
	check "live capture: the message gives the setcap command" 2 \
		"setcap cap_net_raw,cap_net_admin" ""
else
	skip "live capture: the message names setcap cap_net_raw,cap_net_admin" "this user may capture"
fi
if [ "$(id -u)" -eq 0 ]; then
	run "$SCEPDUMP" -i scepdump-no-such-if0
	check "live -i on an interface that does not exist: exit 2, 'no such interface'" 2 "no such (interface|device)"
else
	skip "live -i on an interface that does not exist" "not root (the permission error comes first)"
fi

# ---- unreadable files (chmod 000), as another user ------------------------
cp "$SRCDIR/tests/unit/data/ca.key" "$tmp/secret.key"
cp "$SRCDIR/captures/keys/tls13-h2.keylog" "$tmp/secret.keylog"
cp "$cap" "$tmp/secret.pcap"
cp "$cap" "$tmp/ok.pcap"
chmod 644 "$tmp/ok.pcap"
chmod 000 "$tmp/secret.key" "$tmp/secret.keylog" "$tmp/secret.pcap"
if [ -n "$user_why" ]; then
	for t in "--key file" "--key file names the reason" "--keylog file" "capture file" "-w into a read-only directory" "-w fails before the capture is processed"; do
		skip "unreadable $t" "$user_why"
	done
else
	run $as_user "$SCEPDUMP" -r "$tmp/ok.pcap" --key "$tmp/secret.key"
	check "unreadable --key file (chmod 000): exit 2, the file named" 2 "--key .*secret.key" -
	check "unreadable --key file: the message gives the reason (Permission denied)" 2 \
		"secret.key.*permission denied" -
	run $as_user "$SCEPDUMP" -r "$tmp/ok.pcap" --keylog "$tmp/secret.keylog"
	check "unreadable --keylog file: exit 2, 'Permission denied'" 2 "--keylog .*secret.keylog.*permission denied" -
	run $as_user "$SCEPDUMP" -r "$tmp/secret.pcap"
	check "unreadable capture: exit 2, 'Permission denied'" 2 "secret.pcap: .*permission denied" -
	mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
	run $as_user "$SCEPDUMP" -q -r "$tmp/ok.pcap" -w "$tmp/ro/out.pcap"
	check "-w into a read-only directory: exit 2, 'Permission denied'" 2 "-w .*permission denied"
	check "-w into a read-only directory fails before the capture is processed" 2 "-w .*permission denied" -
fi

# ---- the body cap ---------------------------------------------------------
run "$SCEPDUMP" -q --max-body 64 -r "$cap"
check "--max-body 64: bodies capped and counted, not decoded short; exit 0" 0 - "[1-9][0-9]* capped"

# ---- the spill file ----------------------------------------------------------
# Reading files, finished transactions wait in a temporary file in $TMPDIR;
# when it cannot be made they stay in memory, the listing the same.
run env TMPDIR="$tmp/no-such-dir" "$SCEPDUMP" -r "$SRCDIR/captures/concurrent-20.pcap"
check "TMPDIR missing: one line, transactions kept in memory, exit 0" 0 \
	"^scepdump: cannot create a temporary file in .*no-such-dir: .*stay in memory" \
	"^20 transactions: 17 ISSUED, 3 REJECTED"
"$SCEPDUMP" -r "$SRCDIR/captures/concurrent-20.pcap" >"$tmp/spilled.out" 2>/dev/null
rc=0
cmp -s "$tmp/out" "$tmp/spilled.out" || rc=1
check "TMPDIR missing: the same listing as spilled" 0 "" ""

# ---- .evtx device logs ------------------------------------------------------
# A damaged .evtx (tests/devlogs/make-evtx.py: chunk 1's header checksum
# wrong, chunk 2's last record cut short) still merges what it holds; a
# copy cut inside its first chunk, and one that is only a signature. A
# build without libevtx refuses any .evtx with one line saying what to do.
evtx=$SRCDIR/tests/devlogs/windows-strongswan-enroll.evtx
scap=$SRCDIR/captures/strongswan-enroll.pcap
run "$SCEPDUMP" -q --device-log "$evtx"
if grep -q 'built without libevtx' "$tmp/err"; then
	run "$SCEPDUMP" -r "$scap" --device-log "$evtx"
	check ".evtx in a build without libevtx: exit 2, one line: the file, why, wevtutil and libevtx-dev" 2 \
		"windows-strongswan-enroll.evtx: this scepdump was built without libevtx: export the log as XML with 'wevtutil qe <log> /f:xml' or rebuild with libevtx-dev" ""
	for t in "damaged .evtx merged" "damaged .evtx reported on one line" ".evtx cut inside its chunk" \
		".evtx that is only a signature"; do
		skip "$t" "scepdump built without libevtx"
	done
else
	skip ".evtx in a build without libevtx" "scepdump built with libevtx"
	run "$SCEPDUMP" -r "$scap" --device-log "$SRCDIR/tests/devlogs/windows-strongswan-enroll-corrupt.evtx"
	check "damaged .evtx: what it holds is merged (DELIVERED), exit 0" 0 "" "DELIVERED"
	check "damaged .evtx: reported on one line (the file, the chunk, what is wrong), exit 0" 0 \
		"^scepdump: --device-log .*corrupt.evtx: 1 damaged chunk, 1 unreadable record; first: chunk 1 .*checksum" ""
	head -c 40000 "$evtx" >"$tmp/cut.evtx"
	run "$SCEPDUMP" -r "$scap" --device-log "$tmp/cut.evtx"
	check ".evtx cut inside its chunk: the capture still read (ISSUED), exit 0" 0 "" \
		"1 transaction: 1 ISSUED"
	head -c 8 "$evtx" >"$tmp/sig.evtx"
	run "$SCEPDUMP" -r "$scap" --device-log "$tmp/sig.evtx"
	check ".evtx that is only a signature: exit 2, one line, 'not a readable .evtx file', the header cut" 2 \
		"--device-log .*sig.evtx: not a readable .evtx file: it ends inside its 4096-byte file header" ""
fi
