#!/bin/sh
# Outputs that cannot be written whole, and outputs opened at the wrong
# time or onto an input: standard output (text, JSON, decode), -w, --html
# and the spill file on /dev/full and on a full tmpfs, SIGINT/SIGTERM while
# -w's first pass reads, --html and -w naming an input under another name,
# --html with -Z on a live capture, a bad --device-log. Each case checks
# the exit status, the one line on stderr (by pattern), and what is left
# on disk, judged from outside scepdump: the pcap record layout walked by
# python3 (pcap-savefile(5)), checksums, the last bytes of the page.
# Prints TAP. Cases needing root (a private mount namespace for a small
# tmpfs, a private network namespace for the live capture) or tests/bench/gen
# (a capture big enough to fill 64 kB and to take a while to read) are
# skipped without them.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
#   GEN       tests/bench/gen (make check builds it)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
GEN=${GEN:-}
TZ=UTC LC_ALL=C
export TZ LC_ALL
cap=$SRCDIR/captures/scepclient-post-enroll.pcap
der=$SRCDIR/tests/unit/data/certrep-success.der

# The -Z case runs this script again inside a network namespace of its
# own: "--live-z DIR".
live_z() {
	ip link set lo up || exit 98
	"$SCEPDUMP" -i lo -Z nobody --html "$2/rootonly/report.html" >/dev/null 2>"$2/err" </dev/null &
	pid=$!
	i=0
	while ! grep -q "listening on" "$2/err" && kill -0 "$pid" 2>/dev/null && [ $i -lt 3000 ]; do
		i=$((i + 1))
		sleep 0.01
	done
	uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	[ "$uid" = "$(id -u nobody)" ] || exit 97
	exit $rc
}
if [ "${1:-}" = --live-z ]; then
	live_z "$@"
fi

tmp=$(mktemp -d -t scepdump-writes.XXXXXX)
tmp=$(cd "$tmp" && pwd -P)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
notok() {
	n=$((n + 1))
	echo "not ok $n - $1: $2"
	sed 's/^/# stderr: /' "$tmp/err" 2>/dev/null | head -5
}
# check NAME WANT-EXIT STDERR-PATTERN [EXTRA-FAILURE]: the last run's exit
# status ($rc), exactly one line on stderr matching the pattern (grep -E),
# besides the line saying what -w wrote, and the reason an extra check
# failed, if one did.
check() {
	grep -v '^scepdump: -w .*: [0-9]* packets\{0,1\} of the SCEP connections, [0-9]* bytes$' "$tmp/err" >"$tmp/err.x"
	mv "$tmp/err.x" "$tmp/err"
	if [ "$rc" -ne "$2" ]; then
		notok "$1" "exit $rc, want $2"
	elif [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
		notok "$1" "$(wc -l <"$tmp/err") lines on stderr, want 1"
	elif ! grep -qE -e "$3" "$tmp/err"; then
		notok "$1" "stderr does not match /$3/"
	elif [ -n "${4:-}" ]; then
		notok "$1" "$4"
	else
		ok "$1"
	fi
}
run() {
	"$@" 2>"$tmp/err" </dev/null
	rc=$?
}

# The records of a pcap file, walked by their own length fields: prints
# the number of whole records, fails when the file ends inside one.
pcap_records() {
	python3 - "$1" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
if len(d) < 24 or struct.unpack("<I", d[:4])[0] not in (0xa1b2c3d4, 0xa1b23c4d):
    sys.exit("no pcap file header (%d bytes)" % len(d))
off, n = 24, 0
while off < len(d):
    if off + 16 > len(d):
        sys.exit("ends inside the header of record %d" % (n + 1))
    caplen = struct.unpack("<I", d[off + 8:off + 12])[0]
    if off + 16 + caplen > len(d):
        sys.exit("ends inside record %d" % (n + 1))
    off += 16 + caplen
    n += 1
print(n)
PYEOF
}

as_root=""
[ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null && as_root=1
mix=""
if [ -n "$GEN" ] && [ -x "$GEN" ] &&
	"$GEN" -o "$tmp/mix.pcap" -m 6 -e 300 -f 100 "$cap" "$SRCDIR/captures/concurrent-20.pcap" >/dev/null 2>&1; then
	mix=$tmp/mix.pcap
fi

echo "1..16"

# ---- /dev/full -------------------------------------------------------------
run "$SCEPDUMP" -r "$cap" >/dev/full
check "stdout on /dev/full: exit 2, one line naming standard output and what is lost" 2 \
	"^scepdump: standard output: No space left on device: the listing and summary are incomplete$"
run "$SCEPDUMP" --json -r "$cap" >/dev/full
check "--json stdout on /dev/full: exit 2, one line" 2 "^scepdump: standard output: No space left on device: "
run "$SCEPDUMP" decode "$der" >/dev/full
check "decode onto /dev/full: exit 2, one line" 2 \
	"^scepdump: standard output: No space left on device: the decoded message is incomplete$"
run "$SCEPDUMP" -q -r "$cap" -w /dev/full >/dev/null
check "-w /dev/full: exit 2, one line: not even the pcap header, 19 packets not written" 2 \
	"^scepdump: -w /dev/full: No space left on device: not even the pcap file header .*19 packets"
run "$SCEPDUMP" -q -r "$cap" --html /dev/full >/dev/null
check "--html /dev/full: exit 2, one line: the report is incomplete" 2 \
	"^scepdump: --html /dev/full: No space left on device: the report is incomplete"

# ---- a 64 kB tmpfs, in a mount namespace of our own --------------------------
# the mount is gone when the namespace's one process ends; what it held is
# copied out first
small() {
	unshare -m sh -c 'd=$1; shift
		mkdir -p "$d/small" && mount -t tmpfs -o size=64k tmpfs "$d/small" || exit 99
		"$@"; rc=$?; cp -p "$d/small/"* "$d/kept/" 2>/dev/null; exit $rc' \
		small "$tmp" "$@"
}
if [ -z "$as_root" ] || [ -z "$mix" ]; then
	why=${as_root:+"tests/bench/gen (GEN) not available"}
	why=${why:-"needs root and unshare -m for a private tmpfs"}
	skip "-w on a full tmpfs" "$why"
	skip "--html on a full tmpfs" "$why"
	skip "spill file on a full tmpfs" "$why"
else
	mkdir -p "$tmp/kept"
	small "$SCEPDUMP" -q -r "$mix" -w "$tmp/small/out.pcap" >/dev/null 2>"$tmp/err"
	rc=$?
	extra=""
	if ! got=$(pcap_records "$tmp/kept/out.pcap" 2>&1); then
		extra="out.pcap is not whole records: $got"
	elif ! grep -q "the file ends after $got whole packets; [1-9][0-9]* more packets" "$tmp/err"; then
		extra="the file holds $got records, the line says otherwise"
	fi
	check "-w on a full 64 kB tmpfs: exit 2, one line; the file is cut back to whole records, as many as the line says" 2 \
		"^scepdump: -w .*out.pcap: No space left on device: the file ends after [0-9]+ whole packets" "$extra"

	small "$SCEPDUMP" -q -r "$mix" --html "$tmp/small/report.html" >/dev/null 2>"$tmp/err"
	rc=$?
	extra=""
	[ -e "$tmp/kept/report.html" ] && extra="the cut report is still there"
	check "--html on a full 64 kB tmpfs: exit 2, one line: incomplete, the file removed" 2 \
		"^scepdump: --html .*report.html: No space left on device: the report is incomplete; the file is removed$" "$extra"

	"$SCEPDUMP" --no-spill -v -r "$mix" >"$tmp/nospill.out" 2>/dev/null
	TMPDIR=$tmp/small small "$SCEPDUMP" -v -r "$mix" >"$tmp/spill.out" 2>"$tmp/err"
	rc=$?
	extra=""
	cmp -s "$tmp/nospill.out" "$tmp/spill.out" || extra="the listing differs from --no-spill's"
	check "spill file on a full tmpfs: nothing lost (the listing of --no-spill, exit 0), one line naming the directory" 0 \
		"^scepdump: temporary file in .*/small: No space left on device: finished transactions stay in memory" "$extra"
fi

# ---- SIGINT / SIGTERM while -w's first pass reads ---------------------------
# Not timed: the process is stopped, and signalled only when it is seen
# reading the second half of the input (gen spreads the enrollments over
# the file: many have been read by then) short of its end, with nothing
# printed yet (the report comes before the second pass); else it is let
# go and the next try starts.
interrupt_first_pass() {
	sig=$1
	shift
	size=$(wc -c <"$big")
	rm -f "$tmp/i.pcap" "$tmp/out" "$tmp/err"
	"$SCEPDUMP" "$@" -r "$big" -w "$tmp/i.pcap" >"$tmp/out" 2>"$tmp/err" </dev/null &
	pid=$!
	sent=""
	while [ -z "$sent" ] && kill -0 "$pid" 2>/dev/null; do
		for fd in /proc/$pid/fd/*; do
			[ "$(readlink "$fd" 2>/dev/null)" = "$big" ] || continue
			pos=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$pid/fdinfo/${fd##*/}" 2>/dev/null)
			[ -n "$pos" ] && [ "$pos" -ge $((size / 2)) ] && [ "$pos" -lt "$size" ] || continue
			kill -STOP "$pid" 2>/dev/null || break
			pos=$(sed -n 's/^pos:[[:space:]]*//p' "/proc/$pid/fdinfo/${fd##*/}" 2>/dev/null)
			if [ -n "$pos" ] && [ "$pos" -lt "$size" ] && [ ! -s "$tmp/out" ]; then
				kill "-$sig" "$pid"
				sent=1
			fi
			kill -CONT "$pid"
			break
		done
	done
	wait "$pid"
	rc=$?
	[ -n "$sent" ]
}
big=""
if [ -n "$GEN" ] && [ -x "$GEN" ] && [ -d /proc/self/fdinfo ] &&
	"$GEN" -o "$tmp/big.pcap" -m 50 "$cap" "$SRCDIR/captures/concurrent-20.pcap" >/dev/null 2>&1; then
	big=$tmp/big.pcap
fi
if [ -z "$big" ]; then
	skip "SIGINT during -w's first pass" "needs tests/bench/gen (GEN) and /proc"
	skip "SIGTERM during -w's first pass, --json" "needs tests/bench/gen (GEN) and /proc"
else
	for sig in INT TERM; do
		quiet=-q
		json=""
		[ $sig = TERM ] && { json=--json; quiet=""; }
		tries=0
		until interrupt_first_pass $sig $quiet $json || [ $tries -ge 5 ]; do
			tries=$((tries + 1))
		done
		name="SIG$sig during -w's first pass${json:+, $json}: exit 3, the summary says so, the file holds the part read's SCEP packets, whole"
		if [ $tries -ge 5 ]; then
			notok "$name" "the process was never seen in its first pass"
			continue
		fi
		extra=""
		if ! got=$(pcap_records "$tmp/i.pcap" 2>&1); then
			extra="i.pcap is not a pcap of whole records: $got"
		elif [ "$got" -eq 0 ]; then
			extra="i.pcap holds no packet, though half the input was read"
		elif [ -z "$json" ] && ! grep -q "^interrupted by SIG$sig: the input was not read to its end" "$tmp/out"; then
			extra="no 'interrupted by SIG$sig' line in the summary"
		elif [ -n "$json" ] && ! why=$(tail -n 1 "$tmp/out" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
if s.get("type") != "summary" or s.get("interrupted") != sys.argv[1]:
    sys.exit("no \"interrupted\": \"%s\" in the JSON summary" % sys.argv[1])
try:
    import jsonschema
except ImportError:
    sys.exit(0)
with open(sys.argv[2], encoding="utf-8") as f:
    schema = json.load(f)
summary = dict(schema["$defs"]["summary"], **{"$defs": schema["$defs"]})
err = jsonschema.exceptions.best_match(jsonschema.validators.validator_for(schema)(summary).iter_errors(s))
if err:
    sys.exit("the JSON summary breaks the schema: %s" % err.message[:200])' "SIG$sig" "$SRCDIR/doc/scepdump.schema.json" 2>&1); then
			extra=$why
		fi
		check "$name" 3 "^scepdump: interrupted by SIG$sig: -w .*i.pcap gets the SCEP connections of the part read" "$extra"
	done
fi

# ---- outputs onto inputs ------------------------------------------------------
# a fresh copy for each case, so one overwritten does not fail the next
fresh_input() {
	rm -f "$tmp/in.pcap" "$tmp/sym.pcap" "$tmp/hard.pcap"
	cp "$cap" "$tmp/in.pcap"
	ln -s in.pcap "$tmp/sym.pcap"
	ln "$tmp/in.pcap" "$tmp/hard.pcap"
}
sum=$(cksum <"$cap")
fresh_input
run "$SCEPDUMP" -q -r "$tmp/in.pcap" --html "$tmp/in.pcap" >/dev/null
extra=""
[ "$(cksum <"$tmp/in.pcap")" = "$sum" ] || extra="the capture was changed"
check "--html onto the -r input: refused, exit 2, the capture unchanged" 2 \
	"^scepdump: --html .*in.pcap: that is the input file .*in.pcap; not overwritten$" "$extra"
fresh_input
run "$SCEPDUMP" -q -r "$tmp/in.pcap" --html "$tmp/sym.pcap" >/dev/null
extra=""
[ "$(cksum <"$tmp/in.pcap")" = "$sum" ] || extra="the capture was changed"
check "--html onto the -r input through a symlink: refused, exit 2, the capture unchanged" 2 \
	"^scepdump: --html .*sym.pcap: that is the input file .*in.pcap" "$extra"
fresh_input
run "$SCEPDUMP" -q -r "$tmp/in.pcap" -w "$tmp/hard.pcap" >/dev/null
extra=""
[ "$(cksum <"$tmp/in.pcap")" = "$sum" ] || extra="the capture was changed"
check "-w onto the -r input through a hard link: refused, exit 2, the capture unchanged" 2 \
	"^scepdump: -w .*hard.pcap: that is the input file .*in.pcap" "$extra"

# ---- -Z: --html opened before privileges are dropped --------------------------
# A live capture on the loopback of a network namespace of our own, as
# nobody after the drop, with the report going to a directory only root
# can write; stopped by SIGINT once it listens (and runs as nobody).
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1 || ! unshare -n true 2>/dev/null ||
	! id -u nobody >/dev/null 2>&1; then
	skip "-Z nobody --html into a root-only directory" "needs root, unshare -n, ip (iproute2) and user nobody"
else
	mkdir "$tmp/rootonly"
	chmod 755 "$tmp/rootonly"
	SCEPDUMP=$SCEPDUMP unshare -n sh "$here/write-errors.sh" --live-z "$tmp"
	rc=$?
	extra=""
	if [ $rc -eq 97 ]; then
		extra="the capture did not run as nobody"
	elif [ $rc -eq 98 ]; then
		extra="could not bring up lo in the namespace"
	elif ! tail -c 16 "$tmp/rootonly/report.html" 2>/dev/null | grep -q '</body></html>'; then
		extra="the report is missing or cut short"
	fi
	# only the listening line, the line saying what --html wrote and the
	# kernel counters on stderr
	grep -v '^scepdump: listening on\|^scepdump: --html .*: [0-9]* transactions\{0,1\}, [0-9]* bytes$\|packets received by filter\|packets dropped by kernel' "$tmp/err" >"$tmp/err2"
	if [ -s "$tmp/err2" ]; then
		notok "-Z nobody --html into a root-only directory: the report written whole, exit 0" \
			"unexpected: $(head -n 1 "$tmp/err2")"
	elif [ $rc -ne 0 ] && [ -z "$extra" ]; then
		notok "-Z nobody --html into a root-only directory: the report written whole, exit 0" "exit $rc"
	elif [ -n "$extra" ]; then
		notok "-Z nobody --html into a root-only directory: the report written whole, exit 0" "$extra"
	else
		ok "-Z nobody --html into a root-only directory: the report written whole, exit 0"
	fi
fi

# ---- a bad --device-log is said before the capture is read --------------------
run "$SCEPDUMP" -r "$cap" --device-log "$tmp/no-such.log" >"$tmp/out"
extra=""
[ -s "$tmp/out" ] && extra="the capture was analysed first"
check "--device-log missing: exit 2, one line, before the capture is read (nothing on stdout)" 2 \
	"^scepdump: --device-log .*no-such.log: No such file or directory$" "$extra"
run "$SCEPDUMP" -r "$cap" --device-log "$SRCDIR/tests/hostile/write-errors.sh" >"$tmp/out"
extra=""
[ -s "$tmp/out" ] && extra="the capture was analysed first"
check "--device-log that is no device log: exit 2, one line, before the capture is read" 2 \
	"^scepdump: --device-log .*write-errors.sh: not a device log" "$extra"
