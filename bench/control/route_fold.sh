#!/usr/bin/env bash
# What one `routes add` costs around a fold of the router's store
# (nf/router/rt_store.c): a router with N routes (default 500,000 IPv6
# /64s in 2001:db8::/32) imported, its log padded to just under the
# fold's share (a quarter of the base) with deletes of routes that were
# never there (a fold drops them), then adds, each a whole CLI process,
# timed one by one, until the new base (`fold N` in its first line) is
# seen and RUNS (default 20) more. The line says which call the new base
# was first seen after, that call's time, and p50/max of all: with the
# fold in the call that passes the share, that call (the 7th) holds it;
# with the fold in the tick, the call the tick delays, if any. Plain
# binaries; its own nfchaind, socket, state dir and pin root, removed at
# the end. Root; bpffs.
#   bench/control/route_fold.sh [N]      (RUNS=... in the environment)
set -eu
cd "$(dirname "$0")/../.."
BIN=${NFC_BIN:-$PWD/.output/bin}
RUNS=${RUNS:-20}
N=${1:-500000}
# Every import goes to the store, whatever N (the daemon reads it).
export NFC_RT_IMPORT_MIN=1
. bench/control/lib_daemon.sh
bench_daemon foldbench
nfc router add rb0 >/dev/null
nfc rb0 ports add p1 ip6=2001:db8:1::1/64 >/dev/null
python3 -c "
import ipaddress
for i in range($N):
    print(ipaddress.ip_network('2001:db8:%x:%x::/64' % (0x1000 + (i >> 16), i & 65535)), 'nexthop=2001:db8:1::9')" >"$dir/r.txt"
nfc rb0 routes import --replace -f "$dir/r.txt" >/dev/null
python3 - "$BIN/nfchain" "$dir/sock" "$RUNS" "$N" "$dir/state" <<'PY'
import glob, ipaddress, os, subprocess, sys, time
exe, sock, runs, n, st = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
base = glob.glob(os.path.join(st, "router*.rb0.routes"))[0]
share = max(os.path.getsize(base) // 4, 1 << 20)
logs = glob.glob(base + ".*.log")
log = logs[0] if logs else None
if log is None:  # no change yet: the log is named by the base's CRC
    import zlib
    log = "%s.%08x.log" % (base, zlib.crc32(open(base, "rb").read()))
with open(log, "a") as f:
    i = 0
    while f.tell() < share - 300:
        f.write("- %s\n" % ipaddress.ip_network("2001:db8:%x:%x::/64" % (0xe000 + (i >> 16), i & 65535)))
        i += 1
    f.flush()
    os.fsync(f.fileno())
head = lambda: open(base).readline()
h0, v, seen, i = head(), [], None, 0
# On until the new base is seen, then RUNS more (3,000 calls at most).
while i < 3000 and (seen is None or i < seen + runs):
    a = [exe, "--socket", sock, "rb0", "routes", "add",
         str(ipaddress.ip_network("2001:db8:fffe:%x::/64" % i)), "nexthop=2001:db8:1::9"]
    t = time.perf_counter()
    subprocess.run(a, check=True, stdout=subprocess.DEVNULL)
    v.append((time.perf_counter() - t) * 1e3)
    if seen is None and head() != h0:
        seen = i
    i += 1
s = sorted(v)
print("%s routes, share %d bytes, %d calls: new base seen after call %s "
      "(%.1f ms); p50 %.1f ms, max %.1f ms (call %d)" % (
          n, share, len(v), seen, v[seen] if seen is not None else -1,
          s[len(s) // 2], s[-1], v.index(s[-1])))
PY
