#!/usr/bin/python3
# A sequence of crafted packets through one "world" (nfchain's firewall,
# or a Linux router with nftables and conntrack), each sent on the inside
# or the outside host and looked for on the other: prints one line per
# packet, "N name pass|drop". fw_ct_oracle.sh runs it through both worlds
# and compares the lines. Each packet carries its number in the IPv4 id or
# the IPv6 flow label, which forwarding keeps.
#
#   ct_oracle.py IN_NS OUT_NS IN_DSTMAC OUT_DSTMAC LOOSE_CMD
#
# IN_NS/OUT_NS: the namespaces of the inside and outside hosts (their
# eth0); IN_DSTMAC/OUT_DSTMAC: the destination MAC of a frame going in
# (sent by the outside host) and of one going out (sent by the inside
# host): the router's port, or the far host itself; LOOSE_CMD: a shell command that turns tcp_loose on
# in this world, run before the packets that need it.
import ctypes
import os
import select
import socket
import subprocess
import sys
import time

from scapy.all import ICMP, IP, IPv6, ICMPv6EchoReply, ICMPv6EchoRequest, TCP, UDP, Ether, Raw, raw

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL("libc.so.6", use_errno=True)

I4, O4 = "198.51.100.40", "198.51.100.50"
I6, O6 = "2001:db8:40::40", "2001:db8:50::50"


def sock_in(ns):
    """An AF_PACKET socket on eth0 of namespace ns."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET):
        sys.exit("setns %s: errno %d" % (ns, ctypes.get_errno()))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind(("eth0", 0))
    mac = open("/sys/class/net/eth0/address").read().strip()
    libc.setns(home, CLONE_NEWNET)
    os.close(fd)
    os.close(home)
    return s, mac


def marker(frame):
    """The packet number a received frame carries, or None."""
    if len(frame) < 34:
        return None
    et = frame[12:14]
    if et == b"\x08\x00" and frame[14 + 12:14 + 16] in (socket.inet_aton(I4), socket.inet_aton(O4)):
        return int.from_bytes(frame[18:20], "big")
    if et == b"\x86\xdd" and len(frame) >= 54 and frame[22:38] in (
        socket.inet_pton(socket.AF_INET6, I6),
        socket.inet_pton(socket.AF_INET6, O6),
    ):
        return int.from_bytes(frame[15:18], "big") & 0xFFFFF
    return None


def main():
    in_ns, out_ns, in_dst, out_dst, loose_cmd = sys.argv[1:6]
    si, mac_i = sock_in(in_ns)
    so, mac_o = sock_in(out_ns)

    def v4(out, l4, n):
        src, dst = (I4, O4) if out else (O4, I4)
        return IP(src=src, dst=dst, id=n, ttl=64) / l4

    def v6(out, l4, n):
        src, dst = (I6, O6) if out else (O6, I6)
        return IPv6(src=src, dst=dst, fl=n, hlim=64) / l4

    T = lambda sp, dp, f, seq, ack=0, load=b"": TCP(sport=sp, dport=dp, flags=f, seq=seq, ack=ack, window=65535) / Raw(load)
    # (name, out?, builder(n), needs loose)
    steps = [
        ("icmp echo request out, id 77", 1, lambda n: v4(1, ICMP(type=8, id=77, seq=1), n)),
        ("icmp echo reply in", 0, lambda n: v4(0, ICMP(type=0, id=77, seq=1), n)),
        ("icmp echo request IN with the same id", 0, lambda n: v4(0, ICMP(type=8, id=77, seq=2), n)),
        ("icmp echo reply OUT from the requester", 1, lambda n: v4(1, ICMP(type=0, id=77, seq=2), n)),
        ("icmp echo reply in again", 0, lambda n: v4(0, ICMP(type=0, id=77, seq=1), n)),
        ("icmpv6 echo request out, id 90", 1, lambda n: v6(1, ICMPv6EchoRequest(id=90, seq=1), n)),
        ("icmpv6 echo reply in", 0, lambda n: v6(0, ICMPv6EchoReply(id=90, seq=1), n)),
        ("icmpv6 echo request IN with the same id", 0, lambda n: v6(0, ICMPv6EchoRequest(id=90, seq=2), n)),
        ("tcp SYN out", 1, lambda n: v4(1, T(43010, 80, "S", 1000), n)),
        ("tcp SYN-ACK in", 0, lambda n: v4(0, T(80, 43010, "SA", 5000, 1001), n)),
        ("tcp ACK out", 1, lambda n: v4(1, T(43010, 80, "A", 1001, 5001), n)),
        ("tcp bare SYN IN on the established connection", 0, lambda n: v4(0, T(80, 43010, "S", 7000), n)),
        ("tcp data in", 0, lambda n: v4(0, T(80, 43010, "PA", 5001, 1001, b"x"), n)),
        ("tcp data out", 1, lambda n: v4(1, T(43010, 80, "PA", 1001, 5002, b"y"), n)),
        ("tcp SYN-ACK in again (ignored, passes)", 0, lambda n: v4(0, T(80, 43010, "SA", 5000, 1001), n)),
        ("tcp6 SYN out", 1, lambda n: v6(1, T(43011, 80, "S", 1000), n)),
        ("tcp6 SYN-ACK in", 0, lambda n: v6(0, T(80, 43011, "SA", 5000, 1001), n)),
        ("tcp6 ACK out", 1, lambda n: v6(1, T(43011, 80, "A", 1001, 5001), n)),
        ("tcp6 bare SYN IN on the established connection", 0, lambda n: v6(0, T(80, 43011, "S", 7000), n)),
        # Found by a helper against nftables: the ACK passed as new.
        ("tcp SYN out 43020", 1, lambda n: v4(1, T(43020, 80, "S", 1000), n)),
        ("tcp ACK out before any SYN-ACK (syn_sent)", 1, lambda n: v4(1, T(43020, 80, "A", 1001, 5001), n)),
        ("tcp data out before any SYN-ACK", 1, lambda n: v4(1, T(43020, 80, "PA", 1001, 5001, b"z"), n)),
        ("tcp SYN-ACK in for it", 0, lambda n: v4(0, T(80, 43020, "SA", 5000, 1001), n)),
        ("tcp ACK out after it", 1, lambda n: v4(1, T(43020, 80, "A", 1001, 5001), n)),
        # Found by a helper against nftables: after a refusal (a RST
        # the only answer) data and a SYN-ACK from outside passed, and a
        # FIN from outside passed in syn_sent.
        ("tcp SYN out 43030", 1, lambda n: v4(1, T(43030, 80, "S", 1000), n)),
        ("tcp FIN-ACK in before any answer (syn_sent)", 0, lambda n: v4(0, T(80, 43030, "FA", 5000, 1001), n)),
        ("tcp RST-ACK in: refused", 0, lambda n: v4(0, T(80, 43030, "RA", 0, 1001), n)),
        ("tcp data in after the refusal", 0, lambda n: v4(0, T(80, 43030, "PA", 5001, 1001, b"evil"), n)),
        ("tcp SYN-ACK in after the refusal", 0, lambda n: v4(0, T(80, 43030, "SA", 6000, 1001), n)),
        ("tcp SYN out 43030 again", 1, lambda n: v4(1, T(43030, 80, "S", 2000), n)),
        ("tcp SYN-ACK in for the new one", 0, lambda n: v4(0, T(80, 43030, "SA", 7000, 2001), n)),
        # A challenge ACK (a TIME_WAIT socket's answer to a SYN) passes,
        # so that the opener's RST clears it (a reconnect hung when the
        # ACK was dropped, found by a helper).
        ("tcp SYN out 43050", 1, lambda n: v4(1, T(43050, 80, "S", 3000), n)),
        ("tcp challenge ACK in (syn_sent)", 0, lambda n: v4(0, T(80, 43050, "A", 9000, 777), n)),
        ("tcp RST out for it", 1, lambda n: v4(1, T(43050, 80, "R", 777), n)),
        # ... and a SYN-ACK from the opener in time_wait passed.
        ("tcp SYN out 43040", 1, lambda n: v4(1, T(43040, 80, "S", 1000), n)),
        ("tcp SYN-ACK in (43040)", 0, lambda n: v4(0, T(80, 43040, "SA", 5000, 1001), n)),
        ("tcp ACK out (43040)", 1, lambda n: v4(1, T(43040, 80, "A", 1001, 5001), n)),
        ("tcp FIN-ACK out (43040)", 1, lambda n: v4(1, T(43040, 80, "FA", 1001, 5001), n)),
        ("tcp FIN-ACK in (43040)", 0, lambda n: v4(0, T(80, 43040, "FA", 5001, 1002), n)),
        ("tcp last ACK out (43040, time_wait)", 1, lambda n: v4(1, T(43040, 80, "A", 1002, 5002), n)),
        ("tcp SYN-ACK out from the opener in time_wait", 1, lambda n: v4(1, T(43040, 80, "SA", 88000, 99001), n)),
        ("icmp echo request out, id 300", 1, lambda n: v4(1, ICMP(type=8, id=300, seq=1), n)),
        ("icmp error in quoting the echo request", 0,
         lambda n: v4(0, ICMP(type=3, code=1) / IP(src=I4, dst=O4, id=7) / ICMP(type=8, id=300, seq=1), n)),
        ("udp out 50010 -> 5000", 1, lambda n: v4(1, UDP(sport=50010, dport=5000) / Raw(b"q"), n)),
        ("udp in 5000 -> 50010", 0, lambda n: v4(0, UDP(sport=5000, dport=50010) / Raw(b"a"), n)),
        ("udp in from another port 5001 -> 50010", 0, lambda n: v4(0, UDP(sport=5001, dport=50010) / Raw(b"a"), n)),
        ("tcp unsolicited ACK in (not loose)", 0, lambda n: v4(0, T(80, 48001, "A", 100, 200), n)),
        ("LOOSE", None, None),
        ("loose: tcp FIN-ACK out with no connection", 1, lambda n: v4(1, T(48003, 80, "FA", 3000, 9000), n)),
        ("loose: tcp ACK in for it", 0, lambda n: v4(0, T(80, 48003, "A", 9000, 3001), n)),
        ("loose: tcp ACK out with no connection (picked up)", 1, lambda n: v4(1, T(48004, 80, "A", 100, 200), n)),
        ("loose: tcp ACK in for it", 0, lambda n: v4(0, T(80, 48004, "A", 200, 100), n)),
    ]
    n = 0
    for name, out, build in steps:
        if build is None:
            subprocess.run(loose_cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
            time.sleep(0.2)
            continue
        n += 1
        tx, rx = (si, so) if out else (so, si)
        dst = out_dst if out else in_dst
        src = mac_i if out else mac_o
        frame = raw(Ether(src=src, dst=dst) / build(n))
        while select.select([rx], [], [], 0)[0]:  # what came before
            rx.recv(65535)
        tx.send(frame)
        got, end = False, time.time() + 0.4
        while not got and time.time() < end:
            if select.select([rx], [], [], max(0, end - time.time()))[0]:
                got = marker(rx.recv(65535)) == n
        print("%d %s %s" % (n, name, "pass" if got else "drop"), flush=True)


main()
