#!/usr/bin/env bash
# The differential test of the expression compiler: for every expression
# of exprs.txt (150) and every frame of two captures — 10,000 frames
# crafted with scapy (gen_frames.py: VLAN/QinQ, MPLS, IPv6 extension
# chains, IPv4 options and fragments, headers cut short, random bytes)
# and a real trace (ping, ping -6, TCP, UDP and iperf3 between two
# namespaces, taken by tcpdump) — the translated program's verdict in the
# kernel (BPF_PROG_TEST_RUN: XDP on every frame, TC on every third)
# equals pcap_offline_filter's. Then `nfchain filter-test` against
# `tcpdump -r -w`: the same pcap file, byte for byte, and its JSON.
# 70-115 s on this 2-core machine under a load average of 15-20:
# crafting overlaps the trace, and three comparisons run in parallel.
. "$(dirname "$0")/../../../tests/lib.sh"
nfc_setup
D=$(mktemp -d /tmp/nfc-cbpf-$NFC_ID.XXXXXX)
test_cleanup() {
	[ -n "$(jobs -p)" ] && kill $(jobs -p) 2>/dev/null
	[ -n "${TD:-}" ] && kill "$TD" 2>/dev/null
	[ -n "${IP3:-}" ] && kill "$IP3" 2>/dev/null
	rm -rf "$D"
}
HERE=$(cd "$(dirname "$0")" && pwd)
frames() { # pcap: its frame count, without decoding them
	$PY -c 'import struct,sys
f=open(sys.argv[1],"rb"); f.read(24); n=0
while True:
    h=f.read(16)
    if len(h)<16: break
    f.seek(struct.unpack("<IIII",h)[2],1); n+=1
print(n)' "$1"
}
t0=$(date +%s)
lap() { echo "# $1: $(($(date +%s) - t0)) s"; }
PY=/usr/bin/python3 # scapy is Debian's, not a pyenv's

if ! $PY -c 'import sys; sys.path.insert(0, "/usr/lib/python3/dist-packages"); import scapy' 2>/dev/null; then
	echo "# python3-scapy missing (scripts/deps.sh installs it)"
	exit 77
fi
# Crafting (CPU) and the real trace (mostly waiting) overlap: the test
# must stay well under 90 s on a loaded machine.
$PY "$HERE/gen_frames.py" "$D/crafted.pcap" 10000 >"$D/gen.log" 2>&1 &
GEN=$!

# A real trace: frames no larger than the MTU (no GSO/GRO on the veths),
# so that every one fits the kernel's test run.
A=$(nfc_ns a)
B=$(nfc_ns b)
ip link add eth0 netns "$A" type veth peer name eth0 netns "$B"
for n in "$A" "$B"; do
	ip netns exec "$n" ethtool -K eth0 tso off gso off gro off tx off >/dev/null 2>&1
	ip -n "$n" link set eth0 up
done
ip -n "$A" addr add 198.51.100.1/24 dev eth0
ip -n "$B" addr add 198.51.100.2/24 dev eth0
ip -n "$A" addr add 2001:db8::1/64 dev eth0 nodad
ip -n "$B" addr add 2001:db8::2/64 dev eth0 nodad
ip netns exec "$B" tcpdump -i eth0 --immediate-mode -s 0 -U -w "$D/real.pcap" 2>/dev/null &
TD=$!
sleep 1
ip netns exec "$A" ping -c 20 -i 0.01 -s 1200 198.51.100.2 >/dev/null
ip netns exec "$A" ping -6 -c 20 -i 0.01 2001:db8::2 >/dev/null
nfc_tcp "$A" "$B" 198.51.100.2
echo hello | ip netns exec "$A" timeout 1 nc -u -q 0 198.51.100.2 5353 2>/dev/null
ip netns exec "$B" iperf3 -s -1 >/dev/null 2>&1 &
IP3=$!
sleep 0.5
ip netns exec "$A" timeout 10 iperf3 -c 198.51.100.2 -n 2M -l 1000 >/dev/null 2>&1
ip netns exec "$A" timeout 10 iperf3 -u -c 198.51.100.2 -n 200K -l 400 >/dev/null 2>&1
sleep 0.5
kill "$TD"; wait "$TD" 2>/dev/null; TD=
kill "$IP3" 2>/dev/null; wait "$IP3" 2>/dev/null; IP3=
lap "traffic captured"
wait "$GEN"
rc=$?
[ "$rc" = 0 ] || sed 's/^/# /' "$D/gen.log"
check "scapy crafts 10,000 frames" [ "$rc" = 0 ]
lap "frames crafted"
n=$(frames "$D/real.pcap")
check "the real trace holds $n frames (> 500)" [ "$n" -gt 500 ]

# In parallel, reported in order: the real trace, and the crafted frames
# with each half of the expressions (every expression still meets all
# 10,000 frames).
grep -v '^#' "$HERE/exprs.txt" | grep . >"$D/all.txt"
n=$(wc -l <"$D/all.txt")
head -n $((n / 2)) "$D/all.txt" >"$D/e1.txt"
tail -n +$((n / 2 + 1)) "$D/all.txt" >"$D/e2.txt"
"$NFC_BIN/test_cbpf" --diff "$D/crafted.pcap" "$D/e1.txt" >"$D/c1.out" 2>&1 &
"$NFC_BIN/test_cbpf" --diff "$D/crafted.pcap" "$D/e2.txt" >"$D/c2.out" 2>&1 &
"$NFC_BIN/test_cbpf" --diff "$D/real.pcap" "$HERE/exprs.txt" >"$D/real.out" 2>&1 &
wait
cat "$D/c1.out" "$D/c2.out" | sed "s/^\(not \)\?ok - /&crafted: /"
sed "s/^\(not \)\?ok - /&real: /" "$D/real.out"
check "every expression ran on both captures ($n)" \
	[ "$(cat "$D"/c?.out | grep -c '^\(not \)\?ok - ')" -ge "$n" ]

lap "differential runs"
# filter-test gives what tcpdump gives, frame for frame.
NFCHAIN=$NFC_BIN/nfchain
for ef in 'tcp[tcpflags] & tcp-syn != 0:real' 'ip6 and not icmp6:real' \
	'greater 1000:real' 'vlan and udp:crafted' 'not (udp port 53):crafted' \
	'ip broadcast:crafted'; do
	e=${ef%:*} f=${ef##*:}
	tcpdump -r "$D/$f.pcap" -w "$D/t.pcap" "$e" 2>/dev/null
	out=$("$NFCHAIN" filter-test "$e" -r "$D/$f.pcap" -w "$D/n.pcap")
	want=$(frames "$D/t.pcap")
	check "filter-test '$e' on $f: says '$want of' ($out)" \
		[ "${out%% of*}" = "$want" ]
	check "filter-test '$e' on $f: the file tcpdump writes, byte for byte" \
		cmp -s "$D/t.pcap" "$D/n.pcap"
done
j=$("$NFCHAIN" filter-test -j 'udp port 53' -r "$D/crafted.pcap")
check "filter-test -j: frames and matched" \
	[ "$(echo "$j" | jq -r '.frames')" = 10000 -a "$(echo "$j" | jq -r '.matched')" = \
	"$(tcpdump -r "$D/crafted.pcap" -w "$D/t.pcap" 'udp port 53' 2>/dev/null; frames "$D/t.pcap")" ]
# (a helper) a global option before it made filter-test an NF's name,
# one after it was refused.
check "--socket S filter-test ...: the same answer" \
	[ "$("$NFCHAIN" --socket /nonexistent --timeout 5 filter-test -j 'udp port 53' -r "$D/crafted.pcap")" = "$j" ]
check "filter-test ... --socket S: the same answer" \
	[ "$("$NFCHAIN" filter-test -j 'udp port 53' -r "$D/crafted.pcap" --socket /nonexistent)" = "$j" ]
# Found by a helper: a frame over 3,520 bytes was judged on its first
# 3,520 ('less 4000' matched a 9,000-byte frame), silently.
$PY -c '
import sys; sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import Ether, IP, TCP, wrpcap
wrpcap(sys.argv[1], [Ether()/IP(src="198.51.100.1", dst="198.51.100.2")/TCP()/(b"x" * (n - 54)) for n in (1000, 3520, 3521, 9000)])' "$D/big.pcap"
j=$("$NFCHAIN" filter-test -j 'less 4000' -r "$D/big.pcap" 2>"$D/big.err")
check "filter-test over frames of 1,000 to 9,000 bytes: 2 match, 2 not run ($j)" \
	[ "$(echo "$j" | jq -c '[.frames, .matched, .not_run]')" = "[4,2,2]" ]
check "... with a warning naming the limit" grep -q "over the 3520 bytes" "$D/big.err"
check "filter-test: a syntax error is libpcap's, exit 1" \
	refused "syntax error" "$NFCHAIN" filter-test 'tcp port' -r "$D/real.pcap"
"$NFCHAIN" filter-test 'tcp port' -r "$D/real.pcap" >/dev/null 2>&1
check "filter-test: ... exit status 1" [ $? = 1 ]
check "filter-test: an expression of 8,193 characters is refused, as the NFs do" \
	refused "longer than 8192 characters" "$NFCHAIN" filter-test "tcp$(printf ' %.0s' $(seq 8190))" -r "$D/real.pcap"
lap "filter-test"
nfc_done
