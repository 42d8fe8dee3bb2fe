#!/usr/bin/env bash
# 20,000 concurrent UDP flows through the masquerade, checked on the wire:
# a1 (four addresses, 198.51.100.2-5, behind r1:p1) sends one datagram per
# flow from the same 5,000 source ports on every address, all to the same
# c1:9999, so three in four flows must be moved to another port. c1 (outside
# on r1:p3, no route back) reads every frame from an AF_PACKET socket
# (nat_flows.py): every flow arrives, under one outside tuple, no two flows
# share one, every IP and UDP checksum recomputed from scratch is valid (a1
# computes its own: no checksum offload, so the wire holds the NAT's work),
# and c1's kernel counts no UDP checksum error. Every flow is sent twice: a
# flow keeps its tuple, and a frame lost to a full queue on the loaded
# machine is not taken for the NAT's.
# Then port exhaustion: nat1 with ports=40000-40003, eight flows sent twice:
# four go out on the four ports, both times, four are refused (counted as
# exhausted each time, nothing on the wire, no mapping).
# NAT_MODE=xdp (nat_flows_xdp.sh): r1 and the NATs in XDP; default TC.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/../../router/tests/lib_router.sh"
nfc_setup
MODE=${NAT_MODE:-tc}
PY=$(dirname "$0")/nat_flows.py
OUT=/tmp/nfc-natflows-$NFC_ID
test_cleanup() { rm -f "$OUT".*; }

PA=ra$NFC_ID PC=rc$NFC_ID
rt_host a1 198.51.100.2/26 198.51.100.1 "$PA"
rt_host c1 203.0.113.2/26 203.0.113.1 "$PC"
ip -n "$(rt_ns c1)" route del default
for i in 3 4 5; do ip -n "$(rt_ns a1)" addr add 198.51.100.$i/26 dev eth0; done
in_host a1 ethtool -K eth0 tx off >/dev/null

setup() {
	nfctl router add r1 mode=$MODE &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 &&
		nfctl nat add nat0 mode=$MODE &&
		nfctl attach nat0 r1:p3 direction=both &&
		nfctl nat0 rules add 10 type=masquerade src=198.51.100.0/24 &&
		nfc_slowpath_start /dev/null &&
		# Neighbours resolved before the flows: none is held by the
		# slow path.
		q_host a1 ping -c 2 -i 0.2 -W 2 $RT_C1
}

# flows NAME SRCS SPORT COUNT ROUNDS EXPECT: sends, captures on c1; the
# capture in $OUT.NAME, its summary in $OUT.NAME.sum.
flows() {
	local name=$1 srcs=$2 lo=$3 n=$4 rounds=$5 expect=$6 cp
	in_host c1 python3 "$PY" capture eth0 9999 60 "$expect" "$OUT.$name" >"$OUT.ready" &
	cp=$!
	for _ in $(seq 100); do
		grep -q ready "$OUT.ready" 2>/dev/null && break
		sleep 0.1
	done
	in_host a1 python3 "$PY" send "$srcs" "$lo" "$n" $RT_C1 9999 "$rounds"
	wait $cp
	python3 "$PY" summary "$OUT.$name" >"$OUT.$name.sum"
}
# same A B [C D ...]: A is B, C is D, ... (check runs one command).
same() {
	while [ $# -ge 2 ]; do
		[ "$1" = "$2" ] || return 1
		shift 2
	done
}
v() { sed -n "s/^$2=//p" "$OUT.$1.sum"; }
csum_errors() {
	in_host c1 nstat -az UdpInCsumErrors | awk '/UdpInCsumErrors/ {print $2}'
}

SRCS=198.51.100.2,198.51.100.3,198.51.100.4,198.51.100.5
if setup; then
	e0=$(csum_errors)
	t0=$(date +%s)
	flows big $SRCS 20000 5000 2 20000
	t1=$(date +%s)
	e1=$(csum_errors)
	echo "# 20,000 flows x 2 sent and captured in $((t1 - t0)) s: $(paste -sd ' ' "$OUT.big.sum")"
	check "every one of the 20,000 flows seen on the outside ($(v big flows))" \
		[ "$(v big flows)" = 20000 ]
	check "every flow under one outside tuple ($(v big moved) moved)" \
		[ "$(v big moved)" = 0 ]
	check "20,000 distinct outside tuples, none shared ($(v big outside), $(v big shared) shared)" \
		same "$(v big outside)" 20000 "$(v big shared)" 0
	check "every outside source is r1:p3's address ($(v big srcs))" \
		[ "$(v big srcs)" = 203.0.113.1 ]
	check "every IP header checksum valid on the wire ($(v big frames) frames, $(v big bad_ip) bad)" \
		[ "$(v big bad_ip)" = 0 ]
	check "every UDP checksum valid on the wire ($(v big bad_udp) bad)" \
		[ "$(v big bad_udp)" = 0 ]
	check "c1's kernel counts no UDP checksum error ($e0 -> $e1)" [ "$e0" = "$e1" ]
	# The source port is kept when free: the first address's 5,000 flows
	# (sent first), none of the others' (their ports were taken).
	k=$(v big kept)
	check "source port kept when free ($k of 20,000 flows)" [ "$k" = 5000 ]
	m=$(nfctl -j nat0 mappings show | jq '[.[] | select(.type=="masquerade")] | length')
	check "mappings show lists the 20,000 (and the ping) ($m)" [ "${m:-0}" -ge 20000 ]
	x=$(rt_stat nat0 nat.exhausted)
	check "no port exhausted with 64,512 ports ($x)" [ "$x" = 0 ]
else
	not_ok "set up r1 and nat0 on r1:p3"
fi

# Port exhaustion: nat0 replaced by nat1 with 4 ports (the router and its
# neighbours stay); 8 flows, each sent twice.
if nfctl detach nat0 r1:p3 && nfctl nat0 del &&
	nfctl nat add nat1 mode=$MODE ports=40000-40003 &&
	nfctl attach nat1 r1:p3 direction=both &&
	nfctl nat1 rules add 10 type=masquerade src=198.51.100.0/24; then
	flows tiny $SRCS 5000 2 2 4
	x=$(rt_stat nat1 nat.exhausted)
	echo "# exhaustion: $(paste -sd ' ' "$OUT.tiny.sum"), exhausted=$x"
	check "4 of 8 flows go out, on the 4 ports 40000-40003 ($(v tiny flows) flows, ports $(v tiny port_lo)-$(v tiny port_hi))" \
		same "$(v tiny flows)" 4 "$(v tiny outside)" 4 \
			"$(v tiny port_lo)" 40000 "$(v tiny port_hi)" 40003
	# Sent twice: the mapped ones pass again under the same tuple, the
	# others are refused again.
	check "the 4 mapped pass both times under one tuple each ($(v tiny frames) frames, $(v tiny moved) moved)" \
		same "$(v tiny frames)" 8 "$(v tiny moved)" 0
	check "the 4 refused counted as exhausted, both times ($x)" [ "$x" = 8 ]
	m=$(nfctl -j nat1 mappings show | jq '[.[] | select(.proto=="udp")] | length')
	check "4 UDP mappings, none for the refused ($m)" [ "$m" = 4 ]
else
	not_ok "nat0 replaced by nat1 (ports=40000-40003) on r1:p3"
fi
nfc_done
