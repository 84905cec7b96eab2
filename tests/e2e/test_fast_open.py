"""TCP Fast Open: the client's SYN carries data, and the server's kernel makes
the accepted socket at that SYN, so its SYN_RECV begins there and its
application may answer, even close, before the handshake's final ACK.

Each test runs in a namespace of its own with net.ipv4.tcp_fastopen=3
(client and server), and the peers ask for no cookie (TCP_FASTOPEN_NO_COOKIE),
so the first connection already carries data in its SYN."""
import time

from close_paths import STATE_POLL_S, STATE_TIMEOUT_S, Scenario, now
from harness import check, check_eq, conn_record, state_names, test
from netfilter import ACK_ONLY, Count, Drop

TRACER_ARGS = ("--json", "--ringbuf-kb", "32768")
REQUEST, RESPONSE = 100, 50
SYNACK = "tcp flags & (syn | ack) == syn | ack"
# Slack for the kernel's work between the test's clock readings and the transition.
SLACK_NS = 30 * 1000 * 1000


def allow_fast_open(sc):
    sc.ns.run(["sysctl", "-qw", "net.ipv4.tcp_fastopen=3"])


@test
def test_fast_open_both_ends_say_so_and_the_child_times_its_handshake_from_the_syn():
    with Scenario("ipv4", TRACER_ARGS) as sc:
        allow_fast_open(sc)
        port = int(sc.server.do("listen_fastopen", "ipv4"))
        cport = int(sc.client.do("connect_fastopen", "ipv4", port, REQUEST))
        sc.server.do("accept")
        check_eq(sc.server.do("recv", REQUEST), str(REQUEST), "the request, from the SYN")
        sc.server.do("send", RESPONSE)
        sc.client.do("recv", RESPONSE)
        sc.client.do("close")
        sc.server.do("recv_eof")
        sc.server.do("close")
        # A connection without Fast Open beside it says so too.
        plain_port, plain_cport = sc.establish()
        sc.client.do("close")
        sc.server.do("close")
        sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
        sc.wait_for(plain_port, plain_cport, "LAST_ACK", "CLOSE")
        records = sc.stop()
    server, client = conn_record(records, port, cport), conn_record(records, cport, port)
    check_eq((server["fast_open"], server["open"], server["close"]), (True, "passive", "passive"),
             "server fast_open, open, close")
    check_eq(state_names(server), ["SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"],
             "server states")
    # Its SYN_RECV began with the socket, at the SYN: the handshake is that state's time.
    check_eq(server["handshake_ns"], server["states"][1]["t_ns"], "server handshake_ns")
    check_eq((server["rx_bytes"], server["tx_bytes"]), (REQUEST, RESPONSE), "server bytes")
    check_eq(server["pid"], sc.server.pid, "server owner")
    check_eq((client["fast_open"], client["open"], client["close"]), (True, "active", "active"),
             "client fast_open, open, close")
    check_eq((client["rx_bytes"], client["tx_bytes"]), (RESPONSE, REQUEST), "client bytes")
    check_eq(client["pid"], sc.client.pid, "client owner")
    for r in (server, client):
        check_eq(r["retrans"], {"syn": 0, "synack": 0, "fin": 0, "data": 0}, "retransmits")
    check_eq((conn_record(records, plain_port, plain_cport)["fast_open"],
              conn_record(records, plain_cport, plain_port)["fast_open"]), (False, False),
             "fast_open of a plain connection's ends")


def wait_packets(rule, n):
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while rule.packets() < n:
        check(time.monotonic() < deadline, "%r matched fewer than %d packets in %d s"
              % (rule, n, STATE_TIMEOUT_S))
        time.sleep(STATE_POLL_S)


@test
def test_fast_open_child_closed_before_the_final_ack_waits_in_fin_wait1():
    """The server answers and closes before the handshake's final ACK, which
    is lost: the client's pure ACKs are dropped. Until that ACK the child's
    retransmission timer resends the SYN-ACK (tcp_fastopen_synack_timer()),
    not its FIN. The client's FIN, which acknowledges everything, ends the
    wait. The record must not call the handshake failed, and must count the
    SYN-ACKs sent again."""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        allow_fast_open(sc)
        port = int(sc.server.do("listen_fastopen", "ipv4"))
        with Drop(dport=port, flags=ACK_ONLY, netns=sc.ns) as acks, \
                Count(sport=port, flags=SYNACK, netns=sc.ns) as synacks:
            cport = int(sc.client.do("connect_fastopen", "ipv4", port, REQUEST))
            sc.server.do("accept")
            sc.server.do("recv", REQUEST)
            sc.server.do("send", RESPONSE)
            t_close = now()
            sc.server.do("close")
            t_closed = now()
            sc.client.do("recv", RESPONSE)
            # The first SYN-ACK and one sent again, a retransmission timeout later.
            wait_packets(synacks, 2)
            t_fin = now()
            sc.client.do("close")
            t_fin_sent = now()
            sc.wait_for(port, cport, "FIN_WAIT2", "CLOSE")
        records = sc.stop()
    check(acks.packets() >= 1, "the client's ACKs were dropped: %d" % acks.packets())
    server = conn_record(records, port, cport)
    check_eq((server["fast_open"], server["open"], server["close"]), (True, "passive", "active"),
             "fast_open, open, close")
    check_eq(state_names(server), ["SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"], "states")
    check_eq((server["time_wait"], server["handshake_ns"]), (True, None),
             "time_wait, handshake_ns")
    check_eq(server["retrans"], {"syn": 0, "synack": synacks.packets() - 1, "fin": 0, "data": 0},
             "retransmits")
    check_eq(server["pid"], sc.server.pid, "owner")
    diagnosis = server["diagnosis"]
    check(diagnosis is not None and diagnosis["handshake"] is None,
          "no failed handshake: %r" % diagnosis)
    close = diagnosis["close"]
    check_eq((close["state"], close["cause"], close["retransmits"]),
             ("FIN_WAIT1", "synack_retransmitted", synacks.packets() - 1),
             "close diagnosis")
    fin_wait1 = server["states"][2]["t_ns"] - server["states"][1]["t_ns"]
    check(t_fin - t_closed <= fin_wait1 <= t_fin_sent - t_close + SLACK_NS,
          "FIN_WAIT1 lasted %.1f ms, outside %.1f..%.1f ms"
          % (fin_wait1 / 1e6, (t_fin - t_closed) / 1e6, (t_fin_sent - t_close + SLACK_NS) / 1e6))
    check_eq(close["ns"], fin_wait1, "diagnosed time")
    client = conn_record(records, cport, port)
    check_eq((client["fast_open"], client["open"], client["close"]), (True, "active", "passive"),
             "client fast_open, open, close")
