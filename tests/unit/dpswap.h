/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Atomic rule sets at the packet level, with dptest.h: a sender thread
 * runs frames one after the other through a pinned program
 * (BPF_PROG_TEST_RUN, one frame a run) while the main thread swaps a whole
 * set (apply, nfc_coll_replace, an import), and each frame tells which set
 * decided it (the test's kind()). dps_during checks that both sets decided
 * frames (the swap happened while they flowed), that no frame was decided
 * by neither, and that the sets never alternate: once a frame was decided
 * by the new set, no later one is decided by the old. One thread sends, so
 * "later" is exact. Used by nf/router/tests/test_rt_swap.c and
 * nf/ddos/tests/test_dd_swap.c.
 */
#ifndef NFC_DPSWAP_H
#define NFC_DPSWAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "dptest.h"

#define DPS_KINDS 8

struct dps {
	/* Given by the test. */
	struct nfc *nfc;	 /* for the swap's error */
	const char *root, *prog; /* the program under root (nf/0-r1/prog) */
	__u32 nf;		 /* the metadata's NF, as a stub sets it */
	unsigned nprobes;
	/* Probe k's frame (64 bytes). */
	void (*frame)(unsigned k, __u8 *f);
	/* Which set decided probe k, given what the run gave; a kind other
	 * than old and new is "neither" (why says what it got). */
	int (*kind)(unsigned k, const struct dpt_run *r, char *why, size_t len);
	/* Set by dps_during. */
	pthread_t th;
	int prog_fd, meta_fd;
	atomic_int stop;
	int old, new;
	unsigned long n[DPS_KINDS], flips;
	int seen_new;
	char other[160]; /* the first frame decided by neither */
};

static inline void *dps_send_loop(void *arg)
{
	struct dps *s = arg;
	int ncpu = libbpf_num_possible_cpus();
	struct nfc_meta *m = calloc(ncpu, sizeof(*m));
	unsigned k = 0;
	__u32 zero = 0;
	__u8 f[64];

	while (m && !atomic_load(&s->stop)) {
		struct dpt_run r;
		char why[128];
		int kind;

		/* The metadata a stub sets, again before each frame: the
		 * kernel's own chatter on a veth could overwrite it. */
		for (int c = 0; c < ncpu; c++)
			m[c] = (struct nfc_meta){.nf = s->nf, .in_port = 0};
		bpf_map_update_elem(s->meta_fd, &zero, m, BPF_ANY);
		/* A stride prime to the probes' count: every probe, in a
		 * mixed order. */
		k = (k + 7919) % s->nprobes;
		s->frame(k, f);
		/* A run the kernel cut short (a signal: -EINTR) never ran
		 * the program, so it tells nothing about the sets. */
		for (int t = 0; t < 3; t++)
			if (dpt_run_fd(s->prog_fd, f, 64, 0, 1, 0, &r) !=
			    -EINTR)
				break;
		why[0] = 0;
		kind = s->kind(k, &r, why, sizeof(why));
		if (kind < 0 || kind >= DPS_KINDS)
			kind = DPS_KINDS - 1;
		if (kind != s->old && kind != s->new && !s->other[0])
			snprintf(s->other, sizeof(s->other), "probe %u: %s", k,
				 why);
		s->n[kind]++;
		if (kind == s->new)
			s->seen_new = 1;
		else if (kind == s->old && s->seen_new)
			s->flips++;
	}
	free(m);
	return NULL;
}

/* The running document with collection `coll` of NF `nf` made `set`
 * (taken), applied: a swap by apply. */
static inline int dps_apply_coll(struct nfc *nfc, const char *nf,
				 const char *coll, json_t *set)
{
	json_t *doc = nfc_export(nfc), *n;
	size_t i;
	int r = -1;

	json_array_foreach (json_object_get(doc, "nfs"), i, n) {
		json_t *colls = json_object_get(n, "collections");

		if (strcmp(json_string_value(json_object_get(n, "name")), nf))
			continue;
		if (!colls) {
			colls = json_object();
			json_object_set_new(n, "collections", colls);
		}
		json_object_set(colls, coll, set);
		r = nfc_apply(nfc, doc, 0, NULL);
	}
	json_decref(set);
	json_decref(doc);
	return r;
}

static inline void dps_sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/* Runs swap(set) while the sender runs, frames decided by set `old`
 * before it and `new` after; checks what they met. */
static inline void dps_during(struct dps *s, const char *what, int old, int new,
			      int (*swap)(char), char set)
{
	struct timespec t0, t1;
	unsigned long all = 0;
	int r;

	memset(s->n, 0, sizeof(s->n));
	s->flips = 0;
	s->seen_new = 0;
	s->other[0] = 0;
	s->old = old;
	s->new = new;
	atomic_store(&s->stop, 0);
	s->prog_fd = dpt_pinned(s->root, s->prog);
	s->meta_fd = dpt_pinned(s->root, "meta");
	if (s->prog_fd < 0 || s->meta_fd < 0 ||
	    pthread_create(&s->th, NULL, dps_send_loop, s)) {
		CHECK(0, "%s: start the sender", what);
		return;
	}
	dps_sleep_ms(100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = swap(set);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dps_sleep_ms(100);
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->prog_fd);
	close(s->meta_fd);
	CHECK(!r, "%s: accepted%s%s", what, r ? ": " : "",
	      r ? nfc_errmsg(s->nfc) : "");
	for (int i = 0; i < DPS_KINDS; i++)
		all += s->n[i];
	printf("# %s: took %.0f ms; %lu frames: %lu by the old set, %lu by "
	       "the new, %lu by neither; %lu by the old after the new\n",
	       what,
	       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
	       all, s->n[old], s->n[new], all - s->n[old] - s->n[new],
	       s->flips);
	if (s->other[0])
		printf("# %s: the first frame decided by neither: %s\n", what,
		       s->other);
	CHECK(all == s->n[old] + s->n[new],
	      "%s: no frame met a half-made set (%lu by neither)", what,
	      all - s->n[old] - s->n[new]);
	CHECK(s->n[old] > 0 && s->n[new] > 0,
	      "%s: frames flowed during the swap (old set %lu, new %lu)", what,
	      s->n[old], s->n[new]);
	CHECK(s->flips == 0,
	      "%s: one switch: no frame met the old set after one met the "
	      "new (%lu did)",
	      what, s->flips);
}

#endif
