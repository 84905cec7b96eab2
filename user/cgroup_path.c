// SPDX-License-Identifier: GPL-2.0
#include "cgroup_path.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#define DELETED_SUFFIX " (deleted)"

/* A cgroup2 file handle: the kernfs node id (kernfs_encode_fh()). */
struct kernfs_handle {
	struct file_handle fh;
	uint64_t id;
};

void cgroup_path_init(struct cgroup_path *cp, cgroup_path_resolve_fn resolve)
{
	memset(cp, 0, sizeof(*cp));
	cp->mount_fd = -1;
	cp->resolve = resolve;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/*
 * "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw":
 * the root of the mount (field 4) must be the hierarchy's, the type follows
 * " - ".
 */
int cgroup_path_mount_point(FILE *mountinfo, char *out, size_t size)
{
	char line[4096], root[PATH_MAX], point[PATH_MAX];
	const char *type;

	while (fgets(line, sizeof(line), mountinfo)) {
		type = strstr(line, " - ");
		if (!type || strncmp(type + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 ||
		    strcmp(root, "/"))
			continue;
		unescape_octal(point);
		if (strlen(point) >= size)
			return -ENAMETOOLONG;
		strcpy(out, point);
		return 0;
	}
	return -ENOENT;
}

/* The part of an absolute path below the mount: "/" for the mount itself. */
static const char *below_mount(const struct cgroup_path *cp, const char *abs)
{
	size_t n = strlen(cp->mount);

	if (!strcmp(cp->mount, "/"))
		return abs;
	if (strncmp(abs, cp->mount, n) || (abs[n] != '/' && abs[n] != '\0'))
		return NULL;
	return abs[n] ? abs + n : "/";
}

static int copy_path(char *out, size_t size, const char *path)
{
	if (strlen(path) >= size)
		return -ENAMETOOLONG;
	strcpy(out, path);
	return 0;
}

/* Deeper than any systemd or container hierarchy; a bound on the walk below. */
#define CGROUP_DEPTH_MAX 32

/*
 * Look for the directory whose inode is id below dir (rel: its path below
 * the mount, "" for the root). 1 found (path in out), 0 not there, -errno.
 */
static int walk_for_inode(int dir, char *rel, size_t size, uint64_t id, int depth)
{
	size_t len = strlen(rel);
	struct dirent *de;
	int found = 0;
	DIR *d;

	d = fdopendir(dir);
	if (!d) {
		close(dir);
		return -errno;
	}
	while (!found && (de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (len + 1 + strlen(de->d_name) >= size)
			continue;
		snprintf(rel + len, size - len, "/%s", de->d_name);
		if (de->d_ino == id) {
			found = 1;
			break;
		}
		if (depth + 1 >= CGROUP_DEPTH_MAX)
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			found = walk_for_inode(sub, rel, size, id, depth + 1) == 1;
		if (!found)
			rel[len] = '\0';
	}
	closedir(d);
	return found;
}

/*
 * Without CAP_DAC_READ_SEARCH (tcpwave after dropping its privileges),
 * open_by_handle_at() is refused: find the directory by its inode instead,
 * which on cgroup2 is the cgroup id (kernfs_ino()). cgroupfs directories
 * are world-readable, and a cgroup's path is looked up once per id.
 */
static int find_by_inode(struct cgroup_path *cp, uint64_t id, char *out, size_t size)
{
	char rel[PATH_MAX] = "";
	struct stat st;
	int dir, found;

	if (fstat(cp->mount_fd, &st) == 0 && st.st_ino == id)
		return copy_path(out, size, "/");
	dir = openat(cp->mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	found = walk_for_inode(dir, rel, sizeof(rel), id, 0);
	if (found < 0)
		return found;
	return found ? copy_path(out, size, rel) : -ENOENT;
}

/* open_by_handle_at() refuses a removed cgroup's handle with ESTALE (kernfs_fh_to_dentry()). */
static int resolve_on_fs(struct cgroup_path *cp, uint64_t id, char *out, size_t size)
{
	struct kernfs_handle h = { .fh.handle_bytes = sizeof(h.id), .id = id };
	char link[64], abs[PATH_MAX];
	const char *rel;
	ssize_t n;
	int fd;

	h.fh.handle_type = cp->handle_type;
	fd = open_by_handle_at(cp->mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == EPERM)
		return find_by_inode(cp, id, out, size);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, abs, sizeof(abs) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	abs[n] = '\0';
	/* Removed between the two calls. */
	if ((size_t)n > strlen(DELETED_SUFFIX) &&
	    !strcmp(abs + n - strlen(DELETED_SUFFIX), DELETED_SUFFIX))
		return -ENOENT;
	rel = below_mount(cp, abs);
	return rel ? copy_path(out, size, rel) : -ENOENT;
}

int cgroup_path_open(struct cgroup_path *cp)
{
	struct kernfs_handle h = { .fh.handle_bytes = sizeof(h.id) };
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int err, mount_id;

	cgroup_path_init(cp, resolve_on_fs);
	if (!f)
		return -errno;
	err = cgroup_path_mount_point(f, cp->mount, sizeof(cp->mount));
	fclose(f);
	if (err)
		return err;
	cp->mount_fd = open(cp->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cp->mount_fd < 0)
		return -errno;
	/* The root's own handle says which handle type this kernel's cgroup2 uses. */
	if (name_to_handle_at(cp->mount_fd, "", &h.fh, &mount_id, AT_EMPTY_PATH)) {
		err = -errno;
		cgroup_path_close(cp);
		return err;
	}
	cp->handle_type = h.fh.handle_type;
	return 0;
}

static struct cgroup_path_slot *slot_of(struct cgroup_path *cp, uint64_t id)
{
	return &cp->slots[(id * 0x9e3779b97f4a7c15ull) % CGROUP_PATH_SLOTS];
}

const char *cgroup_path_of(struct cgroup_path *cp, uint64_t id, uint64_t now_ns)
{
	struct cgroup_path_slot *s = slot_of(cp, id);
	char path[PATH_MAX];
	int err;

	if (!id || !cp->resolve)
		return NULL;
	if (s->id == id && (!s->path || now_ns - s->checked_ns < CGROUP_PATH_RECHECK_NS))
		return s->path;
	err = cp->resolve(cp, id, path, sizeof(path));
	if (err && err != -ESTALE && err != -ENOENT)
		return NULL; /* not known now (out of descriptors, ...): ask again next time */
	if (s->id == id && s->path && !err && !strcmp(s->path, path)) {
		s->checked_ns = now_ns;
		return s->path;
	}
	free(s->path);
	s->id = id;
	s->checked_ns = now_ns;
	s->path = err ? NULL : strdup(path);
	s->taken = false;
	return s->path;
}

bool cgroup_path_take_change(struct cgroup_path *cp, uint64_t id)
{
	struct cgroup_path_slot *s = slot_of(cp, id);

	if (!id || s->id != id || s->taken)
		return false;
	s->taken = true;
	return true;
}

static struct cgroup_path_recorded *recorded_of(struct cgroup_path *cp, uint64_t id)
{
	size_t i;

	for (i = 0; i < cp->nrecorded; i++)
		if (cp->recorded[i].id == id)
			return &cp->recorded[i];
	return NULL;
}

/* A cgroup the recording never named had no path there. */
static int resolve_recorded(struct cgroup_path *cp, uint64_t id, char *out, size_t size)
{
	struct cgroup_path_recorded *r = recorded_of(cp, id);

	if (!r || !r->path)
		return -ENOENT;
	return copy_path(out, size, r->path);
}

void cgroup_path_use_recorded(struct cgroup_path *cp)
{
	cp->resolve = resolve_recorded;
}

int cgroup_path_record(struct cgroup_path *cp, uint64_t id, const char *path, size_t len)
{
	struct cgroup_path_recorded *r = recorded_of(cp, id), *grown;
	struct cgroup_path_slot *s = slot_of(cp, id);
	char *copy = len ? strndup(path, len) : NULL;

	if (len && !copy)
		return -ENOMEM;
	if (!r) {
		if (cp->nrecorded == cp->recorded_cap) {
			size_t cap = cp->recorded_cap ? 2 * cp->recorded_cap : 64;

			grown = realloc(cp->recorded, cap * sizeof(*grown));
			if (!grown) {
				free(copy);
				return -ENOMEM;
			}
			cp->recorded = grown;
			cp->recorded_cap = cap;
		}
		r = &cp->recorded[cp->nrecorded++];
		r->id = id;
	} else {
		free(r->path);
	}
	r->path = copy;
	/* The cached path, if any, is the old one: resolve again. */
	if (s->id == id)
		s->id = 0;
	return 0;
}

int cgroup_path_find(struct cgroup_path *cp, const char *arg, char *path, size_t size,
		     uint64_t *id, uint32_t *level)
{
	struct kernfs_handle h = { .fh.handle_bytes = sizeof(h.id) };
	char full[PATH_MAX], real[PATH_MAX];
	const char *rel, *p;
	struct statfs sfs;
	struct stat st;
	int mount_id;

	if (cp->mount_fd < 0)
		return -ENODEV;
	if (below_mount(cp, arg))
		rel = arg;
	else if (snprintf(full, sizeof(full), "%s%s", cp->mount, arg) >= (int)sizeof(full))
		return -ENAMETOOLONG;
	else
		rel = full;
	if (!realpath(rel, real))
		return -errno;
	rel = below_mount(cp, real);
	if (!rel || statfs(real, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC || stat(real, &st) ||
	    !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (name_to_handle_at(AT_FDCWD, real, &h.fh, &mount_id, 0))
		return -errno;
	*id = h.id;
	*level = 0;
	if (strcmp(rel, "/"))
		for (p = rel; *p; p++)
			*level += *p == '/';
	return copy_path(path, size, rel);
}

void cgroup_path_close(struct cgroup_path *cp)
{
	unsigned int i;

	for (i = 0; i < CGROUP_PATH_SLOTS; i++)
		free(cp->slots[i].path);
	for (i = 0; i < cp->nrecorded; i++)
		free(cp->recorded[i].path);
	free(cp->recorded);
	if (cp->mount_fd >= 0)
		close(cp->mount_fd);
	cgroup_path_init(cp, NULL);
}
