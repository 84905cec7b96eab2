"""-o FILE: records appended to a file, which SIGHUP reopens (logrotate's way).

Each test makes its connections in a namespace of its own and looks only at
the records of that namespace; the file also gets every other connection on
the host."""
import os
import pwd
import select
import shutil
import signal
import stat
import tempfile
import time

from harness import Peer, Tracer, client_closes_first, check, check_eq, parse_record, test
from netns import Netns

WAIT_S = 10


def wait_until(cond, what):
    deadline = time.monotonic() + WAIT_S
    while not cond():
        check(time.monotonic() < deadline, "%s within %d s" % (what, WAIT_S))
        time.sleep(0.01)


def records_in(path, netns):
    """Every line of the file as a record (a partial line fails), those of netns kept."""
    with open(path) as f:
        text = f.read()
    check(text == "" or text.endswith("\n"), "%s ends with a whole line: %r" % (path, text[-200:]))
    return [r for r in map(parse_record, text.splitlines()) if r.get("netns") == netns]


def ends(records):
    return sorted((r["lport"], r["rport"]) for r in records if r.get("type") == "conn")


def connection(ns, server, client):
    """One connection, closed by both ends; returns its two ends as (lport, rport)."""
    port, cport = client_closes_first(server, client)
    return sorted([(cport, port), (port, cport)])


def wait_for_ends(path, netns, want):
    """Wait until the file holds the records of both ends in `want`."""
    wait_until(lambda: os.path.exists(path) and set(want) <= set(ends(records_in(path, netns))),
               "records %r in %s" % (want, path))


def wait_for_stderr(tracer, text):
    """Read tcpwave's stderr as it comes until text appears; returns all read."""
    fd = tracer.proc.stderr.fileno()
    seen = ""
    deadline = time.monotonic() + WAIT_S
    while text not in seen:
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        check(ready, "tcpwave saying %r within %d s: %r" % (text, WAIT_S, seen))
        chunk = os.read(fd, 65536)
        check(chunk, "tcpwave's stderr ended before %r: %r" % (text, seen))
        seen += chunk.decode(errors="replace")
    return seen


class Setup:
    """A directory for the file, a namespace, two peers, and tcpwave -o path."""

    def __init__(self, subdir=""):
        self.dir = tempfile.mkdtemp(prefix="tcpwave-output-")
        self.path = os.path.join(self.dir, subdir, "tcpwave.json")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # tcpwave reopens the file as the user it drops to after setup (nobody).
        nobody = pwd.getpwnam("nobody")
        for d in {self.dir, os.path.dirname(self.path)}:
            os.chown(d, nobody.pw_uid, nobody.pw_gid)

    def __enter__(self):
        self.ns = Netns().__enter__()
        self.server, self.client = Peer(self.ns.name), Peer(self.ns.name)
        self.tracer = Tracer("--json", "-o", self.path).start()
        return self

    def __exit__(self, *exc):
        self.tracer.__exit__()
        self.server.close()
        self.client.close()
        self.ns.__exit__()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self):
        self.tracer.stop()
        check_eq(self.tracer.returncode, 0, "tcpwave's exit status (stderr: %s)"
                 % self.tracer.stderr[-500:])
        check_eq(self.tracer.stdout, "", "standard output with -o")


@test
def test_output_file_sighup_reopens_after_rename():
    with Setup() as s:
        first = connection(s.ns, s.server, s.client)
        wait_for_ends(s.path, s.ns.inode, first)
        rotated = s.path + ".1"
        os.rename(s.path, rotated)
        s.tracer.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: os.path.exists(s.path), "tcpwave creating %s again" % s.path)
        second = connection(s.ns, s.server, s.client)
        wait_for_ends(s.path, s.ns.inode, second)
        s.stop()
        check_eq(ends(records_in(rotated, s.ns.inode)), first, "records in the rotated file")
        check_eq(ends(records_in(s.path, s.ns.inode)), second, "records in the new file")
        umask = os.umask(0)
        os.umask(umask)
        check_eq(oct(stat.S_IMODE(os.stat(s.path).st_mode)), oct(0o640 & ~umask),
                 "the new file's mode (rw-r----- less the umask)")


@test
def test_output_file_failed_reopen_keeps_the_old_file():
    with Setup(subdir="gone") as s:
        first = connection(s.ns, s.server, s.client)
        wait_for_ends(s.path, s.ns.inode, first)
        kept = os.path.join(s.dir, "kept.json")
        os.rename(s.path, kept)
        os.rmdir(os.path.dirname(s.path))
        s.tracer.proc.send_signal(signal.SIGHUP)
        said = wait_for_stderr(s.tracer, "still writing to the file it had open\n")
        check("tcpwave: cannot reopen %s: No such file or directory;" % s.path in said,
              "the message names the file and why: %r" % said)
        second = connection(s.ns, s.server, s.client)
        wait_for_ends(kept, s.ns.inode, second)
        s.stop()
        check_eq(ends(records_in(kept, s.ns.inode)), sorted(first + second),
                 "records in the file tcpwave kept")
