#!/usr/bin/env python3
"""http-gen.py - writes the hostile captures that tests/hostile/http-run.sh
and tests/hostile/memory.py feed to scepdump.  Standard library only; no
randomness: the same arguments write the same bytes.

Usage: http-gen.py SHAPE OUT.pcap [options]

  http-many-headers   a GET PKIOperation answered 200 by a CertRep whose
                      response has --headers N header lines (default 1100:
                      more than libhtp's 1,024), then a body
  http-long-message   a GET PKIOperation whose message= is --kib N KiB of
                      base64 (default 300: more than the 256 KiB line cap),
                      answered 404
  http-long-line      --conns N connections (default 1) that each send a
                      request line and an unfinished header line of --kib
                      KiB (default 240), never ended
  h2-many-streams     HTTP/2 prior knowledge: --streams N requests opened
                      (default 1000) and left open, then header blocks of
                      one-byte fields (indexed :method GET) on the last one
                      opened until the capture holds about --mb MB
                      (default 16)
  certs-getcacert     a GET GetCACert answered 200 application/x-x509-ca-ra-cert
                      with the file --body (certs-gen.sh writes one with
                      10,000 certificates)
  h2-huge-table       HTTP/2: the server advertises SETTINGS_HEADER_TABLE_SIZE
                      --table bytes (default 4294967295), the client sends a
                      size update to that and then header fields with
                      incremental indexing, 16,000 bytes each, until the
                      capture holds about --mb MB (default 40)
  http-bodies         --conns N connections that each POST a PKIOperation
                      with Content-Length of --kib KiB and send all but its
                      last byte (a body held per connection)
  tls-certs           --conns N TLS connections (port 443): ClientHello,
                      ServerHello, then a Certificate message of --kib KiB
                      in records, all but its last record
  tcp-conns           --conns N connections that carry nothing

Every connection: Ethernet, IPv4 10.17.0.1 -> 10.17.0.2 port 80, a full
handshake, segments of at most 1448 bytes, each acknowledged; past 20,000
connections the client address counts up (10.18.0.1, ...), so ports stay
in range.
"""
import argparse
import struct
import sys

MSS = 1448


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Writer:
    """A classic pcap (microseconds, Ethernet) written as it goes."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.t = 1700000000 * 1000000

    def packet(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        self.t += 10
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp) + len(payload))
        c = csum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000,
                         64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
        frame = eth + ip + tcp + payload
        self.f.write(struct.pack("<IIII", self.t // 1000000, self.t % 1000000,
                                 len(frame), len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10


class Conn:
    """One TCP connection; send() segments and acknowledges."""

    def __init__(self, w, n, port=80):
        self.w = w
        self.c = bytes([10, 17 + n // 20000, 0, 1])
        self.s = bytes([10, 17, 0, 2])
        self.cp = 40000 + n % 20000
        self.sp = port
        self.cseq = 1000 + n * 7919
        self.sseq = 5000 + n * 104729
        w.packet(self.c, self.s, self.cp, self.sp, self.cseq, 0, SYN)
        w.packet(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq + 1, SYN | ACK)
        self.cseq += 1
        self.sseq += 1
        w.packet(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, ACK)

    def send(self, to_server, data):
        for i in range(0, len(data), MSS):
            chunk = data[i:i + MSS]
            if to_server:
                self.w.packet(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, PSH | ACK, chunk)
                self.cseq += len(chunk)
                self.w.packet(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq, ACK)
            else:
                self.w.packet(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq, PSH | ACK, chunk)
                self.sseq += len(chunk)
                self.w.packet(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, ACK)

    def close(self):
        w = self.w
        w.packet(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, FIN | ACK)
        self.cseq += 1
        w.packet(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq, FIN | ACK)
        self.sseq += 1
        w.packet(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, ACK)


def base64ish(n):
    """n bytes of base64 text (not a real pkiMessage: the HTTP layer is
    what is tested)."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return bytes(alphabet[(i * 7) % len(alphabet)] for i in range(n))


def http_many_headers(w, a):
    c = Conn(w, 1)
    c.send(True, b"GET /cgi-bin/pkiclient.exe?operation=PKIOperation&message=MIIB"
           + base64ish(64) + b" HTTP/1.1\r\nHost: ca.example\r\n\r\n")
    body = b"\x30\x03\x02\x01\x00"
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/x-pki-message",
            b"Content-Length: %d" % len(body)]
    head += [b"X-Filler-%d: %d" % (i, i) for i in range(a.headers)]
    c.send(False, b"\r\n".join(head) + b"\r\n\r\n" + body)
    c.close()


def http_long_message(w, a):
    c = Conn(w, 1)
    c.send(True, b"GET /cgi-bin/pkiclient.exe?operation=PKIOperation&message="
           + base64ish(a.kib * 1024) + b" HTTP/1.1\r\nHost: ca.example\r\n\r\n")
    body = b"<html><body>404.14 URL too long</body></html>"
    c.send(False, b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body) + body)
    c.close()


def certs_getcacert(w, a):
    body = open(a.body, "rb").read()
    c = Conn(w, 1)
    c.send(True, b"GET /cgi-bin/pkiclient.exe?operation=GetCACert&message=CA HTTP/1.1\r\n"
           b"Host: ca.example\r\n\r\n")
    c.send(False, b"HTTP/1.1 200 OK\r\nContent-Type: application/x-x509-ca-ra-cert\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body) + body)
    c.close()


def http_long_line(w, a):
    for n in range(a.conns):
        c = Conn(w, n)
        c.send(True, b"GET /cgi-bin/pkiclient.exe?operation=GetCACaps HTTP/1.1\r\n"
               b"X-Long: " + base64ish(a.kib * 1024))


def http_bodies(w, a):
    body = base64ish(a.kib * 1024)
    for n in range(a.conns):
        c = Conn(w, n)
        c.send(True, b"POST /cgi-bin/pkiclient.exe?operation=PKIOperation HTTP/1.1\r\n"
               b"Host: ca.example\r\nContent-Type: application/x-pki-message\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body[:-1])


def tcp_conns(w, a):
    for n in range(a.conns):
        Conn(w, n)


# --- TLS -------------------------------------------------------------------

def tls_record(ctype, body):
    return struct.pack("!BHH", ctype, 0x0303, len(body)) + body


def tls_handshake(htype, body):
    return bytes([htype]) + len(body).to_bytes(3, "big") + body


def tls_certs(w, a):
    for n in range(a.conns):
        c = Conn(w, n, 443)
        random = n.to_bytes(32, "big")
        c.send(True, tls_record(22, tls_handshake(1, b"\x03\x03" + random + b"\x00"
                                                  b"\x00\x02\x13\x01\x01\x00\x00\x00")))
        c.send(False, tls_record(22, tls_handshake(2, b"\x03\x03" + random + b"\x00"
                                                   b"\x00\x2f\x00\x00\x00")))
        msg = tls_handshake(11, base64ish(a.kib * 1024))
        records = [tls_record(22, msg[k:k + 16384]) for k in range(0, len(msg), 16384)]
        c.send(False, b"".join(records[:-1]))


# --- HTTP/2 ----------------------------------------------------------------

def h2_frame(ftype, flags, sid, payload):
    return struct.pack("!I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack("!I", sid) + payload


def hpack_int(value, prefix_bits, first):
    """RFC 7541 section 5.1; first: the high bits of the first byte."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value, indexing):
    """A literal field with a new name, no Huffman: with incremental
    indexing (0x40) or without indexing (0x00)."""
    first = 0x40 if indexing else 0x00
    bits = 6 if indexing else 4
    return (hpack_int(0, bits, first) + hpack_int(len(name), 7, 0) + name
            + hpack_int(len(value), 7, 0) + value)


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
F_DATA, F_HEADERS, F_SETTINGS, F_CONTINUATION = 0, 1, 4, 9
END_STREAM, END_HEADERS, ACK_FLAG = 0x01, 0x04, 0x01


def h2_request_block(path):
    # :method POST (static 3), :scheme http (6), :path literal, content-type
    return (b"\x83\x86" + hpack_literal(b":path", path, False)
            + hpack_literal(b"content-type", b"application/x-pki-message", False))


def h2_many_streams(w, a):
    c = Conn(w, 1)
    out = bytearray(PREFACE + h2_frame(F_SETTINGS, 0, 0, b""))
    c.send(False, h2_frame(F_SETTINGS, 0, 0, b"") + h2_frame(F_SETTINGS, ACK_FLAG, 0, b""))
    for i in range(a.streams):
        sid = 1 + 2 * i
        out += h2_frame(F_HEADERS, END_HEADERS, sid,
                        h2_request_block(b"/scep?operation=PKIOperation&n=%d" % i))
    last = 1 + 2 * (a.streams - 1)
    # a header block of 16,000 one-byte indexed fields (":method GET"):
    # each decoded field is looked up by its stream
    block = b"\x82" * 16000
    target = a.mb * 1000000
    c.send(True, bytes(out))
    sent = len(out)
    chunk = bytearray()
    while sent < target:
        chunk += h2_frame(F_HEADERS, END_HEADERS, last, block)
        if len(chunk) > 1 << 20:
            c.send(True, bytes(chunk))
            sent += len(chunk)
            chunk = bytearray()
    if chunk:
        c.send(True, bytes(chunk))
    c.close()


def h2_huge_table(w, a):
    c = Conn(w, 1)
    table = a.table
    # the server's SETTINGS raise the table the client's encoder may use
    c.send(True, PREFACE + h2_frame(F_SETTINGS, 0, 0, b""))
    c.send(False, h2_frame(F_SETTINGS, 0, 0, struct.pack("!HI", 1, table))
           + h2_frame(F_SETTINGS, ACK_FLAG, 0, b""))
    c.send(True, h2_frame(F_SETTINGS, ACK_FLAG, 0, b""))
    target = a.mb * 1000000
    sent = 0
    sid = 1
    n = 0
    first = True
    while sent < target:
        block = bytearray()
        if first:
            block += hpack_int(table, 5, 0x20)   # dynamic table size update
            first = False
        block += h2_request_block(b"/big?n=%d" % sid)
        for _ in range(60):
            block += hpack_literal(b"x-fill-%d" % n, base64ish(16000)[:15990] + b"%010d" % n, True)
            n += 1
        data = bytearray()
        # HEADERS + CONTINUATIONs of at most 16,384 bytes each
        frags = [bytes(block[i:i + 16384]) for i in range(0, len(block), 16384)]
        for k, frag in enumerate(frags):
            flags = END_STREAM if k == 0 else 0
            if k == len(frags) - 1:
                flags |= END_HEADERS
            data += h2_frame(F_HEADERS if k == 0 else F_CONTINUATION, flags, sid, frag)
        c.send(True, bytes(data))
        sent += len(data)
        sid += 2
    c.close()


SHAPES = {
    "http-many-headers": http_many_headers,
    "http-long-message": http_long_message,
    "http-long-line": http_long_line,
    "certs-getcacert": certs_getcacert,
    "h2-many-streams": h2_many_streams,
    "h2-huge-table": h2_huge_table,
    "http-bodies": http_bodies,
    "tls-certs": tls_certs,
    "tcp-conns": tcp_conns,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("shape", choices=sorted(SHAPES))
    p.add_argument("out")
    p.add_argument("--headers", type=int, default=1100)
    p.add_argument("--kib", type=int, default=None)
    p.add_argument("--conns", type=int, default=1)
    p.add_argument("--streams", type=int, default=1000)
    p.add_argument("--mb", type=int, default=None)
    p.add_argument("--table", type=int, default=4294967295)
    p.add_argument("--body", default=None)
    a = p.parse_args()
    if a.shape == "certs-getcacert" and not a.body:
        p.error("certs-getcacert needs --body FILE")
    if a.kib is None:
        a.kib = 300 if a.shape == "http-long-message" else 240
    if a.mb is None:
        a.mb = 16 if a.shape == "h2-many-streams" else 40
    w = Writer(a.out)
    SHAPES[a.shape](w, a)
    w.close()


if __name__ == "__main__":
    sys.exit(main())
