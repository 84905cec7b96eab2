#!/usr/bin/env python3
"""Hold N loopback connections open (2N sockets), for measuring what tcpwave's
start-up walk and --stuck check cost with many connections.

Usage: bench/hold.py N [--close-wait]
  --close-wait   the client ends close, so the N server ends sit in CLOSE_WAIT
Prints "ready N" once all are open, then holds them until stdin closes.

The sockets are spread over worker processes, each within RLIMIT_NOFILE,
and the connections over several listening ports: one destination's
ephemeral port range (about 28000) would run dry.
"""
import os
import resource
import socket
import sys

PORTS = 8


def hold(n, close_wait, ready_fd):
    listeners = []
    for _ in range(PORTS):
        l = socket.socket()
        l.bind(("127.0.0.1", 0))
        l.listen(4096)
        listeners.append(l)
    held = []
    for i in range(n):
        l = listeners[i % PORTS]
        c = socket.create_connection(l.getsockname())
        s, _ = l.accept()
        if close_wait:
            c.close()
            held.append(s)
        else:
            held += [c, s]
    os.write(ready_fd, b"r")
    os.read(0, 1)  # until the parent exits and stdin closes


def main():
    n = int(sys.argv[1])
    close_wait = "--close-wait" in sys.argv[2:]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    per_worker = (hard - 100) // (1 if close_wait else 2)
    ready_r, ready_w = os.pipe()
    workers = []
    left = n
    while left > 0:
        share = min(left, per_worker)
        pid = os.fork()
        if pid == 0:
            hold(share, close_wait, ready_w)
            os._exit(0)
        workers.append(pid)
        left -= share
    for _ in workers:
        os.read(ready_r, 1)
    print("ready %d" % n, flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
