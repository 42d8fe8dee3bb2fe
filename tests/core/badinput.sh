#!/usr/bin/env bash
# Bad input: each refusal names the object and the reason, and the running
# state (the exported document, the pins, the attached programs) is exactly
# what it was.
. "$(dirname "$0")/../lib.sh"
nfc_setup
nfc_two_hosts
ip link add xa$NFC_ID type veth peer name xb$NFC_ID
NFC_LINKS+=(xa$NFC_ID)

nfctl forwarder add f1
nfctl f1 ports add p1 peer=$VA
nfctl f1 ports add p2 peer=$VB
# f2 states xdp: the refusals below are about native XDP and mixed hooks
nfctl forwarder add f2 mode=xdp
nfctl f2 ports add p1
nfctl counter add c1
nfctl attach c1 $VA

snapshot() {
	nfctl export
	find "$NFC_PIN" | sort
	# This test's own netdevs only: other tests may run beside it.
	for l in $VA $VB xa$NFC_ID dm$NFC_ID; do
		ip -d link show dev $l 2>/dev/null | grep -o 'prog/xdp id [0-9]*'
	done
}
before=$(snapshot)

bad() { # name pattern args...
	local name=$1 pat=$2; shift 2
	check "$name" refused "$pat" nfctl "$@"
	check "$name: nothing changed" [ "$(snapshot)" = "$before" ]
}

bad "unknown netdev" "port p2 of f2: peer veth9nope does not exist" f2 ports add p2 peer=veth9nope
bad "duplicate NF" "NF f1 already exists" forwarder add f1
bad "duplicate port" "port p1 of f1 already exists" f1 ports add p1
bad "port already connected" "port p1 of f1: already connected to $VA" connect f1:p1 $VB
bad "netdev already a peer" "peer $VB is already the peer of port p2 of f1" connect f2:p1 $VB
bad "unknown NF type" "unknown type 'nosuchnf'" nosuchnf add n1
bad "name not fit for a pin path" "character '/' not allowed" forwarder add a/b
bad "name with dots" "character '.' not allowed" forwarder add ..
bad "name too long" "longer than 31" forwarder add aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
bad "port name not of the type" "a forwarder has ports named p1" f2 ports add p7
bad "unknown mode" "mode 'fast' is not auto, xdp, xdp-generic or tc" forwarder add f9 mode=fast
bad "unknown field" "NF f9: unknown field 'speed'" forwarder add f9 speed=3
bad "wrong type" "field 'mark': wrong type|is not" counter add c9 mark=abc
bad "out of range" "field 'mark': 300 is outside 0..255" counter add c9 mark=300
nfctl forwarder add ftc mode=tc >/dev/null
before=$(snapshot)
bad "link across hook types" "must share a hook type" ftc ports add p1 peer=f2:p1
bad "attach a non-transparent NF" "not a transparent NF" attach f2 $VA
# One NF of a chain set to the other hook while an NF attached to it
# states its own (nfctl said "unknown field 'mode'" to any set mode=).
nfctl ftc ports add p2 >/dev/null
nfctl counter add ct1 mode=tc >/dev/null
nfctl attach ct1 ftc:p2 >/dev/null
before=$(snapshot)
bad "set mode= on an NF whose attached NF states the other hook" \
	"ct1, attached to ftc:p2, is mode tc but the chain there \(ftc\) is mode xdp.*give ct1 mode=auto" ftc set mode=xdp
check "nfctl set mode=: ct1 to mode auto" nfctl ct1 set mode=auto
check "... then ftc set mode=xdp moves both" nfctl ftc set mode=xdp
check "... ct1 follows to XDP" [ "$(nfctl -j show | jq -r '.nfs[] | select(.name == "ct1") | .hook')" = xdp ]
nfctl ct1 del >/dev/null
nfctl ftc set mode=tc >/dev/null
nfctl ftc ports del p2 >/dev/null
before=$(snapshot)
bad "attach twice" "already attached there" attach c1 $VA
bad "position after an NF not there" "f2 is not attached to $VB" attach c1 $VB position=after=f2
bad "unknown NF" "NF nope does not exist" nope del
bad "ports on a transparent NF" "NF c1 is transparent" c1 ports add p1
# Native XDP on a netdev without it (a Linux bridge device has none): the
# error says what to use instead.
ip link add dm$NFC_ID type bridge
NFC_LINKS+=(dm$NFC_ID)
before=$(snapshot)
bad "no native XDP: suggests xdp-generic" "use mode=xdp-generic" f2 ports add p2 peer=dm$NFC_ID

# (a helper) messages that spoke of what the user did not type, and
# input taken that should not be.
nfctl bridge add bq
nfctl ddos add dq
nfctl router add rq
before=$(snapshot)
bad "flush of a collection without one: said so" "routes of rq has no flush" rq routes del all
bad "attach to a netdev that does not exist: a netdev, not a peer" "attach c1 to nosuch$NFC_ID: netdev nosuch$NFC_ID does not exist" attach c1 nosuch$NFC_ID
bad "a number with a blank before it" "' 5' is not a number" c1 set "mark= 5"
bad "a VLAN list with a VLAN twice" "field 'allowed': 10 is given twice" bq ports add p1 allowed=10,10
# (a helper) an empty member was dropped: 10,,20 taken as 10,20.
bad "a VLAN list with an empty member" "field 'allowed': '' is not a number" bq ports add p1 allowed=10,,20
bad "a VLAN list ending in a comma" "field 'allowed': '' is not a number" bq ports add p1 allowed=10,20,
bad "until= without expires=" "until= goes with expires=" dq blocklist add 203.0.113.0/28 until=5
bad "a forwarder's port names, all of them" "ports named p1, p2 only" f1 ports add p3
# A cap on the saved state under a page is the cap (it was dropped for
# 1 GiB without a word: found by a helper); one that is no number is
# said so.
size=$(nfctl export | jq -c . | wc -c)
before=$(snapshot)
check "NFC_STATE_MAX=$((size + 10)): a counter more is refused, named" \
	refused "larger than the $((size + 10)) bytes" env NFC_STATE_MAX=$((size + 10)) \
	"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" counter add cap1
check "... nothing changed" [ "$(snapshot)" = "$before" ]
check "NFC_STATE_MAX=12k: said to be no number of bytes" \
	sh -c "NFC_STATE_MAX=12k '$NFC_BIN/nfctl' --pin-root '$NFC_PIN' counter add cap2 2>&1 >/dev/null | grep -q \"NFC_STATE_MAX='12k' is not a number of bytes\""
nfctl cap2 del >/dev/null
# (a helper) an explicit xdp-generic NF attached where a native XDP chain
# hooks was taken silently: it ran native, and show said xdp-generic.
nfctl forwarder add fg mode=xdp >/dev/null && nfctl fg ports add p1 peer=xb$NFC_ID >/dev/null
nfctl counter add cg mode=xdp-generic >/dev/null
before=$(snapshot)
bad "an xdp-generic NF attached on a native chain's netdev" \
	"xb$NFC_ID: cg \(mode xdp-generic\) and fg \(mode xdp\) hook the same netdev in different modes" \
	attach cg xb$NFC_ID
nfctl cg del >/dev/null
nfctl fg del >/dev/null
# The limit on NFs is named when hit, and nothing changes.
have=$(nfctl export | jq '.nfs | length')
for i in $(seq $((256 - have))); do
	"$NFC_BIN/nfctl" --pin-root "$NFC_PIN" counter add k$i >/dev/null || { not_ok "add counter k$i"; break; }
done
before=$(snapshot)
bad "the NF limit (256) is named" "limit of 256 NFs reached \(NFC_MAX_NFS\)" counter add one-too-many
# (a helper) an apply that keeps 256 NFs, one of another type, was told
# the limit was reached: said as it is.
nfctl export | jq '(.nfs[] | select(.name == "k1")).type = "forwarder"' >"/tmp/nfc-retype-$NFC_ID.json"
bad "at the limit, a retype in one apply: the two steps it needs are named" \
	"NF k1: 256 NFs run, the limit \(NFC_MAX_NFS\), and an NF this change deletes or replaces keeps its slot" \
	apply -f "/tmp/nfc-retype-$NFC_ID.json"
rm -f "/tmp/nfc-retype-$NFC_ID.json"
nfc_done
