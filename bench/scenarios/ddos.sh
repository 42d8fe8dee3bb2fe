# The ddos NF (nf/ddos) dropping blocklisted traffic at the DUT's ingress,
# beside what a user would do without it, at 10 and 1,000,000 prefixes
# (NFCB_DDOS_PREFIXES overrides the counts; 1m = 1,000,000):
#
#   xdpN    nfchain: dd0 first on DUT_IN's ingress (XDP) in front of a
#           forwarder; the blocklist holds N prefixes, one of them the
#           generator's sources' /24 (198.51.100.0/24): every frame
#           dropped, counted by dd0 (dropped.blocklist)
#   nftN    nftables: a set of the same N prefixes in the netdev ingress
#           hook of DUT_IN, `ip saddr @set counter drop`
#   ipsetN  ipset (hash:net) of the same prefixes, iptables raw PREROUTING
#           `-m set --match-set ... src -j DROP` (legacy iptables)
#   passN   nfchain: the same dd0 and forwarder, the blocklist without the
#           generator's sources: the cost on allowed traffic (frames reach
#           the sink as through nfc-chain-1, its counterpart)
#
# The drop variants are SCN_EXPECT=drop (bench/lib/harness.sh,
# conservation_drop): generated = dut_rx = the DUT's drop counter, nothing
# forwarded; their rate is the kernel timer's, and their ratio is against
# the bare XDP drop (the drop baseline), which is what issue 18 asks for.
# The N-1 other prefixes are /24s and /32s in turn, spread over the
# whole IPv4 space (every 16th /24; a /32 in the middle of the 8th after
# each), so that the sources lie among them: a list packed from 1.0.0.0
# up left the sources far from it, where an LPM trie ends near its root
# (stop 28: 23 ns there, 129 inside a million /24s). Entries only:
# nothing is sent there.
dd_count() { case $1 in *m) echo $((${1%m} * 1000000)) ;; *k) echo $((${1%k} * 1000)) ;; *) echo "$1" ;; esac; }
dd_label() { # count -> 10, 1m, 100k
	if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))m"
	elif [ $(($1 % 1000)) = 0 ]; then echo "$(($1 / 1000))k"
	else echo "$1"; fi
}
scn_variants() {
	local k n
	for k in xdp nft ipset pass; do
		for n in ${NFCB_DDOS_PREFIXES:-10 1000000}; do echo "$k$(dd_label "$n")"; done
	done
}
DD_KIND=${SCN_ARG%%[0-9]*}
DD_N=$(dd_count "${SCN_ARG#"$DD_KIND"}")
DD_L=${SCN_ARG#"$DD_KIND"}
SCN_EXPECT=drop
case $DD_KIND in
xdp) SCN_DESC="nfchain ddos (XDP), blocklist of $DD_N prefixes, every frame dropped"
	SCN_GROUP=nfchain SCN_ORDER=70 SCN_NEEDS=nfctl SCN_COUNTERPART=ddos-nft$DD_L ;;
nft) SCN_DESC="nftables netdev ingress, set of $DD_N prefixes, every frame dropped"
	SCN_GROUP=linux SCN_ORDER=17 SCN_NEEDS=nft ;;
ipset) SCN_DESC="ipset + iptables raw, $DD_N prefixes, every frame dropped"
	SCN_GROUP=linux SCN_ORDER=18 SCN_NEEDS="ipset iptables" ;;
pass) SCN_DESC="nfchain ddos (XDP) + forwarder, $DD_N prefixes, traffic allowed"
	SCN_GROUP=nfchain SCN_ORDER=71 SCN_NEEDS=nfctl SCN_COUNTERPART=nfc-chain-1
	SCN_EXPECT=forward ;;
esac

# The N prefixes, one a line; the last is the traffic's sources (drop
# variants) or a prefix beside them (pass).
dd_prefixes() {
	awk -v n="$DD_N" -v last="$1" 'BEGIN {
		for (i = 0; i < n - 1; i++) {
			b = i * 16 + (i % 2) * 8
			printf "%d.%d.%d.%s\n", int(b / 65536), int(b / 256) % 256, b % 256, i % 2 ? "7/32" : "0/24"
		}
		print last }'
}

# The "drop-miss" fault lists half the sources only (198.51.100.128/30 of
# .128-.135): the DUT's count must fall short and the run be flagged.
dd_last() {
	if [ "$DD_KIND" = pass ]; then echo 203.0.113.0/26
	elif [ "${FAULT:-}" = drop-miss ]; then echo 198.51.100.128/30
	else echo 198.51.100.0/24; fi
}

scn_setup() {
	local f=$TMP/dd-prefixes.txt
	dd_prefixes "$(dd_last)" >"$f" || return 1
	case $DD_KIND in
	xdp | pass)
		nfc_chain 1 xdp &&
			nfc ddos add dd0 mode=xdp &&
			nfc attach dd0 "$DUT_IN" direction=ingress position=first &&
			CMD_TIMEOUT=300 nfc dd0 blocklist import --replace -f "$f" >/dev/null
		;;
	nft)
		{
			echo "table netdev nfcbdd {"
			echo "  set bl { type ipv4_addr; flags interval; elements = {"
			sed 's/$/,/' "$f"
			echo "  } }"
			# A named counter: read alone, without listing the set.
			echo "  counter dropped { }"
			echo "  chain ing { type filter hook ingress device \"$DUT_IN\" priority -500; policy accept;"
			echo "    ip saddr @bl counter name dropped drop"
			echo "  }"
			echo "}"
		} >"$TMP/dd.nft" && CMD_TIMEOUT=300 dut nft -f "$TMP/dd.nft"
		;;
	ipset)
		{
			echo "create nfcbdd hash:net family inet hashsize 65536 maxelem $((DD_N + 1024))"
			sed 's/^/add nfcbdd /' "$f"
		} | CMD_TIMEOUT=300 dut ipset restore &&
			dut "$(iptables_cmd)" -t raw -A PREROUTING -i "$DUT_IN" \
				-m set --match-set nfcbdd src -j DROP
		;;
	esac
}

# The DUT's own count of the frames it dropped.
scn_dut_drops() {
	case $DD_KIND in
	xdp) nfc -j dd0 show stats | jq -e '.dropped.blocklist' ;;
	# nft 1.0 fetches the set's elements even to list a named counter
	# (-t too): ~35 s for 200,000 at load 20, minutes for a million.
	nft) CMD_TIMEOUT=900 dut nft -j list counter netdev nfcbdd dropped |
		jq -e '.nftables[] | .counter? // empty | .packets' ;;
	ipset) dut "$(iptables_cmd)" -t raw -nvxL PREROUTING | awk '$3 == "DROP" { print $1; exit }' ;;
	esac
}

scn_teardown() {
	case $DD_KIND in
	xdp | pass) nfc_reset ;;
	nft) dut nft delete table netdev nfcbdd ;;
	ipset) dut "$(iptables_cmd)" -t raw -F PREROUTING && dut ipset destroy nfcbdd ;;
	esac
}
