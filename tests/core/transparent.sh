#!/usr/bin/env bash
# Transparent NFs (the counter is the one there is): two counters ordered
# by position show their order in the packet mark (read through the slow
# path); a TC counter on a netdev no chain uses counts the host's own
# traffic; XDP egress on such a netdev is refused. What the counter counts
# on a netdev and on an NF port: nf/counter/tests/counter.sh.
. "$(dirname "$0")/../lib.sh"
nfc_setup
nfc_two_hosts
C=$(nfc_ns c) VC=vc$NFC_ID
nfc_host "$C" eth0 203.0.113.2/24 $VC
nfc_static_neigh # the counted pings are the only packets

att_stat() { # nf target field
	nfctl -j "$1" show | jq -r ".attachments[] | select(.target==\"$2\") | .stats.$3"
}

# f1 in XDP, stated; the counters (mode auto) follow it, and the refusal
# below is about XDP.
nfctl forwarder add f1 mode=xdp
nfctl f1 ports add p1 peer=$VA
nfctl f1 ports add p2 peer=$VB

# Order: marks stamped by each counter, read at f1 through the slow path.
nfctl counter add m1 mark=1
nfctl counter add m2 mark=2
nfctl f1 set slow_path=on
nfctl attach m1 $VA direction=ingress
nfctl attach m2 $VA direction=ingress position=first
log=/tmp/nfc-pktin-$NFC_ID
nfctl run 3 >$log &
sleep 0.5
check "ping through the slow path (packet-in, packet-out)" \
	ip netns exec "$A" ping -c 3 -i 0.2 -W 2 198.51.100.2
wait
check "m2 (first) before m1: mark 0x201" grep -q 'nf=f1 port=p1 .*mark=0x201' $log
nf_rx() { nfctl -j "$1" show | jq -r .stats.rx_packets; }
rx0=$(nf_rx m2)
nfctl detach m2 $VA
nfctl attach m2 $VA direction=ingress position=after=m1
# The new attachment's own counts start at 0; the NF's totals go on (a
# helper saw a ddos filter's rx_packets fall under its drops).
check "m2's own rx_packets kept across a detach and an attach ($rx0, at least the 3 pings)" \
	[ "$(nf_rx m2)" -ge "$rx0" -a "$rx0" -ge 3 ]
check "... its new attachment's start at 0" [ "$(att_stat m2 $VA ingress_packets)" = 0 ]
nfctl run 2 >$log &
sleep 0.5
ip netns exec "$A" ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null
wait
check "after=m1: m1 then m2, mark 0x102" grep -q 'nf=f1 port=p1 .*mark=0x102' $log
# A new mark is written into the running program (a run-time config
# value): the next packets carry it, and m1's program is the same one.
progid() { bpftool -j prog show pinned "$(echo "$NFC_PIN"/nf/*-m1/prog)" | jq .id; }
id0=$(progid)
nfctl m1 set mark=7
nfctl run 2 >$log &
sleep 0.5
ip netns exec "$A" ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null
wait
check "m1 set mark=7: the next packets carry 0x702" grep -q 'nf=f1 port=p1 .*mark=0x702' $log
check "... with no reload (program id $id0 kept)" [ -n "$id0" ] && check "... with no reload (program id $id0 kept)" [ "$(progid)" = "$id0" ]
rm -f $log
nfctl f1 set slow_path=off
check "back in the fast path" ip netns exec "$A" ping -c 2 -i 0.1 -W 2 198.51.100.2

# A netdev no chain uses: XDP can count ingress only; TC both ways.
check "m1 (auto) follows f1 into XDP" \
	[ "$(nfctl -j m1 show | jq -r '.hook + " " + .hook_reason')" = "xdp with f1" ]
check "XDP egress on a lone netdev is refused" \
	refused "XDP has no egress hook" nfctl attach m1 $VC direction=egress
nfctl counter add ctc mode=tc
ip addr add 203.0.113.1/24 dev $VC
ip netns exec "$C" ping -c 1 -W 2 203.0.113.1 >/dev/null # neighbours
check "TC counter both ways on a lone netdev" nfctl attach ctc $VC
ping -c 4 -i 0.05 -W 2 203.0.113.2 >/dev/null
check "TC counter: 4 out (requests from this host)" [ "$(att_stat ctc $VC egress_packets)" = 4 ]
check "TC counter: 4 in (replies)" [ "$(att_stat ctc $VC ingress_packets)" = 4 ]

# The limit of NFC_MAX_ATTACH (8) transparent NFs on one target: the 8th
# is taken and sits in the path, a 9th is refused and changes nothing.
for i in 2 3 4 5 6 7 8; do nfctl counter add ct$i mode=tc; nfctl attach ct$i $VC; done
before=$(nfctl -j show | jq -c '[.attachments[] | select(.target=="'$VC'") | .nf]')
check "the 9th NF on one target is refused, naming the limit" \
	refused "limit of 8 transparent NFs on one target" nfctl attach m2 $VC direction=ingress
check "... and nothing changed" \
	[ "$(nfctl -j show | jq -c '[.attachments[] | select(.target=="'$VC'") | .nf]')" = "$before" ]
ping -c 3 -i 0.05 -W 2 203.0.113.2 >/dev/null
# At least the pings: a neighbour probe may cross too (seen in CI).
out8=$(att_stat ct8 $VC egress_packets) in8=$(att_stat ct8 $VC ingress_packets)
check "the 8th on the target counts the traffic (out $out8, in $in8: at least the 3 pings each way)" \
	[ "${out8:-0}" -ge 3 -a "${in8:-0}" -ge 3 ]
nfc_done
