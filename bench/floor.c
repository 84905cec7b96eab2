// SPDX-License-Identifier: GPL-2.0
/*
 * Loader of make bench's floors (bench/floor.bpf.c): attaches one, takes in
 * its records every 100 ms (tcpwave's own poll period; --poll MS) until
 * SIGINT, then
 * says how many came, how many found no room, and how many sockets found
 * their slot taken.
 *
 * Two options stand in for what a tracer does with each record, to tell
 * what each part of tcpwave's userspace costs the traced workload:
 *  --line BYTES  write a line of BYTES to standard output per record, as
 *                much as a JSON record, through a buffer of tcpwave's size
 *                (no formatting: what the bytes alone cost);
 *  --spin NS     spend NS of CPU time per record, touching no memory (what
 *                CPU time alone costs, whatever it is spent on).
 * and one how often: --poll MS, the period (tcpwave drains its ring buffer
 * at every 32 KiB, which under churn is every millisecond or two: the work
 * comes in short bursts rather than long ones).
 *
 * Usage: floor ring|storage|slots [--line BYTES] [--spin NS] [--poll MS]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "floor.skel.h"

#define OUTPUT_BUFFER_BYTES (256 * 1024) /* tcpwave's (user/sink.c) */
#define MAX_LINE_BYTES 65536

static volatile sig_atomic_t exiting;

/* What is done with each record. */
struct per_record {
	long records;
	char *line; /* NULL: nothing written */
	size_t line_len;
	long spin_ns;
	int poll_ms;
};

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static long elapsed_ns(const struct timespec *from)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - from->tv_sec) * 1000000000L + (now.tv_nsec - from->tv_nsec);
}

static int take_record(void *ctx, void *data, size_t size)
{
	struct per_record *each = ctx;
	struct timespec start;

	(void)data;
	(void)size;
	each->records++;
	if (each->line)
		fwrite(each->line, 1, each->line_len, stdout);
	if (each->spin_ns) {
		clock_gettime(CLOCK_MONOTONIC, &start);
		while (elapsed_ns(&start) < each->spin_ns)
			;
	}
	return 0;
}

/* --line BYTES, --spin NS and --poll MS; 0, or -1 after saying what is wrong. */
static int parse_options(int argc, char **argv, struct per_record *each)
{
	static char output_buffer[OUTPUT_BUFFER_BYTES];
	char *end;
	long v;
	int i;

	for (i = 2; i < argc; i += 2) {
		if (i + 1 >= argc || (strcmp(argv[i], "--line") && strcmp(argv[i], "--spin") &&
				      strcmp(argv[i], "--poll")))
			return -1;
		errno = 0;
		v = strtol(argv[i + 1], &end, 10);
		if (errno || *end || v <= 0 ||
		    (strcmp(argv[i], "--spin") && v > MAX_LINE_BYTES)) {
			fprintf(stderr, "floor: %s takes a number from 1 (--line, --poll: up to %d)\n",
				argv[i], MAX_LINE_BYTES);
			return -1;
		}
		if (!strcmp(argv[i], "--spin")) {
			each->spin_ns = v;
			continue;
		}
		if (!strcmp(argv[i], "--poll")) {
			each->poll_ms = (int)v;
			continue;
		}
		free(each->line);
		each->line = malloc((size_t)v);
		if (!each->line)
			return -1;
		memset(each->line, 'x', (size_t)v - 1);
		each->line[v - 1] = '\n';
		each->line_len = (size_t)v;
		setvbuf(stdout, output_buffer, _IOFBF, sizeof(output_buffer));
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ring_buffer *rb = NULL;
	struct floor_bpf *skel;
	const char *kind = argc >= 2 ? argv[1] : "";
	struct per_record each = { .poll_ms = 100 };
	int err = 1;

	if ((strcmp(kind, "ring") && strcmp(kind, "storage") && strcmp(kind, "slots")) ||
	    parse_options(argc, argv, &each)) {
		fprintf(stderr,
			"usage: floor ring|storage|slots [--line BYTES] [--spin NS] [--poll MS]\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: open: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.floor_ring, !strcmp(kind, "ring"));
	bpf_program__set_autoload(skel->progs.floor_storage, !strcmp(kind, "storage"));
	bpf_program__set_autoload(skel->progs.floor_slots, !strcmp(kind, "slots"));
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: load and attach: %s\n", strerror(errno));
		goto cleanup;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.records), take_record, &each, NULL);
	if (!rb) {
		fprintf(stderr, "floor: ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: %s attached\n", kind);
	/* Wakeups are batched away: the timeout is what brings the records in. */
	while (!exiting) {
		ring_buffer__poll(rb, each.poll_ms);
		ring_buffer__consume(rb);
		fflush(stdout);
	}
	fprintf(stderr, "floor: %ld records, %llu lost, %llu sockets found their slot taken\n",
		each.records, (unsigned long long)skel->bss->lost,
		(unsigned long long)skel->bss->slot_taken);
	err = 0;
cleanup:
	ring_buffer__free(rb);
	floor_bpf__destroy(skel);
	free(each.line);
	return err;
}
