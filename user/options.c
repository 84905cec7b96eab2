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
#define SLOW_MS_MAX (366ull * 24 * 3600 * 1000)

static const char usage_text[] =
	"Usage: tcpwave [OPTIONS]\n"
	"Trace every TCP connection on this host: handshake, data phase and close.\n"
	"\n"
	"Output (default: one table line per connection when it closes):\n"
	"  -t, --timeline        a timeline per connection: each state, how long,\n"
	"                        and what happened\n"
	"      --events          one line per state transition instead\n"
	"  -j, --json            NDJSON instead of text\n"
	"  -o, --output FILE     append records to FILE (created rw-r-----)\n"
	"                        instead of standard output; SIGHUP reopens it\n"
	"      --community-id-seed N\n"
	"                        seed of the records' Community ID, 0 to 65535\n"
	"                        (default 0); the same as the other tools' it joins\n"
	"\n"
	"Slow connections (each record says what held it up):\n"
	"      --slow-close MS   only connections whose close took MS or longer\n"
	"      --slow-handshake MS\n"
	"                        only connections whose handshake took MS or longer;\n"
	"                        with --slow-close, those slow in either\n"
	"      --no-fin-wait2-hold\n"
	"                        print a connection closed before its peer's FIN at\n"
	"                        once, without waiting for a peer on this host to\n"
	"                        show how long its close took\n"
	"\n"
	"Summaries:\n"
	"  -s, --summary         at exit, a summary: counts by open and close type,\n"
	"                        histograms of handshake, lifetime and close times,\n"
	"                        the top slow closers, TIME_WAIT and CLOSE_WAIT now\n"
	"      --interval SEC    print the summary every SEC seconds, each one\n"
	"                        covering its interval; write --prom-file as often\n"
	"      --prom-file PATH  write Prometheus metrics to PATH every interval\n"
	"                        (default 15 s) and at exit, for node_exporter's\n"
	"                        textfile collector\n"
	"\n"
	"Tracing:\n"
	"  -d, --duration SEC    stop after SEC seconds (decimals allowed)\n"
	"      --ringbuf-kb KB   ring buffer size, a power of two (default 8192)\n"
	"      --attach MODE     auto (default), btf (tp_btf only) or classic\n"
	"                        (the classic tracepoint, as on kernels without\n"
	"                        BTF-enabled tracepoints)\n"
	"  -v, --verbose         say how tcpwave attached; libbpf's own messages\n"
	"  -h, --help            this text\n"
	"  -V, --version         the version\n"
	"\n"
	"Exit status: 0 done, 1 runtime error, 2 bad command line.\n"
	"\n"
	"Examples:\n"
	"  tcpwave                          every connection as it closes\n"
	"  tcpwave -t                       ... with its whole timeline\n"
	"  tcpwave -j >> conns.ndjson       ... as JSON, for a log pipeline\n"
	"  tcpwave -j -o conns.ndjson       ... into a file that SIGHUP reopens\n"
	"  tcpwave --slow-close 1000        closes that took a second or more, and why\n"
	"  tcpwave -s --interval 10         every connection; a summary every 10 s\n"
	"  tcpwave -j --prom-file /var/lib/prometheus/node-exporter/tcpwave.prom\n"
	"                                   JSON, and metrics for node_exporter\n"
	"  tcpwave --events                 every transition, as it happens\n"
	"  tcpwave --events -j -d 10        ten seconds of transitions as JSON\n";

enum {
	OPT_EVENTS = 256,
	OPT_RINGBUF_KB,
	OPT_ATTACH,
	OPT_COMMUNITY_ID_SEED,
	OPT_SLOW_CLOSE,
	OPT_SLOW_HANDSHAKE,
	OPT_NO_FIN_WAIT2_HOLD,
	OPT_INTERVAL,
	OPT_PROM_FILE,
};

static const char short_options[] = ":jto:sd:vhV";
static const struct option long_options[] = {
	{ "events", no_argument, NULL, OPT_EVENTS },
	{ "json", no_argument, NULL, 'j' },
	{ "timeline", no_argument, NULL, 't' },
	{ "duration", required_argument, NULL, 'd' },
	{ "ringbuf-kb", required_argument, NULL, OPT_RINGBUF_KB },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "community-id-seed", required_argument, NULL, OPT_COMMUNITY_ID_SEED },
	{ "output", required_argument, NULL, 'o' },
	{ "slow-close", required_argument, NULL, OPT_SLOW_CLOSE },
	{ "slow-handshake", required_argument, NULL, OPT_SLOW_HANDSHAKE },
	{ "no-fin-wait2-hold", no_argument, NULL, OPT_NO_FIN_WAIT2_HOLD },
	{ "summary", no_argument, NULL, 's' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "prom-file", required_argument, NULL, OPT_PROM_FILE },
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

/* --slow-close and --slow-handshake: milliseconds into ns. */
static int parse_slow_ms(const char *s, int64_t *ns)
{
	uint64_t ms;
	int err = options_parse_u64(s, 0, SLOW_MS_MAX, &ms);

	if (!err)
		*ns = (int64_t)(ms * 1000000);
	return err;
}

/* Options that shape connection records, which --events does not print. */
static const char *record_option(const struct options *o)
{
	if (o->slow_close_ns >= 0)
		return "--slow-close";
	if (o->slow_handshake_ns >= 0)
		return "--slow-handshake";
	return o->no_fin_wait2_hold ? "--no-fin-wait2-hold" : NULL;
}

enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out, FILE *err)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->ringbuf_kb = RINGBUF_KB_DEFAULT;
	o->attach = ATTACH_AUTO;
	o->slow_close_ns = o->slow_handshake_ns = -1;

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
		case 'o':
			if (!optarg[0])
				return bad_value(err, "--output", optarg, "a file name");
			o->output = optarg;
			break;
		case OPT_COMMUNITY_ID_SEED:
			if (options_parse_u64(optarg, 0, UINT16_MAX, &v))
				return bad_value(err, "--community-id-seed", optarg,
						 "a number from 0 to 65535");
			o->community_id_seed = (uint16_t)v;
			break;
		case OPT_SLOW_CLOSE:
			if (parse_slow_ms(optarg, &o->slow_close_ns))
				return bad_value(err, "--slow-close", optarg,
						 "milliseconds, from 0 to 31622400000 (a year)");
			break;
		case OPT_SLOW_HANDSHAKE:
			if (parse_slow_ms(optarg, &o->slow_handshake_ns))
				return bad_value(err, "--slow-handshake", optarg,
						 "milliseconds, from 0 to 31622400000 (a year)");
			break;
		case OPT_NO_FIN_WAIT2_HOLD:
			o->no_fin_wait2_hold = true;
			break;
		case 's':
			o->summary = true;
			break;
		case OPT_INTERVAL:
			if (options_parse_seconds(optarg, &o->interval_ns) ||
			    o->interval_ns < OPTIONS_INTERVAL_MIN_NS)
				return bad_value(err, "--interval", optarg,
						 "seconds, from 0.1 to a year");
			break;
		case OPT_PROM_FILE:
			if (!optarg[0])
				return bad_value(err, "--prom-file", optarg, "a file name");
			o->prom_file = optarg;
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
	if (o->events && record_option(o)) {
		fprintf(err, "tcpwave: %s: cannot be combined with --events\n", record_option(o));
		return OPTIONS_USAGE;
	}
	if (o->events && (o->summary || o->interval_ns || o->prom_file)) {
		fprintf(err, "tcpwave: %s: summarises connections, not --events\n",
			o->summary ? "--summary" : o->prom_file ? "--prom-file" : "--interval");
		return OPTIONS_USAGE;
	}
	if (o->interval_ns && !o->summary && !o->prom_file) {
		fprintf(err, "tcpwave: --interval: needs --summary or --prom-file\n");
		return OPTIONS_USAGE;
	}
	if (optind < argc) {
		fprintf(err, "tcpwave: %s: unexpected argument; see 'tcpwave --help'\n",
			argv[optind]);
		return OPTIONS_USAGE;
	}
	return OPTIONS_RUN;
}
