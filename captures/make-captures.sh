#!/bin/bash
# make-captures.sh - rebuild every real-peer SCEP capture in this directory.
#
# Run as root, from anywhere:   sudo captures/make-captures.sh
#
# Everything runs inside a private network namespace (only "lo": 127.0.0.1
# and ::1) and a private mount namespace created by `unshare --net --mount`;
# the host network and host files are never touched.  The script rewrites
# captures/*.pcap, captures/*.pcapng, captures/keys/*, captures/logs/* and
# captures/README.md (README.md is GENERATED: edit this script, not README.md).
#
# Debian 12 packages used (apt-get install ...):
#   scep (micromdm scepserver/scepclient 2.1.0), certmonger,
#   strongswan-pki, libstrongswan-extra-plugins, tcpdump,
#   tshark + wireshark-common (capinfos, dumpcap), tcpreplay (tcprewrite), curl, openssl,
#   iproute2, ethtool, util-linux (unshare), python3 (stdlib only, for describe.sh)
#
# Peers: micromdm scepserver is the only server; the clients are micromdm
# scepclient, certmonger (scep-submit helper), strongSwan `pki --scep` and curl.
#
# At the end, make-derived.sh derives captures/derived/* (reordered,
# duplicated, tagged, SLL2, truncated, ... variants) from the new captures.
#
#   sudo captures/make-captures.sh --only sll2
# makes ONLY scepclient-any-sll2.pcap (one scepclient enrollment captured with
# `tcpdump -i any`, linktype LINUX_SLL2), re-using the existing keys/ca.*;
# every other capture, key and log is left untouched.
#
#   sudo captures/make-captures.sh --only same-key
# makes ONLY same-key-reenroll.pcap (scepclient enrolling twice with the same
# key, as a Cisco router re-enrolls), re-using the existing keys/ca.*.
#
#   sudo captures/make-captures.sh --only tls
# makes ONLY the TLS / HTTP/2 captures (nginx + curl in front of scepserver,
# see make-tls.sh and tls/README.md), re-using the existing keys/ca.*; every
# other capture, key and log is left untouched.  The full rebuild makes them
# too (after the base captures; the base captures' bytes do not depend on them).
set -euo pipefail

CAPDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$CAPDIR/$(basename "${BASH_SOURCE[0]}")"

# ---------------------------------------------------------------------------
# 0. re-exec inside a private network + mount namespace
# ---------------------------------------------------------------------------
if [[ "${_SCEPCAP_INNER:-}" != 1 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "make-captures.sh: must be run as root (needs unshare/tcpdump)" >&2
        exit 1
    fi
    exec unshare --net --mount --propagation private \
        env _SCEPCAP_INNER=1 bash "$SELF" "$@"
fi

log() { printf '[make-captures %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ONLY=""
case "${1:-}" in
    "") ;;
    --only)
        [[ "${2:-}" == sll2 || "${2:-}" == tls || "${2:-}" == same-key ]] ||
            die "usage: make-captures.sh [--only sll2|tls|same-key]"
        ONLY=$2 ;;
    *) die "usage: make-captures.sh [--only sll2|tls|same-key]" ;;
esac

# --- fixed, deterministic-ish settings -------------------------------------
CAPASS='scepdump-capass'          # password of the depot's encrypted CA key
CHALLENGE='scepdump-challenge'    # the challenge every scepserver enforces
WRONG_CHALLENGE='not-the-challenge'
ORG='scepdump'

# one scepserver (fresh depot, serial 02) per capture, each on its own port
PORT_SCEPCLIENT=8001   # scepclient-post-enroll.pcap
PORT_CERTMONGER=8002   # certmonger-get-enroll.pcap
PORT_STRONGSWAN=8003   # strongswan-enroll.pcap
PORT_RENEWAL=8004      # renewal.pcap
PORT_WRONGCHAL=8005    # wrong-challenge.pcap
PORT_DUPLICATE=8006    # duplicate-subject.pcap
PORT_GARBAGE=8007      # garbage-http500.pcap
PORT_CONCURRENT=8008   # concurrent-20.pcap
PORT_IPV6=8009         # ipv6-enroll.pcap
PORT_PCAPNG=8010       # enroll.pcapng
PORT_SC_RENEWAL=8011   # scepclient-renewal.pcap
PORT_RENEW_REJ=8012    # renewal-rejected.pcap
PORT_SLL2=8013         # scepclient-any-sll2.pcap (tcpdump -i any)
PORT_SAMEKEY=8014      # same-key-reenroll.pcap

# ---------------------------------------------------------------------------
# 1. namespace network setup: loopback only, real 1500-byte frames
# ---------------------------------------------------------------------------
ip link set lo up mtu 1500
ethtool -K lo tso off gso off gro off tx off >/dev/null
if ip -o link show | grep -v ': lo:' | grep -q .; then
    die "unexpected interfaces in the private namespace"
fi

WORK=$(mktemp -d /tmp/scepdump-captures.XXXXXX)
declare -a PIDS=()
cleanup() {
    local rc=$?
    set +e
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# OpenSSL 3 refuses single DES (which micromdm uses for every CertRep
# envelope) unless the legacy provider is loaded.  certmonger clears its
# environment (clearenv) before running its helpers, so OPENSSL_CONF does not
# reach them: bind-mount a config that activates default+legacy over
# /etc/ssl/openssl.cnf, inside our private mount namespace only.
cat > "$WORK/openssl-legacy.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
EOF
mount --bind "$WORK/openssl-legacy.cnf" /etc/ssl/openssl.cnf

# ---------------------------------------------------------------------------
# 2. output dirs and the CA (made with openssl, not `scepserver ca -init`)
# ---------------------------------------------------------------------------
KEYS="$CAPDIR/keys"
LOGS="$CAPDIR/logs"
mkdir -p "$KEYS" "$LOGS"
if [[ -n $ONLY ]]; then
    [[ -f "$KEYS/ca.pem" && -f "$KEYS/ca.key" ]] || die "--only $ONLY needs the existing keys/ca.pem and keys/ca.key"
else
rm -f "$CAPDIR"/*.pcap "$CAPDIR"/*.pcapng "$KEYS"/* "$LOGS"/*

cat > "$WORK/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
C = US
O = scepdump test CA
CN = scepdump Test SCEP CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
log "creating CA"
openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -set_serial 1 -config "$WORK/ca.cnf" \
    -keyout "$KEYS/ca.key" -out "$KEYS/ca.pem" 2>/dev/null
openssl pkey -in "$KEYS/ca.key" -out "$KEYS/ca.key.tmp" && mv "$KEYS/ca.key.tmp" "$KEYS/ca.key"
fi

# micromdm depot template: legacy (traditional) encrypted PEM key, serial 02
mkdir -p "$WORK/depot-template"
cp "$KEYS/ca.pem" "$WORK/depot-template/ca.pem"
openssl rsa -in "$KEYS/ca.key" -traditional -des3 -passout "pass:$CAPASS" \
    -out "$WORK/depot-template/ca.key" 2>/dev/null
echo 02 > "$WORK/depot-template/serial"
: > "$WORK/depot-template/index.txt"

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
wait_port() {   # wait_port PORT
    local i
    for i in $(seq 100); do
        ss -Hltn "sport = :$1" | grep -q . && return 0
        sleep 0.1
    done
    die "nothing listens on port $1"
}

SERVER_PID=""
start_server() {   # start_server NAME PORT [extra scepserver args...]
    local name=$1 port=$2; shift 2
    rm -rf "$WORK/$name"
    mkdir -p "$WORK/$name"
    cp -a "$WORK/depot-template" "$WORK/$name/depot"
    scepserver -depot "$WORK/$name/depot" -port "$port" -capass "$CAPASS" \
        -challenge "$CHALLENGE" -debug "$@" \
        > "$LOGS/$name.scepserver.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_port "$port"
}
stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

CAP_PID=""
CAP_TMP=""
CAP_OUT=""
CAP_FMT=""
start_capture() {   # start_capture OUTFILE PORT [pcapng]
    CAP_OUT=$1
    CAP_TMP="$WORK/$(basename "$1")"
    local port=$2 fmt=${3:-pcap}
    CAP_FMT=$fmt
    : > "$WORK/capture.err"
    if [[ $fmt == any ]]; then
        # the Linux "any" device: tcpdump 4.99/libpcap 1.10 write LINUX_SLL2
        tcpdump -Z root -i any -s 0 -w "$CAP_TMP" "tcp port $port" \
            2> "$WORK/capture.err" &
        CAP_PID=$!
        PIDS+=("$CAP_PID")
        for _ in $(seq 100); do
            grep -q "listening on" "$WORK/capture.err" && break
            sleep 0.1
        done
        grep -q "listening on" "$WORK/capture.err" || die "tcpdump did not start: $(cat "$WORK/capture.err")"
        grep -q "LINUX_SLL2" "$WORK/capture.err" || die "tcpdump -i any did not use LINUX_SLL2: $(cat "$WORK/capture.err")"
    elif [[ $fmt == pcapng ]]; then
        # dumpcap writes pcapng natively (SHB/IDB with interface metadata)
        dumpcap -q -i lo -s 0 -f "tcp port $port" -w "$CAP_TMP" \
            --capture-comment "scepdump real-peer SCEP capture (make-captures.sh)" \
            2> "$WORK/capture.err" &
        CAP_PID=$!
        PIDS+=("$CAP_PID")
        for _ in $(seq 100); do
            grep -q "Capturing on" "$WORK/capture.err" && break
            sleep 0.1
        done
        grep -q "Capturing on" "$WORK/capture.err" || die "dumpcap did not start: $(cat "$WORK/capture.err")"
    else
        tcpdump -Z root -i lo -s 0 -w "$CAP_TMP" "tcp port $port" \
            2> "$WORK/capture.err" &
        CAP_PID=$!
        PIDS+=("$CAP_PID")
        for _ in $(seq 100); do
            grep -q "listening on" "$WORK/capture.err" && break
            sleep 0.1
        done
        grep -q "listening on" "$WORK/capture.err" || die "tcpdump did not start: $(cat "$WORK/capture.err")"
    fi
    sleep 0.3
}
stop_capture() {
    sleep 1
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
    if [[ $CAP_OUT == *.pcapng ]]; then
        # kept exactly as dumpcap wrote it (partial loopback TCP checksums)
        cp "$CAP_TMP" "$CAP_OUT"
    elif [[ $CAP_FMT == any ]]; then
        # tcprewrite has no LINUX_SLL2 plugin: same checksum fix, by pcaptool.py
        python3 "$CAPDIR/pcaptool.py" fixcsum "$CAP_TMP" "$CAP_OUT" >/dev/null
    else
        # lo's tx-checksum-ip-generic is [fixed] on on this kernel, so the
        # kernel leaves TCP checksums partial; recompute the IP/TCP checksum
        # fields (nothing else changes) so the file looks like a wire capture.
        tcprewrite --fixcsum -i "$CAP_TMP" -o "$CAP_OUT" >/dev/null
    fi
    chmod 644 "$CAP_OUT"
    log "wrote $(basename "$CAP_OUT") ($(stat -c %s "$CAP_OUT") bytes)"
    CAP_PID=""
}

# run a client command, never abort on its failure; record its exit code
CLIENT_RC=0
run_client() {   # run_client LOGFILE cmd...
    local logf=$1; shift
    CLIENT_RC=0
    { echo "\$ $*"; "$@"; } >> "$logf" 2>&1 || CLIENT_RC=$?
    echo "[exit code $CLIENT_RC]" >> "$logf"
}

# strongSwan's pki prints noise about a missing TPM library; harmless.
SS_CONF="$WORK/strongswan.conf"
cat > "$SS_CONF" <<'EOF'
# strongSwan pki: default plugin list minus tpm (no TPM here)
pki {
  load = pkcs11 aesni aes rc2 sha2 sha1 md5 mgf1 rdrand random nonce x509 revocation pubkey pkcs1 pkcs7 pkcs12 dnskey sshkey pem openssl gcrypt pkcs8 gmp curve25519 hmac kdf drbg curl
}
EOF
export STRONGSWAN_CONF="$SS_CONF"

# scepclient writes client.pem (issued cert) and csr.pem next to its key, so
# the key lives in a per-run work dir and is copied to keys/ afterwards.
scepclient_enroll() {   # scepclient_enroll DIR LOG URL KEYDEST CN CHALLENGE [KEYSIZE]
    local dir=$1 logf=$2 url=$3 keydest=$4 cn=$5 chal=$6 ks=${7:-2048} rc=0
    mkdir -p "$dir"
    ( cd "$dir" && run_client "$logf" scepclient -server-url "$url" \
        -private-key "$dir/client.key" -challenge "$chal" -cn "$cn" \
        -organization "$ORG" -ou MDM -country US -keySize "$ks" -debug
      exit "$CLIENT_RC" ) || rc=$?
    [[ -f "$dir/client.key" ]] && cp "$dir/client.key" "$keydest"
    return $rc
}

ss_genkey() {   # ss_genkey OUT.key [bits]
    pki --gen --type rsa --size "${2:-2048}" --outform pem > "$1"
}

ss_enroll() {   # ss_enroll LOG URL NEWKEY DN OUTCERT [extra pki args]
    local logf=$1 url=$2 key=$3 dn=$4 out=$5; shift 5
    run_client "$logf" pki --scep --url "$url" --in "$key" --dn "$dn" \
        --password "$CHALLENGE" --cacert-enc "$KEYS/ca.pem" \
        --cacert-sig "$KEYS/ca.pem" --cipher des3 --outform pem "$@"
}

# The peers' logs name the files they were given by absolute path: keep
# them relative to the repository, the work directory as $WORK, so the
# project names no path of the machine that made it.
relative_logs() {   # relative_logs LOGFILE...
    sed -i -E "s#$(dirname "$CAPDIR")/##g; s#/tmp/scepdump-captures\.[A-Za-z0-9]+#\$WORK#g" "$@"
}

# the certificate micromdm stored in its depot for CN (latest serial)
depot_cert() {   # depot_cert NAME CN
    ls -1 "$WORK/$1/depot/$2".*.pem 2>/dev/null | sort -t. -k2,2n | tail -1
}

# --- scepclient-any-sll2.pcap (tcpdump -i any: LINUX_SLL2) ------------------
# Not one of the CAPS below (not in README.md's facts); described in
# derived/README.md.  Also made alone by `make-captures.sh --only sll2`.
capture_sll2() {
    local N=scepclient-any-sll2 rc=0
    log "$N"
    rm -f "$LOGS/$N".* "$KEYS/$N".*
    start_server $N $PORT_SLL2
    start_capture "$CAPDIR/$N.pcap" $PORT_SLL2 any
    scepclient_enroll "$WORK/$N/client" "$LOGS/$N.client.log" \
        "http://127.0.0.1:$PORT_SLL2/scep" "$KEYS/$N.key" "$N" "$CHALLENGE" || rc=$?
    stop_capture
    stop_server
    [[ $rc -eq 0 ]] || die "$N: scepclient failed (see logs/$N.client.log)"
    cp "$WORK/$N/client/client.pem" "$KEYS/$N.cert.pem"
    chmod 644 "$KEYS/$N.key" "$KEYS/$N.cert.pem"
    [[ $(capinfos -E "$CAPDIR/$N.pcap") == *"Linux cooked-mode capture v2"* ]] \
        || die "$N.pcap is not LINUX_SLL2"
}
if [[ $ONLY == sll2 ]]; then
    capture_sll2
    log "done (--only sll2)"
    exit 0
fi

# --- same-key-reenroll.pcap -------------------------------------------------
# scepclient run twice in one directory keeps its key (and CSR), and RFC 8894
# derives the transactionID from the key: the second enrollment sends the
# first one's transactionID, as a Cisco router re-enrolling with its old key
# does. micromdm answers it as it would any request for a DN it has issued.
# Also made alone by `make-captures.sh --only same-key`.
capture_same_key() {
    local N=same-key-reenroll
    log "$N"
    rm -f "$LOGS/$N".* "$KEYS/$N".*
    start_server $N $PORT_SAMEKEY
    start_capture "$CAPDIR/$N.pcap" $PORT_SAMEKEY
    scepclient_enroll "$WORK/$N/client" "$LOGS/$N.client.log" \
        "http://127.0.0.1:$PORT_SAMEKEY/scep" "$KEYS/$N.key" "$N" "$CHALLENGE" \
        || die "$N: first enrollment failed (see logs/$N.client.log)"
    cp "$WORK/$N/client/client.pem" "$KEYS/$N.cert.pem"
    rm -f "$WORK/$N/client/client.pem"
    sleep 1
    scepclient_enroll "$WORK/$N/client" "$LOGS/$N.client.log" \
        "http://127.0.0.1:$PORT_SAMEKEY/scep" "$KEYS/$N.key" "$N" "$CHALLENGE" || true
    stop_capture
    stop_server
    chmod 644 "$KEYS/$N".*
}
if [[ $ONLY == same-key ]]; then
    capture_same_key
    relative_logs "$LOGS/same-key-reenroll".*.log
    log "done (--only same-key)"
    exit 0
fi

# --- TLS / HTTP/2 captures (nginx + curl): make-tls.sh ----------------------
# shellcheck source=make-tls.sh
source "$CAPDIR/make-tls.sh"
if [[ $ONLY == tls ]]; then
    capture_tls
    log "done (--only tls)"
    exit 0
fi

# ===========================================================================
# 3. the captures
# ===========================================================================

# --- scepclient-post-enroll.pcap --------------------------------------------
N=scepclient-post-enroll
log "$N"
start_server $N $PORT_SCEPCLIENT
start_capture "$CAPDIR/$N.pcap" $PORT_SCEPCLIENT
rc=0
scepclient_enroll "$WORK/$N/client" "$LOGS/$N.client.log" \
    "http://127.0.0.1:$PORT_SCEPCLIENT/scep" "$KEYS/$N.key" "$N" "$CHALLENGE" || rc=$?
stop_capture
stop_server
[[ $rc -eq 0 ]] || die "$N: scepclient failed (see logs/$N.client.log)"
cp "$WORK/$N/client/client.pem" "$KEYS/$N.cert.pem"

# --- certmonger-get-enroll.pcap ---------------------------------------------
N=certmonger-get-enroll
log "$N"
CM="$WORK/certmonger"
mkdir -p "$CM"/{requests,cas,tmp,config,localca}
start_server $N $PORT_CERTMONGER
start_capture "$CAPDIR/$N.pcap" $PORT_CERTMONGER
# private state dirs; private listening socket (-L -P) instead of any D-Bus
env CERTMONGER_REQUESTS_DIR="$CM/requests" CERTMONGER_CAS_DIR="$CM/cas" \
    CERTMONGER_TMPDIR="$CM/tmp" CERTMONGER_CONFIG_DIR="$CM/config" \
    CERTMONGER_LOCAL_CA_DIR="$CM/localca" CERTMONGER_SYSTEM_LOCK_FILE="$CM/lock" \
    certmonger -L -P "$CM/socket" -n -d 2 -p "$CM/pid" > "$LOGS/$N.certmonger.log" 2>&1 &
CM_PID=$!
PIDS+=("$CM_PID")
export CERTMONGER_PVT_ADDRESS="unix:path=$CM/socket"
for _ in $(seq 100); do
    getcert list-cas >/dev/null 2>&1 && break
    sleep 0.1
done
run_client "$LOGS/$N.client.log" getcert add-scep-ca -c scepdump \
    -u "http://127.0.0.1:$PORT_CERTMONGER/scep" -N "$KEYS/ca.pem" -v
sleep 1   # let certmonger fetch GetCACaps / GetCACert message=0,1 first
run_client "$LOGS/$N.client.log" timeout 60 getcert request -c scepdump -I $N -w -v \
    -k "$KEYS/$N.key" -f "$WORK/$N/$N.cert.pem" -N "CN=$N,O=$ORG" -L "$CHALLENGE"
cm_rc=$CLIENT_RC
run_client "$LOGS/$N.client.log" getcert list -i $N
stop_capture
kill "$CM_PID"; wait "$CM_PID" 2>/dev/null || true
unset CERTMONGER_PVT_ADDRESS
stop_server
[[ $cm_rc -eq 0 ]] || die "$N: certmonger enrollment failed (see logs/$N.*)"
cp "$WORK/$N/$N.cert.pem" "$KEYS/$N.cert.pem"
chmod 644 "$KEYS/$N.key"

# --- strongswan-enroll.pcap -------------------------------------------------
N=strongswan-enroll
log "$N"
start_server $N $PORT_STRONGSWAN
ss_genkey "$KEYS/$N.key"
start_capture "$CAPDIR/$N.pcap" $PORT_STRONGSWAN
run_client "$LOGS/$N.client.log" pki --scepca --url "http://127.0.0.1:$PORT_STRONGSWAN/scep"
ss_enroll "$LOGS/$N.client.log" "http://127.0.0.1:$PORT_STRONGSWAN/scep" \
    "$KEYS/$N.key" "C=US, O=$ORG, CN=$N" "$WORK/$N/out.pem"
stop_capture
stop_server
# strongSwan 5.9.8 refuses micromdm's CertRep signature (see README), so the
# issued certificate is taken from the server's depot.
cp "$(depot_cert $N $N)" "$KEYS/$N.cert.pem"

# --- renewal.pcap (strongSwan RenewalReq, new key signed with the old cert) --
N=renewal
log "$N"
start_server $N $PORT_RENEWAL -allowrenew 0
ss_genkey "$KEYS/$N.old.key"
# initial enrollment, NOT captured (logged in logs/renewal.client.log)
ss_enroll "$LOGS/$N.client.log" "http://127.0.0.1:$PORT_RENEWAL/scep" \
    "$KEYS/$N.old.key" "C=US, O=$ORG, CN=$N" "$WORK/$N/old.pem"
cp "$(depot_cert $N $N)" "$KEYS/$N.old.cert.pem"
ss_genkey "$KEYS/$N.key"
start_capture "$CAPDIR/$N.pcap" $PORT_RENEWAL
ss_enroll "$LOGS/$N.client.log" "http://127.0.0.1:$PORT_RENEWAL/scep" \
    "$KEYS/$N.key" "C=US, O=$ORG, CN=$N" "$WORK/$N/new.pem" \
    --cert "$KEYS/$N.old.cert.pem" --key "$KEYS/$N.old.key"
stop_capture
stop_server
cp "$(depot_cert $N $N)" "$KEYS/$N.cert.pem"

# --- renewal-rejected.pcap (same, but server default -allowrenew 14) --------
N=renewal-rejected
log "$N"
start_server $N $PORT_RENEW_REJ
ss_genkey "$KEYS/$N.old.key"
ss_enroll "$LOGS/$N.client.log" "http://127.0.0.1:$PORT_RENEW_REJ/scep" \
    "$KEYS/$N.old.key" "C=US, O=$ORG, CN=$N" "$WORK/$N/old.pem"
cp "$(depot_cert $N $N)" "$KEYS/$N.old.cert.pem"
ss_genkey "$KEYS/$N.key"
start_capture "$CAPDIR/$N.pcap" $PORT_RENEW_REJ
ss_enroll "$LOGS/$N.client.log" "http://127.0.0.1:$PORT_RENEW_REJ/scep" \
    "$KEYS/$N.key" "C=US, O=$ORG, CN=$N" "$WORK/$N/new.pem" \
    --cert "$KEYS/$N.old.cert.pem" --key "$KEYS/$N.old.key"
stop_capture
stop_server

# --- scepclient-renewal.pcap (scepclient -certificate: RenewalReq, same key) -
N=scepclient-renewal
log "$N"
start_server $N $PORT_SC_RENEWAL -allowrenew 0
scepclient_enroll "$WORK/$N/first" "$LOGS/$N.client.log" \
    "http://127.0.0.1:$PORT_SC_RENEWAL/scep" "$KEYS/$N.key" "$N" "$CHALLENGE" \
    || die "$N: initial enrollment failed"
cp "$WORK/$N/first/client.pem" "$KEYS/$N.old.cert.pem"
start_capture "$CAPDIR/$N.pcap" $PORT_SC_RENEWAL
# same key, existing certificate given with -certificate -> RenewalReq
( cd "$WORK/$N/first" && run_client "$LOGS/$N.client.log" scepclient \
    -server-url "http://127.0.0.1:$PORT_SC_RENEWAL/scep" -private-key "$WORK/$N/first/client.key" \
    -certificate "$WORK/$N/first/client.pem" -challenge "$CHALLENGE" -cn "$N" \
    -organization "$ORG" -ou MDM -country US -debug )
stop_capture
stop_server
cp "$(depot_cert $N $N)" "$KEYS/$N.cert.pem"

# --- wrong-challenge.pcap ---------------------------------------------------
N=wrong-challenge
log "$N"
start_server $N $PORT_WRONGCHAL
start_capture "$CAPDIR/$N.pcap" $PORT_WRONGCHAL
scepclient_enroll "$WORK/$N/client" "$LOGS/$N.client.log" \
    "http://127.0.0.1:$PORT_WRONGCHAL/scep" "$KEYS/$N.key" "$N" "$WRONG_CHALLENGE" || true
stop_capture
stop_server

# --- duplicate-subject.pcap -------------------------------------------------
N=duplicate-subject
log "$N"
start_server $N $PORT_DUPLICATE
start_capture "$CAPDIR/$N.pcap" $PORT_DUPLICATE
scepclient_enroll "$WORK/$N/first" "$LOGS/$N.client.log" \
    "http://127.0.0.1:$PORT_DUPLICATE/scep" "$KEYS/$N-1.key" "$N" "$CHALLENGE" || true
scepclient_enroll "$WORK/$N/second" "$LOGS/$N.client.log" \
    "http://127.0.0.1:$PORT_DUPLICATE/scep" "$KEYS/$N-2.key" "$N" "$CHALLENGE" || true
stop_capture
stop_server
[[ -f "$WORK/$N/first/client.pem" ]] && cp "$WORK/$N/first/client.pem" "$KEYS/$N-1.cert.pem"

# --- garbage-http500.pcap (curl) --------------------------------------------
N=garbage-http500
log "$N"
start_server $N $PORT_GARBAGE
start_capture "$CAPDIR/$N.pcap" $PORT_GARBAGE
U="http://127.0.0.1:$PORT_GARBAGE/scep"
CURL=(curl --http1.1 -sS -o /dev/null -w '%{http_code} %{content_type}\n')
printf 'this is not a PKCS#7 pkiMessage\n' > "$WORK/garbage.bin"
run_client "$LOGS/$N.client.log" "${CURL[@]}" -X POST \
    -H 'Content-Type: application/x-pki-message' --data-binary @"$WORK/garbage.bin" \
    "$U?operation=PKIOperation"
run_client "$LOGS/$N.client.log" "${CURL[@]}" \
    "$U?operation=PKIOperation&message=Z2FyYmFnZQ%3D%3D"
run_client "$LOGS/$N.client.log" "${CURL[@]}" \
    "$U?operation=PKIOperation&message=%25%25not-base64%25%25"
run_client "$LOGS/$N.client.log" "${CURL[@]}" "$U?operation=NoSuchOperation"
run_client "$LOGS/$N.client.log" "${CURL[@]}" "$U?operation=GetNextCACert"
stop_capture
stop_server

# --- concurrent-20.pcap -----------------------------------------------------
# micromdm's file depot race is nondeterministic: repeat the whole 20-client
# burst (fresh server, fresh capture, fresh keys) up to 5 times until at least
# one client got a FAILURE, and keep that attempt (documented in README.md).
N=concurrent-20
log "$N"
attempt=0
while :; do
    attempt=$((attempt + 1))
    rm -f "$KEYS/$N"-*
    : > "$LOGS/$N.client.log"
    start_server $N $PORT_CONCURRENT
    start_capture "$CAPDIR/$N.pcap" $PORT_CONCURRENT
    declare -a CPIDS=()
    for i in $(seq -w 1 20); do
        ( scepclient_enroll "$WORK/$N/c$i" "$WORK/$N/c$i.log" \
            "http://127.0.0.1:$PORT_CONCURRENT/scep" "$KEYS/$N-$i.key" "$N-$i" \
            "$CHALLENGE" 1024 ) &
        CPIDS+=($!)
    done
    nfail=0
    for p in "${CPIDS[@]}"; do wait "$p" || nfail=$((nfail + 1)); done
    stop_capture
    stop_server
    for i in $(seq -w 1 20); do
        cat "$WORK/$N/c$i.log" >> "$LOGS/$N.client.log"
        [[ -f "$WORK/$N/c$i/client.pem" ]] && cp "$WORK/$N/c$i/client.pem" "$KEYS/$N-$i.cert.pem"
    done
    log "$N attempt $attempt: $nfail of 20 clients failed"
    if [[ $nfail -gt 0 || $attempt -ge 5 ]]; then
        break
    fi
    rm -rf "$WORK/$N"
done
echo "attempts=$attempt failed_clients=$nfail" > "$LOGS/$N.attempts"

# --- ipv6-enroll.pcap (strongSwan over ::1) ---------------------------------
N=ipv6-enroll
log "$N"
start_server $N $PORT_IPV6
ss_genkey "$KEYS/$N.key"
start_capture "$CAPDIR/$N.pcap" $PORT_IPV6
run_client "$LOGS/$N.client.log" pki --scepca --url "http://[::1]:$PORT_IPV6/scep"
ss_enroll "$LOGS/$N.client.log" "http://[::1]:$PORT_IPV6/scep" \
    "$KEYS/$N.key" "C=US, O=$ORG, CN=$N" "$WORK/$N/out.pem"
stop_capture
stop_server
cp "$(depot_cert $N $N)" "$KEYS/$N.cert.pem"

# --- enroll.pcapng (own dumpcap capture, pcapng) -----------------------------
N=enroll
log "$N (pcapng)"
start_server $N $PORT_PCAPNG
start_capture "$CAPDIR/$N.pcapng" $PORT_PCAPNG pcapng
rc=0
scepclient_enroll "$WORK/$N/client" "$LOGS/$N.client.log" \
    "http://127.0.0.1:$PORT_PCAPNG/scep" "$KEYS/$N.key" "scepclient-pcapng-enroll" "$CHALLENGE" || rc=$?
stop_capture
stop_server
[[ $rc -eq 0 ]] || die "$N: scepclient failed"
cp "$WORK/$N/client/client.pem" "$KEYS/$N.cert.pem"

capture_sll2

capture_same_key

capture_tls

chmod 644 "$KEYS"/*.key   # throw-away test keys, readable like the rest
chmod 644 "$KEYS"/*.pem

# ===========================================================================
# 4. facts (from tshark + openssl, not from scepdump) and README.md
# ===========================================================================
relative_logs "$LOGS"/*.log

log "extracting signer certificates and facts"
CAPS=(scepclient-post-enroll.pcap certmonger-get-enroll.pcap strongswan-enroll.pcap
      renewal.pcap renewal-rejected.pcap scepclient-renewal.pcap wrong-challenge.pcap
      duplicate-subject.pcap garbage-http500.pcap concurrent-20.pcap ipv6-enroll.pcap
      enroll.pcapng same-key-reenroll.pcap)
for c in "${CAPS[@]}"; do
    [[ -f "$CAPDIR/$c" ]] || die "missing $c"
    sz=$(stat -c %s "$CAPDIR/$c")
    [[ $sz -lt 300000 ]] || log "WARNING: $c is $sz bytes (>= 300 kB)"
done
( cd "$CAPDIR" && bash ./describe.sh --save-signers "${CAPS[@]}" > "$WORK/facts.md" )

bash "$CAPDIR/readme.sh" "$WORK/facts.md" "$LOGS" > "$CAPDIR/README.md"
log "done: $(ls "$CAPDIR"/*.pcap "$CAPDIR"/*.pcapng | wc -l) captures in $CAPDIR"

# ===========================================================================
# 5. derived captures (captures/derived/, from the captures above)
# ===========================================================================
bash "$CAPDIR/make-derived.sh"
