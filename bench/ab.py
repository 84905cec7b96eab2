#!/usr/bin/env python3
"""Paired rounds: tracer commands, each run beside an untraced run of its own.

bench/run.py compares configurations by their medians over the rounds; a
difference of a few points between two builds or two sets of options drowns
there in the host's drift. Here each traced run has its own untraced run just
before or after it (the order alternating from round to round), and what is
reported is the median of those pairs' ratios, with their middle half. Also
the machine's CPU time per connection against its pair's, and the tracer's
own CPU time per connection, which moves least of all: a change too small
for the throughput to show can still show there.

Each configuration is NAME=COMMAND, the command split on spaces. Its
standard output goes into a file, as the performance target has it (JSON
into a file). A command that runs tcpwave is ready when tcpwave says it is
tracing; any other tool once its BPF links stop appearing.

Usage: bench/ab.py [--rounds N] [--seconds S] [--threads T] NAME=COMMAND...
  e.g. bench/ab.py 'before=/tmp/tcpwave.old --json' 'after=./tcpwave --json'
"""
import argparse
import os
import statistics
import sys
import tempfile

from run import CHURN, FIRST_PORT, Tracer, busy_seconds, churn, lost_records


def parse_config(text, index, tmp):
    name, sep, command = text.partition("=")
    argv = command.split()
    if not sep or not name or not argv:
        sys.exit("bench/ab.py: a configuration is NAME=COMMAND, not %r" % text)
    ready = ("tracing TCP" if any(os.path.basename(a).startswith("tcpwave") for a in argv)
             else "links")
    out = os.path.join(tmp, "config%d.out" % index)
    return name, lambda: Tracer(name, argv, out, ready)


def measured(args, port, tracer):
    """One churn run, traced or not (tracer None): conn/s, the machine's and
    the tracer's CPU microseconds per connection, records lost."""
    if tracer:
        tracer.start()
        cpu0 = tracer.cpu_seconds()
    busy0 = busy_seconds()
    conns, secs = churn(args, port)
    busy_us = (busy_seconds() - busy0) * 1e6 / conns
    if not tracer:
        return conns / secs, busy_us, None, 0
    own_us = (tracer.cpu_seconds() - cpu0) * 1e6 / conns
    tracer.stop()
    return conns / secs, busy_us, own_us, lost_records(tracer.stderr) or 0


def middle_half(values, scale=100.0):
    if len(values) < 2:
        return "-"
    q1, _, q3 = statistics.quantiles(values, n=4)
    return "%.1f-%.1f" % (scale * q1, scale * q3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("configs", nargs="+", metavar="NAME=COMMAND")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/ab.py: tracing needs root")
    if not os.access(CHURN, os.X_OK):
        sys.exit("bench/ab.py: %s is not built: run make build/churn" % CHURN)

    with tempfile.TemporaryDirectory() as tmp:
        configs = [parse_config(text, i, tmp) for i, text in enumerate(args.configs)]
        pairs = {name: [] for name, _ in configs}  # (traced, untraced) results
        port = FIRST_PORT
        for r in range(args.rounds):
            order = configs[r % len(configs):] + configs[:r % len(configs)]
            for name, make in order:
                results = {}
                for traced in ((False, True) if r % 2 else (True, False)):
                    results[traced] = measured(args, port, make() if traced else None)
                    port = FIRST_PORT + (port - FIRST_PORT + 16) % 512
                pairs[name].append((results[True], results[False]))
                print("  round %d  %-20s %5.1f%%" % (
                    r + 1, name, 100.0 * results[True][0] / results[False][0]),
                    file=sys.stderr, flush=True)

    untraced = statistics.median(u[0] for p in pairs.values() for _, u in p)
    print("\npaired rounds on loopback churn: %d rounds of %g s, %d client threads, "
          "untraced %.0f conn/s (median)" % (args.rounds, args.seconds, args.threads, untraced))
    print("%-20s %8s %13s %8s %13s %22s %6s" % (
        "configuration", "share", "pairs q1-q3", "by CPU", "q1-q3",
        "tracer us/conn, q1-q3", "lost"))
    for name, _ in configs:
        shares = [t[0] / u[0] for t, u in pairs[name]]
        by_cpu = [u[1] / t[1] for t, u in pairs[name]]
        own = [t[2] for t, _ in pairs[name]]
        print("%-20s %7.1f%% %13s %7.1f%% %13s %10.2f %11s %6d" % (
            name, 100.0 * statistics.median(shares), middle_half(shares),
            100.0 * statistics.median(by_cpu), middle_half(by_cpu),
            statistics.median(own), middle_half(own, 1.0), sum(t[3] for t, _ in pairs[name])))


if __name__ == "__main__":
    main()
