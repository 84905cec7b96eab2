/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line options: parsed and range-checked, nothing else. */
#ifndef TCPWAVE_OPTIONS_H
#define TCPWAVE_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "filter.h"

enum attach_mode {
	ATTACH_AUTO, /* tp_btf, falling back to the classic tracepoint */
	ATTACH_BTF,
	ATTACH_CLASSIC,
};

/* How often --prom-file is written when no --interval is given. */
#define OPTIONS_PROM_INTERVAL_DEFAULT_NS (15 * 1000000000ull)
/* --interval's least: a summary costs a socket dump (sock_count.h). */
#define OPTIONS_INTERVAL_MIN_NS (100 * 1000000ull)

struct options {
	bool events; /* one line per transition instead of per connection */
	bool json;
	bool timeline; /* a multi-line picture per connection */
	bool verbose;
	bool summary; /* -s: a summary at exit (and each --interval) */
	uint64_t duration_ns; /* 0: until interrupted */
	uint64_t interval_ns; /* --interval; 0: not given */
	const char *prom_file; /* --prom-file PATH, or NULL */
	/* Only connections whose close or handshake took this long; -1: all. */
	int64_t slow_close_ns;
	int64_t slow_handshake_ns;
	bool no_fin_wait2_hold; /* print an orphan's FIN_WAIT2 hand-over without waiting */
	uint64_t stuck_ns; /* --stuck: report connections this long in a close state; 0: off */
	uint32_t ringbuf_kb;
	uint32_t table_entries; /* --table-entries: the bounded tables' size */
	uint32_t slots; /* --slots: tp_btf mode's preallocated socket state; 0: storage only */
	enum attach_mode attach;
	uint16_t community_id_seed; /* --community-id-seed: the Community ID's seed */
	const char *output; /* -o: append records to this file; NULL: standard output */
	const char *write_path; /* --write: also save the records there */
	const char *read_path; /* --read: replay this recording ("-": stdin) instead of tracing */
	struct filter filter;
	const char *user; /* --user: whom to become after setup (NULL: the default) */
	bool no_drop; /* keep root and every capability */
};

enum options_result {
	OPTIONS_RUN = 0, /* go on and trace */
	OPTIONS_DONE = 1, /* --help or --version was printed: exit 0 */
	OPTIONS_USAGE = 2, /* bad command line, message printed: exit 2 */
};

/* Defaults, then argv. Messages go to err, help and version to out. */
enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out, FILE *err);

/*
 * Parse an unsigned decimal in [min, max]. Rejects signs, trailing text,
 * overflow and empty strings. 0 or -EINVAL / -ERANGE.
 */
int options_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Seconds as a decimal ("2", "0.25"), > 0 and at most a year, into ns. */
int options_parse_seconds(const char *s, uint64_t *ns);

#endif
