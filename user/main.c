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
#include "conn.h"
#include "conn_queue.h"
#include "event.h"
#include "loader.h"
#include "options.h"
#include "output_conn.h"
#include "output_events.h"
#include "output_stuck.h"
#include "sink.h"
#include "strbuf.h"
#include "stuck.h"
#include "timefmt.h"

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

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

struct app {
	struct options opt;
	struct sink out;
	struct strbuf line;
	struct conn_queue pending;
	struct conn_env env;
	bool color;
	int64_t real_minus_mono_ns;
	uint64_t now_ns; /* CLOCK_MONOTONIC just before the current drain began */
	uint64_t stuck_due_ns; /* --stuck: when the next check is due */
	uint64_t records;
	uint64_t bad_records;
	uint64_t unmatched_resets;
	uint64_t lost_reported;
	uint64_t counters[TW_CNT_MAX];
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

static void print_connection(struct app *app, const struct tw_conn *c)
{
	struct conn_verdict v;
	uint64_t ts;

	conn_classify(c, &app->env, &v);
	/* A closed connection's time is its close; an open one's, now. */
	ts = v.complete && c->nsteps ? c->start_ns + c->step_ns[c->nsteps - 1] : app->now_ns;
	strbuf_reset(&app->line);
	if (app->opt.json)
		output_conn_json(&app->line, c, &v, ts, app->real_minus_mono_ns);
	else if (app->opt.timeline)
		output_conn_timeline(&app->line, c, &v, ts, app->real_minus_mono_ns, app->color);
	else
		output_conn_table(&app->line, c, &v, ts, app->real_minus_mono_ns);
	sink_write(&app->out, &app->line);
}

static void print_stuck(struct app *app, const struct tw_stuck *s)
{
	strbuf_reset(&app->line);
	if (app->opt.json)
		output_stuck_json(&app->line, s, stuck_open(s), app->real_minus_mono_ns);
	else
		output_stuck_text(&app->line, s, stuck_open(s), app->real_minus_mono_ns);
	sink_write(&app->out, &app->line);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct app *app = ctx;
	struct tw_state_event e;
	struct tw_stuck stuck;
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
	case TW_REC_STUCK:
		if (event_decode_stuck(data, size, &stuck))
			goto bad;
		print_stuck(app, &stuck);
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

/* Print the finished connections whose grace has passed by due_ns. */
static void release_pending(struct app *app, uint64_t due_ns)
{
	struct tw_conn c;

	while (app->out.status == SINK_OK && conn_queue_pop_due(&app->pending, due_ns, &c))
		print_connection(app, &c);
}

/* Wait no longer than until the oldest finished connection or the next --stuck check is due. */
static int poll_timeout_ms(const struct app *app, uint64_t now_ns)
{
	uint64_t due = conn_queue_next_due(&app->pending);
	uint64_t ms;

	if (app->opt.stuck_ns && app->stuck_due_ns < due)
		due = app->stuck_due_ns;
	if (due == UINT64_MAX)
		return POLL_INTERVAL_MS;
	ms = due > now_ns ? (due - now_ns) / 1000000 + 1 : 0;
	return ms < POLL_INTERVAL_MS ? (int)ms : POLL_INTERVAL_MS;
}

/* Say so whenever the kernel could not hand over a record. */
static void report_lost(struct app *app, struct tracer *t)
{
	uint64_t lost;

	if (tracer_read_counters(t, app->counters))
		return;
	lost = app->counters[TW_CNT_LOST];
	if (lost == app->lost_reported)
		return;
	fprintf(stderr, "tcpwave: %" PRIu64 " records lost (ring buffer full; %" PRIu64
			" in all): raise --ringbuf-kb\n",
		lost - app->lost_reported, lost);
	if (app->opt.json) {
		strbuf_reset(&app->line);
		output_lost_json(&app->line, (int64_t)app->now_ns + app->real_minus_mono_ns,
				 lost - app->lost_reported, lost);
		sink_write(&app->out, &app->line);
	}
	app->lost_reported = lost;
}

static void print_exit_summary(const struct app *app, const struct tracer *t)
{
	fprintf(stderr,
		"tcpwave: %" PRIu64 " records, %" PRIu64 " lost, %" PRIu64
		" accept owners dropped, %" PRIu64 " sockets untracked\n",
		app->records, app->counters[TW_CNT_LOST], app->counters[TW_CNT_ACCEPT_DROPPED],
		app->counters[TW_CNT_SOCK_DROPPED]);
	if (app->bad_records)
		fprintf(stderr, "tcpwave: %" PRIu64 " malformed records ignored\n",
			app->bad_records);
	if (app->unmatched_resets)
		fprintf(stderr, "tcpwave: %" PRIu64 " resets came too late to join their connection\n",
			app->unmatched_resets);
	if (app->counters[TW_CNT_CLOSING_DROPPED])
		fprintf(stderr,
			"tcpwave: --stuck: %" PRIu64 " stays in a close state went unwatched "
			"(more than %d connections in close states at once)\n",
			app->counters[TW_CNT_CLOSING_DROPPED], TW_CLOSING_MAX);
	if (app->opt.verbose && t->stuck_checks)
		fprintf(stderr,
			"tcpwave: --stuck: %" PRIu64 " checks, %.3f ms on average, %.3f ms at most\n",
			t->stuck_checks, t->stuck_check_ns / 1e6 / t->stuck_checks,
			t->stuck_check_max_ns / 1e6);
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
	tracer_detach(t);
	app->now_ns = timefmt_mono_now_ns();
	if (app->out.status == SINK_OK)
		tracer_poll(t, 0);
	release_pending(app, UINT64_MAX);
	if (!app->opt.events && app->out.status == SINK_OK)
		tracer_dump_open(t, on_record, app);
	report_lost(app, t);
	sink_flush(&app->out);
}

/*
 * --stuck: check the connections in a close state when it is due; the
 * finds come through the ring buffer. Those it had no room for wait for the
 * next check, right after this poll has drained it.
 */
static int check_stuck(struct app *app, struct tracer *t)
{
	int rc;

	if (!app->opt.stuck_ns || app->now_ns < app->stuck_due_ns)
		return 0;
	rc = tracer_check_stuck(t);
	if (rc < 0) {
		fprintf(stderr, "tcpwave: --stuck: checking the connections: %s\n", strerror(-rc));
		return rc;
	}
	app->stuck_due_ns = app->now_ns;
	if (!rc)
		app->stuck_due_ns += stuck_check_interval_ns(app->opt.stuck_ns);
	return 0;
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
		err = check_stuck(app, &t);
		if (err)
			break;
		err = tracer_poll(&t, poll_timeout_ms(app, app->now_ns));
		if (err < 0 && err != -EINTR && err != -EPIPE) {
			fprintf(stderr, "tcpwave: reading the ring buffer: %s\n", strerror(-err));
			break;
		}
		err = 0;
		release_pending(app, app->now_ns);
		report_lost(app, &t);
		sink_flush(&app->out);
		if (deadline && timefmt_mono_now_ns() >= deadline)
			break;
	}
	finish(app, &t);
	print_exit_summary(app, &t);
	tracer_close(&t);
	if (err || app->out.status == SINK_FAILED)
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

int main(int argc, char **argv)
{
	struct app app = {};
	/*
	 * SA_RESTART: a signal that arrives while a write blocks on a full pipe
	 * must not fail the write; the loop sees `exiting` once it returns.
	 */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
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
	sink_init_stdout(&app.out);
	conn_queue_init(&app.pending, LATE_RESET_GRACE_NS);
	app.env.time_wait_ns = TIME_WAIT_NS;
	app.env.fin_timeout_ns = read_fin_timeout_ns();
	app.color = want_color();
	rc = trace(&app);
	conn_queue_free(&app.pending);
	strbuf_free(&app.line);
	return rc;
}
