/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016), in memory, with
 * no map or kernel call, so that tests check it without a kernel
 * (tests/test_lb_maglev.c compiles it in). Writing the table to a map is
 * the caller's step (lb.c).
 *
 * The table depends only on the set of backends: lb_maglev_build sorts a
 * copy by the canonical key (family, address, port) before it builds, and
 * every hash is of that key with fixed seeds, so two daemons given the same
 * backends in any order build the same table.
 */
#ifndef NFC_LB_MAGLEV_H
#define NFC_LB_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

struct lb_mg_be {
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t port;	  /* host order; 0: the VIP's */
	uint32_t weight;  /* >= 1 */
	uint32_t id;	  /* what the table holds for it */
};

/* 1 if n is prime. */
int lb_is_prime(uint32_t n);

/* Orders backends by the canonical key. */
int lb_mg_cmp(const void *a, const void *b);

/*
 * Fills table[0..m-1] (m prime, m >= n) with the ids of the n backends
 * (n >= 1), each backend getting a share of the slots proportional to its
 * weight (within one slot per fill round of the exact share). `be` is not
 * changed. 0, -EINVAL (m not prime, m < n, n = 0, a weight 0) or -ENOMEM.
 */
int lb_maglev_build(uint32_t *table, uint32_t m, const struct lb_mg_be *be,
		    size_t n);

#endif
