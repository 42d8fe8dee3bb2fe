# The floor in the other hooks: the same bare redirect hop as
# bench/scenarios/floor.sh, attached as XDP generic (skb mode) and as TC
# (tcx ingress). What nfc-fwd-generic and nfc-fwd-tc cost above these is
# nfchain's own; the rest is the hook's (the kernel's).
SCN_GROUP=floor
SCN_ORDER=2

scn_variants() { echo generic tc; }
case $SCN_ARG in
generic) SCN_DESC="one bare redirect hop, XDP generic" ;;
tc) SCN_DESC="one bare redirect hop, TC" ;;
esac

scn_setup() {
	local mode=$SCN_ARG
	[ "$mode" = generic ] && mode=xdp-generic
	dut "$NFCB" hop attach --dev "$DUT_IN" --to "$DUT_OUT" --pin "$PIN_ROOT/hop" \
		--mode "$mode"
}
