/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroup v2 paths ("/system.slice/nginx.service", relative to the
 * hierarchy's root) for the cgroup ids that records carry, and ids for the
 * paths --cgroup names.
 *
 * A cgroup's id is its kernfs node id (sk_cgrp_data.cgroup->kn->id), which
 * is also the file handle of its directory on the cgroup2 filesystem: one
 * open_by_handle_at() finds the directory, however deep, without walking the
 * tree. Ids are never reused, so each is resolved once and cached; a path is
 * looked at again after CGROUP_PATH_RECHECK_NS, so that a cgroup removed (or
 * renamed) since reads as it now is. A cgroup that no longer exists has no
 * path (NULL).
 */
#ifndef TCPWAVE_CGROUP_PATH_H
#define TCPWAVE_CGROUP_PATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Direct-mapped: a busy host has hundreds of cgroups, not thousands. */
#define CGROUP_PATH_SLOTS 1024
#define CGROUP_PATH_RECHECK_NS 1000000000ull

struct cgroup_path;

/* The path of cgroup `id` into out; -ESTALE or -ENOENT when it is gone. */
typedef int (*cgroup_path_resolve_fn)(struct cgroup_path *cp, uint64_t id, char *out,
				      size_t size);

struct cgroup_path_slot {
	uint64_t id; /* 0: empty */
	uint64_t checked_ns; /* when path was last resolved */
	char *path; /* NULL: the cgroup is gone */
	bool taken; /* cgroup_path_take_change() has seen this path */
};

/* A path a recording gave; NULL: the cgroup was gone. */
struct cgroup_path_recorded {
	uint64_t id;
	char *path;
};

struct cgroup_path {
	int mount_fd; /* the cgroup2 mount; -1 without one */
	char mount[PATH_MAX]; /* where it is mounted */
	int handle_type; /* its file handles' type (FILEID_KERNFS) */
	cgroup_path_resolve_fn resolve;
	struct cgroup_path_slot slots[CGROUP_PATH_SLOTS];
	/* A replay's paths (cgroup_path_use_recorded()), every one the recording gave. */
	struct cgroup_path_recorded *recorded;
	size_t nrecorded, recorded_cap;
};

/*
 * An empty cache that asks `resolve` (the unit tests' own, or the
 * filesystem's once cgroup_path_open() has found it).
 */
void cgroup_path_init(struct cgroup_path *cp, cgroup_path_resolve_fn resolve);
/* Find the cgroup2 mount in /proc/self/mountinfo. 0, or -ENOENT (not mounted) or -errno. */
int cgroup_path_open(struct cgroup_path *cp);
/* The path of cgroup id at now_ns (CLOCK_MONOTONIC), or NULL when it is gone or unknown. */
const char *cgroup_path_of(struct cgroup_path *cp, uint64_t id, uint64_t now_ns);
/*
 * True once after each new path cgroup_path_of() gave for id (the first,
 * or another since): --write then records it for a replay.
 */
bool cgroup_path_take_change(struct cgroup_path *cp, uint64_t id);
/*
 * A replay of a recording that holds the paths: they come from
 * cgroup_path_record(), in the recording's order, and this host's cgroups
 * are never read.
 */
void cgroup_path_use_recorded(struct cgroup_path *cp);
/* Cgroup id's path from now on: len bytes of path (not NUL-terminated); len 0: gone. */
int cgroup_path_record(struct cgroup_path *cp, uint64_t id, const char *path, size_t len);
/*
 * --cgroup PATH: a path relative to the root ("/system.slice") or one on the
 * mount ("/sys/fs/cgroup/system.slice"). Its canonical path into path, its
 * id and its depth below the root. 0; -ENOENT (no such directory),
 * -ENOTDIR (not a cgroup v2 directory), -ENAMETOOLONG, or -errno.
 */
int cgroup_path_find(struct cgroup_path *cp, const char *arg, char *path, size_t size,
		     uint64_t *id, uint32_t *level);
void cgroup_path_close(struct cgroup_path *cp);

/* Where mountinfo (/proc/self/mountinfo's format) mounts cgroup2: 0 or -ENOENT. */
int cgroup_path_mount_point(FILE *mountinfo, char *out, size_t size);

#endif
