# ip_forward plus N nftables rules in a forward chain, one rule each (no
# set: a set would be one lookup, and the point is the cost of N rules),
# never matching, then accept. Variants are rule counts, as for iptables.
SCN_GROUP=linux
SCN_ORDER=13
SCN_NEEDS="nft"
SCN_COUNTERPART=linux-forward

scn_variants() { echo "${NFCB_RULES:-100}"; }
SCN_DESC="ip_forward + $SCN_ARG nftables rules"

scn_setup() {
	local n=$SCN_ARG i
	dut_router || return 1
	{
		echo "table ip nfcb {"
		echo "  chain nfcb_forward {"
		echo "    type filter hook forward priority 0; policy accept;"
		for ((i = 0; i < n; i++)); do
			echo "    ip daddr 203.0.113.128/25 udp dport $((30000 + i)) drop"
		done
		echo "  }"
		echo "}"
	} >"$TMP/nft.rules"
	dut nft -f "$TMP/nft.rules"
}

scn_teardown() { dut nft delete table ip nfcb; }
