// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: tick (ARP retries and failures, neighbour aging, the route
 * store's fold) and stats
 * (the fast path's reasons and the slow path's counters, summed over the
 * CPUs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "rt_int.h"

/* ---- tick: retries, failures, aging ---- */

static void pending_fail(struct nfc_nf *nf, struct rt_pending *pe)
{
	rt_cp_count(nf, RT_CP_resolution_failed);
	for (unsigned i = 0; i < pe->n; i++) {
		size_t ip_len;
		const uint8_t *ip =
			rt_frame_ip(pe->q[i]->data, pe->q[i]->len, &ip_len);

		if (pe->family == RT_AF_INET6) /* address unreachable */
			rt_icmp6_error(nf, pe->port,
				       pe->q[i]->data + NFC_ETH_HLEN,
				       pe->q[i]->len - NFC_ETH_HLEN, 1, 3, 0,
				       RT_CP_icmp_host_unreachable);
		else if (ip)
			rt_icmp_error(nf, pe->port, ip, ip_len, 3, 1, 0,
				      RT_CP_icmp_host_unreachable);
	}
	rt_pending_free(pe);
}

void rt_age_init(struct rt_age *a, struct nfc_nf *nf, const char *map,
		 uint64_t now)
{
	a->nf = nf;
	a->fd = nfc_nf_map_fd(nf, map);
	a->retries = nfc_nf_config_uint(nf, "arp_retries", 3);
	a->now = now;
	a->timeout = nfc_nf_config_uint(nf, "arp_timeout", 60) * NS_PER_SEC;
}

int rt_age_due(const struct rt_age *a, const void *key,
	       const struct rt_neigh *seen, struct rt_neigh *n)
{
	if (seen->state != RT_N_REACHABLE ||
	    a->now < seen->updated + a->timeout)
		return 0;
	/* Due by the batch's copy: acted on as it is now (a reply may have
	 * refreshed it since), as the walk key by key did. */
	return !bpf_map_lookup_elem(a->fd, key, n) &&
	       n->state == RT_N_REACHABLE && a->now >= n->updated + a->timeout;
}

static int age_one(const void *key, const void *val, void *arg)
{
	struct rt_age *a = arg;
	__be32 k = *(const __be32 *)key;
	struct rt_neigh n;

	if (!rt_age_due(a, &k, val, &n))
		return 0;
	if ((!n.probes && !rt_nbr_hit(a->nf, k, &n)) ||
	    n.probes >= a->retries) {
		rt_nbr_mirror(a->nf, k, n.port, NULL);
		/* A batch is a copy: deleting does not disturb the walk. */
		bpf_map_delete_elem(a->fd, &k);
		rt_cp_count(a->nf, RT_CP_neigh_expired);
		return 0;
	}
	rt_send_arp_request(a->nf, n.port, k, n.probes ? NULL : n.mac);
	n.probes++;
	n.hit = 0;
	if (!bpf_map_update_elem(a->fd, &k, &n, BPF_EXIST))
		rt_nbr_mirror(a->nf, k, n.port, &n);
	return 0;
}

void rt_tick(struct nfc_nf *nf, uint64_t now)
{
	struct rt_priv *pv = nfc_nf_priv(nf);
	struct rt_age a;

	rt_age_init(&a, nf, "rt_arp", now);
	/* Resolutions: retry, or give up. Failed entries are taken off the
	 * list before their ICMP errors are sent (which may add entries). */
	while (pv) {
		struct rt_pending **pp, *pe = NULL;

		/* Due within a quarter second counts as due: the tick comes
		 * once a second but not on the nanosecond, and a try due a
		 * hair after it waited a whole second more: arp_retries tries
		 * took up to twice their seconds, past the sender's wait for
		 * its host unreachable (router.sh under load). */
		for (pp = &pv->pend; *pp; pp = &(*pp)->next)
			if ((*pp)->next_try <= now + NS_PER_SEC / 4) {
				pe = *pp;
				break;
			}
		if (!pe)
			break;
		if (pe->tries >= a.retries) {
			*pp = pe->next;
			pending_fail(nf, pe);
			continue;
		}
		rt_resolve(nf, pe->port, pe->family, &pe->nh, NULL);
		pe->tries++;
		pe->next_try = now + NS_PER_SEC;
	}
	rt_nd_tick(nf, now);
	rt_store_tick(nf, now);
	if (a.fd < 0)
		return;
	/* Aging: a learnt entry older than arp_timeout is probed (unicast,
	 * then broadcast) if it was used since, and dropped if not or if
	 * the probes go unanswered. Read in batches: a full table of 16,384
	 * walked key by key (a get_next_key and a lookup each) held the
	 * daemon for tens of ms every second. */
	nfc_hash_walk(a.fd, sizeof(__be32), sizeof(struct rt_neigh), NULL, 0,
		      age_one, &a);
}

/* ---- stats ---- */

void rt_stats(struct nfc_nf *nf, int port, json_t *out)
{
	static const char *const reasons[RT_NREASONS] = {
#define RT_REASON_NAME(n, id, text) [n] = #id,
		RT_REASONS(RT_REASON_NAME)
#undef RT_REASON_NAME
	};
	static const char *const cps[RT_NCPSTATS] = {
#define RT_CP_NAME(n, id) [n] = #id,
		RT_CPSTATS(RT_CP_NAME)
#undef RT_CP_NAME
	};
	int fd = nfc_nf_map_fd(nf, "rt_cnt");
	uint64_t sums[RT_NCOUNTERS];
	json_t *fp, *sp;

	if (port >= 0) {
		struct rt_port pt;
		char m[NFC_MAC_STRLEN], a[INET_ADDRSTRLEN];

		if (!rt_port_get(nf, port, &pt)) {
			nfc_mac_str(pt.mac, m);
			json_object_set_new(out, "mac", json_string(m));
			if (pt.flags & RT_PORT_V4)
				json_object_set_new(
					out, "ip",
					json_string(rt_ntoa(pt.v4_addr, a)));
			if (pt.flags & RT_PORT_V6) {
				char a6[INET6_ADDRSTRLEN];
				uint8_t ll[16];

				inet_ntop(AF_INET6, pt.v6_addr, a6, sizeof(a6));
				json_object_set_new(out, "ip6",
						    json_string(a6));
				rt_ll_of(pt.mac, ll);
				inet_ntop(AF_INET6, ll, a6, sizeof(a6));
				json_object_set_new(out, "ip6_link_local",
						    json_string(a6));
			}
			if (pt.mtu)
				json_object_set_new(out, "mtu",
						    json_integer(pt.mtu));
		}
		return;
	}
	if (fd < 0)
		return;
	/* Every counter in one batched lookup, not one a counter. */
	if (nfc_percpu_sums(fd, 0, RT_NCOUNTERS, sizeof(__u64), sums))
		return;
	fp = json_object();
	sp = json_object();
	for (__u32 k = 1; k < RT_NCOUNTERS; k++) {
		__u64 sum = sums[k];

		if (k >= RT_NREASONS && k < RT_CP_BASE)
			continue;
		if (k < RT_NREASONS)
			json_object_set_new(fp, reasons[k], json_integer(sum));
		else
			json_object_set_new(sp, cps[k - RT_CP_BASE],
					    json_integer(sum));
	}
	json_object_set_new(out, "fast_path", fp);
	json_object_set_new(out, "slow_path", sp);
}
