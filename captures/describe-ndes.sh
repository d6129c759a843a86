#!/bin/bash
# describe-ndes.sh - print the facts of the NDES captures (ndes-*.pcap*) as
# Markdown, independently of scepdump: HTTP exchanges come from
# `tshark -z follow,tcp,raw` (follow,tls,raw for the TLS leg, decrypted with
# the secrets embedded in the pcapng), split by a few lines of Python; every
# SCEP attribute is read from `openssl asn1parse` output, envelopes are shown
# by `openssl cms -cmsout -print`, certificates by `openssl x509`/`pkcs7`.
#
# usage: captures/describe-ndes.sh FILE.pcap[ng]...
# needs: tshark, capinfos, openssl (3.x), python3 (stdlib only)
set -euo pipefail
exec python3 - "$@" <<'PYEOF'
import base64, os, re, subprocess, sys, tempfile, urllib.parse

TMP = tempfile.mkdtemp(prefix="ndesdescribe.")
def run(cmd, inp=None):
    p = subprocess.run(cmd, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr

ATTRS = [("2.16.840.1.113733.1.9.2", "messageType"), ("2.16.840.1.113733.1.9.3", "pkiStatus"),
         ("2.16.840.1.113733.1.9.4", "failInfo"), ("2.16.840.1.113733.1.9.7", "transactionID"),
         ("2.16.840.1.113733.1.9.5", "senderNonce"), ("2.16.840.1.113733.1.9.6", "recipientNonce"),
         ("1.3.6.1.4.1.311.21.38", "1.3.6.1.4.1.311.21.38"),
         ("1.3.6.1.4.1.311.21.33", "1.3.6.1.4.1.311.21.33")]
MSGTYPE = {"3": "CertRep", "19": "PKCSReq", "20": "CertPoll", "17": "RenewalReq"}
STATUS = {"0": "SUCCESS", "2": "FAILURE", "3": "PENDING"}
FAILINFO = {"0": "badAlg", "1": "badMessageCheck", "2": "badRequest", "3": "badTime", "4": "badCertId"}

def asn1_attrs(der):
    """what `openssl asn1parse` shows after each SCEP / Microsoft attribute OID"""
    rc, out, _ = run(["openssl", "asn1parse", "-inform", "DER"], der)
    lines = out.decode("latin-1").splitlines()
    res = {}
    for i, l in enumerate(lines):
        for oid, name in ATTRS:
            if l.rstrip().endswith(":" + oid):
                for k in lines[i + 1:i + 4]:
                    m = re.search(r"(PRINTABLESTRING|UTF8STRING|OCTET STRING|IA5STRING)\s*(\[HEX DUMP\])?:(.*)$", k)
                    if m:
                        res[name] = (m.group(1), m.group(3).strip())
                        break
    econtent = None
    for i, l in enumerate(lines):
        if l.rstrip().endswith(":pkcs7-data"):
            for k in lines[i + 1:i + 3]:
                m = re.search(r"hl=\s*(\d+) l=\s*(\d+) prim: OCTET STRING\s*(\[HEX DUMP\])?:?(.*)$", k)
                if m:
                    econtent = (int(m.group(2)), m.group(4).strip()[:16])
                    break
            break
    return res, econtent

def ncerts(der):
    rc, out, _ = run(["openssl", "pkcs7", "-inform", "DER", "-print_certs", "-noout"], der)
    return out.decode().count("subject=")

def cms_print(der):
    rc, out, _ = run(["openssl", "cms", "-cmsout", "-print", "-inform", "DER"], der)
    return out.decode("latin-1")

def econtent_bytes(der):
    """the eContent of a SignedData (the envelope), by openssl cms -verify -noverify"""
    p = os.path.join(TMP, "m.der"); o = os.path.join(TMP, "c.der")
    open(p, "wb").write(der)
    rc, _, _ = run(["openssl", "cms", "-verify", "-noverify", "-nosigs", "-inform", "DER",
                    "-in", p, "-out", o, "-binary"])
    return open(o, "rb").read() if rc == 0 and os.path.exists(o) else None

def envelope_facts(env):
    t = cms_print(env)
    cipher = re.search(r"contentEncryptionAlgorithm:\s*\n\s*algorithm: (\S+)", t)
    kea = re.search(r"keyEncryptionAlgorithm:\s*\n\s*algorithm: (\S+)", t)
    serials = re.findall(r"serialNumber: (\S+)", t)
    issuer = re.search(r"issuer: *(.*)", t)
    return "%s, key transport %s, %d recipient(s): issuer `%s` serial %s" % (
        cipher.group(1) if cipher else "?", kea.group(1) if kea else "?", len(serials),
        issuer.group(1).strip() if issuer else "?", ", ".join(serials) or "?")

def streams(f, tls_ports):
    rc, out, _ = run(["tshark", "-r", f, "-T", "fields", "-E", "separator=|", "-e", "tcp.stream",
                      "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack"])
    st = {}
    for line in out.decode().splitlines():
        s, sp, dp, syn, ack = line.split("|")
        e = st.setdefault(int(s), {})
        if syn in ("1", "True") and ack not in ("1", "True"):
            e["client"], e["server"] = int(sp), int(dp)
        e.setdefault("server", int(dp))
    return st

def follow(f, s, kind):
    rc, out, _ = run(["tshark", "-r", f, "-q", "-z", "follow,%s,raw,%d" % (kind, s)])
    c2s, s2c = bytearray(), bytearray()
    started = False
    for line in out.decode().splitlines():
        if line.startswith("Node 1"):
            started = True; continue
        if not started or not line.strip() or line.startswith("="):
            continue
        try:
            (s2c if line.startswith("\t") else c2s).extend(bytes.fromhex(line.strip()))
        except ValueError:
            pass
    return bytes(c2s), bytes(s2c)

def http_msgs(b, is_req):
    out, i = [], 0
    while i < len(b):
        h = b.find(b"\r\n\r\n", i)
        if h < 0:
            out.append({"line": "(incomplete: %d bytes)" % (len(b) - i), "hdrs": {}, "body": b""}); break
        head = b[i:h].decode("latin-1").split("\r\n")
        hdrs = {}
        for l in head[1:]:
            if ":" in l:
                k, v = l.split(":", 1); hdrs[k.strip().lower()] = v.strip()
        i = h + 4
        n = int(hdrs.get("content-length", "0")) if (is_req or "content-length" in hdrs) else len(b) - i
        out.append({"line": head[0], "hdrs": hdrs, "body": bytes(b[i:i + n])}); i += n
    return out

def pki_line(der, role):
    a, ec = asn1_attrs(der)
    g = lambda k: a.get(k, ("", "-"))[1]
    mt = g("messageType")
    s = "%s messageType %s (%s), transactionID `%s`, senderNonce %s" % (
        role, mt, MSGTYPE.get(mt, "?"), g("transactionID")[:80], g("senderNonce").lower())
    if mt == "3":
        st = g("pkiStatus")
        s += ", recipientNonce %s, pkiStatus %s (%s)" % (g("recipientNonce").lower(), st, STATUS.get(st, "?"))
        if "failInfo" in a:
            s += ", failInfo %s (%s)" % (g("failInfo"), FAILINFO.get(g("failInfo"), "?"))
        for oid in ("1.3.6.1.4.1.311.21.38", "1.3.6.1.4.1.311.21.33"):
            if oid in a:
                s += ", %s %s `%s`" % (oid, a[oid][0], a[oid][1])
        s += "; certificates in SignedData: %d" % ncerts(der)
        if ec:
            s += "; eContent OCTET STRING of %d byte(s)%s" % (ec[0], (" = " + ec[1]) if ec[0] <= 4 else "")
    return s, a

for f in sys.argv[1:]:
    name = os.path.basename(f)
    rc, out, _ = run(["capinfos", "-M", "-t", "-c", "-u", "-I", f])
    t = out.decode()
    g = lambda k: (re.search(k + r":\s*(.*)", t) or [None, "?"])[1].strip()
    ifaces = len(re.findall(r"Interface #\d+", t))
    print("### `%s`\n" % name)
    print("- file: %s, %d bytes, %s packets, duration %s%s" % (
        g("File type"), os.path.getsize(f), g("Number of packets"), g("Capture duration"),
        ", %d interface description(s)" % ifaces if ifaces else ""))
    if f.endswith(".pcapng"):
        rc, out, _ = run(["tshark", "-r", f, "-Y", "tls.handshake.type == 1", "-T", "fields",
                          "-e", "tcp.stream", "-e", "tls.handshake.extensions_server_name"])
        rc2, out2, _ = run(["tshark", "-r", f, "-Y", "tls.handshake.type == 2", "-T", "fields",
                            "-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.ciphersuite"])
        rc3, out3, _ = run(["tshark", "-r", f, "-Y", "tls && http", "-T", "fields", "-e", "frame.number"])
        print("- TLS: %d ClientHello(s) (SNI %s); ServerHello version/cipher: %s; HTTP messages decrypted with the embedded secrets: %d" % (
            len(out.decode().split("\n")) - 1, ", ".join(sorted({l.split("\t")[1] for l in out.decode().splitlines() if "\t" in l})) or "-",
            ", ".join(sorted(set(out2.decode().split()))) or "-", len(out3.decode().split())))
    st = streams(f, ())
    print("- TCP connections: %d\n" % len(st))
    print("| conn | ports | request | response | response body |")
    print("| --- | --- | --- | --- | --- |")
    details = []
    for s in sorted(st):
        e = st[s]
        kind = "tls" if e["server"] == 8443 else "tcp"
        c2s, s2c = follow(f, s, kind)
        if c2s.startswith(b"HTTP/"):   # follow,tls may list the server's side first
            c2s, s2c = s2c, c2s
        reqs, resps = http_msgs(c2s, True), http_msgs(s2c, False)
        for k, rq in enumerate(reqs):
            rs = resps[k] if k < len(resps) else {"line": "(no response)", "hdrs": {}, "body": b""}
            line = rq["line"]
            parts = line.split(" ")
            uri = parts[1] if len(parts) > 1 else ""
            q = urllib.parse.urlsplit(uri).query
            params = dict(p.split("=", 1) if "=" in p else (p, "") for p in q.split("&") if p)
            op = params.get("operation", "")
            shown = line if len(line) <= 90 else line[:75] + "...(%d chars)" % len(line)
            if parts[0] == "POST":
                shown += " + %d B body (%s)" % (len(rq["body"]), rq["hdrs"].get("content-type", "no Content-Type"))
            ct = rs["hdrs"].get("content-type", "-")
            body = rs["body"]
            bd = "%d B" % len(body)
            if ct.startswith("text/plain") and body:
                bd += " `%s`" % body.decode("latin-1").strip().replace("\n", "\\n")[:80]
            m = re.search(rb"<title>(.*?)</title>", body, re.I | re.S)
            if m:
                bd += ", `<title>%s</title>`" % m.group(1).decode("latin-1").strip()
            loc = rs["hdrs"].get("location")
            if loc:
                bd += ", Location `%s`" % (loc if len(loc) < 70 else loc[:60] + "...")
            srv = rs["hdrs"].get("server")
            print("| %d | %s->%s%s | `%s` | %s, %s%s | %s |" % (
                s, e.get("client", "?"), e["server"], " (TLS)" if kind == "tls" else "", shown.replace("|", "\\|"),
                " ".join(rs["line"].split(" ")[1:]), ct, (", Server `%s`" % srv) if srv else "", bd.replace("|", "\\|")))
            if op == "GetCACert" and body[:1] == b"\x30":
                rc, out, _ = run(["openssl", "pkcs7", "-inform", "DER", "-print_certs", "-noout"], body)
                subs = re.findall(r"subject=(.*)", out.decode())
                details.append("- conn %d GetCACert (%s): %d certificates: %s" % (
                    s, ct, len(subs), "; ".join("`%s`" % x.strip() for x in subs)))
            if op == "PKIOperation":
                raw = None
                if parts[0] == "POST":
                    raw = rq["body"]
                elif "message" in params:
                    try:
                        raw = base64.b64decode(urllib.parse.unquote(params["message"]))
                    except Exception:
                        raw = None
                if raw:
                    d, a = pki_line(raw, "request")
                    env = econtent_bytes(raw)
                    if env:
                        d += "; envelope: " + envelope_facts(env)
                    details.append("- conn %d %s PKIOperation %s" % (s, parts[0], d))
                if body[:1] == b"\x30":
                    d, a = pki_line(body, "response")
                    if a.get("pkiStatus", ("", ""))[1] == "0":
                        env = econtent_bytes(body)
                        if env:
                            d += "; envelope: " + envelope_facts(env)
                    details.append("  - %s" % d)
                else:
                    details.append("  - response: %s, %s (no CertRep)" % (rs["line"], ct))
    print()
    if details:
        print("Details (openssl asn1parse / cms / pkcs7 on the bodies):\n")
        print("\n".join(details))
        print()
subprocess.run(["rm", "-rf", TMP])
PYEOF
