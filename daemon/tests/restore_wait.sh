#!/usr/bin/env bash
# A client that calls while nfchaind restores its state after a reboot
# waits for the restore and sees its end, instead of being refused. The
# daemon binds its socket first and accepts once the state is whole;
# before, the socket came only after the restore, and a call in the
# seconds a large restore takes failed with "Connection refused".
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }
python3 -c 'for i in range(100000): print("10.%d.%d.%d/32" % (i >> 16, (i >> 8) & 255, i & 255))' >$NFD_DIR/feed.txt
quiet nfc ddos add dd0 && quiet nfc dd0 blocklist import --replace -f $NFD_DIR/feed.txt &&
	quiet nfc router add r0 && quiet nfc bridge add b0 && quiet nfc counter add c0
check "dd0 with 100,000 prefixes, r0, b0, c0" [ $? = 0 ]
before=$(export_state)
# A reboot: the pins go, the state stays. The old socket file goes too,
# so that the new one is seen when it comes (its inode may be the old
# one's again).
nfd_kill9
rm -rf "$NFC_PIN"
rm -f "$NFD_SOCK"
"$NFC_BIN/nfchaind" --socket "$NFD_SOCK" --state-dir "$NFD_STATE" \
	--pin-root "$NFC_PIN" >>"$NFD_LOG" 2>&1 &
NFD_PID=$!
for _ in $(seq 500); do
	[ -S "$NFD_SOCK" ] && break
	sleep 0.01
done
starts() { grep -c "event=start " "$NFD_LOG"; }
n0=$(starts)
out=$(nfc -j show 2>&1)
rc=$?
echo "# start lines in the log when the call was made: $n0, after: $(starts)"
check "the new socket is there while the restore runs (the start not logged yet)" \
	[ "$n0" = 1 ]
check "a show made then succeeds: ${out:0:100}" [ $rc = 0 ]
check "... and lists the four NFs, restored" \
	[ "$(jq -c '[.nfs[].name] | sort' <<<"$out")" = '["b0","c0","dd0","r0"]' ]
check "... the blocklist whole ($(nfc export | jq '.nfs[] | select(.name == "dd0") | .collections.blocklist.feed.prefixes'))" \
	[ "$(nfc export | jq '.nfs[] | select(.name == "dd0") | .collections.blocklist.feed.prefixes')" = 100000 ]
check "export as before the reboot" [ "$(export_state)" = "$before" ]
nfc_done
