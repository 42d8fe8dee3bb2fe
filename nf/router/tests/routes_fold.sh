#!/usr/bin/env bash
# The router's route store (rt_store.c, issue 13) over many single
# changes: the log of adds and deletes is folded into a new base when it
# passes its share (NFC_RT_FOLD_MIN made small here, 1 MiB by default),
# without an import; the listing stays the input after a reboot (pin
# root removed: rebuilt from the files). Then what a start does with a
# base that is gone or damaged: rebuilt from <base>.prev and its log
# (the fold done again), or, when no file holds the changes, refused
# with an error naming the base. Last, kill -9 aimed inside folds
# (NFC_TEST_FOLD_DELAY_US stretches each step): after each, a reboot
# brings back the acknowledged changes, the one in flight or not.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
. "$NFC_TOP/nf/router/tests/lib_store.sh"
store_start 200
# 150 changes of ~45 bytes: ~3 folds at 2 KiB. Made through the API by
# one process that looks at the base's log right after each answer: the
# tick folds, not the change that passes the share, so a change returns
# with the log past it (with the fold in the call, never), and a new base
# then comes while no call is made.
read -r ok past ticked < <(python3 - "$NFD_SOCK" "$BASE" "$WANT" "$NFC_RT_FOLD_MIN" <<'EOF'
import http.client, json, os, socket, sys, time, urllib.parse, zlib
sock, base, want, fmin = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sock)
def call(method, path, body=None):
    c = Conn("nfchaind", timeout=60)
    c.request(method, path, json.dumps(body) if body else None,
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status < 300
logs = {}  # a base (its inode: a fold renames a new one in) -> its log
def past():
    st = os.stat(base)
    if st.st_ino not in logs:
        c = zlib.crc32(open(base, "rb").read())
        logs[st.st_ino] = "%s.%08x.log" % (base, c)
    l = os.path.getsize(logs[st.st_ino]) if os.path.exists(logs[st.st_ino]) else 0
    return l > max(st.st_size // 4, fmin)
routes = dict(l.split() for l in open(want))
ok = seen = ticked = 0
for i in range(50):
    for kind, j, h in (("del", i, 0), ("add", 1000 + i, 3), ("add", 2000 + i, 4)):
        k = "2001:db8:f:%x::/64" % (0x1000 + j)
        if kind == "del" and call("DELETE", "/v1/nfs/rf0/routes/" + urllib.parse.quote(k, safe=":")):
            routes.pop(k, None)
            ok += 1
        elif kind == "add" and call("POST", "/v1/nfs/rf0/routes",
                                    {"key": k, "fields": {"nexthop": "2001:db8:b::%d" % h}}):
            routes[k] = "2001:db8:b::%d" % h
            ok += 1
        if past():
            # No call now: a new base comes from the tick alone.
            seen += 1
            ino = os.stat(base).st_ino
            for _ in range(6000):
                if os.stat(base).st_ino != ino:
                    ticked += 1
                    break
                time.sleep(0.01)
open(want, "w").write("".join("%s %s\n" % r for r in sorted(routes.items())))
print(ok, seen, ticked)
EOF
)
check "150 single adds and deletes ($ok acknowledged)" [ "$ok" = 150 ]
check "a change returns before its log is folded ($past times past the share)" [ "${past:-0}" -gt 0 ]
check "the tick folds it with no call made ($ticked of $past)" [ "${ticked:-0}" = "$past" ]
check "the log was folded into a new base: $(head -1 "$BASE")" \
	grep -qE '^# nfchain routes: store [0-9a-f]{8} fold [1-9]' "$BASE"
# Past twice its share, a change folds the log itself (the tick late,
# or none: nfctl): no log grows further.
LOGS=$(ls "$BASE".*.log 2>/dev/null | wc -l)
LOGMAX=$(stat -c %s "$BASE".*.log 2>/dev/null | sort -n | tail -1)
SHARE=$(($(stat -c %s "$BASE.prev") / 4))
[ "$SHARE" -gt "$NFC_RT_FOLD_MIN" ] || SHARE=$NFC_RT_FOLD_MIN
check "the logs stay small ($LOGS files, the largest ${LOGMAX:-0} bytes, twice the share $((2 * SHARE)); 150 changes)" \
	[ "$LOGS" -le 2 ] && check "the logs stay small ($LOGS files, the largest ${LOGMAX:-0} bytes, twice the share $((2 * SHARE)); 150 changes)" [ "${LOGMAX:-0}" -le $((2 * SHARE + 100)) ]
check "the folded base ends with its crc32 and count" \
	grep -qE '^# crc32 [0-9a-f]{8} routes [0-9]+$' <(tail -1 "$BASE")
check "the listing is the input ($(wc -l <"$WANT") routes)" same
reboot || { not_ok "nfchaind restarts after a reboot"; exit 1; }
check "after a reboot: the listing is the input" same

# ---- a base gone or damaged at start ----
# A change after the last fold, so that the log of the base holds one.
add 3000 5
check "a change after the fold" same
rm -f "$BASE"
reboot || { not_ok "nfchaind restarts (base gone)"; exit 1; }
check "base gone: rebuilt from .prev and the logs, the listing is the input" same
check "base gone: the daemon's log says so" grep -q "rf0: routes: store $BASE is gone: rebuilt from $BASE.prev" "$NFD_LOG"
# A line taken out of the base: its last line no longer vouches for it.
add 3001 5
sed -i '5d' "$BASE"
reboot || { not_ok "nfchaind restarts (base damaged)"; exit 1; }
check "base damaged: rebuilt, the listing is the input" same
check "base damaged: the daemon's log says so" grep -q "store $BASE is damaged" "$NFD_LOG"
# Both damaged: nothing holds the routes any more. The saved state is
# refused, naming the base; nothing is made up.
add 3002 5
sed -i '5d' "$BASE"
sed -i '5d' "$BASE.prev"
reboot || { not_ok "nfchaind restarts (both damaged)"; exit 1; }
OUT=$(nfc show 2>&1)
check "base and .prev damaged: the state is refused, naming the base" \
	grep -q "routes: store $BASE is damaged.*import the routes again" <<<"$OUT$(cat "$NFD_LOG")"
check "base and .prev damaged: the files are left as they were" \
	[ "$(grep -c . "$BASE")" -gt 200 ] && check "base and .prev damaged: the files are left as they were" [ -f "$BASE.prev" ]

# ---- kill -9 inside folds ----
# A fresh router: the store as above, folds every ~20 changes, each of
# their steps stretched to 0.3 s.
nfd_kill9
rm -rf "$NFC_PIN" "$NFD_STATE"
export NFC_RT_FOLD_MIN=1024 NFC_TEST_FOLD_DELAY_US=300000
nfd_start || { not_ok "nfchaind starts (crash part)"; exit 1; }
rf0_up && quiet nfc rf0 routes import -f "$NFD_DIR/routes.txt" ||
	not_ok "the router again"
sed 's/ nexthop=/ /' "$NFD_DIR/routes.txt" | sort >"$WANT"
n=4000 inside=0 bad=0
for round in 1 2 3 4; do
	# Adds in the background, each acknowledged one noted.
	: >"$NFD_DIR/acked"
	(
		for j in $(seq 0 200); do
			quiet nfc rf0 routes add "$(pfx $((n + j)))" nexthop=2001:db8:b::6 || exit
			echo $((n + j)) >>"$NFD_DIR/acked"
		done
	) &
	W=$!
	# Kill when a fold is under way (its tmp file is there), at a
	# random point of its steps.
	for _ in $(seq 300); do [ -e "$BASE.tmp" ] && break; sleep 0.05; done
	[ -e "$BASE.tmp" ] && inside=$((inside + 1))
	sleep "0.$((RANDOM % 9))"
	nfd_kill9
	wait $W
	rm -rf "$NFC_PIN"
	nfd_start || { not_ok "round $round: nfchaind restarts"; exit 1; }
	while read -r j; do echo "$(pfx "$j") 2001:db8:b::6"; done <"$NFD_DIR/acked" >>"$WANT"
	sort -o "$WANT" "$WANT"
	last=$(tail -1 "$NFD_DIR/acked")
	next=$((${last:-$((n - 1))} + 1))
	(cat "$WANT"; echo "$(pfx "$next") 2001:db8:b::6") | sort >"$WANT.plus"
	if same >/dev/null || same "$WANT.plus" >/dev/null; then
		# The one in flight, if it came back, is now part of the state.
		same >/dev/null || cp "$WANT.plus" "$WANT"
	else
		bad=$((bad + 1))
		same
	fi
	n=$((n + 1000))
done
check "kill -9 in 4 rounds ($inside inside a fold): after each reboot the listing is the acknowledged changes (+ the one in flight)" \
	[ $bad = 0 ] && check "kill -9 in 4 rounds ($inside inside a fold): after each reboot the listing is the acknowledged changes (+ the one in flight)" [ $inside -ge 2 ]
nfc_done
