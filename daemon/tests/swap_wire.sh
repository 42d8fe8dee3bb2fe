#!/usr/bin/env bash
# Atomic rule sets on the wire: a steady stream of real UDP frames from
# host A to host B crosses a forwarder (XDP) with a firewall on its port,
# while a set of 10,000 rules is replaced by another, once with
# `rules import --replace` and once with `apply`. The two sets differ in
# every rule (their numbers and what they match):
#
#   set A: rules 1-5000 accept udp dport 20000-24999,
#          rules 5001-10000 drop udp dport 30000-34999
#   set B: rules 10001-15000 accept udp dport 30000-34999,
#          rules 15001-20000 drop udp dport 20000-24999
#   default=drop: a frame that met neither set is counted default_dropped
#
# Frame n goes to an A port when n is even, to a B port when it is odd
# (daemon/tests/swapgen.py): the frames B receives say which set decided
# each one. Checked: what arrived is A's frames, then B's, then A's (no
# frame decided by the old set after one decided by the new); no frame is
# missing but those the set in force drops (no window in which neither set
# decided: two frames in a row lost); the firewall counted no
# default_dropped frame, and accepted exactly what arrived.
# The kill -9 during a large import is daemon/tests/crash_import.sh.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
T=$NFD_DIR
GEN="python3 $NFC_TOP/daemon/tests/swapgen.py"
PIDS=()
test_cleanup() {
	touch "$T/stop"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	nfd_test_cleanup
}
nfc_two_hosts
nfd_start || { not_ok "nfchaind starts"; exit 1; }
# Frames go to .3, which B's MAC answers for and B's stack drops unseen
# (not its address, no forwarding): no ICMP error comes back.
DST=198.51.100.3
macB=$(ip -n "$B" -j link show eth0 | jq -r '.[0].address')
ip -n "$A" neigh add $DST lladdr "$macB" dev eth0 nud permanent

python3 - "$T" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/A.txt", "w") as f:
    for i in range(5000):
        print("%d action=accept proto=udp dport=%d" % (1 + i, 20000 + i), file=f)
    for i in range(5000):
        print("%d action=drop proto=udp dport=%d" % (5001 + i, 30000 + i), file=f)
with open(d + "/B.txt", "w") as f:
    for i in range(5000):
        print("%d action=accept proto=udp dport=%d" % (10001 + i, 30000 + i), file=f)
    for i in range(5000):
        print("%d action=drop proto=udp dport=%d" % (15001 + i, 20000 + i), file=f)
PY

nfc forwarder add f1 mode=xdp >/dev/null &&
	nfc f1 ports add p1 peer="$VA" >/dev/null &&
	nfc f1 ports add p2 peer="$VB" >/dev/null &&
	nfc firewall add fw0 mode=xdp default=drop >/dev/null &&
	nfc attach fw0 f1:p1 direction=both >/dev/null
check "a forwarder between A and B, the firewall on its port p1" [ $? = 0 ]
t0=$(date +%s%N)
nfc fw0 rules import --replace -f "$T/A.txt" >/dev/null
check "set A imported ($((($(date +%s%N) - t0) / 1000000)) ms)" \
	[ "$(nfc -j fw0 show stats | jq -r .stats.rules)" = 10000 ]

# The document that `apply` gets for the swap back: the export with
# fw0's rules replaced by set A.
nfc export >"$T/now.json"
python3 - "$T" <<'PY'
import json, sys
d = sys.argv[1]
doc = json.load(open(d + "/now.json"))
rules = {}
for line in open(d + "/A.txt"):
    k, *kv = line.split()
    rules[k] = dict(x.split("=", 1) for x in kv)
for nf in doc["nfs"]:
    if nf["name"] == "fw0":
        nf.setdefault("collections", {})["rules"] = rules
json.dump(doc, open(d + "/applyA.json", "w"))
PY

counters() { nfc -j fw0 show stats | jq -c '.stats.packets | [.accepted, .dropped, .default_dropped]'; }
c0=$(counters)
ip netns exec "$B" $GEN recv eth0 $DST "$T/stop" "$T/seen.json" &
PIDS+=($!)
rpid=$!
for _ in $(seq 200); do [ -e "$T/seen.json.ready" ] && break; sleep 0.1; done
ip netns exec "$A" taskset -c 0 $GEN send $DST "$T/stop" "$T/sent" 1000 &
PIDS+=($!)
spid=$!
for _ in $(seq 200); do [ -e "$T/sent.started" ] && break; sleep 0.1; done
sleep 1
t0=$(date +%s%N)
check "set B replaces A under the stream (import --replace)" \
	nfc fw0 rules import --replace -f "$T/B.txt"
t_imp=$((($(date +%s%N) - t0) / 1000000))
sleep 1
t0=$(date +%s%N)
check "set A replaces B under the stream (apply)" nfc apply -f "$T/applyA.json"
t_app=$((($(date +%s%N) - t0) / 1000000))
sleep 1
touch "$T/stop"
wait "$spid"
wait "$rpid"
c1=$(counters)
echo "# import --replace $t_imp ms, apply $t_app ms; counters [accepted, dropped, default_dropped] $c0 -> $c1"

python3 - "$T" "$c0" "$c1" <<'PY'
import json, sys
d, c0, c1 = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
sent = int(open(d + "/sent").read())
r = json.load(open(d + "/seen.json"))
seen = r["seen"]
acc, drop, dflt = (c1[i] - c0[i] for i in range(3))

def ok(name, cond):
    print(("ok - " if cond else "not ok - ") + name)
    return cond

# Runs of one set in arrival order: A (even), B (odd).
runs = []
for n in seen:
    s = "AB"[n % 2]
    if not runs or runs[-1][0] != s:
        runs.append([s, n, n, 0])
    runs[-1][2] = n
    runs[-1][3] += 1
shape = "".join(x[0] for x in runs)
desc = ", ".join("%s %d frames (%d-%d)" % (s, c, a, b) for s, a, b, c in runs[:8])
ok("%d frames sent, %d arrived, receiver drops %d" % (sent, len(seen), r["drops"]),
   sent > 500 and r["drops"] == 0)
ok("decided by A, then B, then A; never the old set after the new: %s" % desc,
   shape == "ABA")
# Consecutive arrivals are 2 apart inside a set's run (the other set's
# frame between them was dropped by a rule). Where the sets change they
# are 1 apart (the switch came after the old set's last accepted frame)
# or 3 (after the old set dropped the next one: the new set drops the one
# after that). More means a frame that no set accepted though one should
# have.
gaps = [(a, b) for a, b in zip(seen, seen[1:])
        if (b - a != 2 if a % 2 == b % 2 else b - a not in (1, 3))]
ok("no window in which neither set decided (%d gaps: %s)" % (len(gaps), gaps[:5]),
   not gaps and seen and seen[0] <= 1 and seen[-1] >= sent - 2)
ok("the firewall: no frame matched neither set (default_dropped +%d), "
   "accepted +%d = arrived %d, accepted + dropped = sent (%d + %d, %d)"
   % (dflt, acc, len(seen), acc, drop, sent),
   dflt == 0 and acc == len(seen) and acc + drop == sent)
PY
[ $? = 0 ] || NFC_FAILS=$((NFC_FAILS + 1))
nfd_stop
nfc_done
