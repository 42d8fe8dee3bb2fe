#!/usr/bin/env bash
# One collection change (or one NF's config value), on a state of any size, is
# journaled, not a rewrite of state.json: state.json stays byte for byte while adds and deletes go to
# state.journal, and what comes back after kill -9 and a simulated reboot
# (the pin root removed), with a last record cut short as a crash in the
# middle of a write leaves it, is exactly what was accepted: in the
# export and in the router's own table. A refused change writes nothing;
# a clean stop folds the journal into state.json.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }
N=100

nfc router add rj0 >/dev/null && nfc rj0 ports add p1 ip=203.0.113.1/24 >/dev/null
python3 -c "
for i in range($N):
    print('10.%d.%d.0/24 nexthop=203.0.113.9' % (i >> 8, i & 255))" >"$NFD_DIR/r.txt"
nfc rj0 routes import -f "$NFD_DIR/r.txt" >/dev/null
check "a router with $N routes" [ "$(nfc -j rj0 show routes | python3 -c 'import json,sys; print(sum(e.get("type") == "static" for e in json.load(sys.stdin)))')" = "$N" ]

sum() { md5sum <"$NFD_STATE/state.json"; }
# The routes as the router's maps list them, and as the export has them.
plane() { nfc -j rj0 show routes | python3 -c '
import json, sys
print(" ".join(sorted(e["prefix"] + ">" + e.get("nexthop", "") for e in json.load(sys.stdin) if e.get("type") == "static")))'; }
exported() { nfc export | python3 -c '
import json, sys
n = [n for n in json.load(sys.stdin)["nfs"] if n["name"] == "rj0"][0]
r = n["collections"]["routes"]
print(" ".join(sorted(k + ">" + v.get("nexthop", "") for k, v in r.items())))'; }

before=$(sum)
nfc rj0 routes add 198.18.0.0/16 nexthop=203.0.113.9 &&
	nfc rj0 routes add 198.19.0.0/16 nexthop=203.0.113.9 &&
	nfc rj0 routes del 198.18.0.0/16 &&
	nfc rj0 routes del 10.0.5.0/24 &&
	nfc rj0 routes set 10.0.6.0/24 nexthop=203.0.113.10
check "adds, deletes and a set accepted" [ $? = 0 ]
check "state.json not rewritten by them" [ "$(sum)" = "$before" ]
check "state.journal holds them: 5 records after its header" \
	[ "$(wc -l <"$NFD_STATE/state.journal")" = 6 ]
nfc rj0 set arp_timeout=77 >/dev/null
check "a config value set: one more record, state.json not rewritten" \
	[ "$(sum) $(wc -l <"$NFD_STATE/state.journal")" = "$before 7" ]
# An apply whose only change is that value again: the library tells the
# daemon it was one NF's own fields, so one record too.
nfc export | jq '(.nfs[] | select(.name == "rj0") | .config.arp_timeout) = 78' >"$NFD_DIR/one.json"
nfc apply -f "$NFD_DIR/one.json" >/dev/null
check "an apply that only sets one NF's value: one more record, state.json not rewritten" \
	[ "$(sum) $(wc -l <"$NFD_STATE/state.journal")" = "$before 8" ]
want=$(exported)
check "the export has them" \
	sh -c "echo '$want' | grep -q '198.19.0.0/16>' && ! echo '$want' | grep -q '198.18.0.0/16>\|10.0.5.0/24>' && echo '$want' | grep -q '10.0.6.0/24>203.0.113.10'"
jsum=$(md5sum <"$NFD_STATE/state.journal")
check "a refused add changes nothing saved" \
	sh -c "! '$NFC_BIN/nfchain' --socket '$NFD_SOCK' rj0 routes add 10.0.7.1/24 nexthop=203.0.113.9 2>/dev/null"
check "... neither state.json nor the journal" \
	[ "$(sum)" = "$before" ] && check "... neither state.json nor the journal" [ "$(md5sum <"$NFD_STATE/state.journal")" = "$jsum" ]

# kill -9, a record cut short after the last whole one, and a reboot.
nfd_kill9
printf '{"nf":"rj0","coll":"routes","key":"198.20.0.0/16","val' >>"$NFD_STATE/state.journal"
rm -rf "$NFC_PIN"
nfd_start || { not_ok "nfchaind restarts"; exit 1; }
check "after kill -9 and a reboot: the export is what was accepted" [ "$(exported)" = "$want" ]
check "... and so is the router's table" [ "$(plane)" = "$want" ]
got=$(nfc -j rj0 show | jq -c '[.config.arp_timeout, .ports[0].name]')
check "... and the config value set, the port kept ($got)" [ "$got" = '[78,"p1"]' ]

# The next record goes over the cut one; kill -9 without a reboot too.
nfc rj0 routes add 198.21.0.0/16 nexthop=203.0.113.9 >/dev/null
want=$(exported)
check "the next record replaces the cut one" \
	sh -c "! grep -q 198.20 '$NFD_STATE/state.journal' && grep -q 198.21 '$NFD_STATE/state.journal'"
nfd_kill9
nfd_start || { not_ok "nfchaind restarts"; exit 1; }
check "after kill -9 (pins kept): the same" [ "$(exported)" = "$want" ] && check "after kill -9 (pins kept): the same" [ "$(plane)" = "$want" ]

# A set is a record in the pinned state_log too (not a rewrite of the
# pinned document): what another process adopts after a kill -9.
nfc rj0 set arp_timeout=91 >/dev/null
nfd_kill9
got=$("$NFC_BIN/nfctl" --pin-root "$NFC_PIN" -j export | jq -c '.nfs[] | select(.name == "rj0") | [.config.arp_timeout, (.collections.routes | length)]')
check "a set, kill -9: the pinned state holds it and the routes ($got)" [ "$got" = "[91,$(echo "$want" | wc -w)]" ]
nfd_start || { not_ok "nfchaind restarts"; exit 1; }
check "... and the restarted daemon" [ "$(nfc -j rj0 show | jq -c .config.arp_timeout)" = 91 ] && check "... and the restarted daemon" [ "$(exported)" = "$want" ]

# A clean stop folds the journal in: state.json alone says it all.
nfd_stop
check "a clean stop leaves state.json whole and no journal" \
	sh -c "[ ! -e '$NFD_STATE/state.journal' ] && grep -q 198.21 '$NFD_STATE/state.json' && ! grep -q 198.18 '$NFD_STATE/state.json'"
rm -rf "$NFC_PIN"
nfd_start || { not_ok "nfchaind restarts"; exit 1; }
check "rebuilt from state.json alone: the same" [ "$(exported)" = "$want" ] && check "rebuilt from state.json alone: the same" [ "$(plane)" = "$want" ]

# An entry added (a journal record over state.json), then an apply of the
# document from before it: state.json is written again with the very text
# the journal names. Found by a helper: the record was replayed at the
# next start, and the deleted route came back (kill -9 and reboot alike).
nfc export >"$NFD_DIR/s0.json"
s0=$(export_state)
nfc rj0 routes add 198.30.0.0/16 nexthop=203.0.113.9 >/dev/null
check "an entry added goes to the journal" grep -q 198.30.0.0 "$NFD_STATE/state.journal"
check "... an apply of the document from before it: accepted" quiet nfc apply -f "$NFD_DIR/s0.json"
nfd_kill9
nfd_start || { not_ok "nfchaind restarts"; exit 1; }
check "... after kill -9: the entry stays deleted" [ "$(export_state)" = "$s0" ]
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || { not_ok "nfchaind restarts"; exit 1; }
check "... after a reboot: the entry stays deleted" [ "$(export_state)" = "$s0" ]

nfd_stop
nfc_done
