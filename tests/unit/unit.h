/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal unit test harness: TEST(name) registers a test, the CHECK
 * macros record failures with what was expected and what came.
 */
#ifndef TCPWAVE_UNIT_H
#define TCPWAVE_UNIT_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn);
/* Record a failure of the running test. */
void unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define TEST(name)                                                                                 \
	static void name(void);                                                                    \
	__attribute__((constructor)) static void register_##name(void)                             \
	{                                                                                          \
		unit_register(#name, name);                                                        \
	}                                                                                          \
	static void name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			unit_fail(__FILE__, __LINE__, "expected %s", #cond);                       \
	} while (0)

#define CHECK_INT(got, want)                                                                       \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (g_ != w_)                                                                      \
			unit_fail(__FILE__, __LINE__, "%s: expected %lld, got %lld", #got, w_, g_); \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (strcmp(g_, w_) != 0)                                                           \
			unit_fail(__FILE__, __LINE__, "%s:\n    expected: %s\n    got:      %s",   \
				  #got, w_, g_);                                                   \
	} while (0)

#endif
