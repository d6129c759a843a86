#!/usr/bin/env python3
"""evtx-events.py FILE - one normalised line per Windows event in FILE, so
three renderings of the same events compare as text:

  - the wevtutil XML export (one <Event> per line, single quotes),
  - `evtxexport -f xml` (libevtx: a banner, indented events, 9-digit times),
  - `evtx_dump.py` (python-evtx: an <Events> document, XML 1.1 declaration,
    times as '2026-11-25 16:30:13.601000').

Each line holds every System value and every EventData Data (name=value);
SystemTime is reduced to milliseconds in one spelling. Stdlib only.
"""
import datetime
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
EVENT = re.compile(r"<Event[ >].*?</Event>", re.S)


def norm_time(t):
    """To the millisecond, rounded: python-evtx turns FILETIME into a
    datetime through a float, so .218 comes out as .217999."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?Z?", t.strip())
    if not m:
        return "BAD-TIME(%s)" % t
    micro = int(((m.group(3) or "") + "000000")[:6])
    dt = datetime.datetime.strptime(m.group(1) + " " + m.group(2), "%Y-%m-%d %H:%M:%S")
    dt += datetime.timedelta(microseconds=micro + 500)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def text(e):
    return (e.text or "").strip() if e is not None else "-"


def line(ev):
    s = ev.find(NS + "System")
    p = s.find(NS + "Provider")
    tc = s.find(NS + "TimeCreated")
    ex = s.find(NS + "Execution")
    sec = s.find(NS + "Security")
    fields = [
        "provider=" + p.get("Name", "-"), "guid=" + p.get("Guid", "-"),
        "id=" + text(s.find(NS + "EventID")), "version=" + text(s.find(NS + "Version")),
        "level=" + text(s.find(NS + "Level")), "task=" + text(s.find(NS + "Task")),
        "opcode=" + text(s.find(NS + "Opcode")), "keywords=" + text(s.find(NS + "Keywords")).lower(),
        "time=" + norm_time(tc.get("SystemTime", "")), "record=" + text(s.find(NS + "EventRecordID")),
        "pid=" + ex.get("ProcessID", "-"), "tid=" + ex.get("ThreadID", "-"),
        "channel=" + text(s.find(NS + "Channel")), "computer=" + text(s.find(NS + "Computer")),
        "user=" + (sec.get("UserID", "-") if sec is not None else "-"),
    ]
    data = ev.find(NS + "EventData")
    for d in (data if data is not None else []):
        fields.append("data:%s=%s" % (d.get("Name", "-"), (d.text or "")))
    return " | ".join(fields)


def main():
    raw = open(sys.argv[1], encoding="utf-8", errors="replace").read()
    for m in EVENT.finditer(raw):
        print(line(ET.fromstring(m.group(0))))


if __name__ == "__main__":
    main()
