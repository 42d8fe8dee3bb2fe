# The firewall NF (nf/firewall) at 10, 100, 1,000 and 10,000 rules against
# nftables with the same rules in the kernel's forward path, in one run.
#
#   fwN:  nfchain forwarder (XDP) with fw1 attached on its p1 (ingress),
#         conntrack=off, default=drop;
#   nftN: kernel ip_forward (the linux-forward set-up) with the same rules,
#         one nftables rule each (linear: what a translated iptables set
#         is), policy drop.
# The rules: N-1 random 5-tuple rules (src and dst prefixes of /25-/32 in
# the halves of 198.51.100.0/24 and 203.0.113.0/24 the traffic never uses,
# UDP or TCP, a dport or a dport range), then the rule every frame
# matches (the generator's 198.51.100.128/25 -> 203.0.113.128/25, UDP
# dport 20000-20003), accept: every frame walks the whole set in nftables,
# and the firewall's classification meets all of it. Same seed, same
# rules for both. NFCB_FW_RULES overrides the counts.
SCN_NEEDS="nfctl"
scn_variants() {
	local n
	for n in ${NFCB_FW_RULES:-10 100 1000 10000}; do echo "fw$n"; done
	for n in ${NFCB_FW_RULES:-10 100 1000 10000}; do echo "nft$n"; done
}
SCN_GROUP=nfchain
SCN_ORDER=50
SCN_COUNTERPART=firewall-nft${SCN_ARG#fw}
case $SCN_ARG in
fw*) SCN_DESC="nfchain firewall (XDP), ${SCN_ARG#fw} rules, last one matches" ;;
nft*) SCN_DESC="ip_forward + nftables, ${SCN_ARG#nft} rules, last one matches"
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS="nft" SCN_ORDER=14 ;;
esac

# N rules, one a line: "src dst proto lo hi action" (awk's fixed seed:
# the same set every run and for both sides).
fw_bench_rules() { # n
	awk -v n="$1" 'BEGIN {
		srand(7)
		for (i = 1; i < n; i++) {
			sl = 25 + int(rand() * 8); dl = 25 + int(rand() * 8)
			s = int(rand() * 128); d = int(rand() * 128)
			s = s - s % (2 ^ (32 - sl)); d = d - d % (2 ^ (32 - dl))
			lo = 1024 + int(rand() * 60000)
			hi = rand() < 0.5 ? lo : lo + int(rand() * 200)
			printf "198.51.100.%d/%d 203.0.113.%d/%d %s %d %d drop\n",
				s, sl, d, dl, rand() < 0.5 ? "udp" : "tcp", lo, hi
		}
		print "198.51.100.128/25 203.0.113.128/25 udp 20000 20003 accept"
	}'
}

fw_bench_nfc() { # n
	local f=$TMP/fw-rules.txt
	fw_bench_rules "$1" | awk '{
		p = $4 == $5 ? $4 : $4 "-" $5
		printf "%d action=%s src=%s dst=%s proto=%s dport=%s\n",
			NR * 10, $6, $1, $2, $3, p }' >"$f"
	nfc_chain 1 xdp &&
		nfc firewall add fw1 mode=xdp default=drop conntrack=off &&
		nfc attach fw1 c1:p1 direction=ingress &&
		nfc fw1 rules import --replace -f "$f" >/dev/null
}

fw_bench_nft() { # n
	local f=$TMP/fw-nft.rules
	dut_router || return 1
	{
		echo "table ip nfcbfw {"
		echo "  chain nfcb_forward {"
		echo "    type filter hook forward priority 0; policy drop;"
		fw_bench_rules "$1" | awk '{
			p = $4 == $5 ? $4 : $4 "-" $5
			printf "    ip saddr %s ip daddr %s %s dport %s %s\n",
				$1, $2, $3, p, $6 }'
		echo "  }"
		echo "}"
	} >"$f"
	dut nft -f "$f"
}

scn_setup() {
	case $SCN_ARG in
	fw*) fw_bench_nfc "${SCN_ARG#fw}" ;;
	nft*) fw_bench_nft "${SCN_ARG#nft}" ;;
	esac
}

scn_teardown() {
	case $SCN_ARG in
	fw*) nfc_reset ;;
	nft*) dut nft delete table ip nfcbfw ;;
	esac
}
