#!/bin/sh
# The layout rules of tests/layout/check.py over the built library (TAP).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
lib=${LIBSCEPDUMP:-$(dirname "${SCEPDUMP:-$SRCDIR/src/scepdump}")/../libscepdump.a}
exec python3 "$here/check.py" "$SRCDIR" "$lib"
