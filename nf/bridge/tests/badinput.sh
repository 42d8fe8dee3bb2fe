#!/usr/bin/env bash
# Bad input to the bridge NF: each is refused with a message that says what
# is wrong, and nothing changes (the exported state and the FDB are the
# same before and after). Control plane only: the ports are not connected.
. "$(dirname "$0")/lib-bridge.sh"
nfc_setup

bad() { # desc expected-message-part nfctl-args...
	local desc=$1 want=$2 out
	shift 2
	if out=$(nfctl "$@" 2>&1); then
		not_ok "$desc: accepted"
	elif [[ $out != *"$want"* ]]; then
		not_ok "$desc: message '$out' lacks '$want'"
	else
		ok "$desc ($out)"
	fi
}

nfctl bridge add bb mode=xdp || { not_ok "bridge add"; exit 1; }
nfctl bb ports add p1 vlan=10
nfctl bb ports add p2 mode=trunk allowed=10,20 native=30
nfctl bb fdb add 02:00:00:00:00:01 port=p1 vlan=10
before=$(nfctl export; nfctl bb show fdb; nfctl bb show ports | jq -c 'map(.config)')

M=02:00:00:00:00:02
bad "FDB entry on an unknown port" "port 'p9'" bb fdb add $M port=p9 vlan=10
bad "FDB entry without a port" "'port' is required" bb fdb add $M vlan=10
bad "malformed MAC (short)" "not a MAC address" bb fdb add 02:00:00:00:00 port=p1 vlan=10
bad "malformed MAC (not hex)" "not a MAC address" bb fdb add 02:00:00:00:00:zz port=p1 vlan=10
bad "FDB VLAN 0" "outside 1..4094" bb fdb add $M port=p1 vlan=0
bad "FDB VLAN 4095" "outside 1..4094" bb fdb add $M port=p1 vlan=4095
bad "FDB VLAN in the key out of range" "1..4094" bb fdb add $M@5000 port=p1
bad "FDB key and vlan= disagree" "contradicts" bb fdb add $M@10 port=p1 vlan=20
bad "multicast MAC as a static entry" "multicast" bb fdb add 01:00:5e:00:00:01 port=p1 vlan=10
bad "broadcast MAC as a static entry" "multicast" bb fdb add ff:ff:ff:ff:ff:ff port=p1 vlan=10
# One spelling a key: an upper-case MAC was a second key of the same entry.
bad "FDB key in upper case" "write it as 02:00:00:00:10:0a" bb fdb add 02:00:00:00:10:0A port=p1 vlan=10
bad "FDB key with a VLAN of three digits" "write it as 02:00:00:00:10:0a@10" bb fdb add 02:00:00:00:10:0a@010 port=p1
bad "static entry on a port outside its VLAN" "does not carry VLAN 20" \
	bb fdb add $M port=p1 vlan=20
bad "the same MAC and VLAN under another key" "already the static entry" \
	bb fdb add 02:00:00:00:00:01@10 port=p2
bad "deleting an entry that is not there" "no such entry" bb fdb del $M
# Every type alike: an add of an entry there already moved it (to p2).
bad "adding an entry that is there already" "exists already (change it with 'fdb set'" \
	bb fdb add 02:00:00:00:00:01 port=p2 vlan=10
bad "access VLAN 0" "outside 1..4094" bb ports add p3 vlan=0
bad "access VLAN 4095" "outside 1..4094" bb ports add p3 vlan=4095
bad "trunk without an allowed list" "non-empty allowed list" bb ports add p3 mode=trunk
bad "trunk with an empty allowed list" "non-empty allowed list" bb ports add p3 mode=trunk allowed=
bad "trunk allowing VLAN 4095" "1..4094" bb ports add p3 mode=trunk allowed=10,4095
bad "native VLAN 4095" "outside 0..4094" bb ports add p3 mode=trunk allowed=10 native=4095
bad "unknown port mode" "not one of access|trunk" bb ports add p3 mode=hybrid
bad "emptying a trunk's allowed list" "non-empty allowed list" bb ports p2 set allowed=
bad "changing fdb_size of a running bridge" "fdb_size is fixed" bb set fdb_size=1024
bad "aging out of range" "outside 0..1000000" bb set aging=2000000

after=$(nfctl export; nfctl bb show fdb; nfctl bb show ports | jq -c 'map(.config)')
check "nothing changed: state, ports and FDB as before" [ "$before" = "$after" ]
[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after")

# The port limit: 64 (one apply), then a 65th is refused, naming the limit.
nfctl export | jq '.nfs += [{"name": "big", "type": "bridge", "mode": "xdp",
	"ports": [range(1; 65) | {"name": "p\(.)", "config": {"vlan": ((. % 2) + 1)}}]}]' \
	>"$BR_TMP/big.json"
apply_quiet() { nfctl apply -f "$1" >/dev/null; }
check "a bridge with 64 ports" apply_quiet "$BR_TMP/big.json"
check "... all 64 there" [ "$(nfctl big show ports | jq length)" = 64 ]
bad "a 65th port" "at most 64 ports" big ports add p65
nfc_done
