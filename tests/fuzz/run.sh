#!/bin/sh
# run.sh [SECONDS] - builds the fuzz harnesses (build.sh) and runs each for
# SECONDS (default 20) on a copy of its seed corpus, one process at a time;
# prints TAP. A finding is copied to $FUZZ_CRASH_DIR (default ./fuzz-crashes)
# and named in the 'not ok' line; its log is kept next to it. Reproducers
# saved in tests/fuzz/crashes/<target>-* are run first, as regressions.
#
# Environment: FUZZ_BUILD_DIR (default ./fuzz-build), FUZZ_CRASH_DIR,
# FUZZ_TARGETS (space-separated subset, default all), FUZZ_ARGS (more
# libFuzzer flags), KEEP_CORPUS=1 keeps the grown corpora in the temp dir.
set -u

here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-20}
build=${FUZZ_BUILD_DIR:-./fuzz-build}
crashes=${FUZZ_CRASH_DIR:-./fuzz-crashes}

case "$seconds" in
''|*[!0-9]*) echo "run.sh: SECONDS must be a number, not '$seconds'" >&2; exit 2 ;;
esac

# Inputs longer than this are not generated (seeds must fit: libFuzzer cuts
# longer ones). PKCS#7 and single exchanges are a few kB; a conversation or
# a capture is bigger; a device log's seeds are a few kB, room to grow,
# but an .evtx is at least a 4 KiB header and one 64 KiB chunk.
max_len() {
	case "$1" in
	fuzz_pkcs7) echo 16384 ;;
	fuzz_scep_exchange) echo 16384 ;;
	fuzz_http1) echo 32768 ;;
	fuzz_http2) echo 32768 ;;
	fuzz_tls) echo 65536 ;;
	fuzz_packets) echo 65536 ;;
	fuzz_devlog) echo 73728 ;;
	*) echo 8192 ;;
	esac
}

if ! "$here/build.sh" "$build" >"${TMPDIR:-/tmp}/scepdump-fuzz-build.$$.log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - fuzz build failed"
	sed 's/^/# /' "${TMPDIR:-/tmp}/scepdump-fuzz-build.$$.log" | tail -n 30
	rm -f "${TMPDIR:-/tmp}/scepdump-fuzz-build.$$.log"
	exit 1
fi
rm -f "${TMPDIR:-/tmp}/scepdump-fuzz-build.$$.log"

targets=${FUZZ_TARGETS:-$(cd "$here" && ls fuzz_*.c | sed 's/\.c$//')}
n=$(echo $targets | wc -w)
work=$(mktemp -d "${TMPDIR:-/tmp}/scepdump-fuzz.XXXXXX")
[ "${KEEP_CORPUS:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$crashes"

# Leaks are findings too; UBSan aborts (build.sh) so libFuzzer sees it.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
# The harnesses find their key files here.
SRCDIR=$(cd "$here/../.." && pwd)
export SRCDIR

echo "1..$n"
k=0
failed=0
for t in $targets; do
	k=$((k + 1))
	corpus="$work/$t/corpus"
	mkdir -p "$corpus" "$work/$t/artifacts"
	if [ -d "$here/corpus/$t" ]; then
		cp -pR "$here/corpus/$t/." "$corpus/"
	fi
	# saved reproducers run first, as regression inputs
	for r in "$here/crashes/$t"-*; do
		[ -f "$r" ] && cp -p "$r" "$corpus/"
	done
	log="$work/$t/log"
	# shellcheck disable=SC2086
	"$build/$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
		-timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/$t/artifacts/" ${FUZZ_ARGS:-} \
		"$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
	ft=$(sed -n 's/.* ft: \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
	found=$(ls "$work/$t/artifacts/" 2>/dev/null | head -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
		echo "ok $k - $t (${runs:-?} runs, ${eps:-?} exec/s, cov: ${cov:-?}, ft: ${ft:-?}, no crash)"
		continue
	fi
	failed=$((failed + 1))
	if [ -n "$found" ]; then
		cp -p "$work/$t/artifacts/$found" "$crashes/$t-$found"
		cp -p "$log" "$crashes/$t-$found.log"
		echo "not ok $k - $t: $found (reproducer $crashes/$t-$found)"
	else
		cp -p "$log" "$crashes/$t-exit$rc.log"
		echo "not ok $k - $t: exit status $rc, no reproducer (log $crashes/$t-exit$rc.log)"
	fi
	# the sanitizer's summary and the top of the stack
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)|^ +#[0-9]+ ' "$log" |
		grep -Ev ' in (fuzzer::|__sanitizer|__asan|__ubsan|(m|c|re)alloc |free |LLVMFuzzer)' |
		head -n 14 | sed 's/^/# /'
done
[ "$failed" -eq 0 ]
