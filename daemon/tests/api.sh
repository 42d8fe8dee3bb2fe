#!/usr/bin/env bash
# The REST API over the unix socket: every resource, the statuses, bad
# input (4xx naming the field, running and saved state unchanged), the
# socket's mode, the TCP listener's token, /metrics.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_hosts
nfd_start || { not_ok "nfchaind starts"; exit 1; }
ok "nfchaind starts on a private socket, state dir and pin root"

# expect NAME STATUS GREP METHOD PATH [BODY]: status and a substring.
expect() {
	local name=$1 want=$2 pat=$3 out st
	shift 3
	out=$(api "$@")
	st=${out%% *}
	if [ "$st" = "$want" ] && grep -qF -- "$pat" <<<"$out"; then
		ok "$name ($st)"
	else
		not_ok "$name: want $want and '$pat', got: ${out:0:300}"
	fi
}

mode=$(stat -c '%a %U' "$NFD_SOCK")
check "socket is mode 0600, owned by root (got $mode)" [ "$mode" = "600 root" ]

expect "GET /v1/types lists forwarder" 200 '"forwarder"' GET /v1/types
expect "GET /v1/types lists counter" 200 '"counter"' GET /v1/types
expect "GET /v1/types/forwarder is that type" 200 '"port_names":["p1","p2"]' \
	GET /v1/types/forwarder
expect "GET /v1/types/nosuch: 404 naming it" 404 "no NF type named 'nosuch'" \
	GET /v1/types/nosuch
expect "POST /v1/nfs creates fw0" 201 '"name":"fw0"' POST /v1/nfs \
	'{"name":"fw0","type":"forwarder"}'
expect "POST ports p1 with a netdev peer" 201 "\"peer\":\"$NFD_IF1\"" \
	POST /v1/nfs/fw0/ports "{\"name\":\"p1\",\"peer\":\"$NFD_IF1\"}"
expect "POST ports p2" 201 '"name":"p2"' POST /v1/nfs/fw0/ports '{"name":"p2"}'
expect "POST /v1/links connects p2" 201 "$NFD_IF2" POST /v1/links \
	"{\"port\":\"fw0:p2\",\"peer\":\"$NFD_IF2\"}"
expect "GET /v1/links" 200 "\"port\":\"fw0:p2\"" GET /v1/links
expect "GET /v1/nfs/fw0/ports/p1" 200 '"rx_packets"' GET /v1/nfs/fw0/ports/p1
check "ping through fw0" quiet ip netns exec "$NFD_H1" ping -c 3 -i 0.1 -W 1 -q 198.51.100.2

expect "POST counter cnt0" 201 '"type":"counter"' POST /v1/nfs \
	'{"name":"cnt0","type":"counter"}'
expect "POST /v1/attachments" 201 '"target":"fw0:p1"' POST /v1/attachments \
	'{"nf":"cnt0","target":"fw0:p1","direction":"both"}'
expect "GET /v1/attachments" 200 '"nf":"cnt0"' GET /v1/attachments
ip netns exec "$NFD_H1" ping -c 5 -i 0.05 -W 1 -q 198.51.100.2 >/dev/null
out=$(api GET /v1/nfs/fw0)
lacks=
for f in name type mode ports peer rx_packets rx_bytes tx_packets tx_bytes drops; do
	grep -q "\"$f\"" <<<"$out" || lacks+=" $f"
done
check "NF object has name, type, mode, ports with peer and stats${lacks:+ (lacks:$lacks)}" \
	[ -z "$lacks" ]
expect "GET /v1/nfs/cnt0/stats has per-direction figures" 200 \
	'ingress_packets' GET /v1/nfs/cnt0/stats
expect "PATCH /v1/nfs/cnt0 config" 200 '"mark":' PATCH /v1/nfs/cnt0 \
	'{"config":{"mark":"3"}}'

m=$(curl -s --unix-socket "$NFD_SOCK" http://nfchaind/metrics)
check "metrics: per-port counters" grep -q "nfchain_port_rx_packets_total{nf=\"fw0\",port=\"p1\"} [1-9]" <<<"$m"
check "metrics: drops" grep -q 'nfchain_port_drops_total{nf="fw0"' <<<"$m"
check "metrics: slow path and ring drops" grep -q '^nfchain_slow_path_ring_drops_total ' <<<"$m"
check "metrics: API requests by status" grep -q 'nfchain_api_requests_total{code="201"} [1-9]' <<<"$m"

# ---- bad input: a 4xx naming the field, nothing changed -----------------
api POST /v1/nfs '{"name":"fw1","type":"forwarder"}' >/dev/null
expect "POST a port without a peer" 201 '"peer":null' POST /v1/nfs/fw1/ports '{"name":"p1"}'
before=$(export_state)
saved=$(nfd_saved_sum)
bad() { # NAME STATUS FIELD METHOD PATH BODY
	expect "$@"
}
bad "bad JSON" 400 "invalid JSON" POST /v1/nfs '{"name":"x",'
bad "unknown field" 400 "colour" POST /v1/nfs \
	'{"name":"x1","type":"forwarder","colour":"red"}'
bad "wrong type" 400 "'name' must be a string" POST /v1/nfs \
	'{"name":5,"type":"forwarder"}'
bad "missing field" 400 "'type'" POST /v1/nfs '{"name":"x1"}'
bad "unknown type" 400 "unknown NF type 'bridgeX'" POST /v1/nfs \
	'{"name":"x1","type":"bridgeX"}'
bad "missing peer" 400 "nfcnope0" POST /v1/nfs/fw1/ports \
	'{"name":"p2","peer":"nfcnope0"}'
bad "link to a missing peer" 400 "nfcnope0" POST /v1/links \
	'{"port":"fw1:p1","peer":"nfcnope0"}'
bad "port name not allowed by the type" 400 "p9" POST /v1/nfs/fw1/ports \
	'{"name":"p9"}'
bad "link of a connected port" 409 "already connected" POST /v1/links \
	"{\"port\":\"fw0:p1\",\"peer\":\"$NFD_IF2\"}"
bad "config value of the wrong kind" 400 "mark" PATCH /v1/nfs/cnt0 \
	'{"config":{"mark":"lots"}}'
bad "unknown config field" 400 "colour" PATCH /v1/nfs/cnt0 \
	'{"config":{"colour":"1"}}'
bad "unknown mode" 400 "mode" POST /v1/nfs \
	'{"name":"x1","type":"forwarder","mode":"warp"}'
bad "name is a command" 400 "command" POST /v1/nfs \
	'{"name":"show","type":"forwarder"}'
bad "name is a type" 400 "type" POST /v1/nfs \
	'{"name":"counter","type":"forwarder"}'
bad "name with a slash" 400 "invalid NF name" POST /v1/nfs \
	'{"name":"a/b","type":"forwarder"}'
bad "name with .." 400 "invalid NF name" GET /v1/nfs/..%2F..
bad "state doc: unknown field" 400 "colour" PUT /v1/state \
	'{"nfs":[{"name":"fw0","type":"forwarder","colour":1}],"attachments":[]}'
bad "state doc: missing peer" 400 "nfcnope0" PUT /v1/state \
	'{"nfs":[{"name":"fw0","type":"forwarder","ports":[{"name":"p1","peer":"nfcnope0"}]}],"attachments":[]}'
bad "state doc: not an object" 400 "object" PUT /v1/state '[1,2]'
bad "unknown query parameter" 400 "dryrun" PUT '/v1/state?dryrun=1' '{}'
bad "duplicate NF" 409 "fw0" POST /v1/nfs '{"name":"fw0","type":"forwarder"}'
bad "unknown NF" 404 "no NF named 'nosuch'" GET /v1/nfs/nosuch
bad "unknown path" 404 "no resource" GET /v1/nope
# (a helper) a key's '/' left unencoded was told "the API is under /v1/".
bad "a key's / unencoded: %2F named" 404 "is written %2F" DELETE /v1/nfs/fw0/routes/198.51.100.0/24
bad "a document naming an NF twice: 400, not a conflict" 400 "is listed twice" PUT '/v1/state?dry_run=1' \
	'{"nfs":[{"name":"x","type":"counter"},{"name":"x","type":"counter"}]}'
bad "unknown collection" 404 "no collection" GET /v1/nfs/fw0/fdb
bad "method not allowed" 405 "allowed: GET, POST" PUT /v1/nfs '{}'
# (a helper) a burst of non-blocking clients past a backlog of 128 got
# EAGAIN at connect; the daemon documents 4096 connections a listener.
burst=$(/usr/bin/python3 - "$NFD_SOCK" <<'PY'
import socket, sys
socks, refused = [], 0
for _ in range(300):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
    except BlockingIOError:
        refused += 1
    socks.append(s)
for s in socks:
    s.close()
print(refused)
PY
)
check "300 non-blocking connects at once: none refused ($burst)" [ "$burst" = 0 ]
# The pcap stream is a GET: its route allows nothing else, not the
# collections' POST (which made it a collection named "pcap").
bad "POST on a pcap stream" 405 "allowed: GET)" POST /v1/nfs/fw0/pcap '{}'
bad "GET pcap of a forwarder" 400 "not a capture" GET /v1/nfs/fw0/pcap
bad "GET pcap of no NF" 404 "NF nosuch does not exist" GET /v1/nfs/nosuch/pcap
big=$NFD_DIR/big.json
head -c $((17 << 20)) /dev/zero | tr '\0' ' ' >"$big"
st=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$NFD_SOCK" \
	-X PUT --data-binary "@$big" http://nfchaind/v1/state)
check "a 17 MB body gets 413 (got $st)" [ "$st" = 413 ]
check "no 4xx changed the running state" [ "$(export_state)" = "$before" ]
check "no 4xx changed the saved state" [ "$(nfd_saved_sum)" = "$saved" ]

# ---- TCP with a bearer token -----------------------------------------
nfd_stop
tok=$NFD_DIR/token
head -c 24 /dev/urandom | base64 >"$tok"
chmod 600 "$tok"
# (a helper) port 99999 was taken, and listened on as 34463.
out=$(timeout 20 "$NFC_BIN/nfchaind" --socket "$NFD_SOCK" --state-dir "$NFD_STATE" \
	--pin-root "$NFC_PIN" --listen 127.0.0.1:99999 --token-file "$tok" 2>&1)
rc=$?
check "--listen 127.0.0.1:99999 is refused (exit $rc): ${out##*error=}" \
	grep -q "port '99999' is not a number from 1 to 65535" <<<"$out"
# (a helper) a bad option: 2, as the man page says (it said 1).
check "... with exit status 2, a bad option" [ "$rc" = 2 ]
# (a helper) a directory as the token file: it was "the token must be at
# least 16 characters", and "readable by other users".
mkdir -p "$NFD_DIR/tokdir"
out=$(timeout 20 "$NFC_BIN/nfchaind" --socket "$NFD_SOCK" --state-dir "$NFD_STATE" \
	--pin-root "$NFC_PIN" --listen 127.0.0.1:9 --token-file "$NFD_DIR/tokdir" 2>&1)
check "--token-file DIR: refused as not a regular file: ${out##*error=}" \
	grep -q "tokdir: not a regular file (a directory)" <<<"$out"
port=$((20000 + RANDOM % 20000))
nfd_start --listen "127.0.0.1:$port" --token-file "$tok" || not_ok "restart with --listen"
url=http://127.0.0.1:$port
st=$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/nfs")
check "TCP without a token: 401 (got $st)" [ "$st" = 401 ]
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer wrong' \
	--data '{"name":"t1","type":"forwarder"}' "$url/v1/nfs")
check "TCP with a wrong token: 401 (got $st)" [ "$st" = 401 ]
check "a 401 changed nothing" [ "$(export_state)" = "$before" ]
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$tok")" "$url/v1/nfs")
check "TCP with the token: 200 (got $st)" [ "$st" = 200 ]
check "CLI over TCP with --url --token-file" quiet \
	"$NFC_BIN/nfchain" --url "$url" --token-file "$tok" show
# (a helper) the same token with blanks after it and no final newline:
# the daemon trimmed them, the CLI sent them and was refused.
printf '%s   ' "$(head -1 "$tok")" >"$tok.blanks"
chmod 600 "$tok.blanks"
check "CLI over TCP with a token file ending in blanks, no newline" quiet \
	"$NFC_BIN/nfchain" --url "$url" --token-file "$tok.blanks" show
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: bearer $(cat "$tok")" "$url/v1/nfs")
check "the scheme is case-insensitive: 'bearer' with the token: 200 (got $st)" [ "$st" = 200 ]
"$NFC_BIN/nfchain" --url "$url" show >/dev/null 2>&1
check "CLI --url without --token-file is a usage error" [ $? = 2 ]
out=$("$NFC_BIN/nfchain" --url "$url" --token-file "$NFD_DIR/tokdir" show 2>&1)
check "CLI --token-file DIR: not a regular file (not a 401): $out" \
	grep -q "tokdir: not a regular file (a directory)" <<<"$out"
: >"$NFD_DIR/tokempty"
out=$("$NFC_BIN/nfchain" --url "$url" --token-file "$NFD_DIR/tokempty" show 2>&1)
check "CLI --token-file of an empty file: its first line is empty: $out" \
	grep -q "tokempty: its first line is empty" <<<"$out"
# The plain build's CLI is wholly static where the archives are
# (cli/build.mk) and hands --url to its twin nfchain-url; alone, it says so.
plain=$NFC_TOP/.output/bin
if file "$plain/nfchain" 2>/dev/null | grep -q 'statically linked'; then
	a=$("$plain/nfchain" --url "$url" --token-file "$tok" -j show | jq -c '[.nfs[].name]')
	b=$("$NFC_BIN/nfchain" --url "$url" --token-file "$tok" -j show | jq -c '[.nfs[].name]')
	check "static CLI --url (through nfchain-url) answers as the other ($a)" \
		[ -n "$a" ] && check "static CLI --url (through nfchain-url) answers as the other ($a)" [ "$a" = "$b" ] && check "static CLI --url (through nfchain-url) answers as the other ($a)" [ "$a" != "[]" ]
	mkdir -p "$NFD_DIR/alone" && cp "$plain/nfchain" "$NFD_DIR/alone/"
	out=$("$NFD_DIR/alone/nfchain" --url "$url" --token-file "$tok" show 2>&1)
	rc=$?
	check "static CLI alone: --url names the missing nfchain-url, exit 1 ($rc: $out)" \
		[ $rc = 1 -a -z "${out##*needs nfchain-url*}" ]
fi

# ---- deletes ----------------------------------------------------------------
expect "DELETE attachment" 200 '"nf":"cnt0"' DELETE /v1/attachments/cnt0/fw0:p1
expect "DELETE link" 200 deleted DELETE /v1/links/fw0:p2
expect "DELETE link again: 404" 404 "not connected" DELETE /v1/links/fw0:p2
expect "DELETE port" 200 deleted DELETE /v1/nfs/fw0/ports/p2
expect "DELETE NF" 200 deleted DELETE /v1/nfs/cnt0
expect "DELETE NF" 200 deleted DELETE /v1/nfs/fw0
expect "DELETE NF" 200 deleted DELETE /v1/nfs/fw1
check "export is empty after the deletes" [ "$(export_state)" = '{"attachments": [], "nfs": []}' ]
nfd_stop
check "nfchaind stops cleanly on SIGTERM (exit 0, no leak report)" [ $? = 0 ]
nfc_done
