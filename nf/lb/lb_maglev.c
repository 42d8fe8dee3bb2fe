// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Maglev table builder (lb_maglev.h). Each backend walks its own
 * permutation of the slots, (offset + j * skip) mod m, from two hashes of
 * its canonical key; in turn, each takes its next free slot, until every
 * slot is taken. Since m is prime and 1 <= skip < m, each permutation
 * visits every slot. Removing a backend frees its slots; the others keep
 * theirs except where the turn order shifts (the paper's small extra
 * disruption, measured by tests/test_lb_maglev.c).
 *
 * Weights: a backend's turn comes with a credit; each round adds its
 * weight, and it takes one slot per max-weight of credit. The heaviest
 * takes one slot every round, a backend of half its weight one every
 * other round: shares follow weights to within a slot per round.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb_maglev.h"

int lb_is_prime(uint32_t n)
{
	if (n < 2)
		return 0;
	for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

int lb_mg_cmp(const void *a, const void *b)
{
	const struct lb_mg_be *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* FNV-1a over the canonical key, then a 64-bit finaliser (splitmix64) with
 * a seed: fixed, portable, and independent of the host's byte order. */
static uint64_t key_hash(const struct lb_mg_be *b, uint64_t seed)
{
	uint8_t k[19];
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	k[0] = b->family;
	memcpy(k + 1, b->addr, 16);
	k[17] = b->port >> 8;
	k[18] = b->port & 0xff;
	for (size_t i = 0; i < sizeof(k); i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	h += 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

int lb_maglev_build(uint32_t *table, uint32_t m, const struct lb_mg_be *be,
		    size_t n)
{
	struct lb_mg_be *s;
	uint64_t *off, *skip, *next, *credit;
	uint32_t wmax = 0, filled = 0;
	uint8_t *taken;

	if (!n || m < n || !lb_is_prime(m))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!be[i].weight)
			return -EINVAL;
		if (be[i].weight > wmax)
			wmax = be[i].weight;
	}
	s = malloc(n * sizeof(*s));
	off = calloc(4 * n, sizeof(*off));
	taken = calloc(m, 1);
	if (!s || !off || !taken) {
		free(s);
		free(off);
		free(taken);
		return -ENOMEM;
	}
	skip = off + n;
	next = skip + n;
	credit = next + n;
	memcpy(s, be, n * sizeof(*s));
	qsort(s, n, sizeof(*s), lb_mg_cmp);
	for (size_t i = 0; i < n; i++) {
		off[i] = key_hash(&s[i], 0x6c62306d61676c31ULL) % m;
		skip[i] = key_hash(&s[i], 0x736b69702d6c6232ULL) % (m - 1) + 1;
	}
	while (filled < m) {
		for (size_t i = 0; i < n && filled < m; i++) {
			uint32_t c;

			credit[i] += s[i].weight;
			if (credit[i] < wmax)
				continue;
			credit[i] -= wmax;
			do
				c = (off[i] + next[i]++ * skip[i]) % m;
			while (taken[c]);
			taken[c] = 1;
			table[c] = s[i].id;
			filled++;
		}
	}
	free(s);
	free(off);
	free(taken);
	return 0;
}
