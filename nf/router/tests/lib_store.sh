# Shared by the route store's tests (routes_fold.sh, routes_adopt.sh,
# routes_replay.sh; sourced after daemon/tests/lib-daemon.sh, it makes
# the hosts: nfc_setup, nfc_two_hosts; the runner skips lib*.sh files).
# Every import goes to the store, and its log is folded past 2 KiB
# (NFC_RT_FOLD_MIN, unless set). A router rf0 on A's and B's links, its
# routes 2001:db8:f:(0x1000 + i)::/64 via hosts of B's link; $WANT holds
# what the listing must be, "prefix nexthop" a line, sorted, and is
# changed only when a change is acknowledged.
#   store_start N       nfchaind, rf0, routes 0..N-1 imported; $BASE the
#                       store's base file
#   rf0_up              router rf0, ports p1 (A's link) and p2 (B's)
#   pfx I               route I's prefix
#   routes_file N FILE  routes 0..N-1 via 2001:db8:b::2, the import's form;
#                       $WANT made of them
#   add I HOST, del I   one change through the CLI, noted in $WANT if
#                       acknowledged
#   listing             the router's static routes, in $WANT's form
#   same [FILE]         the listing is $WANT (or FILE); a diff if not
#   reboot              kill -9, the pin root removed (a reboot), start
#   base_log BASE       the log of that base (named by its crc32)
#   fold_settled        the base's log is within its share: the tick folded it
export NFC_RT_IMPORT_MIN=1 NFC_RT_FOLD_MIN=${NFC_RT_FOLD_MIN:-2048}
nfc_setup
nfc_two_hosts
WANT=$NFD_DIR/want.txt

store_start() { # n
	nfd_start || { not_ok "nfchaind starts"; exit 1; }
	rf0_up || { not_ok "router rf0 with two ports"; exit 1; }
	routes_file "$1" "$NFD_DIR/routes.txt"
	check "import of $1 routes" quiet nfc rf0 routes import -f "$NFD_DIR/routes.txt"
	BASE=$(ls "$NFD_STATE"/router*.rf0.routes 2>/dev/null)
	check "the import keeps its routes in a base file ($BASE)" [ -f "$BASE" ]
}

rf0_up() {
	quiet nfc router add rf0 mode=tc &&
		quiet nfc rf0 ports add p1 peer=$VA ip6=2001:db8:a::1/64 &&
		quiet nfc rf0 ports add p2 peer=$VB ip6=2001:db8:b::1/64
}

pfx() { printf '2001:db8:f:%x::/64' $((0x1000 + $1)); }

routes_file() { # n file
	for i in $(seq 0 $(($1 - 1))); do echo "$(pfx "$i") nexthop=2001:db8:b::2"; done >"$2"
	sed 's/ nexthop=/ /' "$2" | sort >"$WANT"
}

add() { # i nexthop-host
	quiet nfc rf0 routes add "$(pfx "$1")" nexthop=2001:db8:b::$2 &&
		echo "$(pfx "$1") 2001:db8:b::$2" >>"$WANT" && sort -o "$WANT" "$WANT"
}

del() { # i
	quiet nfc rf0 routes del "$(pfx "$1")" || return
	grep -v "^$(pfx "$1") " "$WANT" >"$WANT.new"
	mv "$WANT.new" "$WANT"
}

listing() {
	curl -sf -m 60 --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/rf0/routes | python3 -c '
import json, sys
print("\n".join(sorted(e["prefix"] + " " + e["nexthop"] for e in json.load(sys.stdin) if e.get("type") == "static" and e.get("state") == "active")))'
}

same() { # [file]
	listing >"$NFD_DIR/got.txt" && cmp -s "${1:-$WANT}" "$NFD_DIR/got.txt" && return
	echo "# the listing against the input: $(wc -l <"$NFD_DIR/got.txt") lines"
	diff "${1:-$WANT}" "$NFD_DIR/got.txt" | head -5 | sed 's/^/#   /'
	return 1
}

reboot() { nfd_kill9; rm -rf "$NFC_PIN"; nfd_start; }

# The base's own log, named by the base's crc32 (.prev's is the one last
# folded).
base_log() { # base
	python3 -c 'import sys, zlib; print("%s.%08x.log" % (sys.argv[1], zlib.crc32(open(sys.argv[1], "rb").read())))' "$1"
}

# The fold is the tick's (once a second), not the change's: waited for,
# a minute at most on a loaded machine. The share: a quarter of the base,
# at least NFC_RT_FOLD_MIN (the tests make it small).
fold_settled() {
	local base share log
	for _ in $(seq 300); do
		base=$(ls "$NFD_STATE"/router*.rf0.routes 2>/dev/null)
		log=$(base_log "$base") || return 1
		share=$(($(stat -c %s "$base") / 4))
		[ "$share" -gt "${NFC_RT_FOLD_MIN:-1048576}" ] || share=${NFC_RT_FOLD_MIN:-1048576}
		[ "$(stat -c %s "$log" 2>/dev/null || echo 0)" -le "$share" ] && return 0
		sleep 0.2
	done
	return 1
}
