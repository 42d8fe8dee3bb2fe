#!/usr/bin/env bash
# The firewall through nfchaind and the CLI: the issue's commands, word for
# word; a refused rule exits 1 naming its field and changes nothing;
# rules show has packets and bytes; conntrack show and flush.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }

check "firewall add fw0 default=drop conntrack=on" nfc firewall add fw0 default=drop conntrack=on
check "rules add 10 (state=established,related)" nfc fw0 rules add 10 action=accept state=established,related
check "rules add 20 (dir=out proto=tcp dport=80,443)" nfc fw0 rules add 20 action=accept dir=out proto=tcp dport=80,443
check "rules add 30 (src prefix, port range)" nfc fw0 rules add 30 action=drop dir=in src=203.0.113.0/25 proto=udp dport=1000-2000
nfc fw0 rules add 40 action=accept proto=icmp dport=80 >/dev/null 2>"$NFD_DIR/err"
rc=$?
check "a port on icmp refused with exit 1, naming dport= ($(head -c 120 "$NFD_DIR/err"))" \
	bash -c "[ $rc = 1 ] && grep -q 'dport=' '$NFD_DIR/err'"
# A number has one spelling: the model keeps keys as given, and "030"
# beside a later `del 30` named one rule by two keys (the deleted rule
# came back at the next restore).
before=$(nfc export)
nfc fw0 rules add 030 action=drop >/dev/null 2>"$NFD_DIR/err"
rc=$?
check "rule 030 refused with exit 1: write it as 30 ($(head -c 120 "$NFD_DIR/err"))" \
	bash -c "[ $rc = 1 ] && grep -q 'write it as 30' '$NFD_DIR/err'"
printf '10 action=accept\n007 action=drop\n' >"$NFD_DIR/r.txt"
nfc fw0 rules import --replace -f "$NFD_DIR/r.txt" >/dev/null 2>"$NFD_DIR/err"
rc=$?
check "an import with rule 007 refused whole, naming line 2 ($(head -c 120 "$NFD_DIR/err"))" \
	bash -c "[ $rc = 1 ] && grep -q 'line 2: .*write it as 7' '$NFD_DIR/err'"
# The firewall checks a rule set whole (replace()): its errors name the
# line too, as the runtime's own checks do.
printf '# rules\n30 action=drop dir=in proto=udp dport=1000-2000\n40 action=accept proto=tcp dport=99999\n' >"$NFD_DIR/r.txt"
nfc fw0 rules import -f "$NFD_DIR/r.txt" >/dev/null 2>"$NFD_DIR/err"
check "a port outside 0-65535 on line 3: refused, naming it ($(head -c 120 "$NFD_DIR/err"))" \
	grep -q '^nfchain: line 3: NF fw0: rule 40: dport=99999' "$NFD_DIR/err"
check "the export is as before both" [ "$(nfc export)" = "$before" ]
# More rules than the firewall holds: the line named is that of the first
# rule over the limit in matching order (it named line 16384, the limit's
# own figure read as a key). Rules numbered downwards: rule 163850 is the
# 16,385th by number, on line 16.
awk 'BEGIN { for (i = 1; i <= 16400; i++) printf "%d action=drop proto=udp dport=%d\n", (16401 - i) * 10, i }' >"$NFD_DIR/big.txt"
check "an import of 16,400 rules: refused, naming line 16 (rule 163850)" \
	refused "^nfchain: line 16: NF fw0: rule 163850: the firewall holds at most 16384 rules \(16400 given\)" \
	nfc fw0 rules import --replace -f "$NFD_DIR/big.txt"
check "... the export as before" [ "$(nfc export)" = "$before" ]
# (a helper) one rule more into a full set named the highest rule held
# (not given), and no line.
head -n 16384 "$NFD_DIR/big.txt" >"$NFD_DIR/full.txt"
if quiet nfc fw0 rules import --replace -f "$NFD_DIR/full.txt"; then
	full=$(nfc export)
	echo "6 action=accept" >"$NFD_DIR/one.txt"
	check "a rule more into a full set: refused, naming it and its line" \
		refused "^nfchain: line 1: NF fw0: rule 6: the firewall holds at most 16384 rules \(16385 given\)" \
		nfc fw0 rules import -f "$NFD_DIR/one.txt"
	check "... nothing changed" [ "$(nfc export)" = "$full" ]
	quiet nfc apply -f - <<<"$before"
else
	not_ok "import of 16,384 rules"
fi
check "... the rules back as before" [ "$(nfc export)" = "$before" ]
n=$(nfc -j fw0 rules show | jq length)
check "nothing changed: 3 rules ($n)" [ "$n" = 3 ]
got=$(nfc -j fw0 rules show | jq -r '[.[] | has("packets") and has("bytes")] | all')
check "rules show: packets and bytes on every rule ($got)" [ "$got" = true ]
got=$(nfc -j fw0 rules show | jq -r '.[] | select(.rule=="20") | .dport')
check "rule 20's dport shown as given ($got)" [ "$got" = "80,443" ]
check "conntrack show" nfc fw0 conntrack show
check "conntrack flush" nfc fw0 conntrack flush
# (a helper) an empty import --replace said it emptied the table.
check "conntrack import --replace: refused, what empties it named" \
	refused "entries are made by traffic, not imported; 'conntrack del all'" \
	nfc fw0 conntrack import --replace -f /dev/null
# An NF's own error is prefixed with its name once, by the runtime: the
# conntrack helpers used to add it again ("NF fw0: fw0: conntrack key").
nfc fw0 conntrack del foo >/dev/null 2>"$NFD_DIR/err"
rc=$?
check "a malformed conntrack key refused, the NF named once ($(head -c 120 "$NFD_DIR/err"))" \
	bash -c "[ $rc = 1 ] && grep -q 'NF fw0: conntrack key .foo.' '$NFD_DIR/err'"
# apply checks every rule against the document's config before anything
# changes. Before, a document that set default=accept and held a bad rule
# ran with default=accept (reloaded) until the rule's refusal undid it,
# seconds later; and one that turned conntrack off while dropping the
# state= rules was refused over the rules it dropped. (Found by a helper.)
nfc export >"$NFD_DIR/e.json"
doc() { jq "(.nfs[] | select(.name == \"fw0\")) |= ($1)" "$NFD_DIR/e.json" >"$NFD_DIR/d.json"; }
prog_id() { bpftool prog show pinned "$(ls -d "$NFC_PIN"/nf/*-fw0)/prog" | head -1 | cut -d: -f1; }
id0=$(prog_id)
doc '.config.default = "accept" | .collections.rules["50"] = {"action": "accept", "proto": "udp", "dport": "99999"}'
check "apply --dry-run of default=accept and a bad rule 50: refused, naming it" \
	refused "rule 50: dport=99999" nfc apply --dry-run -f "$NFD_DIR/d.json"
check "the apply: refused" refused "rule 50: dport=99999" nfc apply -f "$NFD_DIR/d.json"
check "... before anything changed: the program not reloaded ($id0, $(prog_id))" [ "$(prog_id)" = "$id0" ]
check "... export as before" cmp -s <(nfc export) "$NFD_DIR/e.json"
doc '.config.conntrack = false | .collections.rules = {"10": {"action": "accept", "proto": "udp"}, "20": {"action": "accept", "dir": "out"}}'
check "apply of conntrack=off with rules that have no state=: accepted" quiet nfc apply -f "$NFD_DIR/d.json"
check "... the two rules" [ "$(nfc -j fw0 rules show | jq length)" = 2 ]
check "apply back to the export" quiet nfc apply -f "$NFD_DIR/e.json"
doc '.config.conntrack = false'
check "apply of conntrack=off keeping the state= rules: refused, naming one" \
	refused "rule 10: .*state=" nfc apply -f "$NFD_DIR/d.json"
check "... export as before" cmp -s <(nfc export) "$NFD_DIR/e.json"
check "set conntrack=off with state= rules: still refused" refused "state=" nfc fw0 set conntrack=off
# (a helper) conntrack spelled as a string: the rules were checked against
# the document's spelling, "true" taken for off.
doc '.config.conntrack = "true"'
check "apply of the export with conntrack \"true\": no change" \
	sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' apply -f '$NFD_DIR/d.json' | grep -q 'no changes'"
doc '.config.conntrack = "off"'
check "... with conntrack \"off\" and the state= rules: refused" \
	refused "rule 10: .*state=" nfc apply --dry-run -f "$NFD_DIR/d.json"
check "firewall del" nfc fw0 del
nfc_done
