"""--events through every way a connection ends: the exact transitions of both
ends, their owners, and the durations of the states the test itself drew out.

The scenarios are in close_paths.py; each runs in a network namespace of its
own (see netns.py for why) and the records are those of that namespace.
"""
import close_paths
from close_paths import Scenario
from harness import check, check_eq, check_owners, sequence, socket_events, test

# Each timing check brackets a transition between two clock readings of the
# test around the step that causes it, so it holds on a loaded host too; on a
# quiet one the brackets are a few milliseconds wide. Where the cause is not a
# step of the test, it may run this much after the test saw it.
SLACK_NS = 30_000_000

OPENING = {"client": [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED")],
           "server": [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED")]}


def ends(records, run):
    """(client, server) records of the connection, each joined by its cookie."""
    return (socket_events(records, run["cport"], run["port"]),
            socket_events(records, run["port"], run["cport"]))


def check_sequences(client, server, client_closing, server_closing):
    check_eq(sequence(client), OPENING["client"] + client_closing, "client transitions")
    check_eq(sequence(server), OPENING["server"] + server_closing, "server transitions")


def check_connection_owners(sc, client, server, server_unowned=2):
    """server_unowned: the server's transitions before it acted on its socket
    (SYN_RECV and ESTABLISHED, and what the client's FIN or RST did next)."""
    check_owners(client, sc.client.pid, 0, "client")
    check_owners(server, sc.server.pid, server_unowned, "server")


def check_addresses(client, server, family):
    loopback = "127.0.0.1" if family == "ipv4" else "::1"
    for e in client[1:] + server:  # client[0]: connect() has not bound the address yet
        check_eq((e["family"], e["laddr"], e["raddr"]), (family, loopback, loopback),
                 "%s->%s family and addresses" % (e["old"], e["new"]))


def transition(events, old, new):
    found = [e for e in events if (e["old"], e["new"]) == (old, new)]
    check(len(found) == 1, "one %s->%s in %r" % (old, new, sequence(events)))
    return found[0]


def check_between(t, start, end, what):
    """t (mono_ns) falls within the test's own step from start to end."""
    check(start <= t <= end, "%s: expected within the %.3f ms of the step, got %+.3f ms from "
          "its start" % (what, (end - start) / 1e6, (t - start) / 1e6))


def check_duration(got_ns, lo_ns, hi_ns, what):
    check(got_ns is not None and lo_ns <= got_ns <= hi_ns, "%s: expected %.1f..%.1f ms, got %s"
          % (what, lo_ns / 1e6, hi_ns / 1e6,
             None if got_ns is None else "%.3f ms" % (got_ns / 1e6)))


def check_server_closes_first(family):
    with Scenario(family) as sc:
        run = close_paths.server_closes_first(sc)
        records = sc.stop()
    client, server = ends(records, run)
    # The server's orphan hands over to a timewait socket as soon as its FIN
    # is acknowledged; TIME_WAIT never shows (see close_paths).
    check_sequences(client, server,
                    [("ESTABLISHED", "CLOSE_WAIT"), ("CLOSE_WAIT", "LAST_ACK"),
                     ("LAST_ACK", "CLOSE")],
                    [("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "FIN_WAIT2"),
                     ("FIN_WAIT2", "CLOSE")])
    check_connection_owners(sc, client, server)
    # CLOSE_WAIT lasts from the server's FIN to the client's close(), which
    # the test made linger_s after reading EOF.
    close_wait = transition(client, "ESTABLISHED", "CLOSE_WAIT")
    last_ack = transition(client, "CLOSE_WAIT", "LAST_ACK")
    check_between(close_wait["mono_ns"], run["t_server_close"], run["t_linger"],
                  "client ESTABLISHED->CLOSE_WAIT (the server's FIN)")
    check_between(last_ack["mono_ns"], run["t_client_close"], run["t_client_closed"],
                  "client CLOSE_WAIT->LAST_ACK (the client's close())")
    check_duration(last_ack["dur_ns"], max(run["t_client_close"] - run["t_linger"],
                                           int(run["linger_s"] * 1e9)),
                   run["t_client_closed"] - run["t_server_close"], "CLOSE_WAIT duration")
    check_eq(last_ack["process_ctx"], True, "close() in CLOSE_WAIT runs in process context")
    check_addresses(client, server, family)


@test
def test_close_paths_server_closes_first_client_lingers_in_close_wait():
    check_server_closes_first("ipv4")


@test
def test_close_paths_server_closes_first_ipv6():
    check_server_closes_first("ipv6")


def check_abort(who):
    with Scenario() as sc:
        run = close_paths.abort(sc, who)
        records = sc.stop()
    client, server = ends(records, run)
    # An RST ends both ends at once: no FIN states on either side.
    check_sequences(client, server, [("ESTABLISHED", "CLOSE")], [("ESTABLISHED", "CLOSE")])
    check_connection_owners(sc, client, server, 3 if who == "client" else 2)
    aborter, other = (client[-1], server[-1]) if who == "client" else (server[-1], client[-1])
    check_between(aborter["mono_ns"], run["t_abort"], run["t_aborted"],
                  "%s ESTABLISHED->CLOSE (its close())" % who)
    check_eq(aborter["process_ctx"], True, "the aborting close() runs in process context")
    # tcp_disconnect() moves to CLOSE before it sends the RST.
    check(other["mono_ns"] >= aborter["mono_ns"],
          "the other end closes on the RST, after the %s: %d < %d"
          % (who, other["mono_ns"], aborter["mono_ns"]))
    check_eq(other["process_ctx"], False, "the RST is processed in softirq")
    check_eq(run["other_read"], "err ECONNRESET", "the other end's read after the RST")


@test
def test_close_paths_client_abort_resets_both_ends_straight_to_close():
    check_abort("client")


@test
def test_close_paths_server_abort_resets_both_ends_straight_to_close():
    check_abort("server")


@test
def test_close_paths_refused_connect_goes_syn_sent_to_close():
    with Scenario() as sc:
        run = close_paths.refused_connect(sc)
        records = sc.stop()
    check_eq(run["reply"], "err ECONNREFUSED", "connect() to a port without listener")
    # CLOSE->SYN_SENT shows local port 0: the kernel picks the port just
    # after it. Join the client's records from there, by cookie.
    client = socket_events(records, 0, run["rport"])
    check_eq(sequence(client), [("CLOSE", "SYN_SENT"), ("SYN_SENT", "CLOSE")],
             "client transitions")
    check_owners(client, sc.client.pid, 0, "client")
    # On loopback the RST comes back within the connect() call.
    for e in client:
        check_between(e["mono_ns"], run["t_connect"], run["t_failed"],
                      "%s->%s" % (e["old"], e["new"]))
    # At ->CLOSE the kernel has released the port, yet it is the one connect() had.
    check_eq(client[-1]["lport"], run["cport"], "SYN_SENT->CLOSE local port")


@test
def test_close_paths_syn_timeout_ends_syn_sent_after_syncnt_time():
    with Scenario() as sc:
        run = close_paths.syn_timeout(sc, syncnt=1)
        records = sc.stop()
    check_eq(run["reply"], "err ETIMEDOUT", "connect() whose SYNs are all dropped")
    client = socket_events(records, 0, run["port"])
    check_eq(sequence(client), [("CLOSE", "SYN_SENT"), ("SYN_SENT", "CLOSE")],
             "client transitions")
    check_owners(client, sc.client.pid, 0, "client")
    check_eq(client[-1]["lport"], run["cport"], "SYN_SENT->CLOSE local port")
    listener = [r for r in records if r["lport"] == run["port"]]
    check_eq(sequence(listener), [("CLOSE", "LISTEN")], "the listener saw no SYN")
    # The kernel gives up when the time TCP_SYNCNT=1 allows has passed:
    # tcp_model_timeout(1 retry, 1 s) = 1 s + 2 s (retransmits_timed_out()).
    # Its timers round up to the timer wheel's granularity, so "about 3 s".
    syn_sent = client[-1]
    check_duration(syn_sent["dur_ns"], 2_500_000_000, 4_000_000_000, "SYN_SENT duration")
    # SYN_SENT lies within the connect() call, which the test timed.
    for e in client:
        check_between(e["mono_ns"], run["t_connect"], run["t_failed"],
                      "%s->%s (in connect())" % (e["old"], e["new"]))
    # With tcp_syn_linear_timeouts (6.x; default 4) the first retransmission
    # timeouts do not double: SYNs leave at 0, 1 and 2 s and the 3 s limit
    # passes before a fourth. Without it: 0 and 1 s, then a 2 s wait.
    want = 3 if run["syn_linear_timeouts"] >= 2 else 2
    check_eq(run["syns_dropped"], want,
             "SYNs dropped (tcp_syn_linear_timeouts=%d)" % run["syn_linear_timeouts"])


def check_crossing_fins(family):
    with Scenario(family) as sc:
        run = close_paths.crossing_fins(sc)
        records = sc.stop()
    check_eq(run["held"], 2, "FINs held: one from each end")
    client, server = ends(records, run)
    # Each end gets the other's FIN while its own is unacknowledged:
    # tcp_fin() in FIN_WAIT1 acknowledges it and enters CLOSING; the ACK of
    # its own FIN then ends CLOSING through tcp_time_wait().
    both = [("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "CLOSING"), ("CLOSING", "CLOSE")]
    check_sequences(client, server, both, both)
    check_connection_owners(sc, client, server)
    check_addresses(client, server, family)
    for what, events in (("client", client), ("server", server)):
        closing = transition(events, "FIN_WAIT1", "CLOSING")
        check_between(closing["mono_ns"], run["t_release"], run["t_released"],
                      "%s FIN_WAIT1->CLOSING (the held FINs released)" % what)
        check(closing["dur_ns"] >= int(run["hold_s"] * 1e9),
              "%s FIN_WAIT1 lasted at least the hold of %.0f ms: %.3f ms"
              % (what, run["hold_s"] * 1e3, closing["dur_ns"] / 1e6))


@test
def test_close_paths_crossing_fins_put_both_ends_in_closing():
    check_crossing_fins("ipv4")


@test
def test_close_paths_crossing_fins_put_both_ends_in_closing_ipv6():
    check_crossing_fins("ipv6")


@test
def test_close_paths_fin_before_ack_of_own_fin_gives_closing_on_that_end_only():
    with Scenario() as sc:
        run = close_paths.client_fin_held(sc)
        records = sc.stop()
    check_eq(run["held"], 1, "FINs held: the client's")
    client, server = ends(records, run)
    check_sequences(client, server,
                    [("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "CLOSING"),
                     ("CLOSING", "CLOSE")],
                    [("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "FIN_WAIT2"),
                     ("FIN_WAIT2", "CLOSE")])
    check_connection_owners(sc, client, server)
    # The server waits in FIN_WAIT2, the client in CLOSING, until the
    # client's FIN is released: it ends the one, and its ACK the other.
    check_between(transition(server, "FIN_WAIT2", "CLOSE")["mono_ns"], run["t_release"],
                  run["t_released"], "server FIN_WAIT2->CLOSE (the client's FIN released)")
    check_between(transition(client, "CLOSING", "CLOSE")["mono_ns"], run["t_release"],
                  run["t_released"], "client CLOSING->CLOSE (the ACK of its FIN)")


@test
def test_close_paths_last_ack_lasts_until_a_fin_retransmission_is_acked():
    with Scenario() as sc:
        run = close_paths.last_ack_with_lost_acks(sc, drop_s=1.0)
        records = sc.stop()
    client, server = ends(records, run)
    # The client shut down, then closed in FIN_WAIT2 (see close_orphaned_in_fin_wait2).
    check_sequences(client, server,
                    [("ESTABLISHED", "FIN_WAIT1"), ("FIN_WAIT1", "FIN_WAIT2"),
                     ("FIN_WAIT2", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")],
                    [("ESTABLISHED", "CLOSE_WAIT"), ("CLOSE_WAIT", "LAST_ACK"),
                     ("LAST_ACK", "CLOSE")])
    check_connection_owners(sc, client, server, 3)
    # The first FIN and at least one retransmission lost their ACKs (on a
    # fresh namespace: FIN at 0, tail loss probe at ~RTO = 200 ms, RTO
    # retransmissions at ~400 and ~800 ms, the next at ~1.6 s).
    check(run["acks_dropped"] >= 2, "ACKs dropped: expected >= 2 (first FIN and a "
          "retransmission), got %d" % run["acks_dropped"])
    check_eq(run["fins_sent"], run["acks_dropped"] + 1,
             "server FINs: one per dropped ACK, and the one after the lift")
    last_ack = transition(server, "CLOSE_WAIT", "LAST_ACK")
    closed = transition(server, "LAST_ACK", "CLOSE")
    check_between(last_ack["mono_ns"], run["t_close"], run["t_closed"],
                  "server CLOSE_WAIT->LAST_ACK (its close())")
    # LAST_ACK cannot end while the ACKs are dropped: it lasts at least the
    # drop. It ends when the first FIN after the lift is answered, which the
    # test saw leave in the FIN counter; the answer follows within
    # microseconds (in softirq, so allow SLACK_NS for a busy host).
    drop_ns = run["t_lift"] - last_ack["mono_ns"]
    check(closed["dur_ns"] >= drop_ns, "LAST_ACK lasted at least the drop (%.1f ms): %.1f ms"
          % (drop_ns / 1e6, closed["dur_ns"] / 1e6))
    check_between(closed["mono_ns"], run["t_fin_unseen"], run["t_fin_seen"] + SLACK_NS,
                  "server LAST_ACK->CLOSE (at the first FIN after the lift)")
    check_eq(closed["dur_ns"], closed["mono_ns"] - last_ack["mono_ns"],
             "LAST_ACK duration: the time from CLOSE_WAIT->LAST_ACK to LAST_ACK->CLOSE")
    check_eq(closed["process_ctx"], False, "the final ACK is processed in softirq")
