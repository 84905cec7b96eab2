"""Connection records: one per connection, with its whole story, on both ends."""
import calendar
import os
import pty
import re
import select
import subprocess
import time

from harness import (REPLY_TIMEOUT_S, TCPWAVE, Peer, Tracer, check, check_eq, state_names,
                     test, wait_until_tracing)
from netfilter import FIN, RST, SYN, Drop

# How far a duration tcpwave reports may be from the delay the test made.
TOLERANCE_NS = 30 * 1000 * 1000


def conn_records(tracer):
    return [r for r in tracer.records() if r.get("type") == "conn"]


def find_conn(records, lport, rport):
    """The one connection record with these ports."""
    found = [r for r in records if r["lport"] == lport and r["rport"] == rport]
    check(len(found) == 1, "one record for %d -> %d, got %d: %r" % (lport, rport, len(found), found))
    return found[0]


def check_fields(record, what, **want):
    for key, value in want.items():
        check_eq(record[key], value, "%s %s" % (what, key))


def check_near(got_ns, want_ns, what):
    check(got_ns is not None and abs(got_ns - want_ns) <= TOLERANCE_NS,
          "%s: expected %.1f ms (within %d ms), got %s ms"
          % (what, want_ns / 1e6, TOLERANCE_NS // 1000000,
             None if got_ns is None else "%.1f" % (got_ns / 1e6)))


class Pair:
    """A listening server and a client, each its own process, connected."""

    def __init__(self, family="ipv4"):
        self.server, self.client = Peer(), Peer()
        self.port = int(self.server.do("listen", family))
        self.cport = int(self.client.do("connect", family, self.port))
        self.server.do("accept")

    def records(self, records):
        """(client record, server record)."""
        return (find_conn(records, self.cport, self.port),
                find_conn(records, self.port, self.cport))

    def wait_closed(self):
        """Until neither end is in a state before CLOSE but the timewait ones:
        close() returns before the last ACK of a close, or the RST of an
        abort, has reached the other end, and tracing that stopped first
        would rightly list that end as still open."""
        argv = ["ss", "-tanH"] + [w for state in OPEN_STATES for w in ("state", state)] + \
            ["( sport = :%d or dport = :%d )" % (self.cport, self.cport)]
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while subprocess.run(argv, capture_output=True, text=True, check=True).stdout:
            check(time.monotonic() < deadline, "port %d closed on both ends within %d s"
                  % (self.cport, REPLY_TIMEOUT_S))
            time.sleep(0.01)

    def close(self):
        self.server.close()
        self.client.close()


# ss's names of the states a connection leaves only by a transition still to come.
OPEN_STATES = ("syn-sent", "syn-recv", "established", "fin-wait-1", "close-wait", "last-ack",
               "closing")


def run(scenario, *tracer_args, family="ipv4"):
    """Trace one connection through scenario(pair), to its end on both sides;
    returns (pair, client, server)."""
    tracer = Tracer("--json", *tracer_args).start()
    pair = Pair(family)
    try:
        scenario(pair)
        pair.wait_closed()
        tracer.stop()
        check_eq(tracer.returncode, 0, "tcpwave's exit status")
        client, server = pair.records(conn_records(tracer))
        return pair, client, server
    finally:
        pair.close()
        if tracer.returncode is None:
            tracer.proc.kill()


CLIENT_STATES = ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"]
SERVER_PASSIVE_STATES = ["SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"]
HOLD_S = 0.3


def client_closes_first(family, *tracer_args):
    held = {}

    def scenario(p):
        p.client.do("send", 100)
        started = time.monotonic_ns()
        p.client.do("close")
        p.server.do("recv_eof")
        time.sleep(HOLD_S)  # the delay under test: the server sits in CLOSE_WAIT
        p.server.do("close")
        held["ns"] = time.monotonic_ns() - started

    pair, client, server = run(scenario, *tracer_args, family=family)
    check_fields(client, "client", open="active", close="active", reset_by=None,
                 pid=pair.client.pid, family=family, tx_bytes=100, rx_bytes=0, complete=True)
    check_fields(server, "server", open="passive", close="passive", reset_by=None,
                 pid=pair.server.pid, family=family, rx_bytes=100, tx_bytes=0, complete=True)
    check_eq(state_names(client), CLIENT_STATES, "client states")
    check_eq(state_names(server), SERVER_PASSIVE_STATES, "server states")
    # The client closed before the server's FIN: an orphan, handed to a
    # timewait socket in the FIN_WAIT2 substate at once. Not TIME_WAIT.
    check_fields(client, "client", time_wait=False, handover="FIN_WAIT2")
    check_fields(server, "server", time_wait=False, handover=None)
    check_near(server["close_ns"], held["ns"], "server close_ns (CLOSE_WAIT held by the test)")
    cw = server["states"][3]["t_ns"] - server["states"][2]["t_ns"]
    check_near(cw, HOLD_S * 1e9, "server time in CLOSE_WAIT")
    for r in (client, server):
        check(r["handshake_ns"] is not None and 0 < r["handshake_ns"] < 50e6,
              "handshake on loopback takes microseconds: %r" % r["handshake_ns"])
        check(r["lifetime_ns"] >= r["close_ns"] > 0, "lifetime covers the close: %r" % r)
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", r["ts"]), "ts: %r" % r["ts"])
        check_eq(r["retrans"], {"syn": 0, "synack": 0, "fin": 0, "data": 0}, "retransmits")
    return client, server


@test
def test_conn_client_closes_first_both_ends_ipv4():
    client_closes_first("ipv4")


@test
def test_conn_client_closes_first_both_ends_ipv6():
    client_closes_first("ipv6")


@test
def test_conn_classic_fallback_gives_the_same_records():
    client_closes_first("ipv4", "--attach", "classic")


@test
def test_conn_server_closes_first():
    def scenario(p):
        p.server.do("close")
        p.client.do("recv_eof")
        p.client.do("close")

    pair, client, server = run(scenario)
    check_fields(server, "server", open="passive", close="active", pid=pair.server.pid)
    check_fields(client, "client", open="active", close="passive", pid=pair.client.pid)
    check_eq(state_names(server), ["SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"],
             "server states")
    check_eq(state_names(client), ["SYN_SENT", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"],
             "client states")


@test
def test_conn_idle_host_prints_both_ends_within_100_ms_of_the_last_close():
    """The performance target's latency: a connection on an idle host is
    printed within 100 ms of its close. Timed from before the second close,
    which the record of each end waits for (the client's orphan in FIN_WAIT2
    waits for its local peer), to the line's arrival."""
    server, client = Peer(), Peer()
    try:
        tracer = Tracer("--json").start()
        port = int(server.do("listen", "ipv4"))
        delays = []
        for _ in range(5):
            cport = int(client.do("connect", "ipv4", port))
            server.do("accept")
            client.do("close")
            closing_ns = time.monotonic_ns()
            server.do("close")
            ends = set()
            while len(ends) < 2:
                record = tracer.next_record()
                if cport in (record["lport"], record["rport"]):
                    ends.add(record["lport"])
                    delays.append((time.monotonic_ns() - closing_ns) / 1e6)
            check_eq(ends, {cport, port}, "both ends' records")
        tracer.stop()
        check(max(delays) < 100, "each record within 100 ms of the close: %r ms" % delays)
    finally:
        server.close()
        client.close()


@test
def test_conn_shutdown_then_peer_fin_hands_over_to_time_wait():
    def scenario(p):
        p.client.do("shutdown")  # FIN, but the socket stays open: no orphan
        p.server.do("recv_eof")
        p.server.do("close")
        p.client.do("recv_eof")  # the server's FIN has arrived
        p.client.do("close")

    pair, client, server = run(scenario)
    check_eq(state_names(client), CLIENT_STATES, "client states")
    check_fields(client, "client", close="active", time_wait=True, handover="TIME_WAIT",
                 handover_hold_ns=60 * 10**9, tw_overflow=False)
    check_fields(server, "server", close="passive", time_wait=False)


def check_abort(closer, scenario):
    pair, client, server = run(scenario)
    local, remote = (client, server) if closer == "client" else (server, client)
    check_fields(local, closer, close="reset", reset_by="local", time_wait=False)
    check_fields(remote, "its peer", close="reset", reset_by="peer", error="ECONNRESET",
                 reset_reason=None)
    check(local["reset_reason"] is not None, "the kernel's reason for our RST: %r" % local)
    check_eq(state_names(local)[-2:], ["ESTABLISHED", "CLOSE"], "%s's last states" % closer)
    check_eq(state_names(remote)[-2:], ["ESTABLISHED", "CLOSE"], "peer's last states")
    check_eq(local["pid"], (pair.client if closer == "client" else pair.server).pid, "owner")


@test
def test_conn_linger0_from_client_is_a_local_reset_and_a_peer_reset():
    check_abort("client", lambda p: p.client.do("abort"))


@test
def test_conn_linger0_from_server_is_a_local_reset_and_a_peer_reset():
    check_abort("server", lambda p: p.server.do("abort"))


@test
def test_conn_data_after_our_shutdown_is_our_reset_not_the_peers():
    """The kernel aborts a connection that receives data after shutdown(SHUT_RD):
    tcp_reset() runs (firing tcp_receive_reset) and we send the RST."""
    def scenario(p):
        p.server.do("shutdown_both")
        p.client.do("recv_eof")  # the server's FIN arrived: it is in FIN_WAIT2
        p.client.do("send", 10)
        p.client.do("close")

    pair, client, server = run(scenario)
    check_fields(server, "server", close="reset", reset_by="local",
                 reset_reason="TCP_ABORT_ON_DATA")
    check_eq(state_names(server)[-3:], ["FIN_WAIT1", "FIN_WAIT2", "CLOSE"], "server's last states")
    check_fields(client, "client", close="reset", reset_by="peer")


@test
def test_conn_data_after_our_close_is_our_reset_not_the_peers():
    """The same abort on data, of an orphan: the server's close() leaves it in
    FIN_WAIT1 (its FIN held back), the client's data then reaches it. The
    kernel destroys the orphan before it sends the RST."""
    def scenario(p):
        with Drop(sport=p.port, flags=FIN):
            p.server.do("close")
            p.client.do("send", 10)
            p.client.do("wait_state", "CLOSE", REPLY_TIMEOUT_S)

    for mode in ("btf", "classic"):
        pair, client, server = run(scenario, "--attach", mode)
        check_fields(server, "%s: server" % mode, close="reset", reset_by="local",
                     reset_reason="TCP_ABORT_ON_DATA")
        check_eq(state_names(server)[-2:], ["FIN_WAIT1", "CLOSE"], "%s: server's last states" % mode)
        check_fields(client, "%s: client" % mode, close="reset", reset_by="peer")


@test
def test_conn_peer_reset_after_our_close_is_the_peers():
    """The client vanishes (its RST dropped); the server's close() then sends
    a FIN, which the client's host answers with a RST. It reaches the server
    in FIN_WAIT1 with its reception shut by close(), as the kernel's abort on
    data would (the test above), but no RST of the server's follows."""
    def scenario(p):
        with Drop(sport=p.cport, flags=RST) as client_rst:
            p.client.do("abort")
        check_eq(client_rst.packets(), 1, "the client's RST dropped")
        p.server.do("close")

    pair, client, server = run(scenario)
    check_fields(server, "server", close="reset", reset_by="peer", conn_state="RSTO",
                 error="ECONNRESET", reset_reason=None)
    check_eq(state_names(server)[-2:], ["FIN_WAIT1", "CLOSE"], "server's last states")
    check_fields(client, "client", close="reset", reset_by="local")


def check_reset_before_the_server_acted(*tracer_args):
    """The client resets its connection before the server read, wrote or
    closed its end: the server's socket reaches CLOSE in softirq with no
    owner. Its record waits for the server's close(), which names the
    server, and keeps the times of the reset."""
    tracer = Tracer("--json", *tracer_args).start()
    pair = Pair()
    try:
        pair.client.do("abort")
        pair.wait_closed()
        reset_ns = time.monotonic_ns()
        client = None
        while client is None:
            r = tracer.next_record()
            if r.get("type") == "conn" and (r["lport"], r["rport"]) == (pair.cport, pair.port):
                client = r
        check_fields(client, "client", close="reset", reset_by="local", pid=pair.client.pid)
        try:
            early = tracer.next_record(HOLD_S)
        except AssertionError:
            early = None
        check(early is None, "nothing before the server's close(): %r" % early)
        pair.server.do("close")
        server = tracer.next_record()
        check_fields(server, "server", type="conn", lport=pair.port, rport=pair.cport,
                     pid=pair.server.pid, open="passive", close="reset", reset_by="peer",
                     error="ECONNRESET", complete=True, lost_events=False)
        check_eq(state_names(server), ["SYN_RECV", "ESTABLISHED", "CLOSE"], "server states")
        check(server["lifetime_ns"] < time.monotonic_ns() - reset_ns,
              "the record ends at the reset, not at the close %.0f ms later: lifetime %r"
              % (HOLD_S * 1e3, server["lifetime_ns"]))
        tracer.stop()
        check_eq(tracer.returncode, 0, "tcpwave's exit status")
    finally:
        pair.close()
        if tracer.returncode is None:
            tracer.proc.kill()


@test
def test_conn_reset_before_the_server_acted_waits_for_its_close():
    check_reset_before_the_server_acted()


@test
def test_conn_reset_before_the_server_acted_waits_in_classic_mode_too():
    check_reset_before_the_server_acted("--attach", "classic")


@test
def test_conn_reset_before_the_server_acted_and_held_at_exit_is_listed_complete():
    """The same connection, its server socket still held when tracing stops:
    the exit walks list its waiting record, complete, named after the
    process holding it, and count it as reported."""
    tracer = Tracer("--json").start()
    pair = Pair()
    try:
        pair.client.do("abort")
        pair.wait_closed()
        tracer.stop()
        check_eq(tracer.returncode, 0, "tcpwave's exit status")
        records = tracer.records()
        server = find_conn(conn_records(tracer), pair.port, pair.cport)
        check_fields(server, "server", pid=pair.server.pid, close="reset", reset_by="peer",
                     complete=True)
        check_eq([r for r in records if r.get("type") == "lost"], [], "loss records")
        check(" 0 connections unreported," in tracer.stderr, "exit line: %s" % tracer.stderr)
    finally:
        pair.close()
        if tracer.returncode is None:
            tracer.proc.kill()


@test
def test_conn_refused_connect():
    server, client = Peer(), Peer()
    try:
        with Tracer("--json") as tracer:
            port = int(server.do("listen", "ipv4"))
            server.do("close_listener")  # the port is now closed
            reply = client.try_do("connect", "ipv4", port)
            cport = int(client.do("local_port"))
            tracer.stop()
        check_eq(reply, "err ECONNREFUSED", "connect()")
        found = [r for r in conn_records(tracer) if r["rport"] == port]
        check_eq(len(found), 1, "records for the refused connect")
        r = found[0]
        check_fields(r, "refused", open="active", close="refused", reset_by="peer",
                     error="ECONNREFUSED", pid=client.pid, handshake_ns=None, close_ns=None,
                     time_wait=False, lport=cport)
        check_eq(state_names(r), ["SYN_SENT", "CLOSE"], "states")
    finally:
        server.close()
        client.close()


@test
def test_conn_still_open_at_exit_is_printed_incomplete():
    tracer = Tracer("--json").start()
    pair = Pair()
    try:
        pair.client.do("send", 10)
        tracer.stop()
        client, server = pair.records(conn_records(tracer))
    finally:
        pair.close()
    for r, peer, what in ((client, pair.client, "client"), (server, pair.server, "server")):
        check_fields(r, what, complete=False, close=None, lifetime_ns=None, close_ns=None,
                     pid=peer.pid)
        check_eq(state_names(r)[-1], "ESTABLISHED", "%s state at exit" % what)
    check_eq(client["tx_bytes"], 10, "bytes sent so far")


@test
def test_conn_still_connecting_at_exit_has_its_local_port():
    """A connect whose SYNs are dropped is in SYN_SENT as tracing ends. Its
    one transition came before the kernel picked its port; the exit walk
    reads the port from the socket."""
    server, client = Peer(), Peer()
    try:
        port = int(server.do("listen", "ipv4"))
        with Drop(dport=port, flags=SYN), Tracer("--json") as tracer:
            client.do("connect_nowait", "ipv4", "127.0.0.1", port)
            cport = int(client.do("local_port"))
            client.do("wait_state", "SYN_SENT", REPLY_TIMEOUT_S)
            tracer.stop()
        found = [r for r in conn_records(tracer) if r["rport"] == port]
        check_eq(len(found), 1, "records of the connect")
        check_fields(found[0], "connecting", lport=cport, complete=False, open="active",
                     pid=client.pid)
        check_eq(state_names(found[0]), ["SYN_SENT"], "states")
        check(found[0]["community_id"] is not None, "a Community ID: %r" % found[0])
    finally:
        server.close()
        client.close()


def rfc3339_ns(text):
    """2026-12-03T13:46:43.855063383Z as ns since the epoch, exactly."""
    seconds, fraction = text.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(seconds, "%Y-%m-%dT%H:%M:%S")) * 10**9 + int(fraction)


@test
def test_conn_still_retrying_its_syn_at_exit_is_diagnosed():
    """Its SYNs dropped, a connect is in SYN_SENT, its SYN retransmitted, as
    tracing ends: the handshake is diagnosed up to then."""
    server, client = Peer(), Peer()
    try:
        port = int(server.do("listen", "ipv4"))
        with Drop(dport=port, flags=SYN), Tracer("--json") as tracer:
            client.do("connect_nowait", "ipv4", "127.0.0.1", port)
            client.do("wait_retransmits", 1, REPLY_TIMEOUT_S)
            tracer.stop()
        found = [r for r in conn_records(tracer) if r["rport"] == port]
        check_eq(len(found), 1, "records of the connect")
        r = found[0]
        check_fields(r, "connecting", complete=False, handshake_ns=None, close_ns=None)
        check(r["diagnosis"] and r["diagnosis"]["handshake"],
              "a handshake diagnosis: %r" % r["diagnosis"])
        hs = r["diagnosis"]["handshake"]
        check_eq((hs["state"], hs["cause"], hs["retransmits"]),
                 ("SYN_SENT", "syn_retransmitted", r["retrans"]["syn"]), "diagnosis")
        check(r["retrans"]["syn"] >= 1, "SYN retransmitted: %r" % r["retrans"])
        check_eq(hs["ns"], rfc3339_ns(r["ts"]) - rfc3339_ns(r["start_ts"]),
                 "handshake so far: from its SYN to the end of tracing")
        check(hs["text"].endswith(", and it was still open when tracing ended"),
              "sentence: %r" % hs["text"])
        check_eq(r["diagnosis"]["close"], None, "close diagnosis")
    finally:
        server.close()
        client.close()


@test
def test_conn_opened_before_tracing_is_open_unknown():
    pair = Pair()
    tracer = Tracer("--json").start()
    try:
        pair.client.do("close")
        pair.server.do("recv_eof")
        pair.server.do("close")
        pair.wait_closed()
        tracer.stop()
        client, server = pair.records(conn_records(tracer))
    finally:
        pair.close()
    check_fields(client, "client", open="unknown", close="active", handshake_ns=None,
                 lifetime_ns=None, pid=pair.client.pid)
    check_fields(server, "server", open="unknown", close="passive", handshake_ns=None)
    check_eq(state_names(client), ["ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"], "client states")
    check_eq(state_names(server), ["ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"], "server states")
    # The server never transitioned in process context before its close;
    # its owner is the process that closed it.
    check_eq(server["pid"], pair.server.pid, "server owner")


@test
def test_conn_table_and_timeline_show_the_same_story():
    for args in ((), ("--timeline",)):
        tracer = Tracer(*args).start()
        pair = Pair()
        try:
            pair.client.do("close")
            pair.server.do("recv_eof")
            pair.server.do("close")
            tracer.stop()
        finally:
            pair.close()
        out = tracer.stdout
        if not args:
            check(out.splitlines()[0].split() == ["TIME", "PID", "COMM", "LOCAL", "REMOTE", "OPEN",
                                                  "CLOSE", "HS_MS", "LIFE_MS", "CLOSE_MS",
                                                  "DIAGNOSIS"],
                  "table header: %r" % out.splitlines()[0])
            line = [l for l in out.splitlines() if " 127.0.0.1:%d " % pair.port in l
                    and l.split()[3] == "127.0.0.1:%d" % pair.port][0].split()
            check_eq(line[1:3], [str(pair.server.pid), "python3"], "server owner columns")
            check_eq(line[5:7], ["passive", "passive"], "open and close columns")
            check(re.fullmatch(r"\d+\.\d{3}", line[9]), "close ms column: %r" % line)
        else:
            block = out.split("127.0.0.1:%d -> 127.0.0.1:%d" % (pair.cport, pair.port))[1]
            block = block.split("\n\n")[0]
            for words in ("pid %d (python3)" % pair.client.pid, "open active, close active",
                          "SYN sent", "FIN sent", "our FIN acknowledged"):
                check(words in block, "timeline has %r: %s" % (words, block))
            check("\x1b[" not in out, "no colour when not on a terminal")


def timeline_on_a_terminal(env_extra):
    """tcpwave --timeline with its stdout on a pseudo-terminal; returns what it wrote
    for one connection."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(env_extra)
    proc = subprocess.Popen([TCPWAVE, "--timeline"], stdout=slave, stderr=subprocess.PIPE,
                            text=True, env=env)
    os.close(slave)
    try:
        wait_until_tracing(proc)
        pair = Pair()
        try:
            pair.client.do("close")
            pair.server.do("recv_eof")
            pair.server.do("close")
        finally:
            pair.close()
        out = b""
        while b"final ACK received" not in out:
            ready, _, _ = select.select([master], [], [], 30)
            check(ready, "timeline output on the terminal within 30 s: %r" % out)
            out += os.read(master, 65536)
        return out.decode(errors="replace")
    finally:
        # Keep reading: other connections on the host keep tcpwave writing,
        # and a full terminal would block it before it sees the signal.
        proc.terminate()
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        proc.wait(max(0.0, deadline - time.monotonic()))
        os.close(master)


@test
def test_conn_timeline_colours_a_terminal_unless_no_color():
    check("\x1b[" in timeline_on_a_terminal({}), "colour on a terminal")
    check("\x1b[" not in timeline_on_a_terminal({"NO_COLOR": "1"}), "no colour with NO_COLOR")
