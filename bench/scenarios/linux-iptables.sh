# ip_forward plus N iptables rules in FORWARD that the traffic must walk and
# that never match (each checks UDP destination ports we do not send), then
# accept. The firewall NF will name this as its Linux counterpart. Variants
# are rule counts: NFCB_RULES="10 1000" bench/run linux-iptables-10 ...
SCN_GROUP=linux
SCN_ORDER=12
SCN_NEEDS="iptables"
SCN_COUNTERPART=linux-forward

scn_variants() { echo "${NFCB_RULES:-100}"; }
SCN_DESC="ip_forward + $SCN_ARG iptables rules ($(iptables_cmd))"

scn_setup() {
	local n=$SCN_ARG i
	dut_router || return 1
	{
		echo "*filter"
		echo ":FORWARD ACCEPT [0:0]"
		for ((i = 0; i < n; i++)); do
			echo "-A FORWARD -d 203.0.113.128/25 -p udp -m udp --dport $((30000 + i)) -j DROP"
		done
		echo "COMMIT"
	} >"$TMP/iptables.rules"
	dut "$(iptables_cmd)-restore" <"$TMP/iptables.rules"
}

scn_teardown() { dut "$(iptables_cmd)" -F FORWARD; }
