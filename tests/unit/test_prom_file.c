// SPDX-License-Identifier: GPL-2.0
/* The --prom-file: replaced whole, readable by node_exporter, never through a symlink. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "prom_file.h"

static char dir[] = "/tmp/tcpwave-unit-XXXXXX";
static char path[PATH_MAX], tmp[PATH_MAX];

static void make_dir(void)
{
	strcpy(dir, "/tmp/tcpwave-unit-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/tcpwave.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s/tcpwave.prom.tmp", dir);
}

static void remove_dir(void)
{
	unlink(path);
	unlink(tmp);
	rmdir(dir);
}

/* The whole file, in a static buffer ("" when it cannot be read). */
static const char *contents(const char *file)
{
	static char buf[256];
	ssize_t n = -1;
	int fd = open(file, O_RDONLY);

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int write_text(const char *text, const char **step)
{
	struct strbuf sb = { 0 };
	int err;

	strbuf_adds(&sb, text);
	err = prom_file_write(path, &sb, (uid_t)-1, (gid_t)-1, step);
	strbuf_free(&sb);
	return err;
}

TEST(test_prom_file_is_replaced_whole_and_world_readable)
{
	const char *step = NULL;
	struct stat st;
	mode_t old = umask(077);

	make_dir();
	CHECK_INT(write_text("a 1\n", &step), 0);
	CHECK_STR(contents(path), "a 1\n");
	CHECK_INT(write_text("a 2\nb 3\n", &step), 0);
	umask(old);
	CHECK_STR(contents(path), "a 2\nb 3\n");
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0644);
	CHECK_INT(access(tmp, F_OK), -1);
	remove_dir();
}

TEST(test_prom_file_replaces_a_stale_tmp_and_never_follows_a_symlink)
{
	char target[PATH_MAX];
	const char *step = NULL;
	int fd;

	make_dir();
	/* A .tmp left by a crash, then one planted as a symlink to another file. */
	fd = open(tmp, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_INT(write_text("a 1\n", &step), 0);
	CHECK_STR(contents(path), "a 1\n");
	snprintf(target, sizeof(target), "%s/target", dir);
	fd = open(target, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, "keep\n", 5) == 5);
	close(fd);
	CHECK_INT(symlink(target, tmp), 0);
	CHECK_INT(write_text("a 2\n", &step), 0);
	CHECK_STR(contents(target), "keep\n");
	CHECK_STR(contents(path), "a 2\n");
	unlink(target);
	remove_dir();
}

TEST(test_prom_file_failure_says_which_step)
{
	char want[PATH_MAX + 16];
	const char *step = NULL;

	make_dir();
	remove_dir();
	CHECK_INT(write_text("a 1\n", &step), -ENOENT);
	CHECK(step != NULL);
	snprintf(want, sizeof(want), "creating %s", tmp);
	CHECK_STR(step ? step : "", want);
}
