# The firewall NF (nf/firewall) at 10, 100, 1,000 and 10,000 rules against
# nftables with the same rules in the kernel's forward path, in one run.
#
#   fwN:  nfchain forwarder (XDP) with fw1 attached on its p1 (ingress),
#         conntrack=off, default=drop;
#   nftN: kernel ip_forward (the linux-forward set-up) with the same rules,
#         one nftables rule each (linear: what a translated iptables set
#         is), policy drop;
#   nftsetN: the same with the strongest form an nftables user would
#         write: the drops as one concatenated interval set (saddr .
#         daddr . l4proto . dport, the pipapo set type) looked up by one
#         rule, the accepts as another (with the sport) by a second;
#   iptN: the same rules in iptables (legacy where installed), linear,
#         FORWARD policy DROP;
#   iptsetN: iptables with ipset: the drops as one hash:net,port,net set
#         (port ranges expanded, as ipset does) matched by one rule (a
#         kernel without that set type, CONFIG_IP_SET_HASH_NETPORTNET,
#         fails the variant's set-up).
#   fwct: fw10 with conntrack=on and `state=established,related accept`
#         first, attached both ways: before the warm-up, one frame of
#         every flow goes out and its reply (from the sink's side) comes
#         back through the DUT (fw_bench_answer), so every timed frame is
#         of an established flow; with --new-flows every timed frame is a
#         flow never seen and makes an entry: the new-connection rate;
#   nftct: nft10 with `ct state established,related accept` first: the
#         same through Linux conntrack, answered the same way.
# The drops and the accepts never overlap (the drops use the lower halves
# of both prefixes), so a set of drops and a set of accepts give the same
# first-match verdict as the linear list.
# The rules: random 5-tuple drops (src and dst prefixes of /25-/32 in the
# halves of 198.51.100.0/24 and 203.0.113.0/24 the traffic never uses,
# UDP or TCP, a dport or a dport range) and, spread evenly over the set,
# the accepts that the traffic matches: the generator's 198.51.100.128/25
# -> 203.0.113.128/25 UDP flows, one accept for each of its 4 x 4
# (sport, dport) pairs (the last sport and dport open upwards, so more
# flows stay covered; under 16 rules, one accept for each dport), so the
# frames are decided by rules all over the set, as the issue's "traffic
# matching rules spread over the whole set" asks: a linear walk meets
# half the set on average. Same seed, same rules for every variant.
# NFCB_FW_RULES overrides the counts.
SCN_NEEDS="nfctl"
scn_variants() {
	local n
	for n in ${NFCB_FW_RULES:-10 100 1000 10000}; do echo "fw$n"; done
	for n in ${NFCB_FW_RULES:-10 100 1000 10000}; do echo "nft$n"; done
	for n in ${NFCB_FW_RULES:-10 100 1000 10000}; do echo "nftset$n"; done
	for n in ${NFCB_FW_RULES:-10 100 1000 10000}; do echo "ipt$n"; done
	for n in ${NFCB_FW_RULES:-10 100 1000 10000}; do echo "iptset$n"; done
	echo fwct
	echo nftct
}
SCN_GROUP=nfchain
SCN_ORDER=50
SCN_COUNTERPART=firewall-nft${SCN_ARG#fw}
case $SCN_ARG in
fwct) SCN_DESC="nfchain firewall (XDP), conntrack on, 10 rules"
	SCN_COUNTERPART=firewall-nftct ;;
nftct) SCN_DESC="ip_forward + nftables + conntrack, 10 rules"
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS="nft" SCN_ORDER=14 ;;
fw*) SCN_DESC="nfchain firewall (XDP), ${SCN_ARG#fw} rules, matches spread" ;;
nftset*) SCN_DESC="ip_forward + nftables concatenated set, ${SCN_ARG#nftset} rules"
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS="nft" SCN_ORDER=14 ;;
nft*) SCN_DESC="ip_forward + nftables, ${SCN_ARG#nft} rules, matches spread"
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS="nft" SCN_ORDER=14 ;;
iptset*) SCN_DESC="ip_forward + iptables + ipset, ${SCN_ARG#iptset} rules"
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS="ipset ipset:hash:net,port,net" SCN_ORDER=14 ;;
ipt*) SCN_DESC="ip_forward + iptables ($(iptables_cmd)), ${SCN_ARG#ipt} rules, matches spread"
	SCN_GROUP=linux SCN_COUNTERPART= SCN_NEEDS="iptables" SCN_ORDER=14 ;;
esac

# N rules, one a line: "src dst proto lo hi action slo shi" (dport
# lo-hi, sport slo-shi; awk's fixed seed: the same set every run and for
# every variant).
fw_bench_rules() { # n
	awk -v n="$1" 'BEGIN {
		srand(7)
		na = n >= 16 ? 16 : 4
		for (a = 0; a < na; a++)
			at[int((a + 1) * n / na)] = a
		for (i = 1; i <= n; i++) {
			if (i in at) {
				a = at[i]
				dp = 20000 + a % 4; sp = 10000 + int(a / 4)
				dh = a % 4 == 3 ? 65535 : dp
				sh = na == 4 ? 65535 : int(a / 4) == 3 ? 65535 : sp
				if (na == 4) sp = 0
				printf "198.51.100.128/25 203.0.113.128/25 udp %d %d accept %d %d\n",
					dp, dh, sp, sh
				continue
			}
			sl = 25 + int(rand() * 8); dl = 25 + int(rand() * 8)
			s = int(rand() * 128); d = int(rand() * 128)
			s = s - s % (2 ^ (32 - sl)); d = d - d % (2 ^ (32 - dl))
			lo = 1024 + int(rand() * 60000)
			hi = rand() < 0.5 ? lo : lo + int(rand() * 200)
			printf "198.51.100.%d/%d 203.0.113.%d/%d %s %d %d drop 0 65535\n",
				s, sl, d, dl, rand() < 0.5 ? "udp" : "tcp", lo, hi
		}
	}'
}

# A rule file is written by pipelines inside a { } > file block, whose
# status is the last echo's: an awk that fails leaves a short file (once,
# nftables got a table holding only its policy) and only the frame count
# showed it. So the rules that landed are counted: a short file fails the
# setup, naming itself.
fw_bench_lines() { # file extended-regex want what
	local got
	got=$(grep -cE "$2" "$1")
	[ "$got" -ge "$3" ] && return 0
	echo "firewall bench: $4: $got rules in $1, $3 expected" >&2
	return 1
}

# How many of the N rules accept (the traffic's own rules; at least one,
# also if the generator itself failed).
fw_bench_naccept() { # n
	local a
	a=$(fw_bench_rules "$1" | grep -c ' accept ')
	echo $((a > 0 ? a : 1))
}

# The rules as nfchain rules, numbered 10, 20, ...
fw_bench_nfc_rules() { # n
	fw_bench_rules "$1" | awk '{
		p = $4 == $5 ? $4 : $4 "-" $5
		q = $7 == $8 ? $7 : $7 "-" $8
		printf "%d action=%s src=%s dst=%s proto=%s dport=%s%s\n",
			NR * 10, $6, $1, $2, $3, p,
			$7 == 0 && $8 == 65535 ? "" : " sport=" q }'
}

fw_bench_nfc() { # n [ct]
	local f=$TMP/fw-rules.txt
	{
		[ -z "${2:-}" ] ||
			echo "1 action=accept state=established,related"
		fw_bench_nfc_rules "$1"
	} >"$f"
	fw_bench_lines "$f" '^[0-9]+ action=' "$1" "nfchain rules" &&
		nfc_chain 1 xdp &&
		nfc firewall add fw1 mode=xdp default=drop \
			conntrack=$([ -n "${2:-}" ] && echo on || echo off) &&
		nfc attach fw1 c1:p1 \
			direction=$([ -n "${2:-}" ] && echo both || echo ingress) &&
		nfc fw1 rules import --replace -f "$f" >/dev/null
}

# Makes every flow of the run established for a tracker on the DUT: one
# frame of each out (the generator, as the run's), then its reply from
# the sink's namespace (addresses and ports swapped), which the DUT sends
# back towards the generator's side. Before the warm-up and the counters:
# the measured frames are the run's own. Not for --new-flows, whose timed
# flows are new by design.
fw_bench_answer() {
	local n=$((FLOW_SA * FLOW_DA * FLOW_SP * FLOW_DP))
	[ -z "${NEW_FLOWS:-}" ] || return 0
	gen_run "$n" >/dev/null &&
		in_ns "$NS_SINK" "$NFCB" gen --dev "$SINK_IF" \
			--dst-mac "$DUT_OUT_MAC" --count "$n" --size "$SIZE" \
			--src 203.0.113.128 --dst 198.51.100.128 \
			--sport 20000 --dport 10000 --saddrs "$FLOW_DA" \
			--daddrs "$FLOW_SA" --sports "$FLOW_DP" \
			--dports "$FLOW_SP" --family 4 \
			${GEN_CPU:+--cpu "$GEN_CPU"} >/dev/null
}

fw_bench_nft() { # n [ct]
	local f=$TMP/fw-nft.rules
	dut_router || return 1
	{
		echo "table ip nfcbfw {"
		echo "  chain nfcb_forward {"
		echo "    type filter hook forward priority 0; policy drop;"
		[ -z "${2:-}" ] || echo "    ct state established,related accept"
		fw_bench_rules "$1" | awk '{
			p = $4 == $5 ? $4 : $4 "-" $5
			q = $7 == $8 ? $7 : $7 "-" $8
			q = $7 == 0 && $8 == 65535 ? "" : " sport " q " " $3
			printf "    ip saddr %s ip daddr %s %s%s dport %s %s\n",
				$1, $2, $3, q, p, $6 }'
		echo "  }"
		echo "}"
	} >"$f"
	fw_bench_lines "$f" ' (accept|drop)$' "$1" "nftables rules" &&
		dut nft -f "$f"
}

# The drops without those that overlap one kept before (an interval set
# refuses overlapping elements; all are drops, so the verdicts of the
# traffic, which meets none of them, do not change). Sorted by port, each
# compared with the kept ones whose ports may meet its own.
fw_bench_disjoint() {
	awk '$6 == "drop"' | sort -k4,4n | awk '
	function ov(a, b,   pa, pb, m, blk) {
		split(a, pa, "[./]"); split(b, pb, "[./]")
		m = pa[5] < pb[5] ? pa[5] : pb[5]; blk = 2 ^ (32 - m)
		return int(pa[4] / blk) == int(pb[4] / blk)
	}
	{
		for (j = n; j >= 1 && lo[j] > $4 - 201; j--)
			if (pr[j] == $3 && hi[j] >= $4 && ov(s[j], $1) &&
			    ov(d[j], $2))
				next
		n++; s[n] = $1; d[n] = $2; pr[n] = $3; lo[n] = $4; hi[n] = $5
		print
	}'
}

# nftables' best form: one lookup of the 4-field concatenation in an
# interval set (pipapo), whatever the rule count.
fw_bench_nftset() { # n
	local f=$TMP/fw-nftset.rules
	dut_router || return 1
	{
		echo "table ip nfcbfw {"
		echo "  set drops {"
		echo "    type ipv4_addr . ipv4_addr . inet_proto . inet_service"
		echo "    flags interval"
		if (($1 > 1)); then
			echo "    elements = {"
			fw_bench_rules "$1" | fw_bench_disjoint |
				awk '{ p = $4 == $5 ? $4 : $4 "-" $5
				printf "      %s . %s . %s . %s,\n", $1, $2, $3, p }'
			echo "    }"
		fi
		echo "  }"
		echo "  set accepts {"
		echo "    type ipv4_addr . ipv4_addr . inet_proto . inet_service . inet_service"
		echo "    flags interval"
		echo "    elements = {"
		fw_bench_rules "$1" | awk '$6 == "accept" {
			p = $4 == $5 ? $4 : $4 "-" $5
			q = $7 == $8 ? $7 : $7 "-" $8
			printf "      %s . %s . %s . %s . %s,\n", $1, $2, $3, q, p }'
		echo "    }"
		echo "  }"
		echo "  chain nfcb_forward {"
		echo "    type filter hook forward priority 0; policy drop;"
		echo "    ip saddr . ip daddr . meta l4proto . th dport @drops drop"
		echo "    ip saddr . ip daddr . meta l4proto . th sport . th dport @accepts accept"
		echo "  }"
		echo "}"
	} >"$f"
	fw_bench_lines "$f" '^      [0-9].*,$' "$(fw_bench_naccept "$1")" \
		"nftables set elements" && dut nft -f "$f"
}

fw_bench_ipt() { # n
	local f=$TMP/fw-ipt.rules
	dut_router || return 1
	fw_bench_rules "$1" | awk 'BEGIN { print "*filter"; print ":FORWARD DROP [0:0]" }
		{ p = $4 == $5 ? $4 : $4 ":" $5
		  q = $7 == $8 ? $7 : $7 ":" $8
		  printf "-A FORWARD -s %s -d %s -p %s -m %s%s --dport %s -j %s\n",
			$1, $2, $3, $3, $7 == 0 && $8 == 65535 ? "" : " --sport " q,
			p, $6 == "drop" ? "DROP" : "ACCEPT" }
		END { print "COMMIT" }' >"$f"
	fw_bench_lines "$f" '^-A FORWARD' "$1" "iptables rules" &&
		dut "$(iptables_cmd)-restore" <"$f"
}

# iptables' set form: ipset's hash:net,port,net (ranges of ports are
# expanded into one element each, as `ipset add` does).
fw_bench_iptset() { # n
	local f=$TMP/fw-ipset.rules g=$TMP/fw-iptset.rules
	dut_router || return 1
	fw_bench_rules "$1" | awk 'BEGIN {
		print "create nfcbfw hash:net,port,net family inet hashsize 65536 maxelem 4194304" }
		$6 == "drop" { for (p = $4; p <= $5; p++)
			printf "add nfcbfw %s,%s:%d,%s -exist\n", $1, $3, p, $2 }' >"$f"
	fw_bench_lines "$f" '^add nfcbfw' 1 "ipset elements" &&
		dut ipset restore <"$f" || return 1
	fw_bench_rules "$1" | awk 'BEGIN { print "*filter"; print ":FORWARD DROP [0:0]"
		print "-A FORWARD -m set --match-set nfcbfw src,dst,dst -j DROP" }
		$6 == "accept" { p = $4 == $5 ? $4 : $4 ":" $5
		  q = $7 == $8 ? $7 : $7 ":" $8
		  printf "-A FORWARD -s %s -d %s -p %s -m %s%s --dport %s -j ACCEPT\n",
			$1, $2, $3, $3, $7 == 0 && $8 == 65535 ? "" : " --sport " q, p }
		END { print "COMMIT" }' >"$g"
	fw_bench_lines "$g" '^-A FORWARD' $(($(fw_bench_naccept "$1") + 1)) \
		"iptables rules" && dut "$(iptables_cmd)-restore" <"$g"
}

scn_setup() {
	case $SCN_ARG in
	fwct) fw_bench_nfc 10 ct && fw_bench_answer ;;
	nftct) fw_bench_nft 10 ct && fw_bench_answer ;;
	fw*) fw_bench_nfc "${SCN_ARG#fw}" ;;
	nftset*) fw_bench_nftset "${SCN_ARG#nftset}" ;;
	nft*) fw_bench_nft "${SCN_ARG#nft}" ;;
	iptset*) fw_bench_iptset "${SCN_ARG#iptset}" ;;
	ipt*) fw_bench_ipt "${SCN_ARG#ipt}" ;;
	esac
}

scn_teardown() {
	case $SCN_ARG in
	fw*) nfc_reset ;;
	nft*) dut nft delete table ip nfcbfw ;;
	iptset*)
		dut "$(iptables_cmd)" -F FORWARD
		dut "$(iptables_cmd)" -P FORWARD ACCEPT
		dut ipset destroy nfcbfw ;;
	ipt*)
		dut "$(iptables_cmd)" -F FORWARD
		dut "$(iptables_cmd)" -P FORWARD ACCEPT ;;
	esac
}
