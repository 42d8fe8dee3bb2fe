#!/usr/bin/env bash
# The NAT survives its daemon: a1 behind r1, c1 outside with no route back,
# nat0 masquerading on r1:p3, all through nfchaind. A TCP connection
# a1 -> c1 exchanges a line every 0.1 s while nfchaind is killed -9 and
# started again: no exchange is lost or stalls, the connection's mapping
# is the same before and after (pinned maps), and a new connection works
# after the restart.
NFC_TOP=${NFC_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$NFC_TOP/daemon/tests/lib-daemon.sh"
. "$NFC_TOP/nf/router/tests/lib_router.sh"
srv='' cli=''
test_cleanup() {
	[ -n "$srv$cli" ] && kill $srv $cli 2>/dev/null
	nfd_test_cleanup
}
nfc_setup

rt_hosts
ip -n "$(rt_ns c1)" route del default
nfd_start || { not_ok "nfchaind starts"; exit 1; }
if ! { nfc router add r1 &&
	nfc r1 ports add p1 peer=$PA ip=198.51.100.1/26 &&
	nfc r1 ports add p3 peer=$PC ip=203.0.113.1/26 &&
	nfc nat add nat0 &&
	nfc attach nat0 r1:p3 direction=both &&
	nfc nat0 rules add 10 type=masquerade src=198.51.100.0/24; } >/dev/null; then
	not_ok "set up r1 and nat0 on r1:p3 through nfchaind"
	exit 1
fi
check "ping a1 -> c1 through the masquerade" \
	q_host a1 ping -c 2 -i 0.2 -W 2 $RT_C1

# c1 echoes lines on PORT; a1 sends one every 0.1 s for SECS seconds on
# one connection (a read waits up to WAIT s) and prints its port first,
# then "N ok" or where it failed, into OUT.
listening() { # PORT: c1's server on it, up to 10 s
	for _ in $(seq 100); do
		in_host c1 ss -ltn | grep -q ":$1 " && break
		sleep 0.1
	done
}
client_port() { # OUT: a1's client wrote its port first; then 1 s of traffic
	for _ in $(seq 50); do
		[ -s "$1" ] && break
		sleep 0.1
	done
	sleep 1
	port=$(head -1 "$1")
}
long_conn() { # PORT SECS WAIT OUT
	in_host c1 timeout 60 python3 -c '
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("203.0.113.2", int(sys.argv[1])))
l.listen(1)
c, _ = l.accept()
f = c.makefile("rwb")
for line in f:
    f.write(line)
    f.flush()' "$1" &
	srv=$!
	listening "$1"
	in_host a1 timeout 60 python3 -c '
import socket, sys, time
s = socket.create_connection(("203.0.113.2", int(sys.argv[2])), timeout=float(sys.argv[3]))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print(s.getsockname()[1], flush=True)
f = s.makefile("rwb")
end, n = time.time() + float(sys.argv[1]), 0
try:
    while time.time() < end:
        f.write(b"line %d\n" % n)
        f.flush()
        if f.readline() != b"line %d\n" % n:
            print("bad echo at", n)
            sys.exit(1)
        n += 1
        time.sleep(0.1)
except Exception as e:
    print("failed at", n, e)
    sys.exit(1)
print(n, "ok")' "$2" "$1" "$3" >"$4" 2>&1 &
	cli=$!
	client_port "$4"
}
out=$NFD_DIR/long.out
long_conn 7000 12 3 "$out"
m() { # the connection's mapping: inside outside state
	nfc -j nat0 mappings show | jq -r ".[] | select(.inside==\"$RT_A1:$port\") |
		\"\(.inside) \(.outside) \(.remote)\""
}
m0=$(m)
check "the long connection's mapping is there ($m0)" [ -n "$m0" ]
nfd_kill9
sleep 1
nfd_start || { not_ok "nfchaind starts after kill -9"; exit 1; }
m1=$(m)
check "after kill -9 and a restart: the same mapping ($m1)" \
	[ -n "$m1" -a "$m1" = "$m0" ]
wait $cli
rc=$?
res=$(tail -1 "$out")
check "the TCP connection lived through it, no exchange lost ($res)" \
	grep -qE "^[0-9]+ ok$" <<<"$res"
check "... (the client's exit status: $rc)" [ $rc = 0 ]
kill $srv 2>/dev/null
wait $srv 2>/dev/null
check "a new TCP connection a1 -> c1 after the restart" rt_tcp a1 c1 $RT_C1

# A reboot (the pin root gone: no mapping left) during a connection: its
# next segment is picked up midway and translated with its port kept, as
# Linux's NAT does. Found by a helper: it went out untranslated (the
# inside address on the outside link) and the connection died.
# With it, nat1 attached to a netdev without an IPv4 address and its
# masquerade rule added first (accepted: the rule waits for an address):
# the restore refused that rule, and with it every NF.
DUMMY=nfn$NFC_ID
DUMMY=${DUMMY:0:15}
ip link add "$DUMMY" type veth peer name "${DUMMY:0:13}p" && NFC_LINKS+=("$DUMMY")
ip link set "$DUMMY" up
check "nat1: a masquerade rule, then attached to a netdev with no IPv4 address" \
	quiet sh -c "'$NFC_BIN/nfchain' --socket '$NFD_SOCK' nat add nat1 mode=tc &&
		'$NFC_BIN/nfchain' --socket '$NFD_SOCK' nat1 rules add 10 type=masquerade &&
		'$NFC_BIN/nfchain' --socket '$NFD_SOCK' attach nat1 $DUMMY"
before=$(export_state)
# One way only: a1 writes a line every 0.1 s, c1 reads and answers the
# byte count at the end. Were c1 to answer each line, the segment the
# reboot catches might be c1's: retransmitted first, it meets no mapping
# and is taken for an inbound connection, as Linux's conntrack does too,
# and the connection is lost either way (Linux's stack resets it).
out2=$NFD_DIR/long2.out
in_host c1 timeout 90 python3 "$(dirname "$0")/../../lb/tests/upload.py" sink 7001 &
srv=$!
listening 7001
in_host a1 timeout 80 python3 -c '
import socket, sys, time
s = socket.create_connection(("203.0.113.2", 7001), timeout=60)
print(s.getsockname()[1], flush=True)
end, n = time.time() + 8, 0
while time.time() < end:
    s.sendall(b"line %06d\n" % n)
    n += 1
    time.sleep(0.1)
s.shutdown(socket.SHUT_WR)
got = s.recv(99).decode()
print("%d ok" % n if got == str(12 * n) else "sent %d bytes, %s arrived" % (12 * n, got))' >"$out2" 2>&1 &
cli=$!
client_port "$out2"
m2=$(m)
nfd_kill9
rm -rf "$NFC_PIN"
nfd_start || { not_ok "nfchaind starts on an empty pin root"; exit 1; }
check "after the reboot: every NF restored (export as before)" [ "$(export_state)" = "$before" ]
check "... no restore pending" sh -c "! '$NFC_BIN/nfchain' --socket '$NFD_SOCK' show | grep -q 'restore pending'"
wait $cli
rc=$?
res=$(tail -1 "$out2")
check "the TCP connection lived through the reboot, every byte arrived ($res)" \
	grep -qE "^[0-9]+ ok$" <<<"$res"
check "... (the client's exit status: $rc)" [ $rc = 0 ]
m3=$(m)
check "... picked up with the same mapping ($m2 -> $m3)" [ -n "$m3" -a "$m3" = "$m2" ]
kill $srv 2>/dev/null
wait $srv 2>/dev/null

# The masquerade's address changes under a UDP flow: the flow goes on from
# the new one. Before, it kept leaving as the old address for as long as
# it ran (found by a helper; Linux forgets such connections).
seen=/tmp/nfc-natmv-$NFC_ID
rm -f $seen
in_host c1 timeout 30 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'$RT_C1'", 5400))
s.settimeout(1)
src = set()
end = time.time() + 14
while time.time() < end:
    try:
        d, a = s.recvfrom(100)
    except socket.timeout:
        continue
    src.add(a[0])
    s.sendto(d, a)
open(sys.argv[1], "w").write(" ".join(sorted(src)))' $seen &
srv=$!
sleep 1
in_host a1 timeout 30 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 41999))
s.settimeout(0.05)
late = 0
t0 = time.time()
while time.time() < t0 + 9:
    s.sendto(b"x", ("'$RT_C1'", 5400))
    try:
        s.recvfrom(10)
        late += time.time() > t0 + 6
    except socket.timeout:
        pass
    time.sleep(0.1)
print(late)' >$seen.c 2>&1 &
cli=$!
sleep 2
check "r1 ports p3 set ip=203.0.113.3/26 under a UDP flow" quiet nfc r1 ports p3 set ip=203.0.113.3/26
wait $cli
wait $srv
cli='' srv=''
check "... c1 then sees the flow from 203.0.113.3 ($(cat $seen 2>/dev/null))" grep -q "203.0.113.3" $seen
check "... and a1 gets its replies again ($(cat $seen.c) in the last 3 s)" [ "$(cat $seen.c)" -gt 5 ]
rm -f $seen $seen.c

# Attached after its masquerade rule, the NAT translates the very first
# packet. Before, the rule kept no address until the next tick (up to
# 1 s): 2 of 3 first pings were dropped as no_address.
noaddr() { nfc -j nat0 show | jq '.stats.nat.no_address'; }
for i in 1 2 3; do
	quiet nfc detach nat0 r1:p3
	n0=$(noaddr)
	check "attach $i: nat0 on r1:p3 again" quiet nfc attach nat0 r1:p3 direction=both
	check "... its first ping a1 -> c1 is translated" q_host a1 ping -c 1 -W 2 $RT_C1
	check "... none counted no_address ($n0 -> $(noaddr))" [ "$(noaddr)" = "$n0" ]
done

# One connection's mapping deleted by the key show gives it (conntrack -D
# in Linux): it and its tracker entry go, the others stay; the next
# datagram of the flow is translated again. A key that names nothing, or
# is no key, is refused and changes nothing.
udp_from() { # SPORT: one datagram a1:SPORT -> c1:5401
	in_host a1 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", int(sys.argv[1])))
s.sendto(b"x", ("'$RT_C1'", 5401))' "$1"
}
mkey() { nfc -j nat0 mappings show | jq -r ".[] | select(.inside==\"$RT_A1:$1\") | .key"; }
nmaps() { nfc -j nat0 mappings show | jq length; }
udp_from 42001
udp_from 42002
k1=$(mkey 42001) k2=$(mkey 42002)
check "mappings show gives each mapping its connection as key ($k1)" \
	[ "$k1" = "udp,$RT_A1,42001,$RT_C1,5401" -a "$k2" = "udp,$RT_A1,42002,$RT_C1,5401" ]
n0=$(nmaps)
check "mappings del $k1" quiet nfc nat0 mappings del "$k1"
check "... its mapping is gone, the other stays ($(mkey 42001) / $(mkey 42002))" \
	[ -z "$(mkey 42001)" -a "$(mkey 42002)" = "$k2" ]
check "... one mapping less ($n0 -> $(nmaps))" [ "$(nmaps)" = $((n0 - 1)) ]
before=$(nfc -j nat0 mappings show | jq -S 'map(del(.timeout))')
refused_del() { # WHAT PATTERN KEY
	nfc nat0 mappings del "$3" >/dev/null 2>"$NFD_DIR/err"
	local rc=$?
	check "mappings del $1: refused, exit 1, names '$2' ($(head -c 120 "$NFD_DIR/err" | tr '\n' ' '))" \
		bash -c "[ $rc = 1 ] && grep -qE -- '$2' '$NFD_DIR/err'"
}
refused_del "of a deleted connection" "no such connection" "$k1"
refused_del "of no key" "proto,src,sport,dst,dport|tcp,198" "udp,$RT_A1,42001"
refused_del "of a port out of range" "99999" "udp,$RT_A1,99999,$RT_C1,5401"
after=$(nfc -j nat0 mappings show | jq -S 'map(del(.timeout))')
check "... nothing changed by them" [ "$after" = "$before" ]
# Either direction names the connection (the tracker's key is one).
check "mappings del of the other, given from c1's side" \
	quiet nfc nat0 mappings del "udp,$RT_C1,5401,$RT_A1,42002"
check "... gone ($(mkey 42002))" [ -z "$(mkey 42002)" ]
udp_from 42001
check "the flow's next datagram is translated again ($(mkey 42001))" \
	[ "$(mkey 42001)" = "$k1" ]
p1=$(nfc -j nat0 mappings show | jq ".[] | select(.inside==\"$RT_A1:42001\") | .packets_orig")
check "... by a new connection: its tracker entry went with the mapping (packets $p1)" [ "$p1" = 1 ]
nfc_done
