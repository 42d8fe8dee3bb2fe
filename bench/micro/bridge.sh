# Micro case for the bridge NF: two access ports of VLAN 1, the micro
# frame's destination (02:00:00:00:00:02) a static entry on p2, its source
# learned on p1 by nfcb's warm-up run. Known unicast, and from the second
# frame on a forwarding cache hit: the fast path.
MICRO_LABEL="bridge (known unicast)"

micro_setup() {
	nfc bridge add mbr mode=xdp &&
		nfc mbr ports add p1 peer="$1" &&
		nfc mbr ports add p2 peer="$2" &&
		nfc mbr fdb add 02:00:00:00:00:02 port=p2 vlan=1
}
