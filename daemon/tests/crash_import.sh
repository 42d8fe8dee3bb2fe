#!/usr/bin/env bash
# kill -9 in the middle of a large import, restart: what the NF's maps
# hold (its `show`, read from the data plane) equals the saved state
# (state.json and the export), and that state is the old collection or the
# new one, never a mix. Two collections: the bridge's FDB, written entry
# by entry (an import of a few thousand takes seconds, so a kill at a
# random point lands inside it), and the router's routes, swapped as a
# whole. The daemon says when it found an interrupted change and put it
# back (lib/intent.c); at least one kill must have landed inside an
# import, or the test proved nothing.
# NFC_CRASH_FDB / NFC_CRASH_ROUTES set the sizes (default 300 / 1500:
# enough for a kill aimed at a random point to land inside an import,
# small enough for the whole test, five restarts and their checks, to stay
# well under 90 s on a loaded machine).
# NFC_TEST_INTENT_DELAY_US (lib/intent.c) makes each noted entry take a
# millisecond, so an FDB replace of 300 entries (600 notes) lasts long
# enough that a kill aimed inside its time lands inside its writes; rounds
# go on (up to 8) until one has, so the last check is not luck.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
export NFC_TEST_INTENT_DELAY_US=${NFC_CRASH_DELAY_US:-1000}
nfd_start || { not_ok "nfchaind starts"; exit 1; }
FDB=${NFC_CRASH_FDB:-300}
ROUTES=${NFC_CRASH_ROUTES:-1500}

nfc bridge add bk0 mode=xdp-generic >/dev/null && nfc bk0 ports add p1 >/dev/null &&
	nfc router add rk0 >/dev/null && nfc rk0 ports add p1 ip=203.0.113.1/24 >/dev/null
check "a bridge and a router" [ $? = 0 ]

# Two sets that share no key: set 0 and set 1 of each collection.
gen_fdb() { # SET
	python3 -c "
for i in range($FDB):
    print('02:0$1:00:%02x:%02x:%02x port=p1' % (i >> 16 & 255, i >> 8 & 255, i & 255))"
}
gen_routes() { # SET
	python3 -c "
for i in range($ROUTES):
    print('1$1.%d.%d.0/24 nexthop=203.0.113.9' % (i >> 8 & 255, i & 255))"
}
for s in 0 1; do
	gen_fdb $s >"$NFD_DIR/fdb$s.txt"
	gen_routes $s >"$NFD_DIR/routes$s.txt"
done

# Keys of one collection: in the data plane (what the NF lists), in
# state.json, in the export; and which set they are.
plane() { # NF COLL
	nfc -j "$1" "$2" show | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("entries", d) if isinstance(d, dict) else d
k = sorted(e.get("key") or e.get("prefix") for e in d
	if e.get("type", "static") == "static")
print(len(k), hash(tuple(k)))'
}
saved() { # NF COLL
	python3 - "$NFD_STATE/state.json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = [n for n in d["nfs"] if n["name"] == sys.argv[2]][0]
k = sorted(n.get("collections", {}).get(sys.argv[3], {}))
print(len(k), hash(tuple(k)))
PY
}
exported() { # NF COLL
	nfc export | python3 -c '
import json, sys
d = json.load(sys.stdin)
n = [n for n in d["nfs"] if n["name"] == sys.argv[1]][0]
k = sorted(n.get("collections", {}).get(sys.argv[2], {}))
print(len(k), hash(tuple(k)))' "$1" "$2"
}
which_set() { # NF COLL -> "set0", "set1", "mix" (or "empty")
	python3 - "$NFD_STATE/state.json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = [n for n in d["nfs"] if n["name"] == sys.argv[2]][0]
k = n.get("collections", {}).get(sys.argv[3], {})
at = 4 if sys.argv[3] == "fdb" else 1
first = {x[at] for x in k}
print("empty" if not k else "set" + first.pop() if len(first) == 1 else "mix")
PY
}

export PYTHONHASHSEED=0
# Time one whole import of each kind, to aim the kills inside one.
t0=$(date +%s%N)
nfc bk0 fdb import --replace -f "$NFD_DIR/fdb0.txt"
t_fdb=$((($(date +%s%N) - t0) / 1000000))
t0=$(date +%s%N)
nfc rk0 routes import --replace -f "$NFD_DIR/routes0.txt"
t_rt=$((($(date +%s%N) - t0) / 1000000))
check "set 0 imported ($FDB FDB entries in $t_fdb ms, $ROUTES routes in $t_rt ms)" \
	[ "$(plane bk0 fdb)" = "$(saved bk0 fdb)" ]
echo "# the import took $t_fdb ms (fdb) and $t_rt ms (routes)"

interrupted=0
round() { # NF COLL SET MS
	local nf=$1 coll=$2 set=$3 ms=$4 pid lines
	lines=$(grep -c 'a change was interrupted' "$NFD_LOG")
	nfc "$nf" "$coll" import --replace -f "$NFD_DIR/$coll$set.txt" >/dev/null 2>&1 &
	pid=$!
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	nfd_kill9
	wait "$pid" 2>/dev/null
	nfd_start || { not_ok "nfchaind restarts after kill -9"; return; }
	if [ "$(grep -c 'a change was interrupted' "$NFD_LOG")" -gt "$lines" ]; then
		interrupted=$((interrupted + 1))
	fi
	local p s e w
	p=$(plane "$nf" "$coll") s=$(saved "$nf" "$coll") e=$(exported "$nf" "$coll")
	w=$(which_set "$nf" "$coll")
	check "kill -9 ${ms} ms into the import of $coll set $set: data plane = state.json = export ($p / $s / $e), $w" \
		[ "$p" = "$s" ] && check "kill -9 ${ms} ms into the import of $coll set $set: data plane = state.json = export ($p / $s / $e), $w" [ "$s" = "$e" ] && check "kill -9 ${ms} ms into the import of $coll set $set: data plane = state.json = export ($p / $s / $e), $w" [ "$w" != mix ]
}

# Kill points spread over the import's duration, each a random place in
# its own part, so that some land early (checks) and some late (writes).
for i in 1 2 3 4 5 6 7 8; do
	[ "$i" -gt 3 ] && [ "$interrupted" -ge 1 ] && break
	# The other set than the one held: a kill before the change began
	# leaves it, and importing it again would change nothing.
	set=1
	[ "$(which_set bk0 fdb)" = set1 ] && set=0
	ms=$((t_fdb * ((i - 1) % 3) / 3 + RANDOM % (t_fdb / 3 + 1)))
	round bk0 fdb $set "$ms"
done
for i in 1; do
	set=$((i % 2))
	ms=$((t_rt * (i + 1) / 4 + RANDOM % (t_rt / 4 + 1)))
	round rk0 routes $set "$ms"
done
check "at least one kill landed inside an import and was put back ($interrupted rounds)" \
	[ "$interrupted" -ge 1 ]

# A whole import still goes through after all that.
nfc bk0 fdb import --replace -f "$NFD_DIR/fdb1.txt"
check "a whole import after the crashes" [ "$(plane bk0 fdb)" = "$(saved bk0 fdb)" ] &&
	check "a whole import after the crashes" [ "$(which_set bk0 fdb)" = set1 ]

nfd_stop
nfc_done
