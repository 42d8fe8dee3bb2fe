#!/usr/bin/env bash
# Capture throughput, nfchain beside tcpdump in one run (indicative: the
# machine is shared). nfcb gen blasts N frames of 64 B into a veth whose
# far end (d0, in the DUT namespace) has the capture NF attached (XDP or
# TC, no filter) and tcpdump listening (libpcap's AF_PACKET ring, its
# default 2 MB buffer); `nfchain cap0 dump` writes a pcap file as tcpdump
# does. Prints per mode: the generator's rate and, for each capturer, the
# frames written to its file and what it reported lost.
#   bench/capture/run.sh [FRAMES] [RING]    (defaults 1000000, 64M)
set -u
cd "$(dirname "$0")/../.."
N=${1:-1000000}
RING=${2:-64M}
BIN=.output/bin
NFCB=.output/bench/nfcb
ID=cb$$
G=$ID-g D=$ID-d
T=$(mktemp -d /tmp/nfc-capbench.XXXXXX)
PIN=/sys/fs/bpf/nfc-$ID
SOCK=$T/sock
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	"$BIN/nfctl" --pin-root "$PIN" reset >/dev/null 2>&1
	rm -rf "$PIN"
	ip netns del "$G" 2>/dev/null
	ip netns del "$D" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
[ -x "$NFCB" ] || make -s "$NFCB" >/dev/null
ip netns add "$G" && ip netns add "$D"
ip link add g0 netns "$G" type veth peer name d0 netns "$D"
ip -n "$G" link set g0 up
ip -n "$D" link set d0 up
ip netns exec "$D" sysctl -qw net.ipv6.conf.d0.disable_ipv6=1
ip netns exec "$G" sysctl -qw net.ipv6.conf.g0.disable_ipv6=1
# NAPI on d0 for frames redirected into g0 (GRO; XDP mode has it anyway).
ip netns exec "$D" ethtool -K d0 gro on >/dev/null
MAC=$(ip -n "$D" -j link show d0 | jq -r '.[0].address')
nsd() { nsenter --net="/var/run/netns/$D" -- "$@"; }
# Not through nsd: a function run in the background is a subshell, $! would
# be that subshell, and killing it would leave the daemon running.
nsenter --net="/var/run/netns/$D" -- "$BIN/nfchaind" --socket "$SOCK" \
	--state-dir "$T/state" --pin-root "$PIN" >"$T/d.log" 2>&1 &
DPID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
nfc() { "$BIN/nfchain" --socket "$SOCK" "$@"; }
count() { tcpdump -r "$1" -nn 2>/dev/null | wc -l; }

printf '%-5s %10s %12s | %12s %12s %12s | %12s %14s\n' mode frames "gen pps" \
	"nfc written" "nfc lost" "nfc dropped" "tcpd written" "tcpd dropped"
for mode in xdp tc; do
	nfc capture add cap0 mode=$mode ring="$RING" >/dev/null || exit 1
	nfc attach cap0 d0 direction=ingress || exit 1
	nsenter --net="/var/run/netns/$D" -- tcpdump -i d0 -nn -w "$T/td.pcap" udp 2>"$T/td.log" &
	tp=$!
	for _ in $(seq 50); do grep -q listening "$T/td.log" && break; sleep 0.1; done
	"$BIN/nfchain" --socket "$SOCK" cap0 dump seconds=$((N / 100000 + 8)) >"$T/nf.pcap" 2>"$T/nf.end" &
	np=$!
	sleep 0.5
	g=$(nsenter --net="/var/run/netns/$G" -- "$NFCB" gen --dev g0 --dst-mac "$MAC" \
		--count "$N" --size 64 2>/dev/null)
	sleep 1
	kill -INT "$tp"
	wait "$tp"
	wait "$np"
	read -r nl nd < <(sed -E 's/.* ([0-9]+) lost.* ([0-9]+) dropped.*/\1 \2/' "$T/nf.end")
	printf '%-5s %10s %12.0f | %12s %12s %12s | %12s %14s\n' $mode "$N" \
		"$(jq -r .pps <<<"$g")" "$(count "$T/nf.pcap")" "$nl" "$nd" \
		"$(count "$T/td.pcap")" \
		"$(grep -o '[0-9]* packets dropped by kernel' "$T/td.log" | awk '{print $1}')"
	nfc cap0 del
done
