#!/usr/bin/env bash
# Transparent NFs: a counter attached both ways on a netdev and on an NF
# port counts exactly the packets sent; two counters ordered by position
# show their order in the packet mark (read through the slow path); a TC
# counter on a netdev no chain uses counts the host's own traffic; XDP
# egress on such a netdev is refused.
. "$(dirname "$0")/../lib.sh"
nfc_setup
A=$(nfc_ns a); B=$(nfc_ns b); C=$(nfc_ns c)
VA=va$NFC_ID VB=vb$NFC_ID VC=vc$NFC_ID
nfc_host "$A" eth0 198.51.100.1/24 $VA
nfc_host "$B" eth0 198.51.100.2/24 $VB
nfc_host "$C" eth0 203.0.113.2/24 $VC
# Static neighbours: the counted pings are the only packets.
macA=$(ip -n "$A" -j link show eth0 | jq -r '.[0].address')
macB=$(ip -n "$B" -j link show eth0 | jq -r '.[0].address')
ip -n "$A" neigh add 198.51.100.2 lladdr "$macB" dev eth0 nud permanent
ip -n "$B" neigh add 198.51.100.1 lladdr "$macA" dev eth0 nud permanent

att_stat() { # nf target field
	nfctl -j "$1" show | jq -r ".attachments[] | select(.target==\"$2\") | .stats.$3"
}

nfctl forwarder add f1
nfctl f1 ports add p1 peer=$VA
nfctl f1 ports add p2 peer=$VB
nfctl counter add cdev
nfctl counter add cport
check "attach a counter both ways on a netdev" nfctl attach cdev $VA direction=both
check "attach a counter both ways on an NF port" nfctl attach cport f1:p2
ip netns exec "$A" ping -c 7 -i 0.05 -W 2 198.51.100.2 >/dev/null
check "netdev counter: 7 in (requests)" [ "$(att_stat cdev $VA ingress_packets)" = 7 ]
check "netdev counter: 7 out (replies)" [ "$(att_stat cdev $VA egress_packets)" = 7 ]
check "port counter: 7 out of f1:p2 (requests)" [ "$(att_stat cport f1:p2 egress_packets)" = 7 ]
check "port counter: 7 into f1:p2 (replies)" [ "$(att_stat cport f1:p2 ingress_packets)" = 7 ]
check "netdev counter bytes: 7 x 98" [ "$(att_stat cdev $VA ingress_bytes)" = 686 ]
check "counter NF stats add per-direction totals" \
	[ "$(nfctl -j cdev show | jq -r .stats.ingress_packets)" = 7 ]
nfctl detach cdev $VA
nfctl detach cport f1:p2

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
nfctl detach m2 $VA
nfctl attach m2 $VA direction=ingress position=after=m1
nfctl run 2 >$log &
sleep 0.5
ip netns exec "$A" ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null
wait
check "after=m1: m1 then m2, mark 0x102" grep -q 'nf=f1 port=p1 .*mark=0x102' $log
rm -f $log
nfctl f1 set slow_path=off
check "back in the fast path" ip netns exec "$A" ping -c 2 -i 0.1 -W 2 198.51.100.2

# A netdev no chain uses: XDP can count ingress only; TC both ways.
check "XDP egress on a lone netdev is refused" \
	refused "XDP has no egress hook" nfctl attach m1 $VC direction=egress
nfctl counter add ctc mode=tc
ip addr add 203.0.113.1/24 dev $VC
ip netns exec "$C" ping -c 1 -W 2 203.0.113.1 >/dev/null # neighbours
check "TC counter both ways on a lone netdev" nfctl attach ctc $VC
ping -c 4 -i 0.05 -W 2 203.0.113.2 >/dev/null
check "TC counter: 4 out (requests from this host)" [ "$(att_stat ctc $VC egress_packets)" = 4 ]
check "TC counter: 4 in (replies)" [ "$(att_stat ctc $VC ingress_packets)" = 4 ]
nfc_done
