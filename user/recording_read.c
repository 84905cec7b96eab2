// SPDX-License-Identifier: GPL-2.0
#include "recording_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>
#include "tcpwave.h"

#define KILLED_HINT "was tcpwave killed while writing it?"

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* Set r->error to "byte AT: ..." and return err. */
__attribute__((format(printf, 4, 5))) static int fail(struct recording_reader *r, int err,
						      uint64_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->error, sizeof(r->error), "byte %" PRIu64 ": ", at);
	va_start(ap, fmt);
	vsnprintf(r->error + n, sizeof(r->error) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

/* Read up to n bytes; how many came. A read error (not the end of the file) is -EIO. */
static int read_up_to(struct recording_reader *r, void *buf, size_t n, size_t *got)
{
	*got = fread(buf, 1, n, r->f);
	if (*got < n && ferror(r->f))
		return fail(r, -EIO, r->offset + *got, "cannot read: %s", strerror(errno));
	r->offset += *got;
	return 0;
}

/* "89 54 43 ..." */
static void hex_bytes(char *out, size_t size, const unsigned char *b, size_t n)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < n && used + 4 <= size; i++)
		used += (size_t)snprintf(out + used, size - used, i ? " %02x" : "%02x", b[i]);
}

static uint32_t u32_at(const unsigned char *buf, size_t at)
{
	uint32_t v;

	memcpy(&v, buf + at, sizeof(v));
	return v;
}

static uint64_t u64_at(const unsigned char *buf, size_t at)
{
	uint64_t v;

	memcpy(&v, buf + at, sizeof(v));
	return v;
}

static int check_magic(struct recording_reader *r, const unsigned char *head, size_t got)
{
	char want[64], found[64];
	size_t n = got < RECORDING_MAGIC_LEN ? got : RECORDING_MAGIC_LEN;

	if (memcmp(head, RECORDING_MAGIC, n) == 0)
		return 0; /* all of it, or a file that stops inside it */
	hex_bytes(want, sizeof(want), (const unsigned char *)RECORDING_MAGIC, RECORDING_MAGIC_LEN);
	hex_bytes(found, sizeof(found), head, n);
	return fail(r, -EINVAL, RECORDING_AT_MAGIC,
		    "expected the magic of a tcpwave recording, %s, found %s: not a tcpwave "
		    "recording",
		    want, found);
}

static int check_byte_order(struct recording_reader *r, const unsigned char *head)
{
	uint32_t mark = RECORDING_BYTE_ORDER_MARK, found = u32_at(head, RECORDING_AT_BYTE_ORDER);
	char want_hex[16], found_hex[16];

	if (found == mark)
		return 0;
	hex_bytes(want_hex, sizeof(want_hex), (const unsigned char *)&mark, sizeof(mark));
	hex_bytes(found_hex, sizeof(found_hex), head + RECORDING_AT_BYTE_ORDER, sizeof(found));
	/* The records are the writer's structs: another byte order cannot be read as they are. */
	if (found == __builtin_bswap32(mark))
		return fail(r, -EINVAL, RECORDING_AT_BYTE_ORDER,
			    "expected the byte-order mark %s, found %s: the recording was made on "
			    "a host of the other byte order, and tcpwave reads its own only",
			    want_hex, found_hex);
	return fail(r, -EINVAL, RECORDING_AT_BYTE_ORDER,
		    "expected the byte-order mark %s, found %s", want_hex, found_hex);
}

static int check_record_size(struct recording_reader *r, const unsigned char *head, size_t at,
			     const char *what, size_t want)
{
	uint32_t found = u32_at(head, at);

	if (found == want)
		return 0;
	return fail(r, -EINVAL, at,
		    "expected %s records of %zu bytes, found %" PRIu32
		    ": the recording was made by a tcpwave with other records",
		    what, want, found);
}

/* The fields of versions 1 and 2 (the same), in order; the first wrong one is reported. */
static int check_header(struct recording_reader *r, const unsigned char *head, size_t got,
			struct recording_header *h)
{
	uint32_t v;
	int err;

	err = check_magic(r, head, got);
	if (err)
		return err;
	if (got < RECORDING_AT_VERSION)
		goto truncated;
	err = check_byte_order(r, head);
	if (err)
		return err;
	if (got < RECORDING_AT_HEADER_LEN)
		goto truncated;
	v = u32_at(head, RECORDING_AT_VERSION);
	if (v < RECORDING_VERSION_MIN || v > RECORDING_VERSION)
		return fail(r, -EINVAL, RECORDING_AT_VERSION,
			    "expected format version %d to %d, found %" PRIu32,
			    RECORDING_VERSION_MIN, RECORDING_VERSION, v);
	h->version = v;
	r->version = v;
	if (got < RECORDING_HEADER_LEN)
		goto truncated;
	v = u32_at(head, RECORDING_AT_HEADER_LEN);
	if (v < RECORDING_HEADER_LEN || v > RECORDING_HEADER_MAX)
		return fail(r, -EINVAL, RECORDING_AT_HEADER_LEN,
			    "expected a header length from %d to %d, found %" PRIu32,
			    RECORDING_HEADER_LEN, RECORDING_HEADER_MAX, v);
	h->real_minus_mono_ns = (int64_t)u64_at(head, RECORDING_AT_REAL_MINUS_MONO);
	h->fin_timeout_ns = u64_at(head, RECORDING_AT_FIN_TIMEOUT);
	h->time_wait_ns = u64_at(head, RECORDING_AT_TIME_WAIT);
	h->flags = u32_at(head, RECORDING_AT_FLAGS);
	if (h->flags & ~RECORDING_FLAGS_KNOWN)
		return fail(r, -EINVAL, RECORDING_AT_FLAGS,
			    "expected flags within 0x%x, found 0x%" PRIx32, RECORDING_FLAGS_KNOWN,
			    h->flags);
	return check_record_size(r, head, RECORDING_AT_STATE_SIZE, "transition",
				 sizeof(struct tw_state_event)) ?:
		       check_record_size(r, head, RECORDING_AT_CONN_SIZE, "connection",
					 sizeof(struct tw_conn)) ?:
		       check_record_size(r, head, RECORDING_AT_RESET_SIZE, "reset",
					 sizeof(struct tw_reset));
truncated:
	return fail(r, -EINVAL, got,
		    "expected the rest of the %d-byte header, found the end of the file",
		    RECORDING_HEADER_LEN);
}

/* A later version's header fields, which this one does not know: read past them. */
static int skip_header_rest(struct recording_reader *r, uint32_t header_len)
{
	size_t got;
	int err;

	while (r->offset < header_len) {
		size_t n = header_len - r->offset;

		err = read_up_to(r, r->payload, n, &got);
		if (err)
			return err;
		if (got < n)
			return fail(r, -EINVAL, r->offset,
				    "expected the rest of the %" PRIu32
				    "-byte header, found the end of the file",
				    header_len);
	}
	return 0;
}

int recording_read_header(struct recording_reader *r, FILE *f, struct recording_header *h)
{
	unsigned char head[RECORDING_HEADER_LEN];
	size_t got;
	int err;

	memset(r, 0, sizeof(*r));
	memset(h, 0, sizeof(*h));
	r->f = f;
	r->payload = malloc(RECORDING_FRAME_MAX);
	if (!r->payload) {
		snprintf(r->error, sizeof(r->error), "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	err = read_up_to(r, head, sizeof(head), &got);
	if (err)
		return err;
	if (got == 0)
		return fail(r, -EINVAL, 0, "expected a tcpwave recording, found an empty file");
	err = check_header(r, head, got, h);
	if (err)
		return err;
	return skip_header_rest(r, u32_at(head, RECORDING_AT_HEADER_LEN));
}

static const char *const frame_names[] = {
	[RECORDING_FRAME_RECORD] = "record",
	[RECORDING_FRAME_RELEASE] = "release",
	[RECORDING_FRAME_COUNTERS] = "counters",
	[RECORDING_FRAME_RST_REASONS] = "RST reasons",
	[RECORDING_FRAME_FINISH] = "finish",
	[RECORDING_FRAME_END] = "end",
	[RECORDING_FRAME_CGROUP] = "cgroup",
	[RECORDING_FRAME_LOCAL_ADDRS] = "local addresses",
	[RECORDING_FRAME_SNAPSHOT] = "start-up walk",
	[RECORDING_FRAME_SOCKETS] = "sockets",
};

/* Each frame type's lengths: from min to max, in steps of `unit`. */
static const struct {
	uint32_t min, max, unit;
} frame_lengths[] = {
	[RECORDING_FRAME_RECORD] = { 1, RECORDING_FRAME_MAX, 1 },
	[RECORDING_FRAME_RELEASE] = { 0, 0, 1 },
	[RECORDING_FRAME_COUNTERS] = { 8, 8 * RECORDING_COUNTERS_MAX, 8 },
	[RECORDING_FRAME_RST_REASONS] = { 0, RECORDING_RST_REASONS_MAX * RECORDING_RST_REASON_LEN,
					  RECORDING_RST_REASON_LEN },
	[RECORDING_FRAME_FINISH] = { 0, 0, 1 },
	[RECORDING_FRAME_END] = { 0, 0, 1 },
	[RECORDING_FRAME_CGROUP] = { 8, 8 + RECORDING_CGROUP_PATH_MAX, 1 },
	[RECORDING_FRAME_LOCAL_ADDRS] = { 0, RECORDING_FRAME_MAX -
						     RECORDING_FRAME_MAX % RECORDING_LOCAL_ADDR_LEN,
					  RECORDING_LOCAL_ADDR_LEN },
	[RECORDING_FRAME_SNAPSHOT] = { RECORDING_SNAPSHOT_LEN, RECORDING_SNAPSHOT_LEN, 1 },
	[RECORDING_FRAME_SOCKETS] = { RECORDING_SOCKETS_LEN, RECORDING_SOCKETS_LEN, 1 },
};

static int check_frame_length(struct recording_reader *r, uint64_t at, uint16_t type, uint32_t len)
{
	uint32_t min = frame_lengths[type].min, max = frame_lengths[type].max;
	uint32_t unit = frame_lengths[type].unit;

	if (len >= min && len <= max && len % unit == 0)
		return 0;
	if (max == 0)
		return fail(r, -EINVAL, at,
			    "expected an empty %s frame, found a length of %" PRIu32,
			    frame_names[type], len);
	if (unit > 1)
		return fail(r, -EINVAL, at,
			    "expected the length of a %s frame, a multiple of %" PRIu32
			    " from %" PRIu32 " to %" PRIu32 ", found %" PRIu32,
			    frame_names[type], unit, min, max, len);
	return fail(r, -EINVAL, at,
		    "expected the length of a %s frame, from %" PRIu32 " to %" PRIu32
		    ", found %" PRIu32,
		    frame_names[type], min, max, len);
}

/* A name the kernel gave: a C identifier, NUL-terminated and NUL-padded in its field. */
static int check_rst_reasons(struct recording_reader *r, uint64_t at, const unsigned char *p,
			     uint32_t len)
{
	uint32_t off;
	size_t i;

	for (off = 0; off < len; off += RECORDING_RST_REASON_LEN) {
		const unsigned char *name = p + off + 4;

		for (i = 0; i < RECORDING_RST_NAME_LEN - 1 && name[i]; i++)
			if (!(name[i] == '_' || (name[i] >= '0' && name[i] <= '9') ||
			      (name[i] >= 'A' && name[i] <= 'Z') ||
			      (name[i] >= 'a' && name[i] <= 'z')))
				break;
		if (i == 0 || name[i] != '\0')
			return fail(r, -EINVAL, at + off + 4 + i,
				    "expected an RST reason name of 1 to %d letters, digits or '_' "
				    "and a NUL, found byte 0x%02x",
				    RECORDING_RST_NAME_LEN - 1, name[i]);
	}
	return 0;
}

/* A path of the cgroup v2 hierarchy: "/" and more, no NUL. */
static int check_cgroup(struct recording_reader *r, uint64_t at, const unsigned char *p,
			uint32_t len)
{
	const unsigned char *nul;

	if (len == 8)
		return 0; /* the cgroup was gone */
	if (p[8] != '/')
		return fail(r, -EINVAL, at + 8, "expected a cgroup path that starts with '/', "
				"found byte 0x%02x", p[8]);
	nul = memchr(p + 8, '\0', len - 8);
	if (nul)
		return fail(r, -EINVAL, at + (uint64_t)(nul - p),
			    "expected a cgroup path without NUL bytes, found one");
	return 0;
}

/* Each entry: AF_INET or AF_INET6, a reserved 0; an IPv4 address padded with zeros. */
static int check_local_addrs(struct recording_reader *r, uint64_t at, const unsigned char *p,
			     uint32_t len)
{
	static const unsigned char zeros[12];
	uint16_t family, reserved;
	uint32_t off;

	for (off = 0; off < len; off += RECORDING_LOCAL_ADDR_LEN) {
		memcpy(&family, p + off, sizeof(family));
		memcpy(&reserved, p + off + 2, sizeof(reserved));
		if (family != AF_INET && family != AF_INET6)
			return fail(r, -EINVAL, at + off,
				    "expected an address family, %d (IPv4) or %d (IPv6), found %u",
				    AF_INET, AF_INET6, family);
		if (reserved)
			return fail(r, -EINVAL, at + off + 2, "expected 0 (reserved), found %u",
				    reserved);
		if (family == AF_INET && memcmp(p + off + 8, zeros, sizeof(zeros)))
			return fail(r, -EINVAL, at + off + 8,
				    "expected an IPv4 address padded with zeros");
	}
	return 0;
}

static int check_snapshot(struct recording_reader *r, uint64_t at, const unsigned char *p)
{
	size_t pad_at = sizeof(struct tw_snapshot_counts) + 4;
	uint32_t pad;

	memcpy(&pad, p + pad_at, sizeof(pad));
	if (pad)
		return fail(r, -EINVAL, at + pad_at, "expected 0 (reserved), found %" PRIu32, pad);
	return 0;
}

/* What each frame type's payload must hold beyond its length. */
static int check_payload(struct recording_reader *r, uint64_t at, uint16_t type,
			 const unsigned char *p, uint32_t len)
{
	switch (type) {
	case RECORDING_FRAME_RST_REASONS:
		return check_rst_reasons(r, at, p, len);
	case RECORDING_FRAME_CGROUP:
		return check_cgroup(r, at, p, len);
	case RECORDING_FRAME_LOCAL_ADDRS:
		return check_local_addrs(r, at, p, len);
	case RECORDING_FRAME_SNAPSHOT:
		return check_snapshot(r, at, p);
	}
	return 0;
}

/* After the end frame: nothing. */
static int read_past_end(struct recording_reader *r)
{
	unsigned char b;
	size_t got;
	int err = read_up_to(r, &b, 1, &got);

	if (err)
		return err;
	if (got)
		return fail(r, -EINVAL, r->offset - 1,
			    "expected the end of the file after the end frame, found more data");
	return 0;
}

int recording_read_frame(struct recording_reader *r, struct recording_frame *fr)
{
	unsigned char head[RECORDING_FRAME_HEADER_LEN];
	uint64_t at = r->offset;
	uint16_t type, reserved, max_type;
	size_t got;
	int err;

	if (r->ended)
		return read_past_end(r);
	err = read_up_to(r, head, sizeof(head), &got);
	if (err)
		return err;
	if (got == 0)
		return fail(r, -EINVAL, at,
			    "expected a frame, found the end of the file: the recording stops "
			    "without its end frame after %" PRIu64 " record%s (" KILLED_HINT ")",
			    r->records, plural(r->records));
	if (got < sizeof(head))
		return fail(r, -EINVAL, at,
			    "expected a %d-byte frame header, found the end of the file after %zu: "
			    "the recording stops after %" PRIu64 " record%s (" KILLED_HINT ")",
			    RECORDING_FRAME_HEADER_LEN, got, r->records, plural(r->records));
	memcpy(&type, head, sizeof(type));
	memcpy(&reserved, head + 2, sizeof(reserved));
	fr->type = type;
	fr->len = u32_at(head, 4);
	fr->time_ns = u64_at(head, 8);
	fr->data = r->payload;
	max_type = r->version < 2 ? RECORDING_FRAME_TYPE_MAX_V1 : RECORDING_FRAME_TYPE_MAX;
	if (type < RECORDING_FRAME_RECORD || type > max_type)
		return fail(r, -EINVAL, at, "expected a frame type from %d to %u, found %u",
			    RECORDING_FRAME_RECORD, max_type, type);
	if (reserved)
		return fail(r, -EINVAL, at + 2, "expected 0 (reserved), found %u", reserved);
	err = check_frame_length(r, at + 4, type, fr->len);
	if (err)
		return err;
	err = read_up_to(r, r->payload, fr->len, &got);
	if (err)
		return err;
	if (got < fr->len)
		return fail(r, -EINVAL, at + sizeof(head),
			    "expected the %" PRIu32 " bytes of a %s frame, found the end of the "
			    "file after %zu: the recording stops after %" PRIu64
			    " record%s (" KILLED_HINT ")",
			    fr->len, frame_names[type], got, r->records, plural(r->records));
	err = check_payload(r, at + sizeof(head), type, r->payload, fr->len);
	if (err)
		return err;
	if (type == RECORDING_FRAME_RECORD)
		r->records++;
	r->ended = type == RECORDING_FRAME_END;
	return 1;
}

size_t recording_rst_reason_count(const struct recording_frame *fr)
{
	return fr->len / RECORDING_RST_REASON_LEN;
}

void recording_rst_reason(const struct recording_frame *fr, size_t i, uint32_t *value,
			  const char **name)
{
	const unsigned char *entry = (const unsigned char *)fr->data + i * RECORDING_RST_REASON_LEN;

	memcpy(value, entry, sizeof(*value));
	*name = (const char *)entry + sizeof(*value);
}

void recording_cgroup(const struct recording_frame *fr, uint64_t *id, const char **path,
		      size_t *len)
{
	memcpy(id, fr->data, sizeof(*id));
	*path = (const char *)fr->data + sizeof(*id);
	*len = fr->len - sizeof(*id);
}

void recording_snapshot(const struct recording_frame *fr, struct tw_snapshot_counts *c,
			uint32_t *namespaces, uint64_t *took_ns)
{
	const unsigned char *p = fr->data;

	memcpy(c, p, sizeof(*c));
	memcpy(namespaces, p + sizeof(*c), sizeof(*namespaces));
	memcpy(took_ns, p + sizeof(*c) + 8, sizeof(*took_ns));
}

void recording_sockets(const struct recording_frame *fr, uint64_t *time_wait,
		       uint64_t *close_wait)
{
	memcpy(time_wait, fr->data, sizeof(*time_wait));
	memcpy(close_wait, (const unsigned char *)fr->data + 8, sizeof(*close_wait));
}

size_t recording_local_addr_count(const struct recording_frame *fr)
{
	return fr->len / RECORDING_LOCAL_ADDR_LEN;
}

void recording_local_addr(const struct recording_frame *fr, size_t i, uint16_t *family,
			  uint8_t addr[16])
{
	const unsigned char *entry = (const unsigned char *)fr->data + i * RECORDING_LOCAL_ADDR_LEN;

	memcpy(family, entry, sizeof(*family));
	memcpy(addr, entry + 4, 16);
}

void recording_reader_free(struct recording_reader *r)
{
	free(r->payload);
	r->payload = NULL;
}
