// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: any bytes, read as a recording by tcpwave itself
 * (`tcpwave -r FILE` in each output mode, with summaries, filters and the
 * slow-close diagnosis), so that the reader and everything it feeds run as
 * they do for a user: decoding, conn_classify, conn_queue and its late
 * resets, the filters, the diagnosis, the summary, and every formatter.
 *
 * user/main.c is built with -Dmain=tcpwave_main for this. Output goes to
 * /dev/null; tcpwave's messages go to stderr (make fuzz closes it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int tcpwave_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The options of each run after -r FILE. A recording of transitions is
 * refused by --timeline and the summaries, and read by the others.
 */
#define RUN_ARGS_MAX 7
static const char *const runs[][RUN_ARGS_MAX] = {
	{ "--json" },
	{ "--timeline" },
	{ NULL }, /* the table */
	{ "--json", "-s" },
	{ "-s", "--slow-close", "1", "--slow-handshake", "1" },
	{ "--json", "-P", "80,443", "--raddr", "10.0.0.0/8", "-4" },
	{ "-c", "curl", "-6", "--laddr", "::1/128" },
};

static int write_all(int fd, const uint8_t *data, size_t size)
{
	ssize_t n;

	while (size) {
		n = write(fd, data, size);
		if (n <= 0)
			return -1;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *out;
	char path[32];
	size_t i;
	int fd;

	if (!out)
		out = freopen("/dev/null", "w", stdout);
	fd = memfd_create("recording", 0);
	if (!out || fd < 0 || write_all(fd, data, size)) {
		perror("fuzz_recording: /dev/null or memfd");
		_exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		/*
		 * --no-drop: a replay started as root becomes nobody, and so
		 * would the whole fuzzer, which then can no longer write its
		 * corpus or the inputs that crash it.
		 */
		char *argv[4 + RUN_ARGS_MAX + 1] = { "tcpwave", "-r", path, "--no-drop" };
		int argc = 4;

		while (argc - 4 < RUN_ARGS_MAX && runs[i][argc - 4]) {
			argv[argc] = (char *)runs[i][argc - 4];
			argc++;
		}
		tcpwave_main(argc, argv);
	}
	close(fd);
	return 0;
}
