"""The ways a TCP connection ends, each driven step by step on loopback.

A scenario function takes a Scenario (a network namespace of its own, a server
and a client peer in it, and tcpwave running with the caller's options),
drives one connection through one close path, and returns what a test needs
to check the trace: ports, packet counts, and the CLOCK_MONOTONIC times
(the clock of tcpwave's `mono_ns`) of the steps it made. The scenarios do not
look at tcpwave's output except to wait for a transition of a socket no peer
holds any more, so tests of other outputs can drive the same scenarios.

Ordering comes from the peers: each reply arrives after the socket call
returned, and wait_state polls the kernel's own TCP_INFO state. The only
sleeps make a delay that the test then measures.

Kernel behaviour the scenarios rely on (net/ipv4/tcp_input.c, tcp_minisocks.c):
  - TIME_WAIT never shows. tcp_time_wait() moves the connection to a timewait
    socket and ends the full socket with tcp_done(), so the traced socket goes
    to CLOSE: FIN_WAIT2 -> CLOSE when the peer's FIN arrives, CLOSING -> CLOSE
    when the ACK of our FIN arrives. The timewait socket's own states are not
    reported by the inet_sock_set_state tracepoint.
  - A socket its application closed (an orphan) hands over in FIN_WAIT2
    already: when its FIN is acknowledged, tcp_rcv_state_process() calls
    tcp_time_wait(sk, TCP_FIN_WAIT2, ...) because tcp_fin_time() is not above
    TCP_TIMEWAIT_LEN (tcp_fin_timeout is 60 s). FIN_WAIT1 -> FIN_WAIT2 ->
    CLOSE then come together, and the rest of FIN_WAIT2 is the timewait
    socket's. A socket still held by its application waits in FIN_WAIT2.
  - The timewait socket answers every FIN it receives (a retransmitted FIN
    too) with an ACK: tcp_oow_rate_limited() never limits segments that carry
    a FIN.
"""
import time

from harness import Peer, Skip, Tracer, check, close_orphaned_in_fin_wait2
from netfilter import ACK_ONLY, FIN, SYN, Count, Drop, Hold
from netns import Netns

# Nothing listens in a fresh namespace; a SYN to this port is answered by RST.
UNUSED_PORT = 9
# How long a scenario waits for something that takes microseconds.
STATE_TIMEOUT_S = 5
# How often it looks for that: short against any TCP timer.
STATE_POLL_S = 0.001
# tcpwave sees every namespace: a roomier ring buffer than the default keeps a
# burst of other traffic on the host from crowding out the scenario's records.
TRACER_ARGS = ("--events", "--json", "--ringbuf-kb", "32768")


def now():
    return time.monotonic_ns()


class Scenario:
    """A namespace, two peers in it, and tcpwave; all cleaned up on exit.
    With tracing=False tcpwave starts only at start_tracing(), so that the
    connections made before predate it."""

    def __init__(self, family="ipv4", tracer_args=TRACER_ARGS, tracing=True):
        self.family = family
        self.tracer_args = tracer_args
        self.tracing = tracing
        self.port = self.cport = None
        self.seen = []  # tcpwave's records of this namespace read so far

    def __enter__(self):
        self.ns = Netns().__enter__()
        try:
            self.server = Peer(self.ns.name)
            self.client = Peer(self.ns.name)
            if self.tracing:
                self.start_tracing()
        except BaseException:
            self.__exit__()
            raise
        return self

    def start_tracing(self):
        self.tracer = Tracer(*self.tracer_args).start()

    def __exit__(self, *exc):
        try:
            if getattr(self, "tracer", None):
                self.tracer.__exit__()
            for peer in ("server", "client"):
                if getattr(self, peer, None):
                    getattr(self, peer).close()
        finally:
            self.ns.__exit__()

    def establish(self):
        """A connected pair: the server's listener port and the client's port."""
        self.port = int(self.server.do("listen", self.family))
        self.cport = int(self.client.do("connect", self.family, self.port))
        self.server.do("accept")
        return self.port, self.cport

    def wait_for(self, lport, rport, old, new):
        """Read tcpwave's output until the socket lport->rport of this
        namespace made the transition old->new: the way to wait for a socket
        no peer holds any more. Needs --json among tracer_args; without
        --events, the transition is found in the socket's connection record."""
        def match(r):
            if r.get("lport") != lport or r.get("rport") != rport:
                return False
            if r.get("type") == "state":
                return (r["old"], r["new"]) == (old, new)
            steps = [s["state"] for s in r.get("states", [])] if r.get("type") == "conn" else []
            return any(pair == (old, new) for pair in zip(steps, steps[1:]))
        if any(match(r) for r in self.seen):
            return
        missing = "tcpwave showed no %s->%s of %d->%d within %d s" % (old, new, lport, rport,
                                                                      STATE_TIMEOUT_S)
        deadline = time.monotonic() + STATE_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(missing)
            try:
                record = self.tracer.next_record(left)
            except AssertionError as e:
                raise AssertionError("%s (%s)" % (missing, e))
            if record.get("netns") == self.ns.inode:
                self.seen.append(record)
                if match(record):
                    return

    def wait_handed_over(self, lport, rport):
        """Wait until the kernel has handed the socket lport->rport of this
        namespace over to a timewait socket in the FIN_WAIT2 substate (`ss`
        shows its timewait timer). tcpwave's record of such a socket may wait
        for the peer's own record (see user/handover_wait.h), so the kernel is
        asked instead."""
        deadline = time.monotonic() + STATE_TIMEOUT_S
        argv = ["ss", "-tanoH", "state", "fin-wait-2", "( sport = :%d and dport = :%d )"
                % (lport, rport)]
        while "timer:(timewait" not in self.ns.run(argv):
            check(time.monotonic() < deadline, "no timewait socket in FIN_WAIT2 for %d->%d "
                  "within %d s" % (lport, rport, STATE_TIMEOUT_S))
            time.sleep(STATE_POLL_S)

    def stop(self):
        """Stop tcpwave; returns its records from this namespace.

        A scenario makes a few dozen records; if tcpwave lost any, other
        traffic on the host filled its ring buffer, and the exact sequences a
        test checks may be missing pieces for reasons of no concern to it:
        the test is skipped (a failure under CI=true, see harness)."""
        self.tracer.stop()
        check(self.tracer.returncode == 0, "tcpwave's exit status: expected 0, got %r: %s"
              % (self.tracer.returncode, self.tracer.stderr[-500:]))
        records = self.tracer.records()
        lost = sum(r["count"] for r in records if r.get("type") == "lost")
        if lost:
            raise Skip("tcpwave lost %d records to other traffic on this host; "
                       "run again when it is quieter" % lost)
        return [r for r in records if r.get("netns") == self.ns.inode]


def server_closes_first(sc, linger_s=0.3):
    """The server closes; the client reads EOF, stays in CLOSE_WAIT for
    linger_s, then closes. The server's socket, an orphan, hands over to a
    timewait socket as soon as its FIN is acknowledged; the client's FIN later
    reaches only the timewait socket."""
    port, cport = sc.establish()
    t_server_close = now()
    sc.server.do("close")
    check(sc.client.do("recv_eof") == "0", "the client reads EOF")
    t_linger = now()
    time.sleep(linger_s)
    t_client_close = now()
    sc.client.do("close")
    t_client_closed = now()
    sc.wait_for(port, cport, "FIN_WAIT2", "CLOSE")
    sc.wait_for(cport, port, "LAST_ACK", "CLOSE")
    return dict(port=port, cport=cport, linger_s=linger_s, t_server_close=t_server_close,
                t_linger=t_linger, t_client_close=t_client_close,
                t_client_closed=t_client_closed)


def abort(sc, who):
    """`who` ("client" or "server") sets SO_LINGER 0 and closes: the kernel
    sends RST instead of FIN (tcp_close() -> tcp_disconnect()), and the other
    end's next read fails with ECONNRESET."""
    port, cport = sc.establish()
    aborter, other = (sc.client, sc.server) if who == "client" else (sc.server, sc.client)
    t_abort = now()
    aborter.do("abort")
    t_aborted = now()
    other.do("wait_state", "CLOSE", STATE_TIMEOUT_S)
    other_read = other.try_do("recv_eof")
    return dict(port=port, cport=cport, t_abort=t_abort, t_aborted=t_aborted,
                other_read=other_read)


def refused_connect(sc):
    """A connect to a port nobody listens on: the kernel answers the SYN with
    RST, connect() fails with ECONNREFUSED. cport: the local port it had."""
    t_connect = now()
    reply = sc.client.try_do("connect", sc.family, UNUSED_PORT)
    t_failed = now()
    return dict(rport=UNUSED_PORT, cport=int(sc.client.do("local_port")), reply=reply,
                t_connect=t_connect, t_failed=t_failed)


def syn_timeout(sc, syncnt=1):
    """SYNs to a listener are dropped; the client gives up after TCP_SYNCNT
    retransmissions' worth of time and connect() fails with ETIMEDOUT."""
    port = int(sc.server.do("listen", sc.family))
    with Drop(dport=port, flags=SYN, netns=sc.ns) as syns:
        sc.client.do("socket", sc.family)
        sc.client.do("setsockopt_syncnt", syncnt)
        t_connect = now()
        reply = sc.client.try_do("connect", sc.family, port)
        t_failed = now()
    linear = sc.ns.run(["sh", "-c", "cat /proc/sys/net/ipv4/tcp_syn_linear_timeouts "
                                    "2>/dev/null || echo 0"]).strip()
    return dict(port=port, cport=int(sc.client.do("local_port")), reply=reply,
                t_connect=t_connect, t_failed=t_failed, syns_dropped=syns.packets(),
                syn_linear_timeouts=int(linear))


def release_until_closed(sc, hold):
    """Let the held packets go, and wait until both ends have closed; returns
    how many were held and the clock readings around the release."""
    held = hold.held()
    t_release = now()
    hold.release()
    t_released = now()
    sc.client.do("wait_state", "CLOSE", STATE_TIMEOUT_S)
    sc.server.do("wait_state", "CLOSE", STATE_TIMEOUT_S)
    return dict(held=held, t_release=t_release, t_released=t_released)


def crossing_fins(sc, hold_s=0.05):
    """Both ends shut down while every FIN on the connection is held, so each
    end sends its FIN before it receives the other's; then both FINs are
    released together and cross. The hold ends well within the first
    retransmission timeout (200 ms on a fresh namespace), so only the two
    original FINs are held.

    Dropping the FINs and lifting the drop does not make them cross reliably.
    A FIN dropped at the output hook is never sent (see netfilter.py); each
    end retries its own from its persist timer, and the FINs cross only if
    both timers expire in the same timer-softirq run. Otherwise the first FIN
    through is acknowledged before the other end's FIN leaves, and that end
    goes FIN_WAIT1 -> FIN_WAIT2 -> CLOSE while the other goes FIN_WAIT1 ->
    CLOSING -> CLOSE: in 10-15% of runs, and still in 2% with both peers on
    one CPU and both shutdowns in one jiffy, since the two ends' RTOs can
    differ by a jiffy (200 or 204 ms, from rounding the measured RTT)."""
    port, cport = sc.establish()
    with Hold(port=port, flags=FIN, netns=sc.ns) as hold:
        sc.client.do("shutdown")
        sc.server.do("shutdown")
        t_shutdown = now()
        sc.client.do("wait_state", "FIN_WAIT1", STATE_TIMEOUT_S)
        sc.server.do("wait_state", "FIN_WAIT1", STATE_TIMEOUT_S)
        time.sleep(hold_s)
        released = release_until_closed(sc, hold)
    return dict(port=port, cport=cport, hold_s=hold_s, t_shutdown=t_shutdown, **released)


def client_fin_held(sc):
    """Only the client's FIN is held: the server's FIN reaches the client
    while the client's own FIN is still unacknowledged (FIN_WAIT1 -> CLOSING),
    and the client's ACK of it moves the server on (FIN_WAIT1 -> FIN_WAIT2)
    before the server has seen the client's FIN."""
    port, cport = sc.establish()
    with Hold(sport=cport, dport=port, flags=FIN, netns=sc.ns) as hold:
        sc.client.do("shutdown")
        sc.client.do("wait_state", "FIN_WAIT1", STATE_TIMEOUT_S)
        sc.server.do("shutdown")
        sc.client.do("wait_state", "CLOSING", STATE_TIMEOUT_S)
        sc.server.do("wait_state", "FIN_WAIT2", STATE_TIMEOUT_S)
        released = release_until_closed(sc, hold)
    return dict(port=port, cport=cport, **released)


def last_ack_with_lost_acks(sc, drop_s=1.0):
    """The client closes first and its socket hands over to a timewait socket.
    The server reads EOF; then every pure ACK from the client is dropped, the
    server closes (CLOSE_WAIT -> LAST_ACK) and retransmits its FIN into the
    void. After drop_s the drop is lifted; LAST_ACK ends when the timewait
    socket's ACK of the next FIN retransmission gets through.

    The server's FINs are counted (not dropped) so the test knows when the
    first one after the lift left: every FIN sent during the drop drew exactly
    one (dropped) ACK, so it is FIN number dropped + 1. The count is polled;
    the FIN left between the start of the last poll that did not see it
    (t_fin_unseen) and the end of the first that did (t_fin_seen)."""
    port, cport = sc.establish()
    close_orphaned_in_fin_wait2(sc.client)
    sc.wait_handed_over(cport, port)
    check(sc.server.do("recv_eof") == "0", "the server reads EOF")
    with Drop(sport=cport, dport=port, flags=ACK_ONLY, netns=sc.ns) as acks, \
            Count(sport=port, dport=cport, flags=FIN, netns=sc.ns) as fins:
        t_close = now()
        sc.server.do("close")
        t_closed = now()
        time.sleep(drop_s)
        t_lift = now()
        acks.lift()
        t_lifted = now()
        acks_dropped = acks.packets()
        deadline = time.monotonic() + STATE_TIMEOUT_S
        t_fin_unseen = t_lift
        while True:
            t_poll = now()
            fins_sent = fins.packets()
            t_fin_seen = now()
            if fins_sent > acks_dropped:
                break
            t_fin_unseen = t_poll
            check(time.monotonic() < deadline, "a FIN retransmission within %d s of the lift "
                  "(%d FINs, %d ACKs dropped)" % (STATE_TIMEOUT_S, fins_sent, acks_dropped))
        sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
    return dict(port=port, cport=cport, drop_s=drop_s, acks_dropped=acks_dropped,
                fins_sent=fins_sent, t_close=t_close, t_closed=t_closed, t_lift=t_lift,
                t_lifted=t_lifted, t_fin_unseen=t_fin_unseen, t_fin_seen=t_fin_seen)
