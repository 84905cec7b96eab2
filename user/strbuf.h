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
 * a compare and a store or two. Always: left to itself, GCC calls some of
 * them out of line from a long record writer, and each key's length is then
 * a strlen() and a memcpy() call at run time.
 */
#define APPEND_INLINE static inline __attribute__((always_inline))

/* Where the next n bytes go, with room made for them and the NUL. */
APPEND_INLINE char *strbuf_room(struct strbuf *sb, size_t n)
{
	if (sb->len + n >= sb->cap)
		strbuf_grow(sb, n);
	return sb->data + sb->len;
}

/* Count the n bytes written at strbuf_room()'s pointer. */
APPEND_INLINE void strbuf_commit(struct strbuf *sb, size_t n)
{
	sb->len += n;
	sb->data[sb->len] = '\0';
}

APPEND_INLINE void strbuf_add(struct strbuf *sb, const void *bytes, size_t n)
{
	memcpy(strbuf_room(sb, n), bytes, n);
	strbuf_commit(sb, n);
}

APPEND_INLINE void strbuf_addc(struct strbuf *sb, char c)
{
	*strbuf_room(sb, 1) = c;
	strbuf_commit(sb, 1);
}

APPEND_INLINE void strbuf_adds(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v in decimal, of two digits or more. */
void strbuf_add_decimal(struct strbuf *sb, uint64_t v);

/* Decimal, without printf's cost: a record has some thirty numbers, most of them 0 or small. */
APPEND_INLINE void strbuf_add_u64(struct strbuf *sb, uint64_t v)
{
	if (v < 10)
		strbuf_addc(sb, (char)('0' + v));
	else
		strbuf_add_decimal(sb, v);
}
/* The last `width` decimal digits of v, with zeros in front: a fraction of a second. */
void strbuf_add_zero_padded(struct strbuf *sb, uint32_t v, unsigned int width);
/* Append n spaces. */
void strbuf_add_spaces(struct strbuf *sb, size_t n);
/* Append spaces until the text since `start` is at least `width` bytes long. */
void strbuf_pad(struct strbuf *sb, size_t start, size_t width);

#endif
