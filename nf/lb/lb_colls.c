// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lb: the services and backends collections. add, del and replace all
 * come down to one step per collection, "make the set exactly this"
 * (svcs_set, bes_set): every entry checked against the whole new set
 * first, then the maps written in an order that keeps every packet's
 * lookup valid, and each touched service's table rebuilt and switched in
 * once. `backends set KEY state=drain` is one replace: the backend keeps
 * its id, so its connections keep it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "lb_int.h"

#define KEYLEN 128

/* ---- services ---- */

struct svc_want {
	struct lb_vip vip;
	__u32 forward, table;
	char key[KEYLEN];
};

/* `config`: the lb's (its mtu), or an apply's document's. */
static int svc_parse(struct nfc_nf *nf, json_t *config, const char *key,
		     json_t *fields, const struct lb_state *st,
		     struct svc_want *w)
{
	const char *fwd = json_string_value(json_object_get(fields, "forward"));
	json_t *t = json_object_get(fields, "table");
	char err[256];
	const char *bad;

	if (lb_parse_svc(key, &w->vip, err, sizeof(err)))
		return nfc_nf_error(nf, EINVAL, "service %s: %s", key, err);
	lb_svc_str(&w->vip, w->key, sizeof(w->key));
	/* Found by a helper: 0.0.0.0, a broadcast or multicast VIP was
	 * taken. A state saved before the check is taken as it was, and a
	 * service held already stays (a replace that keeps it). */
	bad = lb_not_unicast(w->vip.family, w->vip.addr);
	if (bad && !nfc_nf_applying(nf) &&
	    !(st && lb_svc_find(st, &w->vip) >= 0))
		return nfc_nf_error(nf, EINVAL,
				    "service %s: the VIP is %s, not one a "
				    "client can connect to",
				    key, bad);
	w->forward = fwd && !strcmp(fwd, "nat") ? LB_FWD_NAT : LB_FWD_DSR;
	w->table = t ? json_integer_value(t) : LB_TABLE_DEF;
	if (w->vip.family == LB_AF_INET6 && w->forward == LB_FWD_DSR) {
		json_int_t mtu =
			json_integer_value(json_object_get(config, "mtu"));

		if (mtu > 0 && mtu < LB_MTU6_MIN)
			return nfc_nf_error(
				nf, EINVAL,
				"service %s: forward=dsr in IPv6 needs the "
				"lb's mtu at least %d or 0 (it is %lld): "
				"ip6ip6 adds 40 bytes, and a packet-too-big "
				"below IPv6's 1280 is not followed",
				key, LB_MTU6_MIN, (long long)mtu);
	}
	if (!lb_is_prime(w->table))
		return nfc_nf_error(nf, EINVAL,
				    "service %s: table=%u is not a prime "
				    "(Maglev needs a prime size; 65537 is the "
				    "usual one)",
				    key, w->table);
	return 0;
}

int lb_dsr6_find(struct nfc_nf *nf, char *key, size_t len)
{
	struct lb_state *st;
	int found = 0;

	/* No maps yet (an lb being added): no services. */
	if (nfc_nf_map_fd(nf, "lb_svcs") < 0 || nfc_nf_map_fd(nf, "lb_bes") < 0)
		return 0;
	st = malloc(sizeof(*st));
	if (!st || lb_state_load(nf, st)) {
		free(st);
		return 0;
	}
	for (int id = 0; id < LB_MAX_SVC && !found; id++) {
		if (!st->svc[id].used ||
		    st->svc[id].vip.family != LB_AF_INET6 ||
		    st->svc[id].svc.forward != LB_FWD_DSR)
			continue;
		lb_svc_str(&st->svc[id].vip, key, len);
		found = 1;
	}
	free(st);
	return found;
}

/* Maglev keeps each backend's share within 1% of the table when the
 * table is at least 100 times the backend count (the paper's M >> 100N). */
static int table_fits(struct nfc_nf *nf, const char *svc, __u32 table, int n)
{
	if ((__u64)table >= 100ULL * n)
		return 0;
	return nfc_nf_error(nf, EINVAL,
			    "service %s: table=%u is too small for %d "
			    "backends: it must be at least 100 times the "
			    "backend count (%d) for shares within 1%%; use "
			    "a larger prime",
			    svc, table, n, 100 * n);
}

/* Two backends of service id at one address (their ports differ): 1,
 * with their keys in a and b. */
static int svc_twins(const struct lb_state *st, int id, char *a, char *b,
		     size_t len)
{
	for (int i = 0; i < LB_MAX_BE; i++)
		for (int j = 0; j < i; j++) {
			const struct lb_be *x = &st->be[i], *y = &st->be[j];

			if (x->state == LB_BE_FREE || y->state == LB_BE_FREE ||
			    x->svc != (__u32)id || y->svc != (__u32)id ||
			    x->family != y->family ||
			    memcmp(x->addr, y->addr, sizeof(x->addr)))
				continue;
			lb_be_str(&st->svc[id].vip, y, a, len);
			lb_be_str(&st->svc[id].vip, x, b, len);
			return 1;
		}
	return 0;
}

static int svcs_set(struct nfc_nf *nf, struct lb_state *st, struct svc_want *w,
		    size_t n)
{
	int vfd = nfc_nf_map_fd(nf, "lb_vips"),
	    sfd = nfc_nf_map_fd(nf, "lb_svcs"),
	    rfd = nfc_nf_map_fd(nf, "lb_rings"), r = 0;
	int ids[LB_MAX_SVC], nfree = 0;
	char keep[LB_MAX_SVC] = {0}, ks[KEYLEN];

	if (vfd < 0 || sfd < 0 || rfd < 0)
		return nfc_nf_error(nf, ENOENT, "lb maps not found");
	if (n > LB_MAX_SVC)
		return nfc_nf_error(nf, E2BIG,
				    "%zu services: an lb holds at most %d", n,
				    LB_MAX_SVC);
	for (size_t i = 0; i < n; i++) {
		int id = lb_svc_find(st, &w[i].vip);

		for (size_t j = 0; j < i; j++)
			if (!memcmp(&w[j].vip, &w[i].vip, sizeof(w[i].vip)))
				return nfc_nf_error(nf, EINVAL,
						    "service %s is given twice",
						    w[i].key);
		if (id >= 0 && w[i].forward == LB_FWD_DSR &&
		    st->svc[id].svc.forward != LB_FWD_DSR &&
		    !nfc_nf_applying(nf)) {
			char a[KEYLEN], b[KEYLEN];

			if (svc_twins(st, id, a, b, KEYLEN))
				return nfc_nf_error(
					nf, EINVAL,
					"service %s: forward=dsr "
					"does not use the backends' "
					"ports, and %s and %s are "
					"one host: delete one first",
					w[i].key, a, b);
		}
		if (id >= 0) {
			keep[id] = 1;
			/* In an apply the backends come next, checked
			 * against this document (lb_bes_check): the ones
			 * in the maps may be going (a helper's table
			 * shrunk with them was refused, its dry run
			 * passed). */
			r = nfc_nf_applying_doc(nf)
				    ? 0
				    : table_fits(nf, w[i].key, w[i].table,
						 lb_svc_nbe(st, id));
			if (r)
				return r;
		}
	}
	for (int id = 0; id < LB_MAX_SVC; id++) {
		int nb;

		/* ... and a service deleted with its backends. */
		if (!st->svc[id].used || keep[id] || nfc_nf_applying_doc(nf))
			continue;
		nb = lb_svc_nbe(st, id);
		lb_svc_str(&st->svc[id].vip, ks, sizeof(ks));
		if (nb)
			return nfc_nf_error(nf, EBUSY,
					    "service %s has %d backend%s: "
					    "delete %s first",
					    ks, nb, nb > 1 ? "s" : "",
					    nb > 1 ? "them" : "it");
	}
	/* Checked: now written. Every VIP that comes, goes or changes is
	 * looked up in lb_vips until the end (lb_vidx.c). */
	{
		struct lb_vip hold[2 * LB_MAX_SVC];
		size_t nh = 0;

		for (int id = 0; id < LB_MAX_SVC; id++)
			if (st->svc[id].used)
				hold[nh++] = st->svc[id].vip;
		for (size_t i = 0; i < n; i++)
			hold[nh++] = w[i].vip;
		r = lb_vidx_hold(nf, hold, nh);
		if (r)
			return r;
	}
	/* Services that go, first (their ids are free for the new ones). */
	for (int id = 0; id < LB_MAX_SVC; id++) {
		__u32 k = id;

		if (!st->svc[id].used || keep[id])
			continue;
		bpf_map_delete_elem(vfd, &st->svc[id].vip);
		bpf_map_delete_elem(rfd, &k);
		memset(&st->svc[id], 0, sizeof(st->svc[id]));
		bpf_map_update_elem(sfd, &k, &st->svc[id], BPF_ANY);
	}
	for (int id = LB_MAX_SVC - 1; id >= 0; id--)
		if (!st->svc[id].used)
			ids[nfree++] = id;
	for (size_t i = 0; i < n && !r; i++) {
		int id = lb_svc_find(st, &w[i].vip);
		struct lb_svc_rec *rec;
		__u32 old, k;

		if (id < 0) {
			id = ids[--nfree];
			lb_stat_zero(nf, "lb_svc_stats", id);
		}
		k = id;
		rec = &st->svc[id];
		old = rec->used ? rec->svc.table : 0;
		rec->used = 1;
		rec->vip = w[i].vip;
		rec->svc = (struct lb_svc){
			.id = id, .forward = w[i].forward, .table = w[i].table};
		if (bpf_map_update_elem(sfd, &k, rec, BPF_ANY)) {
			r = nfc_nf_error(nf, errno, "service %s: %s", w[i].key,
					 strerror(errno));
			break;
		}
		/* A table that changes size: the fast path takes the slot
		 * modulo the service's size, which must never exceed the
		 * table it finds. Smaller: the size first; larger: the
		 * table first. */
		if (old && old > w[i].table)
			bpf_map_update_elem(vfd, &rec->vip, &rec->svc, BPF_ANY);
		if (old && old != w[i].table)
			r = lb_ring_publish(nf, st, id);
		if (!r &&
		    bpf_map_update_elem(vfd, &rec->vip, &rec->svc, BPF_ANY))
			r = nfc_nf_error(nf, errno, "service %s: %s", w[i].key,
					 strerror(errno));
	}
	/* After a failure the held slots stay held: slower, not wrong. */
	return r ? r : lb_vidx_sync(nf, st);
}

/* The current services as wanted entries, with room for one more. */
static struct svc_want *svcs_current(const struct lb_state *st, size_t *n)
{
	struct svc_want *w = calloc(LB_MAX_SVC + 1, sizeof(*w));

	*n = 0;
	for (int id = 0; w && id < LB_MAX_SVC; id++) {
		if (!st->svc[id].used)
			continue;
		w[*n].vip = st->svc[id].vip;
		w[*n].forward = st->svc[id].svc.forward;
		w[*n].table = st->svc[id].svc.table;
		lb_svc_str(&w[*n].vip, w[*n].key, KEYLEN);
		(*n)++;
	}
	return w;
}

/* A service of an apply's document, with the document's config, before
 * the apply changes anything. */
int lb_svcs_check(struct nfc_nf *nf, json_t *config, const char *key,
		  json_t *fields)
{
	size_t n = json_object_size(nfc_nf_coll(nf, "services"));
	struct svc_want w;

	/* The document's count, as svcs_set will see it (its dry run
	 * passed 65 services that the apply refused; a helper). */
	if (n > LB_MAX_SVC)
		return nfc_nf_error(nf, E2BIG,
				    "%zu services: an lb holds at most %d", n,
				    LB_MAX_SVC);
	return svc_parse(nf, config, key, fields, NULL, &w);
}

int lb_svcs_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct lb_state *st = malloc(sizeof(*st));
	struct svc_want *w = NULL;
	size_t n;
	int r = st ? lb_state_load(nf, st) : -ENOMEM;

	if (!r)
		w = svcs_current(st, &n);
	if (!r && !w)
		r = -ENOMEM;
	if (!r)
		r = svc_parse(nf, nfc_nf_config(nf), key, fields, st, &w[n]);
	if (!r && lb_svc_find(st, &w[n].vip) >= 0)
		r = nfc_nf_error(nf, EEXIST,
				 "service %s exists already (change it with "
				 "services set)",
				 key);
	if (!r)
		r = svcs_set(nf, st, w, n + 1);
	free(w);
	free(st);
	return r;
}

/* A key in its one spelling, before anything is looked up: `set` and
 * `show` of a misspelled key said "no such entry" where `del` said how to
 * write it (found by a helper). */
int lb_svcs_check_key(struct nfc_nf *nf, const char *key)
{
	struct lb_vip v;
	char err[256];

	if (lb_parse_svc(key, &v, err, sizeof(err)))
		return nfc_nf_error(nf, EINVAL, "service %s: %s", key, err);
	return 0;
}

int lb_svcs_del(struct nfc_nf *nf, const char *key)
{
	struct lb_state *st = malloc(sizeof(*st));
	struct svc_want *w = NULL;
	struct lb_vip v;
	char err[256];
	size_t n, j = 0;
	int r = st ? lb_state_load(nf, st) : -ENOMEM;

	if (!r && lb_parse_svc(key, &v, err, sizeof(err)))
		r = nfc_nf_error(nf, EINVAL, "service %s: %s", key, err);
	if (!r && lb_svc_find(st, &v) < 0)
		r = nfc_nf_error(nf, ENOENT, "service %s does not exist", key);
	if (!r)
		w = svcs_current(st, &n);
	if (!r && !w)
		r = -ENOMEM;
	if (!r) {
		for (size_t i = 0; i < n; i++)
			if (memcmp(&w[i].vip, &v, sizeof(v)))
				w[j++] = w[i];
		r = svcs_set(nf, st, w, j);
	}
	free(w);
	free(st);
	return r;
}

int lb_svcs_replace(struct nfc_nf *nf, json_t *entries)
{
	struct lb_state *st = malloc(sizeof(*st));
	size_t n = json_object_size(entries), i = 0;
	struct svc_want *w = calloc(n + 1, sizeof(*w));
	const char *key;
	json_t *f;
	int r = st && w ? lb_state_load(nf, st) : -ENOMEM;

	json_object_foreach (entries, key, f) {
		if (r)
			break;
		r = svc_parse(nf, nfc_nf_config(nf), key, f, st, &w[i++]);
	}
	if (!r)
		r = svcs_set(nf, st, w, n);
	free(w);
	free(st);
	return r;
}

/* ---- backends ---- */

struct be_want {
	struct lb_be be; /* svc, weight, state set */
	char key[KEYLEN];
};

#define DSR_TWIN_FMT                                                    \
	"backend %s: with forward=dsr the port is not used, and %s is " \
	"the same host: one host is one backend (its weight, its drain)"

static int be_same(const struct lb_be *a, const struct lb_be *b)
{
	return a->svc == b->svc && a->family == b->family &&
	       a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

static int be_find(const struct lb_state *st, const struct lb_be *b)
{
	for (int i = 0; i < LB_MAX_BE; i++)
		if (st->be[i].state != LB_BE_FREE && be_same(&st->be[i], b))
			return i;
	return -1;
}

static int be_parse(struct nfc_nf *nf, const struct lb_state *st,
		    const char *key, json_t *fields, struct be_want *w)
{
	const char *state = json_string_value(json_object_get(fields, "state"));
	json_t *wt = json_object_get(fields, "weight");
	struct lb_vip v;
	char err[256], vs[KEYLEN];
	const char *bad;
	int sid;

	if (lb_parse_be(key, &v, &w->be, err, sizeof(err)))
		return nfc_nf_error(nf, EINVAL, "backend %s: %s", key, err);
	sid = lb_svc_find(st, &v);
	lb_svc_str(&v, vs, sizeof(vs));
	if (sid < 0)
		return nfc_nf_error(nf, ENOENT,
				    "backend %s: unknown service %s (add it "
				    "first: services add %s)",
				    key, vs, vs);
	/* A state saved before these checks is taken as it was. */
	if (w->be.port && w->be.port == v.port && !nfc_nf_applying(nf)) {
		/* One spelling a backend: .../ADDR:80 beside .../ADDR was a
		 * second backend with a weight of its own, and a drain of
		 * one left the other taking new connections. */
		struct lb_be b = w->be;

		b.port = 0;
		lb_be_str(&v, &b, w->key, sizeof(w->key));
		return nfc_nf_error(nf, EINVAL,
				    "backend %s: %u is the service's own port: "
				    "write it as %s",
				    key, ntohs(v.port), w->key);
	}
	w->be.svc = sid;
	/* Found by a helper: a backend at 0.0.0.0, a broadcast or
	 * multicast address or its own VIP was taken, and took its share.
	 * Not for a delete (fields NULL), a backend held already or a
	 * state saved before the check. */
	bad = lb_not_unicast(w->be.family, w->be.addr);
	if (!bad && !memcmp(w->be.addr, v.addr, sizeof(v.addr)))
		bad = "the service's own VIP (a loop)";
	if (bad && fields && !nfc_nf_applying(nf) && be_find(st, &w->be) < 0)
		return nfc_nf_error(nf, EINVAL,
				    "backend %s: its address is %s, not a "
				    "host that can answer",
				    key, bad);
	w->be.weight = wt ? json_integer_value(wt) : 1;
	if (w->be.weight < 1 || w->be.weight > LB_WEIGHT_MAX)
		return nfc_nf_error(nf, ERANGE,
				    "backend %s: weight %u is out of range "
				    "(1-%d)",
				    key, w->be.weight, LB_WEIGHT_MAX);
	w->be.state = state && !strcmp(state, "drain") ? LB_BE_DRAIN : LB_BE_UP;
	lb_be_str(&v, &w->be, w->key, sizeof(w->key));
	return 0;
}

static int be_write(int fd, __u32 id, const struct lb_be *b, struct nfc_nf *nf,
		    const char *key)
{
	if (!bpf_map_update_elem(fd, &id, b, BPF_ANY))
		return 0;
	return nfc_nf_error(nf, errno, "backend %s: %s", key, strerror(errno));
}

/*
 * Makes the backends exactly w[0..n-1]. Written so that a packet never
 * finds a table slot naming a backend not yet (or no longer) up: new
 * backends and those coming up first, then each touched service's table,
 * then backends going to drain or away. A backend kept keeps its id and
 * generation (its connections stay); an id given to a new backend gets a
 * new generation (connections to the old one let go of it).
 */
/* With forward=dsr a backend's port is not used: two keys at one address
 * are one host with two weights, and a drain of one left it taking new
 * connections through the other (found by a helper). Backend i against
 * those before it; a state saved before the check is taken as it was. */
static int dsr_twin(struct nfc_nf *nf, const struct lb_state *st,
		    const struct be_want *w, size_t i)
{
	const struct lb_be *b = &w[i].be;

	if (nfc_nf_applying(nf) || st->svc[b->svc].svc.forward != LB_FWD_DSR)
		return 0;
	for (size_t j = 0; j < i; j++)
		if (w[j].be.svc == b->svc && w[j].be.family == b->family &&
		    !memcmp(w[j].be.addr, b->addr, sizeof(b->addr)) &&
		    (be_find(st, b) < 0 || be_find(st, &w[j].be) < 0))
			return nfc_nf_error(nf, EINVAL, DSR_TWIN_FMT, w[i].key,
					    w[j].key);
	return 0;
}

static int bes_set(struct nfc_nf *nf, struct lb_state *st, struct be_want *w,
		   size_t n)
{
	int fd = nfc_nf_map_fd(nf, "lb_bes"), r = 0;
	int *id = calloc(n + 1, sizeof(*id)), cnt[LB_MAX_SVC] = {0};
	char touched[LB_MAX_SVC] = {0}, *keep = calloc(LB_MAX_BE, 1);
	struct lb_be old[1];

	if (!id || !keep) {
		r = -ENOMEM;
		goto out;
	}
	if (fd < 0) {
		r = nfc_nf_error(nf, ENOENT, "lb maps not found");
		goto out;
	}
	if (n > LB_MAX_BE) {
		r = nfc_nf_error(nf, E2BIG,
				 "%zu backends: an lb holds at most %d", n,
				 LB_MAX_BE);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (be_same(&w[j].be, &w[i].be)) {
				r = nfc_nf_error(nf, EINVAL,
						 "backend %s is given twice",
						 w[i].key);
				goto out;
			}
		r = dsr_twin(nf, st, w, i);
		if (r)
			goto out;
		cnt[w[i].be.svc]++;
		id[i] = be_find(st, &w[i].be);
		if (id[i] >= 0)
			keep[id[i]] = 1;
	}
	/* In an apply the document was checked whole (lb_bes_check), and
	 * its services' tables may be written after these backends: the
	 * undo of a refused apply puts backends back before the table
	 * they fit (a helper's refused apply left 2 of 5 backends). */
	for (int s = 0; s < LB_MAX_SVC && !nfc_nf_applying_doc(nf); s++) {
		char vs[KEYLEN];

		if (!st->svc[s].used || !cnt[s])
			continue;
		lb_svc_str(&st->svc[s].vip, vs, sizeof(vs));
		r = table_fits(nf, vs, st->svc[s].svc.table, cnt[s]);
		if (r)
			goto out;
	}
	/* Free ids for new backends: not one a kept backend holds, nor one
	 * freed in this call (its old connections must not match). */
	for (size_t i = 0, next = 0; i < n; i++) {
		if (id[i] >= 0)
			continue;
		while (next < LB_MAX_BE &&
		       (st->be[next].state != LB_BE_FREE || keep[next]))
			next++;
		id[i] = next++;
		keep[id[i]] = 2; /* taken by a new backend */
	}
	/* 1: new backends and those that come up (or only change weight). */
	for (size_t i = 0; i < n && !r; i++) {
		struct lb_be *b = &st->be[id[i]], nb = w[i].be;

		if (keep[id[i]] == 2) {
			nb.gen = b->gen + 1;
			lb_stat_zero(nf, "lb_be_stats", id[i]);
		} else {
			nb.gen = b->gen;
			if (!memcmp(b, &nb, sizeof(nb)))
				continue;
		}
		touched[nb.svc] = 1;
		if (nb.state != LB_BE_UP && keep[id[i]] != 2)
			continue; /* step 3 */
		*b = nb;
		r = be_write(fd, id[i], b, nf, w[i].key);
	}
	for (int i = 0; i < LB_MAX_BE; i++)
		if (st->be[i].state != LB_BE_FREE && !keep[i])
			touched[st->be[i].svc] = 1;
	/* 2: the tables, from the set as it will be. */
	for (size_t i = 0; i < n && !r; i++)
		if (w[i].be.state != LB_BE_UP) {
			old[0] = w[i].be;
			old[0].gen = st->be[id[i]].gen;
			st->be[id[i]] = old[0];
		}
	for (int i = 0; i < LB_MAX_BE; i++)
		if (st->be[i].state != LB_BE_FREE && !keep[i])
			st->be[i].state = LB_BE_FREE; /* gen kept */
	for (int s = 0; s < LB_MAX_SVC && !r; s++)
		if (touched[s] && st->svc[s].used)
			r = lb_ring_publish(nf, st, s);
	/* 3: drains and removals, now that no table names them. */
	for (size_t i = 0; i < n && !r; i++)
		if (w[i].be.state != LB_BE_UP)
			r = be_write(fd, id[i], &st->be[id[i]], nf, w[i].key);
	for (int i = 0; i < LB_MAX_BE && !r; i++)
		if (!keep[i] && st->be[i].state == LB_BE_FREE &&
		    st->be[i].weight)
			r = be_write(fd, i, &st->be[i], nf, "(removed)");
out:
	free(id);
	free(keep);
	return r;
}

static struct be_want *bes_current(const struct lb_state *st, size_t *n)
{
	struct be_want *w = calloc(LB_MAX_BE + 1, sizeof(*w));

	*n = 0;
	for (int i = 0; w && i < LB_MAX_BE; i++) {
		if (st->be[i].state == LB_BE_FREE)
			continue;
		w[*n].be = st->be[i];
		w[*n].be.gen = 0;
		lb_be_str(&st->svc[st->be[i].svc].vip, &st->be[i], w[*n].key,
			  KEYLEN);
		(*n)++;
	}
	return w;
}

int lb_bes_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct lb_state *st = malloc(sizeof(*st));
	struct be_want *w = NULL;
	size_t n;
	int r = st ? lb_state_load(nf, st) : -ENOMEM;

	if (!r)
		w = bes_current(st, &n);
	if (!r && !w)
		r = -ENOMEM;
	if (!r)
		r = be_parse(nf, st, key, fields, &w[n]);
	if (!r && be_find(st, &w[n].be) >= 0)
		r = nfc_nf_error(nf, EEXIST,
				 "backend %s exists already (change it with "
				 "backends set)",
				 key);
	if (!r)
		r = bes_set(nf, st, w, n + 1);
	free(w);
	free(st);
	return r;
}

int lb_bes_check_key(struct nfc_nf *nf, const char *key)
{
	struct lb_vip v;
	struct lb_be b;
	char err[256], want[KEYLEN];

	if (lb_parse_be(key, &v, &b, err, sizeof(err)))
		return nfc_nf_error(nf, EINVAL, "backend %s: %s", key, err);
	/* As be_parse says it (a saved state is taken as it was). */
	if (b.port && b.port == v.port && !nfc_nf_applying(nf)) {
		b.port = 0;
		lb_be_str(&v, &b, want, sizeof(want));
		return nfc_nf_error(nf, EINVAL,
				    "backend %s: %u is the service's own port: "
				    "write it as %s",
				    key, ntohs(v.port), want);
	}
	return 0;
}

int lb_bes_del(struct nfc_nf *nf, const char *key)
{
	struct lb_state *st = malloc(sizeof(*st));
	struct be_want *w = NULL, x;
	size_t n, j = 0;
	int r = st ? lb_state_load(nf, st) : -ENOMEM;

	if (!r)
		r = be_parse(nf, st, key, NULL, &x);
	if (!r && be_find(st, &x.be) < 0)
		r = nfc_nf_error(nf, ENOENT, "backend %s does not exist", key);
	if (!r)
		w = bes_current(st, &n);
	if (!r && !w)
		r = -ENOMEM;
	if (!r) {
		for (size_t i = 0; i < n; i++)
			if (!be_same(&w[i].be, &x.be))
				w[j++] = w[i];
		r = bes_set(nf, st, w, j);
	}
	free(w);
	free(st);
	return r;
}

int lb_bes_replace(struct nfc_nf *nf, json_t *entries)
{
	struct lb_state *st = malloc(sizeof(*st));
	size_t n = json_object_size(entries), i = 0;
	struct be_want *w = calloc(n + 1, sizeof(*w));
	const char *key;
	json_t *f;
	int r = st && w ? lb_state_load(nf, st) : -ENOMEM;

	json_object_foreach (entries, key, f) {
		if (r)
			break;
		r = be_parse(nf, st, key, f, &w[i++]);
	}
	if (!r)
		r = bes_set(nf, st, w, n);
	free(w);
	free(st);
	return r;
}

/* ---- lists, with the figures ---- */

/* Connections in the table now, per backend id. */
static void conns_count(struct nfc_nf *nf, const struct lb_state *st,
			__u64 *act)
{
	int fd = nfc_nf_map_fd(nf, "lb_conns");
	struct lb_flow k, next, *prev = NULL;
	struct lb_conn c;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, &c) && c.be < LB_MAX_BE &&
		    st->be[c.be].state != LB_BE_FREE &&
		    st->be[c.be].gen == c.gen)
			act[c.be]++;
	}
}

static json_t *be_obj(struct nfc_nf *nf, const struct lb_state *st, int i,
		      const __u64 *act, __u32 slots)
{
	int fd = nfc_nf_map_fd(nf, "lb_be_stats");
	const size_t sz = sizeof(struct lb_stat);
	char k[KEYLEN];

	lb_be_str(&st->svc[st->be[i].svc].vip, &st->be[i], k, sizeof(k));
	return json_pack("{s:s,s:i,s:s,s:I,s:I,s:I,s:I,s:I}", "backend", k,
			 "weight", (int)st->be[i].weight, "state",
			 st->be[i].state == LB_BE_UP ? "up" : "drain", "slots",
			 (json_int_t)slots, "connections", (json_int_t)act[i],
			 "new_connections",
			 (json_int_t)nfc_percpu_sum(
				 fd, i, sz, offsetof(struct lb_stat, conns)),
			 "packets",
			 (json_int_t)nfc_percpu_sum(
				 fd, i, sz, offsetof(struct lb_stat, packets)),
			 "bytes",
			 (json_int_t)nfc_percpu_sum(
				 fd, i, sz, offsetof(struct lb_stat, bytes)));
}

/* Each backend's slots in service svc's table (read into tab), added to
 * slots[] (backend ids are the lb's, not a service's): the table's size,
 * or < 1 if it could not be read. */
static int slots_count(struct nfc_nf *nf, int svc, __u32 *tab, __u32 *slots)
{
	int m = lb_ring_read(nf, svc, tab, LB_TABLE_MAX);

	for (int i = 0; i < m; i++)
		if (tab[i] < LB_MAX_BE)
			slots[tab[i]]++;
	return m;
}

int lb_bes_list(struct nfc_nf *nf, json_t *out)
{
	struct lb_state *st = malloc(sizeof(*st));
	__u64 *act = calloc(LB_MAX_BE, sizeof(*act));
	__u32 *tab = malloc(LB_TABLE_MAX * sizeof(*tab));
	__u32 *slots = calloc(LB_MAX_BE, sizeof(*slots));
	int r = st && act && tab && slots ? lb_state_load(nf, st) : -ENOMEM;

	if (!r)
		conns_count(nf, st, act);
	/* The same slots as services show gives (they were always 0). */
	for (int s = 0; !r && s < LB_MAX_SVC; s++)
		if (st->svc[s].used)
			slots_count(nf, s, tab, slots);
	for (int i = 0; !r && i < LB_MAX_BE; i++)
		if (st->be[i].state != LB_BE_FREE)
			json_array_append_new(out,
					      be_obj(nf, st, i, act, slots[i]));
	free(st);
	free(act);
	free(tab);
	free(slots);
	return r;
}

/* FNV-1a of the backends' addresses slot by slot: two lbs given the same
 * backends show the same digest (the table depends on the set, not the
 * order it came in; ids, which differ, are left out). */
static __u64 digest(const struct lb_state *st, const __u32 *t, __u32 m)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (__u32 i = 0; i < m; i++) {
		const struct lb_be *b = &st->be[t[i] % LB_MAX_BE];
		__u8 k[19];

		k[0] = b->family;
		memcpy(k + 1, b->addr, 16);
		memcpy(k + 17, &b->port, 2);
		for (size_t j = 0; j < sizeof(k); j++) {
			h ^= k[j];
			h *= 0x100000001b3ULL;
		}
	}
	return h;
}

int lb_svcs_list(struct nfc_nf *nf, json_t *out)
{
	struct lb_state *st = malloc(sizeof(*st));
	__u64 *act = calloc(LB_MAX_BE, sizeof(*act));
	__u32 *tab = malloc(LB_TABLE_MAX * sizeof(*tab));
	__u32 *slots = calloc(LB_MAX_BE, sizeof(*slots));
	int fd = nfc_nf_map_fd(nf, "lb_svc_stats");
	const size_t sz = sizeof(struct lb_stat);
	int r = st && act && tab && slots ? lb_state_load(nf, st) : -ENOMEM;

	if (!r)
		conns_count(nf, st, act);
	for (int s = 0; !r && s < LB_MAX_SVC; s++) {
		json_t *o, *bes;
		__u64 conns = 0;
		char k[KEYLEN], dg[20];
		int m;

		if (!st->svc[s].used)
			continue;
		bes = json_array();
		memset(slots, 0, LB_MAX_BE * sizeof(*slots));
		m = slots_count(nf, s, tab, slots);
		for (int i = 0; i < LB_MAX_BE; i++)
			if (st->be[i].state != LB_BE_FREE &&
			    st->be[i].svc == (__u32)s) {
				json_array_append_new(
					bes, be_obj(nf, st, i, act, slots[i]));
				conns += act[i];
			}
		snprintf(dg, sizeof(dg), "%016llx",
			 m > 0 ? (unsigned long long)digest(st, tab, m) : 0ULL);
		lb_svc_str(&st->svc[s].vip, k, sizeof(k));
		o = json_pack(
			"{s:s,s:s,s:i,s:s,s:I,s:I,s:I,s:o}", "service", k,
			"forward",
			st->svc[s].svc.forward == LB_FWD_NAT ? "nat" : "dsr",
			"table", (int)st->svc[s].svc.table, "table_digest", dg,
			"connections", (json_int_t)conns, "packets",
			(json_int_t)nfc_percpu_sum(
				fd, s, sz, offsetof(struct lb_stat, packets)),
			"bytes",
			(json_int_t)nfc_percpu_sum(
				fd, s, sz, offsetof(struct lb_stat, bytes)),
			"backends", bes);
		json_array_append_new(out, o);
	}
	free(st);
	free(act);
	free(tab);
	free(slots);
	return r;
}

/* A backend of an applied document, against the services and backends
 * the document gives (nfc_nf_coll: the model the apply makes): add()
 * reads them from the maps, which an lb the document creates has not
 * got yet, and a dry run passed what the apply refused. */
int lb_bes_check(struct nfc_nf *nf, json_t *config, const char *key,
		 json_t *fields)
{
	json_t *svcs = nfc_nf_coll(nf, "services"), *svc, *e;
	char err[256], vs[KEYLEN], vs2[KEYLEN];
	struct lb_vip v, v2;
	struct lb_be b, b2;
	json_int_t table;
	const char *k;
	int n = 0, dsr;

	(void)config;
	(void)fields;
	if (json_object_size(nfc_nf_coll(nf, "backends")) > LB_MAX_BE)
		return nfc_nf_error(
			nf, E2BIG, "%zu backends: an lb holds at most %d",
			json_object_size(nfc_nf_coll(nf, "backends")),
			LB_MAX_BE);
	if (lb_parse_be(key, &v, &b, err, sizeof(err)))
		return nfc_nf_error(nf, EINVAL, "backend %s: %s", key, err);
	lb_svc_str(&v, vs, sizeof(vs));
	svc = json_object_get(svcs, vs);
	if (!svc)
		return nfc_nf_error(nf, ENOENT,
				    "backend %s: unknown service %s (add it "
				    "first: services add %s)",
				    key, vs, vs);
	dsr = !nfc_nf_applying(nf) &&
	      strcmp(json_string_value(json_object_get(svc, "forward")) ?: "",
		     "nat");
	json_object_foreach (nfc_nf_coll(nf, "backends"), k, e) {
		if (lb_parse_be(k, &v2, &b2, err, sizeof(err)))
			continue;
		lb_svc_str(&v2, vs2, sizeof(vs2));
		if (strcmp(vs, vs2))
			continue;
		n++;
		if (dsr && strcmp(k, key) && b2.family == b.family &&
		    !memcmp(b2.addr, b.addr, sizeof(b.addr)))
			return nfc_nf_error(nf, EINVAL, DSR_TWIN_FMT, key, k);
	}
	table = json_integer_value(json_object_get(svc, "table"));
	return table_fits(nf, vs, table > 0 ? (__u32)table : LB_TABLE_DEF, n);
}
