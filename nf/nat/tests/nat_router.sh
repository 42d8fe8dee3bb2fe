#!/usr/bin/env bash
# The NAT with real traffic: a1 (198.51.100.2) behind r1:p1, c1
# (203.0.113.2) outside on r1:p3 with no route back to 198.51.100.0/24
# (its default route deleted), nat0 on r1:p3 masquerading the inside
# (r1:p3 is 203.0.113.1). Ping and TCP from a1 to c1 work only
# through the translation; a port forward (dnat 203.0.113.1:8080 ->
# a1:8000) reaches python3 -m http.server on a1; mappings show lists them.
. "$(dirname "$0")/../../../tests/lib.sh"
. "$(dirname "$0")/../../router/tests/lib_router.sh"
nfc_setup

rt_hosts
ip -n "$(rt_ns c1)" route del default
check "c1 has no route back to 198.51.100.0/24" \
	bash -c "! ip -n $(rt_ns c1) route get 198.51.100.2 >/dev/null 2>&1"
# XDP: the kernel refuses the program in this setting (README, not done).
for mode in tc; do
	if ! { nfctl router add r1 mode=$mode &&
		nfctl r1 ports add p1 peer=$PA ip=198.51.100.1/26 &&
		nfctl r1 ports add p3 peer=$PC ip=203.0.113.1/26 &&
		nfctl nat add nat0 mode=$mode &&
		nfctl attach nat0 r1:p3 direction=both &&
		nfctl nat0 rules add 10 type=dnat proto=tcp dport=8080 to=198.51.100.2:8000 &&
		nfctl nat0 rules add 20 type=masquerade src=198.51.100.0/24; }; then
		not_ok "$mode: set up r1 and nat0 on r1:p3"
		nfctl reset
		continue
	fi
	nfc_slowpath_start /dev/null # the router's ARP
	check "$mode: ping a1 -> c1 through the masquerade" \
		q_host a1 ping -c 2 -i 0.2 -W 2 $RT_C1
	check "$mode: TCP a1 -> c1" rt_tcp a1 c1 $RT_C1
	# UDP on the wire through the router is not checked yet: a first
	# try got no answer, not debugged in time (README).
	in_host a1 python3 -m http.server 8000 --bind 198.51.100.2 >/dev/null 2>&1 &
	hp=$!
	for _ in $(seq 100); do
		in_host a1 ss -ltn | grep -q ':8000 ' && break
		sleep 0.1
	done
	body=$(in_host c1 curl -s -m 5 http://203.0.113.1:8080/ | head -c 200)
	kill $hp 2>/dev/null
	wait $hp 2>/dev/null
	check "$mode: port forward 203.0.113.1:8080 reaches a1's http.server" \
		grep -q "Directory listing" <<<"$body"
	m=$(nfctl -j nat0 mappings show)
	n=$(jq '[.[] | select(.type=="masquerade" and (.outside | startswith("203.0.113.1:")))] | length' <<<"$m")
	d=$(jq '[.[] | select(.type=="dnat" and .outside=="203.0.113.1:8080")] | length' <<<"$m")
	check "$mode: mappings show: masquerade ($n) and dnat ($d) entries" \
		[ "${n:-0}" -ge 2 ] && [ "${d:-0}" -ge 1 ]
	nfc_slowpath_stop
	nfctl reset >/dev/null
done
nfc_done
