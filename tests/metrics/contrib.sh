#!/bin/sh
# contrib/: the alerting rules pass 'promtool test rules' with their test
# file, and the systemd unit passes 'systemd-analyze verify' (on a copy
# whose ExecStart is the built binary and whose EnvironmentFile is the
# example next to it). Skipped (TAP "# SKIP") without promtool or
# systemd-analyze.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary to test (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
# systemd takes only normalized paths (no "build/.."), as make check gives
SRCDIR=$(cd "$SRCDIR" && pwd -P)
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-contrib.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "1..3"
if ! command -v promtool >/dev/null 2>&1; then
	echo "ok 1 - promtool check rules # SKIP promtool not installed (apt-get install prometheus)"
	echo "ok 2 - promtool test rules # SKIP promtool not installed (apt-get install prometheus)"
else
	if promtool check rules "$SRCDIR/contrib/prometheus/scepdump-alerts.yml" >"$tmp/out" 2>&1; then
		echo "ok 1 - promtool check rules contrib/prometheus/scepdump-alerts.yml"
	else
		echo "not ok 1 - promtool check rules contrib/prometheus/scepdump-alerts.yml"
		sed 's/^/# /' "$tmp/out" | head -20
	fi
	if (cd "$SRCDIR/contrib/prometheus" && promtool test rules scepdump-alerts.test.yml) >"$tmp/out" 2>&1; then
		echo "ok 2 - promtool test rules: failures, PENDING piling up, capture drops"
	else
		echo "not ok 2 - promtool test rules"
		sed 's/^/# /' "$tmp/out" | head -30
	fi
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "ok 3 - systemd-analyze verify scepdump.service # SKIP systemd-analyze not installed"
else
	sed -e "s|^ExecStart=/usr/local/bin/scepdump|ExecStart=$SCEPDUMP|" \
	    -e "s|^EnvironmentFile=.*|EnvironmentFile=$SRCDIR/contrib/systemd/scepdump.env|" \
	    "$SRCDIR/contrib/systemd/scepdump.service" >"$tmp/scepdump.service"
	# --man=no: the man page is not installed where the test runs
	if systemd-analyze verify --man=no "$tmp/scepdump.service" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
		echo "ok 3 - systemd-analyze verify contrib/systemd/scepdump.service"
	else
		echo "not ok 3 - systemd-analyze verify contrib/systemd/scepdump.service"
		sed 's/^/# /' "$tmp/out" | head -20
	fi
fi
exit 0
