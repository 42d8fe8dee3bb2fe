# Micro case for the filter NF (transparent): a 10-term expression that
# the benchmark's frames do not match, action=drop, attached on the
# ingress of a lone forwarder: its cost is this case minus chain-1 (the
# NF, its two tail calls and the translated expression).
MICRO_LABEL="forwarder + filter (10 terms, no match)"
MICRO_HOPS=2

micro_setup() {
	nfc_chain 1 xdp "$1" "$2" mff &&
		nfc filter add mfl mode=xdp action=drop "expr=host 203.0.113.1 or host 203.0.113.2 or host 203.0.113.3 or tcp port 1 or tcp port 2 or udp port 3 or udp port 4 or icmp or vlan 7 or len > 1500" &&
		nfc attach mfl "$1" direction=ingress
}
