"""Overload: tcpwave held still (SIGSTOP) while a burst overflows its ring
buffer. Lost records are counted and reported, every record that may be
missing a part says so ("lost_events": true) rather than tell a wrong
story, and tcpwave recovers: a connection made once there is room again is
reported whole and unmarked.

Other tests on the host make connections too, so the rings are big enough
not to overflow between two polls from that traffic alone, and the bursts
are several times bigger than the rings. The sockets are the test's own
(this process): no owner is checked here."""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

from harness import REPLY_TIMEOUT_S, TCPWAVE, Tracer, check, check_eq, test

CONN_RINGBUF_KB = 512
EVENTS_RINGBUF_KB = 1024
# Bytes in the ring per connection (with the record headers): two connection
# records and a late RST for an abort; ten transitions.
ABORT_BYTES = 2 * 248 + 32
TRANSITIONS_BYTES = 10 * 112
HELD = 50  # connections opened once the ring is full, closed after
RECOVERY_ATTEMPTS = 10
RECOVERY_WAIT_S = 5

CLIENT = [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"), ("ESTABLISHED", "FIN_WAIT1"),
          ("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")]
SERVER = [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"), ("ESTABLISHED", "CLOSE_WAIT"),
          ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSE")]


def overflowing(ring_kb, bytes_each):
    """How many connections fill a ring of ring_kb twice over."""
    return 2 * ring_kb * 1024 // bytes_each


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    return s, s.getsockname()[1]


def open_pair(lst, port):
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = lst.accept()
    return c, s


def abort(c, s):
    """The client aborts (SO_LINGER 0): its record, then its RST just after
    ->CLOSE as a record of its own; the server's record holds the RST."""
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    s.close()


def close_client_first(c, s):
    c.close()
    check_eq(s.recv(1), b"", "the server reads the client's FIN")
    s.close()


def while_stopped(tracer, burst):
    tracer.proc.send_signal(signal.SIGSTOP)
    try:
        return burst()
    finally:
        tracer.proc.send_signal(signal.SIGCONT)


def wait_for(tracer, what, pred):
    """The next record for which pred holds. Other traffic keeps records
    coming, so the wait has a deadline of its own."""
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while time.monotonic() < deadline:
        r = tracer.next_record()
        if pred(r):
            return r
    raise AssertionError("no %s within %d s" % (what, REPLY_TIMEOUT_S))


def recovered(tracer, connect, wanted):
    """Make a connection with connect() (returns its ports) and collect the
    records wanted(ports, record) picks, until wanted(ports, None) says all
    came. Other traffic may overflow the ring meanwhile: then the records
    may rightly be missing or marked, and a new connection tries again.
    Returns (ports, records)."""
    for _ in range(RECOVERY_ATTEMPTS):
        ports = connect()
        got, deadline = [], time.monotonic() + RECOVERY_WAIT_S
        while not wanted(ports, got) and time.monotonic() < deadline:
            r = tracer.next_record()
            if r["type"] == "lost":
                break
            if wanted(ports, r):
                got.append(r)
        else:
            if wanted(ports, got):
                return ports, got
    raise AssertionError("no connection reported whole after the burst in %d tries"
                         % RECOVERY_ATTEMPTS)


def check_lost_reported(tracer, records):
    lost = [r for r in records if r["type"] == "lost"]
    check(lost, "a {\"type\":\"lost\"} record")
    total = lost[-1]["total"]
    check_eq(sum(r["count"] for r in lost), total, "lost counts add up to the total")
    check("records lost (ring buffer full" in tracer.stderr, "stderr reports the loss")
    check(" %d lost," % total in tracer.stderr, "exit summary gives %d lost: %s"
          % (total, tracer.stderr[-300:]))
    return total


def conns_by_ends(records):
    """{(lport, rport): [connection records]}"""
    by_ends = {}
    for r in records:
        if r.get("type") == "conn":
            by_ends.setdefault((r["lport"], r["rport"]), []).append(r)
    return by_ends


@test
def test_overload_connection_records_that_may_miss_their_reset_are_marked():
    lst, port = listener()
    burst = overflowing(CONN_RINGBUF_KB, ABORT_BYTES)

    def aborts():
        cports = []
        for _ in range(burst):
            c, s = open_pair(lst, port)
            cports.append(c.getsockname()[1])
            abort(c, s)
        return cports

    def abort_and_close():
        c, s = open_pair(lst, port)
        ports = (c.getsockname()[1], port)
        abort(c, s)
        c, s = open_pair(lst, port)
        ports += (c.getsockname()[1],)
        close_client_first(c, s)
        return ports

    def ends(ports, r):
        a, p, b = ports
        want = {(a, p), (p, a), (b, p), (p, b)}
        if isinstance(r, list):
            return {(x["lport"], x["rport"]) for x in r} == want
        return r["type"] == "conn" and (r["lport"], r["rport"]) in want

    with Tracer("--json", "--ringbuf-kb", str(CONN_RINGBUF_KB)) as tracer:
        cports = while_stopped(tracer, aborts)
        wait_for(tracer, "report of the loss", lambda r: r["type"] == "lost")
        (after_abort, _, after_close), after = recovered(tracer, abort_and_close, ends)
        tracer.stop()
    lst.close()
    check_eq(tracer.returncode, 0, "exit status")
    records = tracer.records()
    total = check_lost_reported(tracer, records)
    by_ends = conns_by_ends(records)
    delivered = 0
    for cport in cports:
        for r in by_ends.get((cport, port), []):
            delivered += 1
            # Its RST joined it, or the record says it may be missing.
            check(r["lost_events"] or (r["close"], r["reset_by"]) == ("reset", "local"),
                  "client %d: a reset by us, or marked: %r" % (cport, r))
            check(r["lost_events"] != (r["close"] == "reset"),
                  "client %d: marked only when its RST is missing: %r" % (cport, r))
        for r in by_ends.get((port, cport), []):
            delivered += 1
            check_eq((r["close"], r["reset_by"], r["lost_events"]), ("reset", "peer", False),
                     "server end of %d: reset by peer, whole" % cport)
    check(delivered < 2 * burst, "the burst overflowed the ring (%d of %d records came)"
          % (delivered, 2 * burst))
    check(total >= 2 * burst - delivered, "lost (%d) covers the %d records that never came"
          % (total, 2 * burst - delivered))
    want = {(after_abort, port): ("reset", "local"), (port, after_abort): ("reset", "peer"),
            (after_close, port): ("active", None), (port, after_close): ("passive", None)}
    for r in after:
        check_eq((r["close"], r["reset_by"], r["lost_events"], r["complete"]),
                 want[(r["lport"], r["rport"])] + (False, True),
                 "after the burst, %d -> %d" % (r["lport"], r["rport"]))


def socket_streams(records, port):
    """Our sockets' transitions by cookie: {cookie: (expected sequence, records)}."""
    streams = {}
    for r in records:
        if r.get("type") != "state" or r["laddr"] != "127.0.0.1":
            continue
        if r["rport"] == port:
            role = CLIENT
        elif r["lport"] == port and r["rport"] != 0:
            role = SERVER
        else:
            continue
        streams.setdefault(r["sock"], (role, []))[1].append(r)
    return streams


@test
def test_overload_a_loss_that_goes_on_is_reported_at_most_once_a_second():
    """Round after round the stopped tracer's 4 KiB ring overflows, and each
    round tcpwave reads the counters anew: the first loss is reported at
    once, then no more than a line (and a JSON record) a second, and the
    last of it at exit, so the counts still add up to the total. A report
    held back may go out after the losses stopped, at a reading of the
    counters that found nothing new: its recording replays it all the same."""
    lst, port = listener()
    rounds = 0
    scratch = tempfile.mkdtemp(prefix="tcpwave-loss-")
    os.chmod(scratch, 0o755)  # the replay reads it after dropping privileges
    recording = os.path.join(scratch, "loss.twr")
    with Tracer("--events", "--json", "--ringbuf-kb", "4", "-w", recording) as tracer:
        started = time.monotonic()
        while time.monotonic() - started < 2.5:
            # 20 connections, 200 transitions of 112 bytes: five times the ring.
            while_stopped(tracer, lambda: [close_client_first(*open_pair(lst, port))
                                           for _ in range(20)])
            rounds += 1
            time.sleep(0.1)  # tcpwave drains the ring and reads the counters
        time.sleep(1.2)  # no more losses: what was held back goes out meanwhile
        seconds = time.monotonic() - started
        tracer.stop()
        records = tracer.records()
    lst.close()
    replayed = subprocess.run([TCPWAVE, "-r", recording, "--json"], capture_output=True,
                              text=True, timeout=60)
    shutil.rmtree(scratch)
    check_eq(replayed.stdout, tracer.stdout, "the replay's output against the live run's")
    total = check_lost_reported(tracer, records)
    lines = tracer.stderr.count("records lost (ring buffer full")
    lost = [r for r in records if r["type"] == "lost" and r["reason"] == "ring_buffer_full"]
    check(total >= rounds, "every one of the %d rounds lost records: %d in all" % (rounds, total))
    check_eq(len(lost), lines, "JSON lost records, one per stderr line")
    # The first at once, then one a second, then the rest at exit.
    check(2 <= lines <= int(seconds) + 2, "%d loss lines in %d rounds over %.1f s"
          % (lines, rounds, seconds))


@test
def test_overload_events_carry_the_loss_on_the_sockets_next_record():
    lst, port = listener()
    flood = overflowing(EVENTS_RINGBUF_KB, TRANSITIONS_BYTES)

    def fill_then_open():
        # Connections that fill the ring, then some opened once it is full:
        # their opening transitions are lost...
        for _ in range(flood):
            close_client_first(*open_pair(lst, port))
        return [open_pair(lst, port) for _ in range(HELD)]

    def one_connection():
        c, s = open_pair(lst, port)
        cport = c.getsockname()[1]
        close_client_first(c, s)
        return cport

    def whole(cport, r):
        if isinstance(r, list):
            return len(r) == len(CLIENT) + len(SERVER)
        # connect()'s first transition comes before the kernel picks the port
        return r["type"] == "state" and (
            (r["lport"], r["rport"]) in ((cport, port), (port, cport)) or
            (r["lport"], r["rport"], r["old"]) == (0, port, "CLOSE"))

    with Tracer("--events", "--json", "--ringbuf-kb", str(EVENTS_RINGBUF_KB)) as tracer:
        held = while_stopped(tracer, fill_then_open)
        wait_for(tracer, "report of the loss", lambda r: r["type"] == "lost")
        # ... and their closing transitions, delivered now, must say so.
        for c, s in held:
            close_client_first(c, s)
        after, _ = recovered(tracer, one_connection, whole)
        tracer.stop()
    lst.close()
    check_eq(tracer.returncode, 0, "exit status")
    records = tracer.records()
    check_lost_reported(tracer, records)
    gaps = 0
    for cookie, (role, events) in socket_streams(records, port).items():
        steps = [(e["old"], e["new"]) for e in events]
        where = [role.index(step) for step in steps]
        check(where == sorted(set(where)), "socket %d: transitions in order, once: %r"
              % (cookie, steps))
        prev = -1
        for e, at in zip(events, where):
            gap = at != prev + 1
            gaps += gap
            check_eq(e["lost_events"], gap, "socket %d %s->%s: lost_events iff transitions "
                     "of the socket are missing before it (%r)"
                     % (cookie, e["old"], e["new"], steps))
            prev = at
        if after in (events[-1]["lport"], events[-1]["rport"]):
            check_eq(steps, role, "the connection after the burst, whole")
    check(gaps >= HELD, "the %d connections opened into a full ring lost their opening "
          "transitions (%d sockets with a gap)" % (HELD, gaps))


@contextlib.contextmanager
def traced_listener(*tracer_args):
    """A listener of the test's own, and tcpwave with tracer_args, -P its port
    (the host's other traffic stays out of the tables): (listener, port,
    tracer). tcpwave is stopped, and its exit status checked, at the end."""
    lst, port = listener()
    tracer = Tracer(*tracer_args, "-P", str(port)).start()
    try:
        yield lst, port, tracer
        tracer.stop()
    finally:
        lst.close()
        if tracer.proc.poll() is None:
            tracer.stop()
    check_eq(tracer.returncode, 0, "tcpwave's exit status")


TABLE_ENTRIES = 64
TABLE_PAIRS = 200  # 400 sockets at once for a table of 64
UNTRACKED = re.compile(r" (\d+) sockets untracked\n")
WALKED = re.compile(r"start-up walk: (\d+) connections?")


@test
def test_overload_socket_table_full_marks_what_it_could_not_follow_and_recovers():
    """The classic mode keeps every socket's state in a table of
    --table-entries. With more sockets open than it holds, those that find
    no room are counted; one that finds room midway, when others have gone,
    is marked ("lost_events": true) rather than told wrong; and once the
    pressure is gone a new connection is reported whole again. -P keeps the
    host's other traffic out of the table."""
    with traced_listener("--json", "-v", "--attach", "classic", "--table-entries",
                         str(TABLE_ENTRIES)) as (lst, port, tracer):
        walked = int(WALKED.search(tracer.stderr).group(1))
        check(walked < TABLE_ENTRIES - 2, "room in the table after the start-up walk's %d "
              "connections" % walked)
        pairs = [open_pair(lst, port) for _ in range(TABLE_PAIRS)]
        ends = {c.getsockname()[1] for c, _ in pairs}
        for c, s in pairs:
            close_client_first(c, s)
        after_c, after_s = open_pair(lst, port)
        after = after_c.getsockname()[1]
        close_client_first(after_c, after_s)
    untracked = int(UNTRACKED.search(tracer.stderr).group(1))
    check(untracked > 0, "sockets untracked reported: %s" % tracer.stderr[-300:])
    records = [r for r in tracer.records() if r.get("type") == "conn"]
    ours = [r for r in records if r["lport"] in ends or r["rport"] in ends]
    marked = [r for r in ours if r["lost_events"]]
    check(marked, "records of sockets first seen midway are marked: none of %d" % len(ours))
    for r in ours:
        if r["lost_events"]:
            continue
        client = r["lport"] in ends
        steps = CLIENT if client else SERVER
        check_eq(([s["state"] for s in r["states"]], r["close"]),
                 ([old for old, _ in steps[1:]] + ["CLOSE"] if client else
                  [new for _, new in steps], "active" if client else "passive"),
                 "an unmarked record is whole: %d -> %d" % (r["lport"], r["rport"]))
    recovered_records = [(r["lport"], r["lost_events"], r["close"]) for r in records
                         if after in (r["lport"], r["rport"])]
    check_eq(sorted(recovered_records), sorted([(after, False, "active"), (port, False, "passive")]),
             "the connection after the pressure: both ends, whole")


FEW_SLOTS = 8
SPILL_PAIRS = 40  # 80 sockets at once
SPILL_OPEN_AT_EXIT = 5
LEFT_UNREPORTED = re.compile(r" (\d+) connections unreported, (\d+) sockets untracked\n")
SLOT_TAKEN = re.compile(r" (\d+) sockets kept their state in socket storage, their slot taken")


@test
def test_sockets_beyond_the_slots_keep_their_state_in_socket_storage():
    """tp_btf mode keeps a socket's state in the one of --slots slots made at
    start that its cookie names, and in the socket's own storage when that
    slot is taken. With 8 slots and 80 of the test's sockets open at once,
    every connection is reported whole and none goes untracked; so is each
    one still open when tracing ends, listed from wherever its state is."""
    tracer = check_all_reported_with_slots(FEW_SLOTS)
    spilled = SLOT_TAKEN.search(tracer.stderr)
    check(spilled and int(spilled.group(1)) >= 2 * SPILL_PAIRS - FEW_SLOTS,
          "the sockets that found their slot taken are counted: %s" % tracer.stderr[-400:])


@test
def test_slots_0_keeps_every_sockets_state_in_socket_storage():
    tracer = check_all_reported_with_slots(0)
    check(not SLOT_TAKEN.search(tracer.stderr), "without slots, none is counted as finding "
          "them taken: %s" % tracer.stderr[-400:])


# A slot made to look abandoned: a cookie no socket has yet, and an address
# (1) at which no socket can be read, so none there has that cookie.
ABANDONED_COOKIE_BASE = 1 << 40
ABANDONED_SK = 1
SLOT_BYTES = 352  # struct tw_slot: cookie, sk, struct tw_sock_state
ABANDON_PAIRS = 20  # one at a time: 40 sockets, every slot named several times


def map_ids_held(pid):
    """The BPF maps a process holds, by id, from its descriptors' fdinfo."""
    ids = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:bpf-map":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                ids.update(int(line.split()[1]) for line in f if line.startswith("map_id:"))
        except FileNotFoundError:
            continue
    return ids


def sock_slots_of(tracer):
    """The id of tcpwave's slot array."""
    held = map_ids_held(tracer.proc.pid)
    maps = json.loads(subprocess.check_output(["bpftool", "map", "show", "-j"]))
    ids = [m["id"] for m in maps if m.get("name") == "sock_slots" and m["id"] in held]
    check_eq(len(ids), 1, "tcpwave's slot array found")
    return ids[0]


def slot_cookies(map_id):
    dump = json.loads(subprocess.check_output(["bpftool", "map", "dump", "id", str(map_id),
                                               "-j"]))
    return {e["formatted"]["key"]: e["formatted"]["value"]["cookie"] for e in dump}


def hex_bytes(data):
    return [format(b, "02x") for b in data]


def abandon_free_slots(map_id):
    """Fill every free slot as if its socket's destruction had been missed:
    the cookies written there, by slot index."""
    abandoned = {}
    for index, cookie in slot_cookies(map_id).items():
        if cookie:
            continue
        abandoned[index] = ABANDONED_COOKIE_BASE + index
        value = struct.pack("<QQ", abandoned[index], ABANDONED_SK).ljust(SLOT_BYTES, b"\0")
        subprocess.run(["bpftool", "map", "update", "id", str(map_id),
                        "key", "hex", *hex_bytes(struct.pack("<I", index)),
                        "value", "hex", *hex_bytes(value)], check=True)
    return abandoned


@test
def test_a_slot_whose_socket_is_gone_is_taken_over_by_the_next_socket_naming_it():
    """Should tcpwave miss a socket's destruction, its slot stays taken by a
    socket that no longer exists. The next socket whose cookie names that
    slot sees that the slot's socket no longer has the slot's cookie and
    takes the slot over, so abandoned slots do not pile up. Made here by
    writing such slots into every free one; 40 sockets, one connection at a
    time, then name every slot."""
    with traced_listener("--json", "--attach", "btf", "--slots", str(FEW_SLOTS)) as (
            lst, port, tracer):
        map_id = sock_slots_of(tracer)
        abandoned = abandon_free_slots(map_id)
        check(abandoned, "free slots to make abandoned (the start-up walk gives the "
              "host's connections slots too)")
        for _ in range(ABANDON_PAIRS):
            close_client_first(*open_pair(lst, port))
        still_abandoned = {i: c for i, c in slot_cookies(map_id).items()
                           if abandoned.get(i) == c}
    check_eq(still_abandoned, {}, "abandoned slots no socket took over")
    check_eq(LEFT_UNREPORTED.search(tracer.stderr).groups(), ("0", "0"),
             "connections unreported and sockets untracked")
    whole = [r for r in tracer.records() if r.get("type") == "conn" and
             r["lost_events"] is False and r["complete"] is True]
    check_eq(len(whole), 2 * ABANDON_PAIRS, "both ends of every connection, whole")


def check_all_reported_with_slots(slots):
    with traced_listener("--json", "--attach", "btf", "--slots", str(slots)) as (lst, port,
                                                                                 tracer):
        pairs = [open_pair(lst, port) for _ in range(SPILL_PAIRS)]
        clients = [c.getsockname()[1] for c, _ in pairs]
        for c, s in pairs[SPILL_OPEN_AT_EXIT:]:
            close_client_first(c, s)
        held = pairs[:SPILL_OPEN_AT_EXIT]
    for c, s in held:
        close_client_first(c, s)
    check_eq(LEFT_UNREPORTED.search(tracer.stderr).groups(), ("0", "0"),
             "connections unreported and sockets untracked")
    got = sorted((r["lport"] if r["rport"] == port else r["rport"], r["open"], r["close"],
                  [s["state"] for s in r["states"]], r["complete"])
                 for r in tracer.records() if r.get("type") == "conn" and r["lost_events"] is False)
    want = []
    for i, cport in enumerate(clients):
        if i < SPILL_OPEN_AT_EXIT:
            want.append((cport, "active", None, ["SYN_SENT", "ESTABLISHED"], False))
            want.append((cport, "passive", None, ["SYN_RECV", "ESTABLISHED"], False))
        else:
            want.append((cport, "active", "active", [new for _, new in CLIENT], True))
            want.append((cport, "passive", "passive", [new for _, new in SERVER], True))
    check_eq(got, sorted(want), "both ends of every connection, whole")
    return tracer
