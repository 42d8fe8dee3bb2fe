#!/usr/bin/env bash
# A router with many static routes under the daemon (issue 13):
# RT_BULK_N of them (20,000 in the suite, to stay within its time; run
# it with RT_BULK_N=100000 for the issue's figure: 5 min 13 s with the
# sanitized daemon at load 22, every check passed), imported with the
# CLI, one more added, an imported route and an added one deleted, a bad
# line refused;
# after kill -9 (pins kept: adopted) and after a reboot (the pin root
# removed: restored from the state directory) the routes the router
# lists are exactly the input, both normalised by Python ipaddress, and
# a ping to an address of a route in the middle of the table goes out
# to that route's next hop (host B holds the address) and is answered.
# The routes are IPv6 /64s inside 2001:db8::/32 (the test ranges hold
# no 100,000 IPv4 prefixes). Last, import --replace of half of them,
# and kill -9 again.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
N=${RT_BULK_N:-20000}
# Every import goes to the router's store (rt_store.c), whatever its size.
export NFC_RT_IMPORT_MIN=1
nfc_setup
nfc_two_hosts
# A and B on two router ports: A 2001:db8:a::2, B 2001:db8:b::2.
ip -n "$A" -6 addr add 2001:db8:a::2/64 dev eth0 nodad
ip -n "$B" -6 addr add 2001:db8:b::2/64 dev eth0 nodad
ip -n "$A" -6 route add 2001:db8::/32 via 2001:db8:a::1
ip -n "$B" -6 route add 2001:db8:a::/64 via 2001:db8:b::1
nfd_start || { not_ok "nfchaind starts"; exit 1; }
if ! { quiet nfc router add rb0 mode=tc &&
	quiet nfc rb0 ports add p1 peer=$VA ip6=2001:db8:a::1/64 &&
	quiet nfc rb0 ports add p2 peer=$VB ip6=2001:db8:b::1/64; }; then
	not_ok "router rb0 with two ports"
	exit 1
fi

# Route i: 2001:db8:1xxx:yyyy::/64 via B; the middle one's first address
# goes on B, so that a ping to it is answered only if it reached B.
python3 - "$N" >"$NFD_DIR/routes.txt" <<'EOF'
import ipaddress, sys
n = int(sys.argv[1])
for i in range(n):
    p = ipaddress.ip_network("2001:db8:%x:%x::/64" % (0x1000 + (i >> 16), i & 0xffff))
    print("%s nexthop=2001:db8:b::2" % p)
EOF
MID=$(sed -n "$((N / 2 + 1))p" "$NFD_DIR/routes.txt" | cut -d' ' -f1)
MIDADDR=$(python3 -c 'import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1])[1])' "$MID")
ip -n "$B" -6 addr add "$MIDADDR/128" dev eth0 nodad

# The prefixes of a routes file, normalised by ipaddress, sorted.
norm() {
	python3 -c '
import ipaddress, sys
ps = (l.split("#")[0].split() for l in open(sys.argv[1]))
print("\n".join(sorted(str(ipaddress.ip_network(p[0])) + " " + str(ipaddress.ip_address(p[1].split("=")[1])) for p in ps if p)))' "$1"
}
# The router's static routes as it lists them, in the same form.
listing() {
	curl -sf -m 300 --unix-socket "$NFD_SOCK" http://nfchaind/v1/nfs/rb0/routes | python3 -c '
import ipaddress, json, sys
print("\n".join(sorted(str(ipaddress.ip_network(e["prefix"])) + " " + str(ipaddress.ip_address(e["nexthop"])) for e in json.load(sys.stdin) if e.get("type") == "static" and e.get("state") == "active")))'
}
same() {
	listing >"$NFD_DIR/got.txt" && cmp -s "$NFD_DIR/want.txt" "$NFD_DIR/got.txt" && return
	echo "# the listing against the input: $(wc -l <"$NFD_DIR/got.txt") lines"
	diff "$NFD_DIR/want.txt" "$NFD_DIR/got.txt" | head -5 | sed 's/^/#   /'
	return 1
}
# The first echo waits for the router to resolve B (its slow path):
# a few tries on a loaded machine.
pings() {
	for _ in 1 2 3; do
		ip netns exec "$A" ping -6 -n -c 1 -W 5 "$MIDADDR" >/dev/null 2>&1 && return
	done
	return 1
}

check "import of $N routes" quiet nfc rb0 routes import -f "$NFD_DIR/routes.txt"
check "one more route" quiet nfc rb0 routes add 2001:db8:ffff::/48 nexthop=2001:db8:b::2
# Single changes after the import (kept in the store's log, issue 13):
# an imported route deleted, a route added then deleted.
FIRST=$(head -1 "$NFD_DIR/routes.txt" | cut -d' ' -f1)
check "an imported route deleted" quiet nfc rb0 routes del "$FIRST"
check "a route added and deleted" eval 'quiet nfc rb0 routes add 2001:db8:fffe::/48 nexthop=2001:db8:b::2 &&
	quiet nfc rb0 routes del 2001:db8:fffe::/48'
(sed 1d "$NFD_DIR/routes.txt"; echo "2001:db8:ffff::/48 nexthop=2001:db8:b::2") >"$NFD_DIR/all.txt"
norm "$NFD_DIR/all.txt" >"$NFD_DIR/want.txt"
# A bad line refuses the whole import, naming its line; nothing changes.
printf '2001:db8:fffd::/48 nexthop=2001:db8:b::2\n2001:db8:fffc::1/48 nexthop=2001:db8:b::2\n' >"$NFD_DIR/bad.txt"
OUT=$(nfc rb0 routes import --replace -f "$NFD_DIR/bad.txt" 2>&1)
RC=$?
check "an import with a bad line is refused, naming line 2" eval '[ $RC != 0 ] && grep -q "line 2" <<<"$OUT"'

check "a ping to $MIDADDR (route $MID, in the middle) reaches B" pings
check "the listing is the input ($((N + 1)) routes)" same

nfd_kill9
nfd_start || { not_ok "nfchaind restarts after kill -9"; exit 1; }
check "after kill -9: the ping reaches B" pings
check "after kill -9: the listing is the input" same

nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || { not_ok "nfchaind restarts after a reboot"; exit 1; }
check "after a reboot: the ping reaches B" pings
check "after a reboot (pin root removed): the listing is the input" same

# import --replace: the file becomes the whole set, also after kill -9.
head -n $((N / 2 + 1)) "$NFD_DIR/routes.txt" >"$NFD_DIR/half.txt"
norm "$NFD_DIR/half.txt" >"$NFD_DIR/want.txt"
check "import --replace of the first half" quiet nfc rb0 routes import --replace -f "$NFD_DIR/half.txt"
nfd_kill9
nfd_start || { not_ok "nfchaind restarts after kill -9"; exit 1; }
check "after --replace and kill -9: the listing is the half" same
check "after --replace and kill -9: the ping reaches B" pings
nfc_done
