// SPDX-License-Identifier: GPL-2.0
/* Command lines in, options or a message naming the bad option out. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include "options.h"

static char *out_text, *err_text;

/* Parse a NULL-terminated argv; what went to out and err is kept. */
static enum options_result parse(struct options *o, char **argv)
{
	enum options_result rc;
	size_t out_len, err_len;
	FILE *out, *err;
	int argc = 0;

	while (argv[argc])
		argc++;
	free(out_text);
	free(err_text);
	out = open_memstream(&out_text, &out_len);
	err = open_memstream(&err_text, &err_len);
	if (!out || !err) {
		perror("open_memstream");
		exit(1);
	}
	rc = options_parse(o, argc, argv, out, err);
	fclose(out);
	fclose(err);
	return rc;
}

#define PARSE(o, ...) parse(o, (char *[]){ "tcpwave", __VA_ARGS__, NULL })

/* The arguments are refused as a usage error, with exactly this message. */
#define CHECK_REFUSED(o, message, ...)                                                             \
	do {                                                                                       \
		CHECK_INT(PARSE(o, __VA_ARGS__), OPTIONS_USAGE);                                   \
		CHECK_STR(err_text, message);                                                      \
	} while (0)

TEST(test_options_defaults)
{
	struct options o;

	CHECK_INT(PARSE(&o, NULL), OPTIONS_RUN);
	CHECK_INT(o.events, 0);
	CHECK_INT(o.json, 0);
	CHECK_INT(o.verbose, 0);
	CHECK_INT(o.duration_ns, 0);
	CHECK_INT(o.ringbuf_kb, 8192);
	CHECK_INT(o.table_entries, 262144);
	CHECK_INT(o.slots, 8192);
	CHECK_INT(o.attach, ATTACH_AUTO);
	CHECK_INT(o.community_id_seed, 0);
	CHECK(o.output == NULL);
	CHECK_STR(out_text, "");
	CHECK_STR(err_text, "");
}

TEST(test_options_flags)
{
	struct options o;

	CHECK_INT(PARSE(&o, "--events", "-j", "-v"), OPTIONS_RUN);
	CHECK_INT(o.events, 1);
	CHECK_INT(o.json, 1);
	CHECK_INT(o.verbose, 1);
	CHECK_INT(PARSE(&o, "--json", "--verbose"), OPTIONS_RUN);
	CHECK_INT(o.events, 0);
	CHECK_INT(o.json, 1);
	CHECK_INT(o.verbose, 1);
}

TEST(test_options_short_flags_combine)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-jvd", "3"), OPTIONS_RUN);
	CHECK_INT(o.json, 1);
	CHECK_INT(o.verbose, 1);
	CHECK_INT(o.duration_ns, 3000000000);
}

TEST(test_options_duration_in_seconds)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-d", "2"), OPTIONS_RUN);
	CHECK_INT(o.duration_ns, 2000000000);
	CHECK_INT(PARSE(&o, "-d", "0.25"), OPTIONS_RUN);
	CHECK_INT(o.duration_ns, 250000000);
	CHECK_INT(PARSE(&o, "--duration=1.5"), OPTIONS_RUN);
	CHECK_INT(o.duration_ns, 1500000000);
	CHECK_INT(PARSE(&o, "--duration", "10"), OPTIONS_RUN);
	CHECK_INT(o.duration_ns, 10000000000);
}

TEST(test_options_ringbuf_kb_powers_of_two)
{
	struct options o;

	CHECK_INT(PARSE(&o, "--ringbuf-kb", "4"), OPTIONS_RUN);
	CHECK_INT(o.ringbuf_kb, 4);
	CHECK_INT(PARSE(&o, "--ringbuf-kb=1048576"), OPTIONS_RUN);
	CHECK_INT(o.ringbuf_kb, 1048576);
}

TEST(test_options_attach_modes)
{
	struct options o;

	CHECK_INT(PARSE(&o, "--attach", "btf"), OPTIONS_RUN);
	CHECK_INT(o.attach, ATTACH_BTF);
	CHECK_INT(PARSE(&o, "--attach", "classic"), OPTIONS_RUN);
	CHECK_INT(o.attach, ATTACH_CLASSIC);
	CHECK_INT(PARSE(&o, "--attach", "btf", "--attach=auto"), OPTIONS_RUN);
	CHECK_INT(o.attach, ATTACH_AUTO);
}

#define BAD_DURATION(v)                                                                            \
	"tcpwave: --duration: invalid value '" v "': expected seconds, more than 0 and at most a " \
	"year\n"

TEST(test_options_rejects_bad_durations)
{
	struct options o;

	CHECK_REFUSED(&o, BAD_DURATION("0"), "-d", "0");
	CHECK_REFUSED(&o, BAD_DURATION("-1"), "-d", "-1");
	CHECK_REFUSED(&o, BAD_DURATION("abc"), "-d", "abc");
	CHECK_REFUSED(&o, BAD_DURATION("1x"), "-d", "1x");
	CHECK_REFUSED(&o, BAD_DURATION(""), "--duration=");
	CHECK_REFUSED(&o, BAD_DURATION("31622401"), "-d", "31622401");
}

#define BAD_RINGBUF(v)                                                                             \
	"tcpwave: --ringbuf-kb: invalid value '" v "': expected a power of two from 4 to 1048576\n"

TEST(test_options_rejects_bad_ringbuf_sizes)
{
	struct options o;

	CHECK_REFUSED(&o, BAD_RINGBUF("3"), "--ringbuf-kb", "3");
	CHECK_REFUSED(&o, BAD_RINGBUF("0"), "--ringbuf-kb", "0");
	CHECK_REFUSED(&o, BAD_RINGBUF("2"), "--ringbuf-kb", "2");
	CHECK_REFUSED(&o, BAD_RINGBUF("2097152"), "--ringbuf-kb", "2097152");
	CHECK_REFUSED(&o, BAD_RINGBUF("99999999999999999999"), "--ringbuf-kb",
		      "99999999999999999999");
	CHECK_REFUSED(&o, BAD_RINGBUF("8k"), "--ringbuf-kb", "8k");
}

#define BAD_TABLE(v)                                                                               \
	"tcpwave: --table-entries: invalid value '" v "': expected a number of sockets from 1 to "  \
	"16777216\n"

TEST(test_options_table_entries_in_range)
{
	struct options o;

	CHECK_INT(PARSE(&o, "--table-entries", "1"), OPTIONS_RUN);
	CHECK_INT(o.table_entries, 1);
	CHECK_INT(PARSE(&o, "--table-entries=16777216"), OPTIONS_RUN);
	CHECK_INT(o.table_entries, 16777216);
	CHECK_REFUSED(&o, BAD_TABLE("0"), "--table-entries", "0");
	CHECK_REFUSED(&o, BAD_TABLE("-1"), "--table-entries", "-1");
	CHECK_REFUSED(&o, BAD_TABLE("16777217"), "--table-entries", "16777217");
	CHECK_REFUSED(&o, BAD_TABLE("64k"), "--table-entries", "64k");
}

#define BAD_SLOTS(v)                                                                               \
	"tcpwave: --slots: invalid value '" v "': expected a number of slots from 0 to 262144\n"

TEST(test_options_slots_in_range)
{
	struct options o;

	CHECK_INT(PARSE(&o, "--slots", "0"), OPTIONS_RUN);
	CHECK_INT(o.slots, 0);
	CHECK_INT(PARSE(&o, "--slots=262144"), OPTIONS_RUN);
	CHECK_INT(o.slots, 262144);
	CHECK_REFUSED(&o, BAD_SLOTS("262145"), "--slots", "262145");
	CHECK_REFUSED(&o, BAD_SLOTS("-1"), "--slots", "-1");
	CHECK_REFUSED(&o, BAD_SLOTS("8k"), "--slots", "8k");
}

TEST(test_options_stuck_in_milliseconds)
{
	struct options o;

	CHECK_INT(PARSE(&o, "--stuck", "5000"), OPTIONS_RUN);
	CHECK_INT(o.stuck_ns, 5000000000ll);
	CHECK_INT(PARSE(&o, "--stuck=1"), OPTIONS_RUN);
	CHECK_INT(o.stuck_ns, 1000000);
	CHECK_INT(PARSE(&o, "-j"), OPTIONS_RUN);
	CHECK_INT(o.stuck_ns, 0);
}

#define BAD_STUCK(v)                                                                               \
	"tcpwave: --stuck: invalid value '" v "': expected milliseconds, from 1 to "               \
	"31622400000 (a year)\n"

TEST(test_options_rejects_bad_stuck_times)
{
	struct options o;

	CHECK_REFUSED(&o, BAD_STUCK("0"), "--stuck", "0");
	CHECK_REFUSED(&o, BAD_STUCK("1.5"), "--stuck", "1.5");
	CHECK_REFUSED(&o, BAD_STUCK("-5"), "--stuck", "-5");
	CHECK_REFUSED(&o, BAD_STUCK("31622400001"), "--stuck", "31622400001");
	CHECK_REFUSED(&o, "tcpwave: --stuck: needs a value\n", "--stuck");
}

TEST(test_options_community_id_seed_takes_16_bits)
{
	struct options o;

	CHECK_INT(PARSE(&o, "--community-id-seed", "0"), OPTIONS_RUN);
	CHECK_INT(o.community_id_seed, 0);
	CHECK_INT(PARSE(&o, "--community-id-seed=65535"), OPTIONS_RUN);
	CHECK_INT(o.community_id_seed, 65535);
	CHECK_INT(PARSE(&o, "--community-id-seed", "7"), OPTIONS_RUN);
	CHECK_INT(o.community_id_seed, 7);
}

#define BAD_SEED(v)                                                                                \
	"tcpwave: --community-id-seed: invalid value '" v "': expected a number from 0 to 65535\n"

TEST(test_options_rejects_bad_community_id_seeds)
{
	struct options o;

	CHECK_REFUSED(&o, BAD_SEED("65536"), "--community-id-seed", "65536");
	CHECK_REFUSED(&o, BAD_SEED("-1"), "--community-id-seed", "-1");
	CHECK_REFUSED(&o, BAD_SEED("0x10"), "--community-id-seed", "0x10");
	CHECK_REFUSED(&o, BAD_SEED("18446744073709551616"), "--community-id-seed",
		      "18446744073709551616");
	CHECK_REFUSED(&o, BAD_SEED(""), "--community-id-seed=");
	CHECK_REFUSED(&o, "tcpwave: --community-id-seed: needs a value\n", "--community-id-seed");
}

TEST(test_options_output_file)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-o", "/var/log/tcpwave/tcpwave.json"), OPTIONS_RUN);
	CHECK_STR(o.output, "/var/log/tcpwave/tcpwave.json");
	CHECK_INT(PARSE(&o, "-jo", "out.json"), OPTIONS_RUN);
	CHECK_STR(o.output, "out.json");
	CHECK_INT(o.json, 1);
	CHECK_INT(PARSE(&o, "--output=x"), OPTIONS_RUN);
	CHECK_STR(o.output, "x");
}

TEST(test_options_rejects_an_empty_or_missing_output_file)
{
	struct options o;

	CHECK_REFUSED(&o, "tcpwave: --output: invalid value '': expected a file name\n",
		      "--output=");
	CHECK_REFUSED(&o, "tcpwave: -o: needs a value\n", "-o");
}

TEST(test_options_rejects_unknown_attach_mode)
{
	struct options o;

	CHECK_REFUSED(&o,
		      "tcpwave: --attach: invalid value 'bogus': expected auto, btf or classic\n",
		      "--attach", "bogus");
}

TEST(test_options_rejects_unknown_long_option)
{
	struct options o;

	CHECK_INT(PARSE(&o, "--nope"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: --nope: unknown option; see 'tcpwave --help'\n");
}

TEST(test_options_rejects_unknown_short_option)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-x"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: -x: unknown option; see 'tcpwave --help'\n");
}

TEST(test_options_names_unknown_short_option_inside_a_cluster)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-j", "-xv"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: -x: unknown option; see 'tcpwave --help'\n");
}

TEST(test_options_rejects_missing_values)
{
	struct options o;

	CHECK_REFUSED(&o, "tcpwave: -d: needs a value\n", "-d");
	CHECK_REFUSED(&o, "tcpwave: --duration: needs a value\n", "-j", "--duration");
	CHECK_REFUSED(&o, "tcpwave: --attach: needs a value\n", "--attach");
}

TEST(test_options_rejects_stray_argument)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-j", "extra"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: extra: unexpected argument; see 'tcpwave --help'\n");
	CHECK_INT(PARSE(&o, "extra", "-j"), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: extra: unexpected argument; see 'tcpwave --help'\n");
}

TEST(test_options_help_is_done)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-h"), OPTIONS_DONE);
	CHECK(strncmp(out_text, "Usage: tcpwave [OPTIONS]\n", 25) == 0);
	CHECK_STR(err_text, "");
	CHECK_INT(PARSE(&o, "--help", "--nope"), OPTIONS_DONE);
	CHECK(strncmp(out_text, "Usage: tcpwave [OPTIONS]\n", 25) == 0);
}

TEST(test_options_version_is_done)
{
	struct options o;
	size_t len;

	CHECK_INT(PARSE(&o, "-V"), OPTIONS_DONE);
	/* the version itself comes from git describe at build time */
	len = strlen(out_text);
	CHECK(strncmp(out_text, "tcpwave ", 8) == 0);
	CHECK(len > 9 && strchr(out_text, '\n') == out_text + len - 1);
	CHECK_STR(err_text, "");
	CHECK_INT(PARSE(&o, "--version"), OPTIONS_DONE);
	CHECK(strncmp(out_text, "tcpwave ", 8) == 0);
}

TEST(test_options_parse_again_starts_fresh)
{
	struct options o;

	/* -h returns in the middle of "-hj"; the next parse must not see the j */
	CHECK_INT(PARSE(&o, "-hj"), OPTIONS_DONE);
	CHECK_INT(PARSE(&o, NULL), OPTIONS_RUN);
	CHECK_INT(o.json, 0);
	CHECK_INT(PARSE(&o, "-d", "2"), OPTIONS_RUN);
	CHECK_INT(PARSE(&o, NULL), OPTIONS_RUN);
	CHECK_INT(o.duration_ns, 0);
}

TEST(test_options_parse_u64_accepts_range)
{
	uint64_t v = 0;

	CHECK_INT(options_parse_u64("5", 0, 10, &v), 0);
	CHECK_INT(v, 5);
	CHECK_INT(options_parse_u64("0", 0, 10, &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(options_parse_u64("007", 0, 10, &v), 0);
	CHECK_INT(v, 7);
	CHECK_INT(options_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	CHECK(v == UINT64_MAX);
}

TEST(test_options_parse_u64_rejects_malformed)
{
	uint64_t v = 42;

	CHECK_INT(options_parse_u64("+5", 0, 10, &v), -EINVAL);
	CHECK_INT(options_parse_u64("-5", 0, 10, &v), -EINVAL);
	CHECK_INT(options_parse_u64(" 5", 0, 10, &v), -EINVAL);
	CHECK_INT(options_parse_u64("5 ", 0, 10, &v), -EINVAL);
	CHECK_INT(options_parse_u64("", 0, 10, &v), -EINVAL);
	CHECK_INT(options_parse_u64(NULL, 0, 10, &v), -EINVAL);
	CHECK_INT(options_parse_u64("0x5", 0, 10, &v), -EINVAL);
	CHECK_INT(v, 42);
}

TEST(test_options_parse_u64_rejects_out_of_range)
{
	uint64_t v = 42;

	CHECK_INT(options_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	CHECK_INT(options_parse_u64("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	CHECK_INT(options_parse_u64("11", 0, 10, &v), -ERANGE);
	CHECK_INT(options_parse_u64("3", 4, 10, &v), -ERANGE);
	CHECK_INT(v, 42);
}

TEST(test_options_parse_seconds_to_ns)
{
	uint64_t ns = 0;

	CHECK_INT(options_parse_seconds("2", &ns), 0);
	CHECK_INT(ns, 2000000000);
	CHECK_INT(options_parse_seconds("0.25", &ns), 0);
	CHECK_INT(ns, 250000000);
	CHECK_INT(options_parse_seconds(".5", &ns), 0);
	CHECK_INT(ns, 500000000);
	CHECK_INT(options_parse_seconds("0.000000001", &ns), 0);
	CHECK_INT(ns, 1);
	CHECK_INT(options_parse_seconds("31622400", &ns), 0);
	CHECK_INT(ns, 31622400000000000);
}

TEST(test_options_parse_seconds_rounds_to_nearest_ns)
{
	uint64_t ns = 0;

	/* 1.005 is 1.00499999999999989... as a double */
	CHECK_INT(options_parse_seconds("1.005", &ns), 0);
	CHECK_INT(ns, 1005000000);
	CHECK_INT(options_parse_seconds("0.000000003", &ns), 0);
	CHECK_INT(ns, 3);
}

TEST(test_options_parse_seconds_rejects_malformed)
{
	uint64_t ns = 42;

	CHECK_INT(options_parse_seconds("+5", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("-1", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds(" 5", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds(NULL, &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("1x", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds(".", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("inf", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("nan", &ns), -EINVAL);
	CHECK_INT(ns, 42);
}

TEST(test_options_parse_seconds_rejects_out_of_range)
{
	uint64_t ns = 42;

	CHECK_INT(options_parse_seconds("0", &ns), -ERANGE);
	CHECK_INT(options_parse_seconds("0.0", &ns), -ERANGE);
	CHECK_INT(options_parse_seconds("31622401", &ns), -ERANGE);
	CHECK_INT(options_parse_seconds("18446744073709551616", &ns), -ERANGE);
	/* a tenth of a nanosecond rounds to nothing */
	CHECK_INT(options_parse_seconds("0.0000000001", &ns), -ERANGE);
	CHECK_INT(ns, 42);
}

TEST(test_options_slow_thresholds_in_milliseconds)
{
	struct options o;

	CHECK_INT(PARSE(&o, NULL), OPTIONS_RUN);
	CHECK_INT(o.slow_close_ns, -1);
	CHECK_INT(o.slow_handshake_ns, -1);
	CHECK_INT(o.no_fin_wait2_hold, 0);
	CHECK_INT(PARSE(&o, "--slow-close", "1500", "--slow-handshake", "0", "--no-fin-wait2-hold"),
		  OPTIONS_RUN);
	CHECK_INT(o.slow_close_ns, 1500000000);
	CHECK_INT(o.slow_handshake_ns, 0);
	CHECK_INT(o.no_fin_wait2_hold, 1);
	CHECK_INT(PARSE(&o, "--slow-close=31622400000", "-t"), OPTIONS_RUN);
	CHECK_INT(o.slow_close_ns, 31622400000ll * 1000000);
	CHECK_INT(o.slow_handshake_ns, -1);
}

TEST(test_options_rejects_bad_slow_thresholds)
{
	static const char *const bad[] = { "-1", "1.5", "", "1s", "31622400001",
					   "99999999999999999999999" };
	struct options o;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(PARSE(&o, "--slow-close", (char *)bad[i]), OPTIONS_USAGE);
		CHECK(strstr(err_text, "tcpwave: --slow-close: invalid value") == err_text);
		CHECK_INT(PARSE(&o, "--slow-handshake", (char *)bad[i]), OPTIONS_USAGE);
		CHECK(strstr(err_text, "tcpwave: --slow-handshake: invalid value") == err_text);
	}
	CHECK_STR(err_text, "tcpwave: --slow-handshake: invalid value '99999999999999999999999': "
			    "expected milliseconds, from 0 to 31622400000 (a year)\n");
}

TEST(test_options_connection_record_options_need_connection_records)
{
	struct options o;

	CHECK_REFUSED(&o, "tcpwave: --slow-close: cannot be combined with --events\n", "--events",
		      "--slow-close", "10");
	CHECK_REFUSED(&o, "tcpwave: --slow-handshake: cannot be combined with --events\n",
		      "--slow-handshake", "10", "--events");
	CHECK_REFUSED(&o, "tcpwave: --no-fin-wait2-hold: cannot be combined with --events\n",
		      "--events", "--no-fin-wait2-hold");
}

TEST(test_options_filters_are_off_by_default)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-j"), OPTIONS_RUN);
	CHECK_INT(filter_flags(&o.filter), 0);
}

TEST(test_options_filters_repeat_and_combine)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-p", "10", "--pid", "11", "-c", "nginx", "--comm=curl", "-P",
			"80,443", "--port", "8080", "--lport", "22", "--rport=53,5353", "--laddr",
			"10.0.0.0/8", "--laddr", "::1", "--raddr", "192.168.1.0/24", "-6",
			"--netns", "4026531840", "--cgroup", "/system.slice"),
		  OPTIONS_RUN);
	CHECK_INT(o.filter.npids, 2);
	CHECK_INT(o.filter.pids[1], 11);
	CHECK_INT(o.filter.ncomms, 2);
	CHECK_STR(o.filter.comms[1], "curl");
	CHECK_INT(o.filter.nports, 3);
	CHECK_INT(o.filter.ports[2], 8080);
	CHECK_INT(o.filter.nlports, 1);
	CHECK_INT(o.filter.nrports, 2);
	CHECK_INT(o.filter.rports[1], 5353);
	CHECK_INT(o.filter.nladdrs, 2);
	CHECK_INT(o.filter.nraddrs, 1);
	CHECK_INT(o.filter.raddrs[0].prefix, 24);
	CHECK(!o.filter.ipv4 && o.filter.ipv6);
	CHECK_INT(o.filter.nnetns, 1);
	CHECK_INT(o.filter.ncgroups, 1);
	CHECK_STR(o.filter.cgroups[0].path, "/system.slice");
	CHECK_STR(err_text, "");
}

TEST(test_options_short_filter_flags_combine)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-4jp", "7"), OPTIONS_RUN);
	CHECK(o.filter.ipv4 && !o.filter.ipv6);
	CHECK_INT(o.json, 1);
	CHECK_INT(o.filter.pids[0], 7);
}

TEST(test_options_rejects_both_families)
{
	struct options o;

	CHECK_REFUSED(&o,
		      "tcpwave: -6: cannot be combined with -4; leave both out for IPv4 and IPv6\n",
		      "-4", "-6");
	CHECK_REFUSED(&o,
		      "tcpwave: -6: cannot be combined with -4; leave both out for IPv4 and IPv6\n",
		      "-64j");
	CHECK_INT(PARSE(&o, "-4", "-4"), OPTIONS_RUN);
	CHECK(o.filter.ipv4 && !o.filter.ipv6);
}

TEST(test_options_parse_again_forgets_filters)
{
	struct options o;

	CHECK_INT(PARSE(&o, "-p", "7", "-6"), OPTIONS_RUN);
	CHECK_INT(PARSE(&o, NULL), OPTIONS_RUN);
	CHECK_INT(filter_flags(&o.filter), 0);
}

/* Each filter option's bad value: exit 2, and the message names the option. */
TEST(test_options_rejects_bad_filter_values)
{
	static const struct {
		const char *argv[3];
		const char *message;
	} cases[] = {
		{ { "-p", "0" }, "tcpwave: --pid: '0' is not a process id\n" },
		{ { "--pid", "x1" }, "tcpwave: --pid: 'x1' is not a process id\n" },
		{ { "-c", "" },
		  "tcpwave: --comm: '' is not a process name of 1 to 15 bytes "
		  "(the kernel's comm)\n" },
		{ { "--comm", "systemd-resolved" },
		  "tcpwave: --comm: 'systemd-resolved' is not a process name of 1 to 15 bytes "
		  "(the kernel's comm)\n" },
		{ { "-P", "0" },
		  "tcpwave: --port: '0' is not a port or a list of them (1 to 65535, "
		  "comma-separated)\n" },
		{ { "--port", "80,,443" },
		  "tcpwave: --port: '80,,443' is not a port or a list of them (1 to 65535, "
		  "comma-separated)\n" },
		{ { "--lport", "65536" },
		  "tcpwave: --lport: '65536' is not a port or a list of them (1 to 65535, "
		  "comma-separated)\n" },
		{ { "--rport", "http" },
		  "tcpwave: --rport: 'http' is not a port or a list of them (1 to 65535, "
		  "comma-separated)\n" },
		{ { "--laddr", "10.0.0.0/33" },
		  "tcpwave: --laddr: '10.0.0.0/33' is not an address/prefix\n" },
		{ { "--raddr", "fe80::1%eth0" },
		  "tcpwave: --raddr: 'fe80::1%eth0' is not an address/prefix\n" },
		{ { "--raddr", "::/129" },
		  "tcpwave: --raddr: '::/129' is not an address/prefix\n" },
		{ { "--laddr", "::ffff:0.0.0.0/95" },
		  "tcpwave: --laddr: '::ffff:0.0.0.0/95': an IPv4-mapped prefix must be /96 or "
		  "longer, as it stands for an IPv4 prefix (/96 is 0.0.0.0/0); give the IPv4 "
		  "prefix instead\n" },
		{ { "--raddr", "::ffff:10.0.0.0/8" },
		  "tcpwave: --raddr: '::ffff:10.0.0.0/8': an IPv4-mapped prefix must be /96 or "
		  "longer, as it stands for an IPv4 prefix (/96 is 0.0.0.0/0); give the IPv4 "
		  "prefix instead\n" },
		{ { "--netns", "0" }, "tcpwave: --netns: '0' is not a network namespace inode\n" },
		{ { "--netns", "net:[4026531840]" },
		  "tcpwave: --netns: 'net:[4026531840]' is not a network namespace inode\n" },
		{ { "--cgroup", "system.slice" },
		  "tcpwave: --cgroup: 'system.slice' is not an absolute cgroup path\n" },
	};
	struct options o;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(parse(&o, (char *[]){ "tcpwave", (char *)cases[i].argv[0],
						(char *)cases[i].argv[1], NULL }),
			  OPTIONS_USAGE);
		CHECK_STR(err_text, cases[i].message);
	}
}

TEST(test_options_rejects_too_many_filter_values)
{
	char *argv[2 * FILTER_VALUES_MAX + 4] = { "tcpwave" };
	char values[FILTER_VALUES_MAX + 1][8];
	struct options o;
	int i, argc = 1;

	for (i = 0; i <= FILTER_VALUES_MAX; i++) {
		snprintf(values[i], sizeof(values[i]), "%d", i + 1);
		argv[argc++] = "-P";
		argv[argc++] = values[i];
	}
	CHECK_INT(parse(&o, argv), OPTIONS_USAGE);
	CHECK_STR(err_text, "tcpwave: --port: '65': more than 64 values\n");
	CHECK_REFUSED(&o, "tcpwave: --cgroup: '/9': more than 8 values\n", "--cgroup", "/1",
		      "--cgroup", "/2", "--cgroup", "/3", "--cgroup", "/4", "--cgroup", "/5",
		      "--cgroup", "/6", "--cgroup", "/7", "--cgroup", "/8", "--cgroup", "/9");
}

TEST(test_options_filter_options_need_values)
{
	struct options o;

	CHECK_REFUSED(&o, "tcpwave: -p: needs a value\n", "-p");
	CHECK_REFUSED(&o, "tcpwave: --laddr: needs a value\n", "--laddr");
}

TEST(test_options_parse_seconds_takes_plain_decimals_only)
{
	uint64_t ns = 42;

	CHECK_INT(options_parse_seconds("0x10", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("1e3", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("1E3", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("infinity", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("5 ", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("\t5", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("1.2.3", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("1,5", &ns), -EINVAL);
	CHECK_INT(options_parse_seconds("99999999999999999999x", &ns), -EINVAL);
	CHECK_INT(ns, 42);
	CHECK_INT(options_parse_seconds("5.", &ns), 0);
	CHECK_INT(ns, 5000000000);
	CHECK_INT(options_parse_seconds("007", &ns), 0);
	CHECK_INT(ns, 7000000000);
}

TEST(test_options_parse_seconds_rounds_the_tenth_digit)
{
	uint64_t ns = 0;

	CHECK_INT(options_parse_seconds("0.0000000005", &ns), 0);
	CHECK_INT(ns, 1);
	CHECK_INT(options_parse_seconds("0.00000000149999", &ns), 0);
	CHECK_INT(ns, 1);
	CHECK_INT(options_parse_seconds("1.9999999999", &ns), 0);
	CHECK_INT(ns, 2000000000);
	CHECK_INT(options_parse_seconds("31622400.0000000004", &ns), 0);
	CHECK_INT(ns, 31622400000000000);
	CHECK_INT(options_parse_seconds("31622400.0000000005", &ns), -ERANGE);
	CHECK_INT(options_parse_seconds("31622400.000000001", &ns), -ERANGE);
}

TEST(test_options_parse_u64_checks_syntax_before_range)
{
	uint64_t v = 42;

	CHECK_INT(options_parse_u64("99999999999999999999x", 0, UINT64_MAX, &v), -EINVAL);
	CHECK_INT(options_parse_u64("1.0", 0, 10, &v), -EINVAL);
	CHECK_INT(options_parse_u64("1e1", 0, 100, &v), -EINVAL);
	CHECK_INT(options_parse_u64("\n5", 0, 10, &v), -EINVAL);
	CHECK_INT(v, 42);
}

/*
 * Every numeric option refuses each kind of bad value with exit 2 and a
 * message that names the option (and the value, as given).
 */
static const struct {
	const char *name;
	const char *expected;
} numeric_options[] = {
	{ "--duration", "seconds, more than 0 and at most a year" },
	{ "--ringbuf-kb", "a power of two from 4 to 1048576" },
};

static const char *const bad_numbers[] = {
	"-1", "0", "1x", "", "99999999999999999999", " 5", "+5", "0x10", "5 ", "1e3", "-0",
	"18446744073709551616", "nan", "\x1b[2J",
};

TEST(test_options_every_numeric_option_refuses_every_bad_value)
{
	char arg[64], want[256];
	struct options o;
	size_t i, j;

	for (i = 0; i < sizeof(numeric_options) / sizeof(numeric_options[0]); i++) {
		const char *name = numeric_options[i].name;

		for (j = 0; j < sizeof(bad_numbers) / sizeof(bad_numbers[0]); j++) {
			const char *bad = bad_numbers[j];

			snprintf(arg, sizeof(arg), "%s=%s", name, bad);
			snprintf(want, sizeof(want), "tcpwave: %s: invalid value '%s': expected %s\n",
				 name, bad, numeric_options[i].expected);
			if (PARSE(&o, arg) != OPTIONS_USAGE)
				unit_fail(__FILE__, __LINE__, "%s accepted", arg);
			else if (strcmp(err_text, want) != 0)
				unit_fail(__FILE__, __LINE__, "%s: expected %s got %s", arg, want,
					  err_text);
		}
	}
}

TEST(test_options_user_and_no_drop)
{
	struct options o;

	CHECK_INT(PARSE(&o, NULL), OPTIONS_RUN);
	CHECK(o.user == NULL);
	CHECK_INT(o.no_drop, 0);
	CHECK_INT(PARSE(&o, "--user", "daemon"), OPTIONS_RUN);
	CHECK_STR(o.user, "daemon");
	CHECK_INT(PARSE(&o, "--no-drop"), OPTIONS_RUN);
	CHECK_INT(o.no_drop, 1);
}

TEST(test_options_rejects_empty_user_and_user_with_no_drop)
{
	struct options o;

	CHECK_REFUSED(&o, "tcpwave: --user: invalid value '': expected a user name\n", "--user=");
	CHECK_REFUSED(&o, "tcpwave: --no-drop: cannot be combined with --user\n", "--no-drop",
		      "--user", "nobody");
	CHECK_REFUSED(&o, "tcpwave: --user: needs a value\n", "--user");
}
