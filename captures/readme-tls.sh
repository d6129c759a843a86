#!/bin/bash
# readme-tls.sh FACTS.md LOGDIR > tls/README.md
# Writes captures/tls/README.md from describe-tls.sh's facts and the peers'
# own logs (logs/*.nginx-access.log, logs/*.client.log).  Called by
# make-tls.sh (make-captures.sh --only tls, and the full rebuild).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec python3 - "$HERE" "$1" "$2" <<'PYEOF'
import os, re, subprocess, sys, time
HERE, FACTS, LOGS = sys.argv[1:4]
facts = open(FACTS).read()
sections = dict(re.findall(r"^## `([^`]+)`\n(.*?)(?=^## `|\Z)", facts, re.S | re.M))

def ver(p):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", p], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return r.stdout.decode() or "?"
def sh(cmd):
    return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode().strip()
def logf(name):
    p = os.path.join(LOGS, name)
    return open(p, errors="replace").read() if os.path.exists(p) else ""
def rel(s):
    s = re.sub(r"/tmp/scepdump-captures\.[A-Za-z0-9]+", "$WORK", s)
    return s.replace(HERE + "/", "captures/")
def curl_log(n):
    keep = []
    for l in rel(logf(n + ".client.log")).splitlines():
        if re.match(r"^(\$ (env SSLKEYLOGFILE|curl)|\* (SSL connection|ALPN|TLSv1\.[23] \(OUT\), TLS alert|Re-using|Connection #|using HTTP)|> [A-Z]+ /|< HTTP|< content-type|curl: |\[exit|[0-9.]+ [0-9]{3} |.*transaction_id=)", l):
            keep.append(l)
    return "\n".join(keep)
def access(n):
    return logf(n + ".nginx-access.log").strip() or "(no request reached nginx's HTTP layer)"

def overview_row(f):
    s = sections.get(f, "")
    g = lambda p, d="-": (re.search(p, s, re.M) or [None, d])[1]
    vers = ", ".join(dict.fromkeys(re.findall(r"ServerHello: \*\*(TLS [0-9.]+)\*\*", s))) or "- (cleartext)"
    cs = ", ".join(dict.fromkeys(x.rstrip(",") for x in re.findall(r"cipher suite \*\*\S+\*\* (\S+)", s))) or "-"
    alpn = ", ".join(dict.fromkeys(re.findall(r"ALPN selected `([^`]*)`", s))) or "-"
    sni = ", ".join(dict.fromkeys(re.findall(r"ClientHello: SNI `([^`]*)`", s))) or "-"
    rows = re.findall(r"^\| \d+ \| (GET|POST) \| `([^`]+)` \| \S+ \w+ \| \S+ \((\w+)\)", s, re.M)
    pk = "; ".join("`%s` %s" % (t, st) for _, t, st in rows) or "-"
    alerts = ", ".join(re.findall(r"\*\*Alert\*\* level \d \((\w+)\), description \d+ \((\w+)\)", s) and
                       ["%s %s" % a for a in re.findall(r"\*\*Alert\*\* level \d \((\w+)\), description \d+ \((\w+)\)", s)]) or ""
    size = g(r"- file: \S+ (\d+) bytes")
    pk_n = g(r"bytes, (\d+) packets")
    http = g(r"- HTTP exchanges: (\d+)")
    return "| `%s` | %s | %s | %s | %s | %s | `%s` | %s | %s | %s |" % (
        f, size, pk_n, vers, cs, alpn, sni, http, pk, alerts or "-")

CAPS = ["tls12-http11-enroll.pcap", "tls13-h2-enroll.pcap", "tls13-h2-enroll-nokeys.pcap",
        "tls13-h2-enroll-secrets.pcapng", "tls-handshake-failure.pcap", "h2c-prior-knowledge.pcap",
        "tls12-rsa-kx.pcap"]
HOW = {
"tls12-http11-enroll.pcap": ("tls12-http11-enroll",
 "One `curl --http1.1 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 --cacert keys/proxyca.pem` run "
 "with `SSLKEYLOGFILE=keys/tls12-http11.keylog`: GetCACaps, GetCACert and POST PKIOperation (`--next`, so all three "
 "share one keep-alive TLS connection) to `https://scep.scepdump.test:8443/scep` (`--resolve` to 127.0.0.1, so SNI is "
 "sent). The POST body is a fresh scepclient PKCSReq (see *How the traffic was made*)."),
"tls13-h2-enroll.pcap": ("tls13-h2-enroll",
 "Same as above with `curl --http2 --tlsv1.3` (ALPN h2, the TLS 1.3 suite left to OpenSSL's default choice) and "
 "`SSLKEYLOGFILE=keys/tls13-h2.keylog`: the three requests are HTTP/2 streams 1, 3 and 5 of one connection."),
"tls13-h2-enroll-nokeys.pcap": ("tls13-h2-enroll",
 "**A byte-identical copy of `tls13-h2-enroll.pcap`** (same sha256), for tests that run without `--keylog`: "
 "nothing of the HTTP/2 traffic is visible without the secrets."),
"tls13-h2-enroll-secrets.pcapng": ("tls13-h2-enroll",
 "`editcap --inject-secrets tls,keys/tls13-h2.keylog tls13-h2-enroll.pcap tls13-h2-enroll-secrets.pcapng`: the same "
 "packets in pcapng with a Decryption Secrets Block (type 0x0000000A, secrets type TLS key log 0x544c534b) holding the "
 "key log; tshark decrypts it with no option."),
"tls-handshake-failure.pcap": ("tls-handshake-failure",
 "Two curl runs that do NOT get the proxy CA (curl uses the system CA store, which does not hold it): first "
 "`--http1.1 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256`, then `--http2 --tlsv1.3`. curl rejects "
 "nginx's certificate (OpenSSL verify result 19, self-signed certificate in certificate chain) and sends a fatal "
 "`unknown_ca` alert; no HTTP request is made. Both alerts are **plaintext** records (content type 21, see the facts; also in TLS 1.3: "
 "the OpenSSL client aborts before it switches to its handshake keys). Secrets of both connections are in "
 "`keys/tls-handshake-failure.keylog` (they decrypt the TLS 1.3 server Certificate)."),
"h2c-prior-knowledge.pcap": ("h2c-prior-knowledge",
 "`curl --http2-prior-knowledge http://127.0.0.1:8444/scep?operation=GetCACaps`, then a second curl run with the POST "
 "PKIOperation: cleartext HTTP/2 starting with the connection preface, no Upgrade. **Two TCP connections**: curl 7.88.1 "
 "fails a second request on a re-used prior-knowledge h2c connection (`--next`: `curl: (16) Error in the HTTP2 framing "
 "layer`), so each request has its own connection. tshark needs `-d tcp.port==8444,http2` to dissect it."),
"tls12-rsa-kx.pcap": ("tls12-rsa-kx",
 "As `tls12-http11-enroll.pcap` but `--ciphers AES128-SHA`: TLS 1.2 **RSA key exchange** (no forward secrecy), "
 "AES-128-CBC with HMAC-SHA1, and nginx/OpenSSL negotiate **encrypt_then_mac** (RFC 7366) and extended_master_secret. "
 "Decrypts with `keys/tls12-rsa-kx.keylog` (an `RSA` pre-master line, plus CLIENT_RANDOM) **or** with the server's private "
 "key `keys/tls-server.key` alone (`tshark -o 'uat:rsa_keys:\"captures/keys/tls-server.key\",\"\"'`)."),
}

out = []
p = out.append
p("# TLS and HTTP/2 SCEP captures (real nginx + curl in front of micromdm)\n")
p("> **Generated** by `make-captures.sh --only tls` (and the full rebuild) via `make-tls.sh`, `describe-tls.sh` and")
p("> `readme-tls.sh` on %s. Edit those scripts, not this file." % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
p("> Every fact below comes from tshark (decrypting with the key logs) + openssl, or from the peers' own logs")
p("> (`logs/`), **not** from scepdump.\n")
p("The captures are in `captures/` (next to the base captures), their secrets and keys in `captures/keys/`, the logs")
p("in `captures/logs/`. They are described here and not in `captures/README.md`, so `tests/golden/crosscheck.sh` (which")
p("reads `captures/README.md`) does not yet check them; the `PKIOperation summary` tables below have the same format.\n")
p("Rebuild only these (keeps every base capture, key and log; re-uses `keys/ca.*`), as root (about 35 s):\n")
p("```\nsudo captures/make-captures.sh --only tls\n```\n")
p("The full rebuild (`sudo captures/make-captures.sh`) makes them too. Re-print the facts:\n")
p("```\ncaptures/describe-tls.sh            # all TLS captures, each with its key log\n```\n")
p("## Peers and versions (Debian 12 packages)\n")
p("| role | package | version |\n| --- | --- | --- |")
p("| TLS / HTTP/2 reverse proxy | `nginx` (%s) | %s |" % (sh("nginx -v 2>&1 | sed 's#.*: ##'"), ver("nginx")))
p("| client (TLS, HTTP/2, key log) | `curl` / `libcurl4` + `libnghttp2-14` | %s / %s |" % (ver("curl"), ver("libnghttp2-14")))
p("| TLS library (nginx and curl) | `libssl3` | %s |" % ver("libssl3"))
p("| SCEP server | `scep` (micromdm `scepserver`) | %s |" % ver("scep"))
p("| message generator | `scep` (micromdm `scepclient`) | %s |" % ver("scep"))
p("| capture / checksum fix / secrets | `tcpdump`, `tcpreplay` (`tcprewrite`), `wireshark-common` (`editcap`) | %s, %s, %s |" % (ver("tcpdump"), ver("tcpreplay"), ver("wireshark-common")))
p("| analysis | `tshark`, `openssl` | %s, %s |\n" % (ver("tshark"), ver("openssl")))
p("## How the traffic was made\n")
p("""- Same namespace and capture settings as the base captures (`captures/README.md`): `unshare --net --mount`, only `lo`
  with `mtu 1500` and offloads off, `tcpdump -Z root -i lo -s 0 'tcp port P'` started before the traffic, stopped
  with SIGINT one second after the last client exits, then `tcprewrite --fixcsum` (IP/TCP checksum fields only).
- **nginx** runs as root inside the namespace with a private prefix and config under `$WORK`
  (`nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`, `user root;`, all temp paths private). Two servers:
  `listen 127.0.0.1:8443 ssl http2;` (TLS, ALPN h2 and http/1.1) and `listen 127.0.0.1:8444 http2;` (cleartext h2c,
  prior knowledge only), both `proxy_pass http://127.0.0.1:8014;`. TLS settings: `ssl_protocols TLSv1.2 TLSv1.3;`,
  `ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-GCM-SHA256:AES128-SHA;`,
  `ssl_session_tickets off;`. nginx's access log (format: client address, request line, status, request length,
  request content type, response bytes and content type, `$http2`, `$ssl_protocol`, `$ssl_cipher`, `$ssl_server_name`
  (SNI), `$ssl_alpn_protocol`, connection number and request number on it) is kept as `logs/NAME.nginx-access.log`,
  its error log (`info`) as `logs/NAME.nginx.log`.
- **Only the client ↔ nginx leg (port 8443 or 8444) is captured.** nginx talks to micromdm `scepserver` (fresh depot,
  serial 02, same CA and challenge as the base captures) in plain HTTP/1.0 on port 8014, which is not captured;
  `logs/NAME.scepserver.log` is that server's log.
- **Real messages, replayed by curl.** micromdm `scepclient` (Go) cannot write a TLS key log, so for each enrollment
  capture it first enrolls (CN = the capture name) against a separate, *uncaptured* generator `scepserver` (port 8015,
  own fresh depot, log `logs/NAME.generator.scepserver.log`); its POST PKIOperation body is taken from a private capture
  (`tshark --export-objects http`) and curl POSTs exactly those bytes (`Content-Type: application/octet-stream`, as
  scepclient sends it) through nginx. The captured server has never seen that transactionID and issues the
  certificate: CertRep SUCCESS, encrypted to scepclient's self-signed signer certificate, so `keys/NAME.key` (the
  scepclient key, with `keys/NAME.signer.pem`) decrypts the CertRep exactly as for the base captures. The generator
  run's output (with the `transaction_id` scepclient logged) is at the top of `logs/NAME.client.log`.
- **Server certificate**: a separate test *proxy CA* (not the SCEP CA) made with `openssl req -x509`, which signs the
  nginx certificate; nginx sends the chain server certificate + proxy CA. curl trusts it with `--cacert keys/proxyca.pem`.
  The host name `scep.scepdump.test` is mapped to 127.0.0.1 with `curl --resolve`, so the ClientHello carries SNI.
- HTTP/2 with the `Upgrade: h2c` header (`curl --http2 http://127.0.0.1:8444/...`) was tried and **is not captured**:
  nginx 1.22 does not implement the HTTP/1.1 Upgrade to h2c. On the `http2`-only cleartext listener it treats the
  HTTP/1.1 request as a broken HTTP/2 preface (error log: `invalid connection preface while processing HTTP/2
  connection`) and answers with HTTP/2 frames, which curl reports as `Received HTTP/0.9 when not allowed` (exit 1).
  See `logs/h2c-upgrade.client.log` and `logs/h2c-upgrade.nginx.log`.
""")
p("Server certificate (`keys/tls-server.pem`):\n")
p("```\n" + sh("openssl x509 -in %s/keys/tls-server.pem -noout -subject -issuer -serial -enddate -ext subjectAltName,keyUsage,extendedKeyUsage -nameopt RFC2253; openssl x509 -in %s/keys/tls-server.pem -noout -text | grep 'Public-Key'" % (HERE, HERE)) + "\n```\n")
p("## Keys and secrets (`keys/`)\n")
p("| file | what |\n| --- | --- |")
p("| `proxyca.pem` | the test proxy CA certificate (`CN=scepdump Test TLS Proxy CA`); its key is not kept |")
p("| `tls-server.pem`, `tls-server.key` | nginx's server certificate (RSA 2048) and unencrypted key: decrypts the RSA key exchange of `tls12-rsa-kx.pcap` without a key log |")
p("| `tls12-http11.keylog` | curl's `SSLKEYLOGFILE` for `tls12-http11-enroll.pcap` (`CLIENT_RANDOM` line) |")
p("| `tls13-h2.keylog` | curl's `SSLKEYLOGFILE` for `tls13-h2-enroll.pcap` / `-nokeys.pcap` / embedded in `-secrets.pcapng` (TLS 1.3: `CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET`, `CLIENT/SERVER_TRAFFIC_SECRET_0`, `EXPORTER_SECRET`) |")
p("| `tls-handshake-failure.keylog` | both connections of `tls-handshake-failure.pcap` |")
p("| `tls12-rsa-kx.keylog` | `tls12-rsa-kx.pcap` |")
p("| `NAME.key`, `NAME.signer.pem` | scepclient's key and self-signed signer certificate for the PKIOperation in NAME (`tls12-http11-enroll`, `tls13-h2-enroll`, `h2c-prior-knowledge`, `tls12-rsa-kx`): decrypt the CertRep |")
p("| `ca.pem`, `ca.key` | the SCEP CA of the base captures (decrypts the request envelopes) |\n")
p("## Overview\n")
p("| capture | bytes | packets | TLS | cipher suite | ALPN | SNI | HTTP exchanges | PKIOperation transactionID pkiStatus | alerts |")
p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for f in CAPS:
    p(overview_row(f))
p("")
p("Verify with tshark (the decrypted SCEP requests):\n")
p("""```
cd captures
tshark -o tls.keylog_file:keys/tls12-http11.keylog -r tls12-http11-enroll.pcap -Y 'http || http2'
tshark -o tls.keylog_file:keys/tls13-h2.keylog     -r tls13-h2-enroll.pcap     -Y 'http || http2'
tshark -r tls13-h2-enroll-secrets.pcapng -Y 'http || http2'          # secrets embedded, no -o
tshark -r tls13-h2-enroll-nokeys.pcap   -Y 'http || http2'          # nothing: no secrets
tshark -r tls-handshake-failure.pcap    -Y tls.alert_message
tshark -d tcp.port==8444,http2 -r h2c-prior-knowledge.pcap -Y http2
tshark -o tls.keylog_file:keys/tls12-rsa-kx.keylog -r tls12-rsa-kx.pcap -Y http
tshark -o 'uat:rsa_keys:"keys/tls-server.key",""' -r tls12-rsa-kx.pcap -Y http   # server key instead
```
""")
for f in CAPS:
    n, how = HOW[f]
    p("## `%s`\n" % f)
    p(how + "\n")
    if f in ("tls13-h2-enroll-nokeys.pcap", "tls13-h2-enroll-secrets.pcapng"):
        p("Logs: those of `tls13-h2-enroll` (`logs/tls13-h2-enroll.*`).\n")
    else:
        p("nginx access log (`logs/%s.nginx-access.log`):\n" % n)
        p("```\n" + rel(access(n)) + "\n```\n")
        p("curl (`logs/%s.client.log`, extract of `curl -v`):\n" % n)
        p("```\n" + curl_log(n) + "\n```\n")
    p("Facts (describe-tls.sh):\n")
    p(sections.get(f, "(missing)\n").strip() + "\n")
print("\n".join(out))
PYEOF
