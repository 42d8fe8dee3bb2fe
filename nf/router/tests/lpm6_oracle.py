#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The oracle of test_router6_fib: a random IPv6 route set shaped like a
full table (/48s nested under shorter aggregates, with /49s to /64s and
host routes under them), probes, and the longest-prefix match of each
probe worked out here with Python's ipaddress, independently of the
router.

    lpm6_oracle.py SEED NROUTES NPROBES NNEXTHOPS > FILE

Lines written:
    R <prefix> <next hop index>   a route (::/0 via index 0 among them)
    D <prefix>                    removed by the second set (a replace)
    E <prefix>                    then removed one at a time (routes del)
    P <address> <a> <b> <c> <d>   a probe and the next hop index the
                                  longest prefix gives it with the whole
                                  set (a), after the replace (b), after
                                  the single deletions too (c), after
                                  the single deletions alone (d)

Every route and probe is in 2001:db8::/32 outside 2001:db8::/40 (where
the test's ports have their subnets), so every probe is decided by a
route of this set.
"""
import ipaddress
import random
import sys

BASE = int(ipaddress.IPv6Address("2001:db8::"))
MASK128 = (1 << 128) - 1


def mask(plen):
    return MASK128 ^ ((1 << (128 - plen)) - 1)


def main():
    seed, nroutes, nprobes, nnh = (int(a) for a in sys.argv[1:5])
    rnd = random.Random(seed)
    routes = {}  # (plen, network int) -> next hop index

    def rand_under(net, plen, sub):
        """A /sub inside net/plen, outside 2001:db8::/40."""
        while True:
            a = net | (rnd.getrandbits(128 - plen) & ~mask(plen) & MASK128)
            a &= mask(sub)
            if (a >> 88) & 0xFF:
                return a

    def add(plen, a):
        if (plen, a) not in routes:
            routes[(plen, a)] = rnd.randrange(nnh)
            return True
        return False

    routes[(0, 0)] = 0
    add(32, BASE)
    aggs, p48, p64 = [], [], []
    # 2001:db8::/32 holds only 65,536 /48s: a full table's share of /48s
    # (about half) would not fit, so longer prefixes make up the rest.
    n_agg, n_48 = nroutes // 30, min(nroutes * 4 // 10, 40000)
    while len(aggs) < n_agg:  # aggregates /33../44
        plen = rnd.randint(33, 44)
        a = rand_under(BASE, 32, plen)
        if add(plen, a):
            aggs.append((plen, a))
    while len(p48) < n_48:  # /48s, most of them under an aggregate
        if rnd.random() < 0.6:
            plen, a = rnd.choice(aggs)
            a = rand_under(a, plen, 48)
        else:
            a = rand_under(BASE, 32, 48)
        if add(48, a):
            p48.append(a)
    while len(routes) < nroutes:  # deeper: /49../64 and host routes
        a = rnd.choice(p48)
        r = rnd.random()
        if r < 0.1:
            plen = 128
            base = rnd.choice(p64) if p64 else a
            a = rand_under(base, 64 if p64 else 48, 128)
        else:
            plen = rnd.choice((49, 52, 56, 56, 56, 60, 64, 64))
            a = rand_under(a, 48, plen)
            if plen == 64:
                p64.append(a)
        add(plen, a)

    keys = list(routes)
    rnd.shuffle(keys)
    dels = set(k for k in keys[: len(keys) // 50] if k[0])
    edels = set(k for k in keys[len(keys) // 50 : len(keys) // 50 + 5] if k[0])

    lens = sorted({k[0] for k in keys}, reverse=True)

    def lpm(addr, gone):
        for plen in lens:
            k = (plen, addr & mask(plen))
            if k in routes and k not in gone:
                return routes[k]
        return -1

    out = sys.stdout
    for k in keys:
        net = ipaddress.IPv6Network((k[1], k[0]))
        out.write("R %s %d\n" % (net, routes[k]))
    for k in dels:
        out.write("D %s\n" % ipaddress.IPv6Network((k[1], k[0])))
    for k in edels:
        out.write("E %s\n" % ipaddress.IPv6Network((k[1], k[0])))
    # Probes: inside a random route (and at its first and last address),
    # inside each route removed one at a time, and anywhere in the space.
    probes = []
    for k in list(edels) + keys[: nprobes // 6]:
        if not k[0]:
            continue
        net = ipaddress.IPv6Network((k[1], k[0]))
        host = rnd.getrandbits(128 - k[0])
        probes.append(k[1] | host)
        probes.append(int(net.network_address))
        probes.append(int(net.broadcast_address))
    while len(probes) < nprobes:
        probes.append(rand_under(BASE, 32, 128))
    d_and_e = dels | edels
    for p in probes:
        out.write(
            "P %s %d %d %d %d\n"
            % (
                ipaddress.IPv6Address(p),
                lpm(p, ()),
                lpm(p, dels),
                lpm(p, d_and_e),
                lpm(p, edels),
            )
        )


if __name__ == "__main__":
    main()
