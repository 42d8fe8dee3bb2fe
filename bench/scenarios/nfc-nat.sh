# nfchain's nat NF (nf/nat) masquerading everything that leaves DUT_OUT
# (203.0.113.1), beside linux-nft-masq (nftables masquerade) on the same
# traffic. Variants: tc, kernel ip_forward with nat0 on DUT_OUT's TC egress
# (the same path as linux-nft-masq, the NAT in place of conntrack and
# nftables); router, nfchain's router (XDP) with nat0 on its outside port.
# Established flows (the default 1,024):
#   bench/run linux-forward linux-nft-masq nfc-nat-tc nfc-nat-router
# every frame a new connection (a new mapping):
#   bench/run --new-flows -n 100000 -f 30,8,1024,1 linux-nft-masq \
#       nfc-nat-tc nfc-nat-router
# (8 destinations: toward one, a NAT has 64,512 outside ports, fewer than
# such a run's flows, and refuses the rest.)
# The tables are sized for such a run (262,144 connections).
SCN_GROUP=nfchain
SCN_NEEDS="nfctl"
SCN_COUNTERPART=linux-nft-masq

scn_variants() { echo tc router; }
case $SCN_ARG in
tc) SCN_DESC="nfchain nat (TC egress) + ip_forward, masquerade" SCN_ORDER=62 ;;
router) SCN_DESC="nfchain router (XDP) + nat on its outside port" SCN_ORDER=63 ;;
esac

scn_setup() {
	case $SCN_ARG in
	tc)
		dut_router &&
			nfc nat add nat0 mode=tc conntrack_size=262144 &&
			nfc attach nat0 "$DUT_OUT" direction=egress
		;;
	router)
		jq -n --arg in "$DUT_IN" --arg out "$DUT_OUT" --arg sink "$SINK_MAC" \
			'{nfs: [{name: "rb", type: "router", mode: "xdp",
			  ports: [{name: "p1", peer: $in, config: {ip: "198.51.100.1/25"}},
				  {name: "p2", peer: $out, config: {ip: "203.0.113.1/25"}}],
			  collections: {arp: {"203.0.113.2": {mac: $sink}},
			    routes: {"203.0.113.128/25": {nexthop: "203.0.113.2"}}}}]}' |
			nfc apply -f - >/dev/null &&
			nfc nat add nat0 mode=xdp conntrack_size=262144 &&
			nfc attach nat0 rb:p2 direction=both
		;;
	esac && nfc nat0 rules add 10 type=masquerade src=198.51.100.0/24
}

scn_teardown() { nfc_reset; }
