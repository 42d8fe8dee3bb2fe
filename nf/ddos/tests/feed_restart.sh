#!/usr/bin/env bash
# The ddos blocklist's feed under the daemon: an import --replace leaves
# the model a reference to the kept feed (file, prefixes, crc32) instead
# of 20,000 entries; a kill -9 and a restart keep the list (its lookups
# agree with Python ipaddress); a restart that lost the pins (a reboot)
# loads it again from the kept file through the saved state; `del` takes
# the file away. The 1,000,000-prefix import itself: scale.sh.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
TOOLS="python3 $NFC_TOP/nf/ddos/tests/dd_tools.py"
nfc_setup
export NFC_DDOS_FEED_DIR=$NFD_DIR/feeds
KEPT="$NFC_DDOS_FEED_DIR/ddos${NFC_PIN//\//_}.dd0.blocklist.feed"
nfd_start || { not_ok "nfchaind starts"; exit 1; }
nfc ddos add dd0 >/dev/null
$TOOLS feed 20000 "$NFC_ID" $NFD_DIR/feed.txt $NFD_DIR/probes.txt 5000
check "import --replace of 20,000 prefixes" \
	quiet nfc dd0 blocklist import --replace -f $NFD_DIR/feed.txt
crc=$(python3 -c "import zlib,sys; print('%08x' % zlib.crc32(open(sys.argv[1], 'rb').read()))" $NFD_DIR/feed.txt)
ref=$(nfc export | jq -c '.nfs[] | select(.name == "dd0") | .collections.blocklist')
echo "# export's blocklist: $ref"
check "export names the kept feed: file, 20,000 prefixes, its crc32" \
	[ "$ref" = "{\"feed\":{\"file\":\"$KEPT\",\"prefixes\":20000,\"crc32\":\"$crc\"}}" ]
check "the kept feed is the imported file" cmp -s $NFD_DIR/feed.txt "$KEPT"
nfd_kill9
nfd_start || not_ok "nfchaind restarts"
check "after kill -9 and a restart 5,000 lookups agree" $TOOLS lookup "$NFC_PIN" $NFD_DIR/probes.txt
check "and the export still names the feed" \
	[ "$(nfc export | jq -c '.nfs[] | select(.name == "dd0") | .collections.blocklist')" = "$ref" ]
# A reboot: the pins go, the state dir and the kept feed stay.
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || not_ok "nfchaind restarts without its pins"
check "with the pins lost the saved state loads the feed again" \
	$TOOLS lookup "$NFC_PIN" $NFD_DIR/probes.txt
check "a prefix added by hand sits beside the feed" \
	quiet nfc dd0 blocklist add 198.51.100.0/28
check "the reference cannot be deleted as an entry" \
	refused "feed.*import --replace" nfc dd0 blocklist del feed
check "feed fields on a prefix are refused" \
	refused "for the entry 'feed' only" nfc dd0 blocklist add 203.0.113.0/24 crc32=00000000
# A feed's line with expires=N keeps its end across a reboot: the kept
# feed holds it as until=T (it got a new lifetime at every load before).
left_of() { # prefix
	curl -sf --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/dd0/blocklist |
		jq -r --arg p "$1" '[.[] | select(.prefix == $p) | .expires_in][0] // "none"'
}
printf '203.0.113.240/28 expires=40\n203.0.113.224/28  expires=600 # a comment, expires=5\n' >$NFD_DIR/exp.txt
t0=$(date +%s)
check "an import of two lines with expires=" quiet nfc dd0 blocklist import -f $NFD_DIR/exp.txt
check "the kept feed holds their ends: until=$((t0 + 40)), until=$((t0 + 600))" \
	grep -Eq "^203.0.113.240/28 until=$((t0 + 40))|^203.0.113.240/28 until=$((t0 + 41))" "$KEPT"
check "... the comment kept as it was" grep -q "until=.* # a comment, expires=5" "$KEPT"
sleep 6
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || not_ok "nfchaind restarts without its pins"
l40=$(left_of 203.0.113.240/28) l600=$(left_of 203.0.113.224/28) now=$(date +%s)
in_range() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
check "after a reboot 6 s later the line keeps its end: $l40 s left at $now (ends $((t0 + 40)))" \
	in_range "$l40" 0 $((t0 + 41 - now))
check "... and the other one: $l600 s left" in_range "$l600" 0 $((t0 + 601 - now))
check "dd0 del takes its kept feed away" sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' dd0 del >/dev/null && [ ! -e '$KEPT' ]"
nfc_done
