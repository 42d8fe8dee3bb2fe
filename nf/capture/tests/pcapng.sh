#!/usr/bin/env bash
# `dump format=pcapng`: the NF port and the direction of every packet, which
# classic pcap cannot carry. A capture attached to a netdev and to an NF
# port, both directions; pings A -> B. tshark (the oracle: Wireshark's
# reader) must see each packet on the interface of the attachment side it
# crossed, with epb_flags inbound on the ingress side and outbound on the
# egress side, and the same frames, bytes and timestamps as a pcap dump
# read at the same time. Bad format= refused.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
command -v tshark >/dev/null || {
	echo "# tshark missing (scripts/deps.sh installs it)"
	exit 77
}
T=$(mktemp -d /tmp/nfc-capng.XXXXXX)
test_cleanup() {
	[ -n "$(jobs -p)" ] && kill $(jobs -p) 2>/dev/null
	nfd_test_cleanup
	rm -rf "$T"
}
nfc_two_hosts
nfc_static_neigh
nfd_start || { not_ok "nfchaind starts"; exit 1; }

nfc forwarder add f1 mode=tc
nfc f1 ports add p1 peer=$VA
nfc f1 ports add p2 peer=$VB
nfc capture add cap0 mode=tc filter=icmp snaplen=100
nfc attach cap0 $VA direction=both
nfc attach cap0 f1:p2 direction=both

nfc cap0 dump count=20 seconds=20 format=pcapng >"$T/ours.pcapng" 2>"$T/end-ng" &
ng=$!
nfc cap0 dump count=20 seconds=20 >"$T/ours.pcap" 2>"$T/end" &
pc=$!
for _ in $(seq 50); do
	[ "$(nfc -j cap0 show stats | jq -r .stats.readers)" = 2 ] && break
	sleep 0.1
done
ip netns exec "$A" ping -c 5 -i 0.2 -s 1000 198.51.100.2 >/dev/null
wait "$ng" "$pc"

check "the pcapng dump's end line: 20 packets, 0 lost" \
	grep -q "20 packets captured, 0 lost" "$T/end-ng"
# What tshark reads: interface name, direction flag, ICMP type, lengths.
tshark -r "$T/ours.pcapng" -T fields -E separator=, -e frame.interface_name \
	-e frame.packet_flags_direction -e icmp.type -e frame.cap_len \
	-e frame.len >"$T/ng.txt" 2>"$T/tshark.err"
check "tshark reads the pcapng dump ($(wc -l <"$T/ng.txt") packets)" \
	[ "$(wc -l <"$T/ng.txt")" = 20 ]
# Requests enter at VA (its ingress side: inbound) and leave f1 by p2 (that
# attachment's egress side: outbound); replies the other way round.
# tshark prints the direction flag's bits: 0x1 inbound, 0x2 outbound.
want=$(LC_ALL=C sort <<EOF
$VA ingress,0x00000001,8,100,1042 x5
$VA egress,0x00000002,0,100,1042 x5
f1:p2 egress,0x00000002,8,100,1042 x5
f1:p2 ingress,0x00000001,0,100,1042 x5
EOF
)
got=$(LC_ALL=C sort "$T/ng.txt" | uniq -c | awk '{c=$1; $1=""; sub(/^ /,""); print $0 " x" c}' | LC_ALL=C sort)
if [ "$got" = "$want" ]; then
	ok "each packet on its attachment side's interface, epb_flags direction, snaplen 100 of 1042"
else
	not_ok "interfaces/directions: got [$(tr '\n' ';' <<<"$got")] want [$(tr '\n' ';' <<<"$want")]"
	head -5 "$T/tshark.err"
fi
# The same records as the classic pcap read at the same time.
tcpdump -r "$T/ours.pcapng" -nn -tt -xx >"$T/ng.dump" 2>/dev/null
tcpdump -r "$T/ours.pcap" -nn -tt -xx >"$T/pc.dump" 2>/dev/null
same() { [ -s "$1" ] && cmp -s "$1" "$2"; }
check "tcpdump reads the pcapng dump: same frames and timestamps as the pcap dump" \
	same "$T/pc.dump" "$T/ng.dump"

# snaplen is read by the running program: a set cuts the next packets at
# the new length with the same program; a bad value changes nothing.
progid() { bpftool -j prog show pinned "$(echo "$NFC_PIN"/nf/*-cap0/prog)" | jq .id; }
id0=$(progid)
nfc cap0 set snaplen=60
nfc cap0 dump count=4 seconds=20 format=pcapng >"$T/s60.pcapng" 2>/dev/null &
ng=$!
for _ in $(seq 50); do
	[ "$(nfc -j cap0 show stats | jq -r .stats.readers)" = 1 ] && break
	sleep 0.1
done
ip netns exec "$A" ping -c 1 -s 1000 198.51.100.2 >/dev/null
wait "$ng"
caps=$(tshark -r "$T/s60.pcapng" -T fields -e frame.cap_len 2>/dev/null | sort -u | tr '\n' ' ')
check "set snaplen=60: the next packets are cut at 60 (cap_len: $caps)" [ "$caps" = "60 " ]
check "... with no reload (program id $id0 kept)" eval '[ -n "$id0" ] && [ "$(progid)" = "$id0" ]'
check "refused: cap0 set snaplen=0" refused "outside 1..262144" nfc cap0 set snaplen=0
check "... and nothing changed (snaplen 60, program $id0)" \
	eval '[ "$(nfc -j cap0 show | jq -r .config.snaplen)" = 60 ] && [ "$(progid)" = "$id0" ]'

check "refused: dump format=pcapx" refused "format=pcapx: expected pcap or pcapng" \
	nfc cap0 dump format=pcapx
check "refused: GET .../pcap?format=json" \
	eval '[ "$(api GET "/v1/nfs/cap0/pcap?format=json" | cut -c1-3)" = 400 ]'
nfc_done
