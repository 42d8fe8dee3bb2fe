#!/usr/bin/env bash
# An 802.1ad (QinQ) S-tagged frame is untagged payload to the bridge
# (README, "Limits"), in every mode: flooded in the access ports' VLAN
# with its S-tag and C-tag as they came. In TC the stack had moved the
# S-tag into the skb, where the bridge read it as a C-tag and dropped the
# frame as tagged on an access port (found by a helper; BPF_PROG_TEST_RUN
# keeps tags in the data, so the data-plane tests could not see it).
. "$(dirname "$0")/lib-bridge.sh"
nfc_setup
PY=/usr/bin/python3
SRC=02:66:00:00:00:01

for m in ${BR_MODES:-xdp xdp-generic tc}; do
	case $m in xdp) t=x ;; xdp-generic) t=g ;; tc) t=t ;; esac
	BR_TAG=q$t
	HOSTNS=()
	br_host a "q$NFC_ID${t}a"
	br_host b "q$NFC_ID${t}b"
	nf=Q$t
	if ! { nfctl bridge add "$nf" mode="$m" &&
		nfctl "$nf" ports add pa peer="q$NFC_ID${t}a" &&
		nfctl "$nf" ports add pb peer="q$NFC_ID${t}b"; } >/dev/null; then
		not_ok "$m: a bridge of two access ports (VLAN 1)"
		continue
	fi
	d0=$(br_stat "$nf" dropped.vlan)
	hexec b timeout 10 tcpdump -l -nn -e -i eth0 -c 3 "ether src $SRC" \
		>"$BR_TMP/q.$t" 2>/dev/null &
	tp=$!
	sleep 1.5
	hexec a $PY -c "
from scapy.all import Ether, Dot1AD, Dot1Q, Raw, sendp
sendp(Ether(src='$SRC', dst='ff:ff:ff:ff:ff:ff') / Dot1AD(vlan=100) /
      Dot1Q(vlan=5) / Raw(b'x' * 40), iface='eth0', count=3, verbose=0)"
	wait "$tp"
	n=$(grep -c "0x88a8.*vlan 100.*vlan 5" "$BR_TMP/q.$t")
	check "$m: 3 S-tagged frames flooded to the other port, both tags kept ($n)" \
		[ "$n" = 3 ]
	check "$m: ... none counted a VLAN drop ($d0 -> $(br_stat "$nf" dropped.vlan))" \
		[ "$(br_stat "$nf" dropped.vlan)" = "$d0" ]
	nfctl "$nf" del >/dev/null
done
nfc_done
