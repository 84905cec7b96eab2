"""Process names are chosen by whoever runs the process (prctl(PR_SET_NAME),
up to 15 bytes). A hostile one must not forge or break a JSON record, nor
reach a terminal raw through the table, the timeline or --events."""
import json
import re
import signal
import subprocess
import tempfile

from harness import TCPWAVE, EXIT_TIMEOUT_S, Peer, check, check_eq, test, wait_until_tracing

# (name as bytes, the JSON value once decoded, the text shown in table and timeline)
NAMES = [
    (b'a"b\\c', 'a"b\\c', 'a"b\\\\c'),
    (b'x","pid":1}', 'x","pid":1}', 'x","pid":1}'),
    (b"x\ny\tz\rw", "x\ny\tz\rw", "x\\x0ay\\x09z\\x0dw"),
    (b"\x1b[2J\x1b[H", "\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
    (b"\x1b]0;title\x07", "\x1b]0;title\x07", "\\x1b]0;title\\x07"),
    (b"a\x7fb", "a\x7fb", "a\\x7fb"),
    (b"\x80\xc0\xfe\xff", "\ufffd" * 4, "\\x80\\xc0\\xfe\\xff"),
    (b"\xc2\x9b" b"2J", "\x9b2J", "\\xc2\\x9b2J"),
    (b"\xe2\x80\xae" b"gpj.exe", "\u202egpj.exe", "\\xe2\\x80\\xaegpj.exe"),
    ("café€".encode(), "café€", "café€"),
    # 13 bytes and a 3-byte €: the kernel keeps 15 bytes, cutting the € in two.
    ("abcdefghijklm€".encode(), "abcdefghijklm\ufffd\ufffd", "abcdefghijklm\\xe2\\x82"),
]

CLIENT_STEPS = ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "CLOSE"]


def run_named_connections(args):
    """One connection per hostile name, the client renamed before each.
    Returns (tcpwave's stdout as bytes, [(name entry, client port)], client pid,
    server port)."""
    server, client = Peer(), Peer()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([TCPWAVE] + args, stdout=out, stderr=subprocess.PIPE)
        try:
            wait_until_tracing(proc)
            port = int(server.do("listen", "ipv4"))
            conns = []
            for entry in NAMES:
                client.do("comm", entry[0].hex())
                cport = int(client.do("connect", "ipv4", port))
                server.do("accept")
                client.do("close")
                server.do("recv_eof")
                server.do("close")
                conns.append((entry, cport))
            proc.send_signal(signal.SIGINT)
            check_eq(proc.wait(EXIT_TIMEOUT_S), 0, "tcpwave's exit status")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            server.close()
            client.close()
        out.seek(0)
        return out.read(), conns, client.pid, port


def check_terminal_safe(raw):
    """Valid UTF-8, with no control character but the newline ending each line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("output is not valid UTF-8: %s" % e)
    bad = [(i, c) for i, c in enumerate(text)
           if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f or c in "\u2028\u2029\u202e"]
    check(not bad, "control characters in the output: %r" % bad[:5])
    check(text.endswith("\n"), "output ends with a newline")
    return text.split("\n")[:-1]


@test
def test_hostile_names_json_stays_one_valid_record_per_line():
    raw, conns, pid, port = run_named_connections(["--json"])
    lines = check_terminal_safe(raw)  # the raw NDJSON is safe to tail -f too
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError("a line that is not one JSON record: %r" % line)
    for (name, want, _), cport in conns:
        mine = [r for r in records if r.get("type") == "conn" and r["lport"] == cport
                and r["rport"] == port]
        check_eq(len(mine), 1, "records for the connection named %r" % name)
        check_eq(mine[0]["comm"], want, "comm of %r after decoding" % name)
        check_eq(mine[0]["pid"], pid, "pid of %r" % name)
        check_eq(sorted(mine[0].keys()), sorted(records[0].keys()), "the record's keys")


@test
def test_hostile_names_table_shows_them_escaped_one_line_each():
    raw, conns, pid, port = run_named_connections([])
    lines = check_terminal_safe(raw)
    check(lines[0].startswith("TIME "), "the header first: %r" % lines[0])
    for line in lines[1:]:
        check(re.match(r"\d\d:\d\d:\d\d\.\d{6} ", line), "every line is a record: %r" % line)
    for (name, _, want), cport in conns:
        ends = ["127.0.0.1:%d" % cport, "127.0.0.1:%d" % port]
        mine = [l.split() for l in lines[1:] if l.split()[3:5] == ends]
        check_eq(len(mine), 1, "lines for the connection named %r" % name)
        check_eq(mine[0][1:3], [str(pid), want], "PID and COMM of %r" % name)
        # The last column, DIAGNOSIS, is "-" for these quick closes.
        check_eq(len(mine[0]), 11, "columns of the line for %r" % name)


@test
def test_hostile_names_summary_shows_them_escaped():
    """-s names the processes with the most slow closes (every close is slow
    at --slow-close 0), a row per pid and name: the client's rows under the
    names it took, escaped as the table shows them."""
    raw, conns, pid, port = run_named_connections(["-s", "--slow-close", "0"])
    lines = check_terminal_safe(raw)
    at = lines.index("top processes by slow closes")
    rows = [l.split(None, 3) for l in lines[at + 2:] if l.startswith("  ")]
    client = [r[3] for r in rows if r[2] == str(pid)]
    wants = [want for (_, _, want), _ in conns]
    # The top ten: the server's row, the client's, and any other process's
    # that closed a connection meanwhile (every close counts at 0 ms).
    check(client, "the client's rows among %r" % rows)
    check(set(client) <= set(wants), "their COMMs %r, each one of %r" % (client, wants))


@test
def test_hostile_names_timeline_shows_them_escaped_in_the_header():
    raw, conns, pid, port = run_named_connections(["--timeline"])
    lines = check_terminal_safe(raw)
    for line in lines:
        check(line == "" or re.match(r"\d\d:\d\d:\d\d\.\d{6} \S+ -> \S+ pid ", line) or
              re.match(r" +\+\d+\.\d{3} ms  [A-Z_0-9]+ ", line), "a timeline line: %r" % line)
    for (name, _, want), cport in conns:
        head = "127.0.0.1:%d -> 127.0.0.1:%d " % (cport, port)
        at = [i for i, l in enumerate(lines) if head in l]
        check_eq(len(at), 1, "timelines for the connection named %r" % name)
        check(" pid %d (%s) open active, close active" % (pid, want) in lines[at[0]],
              "header names %r as %r: %r" % (name, want, lines[at[0]]))
        steps = lines[at[0] + 1:at[0] + 1 + len(CLIENT_STEPS) + 1]
        check_eq([l.split()[2] if l else "" for l in steps], CLIENT_STEPS + [""],
                 "the steps of %r, then the blank line" % name)


@test
def test_hostile_names_events_text_shows_them_escaped():
    raw, conns, pid, port = run_named_connections(["--events"])
    lines = check_terminal_safe(raw)
    for line in lines[1:]:
        check(re.match(r"\d\d:\d\d:\d\d\.\d{6} ", line), "every line is a transition: %r" % line)
    for (name, _, want), cport in conns:
        ends = ["127.0.0.1:%d" % cport, "127.0.0.1:%d" % port]
        mine = [l.split() for l in lines[1:] if l.split()[3:5] == ends]
        # connect()'s first transition comes before the port: 4 of the 5 show it
        check_eq(len(mine), len(CLIENT_STEPS) - 1, "transitions of the socket named %r" % name)
        for fields in mine:
            check_eq(fields[1:3], [str(pid), want], "PID and COMM of %r" % name)
