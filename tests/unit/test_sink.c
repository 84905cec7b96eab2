// SPDX-License-Identifier: GPL-2.0
/* The file sink: appended to, created rw-r-----, reopened where logrotate left nothing. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "sink.h"

struct dir {
	char path[64];
	char file[96]; /* path/out.json */
	char moved[96]; /* path/out.json.1 */
};

static void make_dir(struct dir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/tcpwave-unit-XXXXXX");
	if (!mkdtemp(d->path)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(d->file, sizeof(d->file), "%s/out.json", d->path);
	snprintf(d->moved, sizeof(d->moved), "%s/out.json.1", d->path);
}

static void remove_dir(struct dir *d)
{
	unlink(d->file);
	unlink(d->moved);
	rmdir(d->path);
}

/* The whole content of a file, or "(missing)". */
static const char *content(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return "(missing)";
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* What stderr receives while fn(s) runs, and fn's result in *rc. */
static const char *stderr_of(int (*fn)(struct sink *), struct sink *s, int *rc)
{
	static char buf[512];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	*rc = fn(s);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return buf;
}

static int open_missing(struct sink *s)
{
	return sink_open_file(s, "/nonexistent-tcpwave-dir/out.json");
}

static void write_line(struct sink *s, const char *line)
{
	struct strbuf sb = { 0 };

	strbuf_adds(&sb, line);
	CHECK_INT(sink_write(s, &sb), SINK_OK);
	strbuf_free(&sb);
}

TEST(test_sink_file_is_appended_to_and_created_0640)
{
	struct dir d;
	struct sink s;
	struct stat st;
	mode_t old = umask(022);
	FILE *f;

	make_dir(&d);
	f = fopen(d.file, "w");
	fputs("earlier\n", f);
	fclose(f);
	CHECK_INT(sink_open_file(&s, d.file), 0);
	write_line(&s, "{\"n\":1}\n");
	CHECK_INT(sink_close(&s), SINK_OK);
	CHECK_STR(content(d.file), "earlier\n{\"n\":1}\n");
	unlink(d.file);
	CHECK_INT(sink_open_file(&s, d.file), 0);
	CHECK_INT(sink_close(&s), SINK_OK);
	CHECK_INT(stat(d.file, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0640);
	umask(old);
	remove_dir(&d);
}

TEST(test_sink_reopen_writes_to_a_new_file_after_a_rename)
{
	struct dir d;
	struct sink s;

	make_dir(&d);
	CHECK_INT(sink_open_file(&s, d.file), 0);
	write_line(&s, "{\"n\":1}\n");
	CHECK_INT(rename(d.file, d.moved), 0);
	/* Buffered, not yet flushed: it belongs to the old file. */
	write_line(&s, "{\"n\":2}\n");
	CHECK_INT(sink_reopen(&s), 0);
	write_line(&s, "{\"n\":3}\n");
	CHECK_INT(sink_close(&s), SINK_OK);
	CHECK_STR(content(d.moved), "{\"n\":1}\n{\"n\":2}\n");
	CHECK_STR(content(d.file), "{\"n\":3}\n");
	remove_dir(&d);
}

TEST(test_sink_failed_reopen_keeps_writing_to_the_old_file)
{
	char want[256], got[64] = "";
	struct dir d;
	struct sink s;
	int fd, rc;

	make_dir(&d);
	CHECK_INT(sink_open_file(&s, d.file), 0);
	write_line(&s, "{\"n\":1}\n");
	/* The directory is gone: nowhere to create the file again. */
	fd = open(d.file, O_RDONLY);
	CHECK_INT(unlink(d.file), 0);
	CHECK_INT(rmdir(d.path), 0);
	snprintf(want, sizeof(want),
		 "tcpwave: cannot reopen %s: No such file or directory; still writing to the file "
		 "it had open\n",
		 d.file);
	CHECK_STR(stderr_of(sink_reopen, &s, &rc), want);
	CHECK_INT(rc, -ENOENT);
	CHECK_INT(s.status, SINK_OK);
	write_line(&s, "{\"n\":2}\n");
	CHECK_INT(sink_close(&s), SINK_OK);
	CHECK_INT(pread(fd, got, sizeof(got) - 1, 0), 16);
	CHECK_STR(got, "{\"n\":1}\n{\"n\":2}\n");
	close(fd);
}

TEST(test_sink_open_failure_names_the_file)
{
	struct sink s;
	int rc;

	CHECK_STR(stderr_of(open_missing, &s, &rc),
		  "tcpwave: cannot open /nonexistent-tcpwave-dir/out.json: No such file or "
		  "directory\n");
	CHECK_INT(rc, -ENOENT);
}

TEST(test_sink_reopen_of_standard_output_does_nothing)
{
	struct sink s;

	sink_init_stdout(&s);
	CHECK_INT(sink_reopen(&s), 0);
	CHECK_INT(s.fd, STDOUT_FILENO);
	CHECK_INT(sink_close(&s), SINK_OK);
	CHECK_INT(fcntl(STDOUT_FILENO, F_GETFD), 0);
}

/* The size of a file, or -1. */
static long size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

/* n records of len bytes each (the last a newline), not flushed. */
static void write_records(struct sink *s, int n, size_t len)
{
	struct strbuf sb = { 0 };
	int i;

	strbuf_grow(&sb, len);
	memset(sb.data, 'x', len - 1);
	sb.data[len - 1] = '\n';
	sb.len = len;
	for (i = 0; i < n; i++)
		CHECK_INT(sink_write(s, &sb), SINK_OK);
	strbuf_free(&sb);
}

TEST(test_sink_writes_whole_records_only)
{
	struct dir d;
	struct sink s;

	/* 300 records of 1000 bytes fill the 256 KiB buffer at the 263rd. */
	make_dir(&d);
	CHECK_INT(sink_open_file(&s, d.file), 0);
	write_records(&s, 300, 1000);
	CHECK_INT(size_of(d.file), 262 * 1000);
	CHECK_INT(sink_close(&s), SINK_OK);
	CHECK_INT(size_of(d.file), 300 * 1000);
	unlink(d.file);

	/* One larger than the buffer goes out whole, after those before it. */
	CHECK_INT(sink_open_file(&s, d.file), 0);
	write_records(&s, 2, 100);
	write_records(&s, 1, 300 * 1024);
	CHECK_INT(size_of(d.file), 200 + 300 * 1024);
	CHECK_INT(sink_close(&s), SINK_OK);
	remove_dir(&d);
}

TEST(test_sink_on_a_terminal_writes_each_record_at_once)
{
	int terminal, side, saved = dup(STDOUT_FILENO), polled = -1;
	struct pollfd ready;
	struct termios raw;
	char got[64] = "";
	struct sink s;
	ssize_t n = -1;

	CHECK_INT(openpty(&terminal, &side, NULL, NULL, NULL), 0);
	/* Raw: the line discipline passes the bytes as written. */
	CHECK_INT(tcgetattr(side, &raw), 0);
	cfmakeraw(&raw);
	CHECK_INT(tcsetattr(side, TCSANOW, &raw), 0);
	/* Standard output is the terminal until the checks, which print there. */
	fflush(stdout);
	dup2(side, STDOUT_FILENO);
	sink_init_stdout(&s);
	write_line(&s, "{\"n\":1}\n");
	ready = (struct pollfd){ .fd = terminal, .events = POLLIN };
	polled = poll(&ready, 1, 1000);
	if (polled == 1)
		n = read(terminal, got, sizeof(got) - 1);
	sink_close(&s);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(side);
	close(terminal);
	CHECK_INT(polled, 1);
	CHECK_INT(n, 8);
	CHECK_STR(got, "{\"n\":1}\n");
}
