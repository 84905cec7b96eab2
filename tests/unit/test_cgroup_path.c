// SPDX-License-Identifier: GPL-2.0
/* cgroup paths: the cgroup2 mount in mountinfo, and the id cache in front of the filesystem. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include "cgroup_path.h"

static int mount_point(const char *mountinfo, char *out, size_t size)
{
	FILE *f = fmemopen((void *)mountinfo, strlen(mountinfo), "r");
	int err = cgroup_path_mount_point(f, out, size);

	fclose(f);
	return err;
}

TEST(test_cgroup_path_mount_point_unified)
{
	char out[256] = "";

	CHECK_INT(mount_point("24 30 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
			      "31 24 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
			      "32 31 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
			      "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
			      out, sizeof(out)),
		  0);
	CHECK_STR(out, "/sys/fs/cgroup/unified");
}

TEST(test_cgroup_path_mount_point_with_optional_fields_and_escapes)
{
	char out[256] = "";

	CHECK_INT(mount_point("35 24 0:30 / /sys/fs/cgroup\\040v2 rw shared:9 master:1 - cgroup2 "
			      "cgroup2 rw,nsdelegate\n",
			      out, sizeof(out)),
		  0);
	CHECK_STR(out, "/sys/fs/cgroup v2");
}

TEST(test_cgroup_path_mount_point_skips_a_subtree_bind_mount)
{
	char out[256] = "";

	CHECK_INT(mount_point("50 24 0:30 /system.slice /mnt/sub rw - cgroup2 cgroup2 rw\n"
			      "35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
			      out, sizeof(out)),
		  0);
	CHECK_STR(out, "/sys/fs/cgroup");
}

TEST(test_cgroup_path_mount_point_missing)
{
	char out[256] = "";

	CHECK_INT(mount_point("32 31 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n", out,
			      sizeof(out)),
		  -ENOENT);
	CHECK_INT(mount_point("", out, sizeof(out)), -ENOENT);
}

/* A filesystem stand-in: ids 1..99 exist as "/cg<id>", `gone` does not, 500 fails. */
static int resolves;
static uint64_t gone;

static int fake_resolve(struct cgroup_path *cp, uint64_t id, char *out, size_t size)
{
	(void)cp;
	resolves++;
	if (id == 500)
		return -EMFILE;
	if (id == gone || id >= 100)
		return -ESTALE;
	snprintf(out, size, "/cg%llu", (unsigned long long)id);
	return 0;
}

static struct cgroup_path *fake(void)
{
	static struct cgroup_path cp;

	cgroup_path_init(&cp, fake_resolve);
	resolves = 0;
	gone = 0;
	return &cp;
}

TEST(test_cgroup_path_resolves_once_while_fresh)
{
	struct cgroup_path *cp = fake();

	CHECK_STR(cgroup_path_of(cp, 7, 1000), "/cg7");
	CHECK_STR(cgroup_path_of(cp, 7, 1000 + CGROUP_PATH_RECHECK_NS - 1), "/cg7");
	CHECK_INT(resolves, 1);
	cgroup_path_close(cp);
}

TEST(test_cgroup_path_removed_cgroup_reads_null_after_recheck)
{
	struct cgroup_path *cp = fake();

	CHECK_STR(cgroup_path_of(cp, 7, 0), "/cg7");
	gone = 7;
	CHECK(cgroup_path_of(cp, 7, CGROUP_PATH_RECHECK_NS) == NULL);
	CHECK_INT(resolves, 2);
	/* ids are never reused: gone stays gone, unasked */
	gone = 0;
	CHECK(cgroup_path_of(cp, 7, 10 * CGROUP_PATH_RECHECK_NS) == NULL);
	CHECK_INT(resolves, 2);
	cgroup_path_close(cp);
}

TEST(test_cgroup_path_unknown_id_is_null)
{
	struct cgroup_path *cp = fake();

	CHECK(cgroup_path_of(cp, 0, 0) == NULL);
	CHECK(cgroup_path_of(cp, 100, 0) == NULL);
	CHECK_INT(resolves, 1); /* id 0 (no cgroup known) asks nothing */
	cgroup_path_close(cp);
}

TEST(test_cgroup_path_transient_failure_is_asked_again)
{
	struct cgroup_path *cp = fake();

	CHECK(cgroup_path_of(cp, 500, 0) == NULL);
	CHECK(cgroup_path_of(cp, 500, 1) == NULL);
	CHECK_INT(resolves, 2);
	cgroup_path_close(cp);
}

TEST(test_cgroup_path_ids_sharing_a_slot_take_turns)
{
	struct cgroup_path *cp = fake();
	uint64_t a = 3, b;

	/* the slot is the id times an odd constant, mod the slots: a + SLOTS shares a's */
	b = a + CGROUP_PATH_SLOTS;
	gone = 0;
	CHECK_STR(cgroup_path_of(cp, a, 0), "/cg3");
	CHECK(cgroup_path_of(cp, b, 0) == NULL); /* >= 100: gone */
	CHECK_STR(cgroup_path_of(cp, a, 0), "/cg3");
	CHECK_INT(resolves, 3);
	cgroup_path_close(cp);
}

TEST(test_cgroup_path_without_a_hierarchy_knows_nothing)
{
	struct cgroup_path cp;

	cgroup_path_init(&cp, NULL);
	CHECK(cgroup_path_of(&cp, 7, 0) == NULL);
	cgroup_path_close(&cp);
}

TEST(test_cgroup_path_change_is_taken_once_per_new_path)
{
	struct cgroup_path *cp = fake();

	CHECK(!cgroup_path_take_change(cp, 7)); /* not looked up yet */
	CHECK_STR(cgroup_path_of(cp, 7, 0), "/cg7");
	CHECK(cgroup_path_take_change(cp, 7));
	CHECK(!cgroup_path_take_change(cp, 7));
	/* The same path at a recheck is no change; gone is one. */
	CHECK_STR(cgroup_path_of(cp, 7, CGROUP_PATH_RECHECK_NS), "/cg7");
	CHECK(!cgroup_path_take_change(cp, 7));
	gone = 7;
	CHECK(cgroup_path_of(cp, 7, 2 * CGROUP_PATH_RECHECK_NS) == NULL);
	CHECK(cgroup_path_take_change(cp, 7));
	cgroup_path_close(cp);
}

TEST(test_cgroup_path_recorded_paths_stand_for_this_hosts)
{
	struct cgroup_path *cp = fake();

	cgroup_path_use_recorded(cp);
	/* A cgroup the recording never named had no path there, whatever this host has. */
	CHECK(cgroup_path_of(cp, 7, 0) == NULL);
	CHECK_INT(cgroup_path_record(cp, 7, "/a.slice/x.servicejunk", 18), 0);
	CHECK_STR(cgroup_path_of(cp, 7, 1), "/a.slice/x.service");
	CHECK_INT(cgroup_path_record(cp, 7, "", 0), 0); /* then it was gone */
	CHECK(cgroup_path_of(cp, 7, 2) == NULL);
	CHECK_INT(resolves, 0);
	cgroup_path_close(cp);
}
