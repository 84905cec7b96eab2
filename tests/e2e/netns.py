"""A network namespace of the test's own: a fresh `lo`, nothing shared.

    with Netns() as ns:
        server = Peer(netns=ns.name)          # the peer's sockets live in ns
        ns.run(["nft", "list", "ruleset"])    # any command, run inside ns

Why the close-path tests need one:
  - The kernel keeps per-destination TCP metrics (tcp_update_metrics() when a
    connection ends, `ip tcp_metrics show`) and seeds the next connection's
    RTO from them (tcp_init_metrics()). A connection that spent a second in
    LAST_ACK leaves an RTT of hundreds of milliseconds for 127.0.0.1, and the
    next connections to 127.0.0.1 start with an RTO of 672 or 852 ms (seen)
    instead of 200 ms. A new namespace starts with an empty cache, so every
    scenario sees the same timers whatever ran before it, and leaves nothing
    behind for other tests.
  - Rules and qdiscs a test installs (netfilter.Drop, netfilter.Hold) see only
    the test's own traffic, never another program's loopback connections.
  - TCP's sysctls (net.ipv4.tcp_*) start at the kernel's defaults.

tcpwave itself runs in the initial namespace: the tracepoint sees every
namespace, and records carry the namespace's inode (`netns`), which is
`Netns.inode` here.

A namespace is named `tcpwave_test_<pid>_<n>` and deleted on exit; one left
behind by a killed run is deleted the next time a Netns starts.
"""
import ctypes
import itertools
import json
import os
import socket
import subprocess
import threading

NAME_PREFIX = "tcpwave_test_"
NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000
_serial = itertools.count(1)


def run(argv, netns=None, input=None):
    """Run a command (inside netns if given); returns stdout, raises with its stderr."""
    if netns:
        argv = ["ip", "netns", "exec", netns] + list(argv)
    done = subprocess.run(argv, input=input, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(argv), done.returncode,
                                                    done.stderr.strip(),
                                                    "\n" + input if input else ""))
    return done.stdout


def remove_stale():
    """Delete the namespaces of test processes that no longer exist."""
    if not os.path.isdir(NETNS_DIR):
        return
    for name in os.listdir(NETNS_DIR):
        if not name.startswith(NAME_PREFIX):
            continue
        pid = name[len(NAME_PREFIX):].split("_")[0]
        if pid.isdigit() and not os.path.exists("/proc/%s" % pid):
            subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def host_addresses():
    """The addresses of this (the test's) network namespace."""
    return {a["local"] for link in json.loads(subprocess.run(
        ["ip", "-j", "addr", "show"], capture_output=True, text=True, check=True).stdout)
        for a in link.get("addr_info", [])}


def foreign_subnet():
    """A documentation prefix (RFC 5737) none of whose test addresses this host has."""
    taken = host_addresses()
    for prefix in ("198.51.100.", "203.0.113.", "192.0.2."):
        if not {prefix + "1", prefix + "2"} & taken:
            return prefix
    raise AssertionError("this host has addresses in every documentation prefix: %r" % taken)


class Netns:
    def __init__(self):
        self.name = "%s%d_%d" % (NAME_PREFIX, os.getpid(), next(_serial))
        self.inode = None

    def __enter__(self):
        remove_stale()
        run(["ip", "netns", "add", self.name])
        try:
            # lo comes up with 127.0.0.1/8 and ::1.
            run(["ip", "-n", self.name, "link", "set", "lo", "up"])
            self.inode = os.stat(os.path.join(NETNS_DIR, self.name)).st_ino
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        # Sockets still open in it are reset by the namespace's teardown.
        run(["ip", "netns", "delete", self.name])

    def run(self, argv, input=None):
        return run(argv, self.name, input)

    def socket(self, *args):
        """A socket created inside the namespace (it stays there for its life).

        setns() moves only the calling thread, so a short-lived thread makes
        the socket and the test process itself never leaves its namespace."""
        made = {}

        def make():
            try:
                fd = os.open(os.path.join(NETNS_DIR, self.name), os.O_RDONLY)
                try:
                    if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns %s" % self.name)
                finally:
                    os.close(fd)
                made["sock"] = socket.socket(*args)
            except Exception as e:
                made["error"] = e

        thread = threading.Thread(target=make)
        thread.start()
        thread.join()
        if "error" in made:
            raise made["error"]
        return made["sock"]

    def __repr__(self):
        return "Netns(%s)" % self.name
