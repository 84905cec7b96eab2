"""Drop, count or hold chosen TCP packets, for as long as a test says.

    with Drop(dport=port, flags=SYN, netns=ns) as drop:
        ...                     # SYNs to `port` vanish
        drop.lift()             # optional: let them through again
    drop.packets()              # how many packets the rule matched

Count is the same rule without the drop (the packets are only counted); Hold
queues the matching packets until release() sends them all at once (see
Hold). Match by `port` (either end: both directions of a connection), or by
`sport` and/or `dport`, and by a TCP flags expression: FIN, SYN, RST, ACK_ONLY
below, or any nft match on `tcp flags`.

Each rule set owns an nftables table, `inet tcpwave_test_<pid>_<n>`, so a test
never touches anyone else's rules and several can be active at once. It has one
chain on the `output` hook: loopback traffic passes that hook exactly once per
packet, on its way out of the sender (the receiving side takes the input hook,
not a second output pass). One named counter counts every match. The table is
deleted on exit, also when the test fails; a table left behind by a killed run
is deleted the next time a rule set starts. `netns` (a netns.Netns or a name)
is the network namespace to work in; None is the test process's own.

What a drop at the output hook means to the sender: nf_hook_slow() turns
NF_DROP into -EPERM, which ip_local_out() hands back to tcp_transmit_skb().
TCP takes that for a local send failure, not for loss on the wire:
  - a new segment (data or FIN; tcp_write_xmit()) stays on the write queue,
    unsent: snd_nxt does not move, and the zero-window probe timer
    (tcp_check_probe_timer(), ICSK_TIME_PROBE0; `ss -o` shows "persist")
    tries again with backoff;
  - a SYN (tcp_connect() queues it for retransmission before sending it) and
    a retransmission stay on the retransmission queue: the retransmission
    timer backs off as on real loss (tcp_retransmit_timer() only treats a
    positive error as local congestion);
  - ACKs, RSTs and a timewait socket's replies have no queue: they are
    simply gone, as on the wire.
"""
import itertools
import json
import os
import socket

from netns import run

# Flag expressions for `flags=`.
FIN = "tcp flags & fin == fin"                      # every segment that carries a FIN
SYN = "tcp flags & (syn | ack) == syn"              # connection requests, not SYN-ACKs
RST = "tcp flags & rst == rst"
ACK_ONLY = "tcp flags == ack"                       # pure ACKs: no FIN/SYN/RST, no PSH

TABLE_PREFIX = "tcpwave_test_"
_serial = itertools.count(1)


def nft(*args, netns=None, input=None):
    """Run nft; returns its stdout, raises with nft's own message on failure."""
    return run(["nft"] + list(args), netns, input)


def _json_objects(text, kind):
    return [item[kind] for item in json.loads(text)["nftables"] if kind in item]


def remove_stale_tables(netns=None):
    """Delete the tables of test processes that no longer exist."""
    for table in _json_objects(nft("-j", "list", "tables", "inet", netns=netns), "table"):
        name = table["name"]
        pid = name[len(TABLE_PREFIX):].split("_")[0]
        if name.startswith(TABLE_PREFIX) and pid.isdigit() and \
                not os.path.exists("/proc/%s" % pid):
            nft("delete", "table", "inet", name, netns=netns)


class Rule:
    """A table with one output chain whose rules apply `action` to the matching
    packets and count them in one named counter, which stays readable after
    lift() and until the end of the `with`."""

    action = ""

    def __init__(self, sport=None, dport=None, port=None, flags=None, netns=None):
        if (port is None) == (sport is None and dport is None):
            raise ValueError("%s needs port, or sport and/or dport" % type(self).__name__)
        self.netns = getattr(netns, "name", netns)  # a netns.Netns or a name
        self.table = "%s%d_%d" % (TABLE_PREFIX, os.getpid(), next(_serial))
        if port is not None:
            selectors = ["tcp sport %d" % port, "tcp dport %d" % port]
        else:
            ports = [("sport", sport), ("dport", dport)]
            selectors = [" ".join("tcp %s %d" % (end, p) for end, p in ports if p is not None)]
        self.rules = ["%s %s counter name \"matched\" %s" % (sel, flags or "", self.action)
                      for sel in selectors]
        self.active = False
        self.final_count = None

    def __enter__(self):
        remove_stale_tables(self.netns)
        # One transaction: the counter, the chain and its rules appear together.
        nft("-f", "-", netns=self.netns,
            input="table inet %s {\n"
                  "\tcounter matched {\n\t}\n"
                  "\tchain output {\n"
                  "\t\ttype filter hook output priority filter; policy accept;\n"
                  "%s"
                  "\t}\n"
                  "}\n" % (self.table, "".join("\t\t%s\n" % r for r in self.rules)))
        self.active = True
        return self

    def lift(self):
        """Stop matching now; the count stays."""
        if self.active:
            nft("flush", "chain", "inet", self.table, "output", netns=self.netns)
            self.active = False

    def packets(self):
        """Packets matched so far (after the `with`: in all)."""
        if self.final_count is not None:
            return self.final_count
        counters = _json_objects(nft("-j", "list", "counter", "inet", self.table, "matched",
                                     netns=self.netns), "counter")
        return counters[0]["packets"]

    def __exit__(self, *exc):
        self.active = False
        try:
            self.final_count = self.packets()
        finally:
            nft("delete", "table", "inet", self.table, netns=self.netns)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, "; ".join(self.rules))


class Drop(Rule):
    """Drop the matching packets until lift()."""
    action = "drop"


class Count(Rule):
    """Only count the matching packets: they go on as usual."""
    action = ""


# The qdisc Hold puts on lo: HTB sends a packet whose skb->priority names one
# of its classes to that class (htb_classify()); every other packet takes
# HTB's direct queue, unshaped. The hold class's leaf is a token bucket filled
# at 1 byte/s, so what enters it waits.
HOLD_CLASS = "1:1"
HOLD_PRIORITY = 0x00010001  # HOLD_CLASS as skb->priority (SO_PRIORITY)
HOLD_SHUT = ["tbf", "rate", "8bit", "burst", "100", "limit", "100000"]
HOLD_OPEN = ["tbf", "rate", "10gbit", "burst", "100000", "limit", "100000"]


class Hold(Rule):
    """Queue the matching packets on lo until release(), then send them all at
    once, in the order they were sent.

    A drop cannot make two packets be in flight at the same time: on loopback
    a sent packet is received before the sender's next step, and a dropped one
    is either never sent (see above) or lost. Hold can: the senders believe
    the packets left (the qdisc took them), the receivers see nothing until
    release(), which opens the queue and dequeues everything in one qdisc run
    (__qdisc_run() with bottom halves off), so every held packet is on the
    receive backlog before the first one is processed.

    It needs a namespace of the test's own (a netns.Netns): it puts an HTB
    qdisc on that namespace's lo, never on the host's. The kernel logs two
    harmless warnings per Hold: the bucket is smaller than lo's MTU
    (tbf_change()), and HTB found its leaf holding packets back
    (qdisc_warn_nonwc()), which is the point."""

    action = "meta priority set %s" % HOLD_CLASS

    def __init__(self, netns, **match):
        if not hasattr(netns, "socket"):
            raise TypeError("Hold needs a netns.Netns, not %r" % (netns,))
        super().__init__(netns=netns, **match)
        self.ns = netns

    def _tc(self, *args):
        return run(["tc", "-n", self.ns.name] + list(args))

    def __enter__(self):
        self._tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb")
        try:
            self._tc("class", "add", "dev", "lo", "parent", "1:", "classid", HOLD_CLASS,
                     "htb", "rate", "10gbit", "quantum", "60000")
            self._tc("qdisc", "add", "dev", "lo", "parent", HOLD_CLASS, "handle", "10:",
                     *HOLD_SHUT)
            # A token bucket starts full (tbf_change(): tokens = buffer): spend
            # it on one 92-byte frame, less than the 100-byte bucket, so the
            # next packet (a bare TCP segment: 66 bytes over IPv4, 86 over
            # IPv6) has to wait.
            self._send_datagram(50, HOLD_PRIORITY)
            return super().__enter__()
        except BaseException:
            self._tc("qdisc", "del", "dev", "lo", "root")
            raise

    def _send_datagram(self, size, priority=0):
        """A UDP datagram to the discard port on the namespace's lo."""
        with self.ns.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            if priority:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, priority)
            sock.sendto(b"h" * size, ("127.0.0.1", 9))

    def held(self):
        """Packets waiting in the hold queue now."""
        for qdisc in json.loads(self._tc("-s", "-j", "qdisc", "show", "dev", "lo")):
            if qdisc["kind"] == "tbf":
                return qdisc["qlen"]
        return 0

    def release(self):
        """Stop holding new packets and send the held ones, all in one go."""
        self.lift()
        # tbf_change() refills the bucket; nothing dequeues until the qdisc
        # runs again, which the next packet on lo makes it do.
        self._tc("qdisc", "change", "dev", "lo", "parent", HOLD_CLASS, "handle", "10:",
                 *HOLD_OPEN)
        self._send_datagram(0)

    def __exit__(self, *exc):
        try:
            super().__exit__(*exc)
        finally:
            self._tc("qdisc", "del", "dev", "lo", "root")
