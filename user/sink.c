// SPDX-License-Identifier: GPL-2.0
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* EPIPE as an error return rather than a signal: see sink_failed(). */
static void ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Records are flushed at every turn of the poll loop, which under heavy
 * churn hands over megabytes at once: written 4 KiB at a time (stdio's
 * default for files and pipes), that is a system call per four records.
 * A terminal keeps its line buffering. glibc takes the size only with the
 * buffer itself (of SINK_BUFFER_BYTES); true if f uses it now.
 */
#define SINK_BUFFER_BYTES (256 * 1024)

static bool buffer_generously(FILE *f, char *buffer)
{
	return buffer && !isatty(fileno(f)) && !setvbuf(f, buffer, _IOFBF, SINK_BUFFER_BYTES);
}

void sink_init_stdout(struct sink *s)
{
	static char buffer[SINK_BUFFER_BYTES];

	ignore_sigpipe();
	buffer_generously(stdout, buffer);
	s->buffer = NULL;
	s->f = stdout;
	s->name = "standard output";
	s->path = NULL;
	s->status = SINK_OK;
}

/*
 * O_APPEND: every write lands at the end, whoever else appends, and a file
 * that logrotate truncated (copytruncate) is not padded up to our offset.
 */
static FILE *open_append(const char *path, char **buffer, int *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, SINK_FILE_MODE);
	FILE *f;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	f = fdopen(fd, "a");
	if (!f) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	*buffer = malloc(SINK_BUFFER_BYTES);
	if (!buffer_generously(f, *buffer)) {
		free(*buffer);
		*buffer = NULL;
	}
	return f;
}

int sink_open_file(struct sink *s, const char *path)
{
	int err = 0;

	ignore_sigpipe();
	s->f = open_append(path, &s->buffer, &err);
	if (!s->f) {
		fprintf(stderr, "tcpwave: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	s->name = path;
	s->path = path;
	s->status = SINK_OK;
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

int sink_reopen(struct sink *s)
{
	char *buffer = NULL;
	FILE *f;
	int err = 0;

	if (!s->path || sink_flush(s) != SINK_OK)
		return 0;
	f = open_append(s->path, &buffer, &err);
	if (!f) {
		fprintf(stderr,
			"tcpwave: cannot reopen %s: %s; still writing to the file it had open\n",
			s->path, strerror(-err));
		return err;
	}
	/* The flush above wrote everything; a failure now is one the kernel deferred (NFS). */
	if (fclose(s->f) != 0)
		fprintf(stderr,
			"tcpwave: closing the previous %s: %s; records may be missing there\n",
			s->path, strerror(errno));
	free(s->buffer);
	s->f = f;
	s->buffer = buffer;
	return 0;
}

enum sink_status sink_write(struct sink *s, const struct strbuf *sb)
{
	if (s->status != SINK_OK || sb->len == 0)
		return s->status;
	if (fwrite(sb->data, 1, sb->len, s->f) != sb->len)
		return sink_failed(s, errno);
	return SINK_OK;
}

enum sink_status sink_flush(struct sink *s)
{
	if (s->status != SINK_OK)
		return s->status;
	if (fflush(s->f) != 0)
		return sink_failed(s, errno);
	return SINK_OK;
}

enum sink_status sink_close(struct sink *s)
{
	FILE *f = s->f;

	int closed;

	if (!s->path || !f)
		return s->status;
	s->f = NULL;
	closed = fclose(f);
	free(s->buffer);
	s->buffer = NULL;
	if (closed != 0 && s->status == SINK_OK)
		return sink_failed(s, errno);
	return s->status;
}
