// SPDX-License-Identifier: GPL-2.0
/*
 * Raw system calls, no libcap: capget/capset and prctl are all it takes.
 * They act on the calling thread only, which is enough because tcpwave has
 * one thread (libbpf starts none); setgroups, setresgid and setresuid are
 * glibc's, which apply to every thread anyway.
 */
#include "privilege.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int privilege_plan(struct privilege_plan *p, const char *user, bool keep)
{
	const char *name = user ? user : PRIVILEGE_DEFAULT_USER;
	struct passwd *pw;

	memset(p, 0, sizeof(*p));
	p->keep = keep;
	p->user = name;
	if (keep)
		return 0;
	pw = getpwnam(name);
	if (!pw) {
		fprintf(stderr, "tcpwave: --user: no such user '%s'%s\n", name,
			user ? "" : "; name one with --user, or keep root with --no-drop");
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		fprintf(stderr, "tcpwave: --user: '%s' is uid 0; keep root with --no-drop\n", name);
		return -EPERM;
	}
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	p->switch_user = geteuid() == 0;
	/* Not root: only capabilities are dropped; becoming someone else would need root. */
	if (!p->switch_user && user && p->uid != geteuid()) {
		fprintf(stderr, "tcpwave: --user: only root can switch to '%s'\n", name);
		return -EPERM;
	}
	return 0;
}

int privilege_check_plan(const struct privilege_plan *p)
{
	if (!p->switch_user ||
	    (privilege_has_effective(CAP_SETUID) && privilege_has_effective(CAP_SETGID)))
		return 0;
	fprintf(stderr,
		"tcpwave: cannot become '%s' once set up: root here lacks CAP_SETUID or "
		"CAP_SETGID; run tcpwave as a user of its own given CAP_BPF and CAP_PERFMON "
		"(docs/tcpwave.service does), or keep root with --no-drop\n",
		p->user);
	return -EPERM;
}

static int failed(const char *what)
{
	int err = errno;

	fprintf(stderr, "tcpwave: dropping privileges: %s: %s\n", what, strerror(err));
	return -err;
}

static int get_caps(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return (int)syscall(SYS_capget, &h, d);
}

bool privilege_has_effective(int cap)
{
	struct __user_cap_data_struct d[2] = {};

	return get_caps(d) == 0 && (d[cap / 32].effective & (1u << (cap % 32)));
}

/*
 * The bounding set limits what an exec could ever grant. Emptying it takes
 * CAP_SETPCAP: root has it; a user given just CAP_BPF and CAP_PERFMON does
 * not, and there no_new_privs keeps exec from granting anything instead.
 */
static int drop_bounding_set(void)
{
	int cap;

	if (!privilege_has_effective(CAP_SETPCAP))
		return 0;
	/* PR_CAPBSET_READ fails with EINVAL past the kernel's last capability. */
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			return failed("emptying the bounding set");
	return 0;
}

static int switch_user(const struct privilege_plan *p)
{
	char what[64];

	/* Without PR_SET_KEEPCAPS, leaving uid 0 also empties the permitted set. */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		return failed("PR_SET_KEEPCAPS");
	/* No supplementary group: the user's own group is all that stays. */
	if (setgroups(0, NULL))
		return failed("setgroups");
	snprintf(what, sizeof(what), "setresgid(%u)", (unsigned)p->gid);
	if (setresgid(p->gid, p->gid, p->gid))
		return failed(what);
	snprintf(what, sizeof(what), "setresuid(%u)", (unsigned)p->uid);
	if (setresuid(p->uid, p->uid, p->uid))
		return failed(what);
	return 0;
}

static int drop_capabilities(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capset, &h, d))
		return failed("capset");
	return 0;
}

/* Trust nothing: read back what the kernel now holds for us. */
static int verify(const struct privilege_plan *p)
{
	struct __user_cap_data_struct d[2] = {};
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int i;

	if (get_caps(d))
		return failed("capget");
	for (i = 0; i < 2; i++) {
		if (d[i].effective || d[i].permitted || d[i].inheritable) {
			errno = EPERM;
			return failed("capabilities still held");
		}
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		errno = EPERM;
		return failed("no_new_privs not set");
	}
	if (!p->switch_user)
		return 0;
	if (getresuid(&ruid, &euid, &suid) || getresgid(&rgid, &egid, &sgid))
		return failed("getresuid");
	if (ruid != p->uid || euid != p->uid || suid != p->uid || rgid != p->gid ||
	    egid != p->gid || sgid != p->gid || getgroups(0, NULL) != 0) {
		errno = EPERM;
		return failed("the user did not change");
	}
	if (setresuid(0, 0, 0) == 0) {
		errno = EPERM;
		return failed("root could be regained");
	}
	return 0;
}

int privilege_drop(const struct privilege_plan *p)
{
	int err;

	if (p->keep)
		return 0;
	err = drop_bounding_set();
	if (err)
		return err;
	/* EINVAL: a kernel before 4.3, which has no ambient set to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return failed("clearing the ambient set");
	if (p->switch_user) {
		err = switch_user(p);
		if (err)
			return err;
	}
	err = drop_capabilities();
	if (err)
		return err;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return failed("PR_SET_NO_NEW_PRIVS");
	return verify(p);
}
