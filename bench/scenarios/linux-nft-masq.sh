# ip_forward plus nftables masquerade on the way out (DUT_OUT, 203.0.113.1):
# conntrack and source NAT of every flow, the kernel's counterpart of
# nfc-nat-*. Established flows (the default 1,024):
#   bench/run linux-forward linux-nft-masq nfc-nat-tc nfc-nat-router
# every frame a new connection:
#   bench/run --new-flows -n 100000 -f 30,8,1024,1 linux-nft-masq \
#       nfc-nat-tc nfc-nat-router
# (8 destinations: toward one, a NAT has 64,512 outside ports, fewer than
# such a run's flows, and refuses the rest.)
SCN_GROUP=linux
SCN_ORDER=14
SCN_NEEDS="nft"
SCN_COUNTERPART=linux-forward
SCN_DESC="ip_forward + nftables masquerade (conntrack + SNAT)"

scn_setup() {
	dut_router || return 1
	dut nft -f - <<NFT
table ip nfcbmasq {
  chain post {
    type nat hook postrouting priority 100; policy accept;
    oifname "$DUT_OUT" masquerade
  }
}
NFT
}

# The connections go with the table: the next scenario starts clean.
scn_teardown() {
	dut nft delete table ip nfcbmasq
	dut conntrack -F >/dev/null 2>&1
	return 0
}
