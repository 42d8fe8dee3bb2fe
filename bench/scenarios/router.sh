# nfchain's router NF (nf/router) between the DUT's two veths, against
# kernel ip_forward with the same addresses and routes (linux-forward is
# the one-route counterpart; linux10k below the 10,000-route one).
#
#   DUT_IN 198.51.100.1/25 [router] DUT_OUT 203.0.113.1/25
#   203.0.113.128/25 via 203.0.113.2 (the sink, static ARP entry)
#
# Variants: xdp, generic (XDP generic), tc: one static route; xdp10k: the
# same plus 10,000 /29 routes in the benchmarking range 198.18.0.0/15
# (RFC 2544), loaded with `apply`, away from the traffic's /25: the FIB
# lookup stays shallow; xdp10kdense: 10,000 /30 routes packed around the
# traffic's destinations (203.0.0.0 up, 203.0.113.0/24 left out), so that
# the lookup goes down through them (route entries only: nothing is sent
# there); linux10k, linux10kdense: the kernel with the same routes.
#
# IPv6 (SCN_FAMILY=6: frames from 2001:db8:100::80+ to
# 2001:db8:8001:86a0::80+): xdp6, one route 2001:db8:8001:86a0::/64 via
# the sink's 2001:db8:113::2, beside linux-forward6; xdp6_100k and
# linux6_100k: the same among 100,000 /64s packed below it
# (2001:db8:8000:0::/64 up, NFCB_ROUTES6 overrides the count), so that
# the lookup walks through them. No slow path runs here: the sink is a
# static neighbour (arp), in IPv6 as in IPv4.
SCN_NEEDS="nfctl"
scn_variants() { echo xdp xdp10k xdp10kdense generic tc linux10k linux10kdense xdp6 xdp6_100k linux6_100k; }
SCN_GROUP=nfchain
SCN_COUNTERPART=linux-forward
case $SCN_ARG in
xdp) SCN_DESC="nfchain router (XDP), 1 route" SCN_ORDER=40 ;;
xdp10k) SCN_DESC="nfchain router (XDP), 10,000 routes" SCN_ORDER=41
	SCN_COUNTERPART=router-linux10k ;;
xdp10kdense) SCN_DESC="nfchain router (XDP), 10,000 routes around the traffic" SCN_ORDER=41
	SCN_COUNTERPART=router-linux10kdense ;;
generic) SCN_DESC="nfchain router (XDP generic), 1 route" SCN_ORDER=42 ;;
tc) SCN_DESC="nfchain router (TC), 1 route" SCN_ORDER=43 ;;
linux10k) SCN_DESC="kernel ip_forward, 10,000 routes" SCN_ORDER=12
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS= ;;
linux10kdense) SCN_DESC="kernel ip_forward, 10,000 routes around the traffic" SCN_ORDER=13
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS= ;;
xdp6) SCN_DESC="nfchain router (XDP), IPv6, 1 route" SCN_ORDER=44 SCN_FAMILY=6
	SCN_COUNTERPART=linux-forward6 ;;
xdp6_100k) SCN_DESC="nfchain router (XDP), IPv6, ${NFCB_ROUTES6:-100000} routes" SCN_ORDER=45
	SCN_FAMILY=6 SCN_COUNTERPART=router-linux6_100k ;;
linux6_100k) SCN_DESC="kernel IPv6 forwarding, ${NFCB_ROUTES6:-100000} routes" SCN_ORDER=16
	SCN_FAMILY=6 SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS= ;;
esac

# The IPv6 routes around the traffic: /64s from 2001:db8:8000:0::/64 up;
# the traffic's 2001:db8:8001:86a0::/64 is the 100,001st.
router6_prefixes() {
	awk -v n="${NFCB_ROUTES6:-100000}" 'BEGIN {
		for (i = 0; i < n; i++)	# canonical: no ":0::"
			if (i % 65536) printf "2001:db8:%x:%x::/64\n", 32768 + int(i / 65536), i % 65536
			else printf "2001:db8:%x::/64\n", 32768 + int(i / 65536) }'
}

router6_nfc() { # [100k]
	local doc=$TMP/router6-apply.json extra=$TMP/router6-extra.txt
	if [ -n "${1:-}" ]; then router6_prefixes >"$extra"; else : >"$extra"; fi
	jq -n --arg in "$DUT_IN" --arg out "$DUT_OUT" --arg sink "$SINK_MAC" \
		--rawfile extra "$extra" \
		'{nfs: [{name: "rb", type: "router", mode: "xdp",
		  ports: [{name: "p1", peer: $in, config: {ip6: "2001:db8:100::1/64"}},
			  {name: "p2", peer: $out, config: {ip6: "2001:db8:113::1/64"}}],
		  collections: {
		    arp: {"2001:db8:113::2": {mac: $sink}},
		    routes: ({"2001:db8:8001:86a0::/64": {nexthop: "2001:db8:113::2"}} +
			     ($extra | split("\n") | map(select(. != "")) |
			      map({key: ., value: {nexthop: "2001:db8:113::2"}}) | from_entries))}}]}' >"$doc" &&
		CMD_TIMEOUT=300 nfc apply -f - <"$doc" >/dev/null
}

# The 10,000 extra prefixes, one a line: spread (/29s in 198.18.0.0/15) or
# dense (/30s from 203.0.0.0 up, around the traffic's 203.0.113.128/25).
router_10k_prefixes() {
	local i a n=0
	if [ "${1:-}" = dense ]; then
		for ((i = 0; n < 10000; i++)); do
			a=$(((203 << 24) + 4 * i))
			[ $(((a >> 8) & 0xffff)) = 113 ] && continue
			echo "203.$(((a >> 16) & 255)).$(((a >> 8) & 255)).$((a & 255))/30"
			n=$((n + 1))
		done
		return
	fi
	for ((i = 0; i < 10000; i++)); do
		a=$(((198 << 24 | 18 << 16) + 8 * i))
		echo "$((a >> 24)).$(((a >> 16) & 255)).$(((a >> 8) & 255)).$((a & 255))/29"
	done
}

router_nfc() { # mode [10k|10kdense]
	local doc=$TMP/router-apply.json extra=$TMP/router-extra.json
	if [ -n "${2:-}" ]; then
		router_10k_prefixes ${2#10k} | jq -R . | jq -s . >"$extra"
	else
		echo '[]' >"$extra"
	fi
	jq -n --arg in "$DUT_IN" --arg out "$DUT_OUT" --arg mode "$1" \
		--arg sink "$SINK_MAC" --slurpfile extra "$extra" \
		'{nfs: [{name: "rb", type: "router", mode: $mode,
		  ports: [{name: "p1", peer: $in, config: {ip: "198.51.100.1/25"}},
			  {name: "p2", peer: $out, config: {ip: "203.0.113.1/25"}}],
		  collections: {
		    arp: {"203.0.113.2": {mac: $sink}},
		    routes: ({"203.0.113.128/25": {nexthop: "203.0.113.2"}} +
			     ($extra[0] | map({key: ., value: {nexthop: "203.0.113.2"}}) | from_entries))}}]}' >"$doc" &&
		nfc apply -f - <"$doc" >/dev/null
}

scn_setup() {
	case $SCN_ARG in
	xdp) router_nfc xdp ;;
	xdp10k) router_nfc xdp 10k ;;
	xdp10kdense) router_nfc xdp 10kdense ;;
	generic) router_nfc xdp-generic ;;
	tc) router_nfc tc ;;
	xdp6) router6_nfc ;;
	xdp6_100k) router6_nfc 100k ;;
	linux6_100k)
		dut_router6 &&
			router6_prefixes | sed 's/^/route add /; s/$/ via 2001:db8:113::2/' |
			dut ip -6 -batch - && dut_quiet
		;;
	linux10k | linux10kdense)
		dut_router &&
			router_10k_prefixes ${SCN_ARG#linux10k} |
			sed 's/^/route add /; s/$/ via 203.0.113.2/' | dut ip -batch -
		;;
	esac
}

scn_teardown() { case $SCN_ARG in linux*) ;; *) nfc_reset ;; esac; }
