# shellcheck shell=bash
# The benchmark harness: hosts in namespaces, one measured run, counters at
# every stage, cleanup. Sourced by bench/run; scenarios (bench/scenarios/)
# only configure the device under test through the helpers below.
#
# Topology of every run (each box a network namespace of its own):
#
#   [gen] GEN_IF ═veth═ DUT_IN [dut] DUT_OUT ═veth═ SINK_IF [sink]
#
# The generator (nfcb gen: BPF_PROG_TEST_RUN with live frames) redirects
# frames into GEN_IF; the DUT gets them on DUT_IN and must deliver them out
# of DUT_OUT; the sink (nfcb sink: XDP count-and-drop) counts them on
# SINK_IF. The "drop" baseline attaches the sink on DUT_IN instead.
#
# Addresses: the generator's side is 198.51.100.0/24, the sink's side
# 203.0.113.0/24 (frames go from 198.51.100.128+ to 203.0.113.128+). No
# address of 192.0.2.0/24 (the machine's own network) is ever used, and
# forwarding is only ever switched on inside the DUT namespace. IPv6
# scenarios (SCN_FAMILY=6) send from 2001:db8:100::80+ to
# 2001:db8:8001:86a0::80+, routed to the sink's 2001:db8:113::2.

# ---- identity and paths ---------------------------------------------------

NFCB_ID=${NFCB_ID:-nfcb$$}                 # unique per invocation: pid
NS_GEN=$NFCB_ID-gen
NS_DUT=$NFCB_ID-dut
NS_SINK=$NFCB_ID-sink
NS_MICRO=$NFCB_ID-micro
# Interface names carry the id too (IFNAMSIZ 15: "nfb4194304g0" is 12).
IF_PFX=nfb$$
GEN_IF=${IF_PFX}g0
DUT_IN=${IF_PFX}d0
DUT_OUT=${IF_PFX}d1
SINK_IF=${IF_PFX}s0
PIN_ROOT=/sys/fs/bpf/$NFCB_ID              # everything we pin lives here

# Bounds: no run of ours may hang the machine's test suite.
GEN_TIMEOUT=${GEN_TIMEOUT:-120}            # seconds for one generator run
CMD_TIMEOUT=${CMD_TIMEOUT:-60}             # seconds for any setup command

log() { printf '%s\n' "$*" >&2; }
warn() { printf 'bench: %s\n' "$*" >&2; }

# Run a command inside a namespace. nsenter --net keeps our mount
# namespace (and so /sys/fs/bpf); `ip netns exec` would remount /sys.
in_ns() {
	local ns=$1
	shift
	timeout --foreground "$CMD_TIMEOUT" nsenter --net="/var/run/netns/$ns" -- "$@"
}
dut() { in_ns "$NS_DUT" "$@"; }

# nfctl against our private pin root, inside the DUT namespace.
nfc() { in_ns "${NFC_NS:-$NS_DUT}" "$NFCTL" --pin-root "$PIN_ROOT/nfc" "$@"; }

# ---- what is installed ----------------------------------------------------

have_nfctl() { [ -x "${NFCTL:-}" ]; }

# Which iptables: the legacy x_tables walk is what "iptables" means to the
# people comparing against it; iptables-nft would measure nftables twice.
iptables_cmd() {
	if command -v iptables-legacy >/dev/null; then
		echo iptables-legacy
	elif command -v iptables >/dev/null; then
		echo iptables
	fi
}

# ---- namespaces and veths ---------------------------------------------------

ns_add() {
	local ns=$1
	ip netns add "$ns" || return 1
	# No IPv6: router solicitations, MLD and ND would add frames to the
	# counters on the path (and count as foreign at the sink).
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null &&
		ip -n "$ns" link set lo up
}

ns_del_all() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in "$NFCB_ID"-*) ip netns del "$ns" 2>/dev/null ;; esac
	done
}

# Interface counters (stats64) inside a namespace: "rx_packets rx_dropped
# tx_packets tx_dropped". On a veth, rx counts what its NAPI polled (XDP
# and skb alike) and rx_dropped what did not fit its ring; tx counts what
# its peer polled, tx_dropped what the peer's ring refused.
if_counters() {
	ip -n "$1" -j -s link show dev "$2" |
		jq -r '.[0].stats64 | "\(.rx.packets) \(.rx.dropped) \(.tx.packets) \(.tx.dropped)"'
}

if_mac() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'; }
if_index() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].ifindex'; }

# Veth pair straight between two namespaces: the ends never exist in the
# root namespace, so no name there can clash with ours.
veth_pair() { # ns1 if1 ns2 if2
	local q=${VETH_QUEUES:+numtxqueues $VETH_QUEUES numrxqueues $VETH_QUEUES}
	# shellcheck disable=SC2086 # $q: several words or none
	ip link add "$2" netns "$1" $q type veth peer name "$4" netns "$3" $q &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up ||
		return 1
	[ -z "${VETH_QUEUES:-}" ] || { xps_per_cpu "$1" "$2" && xps_per_cpu "$3" "$4"; }
}

# A queue per CPU (--multi-cpu) is for each CPU's frames to stay on their
# own queue from generator to sink. An XDP redirect picks the peer's queue
# by the sending CPU; the stack's transmit (the Linux DUTs) picks it by
# XPS, or else by a hash of the flow, which put one CPU's frames on the
# other CPU's ring: drained only between that CPU's generator batches, it
# overflowed (linux-bridge@2 and linux-forward@2 lost up to 16 % of their
# frames at the sink, every run invalid). Transmit queue q: CPU q. ip netns
# exec, not nsenter: /sys must be the namespace's.
xps_per_cpu() { # ns if
	local q
	for ((q = 0; q < VETH_QUEUES; q++)); do
		ip netns exec "$1" sh -c "printf %x $((1 << q)) >/sys/class/net/$2/queues/tx-$q/xps_cpus" ||
			return 1
	done
}

# A veth only receives XDP-redirected frames if NAPI is on for it: an XDP
# program on it, or GRO. Without either the frames are dropped silently,
# counted nowhere (measured here: 100,000 redirected, 0 received).
napi_on() { in_ns "$1" ethtool -K "$2" gro on >/dev/null; }

topo_up() {
	ns_add "$NS_GEN" && ns_add "$NS_DUT" && ns_add "$NS_SINK" &&
		veth_pair "$NS_GEN" "$GEN_IF" "$NS_DUT" "$DUT_IN" &&
		veth_pair "$NS_DUT" "$DUT_OUT" "$NS_SINK" "$SINK_IF" || return 1
	# NAPI on the DUT's ingress, whatever the DUT: XDP DUTs have it anyway,
	# the Linux stack needs GRO for the generator's frames to arrive at all.
	# The "no-napi" fault leaves it off to prove the loss is caught.
	if [ "${FAULT:-}" != no-napi ]; then
		napi_on "$NS_DUT" "$DUT_IN" || return 1
	fi
	napi_on "$NS_SINK" "$SINK_IF" || return 1
	GEN_MAC=$(if_mac "$NS_GEN" "$GEN_IF")
	DUT_IN_MAC=$(if_mac "$NS_DUT" "$DUT_IN")
	DUT_OUT_MAC=$(if_mac "$NS_DUT" "$DUT_OUT")
	SINK_MAC=$(if_mac "$NS_SINK" "$SINK_IF")
	mkdir -p "$PIN_ROOT"
}

# nfchain's pins go first, while its namespace still exists (a scenario
# that forgot its teardown leaves nothing either); deleting the namespaces
# then takes the veths, bridges, rules and attachments with them.
topo_down() {
	nfc_reset >/dev/null 2>&1
	ns_del_all
	rm -rf "$PIN_ROOT"/sink "$PIN_ROOT"/hop
}

# ---- scenarios --------------------------------------------------------------

# A scenario is bench/scenarios/<file>.sh; a file that defines scn_variants
# yields one scenario per variant, named <file>-<variant> (SCN_ARG=variant).
# SCN_ORDER places it in the tables and plots: 0 the baseline, 1 the floor,
# 10-19 Linux, 20-29 nfchain's forwarder and chains, 30 and up one decade
# per NF (30 bridge, 40 router, ...).
scenario_names() {
	local f base v
	for f in "$BENCH_DIR"/scenarios/*.sh; do
		base=$(basename "$f" .sh)
		(
			unset -f scn_variants
			SCN_ARG=
			# shellcheck disable=SC1090
			. "$f"
			if declare -F scn_variants >/dev/null; then
				for v in $(scn_variants); do echo "$base-$v"; done
			else
				echo "$base"
			fi
		)
	done
}

# Load scenario NAME: sets SCN_* and scn_setup / scn_teardown.
scenario_load() {
	local name=$1 f base
	unset -f scn_setup scn_teardown scn_variants scn_dut_counters scn_dut_drops
	SCN_NAME=$name SCN_ARG='' SCN_DESC='' SCN_GROUP='' SCN_COUNTERPART=''
	SCN_DST=ingress SCN_SINK_AT=sink SCN_CHAIN='' SCN_NEEDS='' SCN_ORDER=50
	SCN_FAMILY=4 SCN_EXPECT=forward
	f=$BENCH_DIR/scenarios/$name.sh
	if [ ! -f "$f" ]; then
		base=${name%-*}
		f=$BENCH_DIR/scenarios/$base.sh
		SCN_ARG=${name##*-}
		[ -f "$f" ] || { warn "unknown scenario '$name' (bench/run --list)"; return 1; }
	fi
	# shellcheck disable=SC1090
	. "$f"
	declare -F scn_setup >/dev/null || { warn "$f defines no scn_setup"; return 1; }
	if [ -n "$SCN_ARG" ] && ! scn_variants | tr ' ' '\n' | grep -x -- "$SCN_ARG" >/dev/null; then
		warn "unknown scenario '$name': $f has variants $(scn_variants)"
		return 1
	fi
}

# Whether the kernel has an ipset set type (a module may be missing): tried
# in a namespace of its own, since sets belong to a network namespace.
ipset_type_ok() { # type
	local ns=nfcb-ipset-$$ rc
	ip netns add "$ns" 2>/dev/null || return 1
	ip netns exec "$ns" ipset create probe "$1" >/dev/null 2>&1
	rc=$?
	ip netns del "$ns"
	return $rc
}

# Whether the kernel has IPVS: /proc/net/ip_vs exists where it is built
# in or loaded; else the kernel's config says whether a module could be.
ipvs_ok() {
	[ -e /proc/net/ip_vs ] && return 0
	{ zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null; } |
		grep -q '^CONFIG_IP_VS=[ym]' || return 1
	modprobe -q ip_vs 2>/dev/null
	[ -e /proc/net/ip_vs ]
}

# Why this scenario cannot run here, or nothing.
scenario_missing() {
	local need
	for need in $SCN_NEEDS; do
		case $need in
		nfctl) have_nfctl || { echo "nfctl not built (${NFCTL:-unset})"; return; } ;;
		iptables) [ -n "$(iptables_cmd)" ] || { echo "iptables not installed"; return; } ;;
		ipvs) ipvs_ok || { echo "not available on this kernel (CONFIG_IP_VS unset)"; return; } ;;
		ipset:*) ipset_type_ok "${need#ipset:}" ||
			{ echo "this kernel has no ipset type ${need#ipset:}"; return; } ;;
		*) command -v "$need" >/dev/null || { echo "$need not installed"; return; } ;;
		esac
	done
}

# ---- one measured run -------------------------------------------------------

# Run the generator inside its namespace; prints its JSON. `first`: the
# number of the first frame's flow (new-flow runs start past the warm-up's).
gen_run() { # count [first]
	local mac
	case $SCN_DST in
	ingress) mac=$DUT_IN_MAC ;;
	sink) mac=$SINK_MAC ;;
	*) warn "SCN_DST=$SCN_DST: want ingress or sink"; return 1 ;;
	esac
	timeout --foreground "$GEN_TIMEOUT" nsenter --net="/var/run/netns/$NS_GEN" -- \
		"$NFCB" gen --dev "$GEN_IF" --dst-mac "$mac" --count "$1" \
		--size "$SIZE" --saddrs "$FLOW_SA" --daddrs "$FLOW_DA" \
		--sports "$FLOW_SP" --dports "$FLOW_DP" --first "${2:-0}" --family "$SCN_FAMILY" \
		$(if [ -n "${RUN_CPUS:-}" ]; then echo --cpus "$RUN_CPUS"; else echo ${GEN_CPU:+--cpu "$GEN_CPU"}; fi) \
		--sink-pin "$PIN_ROOT/sink"
}

# Measure the current scenario once: prints one JSON object. Arguments:
# repeat number, own-cost baseline (pps of the drop run of this round, or
# empty), and the same by the kernel timer (for scenarios that drop).
# Never fails: a run that goes wrong is a record with "error".
measure() {
	local rep=$1 base_pps=$2 sink_ns sink_if err='' g c0 c1 s
	if [ "$SCN_SINK_AT" = ingress ]; then
		sink_ns=$NS_DUT sink_if=$DUT_IN
	else
		sink_ns=$NS_SINK sink_if=$SINK_IF
	fi
	if ! topo_up 2>"$TMP/err"; then
		err="topology: $(tr '\n' ' ' <"$TMP/err")"
	elif ! in_ns "$sink_ns" "$NFCB" sink attach --dev "$sink_if" --pin "$PIN_ROOT/sink" 2>"$TMP/err"; then
		err="sink: $(tr '\n' ' ' <"$TMP/err")"
	elif ! scn_setup >"$TMP/setup.log" 2>&1; then
		err="setup of $SCN_NAME failed: $(tail -n 3 "$TMP/setup.log" | tr '\n' ' ')"
		SCN_ACTIVE=1
	else
		SCN_ACTIVE=1
		# Warm-up: fills FDBs, neighbour and route caches, page pools.
		if ! gen_run "$WARMUP" >/dev/null 2>"$TMP/err"; then
			err="warm-up: $(tr '\n' ' ' <"$TMP/err")"
		else
			c0=$(stage_counters)
			# --new-flows: every timed frame a flow the warm-up
			# did not send (bench/run checks there are enough).
			if ! g=$(gen_run "$COUNT" "${NEW_FLOWS:+$WARMUP}" 2>"$TMP/err"); then
				err="generator: $(tr '\n' ' ' <"$TMP/err")"
			fi
			c1=$(stage_counters)
		fi
	fi
	if [ -n "$SCN_ACTIVE" ] && declare -F scn_teardown >/dev/null; then
		scn_teardown >/dev/null 2>&1 || true
	fi
	SCN_ACTIVE=
	topo_down

	s=$(jq -n --arg name "$SCN_NAME" --arg desc "$SCN_DESC" --arg group "$SCN_GROUP" \
		--arg cp "$SCN_COUNTERPART" --arg chain "$SCN_CHAIN" --arg run "$RUN_ID" \
		--argjson rep "$rep" --argjson count "$COUNT" --argjson size "$SIZE" \
		--arg fault "${FAULT:-}" --arg order "$SCN_ORDER" --arg sink_at "$SCN_SINK_AT" \
		--argjson family "$SCN_FAMILY" --arg expect "$SCN_EXPECT" \
		'{run_id:$run, scenario:$name, desc:$desc, group:$group, family:$family, expect:$expect,
		  counterpart:(if $cp == "" then null else $cp end),
		  chain:(if $chain == "" then null else ($chain|tonumber) end),
		  order:($order|tonumber), sink_at:$sink_at, repeat:$rep, count:$count, size:$size,
		  fault:(if $fault == "" then null else $fault end)}')
	if [ -n "$err" ]; then
		jq -c -n --argjson s "$s" --arg err "$err" \
			'$s + {valid:false, error:$err, pps:null, own_ns_round:null}'
		return
	fi
	if [ "$SCN_EXPECT" = drop ]; then
		conservation_drop "$s" "$g" "$c0" "$c1" "${3:-}"
	else
		conservation "$s" "$g" "$c0" "$c1" "$base_pps"
	fi
}

# DUT-side counters, before and after: "in_rx in_rxdrop out_tx out_txdrop",
# and the DUT's own drop counter (scn_dut_drops: scenarios that drop).
stage_counters() {
	local a b d=0
	a=$(if_counters "$NS_DUT" "$DUT_IN")
	if [ "$SCN_SINK_AT" = ingress ]; then
		b="0 0 0 0"
	else
		b=$(if_counters "$NS_DUT" "$DUT_OUT")
	fi
	if [ "$SCN_EXPECT" = drop ]; then
		d=$(scn_dut_drops) && [[ $d =~ ^[0-9]+$ ]] || d=-1
	fi
	echo "$a $b $d"
}

# The conservation line. Stages, in order:
#   generated  frames the generator program wrote and redirected
#   dut_rx     frames the DUT's ingress veth polled (its rx_packets)
#   dut_fwd    frames the DUT pushed out of its egress veth (tx_packets +
#              tx_dropped: what it sent, taken or not by the next ring)
#   sink_rx    frames the sink counted
# Every frame generated must reach the sink; where a stage has fewer than
# the one before, the run is invalid and that stage is named. dut_rx_dropped
# (ring full at the DUT's ingress) explains a gen-dut loss when it is set;
# a loss nothing explains is a silent drop (no NAPI on a veth, say).
conservation() { # base-json gen-json counters-before counters-after base_pps
	jq -c -n --argjson s "$1" --argjson g "$2" --arg c0 "$3" --arg c1 "$4" \
		--arg base "$5" '
	($c0 | split(" ") | map(tonumber)) as $a |
	($c1 | split(" ") | map(tonumber)) as $b |
	([range(0; 9)] | map(($b[.] // 0) - ($a[.] // 0))) as $d |
	($s.sink_at == "ingress") as $nofwd |
	{ generated: $g.generated,
	  dut_rx: $d[0], dut_rx_dropped: $d[1],
	  dut_fwd: (if $nofwd then null else $d[6] + $d[7] end),
	  dut_tx_dropped: (if $nofwd then null else $d[7] end),
	  sink_rx: $g.sink_rx, sink_foreign: $g.sink_foreign } as $c |
	($c.dut_fwd) as $fwd |
	# [counter, count, name of the stage that ends at it]; the drop
	# baseline has no forwarding stage (its sink sits at the DUT ingress).
	([["generated", $c.generated, null], ["dut_rx", $c.dut_rx, "gen->dut"]]
	 + (if $fwd == null then [["sink_rx", $c.sink_rx, "dut-ingress->sink"]]
	    else [["dut_fwd", $fwd, "dut"], ["sink_rx", $c.sink_rx, "dut->sink"]] end)) as $st |
	([range(1; $st|length) | select($st[.][1] != $st[.-1][1]) |
	  {stage: $st[.][2], from: $st[.-1][0], to: $st[.][0],
	   lost: ($st[.-1][1] - $st[.][1])}]) as $bad |
	(if ($bad|length) == 0 then null else $bad[0] end) as $first |
	# The rate is taken at the sink: frames it counted over the time between its
	# first and last counts (nfcb gen: the set-up and tear-down of the syscall
	# are not traffic).
	($g.elapsed_ns) as $ns |
	# every generator (one per CPU with --multi-cpu) writes count frames
	($s.count * ($g.cpus // 1)) as $want |
	(if $g.pps > 0 then $g.pps else null end) as $pps |
	(if ($base != "") and $pps != null and $pps > 0
	 then 1e9 / $pps - 1e9 / ($base|tonumber) else null end) as $own |
	$s + $c + {
	  elapsed_ns: $ns, timed_frames: $g.timed_frames, syscall_ns: $g.syscall_ns,
	  pps: $pps, own_ns_round: $own, flows: $g.flows, cpu: $g.cpu, cpus: ($g.cpus // 1),
	  kernel_ns_per_frame: $g.kernel_ns_per_frame,
	  # Was the generator off its CPU during the run? The own timer of the
	  # kernel (kernel_ns_per_frame) stops while it is preempted; the clock
	  # of the sink does not. Measured on this machine: quiet runs agree
	  # within 1-5 %, a run with a neighbour on the CPU did not (up to 3x),
	  # while the kernel timer stayed within 3 % across both. Above 10 %
	  # the run is disturbed: bench/run runs it again and leaves it out.
	  # (/proc/stat ticks, cpu_other and cpu_steal, are kept as a second
	  # opinion; they miss a neighbour that spends its time in the kernel.)
	  cpu_other: $g.cpu_other, cpu_steal: $g.cpu_steal,
	  off_cpu: (if $pps == null or $g.kernel_ns_per_frame == 0 then null
	            else 1 - $g.kernel_ns_per_frame * $pps / 1e9 end),
	  disturbed: ($pps != null and $g.kernel_ns_per_frame > 0 and
	              1e9 / $pps > 1.10 * $g.kernel_ns_per_frame),
	  kernel_pps: (if $g.kernel_ns_per_frame > 0 then 1e9 / $g.kernel_ns_per_frame else null end),
	  valid: (($bad|length) == 0 and $c.sink_foreign == 0 and $g.generated == $want),
	  lost_stage: (if $first == null then null else $first.stage end),
	  lost: (if $first == null then 0 else $first.lost end),
	  losses: $bad,
	  problem: (
	    if $first != null then
	      ("stage " + $first.stage + " " +
	       (if $first.lost > 0 then "lost " + ($first.lost|tostring)
	        else "gained " + (-$first.lost|tostring) end) + " frames (" +
	       $first.from + " " + ($st | map(select(.[0] == $first.from))[0][1] | tostring) +
	       ", " + $first.to + " " + ($st | map(select(.[0] == $first.to))[0][1] | tostring) +
	       ")" +
	       (if $first.stage == "gen->dut" then
	          (if $c.dut_rx_dropped > 0 then " (" + ($c.dut_rx_dropped|tostring) +
	             " refused by a full ring at the DUT ingress)"
	           else " silently (no NAPI on the DUT ingress veth?)" end)
	        elif $first.stage == "dut->sink" and $c.dut_tx_dropped > 0 then
	          " (" + ($c.dut_tx_dropped|tostring) + " refused by a full ring at the sink)"
	        else "" end))
	    elif $c.sink_foreign > 0 then
	      ($c.sink_foreign|tostring) + " foreign frames at the sink"
	    elif $g.generated != $want then
	      "generator wrote " + ($g.generated|tostring) + " of " + ($want|tostring) + " frames"
	    else null end)
	}'
}

# The conservation line of a scenario that drops every frame on purpose
# (SCN_EXPECT=drop: a blocklist, a drop rule), counted by the DUT's own
# counter (scn_dut_drops). Stages: generated = dut_rx = dut_drop, and
# nothing forwarded (dut_fwd) nor counted at the sink. A frame dropped
# but not counted by the DUT, or let through, makes the run invalid.
# The rate: no frame reaches the sink, so it is the kernel timer's
# (kernel_ns_per_frame; BRIEF.md: within 1-5 % of the sink's clock on
# quiet runs, and it stops while the generator is off its CPU, so a
# disturbed run cannot be told apart: none is marked disturbed). Own cost
# against the drop baseline by the same timer.
conservation_drop() { # base-json gen-json counters-before counters-after base_kernel_pps
	jq -c -n --argjson s "$1" --argjson g "$2" --arg c0 "$3" --arg c1 "$4" \
		--arg base "$5" '
	($c0 | split(" ") | map(tonumber)) as $a |
	($c1 | split(" ") | map(tonumber)) as $b |
	([range(0; 9)] | map($b[.] - $a[.])) as $d |
	(if $a[8] < 0 or $b[8] < 0 then null else $d[8] end) as $drop |
	{ generated: $g.generated, dut_rx: $d[0], dut_rx_dropped: $d[1],
	  dut_fwd: ($d[6] + $d[7]), dut_tx_dropped: $d[7], dut_drop: $drop,
	  sink_rx: $g.sink_rx, sink_foreign: $g.sink_foreign } as $c |
	([["generated", $c.generated, null], ["dut_rx", $c.dut_rx, "gen->dut"],
	  ["dut_drop", $c.dut_drop, "dut (drop counter)"]]) as $st |
	([range(1; 3) | select($st[.][1] != $st[.-1][1]) |
	  {stage: $st[.][2], from: $st[.-1][0], to: $st[.][0],
	   lost: (if $st[.][1] == null then null else $st[.-1][1] - $st[.][1] end)}]) as $bad |
	(if ($bad|length) == 0 then null else $bad[0] end) as $first |
	($s.count * ($g.cpus // 1)) as $want |
	(if $g.kernel_ns_per_frame > 0 then 1e9 / $g.kernel_ns_per_frame else null end) as $kpps |
	$s + $c + {
	  elapsed_ns: $g.syscall_ns, timed_frames: $g.generated, syscall_ns: $g.syscall_ns,
	  pps: $kpps, rate_from: "kernel timer", kernel_pps: $kpps,
	  own_ns_round: (if $base != "" and $kpps != null then 1e9 / $kpps - 1e9 / ($base|tonumber) else null end),
	  flows: $g.flows, cpu: $g.cpu, cpus: ($g.cpus // 1),
	  kernel_ns_per_frame: $g.kernel_ns_per_frame,
	  cpu_other: $g.cpu_other, cpu_steal: $g.cpu_steal, off_cpu: null, disturbed: false,
	  valid: (($bad|length) == 0 and $c.dut_fwd == 0 and $c.sink_rx == 0 and
	          $c.sink_foreign == 0 and $g.generated == $want and $kpps != null),
	  lost_stage: (if $first == null then null else $first.stage end),
	  lost: (if $first == null then 0 else $first.lost end),
	  losses: $bad,
	  problem: (
	    if $first != null and $first.lost == null then "the DUT drop counter could not be read"
	    elif $first != null then
	      ("stage " + $first.stage + " " +
	       (if $first.lost > 0 then "lost " + ($first.lost|tostring)
	        else "gained " + (-$first.lost|tostring) end) + " frames (" +
	       $first.from + " " + ($st | map(select(.[0] == $first.from))[0][1] | tostring) +
	       ", " + $first.to + " " + ($st | map(select(.[0] == $first.to))[0][1] | tostring) + ")")
	    elif $c.dut_fwd != 0 or $c.sink_rx != 0 then
	      "the DUT let frames through that it should drop (dut_fwd " + ($c.dut_fwd|tostring) +
	      ", sink_rx " + ($c.sink_rx|tostring) + ")"
	    elif $c.sink_foreign > 0 then
	      ($c.sink_foreign|tostring) + " foreign frames at the sink"
	    elif $g.generated != $want then
	      "generator wrote " + ($g.generated|tostring) + " of " + ($want|tostring) + " frames"
	    elif $kpps == null then "no kernel timing"
	    else null end)
	}'
}

# ---- building blocks for scenarios ------------------------------------------

# The DUT namespace as an IPv4 router: DUT_IN on the generator's side,
# DUT_OUT on the sink's, the generator's destinations (203.0.113.128/25)
# routed to the sink through a permanent neighbour entry, so the DUT never
# has to ARP (its ARP requests would be frames on the counted path).
dut_router() {
	dut ip addr add 198.51.100.1/25 dev "$DUT_IN" &&
		dut ip addr add 203.0.113.1/25 dev "$DUT_OUT" &&
		dut ip neigh replace 203.0.113.2 lladdr "$SINK_MAC" dev "$DUT_OUT" nud permanent &&
		dut ip route add 203.0.113.128/25 via 203.0.113.2 dev "$DUT_OUT" &&
		# Our sources (198.51.100.128/25) sit behind DUT_IN but are not
		# on its subnet: no reverse-path filter may drop them.
		dut sysctl -qw net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 \
			"net.ipv4.conf.$DUT_IN.rp_filter=0" \
			net.ipv4.ip_forward=1 >/dev/null
}

# The DUT namespace as an IPv6 router, as dut_router for IPv4: the
# generator's destinations (2001:db8:8001:86a0::/64) routed to the sink
# (2001:db8:113::2, a permanent neighbour entry: no solicitation). IPv6
# goes on for the two veths only, without DAD, autoconfiguration or
# router solicitations; what the kernel still sends on its own (MLD
# reports for the groups it joins) goes out at once (no random delay)
# and dut_quiet waits for it to pass, so
# that no frame of the DUT's own lands in a measured run.
dut_router6() {
	local i
	for i in "$DUT_IN" "$DUT_OUT"; do
		dut sysctl -qw "net.ipv6.conf.$i.accept_dad=0" \
			"net.ipv6.conf.$i.accept_ra=0" \
			"net.ipv6.conf.$i.router_solicitations=0" \
			"net.ipv6.conf.$i.mldv2_unsolicited_report_interval=0" \
			"net.ipv6.conf.$i.mldv1_unsolicited_report_interval=0" \
			"net.ipv6.conf.$i.addr_gen_mode=1" >/dev/null || return 1
	done
	dut sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
		"net.ipv6.conf.$DUT_IN.disable_ipv6=0" \
		"net.ipv6.conf.$DUT_OUT.disable_ipv6=0" \
		net.ipv6.conf.all.forwarding=1 >/dev/null &&
		dut ip -6 addr add 2001:db8:100::1/64 dev "$DUT_IN" nodad &&
		dut ip -6 addr add 2001:db8:113::1/64 dev "$DUT_OUT" nodad &&
		dut ip -6 neigh replace 2001:db8:113::2 lladdr "$SINK_MAC" dev "$DUT_OUT" nud permanent &&
		dut ip -6 route add 2001:db8:8001:86a0::/64 via 2001:db8:113::2 dev "$DUT_OUT"
}

# Wait (at most 10 s) until the DUT has sent nothing out of DUT_OUT for
# a second: its own frames would count as forwarded ones.
dut_quiet() {
	local a b i
	a=$(if_counters "$NS_DUT" "$DUT_OUT")
	for ((i = 0; i < 10; i++)); do
		sleep 1
		b=$(if_counters "$NS_DUT" "$DUT_OUT")
		[ "$a" = "$b" ] && return 0
		a=$b
	done
	warn "DUT_OUT still sending after 10 s"
	return 1
}

# The DUT namespace as a two-port Linux bridge, the sink's MAC known on
# DUT_OUT (a static FDB entry: unknown unicast would be flooded, which is
# not what a bridge does once it has learnt). Multicast snooping off: with
# it, br0 joins 224.0.0.106 and sends IGMP reports for a few seconds after
# it comes up, frames that land in the middle of a run (seen here). It does
# not touch the unicast path.
dut_bridge() {
	dut ip link add br0 type bridge mcast_snooping 0 &&
		dut ip link set "$DUT_IN" master br0 &&
		dut ip link set "$DUT_OUT" master br0 &&
		dut ip link set br0 up &&
		dut bridge fdb replace "$SINK_MAC" dev "$DUT_OUT" master static
}

# A chain of N forwarders between DUT_IN and DUT_OUT, in MODE (xdp,
# xdp-generic, tc):  DUT_IN - c1 - c2 - ... - cN - DUT_OUT. Arguments:
# N MODE [IN OUT [PREFIX]] (the micro benchmark builds several chains).
nfc_chain() {
	local n=$1 mode=$2 in=${3:-$DUT_IN} out=${4:-$DUT_OUT} p=${5:-c} i
	for ((i = 1; i <= n; i++)); do
		nfc forwarder add "$p$i" mode="$mode" || return 1
	done
	# Ports from the far end back, so that every NF-to-NF peer names a
	# port that already exists.
	nfc "$p$n" ports add p2 peer="$out" || return 1
	for ((i = n; i > 1; i--)); do
		nfc "$p$((i - 1))" ports add p2 || return 1
		nfc "$p$i" ports add p1 peer="$p$((i - 1)):p2" || return 1
	done
	nfc "${p}1" ports add p1 peer="$in"
}

nfc_reset() {
	[ -d "$PIN_ROOT/nfc" ] || return 0
	have_nfctl && nfc reset
	rm -rf "$PIN_ROOT/nfc"
}
