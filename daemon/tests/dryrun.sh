#!/usr/bin/env bash
# apply --dry-run refuses what the apply refuses, and the apply refuses
# it before it changes anything. The NF's own checks of an entry (an lb
# backend's service, a route's next hop, a bridge entry's port, a ddos
# limit's burst) run against what the document makes: its config, ports
# and other collections, an NF it creates included. Before, a dry run
# checked such entries against their declarations only and printed a
# plan that the apply then refused (found by a helper).
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_start || { not_ok "nfchaind starts"; exit 1; }
quiet nfc counter add c0
base=$(nfc export)
before=$(export_state)
# name, regex of the refusal, jq program adding to the exported state
same_refusal() {
	local name=$1 pat=$2 doc dry real
	doc=$(jq -c "$3" <<<"$base")
	dry=$(nfc apply --dry-run -f - <<<"$doc" 2>&1)
	real=$(nfc apply -f - <<<"$doc" 2>&1)
	check "$name: the dry run refuses ($dry)" grep -Eq "$pat" <<<"$dry"
	check "... as the apply does" [ "$dry" = "$real" ]
	check "... nothing changed" [ "$(export_state)" = "$before" ]
}
same_refusal "a new lb, a backend of no service" "unknown service 203.0.113.100:80/tcp" \
	'.nfs += [{"name":"l0","type":"lb","collections":{"backends":{"203.0.113.100:80/tcp/198.51.100.11":{}}}}]'
same_refusal "a new lb, a table too small for its backends" "table=7 is too small for 1 backends" \
	'.nfs += [{"name":"l0","type":"lb","collections":{"services":{"203.0.113.100:80/tcp":{"table":7}},"backends":{"203.0.113.100:80/tcp/198.51.100.11":{}}}}]'
same_refusal "a new router, a next hop on no subnet" "next hop 203.0.113.9 is not on a connected subnet" \
	'.nfs += [{"name":"r0","type":"router","collections":{"routes":{"198.18.0.0/16":{"nexthop":"203.0.113.9"}}}}]'
same_refusal "a new bridge, an fdb entry on no port" "field 'port': no port 'nope'" \
	'.nfs += [{"name":"b0","type":"bridge","collections":{"fdb":{"02:00:00:00:00:01":{"port":"nope"}}}}]'
same_refusal "a new ddos, a limit whose burst is below its rate" "burst 1 is below the rate" \
	'.nfs += [{"name":"d0","type":"ddos","collections":{"limits":{"0.0.0.0/0":{"pps":10,"burst":1}}}}]'
same_refusal "a new firewall, state= with conntrack off" "state=established needs conntrack=on" \
	'.nfs += [{"name":"f0","type":"firewall","config":{"conntrack":false},"collections":{"rules":{"10":{"action":"accept","state":"established"}}}}]'
# (helpers) the ports of a new NF: the apply checked them as it configured
# the NF, the dry run never did.
same_refusal "a new bridge, a trunk port without an allowed list" "a trunk needs a non-empty allowed list" \
	'.nfs += [{"name":"b0","type":"bridge","ports":[{"name":"p1","config":{"mode":"trunk"}}]}]'
same_refusal "a new router, one subnet on two ports" "overlaps subnet 203.0.113.0/24 of port p1" \
	'.nfs += [{"name":"r9","type":"router","ports":[{"name":"p1","config":{"ip":"203.0.113.1/24"}},{"name":"p2","config":{"ip":"203.0.113.2/24"}}]}]'
# What the document makes is what is checked: its ports, its services.
ok_doc='.nfs += [{"name":"b2","type":"bridge","ports":[{"name":"p1"}]}, {"name":"d2","type":"ddos"},
	{"name":"r0","type":"router","ports":[{"name":"p1","config":{"ip":"203.0.113.1/24"}}],"collections":{"routes":{"198.18.0.0/16":{"nexthop":"203.0.113.9"}}}},
	{"name":"l0","type":"lb","collections":{"services":{"203.0.113.100:80/tcp":{}},"backends":{"203.0.113.100:80/tcp/198.51.100.11":{}}}}]'
check "the same with the port and the service in the document: the dry run plans it" \
	quiet nfc apply --dry-run -f - <<<"$(jq -c "$ok_doc" <<<"$base")"
check "... and the apply takes it" quiet nfc apply -f - <<<"$(jq -c "$ok_doc" <<<"$base")"
base=$(nfc export)
before=$(export_state)
# The same checks on NFs that exist: an entry kept while another
# collection changes is checked again. (A route whose port goes is taken,
# inactive, by both: docs/runtime.md.)
same_refusal "l0's service gone, its backend kept" "service 203.0.113.100:80/tcp" \
	'(.nfs[] | select(.name == "l0")).collections.services = {}'
same_refusal "b2: its port made a trunk without an allowed list" "a trunk needs a non-empty allowed list" \
	'(.nfs[] | select(.name == "b2")).ports[0].config = {"mode":"trunk"}'
# (a helper) a ddos collection over its count was refused by its replace()
# alone, after the collections written before it (a new allowlist, an
# emptied blocklist) had decided packets for half a second; the dry run
# planned it.
same_refusal "d2: a new allowlist and 1,025 IPv4 limits" "limits: 1025 IPv4 entries: at most 1024 a family" \
	'(.nfs[] | select(.name == "d2")).collections = {"allowlist": {"198.51.100.100/32": {}},
	"limits": ([range(1025)] | map({key: "10.\(. / 256 | floor).\(. % 256).0/24", value: {"pps": 9}}) | from_entries)}'
same_refusal "d2: 65,537 IPv4 allowlist prefixes" "allowlist: 65537 IPv4 entries: at most 65536 a family" \
	'(.nfs[] | select(.name == "d2")).collections = {"blocklist": {},
	"allowlist": ([range(65537)] | map({key: "10.\(. / 65536 | floor).\(. / 256 | floor % 256).\(. % 256)/32", value: {}}) | from_entries)}'
same_refusal "r0: a route added on no subnet" "next hop 198.51.100.99 is not on a connected subnet" \
	'(.nfs[] | select(.name == "r0")).collections.routes["198.19.0.0/16"] = {"nexthop":"198.51.100.99"}'
check "a del of the service, its backend with it: planned" \
	quiet nfc apply --dry-run -f - <<<"$(jq -c '(.nfs[] | select(.name == "l0")).collections = {}' <<<"$base")"
# Found by a helper: a document that only reorders the attachments on a
# target was planned and reported as "no changes", and applied.
quiet nfc counter add k1 && quiet nfc counter add k2 && quiet nfc attach k1 r0:p1 &&
	quiet nfc attach k2 r0:p1 position=last
check "k1 then k2 attached on r0:p1" [ $? = 0 ]
rev=$(nfc export | jq -c '.attachments |= reverse')
plan=$(nfc apply --dry-run -f - <<<"$rev" 2>&1)
check "the attachments reversed: the dry run plans the reorder ($plan)" \
	grep -q "reorder the attachments on r0:p1: k2, k1" <<<"$plan"
plan=$(nfc apply -f - <<<"$rev" 2>&1)
pos=$(nfc -j show | jq -c '[.attachments[] | select(.target == "r0:p1") | [.nf, .position]] | sort_by(.[1]) | map(.[0])')
check "... the apply says it and does it ($pos; $plan)" \
	[ "$pos" = '["k2","k1"]' -a -n "$(grep "reorder the attachments on r0:p1" <<<"$plan")" ]
# Found by a helper: a changed entry was planned as "add".
plan=$(nfc apply --dry-run -f - <<<"$(nfc export | jq -c '(.nfs[] | select(.name == "r0")).collections.routes["198.18.0.0/16"].nexthop = "203.0.113.10"')" 2>&1)
check "a route's next hop changed: planned as a change ($plan)" \
	grep -q "change routes 198.18.0.0/16 of r0" <<<"$plan"
# (a helper) an upgraded NF's object of one hook, the document's mode the
# other: planned, and the apply refused after 9-10 s of reloads.
quiet nfc counter add u0 mode=xdp &&
	quiet nfc u0 upgrade -f "$NFC_TOP/.output/bpf/counter.xdp.bpf.o"
check "u0 upgraded to an XDP build" [ $? = 0 ]
base=$(nfc export)
before=$(export_state)
same_refusal "u0 moved to mode=tc with its XDP object" "u0: its object .* is not a TC build" \
	'(.nfs[] | select(.name == "u0")).mode = "tc"'
nfc_done
