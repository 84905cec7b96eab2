// SPDX-License-Identifier: GPL-2.0
/* --write and --read on the command line, and what a replay cannot be combined with. */
#include <stdlib.h>
#include "unit.h"
#include "options.h"

static char *err_text;

/* Parse a NULL-terminated argv; what went to stderr is in err_text. */
static enum options_result parse(struct options *o, char **argv)
{
	enum options_result rc;
	size_t len;
	FILE *err;
	int argc = 0;

	while (argv[argc])
		argc++;
	free(err_text);
	err = open_memstream(&err_text, &len);
	rc = options_parse(o, argc, argv, stdout, err);
	fclose(err);
	return rc;
}

#define PARSE(o, ...) parse(o, (char *[]){ "tcpwave", __VA_ARGS__, NULL })

TEST(test_recording_options_name_the_files)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-j"), OPTIONS_RUN);
	CHECK(o.write_path == NULL && o.read_path == NULL);
	CHECK_INT(PARSE(&o, "-w", "conns.twr", "--events"), OPTIONS_RUN);
	CHECK_STR(o.write_path, "conns.twr");
	CHECK_INT(PARSE(&o, "--write=/var/tmp/x"), OPTIONS_RUN);
	CHECK_STR(o.write_path, "/var/tmp/x");
	CHECK_INT(PARSE(&o, "-r", "conns.twr", "-t"), OPTIONS_RUN);
	CHECK_STR(o.read_path, "conns.twr");
	CHECK_INT(PARSE(&o, "--read", "-", "--json"), OPTIONS_RUN);
	CHECK_STR(o.read_path, "-");
	CHECK_STR(err_text, "");
}

TEST(test_recording_options_write_needs_a_file_not_standard_output)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-w", "-"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: --write: invalid value '-': expected a file name\n");
	CHECK_INT(PARSE(&o, "--write="), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: --write: invalid value '': expected a file name\n");
	CHECK_INT(PARSE(&o, "-r", ""), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --read: invalid value '': expected a file name, or - for standard input\n");
	CHECK_INT(PARSE(&o, "-w"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: -w: needs a value\n");
}

/* Each option that only tracing uses, refused with --read before or after it. */
static const struct {
	char *argv[4];
	const char *option;
} tracing_only[] = {
	{ { "-d", "5", "-r", "a" }, "--duration" },
	{ { "-r", "a", "--ringbuf-kb", "64" }, "--ringbuf-kb" },
	{ { "--attach", "classic", "-r", "a" }, "--attach" },
	{ { "-r", "a", "--prom-file", "x.prom" }, "--prom-file" },
	{ { "-r", "a", "--table-entries", "1024" }, "--table-entries" },
	{ { "--slots", "0", "-r", "a" }, "--slots" },
	/* The recording's stuck reports were found at the live run's threshold, not this one. */
	{ { "-r", "a", "--stuck", "5000" }, "--stuck" },
};

TEST(test_recording_options_read_refuses_what_only_tracing_uses)
{
	char want[128];
	struct options o;
	size_t i;

	for (i = 0; i < sizeof(tracing_only) / sizeof(tracing_only[0]); i++) {
		CHECK_INT(PARSE(&o, tracing_only[i].argv[0], tracing_only[i].argv[1],
				tracing_only[i].argv[2], tracing_only[i].argv[3]),
			  OPTIONS_USAGE);
		snprintf(want, sizeof(want),
			 "tcpwave: %s: cannot be combined with --read, which replays a recording\n",
			 tracing_only[i].option);
		CHECK_STR(err_text, want);
	}
	CHECK_INT(PARSE(&o, "-r", "a", "-w", "b"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: --write: cannot be combined with --read\n");
	CHECK_INT(PARSE(&o, "-r", "a", "-s", "--interval", "5"), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --interval: cannot be combined with --read, which replays a recording\n");
	/* Output options apply to a replay as they do to tracing; -s covers the recording. */
	CHECK_INT(PARSE(&o, "-r", "a", "-j", "--events", "-v"), OPTIONS_RUN);
	CHECK_STR(err_text, "");
	CHECK_INT(PARSE(&o, "-r", "a", "-s"), OPTIONS_RUN);
	CHECK_STR(err_text, "");
	/* A replay drops privileges as tracing does. */
	CHECK_INT(PARSE(&o, "-r", "a", "--user", "daemon"), OPTIONS_RUN);
	CHECK_INT(PARSE(&o, "-r", "a", "--no-drop"), OPTIONS_RUN);
	CHECK_STR(err_text, "");
}
