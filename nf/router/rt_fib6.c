// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the IPv6 FIB, rt_fib6 (an LPM trie the fast path reads
 * directly): connected and local entries from the ports (each port's
 * global address and its link-local one), static routes from rt_rib.
 * Written by differences: new and changed entries first, stale ones last,
 * so that a destination covered before and after never misses a route.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "rt_int.h"

struct fib6_ent {
	struct rt_fib6_key k;
	struct rt_fib_val v;
};

static int fib6_cmp(const void *x, const void *y)
{
	return memcmp(&((const struct fib6_ent *)x)->k,
		      &((const struct fib6_ent *)y)->k,
		      sizeof(struct rt_fib6_key));
}

static int own6(const struct rt_pcfg *pc, struct fib6_ent *e)
{
	int n = 0;

	for (int p = 0; p < NFC_MAX_PORTS; p++) {
		const struct rt_pfx *ip = &pc[p].ip6;

		if (!pc[p].used)
			continue;
		e[n] = (struct fib6_ent){
			{.plen = 128},
			{.type = RT_FIB_LOCAL, .port = p, .plen = 128}};
		memcpy(e[n++].k.addr, pc[p].ll, 16);
		if (ip->family != RT_AF_INET6)
			continue;
		e[n] = (struct fib6_ent){{.plen = ip->plen},
					 {.type = RT_FIB_CONNECTED,
					  .port = p,
					  .plen = ip->plen}};
		memcpy(e[n].k.addr, ip->a.v6, 16);
		rt_mask6(e[n++].k.addr, ip->plen);
		e[n] = (struct fib6_ent){
			{.plen = 128},
			{.type = RT_FIB_LOCAL, .port = p, .plen = 128}};
		memcpy(e[n++].k.addr, ip->a.v6, 16);
	}
	return n;
}

int rt_route6_port(const struct rt_pcfg *pc, const struct rt_rib_key *k,
		   const struct rt_rib_val *v)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (pc[p].used && pc[p].ip6.family &&
		    pc[p].ip6.plen == k->plen &&
		    rt_subnet_has6(&pc[p].ip6, k->addr.v6))
			return -2;
	if (v->nh_family != RT_AF_INET6)
		return -1;
	if (rt_is_own_addr6(pc, v->nh.v6))
		return -3; /* as rt_route_port */
	if (rt_is_ll6(v->nh.v6)) {
		int p = v->nh_port - 1;

		if (p < 0 || p >= NFC_MAX_PORTS || !pc[p].used)
			return -1;
		/* A link under 1280 carries no IPv6 (RFC 8200; Linux turns
		 * it off there): it was forwarded to, with a Packet Too Big
		 * below 1280 that every host ignores (found by a helper).
		 * A port with an ip6 cannot have such an mtu. */
		return pc[p].mtu && pc[p].mtu < 1280 ? -4 : p;
	}
	return rt_port_for6(pc, v->nh.v6);
}

int rt_fib6_rebuild(struct nfc_nf *nf, const struct rt_pcfg *pc)
{
	int fd = nfc_nf_map_fd(nf, "rt_fib6"),
	    rfd = nfc_nf_map_fd(nf, "rt_rib");
	size_t n, nrib = 0, nstale = 0, scap = 64;
	struct fib6_ent *want = NULL, *stale;
	struct rt_rib_ent *rib = NULL;
	struct rt_fib6_key fk, fnext, *fprev = NULL;
	int r = 0;

	if (fd < 0 || rfd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_fib6 not found");
	stale = malloc(scap * sizeof(*stale));
	if (!stale || rt_rib_read(rfd, &rib, &nrib) ||
	    !(want = malloc((3 * NFC_MAX_PORTS + nrib) * sizeof(*want)))) {
		r = -ENOMEM;
		goto out;
	}
	n = own6(pc, want);
	for (size_t i = 0; i < nrib; i++) {
		const struct rt_rib_key *k = &rib[i].k;
		int p;

		if (k->family != RT_AF_INET6)
			continue;
		p = rt_route6_port(pc, k, &rib[i].v);
		if (p < 0)
			continue;
		want[n] = (struct fib6_ent){{.plen = k->plen},
					    {.type = RT_FIB_VIA,
					     .port = p,
					     .nh = rib[i].v.nh,
					     .plen = k->plen}};
		memcpy(want[n++].k.addr, k->addr.v6, 16);
	}
	qsort(want, n, sizeof(*want), fib6_cmp);
	/* Two ports with the same MAC have the same link-local address: the
	 * first keeps it (qsort put them side by side). */
	for (size_t i = 0; i < n; i++) {
		struct rt_fib_val cur;

		if (i && !fib6_cmp(&want[i - 1], &want[i]))
			continue;
		if (!bpf_map_lookup_elem(fd, &want[i].k, &cur) &&
		    !memcmp(&cur, &want[i].v, sizeof(cur)))
			continue;
		if (bpf_map_update_elem(fd, &want[i].k, &want[i].v, BPF_ANY)) {
			r = nfc_nf_error(nf, errno,
					 "write the IPv6 FIB: %s (at most %d "
					 "entries)",
					 strerror(errno), RT_MAX_FIB);
			goto out;
		}
	}
	while (!bpf_map_get_next_key(fd, fprev, &fnext)) {
		struct fib6_ent e = {.k = fnext};

		fk = fnext;
		fprev = &fk;
		if (bsearch(&e, want, n, sizeof(*want), fib6_cmp))
			continue;
		if (nstale == scap) {
			void *t = realloc(stale, 2 * scap * sizeof(*stale));

			if (!t) {
				r = -ENOMEM;
				goto out;
			}
			stale = t;
			scap *= 2;
		}
		stale[nstale++] = e;
	}
	for (size_t i = 0; i < nstale; i++)
		bpf_map_delete_elem(fd, &stale[i].k);
out:
	free(want);
	free(rib);
	free(stale);
	return r;
}

int rt_fib6_lookup(struct nfc_nf *nf, const uint8_t *dst, struct rt_fib_val *v)
{
	struct rt_fib6_key k = {.plen = 128};
	int fd = nfc_nf_map_fd(nf, "rt_fib6");

	memcpy(k.addr, dst, 16);
	return fd < 0 ? -1 : bpf_map_lookup_elem(fd, &k, v);
}
