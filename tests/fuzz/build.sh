#!/bin/sh
# build.sh [OUTDIR] - builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c)
# with clang, AddressSanitizer and UBSan into OUTDIR (default ./fuzz-build).
# The program's code is compiled with -fsanitize=fuzzer-no-link so libFuzzer
# sees its coverage: the sources of libscepdump.a as Makefile.am lists them
# (exactly what the program runs; a half-written file not yet listed there
# does not break the fuzz build), or, when that list cannot be read, every
# .c under src/ but main.c and under dissectors/. Objects are rebuilt only
# when a source or header is newer. CC, JOBS and EXTRA_CFLAGS may be set in
# the environment.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-./fuzz-build}
CC=${CC:-clang}
JOBS=${JOBS:-2}
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

command -v "$CC" >/dev/null 2>&1 || {
	echo "build.sh: $CC not found: install it with 'apt-get install clang'" >&2
	exit 2
}
PKGS="libpcap libcrypto libnghttp2 htp zlib jansson"
pkg-config --exists $PKGS || {
	echo "build.sh: missing development packages: apt-get install libpcap-dev libssl-dev libnghttp2-dev libhtp-dev zlib1g-dev libjansson-dev pkg-config" >&2
	exit 2
}
# libevtx is optional, as in configure: with it the .evtx reader is fuzzed too
EVTX_DEF=""
if pkg-config --exists libevtx libbfio; then
	PKGS="$PKGS libevtx libbfio"
	EVTX_DEF="-DHAVE_LIBEVTX"
fi
PKG_CFLAGS=$(pkg-config --cflags $PKGS)
PKG_LIBS=$(pkg-config --libs $PKGS)

# The same language and include flags as Makefile.am, then the sanitizers.
# UBSan findings abort so libFuzzer reports them as crashes.
BASE="-std=gnu11 -D_GNU_SOURCE $EVTX_DEF -I$top/include $PKG_CFLAGS -g -O1 -fno-omit-frame-pointer \
-fno-sanitize-recover=undefined"
# EXTRA_CFLAGS come last so they can take a check back (-fno-sanitize=...).
LIB_SAN="-fsanitize=fuzzer-no-link,address,undefined ${EXTRA_CFLAGS:-}"
FUZZ_SAN="-fsanitize=fuzzer,address,undefined ${EXTRA_CFLAGS:-}"

# Does the toolchain have libFuzzer at all? (Debian: libclang-rt-14-dev or
# the compiler-rt package of the clang in use.)
probe="$out/obj/probe"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe.c"
"$CC" $FUZZ_SAN "$probe.c" -o "$probe" 2>"$probe.log" || {
	echo "build.sh: $CC cannot link libFuzzer (see $probe.log): apt-get install libclang-rt-14-dev" >&2
	exit 2
}

# Other flags than last time: rebuild everything.
if [ "$(cat "$out/obj/flags" 2>/dev/null)" != "$CC $BASE $LIB_SAN" ]; then
	rm -f "$out"/obj/*.o
	echo "$CC $BASE $LIB_SAN" >"$out/obj/flags"
fi
headers_newest=$(find "$top/include" "$top/src" "$top/dissectors" "$here" -name '*.h' -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -n 1 | cut -d" " -f2-)

# List what needs compiling, then compile it JOBS at a time.
todo="$out/obj/todo"
: >"$todo"
objs=""
sources=$(sed -n '/^libscepdump_a_SOURCES[ 	]*=/,/[^\\]$/p' "$top/Makefile.am" |
	sed 's/^libscepdump_a_SOURCES[ 	]*=//; s/\\$//' | tr -s ' \t' '\n\n' | grep '\.c$' |
	sed "s|^|$top/|") || sources=""
[ -n "$sources" ] || { echo "build.sh: no sources in Makefile.am" >&2; exit 1; }
for src in $sources; do
	case "$src" in */src/main.c) continue ;; esac
	rel=${src#"$top"/}
	obj="$out/obj/$(echo "$rel" | tr / _).o"
	objs="$objs $obj"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$headers_newest" -nt "$obj" ] ||
	   [ "$0" -nt "$obj" ]; then
		echo "$src $obj" >>"$todo"
	fi
done
if [ -s "$todo" ]; then
	# shellcheck disable=SC2016
	xargs -P "$JOBS" -n 2 sh -c 'echo "  CC      ${0#'"$top"'/}"; '"$CC"' '"$BASE $LIB_SAN"' -c "$0" -o "$1"' <"$todo"
fi

for h in "$here"/fuzz_*.c; do
	name=$(basename "$h" .c)
	echo "  CCLD    $name"
	"$CC" $BASE $FUZZ_SAN "$h" $objs $PKG_LIBS -o "$out/$name"
done
echo "build.sh: harnesses in $out"
