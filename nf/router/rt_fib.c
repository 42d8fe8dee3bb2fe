// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the FIB: its entries from the ports and the static routes, and
 * the step that writes them to the maps: rt_fib4 (the trie, the record)
 * and rt_dir (the fast path's DIR-16-8-8 table, built by rt_dir.c, a new
 * whole table switched in by one write).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "rt_int.h"

/* ---- the FIB ---- */

int rt_fib_port_entries(const struct rt_pcfg *pc, struct fib_ent *e)
{
	int n = 0;

	for (int p = 0; p < NFC_MAX_PORTS; p++) {
		const struct rt_pfx *ip = &pc[p].ip;

		if (!pc[p].used || ip->family != RT_AF_INET)
			continue;
		if (ip->plen < 32)
			e[n++] = (struct fib_ent){
				{ip->plen, ip->a.v4 & rt_mask(ip->plen)},
				{.type = RT_FIB_CONNECTED,
				 .port = p,
				 .plen = ip->plen}};
		e[n++] = (struct fib_ent){
			{32, ip->a.v4},
			{.type = RT_FIB_LOCAL, .port = p, .plen = 32}};
		if (rt_subnet_bcast(ip))
			e[n++] = (struct fib_ent){
				{32, rt_subnet_bcast(ip)},
				{.type = RT_FIB_BCAST, .port = p, .plen = 32}};
	}
	return n;
}

int rt_route_port(const struct rt_pcfg *pc, const struct fib_ent *own, int nown,
		  const struct rt_rib_key *k, const struct rt_rib_val *v)
{
	struct fib_ent e = {.k = {k->plen, k->addr.v4}};

	if (bsearch(&e, own, nown, sizeof(*own), rt_fib_cmp))
		return -2;
	return v->nh_family == RT_AF_INET ? rt_nh_port(pc, v->nh.v4) : -1;
}

int rt_nh_port(const struct rt_pcfg *pc, __be32 nh)
{
	int p = rt_port_for(pc, nh);

	/* A port given the next hop's address after the route: a packet
	 * sent there would come back to the router. */
	return p >= 0 && rt_is_own_addr(pc, nh) ? -3 : p;
}

/* ---- rt_rib ---- */

int rt_rib_cmp(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct rt_rib_key));
}

int rt_rib_each(int fd,
		int (*fn)(void *ctx, const struct rt_rib_key *k,
			  const struct rt_rib_val *v, size_t n),
		void *ctx)
{
	enum { CHUNK = 4096 };
	struct rt_rib_key *keys = malloc(CHUNK * sizeof(*keys)), k,
			  *prev = NULL;
	struct rt_rib_val *vals = malloc(CHUNK * sizeof(*vals)), v;
	__u32 batch, cnt;
	int first = 1, end = 0, r = 0;

	if (!keys || !vals)
		r = -ENOMEM;
	while (!r && !end) {
		cnt = CHUNK;
		if (bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch,
					 keys, vals, &cnt, NULL)) {
			if (errno != ENOENT && first)
				break; /* no batch here */
			if (errno != ENOENT)
				r = -errno;
			end = 1; /* the last chunk (cnt may be 0) */
		}
		first = 0;
		if (!r && cnt)
			r = fn(ctx, keys, vals, cnt);
	}
	/* No batch here: key by key. */
	for (; !r && !end && !bpf_map_get_next_key(fd, prev, &k); prev = &k)
		if (!bpf_map_lookup_elem(fd, &k, &v))
			r = fn(ctx, &k, &v, 1);
	free(keys);
	free(vals);
	return r;
}

int rt_grow(void **p, size_t *cap, size_t want, size_t size)
{
	size_t c = *cap * 2 > want ? *cap * 2 : want;
	void *t;

	if (want <= *cap)
		return 0;
	t = realloc(*p, c * size);
	if (!t)
		return -ENOMEM;
	*p = t;
	*cap = c;
	return 0;
}

struct ents_acc {
	struct rt_rib_ent *e;
	size_t n, cap;
};

static int ents_add(void *ctx, const struct rt_rib_key *k,
		    const struct rt_rib_val *v, size_t n)
{
	struct ents_acc *a = ctx;

	if (rt_grow((void **)&a->e, &a->cap, a->n + n, sizeof(*a->e)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		a->e[a->n++] = (struct rt_rib_ent){k[i], v[i]};
	return 0;
}

/* A walk key by key costs two system calls a route (20,000 for an apply
 * of 10,000, three times); a batch is one call for many. Read in chunks
 * straight into the result: a buffer for the whole table beside it
 * doubled the daemon's peak at 500,000 routes. */
int rt_rib_read(int fd, struct rt_rib_ent **out, size_t *n)
{
	struct ents_acc a = {0};
	int r = rt_rib_each(fd, ents_add, &a);

	if (r) {
		free(a.e);
		return -ENOMEM;
	}
	if (a.e)
		qsort(a.e, a.n, sizeof(*a.e), rt_rib_cmp);
	*out = a.e ? a.e : malloc(sizeof(*a.e));
	*n = a.n;
	return *out ? 0 : -ENOMEM;
}

int rt_rib_write(struct nfc_nf *nf, int fd, const struct rt_rib_key *k,
		 const struct rt_rib_val *v, size_t n)
{
	__u32 cnt = n;

	if (!n || !(v ? bpf_map_update_batch(fd, k, v, &cnt, NULL)
		      : bpf_map_delete_batch(fd, k, &cnt, NULL)))
		return 0;
	/* No batch here, or it stopped part of the way: the rest one by
	 * one (a delete of a key already gone is no error). */
	for (size_t i = cnt; i < n; i++)
		if (v ? bpf_map_update_elem(fd, &k[i], &v[i], BPF_ANY)
		      : bpf_map_delete_elem(fd, &k[i]) && errno != ENOENT)
			return nfc_nf_error(
				nf, errno, "routes: %s route %zu of %zu: %s",
				v ? "write" : "delete", i, n, strerror(errno));
	return 0;
}

/* ---- rt_dir: the builder's results (rt_dir.c) written to the map ---- */

/* An entry of a block no live lookup reaches, not read (dir_read_live):
 * no encoding has its top bits set. */
#define DIR_UNREAD (~0ull)

/* Entries [from, from + n) of rt_dir into tab. */
static void dir_read_range(int fd, __u64 *tab, __u32 from, __u32 n)
{
	__u32 cnt = n, out, prev = from - 1, *keys = malloc(n * sizeof(*keys));

	/* An array's batch goes on from the key after in_batch; it ends
	 * with ENOENT at the end of the map. */
	if (keys &&
	    (!bpf_map_lookup_batch(fd, from ? &prev : NULL, &out, keys,
				   tab + from, &cnt, NULL) ||
	     errno == ENOENT) &&
	    cnt == n) {
		free(keys);
		return;
	}
	free(keys);
	for (__u32 i = from; i < from + n; i++)
		bpf_map_lookup_elem(fd, &i, &tab[i]);
}

/* The part of rt_dir a rebuild needs: both level-1 copies, the counters
 * and epoch, and the blocks the live copy reaches; the rest (most of the
 * 7.3 MB pools) DIR_UNREAD. The builder never reads a block it did not
 * reach or make itself, and it fills a block it makes whole, so those are
 * the only blocks written. Reading the whole table was ~120 ms of CPU a
 * rebuild, twice in an apply from nothing (configure, then the routes). */
static void dir_read_live(int fd, __u64 *tab)
{
	__u32 l1;

	for (__u32 i = 0; i < RT_DIR_SIZE; i++)
		tab[i] = DIR_UNREAD;
	dir_read_range(fd, tab, RT_DIR_L1, 65536);
	dir_read_range(fd, tab, RT_DIR_USE, RT_DIR_SIZE - RT_DIR_USE);
	l1 = RT_DIR_L1_OF(tab[RT_DIR_EPOCH]);
	for (__u32 i = 0; i < 65536; i++) {
		__u64 e = tab[l1 + i];
		__u32 b2;

		if (RT_DIR_KIND(e) != RT_DIR_PTR ||
		    RT_DIR_LOW(e) >= RT_DIR_L2_BLOCKS)
			continue;
		b2 = RT_DIR_L2 + RT_DIR_LOW(e) * 256;
		dir_read_range(fd, tab, b2, 256);
		for (__u32 j = 0; j < 256; j++) {
			__u64 f = tab[b2 + j];

			if (RT_DIR_KIND(f) == RT_DIR_PTR &&
			    RT_DIR_LOW(f) < RT_DIR_L3_BLOCKS)
				dir_read_range(fd, tab,
					       RT_DIR_L3 + RT_DIR_LOW(f) * 256,
					       256);
		}
	}
}

/* Writes the entries of `want` that differ from `cur`, the epoch last: the
 * one write the fast path sees (rt_dir_build says why). One batch where
 * the kernel takes it, else entry by entry. */
/* Written a chunk at a time, in index order as before (nothing the
 * fast path reads changes until the epoch, written last): arrays for
 * the whole table were 11 MB of the daemon's peak. */
static int dir_write(struct nfc_nf *nf, int fd, const __u64 *cur,
		     const __u64 *want)
{
	enum { CHUNK = 8192 };
	__u32 *keys = malloc(CHUNK * sizeof(*keys)), n = 0, k;
	__u64 *vals = malloc(CHUNK * sizeof(*vals));
	int r = 0;

	if (!keys || !vals) {
		r = -ENOMEM;
		goto out;
	}
	for (__u32 i = 0; !r && i <= RT_DIR_SIZE; i++) {
		if (i < RT_DIR_SIZE && i != RT_DIR_EPOCH && want[i] != cur[i] &&
		    want[i] != DIR_UNREAD) {
			keys[n] = i;
			vals[n++] = want[i];
		}
		if (n < CHUNK && i < RT_DIR_SIZE)
			continue;
		k = n;
		if (n && bpf_map_update_batch(fd, keys, vals, &k, NULL))
			for (__u32 j = 0; j < n && !r; j++)
				if (bpf_map_update_elem(fd, &keys[j], &vals[j],
							BPF_ANY))
					r = nfc_nf_error(nf, errno,
							 "write rt_dir: %s",
							 strerror(errno));
		n = 0;
	}
	k = RT_DIR_EPOCH;
	if (!r && want[k] != cur[k] &&
	    bpf_map_update_elem(fd, &k, &want[k], BPF_ANY))
		r = nfc_nf_error(nf, errno, "switch rt_dir: %s",
				 strerror(errno));
out:
	free(keys);
	free(vals);
	return r;
}

/* Rebuilds rt_dir from the whole FIB (configure, routes replace): built
 * beside the live table and switched in by one write, so that no packet
 * meets part of the old FIB and part of the new. When the pools cannot
 * hold both, every lookup is first switched to the trie (which holds the
 * new FIB already): slower for a moment, never a mix of blocks. */
static int dir_rebuild(struct nfc_nf *nf, const struct fib_ent *fib, size_t n)
{
	int fd = nfc_nf_map_fd(nf, "rt_dir"), r = 0;
	__u64 *cur = NULL, *want = NULL;

	if (fd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_dir not found");
	want = calloc(RT_DIR_SIZE, sizeof(__u64));
	cur = calloc(RT_DIR_SIZE, sizeof(__u64));
	if (!want || !cur) {
		r = -ENOMEM;
		goto out;
	}
	dir_read_live(fd, cur);
	if (rt_dir_build(want, cur, fib, n) == -ENOSPC) {
		rt_dir_trie_all(want, cur);
		r = dir_write(nf, fd, cur, want);
		if (r)
			goto out;
		memcpy(cur, want, RT_DIR_SIZE * sizeof(__u64));
		rt_dir_build(want, cur, fib, n);
	}
	r = dir_write(nf, fd, cur, want);
out:
	free(want);
	free(cur);
	return r;
}

/* Makes rt_fib4 hold exactly `want` (sorted), writing only differences:
 * new and changed entries first, stale ones removed last. An LPM lookup of
 * a key that exists returns that very entry (no longer prefix can match
 * within its length), so walking the keys gives the current values. */
int rt_fib_sync(struct nfc_nf *nf, struct fib_ent *want, size_t n)
{
	int fd = nfc_nf_map_fd(nf, "rt_fib4"), r = 0;
	struct rt_fib4_key k, next, *prev = NULL;
	size_t nstale = 0, cap = 64;
	int changed = 0;
	struct rt_fib4_key *stale = malloc(cap * sizeof(*stale));
	char *same = calloc(n + 1, 1);

	if (fd < 0)
		r = nfc_nf_error(nf, ENOENT, "map rt_fib4 not found");
	if (!stale || !same)
		r = -ENOMEM;
	while (!r && !bpf_map_get_next_key(fd, prev, &next)) {
		struct fib_ent e = {.k = next}, *w;
		struct rt_fib_val cur;

		k = next;
		prev = &k;
		w = bsearch(&e, want, n, sizeof(*want), rt_fib_cmp);
		if (w) {
			same[w - want] = !bpf_map_lookup_elem(fd, &k, &cur) &&
					 !memcmp(&cur, &w->v, sizeof(cur));
			continue;
		}
		if (nstale == cap) {
			void *t = realloc(stale, 2 * cap * sizeof(*stale));

			if (!t) {
				r = -ENOMEM;
				break;
			}
			stale = t;
			cap *= 2;
		}
		stale[nstale++] = k;
	}
	for (size_t i = 0; !r && i < n; i++)
		if (!same[i]) {
			changed = 1;
			if (bpf_map_update_elem(fd, &want[i].k, &want[i].v,
						BPF_ANY))
				r = nfc_nf_error(nf, errno,
						 "write the FIB: %s (at most "
						 "%d entries)",
						 strerror(errno), RT_MAX_FIB);
		}
	for (size_t i = 0; !r && i < nstale; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	free(stale);
	free(same);
	/* rt_dir is rt_fib4's other form, kept in step by every change: a
	 * FIB that did not change (a configure for a port's new peer, as
	 * when its netdev comes back) spares the rebuild, which reads and
	 * compares the whole table (0.5 s on a loaded machine). */
	if (!r && !changed && !nstale)
		return 0;
	return r ? r : dir_rebuild(nf, want, n);
}

static __u64 dir_load(void *ctx, __u32 i)
{
	__u64 v = 0;

	bpf_map_lookup_elem(*(int *)ctx, &i, &v);
	return v;
}

void rt_dir_change(struct nfc_nf *nf, __be32 addr, unsigned plen,
		   const struct rt_fib_val *v, const struct rt_fib_val *old)
{
	int fd = nfc_nf_map_fd(nf, "rt_dir"),
	    ffd = nfc_nf_map_fd(nf, "rt_fib4");
	struct rt_fib4_key k = {plen ? plen - 1 : 0, addr};
	struct rt_fib_val cover;
	struct rt_dir t;

	if (fd < 0 || ffd < 0 || rt_dir_open(&t, dir_load, &fd))
		return;
	/* The covering prefix: the trie's longest match within plen - 1. */
	if (v)
		rt_dir_add(&t, addr, plen, v);
	else
		rt_dir_del(&t, addr, plen, old,
			   plen && !bpf_map_lookup_elem(ffd, &k, &cover)
				   ? &cover
				   : NULL);
	/* In the order the builder wrote them: no half-made block shows. */
	for (size_t i = 0; i < t.nlog; i++)
		bpf_map_update_elem(fd, &t.log[i].i, &t.log[i].v, BPF_ANY);
	rt_dir_close(&t);
}

int rt_fib_lookup(struct nfc_nf *nf, __be32 dst, struct rt_fib_val *v)
{
	struct rt_fib4_key k = {32, dst};
	int fd = nfc_nf_map_fd(nf, "rt_fib4");

	return fd < 0 ? -1 : bpf_map_lookup_elem(fd, &k, v);
}

/* The FIB from the ports and the static routes (rt_rib), written to
 * rt_fib4 and switched into rt_dir whole (configure, routes replace). */
struct fib_acc {
	const struct rt_pcfg *pc;
	struct fib_ent *e;
	size_t n, cap;
	int nown;
};

/* The IPv4 routes of a chunk of rt_rib that go somewhere, as FIB
 * entries (the ports' own entries first in e, sorted). */
static int fib_add(void *ctx, const struct rt_rib_key *k,
		   const struct rt_rib_val *v, size_t n)
{
	struct fib_acc *a = ctx;

	if (rt_grow((void **)&a->e, &a->cap, a->n + n, sizeof(*a->e)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int p;

		if (k[i].family != RT_AF_INET)
			continue;
		p = rt_route_port(a->pc, a->e, a->nown, &k[i], &v[i]);
		if (p < 0)
			continue;
		a->e[a->n++] = (struct fib_ent){{k[i].plen, k[i].addr.v4},
						{.type = RT_FIB_VIA,
						 .port = p,
						 .nh = v[i].nh,
						 .plen = k[i].plen}};
	}
	return 0;
}

/* rt_rib read a chunk at a time into the FIB entries, never whole: at
 * 500,000 routes a copy is 20 MB of the daemon's peak. */
int rt_fib_rebuild(struct nfc_nf *nf, const struct rt_pcfg *pc)
{
	int rfd = nfc_nf_map_fd(nf, "rt_rib"), r;
	struct fib_acc a = {.pc = pc, .cap = 4 * NFC_MAX_PORTS};

	if (rfd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_rib not found");
	a.e = malloc(a.cap * sizeof(*a.e));
	if (!a.e)
		return -ENOMEM;
	a.nown = rt_fib_port_entries(pc, a.e);
	a.n = a.nown;
	qsort(a.e, a.nown, sizeof(*a.e), rt_fib_cmp);
	r = rt_rib_each(rfd, fib_add, &a);
	if (!r) {
		qsort(a.e, a.n, sizeof(*a.e), rt_fib_cmp);
		r = rt_fib_sync(nf, a.e, a.n);
	}
	free(a.e);
	return r;
}
