"""Connections that leave no record are counted, not lost silently, and a
connection closing as tracing stops is printed once.

tcpwave counts each timeline it begins and each it ends. At exit, what is
neither ended nor listed as still open by the exit walks left no record, and
is reported as "unreported". An orphan (closed by its process, still closing)
of another network namespace is one such: no process holds it, and the
orphan walk (iter/tcp) sees only tcpwave's own namespace. The same orphan in
tcpwave's namespace is listed.

Each scenario holds a client's FIN back with an nftables drop, so that its
closed socket stays an orphan in FIN_WAIT1 until tcpwave has stopped."""
import collections
import re
import subprocess
import sys
import time

from harness import Peer, Tracer, check, check_eq, test
from netfilter import FIN, Drop
from netns import Netns

EXIT_LINE = re.compile(r"(\d+) connections unreported")
CHURN_S = 0.3  # of connections opened and closed before tcpwave is stopped amid them

# As fast as Python goes, until killed: a client refused, then connected on
# the same socket (a second connection of one socket), accepted, both closed.
CHURN = """
import socket
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(128)
shut = socket.socket()
shut.bind(("127.0.0.1", 0))
refusing = shut.getsockname()
print(ls.getsockname()[1], refusing[1], flush=True)
input()
while True:
    c = socket.socket()
    c.connect_ex(refusing)
    c.connect(ls.getsockname())
    s, _ = ls.accept()
    c.close()
    s.close()
"""


def orphan_at_exit(tracer_args, server, client, netns=None):
    """A connection whose client end is an orphan in FIN_WAIT1 when tcpwave
    (with tracer_args and a filter on the server's port, so that no other
    socket of the host counts) stops; the server end is still open, held by
    the server. Returns the tracer, its records and the ports (server,
    client)."""
    port = int(server.do("listen", "ipv4"))
    tracer = Tracer("--json", "-P", str(port), *tracer_args).start()
    with Drop(dport=port, flags=FIN, netns=netns):
        cport = int(client.do("connect", "ipv4", port))
        server.do("accept")
        client.do("close")
        tracer.stop()
    return tracer, tracer.records(), port, cport


def check_unreported(tracer, records, want):
    lost = [r for r in records if r["type"] == "lost" and r["reason"] == "unreported"]
    if want:
        check_eq([(r["count"], r["total"]) for r in lost], [(want, want)],
                 "unreported lost records")
        said = "%d connection%s left no record" % (want, "" if want == 1 else "s")
        check(said in tracer.stderr,
              "stderr says %d left no record: %s" % (want, tracer.stderr[-400:]))
    else:
        check_eq(lost, [], "unreported lost records")
    m = EXIT_LINE.search(tracer.stderr)
    check(m is not None, "exit summary counts unreported connections: %s" % tracer.stderr[-400:])
    check_eq(int(m.group(1)), want, "unreported in the exit summary")


def conn(records, lport, rport):
    return [r for r in records if r["type"] == "conn" and (r["lport"], r["rport"]) == (lport, rport)]


@test
def test_unreported_orphan_of_another_namespace_still_closing_at_exit():
    with Netns() as ns:
        server, client = Peer(netns=ns.name), Peer(netns=ns.name)
        try:
            tracer, records, port, cport = orphan_at_exit(
                ("-s", "--netns", str(ns.inode)), server, client, netns=ns.name)
        finally:
            server.close()
            client.close()
    check_eq(conn(records, cport, port), [], "records of the orphaned client")
    served = conn(records, port, cport)
    check_eq([(r["complete"], r["pid"]) for r in served], [(False, server.pid)],
             "the server end, listed as still open")
    check_unreported(tracer, records, 1)
    check_eq([r["connections_unreported"] for r in records if r["type"] == "summary"], [1],
             "the exit summary's unreported connections")


@test
def test_unreported_none_when_the_orphan_is_in_tcpwaves_namespace():
    server, client = Peer(), Peer()
    try:
        tracer, records, port, cport = orphan_at_exit((), server, client)
    finally:
        server.close()
        client.close()
    orphan = conn(records, cport, port)
    check_eq([(r["complete"], r["states"][-1]["state"]) for r in orphan], [(False, "FIN_WAIT1")],
             "the orphaned client, listed as still open")
    check_unreported(tracer, records, 0)


@test
def test_unreported_none_and_no_record_twice_when_stopped_amid_churn():
    """Connections close all the while tcpwave stops: each is printed once,
    as closed or as still open, and none goes unreported. The churn is in
    tcpwave's namespace, whose connections the exit walks list wherever they
    are; elsewhere, an orphan or a connection not yet accept()ed at that
    moment is rightly counted unreported (the test above)."""
    churn = subprocess.Popen([sys.executable, "-c", CHURN], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        ports = churn.stdout.readline().split()
        tracer = Tracer("--json", "-P", ",".join(ports)).start()
        churn.stdin.write("go\n")
        churn.stdin.flush()
        time.sleep(CHURN_S)
        tracer.stop()
    finally:
        churn.kill()
        churn.wait()
    conns = [r for r in tracer.records() if r["type"] == "conn"]
    check(len(conns) > 100, "connections traced amid churn: %d" % len(conns))
    twice = [k for k, n in collections.Counter((r["sock"], r["start_ts"]) for r in conns).items()
             if n > 1]
    check_eq(twice, [], "connections printed twice")
    check_unreported(tracer, tracer.records(), 0)
