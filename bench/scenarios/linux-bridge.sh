# Linux bridge with two ports, the sink's MAC known: what people use today
# to pass frames between two interfaces.
SCN_DESC="Linux bridge, 2 ports"
SCN_GROUP=linux
SCN_ORDER=10
SCN_DST=sink   # frames are addressed to the sink, as across a switch

scn_setup() { dut_bridge; }
