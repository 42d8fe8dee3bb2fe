#!/usr/bin/env bash
# action=reject with the firewall attached to a netdev itself (not to an
# NF port), direction=ingress: the server's own veth, in its namespace,
# where the firewall is
# run (nsenter --net, README). The hook's way on is the server's stack, so
# the RST answering a rejected SYN must go back out of the netdev: it went
# up the server's stack instead, and the client's connect timed out.
# The client's stack is the oracle: "Connection refused" at once. Port
# 8081 is not rejected (a listener answers); in tc and xdp.
. "$(dirname "$0")/../../../tests/lib.sh"
nfc_setup

S=$(nfc_ns s)
C=$(nfc_ns c)
ip link add fs$NFC_ID type veth peer name fc$NFC_ID
ip link set fs$NFC_ID netns "$S"
ip link set fc$NFC_ID netns "$C"
ip -n "$S" addr add 198.51.100.1/30 dev fs$NFC_ID
ip -n "$C" addr add 198.51.100.2/30 dev fc$NFC_ID
ip -n "$S" link set fs$NFC_ID up
ip -n "$C" link set fc$NFC_ID up
# Native XDP on a veth wants GRO on and checksum offload off at the peer.
ip netns exec "$C" ethtool -K fc$NFC_ID gro on tx off >/dev/null 2>&1
ip netns exec "$S" ethtool -K fs$NFC_ID gro on tx off >/dev/null 2>&1

nfs() { nsenter --net=/var/run/netns/"$S" "$NFC_BIN/nfctl" --pin-root "$NFC_PIN" "$@"; }
test_cleanup() {
	nfs reset >/dev/null 2>&1
	[ -n "${LP:-}" ] && kill "$LP" 2>/dev/null
}

# A listener on 8080 and 8081: without the firewall the server's own stack
# would accept both, so a refusal on 8080 comes from the firewall.
ip netns exec "$S" python3 -c '
import socket, select
ls = []
for p in (8080, 8081):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.51.100.1", p))
    s.listen(16)
    ls.append(s)
while True:
    r, _, _ = select.select(ls, [], [], 60)
    if not r:
        break
    for s in r:
        s.accept()[0].close()' &
LP=$!
sleep 0.5

probe() { # port: the client's nc verdict and its time in ms
	local t0 t1 m
	t0=$(date +%s%N)
	m=$(ip netns exec "$C" timeout 5 nc -v -z -w 3 198.51.100.1 "$1" 2>&1 | tail -1)
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)) $m"
}

for mode in tc xdp; do
	if ! { nfs firewall add fn0 mode=$mode &&
		nfs attach fn0 fs$NFC_ID direction=ingress &&
		nfs fn0 rules add 10 action=reject proto=tcp dport=8080; }; then
		not_ok "$mode: fn0 attached to the netdev with a reject rule"
		nfs reset >/dev/null 2>&1
		continue
	fi
	r=$(probe 8080)
	check "$mode: TCP to 8080 rejected: Connection refused at once ($r)" \
		grep -q "Connection refused" <<<"$r"
	ms=${r%% *}
	check "$mode: ... within a second ($ms ms)" [ "${ms:-9999}" -lt 1000 ]
	r=$(probe 8081)
	check "$mode: TCP to 8081 accepted ($r)" grep -qE "succeeded|open" <<<"$r"
	hits=$(nfs -j fn0 show rules | jq '[.[] | select(.rule == "10") | .packets] | add // 0')
	check "$mode: rule 10 counted the SYN ($hits)" [ "${hits:-0}" -ge 1 ]
	nfs reset >/dev/null
done
# A mode change keeps what the firewall holds (runtime.md: a reload, maps
# kept): it was replaced by a new NF, its connections, rule hits and
# counters gone, and established flows then met a table without them.
udp3() { ip netns exec "$C" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 40222))
for _ in range(3):
    s.sendto(b"x", ("198.51.100.1", 9))'; }
hits() { nfs -j fn1 show rules | jq '[.[] | select(.rule == "30") | .packets] | add // 0'; }
ctp() { nfs -j fn1 show conntrack | jq '[.[] | select(.sport == 40222) | .packets_orig] | add // 0'; }
if nfs firewall add fn1 mode=tc && nfs attach fn1 fs$NFC_ID direction=ingress &&
	nfs fn1 rules add 30 action=accept proto=udp; then
	udp3
	dir0=$(ls "$NFC_PIN/nf")
	# nfctl has no `set mode=`: the daemon's is an apply of the edited
	# export, as here.
	mode_to() { nfs export | jq --arg m "$1" '(.nfs[] | select(.name == "fn1") | .mode) = $m' | nfs apply -f - >/dev/null; }
	# Straight between the two XDP modes both ways: the native program
	# must be off the netdev before the generic one goes on (it once
	# lingered, "XDP is taken by program nfc_direct", 3 in 40 flips).
	for m in xdp xdp-generic xdp tc xdp-generic; do
		check "fn1 to mode $m (apply)" mode_to $m
		check "... its pins stay ($(ls "$NFC_PIN/nf" | tr '\n' ' '))" [ "$(ls "$NFC_PIN/nf")" = "$dir0" ]
		udp3
	done
	check "rule 30 counted the datagrams of all six runs ($(hits))" [ "$(hits)" = 18 ]
	check "... one connection counted them all ($(ctp))" [ "$(ctp)" = 18 ]
else
	not_ok "fn1 attached to the netdev"
fi
nfs reset >/dev/null
nfc_done
