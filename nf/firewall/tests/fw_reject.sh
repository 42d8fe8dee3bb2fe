#!/usr/bin/env bash
# action=reject with real traffic: fw1 on r1's outside port p3, default
# accept, rejecting inbound TCP to port 8080 and UDP to 9000 (IPv4 and
# IPv6). a1 listens on both ports (so that without fw1 its own stack would
# answer: any refusal seen comes from fw1). The Linux stack of c1 is the
# oracle: nc to a1:8080 fails at once with "Connection refused" (a RST
# with the right sequence numbers and checksum), a connected UDP socket
# sees ECONNREFUSED (an ICMP port unreachable quoting its datagram, or
# ICMPv6 port unreachable); tcpdump on c1 sees the ICMP type 3 code 3.
# Controls: TCP to 8081 and UDP to 9001 (listeners too) are accepted.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/../../router/tests/lib_router.sh"
nfc_setup

A6=2001:db8:1::2
OUT=/tmp/nfc-fwrej-$NFC_ID

# c1's view of a UDP datagram to DST:PORT on a connected socket:
# "refused", "answer" (a1's echo) or "timeout".
udp_probe() { # dst port
	in_host c1 python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"probe")
try:
    s.recv(100)
    print("answer")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
' "$1" "$2"
}

# Listeners on a1: TCP 8080 and 8081 (accept and close), UDP 9000 and
# 9001 (echo), IPv4 and IPv6, for SECONDS; FILE made once they are bound.
listeners() { # seconds file
	in_host a1 python3 -c '
import select, socket, sys, time
socks = []
for fam, a in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    for p in (8080, 8081):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((a, p)); s.listen(8); socks.append(s)
    for p in (9000, 9001):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((a, p)); socks.append(s)
open(sys.argv[2], "w").close()  # bound: ready
end = time.time() + float(sys.argv[1])
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 0.2)
    for s in r:
        if s.type == socket.SOCK_STREAM:
            c, _ = s.accept(); c.close()
        else:
            d, a = s.recvfrom(100); s.sendto(d, a)
' "$1" "$2"
}

nc_msg() { # dst port
	in_host c1 timeout 5 nc -v -z -w 3 "$1" "$2" 2>&1
}

rt_hosts
rt_host6 a1 $A6/64 2001:db8:1::1
rt_host6 c1 2001:db8:3::2/64 2001:db8:3::1
for mode in tc xdp; do
	if ! { nfctl router add r1 mode=$mode &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 ip6=2001:db8:1::1/64 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 ip6=2001:db8:3::1/64 &&
		nfctl firewall add fw1 mode=$mode default=accept conntrack=on &&
		nfctl attach fw1 r1:p3 direction=both &&
		nfctl fw1 rules add 10 action=reject dir=in proto=tcp dport=8080 &&
		nfctl fw1 rules add 11 action=reject dir=in proto=udp dport=9000; }; then
		not_ok "$mode: set up r1 and fw1 on r1:p3"
		nfctl reset
		continue
	fi
	nfc_slowpath_start /dev/null # ARP, NDP, and fw1's rejects
	rm -f $OUT.ready
	listeners 40 $OUT.ready 2>/dev/null &
	lpid=$!
	for i in $(seq 50); do [ -e $OUT.ready ] && break; sleep 0.2; done
	q_host c1 ping -c 1 -W 2 $RT_A1
	q_host c1 ping -6 -c 1 -W 3 $A6

	m=$(nc_msg $RT_A1 8081)
	check "$mode: control: TCP c1 -> a1:8081 connects ($m)" \
		grep -q succeeded <<<"$m"
	s=$(date +%s%N)
	m=$(nc_msg $RT_A1 8080)
	ms=$((($(date +%s%N) - s) / 1000000))
	check "$mode: TCP c1 -> a1:8080 rejected: Connection refused in $ms ms ($m)" \
		grep -q "Connection refused" <<<"$m"
	r=$(udp_probe $RT_A1 9001)
	check "$mode: control: UDP c1 -> a1:9001 answered ($r)" [ "$r" = answer ]
	# tcpdump from just before the rejected probe, once it listens.
	in_host c1 timeout 10 tcpdump -l -n -i eth0 -c 1 icmp >$OUT.dump 2>$OUT.err &
	dpid=$!
	for i in $(seq 50); do
		grep -q "listening on" $OUT.err 2>/dev/null && break
		sleep 0.1
	done
	r=$(udp_probe $RT_A1 9000)
	check "$mode: UDP c1 -> a1:9000 rejected: ICMP port unreachable ($r)" \
		[ "$r" = refused ]
	wait $dpid
	check "$mode: tcpdump on c1: ICMP udp port 9000 unreachable from a1's address" \
		grep -q "$RT_A1 > 203.0.113.2: ICMP $RT_A1 udp port 9000 unreachable" $OUT.dump
	sed 's/^/# /' $OUT.dump

	m=$(nc_msg $A6 8081)
	check "$mode: control: TCP c1 -> [a1]:8081 over IPv6 connects ($m)" \
		grep -q succeeded <<<"$m"
	m=$(nc_msg $A6 8080)
	check "$mode: TCP c1 -> [a1]:8080 over IPv6 rejected: Connection refused ($m)" \
		grep -q "Connection refused" <<<"$m"
	r=$(udp_probe $A6 9001)
	check "$mode: control: UDP c1 -> [a1]:9001 answered ($r)" [ "$r" = answer ]
	r=$(udp_probe $A6 9000)
	check "$mode: UDP c1 -> [a1]:9000 rejected: ICMPv6 port unreachable ($r)" \
		[ "$r" = refused ]
	n=$(nfctl -j fw1 show stats | jq -r '.stats.packets.rejected // .packets.rejected // 0')
	check "$mode: fw1 counted rejects ($n)" [ "${n:-0}" -ge 4 ]
	# Without the slow path the data plane still answers TCP itself.
	nfc_slowpath_stop
	m=$(nc_msg $RT_A1 8080)
	check "$mode: slow path stopped: TCP c1 -> a1:8080 still refused ($m)" \
		grep -q "Connection refused" <<<"$m"
	m=$(nc_msg $A6 8080)
	check "$mode: slow path stopped: TCP over IPv6 still refused ($m)" \
		grep -q "Connection refused" <<<"$m"
	m=$(nc_msg $RT_A1 8081)
	check "$mode: slow path stopped: control: a1:8081 connects ($m)" \
		grep -q succeeded <<<"$m"
	n=$(nfctl -j fw1 show stats | jq -r '[.. | objects | .rejected_in_kernel? // empty] | first // 0')
	check "$mode: fw1 counted RSTs sent by the data plane ($n)" [ "${n:-0}" -ge 2 ]
	# The listeners: the processes of a1's namespace (only this test's).
	kill $(ip netns pids "$(rt_ns a1)") 2>/dev/null
	wait $lpid 2>/dev/null
	rm -f $OUT.dump $OUT.err $OUT.ready
	nfc_slowpath_stop
	nfctl reset >/dev/null
done
nfc_done
