#!/bin/sh
# mk-ndes-ra.sh - NDES-shaped RA certificates issued by the test CA (ca.pem,
# ca.key), with the signing key kept so tests can sign CertReps the way NDES
# does, and the GetCACert body that hands them out. See README.md.
# Run from anywhere: sh tests/unit/data/mk-ndes-ra.sh
set -e
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=1.3.6.1.4.1.311.20.2.1,clientAuth\nbasicConstraints=CA:FALSE\n' >"$tmp/sign.ext"
printf 'keyUsage=critical,keyEncipherment\nbasicConstraints=CA:FALSE\n' >"$tmp/enc.ext"
openssl genrsa -out ndes-ra-sign.key 2048 2>/dev/null
openssl genrsa -out "$tmp/enc.key" 2048 2>/dev/null
openssl req -new -key ndes-ra-sign.key -subj "/CN=NDES-Exchange Enrollment Agent (Offline request)/O=scepdump test" -out "$tmp/sign.csr"
openssl req -new -key "$tmp/enc.key" -subj "/CN=NDES-CEP Encryption/O=scepdump test" -out "$tmp/enc.csr"
openssl x509 -req -in "$tmp/sign.csr" -CA ca.pem -CAkey ca.key -set_serial 0x21 -days 3650 -extfile "$tmp/sign.ext" -out ndes-ra-sign.pem 2>/dev/null
openssl x509 -req -in "$tmp/enc.csr" -CA ca.pem -CAkey ca.key -set_serial 0x20 -days 3650 -extfile "$tmp/enc.ext" -out ndes-ra-enc.pem 2>/dev/null
openssl crl2pkcs7 -nocrl -certfile ca.pem -certfile ndes-ra-sign.pem -certfile ndes-ra-enc.pem -outform DER -out ndes-ra.p7b
