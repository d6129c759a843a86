#!/usr/bin/env python3
"""make-corpus.py - writes the fuzz seed corpora under tests/fuzz/corpus/
from real data: the SCEP messages in tests/unit/data, the packets of
captures/*.pcap (pcapng too) and the device logs of tests/devlogs (with the
log lines of the page their README names), each in the input layout its
harness reads
(see the comment at the top of each fuzz_*.c).

  python3 tests/fuzz/make-corpus.py            # from the source tree root
  python3 tests/fuzz/make-corpus.py --check    # exit 1 if the output differs

The output is committed; rerun after changing a layout or the data."""
import base64
import os
import shutil
import struct
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, '..', '..'))
DATA = os.path.join(TOP, 'tests', 'unit', 'data')
CAPS = os.path.join(TOP, 'captures')

# link type -> fuzz_packets selector (bits 0-2; bit 3 is LINKTYPE_RAW 101)
LINK_SELECTOR = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 12: 5, 14: 5, 228: 6, 229: 7, 101: 8}

# Captures whose every frame becomes one fuzz_packets seed (small ones; the
# big concurrent-20 gives only its first frames).
PACKET_CAPTURES = [
    ('captures/scepclient-post-enroll.pcap', None),
    ('captures/certmonger-get-enroll.pcap', None),
    ('captures/strongswan-enroll.pcap', None),
    ('captures/renewal-rejected.pcap', None),
    ('captures/wrong-challenge.pcap', None),
    ('captures/garbage-http500.pcap', None),
    ('captures/ipv6-enroll.pcap', None),
    ('captures/enroll.pcapng', None),
    ('captures/concurrent-20.pcap', 40),
    ('tests/unit/data/cap-v6-sll2.pcap', None),
    ('tests/unit/data/cap-mixed-link.pcapng', None),
    ('tests/unit/data/cap-v4-eth-truncated.pcap', None),
    ('tests/unit/data/pcapng-dumpcap-lo-any.pcapng', None),
]

# Captures whose TCP conversations become fuzz_http1 seeds.
HTTP1_CAPTURES = [
    'captures/scepclient-post-enroll.pcap',
    'captures/certmonger-get-enroll.pcap',
    'captures/strongswan-enroll.pcap',
    'captures/garbage-http500.pcap',
    'captures/renewal-rejected.pcap',
]
MAX_FLOWS_PER_CAPTURE = 4

# Captures whose HTTP/2 (h2c) conversations become fuzz_http2 seeds.
HTTP2_CAPTURES = [
    'tests/unit/data/h2-prior-knowledge.pcap',
    'captures/h2c-prior-knowledge.pcap',
]

# Captures whose TLS conversations become fuzz_tls seeds; fuzz_tls loads
# every tests/unit/data/tls-*.keylog and the two captures' key logs, so
# these sessions decrypt.
TLS_CAPTURES = sorted(
    'tests/unit/data/' + n for n in os.listdir(DATA)
    if n.startswith('tls-') and (n.endswith('.pcap') or n.endswith('.pcapng'))) + [
    'captures/tls13-h2-enroll.pcap', 'captures/tls12-http11-enroll.pcap']
# fuzz_tls cuts inputs at 65536 bytes (run.sh max_len); longer ones are
# trimmed to whole events below it.
TLS_MAX_SEED = 65000


# Device logs whose bytes become fuzz_devlog seeds, with the options their
# README gives: (file, device UTC offset in s, assumed date or None).
DEVLOGS = [
    ('android-scepclient-post-enroll.log', 0, None),
    ('android-wrong-challenge.log', 0, None),
    ('ios-certmonger-get-enroll.log', 0, None),
    ('ios-certmonger-get-enroll-cut.log', 0, (2026, 11, 25)),
    ('ios-wrong-challenge-syslog.log', 3600, (2026, 11, 25)),
    ('windows-strongswan-enroll.xml', 0, None),
    ('windows-wrong-challenge-utf16.xml', 0, None),
    ('windows-strongswan-enroll.evtx', 0, None),
    # lines published by others (tests/devlogs/README.md names the sources)
    ('real-android-omadm-device-to-ndes.log', 0, None),
    ('real-ios-console-device-to-ndes.log', 0, None),
    ('real-ios-syslog-nserror-22003.log', 0, (2014, 3, 17)),
    ('real-ios-console-nserror-4001.log', 0, None),
    ('real-ios-syslog-no-getcacaps.log', 0, None),
    ('real-windows-event400-xmlview.xml', 0, None),
]
DEVLOG_FORCE = {'android': 1, 'ios': 2, 'windows': 3}

# The log lines quoted on Microsoft's "Troubleshoot the delivery of
# certificates provisioned by SCEP" page (the copy the devlogs README names,
# ../shared/seeds/000_5c553763875ce84a.txt beside the repository), byte for byte: Android
# OMADM root and SCEP certificate lines, then the iOS Console.app copy.
PAGE_ANDROID_LINES = [
    b"2018-02-27T04:50:52.1890000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeRootCertInstallStateMachine     9595        9    Root cert '17\xe2\x80\xa6' state changed from CERT_INSTALL_REQUESTED to CERT_INSTALL_REQUESTED",
    b"2018-02-27T04:53:31.1300000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeRootCertInstallStateMachine     9595        0    Root cert '17\xe2\x80\xa6' state changed from CERT_INSTALL_REQUESTED to CERT_INSTALLING",
    b"2018-02-27T04:53:32.0390000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeRootCertInstallStateMachine     9595       14    Root cert '17\xe2\x80\xa6' state changed from CERT_INSTALLING to CERT_INSTALL_SUCCESS",
    b'2018-02-27T05:16:08.2500000    VERB    Event     com.microsoft.omadm.platforms.android.certmgr.CertificateEnrollmentManager    18327       10    There are 1 requests',
    b'2018-02-27T05:16:08.2500000    VERB    Event     com.microsoft.omadm.platforms.android.certmgr.CertificateEnrollmentManager    18327       10    Trying to enroll certificate request: ModelName=AC_51\xe2\x80\xa6%2FLogicalName_39907\xe2\x80\xa6;Hash=1677525787',
    b'2018-02-27T05:16:20.6150000    VERB    Event     org.jscep.transport.UrlConnectionGetTransport    18327       10    Sending GetCACert(ca) to https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACert&message=ca',
    b"2018-02-27T05:16:20.6530000    VERB    Event     org.jscep.transport.UrlConnectionGetTransport    18327       10    Received '200 OK' when sending GetCACert(ca) to https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACert&message=ca",
    b'2018-02-27T05:16:21.7460000    VERB    Event     org.jscep.transport.UrlConnectionGetTransport    18327       10    Sending GetCACaps(ca) to https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACaps&message=ca',
    b"2018-02-27T05:16:21.7890000    VERB    Event     org.jscep.transport.UrlConnectionGetTransport    18327       10    Received '200 OK' when sending GetCACaps(ca) to https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACaps&message=ca",
    b'2018-02-27T05:16:28.0340000    VERB    Event     org.jscep.transaction.EnrollmentTransaction    18327       10    Response: org.jscep.message.CertRep@3150777b[failInfo=<null>,pkiStatus=SUCCESS,recipientNonce=Nonce [GUID],messageData=org.spongycastle.cms.CMSSignedData@27cc8998,messageType=CERT_REP,senderNonce=Nonce [GUID],transId=TRANSID]',
    b"2018-02-27T05:16:28.2440000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeScepCertInstallStateMachine    18327       10    SCEP cert 'ModelName=AC_51\xe2\x80\xa6%2FLogicalName_39907\xe2\x80\xa6;Hash=1677525787' state changed from CERT_ENROLLED to CERT_INSTALL_REQUESTED",
    b"2018-02-27T05:18:44.9820000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeScepCertInstallStateMachine    18327        0    SCEP cert 'ModelName=AC_51\xe2\x80\xa6%2FLogicalName_39907\xe2\x80\xa6;Hash=1677525787' state changed from CERT_INSTALL_REQUESTED to CERT_INSTALLING",
    b"2018-02-27T05:18:45.3460000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeScepCertInstallStateMachine    18327       14    SCEP cert 'ModelName=AC_51\xe2\x80\xa6%2FLogicalName_39907\xe2\x80\xa6;Hash=1677525787' state changed from CERT_INSTALLING to CERT_ACCESS_REQUESTED",
    b"2018-02-27T05:20:15.3520000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeScepCertInstallStateMachine    18327       21    SCEP cert 'ModelName=AC_51\xe2\x80\xa6%2FLogicalName_39907\xe2\x80\xa6;Hash=1677525787' state changed from CERT_ACCESS_REQUESTED to CERT_ACCESS_GRANTED",
]
PAGE_IOS_LINES = [
    b'Debug 18:30:53.691033 -0500 profiled Performing synchronous URL request: https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACert&message=SCEP%20Authority\\  ',
    b'Debug 18:30:54.640644 -0500 profiled Performing synchronous URL request: https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACaps&message=SCEP%20Authority\\ ',
    b'Debug 18:30:55.487908 -0500 profiled Performing synchronous URL request: https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=PKIOperation&message=MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgMFADCABgkqhkiG9w0BBwGggCSABIIZfzCABgkqhkiG9w0BBwOggDCAAgEAMYIBgjCCAX4CAQAwZjBPMRUwEwYKCZImiZPyLGQBGRYFbG9jYWwxHDAaBgoJkiaJk/IsZAEZFgxmb3VydGhjb2ZmZWUxGDAWBgNVBAMTD0ZvdXJ0aENvZmZlZSBDQQITaAAAAAmaneVjEPlcTwAAAAAACTANBgkqhkiG9w0BAQEFAASCAQCqfsOYpuBToerQLkw/tl4tH9E+97TBTjGQN9NCjSgb78fF6edY0pNDU+PH4RB356wv3rfZi5IiNrVu5Od4k6uK4w0582ZM2n8NJFRY7KWSNHsmTIWlo/Vcr4laAtq5rw+CygaYcefptcaamkjdLj07e/Uk4KsetGo7ztPVjSEFwfRIfKv474dLDmPqp0ZwEWRQG ',
    b'Debug 18:30:57.285730 -0500 profiled Adding dependent Microsoft.Profiles.MDM to parent www.windowsintune.com.SCEP.ModelName=AC_51bad41f.../LogicalName_1892fe4c...;Hash=-912418295 in domain ManagedProfileToManagingProfile to system\\ ',
    b"Default 18:30:57.320616 -0500 profiled Profile \\'93www.windowsintune.com.SCEP.ModelName=AC_51bad41f.../LogicalName_1892fe4c...;Hash=-912418295\\'94 installed.\\ ",
]
# ---- capture files -------------------------------------------------------

def read_pcap(path):
    """Yields (linktype, caplen bytes, wirelen) for each record."""
    d = open(path, 'rb').read()
    magic = d[:4]
    if magic == b'\x0a\x0d\x0d\x0a':
        yield from read_pcapng(d)
        return
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        raise SystemExit('%s: not a pcap file' % path)
    linktype = struct.unpack(e + 'I', d[20:24])[0] & 0x0fffffff
    off = 24
    while off + 16 <= len(d):
        _, _, cl, wl = struct.unpack(e + 'IIII', d[off:off + 16])
        off += 16
        yield linktype, d[off:off + cl], wl
        off += cl


def read_pcapng(d):
    e = '<'
    off = 0
    links = []
    while off + 12 <= len(d):
        btype = struct.unpack(e + 'I', d[off:off + 4])[0]
        if btype == 0x0a0d0d0a:
            bom = d[off + 8:off + 12]
            e = '<' if bom == b'\x4d\x3c\x2b\x1a' else '>'
            links = []
        blen = struct.unpack(e + 'I', d[off + 4:off + 8])[0]
        body = d[off + 8:off + blen - 4]
        if btype == 1:
            links.append(struct.unpack(e + 'H', body[:2])[0])
        elif btype == 6:
            ifid, _, _, cl, wl = struct.unpack(e + 'IIIII', body[:20])
            yield links[ifid], body[20:20 + cl], wl
        elif btype == 3:
            wl = struct.unpack(e + 'I', body[:4])[0]
            yield links[0], body[4:4 + wl], wl
        if blen < 12:
            break
        off += blen


# ---- TCP conversations (for fuzz_http1) ----------------------------------

def tcp_of(linktype, frame):
    """(src, dst, seq, flags, payload) of an Ethernet/SLL/raw IP TCP frame."""
    if linktype == 1:
        et, off = struct.unpack('>H', frame[12:14])[0], 14
        while et in (0x8100, 0x88a8):
            et, off = struct.unpack('>H', frame[off + 2:off + 4])[0], off + 4
    elif linktype == 113:
        et, off = struct.unpack('>H', frame[14:16])[0], 16
    elif linktype == 276:
        et, off = struct.unpack('>H', frame[0:2])[0], 20
    elif linktype in (12, 14, 101):
        et, off = (0x0800 if frame[0] >> 4 == 4 else 0x86dd), 0
    else:
        return None
    ip = frame[off:]
    if et == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack('>H', ip[2:4])[0]
        src, dst, tcp = ip[12:16], ip[16:20], ip[ihl:tot]
    elif et == 0x86dd and len(ip) >= 40 and ip[6] == 6:
        plen = struct.unpack('>H', ip[4:6])[0]
        src, dst, tcp = ip[8:24], ip[24:40], ip[40:40 + plen]
    else:
        return None
    if len(tcp) < 20:
        return None
    sp, dp, seq = struct.unpack('>HHI', tcp[:8])
    doff = (tcp[12] >> 4) * 4
    return (src, sp), (dst, dp), seq, tcp[13], tcp[doff:]


def conversations(path):
    """Per flow, in order of first packet: a list of (dir, kind, bytes)."""
    flows = {}
    order = []
    for lt, frame, _ in read_pcap(path):
        t = tcp_of(lt, frame)
        if not t:
            continue
        src, dst, seq, flags, payload = t
        key = tuple(sorted([src, dst]))
        if key not in flows:
            client = src
            flows[key] = {'client': client, 'next': {}, 'ev': [], 'done': set()}
            order.append(key)
        f = flows[key]
        if flags & 0x02 and not flags & 0x10:
            f['client'] = src
        d = 0 if src == f['client'] else 1
        if flags & 0x02:
            f['next'][d] = (seq + 1) & 0xffffffff
            continue
        nxt = f['next'].get(d)
        if payload and (nxt is None or seq == nxt):
            f['ev'].append((d, 'data', payload))
            f['next'][d] = (seq + len(payload)) & 0xffffffff
        if flags & 0x04:
            f['ev'].append((d, 'rst', b''))
        elif flags & 0x01 and d not in f['done']:
            f['done'].add(d)
            f['ev'].append((d, 'fin', b''))
    return [flows[k]['ev'] for k in order]


def http1_input(events, cap_sel=0):
    out = bytearray([cap_sel])
    for d, kind, data in events:
        if kind == 'data':
            for i in range(0, len(data), 0xffff):
                part = data[i:i + 0xffff]
                out += bytes([d]) + struct.pack('>H', len(part)) + part
        elif kind == 'gap':
            out += bytes([d | 4]) + struct.pack('>H', len(data))
        elif kind == 'fin':
            out += bytes([d | 6])
        else:
            out += bytes([d | 6 | 8])
    return bytes(out)


def with_gap(events):
    """The same conversation with the middle of its longest chunk lost."""
    i = max(range(len(events)), key=lambda k: len(events[k][2]))
    d, kind, data = events[i]
    if kind != 'data' or len(data) < 64:
        return None
    a, b = len(data) // 3, 2 * len(data) // 3
    return events[:i] + [(d, 'data', data[:a]), (d, 'gap', b'\0' * (b - a)),
                         (d, 'data', data[b:])] + events[i + 1:]


# ---- fuzz_packets frames -------------------------------------------------

def packets_input(records, profile=2, relink=None):
    out = bytearray([profile])
    for lt, frame, wl in records:
        if relink:
            lt, frame = relink(lt, frame)
        sel = LINK_SELECTOR.get(lt)
        if sel is None:
            continue
        frame = frame[:0xffff]
        if wl > len(frame):
            sel |= 0x40
        out += struct.pack('>HB', len(frame), sel) + frame
    return bytes(out)


def eth_to_raw(lt, frame):
    """Ethernet frames re-labelled as raw IP (DLT_RAW), to seed that path."""
    if lt == 1 and frame[12:14] in (b'\x08\x00', b'\x86\xdd'):
        return 12, frame[14:]
    return lt, frame


def eth_to_sll(lt, frame):
    """Ethernet frames re-labelled as Linux cooked (SLL)."""
    if lt == 1:
        hdr = struct.pack('>HHH', 0, 1, 6) + frame[6:12] + b'\0\0' + frame[12:14]
        return 113, hdr + frame[14:]
    return lt, frame


# ---- fuzz_devlog inputs ----------------------------------------------------

def devlog_input(body, force=0, limits=0, tz_s=0, skew_s=0, date=None):
    """The 7-byte header fuzz_devlog.c reads, then the log's bytes."""
    tz = tz_s // 1800 + 29
    assert tz_s % 1800 == 0 and 0 <= tz < 59
    skew = skew_s // 30518
    hdr = bytes([force | limits << 2, tz]) + struct.pack('>h', skew)
    if date:
        y, m, d = date
        hdr += bytes([y - 1969, m - 1, d - 1])
    else:
        hdr += b'\0\0\0'
    return hdr + body


# ---- fuzz_scep_exchange inputs -------------------------------------------

def exchange_input(sel, flags, query, req, res):
    return bytes([sel, flags]) + query + b'\n' + struct.pack('>H', len(req)) + req + res


def b64_lines(b, width=64):
    s = base64.b64encode(b)
    return b'\r\n'.join(s[i:i + width] for i in range(0, len(s), width)) + b'\r\n'


def data(name):
    return open(os.path.join(DATA, name), 'rb').read()


def build(outdir):
    corp = {}

    # fuzz_pkcs7: the messages themselves
    p = corp.setdefault('fuzz_pkcs7', {})
    for name in sorted(os.listdir(DATA)):
        # messages and certificate bundles, not keys
        if (name.endswith('.der') or name.endswith('.p7b')) and \
                '.p8' not in name and 'key' not in name:
            p[name] = data(name)
    # decode's text forms: a URL line, caps, a PEM certificate, and the
    # seed page's iOS line with its message cut after 477 characters
    for name in ('certmonger-get-request.txt', 'getcacaps.txt'):
        p[name] = data(name)
    p['ca-cert.pem'] = data('ca.pem')
    p['intune-ios-profiled-pkioperation-cut.txt'] = open(
        os.path.join(DATA, '..', '..', 'realworld', 'intune-ios-profiled-pkioperation-cut.txt'), 'rb').read()

    # fuzz_scep_exchange: the operations as clients and servers carry them
    x = corp.setdefault('fuzz_scep_exchange', {})
    x['getcacaps'] = exchange_input(0x00, 0, b'message=CAIdentifier', b'', data('getcacaps.txt'))
    x['getcacert-der'] = exchange_input(0x01 | 0x80, 0, b'message=0', b'', data('getcacert.der'))
    x['getcacert-p7b'] = exchange_input(0x01 | 0x80, 0, b'', b'', data('ca-ra.p7b'))
    x['getnextcacert-p7b'] = exchange_input(0x02 | 0x40, 0, b'', b'', data('ca-ra.p7b'))
    x['post-pkcsreq-success'] = exchange_input(0x03 | 0x08 | 0x40, 0x10, b'',
                                               data('pkcsreq.der'), data('certrep-success.der'))
    x['post-pkcsreq-failure'] = exchange_input(0x03 | 0x08 | 0x40, 0x10, b'',
                                               data('pkcsreq-badchallenge.der'), data('certrep-failure.der'))
    x['post-ber-base64'] = exchange_input(0x03 | 0x08 | 0x40, 0, b'',
                                          b64_lines(data('pkcsreq-ber.der')),
                                          base64.b64encode(data('certrep-success.der')))
    msg = urllib.parse.quote(base64.b64encode(data('pkcsreq.der')), safe='')
    x['get-message'] = exchange_input(0x05 | 0x40, 0, msg.encode(), b'', data('certrep-success.der'))
    raw = base64.b64encode(data('pkcsreq-badchallenge.der'))  # Cisco: '+' unescaped
    x['get-message-raw-plus'] = exchange_input(0x05 | 0x40, 0, raw.replace(b'+', b' '), b'',
                                               data('certrep-failure.der'))
    x['http500-html'] = exchange_input(0x03 | 0x08 | 0x20 | 0xc0, 0x10, b'', data('pkcsreq.der'),
                                       b'<html><head><title>500 - Internal server error.'
                                       b'</title></head><body><h1>Server Error</h1></body></html>\r\n')
    x['raw-query'] = exchange_input(0x04 | 0x80, 0,
                                    b'operation=GetCACert&message=scepdump%20CA', b'',
                                    data('getcacert.der'))
    x['pem-cacert'] = exchange_input(0x01, 0, b'', b'',
                                     b'-----BEGIN CERTIFICATE-----\n' + b64_lines(data('getcacert.der'), 64)
                                     .replace(b'\r\n', b'\n') + b'-----END CERTIFICATE-----\n')

    # fuzz_http1: the TCP conversations of real captures
    h = corp.setdefault('fuzz_http1', {})
    for cap in HTTP1_CAPTURES:
        base = os.path.splitext(os.path.basename(cap))[0]
        convs = [c for c in conversations(os.path.join(TOP, cap)) if c]
        for i, ev in enumerate(convs[:MAX_FLOWS_PER_CAPTURE]):
            h['%s-%d' % (base, i + 1)] = http1_input(ev)
        if convs:
            longest = max(convs, key=lambda c: sum(len(e[2]) for e in c))
            g = with_gap(longest)
            if g:
                h['%s-gap' % base] = http1_input(g)
            h['%s-cap64' % base] = http1_input(longest, cap_sel=2)

    # fuzz_http2: h2c conversations (byte 0 as fuzz_http1's, plus bit 2
    # after-upgrade and bit 3 mid-connection, see fuzz_http2.c)
    h2 = corp.setdefault('fuzz_http2', {})
    for cap in HTTP2_CAPTURES:
        base = os.path.splitext(os.path.basename(cap))[0]
        convs = [c for c in conversations(os.path.join(TOP, cap)) if c]
        for i, ev in enumerate(convs[:MAX_FLOWS_PER_CAPTURE]):
            h2['%s-%d' % (base, i + 1)] = http1_input(ev)
        if convs:
            longest = max(convs, key=lambda c: sum(len(e[2]) for e in c))
            g = with_gap(longest)
            if g:
                h2['%s-gap' % base] = http1_input(g)
            h2['%s-cap64' % base] = http1_input(longest, cap_sel=2)
            # the same bytes as after "101 Switching Protocols" to h2c
            h2['%s-upgrade' % base] = http1_input(longest, cap_sel=4)
            # a capture that began after the client's preface
            rest = [e for e in longest if e[0] == 1 or e[1] != 'data'] or longest
            h2['%s-midstream' % base] = http1_input(rest, cap_sel=8)

    # fuzz_tls: TLS sessions with their key logs (byte 0: see fuzz_tls.c)
    t = corp.setdefault('fuzz_tls', {})
    for cap in TLS_CAPTURES:
        base = os.path.splitext(os.path.basename(cap))[0]
        convs = [c for c in conversations(os.path.join(TOP, cap)) if c]
        for i, ev in enumerate(convs[:MAX_FLOWS_PER_CAPTURE]):
            blob = http1_input(ev)
            while len(blob) > TLS_MAX_SEED and len(ev) > 1:
                ev = ev[:-1]
                blob = http1_input(ev)
            t['%s-%d' % (base, i + 1)] = blob
        if convs and cap.endswith('tls-12-gcm.pcap'):
            t['%s-nokeylog' % base] = http1_input(convs[0], cap_sel=4)
            g = with_gap(convs[0])
            if g:
                t['%s-gap' % base] = http1_input(g)

    # fuzz_packets: whole captures, frame by frame
    k = corp.setdefault('fuzz_packets', {})
    for cap, limit in PACKET_CAPTURES:
        recs = list(read_pcap(os.path.join(TOP, cap)))
        if limit:
            recs = recs[:limit]
        base = os.path.splitext(os.path.basename(cap))[0]
        k[base] = packets_input(recs)
    recs = list(read_pcap(os.path.join(CAPS, 'wrong-challenge.pcap')))
    k['wrong-challenge-raw-small-limits'] = packets_input(recs, profile=1, relink=eth_to_raw)
    recs = list(read_pcap(os.path.join(CAPS, 'renewal.pcap')))
    k['renewal-sll'] = packets_input(recs, profile=0, relink=eth_to_sll)

    # fuzz_devlog: the device logs of tests/devlogs and the page's lines
    dl = corp.setdefault('fuzz_devlog', {})
    for name, tz, date in DEVLOGS:
        body = open(os.path.join(TOP, 'tests', 'devlogs', name), 'rb').read()
        base = os.path.splitext(name)[0]
        if name.endswith('.evtx'):
            base += '-evtx'     # the XML export of the same events has the plain name
        dl[base] = devlog_input(body, tz_s=tz, date=date)
        # the same forced to its format, with small limits and a skew
        force = DEVLOG_FORCE[base.split('-')[1 if base.startswith('real-') else 0]]
        dl[base + '-forced-capped'] = devlog_input(body, force=force, limits=1 + force % 3,
                                                   tz_s=tz, skew_s=-3600, date=date)
    dl['page-android'] = devlog_input(b'\n'.join(PAGE_ANDROID_LINES) + b'\n')
    dl['page-ios-copy'] = devlog_input(b'\n'.join(PAGE_IOS_LINES) + b'\n', date=(2018, 2, 27))
    for i, line in enumerate(PAGE_ANDROID_LINES):
        dl['page-android-%02d' % (i + 1)] = devlog_input(line + b'\n')
    for i, line in enumerate(PAGE_IOS_LINES):
        dl['page-ios-copy-%02d' % (i + 1)] = devlog_input(line + b'\n', date=(2018, 2, 27))
    return corp


def main():
    check = '--check' in sys.argv[1:]
    outdir = os.path.join(HERE, 'corpus')
    corp = build(outdir)
    differ = False
    for target, files in sorted(corp.items()):
        d = os.path.join(outdir, target)
        if not check:
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
        for name, blob in sorted(files.items()):
            path = os.path.join(d, name)
            if check:
                if not os.path.exists(path) or open(path, 'rb').read() != blob:
                    print('differs: %s' % os.path.relpath(path, TOP))
                    differ = True
                continue
            with open(path, 'wb') as f:
                f.write(blob)
        total = sum(len(b) for b in files.values())
        if not check:
            print('%-20s %3d seeds %7d bytes, largest %d' %
                  (target, len(files), total, max(len(b) for b in files.values())))
    sys.exit(1 if differ else 0)


if __name__ == '__main__':
    main()
