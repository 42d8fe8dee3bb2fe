#!/usr/bin/env bash
# The router NF with real traffic, in each of the three modes: three
# subnets of hosts around r1 (ping across every pair, the first ping to a
# host never seen, ping -6, traceroute, TCP, net and host unreachable), and a second
# router chained to r1 (static route, r1 -> r2 -> host). In XDP mode also:
# ICMP rate limiting, UDP to the router, and a bridge NF serving a subnet
# of several hosts when the bridge NF exists. Topology: lib_router.sh.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/lib_router.sh"
nfc_setup

rt_hosts
# Dual-stack a1 and c1 (the router's IPv6 in depth: router6.sh, XDP): a
# ping -6 across in every mode.
rt_host6 a1 2001:db8:1::2/64 2001:db8:1::1
rt_host6 c1 2001:db8:3::2/64 2001:db8:3::1
# Subnet E behind a bridge NF on r1, when this build has the bridge.
HAVE_BRIDGE=$(nfctl types | jq -r '[.[] | select(.name == "bridge")] | length')
if [ "$HAVE_BRIDGE" = 1 ]; then
	for i in 1 2 3; do
		rt_host e$i 198.51.100.$((193 + i))/26 198.51.100.193 "re$i$NFC_ID"
	done
fi

port_mac() { nfctl -j "$1" show ports | jq -r ".[] | select(.name==\"$2\") | .stats.mac"; }

expect_ping() { # name host dst expected-line
	local got
	got=$(rt_probe_ping "$2" "$3")
	if [ "$got" = "$4" ]; then ok "$1"; else not_ok "$1 (got '$got', want '$4')"; fi
}

expect_trace() { # name host dst expected-hops (one line, ';' between hops)
	local got
	got=$(rt_probe_trace "$2" "$3" | paste -sd ';')
	if [ "$got" = "$4" ]; then ok "$1"; else not_ok "$1 (got '$got', want '$4')"; fi
}

for mode in xdp xdp-generic tc; do
	for h in a1 b1 c1 d1; do ip -n "$(rt_ns $h)" neigh flush all; done
	if ! { nfctl router add r1 mode=$mode &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 ip6=2001:db8:1::1/64 &&
		nfctl r1 ports add p2 peer=$PB ip=198.51.100.65/26 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 ip6=2001:db8:3::1/64; }; then
		not_ok "$mode: set up r1"
		nfctl reset
		continue
	fi
	nfc_slowpath_start /dev/null # ARP, ICMP errors

	check "$mode: the first ping to a host never seen is answered (ARP queueing)" \
		q_host a1 ping -c 1 -W 3 $RT_C1
	q=$(rt_stat r1 slow_path.queue_sent)
	check "$mode: that ping waited in the ARP queue (queue_sent $q)" [ "${q:-0}" -ge 1 ]
	for pair in "a1 $RT_B1" "a1 $RT_C1" "b1 $RT_C1" "b1 $RT_A1" "c1 $RT_A1" "c1 $RT_B1"; do
		set -- $pair
		check "$mode: ping $1 -> $2" q_host "$1" ping -c 2 -i 0.2 -W 2 "$2"
	done
	check "$mode: ping -6 a1 -> c1 (NDP on both sides)" \
		q_host a1 ping -6 -c 2 -i 0.2 -W 3 2001:db8:3::2
	expect_trace "$mode: traceroute a1 -> c1 shows the router hop" a1 $RT_C1 \
		"1 198.51.100.1;2 203.0.113.2"
	check "$mode: TCP a1 -> c1" rt_tcp a1 c1 $RT_C1
	check "$mode: TCP c1 -> b1" rt_tcp c1 b1 $RT_B1
	expect_ping "$mode: no route: the sender sees net unreachable" a1 $RT_NONET \
		"$RT_NONET From 198.51.100.1 Destination Net Unreachable"
	RT_PING_W=$(rt_arp_wait r1) expect_ping \
		"$mode: ARP fails: the sender sees host unreachable" a1 $RT_NOHOST \
		"$RT_NOHOST From 198.51.100.1 Destination Host Unreachable"
	n=$(rt_stat r1 slow_path.arp_requests_sent)
	check "$mode: ARP was retried before giving up ($n requests)" [ "${n:-0}" -ge 4 ]
	check "$mode: ping the router's far address" q_host a1 ping -c 1 -W 2 203.0.113.1
	# (a helper) Echo replies went out whole past the port's mtu: the
	# fast path answers one of up to 512 bytes in place.
	if nfctl r1 ports p2 set mtu=300 >/dev/null; then
		f0=$(rt_stat r1 slow_path.fragmented)
		check "$mode: b1 pings r1 with 400 bytes, p2 has mtu=300" \
			q_host b1 ping -c 1 -W 3 -s 400 198.51.100.65
		f=$(rt_stat r1 slow_path.fragmented)
		check "$mode: ... r1's reply came in fragments ($f0 -> $f)" \
			[ "${f:-0}" -gt "${f0:-0}" ]
		nfctl r1 ports p2 set mtu= >/dev/null
	else
		not_ok "$mode: r1 ports p2 set mtu=300"
	fi

	# A second router behind r1: r1 p4 - L - r2 q1, r2 q2 - D - d1.
	if nfctl r1 ports add p4 ip=203.0.113.65/29 &&
		nfctl router add r2 mode=$mode &&
		nfctl r2 ports add q1 peer=r1:p4 ip=203.0.113.66/29 &&
		nfctl r2 ports add q2 peer=$PD ip=203.0.113.129/26 &&
		nfctl r1 routes add 203.0.113.128/26 nexthop=203.0.113.66 &&
		nfctl r2 routes add 0.0.0.0/0 nexthop=203.0.113.65; then
		check "$mode: router -> router: ping a1 -> d1" \
			q_host a1 ping -c 2 -i 0.2 -W 3 $RT_D1
		check "$mode: router -> router: TCP d1 -> a1" rt_tcp d1 a1 $RT_A1
		expect_trace "$mode: router -> router: traceroute a1 -> d1" a1 $RT_D1 \
			"1 198.51.100.1;2 203.0.113.66;3 203.0.113.130"
	else
		not_ok "$mode: set up r2"
	fi

	if [ "$HAVE_BRIDGE" = 1 ]; then
		for h in e1 e2 e3; do ip -n "$(rt_ns $h)" neigh flush all; done
		if nfctl r1 ports add p5 ip=198.51.100.193/26 &&
			nfctl bridge add br mode=$mode &&
			nfctl br ports add up peer=r1:p5 &&
			nfctl br ports add e1 peer=re1$NFC_ID &&
			nfctl br ports add e2 peer=re2$NFC_ID &&
			nfctl br ports add e3 peer=re3$NFC_ID; then
			for i in 1 2 3; do
				check "$mode: bridge on a router port: ping a1 -> e$i" \
					q_host a1 ping -c 2 -i 0.2 -W 3 198.51.100.$((193 + i))
			done
			check "$mode: bridge on a router port: ping e2 -> c1" \
				q_host e2 ping -c 2 -i 0.2 -W 3 $RT_C1
			check "$mode: bridge on a router port: TCP e3 -> b1" rt_tcp e3 b1 $RT_B1
		else
			not_ok "$mode: set up the bridge on r1"
		fi
	fi

	if [ $mode = xdp ]; then
		# Rate limit: 5 a second; 40 packets whose TTL runs out at r1.
		nfctl r1 set icmp_rate=5
		n=$(in_host a1 ping -n -c 40 -i 0.01 -t 1 -W 1 $RT_C1 2>&1 | grep -c "Time to live exceeded")
		l=$(rt_stat r1 slow_path.icmp_rate_limited)
		check "$mode: ICMP errors are rate-limited ($n of 40 answered, $l held back)" \
			test "$n" -ge 1 -a "$n" -le 10 -a "${l:-0}" -ge 30
		nfctl r1 set icmp_rate=100
		expect_trace "$mode: UDP to the router: port unreachable from it" a1 203.0.113.1 \
			"1 203.0.113.1"
		# State in pinned maps: a new process lists what the last learnt.
		l=$(nfctl r1 show arp | jq -r '.[] | select(.state=="reachable") | .address' | paste -sd ' ')
		all=1
		for a in $RT_A1 $RT_B1 $RT_C1 203.0.113.66; do
			case " $l " in *" $a "*) ;; *) all=0 ;; esac
		done
		check "$mode: arp show lists the learnt neighbours ($l)" [ $all = 1 ]
	fi
	nfc_slowpath_stop
	nfctl reset
done
nfc_done
