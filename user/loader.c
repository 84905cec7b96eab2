// SPDX-License-Identifier: GPL-2.0
#include "loader.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "tcpwave.skel.h"

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

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* Root, or CAP_BPF with CAP_PERFMON (kernel 5.8+), or the older CAP_SYS_ADMIN. */
static int check_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d) == 0 &&
	    ((has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON)) || has_cap(d, CAP_SYS_ADMIN)))
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
 * The accept() tracepoints (and the classic fallback) are perf tracepoints
 * that libbpf finds through tracefs. A fresh host may not have it mounted.
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

static const char *mode_name(enum attach_mode mode)
{
	return mode == ATTACH_BTF ? "tp_btf/inet_sock_set_state (socket storage)" :
				    "tracepoint/sock/inet_sock_set_state (classic, bounded table)";
}

/* Open and load the skeleton for one attach mode. */
static int load(struct tracer *t, const struct options *o, enum attach_mode mode)
{
	struct tcpwave_bpf *skel;
	bool btf = mode == ATTACH_BTF;
	int err;

	skel = tcpwave_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->wakeup_bytes = (uint64_t)o->ringbuf_kb * 1024 / 8;
	bpf_map__set_max_entries(skel->maps.events, o->ringbuf_kb * 1024);
	bpf_program__set_autoload(skel->progs.on_state_btf, btf);
	bpf_program__set_autoload(skel->progs.on_state_classic, !btf);
	bpf_map__set_autocreate(skel->maps.sock_store, btf);
	bpf_map__set_autocreate(skel->maps.sock_table, !btf);
	err = tcpwave_bpf__load(skel);
	if (err) {
		tcpwave_bpf__destroy(skel);
		return err;
	}
	t->skel = skel;
	t->mode = mode;
	return 0;
}

/* The accept() tracepoints name a passive socket's owner; without them it is learned later. */
static void attach_accept(struct tracer *t)
{
	struct bpf_program *progs[] = { t->skel->progs.on_accept4_exit,
					t->skel->progs.on_accept_exit };
	size_t i;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_link *link = bpf_program__attach(progs[i]);

		if (!link) {
			fprintf(stderr,
				"tcpwave: warning: cannot attach %s (%s): accepted connections "
				"get their owner when it first closes or shuts them down\n",
				bpf_program__section_name(progs[i]), strerror(errno));
			continue;
		}
		/* The skeleton destroys links it holds; keep ours with it. */
		if (progs[i] == t->skel->progs.on_accept4_exit)
			t->skel->links.on_accept4_exit = link;
		else
			t->skel->links.on_accept_exit = link;
	}
}

static int attach(struct tracer *t)
{
	struct bpf_program *prog = t->mode == ATTACH_BTF ? t->skel->progs.on_state_btf :
							   t->skel->progs.on_state_classic;
	struct bpf_link *link = bpf_program__attach(prog);

	if (!link)
		return -errno;
	if (t->mode == ATTACH_BTF)
		t->skel->links.on_state_btf = link;
	else
		t->skel->links.on_state_classic = link;
	attach_accept(t);
	return 0;
}

int tracer_open(struct tracer *t, const struct options *o, ring_buffer_sample_fn on_record,
		void *ctx)
{
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
	err = ensure_tracefs();
	if (err && (o->attach == ATTACH_CLASSIC || verbose))
		fprintf(stderr, "tcpwave: %s: cannot mount tracefs: %s\n", TRACEFS,
			strerror(-err));

	err = load(t, o, o->attach == ATTACH_CLASSIC ? ATTACH_CLASSIC : ATTACH_BTF);
	if (err && o->attach == ATTACH_AUTO) {
		if (verbose)
			fprintf(stderr, "tcpwave: tp_btf not available (%s); trying the classic "
					"tracepoint\n", strerror(-err));
		err = load(t, o, ATTACH_CLASSIC);
	}
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
	return 0;
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

int tracer_read_counters(struct tracer *t, uint64_t out[TW_CNT_MAX])
{
	uint64_t percpu[t->ncpus];
	__u32 key;
	int i, fd = bpf_map__fd(t->skel->maps.counters);

	for (key = 0; key < TW_CNT_MAX; key++) {
		out[key] = 0;
		if (bpf_map_lookup_elem(fd, &key, percpu))
			return -errno;
		for (i = 0; i < t->ncpus; i++)
			out[key] += percpu[i];
	}
	return 0;
}

void tracer_close(struct tracer *t)
{
	ring_buffer__free(t->rb);
	tcpwave_bpf__destroy(t->skel);
	t->rb = NULL;
	t->skel = NULL;
}
