/* SPDX-License-Identifier: GPL-2.0 */
/* One small summary, written by hand, that the summary formatters' tests print. */
#ifndef TCPWAVE_SUMMARY_FIXTURE_H
#define TCPWAVE_SUMMARY_FIXTURE_H

#include "summary.h"

/*
 * 10 s from 100 s after boot, 2023-11-14T22:13:20Z: four connections. Two
 * opened and closed actively (one close slow, 1.5 s, to 10.0.0.1:5432 from
 * pid 7 "psql"), one accepted from ::1 and closed passively (slow, 1.2 s,
 * owner unknown), one accepted and reset. 4 records lost; TIME_WAIT 9 and
 * CLOSE_WAIT 2 now.
 */
void summary_fixture(struct summary *s);
/* real_minus_mono_ns for the fixture's wall-clock times. */
#define SUMMARY_FIXTURE_REAL_MINUS_MONO (1700000000000000000ll - 100000000000ll)

#endif
