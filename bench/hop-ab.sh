#!/usr/bin/env bash
# A/B of the cost of a hop over several chain lengths, repeated over fresh
# setups. Where 32 programs' JIT images land moves a chain of 32 by ±2.5 ns
# a hop between identical builds (docs/performance.md), so one setup says
# little: every repeat loads every variant anew (new images, new places),
# builds a chain of each length of each, times them all in one `nfcb
# micro` run (cases interleaved) and fits a slope per variant; the order of
# the variants alternates between repeats.
#
#   bash bench/hop-ab.sh [-r REPEATS] [-k RUNS] [-l LENGTHS] VARIANT...
#        (root; `make all` first; defaults 6, 3, "1 8 16 24 32")
#
# VARIANT is `forwarder` (this tree's built-in one), a DIR holding a
# modified nfchain.bpf.h (searched before bpf/; the forwarder is compiled
# against it and loaded as a type of its own, as in contract-ab.sh), or
# SRC.bpf.c:DIR to compile another forwarder source against DIR's header.
# A `+FLAGS` tail adds clang flags to the variant (e.g. `bpf+-mcpu=v2`).
# Prints each repeat's slopes, then per variant the median slope and the
# median ns of each length.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/.output/bin nfcb=$top/.output/bench/nfcb
reps=6 runs=3 lens="1 8 16 24 32"
while getopts r:k:l: o; do
	case $o in
	r) reps=$OPTARG ;;
	k) runs=$OPTARG ;;
	l) lens=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: hop-ab.sh [-r N] [-k N] [-l LENGTHS] VARIANT..." >&2; exit 2; }
[ "$(wc -w <<<"$lens")" -ge 2 ] || { echo "hop-ab: -l: want two lengths or more (a slope)" >&2; exit 2; }
for n in $lens; do
	case $n in *[!0-9]* | '') n=0 ;; esac
	if [ "$n" -lt 1 ] || [ "$n" -gt 32 ]; then
		echo "hop-ab: length $n: want 1..32 (NFC_MAX_DEPTH)" >&2
		exit 2
	fi
done
tmp=$(mktemp -d /tmp/nfc-hab.XXXXXX)
ns='' pid='' pin=''
teardown() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; }
	[ -z "$ns" ] || ip netns del "$ns" 2>/dev/null
	[ -z "$pin" ] || rm -rf "$pin"
	rm -rf "$tmp/st" "$tmp/s" # the next setup starts from nothing
	pid='' ns='' pin=''
}
trap 'teardown; rm -rf "$tmp"' EXIT
c() { "$bin/nfchain" --socket "$tmp/s" "$@" >/dev/null; }

# One setup: every variant, every length, one nfcb run; "VARIANT|json" lines.
setup_and_time() {
	local v t=0 src dir fl n i p types=() cases=()
	ns=nfhab$$ pin=/sys/fs/bpf/nfc-hab$$
	ip netns add "$ns"
	ip netns exec "$ns" "$bin/nfchaind" --socket "$tmp/s" --state-dir "$tmp/st" \
		--pin-root "$pin" >"$tmp/log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do [ -S "$tmp/s" ] && break; sleep 0.1; done
	for v in "$@"; do
		if [ "$v" = forwarder ]; then
			types+=(forwarder)
			continue
		fi
		src=$top/nf/forwarder/forwarder.bpf.c dir=${v%%+*} fl=
		case $v in *+*) fl=${v#*+} ;; esac
		case $dir in *:*) src=${dir%%:*} dir=${dir#*:} ;; esac
		# shellcheck disable=SC2086 # FLAGS are words
		clang -target bpf -mcpu=v3 -O2 -g -Wall -Werror $fl -I"$dir" \
			-I"$top/.output" -I"$top/bpf" -I/usr/include/"$(uname -m)"-linux-gnu \
			-D__TARGET_ARCH_x86 -DNFC_HOOK_XDP -c "$src" -o "$tmp/v$t.bpf.o"
		c types load "$tmp/v$t.bpf.o" name=hab$t
		types+=("hab$t")
		t=$((t + 1))
	done
	for t in "${!types[@]}"; do
		for n in $lens; do
			p=v${t}n$n
			ip -n "$ns" link add "${p}i" type veth peer name "${p}j"
			ip -n "$ns" link add "${p}o" type veth peer name "${p}p"
			for i in i j o p; do ip -n "$ns" link set "$p$i" up; done
			for ((i = 1; i <= n; i++)); do c "${types[$t]}" add "${p}f$i" mode=xdp; done
			c "${p}f$n" ports add p2 peer="${p}o"
			for ((i = n; i > 1; i--)); do
				c "${p}f$((i - 1))" ports add p2
				c "${p}f$i" ports add p1 peer="${p}f$((i - 1)):p2"
			done
			c "${p}f1" ports add p1 peer="${p}i"
		done
	done
	for n in $lens; do
		for t in "${!types[@]}"; do cases+=(--case "$t-$n:$n:v${t}n${n}i:4"); done
	done
	ip netns exec "$ns" "$nfcb" micro --repeat 1000000 --runs "$runs" "${cases[@]}" |
		while read -r line; do
			t=$(sed -n 's/^{"case":"\([0-9]*\)-.*/\1/p' <<<"$line")
			[ -z "$t" ] || echo "$((t + 1))|$line"
		done
	teardown
}

for ((r = 0; r < reps; r++)); do
	order=("$@")
	if ((r % 2)); then
		order=()
		for ((i = $#; i >= 1; i--)); do order+=("${!i}"); done
	fi
	echo "repeat $((r + 1))/$reps, $(cut -d' ' -f1-3 /proc/loadavg): ${order[*]}" >&2
	# Not in a pipeline: the daemon and namespace it makes must be this
	# shell's, for the trap to remove them on Ctrl-C.
	setup_and_time "${order[@]}" >"$tmp/one"
	while IFS='|' read -r t line; do
		echo "${order[$((t - 1))]}|$r|$line"
	done <"$tmp/one" >>"$tmp/all"
done
python3 - "$tmp/all" "$@" <<'PY'
import json, statistics as st, sys
rows = {}
for l in open(sys.argv[1]):
    v, r, js = l.rstrip("\n").split("|", 2)
    j = json.loads(js)
    rows.setdefault(v, {}).setdefault(int(r), {})[j["hops"]] = st.median(j["kernel_ns"])
def slope(pts):
    xs = sorted(pts); ys = [pts[x] for x in xs]
    mx, my = st.mean(xs), st.mean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
for v in sys.argv[2:]:
    reps = rows[v]
    slopes = [slope(reps[r]) for r in sorted(reps)]
    lens = sorted(next(iter(reps.values())))
    med = " ".join(f"{n}:{st.median(reps[r][n] for r in reps):.0f}" for n in lens)
    print(f"{v}: slope median {st.median(slopes):.2f} ns a hop "
          f"[{' '.join(f'{s:.1f}' for s in slopes)}]; median ns {med}")
PY
