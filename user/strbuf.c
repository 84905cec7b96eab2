// SPDX-License-Identifier: GPL-2.0
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The number of decimal digits of v (1 for 0). */
static unsigned int decimal_digits(uint64_t v)
{
	static const uint64_t powers_of_ten[] = {
		1ULL,
		10ULL,
		100ULL,
		1000ULL,
		10000ULL,
		100000ULL,
		1000000ULL,
		10000000ULL,
		100000000ULL,
		1000000000ULL,
		10000000000ULL,
		100000000000ULL,
		1000000000000ULL,
		10000000000000ULL,
		100000000000000ULL,
		1000000000000000ULL,
		10000000000000000ULL,
		100000000000000000ULL,
		1000000000000000000ULL,
		10000000000000000000ULL,
	};
	/* 1233/4096 is just under log10(2): from the bits, the digits or one fewer. */
	unsigned int estimate = (unsigned int)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;

	return estimate + ((v | 1) >= powers_of_ten[estimate]);
}

static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324"
				  "25262728293031323334353637383940414243444546474849"
				  "50515253545556575859606162636465666768697071727374"
				  "75767778798081828384858687888990919293949596979899";

/* Write v < 100 as the two digits before p, which is returned moved back over them. */
static char *pair_before(char *p, unsigned int v)
{
	p -= 2;
	memcpy(p, digit_pairs + 2 * v, 2);
	return p;
}

void strbuf_add_decimal(struct strbuf *sb, uint64_t v)
{
	unsigned int n = decimal_digits(v);
	char *p = strbuf_room(sb, n) + n;
	uint32_t low;

	/*
	 * Written from the last digit back. Four digits per 64-bit division,
	 * then 32-bit arithmetic, which is cheaper, as most numbers fit in it.
	 */
	while (v >= 1ULL << 32) {
		unsigned int four = (unsigned int)(v % 10000);

		v /= 10000;
		p = pair_before(p, four % 100);
		p = pair_before(p, four / 100);
	}
	low = (uint32_t)v;
	while (low >= 100) {
		p = pair_before(p, low % 100);
		low /= 100;
	}
	if (low >= 10)
		pair_before(p, low);
	else
		p[-1] = (char)('0' + low);
	strbuf_commit(sb, n);
}

void strbuf_add_zero_padded(struct strbuf *sb, uint32_t v, unsigned int width)
{
	char *p = strbuf_room(sb, width) + width;
	unsigned int left;

	for (left = width; left >= 2; left -= 2, v /= 100)
		p = pair_before(p, v % 100);
	if (left)
		p[-1] = (char)('0' + v % 10);
	strbuf_commit(sb, width);
}

void strbuf_pad(struct strbuf *sb, size_t start, size_t width)
{
	while (sb->len - start < width)
		strbuf_addc(sb, ' ');
}
