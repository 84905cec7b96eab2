"""SIGINT and SIGTERM: the first ends tracing cleanly, a second at once."""
import fcntl
import os
import signal
import subprocess
import time

from harness import (TCPWAVE, Peer, Tracer, check, check_eq, test, wait_until_tracing)

F_SETPIPE_SZ = 1031
# How long a second signal may take to end tcpwave; it should take microseconds.
SECOND_SIGNAL_EXIT_S = 5
BLOCK_TIMEOUT_S = 30


def blocked_in_write(pid):
    """tcpwave sleeps in the kernel's pipe_write() (anon_pipe_write() on newer
    kernels), waiting for room."""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return f.read().endswith("pipe_write")
    except OSError:
        return False


def check_still_open_record(sig):
    tracer = Tracer("--json").start()
    server, client = Peer(), Peer()
    try:
        port = int(server.do("listen", "ipv4"))
        cport = int(client.do("connect", "ipv4", port))
        server.do("accept")
        tracer.stop(sig)
    finally:
        server.close()
        client.close()
    check_eq(tracer.returncode, 0, "exit status after %s" % signal.Signals(sig).name)
    mine = [r for r in tracer.records() if r.get("type") == "conn" and
            {r["lport"], r["rport"]} == {port, cport}]
    check_eq(sorted((r["lport"], r["complete"], r["close"]) for r in mine),
             sorted([(port, False, None), (cport, False, None)]),
             "both ends flushed as still open")


@test
def test_signal_sigint_flushes_open_connections_and_exits_0():
    check_still_open_record(signal.SIGINT)


@test
def test_signal_sigterm_flushes_open_connections_and_exits_0():
    check_still_open_record(signal.SIGTERM)


@test
def test_signal_second_sigint_ends_a_tcpwave_blocked_on_a_full_pipe():
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)  # the smallest pipe fills fastest
    proc = subprocess.Popen([TCPWAVE, "--events", "--json"], stdout=write_end,
                            stderr=subprocess.PIPE)
    os.close(write_end)
    server, client = Peer(), Peer()
    try:
        wait_until_tracing(proc)
        port = int(server.do("listen", "ipv4"))
        deadline = time.monotonic() + BLOCK_TIMEOUT_S
        while not blocked_in_write(proc.pid):
            check(time.monotonic() < deadline,
                  "tcpwave blocked writing to the full pipe within %d s" % BLOCK_TIMEOUT_S)
            check(proc.poll() is None, "tcpwave still running (exit %r)" % proc.returncode)
            client.do("connect", "ipv4", port)
            server.do("accept")
            client.do("close")
            server.do("close")
        proc.send_signal(signal.SIGINT)
        # The first SIGINT asks for a clean end, which needs the write to finish.
        time.sleep(0.3)
        check(proc.poll() is None and blocked_in_write(proc.pid),
              "after one SIGINT tcpwave still waits in write() (exit %r)" % proc.returncode)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(SECOND_SIGNAL_EXIT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError("tcpwave still running %d s after the second SIGINT"
                                 % SECOND_SIGNAL_EXIT_S)
        check_eq(code, 130, "exit status after a second SIGINT")
        check(time.monotonic() - started < SECOND_SIGNAL_EXIT_S, "ended promptly")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(read_end)
        server.close()
        client.close()
