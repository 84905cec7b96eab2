"""--stuck, and connections that predate tcpwave (the start-up walk).

Each test runs in a network namespace of its own (close_paths.Scenario) and
holds a connection in a close state for as long as it needs: a peer that
never closes, packets dropped with netfilter. The records checked are those
of that namespace.
"""
import re
import time

from close_paths import STATE_TIMEOUT_S, Scenario, now
from harness import (Peer, Tracer, check, check_eq, client_closes_first,
                     close_orphaned_in_fin_wait2, test)
from netfilter import ACK_ONLY, FIN, Drop
from test_schema import check_breakages

STUCK_MS = 400
TRACER_ARGS = ("--json", "--stuck", str(STUCK_MS), "--ringbuf-kb", "32768")
# The check runs every STUCK_MS / 4 (user/stuck.c). Past that, a report may
# wait for the poll loop, which stays in ring_buffer__consume() as long as
# records keep coming: on a host busy with other tests' connections, all
# written out to this test's pipe, that has taken seconds.
REPORT_SLACK_MS = STUCK_MS // 4 + 3000
# How long a test watches for a second report of the same stay: several checks.
WATCH_S = 1.0
# What docs/tcpwave.schema.json must reject of a stuck record.
STUCK_BREAKAGES = [
    ("a state that is not a close state", lambda r: r.update(state="ESTABLISHED"), "state"),
    ("an unknown age_from", lambda r: r.update(age_from="guess"), "age_from"),
    ("a negative age", lambda r: r.update(age_ns=-1), "age_ns"),
    ("no orphan", lambda r: r.pop("orphan"), "orphan"),
    ("no since_ts", lambda r: r.pop("since_ts"), "since_ts"),
]


def is_stuck(r, lport, rport):
    return r.get("type") == "stuck" and (r["lport"], r["rport"]) == (lport, rport)


def stuck_records(records, lport, rport):
    return [r for r in records if is_stuck(r, lport, rport)]


def next_stuck(sc, lport, rport, timeout_s, state=None):
    """The first stuck record of lport->rport (in `state`, if given) in the
    scenario's namespace: among those read so far (sc.seen), or the next to
    come; every record read is kept in sc.seen."""
    def match(r):
        return is_stuck(r, lport, rport) and state in (None, r["state"])

    found = [r for r in sc.seen if match(r)]
    if found:
        return found[0]
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        check(left > 0, "a stuck record of %d->%d (%s) within %.1f s; seen: %r"
              % (lport, rport, state, timeout_s,
                 [r for r in sc.seen if r.get("type") == "stuck"]))
        try:
            record = sc.tracer.next_record(left)
        except AssertionError as e:
            raise AssertionError("no stuck record of %d->%d (%s)" % (lport, rport, e))
        if record.get("netns") == sc.ns.inode:
            sc.seen.append(record)
            if match(record):
                return record


def watch(sc, seconds):
    """Keep reading tcpwave's output for a while (records kept in sc.seen)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            record = sc.tracer.next_record(max(0.01, deadline - time.monotonic()))
        except AssertionError:
            return
        if record.get("netns") == sc.ns.inode:
            sc.seen.append(record)


def check_reported_in_time(r, state, what):
    """Reported while it sat in `state`, within a check interval of MS."""
    check_eq(r["state"], state, what + " state")
    check(STUCK_MS * 1e6 <= r["age_ns"] <= (STUCK_MS + REPORT_SLACK_MS) * 1e6,
          "%s age: expected %d..%d ms, got %.1f ms"
          % (what, STUCK_MS, STUCK_MS + REPORT_SLACK_MS, r["age_ns"] / 1e6))
    check_eq(r["age_from"], "transition", what + " age_from")


def check_owner(r, peer, what):
    check_eq((r["pid"], r["tid"], r["comm"]), (peer.pid, peer.pid, "python3"), what + " owner")


def check_close_wait_held(*extra_args):
    with Scenario("ipv4", TRACER_ARGS + extra_args) as sc:
        port, cport = sc.establish()
        sc.client.do("close")
        sc.server.do("recv_eof")  # the server sits in CLOSE_WAIT from here on
        # Another connection closes at once: it must never be reported.
        quick_server, quick_client = Peer(sc.ns.name), Peer(sc.ns.name)
        try:
            qport, qcport = client_closes_first(quick_server, quick_client)
        finally:
            quick_server.close()
            quick_client.close()
        r = next_stuck(sc, port, cport, STUCK_MS / 1e3 + STATE_TIMEOUT_S)
        # It is reported while the connection is still open.
        sc.server.do("wait_state", "CLOSE_WAIT", 0)
        check_reported_in_time(r, "CLOSE_WAIT", "server")
        check_owner(r, sc.server, "server")
        check_eq((r["open"], r["orphan"], r["family"]), ("passive", False, "ipv4"),
                 "open, orphan, family")
        watch(sc, WATCH_S)
        sc.server.do("close")
        sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
        records = sc.stop()
    check_eq(len(stuck_records(records, port, cport)), 1, "stuck records of the held connection")
    # The client, an orphan waiting for the server's FIN all along (in a
    # timewait socket, or a full socket when close() held its lock as the
    # ACK came), sat in FIN_WAIT2 just as long: one report, with its owner.
    client = stuck_records(records, cport, port)
    check_eq([(r["state"], r["orphan"], r["open"]) for r in client],
             [("FIN_WAIT2", True, "active")], "stuck records of the client")
    check_reported_in_time(client[0], "FIN_WAIT2", "client")
    check_owner(client[0], sc.client, "client")
    check_eq(stuck_records(records, qport, qcport) + stuck_records(records, qcport, qport), [],
             "stuck records of the connection that closed at once")


@test
def test_stuck_close_wait_reported_once_while_open_with_its_owner():
    check_close_wait_held()


@test
def test_stuck_close_wait_classic_mode():
    check_close_wait_held("--attach", "classic")


@test
def test_stuck_half_close_reports_fin_wait2_and_close_wait():
    """The client shuts down its side and keeps the socket; the server never closes."""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        port, cport = sc.establish()
        sc.client.do("shutdown")
        sc.server.do("recv_eof")
        client = next_stuck(sc, cport, port, STUCK_MS / 1e3 + STATE_TIMEOUT_S)
        server = next_stuck(sc, port, cport, STATE_TIMEOUT_S)
        sc.client.do("wait_state", "FIN_WAIT2", 0)
        check_reported_in_time(client, "FIN_WAIT2", "client")
        check_reported_in_time(server, "CLOSE_WAIT", "server")
        check_owner(client, sc.client, "client")
        check_owner(server, sc.server, "server")
        check_eq((client["open"], client["orphan"]), ("active", False), "client open, orphan")


@test
def test_stuck_fin_wait1_while_our_fin_cannot_leave():
    """A FIN dropped at the output hook stays queued: FIN_WAIT1 lasts."""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        port, cport = sc.establish()
        with Drop(sport=cport, dport=port, flags=FIN, netns=sc.ns):
            sc.client.do("shutdown")
            r = next_stuck(sc, cport, port, STUCK_MS / 1e3 + STATE_TIMEOUT_S)
            sc.client.do("wait_state", "FIN_WAIT1", 0)
        check_reported_in_time(r, "FIN_WAIT1", "client")
        check_owner(r, sc.client, "client")


@test
def test_stuck_close_wait_then_last_ack_are_two_stays():
    """The server sits in CLOSE_WAIT, then closes while every ACK from the
    client's timewait socket is dropped, and sits in LAST_ACK: two reports."""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        port, cport = sc.establish()
        close_orphaned_in_fin_wait2(sc.client)
        sc.wait_handed_over(cport, port)
        sc.server.do("recv_eof")
        close_wait = next_stuck(sc, port, cport, STUCK_MS / 1e3 + STATE_TIMEOUT_S)
        check_reported_in_time(close_wait, "CLOSE_WAIT", "CLOSE_WAIT stay")
        with Drop(sport=cport, dport=port, flags=ACK_ONLY, netns=sc.ns):
            sc.server.do("close")
            last_ack = next_stuck(sc, port, cport, STUCK_MS / 1e3 + STATE_TIMEOUT_S,
                                  "LAST_ACK")
        check_reported_in_time(last_ack, "LAST_ACK", "LAST_ACK stay")
        # close() made the server the owner; the socket is an orphan now.
        check_owner(last_ack, sc.server, "LAST_ACK stay")
        check_eq((last_ack["orphan"], last_ack["open"]), (True, "passive"), "orphan, open")
        check(last_ack["since_ts"] > close_wait["since_ts"], "a stay of its own: %r after %r"
              % (last_ack["since_ts"], close_wait["since_ts"]))
        sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
        records = sc.stop()
    check_eq([r["state"] for r in stuck_records(records, port, cport)],
             ["CLOSE_WAIT", "LAST_ACK"], "stuck records of the server")


@test
def test_stuck_orphan_handed_to_a_timewait_socket_is_reported_while_it_waits():
    """The client closes first and its socket is handed to a timewait socket
    in FIN_WAIT2 (no transition shows it waiting); the server keeps its end
    open. The client is reported while the kernel still waits for the
    server's FIN, once, and not again after that FIN has come."""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        port, cport = sc.establish()
        close_orphaned_in_fin_wait2(sc.client)
        sc.wait_handed_over(cport, port)
        r = next_stuck(sc, cport, port, STUCK_MS / 1e3 + STATE_TIMEOUT_S)
        sc.wait_handed_over(cport, port)  # still waiting, after the report
        check_reported_in_time(r, "FIN_WAIT2", "client")
        check_owner(r, sc.client, "client")
        check_eq((r["orphan"], r["open"]), (True, "active"), "orphan, open")
        sc.server.do("close")
        sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
        watch(sc, WATCH_S)
        records = sc.stop()
    check_eq(len(stuck_records(records, cport, port)), 1, "stuck records of the client")


@test
def test_stuck_orphan_from_before_tracing_is_reported_once_its_age_comes():
    """An orphan handed to a timewait socket just before tcpwave started is
    not stuck yet when the start-up walk meets it: it is watched, and
    reported when its time in FIN_WAIT2 reaches MS, dated by the timewait
    socket's entry stamp."""
    stuck_ms = 1500
    with Scenario("ipv4", ("--json", "--stuck", str(stuck_ms)), tracing=False) as sc:
        port, cport = sc.establish()
        t_shutdown = now()  # its FIN_WAIT2 begins after this
        close_orphaned_in_fin_wait2(sc.client)
        sc.wait_handed_over(cport, port)
        sc.start_tracing()
        check(now() - t_shutdown < stuck_ms * 1e6, "tcpwave started within %d ms" % stuck_ms)
        r = next_stuck(sc, cport, port, stuck_ms / 1e3 + STATE_TIMEOUT_S)
        t_reported = now()
        sc.wait_handed_over(cport, port)
    check_eq((r["state"], r["age_from"], r["orphan"], r["open"]),
             ("FIN_WAIT2", "timewait_entry", True, "unknown"), "state, age_from, orphan, open")
    check(stuck_ms * 1e6 <= r["age_ns"] <= t_reported - t_shutdown,
          "age: expected %d..%.0f ms, got %.1f ms"
          % (stuck_ms, (t_reported - t_shutdown) / 1e6, r["age_ns"] / 1e6))


@test
def test_stuck_never_accepted_is_reported_without_owner():
    """A connection the server never accept()s goes CLOSE_WAIT in the accept
    queue: no process holds it, the owner walk finds none, and it is
    reported all the same."""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        port = int(sc.server.do("listen", "ipv4"))
        cport = int(sc.client.do("connect", "ipv4", port))
        sc.client.do("close")
        r = next_stuck(sc, port, cport, STUCK_MS / 1e3 + STATE_TIMEOUT_S)
    check_reported_in_time(r, "CLOSE_WAIT", "queued connection")
    check_eq((r["pid"], r["tid"], r["comm"], r["open"]), (None, None, None, "passive"),
             "owner and open")
    check(re.fullmatch(r"1:[A-Za-z0-9+/]{27}=", r["community_id"] or ""),
          "community_id: %r" % r["community_id"])
    check_breakages(r, STUCK_BREAKAGES)


@test
def test_stuck_close_wait_from_before_tracing_shows_its_real_age():
    """A CLOSE_WAIT that began 2 s before tcpwave started is reported at
    once, with its age, the owner found by the start-up walk, and open
    unknown; the client's end, an orphan in a timewait socket still waiting
    for the server's FIN, is reported too. A connection from before that does
    nothing while traced is not listed at the end."""
    held_s = 2.0
    with Scenario("ipv4", ("--json", "--stuck", "1000", "-v"), tracing=False) as sc:
        idle_server, idle_client = Peer(sc.ns.name), Peer(sc.ns.name)
        try:
            iport = int(idle_server.do("listen", "ipv4"))
            icport = int(idle_client.do("connect", "ipv4", iport))
            idle_server.do("accept")
            port, cport = sc.establish()
            sc.client.do("close")
            sc.server.do("recv_eof")
            t_close_wait = now()
            time.sleep(held_s)  # the age under test
            sc.start_tracing()
            check(re.search(r"start-up walk: \d+ connections? \([^)]*CLOSE_WAIT",
                            sc.tracer.stderr), "the start-up walk counted a CLOSE_WAIT: %s"
                  % [l for l in sc.tracer.stderr.splitlines() if "walk" in l])
            found = {}
            for ports in ((port, cport), (cport, port)):
                found[ports] = next_stuck(sc, *ports, timeout_s=STATE_TIMEOUT_S)
            server, client = found[(port, cport)], found[(cport, port)]
            sc.server.do("close")
            sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
            records = sc.stop()
        finally:
            idle_server.close()
            idle_client.close()
    check_eq([r for r in records if iport in (r.get("lport"), r.get("rport"))], [],
             "records of the idle connection %d <-> %d" % (icport, iport))
    for r, what in ((server, "server"), (client, "client")):
        check(held_s * 1e9 <= r["age_ns"] <= now() - t_close_wait,
              "%s age: expected %.0f..%.0f ms, got %.1f ms"
              % (what, held_s * 1e3, (now() - t_close_wait) / 1e6, r["age_ns"] / 1e6))
        check_eq(r["open"], "unknown", what + " open")
    check_eq((server["state"], server["age_from"], server["orphan"]),
             ("CLOSE_WAIT", "last_ack", False), "server state, age_from, orphan")
    check_owner(server, sc.server, "server")
    check_eq((client["state"], client["age_from"], client["orphan"], client["pid"]),
             ("FIN_WAIT2", "timewait_entry", True, None), "client state, age_from, orphan, pid")
    conn = [r for r in records if r.get("type") == "conn" and (r["lport"], r["rport"]) ==
            (port, cport)]
    check_eq(len(conn), 1, "connection records of the server")
    conn = conn[0]
    check_eq([s["state"] for s in conn["states"]], ["CLOSE_WAIT", "LAST_ACK", "CLOSE"], "states")
    check_eq((conn["open"], conn["close"], conn["pid"]), ("unknown", "passive", sc.server.pid),
             "open, close, owner")
    # Its CLOSE_WAIT began before tcpwave: the walk dated it by the peer's FIN.
    in_close_wait = conn["states"][1]["t_ns"] - conn["states"][0]["t_ns"]
    check(in_close_wait >= held_s * 1e9, "time in CLOSE_WAIT: expected at least %.0f ms, "
          "got %.1f ms" % (held_s * 1e3, in_close_wait / 1e6))


@test
def test_predating_established_connection_closes_with_its_owner_known():
    """A connection established before tcpwave started: the start-up walk
    finds both ends' owners, so even the server's transition in softirq
    names its process; its time in ESTABLISHED is not known (dur_ns null);
    the records say open unknown and how it closed."""
    with Scenario("ipv4", ("--events", "--json"), tracing=False) as sc:
        port, cport = sc.establish()
        sc.start_tracing()
        with Tracer("--json") as conns:  # connection records, alongside
            sc.client.do("close")
            sc.server.do("recv_eof")
            sc.server.do("close")
            sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
            conns.stop()
        events = sc.stop()
    records = [r for r in conns.records() if r.get("netns") == sc.ns.inode]
    first = [e for e in events if e.get("type") == "state" and (e["lport"], e["rport"]) ==
             (port, cport)][0]
    check_eq((first["old"], first["new"], first["process_ctx"]),
             ("ESTABLISHED", "CLOSE_WAIT", False), "the server's first transition")
    check_eq((first["pid"], first["comm"], first["dur_ns"]), (sc.server.pid, "python3", None),
             "its owner and time in ESTABLISHED")
    for lport, rport, peer, close in ((port, cport, sc.server, "passive"),
                                      (cport, port, sc.client, "active")):
        r = [r for r in records if r.get("type") == "conn" and (r["lport"], r["rport"]) ==
             (lport, rport)]
        check_eq(len(r), 1, "connection records of %d->%d" % (lport, rport))
        check_eq((r[0]["open"], r[0]["close"], r[0]["pid"], r[0]["states"][0]["state"]),
                 ("unknown", close, peer.pid, "ESTABLISHED"), "%s end" % close)
