// SPDX-License-Identifier: GPL-2.0
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fd_write.h"

/*
 * Records are flushed at every turn of the poll loop, which under heavy
 * churn hands over megabytes at once: this much goes out per write(2).
 */
#define SINK_BUFFER_BYTES (256 * 1024)

/* EPIPE as an error return rather than a signal: see sink_failed(). */
static void ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

static void sink_init(struct sink *s, int fd, const char *name, const char *path)
{
	ignore_sigpipe();
	s->fd = fd;
	s->buffer = malloc(SINK_BUFFER_BYTES);
	/* As strbuf_grow(): out of memory on the output path has no useful recovery. */
	if (!s->buffer) {
		fputs("tcpwave: out of memory\n", stderr);
		exit(1);
	}
	s->len = 0;
	s->at_once = isatty(fd);
	s->name = name;
	s->path = path;
	s->status = SINK_OK;
}

void sink_init_stdout(struct sink *s)
{
	sink_init(s, STDOUT_FILENO, "standard output", NULL);
}

/*
 * O_APPEND: every write lands at the end, whoever else appends, and a file
 * that logrotate truncated (copytruncate) is not padded up to our offset.
 */
static int open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, SINK_FILE_MODE);

	return fd < 0 ? -errno : fd;
}

int sink_open_file(struct sink *s, const char *path)
{
	int fd = open_append(path);

	if (fd < 0) {
		fprintf(stderr, "tcpwave: cannot open %s: %s\n", path, strerror(-fd));
		return fd;
	}
	sink_init(s, fd, path, path);
	return 0;
}

static enum sink_status sink_failed(struct sink *s, int err)
{
	if (err == EPIPE) {
		s->status = SINK_CLOSED;
	} else {
		fprintf(stderr, "tcpwave: writing %s: %s\n", s->name, strerror(err));
		s->status = SINK_FAILED;
	}
	return s->status;
}

static enum sink_status write_all(struct sink *s, const char *data, size_t n)
{
	int err = fd_write_all(s->fd, data, n);

	return err ? sink_failed(s, -err) : SINK_OK;
}

int sink_reopen(struct sink *s)
{
	int fd;

	if (!s->path || sink_flush(s) != SINK_OK)
		return 0;
	fd = open_append(s->path);
	if (fd < 0) {
		fprintf(stderr,
			"tcpwave: cannot reopen %s: %s; still writing to the file it had open\n",
			s->path, strerror(-fd));
		return fd;
	}
	/* The flush above wrote everything; a failure now is one the kernel deferred (NFS). */
	if (close(s->fd) != 0)
		fprintf(stderr,
			"tcpwave: closing the previous %s: %s; records may be missing there\n",
			s->path, strerror(errno));
	s->fd = fd;
	return 0;
}

enum sink_status sink_write(struct sink *s, const struct strbuf *sb)
{
	if (s->status != SINK_OK || sb->len == 0)
		return s->status;
	/* Room for the whole record, or the records before it go first. */
	if (s->len + sb->len > SINK_BUFFER_BYTES && sink_flush(s) != SINK_OK)
		return s->status;
	if (sb->len > SINK_BUFFER_BYTES)
		return write_all(s, sb->data, sb->len);
	memcpy(s->buffer + s->len, sb->data, sb->len);
	s->len += sb->len;
	return s->at_once ? sink_flush(s) : SINK_OK;
}

enum sink_status sink_flush(struct sink *s)
{
	if (s->status != SINK_OK)
		return s->status;
	if (s->len && write_all(s, s->buffer, s->len) != SINK_OK)
		return s->status;
	s->len = 0;
	return SINK_OK;
}

enum sink_status sink_close(struct sink *s)
{
	enum sink_status status = sink_flush(s);

	free(s->buffer);
	s->buffer = NULL;
	if (!s->path || s->fd < 0)
		return status;
	if (close(s->fd) != 0 && status == SINK_OK)
		status = sink_failed(s, errno);
	s->fd = -1;
	return status;
}
