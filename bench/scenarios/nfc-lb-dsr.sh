# nfchain's lb NF, forward=dsr: nfc-lb.sh's scenario (see there), each
# frame sent on inside IPIP. The DSR encapsulation's cost beside nfc-lb's
# NAT and nftables' DNAT (linux-nft-dnat), established flows or new ones.
LB_FWD=dsr
# shellcheck source=bench/scenarios/nfc-lb.sh
. "$BENCH_DIR/scenarios/nfc-lb.sh"
