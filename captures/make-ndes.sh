#!/bin/bash
# make-ndes.sh - captures of REAL third-party SCEP clients talking to an
# NDES-shaped responder behind nginx acting as IIS / an application proxy
# (issue 19).  Sibling of make-captures.sh, same conventions.
#
# Run as root, from anywhere:   sudo captures/make-ndes.sh [NAME...]
# (no NAME: every capture below; NAME: e.g. pending-certmonger, 403, proxy-tls)
#
# Everything runs inside a private network namespace (only "lo": 127.0.0.1)
# and a private mount namespace created by `unshare --net --mount`; the host
# network and host files are never touched.  The script rewrites
# captures/ndes-*.pcap, captures/ndes-proxy-tls.pcapng, captures/keys/ndes-*,
# captures/logs/ndes-* and the NDES section of captures/README.md (between the
# "ndes:begin" / "ndes:end" markers; the section text is also kept in
# logs/ndes-README-section.md so that readme.sh keeps it when make-captures.sh
# regenerates README.md).
#
# Debian 12 packages used (apt-get install ...):
#   certmonger, strongswan-pki, libstrongswan-extra-plugins, scep (micromdm
#   scepclient 2.1.0), nginx, libnginx-mod-http-headers-more-filter (to send
#   "Server: Microsoft-IIS/10.0"), libssl-dev + gcc (the responder), openssl,
#   tcpdump, tshark + wireshark-common (editcap, mergecap, capinfos),
#   tcpreplay (tcprewrite), curl, dbus, iproute2, ethtool, util-linux (unshare),
#   python3 (stdlib only, for describe.sh)
#
# Server side: tests/peers/ndes-responder.c (built here with cc -lssl -lcrypto),
# a fixture that answers like Microsoft NDES (see the comment at its top),
# behind nginx.  Only the client <-> nginx leg is captured, except in
# ndes-proxy-tls.pcapng, which holds both legs.  Clients: certmonger 0.79
# (scep-submit helper), strongSwan 5.9.8 `pki --scep`, micromdm scepclient
# 2.1.0, curl (TLS replay only).
set -euo pipefail

CAPDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$CAPDIR")
SELF="$CAPDIR/$(basename "${BASH_SOURCE[0]}")"

if [[ "${_SCEPNDES_INNER:-}" != 1 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "make-ndes.sh: must be run as root (needs unshare/tcpdump)" >&2
        exit 1
    fi
    exec unshare --net --mount --propagation private \
        env _SCEPNDES_INNER=1 bash "$SELF" "$@"
fi

log() { printf '[make-ndes %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ALL=(pending-certmonger pending-strongswan pending-scepclient pending-failure
     proxy-302 iis-414 403 503 proxy-tls stale-ra)
if [[ $# -eq 0 ]]; then
    WANT=("${ALL[@]}")
else
    WANT=("$@")
    for w in "${WANT[@]}"; do
        [[ " ${ALL[*]} " == *" $w "* ]] || die "unknown capture '$w' (one of: ${ALL[*]})"
    done
fi
wanted() { [[ " ${WANT[*]} " == *" $1 "* ]]; }

CHALLENGE='scepdump-challenge'   # NDES would check an Intune/NDES password; this fixture takes any
ORG='scepdump'
SCEP_PATH='/certsrv/mscep/mscep.dll'
TLS_HOST='ndes.scepdump.test'

# nginx ("IIS") front ports, responder back ports; one pair per capture
PORT_CM=8101;    BACK_CM=9101      # ndes-pending-certmonger.pcap
PORT_SS=8102;    BACK_SS=9102      # ndes-pending-strongswan.pcap
PORT_SC=8103;    BACK_SC=9103      # ndes-pending-scepclient.pcap
PORT_FAIL=8104;  BACK_FAIL=9104    # ndes-pending-failure.pcap
PORT_302=8105                      # ndes-proxy-302.pcap (nginx only)
PORT_414=8106;   BACK_414=9106     # ndes-iis-414.pcap
PORT_403=8107                      # ndes-403.pcap (nginx only)
PORT_503=8108                      # ndes-503.pcap (nginx only)
PORT_TLS=8443;   BACK_TLS=9109     # ndes-proxy-tls.pcapng (both legs)
PORT_STALE=8110; BACK_STALE=9110   # ndes-stale-ra-strongswan.pcap

# ---------------------------------------------------------------------------
# namespace network setup: loopback only, real 1500-byte frames
# ---------------------------------------------------------------------------
ip link set lo up mtu 1500
ethtool -K lo tso off gso off gro off tx off >/dev/null
if ip -o link show | grep -v ': lo:' | grep -q .; then
    die "unexpected interfaces in the private namespace"
fi

WORK=$(mktemp -d /tmp/scepdump-ndes.XXXXXX)
declare -a PIDS=()
cleanup() {
    local rc=$?
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# micromdm scepclient wants DES for nothing here (the responder answers with the
# request's own cipher), but certmonger's helper clears its environment: the same
# default+legacy OpenSSL config as make-captures.sh, bind-mounted in this
# mount namespace only.
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

KEYS="$CAPDIR/keys"
LOGS="$CAPDIR/logs"
mkdir -p "$KEYS" "$LOGS"

# ---------------------------------------------------------------------------
# the responder and the NDES PKI (CA + RA signing + RA encryption certificates)
# ---------------------------------------------------------------------------
RESPONDER="$WORK/ndes-responder"
cc -O2 -Wall -Wextra -o "$RESPONDER" "$TOP/tests/peers/ndes-responder.c" -lssl -lcrypto \
    || die "cannot build tests/peers/ndes-responder.c"

PKI="$WORK/pki"     # what the responder loads (ca.*, ra-*.*)
mkdir -p "$PKI"
make_pki() {
    log "creating the NDES CA and RA certificates (keys/ndes-*)"
    rm -f "$KEYS"/ndes-*
    cat > "$WORK/pki.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
# NDES "Exchange Enrollment Agent (Offline request)" template
# (certificateTemplateName EnrollmentAgentOffline, EKU Certificate Request Agent)
[v3_ra_sign]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 1.3.6.1.4.1.311.20.2.1
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:EnrollmentAgentOffline
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# NDES "CEP Encryption" template (certificateTemplateName CEPEncryption)
[v3_ra_enc]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = 1.3.6.1.4.1.311.20.2.1
1.3.6.1.4.1.311.20.2 = ASN1:BMPSTRING:CEPEncryption
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_tls]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:ndes.scepdump.test,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 -set_serial 1 \
        -config "$WORK/pki.cnf" -extensions v3_ca \
        -subj "/C=US/O=scepdump test NDES CA/CN=scepdump NDES Test CA" \
        -keyout "$KEYS/ndes-ca.key" -out "$KEYS/ndes-ca.pem" 2>/dev/null
    local name subj ext serial
    for spec in "ra-sign|/C=US/O=scepdump/OU=Exchange Enrollment Agent (Offline request)/CN=NDES-RA-Sign|v3_ra_sign|2" \
                "ra-enc|/C=US/O=scepdump/OU=CEP Encryption/CN=NDES-RA-Enc|v3_ra_enc|3" \
                "ra-enc-new|/C=US/O=scepdump/OU=CEP Encryption/CN=NDES-RA-Enc|v3_ra_enc|4" \
                "tls-server|/C=US/O=scepdump/CN=$TLS_HOST|v3_tls|5"; do
        IFS='|' read -r name subj ext serial <<< "$spec"
        openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "$subj" \
            -keyout "$KEYS/ndes-$name.key" -out "$WORK/$name.csr" 2>/dev/null
        openssl x509 -req -in "$WORK/$name.csr" -CA "$KEYS/ndes-ca.pem" \
            -CAkey "$KEYS/ndes-ca.key" -set_serial "$serial" -days 3650 -sha256 \
            -extfile "$WORK/pki.cnf" -extensions "$ext" -out "$KEYS/ndes-$name.pem" 2>/dev/null
    done
}
if [[ $# -eq 0 || ! -f "$KEYS/ndes-ca.pem" ]]; then
    make_pki
fi
for f in ca ra-sign ra-enc ra-enc-new; do
    cp "$KEYS/ndes-$f.pem" "$PKI/$f.pem"
    cp "$KEYS/ndes-$f.key" "$PKI/$f.key"
done
chmod 644 "$KEYS"/ndes-*

# ---------------------------------------------------------------------------
# helpers (same shape as make-captures.sh / make-tls.sh)
# ---------------------------------------------------------------------------
wait_port() {   # wait_port PORT
    local i
    for i in $(seq 100); do
        ss -Hltn "sport = :$1" | grep -q . && return 0
        sleep 0.1
    done
    die "nothing listens on port $1"
}

RESP_PID=""
start_responder() {   # start_responder NAME PORT MODE
    "$RESPONDER" -p "$2" -d "$PKI" -m "$3" > "$LOGS/ndes-$1.responder.log" 2>&1 &
    RESP_PID=$!
    PIDS+=("$RESP_PID")
    wait_port "$2"
}
stop_responder() {
    kill "$RESP_PID" 2>/dev/null || true
    wait "$RESP_PID" 2>/dev/null || true
    RESP_PID=""
}

# nginx as IIS: "Server: Microsoft-IIS/10.0" (headers-more), IIS-like error
# pages; LOCATION is the body of the SCEP location, EXTRA goes in the server.
NGINX_DIR=""
NGINX_PID=""
start_nginx() {   # start_nginx NAME PORT LOCATION [EXTRA-SERVER [LISTEN-OPTS]]
    local name=$1 port=$2 loc=$3 extra=${4:-} lopts=${5:-}
    NGINX_DIR="$WORK/nginx-$name"
    rm -rf "$NGINX_DIR"; mkdir -p "$NGINX_DIR/logs" "$NGINX_DIR/tmp" "$NGINX_DIR/errors"
    # IIS 10 / HTTP.SYS error bodies (what IIS sends for these statuses)
    cat > "$NGINX_DIR/errors/403.html" <<'EOF'
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>
<title>403 - Forbidden: Access is denied.</title>
</head>
<body>
<div id="header"><h1>Server Error</h1></div>
<div id="content">
 <div class="content-container"><fieldset>
  <h2>403 - Forbidden: Access is denied.</h2>
  <h3>You do not have permission to view this directory or page using the credentials that you supplied.</h3>
 </fieldset></div>
</div>
</body>
</html>
EOF
    printf '%s\r\n' '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">' \
        '<HTML><HEAD><TITLE>Service Unavailable</TITLE>' \
        '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>' \
        '<BODY><h2>Service Unavailable</h2>' \
        '<hr><p>HTTP Error 503. The service is unavailable.</p>' \
        '</BODY></HTML>' > "$NGINX_DIR/errors/503.html"
    printf '%s\r\n' '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">' \
        '<HTML><HEAD><TITLE>Request URL Too Long</TITLE>' \
        '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>' \
        '<BODY><h2>Request URL Too Long</h2>' \
        '<hr><p>HTTP Error 414. The request URL is too long.</p>' \
        '</BODY></HTML>' > "$NGINX_DIR/errors/414.html"
    cat > "$NGINX_DIR/nginx.conf" <<EOF
# private nginx for make-ndes.sh ($name); runs as root in the namespace
load_module /usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so;
user root;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log info;
events { worker_connections 64; }
http {
    client_body_temp_path $NGINX_DIR/tmp/body;
    proxy_temp_path $NGINX_DIR/tmp/proxy;
    fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
    scgi_temp_path $NGINX_DIR/tmp/scgi;
    log_format scep '\$remote_addr:\$remote_port "\$request" \$status req_len=\$request_length '
                    'req_ct="\$content_type" resp_bytes=\$body_bytes_sent resp_ct="\$sent_http_content_type" '
                    'tls="\$ssl_protocol" cipher="\$ssl_cipher" conn=\$connection req_n=\$connection_requests';
    access_log $NGINX_DIR/logs/access.log scep;
    server_tokens off;
    more_set_headers "Server: Microsoft-IIS/10.0";
    more_set_headers "X-Powered-By: ASP.NET";
    server {
        listen 127.0.0.1:$port $lopts;
        server_name $TLS_HOST;
        $extra
        error_page 403 /errors/403.html;
        error_page 414 /errors/414.html;
        error_page 503 /errors/503.html;
        location /errors/ { internal; root $NGINX_DIR; }
        location /certsrv/mscep/ { $loc }
    }
}
EOF
    nginx -t -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/logs/error.log" \
        >> "$LOGS/ndes-$name.nginx.log" 2>&1 || die "nginx -t failed (see logs/ndes-$name.nginx.log)"
    nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/logs/error.log" \
        -g 'daemon off;' >> "$LOGS/ndes-$name.nginx.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_port "$port"
}
stop_nginx() {   # stop_nginx NAME  (keeps its access and error logs in logs/)
    local name=$1
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
    sed "s#$WORK#\$WORK#g" "$NGINX_DIR/logs/access.log" > "$LOGS/ndes-$name.nginx-access.log"
    sed "s#$WORK#\$WORK#g" "$NGINX_DIR/logs/error.log" >> "$LOGS/ndes-$name.nginx.log"
}
proxy_to() { echo "proxy_pass http://127.0.0.1:$1; proxy_set_header Host \$host;"; }

CAP_PID=""
CAP_TMP=""
CAP_OUT=""
start_capture() {   # start_capture OUTFILE "BPF filter"
    CAP_OUT=$1
    CAP_TMP="$WORK/$(basename "$1").raw"
    : > "$WORK/capture.err"
    tcpdump -Z root -i lo -s 0 -w "$CAP_TMP" "$2" 2> "$WORK/capture.err" &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    for _ in $(seq 100); do
        grep -q "listening on" "$WORK/capture.err" && break
        sleep 0.1
    done
    grep -q "listening on" "$WORK/capture.err" || die "tcpdump did not start: $(cat "$WORK/capture.err")"
    sleep 0.3
}
stop_capture() {   # the file is written by the caller's finish_* step
    sleep 1
    kill -INT "$CAP_PID"
    wait "$CAP_PID" || true
    CAP_PID=""
    # lo leaves TCP checksums partial: recompute them (nothing else changes)
    if [[ $CAP_OUT == *.pcapng ]]; then
        tcprewrite --fixcsum -i "$CAP_TMP" -o "$CAP_TMP.fixed" >/dev/null
    else
        tcprewrite --fixcsum -i "$CAP_TMP" -o "$CAP_OUT" >/dev/null
        chmod 644 "$CAP_OUT"
        log "wrote $(basename "$CAP_OUT") ($(stat -c %s "$CAP_OUT") bytes)"
    fi
}

CLIENT_RC=0
run_client() {   # run_client LOGFILE cmd...
    local logf=$1; shift
    CLIENT_RC=0
    { echo "\$ $*"; "$@"; } >> "$logf" 2>&1 || CLIENT_RC=$?
    echo "[exit code $CLIENT_RC]" >> "$logf"
}

SS_CONF="$WORK/strongswan.conf"
cat > "$SS_CONF" <<'EOF'
# strongSwan pki: default plugin list minus tpm (no TPM here)
pki {
  load = pkcs11 aesni aes rc2 sha2 sha1 md5 mgf1 rdrand random nonce x509 revocation pubkey pkcs1 pkcs7 pkcs12 dnskey sshkey pem openssl gcrypt pkcs8 gmp curve25519 hmac kdf drbg curl
}
EOF
export STRONGSWAN_CONF="$SS_CONF"

# strongSwan, as an admin would run it against NDES: fetch the CA and RA
# certificates first (pki --scepca writes the CA and each RA certificate),
# then enroll, encrypting to the "CEP Encryption" certificate and verifying
# CertReps with the "Exchange Enrollment Agent" one.
ss_scepca() {   # ss_scepca LOG URL DIR
    mkdir -p "$3"
    run_client "$1" pki --scepca --url "$2" --caout "$3/ca.pem" --raout "$3/ra.pem" \
        --outform pem --force
}
ss_enroll() {   # ss_enroll LOG URL KEY DN OUT ENC-CERT [extra pki args]
    local logf=$1 url=$2 key=$3 dn=$4 out=$5 enc=$6; shift 6
    pki --gen --type rsa --size 2048 --outform pem > "$key"
    run_client "$logf" pki --scep --url "$url" --in "$key" --dn "$dn" \
        --password "$CHALLENGE" --cacert-enc "$enc" --cacert-sig "$KEYS/ndes-ra-sign.pem" \
        --cacert "$KEYS/ndes-ca.pem" --outform pem "$@"
    CLIENT_OUT=$out
}

# certmonger on its own private socket (as make-captures.sh runs it)
CM_PID=""
start_certmonger() {   # start_certmonger NAME
    CM="$WORK/certmonger-$1"
    rm -rf "$CM"; mkdir -p "$CM"/{requests,cas,tmp,config,localca}
    env CERTMONGER_REQUESTS_DIR="$CM/requests" CERTMONGER_CAS_DIR="$CM/cas" \
        CERTMONGER_TMPDIR="$CM/tmp" CERTMONGER_CONFIG_DIR="$CM/config" \
        CERTMONGER_LOCAL_CA_DIR="$CM/localca" CERTMONGER_SYSTEM_LOCK_FILE="$CM/lock" \
        certmonger -L -P "$CM/socket" -n -d 3 -p "$CM/pid" > "$LOGS/ndes-$1.certmonger.log" 2>&1 &
    CM_PID=$!
    PIDS+=("$CM_PID")
    export CERTMONGER_PVT_ADDRESS="unix:path=$CM/socket"
    for _ in $(seq 100); do
        getcert list-cas >/dev/null 2>&1 && break
        sleep 0.1
    done
}
stop_certmonger() {
    kill "$CM_PID" 2>/dev/null || true
    wait "$CM_PID" 2>/dev/null || true
    unset CERTMONGER_PVT_ADDRESS
    CM_PID=""
}
cm_status() { getcert list -i "$1" 2>/dev/null | sed -n 's/^\tstatus: //p'; }
# certmonger enrollment; on PENDING its helper says "wait" and certmonger would
# retry on its own schedule: drive the retries with `getcert resubmit` every
# few seconds (a resubmit re-runs scep-submit: a fresh PKCSReq, same
# transactionID, new senderNonce) until the certificate is there or LIMIT s.
cm_enroll() {   # cm_enroll NAME CA-NAME URL LIMIT [add-scep-ca args...]
    local name=$1 ca=$2 url=$3 limit=$4; shift 4
    local logf="$LOGS/ndes-$name.client.log" st t=0
    run_client "$logf" getcert add-scep-ca -c "$ca" -u "$url" -N "$KEYS/ndes-ca.pem" -v "$@"
    sleep 2   # certmonger fetches GetCACaps / GetCACert first
    run_client "$logf" getcert list-cas -c "$ca"
    openssl genrsa -out "$KEYS/ndes-$name.key" 2048 2>/dev/null
    run_client "$logf" getcert request -c "$ca" -I "$name" -v \
        -k "$KEYS/ndes-$name.key" -f "$WORK/$name.cert.pem" -N "CN=ndes-$name,O=$ORG" -L "$CHALLENGE"
    while :; do
        sleep 3; t=$((t + 3))
        st=$(cm_status "$name")
        echo "[t+${t}s] getcert list: status $st" >> "$logf"
        case $st in
            MONITORING|CA_REJECTED|CA_UNREACHABLE|CA_UNCONFIGURED|NEED_GUIDANCE) break ;;
        esac
        [[ $t -ge $limit ]] && break
        if [[ $st == CA_WORKING ]]; then
            run_client "$logf" getcert resubmit -i "$name"
        fi
    done
    run_client "$logf" getcert list -i "$name"
}

relative_logs() {   # relative_logs LOGFILE...
    sed -i -E "s#$TOP/##g; s#/tmp/scepdump-ndes\.[A-Za-z0-9]+#\$WORK#g" "$@"
}

# ===========================================================================
# the captures
# ===========================================================================

# --- ndes-pending-certmonger.pcap: PENDING twice, then SUCCESS --------------
if wanted pending-certmonger; then
    N=pending-certmonger
    log "ndes-$N"
    rm -f "$LOGS/ndes-$N".* "$KEYS/ndes-$N".*
    start_responder $N $BACK_CM pending:2
    start_nginx $N $PORT_CM "$(proxy_to $BACK_CM)"
    start_certmonger $N
    start_capture "$CAPDIR/ndes-$N.pcap" "tcp port $PORT_CM"
    cm_enroll $N ndes "http://127.0.0.1:$PORT_CM$SCEP_PATH" 60
    stop_capture
    stop_certmonger
    stop_nginx $N
    stop_responder
    [[ -f "$WORK/$N.cert.pem" ]] && cp "$WORK/$N.cert.pem" "$KEYS/ndes-$N.cert.pem"
fi

# --- ndes-pending-strongswan.pcap: CertPoll every second ---------------------
if wanted pending-strongswan; then
    N=pending-strongswan
    log "ndes-$N"
    rm -f "$LOGS/ndes-$N".* "$KEYS/ndes-$N".*
    start_responder $N $BACK_SS pending:2
    start_nginx $N $PORT_SS "$(proxy_to $BACK_SS)"
    start_capture "$CAPDIR/ndes-$N.pcap" "tcp port $PORT_SS"
    U="http://127.0.0.1:$PORT_SS$SCEP_PATH"
    ss_scepca "$LOGS/ndes-$N.client.log" "$U" "$WORK/$N"
    ss_enroll "$LOGS/ndes-$N.client.log" "$U" "$KEYS/ndes-$N.key" "C=US, O=$ORG, CN=ndes-$N" \
        "$WORK/$N/out.pem" "$KEYS/ndes-ra-enc.pem" --cipher des3 --interval 1 --maxpolltime 30
    stop_capture
    stop_nginx $N
    stop_responder
fi

# --- ndes-pending-scepclient.pcap: micromdm scepclient ------------------------
if wanted pending-scepclient; then
    N=pending-scepclient
    log "ndes-$N"
    rm -f "$LOGS/ndes-$N".* "$KEYS/ndes-$N".*
    start_responder $N $BACK_SC pending:2
    start_nginx $N $PORT_SC "$(proxy_to $BACK_SC)"
    start_capture "$CAPDIR/ndes-$N.pcap" "tcp port $PORT_SC"
    mkdir -p "$WORK/$N"
    ( cd "$WORK/$N" && run_client "$LOGS/ndes-$N.client.log" timeout 150 scepclient \
        -server-url "http://127.0.0.1:$PORT_SC$SCEP_PATH" -private-key "$WORK/$N/client.key" \
        -challenge "$CHALLENGE" -cn "ndes-$N" -organization "$ORG" -ou MDM -country US \
        -keySize 2048 -debug )
    stop_capture
    stop_nginx $N
    stop_responder
    [[ -f "$WORK/$N/client.key" ]] && cp "$WORK/$N/client.key" "$KEYS/ndes-$N.key"
    [[ -f "$WORK/$N/client.pem" ]] && cp "$WORK/$N/client.pem" "$KEYS/ndes-$N.cert.pem"
fi

# --- ndes-pending-failure.pcap: PENDING, then FAILURE (strongSwan polls) -----
if wanted pending-failure; then
    N=pending-failure
    log "ndes-$N"
    rm -f "$LOGS/ndes-$N".* "$KEYS/ndes-$N".*
    start_responder $N $BACK_FAIL pending-failure:1
    start_nginx $N $PORT_FAIL "$(proxy_to $BACK_FAIL)"
    start_capture "$CAPDIR/ndes-$N.pcap" "tcp port $PORT_FAIL"
    U="http://127.0.0.1:$PORT_FAIL$SCEP_PATH"
    ss_scepca "$LOGS/ndes-$N.client.log" "$U" "$WORK/$N"
    ss_enroll "$LOGS/ndes-$N.client.log" "$U" "$KEYS/ndes-$N.key" "C=US, O=$ORG, CN=ndes-$N" \
        "$WORK/$N/out.pem" "$KEYS/ndes-ra-enc.pem" --cipher des3 --interval 1 --maxpolltime 30
    stop_capture
    stop_nginx $N
    stop_responder
fi

# --- ndes-proxy-302.pcap: application proxy pre-authentication ----------------
# Like Azure AD Application Proxy with pre-authentication on: every request for
# the published SCEP URL is redirected to the sign-in page.  No responder; the
# Location host is only a string (the namespace has no route anywhere).
if wanted proxy-302; then
    N=proxy-302
    log "ndes-$N"
    rm -f "$LOGS/ndes-$N".* "$KEYS/ndes-$N".*
    LOGIN='https://login.microsoftonline.com/0b2a7f4e-5c1d-4e8a-9f3b-6d2c1a0e9b7d/oauth2/authorize?response_type=code&client_id=8f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f&redirect_uri=https%3a%2f%2fndes-scepdump.msappproxy.net%2f&resource=8f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f&state=AppProxyState%3a%7b%22InvalidTokenRetry%22%3anull%7d'
    start_nginx $N $PORT_302 "more_set_headers 'Set-Cookie: AzureAppProxyAnalyticCookie_8f1c2d3e_1.3=4|ndes; path=/; secure; HttpOnly'; return 302 '$LOGIN';"
    start_capture "$CAPDIR/ndes-$N.pcap" "tcp port $PORT_302"
    start_certmonger $N
    cm_enroll $N ndes "http://127.0.0.1:$PORT_302$SCEP_PATH" 15
    stop_certmonger
    stop_capture
    stop_nginx $N
fi

# --- ndes-iis-414.pcap: request line over the limit ---------------------------
# certmonger always GETs PKIOperation with the whole message in the query; a
# 1 kB request-line limit (IIS/HTTP.SYS MaxFieldLength-like) answers 414.
if wanted iis-414; then
    N=iis-414
    log "ndes-$N"
    rm -f "$LOGS/ndes-$N".* "$KEYS/ndes-$N".*
    start_responder $N $BACK_414 issue
    start_nginx $N $PORT_414 "$(proxy_to $BACK_414)" "large_client_header_buffers 2 1k;"
    start_certmonger $N
    start_capture "$CAPDIR/ndes-$N.pcap" "tcp port $PORT_414"
    cm_enroll $N ndes "http://127.0.0.1:$PORT_414$SCEP_PATH" 15
    stop_capture
    stop_certmonger
    stop_nginx $N
    stop_responder
fi

# --- ndes-403.pcap / ndes-503.pcap: IIS error pages on mscep.dll ---------------
for code in 403 503; do
    wanted $code || continue
    N=$code
    P=$([[ $code == 403 ]] && echo $PORT_403 || echo $PORT_503)
    log "ndes-$N"
    rm -f "$LOGS/ndes-$N".*
    start_nginx $N "$P" "return $code;"
    start_capture "$CAPDIR/ndes-$N.pcap" "tcp port $P"
    ss_scepca "$LOGS/ndes-$N.client.log" "http://127.0.0.1:$P$SCEP_PATH" "$WORK/$N"
    stop_capture
    stop_nginx $N
done

# --- ndes-proxy-tls.pcapng: nginx terminating TLS, both legs, secrets inside --
# certmonger's scep-submit speaks HTTPS through libcurl (getcert add-scep-ca
# -R names the CA that signed the web server's certificate).  libcurl writes
# the TLS secrets to $SSLKEYLOGFILE, but certmonger clears its helpers'
# environment: a two-line wrapper that sets it is bind-mounted over
# /usr/lib/certmonger/scep-submit (this mount namespace only) and runs a copy
# of the real helper.  (strongSwan 5.9.8's pki has no https fetcher here: its
# curl plugin says "no capable fetcher found" for https URLs.)  The client <->
# nginx leg (TLS, PORT_TLS) and the nginx -> responder leg (plain HTTP/1.0,
# BACK_TLS) are captured together on lo, and the secrets are embedded with
# editcap --inject-secrets.  certmonger 0.79 checks the server against -R
# for GetCACaps/GetCACert but not for the PKIOperation, which libcurl then
# checks against the system bundle (it failed with "Error 60 ... SSL peer
# certificate ... was not OK" and a TLS "unknown ca" alert): a copy of the
# bundle with the NDES CA added is bind-mounted too.  The host name resolves through a private
# /etc/hosts line (bind-mounted too) so that the client sends SNI.
if wanted proxy-tls; then
    N=proxy-tls
    log "ndes-$N"
    rm -f "$LOGS/ndes-$N".* "$KEYS/ndes-$N".*
    cat "$KEYS/ndes-tls-server.pem" "$KEYS/ndes-ca.pem" > "$WORK/tls-chain.pem"
    { echo "127.0.0.1 $TLS_HOST"; cat /etc/hosts; } > "$WORK/hosts"
    mount --bind "$WORK/hosts" /etc/hosts
    cat /etc/ssl/certs/ca-certificates.crt "$KEYS/ndes-ca.pem" > "$WORK/ca-bundle.crt"
    mount --bind "$WORK/ca-bundle.crt" /etc/ssl/certs/ca-certificates.crt
    cp /usr/lib/certmonger/scep-submit "$WORK/scep-submit.real"
    printf '#!/bin/sh\nSSLKEYLOGFILE=%s exec %s "$@"\n' "$WORK/$N.keylog" "$WORK/scep-submit.real" \
        > "$WORK/scep-submit.wrap"
    chmod 755 "$WORK/scep-submit.wrap"
    mount --bind "$WORK/scep-submit.wrap" /usr/lib/certmonger/scep-submit
    start_responder $N $BACK_TLS pending:1
    start_nginx $N $PORT_TLS "$(proxy_to $BACK_TLS)" \
        "ssl_certificate $WORK/tls-chain.pem; ssl_certificate_key $KEYS/ndes-tls-server.key; ssl_protocols TLSv1.2 TLSv1.3; ssl_session_tickets off;" ssl
    start_certmonger $N
    start_capture "$CAPDIR/ndes-$N.pcapng" "tcp port $PORT_TLS or tcp port $BACK_TLS"
    cm_enroll $N ndes "https://$TLS_HOST:$PORT_TLS$SCEP_PATH" 60 -R "$KEYS/ndes-ca.pem"
    stop_capture
    stop_certmonger
    umount /usr/lib/certmonger/scep-submit
    umount /etc/hosts
    umount /etc/ssl/certs/ca-certificates.crt
    stop_nginx $N
    stop_responder
    [[ -f "$WORK/$N.cert.pem" ]] && cp "$WORK/$N.cert.pem" "$KEYS/ndes-$N.cert.pem"
    [[ -s "$WORK/$N.keylog" ]] || die "$N: the client wrote no TLS secrets"
    cp "$WORK/$N.keylog" "$KEYS/ndes-$N.keylog"
    editcap --inject-secrets "tls,$WORK/$N.keylog" -F pcapng "$CAP_TMP.fixed" "$CAPDIR/ndes-$N.pcapng"
    chmod 644 "$CAPDIR/ndes-$N.pcapng"
    log "wrote ndes-$N.pcapng ($(stat -c %s "$CAPDIR/ndes-$N.pcapng") bytes)"
fi

# --- ndes-stale-ra-strongswan.pcap: the client kept the old CEP Encryption cert --
# Responder mode ra-renewed: a first strongSwan enrollment (not captured,
# logged) succeeds, after which the responder's "CEP Encryption" certificate is
# renewed.  The captured run is a second enrollment: GetCACert now returns the
# NEW RA encryption certificate, but the admin's pki --scep command line still
# names the OLD one (--cacert-enc keys/ndes-ra-enc.pem), so the request is
# encrypted to a certificate whose key the server no longer has: CertRep
# FAILURE badMessageCheck, HRESULT NTE_BAD_DATA.
if wanted stale-ra; then
    N=stale-ra
    log "ndes-$N-strongswan"
    rm -f "$LOGS/ndes-$N".* "$KEYS/ndes-$N".*
    start_responder $N $BACK_STALE ra-renewed
    start_nginx $N $PORT_STALE "$(proxy_to $BACK_STALE)"
    U="http://127.0.0.1:$PORT_STALE$SCEP_PATH"
    echo "# first enrollment (not captured): the RA encryption certificate is renewed after it" \
        >> "$LOGS/ndes-$N.client.log"
    ss_enroll "$LOGS/ndes-$N.client.log" "$U" "$KEYS/ndes-$N-first.key" "C=US, O=$ORG, CN=ndes-$N-first" \
        "$WORK/$N-first.pem" "$KEYS/ndes-ra-enc.pem" --cipher des3
    echo "# second enrollment (captured): GetCACert, then PKCSReq to the OLD RA certificate" \
        >> "$LOGS/ndes-$N.client.log"
    start_capture "$CAPDIR/ndes-$N-strongswan.pcap" "tcp port $PORT_STALE"
    ss_scepca "$LOGS/ndes-$N.client.log" "$U" "$WORK/$N"
    ss_enroll "$LOGS/ndes-$N.client.log" "$U" "$KEYS/ndes-$N.key" "C=US, O=$ORG, CN=ndes-$N" \
        "$WORK/$N/out.pem" "$KEYS/ndes-ra-enc.pem" --cipher des3
    stop_capture
    stop_nginx $N
    stop_responder
fi

chmod 644 "$KEYS"/ndes-* 2>/dev/null || true
relative_logs "$LOGS"/ndes-*.log

# ===========================================================================
# facts (tshark + openssl, not scepdump) and the NDES section of README.md
# ===========================================================================
declare -A WHAT=(
  [ndes-pending-certmonger.pcap]="certmonger 0.79 through nginx (\`Server: Microsoft-IIS/10.0\`) to the responder in mode \`pending:2\`. certmonger's helper reports PENDING as \"wait\"; the script drives the retries with \`getcert resubmit\` every 3 s. Each retry is a NEW PKCSReq (messageType 19) with the SAME transactionID and a fresh senderNonce (certmonger never sends CertPoll), each preceded by a GetCACaps; the third is answered SUCCESS."
  [ndes-pending-strongswan.pcap]="strongSwan 5.9.8 \`pki --scepca\` then \`pki --scep --cipher des3 --interval 1 --maxpolltime 30\` through nginx to the responder in mode \`pending:2\`: PKCSReq, then CertPoll (messageType 20, GetCertInitial) every second with the same transactionID and a fresh senderNonce; SUCCESS on the second poll. (\`--cipher aes\` is refused by pki 5.9.8 with \"AES_CBC encryption algorithm not supported by CA\" although GetCACaps lists AES.)"
  [ndes-pending-scepclient.pcap]="micromdm scepclient 2.1.0 through nginx to the responder in mode \`pending:2\`. On PENDING it logs \"sleeping for 30 seconds, then trying again\" and re-POSTs the byte-identical PKCSReq (same transactionID, same senderNonce); the third is answered SUCCESS. No CertPoll."
  [ndes-pending-failure.pcap]="strongSwan \`pki --scep --interval 1\` against mode \`pending-failure:1\`: PKCSReq answered PENDING, the first CertPoll answered FAILURE badRequest with HRESULT -2146877420 (0x80094014 CERTSRV_E_ADMIN_DENIED_REQUEST) and status text \`Denied\`."
  [ndes-proxy-302.pcap]="nginx alone, answering every SCEP URL with a 302 to a sign-in URL on login.microsoftonline.com, as Azure AD Application Proxy does with pre-authentication on (plus an AzureAppProxyAnalyticCookie). certmonger's \`getcert add-scep-ca\` + \`request\`: GetCACaps and GetCACert are redirected, certmonger does not follow, the request ends CA_UNCONFIGURED and no PKIOperation is sent. Nothing leaves the namespace (the Location host is only a string)."
  [ndes-iis-414.pcap]="certmonger against nginx with \`large_client_header_buffers 2 1k\` in front of the responder (mode \`issue\`): GetCACaps/GetCACert pass, the long GET PKIOperation request line is answered 414 with an HTTP.SYS-like \`Request URL Too Long\` page; the request ends CA_UNREACHABLE."
  [ndes-403.pcap]="nginx answering 403 with the IIS 10 \`403 - Forbidden: Access is denied.\` page on /certsrv/mscep/mscep.dll; client strongSwan \`pki --scepca\` (GetCACert only), which stops with \"did not receive a valid SCEP response: HTTP 403\"."
  [ndes-503.pcap]="nginx answering 503 with the HTTP.SYS \`Service Unavailable\` page (application pool stopped); client strongSwan \`pki --scepca\`, which stops with \"HTTP 503\"."
  [ndes-proxy-tls.pcapng]="nginx terminating TLS (ndes.scepdump.test:8443, certificate keys/ndes-tls-server.pem) in front of the plain-HTTP responder (port 9109, mode \`pending:1\`); BOTH legs are in the file, and the client's TLS secrets (keys/ndes-proxy-tls.keylog, written by libcurl inside certmonger's scep-submit) are embedded in a pcapng Decryption Secrets Block, so the outside leg decrypts with no extra option. Real client: certmonger (\`add-scep-ca -R\`), PKCSReq PENDING then a resubmitted PKCSReq answered SUCCESS."
  [ndes-stale-ra-strongswan.pcap]="mode \`ra-renewed\`: after a first (uncaptured, logged) strongSwan enrollment the responder's \"CEP Encryption\" certificate is renewed (serial 3 -> serial 4, same subject) and the old key is gone. The captured second enrollment fetches GetCACert (which now holds serial 4) but encrypts its PKCSReq to the OLD certificate (serial 3, given with \`--cacert-enc\`), and gets CertRep FAILURE badMessageCheck, HRESULT -2146893819 (0x80090005 NTE_BAD_DATA)."
)
NDES_CAPS=(ndes-pending-certmonger.pcap ndes-pending-strongswan.pcap ndes-pending-scepclient.pcap
           ndes-pending-failure.pcap ndes-proxy-302.pcap ndes-iis-414.pcap ndes-403.pcap ndes-503.pcap
           ndes-proxy-tls.pcapng ndes-stale-ra-strongswan.pcap)
client_lines() {   # what the clients themselves logged about polling and results
    local n=$1
    { [[ -f "$LOGS/ndes-$n.client.log" ]] && grep -E '^\$ |exit code|t\+[0-9]+s|status:|ca-error|pending|polling|going to sleep|transaction ID|failInfo|reply status|Issued certificate "|pkiStatus|did not receive|unable' "$LOGS/ndes-$n.client.log" | cut -c1-220
      [[ -f "$LOGS/ndes-$n.certmonger.log" ]] && grep -E 'SCEP status is|Saved cookie|moved to state .(CA_WORKING|MONITORING|CA_UNREACHABLE|CA_UNCONFIGURED)|Server reply|Error [0-9]+ connecting' "$LOGS/ndes-$n.certmonger.log" | sed -E 's/^[0-9-]+ [0-9:]+ \[[0-9]+\] //' | cut -c1-200
    } || true
}
log "facts (describe-ndes.sh) and the README section"
SECTION="$LOGS/ndes-README-section.md"
{
    echo "<!-- ndes:begin (generated by make-ndes.sh; edit that script, not this section) -->"
    echo "## NDES-shaped captures (\`ndes-*\`, made by \`make-ndes.sh\`)"
    echo
    echo "Real third-party clients against \`tests/peers/ndes-responder.c\`, a fixture that answers like"
    echo "Microsoft NDES (see its header comment), behind nginx posing as IIS / an application proxy."
    echo "Rebuild them, as root: \`sudo captures/make-ndes.sh\` (about 2 minutes; one name, e.g."
    echo "\`sudo captures/make-ndes.sh pending-strongswan\`, rebuilds one capture with the existing NDES PKI)."
    echo "Re-print these facts: \`captures/describe-ndes.sh captures/ndes-*\`."
    echo
    echo "- PKI (\`keys/ndes-*\`, made with openssl): CA \`CN=scepdump NDES Test CA\` (serial 1); RA signing"
    echo "  certificate \`CN=NDES-RA-Sign\` (serial 2, keyUsage digitalSignature, template EnrollmentAgentOffline),"
    echo "  RA encryption certificate \`CN=NDES-RA-Enc\` (serial 3, keyUsage keyEncipherment, template CEPEncryption),"
    echo "  its renewal (serial 4, used by ndes-stale-ra-strongswan.pcap), the TLS server certificate (serial 5)."
    echo "- GetCACaps: \`POSTPKIOperation Renewal SHA-512 SHA-256 SHA-1 DES3\` (NDES's list) plus \`AES\`."
    echo "- CertReps: signed by NDES-RA-Sign with the request's digest, NO certificates in the SignedData,"
    echo "  fresh senderNonce, recipientNonce = request senderNonce, 1.3.6.1.4.1.311.21.38 status text"
    echo "  (\`Issued\`/\`Pending\`/\`Denied\`), 1.3.6.1.4.1.311.21.33 HRESULT in decimal on FAILURE; PENDING and"
    echo "  FAILURE content is one 0x00 byte; SUCCESS content is an envelope (the request's own cipher) to the"
    echo "  request's signer certificate holding a degenerate PKCS#7 with the issued certificate (serial 4096)."
    echo "- Only the client <-> nginx leg is captured, except in ndes-proxy-tls.pcapng (both legs)."
    echo "- Logs: \`logs/ndes-NAME.responder.log\` (one line per request), \`.client.log\`, \`.certmonger.log\`,"
    echo "  \`.nginx-access.log\`, \`.nginx.log\`."
    echo
    for c in "${NDES_CAPS[@]}"; do
        [[ -f "$CAPDIR/$c" ]] || continue
        n=${c#ndes-}; n=${n%.pcap}; n=${n%.pcapng}; n=${n%-strongswan}
        [[ $c == ndes-pending-strongswan.pcap ]] && n=pending-strongswan
        echo "### \`$c\`"
        echo
        echo "${WHAT[$c]}"
        echo
        ( cd "$CAPDIR" && bash ./describe-ndes.sh "$c" ) | sed '1,2d'
        if [[ -f "$LOGS/ndes-$n.responder.log" ]]; then
            echo "Responder log (\`logs/ndes-$n.responder.log\`):"
            echo
            echo '```'
            cut -c1-260 "$LOGS/ndes-$n.responder.log"
            echo '```'
            echo
        fi
        echo "Client log lines (\`logs/ndes-$n.*\`):"
        echo
        echo '```'
        client_lines "$n"
        echo '```'
        echo
    done
    echo "<!-- ndes:end -->"
} > "$SECTION.tmp"
mv "$SECTION.tmp" "$SECTION"
# README.md: replace the marked section (or append it)
python3 - "$CAPDIR/README.md" "$SECTION" <<'PY'
import sys, re
readme, section = sys.argv[1], open(sys.argv[2]).read()
t = open(readme).read()
b, e = t.find("<!-- ndes:begin"), t.find("<!-- ndes:end -->")
if b >= 0 and e > b:
    t = t[:b] + section + t[e + len("<!-- ndes:end -->\n"):]
else:
    t = t.rstrip("\n") + "\n\n" + section
open(readme, "w").write(t)
PY
log "done: ${WANT[*]}"
