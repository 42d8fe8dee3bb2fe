/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The router's FIB builder (rt_dir.c): the DIR-16-8-8 table rt_dir
 * (router.h) computed from FIB entries, in memory, with no map or kernel
 * call, so that a test checks it without a kernel (tests/test_rt_dir.c
 * compiles rt_dir.c in). Writing the result to the map is the caller's
 * small step (rt_fib.c).
 */
#ifndef NFC_RT_DIR_H
#define NFC_RT_DIR_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "router.h"

/* A FIB entry: a key of rt_fib4 and its value. */
struct fib_ent {
	struct rt_fib4_key k;
	struct rt_fib_val v;
};

/* Orders FIB entries by prefix length, then address: the order the
 * builders expect (shorter prefixes first), and bsearch's. */
int rt_fib_cmp(const void *x, const void *y);

/* rt_dir's encoding of a FIB value (a result entry). */
__u64 rt_dir_res(const struct rt_fib_val *v);

/* One write to the table, in the order it was made. */
struct rt_dir_write {
	__u32 i;
	__u64 v;
};

/*
 * A table being changed. With `mem` set, it holds the whole table
 * (RT_DIR_SIZE entries). Else the table is read through load(ctx, i)
 * (the caller's map, entry by entry) the first time an entry is needed,
 * and the entries read or written are kept in a small hash (`seen`), so
 * that a change costs what it touches. Every write is logged in order when
 * `logging` is set: a block is complete before anything points at it, so
 * writing the log in order never shows the fast path a half-made block.
 */
struct rt_dir_seen {
	__u32 i1; /* index + 1; 0: a free slot */
	__u64 v;
};

struct rt_dir {
	__u64 *mem;
	__u64 (*load)(void *ctx, __u32 i);
	void *ctx;
	struct rt_dir_seen *seen;
	size_t nseen, capseen; /* capseen: a power of two */
	int logging;
	struct rt_dir_write *log;
	size_t nlog, caplog;
	int err;       /* -ENOMEM: the log is incomplete */
	int exhausted; /* a pool ran out: a region was left to the trie */
	/* A full build: blocks the live table reaches (per pool, by block
	 * number), which the new table must leave alone. NULL: blocks are
	 * taken from the pool's counter on (a change in place). */
	const __u8 *busy[2];
};

/* A table over the entries load() reads, logging its writes (a change to
 * apply to a map). 0 or -ENOMEM. */
int rt_dir_open(struct rt_dir *t, __u64 (*load)(void *ctx, __u32 i), void *ctx);
void rt_dir_close(struct rt_dir *t);

/*
 * A new table for `fib` (n entries sorted by rt_fib_cmp) switched in over
 * the table `cur` (NULL: empty), into `out` (RT_DIR_SIZE entries): `out`
 * is `cur` with the level-1 copy `cur` does not use built anew, the blocks
 * under it taken from those `cur`'s live copy does not reach, and the
 * epoch switched to it. Writing the entries where `out` differs from `cur`
 * with the epoch last (rt_fib.c) changes nothing the fast path reads until
 * that one write, which then moves every lookup to the new table at once.
 * Regions whose blocks run out are marked RT_DIR_TRIE (the trie answers
 * there). Returns 0, or -ENOSPC when they ran out because `cur` holds
 * blocks: then `out` is not to be written; rt_dir_trie_all first frees
 * them all.
 */
int rt_dir_build(__u64 *out, const __u64 *cur, const struct fib_ent *fib,
		 size_t n);

/* `cur` switched to a level 1 that sends every lookup to the trie, into
 * `out`: the way out of -ENOSPC, since that table reaches no block. */
void rt_dir_trie_all(__u64 *out, const __u64 *cur);

/* Prefix addr/plen added with value v (or its value replaced). */
void rt_dir_add(struct rt_dir *t, __be32 addr, unsigned plen,
		const struct rt_fib_val *v);
/* Prefix addr/plen, of value old, removed: its addresses go to `cover`,
 * the longest prefix shorter than it that holds addr (NULL: none). */
void rt_dir_del(struct rt_dir *t, __be32 addr, unsigned plen,
		const struct rt_fib_val *old, const struct rt_fib_val *cover);

/* The entry the fast path reaches for dst (router.bpf.c, fib4) in the live
 * copy: a result, empty, or RT_DIR_TRIE. `tab` is a whole table. */
__u64 rt_dir_lookup(const __u64 *tab, __be32 dst);

#endif
