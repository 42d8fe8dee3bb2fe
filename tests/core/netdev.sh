#!/usr/bin/env bash
# A netdev that goes away and comes back: the runtime keeps working while it
# is gone, and applying the same document re-resolves its name to the new
# netdev. The dry-run plan names peer changes.
. "$(dirname "$0")/../lib.sh"
nfc_setup
nfc_two_hosts
nfctl forwarder add f1
nfctl f1 ports add p1 peer=$VA
nfctl f1 ports add p2 peer=$VB
doc=/tmp/nfc-nd-$NFC_ID
test_cleanup() { rm -f $doc $doc.2; }
nfctl export >$doc
check "ping across" ip netns exec "$A" ping -c 1 -W 2 198.51.100.2
jq '.nfs[0].ports[1].peer = null' $doc >$doc.2
check "dry-run names a peer taken away" \
	sh -c "'$NFC_BIN/nfctl' --pin-root '$NFC_PIN' apply --dry-run -f $doc.2 | grep -qx 'disconnect f1:p2'"

ip netns del "$B"   # takes $VB with it
check "the runtime works while a peer netdev is gone" nfctl forwarder add f2
check "export still names the missing netdev" [ "$(nfctl export | jq -r '.nfs[0].ports[1].peer')" = "$VB" ]
B=$(nfc_ns b)
nfc_host "$B" eth0 198.51.100.2/24 $VB
plan=$(nfctl apply --dry-run -f $doc)
check "dry-run: reconnect to the new netdev of that name" \
	grep -q "reconnect f1:p2 to $VB" <<<"$plan"
check "apply the same document" nfctl apply -f $doc
ip -n "$A" neigh flush all
check "traffic flows to the new netdev" ip netns exec "$A" ping -c 2 -i 0.2 -W 2 198.51.100.2
check "f2 went (not in the document)" refused "NF f2 does not exist" nfctl f2 show
nfc_done
