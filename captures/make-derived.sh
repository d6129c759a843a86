#!/bin/bash
# make-derived.sh - derive the test captures in captures/derived/ from the
# real captures in captures/ (TCP reassembly and packet-input edge cases).
#
#   captures/make-derived.sh            # ~3 s, no root, no network
#   captures/make-derived.sh --verify   # also compare describe.sh facts (~75 s)
#
# Never touches the base captures; only rewrites captures/derived/*.pcap*
# and captures/derived/README.md (GENERATED: edit this script, not README.md).
# Idempotent and deterministic: every random choice uses a fixed seed, so a
# re-run writes byte-identical files.  make-captures.sh calls it at its end.
#
# Tools: editcap, mergecap, capinfos, tshark (wireshark-common/tshark),
# tcprewrite (tcpreplay), python3 + pcaptool.py (next to this script).
set -euo pipefail

CAPDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT="$CAPDIR/derived"
PT=(python3 "$CAPDIR/pcaptool.py")
SEED=8894                       # every pcaptool.py random choice
VERIFY=0
[[ "${1:-}" == --verify ]] && VERIFY=1

log() { printf '[make-derived] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

TMP=$(mktemp -d /tmp/scepdump-derived.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

SC=scepclient-post-enroll          # sources (in captures/)
CM=certmonger-get-enroll
WC=wrong-challenge
C20=concurrent-20
for f in $SC.pcap $CM.pcap $WC.pcap $C20.pcap; do
    [[ -f "$CAPDIR/$f" ]] || die "missing source capture $f"
done

ts() { tshark -n -r "$@" 2>/dev/null; }

# --- facts of the sources that the transformations need ---------------------
# the PKIOperation POST of scepclient-post-enroll: its TCP segments (frames)
read -r SC_POST SC_SEGS < <(ts "$CAPDIR/$SC.pcap" -Y 'http.request.method == "POST"' \
    -T fields -e frame.number -e tcp.segment | sed -n 1p)
IFS=, read -r -a SC_SEG <<< "${SC_SEGS:-}"
[[ ${#SC_SEG[@]} -ge 2 ]] || die "$SC: the PKIOperation POST is not in >= 2 segments"
SC_HEAD=${SC_SEG[0]}               # request line + headers + body start
SC_TAIL=${SC_SEG[-1]}              # body only
SC_PORT=$(ts "$CAPDIR/$SC.pcap" -Y "frame.number == $SC_POST" -T fields -e tcp.dstport)
seginfo() {   # seginfo FILE FRAME -> "relseq len"
    ts "$1" -Y "frame.number == $2" -T fields -e tcp.seq -e tcp.len
}
read -r SC_HEAD_SEQ SC_HEAD_LEN < <(seginfo "$CAPDIR/$SC.pcap" "$SC_HEAD")
read -r SC_TAIL_SEQ SC_TAIL_LEN < <(seginfo "$CAPDIR/$SC.pcap" "$SC_TAIL")
SC_CLIENT=$(ts "$CAPDIR/$SC.pcap" -Y "frame.number == $SC_POST" -T fields -e ip.src -e tcp.srcport | tr '\t' :)
SC_SERVER=$(ts "$CAPDIR/$SC.pcap" -Y "frame.number == $SC_POST" -T fields -e ip.dst -e tcp.dstport | tr '\t' :)
SC_CL=$(ts "$CAPDIR/$SC.pcap" -Y "frame.number == $SC_POST" -T fields -e http.content_length)

# certmonger: the connection of the PKIOperation and the first CertRep packet
# (tshark does not dissect the 3.9 kB GET request line as HTTP: match the bytes)
read -r CM_STREAM CM_PORT < <(ts "$CAPDIR/$CM.pcap" -Y 'tcp.payload contains "operation=PKIOperation"' \
    -T fields -e tcp.stream -e tcp.dstport | sed -n 1p)
CM_RESP1=$(ts "$CAPDIR/$CM.pcap" -Y "tcp.stream == $CM_STREAM && tcp.srcport == $CM_PORT && tcp.len > 0" \
    -T fields -e frame.number | sed -n 1p)
[[ -n $CM_RESP1 ]] || die "$CM: no CertRep packet found"

# ---------------------------------------------------------------------------
# the derived files
# ---------------------------------------------------------------------------
log "1-3 reordered / duplicated / dropped"
"${PT[@]}" reorder "$CAPDIR/$SC.pcap" "$OUT/$SC-reordered.pcap" --seed $SEED > "$TMP/reordered.log"
"${PT[@]}" duplicate "$CAPDIR/$SC.pcap" "$OUT/$SC-duplicated.pcap" --seed $SEED \
    --overlap "${SC_SEG[0]},${SC_SEG[1]}" > "$TMP/duplicated.log"
"${PT[@]}" drop "$CAPDIR/$SC.pcap" "$OUT/$SC-dropped.pcap" --frame "$SC_TAIL" > "$TMP/dropped.log"
"${PT[@]}" drop "$CAPDIR/$SC.pcap" "$OUT/$SC-dropped-head.pcap" --frame "$SC_HEAD" > "$TMP/dropped-head.log"

log "4 snaplen 200"
editcap -F pcap -s 200 "$CAPDIR/$CM.pcap" "$OUT/$CM-snaplen200.pcap"   # (editcap defaults to pcapng)
# a POST enrollment cut the same way, in both formats: classic pcap says 200
# in its file header, pcapng keeps the interface's snap length of the source
editcap -F pcap -s 200 "$CAPDIR/$WC.pcap" "$OUT/$WC-snap200.pcap"
editcap -F pcapng -s 200 "$CAPDIR/$WC.pcap" "$OUT/$WC-snap200.pcapng"

log "5 port 33333"
tcprewrite --portmap="$SC_PORT:33333" --fixcsum -i "$CAPDIR/$SC.pcap" -o "$OUT/$SC-port33333.pcap"

log "6 vlan / qinq"
tcprewrite --enet-vlan=add --enet-vlan-tag=100 --enet-vlan-cfi=0 --enet-vlan-pri=0 \
    -i "$CAPDIR/$SC.pcap" -o "$OUT/$SC-vlan.pcap"
"${PT[@]}" qinq "$CAPDIR/$SC.pcap" "$OUT/$SC-qinq.pcap" --outer 0x88a8:200 --inner 0x8100:100

log "7 sll2"
"${PT[@]}" sll2 "$CAPDIR/$SC.pcap" "$OUT/$SC-sll2.pcap" --ifindex 1

log "8 two interfaces (pcapng)"
"${PT[@]}" sll2 "$CAPDIR/$WC.pcap" "$TMP/$WC-sll2.pcap" --ifindex 1
mergecap -F pcapng -w "$OUT/two-interfaces.pcapng" "$CAPDIR/$SC.pcap" "$TMP/$WC-sll2.pcap"

log "9 concurrent-20 split in two files"
"${PT[@]}" split "$CAPDIR/$C20.pcap" "$OUT/$C20-part-a.pcap" "$OUT/$C20-part-b.pcap" > "$TMP/split.log"

log "10 concurrent-20 shuffled"
"${PT[@]}" duplicate "$CAPDIR/$C20.pcap" "$OUT/$C20-shuffled.pcap" --seed $SEED \
    --reorder --every 3 > "$TMP/shuffled.log"

log "11 truncated / garbage"
"${PT[@]}" truncate-last "$CAPDIR/$SC.pcap" "$OUT/enroll-truncated.pcap" > "$TMP/truncated.log"
"${PT[@]}" garbage "$CAPDIR/$SC.pcap" "$OUT/garbage-file.pcap" --seed $SEED --size 4096

log "12 response only"
"${PT[@]}" cut-flow-before "$CAPDIR/$CM.pcap" "$OUT/response-only.pcap" --frame "$CM_RESP1" > "$TMP/response-only.log"

log "13 opaque TLS before SCEP toward the same server"
# two copies of the TLS 1.3 capture (no key log: opaque), moved to 300 s and
# 150 s before the TLS 1.2 one (readable with its key log); same server
T12=tls12-http11-enroll; T13N=tls13-h2-enroll-nokeys
start() { capinfos -a -S -r -T "$1" 2>/dev/null | awk -F'\t' 'NR == 1 { print $2 }'; }
T12_START=$(start "$CAPDIR/$T12.pcap"); T13N_START=$(start "$CAPDIR/$T13N.pcap")
for lead in 300 150; do
    editcap -t "$(awk -v a="$T12_START" -v b="$T13N_START" -v l="$lead" 'BEGIN { printf "%.6f", a - l - b }')" \
        "$CAPDIR/$T13N.pcap" "$TMP/opaque-$lead.pcap"
done
# the second copy from another client port: two connections, not one reused
T13N_CPORT=$(ts "$CAPDIR/$T13N.pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e tcp.srcport | sed -n 1p)
tcprewrite --portmap="$T13N_CPORT:$((T13N_CPORT + 1))" --fixcsum -i "$TMP/opaque-150.pcap" -o "$TMP/opaque-150p.pcap"
mergecap -F pcap -w "$OUT/opaque-tls-before-scep.pcap" "$TMP/opaque-300.pcap" "$TMP/opaque-150p.pcap" "$CAPDIR/$T12.pcap"

log "14 data segments before their connection's SYN"
# a merged or multi-interface capture: one segment written before the SYN
# of its connection, 1 us before it (the request's last segment; the
# response's first)
SC_RESP1=$(ts "$CAPDIR/$SC.pcap" -Y "tcp.srcport == $SC_PORT && tcp.len > 1400" -T fields -e frame.number | sed -n 1p)
[[ -n $SC_RESP1 ]] || die "$SC: no CertRep segment found"
"${PT[@]}" hoist "$CAPDIR/$SC.pcap" "$OUT/$SC-data-before-syn.pcap" --frame "$SC_TAIL" > "$TMP/hoist-req.log"
"${PT[@]}" hoist "$CAPDIR/$SC.pcap" "$OUT/$SC-response-before-syn.pcap" --frame "$SC_RESP1" > "$TMP/hoist-resp.log"

log "15 NDES behind a TLS proxy, its embedded TLS secrets removed"
# as a capture made without a key log: the TLS leg cannot be read. Every
# block is copied but the Decryption Secrets Block (type 0x0000000A); not
# editcap --discard-all-secrets: Wireshark 4.0 refuses to rewrite this file
# ("can't be written as a pcapng file")
python3 - "$CAPDIR/ndes-proxy-tls.pcapng" "$OUT/ndes-proxy-tls-nosecrets.pcapng" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
out, o = [], 0
while o < len(d):
    t, n = struct.unpack_from('<II', d, o)   # little-endian, as the source's SHB says
    if n < 12 or o + n > len(d):
        sys.exit('bad pcapng block at offset %d' % o)
    if t != 0x0000000A:
        out.append(d[o:o + n])
    o += n
open(sys.argv[2], 'wb').write(b''.join(out))
PY
log "16 certmonger-get-enroll 20 s later"
# read with the source as two -r files: the same client address, ports and
# server again within a minute, but new connections (each closed by FINs
# in the source, opened by a SYN here)
editcap -F pcap -t 20 "$CAPDIR/$CM.pcap" "$OUT/$CM-20s-later.pcap"

chmod 644 "$OUT"/*.pcap "$OUT"/*.pcapng

# ---------------------------------------------------------------------------
# verification (tshark/capinfos only, never scepdump)
# ---------------------------------------------------------------------------
GOOD=($SC-reordered.pcap $SC-duplicated.pcap $SC-dropped.pcap $SC-dropped-head.pcap
      $CM-snaplen200.pcap $WC-snap200.pcap $WC-snap200.pcapng $SC-port33333.pcap $SC-vlan.pcap $SC-qinq.pcap $SC-sll2.pcap
      two-interfaces.pcapng $C20-part-a.pcap $C20-part-b.pcap $C20-shuffled.pcap
      response-only.pcap opaque-tls-before-scep.pcap $SC-data-before-syn.pcap
      $SC-response-before-syn.pcap ndes-proxy-tls-nosecrets.pcapng $CM-20s-later.pcap)
BROKEN=(enroll-truncated.pcap garbage-file.pcap)
for f in "${GOOD[@]}"; do
    capinfos "$OUT/$f" > /dev/null 2> "$TMP/capinfos.err" || die "capinfos fails on $f: $(cat "$TMP/capinfos.err")"
    ts "$OUT/$f" -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status == 0 || ip.checksum.status == 0' \
        > "$TMP/badsum" || die "tshark fails on $f"
    [[ ! -s "$TMP/badsum" ]] || die "$f has bad checksums"
done
for f in "${BROKEN[@]}"; do
    if capinfos "$OUT/$f" > /dev/null 2>&1; then die "capinfos accepts the broken $f"; fi
done
for f in "$OUT"/*.pcap "$OUT"/*.pcapng; do
    [[ $(stat -c %s "$f") -lt 300000 ]] || die "$(basename "$f") is >= 300 kB"
done

# TCP payload of every connection, each direction, without addresses/ports:
# one line per connection, sorted.  Equal digests = same byte streams.
streams_digest() {   # streams_digest FILE...
    local f n
    for f in "$@"; do
        n=$(ts "$f" -T fields -e tcp.stream | sort -un | wc -l)
        [[ $n -gt 0 ]] || continue
        ts "$f" -q $(for ((i = 0; i < n; i++)); do printf -- '-z follow,tcp,raw,%d ' $i; done) |
            awk '/^Filter: /{ if (s != "") print s; s = "" ; next }
                 /^(=|Follow|Node)/ || !NF { next }
                 { s = s $0 "|" } END { if (s != "") print s }' | md5sum_lines
    done | sort
}
md5sum_lines() { while IFS= read -r l; do printf '%s' "$l" | md5sum | cut -c1-32; done; }

same_streams() {   # same_streams "SRC..." "DERIVED..."
    local a b
    a=$(streams_digest $1); b=$(streams_digest $2)
    [[ -n $a && $a == "$b" ]] || die "TCP streams differ: [$1] vs [$2]"
}
log "verifying TCP byte streams"
same_streams "$CAPDIR/$SC.pcap" "$OUT/$SC-reordered.pcap"
same_streams "$CAPDIR/$SC.pcap" "$OUT/$SC-duplicated.pcap"
same_streams "$CAPDIR/$SC.pcap" "$OUT/$SC-port33333.pcap"
same_streams "$CAPDIR/$SC.pcap" "$OUT/$SC-vlan.pcap"
same_streams "$CAPDIR/$SC.pcap" "$OUT/$SC-qinq.pcap"
same_streams "$CAPDIR/$SC.pcap" "$OUT/$SC-sll2.pcap"
same_streams "$CAPDIR/$SC.pcap $CAPDIR/$WC.pcap" "$OUT/two-interfaces.pcapng"
same_streams "$CAPDIR/$C20.pcap" "$OUT/$C20-part-a.pcap $OUT/$C20-part-b.pcap"
same_streams "$CAPDIR/$C20.pcap" "$OUT/$C20-shuffled.pcap"
same_streams "$CAPDIR/$CM.pcap" "$OUT/$CM-20s-later.pcap"

if [[ $VERIFY == 1 ]]; then
    # the PKIOperation summary rows of describe.sh, without the conn column
    pki_rows() { ( cd "$CAPDIR" && bash ./describe.sh "$@" ) | grep -E '^\| [0-9]+ \| (GET|POST) \|' |
                 cut -d'|' -f3- | sort; }
    log "verifying with describe.sh"
    for p in "$SC $SC-reordered $SC-duplicated $SC-port33333 $SC-vlan $SC-qinq $SC-sll2" \
             "$C20 $C20-shuffled"; do
        set -- $p
        ref=$(pki_rows "$1.pcap"); shift
        for d in "$@"; do
            [[ $(pki_rows "derived/$d.pcap") == "$ref" ]] || die "describe.sh: $d differs from its source"
        done
    done
    [[ $(pki_rows derived/$C20-part-a.pcap derived/$C20-part-b.pcap | sort) == $(pki_rows $C20.pcap) ]] ||
        die "describe.sh: $C20 parts differ from $C20"
    [[ $(pki_rows derived/two-interfaces.pcapng) == $(pki_rows $SC.pcap $WC.pcap | sort) ]] ||
        die "describe.sh: two-interfaces differs from its sources"
fi

# ---------------------------------------------------------------------------
# README.md (every number from capinfos/tshark/pcaptool.py, none from scepdump)
# ---------------------------------------------------------------------------
log "writing derived/README.md"
npk() { { capinfos -M -c "$1" 2>/dev/null || true; } | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }'; }
enc() { { capinfos -E "$1" 2>/dev/null || true; } | awk -F': *' '/encapsulation/ { print $2 }'; }
sz() { stat -c %s "$1"; }
row() {   # row FILE SOURCE
    local n e
    if capinfos "$OUT/$1" > /dev/null 2>&1; then
        n=$(npk "$OUT/$1"); e=$(enc "$OUT/$1")
    elif [[ -n $(npk "$OUT/$1") ]]; then
        n="$(npk "$OUT/$1") + a cut record"; e="$(enc "$OUT/$1") (capinfos: cut short)"
    else
        n="-"; e="(capinfos: invalid)"
    fi
    printf '| [`%s`](#%s) | `%s` | %s | %s | %s |\n' "$1" "$(echo "$1" | tr -d '.')" "$2" \
        "$n" "$(sz "$OUT/$1")" "$e"
}
nconn() { ts "$1" -T fields -e tcp.stream | sort -un | wc -l; }
ninterleave() {   # packets of part-b that lie (in time) between first and last packet of part-a
    local a0 a1
    a0=$(ts "$OUT/$C20-part-a.pcap" -T fields -e frame.time_epoch | sed -n 1p)
    a1=$(ts "$OUT/$C20-part-a.pcap" -T fields -e frame.time_epoch | tail -1)
    ts "$OUT/$C20-part-b.pcap" -T fields -e frame.time_epoch | awk -v a="$a0" -v b="$a1" '$1 > a && $1 < b' | wc -l
}
SC_N=$(npk "$CAPDIR/$SC.pcap")
DROP_N=$(npk "$OUT/$SC-dropped.pcap")
SNAP_CUT=$(ts "$OUT/$CM-snaplen200.pcap" -Y 'frame.cap_len < frame.len' -T fields -e frame.number | wc -l)
SNAP_DATA=$(ts "$CAPDIR/$CM.pcap" -Y 'tcp.len > 0' -T fields -e frame.number | wc -l)
# the POST enrollment cut at 200: cut frames (frame, tcp.stream, wire length,
# captured), the snap length each file header gives (capinfos), the
# PKIOperation POST's Content-Length
WC_CUT=$(ts "$OUT/$WC-snap200.pcap" -Y 'frame.cap_len < frame.len' -T fields -e frame.number | wc -l)
WC_CUT_FRAMES=$(ts "$OUT/$WC-snap200.pcap" -Y 'frame.cap_len < frame.len' -T fields -e frame.number | tr '\n' ' ')
WC_CUT_NG=$(ts "$OUT/$WC-snap200.pcapng" -Y 'frame.cap_len < frame.len' -T fields -e frame.number | wc -l)
WC_MAXCAP=$(ts "$OUT/$WC-snap200.pcapng" -Y 'frame.cap_len < frame.len' -T fields -e frame.cap_len | sort -n | tail -1)
WC_HDR_PCAP=$(capinfos -l "$OUT/$WC-snap200.pcap" 2>/dev/null | sed -n 's/^Packet size limit: *file hdr: *//p')
WC_HDR_NG=$(capinfos "$OUT/$WC-snap200.pcapng" 2>/dev/null | sed -n 's/^ *Capture length = *//p' | head -1)
WC_POST_FRAME=$(ts "$CAPDIR/$WC.pcap" -Y 'http.request.method == "POST"' -T fields -e frame.number)
WC_POST_FIRST=$(ts "$CAPDIR/$WC.pcap" -2 -Y "tcp.reassembled_in == $WC_POST_FRAME" -T fields -e frame.number | head -1)
WC_POST_HDR=$(ts "$CAPDIR/$WC.pcap" -Y "frame.number == $WC_POST_FIRST" -T fields -e tcp.payload |
    python3 -c 'import sys; print(bytes.fromhex(sys.stdin.read().strip().replace(":", "")).find(b"\r\n\r\n") + 4)')
WC_POST=$(ts "$CAPDIR/$WC.pcap" -Y 'http.request.method == "POST"' -T fields -e frame.number -e http.content_length | tr '\t' ' ')
# length of the HTTP header block of the CertRep (first response segment)
CM_RESP_HDR=$(ts "$CAPDIR/$CM.pcap" -Y "frame.number == $CM_RESP1" -T fields -e tcp.payload |
    python3 -c 'import sys; print(bytes.fromhex(sys.stdin.read().strip().replace(":", "")).find(b"\r\n\r\n") + 4)')
# per data frame: frame, stream, direction, TCP payload length, payload bytes captured
SNAP_TABLE=$(ts "$OUT/$CM-snaplen200.pcap" -Y 'tcp.len > 0' -T fields -e frame.number -e tcp.stream \
    -e tcp.srcport -e tcp.len -e frame.len -e frame.cap_len |
    awk -v sp="$CM_PORT" '{ cap = $4 - ($5 - $6); if (cap > $4) cap = $4;
        printf "| %s | %s | %s | %s | %s |\n", $1, $2, ($3 == sp ? "server→client" : "client→server"), $4, cap }')
CM_CUT=$(sed -n 's/^cut-flow-before: conn [0-9]*, removed frames //p' "$TMP/response-only.log")
SHUF_DUP=$(grep -c '^duplicate: frame' "$TMP/shuffled.log")
SHUF_REO=$(grep -c '^reorder:' "$TMP/shuffled.log")
SC_REO=$(grep '^reorder:' "$TMP/reordered.log" | sed 's/^reorder: //; s/$/;/' | tr '\n' ' ')
DUP_OVL=$(sed -n 's/^overlap: //p' "$TMP/duplicated.log")
TRUNC=$(sed -n 's/^truncate-last: //p' "$TMP/truncated.log")
IFACES=$(ts "$OUT/two-interfaces.pcapng" -T fields -e frame.interface_id -e frame.encap_type | sort | uniq -c |
         awk '{ printf "%sinterface %s: %s packets (encap type %s)", (NR > 1 ? ", " : ""), $2, $1, $3 }')
PKI_CM_PKTS=$(ts "$CAPDIR/$CM.pcap" -Y "tcp.stream == $CM_STREAM" -T fields -e frame.number | wc -l)
CM_RESP_FRAMES=$(ts "$CAPDIR/$CM.pcap" -Y "tcp.stream == $CM_STREAM && tcp.srcport == $CM_PORT && tcp.len > 0" \
    -T fields -e frame.number | tr '\n' ' ')
CM_RESP_BYTES=$(ts "$CAPDIR/$CM.pcap" -Y "tcp.stream == $CM_STREAM && tcp.srcport == $CM_PORT && tcp.len > 0" \
    -T fields -e tcp.len | awk '{ s += $1 } END { print s }')
REAL_SLL2=""
if [[ -f "$CAPDIR/scepclient-any-sll2.pcap" ]]; then
    REAL_SLL2=$(printf '%s packets, %s bytes, %s; SLL2 packet types %s, ARPHRD %s' \
        "$(npk "$CAPDIR/scepclient-any-sll2.pcap")" "$(sz "$CAPDIR/scepclient-any-sll2.pcap")" \
        "$(enc "$CAPDIR/scepclient-any-sll2.pcap")" \
        "$(ts "$CAPDIR/scepclient-any-sll2.pcap" -T fields -e sll.pkttype | sort -u | tr '\n' ' ' | sed 's/ $//')" \
        "$(ts "$CAPDIR/scepclient-any-sll2.pcap" -T fields -e sll.hatype | sort -u | tr '\n' ' ' | sed 's/ $//')")
fi

{
cat <<EOF
# Derived test captures (TCP reassembly and packet input)

> **Generated** by \`captures/make-derived.sh\` (uses \`pcaptool.py\`, editcap, mergecap,
> tcprewrite); edit that script, not this file. Every file here is derived from the real
> captures one directory up (their exact bytes; none is re-captured) and is rebuilt
> byte-for-byte identically by:

\`\`\`
captures/make-derived.sh            # ~3 s, no root needed; make-captures.sh runs it at its end
captures/make-derived.sh --verify   # also checks the describe.sh facts (~75 s)
\`\`\`

The script checks every file before writing this README: capinfos opens every file except
the two deliberately broken ones (which capinfos must reject); tshark finds no bad IP/TCP
checksum; and where the byte streams must be unchanged, the payload of every TCP connection
(both directions, \`tshark -z follow,tcp,raw\`) is identical to that of the source.
\`--verify\` also checks that \`describe.sh\` gives the same PKIOperation summary rows
(transactionID, messageType, pkiStatus, failInfo, issued serial).

Random choices use \`--seed $SEED\`. Frame numbers below are 1-based frame numbers of the
**source** capture. Packets that pcaptool.py moves keep their own timestamps, so files
1 and 10 are not in time order. A copy of a segment gets the later of its own
timestamp and the timestamp of the packet it follows.

| file | source | packets | bytes | link type |
| --- | --- | --- | --- | --- |
EOF
row $SC-reordered.pcap $SC.pcap
row $SC-duplicated.pcap $SC.pcap
row $SC-dropped.pcap $SC.pcap
row $SC-dropped-head.pcap $SC.pcap
row $CM-snaplen200.pcap $CM.pcap
row $WC-snap200.pcap $WC.pcap
row $WC-snap200.pcapng $WC.pcap
row $SC-port33333.pcap $SC.pcap
row $SC-vlan.pcap $SC.pcap
row $SC-qinq.pcap $SC.pcap
row $SC-sll2.pcap $SC.pcap
row two-interfaces.pcapng "$SC.pcap + $WC.pcap"
row $C20-part-a.pcap $C20.pcap
row $C20-part-b.pcap $C20.pcap
row $C20-shuffled.pcap $C20.pcap
row enroll-truncated.pcap $SC.pcap
row garbage-file.pcap "$SC.pcap (header)"
row $SC-data-before-syn.pcap $SC.pcap
row $SC-response-before-syn.pcap $SC.pcap
row response-only.pcap $CM.pcap
row $CM-20s-later.pcap $CM.pcap
row opaque-tls-before-scep.pcap "$T13N.pcap (x2) + $T12.pcap"
row ndes-proxy-tls-nosecrets.pcapng ndes-proxy-tls.pcapng
cat <<EOF

Source facts used below (tshark): in \`$SC.pcap\` ($SC_N packets, one connection
$SC_CLIENT → $SC_SERVER) the PKIOperation POST (Content-Length $SC_CL) is frames
$SC_SEGS: frame $SC_HEAD = relative seq $SC_HEAD_SEQ, $SC_HEAD_LEN bytes (request line,
headers, body start); frame $SC_TAIL = relative seq $SC_TAIL_SEQ, $SC_TAIL_LEN bytes (body only).
In \`$CM.pcap\` the PKIOperation (GET) is on tcp.stream $CM_STREAM ($PKI_CM_PKTS packets), its
CertRep response in frames $CM_RESP_FRAMES($CM_RESP_BYTES bytes).

## \`$SC-reordered.pcap\`

\`pcaptool.py reorder $SC.pcap OUT --seed $SEED\`: inside every *flight* (consecutive data
segments of one connection and direction, not interrupted by data of the other direction;
pure ACKs may sit between them) the data segments are permuted (never the identity, windows of
at most 4 segments); packets only move into the positions of other data segments of the
same flight. Result: ${SC_REO}
So the request body arrives tail first and the CertRep segments out of order, while no
response precedes its request in the file.

**Correct result:** exactly the same as \`$SC.pcap\`: 1 connection, 3 HTTP exchanges
(GetCACert, GetCACaps, POST PKIOperation), one PKCSReq transaction with CertRep SUCCESS
(the same transactionID and issued certificate as in ../README.md). No gap, no error.

## \`$SC-duplicated.pcap\`

\`pcaptool.py duplicate $SC.pcap OUT --seed $SEED --overlap ${SC_SEG[0]},${SC_SEG[1]}\`: every one of
the data segments gets an identical copy (same IP ID, seq, payload), alternately
right after the original and 1-3 packets later (seeded); plus one extra overlapping
retransmission: $DUP_OVL; it is the
same bytes as already sent, with IP length and IP/TCP checksums recomputed.
$(npk "$OUT/$SC-duplicated.pcap") packets = $SC_N + $(grep -c '^duplicate: frame' "$TMP/duplicated.log") copies + 1 overlap.

**Correct result:** exactly the same as \`$SC.pcap\` (one PKCSReq, SUCCESS); duplicated and
overlapping bytes are dropped, never appended twice (the POST body stays $SC_CL bytes,
the CertRep body the same size as in the source).

## \`$SC-dropped.pcap\`

\`pcaptool.py drop $SC.pcap OUT --frame $SC_TAIL\`: removes frame $SC_TAIL, the last segment of the
PKIOperation POST ($SC_TAIL_LEN bytes of request body, relative seq $SC_TAIL_SEQ..$((SC_TAIL_SEQ + SC_TAIL_LEN - 1)) of
$SC_CLIENT → $SC_SERVER). A capture loss: the server's ACK (ack $((SC_TAIL_SEQ + SC_TAIL_LEN))) and the client's FIN
(seq $((SC_TAIL_SEQ + SC_TAIL_LEN))) still cover it. $DROP_N packets.

**Correct result:** GetCACert and GetCACaps as in the source; then a **gap of $SC_TAIL_LEN bytes** in
the client→server stream of that connection at relative seq $SC_TAIL_SEQ (the POST
has Content-Length $SC_CL but only $((SC_CL - SC_TAIL_LEN)) body bytes before the gap): the PKIOperation
request is incomplete and must not be decoded from the truncated body; nothing after the gap
may be glued to it. The CertRep response (complete) may be reported as a response without a
decodable request.

## \`$SC-dropped-head.pcap\`

\`pcaptool.py drop $SC.pcap OUT --frame $SC_HEAD\`: removes frame $SC_HEAD instead, the first segment of
the POST ($SC_HEAD_LEN bytes at relative seq $SC_HEAD_SEQ..$((SC_HEAD_SEQ + SC_HEAD_LEN - 1)): request line, headers and
the first $((SC_HEAD_LEN - (SC_TAIL_LEN + SC_HEAD_LEN - SC_CL))) body bytes). $(npk "$OUT/$SC-dropped-head.pcap") packets.

**Correct result:** GetCACert and GetCACaps as in the source; a **gap of $SC_HEAD_LEN bytes** at
relative seq $SC_HEAD_SEQ of the client→server stream; the $SC_TAIL_LEN bytes of frame $SC_TAIL after the gap
must **not** be glued to the GetCACaps request before it (no bogus HTTP request from body
bytes). The CertRep response may be reported as a response without a request.

## \`$CM-snaplen200.pcap\`

\`editcap -F pcap -s 200 $CM.pcap OUT\`: every frame cut to at most 200 captured bytes (the original
length stays in the record header; snaplen 200 in the file header). $SNAP_CUT of $(npk "$OUT/$CM-snaplen200.pcap") frames are cut: every
frame with more than 134 bytes of TCP payload (200 - 66 bytes of Ethernet + IPv4 + TCP with
timestamps). The $SNAP_DATA frames with TCP payload (tshark; "captured" = payload bytes in the file):

| frame | tcp.stream | direction | TCP payload | captured |
| --- | --- | --- | --- | --- |
$SNAP_TABLE

**Correct result:** only the small GET requests (GetCACaps, GetCACert with message=0/1,
request line and headers in one segment) are complete. Every response and the
PKIOperation GET (its 3.9 kB request line spans 3 segments) lose bytes: the tool must
report the not-captured bytes (packets shorter than on the wire), not treat them as a TCP gap
to be filled by later data, never glue the next segment's captured bytes to a cut one, and
decode no pkiMessage or certificate. The HTTP header blocks of the responses fit in the 134
captured bytes (the CertRep's, frame $CM_RESP1: $CM_RESP_HDR bytes, then the chunked body), their bodies do not.

## \`$WC-snap200.pcap\`, \`$WC-snap200.pcapng\`

\`editcap -F pcap -s 200 $WC.pcap OUT\` and \`editcap -F pcapng -s 200 $WC.pcap OUT\`: the POST
enrollment of \`../$WC.pcap\` with every frame cut to at most 200 captured bytes. $WC_CUT of
$(npk "$OUT/$WC-snap200.pcap") frames are cut (tshark \`frame.cap_len < frame.len\`: frames $WC_CUT_FRAMES), the same $WC_CUT_NG in
the pcapng file. The snap length in the headers (capinfos): pcap file header $WC_HDR_PCAP;
pcapng interface $WC_HDR_NG (the source's, not the cut), so there the cut shows only in the
records: the largest captured length among the cut ones is $WC_MAXCAP. The PKIOperation
POST (frame and Content-Length, tshark on the source: $WC_POST) spans two cut segments;
its header block (in frame $WC_POST_FIRST: $WC_POST_HDR bytes) does not fit in the 134 captured bytes of TCP payload.

**Correct result:** $WC_CUT truncated packets, the snap length 200 named as the cause; one PKIOperation
exchange (the POST and its CertRep response, in one transaction), INCOMPLETE because of the
cut, nothing decoded from the cut bodies.

## \`$SC-port33333.pcap\`

\`tcprewrite --portmap=$SC_PORT:33333 --fixcsum -i $SC.pcap -o OUT\`: server port $SC_PORT → 33333
in both directions, checksums recomputed. $(npk "$OUT/$SC-port33333.pcap") packets.

**Correct result:** the same as \`$SC.pcap\` (SCEP is found by content, not by port), server
127.0.0.1:33333.

## \`$SC-vlan.pcap\`, \`$SC-qinq.pcap\`

\`tcprewrite --enet-vlan=add --enet-vlan-tag=100 --enet-vlan-cfi=0 --enet-vlan-pri=0 -i $SC.pcap -o OUT\`:
one 802.1Q tag (TPID 0x8100, VID 100) in every frame.

\`pcaptool.py qinq $SC.pcap OUT --outer 0x88a8:200 --inner 0x8100:100\`: two tags inserted
after the MAC addresses: 802.1ad S-tag (0x88a8, VID 200, PCP 0, DEI 0) then 802.1Q C-tag
(0x8100, VID 100), then the original EtherType 0x0800 (+8 bytes per frame, snaplen +8).

**Correct result:** both the same as \`$SC.pcap\`.

## \`$SC-sll2.pcap\` (converted) and \`../scepclient-any-sll2.pcap\` (real)

\`pcaptool.py sll2 $SC.pcap OUT --ifindex 1\`: linktype 276 (LINUX_SLL2); the 14-byte
Ethernet header of every frame is replaced by a 20-byte SLL2 header: protocol type 0x0800,
reserved 0, interface index 1, ARPHRD_ETHER (1), packet type 4 (PACKET_OUTGOING) for
client→server and 0 (PACKET_HOST) for server→client, address length 6, the source MAC
(00:00:00:00:00:00 on lo) padded to 8 bytes. This file is **converted**, not captured.

**Correct result:** the same as \`$SC.pcap\`.

A **real** LINUX_SLL2 capture also exists: \`captures/scepclient-any-sll2.pcap\`, made by
\`sudo captures/make-captures.sh --only sll2\` (also part of a full run; it does not touch the
other captures): one scepclient enrollment to a fresh scepserver on port 8013, captured with
\`tcpdump -i any -s 0 -w FILE 'tcp port 8013'\` in the private namespace (tcpdump prints
"data link type LINUX_SLL2"), checksums then fixed with \`pcaptool.py fixcsum\` (tcprewrite
has no SLL2 support). ${REAL_SLL2:-(not present: run make-captures.sh --only sll2)}. On the
loopback the "any" device shows every packet once, as packet type 0 with ARPHRD_LOOPBACK
(772), unlike the converted file. Key, certificate and logs: \`keys/scepclient-any-sll2.*\`,
\`logs/scepclient-any-sll2.*\`. **Correct result:** one PKCSReq transaction, CertRep SUCCESS.

## \`two-interfaces.pcapng\`

\`pcaptool.py sll2 $WC.pcap TMP --ifindex 1\` then
\`mergecap -F pcapng -w OUT $SC.pcap TMP\`: one pcapng section with two interface
description blocks of different link types: $IFACES
(encap 1 = Ethernet, 210 = Linux cooked v2; \`tshark -T fields -e frame.interface_id -e frame.encap_type\`).
The two captures were made at different times, so the merge puts all of one before the other.

**Correct result:** the union of \`$SC.pcap\` (PKCSReq, SUCCESS) and \`$WC.pcap\` (PKCSReq,
FAILURE badRequest): 2 connections, 2 PKIOperation transactions.

## \`$C20-part-a.pcap\`, \`$C20-part-b.pcap\`

\`pcaptool.py split $C20.pcap A B\`: part-a = the connections with an even tcp.stream number
(0, 2, ..., 18), part-b = the odd ones; every connection is complete in one file, packets
keep their order and timestamps. $(sed -n 's/^split: //p' "$TMP/split.log"). $(nconn "$OUT/$C20-part-a.pcap") + $(nconn "$OUT/$C20-part-b.pcap")
connections; $(ninterleave) packets of part-b lie in time between the first and last packet of part-a.

**Correct result:** each file alone: its 10 transactions, as in ../README.md; both files given
together (\`-r A -r B\`, merged by time): exactly the 20 transactions of \`$C20.pcap\` (the
same transactionIDs, statuses and issued serials).

## \`$C20-shuffled.pcap\`

\`pcaptool.py duplicate $C20.pcap OUT --seed $SEED --reorder --every 3\`: first the permutation of
file 1 ($SHUF_REO flights permuted), then an identical copy of every third data segment
($SHUF_DUP copies, right after or 1-3 packets later). $(npk "$OUT/$C20-shuffled.pcap") packets.

**Correct result:** exactly the same 20 transactions as \`$C20.pcap\` (see ../README.md: the same
transactionIDs, pkiStatus/failInfo and issued serials, including the duplicate serials).

## \`enroll-truncated.pcap\`

\`pcaptool.py truncate-last $SC.pcap OUT\`: the file cut in the middle of its last record
(a capture file copied while being written): $TRUNC.

**Correct result:** capinfos reports the file as cut short in the middle of a packet; a tool
should report a truncated file (input error or warning) and still give everything before it:
the complete enrollment (the cut record is the last pure ACK).

## \`garbage-file.pcap\`

\`pcaptool.py garbage $SC.pcap OUT --seed $SEED --size 4096\`: the 24-byte pcap file header of
\`$SC.pcap\` followed by 4096 seeded random bytes; the first record header's caplen and len
are forced to 0xDEADBEEF (> snaplen, > any sane limit).

**Correct result:** an input error about an invalid record length (no crash, no huge
allocation, no packets decoded). capinfos rejects it.

## \`response-only.pcap\`

\`pcaptool.py cut-flow-before $CM.pcap OUT --frame $CM_RESP1\`: removes the packets of
tcp.stream $CM_STREAM (the PKIOperation connection) before frame $CM_RESP1, the first packet of the CertRep
response: frames $CM_CUT (handshake, the GET PKIOperation request, its ACKs).
All other connections are untouched. $(npk "$OUT/response-only.pcap") packets.

**Correct result:** the GetCACaps / GetCACert exchanges of the other connections as in
the source; on the PKIOperation connection (picked up mid-stream, no SYN) an HTTP response
with a CertRep (pkiStatus SUCCESS) and **no request**: reported as a response whose request
was not captured, not paired with any other request.

## \`opaque-tls-before-scep.pcap\`

\`editcap -t\` moves two copies of \`../$T13N.pcap\` (TLS 1.3 + HTTP/2, whose key log is
not given) to 300 s and 150 s before the start of \`../$T12.pcap\` (TLS 1.2 + HTTP/1.1),
\`tcprewrite --portmap\` moves the second copy's client port from $T13N_CPORT to
$((T13N_CPORT + 1)), and \`mergecap\` joins the three: $(npk "$OUT/opaque-tls-before-scep.pcap") packets,
$(nconn "$OUT/opaque-tls-before-scep.pcap") connections, all toward the same server
$(ts "$CAPDIR/$T12.pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e ip.dst -e tcp.dstport | tr '\t' : | sed -n 1p).

**Correct result:** with \`--keylog keys/tls12-http11.keylog\` the last connection is an
enrollment (as in \`../$T12.pcap\`); the two earlier ones cannot be read, and they end before
that server is seen carrying SCEP: a tool that shows encrypted connections toward servers
that carry SCEP must keep them until it knows.

## \`ndes-proxy-tls-nosecrets.pcapng\`

\`../ndes-proxy-tls.pcapng\` with every block copied but its Decryption Secrets Block (the source
has $(capinfos "$CAPDIR/ndes-proxy-tls.pcapng" 2>/dev/null | awk -F': *' '/decryption secrets/ { print $2 }'), the copy $(capinfos "$OUT/ndes-proxy-tls-nosecrets.pcapng" 2>/dev/null | awk -F': *' '/decryption secrets/ { n = $2 } END { print n + 0 }')): the same $(npk "$OUT/ndes-proxy-tls-nosecrets.pcapng") packets.
The client's leg goes through the TLS proxy on
$(ts "$CAPDIR/ndes-proxy-tls.pcapng" -Y 'tls.handshake.type == 1' -T fields -e ip.dst -e tcp.dstport | tr '\t' : | sort -u | tr '\n' ' ')(SNI
$(ts "$CAPDIR/ndes-proxy-tls.pcapng" -Y 'tls.handshake.type == 1' -T fields -e tls.handshake.extensions_server_name | sort -u | tr '\n' ' ')in
$(ts "$CAPDIR/ndes-proxy-tls.pcapng" -Y 'tls.handshake.type == 1' | wc -l) TLS connections); the proxy's leg to NDES is plain HTTP.

**Correct result:** the SCEP of the plain HTTP leg as in the source; the TLS connections cannot
be read, and since their server is on port 8443 and named like NDES, a tool should say that
they could carry SCEP and what would open them (the key log, or a capture inside the proxy).

## \`$SC-data-before-syn.pcap\`, \`$SC-response-before-syn.pcap\`

\`pcaptool.py hoist $SC.pcap OUT --frame $SC_TAIL\` (the last segment of the PKIOperation
POST, $SC_TAIL_LEN bytes at relative seq $SC_TAIL_SEQ) and \`--frame $SC_RESP1\` (the first
segment of the CertRep): the segment is moved before the connection's SYN, 1 us earlier,
as a capture merged from two interfaces or hosts with skewed clocks writes it.
$(npk "$OUT/$SC-data-before-syn.pcap") packets each.

**Correct result:** one ISSUED enrollment, as in the source: the moved segment takes its
place in its stream (the roles of client and server come from the SYN, not from the first
packet), no gap, no request or response without its partner. The CertRep segment
acknowledges request bytes that come after it in the file, so it cannot be read before
them. The moved frame is part of its message's frame range.

## \`$CM-20s-later.pcap\`

\`editcap -F pcap -t 20 $CM.pcap OUT\`: every packet 20 s later, nothing else changed
($(npk "$OUT/$CM-20s-later.pcap") packets, the same frame numbers as the source). Read together
with the source (\`-r ../$CM.pcap -r $CM-20s-later.pcap\`), the same client address and ports
ask the same server again within a minute, on new connections: every connection of the
source ends with FINs before its copy's SYN.

**Correct result:** two enrollments and, for each file, the source's two connections with
only GetCACaps or GetCACert: four such groups, not two (a group is one connection; the
two files' connections are not one). Frames are named by file and their number there.
EOF
} > "$OUT/README.md"

log "done: $(ls "$OUT"/*.pcap "$OUT"/*.pcapng | wc -l) files in $OUT"
