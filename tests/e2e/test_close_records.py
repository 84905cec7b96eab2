"""Connection records for the close paths that need dropped or held packets.

The scenarios (close_paths.py) run in a namespace of their own; here tcpwave
prints connection records, and the tests check what each record concludes:
the close kind, retransmit counts, and durations bracketed by the test's own
clock readings around the steps that caused them."""
from close_paths import (STATE_TIMEOUT_S, Scenario, crossing_fins, last_ack_with_lost_acks,
                         syn_timeout)
from harness import check, check_eq, conn_record, state_names, test
from netfilter import FIN, RST, Count, Hold

TRACER_ARGS = ("--json", "--ringbuf-kb", "32768")
# Slack for the kernel's work between the test's clock readings and the transition.
SLACK_NS = 30 * 1000 * 1000


def time_in(r, state):
    steps = r["states"]
    for cur, nxt in zip(steps, steps[1:]):
        if cur["state"] == state:
            return nxt["t_ns"] - cur["t_ns"]
    raise AssertionError("no %s in %r" % (state, steps))


def check_between(got, low, high, what):
    check(low <= got <= high, "%s: expected %.1f..%.1f ms, got %.1f ms"
          % (what, low / 1e6, high / 1e6, got / 1e6))


def check_simultaneous(family):
    with Scenario(family, TRACER_ARGS) as sc:
        run = crossing_fins(sc)
        records = sc.stop()
    check_eq(run["held"], 2, "FINs held")
    for lport, rport, peer, opened in ((run["cport"], run["port"], sc.client, "active"),
                                       (run["port"], run["cport"], sc.server, "passive")):
        r = conn_record(records, lport, rport)
        what = "%s end" % opened
        check_eq(r["close"], "simultaneous", what + " close")
        check_eq(r["open"], opened, what + " open")
        check_eq(state_names(r)[-3:], ["FIN_WAIT1", "CLOSING", "CLOSE"], what + " last states")
        check_eq((r["time_wait"], r["handover"]), (True, "TIME_WAIT"), what + " hand-over")
        check_eq(r["pid"], peer.pid, what + " owner")
        # The close lasts from the shutdown to just after the FINs were let go.
        check_between(r["close_ns"], run["t_release"] - run["t_shutdown"] - SLACK_NS,
                      run["t_released"] - run["t_shutdown"] + SLACK_NS, what + " close_ns")


@test
def test_close_records_simultaneous_close_both_ends_ipv4():
    check_simultaneous("ipv4")


@test
def test_close_records_simultaneous_close_both_ends_ipv6():
    check_simultaneous("ipv6")


@test
def test_close_records_last_ack_lingers_with_fin_retransmits():
    with Scenario("ipv4", TRACER_ARGS) as sc:
        run = last_ack_with_lost_acks(sc)
        records = sc.stop()
    server = conn_record(records, run["port"], run["cport"])
    client = conn_record(records, run["cport"], run["port"])
    check_eq(state_names(server), ["SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSE"],
             "server states")
    check_eq((server["close"], server["time_wait"], server["error"]), ("passive", False, None),
             "server close, hand-over, error")
    check_eq(server["pid"], sc.server.pid, "server owner")
    # Every FIN after the first was a retransmission of it.
    check_eq(server["retrans"]["fin"], run["fins_sent"] - 1, "server FIN retransmits")
    check(run["acks_dropped"] >= 2, "the test dropped ACKs: %d" % run["acks_dropped"])
    # LAST_ACK lasts from close() until the first FIN after the lift is ACKed.
    check_between(time_in(server, "LAST_ACK"), run["t_fin_unseen"] - run["t_closed"],
                  run["t_fin_seen"] - run["t_close"] + SLACK_NS, "time in LAST_ACK")
    check(time_in(server, "LAST_ACK") >= run["drop_s"] * 1e9, "LAST_ACK outlasts the drop")
    # The client closed first and went on in a timewait socket.
    check_eq((client["close"], client["handover"]), ("active", "FIN_WAIT2"), "client")
    check_eq(client["pid"], sc.client.pid, "client owner")


@test
def test_close_records_syn_timeout_counts_syn_retransmits():
    with Scenario("ipv4", TRACER_ARGS) as sc:
        run = syn_timeout(sc)
        records = sc.stop()
    check_eq(run["reply"], "err ETIMEDOUT", "connect()")
    found = [r for r in records if r.get("type") == "conn" and r["rport"] == run["port"]]
    check_eq(len(found), 1, "records of the timed-out connect")
    r = found[0]
    check_eq((r["open"], r["close"], r["error"], r["reset_by"]),
             ("active", "timeout", "ETIMEDOUT", None), "open, close, error, reset_by")
    check_eq(state_names(r), ["SYN_SENT", "CLOSE"], "states")
    check_eq(r["retrans"]["syn"], run["syns_dropped"] - 1, "SYN retransmits")
    check_eq(r["pid"], sc.client.pid, "owner")
    check_between(r["lifetime_ns"], 0, run["t_failed"] - run["t_connect"], "lifetime")
    check(r["lifetime_ns"] >= 2.9e9, "SYN_SENT lasted the kernel's retry time: %r"
          % r["lifetime_ns"])


@test
def test_close_records_full_timewait_table_means_no_time_wait():
    """With net.ipv4.tcp_max_tw_buckets at 0 the kernel keeps no TIME_WAIT:
    the same ->CLOSE fires, and the record must not claim a hand-over."""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        sc.ns.run(["sysctl", "-qw", "net.ipv4.tcp_max_tw_buckets=0"])
        port, cport = sc.establish()
        sc.client.do("shutdown")
        sc.server.do("recv_eof")
        sc.server.do("close")
        sc.client.do("wait_state", "CLOSE", STATE_TIMEOUT_S)
        sc.client.do("close")
        records = sc.stop()
    client = conn_record(records, cport, port)
    check_eq(state_names(client), ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"],
             "client states")
    check_eq((client["close"], client["time_wait"], client["handover"], client["tw_overflow"]),
             ("active", False, None, True), "close, time_wait, handover, tw_overflow")


@test
def test_close_records_abort_in_closing_is_no_time_wait():
    """SO_LINGER 0 while in CLOSING (the client's FIN held on its way, the
    server's received): tcp_disconnect() sends no RST in that state and no
    timewait socket takes over, so the record must not say TIME_WAIT. (A FIN
    dropped at the output hook would count as unsent, and then a RST goes.)"""
    with Scenario("ipv4", TRACER_ARGS) as sc:
        port, cport = sc.establish()
        with Hold(sport=cport, dport=port, flags=FIN, netns=sc.ns), \
                Count(sport=cport, dport=port, flags=RST, netns=sc.ns) as rsts:
            sc.client.do("shutdown")
            sc.client.do("wait_state", "FIN_WAIT1", STATE_TIMEOUT_S)
            sc.server.do("shutdown")
            sc.client.do("wait_state", "CLOSING", STATE_TIMEOUT_S)
            sc.client.do("abort")
            sent = rsts.packets()
        records = sc.stop()
    check_eq(sent, 0, "RSTs from the client")
    r = conn_record(records, cport, port)
    check_eq(state_names(r)[-3:], ["FIN_WAIT1", "CLOSING", "CLOSE"], "last states")
    check_eq((r["close"], r["reset_by"], r["time_wait"], r["handover"]),
             ("simultaneous", None, False, None), "close, reset_by, time_wait, handover")
