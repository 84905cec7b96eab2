"""Filters, applied in the kernel: what they reject never crosses the ring buffer.

Each test makes its connections in a network namespace of its own and runs
tcpwave with --netns for it plus the filters under test. --netns is checked
first and counted apart, so the records the kernel kept back inside the
namespace (the exit summary's total less those outside --netns) are exactly
the test's own connections that do not match, whatever else runs on the
host. The userspace filter, which checks every record it gets, must reject
none: the kernel did it all.

The expected records come from a predicate written here, a second account of
each filter's meaning: the records must be exactly the connection ends it
accepts.
"""
import os
import re
import socket
import struct
import subprocess
import time

from cgroup import Cgroup
from harness import TCPWAVE, Peer, Tracer, check, check_eq, sequence, test
from netns import Netns

SUMMARY = re.compile(r"filters: (\d+) records not delivered by the kernel "
                     r"\((\d+) of them outside --netns\), (\d+) more rejected here")
WAIT_CLOSED_S = 10

V4 = {"server": "10.11.0.1", "a": "10.11.0.2", "b": "10.11.0.3"}
V6 = {"server": "fd00:11::1", "a": "fd00:11::2", "b": "fd00:11::3"}


class Namespace(Netns):
    """A Netns whose lo also carries the V4 and V6 addresses."""

    def __enter__(self):
        super().__enter__()
        try:
            for a in V4.values():
                self.run(["ip", "addr", "add", a + "/32", "dev", "lo"])
            for a in V6.values():
                self.run(["ip", "addr", "add", a + "/128", "dev", "lo", "nodad"])
        except Exception:
            self.__exit__()
            raise
        return self


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def connect(ns, server, client, port):
    """One connection from address `client` to server:port inside ns, made by
    this process and closed in order (the client shuts down, the server
    closes, then the client). Returns both ends as records show them:
    (laddr, lport, raddr, rport) of the client, then of the server."""
    af = family_of(server)
    listener = ns.socket(af, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((server, port))
    listener.listen(1)
    c = ns.socket(af, socket.SOCK_STREAM)
    c.bind((client, 0))
    c.connect((server, port))
    s, _ = listener.accept()
    cport = c.getsockname()[1]
    c.shutdown(socket.SHUT_WR)
    check_eq(s.recv(1), b"", "the server reads the client's FIN")
    s.close()
    check_eq(c.recv(1), b"", "the client reads the server's FIN")
    c.close()
    listener.close()
    return [(client, cport, server, port), (server, port, client, cport)]


def wait_closed(ns):
    """Until every socket in ns has reached CLOSE (TIME_WAIT ones have: the
    kernel's timewait sockets are no longer full sockets)."""
    deadline = time.monotonic() + WAIT_CLOSED_S
    while True:
        left = [l for l in ns.run(["ss", "-Htan"]).splitlines() if not l.startswith("TIME-WAIT")]
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError("sockets still open in %s after %d s: %r"
                                 % (ns.name, WAIT_CLOSED_S, left))
        time.sleep(0.01)


def run(ns, args, scenario):
    """scenario() under tcpwave --json --netns NS ARGS. Returns (records of
    the namespace, how many the kernel kept back in it, what scenario returned)."""
    tracer = Tracer("--json", "--netns", str(ns.inode), *args).start()
    try:
        result = scenario()
        wait_closed(ns)
        tracer.stop()
    finally:
        if tracer.returncode is None:
            tracer.proc.kill()
            tracer.proc.wait()
    check_eq(tracer.returncode, 0, "tcpwave's exit status (stderr: %s)" % tracer.stderr)
    m = SUMMARY.search(tracer.stderr)
    check(m, "the exit summary counts what the filters kept back: %s" % tracer.stderr)
    total, outside, here = map(int, m.groups())
    check_eq(here, 0, "records the userspace filter rejected (the kernel keeps them all back)")
    records = [r for r in tracer.records() if r["type"] in ("conn", "state")]
    for r in records:
        check_eq(r["netns"], ns.inode, "netns of %r" % r)
    return records, total - outside, result


def ends(records):
    return sorted((r["laddr"], r["lport"], r["raddr"], r["rport"]) for r in records)


# Four connections, eight ends: IPv4 and IPv6, two clients, two ports.
PLAN = [(V4["server"], V4["a"], 5001), (V4["server"], V4["b"], 5002),
        (V6["server"], V6["a"], 5001), (V6["server"], V6["b"], 5002)]


def check_filter(args, want):
    """tcpwave with args over PLAN gives exactly the ends want(laddr, lport,
    raddr, rport) accepts, and the kernel kept back exactly the others."""
    with Namespace() as ns:
        records, kept, made = run(ns, args, lambda: [e for p in PLAN for e in connect(ns, *p)])
        expected = sorted(e for e in made if want(*e))
        check_eq(ends(records), expected, "records with %s" % " ".join(args))
        check_eq(kept, len(made) - len(expected), "records the kernel kept back")
        check(0 < len(expected) < len(made), "the case has ends on both sides: %r" % expected)


def v4(addr):
    return ":" not in addr


def in_v4_prefix(addr, prefix, bits):
    to_int = lambda a: int.from_bytes(socket.inet_aton(a), "big")
    return v4(addr) and to_int(addr) >> (32 - bits) == to_int(prefix) >> (32 - bits)


@test
def test_filter_port_is_either_end():
    check_filter(["-P", "5001"], lambda la, lp, ra, rp: 5001 in (lp, rp))


@test
def test_filter_lport_is_the_local_end():
    check_filter(["--lport", "5001"], lambda la, lp, ra, rp: lp == 5001)


@test
def test_filter_rport_is_the_remote_end():
    check_filter(["--rport", "5002"], lambda la, lp, ra, rp: rp == 5002)


@test
def test_filter_values_of_one_filter_or_filters_and():
    check_filter(["-P", "5001,5002", "--lport", "5002"],
                 lambda la, lp, ra, rp: lp == 5002)
    check_filter(["--rport", "5001", "--rport", "5002", "--laddr", V4["a"]],
                 lambda la, lp, ra, rp: rp in (5001, 5002) and la == V4["a"])


@test
def test_filter_laddr_ipv4_and_ipv6():
    check_filter(["--laddr", V4["a"], "--laddr", V6["b"] + "/128"],
                 lambda la, lp, ra, rp: la in (V4["a"], V6["b"]))


@test
def test_filter_raddr_prefix():
    check_filter(["--raddr", "10.11.0.2/31"],
                 lambda la, lp, ra, rp: in_v4_prefix(ra, "10.11.0.2", 31))
    check_filter(["--raddr", "fd00:11::2", "-P", "5001"],
                 lambda la, lp, ra, rp: ra == V6["a"] and 5001 in (lp, rp))


@test
def test_filter_ipv4_or_ipv6():
    check_filter(["-4"], lambda la, lp, ra, rp: v4(la))
    check_filter(["-6"], lambda la, lp, ra, rp: not v4(la))


@test
def test_filter_classic_tracepoint_filters_too():
    check_filter(["--attach", "classic", "-P", "5001", "--laddr", "10.11.0.0/24"],
                 lambda la, lp, ra, rp: 5001 in (lp, rp) and v4(la))


@test
def test_filter_ipv4_on_a_dual_stack_socket_is_ipv4():
    """A dual-stack listener's child carries IPv4 as ::ffff:a.b.c.d: -4 and an
    IPv4 prefix match it, as its record shows ipv4; -6 does not."""
    def dual_stack(ns):
        listener = ns.socket(socket.AF_INET6, socket.SOCK_STREAM)
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind(("::", 5003))
        listener.listen(1)
        c = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(("127.0.0.1", 5003))
        s, _ = listener.accept()
        c.shutdown(socket.SHUT_WR)
        s.recv(1)
        s.close()
        c.recv(1)
        c.close()
        listener.close()

    with Namespace() as ns:
        records, kept, _ = run(ns, ["-4", "--laddr", "127.0.0.1", "-P", "5003"],
                               lambda: dual_stack(ns))
        check_eq(sorted(r["family"] for r in records), ["ipv4", "ipv4"], "both ends as IPv4")
        check_eq(kept, 0, "records kept back")
    with Namespace() as ns:
        records, kept, _ = run(ns, ["-6"], lambda: dual_stack(ns))
        check_eq(records, [], "records with -6")
        check_eq(kept, 2, "records kept back with -6")


@test
def test_filter_netns_keeps_other_namespaces_out():
    with Namespace() as ns, Namespace() as other:
        def scenario():
            connect(other, V4["server"], V4["a"], 5001)
            return connect(ns, V4["server"], V4["a"], 5001)

        records, kept, made = run(ns, [], scenario)
        check_eq(ends(records), sorted(made), "records: this namespace's connection only")
        check_eq(kept, 0, "records kept back inside the namespace")


def peers(ns):
    """A server and a client peer process inside ns."""
    return Peer(netns=ns.name), Peer(netns=ns.name)


def peer_connection(server, client):
    """A connection between two peers on loopback, closed in order. Returns the ports."""
    port = int(server.do("listen", "ipv4"))
    cport = int(client.do("connect", "ipv4", port))
    server.do("accept")
    client.do("shutdown")
    server.do("recv_eof")
    server.do("close")
    client.do("recv_eof")
    client.do("close")
    server.do("close_listener")
    return port, cport


def run_peers(filter_args, tracer_args=(), setup=lambda ns, server, client: None):
    """One peer connection in a namespace under tcpwave with the filter args;
    filter_args(server, client) names them. Returns (records, kept, server,
    client, port, cport)."""
    with Namespace() as ns:
        server, client = peers(ns)
        try:
            setup(ns, server, client)
            records, kept, (port, cport) = run(
                ns, list(tracer_args) + filter_args(server, client),
                lambda: peer_connection(server, client))
            return records, kept, server, client, port, cport
        finally:
            server.close()
            client.close()


@test
def test_filter_pid_is_the_owner_process():
    records, kept, server, client, port, cport = run_peers(lambda s, c: ["-p", str(s.pid)])
    check_eq(ends(records), [("127.0.0.1", port, "127.0.0.1", cport)], "the server's record")
    check_eq(records[0]["pid"], server.pid, "its owner")
    check_eq(kept, 1, "records kept back: the client's")


@test
def test_filter_decides_the_connections_still_open_at_the_end():
    """Those come from the kernel's socket storage when tracing ends, not
    from the ring buffer, and are filtered there the same way."""
    with Namespace() as ns:
        server, client = peers(ns)
        try:
            tracer = Tracer("--json", "--netns", str(ns.inode), "-p", str(server.pid)).start()
            port = int(server.do("listen", "ipv4"))
            cport = int(client.do("connect", "ipv4", port))
            server.do("accept")
            tracer.stop()
        finally:
            server.close()
            client.close()
    check_eq(tracer.returncode, 0, "tcpwave's exit status")
    records = [r for r in tracer.records() if r["type"] == "conn"]
    check_eq([(r["lport"], r["rport"], r["pid"], r["complete"]) for r in records],
             [(port, cport, server.pid, False)], "the server's open connection alone")
    check(SUMMARY.search(tracer.stderr).group(3) == "0",
          "nothing left for the userspace filter: %s" % tracer.stderr)


@test
def test_filter_keeps_back_a_record_that_waited_for_its_owner_and_counts_it():
    """A connection reset before its server acted has a record that waits
    for its owner: the process that closes the socket or, at exit, holds it.
    With a --comm neither end has, the client's record is kept back at its
    close and the server's when the exit walks find this process holding
    the socket: two counted."""
    port = 5003

    def reset_before_the_server_acts():
        listener = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((V4["server"], port))
        listener.listen(1)
        c = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect((V4["server"], port))
        s, _ = listener.accept()
        listener.close()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        return s

    with Namespace() as ns:
        records, kept_back, server = run(ns, ["--comm", "twf-nobody"],
                                         reset_before_the_server_acts)
        server.close()
    check_eq(records, [], "records")
    check_eq(kept_back, 2, "records the kernel kept back in the namespace")


@test
def test_filter_comm_is_exact():
    def name(ns, server, client):
        server.do("comm", b"twf-server".hex())
        client.do("comm", b"twf-server2".hex())  # a longer name is another name

    records, kept, server, client, port, cport = run_peers(
        lambda s, c: ["-c", "twf-server", "-c", "twf-nobody"], setup=name)
    check_eq(ends(records), [("127.0.0.1", port, "127.0.0.1", cport)], "the server's record")
    check_eq(records[0]["comm"], "twf-server", "its comm")
    check_eq(kept, 1, "records kept back: the client's")


@test
def test_filter_owner_and_port_combine():
    records, kept, server, client, port, cport = run_peers(
        lambda s, c: ["-p", str(s.pid), "-p", str(c.pid), "--rport", "1,2,3"])
    check_eq(records, [], "records: no owner's connection has a remote port 1, 2 or 3")
    check_eq(kept, 2, "records kept back")


def check_events_held_until_the_owner_is_known(*tracer_args):
    """An accepted socket has no owner before its process reads, writes or
    closes it: its first transitions wait in the kernel and come out with the
    first one that has it."""
    records, kept, server, client, port, cport = run_peers(
        lambda s, c: ["-p", str(s.pid)], tracer_args=["--events"] + list(tracer_args))
    listener = [r for r in records if r["rport"] == 0]
    child = [r for r in records if r["rport"] == cport]
    check_eq(sequence(listener), [("CLOSE", "LISTEN"), ("LISTEN", "CLOSE")], "the listener")
    check_eq(sequence(child), [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"),
                               ("ESTABLISHED", "CLOSE_WAIT"), ("CLOSE_WAIT", "LAST_ACK"),
                               ("LAST_ACK", "CLOSE")], "the accepted socket")
    check_eq([r["pid"] for r in child], [None, None, None, server.pid, server.pid],
             "owners: none before the server's close()")
    check_eq(len(records), len(listener) + len(child), "no client transition")
    check_eq(kept, 5, "transitions kept back: the client's five")


@test
def test_filter_events_hold_transitions_until_the_owner_is_known():
    check_events_held_until_the_owner_is_known()


@test
def test_filter_events_hold_transitions_in_classic_mode_too():
    check_events_held_until_the_owner_is_known("--attach", "classic")


@test
def test_filter_events_hold_connect_until_its_local_port_is_picked():
    """connect() picks the local port after CLOSE -> SYN_SENT: --lport decides
    at the next transition, and the first comes out with it, as it was."""
    with Namespace() as ns:
        server, client = peers(ns)
        try:
            port = int(server.do("listen", "ipv4"))
            # The one port connect() can pick now.
            ns.run(["sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=40000 40000"])

            def scenario():
                cport = int(client.do("connect", "ipv4", port))
                server.do("accept")
                client.do("close")
                server.do("close")
                server.do("close_listener")
                return cport

            records, kept, cport = run(ns, ["--events", "--lport", "40000"], scenario)
        finally:
            server.close()
            client.close()
    check_eq(cport, 40000, "the client's port, the only one in range")
    check_eq(sequence(records), [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"),
                                 ("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "FIN_WAIT2"),
                                 ("FIN_WAIT2", "CLOSE")], "the client's transitions")
    check_eq([r["lport"] for r in records], [0, 40000, 40000, 40000, 40000],
             "local ports as each transition saw them")
    check_eq(len({r["sock"] for r in records}), 1, "one socket")
    check_eq(kept, 6, "transitions kept back: the server's five and the listener's LISTEN -> CLOSE")


@test
def test_filter_late_reset_of_a_filtered_connection_stays_in_the_kernel():
    """An abort's RST leaves after the socket's CLOSE, on its own record: it
    must follow its connection's filter, or it arrives with nothing to join."""
    def scenario(ns):
        made = connect(ns, V4["server"], V4["a"], 5001)
        listener = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((V4["server"], 5002))
        listener.listen(1)
        c = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect((V4["server"], 5002))
        s, _ = listener.accept()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
        s.close()
        listener.close()
        return made

    with Namespace() as ns:
        tracer = Tracer("--json", "--netns", str(ns.inode), "-P", "5001").start()
        try:
            made = scenario(ns)
            wait_closed(ns)
            tracer.stop()
        finally:
            if tracer.returncode is None:
                tracer.proc.kill()
        check_eq(ends(r for r in tracer.records() if r["type"] == "conn"), sorted(made),
                 "records: the connection to 5001")
        check("resets came too late" not in tracer.stderr,
              "no reset of the filtered connection reached userspace: %s" % tracer.stderr)


@test
def test_filter_cgroup_subtree_and_the_cgroup_field():
    with Cgroup() as cg:
        inner = cg.child("inner")

        def server_inside(ns, server, client):
            inner.adopt(server.pid)

        for given in (cg.path, cg.dir):  # relative to the root, or on the mount
            records, kept, server, client, port, cport = run_peers(
                lambda s, c: ["--cgroup", given], setup=server_inside)
            check_eq(ends(records), [("127.0.0.1", port, "127.0.0.1", cport)],
                     "with --cgroup %s: the server's record" % given)
            check_eq(records[0]["cgroup"], inner.path, "the cgroup field")
            check_eq(records[0]["cgroup_id"], inner.id, "the cgroup id: the directory's inode")
            check_eq(kept, 1, "records kept back: the client's")


@test
def test_filter_cgroup_field_of_a_removed_cgroup_is_null():
    """The client connects from a cgroup that is gone when its record is made."""
    with Cgroup() as cg, Namespace() as ns:
        server, client = peers(ns)
        try:
            cg.adopt(client.pid)
            tracer = Tracer("--json", "--netns", str(ns.inode)).start()
            port = int(server.do("listen", "ipv4"))
            cport = int(client.do("connect", "ipv4", port))
            server.do("accept")
            gone = cg.id
            cg.release(client.pid)
            cg.remove()
            client.do("close")
            server.do("close")
            server.do("close_listener")
            wait_closed(ns)
            tracer.stop()
        finally:
            server.close()
            client.close()
        conns = [r for r in tracer.records() if r["type"] == "conn"]
        mine = [r for r in conns if r["lport"] == cport]
        check_eq(len(mine), 1, "the client's record")
        check_eq((mine[0]["cgroup_id"], mine[0]["cgroup"]), (gone, None),
                 "a removed cgroup: its id, no path")
        theirs = [r for r in conns if r["lport"] == port]
        check_eq(theirs[0]["cgroup"], "/", "the server, in the root cgroup")


@test
def test_filter_events_carry_the_cgroup_field():
    with Cgroup() as cg:
        records, kept, server, client, port, cport = run_peers(
            lambda s, c: ["--cgroup", cg.path], tracer_args=["--events"],
            setup=lambda ns, s, c: cg.adopt(c.pid))
        check_eq(sequence(records)[0], ("CLOSE", "SYN_SENT"), "the client's first transition")
        check_eq({(r["sock"], r["cgroup"], r["cgroup_id"]) for r in records},
                 {(records[0]["sock"], cg.path, cg.id)}, "one socket, in the test's cgroup")
        check_eq(kept, 7, "transitions kept back: the listener's two, the server's five")


@test
def test_filter_cgroup_that_does_not_exist_exits_2():
    done = subprocess.run([TCPWAVE, "--cgroup", "/tcpwave_no_such_cgroup_%d" % os.getpid()],
                          capture_output=True, text=True, timeout=30)
    check_eq(done.returncode, 2, "exit status")
    check(done.stderr.startswith("tcpwave: --cgroup: '/tcpwave_no_such_cgroup_"),
          "the message names the option: %r" % done.stderr)


@test
def test_filter_that_would_match_nothing_exits_2():
    for args, message in [
            (["-4", "-6"],
             "tcpwave: -6: cannot be combined with -4; leave both out for IPv4 and IPv6\n"),
            (["--laddr", "::ffff:0.0.0.0/95"],
             "tcpwave: --laddr: '::ffff:0.0.0.0/95': an IPv4-mapped prefix must be /96 or "
             "longer, as it stands for an IPv4 prefix (/96 is 0.0.0.0/0); give the IPv4 "
             "prefix instead\n")]:
        done = subprocess.run([TCPWAVE] + args, capture_output=True, text=True, timeout=30)
        check_eq((done.returncode, done.stdout, done.stderr), (2, "", message),
                 "exit status, output and message for %r" % args)
