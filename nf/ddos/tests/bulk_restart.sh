#!/usr/bin/env bash
# A large blocklist under the daemon, end to end (issue 13): 50,000
# prefixes (DD_BULK_N; 200,000 took 3 min 50 s on a loaded machine)
# imported with --replace, then single adds and deletes; after each
# restart (kill -9 with the pins kept, and a reboot: the pin root
# removed) the streamed listing (REST GET, a page at a time) holds
# exactly the imported set plus the changes, compared with the input
# normalised by Python ipaddress. A refused feed changes nothing; a
# daemon killed in the middle of an import --replace comes back with the
# old list or the new one, never a mix.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
TOOLS="python3 $NFC_TOP/nf/ddos/tests/dd_tools.py"
N=${DD_BULK_N:-50000}
nfc_setup
export NFC_DDOS_FEED_DIR=$NFD_DIR/feeds
nfd_start || { not_ok "nfchaind starts"; exit 1; }
nfc ddos add dd0 >/dev/null

# The prefixes of a feed file normalised by Python ipaddress (the oracle),
# one a line, sorted as text.
norm() {
	python3 -c '
import ipaddress, sys
ps = (l.split("#")[0].split() for l in open(sys.argv[1]))
print("\n".join(sorted(set(str(ipaddress.ip_network(p[0])) for p in ps if p))))' "$1"
}
# The streamed listing (REST GET), sorted the same way.
listing() {
	curl -sf --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/dd0/blocklist |
		python3 -c '
import json, sys
print("\n".join(sorted(set(e["prefix"] for e in json.load(sys.stdin)))))'
}
# The listing is exactly the expected file's prefixes.
same() {
	listing >$NFD_DIR/got.txt && cmp -s "$1" $NFD_DIR/got.txt && return
	echo "# the listing against $1:"
	diff "$1" $NFD_DIR/got.txt | head -5 | sed 's/^/#   /'
	return 1
}

$TOOLS feed "$N" "$NFC_ID" $NFD_DIR/a.txt $NFD_DIR/probes.txt 10
$TOOLS feed "$N" "$((NFC_ID + 1))" $NFD_DIR/b.txt $NFD_DIR/probes.txt 10
norm $NFD_DIR/a.txt >$NFD_DIR/a.norm
norm $NFD_DIR/b.txt >$NFD_DIR/b.norm
echo "# $(wc -l <$NFD_DIR/a.norm) and $(wc -l <$NFD_DIR/b.norm) distinct prefixes"

check "import --replace of $N prefixes" \
	quiet nfc dd0 blocklist import --replace -f $NFD_DIR/a.txt
check "the streamed listing is the feed" same $NFD_DIR/a.norm
# Hand changes after it: adds and a delete, each saved as it returns.
quiet nfc dd0 blocklist add 198.51.100.0/28
quiet nfc dd0 blocklist add 2001:db8:77::/48
quiet nfc dd0 blocklist del 198.51.100.0/28
(cat $NFD_DIR/a.norm; echo 2001:db8:77::/48) >$NFD_DIR/a2.txt
norm $NFD_DIR/a2.txt >$NFD_DIR/a2.norm
check "adds and a delete after it are listed" same $NFD_DIR/a2.norm
nfc dd0 blocklist show >$NFD_DIR/show.txt 2>&1
check "the CLI's show lists as many entries" \
	[ "$(grep -c '/' $NFD_DIR/show.txt)" = "$(wc -l <$NFD_DIR/a2.norm)" ]
# (found measuring) a reader that pauses past the daemon's 10 s of
# inactivity (`show | less`) had its listing cut: "the answer broke off".
nfc dd0 blocklist show 2>&1 | (sleep 12; grep -c '/') >$NFD_DIR/slow.txt
check "a listing read after a 12 s pause is whole ($(du -k $NFD_DIR/show.txt | cut -f1) KiB)" \
	[ "$(cat $NFD_DIR/slow.txt)" = "$(wc -l <$NFD_DIR/a2.norm)" ]
# (a helper) an end given by a single add waited for the expiry scan,
# 5,000 keys a second: at 1,000,000 prefixes expires=2 ended after 212 s.
# Such ends are watched on their own now, checked every tick.
quiet nfc dd0 blocklist add 203.0.113.77/32 expires=2
in_list() { curl -sf --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/dd0/blocklist | grep -q "\"$1\""; }
gone_within() { # prefix seconds
	local i
	for ((i = 0; i < $2 * 2; i++)); do
		in_list "$1" || return 0
		sleep 0.5
	done
	return 1
}
check "an add with expires=2 among $N prefixes is gone within 8 s" gone_within 203.0.113.77/32 8
quiet nfc dd0 blocklist add 203.0.113.78/32
check "... set expires=2 of another: gone within 8 s too" \
	sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' dd0 blocklist set 203.0.113.78/32 expires=2 >/dev/null"
check "... (gone)" gone_within 203.0.113.78/32 8

nfd_kill9
nfd_start || not_ok "nfchaind restarts after kill -9"
check "after kill -9 and a restart the listing is the same" same $NFD_DIR/a2.norm

# A bad line 1001: refused by its number, nothing changed.
(head -n 1000 $NFD_DIR/b.txt; echo "198.51.100.1/24"; tail -n +1001 $NFD_DIR/b.txt) >$NFD_DIR/bad.txt
check "a feed with a bad line 1001 is refused by line number" \
	refused "line 1001: NF dd0: blocklist" nfc dd0 blocklist import --replace -f $NFD_DIR/bad.txt
check "and the listing is unchanged" same $NFD_DIR/a2.norm
# (a helper) what followed a NUL was neither read nor checked, yet kept.
printf '198.51.100.88/29\000junk 1.2.3.4/99 bogus=7\n' >$NFD_DIR/nul.txt
check "a line with a NUL byte is refused" \
	refused "line 1: NF dd0: contains a NUL byte" nfc dd0 blocklist import -f $NFD_DIR/nul.txt
check "... and the listing is unchanged" same $NFD_DIR/a2.norm

# kill -9 somewhere in an import --replace of the other feed.
nfc dd0 blocklist import --replace -f $NFD_DIR/b.txt >/dev/null 2>&1 &
imp=$!
sleep "$(python3 -c 'import random; print(random.uniform(0.05, 1.0))')"
nfd_kill9
wait $imp 2>/dev/null
nfd_start || not_ok "nfchaind restarts after a kill -9 in an import"
listing >$NFD_DIR/got.txt
if cmp -s $NFD_DIR/a2.norm $NFD_DIR/got.txt; then
	ok "killed in an import: the old list, whole"
	check "import --replace again" \
		quiet nfc dd0 blocklist import --replace -f $NFD_DIR/b.txt
elif cmp -s $NFD_DIR/b.norm $NFD_DIR/got.txt; then
	ok "killed in an import: the new list, whole"
else
	not_ok "killed in an import: $(wc -l <$NFD_DIR/got.txt) prefixes, neither list"
fi
check "the listing is the new feed" same $NFD_DIR/b.norm

# A reboot: the pins go, the state dir and the kept feed stay.
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || not_ok "nfchaind restarts without its pins"
check "with the pins lost the listing is the new feed again" same $NFD_DIR/b.norm
# An expiry in a large list: the ticks scan for it (a part a tick) only
# because an entry with one was written.
quiet nfc dd0 blocklist add 203.0.113.64/26 expires=1
gone=no
for _ in $(seq 30); do
	sleep 1
	listing >$NFD_DIR/got.txt
	grep -qx 203.0.113.64/26 $NFD_DIR/got.txt || { gone=yes; break; }
done
check "an entry added with expires=1 leaves the list" [ $gone = yes ]
# ... and the saved state: a reboot does not block it again (the model
# kept it, and a restore gave it a new lifetime).
no_expired() { ! nfc export | grep -q 203.0.113.64/26; }
check "the expired entry left the export" no_expired
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || not_ok "nfchaind restarts without its pins"
listing >$NFD_DIR/got.txt
check "after a reboot the expired entry is not back" \
	bash -c "! grep -qx 203.0.113.64/26 $NFD_DIR/got.txt"
check "... nor anything else changed: the listing is the new feed" same $NFD_DIR/b.norm
# An entry restored after a reboot keeps the end it was given (until),
# where it once got a new lifetime counted from the restore.
until_of() { nfc export | jq -r '.nfs[] | select(.name=="dd0") | .collections.blocklist["203.0.113.128/26"].until // "none"'; }
left_of() {
	curl -sf --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/dd0/blocklist |
		jq -r '[.[] | select(.prefix == "203.0.113.128/26") | .expires_in][0] // "none"'
}
t0=$(date +%s)
quiet nfc dd0 blocklist add 203.0.113.128/26 expires=30
u0=$(until_of)
in_range() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
check "the entry carries its end: until $u0, added at $t0 with expires=30" \
	in_range "$u0" $((t0 + 30)) $((t0 + 32))
sleep 8
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || not_ok "nfchaind restarts without its pins"
check "after a reboot the same end ($(until_of))" [ "$(until_of)" = "$u0" ]
left=$(left_of) now=$(date +%s)
check "... and the data plane counts down to it: $left s left at $now (ends $u0)" \
	in_range "$left" 0 $((u0 - now + 1))
# A set of another entry hands the whole set over again: this entry's end
# stays (it was counted anew for every entry).
until2() { nfc export | jq -r '.nfs[] | select(.name=="dd0") | .collections.blocklist["203.0.113.192/26"].until // "none"'; }
quiet nfc dd0 blocklist add 203.0.113.192/26
t1=$(date +%s)
check "set of another entry's expires" quiet nfc dd0 blocklist set 203.0.113.192/26 expires=600
check "... that one ends 600 s on ($(until2))" in_range "$(until2)" $((t1 + 600)) $((t1 + 602))
check "... this one keeps its end ($(until_of))" [ "$(until_of)" = "$u0" ]
check "... set expires= unsets it" quiet nfc dd0 blocklist set 203.0.113.192/26 expires=
check "... and its end goes with it ($(until2))" [ "$(until2)" = none ]
check "... this one's end still the same ($(until_of))" [ "$(until_of)" = "$u0" ]

# Deletes of prefixes the feed holds (the model only names the feed):
# each is logged beside the feed before the call returns, so a reboot,
# which loads the feed again, leaves them out (they came back before).
# With the daemon's journal unwritable (chattr +i: a failing disk) they
# are still accepted, the model being unchanged, while an add, which the
# model must save, is refused and undone. An import that adds to the
# feed carries the deletes over.
J=$NFD_STATE/state.journal
test_cleanup() {
	chattr -i "$J" 2>/dev/null
	nfd_test_cleanup
}
# The entry with expires=30 goes first: it would leave in the middle.
nfc dd0 blocklist del 203.0.113.128/26 >/dev/null 2>&1
listing >$NFD_DIR/pre.txt
d24=$(grep -m1 -E '^[0-9.]+/(20|24)$' $NFD_DIR/b.norm)
d32=$(grep -m1 -E '^[0-9.]+/32$' $NFD_DIR/b.norm)
d6=$(grep -m1 : $NFD_DIR/b.norm)
touch "$J"
check "the journal made unwritable (chattr +i)" chattr +i "$J"
check "del of the feed's $d24 with the journal unwritable" quiet nfc dd0 blocklist del "$d24"
check "... of its $d32" quiet nfc dd0 blocklist del "$d32"
check "... of its $d6" quiet nfc dd0 blocklist del "$d6"
out=$(nfc dd0 blocklist add 198.51.100.64/26 2>&1)
check "an add the model must save is refused: ${out:0:100}" grep -q "the change was undone" <<<"$out"
chattr -i "$J"
grep -vxF -e "$d24" -e "$d32" -e "$d6" $NFD_DIR/pre.txt >$NFD_DIR/c.norm
check "the listing lacks the three, nothing else changed" same $NFD_DIR/c.norm
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || not_ok "nfchaind restarts without its pins"
check "after a reboot the three stay deleted" same $NFD_DIR/c.norm
printf '%s\n198.51.100.200/32\n' "$d32" >$NFD_DIR/more.txt
check "an import adding to the feed: one deleted prefix back, one new" \
	quiet nfc dd0 blocklist import -f $NFD_DIR/more.txt
(cat $NFD_DIR/c.norm; echo "$d32"; echo 198.51.100.200/32) | LC_ALL=C sort -u >$NFD_DIR/d.norm
check "... listed" same $NFD_DIR/d.norm
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || not_ok "nfchaind restarts without its pins"
check "... and so after a reboot: the other two still deleted" same $NFD_DIR/d.norm
check "dd0 del" quiet nfc dd0 del
nfc_done
