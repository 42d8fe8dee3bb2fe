#!/usr/bin/env python3
"""What an observer sees of a NAT (nat_diff.sh).

run PREFIX OUT
    In one process (each socket made in its host's namespace, setns(2)
    between them: a Python start costs seconds on a loaded machine):
    listeners on c1 (UDP 7001, TCP 7002) and a1 (TCP 8000), captures on
    a1's and c1's eth0, the probes in nat_diff.sh's order, then the
    report of both captures in OUT. PREFIX names the namespaces
    (PREFIX + "a1", ...).

The report: every frame a1 and c1 received, reduced to what the
differential compares (reduce_frames), one line per probe, sorted; every
checksum recomputed from scratch ("ok"/"bad"), the quoted L4 checksum
only when the whole quoted datagram is there.
"""
import ctypes
import os
import select
import socket
import struct
import sys
import time

E1 = "203.0.113.194"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def l4_ok(ip, ihl, seg):
    """The TCP/UDP checksum of seg (complete) under ip's addresses."""
    proto = ip[9]
    if proto == 17 and seg[6:8] == b"\0\0":
        return "none"
    pseudo = ip[12:20] + struct.pack("!BBH", 0, proto, len(seg))
    return "ok" if csum(pseudo + seg) == 0xFFFF else "bad"


LIBC = ctypes.CDLL(None, use_errno=True)


def enter(ns):
    """This thread into network namespace ns (ip netns's name)."""
    fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    try:
        if LIBC.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError(ctypes.get_errno(), "setns " + ns)
    finally:
        os.close(fd)


def sniffer():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
    s.bind(("eth0", 0))
    return s


def udp(ns, sport, dst, dport, tag, ttl=None):
    enter(ns)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", sport))
    if ttl:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    s.sendto(tag.encode(), (dst, dport))
    return s


def tcp(ns, sport, dst, dport):
    enter(ns)
    s = socket.socket()
    s.bind(("", sport))
    s.settimeout(3)
    try:
        s.connect((dst, dport))
    except OSError:
        pass
    return s


def echo(ns, src, dst, ident):
    enter(ns)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((src, 0))
    body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"nat-diff"
    c = 0xFFFF - csum(body)
    s.sendto(body[:2] + struct.pack("!H", c) + body[4:], (dst, 0))
    return s


def run(prefix, out):
    keep = []
    enter(prefix + "c1")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("203.0.113.2", 7001))
    t = socket.socket()
    t.bind(("203.0.113.2", 7002))
    t.listen(8)
    cap = {"c1": sniffer()}
    enter(prefix + "a1")
    t2 = socket.socket()
    t2.bind(("198.51.100.2", 8000))
    t2.listen(8)
    cap["a1"] = sniffer()
    keep += [u, t, t2]
    a1, b1, c1 = prefix + "a1", prefix + "b1", prefix + "c1"
    keep.append(udp(a1, 40001, "203.0.113.2", 7001, "p1a"))
    time.sleep(0.2)
    keep.append(udp(b1, 40001, "203.0.113.2", 7001, "p1b"))
    keep.append(tcp(a1, 40002, "203.0.113.2", 7002))
    keep.append(echo(a1, "198.51.100.2", "203.0.113.2", 0x4E41))
    keep.append(tcp(c1, 40006, "203.0.113.1", 8080))
    keep.append(udp(c1, 40005, "203.0.113.1", 5353, "p5"))
    keep.append(udp(a1, 40003, "203.0.113.2", 7003, "p6"))
    keep.append(udp(a1, 40004, E1, 7004, "p7", 2))
    frames = {"a1": [], "c1": []}
    end = time.time() + 1.5
    while time.time() < end:
        r, _, _ = select.select(list(cap.values()), [], [], 0.1)
        for h, s in cap.items():
            if s in r:
                f, addr = s.recvfrom(65535)
                if addr[2] != socket.PACKET_OUTGOING:
                    frames[h].append(f)
    with open(out, "w") as o:
        o.write("\n".join(reduce_frames("outside", frames["c1"]) +
                           reduce_frames("inside", frames["a1"])) + "\n")


def a(b):
    return socket.inet_ntoa(b)


def port(p):
    """A port the test chose, or "other": a port the NAT picked (when the
    one asked for was taken) is random, in the kernel's NAT as in ours."""
    return str(p) if p in (5353, 7001, 7002, 7003, 7004, 8000, 8080) or \
        40000 < p < 40010 else "other"


def tag(b):
    """The probe's name: the payload nat_diff.sh gives every datagram."""
    t = b.decode(errors="replace")
    return t if t.startswith("p") and len(t) <= 8 else None


def reduce_frames(side, frames):
    """One line a probe: "PROBE: what was seen"; PROBE names the probe
    and where it was seen, the part the test keys on."""
    where = "c1" if side == "outside" else "a1"
    lines = set()
    for f in frames:
        if len(f) < 20 or f[0] >> 4 != 4:
            continue
        ihl = (f[0] & 15) * 4
        f = f[:struct.unpack("!H", f[2:4])[0]]
        ipok = "ok" if csum(f[:ihl]) == 0xFFFF else "bad"
        src, dst, proto, l4 = a(f[12:16]), a(f[16:20]), f[9], f[ihl:]
        if proto == 17:
            sp, dp, ulen = struct.unpack("!HHH", l4[:6])
            t = tag(l4[8:ulen])
            if t:
                lines.add("udp %s at %s: %s:%s -> %s:%s, ip %s, udp %s"
                          % (t, where, src, port(sp), dst, port(dp), ipok, l4_ok(f, ihl, l4)))
            continue
        if proto == 6:
            sp, dp = struct.unpack("!HH", l4[:4])
            flags = l4[13] & 0x12
            if flags == 0x02:
                name = "syn"
            elif flags == 0x12:
                name = "syn-ack"
            else:
                continue  # the first of each way says it all
            lines.add("tcp %s at %s: %s:%s -> %s:%s, ip %s, tcp %s"
                      % (name, where, src, port(sp), dst, port(dp), ipok, l4_ok(f, ihl, l4)))
            continue
        if proto != 1 or len(l4) < 8:
            continue
        t, code = l4[0], l4[1]
        icmpok = "ok" if csum(l4) == 0xFFFF else "bad"
        if t in (0, 8):
            ident = struct.unpack("!H", l4[4:6])[0]
            lines.add("echo %s at %s: %s -> %s, id %s, ip %s, icmp %s"
                      % ("request" if t == 8 else "reply", where, src, dst,
                         "0x4e41" if ident == 0x4E41 else "other", ipok, icmpok))
            continue
        if t not in (3, 11) or len(l4) < 28:
            continue
        q = l4[8:]
        qihl = (q[0] & 15) * 4
        qtot = struct.unpack("!H", q[2:4])[0]
        if q[9] != 17 or len(q) < qihl + 8:
            continue
        qsp, qdp, qlen = struct.unpack("!HHH", q[qihl:qihl + 6])
        whole = len(q) >= qtot
        qt = tag(q[qihl + 8:qtot]) if whole else None
        lines.add("icmp %d/%d about %s at %s: %s -> %s, ip %s, icmp %s; "
                  "quoting udp %s:%s -> %s:%s, quoted ip %s, quoted udp %s"
                  % (t, code, qt, where, src, dst, ipok, icmpok,
                     a(q[12:16]), port(qsp), a(q[16:20]), port(qdp),
                     "ok" if csum(q[:qihl]) == 0xFFFF else "bad",
                     l4_ok(q, qihl, q[qihl:qtot]) if whole else "cut"))
    return sorted(lines)


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3])
