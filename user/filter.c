// SPDX-License-Identifier: GPL-2.0
#include "filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "options.h"

/* PID_MAX_LIMIT (include/linux/threads.h): no process id is larger. */
#define PID_MAX 4194304
#define PORTS_TEXT_MAX 1024

/* ---- parsing ---- */

/* Append v to a list of n values of size `size`, unless it is there already. */
static int add_unique(void *list, unsigned int *n, const void *v, size_t size)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (!memcmp((char *)list + i * size, v, size))
			return 0;
	if (*n == FILTER_VALUES_MAX)
		return -ENOSPC;
	memcpy((char *)list + (*n)++ * size, v, size);
	return 0;
}

int filter_add_pid(struct filter *f, const char *s)
{
	uint64_t v;
	__u32 pid;

	if (options_parse_u64(s, 1, PID_MAX, &v))
		return -EINVAL;
	pid = (__u32)v;
	return add_unique(f->pids, &f->npids, &pid, sizeof(pid));
}

int filter_add_comm(struct filter *f, const char *s)
{
	char comm[TW_COMM_LEN] = "";
	size_t len = strlen(s);

	if (len == 0 || len >= TW_COMM_LEN)
		return -EINVAL;
	memcpy(comm, s, len);
	return add_unique(f->comms, &f->ncomms, comm, sizeof(comm));
}

int filter_add_ports(struct filter *f, unsigned int which, const char *s)
{
	__u16 *list = which == TW_PORT_LOCAL ? f->lports :
		      which == TW_PORT_REMOTE ? f->rports : f->ports;
	unsigned int *n = which == TW_PORT_LOCAL ? &f->nlports :
			  which == TW_PORT_REMOTE ? &f->nrports : &f->nports;
	char text[PORTS_TEXT_MAX], *next, *one;
	uint64_t v;
	__u16 port;
	int err;

	if (strlen(s) >= sizeof(text))
		return -EINVAL;
	strcpy(text, s);
	/* strsep, not strtok: "80,,443" has an empty value, which is an error. */
	next = text;
	while ((one = strsep(&next, ",")) != NULL) {
		if (options_parse_u64(one, 1, 65535, &v))
			return -EINVAL;
		port = (__u16)v;
		err = add_unique(list, n, &port, sizeof(port));
		if (err)
			return err;
	}
	return 0;
}

static void clear_host_bits(__u8 *addr, unsigned int prefix, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		addr[i] &= prefix > 8 * i ? (__u8)(0xff00 >> (prefix - 8 * i)) : 0;
	}
}

static const __u8 v4_mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

static int parse_cidr(const char *s, struct filter_cidr *out)
{
	char text[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int bits;
	uint64_t prefix;

	if (len >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(text, s, len);
	text[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, text, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	bits = out->family == AF_INET ? 32 : 128;
	prefix = bits;
	if (slash && options_parse_u64(slash + 1, 0, bits, &prefix))
		return -EINVAL;
	/*
	 * Connections on dual-stack sockets show, and filter, as IPv4, so a
	 * mapped address is an IPv4 one. Shorter than /96 it would be an IPv6
	 * prefix, which no IPv4 connection is in: not what it asks for.
	 */
	if (out->family == AF_INET6 &&
	    !memcmp(out->addr, v4_mapped_prefix, sizeof(v4_mapped_prefix))) {
		if (prefix < 96)
			return -ERANGE;
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->family = AF_INET;
		prefix -= 96;
		bits = 32;
	}
	out->prefix = (__u8)prefix;
	clear_host_bits(out->addr, out->prefix, bits / 8);
	return 0;
}

int filter_add_cidr(struct filter *f, unsigned int end, const char *s)
{
	struct filter_cidr c;
	int err = parse_cidr(s, &c);

	if (err)
		return err;
	if (end == TW_ADDR_LOCAL)
		return add_unique(f->laddrs, &f->nladdrs, &c, sizeof(c));
	return add_unique(f->raddrs, &f->nraddrs, &c, sizeof(c));
}

int filter_add_netns(struct filter *f, const char *s)
{
	uint64_t v;
	__u32 inode;

	if (options_parse_u64(s, 1, UINT32_MAX, &v))
		return -EINVAL;
	inode = (__u32)v;
	return add_unique(f->netns, &f->nnetns, &inode, sizeof(inode));
}

int filter_add_cgroup(struct filter *f, const char *s)
{
	unsigned int i;

	if (s[0] != '/' || strlen(s) >= FILTER_CGROUP_PATH_MAX)
		return -EINVAL;
	for (i = 0; i < f->ncgroups; i++)
		if (!strcmp(f->cgroups[i].path, s))
			return 0;
	if (f->ncgroups == TW_CGROUPS_MAX)
		return -ENOSPC;
	memset(&f->cgroups[f->ncgroups], 0, sizeof(f->cgroups[0]));
	strcpy(f->cgroups[f->ncgroups++].path, s);
	return 0;
}

__u32 filter_flags(const struct filter *f)
{
	return (f->npids ? TW_F_PID : 0) | (f->ncomms ? TW_F_COMM : 0) |
	       (f->nports ? TW_F_PORT : 0) | (f->nlports ? TW_F_LPORT : 0) |
	       (f->nrports ? TW_F_RPORT : 0) | (f->nladdrs ? TW_F_LADDR : 0) |
	       (f->nraddrs ? TW_F_RADDR : 0) | (f->ipv4 ? TW_F_IPV4 : 0) |
	       (f->ipv6 ? TW_F_IPV6 : 0) | (f->nnetns ? TW_F_NETNS : 0) |
	       (f->ncgroups ? TW_F_CGROUP : 0);
}

/* ---- matching ---- */

/* All must pass: one drop decides, else one pending keeps the verdict open. */
static enum filter_verdict and_verdict(enum filter_verdict a, enum filter_verdict b)
{
	if (a == FILTER_DROP || b == FILTER_DROP)
		return FILTER_DROP;
	return a == FILTER_PENDING || b == FILTER_PENDING ? FILTER_PENDING : FILTER_PASS;
}

static enum filter_verdict one_end(bool match, bool unknown)
{
	return match ? FILTER_PASS : unknown ? FILTER_PENDING : FILTER_DROP;
}

static bool has_port(const __u16 *ports, unsigned int n, __u16 port)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

static bool is_zero(const __u8 *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* Does prefix p contain address a (of p's family)? */
static bool cidr_contains(const struct filter_cidr *p, const __u8 *a)
{
	unsigned int full = p->prefix / 8, rest = p->prefix % 8;

	if (memcmp(p->addr, a, full))
		return false;
	return !rest || ((a[full] ^ p->addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static enum filter_verdict addr_verdict(const struct filter_cidr *list, unsigned int n,
					__u16 family, const __u8 *a, bool final)
{
	unsigned int i;

	if (!final && is_zero(a, family == AF_INET ? 4 : 16))
		return FILTER_PENDING;
	for (i = 0; i < n; i++)
		if (list[i].family == family && cidr_contains(&list[i], a))
			return FILTER_PASS;
	return FILTER_DROP;
}

bool filter_cgroup_under(const char *path, const char *tree)
{
	size_t n = strlen(tree);

	if (n == 1) /* "/": the whole hierarchy */
		return path[0] == '/';
	return !strncmp(path, tree, n) && (path[n] == '\0' || path[n] == '/');
}

static enum filter_verdict cgroup_verdict(const struct filter *f, const char *cgroup)
{
	unsigned int i;

	if (!cgroup)
		return f->kernel_applied ? FILTER_PASS : FILTER_DROP;
	for (i = 0; i < f->ncgroups; i++)
		if (filter_cgroup_under(cgroup, f->cgroups[i].path))
			return FILTER_PASS;
	return FILTER_DROP;
}

enum filter_verdict filter_tuple(const struct filter *f, const struct tw_endpoints *ep, __u32 netns,
				 const char *cgroup, bool final)
{
	enum filter_verdict v = FILTER_PASS;
	unsigned int i;
	bool found;

	if (f->nnetns) {
		for (i = 0, found = false; i < f->nnetns; i++)
			found |= f->netns[i] == netns;
		if (!found)
			return FILTER_DROP;
	}
	if ((f->ipv4 || f->ipv6) && !(ep->family == AF_INET6 ? f->ipv6 : f->ipv4))
		return FILTER_DROP;
	if (f->nports)
		v = and_verdict(v, one_end(has_port(f->ports, f->nports, ep->lport) ||
						   has_port(f->ports, f->nports, ep->rport),
					   !final && (!ep->lport || !ep->rport)));
	if (f->nlports)
		v = and_verdict(v, one_end(has_port(f->lports, f->nlports, ep->lport),
					   !final && !ep->lport));
	if (f->nrports)
		v = and_verdict(v, one_end(has_port(f->rports, f->nrports, ep->rport),
					   !final && !ep->rport));
	if (f->nladdrs)
		v = and_verdict(v,
				addr_verdict(f->laddrs, f->nladdrs, ep->family, ep->laddr, final));
	if (f->nraddrs)
		v = and_verdict(v,
				addr_verdict(f->raddrs, f->nraddrs, ep->family, ep->raddr, final));
	if (f->ncgroups)
		v = and_verdict(v, cgroup_verdict(f, cgroup));
	return v;
}

enum filter_verdict filter_owner(const struct filter *f, const struct tw_owner *owner, bool known,
				 bool final)
{
	unsigned int i;
	bool found;

	if (!f->npids && !f->ncomms)
		return FILTER_PASS;
	if (!known)
		return final ? FILTER_DROP : FILTER_PENDING;
	if (f->npids) {
		for (i = 0, found = false; i < f->npids; i++)
			found |= f->pids[i] == owner->tgid;
		if (!found)
			return FILTER_DROP;
	}
	if (f->ncomms) {
		for (i = 0, found = false; i < f->ncomms; i++)
			found |= !strncmp(f->comms[i], owner->comm, TW_COMM_LEN);
		if (!found)
			return FILTER_DROP;
	}
	return FILTER_PASS;
}

bool filter_match_conn(const struct filter *f, const struct tw_conn *c, const char *cgroup)
{
	return and_verdict(filter_tuple(f, &c->ep, c->netns, cgroup, true),
			   filter_owner(f, &c->owner, c->flags & TW_CONN_OWNER_KNOWN, true)) ==
	       FILTER_PASS;
}

/* ---- what the kernel side is given ---- */

/* The entry for p among out[0..n), added if missing. */
static struct filter_lpm_entry *lpm_entry(struct filter_lpm_entry *out, unsigned int *n,
					  const struct filter_cidr *p)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (out[i].prefix == p->prefix && !memcmp(out[i].addr, p->addr, 16))
			return &out[i];
	memset(&out[*n], 0, sizeof(out[*n]));
	out[*n].prefix = p->prefix;
	memcpy(out[*n].addr, p->addr, 16);
	return &out[(*n)++];
}

/* Give the ends of list's prefixes that contain e's prefix to e. */
static void inherit_ends(struct filter_lpm_entry *e, const struct filter_cidr *list,
			 unsigned int nlist, __u16 family, __u8 end)
{
	unsigned int i;

	for (i = 0; i < nlist; i++)
		if (list[i].family == family && list[i].prefix <= e->prefix &&
		    cidr_contains(&list[i], e->addr))
			e->ends |= end;
}

unsigned int filter_lpm_entries(const struct filter *f, __u16 family,
				struct filter_lpm_entry *out)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->nladdrs; i++)
		if (f->laddrs[i].family == family)
			lpm_entry(out, &n, &f->laddrs[i]);
	for (i = 0; i < f->nraddrs; i++)
		if (f->raddrs[i].family == family)
			lpm_entry(out, &n, &f->raddrs[i]);
	for (i = 0; i < n; i++) {
		inherit_ends(&out[i], f->laddrs, f->nladdrs, family, TW_ADDR_LOCAL);
		inherit_ends(&out[i], f->raddrs, f->nraddrs, family, TW_ADDR_REMOTE);
	}
	return n;
}

static void port_entries(struct filter_port_entry *out, unsigned int *n, const __u16 *ports,
			 unsigned int nports, __u8 end)
{
	unsigned int i, j;

	for (i = 0; i < nports; i++) {
		for (j = 0; j < *n && out[j].port != ports[i]; j++)
			;
		if (j == *n) {
			out[j].port = ports[i];
			out[j].ends = 0;
			(*n)++;
		}
		out[j].ends |= end;
	}
}

unsigned int filter_port_entries(const struct filter *f, struct filter_port_entry *out)
{
	unsigned int n = 0;

	port_entries(out, &n, f->ports, f->nports, TW_PORT_EITHER);
	port_entries(out, &n, f->lports, f->nlports, TW_PORT_LOCAL);
	port_entries(out, &n, f->rports, f->nrports, TW_PORT_REMOTE);
	return n;
}

/* ---- the transition stream ---- */

/* A socket's transitions waiting for a verdict. */
struct filter_held {
	struct filter_held *next;
	__u64 cookie;
	unsigned int n;
	struct tw_state_event events[TW_HELD_MAX];
};

void filter_stream_init(struct filter_stream *s, const struct filter *f)
{
	memset(s, 0, sizeof(*s));
	s->f = f;
}

/* Fibonacci hashing: the top bits of cookie times 2^64 / phi. */
#define STREAM_BUCKET_BITS 10
_Static_assert(FILTER_STREAM_BUCKETS == 1 << STREAM_BUCKET_BITS, "one bucket per hash value");

static struct filter_held **held_slot(struct filter_stream *s, __u64 cookie)
{
	struct filter_held **p =
		&s->buckets[(cookie * 0x9e3779b97f4a7c15ull) >> (64 - STREAM_BUCKET_BITS)];

	while (*p && (*p)->cookie != cookie)
		p = &(*p)->next;
	return p;
}

/* Unlink and return what is held for the socket at *slot (NULL if nothing). */
static struct filter_held *take_held(struct filter_held **slot)
{
	struct filter_held *h = *slot;

	if (h)
		*slot = h->next;
	return h;
}

unsigned int filter_stream_push(struct filter_stream *s, const struct tw_state_event *e,
				const char *cgroup, struct tw_state_event out[TW_HELD_MAX + 1])
{
	bool final = e->new_state == TW_CLOSE;
	enum filter_verdict v;
	struct filter_held **slot, *h;
	unsigned int n = 0;

	if (!filter_flags(s->f)) {
		out[0] = *e;
		return 1;
	}
	v = and_verdict(filter_tuple(s->f, &e->ep, e->netns, cgroup, final),
			filter_owner(s->f, &e->owner, e->flags & TW_EV_OWNER_KNOWN, final));
	slot = held_slot(s, e->cookie);
	if (v == FILTER_PENDING) {
		if (!*slot) {
			*slot = calloc(1, sizeof(**slot));
			if (*slot)
				(*slot)->cookie = e->cookie;
		}
		if (!*slot || (*slot)->n == TW_HELD_MAX)
			s->held_dropped++;
		else
			(*slot)->events[(*slot)->n++] = *e;
		return 0;
	}
	h = take_held(slot);
	if (v == FILTER_DROP) {
		s->filtered += 1 + (h ? h->n : 0);
	} else {
		if (h)
			for (n = 0; n < h->n; n++)
				out[n] = h->events[n];
		out[n++] = *e;
	}
	free(h);
	return n;
}

void filter_stream_free(struct filter_stream *s)
{
	struct filter_held *h;
	unsigned int i;

	for (i = 0; i < FILTER_STREAM_BUCKETS; i++)
		while ((h = take_held(&s->buckets[i])) != NULL)
			free(h);
}
