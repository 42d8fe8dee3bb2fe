#!/usr/bin/env bash
# `routes set` of a route an import keeps in the route store (and a
# one-line import): the route is changed in place and its line logged,
# not a new base of the whole imported set written (0.4 s a set at 70,000
# routes before). What packets meet follows the set at once: a ping to
# an address behind the route reaches the new next hop's host, not the
# old one's; and the maps written in place are those a start from the
# files builds (rt_rib, rt_fib4 and rt_fib6 compared after a reboot).
#
#   a1 ── p1 198.51.100.0/26 ── r1 ── p2 198.51.100.64/26 ── b1 (.66)
#                                  └─ p3 203.0.113.0/26 ──── c1 (.2)
# The imported route 203.0.113.192/26 goes to b1 first, then to c1;
# 203.0.113.200 is held by the host the route names.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
. "$NFC_TOP/nf/router/tests/lib_router.sh"
# Every import goes to the store, whatever its size.
export NFC_RT_IMPORT_MIN=1
nfc_setup
rt_hosts
T=203.0.113.200
rt_host6 a1 2001:db8:1::2/64 2001:db8:1::1
rt_host6 c1 2001:db8:3::2/64 2001:db8:3::1
nfd_start || { not_ok "nfchaind starts"; exit 1; }
if ! { quiet nfc router add r1 mode=tc &&
	quiet nfc r1 ports add p1 peer=$PA ip=198.51.100.1/26 ip6=2001:db8:1::1/64 &&
	quiet nfc r1 ports add p2 peer=$PB ip=198.51.100.65/26 &&
	quiet nfc r1 ports add p3 peer=$PC ip=203.0.113.1/26 ip6=2001:db8:3::1/64; }; then
	not_ok "router r1 with three ports"
	exit 1
fi
{
	echo "203.0.113.192/26 nexthop=$RT_B1"
	for i in $(seq 1 200); do printf "2001:db8:f:%x::/64 nexthop=2001:db8:3::2\n" "$i"; done
} >"$NFD_DIR/routes.txt"
check "import of 201 routes" quiet nfc r1 routes import -f "$NFD_DIR/routes.txt"
BASE=$(ls "$NFD_STATE"/router*.r1.routes 2>/dev/null)
check "the import keeps its routes in a base file" [ -f "$BASE" ]
base_sum() { md5sum <"$BASE"; }
ip -n "$(rt_ns b1)" addr add $T/32 dev eth0
check "a ping to $T reaches b1, the route's next hop" \
	[ "$(rt_probe_ping a1 $T)" = "$T reply" ]

sum0=$(base_sum)
check "routes set of the imported route to c1" \
	quiet nfc r1 routes set 203.0.113.192/26 nexthop=$RT_C1
check "... the base file is not written again" [ "$(base_sum)" = "$sum0" ]
check "... its log has the line" \
	grep -q "^+ 203.0.113.192/26 nexthop=$RT_C1$" "$BASE".*.log
# b1 still holds the address: a reply now would mean the old next hop.
check "... a ping to $T no longer reaches b1" \
	[ "$(rt_probe_ping a1 $T)" = "$T timeout" ]
ip -n "$(rt_ns b1)" addr del $T/32 dev eth0
ip -n "$(rt_ns c1)" addr add $T/32 dev eth0
check "... and reaches c1 once c1 holds it" \
	[ "$(rt_probe_ping a1 $T)" = "$T reply" ]

# IPv6: one route of the import to a next hop on no host, then back.
check "routes set of an imported IPv6 route" \
	quiet nfc r1 routes set 2001:db8:f:7::/64 nexthop=2001:db8:3::9
ip -n "$(rt_ns c1)" addr add 2001:db8:f:7::1/128 dev eth0 nodad
check "... a ping behind it does not reach c1 (the next hop is ::9)" \
	[ "$(rt_probe_ping6 a1 2001:db8:f:7::1 | cut -d' ' -f2)" != reply ]
check "... set back to c1" quiet nfc r1 routes set 2001:db8:f:7::/64 nexthop=2001:db8:3::2
check "... the ping reaches c1" [ "$(rt_probe_ping6 a1 2001:db8:f:7::1)" = "2001:db8:f:7::1 reply" ]
check "a one-line import of a new route" quiet nfc r1 routes import -f - \
	<<<"2001:db8:e::/48 nexthop=2001:db8:3::2"
check "... kept in the log too, the base not written" [ "$(base_sum)" = "$sum0" ]
check "a set of a route nowhere is refused" \
	refused "no such entry" nfc r1 routes set 2001:db8:d::/48 nexthop=2001:db8:3::2

maps() {
	python3 "$NFC_TOP/daemon/tests/mapsum.py" \
		$(find "$NFC_PIN" -path "*r1/map/rt_rib" -o -path "*r1/map/rt_fib[46]")
}
listing() { nfc r1 routes show | awk '$2 == "static" {print $1, $3, $5}' | sort; }
maps >"$NFD_DIR/maps.before"
listing >"$NFD_DIR/list.before"
check "the listing has the routes set ($(grep -c . "$NFD_DIR/list.before") lines)" \
	grep -q "^203.0.113.192/26 $RT_C1 active$" "$NFD_DIR/list.before"
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || { not_ok "nfchaind restarts after a reboot"; exit 1; }
maps >"$NFD_DIR/maps.after"
listing >"$NFD_DIR/list.after"
check "after a reboot the listing is the same" \
	cmp -s "$NFD_DIR/list.before" "$NFD_DIR/list.after"
same_maps() {
	sed "s|$NFC_PIN/||" "$NFD_DIR/maps.before" >"$NFD_DIR/m1"
	sed "s|$NFC_PIN/||" "$NFD_DIR/maps.after" >"$NFD_DIR/m2"
	cmp -s "$NFD_DIR/m1" "$NFD_DIR/m2" && return
	diff "$NFD_DIR/m1" "$NFD_DIR/m2" | sed 's/^/# /'
	return 1
}
check "... rt_rib, rt_fib4, rt_fib6 written in place are what a start builds" same_maps
check "... a ping to $T reaches c1" [ "$(rt_probe_ping a1 $T)" = "$T reply" ]
# (a helper) apply --dry-run of a port whose subnet overlaps another's
# printed a plan that the apply then refused: the router checks its ports
# together, and only configure did.
nfc export | jq '(.nfs[] | select(.name == "r1") | .ports[] | select(.name == "p3") | .config.ip) = "198.51.100.70/26"' >"$NFD_DIR/overlap.json"
check "apply --dry-run of p3 in p2's subnet: refused, naming both" \
	refused "port p3: subnet 198.51.100.64/26 overlaps subnet 198.51.100.64/26 of port p2" \
	nfc apply --dry-run -f "$NFD_DIR/overlap.json"
check "... and the apply" refused "overlaps" nfc apply -f "$NFD_DIR/overlap.json"
# (a helper) the message named the port of lower index first, the one
# not changed: p1 set into p3's subnet said "port p3: ... of port p1".
check "p1 set ip= in p3's subnet: the message names p1, the port changed" \
	refused "port p1: subnet 203.0.113.0/26 overlaps subnet 203.0.113.0/26 of port p3" \
	nfc r1 ports p1 set ip=203.0.113.9/26
check "... a ping to $T still reaches c1" [ "$(rt_probe_ping a1 $T)" = "$T reply" ]
# (a helper) the store entry's fields were kept on a plain route.
before=$(export_state)
check "a route with file= is refused" \
	refused "route 198.18.4.0/24: file= is for the entry 'store' only" \
	nfc r1 routes add 198.18.4.0/24 nexthop=$T file=/etc/passwd
printf '198.18.5.0/24 nexthop=%s crc32=zz\n' $T >"$NFD_DIR/crc.txt"
check "... and an imported line with crc32=, by its line" \
	refused "line 1: NF r1: route 198.18.5.0/24: .*crc32" \
	nfc r1 routes import -f "$NFD_DIR/crc.txt"
check "... nothing changed" [ "$(export_state)" = "$before" ]
# (a helper) a document whose store names a file that is not there: the
# dry run planned "change routes store", the apply then refused.
nfc export | jq '(.nfs[] | select(.name == "r1") | .collections.routes.store.file) = "/nonexistent/r1.routes"' >"$NFD_DIR/nostore.json"
check "apply --dry-run of a store file that is not there: refused, naming it" \
	refused "store /nonexistent/r1.routes is not there" \
	nfc apply --dry-run -f "$NFD_DIR/nostore.json"
check "... and the apply" refused "is not there" nfc apply -f "$NFD_DIR/nostore.json"
check "... nothing changed" [ "$(export_state)" = "$before" ]
nfd_stop
nfc_done
