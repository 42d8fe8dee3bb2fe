# Micro case for the capture NF (transparent) on the ingress of a lone
# forwarder: its cost is this case minus chain-1. No reader: what
# capture costs when nobody reads (one array read and a compare).
MICRO_LABEL="forwarder + capture (no reader)"
MICRO_HOPS=2

micro_setup() {
	nfc_chain 1 xdp "$1" "$2" mxof &&
		nfc capture add mcapof mode=xdp snaplen=262144 ring=256M filter='tcp port 80' &&
		nfc attach mcapof "$1" direction=ingress
}
