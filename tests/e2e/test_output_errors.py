"""Output that cannot be written: a full disk or a descriptor not open for
writing is reported and ends tcpwave with status 1, without hanging."""
import subprocess
import tempfile

from harness import TCPWAVE, EXIT_TIMEOUT_S, Peer, check, check_eq, test, wait_until_tracing


def one_connection():
    server, client = Peer(), Peer()
    try:
        port = int(server.do("listen", "ipv4"))
        client.do("connect", "ipv4", port)
        server.do("accept")
        client.do("close")
        server.do("close")
    finally:
        server.close()
        client.close()


def run_into(stdout, args, connect):
    """tcpwave writing to `stdout`; returns (status, stderr). With `connect`,
    a connection gives it something to write once it traces."""
    proc = subprocess.Popen([TCPWAVE] + args, stdout=stdout, stderr=subprocess.PIPE)
    try:
        if connect:
            wait_until_tracing(proc)
            one_connection()
        try:
            proc.wait(EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError("tcpwave still running %d s after its output failed"
                                 % EXIT_TIMEOUT_S)
        return proc.returncode, proc.stderr.read().decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@test
def test_output_full_disk_is_reported_and_exits_1():
    with open("/dev/full", "wb") as full:
        # JSON has no header: the first connection's record is the first write.
        code, err = run_into(full, ["--json"], connect=True)
    check_eq(code, 1, "exit status when standard output is full")
    check("tcpwave: writing standard output: No space left on device\n" in err,
          "message: %r" % err)
    check_eq(err.count("writing standard output"), 1, "the failure is reported once")


@test
def test_output_full_disk_fails_at_the_table_header():
    with open("/dev/full", "wb") as full:
        code, err = run_into(full, [], connect=False)
    check_eq(code, 1, "exit status when the header cannot be written")
    check("tcpwave: writing standard output: No space left on device\n" in err,
          "message: %r" % err)


@test
def test_output_descriptor_not_open_for_writing_is_reported():
    with tempfile.NamedTemporaryFile() as f, open(f.name, "rb") as readonly:
        code, err = run_into(readonly, ["--events"], connect=False)
    check_eq(code, 1, "exit status when standard output is read-only")
    check("tcpwave: writing standard output: Bad file descriptor\n" in err, "message: %r" % err)
