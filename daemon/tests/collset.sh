#!/usr/bin/env bash
# `<nf> <coll> set <key> k=v` and PATCH /v1/nfs/{nf}/{coll}/{key}: the
# named fields change, the others stay, the data plane follows, the change
# is saved; a missing entry or a value add would refuse changes nothing.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }

nfc router add r0 && nfc r0 ports add p1 ip=203.0.113.1/24 &&
	nfc r0 ports add p2 ip=198.51.100.1/24
check "router r0 with two ports" [ $? = 0 ]
nfc r0 routes add 198.18.0.0/16 nexthop=203.0.113.9
nfc r0 arp add 203.0.113.20 mac=02:00:00:00:00:20 port=p1
route() { nfc r0 routes show | awk '$1 == "198.18.0.0/16" {print $3}'; }
arp() { nfc -j r0 arp show | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e.get("address") == "203.0.113.20":
        print(e.get("mac"), e.get("port"))'; }
snapshot() { route; arp; nfd_saved_sum; export_state; }

check "set changes the next hop" nfc r0 routes set 198.18.0.0/16 nexthop=203.0.113.10
check "... the NF holds it (got: $(route))" [ "$(route)" = 203.0.113.10 ]
check "... saved" grep -q '203.0.113.10' <<<"$(nfd_saved)"
check "set of one field keeps the others" nfc r0 arp set 203.0.113.20 mac=02:00:00:00:00:21
check "... (got: $(arp))" [ "$(arp)" = "02:00:00:00:00:21 p1" ]

before=$(snapshot)
check "set of a missing entry is refused" \
	refused 'no such entry' nfc r0 routes set 198.19.0.0/16 nexthop=203.0.113.9
check "set to a value add refuses is refused" \
	refused 'nexthop|address' nfc r0 routes set 198.18.0.0/16 nexthop=not-an-address
check "set of an unknown field is refused" \
	refused 'colour' nfc r0 routes set 198.18.0.0/16 colour=red
check "set without key=value is a usage error" \
	refused 'set <key> key=value' nfc r0 routes set 198.18.0.0/16
check "... none of them changed anything" [ "$(snapshot)" = "$before" ]

out=$(api PATCH /v1/nfs/r0/routes/198.18.0.0%2F16 '{"fields":{"nexthop":"203.0.113.11"}}')
check "PATCH over REST (got: $out)" [ "${out%% *}" = 200 ]
check "... the NF holds it" [ "$(route)" = 203.0.113.11 ]
out=$(api PATCH /v1/nfs/r0/routes/198.18.0.0%2F16 '{"nexthop":"203.0.113.12"}')
check "PATCH without 'fields' is a 400 (got: $out)" [ "${out%% *}" = 400 ]
# The URL names what is missing (404, as DELETE says), or a field does (400).
out=$(api PATCH /v1/nfs/r0/routes/198.19.0.0%2F16 '{"fields":{"nexthop":"203.0.113.11"}}')
check "PATCH of a missing entry is a 404 (got: $out)" [ "${out%% *}" = 404 ]
out=$(api PATCH /v1/nfs/r0/arp/203.0.113.20 '{"fields":{"port":"p9"}}')
check "PATCH naming a missing port is a 400 (got: $out)" [ "${out%% *}" = 400 ]

# `k=` unsets a field of the entry (a firewall rule's dport: any port).
rule20() { nfc -j fw9 rules show | jq -c '.[] | select(.rule == "20") | [.dir, .proto, .dport // "none"]'; }
if nfc firewall add fw9 && nfc fw9 rules add 20 action=accept dir=out proto=tcp dport=80; then
	check "set dport= unsets it" nfc fw9 rules set 20 dport=
	check "... the rule has no dport, the rest kept ($(rule20))" [ "$(rule20)" = '["out","tcp","none"]' ]
	check "set dprot= (a typo) is refused as unknown, not taken for an unset" \
		refused "unknown field 'dprot'" nfc fw9 rules set 20 dprot=
	check "set action= is refused: the field is required" \
		refused 'action' nfc fw9 rules set 20 action=
	check "... and changed nothing ($(rule20))" [ "$(rule20)" = '["out","tcp","none"]' ]
	nfc fw9 del
else
	not_ok "firewall fw9 with rule 20"
fi

nfd_stop
nfd_start || not_ok "restart"
check "after a restart the set value is back (got: $(route))" [ "$(route)" = 203.0.113.11 ]
check "... and the kept field too (got: $(arp))" [ "$(arp)" = "02:00:00:00:00:21 p1" ]
nfc_done
