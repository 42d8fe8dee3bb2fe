#!/usr/bin/env bash
# nat_flows.sh with the router and the NAT in XDP (the data path the
# benchmark measures): the same checks on the same traffic.
NAT_MODE=xdp exec bash "$(dirname "$0")/nat_flows.sh"
