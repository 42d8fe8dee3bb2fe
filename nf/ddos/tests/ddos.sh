#!/usr/bin/env bash
# The ddos NF with real traffic. Clients C1..C4 and an attacker X share a
# Linux bridge in a switch namespace W, whose uplink reaches the server S
# through a forwarder NF; dd0 sits first on the uplink's ingress. Checked
# at the server: a blocklisted client gets nothing through, an allowlisted
# one is never limited, a client above its pps limit is held within 10% of
# it while one below loses nothing, and a SYN flood from spoofed sources
# (the benchmark's live-frames generator, the strongest flood this machine
# makes) leaves 200 HTTP requests of a real client (>= 99%) working and no
# half-open connection at the server (which runs the SYNPROXY arrangement
# of README.md). Crafted frames: test_ddos_dp.c.
. "$(dirname "$0")/../../../tests/lib.sh"
TOOLS="python3 $(dirname "$0")/dd_tools.py"
mode=${DD_MODE:-xdp}
HTTPD= FLOOD=
test_cleanup() {
	# The flood's loop stops at once; its generator run ends at its count.
	[ -n "$HTTPD$FLOOD" ] && kill $HTTPD $FLOOD 2>/dev/null
	[ -n "$HTTPD" ] && wait $HTTPD 2>/dev/null
	rm -rf /tmp/dd-www-$NFC_ID /tmp/dd-cnt-$NFC_ID /tmp/dd-pass-$NFC_ID.*
}
nfc_setup
S=$(nfc_ns s)
W=$(nfc_ns w)
VS=vs$NFC_ID
VX=vx$NFC_ID
nfc_host "$S" eth0 198.51.100.100/24 "$VS"
nfc_host "$W" up0 "" "$VX"
ip -n "$W" link add br0 type bridge
ip -n "$W" link set up0 master br0
ip -n "$W" link set br0 up
# XDP_TX on a veth (the SYN-ACKs) reaches its peer at once only when the
# peer runs an XDP program of its own (veth_xdp_flush kicks the peer's NAPI
# only then; GRO alone leaves them queued until other traffic comes).
printf 'int pass(void *c) __attribute__((section("xdp"), used));\nint pass(void *c) { return 2; }\nchar l[] __attribute__((section("license"), used)) = "GPL";\n' >/tmp/dd-pass-$NFC_ID.c
clang -O2 -target bpf -c /tmp/dd-pass-$NFC_ID.c -o /tmp/dd-pass-$NFC_ID.o
ip -n "$W" link set dev up0 xdp obj /tmp/dd-pass-$NFC_ID.o sec xdp
rm -f /tmp/dd-pass-$NFC_ID.c /tmp/dd-pass-$NFC_ID.o
for c in 1 2 3 4 9; do
	n=$(nfc_ns c$c)
	eval "C$c=$n"
	ip -n "$n" link add eth0 type veth peer name p$c netns "$W"
	ip -n "$n" addr add 198.51.100.$c/24 dev eth0
	ip -n "$n" link set eth0 up
	ip -n "$W" link set p$c master br0
	ip -n "$W" link set p$c up
done
X=$C9

nfctl forwarder add f1 mode=$mode
nfctl f1 ports add p1 peer=$VX
nfctl f1 ports add p2 peer=$VS
check "$mode: ddos add with syn_rate" nfctl ddos add dd0 mode=$mode syn_rate=50
check "$mode: attach first on the uplink's ingress" \
	nfctl attach dd0 $VX direction=ingress position=first
check "$mode: C1 reaches the server" \
	ip netns exec "$C1" ping -q -c 2 -i 0.2 -W 2 198.51.100.100

# --- lists
nfctl dd0 blocklist add 198.51.100.0/30 # C1, C2 (and C3: .3)
nfctl dd0 allowlist add 198.51.100.2/32
check "$mode: blocklisted C1 gets nothing through" \
	[ "$(ip netns exec "$C1" ping -c 5 -i 0.1 -W 1 198.51.100.100 | grep -c 'bytes from')" = 0 ]
check "$mode: allowlisted C2 inside the blocked prefix gets through" \
	ip netns exec "$C2" ping -q -c 3 -i 0.1 -W 2 198.51.100.100
nfctl dd0 blocklist del 198.51.100.0/30
# A delete of what is not there says so (it answered success).
check "$mode: blocklist del of a missing prefix: no such entry" \
	refused 'blocklist 198.51.100.0/30: no such entry' nfctl dd0 blocklist del 198.51.100.0/30
check "$mode: allowlist del of a missing prefix: no such entry" \
	refused 'allowlist 198.51.100.1/32: no such entry' nfctl dd0 allowlist del 198.51.100.1/32
check "$mode: limits del of a missing prefix: no such entry" \
	refused 'limits 198.51.100.0/24: no such entry' nfctl dd0 limits del 198.51.100.0/24
# A key has one spelling (the model keeps keys as given: "/030" beside
# "/30" was one trie entry under two keys, and a delete of one left the
# other to block again after a restore). Refused, and nothing blocked.
err=$(nfctl dd0 blocklist add 198.51.100.0/030 2>&1 >/dev/null)
rc=$?
[[ $err == *"write it as 198.51.100.0/30"* ]]
check "$mode: blocklist key 198.51.100.0/030 refused, exit $rc: $err" [ $? = 0 -a $rc = 1 ]
check "$mode: ... and C1 still reaches the server" \
	ip netns exec "$C1" ping -q -c 2 -i 0.2 -W 2 198.51.100.100

# --- limits: 200 pps a source, burst 200. The three clients run at once
# (their buckets are apart), each to a port of its own at the server.
check "$mode: limits add" nfctl dd0 limits add 0.0.0.0/0 pps=200 burst=200 per=source
D=/tmp/dd-cnt-$NFC_ID
mkdir -p $D
rate_start() { # client ns port pps secs: sender and counter in the background
	ip netns exec "$S" $TOOLS count "$2" 20 $D/ready$2 >$D/got$2 &
	while [ ! -e $D/ready$2 ]; do sleep 0.05; done
	ip netns exec "$1" $TOOLS udp 198.51.100.100 "$2" "$3" "$4" >$D/sent$2 &
}
rate_start "$C3" 7003 1000 3
rate_start "$C4" 7004 100 3
rate_start "$C2" 7002 1000 2
wait
read -r sent secs <$D/sent7003
got=$(cat $D/got7003)
want=$(python3 -c "print(int(200 + 200 * $secs))")
echo "# C3 above its limit: sent $sent in ${secs}s, server got $got, limit allows $want"
if [ "$sent" -lt $((want * 3 / 2)) ]; then
	ok "$mode: C3 above its limit (# SKIP sender too slow on this machine: $sent)"
else
	# At most 10% over. Under it by up to 20%: a sender that stalls
	# (a loaded machine) lets the bucket fill only up to its burst, so
	# less passes than 200 + 200 x its time (963 of 1080 seen in CI).
	check "$mode: C3 above its limit held: $got of $want (-20%..+10%)" \
		python3 -c "import sys; sys.exit(not 0.8 * $want <= $got <= 1.1 * $want)"
fi
read -r sent secs <$D/sent7004
got=$(cat $D/got7004)
echo "# C4 below its limit: sent $sent, server got $got"
check "$mode: C4 below its limit loses nothing ($got of $sent)" [ "$got" = "$sent" ]
read -r sent secs <$D/sent7002
got=$(cat $D/got7002)
echo "# C2 allowlisted: sent $sent, server got $got"
check "$mode: allowlisted C2 is never limited ($got of $sent)" [ "$got" = "$sent" ]
check "$mode: rate drops counted" \
	[ "$(nfctl -j dd0 show stats | jq .dropped.rate)" -gt 0 ]
talkers=$(nfctl -j dd0 show stats | jq -c .top_talkers)
check "$mode: top talkers name C3 and its drops" \
	jq -e '.[] | select(.source == "198.51.100.3" and .dropped > 0)' <<<"$talkers"
nfctl dd0 limits del 0.0.0.0/0

# --- SYN flood: the server behind SYNPROXY, as README.md says
ip netns exec "$S" sysctl -qw net.ipv4.tcp_syncookies=2 net.ipv4.tcp_timestamps=1
ip netns exec "$S" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 2>/dev/null ||
	{ ip netns exec "$S" iptables -L >/dev/null; ip netns exec "$S" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0; }
ip netns exec "$S" iptables -t raw -I PREROUTING -i eth0 -p tcp --syn --dport 80 -j CT --notrack
ip netns exec "$S" iptables -A INPUT -i eth0 -p tcp --dport 80 -m state --state INVALID,UNTRACKED \
	-j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460
ip netns exec "$S" iptables -A INPUT -i eth0 -m state --state INVALID -j DROP
mkdir -p /tmp/dd-www-$NFC_ID && echo hello >/tmp/dd-www-$NFC_ID/index.html
ip netns exec "$S" python3 -m http.server 80 --bind 198.51.100.100 -d /tmp/dd-www-$NFC_ID >/dev/null 2>&1 &
HTTPD=$!
for i in $(seq 100); do
	ip netns exec "$S" ss -Htln 'sport = :80' | grep -q . && break
	sleep 0.1
done
SMAC=$(ip -n "$S" -j link show eth0 | jq -r '.[0].address')
# Neighbours fixed: ARP under the flood is not what is tested (lost ARP
# replies failed requests with "no route to host", curl's exit 7).
ip -n "$C4" neigh replace 198.51.100.100 lladdr "$SMAC" dev eth0 nud permanent
ip -n "$S" neigh replace 198.51.100.4 lladdr \
	"$(ip -n "$C4" -j link show eth0 | jq -r '.[0].address')" dev eth0 nud permanent
# The flood: the benchmark's generator (bench/: nfcb gen --syn, live
# frames through BPF_PROG_TEST_RUN) on one CPU in the attacker's
# namespace, SYNs with their checksums right from every address of
# 203.0.113.0/24 and 64,000 source ports in turn, run after run until the
# requests are done. One generator is the strongest flood here: two (one
# a CPU) overfill the veth rings on the way and reach dd0 at less than one
# does; hping3 and Python make a fifth of it (README.md, Tests).
NFCB=$NFC_BIN/../bench/nfcb
# Frames redirected into a veth reach its peer only with NAPI on there.
ip netns exec "$W" ethtool -K p9 gro on >/dev/null
cookies() { nfctl -j dd0 show stats | jq .syncookies_sent; }
# How strong a flood is, as SYNs answered by dd0 a CPU-second of the
# process that makes them: the whole path to dd0 runs in its context, and
# a loaded machine lowers its rate over wall time, not this much. The old
# flood (one Python process, 2 s) first, for comparison.
TIMEFORMAT='%R %U %S'
c0=$(cookies)
{ time ip netns exec "$X" $TOOLS synflood eth0 "$SMAC" 198.51.100.100 80 2 >/dev/null; } 2>$D/py.time
py=$(($(cookies) - c0))
read -r py_wall py_user py_sys <$D/py.time
# The generator sends with live-frames test runs, which some kernels
# refuse (EPERM, even to root): there the flood is Python's, on and on,
# and what compares the two floods is skipped.
LIVE=1
"$NFCB" live-probe 2>/dev/null || LIVE=
flood() { # bounded: 60 runs of 10^6 frames, a minute or more
	for i in $(seq 60); do
		[ -e $D/stop ] && return 0
		if [ -z "$LIVE" ]; then
			ip netns exec "$X" $TOOLS synflood eth0 "$SMAC" 198.51.100.100 80 2 >/dev/null || return 1
			continue
		fi
		ip netns exec "$X" "$NFCB" gen --dev eth0 --dst-mac "$SMAC" --syn \
			--src 203.0.113.1 --saddrs 254 --dst 198.51.100.100 --daddrs 1 \
			--sport 1024 --sports 64000 --dport 80 --dports 1 \
			--count 1000000 || return 1
	done
}
c0=$(cookies)
{ time flood >$D/gen.json 2>$D/gen.err; } 2>$D/gen.time &
FLOOD=$!
# Requests start once the flood is answered with cookies.
for i in $(seq 100); do
	[ "$(cookies)" -gt $((c0 + 1000)) ] && break
	sleep 0.1
done
# One curl, 200 URLs, one after the other: a new connection each (the
# server closes after each response) without a process each.
# The client's packets are kept: a failed request is shown whole.
ip netns exec "$C4" tcpdump -i eth0 --immediate-mode -nn -s 80 -w $D/c4.pcap tcp port 80 2>/dev/null &
DUMP=$!
args=()
for i in $(seq 200); do args+=(-o /dev/null "http://198.51.100.100/?$i"); done
# Bounded as a whole: with every request failing, 200 timeouts would
# run for half an hour.
{ time ip netns exec "$C4" timeout 90 curl -s -m 5 -H 'Connection: close' \
	-w '%{exitcode} %{http_code} %{time_total} %{local_port}\n' "${args[@]}" >$D/curl; } 2>$D/curl.time
read -r curl_s _ <$D/curl.time
okc=$(awk '$1 == 0 && $2 == 200' $D/curl | wc -l)
fails=$(awk '!($1 == 0 && $2 == 200)' $D/curl | tr '\n' ';')
sleep 0.5
kill $DUMP
wait $DUMP 2>/dev/null
if [ -n "$fails" ]; then
	echo "# failed requests (curl exit, http code, seconds, local port): $fails"
	# The connections that met a reset or sent their SYN again.
	for p in $(tcpdump -nn -r $D/c4.pcap 'tcp[tcpflags] & (tcp-syn|tcp-rst) != 0 and tcp[tcpflags] & tcp-ack = 0' 2>/dev/null |
		awk '{split($3, a, "."); print a[5]}' | sort | uniq -d | head -3) \
		$(tcpdump -nn -r $D/c4.pcap 'tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | awk '{split($5, a, "."); print a[5]}' | tr -d : | head -3); do
		tcpdump -nn -tt -r $D/c4.pcap "port $p" 2>/dev/null | head -12 | sed 's/^/#   /'
	done
	echo "# synproxy at the server: $(ip netns exec "$S" cat /proc/net/stat/synproxy | tr '\n' ' ')"
fi
echo "# drops on the way (tx of the switch's uplink, rx of the NF's netdev): $(ip -n "$W" -j -s link show up0 | jq -c '.[0].stats64.tx') $(ip -j -s link show $VX | jq -c '.[0].stats64.rx')"
halfopen=$(ip netns exec "$S" ss -Htan state syn-recv | grep -c '203\.0\.113\.')
touch $D/stop
wait $FLOOD
FLOOD=
syn=$(($(cookies) - c0))
read -r wall user sys <$D/gen.time
# The rate at dd0 over the time the generator's runs took (their
# BPF_PROG_TEST_RUN calls: a run's set-up and the gaps between runs left
# out); the Python flood's over its wall time, its start included.
read -r sent gen_s <<<"$(jq -rs '[(map(.generated) | add // 0), (map(.syscall_ns) | add // 0) / 1e9] | @tsv' $D/gen.json)"
[ -s $D/gen.err ] && sed 's/^/# generator: /' $D/gen.err
read -r rate cpu_rate py_rate py_cpu_rate <<<"$(python3 -c "
g, c, pw, pc = $gen_s, $user + $sys, $py_wall, $py_user + $py_sys
print(int($syn / g) if g else 0, int($syn / c) if c else 0, int($py / pw), int($py / pc) if pc else 0)")"
echo "# SYN flood: $sent spoofed SYNs generated in ${wall}s, $syn answered by dd0: $rate/s while the generator ran, $cpu_rate a CPU-second; one Python process: $py in ${py_wall}s, $py_rate/s, $py_cpu_rate a CPU-second; $okc of 200 requests ok in ${curl_s}s; stats: $(nfctl -j dd0 show stats | jq -c '{dropped, syncookies_sent, syncookies_valid}')"
# Twice the old flood's at least (seen: 3.7 to 5.8 times): both pay the
# same path to dd0 a SYN (~2 us here), Python ~10 us more, the generator
# ~0.3 us, so no sender makes this ratio much above 8.
if [ -n "$LIVE" ]; then
	check "$mode: the flood brought dd0 twice the SYNs a CPU-second of one Python process or more ($cpu_rate, $py_cpu_rate)" \
		[ "$cpu_rate" -ge $((2 * py_cpu_rate)) -a "$py_cpu_rate" -gt 0 ]
else
	ok "$mode: the generator's flood against Python's # SKIP: this kernel refuses live-frames test runs (EPERM): Python floods alone"
fi
check "$mode: >= 99% of 200 HTTP requests succeed under a SYN flood ($okc)" [ "$okc" -ge 198 ]
check "$mode: no half-open connection from the flood at the server ($halfopen)" [ "$halfopen" = 0 ]
check "$mode: the flood was answered with SYN cookies ($syn)" [ "$syn" -gt 1000 ]
check "$mode: the client's handshakes passed on a valid cookie" \
	[ "$(nfctl -j dd0 show stats | jq .syncookies_valid)" -gt 0 ]
nfc_done
