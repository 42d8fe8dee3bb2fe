#!/usr/bin/env bash
# Installs every Debian package nfchain needs to build, test, benchmark and
# demo. Idempotent: it asks apt only for what is missing, so `make` can call
# it on every run at almost no cost.
set -euo pipefail

PKGS=(
  clang llvm clang-format make gcc pkg-config
  libbpf-dev bpftool libxdp-dev libelf-dev zlib1g-dev
  libjansson-dev libmicrohttpd-dev libyaml-dev libcurl4-openssl-dev libpcap-dev
  iproute2 iputils-ping ethtool netcat-openbsd iperf3 traceroute tcpdump
  gnuplot-nox procps psmisc jq python3 python3-scapy curl iptables nftables util-linux
  tshark xdp-tools
)

# Optional groups, installed only when asked for (`deps.sh GROUP...`): big
# packages one test needs, kept out of every `make`.
#   promtool  Prometheus' checker of /metrics (daemon/tests/metrics.sh).
#             Debian ships it only in `prometheus`, the whole server
#             (~100 MB; where systemd runs, installing it starts it).
for g in "$@"; do
  case "$g" in
    promtool) PKGS+=(prometheus) ;;
    *) echo "deps: unknown group '$g' (groups: promtool)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs is not mounted at boot on these machines.
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
  mount -t bpf bpf /sys/fs/bpf
fi
