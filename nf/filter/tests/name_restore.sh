#!/usr/bin/env bash
# A filter (and a capture's filter) naming a host, after a reboot in which
# the name no longer resolves (no DNS yet at boot, a name gone). libpcap
# looks the name up when it compiles, and the restore compiles again:
# before, it refused the saved state whole and every NF of it stayed down
# until a new `apply`. Now the restore takes the program the expression
# compiled to when it was accepted (lib/cbpf.h, "Kept programs"): the
# chain comes back and the filter drops what it dropped before. A new
# expression naming an unknown host is still refused.
#
# The daemon runs in a mount namespace of its own where a file of ours is
# /etc/hosts, so the name comes and goes without touching the machine's.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfc_two_hosts
nfc_static_neigh
NAME=nfc-b-$NFC_ID
HOSTS=$NFD_DIR/hosts
{
	cat /etc/hosts
	echo "198.51.100.2 $NAME"
} >"$HOSTS"

start_ns() { # the daemon, with $HOSTS as its /etc/hosts
	unshare -m --propagation private sh -c \
		'mount --bind "$0" /etc/hosts && exec "$@"' "$HOSTS" \
		"$NFC_BIN/nfchaind" --socket "$NFD_SOCK" --state-dir "$NFD_STATE" \
		--pin-root "$NFC_PIN" >>"$NFD_LOG" 2>&1 &
	NFD_PID=$!
	for _ in $(seq 100); do
		nfc show >/dev/null 2>&1 && return 0
		kill -0 "$NFD_PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/#   /' "$NFD_LOG" | tail -20
	return 1
}
pings() { # how many of 4 echo requests to B come back
	ip netns exec "$A" ping -c 4 -i 0.1 -W 1 198.51.100.2 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}
stat() { nfc -j "$1" show | jq -r ".stats.$2"; }
kept() { ls "$NFD_STATE"/*."$1".cbpf 2>/dev/null | wc -l; }

start_ns || { not_ok "nfchaind starts with its own /etc/hosts"; exit 1; }
quiet nfc forwarder add f1 && quiet nfc f1 ports add p1 peer=$VA &&
	quiet nfc f1 ports add p2 peer=$VB
check "f0 drops ICMP echo requests to $NAME" \
	quiet nfc filter add f0 "expr=icmp[icmptype] == icmp-echo and dst host $NAME"
check "... attached on f1:p2" quiet nfc attach f0 f1:p2 direction=both
check "c0 captures what comes from $NAME" \
	quiet nfc capture add c0 "filter=src host $NAME"
check "... attached on f1:p2" quiet nfc attach c0 f1:p2 direction=both
check "no ping to B comes back" [ "$(pings)" = 0 ]
check "... f0 dropped 4" [ "$(stat f0 dropped)" = 4 ]
check "the programs are kept beside the state (f0, c0)" \
	[ "$(kept f0)" = 1 -a "$(kept c0)" = 1 ]
before=$(export_state)

# A reboot, the name gone from /etc/hosts.
nfd_kill9
"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" reset >/dev/null 2>&1
rm -rf "$NFC_PIN"
grep -v " $NAME\$" /etc/hosts >"$HOSTS"
check "the daemon starts again, $NAME unknown" start_ns
check "... the restore is not left pending" \
	[ "$(nfc -j show | jq -r '.restore_pending // empty')" = "" ]
check "... the state is the one saved" [ "$(export_state)" = "$before" ]
check "... the log says the kept program is used" \
	grep -q "unknown host '$NAME'; the program it compiled to when it was accepted is used" "$NFD_LOG"
check "f0 still drops the echo requests to B" [ "$(pings)" = 0 ]
check "... f0 dropped 4 more" [ "$(stat f0 dropped)" = 4 ]
check "a new expression naming $NAME is refused: libpcap's message" \
	refused "unknown host '$NAME'" nfc f0 set "expr=host $NAME"
check "... and changed nothing" [ "$(export_state)" = "$before" ]
# (a helper) the expressions kept as they are: an apply of the export, a
# set of another field, the same expression set again were refused, as
# they compiled it again.
nfc export >"$NFD_DIR/e.json"
check "apply of the export: taken, as a no-op" \
	bash -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' apply -f '$NFD_DIR/e.json' | grep -q 'no changes'"
check "c0 set snaplen=200: taken (its filter kept)" quiet nfc c0 set snaplen=200
check "f0 set to the expression it has: taken" \
	quiet nfc f0 set "expr=icmp[icmptype] == icmp-echo and dst host $NAME"
check "f0 still drops the echo requests to B" [ "$(pings)" = 0 ]
check "f0 set expr=udp port 9: pings pass" \
	quiet nfc f0 set "expr=udp port 9"
nfc c0 dump seconds=3 >"$NFD_DIR/c0.pcap" 2>/dev/null &
dp=$!
sleep 0.5
check "... 4 of 4 come back" [ "$(pings)" = 4 ]
wait $dp
got=$(tcpdump -r "$NFD_DIR/c0.pcap" -nn 2>/dev/null)
echo "# c0's dump:"
sed 's/^/#   /' <<<"$got"
check "c0's dump holds B's 4 replies and nothing else ($(wc -l <<<"$got") frames)" \
	[ "$(grep -c '198.51.100.2 > 198.51.100.1: ICMP echo reply' <<<"$got")" = 4 -a "$(wc -l <<<"$got")" = 4 ]
quiet nfc detach f0 f1:p2
quiet nfc detach c0 f1:p2
check "f0 deleted" quiet nfc f0 del
check "... its kept programs are gone" [ "$(kept f0)" = 0 ]
check "c0 deleted" quiet nfc c0 del
check "... its kept programs too" [ "$(kept c0)" = 0 ]
nfc_done
