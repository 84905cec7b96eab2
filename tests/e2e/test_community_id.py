"""community_id against Wireshark's on the same connections.

Connections over IPv4, IPv6 and IPv4 carried by an IPv6 socket
(::ffff:127.0.0.1) run in the test's own namespace while dumpcap captures
their ports there. Two tracers watch them, one with the default seed and one
with another; each end's record must carry exactly the Community ID that
Wireshark's dissector computes, with the same seed, for that connection's
packets."""
from capture import Capture
from close_paths import UNUSED_PORT, Scenario, refused_connect
from harness import Peer, Tracer, check, check_eq, test

SEED = 4242
TRACER_ARGS = ("--json", "--ringbuf-kb", "32768")


def connect_and_close(sc, server, port, family):
    """One connection to server's listener on port; the client closes first,
    then the server. Returns the client's port."""
    cport = int(sc.client.do("connect", family, port))
    server.do("accept")
    sc.client.do("close")
    server.do("recv_eof")
    server.do("close")
    sc.wait_for(port, cport, "LAST_ACK", "CLOSE")
    return cport


def flow(record):
    return frozenset({(record["laddr"], record["lport"]), (record["raddr"], record["rport"])})


def conn_records(records, ports):
    return [r for r in records if r.get("type") == "conn" and r["lport"] in ports
            and r["rport"] in ports]


def check_ids(records, wireshark, what):
    for r in records:
        want = wireshark.get(flow(r))
        check(want is not None, "%s: Wireshark saw no packets of %r (it saw %r)"
              % (what, sorted(flow(r)), list(wireshark)))
        check_eq(want, {r["community_id"]}, "%s: community_id of %s:%d -> %s:%d"
                 % (what, r["laddr"], r["lport"], r["raddr"], r["rport"]))


@test
def test_community_id_equals_wiresharks_ipv4_ipv6_and_mapped_with_two_seeds():
    with Scenario("ipv4", TRACER_ARGS) as sc:
        seeded = Tracer(*TRACER_ARGS, "--community-id-seed", str(SEED)).start()
        server6 = Peer(sc.ns.name)
        try:
            port4 = int(sc.server.do("listen", "ipv4"))
            port6 = int(server6.do("listen", "ipv6"))
            with Capture(sc.ns, [port4, port6, UNUSED_PORT]) as cap:
                cports = [connect_and_close(sc, sc.server, port4, "ipv4"),
                          connect_and_close(sc, server6, port6, "ipv6"),
                          connect_and_close(sc, sc.server, port4, "ipv4-mapped")]
                # The kernel releases its port before ->CLOSE: tcpwave still has it.
                refused = refused_connect(sc)
                cap.stop()
                records = sc.stop()
                seeded.stop()
                check_eq(seeded.returncode, 0, "the seeded tracer's exit status")
                ports = {port4, port6, *cports}
                default_ids = cap.community_ids(0)
                seeded_ids = cap.community_ids(SEED)
        finally:
            server6.close()
            seeded.__exit__()
    mine = conn_records(records, ports)
    check_eq(sorted(r["family"] for r in mine), ["ipv4"] * 4 + ["ipv6"] * 2,
             "families (the mapped connection is IPv4 on the wire)")
    check_ids(mine, default_ids, "seed 0")
    seeded_records = [r for r in conn_records(seeded.records(), ports)
                      if r["netns"] == sc.ns.inode]
    check_eq(len(seeded_records), 6, "seed %d: records of the 3 connections' 6 ends" % SEED)
    check_ids(seeded_records, seeded_ids, "seed %d" % SEED)
    refused_records = conn_records(records, {refused["cport"], UNUSED_PORT})
    check_eq([r["close"] for r in refused_records], ["refused"], "the refused connect's record")
    check_ids(refused_records, default_ids, "refused connect")
    check(not set(r["community_id"] for r in mine) & set(r["community_id"] for r in seeded_records),
          "the seed changes every ID")
