# nfchain's lb NF (nf/lb) on the DUT's ingress netdev in front of kernel
# ip_forward: one VIP (203.0.113.128:20000/udp, the generator's first
# destination) to 10 backends (203.0.113.140-149, routed to the sink),
# Maglev and the connection table. forward=nat here; nfc-lb-dsr.sh loads
# this file with LB_FWD=dsr (each frame sent on inside IPIP, 20 bytes
# more, which the sink counts as ours). The same path as linux-nft-dnat
# with the lb in place of nftables' DNAT; linux-forward is the path
# without either. For 1,024 flows to the one VIP:
# bench/run -f 64,1,16,1 linux-forward linux-nft-dnat nfc-lb nfc-lb-dsr;
# every frame a new flow (a new connection in the lb's tracker, as in
# nftables'): bench/run --new-flows -n 100000 -f 120,1,2048,1
# linux-nft-dnat nfc-lb nfc-lb-dsr; both in one table: bench/lb-table.
# NAT's tracker is sized for such a run (262,144 connections).
LB_SCN_FWD=${LB_FWD:-nat}
unset LB_FWD
SCN_GROUP=nfchain
SCN_NEEDS="nfctl"
SCN_COUNTERPART=linux-nft-dnat

scn_variants() { echo xdp tc; }
if [ "$LB_SCN_FWD" = dsr ]; then
	SCN_ORDER=61
	SCN_DESC="nfchain lb DSR/IPIP ($SCN_ARG) + ip_forward, 10 backends"
else
	SCN_ORDER=60
	SCN_DESC="nfchain lb NAT ($SCN_ARG) + ip_forward, 10 backends"
fi

scn_setup() {
	local b ct=
	[ "$LB_SCN_FWD" = nat ] && ct=conntrack_size=262144
	dut_router || return 1
	nfc lb add lb0 mode="$SCN_ARG" $ct &&
		nfc attach lb0 "$DUT_IN" direction=ingress &&
		nfc lb0 services add 203.0.113.128:20000/udp forward="$LB_SCN_FWD" || return 1
	for b in 140 141 142 143 144 145 146 147 148 149; do
		nfc lb0 backends add 203.0.113.128:20000/udp/203.0.113.$b || return 1
	done
}

scn_teardown() { nfc_reset; }
