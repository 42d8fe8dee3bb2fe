#!/usr/bin/env bash
# The ddos blocklist at 1,000,000 prefixes (IPv4 and IPv6), imported with
# --replace through the NF's bulk path. 100,000 probe addresses (half
# inside listed prefixes, half outside; first and last addresses of
# listed prefixes and those just beside them among them) are each the
# source of a crafted frame that dd_probe runs (BPF_PROG_TEST_RUN)
# through dd0's programs as nfctl loaded them, its entry and the program
# on its netdev's hook: each must be dropped exactly when Python
# ipaddress, reading the feed back, lists its source. The check can
# fail: three listed prefixes deleted, the probes they alone hold are
# seen to disagree; added back, all agree again. A feed with a bad line
# is refused naming the line, and changes nothing.
. "$(dirname "$0")/../../../tests/lib.sh"
TOOLS="python3 $(dirname "$0")/dd_tools.py"
nfc_setup
D=/tmp/dd-scale-$NFC_ID
mkdir -p $D
export NFC_DDOS_FEED_DIR=$D
test_cleanup() { rm -rf "$D"; }
# Where the time goes, phase by phase: wall and CPU (on a loaded machine
# the wall is mostly waiting for a CPU).
timed() { # name cmd...
	local TIMEFORMAT="# $1 took %R s wall, %U s user + %S s sys"
	shift
	time "$@"
}
# dd0 in XDP (on a veth `auto` picks TC), first on the ingress of A's
# side of a forwarder: what it lets through goes on to f1 and out to B (a
# redirect), what it drops stops there.
# No IPv6 on the hosts: none of their chatter reaches dd0's counters.
NFC_IPV6=off nfc_two_hosts
nfctl forwarder add f1 mode=xdp
nfctl f1 ports add p1 peer=$VA
nfctl f1 ports add p2 peer=$VB
nfctl ddos add dd0 mode=xdp
nfctl attach dd0 $VA direction=ingress position=first
probe() { "$NFC_BIN/dd_probe" "$NFC_PIN" dd0 $VA "$@"; }
# Smaller runs while working on it: DD_SCALE_N prefixes, DD_SCALE_PROBES.
N=${DD_SCALE_N:-1000000} P=${DD_SCALE_PROBES:-100000}

timed "feed and reference" $TOOLS feed $N "$NFC_ID" $D/feed.txt $D/probes.txt $P $D/sole.txt
timed "import" check "import --replace of $N prefixes" \
	nfctl dd0 blocklist import --replace -f $D/feed.txt
timed "probes" check "$P probes through dd0's programs agree with Python ipaddress" \
	probe $D/probes.txt
check "the feed is kept for a restore" cmp -s $D/feed.txt "$D/ddos${NFC_PIN//\//_}.dd0.blocklist.feed"

# The probes that only the deleted prefixes hold (the reference's count,
# sole.txt) now disagree in both programs, each a listed source let
# through; no other probe does.
flips() {
	local out rc k
	k=$(awk '{s += $2} END {print s}' $D/sole.txt)
	out=$(probe $D/probes.txt)
	rc=$?
	echo "$out" | sed 's/^/# /'
	[ "$rc" = 1 ] &&
		echo "$out" | grep -q "^entry: .*, disagreements $k\$" &&
		echo "$out" | grep -q "^hook: .*, disagreements $k\$" &&
		! echo "$out" | grep '^disagree:' | grep -vq 'reference listed, entry went on, hook went on'
}
echo "# deleted, then added back: $(paste -sd' ' $D/sole.txt)"
while read -r p _; do nfctl dd0 blocklist del "$p"; done <$D/sole.txt
check "three prefixes deleted: the $(awk '{s += $2} END {print s}' $D/sole.txt) probes they alone hold disagree" flips
while read -r p _; do nfctl dd0 blocklist add "$p"; done <$D/sole.txt
check "added back: the $P probes agree again" probe $D/probes.txt

{ head -1000 $D/feed.txt; echo "198.51.100.1/24"; } >$D/bad.txt
check "a bad line is refused, named: line 1001" \
	refused 'line 1001: NF dd0: blocklist.*host bits' nfctl dd0 blocklist import --replace -f $D/bad.txt
head -5000 $D/probes.txt >$D/probes5k.txt
check "after the refusal 5,000 probes still agree" probe $D/probes5k.txt

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
