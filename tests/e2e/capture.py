"""A packet capture of the test's own connections, read back with Wireshark.

    with Capture(ns, ports=[p1, p2]) as cap:   # dumpcap on ns's lo, for those ports
        ...make connections...
    ids = cap.community_ids(seed=0)            # Wireshark's Community ID per flow

dumpcap runs inside the test's network namespace, so it sees nothing but the
test's own loopback traffic, and its capture filter keeps only the ports the
test names. Wireshark's Community ID dissector (`communityid`, off by default)
is what tcpwave's `community_id` must equal.

dumpcap says "Capturing on" before its filter is attached, and it hands
packets on in batches (libpcap's ring buffer retires a block on a timeout),
dropping a batch not yet handed on when it is stopped. So both the start and
the end are confirmed by a packet: a probe connect() to PROBE_PORT (which the
filter also keeps) from a port of its own, repeated until that probe comes
out of dumpcap. Packets leave in the order they were captured, so every
packet sent before it has come out too. dumpcap writes classic pcap to a
pipe here, which a thread copies to the capture file and reads for probes.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

from harness import Skip, check

READY_TIMEOUT_S = 30
EXIT_TIMEOUT_S = 30
PCAP_HEADER_BYTES = 24
PCAP_RECORD_HEADER_BYTES = 16
# Loopback frames carry an Ethernet header (DLT_EN10MB) before IPv4.
ETHERNET_BYTES = 14
# Nothing listens there in a fresh namespace: each probe is a SYN and a RST.
PROBE_PORT = 9
PROBE_INTERVAL_S = 0.02


class Capture:
    def __init__(self, ns, ports):
        self.ns = ns
        self.filter = " or ".join("tcp port %d" % p for p in list(ports) + [PROBE_PORT])
        self.dir = None
        self.proc = None
        self.data = b""  # what dumpcap wrote so far
        self.lock = threading.Lock()

    def __enter__(self):
        for tool in ("dumpcap", "tshark"):
            if not shutil.which(tool):
                raise Skip("%s is not installed (scripts/install-deps installs tshark)" % tool)
        self.dir = tempfile.mkdtemp(prefix="tcpwave-capture-")
        self.path = os.path.join(self.dir, "capture.pcap")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns.name, "dumpcap", "-q",
                                      "-i", "lo", "-f", self.filter, "-P", "-w", "-"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._copier = threading.Thread(target=self._copy, daemon=True)
        self._copier.start()
        self._sync()
        return self

    def _copy(self):
        with open(self.path, "wb") as out:
            while True:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return
                out.write(chunk)
                out.flush()
                with self.lock:
                    self.data += chunk

    def _source_ports(self):
        """The TCP source ports of the IPv4 packets dumpcap has written so far."""
        with self.lock:
            data = self.data
        ports, at = set(), PCAP_HEADER_BYTES
        while at + PCAP_RECORD_HEADER_BYTES <= len(data):
            caplen = struct.unpack_from("=I", data, at + 8)[0]
            frame = data[at + PCAP_RECORD_HEADER_BYTES:at + PCAP_RECORD_HEADER_BYTES + caplen]
            at += PCAP_RECORD_HEADER_BYTES + caplen
            ip = frame[ETHERNET_BYTES:]
            if len(ip) >= 24 and ip[0] >> 4 == 4 and ip[9] == socket.IPPROTO_TCP:
                ports.add(struct.unpack_from("!H", ip, (ip[0] & 0xf) * 4)[0])
        return ports

    def _sync(self):
        """Probe until a probe comes out of dumpcap: all before it has, too."""
        sent = set()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not sent & self._source_ports():
            if self.proc.poll() is not None:
                raise AssertionError("dumpcap exited: %s"
                                     % self.proc.stderr.read().decode(errors="replace"))
            check(time.monotonic() < deadline, "no probe came out of dumpcap within %d s"
                  % READY_TIMEOUT_S)
            probe = self.ns.socket(socket.AF_INET, socket.SOCK_STREAM)
            probe.bind(("127.0.0.1", 0))
            sent.add(probe.getsockname()[1])
            probe.connect_ex(("127.0.0.1", PROBE_PORT))
            probe.close()
            time.sleep(PROBE_INTERVAL_S)

    def stop(self):
        """End the capture once every packet sent so far has come out of dumpcap."""
        self._sync()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.proc.wait(EXIT_TIMEOUT_S)
        self._copier.join(EXIT_TIMEOUT_S)
        if self.proc.returncode != 0:
            raise AssertionError("dumpcap's exit status: expected 0, got %r: %s"
                                 % (self.proc.returncode,
                                    self.proc.stderr.read().decode(errors="replace")))

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def community_ids(self, seed):
        """{frozenset({(addr, port), (addr, port)}): {Community IDs of its packets}}."""
        fields = ["ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
                  "communityid"]
        argv = ["tshark", "-n", "-r", self.path, "--enable-protocol", "communityid",
                "-o", "communityid.seed:%d" % seed, "-T", "fields", "-E", "separator=/t"]
        for f in fields:
            argv += ["-e", f]
        done = subprocess.run(argv, capture_output=True, text=True)
        check(done.returncode == 0, "tshark failed (%d): %s" % (done.returncode, done.stderr))
        flows = {}
        for line in done.stdout.splitlines():
            src4, src6, sport, dst4, dst6, dport, cid = line.split("\t")
            key = frozenset({(src4 or src6, int(sport)), (dst4 or dst6, int(dport))})
            flows.setdefault(key, set()).add(cid)
        return flows
