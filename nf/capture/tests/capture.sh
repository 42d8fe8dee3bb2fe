#!/usr/bin/env bash
# The capture NF through nfchaind, with real traffic: `dump` of a ping and
# an iperf3 run gives the frames tcpdump saw on the same link, byte for
# byte within snaplen (pcap_cmp.py), in XDP on an NF port and TC on a
# netdev; bad input is refused with the reason. (Loss, several readers,
# filter swaps: readers.sh.)
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
T=$(mktemp -d /tmp/nfc-cap.XXXXXX)
BGPIDS=()
test_cleanup() {
	for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$(jobs -p)" ] && kill $(jobs -p) 2>/dev/null
	nfd_test_cleanup
	rm -rf "$T"
}
CMP="python3 $(dirname "$0")/pcap_cmp.py"
nfc_two_hosts
nfc_static_neigh
# The one expression whose translation the daemon cuts short, so that the
# verifier refuses it (lib/cbpf.c: no real expression is known to).
export NFC_TEST_CBPF_REFUSE='udp port 4242'
nfd_start || { not_ok "nfchaind starts"; exit 1; }

stat_of() { nfc -j "$1" show stats | jq -r ".stats.$2"; }

# tcpdump in A on its end of the link, ready before the traffic.
ref_start() { # file snaplen filter
	ip netns exec "$A" tcpdump -i eth0 --immediate-mode -U -s "$2" -w "$1" "$3" 2>"$1.log" &
	REFPID=$!
	for _ in $(seq 50); do grep -q listening "$1.log" && return; sleep 0.1; done
}
ref_stop() { sleep 0.3; kill -INT "$REFPID"; wait "$REFPID" 2>/dev/null; }

traffic() { # a ping and an iperf3 run A -> B
	ip netns exec "$A" ping -c 5 -i 0.1 -s 1000 198.51.100.2 >/dev/null
	ip netns exec "$B" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local sp=$!
	sleep 0.3
	ip netns exec "$A" iperf3 -c 198.51.100.2 -p 5201 -t 1 -b 20M >/dev/null 2>&1
	wait "$sp"
}

F='icmp or tcp port 5201'
# XDP on an NF port, TC on a netdev (the other two pairings run the same
# code paths: the hook's, and the attachment's).
for mw in xdp:f1:p1 tc:$VA; do
	mode=${mw%%:*}
	nfc forwarder add f1 mode=$mode
	nfc f1 ports add p1 peer=$VA
	nfc f1 ports add p2 peer=$VB
	nfc capture add cap0 mode=$mode "filter=$F" snaplen=200 ring=16M
	for where in ${mw#*:}; do
		nfc attach cap0 $where direction=both
		ref_start "$T/ref.pcap" 200 "$F"
		nfc cap0 dump seconds=4 >"$T/ours.pcap" 2>"$T/end" &
		dp=$!
		sleep 0.5
		traffic
		wait "$dp"
		ref_stop
		if out=$($CMP "$T/ours.pcap" "$T/ref.pcap" 200); then
			ok "$mode on $where: dump of a ping and iperf3 = tcpdump's frames, byte for byte within snaplen ($(tail -1 <<<"$out"))"
		else
			not_ok "$mode on $where: dump differs from tcpdump: $(head -5 <<<"$out" | tr '\n' ' ')"
		fi
		check "$mode on $where: tcpdump reads the dump" \
			tcpdump -r "$T/ours.pcap" -nn -c 1 icmp -s 0
		check "$mode on $where: end line says 0 lost" grep -q "packets captured, 0 lost" "$T/end"
		nfc detach cap0 $where
	done
	nfc cap0 del
	nfc f1 del
done

# Over a VLAN: in TC the kernel holds the tag apart (skb->vlan_tci) before
# the program runs. A filter `vlan 10` matched nothing there, and the dump
# had the frames without their tag; tcpdump on the link has it. This
# kernel has no VLAN devices: A sends the tagged frames with scapy.
PY=/usr/bin/python3 # scapy is Debian's, not a pyenv's
MACB=$(ip netns exec "$B" cat /sys/class/net/eth0/address)
VF='vlan 10'
for mw in xdp:f1:p1 tc:$VA; do
	mode=${mw%%:*} where=${mw#*:}
	nfc forwarder add f1 mode=$mode
	nfc f1 ports add p1 peer=$VA
	nfc f1 ports add p2 peer=$VB
	nfc capture add cap0 mode=$mode "filter=$VF" snaplen=200
	nfc attach cap0 $where direction=both
	ref_start "$T/vref.pcap" 200 "$VF"
	nfc cap0 dump seconds=3 >"$T/vours.pcap" 2>"$T/end" &
	dp=$!
	sleep 0.5
	# (a helper) a second stream opened at another snaplen, then gone:
	# the first stream's tagged frames were cut at that one's.
	nfc cap0 set snaplen=60 && nfc cap0 dump seconds=1 >/dev/null && nfc cap0 set snaplen=200
	ip netns exec "$A" $PY -c "from scapy.all import Ether, Dot1Q, IP, UDP, Raw, sendp
t = Ether(dst='$MACB') / Dot1Q(vlan=10, prio=5) / IP(src='203.0.113.1', dst='203.0.113.2') / UDP(sport=4000, dport=4001)
u = Ether(dst='$MACB') / IP(src='198.51.100.1', dst='198.51.100.2') / UDP(sport=4000, dport=4002)
sendp([t / Raw(b'x' * n) for n in (10, 300)] * 3 + [u] * 2, iface='eth0', verbose=0, inter=0.01)" 2>/dev/null
	wait "$dp"
	ref_stop
	n=$(tcpdump -e -r "$T/vours.pcap" -nn 2>/dev/null | grep -c 'vlan 10, p 5')
	check "$mode on $where: $VF: the 6 tagged frames captured with their tag ($n)" [ "$n" = 6 ]
	if out=$($CMP "$T/vours.pcap" "$T/vref.pcap" 200); then
		ok "$mode on $where: ... = tcpdump's frames, byte for byte within snaplen ($(tail -1 <<<"$out"))"
	else
		not_ok "$mode on $where: ... differ from tcpdump's: $(head -5 <<<"$out" | tr '\n' ' ')"
	fi
	nfc cap0 del
	nfc f1 del
done

nfc forwarder add f1 mode=xdp
nfc f1 ports add p1 peer=$VA
nfc f1 ports add p2 peer=$VB
nfc capture add cap0 mode=xdp filter=icmp
# Bad input.
check "refused: nfc capture add c1 snaplen=0" refused "outside 1..262144" nfc capture add c1 snaplen=0
check "refused: nfc capture add c1 snaplen=262145" refused "outside 1..262144" nfc capture add c1 snaplen=262145
check "refused: nfc capture add c1 'filter=tcp port'" refused "c1: filter: .*syntax error" nfc capture add c1 'filter=tcp port'
check "refused: nfc capture add c1 ring=5000" refused "power of two" nfc capture add c1 ring=5000
check "refused: nfc f1 dump count=1" refused "f1 is a forwarder, not a capture" nfc f1 dump count=1
check "refused: nfc nope dump count=1" refused "does not exist" nfc nope dump count=1
before=$(nfc -j cap0 show | jq -r .config.filter)
check "refused: nfc cap0 set 'filter=udp and'" refused "syntax error" nfc cap0 set 'filter=udp and'
check "a refused filter changes nothing ($before)" [ "$(nfc -j cap0 show | jq -r .config.filter)" = "$before" ]
check "refused: nfc cap0 set 'filter=udp port 4242' (the verifier's reason)" \
	refused "translated filter: the verifier refused it" nfc cap0 set 'filter=udp port 4242'
check "... changes nothing ($before)" [ "$(nfc -j cap0 show | jq -r .config.filter)" = "$before" ]
check "refused: nfc capture add c1 'filter=udp port 4242' (not attached yet: refused all the same)" \
	refused "translated filter: the verifier refused it" nfc capture add c1 'filter=udp port 4242'
check "refused: nfc capture add c1 snaplen=abc" refused "snaplen" nfc capture add c1 snaplen=abc
nfc_done
