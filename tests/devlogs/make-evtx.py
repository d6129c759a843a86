#!/usr/bin/env python3
"""make-evtx.py - writes the .evtx twins of windows-strongswan-enroll.xml.

No Windows machine was at hand, so the binary event log that wevtutil
exported as XML is rebuilt from that XML: same provider, EventIDs, times,
record IDs and data. The layout follows libyal's "Windows XML Event Log
(EVTX) format" and python-evtx:

  file header   4096 bytes: "ElfFile\\0", chunk numbers, next record ID,
                version 3.1, CRC32 of its first 120 bytes
  chunk         65536 bytes: "ElfChnk\\0" header (record numbers and IDs,
                last record and free space offsets, CRC32 of the records,
                CRC32 of header bytes 0-120 and 128-512), the common string
                and template pointer tables, then the records
  record        0x2a2a, size, record ID, FILETIME written, binary XML, size

The binary XML is what Windows writes: a fragment header and a template
instance whose definition (the <Event> skeleton: System with Provider,
EventID, ..., Security, then EventData/Data Name='Message1') is resident in
the first record and referenced by offset from the others; the values are
typed substitutions (UInt8 Level, UInt16 EventID, HexInt64 Keywords,
FILETIME TimeCreated, UInt64 EventRecordID, SID UserID, UTF-16 Data).

Outputs (into DIR, default: this script's directory):
  windows-strongswan-enroll.evtx          the three events, one chunk
  windows-strongswan-enroll-corrupt.evtx  the same chunk, then a second chunk
                                          whose header CRC is wrong (holding
                                          one more event, 1204) and a third
                                          whose last record is cut short
Both are deterministic: same input, same bytes (check-evtx.sh compares).

Usage: make-evtx.py [DIR]
"""
import os
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "windows-strongswan-enroll.xml")

CHUNK_SIZE = 0x10000
CHUNK_HEADER = 0x200
FILE_HEADER = 0x1000

# substitution value types ([MS-EVEN6] 2.2.10)
T_WSTRING, T_UINT8, T_UINT16, T_UINT32, T_UINT64 = 0x01, 0x04, 0x06, 0x08, 0x0A
T_FILETIME, T_SID, T_HEX64 = 0x11, 0x13, 0x15

# binary XML tokens
TOK_EOF, TOK_OPEN, TOK_CLOSE_START, TOK_CLOSE_EMPTY, TOK_END = 0x00, 0x01, 0x02, 0x03, 0x04
TOK_VALUE, TOK_ATTR, TOK_TEMPLATE, TOK_OPT_SUB, TOK_FRAGMENT = 0x05, 0x06, 0x0C, 0x0E, 0x0F
HAS_MORE = 0x40           # on OPEN: an attribute list follows; on ATTR: another attribute follows

# The template's substitutions, in the order Windows numbers its System
# values; Data is the one EventData value this provider logs.
SUBS = [
    ("Level", T_UINT8), ("Opcode", T_UINT8), ("Task", T_UINT16), ("EventID", T_UINT16),
    ("Version", T_UINT8), ("Keywords", T_HEX64), ("SystemTime", T_FILETIME),
    ("EventRecordID", T_UINT64), ("ProcessID", T_UINT32), ("ThreadID", T_UINT32),
    ("UserID", T_SID), ("Message1", T_WSTRING),
]
SUB = {name: (i, t) for i, (name, t) in enumerate(SUBS)}
TEMPLATE_GUID = bytes.fromhex("5d2a1f4c" "9e3b" "4b7a" "8c61" "0f2e3d4c5b6a")  # ours, fixed
TEMPLATE_ID = struct.unpack("<I", TEMPLATE_GUID[:4])[0]


def crc32(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def utf16(s):
    return s.encode("utf-16-le")


def name_hash(s):
    # the 16-bit name hash Windows stores (multiplier 65599); no reader
    # here checks it, but a real chunk has it
    h = 0
    for ch in s:
        h = (h * 65599 + ord(ch)) & 0xFFFFFFFF
    return h & 0xFFFF


def filetime(iso):
    """'2026-11-25T16:30:13.6010000Z' to 100 ns ticks since 1601-01-01."""
    import datetime
    date, frac = iso.rstrip("Z").split(".")
    t = datetime.datetime.strptime(date, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    epoch = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
    secs = (t - epoch).days * 86400 + (t - epoch).seconds
    return secs * 10_000_000 + int((frac + "0000000")[:7])


def sid(text):
    """'S-1-5-18' to its binary form (revision, count, 48-bit authority, sub-authorities)."""
    parts = text.split("-")
    rev, auth, subs = int(parts[1]), int(parts[2]), [int(p) for p in parts[3:]]
    return struct.pack("<BB", rev, len(subs)) + auth.to_bytes(6, "big") + b"".join(
        struct.pack("<I", s) for s in subs)


class Chunk:
    """One chunk being written: offsets are chunk-relative, names and the
    template are stored once and referenced by offset afterwards."""

    def __init__(self):
        self.data = bytearray(CHUNK_HEADER)
        self.names = {}          # name -> offset of its Name structure
        self.template = None     # offset of the resident template definition
        self.records = []        # (offset, record ID)

    # -- binary XML ------------------------------------------------------
    def name_ref(self, buf, base, name):
        """Appends a name offset to buf (at chunk offset base+len(buf)); the
        Name itself follows inline the first time the chunk sees it."""
        pos = base + len(buf) + 4
        if name in self.names:
            buf += struct.pack("<I", self.names[name])
            return
        self.names[name] = pos
        buf += struct.pack("<I", pos)
        buf += struct.pack("<IHH", 0, name_hash(name), len(name)) + utf16(name) + b"\0\0"

    def value_text(self, text):
        return bytes([TOK_VALUE, T_WSTRING]) + struct.pack("<H", len(text)) + utf16(text)

    def sub(self, name):
        # optional substitution, as Windows writes the System values: the
        # element or attribute is left out when the value is NULL
        i, t = SUB[name]
        return bytes([TOK_OPT_SUB]) + struct.pack("<HB", i, t)

    def element(self, buf, base, name, attrs=(), content=None):
        """attrs: [(name, bytes of a value text or substitution)];
        content: None for <x/>, bytes, or a callable(buf, base) writing
        child elements."""
        start = len(buf)
        buf += bytes([TOK_OPEN | (HAS_MORE if attrs else 0)]) + struct.pack("<hI", -1, 0)
        self.name_ref(buf, base, name)
        if attrs:
            list_at = len(buf)
            buf += struct.pack("<I", 0)
            for k, (an, av) in enumerate(attrs):
                buf += bytes([TOK_ATTR | (HAS_MORE if k + 1 < len(attrs) else 0)])
                self.name_ref(buf, base, an)
                buf += av
            struct.pack_into("<I", buf, list_at, len(buf) - list_at - 4)
        if content is None:
            buf += bytes([TOK_CLOSE_EMPTY])
        else:
            buf += bytes([TOK_CLOSE_START])
            if callable(content):
                content(buf, base)
            else:
                buf += content
            buf += bytes([TOK_END])
        # data size: everything after token, dependency ID and the size itself
        struct.pack_into("<I", buf, start + 3, len(buf) - start - 7)

    def event_skeleton(self, buf, base, ev):
        """The <Event> element of the template: literals where every event
        of this log has the same text, substitutions elsewhere."""
        e = self.element
        lit = self.value_text

        def system(b, o):
            e(b, o, "Provider", [("Name", lit(ev["provider"])), ("Guid", lit(ev["guid"]))])
            e(b, o, "EventID", content=self.sub("EventID"))
            e(b, o, "Version", content=self.sub("Version"))
            e(b, o, "Level", content=self.sub("Level"))
            e(b, o, "Task", content=self.sub("Task"))
            e(b, o, "Opcode", content=self.sub("Opcode"))
            e(b, o, "Keywords", content=self.sub("Keywords"))
            e(b, o, "TimeCreated", [("SystemTime", self.sub("SystemTime"))])
            e(b, o, "EventRecordID", content=self.sub("EventRecordID"))
            e(b, o, "Correlation")
            e(b, o, "Execution", [("ProcessID", self.sub("ProcessID")),
                                  ("ThreadID", self.sub("ThreadID"))])
            e(b, o, "Channel", content=lit(ev["channel"]))
            e(b, o, "Computer", content=lit(ev["computer"]))
            e(b, o, "Security", [("UserID", self.sub("UserID"))])

        def event_data(b, o):
            e(b, o, "Data", [("Name", lit("Message1"))], content=self.sub("Message1"))

        def event(b, o):
            e(b, o, "System", content=system)
            e(b, o, "EventData", content=event_data)

        e(buf, base, "Event", [("xmlns", lit("http://schemas.microsoft.com/win/2004/08/events/event"))],
          content=event)

    def values(self, ev):
        v = {
            "Level": struct.pack("<B", ev["Level"]),
            "Opcode": struct.pack("<B", ev["Opcode"]),
            "Task": struct.pack("<H", ev["Task"]),
            "EventID": struct.pack("<H", ev["EventID"]),
            "Version": struct.pack("<B", ev["Version"]),
            "Keywords": struct.pack("<Q", ev["Keywords"]),
            "SystemTime": struct.pack("<Q", ev["SystemTime"]),
            "EventRecordID": struct.pack("<Q", ev["EventRecordID"]),
            "ProcessID": struct.pack("<I", ev["ProcessID"]),
            "ThreadID": struct.pack("<I", ev["ThreadID"]),
            "UserID": sid(ev["UserID"]),
            "Message1": utf16(ev["Message1"]),
        }
        out = struct.pack("<I", len(SUBS))
        for name, t in SUBS:
            out += struct.pack("<HBB", len(v[name]), t, 0)
        for name, _ in SUBS:
            out += v[name]
        return out

    def binxml(self, base, ev):
        """Fragment header, template instance (definition resident the
        first time), instance values."""
        b = bytearray([TOK_FRAGMENT, 1, 1, 0, TOK_TEMPLATE, 1])
        b += struct.pack("<I", TEMPLATE_ID)
        if self.template is None:
            self.template = base + len(b) + 4
            b += struct.pack("<I", self.template)
            head = len(b)
            b += struct.pack("<I", 0) + TEMPLATE_GUID + struct.pack("<I", 0)
            body = len(b)
            b += bytes([TOK_FRAGMENT, 1, 1, 0])
            self.event_skeleton(b, base, ev)
            b += bytes([TOK_EOF])
            struct.pack_into("<I", b, head + 20, len(b) - body)
        else:
            b += struct.pack("<I", self.template)
        b += self.values(ev)
        b += bytes([TOK_EOF])    # the document's end, after its one fragment
        return bytes(b)

    # -- records and the chunk --------------------------------------------
    def add_record(self, ev):
        at = len(self.data)
        body = self.binxml(at + 24, ev)
        size = 24 + len(body) + 4
        rec = struct.pack("<IIQQ", 0x2A2A, size, ev["EventRecordID"], ev["SystemTime"]) + body
        rec += struct.pack("<I", size)
        if at + size > CHUNK_SIZE:
            raise SystemExit("make-evtx.py: records do not fit one chunk")
        self.data += rec
        self.records.append((at, ev["EventRecordID"]))

    def finish(self, number_base):
        free = len(self.data)
        d = self.data + bytes(CHUNK_SIZE - len(self.data))
        ids = [rid for _, rid in self.records]
        # Common string table: 64 hash buckets of Name offsets, chained
        # through each Name's first field; template table: 32 buckets
        # of resident template definitions. Readers follow the chains,
        # so our bucket choice (hash % 64, ID % 32) is not checked.
        buckets = {}
        for name, off in sorted(self.names.items(), key=lambda kv: kv[1]):
            k = name_hash(name) % 64
            if k in buckets:
                struct.pack_into("<I", d, off, buckets[k])
            buckets[k] = off
        for k, off in buckets.items():
            struct.pack_into("<I", d, 0x80 + 4 * k, off)
        if self.template is not None:
            struct.pack_into("<I", d, 0x180 + 4 * (TEMPLATE_ID % 32), self.template)
        # the chains above live in the records: checksum the records after
        struct.pack_into("<8sQQQQIIII", d, 0, b"ElfChnk\0",
                         number_base, number_base + len(ids) - 1, ids[0], ids[-1],
                         0x80, self.records[-1][0], free, crc32(bytes(d[CHUNK_HEADER:free])))
        struct.pack_into("<I", d, 0x7C, crc32(bytes(d[0:0x78]) + bytes(d[0x80:CHUNK_HEADER])))
        return d


def file_header(n_chunks, next_id):
    h = bytearray(FILE_HEADER)
    struct.pack_into("<8sQQQIHHHH", h, 0, b"ElfFile\0", 0, n_chunks - 1, next_id,
                     0x80, 1, 3, FILE_HEADER, n_chunks)
    struct.pack_into("<I", h, 0x78, 0)       # flags: not dirty, not full
    struct.pack_into("<I", h, 0x7C, crc32(bytes(h[:0x78])))
    return bytes(h)


def read_events(path):
    events = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            x = ET.fromstring(line)
            s = x.find(NS + "System")
            p = s.find(NS + "Provider")
            ex = s.find(NS + "Execution")
            data = x.find(NS + "EventData").find(NS + "Data")
            if data.get("Name") != "Message1":
                raise SystemExit("make-evtx.py: only Data Name='Message1' is modelled")
            events.append({
                "provider": p.get("Name"), "guid": p.get("Guid"),
                "EventID": int(s.find(NS + "EventID").text),
                "Version": int(s.find(NS + "Version").text),
                "Level": int(s.find(NS + "Level").text),
                "Task": int(s.find(NS + "Task").text),
                "Opcode": int(s.find(NS + "Opcode").text),
                "Keywords": int(s.find(NS + "Keywords").text, 16),
                "SystemTime": filetime(s.find(NS + "TimeCreated").get("SystemTime")),
                "EventRecordID": int(s.find(NS + "EventRecordID").text),
                "ProcessID": int(ex.get("ProcessID")), "ThreadID": int(ex.get("ThreadID")),
                "channel": s.find(NS + "Channel").text, "computer": s.find(NS + "Computer").text,
                "UserID": s.find(NS + "Security").get("UserID"),
                "Message1": data.text,
            })
    return events


def good_chunk(events):
    c = Chunk()
    for ev in events:
        c.add_record(ev)
    return c.finish(events[0]["EventRecordID"])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    events = read_events(SOURCE)
    last = events[-1]["EventRecordID"]
    c0 = good_chunk(events)
    with open(os.path.join(out, "windows-strongswan-enroll.evtx"), "wb") as f:
        f.write(file_header(1, last + 1) + c0)

    # The hostile twin: chunk 1 holds a later copy of event 72 (record
    # last+1) but its header CRC is off by one bit; chunk 2 holds two more
    # records (last+2, last+3) and the second is cut short: its size
    # points past the chunk's free space (as in a copy of a log that was
    # being written). Both chunks' other checksums are right.
    later = dict(events[0], EventRecordID=last + 1, SystemTime=events[-1]["SystemTime"] + 10_000_000)
    c1 = good_chunk([later])
    struct.pack_into("<I", c1, 0x7C, struct.unpack_from("<I", c1, 0x7C)[0] ^ 1)
    cut = [dict(events[0], EventRecordID=last + 2, SystemTime=later["SystemTime"] + 10_000_000),
           dict(events[2], EventRecordID=last + 3, SystemTime=later["SystemTime"] + 20_000_000)]
    ch = Chunk()
    for ev in cut:
        ch.add_record(ev)
    at, _ = ch.records[-1]
    size = struct.unpack_from("<I", ch.data, at + 4)[0]
    del ch.data[at + size // 2:]          # the record's second half never written
    struct.pack_into("<I", ch.data, at + 4, size)
    c2 = ch.finish(last + 2)
    with open(os.path.join(out, "windows-strongswan-enroll-corrupt.evtx"), "wb") as f:
        f.write(file_header(3, last + 4) + c0 + c1 + c2)


if __name__ == "__main__":
    main()
