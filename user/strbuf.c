// SPDX-License-Identifier: GPL-2.0
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "digits.h"

/* Out of memory in a tracer's output path has no useful recovery. */
void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	char *p;

	if (need <= sb->cap)
		return;
	sb->cap = sb->cap ? sb->cap : 256;
	while (sb->cap < need)
		sb->cap *= 2;
	p = realloc(sb->data, sb->cap);
	if (!p) {
		fputs("tcpwave: out of memory\n", stderr);
		exit(1);
	}
	sb->data = p;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* Format straight into the spare room; only a long result goes twice. */
	strbuf_grow(sb, 128);
	va_start(ap, fmt);
	n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->data[sb->len] = '\0';
		return;
	}
	if ((size_t)n >= sb->cap - sb->len) {
		strbuf_grow(sb, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	sb->len += (size_t)n;
}

void strbuf_add_decimal(struct strbuf *sb, uint64_t v)
{
	unsigned int n = digits_count(v);

	digits_write(strbuf_room(sb, n), v);
	strbuf_commit(sb, n);
}

void strbuf_add_zero_padded(struct strbuf *sb, uint32_t v, unsigned int width)
{
	digits_write_padded(strbuf_room(sb, width), v, width);
	strbuf_commit(sb, width);
}

void strbuf_add_spaces(struct strbuf *sb, size_t n)
{
	memset(strbuf_room(sb, n), ' ', n);
	strbuf_commit(sb, n);
}

void strbuf_pad(struct strbuf *sb, size_t start, size_t width)
{
	size_t have = sb->len - start;

	if (have < width)
		strbuf_add_spaces(sb, width - have);
}
