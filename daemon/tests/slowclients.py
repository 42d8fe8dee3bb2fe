#!/usr/bin/env python3
"""slowclients.py SOCKET N idle|half|body: holds N connections to
nfchaind's unix socket that never finish a request. "idle" sends nothing,
"half" sends half a request (slowloris), "body" a whole header and then
its body a byte every second, so that no idle timeout ever drops it. A
connection the server closes is opened again, as an attacker would.
Prints "held N" once N are open and still open after a moment, then
holds them until stdin closes."""
import select
import socket
import sys

path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
half = b"GET /v1/nfs HTTP/1.1\r\nHost: nfchaind\r\nX-Slow: "
body = (b"POST /v1/nfs HTTP/1.1\r\nHost: nfchaind\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"name\":")


def opened():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except BlockingIOError:
        pass  # in the backlog: held all the same
    except OSError:
        s.close()
        return None
    if mode in ("half", "body"):
        try:
            s.send(half if mode == "half" else body)
        except OSError:
            pass
    return s


held = []
for _ in range(20):
    while len(held) < n:
        s = opened()
        if s is None:
            break
        held.append(s)
    # Drop the connections the server closed (readable at EOF), retry.
    ep = select.epoll()
    for s in held:
        ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    gone = {fd for fd, _ in ep.poll(0.5)}
    ep.close()
    if not gone:
        break
    for s in [s for s in held if s.fileno() in gone]:
        s.close()
        held.remove(s)
print(f"held {len(held)}", flush=True)
while True:
    r, _, _ = select.select([sys.stdin], [], [], 1.0)
    if r and not sys.stdin.read(4096):
        break
    if mode != "body":
        continue
    # A byte more of every body; one the server shut is opened again.
    for i, s in enumerate(held):
        try:
            s.send(b" ")
        except OSError:
            s.close()
            held[i] = opened() or s
