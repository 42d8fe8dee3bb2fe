#!/usr/bin/env bash
# The firewall with real traffic: hosts around a router (lib_router.sh),
# the firewall on r1's outside port p3 (toward c1), default=drop, rules
# 10 accept state=established,related and 20 accept dir=out. The inside
# host a1's ping and TCP to c1 work (the replies are established);
# c1's unsolicited TCP and ping to a1 are refused; a rule set replaced
# (1,000 rules) under a running iperf3 a1 -> c1 does not break it.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/../../router/tests/lib_router.sh"
nfc_setup

tcp_refused() { ! rt_tcp c1 a1 $RT_A1 2>/dev/null; }

rt_hosts
for mode in tc xdp; do
	if ! { nfctl router add r1 mode=$mode &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 &&
		nfctl r1 ports add p2 peer=$PB ip=198.51.100.65/26 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 &&
		nfctl firewall add fw1 mode=$mode default=drop conntrack=on &&
		nfctl attach fw1 r1:p3 direction=both &&
		nfctl fw1 rules add 10 action=accept state=established,related &&
		nfctl fw1 rules add 20 action=accept dir=out; }; then
		not_ok "$mode: set up r1 and fw1 on r1:p3"
		nfctl reset
		continue
	fi
	nfc_slowpath_start /dev/null # the router's ARP
	check "$mode: ping a1 -> c1 (out, and its reply established)" \
		q_host a1 ping -c 2 -i 0.2 -W 2 $RT_C1
	check "$mode: TCP a1 -> c1" rt_tcp a1 c1 $RT_C1
	check "$mode: ping c1 -> a1 refused (unsolicited, in)" \
		bash -c "! ip netns exec $(rt_ns c1) ping -c 1 -W 1 $RT_A1 >/dev/null 2>&1"
	check "$mode: TCP c1 -> a1 refused (unsolicited SYN)" tcp_refused
	check "$mode: ping a1 -> b1 (not through fw1)" \
		q_host a1 ping -c 1 -W 2 $RT_B1
	n=$(nfctl -j fw1 show stats | jq -r '.stats.packets.default_dropped // .packets.default_dropped // 0')
	check "$mode: fw1 counted default drops ($n)" [ "${n:-0}" -ge 1 ]

	# A flow whose packets cross CPUs: each CPU's flow-cache slot holds
	# what it gathered until the slot syncs (for good, once the flow
	# ends); conntrack show adds it. One datagram answered (the flow
	# is then cached), then 5 from CPU 0 and 7 from the last CPU.
	ip netns exec "$(rt_ns c1)" timeout 20 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'$RT_C1'", 5399))
d, a = s.recvfrom(200)
s.sendto(d, a)' &
	ep=$!
	sleep 0.5
	in_host a1 timeout 20 python3 -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'$RT_A1'", 40111))
s.settimeout(5)
s.sendto(b"x" * 100, ("'$RT_C1'", 5399))
s.recvfrom(200)
for cpu, n in ((0, 5), (os.cpu_count() - 1, 7)):
    os.sched_setaffinity(0, {cpu})
    for _ in range(n):
        s.sendto(b"x" * 100, ("'$RT_C1'", 5399))'
	wait $ep
	po=$(nfctl -j fw1 conntrack show |
		jq '[.[] | select(.proto == "udp" and .dport == 5399) | .packets_orig] | add // 0')
	check "$mode: 13 datagrams, 12 of them from two CPUs after the answer: conntrack counts 13 ($po)" \
		[ "$po" = 13 ]

	# A rule set replaced under a running iperf3.
	f=/tmp/nfc-fw-$NFC_ID.txt
	{
		echo "10 action=accept state=established,related"
		echo "20 action=accept dir=out"
		for i in $(seq 100 1099); do
			echo "$i action=drop dir=in src=198.51.100.$((i % 200))/32 proto=udp dport=$i"
		done
	} >"$f"
	in_host c1 iperf3 -s -1 -D >/dev/null 2>&1
	sleep 0.5
	in_host a1 iperf3 -c $RT_C1 -t 4 -J >/tmp/nfc-fw-ip-$NFC_ID.json 2>&1 &
	ipid=$!
	sleep 1.5
	check "$mode: 1,002 rules imported (--replace) under iperf3" \
		nfctl fw1 rules import --replace -f "$f"
	wait $ipid
	rc=$?
	bytes=$(jq -r '.end.sum_received.bytes // 0' /tmp/nfc-fw-ip-$NFC_ID.json 2>/dev/null)
	check "$mode: iperf3 a1 -> c1 finished across the replace (rc $rc, ${bytes:-0} bytes)" \
		[ "$rc" = 0 ] && check "$mode: iperf3 a1 -> c1 finished across the replace (rc $rc, ${bytes:-0} bytes)" [ "${bytes:-0}" -gt 0 ]
	rm -f "$f" /tmp/nfc-fw-ip-$NFC_ID.json
	n=$(nfctl -j fw1 rules show | jq length)
	check "$mode: rules show lists 1,002 rules ($n)" [ "$n" = 1002 ]
	nfc_slowpath_stop
	nfctl reset >/dev/null
done
nfc_done
