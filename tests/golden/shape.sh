#!/bin/sh
# The shape of the output, over every golden file and a few runs: the JSON
# summary's counts agree with the objects printed (with what it says it did
# not list), the text listing keeps within 120 columns (no -v), text
# times follow TZ and name their zone, as tcpdump's do, and the README's jq
# recipe finds every failure. Prints TAP.
#   SRCDIR    source tree root (default: two levels above this script)
#   SCEPDUMP  the binary (default: $SRCDIR/src/scepdump)
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
LC_ALL=C
export LC_ALL
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..6"

python3 - "$SRCDIR/tests/golden" <<'PYEOF'
import collections, glob, json, os, re, sys

gdir = sys.argv[1]
verbose = set()
with open(os.path.join(gdir, "TESTLIST"), encoding="utf-8") as f:
    for line in f:
        w = line.split()
        if w and not w[0].startswith("#") and ("-v" in w[1:] or "--verbose" in w[1:]):
            verbose.add(w[0])

# 1: counts. Objects of each kind, plus not_listed, make the summary's
# figures, per verdict too; with --verdict, the objects are as many as
# the summary says it showed.
bad = []
for path in sorted(glob.glob(os.path.join(gdir, "*.json"))):
    objs = []
    for line in open(path, encoding="utf-8"):
        try:
            objs.append(json.loads(line))
        except ValueError:
            pass
    sums = [o for o in objs if isinstance(o, dict) and o.get("type") == "summary"]
    if len(sums) != 1 or "transactions" not in sums[0]:
        continue
    s = sums[0]
    nl = s.get("not_listed", {})
    if "shown" in s:
        # --verdict/--failed: only the chosen ones are objects
        n = len([o for o in objs if isinstance(o, dict) and o.get("type") in ("transaction", "endpoint")])
        if n != s["shown"]:
            bad.append("%s: %d objects, summary says %d shown" % (os.path.basename(path), n, s["shown"]))
        continue
    for kind, key, vkey in (("transaction", "transactions", "verdicts"),
                            ("endpoint", "endpoint_groups", "endpoint_group_verdicts")):
        listed = [o for o in objs if isinstance(o, dict) and o.get("type") == kind]
        if len(listed) + nl.get(key, 0) != s[key]:
            bad.append("%s: %d %s objects + %d not listed, summary says %s %d" %
                       (os.path.basename(path), len(listed), kind, nl.get(key, 0), key, s[key]))
        tally = collections.Counter(o["verdict"] for o in listed if o.get("verdict"))
        tally.update(nl.get(vkey, {}))
        if vkey in s or tally:
            if dict(tally) != s.get(vkey, {}):
                bad.append("%s: %s of the objects %s, summary %s" %
                           (os.path.basename(path), vkey, dict(tally), s.get(vkey, {})))
print(("ok 1" if not bad else "not ok 1") + " - JSON summary counts agree with the objects printed")
for b in bad[:10]:
    print("# " + b)

# 2: width. Every line of a text golden run without -v within 120
# columns, unless it is one word too long to break (a URL).
bad = []
for path in sorted(glob.glob(os.path.join(gdir, "*.out"))):
    name = os.path.basename(path)[:-4]
    if name in verbose:
        continue
    for i, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
        line = re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip("\n"))
        words = line.split()
        if len(line) <= 120 or line.startswith(("scepdump:", "usage:", "exit ")):
            continue
        # one word too long to break (a URL, a base64 run) may pass
        if len(words) > 1 and max(len(w) for w in words) < 100:
            bad.append("%s:%d: %d columns" % (name, i, len(line)))
print(("ok 2" if not bad else "not ok 2") + " - text listings keep within 120 columns")
for b in bad[:10]:
    print("# " + b)
PYEOF

# 3-5: TZ. The capture's first exchange is at 16:30:21 UTC on 2026-11-25;
# the tz database puts Berlin at UTC+1 (CET) and New York at UTC-5 (EST)
# then.
cap=captures/wrong-challenge.pcap
n=2
for tz in "UTC 2026-11-25 16:30:21.655 UTC" "Europe/Berlin 2026-11-25 17:30:21.655 CET" \
	"America/New_York 2026-11-25 11:30:21.655 EST"; do
	n=$((n + 1))
	zone=${tz%% *}
	want=${tz#* }
	got=$(cd "$SRCDIR" && TZ=$zone "$SCEPDUMP" -r "$cap" 2>&1 | head -n 1 | cut -c1-${#want})
	if [ "$got" = "$want" ]; then
		echo "ok $n - TZ=$zone: $want"
	else
		echo "not ok $n - TZ=$zone: got '$got', want '$want'"
	fi
done

# 6: the README's "every failure" jq recipe on a capture whose server
# answered HTTP 500 five times (three PKIOperations, a GetNextCACert and an
# unknown operation: two of them endpoint groups). The 5 is counted in the
# capture's own bytes, not by scepdump.
cap=captures/garbage-http500.pcap
want=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().count(b"HTTP/1.1 500 "))' "$SRCDIR/$cap")
if ! command -v jq >/dev/null 2>&1; then
	echo "ok 6 # SKIP jq not installed"
else
	got=$(cd "$SRCDIR" && "$SCEPDUMP" -r "$cap" --json | jq -c 'select(.type=="transaction" or .type=="endpoint")
		| select(.verdict != null and .verdict != "ISSUED" and .verdict != "DELIVERED")
		| {type, verdict, reason, advice, transaction_id, client, server}' | wc -l)
	if [ "$want" = 5 ] && [ "$got" = "$want" ]; then
		echo "ok 6 - README jq recipe: $got failures, the capture holds $want HTTP 500 responses"
	else
		echo "not ok 6 - README jq recipe: $got failures, the capture holds $want HTTP 500 responses"
	fi
fi
