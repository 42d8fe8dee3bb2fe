# ip_forward plus IPVS (what issue 17 compares the lb with): NAT mode, one
# VIP (203.0.113.128:20000/udp, the generator's first destination) to 10
# backends (203.0.113.140-149, routed to the sink), Maglev scheduler (mh)
# where the kernel has it. The harness skips it, with the reason, on a
# kernel without IPVS: "not available on this kernel (CONFIG_IP_VS
# unset)"; linux-nft-dnat is then the Linux side of the comparison.
# Never run here (this kernel has no IPVS): the setup is ipvsadm's
# documented NAT (masquerading) configuration.
SCN_GROUP=linux
SCN_ORDER=15
SCN_NEEDS="ipvs ipvsadm"
SCN_COUNTERPART=linux-forward
SCN_DESC="ip_forward + IPVS NAT to 10 backends (ipvsadm)"

scn_setup() {
	local b sched=mh
	dut_router || return 1
	dut ipvsadm -A -u 203.0.113.128:20000 -s "$sched" 2>/dev/null ||
		dut ipvsadm -A -u 203.0.113.128:20000 -s sh || return 1
	for b in 140 141 142 143 144 145 146 147 148 149; do
		dut ipvsadm -a -u 203.0.113.128:20000 -r 203.0.113.$b:20000 -m || return 1
	done
}

scn_teardown() { dut ipvsadm -C; }
