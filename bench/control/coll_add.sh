#!/usr/bin/env bash
# Cost of one collection change against the size of the collection: a
# router with N routes (default 1000 and 100000: /24s in 10/8 up to
# 60,000, then IPv6 /64s, as the table holds 65,536 a family), then RUNS
# (default 100) `nfchain r routes add` and as many `del`, each a whole CLI
# process; p50/p99/max in ms. Plain binaries; its own nfchaind, socket,
# state dir and pin root, removed at the end. Root; bpffs.
#   bench/control/coll_add.sh [N...]      (RUNS=... in the environment)
set -eu
cd "$(dirname "$0")/../.."
BIN=${NFC_BIN:-$PWD/.output/bin}
RUNS=${RUNS:-100}
[ $# -gt 0 ] || set -- 1000 100000
. bench/control/lib_daemon.sh
bench_daemon addbench
printf '%-8s %-6s %8s %8s %8s  %s\n' routes op p50 p99 max "state.json"
for n in "$@"; do
	nfc rb0 del >/dev/null 2>&1 || true
	nfc router add rb0 >/dev/null
	nfc rb0 ports add p1 ip=203.0.113.1/24,2001:db8:1::1/64 >/dev/null 2>&1 ||
		nfc rb0 ports add p1 ip=203.0.113.1/24 >/dev/null
	python3 -c "
for i in range($n):
    if i < 60000: print('10.%d.%d.0/24 nexthop=203.0.113.9' % (i >> 8 & 255, i & 255))
    else: print('2001:db8:%x:%x::/64 nexthop=2001:db8:1::9' % (i >> 16, i & 65535))" >"$dir/r.txt"
	nfc rb0 routes import --replace -f "$dir/r.txt" >/dev/null
	python3 - "$BIN/nfchain" "$dir/sock" "$RUNS" "$n" "$dir/state" <<'PY'
import os, subprocess, sys, time
exe, sock, runs, n, st = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
size = sum(os.path.getsize(os.path.join(st, f)) for f in os.listdir(st))
for op in ("add", "del"):
    v = []
    for i in range(runs):
        a = [exe, "--socket", sock, "rb0", "routes", op, "198.18.%d.0/24" % i]
        if op == "add":
            a.append("nexthop=203.0.113.9")
        t = time.perf_counter()
        subprocess.run(a, check=True, stdout=subprocess.DEVNULL)
        v.append((time.perf_counter() - t) * 1e3)
    v.sort()
    print("%-8s %-6s %8.2f %8.2f %8.2f  %d bytes in the state dir before" % (
        n, op, v[len(v) // 2], v[min(len(v) - 1, int(len(v) * 0.99))], v[-1], size))
PY
done
