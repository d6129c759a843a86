#!/bin/sh
# check.sh - the HTML report of concurrent-20 (20 enrollments) opened in
# headless Chromium: it must load without a script error and draw one
# swimlane SVG per transaction; at 1400 and 420 px wide the page is
# measured where Chromium lays it out (the page's data-layout: nothing
# wider than the window, no label on an address, no axis label twice in a
# row, lane text still legible, the index scrolling in its own box), and
# without a device log the device lane is one line. TAP output. Runs scepdump --html:
#   SCEPDUMP=build/src/scepdump OUTDIR=/tmp/html sh tests/html/check.sh
# Leaves report.html, dom.html and report.png in $OUTDIR to look at.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
OUTDIR=${OUTDIR:-$(mktemp -d)}
CAPTURE=captures/concurrent-20.pcap
EXPECT=20
export TZ=UTC LC_ALL=C

CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	echo "1..0 # SKIP chromium not installed (apt-get install -y chromium)"
	exit 0
fi
echo "1..11"
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
mkdir -p "$OUTDIR"

# The program itself writes the report (--html), as a user would run it.
driver_run() { out=$1; shift; "$SCEPDUMP" -q --html "$out" "$@" >/dev/null; }
pass "scepdump found: $SCEPDUMP"

report=$OUTDIR/report.html
if (cd "$SRCDIR" && driver_run "$report" --key captures/keys/ca.key -r "$CAPTURE") 2>"$OUTDIR/driver.err" && [ -s "$report" ]; then
	pass "report written"
else
	fail "report written" "$(cat "$OUTDIR/driver.err")"
	exit 1
fi

# Same input, same bytes: no run time, no pointer or hash order in it.
(cd "$SRCDIR" && driver_run "$OUTDIR/again.html" --key captures/keys/ca.key -r "$CAPTURE") 2>/dev/null
if cmp -s "$report" "$OUTDIR/again.html"; then pass "output is deterministic"; else fail "output is deterministic"; fi

# Self-contained: one inline script, nothing loaded from elsewhere.
scripts=$(grep -c '<script' "$report")
ext=$(grep -Eic '(src|href)="?(https?:)?//|@import|url\(' "$report")
if [ "$scripts" = 1 ] && [ "$ext" = 0 ]; then
	pass "self-contained (1 inline script, no external references)"
else
	fail "self-contained" "scripts=$scripts external=$ext"
fi

# The challenge password is masked unless --show-secrets.
if grep -q '<dt>challenge</dt><dd>\*\*\*\* (--show-secrets)</dd>' "$report"; then
	pass "challenge masked"
else
	fail "challenge masked"
fi

chrome() {
	profile=$(mktemp -d)
	"$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
		--enable-logging=stderr --v=0 "$@"
	rc=$?
	rm -rf "$profile"
	return $rc
}

dom=$OUTDIR/dom.html
chrome --dump-dom "file://$report" >"$dom" 2>"$OUTDIR/chrome-dom.log"
errors=$(sed -n 's/.*data-errors="\([^"]*\)".*/\1/p' "$dom" | head -1)
console=$(grep -E 'Uncaught|Refused to' "$OUTDIR/chrome-dom.log" | head -3)
if grep -q '<body' "$dom" && [ -z "$errors" ] && [ -z "$console" ]; then
	pass "page loads without script errors"
else
	fail "page loads without script errors" "data-errors: $errors" "$console"
fi

drawn=$(sed -n 's/.*<body[^>]*data-drawn="\([0-9]*\)".*/\1/p' "$dom" | head -1)
svgs=$(grep -o '<svg class="lane"' "$dom" | wc -l)
if [ "$drawn" = "$EXPECT" ] && [ "$svgs" = "$EXPECT" ]; then
	pass "$EXPECT transactions drawn"
else
	fail "$EXPECT transactions drawn" "data-drawn=${drawn:-none}, lane SVGs=$svgs"
fi

png=$OUTDIR/report.png
rm -f "$png"
chrome --screenshot="$png" --window-size=1280,2000 "file://$report" >"$OUTDIR/chrome-shot.log" 2>&1
if [ -s "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]; then
	pass "screenshot $png"
else
	fail "screenshot $png" "$(tail -3 "$OUTDIR/chrome-shot.log")"
fi

# layout at a desktop and a phone width, as Chromium lays the page out
layout_at() {
	chrome --dump-dom --window-size="$1,2000" "file://$report" 2>/dev/null |
		sed -n 's/.*data-layout="\([^"]*\)".*/\1/p' | head -1
}
val() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
for w in 1400 420; do
	l=$(layout_at $w)
	font=$(val "$l" lane-font-px)
	scrolls=$(val "$l" index-scrolls)
	want_scroll=$([ $w = 420 ] && echo 1 || echo 0)
	if [ -n "$l" ] && [ "$(val "$l" page-overflow)" = 0 ] && [ "$(val "$l" label-overlaps)" = 0 ] &&
		[ "$(val "$l" duplicate-axis-labels)" = 0 ] && [ "$scrolls" = "$want_scroll" ] &&
		awk -v f="$font" 'BEGIN { exit !(f >= 9) }'; then
		pass "layout at $w px: $l"
	else
		fail "layout at $w px" "data-layout: ${l:-none} (want page-overflow=0 label-overlaps=0 duplicate-axis-labels=0 index-scrolls=$want_scroll lane-font-px>=9)"
	fi
done
chrome --screenshot="$OUTDIR/report-420.png" --window-size=420,2000 "file://$report" >/dev/null 2>&1

# no device log merged: the device lane is one 18-unit line (lanes of 52:
# 8 + 2 * 52 + 18 + 22 = 152 high), with one merged it is a full lane
(cd "$SRCDIR" && driver_run "$OUTDIR/devlog.html" -r captures/wrong-challenge.pcap \
	--device-log tests/devlogs/android-wrong-challenge.log) 2>/dev/null
chrome --dump-dom "file://$report" 2>/dev/null | grep -o '<svg class="lane"[^>]*' | grep -o 'viewBox="[^"]*"' | sort -u >"$OUTDIR/vb-nolog"
chrome --dump-dom "file://$OUTDIR/devlog.html" 2>/dev/null | grep -o '<svg class="lane"[^>]*' | grep -o 'viewBox="[^"]*"' | sort -u >"$OUTDIR/vb-log"
if [ "$(cat "$OUTDIR/vb-nolog")" = 'viewBox="0 0 1180 152"' ] && [ "$(cat "$OUTDIR/vb-log")" = 'viewBox="0 0 1180 186"' ]; then
	pass "device lane: one line without a device log, full with one"
else
	fail "device lane height" "without: $(cat "$OUTDIR/vb-nolog")" "with: $(cat "$OUTDIR/vb-log")"
fi
