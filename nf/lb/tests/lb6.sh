#!/usr/bin/env bash
# The lb NF with IPv6 services, through the router NF's IPv6 path: a
# client, r1 with lb0 on the client's port (direction=both), two backends
# running python3 http.server on [::]:80, each answering its own name.
#
#   c1 2001:db8:1::2/64 ── p1 [lb0] r1 p2 ── b1 2001:db8:2::2/64
#                                      p3 ── b2 2001:db8:3::2/64
#   [2001:db8::100]:80/tcp forward=dsr (ip6ip6; the backends hold the VIP
#   on lo and strip the outer header with decap/decap.bpf.c: this kernel
#   has no ip6_tunnel), [2001:db8::100]:81/tcp forward=nat to :80.
#
# Checks, in both modes: requests from many source ports all answered and
# spread over the two backends, a whole download with curl -6, the
# per-backend counts in services show; a backend of the other family is
# refused.
. "$(dirname "$0")/../../../tests/lib.sh"
nfc_setup
HERE=$(cd "$(dirname "$0")" && pwd)
VIP=2001:db8::100
TMP=$(mktemp -d /tmp/nfc-lb6-XXXXXX)
test_cleanup() {
	# the backends' servers, also when a check fails before the end
	for j in $(jobs -p); do kill "$j" 2>/dev/null; done
	rm -rf "$TMP"
}

ns() { echo "nt$NFC_ID-$1"; }
in_ns() { local h=$1; shift; ip netns exec "$(ns "$h")" "$@"; }

if ! clang -O2 -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
	-c "$HERE/decap/decap.bpf.c" -o "$TMP/decap.o"; then
	not_ok "build the backends' decapsulation program"
	exit 1
fi

host() { # name addr6/len gw6 rootif
	nfc_ns "$1" >/dev/null
	nfc_host "$(ns "$1")" eth0 "" "$4"
	nfc_ipv6_on "$(ns "$1")" eth0 "$2"
	ip -n "$(ns "$1")" -6 route add default via "$3"
}
host c1 2001:db8:1::2/64 2001:db8:1::1 l6c$NFC_ID
host b1 2001:db8:2::2/64 2001:db8:2::1 l6b1$NFC_ID
host b2 2001:db8:3::2/64 2001:db8:3::1 l6b2$NFC_ID
for b in b1 b2; do
	ip -n "$(ns $b)" addr add $VIP/128 dev lo nodad
	tc -n "$(ns $b)" qdisc add dev eth0 clsact
	tc -n "$(ns $b)" filter add dev eth0 ingress bpf direct-action \
		obj "$TMP/decap.o" sec tc
	mkdir -p "$TMP/$b"
	echo $b >"$TMP/$b/name"
	{ echo $b; head -c 5000000 /dev/zero | tr '\0' x; } >"$TMP/$b/big"
	(cd "$TMP/$b" && exec ip netns exec "$(ns $b)" python3 -m http.server \
		--bind :: 80 >/dev/null 2>&1) &
done

requests() { # n port: the names that answered, one a line
	in_ns c1 python3 - "$1" "$2" <<'PY'
import sys, http.client
for _ in range(int(sys.argv[1])):
    try:
        c = http.client.HTTPConnection("2001:db8::100", int(sys.argv[2]), timeout=3)
        c.request("GET", "/name")
        print(c.getresponse().read().decode().strip())
        c.close()
    except Exception as e:
        print("error", type(e).__name__)
PY
}
count() { grep -cx "$1" "$2"; }
be_field() { # service backend field
	nfctl -j lb0 services show |
		jq -r ".[] | select(.service==\"$1\") | .backends[] | select(.backend==\"$1/$2\") | .$3"
}

mode=${LB_MODE:-tc}
if ! { nfctl router add r1 mode=$mode &&
	nfctl r1 ports add p1 peer=l6c$NFC_ID ip=198.51.100.1/26 ip6=2001:db8:1::1/64 &&
	nfctl r1 ports add p2 peer=l6b1$NFC_ID ip=198.51.100.65/28 ip6=2001:db8:2::1/64 &&
	nfctl r1 ports add p3 peer=l6b2$NFC_ID ip=198.51.100.81/28 ip6=2001:db8:3::1/64 &&
	nfctl lb add lb0 mode=$mode &&
	nfctl attach lb0 r1:p1 direction=both &&
	nfctl lb0 services add "[$VIP]:80/tcp" forward=dsr &&
	nfctl lb0 backends add "[$VIP]:80/tcp/[2001:db8:2::2]" &&
	nfctl lb0 backends add "[$VIP]:80/tcp/[2001:db8:3::2]" &&
	nfctl lb0 services add "[$VIP]:81/tcp" forward=nat &&
	nfctl lb0 backends add "[$VIP]:81/tcp/[2001:db8:2::2]:80" &&
	nfctl lb0 backends add "[$VIP]:81/tcp/[2001:db8:3::2]:80"; }; then
	not_ok "$mode: set up r1 and lb0 with IPv6 services"
	exit 1
fi
nfc_slowpath_start /dev/null # the router's neighbour discovery
sleep 1
# The first packets wait for neighbour discovery: warm the paths up.
for a in 2001:db8:2::2 2001:db8:3::2; do in_ns c1 ping -6 -c 1 -W 3 $a >/dev/null; done

for port in 80 81; do
	fwd=dsr
	[ $port = 81 ] && fwd=nat
	svc="[$VIP]:$port/tcp"
	requests 200 $port >"$TMP/r$port"
	n1=$(count b1 "$TMP/r$port") n2=$(count b2 "$TMP/r$port")
	# Equal weights: 100 each, +-40 is beyond 5 sigma.
	check "$mode: IPv6 $fwd: 200 requests to [$VIP]:$port all answered, spread (b1 $n1, b2 $n2)" \
		[ $((n1 + n2)) = 200 ] && check "$mode: IPv6 $fwd: 200 requests to [$VIP]:$port all answered, spread (b1 $n1, b2 $n2)" [ "$n1" -ge 60 ] && check "$mode: IPv6 $fwd: 200 requests to [$VIP]:$port all answered, spread (b1 $n1, b2 $n2)" [ "$n2" -ge 60 ]
	rm -f "$TMP/dl"
	in_ns c1 curl -6 -s -g -o "$TMP/dl" "http://[$VIP]:$port/big"
	check "$mode: IPv6 $fwd: curl -6 downloads 5 MB whole ($(stat -c %s "$TMP/dl" 2>/dev/null) bytes)" \
		[ "$(stat -c %s "$TMP/dl" 2>/dev/null)" = 5000003 ]
	bport=
	[ $port = 81 ] && bport=:80
	nc1=$(be_field "$svc" "[2001:db8:2::2]$bport" new_connections)
	check "$mode: IPv6 $fwd: services show counts b1's new connections ($nc1 for $n1 answers)" \
		[ "${nc1:-0}" -ge "$n1" ]
done

# mtu: an upload from the client's own TCP (in TC GSO, its checksum left
# to offload) learns the path MTU from the packet-too-big and completes;
# in TC it hung (lb.sh says how).
ip netns exec "$(ns b1)" python3 "$HERE/upload.py" sink 9000 &
nfctl lb0 services add "[$VIP]:9000/tcp" forward=dsr
nfctl lb0 backends add "[$VIP]:9000/tcp/[2001:db8:2::2]"
nfctl lb0 set mtu=1500
in_ns c1 ip -6 route flush cache
sleep 0.5
up=$(in_ns c1 timeout 30 python3 "$HERE/upload.py" send $VIP 9000 300000 2>&1)
pmtu=$(in_ns c1 ip -6 route get $VIP | grep -o 'mtu [0-9]*')
check "$mode: IPv6 mtu=1500: a 300 kB TCP upload through DSR completes ($up bytes), the client told the MTU ($pmtu)" \
	[ "$up $pmtu" = "300000 mtu 1460" ]
nfctl lb0 set mtu=0
nfctl lb0 backends del "[$VIP]:9000/tcp/[2001:db8:2::2]"
nfctl lb0 services del "[$VIP]:9000/tcp"

before=$(nfctl export | md5sum)
check "$mode: refused (an IPv4 backend of an IPv6 service)" refused "IPv4 but its service is IPv6" \
	nfctl lb0 backends add "[$VIP]:80/tcp/198.51.100.11"
check "$mode: refused (src6 not an IPv6 address)" refused "src6 198.51.100.1: not an IPv6 address" \
	nfctl lb0 set src6=198.51.100.1
check "$mode: refused (src6 multicast)" refused "src6=ff02::1: not a unicast address .a multicast" nfctl lb0 set src6=ff02::1
# (found by a helper) taken, and every DSR packet was lost.
for a in ::1 fe80::1 ::ffff:198.51.100.5; do
	check "$mode: refused (src6=$a)" refused "src6=$a: not a unicast address" nfctl lb0 set src6=$a
done
check "$mode: refused (src6 in another spelling)" refused "write it as 2001:db8:2:1::200" \
	nfctl lb0 set src6=2001:db8:2:1:0::200
check "$mode: the refusals changed nothing" [ "$(nfctl export | md5sum)" = "$before" ]

nfc_slowpath_stop
for j in $(jobs -p); do kill "$j" 2>/dev/null; done
nfc_done
