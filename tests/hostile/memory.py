#!/usr/bin/env python3
"""memory.py - scepdump's one memory budget (--max-memory) against hostile
traffic: for each shape written by tests/hostile/http-gen.py (and a huge
key log and device log), peak RSS must stay under the budget plus a fixed
overhead, and the summary must say what was shed or capped. A memory check, not a
timed test. Prints TAP.

  --scale small   CI: a 16 MiB budget, each shape about 4 times that
  --scale large   make hostile: the default budget (256 MiB), each shape
                  1.5 to 2 times it (100 bodies of 4 MiB, 2000 header lines
                  of 234 KiB, 2000 TLS certificates of 250 kB, 330 MB of
                  header fields against a 4 GiB HPACK table, 100000
                  connections, a 1 GB key log and device log)

The fixed overhead is what scepdump takes on a tiny capture with the same
options (libraries, OpenSSL's tables: measured in the same run) plus
SLACK_MIB for what the budget does not charge by design: per-packet work
buffers, the decode of one message, allocator slack.

Environment: SCEPDUMP (binary), SRCDIR (source tree), TMPDIR.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

SLACK_MIB = 24
MIB = 1 << 20

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("SRCDIR", os.path.abspath(os.path.join(HERE, "..", "..")))
SCEPDUMP = os.environ.get("SCEPDUMP", os.path.join(SRCDIR, "src", "scepdump"))
ENROLL = os.path.join(SRCDIR, "captures", "scepclient-post-enroll.pcap")

# name: (http-gen.py shape and options at small scale, at large scale, and
# what the summary must show was given up: counters whose sum must be > 0)
SHAPES = {
    "bodies": (["http-bodies", "--conns", "16", "--kib", "4095"],
               ["http-bodies", "--conns", "100", "--kib", "4095"],
               ["flows_shed_idle", "flows_shed_not_scep", "http_bodies_capped", "memory_refused"]),
    "lines": (["http-long-line", "--conns", "256", "--kib", "234"],
              ["http-long-line", "--conns", "2000", "--kib", "234"],
              ["flows_shed_not_scep", "flows_shed_idle", "memory_refused", "http_parse_errors"]),
    "tlscert": (["tls-certs", "--conns", "256", "--kib", "244"],
                ["tls-certs", "--conns", "2000", "--kib", "244"],
                ["flows_shed_not_scep", "flows_shed_idle", "tls_bytes_capped", "memory_refused"]),
    "hpack": (["h2-huge-table", "--mb", "64"],
              ["h2-huge-table", "--mb", "330"],
              ["h2_tables_capped", "h2_headers_capped", "h2_header_errors", "memory_refused"]),
    "syns": (["tcp-conns", "--conns", "20000"],
             ["tcp-conns", "--conns", "100000"],
             ["flows_shed_not_scep", "flows_shed_idle", "flows_capped", "memory_refused"]),
}


def generate(args, out):
    subprocess.run([sys.executable, os.path.join(HERE, "http-gen.py"), args[0], out] + args[1:],
                   check=True, stdout=subprocess.DEVNULL)


def run_measured(args, stdout_path):
    """Runs args; returns (exit status, peak RSS in bytes, stderr text)."""
    with open(stdout_path, "wb") as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return proc.returncode, usage.ru_maxrss * 1024, err.read().decode(errors="replace")


def append_pcap(dst, src):
    """Appends src's records to dst (both classic pcap, Ethernet, microseconds)."""
    with open(src, "rb") as f:
        data = f.read()
    bo = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    out = bytearray()
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack(bo + "IIII", data[off:off + 16])
        out += struct.pack("<IIII", sec, usec, incl, orig) + data[off + 16:off + 16 + incl]
        off += 16 + incl
    with open(dst, "ab") as f:
        f.write(out)


def summary_of(path):
    with open(path) as f:
        for line in f:
            obj = json.loads(line)
            if obj.get("type") == "summary":
                return obj
    return None


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, why=""):
        self.n += 1
        self.failed += not ok
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, name, "" if ok else ": " + why))
        sys.stdout.flush()


def write_big_keylog(path, size):
    line = "CLIENT_TRAFFIC_SECRET_0 %064x " + "ab" * 32 + "\n"
    with open(path, "w") as f:
        i = 0
        written = 0
        while written < size:
            s = line % i
            f.write(s)
            written += len(s)
            i += 1


def write_big_devlog(path, size):
    # the Android OMADM shape from the Microsoft page, repeated
    src = os.path.join(SRCDIR, "tests", "devlogs", "page-android-omadm.log")
    with open(src) as f:
        text = f.read()
    with open(path, "w") as f:
        written = 0
        while written < size:
            f.write(text)
            written += len(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", choices=["small", "large"], default="small")
    a = ap.parse_args()
    if os.environ.get("ASAN_OPTIONS") or os.environ.get("UBSAN_OPTIONS"):
        print("1..0 # SKIP peak RSS means nothing under the sanitizers")
        return 0
    large = a.scale == "large"
    budget = 256 * MIB if large else 16 * MIB
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="scepdump-memory.")
    print("1..%d" % (len(SHAPES) * 3 + 4))
    try:
        base_rc, base_rss, _ = run_measured(
            [SCEPDUMP, "-r", ENROLL, "--json", "--max-memory", str(budget)],
            os.path.join(tmp, "base.json"))
        limit = budget + base_rss + SLACK_MIB * MIB
        print("# budget %d MiB, baseline RSS %.1f MiB, slack %d MiB: limit %.1f MiB"
              % (budget // MIB, base_rss / MIB, SLACK_MIB, limit / MIB))
        for name, (small_args, large_args, given_up) in SHAPES.items():
            pcap = os.path.join(tmp, name + ".pcap")
            mixed = os.path.join(tmp, name + "-mixed.pcap")
            generate(large_args if large else small_args, pcap)
            # an ordinary enrollment after the hostile traffic, its
            # connections still open
            append_pcap(pcap, ENROLL)
            os.rename(pcap, mixed)
            out = os.path.join(tmp, name + ".json")
            rc, rss, err = run_measured([SCEPDUMP, "-r", mixed, "--json",
                                         "--max-memory", str(budget)], out)
            os.unlink(mixed)
            tap.result(rss <= limit, "%s: peak RSS %.1f MiB <= %.1f MiB"
                       % (name, rss / MIB, limit / MIB), "over the limit")
            s = summary_of(out) or {}
            c = s.get("counters", {})
            shed = {k: c.get(k, 0) for k in given_up if c.get(k, 0)}
            tap.result(rc in (0, 1) and bool(shed), "%s: what was given up is counted %s"
                       % (name, shed), "exit %d, none of %s counted; stderr: %s"
                       % (rc, given_up, err.strip()[:200]))
            verdicts = s.get("verdicts", {})
            tap.result(verdicts.get("ISSUED", 0) >= 1, "%s: the enrollment among it is ISSUED"
                       % name, "verdicts %s" % verdicts)
        for name, writer, opt in (("keylog", write_big_keylog, "--keylog"),
                                  ("devlog", write_big_devlog, "--device-log")):
            size = (1 << 30) if large else 64 * MIB
            path = os.path.join(tmp, name + ".txt")
            writer(path, size)
            out = os.path.join(tmp, name + ".out")
            rc, rss, err = run_measured([SCEPDUMP, "-r", ENROLL, opt, path,
                                         "--max-memory", str(budget)], out)
            os.unlink(path)
            tap.result(rss <= limit, "%s of %d MiB: peak RSS %.1f MiB <= %.1f MiB"
                       % (name, size // MIB, rss / MIB, limit / MIB), "over the limit")
            said = "memory budget" in err or "capped" in err or "past" in err
            tap.result(rc in (0, 1) and said, "%s: the cut is said (exit %d)" % (name, rc),
                       "stderr: %s" % err.strip()[:300])
    finally:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
