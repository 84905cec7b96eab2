#!/usr/bin/env python3
"""make bench: what tracing costs a connection-churn workload.

Runs bench/churn untraced and under each tracer, alternating the
configurations round by round so that drift in the machine's speed falls on
all of them alike, and prints one table with each configuration's median
throughput as a share of the untraced median.

Three floors run in the same rounds (bench/floor.bpf.c): a bare ring buffer
record per transition; each socket's timeline in socket storage, one record
per connection; and the same in an array of slots named by the socket's
cookie, the least that tcpwave's design does for a socket in a slot (one
whose slot is taken uses socket storage). tcpwave's share reads against them.
A fourth floor is the slots' with a line as long as a JSON record written
into a file for each record: what the output's bytes cost without the work
of making them.

Throughput moves with the machine's speed from round to round; the CPU
time all processes and interrupts take per connection (from /proc/stat,
stolen time left out) moves less, and its ratio to the untraced run's is
the same share when the workload keeps the CPUs busy. Both are printed,
and so is the middle half (first to third quartile) of the shares each
round gave against the same round's untraced run: how far one median can
be trusted.

For each tracer it also reports its own CPU time per million transitions,
its peak RSS and the records it lost. A last pass with kernel.bpf_stats
enabled (which itself costs two clock reads per program run, so it is kept
out of the throughput rounds) measures tcpwave's transitions per connection
and the time its BPF programs, and the floors', spend per transition.

Usage: bench/run.py [--rounds N] [--seconds S] [--threads T]
"""
import argparse
import json
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TCPWAVE = os.path.join(ROOT, "tcpwave")
CHURN = os.path.join(ROOT, "build", "churn")
FLOOR = os.path.join(ROOT, "build", "floor")
FIRST_PORT = 23000
READY_TIMEOUT_S = 30


class Tracer:
    """A tracer process started before a churn run and stopped after it."""

    def __init__(self, name, argv, stdout_path, ready):
        self.name = name
        self.argv = argv
        self.stdout_path = stdout_path
        self.ready = ready  # a regex for its stderr, or "links"
        self.proc = None
        self.stderr = ""

    def start(self):
        links = link_ids()
        with open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.PIPE)
        if self.ready == "links":
            self._wait_links(links)
        else:
            self._wait_line(re.compile(self.ready))

    def _wait_line(self, pattern):
        """tcpwave says on stderr when it is attached."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        seen = b""
        while time.monotonic() < deadline and self.proc.poll() is None:
            r, _, _ = select.select([self.proc.stderr], [], [], 0.2)
            if r:
                seen += os.read(self.proc.stderr.fileno(), 4096)
                if pattern.search(seen.decode(errors="replace")):
                    return
        raise RuntimeError("%s did not start: %s" % (self.name, seen.decode(errors="replace")))

    def _wait_links(self, before):
        """Other tools print their header before attaching, into a buffer:
        they are ready once their BPF links exist and no more appear."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        last, stable_since = set(), time.monotonic()
        while time.monotonic() < deadline and self.proc.poll() is None:
            now = link_ids() - before
            if now != last:
                last, stable_since = now, time.monotonic()
            elif now and time.monotonic() - stable_since > 0.5:
                return
            time.sleep(0.1)
        raise RuntimeError("%s did not attach" % self.name)

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(2)
        _, err = self.proc.communicate(timeout=60)
        self.stderr += err.decode(errors="replace")


def link_ids():
    return {link["id"] for link in json.loads(subprocess.check_output(
        ["bpftool", "link", "show", "-j"]))}


def busy_seconds():
    """CPU time of all CPUs not idle, waiting or stolen: user, nice, system, irq, softirq."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, f.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def churn(args, port):
    out = subprocess.run([CHURN, "-t", str(args.threads), "-d", str(args.seconds),
                          "-p", str(port)], check=True, capture_output=True, text=True)
    m = re.search(r"connections=(\d+) seconds=([\d.]+)", out.stdout)
    return int(m.group(1)), float(m.group(2))


def tcpwave_tracer(options, stdout_path="/dev/null"):
    return Tracer("tcpwave", [TCPWAVE] + options, stdout_path, "tracing TCP")


# The mean length of tcpwave's JSON connection record under bench/churn
# (loopback IPv4, two records per connection).
JSON_RECORD_BYTES = 930


def floor_tracer(kind, options=(), stdout_path="/dev/null"):
    """What the design itself costs (bench/floor.bpf.c): the bar tcpwave is held to."""
    return Tracer("floor", [FLOOR, kind] + list(options), stdout_path, "attached")


def tracers(tmp):
    found = [
        ("floor: ring buffer", lambda: floor_tracer("ring")),
        ("floor: socket storage", lambda: floor_tracer("storage")),
        ("floor: slots", lambda: floor_tracer("slots")),
        ("floor: slots, lines > file",
         lambda: floor_tracer("slots", ["--line", str(JSON_RECORD_BYTES)],
                              os.path.join(tmp, "floor.out"))),
        ("tcpwave --json > file",
         lambda: tcpwave_tracer(["--json"], os.path.join(tmp, "out.json"))),
        ("tcpwave > /dev/null", lambda: tcpwave_tracer([])),
        # Every record taken in and classified, none printed: the cost
        # without the output's (no connection's close lasts a day).
        ("tcpwave, nothing printed",
         lambda: tcpwave_tracer(["--json", "--slow-close", "86400000"])),
    ]
    for tool in ("tcplife", "tcpstates"):
        path = shutil.which(tool) or "/usr/sbin/" + tool
        if os.access(path, os.X_OK):
            found.append((tool + " (libbpf-tools)",
                          lambda path=path, tool=tool: Tracer(tool, [path], "/dev/null",
                                                              "links")))
    return found


def lost_records(stderr):
    m = re.search(r"(\d+) records, (\d+) lost", stderr)
    return int(m.group(2)) if m else None


def measure(args, tmp):
    configs = [("untraced", None)] + tracers(tmp)
    rates = {name: [] for name, _ in configs}
    busy_us = {name: [] for name, _ in configs}  # CPU per connection, all processes
    cpu = {name: [] for name, _ in configs}
    rss = {name: 0 for name, _ in configs}
    lost = {name: 0 for name, _ in configs}
    port = FIRST_PORT
    for r in range(args.rounds):
        # Rotate the order so no configuration always follows another.
        order = configs[r % len(configs):] + configs[:r % len(configs)]
        for name, make in order:
            tracer = make() if make else None
            if tracer:
                tracer.start()
                cpu0 = tracer.cpu_seconds()
            busy0 = busy_seconds()
            conns, secs = churn(args, port)
            busy_us[name].append((busy_seconds() - busy0) * 1e6 / conns)
            port = FIRST_PORT + (port - FIRST_PORT + 16) % 512
            rates[name].append(conns / secs)
            if tracer:
                cpu[name].append((tracer.cpu_seconds() - cpu0, conns))
                rss[name] = max(rss[name], tracer.peak_rss_kb())
                tracer.stop()
                n = lost_records(tracer.stderr)
                if n is not None:
                    lost[name] += n
            print("  round %d  %-24s %8.0f conn/s" % (r + 1, name, conns / secs),
                  file=sys.stderr, flush=True)
    return configs, rates, busy_us, cpu, rss, lost


def bpf_profile(args, tracer, port):
    """A tracer's BPF cost, with kernel.bpf_stats on for one churn run."""
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        was = f.read().strip()
    before = {p["id"] for p in json.loads(subprocess.check_output(
        ["bpftool", "prog", "show", "-j"]))}
    subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"], check=True)
    try:
        tracer.start()
        conns, _ = churn(args, port)
        progs = [p for p in json.loads(subprocess.check_output(
            ["bpftool", "prog", "show", "-j"])) if p["id"] not in before]
        tracer.stop()
    finally:
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=" + was], check=True)
    rows = []
    for p in progs:
        if p.get("run_cnt"):
            rows.append((p["name"], p["run_cnt"] / conns, p["run_time_ns"] / p["run_cnt"]))
    return rows


def round_spread(rates, untraced):
    """The middle half of a configuration's shares, each against its own round's untraced run."""
    shares = sorted(100.0 * r / u for r, u in zip(rates, untraced))
    if len(shares) < 4:
        return "-"
    q1, _, q3 = statistics.quantiles(shares, n=4)
    return "%.0f-%.0f%%" % (q1, q3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/run.py: tracing needs root")
    for path in (TCPWAVE, CHURN, FLOOR):
        if not os.access(path, os.X_OK):
            sys.exit("bench/run.py: %s is not built: run make bench" % path)

    with tempfile.TemporaryDirectory() as tmp:
        configs, rates, busy_us, cpu, rss, lost = measure(args, tmp)
    base = statistics.median(rates["untraced"])
    base_us = statistics.median(busy_us["untraced"])
    profile = bpf_profile(args, tcpwave_tracer(["--json"]), FIRST_PORT + 600)
    profile += bpf_profile(args, floor_tracer("storage"), FIRST_PORT + 700)
    profile += bpf_profile(args, floor_tracer("slots"), FIRST_PORT + 800)
    state = [row for row in profile if row[0].startswith("on_state")]
    per_conn = state[0][1] if state else 0

    print("\nconnection churn on loopback: %d client threads, %d rounds of %g s, "
          "%d CPUs, kernel %s" % (args.threads, args.rounds, args.seconds, os.cpu_count(),
                                  os.uname().release))
    print("%-26s %10s %8s %11s %11s %9s %14s %10s %6s" % (
        "configuration", "conn/s", "share", "rounds q1-q3", "CPU us/conn", "by CPU",
        "CPU s/M trans", "peak RSS", "lost"))
    for name, _ in configs:
        med = statistics.median(rates[name])
        us = statistics.median(busy_us[name])
        if name == "untraced":
            print("%-26s %10.0f %7.1f%% %11s %11.1f %8.1f%% %14s %10s %6s" % (
                name, med, 100.0, "-", us, 100.0, "-", "-", "-"))
            continue
        secs = sum(c for c, _ in cpu[name])
        trans = sum(n for _, n in cpu[name]) * per_conn
        cost = "%.2f" % (secs / trans * 1e6) if trans else "-"
        print("%-26s %10.0f %7.1f%% %11s %11.1f %8.1f%% %14s %8.1f MB %6d" % (
            name, med, 100.0 * med / base, round_spread(rates[name], rates["untraced"]), us,
            100.0 * base_us / us, cost, rss[name] / 1024.0, lost[name]))
    print("\nBPF programs of tcpwave and two floors (one run each with "
          "kernel.bpf_stats_enabled=1):")
    print("%-26s %16s %10s" % ("program", "runs/connection", "ns/run"))
    for name, runs, ns in profile:
        print("%-26s %16.2f %10.0f" % (name, runs, ns))


if __name__ == "__main__":
    main()
