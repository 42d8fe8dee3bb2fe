#!/usr/bin/env bash
# A second nfchaind started beside a running one (its socket, another
# socket on the same pin root, or another socket and pin root on the same
# state directory) is refused before it changes anything.
# Found by a helper: the second one restored its own saved state (empty)
# over the first one's pins, deleting its NFs, and only then found the
# socket taken.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }
quiet nfc counter add c0 mark=5 && quiet nfc forwarder add f0
check "the first daemon runs c0 and f0" [ $? = 0 ]
before=$(export_state)
pins() { find "$NFC_PIN" | sort; }
pins_before=$(pins)

mkdir -p "$NFD_DIR/other"
echo '{"nfs":[],"attachments":[]}' >"$NFD_DIR/other/state.json"
second() { # socket; prints its log, returns its status
	timeout 20 "$NFC_BIN/nfchaind" --socket "$1" --state-dir "$NFD_DIR/other" \
		--pin-root "$NFC_PIN" >"$NFD_DIR/second.log" 2>&1
}
second "$NFD_SOCK"
check "a second nfchaind on the same socket exits 1" [ $? = 1 ]
check "... saying so" grep -q "another nfchaind is serving" "$NFD_DIR/second.log"
no_restore() { ! grep -q "event=restore" "$NFD_DIR/second.log"; }
check "... before any restore" no_restore
check "... the first one's state is unchanged" [ "$(export_state)" = "$before" ]
check "... and its pins" [ "$(pins)" = "$pins_before" ]

second "$NFD_DIR/other.sock"
check "a second nfchaind on another socket, the same pin root, exits 1" [ $? = 1 ]
check "... naming the first one's pid" \
	grep -q "another nfchaind (pid $NFD_PID) manages the pin root" "$NFD_DIR/second.log"
check "... the first one's state is unchanged" [ "$(export_state)" = "$before" ]
check "... and its pins" [ "$(pins)" = "$pins_before" ]

state_before=$(cat "$NFD_STATE/state.json")
timeout 20 "$NFC_BIN/nfchaind" --socket "$NFD_DIR/other.sock" \
	--state-dir "$NFD_STATE" --pin-root "$NFC_PIN-2nd" >"$NFD_DIR/second.log" 2>&1
check "a second nfchaind on another socket and pin root, the same state directory, exits 1" [ $? = 1 ]
check "... saying so" grep -q "another nfchaind saves its state in $NFD_STATE" "$NFD_DIR/second.log"
check "... before it pins anything" [ ! -e "$NFC_PIN-2nd" ]
check "... the first one's state is unchanged" [ "$(export_state)" = "$before" ]
check "... and its state.json" [ "$(cat "$NFD_STATE/state.json")" = "$state_before" ]
rm -rf "$NFC_PIN-2nd"

nfd_kill9
nfd_start || not_ok "after kill -9 of the first, a daemon starts on its pin root"
check "... and adopts c0 and f0" [ "$(export_state)" = "$before" ]
lockfile=/run/nfchain/pin$(printf %s "$NFC_PIN" | tr / _).lock
check "the running daemon holds its pin root's lock file" [ -e "$lockfile" ]
nfd_stop
check "... which a clean stop removes" [ ! -e "$lockfile" ]
nfd_start || not_ok "a daemon starts again after the clean stop"
check "... and holds a new lock file" [ -e "$lockfile" ]
second "$NFD_DIR/other.sock"
check "... which refuses another daemon on the pin root" [ $? = 1 ]
nfd_stop
nfc_done
