# ip_forward plus nftables DNAT of one VIP (203.0.113.128:20000/udp, the
# generator's first destination) to 10 backends (203.0.113.140-149, routed
# to the sink) by a jhash of the source address and port: the Linux
# stack's nearest thing to IPVS NAT mode, which this kernel lacks
# (CONFIG_IP_VS is not set). Counterpart of nfc-lb. For 1,024 flows to the
# one VIP: bench/run -f 64,1,16,1 linux-forward linux-nft-dnat nfc-lb.
SCN_GROUP=linux
SCN_ORDER=14
SCN_NEEDS="nft"
SCN_COUNTERPART=linux-forward
SCN_DESC="ip_forward + nftables DNAT to 10 backends (jhash map)"

scn_setup() {
	dut_router || return 1
	dut nft -f - <<'NFT'
table ip nfcblb {
  chain pre {
    type nat hook prerouting priority -100; policy accept;
    ip daddr 203.0.113.128 udp dport 20000 dnat to jhash ip saddr . udp sport mod 10 map { 0 : 203.0.113.140, 1 : 203.0.113.141, 2 : 203.0.113.142, 3 : 203.0.113.143, 4 : 203.0.113.144, 5 : 203.0.113.145, 6 : 203.0.113.146, 7 : 203.0.113.147, 8 : 203.0.113.148, 9 : 203.0.113.149 }
  }
}
NFT
}

scn_teardown() { dut nft delete table ip nfcblb; }
