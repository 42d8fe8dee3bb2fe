#!/usr/bin/env bash
# The filter NF with real traffic, in XDP and TC: it drops exactly what its
# expression matches (action=drop) or everything else (action=keep), its
# counters say so, libpcap's refusal of an expression reaches the user and
# changes nothing, and `set expr=` while pings flow loses none of the
# packets both the old and the new expression pass.
. "$(dirname "$0")/../../../tests/lib.sh"
nfc_setup
nfc_two_hosts
nfc_static_neigh # the pings are the only packets

stat() { nfctl -j f0 show | jq -r ".stats.$1"; }
pings() { # count size: how many replies came back
	ip netns exec "$A" ping -c "$1" -s "$2" -i 0.02 -W 1 198.51.100.2 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

for mode in xdp tc; do
	nfctl forwarder add f1 mode=$mode
	nfctl f1 ports add p1 peer=$VA
	nfctl f1 ports add p2 peer=$VB
	check "$mode: add a filter that drops large echo requests" \
		nfctl filter add f0 mode=$mode "expr=icmp[icmptype] == icmp-echo and greater 200" action=drop
	check "$mode: attach it both ways" nfctl attach f0 f1:p2 direction=both
	check "$mode: small pings pass (5 of 5)" [ "$(pings 5 56)" = 5 ]
	check "$mode: large pings are dropped (0 of 6)" [ "$(pings 6 300)" = 0 ]
	check "$mode: matched 6" [ "$(stat matched)" = 6 ]
	check "$mode: dropped 6" [ "$(stat dropped)" = 6 ]
	check "$mode: a syntax error is libpcap's message" \
		refused "syntax error" nfctl f0 set "expr=tcp port"
	check "$mode: an unknown protocol too" \
		refused "unknown|expression" nfctl f0 set "expr=proto frobnicate"
	check "$mode: ... and changed nothing" \
		[ "$(nfctl -j f0 show | jq -r .config.expr)" = "icmp[icmptype] == icmp-echo and greater 200" ]
	check "$mode: keep only echo requests, and replies longer than 200 bytes" \
		nfctl f0 set "expr=icmp[0] = 8 or (icmp[0] = 0 and len > 200)" action=keep
	check "$mode: now small pings die on the way back (0 of 4)" [ "$(pings 4 56)" = 0 ]
	check "$mode: and large ones pass (4 of 4)" [ "$(pings 4 300)" = 4 ]
	# matched: 4 small requests, 4 large requests and their 4 replies;
	# dropped by keep: the 4 small replies
	check "$mode: matched 6 + 12" [ "$(stat matched)" = 18 ]
	check "$mode: dropped 6 + 4" [ "$(stat dropped)" = 10 ]
	# Found by a helper: past 255 characters an expression was refused,
	# one filter-test had just run. ~700 characters, then 8,193.
	long="$(printf 'udp port %d or ' $(seq 1000 1040))udp port 1"
	check "$mode: a ${#long}-character expression is taken" nfctl f0 set "expr=$long"
	check "$mode: ... and held" [ "$(nfctl -j f0 show | jq -r .config.expr)" = "$long" ]
	check "$mode: one of 8,193 characters is refused, naming the limit" \
		refused "longer than 8192" nfctl f0 set "expr=$(printf 'x%.0s' $(seq 8193))"

	# set expr= under traffic: both expressions pass ICMP; none may be lost
	nfctl f0 set "expr=icmp" action=keep
	ip netns exec "$A" ping -c 1500 -i 0.005 -W 2 198.51.100.2 >/tmp/nfc-fping-$NFC_ID 2>&1 &
	pp=$!
	n=0
	while kill -0 $pp 2>/dev/null && [ $n -lt 40 ]; do
		nfctl f0 set "expr=icmp or udp port 53" >/dev/null || break
		nfctl f0 set "expr=ip proto 1 and not tcp" >/dev/null || break
		n=$((n + 1))
	done
	wait $pp
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' /tmp/nfc-fping-$NFC_ID)
	rm -f /tmp/nfc-fping-$NFC_ID
	check "$mode: $n x 2 swaps of expr under traffic: 1500 of 1500 pings" [ "$got" = 1500 ]
	check "$mode: $n >= 2 swap pairs happened during the pings" [ "$n" -ge 2 ]
	check "$mode: no packet met an empty filter" [ "$(stat no_filter)" = 0 ]
	# TCP through a filter that reads each frame's last byte: in TC the
	# stack hands over GSO packets whose tail is not in the linear part,
	# which the translated program pulls in; a failed read would be "no
	# match", and keep would drop the packet.
	nfctl f0 set "expr=not tcp or (ether[len - 1] | 1) != 0" action=keep
	check "$mode: 30 KB over TCP through a filter reading every last byte" \
		nfc_tcp "$A" "$B" 198.51.100.2
	check "$mode: ... every TCP packet matched, none dropped" \
		[ "$(stat dropped)" = 10 ]
	nfctl reset
done

# A VLAN tag: XDP sees it in the frame; in TC the kernel has taken it out
# into skb->vlan_tci before the program runs. `vlan 10` never matched in
# TC (compiled as for a file, lib/cbpf_pcap.c), so a filter dropping it
# dropped nothing. This kernel has no VLAN devices: A sends tagged frames
# with scapy, B's tcpdump counts what arrives.
PY=/usr/bin/python3 # scapy is Debian's, not a pyenv's
VT=$(mktemp -d /tmp/nfc-fvlan.XXXXXX)
test_cleanup() { rm -rf "$VT"; }
MACB=$(ip netns exec "$B" cat /sys/class/net/eth0/address)
# --immediate-mode: without it tcpdump's ring hands frames over by the
# block (or its timeout, ~1 s), and a capture stopped 0.3 s after the last
# frame at times had none of them ("0 0", seen under load).
arrived() { # tagged untagged: A sends them, 5 ms apart; B's count: "T U"
	ip netns exec "$B" tcpdump -i eth0 --immediate-mode -U -w "$VT/b.pcap" udp 2>"$VT/b.log" &
	local tp=$!
	for _ in $(seq 50); do grep -q listening "$VT/b.log" && break; sleep 0.1; done
	ip netns exec "$A" $PY -c "import sys
from scapy.all import Ether, Dot1Q, IP, UDP, sendp
t, u = int(sys.argv[1]), int(sys.argv[2])
f = [Ether(dst='$MACB') / Dot1Q(vlan=10) / IP(src='203.0.113.1', dst='203.0.113.2') / UDP(sport=4000, dport=4001)] * t
f += [Ether(dst='$MACB') / IP(src='198.51.100.1', dst='198.51.100.2') / UDP(sport=4000, dport=4002)] * u
sendp(f, iface='eth0', verbose=0, inter=0.005)" "$1" "$2"
	sleep 0.3
	kill -INT $tp
	wait $tp 2>/dev/null
	echo "$(tcpdump -r "$VT/b.pcap" -nn 'vlan 10' 2>/dev/null | wc -l)" \
		"$(tcpdump -r "$VT/b.pcap" -nn 'not vlan' 2>/dev/null | wc -l)"
}
for mode in xdp tc; do
	nfctl forwarder add f1 mode=$mode
	nfctl f1 ports add p1 peer=$VA
	nfctl f1 ports add p2 peer=$VB
	check "$mode: without a filter 5 tagged and 3 untagged frames arrive" [ "$(arrived 5 3)" = "5 3" ]
	nfctl filter add f0 mode=$mode "expr=vlan 10" action=drop
	nfctl attach f0 f1:p2 direction=both
	got=$(arrived 5 3)
	check "$mode: drop vlan 10: the 5 tagged frames dropped, the 3 others arrive ($got)" [ "$got" = "0 3" ]
	check "$mode: ... matched 5" [ "$(stat matched)" = 5 ]
	nfctl f0 set "expr=vlan 20"
	got=$(arrived 5 3)
	check "$mode: drop vlan 20: all arrive ($got)" [ "$got" = "5 3" ]
	nfctl f0 set "expr=vlan and net 203.0.113.0/29" action=keep
	got=$(arrived 5 3)
	check "$mode: keep vlan and net 203.0.113.0/29: the tagged frames only ($got)" [ "$got" = "5 0" ]
	nfctl reset
done
nfc_done
