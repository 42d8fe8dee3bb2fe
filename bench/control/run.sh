#!/usr/bin/env bash
# Control-plane benchmark (bench/control/ctlbench.c): builds the plain
# (unsanitized) binaries and prints the table. Root; a quiet machine.
set -eu
cd "$(dirname "$0")/../.."
make --no-print-directory all >/dev/null
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
exec .output/bin/nfc_ctlbench --bin .output/bin "$@"
