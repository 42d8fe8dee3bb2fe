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

rt_ns() { echo "nt$NFC_ID-$1"; }

# Namespaces are also removed here: nfc_ns records them in a variable that
# a $(...) caller would lose.
rt_cleanup() {
	local n
	[ -n "${RT_RUNPID:-}" ] && kill "$RT_RUNPID" 2>/dev/null && wait "$RT_RUNPID" 2>/dev/null
	for n in $(ip netns list | awk '{print $1}'); do
		case $n in "nt$NFC_ID"-*) ip netns del "$n" 2>/dev/null ;; esac
	done
}
test_cleanup() { rt_cleanup; }

# A host: namespace NAME, eth0 with ADDR, default route via GW, its veth's
# other end named ROOTIF in the root namespace (a router port's peer).
rt_host() { # name addr/len gw rootif
	nfc_ns "$1" >/dev/null
	nfc_host "$(rt_ns "$1")" eth0 "$2" "$4"
	ip -n "$(rt_ns "$1")" route add default via "$3"
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
	ip netns exec "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

# Serve the slow path (ARP, ICMP errors) in the background.
rt_slowpath_start() {
	# The binary itself, not the nfctl function: $! must be its pid.
	"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" run 600 >"/tmp/nfc-rt-run-$NFC_ID.log" 2>&1 &
	RT_RUNPID=$!
	sleep 0.3
}
rt_slowpath_stop() {
	[ -n "${RT_RUNPID:-}" ] || return 0
	kill "$RT_RUNPID" 2>/dev/null
	wait "$RT_RUNPID" 2>/dev/null
	RT_RUNPID=
	rm -f "/tmp/nfc-rt-run-$NFC_ID.log"
}

in_host() { local h=$1; shift; ip netns exec "$(rt_ns "$h")" "$@"; }
# The same, quiet (for check).
q_host() { in_host "$@" >/dev/null 2>&1; }

# One ping, as one line: "DST reply", "DST From SRC <ICMP error>", or
# "DST timeout".
rt_probe_ping() { # host dst [ttl]
	local out l
	out=$(in_host "$1" ping -n -c 1 -W 5 ${3:+-t "$3"} "$2" 2>&1)
	if echo "$out" | grep -q " 1 received"; then
		echo "$2 reply"
	elif l=$(echo "$out" | grep -m1 -oE "From [0-9.]+ icmp_seq=[0-9]+ .*"); then
		echo "$2 $(echo "$l" | sed -E 's/icmp_seq=[0-9]+ //')"
	else
		echo "$2 timeout"
	fi
}

# The hops of a traceroute, one per line: "N ADDR [!X]" or "N *".
rt_probe_trace() { # host dst
	in_host "$1" traceroute -n -q 1 -w 2 -N 1 -m 6 "$2" 2>/dev/null |
		tail -n +2 | sed -E 's/ +[0-9.]+ ms//g; s/^ +//; s/ +/ /g; s/ $//'
}

# A TCP transfer from host $1 to a listener on host $2 at $3.
rt_tcp() { # from to addr
	local data got f=/tmp/nfc-rt-tcp-$NFC_ID
	data=$(head -c 30000 /dev/urandom | base64 -w0)
	local pid
	in_host "$2" timeout 5 nc -l -p 5001 >"$f" &
	pid=$!
	sleep 0.3
	echo "$data" | in_host "$1" timeout 5 nc -q 1 "$3" 5001
	wait "$pid" # not a bare wait: the slow path runs in the background
	got=$(cat "$f"); rm -f "$f"
	[ "$got" = "$data" ]
}

# A counter of the router's slow path or fast path (show stats).
rt_stat() { # nf path.key
	nfctl -j "$1" show stats | jq -r ".$2"
}
