// SPDX-License-Identifier: GPL-2.0
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

#define RINGBUF_KB_DEFAULT 8192
/* The kernel wants a power of two pages; 4 KiB pages up to 1 GiB. */
#define RINGBUF_KB_MIN 4
#define RINGBUF_KB_MAX (1024 * 1024)
#define TABLE_ENTRIES_DEFAULT 262144
#define TABLE_ENTRIES_MAX (16 * 1024 * 1024)
/* 352 bytes of kernel memory each, allocated at start: 2.9 MB by default. */
#define SLOTS_DEFAULT 8192
#define SLOTS_MAX 262144
#define SECONDS_MAX (366ull * 24 * 3600)
#define NS_PER_SEC 1000000000ull
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
	"                        once, without waiting to learn how long its close\n"
	"                        took (from its peer on this host, or its timewait\n"
	"                        socket)\n"
	"      --stuck MS        also report, while they are still open, connections\n"
	"                        that have sat MS or longer in CLOSE_WAIT, FIN_WAIT1,\n"
	"                        FIN_WAIT2, LAST_ACK or CLOSING\n"
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

	"Filters, applied in the kernel. Different filters must all match; the\n"
	"values of one filter (repeated, or a list) any one:\n"
	"  -p, --pid PID         connections owned by process PID\n"
	"  -c, --comm NAME       ... by processes named exactly NAME (the kernel's\n"
	"                        comm: at most 15 bytes, as `ps -o comm` shows)\n"
	"  -P, --port PORT[,PORT...]   either end's port\n"
	"      --lport PORT[,PORT...]  the local port\n"
	"      --rport PORT[,PORT...]  the remote port\n"
	"      --laddr CIDR      the local address is in CIDR (10.0.0.0/8,\n"
	"                        2001:db8::/32, or one address)\n"
	"      --raddr CIDR      the remote address is in CIDR\n"
	"  -4, -6                IPv4 only (IPv4 on dual-stack sockets included),\n"
	"                        IPv6 only (one or the other)\n"
	"      --netns INODE     network namespace (ls -iL /proc/PID/ns/net)\n"
	"      --cgroup PATH     sockets in cgroup v2 PATH or below it: a systemd\n"
	"                        unit's or a container's subtree\n"
	"                        (/system.slice/nginx.service)\n"
	"  With --events, a transition the filters cannot decide yet (before the\n"
	"  owner is known, or connect() has picked its local port) waits, and\n"
	"  shares the fate of its socket's next transition that they can decide.\n"
	"\n"
	"Tracing:\n"
	"  -d, --duration SEC    stop after SEC seconds (decimals allowed)\n"
	"      --ringbuf-kb KB   ring buffer size, a power of two (default 8192)\n"
	"      --table-entries N sockets the bounded tables hold: the owner walk's\n"
	"                        finds, and in classic mode every socket's state\n"
	"                        (default 262144)\n"
	"      --slots N         slots the kernel makes at start for sockets' state\n"
	"                        (352 bytes each); a socket whose slot is taken\n"
	"                        keeps it in its own storage, which costs more to\n"
	"                        make and free; 0: storage only (default 8192)\n"
	"      --attach MODE     auto (default), btf (tp_btf only) or classic\n"
	"                        (the classic tracepoint, as on kernels without\n"
	"                        BTF-enabled tracepoints)\n"
	"\n"
	"Recordings:\n"
	"  -w, --write FILE      also save the raw records to FILE, to replay later\n"
	"  -r, --read FILE       replay a recording instead of tracing (- reads\n"
	"                        standard input); needs no privileges\n"
	"\n"
	"Running:\n"
	"      --user NAME       the user to become once tracing is set up, when\n"
	"                        started as root (default nobody)\n"
	"      --no-drop         keep root and every capability instead\n"
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
	"  tcpwave -j -o conns.ndjson       ... into a file that SIGHUP reopens\n"
	"  tcpwave --slow-close 1000        closes that took a second or more, and why\n"
	"  tcpwave -s --interval 10         every connection; a summary every 10 s\n"
	"  tcpwave -j --prom-file /var/lib/prometheus/node-exporter/tcpwave.prom\n"
	"                                   JSON, and metrics for node_exporter\n"
	"  tcpwave --events                 every transition, as it happens\n"
	"  tcpwave --events -j -d 10        ten seconds of transitions as JSON\n"
	"  tcpwave -w conns.twr             trace, and keep the records for later\n"
	"  tcpwave -r conns.twr -t          ... and read them as timelines\n"
	"  tcpwave -P 443 --raddr 10.0.0.0/8   HTTPS with hosts in 10/8\n"
	"  tcpwave -c nginx -4              nginx's IPv4 connections\n"
	"  tcpwave --cgroup /system.slice/postgresql.service\n"
	"  tcpwave --stuck 5000             every connection, and those stuck closing 5 s\n";

enum {
	OPT_EVENTS = 256,
	OPT_RINGBUF_KB,
	OPT_TABLE_ENTRIES,
	OPT_SLOTS,
	OPT_ATTACH,
	OPT_COMMUNITY_ID_SEED,
	OPT_SLOW_CLOSE,
	OPT_SLOW_HANDSHAKE,
	OPT_NO_FIN_WAIT2_HOLD,
	OPT_INTERVAL,
	OPT_PROM_FILE,
	OPT_LPORT,
	OPT_RPORT,
	OPT_LADDR,
	OPT_RADDR,
	OPT_NETNS,
	OPT_CGROUP,
	OPT_USER,
	OPT_NO_DROP,
	OPT_STUCK,
};

static const char short_options[] = ":jto:sd:w:r:vhVp:c:P:46";
static const struct option long_options[] = {
	{ "events", no_argument, NULL, OPT_EVENTS },
	{ "json", no_argument, NULL, 'j' },
	{ "timeline", no_argument, NULL, 't' },
	{ "duration", required_argument, NULL, 'd' },
	{ "ringbuf-kb", required_argument, NULL, OPT_RINGBUF_KB },
	{ "table-entries", required_argument, NULL, OPT_TABLE_ENTRIES },
	{ "slots", required_argument, NULL, OPT_SLOTS },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "community-id-seed", required_argument, NULL, OPT_COMMUNITY_ID_SEED },
	{ "output", required_argument, NULL, 'o' },
	{ "slow-close", required_argument, NULL, OPT_SLOW_CLOSE },
	{ "slow-handshake", required_argument, NULL, OPT_SLOW_HANDSHAKE },
	{ "no-fin-wait2-hold", no_argument, NULL, OPT_NO_FIN_WAIT2_HOLD },
	{ "summary", no_argument, NULL, 's' },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "prom-file", required_argument, NULL, OPT_PROM_FILE },
	{ "write", required_argument, NULL, 'w' },
	{ "read", required_argument, NULL, 'r' },
	{ "pid", required_argument, NULL, 'p' },
	{ "comm", required_argument, NULL, 'c' },
	{ "port", required_argument, NULL, 'P' },
	{ "lport", required_argument, NULL, OPT_LPORT },
	{ "rport", required_argument, NULL, OPT_RPORT },
	{ "laddr", required_argument, NULL, OPT_LADDR },
	{ "raddr", required_argument, NULL, OPT_RADDR },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "user", required_argument, NULL, OPT_USER },
	{ "no-drop", no_argument, NULL, OPT_NO_DROP },
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
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/*
 * Plain decimals only ("2", "0.25", ".5", "5."): strtod() would also take
 * "0x10", "1e3", "infinity" and leading blanks. Integer arithmetic, so that
 * "1.005" is exactly 1005000000 ns; digits past the ninth round to nearest.
 */
int options_parse_seconds(const char *s, uint64_t *ns)
{
	uint64_t whole = 0, frac = 0, scale = NS_PER_SEC;
	const char *p;
	bool digits = false;

	if (!s)
		return -EINVAL;
	for (p = s; isdigit((unsigned char)*p); p++, digits = true) {
		/* Held just past the limit: enough to refuse, and no overflow. */
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > SECONDS_MAX)
			whole = SECONDS_MAX + 1;
	}
	if (*p == '.') {
		/* Nine digits are ns; the tenth rounds; later ones cannot matter. */
		for (p++; isdigit((unsigned char)*p); p++, digits = true) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			} else if (scale == 1) {
				frac += *p >= '5';
				scale = 0;
			}
		}
	}
	if (!digits || *p != '\0')
		return -EINVAL;
	whole = whole * NS_PER_SEC + frac;
	if (whole == 0 || whole > SECONDS_MAX * NS_PER_SEC)
		return -ERANGE;
	*ns = whole;
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

/* A replay takes its mode from the recording; these only make sense when tracing. */
static enum options_result check_read(FILE *err, const struct options *o, const char *tracing_only)
{
	if (o->write_path) {
		fprintf(err, "tcpwave: --write: cannot be combined with --read\n");
		return OPTIONS_USAGE;
	}
	if (tracing_only) {
		fprintf(err, "tcpwave: %s: cannot be combined with --read, which replays a recording\n",
			tracing_only);
		return OPTIONS_USAGE;
	}
	return OPTIONS_RUN;
}

/*
 * A filter option's value, as filter_add_*() took it (rc): a value that is
 * not one, or one too many, ends with a message naming the option.
 */
static bool filter_value_ok(FILE *err, const char *opt, const char *value, int rc,
			    const char *what)
{
	if (rc == -ENOSPC)
		fprintf(err, "tcpwave: %s: '%s': more than %d values\n", opt, value,
			strcmp(opt, "--cgroup") ? FILTER_VALUES_MAX : TW_CGROUPS_MAX);
	else if (rc)
		fprintf(err, "tcpwave: %s: '%s' is not %s\n", opt, value, what);
	return rc == 0;
}

/* --laddr and --raddr: filter_add_cidr()'s -ERANGE is a mapped prefix shorter than /96. */
static bool cidr_value_ok(FILE *err, const char *opt, const char *value, int rc)
{
	if (rc != -ERANGE)
		return filter_value_ok(err, opt, value, rc, "an address/prefix");
	fprintf(err,
		"tcpwave: %s: '%s': an IPv4-mapped prefix must be /96 or longer, as it stands "
		"for an IPv4 prefix (/96 is 0.0.0.0/0); give the IPv4 prefix instead\n",
		opt, value);
	return false;
}

/* The filter options; 0 when c is not one of them. */
static int filter_option(struct filter *f, int c, FILE *err, enum options_result *result)
{
	const char *v = optarg;
	bool ok;

	switch (c) {
	case 'p':
		ok = filter_value_ok(err, "--pid", v, filter_add_pid(f, v), "a process id");
		break;
	case 'c':
		ok = filter_value_ok(err, "--comm", v, filter_add_comm(f, v),
				     "a process name of 1 to 15 bytes (the kernel's comm)");
		break;
	case 'P':
		ok = filter_value_ok(err, "--port", v, filter_add_ports(f, TW_PORT_EITHER, v),
				     "a port or a list of them (1 to 65535, comma-separated)");
		break;
	case OPT_LPORT:
		ok = filter_value_ok(err, "--lport", v, filter_add_ports(f, TW_PORT_LOCAL, v),
				     "a port or a list of them (1 to 65535, comma-separated)");
		break;
	case OPT_RPORT:
		ok = filter_value_ok(err, "--rport", v, filter_add_ports(f, TW_PORT_REMOTE, v),
				     "a port or a list of them (1 to 65535, comma-separated)");
		break;
	case OPT_LADDR:
		ok = cidr_value_ok(err, "--laddr", v, filter_add_cidr(f, TW_ADDR_LOCAL, v));
		break;
	case OPT_RADDR:
		ok = cidr_value_ok(err, "--raddr", v, filter_add_cidr(f, TW_ADDR_REMOTE, v));
		break;
	case OPT_NETNS:
		ok = filter_value_ok(err, "--netns", v, filter_add_netns(f, v),
				     "a network namespace inode");
		break;
	case OPT_CGROUP:
		ok = filter_value_ok(err, "--cgroup", v, filter_add_cgroup(f, v),
				     "an absolute cgroup path");
		break;
	case '4':
		f->ipv4 = ok = true;
		break;
	case '6':
		f->ipv6 = ok = true;
		break;
	default:
		return 0;
	}
	*result = ok ? OPTIONS_RUN : OPTIONS_USAGE;
	return 1;
}

enum options_result options_parse(struct options *o, int argc, char **argv, FILE *out, FILE *err)
{
	const char *tracing_only = NULL; /* the last option given that a replay has no use for */
	enum options_result filter_result;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->ringbuf_kb = RINGBUF_KB_DEFAULT;
	o->table_entries = TABLE_ENTRIES_DEFAULT;
	o->slots = SLOTS_DEFAULT;
	o->attach = ATTACH_AUTO;
	o->slow_close_ns = o->slow_handshake_ns = -1;

	/* 0 resets getopt fully: a cluster a previous call stopped in ("-hj") is dropped. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		if (filter_option(&o->filter, c, err, &filter_result)) {
			if (filter_result != OPTIONS_RUN)
				return filter_result;
			continue;
		}
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
			tracing_only = "--duration";
			break;
		case OPT_RINGBUF_KB:
			if (options_parse_u64(optarg, RINGBUF_KB_MIN, RINGBUF_KB_MAX, &v) ||
			    (v & (v - 1)))
				return bad_value(err, "--ringbuf-kb", optarg,
						 "a power of two from 4 to 1048576");
			o->ringbuf_kb = (uint32_t)v;
			tracing_only = "--ringbuf-kb";
			break;
		case OPT_TABLE_ENTRIES:
			if (options_parse_u64(optarg, 1, TABLE_ENTRIES_MAX, &v))
				return bad_value(err, "--table-entries", optarg,
						 "a number of sockets from 1 to 16777216");
			o->table_entries = (uint32_t)v;
			tracing_only = "--table-entries";
			break;
		case OPT_SLOTS:
			if (options_parse_u64(optarg, 0, SLOTS_MAX, &v))
				return bad_value(err, "--slots", optarg,
						 "a number of slots from 0 to 262144");
			o->slots = (uint32_t)v;
			tracing_only = "--slots";
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
			tracing_only = "--attach";
			break;
		case 'w':
			/* Standard output carries the records tcpwave prints. */
			if (!optarg[0] || !strcmp(optarg, "-"))
				return bad_value(err, "--write", optarg, "a file name");
			o->write_path = optarg;
			break;
		case 'r':
			if (!optarg[0])
				return bad_value(err, "--read", optarg,
						 "a file name, or - for standard input");
			o->read_path = optarg;
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
			/* A replay prints one summary, of the whole recording. */
			tracing_only = "--interval";
			break;
		case OPT_PROM_FILE:
			if (!optarg[0])
				return bad_value(err, "--prom-file", optarg, "a file name");
			o->prom_file = optarg;
			tracing_only = "--prom-file";
			break;
		case OPT_STUCK:
			if (options_parse_u64(optarg, 1, SLOW_MS_MAX, &v))
				return bad_value(err, "--stuck", optarg,
						 "milliseconds, from 1 to 31622400000 (a year)");
			o->stuck_ns = v * 1000000;
			/* A replay prints the stuck reports found at the live run's MS. */
			tracing_only = "--stuck";
			break;
		case OPT_USER:
			if (!optarg[0])
				return bad_value(err, "--user", optarg, "a user name");
			o->user = optarg;
			break;
		case OPT_NO_DROP:
			o->no_drop = true;
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
	/* Different filters must all match, and no connection is of both families. */
	if (o->filter.ipv4 && o->filter.ipv6) {
		fprintf(err, "tcpwave: -6: cannot be combined with -4; "
			     "leave both out for IPv4 and IPv6\n");
		return OPTIONS_USAGE;
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
	if (o->read_path && check_read(err, o, tracing_only) != OPTIONS_RUN)
		return OPTIONS_USAGE;
	if (o->no_drop && o->user) {
		fprintf(err, "tcpwave: --no-drop: cannot be combined with --user\n");
		return OPTIONS_USAGE;
	}
	if (optind < argc) {
		fprintf(err, "tcpwave: %s: unexpected argument; see 'tcpwave --help'\n",
			argv[optind]);
		return OPTIONS_USAGE;
	}
	return OPTIONS_RUN;
}
