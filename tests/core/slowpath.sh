#!/usr/bin/env bash
# The slow path round trip in each mode: f1 sends every frame up
# (packet-in), its control plane sends it on (packet-out) to f2, an NF
# peer, which forwards it to the other host. Then with a netdev peer.
. "$(dirname "$0")/../lib.sh"
nfc_setup
nfc_two_hosts
log=/tmp/nfc-sp-$NFC_ID
test_cleanup() { rm -f $log; }

for mode in xdp xdp-generic tc; do
	nfctl forwarder add f1 mode=$mode slow_path=on
	nfctl forwarder add f2 mode=$mode
	nfctl f1 ports add p1 peer=$VA
	nfctl f1 ports add p2
	nfctl f2 ports add p1 peer=f1:p2
	nfctl f2 ports add p2 peer=$VB
	nfctl run 4 >$log &
	sleep 0.5
	check "$mode: ping through the slow path, packet-out to an NF peer" \
		ip netns exec "$A" ping -c 4 -i 0.2 -W 2 198.51.100.2
	wait
	n=$(grep -c 'packet-in nf=f1' $log)
	check "$mode: every frame went up ($n packet-ins, both directions)" [ "$n" -ge 8 ]
	check "$mode: f2 forwarded what f1 sent out" \
		[ "$(nfctl -j f2 show | jq '.ports[] | select(.name=="p1") | .stats.rx_packets')" -ge 4 ]
	# A netdev peer behind the slow path.
	nfctl f2 del
	nfctl connect f1:p2 $VB
	nfctl run 3 >$log &
	sleep 0.5
	check "$mode: packet-out to a netdev peer" \
		ip netns exec "$A" ping -c 3 -i 0.2 -W 2 198.51.100.2
	wait
	nfctl f1 del
done
nfc_done
