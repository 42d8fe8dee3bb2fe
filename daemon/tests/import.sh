#!/usr/bin/env bash
# Bulk input (nfchain <nf> <coll> import, POST .../import) and a pinned
# state larger than the old 2 MiB map: good and bad files, --replace, an
# error names its line and changes nothing (routes, state.json, pinned
# state), kill -9 and a removed pin root bring back what was accepted.
# NFC_IMPORT_BIG sets the size of the large import (default 55,000 routes,
# some 2.2 MB of pinned JSON).
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }
BIG=${NFC_IMPORT_BIG:-55000}

nfc router add r0 && nfc r0 ports add p1 ip=203.0.113.1/24
check "router r0 with a port" [ $? = 0 ]

routes() { nfc r0 routes show | awk '$2 == "static" {print $1, $3}' | sort; }
saved() { nfd_saved_sum; }
# Everything a refusal must leave alone: the routes the NF lists (its
# maps), the export, the pinned state (through a fresh nfctl process that
# reads only the pins) and state.json.
snapshot() {
	routes
	export_state
	"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" export 2>/dev/null | md5sum
	saved
}

f=$NFD_DIR/good.txt
cat >"$f" <<'EOF'
# static routes
198.18.0.0/16 nexthop=203.0.113.9

   198.19.0.0/16   nexthop=203.0.113.10   # a comment after the entry
198.20.1.0/24 nexthop=203.0.113.9
EOF
check "import of a good file" nfc r0 routes import -f "$f"
check "... holds its three routes" [ "$(routes | wc -l)" = 3 ]
check "... saved" grep -q '198.19.0.0/16' <<<"$(nfd_saved)"

before=$(snapshot)
cat >"$NFD_DIR/bad.txt" <<'EOF'
198.21.0.0/16 nexthop=203.0.113.9
# line 2
198.22.0.0/16 nexthop=not-an-address
EOF
out=$(nfc r0 routes import -f "$NFD_DIR/bad.txt" 2>&1)
check "a bad value is refused, naming line 3 (got: $out)" \
	grep -q '^nfchain: line 3: .*not-an-address' <<<"$out"
check "... and nothing changed" [ "$(snapshot)" = "$before" ]

out=$(printf '198.23.0.0/16 nexthop=203.0.113.9\n198.23.0.0/16 nexthop=203.0.113.10\n' |
	nfc r0 routes import -f - 2>&1)
check "a key given twice is refused (got: $out)" \
	grep -q 'line 2: .*given twice (first on line 1)' <<<"$out"
out=$(printf '198.24.0.0/16 nexthop\n' | nfc r0 routes import -f - 2>&1)
check "a word that is not key=value is refused (got: $out)" \
	grep -q 'line 1: expected key=value' <<<"$out"
out=$(printf '198.24.0.0/16 colour=red\n' | nfc r0 routes import -f - 2>&1)
check "an unknown field is refused (got: $out)" grep -q 'line 1: ' <<<"$out"
out=$(printf '198.23.0.0/16 nexthop=203.0.113.9\n198.25.0.0/16 nexthop=203.0.113.9 x=\xff\n' |
	nfc r0 routes import -f - 2>&1)
check "a line that is not UTF-8 is refused, named (was 'out of memory'; got: $out)" \
	grep -q 'line 2: not UTF-8 text' <<<"$out"
check "... none of them changed anything" [ "$(snapshot)" = "$before" ]

# A refusal by the NF itself after entries were written (the next hop is
# checked only when the route is added): the written ones are undone.
out=$(printf '198.25.0.0/16 nexthop=203.0.113.9\n198.26.0.0/16 nexthop=198.51.100.1\n' |
	nfc r0 routes import -f - 2>&1)
if [ -n "$out" ] && [ "$(snapshot)" = "$before" ]; then
	ok "a refusal after some entries were written undoes them ($out)"
elif [ -z "$out" ]; then
	ok "(the router accepts a next hop off its subnets: no late refusal to test)"
	nfc r0 routes del 198.25.0.0/16 && nfc r0 routes del 198.26.0.0/16
	before=$(snapshot)
else
	not_ok "a refusal after some entries were written undoes them ($out)"
fi

printf '198.18.0.0/16 nexthop=203.0.113.11\n198.30.0.0/16 nexthop=203.0.113.9\n' |
	nfc r0 routes import --replace -f -
check "--replace makes the file the whole collection" \
	[ "$(routes | tr '\n' ' ')" = "198.18.0.0/16 203.0.113.11 198.30.0.0/16 203.0.113.9 " ]
check "an empty file with --replace empties it" \
	nfc r0 routes import --replace -f /dev/null
check "... it is empty" [ -z "$(routes)" ]

r=$(api POST /v1/nfs/r0/routes/import '198.31.0.0/16 nexthop=203.0.113.9')
check "REST: POST .../routes/import (got: $r)" [ "${r%% *}" = 200 ]
r=$(api POST '/v1/nfs/r0/routes/import?replace=yes' '')
check "REST: replace must be 1 or 0 (got: $r)" [ "${r%% *}" = 400 ]
r=$(api POST /v1/nfs/r0/nope/import '')
check "REST: an unknown collection is 404 (got: $r)" [ "${r%% *}" = 404 ]
r=$(api POST /v1/nfs/r0/routes/import $'198.32.0.0/16 nexthop=203.0.113.9\nx')
check "REST: a bad line is 400 and names it (got: $r)" \
	grep -q '^400 .*line 2' <<<"$r"
check "... 198.32.0.0/16 was not added" [ -z "$(routes | grep 198.32)" ]

# ---- large: the pinned state beyond the old 2 MiB map --------------------
# Listing 55,000 routes is slow (the router reads them one by one): the
# large part compares counts and one export only.
check "a fresh process adopts the pinned state" \
	grep -q 198.31.0.0/16 <("$NFC_BIN/nfctl" --pin-root "$NFC_PIN" export)
python3 -c "
for i in range($BIG):
    print('10.%d.%d.0/24 nexthop=203.0.113.9' % (i >> 8 & 255, i & 255))
" >"$NFD_DIR/big.txt"
check "import of $BIG routes" nfc r0 routes import --replace -f "$NFD_DIR/big.txt"
check "one more route after that" nfc r0 routes add 11.0.0.0/8 nexthop=203.0.113.9
nfd_kill9
nfd_start || not_ok "nfchaind restarts after kill -9"
compact=$(nfc export | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = [n for n in d["nfs"] if n["name"] == "r0"][0]["collections"]["routes"]
print(len(r), len(json.dumps(d, separators=(",", ":"))))')
check "kill -9, restart: the $((BIG + 1)) routes were adopted from the pins (routes, bytes: $compact)" \
	[ "${compact% *}" = $((BIG + 1)) ]
big_enough() { [ "${compact#* }" -gt $((2 << 20)) ] || [ "$BIG" -lt 50000 ]; }
check "... a state larger than 2 MiB" big_enough

nfd_kill9
"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" reset >/dev/null 2>&1
rm -rf "$NFC_PIN"
# Restored from state.json through an apply, entry by entry: kept small.
head -n 2000 "$NFD_DIR/big.txt" >"$NFD_DIR/small.txt"
python3 - "$NFD_STATE/state.json" "$NFD_DIR/small.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
keep = {l.split()[0] for l in open(sys.argv[2]) if l.strip()}
for n in d["nfs"]:
    r = n.get("collections", {}).get("routes")
    if r is not None:
        n["collections"]["routes"] = {k: v for k, v in r.items() if k in keep}
json.dump(d, open(sys.argv[1], "w"))
PY
nfd_start || not_ok "nfchaind starts on a removed pin root"
check "removed pin root: the routes come back from state.json" \
	[ "$(routes | wc -l)" = 2000 ]

nfd_stop
nfc_done
