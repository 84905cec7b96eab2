"""Recordings: tcpwave -w saves what it traced, tcpwave -r replays it.

The claim under test is exact: a replay prints the very lines the live run
that wrote the recording printed, in the same order, in each output mode.
Each test records its own connections in a namespace of its own; other
traffic on the host is recorded too, and must replay just as exactly."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from close_paths import STATE_TIMEOUT_S, Scenario, abort, refused_connect, server_closes_first
from cgroup import Cgroup
from harness import (TCPWAVE, Peer, Tracer, check, check_eq, check_record, client_closes_first,
                     close_orphaned_in_fin_wait2, test)
from netns import Netns, foreign_subnet

RINGBUF = ("--ringbuf-kb", "32768")
REPLAY_TIMEOUT_S = 60
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
          "--bounding-set=-all"]


@contextlib.contextmanager
def scratch_dir():
    """A directory others may read: the unprivileged replay opens files in it."""
    path = tempfile.mkdtemp(prefix="tcpwave-rec-")
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def replay(path, *args, prefix=(), stdin=None):
    """tcpwave -r path args...; the finished process (stdout, stderr, returncode)."""
    return subprocess.run(list(prefix) + [TCPWAVE, "-r", path] + list(args), stdin=stdin,
                          capture_output=True, text=True, timeout=REPLAY_TIMEOUT_S)


def check_same_lines(live_lines, run, what):
    check_eq(run.returncode, 0, "%s: exit status (stderr: %r)" % (what, run.stderr[-300:]))
    got = run.stdout.splitlines(keepends=True)
    if got != live_lines:
        missing = [line for line in live_lines if line not in got]
        extra = [line for line in got if line not in live_lines]
        raise AssertionError("%s: %d lines, the live run printed %d; missing %r, extra %r%s"
                             % (what, len(got), len(live_lines), missing[:3], extra[:3],
                                "" if missing or extra else " (same lines, other order)"))


def orphan_then_server_closes(server, client):
    """The client's close() hands its end to a timewait socket in FIN_WAIT2;
    the server reads the FIN, then closes too."""
    close_orphaned_in_fin_wait2(client)
    server.do("recv_eof")
    server.do("close")


def next_conn_record(tracer, lport):
    """tcpwave's records, read up to the connection record of local port lport."""
    while True:
        r = tracer.next_record()
        if r.get("type") == "conn" and r["lport"] == lport:
            return r


def one_connection(path, *tracer_args):
    """A live run with -w path: one connection opened and closed in a namespace
    of its own. Returns (its stdout lines, the client's port, the server's port)."""
    with Netns() as ns:
        server, client = Peer(ns.name), Peer(ns.name)
        try:
            tracer = Tracer("-w", path, *RINGBUF, *tracer_args).start()
            port, cport = client_closes_first(server, client)
            tracer.stop()
        finally:
            server.close()
            client.close()
    check_eq(tracer.returncode, 0, "live run's exit status (stderr: %r)" % tracer.stderr[-300:])
    return tracer.stdout_lines, cport, port


@test
def test_recording_replay_gives_the_live_runs_connection_records():
    with scratch_dir() as d:
        path = os.path.join(d, "conns.twr")
        with Scenario("ipv4", ("--json", "-w", path) + RINGBUF) as sc:
            port, active = sc.establish()
            sc.client.do("close")
            sc.server.do("recv_eof")
            sc.server.do("close")
            sc.wait_for(active, port, "FIN_WAIT2", "CLOSE")
            passive = server_closes_first(sc, linger_s=0)["cport"]
            aborted = abort(sc, "client")["cport"]
            refused = refused_connect(sc)
            check_eq(refused["reply"], "err ECONNREFUSED", "connect to an unused port")
            _, still_open = sc.establish()
            records = sc.stop()
        live = sc.tracer.stdout_lines
        check_same_lines(live, replay(path, "--json"), "replay --json")

    def client_record(cport):
        found = [r for r in records if r.get("type") == "conn" and r["lport"] == cport]
        check_eq(len(found), 1, "client records with port %d" % cport)
        return found[0]
    # The live run saw each kind of close; the replay printed the same lines.
    check_eq(client_record(active)["close"], "active", "client that closed first")
    check_eq(client_record(passive)["close"], "passive", "client whose server closed first")
    check_eq((client_record(aborted)["close"], client_record(aborted)["reset_by"]),
             ("reset", "local"), "client that aborted (its RST came after its record)")
    check(any(r.get("close") == "refused" and r["rport"] == refused["rport"] for r in records),
          "a refused connect among %r" % records)
    check_eq(client_record(still_open)["complete"], False, "connection open at exit")


@test
def test_recording_replay_gives_the_live_runs_table_and_timeline():
    for mode in ((), ("--timeline",)):
        with scratch_dir() as d:
            path = os.path.join(d, "conns.twr")
            live, cport, port = one_connection(path, *mode)
            run = replay(path, *mode)
        what = "replay %s" % (" ".join(mode) or "(table)")
        check_same_lines(live, run, what)
        ours = "127.0.0.1:%d" % cport
        check(any(ours in line for line in live), "%s: a line with %s in %r" % (what, ours, live))


@test
def test_recording_replay_summarises_what_the_live_run_summarised():
    with scratch_dir() as d:
        path = os.path.join(d, "conns.twr")
        live, _, _ = one_connection(path, "--json", "-s")
        run = replay(path, "--json", "-s")
    check_eq(run.returncode, 0, "replay -s: exit status (stderr: %r)" % run.stderr[-300:])
    summaries = [[json.loads(line) for line in lines if '"type":"summary"' in line]
                 for lines in (live, run.stdout.splitlines())]
    check_eq([len(s) for s in summaries], [1, 1], "one summary each, live and replayed")
    live_sum, replayed = summaries[0][0], summaries[1][0]
    check_record(replayed)
    check(live_sum["connections"] >= 2, "the test's connection counted: %r" % live_sum)
    # The recording keeps the sockets the live run's last summary counted.
    check(isinstance(live_sum["sockets"], dict), "sockets counted live: %r" % live_sum)
    # The same period too: the recording carries its start and its end.
    check_eq(replayed, live_sum, "the replayed summary")


@test
def test_recording_keeps_the_start_up_walk():
    """The walk of the sockets open before tracing is part of the recording:
    -v on the replay says what it found, as the live run's -v did."""
    with scratch_dir() as d:
        path = os.path.join(d, "conns.twr")
        with Netns() as ns:
            server, client = Peer(ns.name), Peer(ns.name)
            try:
                port = int(server.do("listen", "ipv4"))
                client.do("connect", "ipv4", port)  # open before tracing: the walk finds it
                server.do("accept")
                tracer = Tracer("-v", "-w", path, *RINGBUF).start()
                tracer.stop()
            finally:
                server.close()
                client.close()
        run = replay(path, "-v")
    walked = re.search(r"^tcpwave: (start-up walk: .*)$", tracer.stderr, re.M)
    check(walked, "the live run's walk line in %r" % tracer.stderr)
    check("tcpwave: recorded %s\n" % walked.group(1) in run.stderr,
          "the replay's: %r" % run.stderr)


@test
def test_recording_of_transitions_replays_as_transitions():
    with scratch_dir() as d:
        path = os.path.join(d, "events.twr")
        live, cport, port = one_connection(path, "--events", "--json")
        check_same_lines(live, replay(path, "--json"), "replay --json of --events")
        text = replay(path)
        check_eq(text.returncode, 0, "replay as text: exit status")
        check(text.stdout.startswith("TIME ") and "TRANSITION" in text.stdout.splitlines()[0],
              "the transitions' header: %r" % text.stdout[:200])
        check(re.search(r"127\.0\.0\.1:%d +127\.0\.0\.1:%d +SYN_SENT -> ESTABLISHED"
                        % (cport, port), text.stdout), "our connect in %r" % text.stdout[-2000:])
        for option in ("--timeline", "--summary"):
            refused = replay(path, option)
            check_eq((refused.returncode, refused.stderr),
                     (2, "tcpwave: %s: %s holds transitions (recorded with --events)\n"
                      % (option, path)), "%s on transitions" % option)
        conns = os.path.join(d, "conns.twr")
        one_connection(conns)
        events = replay(conns, "--events")
        check_eq((events.returncode, events.stderr),
                 (2, "tcpwave: --events: %s holds connections (recorded without --events)\n"
                  % conns), "--events on connections")


@test
def test_recording_replay_applies_the_filters():
    """A replay takes the live run's filters, applied to what was recorded:
    it prints exactly the live run's lines of the connections they match."""
    with scratch_dir() as d:
        path = os.path.join(d, "conns.twr")
        with Netns() as ns:
            server, client = Peer(ns.name), Peer(ns.name)
            try:
                tracer = Tracer("--json", "-w", path, *RINGBUF).start()
                port1, _ = client_closes_first(server, client)
                port2, cport2 = client_closes_first(server, client)
                tracer.stop()
            finally:
                server.close()
                client.close()
        check_eq(tracer.returncode, 0, "live run's exit status")
        live = tracer.stdout_lines

        def ours(r):
            return r.get("type") == "conn" and r.get("netns") == ns.inode

        cases = (
            (("--lport", str(port1)), lambda r: r["lport"] == port1),
            (("-P", str(cport2)), lambda r: cport2 in (r["lport"], r["rport"])),
            (("-p", str(server.pid)), lambda r: r["pid"] == server.pid),
        )
        for args, matches in cases:
            args = args + ("--netns", str(ns.inode))
            expected = [line for line in live if ours(json.loads(line)) and
                        matches(json.loads(line))]
            check(expected, "the live run has records for %r" % (args,))
            check_same_lines(expected, replay(path, "--json", *args),
                             "replay --json %s" % " ".join(args))
        check_eq(len([line for line in live if ours(json.loads(line))]), 4,
                 "the live run's records of the two connections")
        check(port1 != port2, "two listeners: %d, %d" % (port1, port2))


@test
def test_recording_made_with_filters_replays_as_the_filtered_run_decided():
    """An orphan handed over in FIN_WAIT2 learns its end from its local
    peer's record (exact), or, where filters may keep that record back, from
    the kernel side's watch of its timewait socket (to the next check). The
    recording says filters chose what it holds: replayed without them, the
    orphan's record is still the live run's."""
    with scratch_dir() as d:
        path = os.path.join(d, "conns.twr")
        with Netns() as ns:
            server, client = Peer(ns.name), Peer(ns.name)
            try:
                tracer = Tracer("--json", "--netns", str(ns.inode), "-w", path,
                                *RINGBUF).start()
                port = int(server.do("listen", "ipv4"))
                cport = int(client.do("connect", "ipv4", port))
                server.do("accept")
                orphan_then_server_closes(server, client)
                orphan = next_conn_record(tracer, cport)
                tracer.stop()
            finally:
                server.close()
                client.close()
        check_eq(tracer.returncode, 0, "live run's exit status")
        check_eq(orphan["fin_wait2_end"], "peer_fin", "the orphan's end, learned")
        check_same_lines(tracer.stdout_lines, replay(path, "--json"),
                         "replay --json, without the live run's --netns")


@test
def test_recording_replay_elsewhere_prints_what_the_tracing_host_saw():
    """The cgroup paths, and the host's own addresses (can an orphan's peer
    be on this host: the FIN_WAIT2 hold), come from the recording. The
    "other host" here is this one once the server's cgroup is gone and the
    address the connection used is no longer this host's."""
    prefix = foreign_subnet()
    address = ["ip", "addr", "add", prefix + "1/32", "dev", "lo"]
    with scratch_dir() as d:
        path = os.path.join(d, "elsewhere.twr")
        with Cgroup() as cg:
            subprocess.run(address, check=True)
            server, client = Peer(), Peer()
            try:
                cg.adopt(server.pid)
                tracer = Tracer("--json", "-w", path, *RINGBUF).start()
                port = int(server.do("listen_on", prefix + "1"))
                client.do("connect_nowait", "ipv4", prefix + "1", port)
                client.do("wait_connect", REPLAY_TIMEOUT_S)
                server.do("accept")
                orphan_then_server_closes(server, client)
                server_record = next_conn_record(tracer, port)
                tracer.stop()
            finally:
                server.close()
                client.close()
                address[2] = "del"
                subprocess.run(address, check=True)
        check_eq(tracer.returncode, 0, "live run's exit status")
        live = tracer.stdout_lines
        records = [json.loads(line) for line in live]
        client_record = [r for r in records if r.get("type") == "conn" and r["rport"] == port
                         and r["raddr"] == prefix + "1"]
        check_eq([r["fin_wait2_end"] for r in client_record], ["peer_fin"],
                 "the client's record, held for its local peer")
        check_eq(server_record["cgroup"], cg.path, "the server's cgroup, live")
        check_same_lines(live, replay(path, "--json"), "replay elsewhere")


@test
def test_recording_replay_needs_no_privileges():
    with scratch_dir() as d:
        path = os.path.join(d, "conns.twr")
        live, _, _ = one_connection(path, "--json")
        check_same_lines(live, replay(path, "--json", prefix=NOBODY), "replay as nobody")
        with open(path, "rb") as f:
            check_same_lines(live, replay("-", "--json", prefix=NOBODY, stdin=f),
                             "replay as nobody from standard input")


@test
def test_recording_replay_refuses_what_only_tracing_uses_with_2():
    # Refused before the file is opened: the recording need not exist.
    for args in (["--duration", "5"], ["--ringbuf-kb", "64"], ["--table-entries", "1024"],
                 ["--slots", "0"], ["--attach", "btf"], ["--stuck", "5000"],
                 ["-s", "--interval", "5"], ["--prom-file", "x.prom"]):
        run = replay("no-such.twr", *args)
        check_eq((run.returncode, run.stdout, run.stderr),
                 (2, "", "tcpwave: %s: cannot be combined with --read, which replays a "
                  "recording\n" % args[-2]), "-r with %r" % args)


@test
def test_recording_to_a_full_disk_exits_1_and_says_so():
    started = time.monotonic()
    run = subprocess.run([TCPWAVE, "-w", "/dev/full", "-d", "20"], capture_output=True,
                         text=True, timeout=60)
    check_eq(run.returncode, 1, "exit status (stderr: %r)" % run.stderr)
    check("tcpwave: writing /dev/full: No space left on device\n" in run.stderr,
          "the message in %r" % run.stderr)
    # The header fails at once, long before --duration.
    check(time.monotonic() - started < 10, "tcpwave exited at once, not at --duration")


@test
def test_recording_that_fills_its_disk_mid_run_exits_1_and_says_so():
    """A 4 KiB tmpfs takes the header and a few records, then is full.
    tcpwave stops on its own, mid-churn: the peers stay in its network
    namespace, whose connections its exit walk lists wherever they are.
    Elsewhere, one accepted by the kernel and not yet by the peer would be
    counted as left with no record (see Losses in the README)."""
    script = ("mount -t tmpfs -o size=4k none \"$1\" && exec %s -w \"$1/rec\" -d 60 --json"
              % TCPWAVE)
    with scratch_dir() as d:
        proc = subprocess.Popen(["unshare", "--mount", "sh", "-c", script, "sh", d],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        server, client = Peer(), Peer()
        try:
            port = int(server.do("listen", "ipv4"))
            deadline = time.monotonic() + 30
            while proc.poll() is None and time.monotonic() < deadline:
                client.do("connect", "ipv4", port)
                server.do("accept")
                client.do("close")
                server.do("close")
        finally:
            server.close()
            client.close()
            if proc.poll() is None:
                proc.kill()
        stderr = proc.stderr.read()
        check_eq(proc.wait(), 1, "exit status (stderr: %r)" % stderr)
        errors = [line for line in stderr.splitlines()
                  if not re.match(r"tcpwave: (tracing TCP|\d+ records, )", line)]
        check_eq(errors, ["tcpwave: writing %s/rec: No space left on device" % d],
                 "what tcpwave said besides its start and its summary")


@test
def test_recording_corrupt_foreign_or_cut_files_are_refused_with_the_byte():
    with scratch_dir() as d:
        path = os.path.join(d, "conns.twr")
        live, _, _ = one_connection(path, "--json")
        with open(path, "rb") as f:
            data = f.read()

        bad = os.path.join(d, "bad.twr")
        with open(bad, "wb") as f:
            f.write(data[:16] + b"\x07\x00\x00\x00" + data[20:])
        run = replay(bad, "--json")
        check_eq((run.returncode, run.stdout, run.stderr),
                 (1, "", "tcpwave: %s: byte 16: expected format version 1 to 2, found 7\n" % bad),
                 "wrong version")

        run = replay("/etc/passwd")
        check_eq(run.returncode, 1, "foreign file: exit status")
        check(run.stderr.startswith("tcpwave: /etc/passwd: byte 0: expected the magic of a "
                                    "tcpwave recording"), "foreign file: %r" % run.stderr)

        # Cut inside the last records, as when tcpwave is killed while writing.
        with open(bad, "wb") as f:
            f.write(data[:len(data) - 100])
        run = replay(bad, "--json")
        check_eq(run.returncode, 1, "cut file: exit status")
        check(re.fullmatch(r"tcpwave: %s: byte \d+: expected .*, found the end of the file "
                           r"after \d+: the recording stops after \d+ records? \(was tcpwave "
                           r"killed while writing it\?\)\n(tcpwave: .*\n)*" % re.escape(bad),
                           run.stderr), "cut file's message: %r" % run.stderr)
        check_cut_replay(live, run.stdout.splitlines(keepends=True))


# What the FIN_WAIT2 hold fills in from the peer's record, and what follows
# from it: Zeek's state counts a learned end, the diagnosis its time.
HOLD_FIELDS = ("close_ns", "handover_hold_ns", "fin_wait2_end", "conn_state", "diagnosis")


def check_cut_replay(live_lines, got_lines):
    """
    A cut recording gives the records it holds, each as the live run printed
    it, except that a record held for its local peer's FIN, whose peer's
    record was cut off, ends as "waiting" at the end of the file.
    """
    live = {r["sock"]: r for r in map(json.loads, live_lines)}
    got = [json.loads(line) for line in got_lines]
    check(len(got) >= 1, "a cut file still gives what it holds: %d of %d records"
          % (len(got), len(live)))
    got_socks = {r["sock"] for r in got}
    for record in got:
        expected = live.get(record["sock"])
        check(expected is not None, "a record the live run did not print: %r" % record)
        if record == expected:
            continue
        peer_cut = not any(r["lport"] == record["rport"] and r["rport"] == record["lport"]
                           and r["sock"] in got_socks for r in live.values())
        check(record["fin_wait2_end"] == "waiting" and peer_cut,
              "only a record whose peer was cut off may differ: %r, live %r" % (record, expected))
        strip = lambda r: {k: v for k, v in r.items() if k not in HOLD_FIELDS}
        check_eq(strip(record), strip(expected), "the held record besides its hold")
