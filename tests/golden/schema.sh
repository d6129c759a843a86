#!/bin/sh
# Checks every JSON line of the golden outputs (tests/golden/*.json) against
# doc/scepdump.schema.json, so a field sink_json.c emits but the schema does
# not describe (or a wrong type, a bad timestamp) fails. Prints TAP, one
# line per golden file. The trailing "exit N" line and stderr lines
# ("scepdump: ...") that run.sh appends are skipped, and so are the goldens
# of TESTLIST entries run with --help or -V (text, whatever --json says).
#   SRCDIR    source tree root (default: two levels above this script)
#   SCHEMA    the schema (default: $SRCDIR/doc/scepdump.schema.json)
#   PYTHON    python3 with the jsonschema module (Debian: python3-jsonschema)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCHEMA=${SCHEMA:-$SRCDIR/doc/scepdump.schema.json}
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import jsonschema' >/dev/null 2>&1; then
	echo "1..0 # SKIP python3-jsonschema not installed"
	exit 0
fi

exec "$PYTHON" - "$SCHEMA" "$SRCDIR/tests/golden" <<'PYEOF'
import glob
import json
import os
import sys

import jsonschema

schema_path, gdir = sys.argv[1], sys.argv[2]
files = sorted(glob.glob(os.path.join(gdir, "*.json")))
TEXT_ONLY = {"-h", "--help", "-V", "--version"}
not_json = set()
try:
    with open(os.path.join(gdir, "TESTLIST"), encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words and not words[0].startswith("#") and TEXT_ONLY & set(words[1:]):
                not_json.add(words[0] + ".json")
except OSError:
    pass
print("1..%d" % len(files))
try:
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
except Exception as e:  # schema unreadable: every file fails, say why once
    print("# %s: %s" % (schema_path, e))
    for n, path in enumerate(files, 1):
        print("not ok %d - %s" % (n, os.path.basename(path)))
    sys.exit(1)


def explain(err):
    """The errors worth showing. For a oneOf, drop the branches that clearly
    were not meant: a line type other than the line's "type" ("'summary'
    was expected"), or a value of another JSON type (null for an object,
    integer for a name)."""
    if err.validator != "oneOf" or not err.context:
        return [err]
    branches = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def not_meant(subs):
        if not err.absolute_path and any(list(s.absolute_path) == ["type"] for s in subs):
            return True
        return all(s.validator == "type" and s.absolute_path == err.absolute_path for s in subs)

    keep = [s for subs in branches.values() if not not_meant(subs) for s in subs]
    if not keep:
        return [err]
    out = []
    for s in keep:
        out.extend(explain(s))
    return out


def where(err):
    p = "".join("[%d]" % x if isinstance(x, int) else "." + str(x)
                for x in err.absolute_path)
    return p or "(line)"


failed = 0
for n, path in enumerate(files, 1):
    name = os.path.basename(path)
    if name in not_json:
        print("ok %d - %s # SKIP --help/-V print text" % (n, name))
        continue
    diags = []
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    for ln, line in enumerate(lines, 1):
        if not line or line.startswith("scepdump:"):
            continue
        if line.startswith("exit ") and line[5:].isdigit():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            diags.append("line %d: not JSON: %s" % (ln, e))
            continue
        for err in validator.iter_errors(obj):
            for e in explain(err):
                msg = e.message
                if len(msg) > 200:
                    msg = msg[:200] + "..."
                diags.append("line %d: %s: %s" % (ln, where(e), msg))
    if diags:
        failed += 1
        print("not ok %d - %s" % (n, name))
        for d in diags[:20]:
            print("# " + d)
        if len(diags) > 20:
            print("# ... %d more" % (len(diags) - 20))
    else:
        print("ok %d - %s" % (n, name))
sys.exit(1 if failed else 0)
PYEOF
