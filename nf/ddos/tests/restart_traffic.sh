#!/usr/bin/env bash
# A blocklisted source under way while nfchaind goes away and another
# takes dd0 over: nothing of it passes. A forwarder between hosts A and B,
# dd0 first on A's side, a blocklist of 20,000 random prefixes imported
# with --replace plus A's /24 added by hand; A sends UDP to B at DD_PPS
# (2,000) throughout; the daemon is killed (-9; DD_KILL=term: SIGTERM) and
# a new one starts on the same pin root and state dir. Checked: nothing of
# A's reaches B before, across, after; the 5,000 probes agree with Python
# ipaddress in the new maps; the old LPM tries hold nothing; dd0 can be
# deleted.
#
# From a real old nfchain (its blocklist in LPM tries, dd_block4_0 ...),
# not in the suite (building the old tree is minutes of CPU):
#
#   git worktree add --detach /tmp/dd-old c23bf8a   # main before 653d809
#   make -C /tmp/dd-old -j2 .output/bin/nfchaind .output/bin/nfchain
#   DD_OLD=/tmp/dd-old bash nf/ddos/tests/restart_traffic.sh
#
# Then the first daemon is the old tree's and the tries hold the list; the
# new one takes its pins over (the maps this object adds are created
# empty, lib/load.c names_check; the tries are still declared, so kept),
# and packets read the tries until its control plane has moved them.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
NFC_IPV6=off
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
TOOLS="python3 $NFC_TOP/nf/ddos/tests/dd_tools.py"
PPS=${DD_PPS:-2000}
nfc_setup
nfd_hosts
nfc_static_neigh
NEW_BIN=$NFC_BIN
rx_b() { ip -n "$B" -s -j link show eth0 | jq '.[0].stats64.rx.packets'; }
# Entries in the pinned map $1 (bpftool walks any map's keys).
entries() { bpftool -j map dump pinned "$1" | jq length; }

[ -n "${DD_OLD:-}" ] && NFC_BIN=$DD_OLD/.output/bin
export NFC_DDOS_FEED_DIR=$NFD_DIR/feeds
nfd_start || { not_ok "the first nfchaind starts"; exit 1; }
[ -n "${DD_OLD:-}" ] && echo "# old: $(git -C "$DD_OLD" log -1 --format='%h %s' | cut -c1-70)"
nfc forwarder add f1 >/dev/null &&
	nfc f1 ports add p1 peer="$VA" >/dev/null &&
	nfc f1 ports add p2 peer="$VB" >/dev/null &&
	nfc ddos add dd0 >/dev/null &&
	nfc attach dd0 "$VA" direction=ingress position=first >/dev/null ||
	{ not_ok "the chain"; exit 1; }
check "B reaches A through f1" ip netns exec "$B" ping -c1 -W2 198.51.100.1
$TOOLS feed 20000 "$NFC_ID" "$NFD_DIR/feed.txt" "$NFD_DIR/probes.txt" 5000
check "import --replace of 20,000 prefixes" \
	quiet nfc dd0 blocklist import --replace -f "$NFD_DIR/feed.txt"
check "A's /24 blocklisted by hand" quiet nfc dd0 blocklist add 198.51.100.0/24
if [ -n "${DD_OLD:-}" ]; then
	check "old: the blocklist in LPM tries" \
		[ "$(entries "$(ls -d "$NFC_PIN"/nf/*-dd0)/map/dd_block4_0")$(entries "$(ls -d "$NFC_PIN"/nf/*-dd0)/map/dd_block4_1")" != 00 ]
fi
base=$(rx_b)
ip netns exec "$A" $TOOLS udp 198.51.100.2 9 "$PPS" 3600 >"$NFD_DIR/udp.out" &
UDP=$!
ts=$(date +%s)
sleep 2
check "nothing of A's reaches B" [ "$(rx_b)" = "$base" ]

for round in 1 2; do
	if [ "${DD_KILL:-9}" = 9 ]; then nfd_kill9; else nfd_stop; fi
	sleep 0.5
	NFC_BIN=$NEW_BIN
	t0=$(date +%s%N)
	nfd_start || { not_ok "round $round: nfchaind starts on the pins"; exit 1; }
	echo "# round $round: nfchaind answered $((($(date +%s%N) - t0) / 1000000)) ms after its start"
	sleep 2
done
kill "$UDP" 2>/dev/null
wait "$UDP" 2>/dev/null
sleep 0.5
passed=$(($(rx_b) - base))
echo "# A -> B at $PPS pps for $(($(date +%s) - ts)) s, two takeovers: $passed reached B"
check "nothing of A's reached B across the takeovers" [ "$passed" = 0 ]
check "the blocklist answers the 5,000 probes in the new maps" \
	$TOOLS lookup "$NFC_PIN" "$NFD_DIR/probes.txt"
d=$(ls -d "$NFC_PIN"/nf/*-dd0)
check "the old LPM tries hold nothing" \
	[ "$(entries $d/map/dd_block4_0)$(entries $d/map/dd_block4_1)$(entries $d/map/dd_block6_0)$(entries $d/map/dd_block6_1)" = 0000 ]
check "A's /24 is still listed" \
	sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' -j dd0 blocklist show | grep -q 198.51.100.0/24"
grep -i "taken over\|mended" "$NFD_LOG" | sed 's/^/# log: /'
check "dd0 del" quiet nfc dd0 del
nfc_done
