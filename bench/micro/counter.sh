# Micro case for the counter NF (transparent): attached on the ingress of
# a lone forwarder, so its cost is this case minus chain-1. A file here
# per NF: micro_setup IN OUT builds the NF between two netdevs of the
# micro namespace (nfc runs nfctl there); the program attached to IN is
# then run with BPF_PROG_TEST_RUN and must return MICRO_RETVAL (4:
# XDP_REDIRECT, the frame left through OUT).
MICRO_LABEL="forwarder + counter"
MICRO_HOPS=2

micro_setup() {
	nfc_chain 1 xdp "$1" "$2" mcf &&
		nfc counter add mck mode=xdp &&
		nfc attach mck "$1" direction=ingress
}
