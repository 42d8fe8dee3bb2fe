# nfchain: a chain of N forwarders in native XDP between the DUT's two
# veths; N=1 is the forwarder alone. Its Linux counterpart is the two-port
# bridge: both pass every frame from one interface to the other.
SCN_GROUP=nfchain
SCN_NEEDS="nfctl"
SCN_COUNTERPART=linux-bridge

scn_variants() { echo 1 2 4 8 16; }
SCN_CHAIN=$SCN_ARG
case $SCN_ARG in 1) SCN_ORDER=20 ;; 2) SCN_ORDER=21 ;; 4) SCN_ORDER=22 ;; 8) SCN_ORDER=23 ;; *) SCN_ORDER=24 ;; esac
if [ "$SCN_ARG" = 1 ]; then
	SCN_DESC="nfchain forwarder (XDP)"
else
	SCN_DESC="nfchain, chain of $SCN_ARG forwarders (XDP)"
fi

scn_setup() {
	# nfctl enables GRO on a port peer that needs it, or refuses; the
	# harness has turned NAPI on for both far ends already (topo_up).
	nfc_chain "$SCN_ARG" xdp
}

scn_teardown() { nfc_reset; }
