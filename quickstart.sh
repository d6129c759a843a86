#!/bin/sh
# quickstart.sh - set up a fresh Debian 12 machine and build scepdump, then
#   ./quickstart.sh demo   run scepdump on a bundled real capture
#   ./quickstart.sh test   run the whole test suite; last line "N passed, N failed"
# Environment: BUILD_DIR (default build), CONFIGURE_FLAGS (extra configure
# options, e.g. --enable-sanitizers), DEMO_CAPTURE.
set -eu

cmd=${1:-}
case "$cmd" in
demo|test) ;;
*) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=${BUILD_DIR:-build}
CONFIGURE_FLAGS=${CONFIGURE_FLAGS:-}
PACKAGES="build-essential autoconf automake pkg-config libpcap-dev libssl-dev libnghttp2-dev libhtp-dev zlib1g-dev libjansson-dev libcmocka-dev python3-jsonschema libevtx-dev libbfio-dev libevtx-utils python3-evtx"

install_packages() {
	missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "scepdump needs these packages; run:" >&2
		echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
		exit 2
	fi
	echo "installing:$missing" >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
}

build() {
	cd "$top"
	[ -x configure ] || autoreconf -fi >&2
	mkdir -p "$BUILD_DIR"
	cd "$BUILD_DIR"
	# Reconfigure when the flags changed since the last run.
	if [ ! -f config.status ] || [ "$(cat .configure-flags 2>/dev/null)" != "$CONFIGURE_FLAGS" ]; then
		# shellcheck disable=SC2086
		"$top/configure" $CONFIGURE_FLAGS >&2
		echo "$CONFIGURE_FLAGS" >.configure-flags
	fi
	make -j"$(nproc)" >&2
	make -j"$(nproc)" check TESTS= >&2
}

# Counts test cases (one per TAP line) from automake's .trs files.
summarize() {
	pass=$(cat $(find . -name '*.trs') 2>/dev/null | grep -c '^:test-result: PASS' || true)
	fail=$(cat $(find . -name '*.trs') 2>/dev/null | grep -c -E '^:test-result: (FAIL|XPASS|ERROR)' || true)
	skip=$(cat $(find . -name '*.trs') 2>/dev/null | grep -c '^:test-result: SKIP' || true)
	xfail=$(cat $(find . -name '*.trs') 2>/dev/null | grep -c '^:test-result: XFAIL' || true)
	# a suite that ran nothing has not passed
	if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
		echo "no test ran" >&2
		fail=1
	fi
	[ "$skip" -eq 0 ] || echo "$skip skipped"
	[ "$xfail" -eq 0 ] || echo "$xfail known shortcomings (TODO in the TAP output)"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

install_packages
build
case "$cmd" in
demo)
	capture=${DEMO_CAPTURE:-captures/scepclient-post-enroll.pcap}
	# run from the source tree, so the command shown is one to copy
	cd "$top"
	echo "scepdump is built: $BUILD_DIR/src/scepdump (run it from $top, or install it with: make -C $BUILD_DIR install)" >&2
	set -- "$BUILD_DIR/src/scepdump" -r "$capture" --key captures/keys/ca.key \
		--key captures/keys/scepclient-post-enroll.key
	echo "+ $*" >&2
	"$@"
	;;
test)
	status=0
	make -j"$(nproc)" check >&2 || status=$?
	if [ $status -ne 0 ]; then
		for f in $(find . -name '*.log' ! -name 'config.log'); do
			grep -l -E '^(not ok|ERROR)' "$f" >/dev/null 2>&1 && { echo "--- $f" >&2; grep -E '^(not ok|#|ERROR)' "$f" | head -40 >&2; }
		done
	fi
	summarize
	;;
esac
