// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the routes and arp collections: add, del and list, with the
 * checks that refuse a change before anything is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "rt_int.h"

/* ---- routes ---- */

/* Whether rt_rib holds route dst via nh already, as it is. */
static int held_as(struct nfc_nf *nf, const struct rt_pfx *dst,
		   const struct rt_pfx *nh)
{
	struct rt_rib_key k = {.family = dst->family, .plen = dst->plen};
	int fd = nfc_nf_map_fd(nf, "rt_rib");
	struct rt_rib_val v;

	k.addr = dst->a;
	if (fd < 0 || bpf_map_lookup_elem(fd, &k, &v))
		return 0;
	return v.nh_family == nh->family &&
	       !memcmp(&v.nh, &nh->a, sizeof(v.nh));
}

/*
 * A route that a port added or changed after it has put in conflict (its
 * destination became a connected subnet, an address of the router or a
 * broadcast one, its next hop an address of the router): a new route is
 * refused so, but one held already, or a restore's, is taken back as it
 * is, shadowed (routes show: inactive). Found by a helper: the port
 * change was accepted, the restore after a reboot then refused the
 * saved state and brought no NF back.
 */
static int port_moved(struct nfc_nf *nf, int taken, const struct rt_pfx *dst,
		      const struct rt_pfx *nh)
{
	return taken || nfc_nf_applying(nf) || held_as(nf, dst, nh);
}

/* An IPv6 route: its next hop global and on a connected subnet, or
 * link-local with the port it is reached through (port=). */
static int route6_check(struct nfc_nf *nf, const struct rt_pcfg *pc,
			const char *say, const struct rt_pfx *dst,
			json_t *fields, int taken, struct rt_rib_key *k,
			struct rt_rib_val *v)
{
	const char *nhs = json_string_value(json_object_get(fields, "nexthop"));
	const char *port = json_string_value(json_object_get(fields, "port"));
	struct rt_pfx nh;
	int r, p;

	if (!strchr(nhs, ':'))
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is not an IPv6 "
				    "address (an IPv6 route needs one)",
				    say, nhs);
	r = rt_pfx_parse(nf, "route", nhs, 0, &nh);
	if (r)
		return r;
	for (int q = 0; q < NFC_MAX_PORTS; q++)
		if (pc[q].used && pc[q].ip6.family &&
		    pc[q].ip6.plen == dst->plen &&
		    rt_subnet_has6(&pc[q].ip6, dst->a.v6) &&
		    !port_moved(nf, taken, dst, &nh))
			return nfc_nf_error(nf, EEXIST,
					    "route %s: it is the connected "
					    "subnet of port %s",
					    say, pc[q].name);
	if (dst->plen == 128 && rt_is_own_addr6(pc, dst->a.v6) &&
	    !port_moved(nf, taken, dst, &nh))
		return nfc_nf_error(nf, EEXIST,
				    "route %s: it is an address of this router",
				    say);
	if (dst->a.v6[0] == 0xff || rt_is_ll6(dst->a.v6))
		return nfc_nf_error(nf, EINVAL,
				    "route %s: multicast and link-local "
				    "destinations are not routed",
				    say);
	if (nh.a.v6[0] == 0xff ||
	    !memcmp(nh.a.v6, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15))
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is not a unicast "
				    "address",
				    say, nhs);
	if (rt_is_own_addr6(pc, nh.a.v6) && !port_moved(nf, taken, dst, &nh))
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is an address of "
				    "this router",
				    say, nhs);
	*v = (struct rt_rib_val){.nh_family = RT_AF_INET6};
	if (rt_is_ll6(nh.a.v6)) {
		if (!port)
			return nfc_nf_error(nf, EINVAL,
					    "route %s: next hop %s is "
					    "link-local: say which port it is "
					    "on (port=)",
					    say, nhs);
		p = nfc_nf_port_index(nf, port);
		if (p < 0)
			return nfc_nf_error(nf, ENOENT, "route %s: no port %s",
					    say, port);
		if (pc[p].mtu && pc[p].mtu < 1280 && !nfc_nf_applying(nf))
			return nfc_nf_error(nf, EINVAL,
					    "route %s: port %s has mtu %u, "
					    "below 1280, the least an IPv6 "
					    "link may have (RFC 8200): it "
					    "carries no IPv6",
					    say, port, pc[p].mtu);
		v->nh_port = p + 1;
	} else {
		char b[512];

		p = rt_port_for6(pc, nh.a.v6);
		if (p < 0 && !taken && !nfc_nf_applying(nf) &&
		    !held_as(nf, dst, &nh)) {
			size_t l = 0;

			b[0] = 0;
			for (int q = 0; q < NFC_MAX_PORTS && l < sizeof(b);
			     q++) {
				char t[64];
				struct rt_pfx sn = pc[q].ip6;

				if (!pc[q].used || !sn.family)
					continue;
				rt_mask6(sn.a.v6, sn.plen);
				l += snprintf(b + l, sizeof(b) - l, "%s%s %s",
					      l ? ", " : "", pc[q].name,
					      rt_pfx_str(&sn, t, sizeof(t)));
			}
			return nfc_nf_error(nf, EINVAL,
					    "route %s: next hop %s is not on a "
					    "connected IPv6 subnet (%s)",
					    say, nhs,
					    l ? b : "none: no port has an ip6");
		}
		if (p >= 0 && port && nfc_nf_port_index(nf, port) != p)
			return nfc_nf_error(nf, EINVAL,
					    "route %s: next hop %s is on port "
					    "%s, not %s",
					    say, nhs, pc[p].name, port);
	}
	*k = (struct rt_rib_key){.family = dst->family, .plen = dst->plen};
	k->addr = dst->a;
	v->nh = nh.a;
	return 0;
}

/* A route as rt_rib holds it, checked against the ports: every refusal
 * routes add and routes replace share but "exists already". */
int rt_route_check(struct nfc_nf *nf, const struct rt_pcfg *pc, const char *key,
		   unsigned line, json_t *fields, int taken,
		   struct rt_rib_key *k, struct rt_rib_val *v)
{
	char say[96], what[32];
	const char *nhs = json_string_value(json_object_get(fields, "nexthop"));
	struct rt_pfx dst, nh;
	char b[512];
	int r, p;

	/* An import's line goes into every message. */
	snprintf(what, sizeof(what), line ? "line %u: route" : "route", line);
	snprintf(say, sizeof(say), line ? "%s (line %u)" : "%s", key, line);
	r = rt_pfx_parse(nf, what, key, 1, &dst);
	if (r)
		return r;
	if (!nhs)
		return nfc_nf_error(nf, EINVAL, "route %s: nexthop= is needed",
				    say);
	/* The store entry's fields, declared on the collection: on a route
	 * they were kept and exported as given (found by a helper). */
	for (const char *const *f =
		     (const char *const[]){"file", "crc32", "routes", NULL};
	     *f; f++)
		if (json_object_get(fields, *f))
			return nfc_nf_error(nf, EINVAL,
					    "route %s: %s= is for the entry "
					    "'%s' only (what an import "
					    "writes)",
					    say, *f, RT_STORE_KEY);
	if (dst.family == RT_AF_INET6)
		return route6_check(nf, pc, say, &dst, fields, taken, k, v);
	if (json_object_get(fields, "port"))
		return nfc_nf_error(nf, EINVAL,
				    "route %s: port= is for link-local IPv6 "
				    "next hops",
				    say);
	r = rt_pfx_parse(nf, what, nhs, 0, &nh);
	if (!r && nh.family != RT_AF_INET)
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is not an IPv4 "
				    "address (an IPv4 route needs one)",
				    say, nhs);
	if (r)
		return r;
	/* port_moved (a map read) only once a conflict is found: not for
	 * every route of an import. */
	for (int q = 0; q < NFC_MAX_PORTS; q++)
		if (pc[q].used && pc[q].ip.family &&
		    pc[q].ip.plen == dst.plen &&
		    rt_subnet_has(&pc[q].ip, dst.a.v4) && dst.plen < 32 &&
		    !port_moved(nf, taken, &dst, &nh))
			return nfc_nf_error(nf, EEXIST,
					    "route %s: it is the connected "
					    "subnet of port %s",
					    say, pc[q].name);
	if (dst.plen == 32 && rt_is_own_addr(pc, dst.a.v4) &&
	    !port_moved(nf, taken, &dst, &nh))
		return nfc_nf_error(nf, EEXIST,
				    "route %s: it is an address of this "
				    "router",
				    say);
	for (int q = 0; q < NFC_MAX_PORTS; q++)
		if (dst.plen == 32 && pc[q].used && pc[q].ip.family &&
		    rt_subnet_bcast(&pc[q].ip) == dst.a.v4 &&
		    !port_moved(nf, taken, &dst, &nh))
			return nfc_nf_error(nf, EEXIST,
					    "route %s: it is the broadcast "
					    "address of port %s's subnet",
					    say, pc[q].name);
	if (rt_is_own_addr(pc, nh.a.v4) && !port_moved(nf, taken, &dst, &nh))
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is an address of "
				    "this router",
				    say, nhs);
	p = rt_port_for(pc, nh.a.v4);
	/* A restore takes back a route that went inactive (its next hop's
	 * subnet changed after it was added): inactive again. */
	if (p < 0 && !taken && !nfc_nf_applying(nf) &&
	    !held_as(nf, &dst, &nh)) {
		rt_subnets_str(pc, b, sizeof(b));
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is not on a "
				    "connected subnet (%s)",
				    say, nhs, b);
	}
	if (p >= 0 && rt_subnet_bcast(&pc[p].ip) == nh.a.v4)
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is the broadcast "
				    "address of port %s's subnet",
				    say, nhs, pc[p].name);
	*k = (struct rt_rib_key){.family = dst.family, .plen = dst.plen};
	k->addr = dst.a;
	*v = (struct rt_rib_val){.nh_family = RT_AF_INET};
	v->nh = nh.a;
	return 0;
}

/* A route of an applied document, against the ports the document gives
 * (the model the apply makes): a dry run passed a next hop on no subnet,
 * which the apply refused. */
int rt_routes_check(struct nfc_nf *nf, json_t *config, const char *key,
		    json_t *fields)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_rib_key k;
	struct rt_rib_val v;
	int r;

	(void)config;
	if (!strcmp(key, RT_STORE_KEY))
		return rt_store_ref_check(nf, fields);
	r = rt_load_port_conf(nf, pc);
	return r ? r : rt_route_check(nf, pc, key, 0, fields, 0, &k, &v);
}

int rt_routes_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_rib_key k;
	struct rt_rib_val v, cur;
	int rfd = nfc_nf_map_fd(nf, "rt_rib"),
	    ffd = nfc_nf_map_fd(nf, "rt_fib4");
	int r;

	if (rfd < 0 || ffd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	if (!strcmp(key, RT_STORE_KEY)) {
		json_t *e = json_pack("{s:O}", RT_STORE_KEY, fields);

		r = rt_store_replace(nf, e, 0);
		json_decref(e);
		return r;
	}
	r = rt_load_ports(nf, pc);
	if (!r)
		r = rt_route_check(nf, pc, key, 0, fields, 0, &k, &v);
	if (r)
		return r;
	if (!bpf_map_lookup_elem(rfd, &k, &cur)) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(cur.nh_family == RT_AF_INET6 ? AF_INET6 : AF_INET,
			  &cur.nh, a, sizeof(a));
		return nfc_nf_error(nf, EEXIST,
				    "route %s exists already (via %s); delete "
				    "it first",
				    key, a);
	}
	return rt_route_write(nf, pc, key, fields, &k, &v, NULL, NULL);
}

/*
 * Route k (`key`, `fields` as the log writes them) made to hold v where
 * it held *old (NULL: a new route; old_fields then NULL too): logged
 * first (when an import keeps the routes in files), since a change that
 * cannot be saved is not made; then rt_rib, then the FIB and rt_dir in
 * place, each entry by one write, so that a packet meets the old next
 * hop or the new one. A failed write puts back what was there.
 */
int rt_route_write(struct nfc_nf *nf, const struct rt_pcfg *pc, const char *key,
		   json_t *fields, const struct rt_rib_key *k,
		   const struct rt_rib_val *v, const struct rt_rib_val *old,
		   json_t *old_fields)
{
	struct rt_fib_val fv = {.type = RT_FIB_VIA,
				.nh = v->nh,
				.plen = k->plen},
			  was;
	struct rt_fib4_key fk = {.plen = k->plen, .addr = k->addr.v4};
	struct rt_fib6_key k6 = {.plen = k->plen};
	int rfd = nfc_nf_map_fd(nf, "rt_rib"),
	    ffd = nfc_nf_map_fd(nf, k->family == RT_AF_INET6 ? "rt_fib6"
							     : "rt_fib4");
	int r, p, had;

	if (rfd < 0 || ffd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	r = rt_store_note(nf, key, fields);
	if (r)
		return r;
	if (bpf_map_update_elem(rfd, k, v, old ? BPF_ANY : BPF_NOEXIST)) {
		r = nfc_nf_error(
			nf, errno, "route %s: %s (at most %d routes)", key,
			errno == E2BIG || errno == ENOMEM ? "the table is full"
							  : strerror(errno),
			RT_MAX_ROUTES);
		rt_store_note(nf, key, old_fields);
		return r;
	}
	memcpy(k6.addr, k->addr.v6, 16);
	p = k->family == RT_AF_INET6 ? rt_route6_port(pc, k, v)
				     : rt_nh_port(pc, v->nh.v4);
	/* The LPM lookup of a key that is not there answers its cover. */
	had = old &&
	      !bpf_map_lookup_elem(
		      ffd, k->family == RT_AF_INET6 ? (void *)&k6 : (void *)&fk,
		      &was) &&
	      was.plen == k->plen && was.type == RT_FIB_VIA;
	if (p < 0) {
		/* Inactive (taken back by a restore or an undo, or a next
		 * hop on no subnet now): recorded, not in the FIB, as a
		 * rebuild leaves it. */
		if (had && k->family == RT_AF_INET6)
			bpf_map_delete_elem(ffd, &k6);
		else if (had && !bpf_map_delete_elem(ffd, &fk))
			rt_dir_change(nf, fk.addr, fk.plen, NULL, &was);
		return 0;
	}
	fv.port = p;
	if (bpf_map_update_elem(
		    ffd, k->family == RT_AF_INET6 ? (void *)&k6 : (void *)&fk,
		    &fv, BPF_ANY)) {
		r = nfc_nf_error(nf, errno, "route %s: write the %sFIB: %s",
				 key, k->family == RT_AF_INET6 ? "IPv6 " : "",
				 strerror(errno));
		if (old)
			bpf_map_update_elem(rfd, k, old, BPF_ANY);
		else
			bpf_map_delete_elem(rfd, k);
		rt_store_note(nf, key, old_fields);
		return r;
	}
	if (k->family != RT_AF_INET6)
		rt_dir_change(nf, fk.addr, fk.plen, &fv, NULL);
	return 0;
}

/*
 * The whole set of routes at once (apply, import --replace): every route
 * checked first, rt_rib made to hold exactly them (the record, which the
 * fast path does not read), then the FIB derived again and switched in by
 * one write (rt_fib_rebuild): a packet meets the old routes or the new,
 * never some of each, and a route replaced by another (another next hop,
 * a longer or shorter prefix) never leaves its addresses without one.
 */
int rt_routes_replace(struct nfc_nf *nf, json_t *entries)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	size_t n = json_object_size(entries), i = 0;
	struct rt_rib_ent *want;
	const char *key;
	json_t *f;
	int r;

	/* The set kept in files by an import (rt_store.c). */
	if (json_object_get(entries, RT_STORE_KEY))
		return rt_store_replace(nf, entries, 1);
	if (n > RT_MAX_ROUTES)
		return nfc_nf_error(nf, E2BIG,
				    "%zu routes: the table holds at most %d", n,
				    RT_MAX_ROUTES);
	r = rt_load_ports(nf, pc);
	if (r)
		return r;
	want = calloc(n + 1, sizeof(*want));
	if (!want)
		return -ENOMEM;
	json_object_foreach (entries, key, f) {
		r = rt_route_check(nf, pc, key, 0, f, 0, &want[i].k,
				   &want[i].v);
		if (r) {
			free(want);
			return r;
		}
		i++;
	}
	qsort(want, n, sizeof(*want), rt_rib_cmp);
	r = rt_routes_set(nf, pc, want, n);
	/* The model holds the routes again: the files an import kept go. */
	if (!r)
		rt_store_off(nf);
	return r;
}

/* What a merge of the current set with the wanted one gives: the stale
 * keys (pass 0) or the new and changed routes (pass 1), written a chunk
 * at a time (whole arrays of them were 20 MB of the daemon's peak at
 * 500,000 routes). */
static int routes_pass(struct nfc_nf *nf, int rfd, int pass,
		       const struct rt_rib_ent *cur, size_t ncur,
		       const struct rt_rib_ent *want, size_t n)
{
	enum { CHUNK = 4096 };
	struct rt_rib_key *k = malloc(CHUNK * sizeof(*k));
	struct rt_rib_val *v = malloc(CHUNK * sizeof(*v));
	size_t m = 0;
	int r = k && v ? 0 : -ENOMEM;

	for (size_t a = 0, b = 0; !r && (a < ncur || b < n);) {
		int c = a == ncur ? 1
			: b == n  ? -1
				  : rt_rib_cmp(&cur[a], &want[b]);

		if (c < 0) {
			if (!pass)
				k[m++] = cur[a].k;
			a++;
		} else {
			if (pass && (c > 0 || memcmp(&cur[a].v, &want[b].v,
						     sizeof(want[b].v)))) {
				k[m] = want[b].k;
				v[m++] = want[b].v;
			}
			a += !c;
			b++;
		}
		if (m == CHUNK || (m && a == ncur && b == n)) {
			r = rt_rib_write(nf, rfd, k, pass ? v : NULL, m);
			m = 0;
		}
	}
	free(k);
	free(v);
	return r;
}

int rt_routes_set(struct nfc_nf *nf, const struct rt_pcfg *pc,
		  struct rt_rib_ent *want, size_t n)
{
	int rfd = nfc_nf_map_fd(nf, "rt_rib"), r;
	struct rt_rib_ent *cur = NULL;
	size_t ncur = 0;

	if (rfd < 0) {
		free(want);
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	}
	r = rt_rib_read(rfd, &cur, &ncur) ? -ENOMEM : 0;
	/* Both sorted: merged twice, stale routes first, so that the map
	 * never holds both sets. */
	if (!r)
		r = routes_pass(nf, rfd, 0, cur, ncur, want, n);
	if (!r)
		r = routes_pass(nf, rfd, 1, cur, ncur, want, n);
	/* Not needed past the merge: freed before the FIB is built. */
	free(want);
	free(cur);
	if (!r)
		r = rt_fib_rebuild(nf, pc);
	if (!r)
		r = rt_fib6_rebuild(nf, pc);
	return r;
}

/* A malformed key refused before anything is written (an import names
 * its line). */
int rt_routes_check_key(struct nfc_nf *nf, const char *key)
{
	struct rt_pfx p;

	return strcmp(key, RT_STORE_KEY) ? rt_pfx_parse(nf, "route", key, 1, &p)
					 : 0;
}

/* A route the store holds (not the model): its fields, for `routes set`. */
json_t *rt_routes_get(struct nfc_nf *nf, const char *key)
{
	int rfd = nfc_nf_map_fd(nf, "rt_rib");
	struct rt_rib_key k = {0};
	struct rt_rib_val v;
	char a[INET6_ADDRSTRLEN];
	struct rt_pfx dst;
	json_t *o;

	if (rfd < 0 || !strcmp(key, RT_STORE_KEY) ||
	    rt_pfx_parse(nf, "route", key, 1, &dst))
		return NULL;
	k.family = dst.family;
	k.plen = dst.plen;
	k.addr = dst.a;
	if (bpf_map_lookup_elem(rfd, &k, &v))
		return NULL;
	if (k.family == RT_AF_INET6)
		inet_ntop(AF_INET6, v.nh.v6, a, sizeof(a));
	else
		rt_ntoa(v.nh.v4, a);
	o = json_pack("{s:s}", "nexthop", a);
	if (o && v.nh_port)
		json_object_set_new(
			o, "port",
			json_string(nfc_nf_port_name(nf, v.nh_port - 1u)));
	return o;
}

int rt_routes_del(struct nfc_nf *nf, const char *key)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_rib_key k = {0};
	struct rt_rib_val cur;
	struct fib_ent own[4 * NFC_MAX_PORTS];
	int rfd = nfc_nf_map_fd(nf, "rt_rib"),
	    ffd = nfc_nf_map_fd(nf, "rt_fib4");
	struct rt_pfx dst;
	int r, nown;

	if (rfd < 0 || ffd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	if (!strcmp(key, RT_STORE_KEY))
		return nfc_nf_error(nf, EINVAL,
				    "routes: 'store' stands for the imported "
				    "routes; `routes import --replace -f "
				    "/dev/null` empties them");
	r = rt_pfx_parse(nf, "route", key, 1, &dst);
	if (r)
		return r;
	r = rt_load_ports(nf, pc);
	if (r)
		return r;
	k.family = dst.family;
	k.plen = dst.plen;
	k.addr = dst.a;
	if (dst.family == RT_AF_INET6) {
		int f6 = nfc_nf_map_fd(nf, "rt_fib6");
		struct rt_fib6_key k6 = {.plen = k.plen};

		if (bpf_map_lookup_elem(rfd, &k, &cur)) {
			for (int q = 0; q < NFC_MAX_PORTS; q++)
				if (pc[q].used && pc[q].ip6.family &&
				    pc[q].ip6.plen == dst.plen &&
				    rt_subnet_has6(&pc[q].ip6, dst.a.v6))
					return nfc_nf_error(
						nf, EINVAL,
						"route %s is the connected "
						"route of port %s: change the "
						"port's ip6 instead",
						key, pc[q].name);
			return nfc_nf_error(nf, ENOENT,
					    "route %s does not exist", key);
		}
		r = rt_store_note(nf, key, NULL);
		if (r)
			return r;
		memcpy(k6.addr, k.addr.v6, 16);
		if (rt_route6_port(pc, &k, &cur) != -2 && f6 >= 0)
			bpf_map_delete_elem(f6, &k6);
		bpf_map_delete_elem(rfd, &k);
		return 0;
	}
	if (bpf_map_lookup_elem(rfd, &k, &cur)) {
		for (int q = 0; q < NFC_MAX_PORTS; q++)
			if (pc[q].used && pc[q].ip.family &&
			    pc[q].ip.plen == dst.plen && dst.plen < 32 &&
			    rt_subnet_has(&pc[q].ip, dst.a.v4))
				return nfc_nf_error(
					nf, EINVAL,
					"route %s is the connected route of "
					"port %s: change the port's ip instead",
					key, pc[q].name);
		return nfc_nf_error(nf, ENOENT, "route %s does not exist", key);
	}
	r = rt_store_note(nf, key, NULL);
	if (r)
		return r;
	nown = rt_fib_port_entries(pc, own);
	qsort(own, nown, sizeof(*own), rt_fib_cmp);
	/* Shadowed by a port's own entry: that one stays. */
	if (rt_route_port(pc, own, nown, &k, &cur) != -2) {
		struct rt_fib4_key fk = {dst.plen, dst.a.v4};
		struct rt_fib_val old;

		/* An existing key's lookup returns that very entry. */
		if (!bpf_map_lookup_elem(ffd, &fk, &old) &&
		    !bpf_map_delete_elem(ffd, &fk))
			rt_dir_change(nf, fk.addr, fk.plen, NULL, &old);
	}
	bpf_map_delete_elem(rfd, &k);
	return 0;
}

/* IPv4 first, then IPv6; by address, then prefix length. */
struct list_ent {
	struct {
		__u32 fam, plen;
		__u8 addr[16];
	} k;
	json_t *o;
};

static int list_cmp(const void *x, const void *y)
{
	const struct list_ent *a = x, *b = y;
	int c;

	if (a->k.fam != b->k.fam)
		return a->k.fam < b->k.fam ? -1 : 1;
	c = memcmp(a->k.addr, b->k.addr, 16);
	if (c)
		return c;
	return (int)a->k.plen - (int)b->k.plen;
}

static struct list_ent list_ent_of(int fam, unsigned plen, const void *a,
				   json_t *o)
{
	struct list_ent e = {{fam, plen, {0}}, o};

	memcpy(e.k.addr, a, fam == RT_AF_INET6 ? 16 : 4);
	return e;
}

/* A static route as `routes show` lists it. */
static json_t *static_json(const struct rt_pcfg *pc, const struct fib_ent *own,
			   int nown, const struct rt_rib_key *k,
			   const struct rt_rib_val *v)
{
	struct rt_pfx s = {k->family, k->plen, k->addr};
	char b[64], a[INET6_ADDRSTRLEN];
	int p;

	if (k->family == RT_AF_INET6) {
		p = rt_route6_port(pc, k, v);
		inet_ntop(AF_INET6, v->nh.v6, a, sizeof(a));
	} else {
		p = rt_route_port(pc, own, nown, k, v);
		rt_ntoa(v->nh.v4, a);
	}
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "prefix",
			 rt_pfx_str(&s, b, sizeof(b)), "type", "static",
			 "nexthop", a, "port", p >= 0 ? pc[p].name : "-",
			 "state",
			 p >= 0	   ? "active"
			 : p == -2 ? "inactive (shadowed by a connected route)"
			 : p == -3 ? "inactive (next hop is an address of "
				     "this router)"
			 : p == -4 ? "inactive (its port's mtu is below 1280: "
				     "no IPv6 there)"
				   : "inactive (next hop on no connected "
				     "subnet)");
}

static json_t *connected_json(struct rt_pfx s, const char *port)
{
	char b[64];

	if (s.family == RT_AF_INET6)
		rt_mask6(s.a.v6, s.plen);
	else
		s.a.v4 &= rt_mask(s.plen);
	return json_pack("{s:s,s:s,s:s,s:s}", "prefix",
			 rt_pfx_str(&s, b, sizeof(b)), "type", "connected",
			 "port", port, "state", "active");
}

/* Where a paged listing stands: rt_rib in hash order, a batch a page
 * (phase 0, token: the next bucket), then the connected routes (phase 1).
 * Connected routes come last because the CLI's table takes its columns
 * from the first entry, and a connected route has no nexthop. */
struct page_cur {
	__u8 phase, have;
	__u32 token;
};
_Static_assert(sizeof(struct page_cur) <= sizeof(struct nfc_cursor),
	       "a routes cursor fits in struct nfc_cursor");

int rt_routes_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
			json_t *out)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct fib_ent own[4 * NFC_MAX_PORTS];
	int rfd = nfc_nf_map_fd(nf, "rt_rib"), r, nown;
	struct rt_rib_key *keys = NULL;
	struct rt_rib_val *vals = NULL;
	struct page_cur lc;
	size_t n = 0;
	__u32 cnt;

	if (rfd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_rib not found");
	r = rt_load_ports(nf, pc);
	if (r)
		return r;
	memcpy(&lc, cur->b, sizeof(lc));
	nown = rt_fib_port_entries(pc, own);
	qsort(own, nown, sizeof(*own), rt_fib_cmp);
	if (lc.phase == 0) {
		/* A batch takes whole hash buckets: never fewer than 64. */
		cnt = max > 64 ? (__u32)max : 64;
		keys = malloc(cnt * sizeof(*keys));
		vals = malloc(cnt * sizeof(*vals));
		if (!keys || !vals) {
			r = -ENOMEM;
		} else if (bpf_map_lookup_batch(rfd, lc.have ? &lc.token : NULL,
						&lc.token, keys, vals, &cnt,
						NULL)) {
			if (errno != ENOENT)
				r = nfc_nf_error(nf, errno,
						 "routes: read rt_rib: %s",
						 strerror(errno));
			lc.phase = 1;
		}
		lc.have = 1;
		for (__u32 i = 0; !r && i < cnt; i++)
			n += !json_array_append_new(
				out,
				static_json(pc, own, nown, &keys[i], &vals[i]));
	}
	/* 0 entries means the end: the connected routes get a page of
	 * their own unless the table ended with an empty batch. */
	if (!r && lc.phase == 1 && !n) {
		for (int q = 0; q < NFC_MAX_PORTS; q++) {
			if (pc[q].used && pc[q].ip.family && pc[q].ip.plen < 32)
				n += !json_array_append_new(
					out,
					connected_json(pc[q].ip, pc[q].name));
			if (pc[q].used && pc[q].ip6.family)
				n += !json_array_append_new(
					out,
					connected_json(pc[q].ip6, pc[q].name));
		}
		lc.phase = 2;
	}
	free(keys);
	free(vals);
	memcpy(cur->b, &lc, sizeof(lc));
	return r ? r : (int)n;
}

int rt_routes_list(struct nfc_nf *nf, json_t *out)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct fib_ent own[4 * NFC_MAX_PORTS];
	struct rt_rib_key k, next, *prev = NULL;
	int rfd = nfc_nf_map_fd(nf, "rt_rib"), r, nown;
	struct list_ent *l = NULL;
	size_t n = 0, cap = 0;

	if (rfd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_rib not found");
	r = rt_load_ports(nf, pc);
	if (r)
		return r;
	nown = rt_fib_port_entries(pc, own);
	qsort(own, nown, sizeof(*own), rt_fib_cmp);
	for (;;) {
		struct list_ent e;

		if (n == cap) {
			void *t = realloc(l, (cap = cap ? 2 * cap : 256) *
						     sizeof(*l));

			if (!t)
				break;
			l = t;
		}
		if (n < NFC_MAX_PORTS) {
			/* Connected routes first in the walk (sorted later). */
			int p = -1, seen = 0;

			for (int q = 0; q < NFC_MAX_PORTS; q++)
				if (pc[q].used && pc[q].ip.family &&
				    pc[q].ip.plen < 32 && seen++ == (int)n) {
					p = q;
					break;
				}
			if (p >= 0) {
				struct rt_pfx s = pc[p].ip;

				s.a.v4 &= rt_mask(s.plen);
				l[n++] = list_ent_of(
					RT_AF_INET, s.plen, &s.a.v4,
					connected_json(s, pc[p].name));
				continue;
			}
		}
		if (bpf_map_get_next_key(rfd, prev, &next))
			break;
		k = next;
		prev = &k;
		{
			struct rt_rib_val v;

			if (bpf_map_lookup_elem(rfd, &k, &v))
				continue;
			e = list_ent_of(k.family, k.plen, &k.addr, NULL);
			e.o = static_json(pc, own, nown, &k, &v);
			l[n++] = e;
		}
	}
	/* The ports' IPv6 subnets. */
	for (int q = 0; q < NFC_MAX_PORTS; q++) {
		struct rt_pfx s = pc[q].ip6;
		void *t;

		if (!pc[q].used || !s.family)
			continue;
		if (n == cap) {
			t = realloc(l,
				    (cap = cap ? 2 * cap : 256) * sizeof(*l));
			if (!t)
				break;
			l = t;
		}
		rt_mask6(s.a.v6, s.plen);
		l[n++] = list_ent_of(RT_AF_INET6, s.plen, s.a.v6,
				     connected_json(s, pc[q].name));
	}
	if (l)
		qsort(l, n, sizeof(*l), list_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, l[i].o);
	free(l);
	return 0;
}

/* ---- static ARP entries ---- */

/* Where address ip of either family lies: own (an address of this
 * router), on port p's subnet, or the port whose subnet holds it (-1). */
static int own_addr(const struct rt_pcfg *pc, const struct rt_pfx *ip)
{
	return ip->family == RT_AF_INET6 ? rt_is_own_addr6(pc, ip->a.v6)
					 : rt_is_own_addr(pc, ip->a.v4);
}

static int on_port(const struct rt_pcfg *pc, int p, const struct rt_pfx *ip)
{
	return ip->family == RT_AF_INET6
		       ? rt_is_ll6(ip->a.v6) ||
				 rt_subnet_has6(&pc[p].ip6, ip->a.v6)
		       : rt_subnet_has(&pc[p].ip, ip->a.v4);
}

static int port_for(const struct rt_pcfg *pc, const struct rt_pfx *ip)
{
	return ip->family == RT_AF_INET6 ? rt_port_for6(pc, ip->a.v6)
					 : rt_port_for(pc, ip->a.v4);
}

/* A static neighbour of either family as rt_sarp holds it (k, v) and the
 * port it is on (*pp), checked before anything is written. */
static int sarp_check(struct nfc_nf *nf, int sfd, const char *key,
		      const struct rt_pfx *ip, json_t *fields,
		      struct rt_rib_key *k, struct rt_sarp_val *v, int *pp)
{
	const char *mac = json_string_value(json_object_get(fields, "mac"));
	const char *port = json_string_value(json_object_get(fields, "port"));
	int v6 = ip->family == RT_AF_INET6;
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_sarp_val cur;
	char b[512];
	int r, p;

	if (!mac || nfc_parse_mac(mac, v->mac))
		return nfc_nf_error(nf, EINVAL, "arp entry %s: mac= is needed",
				    key);
	if (rt_mac_is_multicast(v->mac) || !memcmp(v->mac, "\0\0\0\0\0\0", 6))
		return nfc_nf_error(nf, EINVAL,
				    "arp entry %s: mac %s is not a unicast "
				    "address",
				    key, mac);
	if (v6 && (ip->a.v6[0] == 0xff ||
		   !memcmp(ip->a.v6, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15)))
		return nfc_nf_error(nf, EINVAL,
				    "arp entry %s: not a unicast address", key);
	r = rt_load_ports(nf, pc);
	if (r)
		return r;
	*k = (struct rt_rib_key){.family = ip->family, .plen = v6 ? 128 : 32};
	k->addr = ip->a;
	if (!bpf_map_lookup_elem(sfd, k, &cur)) {
		nfc_mac_str(cur.mac, b);
		return nfc_nf_error(nf, EEXIST,
				    "arp entry %s exists already (mac %s); "
				    "delete it first",
				    key, b);
	}
	if (own_addr(pc, ip))
		return nfc_nf_error(nf, EINVAL,
				    "arp entry %s: an address of this router",
				    key);
	if (!v6)
		rt_subnets_str(pc, b, sizeof(b));
	/* A restore takes back an entry that went inactive (its port
	 * deleted, its subnet changed): kept as a static record only, which
	 * applies again when its port fits (*pp -1). */
	if (nfc_nf_applying(nf)) {
		p = port			? nfc_nf_port_index(nf, port)
		    : v6 && rt_is_ll6(ip->a.v6) ? -1
						: port_for(pc, ip);
		if (p < 0 || (port && !on_port(pc, p, ip))) {
			snprintf(v->port, sizeof(v->port), "%s",
				 port ? port : "");
			*pp = -1;
			return 0;
		}
	}
	if (port) {
		p = nfc_nf_port_index(nf, port);
		if (p < 0)
			return nfc_nf_error(nf, ENOENT,
					    "arp entry %s: no port %s", key,
					    port);
		if (!on_port(pc, p, ip))
			return nfc_nf_error(
				nf, EINVAL,
				v6 ? "arp entry %s: not on the IPv6 subnet of "
				     "port %s"
				   : "arp entry %s: not on the subnet of port "
				     "%s (subnets: %s)",
				key, port, b);
		if (v6 && pc[p].mtu && pc[p].mtu < 1280 && !nfc_nf_applying(nf))
			return nfc_nf_error(nf, EINVAL,
					    "arp entry %s: port %s has mtu %u, "
					    "below 1280: it carries no IPv6 "
					    "(RFC 8200)",
					    key, port, pc[p].mtu);
		snprintf(v->port, sizeof(v->port), "%s", port);
	} else if (v6 && rt_is_ll6(ip->a.v6)) {
		return nfc_nf_error(nf, EINVAL,
				    "arp entry %s: link-local: say which port "
				    "it is on (port=)",
				    key);
	} else {
		p = port_for(pc, ip);
		if (p < 0)
			return nfc_nf_error(
				nf, EINVAL,
				v6 ? "arp entry %s: not on a connected IPv6 "
				     "subnet"
				   : "arp entry %s: not on a connected subnet "
				     "(%s)",
				key, b);
	}
	*pp = p;
	return 0;
}

int rt_arp_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct rt_rib_key k;
	struct rt_sarp_val v = {0};
	struct rt_neigh n = {0};
	int sfd = nfc_nf_map_fd(nf, "rt_sarp"),
	    afd = nfc_nf_map_fd(nf, "rt_arp");
	struct rt_pfx ip;
	int r, p;

	if (sfd < 0 || afd < 0)
		return nfc_nf_error(nf, ENOENT, "ARP maps not found");
	r = rt_pfx_parse(nf, "arp entry", key, 0, &ip);
	if (!r)
		r = sarp_check(nf, sfd, key, &ip, fields, &k, &v, &p);
	if (r)
		return r;
	if (bpf_map_update_elem(sfd, &k, &v, BPF_NOEXIST))
		return nfc_nf_error(nf, errno,
				    "arp entry %s: %s (at most %d static "
				    "entries)",
				    key, strerror(errno), RT_MAX_SARP);
	if (p < 0)
		return 0; /* inactive (sarp_check): the record only */
	memcpy(n.mac, v.mac, 6);
	n.state = RT_N_STATIC;
	n.port = p;
	if (ip.family == RT_AF_INET6)
		r = rt_snd_add(nf, &ip, p, &n);
	else if (bpf_map_update_elem(afd, &ip.a.v4, &n, BPF_ANY))
		r = -errno;
	if (r) {
		r = nfc_nf_error(nf, -r, "arp entry %s: %s", key, strerror(-r));
		bpf_map_delete_elem(sfd, &k);
		return r;
	}
	if (ip.family == RT_AF_INET)
		rt_nbr_mirror(nf, ip.a.v4, p, &n);
	return 0;
}

/* Deletes a static entry, or flushes a learnt one. */
int rt_arp_del(struct nfc_nf *nf, const char *key)
{
	struct rt_rib_key k = {0};
	int sfd = nfc_nf_map_fd(nf, "rt_sarp"),
	    afd = nfc_nf_map_fd(nf, "rt_arp");
	struct rt_neigh old;
	struct rt_pfx ip;
	int r, had;

	if (sfd < 0 || afd < 0)
		return nfc_nf_error(nf, ENOENT, "ARP maps not found");
	r = rt_pfx_parse(nf, "arp entry", key, 0, &ip);
	if (r)
		return r;
	if (ip.family == RT_AF_INET6)
		return rt_snd_del(nf, key, &ip);
	k.family = RT_AF_INET;
	k.plen = 32;
	k.addr = ip.a;
	had = !bpf_map_delete_elem(sfd, &k);
	if (!bpf_map_lookup_elem(afd, &ip.a.v4, &old)) {
		rt_nbr_mirror(nf, ip.a.v4, old.port, NULL);
		had |= !bpf_map_delete_elem(afd, &ip.a.v4);
	}
	if (!had)
		return nfc_nf_error(nf, ENOENT, "arp entry %s does not exist",
				    key);
	return 0;
}

int rt_arp_list(struct nfc_nf *nf, json_t *out)
{
	int r = rt_arp_list4(nf, out);

	return r ? r : rt_snd_list(nf, out, 1);
}

int rt_arp_list4(struct nfc_nf *nf, json_t *out)
{
	int afd = nfc_nf_map_fd(nf, "rt_arp"),
	    sfd = nfc_nf_map_fd(nf, "rt_sarp");
	__be32 k, next, *prev = NULL;
	struct rt_rib_key sk, snext, *sprev = NULL;
	uint64_t now = nfc_now_ns();
	char a[INET6_ADDRSTRLEN], m[NFC_MAC_STRLEN];

	if (afd < 0 || sfd < 0)
		return nfc_nf_error(nf, ENOENT, "ARP maps not found");
	while (!bpf_map_get_next_key(afd, prev, &next)) {
		struct rt_neigh n;
		const char *pn;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(afd, &k, &n))
			continue;
		pn = nfc_nf_port_name(nf, n.port);
		nfc_mac_str(n.mac, m);
		json_array_append_new(
			out,
			json_pack("{s:s,s:s,s:s,s:s,s:I}", "address",
				  rt_ntoa(k, a), "mac", m, "port",
				  pn ? pn : "-", "state",
				  n.state == RT_N_STATIC ? "static"
				  : n.probes		 ? "probing"
							 : "reachable",
				  "age",
				  (json_int_t)(n.state == RT_N_STATIC ||
							       now < n.updated
						       ? 0
						       : (now - n.updated) /
								 NS_PER_SEC)));
	}
	/* Static entries that apply nowhere now (their port went away). */
	while (!bpf_map_get_next_key(sfd, sprev, &snext)) {
		struct rt_sarp_val sv;
		struct rt_neigh n;

		sk = snext;
		sprev = &sk;
		if (sk.family != RT_AF_INET ||
		    bpf_map_lookup_elem(sfd, &sk, &sv) ||
		    (!bpf_map_lookup_elem(afd, &sk.addr.v4, &n) &&
		     n.state == RT_N_STATIC))
			continue;
		nfc_mac_str(sv.mac, m);
		json_array_append_new(
			out, json_pack("{s:s,s:s,s:s,s:s,s:I}", "address",
				       rt_ntoa(sk.addr.v4, a), "mac", m, "port",
				       sv.port[0] ? sv.port : "-", "state",
				       "static, inactive (not on a port's "
				       "subnet)",
				       "age", (json_int_t)0));
	}
	return 0;
}
