// SPDX-License-Identifier: GPL-2.0
#include "prom_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fd_write.h"

#define PROM_FILE_MODE 0644

static int failed(char *step, size_t n, const char *what, const char *file, int err)
{
	snprintf(step, n, "%s %s", what, file);
	return -err;
}

int prom_file_write(const char *path, const struct strbuf *sb, uid_t uid, gid_t gid,
		    const char **step)
{
	static char what[PATH_MAX + 32];
	char tmp[PATH_MAX];
	int fd, err;

	*step = what;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return failed(what, sizeof(what), "naming", path, ENAMETOOLONG);
	/*
	 * tcpwave runs as root, maybe in a directory others can write: a new
	 * file only (O_EXCL never follows a symlink), after removing one a
	 * crash left behind.
	 */
	if (unlink(tmp) && errno != ENOENT)
		return failed(what, sizeof(what), "removing", tmp, errno);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, PROM_FILE_MODE);
	if (fd < 0)
		return failed(what, sizeof(what), "creating", tmp, errno);
	err = fd_write_all(fd, sb->data ? sb->data : "", sb->len);
	/* open()'s mode is masked by the umask; node_exporter must be able to read it. */
	if (!err && fchmod(fd, PROM_FILE_MODE))
		err = -errno;
	if (!err && uid != (uid_t)-1 && fchown(fd, uid, gid))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (err) {
		unlink(tmp);
		return failed(what, sizeof(what), "writing", tmp, -err);
	}
	if (rename(tmp, path)) {
		err = errno;
		unlink(tmp);
		return failed(what, sizeof(what), "renaming to", path, err);
	}
	return 0;
}
