# The floor: one bare XDP redirect hop (bench/bpf/hop.bpf.c), the least any
# XDP forwarder can cost. The "dut-drop" fault makes it drop every 4th frame,
# which the conservation check must flag (bench/tests/smoke.sh).
SCN_DESC="one bare XDP redirect hop"
SCN_GROUP=floor
SCN_ORDER=1

scn_setup() {
	local drop=0
	[ "${FAULT:-}" = dut-drop ] && drop=4
	dut "$NFCB" hop attach --dev "$DUT_IN" --to "$DUT_OUT" --pin "$PIN_ROOT/hop" \
		--drop-every "$drop"
}
