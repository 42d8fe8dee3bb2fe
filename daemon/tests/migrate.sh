#!/usr/bin/env bash
# A state moved to another daemon (its own socket, state directory and pin
# root) by export and apply, with what NFs keep in files beside the state:
# a ddos blocklist imported as a feed (with a prefix deleted since) and a
# router's route store (with a route deleted since). Found by a helper:
# the apply was refused, naming the very file that held the feed, since
# the file's name holds the pin root. The new daemon takes the files in
# under its own names, its export names them, and it needs the old
# daemon's files no more: a reboot after they are gone brings the lists
# back.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
PIN_A=$NFC_PIN
test_cleanup() {
	nfd_test_cleanup
	"$NFC_BIN/nfctl" --pin-root "$PIN_A" reset >/dev/null 2>&1
	rm -rf "$PIN_A"
}
export NFC_RT_IMPORT_MIN=2 # the route store from the first import
nfd_start || { not_ok "nfchaind starts"; exit 1; }

printf '203.0.113.0/24\n198.18.0.0/15\n10.0.0.0/8\n' >"$NFD_DIR/feed"
printf '%s\n' '198.19.0.0/16 nexthop=203.0.113.2' \
	'198.20.0.0/16 nexthop=203.0.113.3' '198.21.0.0/16 nexthop=203.0.113.2' >"$NFD_DIR/routes"
check "dd0 with an imported feed less 10.0.0.0/8, r0 with a route store less 198.21.0.0/16" bash -c "
	$NFC_BIN/nfchain --socket $NFD_SOCK ddos add dd0 >/dev/null &&
	$NFC_BIN/nfchain --socket $NFD_SOCK dd0 blocklist import -f $NFD_DIR/feed >/dev/null &&
	$NFC_BIN/nfchain --socket $NFD_SOCK dd0 blocklist del 10.0.0.0/8 >/dev/null &&
	$NFC_BIN/nfchain --socket $NFD_SOCK router add r0 >/dev/null &&
	$NFC_BIN/nfchain --socket $NFD_SOCK r0 ports add p1 ip=203.0.113.1/28 >/dev/null &&
	$NFC_BIN/nfchain --socket $NFD_SOCK r0 routes import -f $NFD_DIR/routes >/dev/null &&
	$NFC_BIN/nfchain --socket $NFD_SOCK r0 routes del 198.21.0.0/16 >/dev/null"
lists() {
	nfc -j dd0 blocklist show | jq -r '.[].prefix' | sort
	nfc -j r0 routes show | jq -r '.[] | select(.nexthop != null) | "\(.prefix) \(.nexthop)"' | sort
}
want=$(lists)
check "... listed: two prefixes, two routes" [ "$(wc -l <<<"$want")" = 4 ]
nfc export >"$NFD_DIR/moved.json"
check "... the export names the feed and the store by their files" \
	[ "$(jq -r '.nfs[].collections | (.blocklist.feed.file // .routes.store.file) // empty' "$NFD_DIR/moved.json" | grep -c "^$NFD_STATE/")" = 2 ]
nfd_stop

# The second daemon.
NFC_PIN=${PIN_A}b NFD_SOCK=$NFD_DIR/b.sock NFD_STATE=$NFD_DIR/state-b NFD_LOG=$NFD_DIR/b.log
nfd_start || { not_ok "a second nfchaind starts"; exit 1; }
check "apply of the export into another daemon" quiet nfc apply -f "$NFD_DIR/moved.json"
check "... the same prefixes and routes ($(lists | tr '\n' ' '))" [ "$(lists)" = "$want" ]
check "... its export names its own files" \
	[ "$(nfc export | jq -r '.nfs[].collections | (.blocklist.feed.file // .routes.store.file) // empty' | grep -c "^$NFD_STATE/")" = 2 ]
rm -rf "$NFD_DIR/state"
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || { not_ok "the second daemon starts again after a reboot"; exit 1; }
check "a reboot of it, the first daemon's files gone: the same lists" [ "$(lists)" = "$want" ]
check "... nothing pending" [ "$(nfc -j show | jq -r '.restore_pending // empty')" = "" ]
nfd_stop
nfc_done
