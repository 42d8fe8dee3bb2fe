# Micro case for the capture NF (transparent) on the ingress of a lone
# forwarder: its cost is this case minus chain-1. A reader (cap_ctl.readers
# set by hand, as the daemon does for a stream) and nobody draining the
# ring: once it is full the copy is made and the ring refuses it (lost).
MICRO_LABEL="forwarder + capture (reader, filter misses)"
MICRO_HOPS=2

micro_setup() {
	nfc_chain 1 xdp "$1" "$2" mxfi &&
		nfc capture add mcapfi mode=xdp snaplen=262144 ring=256M filter='tcp port 80 and host 198.51.100.10' &&
		nfc attach mcapfi "$1" direction=ingress &&
		bpftool map update pinned "$(find "$PIN_ROOT/nfc" -path "*mcapfi*/map/cap_ctl")" \
			key 0 0 0 0 value 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
}
