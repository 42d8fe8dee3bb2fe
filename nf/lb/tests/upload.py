#!/usr/bin/env python3
"""A TCP upload through the lb, for its mtu= checks (lb.sh, lb6.sh).

upload.py sink PORT       on a backend: count each connection's bytes
                          until the client shuts its side, answer the count
upload.py send HOST PORT N  on the client: send N bytes, print the answer
"""
import socket
import sys


def sink(port):
    l = socket.socket(socket.AF_INET6)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    l.bind(("::", port))
    l.listen(4)
    while True:
        c, _ = l.accept()
        n = 0
        while True:
            d = c.recv(65536)
            if not d:
                break
            n += len(d)
        c.sendall(b"%d" % n)
        c.close()


def send(host, port, n):
    s = socket.create_connection((host, port), timeout=20)
    s.sendall(b"u" * n)
    s.shutdown(socket.SHUT_WR)
    print(s.recv(99).decode())


if sys.argv[1] == "sink":
    sink(int(sys.argv[2]))
else:
    send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
