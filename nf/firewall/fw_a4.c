// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: the IPv4 address classes as a 16-8-8 multibit trie (fw.h,
 * fw_a4), built from the distinct rule prefixes fw_build found. Prefixes
 * are painted shortest first, so that a longer one overwrites the part of
 * a shorter one it covers: each entry ends with the class of the longest
 * prefix holding its addresses, which is the class the LPM trie gives.
 * Painting is bounded by the table's size per prefix length (distinct
 * prefixes of one length cover disjoint entries), not by rules times
 * entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_int.h"

struct a4p {
	__u32 addr; /* host order */
	__u32 cls;
	__u8 plen;
};

static int a4p_cmp(const void *a, const void *b)
{
	const struct a4p *x = a, *y = b;

	return (int)x->plen - (int)y->plen;
}

/* A new chunk every entry of which is `fill`; its number, or -1. */
static long chunk_new(struct fw_tables *t, __u32 *cap, __u32 fill)
{
	if (t->na4 == *cap) {
		__u32 nc = 2 * *cap;
		void *p;

		if (nc >= FW_A4_PTR)
			return -1;
		p = realloc(t->a4, (size_t)nc * sizeof(*t->a4));
		if (!p)
			return -1;
		t->a4 = p;
		*cap = nc;
	}
	for (__u32 i = 0; i < FW_A4_FAN; i++)
		t->a4[t->na4].e[i] = fill;
	return t->na4++;
}

/* Entry `e` of chunk `c` made a pointer to a chunk (a new one holding its
 * class, if it is a class); the chunk's number, or -1. */
static long chunk_at(struct fw_tables *t, __u32 *cap, __u32 c, __u32 e)
{
	__u32 v = t->a4[c].e[e];
	long n;

	if (v & FW_A4_PTR)
		return v & ~FW_A4_PTR;
	n = chunk_new(t, cap, v);
	if (n >= 0)
		t->a4[c].e[e] = FW_A4_PTR | (__u32)n;
	return n;
}

static void paint(__u32 *e, __u32 from, __u32 count, __u32 cls)
{
	for (__u32 i = 0; i < count; i++)
		e[from + i] = cls;
}

int fw_a4_build(struct fw_tables *t)
{
	__u32 cap = FW_A4_NTOP + 64;
	struct a4p *ps = NULL;

	t->a4 = malloc((size_t)cap * sizeof(*t->a4));
	if (!t->a4)
		return -ENOMEM;
	t->na4 = FW_A4_NTOP;
	for (int f = 0; f < 2; f++) {
		__u32 np = 0;

		for (__u32 c = 0; c < FW_A4_FAN; c++)
			paint(t->a4[FW_A4_TOP(f, c)].e, 0, FW_A4_FAN,
			      t->addr_default[f]);
		free(ps);
		ps = malloc((t->naddr[f] + 1) * sizeof(*ps));
		if (!ps)
			goto nomem;
		for (__u32 i = 0; i < t->naddr[f]; i++) {
			const struct fw_addr_ent *e = &t->addr[f][i];

			if (e->fam != 4)
				continue;
			ps[np++] = (struct a4p){
				.addr = (__u32)e->addr[0] << 24 |
					(__u32)e->addr[1] << 16 |
					(__u32)e->addr[2] << 8 | e->addr[3],
				.cls = e->cls,
				.plen = e->plen};
		}
		qsort(ps, np, sizeof(*ps), a4p_cmp);
		for (__u32 i = 0; i < np; i++) {
			__u32 a = ps[i].addr, l = ps[i].plen, c = ps[i].cls;
			__u32 top = FW_A4_TOP(f, a >> 24), b1 = (a >> 16) & 255;
			long c2, c3;

			if (l <= 16) {
				/* Spans top chunks when shorter than /8. */
				__u32 span = 1u << (16 - l), from = a >> 16;

				for (__u32 j = 0; j < span; j++)
					t->a4[FW_A4_TOP(f, (from + j) >> 8)]
						.e[(from + j) & 255] = c;
				continue;
			}
			c2 = chunk_at(t, &cap, top, b1);
			if (c2 < 0)
				goto nomem;
			if (l <= 24) {
				paint(t->a4[c2].e, (a >> 8) & 255,
				      1u << (24 - l), c);
				continue;
			}
			c3 = chunk_at(t, &cap, c2, (a >> 8) & 255);
			if (c3 < 0)
				goto nomem;
			paint(t->a4[c3].e, a & 255, 1u << (32 - l), c);
		}
	}
	free(ps);
	return 0;
nomem:
	free(ps);
	free(t->a4);
	t->a4 = NULL;
	t->na4 = 0;
	return -ENOMEM;
}

__u32 fw_a4_cls(const struct fw_tables *t, int f, const __u8 *a)
{
	__u32 v = t->a4[FW_A4_TOP(f, a[0])].e[a[1]];

	if (v & FW_A4_PTR)
		v = t->a4[v & ~FW_A4_PTR].e[a[2]];
	if (v & FW_A4_PTR)
		v = t->a4[v & ~FW_A4_PTR].e[a[3]];
	return v;
}
