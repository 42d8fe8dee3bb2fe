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

/* Buckets are keyed by a limit's id: a limit keeps its id while it is
 * there, and a new one takes an id no limit of the live copy has, so that
 * it never inherits another's buckets. */
#define MAX_ID (DD_MAX_LIMITS * 4)

/* Marks in used[] the ids of copy `copy`'s limits. */
static void ids_of(struct nfc_nf *nf, int copy, unsigned char *used)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		int fd = dd_copy_fd(nf, "dd_lim", fam, copy);
		struct dd_lpm6 k, next;
		void *prev = NULL;

		while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
			struct dd_limit l;

			k = next;
			prev = &k;
			if (!bpf_map_lookup_elem(fd, &k, &l) && l.id <= MAX_ID)
				used[l.id] = 1;
		}
	}
}

/* The lowest id used[] leaves free, marked; 0 if none. */
static __u32 take_id(unsigned char *used)
{
	for (__u32 i = 1; i <= MAX_ID; i++)
		if (!used[i]) {
			used[i] = 1;
			return i;
		}
	return 0;
}

static __u32 free_id(struct nfc_nf *nf)
{
	static unsigned char used[MAX_ID + 1];

	memset(used, 0, sizeof(used));
	ids_of(nf, dd_live(nf, DD_ST_LIM_1), used);
	return take_id(used);
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

	(void)config;
	return limit_want(nf, key, fields, &p, &l);
}

int dd_limit_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct dd_pfx p;
	struct dd_lpm6 k;
	struct dd_limit l = {0}, old;
	int r = limit_want(nf, key, fields, &p, &l), fd;
	__u32 id;

	if (r)
		return r;
	fd = lim_fd(nf, p.family);
	if (fd < 0)
		return nfc_nf_error(nf, ENOENT, "limits: map not found");
	lim_key(&p, &k);
	/* A limit changed in place keeps its id, so its sources keep
	 * their buckets. */
	id = !bpf_map_lookup_elem(fd, &k, &old) ? old.id : free_id(nf);
	if (!id)
		return nfc_nf_error(nf, ENOSPC, "limits: %d limits at most",
				    DD_MAX_LIMITS);
	l.id = id;
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
	static unsigned char used[MAX_ID + 1];
	int live = dd_live(nf, DD_ST_LIM_1), c = !live, n[2] = {0, 0}, r = 0;
	const char *key;
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
	memset(used, 0, sizeof(used));
	ids_of(nf, live, used);
	r = dd_copy_clear(nf, "dd_lim", c, 1);
	json_object_foreach (entries, key, f) {
		struct dd_limit l = {0}, old;
		struct dd_lpm6 k;
		struct dd_pfx p;

		if (r)
			break;
		limit_want(nf, key, f, &p, &l);
		lim_key(&p, &k);
		l.id = !bpf_map_lookup_elem(lim_fd(nf, p.family), &k, &old)
			       ? old.id
			       : take_id(used);
		if (!l.id)
			r = nfc_nf_entry_error(nf, key, ENOSPC,
					       "limits %s: no free limit id",
					       key);
		else if (bpf_map_update_elem(
				 dd_copy_fd(nf, "dd_lim", p.family, c), &k, &l,
				 BPF_ANY))
			r = nfc_nf_entry_error(nf, key, errno,
					       "limits: write %s: %s", key,
					       strerror(errno));
	}
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
