/* SPDX-License-Identifier: GPL-2.0 */
/* A growable byte string: records are built whole, then written in one call. */
#ifndef TCPWAVE_STRBUF_H
#define TCPWAVE_STRBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct strbuf {
	char *data; /* NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

void strbuf_reset(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
/* Make room for extra more bytes and the NUL. */
void strbuf_grow(struct strbuf *sb, size_t extra);

/*
 * The appends are inline: a JSON record is some hundred of them, and with
 * the room check and a constant length folded into the caller most become
 * a compare and a store or two.
 */
static inline void strbuf_add(struct strbuf *sb, const void *bytes, size_t n)
{
	if (sb->len + n >= sb->cap)
		strbuf_grow(sb, n);
	memcpy(sb->data + sb->len, bytes, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static inline void strbuf_addc(struct strbuf *sb, char c)
{
	if (sb->len + 1 >= sb->cap)
		strbuf_grow(sb, 1);
	sb->data[sb->len++] = c;
	sb->data[sb->len] = '\0';
}

static inline void strbuf_adds(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal, without printf's cost: the hot path formats many numbers. */
void strbuf_add_u64(struct strbuf *sb, uint64_t v);
/* Append spaces until the text since `start` is at least `width` bytes long. */
void strbuf_pad(struct strbuf *sb, size_t start, size_t width);

#endif
