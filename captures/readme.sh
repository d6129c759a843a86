#!/bin/bash
# readme.sh FACTS.md LOGDIR > README.md
# Writes captures/README.md from the facts extracted by describe.sh and from
# the peers' own logs (logs/*.log).  Called by make-captures.sh; the prose
# lives here, every number comes from describe.sh or from the logs.
set -euo pipefail
FACTS=$1
LOGS=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the repository, whose absolute path the logs hold: the README names paths
# relative to it, not those of the machine that made it
TOP=$(dirname "$HERE")

facts_of() {   # the describe.sh block of one capture file
    awk -v f="### \`$1\`" '
        $0 == f { on = 1; print; next }
        /^### `/ { on = 0 }
        on' "$FACTS" | sed '1d'
}

server_log() {   # what micromdm itself logged about requests
    sed -E 's/ ts=[^ ]+//; s/ caller=[^ ]+//; s/ component=[^ ]+//; s@/tmp/scepdump-captures\.[A-Za-z0-9]+@$WORK@g' "$LOGS/$1.scepserver.log" |
        sed "s#$TOP/##g" |
        grep -E 'scep_message_type|failed to sign|err="|error="[^n]' |
        grep -v -E 'error=null|err=null' || true
}

client_log() {   # the clients' own verdicts
    sed -E "s#/tmp/scepdump-captures\.[A-Za-z0-9]+#\$WORK#g; s# ts=[^ ]+##; s#$TOP/##g" "$LOGS/$1.client.log" |
        grep -E '^\$ |exit code|pkiStatus|failInfo|transaction|only RSA|unable to verify|State |status:|New |^[0-9]{3} ' || true
}

ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }

cat <<EOF
# Real SCEP traffic captures (real third-party peers)

> **Generated** by \`make-captures.sh\` (via \`readme.sh\` + \`describe.sh\`) on
> $(date -u '+%Y-%m-%d %H:%M UTC'). Edit those scripts, not this file.
> Every number below was extracted from the captures with tshark + openssl
> (\`describe.sh\`) or copied from the peers' own logs (\`logs/\`), **not** from scepdump.

Rebuild everything (captures, keys, logs, this README) from scratch, as root:

\`\`\`
sudo captures/make-captures.sh      # about 40 s
\`\`\`

Re-print the facts of any capture (also works outside the namespace):

\`\`\`
captures/describe.sh captures/*.pcap captures/*.pcapng
\`\`\`

## Peers and versions (Debian 12 packages)

| role | package | version |
| --- | --- | --- |
| SCEP server | \`scep\` (micromdm \`scepserver\`) | $(ver scep) |
| client | \`scep\` (micromdm \`scepclient\`) | $(ver scep) |
| client | \`certmonger\` (\`getcert\`, \`scep-submit\` helper) | $(ver certmonger) |
| client | \`strongswan-pki\` (\`pki --scep\`, \`pki --scepca\`) + \`libstrongswan-extra-plugins\` | $(ver strongswan-pki) / $(ver libstrongswan-extra-plugins) |
| client (garbage) | \`curl\` | $(ver curl) |
| capture | \`tcpdump\` / \`libpcap0.8\` | $(ver tcpdump) / $(ver libpcap0.8) |
| checksum fix | \`tcpreplay\` (\`tcprewrite --fixcsum\`) | $(ver tcpreplay) |
| capture (pcapng) | \`wireshark-common\` (\`dumpcap\`) | $(ver wireshark-common) |
| analysis | \`tshark\`, \`openssl\` | $(ver tshark), $(ver openssl) |

Kernel: $(uname -r).

## How the traffic was made

- \`make-captures.sh\` re-executes itself under \`unshare --net --mount\`: a private network
  namespace whose only interface is \`lo\` (127.0.0.1, ::1), set to \`mtu 1500\` with
  \`ethtool -K lo tso off gso off gro off tx off\`, so the captures hold ordinary ≤1514-byte
  frames (no 64 kB loopback super-packets). The host network is never touched.
- **Checksums:** on this kernel \`lo\` has \`tx-checksum-ip-generic: on [fixed]\` (ethtool cannot turn it
  off), so the kernel leaves TCP checksums partial (pseudo-header sum only) and tshark flags every TCP
  segment "Bad checksum". Every \`.pcap\` is therefore passed through \`tcprewrite --fixcsum\` after
  capture: only the IP/TCP checksum fields are recomputed (payloads, sizes, order and timestamps are
  untouched), so they look like a capture from a gateway. **\`enroll.pcapng\` is deliberately left exactly
  as dumpcap wrote it**, with the partial checksums a capture on the sending host shows.
- The private mount namespace is used for one thing only: an \`openssl.cnf\` that activates the
  OpenSSL **legacy** provider is bind-mounted over \`/etc/ssl/openssl.cnf\` (see certmonger below).
- CA: made with \`openssl req -x509\` (RSA 2048, SHA-256, serial 01,
  \`CN=scepdump Test SCEP CA,O=scepdump test CA,C=US\`, keyUsage
  \`digitalSignature, keyCertSign, cRLSign\` - certmonger rejects the CA made by
  \`scepserver ca -init\`, which lacks digitalSignature).
- Server: one fresh \`scepserver -depot DIR -port P -capass … -challenge scepdump-challenge -debug\`
  per capture (fresh depot, \`serial\` starting at 02, CA key stored as legacy DES3-encrypted PEM as the
  depot requires). It listens on \`:P\` (all addresses, IPv4 and IPv6). Path \`/scep\`.
  **micromdm has no separate RA: the CA key/cert itself signs CertRep and is the recipient of request
  envelopes**; GetCACert answers a single DER certificate (\`application/x-x509-ca-cert\`).
- Challenge: \`scepdump-challenge\` everywhere (wrong one: \`not-the-challenge\`).
- Capture: \`tcpdump -Z root -i lo -s 0 -w FILE 'tcp port P'\` (pcap, linktype EN10MB), started and
  confirmed ("listening on") before any traffic, stopped with SIGINT one second after the last client
  exits, then checksum-fixed (below). \`enroll.pcapng\` is a separate capture made natively in pcapng by
  \`dumpcap -i lo -f 'tcp port P' -w FILE --capture-comment …\`.
- Traffic before a capture starts (the initial enrollments that renewals need) is not captured, but the
  logs in \`logs/\` (and the log extracts below) cover the whole scenario, including that traffic.
- \`logs/NAME.scepserver.log\` is micromdm's \`-debug\` log, \`logs/NAME.client.log\` the client commands
  with their output and exit codes, \`logs/certmonger-get-enroll.certmonger.log\` certmonger's \`-d 2\` log.

TLS and HTTP/2 captures (nginx + curl in front of scepserver: \`tls12-http11-enroll.pcap\`, \`tls13-h2-enroll*.pcap*\`,
\`tls-handshake-failure.pcap\`, \`h2c-prior-knowledge.pcap\`, \`tls12-rsa-kx.pcap\`) are described in
[\`tls/README.md\`](tls/README.md), not here (\`make-captures.sh --only tls\` rebuilds them alone).

Ports: 8001 scepclient-post-enroll, 8002 certmonger-get-enroll, 8003 strongswan-enroll, 8004 renewal,
8005 wrong-challenge, 8006 duplicate-subject, 8007 garbage-http500, 8008 concurrent-20, 8009 ipv6-enroll,
8010 enroll.pcapng, 8011 scepclient-renewal, 8012 renewal-rejected.

## Keys (\`keys/\`)

| file | what |
| --- | --- |
| \`ca.pem\`, \`ca.key\` | CA (= RA) certificate and unencrypted PEM key: decrypts every request envelope (pkcsPKIEnvelope of PKCSReq/RenewalReq) |
| \`NAME.key\` | the client's private key for capture NAME (\`concurrent-20-NN.key\`, \`duplicate-subject-1/2.key\` for multi-client captures) |
| \`NAME.signer.pem\` | the self-signed signer certificate that client put in its request, extracted from the capture by \`describe.sh --save-signers\`. CertRep envelopes are encrypted to this certificate, so \`NAME.key\` + \`NAME.signer.pem\` decrypt them |
| \`NAME.old.key\`, \`NAME.old.cert.pem\` | renewals: the existing key/certificate that signed the RenewalReq. **The CertRep to a RenewalReq is encrypted to the old certificate**, so decrypt it with \`NAME.old.key\` |
| \`NAME.cert.pem\` | the certificate issued in the capture (from the client, or from the server depot when the client refused the CertRep) |

Decrypting by hand (DES needs the legacy provider in OpenSSL 3). \`tshark -r FILE --export-objects http,DIR\`
writes POST bodies and response bodies to DIR (it misses certmonger's GET request, see below):

\`\`\`
# request: body of the POST (or base64 of GET message=) saved as req.der
openssl cms -verify -noverify -inform DER -in req.der -out env.der        # the pkcsPKIEnvelope
openssl cms -decrypt -inform DER -in env.der -inkey keys/ca.key -recip keys/ca.pem \\
        -provider default -provider legacy | openssl req -inform DER -noout -text
# CertRep: response body saved as rep.der
openssl cms -verify -noverify -inform DER -in rep.der -out env.der
openssl cms -decrypt -inform DER -in env.der -inkey keys/NAME.key -recip keys/NAME.signer.pem \\
        -provider default -provider legacy | openssl pkcs7 -inform DER -print_certs
\`\`\`

## Overview

| capture | size (bytes) | packets | client → server | what |
| --- | --- | --- | --- | --- |
EOF

row() {   # row FILE CLIENT WHAT
    local f=$1
    printf '| [`%s`](#%s) | %s | %s | %s | %s |\n' "$f" "$(echo "$f" | tr -d '.')" \
        "$(stat -c %s "$HERE/$f")" "$(capinfos -M -c "$HERE/$f" | awk -F': *' '/Number of packets/ {print $2}')" "$2" "$3"
}
row scepclient-post-enroll.pcap "scepclient → scepserver" "full enrollment, POST PKIOperation (application/octet-stream), SUCCESS"
row certmonger-get-enroll.pcap "certmonger → scepserver" "full enrollment, GET PKIOperation message=, GetCACert message=0/1, AES-256 request, SUCCESS"
row strongswan-enroll.pcap "strongSwan pki → scepserver" "full enrollment, POST without Content-Type, hex transactionID, 3DES request, SUCCESS on the wire (client then rejects CertRep signature)"
row renewal.pcap "strongSwan pki → scepserver (-allowrenew 0)" "RenewalReq (17) signed with the old certificate, new key, SUCCESS"
row renewal-rejected.pcap "strongSwan pki → scepserver (default -allowrenew 14)" "RenewalReq (17) of a fresh certificate, FAILURE badRequest"
row scepclient-renewal.pcap "scepclient -certificate → scepserver (-allowrenew 0)" "RenewalReq (17) re-using the same key, SUCCESS"
row wrong-challenge.pcap "scepclient → scepserver" "wrong challengePassword, FAILURE badRequest"
row duplicate-subject.pcap "2 × scepclient → scepserver" "same subject twice: SUCCESS, then FAILURE badRequest"
row garbage-http500.pcap "curl → scepserver" "garbage PKIOperation POST/GET, unknown operation, GetNextCACert → HTTP 500 text/plain"
row concurrent-20.pcap "20 × scepclient in parallel → scepserver" "20 concurrent enrollments (RSA 1024); micromdm depot races → FAILUREs and duplicate serials"
row ipv6-enroll.pcap "strongSwan pki → scepserver over ::1" "full enrollment over IPv6, SUCCESS on the wire"
row enroll.pcapng "scepclient → scepserver" "full enrollment, native pcapng (dumpcap), SUCCESS; TCP checksums left as captured (partial)"

section() {   # section FILE NAME(log base) then prose on stdin
    local f=$1 n=$2
    echo
    echo "## \`$f\`"
    echo
    cat
    echo
    if [[ $n == concurrent-20 ]]; then
        echo "Server log summary (micromdm): $(grep -c 'scep_message_type=' "$LOGS/$n.scepserver.log") pkiMessages parsed; errors:"
        echo
        echo '```'
        grep -o 'msg="failed to sign CSR" err="[^"]*"' "$LOGS/$n.scepserver.log" | sed -E 's@/tmp/scepdump-captures\.[A-Za-z0-9]+@$WORK@' | sort | uniq -c || echo "(none)"
        echo '```'
        echo
        echo "Attempts needed by make-captures.sh ($(cat "$LOGS/$n.attempts"))."
        echo
        res=$(facts_of concurrent-20.pcap | grep -m1 '^PKIOperation results' || true)
        dup=$(facts_of concurrent-20.pcap | grep -m1 'Duplicate issued serial' || true)
        echo "**This build:** ${res:-?}"
        echo
        echo "${dup:-No duplicate serial numbers were issued in this build.}"
    else
        echo "Server log (micromdm, filtered: message types and errors):"
        echo
        echo '```'
        server_log "$n"
        echo '```'
    fi
    echo
    if [[ $n == concurrent-20 ]]; then
        echo "Client exit codes (scepclient): $(grep -c 'exit code 0' "$LOGS/$n.client.log") × 0, $(grep -c 'exit code [1-9]' "$LOGS/$n.client.log") × non-zero."
    else
        echo "Client commands and verdicts (filtered from \`logs/$n.client.log\`):"
        echo
        echo '```'
        client_log "$n"
        echo '```'
    fi
    echo
    echo "Facts from the capture (\`describe.sh $f\`):"
    echo
    if [[ $n == concurrent-20 ]]; then
        facts_of "$f" | sed '/^Details:/,$d'
        echo "(per-message details omitted here: run \`describe.sh concurrent-20.pcap\`)"
    else
        facts_of "$f"
    fi
}

section scepclient-post-enroll.pcap scepclient-post-enroll <<'EOF'
micromdm `scepclient` (generates an RSA 2048 key, self-signed signer certificate `CN=SCEP SIGNER,O=scepdump`)
enrolls `CN=scepclient-post-enroll,OU=MDM,O=scepdump,C=US`:
GetCACert → GetCACaps → PKIOperation PKCSReq as POST with `Content-Type: application/octet-stream`,
all on one keep-alive connection; base64 transactionID; SHA-1 signature, DES-CBC request envelope.
The server answers CertRep SUCCESS with the issued certificate (serial 02) inside a DES-CBC envelope.
```
scepclient -server-url http://127.0.0.1:8001/scep -private-key client.key -challenge scepdump-challenge \
           -cn scepclient-post-enroll -organization scepdump -ou MDM -country US -keySize 2048 -debug
```
EOF

section certmonger-get-enroll.pcap certmonger-get-enroll <<'EOF'
certmonger daemon with private state (`CERTMONGER_REQUESTS_DIR`, `CERTMONGER_CAS_DIR`, `CERTMONGER_TMPDIR`,
`CERTMONGER_CONFIG_DIR`, `CERTMONGER_LOCAL_CA_DIR`, `CERTMONGER_SYSTEM_LOCK_FILE` under the temporary dir),
reached by `getcert` through certmonger's own private listening socket (`certmonger -L -P SOCKET -n`,
`CERTMONGER_PVT_ADDRESS=unix:path=SOCKET`) instead of a D-Bus bus: no bus is needed at all.
```
getcert add-scep-ca -c scepdump -u http://127.0.0.1:8002/scep -N keys/ca.pem
getcert request -c scepdump -I certmonger-get-enroll -w -k keys/certmonger-get-enroll.key -f CERT \
                -N "CN=certmonger-get-enroll,O=scepdump" -L scepdump-challenge
```
On the wire: `add-scep-ca` makes certmonger fetch GetCACaps (with `message=0`), GetCACert `message=0` and
GetCACert `message=1`; the request then sends GetCACaps again and **PKIOperation as GET** with a ~3.8 kB
percent-encoded base64 `message=` (certmonger ignores `POSTPKIOperation`), each request on its own
connection. transactionID is decimal and equals the serial of the self-signed signer certificate; the
request envelope is AES-256-CBC, signature SHA-256 with `rsaEncryption`. CertRep SUCCESS, DES-CBC envelope.

certmonger findings:
- Without the OpenSSL legacy provider certmonger cannot decrypt micromdm's DES-CBC CertRep envelope
  (`error:0308010C:digital envelope routines::unsupported`, "Error decrypting PKCS#7") and the request
  ends in **NEED_GUIDANCE** although the server issued the certificate (SCEP status "success"). certmonger
  `clearenv()`s before running helpers, so `OPENSSL_CONF` is ignored; the script therefore bind-mounts a
  legacy-enabled `openssl.cnf` in its private mount namespace. The traffic is identical either way.
- tshark 4.0 does not recognise the GET PKIOperation request (its request line spans three TCP segments
  and has no CRLF in the first one): it only shows TCP segments and the response. `describe.sh`
  therefore reassembles streams with `-z follow,tcp,raw` and splits HTTP itself.
- micromdm re-orders the subject: the CSR says `CN=…,O=…` in DER order, the issued certificate has `O`, `CN`.
EOF

section strongswan-enroll.pcap strongswan-enroll <<'EOF'
strongSwan 5.9.8 `pki`: `pki --scepca` (GetCACert) then `pki --scep` (GetCACaps, PKIOperation), each
HTTP request on a new connection. PKIOperation is a POST **without Content-Type**; transactionID is
40 uppercase hex digits (the SHA-1 of the DER SubjectPublicKeyInfo), and the self-signed signer
certificate carries the requested subject and has the transactionID as its serial; request envelope 3DES (`--cipher des3`, because 5.9.8 mis-parses the AES
capability), signature SHA-256 (`sha256WithRSAEncryption`).
```
pki --gen --type rsa --size 2048 --outform pem > keys/strongswan-enroll.key
pki --scepca --url http://127.0.0.1:8003/scep
pki --scep --url http://127.0.0.1:8003/scep --in keys/strongswan-enroll.key \
    --dn "C=US, O=scepdump, CN=strongswan-enroll" --password scepdump-challenge \
    --cacert-enc keys/ca.pem --cacert-sig keys/ca.pem --cipher des3 --outform pem
```
The server issues the certificate (CertRep SUCCESS on the wire), but **strongSwan rejects the CertRep**:
"only RSA digest encryption supported / unable to verify PKCS#7 container" (exit code 1). micromdm puts
`sha1WithRSAEncryption` in SignerInfo.signatureAlgorithm; strongSwan's pkcs7 and openssl plugins both
accept only `rsaEncryption` there. A real "server says SUCCESS, client never installs" interop failure.
`keys/strongswan-enroll.cert.pem` was therefore copied from the server depot.
(The strongSwan config used only drops the `tpm` plugin to silence TPM warnings.)
EOF

section renewal.pcap renewal <<'EOF'
Renewal by strongSwan with a **new key**, the RenewalReq signed with the **existing certificate**
(serial 02, obtained just before by a strongSwan enrollment that is not in the capture) against
`scepserver … -allowrenew 0` (0 = always allow renewal). micromdm accepts it and issues serial 03.
```
pki --scep --url http://127.0.0.1:8004/scep --in keys/renewal.key --dn "C=US, O=scepdump, CN=renewal" \
    --password scepdump-challenge --cacert-enc keys/ca.pem --cacert-sig keys/ca.pem --cipher des3 \
    --cert keys/renewal.old.cert.pem --key keys/renewal.old.key
```
messageType is 17 (RenewalReq) on the wire (see the facts below and the server log). The CertRep is
encrypted to the *old* certificate: decrypt it with `keys/renewal.old.key`. strongSwan again rejects the
CertRep signature (see strongswan-enroll).
EOF

section renewal-rejected.pcap renewal-rejected <<'EOF'
Same as `renewal.pcap` but against a server with the default `-allowrenew 14` (renewal allowed only in the
last 14 days of validity) and a certificate that is valid for 365 more days: micromdm refuses the
RenewalReq because the DN already exists → CertRep FAILURE, failInfo badRequest (no envelope, no
failInfoText). strongSwan cannot verify this CertRep either, so it reports no SCEP status.
EOF

section scepclient-renewal.pcap scepclient-renewal <<'EOF'
micromdm `scepclient` renewal: run again with `-certificate` pointing to the certificate it obtained just
before (not captured). It then signs with that certificate and sends messageType 17 (RenewalReq) — with
the **same** key (scepclient cannot re-key) and the **same transactionID** as the original enrollment
(apparently derived from the key). Server `-allowrenew 0`: SUCCESS, serial 03.
```
scepclient -server-url http://127.0.0.1:8011/scep -private-key client.key -certificate client.pem \
           -challenge scepdump-challenge -cn scepclient-renewal -organization scepdump -ou MDM -country US
```
EOF

section wrong-challenge.pcap wrong-challenge <<'EOF'
scepclient enrollment with challengePassword `not-the-challenge`. micromdm logs "invalid challenge" and
answers CertRep **FAILURE, failInfo 2 (badRequest)**, no pkcsPKIEnvelope, no failInfoText, HTTP 200.
The wrong challenge is visible after decrypting the request with `keys/ca.key`.
EOF

section duplicate-subject.pcap duplicate-subject <<'EOF'
Two scepclient enrollments of the same subject `CN=duplicate-subject,OU=MDM,O=scepdump,C=US` with two
different keys, both in the capture. The first gets SUCCESS (serial 02); for the second micromdm logs
`DN /C=US/O=scepdump/OU=MDM/CN=duplicate-subject already exists` and answers CertRep **FAILURE, failInfo 2
(badRequest)** — the same failInfo as a wrong challenge, so only the server log tells them apart.
(micromdm allows re-issuing an existing DN only within `-allowrenew` days of expiry; default 14.)
EOF

section garbage-http500.pcap garbage-http500 <<'EOF'
curl (HTTP/1.1), five requests, each on its own connection:
1. `POST ?operation=PKIOperation` with `Content-Type: application/x-pki-message` and a 32-byte text body;
2. `GET ?operation=PKIOperation&message=Z2FyYmFnZQ%3D%3D` (base64 of "garbage");
3. `GET ?operation=PKIOperation&message=%25%25not-base64%25%25`;
4. `GET ?operation=NoSuchOperation`;
5. `GET ?operation=GetNextCACert` (a valid SCEP operation micromdm does not implement).

micromdm answers all five with **HTTP 500, `text/plain; charset=utf-8`**, the body being the Go error
text (`ber2der: …`, `invalid URL escape "%%n"`, `operation not implemented`). Request 3 shows micromdm
percent-decodes `message` a second time after Go already decoded the query. An unknown operation is a 500
too, not a 400, and so is GetNextCACert (`operation not implemented`).
EOF

section concurrent-20.pcap concurrent-20 <<'EOF'
20 scepclient processes started at once (RSA **1024**-bit keys to keep the file small; subjects
`CN=concurrent-20-01` … `-20`, one key per client in `keys/concurrent-20-NN.key`), all against one
scepserver. micromdm's file depot is not safe under concurrency: some requests fail with
`failed to sign CSR err="could not convert  to serial number"` (the `serial` file read while another request
rewrites it; REAL-PEERS.md also saw `depot/serial: file exists`), answered as CertRep **FAILURE badRequest**, and —
visible only by decrypting the CertReps — **the same serial number can be issued to two different
certificates**. How many fail, and which serials collide, changes from run to run (some bursts have no
failure at all: the script repeats the burst, up to 5 times, until at least one client fails). The
numbers below are those of this build.
EOF

section ipv6-enroll.pcap ipv6-enroll <<'EOF'
The strongSwan enrollment of `strongswan-enroll.pcap` over IPv6 loopback (`http://[::1]:8009/scep`,
Host header `[::1]:8009`); scepserver listens on all addresses. SUCCESS on the wire; strongSwan again
refuses the CertRep signature; `keys/ipv6-enroll.cert.pem` comes from the depot.
EOF

section enroll.pcapng enroll <<'EOF'
A distinct capture (not a conversion), written natively as pcapng by `dumpcap` (section header block with
a capture comment, interface description block for `lo`, enhanced packet blocks with ns timestamps) of a
scepclient enrollment of `CN=scepclient-pcapng-enroll,OU=MDM,O=scepdump,C=US`. Same flow as
`scepclient-post-enroll.pcap`. Unlike the `.pcap` files it is **not** checksum-fixed: every TCP segment
carries the partial loopback checksum (tshark: "Bad checksum"), as in any capture taken on the sending
host with checksum offload — a dissector must not reject such segments.
EOF

section same-key-reenroll.pcap same-key-reenroll <<'EOF'
micromdm `scepclient` run twice in one directory: the second run keeps the first one's key and CSR, so it
sends the same transactionID (RFC 8894 derives it from the key), as a Cisco router re-enrolling with its
old key does. The first PKCSReq is answered SUCCESS (serial 02); the second, a new request for a DN the
CA has just issued, is answered CertRep FAILURE badRequest (server log: "DN ... already exists"). The two
requests carry different self-signed signer certificates (serials differ) over the same public key.
```
scepclient -server-url http://127.0.0.1:8014/scep -private-key client.key -challenge scepdump-challenge \
           -cn same-key-reenroll -organization scepdump -ou MDM -country US -keySize 2048 -debug   # twice
```
EOF

cat <<'EOF'

## Derived captures (`derived/`) and the real LINUX_SLL2 capture

`make-captures.sh` ends by running `make-derived.sh`, which derives test files from the captures
above without re-capturing anything (reordered, duplicated and dropped TCP segments, snaplen 200,
non-standard port, 802.1Q / QinQ tags, LINUX_SLL2, a two-interface pcapng, `concurrent-20` split in
two files and shuffled, a truncated file, a garbage file, a response-only capture); see
[`derived/README.md`](derived/README.md). `scepclient-any-sll2.pcap` (port 8013) is a real
`tcpdump -i any` capture (linktype LINUX_SLL2) of one more scepclient enrollment, also made alone by
`make-captures.sh --only sll2`; it is described there too, not below.

## Behaviour of the real peers worth knowing (all visible in these captures)

- micromdm CertRep: always SHA-1 digest with `sha1WithRSAEncryption` as SignerInfo.signatureAlgorithm
  (strongSwan 5.9.8 cannot verify it), envelope always **single DES-CBC** whatever the request used
  (AES-256 from certmonger, 3DES from strongSwan) and although GetCACaps does not advertise DES.
- micromdm CertRep **senderNonce equals the request's senderNonce** (and recipientNonce echoes it too) —
  it is not a fresh nonce.
- SUCCESS CertRep carries the issued certificate and the CA certificate in `certificates`; FAILURE
  carries only the CA certificate, no envelope, no failInfoText. micromdm never answers PENDING.
- GetCACaps: `Renewal, SHA-1, SHA-256, AES, DES3, SCEPStandard, POSTPKIOperation` (LF-separated, no
  GetNextCACert). GetCACert: one DER certificate, `application/x-x509-ca-cert`, whatever `message` says.
- Responses use `Transfer-Encoding: chunked` for pkiMessages and Content-Length for small bodies.
- Clients: scepclient POSTs `application/octet-stream`, base64 transactionID, SHA-1, DES; certmonger
  GETs with a percent-encoded `message=`, decimal transactionID, SHA-256, AES-256; strongSwan POSTs without
  Content-Type, hex transactionID, SHA-256, 3DES, one connection per request.

## Not done / limitations

- No PENDING / CertPoll (GetCertInitial), GetCert or GetCRL traffic and no successful GetNextCACert:
  micromdm never answers PENDING (no manual-approval mode), so no client polls; none of these clients
  sends GetCert/GetCRL; micromdm answers GetNextCACert with HTTP 500. `apt-cache search scep` finds no
  other SCEP server in Debian 12, so micromdm is the only server peer.
- strongSwan and certmonger were not given a successful CertRep from another server, so their handling
  of SUCCESS is only seen with micromdm (strongSwan refuses it, certmonger needs the legacy provider).
- No TLS captures here (the nginx TLS proxy recipe in REAL-PEERS.md can put these messages through TLS).
- Keys, nonces, transactionIDs, signer serials and timestamps change on every rebuild; subjects, challenge,
  ports and flows do not. `concurrent-20.pcap`'s success/failure split is nondeterministic.
- BER/indefinite-length encodings (iOS) are not produced by any of these peers (all DER).
EOF

# The NDES-shaped captures (ndes-*) are made by make-ndes.sh, which generates
# their section and keeps a copy in logs/: carry it over.
if [[ -f "$LOGS/ndes-README-section.md" ]]; then
    echo
    cat "$LOGS/ndes-README-section.md"
fi
