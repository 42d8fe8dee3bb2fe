// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The router's FIB builder (rt_dir.c) without a kernel: the DIR-16-8-8
 * table it builds, read the way the fast path reads it, must give what a
 * plain longest-prefix match over the same entries gives, for random route
 * sets (every prefix length, overlapping, around the /16 and /24 level
 * boundaries), after full builds, incremental adds and deletes, rebuilds
 * over a table in use, and with the block pools used up (where the table
 * says "ask the trie", which the reference answers). The change log the
 * map step writes is checked too: replayed in order, it gives the same
 * table and never points at a block before the block is complete.
 *
 * Linked with the library's objects (Makefile), as every test is.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router/rt_dir.h"
#include "test.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull; /* deterministic */

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint32_t hmask(unsigned plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

/* The reference: the entries as a list, matched by a linear scan. */
struct ref {
	struct fib_ent *e;
	size_t n, cap;
};

static void ref_put(struct ref *r, const struct fib_ent *e)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->e[i].k.plen == e->k.plen &&
		    r->e[i].k.addr == e->k.addr) {
			r->e[i] = *e;
			return;
		}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->e = realloc(r->e, r->cap * sizeof(*r->e));
		if (!r->e)
			abort();
	}
	r->e[r->n++] = *e;
}

static void ref_del(struct ref *r, size_t i)
{
	r->e[i] = r->e[--r->n];
}

/* The longest prefix of length at most maxlen holding h, or NULL. */
static const struct fib_ent *ref_match(const struct ref *r, uint32_t h,
				       int maxlen)
{
	const struct fib_ent *best = NULL;

	for (size_t i = 0; i < r->n; i++) {
		const struct fib_ent *e = &r->e[i];

		if ((int)e->k.plen <= maxlen &&
		    !((h ^ ntohl(e->k.addr)) & hmask(e->k.plen)) &&
		    (!best || e->k.plen > best->k.plen))
			best = e;
	}
	return best;
}

static void sorted(struct ref *r)
{
	qsort(r->e, r->n, sizeof(*r->e), rt_fib_cmp);
}

/* A random entry: prefix lengths 0..32, more of them on either side of
 * the level boundaries (16, 24) and host routes; addresses mostly in one
 * /12 so that they overlap. */
static struct fib_ent rnd_ent(void)
{
	static const unsigned hot[] = {15, 16, 17, 23, 24, 25, 31, 32};
	unsigned plen = rnd() % 3 ? rnd() % 33 : hot[rnd() % 8];
	uint32_t a = rnd() % 8 ? 0x0a000000u | (rnd() & 0x000fffffu) : rnd();
	struct fib_ent e = {0};

	e.k.plen = plen;
	e.k.addr = htonl(a & hmask(plen));
	e.v.type = 1 + rnd() % 4;
	e.v.port = rnd() % 16;
	e.v.nh.v4 = htonl(0xc0000200u | (rnd() & 255));
	e.v.plen = plen;
	return e;
}

/* Addresses worth asking about: each prefix's ends and their neighbours,
 * the /16 and /24 boundaries near them, a point inside, and some random
 * ones. */
static size_t probes(const struct ref *r, uint32_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n && n + 9 <= max; i++) {
		uint32_t lo = ntohl(r->e[i].k.addr);
		uint32_t hi = lo | ~hmask(r->e[i].k.plen);

		out[n++] = lo;
		out[n++] = hi;
		out[n++] = lo - 1;
		out[n++] = hi + 1;
		out[n++] = lo + (rnd() & ~hmask(r->e[i].k.plen));
		out[n++] = (lo & 0xffff0000u) - 1;
		out[n++] = (lo | 0xffffu) + 1;
		out[n++] = (lo & 0xffffff00u) - 1;
		out[n++] = (lo | 0xffu) + 1;
	}
	while (n < max)
		out[n++] =
			rnd() % 2 ? 0x0a000000u | (rnd() & 0x000fffffu) : rnd();
	return n;
}

/* Addresses where the table and the reference disagree; *trie counts
 * those the table leaves to the trie. */
static int mismatches(const __u64 *tab, const struct ref *r, int *trie)
{
	static uint32_t a[40000];
	size_t n = probes(r, a, sizeof(a) / sizeof(a[0]));
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		const struct fib_ent *m = ref_match(r, a[i], 32);
		__u64 e = rt_dir_lookup(tab, htonl(a[i]));

		if (RT_DIR_KIND(e) == RT_DIR_TRIE) {
			if (trie)
				(*trie)++;
			continue;
		}
		if (m ? e != rt_dir_res(&m->v) : e != 0) {
			if (bad++ < 3)
				printf("# %u.%u.%u.%u: table %#llx, reference "
				       "/%d\n",
				       a[i] >> 24, (a[i] >> 16) & 255,
				       (a[i] >> 8) & 255, a[i] & 255,
				       (unsigned long long)e,
				       m ? (int)m->k.plen : -1);
		}
	}
	return bad;
}

static __u64 *table(void)
{
	__u64 *t = calloc(RT_DIR_SIZE, sizeof(*t));

	if (!t)
		abort();
	return t;
}

/* Full builds of random sets, from an empty table. */
static void full_builds(void)
{
	__u64 *tab = table();
	int bad = 0, trie = 0;

	for (int round = 0; round < 30; round++) {
		struct ref r = {0};
		size_t n = 1 + rnd() % 400;

		for (size_t i = 0; i < n; i++) {
			struct fib_ent e = rnd_ent();

			ref_put(&r, &e);
		}
		sorted(&r);
		rt_dir_build(tab, NULL, r.e, r.n);
		bad += mismatches(tab, &r, &trie);
		free(r.e);
	}
	CHECK(!bad && !trie,
	      "30 random sets of up to 400 prefixes /0../32, full builds: "
	      "lookups agree with a longest-prefix match (%d differ, %d left "
	      "to the trie)",
	      bad, trie);
	free(tab);
}

/* The same table changed prefix by prefix (adds and deletes in random
 * order), as routes add/del do, then rebuilt over itself as configure
 * does; each compared with the reference and with each other. */
static void incremental(void)
{
	__u64 *tab = table(), *full = table();
	struct rt_dir t = {.mem = tab};
	struct ref r = {0};
	int bad = 0, ops = 0, diff = 0;

	for (int step = 0; step < 3000; step++) {
		if (r.n && rnd() % 3 == 0) {
			size_t i = rnd() % r.n;
			struct fib_ent old = r.e[i];
			const struct fib_ent *c;

			ref_del(&r, i);
			c = old.k.plen ? ref_match(&r, ntohl(old.k.addr),
						   old.k.plen - 1)
				       : NULL;
			rt_dir_del(&t, old.k.addr, old.k.plen, &old.v,
				   c ? &c->v : NULL);
		} else {
			struct fib_ent e = rnd_ent();
			int dup = 0;

			/* routes add refuses a key that exists. */
			for (size_t i = 0; i < r.n && !dup; i++)
				dup = r.e[i].k.plen == e.k.plen &&
				      r.e[i].k.addr == e.k.addr;
			if (dup)
				continue;
			ref_put(&r, &e);
			rt_dir_add(&t, e.k.addr, e.k.plen, &e.v);
		}
		ops++;
		if (step % 300 == 299)
			bad += mismatches(tab, &r, NULL);
	}
	CHECK(!bad,
	      "%d random adds and deletes, one at a time: lookups agree "
	      "with a longest-prefix match (%d differ; %zu prefixes left)",
	      ops, bad, r.n);
	sorted(&r);
	rt_dir_build(full, tab, r.e, r.n);
	bad = mismatches(full, &r, NULL);
	for (uint32_t i = 0; i < 200000; i++) {
		uint32_t h =
			i % 2 ? 0x0a000000u | (rnd() & 0x000fffffu) : rnd();

		diff += rt_dir_lookup(full, htonl(h)) !=
			rt_dir_lookup(tab, htonl(h));
	}
	CHECK(!bad && !diff,
	      "... rebuilt in full over that table: agrees with the "
	      "reference (%d differ) and with the incremental table (%d of "
	      "200000 addresses differ)",
	      bad, diff);
	/* Deleting everything leaves an empty table behind. */
	while (r.n) {
		struct fib_ent old = r.e[r.n - 1];
		const struct fib_ent *c;

		ref_del(&r, r.n - 1);
		c = old.k.plen
			    ? ref_match(&r, ntohl(old.k.addr), old.k.plen - 1)
			    : NULL;
		rt_dir_del(&t, old.k.addr, old.k.plen, &old.v,
			   c ? &c->v : NULL);
	}
	bad = 0;
	for (uint32_t i = 0; i < 200000; i++) {
		uint32_t h =
			i % 2 ? 0x0a000000u | (rnd() & 0x000fffffu) : rnd();

		bad += rt_dir_lookup(tab, htonl(h)) != 0;
	}
	CHECK(!bad,
	      "... every prefix deleted again, longest first: no address "
	      "has a route (%d of 200000 do)",
	      bad);
	free(r.e);
	free(tab);
	free(full);
}

/* Whether `b`, written over `a`, changes anything a lookup in `a` reads
 * before the epoch: an entry of a's live level 1 or of a block it
 * reaches. */
static int touches_live(const __u64 *a, const __u64 *b)
{
	__u32 l1 = RT_DIR_L1_OF(a[RT_DIR_EPOCH]);
	int n = 0;

	for (__u32 i = 0; i < 65536; i++) {
		__u64 e = a[l1 + i];

		n += b[l1 + i] != e;
		if (RT_DIR_KIND(e) != RT_DIR_PTR)
			continue;
		for (__u32 j = 0; j < 256; j++) {
			__u32 c = RT_DIR_L2 + RT_DIR_LOW(e) * 256 + j;
			__u64 f = a[c];

			n += b[c] != f;
			if (RT_DIR_KIND(f) != RT_DIR_PTR)
				continue;
			for (__u32 k = 0; k < 256; k++) {
				__u32 d = RT_DIR_L3 + RT_DIR_LOW(f) * 256 + k;

				n += b[d] != a[d];
			}
		}
	}
	return n;
}

/* Rebuilds over the table in use: each is built beside it (the live
 * level 1 and its blocks untouched, only the epoch switches); when the
 * pools cannot hold both, -ENOSPC, and over rt_dir_trie_all's table the
 * build fits. */
static void rebuilds(void)
{
	__u64 *a = table(), *b = table(), *t;
	int bad = 0, trie = 0, touched = 0, unswitched = 0, nospc = 0;

	for (int round = 0; round < 40; round++) {
		struct ref r = {0};
		/* /32s in 100 /24s of 10.0/16..: 100 L2 and L3 blocks; every
		 * 10th round and the one before, in 1,100 /24s: more than the
		 * level-3 pool holds twice. */
		int m = round % 10 >= 8 ? 1100 : 100;

		for (int i = 0; i < m; i++) {
			struct fib_ent e = {
				{32, htonl(0x0a000000u | (uint32_t)i << 12 |
					   (rnd() & 0xfff))},
				{.type = RT_FIB_VIA,
				 .port = i % 16,
				 .plen = 32}};

			ref_put(&r, &e);
		}
		sorted(&r);
		if (rt_dir_build(b, a, r.e, r.n) == -ENOSPC) {
			nospc++;
			rt_dir_trie_all(b, a);
			touched += touches_live(a, b);
			t = a;
			a = b;
			b = t;
			if (rt_dir_build(b, a, r.e, r.n))
				bad++;
		}
		touched += touches_live(a, b);
		unswitched += RT_DIR_L1_OF(a[RT_DIR_EPOCH]) ==
			      RT_DIR_L1_OF(b[RT_DIR_EPOCH]);
		bad += mismatches(b, &r, &trie);
		t = a;
		a = b;
		b = t;
		free(r.e);
	}
	CHECK(!bad && !trie && !touched && !unswitched && nospc == 4,
	      "40 rebuilds, each over the table before it: agree with the "
	      "reference (%d differ, %d left to the trie); the live table "
	      "untouched but for the epoch (%d entries written), which "
	      "switched each time (%d did not); the 4 that the pools could not "
	      "hold beside the live table went through the trie (%d)",
	      bad, trie, touched, unswitched, nospc);
	free(a);
	free(b);
}

/* More /32s in distinct /24s than there are level-3 blocks: those left
 * over are marked for the trie, and every other answer is still right. */
static void exhausted(void)
{
	__u64 *tab = table();
	struct rt_dir t = {.mem = tab};
	struct ref r = {0};
	int bad, trie = 0;

	for (uint32_t i = 0; i < RT_DIR_L3_BLOCKS + 200; i++) {
		struct fib_ent e = {
			{32, htonl(0x0a000000u | i << 8 | 7)},
			{.type = RT_FIB_VIA, .port = 1, .plen = 32}};

		ref_put(&r, &e);
	}
	sorted(&r);
	rt_dir_build(tab, NULL, r.e, r.n);
	bad = mismatches(tab, &r, &trie);
	CHECK(!bad && trie && tab[RT_DIR_USE + 1] == RT_DIR_L3_BLOCKS,
	      "%d host routes in distinct /24s, %d level-3 blocks: full "
	      "build right where it answers (%d differ), the rest left to "
	      "the trie (%d probes)",
	      RT_DIR_L3_BLOCKS + 200, RT_DIR_L3_BLOCKS, bad, trie);
	/* A /16 over them, added and deleted, goes around the trie marks. */
	{
		struct fib_ent e = {
			{16, htonl(0x0a000000u)},
			{.type = RT_FIB_CONNECTED, .port = 2, .plen = 16}};

		rt_dir_add(&t, e.k.addr, 16, &e.v);
		ref_put(&r, &e);
		trie = 0;
		bad = mismatches(tab, &r, &trie);
		ref_del(&r, r.n - 1);
		rt_dir_del(&t, e.k.addr, 16, &e.v, NULL);
		bad += mismatches(tab, &r, NULL);
	}
	CHECK(!bad, "... and a /16 over them added and deleted: %d differ",
	      bad);
	free(r.e);
	free(tab);
}

/* The "map": what load() reads in the logged mode. */
static __u64 *map;

static __u64 map_load(void *ctx, __u32 i)
{
	(void)ctx;
	return map[i];
}

/* Changes made the way rt_fib.c makes them (entries read on demand, writes
 * logged), replayed in order onto the "map": the same table as changing it
 * in memory, and a pointer is only ever written to a complete block. */
static void logged(void)
{
	__u64 *mem = table();
	struct rt_dir m = {.mem = mem};
	struct ref r = {0};
	int bad = 0, early = 0, diff = 0, ops = 0;
	uint8_t *written = calloc(RT_DIR_SIZE, 1);

	map = table();
	if (!written)
		abort();
	for (int step = 0; step < 600; step++) {
		struct rt_dir t;
		struct fib_ent e;

		if (rt_dir_open(&t, map_load, NULL)) {
			bad++;
			break;
		}
		if (r.n && rnd() % 3 == 0) {
			size_t i = rnd() % r.n;
			const struct fib_ent *c;

			e = r.e[i];
			ref_del(&r, i);
			c = e.k.plen ? ref_match(&r, ntohl(e.k.addr),
						 e.k.plen - 1)
				     : NULL;
			rt_dir_del(&t, e.k.addr, e.k.plen, &e.v,
				   c ? &c->v : NULL);
			rt_dir_del(&m, e.k.addr, e.k.plen, &e.v,
				   c ? &c->v : NULL);
		} else {
			e = rnd_ent();
			ref_put(&r, &e);
			rt_dir_add(&t, e.k.addr, e.k.plen, &e.v);
			rt_dir_add(&m, e.k.addr, e.k.plen, &e.v);
		}
		bad += t.err != 0;
		memset(written, 0, RT_DIR_SIZE);
		for (size_t i = 0; i < t.nlog; i++) {
			__u64 v = t.log[i].v;

			/* A new pointer's block: written before, whole. */
			if (RT_DIR_KIND(v) == RT_DIR_PTR &&
			    RT_DIR_KIND(map[t.log[i].i]) != RT_DIR_PTR) {
				__u32 c =
					(RT_DIR_IS_L1(t.log[i].i) ? RT_DIR_L2
								  : RT_DIR_L3) +
					RT_DIR_LOW(v) * 256;

				for (__u32 j = c; j < c + 256; j++)
					early += !written[j];
			}
			map[t.log[i].i] = v;
			written[t.log[i].i] = 1;
		}
		rt_dir_close(&t);
		ops++;
	}
	for (__u32 i = 0; i < RT_DIR_SIZE; i++)
		diff += map[i] != mem[i];
	bad += mismatches(map, &r, NULL);
	CHECK(!bad && !early && !diff,
	      "%d changes read entry by entry and logged, the logs replayed "
	      "in order: the same table as in memory (%d entries differ), "
	      "right (%d probes differ), no pointer before its block (%d)",
	      ops, diff, bad, early);
	free(r.e);
	free(mem);
	free(map);
	free(written);
}

int main(void)
{
	full_builds();
	incremental();
	rebuilds();
	exhausted();
	logged();
	TEST_EXIT();
}
