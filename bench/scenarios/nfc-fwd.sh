# nfchain's forwarder in the modes other than native XDP (native is
# nfc-chain-1): XDP generic (skb) mode and TC.
SCN_GROUP=nfchain
SCN_NEEDS="nfctl"
SCN_COUNTERPART=linux-bridge
SCN_ORDER=25

scn_variants() { echo generic tc; }
case $SCN_ARG in
generic) SCN_DESC="nfchain forwarder (XDP generic)" ;;
tc) SCN_DESC="nfchain forwarder (TC)" ;;
esac

scn_setup() {
	local mode=$SCN_ARG
	[ "$mode" = generic ] && mode=xdp-generic
	nfc_chain 1 "$mode"
}

scn_teardown() { nfc_reset; }
