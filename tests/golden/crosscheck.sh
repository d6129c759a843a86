#!/bin/sh
# Cross-check against third-party tools: captures/README.md (and
# captures/tls/README.md for HTTPS and HTTP/2) lists, for
# every PKIOperation in every capture, the transactionID, messageType,
# pkiStatus, failInfo and issued serial as tshark and openssl decoded them
# (captures/describe.sh), never scepdump. scepdump --json must agree on
# every row. One TAP line per capture. The NDES-shaped captures
# (captures/describe-ndes.sh) list every CertRep instead: its
# transactionID, senderNonce, pkiStatus and failInfo as openssl read them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$here/../.." && pwd)}
SCEPDUMP=${SCEPDUMP:-$SRCDIR/src/scepdump}
PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 not installed"
	exit 0
fi
cd "$SRCDIR" || exit 1
exec "$PYTHON" - "$SCEPDUMP" <<'PY'
import glob, json, os, re, subprocess, sys

scepdump = sys.argv[1]
# captures/tls/README.md holds the HTTPS and HTTP/2 captures, decoded by
# tshark with their key logs: the decrypted results must agree too.
readme = "".join(open(f, encoding="utf-8").read() for f in ("captures/README.md", "captures/tls/README.md")
                 if os.path.exists(f))
sections = re.split(r"^## `([^`]+)`\s*$", readme, flags=re.M)
row_re = re.compile(r"^\| (\d+) \| (GET|POST) \| `([^`]*)` \| (\d+) (\w+) \| (\S+)(?: \((\w+)\))? \| (?:(\d+) \((\w+)\)|-) \| (?:([0-9]+) `[^`]*`|-) \|$", re.M)
checks = []
for name, body in zip(sections[1::2], sections[2::2]):
    rows = row_re.findall(body)
    # the same bytes as tls13-h2-enroll.pcap, there to be read without keys
    if rows and os.path.exists("captures/" + name) and "nokeys" not in name:
        checks.append((name, rows))
ndes_re = re.compile(r"^  - response messageType 3 \(CertRep\), transactionID `([^`]+)`, senderNonce ([0-9a-f]+), "
                     r"recipientNonce [0-9a-f]+, pkiStatus \d+ \((\w+)\)(?:, failInfo \d+ \((\w+)\))?", re.M)
ndes = []
for name, body in zip(*[iter(re.split(r"^### `(ndes-[^`]+)`\s*$", readme, flags=re.M)[1:])] * 2):
    reps = ndes_re.findall(body.split("\n### ")[0])
    if reps and os.path.exists("captures/" + name):
        ndes.append((name, reps))
print("1..%d" % (len(checks) + len(ndes)))
for n, (name, rows) in enumerate(checks, 1):
    base = re.sub(r"\.pcap(ng)?$", "", name)
    # the clients' keys open the CertReps: those named after the capture,
    # or after the capture it was made from (name-secrets.pcapng)
    keys = ["captures/keys/ca.key"] + sorted(
        k for k in glob.glob("captures/keys/*.key")
        if os.path.basename(k)[:-4].startswith(base) or base.startswith(os.path.basename(k)[:-4] + "-"))
    cmd = [scepdump, "--json", "-r", "captures/" + name]
    for k in keys:
        cmd += ["--key", k]
    for kl in sorted(glob.glob("captures/keys/*.keylog")):
        if base.startswith(os.path.basename(kl)[:-len(".keylog")]):
            cmd += ["--keylog", kl]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    msgs = []   # (txid, request message, reply message) per PKIOperation
    for line in out.splitlines():
        o = json.loads(line)
        for e in o.get("events", []):
            if e["operation"] == "PKIOperation":
                rq = e["request"].get("pki_message") or {}
                rp = (e["response"] or {}).get("pki_message") or {}
                msgs.append((rq.get("transaction_id") or rp.get("transaction_id"), rq, rp))
    problems = []
    for conn, method, txid, mt_num, mt_name, status, status_name, fi_num, fi_name, serial in rows:
        cand = [m for m in msgs if m[0] == txid]
        if not cand:
            problems.append("%s: not found" % txid)
            continue
        txid_, rq, rp = cand.pop(0)
        msgs.remove((txid_, rq, rp))
        if rq.get("message_type") != mt_name:
            problems.append("%s: messageType %s, openssl says %s" % (txid, rq.get("message_type"), mt_name))
        if status_name and rp.get("pki_status") != status_name:
            problems.append("%s: pkiStatus %s, openssl says %s" % (txid, rp.get("pki_status"), status_name))
        if fi_name and rp.get("fail_info") != fi_name:
            problems.append("%s: failInfo %s, openssl says %s" % (txid, rp.get("fail_info"), fi_name))
        if serial:
            got = (rp.get("issued") or {}).get("serial")
            if got is None or int(got, 16) != int(serial, 10):   # describe.sh prints decimal
                problems.append("%s: issued serial %s, openssl says %s" % (txid, got, serial))
    if problems:
        print("not ok %d - %s (%d messages)" % (n, name, len(rows)))
        for p in problems:
            print("# " + p)
    else:
        print("ok %d - %s: %d PKIOperations agree with openssl/tshark" % (n, name, len(rows)))

for n, (name, reps) in enumerate(ndes, len(checks) + 1):
    out = subprocess.run([scepdump, "--json", "-r", "captures/" + name], capture_output=True, text=True).stdout
    got = []
    for line in out.splitlines():
        for e in json.loads(line).get("events", []):
            rp = (e.get("response") or {}).get("pki_message") or {}
            if e["operation"] == "PKIOperation" and rp.get("message_type") == "CertRep":
                got.append((rp.get("transaction_id"), (rp.get("sender_nonce") or "").lower(),
                            rp.get("pki_status"), rp.get("fail_info") or ""))
    want = sorted(reps)
    if sorted(got) == want:
        print("ok %d - %s: %d CertReps agree with openssl/tshark" % (n, name, len(reps)))
    else:
        print("not ok %d - %s (%d CertReps)" % (n, name, len(reps)))
        for w in want:
            if w not in got:
                print("# openssl says %s, scepdump does not" % (w,))
        for g in got:
            if g not in want:
                print("# scepdump says %s, openssl does not" % (g,))
PY
