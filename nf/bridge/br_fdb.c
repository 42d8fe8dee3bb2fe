// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bridge: the FDB as the control plane sees it.
 *  - the "fdb" collection: static entries (br_static), listing of static
 *    and learned ones, deletion of either.
 *  - tick(): aging (the data plane already treats an old entry as absent;
 *    this frees its slot); stats(): the counters, and the FDB's evictions
 *    derived from them.
 *  - br_fdb_prune(), the one walk over the learned entries that configure,
 *    delete, tick and stats share.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "br_int.h"

/* ---- small helpers ---- */

static __u64 now_coarse(void)
{
	struct timespec ts;

	/* The clock of bpf_ktime_get_coarse_ns(). */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A key is "MAC" or "MAC@VID". *vid is 0 when the key names no VLAN. */
static int parse_key(const char *key, __u8 mac[6], unsigned *vid)
{
	char buf[32];
	const char *at = strchr(key, '@');
	char *end;
	long v;

	*vid = 0;
	if (!at)
		return nfc_parse_mac(key, mac);
	if ((size_t)(at - key) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, key, at - key);
	buf[at - key] = 0;
	if (nfc_parse_mac(buf, mac))
		return -EINVAL;
	v = strtol(at + 1, &end, 10);
	if (!at[1] || *end || v < 1 || v > BR_VID_MAX)
		return -ERANGE;
	*vid = v;
	return 0;
}

/* The forwarding cache's hits, summed over the CPUs: unicast frames not
 * in br_counters (bridge.bpf.c). */
static __u64 cache_hits(struct nfc_nf *nf)
{
	return nfc_percpu_sum(nfc_nf_map_fd(nf, "br_cache"), 0,
			      sizeof(struct br_cache),
			      offsetof(struct br_cache, hits));
}

/* Control-plane counters: the data plane never writes these keys. */
void br_counter_add(struct nfc_nf *nf, __u32 k, __u64 d)
{
	nfc_percpu_add(nfc_nf_map_fd(nf, "br_counters"), k, sizeof(__u64), 0,
		       d);
}

/* ---- the walk over the learned entries ---- */

struct prune {
	br_fdb_pred drop;
	void *arg;
	int fd;
	long deleted, kept;
};

static int prune_one(const void *k, const void *v, void *arg)
{
	struct prune *p = arg;

	if (!p->drop || !p->drop(k, v, p->arg))
		p->kept++;
	else
		p->deleted += !bpf_map_delete_elem(p->fd, k);
	return 0;
}

/* The walk in batches (nfc_hash_walk): 60,000 learned entries took ~200
 * ms a walk key by key (a get_next_key and a lookup each), which the
 * tick, stats and show all paid. A batch is a copy read bucket by bucket,
 * so an entry can be deleted as it is visited (key by key, a delete
 * restarted the walk). */
static long prune_walk(struct nfc_nf *nf, br_fdb_pred drop, void *arg,
		       long *remaining, struct nfc_walk *cur, long max)
{
	struct prune p = {
		.drop = drop, .arg = arg, .fd = nfc_nf_map_fd(nf, "br_fdb")};

	if (p.fd >= 0)
		nfc_hash_walk(p.fd, sizeof(struct br_fdb_key),
			      sizeof(struct br_fdb_val), cur, max, prune_one,
			      &p);
	if (remaining)
		*remaining = p.kept;
	return p.deleted;
}

long br_fdb_prune(struct nfc_nf *nf, br_fdb_pred drop, void *arg,
		  long *remaining)
{
	return prune_walk(nf, drop, arg, remaining, NULL, 0);
}

/* ---- the fdb collection ---- */

/* The static entry added under `key`, if any: found through br_static_idx,
 * so that an add costs the same with 100,000 entries as with none. */
static int static_by_key(int fd, int xfd, const char *key,
			 struct br_fdb_key *out, struct br_static_val *val)
{
	struct br_static_idx_key ik = {0};

	if (strlen(key) >= sizeof(ik.key))
		return 0;
	memcpy(ik.key, key, strlen(key));
	return !bpf_map_lookup_elem(xfd, &ik, out) &&
	       !bpf_map_lookup_elem(fd, out, val) &&
	       !strncmp(val->key, key, sizeof(val->key));
}

int br_fdb_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	int sfd = nfc_nf_map_fd(nf, "br_static"),
	    lfd = nfc_nf_map_fd(nf, "br_fdb");
	int vfd = nfc_nf_map_fd(nf, "br_vlans"),
	    xfd = nfc_nf_map_fd(nf, "br_static_idx");
	struct br_static_idx_key ik = {0};
	const char *port = json_string_value(json_object_get(fields, "port"));
	json_t *fv = json_object_get(fields, "vlan");
	struct br_fdb_key k = {0}, oldk;
	struct br_static_val v = {0}, cur;
	struct br_vlan vl = {0};
	unsigned kvid;
	char macs[24];
	int p, r, had_old;

	if (sfd < 0 || lfd < 0 || vfd < 0 || xfd < 0)
		return nfc_nf_error(nf, ENOENT, "its maps are missing");
	r = parse_key(key, k.mac, &kvid);
	if (r == -ERANGE)
		return nfc_nf_error(nf, ERANGE,
				    "fdb %s: the VLAN after '@' must be in "
				    "1..%d",
				    key, BR_VID_MAX);
	if (r)
		return nfc_nf_error(
			nf, EINVAL,
			"fdb %s: not a MAC address (like "
			"02:00:00:00:00:01, or 02:00:00:00:00:01@10)",
			key);
	if (fv && kvid && (unsigned)json_integer_value(fv) != kvid)
		return nfc_nf_error(nf, EINVAL,
				    "fdb %s: vlan=%lld contradicts the key's "
				    "@%u",
				    key, (long long)json_integer_value(fv),
				    kvid);
	k.vid = kvid ? kvid : fv ? (unsigned)json_integer_value(fv) : 1;
	nfc_mac_str(k.mac, macs);
	/* One spelling a key, the one show prints: 02:00:00:00:10:0A beside
	 * ...:0a was the same entry under two keys, and a delete by the one
	 * listed said "no such entry". A saved state keeps what it has. */
	{
		char canon[32];

		snprintf(canon, sizeof(canon), kvid ? "%s@%u" : "%s", macs,
			 kvid);
		if (strcmp(key, canon) && !nfc_nf_applying(nf))
			return nfc_nf_error(nf, EINVAL,
					    "fdb %s: write it as %s", key,
					    canon);
	}
	if (k.mac[0] & 1)
		return nfc_nf_error(nf, EINVAL,
				    "fdb %s: %s is a multicast address; a "
				    "static entry needs a unicast one",
				    key, macs);
	if (!(k.mac[0] | k.mac[1] | k.mac[2] | k.mac[3] | k.mac[4] | k.mac[5]))
		return nfc_nf_error(nf, EINVAL,
				    "fdb %s: 00:00:00:00:00:00 is not a "
				    "station's address",
				    key);
	p = port ? nfc_nf_port_index(nf, port) : -1;
	/* A restore takes back an entry that went inactive (its port
	 * deleted) or whose port changed VLANs after it was added. */
	if (p < 0 && !(port && nfc_nf_applying(nf)))
		return nfc_nf_error(nf, ENOENT,
				    "fdb %s: port %s does not exist", key,
				    port ? port : "(none)");
	if (p >= 0) {
		__u32 vk = k.vid;

		bpf_map_lookup_elem(vfd, &vk, &vl);
	}
	if (p >= 0 && !(vl.members & BIT(p)) && !nfc_nf_applying(nf))
		return nfc_nf_error(nf, EINVAL,
				    "fdb %s: port %s does not carry VLAN %u",
				    key, port, k.vid);
	if (!bpf_map_lookup_elem(sfd, &k, &cur) &&
	    strncmp(cur.key, key, sizeof(cur.key)))
		return nfc_nf_error(nf, EEXIST,
				    "fdb %s: %s in VLAN %u is already the "
				    "static entry '%s'",
				    key, macs, k.vid, cur.key);
	if (strlen(key) >= sizeof(v.key))
		return nfc_nf_error(nf, EINVAL, "fdb %s: key too long", key);
	had_old = static_by_key(sfd, xfd, key, &oldk, &cur);
	/* A restore's entry whose port no longer carries its VLAN is
	 * inactive, as the next configure would make it (br_ports.c). */
	v.port = p < 0 || !(vl.members & BIT(p)) ? BR_PORT_NONE : (__u32)p;
	snprintf(v.port_name, sizeof(v.port_name), "%s", port);
	snprintf(v.key, sizeof(v.key), "%s", key);
	memcpy(ik.key, key, strlen(key));
	/* The index first: an entry it does not find could never be
	 * replaced or deleted by its key. */
	if (bpf_map_update_elem(xfd, &ik, &k, BPF_ANY))
		return nfc_nf_error(nf, errno,
				    "fdb %s: %s (at most %d static entries)",
				    key, strerror(errno), BR_STATIC_MAX);
	if (bpf_map_update_elem(sfd, &k, &v, BPF_ANY)) {
		r = errno;
		if (had_old)
			bpf_map_update_elem(xfd, &ik, &oldk, BPF_ANY);
		else
			bpf_map_delete_elem(xfd, &ik);
		return nfc_nf_error(nf, r,
				    "fdb %s: %s (at most %d static entries)",
				    key, strerror(r), BR_STATIC_MAX);
	}
	/* The same key added again replaces its entry. */
	if (had_old && memcmp(&oldk, &k, sizeof(k)))
		bpf_map_delete_elem(sfd, &oldk);
	/* Static wins: a learned entry for it goes (the data plane never
	 * learns a static key; the tick catches one learned in between). */
	if (!bpf_map_delete_elem(lfd, &k))
		br_counter_add(nf, BR_C_CTL_FLUSHED, 1);
	return 0;
}

struct mac_arg {
	__u8 mac[6];
};

static int same_mac(const struct br_fdb_key *k, const struct br_fdb_val *v,
		    void *arg)
{
	(void)v;
	return !memcmp(k->mac, ((struct mac_arg *)arg)->mac, 6);
}

int br_fdb_del(struct nfc_nf *nf, const char *key)
{
	int sfd = nfc_nf_map_fd(nf, "br_static"),
	    lfd = nfc_nf_map_fd(nf, "br_fdb"),
	    xfd = nfc_nf_map_fd(nf, "br_static_idx");
	struct br_fdb_key k = {0};
	struct br_static_val cur;
	struct mac_arg ma;
	unsigned vid;
	long n;

	if (sfd < 0 || lfd < 0 || xfd < 0)
		return nfc_nf_error(nf, ENOENT, "its maps are missing");
	if (static_by_key(sfd, xfd, key, &k, &cur)) {
		struct br_static_idx_key ik = {0};

		if (bpf_map_delete_elem(sfd, &k))
			return nfc_nf_error(nf, errno, "fdb %s: %s", key,
					    strerror(errno));
		memcpy(ik.key, key, strlen(key));
		bpf_map_delete_elem(xfd, &ik);
		return 0;
	}
	if (parse_key(key, k.mac, &vid))
		return nfc_nf_error(
			nf, EINVAL,
			"fdb %s: not a MAC address (like "
			"02:00:00:00:00:01, or 02:00:00:00:00:01@10)",
			key);
	if (vid) {
		k.vid = vid;
		if (!bpf_map_lookup_elem(sfd, &k, &cur))
			return nfc_nf_error(nf, EINVAL,
					    "fdb %s: this is the static entry "
					    "'%s'; delete it by that key",
					    key, cur.key);
		if (bpf_map_delete_elem(lfd, &k))
			return nfc_nf_error(nf, ENOENT, "fdb %s: no such entry",
					    key);
		br_counter_add(nf, BR_C_CTL_DELETED, 1);
		return 0;
	}
	/* A bare MAC: its learned entries in every VLAN. */
	memcpy(ma.mac, k.mac, 6);
	n = br_fdb_prune(nf, same_mac, &ma, NULL);
	if (!n)
		return nfc_nf_error(nf, ENOENT, "fdb %s: no such entry", key);
	br_counter_add(nf, BR_C_CTL_DELETED, n);
	return 0;
}

static int aging_s(struct nfc_nf *nf)
{
	return json_integer_value(json_object_get(nfc_nf_config(nf), "aging"));
}

static int entry_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t vx = json_integer_value(json_object_get(x, "vlan"));
	json_int_t vy = json_integer_value(json_object_get(y, "vlan"));

	if (vx != vy)
		return vx < vy ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "mac")),
		      json_string_value(json_object_get(y, "mac")));
}

static json_t *entry(const struct br_fdb_key *k, const char *key,
		     const char *type, const char *port)
{
	char mac[24], kbuf[40];

	nfc_mac_str(k->mac, mac);
	if (!key) {
		snprintf(kbuf, sizeof(kbuf), "%s@%u", mac, k->vid);
		key = kbuf;
	}
	return json_pack("{s:s, s:s, s:i, s:s, s:s}", "key", key, "mac", mac,
			 "vlan", (int)k->vid, "port", port ? port : "?", "type",
			 type);
}

struct list_arg {
	struct nfc_nf *nf;
	int vlans_fd; /* br_vlans: is a static entry's port in its VLAN */
	__u64 now, aging;
	json_t **all;
	size_t n, cap;
};

static int list_keep(struct list_arg *l, json_t *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *d = realloc(l->all, cap * sizeof(*l->all));

		if (!d) {
			json_decref(e);
			return 1;
		}
		l->all = d;
		l->cap = cap;
	}
	l->all[l->n++] = e;
	return 0;
}

static int list_static(const void *k, const void *v, void *arg)
{
	const struct br_static_val *sv = v;
	const struct br_fdb_key *fk = k;
	struct list_arg *l = arg;
	json_t *e = entry(k, sv->key, "static", sv->port_name);
	struct br_vlan vl = {0};
	__u32 vk = fk->vid;

	/* Active: its port exists and still carries its VLAN (the data
	 * plane drops what such an entry would send out of the VLAN). */
	if (l->vlans_fd >= 0)
		bpf_map_lookup_elem(l->vlans_fd, &vk, &vl);
	json_object_set_new(e, "active",
			    json_boolean(sv->port < NFC_MAX_PORTS &&
					 (vl.members & BIT(sv->port))));
	json_object_set_new(e, "age", json_null());
	return list_keep(arg, e);
}

static int list_learned(const void *k, const void *v, void *arg)
{
	const struct br_fdb_val *lv = v;
	struct list_arg *l = arg;
	json_t *e;

	/* Old entries are gone to the data plane already; the aging walk
	 * frees their slots. */
	if (l->aging && l->now > lv->seen && l->now - lv->seen > l->aging)
		return 0;
	e = entry(k, NULL, "learned", nfc_nf_port_name(l->nf, lv->port));
	json_object_set_new(
		e, "age",
		json_integer(l->now > lv->seen
				     ? (l->now - lv->seen) / 1000000000ull
				     : 0));
	return list_keep(l, e);
}

static struct list_arg list_arg_of(struct nfc_nf *nf)
{
	return (struct list_arg){.nf = nf,
				 .vlans_fd = nfc_nf_map_fd(nf, "br_vlans"),
				 .now = now_coarse(),
				 .aging = (__u64)aging_s(nf) * 1000000000ull};
}

int br_fdb_list(struct nfc_nf *nf, json_t *out)
{
	int sfd = nfc_nf_map_fd(nf, "br_static"),
	    lfd = nfc_nf_map_fd(nf, "br_fdb");
	struct list_arg l = list_arg_of(nf);

	if (sfd < 0 || lfd < 0)
		return nfc_nf_error(nf, ENOENT, "its maps are missing");
	nfc_hash_walk(sfd, sizeof(struct br_fdb_key),
		      sizeof(struct br_static_val), NULL, 0, list_static, &l);
	nfc_hash_walk(lfd, sizeof(struct br_fdb_key), sizeof(struct br_fdb_val),
		      NULL, 0, list_learned, &l);
	qsort(l.all, l.n, sizeof(*l.all), entry_cmp);
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(out, l.all[i]);
	free(l.all);
	return 0;
}

/* A paged listing of the FDB: the static entries first (phase 1), then
 * the learned ones (2). */
int br_fdb_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
		     json_t *out)
{
	struct nfc_page_cur *c = (struct nfc_page_cur *)cur->b;
	int sfd = nfc_nf_map_fd(nf, "br_static"),
	    lfd = nfc_nf_map_fd(nf, "br_fdb");
	struct list_arg l = list_arg_of(nf);
	long ns, nl;

	if (sfd < 0 || lfd < 0)
		return nfc_nf_error(nf, ENOENT, "its maps are missing");
	ns = nfc_map_count(sfd);
	nl = nfc_map_count(lfd);
	if (nfc_page_whole(cur, ns < 0 || nl < 0 ? -1 : ns + nl)) {
		int r = br_fdb_list(nf, out);

		return r ? r : (int)json_array_size(out);
	}
	/* An empty page is the end: go on until one holds an entry (aged
	 * entries not freed yet are skipped). */
	while (!l.n && (c->phase == 1 || c->phase == 2)) {
		long n = c->phase == 1
				 ? nfc_hash_walk(sfd, sizeof(struct br_fdb_key),
						 sizeof(struct br_static_val),
						 &c->w, (long)max, list_static,
						 &l)
				 : nfc_hash_walk(lfd, sizeof(struct br_fdb_key),
						 sizeof(struct br_fdb_val),
						 &c->w, (long)max, list_learned,
						 &l);

		if (n < 0) {
			for (size_t i = 0; i < l.n; i++)
				json_decref(l.all[i]);
			free(l.all);
			return nfc_nf_error(nf, (int)-n, "read the FDB: %s",
					    strerror((int)-n));
		}
		if (c->w.done) {
			c->phase = c->phase == 1 ? 2 : NFC_PAGE_END;
			c->w = (struct nfc_walk){0};
		}
	}
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(out, l.all[i]);
	free(l.all);
	return (int)json_array_size(out);
}

/* ---- aging and counters ---- */

static const char *const counter_names[BR_C_MAX] = {
#define BR_C_NAME(id, name, doc) [BR_C_##id] = name,
	BR_COUNTERS(BR_C_NAME)
#undef BR_C_NAME
};

struct age_arg {
	__u64 now, aging;
	struct br_fdb_key *statics; /* sorted */
	long nstatic, cap;
	long aged, flushed;
};

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct br_fdb_key));
}

static int collect_static(const void *k, const void *v, void *arg)
{
	struct age_arg *a = arg;

	/* An inactive entry acts as none: what is learned of its station
	 * stays (it was flushed every tick, found by a helper). */
	if (((const struct br_static_val *)v)->port == BR_PORT_NONE)
		return 0;
	if (a->nstatic == a->cap) {
		long cap = a->cap ? a->cap * 2 : 64;
		void *d = realloc(a->statics, cap * sizeof(*a->statics));

		if (!d)
			return 1;
		a->statics = d;
		a->cap = cap;
	}
	a->statics[a->nstatic++] = *(const struct br_fdb_key *)k;
	return 0;
}

static int age_pred(const struct br_fdb_key *k, const struct br_fdb_val *v,
		    void *arg)
{
	struct age_arg *a = arg;

	if (a->aging && a->now > v->seen && a->now - v->seen > a->aging) {
		a->aged++;
		return 1;
	}
	/* Learned just as it was made static (a race with fdb add). The
	 * static keys were read once, not looked up an entry each. */
	if (a->nstatic &&
	    bsearch(k, a->statics, a->nstatic, sizeof(*k), key_cmp)) {
		a->flushed++;
		return 1;
	}
	return 0;
}

/* Learned entries a tick looks at: a full FDB (65,536) in 16 ticks, so
 * that no tick holds the daemon (and every API call behind it) for more
 * than a millisecond or two. An old entry is already absent to the data
 * plane; the walk only frees its slot and counts it. */
#define BR_AGE_SLICE 4096

void br_tick(struct nfc_nf *nf, uint64_t now_ns)
{
	struct age_arg a = {.now = now_coarse(),
			    .aging = (__u64)aging_s(nf) * 1000000000ull};
	int sfd = nfc_nf_map_fd(nf, "br_static");

	(void)now_ns;
	if (sfd >= 0)
		nfc_hash_walk(sfd, sizeof(struct br_fdb_key),
			      sizeof(struct br_static_val), NULL, 0,
			      collect_static, &a);
	if (a.nstatic)
		qsort(a.statics, a.nstatic, sizeof(*a.statics), key_cmp);
	prune_walk(nf, age_pred, &a, NULL,
		   nfc_walk_cursor(nfc_nf_map_fd(nf, "br_fdb")), BR_AGE_SLICE);
	free(a.statics);
	br_counter_add(nf, BR_C_CTL_AGED, a.aged);
	br_counter_add(nf, BR_C_CTL_FLUSHED, a.flushed);
}

static int on_port(const struct br_fdb_key *k, const struct br_fdb_val *v,
		   void *arg)
{
	(void)k;
	return v->port == *(unsigned *)arg;
}

/* The netdev behind `port` went away: the stations learnt there go, as
 * Linux's bridge flushes a deleted port's entries; those that come back
 * are learnt again from their first frame, wherever they are. */
void br_port_down(struct nfc_nf *nf, unsigned port)
{
	br_counter_add(nf, BR_C_CTL_GONE,
		       br_fdb_prune(nf, on_port, &port, NULL));
}

void br_stats(struct nfc_nf *nf, int port, json_t *out)
{
	uint64_t c[BR_C_MAX];
	__u64 removed, evicted = 0;
	long learned = 0, statics = 0;
	json_t *dropped;
	int sfd = nfc_nf_map_fd(nf, "br_static");

	if (port >= 0)
		return;
	dropped = json_object();
	nfc_percpu_sums(nfc_nf_map_fd(nf, "br_counters"), 0, BR_C_MAX,
			sizeof(__u64), c);
	for (__u32 k = 0; k < BR_C_MAX; k++) {
		if (k == BR_C_UNICAST)
			c[k] += cache_hits(nf);
		json_object_set_new(out, counter_names[k], json_integer(c[k]));
		if (!strncmp(counter_names[k], "drop_", 5))
			json_object_set_new(dropped, counter_names[k] + 5,
					    json_integer(c[k]));
	}
	json_object_set_new(out, "dropped", dropped);
	/* Counted by the kernel, not walked: show and every metrics scrape
	 * ask, and a full FDB took ~10 ms to walk even in batches. */
	learned = nfc_map_count(nfc_nf_map_fd(nf, "br_fdb"));
	statics = nfc_map_count(sfd);
	if (learned < 0)
		learned = 0;
	if (statics < 0)
		statics = 0;
	/* The LRU map evicts silently: what was learned and is neither
	 * there nor removed by us was evicted. */
	removed = c[BR_C_CTL_AGED] + c[BR_C_CTL_DELETED] + c[BR_C_CTL_FLUSHED] +
		  c[BR_C_CTL_GONE];
	if (c[BR_C_LEARNED] > removed + learned)
		evicted = c[BR_C_LEARNED] - removed - learned;
	json_object_set_new(out, "evicted", json_integer(evicted));
	json_object_set_new(out, "fdb_learned", json_integer(learned));
	json_object_set_new(out, "fdb_static", json_integer(statics));
}
