#!/usr/bin/env bash
# The bridge NF between namespace hosts, in each mode (xdp, xdp-generic,
# tc; BR_MODES to pick). One bridge, five ports:
#
#   h1 p1 ─┐                       access VLAN 10: 198.51.100.1
#   h2 p2 ─┤                       access VLAN 10: 198.51.100.2
#   h3 p3 ─┼── bridge              access VLAN 10: 198.51.100.3
#   h4 p4 ─┤                       access VLAN 20: 198.51.100.4 (same
#   h5 p5 ─┘                         subnet: only the VLAN keeps it apart)
#                                  trunk 10,20: raw tagged frames only
#
# (This kernel has no 802.1Q, CONFIG_VLAN_8021Q: a host cannot have VLAN
# subdevices, so h5 speaks in crafted frames, counted per VLAN.)
# Checked: pings and ARP; a broadcast reaches every other member of its
# VLAN exactly once, tagged on the trunk; unknown unicast is flooded, then
# once learned reaches only its port (host counts and port counters); a
# moved station is relearned; static entries win over learning; VLANs do
# not leak; aging removes an entry; TCP across.
. "$(dirname "$0")/lib-bridge.sh"
nfc_setup

mode_test() {
	local m=$1 t d br h1 h2 h3 h5 U V S p2 p3 d
	case $m in xdp) t=x d=a ;; xdp-generic) t=g d=b ;; tc) t=t d=c ;; esac
	br=br$t BR_TAG=$t
	HOSTNS=()
	br_host h1 "b$NFC_ID${t}1" 198.51.100.1/24
	br_host h2 "b$NFC_ID${t}2" 198.51.100.2/24
	br_host h3 "b$NFC_ID${t}3" 198.51.100.3/24
	br_host h4 "b$NFC_ID${t}4" 198.51.100.4/24
	br_host h5 "b$NFC_ID${t}5"
	nfctl bridge add $br mode="$m" || { not_ok "$m: bridge add"; return; }
	for i in 1 2 3; do nfctl $br ports add p$i peer="b$NFC_ID$t$i" vlan=10; done
	nfctl $br ports add p4 peer="b$NFC_ID${t}4" vlan=20
	nfctl $br ports add p5 peer="b$NFC_ID${t}5" mode=trunk allowed=10,20
	h1=$(hmac h1) h2=$(hmac h2) h3=$(hmac h3) h5=$(hmac h5)
	U=02:00:00:00:0$d:01 V=02:00:00:00:0$d:02 S=02:00:00:00:0$d:03

	# Crafted frames first, while the hosts are quiet: once they talk IP,
	# ARP (probes, unanswered requests) adds frames to the port counters.
	# A broadcast reaches every other member of its VLAN, exactly once.
	watch_start 0x88b5
	send h1 ff:ff:ff:ff:ff:ff "$h1" 0x88b5
	watch_end
	expect_seen "$m: broadcast from h1 reaches h2, h3, h5 (tagged 10) once, not h4" \
		"h1=0 h2=1 h3=1 h4=0 h5=1,vlan=10:1"
	watch_start 0x88b5
	send h5 ff:ff:ff:ff:ff:ff "$h5" 0x88b5 1 20
	watch_end
	expect_seen "$m: broadcast tagged 20 from the trunk reaches h4 only, untagged" \
		"h1=0 h2=0 h3=0 h4=1,vlan=0:1 h5=0"

	# Unknown unicast is flooded in its VLAN ...
	p2=$(port_tx $br p2) p3=$(port_tx $br p3)
	watch_start 0x88b6
	send h1 "$U" "$h1" 0x88b6
	watch_end
	expect_seen "$m: unknown unicast is flooded to VLAN 10" \
		"h2=1 h3=1 h4=0 h5=1,vlan=10:1"
	d="$(($(port_tx $br p2) - p2)) $(($(port_tx $br p3) - p3))"
	check "$m: ... port counters: p2 and p3 sent one each ($d)" [ "$d" = "1 1" ]
	# ... then learned from a frame of U behind p3, reaches p3 only.
	send h3 "$h1" "$U" 0x88b7
	check "$m: U learned on p3" [ "$(fdb_port $br "$U" 10)" = "p3 learned" ]
	p2=$(port_tx $br p2) p3=$(port_tx $br p3)
	watch_start 0x88b6
	send h1 "$U" "$h1" 0x88b6 3
	watch_end
	expect_seen "$m: learned unicast reaches h3 only" "h2=0 h3=3 h4=0 h5=0"
	d="$(($(port_tx $br p2) - p2)) $(($(port_tx $br p3) - p3))"
	check "$m: ... port counters: p2 sent none, p3 three ($d)" [ "$d" = "0 3" ]

	# A station that moves is relearned at once.
	send h2 "$h1" "$U" 0x88b7
	check "$m: U moved to p2 is relearned there" \
		[ "$(fdb_port $br "$U" 10)" = "p2 learned" ]
	watch_start 0x88b6
	send h1 "$U" "$h1" 0x88b6
	watch_end
	expect_seen "$m: ... and reached there only" "h2=1 h3=0 h5=0"
	check "$m: ... counted as a move" [ "$(br_stat $br moved)" -ge 1 ]

	# The trunk: tagged frames in, VLAN kept.
	watch_start 0x88b8
	send h5 "$h1" "$h5" 0x88b8 1 10
	watch_end
	expect_seen "$m: tagged 10 from the trunk to h1 arrives untagged" \
		"h1=1,vlan=0:1 h2=0 h4=0"
	watch_start 0x88b8
	send h1 "$h5" "$h1" 0x88b8
	watch_end
	expect_seen "$m: h1 to the trunk station arrives tagged 10" \
		"h5=1,vlan=10:1 h2=0 h3=0"
	watch_start 0x88b8
	send h5 "$h1" "$h5" 0x88b8 1 30
	watch_end
	expect_seen "$m: VLAN 30, not allowed on the trunk, is dropped" "h1=0 h2=0 h3=0 h4=0"

	# Static entries win: over a learned entry, and learning never
	# overwrites them; a frame from a static MAC on another port is
	# dropped.
	nfctl $br fdb add "$U" port=p3 vlan=10
	check "$m: static U on p3 replaces the learned one" \
		[ "$(fdb_port $br "$U" 10)" = "p3 static" ]
	watch_start 0x88b6
	send h1 "$U" "$h1" 0x88b6
	send h2 "$h1" "$U" 0x88b7 # a station claiming U on p2
	send h1 "$U" "$h1" 0x88b6
	watch_end
	expect_seen "$m: unicast to static U reaches p3 only, before and after" \
		"h2=0 h3=2 h5=0"
	check "$m: U from p2 dropped, not learned" \
		[ "$(fdb_port $br "$U" 10)" = "p3 static" ]
	check "$m: ... counted" [ "$(br_stat $br drop_static_src)" -ge 1 ]
	nfctl $br fdb add "$S" port=p4 vlan=20
	watch_start 0x88b6
	send h1 "$S" "$h1" 0x88b6
	watch_end
	expect_seen "$m: a static entry in VLAN 20 is not reached from VLAN 10" \
		"h2=1 h3=1 h4=0 h5=1,vlan=10:1"

	# Pings, hence ARP.
	check "$m: h1 pings h2" pings h1 198.51.100.2
	check "$m: h1 pings h3" pings h1 198.51.100.3
	check "$m: h2 pings h3" pings h2 198.51.100.3
	check "$m: ARP: h1 has h2's MAC" \
		bash -c "ip -n ${HOSTNS[h1]} neigh show 198.51.100.2 | grep -q $h2"

	# VLAN 20 stays apart though on the same subnet.
	check "$m: h1 (VLAN 10) cannot reach h4 (VLAN 20)" \
		bash -c "! ip netns exec ${HOSTNS[h1]} ping -q -c1 -W1 198.51.100.4 >/dev/null"
	check "$m: h4 (VLAN 20) cannot reach h2 (VLAN 10)" \
		bash -c "! ip netns exec ${HOSTNS[h4]} ping -q -c1 -W1 198.51.100.2 >/dev/null"

	# IPv6 on h1 and h2 (the stack's MLD reports let settle first): the
	# neighbour solicitation h1 multicasts is flooded within VLAN 10 (h3,
	# the trunk tagged 10), never to VLAN 20 (h4); then ping -6 works.
	nfc_ipv6_on "${HOSTNS[h1]}" eth0 2001:db8:10::1/64
	nfc_ipv6_on "${HOSTNS[h2]}" eth0 2001:db8:10::2/64
	sleep 2.5
	watch_start 0x86dd 30 h3 h4 h5
	pings h1 2001:db8:10::2
	watch_end
	check "$m: IPv6 NDP flooded within VLAN 10: h3 saw it, h4 (VLAN 20) did not ($(seen h3), $(seen h4))" \
		[ "$(seen h3)" -ge 1 -a "$(seen h4)" = 0 ]
	check "$m: ... and the trunk, tagged 10 ($(seen_all h5))" \
		[ "$(seen_all h5 | grep -c 'vlan=10:')" = 1 ]
	check "$m: ping -6 h1 -> h2" pings h1 2001:db8:10::2
	check "$m: NDP: h1 has h2's MAC for 2001:db8:10::2" \
		bash -c "ip -n ${HOSTNS[h1]} -6 neigh show 2001:db8:10::2 | grep -q $h2"

	# TCP across.
	check "$m: TCP h1 -> h2 (iperf3)" tcp_ok h1 h2 198.51.100.2

	# A mode change keeps what the bridge learnt and counted (found by a
	# helper: the XDP object's own flood map made it a new NF, its FDB
	# and counters gone).
	local other rx0
	case $m in xdp) other=tc ;; *) other=xdp ;; esac
	rx0=$(br_rx $br)
	check "$m: h1 learned on p1 before a move to $other" \
		[ "$(fdb_port $br "$h1" 10)" = "p1 learned" ]
	check "$m: set mode=$other" set_mode $br $other
	check "$m: ... h1 is still learned on p1" [ "$(fdb_port $br "$h1" 10)" = "p1 learned" ]
	check "$m: ... rx_packets kept ($rx0, then $(br_rx $br))" [ "$(br_rx $br)" -ge "$rx0" -a "$rx0" -gt 0 ]
	check "$m: ... h1 pings h2 in $other" pings h1 198.51.100.2
	check "$m: set mode=$m again" set_mode $br $m

	# Aging: a short time, the slow path serving the tick.
	nfctl $br set aging=2
	send h2 "$h1" "$V" 0x88b7
	check "$m: V learned" [ "$(fdb_port $br "$V" 10)" = "p2 learned" ]
	nfc_slowpath_start "$BR_TMP/run.log"
	sleep 3.5
	nfc_slowpath_stop
	check "$m: V aged out of the FDB" [ -z "$(fdb_port $br "$V" 10)" ]
	check "$m: ... counted as aged" [ "$(br_stat $br aged)" -ge 1 ]
	watch_start 0x88b6
	send h1 "$V" "$h1" 0x88b6
	watch_end
	expect_seen "$m: ... and is flooded again" "h2=1 h3=1 h4=0"
	check "$m: static entries do not age" \
		[ "$(fdb_port $br "$U" 10)" = "p3 static" ]
	nfctl $br del
}

for m in ${BR_MODES:-xdp xdp-generic tc}; do
	mode_test "$m"
done
nfc_done
