#!/usr/bin/env bash
# The NAT against the kernel's: the same hosts, addresses and traffic twice,
# once behind nfchain's router with nat0 on its outside port, once behind a
# kernel router namespace with nftables (masquerade, and dnat for the port
# forwards) on its outside interface; what a1 (inside) and c1 (outside)
# receive is reduced to one line a probe (nat_diff.py: addresses, ports as
# kept or "other", echo id, ICMP error type, quoted addresses and ports,
# every checksum recomputed from scratch) and must be the same.
#
#   a1 198.51.100.2 ─┐                       ┌─ c1 203.0.113.2 ── e1 203.0.113.194
#   b1 198.51.100.66 ┴ r1 (nat0) / kr (nft) ─┘   (c1 routes to e1; no route back inside)
#
# Probes, in this order: UDP a1:40001 and b1:40001 -> c1:7001 (the second
# must move); TCP a1:40002 -> c1:7002 (SYN, SYN-ACK); ICMP echo id 0x4e41
# a1 -> c1; a port forward c1:40006 -> 203.0.113.1:8080 (TCP, to a1:8000);
# UDP c1:40005 -> 203.0.113.1:5353 (forwarded to a1, where no one listens:
# a port unreachable goes out through the NAT); UDP a1:40003 -> c1:7003
# (closed: a port unreachable comes in); UDP a1:40004 -> e1:7004 with TTL 2
# (a time exceeded from c1, traceroute's case). Every host computes its
# own checksums (no offload), so the wire holds the NAT's work.
# NAT_MODE=xdp (nat_diff_xdp.sh): r1 and nat0 in XDP; default TC.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/../../router/tests/lib_router.sh"
nfc_setup
MODE=${NAT_MODE:-tc}
PY=$(cd "$(dirname "$0")" && pwd)/nat_diff.py
OUT=/tmp/nfc-natdiff-$NFC_ID
test_cleanup() { rm -f "$OUT".*; }
E1=203.0.113.194

# The hosts of variant V (n: nfchain, k: kernel) exist: c1 routes to e1,
# no offload.
hosts_ready() {
	local v=$1 h
	ip -n "$(rt_ns ${v}c1)" route del default
	rt_khost ${v}e1 $E1/26 203.0.113.193 ${v}c1 ${v}e$NFC_ID 203.0.113.193/26
	in_host ${v}c1 sysctl -qw net.ipv4.ip_forward=1
	for h in a1 b1 c1 e1; do
		in_host $v$h ethtool -K eth0 tx off >/dev/null 2>&1
	done
	in_host ${v}c1 ethtool -K ${v}e$NFC_ID tx off >/dev/null 2>&1
	# Neighbours resolved: nothing held while the probes run.
	q_host ${v}a1 ping -c 1 -W 2 203.0.113.2 &&
		q_host ${v}b1 ping -c 1 -W 2 203.0.113.2 &&
		q_host ${v}e1 ping -c 1 -W 2 203.0.113.193 &&
		q_host ${v}a1 ping -c 1 -W 2 $E1
}

nfc_variant() {
	PA=ra$NFC_ID PB=rb$NFC_ID PC=rc$NFC_ID
	rt_host na1 198.51.100.2/26 198.51.100.1 "$PA"
	rt_host nb1 198.51.100.66/26 198.51.100.65 "$PB"
	rt_host nc1 203.0.113.2/26 203.0.113.1 "$PC"
	nfctl router add r1 mode=$MODE &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 &&
		nfctl r1 ports add p2 peer=$PB ip=198.51.100.65/26 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 &&
		nfctl r1 routes add 203.0.113.192/26 nexthop=203.0.113.2 &&
		nfctl nat add nat0 mode=$MODE &&
		nfctl attach nat0 r1:p3 direction=both &&
		nfctl nat0 rules add 10 type=dnat proto=tcp dport=8080 to=198.51.100.2:8000 &&
		nfctl nat0 rules add 11 type=dnat proto=udp dport=5353 to=198.51.100.2:5353 &&
		nfctl nat0 rules add 20 type=masquerade src=198.51.100.0/24 &&
		nfc_slowpath_start /dev/null &&
		hosts_ready n
}

kernel_variant() {
	local kr
	kr=$(nfc_ns kr)
	ip netns exec "$kr" sysctl -qw net.ipv4.ip_forward=1
	rt_khost ka1 198.51.100.2/26 198.51.100.1 kr ka$NFC_ID 198.51.100.1/26
	rt_khost kb1 198.51.100.66/26 198.51.100.65 kr kb$NFC_ID 198.51.100.65/26
	rt_khost kc1 203.0.113.2/26 203.0.113.1 kr kc$NFC_ID 203.0.113.1/26
	ip -n "$kr" route add 203.0.113.192/26 via 203.0.113.2
	ip netns exec "$kr" nft -f - <<NFT || return 1
table ip natdiff {
  chain pre {
    type nat hook prerouting priority -100; policy accept;
    iifname "kc$NFC_ID" tcp dport 8080 dnat to 198.51.100.2:8000
    iifname "kc$NFC_ID" udp dport 5353 dnat to 198.51.100.2:5353
  }
  chain post {
    type nat hook postrouting priority 100; policy accept;
    oifname "kc$NFC_ID" ip saddr 198.51.100.0/24 masquerade
  }
}
NFT
	hosts_ready k
}

# probes V: the listeners, captures and probes (nat_diff.py run), the
# report in $OUT.V.txt.
probes() {
	python3 "$PY" run "nt$NFC_ID-$1" "$OUT.$1.txt"
}

if nfc_variant; then
	probes n
else
	not_ok "nfchain: set up r1, nat0 and the hosts"
fi
if kernel_variant; then
	probes k
else
	not_ok "kernel: set up kr, nftables and the hosts"
fi
touch "$OUT.n.txt" "$OUT.k.txt"
echo "# kernel (nftables):"
sed 's/^/#   /' "$OUT.k.txt"
echo "# nfchain:"
sed 's/^/#   /' "$OUT.n.txt"

agree() { [ -n "$1" ] && [ "$1" = "$2" ]; }
# What the kernel shows must be there (else the comparison proves
# nothing), and the same as what nfchain shows, probe by probe.
for key in "udp p1a at c1" "udp p1b at c1" "tcp syn at c1" "tcp syn-ack at a1" \
	"echo request at c1" "echo reply at a1" "tcp syn at a1" "tcp syn-ack at c1" \
	"udp p5 at a1" "icmp 3/3 about p5 at c1" "udp p6 at c1" \
	"icmp 3/3 about p6 at a1" "udp p7 at c1" "icmp 11/0 about p7 at a1"; do
	kl=$(grep -F "$key:" "$OUT.k.txt")
	nl=$(grep -F "$key:" "$OUT.n.txt")
	check "$key: the kernel's NAT and nfchain's agree (kernel: ${kl#*: }; nfchain: ${nl#*: })" \
		agree "$kl" "$nl"
done
# Nothing more on either side (an extra frame, a second translation).
check "no line seen with one NAT only" \
	[ -z "$(diff <(cut -d: -f1 "$OUT.k.txt" | sort -u) <(cut -d: -f1 "$OUT.n.txt" | sort -u))" ]
nfc_done
