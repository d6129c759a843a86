#!/bin/sh
# certs-gen.sh OUT.p7b [N] - a certificates-only PKCS#7 (what a GetCACert
# answers) carrying N certificates (default 10000), as `openssl crl2pkcs7
# -nocrl -certfile many.pem` writes it. openssl makes one self-signed P-256
# certificate; python3 (standard library) copies it N times with serials
# 1..N written into its DER (the signatures no longer verify: parsing is
# what a hostile message costs, and these parse). Deterministic but for
# the key and the dates openssl picks.
set -eu
out=$1
n=${2:-10000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/certs-gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -subj "/CN=hostile CA" \
	-days 3650 -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl x509 -in "$tmp/cert.pem" -outform DER -out "$tmp/cert.der"
python3 - "$tmp/cert.der" "$n" >"$tmp/many.pem" <<'PY'
import base64
import sys

der = open(sys.argv[1], "rb").read()
count = int(sys.argv[2])


def header(b, i):
    """(content offset, content length) of the DER element at i."""
    n = b[i + 1]
    if n < 0x80:
        return i + 2, n
    k = n & 0x7F
    return i + 2 + k, int.from_bytes(b[i + 2:i + 2 + k], "big")


tbs, _ = header(der, 0)             # Certificate -> tbsCertificate
at, _ = header(der, tbs)            # its first element
if der[at] == 0xA0:                 # [0] version, then the serial
    start, ln = header(der, at)
    at = start + ln
sstart, slen = header(der, at)
if slen < 4:
    sys.exit("certs-gen: serial too short to number %d copies" % count)
for i in range(count):
    c = bytearray(der)
    c[sstart + slen - 4:sstart + slen] = (i + 1).to_bytes(4, "big")
    sys.stdout.write("-----BEGIN CERTIFICATE-----\n")
    sys.stdout.write(base64.encodebytes(bytes(c)).decode())
    sys.stdout.write("-----END CERTIFICATE-----\n")
PY
openssl crl2pkcs7 -nocrl -certfile "$tmp/many.pem" -outform DER -out "$out"
