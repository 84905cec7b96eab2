"""TCP events that ran on PID 1's time, as the kernel's own tracer saw them.

On the sandboxes tcpwave is built in, the kernel runs no BPF tracing
program (tp_btf) while PID 1, the sandbox's agent, is the current task, and
counts no miss for it (README, Performance). A timer or a packet handled in
a softirq that happens to run on the agent's time is then invisible to
tcpwave, and a test that waited for it fails through no fault of tcpwave's.

ftrace still records those events. A trace instance of the harness's own
records the TCP events whose current task is one of PID 1's threads; when a
test fails and the instance holds any from its run that ran in a softirq or
an interrupt, or a socket the agent destroyed (its close() of a socket reset
before it read or wrote it is where that connection's record would leave,
see README: PID and COMM), the harness runs it once more (run_all). The
agent's other events in its process context concern only its own sockets,
and do not count. A test that fails without
such an event fails at once. Where tracefs cannot be used, nothing is
recorded and no test runs again.

    pid1 = Pid1Events()       # None-safe: .available is False without tracefs
    pid1.start()              # before a test: empty, and PID 1's threads now
    pid1.seen()               # after it: how many such events
    pid1.close()
"""
import os
import re

TRACEFS = "/sys/kernel/tracing"
EVENTS = ("sock/inet_sock_set_state", "tcp/tcp_destroy_sock", "tcp/tcp_retransmit_skb",
          "tcp/tcp_retransmit_synack", "tcp/tcp_send_reset", "tcp/tcp_receive_reset")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _mounted():
    if os.path.exists(os.path.join(TRACEFS, "instances")):
        return True
    return os.system("mount -t tracefs tracefs %s 2>/dev/null" % TRACEFS) == 0 and \
        os.path.exists(os.path.join(TRACEFS, "instances"))


# A trace line's context flags ("..s2.": s softirq, h hardirq, H both) after its
# CPU, and its event's name.
LINE = re.compile(r"\]\s+(\S+)\s+[\d.]+:\s+(\w+):")


class Pid1Events:
    def __init__(self):
        self.dir = os.path.join(TRACEFS, "instances", "tcpwave_e2e_%d" % os.getpid())
        self.available = False
        try:
            if _mounted():
                os.mkdir(self.dir)
                self.available = True
        except OSError:
            pass

    def start(self):
        """Forget what was seen; watch PID 1's threads as they are now."""
        if not self.available:
            return
        only = " || ".join("common_pid == %s" % t for t in os.listdir("/proc/1/task"))
        try:
            for event in EVENTS:
                base = os.path.join(self.dir, "events", event)
                if os.path.isdir(base):
                    _write(os.path.join(base, "filter"), only)
                    _write(os.path.join(base, "enable"), "1")
            _write(os.path.join(self.dir, "trace"), "")
        except OSError:
            self.close()

    def seen(self):
        """TCP events run in an interrupt on PID 1's time, or sockets it
        destroyed, since start()."""
        if not self.available:
            return 0
        try:
            with open(os.path.join(self.dir, "trace")) as f:
                found = [m.groups() for m in map(LINE.search, f) if m]
        except OSError:
            return 0
        return sum(1 for flags, event in found
                   if set(flags) & set("shH") or event == "tcp_destroy_sock")

    def close(self):
        """Stop recording and remove the instance (idempotent)."""
        if not self.available:
            return
        self.available = False
        try:
            for event in EVENTS:
                base = os.path.join(self.dir, "events", event, "enable")
                if os.path.exists(base):
                    _write(base, "0")
            os.rmdir(self.dir)
        except OSError:
            pass
