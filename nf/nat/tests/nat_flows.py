#!/usr/bin/env python3
"""UDP flows through a NAT, checked on the wire (nat_flows.sh).

send SRC[,SRC...] SPORT_LO COUNT DST DPORT ROUNDS
    One datagram per (source address, source port) flow, COUNT ports from
    SPORT_LO per address, ROUNDS times; the payload names the inside flow
    ("flow ADDR PORT"), so the observer outside maps every outside tuple
    back to the flow that made it.

summary OUT
    What the checks need, as key=value lines (see summary()).

capture IFNAME DPORT SECONDS EXPECT OUT
    Reads IPv4/UDP frames to DPORT from an AF_PACKET socket until EXPECT
    flows were seen and the link was quiet for a second, or SECONDS passed.
    Recomputes every IP header and UDP checksum from scratch and writes one
    line per frame to OUT: "inside_addr inside_port outside_src outside_sport
    ip_ok udp_ok".
"""
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def send(srcs, lo, count, dst, dport, rounds):
    n = 0
    for _ in range(rounds):
        for a in srcs.split(","):
            for p in range(lo, lo + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((a, p))
                s.sendto(("flow %s %d" % (a, p)).encode(), (dst, dport))
                s.close()
                n += 1
                # Paced: veth queues are short and the machine is shared;
                # a burst would lose frames that are no fault of the NAT.
                if n % 50 == 0:
                    time.sleep(0.002)
        time.sleep(0.5)


def capture(ifname, dport, seconds, expect, out):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
    s.bind((ifname, 0))
    s.settimeout(1.0)
    # Something listens on DPORT: no port unreachable for every datagram.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("", dport))
    print("ready", flush=True)
    flows = set()
    lines = []
    end = time.time() + seconds
    while time.time() < end:
        try:
            f, addr = s.recvfrom(65535)
        except socket.timeout:
            if len(flows) >= expect:
                break
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        ihl = (f[0] & 15) * 4
        if f[9] != 17 or len(f) < ihl + 8:
            continue
        sport, dp, ulen, _ = struct.unpack("!HHHH", f[ihl:ihl + 8])
        if dp != dport:
            continue
        ip_ok = csum(f[:ihl]) == 0xFFFF
        udp = f[ihl:ihl + ulen]
        if udp[6:8] == b"\0\0":
            udp_ok = False  # the sender computes one: 0 means it was lost
        else:
            pseudo = f[12:20] + struct.pack("!BBH", 0, 17, ulen)
            udp_ok = csum(pseudo + udp) == 0xFFFF
        words = udp[8:].decode(errors="replace").split()
        if len(words) != 3 or words[0] != "flow":
            continue
        flows.add((words[1], words[2]))
        lines.append("%s %s %s %d %d %d" % (words[1], words[2],
                                            socket.inet_ntoa(f[12:16]), sport,
                                            ip_ok, udp_ok))
    with open(out, "w") as o:
        o.write("\n".join(lines) + ("\n" if lines else ""))


def summary(path):
    """key=value lines: frames, flows, outside tuples, checksum failures,
    flows seen under two outside tuples, outside tuples two flows share,
    the outside sources and the lowest and highest outside port."""
    by_flow, by_out = {}, {}
    frames = bad_ip = bad_udp = 0
    srcs = set()
    ports = []
    for line in open(path):
        ia, ip, oa, op, iok, uok = line.split()
        frames += 1
        bad_ip += iok != "1"
        bad_udp += uok != "1"
        srcs.add(oa)
        ports.append(int(op))
        by_flow.setdefault((ia, ip), set()).add((oa, op))
        by_out.setdefault((oa, op), set()).add((ia, ip))
    print("frames=%d" % frames)
    print("flows=%d" % len(by_flow))
    print("outside=%d" % len(by_out))
    print("bad_ip=%d" % bad_ip)
    print("bad_udp=%d" % bad_udp)
    print("moved=%d" % sum(len(v) > 1 for v in by_flow.values()))
    print("shared=%d" % sum(len(v) > 1 for v in by_out.values()))
    print("kept=%d" % sum(1 for (ia, ip), v in by_flow.items()
                          if (next(iter(v))[1] == ip)))
    print("srcs=%s" % ",".join(sorted(srcs)))
    print("port_lo=%d" % (min(ports) if ports else 0))
    print("port_hi=%d" % (max(ports) if ports else 0))


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "send":
        send(a[2], int(a[3]), int(a[4]), a[5], int(a[6]), int(a[7]))
    elif a[1] == "capture":
        capture(a[2], int(a[3]), float(a[4]), int(a[5]), a[6])
    elif a[1] == "summary":
        summary(a[2])
