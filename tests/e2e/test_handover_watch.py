"""An orphan's FIN_WAIT2 handed to a timewait socket, when its peer is not
on this host: no peer record can tell how the close ended, so the kernel
side watches the timewait socket (bpf/handover.bpf.h) and the record waits
for its word: the peer's FIN, the peer's RST, or our RST to the peer's data.

Client and server are in two namespaces joined by a veth pair, by addresses
tcpwave's own namespace does not have. The server holds its CLOSE_WAIT for
a second before it ends the connection one way or the other; every duration
is bracketed by the test's own clock readings."""
import contextlib
import json
import time

from close_paths import STATE_POLL_S, STATE_TIMEOUT_S, Scenario, now
from harness import Peer, Tracer, check, check_eq, close_orphaned_in_fin_wait2, test
from netns import Netns, foreign_subnet
from test_recording import check_same_lines, replay, scratch_dir

TRACER = ("--json", "--ringbuf-kb", "32768")
HOLD_S = 1.0
# The kernel's work between the test's clock readings and the segment's arrival.
SLACK_NS = 30_000_000
# FIN_WAIT2 begins with the ACK of our FIN, which the server may delay up to
# TCP_DELACK_MAX (include/net/tcp.h).
DELACK_MAX_NS = 200_000_000
# A RST from the peer shows only as the timewait socket's absence, found at
# the next check (HANDOVER_CHECK_NS in user/main.c, 100 ms), which the poll
# loop runs when its turn comes: later on a busy host.
CHECK_EVERY_NS = 100_000_000
LOOP_DELAY_NS = 400_000_000
# Ends dated from a timewait socket's timer are good to a tick, 10 ms at HZ=100.
JIFFY_NS = 10_000_000
FIN_WAIT2_WORDS = "the peer did not close its side (half-closed)"


def wait_link_up(ns, dev):
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while json.loads(ns.run(["ip", "-j", "link", "show", dev]))[0]["operstate"] != "UP":
        check(time.monotonic() < deadline, "%s in %s up within %d s" % (dev, ns, STATE_TIMEOUT_S))
        time.sleep(STATE_POLL_S)


# A documentation prefix (RFC 3849); no duplicate address detection to wait for.
IPV6_PREFIX = "2001:db8:7::"


@contextlib.contextmanager
def remote_pair(*tracer_args, client_fin_timeout_s=None, family="ipv4"):
    """A connection from a client in one namespace to a server in another,
    under tcpwave: (tracer, client, server, client namespace, server port).
    client_fin_timeout_s: the client namespace's net.ipv4.tcp_fin_timeout."""
    if family == "ipv4":
        prefix, length, extra = foreign_subnet(), "/24", []
    else:
        prefix, length, extra = IPV6_PREFIX, "/64", ["nodad"]
    with contextlib.ExitStack() as stack:
        a, b = stack.enter_context(Netns()), stack.enter_context(Netns())
        if client_fin_timeout_s:
            a.run(["sysctl", "-qw", "net.ipv4.tcp_fin_timeout=%d" % client_fin_timeout_s])
        a.run(["ip", "link", "add", "tw0", "type", "veth", "peer", "name", "tw1", "netns", b.name])
        for ns, dev, addr in ((a, "tw0", prefix + "1"), (b, "tw1", prefix + "2")):
            ns.run(["ip", "addr", "add", addr + length, "dev", dev] + extra)
            ns.run(["ip", "link", "set", dev, "up"])
        for ns, dev in ((a, "tw0"), (b, "tw1")):
            wait_link_up(ns, dev)
        server = stack.enter_context(contextlib.closing(Peer(b.name)))
        client = stack.enter_context(contextlib.closing(Peer(a.name)))
        tracer = stack.enter_context(Tracer(*tracer_args))
        port = int(server.do("listen_on", prefix + "2"))
        client.do("connect_nowait", family, prefix + "2", port)
        client.do("wait_connect", STATE_TIMEOUT_S)
        server.do("accept")
        yield tracer, client, server, a, port


def client_record(tracer, netns, port, timeout_s):
    """The client's connection record, the first to come within timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        check(left > 0, "the client's record within %.1f s" % timeout_s)
        r = tracer.next_record(left)
        if r.get("type") == "conn" and r["netns"] == netns.inode and r["rport"] == port:
            return r


def check_no_record_yet(tracer, netns, port):
    """Nothing of the client printed so far: its record waits for the end."""
    while not tracer.lines.empty():
        r = tracer.next_record()
        check(not (r.get("netns") == netns.inode and r.get("rport") == port),
              "the client's record waits for its FIN_WAIT2 to end: %r" % r)


def held_then_ended(end, *tracer_args, family="ipv4"):
    """The client closes first, the server holds CLOSE_WAIT for HOLD_S, then
    does `end` (a peer command); returns the client's record, the bounds of
    its close_ns from the clock readings around the close and the end
    (high, low), and all tcpwave printed."""
    with remote_pair(*(TRACER + tracer_args), family=family) as \
            (tracer, client, server, a, port):
        t_close = now()
        close_orphaned_in_fin_wait2(client)
        t_closed = now()
        server.do("recv_eof")
        time.sleep(HOLD_S)
        check_no_record_yet(tracer, a, port)
        t_end = now()
        server.do(*end)
        t_ended = now()
        r = client_record(tracer, a, port, STATE_TIMEOUT_S)
        tracer.stop()
    check_eq(tracer.returncode, 0, "tcpwave's exit status")
    return r, (t_ended - t_close, t_end - t_closed), tracer.stdout_lines


def check_fin_wait2_diagnosis(r, low, high, then):
    d = r["diagnosis"]["close"]
    check_eq((d["state"], d["cause"]), ("FIN_WAIT2", "peer_did_not_close"), "diagnosis")
    check(low - DELACK_MAX_NS <= d["ns"] <= high, "FIN_WAIT2 for %.1f..%.1f ms: %.1f ms"
          % ((low - DELACK_MAX_NS) / 1e6, high / 1e6, d["ns"] / 1e6))
    check(d["text"].endswith(FIN_WAIT2_WORDS + then), "diagnosis text: %r" % d["text"])


def check_peer_fin_learned(*tracer_args, family="ipv4"):
    r, (high, low), _ = held_then_ended(("close",), *tracer_args, family=family)
    low -= JIFFY_NS  # the FIN is dated from the timer it rescheduled
    check_eq(r["family"], family, "family")
    check_eq((r["handover"], r["fin_wait2_end"]), ("FIN_WAIT2", "peer_fin"), "hand-over, end")
    check(low <= r["close_ns"] <= high + SLACK_NS, "close_ns %.1f..%.1f ms: %.1f ms"
          % (low / 1e6, (high + SLACK_NS) / 1e6, r["close_ns"] / 1e6))
    check_fin_wait2_diagnosis(r, low, high + SLACK_NS, "")


@test
def test_remote_orphan_learns_the_peers_fin_from_its_timewait_socket():
    check_peer_fin_learned()


@test
def test_remote_orphan_learns_the_peers_fin_over_ipv6():
    check_peer_fin_learned(family="ipv6")


@test
def test_remote_orphan_learns_the_peers_fin_in_classic_mode():
    check_peer_fin_learned("--attach", "classic")


@test
def test_remote_orphan_reset_by_its_peer_ends_at_that_reset():
    r, (high, low), _ = held_then_ended(("abort",))
    check_eq((r["handover"], r["fin_wait2_end"]), ("FIN_WAIT2", "peer_reset"), "hand-over, end")
    high += SLACK_NS + CHECK_EVERY_NS + LOOP_DELAY_NS
    check(low <= r["close_ns"] <= high, "close_ns %.1f..%.1f ms: %.1f ms"
          % (low / 1e6, high / 1e6, r["close_ns"] / 1e6))
    check_fin_wait2_diagnosis(r, low, high, ", then the peer reset the connection")


def check_our_reset_learned(*tracer_args):
    r, (high, low), _ = held_then_ended(("send", 1), *tracer_args)
    check_eq((r["handover"], r["fin_wait2_end"]), ("FIN_WAIT2", "local_reset"), "hand-over, end")
    check(low <= r["close_ns"] <= high + SLACK_NS, "close_ns %.1f..%.1f ms: %.1f ms"
          % (low / 1e6, (high + SLACK_NS) / 1e6, r["close_ns"] / 1e6))
    check_fin_wait2_diagnosis(r, low, high + SLACK_NS,
                              ", then the peer sent data after our close() and was reset")


@test
def test_remote_orphan_that_gets_data_is_reset_by_us():
    check_our_reset_learned()


@test
def test_remote_orphan_that_gets_data_is_reset_by_us_in_classic_mode():
    check_our_reset_learned("--attach", "classic")


@test
def test_remote_orphan_timed_out_by_its_namespaces_fin_timeout():
    """The client's namespace keeps FIN_WAIT2 for 2 s, tcpwave's for 60: the
    kernel side tells the timeout when it happens, dated by the timewait
    socket's deadline, long before tcpwave's own deadline would."""
    fin_timeout_s = 2
    with remote_pair(*TRACER, client_fin_timeout_s=fin_timeout_s) as \
            (tracer, client, server, a, port):
        t_close = now()
        close_orphaned_in_fin_wait2(client)
        t_closed = now()
        server.do("recv_eof")  # and never closes
        r = client_record(tracer, a, port, fin_timeout_s + STATE_TIMEOUT_S)
        t_printed = now()
        tracer.stop()
    check_eq((r["handover"], r["fin_wait2_end"]), ("FIN_WAIT2", "timeout"), "hand-over, end")
    low = fin_timeout_s * 1e9 - JIFFY_NS  # the deadline is dated from the timer's jiffies
    high = fin_timeout_s * 1e9 + t_closed - t_close + SLACK_NS
    check(low <= r["close_ns"] <= high, "close_ns %.1f..%.1f ms: %.1f ms"
          % (low / 1e6, high / 1e6, r["close_ns"] / 1e6))
    check(t_printed - t_close < (fin_timeout_s + 2) * 1e9,
          "printed %.1f s after the close" % ((t_printed - t_close) / 1e9))


@test
def test_remote_orphans_end_is_recorded_and_replayed():
    """The end record goes into the recording like any other: a replay
    prints the client's record with the same end, byte for byte."""
    with scratch_dir() as d:
        path = d + "/handover.twr"
        r, _, live = held_then_ended(("close",), "-w", path)
        check_eq(r["fin_wait2_end"], "peer_fin", "live fin_wait2_end")
        check_same_lines(live, replay(path, "--json"), "replay")


@test
def test_orphan_whose_local_peer_is_filtered_out_learns_its_end_from_the_kernel():
    """With -p the client's pid, the server's record never leaves the
    kernel: the client's end, on loopback too, is the kernel side's word,
    not a timeout a minute later."""
    with Scenario("ipv4", (), tracing=False) as sc:
        sc.tracer_args = TRACER + ("--pid", str(sc.client.pid))
        sc.start_tracing()
        port, cport = sc.establish()
        t_close = now()
        close_orphaned_in_fin_wait2(sc.client)
        t_closed = now()
        sc.server.do("recv_eof")
        time.sleep(HOLD_S)
        t_end = now()
        sc.server.do("close")
        t_ended = now()
        sc.wait_for(cport, port, "FIN_WAIT2", "CLOSE")
        records = sc.stop()
    check_eq([(r["lport"], r["rport"]) for r in records if r.get("type") == "conn"],
             [(cport, port)], "connection records (the client's only)")
    r = records[[x.get("type") for x in records].index("conn")]
    check_eq((r["handover"], r["fin_wait2_end"]), ("FIN_WAIT2", "peer_fin"), "hand-over, end")
    low, high = t_end - t_closed - JIFFY_NS, t_ended - t_close + SLACK_NS
    check(low <= r["close_ns"] <= high, "close_ns %.1f..%.1f ms: %.1f ms"
          % (low / 1e6, high / 1e6, r["close_ns"] / 1e6))


@test
def test_no_fin_wait2_hold_prints_a_remote_orphan_at_once():
    """--no-fin-wait2-hold: the record comes at the hand-over, its end not known."""
    with remote_pair(*(TRACER + ("--no-fin-wait2-hold",))) as (tracer, client, server, a, port):
        close_orphaned_in_fin_wait2(client)
        server.do("recv_eof")  # and stays in CLOSE_WAIT while the client's record comes
        r = client_record(tracer, a, port, STATE_TIMEOUT_S)
        server.do("close")
        tracer.stop()
    check_eq((r["handover"], r["fin_wait2_end"]), ("FIN_WAIT2", "waiting"),
             "the client's record, printed at its hand-over")
