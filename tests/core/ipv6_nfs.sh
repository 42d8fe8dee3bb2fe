#!/usr/bin/env bash
# IPv6 across the NFs in one chain, through nfchaind, in TC and XDP:
#
#   a1 ── 2001:db8:1::/64 ── [dd0, fl0] r1 [fw1, cap0] ── 2001:db8:3::/64 ── c1
#
# the DDoS filter and the filter on the ingress of r1's port p1, the
# firewall and the capture on p3. ping -6 and TCP over IPv6 cross all four
# and the router (neighbour discovery included); each NF's IPv6 verdict is
# checked where it shows: the firewall refuses one TCP port, the filter
# drops one UDP port, the capture's dump holds the ICMPv6 echoes with their
# IPv6 addresses, the DDoS blocklist drops a1's /128 (and not its IPv4).
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
. "$NFC_TOP/nf/router/tests/lib_router.sh"
nfc_setup
T=$(mktemp -d /tmp/nfc-v6nfs.XXXXXX)
test_cleanup() {
	[ -n "$(jobs -p)" ] && kill $(jobs -p) 2>/dev/null
	nfd_test_cleanup
	rm -rf "$T"
}

PA=ra$NFC_ID PC=rc$NFC_ID
rt_host a1 198.51.100.2/26 198.51.100.1 "$PA"
rt_host c1 203.0.113.2/26 203.0.113.1 "$PC"
rt_host6 a1 2001:db8:1::2/64 2001:db8:1::1
rt_host6 c1 2001:db8:3::2/64 2001:db8:3::1
A1=2001:db8:1::2 C1=2001:db8:3::2
nfd_start || { not_ok "nfchaind starts"; exit 1; }

# KiB of data over TCP/IPv6 from $1 to $2's PORT: true if it arrived whole.
tcp6() { # from to port
	local f=$T/tcp6 data pid
	data=$(head -c 30000 /dev/urandom | base64 -w0)
	: >"$f"
	in_host "$2" timeout 8 nc -6 -l -p "$3" >"$f" &
	pid=$!
	sleep 0.3
	echo "$data" | in_host "$1" timeout 5 nc -6 -w 3 -q 1 "$C1" "$3" 2>/dev/null
	wait "$pid"
	[ "$(cat "$f")" = "$data" ]
}

# One UDP datagram from a1 to c1's PORT over IPv6: true if it arrived.
udp6() { # port
	local f=$T/udp6 pid
	: >"$f"
	in_host c1 timeout 3 nc -6 -u -l -p "$1" >"$f" &
	pid=$!
	sleep 0.3
	echo "v6-$1" | in_host a1 timeout 2 nc -6 -u -w 1 -q 1 "$C1" "$1" 2>/dev/null
	wait "$pid"
	grep -q "v6-$1" "$f"
}

no_tcp6() { ! tcp6 "$@"; }
no_udp6() { ! udp6 "$@"; }
no_ping6() { ! ping6 "$@"; }
ping6() { q_host a1 ping -6 -c "${1:-1}" -i 0.2 -W 1 "$C1"; }
ping4() { q_host a1 ping -c 1 -W 2 "$RT_C1"; }

# Transparent NFs first, then the router they are attached to.
teardown() { for n in cap0 fw1 fl0 dd0 r1; do nfc $n del >/dev/null 2>&1; done; }

for mode in tc xdp; do
	if ! { nfc router add r1 mode=$mode &&
		nfc r1 ports add p1 peer=$PA ip=198.51.100.1/26 ip6=2001:db8:1::1/64 &&
		nfc r1 ports add p3 peer=$PC ip=203.0.113.1/26 ip6=2001:db8:3::1/64 &&
		nfc ddos add dd0 mode=$mode &&
		nfc attach dd0 r1:p1 direction=ingress position=first &&
		nfc filter add fl0 mode=$mode "expr=ip6 and udp dst port 7777" action=drop &&
		nfc attach fl0 r1:p1 direction=ingress &&
		nfc firewall add fw1 mode=$mode default=accept &&
		nfc attach fw1 r1:p3 direction=both &&
		nfc fw1 rules add 10 action=drop dir=out dst=2001:db8:3::/64 proto=tcp dport=5003 &&
		nfc capture add cap0 mode=$mode "filter=icmp6 and ip6[40] < 130" &&
		nfc attach cap0 r1:p3 direction=both; } >"$T/setup" 2>&1; then
		not_ok "$mode: set up r1 with dd0, fl0, fw1, cap0 ($(tail -1 "$T/setup"))"
		teardown
		continue
	fi

	nfc cap0 dump seconds=6 >"$T/cap.pcap" 2>"$T/cap.end" &
	dp=$!
	sleep 0.5
	# The first ping waits for neighbour discovery on both sides.
	check "$mode: ping -6 a1 -> c1 through dd0, fl0, r1, fw1, cap0" \
		q_host a1 ping -6 -c 3 -i 0.3 -W 3 "$C1"
	wait "$dp"
	tcpdump -r "$T/cap.pcap" -nn 2>/dev/null >"$T/cap.txt"
	req=$(grep -c "$A1 > $C1: ICMP6, echo request" "$T/cap.txt")
	rep=$(grep -c "$C1 > $A1: ICMP6, echo reply" "$T/cap.txt")
	other=$(grep -vc "ICMP6, echo" "$T/cap.txt")
	check "$mode: cap0's IPv6 dump: $req echo requests, $rep replies, $other other (want 3, 3, 0: its filter keeps echoes only)" \
		[ "$req" = 3 ] && check "$mode: cap0's IPv6 dump: $req echo requests, $rep replies, $other other (want 3, 3, 0: its filter keeps echoes only)" [ "$rep" = 3 ] && check "$mode: cap0's IPv6 dump: $req echo requests, $rep replies, $other other (want 3, 3, 0: its filter keeps echoes only)" [ "$other" = 0 ]

	check "$mode: TCP over IPv6 a1 -> c1 port 5002" tcp6 a1 c1 5002
	check "$mode: TCP over IPv6 to port 5003 refused by fw1" \
		no_tcp6 a1 c1 5003
	hits=$(nfc -j fw1 rules show | jq -r '.[] | select(.rule == "10") | .packets')
	check "$mode: fw1's IPv6 rule counted the refused SYNs (${hits:-none})" [ "${hits:-0}" -ge 1 ]

	check "$mode: UDP over IPv6 to port 7778 passes fl0" udp6 7778
	check "$mode: UDP over IPv6 to port 7777 dropped by fl0" no_udp6 7777
	n=$(nfc -j fl0 show stats | jq -r '.stats.dropped // .dropped // 0')
	check "$mode: fl0 counted the IPv6 drop ($n)" [ "${n:-0}" -ge 1 ]

	check "$mode: dd0 blocklist add a1's /128" nfc dd0 blocklist add $A1/128
	check "$mode: ping -6 a1 -> c1 dropped by dd0's blocklist" no_ping6 2
	check "$mode: a1's IPv4 still passes dd0" ping4
	n=$(nfc -j dd0 show stats | jq -r '.stats.dropped.blocklist // .dropped.blocklist // 0')
	check "$mode: dd0 counted blocklist drops ($n)" [ "${n:-0}" -ge 2 ]
	nfc dd0 blocklist del $A1/128
	check "$mode: ping -6 a1 -> c1 again after the blocklist entry is gone" ping6 2
	teardown
done
nfc_done
