#!/usr/bin/env python3
"""One end of a TCP connection, driven line by line from the test.

Each command on stdin gets exactly one reply line on stdout ("ok ..." or
"err ..."), after the socket call has returned. The test therefore knows, for
every step, that the kernel has done it: no sleeps are needed to order the two
ends. The peer runs as its own process so its pid is known and distinct.

Commands:
  listen FAMILY [mptcp]     bind a listener on loopback, port 0 -> ok PORT
  listen_on HOST            bind a listener on HOST, an address of the peer's
                            network namespace, port 0 -> ok PORT
  listen_fastopen FAMILY    a listener that takes data in the SYN (TCP Fast
                            Open) without asking for a cookie -> ok PORT
  accept                    accept one connection -> ok RPORT
  socket FAMILY             create the next connection's socket now, so options
                            can be set before connect -> ok
  setsockopt_syncnt N       TCP_SYNCNT on the next connection: connect gives up
                            when N doubling retransmissions would be over
                            (1: after 1 s + 2 s) -> ok
  connect FAMILY PORT [mptcp]  connect to loopback PORT -> ok LPORT  (err CODE on failure);
                            FAMILY ipv4-mapped: an IPv6 socket to ::ffff:127.0.0.1
  connect_fastopen FAMILY PORT N  connect by sending N bytes in the SYN (TCP
                            Fast Open, no cookie) -> ok LPORT
  connect_nowait FAMILY HOST PORT  non-blocking connect -> ok
  wait_connect SECONDS      wait for a non-blocking connect -> ok | err CODE
  local_port                the connection's local port, kept after a failed
                            connect (getsockname()) -> ok PORT
  wait_state STATE SECONDS  poll TCP_INFO until the connection is in STATE
                            (ESTABLISHED, FIN_WAIT1, ... as the kernel names
                            them) -> ok; err ETIMEDOUT STATE names the state
                            it was still in after SECONDS
  wait_retransmits N SECONDS  poll TCP_INFO until the kernel has retransmitted
                            (tcpi_retransmits, the timeouts since the last
                            progress) N times -> ok; err ETIMEDOUT COUNT
  send N                    send N bytes -> ok
  recv N                    read N bytes -> ok BYTES
  recv_eof                  read until the peer's FIN -> ok BYTES
  shutdown                  shutdown(SHUT_WR) -> ok
  shutdown_both             shutdown(SHUT_RDWR) -> ok
  close                     close the connection -> ok
  abort                     SO_LINGER 0, then close (sends RST) -> ok
  close_listener            close the listener -> ok
  comm NAME                 prctl(PR_SET_NAME) -> ok
  pid                       -> ok PID
  exit
"""
import ctypes
import errno
import select
import socket
import struct
import sys
import time

LOOPBACK = {"ipv4": (socket.AF_INET, "127.0.0.1"), "ipv6": (socket.AF_INET6, "::1"),
            "ipv4-mapped": (socket.AF_INET6, "::ffff:127.0.0.1")}
PROTOCOLS = {"tcp": 0, "mptcp": 262}  # IPPROTO_MPTCP
# TCP Fast Open (include/uapi/linux/tcp.h, linux/socket.h); the namespace's
# net.ipv4.tcp_fastopen must allow it (the test sets it).
TCP_FASTOPEN = 23
TCP_FASTOPEN_NO_COOKIE = 34
MSG_FASTOPEN = 0x20000000

# tcpi_state, the first byte of struct tcp_info, in the kernel's numbering
# (include/net/tcp_states.h).
TCP_STATES = ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
              "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"]
# How often wait_state looks: short against any TCP timer, cheap for the CPU.
STATE_POLL_S = 0.001


class Failed(Exception):
    """A command that did not do what was asked; the message follows "err"."""


class Peer:
    def __init__(self):
        self.listener = None
        self.conn = None
        self.unconnected = None  # made by `socket`, used by the next connect

    def do_listen(self, family, proto="tcp"):
        af, host = LOOPBACK[family]
        self.listener = socket.socket(af, socket.SOCK_STREAM, PROTOCOLS[proto])
        self.listener.bind((host, 0))
        self.listener.listen(128)
        return self.listener.getsockname()[1]

    def do_listen_fastopen(self, family):
        af, host = LOOPBACK[family]
        self.listener = socket.socket(af, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)  # queue length
        self.listener.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1)
        self.listener.bind((host, 0))
        self.listener.listen(128)
        return self.listener.getsockname()[1]

    def do_listen_on(self, host):
        self.listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                      socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(128)
        return self.listener.getsockname()[1]

    def do_accept(self):
        self.conn, addr = self.listener.accept()
        return addr[1]

    def do_socket(self, family):
        self.unconnected = socket.socket(LOOPBACK[family][0], socket.SOCK_STREAM)
        return ""

    def do_setsockopt_syncnt(self, n):
        sock = self.unconnected or self.conn
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, int(n))
        return ""

    def _new_conn(self, af, proto="tcp"):
        """The socket `socket` prepared, or a new one."""
        sock, self.unconnected = self.unconnected, None
        if sock is None:
            sock = socket.socket(af, socket.SOCK_STREAM, PROTOCOLS[proto])
        return sock

    def do_connect(self, family, port, proto="tcp"):
        af, host = LOOPBACK[family]
        self.conn = self._new_conn(af, proto)
        err = self.conn.connect_ex((host, int(port)))
        if err:
            raise OSError(err, errno.errorcode.get(err, str(err)))
        return self.conn.getsockname()[1]

    def do_connect_fastopen(self, family, port, n):
        af, host = LOOPBACK[family]
        self.conn = self._new_conn(af)
        self.conn.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1)
        self.conn.sendto(b"x" * int(n), MSG_FASTOPEN, (host, int(port)))
        return self.conn.getsockname()[1]

    def do_local_port(self):
        return self.conn.getsockname()[1]

    def do_connect_nowait(self, family, host, port):
        af, _ = LOOPBACK[family]
        self.conn = self._new_conn(af)
        self.conn.setblocking(False)
        self.conn.connect_ex((host, int(port)))
        return ""

    def do_wait_connect(self, seconds):
        _, w, _ = select.select([], [self.conn], [], float(seconds))
        if not w:
            raise OSError(errno.ETIMEDOUT, "ETIMEDOUT")
        err = self.conn.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise OSError(err, errno.errorcode.get(err, str(err)))
        return ""

    def _state(self):
        info = self.conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
        return TCP_STATES[info[0]] if info[0] < len(TCP_STATES) else str(info[0])

    def _retransmits(self):
        return self.conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[2]

    def _wait_for(self, read, done, seconds):
        """Poll read() until done(value); err ETIMEDOUT with the last value."""
        deadline = time.monotonic() + float(seconds)
        while True:
            now = read()
            if done(now):
                return ""
            if time.monotonic() >= deadline:
                raise Failed("ETIMEDOUT %s" % now)
            time.sleep(STATE_POLL_S)

    def do_wait_state(self, state, seconds):
        if state not in TCP_STATES:
            raise Failed("EINVAL unknown state %s" % state)
        return self._wait_for(self._state, lambda now: now == state, seconds)

    def do_wait_retransmits(self, n, seconds):
        return self._wait_for(self._retransmits, lambda now: now >= int(n), seconds)

    def do_send(self, n):
        self.conn.sendall(b"x" * int(n))
        return ""

    def do_recv(self, n):
        got = self.conn.recv(int(n), socket.MSG_WAITALL)
        return len(got)

    def do_recv_eof(self):
        total = 0
        while True:
            data = self.conn.recv(65536)
            if not data:
                return total
            total += len(data)

    def do_shutdown(self):
        self.conn.shutdown(socket.SHUT_WR)
        return ""

    def do_shutdown_both(self):
        self.conn.shutdown(socket.SHUT_RDWR)
        return ""

    def do_close(self):
        self.conn.close()
        self.conn = None
        return ""

    def do_abort(self):
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return self.do_close()

    def do_close_listener(self):
        self.listener.close()
        self.listener = None
        return ""

    def do_comm(self, name):
        libc = ctypes.CDLL(None, use_errno=True)
        raw = bytes.fromhex(name)
        libc.prctl(15, ctypes.c_char_p(raw), 0, 0, 0)  # PR_SET_NAME
        return ""

    def do_pid(self):
        import os
        return os.getpid()


def main():
    peer = Peer()
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "exit":
            break
        try:
            result = getattr(peer, "do_" + words[0])(*words[1:])
            reply = ("ok %s" % result).rstrip()
        except OSError as e:
            reply = "err %s" % (errno.errorcode.get(e.errno, str(e.errno)))
        except Failed as e:
            reply = "err %s" % e
        print(reply, flush=True)


if __name__ == "__main__":
    main()
