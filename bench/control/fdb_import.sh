#!/usr/bin/env bash
# Time of a bridge FDB import of N static entries (default 1000 10000
# 100000), each into an empty bridge, with the plain binaries; prints a
# table. It runs its own nfchaind on a private socket, state dir and pin
# root, and removes them at the end. Root; bpffs.
#   bench/control/fdb_import.sh [N...]
set -eu
cd "$(dirname "$0")/../.."
BIN=${NFC_BIN:-$PWD/.output/bin}
[ $# -gt 0 ] || set -- 1000 10000 100000
. bench/control/lib_daemon.sh
bench_daemon fdbbench
printf '%-10s %12s %14s\n' entries "import (ms)" "per entry (us)"
for n in "$@"; do
	python3 -c "
for i in range($n):
    print('02:00:%02x:%02x:%02x:01 port=p1' % (i >> 16 & 255, i >> 8 & 255, i & 255))" >"$dir/fdb.txt"
	nfc fb0 del >/dev/null 2>&1 || true
	nfc bridge add fb0 mode=xdp-generic >/dev/null
	nfc fb0 ports add p1 >/dev/null
	t0=$(date +%s%N)
	if nfc fb0 fdb import -f "$dir/fdb.txt" >/dev/null; then
		t=$((($(date +%s%N) - t0) / 1000))
		printf '%-10s %12.1f %14.2f\n' "$n" "$(echo "$t / 1000" | bc -l)" \
			"$(echo "$t / $n" | bc -l)"
	else
		printf '%-10s %12s\n' "$n" FAILED
	fi
done
