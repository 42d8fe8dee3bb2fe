#!/usr/bin/env bash
# The capture NF through nfchaind, with real traffic: `dump` of a ping and
# an iperf3 run gives the frames tcpdump saw on the same link, byte for
# byte within snaplen (pcap_cmp.py), in XDP and TC, on an NF port and on a
# netdev; a tiny ring loses records and says how many; two readers at once
# each get every packet, a slow one says what it missed; the daemon
# answers other calls meanwhile; `set filter=` under traffic loses no
# packet of the chain; bad input is refused with the reason.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
T=$(mktemp -d /tmp/nfc-cap.XXXXXX)
BGPIDS=()
test_cleanup() {
	for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "$(jobs -p)" ] && kill $(jobs -p) 2>/dev/null
	nfd_test_cleanup
	rm -rf "$T"
}
CMP="python3 $(dirname "$0")/pcap_cmp.py"
nfc_two_hosts
nfc_static_neigh
nfd_start || { not_ok "nfchaind starts"; exit 1; }

stat_of() { nfc -j "$1" show stats | jq -r ".stats.$2"; }

# tcpdump in A on its end of the link, ready before the traffic.
ref_start() { # file snaplen filter
	ip netns exec "$A" tcpdump -i eth0 -U -s "$2" -w "$1" "$3" 2>"$1.log" &
	REFPID=$!
	for _ in $(seq 50); do grep -q listening "$1.log" && return; sleep 0.1; done
}
ref_stop() { sleep 0.3; kill -INT "$REFPID"; wait "$REFPID" 2>/dev/null; }

traffic() { # a ping and an iperf3 run A -> B
	ip netns exec "$A" ping -c 5 -i 0.1 -s 1000 198.51.100.2 >/dev/null
	ip netns exec "$B" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local sp=$!
	sleep 0.3
	ip netns exec "$A" iperf3 -c 198.51.100.2 -p 5201 -t 1 -b 20M >/dev/null 2>&1
	wait "$sp"
}

F='icmp or tcp port 5201'
# XDP on an NF port, TC on a netdev (the other two pairings run the same
# code paths: the hook's, and the attachment's).
for mw in xdp:f1:p1 tc:$VA; do
	mode=${mw%%:*}
	nfc forwarder add f1 mode=$mode
	nfc f1 ports add p1 peer=$VA
	nfc f1 ports add p2 peer=$VB
	nfc capture add cap0 mode=$mode "filter=$F" snaplen=200 ring=16M
	for where in ${mw#*:}; do
		nfc attach cap0 $where direction=both
		ref_start "$T/ref.pcap" 200 "$F"
		nfc cap0 dump seconds=4 >"$T/ours.pcap" 2>"$T/end" &
		dp=$!
		sleep 0.5
		traffic
		wait "$dp"
		ref_stop
		if out=$($CMP "$T/ours.pcap" "$T/ref.pcap" 200); then
			ok "$mode on $where: dump of a ping and iperf3 = tcpdump's frames, byte for byte within snaplen ($(tail -1 <<<"$out"))"
		else
			not_ok "$mode on $where: dump differs from tcpdump: $(head -5 <<<"$out" | tr '\n' ' ')"
		fi
		check "$mode on $where: tcpdump reads the dump" \
			tcpdump -r "$T/ours.pcap" -nn -c 1 icmp -s 0
		check "$mode on $where: end line says 0 lost" grep -q "packets captured, 0 lost" "$T/end"
		nfc detach cap0 $where
	done
	nfc cap0 del
	nfc f1 del
done

# The rest in XDP, on f1:p1.
nfc forwarder add f1 mode=xdp
nfc f1 ports add p1 peer=$VA
nfc f1 ports add p2 peer=$VB
nfc capture add cap0 mode=xdp filter=icmp ring=4k
nfc attach cap0 f1:p1 direction=both
ip netns exec "$A" ping -c 3 -i 0.05 198.51.100.2 >/dev/null
check "no reader: the filter does not run, nothing is copied (matched 0)" \
	[ "$(stat_of cap0 matched)" = 0 ]
check "no reader: every packet passed on (3 pings, 6 frames on f1:p1)" \
	[ "$(nfc -j cap0 show | jq '.attachments[0].stats.ingress_packets + .attachments[0].stats.egress_packets')" = 6 ]

# A 4 kB ring holds two 1 kB records: with the daemon stopped, the rest
# of 50 pings (100 frames) is lost, and counted.
nfc cap0 dump seconds=2 >"$T/lost.pcap" 2>"$T/lost.end" &
dp=$!
sleep 0.5
kill -STOP "$NFD_PID"
ip netns exec "$A" ping -c 50 -i 0.01 -s 1000 198.51.100.2 >/dev/null
kill -CONT "$NFD_PID"
wait "$dp"
got=$(grep -o '^cap0: [0-9]* packets captured, [0-9]* lost' "$T/lost.end")
n=$(awk '{print $2}' <<<"$got")
l=$(awk '{print $5}' <<<"$got")
if [ -n "$n" ] && [ "$l" -gt 0 ] && [ $((n + l)) = 100 ]; then
	ok "tiny ring: $n captured + $l lost (ring full) = the 100 frames sent"
else
	not_ok "tiny ring: end line '$(cat "$T/lost.end")', want captured + lost = 100, lost > 0"
fi
check "tiny ring: the pcap holds what the end line says" \
	[ "$(tcpdump -r "$T/lost.pcap" -nn 2>/dev/null | wc -l)" = "$n" ]
check "tiny ring: the NF's stats count the loss" [ "$(stat_of cap0 lost)" -ge "$l" ]
nfc cap0 del

# Two readers at once, each every packet; the daemon answers meanwhile.
nfc capture add cap0 mode=xdp filter=icmp ring=64M
nfc attach cap0 f1:p1 direction=both
nfc cap0 dump count=10 >"$T/r1.pcap" 2>"$T/r1.end" &
d1=$!
api GET "/v1/nfs/cap0/pcap?count=10" >/dev/null &
d3=$!
curl -s --unix-socket "$NFD_SOCK" -o "$T/r2.pcap" "http://nfchaind/v1/nfs/cap0/pcap?count=10" &
d2=$!
sleep 0.5
check "readers: the NF's stats count 3 streams" [ "$(stat_of cap0 readers)" = 3 ]
check "the daemon answers other calls while streams are open" nfc show
ip netns exec "$A" ping -c 5 -i 0.1 198.51.100.2 >/dev/null
wait "$d1" "$d2" "$d3"
check "two readers: both got the 10 frames, the same bytes" \
	sh -c "$CMP $T/r1.pcap $T/r2.pcap >/dev/null && [ \$(tcpdump -r $T/r1.pcap 2>/dev/null | wc -l) = 10 ]"
check "two readers: end line 10 captured" grep -q "^cap0: 10 packets captured, 0 lost" "$T/r1.end"
sleep 0.3
check "readers: back to 0 once the streams ended" [ "$(stat_of cap0 readers)" = 0 ]

# A reader that does not read misses what its 16 MB queue cannot hold and
# says so; a reader that keeps up, beside it, gets those records: what one
# got plus what it missed is what the other got plus what it missed.
nfc cap0 set filter=tcp
nfc cap0 dump seconds=6 >"$T/fast.pcap" 2>"$T/fast.end" &
df=$!
(nfc cap0 dump seconds=6 2>"$T/slow.end" | (sleep 4.5; cat >"$T/slow.pcap")) &
ds=$!
sleep 0.5
ip netns exec "$B" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
sp=$!
sleep 0.3
# 3 s at 80 Mbit/s: some 30 MB, more than the slow reader's queue, at a
# rate the (sanitized) daemon keeps up with here.
ip netns exec "$A" iperf3 -c 198.51.100.2 -p 5201 -t 3 -b 80M >/dev/null 2>&1
wait "$sp" "$df" "$ds"
read -r fp fl fd < <(sed -E 's/^cap0: ([0-9]+) packets captured, ([0-9]+) lost.* ([0-9]+) dropped.*/\1 \2 \3/' "$T/fast.end")
read -r sp_ sl sd < <(sed -E 's/^cap0: ([0-9]+) packets captured, ([0-9]+) lost.* ([0-9]+) dropped.*/\1 \2 \3/' "$T/slow.end")
# On a loaded machine (or a sanitized daemon) the fast reader may miss a
# few too: then its own count says so, and the sums still agree.
if [ "${sd:-0}" -gt 0 ] && [ "${fd:-x}" -lt "$sd" ] && [ $((sp_ + sd)) = $((fp + fd)) ]; then
	ok "slow reader: $sp_ captured + $sd dropped (reader too slow) = the fast reader's $fp + $fd: every record accounted for"
else
	not_ok "slow reader: fast '$(cat "$T/fast.end")', slow '$(cat "$T/slow.end")'"
fi
check "slow reader: the NF's stats count its drops" [ "$(stat_of cap0 reader_dropped)" -ge "${sd:-1}" ]
nfc cap0 set filter=icmp

# set filter= under traffic: no packet of the chain lost, with a reader on.
nfc cap0 dump seconds=4 >"$T/sw.pcap" 2>"$T/sw.end" &
dp=$!
sleep 0.3
ip netns exec "$A" ping -c 400 -i 0.005 198.51.100.2 >"$T/ping" &
pp=$!
i=0
while kill -0 "$pp" 2>/dev/null && [ $i -lt 20 ]; do
	if [ $((i % 2)) = 0 ]; then nfc cap0 set filter='udp or icmp6'; else nfc cap0 set filter='icmp'; fi
	i=$((i + 1))
done
wait "$pp"
check "set filter= $i times under traffic: 400 of 400 pings through the chain" grep -q '400 received' "$T/ping"
wait "$dp"

# Bad input.
check "refused: nfc capture add c1 snaplen=0" refused "outside 1..262144" nfc capture add c1 snaplen=0
check "refused: nfc capture add c1 snaplen=262145" refused "outside 1..262144" nfc capture add c1 snaplen=262145
check "refused: nfc capture add c1 'filter=tcp port'" refused "c1: filter: .*syntax error" nfc capture add c1 'filter=tcp port'
check "refused: nfc capture add c1 ring=5000" refused "power of two" nfc capture add c1 ring=5000
check "refused: nfc f1 dump count=1" refused "f1 is a forwarder, not a capture" nfc f1 dump count=1
check "refused: nfc nope dump count=1" refused "does not exist" nfc nope dump count=1
before=$(nfc -j cap0 show | jq -r .config.filter)
check "refused: nfc cap0 set 'filter=udp and'" refused "syntax error" nfc cap0 set 'filter=udp and'
check "a refused filter changes nothing ($before)" [ "$(nfc -j cap0 show | jq -r .config.filter)" = "$before" ]
# A daemon killed with a stream open: the next one starts with no reader,
# so the data plane stops copying into a ring nobody reads.
nfc cap0 dump seconds=30 >/dev/null 2>&1 &
sleep 0.5
check "a stream open: readers 1" [ "$(stat_of cap0 readers)" = 1 ]
nfd_kill9
nfd_start || not_ok "nfchaind starts again"
check "after kill -9 and a restart: readers 0" [ "$(stat_of cap0 readers)" = 0 ]
nfc_done
