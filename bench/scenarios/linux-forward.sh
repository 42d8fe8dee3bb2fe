# Kernel IPv4 forwarding (ip_forward=1 inside the DUT namespace only).
SCN_DESC="kernel ip_forward (IPv4 routing)"
SCN_GROUP=linux
SCN_ORDER=11

scn_setup() { dut_router; }
