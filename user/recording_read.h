/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --read: a recording (recording.h), checked as it is read. Whatever a file
 * holds, the reader either hands over well-formed frames or stops with a
 * message that names the byte and what was expected there:
 * "byte 16: expected format version 1, found 7". It allocates one buffer of
 * RECORDING_FRAME_MAX bytes, whatever the file claims.
 */
#ifndef TCPWAVE_RECORDING_READ_H
#define TCPWAVE_RECORDING_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "recording.h"

struct recording_frame {
	uint16_t type; /* enum recording_frame_type */
	uint32_t len;
	uint64_t time_ns;
	const void *data; /* len bytes, valid until the next recording_read_frame() */
};

struct recording_reader {
	FILE *f;
	uint64_t offset;	/* bytes read so far */
	uint64_t records;	/* record frames read so far */
	uint32_t version;	/* the header's format version */
	bool ended;		/* the end frame was read */
	unsigned char *payload; /* RECORDING_FRAME_MAX bytes */
	char error[320];	/* why the last call failed */
};

/*
 * Start reading f: its header into *h. 0, or -EINVAL (not a recording, or
 * one this tcpwave cannot read), -EIO or -ENOMEM, with r->error set.
 */
int recording_read_header(struct recording_reader *r, FILE *f, struct recording_header *h);
/*
 * The next frame: 1; 0 after the end frame, at the end of the file; a
 * negative errno with r->error set, also for a recording that stops early.
 */
int recording_read_frame(struct recording_reader *r, struct recording_frame *fr);
/* How many RST reasons an RST reasons frame holds, and entry i (name NUL-terminated). */
size_t recording_rst_reason_count(const struct recording_frame *fr);
void recording_rst_reason(const struct recording_frame *fr, size_t i, uint32_t *value,
			  const char **name);
/* A cgroup frame: the id, and its path of len bytes, not NUL-terminated (len 0: gone). */
void recording_cgroup(const struct recording_frame *fr, uint64_t *id, const char **path,
		      size_t *len);
/* A start-up walk frame's fields. */
void recording_snapshot(const struct recording_frame *fr, struct tw_snapshot_counts *c,
			uint32_t *namespaces, uint64_t *took_ns);
/* A sockets frame's counts. */
void recording_sockets(const struct recording_frame *fr, uint64_t *time_wait,
		       uint64_t *close_wait);
/* How many addresses a local addresses frame holds, and entry i. */
size_t recording_local_addr_count(const struct recording_frame *fr);
void recording_local_addr(const struct recording_frame *fr, size_t i, uint16_t *family,
			  uint8_t addr[16]);
/* Free the buffer; f stays open, it is the caller's. */
void recording_reader_free(struct recording_reader *r);

#endif
