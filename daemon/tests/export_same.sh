#!/usr/bin/env bash
# One state, one export: what a restart brings back exports the same bytes,
# and a restart leaves no pins the state does not name. Found by a helper:
# - an emptied collection exported as {} until a reboot, then not at all;
# - a config exported in the order it was given in (capture add without
#   filter= listed "filter" first), after a reboot in another;
# - a kill -9 inside an apply left the pin directories of the NFs it had
#   loaded (nf/6-r0 ...) for good, a later NF of that index beside them.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }
quiet nfc bridge add b2 && quiet nfc b2 ports add q1 &&
	quiet nfc b2 fdb add 02:00:00:00:00:09 port=q1 &&
	quiet nfc b2 fdb del 02:00:00:00:00:09 && quiet nfc capture add x &&
	quiet nfc router add r0 && quiet nfc r0 ports add p1 ip=203.0.113.1/28 ||
	{ not_ok "a bridge with an emptied FDB, a capture, a router"; exit 1; }
# Found by a helper: collections came back in the type's order (limits
# used before allowlist), and a backend's fields PATCHed one way
# (weight unset, then given) in the order given.
quiet nfc ddos add dd && quiet nfc dd limits add 198.51.100.0/24 pps=1000 &&
	quiet nfc dd allowlist add 198.51.100.7/32 && quiet nfc lb add lb1 &&
	quiet nfc lb1 services add 203.0.113.100:80/tcp &&
	quiet nfc lb1 backends add 203.0.113.100:80/tcp/198.51.100.11 state=drain weight=3 &&
	quiet api PATCH "/v1/nfs/lb1/backends/203.0.113.100%3A80%2Ftcp%2F198.51.100.11" '{"fields":{"weight":null}}' ||
	{ not_ok "a ddos with limits then an allowlist, an lb with a backend"; exit 1; }
nfc export >"$NFD_DIR/before.json"
check "export has no emptied collection" \
	[ "$(jq '[.nfs[] | select(.name == "b2") | has("collections")][0]' "$NFD_DIR/before.json")" = false ]
reboot() { nfd_kill9; rm -rf "$NFC_PIN"; nfd_start; }
reboot || not_ok "nfchaind restarts without its pins"
check "after a reboot the export has the same bytes" cmp -s <(nfc export) "$NFD_DIR/before.json"
nfd_kill9
check "nfchaind restarts on its pins (kill -9)" nfd_start
check "... the export has the same bytes" cmp -s <(nfc export) "$NFD_DIR/before.json"

# What a killed apply leaves: a pin directory of an NF the state does not
# name, with a map in it.
nfd_kill9
mkdir -p "$NFC_PIN/nf/9-ghost"
bpftool map create "$NFC_PIN/nf/9-ghost/m" type array key 4 value 4 entries 1 name ghost
check "an NF's pin directory the state does not name (nf/9-ghost, a map in it)" [ -e "$NFC_PIN/nf/9-ghost/m" ]
check "nfchaind restarts" nfd_start
check "... and removes it" [ ! -e "$NFC_PIN/nf/9-ghost" ]
check "... the NFs it names stay" [ "$(ls "$NFC_PIN/nf" | sort | paste -sd ' ')" = "0-b2 1-x 2-r0 3-dd 4-lb1" ]
check "... the export has the same bytes" cmp -s <(nfc export) "$NFD_DIR/before.json"
nfc_done
