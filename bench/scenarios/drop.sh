# The baseline every DUT's own cost is measured against: the generator
# straight into a dropping sink at the DUT's ingress. What is left of a
# DUT's 1/pps after subtracting this run's 1/pps is what the DUT itself
# costs (generator and veths are shared by every run).
SCN_DESC="generator into a drop at the DUT ingress (baseline)"
SCN_GROUP=base
SCN_ORDER=0
SCN_SINK_AT=ingress

scn_setup() { :; }
