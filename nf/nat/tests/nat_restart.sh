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

# c1 echoes lines on :7000; a1 sends one every 0.1 s for `secs` seconds
# on one connection and prints "N ok" or where it failed.
in_host c1 timeout 60 python3 -c '
import socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("203.0.113.2", 7000))
l.listen(1)
c, _ = l.accept()
f = c.makefile("rwb")
for line in f:
    f.write(line)
    f.flush()' &
srv=$!
for _ in $(seq 100); do
	in_host c1 ss -ltn | grep -q ':7000 ' && break
	sleep 0.1
done
out=$NFD_DIR/long.out
in_host a1 timeout 60 python3 -c '
import socket, sys, time
s = socket.create_connection(("203.0.113.2", 7000), timeout=3)
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
print(n, "ok")' 12 >"$out" 2>&1 &
cli=$!
for _ in $(seq 50); do
	[ -s "$out" ] && break
	sleep 0.1
done
sleep 1
port=$(head -1 "$out")
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
	[ -n "$m1" ] && [ "$m1" = "$m0" ]
wait $cli
rc=$?
res=$(tail -1 "$out")
check "the TCP connection lived through it, no exchange lost ($res)" \
	[ $rc = 0 ] && grep -qE "^[0-9]+ ok$" <<<"$res"
kill $srv 2>/dev/null
wait $srv 2>/dev/null
check "a new TCP connection a1 -> c1 after the restart" rt_tcp a1 c1 $RT_C1
nfc_done
