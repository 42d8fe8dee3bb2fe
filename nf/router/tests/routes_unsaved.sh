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
nfc_done
