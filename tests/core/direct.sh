#!/usr/bin/env bash
# Direct attachment (docs/runtime.md): a netdev whose ingress hook leads
# straight to an NF runs that NF's nfc_direct program, not the stub; the
# hook follows every change of its hop (a transparent NF spliced in and
# out, NFC_NO_DIRECT=1 and back); two ports of one NF whose netdevs share
# a slot: the first direct, the other on its stub, traffic through both.
. "$(dirname "$0")/../lib.sh"
nfc_setup
nfc_two_hosts

# The programs the hooks run: one line per pinned hook link, sorted
# (bpftool here lists tcx links without their netdev, so by pin).
hooks() {
	local l
	for l in "$NFC_PIN"/stub/*/link; do
		[ -e "$l" ] && bpftool -j link show pinned "$l" | jq -r .prog_id
	done | sort | tr '\n' ' '
}
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' '; }
pinned_id() { bpftool -j prog show pinned "$NFC_PIN/$1" 2>/dev/null | jq -r .id; }
prog_name() { bpftool -j prog show id "$1" 2>/dev/null | jq -r .name; }
ping_ab() { ip netns exec "$A" ping -c 3 -i 0.05 -W 2 198.51.100.2; }

for mode in xdp xdp-generic tc; do
	nfctl forwarder add f1 mode=$mode &&
		nfctl f1 ports add p1 peer=$VA && nfctl f1 ports add p2 peer=$VB ||
		{ not_ok "$mode: set up f1"; continue; }
	f1=$(pinned_id nf/0-f1/progs/nfc_direct)
	check "$mode: both hooks run f1's nfc_direct ($f1)" \
		[ -n "$f1" ] && check "$mode: both hooks run f1's nfc_direct ($f1)" [ "$(hooks)" = "$(sorted "$f1" "$f1")" ]
	check "$mode: ping across, directly attached" ping_ab

	nfctl counter add c1 mode=$mode && nfctl attach c1 $VA direction=ingress
	c1=$(pinned_id nf/1-c1/progs/nfc_direct)
	check "$mode: c1 spliced in on $VA: one hook runs c1's nfc_direct, the other f1's" \
		[ -n "$c1" ] && check "$mode: c1 spliced in on $VA: one hook runs c1's nfc_direct, the other f1's" [ "$(hooks)" = "$(sorted "$c1" "$f1")" ]
	check "$mode: ping across c1 and f1" ping_ab
	check "$mode: c1 counted the echo requests" \
		[ "$(nfctl -j c1 show | jq .stats.rx_packets)" -ge 3 ]
	nfctl detach c1 $VA
	check "$mode: c1 detached: both hooks run f1's again" \
		[ "$(hooks)" = "$(sorted "$f1" "$f1")" ]

	NFC_NO_DIRECT=1 nfctl c1 del
	stubs=$(for i in $(hooks); do prog_name "$i"; done | tr '\n' ' ')
	check "$mode: a change under NFC_NO_DIRECT=1 puts both hooks on stubs ($stubs)" \
		[ "$stubs" = "nfc_stub nfc_stub " ]
	check "$mode: ping across the stubs" ping_ab
	nfctl counter add c2 mode=$mode
	check "$mode: the next change attaches f1 directly again" \
		[ "$(hooks)" = "$(sorted "$f1" "$f1")" ]
	nfctl c2 del && nfctl f1 del
	check "$mode: f1 deleted: no hook left" [ -z "$(hooks)" ]
done

# A large NF loads its two programs as two objects at once
# (lib/load_split.c): spliced in on $VA both ways, its nfc_direct runs at
# $VA's hook and its nfc_entry takes the replies by tail call from f4.
for mode in xdp tc; do
	nfctl forwarder add f4 mode=$mode &&
		nfctl f4 ports add p1 peer=$VA && nfctl f4 ports add p2 peer=$VB &&
		nfctl firewall add fw4 mode=$mode && nfctl attach fw4 $VA direction=both ||
		{ not_ok "$mode: set up f4 and fw4"; continue; }
	f4=$(pinned_id nf/0-f4/progs/nfc_direct)
	fw4=$(pinned_id nf/1-fw4/progs/nfc_direct)
	check "$mode: fw4 on $VA: its hook runs fw4's nfc_direct, $VB's f4's" \
		[ -n "$fw4" ] && check "$mode: fw4 on $VA: its hook runs fw4's nfc_direct, $VB's f4's" [ -n "$f4" ] && check "$mode: fw4 on $VA: its hook runs fw4's nfc_direct, $VB's f4's" [ "$(hooks)" = "$(sorted "$fw4" "$f4")" ]
	check "$mode: ping across fw4 and f4" ping_ab
	check "$mode: fw4 took the requests directly and the replies by tail call" \
		[ "$(nfctl -j fw4 show | jq .stats.packets.default_accepted)" -ge 6 ]
	# An upgrade loads both programs anew, split again: the hook and
	# the tail-call slot must follow to the new ones.
	nfctl fw4 upgrade >/dev/null
	fw4b=$(pinned_id nf/1-fw4/progs/nfc_direct)
	check "$mode: fw4 upgraded: its hook runs the new nfc_direct ($fw4 -> $fw4b)" \
		[ -n "$fw4b" ] && check "$mode: fw4 upgraded: its hook runs the new nfc_direct ($fw4 -> $fw4b)" [ "$fw4b" != "$fw4" ] && check "$mode: fw4 upgraded: its hook runs the new nfc_direct ($fw4 -> $fw4b)" [ "$(hooks)" = "$(sorted "$fw4b" "$f4")" ]
	check "$mode: ping across the upgraded fw4" ping_ab
	check "$mode: the upgraded fw4 took them both ways" \
		[ "$(nfctl -j fw4 show | jq .stats.packets.default_accepted)" -ge 12 ]
	nfctl fw4 del && nfctl f4 del
done

# Two netdevs whose ifindexes have the same low 8 bits: the same ifports
# slot of one NF. Indexes picked from this test's id, the next free pair.
C=$(nfc_ns c); D=$(nfc_ns d)
VC=vc$NFC_ID VD=vd$NFC_ID
for ((k = 100 + NFC_ID % 50; k < 400; k++)); do
	i=$((k * 256 + 17))
	ip link add "$VC" index $i type veth peer name eth0 netns "$C" 2>/dev/null || continue
	if ip link add "$VD" index $((i + 256)) type veth peer name eth0 netns "$D" 2>/dev/null; then
		break
	fi
	ip link del "$VC"
done
NFC_LINKS+=("$VC" "$VD")
for v in "$VC:$C:198.51.100.3" "$VD:$D:198.51.100.4"; do
	IFS=: read -r dev ns addr <<<"$v"
	nfc_ipv6_quiet "$ns" eth0
	sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" # an NF port, not a host
	ip link set "$dev" up && ip -n "$ns" link set eth0 up &&
		ip -n "$ns" addr add "$addr/24" dev eth0
done
nfctl forwarder add f3 && nfctl f3 ports add p1 peer=$VC && nfctl f3 ports add p2 peer=$VD
f3=$(pinned_id nf/0-f3/progs/nfc_direct)
names=$(for i in $(hooks); do [ "$i" = "$f3" ] && echo direct || prog_name "$i"; done | sort | tr '\n' ' ')
check "slot shared by $VC and $VD: one runs f3 directly, the other its stub ($names)" \
	[ -n "$f3" ] && check "slot shared by $VC and $VD: one runs f3 directly, the other its stub ($names)" [ "$names" = "direct nfc_stub " ]
check "slot shared: ping across (the direct port in, the stub port out, and back)" \
	ip netns exec "$C" ping -c 3 -i 0.05 -W 2 198.51.100.4
nfc_done
