/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Least privilege: once the BPF programs are loaded and attached and every
 * descriptor tcpwave will need is open, a bug in parsing or output must not
 * be root. tcpwave gives up every capability and, started as root, becomes
 * an unprivileged user.
 *
 * None is kept, because all that remains goes through descriptors already
 * held, which the kernel checks by the descriptor, not the caller: the ring
 * buffer is mmap'd and waited on with epoll; the counters and the classic
 * mode's socket table are read with BPF_MAP_LOOKUP_ELEM/GET_NEXT_KEY
 * (map_lookup_elem() wants only a readable map fd); the exit listing is
 * BPF_ITER_CREATE on a link made before the drop (bpf_iter_create() checks
 * no capability); detaching is close(). Since 5.19 __sys_bpf() refuses only
 * BPF_MAP_CREATE and BPF_PROG_LOAD to the unprivileged.
 */
#ifndef TCPWAVE_PRIVILEGE_H
#define TCPWAVE_PRIVILEGE_H

#include <stdbool.h>
#include <sys/types.h>

#define PRIVILEGE_DEFAULT_USER "nobody"

struct privilege_plan {
	bool keep; /* --no-drop: change nothing */
	bool switch_user; /* started as root: become uid/gid */
	uid_t uid;
	gid_t gid;
	const char *user; /* for messages */
};

/*
 * Decide before anything is loaded, so that a bad --user costs nothing.
 * user is --user's value, or NULL for the default. Prints its own message
 * and returns -ENOENT (no such user) or -EPERM (a user of uid 0, or not
 * root but asked to become someone else); 0 otherwise.
 */
int privilege_plan(struct privilege_plan *p, const char *user, bool keep);

/*
 * Whether the plan can be carried out: root that is to become another user
 * needs CAP_SETUID and CAP_SETGID, which a service's bounding set may have
 * taken away. 0, or -EPERM after saying what to do instead; checked before
 * anything is loaded, as a drop that fails must end tcpwave.
 */
int privilege_check_plan(const struct privilege_plan *p);
/*
 * Carry the plan out: the bounding and ambient sets emptied, supplementary
 * groups cleared, gid and uid switched, every capability dropped, and
 * no_new_privs set; then checked. Prints what failed and returns a negative
 * errno; tcpwave must not go on after a failure.
 */
int privilege_drop(const struct privilege_plan *p);
/* Whether the calling thread has cap (CAP_*) in its effective set. */
bool privilege_has_effective(int cap);

#endif
