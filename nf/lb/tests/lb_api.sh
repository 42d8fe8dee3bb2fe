#!/usr/bin/env bash
# The lb through nfchaind: the grammar of issue 17 with the nfchain CLI, a
# health checker's PATCH of a backend's state (its key percent-encoded),
# the change saved; the daemon restarted (and killed -9) keeps the services,
# the backends and the very same table.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }

SVC=203.0.113.100:80/tcp
check "nfchain lb add lb0; services add $SVC forward=dsr; backends add (weight=2, :8080, state=drain)" \
	eval 'nfc lb add lb0 && nfc lb0 services add $SVC forward=dsr table=65537 &&
	nfc lb0 backends add $SVC/198.51.100.11 weight=2 &&
	nfc lb0 backends add $SVC/198.51.100.12:8080 &&
	nfc lb0 backends add $SVC/198.51.100.13 state=drain'
check "conntrack import --replace: refused (made by connections)" \
	refused "entries are made by NAT-ed connections, not imported" \
	nfc lb0 conntrack import --replace -f /dev/null
be() { # backend-key field
	nfc -j lb0 services show | jq -r ".[0].backends[] | select(.backend==\"$SVC/$1\") | .$2"
}
check "services show: weights, states and slots 2:1 (drain: none)" \
	[ "$(be 198.51.100.11 slots)" = 43692 ] && check "services show: weights, states and slots 2:1 (drain: none)" [ "$(be 198.51.100.12:8080 slots)" = 21845 ] &&
	check "services show: weights, states and slots 2:1 (drain: none)" [ "$(be 198.51.100.13 state)" = drain ] && check "services show: weights, states and slots 2:1 (drain: none)" [ "$(be 198.51.100.13 slots)" = 0 ]
out=$(api PATCH "/v1/nfs/lb0/backends/203.0.113.100%3A80%2Ftcp%2F198.51.100.11" '{"fields":{"state":"drain"}}')
check "PATCH a backend's state=drain (health checker): ${out%% *}" [ "${out%% *}" = 200 ]
check "the backend is drained, its weight kept, the table now the others'" \
	[ "$(be 198.51.100.11 state)" = drain ] && check "the backend is drained, its weight kept, the table now the others'" [ "$(be 198.51.100.11 weight)" = 2 ] &&
	check "the backend is drained, its weight kept, the table now the others'" [ "$(be 198.51.100.11 slots)" = 0 ] && check "the backend is drained, its weight kept, the table now the others'" [ "$(be 198.51.100.12:8080 slots)" = 65537 ]
check "the change is saved" grep -q '"state": *"drain"' <<<"$(nfd_saved)"
nfc lb0 backends set $SVC/198.51.100.11 state=up
digest() { nfc -j lb0 services show | jq -r '.[0].table_digest'; }
d0=$(digest)
nfd_stop
nfd_start || { not_ok "nfchaind starts again"; exit 1; }
check "after a restart: the same table ($d0)" [ "$(digest)" = "$d0" ] && check "after a restart: the same table ($d0)" [ -n "$d0" ]
nfd_kill9
nfd_start || { not_ok "nfchaind starts after kill -9"; exit 1; }
check "after kill -9: the same table, 3 backends" \
	[ "$(digest)" = "$d0" ] && check "after kill -9: the same table, 3 backends" [ "$(nfc -j lb0 backends show | jq length)" = 3 ]
# Found by a helper: the text cut the BACKENDS cell at 255 characters,
# so the third backend (and the second one's counters) went unseen.
nb=$(nfc lb0 services show | grep -o "backend=$SVC/[0-9.:]*" | wc -l)
check "services show (text) lists all 3 backends ($nb)" [ "$nb" = 3 ]

# Found by a helper: these were taken, and such a backend took its share.
before=$(nfc export)
check "a backend 0.0.0.0 is refused" refused "no address" nfc lb0 backends add $SVC/0.0.0.0
check "a backend 255.255.255.255 is refused" refused "broadcast" nfc lb0 backends add $SVC/255.255.255.255
check "the VIP as its own backend is refused" refused "own VIP" nfc lb0 backends add $SVC/203.0.113.100:8080
check "a multicast VIP is refused" refused "multicast" nfc lb0 services add 224.0.0.5:80/udp
check "an IPv6 multicast VIP is refused" refused "multicast" nfc lb0 services add "[ff02::5]:80/udp"
check "... none of them changed anything" [ "$(nfc export)" = "$before" ]
# (a helper) these were taken: an IPv4 host under an IPv6 VIP, a
# backend without a zone, a VIP no packet can carry.
nfc lb0 services add "[2001:db8::100]:80/tcp"
before=$(nfc export)
check "an IPv4-mapped backend of an IPv6 VIP is refused" refused "IPv4-mapped" \
	nfc lb0 backends add "[2001:db8::100]:80/tcp/[::ffff:198.51.100.74]"
check "a link-local backend is refused" refused "link-local" \
	nfc lb0 backends add "[2001:db8::100]:80/tcp/[fe80::1]"
check "an IPv4-mapped VIP is refused" refused "IPv4-mapped" \
	nfc lb0 services add "[::ffff:203.0.113.70]:80/tcp"
check "... none of these changed anything" [ "$(nfc export)" = "$before" ]
# An import's error names its line, also where the lb checks the whole
# set itself (it did not).
printf '%s/198.51.100.14\n# a comment\n203.0.113.101:80/tcp/198.51.100.15\n' "$SVC" >"$NFD_DIR/be.txt"
check "a backends import naming an unknown service on line 3: refused, naming line 3" \
	refused "line 3: .*unknown service" nfc lb0 backends import -f "$NFD_DIR/be.txt"
check "... nothing changed" [ "$(nfc export)" = "$before" ]

# An apply that reloads the lb (src6) and holds a bad service (table=100,
# not a prime) is refused before anything changes: the service is
# checked against the document first. Before, the lb ran the document's
# program until the refusal undid it. (Found by a helper.)
nfc export >"$NFD_DIR/e.json"
jq '(.nfs[] | select(.name == "lb0")) |= (.config.src6 = "2001:db8::9" | .collections.services["203.0.113.100:81/tcp"] = {"table": 100})' \
	"$NFD_DIR/e.json" >"$NFD_DIR/d.json"
pid_of() { bpftool prog show pinned "$(ls -d "$NFC_PIN"/nf/*-lb0)/prog" | head -1 | cut -d: -f1; }
p0=$(pid_of)
check "apply --dry-run of it: refused" refused "table=100 is not a prime" nfc apply --dry-run -f "$NFD_DIR/d.json"
check "the apply: refused" refused "table=100 is not a prime" nfc apply -f "$NFD_DIR/d.json"
check "... the lb's program not reloaded ($p0, $(pid_of))" [ "$(pid_of)" = "$p0" ]
check "... export as before" cmp -s <(nfc export) "$NFD_DIR/e.json"
# (a helper) an export applied back after the lb grew: a table shrunk
# with the backends that needed it, then a service deleted with its
# backend. The dry runs passed both, the applies refused them (the
# services were checked against the backends still in the maps).
S1=203.0.113.90:1/tcp S2=203.0.113.90:2/udp
check "lb7: $S1 table=307 and one backend; $S2 and one backend" \
	eval 'nfc lb add lb7 && nfc lb7 services add $S1 table=307 &&
	nfc lb7 backends add $S1/198.51.100.66 &&
	nfc lb7 services add $S2 && nfc lb7 backends add $S2/198.51.100.66'
nfc export >"$NFD_DIR/small.json"
check "... then table=65537 and five backends" \
	eval 'nfc lb7 services set $S1 table=65537 &&
	for h in 67 68 69 70; do nfc lb7 backends add $S1/198.51.100.$h || exit 1; done'
check "apply --dry-run of the export before: taken" quiet nfc apply --dry-run -f "$NFD_DIR/small.json"
check "apply of it: taken (table 307 with its one backend)" quiet nfc apply -f "$NFD_DIR/small.json"
check "... export is that document" [ "$(nfc export | jq -S .)" = "$(jq -S . "$NFD_DIR/small.json")" ]
jq --arg s "$S2" --arg b "$S2/198.51.100.66" \
	'(.nfs[] | select(.name == "lb7") | .collections) |= (del(.services[$s]) | del(.backends[$b]))' \
	"$NFD_DIR/small.json" >"$NFD_DIR/nos2.json"
check "apply --dry-run deleting $S2 with its backend: taken" quiet nfc apply --dry-run -f "$NFD_DIR/nos2.json"
check "apply of it: taken" quiet nfc apply -f "$NFD_DIR/nos2.json"
check "... export is that document" [ "$(nfc export | jq -S .)" = "$(jq -S . "$NFD_DIR/nos2.json")" ]
check "a single services del of a service with a backend is still refused" \
	refused "has 1 backend: delete it first" nfc lb7 services del $S1
check "... and a single table too small for its backends" \
	refused "too small for 1 backends" nfc lb7 services set $S1 table=31
# (a helper) a document over an lb's limits: its dry run passed, only the
# apply refused it (65 services, 1,025 backends).
nfc export | jq '.nfs += [{"name": "lb8", "type": "lb", "collections": {"services":
	([range(65)] | map({key: "203.0.113.\(. + 1):80/tcp", value: {}}) | from_entries)}}]' \
	>"$NFD_DIR/big.json"
check "apply --dry-run of an lb with 65 services: refused" \
	refused "65 services: an lb holds at most 64" nfc apply --dry-run -f "$NFD_DIR/big.json"
nfc export | jq '.nfs += [{"name": "lb8", "type": "lb", "collections": {
	"services": ([range(11)] | map({key: "203.0.113.\(. + 1):80/tcp", value: {}}) | from_entries),
	"backends": ([range(1025)] | map({key: "203.0.113.\(. % 11 + 1):80/tcp/198.51.100.\(. % 250 + 1):\(. + 1000)", value: {}}) | from_entries)}}]' \
	>"$NFD_DIR/big.json"
check "apply --dry-run of an lb with 1,025 backends: refused" \
	refused "1025 backends: an lb holds at most 1024" nfc apply --dry-run -f "$NFD_DIR/big.json"
# (a helper) a misspelt key: set and show said "no such entry" where del
# said how to write it.
check "backends set of SVC/ADDR:<the service's port>: write it as SVC/ADDR" \
	refused "write it as $S1/198.51.100.66" nfc lb7 backends set $S1/198.51.100.66:1 state=drain
check "services set of a non-canonical IPv6 VIP: write it as ..." \
	eval 'nfc lb7 services add "[2001:db8:9::40]:80/tcp" table=257 &&
	refused "write it as \[2001:db8:9::40\]:80/tcp" nfc lb7 services set "[2001:db8:9:0::40]:80/tcp" table=263'
check "backends show of a misspelt key: write it as ..." \
	refused "write it as $S1/198.51.100.66" nfc lb7 backends show $S1/198.51.100.66:1
check "backends show of a well-spelt missing key: no entry" \
	refused "backends has no entry" nfc lb7 backends show $S1/198.51.100.99
# (a helper) a document lowering the mtu as it makes the IPv6 DSR service
# forward=nat was refused: the mtu was checked against the services held.
nfc lb7 set mtu=1400 && nfc lb7 services set "[2001:db8:9::40]:80/tcp" forward=dsr
nfc export >"$NFD_DIR/mtu.json"
jq '(.nfs[] | select(.name == "lb7") | .config.mtu) = 1000' "$NFD_DIR/mtu.json" >"$NFD_DIR/mtu-bad.json"
check "apply of mtu=1000 beside an IPv6 forward=dsr service: refused" \
	refused "needs the lb's mtu at least 1320" nfc apply -f "$NFD_DIR/mtu-bad.json"
check "... nothing changed" [ "$(nfc export | jq -S .)" = "$(jq -S . "$NFD_DIR/mtu.json")" ]
jq '(.nfs[] | select(.name == "lb7") | .collections.services["[2001:db8:9::40]:80/tcp"].forward) = "nat"' \
	"$NFD_DIR/mtu-bad.json" >"$NFD_DIR/mtu-nat.json"
check "apply of mtu=1000 making that service forward=nat: taken" quiet nfc apply -f "$NFD_DIR/mtu-nat.json"
check "... export is that document" [ "$(nfc export | jq -S .)" = "$(jq -S . "$NFD_DIR/mtu-nat.json")" ]
nfc_done
