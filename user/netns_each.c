// SPDX-License-Identifier: GPL-2.0
#include "netns_each.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
	int (*fn)(void *ctx);
	void *ctx;
	struct netns_each_result *res;
	ino_t *seen; /* namespace inodes visited (or refused) */
	size_t nseen, cap;
	bool moved; /* out of the home namespace: setns() back at the end */
};

static bool seen(const struct walk *w, ino_t ino)
{
	size_t i;

	for (i = 0; i < w->nseen; i++)
		if (w->seen[i] == ino)
			return true;
	return false;
}

static int remember(struct walk *w, ino_t ino)
{
	ino_t *grown;

	if (w->nseen == w->cap) {
		grown = realloc(w->seen, (w->cap ? w->cap * 2 : 64) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		w->seen = grown;
		w->cap = w->cap ? w->cap * 2 : 64;
	}
	w->seen[w->nseen++] = ino;
	return 0;
}

/* The namespace at path (an nsfs file), unless seen already. A gone process is no error. */
static int visit(struct walk *w, const char *path)
{
	struct stat st;
	int fd, err;

	if (stat(path, &st) || seen(w, st.st_ino))
		return 0;
	err = remember(w, st.st_ino);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	if (err) {
		w->res->unreachable++;
		return 0;
	}
	w->moved = true;
	w->res->visited++;
	return w->fn(w->ctx);
}

/* Each dir/NAME/suffix: every name, or (pids_only) those of processes. */
static int visit_dir(struct walk *w, const char *dir, const char *suffix, bool pids_only)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp = opendir(dir);
	int err = 0;

	if (!dp)
		return 0;
	while (!err && (d = readdir(dp))) {
		if (d->d_name[0] == '.' ||
		    (pids_only && (d->d_name[0] < '0' || d->d_name[0] > '9')))
			continue;
		snprintf(path, sizeof(path), "%s/%s%s", dir, d->d_name, suffix);
		err = visit(w, path);
	}
	closedir(dp);
	return err;
}

int netns_each(int (*fn)(void *ctx), void *ctx, struct netns_each_result *res)
{
	struct walk w = { .fn = fn, .ctx = ctx, .res = res };
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct stat st;
	int err;

	res->visited = res->unreachable = 0;
	if (home < 0 || fstat(home, &st)) {
		err = -errno;
		if (home >= 0)
			close(home);
		return err;
	}
	err = remember(&w, st.st_ino);
	if (!err) {
		res->visited++;
		err = fn(ctx);
	}
	if (!err)
		err = visit_dir(&w, "/proc", "/ns/net", true);
	if (!err)
		err = visit_dir(&w, "/run/netns", "", false);
	/* Without CAP_SYS_ADMIN no setns() succeeds, not even this one: there is no need. */
	if (w.moved && setns(home, CLONE_NEWNET))
		err = -errno;
	close(home);
	free(w.seen);
	return err;
}
