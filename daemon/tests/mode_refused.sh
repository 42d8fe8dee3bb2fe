#!/usr/bin/env bash
# Moving NFs between hooks, and a move the kernel refuses (issue 13: "a
# refused change changes nothing"). A forwarder f in front of a bridge b,
# both in mode auto, between hosts A and B.
# - f set mode=xdp takes b along and back (mode tc): the bridge's XDP
#   object has a map of its own (br_flood), and a capture's jump table
#   was made for the hook it left; both were refused before.
# - with a port of b on a netdev without native XDP (a Linux bridge
#   device), f set mode=xdp is refused after f was loaded in XDP. Before,
#   the way back kept f's XDP program in the TC chain: traffic stopped,
#   every later change failed ("write hop 0: Invalid argument"), and no
#   nfchaind or nfctl could open the pin root again.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfc_two_hosts
BR=nbr$NFC_ID
NFC_LINKS+=("$BR")
nfd_start || { not_ok "nfchaind starts"; exit 1; }
quiet nfc forwarder add f && quiet nfc f ports add p1 peer=$VA &&
	quiet nfc f ports add p2 && quiet nfc bridge add b &&
	quiet nfc b ports add u peer=f:p2 && quiet nfc b ports add v peer=$VB &&
	quiet nfc capture add c && quiet nfc attach c f:p1 direction=both &&
	quiet nfc filter add fl expr='udp port 9999' &&
	quiet nfc attach fl f:p1 direction=ingress ||
	{ not_ok "forwarder f, bridge b, capture c, filter fl between A and B"; exit 1; }
ping_ab() { ip netns exec "$A" ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null; }
hook_of() { nfc -j show | jq -r --arg n "$1" '.nfs[] | select(.name == $n) | .hook'; }
check "A pings B through f, c, fl and b" ping_ab
check "f set mode=xdp" quiet nfc f set mode=xdp
check "... b, c and fl follow to XDP ($(hook_of b), $(hook_of c), $(hook_of fl))" \
	[ "$(hook_of b)" = xdp ] && check "... b, c and fl follow to XDP ($(hook_of b), $(hook_of c), $(hook_of fl))" [ "$(hook_of c)" = xdp ] && check "... b, c and fl follow to XDP ($(hook_of b), $(hook_of c), $(hook_of fl))" [ "$(hook_of fl)" = xdp ]
check "... A pings B" ping_ab
check "f set mode=auto: back to TC" quiet nfc f set mode=auto
check "... b, c and fl follow ($(hook_of b), $(hook_of c), $(hook_of fl))" \
	[ "$(hook_of b)" = tc ] && check "... b, c and fl follow ($(hook_of b), $(hook_of c), $(hook_of fl))" [ "$(hook_of c)" = tc ] && check "... b, c and fl follow ($(hook_of b), $(hook_of c), $(hook_of fl))" [ "$(hook_of fl)" = tc ]
check "... A pings B" ping_ab

ip link add "$BR" type bridge && ip link set "$BR" up
check "a port of b on a Linux bridge device (no native XDP)" quiet nfc b ports add w peer=$BR
before=$(export_state)
out=$(nfc f set mode=xdp 2>&1)
check "f set mode=xdp is refused: ${out:0:120}" grep -q "no native XDP" <<<"$out"
check "... export unchanged" [ "$(export_state)" = "$before" ]
check "... f runs in TC ($(hook_of f))" [ "$(hook_of f)" = tc ]
check "... A still pings B" ping_ab
check "... a later change is taken (a counter)" quiet nfc counter add k
check "... and deleted" quiet nfc k del
nfd_kill9
check "nfchaind starts again on the pins (kill -9)" nfd_start
check "... A pings B" ping_ab
check "... export as before" [ "$(export_state)" = "$before" ]
check "nfctl opens the pin root" quiet nfctl show

# A daemon killed in the middle of a mode change can leave an NF's pinned
# program of the other hook under a model that names the old one (found
# by a helper: every start after failed, "write hop 0: Invalid
# argument"). Made here by swapping the pinned programs of f (TC) and g
# (XDP): the start loads each again for its own hook.
quiet nfc forwarder add g mode=xdp
before=$(export_state)
nfd_kill9
pf=$(echo "$NFC_PIN"/nf/*-f/prog) pg=$(echo "$NFC_PIN"/nf/*-g/prog)
mv "$pf" "${pf}x" && mv "$pg" "$pf" && mv "${pf}x" "$pg" # bpffs takes no dot in a name
ptype() { bpftool -j prog show pinned "$1" | jq -r .type; }
check "f's pin holds an XDP program, g's a TC one ($(ptype "$pf"), $(ptype "$pg"))" \
	[ "$(ptype "$pf") $(ptype "$pg")" = "xdp sched_cls" ]
check "nfchaind starts on those pins" nfd_start
check "... f and g loaded again for their hooks ($(ptype "$pf"), $(ptype "$pg"))" \
	[ "$(ptype "$pf") $(ptype "$pg")" = "sched_cls xdp" ]
check "... A pings B" ping_ab
check "... export as before" [ "$(export_state)" = "$before" ]
# A veth at MTU 9,000 takes no XDP program (a frame must fit a page): the
# kernel says only ERANGE, which the refusal used to pass on bare.
J=njm$NFC_ID
NFC_LINKS+=("$J")
ip link add "$J" mtu 9000 type veth peer name "${J}p" mtu 9000 && ip link set "$J" up
before=$(export_state)
out=$(nfc forwarder add j mode=xdp 2>&1 && nfc j ports add p1 peer=$J 2>&1)
check "a port on a veth at MTU 9000 in mode=xdp is refused: ${out:0:140}" \
	grep -q "MTU 9000 is too large for XDP.*mode=tc" <<<"$out"
quiet nfc j del
check "... export as before" [ "$(export_state)" = "$before" ]
check "... mode=tc takes it" quiet nfc forwarder add j mode=tc
check "... with the port" quiet nfc j ports add p1 peer=$J
# One NF of a chain set to the other hook while an NF attached to it
# states its own: refused. A helper met the refusal speaking of an attach
# never made, with no way out named.
check "a counter k in mode=tc attached to j:p1" quiet sh -c \
	"'$NFC_BIN/nfchain' --socket '$NFD_SOCK' counter add k mode=tc &&
	 '$NFC_BIN/nfchain' --socket '$NFD_SOCK' attach k j:p1"
before=$(export_state)
out=$(nfc j set mode=xdp 2>&1)
check "j set mode=xdp refused, naming k, its mode and the way out: ${out:0:200}" \
	grep -q "k, attached to j:p1, is mode tc but the chain there (j) is mode xdp.*give k mode=auto" <<<"$out"
check "... export as before" [ "$(export_state)" = "$before" ]
nfc_done
