"""A cgroup v2 directory of the test's own, for --cgroup and the "cgroup" field.

    with Cgroup() as cg:                 # <cgroup2 mount>/tcpwave_test_<pid>_<n>
        inner = cg.child("inner")        # a subdirectory, removed with cg
        inner.adopt(peer.pid)            # move a process in (release() moves it out)
        cg.path                          # "/tcpwave_test_<pid>_<n>", as records show it

On exit every process still inside goes back to the root cgroup and the
directories are removed; ones left behind by a killed run are removed the
next time a Cgroup starts. The hierarchy is found in /proc/self/mountinfo:
it is /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid
one.
"""
import itertools
import os

NAME_PREFIX = "tcpwave_test_"
_serial = itertools.count(1)


def mount_point():
    """Where cgroup2 is mounted (its root), or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2" and fields[3] == "/":
                return fields[4].replace("\\040", " ")
    return None


def _empty_and_remove(directory, root):
    """Move every process under directory to the root cgroup, then remove the tree."""
    for sub, _, _ in os.walk(directory, topdown=False):  # the deepest first
        try:
            with open(os.path.join(sub, "cgroup.procs")) as f:
                pids = f.read().split()
        except FileNotFoundError:
            continue
        for pid in pids:
            try:
                with open(os.path.join(root, "cgroup.procs"), "w") as f:
                    f.write(pid)
            except ProcessLookupError:
                pass
        try:
            os.rmdir(sub)
        except FileNotFoundError:
            pass


def remove_stale(root):
    for name in os.listdir(root):
        if not name.startswith(NAME_PREFIX):
            continue
        pid = name[len(NAME_PREFIX):].split("_")[0]
        if pid.isdigit() and not os.path.exists("/proc/%s" % pid):
            _empty_and_remove(os.path.join(root, name), root)


class Cgroup:
    def __init__(self, root=None, path=None):
        self.root = root or mount_point()
        self.path = path if path is not None else "/%s%d_%d" % (NAME_PREFIX, os.getpid(),
                                                                  next(_serial))

    @property
    def dir(self):
        return self.root + self.path

    @property
    def id(self):
        """The cgroup id records carry: the directory's inode (its kernfs node id)."""
        return os.stat(self.dir).st_ino

    def __enter__(self):
        if self.root is None:
            raise RuntimeError("no cgroup2 mount in /proc/self/mountinfo")
        remove_stale(self.root)
        os.mkdir(self.dir)
        return self

    def child(self, name):
        sub = Cgroup(self.root, self.path + "/" + name)
        os.mkdir(sub.dir)
        return sub

    def adopt(self, pid):
        with open(os.path.join(self.dir, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def release(self, pid):
        """Move pid back to the root cgroup."""
        with open(os.path.join(self.root, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def remove(self):
        _empty_and_remove(self.dir, self.root)

    def __exit__(self, *exc):
        self.remove()

    def __repr__(self):
        return "Cgroup(%s)" % self.dir
