#!/usr/bin/env bash
# The filter NF through nfchaind and the nfchain CLI: an expression libpcap
# refuses is refused with libpcap's message and exit status 1, on add and
# on set, and changes nothing; a good one is taken and shown; stats carry
# the filter's counters.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
# The one expression whose translation the daemon cuts short, so that the
# verifier refuses it (lib/cbpf.c: no real expression is known to).
export NFC_TEST_CBPF_REFUSE='udp port 4242'
nfd_start || { not_ok "nfchaind starts"; exit 1; }

check "add with a syntax error: libpcap's message" \
	refused "syntax error" nfc filter add f0 "expr=tcp port"
nfc filter add f0 "expr=tcp port" >/dev/null 2>&1
check "... exit status 1" [ $? = 1 ]
check "... and no NF f0" [ "$(nfc -j show | jq '[.nfs[]? | select(.name == "f0")] | length')" = 0 ]
check "add an unknown host: libpcap's message" \
	refused "unknown host" nfc filter add f0 "expr=host no-such-host.invalid"
check "add a protochain: refused, saying why" \
	refused "protochain" nfc filter add f0 "expr=ip6 protochain 6"
# inbound reads the packet socket's packet type: its load was past the
# frame's end, so it never matched, silently.
check "add inbound: refused, saying why" \
	refused "only a packet socket knows.*inbound/outbound" nfc filter add f0 "expr=inbound"
check "add f0 expr='not (udp port 53)'" nfc filter add f0 "expr=not (udp port 53)"
check "action other than drop|keep refused" refused "action" nfc f0 set action=pass
check "set expr with a syntax error: libpcap's message" \
	refused "syntax error" nfc f0 set "expr=udp and"
check "... the expression is unchanged" \
	[ "$(nfc -j f0 show | jq -r .config.expr)" = "not (udp port 53)" ]
check "set expr the verifier refuses: the verifier's reason" \
	refused "translated filter: the verifier refused it" nfc f0 set "expr=udp port 4242"
check "... the expression is unchanged" \
	[ "$(nfc -j f0 show | jq -r .config.expr)" = "not (udp port 53)" ]
check "add with an expression the verifier refuses: refused, no NF f9" \
	refused "translated filter: the verifier refused it" nfc filter add f9 "expr=udp port 4242"
check "... no NF f9" [ "$(nfc -j show | jq '[.nfs[]? | select(.name == "f9")] | length')" = 0 ]
check "set expr='udp or icmp6' action=keep" nfc f0 set "expr=udp or icmp6" action=keep
check "... shown" [ "$(nfc -j f0 show | jq -r '.config.expr + " " + .config.action')" = "udp or icmp6 keep" ]
check "stats: matched, dropped, no_filter" \
	[ "$(nfc -j f0 show | jq -r '.stats | [.matched, .dropped, .no_filter] | join(",")')" = 0,0,0 ]
nfc_done
