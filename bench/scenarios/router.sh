# nfchain's router NF (nf/router) between the DUT's two veths, against
# kernel ip_forward with the same addresses and routes (linux-forward is
# the one-route counterpart; linux10k below the 10,000-route one).
#
#   DUT_IN 198.51.100.1/25 [router] DUT_OUT 203.0.113.1/25
#   203.0.113.128/25 via 203.0.113.2 (the sink, static ARP entry)
#
# Variants: xdp, generic (XDP generic), tc: one static route; xdp10k: the
# same plus 10,000 /29 routes in the benchmarking range 198.18.0.0/15
# (RFC 2544), loaded with `apply` (the traffic still takes the /25);
# linux10k: the kernel with the same 10,000 routes.
SCN_NEEDS="nfctl"
scn_variants() { echo xdp xdp10k generic tc linux10k; }
SCN_GROUP=nfchain
SCN_COUNTERPART=linux-forward
case $SCN_ARG in
xdp) SCN_DESC="nfchain router (XDP), 1 route" SCN_ORDER=40 ;;
xdp10k) SCN_DESC="nfchain router (XDP), 10,000 routes" SCN_ORDER=41
	SCN_COUNTERPART=router-linux10k ;;
generic) SCN_DESC="nfchain router (XDP generic), 1 route" SCN_ORDER=42 ;;
tc) SCN_DESC="nfchain router (TC), 1 route" SCN_ORDER=43 ;;
linux10k) SCN_DESC="kernel ip_forward, 10,000 routes" SCN_ORDER=12
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS= ;;
esac

# The 10,000 extra prefixes, one a line.
router_10k_prefixes() {
	local i a
	for ((i = 0; i < 10000; i++)); do
		a=$(((198 << 24 | 18 << 16) + 8 * i))
		echo "$((a >> 24)).$(((a >> 16) & 255)).$(((a >> 8) & 255)).$((a & 255))/29"
	done
}

router_nfc() { # mode [10k]
	local doc=$TMP/router-apply.json extra=$TMP/router-extra.json
	if [ -n "${2:-}" ]; then
		router_10k_prefixes | jq -R . | jq -s . >"$extra"
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
	generic) router_nfc xdp-generic ;;
	tc) router_nfc tc ;;
	linux10k)
		dut_router &&
			router_10k_prefixes | sed 's/^/route add /; s/$/ via 203.0.113.2/' |
			dut ip -batch -
		;;
	esac
}

scn_teardown() { [ "$SCN_ARG" = linux10k ] || nfc_reset; }
