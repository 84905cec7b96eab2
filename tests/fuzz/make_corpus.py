#!/usr/bin/env python3
"""Make the fuzzer's seed corpus: small real recordings, written by tcpwave -w.

Usage (root, after make): tests/fuzz/make_corpus.py [DIR]   (default tests/fuzz/corpus)

Each seed records a few connections made in a network namespace of its own:
  conns.twr   connection records: active, passive, aborted (a late RST),
              refused, IPv4 and IPv6, an orphan whose FIN_WAIT2 end comes
              from its timewait socket, and one still open at exit
  events.twr  the same kind of connection as transitions (--events)
  lost.twr    a burst of connections through a 4 KiB ring buffer: lost
              records, so counters frames with losses (the first dozen
              connection records kept)
  cut.twr     conns.twr stopped short inside a frame, as when tcpwave is
              killed while writing
  stuck.twr   --stuck: a half-closed connection whose two ends are reported
              stuck (FIN_WAIT2 and CLOSE_WAIT) while it is open

tcpwave sees every namespace, so the records of other traffic on the host
are dropped from the recording (the namespace's inode is in each record),
and so are the releases that then release nothing; every frame kept is byte
for byte what tcpwave wrote. Run it again when the
format (docs/recording-format.md) or bpf/tcpwave.h changes: seeds of another
layout are refused at the header and no longer reach the code behind it.
"""
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import Peer, Tracer, close_orphaned_in_fin_wait2  # noqa: E402
from netns import Netns  # noqa: E402

# docs/recording-format.md
HEADER_LEN_AT = 20
FRAME = struct.Struct("<HHIQ")  # type, reserved, length, time_ns
FRAME_RECORD, FRAME_RELEASE = 1, 2
# bpf/tcpwave.h: the first byte of a record is its type; where each keeps netns and cookie.
REC_STATE, REC_CONN, REC_RESET, REC_STUCK, REC_HANDOVER_END = 1, 2, 3, 4, 5
NETNS_AT = {REC_STATE: 4, REC_CONN: 32, REC_STUCK: 12, REC_HANDOVER_END: 4}
COOKIE_AT = {REC_STATE: 16, REC_CONN: 8, REC_RESET: 8, REC_STUCK: 16, REC_HANDOVER_END: 8}


def frames(data):
    """(offset, type, payload) of each frame after the header."""
    at = struct.unpack_from("<I", data, HEADER_LEN_AT)[0]
    while at < len(data):
        ftype, _, length, _ = FRAME.unpack_from(data, at)
        yield at, ftype, data[at + FRAME.size:at + FRAME.size + length]
        at += FRAME.size + length


def keep_netns(data, inode, max_records):
    """The recording with only the records of namespace `inode` (and its
    resets), the first max_records of them. Of releases with no record kept
    between them, the last does what all did: it alone is kept."""
    header_len = struct.unpack_from("<I", data, HEADER_LEN_AT)[0]
    out, cookies = [data[:header_len]], set()
    for at, ftype, payload in frames(data):
        whole = data[at:at + FRAME.size + len(payload)]
        if ftype == FRAME_RELEASE and out[-1][:2] == whole[:2]:
            out[-1] = whole
            continue
        if ftype != FRAME_RECORD:
            out.append(whole)
            continue
        rtype = payload[0]
        cookie = struct.unpack_from("<Q", payload, COOKIE_AT[rtype])[0]
        if len(cookies) >= max_records:
            continue
        if rtype in NETNS_AT and struct.unpack_from("<I", payload, NETNS_AT[rtype])[0] == inode:
            cookies.add(cookie)
            out.append(whole)
        elif rtype == REC_RESET and cookie in cookies:
            out.append(whole)
    return b"".join(out)


def connect(server, client, family):
    port = int(server.do("listen", family))
    cport = int(client.do("connect", family, port))
    server.do("accept")
    return port, cport


def close_kinds(ns, server, client):
    for family in ("ipv4", "ipv6"):
        connect(server, client, family)  # the client closes first
        client.do("close")
        server.do("recv_eof")
        server.do("close")
        connect(server, client, family)  # the server closes first
        server.do("close")
        client.do("recv_eof")
        client.do("close")
    connect(server, client, "ipv4")  # an orphan: its timewait socket waits for the FIN
    close_orphaned_in_fin_wait2(client)
    server.do("recv_eof")
    time.sleep(0.2)  # a check sees the timewait socket waiting; its end record follows
    server.do("close")
    connect(server, client, "ipv4")  # the client aborts: its RST follows its record
    client.do("abort")
    server.do("wait_state", "CLOSE", 5)
    server.do("close")
    client.try_do("connect", "ipv4", 9)  # refused: nothing listens on port 9
    connect(server, client, "ipv6")  # still open when tracing stops


# Connections as fast as one process makes them: faster than a 4 KiB ring buffer drains.
BURST = """
import socket
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(128)
for _ in range(2000):
    client = socket.create_connection(listener.getsockname())
    listener.accept()[0].close()
    client.close()
"""


def burst(ns, server, client):
    ns.run([sys.executable, "-c", BURST])


# Longer than --stuck, as the check runs every quarter of it.
STUCK_MS, HELD_S = 100, 0.3


def stuck(ns, server, client):
    port = int(server.do("listen", "ipv4"))
    cport = int(client.do("connect", "ipv4", port))
    server.do("accept")
    client.do("shutdown")  # the client keeps its socket: it waits in FIN_WAIT2
    server.do("recv_eof")
    time.sleep(HELD_S)  # the server sits in CLOSE_WAIT
    server.do("close")  # LAST_ACK is over at once; the client's FIN_WAIT2 goes on
    time.sleep(HELD_S)
    client.do("close")


def record(path, drive, *args, max_records=1000):
    with Netns() as ns:
        server, client = Peer(ns.name), Peer(ns.name)
        try:
            tracer = Tracer("-w", path + ".raw", "--json", *args).start()
            drive(ns, server, client)
            tracer.stop()
        finally:
            server.close()
            client.close()
        if tracer.returncode != 0:
            sys.exit("tcpwave exited %s: %s" % (tracer.returncode, tracer.stderr))
        with open(path + ".raw", "rb") as f:
            data = keep_netns(f.read(), ns.inode, max_records)
    os.unlink(path + ".raw")
    with open(path, "wb") as f:
        f.write(data)
    print("%s: %d bytes" % (path, len(data)))
    return data


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    conns = record(os.path.join(out, "conns.twr"), close_kinds)
    record(os.path.join(out, "events.twr"), close_kinds, "--events")
    lost = record(os.path.join(out, "lost.twr"), burst, "--ringbuf-kb", "4", max_records=12)
    if not any(t == 3 and struct.unpack_from("<Q", p)[0] for _, t, p in frames(lost)):
        sys.exit("lost.twr: no records were lost; run again")
    with open(os.path.join(out, "cut.twr"), "wb") as f:
        f.write(conns[:len(conns) * 2 // 3])
    held = record(os.path.join(out, "stuck.twr"), stuck, "--stuck", str(STUCK_MS))
    if sum(t == 1 and p[0] == REC_STUCK for _, t, p in frames(held)) < 2:
        sys.exit("stuck.twr: fewer than two stuck records; run again")


if __name__ == "__main__":
    main()
