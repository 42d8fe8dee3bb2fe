#!/usr/bin/env bash
# The NAT with real traffic: a1 (198.51.100.2) behind r1:p1, c1
# (203.0.113.2) outside on r1:p3 with no route back to 198.51.100.0/24
# (its default route deleted), nat0 on r1:p3 masquerading the inside
# (r1:p3 is 203.0.113.1). Ping, TCP and iperf3 from a1 to c1 work only
# through the translation; a port forward (dnat 203.0.113.1:8080 ->
# a1:8000) reaches python3 -m http.server on a1, but not from a1 itself
# (hairpin, refused: README); mappings show lists them.
# UDP a1 -> c1 is answered. c1 also routes (its own namespace) to e1
# (203.0.113.194) over a link of MTU 1280: a traceroute a1 -> e1 shows c1
# and e1 (their time exceeded and port unreachable reach a1 only if the
# NAT translates the ICMP error and its quote), and a DF ping of 1300
# bytes teaches a1 the path MTU 1280 (frag needed translated).
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/../../router/tests/lib_router.sh"
nfc_setup

rt_hosts
ip -n "$(rt_ns c1)" route del default
check "c1 has no route back to 198.51.100.0/24" \
	bash -c "! ip -n $(rt_ns c1) route get 198.51.100.2 >/dev/null 2>&1"
RT_E1=203.0.113.194
rt_khost e1 $RT_E1/26 203.0.113.193 c1 ce$NFC_ID 203.0.113.193/26
ip -n "$(rt_ns c1)" link set ce$NFC_ID mtu 1280
ip -n "$(rt_ns e1)" link set eth0 mtu 1280
in_host c1 sysctl -qw net.ipv4.ip_forward=1

# One UDP datagram a1 -> c1:5353 (sent once the server says it is bound),
# echoed back: prints what came back. The waits count from the bind and
# the send, not from the start of python: on a loaded machine a Python
# start takes seconds, and a `timeout` around it once killed the server or
# the client before the datagram's turn (a first try "unanswered" although
# r1 had sent it: c1 counted no datagram and no checksum error).
udp_echo() {
	local f=/tmp/nfc-natudp-$NFC_ID sp
	rm -f $f
	in_host c1 timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.2", 5353))
open(sys.argv[1], "w").close()
s.settimeout(20)
d, a = s.recvfrom(100)
s.sendto(d, a)' $f &
	sp=$!
	for _ in $(seq 300); do
		[ -e $f ] && break
		sleep 0.1
	done
	rm -f $f
	in_host a1 timeout 60 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"nat-udp", ("203.0.113.2", 5353))
s.settimeout(10)
print(s.recvfrom(100)[0].decode())' 2>/dev/null
	wait $sp 2>/dev/null
}
for mode in tc xdp; do
	if ! { nfctl router add r1 mode=$mode &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 &&
		nfctl nat add nat0 mode=$mode &&
		nfctl attach nat0 r1:p3 direction=both &&
		nfctl nat0 rules add 10 type=dnat proto=tcp dport=8080 to=198.51.100.2:8000 &&
		nfctl nat0 rules add 20 type=masquerade src=198.51.100.0/24 &&
		nfctl r1 routes add 203.0.113.192/26 nexthop=$RT_C1; }; then
		not_ok "$mode: set up r1 and nat0 on r1:p3"
		nfctl reset
		continue
	fi
	nfc_slowpath_start /dev/null # the router's ARP
	# The first packet to c1: r1 holds it while it resolves c1's
	# address, then its slow path sends it (its UDP checksum completed).
	# A second try only if the first got nothing: the report says which.
	t0=$SECONDS
	u=$(udp_echo)
	u1=${u:-none}
	if [ "$u" != nat-udp ]; then
		# What the first try met: whether c1 got it (or dropped it
		# as corrupt, or had no socket bound yet), and r1's non-zero
		# counters (the slow path holds and sends it).
		echo "# $mode: first UDP try unanswered after $((SECONDS - t0)) s;" \
			"c1 $(in_host c1 nstat -az UdpInCsumErrors UdpInDatagrams UdpNoPorts | awk '/Udp/ {printf "%s=%s ", $1, $2}');" \
			"r1: $(nfctl -j r1 show stats | jq -c '[paths(numbers) as $p | {($p | map(tostring) | join(".")): getpath($p)}] | add | with_entries(select(.value != 0))' 2>&1 | head -c 800)"
		u=$(udp_echo)
	fi
	check "$mode: one UDP datagram a1 -> c1 answered through the masquerade ($u; first try: $u1)" \
		[ "$u" = nat-udp ]
	check "$mode: ping a1 -> c1 through the masquerade" \
		q_host a1 ping -c 2 -i 0.2 -W 2 $RT_C1
	check "$mode: TCP a1 -> c1" rt_tcp a1 c1 $RT_C1
	# Bulk TCP (iperf3, 2 s): c1 must see r1's outside address, and
	# every byte must cross the NAT's flow cache (bare ACKs) both ways.
	ipj=/tmp/nfc-natip-$NFC_ID
	in_host c1 timeout 40 iperf3 -s -1 -J >$ipj.s 2>&1 &
	ips=$!
	for _ in $(seq 100); do
		in_host c1 ss -ltn | grep -q ':5201 ' && break
		sleep 0.1
	done
	in_host a1 timeout 30 iperf3 -c $RT_C1 -t 2 -J >$ipj.c 2>&1
	rc=$?
	wait $ips 2>/dev/null
	bytes=$(jq -r '.end.sum_received.bytes // 0' $ipj.c 2>/dev/null)
	peer=$(jq -r '.start.connected[0].remote_host // "none"' $ipj.s 2>/dev/null)
	rm -f $ipj.c $ipj.s
	check "$mode: iperf3 a1 -> c1 through the masquerade (rc $rc, ${bytes:-0} bytes, c1 saw $peer)" \
		[ "$rc" = 0 -a "${bytes:-0}" -gt 0 -a "$peer" = 203.0.113.1 ]
	# A 3 MB download's mapping counts its bytes, the flow cache's hits
	# included: they wait in the CPU's slot for the flow's next uncached
	# packet, and the last window's went nowhere when that was the close
	# (the mapping showed the SYN, ACK and FIN only). Both ends on one
	# CPU: the slots are per CPU.
	dl=/tmp/nfc-natdl-$NFC_ID
	mkdir -p $dl && head -c 3000000 /dev/zero >$dl/big
	(cd $dl && exec ip netns exec "$(rt_ns c1)" taskset -c 0 python3 -m http.server 8081 --bind $RT_C1 >/dev/null 2>&1) &
	hs=$!
	for _ in $(seq 100); do
		in_host c1 ss -ltn | grep -q ':8081 ' && break
		sleep 0.1
	done
	got=$(in_host a1 taskset -c 0 curl -s -m 10 -o /dev/null -w '%{size_download}' http://$RT_C1:8081/big)
	kill $hs 2>/dev/null
	wait $hs 2>/dev/null
	rm -rf $dl
	rb=$(nfctl -j nat0 mappings show |
		jq --arg r "$RT_C1:8081" '[.[] | select(.remote == $r) | .bytes_reply] | max // 0')
	check "$mode: a 3 MB download ($got bytes): its mapping counts them ($rb >= 3000000)" \
		[ "${got:-0}" = 3000000 -a "${rb:-0}" -ge 3000000 ]
	# A flow whose packets cross CPUs: what each CPU's slot gathered
	# waits there (for good, once the flow ends), and mappings show
	# adds it. 5 datagrams from CPU 0, then 7 from CPU 1, one socket.
	# c1 listens: its port unreachables would use up its ICMP rate
	# limit toward 203.0.113.1, and the traceroute below lost hop 2.
	ip netns exec "$(rt_ns c1)" timeout 10 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'$RT_C1'", 5399))
s.settimeout(5)
for _ in range(12):
    s.recvfrom(200)' &
	lp=$!
	sleep 0.5
	in_host a1 python3 -c '
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 40111))
for cpu, n in ((0, 5), (os.cpu_count() - 1, 7)):
    os.sched_setaffinity(0, {cpu})
    for _ in range(n):
        s.sendto(b"x" * 100, ("'$RT_C1'", 5399))'
	wait $lp
	po=$(nfctl -j nat0 mappings show |
		jq --arg r "$RT_C1:5399" '[.[] | select(.remote == $r) | .packets_orig] | add // 0')
	check "$mode: 12 datagrams sent from two CPUs: the mapping counts 12 ($po)" [ "$po" = 12 ]
	t=$(rt_probe_trace a1 $RT_E1 | paste -sd ';')
	check "$mode: traceroute a1 -> e1 shows c1 and e1 ($t)" \
		grep -qE "(^|;)2 $RT_C1;3 $RT_E1( |;|\$)" <<<"$t"
	# The other mode's run taught a1 the MTU already: forgotten first.
	ip -n "$(rt_ns a1)" route flush cache
	in_host a1 ping -n -c 3 -i 0.3 -W 1 -M "do" -s 1300 $RT_E1 >/dev/null 2>&1
	m=$(ip -n "$(rt_ns a1)" route get $RT_E1 | grep -oE "mtu [0-9]+")
	check "$mode: a DF ping of 1300 bytes teaches a1 the path MTU ($m)" \
		[ "$m" = "mtu 1280" ]
	e=$(rt_stat nat0 nat.icmp_errors_translated)
	check "$mode: ICMP errors counted as translated ($e)" [ "${e:-0}" -ge 3 ]
	# r1 cuts a1's fragments again for p3's mtu: the last one, small
	# enough to go at once, reached nat0 before its first and left
	# untranslated (found by a helper; Linux answers the ping).
	nfctl r1 ports p3 set mtu=1280 >/dev/null
	mf=$(rt_stat nat0 conntrack_frag_miss)
	check "$mode: ping -s 3000 (not DF) through p3 mtu=1280 and the masquerade" \
		q_host a1 ping -c 2 -i 0.3 -W 2 -M dont -s 3000 $RT_C1
	check "... no fragment met nat0 before its first ($mf -> $(rt_stat nat0 conntrack_frag_miss))" \
		[ "$(rt_stat nat0 conntrack_frag_miss)" = "$mf" ]
	nfctl r1 ports p3 set mtu= >/dev/null
	# not through in_host: $! must be the server (ip netns exec execs it)
	ip netns exec "$(rt_ns a1)" python3 -m http.server 8000 --bind 198.51.100.2 >/dev/null 2>&1 &
	hp=$!
	for _ in $(seq 100); do
		in_host a1 ss -ltn | grep -q ':8000 ' && break
		sleep 0.1
	done
	body=$(in_host c1 curl -s -m 5 http://203.0.113.1:8080/ | head -c 200)
	# Hairpin (README): from inside, the outside address is r1's own;
	# the packet never crosses p3, so the NAT does not forward it.
	hp_code=$(in_host a1 curl -s -o /dev/null -m 3 -w '%{http_code}' http://203.0.113.1:8080/)
	kill $hp 2>/dev/null
	wait $hp 2>/dev/null
	check "$mode: port forward 203.0.113.1:8080 reaches a1's http.server" \
		grep -q "Directory listing" <<<"$body"
	check "$mode: hairpin a1 -> 203.0.113.1:8080 is not forwarded (README) (http $hp_code)" \
		[ "$hp_code" = 000 ]
	m=$(nfctl -j nat0 mappings show)
	n=$(jq '[.[] | select(.type=="masquerade" and (.outside | startswith("203.0.113.1:")))] | length' <<<"$m")
	d=$(jq '[.[] | select(.type=="dnat" and .outside=="203.0.113.1:8080")] | length' <<<"$m")
	check "$mode: mappings show: masquerade ($n) and dnat ($d) entries" \
		[ "${n:-0}" -ge 2 -a "${d:-0}" -ge 1 ]
	nfc_slowpath_stop
	nfctl reset >/dev/null
done
nfc_done
