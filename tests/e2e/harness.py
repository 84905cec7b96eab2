"""End-to-end test harness: the real tcpwave binary, real BPF, real sockets.

Tests are plain functions registered with @test; each gets fresh peers and a
fresh tracer. A test fails by raising AssertionError with a message that says
what was expected and what came.
"""
import json
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time

from pid1_events import Pid1Events

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# make test names the binary it built (SANITIZE=1 builds one apart).
TCPWAVE = os.environ.get("TCPWAVE", os.path.join(ROOT, "tcpwave"))
PEER = os.path.join(ROOT, "tests", "e2e", "peer.py")
SCHEMA = os.path.join(ROOT, "docs", "tcpwave.schema.json")

# Generous upper bounds: only reached when something is broken.
READY_TIMEOUT_S = 30
REPLY_TIMEOUT_S = 30
EXIT_TIMEOUT_S = 30

TESTS = []


class Skip(Exception):
    """The test cannot run here; the message says why."""


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def check_eq(got, want, what):
    if got != want:
        raise AssertionError("%s: expected %r, got %r" % (what, want, got))


class RecordSchema:
    """docs/tcpwave.schema.json, which every JSON record a test parses must match.

    A record is checked against its own type's definition, with the schema's
    references written out in place: the same verdict as the whole schema
    (its oneOf has one branch per type), several times faster."""

    def __init__(self, path=SCHEMA):
        import jsonschema  # python3-jsonschema (scripts/install-deps)
        with open(path) as f:
            self.schema = json.load(f)
        cls = jsonschema.validators.validator_for(self.schema)
        cls.check_schema(self.schema)
        self.validator = cls(self.schema)
        self.defs = self.schema["$defs"]
        self.by_type = {name: cls(self._inline(self.defs[name]))
                        for name in self.schema["properties"]["type"]["enum"]}

    def _inline(self, node):
        """node with every {"$ref": "#/$defs/x", ...} replaced by x and the other keys."""
        if isinstance(node, list):
            return [self._inline(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: self._inline(v) for k, v in node.items() if k != "$ref"}
        if "$ref" not in node:
            return out
        target = self._inline(self.defs[node["$ref"].rsplit("/", 1)[1]])
        if set(target) & set(out) - {"description"}:
            return {"allOf": [target, out]}
        return {**target, **out}

    def problems(self, record):
        """What is wrong with the record, or [] when it matches."""
        kind = record.get("type") if isinstance(record, dict) else None
        validator = self.by_type.get(kind) if isinstance(kind, str) else None
        if validator is None:
            validator = self.validator
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
        return ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(record)", e.message)
                for e in errors]


_schema = None
# Lines parse_record() has handed out and check_parsed_records() has yet to check.
_unchecked = []


def record_schema():
    """The schema, loaded once. Without python3-jsonschema the tests cannot
    check records: a skip, or under CI=true a failure (see run_all)."""
    global _schema
    if _schema is None:
        try:
            _schema = RecordSchema()
        except ImportError:
            raise Skip("python3-jsonschema is not installed: run 'make deps'")
    return _schema


def check_record(record, line=None):
    """Fail unless the record matches docs/tcpwave.schema.json."""
    problems = record_schema().problems(record)
    if problems:
        raise AssertionError("a record that does not match docs/tcpwave.schema.json: %s\n  %s"
                             % ("; ".join(problems), (line or json.dumps(record)).rstrip("\n")))


def parse_record(line):
    """One line of tcpwave --json output as a record; a line that is not JSON
    fails the test at once. Checking it against the schema takes about a
    millisecond, too long for a test waiting on a busy host's records, so
    run_all checks every line handed out when the test body has returned
    (check_parsed_records)."""
    try:
        record = json.loads(line)
    except ValueError:
        raise AssertionError("tcpwave printed a line that is not JSON: %r" % line)
    _unchecked.append(line)
    return record


def conn_record(records, lport, rport):
    """The one connection record of lport -> rport among records."""
    found = [r for r in records if r.get("type") == "conn" and r["lport"] == lport
             and r["rport"] == rport]
    check(len(found) == 1, "one connection record %d -> %d: %r" % (lport, rport, found))
    return found[0]


def state_names(record):
    """The states a connection record went through, in order."""
    return [s["state"] for s in record["states"]]


def check_parsed_records():
    """Check every line parse_record() handed out since the last call."""
    lines = list(dict.fromkeys(_unchecked))  # records() may parse a line again
    _unchecked.clear()
    for line in lines:
        check_record(json.loads(line), line)


def _readline(stream, timeout, what):
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise AssertionError("no %s within %d s" % (what, timeout))
    return stream.readline()


class Peer:
    """A socket-holding child process (tests/e2e/peer.py) with a known pid,
    in the network namespace `netns` if given (`ip netns exec` execs the
    peer in place, so the pid is the peer's)."""

    def __init__(self, netns=None):
        argv = [sys.executable, PEER]
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.pid = self.proc.pid

    def do(self, *words):
        """Run one command; returns the reply's value, raises on 'err'."""
        reply = self.try_do(*words)
        if not reply.startswith("ok"):
            raise AssertionError("peer %d: %s: %s" % (self.pid, " ".join(map(str, words)), reply))
        return reply[3:]

    def try_do(self, *words):
        self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.proc.stdin.flush()
        line = _readline(self.proc.stdout, REPLY_TIMEOUT_S, "reply to %r" % (words,))
        if not line:
            raise AssertionError("peer %d exited during %r" % (self.pid, words))
        return line.strip()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("exit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_until_tracing(proc):
    """Wait until tcpwave (started with stderr=PIPE) says it is attached;
    returns what it said on stderr until then.

    Reads the raw descriptor: a buffered readline() may pull the ready line
    into Python's buffer, where select() cannot see it (-v writes a lot)."""
    fd = proc.stderr.fileno()
    seen = b""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while b"Ctrl-C to stop" not in seen:
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError("no ready line from tcpwave within %d s: %s"
                                 % (READY_TIMEOUT_S, seen[-500:].decode(errors="replace")))
        chunk = os.read(fd, 65536)
        if not chunk:
            proc.wait()
            raise AssertionError("tcpwave exited %s before tracing: %s"
                                 % (proc.returncode, seen.decode(errors="replace")))
        seen += chunk
    return seen.decode(errors="replace")


def client_closes_first(server, client):
    """One IPv4 connection between two peers, the client closing first and
    the server after reading its FIN. Returns (server port, client port)."""
    port = int(server.do("listen", "ipv4"))
    cport = int(client.do("connect", "ipv4", port))
    server.do("accept")
    client.do("close")
    server.do("recv_eof")
    server.do("close")
    return port, cport


def close_orphaned_in_fin_wait2(peer, timeout_s=REPLY_TIMEOUT_S):
    """peer closes first, and close() itself hands its socket to a timewait
    socket in FIN_WAIT2 (tcp_close()). A bare close() does not always: when
    the ACK of its FIN comes while close() still holds the socket's lock
    (the process preempted there, on a busy host), tcp_rcv_state_process()
    keeps the orphan a full socket in FIN_WAIT2 for tcp_fin_timeout. So the
    FIN goes out with shutdown(), and close() waits for its ACK."""
    peer.do("shutdown")
    peer.do("wait_state", "FIN_WAIT2", timeout_s)
    peer.do("close")


# What a sanitized build (make test SANITIZE=1) prints when it finds a bug.
SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error: ")


def check_no_sanitizer_report(returncode, stderr):
    """Every stopped tcpwave, whatever its test checks: under SANITIZE=1 a
    report aborts it (SIGABRT) and says why on stderr."""
    report = SANITIZER_REPORT.search(stderr)
    check(not report and returncode != -signal.SIGABRT,
          "tcpwave exited %r with a sanitizer report: %s"
          % (returncode, stderr[report.start():][:2000] if report else stderr[-2000:]))


class Tracer:
    """tcpwave running with the given options, started and stopped by the test.

    A thread reads its stdout as it comes, so tcpwave never blocks on a full
    pipe and a test can wait for a line with a timeout."""

    def __init__(self, *args):
        self.args = [TCPWAVE] + list(args)
        self.proc = None
        self.lines = queue.Queue()
        self.stdout_lines = []
        self.stderr = ""
        self.returncode = None
        self._reader = None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        self.stderr = wait_until_tracing(self.proc)
        return self

    def _read_stdout(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next_line(self, timeout=REPLY_TIMEOUT_S):
        """The next stdout line as it arrives; fails the test after timeout."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no output line from tcpwave within %d s" % timeout)
        if line is None:
            raise AssertionError("tcpwave's output ended")
        self.stdout_lines.append(line)
        return line

    def next_record(self, timeout=REPLY_TIMEOUT_S):
        return parse_record(self.next_line(timeout))

    def stop(self, sig=signal.SIGINT):
        """Signal tcpwave, wait for it, and keep its output."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.stderr += self.proc.stderr.read()
            self.returncode = self.proc.wait(EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("tcpwave did not exit within %d s of signal %d"
                                 % (EXIT_TIMEOUT_S, sig))
        self._reader.join(EXIT_TIMEOUT_S)
        while True:
            line = self.lines.get_nowait() if not self.lines.empty() else None
            if line is None:
                break
            self.stdout_lines.append(line)
        check_no_sanitizer_report(self.returncode, self.stderr)
        return self

    @property
    def stdout(self):
        return "".join(self.stdout_lines)

    def records(self):
        """Every stdout line as a record (parse_record): a line that is not
        JSON, or not a record the schema describes, fails the test."""
        return [parse_record(line) for line in self.stdout_lines]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def transitions(records, port):
    """State records of the sockets with `port` at either end, in order."""
    return [r for r in records if r.get("type") == "state" and port in (r["lport"], r["rport"])]


def socket_events(records, lport, rport=None):
    """Every state record of the socket seen with local port lport (and remote
    port rport), joined by its cookie: connect()'s first transition comes
    before the kernel picks the local port, so it shows port 0."""
    cookies = {r["sock"] for r in records if r.get("type") == "state" and r["lport"] == lport
               and rport in (None, r["rport"])}
    check(len(cookies) == 1, "one socket with local port %d (remote %r): cookies %r"
          % (lport, rport, cookies))
    return [r for r in records if r.get("type") == "state" and r["sock"] in cookies]


def sequence(records):
    return [(r["old"], r["new"]) for r in records]


def check_owners(events, pid, unowned, what):
    """The first `unowned` events have no owner yet (a server socket before
    its process reads, writes or closes it); all others belong to pid, also
    those that ran in softirq."""
    for i, e in enumerate(events):
        want = None if i < unowned else pid
        check(e["pid"] == want, "%s %s->%s: expected owner %r, got %r (comm %r, process_ctx %r)"
              % (what, e["old"], e["new"], want, e["pid"], e["comm"], e["process_ctx"]))


# No test needs nearly this long; past it the test has hung and fails.
TEST_TIMEOUT_S = 180


def _on_alarm(signum, frame):
    raise AssertionError("the test did not finish within %d s" % TEST_TIMEOUT_S)


def skip_or_fail(fn, reason, must_run):
    """Report a test that cannot run: a skip, or under CI=true a failure (returns True)."""
    if must_run:
        print("FAIL %s: %s (CI=true: end-to-end tests must run)" % (fn.__name__, reason))
        return True
    print("skip %s: %s" % (fn.__name__, reason))
    return False


def run_one(fn):
    """Run one test: None if it passed, else (kind, message), kind "skip" or "fail"."""
    signal.alarm(TEST_TIMEOUT_S)
    try:
        _unchecked.clear()
        fn()
        check_parsed_records()
    except Skip as e:
        return "skip", str(e)
    except Exception as e:  # any escape is a failure of this test, not of the run
        what = "" if isinstance(e, AssertionError) else type(e).__name__ + ": "
        return "fail", what + str(e)
    finally:
        signal.alarm(0)
    return None


def run_all(selected=None):
    """Run the registered tests; returns (passed, failed, skipped)."""
    signal.signal(signal.SIGALRM, _on_alarm)
    must_run = os.environ.get("CI", "").lower() == "true"
    reason = privilege_problem()
    pid1 = None if reason else Pid1Events()
    try:
        counts = _run_tests(selected, reason, must_run, pid1)
    finally:
        if pid1:
            pid1.close()
    return counts


def _run_tests(selected, reason, must_run, pid1):
    """run_all's loop: a failed test runs once more if pid1 saw events hidden from BPF."""
    passed = failed = skipped = 0
    for fn in TESTS:
        if selected and not any(s in fn.__name__ for s in selected):
            continue
        if reason:
            if skip_or_fail(fn, reason, must_run):
                failed += 1
            else:
                skipped += 1
            continue
        started = time.monotonic()
        pid1.start()
        outcome = run_one(fn)
        unseen = pid1.seen()
        if outcome and outcome[0] == "fail" and unseen:
            print("again %s: %s\n      %d TCP events ran in an interrupt on PID 1's time, "
                  "where this kernel runs no BPF program (see tests/e2e/pid1_events.py)"
                  % (fn.__name__, outcome[1], unseen))
            started = time.monotonic()
            pid1.start()
            outcome = run_one(fn)
        if outcome is None:
            print("ok   %s (%.1f s)" % (fn.__name__, time.monotonic() - started))
            passed += 1
        elif outcome[0] == "skip" and not skip_or_fail(fn, outcome[1], must_run):
            skipped += 1
        else:
            if outcome[0] == "fail":
                print("FAIL %s: %s" % (fn.__name__, outcome[1]))
            failed += 1
    return passed, failed, skipped


def privilege_problem():
    """Why end-to-end tests cannot run here, or None."""
    if not os.path.exists(TCPWAVE):
        return "%s is not built" % TCPWAVE
    if os.geteuid() != 0:
        return "needs root to load BPF programs (run 'sudo make test')"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
    return None
