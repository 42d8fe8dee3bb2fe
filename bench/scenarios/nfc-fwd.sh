# nfchain's forwarder in the modes other than native XDP (native is
# nfc-chain-1): XDP generic (skb) mode and TC; and native XDP with its
# netdev hook on the stub (NFC_NO_DIRECT=1), which is what direct
# attachment (docs/runtime.md) saves against.
SCN_GROUP=nfchain
SCN_NEEDS="nfctl"
SCN_COUNTERPART=linux-bridge
SCN_ORDER=25

scn_variants() { echo generic tc stub; }
case $SCN_ARG in
generic) SCN_DESC="nfchain forwarder (XDP generic)" ;;
tc) SCN_DESC="nfchain forwarder (TC)" ;;
stub) SCN_DESC="nfchain forwarder (XDP), through the stub" ;;
esac

scn_setup() {
	local mode=$SCN_ARG
	[ "$mode" = generic ] && mode=xdp-generic
	if [ "$mode" = stub ]; then
		NFC_NO_DIRECT=1 nfc_chain 1 xdp
		return
	fi
	nfc_chain 1 "$mode"
}

scn_teardown() { nfc_reset; }
