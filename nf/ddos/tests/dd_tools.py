#!/usr/bin/env python3
"""Traffic and oracles for the ddos NF's tests (no scapy needed).

  udp ADDR PORT PPS SECONDS        paced UDP datagrams; prints how many
                                   were sent and over how long
  synflood IFACE DSTMAC DSTIP PORT SECONDS
                                   raw SYNs from random 203.0.113.0/24
                                   sources, as fast as this process can
  count PORT SECONDS               UDP datagrams received on PORT, until
                                   SECONDS pass or, once some came, none
                                   for one second (the sender is done)
  feed N SEED FEED PROBES [COUNT [SOLE]]
                                   N random prefixes (IPv4 and IPv6) into
                                   FEED, and COUNT (100,000) probe
                                   addresses with Python ipaddress's
                                   verdict (the feed read back) into
                                   PROBES; SOLE: prefixes whose delete
                                   flips probes, and how many
  lookup PIN_DIR PROBES            each probe looked up in the ddos NF's
                                   live blocklist (BPF_MAP_LOOKUP_ELEM on
                                   the pinned maps: the lookups the data
                                   plane makes); prints disagreements
"""
import ctypes
import ipaddress
import os
import random
import signal
import socket
import struct
import sys
import time


def udp(addr, port, pps, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n, t0 = 0, time.monotonic()
    while True:
        now = time.monotonic()
        if now - t0 >= secs:
            break
        # Whatever is due goes at once: a late wake-up on a loaded
        # machine does not lower the rate.
        due = min(int((now - t0) * pps) + 1, int(secs * pps))
        while n < due:
            s.sendto(b"x" * 32, (addr, port))
            n += 1
        time.sleep(0.002)
    print(n, time.monotonic() - t0)


def count(port, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    # Ready: the test starts its sender when this file exists.
    if len(sys.argv) > 4:
        open(sys.argv[4], "w").close()
    n, end, last = 0, time.monotonic() + secs, time.monotonic()
    while time.monotonic() < end:
        try:
            s.recv(2048)
            n += 1
            last = time.monotonic()
        except socket.timeout:
            if n and time.monotonic() - last > 1:
                break
    print(n)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def synflood(ifn, dmac, dip, port, secs):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifn, 0))
    smac = open("/sys/class/net/%s/address" % ifn).read().strip()
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(
        smac.replace(":", "")) + b"\x08\x00"
    d = socket.inet_aton(dip)
    frames = []
    rnd = random.Random(1)
    for i in range(4096):
        src = socket.inet_aton("203.0.113.%d" % rnd.randrange(1, 255))
        sport = rnd.randrange(1024, 65535)
        tcp = struct.pack("!HHIIBBHHH", sport, port, rnd.getrandbits(32), 0,
                          5 << 4, 0x02, 64240, 0, 0)
        ph = src + d + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i, 0, 64, 6, 0, src, d)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        frames.append(eth + ip + tcp)
    n, t0 = 0, time.monotonic()

    def report(*_):
        dt = time.monotonic() - t0
        print("%d in %.1f s (%.0f/s)" % (n, dt, n / dt if dt else 0))
        sys.exit(0)

    # Killed when the requests are done: say how much was sent.
    signal.signal(signal.SIGTERM, report)
    while time.monotonic() < t0 + secs:
        for f in frames[:256]:
            s.send(f)
        n += 256
        frames = frames[256:] + frames[:256]
    report()


class Blocklist:
    """The reference: a feed read back with Python ipaddress, a set of
    ip_network objects. An address is listed when a listed network holds
    it: the network of each prefix length in use that holds the address,
    looked up in the set."""

    def __init__(self, path):
        self.nets = set()
        for line in open(path):
            words = line.split("#", 1)[0].split()
            if words:
                self.nets.add(ipaddress.ip_network(words[0]))
        self.lens = {v: sorted({n.prefixlen for n in self.nets
                                if n.version == v}) for v in (4, 6)}

    def holders(self, a):
        nets = (ipaddress.ip_network((a, p), strict=False)
                for p in self.lens[a.version])
        return [n for n in nets if n in self.nets]


def beside(net, rnd):
    """The address just below or just above `net`, if there is one."""
    try:
        return net[0] - 1 if rnd.random() < 0.5 else net[-1] + 1
    except ipaddress.AddressValueError:
        return None


def feed(n, seed, path, probes, count=100000, sole=None):
    """N prefixes drawn as integers (fast) into FEED; then the feed read
    back by the reference (Blocklist) and COUNT probes drawn, one in five
    IPv6: half inside a listed network (its first address, its last or
    one at random), half outside (the address beside a listed network or
    one at random, drawn again while the reference lists it), each with
    the reference's verdict. SOLE, if given, gets three listed prefixes
    (IPv4 up to /24, IPv4 longer, IPv6; no two overlapping) with the
    number of probes each alone holds: those that delete it flips."""
    rnd = random.Random(seed)
    v4, v6 = set(), set()
    m32, m128 = (1 << 32) - 1, (1 << 128) - 1
    while len(v4) + len(v6) < n:
        if rnd.random() < 0.95:
            p = rnd.choice([20, 24, 24, 24, 28, 32, 32])
            v4.add((rnd.getrandbits(32) & (m32 << (32 - p)) & m32, p))
        else:
            p = rnd.choice([32, 48, 56, 64, 128])
            v6.add((rnd.getrandbits(128) & (m128 << (128 - p)) & m128, p))
    with open(path, "w") as f:
        f.write("# generated by dd_tools.py feed\n")
        f.writelines("%s/%d\n" % (socket.inet_ntoa(a.to_bytes(4, "big")), p)
                     for a, p in v4)
        f.writelines("%s\n" % ipaddress.IPv6Network((a, p)) for a, p in v6)
    ref = Blocklist(path)
    pools = {4: (list(v4), ipaddress.IPv4Network, ipaddress.IPv4Address, 32),
             6: (list(v6), ipaddress.IPv6Network, ipaddress.IPv6Address, 128)}
    alone = {}
    with open(probes, "w") as f:
        for i in range(count):
            pool, net_t, addr_t, w = pools[6 if i % 5 == 4 else 4]
            net = net_t(rnd.choice(pool))
            if i % 2:
                k = rnd.randrange(3)
                a = net[0] if k == 0 else net[-1] if k == 1 else \
                    net[rnd.randrange(net.num_addresses)]
                held = ref.holders(a)
                if net not in held:
                    sys.exit("feed: the reference misses %s in %s" % (a, net))
            else:
                a = beside(net, rnd) if rnd.random() < 0.5 else None
                while a is None or ref.holders(a):
                    a = addr_t(rnd.getrandbits(w))
                held = []
            if len(held) == 1:
                alone[net] = alone.get(net, 0) + 1
            f.write("%s %d\n" % (a, bool(held)))
    if not sole:
        return
    picked = []
    with open(sole, "w") as f:
        for fam, short in ((4, True), (4, False), (6, False)):
            fit = [(k, m) for m, k in alone.items()
                   if m.version == fam and (m.prefixlen <= 24) == short
                   and not any(m.overlaps(o) for o in picked)]
            if not fit:
                sys.exit("feed: no listed prefix alone holds a probe")
            k, m = max(fit)
            picked.append(m)
            f.write("%s %d\n" % (m, k))


# The bpf(2) calls the lookup needs.
BPF_MAP_LOOKUP_ELEM, BPF_OBJ_GET = 1, 7
libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = {"x86_64": 321, "aarch64": 280}[os.uname().machine]


def bpf(cmd, attr):
    return libc.syscall(NR_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    attr = (ctypes.c_uint64 * 16)()
    attr[0] = ctypes.cast(p, ctypes.c_void_p).value
    fd = bpf(BPF_OBJ_GET, attr)
    if fd < 0:
        sys.exit("cannot open pinned map %s: errno %d" % (path, ctypes.get_errno()))
    return fd


def lookup_elem(fd, key, vsize):
    k = ctypes.create_string_buffer(key, len(key))
    v = ctypes.create_string_buffer(vsize)
    attr = (ctypes.c_uint64 * 16)()
    attr[0] = fd
    attr[1] = ctypes.cast(k, ctypes.c_void_p).value
    attr[2] = ctypes.cast(v, ctypes.c_void_p).value
    return bpf(BPF_MAP_LOOKUP_ELEM, attr) == 0, v.raw


def find(root, name):
    for d, _, files in os.walk(root):
        if name in files:
            return os.path.join(d, name)
    sys.exit("no pinned map %s under %s" % (name, root))


def lookup(root, probes):
    """Each probe looked up as the data plane does (ddos.bpf.c, blocked):
    an IPv4 source's /24 bit in the live copy's bitmap (dd_bm4), then the
    live copy's lengths (dd_lens, longest first; IPv4 above 24 only), the
    source masked to each and looked up in that family's {length, prefix}
    hash."""
    ok, live = lookup_elem(obj_get(find(root, "dd_state")), b"\0" * 4, 8)
    live = struct.unpack("<I", live[:4])[0] & 1 if ok else 0
    ok, ln = lookup_elem(obj_get(find(root, "dd_lens")),
                         struct.pack("<I", live), 172)
    n4, n6 = ln[0], ln[1]
    lens = {4: list(ln[4:4 + n4]), 6: list(ln[40:40 + n6])}
    fds = {4: obj_get(find(root, "dd_bh4_%d" % live)),
           6: obj_get(find(root, "dd_bh6_%d" % live))}
    bm = obj_get(find(root, "dd_bm4_%d" % live))
    bad = n = hits = 0
    for line in open(probes):
        a, want = line.split()
        ip = ipaddress.ip_address(a)
        got = False
        if ip.version == 4:
            x = int(ip) >> 8
            ok, w = lookup_elem(bm, struct.pack("<I", x >> 6), 8)
            got = ok and bool(struct.unpack("<Q", w)[0] >> (x & 63) & 1)
        for p in lens[ip.version]:
            if got or (ip.version == 4 and p <= 24):
                break
            net = ipaddress.ip_network((ip, p), strict=False)
            got, _ = lookup_elem(fds[ip.version],
                                 struct.pack("<I", p) + net.network_address.packed,
                                 4)
            if got:
                break
        n += 1
        hits += got
        if int(got) != int(want):
            bad += 1
            if bad <= 5:
                print("disagree: %s reference %s, NF %d" % (a, want, got))
    print("probes %d blocked %d disagreements %d (lengths probed: %s / %s)"
          % (n, hits, bad, lens[4], lens[6]))
    sys.exit(1 if bad or n == 0 else 0)


if __name__ == "__main__":
    c, a = sys.argv[1], sys.argv[2:]
    if c == "udp":
        udp(a[0], int(a[1]), float(a[2]), float(a[3]))
    elif c == "count":
        count(int(a[0]), float(a[1]))
    elif c == "synflood":
        synflood(a[0], a[1], a[2], int(a[3]), float(a[4]))
    elif c == "feed":
        feed(int(a[0]), int(a[1]), a[2], a[3], *map(int, a[4:5]), *a[5:6])
    elif c == "lookup":
        lookup(a[0], a[1])
    else:
        sys.exit(__doc__)
