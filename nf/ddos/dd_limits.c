// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ddos: rate limits by source prefix (dd_lim4/6, two copies: ddos.h,
 * DD_ST_LIM_1). The longest prefix holding a source decides its limit, so
 * a set of limits decides together: a replace builds it in the copy
 * packets do not read and switches it in at once. `per` says whether
 * each source address has its own bucket or a whole /N shares one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dd_int.h"

const struct nfc_field dd_limit_fields[] = {
	{.name = "pps",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_REQUIRED,
	 .min = 1, /* what nfchain types shows; dd_limit_add says why */
	 .max = 100000000,
	 .doc = "packets a second each bucket lets through"},
	{.name = "burst",
	 .kind = NFC_F_UINT,
	 .min = 0,
	 .max = 1000000000,
	 .doc = "packets a bucket may let through at once (at least pps; "
		"default pps)"},
	{.name = "per",
	 .kind = NFC_F_STRING,
	 .def = "source",
	 .doc = "source: a bucket per source address; prefix/N: one per /N"},
	NFC_FIELDS_END,
};

/* The copy packets read: single adds and deletes write it (one entry
 * changes at one instant anyway). */
static int lim_fd(struct nfc_nf *nf, int family)
{
	return dd_copy_fd(nf, "dd_lim", family, dd_live(nf, DD_ST_LIM_1));
}

/* Buckets are keyed by a limit's id. A limit keeps its id while its
 * prefix is there (changed in place, or kept by a replace), so its sources
 * keep their buckets; a new one takes the next id of dd_ids, never one
 * used before: buckets of a deleted limit stay in the LRU tables until
 * evicted, and a new limit given its id inherited them (found by a
 * helper: a host cut off under a limit ten times its rate). */
#define IDS_FIRST 4097 /* above every id an nfchain before dd_ids gave */

struct lim_ent {
	int family;
	struct dd_lpm6 k;
	__u32 id;
};

/* Every limit of copy `copy`, both families, into *v (malloc'd): n. */
static size_t lims_of(struct nfc_nf *nf, int copy, struct lim_ent **v)
{
	size_t n = 0;

	*v = calloc(2 * DD_MAX_LIMITS + 2, sizeof(**v));
	for (int fam = 4; *v && fam <= 6; fam += 2) {
		int fd = dd_copy_fd(nf, "dd_lim", fam, copy);
		struct dd_lpm6 k, next;
		void *prev = NULL;

		while (fd >= 0 && n < 2 * DD_MAX_LIMITS + 2 &&
		       !bpf_map_get_next_key(fd, prev, &next)) {
			struct dd_limit l;

			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &l))
				continue;
			(*v)[n].family = fam;
			(*v)[n].k = k;
			(*v)[n++].id = l.id;
		}
	}
	return n;
}

/* The entry of prefix `k` itself: an LPM lookup answers the longest
 * prefix holding it, which gave a limit nested in another that one's id
 * (found by a helper). */
static const struct lim_ent *lim_find(const struct lim_ent *v, size_t n,
				      int family, const struct dd_lpm6 *k)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == family && v[i].k.plen == k->plen &&
		    !memcmp(v[i].k.addr, k->addr, family == 4 ? 4 : 16))
			return &v[i];
	return NULL;
}

/* The next id, taken (dd_ids moved on before it is used); 0 on failure,
 * the NF's error set. */
static __u32 take_id(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "dd_ids");
	__u32 z = 0, id = 0, next;

	if (fd < 0 || bpf_map_lookup_elem(fd, &z, &id)) {
		nfc_nf_error(nf, ENOENT, "limits: dd_ids: %s",
			     fd < 0 ? "map not found" : strerror(errno));
		return 0;
	}
	if (id < IDS_FIRST) {
		/* New, or pins of an nfchain before it: above every id. */
		struct lim_ent *v;

		id = IDS_FIRST;
		for (int c = 0; c < 2; c++) {
			size_t n = lims_of(nf, c, &v);

			for (size_t i = 0; i < n; i++)
				if (v[i].id >= id)
					id = v[i].id + 1;
			free(v);
		}
	}
	next = id + 1;
	if (!next) {
		nfc_nf_error(nf, ERANGE, "limits: every limit id is used");
		return 0;
	}
	if (bpf_map_update_elem(fd, &z, &next, BPF_ANY)) {
		nfc_nf_error(nf, errno, "limits: dd_ids: %s", strerror(errno));
		return 0;
	}
	return id;
}

static void lim_key(const struct dd_pfx *p, struct dd_lpm6 *k)
{
	memset(k, 0, sizeof(*k));
	k->plen = p->plen;
	memcpy(k->addr, p->addr, 16);
}

/* The limit `key` `fields` give, checked, into *p and l's per_len,
 * interval_ns and tau_ns: what add() writes and check() refuses. */
static int limit_want(struct nfc_nf *nf, const char *key, json_t *fields,
		      struct dd_pfx *pp, struct dd_limit *l)
{
	json_int_t pps = json_integer_value(json_object_get(fields, "pps"));
	json_t *jb = json_object_get(fields, "burst");
	json_int_t burst = jb ? json_integer_value(jb) : pps;
	const char *per = json_string_value(json_object_get(fields, "per"));
	struct dd_pfx p;
	unsigned max;
	int r = dd_parse_pfx(nf, "limits", key, &p);

	if (r)
		return r;
	*pp = p;
	max = p.family == 4 ? 32 : 128;
	if (pps <= 0)
		return nfc_nf_entry_error(
			nf, key, EINVAL,
			"limits %s: pps must be at least 1 (a rate "
			"of 0 would drop all; use the blocklist)",
			key);
	if (burst < pps)
		return nfc_nf_entry_error(
			nf, key, EINVAL,
			"limits %s: burst %lld is below the rate "
			"(pps=%lld): a second's packets would "
			"never fit",
			key, (long long)burst, (long long)pps);
	if (!per || !strcmp(per, "source")) {
		l->per_len = max;
	} else {
		char *e;
		unsigned long n;

		if (strncmp(per, "prefix/", 7) || !per[7])
			return nfc_nf_entry_error(
				nf, key, EINVAL,
				"limits %s: per '%s' is neither "
				"'source' nor 'prefix/N'",
				key, per);
		n = strtoul(per + 7, &e, 10);
		if (*e || n > max || n < p.plen)
			return nfc_nf_entry_error(
				nf, key, EINVAL,
				"limits %s: per '%s': N must be "
				"in %u..%u",
				key, per, p.plen, max);
		l->per_len = n;
	}
	l->interval_ns = 1000000000ULL / pps;
	l->tau_ns = (burst - 1) * l->interval_ns;
	return 0;
}

int dd_limit_check_entry(struct nfc_nf *nf, json_t *config, const char *key,
			 json_t *fields)
{
	struct dd_limit l = {0};
	struct dd_pfx p;
	int r = limit_want(nf, key, fields, &p, &l);

	(void)config;
	/* The document's count (apply checks against what it makes): a
	 * set over the limit was refused by replace() only, after the
	 * collections written before it had reached packets (a helper). */
	return r ? r
		 : dd_count_check(nf, "limits", p.family, DD_MAX_LIMITS, key);
}

int dd_limit_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct dd_pfx p;
	struct dd_lpm6 k;
	struct dd_limit l = {0};
	const struct lim_ent *e;
	struct lim_ent *v = NULL;
	size_t n, fam_n = 0;
	int r = limit_want(nf, key, fields, &p, &l), fd;

	if (r)
		return r;
	fd = lim_fd(nf, p.family);
	if (fd < 0)
		return nfc_nf_error(nf, ENOENT, "limits: map not found");
	lim_key(&p, &k);
	n = lims_of(nf, dd_live(nf, DD_ST_LIM_1), &v);
	if (!v)
		return nfc_nf_error(nf, ENOMEM, "limits: out of memory");
	for (size_t i = 0; i < n; i++)
		fam_n += v[i].family == p.family;
	/* A limit changed in place keeps its id, so its sources keep
	 * their buckets. */
	e = lim_find(v, n, p.family, &k);
	if (e)
		l.id = e->id;
	else if (fam_n >= DD_MAX_LIMITS)
		r = nfc_nf_error(nf, ENOSPC,
				 "limits %s: does not fit: %d IPv%d limits at "
				 "most",
				 key, DD_MAX_LIMITS, p.family);
	else if (!(l.id = take_id(nf)))
		r = -EIO;
	free(v);
	if (!r)
		r = dd_flags_look(nf, "limits", p.family);
	if (r)
		return r;
	if (bpf_map_update_elem(fd, &k, &l, BPF_ANY))
		return nfc_nf_error(nf, errno, "limits: write %s: %s", key,
				    strerror(errno));
	return 0;
}

int dd_limit_del(struct nfc_nf *nf, const char *key)
{
	struct dd_pfx p;
	struct dd_lpm6 k;
	int r = dd_parse_pfx(nf, "limits", key, &p);

	if (r)
		return r;
	lim_key(&p, &k);
	if (bpf_map_delete_elem(lim_fd(nf, p.family), &k)) {
		if (errno == ENOENT)
			return nfc_nf_error(nf, ENOENT,
					    "limits %s: no such entry", key);
		return nfc_nf_error(nf, errno, "limits: delete %s: %s", key,
				    strerror(errno));
	}
	return dd_flags_sync(nf);
}

/* The limits made exactly `entries`, built in the copy packets do not
 * read (emptied first: it holds the set before the last replace, kept
 * until now for packets still in it) and switched in at once. A prefix
 * the live copy holds keeps its id, and so its sources' buckets. */
int dd_limit_replace(struct nfc_nf *nf, json_t *entries)
{
	int live = dd_live(nf, DD_ST_LIM_1), c = !live, n[2] = {0, 0}, r = 0;
	struct lim_ent *v = NULL;
	const char *key;
	size_t nv;
	json_t *f;

	json_object_foreach (entries, key, f) {
		struct dd_limit l = {0};
		struct dd_pfx p;

		r = limit_want(nf, key, f, &p, &l);
		if (r)
			return r;
		if (++n[p.family == 6] > DD_MAX_LIMITS)
			return nfc_nf_entry_error(
				nf, key, ENOSPC,
				"limits %s: %d IPv%d limits at most", key,
				DD_MAX_LIMITS, p.family);
	}
	nv = lims_of(nf, live, &v);
	if (!v)
		return nfc_nf_error(nf, ENOMEM, "limits: out of memory");
	r = dd_copy_clear(nf, "dd_lim", c, 1);
	json_object_foreach (entries, key, f) {
		struct dd_limit l = {0};
		const struct lim_ent *e;
		struct dd_lpm6 k;
		struct dd_pfx p;

		if (r)
			break;
		limit_want(nf, key, f, &p, &l);
		lim_key(&p, &k);
		e = lim_find(v, nv, p.family, &k);
		l.id = e ? e->id : take_id(nf);
		if (!l.id)
			r = -EIO;
		else if (bpf_map_update_elem(
				 dd_copy_fd(nf, "dd_lim", p.family, c), &k, &l,
				 BPF_ANY))
			r = nfc_nf_entry_error(nf, key, errno,
					       "limits: write %s: %s", key,
					       strerror(errno));
	}
	free(v);
	if (!r)
		r = dd_flags_switch(nf, DD_ST_LIM_1);
	/* Packets never read it: emptied of a set that was refused. */
	if (r)
		dd_copy_clear(nf, "dd_lim", c, 0);
	return r;
}

int dd_limit_list(struct nfc_nf *nf, json_t *out)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		int fd = lim_fd(nf, fam), max = fam == 4 ? 32 : 128;
		struct dd_lpm6 k, next;
		void *prev = NULL;
		char b[64], per[32];

		while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
			struct dd_limit l;

			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &l))
				continue;
			if ((int)l.per_len == max)
				snprintf(per, sizeof(per), "source");
			else
				snprintf(per, sizeof(per), "prefix/%u",
					 l.per_len);
			json_array_append_new(
				out,
				json_pack(
					"{s:s,s:I,s:I,s:s}", "prefix",
					dd_pfx_str(fam, k.plen, k.addr, b),
					"pps",
					(json_int_t)(1000000000ULL /
						     l.interval_ns),
					"burst",
					(json_int_t)(l.tau_ns / l.interval_ns +
						     1),
					"per", per));
		}
	}
	return 0;
}
