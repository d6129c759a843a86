#!/usr/bin/env python3
"""check.py - the layout tells the architecture, and this keeps it true.

Four rules, one TAP line each, plus the folder graph as a comment:
 1. a private header (one beside its .c) is included only from its own
    folder; what crosses folders is a contract in include/;
 2. nothing in dissectors/ includes a header under src/;
 3. the folders' dependencies have no circle: folder A depends on folder B
    when an object of A uses a symbol an object of B defines (nm over the
    built library), so a call through a header counts, not just its text
    (which is why no two sources may share a file name);
 4. no two files depend on each other, directly or around a circle, by
    the same measure: a file's callers sit above it.
Usage: check.py SRCDIR LIBRARY (libscepdump.a of a build)."""
import os
import re
import subprocess
import sys

top, lib = sys.argv[1], sys.argv[2]
STAGES = ("src", "dissectors")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    for stage in STAGES:
        for d, _, files in os.walk(os.path.join(top, stage)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), top)


def folder(path):
    return os.path.dirname(path)


def resolve(src, name):
    """Where the compiler finds "name" from src: its own folder, then include/."""
    here = os.path.normpath(os.path.join(folder(src), name))
    if os.path.exists(os.path.join(top, here)):
        return here
    inc = os.path.join("include", name)
    if os.path.exists(os.path.join(top, inc)):
        return inc
    return None


problems = {1: [], 2: []}
for src in sources():
    text = open(os.path.join(top, src), encoding="utf-8", errors="replace").read()
    for name in INCLUDE.findall(text):
        if name == "config.h":
            continue
        hdr = resolve(src, name)
        if hdr is None:
            problems[1].append("%s: \"%s\" not found beside it or in include/" % (src, name))
        elif not hdr.startswith("include/") and folder(hdr) != folder(src):
            problems[1].append("%s includes %s, private to %s" % (src, hdr, folder(hdr)))
        if src.startswith("dissectors/") and hdr and hdr.startswith("src/"):
            problems[2].append("%s includes %s" % (src, hdr))

# object -> folder, from the sources the library is built of
obj_folder, same_name = {}, []
for src in sources():
    if src.endswith(".c"):
        obj = os.path.basename(src)[:-2] + ".o"
        if obj in obj_folder:
            same_name.append("%s and %s/%s: the library's objects cannot be told apart"
                             % (src, obj_folder[obj], obj[:-2] + ".c"))
        obj_folder[obj] = folder(src)
nm = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
defined, used = {}, []
for line in nm.splitlines():
    m = re.match(r"^[^:]+:([^:]+\.o):\s*(\S*)\s+([A-Za-z])\s+(\S+)$", line)
    if not m:
        continue
    obj, _, kind, sym = m.groups()
    f = obj_folder.get(obj)
    if f is None:
        continue
    if kind in "TDBR":
        defined[sym] = (f, obj)
    elif kind == "U":
        used.append((f, obj, sym))
edges, file_edges = {}, {}
for f, obj, sym in used:
    g = defined.get(sym)
    if g and g[0] != f:
        edges.setdefault(f, set()).add(g[0])
    if g and g[1] != obj:
        file_edges.setdefault(obj, set()).add(g[1])


def cycle(edges):
    """One circle in edges as a list of nodes, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not state.get(m):
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if not state.get(n):
            c = visit(n)
            if c:
                return c
    return None


print("1..4")
for n, what in ((1, "private headers are included only beside them"),
                (2, "nothing in dissectors/ includes a header of src/")):
    print(("ok" if not problems[n] else "not ok") + " %d - %s" % (n, what))
    for p in problems[n]:
        print("# " + p)
c = cycle(edges)
print(("ok" if not c and not same_name else "not ok") + " 3 - the folders' dependencies have no circle")
if c:
    print("# circle: " + " -> ".join(c))
for p in same_name:
    print("# " + p)
c = cycle(file_edges)
print(("ok" if not c else "not ok") + " 4 - no two files depend on each other")
if c:
    print("# circle: " + " -> ".join(c))
for f in sorted(edges):
    print("# %s -> %s" % (f, ", ".join(sorted(edges[f]))))
