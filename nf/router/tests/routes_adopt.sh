#!/usr/bin/env bash
# The router's route store (rt_store.c, issue 13) across restarts that
# adopt the pins (kill -9) while its base file was removed, damaged or
# replaced by another store's in the meantime: the daemon rebuilds the
# base from the routes it adopted (the maps hold every acknowledged
# change) and says so, and the changes after it are durable again. Rounds
# of random adds and deletes (imported routes and added ones; an add of
# a route already there is refused and changes nothing), each ended by a
# restart of one kind; after every restart the listing is the
# acknowledged changes, and so after a reboot (the pin root removed: a
# start from the files alone).
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
. "$NFC_TOP/nf/router/tests/lib_store.sh"
store_start 60

RANDOM=13 # the same sequence every run
next=100 refused=0 acked=0
# Twelve changes: adds of new routes, deletes of listed ones (imported or
# added), both of which must be acknowledged, and adds of listed routes,
# which must be refused ($WANT changes only with what is acknowledged).
changes() {
	local k i bad=0
	for k in $(seq 12); do
		# A listed route: 2001:db8:f:(0x1000 + i)::/64.
		i=$(sed -n "$((RANDOM % $(wc -l <"$WANT") + 1))p" "$WANT" | cut -d: -f4)
		i=$((0x$i - 0x1000))
		case $((RANDOM % 4)) in
		0 | 1)
			add $next $((RANDOM % 5 + 2)) && acked=$((acked + 1)) || bad=1
			next=$((next + 1))
			;;
		2) del "$i" && acked=$((acked + 1)) || bad=1 ;;
		3) add "$i" 7 && bad=1 || refused=$((refused + 1)) ;;
		esac
	done
	[ $bad = 0 ]
}
# The daemon's log says the base was rebuilt from the pins ($1: why), with
# the routes listed: waited for, as the tick may be the one to do it.
rebuilt() { # why
	for _ in $(seq 300); do
		grep -q "rf0: routes: store $BASE $1.*: rebuilt from the $(wc -l <"$WANT") routes adopted from the pins" "$NFD_LOG" && return
		sleep 0.2
	done
	return 1
}
# kill -9, then the base handled as $1 while no daemon runs, then a start
# that adopts the pins.
restart() { # gone | damaged | other | kept
	nfd_kill9
	case $1 in
	gone) rm -f "$BASE" ;;
	damaged) sed -i '3d' "$BASE" ;;
	other) head -5 "$NFD_DIR/routes.txt" >"$BASE" ;; # an import's, not this store's
	esac
	nfd_start
}
why() {
	case $1 in
	gone) echo "is gone" ;;
	damaged) echo "is damaged" ;;
	other) echo "holds store" ;;
	esac
}

for kind in gone damaged kept other gone; do
	check "$kind: changes made ($acked acknowledged so far, $refused refused)" changes
	check "$kind: the listing is the acknowledged changes" same
	restart $kind || { not_ok "$kind: nfchaind adopts the pins"; exit 1; }
	check "$kind: after kill -9, the listing is the acknowledged changes" same
	if [ $kind != kept ]; then
		check "$kind: the daemon says it rebuilt the base from the pins" \
			rebuilt "$(why $kind)"
		: >"$NFD_LOG" # the next round's line is its own
	fi
done
# The last rebuild came from the tick, before any change: a reboot now
# (nothing adopted) reads the base it wrote.
check "the base is back before any change" \
	grep -qE '^# nfchain routes: store [0-9a-f]{8} fold [0-9]+' "$BASE"
reboot || { not_ok "nfchaind restarts after a reboot"; exit 1; }
check "after a reboot: the listing is the acknowledged changes" same
check "after a reboot: changes made" changes
check "after a reboot and changes: the listing is the acknowledged changes" same
restart gone || { not_ok "nfchaind adopts the pins"; exit 1; }
check "changes right after an adoption (the base rebuilt by the first)" changes
reboot || { not_ok "nfchaind restarts after a reboot"; exit 1; }
check "after a reboot: the listing is the acknowledged changes ($acked acknowledged, $refused refused)" same
check "some adds were refused, none changed anything" [ $refused -gt 0 ]
nfc_done
