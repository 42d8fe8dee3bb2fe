# shellcheck shell=bash
# Reports: runs.jsonl (one object per scenario and run) and micro.jsonl ->
# summary.json, Markdown tables, gnuplot PNGs, docs/performance.md.
# Sourced by bench/run. Everything is computed from the JSON of this
# invocation; no figure is typed in by hand.

# jq helpers shared by the summaries.
JQ_LIB='
def median: sort | if length == 0 then null
	elif length % 2 == 1 then .[(length - 1) / 2]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def stats(f): [.[] | f | select(. != null)] |
	if length == 0 then null else {min: min, median: median, max: max, n: length} end;
def ratio(a; b): if a == null or b == null or a.pps == null or b.pps == null then null
	else {pps: (a.pps.median / b.pps.median),
	      own: (if a.own_ns == null or b.own_ns == null or b.own_ns.median <= 0 then null
	            else a.own_ns.median / b.own_ns.median end)} end;
def fixed(d): (pow(10; d)) as $p | (. * $p | round) as $n |
	(if $n < 0 then "-" else "" end) + (($n | fabs) / $p | floor | tostring) +
	(if d == 0 then "" else "." + ((($n | fabs) % $p) | tostring |
		(("0" * (d - length)) // "") + .) end);
def f1: if . == null then "—" else fixed(1) end;
def f2: if . == null then "—" else fixed(2) end;
def mpps: if . == null then "—" else (. / 1e6 | fixed(2)) end;
def ns: if . == null then "—" else (round | tostring) end;
'

# Per-scenario statistics over the valid runs, with ratios; sorted.
summarize() { # runs.jsonl > summary.json
	jq -n "$JQ_LIB"'
	[inputs] as $all |
	($all | map(select(.skipped == null))) as $runs |
	# Own cost against the median of the drop baseline over the whole
	# invocation: pairing each run with the baseline of its own round
	# (kept in runs.jsonl as own_ns_round) lets one disturbed baseline
	# run distort a whole round.
	# Runs that count: valid (conservation held) and not disturbed.
	($runs | map(. + {used: (.valid == true and .disturbed != true)})) as $runs |
	# (one CPU: own cost a frame means nothing for an aggregate rate)
	($runs | map(select(.group == "base" and .used and (.cpus // 1) == 1) | .pps) | median) as $base |
	# Scenarios that drop (expect "drop") have a rate by the kernel timer
	# only: their own cost is against the baseline by the same timer.
	($runs | map(select(.group == "base" and .valid == true and (.cpus // 1) == 1) | .kernel_pps) | median) as $kbase |
	($runs | map(. + {own_ns: (if .expect == "drop" then
	                             (if $kbase == null or .pps == null or (.cpus // 1) > 1 then null
	                              else 1e9 / .pps - 1e9 / $kbase end)
	                         elif $base == null or .pps == null or .group == "base" or (.cpus // 1) > 1 then null
	                         else 1e9 / .pps - 1e9 / $base end)})) as $runs |
	($runs | group_by(.scenario) | map(
		(map(select(.used))) as $ok |
		{ scenario: .[0].scenario, desc: .[0].desc, group: .[0].group, expect: (.[0].expect // "forward"),
		  counterpart: .[0].counterpart, chain: .[0].chain, order: .[0].order,
		  cpus: (.[0].cpus // 1),
		  runs: length, used: ($ok | length),
		  invalid: (map(select(.valid != true)) | length),
		  disturbed: (map(select(.valid == true and .disturbed == true)) | length),
		  problems: (map(select(.valid | not)) |
			map("repeat \(.repeat): \(.problem // .error // "invalid")")),
		  # frames at each stage, summed over every run (valid or not)
		  stages: {generated: (map(.generated // 0) | add),
		           dut_rx: (map(.dut_rx // 0) | add),
		           dut_fwd: (if .[0].sink_at == "ingress" then null else (map(.dut_fwd // 0) | add) end),
		           sink_rx: (map(.sink_rx // 0) | add),
		           dut_drop: (if .[0].expect == "drop" then (map(.dut_drop // 0) | add) else null end)},
		  pps: ($ok | stats(.pps)),
		  # the kernel timer, over every valid run (disturbed or not)
		  kernel_pps: (map(select(.valid == true)) | stats(.kernel_pps)),
		  own_ns: (if .[0].group == "base" then null else ($ok | stats(.own_ns)) end) })
	) as $sum |
	($sum | map({key: .scenario, value: .}) | from_entries) as $by |
	{ scenarios: ($sum | map(. as $s |
		. + { vs_linux: (if $s.counterpart then ratio($s; $by[$s.counterpart]) else null end),
		      # a scenario that drops: against the bare drop (the baseline),
		      # by the kernel timer, the only rate both have
		      vs_drop: (if $s.expect != "drop" or $by["drop"] == null or $by["drop"].kernel_pps == null
		                   or $s.kernel_pps == null then null
		                else $s.kernel_pps.median / $by["drop"].kernel_pps.median end),
		      vs_floor: (if $s.group == "floor" or $s.group == "base" or $s.expect == "drop" then null
		                 else ratio($s; $by["floor" + (if $s.cpus > 1 then "@\($s.cpus)" else "" end)]) end),
		      # all CPUs against one: the same scenario on one CPU
		      scaling: (if $s.cpus > 1 then ratio($s; $by[$s.scenario | sub("@[0-9]+$"; "")]) else null end) })
		| sort_by(.order, .scenario)),
	  skipped: ($all | map(select(.skipped != null)) | unique_by(.scenario)
		| map({scenario, desc, reason: .skipped})) }' "$1"
}

# The throughput table, Markdown, from summary.json.
table_throughput() {
	jq -r "$JQ_LIB"'
	"| Scenario | What | Mpps median | Mpps min–max | Own ns/frame median (min–max) | vs Linux: pps, own cost | vs floor: pps, own cost | Runs used | Mpps by kernel timer |",
	"|---|---|---:|---:|---:|---:|---:|---:|---:|",
	(.scenarios[] |
	 "| \(.scenario) | \(.desc) | \(.pps.median | mpps) | \(.pps.min | mpps)–\(.pps.max | mpps) | " +
	 (if .group == "base" then "(baseline)"
	  else "\(.own_ns.median | ns) (\(.own_ns.min | ns)–\(.own_ns.max | ns))" end) + " | " +
	 (if .vs_linux == null then "—"
	  else "×\(.vs_linux.pps | f2), ×\(.vs_linux.own | f2) (\(.counterpart))" end) + " | " +
	 (if .vs_drop != null then "×\(.vs_drop | f2) of the bare drop"
	  elif .vs_floor == null then "—" else "×\(.vs_floor.pps | f2), ×\(.vs_floor.own | f2)" end) +
	 " | \(.used)/\(.runs) | \(.kernel_pps.median | mpps) |"),
	# A scenario that cannot run here keeps its row, with the reason.
	(.skipped[] | "| \(.scenario) | \(.desc // "") | \(.reason) | — | — | — | — | 0/0 | — |"),
	(([.scenarios[] | .disturbed] | add) as $d | if $d > 0 then "",
		"\($d) of \([.scenarios[] | .runs] | add) runs were disturbed (the generator was off its CPU for more than 10 % of the run: off_cpu in runs.jsonl), run again and left out of the figures. The last column is the rate by the kernel timer of BPF_PROG_TEST_RUN, which stops while the generator is off its CPU, over all valid runs: a cross-check that does not depend on a quiet machine." else empty end),
	(if ([.scenarios[] | .problems[]] | length) > 0 then
		"", "Invalid runs (left out of the figures):",
		(.scenarios[] | .scenario as $n | .problems[] | "- \($n), \(.)")
	 else empty end)' "$1"
}

# Issue 18's three questions in one table, when ddos scenarios ran: per
# blocklist size, the drop rate against the bare drop (target >= 0.90 at
# 1,000,000), dd0's own cost beside nftables' and ipset's on the same
# traffic (target <= 1/5), and dd0's own cost on allowed traffic (pass:
# dd0 + forwarder less the forwarder alone, nfc-chain-1), whose
# difference between the sizes is the last line (target <= 15 ns).
table_ddos() {
	jq -r "$JQ_LIB"'
	(.scenarios | map({key: .scenario, value: .}) | from_entries) as $by |
	[.scenarios[] | .scenario | select(test("^ddos-(xdp|nft|ipset|pass)")) | sub("^ddos-[a-z]+"; "")] | unique as $sizes |
	if ($sizes | length) == 0 then empty else
	def own(s): $by[s].own_ns.median;
	# Allowed traffic by the kernel timer (every valid run, disturbed or
	# not), as the drops are: ns a frame through dd0 and the forwarder,
	# less the forwarder alone.
	def kns(s): $by[s].kernel_pps.median | if . == null or . <= 0 then null else 1e9 / . end;
	def allowed(l): if kns("ddos-pass" + l) == null then null
		elif kns("nfc-chain-1") == null then kns("ddos-pass" + l)
		else kns("ddos-pass" + l) - kns("nfc-chain-1") end;
	def rel(a; b): if a == null or b == null or b <= 0 then "—" else "×\(a / b | f2)" end;
	"| prefixes | dd0 drop: Mpps (kernel timer), × bare drop | dd0 drop: own ns | nft: own ns, dd0 ÷ nft | ipset+iptables raw: own ns, dd0 ÷ ipset | allowed: dd0 own ns, kernel timer\(if kns("nfc-chain-1") == null then " (+ forwarder: nfc-chain-1 not run)" else "" end) |",
	"|---|---:|---:|---:|---:|---:|",
	($sizes | sort_by(sub("m$"; "000000") | sub("k$"; "000") | tonumber) | .[] as $l |
	 ("ddos-xdp" + $l) as $x |
	 "| \($l) | \($by[$x].kernel_pps.median | mpps), " +
	 (if $by[$x].vs_drop == null then "—" else "×\($by[$x].vs_drop | f2)" end) +
	 " | \(own($x) | ns) | \(own("ddos-nft" + $l) | ns), \(rel(own($x); own("ddos-nft" + $l))) | " +
	 "\(own("ddos-ipset" + $l) | ns), \(rel(own($x); own("ddos-ipset" + $l))) | \(allowed($l) | ns) |"),
	([$sizes[] | allowed(.)] | map(select(. != null))) as $a |
	(if ($a | length) > 1 then "",
		"Allowed traffic, dd0 own cost between the sizes: \(($a | max) - ($a | min) | ns) ns apart (target <= 15)."
	 else empty end)
	end' "$1"
}

# Every CPU at once against one: aggregate Mpps, the scaling factor, and
# the Linux counterpart's, from summary.json.
table_scaling() {
	jq -r "$JQ_LIB"'
	(.scenarios | map({key: .scenario, value: .}) | from_entries) as $by |
	"| Scenario | What | Mpps, 1 CPU | Mpps, all CPUs | scaling | Linux counterpart: scaling | scaling by kernel timer |",
	"|---|---|---:|---:|---:|---:|---:|",
	(.scenarios[] | select(.cpus > 1) | (.scenario | sub("@[0-9]+$"; "")) as $one |
	 (if .counterpart then $by[.counterpart] else null end) as $cp |
	 "| \($one) | \($by[$one].desc // .desc) | \($by[$one].pps.median | mpps) | \(.pps.median | mpps) | " +
	 (if .scaling == null then "—" else "×\(.scaling.pps | f2)" end) + " | " +
	 (if $cp == null or $cp.scaling == null then "—" else "×\($cp.scaling.pps | f2) (\($cp.scenario | sub("@[0-9]+$"; "")))" end) + " | " +
	 # the kernel timer of every valid run, disturbed or not: a figure
	 # even on a busy machine
	 (if .kernel_pps == null or $by[$one].kernel_pps == null then "—"
	  else "×\(.kernel_pps.median / $by[$one].kernel_pps.median | f2)" end) + " |")' "$1"
}

# The conservation line of every scenario: frames per stage over all runs.
table_conservation() {
	jq -r '
	"| Scenario | generated | dut_rx | dut_fwd | sink_rx | |",
	"|---|---:|---:|---:|---:|---|",
	(.scenarios[] | .stages as $s |
	 "| \(.scenario) | \($s.generated) | \($s.dut_rx) | \($s.dut_fwd // "—") | \($s.sink_rx) | " +
	 (if .expect == "drop" then "dropped on purpose, \($s.dut_drop) counted by the DUT; " else "" end) +
	 (if .invalid == 0 then "conserved in \(.runs) runs"
	  else "\(.invalid) of \(.runs) runs invalid" end) + " |")' "$1"
}

# Micro benchmark summary: per case the kernel-measured ns/packet (median,
# min, max over runs; the kernel reports whole ns), its cost above the empty
# program, and the per-hop cost as the least-squares slope of the chains'
# medians against their length (sub-ns precise over 1..32 hops).
summarize_micro() { # micro.jsonl > micro-summary.json
	jq -n "$JQ_LIB"'
	[inputs] as $c |
	($c | map(. + {k: (.kernel_ns | {min: min, median: median, max: max})})) as $c |
	($c | map(select(.case == "empty XDP program"))[0].k.median) as $floor |
	($c | map(select(.case == "chain-1"))[0].k.median) as $one |
	($c | map(select(.hops > 0 and (.case | startswith("chain-"))))) as $ch |
	(if ($ch | length) >= 2 then
		($ch | map(.hops) | add / length) as $mx |
		($ch | map(.k.median) | add / length) as $my |
		(($ch | map((.hops - $mx) * (.k.median - $my)) | add) /
		 ($ch | map((.hops - $mx) * (.hops - $mx)) | add))
	 else null end) as $slope |
	# Marginal cost per hop from one chain length to the next: shows
	# whether the cost grows faster than the length.
	($ch | sort_by(.hops) | [range(1; length) as $i | {key: .[$i].case,
		value: ((.[$i].k.median - .[$i - 1].k.median) / (.[$i].hops - .[$i - 1].hops))}]
		| from_entries) as $marg |
	{ cases: ($c | map(. + {
		above_empty: (if $floor == null then null else .k.median - $floor end),
		above_chain1: (if $one == null or .hops <= 1 or (.case == "chain-1") then null
		               else .k.median - $one end),
		hop_marginal: $marg[.case]})),
	  per_hop_ns: $slope,
	  chains: ($ch | map(.hops)) }' "$1"
}

table_micro() {
	jq -r "$JQ_LIB"'
	"| Program | NF hops | ns/packet median (min–max) | above the empty program | above chain-1 (the forwarder) | ns a hop since the previous chain |",
	"|---|---:|---:|---:|---:|---:|",
	(.cases[] |
	 "| \(.case) | \(if .hops < 0 then "—" else .hops end) | \(.k.median | ns) (\(.k.min | ns)–\(.k.max | ns)) | \(.above_empty | ns) | \(.above_chain1 | ns) | \(.hop_marginal | f1) |"),
	"",
	(if .per_hop_ns == null then "Per-hop cost: needs nfchain chains (nfctl not built)."
	 else "Per-hop cost: \(.per_hop_ns | f1) ns (least-squares slope over chains of \(.chains | map(tostring) | join(", ")) forwarders; target ≤ 5 ns (docs/performance.md): \(if .per_hop_ns <= 5 then "met" else "NOT met" end))." end)' "$1"
}

# PNG plots through gnuplot: pps per scenario with min/max bars, and pps
# against chain length with the floor and the Linux bridge for reference.
plots() { # summary.json outdir
	local sum=$1 dir=$2 floor bridge
	command -v gnuplot >/dev/null || { warn "gnuplot missing: no plots"; return 0; }
	# Colour by kind: baseline grey, floor green, Linux red, nfchain blue.
	jq -r '.scenarios[] | select(.pps != null) |
		({base: 10066329, floor: 2263091, linux: 13395575, nfchain: 4487082}[.group] // 0) as $rgb |
		"\(.scenario)\t\(.pps.median / 1e6)\t\(.pps.min / 1e6)\t\(.pps.max / 1e6)\t\($rgb)"' \
		"$sum" >"$dir/pps.tsv"
	jq -r '.scenarios[] | select(.chain != null and .pps != null) |
		"\(.chain)\t\(.pps.median / 1e6)\t\(.pps.min / 1e6)\t\(.pps.max / 1e6)"' \
		"$sum" | sort -n >"$dir/chain.tsv"
	floor=$(jq -r '.scenarios[] | select(.scenario == "floor") | .pps.median // empty | . / 1e6' "$sum")
	bridge=$(jq -r '.scenarios[] | select(.scenario == "linux-bridge") | .pps.median // empty | . / 1e6' "$sum")
	[ -s "$dir/pps.tsv" ] || return 0
	gnuplot <<EOF || warn "gnuplot failed: no plots"
set terminal pngcairo size 900,480 font "sans,9"
set datafile separator "\t"
set output "$dir/perf-throughput.png"
set title "Throughput, gen -> DUT -> sink over veth, $SIZE B frames: median, bars min to max"
set ylabel "Mpps"
set yrange [0:*]
set style fill solid 0.6 border -1
set boxwidth 0.7
set xtics rotate by -35 left
set grid ytics
set key off
set bmargin 7
plot "$dir/pps.tsv" using 0:2:5:xtic(1) with boxes lc rgb variable, \
     "" using 0:2:3:4 with yerrorbars lc rgb "black" pt 0
EOF
	if [ -s "$dir/chain.tsv" ]; then
		local refs=''
		[ -n "$floor" ] && refs+=", $floor with lines dt 2 lw 2 lc rgb '#228833' title 'floor: one bare XDP redirect hop'"
		[ -n "$bridge" ] && refs+=", $bridge with lines dt 4 lw 2 lc rgb '#cc6677' title 'Linux bridge'"
		gnuplot <<EOF || warn "gnuplot failed: no chain plot"
set terminal pngcairo size 640,400 font "sans,9"
set datafile separator "\t"
set output "$dir/perf-chain.png"
set title "nfchain: throughput against chain length (forwarders, XDP)"
set xlabel "forwarders in the chain"
set ylabel "Mpps"
set yrange [0:*]
set logscale x 2
set xrange [0.8:20]
set xtics ("1" 1, "2" 2, "4" 4, "8" 8, "16" 16)
set grid
set key below
plot "$dir/chain.tsv" using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '#4477aa' title "nfchain chain of forwarders (median, min-max)"$refs
EOF
	fi
}

# The environment line every report carries.
machine_info() {
	local cpu mem
	cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
	echo "$(nproc) × $cpu, $mem RAM; kernel $(uname -r); $(
		systemd-detect-virt 2>/dev/null | sed 's/^none$/bare metal/' || echo "virt: unknown");" \
		"load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
}

# Replace the generated block of docs/performance.md and copy the plots.
update_docs() { # results-dir report.md
	local doc=$ROOT/docs/performance.md dir=$1 rep=$2 begin end
	begin='<!-- bench:begin (generated by bench/run --docs; edits here are overwritten) -->'
	end='<!-- bench:end -->'
	if ! grep -qF "$begin" "$doc" 2>/dev/null; then
		warn "$doc has no generated block ($begin): not updated"
		return 1
	fi
	awk -v b="$begin" -v e="$end" -v f="$rep" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' "$doc" >"$doc.new" && mv "$doc.new" "$doc"
	for p in perf-throughput.png perf-chain.png; do
		[ -f "$dir/$p" ] && cp "$dir/$p" "$ROOT/docs/$p"
	done
	return 0
}
