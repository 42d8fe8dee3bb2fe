#!/usr/bin/env bash
# The counter with real traffic: attached both ways on a netdev and on an NF
# port, it counts exactly the packets sent, per direction, and their bytes;
# the NF's stats add the per-direction totals. (Attachment order and lone
# netdevs: tests/core/transparent.sh; crafted frames: test_counter_dp.c.)
. "$(dirname "$0")/../../../tests/lib.sh"
nfc_setup
nfc_two_hosts
nfc_static_neigh # the counted pings are the only packets

att_stat() { # nf target field
	nfctl -j "$1" show | jq -r ".attachments[] | select(.target==\"$2\") | .stats.$3"
}

att3() { # nf target: ingress packets, egress packets, ingress bytes
	nfctl -j "$1" show | jq -r ".attachments[] | select(.target==\"$2\") | .stats | \"\(.ingress_packets) \(.egress_packets) \(.ingress_bytes)\""
}

for mode in xdp tc; do
	nfctl forwarder add f1 mode=$mode
	nfctl f1 ports add p1 peer=$VA
	nfctl f1 ports add p2 peer=$VB
	nfctl counter add cdev mode=$mode
	nfctl counter add cport mode=$mode
	check "$mode: attach a counter both ways on a netdev" nfctl attach cdev $VA direction=both
	check "$mode: attach a counter both ways on an NF port" nfctl attach cport f1:p2
	ip netns exec "$A" ping -c 7 -i 0.05 -W 2 198.51.100.2 >/dev/null
	check "$mode: netdev counter: 7 in (requests)" [ "$(att_stat cdev $VA ingress_packets)" = 7 ]
	check "$mode: netdev counter: 7 out (replies)" [ "$(att_stat cdev $VA egress_packets)" = 7 ]
	check "$mode: port counter: 7 out of f1:p2 (requests)" [ "$(att_stat cport f1:p2 egress_packets)" = 7 ]
	check "$mode: port counter: 7 into f1:p2 (replies)" [ "$(att_stat cport f1:p2 ingress_packets)" = 7 ]
	check "$mode: netdev counter bytes: 7 x 98" [ "$(att_stat cdev $VA ingress_bytes)" = 686 ]
	check "$mode: counter NF stats add per-direction totals" \
		[ "$(nfctl -j cdev show | jq -r .stats.ingress_packets)" = 7 ]
	# IPv6 (on all along, quiet; neighbours static): 5 ping -6 are 5
	# more each way, 5 x 118 bytes (14 + 40 + 8 + 56). One read for the
	# three: a stray packet between reads would skew them.
	read -r i0 e0 b0 < <(att3 cdev $VA)
	check "$mode: ping -6 through the counted path" \
		ip netns exec "$A" ping -6 -c 5 -i 0.05 -W 2 $B6
	read -r i1 e1 b1 < <(att3 cdev $VA)
	check "$mode: IPv6: 5 in, 5 out, 5 x 118 bytes ($((i1 - i0)), $((e1 - e0)), $((b1 - b0)))" \
		[ $((i1 - i0)) = 5 -a $((e1 - e0)) = 5 -a $((b1 - b0)) = 590 ]
	nfctl reset
done
nfc_done
