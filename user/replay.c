// SPDX-License-Identifier: GPL-2.0
#include "replay.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "rst_reason.h"

int replay_open(struct replay *rp, const char *path)
{
	int err;

	memset(rp, 0, sizeof(*rp));
	if (strcmp(path, "-") == 0) {
		rp->f = stdin;
		rp->name = "standard input";
	} else {
		rp->f = fopen(path, "rb");
		rp->name = path;
		if (!rp->f) {
			err = -errno;
			fprintf(stderr, "tcpwave: %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	err = recording_read_header(&rp->reader, rp->f, &rp->header);
	if (err) {
		fprintf(stderr, "tcpwave: %s: %s\n", rp->name, rp->reader.error);
		replay_close(rp);
	}
	return err;
}

/* A replay names RST reasons as the recording host did, never as this host's kernel does. */
static void forget_rst_reasons(void)
{
	unsigned int value;

	for (value = 0; value < RST_REASON_MAX; value++)
		rst_reason_set(value, NULL);
}

/* The frame holds the whole table. */
static void take_rst_reasons(const struct recording_frame *fr)
{
	size_t i, n = recording_rst_reason_count(fr);
	const char *name;
	uint32_t value;

	forget_rst_reasons();
	for (i = 0; i < n; i++) {
		recording_rst_reason(fr, i, &value, &name);
		rst_reason_set(value, name);
	}
}

static void take_counters(const struct recording_frame *fr, const struct replay_ops *ops, void *ctx)
{
	uint64_t counters[TW_CNT_MAX] = {};
	size_t n = fr->len < sizeof(counters) ? fr->len : sizeof(counters);

	memcpy(counters, fr->data, n);
	ops->counters(ctx, counters, fr->time_ns);
}

static void take_cgroup(const struct recording_frame *fr, const struct replay_ops *ops, void *ctx)
{
	const char *path;
	uint64_t id;
	size_t len;

	recording_cgroup(fr, &id, &path, &len);
	ops->cgroup(ctx, id, path, len);
}

static void take_sockets(const struct recording_frame *fr, const struct replay_ops *ops, void *ctx)
{
	uint64_t time_wait, close_wait;

	recording_sockets(fr, &time_wait, &close_wait);
	ops->sockets(ctx, time_wait, close_wait);
}

int replay_run(struct replay *rp, const struct replay_ops *ops, void *ctx)
{
	struct recording_frame fr;
	bool finished = false;
	uint64_t last_ns = 0;
	int n;

	forget_rst_reasons();
	while ((n = recording_read_frame(&rp->reader, &fr)) > 0) {
		if (fr.time_ns > last_ns)
			last_ns = fr.time_ns;
		switch (fr.type) {
		case RECORDING_FRAME_RECORD:
			if (ops->record(ctx, fr.data, fr.len, fr.time_ns))
				return 0; /* the output went away: nothing left to do */
			break;
		case RECORDING_FRAME_RELEASE:
			ops->release(ctx, fr.time_ns);
			break;
		case RECORDING_FRAME_COUNTERS:
			take_counters(&fr, ops, ctx);
			break;
		case RECORDING_FRAME_RST_REASONS:
			take_rst_reasons(&fr);
			break;
		case RECORDING_FRAME_FINISH:
			ops->finish(ctx, fr.time_ns);
			finished = true;
			break;
		case RECORDING_FRAME_CGROUP:
			take_cgroup(&fr, ops, ctx);
			break;
		case RECORDING_FRAME_LOCAL_ADDRS:
			ops->local_addrs(ctx, &fr);
			break;
		case RECORDING_FRAME_SNAPSHOT:
			ops->snapshot(ctx, &fr);
			break;
		case RECORDING_FRAME_SOCKETS:
			take_sockets(&fr, ops, ctx);
			break;
		}
	}
	/* A recording cut short still gives every connection it finished. */
	if (!finished)
		ops->finish(ctx, last_ns);
	if (n < 0) {
		fprintf(stderr, "tcpwave: %s: %s\n", rp->name, rp->reader.error);
		return n;
	}
	return 0;
}

void replay_close(struct replay *rp)
{
	recording_reader_free(&rp->reader);
	if (rp->f && rp->f != stdin)
		fclose(rp->f);
	rp->f = NULL;
}
