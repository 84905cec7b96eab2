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

TEST(test_recording_options_read_refuses_what_only_tracing_uses)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-r", "a", "-w", "b"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: --write: cannot be combined with --read\n");
	CHECK_INT(PARSE(&o, "-d", "5", "-r", "a"), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --duration: cannot be combined with --read, which replays a recording\n");
	CHECK_INT(PARSE(&o, "-r", "a", "--ringbuf-kb", "64"), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --ringbuf-kb: cannot be combined with --read, which replays a recording\n");
	CHECK_INT(PARSE(&o, "--attach", "classic", "-r", "a"), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --attach: cannot be combined with --read, which replays a recording\n");
	CHECK_INT(PARSE(&o, "-r", "a", "-s", "--interval", "5"), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --interval: cannot be combined with --read, which replays a recording\n");
	CHECK_INT(PARSE(&o, "-r", "a", "--prom-file", "x.prom"), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --prom-file: cannot be combined with --read, which replays a recording\n");
	CHECK_INT(PARSE(&o, "-r", "a", "--table-entries", "1024"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: --table-entries: cannot be combined with --read, which "
			    "replays a recording\n");
	CHECK_INT(PARSE(&o, "--slots", "0", "-r", "a"), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --slots: cannot be combined with --read, which replays a recording\n");
	/* The recording's stuck reports were found at the live run's threshold, not this one. */
	CHECK_INT(PARSE(&o, "-r", "a", "--stuck", "5000"), OPTIONS_USAGE);
	CHECK_STR(err_text,
		  "tcpwave: --stuck: cannot be combined with --read, which replays a recording\n");
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
