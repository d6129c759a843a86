#!/bin/sh
# The memory budget against hostile traffic, small scale (a 16 MiB budget):
# see tests/hostile/memory.py. 'make hostile' runs the large scale.
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/memory.py" --scale "${MEMORY_SCALE:-small}"
