#!/usr/bin/env python3
"""What tcpwave's BPF programs cost per connection, without and with filters.

Runs bench/churn under tcpwave with each set of options below and reads the
kernel's own accounting of the programs' run time (kernel.bpf_stats_enabled,
turned on for the run and restored after): run_time_ns of the programs that
this tcpwave holds, divided by the connections churn made. Also tcpwave's own
CPU time per connection. Each set runs ROUNDS times, interleaved; the lowest
is the least disturbed by whatever else runs on the host.

Usage (root, from the top of the tree, after `make`):
    cc -O2 -pthread -o build/churn bench/churn.c
    bench/filter_cost.py [SECONDS [ROUNDS]]
"""
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TCPWAVE = os.path.join(ROOT, "tcpwave")
CHURN = os.path.join(ROOT, "build", "churn")
SECONDS = sys.argv[1] if len(sys.argv) > 1 else "3"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
CHURN_PORTS = 16  # churn.c's PORTS
STATS = "/proc/sys/kernel/bpf_stats_enabled"

# PORTS becomes churn's listening ports, so that the filter passes them.
CONFIGS = [
    ("no filter", []),
    ("drop all: --rport 1", ["--rport", "1"]),
    ("drop all: -P 1", ["-P", "1"]),
    ("drop all: --netns 1", ["--netns", "1"]),
    ("drop all: -p 1", ["-p", "1"]),
    ("pass all: --laddr 127.0.0.0/8", ["--laddr", "127.0.0.0/8"]),
    ("pass all: -P PORTS -4 --raddr 127.0.0.1", ["-P", "PORTS", "-4", "--raddr", "127.0.0.1"]),
    ("pass all: -c churn", ["-c", "churn"]),
    ("--events, no filter", ["--events"]),
    ("--events, drop all: -P 1", ["--events", "-P", "1"]),
]


def prog_ids(pid):
    """The BPF programs process pid holds (its descriptors' fdinfo)."""
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                m = re.search(r"prog_id:\s*(\d+)", f.read())
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def run_time_ns(pid):
    progs = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"], check=True,
                                      capture_output=True, text=True).stdout)
    mine = prog_ids(pid)
    return sum(p.get("run_time_ns", 0) for p in progs if p["id"] in mine)


def cpu_ns(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e9 / os.sysconf("SC_CLK_TCK")


def measure(args, port):
    ports = ",".join(str(p) for p in range(port, port + CHURN_PORTS))
    tracer = subprocess.Popen([TCPWAVE] + [a.replace("PORTS", ports) for a in args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    said = ""
    while "Ctrl-C to stop" not in said:
        line = tracer.stderr.readline()
        if not line:
            sys.exit("tcpwave %s did not start: %s" % (" ".join(args), said))
        said += line
    bpf0, cpu0 = run_time_ns(tracer.pid), cpu_ns(tracer.pid)
    out = subprocess.run([CHURN, "-t", "2", "-d", SECONDS, "-p", str(port)], check=True,
                         capture_output=True, text=True).stdout
    time.sleep(0.1)  # the last records drain
    bpf1, cpu1 = run_time_ns(tracer.pid), cpu_ns(tracer.pid)
    tracer.send_signal(2)
    tracer.communicate()
    conns = int(re.search(r"connections=(\d+)", out).group(1))
    return (bpf1 - bpf0) / conns, (cpu1 - cpu0) / conns


def main():
    with open(STATS) as f:
        was = f.read().strip()
    with open(STATS, "w") as f:
        f.write("1")
    try:
        results = {name: [] for name, _ in CONFIGS}
        port = 30000
        for _ in range(ROUNDS):
            for name, args in CONFIGS:
                port += 2 * CHURN_PORTS  # TIME_WAIT keeps the last round's ports busy
                results[name].append(measure(args, port))
    finally:
        with open(STATS, "w") as f:
            f.write(was)
    base = min(b for b, _ in results["no filter"])
    print("%-42s %14s %8s %16s" % ("options", "BPF ns/conn", "vs none", "tcpwave ns/conn"))
    for name, _ in CONFIGS:
        bpf = min(b for b, _ in results[name])
        user = min(u for _, u in results[name])
        print("%-42s %14.0f %7.0f%% %16.0f" % (name, bpf, 100 * (bpf - base) / base, user))


if __name__ == "__main__":
    main()
