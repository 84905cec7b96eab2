/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The summary's top tables: slow closes counted per remote endpoint and per
 * process, in a table of bounded size. A table keeps at most `capacity`
 * keys; a new key that finds it full first evicts the half with the fewest
 * slow closes, whose counts move to evicted_count. The heavy hitters stay,
 * every slow close stays counted somewhere, and adding is amortised O(1):
 * a prune costs O(capacity log capacity) and frees capacity/2 places.
 */
#ifndef TCPWAVE_SUMMARY_TOP_H
#define TCPWAVE_SUMMARY_TOP_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpwave.h"

/* Zero the whole key before filling it in: keys are hashed and compared as bytes. */
union summary_top_key {
	struct {
		__u8 addr[16]; /* IPv4 in the first 4 bytes */
		__u16 port; /* 0: any port */
		__u16 family; /* AF_INET or AF_INET6 */
	} remote;
	struct {
		__u32 pid; /* process id; 0 with an empty comm: owner not known */
		char comm[TW_COMM_LEN];
	} process;
	__u8 bytes[20];
};

struct summary_top_entry {
	union summary_top_key key;
	__u32 pad;
	uint64_t count; /* slow closes */
	uint64_t worst_ns; /* the longest of them */
};

struct summary_top {
	struct summary_top_entry *entries; /* [0, used), dense */
	uint32_t *slots; /* open addressing: entry index + 1, 0 for empty */
	uint32_t capacity;
	uint32_t nslots; /* a power of two, at least twice capacity */
	uint32_t used;
	uint64_t evicted_entries; /* keys evicted to make room */
	uint64_t evicted_count; /* the slow closes they held */
};

/* 0 or -ENOMEM; capacity >= 2. */
int summary_top_init(struct summary_top *t, uint32_t capacity);
void summary_top_free(struct summary_top *t);
/* Forget every key and the eviction tally; the memory stays. */
void summary_top_clear(struct summary_top *t);
/* Count one slow close of close_ns for key. */
void summary_top_add(struct summary_top *t, const union summary_top_key *key, uint64_t close_ns);
/*
 * Put entries[] in rank order: most slow closes first, then the worst
 * close, then the key's bytes, so equal inputs print the same.
 */
void summary_top_rank(struct summary_top *t);

#endif
