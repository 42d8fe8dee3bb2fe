#!/usr/bin/env bash
# Entries that went inactive come back after a reboot, inactive, and the
# rest with them. A static FDB entry whose port was deleted or moved to
# another VLAN, a route whose next hop's subnet moved, a static ARP entry
# whose port was deleted: each accepted, each shown inactive, and each
# made the restore from state.json refuse the whole state (every NF gone,
# every change refused), because the restore checked them as new adds.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }

check "b9 with x1, x2 (VLAN 10) and two static entries" bash -c "
	$NFC_BIN/nfchain --socket $NFD_SOCK bridge add b9 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK b9 ports add x1 vlan=10 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK b9 ports add x2 vlan=10 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK b9 fdb add 02:00:00:00:99:01 port=x1 vlan=10 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK b9 fdb add 02:00:00:00:99:02 port=x2 vlan=10"
check "x1 moved to VLAN 20, x2 deleted" bash -c "
	$NFC_BIN/nfchain --socket $NFD_SOCK b9 ports x1 set vlan=20 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK b9 ports del x2"
check "r1: a route via y1's subnet, a static ARP entry on y2" bash -c "
	$NFC_BIN/nfchain --socket $NFD_SOCK router add r1 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK r1 ports add y1 ip=203.0.113.129/28 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK r1 ports add y2 ip=203.0.113.145/28 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK r1 routes add 198.18.0.0/16 nexthop=203.0.113.130 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK r1 arp add 203.0.113.146 mac=02:00:00:00:88:01 port=y2"
check "y1 moved to another subnet, y2 deleted" bash -c "
	$NFC_BIN/nfchain --socket $NFD_SOCK r1 ports y1 set ip=203.0.113.161/28 &&
	$NFC_BIN/nfchain --socket $NFD_SOCK r1 ports del y2"
route_state() { nfc -j r1 routes show | jq -r '.[] | select(.prefix == "198.18.0.0/16") | .state'; }
arp_state() { nfc -j r1 arp show | jq -r '.[] | select(.address == "203.0.113.146") | .state'; }
fdb_active() { nfc -j b9 fdb show | jq -r '.[] | select(.key == "02:00:00:00:99:02") | .active'; }
inactive_route() { [[ $(route_state) == inactive* ]]; }
inactive_arp() { [[ $(arp_state) == *inactive* ]]; }
check "the route is inactive ($(route_state))" inactive_route
check "the ARP entry is inactive ($(arp_state))" inactive_arp
check "x2's FDB entry is inactive ($(fdb_active))" [ "$(fdb_active)" = false ]
fdb01() { nfc -j b9 fdb show | jq -r '.[] | select(.key == "02:00:00:00:99:01") | .active'; }
check "x1's FDB entry is inactive too: x1 left its VLAN ($(fdb01))" [ "$(fdb01)" = false ]

# A refused import puts back what it took out, inactive entries included:
# put back as new adds, they were refused and lost until a reboot.
fdbs() { nfc -j b9 fdb show | jq -c 'sort_by(.key)'; }
arps() { nfc -j r1 arp show | jq -c '[.[] | select(.type != "dynamic")] | sort_by(.address)'; }
fdb0=$(fdbs) arp0=$(arps)
check "an FDB import --replace with a bad line 2 is refused" \
	refused "line 2" bash -c "printf '02:00:00:00:99:0c port=x1 vlan=20\n02:00:00:00:99:0d port=x1 vlan=10\n' |
		$NFC_BIN/nfchain --socket $NFD_SOCK b9 fdb import --replace -f -"
check "... the FDB is as it was, both inactive entries in it" [ "$(fdbs)" = "$fdb0" ]
check "an ARP import --replace with a bad line 1 is refused" \
	refused "line 1" bash -c "printf 'bogus mac=02:00:00:00:00:68\n' |
		$NFC_BIN/nfchain --socket $NFD_SOCK r1 arp import --replace -f -"
check "... the ARP table is as it was, the inactive entry in it" [ "$(arps)" = "$arp0" ]
nfc export >"$NFD_DIR/before.json"

# A reboot: the pins go, state.json stays.
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || not_ok "nfchaind restarts without its pins"
nfc export >"$NFD_DIR/after.json"
check "after a reboot the state is restored whole (export unchanged)" \
	cmp -s "$NFD_DIR/before.json" "$NFD_DIR/after.json"
check "... the route inactive again ($(route_state))" inactive_route
check "... the ARP entry inactive again ($(arp_state))" inactive_arp
check "... x2's entry inactive again ($(fdb_active))" [ "$(fdb_active)" = false ]
check "changes are taken (the daemon is not holding an unrestored state)" \
	nfc r1 set arp_timeout=61
# The ports back: their entries apply again.
check "y2 back" nfc r1 ports add y2 ip=203.0.113.145/28
check "... its ARP entry is active again ($(arp_state))" [ "$(arp_state)" = static ]
check "x2 back" nfc b9 ports add x2 vlan=10
check "... its FDB entry is active again ($(fdb_active))" [ "$(fdb_active)" = true ]
# A single add still refuses what does not fit.
check "fdb add on a missing port is refused" \
	refused "port x9 does not exist|no port 'x9'" nfc b9 fdb add 02:00:00:00:99:03 port=x9
check "a route whose next hop is on no subnet is refused" \
	refused "not on a connected subnet" nfc r1 routes add 198.19.0.0/16 nexthop=203.0.113.200
check "b9 del, r1 del" bash -c "$NFC_BIN/nfchain --socket $NFD_SOCK b9 del && $NFC_BIN/nfchain --socket $NFD_SOCK r1 del"
nfc_done
