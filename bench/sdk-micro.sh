#!/usr/bin/env bash
# The example NF of the SDK (sdk/examples/ttl), loaded at run time, beside
# the built-in forwarder: BPF_PROG_TEST_RUN ns/packet of the program
# attached to each one's ingress netdev (nfcb micro, as bench/run's micro
# table), on a 64-byte IPv4/UDP frame. Both in XDP mode, each between its
# own pair of veths in a private namespace, driven by a private nfchaind.
#   bash bench/sdk-micro.sh [REPEAT] [RUNS]      (root; `make all` first)
# Indicative only on a shared machine: compare the two rows of one run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/.output/bin nfcb=$top/.output/bench/nfcb
repeat=${1:-1000000} runs=${2:-5}
id=$$ ns=nfsdkb$$ tmp=$(mktemp -d /tmp/nfc-sdkb.XXXXXX)
pin=/sys/fs/bpf/nfc-t$id-sdkb
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$pin" "$tmp"
}
trap cleanup EXIT
make -s -C "$top" install-sdk PREFIX="$tmp/p" >/dev/null
cp "$tmp/p/share/nfchain/examples/ttl/"* "$tmp/"
PKG_CONFIG_PATH=$tmp/p/lib/pkgconfig make -s -C "$tmp" >/dev/null
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
n() { "$bin/nfchain" --socket "$tmp/s" "$@"; }
n types load "$tmp/ttl.bpf.o"
# ttl_dec=0: the test run hands the program the same frame every time, so
# a real decrement would reach 0 and drop; the rewrite and checksum are done
# all the same.
n ttl add t0 mode=xdp ttl_dec=0 && n t0 ports add p1 peer=ai && n t0 ports add p2 peer=bi
n forwarder add f0 mode=xdp && n f0 ports add p1 peer=ci && n f0 ports add p2 peer=di
ip netns exec "$ns" "$nfcb" micro --repeat "$repeat" --runs "$runs" \
	--case "forwarder (built in):1:ci:4" --case "ttl (loaded):1:ai:4"
