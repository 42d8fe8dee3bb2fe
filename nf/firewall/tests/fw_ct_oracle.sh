#!/usr/bin/env bash
# The firewall's connection tracking against Linux's: the same crafted
# packets (ct_oracle.py: ICMP echo both ways, a TCP connection and stray
# segments on it, UDP, tcp_loose pickups), in the same order, through
#   - nfchain: forwarder f1 between hosts A and B, firewall fw1 on f1:p2
#     (default=drop conntrack=on; 10 accept state=established,related;
#     15 drop state=invalid; 20 accept dir=out), in TC and XDP;
#   - Linux: router LR between hosts LA and LB, an nftables forward chain
#     (policy drop; ct state established,related accept; ct state
#     invalid drop; iifname ra accept), its conntrack as the oracle.
# Each packet must pass or be dropped in both alike. Found by a helper
# (2026-12-07): an echo request from outside with the id of an inside
# host's ping, a bare SYN from the server's side of an established
# connection, and the ACK after a FIN-ACK picked up by tcp_loose all
# passed the firewall; Linux drops the three.
. "$(dirname "$0")/../../../tests/lib.sh"
nfc_setup
nfc_two_hosts
PY=/usr/bin/python3 # scapy is Debian's, not a pyenv's
NFC_TMP=$(mktemp -d /tmp/nfc-ctor.XXXXXX)
trap 'rm -rf "$NFC_TMP"; nfc_cleanup' EXIT
ORACLE=$(dirname "$0")/ct_oracle.py

mac_of() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }

# The Linux world.
LA=$(nfc_ns la)
LR=$(nfc_ns lr)
LB=$(nfc_ns lb)
for side in a b; do
	h=$([ $side = a ] && echo "$LA" || echo "$LB")
	ip link add r$side netns "$LR" type veth peer name eth0 netns "$h"
	nfc_ipv6_quiet "$LR" r$side
	nfc_ipv6_quiet "$h" eth0
	ip -n "$LR" link set r$side up
	ip -n "$h" link set eth0 up
done
ip -n "$LR" addr add 198.51.100.33/28 dev ra
ip -n "$LR" addr add 198.51.100.49/28 dev rb
ip -n "$LR" addr add 2001:db8:40::1/64 dev ra nodad
ip -n "$LR" addr add 2001:db8:50::1/64 dev rb nodad
ip netns exec "$LR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n "$LR" neigh add 198.51.100.40 lladdr "$(mac_of "$LA" eth0)" dev ra nud permanent
ip -n "$LR" neigh add 198.51.100.50 lladdr "$(mac_of "$LB" eth0)" dev rb nud permanent
ip -n "$LR" neigh add 2001:db8:40::40 lladdr "$(mac_of "$LA" eth0)" dev ra nud permanent
ip -n "$LR" neigh add 2001:db8:50::50 lladdr "$(mac_of "$LB" eth0)" dev rb nud permanent
ip netns exec "$LR" nft -f - <<'EOF'
table inet t {
	chain fw {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "ra" accept
	}
}
EOF
# Linux's default is loose; the firewall's is not: the same until the
# sequence turns it on in both.
ip netns exec "$LR" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 ||
	{ not_ok "Linux router LR with nftables and conntrack"; exit 1; }
$PY "$ORACLE" "$LA" "$LB" "$(mac_of "$LR" rb)" "$(mac_of "$LR" ra)" \
	"ip netns exec $LR sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1" \
	>"$NFC_TMP/linux" 2>"$NFC_TMP/linux.err"
check "Linux's verdicts ($(wc -l <"$NFC_TMP/linux") packets)" \
	[ "$(wc -l <"$NFC_TMP/linux")" -ge 20 ]
sed 's/^/# linux: /' "$NFC_TMP/linux" "$NFC_TMP/linux.err"

for mode in tc xdp; do
	if ! { nfctl forwarder add f1 mode=$mode &&
		nfctl f1 ports add p1 peer=$VA &&
		nfctl f1 ports add p2 peer=$VB &&
		nfctl firewall add fw1 mode=$mode default=drop conntrack=on &&
		nfctl attach fw1 f1:p2 direction=both &&
		nfctl fw1 rules add 10 action=accept state=established,related &&
		nfctl fw1 rules add 15 action=drop state=invalid &&
		nfctl fw1 rules add 20 action=accept dir=out; } >/dev/null; then
		not_ok "$mode: set up f1 and fw1"
		nfctl reset >/dev/null
		continue
	fi
	$PY "$ORACLE" "$A" "$B" "$(mac_of "$A" eth0)" "$(mac_of "$B" eth0)" \
		"$NFC_BIN/nfctl --pin-root $NFC_PIN fw1 set tcp_loose=true" \
		>"$NFC_TMP/ours" 2>"$NFC_TMP/ours.err"
	sed 's/^/# ours: /' "$NFC_TMP/ours.err"
	nfctl fw1 conntrack show | sed 's/^/# /'
	nfctl -j fw1 show | jq -c .config | sed 's/^/# /'
	while read -r n rest; do
		want=$(sed -n "s/^$n .* \(pass\|drop\)$/\1/p" "$NFC_TMP/linux")
		got=${rest##* }
		check "$mode: $n ${rest% *}: $got, Linux: ${want:-?}" [ "$got" = "$want" ]
	done <"$NFC_TMP/ours"
	check "$mode: as many packets as Linux's run" \
		[ "$(wc -l <"$NFC_TMP/ours")" = "$(wc -l <"$NFC_TMP/linux")" ]
	nfctl reset >/dev/null
done
nfc_done
