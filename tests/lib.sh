# Shared helpers for namespace tests. Source it, then use:
#   nfc_setup               unique names, a private pin root, cleanup trap
#   nfc_ns NAME             create a namespace (removed on exit)
#   nfc_host NS IF ADDR/LEN [PEERIF]  veth pair: IF in NS with ADDR, the
#                           other end (PEERIF, default IF-r) in the root ns;
#                           IPv6 on in NS, quiet (NFC_IPV6=off: off)
#   nfc_two_hosts           hosts A (198.51.100.1, $A6 2001:db8::1) and B
#                           (.2, $B6 ::2) in namespaces $A and $B, their
#                           root-side veths $VA and $VB
#   nfc_ipv6_on NS IF ADDR  IPv6 on (if NFC_IPV6=off made it off) with ADDR
#   nfc_static_neigh        A and B know each other's MAC for good: no ARP
#                           nor NDP among the packets a test counts
#   nfc_tcp FROMNS TONS ADDR  a TCP transfer to a listener at ADDR in TONS;
#                           true if the content arrived whole
#   nfc_slowpath_start LOG / nfc_slowpath_stop  `nfctl run` in the
#                           background, its output in LOG
#   nfctl ARGS...           the library CLI on the test's own pin root
#   ok NAME / not_ok NAME   report a sub-test
#   check NAME CMD...       ok if CMD succeeds, else not ok
# Test hosts use 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 only.
set -u
: "${NFC_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${NFC_BIN:=$NFC_TOP/.output/bin}"
NFC_ID=${NFC_ID:-$$}
NFC_PIN=/sys/fs/bpf/nfc-t$NFC_ID
NFC_NSES=()
NFC_LINKS=()
NFC_FAILS=0
NFC_RUNPID=

nfc_cleanup() {
	local rc=$?
	nfc_slowpath_stop
	[ -n "$(type -t test_cleanup)" ] && test_cleanup
	if [ -d "$NFC_PIN" ]; then
		"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" reset >/dev/null 2>&1
		rm -rf "$NFC_PIN" 2>/dev/null
	fi
	for l in "${NFC_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
	# By name, not from NFC_NSES alone: `X=$(nfc_ns x)` registers in a
	# subshell, which the cleanup never sees.
	for n in "${NFC_NSES[@]}" $(ip netns list | awk -v p="nt$NFC_ID-" 'index($1, p) == 1 {print $1}'); do
		ip netns del "$n" 2>/dev/null
	done
	exit $rc
}

nfc_setup() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	trap nfc_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Short names: interface names are limited to 15 characters.
nfc_ns() {
	local n="nt$NFC_ID-$1"
	ip netns add "$n"
	ip -n "$n" link set lo up
	NFC_NSES+=("$n")
	echo "$n"
}

# IPv6 is on in test hosts (NFC_IPV6=off before nfc_host: off, for a test
# that must not see one IPv6 frame), in a quiet form: a link-local address
# at once (no duplicate address detection), no router solicitations, no
# router advertisements taken (a SLAAC test turns accept_ra on), and the
# MLD reports of the groups the stack joins repeated within a millisecond,
# so that they are over before the test's NFs are attached. After that
# nothing is sent unless the test sends IPv6. The root-side end is an NF's
# port, not a host: IPv6 stays off there, so that the root namespace's
# stack never puts a frame into what a test counts.
nfc_host() { # ns ifname addr/len [root-side name]
	local ns=$1 ifn=$2 addr=$3 peer=${4:-$2r}
	ip link add "$peer" type veth peer name "$ifn" netns "$ns"
	NFC_LINKS+=("$peer")
	sysctl -qw "net.ipv6.conf.$peer.disable_ipv6=1"
	if [ "${NFC_IPV6:-on}" = off ]; then
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifn.disable_ipv6=1"
	else
		nfc_ipv6_quiet "$ns" "$ifn"
	fi
	ip link set "$peer" up
	ip -n "$ns" link set "$ifn" up
	[ -n "$addr" ] && ip -n "$ns" addr add "$addr" dev "$ifn"
}

# The quiet IPv6 settings of nfc_host on interface IF of namespace NS
# (before the link is up: they apply to its first addresses).
nfc_ipv6_quiet() { # ns if
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.accept_dad=0" \
		"net.ipv6.conf.$2.router_solicitations=0" \
		"net.ipv6.conf.$2.accept_ra=0" \
		"net.ipv6.conf.$2.mldv1_unsolicited_report_interval=1" \
		"net.ipv6.conf.$2.mldv2_unsolicited_report_interval=1" \
		"net.ipv6.conf.$2.disable_ipv6=0"
}

# IPv6 on for interface IF of namespace NS (for a host made with
# NFC_IPV6=off, or one made otherwise), with ADDR added (no duplicate
# address detection: usable at once; `replace`: a host that has ADDR
# already keeps it). Tests that count packets exactly turn it on after
# counting, or take differences after a moment: the stack sends MLD
# reports for the groups the new address joins.
nfc_ipv6_on() { # ns if addr/len
	nfc_ipv6_quiet "$1" "$2"
	ip -n "$1" addr replace "$3" dev "$2" nodad
}

# The two hosts most tests need, on one subnet: whatever connects VA and VB
# (an NF, a chain) is what the test is about.
nfc_two_hosts() {
	A=$(nfc_ns a)
	B=$(nfc_ns b)
	VA=va$NFC_ID
	VB=vb$NFC_ID
	nfc_host "$A" eth0 198.51.100.1/24 "$VA"
	nfc_host "$B" eth0 198.51.100.2/24 "$VB"
	A6=2001:db8::1 B6=2001:db8::2
	if [ "${NFC_IPV6:-on}" != off ]; then
		ip -n "$A" addr add $A6/64 dev eth0 nodad
		ip -n "$B" addr add $B6/64 dev eth0 nodad
		sleep 0.2 # the MLD reports for the new addresses, over at once
	fi
}

nfc_static_neigh() {
	local macA macB
	macA=$(ip -n "$A" -j link show eth0 | jq -r '.[0].address')
	macB=$(ip -n "$B" -j link show eth0 | jq -r '.[0].address')
	ip -n "$A" neigh add 198.51.100.2 lladdr "$macB" dev eth0 nud permanent
	ip -n "$B" neigh add 198.51.100.1 lladdr "$macA" dev eth0 nud permanent
	[ "${NFC_IPV6:-on}" = off ] && return
	ip -n "$A" neigh add $B6 lladdr "$macB" dev eth0 nud permanent
	ip -n "$B" neigh add $A6 lladdr "$macA" dev eth0 nud permanent
}

nfc_tcp() { # from-ns to-ns addr
	local data got pid f=/tmp/nfc-tcp-$NFC_ID
	data=$(head -c 30000 /dev/urandom | base64 -w0)
	ip netns exec "$2" timeout 5 nc -l -p 5001 >"$f" &
	pid=$!
	sleep 0.3
	echo "$data" | ip netns exec "$1" timeout 5 nc -q 1 "$3" 5001
	wait "$pid" # not a bare wait: a slow path may run in the background
	got=$(cat "$f")
	rm -f "$f"
	[ "$got" = "$data" ]
}

nfc_slowpath_start() { # log [seconds]
	# The binary itself, not the nfctl function: a function in the
	# background is a subshell, and killing it would leave nfctl running.
	"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" run "${2:-600}" >"$1" 2>&1 &
	NFC_RUNPID=$!
	sleep 0.3
}

nfc_slowpath_stop() {
	[ -n "$NFC_RUNPID" ] || return 0
	kill "$NFC_RUNPID" 2>/dev/null
	wait "$NFC_RUNPID" 2>/dev/null
	NFC_RUNPID=
}

nfctl() { "$NFC_BIN/nfctl" --pin-root "$NFC_PIN" "$@"; }

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; NFC_FAILS=$((NFC_FAILS + 1)); }
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
nfc_done() { [ "$NFC_FAILS" = 0 ]; }
# refused PATTERN CMD...: CMD fails and its stderr matches PATTERN (grep -E).
refused() {
	local pat=$1 err; shift
	if err=$("$@" 2>&1 >/dev/null); then
		echo "  expected a refusal, got success: $*" >&2; return 1
	fi
	echo "$err" | grep -Eq -- "$pat" || { echo "  error was: $err" >&2; return 1; }
}
