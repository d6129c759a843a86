#!/bin/sh
# tls-mk.sh - rebuilds the tls-* fixtures of test_tls: real TLS sessions
# between openssl s_server and curl / openssl s_client on a private
# loopback (unshare --net, MTU 1500 so records span segments), captured by
# tcpdump, with the key logs the clients wrote (SSLKEYLOGFILE / -keylogfile).
# Run as root from this directory: sh tls-mk.sh [outdir]
set -eu
out=$(cd "${1:-.}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 3650 \
	-subj "/CN=scep.test/O=scepdump test" -addext "subjectAltName=DNS:scep.test" 2>/dev/null

cat > inner.sh <<'INNER'
set -eu
out=$1
ip link set lo up
ip link set lo mtu 1500
# no segmentation offload: the capture shows MTU-sized segments, as on a wire
ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
# one capture: name, server options, client command (keylog in $KL)
cap() {
	name=$1; sopts=$2; shift 2
	rm -f kl.txt
	tcpdump -i lo -s 0 -U -w "$out/tls-$name.pcap" tcp port 4433 2>/dev/null &
	tp=$!
	openssl s_server -quiet -accept 127.0.0.1:4433 -cert c.pem -key k.pem -www -alpn http/1.1 $sopts >/dev/null 2>&1 &
	sp=$!
	sleep 1
	KL=kl.txt "$@" >/dev/null 2>&1 || true
	sleep 1
	kill $sp; kill $tp; wait $tp || true
	if [ -f kl.txt ]; then cp kl.txt "$out/tls-$name.keylog"; fi
}
CURL="curl -s -o /dev/null --resolve scep.test:4433:127.0.0.1"
URL=https://scep.test:4433/
c() { SSLKEYLOGFILE=$KL $CURL "$@" $URL; }
cap 12-gcm "" c -k --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
cap 12-chacha "" c -k --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305
cap 12-cbc-etm "" c -k --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-SHA384
cap 12-rsa-cbc "-no_etm" c -k --tlsv1.2 --tls-max 1.2 --ciphers AES128-SHA
cap 13-aes128 "" c -k --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256
cap 13-aes256 "" c -k --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384
cap 13-chacha "" c -k --tlsv1.3 --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256
cap 12-fail "" c --tlsv1.2 --tls-max 1.2
cap 13-fail "" c --tlsv1.3
# KeyUpdate both ways: 'K' asks s_client to update and request the
# server's update, before the request is sent
ku() { (sleep 0.5; echo K; sleep 0.5; printf 'GET / HTTP/1.0\r\n\r\n'; sleep 1) |
	openssl s_client -connect 127.0.0.1:4433 -servername scep.test -tls1_3 -keylogfile $KL; }
cap 13-keyupdate "" ku
# session-id resumption: the second connection reuses the first's session
re() { printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:4433 -tls1_2 \
		-no_ticket -ign_eof -sess_out sess.pem -keylogfile $KL &&
	printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:4433 -tls1_2 \
		-no_ticket -ign_eof -sess_in sess.pem -keylogfile $KL; }
cap 12-resume "-no_ticket" re
INNER
unshare --net sh inner.sh "$out"
# the same session with its key log inside the file (Decryption Secrets Block)
editcap --inject-secrets tls,"$out/tls-12-gcm.keylog" "$out/tls-12-gcm.pcap" "$out/tls-12-gcm-dsb.pcapng"
rm -f "$out/tls-12-fail.keylog"  # curl logs nothing when the handshake fails
