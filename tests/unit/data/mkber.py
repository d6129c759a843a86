#!/usr/bin/env python3
"""Re-encode a DER pkiMessage the way iOS sends it: indefinite lengths on the
ContentInfo / SignedData / encapContentInfo spine and the eContent OCTET STRING
split into constructed 1000-byte chunks. The signed attributes and the
certificates are copied untouched, so the signature still verifies.
usage: mkber.py in.der out.ber"""
import sys

def tlv(b, i):
    tag = b[i]; i += 1
    n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[i:i + k], 'big'); i += k
    return tag, i, i + n          # tag, content start, content end

def items(b, s, e):
    out = []
    while s < e:
        tag, cs, ce = tlv(b, s)
        out.append((tag, s, cs, ce)); s = ce
    return out

def indef(tag, parts):
    return bytes([tag, 0x80]) + b''.join(parts) + b'\x00\x00'

def dlen(n):
    if n < 0x80:
        return bytes([n])
    k = (n.bit_length() + 7) // 8
    return bytes([0x80 | k]) + n.to_bytes(k, 'big')

def chunked_octets(data):
    parts = [b'\x04' + dlen(len(data[i:i + 1000])) + data[i:i + 1000]
             for i in range(0, len(data), 1000)]
    return indef(0x24, parts)

b = open(sys.argv[1], 'rb').read()
_, cs, ce = tlv(b, 0)                                # ContentInfo
oid, ctx0 = items(b, cs, ce)
_, sds, sde = tlv(b, ctx0[1])                        # [0]
sd = items(b, sds, sde)[0]                           # SignedData
parts = []
for tag, s, ics, ice in items(b, sd[2], sd[3]):
    if tag == 0x30 and b[ics] == 0x06 and b[ics + 2:ics + 11] == bytes.fromhex('2a864886f70d010701'):
        eoid, e0 = items(b, ics, ice)
        _, ocs, oce = tlv(b, e0[2])               # the eContent OCTET STRING
        parts.append(indef(0x30, [b[eoid[1]:eoid[3]], indef(0xa0, [chunked_octets(b[ocs:oce])])]))
    else:
        parts.append(b[s:ice])
out = indef(0x30, [b[oid[1]:oid[3]], indef(0xa0, [indef(0x30, parts)])])
open(sys.argv[2], 'wb').write(out)
