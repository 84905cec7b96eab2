#!/usr/bin/env python3
"""What 100,000 concurrent connections cost tcpwave: its peak RSS, the kernel
memory its socket storage takes, and whether every connection is reported.

In a network namespace of its own (so the host's port ranges and listeners
are untouched), one process opens N connections to itself over loopback,
holds them, then closes them all. tcpwave runs with --json into a file.
Prints tracer RSS with the connections open and after, kernel memory per
connection (Slab growth with tcpwave versus without, per socket), and the
connection records, lost records, missed transitions and unreported
connections tcpwave reported.

Usage: bench/scale.py [--connections N]
"""
import argparse
import json
import os
import re
import resource
import select
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TCPWAVE = os.path.join(ROOT, "tcpwave")
FIRST_PORT = 7001  # one listener per holder process, from here up


def slab_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1])
    return 0


def hold_connections(n, port):
    """Run in the namespace: open n connections to a listener on port, say
    so, wait for a line on stdin, close them all. Both ends are ours, so
    this takes 2n descriptors: the runner keeps n under the fd limit."""
    ls = socket.socket()
    # The untraced run's sockets may still hold the port in the namespace.
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(4096)
    ls.setblocking(False)
    held = []
    for i in range(n):
        c = socket.socket()
        c.connect(("127.0.0.1", port))
        held.append(c)
        if i % 1000 == 999 or i == n - 1:
            while True:  # drain the accept queue as we go
                try:
                    held.append(ls.accept()[0])
                except BlockingIOError:
                    break
    print("open %d" % len(held), flush=True)
    sys.stdin.readline()
    for s in held:
        s.close()
    ls.close()
    print("closed", flush=True)


def start_holders(ns, n):
    """Enough processes, each with its own port, to hold n connections."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    per = max(1, (soft - 64) // 2)
    holders, port = [], FIRST_PORT
    while n > 0:
        k = min(n, per)
        holders.append(subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, __file__, "--hold", str(k),
             "--port", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        n -= k
        port += 1
    return holders


def expect(proc, word, timeout=600):
    r, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if r else ""
    if not line.startswith(word):
        raise RuntimeError("connection holder said %r, expected %s" % (line, word))
    return line


def vm_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def count_records(path, netns):
    """Connection records of the namespace's connections (others may run)."""
    n = 0
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec["type"] == "conn" and rec["netns"] == netns:
                n += 1
    return n


def netns_inode(ns):
    return os.stat("/run/netns/" + ns).st_ino


def one_run(ns, n, traced, out_path):
    """Open and close n connections; returns figures measured on the way."""
    tracer = None
    if traced:
        tracer = subprocess.Popen([TCPWAVE, "--json"], stdout=open(out_path, "wb"),
                                  stderr=subprocess.PIPE)
        line = tracer.stderr.readline().decode()
        if "tracing" not in line:
            raise RuntimeError("tcpwave did not start: " + line)
    slab0 = slab_kb()
    holders = start_holders(ns, n)
    sockets = sum(int(expect(h, "open").split()[1]) for h in holders)
    figures = {"sockets": sockets, "slab_kb": slab_kb() - slab0}
    if tracer:
        figures["rss_open_kb"] = vm_kb(tracer.pid, "VmRSS")
    for h in holders:
        h.stdin.write("go\n")
        h.stdin.flush()
    for h in holders:
        expect(h, "closed")
        h.wait()
    if tracer:
        time.sleep(1)  # the last records: the poll loop runs every 50 ms
        figures["rss_peak_kb"] = vm_kb(tracer.pid, "VmHWM")
        t0 = time.monotonic()
        tracer.send_signal(2)
        err = tracer.communicate(timeout=300)[1].decode()
        figures["exit_s"] = time.monotonic() - t0
        m = re.search(r"(\d+) records, (\d+) lost, (\d+) transitions missed, "
                      r"(\d+) connections unreported", err)
        figures["lost"], figures["missed"], figures["unreported"] = \
            (int(m.group(2)), int(m.group(3)), int(m.group(4))) if m else (-1, -1, -1)
        figures["records"] = count_records(out_path, netns_inode(ns))
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=100000)
    ap.add_argument("--hold", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hold:
        return hold_connections(args.hold, args.port)
    if os.geteuid() != 0:
        sys.exit("bench/scale.py: needs root (network namespace, tracing)")
    ns = "tcpwave-scale-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000"]):
            subprocess.run(["ip", "netns", "exec", ns] + cmd, check=True)
        with tempfile.TemporaryDirectory() as tmp:
            bare = one_run(ns, args.connections, False, None)
            traced = one_run(ns, args.connections, True, os.path.join(tmp, "out.json"))
    finally:
        subprocess.run(["ip", "netns", "del", ns])

    n = args.connections
    print("%d connections (%d sockets) held open at once in a network namespace, "
          "then closed" % (n, traced["sockets"]))
    print("  tcpwave RSS with them open:     %6.1f MB" % (traced["rss_open_kb"] / 1024))
    print("  tcpwave peak RSS:               %6.1f MB" % (traced["rss_peak_kb"] / 1024))
    extra = traced["slab_kb"] - bare["slab_kb"]
    print("  kernel slab, untraced / traced: %6.1f / %.1f MB (%+.0f bytes per socket)"
          % (bare["slab_kb"] / 1024, traced["slab_kb"] / 1024,
             extra * 1024 / traced["sockets"]))
    print("  connection records:             %d of %d expected; %d records lost, "
          "%d transitions missed, %d connections unreported"
          % (traced["records"], 2 * n, traced["lost"], traced["missed"], traced["unreported"]))
    print("  tcpwave's exit after SIGINT:    %.1f s" % traced["exit_s"])


if __name__ == "__main__":
    main()
