#!/usr/bin/env bash
# TCP from a host whose TSO makes 64 KB packets, through the router in TC
# (the default on veths) and xdp-generic, out of a port with mtu=1280.
# Found by a helper: the router compared each GSO packet's whole length
# with the mtu and answered packet too big, though its segments fitted the
# path MTU the host had learnt: the transfer stalled in both families.
# Each segment is checked now, as Linux does. Fresh namespaces for each
# mode: XDP on a veth's other end turns its TSO off.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/lib_router.sh"
nfc_setup

tcp_400k() { # from to addr [-6]
	local f=$NFD_DIR_TCP pid r
	head -c 400000 /dev/urandom >"$f.in"
	in_host "$2" timeout 15 nc ${4:-} -l -p 5003 >"$f.out" &
	pid=$!
	sleep 0.3
	in_host "$1" timeout 15 nc ${4:-} -q 1 "$3" 5003 <"$f.in"
	wait "$pid"
	cmp -s "$f.in" "$f.out"
	r=$?
	rm -f "$f.in" "$f.out"
	return $r
}
NFD_DIR_TCP=/tmp/nfc-gso-$NFC_ID

for mode in tc xdp-generic; do
	m=${mode:0:2}
	a=a$m c=c$m PA=ga$m$NFC_ID PC=gc$m$NFC_ID
	rt_host $a 198.51.100.2/26 198.51.100.1 "$PA"
	rt_host $c 203.0.113.2/26 203.0.113.1 "$PC"
	ip -n "$(rt_ns $a)" addr add 2001:db8:1::2/64 dev eth0 nodad
	ip -n "$(rt_ns $a)" -6 route add default via 2001:db8:1::1
	ip -n "$(rt_ns $c)" addr add 2001:db8:3::2/64 dev eth0 nodad
	ip -n "$(rt_ns $c)" -6 route add default via 2001:db8:3::1
	if ! { nfctl router add r1 mode=$mode &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 ip6=2001:db8:1::1/64 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 ip6=2001:db8:3::1/64 mtu=1280; } >/dev/null; then
		not_ok "$mode: set up r1"
		nfctl reset
		continue
	fi
	nfc_slowpath_start /dev/null
	tso=$(in_host $a ethtool -k eth0 | awk '/^tcp-segmentation-offload:/ {print $2}')
	check "$mode: TCP a1 -> c1, 400 KB out of p3 with mtu=1280 (a1's TSO $tso)" \
		tcp_400k $a $c 203.0.113.2
	check "$mode: TCP over IPv6 a1 -> c1, 400 KB out of p3 with mtu=1280" \
		tcp_400k $a $c 2001:db8:3::2 -6
	check "$mode: a1 learnt the path MTU 1280" \
		bash -c "ip netns exec $(rt_ns $a) ip route get 203.0.113.2 | grep -q 'mtu 1280'"
	nfc_slowpath_stop
	nfctl reset >/dev/null
done
nfc_done
