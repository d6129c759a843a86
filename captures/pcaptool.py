#!/usr/bin/env python3
"""pcaptool.py - small classic-pcap rewriter for the derived test captures.

Only what editcap/tcprewrite cannot do.  Classic pcap only (no pcapng):
both byte orders, microsecond (a1b2c3d4) and nanosecond (a1b23c4d) magic;
the output keeps the input's byte order, magic, version and snaplen.
Packets: Ethernet (optionally 802.1Q/802.1ad tagged), LINUX_SLL, LINUX_SLL2,
raw IP; IPv4 and IPv6; TCP.  Standard library only.  Everything that is
random takes --seed, so every output is byte-for-byte reproducible.

Usage: pcaptool.py COMMAND ARGS...   (pcaptool.py COMMAND -h for details)

  list      IN                       one line per packet: frame, conn, dir, seq, len, flags
  reorder   IN OUT [--seed N]        permute data segments inside each flight
  duplicate IN OUT [--seed N] [--every K] [--overlap A,B]
                                     add retransmitted copies of data segments
  drop      IN OUT --frame N [...]   remove frames (1-based)
  cut-flow-before IN OUT --frame N   remove the packets of N's connection before N
  hoist     IN OUT --frame N         move frame N before its connection's first packet,
                                     1 us earlier (a merged or two-interface capture)
  qinq      IN OUT [--outer 0x88a8:200] [--inner 0x8100:100]
  sll2      IN OUT [--ifindex 1]     Ethernet -> LINUX_SLL2 (linktype 276)
  split     IN OUT_EVEN OUT_ODD      by connection number (tshark tcp.stream order)
  fixcsum   IN OUT                   recompute IPv4/TCP checksums (any linktype above;
                                     tcprewrite --fixcsum refuses LINUX_SLL2)
  truncate-last IN OUT               cut the last record in half (torn file)
  garbage   TEMPLATE OUT [--seed N] [--size N]
                                     TEMPLATE's 24-byte header + random junk

"Connection" numbers are assigned like tshark's tcp.stream: in order of the
first packet of each 4-tuple, a new number when a SYN (without ACK) starts a
4-tuple again after a FIN/RST.  "Flight": consecutive data segments of one
connection in one direction, not interrupted by a data segment of the other
direction of that connection (pure ACKs and other connections may sit in
between).  Permuting segments only inside a flight never makes a response
appear in the file before the request it answers.
"""
import argparse
import random
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229

MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", False), b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True), b"\xa1\xb2\x3c\x4d": (">", True),
}


class Pcap:
    """A classic pcap file in memory: header fields + list of Packet."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        if len(data) < 24 or data[:4] not in MAGICS:
            sys.exit("pcaptool: %s: not a classic pcap file (pcapng is not supported)" % path)
        self.magic = data[:4]
        self.bo, self.nano = MAGICS[self.magic]
        (self.vmaj, self.vmin, self.thiszone, self.sigfigs, self.snaplen,
         self.linktype) = struct.unpack(self.bo + "HHiIII", data[4:24])
        self.linktype &= 0x0FFFFFFF   # upper bits: FCS length flags, unused here
        self.packets = []
        off = 24
        while off < len(data):
            if off + 16 > len(data):
                sys.exit("pcaptool: %s: truncated record header at offset %d" % (path, off))
            sec, frac, incl, orig = struct.unpack(self.bo + "IIII", data[off:off + 16])
            if off + 16 + incl > len(data):
                sys.exit("pcaptool: %s: truncated record at offset %d" % (path, off))
            self.packets.append(Packet(sec, frac, orig, data[off + 16:off + 16 + incl]))
            off += 16 + incl

    def header(self, linktype=None):
        return self.magic + struct.pack(self.bo + "HHiIII", self.vmaj, self.vmin, self.thiszone,
                                        self.sigfigs, self.snaplen,
                                        self.linktype if linktype is None else linktype)

    def record(self, p):
        return struct.pack(self.bo + "IIII", p.sec, p.frac, len(p.data), p.orig) + p.data

    def write(self, path, packets=None, linktype=None):
        with open(path, "wb") as f:
            f.write(self.header(linktype))
            for p in (self.packets if packets is None else packets):
                f.write(self.record(p))


class Packet:
    def __init__(self, sec, frac, orig, data):
        self.sec, self.frac, self.orig, self.data = sec, frac, orig, bytes(data)
        self.frame = 0          # 1-based position in the input file

    def copy(self):
        c = Packet(self.sec, self.frac, self.orig, self.data)
        c.frame = self.frame
        return c


# ---------------------------------------------------------------- dissection
def l3_offset(linktype, d):
    """(offset of the IP header, ethertype) or (None, None)."""
    if linktype == LINKTYPE_ETHERNET:
        off, et = 14, None
        if len(d) < 14:
            return None, None
        et = struct.unpack(">H", d[12:14])[0]
        while et in (0x8100, 0x88A8, 0x9100) and len(d) >= off + 4:
            et = struct.unpack(">H", d[off + 2:off + 4])[0]
            off += 4
        return off, et
    if linktype == LINKTYPE_LINUX_SLL and len(d) >= 16:
        return 16, struct.unpack(">H", d[14:16])[0]
    if linktype == LINKTYPE_LINUX_SLL2 and len(d) >= 20:
        return 20, struct.unpack(">H", d[0:2])[0]
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6) and d:
        return 0, 0x0800 if d[0] >> 4 == 4 else 0x86DD
    return None, None


class Tcp:
    """TCP view of a packet (offsets into Packet.data)."""
    pass


def tcp_of(linktype, p):
    d = p.data
    off, et = l3_offset(linktype, d)
    if off is None:
        return None
    t = Tcp()
    t.l3 = off
    if et == 0x0800 and len(d) >= off + 20 and d[off] >> 4 == 4:
        ihl = (d[off] & 0x0F) * 4
        if d[off + 9] != 6:
            return None
        t.v6 = False
        t.src, t.dst = d[off + 12:off + 16], d[off + 16:off + 20]
        t.l4 = off + ihl
        t.l3end = off + struct.unpack(">H", d[off + 2:off + 4])[0]
    elif et == 0x86DD and len(d) >= off + 40 and d[off] >> 4 == 6:
        if d[off + 6] != 6:       # extension headers: not needed here
            return None
        t.v6 = True
        t.src, t.dst = d[off + 8:off + 24], d[off + 24:off + 40]
        t.l4 = off + 40
        t.l3end = t.l4 + struct.unpack(">H", d[off + 4:off + 6])[0]
    else:
        return None
    if len(d) < t.l4 + 20:
        return None
    t.sport, t.dport, t.seq, t.ack = struct.unpack(">HHII", d[t.l4:t.l4 + 12])
    t.hlen = (d[t.l4 + 12] >> 4) * 4
    t.flags = d[t.l4 + 13]
    t.payload_off = t.l4 + t.hlen
    # length from the IP header, so snaplen-cut packets still count fully
    t.len = max(0, t.l3end - t.payload_off)
    t.syn, t.fin, t.rst, t.ackf = bool(t.flags & 2), bool(t.flags & 1), bool(t.flags & 4), bool(t.flags & 16)
    return t


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def fix_checksums(linktype, data):
    """Recompute IPv4 header and TCP checksums (full packets only)."""
    p = Packet(0, 0, len(data), data)
    t = tcp_of(linktype, p)
    d = bytearray(data)
    if not t.v6:
        ihl = t.l4 - t.l3
        d[t.l3 + 10:t.l3 + 12] = b"\0\0"
        d[t.l3 + 10:t.l3 + 12] = struct.pack(">H", csum(bytes(d[t.l3:t.l3 + ihl])))
    seg = bytearray(d[t.l4:t.l3end])
    seg[16:18] = b"\0\0"
    if t.v6:
        pseudo = t.src + t.dst + struct.pack(">IxxxB", len(seg), 6)
    else:
        pseudo = t.src + t.dst + struct.pack(">xBH", 6, len(seg))
    d[t.l4 + 16:t.l4 + 18] = struct.pack(">H", csum(pseudo + bytes(seg)))
    return bytes(d)


def annotate(pc):
    """Set frame, conn, dir (0 client->server, 1 back), tcp on every packet."""
    conns = {}          # canonical 4-tuple -> [conn number, client endpoint, closed]
    n = 0
    for i, p in enumerate(pc.packets):
        p.frame = i + 1
        t = tcp_of(pc.linktype, p)
        p.tcp, p.conn, p.dir = t, None, None
        if t is None:
            continue
        a, b = (t.src, t.sport), (t.dst, t.dport)
        key = tuple(sorted([a, b]))
        c = conns.get(key)
        if c is None or (c[2] and t.syn and not t.ackf):
            client = a if not (t.syn and t.ackf) else b
            c = conns[key] = [n, client, False]
            n += 1
        if t.fin or t.rst:
            c[2] = True
        p.conn = c[0]
        p.dir = 0 if a == c[1] else 1
        if t.syn:
            c.append((p.dir, t.seq))
        isn = [s for d, s in c[3:] if d == p.dir]
        p.relseq = (t.seq - isn[-1]) & 0xFFFFFFFF if isn else None
    return n


def flights(pc):
    """List of flights: lists of packet indexes (data segments, same conn + dir)."""
    cur = {}            # conn -> (dir, [indexes])
    out = []
    for i, p in enumerate(pc.packets):
        if p.tcp is None or p.tcp.len == 0:
            continue
        c = cur.get(p.conn)
        if c is not None and c[0] == p.dir:
            c[1].append(i)
        else:
            if c is not None:
                out.append(c[1])
            cur[p.conn] = (p.dir, [i])
    out.extend(c[1] for c in cur.values())
    out.sort(key=lambda f: f[0])
    return out


def seeded_permutation(rng, n):
    """A random permutation of range(n) that is never the identity (n >= 2)."""
    perm = list(range(n))
    rng.shuffle(perm)
    if perm == list(range(n)):
        perm.reverse()
    return perm


# ---------------------------------------------------------------- commands
def cmd_list(a):
    pc = Pcap(a.input)
    annotate(pc)
    for p in pc.packets:
        t = p.tcp
        fl = "".join(c for c, m in zip("FSRPAU", (1, 2, 4, 8, 16, 32)) if t and t.flags & m) if t else ""
        print("%4d %10d.%s conn=%s dir=%s seq=%s rel=%s len=%s %s caplen=%d" % (
            p.frame, p.sec, ("%09d" if pc.nano else "%06d") % p.frac, p.conn, p.dir,
            t.seq if t else "-", p.relseq if t else "-", t.len if t else "-", fl, len(p.data)))


def reorder_packets(pc, rng, window):
    """Permute data segments inside each flight, windows of at most `window`.
    Every packet keeps its own timestamp; only data packets move, into the
    slots of the other data packets of the same flight."""
    out = list(pc.packets)
    moved = []
    for f in flights(pc):
        for w in range(0, len(f), window):
            slots = f[w:w + window]
            if len(slots) < 2:
                continue
            perm = seeded_permutation(rng, len(slots))
            for k, j in enumerate(perm):
                out[slots[k]] = pc.packets[slots[j]]
            moved.append(([s + 1 for s in slots], [pc.packets[slots[j]].frame for j in perm]))
    return out, moved


def cmd_reorder(a):
    pc = Pcap(a.input)
    annotate(pc)
    out, moved = reorder_packets(pc, random.Random(a.seed), a.window)
    pc.write(a.output, out)
    for slots, frames in moved:
        print("reorder: positions of frames %s now hold frames %s" % (slots, frames))


def ts_key(pc, p):
    return p.sec * (10**9 if pc.nano else 10**6) + p.frac


def cmd_duplicate(a):
    pc = Pcap(a.input)
    annotate(pc)
    rng = random.Random(a.seed)
    order = list(pc.packets)
    if a.reorder:
        order, moved = reorder_packets(pc, rng, a.window)
        for slots, frames in moved:
            print("reorder: positions of frames %s now hold frames %s" % (slots, frames))
    # where each copy goes: after position pos + delay (delay 0 = right after)
    inserts = {}        # position -> [copies to emit after it]
    k = 0
    for pos, p in enumerate(order):
        if p.tcp is None or p.tcp.len == 0:
            continue
        k += 1
        if (k - 1) % a.every:
            continue
        delay = 0 if k % 2 else rng.randint(1, 3)
        at = min(pos + delay, len(order) - 1)
        inserts.setdefault(at, []).append(p)
        print("duplicate: frame %d copied after output slot of frame %d" % (p.frame, order[at].frame))
    overlap = None
    if a.overlap:
        fa, fb = (int(x) for x in a.overlap.split(","))
        A, B = pc.packets[fa - 1], pc.packets[fb - 1]
        ta, tb = A.tcp, B.tcp
        if not (ta and tb and A.conn == B.conn and A.dir == B.dir and tb.seq == (ta.seq + ta.len) & 0xFFFFFFFF
                and len(A.data) >= ta.payload_off + ta.len and len(B.data) >= tb.payload_off + tb.len):
            sys.exit("pcaptool: --overlap %s: frames must be contiguous full segments of one direction" % a.overlap)
        pa = A.data[ta.payload_off:ta.payload_off + ta.len]
        pb = B.data[tb.payload_off:tb.payload_off + tb.len]
        ha, hb = len(pa) // 2, len(pb) // 2
        payload = pa[ha:] + pb[:hb]
        # headers of A (its flags, ack, window, options), new seq and payload
        d = bytearray(A.data[:ta.payload_off]) + payload
        d[ta.l4 + 4:ta.l4 + 8] = struct.pack(">I", (ta.seq + ha) & 0xFFFFFFFF)
        d[ta.l4 + 13] &= ~0x08 & 0xFF       # no PSH
        if ta.v6:
            d[ta.l3 + 4:ta.l3 + 6] = struct.pack(">H", len(d) - ta.l3 - 40)
        else:
            d[ta.l3 + 2:ta.l3 + 4] = struct.pack(">H", len(d) - ta.l3)
        overlap = Packet(B.sec, B.frac, len(d), fix_checksums(pc.linktype, bytes(d)))
        overlap.frame = 0
        # after B (and after anything already queued behind B)
        posb = order.index(B)
        inserts.setdefault(posb, []).append(overlap)
        print("overlap: new segment at relative seq %s (frame %d + %d), %d bytes = last %d bytes of frame %d "
              "+ first %d bytes of frame %d, placed after frame %d" % (
                  A.relseq + ha if A.relseq is not None else "?", fa, ha, len(payload), len(pa) - ha, fa,
                  hb, fb, fb))
    out = []
    for pos, p in enumerate(order):
        out.append(p)
        for c in inserts.get(pos, []):
            c = c.copy()
            # a copy gets the later of its own timestamp and that of the
            # packet it follows in the file
            prev = out[-1]
            if ts_key(pc, prev) >= ts_key(pc, c):
                c.sec, c.frac = prev.sec, prev.frac
            out.append(c)
    pc.write(a.output, out)
    print("duplicate: %d packets in, %d out" % (len(pc.packets), len(out)))


def cmd_drop(a):
    pc = Pcap(a.input)
    annotate(pc)
    drop = set(a.frame)
    for f in sorted(drop):
        p = pc.packets[f - 1]
        t = p.tcp
        print("drop: frame %d conn %s dir %s relative seq %s len %d" % (f, p.conn, p.dir, p.relseq, t.len))
    pc.write(a.output, [p for p in pc.packets if p.frame not in drop])


def cmd_cut_flow_before(a):
    pc = Pcap(a.input)
    annotate(pc)
    ref = pc.packets[a.frame - 1]
    out = [p for p in pc.packets if not (p.conn == ref.conn and p.frame < a.frame)]
    print("cut-flow-before: conn %d, removed frames %s" % (
        ref.conn, [p.frame for p in pc.packets if p.conn == ref.conn and p.frame < a.frame]))
    pc.write(a.output, out)


def cmd_hoist(a):
    pc = Pcap(a.input)
    annotate(pc)
    moved = pc.packets[a.frame - 1].copy()
    first = next(p for p in pc.packets if p.conn == pc.packets[a.frame - 1].conn)
    unit = 1000 if pc.nano else 1
    t = first.sec * 1000000 * unit + first.frac - unit
    moved.sec, moved.frac = divmod(t, 1000000 * unit)
    out = []
    for p in pc.packets:
        if p is first:
            out.append(moved)
        if p.frame != a.frame:
            out.append(p)
    print("hoist: frame %d (conn %d) now before frame %d" % (a.frame, first.conn, first.frame))
    pc.write(a.output, out)


def parse_tag(s):
    tpid, vid = s.split(":")
    return int(tpid, 0), int(vid, 0)


def cmd_qinq(a):
    pc = Pcap(a.input)
    if pc.linktype != LINKTYPE_ETHERNET:
        sys.exit("pcaptool: qinq needs Ethernet input")
    (otp, ovid), (itp, ivid) = parse_tag(a.outer), parse_tag(a.inner)
    tags = struct.pack(">HHHH", otp, ovid & 0xFFF, itp, ivid & 0xFFF)
    out = []
    for p in pc.packets:
        q = p.copy()
        q.data = p.data[:12] + tags + p.data[12:]
        q.orig = p.orig + 8
        out.append(q)
    if pc.snaplen < 262144:
        pc.snaplen += 8
    pc.write(a.output, out)


def cmd_sll2(a):
    pc = Pcap(a.input)
    if pc.linktype != LINKTYPE_ETHERNET:
        sys.exit("pcaptool: sll2 needs Ethernet input")
    annotate(pc)
    out = []
    for p in pc.packets:
        d = p.data
        et = struct.unpack(">H", d[12:14])[0]
        if et in (0x8100, 0x88A8, 0x9100):
            sys.exit("pcaptool: sll2: tagged frames are not supported")
        # packet type: 4 PACKET_OUTGOING (client side sends), 0 PACKET_HOST
        ptype = 4 if p.dir == 0 else 0
        hdr = struct.pack(">HHIHBB", et, 0, a.ifindex, 1, ptype, 6) + d[6:12] + b"\0\0"
        q = p.copy()
        q.data = hdr + d[14:]
        q.orig = p.orig + 6
        out.append(q)
    if pc.snaplen < 262144:
        pc.snaplen += 6
    pc.write(a.output, out, linktype=LINKTYPE_LINUX_SLL2)


def cmd_split(a):
    pc = Pcap(a.input)
    n = annotate(pc)
    ev = [p for p in pc.packets if p.conn is not None and p.conn % 2 == 0]
    od = [p for p in pc.packets if p.conn is not None and p.conn % 2 == 1]
    other = len(pc.packets) - len(ev) - len(od)
    if other:
        sys.exit("pcaptool: split: %d non-TCP packets" % other)
    pc.write(a.even, ev)
    pc.write(a.odd, od)
    print("split: %d connections; even: %d packets, odd: %d packets" % (n, len(ev), len(od)))


def cmd_fixcsum(a):
    pc = Pcap(a.input)
    n = 0
    for p in pc.packets:
        t = tcp_of(pc.linktype, p)
        if t is None or len(p.data) < t.l3end:
            continue            # not TCP, or cut by the snaplen
        q = fix_checksums(pc.linktype, p.data)
        n += q != p.data
        p.data = q
    pc.write(a.output)
    print("fixcsum: %d of %d packets changed" % (n, len(pc.packets)))


def cmd_truncate_last(a):
    with open(a.input, "rb") as f:
        data = f.read()
    pc = Pcap(a.input)
    last = pc.packets[-1]
    keep = len(data) - len(last.data) + len(last.data) // 2
    with open(a.output, "wb") as f:
        f.write(data[:keep])
    print("truncate-last: frame %d: record header + %d of %d bytes kept, file %d -> %d bytes" % (
        len(pc.packets), len(last.data) // 2, len(last.data), len(data), keep))


def cmd_garbage(a):
    pc = Pcap(a.template)
    rng = random.Random(a.seed)
    junk = bytearray(rng.getrandbits(8) for _ in range(a.size))
    # make sure the very first record length is impossible (> snaplen and
    # > 256 MiB), whatever the random bytes are
    junk[8:12] = struct.pack(pc.bo + "I", 0xDEADBEEF)
    junk[12:16] = struct.pack(pc.bo + "I", 0xDEADBEEF)
    with open(a.output, "wb") as f:
        f.write(pc.header() + bytes(junk))


def main():
    ap = argparse.ArgumentParser(prog="pcaptool.py", description=__doc__.split("\n")[0])
    sp = ap.add_subparsers(dest="cmd", required=True)
    s = sp.add_parser("list"); s.add_argument("input"); s.set_defaults(fn=cmd_list)
    s = sp.add_parser("reorder"); s.add_argument("input"); s.add_argument("output")
    s.add_argument("--seed", type=int, default=1); s.add_argument("--window", type=int, default=4)
    s.set_defaults(fn=cmd_reorder)
    s = sp.add_parser("duplicate"); s.add_argument("input"); s.add_argument("output")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--every", type=int, default=1, help="copy every K-th data segment (1 = all)")
    s.add_argument("--overlap", help="A,B: add one segment = 2nd half of frame A + 1st half of frame B")
    s.add_argument("--reorder", action="store_true", help="first reorder like the reorder command")
    s.add_argument("--window", type=int, default=4)
    s.set_defaults(fn=cmd_duplicate)
    s = sp.add_parser("drop"); s.add_argument("input"); s.add_argument("output")
    s.add_argument("--frame", type=int, action="append", required=True); s.set_defaults(fn=cmd_drop)
    s = sp.add_parser("cut-flow-before"); s.add_argument("input"); s.add_argument("output")
    s.add_argument("--frame", type=int, required=True); s.set_defaults(fn=cmd_cut_flow_before)
    s = sp.add_parser("hoist"); s.add_argument("input"); s.add_argument("output")
    s.add_argument("--frame", type=int, required=True); s.set_defaults(fn=cmd_hoist)
    s = sp.add_parser("qinq"); s.add_argument("input"); s.add_argument("output")
    s.add_argument("--outer", default="0x88a8:200"); s.add_argument("--inner", default="0x8100:100")
    s.set_defaults(fn=cmd_qinq)
    s = sp.add_parser("sll2"); s.add_argument("input"); s.add_argument("output")
    s.add_argument("--ifindex", type=int, default=1); s.set_defaults(fn=cmd_sll2)
    s = sp.add_parser("split"); s.add_argument("input"); s.add_argument("even"); s.add_argument("odd")
    s.set_defaults(fn=cmd_split)
    s = sp.add_parser("fixcsum"); s.add_argument("input"); s.add_argument("output")
    s.set_defaults(fn=cmd_fixcsum)
    s = sp.add_parser("truncate-last"); s.add_argument("input"); s.add_argument("output")
    s.set_defaults(fn=cmd_truncate_last)
    s = sp.add_parser("garbage"); s.add_argument("template"); s.add_argument("output")
    s.add_argument("--seed", type=int, default=1); s.add_argument("--size", type=int, default=4096)
    s.set_defaults(fn=cmd_garbage)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
