#!/usr/bin/env bash
# rtnetlink: a netdev that a port names goes away and comes back (a host
# restarted); nfchaind logs both and re-applies the desired state, so
# traffic flows again without anyone touching nfchain.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_hosts
nfd_start || { not_ok "nfchaind starts"; exit 1; }
nfc forwarder add fw0 && nfc fw0 ports add p1 peer="$NFD_IF1" &&
	nfc fw0 ports add p2 peer="$NFD_IF2"
check "ping through fw0" quiet ip netns exec "$NFD_H1" ping -c 2 -i 0.1 -W 1 198.51.100.2
before=$(export_state)

ip link del "$NFD_IF2"
sleep 0.5
check "the daemon logs the netdev going away" grep -q "event=netdev_gone netdev=$NFD_IF2" "$NFD_LOG"
check "the desired state still names it" [ "$(export_state)" = "$before" ]
# (a helper) while a netdev the state names is gone, an apply of the
# export itself was refused ("peer ... does not exist"), and so was the
# undo of a change that could not be saved, which stayed running.
out=$(nfc export | nfc apply -f - 2>&1)
check "an apply of the export meanwhile: no changes ($out)" [ "$out" = "no changes" ]
out=$(nfc export | jq -c '.nfs += [{"name":"c9","type":"counter"}]' | nfc apply -f - 2>&1)
check "an apply adding an NF meanwhile ($out)" quiet nfc c9 show
check "... fw0's port on the gone netdev kept" \
	[ "$(nfc -j fw0 show | jq -r '.ports[] | select(.name == "p2") | "\(.peer) \(.state)"')" = "$NFD_IF2 down" ]
out=$(nfc export | jq -c '.nfs += [{"name":"b9","type":"bridge","ports":[{"name":"p1","peer":"'"$NFD_IF2"'"}]}]' |
	nfc apply -f - 2>&1)
check "a new NF's port on the gone netdev: refused ($out)" grep -q "port p1 of b9: peer $NFD_IF2 does not exist" <<<"$out"
ip link add nfg$$a type veth peer name nfg$$b
quiet nfc attach c9 nfg$$a direction=ingress
ip link del nfg$$a
sleep 0.3
check "an attachment on a gone netdev: listed down" \
	[ "$(nfc -j show | jq -r '.attachments[] | select(.nf == "c9") | .state')" = down ]
out=$(nfc detach c9 nfg$$a 2>&1)
check "... and detached by its name ($out)" [ -z "$(nfc -j show | jq -r '.attachments[] | select(.nf == "c9")')" ]
quiet nfc c9 del
check "the state as it was" [ "$(export_state)" = "$before" ]

ip link add "$NFD_IF2" type veth peer name eth0 netns "$NFD_H2"
ip link set "$NFD_IF2" up
ip -n "$NFD_H2" link set eth0 up
ip -n "$NFD_H2" addr add 198.51.100.2/24 dev eth0
sysctl -qw "net.ipv6.conf.$NFD_IF2.disable_ipv6=1"
# The daemon lets a returning netdev settle for 1 s, then its 1 s tick
# re-applies: up to ~2 s, more on a loaded machine (seen: 3.3 s).
check "the daemon logs it coming back" log_has "event=netdev_back netdev=$NFD_IF2"
check "and re-applies the state" log_has "event=reapply reason=$NFD_IF2"
# The new veth has a new MAC: h1's neighbour entry for .2 is stale.
ip -n "$NFD_H1" neigh flush all
flows() { # up to 5 s: the new veth's peer and ARP settle
	for _ in $(seq 10); do
		ip netns exec "$NFD_H1" ping -c 1 -W 0.5 198.51.100.2 >/dev/null 2>&1 && return 0
		ip -n "$NFD_H1" neigh flush all
	done
	return 1
}
if flows; then
	ok "traffic flows again"
else
	not_ok "traffic flows again"
	grep -v "event=request" "$NFD_LOG" | sed "s/^/# /"
	nfc show | sed "s/^/# /"
	ip netns exec "$NFD_H2" ethtool -k eth0 | grep -i "generic-receive\|tx-checksumming" | sed "s/^/# /"
fi
check "the state is the same" [ "$(export_state)" = "$before" ]

# ---- boot before the netdev exists: the restore waits for it ----------------
# ... and runs meanwhile what does not need it: an NF of its own (r9), and
# fw0's port on the netdev that is there.
nfc router add r9
before=$(export_state)
nfd_stop
nfctl reset >/dev/null 2>&1
ip link del "$NFD_IF2"
nfd_start || not_ok "start while a named netdev is missing"
check "the restore failure is logged, naming the netdev" \
	grep -q "event=restore source=state.json.*$NFD_IF2" "$NFD_LOG"
out=$(api POST /v1/nfs '{"name":"x1","type":"forwarder"}')
check "changes are refused until the saved state runs (got ${out:0:80})" \
	[ "${out%% *}" = 409 ]
check "reads are served meanwhile" quiet nfc show
pending_shown() { nfc show | grep -q "^restore pending: .*$NFD_IF2"; }
check "show says the saved state waits, naming the netdev" pending_shown
check "... and that the rest runs meanwhile" sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' show | grep -q '^restore pending: .*not running whole.*what does not need $NFD_IF2 runs'"
port_json() { nfc -j show | jq -c ".nfs[] | select(.name == \"fw0\") | .ports[] | select(.name == \"$1\")"; }
check "an NF that needs no missing netdev runs: r9 is shown" \
	sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' -j show | jq -e '.nfs[] | select(.name == \"r9\")' >/dev/null"
check "fw0's port on the missing netdev is unconnected" \
	[ "$(port_json p2 | jq -r '.peer // "none"')" = none ]
rx0=$(port_json p1 | jq -r '.stats.rx_packets // 0')
ip netns exec "$NFD_H1" ping -c 3 -i 0.1 -W 0.3 198.51.100.2 >/dev/null 2>&1
rx1=$(port_json p1 | jq -r '.stats.rx_packets // 0')
check "fw0's port on the netdev that exists takes packets ($rx0 -> $rx1)" \
	[ "$rx1" -gt "$rx0" ]
# Found by a helper: export answered the empty state running, and that
# backup applied back ("No changes") overwrote state.json with nothing.
check "export meanwhile is the saved state, not the empty one running" \
	[ "$(export_state)" = "$before" ]
ip link add "$NFD_IF2" type veth peer name eth0 netns "$NFD_H2"
ip link set "$NFD_IF2" up
ip -n "$NFD_H2" link set eth0 up
ip -n "$NFD_H2" addr add 198.51.100.2/24 dev eth0
sysctl -qw "net.ipv6.conf.$NFD_IF2.disable_ipv6=1"
check "the saved state runs once the netdev appears" \
	log_has "event=restore source=state.json status=running"
check "restored: the state is the same" [ "$(export_state)" = "$before" ]
check "show no longer says a restore is pending" eval '! pending_shown'
ip -n "$NFD_H1" neigh flush all
check "restored: traffic flows" flows
out=$(api POST /v1/nfs '{"name":"x1","type":"forwarder"}')
check "changes are accepted again" [ "${out%% *}" = 201 ]
nfd_stop
check "nfchaind stops cleanly" [ $? = 0 ]
nfc_done
