#!/usr/bin/env bash
# A mode change the kernel refuses changes nothing (issue 13: "a refused
# change changes nothing"). A forwarder f in front of a bridge b (both in
# mode auto, so in TC on veths) between hosts A and B: `f set mode=xdp`
# moves b along, and b's XDP program is refused (its program arrays were
# made for TC). Before, the way back left f's XDP program pinned in the TC
# chain: traffic stopped, every later change failed ("write hop 0:
# Invalid argument"), and neither a restarted nfchaind nor nfctl could
# open the pin root again. The refusal also said why, not libbpf's empty
# log header.
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfc_two_hosts
nfd_start || { not_ok "nfchaind starts"; exit 1; }
quiet nfc forwarder add f && quiet nfc f ports add p1 peer=$VA &&
	quiet nfc f ports add p2 && quiet nfc bridge add b &&
	quiet nfc b ports add u peer=f:p2 && quiet nfc b ports add v peer=$VB ||
	{ not_ok "forwarder f and bridge b between A and B"; exit 1; }
ping_ab() { ip netns exec "$A" ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null; }
check "A pings B through f and b" ping_ab
before=$(export_state)
out=$(nfc f set mode=xdp 2>&1)
check "f set mode=xdp is refused: ${out:0:160}" grep -q "refused" <<<"$out"
check "... saying why, not an empty log" grep -q "verifier accepted it" <<<"$out"
check "... export unchanged" [ "$(export_state)" = "$before" ]
check "... A still pings B" ping_ab
check "... a later change is taken (a counter)" quiet nfc counter add k
check "... and deleted" quiet nfc k del
nfd_kill9
check "nfchaind starts again on the pins (kill -9)" nfd_start
check "... A pings B" ping_ab
check "... export as before" [ "$(export_state)" = "$before" ]
check "nfctl opens the pin root" quiet nfctl show
nfc_done
