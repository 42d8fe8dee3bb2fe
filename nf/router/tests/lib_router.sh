# Topology and probes shared by the router's namespace tests (sourced after
# tests/lib.sh; the runner skips lib*.sh files).
#
#   a1 ── A 198.51.100.0/26 ──┐
#   b1 ── B 198.51.100.64/26 ─┤ r1 ── L 203.0.113.64/29 ── r2 ── D 203.0.113.128/26 ── d1
#   c1 ── C 203.0.113.0/26 ───┘
#   (E 198.51.100.192/26: hosts behind a bridge NF on r1, when the bridge exists)
#
# Router addresses are the first of each subnet (r1 .1/.65/.1/.65 on A/B/C/L,
# r2 .66 on L and .129 on D); hosts the second (a1 .2, b1 .66, c1 .2, d1 .130).
# Nothing routes 203.0.113.192/26 (net unreachable) and nobody is
# 198.51.100.70 (host unreachable).

RT_A1=198.51.100.2 RT_B1=198.51.100.66 RT_C1=203.0.113.2 RT_D1=203.0.113.130
RT_NONET=203.0.113.200 RT_NOHOST=198.51.100.70

# A host's namespace (nfc_ns names it so; nfc_cleanup removes it).
rt_ns() { echo "nt$NFC_ID-$1"; }

# A host: namespace NAME, eth0 with ADDR, default route via GW, its veth's
# other end named ROOTIF in the root namespace (a router port's peer).
rt_host() { # name addr/len gw rootif
	nfc_ns "$1" >/dev/null
	nfc_host "$(rt_ns "$1")" eth0 "$2" "$4"
	ip -n "$(rt_ns "$1")" route add default via "$3"
}

# The four hosts around r1 and r2; their veths' root-side ends, the
# routers' ports' peers, are $PA $PB $PC (r1) and $PD (r2).
rt_hosts() {
	PA=ra$NFC_ID PB=rb$NFC_ID PC=rc$NFC_ID PD=rd$NFC_ID
	rt_host a1 198.51.100.2/26 198.51.100.1 "$PA"
	rt_host b1 198.51.100.66/26 198.51.100.65 "$PB"
	rt_host c1 203.0.113.2/26 203.0.113.1 "$PC"
	rt_host d1 203.0.113.130/26 203.0.113.129 "$PD"
}

# The same host wired to a kernel router namespace instead: the veth's
# other end is IF in namespace RNS, with address RADDR.
rt_khost() { # name addr/len gw rns if raddr/len
	local h
	nfc_ns "$1" >/dev/null
	h=$(rt_ns "$1")
	ip link add "$5" netns "$(rt_ns "$4")" type veth peer name eth0 netns "$h"
	ip -n "$h" link set eth0 up
	ip -n "$h" addr add "$2" dev eth0
	ip -n "$h" route add default via "$3"
	ip -n "$(rt_ns "$4")" link set "$5" up
	ip -n "$(rt_ns "$4")" addr add "$6" dev "$5"
	nfc_ipv6_quiet "$h" eth0
}

in_host() { local h=$1; shift; ip netns exec "$(rt_ns "$h")" "$@"; }
# The same, quiet (for check).
q_host() { in_host "$@" >/dev/null 2>&1; }

# One ping, as one line: "DST reply", "DST From SRC <ICMP error>", or
# "DST timeout".
# RT_PING_W: how long it waits (5 s; a probe for host unreachable waits
# for the router's ARP tries, rt_arp_wait).
rt_probe_ping() { # host dst [ttl]
	local out l
	out=$(in_host "$1" ping -n -c 1 -W "${RT_PING_W:-5}" ${3:+-t "$3"} "$2" 2>&1)
	if echo "$out" | grep -q " 1 received"; then
		echo "$2 reply"
	elif l=$(echo "$out" | grep -m1 -oE "From [0-9.]+ icmp_seq=[0-9]+ .*"); then
		echo "$2 $(echo "$l" | sed -E 's/icmp_seq=[0-9]+ //')"
	else
		echo "$2 timeout"
	fi
}

# Seconds a sender may wait for host unreachable from router $1: its
# arp_retries tries a second apart after the first (rt_tick.c, on the
# once-a-second tick), and 4 s for the slow path's tick phase and a
# loaded machine. The ICMP error ends the wait, so it costs nothing when
# it comes. A wait of 5 s left ~1 s and timed out under load.
rt_arp_wait() { # nf
	local n
	n=$(nfctl -j "$1" show | jq -r '.config.arp_retries // 3' 2>/dev/null)
	echo $(( ${n:-3} + 1 + 4 ))
}

# The same for IPv6: "DST reply", "DST From SRC <ICMPv6 error>" as ping
# prints it, or "DST timeout". [hops]: the hop limit. Waits 8 s: address
# unreachable comes after 3 solicitations a second apart, later on a
# loaded machine.
rt_probe_ping6() { # host dst [hops]
	local out l
	out=$(in_host "$1" ping -6 -n -c 1 -W 8 ${3:+-t "$3"} "$2" 2>&1)
	if echo "$out" | grep -q " 1 received"; then
		echo "$2 reply"
	elif l=$(echo "$out" | grep -m1 -oE "From [0-9a-f:]+ icmp_seq=[0-9]+ .*"); then
		echo "$2 $(echo "$l" | sed -E 's/icmp_seq=[0-9]+ //')"
	else
		echo "$2 timeout"
	fi
}

# An IPv6 address ADDR for a host made by rt_host or rt_khost (IPv6 is
# on there, quiet: tests/lib.sh nfc_host) and a default route via GW.
rt_host6() { # name addr/len gw
	nfc_ipv6_on "$(rt_ns "$1")" eth0 "$2"
	ip -n "$(rt_ns "$1")" -6 route add default via "$3"
}

# The hops of a traceroute, one per line: "N ADDR [!X]" or "N *".
rt_probe_trace() { # host dst
	in_host "$1" traceroute -n -q 1 -w 2 -N 1 -m 6 "$2" 2>/dev/null |
		tail -n +2 | sed -E 's/ +[0-9.]+ ms//g; s/^ +//; s/ +/ /g; s/ $//'
}

# A TCP transfer from host $1 to a listener on host $2 at $3.
rt_tcp() { nfc_tcp "$(rt_ns "$1")" "$(rt_ns "$2")" "$3"; }

# A counter of the router's slow path or fast path (show stats).
rt_stat() { # nf path.key
	nfctl -j "$1" show stats | jq -r ".$2"
}
