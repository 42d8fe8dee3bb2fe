// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the FIB builder, the DIR-16-8-8 table rt_dir (router.h) computed
 * from FIB entries: a full build into memory, beside the live table, to be
 * switched in at once (configure, routes replace), and one prefix added or
 * removed in place (routes add/del). Pure: no map or kernel call, so that
 * tests/test_rt_dir.c compiles this file alone and checks it against a
 * reference longest-prefix match. rt_fib.c writes the results to the maps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rt_dir.h"

int rt_fib_cmp(const void *x, const void *y)
{
	const struct fib_ent *a = x, *b = y;

	if (a->k.plen != b->k.plen)
		return a->k.plen < b->k.plen ? -1 : 1;
	return a->k.addr == b->k.addr
		       ? 0
		       : (ntohl(a->k.addr) < ntohl(b->k.addr) ? -1 : 1);
}

__u64 rt_dir_res(const struct rt_fib_val *v)
{
	return RT_DIR_ENC(RT_DIR_RES, v->plen, v->type, v->port, v->nh.v4);
}

int rt_dir_open(struct rt_dir *t, __u64 (*load)(void *ctx, __u32 i), void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->capseen = 1024;
	t->seen = calloc(t->capseen, sizeof(*t->seen));
	if (!t->seen)
		return -ENOMEM;
	t->load = load;
	t->ctx = ctx;
	t->logging = 1;
	return 0;
}

void rt_dir_close(struct rt_dir *t)
{
	free(t->seen);
	free(t->log);
	memset(t, 0, sizeof(*t));
}

/* The slot of entry i in the hash: its own, or the free one for it. */
static struct rt_dir_seen *seen_slot(struct rt_dir_seen *h, size_t cap, __u32 i)
{
	size_t s = (i * 2654435761u) & (cap - 1);

	while (h[s].i1 && h[s].i1 != i + 1)
		s = (s + 1) & (cap - 1);
	return &h[s];
}

/* Entry i now has value v in the hash; it grows at half full. */
static void seen_put(struct rt_dir *t, __u32 i, __u64 v)
{
	struct rt_dir_seen *e = seen_slot(t->seen, t->capseen, i);

	if (!e->i1 && 2 * (t->nseen + 1) > t->capseen) {
		size_t cap = 2 * t->capseen;
		struct rt_dir_seen *h = calloc(cap, sizeof(*h));

		if (!h) {
			t->err = -ENOMEM;
			return;
		}
		for (size_t k = 0; k < t->capseen; k++)
			if (t->seen[k].i1)
				*seen_slot(h, cap, t->seen[k].i1 - 1) =
					t->seen[k];
		free(t->seen);
		t->seen = h;
		t->capseen = cap;
		e = seen_slot(h, cap, i);
	}
	if (!e->i1)
		t->nseen++;
	e->i1 = i + 1;
	e->v = v;
}

static __u64 dget(struct rt_dir *t, __u32 i)
{
	struct rt_dir_seen *e;
	__u64 v;

	if (t->mem)
		return t->mem[i];
	e = seen_slot(t->seen, t->capseen, i);
	if (e->i1)
		return e->v;
	v = t->load(t->ctx, i);
	seen_put(t, i, v);
	return v;
}

static void dset(struct rt_dir *t, __u32 i, __u64 v)
{
	if (t->mem)
		t->mem[i] = v;
	else
		seen_put(t, i, v);
	if (!t->logging || t->err)
		return;
	if (t->nlog == t->caplog) {
		size_t cap = t->caplog ? 2 * t->caplog : 64;
		void *p = realloc(t->log, cap * sizeof(*t->log));

		if (!p) {
			t->err = -ENOMEM;
			return;
		}
		t->log = p;
		t->caplog = cap;
	}
	t->log[t->nlog++] = (struct rt_dir_write){i, v};
}

/* A block of the next level below `e` (level 1: an L2 block, 2: L3), filled
 * with e, or -1 when its pool is used up. A full build skips the blocks the
 * live table reaches; the counter (RT_DIR_USE) is then the highest block
 * the new table uses, + 1, where changes in place go on from. */
static int dir_block(struct rt_dir *t, int level, __u64 e)
{
	__u32 use = RT_DIR_USE + level - 1, n = dget(t, use);
	__u32 max = level == 1 ? RT_DIR_L2_BLOCKS : RT_DIR_L3_BLOCKS;
	__u32 base = level == 1 ? RT_DIR_L2 : RT_DIR_L3;
	const __u8 *busy = t->busy[level - 1];

	while (busy && n < max && busy[n])
		n++;
	if (n >= max) {
		t->exhausted = 1;
		return -1;
	}
	for (__u32 i = 0; i < 256; i++)
		dset(t, base + n * 256 + i, e);
	dset(t, use, n + 1);
	return n;
}

static __u32 dir_child(int level, __u64 e)
{
	return (level == 1 ? RT_DIR_L2 : RT_DIR_L3) + RT_DIR_LOW(e) * 256;
}

/* Entries [base+from, +n) of `level`: a prefix of length plen (value v)
 * goes over those held by prefixes no longer than it, through blocks. With
 * `old` non-zero, instead: entries equal to old become v (a delete). */
static void dir_over(struct rt_dir *t, int level, __u32 base, __u32 from,
		     __u32 n, __u64 v, unsigned plen, __u64 old)
{
	for (__u32 i = from; i < from + n; i++) {
		__u64 e = dget(t, base + i);

		if (RT_DIR_KIND(e) == RT_DIR_PTR)
			dir_over(t, level + 1, dir_child(level, e), 0, 256, v,
				 plen, old);
		else if (old ? e == old
			     : RT_DIR_KIND(e) != RT_DIR_TRIE &&
					 RT_DIR_PLEN(e) <= plen)
			dset(t, base + i, v);
	}
}

/* The entry at level 1 or 2 that a prefix longer than that level needs as
 * a block: made one if it is not (with_alloc), else -1. */
static int dir_down(struct rt_dir *t, int level, __u32 idx, int with_alloc,
		    __u32 *child)
{
	__u64 e = dget(t, idx);
	int b;

	if (RT_DIR_KIND(e) == RT_DIR_TRIE)
		return -1;
	if (RT_DIR_KIND(e) != RT_DIR_PTR) {
		if (!with_alloc)
			return -1;
		b = dir_block(t, level, e);
		if (b < 0) { /* the pool is used up: the trie answers here */
			dset(t, idx, RT_DIR_ENC(RT_DIR_TRIE, 0, 0, 0, 0));
			return -1;
		}
		/* The block is complete before anything points at it. */
		e = RT_DIR_ENC(RT_DIR_PTR, 0, 0, 0, b);
		dset(t, idx, e);
	}
	*child = dir_child(level, e);
	return 0;
}

/* Prefix addr/plen now holds v (old == 0), or no longer holds old and its
 * addresses fall back to v, the covering prefix's value (or empty). */
static void dir_apply(struct rt_dir *t, __be32 addr, unsigned plen, __u64 v,
		      __u64 old)
{
	__u32 h = ntohl(addr), b2, b3, l1 = RT_DIR_L1_OF(dget(t, RT_DIR_EPOCH));

	if (plen <= 16) {
		dir_over(t, 1, l1, h >> 16, 1u << (16 - plen), v, plen, old);
		return;
	}
	if (dir_down(t, 1, l1 + (h >> 16), !old, &b2))
		return;
	if (plen <= 24) {
		dir_over(t, 2, b2, (h >> 8) & 255, 1u << (24 - plen), v, plen,
			 old);
		return;
	}
	if (dir_down(t, 2, b2 + ((h >> 8) & 255), !old, &b3))
		return;
	dir_over(t, 3, b3, h & 255, 1u << (32 - plen), v, plen, old);
}

/* Marks the blocks the live copy of `tab` reaches; 1 if there is one. */
static int mark_busy(const __u64 *tab, __u8 *b2, __u8 *b3)
{
	__u32 l1 = RT_DIR_L1_OF(tab[RT_DIR_EPOCH]);
	int any = 0;

	for (__u32 i = 0; i < 65536; i++) {
		__u64 e = tab[l1 + i];

		if (RT_DIR_KIND(e) != RT_DIR_PTR ||
		    RT_DIR_LOW(e) >= RT_DIR_L2_BLOCKS)
			continue;
		b2[RT_DIR_LOW(e)] = any = 1;
		for (__u32 j = 0; j < 256; j++) {
			__u64 f = tab[dir_child(1, e) + j];

			if (RT_DIR_KIND(f) == RT_DIR_PTR &&
			    RT_DIR_LOW(f) < RT_DIR_L3_BLOCKS)
				b3[RT_DIR_LOW(f)] = 1;
		}
	}
	return any;
}

/* The epoch that makes the other level-1 copy live: its generation bumped
 * too, which voids the forwarding cache's decisions of the old table. */
static __u64 epoch_switch(__u64 e)
{
	return (e + 2) ^ 1;
}

int rt_dir_build(__u64 *out, const __u64 *cur, const struct fib_ent *fib,
		 size_t n)
{
	__u8 b2[RT_DIR_L2_BLOCKS] = {0}, b3[RT_DIR_L3_BLOCKS] = {0};
	struct rt_dir t = {.mem = out, .busy = {b2, b3}};
	int held = 0;

	if (cur) {
		memcpy(out, cur, RT_DIR_SIZE * sizeof(__u64));
		held = mark_busy(cur, b2, b3);
	} else {
		memset(out, 0, RT_DIR_SIZE * sizeof(__u64));
	}
	/* The copy not in use starts empty, the counters from the pools'
	 * start (dir_block skips what the live copy holds). */
	out[RT_DIR_EPOCH] = epoch_switch(out[RT_DIR_EPOCH]);
	memset(out + RT_DIR_L1_OF(out[RT_DIR_EPOCH]), 0, 65536 * sizeof(__u64));
	out[RT_DIR_USE] = out[RT_DIR_USE + 1] = 0;
	for (size_t i = 0; i < n; i++)
		dir_apply(&t, fib[i].k.addr, fib[i].k.plen,
			  rt_dir_res(&fib[i].v), 0);
	return t.exhausted && held ? -ENOSPC : 0;
}

void rt_dir_trie_all(__u64 *out, const __u64 *cur)
{
	__u64 trie = RT_DIR_ENC(RT_DIR_TRIE, 0, 0, 0, 0);
	__u32 l1;

	memcpy(out, cur, RT_DIR_SIZE * sizeof(__u64));
	out[RT_DIR_EPOCH] = epoch_switch(out[RT_DIR_EPOCH]);
	l1 = RT_DIR_L1_OF(out[RT_DIR_EPOCH]);
	for (__u32 i = 0; i < 65536; i++)
		out[l1 + i] = trie;
}

void rt_dir_add(struct rt_dir *t, __be32 addr, unsigned plen,
		const struct rt_fib_val *v)
{
	dir_apply(t, addr, plen, rt_dir_res(v), 0);
}

void rt_dir_del(struct rt_dir *t, __be32 addr, unsigned plen,
		const struct rt_fib_val *old, const struct rt_fib_val *cover)
{
	dir_apply(t, addr, plen, cover ? rt_dir_res(cover) : 0,
		  rt_dir_res(old));
}

__u64 rt_dir_lookup(const __u64 *tab, __be32 dst)
{
	__u32 h = ntohl(dst);
	__u64 e = tab[RT_DIR_L1_OF(tab[RT_DIR_EPOCH]) + (h >> 16)];

	if (RT_DIR_KIND(e) == RT_DIR_PTR) {
		e = tab[RT_DIR_L2 + RT_DIR_LOW(e) * 256 + ((h >> 8) & 255)];
		if (RT_DIR_KIND(e) == RT_DIR_PTR)
			e = tab[RT_DIR_L3 + RT_DIR_LOW(e) * 256 + (h & 255)];
	}
	return e;
}
