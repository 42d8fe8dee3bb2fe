#!/usr/bin/env bash
# make demo: nfchaind, hosts in namespaces, chains built with the nfchain
# CLI, real traffic, then what nfchain shows about it.
#   scripts/demo.sh run     (clears a previous run first)
#   scripts/demo.sh clean   (make demo-clean)
# It runs nfchaind on the default socket and pin root, so that `nfchain
# show` works afterwards without options; it refuses to start when another
# nfchaind (not the demo's) already serves that socket.
set -u
cd "$(dirname "$0")/.."
BIN=${NFC_DEMO_BIN:-$PWD/.output/bin}
RUN=/run/nfchain
SOCK=$RUN/nfchaind.sock
PIDF=$RUN/demo.pid
LOG=$RUN/demo.log
STATE=/var/lib/nfchain-demo
PIN=/sys/fs/bpf/nfchain
NS=(nfcdemo-h1 nfcdemo-h2 nfcdemo-h3 nfcdemo-h4 nfcdemo-h5 nfcdemo-h6
	nfcdemo-lx nfcdemo-l1 nfcdemo-l2)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
nfc() { "$BIN/nfchain" "$@"; }
die() { echo "demo: $*" >&2; exit 1; }

ours_running() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }

clean() {
	if ours_running; then
		echo '{"nfs": [], "attachments": []}' | nfc apply -f - >/dev/null 2>&1
		kill "$(cat "$PIDF")"
		for _ in $(seq 50); do ours_running || break; sleep 0.1; done
	fi
	rm -f "$PIDF"
	# Whatever the demo left pinned (a daemon killed before it cleaned,
	# or a demo cut short with the machine): unless a daemon answers on
	# the socket, the socket file is stale and the pins are the demo's.
	# A socket file alone kept them, and the next demo's daemon adopted
	# the old chain ("NF fw0 already exists").
	if [ -d "$PIN" ] && ! { [ -S "$SOCK" ] && nfc show >/dev/null 2>&1; }; then
		rm -f "$SOCK"
		"$BIN/nfctl" --pin-root "$PIN" reset >/dev/null 2>&1
	fi
	for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
	for i in 1 2 3 4 5 6; do ip link del "dm-h$i" 2>/dev/null; done
	rm -rf "$STATE"
	rm -f "$LOG" "$RUN/demo.ping"
	return 0
}

# host N NS ADDR/LEN [GW] [ADDR6/LEN]: a namespace behind veth dm-hN.
host() {
	local i=$1 ns=$2 addr=$3 gw=${4:-} a6=${5:-}
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "dm-h$i" type veth peer name eth0 netns "$ns"
	ip link set "dm-h$i" up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "$addr" dev eth0
	[ -n "$gw" ] && ip -n "$ns" route add default via "$gw"
	if [ -n "$a6" ]; then
		ip -n "$ns" addr add "$a6" dev eth0 nodad
	else
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	fi
	sysctl -qw "net.ipv6.conf.dm-h$i.disable_ipv6=1"
}

start_daemon() {
	mkdir -p "$RUN"
	"$BIN/nfchaind" --state-dir "$STATE" >>"$LOG" 2>&1 &
	echo $! >"$PIDF"
	disown # it outlives the demo; and no "Killed" notice for kill -9
	for _ in $(seq 100); do
		nfc show >/dev/null 2>&1 && return 0
		ours_running || break
		sleep 0.1
	done
	tail -5 "$LOG" >&2
	die "nfchaind did not start (log: $LOG)"
}

# The Linux baseline: two hosts on a Linux bridge that lives in a namespace
# of its own (nothing of it in the root namespace), the same iperf3 run.
linux_bridge_iperf() {
	local i
	for n in nfcdemo-lx nfcdemo-l1 nfcdemo-l2; do
		ip netns add "$n" && ip -n "$n" link set lo up
	done
	ip -n nfcdemo-lx link add br0 type bridge
	for i in 1 2; do
		ip link add eth0 netns "nfcdemo-l$i" type veth peer name "p$i" netns nfcdemo-lx
		ip -n nfcdemo-lx link set "p$i" master br0 up
		ip -n "nfcdemo-l$i" link set eth0 up
		ip -n "nfcdemo-l$i" addr add "198.51.100.$((64 + i))/26" dev eth0
	done
	ip -n nfcdemo-lx link set br0 up
	ip netns exec nfcdemo-l2 iperf3 -s -1 -D -B 198.51.100.66 >/dev/null 2>&1
	sleep 0.3
	ip netns exec nfcdemo-l1 iperf3 -c 198.51.100.66 -t 3 -f g | grep -E 'sender|receiver'
}

has_type() { nfc types 2>/dev/null | grep -q "^$1"; }

demo() {
	[ "$(id -u)" = 0 ] || die "run as root (it loads eBPF programs and makes namespaces)"
	if [ -S "$SOCK" ] && ! ours_running && nfc show >/dev/null 2>&1; then
		die "an nfchaind that the demo did not start serves $SOCK; stop it first"
	fi
	clean
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

	say "nfchaind (log: $LOG, state: $STATE/state.json)"
	start_daemon
	tail -n 2 "$LOG"

	say "hosts: h1 198.51.100.1 and h2 198.51.100.2, each in a namespace"
	host 1 nfcdemo-h1 198.51.100.1/26
	host 2 nfcdemo-h2 198.51.100.2/26

	say "chain 1: h1 -- [counter cnt0] -- forwarder fw0 -- h2"
	run nfc forwarder add fw0 || die "cannot add fw0"
	run nfc fw0 ports add p1 peer=dm-h1
	run nfc fw0 ports add p2 peer=dm-h2
	run nfc counter add cnt0
	run nfc attach cnt0 fw0:p1 direction=both
	say "traffic: ping, then 3 s of iperf3 (TCP)"
	run ip netns exec nfcdemo-h1 ping -c 3 -i 0.2 198.51.100.2
	ip netns exec nfcdemo-h2 iperf3 -s -1 -D -B 198.51.100.2 >/dev/null 2>&1
	sleep 0.3
	run ip netns exec nfcdemo-h1 iperf3 -c 198.51.100.2 -t 3 -f g | grep -E 'sender|receiver'
	echo "($(nfc fw0 show | head -n 1); the default picks the hook per netdev)"
	say "for comparison: the same iperf3 through a Linux bridge"
	linux_bridge_iperf

	if has_type router; then
		say "chain 2: h3 (198.51.100.65) -- router r0 -- h4 (203.0.113.1)"
		host 3 nfcdemo-h3 198.51.100.65/26 198.51.100.126
		host 4 nfcdemo-h4 203.0.113.1/25 203.0.113.126
		run nfc router add r0
		run nfc r0 ports add p1 peer=dm-h3 ip=198.51.100.126/26
		run nfc r0 ports add p2 peer=dm-h4 ip=203.0.113.126/25
		run nfc counter add cnt1
		run nfc attach cnt1 dm-h4 direction=both
		run ip netns exec nfcdemo-h3 ping -c 3 -i 0.2 203.0.113.1
		run nfc r0 show arp
	fi
	if has_type bridge; then
		say "chain 3: h5 and h6 on bridge br0 (IPv4 and IPv6)"
		host 5 nfcdemo-h5 203.0.113.129/25 "" 2001:db8:c::5/64
		host 6 nfcdemo-h6 203.0.113.130/25 "" 2001:db8:c::6/64
		run nfc bridge add br0
		run nfc br0 ports add p1 peer=dm-h5
		run nfc br0 ports add p2 peer=dm-h6
		run ip netns exec nfcdemo-h5 ping -c 2 -i 0.2 203.0.113.130
		run ip netns exec nfcdemo-h5 ping -6 -c 2 -i 0.2 2001:db8:c::6
		run nfc br0 show fdb
	fi

	say "kill -9 nfchaind while h1 pings h2 every 10 ms, then start it again"
	ip netns exec nfcdemo-h1 ping -i 0.01 -c 300 -q 198.51.100.2 >"$RUN/demo.ping" 2>&1 &
	local pp=$!
	sleep 1
	run kill -9 "$(cat "$PIDF")"
	sleep 0.5
	start_daemon
	wait $pp
	grep -E 'transmitted' "$RUN/demo.ping"
	grep 'event=restore' "$LOG" | tail -1

	say "nfchain show"
	run nfc show
	say "counters of cnt0 (per direction, on fw0:p1)"
	run nfc cnt0 show stats
	say "done"
	cat <<EOT
nfchaind keeps running (pid $(cat "$PIDF")). Try:
  $BIN/nfchain show
  $BIN/nfchain types
  $BIN/nfchain export
  curl -s --unix-socket $SOCK http://nfchaind/metrics | grep nfchain_port
  ip netns exec nfcdemo-h1 ping 198.51.100.2
make demo-clean removes it all.
EOT
}

case ${1:-run} in
run) demo ;;
clean) clean && echo "demo removed" ;;
*) die "usage: $0 run|clean" ;;
esac
