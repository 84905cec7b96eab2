"""Least privilege: once set up, tcpwave holds no capability and, started as
root, runs as an unprivileged user; it still traces and lists the
connections still open at exit."""
import pwd
import subprocess

from harness import TCPWAVE, Peer, Tracer, check, check_eq, test

NO_CAPS = "0000000000000000"
CRED_FIELDS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
               "NoNewPrivs")


def credentials(pid):
    """The credential lines of /proc/PID/status, as {field: value}."""
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.rstrip("\n").split(":", 1) for line in f if ":" in line)
    return {k: fields[k].strip() for k in CRED_FIELDS}


def check_dropped_to(creds, user):
    pw = pwd.getpwnam(user)
    check_eq(creds["Uid"].split(), [str(pw.pw_uid)] * 4, "real, effective, saved, fs uid")
    check_eq(creds["Gid"].split(), [str(pw.pw_gid)] * 4, "real, effective, saved, fs gid")
    check_eq(creds["Groups"], "", "supplementary groups")
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        check_eq(creds[cap], NO_CAPS, cap)
    check_eq(creds["NoNewPrivs"], "1", "NoNewPrivs")


def check_still_traces(tracer):
    """A connection closed is reported; one left open is listed at SIGINT."""
    server, closed, left_open = Peer(), Peer(), Peer()
    try:
        port = int(server.do("listen", "ipv4"))
        cport = int(closed.do("connect", "ipv4", port))
        server.do("accept")
        closed.do("close")
        server.do("close")
        while True:
            r = tracer.next_record()
            if r.get("type") == "conn" and (r["lport"], r["rport"]) == (cport, port):
                break
        check_eq((r["close"], r["complete"], r["pid"]), ("active", True, closed.pid),
                 "the closed connection")
        oport = int(left_open.do("connect", "ipv4", port))
        server.do("accept")
        tracer.stop()
        check_eq(tracer.returncode, 0, "exit status after SIGINT")
        still = [r for r in tracer.records()
                 if r.get("type") == "conn" and (r["lport"], r["rport"]) == (oport, port)]
        check_eq([(r["complete"], r["close"], r["pid"]) for r in still],
                 [(False, None, left_open.pid)], "the open connection, listed at exit")
    finally:
        server.close()
        closed.close()
        left_open.close()


@test
def test_privileges_default_drops_to_nobody_without_capabilities():
    with Tracer("--json") as tracer:
        check_dropped_to(credentials(tracer.proc.pid), "nobody")
        check_still_traces(tracer)


@test
def test_privileges_user_option_names_the_user():
    with Tracer("--json", "--user", "daemon") as tracer:
        check_dropped_to(credentials(tracer.proc.pid), "daemon")
        check_still_traces(tracer)


@test
def test_privileges_no_drop_keeps_root_and_capabilities():
    with open("/proc/self/status") as f:
        mine = dict(line.rstrip("\n").split(":", 1) for line in f if ":" in line)
    with Tracer("--json", "--no-drop") as tracer:
        creds = credentials(tracer.proc.pid)
        check_eq(creds["Uid"].split(), ["0"] * 4, "uids")
        for cap in ("CapPrm", "CapEff", "CapBnd"):
            check_eq(creds[cap], mine[cap].strip(), cap + " as tcpwave's parent has it")
        check_eq(creds["NoNewPrivs"], "0", "NoNewPrivs")
        check_still_traces(tracer)


@test
def test_privileges_non_root_with_capabilities_drops_them():
    # CAP_BPF and CAP_PERFMON as ambient capabilities of uid 65534: enough to
    # trace, and to walk the connections of its own network namespace open
    # before tracing began (one closed while traced then starts from the
    # state the walk found). The bounding set needs CAP_SETPCAP to change;
    # no_new_privs covers it.
    tracer = Tracer("--json")
    tracer.args = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                   "--inh-caps=+bpf,+perfmon", "--ambient-caps=+bpf,+perfmon"] + tracer.args
    server, client = Peer(), Peer()
    try:
        port = int(server.do("listen", "ipv4"))
        cport = int(client.do("connect", "ipv4", port))
        server.do("accept")
        with tracer:
            check("cannot walk" not in tracer.stderr, "start-up walk: %r" % tracer.stderr)
            creds = credentials(tracer.proc.pid)
            check_eq(creds["Uid"].split(), ["65534"] * 4, "uids")
            for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
                check_eq(creds[cap], NO_CAPS, cap)
            check_eq(creds["NoNewPrivs"], "1", "NoNewPrivs")
            client.do("close")
            server.do("close")
            check_still_traces(tracer)
        before = [r for r in tracer.records()
                  if r.get("type") == "conn" and (r["lport"], r["rport"]) == (cport, port)]
        check_eq([(r["open"], r["states"][0]["state"]) for r in before],
                 [("unknown", "ESTABLISHED")], "the connection open before tracing began")
    finally:
        server.close()
        client.close()


@test
def test_privileges_bad_user_options_exit_2():
    for args, message in [
            (["--user", "no-such-user-tcpwave"],
             "tcpwave: --user: no such user 'no-such-user-tcpwave'\n"),
            (["--user", ""], "tcpwave: --user: invalid value '': expected a user name\n"),
            (["--user", "root"], "tcpwave: --user: 'root' is uid 0; keep root with --no-drop\n"),
            (["--user", "daemon", "--no-drop"],
             "tcpwave: --no-drop: cannot be combined with --user\n")]:
        run = subprocess.run([TCPWAVE] + args, capture_output=True, text=True, timeout=30)
        check_eq(run.returncode, 2, "exit status for %r" % args)
        check_eq(run.stderr, message, "message for %r" % args)


@test
def test_privileges_a_drop_that_cannot_be_done_is_refused_before_tracing():
    # Root without CAP_SETUID or CAP_SETGID (gone from the bounding set before
    # exec, as a service's CapabilityBoundingSet= does) cannot become nobody:
    # tcpwave must stop, not trace on as root, and say what to do instead.
    for cap in ("setuid", "setgid"):
        run = subprocess.run(["setpriv", "--bounding-set=-" + cap, TCPWAVE, "--json", "-d", "5"],
                             capture_output=True, text=True, timeout=30)
        check_eq(run.returncode, 1, "exit status without CAP_%s" % cap.upper())
        check_eq(run.stderr, "tcpwave: cannot become 'nobody' once set up: root here lacks "
                 "CAP_SETUID or CAP_SETGID; run tcpwave as a user of its own given CAP_BPF "
                 "and CAP_PERFMON (docs/tcpwave.service does), or keep root with --no-drop\n",
                 "message without CAP_%s" % cap.upper())
        check_eq(run.stdout, "", "nothing traced")
