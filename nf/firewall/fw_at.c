// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: the address classes as a multibit trie (fw.h, fw_at), built
 * from the distinct rule prefixes fw_build found. Prefixes are painted
 * shortest first, so that a longer one overwrites the part of a shorter
 * one it covers: each entry ends with the class of the longest prefix
 * holding its addresses, which is the class the LPM trie gives. Painting
 * is bounded by the table's size per prefix length (distinct prefixes of
 * one length cover disjoint entries), not by rules times entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_int.h"

struct atp {
	const __u8 *addr;
	__u32 cls;
	__u8 plen;
};

static int atp_cmp(const void *a, const void *b)
{
	const struct atp *x = a, *y = b;

	return (int)x->plen - (int)y->plen;
}

/* A new chunk every entry of which is `fill`; its number, or -1. */
static long chunk_new(struct fw_tables *t, __u32 *cap, __u32 fill)
{
	if (t->nat == *cap) {
		__u32 nc = 2 * *cap;
		void *p;

		if (nc >= FW_AT_PTR)
			return -1;
		p = realloc(t->at, (size_t)nc * sizeof(*t->at));
		if (!p)
			return -1;
		t->at = p;
		*cap = nc;
	}
	for (__u32 i = 0; i < FW_AT_FAN; i++)
		t->at[t->nat].e[i] = fill;
	return t->nat++;
}

/* Entry `e` of chunk `c` made a pointer to a chunk (a new one holding its
 * class, if it is a class); the chunk's number, or -1. */
static long chunk_at(struct fw_tables *t, __u32 *cap, __u32 c, __u32 e)
{
	__u32 v = t->at[c].e[e];
	long n;

	if (v & FW_AT_PTR)
		return v & ~FW_AT_PTR;
	n = chunk_new(t, cap, v);
	if (n >= 0)
		t->at[c].e[e] = FW_AT_PTR | (__u32)n;
	return n;
}

static void paint(__u32 *e, __u32 from, __u32 count, __u32 cls)
{
	for (__u32 i = 0; i < count; i++)
		e[from + i] = cls;
}

/* Paints one prefix of field f, family v6; 0 or -ENOMEM. */
static int paint_pfx(struct fw_tables *t, __u32 *cap, int f, int v6,
		     const struct atp *p)
{
	const __u8 *a = p->addr;
	__u32 l = p->plen;
	long cur, nc;
	__u32 idx;

	if (l <= 16) {
		/* Spans top chunks when shorter than /8. */
		__u32 span = 1u << (16 - l), from = a[0] << 8 | a[1];

		for (__u32 j = 0; j < span; j++)
			t->at[FW_AT_TOP(v6, f, (from + j) >> 8)]
				.e[(from + j) & 255] = p->cls;
		return 0;
	}
	cur = FW_AT_TOP(v6, f, a[0]);
	idx = a[1];
	for (__u32 i = 2; i < 16; i++) {
		nc = chunk_at(t, cap, cur, idx);
		if (nc < 0)
			return -ENOMEM;
		if (l <= 8 * (i + 1)) {
			paint(t->at[nc].e, a[i], 1u << (8 * (i + 1) - l),
			      p->cls);
			return 0;
		}
		cur = nc;
		idx = a[i];
	}
	return 0;
}

int fw_at_build(struct fw_tables *t)
{
	__u32 cap = FW_AT_NTOP + 64;
	struct atp *ps = NULL;

	t->at = malloc((size_t)cap * sizeof(*t->at));
	if (!t->at)
		return -ENOMEM;
	t->nat = FW_AT_NTOP;
	for (int f = 0; f < 2; f++) {
		for (int v6 = 0; v6 < 2; v6++) {
			__u32 np = 0, before = t->nat;

			for (__u32 c = 0; c < FW_AT_FAN; c++)
				paint(t->at[FW_AT_TOP(v6, f, c)].e, 0,
				      FW_AT_FAN, t->addr_default[f]);
			free(ps);
			ps = malloc((t->naddr[f] + 1) * sizeof(*ps));
			if (!ps)
				goto nomem;
			for (__u32 i = 0; i < t->naddr[f]; i++) {
				const struct fw_addr_ent *e = &t->addr[f][i];

				if (e->fam == (v6 ? 6 : 4))
					ps[np++] = (struct atp){e->addr, e->cls,
								e->plen};
			}
			qsort(ps, np, sizeof(*ps), atp_cmp);
			if (v6 && np && np < FW_AT_V6_MIN)
				goto lpm;
			for (__u32 i = 0; i < np; i++) {
				if (paint_pfx(t, &cap, f, v6, &ps[i]))
					goto nomem;
				if (v6 && t->nat - before > FW_AT_V6_CHUNKS)
					break;
			}
			if (!v6 || t->nat - before <= FW_AT_V6_CHUNKS)
				continue;
		lpm:
			/* Too few IPv6 prefixes for the table to beat the
			 * trie, or too many chunks for them: the LPM trie
			 * answers instead. */
			t->nat = before;
			t->at6_lpm[f] = 1;
			for (__u32 c = 0; c < FW_AT_FAN; c++)
				paint(t->at[FW_AT_TOP(1, f, c)].e, 0, FW_AT_FAN,
				      FW_AT_LPM);
		}
	}
	free(ps);
	return 0;
nomem:
	free(ps);
	free(t->at);
	t->at = NULL;
	t->nat = 0;
	return -ENOMEM;
}

__u32 fw_at_cls(const struct fw_tables *t, int f, int v6, const __u8 *a)
{
	__u32 v = t->at[FW_AT_TOP(v6, f, a[0])].e[a[1]];

	for (int i = 2; i < (v6 ? 16 : 4) && (v & FW_AT_PTR); i++)
		v = t->at[v & ~FW_AT_PTR].e[a[i]];
	return v;
}
