# nfchain's lb NF (nf/lb), forward=dsr, on the DUT's ingress netdev in
# front of kernel ip_forward: one VIP (203.0.113.128:20000/udp, the
# generator's first destination) to 10 backends (203.0.113.140-149,
# routed to the sink), each frame sent on inside IPIP (20 bytes more),
# which the sink counts as ours. The DSR encapsulation's cost beside
# nfc-lb's NAT and nftables' DNAT (linux-nft-dnat), established flows or
# new ones (--new-flows):
# bench/run -f 64,1,16,1 linux-forward linux-nft-dnat nfc-lb nfc-lb-dsr.
SCN_GROUP=nfchain
SCN_NEEDS="nfctl"
SCN_COUNTERPART=linux-nft-dnat
SCN_ORDER=61

scn_variants() { echo xdp tc; }
SCN_DESC="nfchain lb DSR/IPIP ($SCN_ARG) + ip_forward, 10 backends"

scn_setup() {
	local b
	dut_router || return 1
	nfc lb add lb0 mode="$SCN_ARG" &&
		nfc attach lb0 "$DUT_IN" direction=ingress &&
		nfc lb0 services add 203.0.113.128:20000/udp forward=dsr || return 1
	for b in 140 141 142 143 144 145 146 147 148 149; do
		nfc lb0 backends add 203.0.113.128:20000/udp/203.0.113.$b || return 1
	done
}

scn_teardown() { nfc_reset; }
