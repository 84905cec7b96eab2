/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decimal digits into a character buffer, without printf's cost: a record
 * has some thirty numbers and a table line a few more, and snprintf() took
 * more of a table line's instructions than all the rest.
 */
#ifndef TCPWAVE_DIGITS_H
#define TCPWAVE_DIGITS_H

#include <stdint.h>

/* The number of decimal digits of v (1 for 0): what digits_write() writes. */
unsigned int digits_count(uint64_t v);
/* v in decimal at out: digits_count(v) bytes, 20 at most, no NUL; returns the end. */
char *digits_write(char *out, uint64_t v);
/* The last `width` decimal digits of v, zeros in front, no NUL; returns the end. */
char *digits_write_padded(char *out, uint32_t v, unsigned int width);

#endif
