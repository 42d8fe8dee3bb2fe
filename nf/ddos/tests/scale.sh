#!/usr/bin/env bash
# The ddos blocklist at 1,000,000 prefixes (IPv4 and IPv6): imported with
# --replace through the NF's bulk path, then 100,000 probe addresses (half
# inside listed prefixes) looked up in the live copy's maps, as the data
# plane does, must agree with Python ipaddress on every one. Also: a feed with a
# bad line is refused naming the line, and changes nothing.
. "$(dirname "$0")/../../../tests/lib.sh"
TOOLS="python3 $(dirname "$0")/dd_tools.py"
nfc_setup
D=/tmp/dd-scale-$NFC_ID
mkdir -p $D
export NFC_DDOS_FEED_DIR=$D
test_cleanup() { rm -rf "$D"; }
# Where the time goes, phase by phase (wall and CPU: on a loaded machine
# the wall is mostly waiting for a CPU). Measured 2026-12-03, load 19 on 2
# cores: feed 61 s wall for 9 s CPU (6 s since the oracle masks integers),
# import (ASan nfctl) 33 s wall for 8 s CPU, 6 of them the kernel's LPM
# inserts, lookups 17 s wall for 3 s CPU.
since() { python3 -c "print(round($(date +%s.%N) - $1, 1))"; }
nfctl ddos add dd0
t0=$(date +%s.%N)
$TOOLS feed 1000000 "$NFC_ID" $D/feed.txt $D/probes.txt
echo "# feed and reference took $(since "$t0") s"
t0=$(date +%s.%N)
check "import --replace of 1,000,000 prefixes" \
	nfctl dd0 blocklist import --replace -f $D/feed.txt
echo "# import took $(since "$t0") s"
t0=$(date +%s.%N)
check "100,000 lookups agree with Python ipaddress" $TOOLS lookup "$NFC_PIN" $D/probes.txt
echo "# lookups took $(since "$t0") s"
check "the feed is kept for a restore" cmp -s $D/feed.txt "$D/ddos${NFC_PIN//\//_}.dd0.blocklist.feed"
{ head -1000 $D/feed.txt; echo "198.51.100.1/24"; } >$D/bad.txt
check "a bad line is refused, named: line 1001" \
	refused 'line 1001: blocklist.*host bits' nfctl dd0 blocklist import --replace -f $D/bad.txt
head -5000 $D/probes.txt >$D/probes5k.txt
check "after the refusal 5,000 lookups still agree" $TOOLS lookup "$NFC_PIN" $D/probes5k.txt

# Pins lost (a reboot): the saved state applied again brings dd1 back with
# empty tries, which it fills from the kept feed. dd0, deleted, leaves no
# feed behind.
nfctl ddos add dd1
printf '203.0.113.0/25\n2001:db8:bad::/48\n' >$D/small.txt
nfctl dd1 blocklist import --replace -f $D/small.txt
nfctl dd0 del
check "dd0 del removes its kept feed" [ ! -e "$D/ddos${NFC_PIN//\//_}.dd0.blocklist.feed" ]
nfctl export >$D/state.json
# A reboot: the pins go (bpffs is empty), the kept feed stays.
rm -rf "$NFC_PIN"
check "state applied again after the pins are lost" sh -c "'$NFC_BIN/nfctl' --pin-root '$NFC_PIN' apply -f $D/state.json >/dev/null"
check "dd1's blocklist restored from its kept feed" \
	[ "$(nfctl -j dd1 show blocklist | jq -r '[.[].prefix] | sort | join(" ")')" = "2001:db8:bad::/48 203.0.113.0/25" ]
nfc_done
