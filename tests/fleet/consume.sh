#!/bin/sh
# consume.sh - JSON Lines as a fleet's log tools read them (doc/fleet.md):
# jq over the file, and rsyslog's imfile module tailing it into a file of
# its own, as a log agent shipping it would. The lines are --json's, which
# --json-file writes live (tests/live/live-write.sh checks that file with
# jq on a live capture); here they come from a capture file, so the test
# needs neither root nor a network namespace.
# Expected counts come from captures/README.md (concurrent-20: 20 real
# enrollments, 17 issued, 3 rejected for a reused subject), not from
# scepdump. TAP; tools that are missing are skipped.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
tmp=$(mktemp -d)
rpid=
# shellcheck disable=SC2317  # run from the trap
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "1..3"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

"$SCEPDUMP" --json -r "$SRCDIR/captures/concurrent-20.pcap" >"$tmp/scep.jsonl" 2>"$tmp/out"
rc=$?
lines=$(grep -c . "$tmp/scep.jsonl" 2>/dev/null || echo 0)
if [ $rc = 0 ] && [ "$lines" -ge 21 ]; then
	ok "--json: $lines lines (20 transactions, groups and the summary)"
else
	notok "--json: exit $rc, $lines lines (want 0 and at least 21): $(head -n 2 "$tmp/out")"
fi

if command -v jq >/dev/null 2>&1; then
	got=$(jq -r 'select(.type=="transaction") | .verdict' "$tmp/scep.jsonl" 2>/dev/null | sort | uniq -c |
		awk '{ printf "%s%s=%s", sep, $2, $1; sep=" " }')
	if [ "$got" = "ISSUED=17 REJECTED=3" ]; then
		ok "jq reads every line: $got"
	else
		notok "jq: verdicts '$got', want 'ISSUED=17 REJECTED=3'"
	fi
else
	skip "jq reads every line" "jq not installed"
fi

if command -v rsyslogd >/dev/null 2>&1; then
	# imfile tails the file from its start and writes each line as read
	# (template: the message only) into a file of rsyslog's own.
	cat >"$tmp/rsyslog.conf" <<EOF
global(workDirectory="$tmp" maxMessageSize="1m")
module(load="imfile")
input(type="imfile" File="$tmp/scep.jsonl" Tag="scepdump" freshStartTail="off")
template(name="msgonly" type="string" string="%msg%\n")
action(type="omfile" File="$tmp/shipped.jsonl" template="msgonly")
EOF
	rsyslogd -n -f "$tmp/rsyslog.conf" -i "$tmp/rsyslog.pid" >"$tmp/rsyslog.log" 2>&1 &
	rpid=$!
	i=0
	while [ $i -lt 100 ] && [ "$(grep -c . "$tmp/shipped.jsonl" 2>/dev/null || echo 0)" -lt "$lines" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	rpid=
	if [ -s "$tmp/shipped.jsonl" ] && cmp -s "$tmp/scep.jsonl" "$tmp/shipped.jsonl"; then
		ok "rsyslog imfile ships every line unchanged ($lines lines)"
	else
		notok "rsyslog imfile: $(grep -c . "$tmp/shipped.jsonl" 2>/dev/null || echo 0) of $lines lines shipped unchanged: $(head -n 3 "$tmp/rsyslog.log")"
	fi
else
	skip "rsyslog imfile ships every line unchanged" "rsyslog not installed"
fi
