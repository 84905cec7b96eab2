#!/usr/bin/env python3
"""Userspace cost without the noise of a live host: a recording of connection
churn, replayed with --read into JSON.

Records churn with `tcpwave -w` until the recording holds at least
--records ring buffer records, then times `tcpwave -r FILE --json` into
/dev/null (records per second, best of three) and counts its instructions
per record with valgrind's callgrind on a smaller recording (callgrind runs
some fifty times slower; instruction counts do not depend on the machine's
load, so they can be compared from one commit to the next).

Usage: bench/replay.py [--records N] [--callgrind-records N]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TCPWAVE = os.path.join(ROOT, "tcpwave")
CHURN = os.path.join(ROOT, "build", "churn")


def record(path, records, port):
    """Churn under tcpwave -w until the exit summary counts enough records."""
    tracer = subprocess.Popen([TCPWAVE, "--json", "-w", path], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    if "tracing" not in tracer.stderr.readline():
        sys.exit("bench/replay.py: tcpwave did not start")
    # Two records per connection, one per end.
    seconds = 2.0
    while True:
        subprocess.run([CHURN, "-t", "4", "-d", str(seconds), "-p", str(port)], check=True,
                       capture_output=True)
        if os.path.getsize(path) >= records * 240 or seconds > 600:
            break
        seconds *= 2
    tracer.send_signal(2)
    err = tracer.communicate(timeout=120)[1]
    m = re.search(r"(\d+) records, (\d+) lost", err)
    return int(m.group(1)), int(m.group(2))


def replay_seconds(path):
    best = None
    for _ in range(3):
        t0 = time.monotonic()
        subprocess.run([TCPWAVE, "-r", path, "--json"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        took = time.monotonic() - t0
        best = took if best is None else min(best, took)
    return best


def instructions(path, tmp):
    # --no-drop: callgrind writes its output at exit, as whoever tcpwave has
    # become by then; the records cost the same either way.
    out = os.path.join(tmp, "callgrind.out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, TCPWAVE,
                    "--no-drop", "-r", path, "--json"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--callgrind-records", type=int, default=50000)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/replay.py: recording needs root")
    if not shutil.which("valgrind"):
        sys.exit("bench/replay.py: needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        big, small = os.path.join(tmp, "big.twr"), os.path.join(tmp, "small.twr")
        n, lost = record(big, args.records, 24000)
        secs = replay_seconds(big)
        n_small, _ = record(small, args.callgrind_records, 24600)
        ins = instructions(small, tmp)
        size = os.path.getsize(big)
    print("recording: %d records (%d lost while recording), %.0f MB" % (n, lost, size / 1e6))
    print("replay to JSON: %.2f s, %.0f records/s, %.2f us per record (best of 3)"
          % (secs, n / secs, secs / n * 1e6))
    if ins:
        print("callgrind: %d instructions for %d records, %.0f per record (file reading, "
              "reconstruction, JSON)" % (ins, n_small, ins / n_small))


if __name__ == "__main__":
    main()
