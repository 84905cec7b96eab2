// SPDX-License-Identifier: GPL-2.0
/*
 * Connection records as JSON, table and timeline, byte for byte. The
 * records and their verdicts are written by hand, the way the kernel side
 * and conn_classify() would make them: the formatters only print them.
 */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "output_conn.h"
#include "rst_reason.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

/* Records are reported at 2023-11-14T22:13:20.123456789Z, 5 s after boot. */
#define TS_MONO (5 * SEC)
#define REAL_MINUS_MONO (1700000000123456789ll - (int64_t)TS_MONO)

struct rec {
	struct tw_conn c;
	struct conn_verdict v;
	struct diagnosis d; /* nothing remarkable unless a test says so */
	struct conn_join join; /* as main.c would compute it */
};

/* 10.0.0.1:43210 <-> 10.0.0.2:80, seed 0, from either end. */
#define CLIENT_CID "1:+baL86ws//XAWncrmn91r1rM7Cw="

static struct strbuf sb;

/* For checks of one part of a record: the whole record shows when it fails. */
#define CHECK_HAS(got, part)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *p_ = (part);                                              \
		if (!strstr(g_, p_))                                                               \
			unit_fail(__FILE__, __LINE__, "expected to contain: %s\n    got: %s", p_,  \
				  g_);                                                             \
	} while (0)

/* For checks of the beginning of a record. */
#define CHECK_STARTS(got, head)                                                                    \
	do {                                                                                       \
		const char *g_ = (got), *h_ = (head);                                              \
		if (strncmp(g_, h_, strlen(h_)) != 0)                                              \
			unit_fail(__FILE__, __LINE__, "expected to start with: %s\n    got: %s",   \
				  h_, g_);                                                         \
	} while (0)

static void add_step(struct rec *r, __u8 state, __u64 t_ns, enum conn_step_event ev)
{
	r->c.step_state[r->c.nsteps] = state;
	r->c.step_ns[r->c.nsteps] = t_ns;
	r->v.steps[r->c.nsteps] = ev;
	r->c.nsteps++;
}

/* Reported as it ended, so start_ns is the report time minus the last step's offset. */
static void end_at_report(struct rec *r)
{
	r->c.start_ns = TS_MONO - r->c.step_ns[r->c.nsteps - 1];
}

/* curl 10.0.0.1:43210 -> 10.0.0.2:80, with nothing decided yet. */
static struct rec client(void)
{
	struct rec r = {
		.c = {
			.type = TW_REC_CONN,
			.first_old_state = TW_CLOSE,
			.flags = TW_CONN_OWNER_KNOWN | TW_CONN_COUNTERS_KNOWN,
			.cookie = 4242,
			.cgroup_id = 7,
			.netns = 4026531840u,
			.srtt_us = 750,
			.rx_bytes = 5120,
			.tx_bytes = 73,
			.tw_count = 3,
			.tw_max = 262144,
			.owner = { .pid = 1235, .tgid = 1234, .comm = "curl" },
			.ep = { .laddr = { 10, 0, 0, 1 },
				.raddr = { 10, 0, 0, 2 },
				.lport = 43210,
				.rport = 80,
				.family = AF_INET },
		},
		.v = {
			.open = CONN_OPEN_ACTIVE,
			.complete = true,
			.rx_bytes = 5120,
			.tx_bytes = 73,
			.handshake_ns = -1,
			.lifetime_ns = -1,
			.close_start_ns = -1,
			.close_ns = -1,
			.handover_hold_ns = -1,
			.fin_wait2_end_ns = -1,
		},
		.join = { .community_id = CLIENT_CID, .conn_state = "S1" },
	};

	return r;
}

/* connect(), a request, close() first: FIN_WAIT1, FIN_WAIT2, then TIME_WAIT for 60 s. */
static struct rec active_close(void)
{
	struct rec r = client();

	r.c.flags |= TW_CONN_PEER_FIN | TW_CONN_ORPHAN;
	r.c.retrans[TW_RETRANS_SYN] = 2;
	r.c.retrans[TW_RETRANS_DATA] = 12;
	add_step(&r, TW_SYN_SENT, 0, STEP_SYN_SENT);
	add_step(&r, TW_ESTABLISHED, 1500 * US, STEP_SYNACK_RECEIVED);
	add_step(&r, TW_FIN_WAIT1, 412 * MS, STEP_FIN_SENT);
	add_step(&r, TW_FIN_WAIT2, 412250 * US, STEP_FIN_ACKED);
	add_step(&r, TW_CLOSE, 412500 * US, STEP_TIME_WAIT);
	end_at_report(&r);
	r.v.close = CONN_CLOSE_ACTIVE;
	r.v.end = CONN_END_TIME_WAIT;
	r.v.handshake_ns = 1500 * US;
	r.v.lifetime_ns = 412500 * US;
	r.v.close_start_ns = 412 * MS;
	r.v.close_ns = 500 * US;
	r.v.handover_hold_ns = 60 * SEC;
	r.join.conn_state = "SF";
	return r;
}

/* nginx on 10.0.0.2:80 accepts, the client closes first: CLOSE_WAIT, LAST_ACK. */
static struct rec passive_close(void)
{
	struct rec r = client();

	r.c.first_old_state = TW_LISTEN;
	r.c.flags |= TW_CONN_HANDSHAKE_KNOWN | TW_CONN_PEER_FIN;
	r.c.handshake_us = 200;
	memcpy(r.c.owner.comm, "nginx", sizeof("nginx"));
	r.c.owner.pid = r.c.owner.tgid = 800;
	r.c.ep.laddr[3] = 2;
	r.c.ep.raddr[3] = 1;
	r.c.ep.lport = 80;
	r.c.ep.rport = 43210;
	r.c.retrans[TW_RETRANS_SYNACK] = 1;
	r.c.retrans[TW_RETRANS_FIN] = 3;
	add_step(&r, TW_SYN_RECV, 0, STEP_SYN_RECEIVED);
	add_step(&r, TW_ESTABLISHED, 200 * US, STEP_ACK_RECEIVED);
	add_step(&r, TW_CLOSE_WAIT, 100 * MS, STEP_PEER_FIN);
	add_step(&r, TW_LAST_ACK, 100100 * US, STEP_LAST_FIN_SENT);
	add_step(&r, TW_CLOSE, 100300 * US, STEP_FINAL_ACK);
	end_at_report(&r);
	r.v.open = CONN_OPEN_PASSIVE;
	r.v.close = CONN_CLOSE_PASSIVE;
	r.v.end = CONN_END_CLOSED;
	r.v.handshake_ns = 200 * US;
	r.v.lifetime_ns = 100300 * US;
	r.v.close_start_ns = 100 * MS;
	r.v.close_ns = 300 * US;
	r.join.conn_state = "SF";
	return r;
}

/*
 * A Fast Open child: its application answered the SYN's request and closed
 * at 2 ms, and the handshake's final ACK came with the ACK of our FIN after
 * two more SYN-ACKs.
 */
static struct rec fast_open_closed_in_handshake(void)
{
	struct rec r = passive_close();

	r.c.nsteps = 0;
	r.c.flags = (r.c.flags & ~TW_CONN_HANDSHAKE_KNOWN) | TW_CONN_FAST_OPEN;
	r.c.retrans[TW_RETRANS_SYNACK] = 2;
	r.c.retrans[TW_RETRANS_FIN] = 0;
	add_step(&r, TW_SYN_RECV, 0, STEP_FAST_OPEN_SYN_RECEIVED);
	add_step(&r, TW_FIN_WAIT1, 2 * MS, STEP_FIN_SENT_IN_HANDSHAKE);
	add_step(&r, TW_FIN_WAIT2, 3002 * MS, STEP_FIN_ACKED);
	add_step(&r, TW_CLOSE, 3003 * MS, STEP_TIME_WAIT);
	end_at_report(&r);
	r.v.close = CONN_CLOSE_ACTIVE;
	r.v.end = CONN_END_TIME_WAIT;
	r.v.handshake_ns = -1;
	r.v.lifetime_ns = 3003 * MS;
	r.v.close_start_ns = 2 * MS;
	r.v.close_ns = 3001 * MS;
	r.v.handover_hold_ns = 60 * SEC;
	return r;
}

/* Established for 2 s, then the peer's RST. */
static struct rec reset_by_peer(void)
{
	struct rec r = client();

	r.c.flags |= TW_CONN_RESET_RECEIVED;
	r.c.reset_state = TW_ESTABLISHED;
	r.c.sk_err = ECONNRESET;
	r.c.reset_reason = 12; /* not ours: never printed */
	add_step(&r, TW_SYN_SENT, 0, STEP_SYN_SENT);
	add_step(&r, TW_ESTABLISHED, 1 * MS, STEP_SYNACK_RECEIVED);
	add_step(&r, TW_CLOSE, 2001 * MS, STEP_RESET_RECEIVED);
	end_at_report(&r);
	r.v.close = CONN_CLOSE_RESET;
	r.v.reset_by = CONN_RESET_PEER;
	r.v.end = CONN_END_CLOSED;
	r.v.handshake_ns = 1 * MS;
	r.v.lifetime_ns = 2001 * MS;
	r.join.conn_state = "RSTR";
	return r;
}

/* Established, then close() with unread data: our RST, TCP_ABORT_ON_CLOSE. */
static struct rec reset_by_us(void)
{
	struct rec r = reset_by_peer();

	r.c.flags &= ~TW_CONN_RESET_RECEIVED;
	r.c.flags |= TW_CONN_RESET_SENT;
	r.c.sk_err = 0;
	r.c.reset_reason = 11;
	r.v.reset_by = CONN_RESET_LOCAL;
	r.v.steps[2] = STEP_RESET_SENT;
	r.join.conn_state = "RSTO";
	return r;
}

/* connect() to a closed port: SYN, RST. */
static struct rec refused(void)
{
	struct rec r = client();

	r.c.flags |= TW_CONN_RESET_RECEIVED;
	r.c.reset_state = TW_SYN_SENT;
	r.c.sk_err = ECONNREFUSED;
	r.c.rx_bytes = r.c.tx_bytes = 0;
	r.v.rx_bytes = r.v.tx_bytes = 0;
	add_step(&r, TW_SYN_SENT, 0, STEP_SYN_SENT);
	add_step(&r, TW_CLOSE, 120 * US, STEP_REFUSED);
	end_at_report(&r);
	r.v.close = CONN_CLOSE_REFUSED;
	r.v.reset_by = CONN_RESET_PEER;
	r.v.end = CONN_END_CLOSED;
	r.v.lifetime_ns = 120 * US;
	r.join.conn_state = "REJ";
	return r;
}

/* connect() to a host that drops SYNs: 6 retransmissions, then ETIMEDOUT. */
static struct rec timed_out(void)
{
	struct rec r = client();

	r.c.sk_err = ETIMEDOUT;
	r.c.retrans[TW_RETRANS_SYN] = 6;
	add_step(&r, TW_SYN_SENT, 0, STEP_SYN_SENT);
	add_step(&r, TW_CLOSE, 127 * SEC, STEP_TIMEOUT);
	end_at_report(&r);
	r.v.close = CONN_CLOSE_TIMEOUT;
	r.v.end = CONN_END_CLOSED;
	r.v.lifetime_ns = 127 * SEC;
	r.join.conn_state = "S0";
	return r;
}

/* A non-blocking connect() to a host that drops SYNs, closed 300 ms later: no error. */
static struct rec abandoned(void)
{
	struct rec r = client();

	add_step(&r, TW_SYN_SENT, 0, STEP_SYN_SENT);
	add_step(&r, TW_CLOSE, 300 * MS, STEP_CONNECT_ABANDONED);
	end_at_report(&r);
	r.v.close = CONN_CLOSE_TIMEOUT;
	r.v.end = CONN_END_CLOSED;
	r.v.lifetime_ns = 300 * MS;
	r.join.conn_state = "S0";
	return r;
}

/* Established before tracing began and still open when it ended: nothing known but that. */
static struct rec still_open(void)
{
	struct rec r = client();

	r.c.first_old_state = 0;
	r.c.flags = TW_CONN_OWNER_KNOWN | TW_CONN_OPEN;
	r.v.rx_bytes = r.v.tx_bytes = -1;
	r.c.retrans[TW_RETRANS_DATA] = 1;
	add_step(&r, TW_ESTABLISHED, 0, STEP_SEEN);
	r.c.start_ns = 3 * SEC;
	r.v.open = CONN_OPEN_UNKNOWN;
	r.v.close = CONN_CLOSE_NONE;
	r.v.end = CONN_END_OPEN;
	r.v.complete = false;
	r.join.conn_state = "OTH";
	return r;
}

/* The application closed in FIN_WAIT2; the peer's FIN never came. */
static struct rec fin_wait2_handover(void)
{
	struct rec r = active_close();

	r.c.flags &= ~TW_CONN_PEER_FIN;
	r.v.steps[4] = STEP_FIN_WAIT2_HANDOVER;
	r.v.end = CONN_END_FIN_WAIT2;
	r.v.fin_wait2_end = CONN_FW2_WAITING;
	r.v.handover_hold_ns = 7500 * MS;
	r.join.conn_state = "S2";
	return r;
}

static const __u8 db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const __u8 db8_2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

static void set_ipv6(struct rec *r, const __u8 l[16], const __u8 rem[16])
{
	r->c.ep.family = AF_INET6;
	memcpy(r->c.ep.laddr, l, 16);
	memcpy(r->c.ep.raddr, rem, 16);
	r->c.ep.lport = 51000;
	r->c.ep.rport = 443;
}

#define HOSTILE_COMM "a\"b\\c\n\x1b[31m\xff"

#define CGROUP "/system.slice/curl.service"

static const char *json_with_cgroup(const struct rec *r, const char *cgroup)
{
	strbuf_reset(&sb);
	output_conn_json(&sb, &r->c, &r->v, &r->d, &r->join, TS_MONO, REAL_MINUS_MONO, cgroup);
	return sb.data;
}

static const char *json_of(const struct rec *r)
{
	return json_with_cgroup(r, CGROUP);
}

static void utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

static const char *table_of(const struct rec *r)
{
	utc();
	strbuf_reset(&sb);
	output_conn_table(&sb, &r->c, &r->v, &r->d, TS_MONO, REAL_MINUS_MONO);
	return sb.data;
}

static const char *timeline_of(const struct rec *r, bool color)
{
	utc();
	strbuf_reset(&sb);
	output_conn_timeline(&sb, &r->c, &r->v, &r->d, TS_MONO, REAL_MINUS_MONO, color);
	return sb.data;
}

/* ---- JSON ---- */

/* The parts of the JSON lines that most tests below do not vary. */
#define JSON_TS "{\"type\":\"conn\",\"ts\":\"2023-11-14T22:13:20.123456789Z\","
#define JSON_CLIENT                                                                                \
	"\"sock\":4242,\"family\":\"ipv4\",\"laddr\":\"10.0.0.1\",\"lport\":43210,"                \
	"\"raddr\":\"10.0.0.2\",\"rport\":80,\"community_id\":\"" CLIENT_CID "\","           \
	"\"pid\":1234,\"tid\":1235,\"comm\":\"curl\","
#define JSON_ACTIVE_STATES                                                                         \
	"\"states\":[{\"state\":\"SYN_SENT\",\"t_ns\":0},"                                         \
	"{\"state\":\"ESTABLISHED\",\"t_ns\":1500000},"                                            \
	"{\"state\":\"FIN_WAIT1\",\"t_ns\":412000000},"                                            \
	"{\"state\":\"FIN_WAIT2\",\"t_ns\":412250000},"                                            \
	"{\"state\":\"CLOSE\",\"t_ns\":412500000}],"
#define JSON_RESET_STATES                                                                          \
	"\"states\":[{\"state\":\"SYN_SENT\",\"t_ns\":0},"                                         \
	"{\"state\":\"ESTABLISHED\",\"t_ns\":1000000},{\"state\":\"CLOSE\",\"t_ns\":2001000000}],"
#define JSON_NO_HANDOVER                                                                           \
	"\"time_wait\":false,\"handover\":null,\"handover_hold_ns\":null,"                       \
	"\"fin_wait2_end\":null,\"tw_overflow\":false,"
#define JSON_NO_RETRANS "\"retrans\":{\"syn\":0,\"synack\":0,\"fin\":0,\"data\":0},"
#define JSON_COUNTERS "\"rx_bytes\":5120,\"tx_bytes\":73,\"srtt_us\":750,"
#define JSON_TAIL "\"lost_events\":false,\"netns\":4026531840,\"cgroup_id\":7,\"cgroup\":\"" CGROUP "\",\"diagnosis\":null}\n"

TEST(test_output_conn_json_active_close_with_time_wait)
{
	struct rec r = active_close();

	CHECK_STR(json_of(&r),
		  "{\"type\":\"conn\",\"ts\":\"2023-11-14T22:13:20.123456789Z\","
		  "\"start_ts\":\"2023-11-14T22:13:19.710956789Z\",\"sock\":4242,"
		  "\"family\":\"ipv4\",\"laddr\":\"10.0.0.1\",\"lport\":43210,"
		  "\"raddr\":\"10.0.0.2\",\"rport\":80,\"community_id\":\"" CLIENT_CID "\",\"pid\":1234,\"tid\":1235,\"comm\":\"curl\","
		  "\"open\":\"active\",\"fast_open\":false,\"close\":\"active\",\"reset_by\":null,\"conn_state\":\"SF\","
		  "\"states\":[{\"state\":\"SYN_SENT\",\"t_ns\":0},"
		  "{\"state\":\"ESTABLISHED\",\"t_ns\":1500000},"
		  "{\"state\":\"FIN_WAIT1\",\"t_ns\":412000000},"
		  "{\"state\":\"FIN_WAIT2\",\"t_ns\":412250000},"
		  "{\"state\":\"CLOSE\",\"t_ns\":412500000}],"
		  "\"handshake_ns\":1500000,\"lifetime_ns\":412500000,\"close_ns\":500000,"
		  "\"time_wait\":true,\"handover\":\"TIME_WAIT\",\"handover_hold_ns\":60000000000,"
		  "\"fin_wait2_end\":null,\"tw_overflow\":false,"
		  "\"retrans\":{\"syn\":2,\"synack\":0,\"fin\":0,\"data\":12},"
		  "\"rx_bytes\":5120,\"tx_bytes\":73,\"srtt_us\":750,\"error\":null,"
		  "\"reset_reason\":null,\"truncated\":false,\"complete\":true,"
		  "\"lost_events\":false,\"netns\":4026531840,\"cgroup_id\":7,"
		  "\"cgroup\":\"/system.slice/curl.service\",\"diagnosis\":null}\n");
}

TEST(test_output_conn_json_passive_close)
{
	struct rec r = passive_close();

	CHECK_STR(json_of(&r),
		  JSON_TS "\"start_ts\":\"2023-11-14T22:13:20.023156789Z\",\"sock\":4242,"
			  "\"family\":\"ipv4\",\"laddr\":\"10.0.0.2\",\"lport\":80,"
			  "\"raddr\":\"10.0.0.1\",\"rport\":43210,\"community_id\":\"" CLIENT_CID "\",\"pid\":800,\"tid\":800,"
			  "\"comm\":\"nginx\",\"open\":\"passive\",\"fast_open\":false,\"close\":\"passive\","
			  "\"reset_by\":null,\"conn_state\":\"SF\",\"states\":[{\"state\":\"SYN_RECV\",\"t_ns\":0},"
			  "{\"state\":\"ESTABLISHED\",\"t_ns\":200000},"
			  "{\"state\":\"CLOSE_WAIT\",\"t_ns\":100000000},"
			  "{\"state\":\"LAST_ACK\",\"t_ns\":100100000},"
			  "{\"state\":\"CLOSE\",\"t_ns\":100300000}],"
			  "\"handshake_ns\":200000,\"lifetime_ns\":100300000,\"close_ns\":300000,"
			  JSON_NO_HANDOVER
			  "\"retrans\":{\"syn\":0,\"synack\":1,\"fin\":3,\"data\":0},"
			  JSON_COUNTERS "\"error\":null,\"reset_reason\":null,\"truncated\":false,"
			  "\"complete\":true," JSON_TAIL);
}

TEST(test_output_conn_json_reset_by_peer_has_error_and_no_reason)
{
	struct rec r = reset_by_peer();

	/* reset_reason is set in the record, but only a RST we sent has a reason. */
	rst_reason_set(12, "TCP_ABORT_ON_LINGER");
	CHECK_STR(json_of(&r),
		  JSON_TS "\"start_ts\":\"2023-11-14T22:13:18.122456789Z\"," JSON_CLIENT
			  "\"open\":\"active\",\"fast_open\":false,\"close\":\"reset\",\"reset_by\":\"peer\",\"conn_state\":\"RSTR\","
			  JSON_RESET_STATES
			  "\"handshake_ns\":1000000,\"lifetime_ns\":2001000000,\"close_ns\":null,"
			  JSON_NO_HANDOVER JSON_NO_RETRANS JSON_COUNTERS
			  "\"error\":\"ECONNRESET\",\"reset_reason\":null,\"truncated\":false,"
			  "\"complete\":true," JSON_TAIL);
	rst_reason_set(12, NULL);
}

TEST(test_output_conn_json_reset_by_us_names_the_kernel_reason)
{
	struct rec r = reset_by_us();

	rst_reason_set(11, "TCP_ABORT_ON_CLOSE");
	CHECK_STR(json_of(&r),
		  JSON_TS "\"start_ts\":\"2023-11-14T22:13:18.122456789Z\"," JSON_CLIENT
			  "\"open\":\"active\",\"fast_open\":false,\"close\":\"reset\",\"reset_by\":\"local\",\"conn_state\":\"RSTO\","
			  JSON_RESET_STATES
			  "\"handshake_ns\":1000000,\"lifetime_ns\":2001000000,\"close_ns\":null,"
			  JSON_NO_HANDOVER JSON_NO_RETRANS JSON_COUNTERS
			  "\"error\":null,\"reset_reason\":\"TCP_ABORT_ON_CLOSE\","
			  "\"truncated\":false,"
			  "\"complete\":true," JSON_TAIL);
	rst_reason_set(11, NULL);
}

TEST(test_output_conn_json_reset_reason_without_a_name_is_null)
{
	struct rec r = reset_by_us();

	r.c.reset_reason = 63; /* a kernel newer than the table, or no BTF */
	CHECK_HAS(json_of(&r), ",\"reset_reason\":null,");
	r.c.reset_reason = 60000; /* beyond the table */
	CHECK_HAS(json_of(&r), ",\"reset_reason\":null,");
}

TEST(test_output_conn_json_refused)
{
	struct rec r = refused();

	CHECK_STR(json_of(&r),
		  JSON_TS "\"start_ts\":\"2023-11-14T22:13:20.123336789Z\"," JSON_CLIENT
			  "\"open\":\"active\",\"fast_open\":false,\"close\":\"refused\",\"reset_by\":\"peer\",\"conn_state\":\"REJ\","
			  "\"states\":[{\"state\":\"SYN_SENT\",\"t_ns\":0},"
			  "{\"state\":\"CLOSE\",\"t_ns\":120000}],"
			  "\"handshake_ns\":null,\"lifetime_ns\":120000,\"close_ns\":null,"
			  JSON_NO_HANDOVER JSON_NO_RETRANS
			  "\"rx_bytes\":0,\"tx_bytes\":0,\"srtt_us\":750,"
			  "\"error\":\"ECONNREFUSED\",\"reset_reason\":null,\"truncated\":false,"
			  "\"complete\":true," JSON_TAIL);
}

TEST(test_output_conn_json_timed_out)
{
	struct rec r = timed_out();

	CHECK_STR(json_of(&r),
		  JSON_TS "\"start_ts\":\"2023-11-14T22:11:13.123456789Z\"," JSON_CLIENT
			  "\"open\":\"active\",\"fast_open\":false,\"close\":\"timeout\",\"reset_by\":null,\"conn_state\":\"S0\","
			  "\"states\":[{\"state\":\"SYN_SENT\",\"t_ns\":0},"
			  "{\"state\":\"CLOSE\",\"t_ns\":127000000000}],"
			  "\"handshake_ns\":null,\"lifetime_ns\":127000000000,\"close_ns\":null,"
			  JSON_NO_HANDOVER
			  "\"retrans\":{\"syn\":6,\"synack\":0,\"fin\":0,\"data\":0},"
			  JSON_COUNTERS "\"error\":\"ETIMEDOUT\",\"reset_reason\":null,"
			  "\"truncated\":false,\"complete\":true," JSON_TAIL);
}

TEST(test_output_conn_json_still_open_has_nulls_where_nothing_is_known)
{
	struct rec r = still_open();

	CHECK_STR(json_of(&r),
		  JSON_TS "\"start_ts\":\"2023-11-14T22:13:18.123456789Z\"," JSON_CLIENT
			  "\"open\":\"unknown\",\"fast_open\":false,\"close\":null,\"reset_by\":null,\"conn_state\":\"OTH\","
			  "\"states\":[{\"state\":\"ESTABLISHED\",\"t_ns\":0}],"
			  "\"handshake_ns\":null,\"lifetime_ns\":null,\"close_ns\":null,"
			  JSON_NO_HANDOVER
			  "\"retrans\":{\"syn\":0,\"synack\":0,\"fin\":0,\"data\":1},"
			  "\"rx_bytes\":null,\"tx_bytes\":null,\"srtt_us\":null,\"error\":null,"
			  "\"reset_reason\":null,\"truncated\":false,\"complete\":false,"
			  JSON_TAIL);
}

TEST(test_output_conn_json_fin_wait2_handover_is_not_time_wait)
{
	struct rec r = fin_wait2_handover();

	CHECK_STR(json_of(&r),
		  JSON_TS "\"start_ts\":\"2023-11-14T22:13:19.710956789Z\"," JSON_CLIENT
			  "\"open\":\"active\",\"fast_open\":false,\"close\":\"active\",\"reset_by\":null,\"conn_state\":\"S2\","
			  JSON_ACTIVE_STATES
			  "\"handshake_ns\":1500000,\"lifetime_ns\":412500000,\"close_ns\":500000,"
			  "\"time_wait\":false,\"handover\":\"FIN_WAIT2\","
			  "\"handover_hold_ns\":7500000000,\"fin_wait2_end\":\"waiting\","
			  "\"tw_overflow\":false,"
			  "\"retrans\":{\"syn\":2,\"synack\":0,\"fin\":0,\"data\":12},"
			  JSON_COUNTERS
			  "\"error\":null,\"reset_reason\":null,\"truncated\":false,"
			  "\"complete\":true," JSON_TAIL);
}

TEST(test_output_conn_json_unknown_owner_is_null)
{
	struct rec r = active_close();

	r.c.flags &= ~TW_CONN_OWNER_KNOWN;
	CHECK_HAS(json_of(&r), ",\"rport\":80,\"community_id\":\"" CLIENT_CID "\",\"pid\":null,\"tid\":null,\"comm\":null,"
				  "\"open\":\"active\",");
}

TEST(test_output_conn_json_escapes_hostile_comm)
{
	struct rec r = active_close();

	memcpy(r.c.owner.comm, HOSTILE_COMM, sizeof(HOSTILE_COMM));
	CHECK_HAS(json_of(&r), ",\"pid\":1234,\"tid\":1235,"
				  "\"comm\":\"a\\\"b\\\\c\\u000a\\u001b[31m\\ufffd\","
				  "\"open\":\"active\",");
}

TEST(test_output_conn_json_full_comm_without_nul)
{
	struct rec r = active_close();

	memcpy(r.c.owner.comm, "abcdefghijklmnop", TW_COMM_LEN);
	CHECK_HAS(json_of(&r), ",\"comm\":\"abcdefghijklmnop\",\"open\":");
}

TEST(test_output_conn_json_ipv6_without_brackets)
{
	struct rec r = active_close();

	set_ipv6(&r, db8_1, db8_2);
	r.join.community_id = "1:TZebe/ybIXr8J9lX26/lqPRYGuk=";
	CHECK_HAS(json_of(&r), ",\"sock\":4242,\"family\":\"ipv6\",\"laddr\":\"2001:db8::1\","
				  "\"lport\":51000,\"raddr\":\"2001:db8::2\",\"rport\":443,"
				  "\"community_id\":\"1:TZebe/ybIXr8J9lX26/lqPRYGuk=\",\"pid\":1234,");
}

/* A connect() refused before the kernel chose its local port has no Community ID. */
TEST(test_output_conn_json_community_id_not_known_is_null)
{
	struct rec r = refused();

	r.c.ep.lport = 0;
	r.join.community_id = NULL;
	CHECK_HAS(json_of(&r), ",\"lport\":0,\"raddr\":\"10.0.0.2\",\"rport\":80,"
				  "\"community_id\":null,\"pid\":1234,");
}

TEST(test_output_conn_json_truncated_and_tw_overflow)
{
	struct rec r = active_close();

	r.c.flags |= TW_CONN_TRUNCATED;
	r.c.tw_count = r.c.tw_max;
	r.v.end = CONN_END_CLOSED;
	r.v.tw_overflow = true;
	r.v.handover_hold_ns = -1;
	CHECK_STR(json_of(&r),
		  JSON_TS "\"start_ts\":\"2023-11-14T22:13:19.710956789Z\"," JSON_CLIENT
			  "\"open\":\"active\",\"fast_open\":false,\"close\":\"active\",\"reset_by\":null,\"conn_state\":\"SF\","
			  JSON_ACTIVE_STATES
			  "\"handshake_ns\":1500000,\"lifetime_ns\":412500000,\"close_ns\":500000,"
			  "\"time_wait\":false,\"handover\":null,\"handover_hold_ns\":null,"
			  "\"fin_wait2_end\":null,\"tw_overflow\":true,"
			  "\"retrans\":{\"syn\":2,\"synack\":0,\"fin\":0,\"data\":12},"
			  JSON_COUNTERS
			  "\"error\":null,\"reset_reason\":null,\"truncated\":true,"
			  "\"complete\":true," JSON_TAIL);
}

TEST(test_output_conn_json_error_without_a_name_is_null)
{
	struct rec r = refused();

	r.c.sk_err = 200;
	CHECK_HAS(json_of(&r), ",\"error\":null,\"reset_reason\":null,");
}

TEST(test_output_conn_json_reads_no_step_past_the_arrays)
{
	struct rec r = active_close();
	const char *json, *p;
	int n = 0;

	r.c.nsteps = 200;
	json = json_of(&r);
	for (p = json; (p = strstr(p, "{\"state\":")); p++)
		n++;
	CHECK_INT(n, TW_STEPS_MAX);
}

TEST(test_output_conn_json_cgroup_gone_is_null)
{
	struct rec r = active_close();

	CHECK_HAS(json_with_cgroup(&r, NULL), ",\"cgroup_id\":7,\"cgroup\":null,\"diagnosis\":null}\n");
}

TEST(test_output_conn_json_escapes_cgroup_path)
{
	struct rec r = active_close();

	CHECK_HAS(json_with_cgroup(&r, "/a\"b\\c\n"),
		  ",\"cgroup_id\":7,\"cgroup\":\"/a\\\"b\\\\c\\u000a\",\"diagnosis\":null}\n");
}

TEST(test_output_conn_json_appends_one_line)
{
	struct rec r = active_close();
	const char *nl;

	strbuf_reset(&sb);
	strbuf_adds(&sb, "before\n");
	output_conn_json(&sb, &r.c, &r.v, &r.d, &r.join, TS_MONO, REAL_MINUS_MONO, CGROUP);
	CHECK_STARTS(sb.data, "before\n" JSON_TS);
	nl = strchr(sb.data + strlen("before\n"), '\n');
	CHECK(nl && nl[1] == '\0');
}

/* ---- table ---- */

TEST(test_output_conn_table_header)
{
	strbuf_reset(&sb);
	output_conn_table_header(&sb);
	CHECK_STR(sb.data, "TIME            "
			   "PID     "
			   "COMM             "
			   "LOCAL                                           "
			   "REMOTE                                          "
			   "OPEN    "
			   "CLOSE        "
			   "HS_MS     "
			   "LIFE_MS     "
			   "CLOSE_MS    "
			   "DIAGNOSIS\n");
}

/* The columns every line below shares, up to REMOTE. */
#define TABLE_CURL                                                                                 \
	"22:13:20.123456 "                                                                         \
	"1234    "                                                                                 \
	"curl             "
#define TABLE_CLIENT_ADDRS                                                                         \
	"10.0.0.1:43210                                  "                                         \
	"10.0.0.2:80                                     "

TEST(test_output_conn_table_active_close)
{
	struct rec r = active_close();

	CHECK_STR(table_of(&r), TABLE_CURL TABLE_CLIENT_ADDRS "active  "
							      "active       "
							      "1.500     "
							      "412.500     "
							      "0.500       -\n");
}

TEST(test_output_conn_table_passive_close)
{
	struct rec r = passive_close();

	CHECK_STR(table_of(&r), "22:13:20.123456 "
				"800     "
				"nginx            "
				"10.0.0.2:80                                     "
				"10.0.0.1:43210                                  "
				"passive "
				"passive      "
				"0.200     "
				"100.300     "
				"0.300       -\n");
}

TEST(test_output_conn_table_reset_and_refused_have_dashes_for_what_never_happened)
{
	struct rec reset = reset_by_peer(), ref = refused();

	CHECK_STR(table_of(&reset), TABLE_CURL TABLE_CLIENT_ADDRS "active  "
								  "reset        "
								  "1.000     "
								  "2001.000    "
								  "-           -\n");
	CHECK_STR(table_of(&ref), TABLE_CURL TABLE_CLIENT_ADDRS "active  "
								"refused      "
								"-         "
								"0.120       "
								"-           -\n");
}

TEST(test_output_conn_table_still_open_shows_dash_for_close_and_is_marked)
{
	struct rec r = still_open();

	CHECK_STR(table_of(&r), TABLE_CURL TABLE_CLIENT_ADDRS "unknown "
							      "-            "
							      "-         "
							      "-           "
							      "-           - (still open)\n");
	/* In CLOSE_WAIT at the end: the close is under way, not done. */
	add_step(&r, TW_CLOSE_WAIT, 2 * MS, STEP_PEER_FIN);
	r.v.close = CONN_CLOSE_PASSIVE;
	CHECK_STR(table_of(&r), TABLE_CURL TABLE_CLIENT_ADDRS "unknown "
							      "passive      "
							      "-         "
							      "-           "
							      "-           - (still open)\n");
}

TEST(test_output_conn_table_unknown_owner_is_dashes)
{
	struct rec r = active_close();

	r.c.flags &= ~TW_CONN_OWNER_KNOWN;
	CHECK_STR(table_of(&r), "22:13:20.123456 "
				"-       "
				"-                " TABLE_CLIENT_ADDRS "active  "
				"active       "
				"1.500     "
				"412.500     "
				"0.500       -\n");
}

TEST(test_output_conn_table_escapes_hostile_comm)
{
	struct rec r = active_close();

	memcpy(r.c.owner.comm, HOSTILE_COMM, sizeof(HOSTILE_COMM));
	CHECK_STR(table_of(&r), "22:13:20.123456 "
				"1234    "
				"a\"b\\\\c\\x0a\\x1b[31m\\xff " TABLE_CLIENT_ADDRS "active  "
				"active       "
				"1.500     "
				"412.500     "
				"0.500       -\n");
}

TEST(test_output_conn_table_keeps_a_space_after_a_wide_field)
{
	struct rec r = timed_out();

	memset(r.c.owner.comm, '\x01', TW_COMM_LEN);
	r.v.lifetime_ns = 12345678901 * MS; /* 12345678901.000: wider than LIFE_MS */
	CHECK_STR(table_of(&r), "22:13:20.123456 "
				"1234    "
				"\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01"
				"\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01 "
				TABLE_CLIENT_ADDRS "active  "
				"timeout      "
				"-         "
				"12345678901.000 "
				"-           -\n");
}

TEST(test_output_conn_table_widest_ipv6_address_fits_its_column)
{
	static const __u8 ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rec r = active_close();

	set_ipv6(&r, db8_1, ones);
	r.c.ep.rport = 65535;
	CHECK_STR(table_of(&r), TABLE_CURL "[2001:db8::1]:51000                             "
					   "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535 "
					   "active  "
					   "active       "
					   "1.500     "
					   "412.500     "
					   "0.500       -\n");
}

/* ---- timeline ---- */

#define CURL_HEADER "10.0.0.1:43210 -> 10.0.0.2:80 pid 1234 (curl)"

TEST(test_output_conn_timeline_active_close_with_time_wait)
{
	struct rec r = active_close();

	CHECK_STR(timeline_of(&r, false),
		  "22:13:19.710956 " CURL_HEADER " open active, close active\n"
		  "    +0.000 ms  SYN_SENT       1.500 ms  SYN sent; SYN retransmitted x2\n"
		  "    +1.500 ms  ESTABLISHED  410.500 ms  SYN-ACK received, ACK sent; "
		  "12 data segments retransmitted\n"
		  "  +412.000 ms  FIN_WAIT1      0.250 ms  FIN sent\n"
		  "  +412.250 ms  FIN_WAIT2      0.250 ms  our FIN acknowledged\n"
		  "  +412.500 ms  CLOSE                    TIME_WAIT 60 s (kernel hold)\n"
		  "\n");
}

TEST(test_output_conn_timeline_passive_close)
{
	struct rec r = passive_close();

	CHECK_STR(timeline_of(&r, false),
		  "22:13:20.023156 10.0.0.2:80 -> 10.0.0.1:43210 pid 800 (nginx) "
		  "open passive, close passive\n"
		  "    +0.000 ms  SYN_RECV      0.200 ms  SYN received, SYN-ACK sent; "
		  "SYN-ACK retransmitted x1\n"
		  "    +0.200 ms  ESTABLISHED  99.800 ms  handshake's final ACK received\n"
		  "  +100.000 ms  CLOSE_WAIT    0.100 ms  peer FIN received\n"
		  "  +100.100 ms  LAST_ACK      0.200 ms  FIN sent; FIN retransmitted x3\n"
		  "  +100.300 ms  CLOSE                   final ACK received\n"
		  "\n");
}

TEST(test_output_conn_timeline_fast_open_child_resends_its_syn_ack_while_closing)
{
	struct rec r = fast_open_closed_in_handshake();

	CHECK_STR(timeline_of(&r, false),
		  "22:13:17.120456 10.0.0.2:80 -> 10.0.0.1:43210 pid 800 (nginx) "
		  "open passive, close active\n"
		  "     +0.000 ms  SYN_RECV      2.000 ms  SYN received, accepted at once (Fast "
		  "Open), SYN-ACK sent\n"
		  "     +2.000 ms  FIN_WAIT1  3000.000 ms  FIN sent before the handshake's final ACK "
		  "arrived; SYN-ACK retransmitted x2\n"
		  "  +3002.000 ms  FIN_WAIT2     1.000 ms  our FIN acknowledged\n"
		  "  +3003.000 ms  CLOSE                   TIME_WAIT 60 s (kernel hold)\n"
		  "\n");
}

TEST(test_output_conn_json_fast_open)
{
	struct rec r = fast_open_closed_in_handshake();

	CHECK_HAS(json_of(&r), "\"open\":\"passive\",\"fast_open\":true,\"close\":\"active\",");
	CHECK_HAS(json_of(&r), "\"handshake_ns\":null,\"lifetime_ns\":3003000000,");
	CHECK_HAS(json_of(&r), "\"retrans\":{\"syn\":0,\"synack\":2,\"fin\":0,\"data\":0},");
}

TEST(test_output_conn_timeline_simultaneous_close)
{
	struct rec r = client();

	r.c.retrans[TW_RETRANS_FIN] = 1;
	add_step(&r, TW_SYN_SENT, 0, STEP_SYN_SENT);
	add_step(&r, TW_ESTABLISHED, 1 * MS, STEP_SYNACK_RECEIVED);
	add_step(&r, TW_FIN_WAIT1, 5 * MS, STEP_FIN_SENT);
	add_step(&r, TW_CLOSING, 5100 * US, STEP_FINS_CROSSED);
	add_step(&r, TW_CLOSE, 5200 * US, STEP_TIME_WAIT);
	end_at_report(&r);
	r.v.close = CONN_CLOSE_SIMULTANEOUS;
	r.v.end = CONN_END_TIME_WAIT;
	r.v.handover_hold_ns = 60 * SEC;
	CHECK_STR(timeline_of(&r, false),
		  "22:13:20.118256 " CURL_HEADER " open active, close simultaneous\n"
		  "  +0.000 ms  SYN_SENT     1.000 ms  SYN sent\n"
		  "  +1.000 ms  ESTABLISHED  4.000 ms  SYN-ACK received, ACK sent\n"
		  "  +5.000 ms  FIN_WAIT1    0.100 ms  FIN sent; FIN retransmitted x1\n"
		  "  +5.100 ms  CLOSING      0.100 ms  peer FIN crossed ours (simultaneous close)\n"
		  "  +5.200 ms  CLOSE                  TIME_WAIT 60 s (kernel hold)\n"
		  "\n");
}

TEST(test_output_conn_timeline_reset_by_peer_names_the_error)
{
	struct rec r = reset_by_peer();

	CHECK_STR(timeline_of(&r, false),
		  "22:13:18.122456 " CURL_HEADER " open active, close reset, reset by peer\n"
		  "     +0.000 ms  SYN_SENT        1.000 ms  SYN sent\n"
		  "     +1.000 ms  ESTABLISHED  2000.000 ms  SYN-ACK received, ACK sent\n"
		  "  +2001.000 ms  CLOSE                     RST received from peer; "
		  "error ECONNRESET\n"
		  "\n");
}

TEST(test_output_conn_timeline_reset_by_us_gives_the_kernel_reason)
{
	struct rec r = reset_by_us();

	rst_reason_set(11, "TCP_ABORT_ON_CLOSE");
	CHECK_STR(timeline_of(&r, false),
		  "22:13:18.122456 " CURL_HEADER " open active, close reset, "
		  "reset by us (TCP_ABORT_ON_CLOSE)\n"
		  "     +0.000 ms  SYN_SENT        1.000 ms  SYN sent\n"
		  "     +1.000 ms  ESTABLISHED  2000.000 ms  SYN-ACK received, ACK sent\n"
		  "  +2001.000 ms  CLOSE                     RST sent by us\n"
		  "\n");
	rst_reason_set(11, NULL);
	CHECK_HAS(timeline_of(&r, false), ", close reset, reset by us\n");
}

TEST(test_output_conn_timeline_refused)
{
	struct rec r = refused();

	CHECK_STR(timeline_of(&r, false),
		  "22:13:20.123336 " CURL_HEADER " open active, close refused, reset by peer\n"
		  "  +0.000 ms  SYN_SENT  0.120 ms  SYN sent\n"
		  "  +0.120 ms  CLOSE               connection refused; error ECONNREFUSED\n"
		  "\n");
}

TEST(test_output_conn_timeline_timed_out_counts_syn_retransmits)
{
	struct rec r = timed_out();

	CHECK_STR(timeline_of(&r, false),
		  "22:11:13.123456 " CURL_HEADER " open active, close timeout\n"
		  "       +0.000 ms  SYN_SENT  127000.000 ms  SYN sent; SYN retransmitted x6\n"
		  "  +127000.000 ms  CLOSE                    timed out; error ETIMEDOUT\n"
		  "\n");
}

TEST(test_output_conn_timeline_abandoned_connect_did_not_time_out)
{
	struct rec r = abandoned();

	CHECK_STR(timeline_of(&r, false),
		  "22:13:19.823456 " CURL_HEADER " open active, close timeout\n"
		  "    +0.000 ms  SYN_SENT  300.000 ms  SYN sent\n"
		  "  +300.000 ms  CLOSE                 connect abandoned by the application\n"
		  "\n");
	CHECK_HAS(timeline_of(&r, true), "\x1b[31mconnect abandoned by the application\x1b[0m");
}

TEST(test_output_conn_timeline_still_open)
{
	struct rec r = still_open();

	CHECK_STR(timeline_of(&r, false),
		  "22:13:18.123456 " CURL_HEADER " open unknown (still open)\n"
		  "  +0.000 ms  ESTABLISHED  already open when tracing began; "
		  "1 data segment retransmitted\n"
		  "\n");
}

TEST(test_output_conn_timeline_fin_wait2_handover_says_how_long_the_kernel_waits)
{
	struct rec r = fin_wait2_handover();
	const char *text = timeline_of(&r, false);

	CHECK_HAS(text, "\n  +412.500 ms  CLOSE                    closed by the application; "
			   "the kernel waits up to 7.500 s for the peer's FIN\n\n");
	r.v.handover_hold_ns = -1;
	text = timeline_of(&r, false);
	CHECK_HAS(text, "  CLOSE                    closed by the application; "
			   "the kernel waits for the peer's FIN\n\n");
}

TEST(test_output_conn_timeline_time_wait_without_a_known_hold)
{
	struct rec r = active_close();

	r.v.handover_hold_ns = -1;
	CHECK_HAS(timeline_of(&r, false), "  CLOSE                    TIME_WAIT (kernel hold)\n");
}

/* A recording can hold steps out of order: the time between them shows negative, not wrapped. */
TEST(test_output_conn_timeline_step_before_the_last_shows_a_negative_duration)
{
	struct rec r = active_close();

	r.c.step_ns[2] = 1250 * US; /* FIN_WAIT1 before ESTABLISHED's 1.500 ms */
	CHECK_HAS(timeline_of(&r, false), "ESTABLISHED   -0.250 ms");
}

TEST(test_output_conn_timeline_unknown_owner)
{
	struct rec r = refused();

	r.c.flags &= ~TW_CONN_OWNER_KNOWN;
	CHECK_STR(timeline_of(&r, false),
		  "22:13:20.123336 10.0.0.1:43210 -> 10.0.0.2:80 pid - "
		  "open active, close refused, reset by peer\n"
		  "  +0.000 ms  SYN_SENT  0.120 ms  SYN sent\n"
		  "  +0.120 ms  CLOSE               connection refused; error ECONNREFUSED\n"
		  "\n");
}

TEST(test_output_conn_timeline_escapes_hostile_comm)
{
	struct rec r = refused();

	memcpy(r.c.owner.comm, HOSTILE_COMM, sizeof(HOSTILE_COMM));
	CHECK_STR(timeline_of(&r, false),
		  "22:13:20.123336 10.0.0.1:43210 -> 10.0.0.2:80 pid 1234 "
		  "(a\"b\\\\c\\x0a\\x1b[31m\\xff) open active, close refused, reset by peer\n"
		  "  +0.000 ms  SYN_SENT  0.120 ms  SYN sent\n"
		  "  +0.120 ms  CLOSE               connection refused; error ECONNREFUSED\n"
		  "\n");
}

TEST(test_output_conn_timeline_ipv6_in_brackets)
{
	struct rec r = refused();

	set_ipv6(&r, db8_1, db8_2);
	CHECK_STR(timeline_of(&r, false),
		  "22:13:20.123336 [2001:db8::1]:51000 -> [2001:db8::2]:443 pid 1234 (curl) "
		  "open active, close refused, reset by peer\n"
		  "  +0.000 ms  SYN_SENT  0.120 ms  SYN sent\n"
		  "  +0.120 ms  CLOSE               connection refused; error ECONNREFUSED\n"
		  "\n");
}

TEST(test_output_conn_timeline_truncated_puts_retransmits_of_a_lost_step_on_the_last)
{
	struct rec r = client();

	/* The kernel side kept 8 steps, the last replaced by the final ->CLOSE. */
	r.c.flags |= TW_CONN_TRUNCATED | TW_CONN_PEER_FIN;
	r.c.retrans[TW_RETRANS_FIN] = 2;
	add_step(&r, TW_SYN_SENT, 0, STEP_SYN_SENT);
	add_step(&r, TW_ESTABLISHED, 1 * MS, STEP_SYNACK_RECEIVED);
	add_step(&r, TW_CLOSE_WAIT, 2 * MS, STEP_PEER_FIN);
	add_step(&r, TW_ESTABLISHED, 3 * MS, STEP_OTHER);
	add_step(&r, TW_CLOSE_WAIT, 4 * MS, STEP_PEER_FIN);
	add_step(&r, TW_ESTABLISHED, 5 * MS, STEP_OTHER);
	add_step(&r, TW_CLOSE_WAIT, 6 * MS, STEP_PEER_FIN);
	add_step(&r, TW_CLOSE, 8 * MS, STEP_CLOSED);
	end_at_report(&r);
	r.v.close = CONN_CLOSE_PASSIVE;
	r.v.end = CONN_END_CLOSED;
	CHECK_STR(timeline_of(&r, false),
		  "22:13:20.115456 " CURL_HEADER " open active, close passive "
		  "(timeline truncated)\n"
		  "  +0.000 ms  SYN_SENT     1.000 ms  SYN sent\n"
		  "  +1.000 ms  ESTABLISHED  1.000 ms  SYN-ACK received, ACK sent\n"
		  "  +2.000 ms  CLOSE_WAIT   1.000 ms  peer FIN received\n"
		  "  +3.000 ms  ESTABLISHED  1.000 ms  a transition outside the textbook\n"
		  "  +4.000 ms  CLOSE_WAIT   1.000 ms  peer FIN received\n"
		  "  +5.000 ms  ESTABLISHED  1.000 ms  a transition outside the textbook\n"
		  "  +6.000 ms  CLOSE_WAIT   2.000 ms  peer FIN received\n"
		  "  +8.000 ms  CLOSE                  closed; FIN retransmitted x2\n"
		  "\n");
}

TEST(test_output_conn_timeline_tw_overflow_and_unnamed_error_on_the_last_step)
{
	struct rec r = active_close();

	r.c.tw_count = r.c.tw_max = 4096;
	r.c.sk_err = 200;
	r.v.end = CONN_END_CLOSED;
	r.v.tw_overflow = true;
	r.v.handover_hold_ns = -1;
	r.v.steps[4] = STEP_CLOSED;
	CHECK_HAS(timeline_of(&r, false),
		     "\n  +412.500 ms  CLOSE                    closed; error 200; "
		     "no TIME_WAIT: tcp_max_tw_buckets (4096) reached\n\n");
	r.c.flags &= ~TW_CONN_COUNTERS_KNOWN;
	CHECK_HAS(timeline_of(&r, false), "; no TIME_WAIT: tcp_max_tw_buckets reached\n\n");
}

TEST(test_output_conn_timeline_step_event_it_does_not_know_is_a_question_mark)
{
	struct rec r = still_open();

	r.v.steps[0] = (enum conn_step_event)99;
	CHECK_STR(timeline_of(&r, false),
		  "22:13:18.123456 " CURL_HEADER " open unknown (still open)\n"
		  "  +0.000 ms  ESTABLISHED  ?; 1 data segment retransmitted\n"
		  "\n");
}

TEST(test_output_conn_timeline_without_steps_is_the_header_alone)
{
	struct rec r = still_open();

	r.c.nsteps = 0;
	CHECK_STR(timeline_of(&r, false), "22:13:18.123456 " CURL_HEADER
					  " open unknown (still open)\n\n");
}

TEST(test_output_conn_timeline_in_color)
{
	struct rec r = refused();

	r.c.retrans[TW_RETRANS_SYN] = 1;
	CHECK_STR(timeline_of(&r, true),
		  "22:13:20.123336 " CURL_HEADER " open active, close refused, "
		  "\x1b[31mreset by peer\x1b[0m\n"
		  "  \x1b[2m+0.000 ms\x1b[0m  \x1b[1mSYN_SENT\x1b[0m  0.120 ms  SYN sent; "
		  "\x1b[33mSYN retransmitted x1\x1b[0m\n"
		  "  \x1b[2m+0.120 ms\x1b[0m  \x1b[1mCLOSE\x1b[0m               "
		  "\x1b[31mconnection refused\x1b[0m; \x1b[31merror ECONNREFUSED\x1b[0m\n"
		  "\n");
}

TEST(test_output_conn_timeline_escape_codes_only_in_color)
{
	struct rec recs[] = {
		active_close(), passive_close(), reset_by_peer(), reset_by_us(),
		refused(),	timed_out(),	 abandoned(),	  still_open(),
		fin_wait2_handover(),
	};
	size_t i;

	rst_reason_set(11, "TCP_ABORT_ON_CLOSE");
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		if (strchr(timeline_of(&recs[i], false), '\x1b'))
			unit_fail(__FILE__, __LINE__, "record %zu: escape code without color", i);
		if (!strstr(timeline_of(&recs[i], true), "\x1b[1m"))
			unit_fail(__FILE__, __LINE__, "record %zu: no escape code in color", i);
	}
	rst_reason_set(11, NULL);
}

/* ---- diagnoses ---- */

static const struct diag_phase close_wait_diag = {
	.found = true,
	.state = TW_CLOSE_WAIT,
	.ns = 4200 * MS,
	.cause = DIAG_LOCAL_APP_DID_NOT_CLOSE,
	.srtt_ns = -1,
};

static const struct diag_phase syn_diag = {
	.found = true,
	.state = TW_SYN_SENT,
	.ns = 3 * SEC,
	.cause = DIAG_SYN_RETRANSMITTED,
	.retransmits = 2,
	.srtt_ns = -1,
};

#define CLOSE_WAIT_TEXT                                                                            \
	"CLOSE_WAIT 4.200 s: the local application did not close() after the peer's FIN"
#define SYN_TEXT "SYN_SENT 3.000 s: our SYN went unanswered, retransmitted 2 times"

TEST(test_output_conn_json_diagnosis_of_the_close)
{
	struct rec r = passive_close();

	r.d.close = close_wait_diag;
	CHECK_HAS(json_of(&r), ",\"cgroup_id\":7,\"cgroup\":\"/system.slice/curl.service\","
			       "\"diagnosis\":{\"handshake\":null,"
			       "\"close\":{\"state\":\"CLOSE_WAIT\",\"ns\":4200000000,"
			       "\"cause\":\"local_app_did_not_close\",\"retransmits\":0,"
			       "\"text\":\"" CLOSE_WAIT_TEXT "\"}}}\n");
}

TEST(test_output_conn_json_diagnosis_of_both_phases)
{
	struct rec r = active_close();

	r.d.handshake = syn_diag;
	r.d.close = close_wait_diag;
	CHECK_HAS(json_of(&r), ",\"diagnosis\":{\"handshake\":{\"state\":\"SYN_SENT\","
			       "\"ns\":3000000000,\"cause\":\"syn_retransmitted\","
			       "\"retransmits\":2,\"text\":\"" SYN_TEXT "\"},"
			       "\"close\":{\"state\":\"CLOSE_WAIT\",");
	r.d.close.found = false;
	CHECK_HAS(json_of(&r), "\"text\":\"" SYN_TEXT "\"},\"close\":null}}\n");
}

TEST(test_output_conn_json_learned_fin_wait2_end)
{
	struct rec r = fin_wait2_handover();

	r.v.fin_wait2_end = CONN_FW2_PEER_FIN;
	r.v.fin_wait2_end_ns = 1412500 * US;
	CHECK_HAS(json_of(&r), ",\"handover_hold_ns\":7500000000,\"fin_wait2_end\":\"peer_fin\","
			       "\"tw_overflow\":false,");
}

TEST(test_output_conn_table_diagnosis_is_the_last_column)
{
	struct rec r = active_close();

	r.d.close = close_wait_diag;
	CHECK_STR(table_of(&r), TABLE_CURL TABLE_CLIENT_ADDRS "active  "
							      "active       "
							      "1.500     "
							      "412.500     "
							      "0.500       " CLOSE_WAIT_TEXT "\n");
	r.d.handshake = syn_diag;
	CHECK_HAS(table_of(&r), "0.500       " SYN_TEXT "; " CLOSE_WAIT_TEXT "\n");
	r.d.close.found = false;
	CHECK_HAS(table_of(&r), "0.500       " SYN_TEXT "\n");
}

TEST(test_output_conn_timeline_diagnosis_lines_under_the_steps)
{
	struct rec r = passive_close();

	r.d.handshake = syn_diag;
	r.d.close = close_wait_diag;
	CHECK_HAS(timeline_of(&r, false), "  CLOSE                   final ACK received\n"
					  "  diagnosis: " SYN_TEXT "\n"
					  "  diagnosis: " CLOSE_WAIT_TEXT "\n"
					  "\n");
	CHECK_HAS(timeline_of(&r, true), "\n  \x1b[1mdiagnosis:\x1b[0m \x1b[33m" SYN_TEXT
					 "\x1b[0m\n  \x1b[1mdiagnosis:\x1b[0m \x1b[33m");
	r.d.handshake.found = false;
	CHECK_HAS(timeline_of(&r, false), "final ACK received\n"
					  "  diagnosis: " CLOSE_WAIT_TEXT "\n\n");
}

TEST(test_output_conn_timeline_fin_wait2_handover_with_its_learned_end)
{
	static const struct {
		enum conn_fin_wait2_end end;
		const char *words;
	} ends[] = {
		{ CONN_FW2_PEER_FIN, "the peer's FIN came 1.250 s later" },
		{ CONN_FW2_PEER_RESET, "the peer reset it 1.250 s later" },
		{ CONN_FW2_LOCAL_RESET, "the peer sent data 1.250 s later and was reset" },
		{ CONN_FW2_TIMEOUT, "no FIN from the peer within 1.250 s: dropped" },
	};
	struct rec r = fin_wait2_handover();
	char want[200];
	size_t i;

	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		r.v.fin_wait2_end = ends[i].end;
		r.v.fin_wait2_end_ns = (412500 + 1250000) * US;
		snprintf(want, sizeof(want),
			 "  +412.500 ms  CLOSE                    closed by the application; "
			 "%s\n\n",
			 ends[i].words);
		CHECK_HAS(timeline_of(&r, false), want);
	}
}

TEST(test_output_conn_json_lost_events)
{
	struct rec r = active_close();

	r.c.flags |= TW_CONN_LOST_EVENTS;
	CHECK_HAS(json_of(&r), "\"complete\":true,\"lost_events\":true,\"netns\":");
}

TEST(test_output_conn_table_marks_lost_events_after_the_diagnosis)
{
	struct rec r = active_close(), ref = refused();

	r.c.flags |= TW_CONN_LOST_EVENTS;
	CHECK_STR(table_of(&r), TABLE_CURL TABLE_CLIENT_ADDRS "active  "
							      "active       "
							      "1.500     "
							      "412.500     "
							      "0.500       "
							      "- (events lost)\n");
	ref.c.flags |= TW_CONN_LOST_EVENTS;
	CHECK_STR(table_of(&ref), TABLE_CURL TABLE_CLIENT_ADDRS "active  "
								"refused      "
								"-         "
								"0.120       "
								"-           "
								"- (events lost)\n");
}

TEST(test_output_conn_timeline_marks_lost_events_in_the_header)
{
	struct rec r = still_open();

	r.c.flags |= TW_CONN_LOST_EVENTS | TW_CONN_TRUNCATED;
	CHECK_STARTS(timeline_of(&r, false), "22:13:18.123456 " CURL_HEADER
			     " open unknown (still open) (timeline truncated) (events lost)\n"
			     "  +0.000 ms  ESTABLISHED  ");
}
