// SPDX-License-Identifier: GPL-2.0
/*
 * tcpwave: options, setup, the poll loop, teardown.
 * Data flows one way: ring buffer -> decode -> reconstruct -> filter -> format
 * -> sink. --write records what comes off the ring buffer and what the loop
 * did with it; --read replays that through the same steps instead of tracing.
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
#include "cgroup_path.h"
#include "conn.h"
#include "conn_queue.h"
#include "diagnosis.h"
#include "event.h"
#include "handover_wait.h"
#include "filter.h"
#include "loader.h"
#include "local_addrs.h"
#include "open_at_exit.h"
#include "options.h"
#include "output_conn.h"
#include "output_events.h"
#include "output_stuck.h"
#include "output_summary.h"
#include "prom.h"
#include "prom_file.h"
#include "recording_write.h"
#include "replay.h"
#include "privilege.h"
#include "sink.h"
#include "snapshot.h"
#include "sock_count.h"
#include "strbuf.h"
#include "stuck.h"
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

/*
 * The first SIGINT or SIGTERM ends tracing cleanly: the loop flushes what is
 * in flight. The first may not get that far (a write blocked on a pipe nobody
 * reads), so a second one ends tcpwave at once, with the shell's status for
 * death by that signal (130 for SIGINT) and nothing more written.
 */
static void on_signal(int sig)
{
	if (exiting)
		_exit(128 + sig);
	exiting = 1;
}

static void on_hangup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

struct app {
	struct options opt;
	struct privilege_plan privilege;
	struct sink out;
	struct strbuf line;
	struct conn_queue pending;
	struct handover_wait held; /* orphans waiting for their local peer's FIN */
	struct open_at_exit open; /* the connections still open as tracing ends */
	struct local_addrs local;
	struct conn_env env;
	struct diag_thresholds slow; /* --slow-close, --slow-handshake */
	struct recording_writer rec; /* --write */
	struct filter_stream stream; /* --events: transitions through the filters */
	struct cgroup_path cgroups;
	struct community_id_memo community_ids;
	bool want_cgroups; /* resolve cgroup paths: for JSON, and for --cgroup */
	bool recorded_filtered; /* a replay of what filters chose (RECORDING_FLAG_FILTERED) */
	bool color;
	int64_t real_minus_mono_ns;
	/*
	 * CLOCK_MONOTONIC as tracing began, before the attach: the summaries'
	 * period starts here, and a recording's first frame carries it, so that
	 * a replay's summary covers the same period.
	 */
	uint64_t started_ns;
	uint64_t now_ns; /* CLOCK_MONOTONIC just before the current drain began */
	uint64_t stuck_due_ns; /* --stuck: when the next check is due */
	bool handovers_pending; /* the kernel side watches timewait sockets (as last asked) */
	uint64_t handover_due_ns; /* when they are next checked */
	/*
	 * Tracing has stopped: a closed connection that comes now is one the
	 * exit walks listed while it waited for its owner (awaits_owner). No
	 * RST follows it, and it is its own listed copy, not a record that
	 * ended one (open_at_exit_end()).
	 */
	bool stopped;
	uint64_t records;
	uint64_t bad_records;
	uint64_t unmatched_resets;
	uint64_t reported[TW_CNT_MAX]; /* each loss counter as report_losses() last said it */
	uint64_t reported_ns[TW_CNT_MAX]; /* and when (if reported is not 0) */
	uint64_t filtered_here; /* connection records the filters rejected in userspace */
	uint64_t counters[TW_CNT_MAX];
	struct summary shown; /* -s: restarted at each --interval */
	struct summary total; /* --prom-file: cumulative, as Prometheus wants it */
	uint64_t report_every_ns; /* 0: only at exit */
	uint64_t next_report_ns;
	int sock_count_err; /* the last failure reported, so that it is said once */
	struct summary_sockets replayed_sockets; /* a replay's: the recording's count */
	int prom_err; /* likewise; the exit status says whether the last write failed */
};

/* The socket's cgroup v2 path, where wanted and known. */
static const char *cgroup_of(struct app *app, __u64 cgroup_id)
{
	return app->want_cgroups ? cgroup_path_of(&app->cgroups, cgroup_id, app->now_ns) : NULL;
}

static void print_transition(struct app *app, const struct tw_state_event *e, const char *cgroup)
{
	strbuf_reset(&app->line);
	if (app->opt.json)
		output_event_json(&app->line, e, app->real_minus_mono_ns, cgroup);
	else
		output_event_text(&app->line, e, app->real_minus_mono_ns);
	sink_write(&app->out, &app->line);
}

/* The connection's Community ID in cid, or NULL where its 4-tuple is not known. */
static const char *community_id_of(struct app *app, const struct tw_endpoints *ep,
				   char cid[COMMUNITY_ID_STRLEN])
{
	if (community_id_tcp(&app->community_ids, cid, ep, app->opt.community_id_seed))
		return NULL;
	return cid;
}

/* The fields that join a JSON record to other tools' records of the connection. */
static void join_fields(struct app *app, const struct tw_conn *c,
			const struct conn_verdict *v, char cid[COMMUNITY_ID_STRLEN],
			struct conn_join *join)
{
	join->community_id = community_id_of(app, &c->ep, cid);
	join->conn_state = zeek_state_name(zeek_state_of(c, v));
}

/* A transition, and any its socket held back, as the filters decide. */
static void on_transition(struct app *app, const struct tw_state_event *e)
{
	struct tw_state_event out[TW_HELD_MAX + 1];
	const char *cgroup = cgroup_of(app, e->cgroup_id);
	unsigned int i, n = filter_stream_push(&app->stream, e, cgroup, out);

	for (i = 0; i < n; i++)
		print_transition(app, &out[i], cgroup);
}

/*
 * Filter, count, diagnose, select (--slow-*) and print a classified
 * connection. The metrics cover every connection; the -s summary those printed.
 */
static void print_verdict(struct app *app, const struct tw_conn *c, const struct conn_verdict *v)
{
	char cid[COMMUNITY_ID_STRLEN];
	struct conn_join join;
	const char *cgroup = cgroup_of(app, c->cgroup_id);
	struct diagnosis d;
	uint64_t ts;

	if (!filter_match_conn(&app->opt.filter, c, cgroup)) {
		app->filtered_here++;
		return;
	}
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
		output_conn_json(&app->line, c, v, &d, &join, ts, app->real_minus_mono_ns, cgroup);
	} else if (app->opt.timeline) {
		output_conn_timeline(&app->line, c, v, &d, ts, app->real_minus_mono_ns, app->color);
	} else {
		output_conn_table(&app->line, c, v, &d, ts, app->real_minus_mono_ns);
	}
	sink_write(&app->out, &app->line);
}

/* A connection still open when tracing ended (its walk's record), at app->now_ns. */
static void print_connection(struct app *app, const struct tw_conn *c)
{
	struct conn_verdict v;

	conn_classify(c, &app->env, &v);
	conn_open_until(&v, c, app->now_ns);
	print_verdict(app, c, &v);
}

/* A connection that waited for its peer, with what was learned of its FIN_WAIT2. */
static void print_released(struct app *app, const struct handover_release *r)
{
	struct conn_verdict v;

	conn_classify(&r->conn, &app->env, &v);
	conn_end_fin_wait2(&v, r->end, r->end_ns);
	/* Still waiting as tracing ends (release_all()): its FIN_WAIT2 lasted until now. */
	if (r->end == CONN_FW2_WAITING)
		conn_open_until(&v, &r->conn, app->now_ns);
	print_verdict(app, &r->conn, &v);
}

/*
 * An orphan whose FIN_WAIT2 went on in a timewait socket waits for its end,
 * told by its peer's record, exact, where the peer is on this host; else by
 * the kernel side, where it watches that socket. The kernel side tells also
 * where the filters may keep the peer's record back. False: nobody will tell.
 */
static bool waits_for_its_end(const struct app *app, const struct tw_conn *c,
			      const struct conn_verdict *v, enum handover_teller *by)
{
	bool watched = c->flags & TW_CONN_HANDOVER_WATCHED;
	bool filtered = filter_flags(&app->opt.filter) || app->recorded_filtered;

	if (app->opt.no_fin_wait2_hold || v->fin_wait2_end != CONN_FW2_WAITING)
		return false;
	if (handover_wait_eligible(c, v) &&
	    local_addrs_is_local(&app->local, c->ep.family, c->ep.raddr) &&
	    !(watched && filtered)) {
		*by = HANDOVER_BY_PEER;
		return true;
	}
	*by = HANDOVER_BY_KERNEL;
	return watched;
}

/*
 * A finished connection, past its grace for a late RST. It may be the peer
 * that a waiting orphan needs; it may be an orphan whose peer is on this
 * host, and then waits for that peer's record. Nothing else waits.
 */
static void finish_connection(struct app *app, const struct tw_conn *c)
{
	struct handover_release r;
	enum handover_teller by;
	struct conn_verdict v;

	conn_classify(c, &app->env, &v);
	if (handover_wait_join(&app->held, c, &v, &r))
		print_released(app, &r);
	if (waits_for_its_end(app, c, &v, &by) && !handover_wait_hold(&app->held, c, by))
		return;
	print_verdict(app, c, &v);
}

/* The end of a watched hand-over: its connection, if it waits, goes out with it. */
static void on_handover_end(struct app *app, const struct tw_handover_end *e)
{
	struct handover_release r;

	/* None waits when its peer's record tells instead, or there was no room to hold it. */
	if (handover_wait_end(&app->held, e, &r))
		print_released(app, &r);
}

/* --stuck: a connection sitting in a close state, if the filters take it. */
static void print_stuck(struct app *app, const struct tw_stuck *s)
{
	const char *cgroup = cgroup_of(app, s->cgroup_id);
	char cid[COMMUNITY_ID_STRLEN];

	if (filter_tuple(&app->opt.filter, &s->ep, s->netns, cgroup, true) != FILTER_PASS ||
	    filter_owner(&app->opt.filter, &s->owner, s->flags & TW_CONN_OWNER_KNOWN, true) !=
		    FILTER_PASS) {
		app->filtered_here++;
		return;
	}
	strbuf_reset(&app->line);
	if (app->opt.json)
		output_stuck_json(&app->line, s, stuck_open(s), app->real_minus_mono_ns,
				  community_id_of(app, &s->ep, cid), cgroup);
	else
		output_stuck_text(&app->line, s, stuck_open(s), app->real_minus_mono_ns);
	sink_write(&app->out, &app->line);
}

/* One record, as it came at recv_ns: from the ring buffer, or from a recording. */
static int handle_record(void *ctx, const void *data, size_t size, uint64_t recv_ns)
{
	struct app *app = ctx;
	struct tw_state_event e;
	struct tw_handover_end end;
	struct tw_stuck stuck;
	struct tw_reset r;
	struct tw_conn c;

	app->records++;
	switch (event_type(data, size)) {
	case TW_REC_STATE:
		if (event_decode_state(data, size, &e))
			goto bad;
		on_transition(app, &e);
		break;
	case TW_REC_CONN:
		if (event_decode_conn(data, size, &c))
			goto bad;
		if (c.flags & TW_CONN_OPEN) {
			print_connection(app, &c);
			break;
		}
		/* Listed at exit, closed, waiting for its owner: nothing follows now. */
		if (app->stopped) {
			finish_connection(app, &c);
			break;
		}
		open_at_exit_end(&app->open, &c);
		if (c.flags & TW_CONN_HANDOVER_WATCHED) {
			/*
			 * No late RST follows a hand-over (the timewait socket's
			 * comes as its end record), and the end may come before
			 * a grace would be over: it waits for that instead.
			 */
			finish_connection(app, &c);
		} else {
			conn_queue_push(&app->pending, &c, recv_ns);
		}
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
	case TW_REC_HANDOVER_END:
		if (event_decode_handover_end(data, size, &end))
			goto bad;
		on_handover_end(app, &end);
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

/*
 * --write: the path of the cgroup a record names goes first, when the
 * recording does not have it yet (or it changed), so that a replay on any
 * host prints the cgroup this one saw.
 */
static void record_cgroup_of(struct app *app, const void *data, size_t size)
{
	__u64 id = event_cgroup_id(data, size);
	const char *path;

	if (!app->want_cgroups || !id)
		return;
	path = cgroup_path_of(&app->cgroups, id, app->now_ns);
	if (cgroup_path_take_change(&app->cgroups, id))
		recording_write_cgroup(&app->rec, id, path, app->now_ns);
}

/* The ring buffer's callback, and the open connections' at exit. */
static int on_record(void *ctx, void *data, size_t size)
{
	struct app *app = ctx;
	uint64_t now_ns = timefmt_mono_now_ns();

	/* A write error ends the loop (keep_tracing); the record is printed all the same. */
	if (app->opt.write_path) {
		record_cgroup_of(app, data, size);
		recording_write_record(&app->rec, data, size, now_ns);
	}
	return handle_record(app, data, size, now_ns);
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
 * The host's addresses, read again when old, for the FIN_WAIT2 hold's
 * decisions that follow; --write records them when they changed (a replay
 * takes the recorded ones).
 */
static void refresh_local_addrs(struct app *app, uint64_t now_ns)
{
	if (local_addrs_refresh(&app->local, now_ns))
		recording_write_local_addrs(&app->rec, &app->local, now_ns);
}

/* The poll loop's releases, recorded when any is due, for a replay to repeat. */
static void release_due(struct app *app, uint64_t now_ns)
{
	refresh_local_addrs(app, now_ns);
	if (conn_queue_next_due(&app->pending) <= now_ns ||
	    handover_wait_next_due(&app->held) <= now_ns)
		recording_write_release(&app->rec, now_ns);
	release_pending(app, now_ns);
	release_expired(app, now_ns);
}

/* Tracing stopped at now_ns: every connection finished or waiting goes out. */
static void release_all(struct app *app, uint64_t now_ns)
{
	struct handover_release r;

	app->stopped = true;
	release_pending(app, UINT64_MAX);
	release_expired(app, now_ns);
	/* Still waiting for their peer's FIN: printed as such. */
	while (app->out.status == SINK_OK && handover_wait_pop_any(&app->held, &r))
		print_released(app, &r);
}

/*
 * Wait no longer than until the oldest finished or waiting connection, the
 * next report, or the next --stuck check is due.
 *
 * Under churn a connection comes due every few microseconds, so the loop
 * turns about every millisecond. Letting due connections wait for one
 * another instead costs the traced workload more, though it saves
 * tcpwave's CPU: each turn is then a longer burst, and the workload's
 * chains of wakeups wait behind it. In bench/ab.py's paired rounds (16),
 * a turn at most every 3 ms took tcpwave's CPU from 4.45 to 4.05 us a
 * connection and the churn from 91.5% of untraced to 89.1%; every 10 ms,
 * to 3.73 us and 80.8%.
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
	if (app->opt.stuck_ns && app->stuck_due_ns < due)
		due = app->stuck_due_ns;
	if (app->handovers_pending && app->handover_due_ns < due)
		due = app->handover_due_ns;
	if (due == UINT64_MAX)
		return POLL_INTERVAL_MS;
	ms = due > now_ns ? (due - now_ns) / 1000000 + 1 : 0;
	return ms < POLL_INTERVAL_MS ? (int)ms : POLL_INTERVAL_MS;
}

/* The ways the kernel side can lose something, as reported. */
static const struct loss_kind {
	enum tw_counter counter;
	const char *reason; /* JSON */
	const char *what; /* stderr: what was lost, one of it ("record") */
	const char *words; /* stderr: how, why, what to do; the same for one or many */
} loss_kinds[] = {
	{ TW_CNT_LOST, "ring_buffer_full", "record",
	  "lost (ring buffer full%s): raise --ringbuf-kb" },
	{ TW_CNT_MISSED, "program_busy", "transition",
	  "missed (the kernel skipped tcpwave's program, already running on that CPU when an "
	  "interrupt nested in it%s)" },
	{ TW_CNT_UNREPORTED, "unreported", "connection",
	  "left no record: seen to begin, but neither seen to end nor found still open at "
	  "exit%s. See Losses in the README" },
};

/*
 * A loss is reported at once, then at most once a second while it goes on:
 * the counters are read at every turn of the loop while records are being
 * lost, and an overload that lasts minutes would otherwise write a line
 * (and a JSON record) per turn.
 */
#define LOSS_REPORT_EVERY_NS (1000 * 1000 * 1000ull)

/*
 * What the kernel could not hand over since the last report, as of now_ns;
 * all of it when final (at the end: nothing is left unsaid).
 */
static bool report_losses(struct app *app, uint64_t now_ns, bool final)
{
	bool said = false;
	size_t i;

	for (i = 0; i < sizeof(loss_kinds) / sizeof(loss_kinds[0]); i++) {
		const struct loss_kind *k = &loss_kinds[i];
		uint64_t total = app->counters[k->counter], *reported = &app->reported[k->counter];
		uint64_t *reported_ns = &app->reported_ns[k->counter];
		char in_all[48];

		if (total == *reported ||
		    (!final && *reported && now_ns - *reported_ns < LOSS_REPORT_EVERY_NS))
			continue;
		snprintf(in_all, sizeof(in_all), "; %" PRIu64 " in all", total);
		fprintf(stderr, "tcpwave: %" PRIu64 " %s%s ", total - *reported, k->what,
			total - *reported == 1 ? "" : "s");
		fprintf(stderr, k->words, in_all);
		fputc('\n', stderr);
		if (app->opt.json) {
			strbuf_reset(&app->line);
			output_lost_json(&app->line,
					 timefmt_unix_ns(now_ns, app->real_minus_mono_ns),
					 k->reason, total - *reported, total);
			sink_write(&app->out, &app->line);
		}
		*reported = total;
		*reported_ns = now_ns;
		said = true;
	}
	return said;
}

/*
 * The kernel's counters as read at read_ns: the queue of finished
 * connections told of losses (a record there may have lost its late reset),
 * the losses reported (report_losses()), and recorded when they changed or
 * a report held back went out, so that a replay reports at the same times.
 */
static void take_counters(struct app *app, const uint64_t counters[TW_CNT_MAX], uint64_t read_ns)
{
	bool changed = memcmp(counters, app->counters, sizeof(app->counters)) != 0;

	memcpy(app->counters, counters, sizeof(app->counters));
	conn_queue_note_lost(&app->pending, counters[TW_CNT_LOST], read_ns);
	if (report_losses(app, read_ns, false) || changed)
		recording_write_counters(&app->rec, counters, TW_CNT_MAX, read_ns);
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
	bool handing_over;
	const char *step;
	int err;

	summary_end(&app->total, now_ns, app->counters, sk);
	strbuf_reset(&app->line);
	prom_format(&app->line, &app->total);
	/* Root's writes, before the drop, leave the file to the user who writes it next. */
	handing_over = app->privilege.switch_user && geteuid() == 0;
	err = prom_file_write(app->opt.prom_file, &app->line,
			      handing_over ? app->privilege.uid : (uid_t)-1,
			      handing_over ? app->privilege.gid : (gid_t)-1, &step);
	if (err && err != app->prom_err)
		fprintf(stderr, "tcpwave: --prom-file: %s: %s\n", step, strerror(-err));
	else if (!err && app->prom_err)
		fprintf(stderr, "tcpwave: --prom-file: %s written again\n", app->opt.prom_file);
	app->prom_err = err;
	return err;
}

/*
 * At each interval and at exit: the summary (-s), the metrics (--prom-file),
 * with sockets sk. At exit the period ends where tracing stopped, the time
 * a recording's finish frame carries for a replay's summary.
 */
static void report(struct app *app, const struct summary_sockets *sk, bool at_exit)
{
	uint64_t now_ns = at_exit ? app->now_ns : timefmt_mono_now_ns();

	if (app->opt.summary && (at_exit || app->opt.interval_ns))
		print_summary(app, now_ns, sk);
	if (app->opt.prom_file)
		write_prom_file(app, now_ns, sk);
}

/* Report when the interval is up; a tick missed (a stalled reader) is not caught up. */
static void report_if_due(struct app *app)
{
	uint64_t now_ns = timefmt_mono_now_ns();
	struct summary_sockets sk;

	if (!app->report_every_ns || now_ns < app->next_report_ns)
		return;
	sk = count_sockets(app);
	report(app, &sk, false);
	while (app->next_report_ns <= now_ns)
		app->next_report_ns += app->report_every_ns;
}

/*
 * Read the kernel's counters after each drain of the ring buffer: the queue
 * of finished connections learns of losses, and the user hears of them.
 */
static void report_lost(struct app *app, struct tracer *t)
{
	uint64_t counters[TW_CNT_MAX];

	if (tracer_read_counters(t, counters) == 0)
		take_counters(app, counters, timefmt_mono_now_ns());
}

static void print_exit_summary(const struct app *app, const struct tracer *t)
{
	fprintf(stderr,
		"tcpwave: %" PRIu64 " records, %" PRIu64 " lost, %" PRIu64 " transitions missed, %" PRIu64
		" connections unreported, %" PRIu64 " sockets untracked\n",
		app->records, app->counters[TW_CNT_LOST], app->counters[TW_CNT_MISSED],
		app->counters[TW_CNT_UNREPORTED], app->counters[TW_CNT_SOCK_DROPPED]);
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
	if (filter_flags(&app->opt.filter))
		fprintf(stderr,
			"tcpwave: filters: %" PRIu64 " records not delivered by the kernel "
			"(%" PRIu64 " of them outside --netns), %" PRIu64 " more rejected here\n",
			app->counters[TW_CNT_FILTERED], app->counters[TW_CNT_FILTERED_NETNS],
			app->filtered_here + app->stream.filtered);
	if (app->counters[TW_CNT_HELD_DROPPED] || app->stream.held_dropped)
		fprintf(stderr,
			"tcpwave: %" PRIu64 " transitions lost: more than %d on one socket waited "
			"for the filters to decide\n",
			app->counters[TW_CNT_HELD_DROPPED] + app->stream.held_dropped, TW_HELD_MAX);
	if (app->counters[TW_CNT_CLOSING_DROPPED])
		fprintf(stderr,
			"tcpwave: --stuck: %" PRIu64 " stays in a close state went unwatched "
			"(more than %d connections in close states at once)\n",
			app->counters[TW_CNT_CLOSING_DROPPED], TW_CLOSING_MAX);
	if (app->counters[TW_CNT_HANDOVER_UNWATCHED])
		fprintf(stderr,
			"tcpwave: %" PRIu64 " orphans' FIN_WAIT2 went unwatched (timewait socket "
			"not found, or more than %d at once): their end is learned only from a "
			"peer on this host\n",
			app->counters[TW_CNT_HANDOVER_UNWATCHED], TW_HANDOVERS_MAX);
	if (app->counters[TW_CNT_SLOT_TAKEN])
		fprintf(stderr,
			"tcpwave: %" PRIu64 " sockets kept their state in socket storage, their "
			"slot taken: a larger --slots costs the traced host less\n",
			app->counters[TW_CNT_SLOT_TAKEN]);
	if (app->opt.verbose && t && t->stuck_checks)
		fprintf(stderr,
			"tcpwave: --stuck: %" PRIu64 " checks, %.3f ms on average, "
			"%.3f ms at most\n",
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

/* The exit walks' records: kept until the programs are detached and the ring drained. */
static int keep_open(void *ctx, void *data, size_t size)
{
	struct app *app = ctx;
	struct tw_conn c;

	if (event_type(data, size) != TW_REC_CONN || event_decode_conn(data, size, &c)) {
		app->bad_records++;
		return 0;
	}
	open_at_exit_add(&app->open, &c);
	return 0;
}

/*
 * The connections still open, less those whose closed record came after
 * all. listed: the walks listed all they could (else what was not listed is
 * not known).
 */
static void hand_over_open(struct app *app, struct tracer *t, bool listed)
{
	size_t i;

	for (i = 0; i < app->open.count && app->out.status == SINK_OK; i++)
		if (!app->open.items[i].ended)
			on_record(app, &app->open.items[i].conn, sizeof(app->open.items[i].conn));
	if (!listed)
		return;
	tracer_listed_at_exit(t, app->open.dropped + app->open.duplicates);
	/* What began and was neither reported nor listed, now known. */
	report_lost(app, t);
}

/*
 * Let no more connections begin and list those still open, then stop the
 * programs, then hand over what the kernel still holds, then the listed
 * connections that did not close meanwhile (see open_at_exit.h).
 */
static void finish(struct app *app, struct tracer *t)
{
	struct summary_sockets sk = { .known = false };
	bool listing = !app->opt.events && app->out.status == SINK_OK, listed = false;
	int rc;

	if (listing) {
		tracer_end_beginnings(t);
		/*
		 * Room in the ring buffer for what closes while the walks run.
		 * A program run that read the flag before it was set may still
		 * begin a connection: it lasts microseconds, and the walks only
		 * reach the sockets after the owner walk, which takes longer.
		 */
		tracer_poll(t, 0);
		listed = tracer_dump_open(t, keep_open, app) == 0;
		open_at_exit_seal(&app->open);
	}
	tracer_detach(t);
	app->now_ns = timefmt_mono_now_ns();
	if (app->out.status == SINK_OK)
		tracer_poll(t, 0);
	/* Hand-overs that ended since the last check go out with their end. */
	while (app->out.status == SINK_OK && tracer_handovers_pending(t) &&
	       (rc = tracer_check_handovers(t)) >= 0) {
		tracer_poll(t, 0);
		if (!rc)
			break;
	}
	report_lost(app, t);
	/* Counted once: the last summary says what the recording keeps for a replay's. */
	if (app->opt.summary || app->opt.prom_file || app->opt.write_path)
		sk = count_sockets(app);
	if (sk.known)
		recording_write_sockets(&app->rec, sk.time_wait, sk.close_wait, app->now_ns);
	recording_write_finish(&app->rec, app->now_ns);
	release_all(app, app->now_ns);
	if (listing)
		hand_over_open(app, t, listed);
	report_losses(app, app->now_ns, true);
	if (app->opt.summary || app->opt.prom_file)
		report(app, &sk, true);
	sink_flush(&app->out);
}

/* --write: the header, with what a replay needs of this host, before any record. */
static int start_recording(struct app *app, const struct tracer *t)
{
	struct recording_header h = {
		.real_minus_mono_ns = app->real_minus_mono_ns,
		.fin_timeout_ns = app->env.fin_timeout_ns,
		.time_wait_ns = app->env.time_wait_ns,
		.flags = (app->opt.events ? RECORDING_FLAG_EVENTS : 0) |
			 (filter_flags(&app->opt.filter) ? RECORDING_FLAG_FILTERED : 0),
	};
	uint64_t now_ns = timefmt_mono_now_ns();

	local_addrs_refresh(&app->local, now_ns);
	/* A destination that cannot take the header fails now, not minutes later. */
	return recording_write_header(&app->rec, &h) ?: recording_write_rst_reasons(&app->rec) ?:
			recording_write_local_addrs(&app->rec, &app->local, app->started_ns) ?:
			(t->snapshot_link ?
				 recording_write_snapshot(&app->rec, &t->snapshot,
							  t->snapshot_netns.visited,
							  t->snapshot_ns, now_ns) :
				 0) ?:
			recording_writer_flush(&app->rec);
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

/*
 * How often the timewait sockets of watched hand-overs are looked at: the
 * delay of an orphan's record past its end, and the precision of an end
 * found only by its timewait socket's absence (a RST from the peer).
 */
#define HANDOVER_CHECK_NS (100 * 1000 * 1000ull)

/* Watched hand-overs: look at their timewait sockets when it is due; ends come by the ring. */
static int check_handovers(struct app *app, struct tracer *t)
{
	int rc;

	app->handovers_pending = tracer_handovers_pending(t);
	if (!app->handovers_pending || app->now_ns < app->handover_due_ns)
		return 0;
	rc = tracer_check_handovers(t);
	if (rc < 0) {
		fprintf(stderr, "tcpwave: checking orphans' timewait sockets: %s\n",
			strerror(-rc));
		return rc;
	}
	/* Those without room in the ring buffer go again right after this drain. */
	app->handover_due_ns = app->now_ns + (rc ? 0 : HANDOVER_CHECK_NS);
	return 0;
}

static bool keep_tracing(const struct app *app)
{
	return !exiting && app->out.status == SINK_OK && !app->rec.err;
}

/*
 * What tcpwave does after the drop, tried once now. With BPF it goes
 * through descriptors it holds (see privilege.h). Kernels before 5.19
 * refuse every bpf() call without CAP_BPF while
 * kernel.unprivileged_bpf_disabled is set: say so now rather than lose the
 * counters and the exit listing quietly. And --prom-file is rewritten by
 * the user tcpwave becomes: a directory only root can write fails now, not
 * an interval later.
 */
static int check_unprivileged_access(struct app *app, struct tracer *t)
{
	const char *user = app->privilege.switch_user ? app->privilege.user : "the invoking user";
	struct summary_sockets sk;
	int err;

	if (app->privilege.keep)
		return 0;
	err = tracer_read_counters(t, app->counters);
	if (err) {
		fprintf(stderr, "tcpwave: reading BPF maps without privileges: %s; this kernel "
				"needs --no-drop\n", strerror(-err));
		return err;
	}
	/* Written first as root (start_summaries()); every later write is the user's. */
	if (app->opt.prom_file) {
		sk = count_sockets(app);
		err = write_prom_file(app, timefmt_mono_now_ns(), &sk);
		if (err) {
			fprintf(stderr, "tcpwave: --prom-file: %s must be writable by %s, as whom "
					"tcpwave runs once set up (--user, --no-drop)\n",
				app->opt.prom_file, user);
			return err;
		}
	}
	if (app->opt.verbose)
		fprintf(stderr, "tcpwave: running as %s (uid %u, gid %u) without capabilities\n",
			user, (unsigned)getuid(), (unsigned)getgid());
	return 0;
}

static int trace(struct app *app)
{
	struct tracer t;
	uint64_t deadline = 0;
	int err;

	/* Before loading BPF: a path that cannot be written is known at once. */
	if (app->opt.write_path && recording_writer_open(&app->rec, app->opt.write_path))
		return 1;
	err = tracer_open(&t, &app->opt, on_record, app);
	if (err) {
		recording_writer_close(&app->rec);
		return 1;
	}
	/* Everything that needs privilege is done: nothing after this is root. */
	if (privilege_drop(&app->privilege) || check_unprivileged_access(app, &t)) {
		recording_writer_close(&app->rec);
		tracer_close(&t);
		return 1;
	}
	app->real_minus_mono_ns = timefmt_real_minus_mono_ns();
	app->next_report_ns = timefmt_mono_now_ns() + app->report_every_ns;
	if (start_recording(app, &t)) {
		recording_writer_close(&app->rec);
		tracer_close(&t);
		return 1;
	}
	if (app->opt.duration_ns)
		deadline = timefmt_mono_now_ns() + app->opt.duration_ns;
	print_header(app);
	fprintf(stderr, "tcpwave: tracing TCP %s; Ctrl-C to stop\n",
		app->opt.events ? "state transitions" : "connections");

	while (keep_tracing(app)) {
		/*
		 * A record reserved before now is handed over by this poll, so a
		 * connection due by now has had its grace for a late reset.
		 */
		app->now_ns = timefmt_mono_now_ns();
		err = check_stuck(app, &t) ?: check_handovers(app, &t);
		if (err)
			break;
		err = tracer_poll(&t, poll_timeout_ms(app, app->now_ns));
		if (err < 0 && err != -EINTR && err != -EPIPE) {
			fprintf(stderr, "tcpwave: reading the ring buffer: %s\n", strerror(-err));
			break;
		}
		err = 0;
		if (tracer_counters_due(&t, app->now_ns))
			report_lost(app, &t);
		release_due(app, app->now_ns);
		report_if_due(app);
		sink_flush(&app->out);
		if (reopen_requested) {
			/* Records are written whole, so none is split across the two files. */
			reopen_requested = 0;
			if (sink_reopen(&app->out) == 0)
				print_header(app);
		}
		recording_writer_flush(&app->rec);
		if (deadline && timefmt_mono_now_ns() >= deadline)
			break;
	}
	finish(app, &t);
	if (recording_writer_close(&app->rec))
		err = -EIO;
	print_exit_summary(app, &t);
	tracer_close(&t);
	if (err || app->out.status == SINK_FAILED || app->prom_err)
		return 1;
	return 0;
}

static void replay_release(void *ctx, uint64_t now_ns)
{
	struct app *app = ctx;

	app->now_ns = now_ns;
	release_due(app, now_ns);
}

static void replay_counters(void *ctx, const uint64_t counters[TW_CNT_MAX], uint64_t now_ns)
{
	struct app *app = ctx;

	app->now_ns = now_ns;
	take_counters(app, counters, now_ns);
}

static void replay_finish(void *ctx, uint64_t now_ns)
{
	struct app *app = ctx;

	app->now_ns = now_ns;
	release_all(app, now_ns);
}

static void replay_cgroup(void *ctx, uint64_t id, const char *path, size_t len)
{
	struct app *app = ctx;

	if (cgroup_path_record(&app->cgroups, id, path, len))
		fprintf(stderr, "tcpwave: cgroup paths: %s\n", strerror(ENOMEM));
}

static void replay_local_addrs(void *ctx, const struct recording_frame *fr)
{
	struct app *app = ctx;
	uint8_t addr[16];
	uint16_t family;
	size_t i;

	/* The first comes as tracing began (version 2): the summary's start. */
	if (app->opt.summary && !app->shown.start_ns)
		app->shown.start_ns = fr->time_ns;
	app->local.count = 0;
	for (i = 0; i < recording_local_addr_count(fr); i++) {
		recording_local_addr(fr, i, &family, addr);
		local_addrs_add(&app->local, family, addr);
	}
}

/*
 * The tracing host's cgroup paths and addresses, where the recording holds
 * them (version 2): a replay on any host then decides and prints as the
 * live run did. Version 1 recordings hold neither: this host's stand in.
 */
static void take_recorded_host(struct app *app, const struct replay *rp)
{
	if (rp->header.version < 2) {
		local_addrs_refresh(&app->local, 0);
		return;
	}
	cgroup_path_use_recorded(&app->cgroups);
	app->want_cgroups = app->opt.json || app->opt.filter.ncgroups;
	app->local.recorded = true;
}

/*
 * The recording decides what it holds: transitions or connections, and the
 * host's facts. Options that contradict it are a usage error (exit 2).
 */
static int take_recorded_mode(struct app *app, const struct replay *rp)
{
	bool events = rp->header.flags & RECORDING_FLAG_EVENTS;
	const char *needs_connections = app->opt.timeline ? "--timeline" :
					app->opt.summary  ? "--summary" :
							    NULL;

	if (app->opt.events && !events) {
		fprintf(stderr, "tcpwave: --events: %s holds connections (recorded without --events)\n",
			rp->name);
		return 2;
	}
	if (needs_connections && events) {
		fprintf(stderr, "tcpwave: %s: %s holds transitions (recorded with --events)\n",
			needs_connections, rp->name);
		return 2;
	}
	app->opt.events = events;
	app->recorded_filtered = rp->header.flags & RECORDING_FLAG_FILTERED;
	app->real_minus_mono_ns = rp->header.real_minus_mono_ns;
	app->env.fin_timeout_ns = rp->header.fin_timeout_ns;
	app->env.time_wait_ns = rp->header.time_wait_ns;
	handover_wait_init(&app->held, HANDOVER_WAIT_MAX, app->env.fin_timeout_ns);
	take_recorded_host(app, rp);
	return 0;
}

/* What the summaries count as a slow close: --slow-close, or their default. */
static uint64_t slow_close_ns(const struct options *o)
{
	return o->slow_close_ns >= 0 ? (uint64_t)o->slow_close_ns : SUMMARY_SLOW_CLOSE_DEFAULT_NS;
}

/* -s on a replay: the period is the recording's, from its first frame to its end. */
static int start_replay_summary(struct app *app)
{
	uint64_t slow = slow_close_ns(&app->opt);

	if (summary_init(&app->shown, slow, 0, app->counters)) {
		fprintf(stderr, "tcpwave: summary: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

static int replay_record(void *ctx, const void *data, size_t size, uint64_t recv_ns)
{
	struct app *app = ctx;

	/* Version 1 holds no frame from the start: the first record stands in. */
	if (app->opt.summary && !app->shown.start_ns)
		app->shown.start_ns = recv_ns;
	return handle_record(ctx, data, size, recv_ns);
}

/* The sockets the recording counted as tracing stopped; null where it has none. */
static void end_replay_summary(struct app *app)
{
	print_summary(app, app->now_ns, &app->replayed_sockets);
}

static void replay_sockets(void *ctx, uint64_t time_wait, uint64_t close_wait)
{
	struct app *app = ctx;

	app->replayed_sockets = (struct summary_sockets){ .known = true,
							  .time_wait = time_wait,
							  .close_wait = close_wait };
}

/* -v: what the tracing host's start-up walk found, as the live run said it. */
static void replay_snapshot(void *ctx, const struct recording_frame *fr)
{
	struct app *app = ctx;
	struct tw_snapshot_counts c;
	struct strbuf sb = {};
	uint32_t namespaces;
	uint64_t took_ns;

	if (!app->opt.verbose)
		return;
	recording_snapshot(fr, &c, &namespaces, &took_ns);
	snapshot_describe(&sb, &c, namespaces, took_ns);
	fprintf(stderr, "tcpwave: recorded %s\n", sb.data);
	strbuf_free(&sb);
}

/* --read: no BPF, no privileges, no waiting; the recorded times drive the steps. */
static int replay(struct app *app)
{
	static const struct replay_ops ops = {
		.record = replay_record,
		.release = replay_release,
		.counters = replay_counters,
		.finish = replay_finish,
		.cgroup = replay_cgroup,
		.local_addrs = replay_local_addrs,
		.snapshot = replay_snapshot,
		.sockets = replay_sockets,
	};
	struct replay rp;
	int rc;

	if (replay_open(&rp, app->opt.read_path))
		return 1;
	/* A recording is input like any other: it is not parsed as root. */
	if (privilege_drop(&app->privilege)) {
		replay_close(&rp);
		return 1;
	}
	rc = take_recorded_mode(app, &rp);
	if (!rc && app->opt.summary && start_replay_summary(app))
		rc = 1;
	if (!rc) {
		print_header(app);
		if (replay_run(&rp, &ops, app))
			rc = 1;
		/* After what follows the finish frame, as at the end of tracing. */
		report_losses(app, app->now_ns, true);
		if (app->opt.summary)
			end_replay_summary(app);
		sink_flush(&app->out);
		print_exit_summary(app, NULL);
		if (app->out.status == SINK_FAILED)
			rc = 1;
	}
	replay_close(&rp);
	return rc;
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

/*
 * cgroup v2 paths: the JSON records carry them, --cgroup names them. Each
 * --cgroup becomes the id and depth the kernel side tests. Returns the exit
 * status to end with, or 0 to go on.
 */
static int setup_cgroups(struct app *app)
{
	struct filter *f = &app->opt.filter;
	struct filter_cgroup *c;
	unsigned int i;
	int err;

	/* A recording carries the paths whatever the live run prints, for a replay in JSON. */
	if (!app->opt.json && !f->ncgroups && !app->opt.write_path)
		return 0;
	err = cgroup_path_open(&app->cgroups);
	if (err && f->ncgroups) {
		fprintf(stderr, "tcpwave: --cgroup: cannot find the cgroup v2 hierarchy: %s\n",
			err == -ENOENT ? "no cgroup2 mount in /proc/self/mountinfo" :
					 strerror(-err));
		return 1;
	}
	if (err) {
		fprintf(stderr,
			"tcpwave: warning: no cgroup v2 hierarchy (%s); \"cgroup\" is null\n",
			strerror(-err));
		return 0;
	}
	app->want_cgroups = true;
	for (i = 0; i < f->ncgroups; i++) {
		c = &f->cgroups[i];
		err = cgroup_path_find(&app->cgroups, c->path, c->path, sizeof(c->path), &c->id,
				       &c->level);
		if (err) {
			fprintf(stderr, "tcpwave: --cgroup: '%s' is not a cgroup v2 directory "
					"(cgroup2 is mounted at %s): %s\n",
				c->path, app->cgroups.mount, strerror(-err));
			return 2;
		}
		if (app->opt.verbose)
			fprintf(stderr, "tcpwave: --cgroup %s: cgroup id %llu, depth %u\n", c->path,
				(unsigned long long)c->id, c->level);
	}
	return 0;
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
	uint64_t slow = slow_close_ns(&app->opt);
	uint64_t now_ns = app->started_ns = timefmt_mono_now_ns();
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
	if (privilege_plan(&app.privilege, app.opt.user, app.opt.no_drop))
		return 2;
	if (privilege_check_plan(&app.privilege))
		return 1;
	if (app.opt.output) {
		if (sink_open_file(&app.out, app.opt.output))
			return 1;
	} else {
		sink_init_stdout(&app.out);
	}
	recording_writer_init(&app.rec);
	conn_queue_init(&app.pending, LATE_RESET_GRACE_NS);
	app.color = !app.opt.output && want_color();
	app.slow.close_ns = app.opt.slow_close_ns;
	app.slow.handshake_ns = app.opt.slow_handshake_ns;
	filter_stream_init(&app.stream, &app.opt.filter);
	cgroup_path_init(&app.cgroups, NULL);
	rc = setup_cgroups(&app);
	if (!rc && app.opt.read_path) {
		rc = replay(&app);
	} else if (!rc) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		/* With -o, SIGHUP reopens the file; a terminal's hangup ends tracing. */
		sigaction(SIGHUP, app.opt.output ? &hup : &sa, NULL);
		/* The kernel side applies the same filters: what it let through, it matched. */
		app.opt.filter.kernel_applied = true;
		app.env.time_wait_ns = TIME_WAIT_NS;
		app.env.fin_timeout_ns = read_fin_timeout_ns();
		handover_wait_init(&app.held, HANDOVER_WAIT_MAX, app.env.fin_timeout_ns);
		rc = start_summaries(&app);
		if (!rc)
			rc = trace(&app);
	}
	if (sink_close(&app.out) == SINK_FAILED)
		rc = 1;
	handover_wait_free(&app.held);
	open_at_exit_free(&app.open);
	local_addrs_free(&app.local);
	summary_free(&app.shown);
	summary_free(&app.total);
	filter_stream_free(&app.stream);
	cgroup_path_close(&app.cgroups);
	conn_queue_free(&app.pending);
	strbuf_free(&app.line);
	return rc;
}
