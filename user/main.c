// SPDX-License-Identifier: GPL-2.0
/*
 * tcpwave: options, setup, the poll loop, teardown.
 * Data flows one way: ring buffer -> decode -> reconstruct -> format -> sink.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include "community_id.h"
#include "conn.h"
#include "conn_queue.h"
#include "diagnosis.h"
#include "event.h"
#include "handover_wait.h"
#include "loader.h"
#include "local_addrs.h"
#include "options.h"
#include "output_conn.h"
#include "output_events.h"
#include "output_summary.h"
#include "prom.h"
#include "prom_file.h"
#include "sink.h"
#include "sock_count.h"
#include "strbuf.h"
#include "summary.h"
#include "timefmt.h"
#include "zeek_state.h"

/* Idle hosts still see a transition within this long; see wakeup_bytes. */
#define POLL_INTERVAL_MS 50
/*
 * How long a finished connection waits for a RST that the kernel sends just
 * after its ->CLOSE (the same system call, microseconds later).
 */
#define LATE_RESET_GRACE_NS (10 * 1000 * 1000ull)
#define NS_PER_SEC 1000000000ull
/* TCP_TIMEWAIT_LEN (include/net/tcp.h): fixed at build time of the kernel. */
#define TIME_WAIT_NS (60 * NS_PER_SEC)
/*
 * Orphans' FIN_WAIT2 hand-overs that may wait at once for their local peer's
 * record (about 1 MiB); more are printed at once, and counted.
 */
#define HANDOVER_WAIT_MAX 4096

static volatile sig_atomic_t exiting;
/* SIGHUP with -o: reopen the file between two records (see trace()). */
static volatile sig_atomic_t reopen_requested;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static void on_hangup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

struct app {
	struct options opt;
	struct sink out;
	struct strbuf line;
	struct conn_queue pending;
	struct handover_wait held; /* orphans waiting for their local peer's FIN */
	struct local_addrs local;
	struct conn_env env;
	struct diag_thresholds slow; /* --slow-close, --slow-handshake */
	bool color;
	int64_t real_minus_mono_ns;
	uint64_t now_ns; /* CLOCK_MONOTONIC just before the current drain began */
	uint64_t records;
	uint64_t bad_records;
	uint64_t unmatched_resets;
	uint64_t reported[TW_CNT_MAX]; /* each loss counter as report_lost last said it */
	uint64_t counters[TW_CNT_MAX];
	struct summary shown; /* -s: restarted at each --interval */
	struct summary total; /* --prom-file: cumulative, as Prometheus wants it */
	uint64_t report_every_ns; /* 0: only at exit */
	uint64_t next_report_ns;
	int sock_count_err; /* the last failure reported, so that it is said once */
	int prom_err; /* likewise; the exit status says whether the last write failed */
};

static void print_transition(struct app *app, const struct tw_state_event *e)
{
	strbuf_reset(&app->line);
	if (app->opt.json)
		output_event_json(&app->line, e, app->real_minus_mono_ns);
	else
		output_event_text(&app->line, e, app->real_minus_mono_ns);
	sink_write(&app->out, &app->line);
}

/* The fields that join a JSON record to other tools' records of the connection. */
static void join_fields(const struct app *app, const struct tw_conn *c,
			const struct conn_verdict *v, char cid[COMMUNITY_ID_STRLEN],
			struct conn_join *join)
{
	join->community_id =
		community_id_tcp(cid, &c->ep, app->opt.community_id_seed) ? NULL : cid;
	join->conn_state = zeek_state_name(zeek_state_of(c, v));
}

/*
 * Count, diagnose, select (--slow-*) and print a classified connection. The
 * metrics cover every connection; the -s summary those printed.
 */
static void print_verdict(struct app *app, const struct tw_conn *c, const struct conn_verdict *v)
{
	char cid[COMMUNITY_ID_STRLEN];
	struct conn_join join;
	struct diagnosis d;
	uint64_t ts;

	if (app->opt.prom_file)
		summary_add(&app->total, c, v);
	diagnosis_make(c, v, &app->slow, &d);
	if (!diagnosis_selected(&d, &app->slow))
		return;
	if (app->opt.summary)
		summary_add(&app->shown, c, v);
	/* A closed connection's time is its close, or its FIN_WAIT2's end; an open one's, now. */
	if (!v->complete || !c->nsteps)
		ts = app->now_ns;
	else if (v->fin_wait2_end_ns >= 0)
		ts = c->start_ns + (uint64_t)v->fin_wait2_end_ns;
	else
		ts = c->start_ns + c->step_ns[c->nsteps - 1];
	strbuf_reset(&app->line);
	if (app->opt.json) {
		join_fields(app, c, v, cid, &join);
		output_conn_json(&app->line, c, v, &d, &join, ts, app->real_minus_mono_ns);
	} else if (app->opt.timeline) {
		output_conn_timeline(&app->line, c, v, &d, ts, app->real_minus_mono_ns, app->color);
	} else {
		output_conn_table(&app->line, c, v, &d, ts, app->real_minus_mono_ns);
	}
	sink_write(&app->out, &app->line);
}

static void print_connection(struct app *app, const struct tw_conn *c)
{
	struct conn_verdict v;

	conn_classify(c, &app->env, &v);
	print_verdict(app, c, &v);
}

/* A connection that waited for its peer, with what was learned of its FIN_WAIT2. */
static void print_released(struct app *app, const struct handover_release *r)
{
	struct conn_verdict v;

	conn_classify(&r->conn, &app->env, &v);
	conn_end_fin_wait2(&v, r->end, r->end_ns);
	print_verdict(app, &r->conn, &v);
}

/*
 * A finished connection, past its grace for a late RST. It may be the peer
 * that a waiting orphan needs; it may be an orphan whose peer is on this
 * host, and then waits for that peer's record. Nothing else waits.
 */
static void finish_connection(struct app *app, const struct tw_conn *c)
{
	struct handover_release r;
	struct conn_verdict v;

	conn_classify(c, &app->env, &v);
	if (handover_wait_join(&app->held, c, &v, &r))
		print_released(app, &r);
	if (!app->opt.no_fin_wait2_hold && handover_wait_eligible(c, &v) &&
	    local_addrs_is_local(&app->local, c->ep.family, c->ep.raddr, app->now_ns) &&
	    !handover_wait_hold(&app->held, c))
		return;
	print_verdict(app, c, &v);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct app *app = ctx;
	struct tw_state_event e;
	struct tw_reset r;
	struct tw_conn c;

	app->records++;
	switch (event_type(data, size)) {
	case TW_REC_STATE:
		if (event_decode_state(data, size, &e))
			goto bad;
		print_transition(app, &e);
		break;
	case TW_REC_CONN:
		if (event_decode_conn(data, size, &c))
			goto bad;
		if (c.flags & TW_CONN_OPEN)
			print_connection(app, &c);
		else
			conn_queue_push(&app->pending, &c, timefmt_mono_now_ns());
		break;
	case TW_REC_RESET:
		if (event_decode_reset(data, size, &r))
			goto bad;
		if (conn_queue_apply_reset(&app->pending, &r))
			app->unmatched_resets++;
		break;
	default:
		goto bad;
	}
	/* A non-zero return stops ring_buffer__consume(); the loop then ends. */
	return app->out.status == SINK_OK ? 0 : -EPIPE;
bad:
	app->bad_records++;
	return 0;
}

/* Pass on the finished connections whose grace has passed by due_ns. */
static void release_pending(struct app *app, uint64_t due_ns)
{
	struct tw_conn c;

	while (app->out.status == SINK_OK && conn_queue_pop_due(&app->pending, due_ns, &c))
		finish_connection(app, &c);
}

/* Print the waiting orphans whose FIN_WAIT2 the kernel has dropped by now_ns. */
static void release_expired(struct app *app, uint64_t now_ns)
{
	struct handover_release r;

	while (app->out.status == SINK_OK && handover_wait_pop_expired(&app->held, now_ns, &r))
		print_released(app, &r);
}

/*
 * Wait no longer than until the oldest finished or waiting connection, or the
 * next report, is due.
 */
static int poll_timeout_ms(const struct app *app, uint64_t now_ns)
{
	uint64_t due = conn_queue_next_due(&app->pending);
	uint64_t held_due = handover_wait_next_due(&app->held);
	uint64_t ms;

	if (held_due < due)
		due = held_due;
	if (app->report_every_ns && app->next_report_ns < due)
		due = app->next_report_ns;
	if (due == UINT64_MAX)
		return POLL_INTERVAL_MS;
	ms = due > now_ns ? (due - now_ns) / 1000000 + 1 : 0;
	return ms < POLL_INTERVAL_MS ? (int)ms : POLL_INTERVAL_MS;
}

/* The two ways the kernel side can lose something, as reported. */
static const struct loss_kind {
	enum tw_counter counter;
	const char *reason; /* JSON */
	const char *words; /* stderr: what was lost, why, what to do */
} loss_kinds[] = {
	{ TW_CNT_LOST, "ring_buffer_full", "records lost (ring buffer full%s): raise --ringbuf-kb" },
	{ TW_CNT_MISSED, "program_busy",
	  "transitions missed (the kernel skipped tcpwave's program, already running on that "
	  "CPU when an interrupt nested in it%s)" },
};

/* Say so whenever the kernel could not hand over a record or a transition. */
static void report_lost(struct app *app, struct tracer *t)
{
	size_t i;

	if (tracer_read_counters(t, app->counters))
		return;
	for (i = 0; i < sizeof(loss_kinds) / sizeof(loss_kinds[0]); i++) {
		const struct loss_kind *k = &loss_kinds[i];
		uint64_t total = app->counters[k->counter], *reported = &app->reported[k->counter];
		char in_all[48];

		if (total == *reported)
			continue;
		snprintf(in_all, sizeof(in_all), "; %" PRIu64 " in all", total);
		fprintf(stderr, "tcpwave: %" PRIu64 " ", total - *reported);
		fprintf(stderr, k->words, in_all);
		fputc('\n', stderr);
		if (app->opt.json) {
			strbuf_reset(&app->line);
			output_lost_json(&app->line, (int64_t)app->now_ns + app->real_minus_mono_ns,
					 k->reason, total - *reported, total);
			sink_write(&app->out, &app->line);
		}
		*reported = total;
	}
}

/* The TIME_WAIT and CLOSE_WAIT sockets of tcpwave's network namespace now. */
static struct summary_sockets count_sockets(struct app *app)
{
	struct summary_sockets sk = { 0 };
	uint64_t counts[TW_STATE_MAX];
	int err;

	err = sock_count_states(1u << TW_TIME_WAIT | 1u << TW_CLOSE_WAIT, counts);
	if (err && err != app->sock_count_err)
		fprintf(stderr, "tcpwave: counting TIME_WAIT and CLOSE_WAIT sockets: %s\n",
			strerror(-err));
	app->sock_count_err = err;
	if (!err) {
		sk.known = true;
		sk.time_wait = counts[TW_TIME_WAIT];
		sk.close_wait = counts[TW_CLOSE_WAIT];
	}
	return sk;
}

static void print_summary(struct app *app, uint64_t now_ns, const struct summary_sockets *sk)
{
	summary_end(&app->shown, now_ns, app->counters, sk);
	strbuf_reset(&app->line);
	if (app->opt.json)
		output_summary_json(&app->line, &app->shown, app->real_minus_mono_ns);
	else
		output_summary_text(&app->line, &app->shown, app->real_minus_mono_ns);
	sink_write(&app->out, &app->line);
	summary_restart(&app->shown);
}

/* Metrics are not worth stopping the trace for: a failure is said once, and when it passes. */
static int write_prom_file(struct app *app, uint64_t now_ns, const struct summary_sockets *sk)
{
	const char *step;
	int err;

	summary_end(&app->total, now_ns, app->counters, sk);
	strbuf_reset(&app->line);
	prom_format(&app->line, &app->total);
	err = prom_file_write(app->opt.prom_file, &app->line, &step);
	if (err && err != app->prom_err)
		fprintf(stderr, "tcpwave: --prom-file: %s: %s\n", step, strerror(-err));
	else if (!err && app->prom_err)
		fprintf(stderr, "tcpwave: --prom-file: %s written again\n", app->opt.prom_file);
	app->prom_err = err;
	return err;
}

/* At each interval and at exit: the summary (-s), the metrics (--prom-file). */
static void report(struct app *app, bool at_exit)
{
	uint64_t now_ns = timefmt_mono_now_ns();
	struct summary_sockets sk = count_sockets(app);

	if (app->opt.summary && (at_exit || app->opt.interval_ns))
		print_summary(app, now_ns, &sk);
	if (app->opt.prom_file)
		write_prom_file(app, now_ns, &sk);
}

/* Report when the interval is up; a tick missed (a stalled reader) is not caught up. */
static void report_if_due(struct app *app)
{
	uint64_t now_ns = timefmt_mono_now_ns();

	if (!app->report_every_ns || now_ns < app->next_report_ns)
		return;
	report(app, false);
	while (app->next_report_ns <= now_ns)
		app->next_report_ns += app->report_every_ns;
}

static void print_exit_summary(const struct app *app)
{
	fprintf(stderr,
		"tcpwave: %" PRIu64 " records, %" PRIu64 " lost, %" PRIu64 " transitions missed, %" PRIu64
		" accept owners dropped, %" PRIu64 " sockets untracked\n",
		app->records, app->counters[TW_CNT_LOST], app->counters[TW_CNT_MISSED],
		app->counters[TW_CNT_ACCEPT_DROPPED], app->counters[TW_CNT_SOCK_DROPPED]);
	if (app->bad_records)
		fprintf(stderr, "tcpwave: %" PRIu64 " malformed records ignored\n",
			app->bad_records);
	if (app->unmatched_resets)
		fprintf(stderr, "tcpwave: %" PRIu64 " resets came too late to join their connection\n",
			app->unmatched_resets);
	if (app->held.full)
		fprintf(stderr,
			"tcpwave: %" PRIu64 " connections closed before their peer's FIN were "
			"printed without waiting for it: %u were waiting already\n",
			app->held.full, app->held.cap);
}

static void print_header(struct app *app)
{
	strbuf_reset(&app->line);
	if (app->opt.events && !app->opt.json)
		output_events_text_header(&app->line);
	else if (!app->opt.events && !app->opt.json && !app->opt.timeline)
		output_conn_table_header(&app->line);
	sink_write(&app->out, &app->line);
	sink_flush(&app->out);
}

/*
 * Stop the programs, then hand over what the kernel still holds, then the
 * connections still open: a connection that closes meanwhile is either in
 * the ring buffer or still open, never neither.
 */
static void finish(struct app *app, struct tracer *t)
{
	struct handover_release r;

	tracer_detach(t);
	app->now_ns = timefmt_mono_now_ns();
	if (app->out.status == SINK_OK)
		tracer_poll(t, 0);
	release_pending(app, UINT64_MAX);
	release_expired(app, app->now_ns);
	/* Still waiting for their peer's FIN: printed as such. */
	while (app->out.status == SINK_OK && handover_wait_pop_any(&app->held, &r))
		print_released(app, &r);
	if (!app->opt.events && app->out.status == SINK_OK)
		tracer_dump_open(t, on_record, app);
	report_lost(app, t);
	if (app->opt.summary || app->opt.prom_file)
		report(app, true);
	sink_flush(&app->out);
}

static int trace(struct app *app)
{
	struct tracer t;
	uint64_t deadline = 0;
	int err;

	err = tracer_open(&t, &app->opt, on_record, app);
	if (err)
		return 1;
	app->real_minus_mono_ns = timefmt_real_minus_mono_ns();
	app->next_report_ns = timefmt_mono_now_ns() + app->report_every_ns;
	if (app->opt.duration_ns)
		deadline = timefmt_mono_now_ns() + app->opt.duration_ns;
	print_header(app);
	fprintf(stderr, "tcpwave: tracing TCP %s; Ctrl-C to stop\n",
		app->opt.events ? "state transitions" : "connections");

	while (!exiting && app->out.status == SINK_OK) {
		/*
		 * A record reserved before now is handed over by this poll, so a
		 * connection due by now has had its grace for a late reset.
		 */
		app->now_ns = timefmt_mono_now_ns();
		err = tracer_poll(&t, poll_timeout_ms(app, app->now_ns));
		if (err < 0 && err != -EINTR && err != -EPIPE) {
			fprintf(stderr, "tcpwave: reading the ring buffer: %s\n", strerror(-err));
			break;
		}
		err = 0;
		release_pending(app, app->now_ns);
		release_expired(app, app->now_ns);
		report_lost(app, &t);
		report_if_due(app);
		sink_flush(&app->out);
		if (reopen_requested) {
			/* Records are written whole, so none is split across the two files. */
			reopen_requested = 0;
			if (sink_reopen(&app->out) == 0)
				print_header(app);
		}
		if (deadline && timefmt_mono_now_ns() >= deadline)
			break;
	}
	finish(app, &t);
	print_exit_summary(app);
	tracer_close(&t);
	if (err || app->out.status == SINK_FAILED || app->prom_err)
		return 1;
	return 0;
}

/* net.ipv4.tcp_fin_timeout, how long an orphan waits in FIN_WAIT2 (default 60 s). */
static uint64_t read_fin_timeout_ns(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_fin_timeout", "r");
	unsigned long s = 60;

	if (f) {
		if (fscanf(f, "%lu", &s) != 1)
			s = 60;
		fclose(f);
	}
	return s * NS_PER_SEC;
}

/* Colour on a terminal only, and never when NO_COLOR is set (no-color.org). */
static bool want_color(void)
{
	const char *no_color = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && !(no_color && no_color[0]);
}

/*
 * The summaries begin before tracing, and a --prom-file that cannot be
 * written is found now, not an interval later: it is written once, empty.
 */
static int start_summaries(struct app *app)
{
	uint64_t slow = app->opt.slow_close_ns >= 0 ? (uint64_t)app->opt.slow_close_ns :
						      SUMMARY_SLOW_CLOSE_DEFAULT_NS;
	uint64_t now_ns = timefmt_mono_now_ns();
	struct summary_sockets sk;

	if ((app->opt.summary && summary_init(&app->shown, slow, now_ns, app->counters)) ||
	    (app->opt.prom_file && summary_init(&app->total, slow, now_ns, app->counters))) {
		fprintf(stderr, "tcpwave: summary: %s\n", strerror(ENOMEM));
		return 1;
	}
	app->report_every_ns = app->opt.interval_ns;
	if (!app->opt.prom_file)
		return 0;
	if (!app->report_every_ns)
		app->report_every_ns = OPTIONS_PROM_INTERVAL_DEFAULT_NS;
	sk = count_sockets(app);
	return write_prom_file(app, now_ns, &sk) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct app app = {};
	/*
	 * SA_RESTART: a signal that arrives while a write blocks on a full pipe
	 * must not fail the write; the loop sees `exiting` once it returns.
	 */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct sigaction hup = { .sa_handler = on_hangup, .sa_flags = SA_RESTART };
	int rc;

	switch (options_parse(&app.opt, argc, argv, stdout, stderr)) {
	case OPTIONS_DONE:
		return 0;
	case OPTIONS_USAGE:
		return 2;
	case OPTIONS_RUN:
		break;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (app.opt.output) {
		if (sink_open_file(&app.out, app.opt.output))
			return 1;
		sigaction(SIGHUP, &hup, NULL);
	} else {
		/* A hangup of the terminal ends tracing as SIGTERM does. */
		sigaction(SIGHUP, &sa, NULL);
		sink_init_stdout(&app.out);
	}
	conn_queue_init(&app.pending, LATE_RESET_GRACE_NS);
	app.env.time_wait_ns = TIME_WAIT_NS;
	app.env.fin_timeout_ns = read_fin_timeout_ns();
	handover_wait_init(&app.held, HANDOVER_WAIT_MAX, app.env.fin_timeout_ns);
	app.slow.close_ns = app.opt.slow_close_ns;
	app.slow.handshake_ns = app.opt.slow_handshake_ns;
	app.color = !app.opt.output && want_color();
	rc = start_summaries(&app);
	if (!rc)
		rc = trace(&app);
	if (sink_close(&app.out) == SINK_FAILED)
		rc = 1;
	handover_wait_free(&app.held);
	local_addrs_free(&app.local);
	summary_free(&app.shown);
	summary_free(&app.total);
	conn_queue_free(&app.pending);
	strbuf_free(&app.line);
	return rc;
}
