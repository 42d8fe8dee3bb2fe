#!/usr/bin/env python3
"""pcap_cmp.py OURS REF [SNAPLEN]: the frames of OURS (a capture NF's dump)
are exactly those of REF (tcpdump on the same link), byte for byte within
SNAPLEN, with the same wire lengths, as multisets (the order of the two
directions may differ by a few microseconds). Also checks OURS's header:
nanosecond magic, LINKTYPE_ETHERNET, the snaplen, and timestamps within
an hour of now (wall clock, not boot time). Prints what differs; exit 1."""
import collections
import struct
import sys
import time


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit(f"{path}: not a little-endian pcap (magic {magic:#x})")
    snap, link = struct.unpack("<II", data[16:24])
    frames, off = [], 24
    while off < len(data):
        sec, frac, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        frames.append((sec, frac, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return magic, snap, link, frames


def main():
    ours, ref = sys.argv[1], sys.argv[2]
    snaplen = int(sys.argv[3]) if len(sys.argv) > 3 else 262144
    magic, snap, link, a = read(ours)
    _, _, _, b = read(ref)
    bad = 0
    if magic != 0xA1B23C4D or link != 1 or snap != snaplen:
        print(f"# header: magic {magic:#x} linktype {link} snaplen {snap}")
        bad = 1
    now = time.time()
    for sec, _, _, _ in a:
        if abs(sec - now) > 3600:
            print(f"# timestamp {sec} is not the wall clock ({now:.0f})")
            bad = 1
            break
    ka = collections.Counter((orig, fr[:snaplen]) for _, _, orig, fr in a)
    kb = collections.Counter((orig, fr[:snaplen]) for _, _, orig, fr in b)
    for (orig, fr), n in (ka - kb).items():
        print(f"# only in ours x{n}: len {orig} {fr[:40].hex()}")
        bad = 1
    for (orig, fr), n in (kb - ka).items():
        print(f"# only in tcpdump's x{n}: len {orig} {fr[:40].hex()}")
        bad = 1
    print(f"# ours {len(a)} frames, tcpdump {len(b)} frames")
    if not a:
        bad = 1
    sys.exit(bad)


main()
