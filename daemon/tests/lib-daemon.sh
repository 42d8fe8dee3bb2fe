# Helpers for the daemon and CLI tests (sourced; the runner skips lib*.sh).
# Each test runs its own nfchaind on a private socket, state dir and pin
# root, never the defaults: a demo may be running on this machine.
#   nfd_start [ARGS]   start nfchaind, wait until it answers
#   nfd_stop           SIGTERM, wait; returns its exit status
#   nfd_kill9          kill -9, wait
#   nfc ARGS...        the CLI on the test's daemon
#   api METHOD PATH [BODY]  curl; prints "STATUS BODY"
#   export_state       nfchain export (JSON, keys sorted)
#   log_has PATTERN    the daemon's log has a matching line (waits up to 15 s)
#   nfd_saved          the saved state: state.json + state.journal
# shellcheck source=../../tests/lib.sh
. "$NFC_TOP/tests/lib.sh"

NFD_DIR=$(mktemp -d /tmp/nfd-t.XXXXXX)
NFD_SOCK=$NFD_DIR/nfchaind.sock
NFD_STATE=$NFD_DIR/state
NFD_LOG=$NFD_DIR/nfchaind.log
NFD_PID=

nfd_start() {
	"$NFC_BIN/nfchaind" --socket "$NFD_SOCK" --state-dir "$NFD_STATE" \
		--pin-root "$NFC_PIN" "$@" >>"$NFD_LOG" 2>&1 &
	NFD_PID=$!
	for _ in $(seq 100); do
		if [ -S "$NFD_SOCK" ] && nfc show >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$NFD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# nfchaind did not come up; log:"
	sed 's/^/#   /' "$NFD_LOG" | tail -20
	return 1
}

nfd_stop() {
	local rc=0
	[ -n "$NFD_PID" ] || return 0
	kill "$NFD_PID" 2>/dev/null
	wait "$NFD_PID" || rc=$?
	NFD_PID=
	return $rc
}

nfd_kill9() {
	[ -n "$NFD_PID" ] || return 0
	kill -9 "$NFD_PID" 2>/dev/null
	wait "$NFD_PID" 2>/dev/null
	NFD_PID=
}

nfc() { "$NFC_BIN/nfchain" --socket "$NFD_SOCK" "$@"; }
quiet() { "$@" >/dev/null 2>&1; }

api() { # METHOD PATH [BODY] -> "STATUS BODY"
	local out
	if [ $# -ge 3 ]; then
		out=$(curl -s -o - -w '\n%{http_code}' --unix-socket "$NFD_SOCK" \
			-X "$1" -H 'Content-Type: application/json' \
			--data-binary "$3" "http://nfchaind$2")
	else
		out=$(curl -s -o - -w '\n%{http_code}' --unix-socket "$NFD_SOCK" \
			-X "$1" "http://nfchaind$2")
	fi
	echo "$(tail -n1 <<<"$out") $(head -n -1 <<<"$out" | tr -d '\n')"
}

# The saved state as a start reads it (state.json and its journal), JSON
# with sorted keys; and a sum of the two files, which any save changes.
nfd_saved() { python3 "$NFC_TOP/daemon/tests/saved.py" "$NFD_STATE"; }
nfd_saved_sum() { cat "$NFD_STATE/state.json" "$NFD_STATE/state.journal" 2>/dev/null | md5sum; }

export_state() { nfc export | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))'; }
# Whether the daemon's log has a line matching PATTERN, waiting up to 15 s.
log_has() {
	for _ in $(seq 150); do
		grep -q "$1" "$NFD_LOG" && return 0
		sleep 0.1
	done
	return 1
}

# A JSON field of stdin: jget '["nfs"][0]["name"]'
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

nfd_test_cleanup() {
	if [ -n "$NFD_PID" ]; then
		kill "$NFD_PID" 2>/dev/null
		wait "$NFD_PID" 2>/dev/null
	fi
	if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$NFD_LOG" 2>/dev/null; then
		echo "# sanitizer report in the daemon log:"
		grep -A20 'ERROR: AddressSanitizer\|runtime error:' "$NFD_LOG" | sed 's/^/#   /' | head -40
	fi
	rm -rf "$NFD_DIR"
}
test_cleanup() { nfd_test_cleanup; }

# nfc_two_hosts under the daemon tests' names: namespaces $NFD_H1 and
# $NFD_H2 (198.51.100.1 and .2), root-side veths $NFD_IF1 and $NFD_IF2.
nfd_hosts() {
	nfc_two_hosts
	NFD_H1=$A NFD_H2=$B NFD_IF1=$VA NFD_IF2=$VB
}
