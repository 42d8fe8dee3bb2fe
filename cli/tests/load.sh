#!/usr/bin/env bash
# 8 CLI clients making 100 changes each at the same time: every call is
# answered (exit 0, or 1 with the daemon's refusal, never "cannot reach"),
# nothing crashes, and the final state is what the successful calls say.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }
CLIENTS=8 CHANGES=100

client() { # C: counter lcC, then 99 config changes; logs "i rc mark"
	local c=$1 i mark
	nfc counter add "lc$c" >/dev/null 2>>"$NFD_DIR/err$c"
	echo "1 $? -" >>"$NFD_DIR/log$c"
	for i in $(seq 2 $CHANGES); do
		mark=$(((c * 7 + i) % 256))
		nfc "lc$c" set mark=$mark >/dev/null 2>>"$NFD_DIR/err$c"
		echo "$i $? $mark" >>"$NFD_DIR/log$c"
	done
}

t0=$(date +%s.%N)
pids=()
for c in $(seq $CLIENTS); do
	client "$c" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t1=$(date +%s.%N)
calls=$(cat "$NFD_DIR"/log* | wc -l)
okc=$(cat "$NFD_DIR"/log* | awk '$2 == 0' | wc -l)
echo "# $calls calls in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s, $okc succeeded"
check "every call answered ($calls of $((CLIENTS * CHANGES)))" [ "$calls" = $((CLIENTS * CHANGES)) ]
check "no call failed to reach the daemon" [ -z "$(cat "$NFD_DIR"/err* | grep -i 'cannot reach')" ]
check "no exit status other than 0 and 1" [ -z "$(cat "$NFD_DIR"/log* | awk '$2 != 0 && $2 != 1')" ]
check "the daemon is alive" kill -0 "$NFD_PID"
bad=0
for c in $(seq $CLIENTS); do
	want=$(awk '$2 == 0 && $3 != "-" { m = $3 } END { print m }' "$NFD_DIR/log$c")
	got=$(nfc -j "lc$c" show | jget "['config']['mark']")
	[ "$want" = "$got" ] || { echo "# lc$c: mark $got, last successful set $want"; bad=1; }
done
check "final state matches the last successful call of each client" [ $bad = 0 ]
# Saved = state.json with its journal replayed, as the next start reads it.
check "the saved state equals the running state" \
	[ "$(export_state)" = "$(nfd_saved)" ]
nfd_stop
check "nfchaind stops cleanly" [ $? = 0 ]
nfc_done
