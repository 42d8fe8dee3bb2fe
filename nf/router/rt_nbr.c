// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: neighbours: rt_arp (the record, learnt and static entries) and
 * rt_nbr, its direct-mapped mirror for the fast path (router.h): kept in
 * step entry by entry, and rebuilt after a configure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "rt_int.h"

/* ---- rt_nbr: rt_arp mirrored for the fast path (router.h) ---- */

/* The rt_nbr slot of neighbour addr on port, if that port has a slice. */
static int nbr_slot(struct nfc_nf *nf, unsigned port, __be32 addr, __u32 *idx)
{
	struct rt_port pt;

	if (rt_port_get(nf, port, &pt) || !(pt.flags & RT_PORT_NBR) ||
	    ((addr ^ pt.v4_addr) & pt.v4_mask))
		return -1;
	*idx = RT_NBR_INDEX(port, ntohl(addr));
	return 0;
}

/* Mirrors rt_arp's entry for addr on port (n; NULL: none) into rt_nbr. */
void rt_nbr_mirror(struct nfc_nf *nf, __be32 addr, unsigned port,
		   const struct rt_neigh *n)
{
	int fd = nfc_nf_map_fd(nf, "rt_nbr");
	struct rt_neigh v = {0}, cur;
	__u32 idx;

	if (fd < 0 || nbr_slot(nf, port, addr, &idx))
		return;
	if (n) {
		v = *n;
		v.addr = addr;
	} else if (bpf_map_lookup_elem(fd, &idx, &cur) || cur.addr != addr) {
		return; /* the slot is another's (or empty) */
	}
	bpf_map_update_elem(fd, &idx, &v, BPF_ANY);
}

/* Whether the fast path used neighbour addr since the flag was cleared:
 * in rt_nbr for a port with a slice, else in rt_arp's entry n. */
int rt_nbr_hit(struct nfc_nf *nf, __be32 addr, const struct rt_neigh *n)
{
	int fd = nfc_nf_map_fd(nf, "rt_nbr");
	struct rt_neigh cur;
	__u32 idx;

	if (n->hit)
		return 1;
	return fd >= 0 && !nbr_slot(nf, n->port, addr, &idx) &&
	       !bpf_map_lookup_elem(fd, &idx, &cur) && cur.addr == addr &&
	       cur.hit;
}

/* Makes rt_nbr the mirror of rt_arp, after ports or neighbours changed
 * (configure), writing only the slots that differ; a slot's hit flag is
 * kept for the same neighbour. */
int rt_nbr_sync(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "rt_nbr"), afd = nfc_nf_map_fd(nf, "rt_arp"),
	    r = 0;
	__u32 n = NFC_MAX_PORTS * RT_NBR_SLICE, idx;
	struct rt_neigh *want = calloc(n, sizeof(*want));
	struct rt_neigh *cur = calloc(n, sizeof(*cur));
	__be32 k, next, *prev = NULL;

	if (fd < 0 || afd < 0)
		r = nfc_nf_error(nf, ENOENT, "map rt_nbr not found");
	else if (!want || !cur)
		r = -ENOMEM;
	if (r)
		goto out;
	nfc_array_read(fd, cur, sizeof(*cur), n);
	while (!bpf_map_get_next_key(afd, prev, &next)) {
		struct rt_neigh e;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(afd, &k, &e) ||
		    nbr_slot(nf, e.port, k, &idx))
			continue;
		want[idx] = e;
		want[idx].addr = k;
	}
	for (__u32 i = 0; i < n; i++) {
		if (want[i].state && cur[i].addr == want[i].addr)
			want[i].hit |= cur[i].hit;
		if (!memcmp(&want[i], &cur[i], sizeof(cur[i])))
			continue;
		if (bpf_map_update_elem(fd, &i, &want[i], BPF_ANY)) {
			r = nfc_nf_error(nf, errno, "write rt_nbr: %s",
					 strerror(errno));
			break;
		}
	}
out:
	free(want);
	free(cur);
	return r;
}

/* Where a static ARP entry applies: its port, or -1. */
static int sarp_port(const struct rt_pcfg *pc, const struct rt_rib_key *k,
		     const struct rt_sarp_val *v)
{
	if (k->family != RT_AF_INET)
		return -1;
	if (v->port[0]) {
		for (int p = 0; p < NFC_MAX_PORTS; p++)
			if (pc[p].used && !strcmp(pc[p].name, v->port))
				return rt_subnet_has(&pc[p].ip, k->addr.v4)
					       ? p
					       : -1;
		return -1;
	}
	return rt_port_for(pc, k->addr.v4);
}

/* Dynamic entries that no longer fit a port go; static ones are rebuilt
 * from rt_sarp. */
int rt_neigh_sync(struct nfc_nf *nf, const struct rt_pcfg *pc)
{
	int afd = nfc_nf_map_fd(nf, "rt_arp"),
	    sfd = nfc_nf_map_fd(nf, "rt_sarp");
	__be32 k, next, *prev = NULL, del[RT_MAX_NEIGH];
	struct rt_rib_key sk, snext, *sprev = NULL;
	unsigned ndel = 0;

	if (afd < 0 || sfd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_arp not found");
	while (!bpf_map_get_next_key(afd, prev, &next)) {
		struct rt_neigh n;
		int keep = 0;

		if (!bpf_map_lookup_elem(afd, &next, &n)) {
			if (n.state == RT_N_STATIC) {
				struct rt_rib_key key = {.family = RT_AF_INET,
							 .plen = 32};
				struct rt_sarp_val sv;

				key.addr.v4 = next;
				keep = !bpf_map_lookup_elem(sfd, &key, &sv) &&
				       sarp_port(pc, &key, &sv) == (int)n.port;
			} else {
				keep = n.port < NFC_MAX_PORTS &&
				       pc[n.port].used &&
				       rt_subnet_has(&pc[n.port].ip, next);
			}
		}
		k = next;
		prev = &k;
		if (!keep && ndel < sizeof(del) / sizeof(del[0]))
			del[ndel++] = k;
	}
	/* Deleted after the walk, which a delete would restart. */
	for (unsigned i = 0; i < ndel; i++)
		bpf_map_delete_elem(afd, &del[i]);
	while (!bpf_map_get_next_key(sfd, sprev, &snext)) {
		struct rt_sarp_val sv;
		struct rt_neigh n = {0}, cur;
		int p;

		sk = snext;
		sprev = &sk;
		if (bpf_map_lookup_elem(sfd, &sk, &sv))
			continue;
		p = sarp_port(pc, &sk, &sv);
		if (p < 0)
			continue;
		memcpy(n.mac, sv.mac, 6);
		n.state = RT_N_STATIC;
		n.port = p;
		if (!bpf_map_lookup_elem(afd, &sk.addr.v4, &cur) &&
		    cur.state == RT_N_STATIC && cur.port == n.port &&
		    !memcmp(cur.mac, n.mac, 6))
			continue;
		if (bpf_map_update_elem(afd, &sk.addr.v4, &n, BPF_ANY))
			return nfc_nf_error(nf, errno, "write rt_arp: %s",
					    strerror(errno));
	}
	return 0;
}

/* The netdev behind `port` went away: its learnt neighbours go with it, as
 * Linux flushes a deleted device's. A host that comes back there may have
 * another MAC, which a kept entry would black-hole until arp_timeout.
 * Static entries stay: the user's, and right again when the port is. */
void rt_port_down(struct nfc_nf *nf, unsigned port)
{
	int afd = nfc_nf_map_fd(nf, "rt_arp");
	__be32 k, next, *prev = NULL, del[RT_MAX_NEIGH];
	unsigned ndel = 0;

	rt_nd_port_down(nf, port);
	if (afd < 0)
		return;
	while (!bpf_map_get_next_key(afd, prev, &next)) {
		struct rt_neigh n;

		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(afd, &k, &n) && n.port == port &&
		    n.state != RT_N_STATIC && ndel < RT_MAX_NEIGH)
			del[ndel++] = k;
	}
	/* After the walk: a delete would restart it. */
	for (unsigned i = 0; i < ndel; i++) {
		rt_nbr_mirror(nf, del[i], port, NULL);
		if (!bpf_map_delete_elem(afd, &del[i]))
			rt_cp_count(nf, RT_CP_neigh_flushed);
	}
}
