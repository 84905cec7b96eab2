// SPDX-License-Identifier: GPL-2.0
/*
 * tcpwave: options, setup, the poll loop, teardown.
 * Data flows one way: ring buffer -> decode -> format -> sink.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "event.h"
#include "loader.h"
#include "options.h"
#include "output_events.h"
#include "sink.h"
#include "strbuf.h"
#include "timefmt.h"

/* Idle hosts still see a transition within this long; see wakeup_bytes. */
#define POLL_INTERVAL_MS 50

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
	int64_t real_minus_mono_ns;
	uint64_t records;
	uint64_t bad_records;
	uint64_t lost_reported;
	uint64_t counters[TW_CNT_MAX];
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct app *app = ctx;
	struct tw_state_event e;

	if (event_decode_state(data, size, &e)) {
		app->bad_records++;
		return 0;
	}
	app->records++;
	strbuf_reset(&app->line);
	if (app->opt.json)
		output_event_json(&app->line, &e, app->real_minus_mono_ns);
	else
		output_event_text(&app->line, &e, app->real_minus_mono_ns);
	/* A non-zero return stops ring_buffer__consume(); the loop then ends. */
	return sink_write(&app->out, &app->line) == SINK_OK ? 0 : -EPIPE;
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
		output_lost_json(&app->line,
				 (int64_t)timefmt_mono_now_ns() + app->real_minus_mono_ns,
				 lost - app->lost_reported, lost);
		sink_write(&app->out, &app->line);
	}
	app->lost_reported = lost;
}

static void print_exit_summary(const struct app *app)
{
	fprintf(stderr,
		"tcpwave: %" PRIu64 " records, %" PRIu64 " lost, %" PRIu64
		" accept owners dropped, %" PRIu64 " sockets untracked\n",
		app->records, app->counters[TW_CNT_LOST], app->counters[TW_CNT_ACCEPT_DROPPED],
		app->counters[TW_CNT_SOCK_DROPPED]);
	if (app->bad_records)
		fprintf(stderr, "tcpwave: %" PRIu64 " malformed records ignored\n",
			app->bad_records);
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
	if (!app->opt.json) {
		strbuf_reset(&app->line);
		output_events_text_header(&app->line);
		sink_write(&app->out, &app->line);
	}
	sink_flush(&app->out);
	fprintf(stderr, "tcpwave: tracing TCP state transitions; Ctrl-C to stop\n");

	while (!exiting && app->out.status == SINK_OK) {
		err = tracer_poll(&t, POLL_INTERVAL_MS);
		if (err < 0 && err != -EINTR && err != -EPIPE) {
			fprintf(stderr, "tcpwave: reading the ring buffer: %s\n", strerror(-err));
			break;
		}
		err = 0;
		report_lost(app, &t);
		sink_flush(&app->out);
		if (deadline && timefmt_mono_now_ns() >= deadline)
			break;
	}
	/* Hand over what the kernel still holds before saying goodbye. */
	if (app->out.status == SINK_OK)
		tracer_poll(&t, 0);
	report_lost(app, &t);
	sink_flush(&app->out);
	print_exit_summary(app);
	tracer_close(&t);
	if (err || app->out.status == SINK_FAILED)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct app app = {};
	struct sigaction sa = { .sa_handler = on_signal };
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
	rc = trace(&app);
	strbuf_free(&app.line);
	return rc;
}
