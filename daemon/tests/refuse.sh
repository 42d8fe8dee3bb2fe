#!/usr/bin/env bash
# A refused call changes nothing, and what was accepted is what comes back.
# Each refusal path (a limit, bad input, the kernel, a full or read-only
# state directory, a state too large for the pinned map) is compared
# before/after on: nfchain export, every pinned map (mapsum.py: bpftool map dump is too slow on them),
# the pinned state as another process reads it (nfctl export) and
# state.json. Then sequences of adds and deletes across kill -9 and a
# simulated reboot (the pin root removed).
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
# The pinned state's cap (1 GiB by default) set to 256 KiB, so that "too
# large" is reachable in seconds (each save near it writes it whole); the daemon and every
# nfctl of this test inherit it.
LIMIT=262144 BIG=8000 MID=6000
export NFC_STATE_MAX=$LIMIT

# The state directory on a small tmpfs of our own, to fill and make
# read-only.
MNT=$NFD_DIR/mnt
DUM=
mkdir -p "$MNT"
mount -t tmpfs -o size=8m nfc-refuse "$MNT" || {
	echo "# cannot mount a tmpfs"
	exit 77
}
NFD_STATE=$MNT/state
test_cleanup() {
	nfd_test_cleanup_keep
	umount "$MNT" 2>/dev/null
	ip link del "$DUM" 2>/dev/null
	rm -rf "$NFD_DIR"
}
nfd_test_cleanup_keep() {
	if [ -n "$NFD_PID" ]; then
		kill "$NFD_PID" 2>/dev/null
		wait "$NFD_PID" 2>/dev/null
	fi
	if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$NFD_LOG" 2>/dev/null; then
		echo "# sanitizer report in the daemon log:"
		grep -A20 'ERROR: AddressSanitizer\|runtime error:' "$NFD_LOG" | sed 's/^/#   /' | head -40
	fi
}

# A route import of 8 lines or more goes to the router's store (a file
# of the state directory), as one of 65,536 does by default.
export NFC_RT_IMPORT_MIN=8
nfd_start || {
	not_ok "nfchaind starts"
	exit 1
}

# The router's rt_ports carry the forwarding cache's generation (bytes
# 40-43 of struct rt_port), which any rebuild of the FIB bumps; rt_dir is
# the DIR-16-8-8 table built from rt_fib4, whose blocks an undo may place
# elsewhere: rt_fib4 and rt_rib, compared whole, are what it is built from.
# The bridge's br_gen is its cache's generation, bumped every tick.
MAPSUM_OPTS="--mask rt_ports:40:4 --skip rt_dir --skip br_gen"
# Everything a refusal must leave as it was, in one text.
snapshot() {
	echo "== export"
	export_state
	echo "== maps"
	# Every pinned map but the state document (its generation counts
	# writes; its content is compared below) and the programs.
	find "$NFC_PIN" -type f ! -name prog ! -path '*/progs/*' ! -name 'state*' ! -name ring |
		sort | xargs -r python3 "$NFC_TOP/daemon/tests/mapsum.py" $MAPSUM_OPTS | sed "s|$NFC_PIN/||"
	echo "== pinned state"
	nfctl export 2>&1 | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))'
	echo "== state.json and its journal"
	nfd_saved_sum
}
# unchanged NAME: the snapshot equals the one taken in $before.
unchanged() {
	local now
	now=$(snapshot)
	if [ "$now" = "$before" ]; then
		ok "$1: nothing changed"
	else
		not_ok "$1: nothing changed"
		diff <(echo "$before") <(echo "$now") | head -20 | sed 's/^/#   /'
	fi
}
# api_refused NAME STATUS PATTERN METHOD PATH [BODY]
api_refused() {
	local name=$1 want=$2 pat=$3 out
	shift 3
	out=$(api "$@")
	if [ "${out%% *}" = "$want" ] && grep -Eq -- "$pat" <<<"$out"; then
		ok "$name: refused $want"
	else
		not_ok "$name: refused $want (got: ${out:0:300})"
	fi
}

nfc router add r0 mode=xdp-generic >/dev/null &&
	nfc r0 ports add p1 ip=203.0.113.1/24 >/dev/null &&
	nfc r0 routes add 198.18.0.0/16 nexthop=203.0.113.9 >/dev/null &&
	nfc forwarder add f0 mode=xdp-generic >/dev/null &&
	nfc f0 ports add p1 >/dev/null
check "a router with a route and a forwarder" [ $? = 0 ]
ls -d "$NFC_PIN"/nf/*/map >/dev/null 2>&1 ||
	echo "# no maps under $NFC_PIN/nf/*/map: the map comparison covers nothing"

# ---- limit, validation, kernel --------------------------------------------
python3 - >"$NFD_DIR/ports.json" <<'PY'
import json
print(json.dumps({"nfs": [{"name": "b0", "type": "bridge", "mode": "xdp-generic",
	"ports": [{"name": "p%d" % i} for i in range(64)]}]}))
PY
nfc export | python3 -c 'import json,sys
d = json.load(sys.stdin); d["nfs"] += json.load(open(sys.argv[1]))["nfs"]
print(json.dumps(d))' "$NFD_DIR/ports.json" >"$NFD_DIR/ports-all.json"
check "a bridge with 64 ports (the limit)" quiet nfc apply -f "$NFD_DIR/ports-all.json"
before=$(snapshot)
api_refused "a port beyond the limit" 409 "" POST /v1/nfs/b0/ports '{"name":"over"}'
unchanged "a port beyond the limit"
nfc b0 del >/dev/null

before=$(snapshot)
# (a helper) {} read as "no NFs" and deleted every one.
api_refused "a state document without nfs ({})" 400 "'nfs' is missing" PUT /v1/state '{}'
unchanged "a state document without nfs ({})"
api_refused "a route with a bad next hop" 400 "not on a connected subnet" \
	POST /v1/nfs/r0/routes '{"key":"198.19.0.0/16","fields":{"nexthop":"198.51.100.9"}}'
unchanged "a route with a bad next hop"
api_refused "a route that exists" 409 "exists already" \
	POST /v1/nfs/r0/routes '{"key":"198.18.0.0/16","fields":{"nexthop":"203.0.113.9"}}'
unchanged "a route that exists"
doc=$(nfc export | python3 -c 'import json,sys
d = json.load(sys.stdin)
r = [n for n in d["nfs"] if n["name"] == "r0"][0]
r["config"]["arp_timeout"] = 77
r.setdefault("collections", {})["routes"] = {"198.18.0.0/16": {"nexthop": "203.0.113.9"}, "198.20.0.0/16": {"nexthop": "198.51.100.9"}}
print(json.dumps(d))')
api_refused "an apply whose last route is refused" 400 "not on a connected subnet" PUT /v1/state "$doc"
unchanged "an apply whose last route is refused"
# An apply that deletes r0 and f0 and is refused late (an entry of the NF
# it creates): the NFs come back with their entries, in the data plane
# too. Found by a helper: they came back empty, and the next save made it
# so for good. The state files are written again (the NFs were deleted
# and made anew), so they are compared by what they hold.
nfc r0 routes add 198.21.0.0/16 nexthop=203.0.113.9 >/dev/null
before=$(snapshot | sed '/^== state.json/,$d'; nfd_saved)
doc='{"nfs":[{"name":"q","type":"lb","collections":{"services":{"198.51.100.170:80/tcp":{"table":3}},"backends":{"198.51.100.170:80/tcp/198.51.100.171":{}}}}]}'
api_refused "an apply deleting r0 and f0, refused at its last entry" 400 "table=3 is too small" PUT /v1/state "$doc"
now=$(snapshot | sed '/^== state.json/,$d'; nfd_saved)
if [ "$now" = "$before" ]; then
	ok "... r0 and f0 back with their routes (export, maps, pinned and saved state)"
else
	not_ok "... r0 and f0 back with their routes (export, maps, pinned and saved state)"
	diff <(echo "$before") <(echo "$now") | head -20 | sed 's/^/#   /'
fi
nfc r0 routes del 198.21.0.0/16 >/dev/null

# The kernel refuses native XDP on a Linux bridge (it has no XDP driver
# support); the bridge is down and has no ports.
DUM=nfcb$NFC_ID
DUM=${DUM:0:15}
ip link add "$DUM" type bridge && NFC_LINKS+=("$DUM")
ip link set "$DUM" up
nfc forwarder add fx mode=xdp >/dev/null && nfc fx ports add p1 >/dev/null
before=$(snapshot)
out=$(api POST /v1/links "{\"port\":\"fx:p1\",\"peer\":\"$DUM\"}")
if [ "${out%% *}" -ge 400 ]; then
	ok "the kernel refuses native XDP on a bridge netdev (${out:0:160})"
	unchanged "a kernel refusal"
else
	echo "# the kernel accepted native XDP on a bridge netdev: $out"
	nfc disconnect fx:p1 >/dev/null 2>&1
fi
nfc fx del >/dev/null

# ---- a full state directory ------------------------------------------------
nfc r0 routes add 198.19.0.0/16 nexthop=203.0.113.9 >/dev/null
nfc r0 routes add 198.22.0.0/16 nexthop=203.0.113.9 >/dev/null
dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1
# The journal's last page may have room for a few records: changes that
# fit are durable, so accepted. Used up with records no longer than those
# refused below (keys of at most 12 characters).
n=0
while [ $n -lt 99 ] && quiet nfc r0 routes add "10.$n.0.0/16" nexthop=203.0.113.9; do n=$((n + 1)); done
out=$(nfc r0 routes add "10.$n.0.0/16" nexthop=203.0.113.9 2>&1)
check "full disk: an add refused after $n that fit ($out)" grep -q "No space left" <<<"$out"
while [ $n -gt 0 ] && quiet nfc r0 routes del "10.$((n - 1)).0.0/16"; do n=$((n - 1)); done
before=$(snapshot)
api_refused "a route when the disk is full" 507 \
	"saving state to $NFD_STATE/state.journal failed .*No space left on device; the change was undone" \
	POST /v1/nfs/r0/routes '{"key":"198.20.0.0/16","fields":{"nexthop":"203.0.113.9"}}'
unchanged "disk full: add a route"
raw=$(nfc export)
api_refused "a route delete when the disk is full" 507 "No space left" \
	DELETE /v1/nfs/r0/routes/198.19.0.0%2F16
unchanged "disk full: delete a route"
# Found by a helper: the entry came back last, and the export's bytes
# changed (its order), if not its content.
check "... the export byte for byte as before (the entry in its place)" [ "$(nfc export)" = "$raw" ]
api_refused "a config change when the disk is full" 507 "No space left" \
	PATCH /v1/nfs/r0 '{"config":{"arp_timeout":99}}'
unchanged "disk full: set a config value"
api_refused "an NF delete when the disk is full" 507 "No space left" DELETE /v1/nfs/f0
unchanged "disk full: delete an NF"
api_refused "an apply when the disk is full" 507 "No space left" PUT /v1/state '{"nfs":[],"attachments":[]}'
unchanged "disk full: apply an empty state"
# (a helper) with a netdev the state names gone, the undo failed ("netdev
# ... does not exist: it is running, unsaved") and the change stayed.
rm -f "$MNT/fill"
ip link add "nfr$$a" type veth peer name "nfr$$b"
quiet nfc counter add cgone && quiet nfc attach cgone "nfr$$a" direction=ingress
ip link del "nfr$$a"
sleep 0.3
# A change first: its reconcile frees the gone netdev's direct slot
# (ifports), which the refused change's would do otherwise.
quiet nfc counter add cw && quiet nfc cw del
dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1
before=$(snapshot)
api_refused "an NF add when the disk is full, an attachment's netdev gone" 507 \
	"No space left.*the change was undone" POST /v1/nfs '{"name":"cfull","type":"counter"}'
unchanged "disk full, a netdev gone: add an NF"
rm -f "$MNT/fill"
quiet nfc cgone del
check "with space again, the route is accepted" quiet nfc r0 routes add 198.20.0.0/16 nexthop=203.0.113.9
check "... and saved" grep -q 198.20.0.0/16 <<<"$(nfd_saved)"

# ---- an NF's own file in a full state directory -----------------------------
# A ddos NF keeps its feed in the state directory: its own writes failing
# on a full disk were answered 409 and 500 (found by a helper).
printf '203.0.113.0/28\n203.0.113.16/28\n' >"$NFD_DIR/feed.txt"
quiet nfc ddos add dd0 && quiet nfc dd0 blocklist import --replace -f "$NFD_DIR/feed.txt"
check "dd0 with a kept feed of 2 prefixes" [ $? = 0 ]
dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1
before=$(snapshot)
api_refused "a ddos feed import when the disk is full" 507 "No space left" \
	POST /v1/nfs/dd0/blocklist/import $'198.51.100.0/27\n2001:db8:9::/48\n'
unchanged "disk full: a ddos feed import"
cp "$NFC_BIN/../bpf/forwarder.xdp.bpf.o" "$NFD_DIR/fwd.bpf.o"
api_refused "an upgrade when the disk is full" 507 "No space left" \
	POST /v1/nfs/f0/upgrade "{\"file\":\"$NFD_DIR/fwd.bpf.o\"}"
unchanged "disk full: an upgrade"
check "... no objects directory left behind" [ ! -e "$NFD_STATE/objects" ]
rm -f "$MNT/fill"
# An apply that deletes dd0 and is refused late: dd0 back with its feed
# and a single entry, the feed file kept (it was removed with the NF, and
# the NF came back empty); accepted, the apply removes the file.
quiet nfc dd0 blocklist add 198.51.100.0/24
feed=$(ls "$NFD_STATE"/ddos*dd0*.feed 2>/dev/null)
before=$(snapshot | sed '/^== state.json/,$d'; nfd_saved)
doc=$(nfc export | python3 -c 'import json,sys
d = json.load(sys.stdin)
d["nfs"] = [n for n in d["nfs"] if n["name"] != "dd0"]
d["nfs"].append({"name": "q", "type": "lb", "collections": {"services": {"198.51.100.170:80/tcp": {"table": 3}},
	"backends": {"198.51.100.170:80/tcp/198.51.100.171": {}}}})
print(json.dumps(d))')
api_refused "an apply deleting dd0, refused at its last entry" 400 "table=3 is too small" PUT /v1/state "$doc"
now=$(snapshot | sed '/^== state.json/,$d'; nfd_saved)
if [ -n "$feed" ] && [ -f "$feed" ] && [ "$now" = "$before" ]; then
	ok "... dd0 back with its feed and entry, the file kept ($feed)"
else
	not_ok "... dd0 back with its feed and entry, the file kept (${feed:-no feed file})"
	diff <(echo "$before") <(echo "$now") | head -20 | sed 's/^/#   /'
fi
doc=$(nfc export | python3 -c 'import json,sys
d = json.load(sys.stdin)
d["nfs"] = [n for n in d["nfs"] if n["name"] != "dd0"]
print(json.dumps(d))')
quiet nfc apply -f - <<<"$doc"
check "an accepted apply deleting dd0 removes its feed file (rc $?)" [ ! -e "$feed" ]

# ---- a router's route store and entry order when the disk is full ----------
# (a helper) A router whose imported routes are kept in a store, deleted
# when the disk was full: refused, but the undo wrote the whole store
# again, which the full disk refused too: the router stayed deleted,
# unsaved, and every later refusal named its store. And a refused `del`
# or `set` of an entry put it back last: export changed.
python3 -c 'for i in range(40): print("198.18.%d.0/24 nexthop=203.0.113.9" % i)' >"$NFD_DIR/routes.txt"
quiet nfc router add rs && quiet nfc rs ports add p1 ip=203.0.113.1/24 &&
	quiet nfc rs routes import -f "$NFD_DIR/routes.txt"
check "rs with 40 imported routes, kept in a store" \
	[ -n "$(ls "$NFD_STATE"/router*.rs.routes 2>/dev/null)" ]
quiet nfc bridge add bo && quiet nfc bo ports add p1 && quiet nfc bo ports add p2 &&
	quiet nfc bo fdb add 02:00:00:00:00:01 port=p1 &&
	quiet nfc bo fdb add 02:00:00:00:00:02 port=p1 &&
	quiet nfc bo fdb add 02:00:00:00:00:03 port=p1
dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1
before=$(snapshot)
api_refused "a delete of rs when the disk is full" 507 "No space left.*the change was undone" \
	DELETE /v1/nfs/rs
unchanged "disk full: delete a router with a route store"
check "... its imported routes are still there" \
	grep -q 198.18.39.0/24 <<<"$(nfc rs routes show)"
# The journal's last page may still take a few records: used up first.
n=0
while [ $n -lt 99 ] && quiet nfc bo fdb add "02:00:00:00:01:$(printf %02x $n)" port=p1; do n=$((n + 1)); done
before=$(snapshot)
raw=$(nfc export)
api_refused "a delete of the first fdb entry when the disk is full (after $n that fit)" \
	507 "No space left" DELETE /v1/nfs/bo/fdb/02:00:00:00:00:01
unchanged "disk full: delete an entry"
check "... export as before, the entry in its place (not last)" [ "$(nfc export)" = "$raw" ]
api_refused "a set of the first fdb entry when the disk is full" 507 "No space left" \
	PATCH /v1/nfs/bo/fdb/02:00:00:00:00:01 '{"fields":{"port":"p2"}}'
unchanged "disk full: set an entry"
check "... export as before, the entry in its place (not last)" [ "$(nfc export)" = "$raw" ]
rm -f "$MNT/fill"
quiet nfc rs del
quiet nfc bo del

# ---- a read-only state directory --------------------------------------------
before=$(snapshot)
mount -o remount,ro "$MNT"
api_refused "a route when the state directory is read-only" 500 \
	"state.journal failed \(create\): Read-only file system; the change was undone" \
	POST /v1/nfs/r0/routes '{"key":"198.21.0.0/16","fields":{"nexthop":"203.0.113.9"}}'
unchanged "read-only: add a route"
api_refused "a port when the state directory is read-only" 500 "Read-only" \
	POST /v1/nfs/r0/ports '{"name":"p2","config":{"ip":"198.51.100.1/24"}}'
unchanged "read-only: add a port"
mount -o remount,rw "$MNT"

# ---- a state too large for the pinned state map ---------------------------
big() { # N: the document with N routes in r0
	nfc export | python3 -c 'import json,sys
n = int(sys.argv[1])
d = json.load(sys.stdin)
r = [x for x in d["nfs"] if x["name"] == "r0"][0]
r["collections"] = {"routes": {"198.%d.%d.%d/32" % (18 + (i >> 16), (i >> 8) & 255, i & 255): {"nexthop": "203.0.113.9"} for i in range(n)}}
print(json.dumps(d))' "$1"
}
big $BIG >"$NFD_DIR/big.json"
before=$(snapshot)
out=$(nfc apply -f "$NFD_DIR/big.json" 2>&1)
check "$BIG routes: refused as larger than the pinned state ($out)" grep -q "larger than" <<<"$out"
unchanged "a state too large"
# A state that only the real save finds too large: routes added one by one
# from just under the map's size (estimated from the refusal above) reach
# it in nfc_coll_add, whose save fails and is undone.
size_of() { # N: the serialized state with N routes, from a dry run's refusal
	big "$1" >"$NFD_DIR/probe.json"
	nfc apply --dry-run -f "$NFD_DIR/probe.json" 2>&1 | sed -n 's/.*would be \([0-9]*\) bytes.*/\1/p'
}
s60=$(size_of $BIG) s50=$(size_of $MID)
per100=$(((s60 - s50) * 100 / (BIG - MID))) # a route's bytes, times 100
n=$(((LIMIT - s60) * 100 / per100 + BIG - 20))
echo "# $s50 bytes at $MID routes, $s60 at $BIG; adding from $n"
big "$n" >"$NFD_DIR/near.json"
if nfc apply -f "$NFD_DIR/near.json" >/dev/null 2>&1; then
	while [ $n -lt $BIG ]; do
		k="198.$((18 + (n >> 16))).$(((n >> 8) & 255)).$((n & 255))/32"
		out=$(api POST /v1/nfs/r0/routes "{\"key\":\"$k\",\"fields\":{\"nexthop\":\"203.0.113.9\"}}")
		[ "${out%% *}" = 201 ] || break
		n=$((n + 1))
	done
	echo "# the state map is full at $n routes"
	check "routes added one by one until the map is full: refused 409 (${out:0:200})" \
		[ "${out%% *}" = 409 ]
	before=$(snapshot)
	api_refused "one more route" 409 "larger than" \
		POST /v1/nfs/r0/routes "{\"key\":\"$k\",\"fields\":{\"nexthop\":\"203.0.113.9\"}}"
	unchanged "one route more than the state map holds"
	big 0 >"$NFD_DIR/none.json"
	nfc apply -f "$NFD_DIR/none.json" >/dev/null
else
	not_ok "$n routes apply"
fi

# ---- what was accepted is what comes back ------------------------------------
routes() { nfc -j r0 routes show | python3 -c 'import json,sys
print(" ".join(sorted(e["key"] if isinstance(e, dict) and "key" in e else json.dumps(e) for e in json.load(sys.stdin) if not (isinstance(e, dict) and e.get("type") in ("connected", "local")))))'; }
saved_routes() { nfd_saved | python3 -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join(sorted(k for n in d["nfs"] if n["name"] == "r0" for k in n.get("collections", {}).get("routes", {}))))'; }
exported_routes() { nfc export | python3 -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join(sorted(k for n in d["nfs"] if n["name"] == "r0" for k in n.get("collections", {}).get("routes", {}))))'; }
for round in 1 2 3; do
	for i in 1 2 3 4 5; do nfc r0 routes add "198.18.$round.$i/32" nexthop=203.0.113.9 >/dev/null; done
	nfc r0 routes del "198.18.$round.2/32" >/dev/null
	nfc r0 routes del "198.18.$round.4/32" >/dev/null
	[ $round -gt 1 ] && nfc r0 routes del "198.18.$((round - 1)).5/32" >/dev/null
	nfc r0 set arp_timeout=$((100 + round)) >/dev/null
	want=$(export_state)
	want_saved=$(exported_routes)
	check "round $round: saved (state.json + journal) = accepted, before kill -9" [ "$(saved_routes)" = "$want_saved" ]
	nfd_kill9
	# The pins alone (the document and its log of entry changes) hold
	# it: another process reads it there before any daemon runs again
	# (once: an adoption by another process is slow on a loaded machine).
	[ $round = 3 ] &&
		check "round $round: after kill -9, the pins hold the last accepted state" \
			[ "$(nfctl export 2>&1 | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')" = "$want" ]
	nfd_start || not_ok "restart after kill -9 (round $round)"
	check "round $round: after kill -9, export is the last accepted state" [ "$(export_state)" = "$want" ]
	check "round $round: state.json + journal hold the accepted routes ($want_saved)" [ "$(saved_routes)" = "$want_saved" ]
done
# A simulated reboot: nothing pinned; state.json brings it back.
want=$(export_state)
nfd_stop
nfctl reset >/dev/null 2>&1
rm -rf "$NFC_PIN"
nfd_start || not_ok "start on no pin root"
check "after a simulated reboot, export is the last accepted state" [ "$(export_state)" = "$want" ]
check "... and the data plane holds the routes" grep -q 198.18.3.5 <<<"$(nfc r0 routes show)"

nfd_stop
check "nfchaind stops cleanly (exit 0, no leak report)" [ $? = 0 ]
nfc_done
