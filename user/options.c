// SPDX-License-Identifier: GPL-2.0
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef TCPWAVE_VERSION
#define TCPWAVE_VERSION "unknown"
#endif

#define RINGBUF_KB_DEFAULT 8192
/* The kernel wants a power of two pages; 4 KiB pages up to 1 GiB. */
#define RINGBUF_KB_MIN 4
#define RINGBUF_KB_MAX (1024 * 1024)
#define SECONDS_MAX (366.0 * 24 * 3600)
#define STUCK_MS_MAX (366ull * 24 * 3600 * 1000)

static const char usage_text[] =
	"Usage: tcpwave [OPTIONS]\n"
	"Trace every TCP connection on this host: handshake, data phase and close.\n"
	"\n"
	"Output (default: one table line per connection when it closes):\n"
	"  -t, --timeline        a timeline per connection: each state, how long,\n"
	"                        and what happened\n"
	"      --events          one line per state transition instead\n"
	"  -j, --json            NDJSON instead of text\n"
	"      --stuck MS        also report, while they are still open, connections\n"
	"                        that have sat MS or longer in CLOSE_WAIT, FIN_WAIT1,\n"
	"                        FIN_WAIT2, LAST_ACK or CLOSING\n"
	"\n"
	"Tracing:\n"
	"  -d, --duration SEC    stop after SEC seconds (decimals allowed)\n"
	"      --ringbuf-kb KB   ring buffer size, a power of two (default 8192)\n"
	"      --attach MODE     auto (default), btf (tp_btf only) or classic\n"
	"                        (the classic tracepoint, as on kernels without\n"
	"                        BTF-enabled tracepoints)\n"
	"  -v, --verbose         say how tcpwave attached and what it found open;\n"
	"                        libbpf's own messages\n"
	"  -h, --help            this text\n"
	"  -V, --version         the version\n"
	"\n"
	"Exit status: 0 done, 1 runtime error, 2 bad command line.\n"
	"\n"
	"Examples:\n"
	"  tcpwave                          every connection as it closes\n"
	"  tcpwave -t                       ... with its whole timeline\n"
	"  tcpwave -j >> conns.ndjson       ... as JSON, for a log pipeline\n"
	"  tcpwave --events                 every transition, as it happens\n"
	"  tcpwave --events -j -d 10        ten seconds of transitions as JSON\n"
	"  tcpwave --stuck 5000             every connection, and those stuck closing 5 s\n";

enum {
	OPT_EVENTS = 256,
	OPT_RINGBUF_KB,
	OPT_ATTACH,
	OPT_STUCK,
};

static const char short_options[] = ":jtd:vhV";
static const struct option long_options[] = {
	{ "events", no_argument, NULL, OPT_EVENTS },
	{ "json", no_argument, NULL, 'j' },
	{ "timeline", no_argument, NULL, 't' },
	{ "duration", required_argument, NULL, 'd' },
	{ "ringbuf-kb", required_argument, NULL, OPT_RINGBUF_KB },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "stuck", required_argument, NULL, OPT_STUCK },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

int options_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int options_parse_seconds(const char *s, uint64_t *ns)
{
	double v;
	char *end;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || end == s || !isfinite(v))
		return -EINVAL;
	if (errno == ERANGE || v <= 0 || v > SECONDS_MAX)
		return -ERANGE;
	/* Round, not truncate: 1.005 is 1.00499999999999989... as a double. */
	v = v * 1e9 + 0.5;
	if (v < 1)
		return -ERANGE;
	*ns = (uint64_t)v;
	return 0;
}

static enum options_result bad_value(FILE *err, const char *opt, const char *value,
				     const char *expected)
{
	fprintf(err, "tcpwave: %s: invalid value '%s': expected %s\n", opt, value, expected);
	return OPTIONS_USAGE;
}

enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out, FILE *err)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->ringbuf_kb = RINGBUF_KB_DEFAULT;
	o->attach = ATTACH_AUTO;

	/* 0 resets getopt fully: a cluster a previous call stopped in ("-hj") is dropped. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		switch (c) {
		case OPT_EVENTS:
			o->events = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			o->timeline = true;
			break;
		case 'd':
			if (options_parse_seconds(optarg, &o->duration_ns))
				return bad_value(err, "--duration", optarg,
						 "seconds, more than 0 and at most a year");
			break;
		case OPT_RINGBUF_KB:
			if (options_parse_u64(optarg, RINGBUF_KB_MIN, RINGBUF_KB_MAX, &v) ||
			    (v & (v - 1)))
				return bad_value(err, "--ringbuf-kb", optarg,
						 "a power of two from 4 to 1048576");
			o->ringbuf_kb = (uint32_t)v;
			break;
		case OPT_ATTACH:
			if (!strcmp(optarg, "auto"))
				o->attach = ATTACH_AUTO;
			else if (!strcmp(optarg, "btf"))
				o->attach = ATTACH_BTF;
			else if (!strcmp(optarg, "classic"))
				o->attach = ATTACH_CLASSIC;
			else
				return bad_value(err, "--attach", optarg, "auto, btf or classic");
			break;
		case OPT_STUCK:
			if (options_parse_u64(optarg, 1, STUCK_MS_MAX, &v))
				return bad_value(err, "--stuck", optarg,
						 "milliseconds, from 1 to a year");
			o->stuck_ns = v * 1000000;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage_text, out);
			return OPTIONS_DONE;
		case 'V':
			fprintf(out, "tcpwave %s\n", TCPWAVE_VERSION);
			return OPTIONS_DONE;
		case ':':
			fprintf(err, "tcpwave: %s: needs a value\n", argv[optind - 1]);
			return OPTIONS_USAGE;
		default:
			/* In "-xj", optind has not moved past the unknown x yet. */
			if (optopt > 0 && optopt < 128 && !strchr(short_options, optopt))
				fprintf(err, "tcpwave: -%c: unknown option; see 'tcpwave --help'\n",
					optopt);
			else
				fprintf(err, "tcpwave: %s: unknown option; see 'tcpwave --help'\n",
					argv[optind - 1]);
			return OPTIONS_USAGE;
		}
	}
	if (o->timeline && (o->json || o->events)) {
		fprintf(err, "tcpwave: --timeline: cannot be combined with %s\n",
			o->json ? "--json" : "--events");
		return OPTIONS_USAGE;
	}
	if (optind < argc) {
		fprintf(err, "tcpwave: %s: unexpected argument; see 'tcpwave --help'\n",
			argv[optind]);
		return OPTIONS_USAGE;
	}
	return OPTIONS_RUN;
}
