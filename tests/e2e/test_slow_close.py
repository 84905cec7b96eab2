"""--slow-close, --slow-handshake and the diagnosis, and the wait of an
orphan's FIN_WAIT2 hand-over for its peer on this host, on real connections.

Each test runs in network namespaces of its own, holds states for times it
makes itself, and checks that exactly the connections it slowed are
reported, with the state, the cause, and a duration bracketed by its own
clock readings around the steps that began and ended that state (so the
check holds on a loaded host, and cannot be met by a connection that was not
held: every hold is at least a second, every threshold one second)."""
import contextlib
import subprocess
import time

from close_paths import STATE_POLL_S, STATE_TIMEOUT_S, Scenario, now
from harness import (TCPWAVE, Peer, Tracer, check, check_eq, close_orphaned_in_fin_wait2,
                     conn_record, test)
from netfilter import ACK_ONLY, FIN, SYN, Count, Drop

SLOW_MS = "1000"
HOLD_S = 1.5
DROP_S = 1.0
TRACER = ("--json", "--ringbuf-kb", "32768")
# The kernel's work between the test's clock readings and the transition (softirq).
SLACK_NS = 30_000_000
# FIN_WAIT2 begins with the ACK of our FIN, which the peer may delay: tcp_fin()
# puts it in pingpong mode, so the ACK waits for the delayed-ACK timer, at most
# TCP_DELACK_MAX (include/net/tcp.h), unless its own FIN carries it first.
DELACK_MAX_NS = 200_000_000

CLOSE_WAIT_WORDS = "the local application did not close() after the peer's FIN"
FIN_WAIT2_WORDS = "the peer did not close its side (half-closed)"


def conns(records):
    return [r for r in records if r.get("type") == "conn"]


def check_reported(records, want):
    """Exactly these (lport, rport) connections were printed."""
    check_eq(sorted((r["lport"], r["rport"]) for r in conns(records)), sorted(want),
             "connections reported")


def check_between(got, low, high, what):
    check(got is not None and low <= got <= high, "%s: expected %.1f..%.1f ms, got %s"
          % (what, low / 1e6, high / 1e6, None if got is None else "%.1f ms" % (got / 1e6)))


def duration(ns):
    """As the diagnosis writes it (user/diagnosis.c): the timeline's ms to the
    µs, and from a second on those rounded to the ms."""
    us = ns // 1000
    if ns >= 10**9:
        ms = (us + 500) // 1000
        return "%d.%03d s" % (ms // 1000, ms % 1000)
    return "%d.%03d ms" % (us // 1000, us % 1000)


def times(n):
    return "once" if n == 1 else "%d times" % n


def check_diagnosis(r, phase, state, cause, retransmits, low, high, words):
    """The record's diagnosis of `phase`: its state, cause, retransmits, and a
    duration within low..high; its sentence says words."""
    what = "%s diagnosis of %d -> %d" % (phase, r["lport"], r["rport"])
    check(r["diagnosis"] and r["diagnosis"][phase], "%s: got %r" % (what, r["diagnosis"]))
    d = r["diagnosis"][phase]
    check_eq((d["state"], d["cause"], d["retransmits"]), (state, cause, retransmits), what)
    check_between(d["ns"], low, high, what + " ns")
    check_eq(d["text"], "%s %s: %s" % (state, duration(d["ns"]), words), what + " text")


class Pair:
    """A connection in the scenario's namespace, each end a peer of its own."""

    def __init__(self, sc, stack):
        self.server = stack.enter_context(contextlib.closing(Peer(sc.ns.name)))
        self.client = stack.enter_context(contextlib.closing(Peer(sc.ns.name)))
        self.port = int(self.server.do("listen", "ipv4"))
        self.cport = int(self.client.do("connect", "ipv4", self.port))
        self.server.do("accept")


@test
def test_slow_close_reports_exactly_the_slow_closes_and_why():
    with Scenario("ipv4", TRACER + ("--slow-close", SLOW_MS)) as sc, \
            contextlib.ExitStack() as stack:
        orphan, half, fast = Pair(sc, stack), Pair(sc, stack), Pair(sc, stack)
        t_begin = now()
        # The client closes first: an orphan, handed over in FIN_WAIT2 at once.
        orphan.client.do("close")
        orphan.server.do("recv_eof")
        # The client only shuts down: its own socket waits in FIN_WAIT2.
        half.client.do("shutdown")
        half.server.do("recv_eof")
        t_held = now()
        fast.client.do("close")
        fast.server.do("recv_eof")
        fast.server.do("close")
        time.sleep(HOLD_S)  # both servers sit in CLOSE_WAIT, both clients in FIN_WAIT2
        t_release = now()
        orphan.server.do("close")
        half.server.do("close")
        half.client.do("recv_eof")
        t_released = now()
        half.client.do("close")
        # Printed when its peer's record came, before tracing ends.
        sc.wait_for(orphan.cport, orphan.port, "FIN_WAIT2", "CLOSE")
        records = sc.stop()
    check_reported(records, [(orphan.port, orphan.cport), (orphan.cport, orphan.port),
                             (half.port, half.cport), (half.cport, half.port)])
    low, high = t_release - t_held, t_released - t_begin
    for pair in (orphan, half):
        server = conn_record(records, pair.port, pair.cport)
        check_diagnosis(server, "close", "CLOSE_WAIT", "local_app_did_not_close", 0, low, high,
                        CLOSE_WAIT_WORDS)
        client = conn_record(records, pair.cport, pair.port)
        check_diagnosis(client, "close", "FIN_WAIT2", "peer_did_not_close", 0,
                        low - DELACK_MAX_NS, high, FIN_WAIT2_WORDS)
        for r in (server, client):
            check_eq(r["diagnosis"]["handshake"], None, "handshake diagnosis on loopback")
            check_between(r["close_ns"], low, high + SLACK_NS, "close_ns %d" % r["lport"])
    client = conn_record(records, orphan.cport, orphan.port)
    check_eq((client["handover"], client["fin_wait2_end"], client["time_wait"]),
             ("FIN_WAIT2", "peer_fin", False), "the orphan's hand-over and its learned end")
    check(client["lifetime_ns"] >= client["close_ns"], "lifetime covers the close: %r" % client)
    client = conn_record(records, half.cport, half.port)
    check_eq((client["handover"], client["fin_wait2_end"]), ("TIME_WAIT", None),
             "the half-closed client's hand-over")


@test
def test_slow_close_last_ack_whose_final_ack_was_lost():
    """As close_paths.last_ack_with_lost_acks, but the client's pure ACKs are
    dropped from before it closes (its FIN is no pure ACK, and nothing else
    of it needs to pass), so that the server can close right after it: the
    client's own close stays short, and is not reported."""
    with Scenario("ipv4", TRACER + ("--slow-close", SLOW_MS)) as sc:
        port, cport = sc.establish()
        with Drop(sport=cport, dport=port, flags=ACK_ONLY, netns=sc.ns) as acks, \
                Count(sport=port, dport=cport, flags=FIN, netns=sc.ns) as fins:
            close_orphaned_in_fin_wait2(sc.client)
            sc.wait_handed_over(cport, port)
            sc.server.do("recv_eof")
            t_close = now()
            sc.server.do("close")
            t_closed = now()
            time.sleep(DROP_S)  # its FIN is retransmitted, every ACK of it lost
            t_lift = now()
            acks.lift()
            sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
            t_seen = now()
        records = sc.stop()
    check_reported(records, [(port, cport)])
    server = conn_record(records, port, cport)
    fin_retrans = fins.packets() - 1
    check(fin_retrans >= 2, "FINs retransmitted into the drop: %d" % fin_retrans)
    check_eq(server["retrans"]["fin"], fin_retrans, "server FIN retransmits")
    check_diagnosis(server, "close", "LAST_ACK", "fin_retransmitted", fin_retrans,
                    t_lift - t_closed, t_seen - t_close,
                    "the final ACK did not arrive, FIN retransmitted %s" % times(fin_retrans))


@test
def test_slow_close_fin_wait1_whose_fin_went_unacknowledged():
    """The client shuts down and every pure ACK from the server is dropped: its
    FIN is retransmitted until the drop is lifted. The server waits for the
    test to close, so its CLOSE_WAIT is slow too, and reported as such."""
    with Scenario("ipv4", TRACER + ("--slow-close", SLOW_MS)) as sc:
        port, cport = sc.establish()
        with Drop(sport=port, dport=cport, flags=ACK_ONLY, netns=sc.ns) as acks, \
                Count(sport=cport, dport=port, flags=FIN, netns=sc.ns) as fins:
            t_shutdown = now()
            sc.client.do("shutdown")
            t_shut = now()
            sc.server.do("recv_eof")
            time.sleep(DROP_S)
            t_lift = now()
            acks.lift()
            sc.client.do("wait_state", "FIN_WAIT2", STATE_TIMEOUT_S)
            t_acked = now()
        sc.server.do("close")
        sc.client.do("recv_eof")
        t_server_closed = now()
        sc.client.do("close")
        sc.wait_for(cport, port, "FIN_WAIT2", "CLOSE")
        records = sc.stop()
    check_reported(records, [(cport, port), (port, cport)])
    client = conn_record(records, cport, port)
    fin_retrans = fins.packets() - 1
    check(fin_retrans >= 2, "FINs retransmitted into the drop: %d" % fin_retrans)
    check_eq(client["retrans"]["fin"], fin_retrans, "client FIN retransmits")
    check_diagnosis(client, "close", "FIN_WAIT1", "fin_retransmitted", fin_retrans,
                    t_lift - t_shut, t_acked - t_shutdown + SLACK_NS,
                    "our FIN went unacknowledged, retransmitted %s" % times(fin_retrans))
    check_diagnosis(conn_record(records, port, cport), "close", "CLOSE_WAIT",
                    "local_app_did_not_close", 0, t_acked - t_shut,
                    t_server_closed - t_shutdown, CLOSE_WAIT_WORDS)


def drain(sc):
    """Read what tcpwave has printed so far for the scenario's namespace."""
    while not sc.tracer.lines.empty():
        r = sc.tracer.next_record()
        if r.get("netns") == sc.ns.inode:
            sc.seen.append(r)


def stop_all(*tracers):
    for tracer in tracers:
        tracer.stop()
        check_eq(tracer.returncode, 0, "tcpwave %s exit status" % " ".join(tracer.args[1:]))


@test
def test_orphan_waits_for_its_local_peer_and_counts_its_fin_wait2():
    """The client closes first; its peer on loopback closes a second later.
    The client's record waits for the server's, then comes at once, its close
    a second long; the table and the timeline say so too."""
    with Scenario("ipv4", TRACER) as sc, contextlib.ExitStack() as stack:
        timeline = stack.enter_context(Tracer("--timeline"))
        table = stack.enter_context(Tracer())
        port, cport = sc.establish()
        t_close = now()
        sc.client.do("close")
        t_closed = now()
        sc.server.do("recv_eof")
        time.sleep(DROP_S)  # the server's application takes a second to close
        # A record that does not wait is printed within 100 ms (README: Output).
        drain(sc)
        check(not [r for r in sc.seen if r.get("lport") == cport],
              "the client's record waits for its peer's: %r" % sc.seen)
        t_peer_close = now()
        sc.server.do("close")
        t_peer_closed = now()
        sc.wait_for(cport, port, "FIN_WAIT2", "CLOSE")
        records = sc.stop()
        stop_all(timeline, table)
    client = conn_record(records, cport, port)
    low, high = t_peer_close - t_closed, t_peer_closed - t_close + SLACK_NS
    check_eq((client["handover"], client["fin_wait2_end"]), ("FIN_WAIT2", "peer_fin"),
             "hand-over and its end")
    check_between(client["close_ns"], low, high, "client close_ns (with the peer's second)")
    check_diagnosis(client, "close", "FIN_WAIT2", "peer_did_not_close", 0, low - DELACK_MAX_NS,
                    high, FIN_WAIT2_WORDS)
    # The timeline: the hand-over with its learned end, and the diagnosis.
    header = "127.0.0.1:%d -> 127.0.0.1:%d pid %d " % (cport, port, sc.client.pid)
    blocks = [b for b in timeline.stdout.split("\n\n") if header in b]
    check(len(blocks) == 1, "one timeline of %s: %r" % (header, blocks))
    for words in ("closed by the application; the peer's FIN came ",
                  "\n  diagnosis: FIN_WAIT2 ", ": %s" % FIN_WAIT2_WORDS):
        check(words in blocks[0], "timeline has %r: %s" % (words, blocks[0]))
    # The table: CLOSE_MS with the second, the diagnosis last.
    lines = [l for l in table.stdout.splitlines()
             if l.split()[1:2] == [str(sc.client.pid)] and "127.0.0.1:%d " % cport in l]
    check(len(lines) == 1, "one table line of the client: %r" % lines)
    fields = lines[0].split(None, 10)
    check_between(float(fields[9]) * 1e6, low - 1e3, high, "table CLOSE_MS")
    check(fields[10].startswith("FIN_WAIT2 ") and fields[10].endswith(FIN_WAIT2_WORDS),
          "table DIAGNOSIS: %r" % fields[10])


@test
def test_orphan_still_waiting_when_tracing_ends_is_printed_as_waiting():
    with Scenario("ipv4", TRACER) as sc:
        port, cport = sc.establish()
        close_orphaned_in_fin_wait2(sc.client)
        sc.server.do("recv_eof")  # and stays in CLOSE_WAIT
        records = sc.stop()
    client = conn_record(records, cport, port)
    check_eq((client["handover"], client["fin_wait2_end"], client["diagnosis"]),
             ("FIN_WAIT2", "waiting", None), "hand-over, its end, diagnosis")
    check(client["close_ns"] < 1e9, "close_ns up to the hand-over: %r" % client["close_ns"])
    server = conn_record(records, port, cport)
    check_eq((server["complete"], server["states"][-1]["state"]), (False, "CLOSE_WAIT"),
             "the server at exit")


@test
def test_orphan_still_waiting_when_tracing_ends_is_diagnosed_by_its_fin_wait2_so_far():
    """Its peer never closes: --slow-close takes the orphan by how long its
    FIN_WAIT2 had lasted when tracing ended, and its diagnosis says so."""
    with Scenario("ipv4", TRACER + ("--slow-close", SLOW_MS)) as sc:
        port, cport = sc.establish()
        t_close = now()
        close_orphaned_in_fin_wait2(sc.client)
        t_fin_wait2 = now()
        sc.server.do("recv_eof")  # and stays in CLOSE_WAIT
        time.sleep(int(SLOW_MS) / 1000)  # the close lasts past the threshold
        t_stop = now()
        records = sc.stop()
        t_stopped = now()
    client = conn_record(records, cport, port)
    check_eq(client["fin_wait2_end"], "waiting", "fin_wait2_end")
    close = (client["diagnosis"] or {}).get("close") or {}
    check_eq((close.get("state"), close.get("cause")), ("FIN_WAIT2", "peer_did_not_close"),
             "the close's diagnosis: %r" % client["diagnosis"])
    check_between(close["ns"], t_stop - t_fin_wait2, t_stopped - t_close,
                  "FIN_WAIT2 until tracing ended")
    check(close["text"].endswith(", then the kernel took the connection over, still waiting "
                                 "for the peer's FIN when tracing ended"),
          "the sentence: %r" % close["text"])


class ScenarioTracedFromInside(Scenario):
    """tcpwave runs inside the scenario's namespace: its own namespace."""

    def start_tracing(self):
        self.tracer = Tracer(*self.tracer_args)
        self.tracer.args = ["ip", "netns", "exec", self.ns.name] + self.tracer.args
        self.tracer.start()


@test
def test_orphan_still_closing_when_tracing_ends_is_printed_incomplete():
    """No process holds an orphan's file, so the end-of-tracing walk of the
    sockets processes hold cannot meet it; the walk of tcpwave's own
    namespace does. Here the client's FIN cannot leave: close() leaves it
    in FIN_WAIT1, orphaned, when tracing ends."""
    with ScenarioTracedFromInside("ipv4", TRACER) as sc:
        port, cport = sc.establish()
        with Drop(sport=cport, dport=port, flags=FIN, netns=sc.ns):
            sc.client.do("close")
            records = sc.stop()
    client = conn_record(records, cport, port)
    check_eq((client["complete"], [s["state"] for s in client["states"]], client["pid"]),
             (False, ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1"], sc.client.pid),
             "the orphan at exit: complete, states, owner")
    server = conn_record(records, port, cport)
    check_eq((server["complete"], server["states"][-1]["state"]), (False, "ESTABLISHED"),
             "the server at exit")


@test
def test_no_fin_wait2_hold_prints_the_orphan_at_once():
    with Scenario("ipv4", TRACER + ("--no-fin-wait2-hold",)) as sc:
        port, cport = sc.establish()
        close_orphaned_in_fin_wait2(sc.client)
        sc.server.do("recv_eof")
        # Printed while the server still holds CLOSE_WAIT.
        sc.wait_for(cport, port, "FIN_WAIT2", "CLOSE")
        sc.server.do("close")
        records = sc.stop()
    check_eq(conn_record(records, cport, port)["fin_wait2_end"], "waiting", "fin_wait2_end")


@test
def test_slow_handshake_reports_the_connect_whose_syns_were_lost():
    with Scenario("ipv4", TRACER + ("--slow-handshake", SLOW_MS)) as sc:
        port = int(sc.server.do("listen", "ipv4"))
        with Drop(dport=port, flags=SYN, netns=sc.ns) as syns:
            t_connect = now()
            sc.client.do("connect_nowait", "ipv4", "127.0.0.1", port)
            t_sent = now()
            # The first SYN and its first retransmission (1 s later) are lost.
            deadline = time.monotonic() + STATE_TIMEOUT_S
            while syns.packets() < 2:
                check(time.monotonic() < deadline, "two SYNs dropped within %d s"
                      % STATE_TIMEOUT_S)
                time.sleep(STATE_POLL_S)
            t_lift = now()
            syns.lift()
        sc.client.do("wait_connect", STATE_TIMEOUT_S)
        t_connected = now()
        cport = int(sc.server.do("accept"))
        sc.client.do("close")
        sc.server.do("recv_eof")
        sc.server.do("close")
        sc.wait_for(cport, port, "SYN_SENT", "ESTABLISHED")
        records = sc.stop()
    # The server's own handshake began with the SYN that got through: fast.
    check_reported(records, [(cport, port)])
    client = conn_record(records, cport, port)
    dropped = syns.packets()
    check_eq(client["retrans"]["syn"], dropped, "SYN retransmits: every dropped SYN was resent")
    low, high = t_lift - t_sent, t_connected - t_connect
    check_between(client["handshake_ns"], low, high, "handshake_ns")
    check_diagnosis(client, "handshake", "SYN_SENT", "syn_retransmitted", dropped, low, high,
                    "our SYN went unanswered, retransmitted %s" % times(dropped))
    check_eq(client["diagnosis"]["close"], None, "close diagnosis of a quick close")


@test
def test_slow_options_exit_2_naming_the_option():
    for args, name in [(["--slow-close", "-5"], "--slow-close"),
                       (["--slow-handshake", "1.5"], "--slow-handshake"),
                       (["--slow-close", "31622400001"], "--slow-close"),
                       (["--events", "--slow-handshake", "10"], "--slow-handshake"),
                       (["--events", "--no-fin-wait2-hold"], "--no-fin-wait2-hold")]:
        run = subprocess.run([TCPWAVE] + args, capture_output=True, text=True, timeout=30)
        check_eq(run.returncode, 2, "exit status for %r" % args)
        check(run.stderr.startswith("tcpwave: %s: " % name),
              "message for %r names %s: %r" % (args, name, run.stderr))
