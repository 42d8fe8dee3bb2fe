#!/usr/bin/env bash
# Differential: the same two-switch topology built with the bridge NF and
# with the Linux bridge gives the same reachability matrix, VLAN isolation
# included (and that matrix is the one VLANs call for).
#
#   x1 (VLAN 10, .1) ─┐                 ┌─ y1 (VLAN 10, .4)
#   x2 (VLAN 10, .2) ─┼─ X ═trunk═ Y ───┤
#   x3 (VLAN 20, .3) ─┘   10,20         └─ y2 (VLAN 20, .5)
# All hosts in 198.51.100.0/24: only the VLANs keep 10 and 20 apart.
#
# nfchain: two bridge NFs (BR_DIFF_MODE, default xdp), their trunk ports on
# the two ends of a veth pair. Linux: this kernel has no 802.1Q
# (CONFIG_VLAN_8021Q off: no VLAN-filtering bridge, no VLAN devices), so
# each switch is a namespace with one Linux bridge per VLAN, the way VLANs
# were built before VLAN filtering, and the trunk is one link per VLAN.
. "$(dirname "$0")/lib-bridge.sh"
nfc_setup

HOSTS="x1 x2 x3 y1 y2"
declare -A ADDR=([x1]=198.51.100.1 [x2]=198.51.100.2 [x3]=198.51.100.3
	[y1]=198.51.100.4 [y2]=198.51.100.5)
declare -A VLAN=([x1]=10 [x2]=10 [x3]=20 [y1]=10 [y2]=20)

# Every host pings every other host's address at once: "src>dst=0|1 ...".
matrix() {
	local s d
	for s in $HOSTS; do
		for d in $HOSTS; do
			[ $s = $d ] && continue
			(pings $s ${ADDR[$d]} && echo "$s>$d=1" || echo "$s>$d=0") \
				>"$BR_TMP/m.$s.$d" &
		done
	done
	wait
	for s in $HOSTS; do
		for d in $HOSTS; do
			[ $s = $d ] || cat "$BR_TMP/m.$s.$d"
		done
	done | paste -sd ' '
}

expected() {
	local s d
	for s in $HOSTS; do
		for d in $HOSTS; do
			[ $s = $d ] && continue
			[ ${VLAN[$s]} = ${VLAN[$d]} ] && echo "$s>$d=1" || echo "$s>$d=0"
		done
	done | paste -sd ' '
}

# ---- nfchain -------------------------------------------------------------
nfc_matrix() {
	local mode=${BR_DIFF_MODE:-xdp} h i=0
	BR_TAG=n
	HOSTNS=()
	for h in $HOSTS; do
		i=$((i + 1))
		br_host $h "b$NFC_ID$i" ${ADDR[$h]}/24
	done
	ip link add "v${NFC_ID}x" type veth peer name "v${NFC_ID}y"
	NFC_LINKS+=("v${NFC_ID}x")
	ip link set "v${NFC_ID}x" up
	ip link set "v${NFC_ID}y" up
	nfctl bridge add X mode=$mode && nfctl bridge add Y mode=$mode &&
		nfctl X ports add t peer="v${NFC_ID}x" mode=trunk allowed=10,20 &&
		nfctl Y ports add t peer="v${NFC_ID}y" mode=trunk allowed=10,20 &&
		nfctl X ports add p1 peer="b${NFC_ID}1" vlan=10 &&
		nfctl X ports add p2 peer="b${NFC_ID}2" vlan=10 &&
		nfctl X ports add p3 peer="b${NFC_ID}3" vlan=20 &&
		nfctl Y ports add p1 peer="b${NFC_ID}4" vlan=10 &&
		nfctl Y ports add p2 peer="b${NFC_ID}5" vlan=20 || return 1
	matrix
	nfctl reset
}

# ---- Linux ---------------------------------------------------------------
linux_matrix() {
	local h sw x y
	BR_TAG=l
	HOSTNS=()
	br_ns lswx
	x=$BR_NS
	br_ns lswy
	y=$BR_NS
	for sw in $x $y; do
		ip -n $sw link add br10 type bridge mcast_snooping 0
		ip -n $sw link add br20 type bridge mcast_snooping 0
		ip -n $sw link set br10 up
		ip -n $sw link set br20 up
	done
	for h in $HOSTS; do
		br_ns l$h
		HOSTNS[$h]=$BR_NS
		sw=$x
		[ ${h:0:1} = y ] && sw=$y
		ip link add "s$h" netns $sw type veth peer name eth0 netns ${HOSTNS[$h]}
		ip -n $sw link set "s$h" master br${VLAN[$h]} up
		ip -n ${HOSTNS[$h]} link set eth0 up
		ip -n ${HOSTNS[$h]} addr add ${ADDR[$h]}/24 dev eth0
	done
	for v in 10 20; do
		ip link add "t$v" netns $x type veth peer name "t$v" netns $y
		ip -n $x link set "t$v" master br$v up
		ip -n $y link set "t$v" master br$v up
	done
	matrix
}

# Not $(...): a subshell would keep the namespaces it makes from the
# cleanup's lists.
want=$(expected)
if nfc_matrix >"$BR_TMP/nfc.m"; then
	got_nfc=$(cat "$BR_TMP/nfc.m")
	check "nfchain: the reachability matrix is the VLANs' one" [ "$got_nfc" = "$want" ]
else
	got_nfc=
	not_ok "nfchain: set up the two bridges"
fi
linux_matrix >"$BR_TMP/linux.m"
got_linux=$(cat "$BR_TMP/linux.m")
check "Linux: the reachability matrix is the VLANs' one" [ "$got_linux" = "$want" ]
check "nfchain and the Linux bridge agree on every pair" [ "$got_nfc" = "$got_linux" ]
for name in nfc linux; do
	v=got_$name
	[ "${!v}" = "$want" ] || echo "# $name: ${!v}"
done
nfc_done
