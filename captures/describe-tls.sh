#!/bin/bash
# describe-tls.sh - print the facts of the TLS / HTTP/2 captures (made by
# make-tls.sh) as Markdown, independently of scepdump.
#
# TLS handshake facts come from tshark's TLS dissector; the HTTP exchanges are
# DECRYPTED BY TSHARK (-o tls.keylog_file:KEYLOG, or the pcapng's own
# Decryption Secrets Block) and followed with `-z follow,tls,raw` (HTTP/1.1)
# or `-z follow,http2,raw` (HTTP/2: tshark's HPACK-decoded header lists and
# DATA frames); each HTTP/2 stream is then printed and decoded exactly like a
# base capture by describe.sh's own code (loaded from describe.sh: the same
# DER reader and the same openssl calls), with the request/response written
# as an HTTP/1.1-style message.
#
# usage: captures/describe-tls.sh [--save-signers] [FILE...]
#   (default: every TLS capture, with its keylog from keys/)
# needs: tshark, capinfos, editcap, openssl (3.x), python3 (stdlib only)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 - "$HERE" "$@" <<'PYEOF'
import hashlib, os, re, subprocess, sys

HERE = sys.argv[1]
opts = sys.argv[2:]
save = "--save-signers" in opts
files = [a for a in opts if a != "--save-signers"]
KEYSDIR = os.path.join(HERE, "keys")

# how each capture is decrypted / dissected
KEYLOG = {
    "tls12-http11-enroll.pcap": "tls12-http11.keylog",
    "tls13-h2-enroll.pcap": "tls13-h2.keylog",
    "tls13-h2-enroll-nokeys.pcap": "tls13-h2.keylog",
    "tls13-h2-enroll-secrets.pcapng": None,          # secrets embedded (DSB)
    "tls-handshake-failure.pcap": "tls-handshake-failure.keylog",
    "h2c-prior-knowledge.pcap": None,                # cleartext
    "tls12-rsa-kx.pcap": "tls12-rsa-kx.keylog",
}
DECODE_AS = {"h2c-prior-knowledge.pcap": ["-d", "tcp.port==8444,http2"]}
if not files:
    files = [os.path.join(HERE, f) for f in KEYLOG]

# ---- load describe.sh's Python (everything but its main loop) ---------------
src = open(os.path.join(HERE, "describe.sh")).read()
m = re.search(r"<<'PYEOF'\n(.*)\nPYEOF", src, re.S)
if not m or "\nfor f in files:\n" not in m.group(1):
    sys.exit("describe-tls.sh: cannot find describe.sh's Python code")
code = m.group(1).split("\nfor f in files:\n")[0]
D = {"__name__": "describe"}
saved_argv = sys.argv
sys.argv = ["describe.sh", HERE, "--keys", KEYSDIR] + (["--save-signers"] if save else []) + ["-"]
exec(compile(code, "describe.sh", "exec"), D)
sys.argv = saved_argv

SUITES = {"0xc02f": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (ECDHE-RSA-AES128-GCM-SHA256)",
          "0xc030": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (ECDHE-RSA-AES256-GCM-SHA384)",
          "0x002f": "TLS_RSA_WITH_AES_128_CBC_SHA (AES128-SHA)",
          "0x009c": "TLS_RSA_WITH_AES_128_GCM_SHA256 (AES128-GCM-SHA256)",
          "0x1301": "TLS_AES_128_GCM_SHA256", "0x1302": "TLS_AES_256_GCM_SHA384",
          "0x1303": "TLS_CHACHA20_POLY1305_SHA256"}
VERS = {"0x0303": "TLS 1.2", "0x0304": "TLS 1.3", "0x0301": "TLS 1.0", "0x0302": "TLS 1.1"}
GROUPS = {"29": "x25519", "23": "secp256r1", "24": "secp384r1", "0x001d": "x25519",
          "0x0017": "secp256r1"}
ALERTS = {"48": "unknown_ca", "42": "bad_certificate", "40": "handshake_failure",
          "0": "close_notify", "46": "certificate_unknown", "80": "internal_error"}
HSTYPE = {"1": "ClientHello", "2": "ServerHello"}
EXT = {"0": "server_name", "10": "supported_groups", "11": "ec_point_formats", "13": "signature_algorithms",
       "16": "ALPN", "22": "encrypt_then_mac", "23": "extended_master_secret", "35": "session_ticket",
       "43": "supported_versions", "45": "psk_key_exchange_modes", "51": "key_share",
       "65281": "renegotiation_info", "49": "post_handshake_auth", "5": "status_request",
       "18": "signed_certificate_timestamp", "21": "padding", "41": "pre_shared_key"}

def tsopts(name):
    kl = KEYLOG.get(name)
    o = []
    if kl:
        o += ["-o", "tls.keylog_file:" + os.path.join(KEYSDIR, kl)]
    return o + DECODE_AS.get(name, [])

def ts(f, extra):
    p = subprocess.run(["tshark", "-r", f] + tsopts(os.path.basename(f)) + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.stdout.decode("latin-1")

def tls_facts(f):
    fields = ["frame.number", "tcp.stream", "tcp.srcport", "tcp.dstport", "tls.handshake.type",
              "tls.handshake.version", "tls.handshake.extensions.supported_version",
              "tls.handshake.ciphersuite", "tls.handshake.extensions_server_name",
              "tls.handshake.extensions_alpn_str", "tls.handshake.extension.type",
              "tls.handshake.extensions_key_share_group", "tls.handshake.server_named_curve",
              "tls.alert_message.level", "tls.alert_message.desc", "tls.record.opaque_type",
              "tls.handshake.certificate"]
    cmd = ["-Y", "tls.handshake.type == 1 || tls.handshake.type == 2 || tls.alert_message || tls.handshake.certificate",
           "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for x in fields:
        cmd += ["-e", x]
    # alerts tshark can read WITHOUT any secrets were sent as plaintext records
    plain = set(subprocess.run(["tshark", "-r", f, "-Y", "tls.alert_message.desc", "-T", "fields", "-e", "frame.number",
                                "-o", "tls.keylog_file:"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().split())
    out = []
    for line in ts(f, cmd).splitlines():
        v = dict(zip(fields, line.split("|")))
        sp = v["tcp.srcport"]
        who = "server" if sp in ("8443", "8444") else "client"
        hts = v["tls.handshake.type"].split(",")
        if "1" in hts:
            sv = [VERS.get(x, x) for x in v["tls.handshake.extensions.supported_version"].split(",") if x]
            out.append("  - frame %s %s ClientHello: SNI `%s`, ALPN offered `%s`, supported_versions %s, %d cipher suites offered" % (
                v["frame.number"], "client →", v["tls.handshake.extensions_server_name"] or "(none)",
                v["tls.handshake.extensions_alpn_str"] or "(none)", ", ".join(sv) or "(extension absent)",
                len(v["tls.handshake.ciphersuite"].split(","))))
        if "2" in hts:
            sv = v["tls.handshake.extensions.supported_version"]
            ver = VERS.get(sv, sv) if sv else VERS.get(v["tls.handshake.version"], v["tls.handshake.version"])
            cs = v["tls.handshake.ciphersuite"]
            grp = v["tls.handshake.extensions_key_share_group"] or v["tls.handshake.server_named_curve"]
            exts = [EXT.get(x, x) for x in v["tls.handshake.extension.type"].split(",") if x]
            out.append("  - frame %s server → ServerHello: **%s**, cipher suite **%s** %s, ALPN selected `%s`%s; ServerHello extensions: %s" % (
                v["frame.number"], ver, cs, SUITES.get(cs, ""), v["tls.handshake.extensions_alpn_str"] or "(none)",
                (", key exchange group %s" % GROUPS.get(grp, grp)) if grp else "",
                ", ".join(exts) or "none"))
        if v["tls.handshake.certificate"] and "1" not in hts:
            out.append("  - frame %s server → Certificate: %d certificate(s)%s" % (
                v["frame.number"], len(v["tls.handshake.certificate"].split(",")),
                " (decrypted: TLS 1.3 encrypts it)" if v["tls.record.opaque_type"] else ""))
        if v["tls.alert_message.desc"]:
            for lv, ds in zip(v["tls.alert_message.level"].split(","), v["tls.alert_message.desc"].split(",")):
                out.append("  - frame %s %s → **Alert** level %s (%s), description %s (%s), %s" % (
                    v["frame.number"], who, lv, {"1": "warning", "2": "fatal"}.get(lv, "?"), ds, ALERTS.get(ds, "?"),
                    "plaintext record (content type 21)" if v["frame.number"] in plain else "encrypted record (decrypted)"))
    return out

def tls_or_h2_streams(f, ids):
    """decrypted HTTP per TCP stream, as HTTP/1.1-style bytes for describe.sh's
    http_msgs(); HTTP/2 streams are rewritten from tshark's decoded headers."""
    name = os.path.basename(f)
    h2 = ts(f, ["-Y", "http2.type == 1", "-T", "fields", "-E", "separator=|", "-e", "tcp.stream", "-e", "http2.streamid"])
    h2streams = {}
    for line in h2.splitlines():
        s, sids = line.split("|")
        for sid in sids.split(","):
            if sid and int(sid) > 0:
                h2streams.setdefault(int(s), set()).add(int(sid))
    res = {}
    for s in ids:
        if s in h2streams:
            c2s, s2c = bytearray(), bytearray()
            for sid in sorted(h2streams[s]):
                rq, rs = follow_h2(f, s, sid)
                c2s += rq; s2c += rs
            res[s] = [c2s, s2c]
        else:
            out = ts(f, ["-q", "-z", "follow,tls,raw,%d" % s])
            res[s] = parse_follow(out)
    return res

def parse_follow(out):
    a, b = bytearray(), bytearray()
    on = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            on = True; continue
        if not on or not line.strip() or line.startswith("="):
            continue
        try:
            (b if line.startswith("\t") else a).extend(bytes.fromhex(line.strip()))
        except ValueError:
            pass
    return a, b

def follow_h2(f, s, sid):
    out = ts(f, ["-q", "-z", "follow,http2,raw,%d,%d" % (s, sid)])
    side = {0: {"hdrs": [], "body": bytearray()}, 1: {"hdrs": [], "body": bytearray()}}
    on = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            on = True; continue
        if not on or not line.strip() or line.startswith("="):
            continue
        d = side[1 if line.startswith("\t") else 0]
        b = bytes.fromhex(line.strip())
        n = int.from_bytes(b[0:3], "big")
        if len(b) == 9 + n and b[3] <= 9:        # a raw frame (DATA, WINDOW_UPDATE, ...)
            if b[3] == 0:
                pad = b[9] + 1 if b[4] & 0x8 else 0
                d["body"] += b[9 + (1 if pad else 0):9 + n - (pad - 1 if pad else 0)]
            continue
        i, kv = 0, []                          # tshark's decoded header list
        while i + 4 <= len(b):
            l = int.from_bytes(b[i:i + 4], "big"); i += 4
            kv.append(b[i:i + l].decode("latin-1")); i += l
        d["hdrs"] += list(zip(kv[0::2], kv[1::2]))
    def msg(d, is_req):
        h = dict(d["hdrs"])
        if is_req:
            first = "%s %s HTTP/2" % (h.get(":method", "?"), h.get(":path", "?"))
        else:
            first = "HTTP/2 %s" % h.get(":status", "?")
        lines = [first] + ["%s: %s" % (k, v) for k, v in d["hdrs"] if not k.startswith(":") and k != "content-length"]
        if d["body"] or not is_req:
            lines.append("content-length: %d" % len(d["body"]))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + bytes(d["body"])
    return msg(side[0], True), msg(side[1], False)

D["follow"] = tls_or_h2_streams

def sha(f):
    return hashlib.sha256(open(f, "rb").read()).hexdigest()

for f in files:
    name = os.path.basename(f)
    kl = KEYLOG.get(name)
    print("## `%s`\n" % name)
    print("- sha256 `%s`" % sha(f))
    if kl:
        print("- decrypted by tshark with `-o tls.keylog_file:keys/%s`" % kl)
    elif name.endswith(".pcapng") and name in KEYLOG:
        print("- decrypted by tshark with the TLS secrets embedded in the file (no `-o`)")
    if name in DECODE_AS:
        print("- dissected with `%s` (tshark does not recognise h2c prior knowledge on a non-standard port by itself)" % " ".join(DECODE_AS[name]))
    nohttp = subprocess.run(["tshark", "-r", f, "-Y", "http || http2"] + DECODE_AS.get(name, []),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().count("\n")
    print("- frames tshark shows as HTTP/HTTP2 **without** `-o tls.keylog_file`: %d" % nohttp)
    facts = tls_facts(f)
    if facts:
        print("- TLS handshakes (tshark):")
        print("\n".join(facts))
    print()
    # describe.sh's block, minus its own "### name" heading
    import io, contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        D["describe"](f)
    print(buf.getvalue().split("\n", 2)[2])
if save:
    sys.stderr.write("describe-tls.sh: wrote %d signer certificates\n" % len(D["saved"]))
subprocess.run(["rm", "-rf", D["TMP"]])
PYEOF
