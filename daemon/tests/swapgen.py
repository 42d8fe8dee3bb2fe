#!/usr/bin/env python3
"""Sender and receiver of swap_wire.sh's steady stream (run in namespaces).

  swapgen.py send DST STOPFILE OUT PPS   UDP frames to DST until STOPFILE
                                         exists; OUT gets the count sent
  swapgen.py recv IFNAME DST STOPFILE OUT  every UDP frame to DST seen on
                                         IFNAME, in order: OUT gets JSON

Frame n carries n (8 bytes) and goes to a port that says which rule set
accepts it: even n to 20000 + n/2 % 5000 (set A accepts, set B drops),
odd n to 30000 + n/2 % 5000 (the reverse), so that the stream walks over
all 10,000 rules of either set.
"""
import json
import os
import socket
import struct
import sys
import time


def port_of(n):
    return (20000 if n % 2 == 0 else 30000) + (n // 2) % 5000


def send(dst, stop, out, pps):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    t0 = time.monotonic()
    started = False
    while not os.path.exists(stop):
        # Paced in bursts of 10: a sleep per frame would be far slower
        # than asked on a loaded machine.
        for _ in range(10):
            s.sendto(struct.pack("!Q", n), (dst, port_of(n)))
            n += 1
        if not started:
            # The test waits for this before it swaps: Python may take
            # seconds to start on a loaded machine.
            open(out + ".started", "w").close()
            started = True
        ahead = n / pps - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    with open(out, "w") as f:
        f.write("%d\n" % n)


def recv(ifname, dst, stop, out):
    ETH_P_IP = 0x0800
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind((ifname, ETH_P_IP))
    s.settimeout(0.2)
    open(out + ".ready", "w").close()
    want = socket.inet_aton(dst)
    seen = []
    quiet_since = None
    while True:
        try:
            b = s.recv(2048)
        except socket.timeout:
            # Drain what is in flight once the sender has stopped.
            if os.path.exists(stop):
                if quiet_since is None:
                    quiet_since = time.monotonic()
                elif time.monotonic() - quiet_since > 0.5:
                    break
            continue
        if len(b) < 42 or b[23] != 17 or b[30:34] != want:
            continue
        ihl = (b[14] & 15) * 4
        u = 14 + ihl
        if len(b) < u + 16:
            continue
        (n,) = struct.unpack("!Q", b[u + 8:u + 16])
        dport = struct.unpack("!H", b[u + 2:u + 4])[0]
        if dport != port_of(n):
            continue
        seen.append(n)
    # struct tpacket_stats: packets, drops (PACKET_STATISTICS = 6).
    st = s.getsockopt(263, 6, 8)
    _, drops = struct.unpack("II", st)
    with open(out, "w") as f:
        json.dump({"seen": seen, "drops": drops}, f)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    else:
        recv(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
