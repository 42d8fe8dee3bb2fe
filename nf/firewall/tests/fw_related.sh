#!/usr/bin/env bash
# state=related with real traffic: a traceroute (UDP) from the inside host
# a1 through the router r1, whose outside port p3 is guarded by fw1
# (default=drop, 10 accept state=established,related, 20 accept dir=out),
# to e1 behind c1 (a Linux router): the time-exceeded of c1 and the port
# unreachable of e1 come back through fw1 as related. With rule 10 made
# `state=established` alone, c1's time-exceeded is dropped (the control:
# related is what lets it in). A UDP request from a1 gets its response
# (established); a datagram c1 sends a1 unasked is dropped.
#
#   a1 ── A ── r1 ── p3 [fw1] ── C ── c1 (forwards) ── 203.0.113.72/29 ── e1
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/../../router/tests/lib_router.sh"
nfc_setup

E1=203.0.113.74

# Datagrams a listener on HOST:PORT gets within SECONDS, their payloads on
# one line (empty: none).
udp_listen() { # host port seconds
	in_host "$1" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
end = time.time() + float(sys.argv[2])
got = []
while time.time() < end:
    s.settimeout(max(0.05, end - time.time()))
    try:
        d, a = s.recvfrom(100)
        got.append(d.decode())
        s.sendto(d, a)  # an echo: the response of a request
    except socket.timeout:
        pass
print(" ".join(got))
' "$2" "$3"
}

# A datagram PAYLOAD from HOST:SPORT to DST:DPORT; with `wait`, the echo
# awaited (2 s): exit 0 when it came.
udp_send() { # host sport dst dport payload [wait]
	in_host "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.sendto(sys.argv[4].encode(), (sys.argv[2], int(sys.argv[3])))
if len(sys.argv) > 5:
    s.settimeout(2)
    try:
        s.recvfrom(100)
    except socket.timeout:
        sys.exit(1)
' "$2" "$3" "$4" "$5" ${6:+wait}
}

# The UDP request of a1 (from port 6000) answered by c1's echo; tried three
# times (the router may be resolving c1's address for the first).
udp_reqresp() {
	local l i
	for i in 1 2 3; do
		udp_listen c1 5000 3 >/tmp/nfc-fwrel-$NFC_ID.out &
		l=$!
		sleep 0.5
		if udp_send a1 6000 $RT_C1 5000 req$i wait; then
			wait $l
			return 0
		fi
		wait $l
	done
	return 1
}

rt_hosts
rt_khost e1 $E1/29 203.0.113.73 c1 eth1 203.0.113.73/29
ip netns exec "$(rt_ns c1)" sysctl -qw net.ipv4.ip_forward=1
for mode in tc xdp; do
	if ! { nfctl router add r1 mode=$mode &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 &&
		nfctl r1 routes add 203.0.113.72/29 nexthop=$RT_C1 &&
		nfctl firewall add fw1 mode=$mode default=drop conntrack=on &&
		nfctl attach fw1 r1:p3 direction=both &&
		nfctl fw1 rules add 10 action=accept state=established,related &&
		nfctl fw1 rules add 20 action=accept dir=out; }; then
		not_ok "$mode: set up r1 and fw1 on r1:p3"
		nfctl reset
		continue
	fi
	nfc_slowpath_start /dev/null # the router's ARP and ICMP errors
	q_host a1 ping -c 1 -W 2 $E1 # the router learns c1's address
	hops=$(rt_probe_trace a1 $E1)
	echo "$hops" | sed 's/^/# /'
	check "$mode: traceroute a1 -> e1: c1's time-exceeded back (related)" \
		grep -qx "2 $RT_C1" <<<"$hops"
	check "$mode: traceroute a1 -> e1: e1's port unreachable back (related)" \
		grep -qx "3 $E1" <<<"$hops"
	rel=$(nfctl -j fw1 show stats | jq -r '.stats.packets.accepted // .packets.accepted // 0')
	check "$mode: fw1 counted accepted packets ($rel)" [ "${rel:-0}" -ge 1 ]

	check "$mode: UDP request a1 -> c1 gets its response (established)" \
		udp_reqresp
	udp_listen a1 6000 2 >/tmp/nfc-fwrel-$NFC_ID.out &
	l=$!
	sleep 0.5
	udp_send c1 7000 $RT_A1 6000 unasked1
	udp_send c1 7000 $RT_A1 6000 unasked2
	wait $l
	got=$(cat /tmp/nfc-fwrel-$NFC_ID.out)
	check "$mode: unsolicited UDP c1 -> a1 dropped (a1 got '$got')" \
		[ -z "$got" ]

	# The control: without `related`, c1's time-exceeded is dropped.
	check "$mode: conntrack flush" nfctl fw1 conntrack flush
	if nfctl fw1 rules del 10 &&
		nfctl fw1 rules add 10 action=accept state=established; then
		hops=$(in_host a1 traceroute -n -q 1 -w 2 -N 1 -m 2 $E1 2>/dev/null)
		echo "$hops" | sed 's/^/# /'
		check "$mode: with state=established alone, c1's time-exceeded is dropped" \
			grep -qE "^ *2 +\*$" <<<"$hops"
	else
		not_ok "$mode: rule 10 made state=established"
	fi
	rm -f /tmp/nfc-fwrel-$NFC_ID.out
	nfc_slowpath_stop
	nfctl reset >/dev/null
done
nfc_done
