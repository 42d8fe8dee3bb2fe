#!/usr/bin/python3
# Frames for the differential test (cbpf_diff.sh): crafted with scapy to
# hit what tcpdump expressions look at, and what breaks translations:
# VLAN and QinQ tags, MPLS stacks, IPv6 extension-header chains, IPv4
# options and fragments, every header cut short, random bytes. Seeded:
# the same file every run.  usage: gen_frames.py OUT.pcap [COUNT]
import random
import struct
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import (ARP, ICMP, IP, UDP, TCP, Dot1Q, Ether, IPv6,  # noqa: E402
                       ICMPv6EchoRequest, ICMPv6ND_NS, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, Raw, wrpcap, conf)
from scapy.contrib.mpls import MPLS  # noqa: E402
from scapy.layers.ipsec import AH  # noqa: E402

conf.verb = 0
R = random.Random(22)
out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 12000

V4 = ["198.51.100.1", "198.51.100.2", "198.51.100.77", "203.0.113.5",
      "203.0.113.200", "10.1.2.3", "255.255.255.255", "224.0.0.1"]
V6 = ["2001:db8::1", "2001:db8::2", "2001:db8:1::5", "fe80::1", "ff02::1"]
MACS = ["02:00:00:00:00:01", "02:00:00:00:00:02", "ff:ff:ff:ff:ff:ff",
        "01:00:5e:00:00:01", "33:33:00:00:00:01", "00:11:22:33:44:55"]
PORTS = [0, 20, 21, 22, 53, 80, 123, 443, 1024, 5001, 6000, 8080, 65535]


def port():
    return R.choice(PORTS) if R.random() < 0.7 else R.randrange(65536)


def payload():
    n = R.choice([0, 0, 1, 10, 40, 100, 300, 1000, 1400])
    return Raw(bytes(R.randrange(256) for _ in range(n))) if n else Raw(b"")


def l4v4():
    c = R.random()
    if c < 0.4:
        return TCP(sport=port(), dport=port(), flags=R.randrange(256),
                   dataofs=R.choice([None, None, 5, 6, 8, 15])) / payload()
    if c < 0.75:
        return UDP(sport=port(), dport=port()) / payload()
    if c < 0.95:
        return ICMP(type=R.choice([0, 3, 5, 8, 11, 13, 255]),
                    code=R.randrange(4)) / payload()
    return Raw(bytes(R.randrange(256) for _ in range(R.randrange(40))))


def ipv4():
    ip = IP(src=R.choice(V4), dst=R.choice(V4), ttl=R.randrange(256),
            tos=R.randrange(256), id=R.randrange(65536))
    if R.random() < 0.15:  # options: ihl > 5 moves every L4 offset
        ip.options = [b"\x01" * R.choice([4, 8, 20, 40])]
    if R.random() < 0.15:  # fragments: first, middle, last
        ip.flags = R.choice(["MF", 0, "DF"])
        ip.frag = R.choice([0, 0, 1, 100, 8191])
    l4 = l4v4()
    if R.random() < 0.05:
        ip.proto = R.choice([6, 17, 1, 47, 50, 132])
    return ip / l4


def l4v6():
    c = R.random()
    if c < 0.35:
        return TCP(sport=port(), dport=port(), flags=R.randrange(256)) / payload()
    if c < 0.7:
        return UDP(sport=port(), dport=port()) / payload()
    if c < 0.85:
        return ICMPv6EchoRequest() / payload()
    return ICMPv6ND_NS(tgt=R.choice(V6))


def ipv6():
    ip = IPv6(src=R.choice(V6), dst=R.choice(V6), hlim=R.randrange(256),
              tc=R.randrange(256), fl=R.randrange(1 << 20))
    chain = ip
    for _ in range(R.choice([0, 0, 0, 1, 1, 2, 3])):
        e = R.choice(["hbh", "rt", "frag", "dst", "ah"])
        if e == "hbh":
            h = IPv6ExtHdrHopByHop()
        elif e == "rt":
            h = IPv6ExtHdrRouting(addresses=[R.choice(V6)])
        elif e == "frag":
            h = IPv6ExtHdrFragment(offset=R.choice([0, 0, 1, 100]),
                                   m=R.randrange(2), id=R.randrange(1 << 32))
        elif e == "dst":
            h = IPv6ExtHdrDestOpt()
        else:
            h = AH(spi=R.randrange(1 << 32), icv=b"\x00" * 12)
        chain = chain / h
    return chain / l4v6()


def l3():
    c = R.random()
    if c < 0.5:
        return ipv4()
    if c < 0.8:
        return ipv6()
    if c < 0.9:
        return ARP(op=R.choice([1, 2]), psrc=R.choice(V4), pdst=R.choice(V4))
    return Raw(bytes(R.randrange(256) for _ in range(R.randrange(60))))


def frame():
    eth = Ether(src=R.choice(MACS), dst=R.choice(MACS))
    c = R.random()
    if c < 0.15:
        f = eth / Dot1Q(vlan=R.choice([1, 5, 100, 4094]), prio=R.randrange(8)) / l3()
    elif c < 0.2:
        f = eth / Dot1Q(vlan=R.choice([5, 100])) / Dot1Q(vlan=R.choice([1, 7])) / l3()
    elif c < 0.28:
        f = eth / MPLS(label=R.choice([16, 100, 1048575]), s=0, ttl=64) / \
            MPLS(label=R.choice([17, 200]), s=1, ttl=64) / ipv4()
    elif c < 0.32:
        f = eth / MPLS(label=R.choice([16, 100]), s=1, ttl=64) / ipv4()
    elif c < 0.36:
        eth.type = R.randrange(65536)
        f = eth / Raw(bytes(R.randrange(256) for _ in range(R.randrange(100))))
    else:
        f = eth / l3()
    b = bytes(f)
    if R.random() < 0.15:  # any header cut short
        b = b[:R.randrange(14, max(15, len(b)))]
    return b[:1514] if len(b) > 1514 else b


# 3,000 frames built by scapy (the slow part), each also cut short at a
# random length, with a random header byte changed, and with a VLAN tag
# pushed in front of its EtherType: 12,000 frames, written as a classic
# pcap by hand (wrpcap would dissect each one again).
frames = []
for i in range(count // 4):
    if i % 50 == 0:
        b = bytes(R.randrange(256) for _ in range(R.randrange(14, 200)))
    else:
        b = frame()
    cut = b[:R.randrange(14, len(b) + 1)]
    flip = bytearray(b)
    j = R.randrange(min(len(b), 80))
    flip[j] = R.randrange(256)
    tag = b[:12] + bytes([0x81, 0, R.randrange(16), R.randrange(256)]) + b[12:]
    frames += [b, cut, bytes(flip), tag[:1514]]
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    for i, b in enumerate(frames):
        f.write(struct.pack("<IIII", 1700000000 + i, 0, len(b), len(b)))
        f.write(b)
