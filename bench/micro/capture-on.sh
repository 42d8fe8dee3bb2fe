# Micro case for the capture NF (transparent) on the ingress of a lone
# forwarder: its cost is this case minus chain-1. A reader (cap_ctl.readers
# set by hand, as the daemon does for a stream) and nobody draining the
# ring: once it is full the copy is made and the ring refuses it (lost).
MICRO_LABEL="forwarder + capture (reader, every frame)"
MICRO_HOPS=2

micro_setup() {
	nfc_chain 1 xdp "$1" "$2" mxon &&
		nfc capture add mcapon mode=xdp snaplen=262144 ring=256M &&
		nfc attach mcapon "$1" direction=ingress &&
		bpftool map update pinned "$(find "$PIN_ROOT/nfc" -path "*mcapon*/map/cap_ctl")" \
			key 0 0 0 0 value 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
}
