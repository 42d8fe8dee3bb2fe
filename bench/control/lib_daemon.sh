# shellcheck shell=bash
# Shared by the control-plane benchmarks run by hand (coll_add.sh,
# fdb_import.sh, route_fold.sh; sourced after BIN is set): a private
# nfchaind on its own socket, state dir and pin root ($dir and $pin, named
# after NAME), never the defaults a demo may use; removed with
# everything it made at exit. nfc runs the CLI on it. Root; bpffs.
#   bench_daemon NAME
bench_daemon() {
	dir=$(mktemp -d "/tmp/nfc-$1.XXXXXX")
	pin=/sys/fs/bpf/nfc-$1-$$
	pid=
	trap bench_cleanup EXIT
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	"$BIN/nfchaind" --socket "$dir/sock" --state-dir "$dir/state" \
		--pin-root "$pin" >"$dir/log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do nfc show >/dev/null 2>&1 && break; sleep 0.1; done
}

bench_cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	"$BIN/nfchain" --pin-root "$pin" reset >/dev/null 2>&1 || true
	rm -rf "$pin" "$dir"
}

nfc() { "$BIN/nfchain" --socket "$dir/sock" "$@"; }
