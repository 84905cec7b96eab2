// SPDX-License-Identifier: GPL-2.0
#include "loader.h"

#include <errno.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "privilege.h"
#include "rst_reason.h"
#include "snapshot.h"
#include "strbuf.h"
#include "tcpwave.skel.h"
#include "timefmt.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"
#define TRACEFS "/sys/kernel/tracing"
#define TRACEFS_IN_DEBUGFS "/sys/kernel/debug/tracing"

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	/* Without -v we say what failed ourselves, in one line. */
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Root, or CAP_BPF with CAP_PERFMON (kernel 5.8+), or the older CAP_SYS_ADMIN. */
static int check_privileges(void)
{
	if ((privilege_has_effective(CAP_BPF) && privilege_has_effective(CAP_PERFMON)) ||
	    privilege_has_effective(CAP_SYS_ADMIN))
		return 0;
	fprintf(stderr, "tcpwave: tcpwave needs root, or CAP_BPF and CAP_PERFMON\n");
	return -EPERM;
}

static int check_btf(void)
{
	if (access(BTF_VMLINUX, R_OK) == 0)
		return 0;
	fprintf(stderr,
		"tcpwave: this kernel has no BTF (%s is missing); tcpwave needs a kernel "
		"built with CONFIG_DEBUG_INFO_BTF=y\n",
		BTF_VMLINUX);
	return -ENOENT;
}

/*
 * The classic mode's tracepoints are perf tracepoints that libbpf finds
 * through tracefs. A fresh host may not have it mounted.
 */
static int ensure_tracefs(void)
{
	if (access(TRACEFS "/events", F_OK) == 0 || access(TRACEFS_IN_DEBUGFS "/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) == 0) {
		if (verbose)
			fprintf(stderr, "tcpwave: mounted tracefs at %s\n", TRACEFS);
		return 0;
	}
	return -errno;
}

/* The byte offset of member `name` in struct `type`, in the kernel's BTF; -1 if none. */
static long btf_member_offset(const struct btf *btf, const char *type, const char *name)
{
	int id = btf ? btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT) : -1;
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_member *m = t ? btf_members(t) : NULL;
	int i;

	for (i = 0; t && i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), name))
			return btf_member_bit_offset(t, i) / 8;
	return -1;
}

/* Where struct cgroup keeps its ancestors (see cgroup_ancestors_offset). */
struct cgroup_layout {
	long offset;
	bool are_ids;
};

/*
 * --cgroup reads the socket's cgroup v2 (struct sock_cgroup_data's member
 * cgroup, 5.15 on) and that cgroup's ancestors: pointers in ancestors[]
 * from 6.0, their ids in ancestor_ids[] before.
 */
static int find_cgroup_ancestors(const struct btf *btf, const struct filter *f,
				 struct cgroup_layout *out)
{
	if (!f->ncgroups)
		return 0;
	out->offset = btf_member_offset(btf, "cgroup", "ancestors");
	out->are_ids = out->offset < 0;
	if (out->are_ids)
		out->offset = btf_member_offset(btf, "cgroup", "ancestor_ids");
	if (out->offset >= 0 && btf_member_offset(btf, "sock_cgroup_data", "cgroup") >= 0)
		return 0;
	fprintf(stderr, "tcpwave: --cgroup: this kernel does not keep a socket's cgroup v2 "
			"where tcpwave can read it (5.15 or newer does)\n");
	return -EOPNOTSUPP;
}

/* Names the kernel defines per version: the reasons it gives for a RST. */
static void load_kernel_names(const struct btf *btf)
{
	if (btf && rst_reason_load(btf) && verbose)
		fprintf(stderr, "tcpwave: this kernel names no RST reasons\n");
}

static const char *mode_name(enum attach_mode mode)
{
	return mode == ATTACH_BTF ? "tp_btf/inet_sock_set_state (slots, then socket storage)" :
				    "tracepoint/sock/inet_sock_set_state (classic, bounded table)";
}

/*
 * The number of arguments a BTF-enabled tracepoint passes (its btf_trace_
 * typedef, less the context), or -1. Some grew: tcp_send_reset's reason in
 * 6.10, tcp_retransmit_skb's error in 6.17.
 */
static int tracepoint_arity(const struct btf *btf, const char *name)
{
	char typedef_name[128];
	const struct btf_type *t;
	int id;

	if (!btf)
		return -1;
	snprintf(typedef_name, sizeof(typedef_name), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, typedef_name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type); /* pointer */
	t = t ? btf__type_by_id(btf, t->type) : NULL; /* function prototype */
	return t && btf_is_func_proto(t) ? btf_vlen(t) - 1 : -1;
}

/* The programs of each attach mode, in struct tracer's order. */
static void programs_of(struct tcpwave_bpf *skel, enum attach_mode mode, const struct btf *btf,
			struct bpf_program *out[TRACER_PROGS])
{
	bool btf_mode = mode == ATTACH_BTF;

	if (!btf_mode) {
		out[TRACER_STATE] = skel->progs.on_state_classic;
		out[TRACER_RETRANSMIT] = skel->progs.on_retransmit_classic;
		out[TRACER_RETRANSMIT_SYNACK] = skel->progs.on_retransmit_synack_classic;
		out[TRACER_SEND_RESET] = skel->progs.on_send_reset_classic;
		out[TRACER_RECEIVE_RESET] = skel->progs.on_receive_reset_classic;
		out[TRACER_DESTROY] = skel->progs.on_destroy_classic;
		out[TRACER_RECEIVE] = out[TRACER_SEND] = NULL;
		return;
	}
	out[TRACER_STATE] = skel->progs.on_state_btf;
	out[TRACER_RETRANSMIT] = tracepoint_arity(btf, "tcp_retransmit_skb") >= 3 ?
					 skel->progs.on_retransmit_err_btf :
					 skel->progs.on_retransmit_btf;
	out[TRACER_RETRANSMIT_SYNACK] = skel->progs.on_retransmit_synack_btf;
	out[TRACER_SEND_RESET] = tracepoint_arity(btf, "tcp_send_reset") >= 3 ?
					 skel->progs.on_send_reset_reason_btf :
					 skel->progs.on_send_reset_btf;
	out[TRACER_RECEIVE_RESET] = skel->progs.on_receive_reset_btf;
	out[TRACER_DESTROY] = skel->progs.on_destroy_btf;
	/* A tp_btf program whose tracepoint the kernel lacks would fail the whole load. */
	out[TRACER_RECEIVE] = tracepoint_arity(btf, "tcp_rcv_space_adjust") >= 1 ?
				      skel->progs.on_receive_btf :
				      NULL;
	out[TRACER_SEND] = tracepoint_arity(btf, "tcp_sendmsg_locked") >= 1 ?
				   skel->progs.on_send_btf :
				   NULL;
}

/* A map sized to the values given: the kernel wants at least one entry. */
static void size_map(struct bpf_map *map, unsigned int n)
{
	bpf_map__set_max_entries(map, n ? n : 1);
}

/* Before load: which filters are on (rodata) and the sizes of their maps. */
static void filters_configure(struct tcpwave_bpf *skel, const struct filter *f,
			      const struct cgroup_layout *cgroup)
{
	struct filter_port_entry ports[3 * FILTER_VALUES_MAX];
	struct filter_lpm_entry lpm[2 * FILTER_VALUES_MAX];
	unsigned int i;

	skel->rodata->filters = filter_flags(f);
	skel->rodata->filter_ncgroups = f->ncgroups;
	skel->rodata->cgroup_ancestors_offset = (__u32)cgroup->offset;
	skel->rodata->cgroup_ancestors_are_ids = cgroup->are_ids;
	for (i = 0; i < f->ncgroups; i++) {
		skel->rodata->filter_cgroup_id[i] = f->cgroups[i].id;
		skel->rodata->filter_cgroup_level[i] = f->cgroups[i].level;
	}
	size_map(skel->maps.filter_pids, f->npids);
	size_map(skel->maps.filter_comms, f->ncomms);
	size_map(skel->maps.filter_netns, f->nnetns);
	size_map(skel->maps.filter_ports, filter_port_entries(f, ports));
	size_map(skel->maps.filter_v4, filter_lpm_entries(f, AF_INET, lpm));
	size_map(skel->maps.filter_v6, filter_lpm_entries(f, AF_INET6, lpm));
}

static int fill_lpm(struct bpf_map *map, const struct filter *f, __u16 family)
{
	struct filter_lpm_entry lpm[2 * FILTER_VALUES_MAX];
	struct tw_lpm_v6 key; /* a v4 key is its first 8 bytes */
	unsigned int i, n = filter_lpm_entries(f, family, lpm);
	size_t key_size = family == AF_INET ? sizeof(struct tw_lpm_v4) : sizeof(key);
	int err;

	for (i = 0; i < n; i++) {
		key.prefixlen = lpm[i].prefix;
		memcpy(key.addr, lpm[i].addr, sizeof(key.addr));
		err = bpf_map__update_elem(map, &key, key_size, &lpm[i].ends, 1, BPF_NOEXIST);
		if (err)
			return err;
	}
	return 0;
}

/* After load: the filters' values into their maps. */
static int filters_fill(struct tcpwave_bpf *skel, const struct filter *f)
{
	struct filter_port_entry ports[3 * FILTER_VALUES_MAX];
	unsigned int i, n = filter_port_entries(f, ports);
	const __u8 yes = 1;
	int err = 0;

	for (i = 0; i < f->npids && !err; i++)
		err = bpf_map__update_elem(skel->maps.filter_pids, &f->pids[i], sizeof(f->pids[i]),
					   &yes, 1, BPF_NOEXIST);
	for (i = 0; i < f->ncomms && !err; i++)
		err = bpf_map__update_elem(skel->maps.filter_comms, f->comms[i], TW_COMM_LEN, &yes,
					   1, BPF_NOEXIST);
	for (i = 0; i < f->nnetns && !err; i++)
		err = bpf_map__update_elem(skel->maps.filter_netns, &f->netns[i],
					   sizeof(f->netns[i]), &yes, 1, BPF_NOEXIST);
	for (i = 0; i < n && !err; i++)
		err = bpf_map__update_elem(skel->maps.filter_ports, &ports[i].port,
					   sizeof(ports[i].port), &ports[i].ends, 1, BPF_NOEXIST);
	if (!err)
		err = fill_lpm(skel->maps.filter_v4, f, AF_INET);
	if (!err)
		err = fill_lpm(skel->maps.filter_v6, f, AF_INET6);
	return err;
}

/*
 * Each attach mode's iterators: the start-up walk, and in tp_btf mode the
 * two that list the connections open at exit (classic mode reads its table
 * instead). The owner walk (find_owners) serves both.
 */
struct iterators {
	struct bpf_program *snapshot, *dump_held, *dump_orphans;
};

static struct iterators iterators_of(struct tcpwave_bpf *skel, enum attach_mode mode)
{
	if (mode == ATTACH_BTF)
		return (struct iterators){ skel->progs.snapshot_btf, skel->progs.dump_open_held,
					   skel->progs.dump_open_orphans };
	return (struct iterators){ skel->progs.snapshot_classic, NULL, NULL };
}

/*
 * The start-up walk turns jiffies into time with CONFIG_HZ, which libbpf
 * reads from the kernel's config (/boot/config-RELEASE, /proc/config.gz)
 * and fails the load without. Where there is none, say 0: the walk then
 * does without jiffies.
 */
static const char *kconfig_fallback(void)
{
	char path[sizeof("/boot/config-") + sizeof(((struct utsname *)0)->release)];
	struct utsname u;

	if (uname(&u) == 0) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		if (access(path, R_OK) == 0)
			return NULL;
	}
	return access("/proc/config.gz", R_OK) == 0 ? NULL : "CONFIG_HZ=0\n";
}

/*
 * The checks of --stuck and of watched hand-overs walk their tables with
 * bpf_for_each_map_elem() (Linux 5.13).
 */
static bool can_walk_maps(void)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_for_each_map_elem,
				       NULL) == 1;
}

/*
 * Data waiting in the ring buffer that wakes tcpwave: an eighth of the ring,
 * at most 32 KiB. A wakeup per 32 KiB costs nothing measurable, where
 * bigger batches cost the traced workload more: each is one longer burst of
 * tcpwave's CPU, and a workload of short connections is a chain of wakeups
 * that such a burst holds up. In three sets of paired rounds of make
 * bench's churn (10 to 14 each), JSON into a file ran 1.6 to 4.9 points of
 * untraced throughput faster with 32 KiB or less than with an eighth of the
 * default ring (1 MiB); each set's spread was wider than that.
 */
#define WAKEUP_BYTES_MAX (32 * 1024)

static uint64_t wakeup_bytes(uint32_t ringbuf_kb)
{
	uint64_t eighth = (uint64_t)ringbuf_kb * 1024 / 8;

	return eighth < WAKEUP_BYTES_MAX ? eighth : WAKEUP_BYTES_MAX;
}

/* Open and load the skeleton for one attach mode, with or without the iterators. */
static int load(struct tracer *t, const struct options *o, enum attach_mode mode,
		const struct btf *btf, const struct cgroup_layout *cgroup, bool with_iterators)
{
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, open_opts, .kconfig = kconfig_fallback());
	struct bpf_program *mine[TRACER_PROGS], *prog;
	struct tcpwave_bpf *skel;
	struct iterators it;
	bool btf_mode = mode == ATTACH_BTF;
	int err, i;

	skel = tcpwave_bpf__open_opts(&open_opts);
	if (!skel)
		return -errno;
	skel->rodata->wakeup_bytes = wakeup_bytes(o->ringbuf_kb);
	skel->rodata->emit_transitions = o->events;
	skel->rodata->emit_connections = !o->events;
	skel->rodata->stuck_after_ns = o->stuck_ns;
	skel->rodata->owner_may_wait = with_iterators;
	skel->rodata->watch_handovers = !o->events && !o->no_fin_wait2_hold && can_walk_maps();
	bpf_map__set_max_entries(skel->maps.events, o->ringbuf_kb * 1024);
	bpf_map__set_max_entries(skel->maps.sock_table, o->table_entries);
	skel->rodata->slot_count = o->slots;
	bpf_map__set_max_entries(skel->maps.sock_slots, o->slots ? o->slots : 1);
	bpf_map__set_max_entries(skel->maps.file_owners, o->table_entries);
	bpf_map__set_max_entries(skel->maps.dumped, o->table_entries);
	filters_configure(skel, &o->filter, cgroup);
	/* Only --stuck uses it, but the state tracepoint names it: keep it minimal. */
	if (!o->stuck_ns)
		bpf_map__set_max_entries(skel->maps.closing, 1);
	if (!skel->rodata->watch_handovers)
		bpf_map__set_max_entries(skel->maps.handovers, 1);
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	programs_of(skel, mode, btf, mine);
	for (i = 0; i < TRACER_PROGS; i++)
		if (mine[i])
			bpf_program__set_autoload(mine[i], true);
	if (with_iterators) {
		it = iterators_of(skel, mode);
		bpf_program__set_autoload(it.snapshot, true);
		bpf_program__set_autoload(skel->progs.find_owners, true);
		if (btf_mode) {
			bpf_program__set_autoload(it.dump_held, true);
			bpf_program__set_autoload(it.dump_orphans, true);
		}
	}
	bpf_program__set_autoload(skel->progs.check_stuck, o->stuck_ns != 0);
	bpf_program__set_autoload(skel->progs.check_handovers, skel->rodata->watch_handovers);
	bpf_map__set_autocreate(skel->maps.sock_store, btf_mode);
	bpf_map__set_autocreate(skel->maps.sock_slots, btf_mode);
	bpf_map__set_autocreate(skel->maps.sock_table, !btf_mode);
	err = tcpwave_bpf__load(skel);
	if (!err)
		err = filters_fill(skel, &o->filter);
	if (err) {
		tcpwave_bpf__destroy(skel);
		return err;
	}
	t->skel = skel;
	t->mode = mode;
	memcpy(t->progs, mine, sizeof(mine));
	return 0;
}

static int attach_one(struct tracer *t, struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach(prog);

	if (!link)
		return -errno;
	t->links[t->nlinks++] = link;
	return 0;
}

static void attach_optional(struct tracer *t, struct bpf_program *prog, const char *without)
{
	int err = attach_one(t, prog);

	if (err)
		fprintf(stderr, "tcpwave: warning: cannot attach %s (%s); %s\n",
			bpf_program__section_name(prog), strerror(-err), without);
}

/*
 * The state tracepoint is required, and so is the socket's destruction: a
 * record waiting for its owner leaves there. Without the others tcpwave
 * still runs: they count retransmits, tell who reset a connection, and name
 * an accepted socket's owner at its first read or write.
 */
static int attach(struct tracer *t)
{
	int err = attach_one(t, t->progs[TRACER_STATE]);
	int i;

	if (!err)
		err = attach_one(t, t->progs[TRACER_DESTROY]);
	if (err)
		return err;
	for (i = TRACER_RETRANSMIT; i <= TRACER_RECEIVE_RESET; i++)
		attach_optional(t, t->progs[i], "retransmits or resets go uncounted");
	for (i = TRACER_STORY_PROGS; i < TRACER_PROGS; i++)
		if (t->progs[i])
			attach_optional(t, t->progs[i],
					"accepted connections get their owner when their "
					"process closes them");
	return 0;
}

/*
 * The consumer must run when the ring buffer fills, not when the scheduler
 * gets round to it: on a busy host it is one runnable task among many, and a
 * burst overflows the buffer meanwhile (bench/scale.py, 200,000 sockets
 * closed at once on 2 CPUs: 15,000 records lost at nice 0, none at -10). Its
 * CPU time is the same either way. Needs CAP_SYS_NICE; without it, say so.
 */
#define CONSUMER_NICE -10

static void raise_priority(bool verbose)
{
	if (setpriority(PRIO_PROCESS, 0, CONSUMER_NICE) && verbose)
		fprintf(stderr, "tcpwave: cannot raise its priority (%s); records may be lost "
				"under CPU contention\n", strerror(errno));
}

/*
 * With the iterators where the kernel takes them (5.11+); else without,
 * unless --stuck needs them: then the next mode may do better.
 */
static int load_mode(struct tracer *t, const struct options *o, enum attach_mode mode,
		     const struct btf *btf, const struct cgroup_layout *cgroup)
{
	int err = load(t, o, mode, btf, cgroup, true);

	if (!err || o->stuck_ns || load(t, o, mode, btf, cgroup, false))
		return err;
	fprintf(stderr,
		"tcpwave: warning: this kernel refused the BPF iterators (%s); connections "
		"open before tracing began are known only from their next transition\n",
		strerror(-err));
	return 0;
}

/* Links for the walks' iterators this load took; iter_run() runs one. */
static int open_iterators(struct tracer *t)
{
	struct iterators it = iterators_of(t->skel, t->mode);

	if (!bpf_program__autoload(it.snapshot))
		return 0;
	t->snapshot_link = bpf_program__attach_iter(it.snapshot, NULL);
	if (!t->snapshot_link)
		return -errno;
	t->owners_link = bpf_program__attach_iter(t->skel->progs.find_owners, NULL);
	return t->owners_link ? 0 : -errno;
}

/*
 * Run an iterator through; its programs write to maps and the ring buffer,
 * not here. A read() that visits a million objects and writes nothing ends
 * with EAGAIN (bpf_seq_read(): MAX_ITER_OBJECTS); the next one goes on.
 */
static int iter_run(struct bpf_link *link)
{
	char buf[4096];
	ssize_t n;
	int fd = bpf_iter_create(bpf_link__fd(link));

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EAGAIN))
		;
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static int walk_namespace(void *ctx)
{
	struct tracer *t = ctx;

	return iter_run(t->snapshot_link);
}

/*
 * The owner walk, leaving the holders in file_owners for the walk that
 * follows; owners_forget() empties it again once that one has run.
 */
static int owners_collect(struct tracer *t)
{
	int err;

	t->skel->bss->collect_file_owners = true;
	err = iter_run(t->owners_link);
	t->skel->bss->collect_file_owners = false;
	return err;
}

static void owners_forget(struct tracer *t)
{
	int fd = bpf_map__fd(t->skel->maps.file_owners);
	__u64 key, next;
	bool more = bpf_map_get_next_key(fd, NULL, &key) == 0;

	/* From each key to the next: asking for the first again would rescan emptied buckets. */
	while (more) {
		more = bpf_map_get_next_key(fd, &key, &next) == 0;
		bpf_map_delete_elem(fd, &key);
		key = next;
	}
}

/*
 * The owner walk (all processes at once), then the start-up walk in each
 * network namespace, after the tracepoints are attached: a socket that
 * changes state meanwhile is the tracepoints', and the walk leaves it be.
 */
static int take_snapshot(struct tracer *t)
{
	uint64_t start = timefmt_mono_now_ns();
	int owners_err = owners_collect(t);
	int err = netns_each(walk_namespace, t, &t->snapshot_netns);

	if (!err)
		err = owners_err;
	owners_forget(t);
	t->snapshot = t->skel->bss->snapshot_counts;
	t->snapshot_ns = timefmt_mono_now_ns() - start;
	return err;
}

static void report_snapshot(const struct tracer *t)
{
	struct strbuf sb = {};

	snapshot_describe(&sb, &t->snapshot, t->snapshot_netns.visited, t->snapshot_ns);
	if (t->snapshot_netns.unreachable)
		strbuf_addf(&sb, "; %u namespaces out of reach (setns() needs CAP_SYS_ADMIN)",
			    t->snapshot_netns.unreachable);
	fprintf(stderr, "tcpwave: %s\n", sb.data);
	strbuf_free(&sb);
}

/*
 * The iterator links are made now, while tcpwave holds CAP_BPF; reading
 * them at exit (BPF_ITER_CREATE on a link) checks no capability
 * (bpf_iter_create() in kernel/bpf/syscall.c), so that still works after the
 * drop. The kernel took no iterators at all: say why at exit.
 */
static void attach_dump(struct tracer *t)
{
	struct iterators it = iterators_of(t->skel, t->mode);

	if (!bpf_program__autoload(it.dump_held)) {
		t->dump_err = -EOPNOTSUPP;
		return;
	}
	t->dump_held_link = bpf_program__attach_iter(it.dump_held, NULL);
	if (t->dump_held_link)
		t->dump_orphans_link = bpf_program__attach_iter(it.dump_orphans, NULL);
	if (!t->dump_orphans_link)
		t->dump_err = -errno;
}

int tracer_open(struct tracer *t, const struct options *o, ring_buffer_sample_fn on_record,
		void *ctx)
{
	struct cgroup_layout cgroup = {};
	struct btf *btf;
	int err;

	memset(t, 0, sizeof(*t));
	verbose = o->verbose;
	libbpf_set_print(print_libbpf);

	err = check_privileges();
	if (err)
		return err;
	err = check_btf();
	if (err)
		return err;
	btf = btf__load_vmlinux_btf();
	load_kernel_names(btf);
	err = find_cgroup_ancestors(btf, &o->filter, &cgroup);
	if (err) {
		btf__free(btf);
		return err;
	}
	if (o->stuck_ns && !can_walk_maps()) {
		fprintf(stderr, "tcpwave: --stuck needs Linux 5.13 or newer "
				"(bpf_for_each_map_elem)\n");
		btf__free(btf);
		return -EOPNOTSUPP;
	}
	err = ensure_tracefs();
	if (err && (o->attach == ATTACH_CLASSIC || verbose))
		fprintf(stderr, "tcpwave: %s: cannot mount tracefs: %s\n", TRACEFS,
			strerror(-err));

	err = load_mode(t, o, o->attach == ATTACH_CLASSIC ? ATTACH_CLASSIC : ATTACH_BTF, btf,
			&cgroup);
	if (err && o->attach == ATTACH_AUTO) {
		if (verbose)
			fprintf(stderr, "tcpwave: tp_btf not available (%s); trying the classic "
					"tracepoint\n", strerror(-err));
		err = load_mode(t, o, ATTACH_CLASSIC, btf, &cgroup);
	}
	btf__free(btf);
	if (err) {
		fprintf(stderr, "tcpwave: cannot load the BPF programs: %s%s\n", strerror(-err),
			verbose ? "" : " (run with -v for the verifier's log)");
		return err;
	}
	err = attach(t);
	if (err) {
		fprintf(stderr, "tcpwave: cannot attach to %s: %s\n", mode_name(t->mode),
			strerror(-err));
		tracer_close(t);
		return err;
	}
	if (verbose)
		fprintf(stderr, "tcpwave: attached to %s\n", mode_name(t->mode));

	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_record, ctx, NULL);
	if (!t->rb) {
		err = -errno;
		fprintf(stderr, "tcpwave: cannot open the ring buffer: %s\n", strerror(-err));
		tracer_close(t);
		return err;
	}
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus < 1)
		t->ncpus = 1;
	raise_priority(verbose);
	if (t->mode == ATTACH_BTF)
		attach_dump(t);

	err = open_iterators(t);
	if (!err && t->snapshot_link)
		err = take_snapshot(t);
	if (err && o->stuck_ns) {
		fprintf(stderr, "tcpwave: --stuck: cannot run the BPF iterators: %s\n",
			strerror(-err));
		tracer_close(t);
		return err;
	}
	if (err)
		fprintf(stderr, "tcpwave: warning: cannot walk the sockets open before tracing "
				"began (%s); they are known only from their next transition\n",
			strerror(-err));
	else if (verbose && t->snapshot_link)
		report_snapshot(t);
	return 0;
}

/* A check runs once over its table, where userspace asks (BPF_PROG_TEST_RUN). */
static int run_check(struct bpf_program *check)
{
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts);

	return bpf_prog_test_run_opts(bpf_program__fd(check), &opts) ? -errno : 0;
}

static int run_stuck_check(struct tracer *t)
{
	return run_check(t->skel->progs.check_stuck);
}

/* One check: all connections, then (rarely) the owner walk and the held-back ones. */
static int check_stuck(struct tracer *t)
{
	int err, owners_err;

	t->skel->bss->stuck_unowned = 0;
	t->skel->bss->stuck_deferred = 0;
	err = run_stuck_check(t);
	if (err || !t->skel->bss->stuck_unowned)
		return err;
	/* Some have no known owner: look for the processes holding them, then report all. */
	owners_err = iter_run(t->owners_link);
	t->skel->bss->stuck_report_unowned = true;
	err = run_stuck_check(t);
	t->skel->bss->stuck_report_unowned = false;
	return err ? err : owners_err;
}

int tracer_check_stuck(struct tracer *t)
{
	uint64_t start = timefmt_mono_now_ns(), took;
	int err = check_stuck(t);

	took = timefmt_mono_now_ns() - start;
	t->stuck_checks++;
	t->stuck_check_ns += took;
	if (took > t->stuck_check_max_ns)
		t->stuck_check_max_ns = took;
	if (err)
		return err;
	return t->skel->bss->stuck_deferred ? 1 : 0;
}

int tracer_check_handovers(struct tracer *t)
{
	int err;

	t->skel->bss->handovers_deferred = 0;
	err = run_check(t->skel->progs.check_handovers);
	if (err)
		return err;
	return t->skel->bss->handovers_deferred ? 1 : 0;
}

bool tracer_handovers_pending(const struct tracer *t)
{
	return t->skel->rodata->watch_handovers &&
	       __atomic_load_n(&t->skel->bss->handovers_live, __ATOMIC_RELAXED) > 0;
}

int tracer_poll(struct tracer *t, int timeout_ms)
{
	int err = ring_buffer__poll(t->rb, timeout_ms);

	/*
	 * The kernel side wakes us only when much is waiting; a timeout must
	 * still hand over what little there is.
	 */
	if (err >= 0 || err == -EINTR)
		err = ring_buffer__consume(t->rb);
	return err;
}

/*
 * The per-CPU counters, all keys at once where the kernel can (one system
 * call a loop turn instead of one per counter), else one by one.
 */
static int read_percpu_counters(struct tracer *t, uint64_t out[TW_CNT_MAX])
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint64_t values[TW_CNT_MAX * t->ncpus];
	__u32 keys[TW_CNT_MAX], key, count = TW_CNT_MAX, batch;
	int i, fd = bpf_map__fd(t->skel->maps.counters);

	/* An array's keys come in order from 0: the first `count` are read. */
	if ((bpf_map_lookup_batch(fd, NULL, &batch, keys, values, &count, &opts) &&
	     errno != ENOENT) ||
	    count > TW_CNT_MAX || (count && keys[count - 1] != count - 1))
		count = 0;
	for (key = 0; key < TW_CNT_MAX; key++) {
		uint64_t *percpu = &values[key * t->ncpus];

		out[key] = 0;
		if (key >= count && bpf_map_lookup_elem(fd, &key, percpu))
			return -errno;
		for (i = 0; i < t->ncpus; i++)
			out[key] += percpu[i];
	}
	return 0;
}

/*
 * How often the counters are read when no record was lost, and the
 * programs' recursion misses at most: they are only reported.
 */
#define COUNTERS_READ_EVERY_NS (100 * 1000 * 1000ull)

static uint64_t records_lost(const struct tracer *t)
{
	return __atomic_load_n(&t->skel->data_lost->records_lost, __ATOMIC_RELAXED);
}

bool tracer_counters_due(const struct tracer *t, uint64_t now_ns)
{
	return records_lost(t) != t->lost_read ||
	       now_ns - t->counters_read_ns >= COUNTERS_READ_EVERY_NS;
}

int tracer_read_counters(struct tracer *t, uint64_t out[TW_CNT_MAX])
{
	uint64_t now = timefmt_mono_now_ns(), open;
	int i, err = read_percpu_counters(t, out);

	if (err)
		return err;
	t->lost_read = records_lost(t);
	t->counters_read_ns = now;
	out[TW_CNT_LOST] = t->lost_read;
	if (now - t->misses_read_ns >= COUNTERS_READ_EVERY_NS) {
		t->misses = 0;
		for (i = 0; i < TRACER_STORY_PROGS; i++) {
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);

			if (t->progs[i] &&
			    !bpf_obj_get_info_by_fd(bpf_program__fd(t->progs[i]), &info, &len))
				t->misses += info.recursion_misses;
		}
		t->misses_read_ns = now;
	}
	out[TW_CNT_MISSED] = t->misses;
	out[TW_CNT_LISTED_AT_EXIT] += t->table_listed;
	out[TW_CNT_UNREPORTED] = 0;
	if (!t->listed_at_exit)
		return 0;
	/* Open when the programs stopped: begun, not ended, and not listed and kept. */
	open = out[TW_CNT_TIMELINES_OPEN] + out[TW_CNT_LISTED_ENDED] + t->listed_not_kept;
	if (open > out[TW_CNT_LISTED_AT_EXIT])
		out[TW_CNT_UNREPORTED] = open - out[TW_CNT_LISTED_AT_EXIT];
	return 0;
}

void tracer_end_beginnings(struct tracer *t)
{
	t->skel->bss->tracing_ends = true;
}

void tracer_listed_at_exit(struct tracer *t, uint64_t not_kept)
{
	t->listed_at_exit = true;
	t->listed_not_kept = not_kept;
}

void tracer_detach(struct tracer *t)
{
	while (t->nlinks > 0)
		bpf_link__destroy(t->links[--t->nlinks]);
	/* The last counters read are the final ones: the misses too. */
	t->misses_read_ns = 0;
}

void tracer_close(struct tracer *t)
{
	ring_buffer__free(t->rb);
	bpf_link__destroy(t->dump_held_link);
	bpf_link__destroy(t->dump_orphans_link);
	tracer_detach(t);
	bpf_link__destroy(t->owners_link);
	bpf_link__destroy(t->snapshot_link);
	tcpwave_bpf__destroy(t->skel);
	memset(t, 0, sizeof(*t));
}

/* tp_btf mode: each iterator writes one struct tw_conn per open connection it meets. */
static int dump_iter(struct bpf_link *link, ring_buffer_sample_fn on_record, void *ctx)
{
	char buf[64 * sizeof(struct tw_conn)];
	size_t have = 0, off;
	ssize_t n;
	int fd, err = 0;

	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	/* EAGAIN: a million objects visited with nothing written (see iter_run()). */
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0 || (n < 0 && errno == EAGAIN)) {
		if (n < 0)
			continue;
		have += (size_t)n;
		for (off = 0; have - off >= sizeof(struct tw_conn); off += sizeof(struct tw_conn))
			on_record(ctx, buf + off, sizeof(struct tw_conn));
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Each walk that could be attached, whatever became of the other; the first error. */
static int dump_storage(struct tracer *t, ring_buffer_sample_fn on_record, void *ctx)
{
	int held = t->dump_held_link ? dump_iter(t->dump_held_link, on_record, ctx) : t->dump_err;
	int orphans = t->dump_orphans_link ? dump_iter(t->dump_orphans_link, on_record, ctx) :
					     t->dump_err;

	return held ?: orphans;
}

/* The process holding this socket at key, as the owner walk found, if any. */
static void owner_from_holders(int fd, __u64 key, struct tw_conn *c)
{
	struct tw_holder h;

	if (bpf_map_lookup_elem(fd, &key, &h) || !tw_holder_matches(&h, c->cookie, &c->ep))
		return;
	c->owner = h.owner;
	c->flags |= TW_CONN_OWNER_KNOWN;
}

/*
 * Classic mode: the bounded socket table holds the same state. The programs
 * still run: a key deleted meanwhile sends the walk back to the start, so
 * the walk is bounded (twice the table's size of steps; then it failed), and
 * the sockets listed go into the walks' table (dumped), which lists each once
 * and lets the programs count those that end before the detach.
 */
static int dump_table(struct tracer *t, ring_buffer_sample_fn on_record, void *ctx)
{
	int fd = bpf_map__fd(t->skel->maps.sock_table);
	int listed_fd = bpf_map__fd(t->skel->maps.dumped);
	__u64 steps = 2ull * bpf_map__max_entries(t->skel->maps.sock_table);
	struct tw_sock_state st;
	__u64 key, next;
	void *prev = NULL;
	__u8 yes = 1;

	for (;;) {
		if (!steps--)
			return -EAGAIN;
		if (bpf_map_get_next_key(fd, prev, &next))
			break;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &st) || st.emitted || !st.conn.type ||
		    bpf_map_update_elem(listed_fd, &key, &yes, BPF_NOEXIST))
			continue;
		t->table_listed++;
		if (st.walked || st.filter >= TW_FILTER_DROP || !tw_is_connection(&st.conn))
			continue;
		/* One closed and waiting for its owner (awaits_owner) is complete. */
		if (!st.awaits_owner)
			st.conn.flags |= TW_CONN_OPEN;
		if (!(st.conn.flags & TW_CONN_OWNER_KNOWN))
			owner_from_holders(bpf_map__fd(t->skel->maps.file_owners), key, &st.conn);
		on_record(ctx, &st.conn, sizeof(st.conn));
	}
	return 0;
}

/* The owner walk first: the process holding a connection is its owner where none is known. */
int tracer_dump_open(struct tracer *t, ring_buffer_sample_fn on_record, void *ctx)
{
	int err = t->owners_link ? owners_collect(t) : 0;

	if (err)
		fprintf(stderr, "tcpwave: cannot look for the owners of the connections still "
				"open: %s\n", strerror(-err));
	err = t->mode == ATTACH_BTF ? dump_storage(t, on_record, ctx) :
				      dump_table(t, on_record, ctx);

	if (err)
		fprintf(stderr, "tcpwave: cannot list the connections still open: %s\n",
			strerror(-err));
	return err;
}
