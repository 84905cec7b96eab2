// SPDX-License-Identifier: GPL-2.0
/* -s, --interval and --prom-file: parsed, range-checked, and refused where they mean nothing. */
#include "unit.h"

#include <stdlib.h>
#include "options.h"

/*
 * Parse args (NULL-terminated, without the program name); the message, if
 * any, in *msg, which is freed first and must be freed after the last call.
 */
static enum options_result parse_args(struct options *o, char **msg, const char *const *args)
{
	char *argv[16] = { "tcpwave" };
	enum options_result rc;
	size_t len;
	FILE *out, *err;
	int argc = 1;

	free(*msg);
	out = fopen("/dev/null", "w");
	err = open_memstream(msg, &len);

	if (!out || !err) {
		perror("options test");
		exit(1);
	}
	while (args[argc - 1] && argc < 15) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	rc = options_parse(o, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return rc;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* The command line must be refused (exit 2) with exactly this message. */
#define CHECK_REFUSED(message, ...)                                                                \
	do {                                                                                       \
		struct options o_;                                                                 \
		char *msg_ = NULL;                                                                 \
		CHECK_INT(parse_args(&o_, &msg_, ARGS(__VA_ARGS__)), OPTIONS_USAGE);               \
		CHECK_STR(msg_, message);                                                          \
		free(msg_);                                                                        \
	} while (0)

TEST(test_options_summary_defaults_off)
{
	struct options o;
	char *msg = NULL;

	CHECK_INT(parse_args(&o, &msg, ARGS("-j")), OPTIONS_RUN);
	CHECK(!o.summary);
	CHECK_INT(o.interval_ns, 0);
	CHECK(o.prom_file == NULL);
	CHECK_INT(o.slow_close_ns, -1);
	free(msg);
}

TEST(test_options_summary_interval_and_prom_file)
{
	struct options o;
	char *msg = NULL;

	CHECK_INT(parse_args(&o, &msg, ARGS("-sj", "--interval", "2.5")), OPTIONS_RUN);
	CHECK(o.summary && o.json);
	CHECK_INT(o.interval_ns, 2500000000ll);
	CHECK_INT(parse_args(&o, &msg, ARGS("--summary", "--prom-file", "/x/t.prom")), OPTIONS_RUN);
	CHECK(o.summary);
	CHECK_STR(o.prom_file, "/x/t.prom");
	CHECK_INT(o.interval_ns, 0);
	/* --prom-file alone, and with an interval of its own; with a timeline too. */
	CHECK_INT(parse_args(&o, &msg, ARGS("--prom-file=t.prom", "--interval", "0.1")), OPTIONS_RUN);
	CHECK(!o.summary);
	CHECK_INT(o.interval_ns, OPTIONS_INTERVAL_MIN_NS);
	CHECK_INT(parse_args(&o, &msg, ARGS("-t", "-s")), OPTIONS_RUN);
	CHECK(o.timeline && o.summary);
	CHECK_INT(OPTIONS_PROM_INTERVAL_DEFAULT_NS, 15000000000ll);
	free(msg);
}

TEST(test_options_interval_is_range_checked)
{
	CHECK_REFUSED("tcpwave: --interval: invalid value '0.09': expected seconds, from 0.1 to a "
		      "year\n",
		      "-s", "--interval", "0.09");
	CHECK_REFUSED("tcpwave: --interval: invalid value '0': expected seconds, from 0.1 to a "
		      "year\n",
		      "-s", "--interval", "0");
	CHECK_REFUSED("tcpwave: --interval: invalid value '31622401': expected seconds, from 0.1 "
		      "to a year\n",
		      "-s", "--interval", "31622401");
	CHECK_REFUSED("tcpwave: --interval: invalid value '5s': expected seconds, from 0.1 to a "
		      "year\n",
		      "-s", "--interval", "5s");
	CHECK_REFUSED("tcpwave: --interval: needs a value\n", "-s", "--interval");
}

TEST(test_options_interval_needs_something_to_report)
{
	CHECK_REFUSED("tcpwave: --interval: needs --summary or --prom-file\n", "--interval", "5");
}

TEST(test_options_summaries_are_of_connections_not_events)
{
	CHECK_REFUSED("tcpwave: --summary: summarises connections, not --events\n", "--events",
		      "-s");
	CHECK_REFUSED("tcpwave: --prom-file: summarises connections, not --events\n",
		      "--prom-file", "t.prom", "--events");
	CHECK_REFUSED("tcpwave: --prom-file: invalid value '': expected a file name\n",
		      "--prom-file", "");
}
