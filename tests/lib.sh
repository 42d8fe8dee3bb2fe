# Shared helpers for namespace tests. Source it, then use:
#   nfc_setup               unique names, a private pin root, cleanup trap
#   nfc_ns NAME             create a namespace (removed on exit)
#   nfc_host NS IF ADDR/LEN [PEERIF]  veth pair: IF in NS with ADDR, the
#                           other end (PEERIF, default IF-r) in the root ns
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

nfc_cleanup() {
	local rc=$?
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

nfc_host() { # ns ifname addr/len [root-side name]
	local ns=$1 ifn=$2 addr=$3 peer=${4:-$2r}
	ip link add "$peer" type veth peer name "$ifn" netns "$ns"
	NFC_LINKS+=("$peer")
	# Keep IPv6 autoconf chatter out of packet counts: off before up.
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifn.disable_ipv6=1"
	sysctl -qw "net.ipv6.conf.$peer.disable_ipv6=1"
	ip link set "$peer" up
	ip -n "$ns" link set "$ifn" up
	[ -n "$addr" ] && ip -n "$ns" addr add "$addr" dev "$ifn"
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
