#!/usr/bin/env bash
# The bridge in a chain: a router NF on one of its ports. ARP broadcasts
# from the hosts must reach the router (the flood's copy for an NF port:
# slow path in XDP when netdev ports need copies too, a tail call in TC),
# and routed traffic crosses the bridge both ways. In each mode
# (BR_MODES).
#
#   h1 198.51.100.2 ─┐
#                    ├─ br ── pr ═══ p1 r1 p2 ─── w 203.0.113.2
#   h2 198.51.100.3 ─┘        198.51.100.1/26  203.0.113.1/26
. "$(dirname "$0")/lib-bridge.sh"
nfc_setup

if ! nfctl types | jq -e '.[] | select(.name == "router")' >/dev/null 2>&1; then
	echo "no router NF type in this build"
	exit 77
fi

chain_test() {
	local m=$1 t err
	case $m in xdp) t=x ;; xdp-generic) t=g ;; tc) t=t ;; esac
	BR_TAG=$t
	HOSTNS=()
	br_host h1 "b$NFC_ID${t}1" 198.51.100.2/26
	br_host h2 "b$NFC_ID${t}2" 198.51.100.3/26
	br_host w "b$NFC_ID${t}3" 203.0.113.2/26
	hexec h1 ip route add default via 198.51.100.1
	hexec h2 ip route add default via 198.51.100.1
	hexec w ip route add default via 203.0.113.1
	if [ "$m" = xdp-generic ]; then
		# See trunk.sh: packet-out needs NAPI at veth peers.
		for a in h1 h2 w; do hexec $a ethtool -K eth0 gro on >/dev/null; done
	fi
	# The router is another NF's: if it cannot run in this mode, the
	# sub-test is skipped, not failed.
	if ! err=$(nfctl router add r$t mode="$m" 2>&1); then
		echo "# $m: skipped: the router NF does not load ($err)"
		return
	fi
	if ! { nfctl bridge add br$t mode="$m" &&
		nfctl br$t ports add p1 peer="b$NFC_ID${t}1" &&
		nfctl br$t ports add p2 peer="b$NFC_ID${t}2" &&
		nfctl br$t ports add pr &&
		nfctl r$t ports add p1 peer=br$t:pr ip=198.51.100.1/26 &&
		nfctl r$t ports add p2 peer="b$NFC_ID${t}3" ip=203.0.113.1/26; }; then
		not_ok "$m: set up bridge and router"
		nfctl reset
		return
	fi
	nfc_slowpath_start "$BR_TMP/run.log"
	check "$m: h1 pings the router (its ARP broadcast reached it)" \
		pings h1 198.51.100.1
	check "$m: h1 pings w across the router" \
		pings h1 203.0.113.2
	check "$m: w pings h2 across the router and the bridge" \
		pings w 198.51.100.3
	check "$m: TCP w -> h1" tcp_ok w h1 198.51.100.2
	check "$m: the router's MAC is learned on pr" \
		bash -c "nfctl() { \"$NFC_BIN/nfctl\" --pin-root \"$NFC_PIN\" \"\$@\"; };
			 nfctl br$t show fdb | jq -e '.[] | select(.port == \"pr\")' >/dev/null"
	nfc_slowpath_stop
	nfctl reset
}

for m in ${BR_MODES:-xdp xdp-generic tc}; do
	chain_test "$m"
done
nfc_done
