#!/usr/bin/env bash
# A port's netdev takes another MAC (`ip link set ... address`, a failover)
# while a host pings through a router. A router's port is its netdev's
# MAC: nfchaind takes the change up at once (rtnetlink) and the router
# tells the link with a gratuitous ARP, so that the host's neighbour entry
# moves to the new MAC and its pings keep getting answers. Before, the
# change was taken up only at the next re-apply, set off by another
# netdev's event, and no ARP told the host (found by a helper: 58 of 150
# pings lost, D_OTHERHOST).
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
nfc_setup
nfd_hosts
# Two subnets: a1 198.51.100.2/25 behind p1, b1 198.51.100.130/25 behind p2.
ip -n "$NFD_H1" addr flush dev eth0
ip -n "$NFD_H1" addr add 198.51.100.2/25 dev eth0
ip -n "$NFD_H1" route add default via 198.51.100.1
ip -n "$NFD_H2" addr flush dev eth0
ip -n "$NFD_H2" addr add 198.51.100.130/25 dev eth0
ip -n "$NFD_H2" route add default via 198.51.100.129
# IPv6: a1 2001:db8:71::2/64; b1 takes its default route from r0's RAs.
ip -n "$NFD_H1" -6 addr flush dev eth0 scope global
ip -n "$NFD_H2" -6 addr flush dev eth0 scope global
ip -n "$NFD_H1" addr add 2001:db8:71::2/64 dev eth0 nodad
ip -n "$NFD_H1" -6 route add default via 2001:db8:71::1
ip -n "$NFD_H2" addr add 2001:db8:72::2/64 dev eth0 nodad
ip netns exec "$NFD_H2" sysctl -qw net.ipv6.conf.eth0.accept_ra=1
nfd_start || { not_ok "nfchaind starts"; exit 1; }
quiet nfc router add r0 &&
	quiet nfc r0 ports add p1 peer="$NFD_IF1" ip=198.51.100.1/25 &&
	quiet nfc r0 ports add p2 peer="$NFD_IF2" ip=198.51.100.129/25 &&
	quiet nfc r0 ports p1 set ip6=2001:db8:71::1/64 &&
	quiet nfc r0 ports p2 set ip6=2001:db8:72::1/64 ra=on
check "r0 between a1 and b1" [ $? = 0 ]
b_gw6() { ip -n "$NFD_H2" -6 route show default | sed -n 's/.*via \(fe80::[0-9a-f:]*\).*/\1/p' | tr '\n' ' '; }
gw=
for _ in $(seq 30); do
	gw=$(b_gw6)
	[ -n "$gw" ] && break
	sleep 0.1
done
check "b1's IPv6 default route from r0's RA ($gw)" [ -n "$gw" ]
check "b1 pings a1 through r0" quiet ip netns exec "$NFD_H2" ping -c 2 -i 0.2 -W 2 198.51.100.2

b_mac() { ip -n "$NFD_H2" -j neigh show 198.51.100.129 dev eth0 | jq -r '.[0].lladdr // ""'; }
old=$(b_mac)
new=02:00:00:00:b0:b0
check "b1 holds r0's p2 MAC ($old)" [ -n "$old" ]
check "... not the new one yet" [ "$old" != $new ]
ip link set "$NFD_IF2" address $new
check "nfchaind sees the MAC change" log_has "event=netdev_mac netdev=$NFD_IF2 was=$old mac=$new"
check "... and r0 configures again at once" log_has "event=netdev_mac netdev=$NFD_IF2 .* nfs=1"
got=
for _ in $(seq 30); do
	got=$(b_mac)
	[ "$got" = $new ] && break
	sleep 0.1
done
check "b1's neighbour entry moved to the new MAC: a gratuitous ARP ($got)" [ "$got" = $new ]
check "r0's p2 shows the new MAC" grep -qi "$new" <<<"$(nfc r0 show ports)"
check "b1 pings a1 again, nothing done on it" quiet ip netns exec "$NFD_H2" ping -c 3 -i 0.2 -W 1 198.51.100.2
# The new MAC is a new link-local address: the old one, b1's default
# router, says it is one no more (a final RA); b1 kept it ~45 s (found
# by a helper).
gw2=
for _ in $(seq 30); do
	gw2=$(b_gw6)
	[ -n "$gw2" ] && [ "${gw2% }" != "${gw% }" ] && break
	sleep 0.1
done
check "b1's default route: the old link-local gone ($gw -> $gw2)" bash -c "! grep -qw '${gw% }' <<<'$gw2'"
check "... the new one there" [ -n "$gw2" ]
check "b1 pings a1 over IPv6" quiet ip netns exec "$NFD_H2" ping -6 -c 3 -i 0.2 -W 1 2001:db8:71::2
nfc_done
