#!/usr/bin/env bash
# Sharing a netdev with another XDP user (xdp-tools' xdp-filter): nfchain
# in XDP on a netdev whose XDP hook xdp-filter holds is refused, naming it
# and saying what to do, and changes nothing; in mode=tc (tcx) it runs
# beside it: xdp-filter drops UDP port 5555 while nfchain forwards the
# rest, and either one can go without breaking the other.
. "$NFC_TOP/tests/lib.sh"
command -v xdp-filter >/dev/null || { echo "ok - # SKIP xdp-filter not installed (scripts/deps.sh)"; exit 0; }
nfc_setup
quiet() { "$@" >/dev/null 2>&1; }
test_cleanup() { xdp-filter unload "$VA" >/dev/null 2>&1; }
nfc_two_hosts

# B counts the UDP datagrams it gets on ports 5555 and 5556, A sends 5 to
# each: prints "<5555> <5556>".
udp_counts() {
	ip netns exec "$B" python3 -c '
import select, socket, time
s = {p: socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for p in (5555, 5556)}
for p, x in s.items(): x.bind(("198.51.100.2", p))
n = {5555: 0, 5556: 0}
open("/dev/stdout", "w").close()
end = time.time() + 2.5
while time.time() < end:
    r, _, _ = select.select(list(s.values()), [], [], 0.1)
    for x in r:
        x.recv(2048)
        n[x.getsockname()[1]] += 1
print(n[5555], n[5556])' &
	local rx=$! i
	# Until B listens: under a loaded CI its Python took longer than
	# the 0.7 s this slept, and the first datagram to 5556 was lost
	# ("0 4").
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$B" ss -Hlun "sport = :5556" | grep -q . && break
		sleep 0.1
	done
	ip netns exec "$A" python3 -c '
import socket, time
x = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    for p in (5555, 5556):
        x.sendto(b"nfc", ("198.51.100.2", p))
    time.sleep(0.05)'
	wait $rx
}
nfc_static_neigh

check "xdp-filter loads on $VA (skb mode)" quiet xdp-filter load -m skb "$VA"
check "... and drops UDP to port 5555" quiet xdp-filter port -p udp 5555

nfctl forwarder add f1 mode=xdp-generic >/dev/null
out=$(nfctl f1 ports add p1 peer="$VA" 2>&1)
rc=$?
echo "# $out"
check "nfchain in XDP on $VA is refused" [ $rc != 0 ]
check "... naming the program there and what to do" \
	grep -q "XDP is taken by program xdpfilt.* id [0-9]*.*mode=tc" <<<"$out"
check "... and changes nothing (no port p1)" [ -z "$(nfctl -j f1 show | jq -r '.ports[]?.name')" ]
check "... xdp-filter is still attached" quiet xdp-loader status "$VA"
nfctl f1 del >/dev/null

check "nfchain in mode=tc on the same netdevs" \
	nfctl forwarder add f1 mode=tc &&
	check "nfchain in mode=tc on the same netdevs" nfctl f1 ports add p1 peer="$VA" && check "nfchain in mode=tc on the same netdevs" nfctl f1 ports add p2 peer="$VB"
check "ping forwarded by nfchain (the root namespace does not forward)" \
	quiet ip netns exec "$A" ping -c 2 -i 0.1 -W 1 198.51.100.2
c=$(udp_counts)
echo "# with both: port 5555 got ${c% *}, port 5556 got ${c#* } of 5"
check "xdp-filter drops port 5555 while nfchain forwards port 5556 ($c)" [ "$c" = "0 5" ]

check "xdp-filter unloads" quiet xdp-filter unload "$VA"
c=$(udp_counts)
check "... nfchain still forwards everything ($c)" [ "$c" = "5 5" ]

check "xdp-filter loads again, after nfchain" quiet xdp-filter load -m skb "$VA" &&
	check "xdp-filter loads again, after nfchain" quiet xdp-filter port -p udp 5555
c=$(udp_counts)
check "... both work again ($c)" [ "$c" = "0 5" ]
check "nfchain's NF goes" quiet nfctl f1 del
check "... xdp-filter is still there" quiet bash -c "xdp-loader status $VA | grep -q xdpfilt"
check "... and nothing of nfchain's is left on $VA" [ -z "$(bpftool net show dev "$VA" | grep -i tcx)" ]
check "xdp-filter unloads" quiet xdp-filter unload "$VA"
nfc_done
