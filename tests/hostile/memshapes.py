#!/usr/bin/env python3
"""memshapes.py - hostile traffic that grows scepdump's buffers, as a pcap.

Each shape opens N TCP connections (SYN, SYN-ACK, ACK) to port 80 or 443
and leaves every one of them holding as much as it can, never finishing:

  bodies    POST /scep?operation=PKIOperation with Content-Length SIZE,
            all but the last byte sent (an HTTP body held per connection)
  tlscert   ClientHello, ServerHello, then a Certificate handshake message
            of SIZE bytes in records, all but its last record (a handshake
            message held for reassembly)
  syns      N connections that carry nothing (connection state only)

(Unfinished header lines and HPACK tables: http-gen.py's http-long-line
and h2-huge-table.) Deterministic: the same arguments give the same bytes.
Standard library only. Usage: memshapes.py SHAPE N SIZE OUT.pcap
"""
import struct
import sys

MSS = 1460


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.usec = 0

    def packet(self, frame):
        self.usec += 10
        sec, usec = divmod(self.usec, 1000000)
        self.f.write(struct.pack("<IIII", 1700000000 + sec, usec, len(frame), len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


def ip4(a):
    return bytes(a)


class Conn:
    """One TCP connection between 10.1.x.y:port and 10.0.0.1:sport."""

    def __init__(self, pcap, idx, sport):
        self.p = pcap
        self.c = ip4((10, 1, (idx >> 8) & 255, idx & 255))
        self.s = ip4((10, 0, 0, 1))
        self.cport = 20000 + (idx % 40000)
        self.sport = sport
        self.cseq = 1000
        self.sseq = 5000

    def _frame(self, to_server, flags, payload):
        src, dst = (self.c, self.s) if to_server else (self.s, self.c)
        sp, dp = (self.cport, self.sport) if to_server else (self.sport, self.cport)
        seq = self.cseq if to_server else self.sseq
        ack = self.sseq if to_server else self.cseq
        tcp = struct.pack(">HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        total = 20 + len(tcp) + len(payload)
        iph = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 6, 0, src, dst)
        eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
        self.p.packet(eth + iph + tcp + payload)

    def handshake(self):
        self.cseq -= 1
        self._frame(True, 0x02, b"")
        self.cseq += 1
        self.sseq -= 1
        self._frame(False, 0x12, b"")
        self.sseq += 1
        self._frame(True, 0x10, b"")

    def send(self, to_server, data):
        for i in range(0, len(data), MSS):
            chunk = data[i:i + MSS]
            self._frame(to_server, 0x18, chunk)
            if to_server:
                self.cseq += len(chunk)
            else:
                self.sseq += len(chunk)


def filler(n, seed):
    """n printable bytes, different per connection so nothing compresses."""
    unit = ("%08x" % (seed * 2654435761 & 0xFFFFFFFF)).encode() * 8
    return (unit * (n // len(unit) + 1))[:n]


def shape_bodies(pc, n, size):
    for i in range(n):
        c = Conn(pc, i, 80)
        c.handshake()
        head = ("POST /scep?operation=PKIOperation HTTP/1.1\r\nHost: scep.test\r\n"
                "Content-Type: application/x-pki-message\r\nContent-Length: %d\r\n\r\n" % size)
        c.send(True, head.encode() + filler(size - 1, i))


def tls_record(ctype, body):
    return struct.pack(">BHH", ctype, 0x0303, len(body)) + body


def handshake_msg(htype, body_len, body):
    return struct.pack(">B", htype) + body_len.to_bytes(3, "big") + body


def client_hello(i):
    body = struct.pack(">H", 0x0303) + bytes([i & 255]) * 32 + b"\x00" + \
        struct.pack(">H", 2) + b"\x13\x01" + b"\x01\x00" + struct.pack(">H", 0)
    return tls_record(22, handshake_msg(1, len(body), body))


def server_hello(i):
    body = struct.pack(">H", 0x0303) + bytes([(i + 1) & 255]) * 32 + b"\x00" + \
        b"\x00\x2f" + b"\x00" + struct.pack(">H", 0)
    return tls_record(22, handshake_msg(2, len(body), body))


def shape_tlscert(pc, n, size):
    for i in range(n):
        c = Conn(pc, i, 443)
        c.handshake()
        c.send(True, client_hello(i))
        c.send(False, server_hello(i))
        msg = handshake_msg(11, size, filler(size, i))
        recs = [tls_record(22, msg[k:k + 16384]) for k in range(0, len(msg), 16384)]
        c.send(False, b"".join(recs[:-1]))


def shape_syns(pc, n, size):
    for i in range(n):
        c = Conn(pc, i, 80)
        c.handshake()


SHAPES = {
    "bodies": shape_bodies, "tlscert": shape_tlscert, "syns": shape_syns,
}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in SHAPES:
        sys.exit("usage: memshapes.py {%s} N SIZE OUT.pcap" % ",".join(sorted(SHAPES)))
    pc = Pcap(sys.argv[4])
    SHAPES[sys.argv[1]](pc, int(sys.argv[2]), int(sys.argv[3]))
    pc.close()


if __name__ == "__main__":
    main()
