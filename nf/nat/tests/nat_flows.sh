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
# Then port exhaustion: nat1 with ports=40000-40003, eight flows: four go
# out on the four ports, four are refused (counted as exhausted, nothing on
# the wire, no mapping), and the four mapped ones still pass.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/../../router/tests/lib_router.sh"
nfc_setup
PY=$(dirname "$0")/nat_flows.py
OUT=/tmp/nfc-natflows-$NFC_ID
test_cleanup() { rm -f "$OUT".*; }

PA=ra$NFC_ID PC=rc$NFC_ID
rt_host a1 198.51.100.2/26 198.51.100.1 "$PA"
rt_host c1 203.0.113.2/26 203.0.113.1 "$PC"
ip -n "$(rt_ns c1)" route del default
for i in 3 4 5; do ip -n "$(rt_ns a1)" addr add 198.51.100.$i/26 dev eth0; done
in_host a1 ethtool -K eth0 tx off >/dev/null
# Something listens on c1:9999: no port unreachable for every datagram.
in_host c1 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.2", 9999))
time.sleep(120)' &
LPID=$!

setup() { # nf [nat add options]
	local nf=$1
	shift
	nfctl router add r1 mode=tc &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 &&
		nfctl nat add "$nf" "$@" &&
		nfctl attach "$nf" r1:p3 direction=both &&
		nfctl "$nf" rules add 10 type=masquerade src=198.51.100.0/24 &&
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
v() { sed -n "s/^$2=//p" "$OUT.$1.sum"; }
csum_errors() {
	in_host c1 nstat -az UdpInCsumErrors | awk '/UdpInCsumErrors/ {print $2}'
}

SRCS=198.51.100.2,198.51.100.3,198.51.100.4,198.51.100.5
if setup nat0; then
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
		[ "$(v big outside)" = 20000 ] && [ "$(v big shared)" = 0 ]
	check "every outside source is r1:p3's address ($(v big srcs))" \
		[ "$(v big srcs)" = 203.0.113.1 ]
	check "every IP header checksum valid on the wire ($(v big frames) frames, $(v big bad_ip) bad)" \
		[ "$(v big bad_ip)" = 0 ] && [ "$(v big frames)" -ge 20000 ]
	check "every UDP checksum valid on the wire ($(v big bad_udp) bad)" \
		[ "$(v big bad_udp)" = 0 ]
	check "c1's kernel counts no UDP checksum error ($e0 -> $e1)" [ "$e0" = "$e1" ]
	# The source port is kept when free: one address's flows at least
	# (whichever came first), never more than the 5,000 ports there are.
	k=$(v big kept)
	check "source port kept when free ($k of 20,000 flows)" \
		[ "$k" -ge 5000 ] && [ "$k" -le 5000 ]
	m=$(nfctl -j nat0 mappings show | jq '[.[] | select(.type=="masquerade")] | length')
	check "mappings show lists the 20,000 (and the ping) ($m)" [ "${m:-0}" -ge 20000 ]
	x=$(rt_stat nat0 nat.exhausted)
	check "no port exhausted with 64,512 ports ($x)" [ "$x" = 0 ]
else
	not_ok "set up r1 and nat0 on r1:p3"
fi
nfc_slowpath_stop
nfctl reset >/dev/null

# Port exhaustion: 4 ports, 8 flows, each sent once.
if setup nat1 ports=40000-40003; then
	flows tiny $SRCS 5000 2 1 4
	x=$(rt_stat nat1 nat.exhausted)
	echo "# exhaustion: $(paste -sd ' ' "$OUT.tiny.sum"), exhausted=$x"
	check "4 of 8 flows go out, on 4 distinct ports of 40000-40003 ($(v tiny flows) flows, ports $(v tiny port_lo)-$(v tiny port_hi))" \
		[ "$(v tiny flows)" = 4 ] && [ "$(v tiny outside)" = 4 ] &&
		[ "$(v tiny port_lo)" = 40000 ] && [ "$(v tiny port_hi)" = 40003 ]
	check "the 4 refused counted as exhausted ($x)" [ "$x" = 4 ]
	# The ping's echo id took no port: only the 4 flows are mapped.
	m=$(nfctl -j nat1 mappings show | jq '[.[] | select(.proto=="udp" and (.outside | test(":4000[0-3]$")))] | length')
	check "4 mappings on the 4 ports ($m)" [ "$m" = 4 ]
	# The mapped ones still pass under the same tuples (the first four
	# flows captured); the refused ones are refused again.
	cut -d' ' -f1-4 "$OUT.tiny" | sort >"$OUT.tiny.first"
	flows again $SRCS 5000 2 1 4
	cut -d' ' -f1-4 "$OUT.again" | sort >"$OUT.again.first"
	x2=$(rt_stat nat1 nat.exhausted)
	check "the mapped flows pass again under the same tuples, the others refused again (exhausted $x2)" \
		cmp -s "$OUT.tiny.first" "$OUT.again.first" && [ "$x2" = 8 ]
else
	not_ok "set up r1 and nat1 (ports=40000-40003) on r1:p3"
fi
kill $LPID 2>/dev/null
wait $LPID 2>/dev/null
nfc_done
