// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzz target without libFuzzer: each file named on the command line
 * goes through LLVMFuzzerTestOneInput() once, in a child of its own, so a
 * crash, a sanitizer report or a hang fails that file and not the run.
 * Built with AddressSanitizer and UndefinedBehaviorSanitizer by make test,
 * which replays the seed corpus and every crash found so far.
 *
 * Prints "ok FILE" or "FAIL FILE: why" (with the child's stderr), then
 * "fuzz-corpus: N passed, N failed".
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The corpus runs in milliseconds; a file still running after this hangs. */
#define HANG_SECONDS 20
/* Far above any corpus file; libFuzzer's -max_len for make fuzz is below it. */
#define INPUT_MAX (1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_one(const char *path)
{
	static uint8_t data[INPUT_MAX];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	alarm(HANG_SECONDS);
	LLVMFuzzerTestOneInput(data, n);
	return 0;
}

/* The child's stderr, shown only when it failed: tcpwave rejects most inputs aloud. */
static void show(FILE *log)
{
	char buf[4096];
	size_t n;

	rewind(log);
	while ((n = fread(buf, 1, sizeof(buf), log)) > 0)
		fwrite(buf, 1, n, stdout);
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, i, status;

	for (i = 1; i < argc; i++) {
		FILE *log = tmpfile();
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			if (log)
				dup2(fileno(log), STDERR_FILENO);
			exit(run_one(argv[i]));
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0) {
			perror("fuzz-corpus");
			return 1;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok   %s\n", argv[i]);
			passed++;
		} else {
			if (WIFSIGNALED(status))
				printf("FAIL %s: %s\n", argv[i],
				       WTERMSIG(status) == SIGALRM ? "hung" : strsignal(WTERMSIG(status)));
			else
				printf("FAIL %s: exit %d\n", argv[i], WEXITSTATUS(status));
			if (log)
				show(log);
			failed++;
		}
		if (log)
			fclose(log);
	}
	printf("fuzz-corpus: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
