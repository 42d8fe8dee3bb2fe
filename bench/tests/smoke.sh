#!/usr/bin/env bash
# Smoke test of the benchmark harness, run by `make test` through
# tests/run.sh (which passes NFC_BIN, the directory holding nfctl) and by
# `make bench-smoke`. On small counts it checks that:
#   1. every scenario runs once and its run is valid (conservation holds);
#   2. the harness's own JSON parses and holds what the table says;
#   3. a stage forced to drop is flagged, with that stage named: the floor
#      dropping every 4th frame (stage "dut"), and the DUT's ingress veth
#      without NAPI (stage "gen->dut", frames lost silently); a scenario
#      that drops on purpose (SCN_EXPECT=drop) whose DUT counts only half
#      of its drops (stage "dut (drop counter)");
#   4. --multi-cpu runs every scenario on every CPU too, and reports it;
#      --new-flows refuses too few flows and runs the lb on new flows;
#   5. Ctrl-C in the middle of a run leaves nothing behind;
#   6. no namespace, pin or BPF program of its runs is left afterwards
#      (another benchmark may be running meanwhile: its things are not ours).
# Exit 0 on pass, 1 on failure; it cleans up after itself on any exit.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUN=$ROOT/bench/run
if [ -n "${NFC_BIN:-}" ]; then
	OUT_DIR=$(cd "$NFC_BIN/.." 2>/dev/null && pwd) || OUT_DIR=$ROOT/.output
else
	OUT_DIR=$ROOT/.output
fi
export NFCB=${NFCB:-$OUT_DIR/bench/nfcb}
export NFCTL=${NFCTL:-${NFC_BIN:-$OUT_DIR/bin}/nfctl}
export NFCB_OUT=$OUT_DIR
FRAMES=${SMOKE_FRAMES:-20000}
# The firewall scenario at one size: its 10,000-rule nftables variant
# alone takes minutes (the smoke tests the harness, not the scale).
export NFCB_FW_RULES=${NFCB_FW_RULES:-10}
# Likewise the IPv6 router among 100,000 routes: 1,000 here.
export NFCB_ROUTES6=${NFCB_ROUTES6:-1000}
# And the ddos blocklists at 10 prefixes (1,000,000 takes minutes).
export NFCB_DDOS_PREFIXES=${NFCB_DDOS_PREFIXES:-10}

TMP=$(mktemp -d /tmp/nfcb-smoke.XXXXXX)
FAILS=0
BG=
# Reports in the form tests/run.sh counts: "ok - ..." / "not ok - ...".
pass() { printf 'ok - %s\n' "$*"; }
fail() { printf 'not ok - %s\n' "$*"; FAILS=$((FAILS + 1)); }

cleanup() {
	# Only what this test started: the background run, by its group id.
	if [ -n "$BG" ] && kill -0 "$BG" 2>/dev/null; then
		kill -TERM -- "-$BG" 2>/dev/null
		wait "$BG" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "# smoke: needs root (namespaces, XDP): skipped"; exit 77; }
if [ ! -x "$NFCB" ]; then
	echo "smoke: $NFCB not built; building it"
	make -C "$ROOT" --no-print-directory bench-tools >/dev/null || { echo "smoke: build failed"; exit 1; }
	NFCB=$ROOT/.output/bench/nfcb
fi

# The generator needs live-frames test runs, which some kernels refuse
# (EPERM, even to root): then there is nothing of the harness to run.
"$NFCB" live-probe 2>&1 | sed 's/^/# /'
case ${PIPESTATUS[0]} in
0) ;;
77) echo "# smoke: skipped: the generator cannot run on this kernel"; exit 77 ;;
*) fail "nfcb live-probe"; exit 1 ;;
esac

# Every bench/run this test starts runs in the background and is waited
# for, so that its pid (which names its namespaces and pins) is known.
OURS=()
bench() { # bench/run arguments; stdout and stderr already redirected
	"$RUN" "$@" &
	local pid=$!
	OURS+=("$pid")
	wait "$pid"
}
# What is left of our runs: their namespaces and pins. A leaked program
# would need one of those to stay loaded (our processes are gone).
leftovers() {
	local p
	for p in "${OURS[@]}"; do
		ip netns list | awk -v p="nfcb$p-" 'index($1, p) == 1 {print "netns " $1}'
		[ -e "/sys/fs/bpf/nfcb$p" ] && echo "pin /sys/fs/bpf/nfcb$p"
	done
}
# Our BPF programs (nfcb_*), as a second check, meaningful only when no
# other benchmark runs at the same time.
our_progs() {
	bpftool prog show -j 2>/dev/null |
		jq -r '.[] | select(.name // "" | startswith("nfcb_")) | "prog \(.id) \(.name)"' | sort
}
our_progs >"$TMP/progs.before"
FWD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)

echo "# bench smoke: every scenario once, $FRAMES frames (nfcb: $NFCB, nfctl: $NFCTL)"
if bench -k 1 -n "$FRAMES" --micro-repeat 20000 --no-tcp -o "$TMP/all" >"$TMP/all.out" 2>"$TMP/all.err"; then
	pass "bench/run exits 0"
else
	fail "bench/run exit status $? ($(tail -n 5 "$TMP/all.err" | tr '\n' ' '))"
fi
if jq -e . "$TMP/all/runs.jsonl" >/dev/null 2>&1 && jq -e . "$TMP/all/summary.json" >/dev/null 2>&1; then
	pass "runs.jsonl and summary.json parse"
else
	fail "JSON output missing or malformed"
fi
scenarios=$(NFCB_OUT=$OUT_DIR "$RUN" --list | awk '{print $1}')
for s in $scenarios; do
	# The last attempt (a disturbed run is run again).
	rec=$(jq -s -c --arg s "$s" 'map(select(.scenario == $s)) | last // empty' "$TMP/all/runs.jsonl" 2>/dev/null)
	if [ -z "$rec" ]; then
		fail "$s: no record"
	elif [ "$(jq -r '.skipped // empty' <<<"$rec")" != "" ]; then
		# Only acceptable where the tool it needs is not built at all, or
		# the kernel lacks what a baseline needs (a module not built).
		why=$(jq -r .skipped <<<"$rec")
		case $why in
		"nfctl not built"*) [ -x "$NFCTL" ] && fail "$s skipped though $NFCTL exists" ||
			echo "# skip $s: $why" ;;
		"this kernel has no "*) echo "# skip $s: $why" ;;
		"not available on this kernel"*) echo "# skip $s: $why" ;;
		*) fail "$s skipped: $why" ;;
		esac
	elif [ "$(jq -r .expect <<<"$rec")" = drop ]; then
		# Dropped on purpose: every frame counted by the DUT, none through.
		if [ "$(jq -r '.valid and .generated == .dut_drop and .generated == .count and .sink_rx == 0 and .dut_fwd == 0 and .pps > 0' <<<"$rec")" = true ]; then
			pass "$s: valid, $(jq -r '.dut_drop' <<<"$rec") of $(jq -r .generated <<<"$rec") frames dropped and counted by the DUT, $(jq -r '.pps / 1e6 * 100 | round / 100' <<<"$rec") Mpps"
		else
			fail "$s: $(jq -r '.problem // .error // "invalid"' <<<"$rec")"
		fi
	elif [ "$(jq -r .valid <<<"$rec")" = true ] &&
		[ "$(jq -r '.generated == .sink_rx and .sink_rx == .count and .pps > 0' <<<"$rec")" = true ]; then
		pass "$s: valid, $(jq -r '.sink_rx' <<<"$rec") of $(jq -r .generated <<<"$rec") frames, $(jq -r '.pps / 1e6 * 100 | round / 100' <<<"$rec") Mpps"
	else
		fail "$s: $(jq -r '.problem // .error // "invalid"' <<<"$rec")"
	fi
done
# The table on stdout is the summary's: one row per scenario that ran.
missing_rows=$(jq -r '.scenarios[].scenario' "$TMP/all/summary.json" 2>/dev/null |
	while read -r s; do grep -q "^| $s |" "$TMP/all.out" || echo "$s"; done)
if [ -s "$TMP/all/summary.json" ] && [ -z "$missing_rows" ]; then
	pass "table has a row for each of $(jq '.scenarios | length' "$TMP/all/summary.json") scenarios"
else
	fail "table rows missing: $missing_rows"
fi
if jq -e '.cases | map(select(.case == "empty XDP program")) | length == 1' "$TMP/all/micro-summary.json" >/dev/null 2>&1; then
	pass "micro table: $(jq -r '.cases | length' "$TMP/all/micro-summary.json") cases"
	if [ -x "$NFCTL" ]; then
		jq -e '.per_hop_ns != null' "$TMP/all/micro-summary.json" >/dev/null &&
			pass "micro per-hop cost: $(jq -r '.per_hop_ns * 10 | round / 10' "$TMP/all/micro-summary.json") ns" ||
			fail "micro: no per-hop cost though nfctl exists"
	fi
else
	fail "micro table missing"
fi

# Every CPU at once (--multi-cpu), briefly: each scenario also runs as
# <scenario>@<N>, one generator per CPU; its record counts N × the frames,
# and the scaling table has a row for it. A frame refused by a full ring
# (a CPU busy generating is slow to poll the next veth) is the DUT's
# figure, not the harness's: such a run passes, saying so.
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
	if [ -x "$NFCTL" ]; then mc=(nfc-chain-1 bridge-xdp router-xdp); else mc=(linux-bridge); fi
	echo "# bench smoke: --multi-cpu on $NCPU CPUs: ${mc[*]}"
	bench -k 1 -n "$FRAMES" --no-micro --multi-cpu -r 0 -o "$TMP/mc" "${mc[@]}" >"$TMP/mc.out" 2>"$TMP/mc.err"
	for s in "${mc[@]}"; do
		rec=$(jq -s -c --arg s "$s@$NCPU" 'map(select(.scenario == $s)) | last // empty' "$TMP/mc/runs.jsonl" 2>/dev/null)
		if [ -z "$rec" ]; then
			fail "multi-cpu $s@$NCPU: no record ($(tail -n 2 "$TMP/mc.err" | tr '\n' ' '))"
		elif [ "$(jq -r --argjson n "$NCPU" '.cpus == $n and .generated == .count * $n' <<<"$rec")" != true ]; then
			fail "multi-cpu $s@$NCPU: $(jq -c '{cpus, generated, count, error}' <<<"$rec")"
		elif [ "$(jq -r '.valid' <<<"$rec")" = true ]; then
			pass "multi-cpu $s@$NCPU: valid, $(jq -r '.sink_rx' <<<"$rec") of $(jq -r .generated <<<"$rec") frames, $(jq -r '.pps / 1e6 * 100 | round / 100' <<<"$rec") Mpps"
		elif jq -r '.problem // ""' <<<"$rec" | grep -q 'full ring'; then
			pass "multi-cpu $s@$NCPU: ran; $(jq -r .problem <<<"$rec")"
		else
			fail "multi-cpu $s@$NCPU: $(jq -r '.problem // .error // "invalid"' <<<"$rec")"
		fi
		sed -n '/^### Every CPU/,$p' "$TMP/mc.out" | grep -q "^| $s |" &&
			pass "multi-cpu: scaling row for $s" ||
			fail "multi-cpu: no scaling row for $s"
	done
fi

# New-flow runs (--new-flows): refused when -f gives too few flows; the lb
# (NAT: a tracker entry per frame) runs one valid, every frame a new flow.
if bench -k 1 -n "$FRAMES" --new-flows -f 8,1,4,1 --no-micro --no-tcp -o "$TMP/nf0" linux-forward >/dev/null 2>"$TMP/nf0.err"; then
	fail "--new-flows with 32 flows for $FRAMES frames was not refused"
else
	grep -q 'fewer than the warm-up' "$TMP/nf0.err" && pass "--new-flows: too few flows refused" ||
		fail "--new-flows: refused without saying why ($(tail -n 1 "$TMP/nf0.err"))"
fi
if [ -x "$NFCTL" ]; then
	w=$((FRAMES / 10 < 10000 ? 10000 : (FRAMES / 10 > 200000 ? 200000 : FRAMES / 10)))
	bench -k 1 -n "$FRAMES" --new-flows -f "120,1,$(((w + FRAMES) / 120 + 1)),1" --no-micro --no-tcp -r 0 -o "$TMP/nf" nfc-lb-xdp >/dev/null 2>"$TMP/nf.err"
	rec=$(jq -s -c 'map(select(.scenario == "nfc-lb-xdp")) | last // empty' "$TMP/nf/runs.jsonl" 2>/dev/null)
	[ "$(jq -r '.valid' <<<"${rec:-null}")" = true ] &&
		pass "--new-flows: nfc-lb-xdp valid, $(jq -r .sink_rx <<<"$rec") frames, each a new flow" ||
		fail "--new-flows: nfc-lb-xdp $(jq -r '.problem // .error // "no record"' <<<"${rec:-null}" 2>/dev/null)"
fi

# Bulk TCP (bench/tcp), briefly: a Linux baseline and nfchain's forwarder
# in the default mode, a row each with a figure and the hook picked.
if command -v iperf3 >/dev/null; then
	tcp_duts=(linux-bridge)
	[ -x "$NFCTL" ] && tcp_duts+=(fwd-auto)
	NFCTL=$NFCTL bash "$ROOT/bench/tcp" -t 1 "${tcp_duts[@]}" >"$TMP/tcp.out" 2>"$TMP/tcp.err"
	for d in "${tcp_duts[@]}"; do
		row=$(grep "^| $d |" "$TMP/tcp.out")
		if [[ $row =~ \|\ [0-9.]+\ \| ]]; then
			pass "bench/tcp: $row"
		else
			fail "bench/tcp: $d: ${row:-no row} $(tail -n 2 "$TMP/tcp.err" | tr '\n' ' ')"
		fi
	done
	[ -x "$NFCTL" ] && { grep -q "^| fwd-auto | tc (auto: veth) |" "$TMP/tcp.out" &&
		pass "bench/tcp: the default mode picked tc on veth" ||
		fail "bench/tcp: fwd-auto not in tc (auto: veth)"; }
fi

# A stage forced to drop must be flagged, and named.
check_fault() { # fault scenario stage expected-lost
	local rec
	bench -k 1 -n "$FRAMES" --no-micro --fault "$1" -o "$TMP/$1" "$2" >/dev/null 2>"$TMP/$1.err"
	rec=$(jq -s -c --arg s "$2" 'map(select(.scenario == $s)) | last // empty' "$TMP/$1/runs.jsonl" 2>/dev/null)
	if [ "$(jq -r '.valid' <<<"$rec")" = false ] && [ "$(jq -r '.lost_stage' <<<"$rec")" = "$3" ] &&
		[ "$(jq -r '.lost' <<<"$rec")" = "$4" ]; then
		pass "fault $1: $2 invalid, $(jq -r .problem <<<"$rec")"
	else
		fail "fault $1: $2 not flagged as losing $4 at stage $3: $(jq -c '{valid, lost_stage, lost, problem, error}' <<<"$rec" 2>&1)"
	fi
	# The other runs of the same invocation are unaffected.
	if [ "$(jq -s --arg s "$2" 'map(select(.scenario != $s and .valid != true)) | length' "$TMP/$1/runs.jsonl")" = 0 ]; then
		pass "fault $1: the baseline runs stay valid"
	else
		fail "fault $1: other runs invalid too"
	fi
}
check_fault dut-drop floor dut $((FRAMES / 4))
check_fault no-napi linux-forward gen-\>dut "$FRAMES"
# A scenario that drops on purpose, whose list misses half the sources:
# the DUT's own drop count falls short of what it received.
command -v nft >/dev/null && check_fault drop-miss ddos-nft10 "dut (drop counter)" $((FRAMES / 2))

# Ctrl-C in the middle of a run: a terminal sends SIGINT to the whole
# foreground process group, so do the same to a run in a group of its own.
# Job control on: without it a background job would ignore SIGINT.
# With nfctl, interrupt it while an nfchain chain is up (the most there is
# to clean: namespaces, nfctl's pins, links and programs, our sink). Only
# this run's things count: its pid names them.
if [ -x "$NFCTL" ]; then
	target=nfc-chain-4
	ready() { ls -d "/sys/fs/bpf/nfcb$BG/nfc/"* >/dev/null 2>&1; }
else
	target=linux-bridge
	ready() { ip netns list | grep "^nfcb$BG-dut" >/dev/null; }
fi
set -m
"$RUN" -k 3 -n 5000000 --no-micro "$target" >"$TMP/int.out" 2>"$TMP/int.err" &
BG=$!
OURS+=("$BG")
set +m
up=
for ((i = 0; i < 3000; i++)); do # until it is set up (<= 300 s: it may wait for another benchmark)
	if ready; then
		up=1
		break
	fi
	kill -0 "$BG" 2>/dev/null || break
	sleep 0.1
done
[ -n "$up" ] || fail "Ctrl-C: $target never came up (waited $((i / 10)) s)"
sleep 0.3
kill -INT -- "-$BG" 2>/dev/null
for ((i = 0; i < 300; i++)); do # it must be gone within 30 s
	kill -0 "$BG" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$BG" 2>/dev/null; then
	fail "Ctrl-C: bench/run still running after 30 s"
else
	wait "$BG"
	rc=$?
	BG=
	grep -q interrupted "$TMP/int.err" && [ "$rc" = 130 ] &&
		pass "Ctrl-C: bench/run stopped (status $rc)" ||
		fail "Ctrl-C: bench/run ended with status $rc: $(tail -n 2 "$TMP/int.err" | tr '\n' ' ')"
fi

leftovers >"$TMP/left"
if [ -s "$TMP/left" ]; then
	fail "left behind: $(tr '\n' ' ' <"$TMP/left")"
else
	pass "nothing left behind by ${#OURS[@]} runs (namespaces, pins)"
fi
our_progs >"$TMP/progs.after"
new_progs=$(comm -13 "$TMP/progs.before" "$TMP/progs.after" | tr '\n' ' ')
if [ -z "$new_progs" ]; then
	pass "no BPF program of ours left"
elif pgrep -f "bench/run" >/dev/null; then
	echo "# another bench/run is running: its programs ($new_progs) may be its own"
else
	fail "BPF programs left behind: $new_progs"
fi
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$FWD_BEFORE" ] &&
	pass "root namespace ip_forward untouched ($FWD_BEFORE)" ||
	fail "root namespace ip_forward changed from $FWD_BEFORE"

if [ "$FAILS" -gt 0 ]; then
	echo "# bench smoke: $FAILS failed"
	exit 1
fi
echo "# bench smoke: passed"
