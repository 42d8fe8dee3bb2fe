// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: a compiled rule set (fw_build.c) written into the half of the
 * tables the data plane does not read, then switched in by one write of
 * fw_set's live entry (fw.h). The hits of the rules that stay (by number)
 * are carried over into the new half, so `rules show` keeps counting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "nfchain/nf.h"
#include "fw_int.h"

/* Writes n entries (keys 0..n-1 given, values `vsz` bytes each) in one
 * batch, entry by entry where the kernel refuses batches. */
static int write_many(int fd, const void *keys, size_t ksz, const void *vals,
		      size_t vsz, __u32 n)
{
	__u32 cnt = n;
	LIBBPF_OPTS(bpf_map_batch_opts, o);

	if (!n)
		return 0;
	if (!bpf_map_update_batch(fd, keys, vals, &cnt, &o) && cnt == n)
		return 0;
	for (__u32 i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * ksz,
					(const char *)vals + i * vsz, BPF_ANY))
			return -errno;
	return 0;
}

/* The locator (fw.h, FW_LOC) of each class into loc: misc and proto
 * classes at their fixed entries, the others packed back to back, each
 * its summary and the set's words. The entries needed. */
static __u32 pk_layout(const struct fw_tables *t, __u32 *loc)
{
	__u32 e = FW_CLS_FREE, off = 0, len = t->nsums + t->nwords;

	for (__u32 c = 0; c < t->ncls; c++) {
		if (c < FW_CLS_FREE) {
			loc[c] = FW_LOC(c, 0);
			continue;
		}
		if (off + len > FW_PK_WORDS) {
			e++;
			off = 0;
		}
		loc[c] = FW_LOC(e, off);
		off += len;
	}
	if (t->ncls <= FW_CLS_FREE)
		return t->ncls ? t->ncls : 1;
	return e + (off > 0);
}

/* A table entry's class as its locator (anything else kept). */
static __u32 pk_loc(const __u32 *loc, __u32 ncls, __u32 c)
{
	return c < ncls ? loc[c] : c;
}

/* The set's vectors, packed (pk_layout), into the (zeroed) mmapable
 * inner map of n entries. */
static int bv_copy(int fd, const struct fw_tables *t, const __u32 *loc, __u32 n)
{
	size_t len = (size_t)n * sizeof(struct fw_pk);
	__u64 *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED)
		return -errno;
	for (__u32 c = 0; c < t->ncls; c++) {
		__u64 *d = m + ((size_t)(loc[c] >> FW_PK_SHIFT) * FW_PK_WORDS +
				(loc[c] & (FW_PK_WORDS - 1)));

		memcpy(d, t->bv[c].sum, t->nsums * sizeof(__u64));
		memcpy(d + t->nsums, t->bv[c].w, t->nwords * sizeof(__u64));
	}
	munmap(m, len);
	return 0;
}

/* Every entry of LPM trie fd in half h removed. */
static int trie_clear(int fd, __u8 h)
{
	struct fw_addr_key k, next, *prev = NULL, *del = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (k.half != h)
			continue;
		if (n == cap) {
			void *p = realloc(del, (cap = cap ? 2 * cap : 256) *
						       sizeof(*del));

			if (!p) {
				free(del);
				return -ENOMEM;
			}
			del = p;
		}
		del[n++] = k;
	}
	if (n) {
		__u32 cnt = n;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		/* One call where the kernel batches deletes. */
		if (!bpf_map_delete_batch(fd, del, &cnt, &o) && cnt == n)
			n = 0;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &del[i]) && errno != ENOENT)
			r = -errno;
	free(del);
	return r;
}

static int trie_fill(int fd, __u8 h, const struct fw_tables *t, int f,
		     const __u32 *loc)
{
	__u32 n = 1, *vals = calloc(t->naddr[f] + 1, sizeof(*vals));
	struct fw_addr_key *keys = calloc(t->naddr[f] + 1, sizeof(*keys));
	int r;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	keys[0] = (struct fw_addr_key){.prefixlen = 8, .half = h};
	vals[0] = pk_loc(loc, t->ncls, t->addr_default[f]);
	for (__u32 i = 0; i < t->naddr[f]; i++) {
		const struct fw_addr_ent *e = &t->addr[f][i];

		if (e->fam == 4 || !t->at6_lpm[f]) /* in fw_at */
			continue;
		keys[n].prefixlen = FW_ADDR_HDR_BITS + e->plen;
		keys[n].half = h;
		keys[n].fam = e->fam;
		memcpy(keys[n].addr, e->addr, 16);
		vals[n++] = pk_loc(loc, t->ncls, e->cls);
	}
	r = write_many(fd, keys, sizeof(*keys), vals, sizeof(*vals), n);
	free(keys);
	free(vals);
	return r;
}

/* The address table (fw.h, fw_at) of half h: a new inner map, filled
 * through a mapping (one copy, where a batch update costs a syscall
 * element by element inside the kernel). */
static int at_write(int outer, __u32 h, const struct fw_tables *t,
		    const __u32 *loc)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo,
		    .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	size_t len = (size_t)t->nat * sizeof(*t->at);
	int fd, r = 0;
	void *m;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fw_at_inner", sizeof(__u32),
			    sizeof(*t->at), t->nat, &mo);
	if (fd < 0)
		return -errno;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	{
		const __u32 *from = (const __u32 *)t->at;
		__u32 *to = m;

		for (size_t i = 0; i < (size_t)t->nat * FW_AT_FAN; i++)
			to[i] = from[i] & FW_AT_PTR || from[i] == FW_AT_LPM
					? from[i]
					: pk_loc(loc, t->ncls, from[i]);
	}
	munmap(m, len);
	if (bpf_map_update_elem(outer, &h, &fd, BPF_ANY))
		r = -errno;
out:
	close(fd);
	return r;
}

struct carry {
	__u32 num, idx;
};

static int carry_cmp(const void *a, const void *b)
{
	const struct carry *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

/* NFC_FW_TIMING=1: the parts of a write, to stderr. */
static void lap(const char *what, uint64_t *t0)
{
	uint64_t t = nfc_now_ns();

	if (getenv("NFC_FW_TIMING"))
		fprintf(stderr, "#   %s: %.1f ms\n", what, (t - *t0) / 1e6);
	*t0 = t;
}

int fw_tables_write(struct nfc_nf *nf, const struct fw_tables *t)
{
	uint64_t t0 = nfc_now_ns();
	int sfd = nfc_nf_map_fd(nf, "fw_set"), bfd = nfc_nf_map_fd(nf, "fw_bv"),
	    srcfd = nfc_nf_map_fd(nf, "fw_src"),
	    dstfd = nfc_nf_map_fd(nf, "fw_dst"),
	    pfd = nfc_nf_map_fd(nf, "fw_port"),
	    afd = nfc_nf_map_fd(nf, "fw_act"),
	    hfd = nfc_nf_map_fd(nf, "fw_hits"),
	    atfd = nfc_nf_map_fd(nf, "fw_at");
	unsigned ncpu = nfc_ncpus();
	struct fw_set live = {0}, old = {0}, ns = {0};
	__u32 k = FW_SET_LIVE, h, *keys = NULL, inner_fd = -1, *loc = NULL,
	      *pv = NULL, npk;
	struct fw_act *acts = NULL;
	struct carry *oldn = NULL;
	struct fw_hit *hv = NULL, *before = NULL;
	__s32 *from = NULL;
	int r;
	LIBBPF_OPTS(bpf_map_create_opts, mo,
		    .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);

	if (sfd < 0 || bfd < 0 || srcfd < 0 || dstfd < 0 || pfd < 0 ||
	    afd < 0 || hfd < 0 || atfd < 0)
		return nfc_nf_error(nf, ENOENT, "firewall maps not found");
	bpf_map_lookup_elem(sfd, &k, &live);
	k = FW_SET_HALF(live.live & 1);
	bpf_map_lookup_elem(sfd, &k, &old);
	h = !(live.live & 1);
	keys = malloc((FW_PORT_STRIDE > t->ncls ? FW_PORT_STRIDE : t->ncls) *
		      sizeof(__u32));
	acts = calloc(t->nrules + 1, sizeof(*acts));
	oldn = calloc(old.nrules + 1, sizeof(*oldn));
	hv = calloc(ncpu, sizeof(*hv));
	before = calloc((size_t)(t->nrules + 1) * ncpu, sizeof(*before));
	from = calloc(t->nrules + 1, sizeof(*from));
	loc = calloc(t->ncls + 1, sizeof(*loc));
	pv = calloc(FW_PORT_STRIDE, sizeof(*pv));
	if (!keys || !acts || !oldn || !hv || !before || !from || !loc || !pv) {
		r = nfc_nf_error(nf, ENOMEM, "rules: out of memory");
		goto out;
	}

	/* The bit vectors: a new inner map, sized to this set's vectors. */
	npk = pk_layout(t, loc);
	inner_fd =
		bpf_map_create(BPF_MAP_TYPE_ARRAY, "fw_bv_inner", sizeof(__u32),
			       sizeof(struct fw_pk), npk, &mo);
	if ((int)inner_fd < 0) {
		r = nfc_nf_error(
			nf, errno,
			"rules: %u classes in %u entries of %zu bytes: "
			"make the bit vector table: %s",
			t->ncls, npk, sizeof(struct fw_pk), strerror(errno));
		goto out;
	}
	if (getenv("NFC_FW_TIMING"))
		fprintf(stderr, "#   vectors: %u entries, %.1f MB\n", npk,
			npk * sizeof(struct fw_pk) / 1e6);
	lap("vectors: map made", &t0);
	r = bv_copy(inner_fd, t, loc, npk);
	if (!r && bpf_map_update_elem(bfd, &h, &inner_fd, BPF_ANY))
		r = -errno;
	if (r) {
		r = nfc_nf_error(nf, -r, "rules: write the bit vectors: %s",
				 strerror(-r));
		goto out;
	}

	lap("vectors: copied, switched", &t0);
	/* Addresses and ports. */
	r = trie_clear(srcfd, h);
	if (!r)
		r = trie_clear(dstfd, h);
	if (!r)
		r = trie_fill(srcfd, h, t, 0, loc);
	if (!r)
		r = trie_fill(dstfd, h, t, 1, loc);
	lap("tries", &t0);
	if (!r)
		r = at_write(atfd, h, t, loc);
	lap("address table", &t0);
	for (int f = 0; f < 2 && !r; f++) {
		for (__u32 p = 0; p < FW_PORT_STRIDE; p++) {
			keys[p] = FW_PORT_IDX(h, f, p);
			pv[p] = pk_loc(loc, t->ncls, t->port[f][p]);
		}
		r = write_many(pfd, keys, sizeof(__u32), pv, sizeof(__u32),
			       FW_PORT_STRIDE);
	}
	if (r) {
		r = nfc_nf_error(nf, -r, "rules: write the field tables: %s",
				 strerror(-r));
		goto out;
	}

	lap("ports", &t0);
	/* Actions, and the hits of rules that stay. */
	for (__u32 i = 0; i < old.nrules && i < FW_MAX_RULES; i++) {
		struct fw_act a = {0};
		__u32 ki = FW_ACT_IDX(!h, i);

		bpf_map_lookup_elem(afd, &ki, &a);
		oldn[i] = (struct carry){a.num, i};
	}
	qsort(oldn, old.nrules, sizeof(*oldn), carry_cmp);
	for (__u32 i = 0; i < t->nrules; i++) {
		struct carry key = {t->num[i], 0}, *c;
		__u32 ki = FW_ACT_IDX(h, i);

		acts[i] = (struct fw_act){t->act[i], t->num[i]};
		keys[i] = ki;
		c = bsearch(&key, oldn, old.nrules, sizeof(*oldn), carry_cmp);
		from[i] = c ? (__s32)c->idx : -1;
		memset(hv, 0, ncpu * sizeof(*hv));
		if (c) {
			__u32 ko = FW_ACT_IDX(!h, c->idx);

			bpf_map_lookup_elem(hfd, &ko, hv);
			memcpy(&before[(size_t)i * ncpu], hv,
			       ncpu * sizeof(*hv));
		}
		if (bpf_map_update_elem(hfd, &ki, hv, BPF_ANY)) {
			r = nfc_nf_error(nf, errno, "rules: write hits: %s",
					 strerror(errno));
			goto out;
		}
	}
	r = write_many(afd, keys, sizeof(__u32), acts, sizeof(*acts),
		       t->nrules);
	if (r) {
		r = nfc_nf_error(nf, -r, "rules: write actions: %s",
				 strerror(-r));
		goto out;
	}

	lap("actions, hits", &t0);
	/* The switch: the half's description, then the one write that makes
	 * it live. */
	ns.nrules = t->nrules;
	ns.nsums = t->nsums;
	ns.gen = live.gen + 1;
	memcpy(ns.shortcut, t->shortcut, sizeof(ns.shortcut));
	k = FW_SET_HALF(h);
	if (bpf_map_update_elem(sfd, &k, &ns, BPF_ANY)) {
		r = nfc_nf_error(nf, errno, "rules: write the set: %s",
				 strerror(errno));
		goto out;
	}
	live.live = h;
	live.gen++;
	k = FW_SET_LIVE;
	if (bpf_map_update_elem(sfd, &k, &live, BPF_ANY)) {
		r = nfc_nf_error(nf, errno, "rules: switch to the new set: %s",
				 strerror(errno));
		goto out;
	}

	/* Hits the old half took between the copy and the switch. */
	for (__u32 i = 0; i < t->nrules; i++) {
		__u32 ko, ki = FW_ACT_IDX(h, i);
		struct fw_hit *b = &before[(size_t)i * ncpu];
		int moved = 0;

		if (from[i] < 0)
			continue;
		ko = FW_ACT_IDX(!h, from[i]);
		if (bpf_map_lookup_elem(hfd, &ko, hv))
			continue;
		for (unsigned c = 0; c < ncpu; c++)
			if (hv[c].packets != b[c].packets)
				moved = 1;
		if (!moved)
			continue;
		for (unsigned c = 0; c < ncpu; c++) {
			b[c].packets = hv[c].packets - b[c].packets;
			b[c].bytes = hv[c].bytes - b[c].bytes;
		}
		if (bpf_map_lookup_elem(hfd, &ki, hv))
			continue;
		for (unsigned c = 0; c < ncpu; c++) {
			hv[c].packets += b[c].packets;
			hv[c].bytes += b[c].bytes;
		}
		bpf_map_update_elem(hfd, &ki, hv, BPF_ANY);
	}
	lap("switch, hits carried", &t0);
	r = 0;
out:
	if ((int)inner_fd >= 0)
		close(inner_fd);
	free(keys);
	free(acts);
	free(oldn);
	free(hv);
	free(before);
	free(from);
	free(loc);
	free(pv);
	return r;
}

/* The live set's rule numbers and hits, in rule order; how many. */
int fw_hits_read(struct nfc_nf *nf, struct fw_hit *sum, __u32 *nums, __u32 n)
{
	int sfd = nfc_nf_map_fd(nf, "fw_set"),
	    afd = nfc_nf_map_fd(nf, "fw_act"),
	    hfd = nfc_nf_map_fd(nf, "fw_hits");
	struct fw_set live = {0}, s = {0};
	__u32 k = FW_SET_LIVE, h;

	if (sfd < 0 || afd < 0 || hfd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(sfd, &k, &live))
		return -errno;
	h = live.live & 1;
	k = FW_SET_HALF(h);
	if (bpf_map_lookup_elem(sfd, &k, &s))
		return -errno;
	for (__u32 i = 0; i < s.nrules && i < n; i++) {
		struct fw_act a = {0};
		__u32 ki = FW_ACT_IDX(h, i);

		bpf_map_lookup_elem(afd, &ki, &a);
		nums[i] = a.num;
		sum[i].packets =
			nfc_percpu_sum(hfd, ki, sizeof(struct fw_hit), 0);
		sum[i].bytes =
			nfc_percpu_sum(hfd, ki, sizeof(struct fw_hit), 8);
	}
	return s.nrules < n ? (int)s.nrules : (int)n;
}
