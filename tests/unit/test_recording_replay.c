// SPDX-License-Identifier: GPL-2.0
/* replay: the live loop's steps, in the recorded order and at the recorded times. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <unistd.h>
#include "unit.h"
#include "replay.h"
#include "rst_reason.h"
#include "test_recording_util.h"

/* What the replay asked for, one step a line: "record 2 @100", "release @20000000", ... */
struct log {
	char text[1024];
	int stop_after; /* records; 0: never stop */
	int records;
};

static void log_step(struct log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_step(struct log *l, const char *fmt, ...)
{
	size_t used = strlen(l->text);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->text + used, sizeof(l->text) - used, fmt, ap);
	va_end(ap);
}

static int log_record(void *ctx, const void *data, size_t size, uint64_t recv_ns)
{
	struct log *l = ctx;

	log_step(l, "record %u/%zu @%" PRIu64 "\n", *(const unsigned char *)data, size, recv_ns);
	return ++l->records == l->stop_after ? -EPIPE : 0;
}

static void log_release(void *ctx, uint64_t now_ns)
{
	log_step(ctx, "release @%" PRIu64 "\n", now_ns);
}

static void log_counters(void *ctx, const uint64_t counters[TW_CNT_MAX], uint64_t now_ns)
{
	log_step(ctx, "counters %" PRIu64 " %" PRIu64 " %" PRIu64 " @%" PRIu64 "\n",
		 counters[TW_CNT_LOST], counters[TW_CNT_HELD_DROPPED], counters[TW_CNT_SOCK_DROPPED],
		 now_ns);
}

static void log_finish(void *ctx, uint64_t now_ns)
{
	log_step(ctx, "finish @%" PRIu64 "\n", now_ns);
}

static void log_cgroup(void *ctx, uint64_t id, const char *path, size_t len)
{
	log_step(ctx, "cgroup %" PRIu64 " %.*s\n", id, (int)len, path);
}

static void log_local_addrs(void *ctx, const struct recording_frame *fr)
{
	log_step(ctx, "local addresses %zu @%" PRIu64 "\n", recording_local_addr_count(fr),
		 fr->time_ns);
}

static void log_snapshot(void *ctx, const struct recording_frame *fr)
{
	log_step(ctx, "start-up walk @%" PRIu64 "\n", fr->time_ns);
}

static void log_sockets(void *ctx, uint64_t time_wait, uint64_t close_wait)
{
	log_step(ctx, "sockets %" PRIu64 " %" PRIu64 "\n", time_wait, close_wait);
}

static const struct replay_ops log_ops = {
	.record = log_record,
	.release = log_release,
	.counters = log_counters,
	.finish = log_finish,
	.cgroup = log_cgroup,
	.local_addrs = log_local_addrs,
	.snapshot = log_snapshot,
	.sockets = log_sockets,
};

/* Replay bytes as a file; returns replay_run()'s result, the steps in l, stderr in cap. */
static int replay_bytes(const unsigned char *bytes, size_t len, struct log *l, struct captured *cap)
{
	char path[] = "/tmp/tcpwave-unit-XXXXXX";
	struct replay rp;
	int err;

	sample_save(bytes, len, path);
	capture_stderr(cap);
	err = replay_open(&rp, path);
	if (!err) {
		err = replay_run(&rp, &log_ops, l);
		replay_close(&rp);
	}
	captured_text(cap);
	unlink(path);
	return err;
}

TEST(test_recording_replay_repeats_the_loop_steps_in_order)
{
	struct sample s;
	struct log l = {};
	struct captured cap;
	char want[512];

	sample_make(&s);
	CHECK_INT(replay_bytes(s.bytes, s.len, &l, &cap), 0);
	snprintf(want, sizeof(want),
		 "local addresses 2 @10\n"
		 "start-up walk @10\n"
		 "cgroup 5 /system.slice/x.service\n"
		 "record 2/%zu @100\n"
		 "record 3/%zu @105\n"
		 "release @20000000\n"
		 "counters 3 1 0 @20000000\n"
		 "sockets 40 2\n"
		 "finish @30000000\n"
		 "record 2/%zu @30000001\n",
		 sizeof(struct tw_conn), sizeof(struct tw_reset), sizeof(struct tw_conn));
	CHECK_STR(l.text, want);
	CHECK_STR(cap.text, "");
}

TEST(test_recording_replay_takes_the_recorded_rst_reason_names_only)
{
	struct sample s;
	struct log l = {};
	struct captured cap;

	sample_make(&s);
	/* This host's kernel names 5; the recording's does not. */
	rst_reason_set(5, "TCP_TIMEOUT");
	CHECK_INT(replay_bytes(s.bytes, s.len, &l, &cap), 0);
	CHECK(rst_reason_name(5) == NULL);
	CHECK_STR(rst_reason_name(12) ? rst_reason_name(12) : "(null)", "TCP_ABORT_ON_LINGER");
	CHECK_STR(rst_reason_name(0) ? rst_reason_name(0) : "(null)", "NOT_SPECIFIED");
	rst_reason_set(0, NULL);
	rst_reason_set(12, NULL);
}

TEST(test_recording_replay_of_a_cut_recording_releases_what_it_read_and_says_where)
{
	struct sample s;
	struct log l = {};
	struct captured cap;
	char want[512];

	sample_make(&s);
	CHECK_INT(replay_bytes(s.bytes, s.at_release + 3, &l, &cap), -EINVAL);
	snprintf(want, sizeof(want),
		 "local addresses 2 @10\n"
		 "start-up walk @10\n"
		 "cgroup 5 /system.slice/x.service\n"
		 "record 2/%zu @100\n"
		 "record 3/%zu @105\n"
		 "finish @105\n",
		 sizeof(struct tw_conn), sizeof(struct tw_reset));
	CHECK_STR(l.text, want);
	CHECK(strstr(cap.text, "tcpwave: /tmp/tcpwave-unit-") == cap.text);
	snprintf(want, sizeof(want),
		 ": byte %zu: expected a 16-byte frame header, found the end of the file after 3: "
		 "the recording stops after 2 records (was tcpwave killed while writing it?)\n",
		 s.at_release);
	CHECK_STR(strchr(cap.text + strlen("tcpwave: "), ':'), want);
}

TEST(test_recording_replay_stops_when_the_output_goes_away)
{
	struct sample s;
	struct log l = { .stop_after = 1 };
	struct captured cap;
	char want[160];

	sample_make(&s);
	CHECK_INT(replay_bytes(s.bytes, s.len, &l, &cap), 0);
	snprintf(want, sizeof(want),
		 "local addresses 2 @10\n"
		 "start-up walk @10\n"
		 "cgroup 5 /system.slice/x.service\n"
		 "record 2/%zu @100\n",
		 sizeof(struct tw_conn));
	CHECK_STR(l.text, want);
}

TEST(test_recording_replay_names_a_file_it_cannot_open)
{
	struct replay rp;
	struct captured cap;

	capture_stderr(&cap);
	CHECK_INT(replay_open(&rp, "/nonexistent/rec"), -ENOENT);
	CHECK_STR(captured_text(&cap), "tcpwave: /nonexistent/rec: No such file or directory\n");
}

TEST(test_recording_replay_names_the_file_in_a_header_error)
{
	struct sample s;
	struct log l = {};
	struct captured cap;

	sample_make(&s);
	s.bytes[RECORDING_AT_VERSION] = 7;
	CHECK_INT(replay_bytes(s.bytes, s.len, &l, &cap), -EINVAL);
	CHECK_STR(l.text, "");
	CHECK(strstr(cap.text, ": byte 16: expected format version 1 to 2, found 7\n") != NULL);
}
