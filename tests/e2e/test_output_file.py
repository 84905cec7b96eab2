"""-o FILE: records appended to a file, which SIGHUP reopens (logrotate's way).

Each test makes its connections in a namespace of its own and looks only at
the records of that namespace; the file also gets every other connection on
the host."""
import grp
import os
import pwd
import re
import select
import shutil
import signal
import stat
import tempfile
import time

from harness import (ROOT, Peer, Tracer, client_closes_first, check, check_eq, parse_record,
                     test)
from netns import Netns

UNIT = os.path.join(ROOT, "docs", "tcpwave.service")

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
    """A directory for the file, a namespace, two peers, and tcpwave -o path:
    as root, which drops to nobody after setup, or under `wrapper` (a command
    that runs tcpwave with other credentials), as the directory's `owner`."""

    def __init__(self, subdir="", wrapper=(), owner=None, dir_mode=0o755):
        self.dir = tempfile.mkdtemp(prefix="tcpwave-output-")
        self.path = os.path.join(self.dir, subdir, "tcpwave.json")
        self.wrapper = list(wrapper)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # tcpwave reopens the file as the user it runs as after setup.
        nobody = pwd.getpwnam("nobody")
        uid, gid = owner or (nobody.pw_uid, nobody.pw_gid)
        for d in {self.dir, os.path.dirname(self.path)}:
            os.chown(d, uid, gid)
            os.chmod(d, dir_mode)

    def __enter__(self):
        self.ns = Netns().__enter__()
        self.server, self.client = Peer(self.ns.name), Peer(self.ns.name)
        self.tracer = Tracer("--json", "-o", self.path)
        self.tracer.args = self.wrapper + self.tracer.args
        self.tracer.start()
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


def rotate(s):
    """A connection, logrotate's move and SIGHUP, another connection, then
    stop: the two connections' ends, and the moved file's path."""
    first = connection(s.ns, s.server, s.client)
    wait_for_ends(s.path, s.ns.inode, first)
    rotated = s.path + ".1"
    os.rename(s.path, rotated)
    s.tracer.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: os.path.exists(s.path), "tcpwave creating %s again" % s.path)
    second = connection(s.ns, s.server, s.client)
    wait_for_ends(s.path, s.ns.inode, second)
    s.stop()
    return first, second, rotated


@test
def test_output_file_sighup_reopens_after_rename():
    with Setup() as s:
        first, second, rotated = rotate(s)
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


def unit_settings():
    """docs/tcpwave.service's [Service] settings, as {key: value}."""
    with open(UNIT) as f:
        return dict(re.findall(r"^(\w+)=(.*)$", f.read(), re.M))


def caps_of(setting):
    """"CAP_BPF CAP_PERFMON" as setpriv adds them: "+bpf,+perfmon"."""
    return ",".join("+" + c.lower().replace("cap_", "") for c in setting.split())


@test
def test_output_file_rotates_under_the_shipped_units_credentials():
    """What systemd gives docs/tcpwave.service (user nobody standing in for
    its own user tcpwave): tcpwave starts, traces, and after a rotation makes
    the file again itself, the unit's group and the umask's mode on it."""
    unit = unit_settings()
    check_eq((unit["User"], unit["NoNewPrivileges"], unit["ExecStart"].split()[1:3]),
             ("tcpwave", "yes", ["--json", "-o"]), "the unit's user, no_new_privs, options")
    check_eq(unit["AmbientCapabilities"], unit["CapabilityBoundingSet"],
             "ambient capabilities, all of the bounding set")
    plus = caps_of(unit["AmbientCapabilities"])
    uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam(unit["Group"]).gr_gid
    umask = int(unit["UMask"], 8)
    wrapper = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
               "--bounding-set=-all," + plus, "--inh-caps=" + plus, "--ambient-caps=" + plus,
               "--no-new-privs", "sh", "-c", 'umask %s && exec "$@"' % unit["UMask"], "sh"]
    with Setup(wrapper=wrapper, owner=(uid, gid),
               dir_mode=int(unit["LogsDirectoryMode"], 8)) as s:
        check("warning" not in s.tracer.stderr, "start-up: %r" % s.tracer.stderr)
        _, second, _ = rotate(s)
        made = os.stat(s.path)
        # rw-r-----: tcpwave's own mode, which the unit's umask leaves as it is.
        check_eq((made.st_uid, made.st_gid, oct(stat.S_IMODE(made.st_mode))),
                 (uid, gid, oct(0o640 & ~umask)), "the new file's owner, group and mode")
        check_eq(ends(records_in(s.path, s.ns.inode)), second, "records in the new file")
