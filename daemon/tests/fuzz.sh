#!/usr/bin/env bash
# Bad input at scale: the in-process API fuzzer (fuzz_api, under ASan in
# `make test`), then the same daemon over HTTP with interleaved clients,
# garbage on the socket and half-sent requests. Bounded in time:
# NFC_FUZZ_SECONDS (default 30) for the fuzzer, a few seconds for HTTP.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_hosts

out=$("$NFC_BIN/fuzz_api" --pin-root "$NFC_PIN" --netdev "$NFD_IF1" \
	--netdev "$NFD_IF2" --seconds "${NFC_FUZZ_SECONDS:-30}" 2>&1)
rc=$?
echo "$out" | grep -v '^\(not \)\?ok - ' | head -40
echo "$out" | grep '^\(not \)\?ok - '
check "fuzz_api exits 0 (no crash, no sanitizer report)" [ $rc = 0 ]

nfd_start || { not_ok "nfchaind starts"; exit 1; }
nfc forwarder add fw0 && nfc fw0 ports add p1 peer="$NFD_IF1" &&
	nfc fw0 ports add p2 peer="$NFD_IF2" && nfc counter add cnt0
before=$(export_state)

# Garbage and half requests straight on the socket.
for raw in 'GARBAGE\r\n\r\n' 'GET /v1/nfs HTTP/9.9\r\n\r\n' \
	'POST /v1/nfs HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{' \
	'POST /v1/nfs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n' \
	'GET /v1/nfs/%00 HTTP/1.1\r\nHost: x\r\n\r\n' 'GET /v1/nfs HTTP/1.1\r\nHost: x\r\n'; do
	printf "%b" "$raw" | timeout 3 nc -U -q 1 "$NFD_SOCK" >/dev/null 2>&1
done
check "daemon answers after garbage on the socket" quiet nfc show

# Interleaved: 8 clients, each mixing bad and good requests.
bodies=('{"name":' '{"name":"x","type":"forwarder","bogus":1}' '[]' 'null'
	'{"config":{"mark":"nope"}}' '{"nfs":[{"name":"a/b"}]}')
paths=(/v1/nfs /v1/nfs/cnt0 /v1/state /v1/nfs/fw0/ports /v1/links /v1/nfs/..%2F..)
methods=(POST PATCH PUT POST POST GET)
bad=0 pids=()
for c in $(seq 8); do
	(
		for i in $(seq 40); do
			k=$(((c + i) % 6))
			st=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$NFD_SOCK" \
				-X "${methods[$k]}" --data-binary "${bodies[$k]}" "http://x${paths[$k]}")
			case $st in 2??|4??) ;; *) echo "bad status $st"; exit 1 ;; esac
			nfc -j cnt0 show >/dev/null || exit 1
		done
	) &
	pids+=($!)
done
# Not `jobs -p`: the daemon is a job of this shell too.
for j in "${pids[@]}"; do wait "$j" || bad=$((bad + 1)); done
check "8 interleaved clients: every answer 2xx or 4xx" [ $bad = 0 ]
check "rejected requests changed nothing" [ "$(export_state)" = "$before" ]
nfd_stop
check "nfchaind stops cleanly (exit 0, no sanitizer report)" [ $? = 0 ]
nfc_done
