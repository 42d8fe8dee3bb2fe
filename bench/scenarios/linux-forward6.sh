# Kernel IPv6 forwarding (forwarding=1 inside the DUT namespace only), the
# IPv6 twin of linux-forward: IPv6/UDP frames, one route.
SCN_DESC="kernel IPv6 forwarding"
SCN_GROUP=linux
SCN_ORDER=15
SCN_FAMILY=6

scn_setup() { dut_router6 && dut_quiet; }
