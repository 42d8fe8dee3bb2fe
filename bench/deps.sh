#!/usr/bin/env bash
# Packages the benchmarks need on top of scripts/deps.sh: the Linux
# baselines (iptables, nftables) and jq, which turns the harness's JSON into
# tables. Idempotent: apt is asked only for what is missing, so `make bench`
# can call it every time.
set -euo pipefail

# ipset: the firewall's and the ddos scenarios' ipset + iptables baselines.
PKGS=(iptables ipset nftables jq gnuplot-nox ethtool iproute2 util-linux)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep "install ok installed" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
