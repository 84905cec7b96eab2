// SPDX-License-Identifier: GPL-2.0
#include "recording_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include "fd_write.h"
#include "rst_reason.h"
#include "tcpwave.h"

/* A quarter of a second of records on a busy host: a few writes a second. */
#define BUF_SIZE (256 * 1024)

void recording_writer_init(struct recording_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

static int failed(struct recording_writer *w, int err)
{
	if (!w->err) {
		fprintf(stderr, "tcpwave: writing %s: %s\n", w->name, strerror(-err));
		w->err = err;
	}
	return w->err;
}

int recording_writer_open(struct recording_writer *w, const char *path)
{
	recording_writer_init(w);
	w->name = path;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (w->fd < 0)
		return failed(w, -errno);
	w->buf = malloc(BUF_SIZE);
	if (!w->buf)
		return failed(w, -ENOMEM);
	return 0;
}

int recording_writer_flush(struct recording_writer *w)
{
	int err;

	if (w->fd < 0 || w->err)
		return w->err;
	err = fd_write_all(w->fd, w->buf, w->len);
	if (err)
		return failed(w, err);
	w->len = 0;
	return 0;
}

/* Room for n more bytes in the buffer; n is at most a frame, far below BUF_SIZE. */
static int reserve(struct recording_writer *w, size_t n)
{
	if (w->len + n > BUF_SIZE)
		return recording_writer_flush(w);
	return 0;
}

static void put(struct recording_writer *w, const void *data, size_t n)
{
	if (n) /* empty frames have no payload pointer */
		memcpy(w->buf + w->len, data, n);
	w->len += n;
}

static int write_frame(struct recording_writer *w, uint16_t type, uint64_t time_ns,
		       const void *payload, size_t len)
{
	unsigned char head[RECORDING_FRAME_HEADER_LEN] = {};
	uint32_t len32 = (uint32_t)len;
	int err;

	if (w->fd < 0 || w->err)
		return w->err;
	/* The reader refuses longer frames; BPF records are a few hundred bytes. */
	if (len > RECORDING_FRAME_MAX)
		return failed(w, -EMSGSIZE);
	err = reserve(w, sizeof(head) + len);
	if (err)
		return err;
	memcpy(head, &type, sizeof(type));
	memcpy(head + 4, &len32, sizeof(len32));
	memcpy(head + 8, &time_ns, sizeof(time_ns));
	put(w, head, sizeof(head));
	put(w, payload, len);
	return 0;
}

static void put_u32_at(unsigned char *buf, size_t at, uint32_t v)
{
	memcpy(buf + at, &v, sizeof(v));
}

static void put_u64_at(unsigned char *buf, size_t at, uint64_t v)
{
	memcpy(buf + at, &v, sizeof(v));
}

int recording_write_header(struct recording_writer *w, const struct recording_header *h)
{
	unsigned char head[RECORDING_HEADER_LEN] = {};
	int err;

	if (w->fd < 0 || w->err)
		return w->err;
	err = reserve(w, sizeof(head));
	if (err)
		return err;
	memcpy(head + RECORDING_AT_MAGIC, RECORDING_MAGIC, RECORDING_MAGIC_LEN);
	put_u32_at(head, RECORDING_AT_BYTE_ORDER, RECORDING_BYTE_ORDER_MARK);
	put_u32_at(head, RECORDING_AT_VERSION, RECORDING_VERSION);
	put_u32_at(head, RECORDING_AT_HEADER_LEN, RECORDING_HEADER_LEN);
	put_u64_at(head, RECORDING_AT_REAL_MINUS_MONO, (uint64_t)h->real_minus_mono_ns);
	put_u64_at(head, RECORDING_AT_FIN_TIMEOUT, h->fin_timeout_ns);
	put_u64_at(head, RECORDING_AT_TIME_WAIT, h->time_wait_ns);
	put_u32_at(head, RECORDING_AT_FLAGS, h->flags);
	put_u32_at(head, RECORDING_AT_STATE_SIZE, sizeof(struct tw_state_event));
	put_u32_at(head, RECORDING_AT_CONN_SIZE, sizeof(struct tw_conn));
	put_u32_at(head, RECORDING_AT_RESET_SIZE, sizeof(struct tw_reset));
	put(w, head, sizeof(head));
	w->started = true;
	return 0;
}

int recording_write_rst_reasons(struct recording_writer *w)
{
	unsigned char payload[RST_REASON_MAX * RECORDING_RST_REASON_LEN] = {};
	unsigned char *entry = payload;
	const char *name;
	size_t len;
	uint32_t v;

	for (v = 0; v < RST_REASON_MAX; v++) {
		name = rst_reason_name(v);
		if (!name)
			continue;
		/* NUL-padded: the entry was zeroed, and a longer name is cut. */
		len = strnlen(name, RECORDING_RST_NAME_LEN - 1);
		memcpy(entry, &v, sizeof(v));
		memcpy(entry + sizeof(v), name, len);
		entry += RECORDING_RST_REASON_LEN;
	}
	return write_frame(w, RECORDING_FRAME_RST_REASONS, 0, payload, (size_t)(entry - payload));
}

int recording_write_record(struct recording_writer *w, const void *data, size_t size,
			   uint64_t time_ns)
{
	return write_frame(w, RECORDING_FRAME_RECORD, time_ns, data, size);
}

int recording_write_release(struct recording_writer *w, uint64_t now_ns)
{
	return write_frame(w, RECORDING_FRAME_RELEASE, now_ns, NULL, 0);
}

int recording_write_counters(struct recording_writer *w, const uint64_t *counters, size_t n,
			     uint64_t now_ns)
{
	return write_frame(w, RECORDING_FRAME_COUNTERS, now_ns, counters, n * sizeof(*counters));
}

int recording_write_cgroup(struct recording_writer *w, uint64_t id, const char *path,
			   uint64_t now_ns)
{
	unsigned char payload[sizeof(id) + RECORDING_CGROUP_PATH_MAX];
	size_t len = path ? strlen(path) : 0;

	/* Longer than a path can be (PATH_MAX): never written. */
	if (len > RECORDING_CGROUP_PATH_MAX)
		len = 0;
	memcpy(payload, &id, sizeof(id));
	memcpy(payload + sizeof(id), path ? path : "", len);
	return write_frame(w, RECORDING_FRAME_CGROUP, now_ns, payload, sizeof(id) + len);
}

int recording_write_local_addrs(struct recording_writer *w, const struct local_addrs *l,
				uint64_t now_ns)
{
	size_t i, n = l->count;
	unsigned char *payload;
	int err;

	if (w->fd < 0 || w->err)
		return w->err;
	/* A frame's worth (3,276 addresses); a host with more is not one tcpwave knows. */
	if (n > RECORDING_FRAME_MAX / RECORDING_LOCAL_ADDR_LEN)
		n = RECORDING_FRAME_MAX / RECORDING_LOCAL_ADDR_LEN;
	payload = calloc(n ? n : 1, RECORDING_LOCAL_ADDR_LEN);
	if (!payload)
		return failed(w, -ENOMEM);
	for (i = 0; i < n; i++) {
		unsigned char *entry = payload + i * RECORDING_LOCAL_ADDR_LEN;

		memcpy(entry, &l->addrs[i].family, sizeof(l->addrs[i].family));
		memcpy(entry + 4, l->addrs[i].addr, sizeof(l->addrs[i].addr));
	}
	err = write_frame(w, RECORDING_FRAME_LOCAL_ADDRS, now_ns, payload,
			  n * RECORDING_LOCAL_ADDR_LEN);
	free(payload);
	return err;
}

int recording_write_snapshot(struct recording_writer *w, const struct tw_snapshot_counts *c,
			     uint32_t namespaces, uint64_t took_ns, uint64_t now_ns)
{
	unsigned char payload[RECORDING_SNAPSHOT_LEN] = {};

	memcpy(payload, c, sizeof(*c));
	memcpy(payload + sizeof(*c), &namespaces, sizeof(namespaces));
	memcpy(payload + sizeof(*c) + 8, &took_ns, sizeof(took_ns));
	return write_frame(w, RECORDING_FRAME_SNAPSHOT, now_ns, payload, sizeof(payload));
}

int recording_write_sockets(struct recording_writer *w, uint64_t time_wait, uint64_t close_wait,
			    uint64_t now_ns)
{
	const uint64_t payload[2] = { time_wait, close_wait };

	return write_frame(w, RECORDING_FRAME_SOCKETS, now_ns, payload, sizeof(payload));
}

int recording_write_finish(struct recording_writer *w, uint64_t now_ns)
{
	return write_frame(w, RECORDING_FRAME_FINISH, now_ns, NULL, 0);
}

int recording_writer_close(struct recording_writer *w)
{
	int err;

	if (w->fd < 0)
		return w->err;
	if (w->started)
		write_frame(w, RECORDING_FRAME_END, 0, NULL, 0);
	recording_writer_flush(w);
	/* A file system that writes back late (NFS) reports its error here. */
	if (close(w->fd) && !w->err)
		failed(w, -errno);
	err = w->err;
	free(w->buf);
	recording_writer_init(w);
	return err;
}
