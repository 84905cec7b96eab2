// SPDX-License-Identifier: GPL-2.0
/*
 * Loader of make bench's floors (bench/floor.bpf.c): attaches one, takes in
 * its records every 100 ms (tcpwave's own poll period) until SIGINT, then
 * says how many came, how many found no room, and how many sockets found
 * their slot taken.
 *
 * Usage: floor ring|storage|slots
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "floor.skel.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static int count_record(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	++*(long *)ctx;
	return 0;
}

int main(int argc, char **argv)
{
	struct ring_buffer *rb = NULL;
	struct floor_bpf *skel;
	const char *kind = argc == 2 ? argv[1] : "";
	int err = 1;
	long records = 0;

	if (strcmp(kind, "ring") && strcmp(kind, "storage") && strcmp(kind, "slots")) {
		fprintf(stderr, "usage: floor ring|storage|slots\n");
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
	rb = ring_buffer__new(bpf_map__fd(skel->maps.records), count_record, &records, NULL);
	if (!rb) {
		fprintf(stderr, "floor: ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: %s attached\n", kind);
	/* Wakeups are batched away: the timeout is what brings the records in. */
	while (!exiting) {
		ring_buffer__poll(rb, 100);
		ring_buffer__consume(rb);
	}
	fprintf(stderr, "floor: %ld records, %llu lost, %llu sockets found their slot taken\n",
		records, (unsigned long long)skel->bss->lost,
		(unsigned long long)skel->bss->slot_taken);
	err = 0;
cleanup:
	ring_buffer__free(rb);
	floor_bpf__destroy(skel);
	return err;
}
