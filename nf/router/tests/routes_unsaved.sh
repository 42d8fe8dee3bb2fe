#!/usr/bin/env bash
# Deletes of routes the daemon's model does not hold (issue 13: "what was
# accepted is what comes back; a refused change changes nothing"). An
# import keeps its routes in the route store's files (rt_store.c), whose
# own log takes a delete durably before the call returns. With the
# daemon's journal made unwritable (chattr +i: a failing disk, exactly):
# such a delete is accepted and stays gone after a reboot, while a change
# the model must save (an add) is refused and leaves the listing as it
# was. Before, the delete was answered "not saved ... the change was
# undone" with nothing undone: the model never held the route, so the
# undo had no old value to put back.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
. "$NFC_TOP/nf/router/tests/lib_store.sh"
J=$NFD_STATE/state.journal
test_cleanup() {
	chattr -i "$J" 2>/dev/null
	nfd_test_cleanup
}

store_start 40
check "the listing is the import" same
touch "$J"
check "the journal made unwritable (chattr +i)" chattr +i "$J" || exit 1
check "a delete of an imported route is accepted with the journal unwritable" del 3
check "... and another" del 17
check "the listing lacks both" same
out=$(nfc rf0 routes add "$(pfx 100)" nexthop=2001:db8:b::2 2>&1)
check "an add the model must save is refused: ${out:0:120}" \
	grep -q "failed.*the change was undone" <<<"$out"
check "... and the listing is unchanged" same
chattr -i "$J"
reboot || not_ok "nfchaind restarts without its pins"
check "after a reboot the listing is what was acknowledged" same
check "a delete after it" del 5
reboot || not_ok "nfchaind restarts again"
check "... is durable as well" same

# A route that went inactive (its port left), found by a helper:
# - a refused delete of it put it back into the FIB with no port (the
#   undo's add wrote it as active): the data plane must stay as it was;
# - a set of another route handed the whole set over again and was
#   refused for the inactive one.
quiet nfc rf0 ports add p3 ip6=2001:db8:c::1/64
check "a route via p3" quiet nfc rf0 routes add 2001:db8:f:9000::/64 nexthop=2001:db8:c::2
check "a route added by hand" add 200 2
quiet nfc rf0 ports del p3
routes_json() { curl -sf -m 60 --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/rf0/routes; }
inactive() { routes_json | jq -e '.[] | select(.prefix == "2001:db8:f:9000::/64") | .state | startswith("inactive")' >/dev/null; }
via_b3() { routes_json | jq -e --arg p "$(pfx 200)" '.[] | select(.prefix == $p) | .nexthop == "2001:db8:b::3"' >/dev/null; }
check "the route via p3 is inactive once p3 is gone" inactive
# rt_rib and the FIBs; rt_dir (IPv4's direct table, derived from rt_fib4)
# is rewritten by the ticks in slices after a port change, in its own time.
fibsum() { python3 "$NFC_TOP/daemon/tests/mapsum.py" $(find "$NFC_PIN" -path "*rf0/map/rt_rib" -o -path "*rf0/map/rt_fib[46]"); }
fibsum >$NFD_DIR/fib.before
chattr +i "$J"
out=$(nfc rf0 routes del 2001:db8:f:9000::/64 2>&1)
chattr -i "$J"
check "its delete with the journal failing is refused: ${out:0:100}" grep -q "the change was undone" <<<"$out"
fibsum >$NFD_DIR/fib.after
same_maps() {
	cmp -s $NFD_DIR/fib.before $NFD_DIR/fib.after && return
	diff $NFD_DIR/fib.before $NFD_DIR/fib.after | sed "s|$NFC_PIN/||; s/^/# /"
	return 1
}
check "... and rt_rib, rt_fib4, rt_fib6 are as before" same_maps
check "... the route inactive still" inactive
check "a set of another route with an inactive one in the set" \
	quiet nfc rf0 routes set "$(pfx 200)" nexthop=2001:db8:b::3
check "... took" via_b3
sed -i "s|^$(pfx 200) .*|$(pfx 200) 2001:db8:b::3|" "$WANT"

# A route held by hand (the model's entry) that a later import names: the
# line's next hop is taken, as over a route of the store, and the route
# is the store's from then on. Before, the model kept the hand entry, so
# export said b::2 while packets went via b::4, and a reboot brought the
# hand entry back over the line.
check "a route added by hand" add 300 2
printf '%s nexthop=2001:db8:b::4\n%s nexthop=2001:db8:b::4\n' "$(pfx 300)" "$(pfx 301)" >$NFD_DIR/over.txt
check "an import that names it, and a new route" quiet nfc rf0 routes import -f $NFD_DIR/over.txt
grep -v "^$(pfx 300) " "$WANT" >"$WANT.new"
printf '%s 2001:db8:b::4\n%s 2001:db8:b::4\n' "$(pfx 300)" "$(pfx 301)" >>"$WANT.new"
sort -o "$WANT" "$WANT.new"
check "the listing has the line's next hop" same
in_export() { nfc export | jq -e --arg p "$1" '.nfs[] | select(.name == "rf0") | .collections.routes | has($p)' >/dev/null; }
not_in_export() { ! in_export "$1"; }
check "export no longer holds the route as added by hand" not_in_export "$(pfx 300)"
check "... and holds the other one added by hand" in_export "$(pfx 200)"
reboot || not_ok "nfchaind restarts once more"
check "after a reboot the listing is the line's, not the hand entry's" same

# `routes set` of a route the store holds (imported): refused before as
# "no such entry" although `routes show` listed it.
check "routes set of an imported route" quiet nfc rf0 routes set "$(pfx 7)" nexthop=2001:db8:b::3
sed -i "s|^$(pfx 7) .*|$(pfx 7) 2001:db8:b::3|" "$WANT"
check "... the listing has its new next hop" same
check "... a set of a route nowhere is refused" refused "no such entry" \
	nfc rf0 routes set "$(pfx 999)" nexthop=2001:db8:b::3
reboot || not_ok "nfchaind restarts once more"
check "... and after a reboot" same
before=$(nfc export)
check "routes set store nexthop=...: refused (a route's field on the store entry was kept)" \
	refused "nexthop= is not the store's" nfc rf0 routes set store nexthop=2001:db8:b::3
check "... export as before" [ "$(nfc export)" = "$before" ]
nfc_done
