// SPDX-License-Identifier: GPL-2.0
#include "output_conn.h"

#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "digits.h"
#include "errno_name.h"
#include "json.h"
#include "json_fields.h"
#include "text_fields.h"
#include "rst_reason.h"
#include "tcp_state.h"
#include "timefmt.h"

/* After a connection whose record may be missing a part (TW_CONN_LOST_EVENTS). */
#define LOST_EVENTS_MARK "(events lost)"
#define STILL_OPEN_MARK "(still open)"

/*
 * ns as ms with 3 decimals, from any int64_t: "-9223372036854.775" at most,
 * 19 bytes with the NUL. Nothing truncates: this is the only bound.
 */
#define MS_STRLEN 24

/* ---- shared by the three formats ---- */

static bool owner_known(const struct tw_conn *c)
{
	return c->flags & TW_CONN_OWNER_KNOWN;
}

/* The kernel's reason for the RST we sent; only a RST we sent has one. */
static const char *reset_reason_of(const struct tw_conn *c)
{
	return (c->flags & TW_CONN_RESET_SENT) ? rst_reason_name(c->reset_reason) : NULL;
}

/* "412.000": milliseconds to the µs, in integers so that no rounding shows. */
static void format_ms(char out[MS_STRLEN], int64_t ns)
{
	uint64_t abs = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

	if (ns < 0)
		*out++ = '-';
	out = digits_write(out, abs / 1000000);
	*out++ = '.';
	*digits_write_padded(out, (uint32_t)(abs / 1000 % 1000), 3) = '\0';
}

/* "60" or "3.500": seconds, with ms only when there are some. */
static void format_seconds(char out[MS_STRLEN], int64_t ns)
{
	uint64_t ms = (uint64_t)ns / 1000000;

	out = digits_write(out, ms / 1000);
	if (ms % 1000) {
		*out++ = '.';
		out = digits_write_padded(out, (uint32_t)(ms % 1000), 3);
	}
	*out = '\0';
}

/* ---- JSON ---- */

/* The verdict's durations and byte counts: -1 where they do not apply. */
APPEND_INLINE void json_ns_or_null(struct strbuf *sb, const char *key, int64_t ns)
{
	json_add_u64_or_null(sb, key, ns >= 0, (uint64_t)ns);
}

static void json_states(struct strbuf *sb, const struct tw_conn *c)
{
	unsigned int i, n = (unsigned int)conn_steps(c);

	strbuf_adds(sb, "\"states\":[");
	for (i = 0; i < n; i++) {
		if (i)
			strbuf_addc(sb, ',');
		strbuf_adds(sb, "{\"state\":");
		json_add_quoted(sb, tcp_state_name(c->step_state[i]), ',');
		strbuf_adds(sb, "\"t_ns\":");
		strbuf_add_u64(sb, c->step_ns[i]);
		strbuf_addc(sb, '}');
	}
	strbuf_adds(sb, "],");
}

static void json_retrans(struct strbuf *sb, const struct tw_conn *c)
{
	strbuf_adds(sb, "\"retrans\":{");
	json_add_u64(sb, "syn", c->retrans[TW_RETRANS_SYN]);
	json_add_u64(sb, "synack", c->retrans[TW_RETRANS_SYNACK]);
	json_add_u64(sb, "fin", c->retrans[TW_RETRANS_FIN]);
	json_add_key(sb, "data");
	strbuf_add_u64(sb, c->retrans[TW_RETRANS_DATA]);
	strbuf_adds(sb, "},");
}

static void json_counters(struct strbuf *sb, const struct tw_conn *c,
			  const struct conn_verdict *v)
{
	json_ns_or_null(sb, "rx_bytes", v->rx_bytes);
	json_ns_or_null(sb, "tx_bytes", v->tx_bytes);
	json_add_u64_or_null(sb, "srtt_us", c->flags & TW_CONN_COUNTERS_KNOWN, c->srtt_us);
}

/* {"state":"CLOSE_WAIT","ns":N,"cause":"...","retransmits":N,"text":"..."}, or null. */
static void json_diag_phase(struct strbuf *sb, const char *key, const struct diag_phase *p)
{
	struct strbuf text = { 0 };

	json_add_key(sb, key);
	if (!p->found) {
		strbuf_adds(sb, "null");
		return;
	}
	strbuf_addc(sb, '{');
	json_add_name_or_null(sb, "state", tcp_state_name(p->state));
	json_ns_or_null(sb, "ns", p->ns);
	json_add_name_or_null(sb, "cause", diagnosis_cause_name(p->cause));
	json_add_u64(sb, "retransmits", p->retransmits);
	diagnosis_add_text(&text, p);
	json_add_key(sb, "text");
	json_add_string(sb, text.data, text.len);
	strbuf_free(&text);
	strbuf_addc(sb, '}');
}

/* "diagnosis":null when neither phase is remarkable, else both phases, each maybe null. */
static void json_diagnosis(struct strbuf *sb, const struct diagnosis *d)
{
	json_add_key(sb, "diagnosis");
	if (!d->handshake.found && !d->close.found) {
		strbuf_adds(sb, "null");
		return;
	}
	strbuf_addc(sb, '{');
	json_diag_phase(sb, "handshake", &d->handshake);
	strbuf_addc(sb, ',');
	json_diag_phase(sb, "close", &d->close);
	strbuf_addc(sb, '}');
}

void output_conn_json(struct strbuf *sb, const struct tw_conn *c, const struct conn_verdict *v,
		      const struct diagnosis *d, const struct conn_join *join,
		      uint64_t ts_mono_ns, int64_t real_minus_mono_ns, const char *cgroup)
{
	strbuf_adds(sb, "{\"type\":\"conn\",");
	json_add_time(sb, "ts", timefmt_unix_ns(ts_mono_ns, real_minus_mono_ns));
	json_add_time(sb, "start_ts", timefmt_unix_ns(c->start_ns, real_minus_mono_ns));
	json_add_u64(sb, "sock", c->cookie);
	json_add_endpoints(sb, &c->ep);
	json_add_name_or_null(sb, "community_id", join->community_id);
	json_add_owner(sb, &c->owner, owner_known(c));
	json_add_name_or_null(sb, "open", conn_open_name(v->open));
	json_add_bool(sb, "fast_open", c->flags & TW_CONN_FAST_OPEN);
	json_add_name_or_null(sb, "close", conn_close_name(v->close));
	json_add_name_or_null(sb, "reset_by", conn_reset_by_name(v->reset_by));
	json_add_name_or_null(sb, "conn_state", join->conn_state);
	json_states(sb, c);
	json_ns_or_null(sb, "handshake_ns", v->handshake_ns);
	json_ns_or_null(sb, "lifetime_ns", v->lifetime_ns);
	json_ns_or_null(sb, "close_ns", v->close_ns);
	json_add_bool(sb, "time_wait", v->end == CONN_END_TIME_WAIT);
	json_add_name_or_null(sb, "handover", conn_handover_name(v->end));
	json_ns_or_null(sb, "handover_hold_ns", v->handover_hold_ns);
	json_add_name_or_null(sb, "fin_wait2_end", conn_fin_wait2_end_name(v->fin_wait2_end));
	json_add_bool(sb, "tw_overflow", v->tw_overflow);
	json_retrans(sb, c);
	json_counters(sb, c, v);
	json_add_name_or_null(sb, "error", errno_name(c->sk_err));
	json_add_name_or_null(sb, "reset_reason", reset_reason_of(c));
	json_add_bool(sb, "truncated", c->flags & TW_CONN_TRUNCATED);
	json_add_bool(sb, "complete", v->complete);
	json_add_bool(sb, "lost_events", c->flags & TW_CONN_LOST_EVENTS);
	json_add_u64(sb, "netns", c->netns);
	json_add_cgroup(sb, c->cgroup_id, cgroup);
	json_diagnosis(sb, d);
	strbuf_adds(sb, "}\n");
}

/* ---- table ---- */

/*
 * Column widths, the separating space included. An address column fits
 * [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535 (47); CLOSE fits "simultaneous".
 */
enum {
	COL_TIME = 16,
	COL_ADDR = 48,
	COL_OPEN = 8,
	COL_CLOSE = 13,
	COL_HS = 10,
	COL_LIFE = 12,
	COL_CLOSE_MS = 12,
};

static void add_ms_or_dash(struct strbuf *sb, int64_t ns)
{
	char ms[MS_STRLEN];

	if (ns < 0) {
		strbuf_addc(sb, '-');
		return;
	}
	format_ms(ms, ns);
	strbuf_adds(sb, ms);
}

static void add_name_or_dash(struct strbuf *sb, const char *name)
{
	strbuf_adds(sb, name ? name : "-");
}

void output_conn_table_header(struct strbuf *sb)
{
	strbuf_addf(sb, "%-*s%-*s%-*s%-*s%-*s%-*s%-*s%-*s%-*s%-*s%s\n", COL_TIME, "TIME",
		    TEXT_COL_PID, "PID", TEXT_COL_COMM, "COMM", COL_ADDR, "LOCAL", COL_ADDR,
		    "REMOTE", COL_OPEN, "OPEN", COL_CLOSE, "CLOSE", COL_HS, "HS_MS", COL_LIFE,
		    "LIFE_MS", COL_CLOSE_MS, "CLOSE_MS", "DIAGNOSIS");
}

static size_t table_endpoints(struct strbuf *sb, const struct tw_endpoints *ep, size_t start)
{
	char addr[ADDR_STRLEN];

	addr_format_port(addr, ep->family, ep->laddr, ep->lport);
	strbuf_adds(sb, addr);
	start = text_end_column(sb, start, COL_ADDR);
	addr_format_port(addr, ep->family, ep->raddr, ep->rport);
	strbuf_adds(sb, addr);
	return text_end_column(sb, start, COL_ADDR);
}

/* The handshake's diagnosis, then the close's, or "-" when neither was remarkable. */
static void table_diagnosis(struct strbuf *sb, const struct diagnosis *d)
{
	if (d->handshake.found)
		diagnosis_add_text(sb, &d->handshake);
	if (d->handshake.found && d->close.found)
		strbuf_adds(sb, "; ");
	if (d->close.found)
		diagnosis_add_text(sb, &d->close);
	if (!d->handshake.found && !d->close.found)
		strbuf_addc(sb, '-');
}

/*
 * CLOSE shows "-" for a connection not closing yet (CONN_CLOSE_NONE), as the
 * durations that do not apply yet do. One still open when tracing ended is
 * marked at the end of its line, as on its timeline: a close under way
 * (CLOSE_WAIT: "passive") would otherwise read as done.
 */
void output_conn_table(struct strbuf *sb, const struct tw_conn *c, const struct conn_verdict *v,
		       const struct diagnosis *d, uint64_t ts_mono_ns, int64_t real_minus_mono_ns)
{
	size_t start = sb->len;

	timefmt_clock(sb, timefmt_unix_ns(ts_mono_ns, real_minus_mono_ns));
	start = text_end_column(sb, start, COL_TIME);
	start = text_add_owner(sb, &c->owner, owner_known(c), start);
	start = table_endpoints(sb, &c->ep, start);
	add_name_or_dash(sb, conn_open_name(v->open));
	start = text_end_column(sb, start, COL_OPEN);
	add_name_or_dash(sb, v->close == CONN_CLOSE_NONE ? NULL : conn_close_name(v->close));
	start = text_end_column(sb, start, COL_CLOSE);
	add_ms_or_dash(sb, v->handshake_ns);
	start = text_end_column(sb, start, COL_HS);
	add_ms_or_dash(sb, v->lifetime_ns);
	start = text_end_column(sb, start, COL_LIFE);
	add_ms_or_dash(sb, v->close_ns);
	text_end_column(sb, start, COL_CLOSE_MS);
	table_diagnosis(sb, d);
	if (!v->complete)
		strbuf_adds(sb, " " STILL_OPEN_MARK);
	if (c->flags & TW_CONN_LOST_EVENTS)
		strbuf_adds(sb, " " LOST_EVENTS_MARK);
	strbuf_addc(sb, '\n');
}

/* ---- timeline ---- */

#define SGR_BOLD "\x1b[1m"
#define SGR_DIM "\x1b[2m"
#define SGR_RED "\x1b[31m"
#define SGR_YELLOW "\x1b[33m"
#define SGR_RESET "\x1b[0m"

/* What the timeline needs to lay out its steps. */
struct timeline {
	const struct tw_conn *c;
	const struct conn_verdict *v;
	bool color;
	unsigned int n;				/* steps */
	unsigned int note_step[TW_RETRANS_MAX]; /* the step each retransmission note goes on */
	int w_offset, w_state, w_dur;		/* column widths */
};

/* Colour on: SGR codes around the text; off: none at all. */
static void sgr_begin(struct strbuf *sb, bool color, const char *sgr)
{
	if (color && sgr)
		strbuf_adds(sb, sgr);
}

static void sgr_end(struct strbuf *sb, bool color, const char *sgr)
{
	if (color && sgr)
		strbuf_adds(sb, SGR_RESET);
}

static void add_sgr(struct strbuf *sb, bool color, const char *sgr, const char *text)
{
	sgr_begin(sb, color, sgr);
	strbuf_adds(sb, text);
	sgr_end(sb, color, sgr);
}

static void add_spaces(struct strbuf *sb, int n)
{
	if (n > 0)
		strbuf_add_spaces(sb, (size_t)n);
}

/* Words as they are, cut to fit out's size. */
static void copy_words(char *out, size_t size, const char *words)
{
	size_t n = strnlen(words, size - 1);

	memcpy(out, words, n);
	out[n] = '\0';
}

static const char *const step_words[] = {
	[STEP_SEEN] = "already open when tracing began",
	[STEP_SYN_SENT] = "SYN sent",
	[STEP_SYN_RECEIVED] = "SYN received, SYN-ACK sent",
	[STEP_FAST_OPEN_SYN_RECEIVED] = "SYN received, accepted at once (Fast Open), SYN-ACK sent",
	[STEP_SYNACK_RECEIVED] = "SYN-ACK received, ACK sent",
	[STEP_FAST_OPEN_SYNACK_RECEIVED] = "SYN-ACK received, the SYN's data acknowledged "
					   "(Fast Open), ACK sent",
	[STEP_ACK_RECEIVED] = "handshake's final ACK received",
	[STEP_FIN_SENT] = "FIN sent",
	[STEP_FIN_SENT_IN_HANDSHAKE] = "FIN sent before the handshake's final ACK arrived",
	[STEP_FIN_ACKED] = "our FIN acknowledged",
	[STEP_PEER_FIN] = "peer FIN received",
	[STEP_FINS_CROSSED] = "peer FIN crossed ours (simultaneous close)",
	[STEP_LAST_FIN_SENT] = "FIN sent",
	[STEP_FINAL_ACK] = "final ACK received",
	[STEP_ABORTED_FIN_UNACKED] = "closed by the application before our FIN was acknowledged "
				     "(no RST in this state)",
	[STEP_RESET_SENT] = "RST sent by us",
	[STEP_RESET_RECEIVED] = "RST received from peer",
	[STEP_REFUSED] = "connection refused",
	[STEP_TIMEOUT] = "timed out",
	[STEP_CONNECT_ABANDONED] = "connect abandoned by the application",
	[STEP_CLOSED] = "closed",
	[STEP_OTHER] = "a transition outside the textbook",
};

#define FIN_WAIT2_WORDS "closed by the application; "

/* A FIN_WAIT2 hand-over, and how it ended after `after_ns` where that was learned. */
static void format_fin_wait2_words(char *out, size_t size, const struct conn_verdict *v,
				   int64_t after_ns)
{
	char secs[MS_STRLEN] = "";

	if (v->fin_wait2_end_ns >= 0)
		format_seconds(secs, after_ns);
	else if (v->handover_hold_ns >= 0)
		format_seconds(secs, v->handover_hold_ns);
	if (v->fin_wait2_end_ns >= 0 && v->fin_wait2_end == CONN_FW2_PEER_FIN)
		snprintf(out, size, FIN_WAIT2_WORDS "the peer's FIN came %s s later", secs);
	else if (v->fin_wait2_end_ns >= 0 && v->fin_wait2_end == CONN_FW2_PEER_RESET)
		snprintf(out, size, FIN_WAIT2_WORDS "the peer reset it %s s later", secs);
	else if (v->fin_wait2_end_ns >= 0 && v->fin_wait2_end == CONN_FW2_LOCAL_RESET)
		snprintf(out, size, FIN_WAIT2_WORDS "the peer sent data %s s later and was reset",
			 secs);
	else if (v->fin_wait2_end_ns >= 0)
		snprintf(out, size, FIN_WAIT2_WORDS "no FIN from the peer within %s s: dropped",
			 secs);
	else if (v->handover_hold_ns >= 0)
		snprintf(out, size,
			 FIN_WAIT2_WORDS "the kernel waits up to %s s for the peer's FIN", secs);
	else
		snprintf(out, size, FIN_WAIT2_WORDS "the kernel waits for the peer's FIN");
}

/* The words for a step; a TIME_WAIT hand-over says how long the kernel holds on. */
static void format_step_words(char *out, size_t size, enum conn_step_event ev, int64_t hold_ns)
{
	char secs[MS_STRLEN] = "";

	if (hold_ns >= 0)
		format_seconds(secs, hold_ns);
	if (ev == STEP_TIME_WAIT && hold_ns >= 0)
		snprintf(out, size, "TIME_WAIT %s s (kernel hold)", secs);
	else if (ev == STEP_TIME_WAIT)
		copy_words(out, size, "TIME_WAIT (kernel hold)");
	else if ((unsigned int)ev < sizeof(step_words) / sizeof(step_words[0]) && step_words[ev])
		copy_words(out, size, step_words[ev]);
	else
		copy_words(out, size, "?");
}

static bool step_is_failure(enum conn_step_event ev)
{
	return ev == STEP_RESET_SENT || ev == STEP_RESET_RECEIVED || ev == STEP_REFUSED ||
	       ev == STEP_TIMEOUT || ev == STEP_ABORTED_FIN_UNACKED || ev == STEP_CONNECT_ABANDONED;
}

/* The retransmission counter that belongs to a step in `state`, or -1. */
static int retrans_kind_of(unsigned int state)
{
	switch (state) {
	case TW_SYN_SENT:
		return TW_RETRANS_SYN;
	case TW_SYN_RECV:
		return TW_RETRANS_SYNACK;
	case TW_ESTABLISHED:
		return TW_RETRANS_DATA;
	case TW_FIN_WAIT1: /* our FIN went first */
	case TW_LAST_ACK:  /* our FIN went second */
		return TW_RETRANS_FIN;
	default:
		return -1;
	}
}

/* A step's column texts: "+412.000 ms", "0.250 ms". */
#define STEP_MS_STRLEN (MS_STRLEN + 4)

/* "+412.000 ms": the step's offset from the first. */
static void format_offset(char out[STEP_MS_STRLEN], uint64_t ns)
{
	out[0] = '+';
	format_ms(out + 1, (int64_t)ns);
	strcat(out, " ms");
}

/* Time spent in step i: until the next step. The last has none here. */
static void format_step_dur(char out[STEP_MS_STRLEN], const struct tw_conn *c, unsigned int i,
			    unsigned int n)
{
	out[0] = '\0';
	if (i + 1 >= n)
		return;
	format_ms(out, (int64_t)(c->step_ns[i + 1] - c->step_ns[i]));
	strcat(out, " ms");
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/*
 * Widths of the step columns, and where each retransmission note goes: the
 * first step in the state that sent the segment, else (that step cut from a
 * truncated timeline, or never seen) the last step.
 */
static void timeline_layout(struct timeline *tl)
{
	char text[STEP_MS_STRLEN];
	const char *state;
	unsigned int i;
	int k;

	for (k = 0; k < TW_RETRANS_MAX; k++)
		tl->note_step[k] = tl->n ? tl->n - 1 : 0;
	for (i = tl->n; i-- > 0;) {
		k = retrans_kind_of(tl->c->step_state[i]);
		if (k >= 0)
			tl->note_step[k] = i;
		format_offset(text, tl->c->step_ns[i]);
		tl->w_offset = max_int(tl->w_offset, (int)strlen(text));
		state = tcp_state_name(tl->c->step_state[i]);
		tl->w_state = max_int(tl->w_state, (int)strlen(state));
		format_step_dur(text, tl->c, i, tl->n);
		tl->w_dur = max_int(tl->w_dur, (int)strlen(text));
	}
	/* Waiting for the final ACK (diagnosis.c), where the SYN-ACK went again. */
	if (conn_fin_sent_in_handshake(tl->c))
		tl->note_step[TW_RETRANS_SYNACK] = 1;
}

static void add_note(struct strbuf *sb, bool color, const char *sgr, const char *text)
{
	strbuf_adds(sb, "; ");
	add_sgr(sb, color, sgr, text);
}

static void timeline_retrans_notes(struct strbuf *sb, const struct timeline *tl, unsigned int i)
{
	static const char *const what[TW_RETRANS_MAX] = {
		[TW_RETRANS_SYN] = "SYN",
		[TW_RETRANS_SYNACK] = "SYN-ACK",
		[TW_RETRANS_FIN] = "FIN",
	};
	char note[64];
	unsigned int n;
	int k;

	for (k = 0; k < TW_RETRANS_MAX; k++) {
		n = tl->c->retrans[k];
		if (!n || tl->note_step[k] != i)
			continue;
		if (k == TW_RETRANS_DATA)
			snprintf(note, sizeof(note), "%u data segment%s retransmitted", n,
				 n == 1 ? "" : "s");
		else
			snprintf(note, sizeof(note), "%s retransmitted x%u", what[k], n);
		add_note(sb, tl->color, SGR_YELLOW, note);
	}
}

/* What the end left behind: the socket's error, TIME_WAIT skipped for lack of buckets. */
static void timeline_end_notes(struct strbuf *sb, const struct timeline *tl)
{
	const char *name = errno_name(tl->c->sk_err);
	char note[64];

	if (tl->c->sk_err) {
		if (name)
			snprintf(note, sizeof(note), "error %s", name);
		else
			snprintf(note, sizeof(note), "error %u", tl->c->sk_err);
		add_note(sb, tl->color, SGR_RED, note);
	}
	if (!tl->v->tw_overflow)
		return;
	if ((tl->c->flags & TW_CONN_COUNTERS_KNOWN) && tl->c->tw_max)
		snprintf(note, sizeof(note), "no TIME_WAIT: tcp_max_tw_buckets (%u) reached",
			 tl->c->tw_max);
	else
		snprintf(note, sizeof(note), "no TIME_WAIT: tcp_max_tw_buckets reached");
	add_note(sb, tl->color, SGR_YELLOW, note);
}

/* "  +412.000 ms  FIN_WAIT1    0.250 ms  FIN sent; FIN retransmitted x1" */
static void timeline_step(struct strbuf *sb, const struct timeline *tl, unsigned int i)
{
	enum conn_step_event ev = tl->v->steps[i];
	const char *state = tcp_state_name(tl->c->step_state[i]);
	char text[160];

	format_offset(text, tl->c->step_ns[i]);
	add_spaces(sb, 2 + tl->w_offset - (int)strlen(text));
	add_sgr(sb, tl->color, SGR_DIM, text);
	strbuf_adds(sb, "  ");
	add_sgr(sb, tl->color, SGR_BOLD, state);
	add_spaces(sb, tl->w_state - (int)strlen(state) + 2);
	if (tl->w_dur) {
		format_step_dur(text, tl->c, i, tl->n);
		add_spaces(sb, tl->w_dur - (int)strlen(text));
		strbuf_adds(sb, text);
		strbuf_adds(sb, "  ");
	}
	if (ev == STEP_FIN_WAIT2_HANDOVER)
		format_fin_wait2_words(text, sizeof(text), tl->v,
				       tl->v->fin_wait2_end_ns - (int64_t)tl->c->step_ns[i]);
	else
		format_step_words(text, sizeof(text), ev, tl->v->handover_hold_ns);
	add_sgr(sb, tl->color, step_is_failure(ev) ? SGR_RED : NULL, text);
	timeline_retrans_notes(sb, tl, i);
	if (i + 1 == tl->n)
		timeline_end_notes(sb, tl);
	strbuf_addc(sb, '\n');
}

/* ", reset by us (TCP_ABORT_ON_LINGER)" or ", reset by peer" */
static void timeline_reset_by(struct strbuf *sb, const struct timeline *tl)
{
	const char *reason = reset_reason_of(tl->c);

	if (tl->v->reset_by == CONN_RESET_NONE)
		return;
	strbuf_adds(sb, ", ");
	sgr_begin(sb, tl->color, SGR_RED);
	strbuf_adds(sb, tl->v->reset_by == CONN_RESET_LOCAL ? "reset by us" : "reset by peer");
	if (reason && tl->v->reset_by == CONN_RESET_LOCAL) {
		strbuf_adds(sb, " (");
		text_add_safe(sb, reason, strlen(reason));
		strbuf_addc(sb, ')');
	}
	sgr_end(sb, tl->color, SGR_RED);
}

/*
 * "22:13:20.123456 10.0.0.1:43210 -> 10.0.0.2:80 pid 1234 (curl) open active, close active"
 * The time is the first step's, which the step offsets count from.
 */
static void timeline_header(struct strbuf *sb, const struct timeline *tl,
			    int64_t real_minus_mono_ns)
{
	const struct tw_conn *c = tl->c;
	char local[ADDR_STRLEN], remote[ADDR_STRLEN];

	addr_format_port(local, c->ep.family, c->ep.laddr, c->ep.lport);
	addr_format_port(remote, c->ep.family, c->ep.raddr, c->ep.rport);
	timefmt_clock(sb, timefmt_unix_ns(c->start_ns, real_minus_mono_ns));
	strbuf_addc(sb, ' ');
	strbuf_adds(sb, local);
	strbuf_adds(sb, " -> ");
	strbuf_adds(sb, remote);
	strbuf_addc(sb, ' ');
	text_add_owner_words(sb, &c->owner, owner_known(c));
	strbuf_adds(sb, " open ");
	add_name_or_dash(sb, conn_open_name(tl->v->open));
	if (tl->v->close != CONN_CLOSE_NONE) {
		strbuf_adds(sb, ", close ");
		add_name_or_dash(sb, conn_close_name(tl->v->close));
	}
	timeline_reset_by(sb, tl);
	if (!tl->v->complete)
		strbuf_adds(sb, " " STILL_OPEN_MARK);
	if (c->flags & TW_CONN_TRUNCATED)
		strbuf_adds(sb, " (timeline truncated)");
	if (c->flags & TW_CONN_LOST_EVENTS)
		strbuf_adds(sb, " " LOST_EVENTS_MARK);
	strbuf_addc(sb, '\n');
}

/* "  diagnosis: CLOSE_WAIT 4.200 s: the local application did not close() ..." */
static void timeline_diagnosis(struct strbuf *sb, const struct timeline *tl,
			       const struct diag_phase *p)
{
	if (!p->found)
		return;
	strbuf_adds(sb, "  ");
	add_sgr(sb, tl->color, SGR_BOLD, "diagnosis:");
	strbuf_addc(sb, ' ');
	sgr_begin(sb, tl->color, SGR_YELLOW);
	diagnosis_add_text(sb, p);
	sgr_end(sb, tl->color, SGR_YELLOW);
	strbuf_addc(sb, '\n');
}

void output_conn_timeline(struct strbuf *sb, const struct tw_conn *c, const struct conn_verdict *v,
			  const struct diagnosis *d, uint64_t ts_mono_ns,
			  int64_t real_minus_mono_ns, bool color)
{
	struct timeline tl = { .c = c, .v = v, .color = color, .n = (unsigned int)conn_steps(c) };
	unsigned int i;

	/* The picture is anchored at the first step; the report time adds nothing to it. */
	(void)ts_mono_ns;
	timeline_layout(&tl);
	timeline_header(sb, &tl, real_minus_mono_ns);
	for (i = 0; i < tl.n; i++)
		timeline_step(sb, &tl, i);
	timeline_diagnosis(sb, &tl, &d->handshake);
	timeline_diagnosis(sb, &tl, &d->close);
	strbuf_addc(sb, '\n');
}
