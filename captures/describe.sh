#!/bin/bash
# describe.sh - print the facts of SCEP captures as Markdown, independently of
# scepdump: TCP streams come from `tshark -z follow,tcp,raw`, HTTP/1.1 is split
# by a few lines of Python, the CMS/PKCS#7 structure is walked by a minimal DER
# reader, and all cryptography (decrypting request and CertRep envelopes,
# printing certificates and CSRs) is done by `openssl` (legacy provider for DES).
#
# usage: captures/describe.sh [--keys DIR] [--save-signers] FILE.pcap[ng]...
#   --keys DIR       where ca.pem/ca.key and the client *.key files are
#                    (default: keys/ next to this script)
#   --save-signers   write every self-signed request signer certificate found
#                    on the wire to KEYS/<client key name>.signer.pem
# needs: tshark, capinfos, openssl (3.x), python3 (stdlib only)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 - "$HERE" "$@" <<'PYEOF'
import base64, hashlib, os, re, subprocess, sys, tempfile, urllib.parse

HERE = sys.argv[1]
args = sys.argv[2:]
keysdir = os.path.join(HERE, "keys")
save_signers = False
files = []
while args:
    a = args.pop(0)
    if a == "--keys":
        keysdir = args.pop(0)
    elif a == "--save-signers":
        save_signers = True
    else:
        files.append(a)
if not files:
    sys.exit("usage: describe.sh [--keys DIR] [--save-signers] FILE...")

TMP = tempfile.mkdtemp(prefix="scepdescribe.")
OSSL_PROV = ["-provider", "default", "-provider", "legacy"]

def run(cmd, inp=None):
    p = subprocess.run(cmd, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr

# ---------------------------------------------------------------- DER reader
class Node:
    __slots__ = ("cls", "cons", "tag", "hdr", "val", "raw", "kids")
    def __init__(s, cls, cons, tag, hdr, val, raw):
        s.cls, s.cons, s.tag, s.hdr, s.val, s.raw = cls, cons, tag, hdr, val, raw
        s.kids = None
    def children(s):
        if s.kids is None:
            s.kids = parse_all(s.val) if s.cons else []
        return s.kids

def parse_one(b, i=0):
    start = i
    t = b[i]; i += 1
    cls, cons, tag = t >> 6, bool(t & 0x20), t & 0x1f
    if tag == 0x1f:
        tag = 0
        while True:
            c = b[i]; i += 1
            tag = (tag << 7) | (c & 0x7f)
            if not c & 0x80:
                break
    l = b[i]; i += 1
    if l == 0x80:
        raise ValueError("indefinite length (BER) not supported by this reader")
    if l & 0x80:
        n = l & 0x7f
        l = int.from_bytes(b[i:i + n], "big"); i += n
    if i + l > len(b):
        raise ValueError("truncated DER")
    return Node(cls, cons, tag, b[start:i], b[i:i + l], b[start:i + l]), i + l

def parse_all(b):
    out, i = [], 0
    while i < len(b):
        n, i = parse_one(b, i)
        out.append(n)
    return out

def oid_str(v):
    parts, n = [], 0
    for c in v:
        n = (n << 7) | (c & 0x7f)
        if not c & 0x80:
            parts.append(n); n = 0
    first = parts[0]
    x, y = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return ".".join(str(p) for p in [x, y] + parts[1:])

OIDS = {
    "1.2.840.113549.1.7.1": "data", "1.2.840.113549.1.7.2": "signedData",
    "1.2.840.113549.1.7.3": "envelopedData",
    "1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512",
    "1.2.840.113549.1.1.1": "rsaEncryption", "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption", "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.3.14.3.2.7": "des-cbc", "1.2.840.113549.3.7": "des-ede3-cbc",
    "2.16.840.1.101.3.4.1.2": "aes-128-cbc", "2.16.840.1.101.3.4.1.22": "aes-192-cbc",
    "2.16.840.1.101.3.4.1.42": "aes-256-cbc",
}
SCEP_ATTR = {
    "2.16.840.1.113733.1.9.2": "messageType", "2.16.840.1.113733.1.9.3": "pkiStatus",
    "2.16.840.1.113733.1.9.4": "failInfo", "2.16.840.1.113733.1.9.5": "senderNonce",
    "2.16.840.1.113733.1.9.6": "recipientNonce", "2.16.840.1.113733.1.9.7": "transactionID",
    "1.3.6.1.5.5.7.24.1": "failInfoText",
    "1.2.840.113549.1.9.3": "contentType", "1.2.840.113549.1.9.4": "messageDigest",
    "1.2.840.113549.1.9.5": "signingTime",
}
MSGTYPE = {"3": "CertRep", "17": "RenewalReq", "18": "UpdateReq", "19": "PKCSReq",
           "20": "CertPoll", "21": "GetCert", "22": "GetCRL"}
STATUS = {"0": "SUCCESS", "2": "FAILURE", "3": "PENDING"}
FAILINFO = {"0": "badAlg", "1": "badMessageCheck", "2": "badRequest", "3": "badTime", "4": "badCertId"}
oname = lambda o: OIDS.get(o, o)

def parse_signed(der):
    """pkiMessage (ContentInfo/SignedData) -> dict"""
    ci = parse_one(der)[0].children()
    if oid_str(ci[0].val) != "1.2.840.113549.1.7.2":
        raise ValueError("not signedData: " + oid_str(ci[0].val))
    sd = ci[1].children()[0].children()
    idx = 1
    digest_algs = [oname(oid_str(a.children()[0].val)) for a in sd[idx].children()]; idx += 1
    eci = sd[idx].children(); idx += 1
    econtent = None
    if len(eci) > 1:
        oc = eci[1].children()[0]
        econtent = oc.val if not oc.cons else b"".join(k.val for k in oc.children())
    certs = []
    while idx < len(sd) and sd[idx].cls == 2:
        if sd[idx].tag == 0:
            certs = [c.raw for c in sd[idx].children()]
        idx += 1
    sis = sd[idx].children()
    r = {"digestAlgorithms": digest_algs, "eContentType": oname(oid_str(eci[0].val)),
         "eContent": econtent, "certs": certs, "attrs": {}, "signers": []}
    for si in sis:
        f = si.children()
        j = 2
        dig = oname(oid_str(f[j].children()[0].val)); j += 1
        attrs = {}
        if f[j].cls == 2 and f[j].tag == 0:
            for a in f[j].children():
                ac = a.children()
                o = oid_str(ac[0].val)
                v = ac[1].children()[0]
                name = SCEP_ATTR.get(o, o)
                if v.tag in (19, 12, 22, 20):          # Printable/UTF8/IA5/T61
                    attrs[name] = v.val.decode("latin-1")
                elif v.tag == 4:
                    attrs[name] = v.val.hex()
                elif v.tag == 6:
                    attrs[name] = oname(oid_str(v.val))
                else:
                    attrs[name] = v.val.decode("latin-1", "replace")
            j += 1
        sig = oname(oid_str(f[j].children()[0].val))
        sid = f[1]
        r["signers"].append({"digest": dig, "sigalg": sig,
                             "sid_serial": int.from_bytes(sid.children()[1].val, "big") if sid.tag == 16 else None})
        r["attrs"] = attrs
    return r

def parse_enveloped(der):
    ci = parse_one(der)[0].children()
    if oid_str(ci[0].val) != "1.2.840.113549.1.7.3":
        raise ValueError("not envelopedData")
    ed = ci[1].children()[0].children()
    j = 1
    if ed[j].cls == 2:
        j += 1                                        # originatorInfo
    ris = []
    for ri in ed[j].children():
        rc = ri.children()
        if ri.tag == 16 and rc[1].tag == 16:         # KeyTransRecipientInfo, issuerAndSerial
            ias = rc[1].children()
            ris.append({"issuer_der": ias[0].raw, "serial": int.from_bytes(ias[1].val, "big"),
                        "keyenc": oname(oid_str(rc[2].children()[0].val))})
        else:
            ris.append({"issuer_der": None, "serial": None, "keyenc": "?"})
    eci = ed[j + 1].children()
    cea = oname(oid_str(eci[1].children()[0].val))
    return {"recipients": ris, "cipher": cea}

def cert_info(der):
    tbs = parse_one(der)[0].children()[0].children()
    k = 1 if (tbs[0].cls == 2 and tbs[0].tag == 0) else 0
    serial = int.from_bytes(tbs[k].val, "big")
    issuer, subject, spki = tbs[k + 2].raw, tbs[k + 4].raw, tbs[k + 5].raw
    rc, out, _ = run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-issuer",
                      "-enddate", "-nameopt", "RFC2253"], der)
    txt = out.decode()
    g = lambda p: (re.search(p + r"=(.*)", txt) or [None, "?"])[1].strip()
    return {"serial": serial, "subject": g("subject"), "issuer": g("issuer"),
            "notAfter": g("notAfter"), "selfsigned": issuer == subject,
            "spki_sha": hashlib.sha256(spki).hexdigest(), "der": der,
            "issuer_der": issuer}

def pem(der, label="CERTIFICATE"):
    b = base64.b64encode(der).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(b[i:i + 64] for i in range(0, len(b), 64)), label)

# ---------------------------------------------------------------- keys
KEYS = {}      # spki sha256 -> key path
def load_keys():
    if not os.path.isdir(keysdir):
        return
    for fn in sorted(os.listdir(keysdir)):
        if not fn.endswith(".key"):
            continue
        p = os.path.join(keysdir, fn)
        rc, out, _ = run(["openssl", "pkey", "-in", p, "-pubout", "-outform", "DER"])
        if rc == 0:
            KEYS[hashlib.sha256(out).hexdigest()] = p
load_keys()
CA_KEY = os.path.join(keysdir, "ca.key")
CA_PEM = os.path.join(keysdir, "ca.pem")

def tmpfile(name, data):
    p = os.path.join(TMP, name)
    with open(p, "wb") as f:
        f.write(data)
    return p

def cms_decrypt(env_der, key, cert_der=None):
    e = tmpfile("env.der", env_der)
    cmd = ["openssl", "cms", "-decrypt", "-inform", "DER", "-binary", "-in", e, "-inkey", key] + OSSL_PROV
    if cert_der is not None:
        cmd += ["-recip", tmpfile("recip.pem", pem(cert_der).encode())]
    elif key == CA_KEY:
        cmd += ["-recip", CA_PEM]
    rc, out, err = run(cmd)
    if rc != 0:
        return None, err.decode().strip().splitlines()[-1:] or ["?"]
    return out, None

def csr_info(der):
    rc, out, _ = run(["openssl", "req", "-inform", "DER", "-noout", "-subject", "-text",
                      "-nameopt", "RFC2253"], der)
    t = out.decode()
    subj = (re.search(r"^subject=(.*)$", t, re.M) or [None, "?"])[1].strip()
    ch = re.search(r"challengePassword\s*:(.*)", t)
    return subj, (ch.group(1).strip() if ch else None)

# ---------------------------------------------------------------- capture -> HTTP
def capinfo(f):
    rc, out, _ = run(["capinfos", "-M", "-t", "-c", "-u", f])
    t = out.decode()
    g = lambda k: (re.search(k + r":\s*(.*)", t) or [None, "?"])[1].strip()
    return g("File type"), g("Number of packets"), g("Capture duration")

def streams(f):
    rc, out, _ = run(["tshark", "-r", f, "-T", "fields", "-E", "separator=|", "-e", "tcp.stream",
                      "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst",
                      "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack",
                      "-e", "tcp.flags.fin", "-e", "tcp.flags.reset"])
    st = {}
    for line in out.decode().splitlines():
        s, ip4, ip6, sp, d4, d6, dp, syn, ack, fin, rst = line.split("|")
        if s == "":
            continue
        e = st.setdefault(int(s), {"pkts": 0, "syn": False, "fin": 0, "rst": False})
        e["pkts"] += 1
        tr = lambda v: v in ("1", "True")
        if tr(syn) and not tr(ack):
            e["syn"] = True
            e["client"] = "%s:%s" % (ip4 or "[" + ip6 + "]", sp)
            e["server"] = "%s:%s" % (d4 or "[" + d6 + "]", dp)
        if "client" not in e:
            e["client"] = "%s:%s" % (ip4 or "[" + ip6 + "]", sp)
            e["server"] = "%s:%s" % (d4 or "[" + d6 + "]", dp)
        e["fin"] += tr(fin)
        e["rst"] |= tr(rst)
    return st

def follow(f, ids):
    cmd = ["tshark", "-r", f, "-q"]
    for i in ids:
        cmd += ["-z", "follow,tcp,raw,%d" % i]
    rc, out, _ = run(cmd)
    res, cur = {}, None
    for line in out.decode().splitlines():
        m = re.match(r"Filter: tcp.stream eq (\d+)", line)
        if m:
            cur = int(m.group(1)); res[cur] = [bytearray(), bytearray()]
            continue
        if cur is None or not line.strip() or line.startswith(("=", "Follow", "Node")):
            continue
        side = 1 if line.startswith("\t") else 0
        try:
            res[cur][side] += bytes.fromhex(line.strip())
        except ValueError:
            pass
    return res

def http_msgs(b, is_req):
    out, i = [], 0
    while i < len(b):
        h = b.find(b"\r\n\r\n", i)
        if h < 0:
            out.append({"incomplete": True, "raw": bytes(b[i:i + 80])}); break
        head = b[i:h].decode("latin-1").split("\r\n")
        hdrs = {}
        for l in head[1:]:
            if ":" in l:
                k, v = l.split(":", 1); hdrs[k.strip().lower()] = v.strip()
        i = h + 4
        body = b""
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            while True:
                e = b.find(b"\r\n", i)
                n = int(b[i:e].split(b";")[0], 16); i = e + 2
                body += b[i:i + n]; i += n + 2
                if n == 0:
                    break
        elif "content-length" in hdrs:
            n = int(hdrs["content-length"]); body = bytes(b[i:i + n]); i += n
        elif not is_req:
            body = bytes(b[i:]); i = len(b)
        out.append({"line": head[0], "hdrs": hdrs, "body": bytes(body)})
    return out

def qparam(uri, name):
    q = uri.split("?", 1)[1] if "?" in uri else ""
    for part in q.split("&"):
        k, _, v = part.partition("=")
        if k == name:
            return v
    return None

# ---------------------------------------------------------------- per capture
saved = []
def describe(f):
    name = os.path.basename(f)
    ftype, npk, dur = capinfo(f)
    st = streams(f)
    fl = follow(f, sorted(st))
    print("### `%s`\n" % name)
    print("- file: %s, %d bytes, %s packets, duration %s" % (ftype, os.path.getsize(f), npk, dur))
    conns = [s for s in sorted(st)]
    print("- TCP connections: %d (%d opened by SYN in the capture)" % (len(conns), sum(st[s]["syn"] for s in conns)))
    rows, pki = [], []
    for s in conns:
        c2s, s2c = fl.get(s, [b"", b""])
        reqs, resps = http_msgs(c2s, True), http_msgs(s2c, False)
        for k, rq in enumerate(reqs):
            rs = resps[k] if k < len(resps) else None
            if rq.get("incomplete"):
                rows.append((s, "(incomplete request)", "", "", "", "")); continue
            method, uri = rq["line"].split(" ")[0:2]
            op = urllib.parse.unquote(qparam(uri, "operation") or "")
            msg = qparam(uri, "message")
            rqct = rq["hdrs"].get("content-type", "(none)") if method == "POST" else ""
            reqdesc = "%s %s" % (method, uri if len(uri) <= 60 else uri[:45] + "...(%d chars)" % len(uri))
            bodyd = ("%s, %d B" % (rqct, len(rq["body"]))) if method == "POST" else (("message=`%s`" % msg if len(msg) <= 24 else "message=%d chars" % len(msg)) if msg is not None else "")
            if rs and not rs.get("incomplete"):
                code = " ".join(rs["line"].split(" ")[1:])
                rct = rs["hdrs"].get("content-type", "(none)")
                rb = rs["body"]
                if rct.startswith("text/plain"):
                    rbd = "%d B: `%s`" % (len(rb), rb.decode("latin-1").strip().replace("\n", "\\n")[:70])
                else:
                    rbd = "%d B" % len(rb)
            else:
                code, rct, rbd = "(no response)", "", ""
            rows.append((s, reqdesc, op, bodyd, "%s, %s" % (code, rct), rbd))
            if op == "PKIOperation":
                raw = None
                if method == "POST":
                    raw = rq["body"]
                    if raw[:1] != b"\x30":
                        try:
                            raw = base64.b64decode(raw)
                        except Exception:
                            pass
                elif msg is not None:
                    try:
                        raw = base64.b64decode(urllib.parse.unquote(msg), validate=True)
                    except Exception:
                        raw = None
                pki.append((s, method, raw, rs))
    print("- HTTP exchanges: %d\n" % len(rows))
    print("| conn | request | operation | request body | response | response body |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print("| %d | `%s` | %s | %s | %s | %s |" % r)
    print()
    summary = []
    details = []
    counts = {}
    issued_serials = []
    for s, method, raw, rs in pki:
        d = {"conn": s, "method": method}
        if not raw:
            summary.append("| %d | %s | (message is not valid base64) | | %s | | |" % (
                s, method, ("HTTP " + rs["line"].split(" ")[1]) if rs and not rs.get("incomplete") else "-"))
            continue
        try:
            m = parse_signed(raw)
        except Exception as e:
            summary.append("| %d | %s | (not a pkiMessage: %s) | | %s | | |" % (
                s, method, str(e)[:60], ("HTTP " + rs["line"].split(" ")[1]) if rs and not rs.get("incomplete") else "-"))
            continue
        a = m["attrs"]
        signers = [cert_info(c) for c in m["certs"]]
        sigcert = None
        for c in signers:
            if m["signers"] and c["serial"] == m["signers"][0]["sid_serial"]:
                sigcert = c
        sigcert = sigcert or (signers[0] if signers else None)
        txn = a.get("transactionID", "?")
        mt = a.get("messageType", "?")
        lines = ["- conn %d, %s PKIOperation request: transactionID `%s`, messageType %s (%s)"
                 % (s, method, txn, mt, MSGTYPE.get(mt, "?"))]
        lines.append("  - senderNonce %s; digest %s, signatureAlgorithm %s" % (
            a.get("senderNonce", "-"), m["signers"][0]["digest"] if m["signers"] else "?",
            m["signers"][0]["sigalg"] if m["signers"] else "?"))
        keypath = None
        if sigcert:
            keypath = KEYS.get(sigcert["spki_sha"])
            lines.append("  - signer certificate: subject `%s`, serial %d (0x%X), %s; key: %s" % (
                sigcert["subject"], sigcert["serial"], sigcert["serial"],
                "self-signed" if sigcert["selfsigned"] else "issued by `%s`" % sigcert["issuer"],
                os.path.relpath(keypath, os.path.dirname(keysdir)) if keypath else "not in keys/"))
            if save_signers and keypath and sigcert["selfsigned"]:
                out = keypath[:-4] + ".signer.pem"
                with open(out, "w") as fh:
                    fh.write(pem(sigcert["der"]))
                saved.append(out)
        csr_subj = chal = None
        if m["eContent"]:
            env = parse_enveloped(m["eContent"])
            rcp = env["recipients"][0]
            lines.append("  - envelope: %s, recipient serial %s (%s)" % (env["cipher"], rcp["serial"], rcp["keyenc"]))
            if os.path.exists(CA_KEY):
                plain, err = cms_decrypt(m["eContent"], CA_KEY)
                if plain:
                    csr_subj, chal = csr_info(plain)
                    lines.append("  - decrypted with keys/ca.key: PKCS#10 subject `%s`, challengePassword `%s`" % (csr_subj, chal))
                else:
                    lines.append("  - could not decrypt with keys/ca.key: %s" % err)
        st_, fi, iss = "-", "-", "-"
        if rs is None or rs.get("incomplete"):
            lines.append("  - no response")
        elif not rs["body"][:1] == b"\x30":
            lines.append("  - response: %s (%s), no pkiMessage" % (rs["line"], rs["hdrs"].get("content-type")))
            st_ = "HTTP " + rs["line"].split(" ")[1]
        else:
            r = parse_signed(rs["body"])
            ra = r["attrs"]
            st_ = "%s (%s)" % (ra.get("pkiStatus", "?"), STATUS.get(ra.get("pkiStatus"), "?"))
            if "failInfo" in ra:
                fi = "%s (%s)" % (ra["failInfo"], FAILINFO.get(ra["failInfo"], "?"))
            rsig = [cert_info(c) for c in r["certs"]]
            rsigner = [c for c in rsig if c["serial"] == r["signers"][0]["sid_serial"]]
            rsigner = rsigner[0] if rsigner else None
            lines.append("  - response CertRep: messageType %s (%s), pkiStatus %s, failInfo %s%s" % (
                ra.get("messageType"), MSGTYPE.get(ra.get("messageType"), "?"), st_, fi,
                (", failInfoText `%s`" % ra["failInfoText"]) if "failInfoText" in ra else ""))
            lines.append("  - transactionID echoed: %s; recipientNonce %s request senderNonce; senderNonce %s" % (
                "yes" if ra.get("transactionID") == txn else "NO (%s)" % ra.get("transactionID"),
                "==" if ra.get("recipientNonce") == a.get("senderNonce") else "!=",
                ra.get("senderNonce", "-")))
            lines.append("  - signed by `%s` (serial %s), digest %s, signatureAlgorithm %s; certificates: %s" % (
                rsigner["subject"] if rsigner else "?", rsigner["serial"] if rsigner else "?",
                r["signers"][0]["digest"], r["signers"][0]["sigalg"],
                ", ".join("`%s` #%d" % (c["subject"], c["serial"]) for c in rsig) or "none"))
            if r["eContent"]:
                env = parse_enveloped(r["eContent"])
                rcp = env["recipients"][0]
                lines.append("  - envelope: %s, recipient serial %s (%s)" % (env["cipher"], rcp["serial"], rcp["keyenc"]))
                # the CertRep is encrypted to the request's signer certificate
                if sigcert and keypath and rcp["serial"] == sigcert["serial"]:
                    plain, err = cms_decrypt(r["eContent"], keypath, sigcert["der"])
                    if plain:
                        inner = parse_signed(plain)
                        ics = [cert_info(c) for c in inner["certs"]]
                        for c in ics:
                            lines.append("  - decrypted with %s: issued certificate serial %d, subject `%s`, issuer `%s`, notAfter %s" % (
                                os.path.relpath(keypath, os.path.dirname(keysdir)), c["serial"], c["subject"], c["issuer"], c["notAfter"]))
                        if ics:
                            iss = "%d `%s`" % (ics[0]["serial"], ics[0]["subject"])
                            issued_serials.append(ics[0]["serial"])
                    else:
                        lines.append("  - could not decrypt: %s" % err)
                else:
                    lines.append("  - no matching key in keys/ to decrypt it")
        counts[st_] = counts.get(st_, 0) + 1
        summary.append("| %d | %s | `%s` | %s %s | %s | %s | %s |" % (
            s, method, txn, mt, MSGTYPE.get(mt, "?"), st_, fi, iss))
        details.extend(lines)
    if pki:
        print("PKIOperation summary:\n")
        print("| conn | method | transactionID | messageType | pkiStatus | failInfo | issued serial, subject |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        print("\n".join(summary))
        print("\nPKIOperation results: %d request(s); %s" % (
            len(pki), ", ".join("%s: %d" % kv for kv in sorted(counts.items())) or "no pkiMessage parsed"))
        dup = sorted({x for x in issued_serials if issued_serials.count(x) > 1})
        if dup:
            print("\n**Duplicate issued serial numbers: %s** (%s)" % (
                ", ".join(map(str, dup)), "the same serial was given to different certificates"))
        print("\nDetails:\n")
        print("\n".join(details))
        print()

for f in files:
    describe(f)
if save_signers:
    sys.stderr.write("describe.sh: wrote %d signer certificates\n" % len(saved))
subprocess.run(["rm", "-rf", TMP])
PYEOF
