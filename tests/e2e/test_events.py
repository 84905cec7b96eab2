"""--events: every transition of both ends, with the right owner."""
import json
import os
import re
import signal
import subprocess
import time

from harness import (TCPWAVE, Peer, Tracer, check, check_eq, check_owners, sequence,
                     socket_events, test, wait_until_tracing)

CLIENT_CLOSES_FIRST = {
    "client": [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"), ("ESTABLISHED", "FIN_WAIT1"),
               ("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")],
    "server": [("LISTEN", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"),
               ("ESTABLISHED", "CLOSE_WAIT"), ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSE")],
}


def client_closes_first(family, *tracer_args, server_acts=lambda server, client: None):
    """Run one connection, client closing first; returns (records, client,
    server, ports). server_acts(server, client) runs after accept()."""
    server, client = Peer(), Peer()
    try:
        with Tracer("--events", "--json", *tracer_args) as tracer:
            port = int(server.do("listen", family))
            cport = int(client.do("connect", family, port))
            server.do("accept")
            server_acts(server, client)
            client.do("send", 100)
            client.do("close")
            check_eq(server.do("recv_eof"), "100", "bytes the server read")
            server.do("close")
            server.do("close_listener")
            tracer.stop()
        check_eq(tracer.returncode, 0, "tcpwave's exit status")
        return tracer.records(), client.pid, server.pid, port, cport
    finally:
        server.close()
        client.close()


def check_client_closes_first(family, *tracer_args, server_acts=lambda server, client: None,
                              server_unowned=3):
    """server_unowned: the server's transitions before it acted on its socket."""
    records, client_pid, server_pid, port, cport = client_closes_first(
        family, *tracer_args, server_acts=server_acts)
    client = socket_events(records, cport)
    server = socket_events(records, port, cport)
    check_eq(sequence(client), CLIENT_CLOSES_FIRST["client"], "client transitions")
    check_eq(sequence(server), CLIENT_CLOSES_FIRST["server"], "server transitions")
    # The client owns its socket from connect(). The server's child socket is
    # created and established in softirq (on loopback: in the client's
    # context), and the client's FIN puts it in CLOSE_WAIT there too: it has
    # no owner until the server reads or writes it (by default only after
    # that FIN), or closes it.
    check_owners(client, client_pid, 0, "client")
    check_owners(server, server_pid, server_unowned, "server")
    for e in client + server:
        check_eq(e["family"], family, "family")
        check(e["sock"] > 0, "socket cookie is positive: %r" % e)
    check(len({e["sock"] for e in client}) == 1, "one cookie for the client socket")
    check(len({e["sock"] for e in server}) == 1, "one cookie for the server socket")
    check(client[0]["sock"] != server[0]["sock"], "the two ends have different cookies")
    # At ->CLOSE the kernel has released the local port: it is carried over.
    check_eq(client[-1]["lport"], cport, "client local port at CLOSE")
    check_eq(server[-1]["lport"], port, "server local port at CLOSE")
    loopback = "127.0.0.1" if family == "ipv4" else "::1"
    for e in client[1:] + server:
        check_eq((e["laddr"], e["raddr"]), (loopback, loopback), "addresses")
    return client, server


@test
def test_events_client_closes_first_ipv4_sequence_and_owners():
    check_client_closes_first("ipv4")


def server_reads(server, client):
    client.do("send", 10)
    check_eq(server.do("recv", 10), "10", "bytes the server read")


def server_writes(server, client):
    server.do("send", 10)
    check_eq(client.do("recv", 10), "10", "bytes the client read")


@test
def test_events_an_accepted_socket_is_owned_from_its_first_read():
    check_client_closes_first("ipv4", server_acts=server_reads, server_unowned=2)


@test
def test_events_an_accepted_socket_is_owned_from_its_first_write():
    check_client_closes_first("ipv4", server_acts=server_writes, server_unowned=2)


@test
def test_events_client_closes_first_ipv6_sequence_and_owners():
    check_client_closes_first("ipv6")


@test
def test_events_classic_tracepoint_fallback_gives_same_stream():
    check_client_closes_first("ipv4", "--attach", "classic")


@test
def test_verbose_reports_the_attach_mode():
    for args, mode in [((), "attached to tp_btf/inet_sock_set_state"),
                       (("--attach", "classic"), "attached to tracepoint/sock/inet_sock_set_state")]:
        tracer = Tracer("--events", "-v", *args).start().stop()
        check(mode in tracer.stderr, "-v with %r says %r: %s" % (args, mode, tracer.stderr[-500:]))


@test
def test_events_json_fields_and_durations():
    client, server = check_client_closes_first("ipv4")
    first = client[0]
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", first["ts"]),
          "ts is RFC 3339 UTC with ns: %r" % first["ts"])
    check_eq(first["dur_ns"], None, "duration of CLOSE before connect() (not seen begin)")
    check_eq(first["process_ctx"], True, "connect() runs in process context")
    for prev, cur in zip(client, client[1:]):
        check_eq(cur["dur_ns"], cur["mono_ns"] - prev["mono_ns"],
                 "dur_ns of %s is the time since %s began" % (cur["old"], cur["old"]))
    check_eq(server[3]["process_ctx"], True, "close() of CLOSE_WAIT runs in process context")
    check_eq(server[2]["process_ctx"], False, "the peer's FIN is processed in softirq")
    for e in client + server:
        check(isinstance(e["netns"], int) and e["netns"] > 0, "netns inode: %r" % e["netns"])
        check(isinstance(e["cgroup_id"], int), "cgroup_id: %r" % e["cgroup_id"])


@test
def test_events_sock_is_the_cookie_ss_prints():
    server, client = Peer(), Peer()
    try:
        with Tracer("--events", "--json") as tracer:
            port = int(server.do("listen", "ipv4"))
            cport = int(client.do("connect", "ipv4", port))
            server.do("accept")
            ss = subprocess.run(["ss", "-tneH", "state", "established", "sport", "=",
                                 ":%d" % cport], capture_output=True, text=True, check=True)
            client.do("close")
            server.do("close")
            tracer.stop()
        match = re.search(r"\bsk:([0-9a-f]+)", ss.stdout)
        check(match, "ss -e shows the socket cookie: %r" % ss.stdout)
        events = socket_events(tracer.records(), cport)
        check_eq(events[0]["sock"], int(match.group(1), 16), "cookie of the client socket")
    finally:
        server.close()
        client.close()


@test
def test_events_text_lines_name_owner_and_transition():
    server, client = Peer(), Peer()
    try:
        with Tracer("--events") as tracer:
            port = int(server.do("listen", "ipv4"))
            cport = int(client.do("connect", "ipv4", port))
            server.do("accept")
            client.do("close")
            server.do("close")
            tracer.stop()
        lines = tracer.stdout.splitlines()
        check(lines[0].split() == ["TIME", "PID", "COMM", "LOCAL", "REMOTE", "TRANSITION", "MS"],
              "header line: %r" % lines[0])
        mine = [l for l in lines if l.split()[3] == "127.0.0.1:%d" % cport]
        check_eq(len(mine), 4, "client lines after connect() chose the port, in %r" % lines)
        fields = mine[0].split()
        check_eq(fields[1], str(client.pid), "owner pid column")
        check_eq(fields[2], "python3", "comm column")
        check_eq(fields[5:8], ["SYN_SENT", "->", "ESTABLISHED"], "transition column")
        check(re.fullmatch(r"\d+\.\d{3}", fields[8]), "milliseconds column: %r" % fields[8])
        connect = [l for l in lines if "CLOSE -> SYN_SENT" in l and l.split()[1] == str(client.pid)]
        check_eq(len(connect), 1, "the connect() line")
        check_eq(connect[0].split()[-1], "-", "unknown duration shown as -")
    finally:
        server.close()
        client.close()


@test
def test_events_lost_records_are_counted_and_reported():
    burst = 50
    server, client = Peer(), Peer()
    try:
        tracer = Tracer("--events", "--json", "--ringbuf-kb", "4").start()
        port = int(server.do("listen", "ipv4"))
        # Hold tcpwave still so the 4 KiB ring must overflow.
        tracer.proc.send_signal(signal.SIGSTOP)
        for _ in range(burst):
            client.do("connect", "ipv4", port)
            server.do("accept")
            client.do("close")
            server.do("close")
        tracer.proc.send_signal(signal.SIGCONT)
        tracer.stop()
        records = tracer.records()
        lost = [r for r in records if r["type"] == "lost"]
        check(lost, "a {\"type\":\"lost\"} record; stderr: %s" % tracer.stderr)
        total = lost[-1]["total"]
        check_eq(sum(r["count"] for r in lost), total, "lost counts add up to the total")
        delivered = [r for r in records if r["type"] == "state" and port in (r["lport"], r["rport"])]
        check(len(delivered) + total >= burst * 10,
              "delivered (%d) + lost (%d) cover all %d transitions"
              % (len(delivered), total, burst * 10))
        check(re.search(r"%d records lost" % total, tracer.stderr) or
              "records lost" in tracer.stderr, "stderr reports the loss: %s" % tracer.stderr)
        check(re.search(r"\b%d lost\b" % total, tracer.stderr),
              "exit summary gives %d lost: %s" % (total, tracer.stderr))
    finally:
        server.close()
        client.close()


@test
def test_events_reader_going_away_ends_quietly():
    # As in `tcpwave --events -j | head -1`: read one line, close the pipe.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([TCPWAVE, "--events", "--json"], stdout=write_end,
                            stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    server, client = Peer(), Peer()
    try:
        wait_until_tracing(proc)
        with os.fdopen(read_end) as reader:
            port = int(server.do("listen", "ipv4"))
            json.loads(reader.readline())
        # Each further transition is a write into the closed pipe.
        for _ in range(200):
            if proc.poll() is not None:
                break
            client.do("connect", "ipv4", port)
            server.do("accept")
            client.do("close")
            server.do("close")
        code = proc.wait(30)
        err = proc.stderr.read()
        check_eq(code, 0, "exit status after EPIPE")
        check("writing" not in err and "Broken pipe" not in err, "no error message: %s" % err)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
        client.close()


@test
def test_duration_ends_tracing_with_status_0():
    tracer = Tracer("--events", "-d", "0.3").start()
    code = tracer.proc.wait(30)
    check_eq(code, 0, "exit status after --duration")


@test
def test_sigterm_ends_tracing_with_status_0():
    tracer = Tracer("--events").start().stop(signal.SIGTERM)
    check_eq(tracer.returncode, 0, "exit status after SIGTERM")


@test
def test_unprivileged_run_says_what_it_needs():
    run = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          "--inh-caps=-all", "--bounding-set=-all", TCPWAVE, "--events"],
                         capture_output=True, text=True, timeout=30)
    check_eq(run.returncode, 1, "exit status without privileges")
    check_eq(run.stderr, "tcpwave: tcpwave needs root, or CAP_BPF and CAP_PERFMON\n", "message")


@test
def test_kernel_without_btf_says_so():
    # Hide /sys/kernel/btf in a private mount namespace, as on a kernel built without BTF.
    run = subprocess.run(["unshare", "--mount", "sh", "-c",
                          "mount -t tmpfs none /sys/kernel/btf && exec %s --events" % TCPWAVE],
                         capture_output=True, text=True, timeout=30)
    check_eq(run.returncode, 1, "exit status without BTF")
    check("this kernel has no BTF" in run.stderr and "CONFIG_DEBUG_INFO_BTF" in run.stderr,
          "message: %r" % run.stderr)


@test
def test_tracefs_is_mounted_when_missing():
    # A fresh host has no tracefs mounted; the classic tracepoints need it.
    run = subprocess.run(["unshare", "--mount", "sh", "-c",
                          "umount /sys/kernel/tracing 2>/dev/null; "
                          "umount /sys/kernel/debug 2>/dev/null; "
                          "test ! -e /sys/kernel/tracing/events || exit 9; "
                          "exec %s --events -v -d 0.3" % TCPWAVE],
                         capture_output=True, text=True, timeout=30)
    check(run.returncode != 9, "tracefs could not be unmounted for the test")
    check_eq(run.returncode, 0, "exit status: %s" % run.stderr[-300:])
    check("mounted tracefs at /sys/kernel/tracing" in run.stderr, "says so under -v")
    check("cannot attach" not in run.stderr, "every program attached: %s" % run.stderr[-300:])


@test
def test_bad_options_exit_2_naming_the_option():
    for args, name in [(["--duration", "0"], "--duration"), (["-d", "x"], "--duration"),
                       (["--ringbuf-kb", "3"], "--ringbuf-kb"), (["--bogus"], "--bogus"),
                       (["--attach", "kprobe"], "--attach")]:
        run = subprocess.run([TCPWAVE] + args, capture_output=True, text=True, timeout=30)
        check_eq(run.returncode, 2, "exit status for %r" % args)
        check(name in run.stderr, "message for %r names %s: %r" % (args, name, run.stderr))


@test
def test_events_mptcp_socket_is_ignored_its_tcp_subflows_are_traced():
    server, client = Peer(), Peer()
    try:
        with Tracer("--events", "--json") as tracer:
            port = int(server.do("listen", "ipv4", "mptcp"))
            cport = int(client.do("connect", "ipv4", port, "mptcp"))
            server.do("accept")
            client.do("close")
            server.do("recv_eof")
            server.do("close")
            server.do("close_listener")
            tracer.stop()
        records = tracer.records()
        # The MPTCP-level socket reports LISTEN too; only the TCP subflow's may show.
        listens = [r for r in records if r.get("type") == "state" and r["lport"] == port
                   and r["new"] == "LISTEN"]
        check_eq(len(listens), 1, "CLOSE->LISTEN records on the port (the TCP subflow only)")
        client_events = socket_events(records, cport)
        # MPTCP shuts a subflow down before closing it: FIN_WAIT2->FIN_WAIT2 may show.
        moves = [step for step in sequence(client_events) if step[0] != step[1]]
        check_eq(moves, CLIENT_CLOSES_FIRST["client"], "client subflow")
        # The MPTCP worker thread closes subflows; it must not take them from the app.
        check(all(e["pid"] == client.pid for e in client_events),
              "client subflow owned by the client throughout: %r"
              % [(e["new"], e["pid"], e["comm"]) for e in client_events])
    finally:
        server.close()
        client.close()


@test
def test_events_idle_host_sees_a_transition_within_100_ms():
    server, client = Peer(), Peer()
    try:
        tracer = Tracer("--events", "--json").start()
        port = int(server.do("listen", "ipv4"))
        tracer.next_record()  # CLOSE->LISTEN
        delays = []
        for _ in range(5):
            client.do("connect", "ipv4", port)
            server.do("accept")
            client.do("close")
            server.do("close")
            for _ in range(10):  # both ends' transitions, read as they arrive
                record = tracer.next_record()
                delays.append((time.monotonic_ns() - record["mono_ns"]) / 1e6)
        tracer.stop()
        check(max(delays) < 100, "each line within 100 ms of its transition: %r ms" % delays)
    finally:
        server.close()
        client.close()
