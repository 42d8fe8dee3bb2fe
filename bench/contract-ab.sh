#!/usr/bin/env bash
# A/B of a change to the data-plane contract (bpf/nfchain.bpf.h) without a
# rebuild: the forwarder is compiled against a modified copy of the header
# in DIR, loaded as a type of its own (`types load`), and a chain of N of
# them is timed beside a chain of N built-in forwarders in the same
# nfcb micro run (BPF_PROG_TEST_RUN ns/packet, as bench/run's micro table),
# base, variant, base again, so that a loaded machine disturbs both alike.
#
#   bash bench/contract-ab.sh DIR [N] [RUNS]   (root; `make all` first)
#
# DIR holds nfchain.bpf.h (and common.h if changed); it is searched before
# bpf/. The variant binds the pinned shared maps by name like any NF, so it
# may change code, not their layout: a map it renames is its own, one per
# instance, which is enough to time a layout but leaves the counters that
# `show` reads at zero. JIT=OUT also writes the second NF's nfc_entry to OUT:
# xlated.txt (bpftool) and jited.txt (the raw image, disassembled by objdump).
# Prints nfcb's JSON lines and the ns a hop of each chain over its first NF.
#
# DIR may instead be another built checkout (it has .output/bin/nfchaind):
# then the variant is that tree's own daemon and built-in forwarder, with a
# pin root of its own, so that a change of the shared maps' layout (which
# no loaded type can bind) is timed the same way, in the same nfcb run.
# Its two chains live under two daemons and may not be placed alike: its
# own A/A (two identical trees) is the noise to beat (docs/performance.md).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/.output/bin nfcb=$top/.output/bench/nfcb
dir=${1:?usage: contract-ab.sh DIR [N] [RUNS]}
n=${2:-16} runs=${3:-5}
tree=
if [ -x "$dir/.output/bin/nfchaind" ]; then
	tree=$(cd "$dir" && pwd)
elif [ ! -f "$dir/nfchain.bpf.h" ]; then
	echo "contract-ab: $dir: neither nfchain.bpf.h nor a built tree" >&2
	exit 2
fi
case $n in *[!0-9]* | '') n=0 ;; esac
if [ "$n" -lt 2 ] || [ "$n" -gt 32 ]; then
	echo "contract-ab: N=${2:-}: want 2..32 (NFC_MAX_DEPTH)" >&2
	exit 2
fi
id=$$ ns=nfcab$$ tmp=$(mktemp -d /tmp/nfc-cab.XXXXXX)
pin=/sys/fs/bpf/nfc-t$id-cab
cleanup() {
	local p
	for p in ${pid:-} ${pid2:-}; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$pin" "$pin-b" "$tmp"
}
trap cleanup EXIT
for h in xdp tc; do
	[ -z "$tree" ] || break
	clang -target bpf -mcpu=v3 -O2 -g -Wall -Werror -I"$dir" -I"$top/.output" \
		-I"$top/bpf" -I/usr/include/"$(uname -m)"-linux-gnu \
		-D__TARGET_ARCH_x86 -DNFC_HOOK_"${h^^}" \
		-c "$top/nf/forwarder/forwarder.bpf.c" -o "$tmp/fx.$h.bpf.o"
done
ip netns add "$ns"
for p in a b c d; do
	ip -n "$ns" link add "${p}i" type veth peer name "${p}j"
	ip -n "$ns" link set "${p}i" up
	ip -n "$ns" link set "${p}j" up
done
ip netns exec "$ns" "$bin/nfchaind" --socket "$tmp/s" --state-dir "$tmp/st" \
	--pin-root "$pin" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 50); do [ -S "$tmp/s" ] && break; sleep 0.1; done
c() { "$bin/nfchain" --socket "$tmp/s" "$@" >/dev/null; }
vtype=fxab
if [ -n "$tree" ]; then
	ip netns exec "$ns" "$tree/.output/bin/nfchaind" --socket "$tmp/s2" \
		--state-dir "$tmp/st2" --pin-root "$pin-b" >"$tmp/log2" 2>&1 &
	pid2=$!
	for _ in $(seq 50); do [ -S "$tmp/s2" ] && break; sleep 0.1; done
	c2() { "$tree/.output/bin/nfchain" --socket "$tmp/s2" "$@" >/dev/null; }
	vtype=forwarder
else
	c2() { c "$@"; }
	c types load "$tmp/fx.xdp.bpf.o" name=fxab
fi
chain() { # TYPE PREFIX IN OUT [CLI]
	local i c=${5:-c}
	for ((i = 1; i <= n; i++)); do $c "$1" add "$2$i" mode=xdp; done
	$c "$2$n" ports add p2 peer="$4"
	for ((i = n; i > 1; i--)); do
		$c "$2$((i - 1))" ports add p2
		$c "$2$i" ports add p1 peer="$2$((i - 1)):p2"
	done
	$c "${2}1" ports add p1 peer="$3"
}
chain forwarder f ai bi
chain "$vtype" x ci di c2
ip netns exec "$ns" "$nfcb" micro --repeat 1000000 --runs "$runs" \
	--case "base-$n:$n:ai:4" --case "variant-$n:$n:ci:4" \
	--case "base2-$n:$n:ai:4" | tee "$tmp/micro.jsonl"
if [ -n "${JIT:-}" ]; then
	mkdir -p "$JIT"
	# The daemon's bpffs is in its own mount namespace (ip netns exec).
	jp=${pid2:-$pid}
	d=$(nsenter -t "$jp" -m sh -c "ls -d $pin${tree:+-b}/nf/*-x2")
	nsenter -t "$jp" -m bpftool prog dump xlated pinned "$d/prog" >"$JIT/xlated.txt"
	nsenter -t "$jp" -m python3 "$top/bench/jit-image.py" "$d/prog" "$JIT/jited.bin"
	objdump -b binary -m i386:x86-64 -D "$JIT/jited.bin" >"$JIT/jited.txt"
fi
# The variant's median against the mean of the two base rows' medians, over
# the N - 1 hops between NFs (the first NF of each chain is attached to its
# netdev directly, the same in both).
python3 - "$tmp/micro.jsonl" "$n" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["case"].split("-")[0]] = statistics.median(r["kernel_ns"])
n = int(sys.argv[2])
base = (rows["base"] + rows["base2"]) / 2
print(f"chain of {n}: base {base:.0f} ns, variant {rows['variant']:.0f} ns: "
      f"{(rows['variant'] - base) / (n - 1):+.2f} ns a hop")
PY
