// SPDX-License-Identifier: GPL-2.0
#include "test_recording_util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "recording_write.h"
#include "rst_reason.h"
#include "unit.h"

static void fill_conn(struct tw_conn *c, __u64 cookie, __u32 flags)
{
	memset(c, 0, sizeof(*c));
	c->type = TW_REC_CONN;
	c->cookie = cookie;
	c->flags = flags | TW_CONN_OWNER_KNOWN;
	c->nsteps = 2;
	c->first_old_state = TW_CLOSE;
	c->step_state[0] = TW_SYN_SENT;
	c->step_state[1] = flags & TW_CONN_OPEN ? TW_ESTABLISHED : TW_CLOSE;
	c->step_ns[1] = 50;
	c->start_ns = 40;
	c->ep.family = 2; /* AF_INET */
	c->ep.laddr[0] = c->ep.raddr[0] = 127;
	c->ep.laddr[3] = c->ep.raddr[3] = 1;
	c->ep.lport = 40000;
	c->ep.rport = 80;
	c->owner.tgid = c->owner.pid = 77;
	strcpy(c->owner.comm, "curl");
}

void sample_make(struct sample *s)
{
	const struct recording_header h = {
		.real_minus_mono_ns = 1000,
		.fin_timeout_ns = 30000000000ull,
		.time_wait_ns = 60000000000ull,
	};
	const uint64_t counters[TW_CNT_MAX] = { [TW_CNT_LOST] = 3, [TW_CNT_HELD_DROPPED] = 1 };
	const __u8 v4[16] = { 10, 0, 0, 1 }, v6[16] = { [15] = 1 };
	struct local_addrs addrs = { 0 };
	struct tw_snapshot_counts walk = { .time_wait = 7 };
	char path[] = "/tmp/tcpwave-unit-XXXXXX";
	struct recording_writer w;
	FILE *f;
	int fd = mkstemp(path);

	memset(s, 0, sizeof(*s));
	fill_conn(&s->conn, 1, 0);
	s->conn.cgroup_id = 5;
	fill_conn(&s->open_conn, 2, TW_CONN_OPEN);
	s->reset = (struct tw_reset){.type = TW_REC_RESET, .sent = 1, .reason = 12, .cookie = 1};
	rst_reason_set(0, "NOT_SPECIFIED");
	rst_reason_set(12, "TCP_ABORT_ON_LINGER");

	CHECK(fd >= 0);
	CHECK_INT(recording_writer_open(&w, path), 0);
	recording_write_header(&w, &h);
	s->at_reasons = w.len;
	recording_write_rst_reasons(&w);
	local_addrs_add(&addrs, AF_INET, v4);
	local_addrs_add(&addrs, AF_INET6, v6);
	s->at_addrs = w.len;
	recording_write_local_addrs(&w, &addrs, 10);
	local_addrs_free(&addrs);
	walk.conns[TW_ESTABLISHED] = 2;
	s->at_snapshot = w.len;
	recording_write_snapshot(&w, &walk, 3, 1234, 10);
	s->at_cgroup = w.len;
	recording_write_cgroup(&w, 5, "/system.slice/x.service", 100);
	s->at_conn = w.len;
	recording_write_record(&w, &s->conn, sizeof(s->conn), 100);
	s->at_reset = w.len;
	recording_write_record(&w, &s->reset, sizeof(s->reset), 105);
	s->at_release = w.len;
	recording_write_release(&w, 20000000);
	s->at_counters = w.len;
	recording_write_counters(&w, counters, TW_CNT_MAX, 20000000);
	s->at_sockets = w.len;
	recording_write_sockets(&w, 40, 2, 30000000);
	s->at_finish = w.len;
	recording_write_finish(&w, 30000000);
	s->at_open = w.len;
	recording_write_record(&w, &s->open_conn, sizeof(s->open_conn), 30000001);
	s->at_end = w.len;
	CHECK_INT(recording_writer_close(&w), 0);

	rst_reason_set(0, NULL);
	rst_reason_set(12, NULL);
	f = fdopen(fd, "rb");
	s->len = fread(s->bytes, 1, sizeof(s->bytes), f);
	fclose(f);
	unlink(path);
	CHECK_INT(s->len, s->at_end + RECORDING_FRAME_HEADER_LEN);
}

FILE *sample_open(const unsigned char *bytes, size_t len)
{
	/* fmemopen() wants a writable buffer even to read it. */
	return fmemopen((void *)bytes, len, "rb");
}

void sample_save(const unsigned char *bytes, size_t len, char *path)
{
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, bytes, len) == (ssize_t)len);
	close(fd);
}

void capture_stderr(struct captured *c)
{
	int fd;

	strcpy(c->path, "/tmp/tcpwave-unit-XXXXXX");
	fd = mkstemp(c->path);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

const char *captured_text(struct captured *c)
{
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	f = fopen(c->path, "r");
	n = f ? fread(c->text, 1, sizeof(c->text) - 1, f) : 0;
	c->text[n] = '\0';
	if (f)
		fclose(f);
	unlink(c->path);
	return c->text;
}
