# nfchain's bridge NF between the DUT's two veths (p1 on DUT_IN, p2 on
# DUT_OUT, both access ports of VLAN 1), beside the Linux bridge on the
# same traffic (nf/bridge/README.md quotes the results). Variants:
#   xdp         known unicast, the sink's MAC learned (one frame from the
#               sink before the run): the fast path, native XDP
#   static      the same, the sink's MAC a static entry, as linux-bridge
#               sets it up (a static entry costs a second lookup)
#   generic/tc  known unicast in the other two modes
#   flood       unknown unicast: the sink's MAC never learned, every frame
#               flooded to two ports: DUT_OUT and a third port, a veth pair
#               inside the DUT (devmap broadcast, egress program per copy;
#               with two ports a flood is one copy, sent as a unicast)
#   linuxflood  the Linux bridge flooding the same traffic to the same
#               three ports (the flood's counterpart: no static entry)
SCN_DST=sink

scn_variants() { echo xdp static generic tc flood linuxflood; }
case $SCN_ARG in
xdp) SCN_DESC="nfchain bridge, known unicast (XDP)" SCN_ORDER=30 ;;
static) SCN_DESC="nfchain bridge, static entry (XDP)" SCN_ORDER=31 ;;
generic) SCN_DESC="nfchain bridge, known unicast (XDP generic)" SCN_ORDER=32 ;;
tc) SCN_DESC="nfchain bridge, known unicast (TC)" SCN_ORDER=33 ;;
flood) SCN_DESC="nfchain bridge, unknown unicast flooded (XDP)" SCN_ORDER=34 ;;
linuxflood) SCN_DESC="Linux bridge, unknown unicast flooded" SCN_ORDER=11 ;;
esac
if [ "$SCN_ARG" = linuxflood ]; then
	SCN_GROUP=linux
else
	SCN_GROUP=nfchain
	SCN_NEEDS="nfctl"
	SCN_COUNTERPART=linux-bridge
	[ "$SCN_ARG" = flood ] && SCN_COUNTERPART=bridge-linuxflood
fi

# The sink sends one broadcast frame: the bridge learns its MAC on p2.
bridge_learn_sink() {
	local brf
	brf=$(dirname "$NFCTL")/br_frames
	[ -x "$brf" ] || { warn "$brf not built (make)"; return 1; }
	in_ns "$NS_SINK" "$brf" send "$SINK_IF" ff:ff:ff:ff:ff:ff "$SINK_MAC" 0x88b5
}

# The flood's third port: a veth pair inside the DUT, its far end a dead
# end (no address, nothing forwards there).
bridge_third_port() {
	dut ip link add "${IF_PFX}d2" type veth peer name "${IF_PFX}d3" &&
		dut ip link set "${IF_PFX}d2" up &&
		dut ip link set "${IF_PFX}d3" up &&
		dut sysctl -qw "net.ipv6.conf.${IF_PFX}d2.disable_ipv6=1" \
			"net.ipv6.conf.${IF_PFX}d3.disable_ipv6=1"
}

scn_setup() {
	local mode=xdp
	if [ "$SCN_ARG" = linuxflood ]; then
		bridge_third_port &&
			dut ip link add br0 type bridge mcast_snooping 0 &&
			dut ip link set "$DUT_IN" master br0 &&
			dut ip link set "$DUT_OUT" master br0 &&
			dut ip link set "${IF_PFX}d2" master br0 &&
			dut ip link set br0 up
		return
	fi
	case $SCN_ARG in generic) mode=xdp-generic ;; tc) mode=tc ;; esac
	nfc bridge add br0 mode=$mode &&
		nfc br0 ports add p1 peer="$DUT_IN" &&
		nfc br0 ports add p2 peer="$DUT_OUT" || return 1
	case $SCN_ARG in
	static) nfc br0 fdb add "$SINK_MAC" port=p2 vlan=1 ;;
	flood) bridge_third_port && nfc br0 ports add p3 peer="${IF_PFX}d2" ;;
	*) bridge_learn_sink ;;
	esac
}

scn_teardown() {
	[ "$SCN_ARG" = linuxflood ] || nfc_reset
}
