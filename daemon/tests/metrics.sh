#!/usr/bin/env bash
# /metrics as a real client reads it: `promtool check metrics` (lint and
# parse) passes on a live daemon with every NF type present and traffic
# through all of them, and the page keeps Prometheus' conventions that
# promtool does not check: every family's samples together, a declared
# figure typed and explained by its NF type, a label rather than a metric
# per reason. Topology:
#   h1, h2 - br0 (p1, p2; pr) - r0 (p1 | p2) - fw0 (p1 | p2) - h3
#   cnt0 attached to fw0:p2; fw1, a second forwarder without ports; dd0
#   and flt0 attached nowhere.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup

if ! command -v promtool >/dev/null; then
	bash "$NFC_TOP/scripts/deps.sh" promtool >&2
fi
command -v promtool >/dev/null || {
	not_ok "promtool installed by scripts/deps.sh promtool"
	exit 1
}

H1=$(nfc_ns h1) H2=$(nfc_ns h2) H3=$(nfc_ns h3)
IF1=ma$NFC_ID IF2=mb$NFC_ID IF3=mc$NFC_ID
nfc_host "$H1" eth0 198.51.100.2/24 "$IF1"
nfc_host "$H2" eth0 198.51.100.3/24 "$IF2"
nfc_host "$H3" eth0 203.0.113.2/24 "$IF3"
ip -n "$H1" route add default via 198.51.100.1
ip -n "$H3" route add default via 203.0.113.1

nfd_start || { not_ok "nfchaind starts"; exit 1; }
if nfc bridge add br0 &&
	nfc br0 ports add p1 peer="$IF1" &&
	nfc br0 ports add p2 peer="$IF2" &&
	nfc br0 ports add pr &&
	nfc forwarder add fw0 &&
	nfc fw0 ports add p2 peer="$IF3" &&
	nfc fw0 ports add p1 &&
	nfc router add r0 &&
	nfc r0 ports add p1 peer=br0:pr ip=198.51.100.1/24 &&
	nfc r0 ports add p2 peer=fw0:p1 ip=203.0.113.1/24 &&
	nfc counter add cnt0 &&
	nfc attach cnt0 fw0:p2 direction=both &&
	nfc forwarder add fw1 &&
	nfc ddos add dd0 &&
	nfc filter add flt0 expr=udp; then
	ok "a bridge, a router, a forwarder and a counter on nfchaind"
else
	not_ok "set up the chain"
	exit 1
fi
check "ping h1 -> h2 across br0" \
	quiet ip netns exec "$H1" ping -c 2 -i 0.2 -W 2 -q 198.51.100.3
check "ping h1 -> h3 across br0, r0, fw0 and cnt0" \
	quiet ip netns exec "$H1" ping -c 3 -i 0.2 -W 3 -q 203.0.113.2
# Past the router's fast path: no route, answered from the slow path.
ip netns exec "$H1" ping -c 1 -W 1 -q 192.0.2.1 >/dev/null 2>&1

m=$NFD_DIR/metrics
curl -s --unix-socket "$NFD_SOCK" http://nfchaind/metrics >"$m"
if out=$(promtool check metrics <"$m" 2>&1); then
	ok "promtool check metrics accepts /metrics"
else
	not_ok "promtool check metrics: $out"
fi
check "promtool has nothing to say either" [ -z "$out" ]

# One family per name, its samples together under its HELP and TYPE.
fam_errors=$(awk '
	/^# HELP / { if ($3 in seen) print "second HELP for " $3; seen[$3] = 1; cur = $3; next }
	/^# TYPE / { if ($3 != cur) print "TYPE " $3 " not after its HELP"; type[$3] = $4; next }
	/^#/ { next }
	{
		n = $0; sub(/[{ ].*/, "", n)
		if (n != cur) print "sample " n " outside its family (" cur ")"
	}' "$m")
check "every family's samples follow its HELP and TYPE ($fam_errors)" [ -z "$fam_errors" ]

have() { # NAME PATTERN: a sample line matching PATTERN (grep -E)
	if grep -Eq "$2" "$m"; then ok "$1"; else not_ok "$1: no line '$2'"; fi
}
type_is() { # METRIC TYPE
	check "$1 is a $2" grep -qx "# TYPE $1 $2" "$m"
}
for nf in br0 r0 fw0; do
	have "port counters of $nf are non-zero" \
		"^nfchain_port_rx_packets_total\{nf=\"$nf\",port=\"p[12r]\"\} [1-9]"
done
have "NF-level sums of fw1, an NF without ports" '^nfchain_nf_rx_packets_total\{nf="fw1"\} 0$'
have "bridge: stations learned" '^nfchain_nf_learned_total\{nf="br0"\} [1-9]'
have "bridge: FDB size" '^nfchain_nf_fdb_learned\{nf="br0"\} [1-9]'
type_is nfchain_nf_fdb_learned gauge
type_is nfchain_nf_fdb_static gauge
type_is nfchain_nf_learned_total counter
have "bridge: its drops, one metric with a reason label" \
	'^nfchain_nf_dropped_total\{nf="br0",reason="hairpin"\} [0-9]+$'
check "bridge: no metric a drop reason" \
	bash -c "! grep -q '^nfchain_nf_drop_' '$m'"
# (a helper) the ddos NF's drops by reason came with a label `key`, not
# its declared `reason`, under the HELP of another type's figure.
have "ddos: drops by reason, its declared label" \
	'^nfchain_nf_dropped_total\{nf="dd0",reason="blocklist"\} 0$'
# (a helper) that figure was named `drops` and took the place of the
# framework's total of the NF's ports: one metric had {nf} and {nf,reason}
# series, dd0 had no total, and its JSON `drops` was an object.
have "ddos: the framework's drop total of dd0 too" \
	'^nfchain_nf_drops_total\{nf="dd0"\} [0-9]+$'
check "no drops_total series with a reason label" \
	bash -c "! grep -q '^nfchain_nf_drops_total{.*reason=' '$m'"
check "ddos: no sample labelled key" bash -c "! grep -q 'nf=\"dd0\",key=' '$m'"
check "ddos: stats.drops a number, stats.dropped by reason" \
	bash -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' -j dd0 show stats |
		jq -e '.stats | (.drops | type) == \"number\" and (.dropped.blocklist | type) == \"number\"'"
# (a helper) the top talkers, a list, were left out of the text view with
# the JSON-only figures; a list is no metric either.
check "ddos: show stats (text) has its top_talkers row" \
	bash -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' dd0 show stats | grep -q '^top_talkers '"
check "ddos: top_talkers is no metric" bash -c "! grep -q 'top_talkers' '$m'"
check "a family two types fill has a HELP of neither alone" \
	grep -q "^# HELP nfchain_nf_dropped_total figure 'dropped' of the NFs' stats" "$m"
have "router: fast path by reason, one metric with a reason label" \
	'^nfchain_nf_fast_path_total\{nf="r0",reason="[A-Z_]+"\} [1-9]'
have "router: slow path by event" \
	'^nfchain_nf_slow_path_total\{nf="r0",event="neigh_learnt"\} [1-9]'
have "counter: NF-level bytes" '^nfchain_nf_ingress_bytes_total\{nf="cnt0"\} [1-9]'
have "counter: per attachment, with a direction label" \
	'^nfchain_attachment_packets_total\{nf="cnt0",target="fw0:p2",direction="(ingress|egress)"\} [1-9]'
have "slow path events" '^nfchain_slow_path_events_total [1-9]'
have "slow path ring drops" '^nfchain_slow_path_ring_drops_total [0-9]'
type_is nfchain_drops_total counter
have "API requests by status" '^nfchain_api_requests_total\{code="201"\} [1-9]'
check "help of a bridge figure comes from the bridge's declaration" \
	grep -qx '# HELP nfchain_nf_moved_total stations relearned on another port (bridge)' "$m"
undeclared=$(grep '^# HELP nfchain_nf_.*not declared by its type' "$m")
check "every NF type declares its figures ($undeclared)" [ -z "$undeclared" ]
untyped=$(grep '^# TYPE .* untyped$' "$m")
check "no untyped family ($untyped)" [ -z "$untyped" ]

# (a helper) a frame the slow path sends (packet-out) out of a port with no
# peer: its drop was counted on NF 0's port of that number (br0's p1), not
# on the sender's. A router port given an ip6 sends two unsolicited NAs.
pdrops() { curl -s --unix-socket "$NFD_SOCK" http://x/metrics |
	sed -n "s/^nfchain_port_drops_total{nf=\"$1\",port=\"p1\"} //p"; }
b0=$(pdrops br0)
quiet nfc router add rd && quiet nfc rd ports add p1 ip=198.51.100.225/28 ip6=2001:db8:7:1::1/64
for _ in $(seq 30); do [ "$(pdrops rd)" = 2 ] && break; sleep 0.1; done
check "the router's NAs out of its unconnected port: dropped on rd's p1 ($(pdrops rd))" [ "$(pdrops rd)" = 2 ]
check "... not on br0's p1 (NF 0: $b0 -> $(pdrops br0))" [ "$(pdrops br0)" = "$b0" ]
quiet nfc rd del

nfd_stop
check "nfchaind stops cleanly on SIGTERM (exit 0, no leak report)" [ $? = 0 ]
nfc_done
