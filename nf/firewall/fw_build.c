// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: a rule set compiled into the data plane's tables (fw.h), in
 * memory, with no map or kernel call, so that a test checks it against a
 * plain walk of the rules (fw_rules_match) without a kernel.
 *
 * Each field's classes are the sets of rules a packet's value of that field
 * satisfies: for an address, one class per distinct rule prefix (the rules
 * whose prefix holds it, found by a walk of the prefixes in trie order);
 * for a port, one class per interval between range boundaries (a sweep);
 * for the protocol and the misc field, one per value. The work is linear
 * in the rules times the bit vectors' width: 10,000 rules compile in tens
 * of milliseconds (README).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fw_int.h"

int fw_rule_cmp(const void *a, const void *b)
{
	const struct fw_rule *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

static void bit_set(struct fw_bv *v, __u32 i)
{
	v->w[i / 64] |= 1ULL << (i % 64);
}

static void bit_clr(struct fw_bv *v, __u32 i)
{
	v->w[i / 64] &= ~(1ULL << (i % 64));
}

/* A new class (zeroed: the reservation is fresh anonymous memory); its
 * number, or -1 past the bound fw_build reserved for. */
static long cls_new(struct fw_tables *t, __u32 *cap)
{
	if (t->ncls == *cap)
		return -1;
	return t->ncls++;
}

/* Room for `cap` vectors, zeroed: reserved address space on huge pages
 * where the kernel has them. Most of the compile's time on a loaded VM was
 * page faults and realloc copies (tens of MB of vectors): one reservation
 * sized by the bound, faulted 2 MiB at a time, takes neither. */
static struct fw_bv *bv_reserve(__u32 cap, size_t *len)
{
	size_t sz = ((size_t)cap * sizeof(struct fw_bv) + (2u << 20) - 1) &
		    ~(size_t)((2u << 20) - 1);
	void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, sz, MADV_HUGEPAGE);
	*len = sz;
	return p;
}

static int pfx_has(const struct fw_pfx *outer, const __u8 *addr, __u8 fam,
		   __u8 plen)
{
	if (outer->fam != fam || outer->plen > plen)
		return 0;
	for (int i = 0; i < 16; i++) {
		int bits = (int)outer->plen - 8 * i;
		__u8 m = bits >= 8 ? 0xff : bits <= 0 ? 0 : 0xff << (8 - bits);

		if ((addr[i] & m) != outer->addr[i])
			return 0;
	}
	return 1;
}

struct pref {
	struct fw_pfx p;
	__u32 rule;
};

static int pref_cmp(const void *a, const void *b)
{
	const struct pref *x = a, *y = b;
	int c = (int)x->p.fam - (int)y->p.fam;

	if (!c)
		c = memcmp(x->p.addr, y->p.addr, 16);
	if (!c)
		c = (int)x->p.plen - (int)y->p.plen;
	return c;
}

/* The classes of address field f (0 src, 1 dst). */
static int build_addr(const struct fw_rule *rules, __u32 n, int f,
		      struct fw_tables *t, __u32 *cap)
{
	struct pref *ps = malloc((n + 1) * sizeof(*ps));
	__u32 *stack = malloc((n + 1) * sizeof(*stack)); /* entry indexes */
	__u32 np = 0, sp = 0, ne = 0;
	long def = cls_new(t, cap);

	if (!ps || !stack || def < 0)
		goto nomem;
	t->addr_default[f] = def;
	for (__u32 i = 0; i < n; i++) {
		const struct fw_pfx *p = f ? &rules[i].dst : &rules[i].src;

		if (!p->fam)
			bit_set(&t->bv[def], i);
		else
			ps[np++] = (struct pref){*p, i};
	}
	qsort(ps, np, sizeof(*ps), pref_cmp);
	t->addr[f] = calloc(np + 1, sizeof(struct fw_addr_ent));
	if (!t->addr[f])
		goto nomem;
	for (__u32 i = 0; i < np;) {
		struct fw_addr_ent *e = &t->addr[f][ne];
		long c = cls_new(t, cap);
		__u32 j;

		if (c < 0)
			goto nomem;
		/* The stack holds the distinct prefixes that hold this one,
		 * the innermost on top: trie order makes it so. */
		while (sp && !pfx_has(&ps[stack[sp - 1]].p, ps[i].p.addr,
				      ps[i].p.fam, ps[i].p.plen))
			sp--;
		memcpy(t->bv[c].w,
		       t->bv[sp ? t->addr[f][stack[sp - 1]].cls : def].w,
		       t->nwords * sizeof(__u64));
		for (j = i; j < np && !pref_cmp(&ps[j], &ps[i]); j++)
			bit_set(&t->bv[c], ps[j].rule);
		e->fam = ps[i].p.fam;
		e->plen = ps[i].p.plen;
		memcpy(e->addr, ps[i].p.addr, 16);
		e->cls = c;
		/* stack keeps entry numbers; ps index i maps to entry ne */
		ps[ne].p = ps[i].p; /* entry ne's prefix, for later tests */
		stack[sp++] = ne;
		ne++;
		i = j;
	}
	t->naddr[f] = ne;
	free(ps);
	free(stack);
	return 0;
nomem:
	free(ps);
	free(stack);
	return -ENOMEM;
}

struct pev {
	__u32 at; /* port where the change happens (hi + 1 may be 65536) */
	__u32 rule;
	int add;
};

static int pev_cmp(const void *a, const void *b)
{
	const struct pev *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

/* The classes of port field f (0 sport, 1 dport): a sweep over the range
 * boundaries, each interval between two a class. */
static int build_port(const struct fw_rule *rules, __u32 n, int f,
		      struct fw_tables *t, __u32 *cap)
{
	size_t nev = 0;
	struct pev *ev;
	__u16 *cnt = calloc(n + 1, sizeof(*cnt));
	struct fw_bv *cur = calloc(1, sizeof(*cur));
	long wild = cls_new(t, cap);
	__u32 port = 0;
	size_t e = 0;

	for (__u32 i = 0; i < n; i++)
		nev += 2 * (f ? rules[i].ndport : rules[i].nsport);
	ev = malloc((nev + 1) * sizeof(*ev));
	t->port[f] = malloc(FW_PORT_STRIDE * sizeof(__u32));
	if (!ev || !cnt || !cur || wild < 0 || !t->port[f])
		goto nomem;
	nev = 0;
	for (__u32 i = 0; i < n; i++) {
		const struct fw_range *r = f ? rules[i].dport : rules[i].sport;
		unsigned nr = f ? rules[i].ndport : rules[i].nsport;

		if (!nr)
			bit_set(&t->bv[wild], i);
		for (unsigned k = 0; k < nr; k++) {
			ev[nev++] = (struct pev){r[k].lo, i, 1};
			ev[nev++] = (struct pev){r[k].hi + 1u, i, 0};
		}
	}
	qsort(ev, nev, sizeof(*ev), pev_cmp);
	memcpy(cur->w, t->bv[wild].w, t->nwords * sizeof(__u64));
	t->port[f][FW_NOPORT] = wild;
	while (port < FW_NOPORT) {
		__u32 next = FW_NOPORT;
		long c;

		for (; e < nev && ev[e].at <= port; e++) {
			__u32 r = ev[e].rule;

			if (ev[e].add) {
				if (!cnt[r]++)
					bit_set(cur, r);
			} else if (!--cnt[r]) {
				bit_clr(cur, r);
			}
		}
		if (e < nev && ev[e].at < next)
			next = ev[e].at;
		if (!nev) {
			c = wild;
		} else {
			c = cls_new(t, cap);
			if (c < 0)
				goto nomem;
			memcpy(t->bv[c].w, cur->w, t->nwords * sizeof(__u64));
		}
		for (__u32 p = port; p < next; p++)
			t->port[f][p] = c;
		port = next;
	}
	free(ev);
	free(cnt);
	free(cur);
	return 0;
nomem:
	free(ev);
	free(cnt);
	free(cur);
	return -ENOMEM;
}

static int misc_ok(const struct fw_rule *r, __u32 m)
{
	__u32 dir = m & 1, v6 = (m >> 1) & 1, st = m >> 2;

	return (!r->dir || r->dir - 1u == dir) &&
	       (!r->fam || r->fam == (v6 ? 6 : 4)) &&
	       (!r->state || (r->state & (1 << st)));
}

static int only_misc(const struct fw_rule *r)
{
	return !r->src.fam && !r->dst.fam && r->proto < 0 && !r->nsport &&
	       !r->ndport;
}

int fw_build(const struct fw_rule *rules, __u32 n, struct fw_tables *t)
{
	__u32 cap = 0;
	int r;

	memset(t, 0, sizeof(*t));
	if (n > FW_MAX_RULES)
		return -E2BIG;
	t->nrules = n;
	t->nwords = (n + 63) / 64;
	t->nsums = (t->nwords + 63) / 64;
	t->act = calloc(n + 1, sizeof(__u32));
	t->num = calloc(n + 1, sizeof(__u32));
	if (!t->act || !t->num)
		goto nomem;
	/* Every class there can be: misc, proto, a default and one per
	 * prefix for each address field, a wildcard and one per interval
	 * between range boundaries for each port field. */
	cap = FW_CLS_FREE + 2 * (n + 1);
	for (__u32 i = 0; i < n; i++)
		cap += 2 * (rules[i].nsport + rules[i].ndport);
	cap += 2 * 2;
	t->bv = bv_reserve(cap, &t->bvlen);
	if (!t->bv)
		goto nomem;
	for (__u32 m = 0; m < FW_NMISC; m++) {
		long c = cls_new(t, &cap);

		if (c < 0)
			goto nomem;
		t->shortcut[m] = FW_SC_DEFAULT;
		for (__u32 i = 0; i < n; i++) {
			if (!misc_ok(&rules[i], m))
				continue;
			bit_set(&t->bv[c], i);
			if (t->shortcut[m] == FW_SC_DEFAULT)
				t->shortcut[m] = only_misc(&rules[i])
							 ? (__s32)i
							 : FW_SC_NONE;
		}
	}
	for (__u32 p = 0; p < 256; p++) {
		long c = cls_new(t, &cap);

		if (c < 0)
			goto nomem;
		for (__u32 i = 0; i < n; i++)
			if (rules[i].proto < 0 || rules[i].proto == (int)p)
				bit_set(&t->bv[c], i);
	}
	for (int f = 0; f < 2; f++) {
		r = build_addr(rules, n, f, t, &cap);
		if (!r)
			r = build_port(rules, n, f, t, &cap);
		if (r)
			goto fail;
	}
	r = fw_at_build(t);
	if (r)
		goto fail;
	for (__u32 i = 0; i < n; i++) {
		t->act[i] = rules[i].action;
		t->num[i] = rules[i].num;
	}
	for (__u32 c = 0; c < t->ncls; c++)
		for (__u32 w = 0; w < t->nwords; w++)
			if (t->bv[c].w[w])
				t->bv[c].sum[w / 64] |= 1ULL << (w % 64);
	return 0;
nomem:
	r = -ENOMEM;
fail:
	fw_tables_free(t);
	return r;
}

void fw_tables_free(struct fw_tables *t)
{
	if (t->bv)
		munmap(t->bv, t->bvlen);
	for (int f = 0; f < 2; f++) {
		free(t->addr[f]);
		free(t->port[f]);
	}
	free(t->act);
	free(t->num);
	free(t->at);
	memset(t, 0, sizeof(*t));
}

static __u32 addr_cls(const struct fw_tables *t, int f, int v6, const __u8 *a)
{
	__u32 best = t->addr_default[f];
	int bl = -1;

	/* As the data plane looks it up, so that the tests check the
	 * multibit table against the walk too. */
	if (t->at && (!v6 || !t->at6_lpm[f]))
		return fw_at_cls(t, f, v6, a);
	for (__u32 i = 0; i < t->naddr[f]; i++) {
		const struct fw_addr_ent *e = &t->addr[f][i];
		struct fw_pfx p = {.fam = e->fam, .plen = e->plen};

		memcpy(p.addr, e->addr, 16);
		if (e->fam == (v6 ? 6 : 4) && e->plen > bl &&
		    pfx_has(&p, a, e->fam, v6 ? 128 : 32)) {
			best = e->cls;
			bl = e->plen;
		}
	}
	return best;
}

int fw_tables_classify(const struct fw_tables *t, int dir, int v6, int state,
		       int proto, const __u8 *src, const __u8 *dst, int sport,
		       int dport)
{
	__u32 m = FW_MISC(dir, v6, state), c[6];

	if (t->shortcut[m] != FW_SC_NONE)
		return t->shortcut[m] == FW_SC_DEFAULT ? -1 : t->shortcut[m];
	c[0] = m;
	c[1] = FW_CLS_PROTO + proto;
	c[2] = addr_cls(t, 0, v6, src);
	c[3] = addr_cls(t, 1, v6, dst);
	c[4] = t->port[0][sport < 0 ? FW_NOPORT : sport];
	c[5] = t->port[1][dport < 0 ? FW_NOPORT : dport];
	for (__u32 s = 0; s < t->nsums; s++) {
		__u64 S = ~0ULL;

		for (int f = 0; f < 6; f++)
			S &= t->bv[c[f]].sum[s];
		while (S) {
			__u32 w = s * 64 + __builtin_ctzll(S);
			__u64 W = ~0ULL;

			S &= S - 1;
			for (int f = 0; f < 6; f++)
				W &= t->bv[c[f]].w[w];
			if (W)
				return w * 64 + __builtin_ctzll(W);
		}
	}
	return -1;
}

static int in_ranges(const struct fw_range *r, unsigned n, int port)
{
	if (!n)
		return 1;
	if (port < 0)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (port >= r[i].lo && port <= r[i].hi)
			return 1;
	return 0;
}

int fw_rules_match(const struct fw_rule *rules, __u32 n, int dir, int v6,
		   int state, int proto, const __u8 *src, const __u8 *dst,
		   int sport, int dport)
{
	__u8 fam = v6 ? 6 : 4, plen = v6 ? 128 : 32;

	for (__u32 i = 0; i < n; i++) {
		const struct fw_rule *r = &rules[i];

		if (!misc_ok(r, FW_MISC(dir, v6, state)))
			continue;
		if (r->proto >= 0 && r->proto != proto)
			continue;
		if (r->src.fam && !pfx_has(&r->src, src, fam, plen))
			continue;
		if (r->dst.fam && !pfx_has(&r->dst, dst, fam, plen))
			continue;
		if (!in_ranges(r->sport, r->nsport, sport) ||
		    !in_ranges(r->dport, r->ndport, dport))
			continue;
		return i;
	}
	return -1;
}
