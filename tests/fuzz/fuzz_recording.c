// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: any bytes, read as a recording by tcpwave itself
 * (`tcpwave -r FILE` in each output mode), so that the reader and everything
 * it feeds run as they do for a user: decoding, conn_classify, conn_queue
 * and its late resets, and the JSON, table and timeline formatters.
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

/* A recording of transitions is refused by --timeline, and read by the others. */
static const char *const modes[] = { "--json", "--timeline", NULL };

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
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char *argv[] = { "tcpwave", "-r", path, (char *)modes[i], NULL };

		tcpwave_main(modes[i] ? 4 : 3, argv);
	}
	close(fd);
	return 0;
}
