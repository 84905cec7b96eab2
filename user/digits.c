// SPDX-License-Identifier: GPL-2.0
#include "digits.h"

#include <string.h>

unsigned int digits_count(uint64_t v)
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

char *digits_write(char *out, uint64_t v)
{
	char *end = out + digits_count(v), *p = end;
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
	return end;
}

char *digits_write_padded(char *out, uint32_t v, unsigned int width)
{
	char *end = out + width, *p = end;
	unsigned int left;

	for (left = width; left >= 2; left -= 2, v /= 100)
		p = pair_before(p, v % 100);
	if (left)
		p[-1] = (char)('0' + v % 10);
	return end;
}
