"""Summaries (-s, --interval) and the --prom-file, from real connections.

tcpwave sees every namespace, and other programs make connections while a
test runs, so a test cannot know how many connections a summary will count.
It knows something better: with --json the same run prints every connection
record it summarises, so the summary must equal what the test computes from
those records, exactly. The test's own connections (in a namespace of its
own) show up among them with the close kinds it made.
"""
import ctypes
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from decimal import Decimal

from close_paths import STATE_TIMEOUT_S, Scenario, abort, refused_connect
from harness import (TCPWAVE, READY_TIMEOUT_S, Skip, check, check_eq, check_record, test,
                     wait_until_tracing)
from netns import NETNS_DIR, Netns

RINGBUF = ("--ringbuf-kb", "32768")
SLOW_CLOSE_NS = 1000 * 1000 * 1000  # the summary's default threshold
TOP_SHOWN = 10  # OUTPUT_SUMMARY_TOP
PROM_LAST_BUCKET = 35
OPENS = ("active", "passive", "unknown")
CLOSES = ("active", "passive", "simultaneous", "reset", "refused", "timeout", "unknown")
CLOSE_STATES = ("FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT", "LAST_ACK", "CLOSING")
CLONE_NEWNET = 0x40000000


# ---- what a summary must say, computed from the connection records ----

def bucket(ns):
    """histogram.h: bucket 0 is [0, 1 us], bucket i is (2^(i-1), 2^i] us."""
    us_ceil = ns // 1000 + (1 if ns % 1000 else 0)
    return 0 if us_ceil <= 1 else (us_ceil - 1).bit_length()


class Hist:
    def __init__(self):
        self.buckets = {}
        self.count = 0
        self.sum_ns = 0

    def add(self, ns):
        b = bucket(ns)
        self.buckets[b] = self.buckets.get(b, 0) + 1
        self.count += 1
        self.sum_ns += ns

    def json(self):
        return {"count": self.count, "sum_s": Decimal(self.sum_ns) / Decimal(10 ** 9),
                "buckets": [{"le_us": 2 ** b, "count": n} for b, n in sorted(self.buckets.items())]}


def state_times(record):
    """(state, ns) for each stay in a close state; a truncated timeline's
    last slot was overwritten, so the step before it has no known end."""
    steps = record["states"]
    ends = len(steps) - (2 if record["truncated"] else 1)
    for cur, nxt in zip(steps[:max(ends, 0)], steps[1:]):
        if cur["state"] in CLOSE_STATES and nxt["t_ns"] >= cur["t_ns"]:
            yield cur["state"], nxt["t_ns"] - cur["t_ns"]


class Expected:
    """The summary of a list of connection records, as summary.c makes it."""

    def __init__(self, records, slow_ns=SLOW_CLOSE_NS):
        finished = [r for r in records if r.get("type") == "conn" and r["complete"]]
        self.connections = len(finished)
        self.open = {k: 0 for k in OPENS}
        self.close = {k: 0 for k in CLOSES}
        self.by_open_close = {(o, c): 0 for o in OPENS for c in CLOSES}
        self.handover = {"TIME_WAIT": 0, "FIN_WAIT2": 0}
        self.tw_overflow = 0
        self.slow_closes = 0
        self.handshake, self.close_time, self.state_time = {}, {}, {}
        self.lifetime = Hist()
        self.remotes, self.processes = {}, {}
        for r in finished:
            self.open[r["open"]] += 1
            self.close[r["close"]] += 1
            self.by_open_close[(r["open"], r["close"])] += 1
            if r["handover"]:
                self.handover[r["handover"]] += 1
            self.tw_overflow += r["tw_overflow"]
            if r["handshake_ns"] is not None:
                self.handshake.setdefault(r["open"], Hist()).add(r["handshake_ns"])
            if r["lifetime_ns"] is not None:
                self.lifetime.add(r["lifetime_ns"])
            for state, ns in state_times(r):
                self.state_time.setdefault(state, Hist()).add(ns)
            if r["close_ns"] is None:
                continue
            self.close_time.setdefault(r["close"], Hist()).add(r["close_ns"])
            if r["close_ns"] >= slow_ns:
                self.slow_closes += 1
                remote = (r["family"], r["raddr"], r["rport"] if r["open"] == "active" else None)
                self._count(self.remotes, remote, r["close_ns"])
                self._count(self.processes, (r["pid"], r["comm"]), r["close_ns"])

    @staticmethod
    def _count(table, key, ns):
        count, worst = table.get(key, (0, 0))
        table[key] = (count + 1, max(worst, ns))


def check_top(shown, expected, key_of, what):
    """The top table lists the highest ranked keys (most slow closes, then
    the worst close) with their exact figures; ties at the cut may go either way."""
    got = [(key_of(e), (e["slow_closes"], e["worst_close_ns"])) for e in shown]
    check_eq(len(got), min(TOP_SHOWN, len(expected)), what + ": entries")
    for key, figures in got:
        check_eq(figures, expected.get(key), "%s %r: slow closes, worst" % (what, key))
    ranks = [figures for _, figures in got]
    check(ranks == sorted(ranks, reverse=True), "%s in rank order: %r" % (what, got))
    listed = {key for key, _ in got}
    for key, figures in expected.items():
        check(key in listed or figures <= ranks[-1],
              "%s: %r %r outranks the last shown %r" % (what, key, figures, got[-1]))


def check_summary(summary, exp):
    """Every figure of a summary record against the records it covers."""
    check_eq(summary["type"], "summary", "record type")
    check_eq(summary["connections"], exp.connections, "connections")
    check_eq(summary["open"], exp.open, "counts by open")
    check_eq(summary["close"], exp.close, "counts by close")
    check_eq(summary["handover"], exp.handover, "hand-overs")
    check_eq(summary["tw_overflow"], exp.tw_overflow, "tw_overflow")
    check_eq(summary["slow_closes"], exp.slow_closes, "slow closes")
    check_eq(summary["handshake"], {k: h.json() for k, h in exp.handshake.items()}, "handshake")
    check_eq(summary["lifetime"], exp.lifetime.json(), "lifetime")
    check_eq(summary["close_time"], {k: h.json() for k, h in exp.close_time.items()},
             "close_time")
    check_eq(summary["state_time"], {k: h.json() for k, h in exp.state_time.items()},
             "state_time")
    check_top(summary["top_remotes"], exp.remotes,
              lambda e: (e["family"], e["raddr"], e["rport"]), "top_remotes")
    check_top(summary["top_processes"], exp.processes, lambda e: (e["pid"], e["comm"]),
              "top_processes")
    check_eq(summary["top_remotes_evicted"], {"entries": 0, "slow_closes": 0}, "evicted remotes")


def parse_records(tracer):
    """Every stdout line as JSON, decimals exact (sum_s is a decimal of seconds),
    each checked against docs/tcpwave.schema.json."""
    for line in tracer.stdout_lines:
        check_record(json.loads(line), line)
    return [json.loads(line, parse_float=Decimal) for line in tracer.stdout_lines]


# ---- connections the tests make ----

def close_cleanly(sc, client_first=True):
    """A connection closed with FINs; the first closer ends in TIME_WAIT."""
    port, cport = sc.establish()
    first, second = (sc.client, sc.server) if client_first else (sc.server, sc.client)
    first.do("close")
    second.do("recv_eof")
    second.do("close")
    if client_first:
        sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
    else:
        sc.wait_for(cport, port, "LAST_ACK", "CLOSE")
    return port, cport


def slow_close(sc, hold_s=1.1):
    """The client shuts down; the server holds CLOSE_WAIT for hold_s, then
    closes: both ends' closes take hold_s, over the 1 s that makes a close slow."""
    port, cport = sc.establish()
    sc.client.do("shutdown")
    sc.server.do("recv_eof")
    time.sleep(hold_s)
    sc.server.do("close")
    sc.client.do("recv_eof")
    sc.client.do("close")
    sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
    sc.wait_for(cport, port, "FIN_WAIT2", "CLOSE")
    return port, cport


def own(records, sc, lport, rport):
    found = [r for r in records if r.get("type") == "conn" and r["netns"] == sc.ns.inode
             and r["lport"] == lport and r["rport"] == rport]
    check_eq(len(found), 1, "records %d -> %d in the test's namespace" % (lport, rport))
    return found[0]


def stop(tracer):
    tracer.stop()
    check(tracer.returncode == 0, "tcpwave's exit status: expected 0, got %r: %s"
          % (tracer.returncode, tracer.stderr[-500:]))
    return parse_records(tracer)


@test
def test_summary_at_exit_equals_the_records_printed():
    with Scenario("ipv4", ("--json", "--summary") + RINGBUF) as sc:
        clean = close_cleanly(sc)
        server_first = close_cleanly(sc, client_first=False)
        slow = slow_close(sc)
        reset = abort(sc, "client")
        refused = refused_connect(sc)
        records = stop(sc.tracer)
    summaries = [r for r in records if r.get("type") == "summary"]
    check_eq(len(summaries), 1, "summary records")
    check(records[-1] is summaries[0], "the summary is the last line")
    # The test's own connections are among those summarised, as made.
    for (lport, rport), want in (
            ((clean[1], clean[0]), ("active", "active")),
            ((clean[0], clean[1]), ("passive", "passive")),
            ((server_first[0], server_first[1]), ("passive", "active")),
            ((slow[1], slow[0]), ("active", "active")),
            ((slow[0], slow[1]), ("passive", "passive")),
            ((reset["cport"], reset["port"]), ("active", "reset"))):
        r = own(records, sc, lport, rport)
        check_eq((r["open"], r["close"]), want, "open, close of %d -> %d" % (lport, rport))
    check(any(r.get("type") == "conn" and r["netns"] == sc.ns.inode and r["close"] == "refused"
              and r["rport"] == refused["rport"] for r in records), "the refused connect")
    exp = Expected(records)
    check(exp.slow_closes >= 2, "the test's two slow closes are slow: %d" % exp.slow_closes)
    check_summary(summaries[0], exp)
    slow_client = own(records, sc, slow[1], slow[0])
    check(any(e["pid"] == slow_client["pid"] for e in summaries[0]["top_processes"]),
          "the slow client's process among the top processes: %r"
          % summaries[0]["top_processes"])


@test
def test_summary_interval_records_cover_what_came_between_them():
    interval_s = 0.3
    with Scenario("ipv4", ("--json", "--summary", "--interval", str(interval_s)) + RINGBUF) as sc:
        # Connections in several intervals: wait for a periodic summary between batches.
        for _ in range(3):
            close_cleanly(sc)
            wait_summary(sc.tracer)
        records = stop(sc.tracer)
    summaries = [i for i, r in enumerate(records) if r.get("type") == "summary"]
    check(len(summaries) >= 4, "a summary per interval and one at exit: %d" % len(summaries))
    check(summaries[-1] == len(records) - 1, "the last line is the exit's summary")
    previous = 0
    for n, i in enumerate(summaries):
        check_summary(records[i], Expected(records[previous:i]))
        if n:
            check_eq(records[i]["start_ts"], records[summaries[n - 1]]["ts"],
                     "summary %d begins where the one before ended" % n)
        previous = i + 1
    ours = sum(1 for r in records if r.get("type") == "conn" and r["netns"] == sc.ns.inode)
    check_eq(ours, 6, "the test's connection records")


def wait_summary(tracer):
    """Read tcpwave's output until the next summary record."""
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while json.loads(tracer.next_line(max(0, deadline - time.monotonic())))["type"] != "summary":
        pass


# ---- TIME_WAIT and CLOSE_WAIT now, counted in tcpwave's own namespace ----

def enter_netns(name):
    """For preexec_fn: move the child into the namespace before exec."""
    def enter():
        fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
            os._exit(127)
        os.close(fd)
    return enter


def ss_count(ns, state):
    return len(ns.run(["ss", "-Htan", "state", state]).splitlines())


def make_time_wait_and_close_wait(ns, time_wait, close_wait):
    """Sockets in the namespace: `time_wait` clients closed first and went to
    TIME_WAIT; `close_wait` servers received a FIN and were never closed.
    Returns the sockets to keep open."""
    listener = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    keep = [listener]
    for i in range(time_wait + close_wait):
        client = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.connect(listener.getsockname())
        server, _ = listener.accept()
        client.close()
        check_eq(server.recv(1), b"", "EOF at the server")
        if i < time_wait:
            server.close()
        else:
            keep.append(server)
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while (ss_count(ns, "time-wait"), ss_count(ns, "close-wait")) != (time_wait, close_wait):
        check(time.monotonic() < deadline, "ss shows %d TIME_WAIT and %d CLOSE_WAIT"
              % (time_wait, close_wait))
        time.sleep(0.01)
    return keep


@test
def test_summary_counts_time_wait_and_close_wait_in_its_own_namespace():
    with Netns() as ns:
        keep = make_time_wait_and_close_wait(ns, time_wait=3, close_wait=2)
        try:
            for args in (("--json", "--summary"), ("--summary",)):
                proc = subprocess.Popen([TCPWAVE] + list(args), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True,
                                        preexec_fn=enter_netns(ns.name))
                out, err = stop_when_ready(proc)
                if "--json" in args:
                    summary = json.loads(out.splitlines()[-1])
                    check_eq(summary["sockets"], {"TIME_WAIT": 3, "CLOSE_WAIT": 2},
                             "sockets in the namespace")
                else:
                    check(re.search(r"^  now        TIME_WAIT 3, CLOSE_WAIT 2 sockets in "
                                    r"tcpwave's network namespace$", out, re.M),
                          "the text summary's sockets line: %s" % out[-2000:])
        finally:
            for s in keep:
                s.close()


def stop_when_ready(proc):
    """Wait for tcpwave's ready line, stop it with SIGINT; (stdout, stderr)."""
    try:
        seen = wait_until_tracing(proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=READY_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check(proc.returncode == 0, "tcpwave's exit status %r: %s" % (proc.returncode, seen + err))
    return out, seen + err


# ---- --prom-file: Prometheus itself reads it ----


def writable_by_tcpwave(directory, create=False):
    """tcpwave writes the file every interval as the user it drops to (nobody)."""
    if create:
        os.mkdir(directory)
    nobody = pwd.getpwnam("nobody")
    os.chown(directory, nobody.pw_uid, nobody.pw_gid)
    return directory

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """{(name, ((label, value), ...)): value} of every sample; le values as
    floats, since node_exporter writes 0.000001 as 1e-06."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m, "an exposition sample line: %r" % line)
        labels = tuple(sorted((k, repr(float(v)) if k == "le" else v)
                              for k, v in LABEL.findall(m.group(2) or "")))
        check((m.group(1), labels) not in samples, "one sample per series: %r" % line)
        samples[(m.group(1), labels)] = m.group(3)
    return samples


def le(i):
    return ("le", repr(float(2 ** i) / 1e6) if i <= PROM_LAST_BUCKET else repr(float("inf")))


def histogram_samples(name, label, hist):
    """The series prom.c writes for one histogram: cumulative buckets, sum, count."""
    labels = (label,) if label else ()
    out, cumulative = {}, 0
    for i in range(PROM_LAST_BUCKET + 2):
        cumulative = cumulative + hist.buckets.get(i, 0) if i <= PROM_LAST_BUCKET else hist.count
        out[(name + "_bucket", tuple(sorted(labels + (le(i),))))] = Decimal(cumulative)
    out[(name + "_sum", labels)] = Decimal(hist.sum_ns) / Decimal(10 ** 9)
    out[(name + "_count", labels)] = Decimal(hist.count)
    return out


def expected_samples(exp, lost):
    """What the prom file must hold for the connection records of a whole run."""
    want = {}
    for (o, c), n in exp.by_open_close.items():
        want[("tcpwave_connections_total", (("close", c), ("open", o)))] = Decimal(n)
    for state, n in exp.handover.items():
        want[("tcpwave_handovers_total", (("state", state),))] = Decimal(n)
    want[("tcpwave_time_wait_overflows_total", ())] = Decimal(exp.tw_overflow)
    want[("tcpwave_slow_closes_total", ())] = Decimal(exp.slow_closes)
    want[("tcpwave_slow_close_threshold_seconds", ())] = Decimal(1)
    want[("tcpwave_lost_events_total", ())] = Decimal(lost)
    for kind, hist in exp.handshake.items():
        want.update(histogram_samples("tcpwave_handshake_seconds", ("open", kind), hist))
    want.update(histogram_samples("tcpwave_lifetime_seconds", None, exp.lifetime))
    for kind, hist in exp.close_time.items():
        want.update(histogram_samples("tcpwave_close_seconds", ("close", kind), hist))
    for state, hist in exp.state_time.items():
        want.update(histogram_samples("tcpwave_close_state_seconds", ("state", state), hist))
    return want


def check_samples(got, want, what):
    """Every wanted series with its value; no histogram series beyond them."""
    for key, value in want.items():
        check(key in got, "%s: no series %r" % (what, key))
        check_eq(Decimal(got[key]), value, "%s %r" % (what, key))
    for key in got:
        if key[0].endswith(("_bucket", "_sum", "_count")):
            check(key in want, "%s: a series nothing was counted in: %r" % (what, key))


def read_samples(path):
    with open(path) as f:
        return parse_exposition(f.read())


def free_loopback_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(url, deadline):
    """GET url on loopback (never through a proxy) until it answers or deadline passes."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        try:
            with opener.open(url, timeout=2) as reply:
                return reply.read().decode()
        except OSError as e:
            check(time.monotonic() < deadline, "no answer from %s: %s" % (url, e))
            time.sleep(0.05)


def node_exporter_serves(directory):
    """The samples a real node_exporter serves from the textfile collector only."""
    binary = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if not binary:
        raise Skip("no node_exporter (Debian: prometheus-node-exporter; 'make deps')")
    port = free_loopback_port()
    proc = subprocess.Popen([binary, "--web.listen-address=127.0.0.1:%d" % port,
                             "--collector.disable-defaults", "--collector.textfile",
                             "--collector.textfile.directory=" + directory],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        text = scrape("http://127.0.0.1:%d/metrics" % port, time.monotonic() + READY_TIMEOUT_S)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=READY_TIMEOUT_S)
    served = parse_exposition(text)
    check_eq(served.get(("node_textfile_scrape_error", ())), "0",
             "node_exporter read the file: %s" % err[-1000:])
    return served


def promtool_check(path):
    if not shutil.which("promtool"):
        raise Skip("no promtool (Debian: prometheus; 'make deps')")
    with open(path) as f:
        done = subprocess.run(["promtool", "check", "metrics"], stdin=f, capture_output=True,
                              text=True)
    check(done.returncode == 0 and not (done.stdout + done.stderr).strip(),
          "promtool check metrics: exit %d: %s" % (done.returncode, done.stdout + done.stderr))


def series_value(samples, name, **labels):
    return Decimal(samples.get((name, tuple(sorted(labels.items()))), "0"))


@test
def test_prom_file_is_exposition_prometheus_reads_with_the_runs_figures():
    directory = writable_by_tcpwave(tempfile.mkdtemp(prefix="tcpwave-prom-"))
    path = os.path.join(directory, "tcpwave.prom")
    try:
        args = ("--json", "--prom-file", path, "--interval", "0.3") + RINGBUF
        with Scenario("ipv4", args) as sc:
            check(os.path.exists(path), "the file is there once tcpwave is tracing")
            close_cleanly(sc)
            slow_close(sc)
            abort(sc, "client")
            # Written each interval: the reset shows before tcpwave stops.
            deadline = time.monotonic() + STATE_TIMEOUT_S
            while series_value(read_samples(path), "tcpwave_connections_total",
                               open="active", close="reset") < 1:
                check(time.monotonic() < deadline, "the reset in the file within %d s"
                      % STATE_TIMEOUT_S)
                time.sleep(0.05)
            records = stop(sc.tracer)
        check_eq(os.stat(path).st_mode & 0o7777, 0o644, "the file's mode")
        check_eq(os.listdir(directory), ["tcpwave.prom"], "files left in the directory")
        promtool_check(path)
        lost = max([r["total"] for r in records if r.get("type") == "lost"] or [0])
        exp = Expected(records)
        check(exp.slow_closes >= 2, "the test's slow closes: %d" % exp.slow_closes)
        written = read_samples(path)
        check_samples(written, expected_samples(exp, lost), "the prom file")
        served = node_exporter_serves(directory)
        for key, value in written.items():
            check(key in served, "node_exporter serves %r" % (key,))
            check_eq(float(served[key]), float(value), "node_exporter's %r" % (key,))
    finally:
        shutil.rmtree(directory)


@test
def test_prom_file_that_cannot_be_written_stops_tcpwave_before_tracing():
    directory = tempfile.mkdtemp(prefix="tcpwave-prom-")
    os.rmdir(directory)
    path = os.path.join(directory, "tcpwave.prom")
    done = subprocess.run([TCPWAVE, "--prom-file", path], capture_output=True, text=True,
                          timeout=READY_TIMEOUT_S)
    check_eq(done.returncode, 1, "exit status")
    check_eq(done.stderr, "tcpwave: --prom-file: creating %s.tmp: No such file or directory\n"
             % path, "stderr")
    check_eq(done.stdout, "", "stdout")


@test
def test_prom_file_that_only_root_can_write_stops_tcpwave_before_tracing():
    """The first write is root's; the later ones are the user's tcpwave
    becomes (nobody), and those it tries once before tracing."""
    directory = tempfile.mkdtemp(prefix="tcpwave-prom-")
    try:
        os.chmod(directory, 0o755)
        path = os.path.join(directory, "tcpwave.prom")
        done = subprocess.run([TCPWAVE, "--prom-file", path], capture_output=True, text=True,
                              timeout=READY_TIMEOUT_S)
    finally:
        shutil.rmtree(directory)
    check_eq(done.returncode, 1, "exit status")
    check_eq(done.stderr,
             "tcpwave: --prom-file: creating %s.tmp: Permission denied\n"
             "tcpwave: --prom-file: %s must be writable by nobody, as whom tcpwave runs once "
             "set up (--user, --no-drop)\n" % (path, path), "stderr")
    check_eq(done.stdout, "", "stdout")


@test
def test_prom_file_in_a_sticky_directory_belongs_to_the_user_who_rewrites_it():
    """In /tmp and its like only a file's owner may replace it: root's first
    write leaves the file to nobody, who writes it from then on."""
    directory = tempfile.mkdtemp(prefix="tcpwave-prom-")
    try:
        os.chmod(directory, 0o1777)
        path = os.path.join(directory, "tcpwave.prom")
        done = subprocess.run([TCPWAVE, "--prom-file", path, "-d", "0.2"], capture_output=True,
                              text=True, timeout=READY_TIMEOUT_S)
        owner = os.stat(path)
    finally:
        shutil.rmtree(directory)
    check_eq(done.returncode, 0, "exit status (stderr: %s)" % done.stderr)
    nobody = pwd.getpwnam("nobody")
    check_eq((owner.st_uid, owner.st_gid), (nobody.pw_uid, nobody.pw_gid), "the file's owner")


def wait_stderr(proc, seen, text):
    """Read tcpwave's stderr until it has said `text` once more than in `seen`."""
    fd = proc.stderr.fileno()
    want = seen.count(text) + 1
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while seen.count(text) < want:
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        check(ready, "tcpwave did not say %r within %d s: %s" % (text, STATE_TIMEOUT_S, seen))
        chunk = os.read(fd, 65536).decode()
        check(chunk, "tcpwave's stderr ended: %s" % seen)
        seen += chunk
    return seen


@test
def test_prom_file_write_failures_are_said_once_and_tracing_goes_on():
    directory = writable_by_tcpwave(tempfile.mkdtemp(prefix="tcpwave-prom-"))
    path = os.path.join(directory, "tcpwave.prom")
    failed = "tcpwave: --prom-file: creating %s.tmp: No such file or directory\n" % path
    again = "tcpwave: --prom-file: %s written again\n" % path
    proc = subprocess.Popen([TCPWAVE, "--json", "--prom-file", path, "--interval", "0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        seen = wait_until_tracing(proc)
        shutil.rmtree(directory)
        seen = wait_stderr(proc, seen, failed)
        writable_by_tcpwave(directory, create=True)
        seen = wait_stderr(proc, seen, again)
        check(os.path.exists(path), "the file is back")
        shutil.rmtree(directory)
        seen = wait_stderr(proc, seen, failed)
        proc.send_signal(signal.SIGINT)
        proc.wait(READY_TIMEOUT_S)
        seen += proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(directory, ignore_errors=True)
    # Each failure said once, however many writes failed; the last write failed: exit 1.
    check_eq(seen.count(failed), 2, "failure messages in %r" % seen)
    check_eq(seen.count(again), 1, "recovery messages in %r" % seen)
    check_eq(proc.returncode, 1, "exit status")
