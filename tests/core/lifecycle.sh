#!/usr/bin/env bash
# State outlives the process: a chain built by one process keeps carrying
# traffic after it exits; another process adopts it (NFs, ports, links,
# attachments, map contents) and deletes it, and then nothing of nfchain is
# pinned or attached. Rewiring under load reports its loss and leaves other
# links alone; a rebuilt NF program replaces the running one without loss,
# keeping its maps.
. "$(dirname "$0")/../lib.sh"
nfc_setup
nfc_two_hosts
C=$(nfc_ns c); D=$(nfc_ns d)
VC=vc$NFC_ID VD=vd$NFC_ID
nfc_host "$C" eth0 203.0.113.1/24 $VC
nfc_host "$D" eth0 203.0.113.2/24 $VD

loss() { # the loss % from a ping summary on stdin
	sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p'
}

# Built by short-lived processes (each nfctl call is one). In XDP, stated:
# the spliced f3 and the rebuilt counter below are XDP programs.
nfctl forwarder add f1 mode=xdp
nfctl forwarder add f2 mode=xdp
nfctl f1 ports add p1 peer=$VA
nfctl f1 ports add p2 peer=$VB
nfctl f2 ports add p1 peer=$VC
nfctl f2 ports add p2 peer=$VD
nfctl counter add c1 mode=xdp
nfctl attach c1 $VA
check "traffic flows after the creating processes exited" \
	ip netns exec "$A" ping -c 3 -i 0.1 -W 2 198.51.100.2
before=$(nfctl -j c1 show | jq .stats.ingress_packets)
check "a new process adopts the counter's map contents ($before packets)" \
	[ "$before" -ge 3 ]
check "adopted state lists every NF, port and attachment" \
	[ "$(nfctl export | jq -c '[.nfs[].name, (.nfs[].ports[].peer), .attachments[0].nf]')" = \
	  "[\"f1\",\"f2\",\"c1\",\"$VA\",\"$VB\",\"$VC\",\"$VD\",\"c1\"]" ]

# Rewire while pinging every 10 ms: splice a third forwarder into the A-B
# path (one atomic apply), then take it out again. C-D must not notice.
ip netns exec "$C" ping -i 0.01 -c 300 -W 1 203.0.113.2 >/tmp/nfc-cd-$NFC_ID &
cd_pid=$!
ip netns exec "$A" ping -i 0.01 -c 300 -W 1 198.51.100.2 >/tmp/nfc-ab-$NFC_ID &
ab_pid=$!
sleep 0.5
nfctl export | jq --arg vb "$VB" '
	.nfs |= map(if .name=="f1" then .ports |= map(if .name=="p2" then .peer="f3:p1" else . end) else . end)
	| .nfs += [{"name":"f3","type":"forwarder","mode":"xdp","config":{},
	            "ports":[{"name":"p1","peer":"f1:p2","config":{}},{"name":"p2","peer":$vb,"config":{}}]}]' \
	>/tmp/nfc-doc-$NFC_ID
check "splice f3 into the running path with one apply" nfctl apply -f /tmp/nfc-doc-$NFC_ID
sleep 0.5
check "f3 carries the traffic" [ "$(nfctl -j f3 show | jq .stats.rx_packets)" -gt 0 ]
nfctl export | jq --arg vb "$VB" '
	.nfs |= map(select(.name != "f3"))
	| .nfs |= map(if .name=="f1" then .ports |= map(if .name=="p2" then .peer=$vb else . end) else . end)' \
	>/tmp/nfc-doc-$NFC_ID
check "take f3 out again with one apply" nfctl apply -f /tmp/nfc-doc-$NFC_ID
wait $ab_pid $cd_pid
ab=$(loss </tmp/nfc-ab-$NFC_ID); cd=$(loss </tmp/nfc-cd-$NFC_ID)
echo "# rewire under ping -i 0.01, splice in and out by apply: A-B loss ${ab}%, C-D loss ${cd}%"
check "the other link (C-D) lost nothing while A-B was rewired" [ "$cd" = 0 ]
check "splicing in and out lost nothing on A-B (${ab}%)" [ "$ab" = 0 ]

# Step by step (disconnect, then connect): the gap between the two calls
# shows as loss, reported.
ip netns exec "$A" ping -i 0.01 -c 200 -W 1 198.51.100.2 >/tmp/nfc-ab-$NFC_ID &
sleep 0.5
nfctl disconnect f1:p2
nfctl connect f1:p2 $VB
wait $!
echo "# disconnect + connect under ping -i 0.01: A-B loss $(loss </tmp/nfc-ab-$NFC_ID)%"
check "traffic back after a step-by-step rewire" ip netns exec "$A" ping -c 2 -i 0.1 -W 2 198.51.100.2
rm -f /tmp/nfc-ab-$NFC_ID /tmp/nfc-cd-$NFC_ID /tmp/nfc-doc-$NFC_ID

# A rebuilt counter (nfctl c1 upgrade) replaces the pinned one: no loss,
# its map kept, the program (slot) changed.
obj=$(mktemp -d)
clang -target bpf -O2 -g -Wall -I"$NFC_TOP/.output" -I"$NFC_TOP/bpf" \
	-I/usr/include/$(uname -m)-linux-gnu -D__TARGET_ARCH_x86 -DNFC_HOOK_XDP \
	-DCOUNTER_REBUILD=1 -c "$NFC_TOP/nf/counter/counter.bpf.c" -o "$obj/counter.xdp.bpf.o"
old_id=$(bpftool -j prog show pinned "$NFC_PIN/nf/2-c1/prog" | jq .id)
n0=$(nfctl -j c1 show | jq .stats.ingress_packets)
ip netns exec "$A" ping -i 0.01 -c 200 -W 1 198.51.100.2 >/tmp/nfc-up-$NFC_ID &
sleep 0.5
nfctl c1 upgrade -f "$obj/counter.xdp.bpf.o"
wait $!
new_id=$(bpftool -j prog show pinned "$NFC_PIN/nf/2-c1/prog" | jq .id)
up=$(loss </tmp/nfc-up-$NFC_ID)
n1=$(nfctl -j c1 show | jq .stats.ingress_packets)
echo "# upgrade: program $old_id -> $new_id, loss ${up}%, counter $n0 -> $n1"
check "the rebuilt program replaced the pinned one" [ "$old_id" != "$new_id" ]
check "no packet lost during the swap" [ "$up" = 0 ]
check "the counter's map was kept ($n0 -> $n1)" [ "$n1" -ge $((n0 + 200)) ]
rm -rf "$obj" /tmp/nfc-up-$NFC_ID

# Delete everything from yet another process: nothing left.
check "delete everything" nfctl reset
check "nothing pinned under the pin root" [ ! -e "$NFC_PIN" ]
left=
for l in $VA $VB $VC $VD; do
	ip -d link show dev $l | grep -q "prog/xdp" && left+=" $l:xdp"
	bpftool net show dev $l 2>/dev/null | grep -q tcx && left+=" $l:tc"
done
check "no program left on the test netdevs${left:+ (left:$left)}" [ -z "$left" ]
nfc_done
