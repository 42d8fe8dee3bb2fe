#!/usr/bin/env bash
# The NAT through nfchaind and the CLI: the issue's commands; every bad
# input of the issue refused with exit 1 and a message naming the field,
# nothing changed; rules show, mappings show, the counters in show stats.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }

check "nat add nat0 ports=1024-65535 timeout_tcp=7440 timeout_udp=300" \
	nfc nat add nat0 ports=1024-65535 timeout_tcp=7440 timeout_udp=300
check "rules add 10 type=masquerade src=198.51.100.0/24" \
	nfc nat0 rules add 10 type=masquerade src=198.51.100.0/24
check "rules add 20 type=snat src=198.51.100.128/25 to=203.0.113.20-203.0.113.23" \
	nfc nat0 rules add 20 type=snat src=198.51.100.128/25 to=203.0.113.20-203.0.113.23
check "rules add 30 type=dnat proto=tcp dport=8080 to=198.51.100.10:80" \
	nfc nat0 rules add 30 type=dnat proto=tcp dport=8080 to=198.51.100.10:80

refused() { # what pattern args...
	local what=$1 pat=$2 rc
	shift 2
	nfc "$@" >/dev/null 2>"$NFD_DIR/err"
	rc=$?
	check "$what: refused, exit 1, names '$pat' ($(head -c 100 "$NFD_DIR/err" | tr '\n' ' '))" \
		bash -c "[ $rc = 1 ] && grep -q -- '$pat' '$NFD_DIR/err'"
}
refused "to= IPv6 on an IPv4 match" "family" nat0 rules add 40 type=snat src=198.51.100.0/24 to=2001:db8::1
refused "dnat without to=" "needs to=" nat0 rules add 41 type=dnat proto=tcp dport=80
refused "reversed dport range" "reversed" nat0 rules add 42 type=dnat proto=tcp dport=90-80 to=198.51.100.10
refused "reversed to= address range" "reversed" nat0 rules add 43 type=snat to=203.0.113.9-203.0.113.1
# An empty value unsets a field (back to its default), as in every set.
ports_now() { nfc export | jq -r '.nfs[] | select(.name=="nat0") | .config.ports // "default"'; }
check "set ports=2000-3000" nfc nat0 set ports=2000-3000
refused "an empty value of no field (a typo)" "portz" nat0 set portz=
check "set ports= unsets it" nfc nat0 set ports=
check "... the default again ($(ports_now))" [ "$(ports_now)" = 1024-65535 ]
refused "reversed port range (ports=)" "reversed" nat0 set ports=2000-1000
refused "a taken rule number" "exists already" nat0 rules add 10 type=masquerade
# Found by a helper: taken, where 0.0.0.0 was refused.
refused "snat to a multicast address" "multicast" nat0 rules add 44 type=snat to=224.0.0.1
refused "snat to the broadcast address" "broadcast" nat0 rules add 45 type=snat to=255.255.255.255
refused "snat to a loopback address" "loopback" nat0 rules add 46 type=snat to=127.0.0.1
refused "dnat to a multicast address" "multicast" nat0 rules add 47 type=dnat proto=udp dport=53 to=224.0.0.1
refused "an snat range into 127/8" "loopback" nat0 rules add 48 type=snat to=126.255.255.250-127.0.0.2
refused "masquerade with to=" "to=" nat0 rules add 44 type=masquerade to=203.0.113.1
refused "an unknown type" "type" nat0 rules add 45 type=fullcone
refused "a list of prefixes in src=" "one prefix a rule" nat0 rules add 49 type=snat src=198.51.100.0/25,198.51.100.128/25 to=203.0.113.1
refused "a rule number with a leading zero" "write it as 46" nat0 rules add 046 type=masquerade
refused "a delete by a leading-zero number" "write it as 10" nat0 rules del 010
# Found by a helper: the range was taken and its first port alone kept.
refused "dnat to a port range" "one port" nat0 rules add 50 type=dnat proto=tcp dport=80 to=198.51.100.10:80-90
n=$(nfc -j nat0 rules show | jq length)
check "nothing changed: 3 rules ($n)" [ "$n" = 3 ]
got=$(nfc -j nat0 show | jq -r '.config.ports // .nfs[0].config.ports // empty' 2>/dev/null)
check "ports unchanged (${got:-?})" [ "${got:-1024-65535}" = 1024-65535 ]
got=$(nfc -j nat0 rules show | jq -r '.[] | select(.rule=="20") | .to')
check "rule 20's to= shown as given ($got)" [ "$got" = "203.0.113.20-203.0.113.23" ]
got=$(nfc -j nat0 rules show | jq -r '.[] | select(.rule=="30") | .to')
check "rule 30's to= shown as given ($got)" [ "$got" = "198.51.100.10:80" ]
# The columns follow the rule's declared fields, whichever rule names a
# field first (they came in the order rules first named them).
hdr=$(nfc nat0 rules show | head -1 | tr -s ' ')
check "rules show: columns in the declaration's order ($hdr)" \
	[ "$hdr" = "RULE TYPE SRC PROTO DPORT TO" ]
check "mappings show (empty)" [ "$(nfc -j nat0 mappings show | jq length)" = 0 ]
check "mappings import --replace: refused (made by traffic)" \
	refused "mappings: made by traffic the rules translate, not imported" \
	nfc nat0 mappings import --replace -f /dev/null
got=$(nfc -j nat0 show stats | jq -r '.stats.nat.exhausted // .nat.exhausted')
check "show stats has the NAT's counters (exhausted $got)" [ "$got" = 0 ]
# A refused import changes nothing, the NAT's pinned maps included (found
# by a helper: imported rule by rule, its first rules were written to the
# spare half of nat_rules and nat_set's generation moved, voiding the flow
# cache, before the undo); an accepted one switches once.
natmaps() { python3 "$NFC_TOP/daemon/tests/mapsum.py" $(find "$NFC_PIN" -path "*-nat0/map/nat_rules" -o -path "*-nat0/map/nat_set" -o -path "*-nat0/map/nat_rec" | sort); }
natgen() { bpftool -j map dump pinned "$(find "$NFC_PIN" -path "*-nat0/map/nat_set")" | jq '.[0].formatted.value.gen'; }
natmaps >"$NFD_DIR/nm0"
printf '60 type=snat to=203.0.113.82\n61 type=dnat proto=tcp dport=80 to=198.51.100.70:99999\n' >"$NFD_DIR/bad.rules"
for rep in "" --replace; do
	refused "an import${rep:+ $rep} whose line 2 is bad" "line 2" nat0 rules import $rep -f "$NFD_DIR/bad.rules"
done
natmaps >"$NFD_DIR/nm1"
check "... nat_rules, nat_set and the record as they were" cmp -s "$NFD_DIR/nm0" "$NFD_DIR/nm1"
# (a helper) a set over the limit named the line of the key the message's
# figures spelt: the line of the first rule over it, in matching order.
awk 'BEGIN { for (i = 1; i <= 70; i++) printf "%d type=snat to=203.0.113.82\n", (71 - i) * 10 }' >"$NFD_DIR/many.rules"
refused "70 rules, numbered downwards: the 65th by number (650) is on line 6" \
	"line 6: NF nat0: rule 650: the NAT holds at most 64 rules (70 given)" \
	nat0 rules import --replace -f "$NFD_DIR/many.rules"
natmaps >"$NFD_DIR/nm1"
check "... nat_rules, nat_set and the record as they were" cmp -s "$NFD_DIR/nm0" "$NFD_DIR/nm1"
g0=$(natgen)
printf '60 type=snat to=203.0.113.82\n61 type=dnat proto=tcp dport=80 to=198.51.100.70:99\n' >"$NFD_DIR/good.rules"
check "an import of 2 rules" nfc nat0 rules import -f "$NFD_DIR/good.rules"
g1=$(natgen)
check "... switched in at once: nat_set's generation $g0 -> $g1" [ "$g1" = $((g0 + 1)) ]
check "... 5 rules now" [ "$(nfc -j nat0 rules show | jq length)" = 5 ]
check "rules del 60" nfc nat0 rules del 60
check "rules del 61" nfc nat0 rules del 61
check "rules del 20" nfc nat0 rules del 20
# apply --dry-run agrees with apply: a bad rule in a document is refused
# by the check before anything changes (found by a helper: the dry run
# printed a plan).
nfc export | jq '(.nfs[] | select(.name == "nat0") | .collections.rules["30"]) = {"type": "dnat", "to": "198.51.100.66:99999"}' >"$NFD_DIR/d.json"
check "apply --dry-run of a dnat rule to port 99999: refused" refused "99999" nfc apply --dry-run -f "$NFD_DIR/d.json"
check "nat0 del" nfc nat0 del
nfc_done
