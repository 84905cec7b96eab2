/* SPDX-License-Identifier: GPL-2.0 */
/* A growable byte string: records are built whole, then written in one call. */
#ifndef TCPWAVE_STRBUF_H
#define TCPWAVE_STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *data; /* NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
};

void strbuf_reset(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *bytes, size_t n);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal, without printf's cost: the hot path formats many numbers. */
void strbuf_add_u64(struct strbuf *sb, uint64_t v);
/* Append spaces until the text since `start` is at least `width` bytes long. */
void strbuf_pad(struct strbuf *sb, size_t start, size_t width);

#endif
