# make-tls.sh - SOURCED by make-captures.sh (not run on its own): the TLS /
# HTTP/2 captures.  Uses make-captures.sh's helpers (start_server,
# start_capture, stop_capture, run_client, scepclient_enroll, log, die) and
# its variables (WORK, KEYS, LOGS, CAPDIR, CHALLENGE, ORG, PIDS).
#
#   sudo captures/make-captures.sh --only tls
# makes ONLY these captures (re-using the existing keys/ca.*); the full
# rebuild makes them too.  Documented in captures/tls/README.md (generated
# here by describe-tls.sh).
#
# Real peers: nginx (TLS + HTTP/2 reverse proxy) in front of micromdm
# scepserver, curl as the client.  curl replays REAL PKIOperation messages
# made by micromdm scepclient: scepclient (Go) cannot log TLS secrets, so it
# enrolls once against a separate, uncaptured "generator" scepserver, its POST
# body is taken from a private capture, and curl sends that body - never seen
# by the captured server - through nginx.  The captured server issues the
# certificate (CertRep SUCCESS), encrypted to scepclient's signer
# certificate, so keys/NAME.key decrypts the CertRep as for the base captures.
#
# Only the client <-> nginx leg (ports 8443 TLS, 8444 h2c) is captured; the
# nginx -> scepserver leg (plain HTTP/1.0 on PORT_TLS_BACKEND) is not.

PORT_TLS_BACKEND=8014   # scepserver behind nginx (not captured)
PORT_TLS_GEN=8015       # generator scepserver for the replayed messages (not captured)
PORT_TLS=8443           # nginx: listen 127.0.0.1:8443 ssl http2
PORT_H2C=8444           # nginx: listen 127.0.0.1:8444 http2 (cleartext, prior knowledge)
TLS_HOST=scep.scepdump.test   # SNI / Host; curl --resolve maps it to 127.0.0.1
TLS_CAPS=(tls12-http11-enroll.pcap tls13-h2-enroll.pcap tls13-h2-enroll-nokeys.pcap
          tls13-h2-enroll-secrets.pcapng tls-handshake-failure.pcap
          h2c-prior-knowledge.pcap tls12-rsa-kx.pcap)

# --- proxy CA + nginx server certificate (separate from the SCEP CA) --------
tls_make_certs() {
    cat > "$WORK/proxyca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
C = US
O = scepdump test TLS proxy CA
CN = scepdump Test TLS Proxy CA
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -set_serial 1 -config "$WORK/proxyca.cnf" \
        -keyout "$WORK/proxyca.key" -out "$KEYS/proxyca.pem" 2>/dev/null
    cat > "$WORK/tls-server.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$TLS_HOST,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    # RSA server key (needed for the RSA key exchange capture; its private key
    # is kept in keys/ so tls12-rsa-kx.pcap also decrypts without a keylog)
    openssl req -new -newkey rsa:2048 -nodes -sha256 \
        -subj "/C=US/O=scepdump/CN=$TLS_HOST" \
        -keyout "$KEYS/tls-server.key" -out "$WORK/tls-server.csr" 2>/dev/null
    openssl pkey -in "$KEYS/tls-server.key" -out "$WORK/k.tmp" && mv "$WORK/k.tmp" "$KEYS/tls-server.key"
    openssl x509 -req -in "$WORK/tls-server.csr" -CA "$KEYS/proxyca.pem" \
        -CAkey "$WORK/proxyca.key" -set_serial 2 -days 3650 -sha256 \
        -extfile "$WORK/tls-server.ext" -out "$KEYS/tls-server.pem" 2>/dev/null
    # the chain nginx sends: server certificate + proxy CA
    cat "$KEYS/tls-server.pem" "$KEYS/proxyca.pem" > "$WORK/tls-chain.pem"
}

# --- nginx in front of the backend scepserver ---------------------------------
NGINX_DIR=""
NGINX_PID=""
start_nginx() {   # start_nginx NAME
    local name=$1
    NGINX_DIR="$WORK/nginx-$name"
    rm -rf "$NGINX_DIR"; mkdir -p "$NGINX_DIR/logs" "$NGINX_DIR/tmp"
    cat > "$NGINX_DIR/nginx.conf" <<EOF
# private nginx for make-captures.sh ($name); runs as root in the namespace
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
                    'h2="\$http2" tls="\$ssl_protocol" cipher="\$ssl_cipher" sni="\$ssl_server_name" '
                    'alpn="\$ssl_alpn_protocol" conn=\$connection req_n=\$connection_requests';
    access_log $NGINX_DIR/logs/access.log scep;
    server_tokens on;
    ssl_certificate $WORK/tls-chain.pem;
    ssl_certificate_key $KEYS/tls-server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-GCM-SHA256:AES128-SHA;
    ssl_session_tickets off;
    server {
        listen 127.0.0.1:$PORT_TLS ssl http2;
        server_name $TLS_HOST;
        location / { proxy_pass http://127.0.0.1:$PORT_TLS_BACKEND; }
    }
    server {
        listen 127.0.0.1:$PORT_H2C http2;
        server_name $TLS_HOST;
        location / { proxy_pass http://127.0.0.1:$PORT_TLS_BACKEND; }
    }
}
EOF
    nginx -t -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/logs/error.log" \
        >> "$LOGS/$name.nginx.log" 2>&1 || die "nginx -t failed (see logs/$name.nginx.log)"
    nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/logs/error.log" \
        -g 'daemon off;' >> "$LOGS/$name.nginx.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_port $PORT_TLS
    wait_port $PORT_H2C
}
stop_nginx() {   # stop_nginx NAME  (keeps its access and error logs in logs/)
    local name=$1
    kill -QUIT "$NGINX_PID" 2>/dev/null || true     # graceful shutdown
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=""
    sed "s#$WORK#\$WORK#g" "$NGINX_DIR/logs/access.log" > "$LOGS/$name.nginx-access.log"
    sed "s#$WORK#\$WORK#g" "$NGINX_DIR/logs/error.log" >> "$LOGS/$name.nginx.log"
}

# --- a fresh real scepclient PKCSReq, taken off a private capture ------------
tls_make_message() {   # tls_make_message NAME OUT.der   (key -> keys/NAME.key)
    local name=$1 out=$2 gen="$WORK/gen-$1" rc=0
    mkdir -p "$gen"
    start_server "gen-$name" $PORT_TLS_GEN
    # (private capture, not kept: --immediate-mode so that nothing is still
    # waiting in a TPACKET_V3 block when it is stopped)
    tcpdump -Z root --immediate-mode -i lo -s 0 -w "$gen/gen.pcap" "tcp port $PORT_TLS_GEN" 2> "$gen/tcpdump.err" &
    local tpid=$!
    PIDS+=("$tpid")
    for _ in $(seq 100); do grep -q "listening on" "$gen/tcpdump.err" && break; sleep 0.1; done
    sleep 0.3
    echo "# generator run: scepclient enrolls against the UNCAPTURED generator scepserver" \
         "(port $PORT_TLS_GEN); its POST body is replayed by curl below" >> "$LOGS/$name.client.log"
    scepclient_enroll "$gen/client" "$LOGS/$name.client.log" \
        "http://127.0.0.1:$PORT_TLS_GEN/scep" "$KEYS/$name.key" "$name" "$CHALLENGE" || rc=$?
    sleep 1
    kill -INT "$tpid"; wait "$tpid" || true
    stop_server
    mv "$LOGS/gen-$name.scepserver.log" "$LOGS/$name.generator.scepserver.log"
    [[ $rc -eq 0 ]] || die "$name: generator scepclient enrollment failed"
    mkdir -p "$gen/objs"
    tshark -r "$gen/gen.pcap" -q --export-objects "http,$gen/objs" >/dev/null 2>&1
    # export-objects writes the request body and the response body; the
    # request is the one signed by scepclient's key (not the CA)
    local cand
    for cand in "$gen/objs"/*PKIOperation*; do
        if openssl cms -verify -noverify -inform DER -in "$cand" -out /dev/null \
               -certsout "$gen/certs.pem" 2>/dev/null &&
           ! openssl x509 -in "$gen/certs.pem" -noout -subject 2>/dev/null | grep -q "scepdump Test SCEP CA"; then
            cp "$cand" "$out"; break
        fi
    done
    [[ -s $out ]] || { die "$name: could not extract the scepclient POST body ($(ls "$gen/objs" | tr '\n' ' '))"; }
    chmod 644 "$KEYS/$name.key"
}

# curl options shared by every request of one connection (curl --next resets
# options, so they are repeated per URL; same options -> connection re-used)
tls_curl() {   # tls_curl LOGNAME KEYLOG|- CURL-OPTS... -- URL-SPECS (separated by '--next')
    local name=$1 keylog=$2; shift 2
    if [[ $keylog == - ]]; then
        run_client "$LOGS/$name.client.log" curl "$@"
    else
        rm -f "$keylog"
        run_client "$LOGS/$name.client.log" env SSLKEYLOGFILE="$keylog" curl "$@"
        chmod 644 "$keylog"
    fi
}

# GetCACaps, GetCACert, POST PKIOperation on one connection
tls_enroll_args() {   # tls_enroll_args BASEURL MSG.der OUTDIR COMMON-OPTS...
    local base=$1 msg=$2 od=$3; shift 3
    local w='%{http_version} %{response_code} %{content_type} %{size_download} B, ssl_verify=%{ssl_verify_result}\n'
    ENROLL_ARGS=("$@" -w "$w" -o "$od/caps.txt" "$base?operation=GetCACaps"
        --next "$@" -w "$w" -o "$od/ca.der" "$base?operation=GetCACert"
        --next "$@" -w "$w" -o "$od/certrep.der" -H 'Content-Type: application/octet-stream'
               --data-binary "@$msg" "$base?operation=PKIOperation")
}

tls_one() {   # tls_one NAME PORT  (fresh backend + nginx + capture)
    local name=$1 port=$2
    start_server "$name" $PORT_TLS_BACKEND
    start_nginx "$name"
    start_capture "$CAPDIR/$name.pcap" "$port"
}
tls_done() {
    stop_capture
    stop_nginx "$1"
    stop_server
}

capture_tls() {
    log "TLS / HTTP/2 captures (nginx $(nginx -v 2>&1 | sed 's#.*/##'), curl)"
    local f n
    for f in "${TLS_CAPS[@]}"; do rm -f "$CAPDIR/$f"; done
    for n in tls12-http11-enroll tls13-h2-enroll tls-handshake-failure h2c-prior-knowledge \
             tls12-rsa-kx h2c-upgrade; do
        rm -f "$LOGS/$n".* "$KEYS/$n".*
    done
    rm -f "$KEYS"/tls12-http11.keylog "$KEYS"/tls13-h2.keylog "$KEYS"/proxyca.pem \
          "$KEYS"/tls-server.* "$LOGS"/tls-*.log
    tls_make_certs
    local TH="https://$TLS_HOST:$PORT_TLS/scep" od
    local -a BASE=(-sS -v --resolve "$TLS_HOST:$PORT_TLS:127.0.0.1" --cacert "$KEYS/proxyca.pem")

    # 1. TLS 1.2, HTTP/1.1, ECDHE-RSA-AES128-GCM-SHA256
    n=tls12-http11-enroll; log "$n"; od="$WORK/$n.out"; mkdir -p "$od"
    tls_make_message $n "$WORK/$n.msg.der"
    tls_one $n $PORT_TLS
    tls_enroll_args "$TH" "$WORK/$n.msg.der" "$od" "${BASE[@]}" --http1.1 --tlsv1.2 --tls-max 1.2 \
        --ciphers ECDHE-RSA-AES128-GCM-SHA256
    tls_curl $n "$KEYS/tls12-http11.keylog" "${ENROLL_ARGS[@]}"
    tls_done $n
    [[ $CLIENT_RC -eq 0 ]] || die "$n: curl failed (logs/$n.client.log)"

    # 2. TLS 1.3, HTTP/2 (ALPN h2), default TLS 1.3 suites
    n=tls13-h2-enroll; log "$n"; od="$WORK/$n.out"; mkdir -p "$od"
    tls_make_message $n "$WORK/$n.msg.der"
    tls_one $n $PORT_TLS
    tls_enroll_args "$TH" "$WORK/$n.msg.der" "$od" "${BASE[@]}" --http2 --tlsv1.3
    tls_curl $n "$KEYS/tls13-h2.keylog" "${ENROLL_ARGS[@]}"
    tls_done $n
    [[ $CLIENT_RC -eq 0 ]] || die "$n: curl failed (logs/$n.client.log)"
    # 3. the same bytes, for running without --keylog (a copy, not a new capture)
    cp "$CAPDIR/tls13-h2-enroll.pcap" "$CAPDIR/tls13-h2-enroll-nokeys.pcap"
    # 4. the same, with the TLS secrets embedded (pcapng Decryption Secrets Block)
    editcap --inject-secrets "tls,$KEYS/tls13-h2.keylog" "$CAPDIR/tls13-h2-enroll.pcap" \
        "$CAPDIR/tls13-h2-enroll-secrets.pcapng"
    chmod 644 "$CAPDIR/tls13-h2-enroll-nokeys.pcap" "$CAPDIR/tls13-h2-enroll-secrets.pcapng"

    # 5. handshake failures: curl does not know the proxy CA (system CA store
    #    only) -> it rejects nginx's certificate; TLS 1.2 then TLS 1.3
    n=tls-handshake-failure; log "$n"
    tls_one $n $PORT_TLS
    local -a NOCA=(-sS -v --resolve "$TLS_HOST:$PORT_TLS:127.0.0.1" -o /dev/null
                   -w '%{http_version} %{response_code} ssl_verify=%{ssl_verify_result}\n')
    tls_curl $n "$KEYS/$n.keylog" "${NOCA[@]}" --http1.1 --tlsv1.2 --tls-max 1.2 \
        --ciphers ECDHE-RSA-AES128-GCM-SHA256 "$TH?operation=GetCACaps"
    [[ $CLIENT_RC -ne 0 ]] || die "$n: curl accepted the certificate (TLS 1.2)"
    cp "$KEYS/$n.keylog" "$WORK/$n.keylog.1"
    tls_curl $n "$KEYS/$n.keylog" "${NOCA[@]}" --http2 --tlsv1.3 "$TH?operation=GetCACaps"
    [[ $CLIENT_RC -ne 0 ]] || die "$n: curl accepted the certificate (TLS 1.3)"
    cat "$WORK/$n.keylog.1" "$KEYS/$n.keylog" > "$WORK/$n.keylog.all"
    cp "$WORK/$n.keylog.all" "$KEYS/$n.keylog"; chmod 644 "$KEYS/$n.keylog"
    tls_done $n

    # 6. h2c with prior knowledge (cleartext HTTP/2, no Upgrade)
    n=h2c-prior-knowledge; log "$n"; od="$WORK/$n.out"; mkdir -p "$od"
    tls_make_message $n "$WORK/$n.msg.der"
    tls_one $n $PORT_H2C
    local w='%{http_version} %{response_code} %{content_type} %{size_download} B\n'
    local HC="http://127.0.0.1:$PORT_H2C/scep"
    # two curl runs = two h2c connections: curl 7.88.1 fails a second request
    # re-using a prior-knowledge h2c connection (--next) with "(16) Error in
    # the HTTP2 framing layer" after the first response
    tls_curl $n - -sS -v --http2-prior-knowledge -w "$w" -o "$od/caps.txt" "$HC?operation=GetCACaps"
    local rc1=$CLIENT_RC
    tls_curl $n - -sS -v --http2-prior-knowledge -w "$w" -o "$od/certrep.der" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$WORK/$n.msg.der" \
        "$HC?operation=PKIOperation"
    tls_done $n
    [[ $rc1 -eq 0 && $CLIENT_RC -eq 0 ]] || die "$n: curl failed (logs/$n.client.log)"

    # 7. h2c Upgrade: nginx does not implement it (answers HTTP/1.1); tried and
    #    logged only, no capture
    n=h2c-upgrade; log "$n (logged only)"
    start_server $n $PORT_TLS_BACKEND
    start_nginx $n
    tls_curl $n - -sS -v --http2 -o /dev/null -w '%{http_version} %{response_code}\n' \
        "http://127.0.0.1:$PORT_H2C/scep?operation=GetCACaps"
    stop_nginx $n
    stop_server

    # 8. TLS 1.2 with RSA key exchange, AES128-SHA (CBC + HMAC-SHA1), HTTP/1.1
    n=tls12-rsa-kx; log "$n"; od="$WORK/$n.out"; mkdir -p "$od"
    tls_make_message $n "$WORK/$n.msg.der"
    tls_one $n $PORT_TLS
    tls_enroll_args "$TH" "$WORK/$n.msg.der" "$od" "${BASE[@]}" --http1.1 --tlsv1.2 --tls-max 1.2 \
        --ciphers AES128-SHA
    tls_curl $n "$KEYS/$n.keylog" "${ENROLL_ARGS[@]}"
    tls_done $n
    [[ $CLIENT_RC -eq 0 ]] || die "$n: curl failed (logs/$n.client.log)"

    # the server logs of the backends carry the WORK path; keep them relative
    for f in "$LOGS"/tls*.log "$LOGS"/h2c*.log; do
        sed -i "s#$WORK#\$WORK#g" "$f"
    done
    for f in "${TLS_CAPS[@]}"; do
        [[ -f "$CAPDIR/$f" ]] || die "missing $f"
        [[ $(stat -c %s "$CAPDIR/$f") -lt 300000 ]] || log "WARNING: $f >= 300 kB"
    done
    chmod 644 "$KEYS"/*.keylog "$KEYS"/proxyca.pem "$KEYS"/tls-server.*

    log "TLS facts -> tls/README.md"
    mkdir -p "$CAPDIR/tls"
    bash "$CAPDIR/describe-tls.sh" --save-signers > "$WORK/tls-facts.md"
    # sanity: every enrollment decrypted and SUCCESS, both handshakes refused
    local want
    for n in tls12-http11-enroll.pcap tls13-h2-enroll.pcap tls13-h2-enroll-nokeys.pcap \
             tls13-h2-enroll-secrets.pcapng h2c-prior-knowledge.pcap tls12-rsa-kx.pcap; do
        want=$(awk -v h="## \`$n\`" '$0 == h { on = 1; next } /^## `/ { on = 0 } on' "$WORK/tls-facts.md" |
               grep -c '^PKIOperation results: 1 request(s); 0 (SUCCESS): 1$' || true)
        [[ $want -eq 1 ]] || die "$n: tshark/openssl did not find one SUCCESS PKIOperation"
    done
    [[ $(grep -c 'fatal), description 48 (unknown_ca)' "$WORK/tls-facts.md") -eq 2 ]] \
        || die "tls-handshake-failure.pcap: expected two unknown_ca alerts"
    bash "$CAPDIR/readme-tls.sh" "$WORK/tls-facts.md" "$LOGS" > "$CAPDIR/tls/README.md"
}
