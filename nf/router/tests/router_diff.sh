#!/usr/bin/env bash
# Differential test: the router NFs against the kernel. The same topology
# (lib_router.sh: a1, b1, c1 around r1; r2 behind r1 with d1; a static route
# each way) is built twice: once with r1 and r2 as router NFs (XDP), once
# with two Linux routers (ip_forward in namespaces of their own, the same
# addresses and routes). The same probes run in both worlds at the same
# time: pings (replies and ICMP errors, with their source), pings whose TTL
# runs out at each hop, traceroutes, in IPv4 and in IPv6 (dual-stack hosts:
# ping -6 replies and ICMPv6 errors, hop limit, neighbour discovery that
# fails, traceroute -6). Every probe must give the same line.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/lib_router.sh"
nfc_setup

# ---- the nfchain world ------------------------------------------------------
rt_hosts
hosts6() { # prefix: "" or "k"
	rt_host6 ${1}a1 2001:db8:1::2/64 2001:db8:1::1
	rt_host6 ${1}b1 2001:db8:2::2/64 2001:db8:2::1
	rt_host6 ${1}c1 2001:db8:3::2/64 2001:db8:3::1
	rt_host6 ${1}d1 2001:db8:d::2/64 2001:db8:d::1
}
hosts6 ""
if ! { nfctl router add r1 mode=xdp &&
	nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 ip6=2001:db8:1::1/64 &&
	nfctl r1 ports add p2 peer=$PB ip=198.51.100.65/26 ip6=2001:db8:2::1/64 &&
	nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 ip6=2001:db8:3::1/64 &&
	nfctl r1 ports add p4 ip=203.0.113.65/29 ip6=2001:db8:4::1/64 &&
	nfctl router add r2 mode=xdp &&
	nfctl r2 ports add q1 peer=r1:p4 ip=203.0.113.66/29 ip6=2001:db8:4::2/64 &&
	nfctl r2 ports add q2 peer=$PD ip=203.0.113.129/26 ip6=2001:db8:d::1/64 &&
	nfctl r1 routes add 203.0.113.128/26 nexthop=203.0.113.66 &&
	nfctl r1 routes add 2001:db8:d::/64 nexthop=2001:db8:4::2 &&
	nfctl r2 routes add 0.0.0.0/0 nexthop=203.0.113.65 &&
	nfctl r2 routes add ::/0 nexthop=2001:db8:4::1; }; then
	not_ok "set up the router NFs"
	exit 1
fi
nfc_slowpath_start /dev/null # ARP, ICMP errors

# ---- the kernel world ---------------------------------------------------------
kr() { # name: a router namespace
	nfc_ns "$1" >/dev/null
	ip netns exec "$(rt_ns "$1")" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip netns exec "$(rt_ns "$1")" sysctl -qw net.ipv6.icmp.ratelimit=0
	# No per-destination ICMP rate limit (the router NF's, icmp_rate 100
	# a second, does not bite here either). See the probes for the one
	# that cannot be turned off in a namespace.
	ip netns exec "$(rt_ns "$1")" sysctl -qw net.ipv4.icmp_ratelimit=0
}
kr kr1
kr kr2
rt_khost ka1 198.51.100.2/26 198.51.100.1 kr1 p1 198.51.100.1/26
rt_khost kb1 198.51.100.66/26 198.51.100.65 kr1 p2 198.51.100.65/26
rt_khost kc1 203.0.113.2/26 203.0.113.1 kr1 p3 203.0.113.1/26
rt_khost kd1 203.0.113.130/26 203.0.113.129 kr2 q2 203.0.113.129/26
ip link add p4 netns "$(rt_ns kr1)" type veth peer name q1 netns "$(rt_ns kr2)"
ip -n "$(rt_ns kr1)" link set p4 up
ip -n "$(rt_ns kr2)" link set q1 up
ip -n "$(rt_ns kr1)" addr add 203.0.113.65/29 dev p4
ip -n "$(rt_ns kr2)" addr add 203.0.113.66/29 dev q1
ip -n "$(rt_ns kr1)" route add 203.0.113.128/26 via 203.0.113.66
ip -n "$(rt_ns kr2)" route add default via 203.0.113.65
for a in "kr1 p1 2001:db8:1::1" "kr1 p2 2001:db8:2::1" "kr1 p3 2001:db8:3::1" \
	"kr1 p4 2001:db8:4::1" "kr2 q1 2001:db8:4::2" "kr2 q2 2001:db8:d::1"; do
	set -- $a
	ip -n "$(rt_ns $1)" addr add "$3/64" dev "$2" nodad
done
ip -n "$(rt_ns kr1)" -6 route add 2001:db8:d::/64 via 2001:db8:4::2
ip -n "$(rt_ns kr2)" -6 route add default via 2001:db8:4::1
hosts6 k

# ---- the probes -----------------------------------------------------------------
# Each prints "probe: result" lines; $1 is the host prefix ("" or "k").
probes() {
	local p=$1 d
	for d in $RT_B1 $RT_C1 $RT_D1 198.51.100.65 203.0.113.1 203.0.113.66 \
		$RT_NONET $RT_NOHOST 203.0.113.140; do
		# Host unreachable comes after the ARP tries (the router's
		# arp_retries, 3 by default: rt_arp_wait; the kernel's 3
		# solicitations): 5 s timed out under load.
		w=5
		[ "$d" = "$RT_NOHOST" ] && w=9
		echo "a1 ping $d: $(RT_PING_W=$w rt_probe_ping ${p}a1 $d)"
	done
	echo "a1 ping -t 1 $RT_D1: $(rt_probe_ping ${p}a1 $RT_D1 1)"
	echo "a1 ping -t 2 $RT_D1: $(rt_probe_ping ${p}a1 $RT_D1 2)"
	echo "d1 ping $RT_A1: $(rt_probe_ping ${p}d1 $RT_A1)"
	echo "d1 ping $RT_NONET: $(rt_probe_ping ${p}d1 $RT_NONET)"
	for d in $RT_C1 $RT_D1 203.0.113.66; do
		echo "a1 traceroute $d: $(rt_probe_trace ${p}a1 $d | paste -sd ';')"
	done
	# The kernel sends "no route" unreachables under a limit of its own
	# (route.error_cost, global: not settable in a namespace) whose tokens
	# every ICMP error to the same host resets: it would stay silent for a
	# second after the time-exceeded replies above.
	sleep 1.1
	echo "a1 traceroute $RT_NONET: $(rt_probe_trace ${p}a1 $RT_NONET | paste -sd ';')"
	echo "d1 traceroute $RT_B1: $(rt_probe_trace ${p}d1 $RT_B1 | paste -sd ';')"
	for d in 2001:db8:2::2 2001:db8:3::2 2001:db8:d::2 2001:db8:1::1 \
		2001:db8:3::1 2001:db8:4::2 2001:db8:99::1 2001:db8:3::99; do
		echo "a1 ping -6 $d: $(rt_probe_ping6 ${p}a1 $d)"
	done
	echo "a1 ping -6 -t 1 2001:db8:d::2: $(rt_probe_ping6 ${p}a1 2001:db8:d::2 1)"
	echo "a1 ping -6 -t 2 2001:db8:d::2: $(rt_probe_ping6 ${p}a1 2001:db8:d::2 2)"
	echo "d1 ping -6 2001:db8:1::2: $(rt_probe_ping6 ${p}d1 2001:db8:1::2)"
	for d in 2001:db8:3::2 2001:db8:d::2 2001:db8:3::1; do
		echo "a1 traceroute -6 $d: $(rt_probe_trace ${p}a1 $d | paste -sd ';')"
	done
}

out=/tmp/nfc-rt-diff-$NFC_ID
probes "" >"$out.nfc" 2>&1 &
p1=$!
probes k >"$out.linux" 2>&1 &
p2=$!
wait $p1 $p2

n=0
while IFS= read -r want <&3 && IFS= read -r got <&4; do
	n=$((n + 1))
	if [ "$want" = "$got" ]; then
		ok "same as the kernel: $got"
	else
		not_ok "differs from the kernel: router NF '$got', kernel '$want'"
	fi
done 3<"$out.linux" 4<"$out.nfc"
check "every probe compared ($n)" [ "$n" -eq 32 ]
# The kernel's answers are what the probes expect, not timeouts.
check "the kernel world answered every probe" sh -c "! grep -q 'timeout\|: $' '$out.linux'"
rm -f "$out.nfc" "$out.linux"
nfc_slowpath_stop
nfc_done
