// SPDX-License-Identifier: GPL-2.0
/* fd_write_all(): the whole buffer, or the error of the write that failed. */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "fd_write.h"

TEST(test_fd_write_all_writes_every_byte)
{
	char got[16] = "";
	int p[2];

	CHECK_INT(pipe(p), 0);
	CHECK_INT(fd_write_all(p[1], "whole record\n", 13), 0);
	CHECK_INT(read(p[0], got, sizeof(got) - 1), 13);
	CHECK_STR(got, "whole record\n");
	close(p[0]);
	close(p[1]);
}

TEST(test_fd_write_all_says_why_it_failed)
{
	void (*was)(int) = signal(SIGPIPE, SIG_IGN);
	int p[2];

	CHECK_INT(pipe(p), 0);
	close(p[0]);
	CHECK_INT(fd_write_all(p[1], "x", 1), -EPIPE);
	close(p[1]);
	CHECK_INT(fd_write_all(-1, "x", 1), -EBADF);
	signal(SIGPIPE, was);
}
