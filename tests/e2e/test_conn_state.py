"""conn_state (Zeek's code) for each close class, on both ends of real connections.

One namespace and one tracer run the close paths of close_paths.py one after
another, each on a connection of its own; the test then checks each end's
close class, its conn_state, and that both ends carry the same community_id.
The originator is the client (it sent the SYN), so where the two ends agree
on what went over the wire they give the same code; they differ only where
one end's record left before the other end's FIN (S2 or S3 against SF)."""
import time

import close_paths
from close_paths import STATE_TIMEOUT_S, Scenario
from harness import Peer, Tracer, check, check_eq, close_orphaned_in_fin_wait2, conn_record, test
from netfilter import SYN, Drop
from netns import Netns

TRACER_ARGS = ("--json", "--ringbuf-kb", "32768")
# Records of orphans leave at their FIN_WAIT2 hand-over, as for a peer on
# another host; test_conn_state_once_the_peers_fin_is_learned covers the hold.
NO_HOLD_ARGS = TRACER_ARGS + ("--no-fin-wait2-hold",)


def wait_for_record(tracer, netns, lport, rport):
    """Read tcpwave's output until the connection record of lport -> rport in netns."""
    deadline = time.monotonic() + STATE_TIMEOUT_S
    for r in tracer.records():
        if (r.get("type"), r.get("netns"), r.get("lport"), r.get("rport")) == \
                ("conn", netns, lport, rport):
            return r
    while True:
        left = deadline - time.monotonic()
        check(left > 0, "a record of %d -> %d within %d s" % (lport, rport, STATE_TIMEOUT_S))
        r = tracer.next_record(left)
        if (r.get("type"), r.get("netns"), r.get("lport"), r.get("rport")) == \
                ("conn", netns, lport, rport):
            return r


def wait_for_fin_wait2_handover(sc, lport):
    """Wait until a timewait socket holds lport in FIN_WAIT2 (ss shows it), so
    that the peer's FIN reaches the timewait socket, not the traced one."""
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while not sc.ns.run(["ss", "-Htn", "state", "fin-wait-2", "( sport = :%d )" % lport]):
        check(time.monotonic() < deadline, "port %d in FIN_WAIT2 within %d s"
              % (lport, STATE_TIMEOUT_S))
        time.sleep(0.01)


def check_end(r, what, close, conn_state):
    check_eq((r["close"], r["conn_state"]), (close, conn_state), "%s: close, conn_state" % what)


def check_pair(records, port, cport, what, client, server):
    """client and server: (close, conn_state) of each end; one community_id for both."""
    c, s = conn_record(records, cport, port), conn_record(records, port, cport)
    check_end(c, what + ", client", *client)
    check_end(s, what + ", server", *server)
    check(c["community_id"] is not None and c["community_id"] == s["community_id"],
          "%s: both ends' community_id: %r, %r" % (what, c["community_id"], s["community_id"]))


def client_closes_first(sc):
    """The client's close() hands its socket to a timewait socket in FIN_WAIT2,
    before the server's FIN: its record has only its own FIN."""
    port, cport = sc.establish()
    close_orphaned_in_fin_wait2(sc.client)
    sc.wait_for(cport, port, "FIN_WAIT2", "CLOSE")
    sc.server.do("recv_eof")
    sc.server.do("close")
    sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
    return dict(port=port, cport=cport)


def client_gives_up_connecting(sc):
    """SYNs are dropped and the client closes its connect() in SYN_SENT:
    the "timeout" class without waiting for the kernel's retries."""
    port = int(sc.server.do("listen", sc.family))
    with Drop(dport=port, flags=SYN, netns=sc.ns):
        sc.client.do("connect_nowait", sc.family, "127.0.0.1", port)
        sc.client.do("wait_state", "SYN_SENT", STATE_TIMEOUT_S)
        sc.client.do("close")
    return dict(port=port)


@test
def test_conn_state_for_each_close_class_on_both_ends():
    with Scenario("ipv4", NO_HOLD_ARGS) as sc:
        refused = close_paths.refused_connect(sc)
        client_abort = close_paths.abort(sc, "client")
        server_abort = close_paths.abort(sc, "server")
        client_first = client_closes_first(sc)
        server_first = close_paths.server_closes_first(sc)
        crossing = close_paths.crossing_fins(sc)
        fin_held = close_paths.client_fin_held(sc)
        gave_up = client_gives_up_connecting(sc)
        open_port, open_cport = sc.establish()
        records = sc.stop()
    check_eq(refused["reply"], "err ECONNREFUSED", "connect() to a port without listener")
    r = [r for r in records if r.get("type") == "conn" and r["rport"] == refused["rport"]]
    check_eq(len(r), 1, "records of the refused connect")
    check_end(r[0], "refused", "refused", "REJ")
    # The kernel released the local port before ->CLOSE; inet_sport keeps it.
    check_eq(r[0]["lport"], refused["cport"], "refused: lport")

    # The RST's sender names the code: the client originated, the server responded.
    check_pair(records, client_abort["port"], client_abort["cport"], "client abort",
               ("reset", "RSTO"), ("reset", "RSTO"))
    check_pair(records, server_abort["port"], server_abort["cport"], "server abort",
               ("reset", "RSTR"), ("reset", "RSTR"))
    # An end whose record left at its FIN_WAIT2 hand-over saw only its own FIN.
    check_pair(records, client_first["port"], client_first["cport"], "client closes first",
               ("active", "S2"), ("passive", "SF"))
    check_pair(records, server_first["port"], server_first["cport"], "server closes first",
               ("passive", "SF"), ("active", "S3"))
    check_pair(records, crossing["port"], crossing["cport"], "crossing FINs",
               ("simultaneous", "SF"), ("simultaneous", "SF"))
    # The server's FIN_WAIT2 lasted until the client's FIN: TIME_WAIT, both FINs.
    check_pair(records, fin_held["port"], fin_held["cport"], "client FIN held",
               ("simultaneous", "SF"), ("active", "SF"))
    check_pair(records, open_port, open_cport, "still open at exit", (None, "S1"), (None, "S1"))
    r = [r for r in records if r.get("type") == "conn" and r["rport"] == gave_up["port"]]
    check_eq(len(r), 1, "records of the abandoned connect")
    check_end(r[0], "abandoned connect", "timeout", "S0")


@test
def test_conn_state_once_the_peers_fin_is_learned():
    """The client closes first; tcpwave holds its record until the server's
    shows the server's FIN, and then both FINs are known: SF on both ends."""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        port, cport = sc.establish()
        close_orphaned_in_fin_wait2(sc.client)
        sc.server.do("recv_eof")
        wait_for_fin_wait2_handover(sc, cport)
        sc.server.do("close")
        sc.wait_for(cport, port, "FIN_WAIT2", "CLOSE")
        sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
        records = sc.stop()
    check_pair(records, port, cport, "client closes first", ("active", "SF"), ("passive", "SF"))
    check_eq(conn_record(records, cport, port)["fin_wait2_end"], "peer_fin", "client fin_wait2_end")


@test
def test_conn_state_of_a_connection_open_before_tracing():
    """Who sent the SYN is not known: SF where both FINs were seen, else OTH."""
    with Netns() as ns:
        server, client = Peer(ns.name), Peer(ns.name)
        tracer = None
        try:
            port = int(server.do("listen", "ipv4"))
            cport = int(client.do("connect", "ipv4", port))
            server.do("accept")
            tracer = Tracer(*NO_HOLD_ARGS).start()
            # As in client_closes_first: the client's record leaves before the server's FIN.
            client.do("close")
            c = wait_for_record(tracer, ns.inode, cport, port)
            server.do("recv_eof")
            server.do("close")
            s = wait_for_record(tracer, ns.inode, port, cport)
            tracer.stop()
        finally:
            if tracer:
                tracer.__exit__()
            server.close()
            client.close()
    check_eq((c["open"], c["close"], c["conn_state"]), ("unknown", "active", "OTH"), "client")
    check_eq((s["open"], s["close"], s["conn_state"]), ("unknown", "passive", "SF"), "server")
