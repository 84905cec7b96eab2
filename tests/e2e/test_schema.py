"""docs/tcpwave.schema.json: what tcpwave prints matches it, and what it does
not print does not.

Every record any end-to-end test parses goes through harness.parse_record(),
and run_all checks each against the schema when the test body returns
(harness.check_parsed_records); this test makes sure that check can fail:
records tcpwave printed, each broken in one way, must be rejected."""
import copy

from harness import Peer, Tracer, client_closes_first, check, check_record, record_schema, test
from netns import Netns


def rejected(record):
    try:
        check_record(record)
    except AssertionError as e:
        return str(e)
    return None


def one_connection(ns):
    server, client = Peer(ns.name), Peer(ns.name)
    try:
        return client_closes_first(server, client)
    finally:
        server.close()
        client.close()


def first(tracer, netns, kind):
    """The first record of kind in netns, read as it comes."""
    while True:
        r = tracer.next_record()
        if r.get("type") == kind and r.get("netns") == netns:
            return r


# Each breakage: what it does to a record, and the words the rejection must name.
CONN_BREAKAGES = [
    ("no community_id", lambda r: r.pop("community_id"), "community_id"),
    ("a community_id that is not v1", lambda r: r.update(community_id="2:abc"), "community_id"),
    ("an unknown close class", lambda r: r.update(close="closed"), "close"),
    ("an unknown conn_state", lambda r: r.update(conn_state="SX"), "conn_state"),
    ("a port as a string", lambda r: r.update(lport=str(r["lport"])), "lport"),
    ("a port out of range", lambda r: r.update(rport=70000), "rport"),
    ("a state name the kernel lacks", lambda r: r["states"][0].update(state="SYN_SEEN"),
     "states/0/state"),
    ("no states", lambda r: r.update(states=[]), "states"),
    ("a negative duration", lambda r: r.update(lifetime_ns=-1), "lifetime_ns"),
    ("a timestamp without nanoseconds", lambda r: r.update(ts=r["ts"][:19] + "Z"), "ts"),
    ("no retrans.fin", lambda r: r["retrans"].pop("fin"), "retrans"),
    ("an unknown FIN_WAIT2 end", lambda r: r.update(fin_wait2_end="closed"), "fin_wait2_end"),
    ("a diagnosis that is a string", lambda r: r.update(diagnosis="slow"), "diagnosis"),
    ("an unknown type", lambda r: r.update(type="connection"), "(record)"),
]
STATE_BREAKAGES = [
    ("no process_ctx", lambda r: r.pop("process_ctx"), "process_ctx"),
    ("an unknown family", lambda r: r.update(family="ipv5"), "family"),
    ("a pid as a string", lambda r: r.update(pid="1"), "pid"),
]
LOST = {"type": "lost", "ts": "2026-11-25T05:06:31.533139412Z", "reason": "ring_buffer_full",
        "count": 3, "total": 7}
LOST_BREAKAGES = [
    ("a count of 0", lambda r: r.update(count=0), "count"),
    ("no total", lambda r: r.pop("total"), "total"),
]


def check_breakages(good, breakages):
    check(rejected(good) is None, "the record as tcpwave printed it passes: %s" % rejected(good))
    for what, breakage, names in breakages:
        bad = copy.deepcopy(good)
        breakage(bad)
        why = rejected(bad)
        check(why is not None, "a %s record with %s is rejected" % (good["type"], what))
        check(names in why, "the rejection of %s names %r: %s" % (what, names, why))


@test
def test_schema_rejects_broken_records_of_every_type():
    check(record_schema() is not None, "the schema loads")
    with Netns() as ns, Tracer("--json") as conns, Tracer("--events", "--json") as events:
        one_connection(ns)
        conn = first(conns, ns.inode, "conn")
        state = first(events, ns.inode, "state")
    check_breakages(conn, CONN_BREAKAGES)
    check_breakages(state, STATE_BREAKAGES)
    check_breakages(LOST, LOST_BREAKAGES)
