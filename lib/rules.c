// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Numbered rule sets (nfchain/nf.h, struct nfc_rules): the firewall's and
 * the NAT's. The record, a hash map keyed by rule number, is what the
 * control plane reads; the data plane is handed the whole sorted set at
 * each change and switches to it at once (the NF's apply). A change is
 * applied first and recorded after, so a refusal of either leaves both as
 * they were.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

#include "internal.h"

/* Rules sort by their number, their first __u32. */
static int num_cmp(const void *a, const void *b)
{
	uint32_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x < y ? -1 : x > y;
}

int nfc_rule_num(const char *key, uint32_t *num)
{
	char *end;
	unsigned long v;

	if (!key || !*key || *key < '0' || *key > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(key, &end, 10);
	if (*end || errno || v > NFC_RULE_NUM_MAX)
		return -EINVAL;
	*num = v;
	/* One spelling a number: the model keeps the key as given, so "007"
	 * and a later `del 7` would name one rule by two keys, and the
	 * model's would bring the deleted rule back at the next restore. */
	return key[0] == '0' && key[1] ? -EDOM : 0;
}

int nfc_rules_load(struct nfc_nf *nf, const struct nfc_rules *d, void **out,
		   uint32_t *n, uint32_t extra)
{
	int fd = nfc_nf_map_fd(nf, d->map);
	uint32_t k, next, *prev = NULL, cnt = 0;
	uint8_t *rs = calloc((size_t)d->max + extra + 1, d->size);

	*out = NULL;
	*n = 0;
	if (fd < 0 || !rs) {
		free(rs);
		return nfc_nf_error(nf, fd < 0 ? ENOENT : ENOMEM,
				    "rules: the record is not there");
	}
	while (!bpf_map_get_next_key(fd, prev, &next) && cnt < d->max) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, rs + (size_t)cnt * d->size))
			cnt++;
	}
	qsort(rs, cnt, d->size, num_cmp);
	*out = rs;
	*n = cnt;
	return 0;
}

int nfc_rules_reapply(struct nfc_nf *nf, const struct nfc_rules *d)
{
	void *rs;
	uint32_t n;
	int r = nfc_rules_load(nf, d, &rs, &n, 0);

	if (!r)
		r = d->apply(nf, rs, n);
	free(rs);
	return r;
}

/* Where number num is, or goes, in the n sorted rules at rs. */
static uint32_t rule_pos(const uint8_t *rs, uint32_t n, size_t size,
			 const void *num)
{
	uint32_t i = n;

	while (i > 0 && num_cmp(rs + (size_t)(i - 1) * size, num) >= 0)
		i--;
	return i;
}

int nfc_rules_add(struct nfc_nf *nf, const struct nfc_rules *d, const char *key,
		  const void *rule)
{
	int fd = nfc_nf_map_fd(nf, d->map), r;
	uint8_t *rs;
	uint32_t num, n, i;

	memcpy(&num, rule, sizeof(num));
	r = nfc_rules_load(nf, d, (void **)&rs, &n, 1);
	if (r)
		return r;
	i = rule_pos(rs, n, d->size, rule);
	if (i < n && !num_cmp(rs + (size_t)i * d->size, rule))
		r = nfc_nf_error(nf, EEXIST,
				 "rule %s: number %u is taken; delete it "
				 "first or pick another",
				 key, num);
	else if (n >= d->max)
		r = nfc_nf_error(nf, E2BIG,
				 "rule %s: %s holds at most %u rules", key,
				 d->holder, d->max);
	if (r) {
		free(rs);
		return r;
	}
	/* Into its place: the set stays sorted. */
	memmove(rs + (size_t)(i + 1) * d->size, rs + (size_t)i * d->size,
		(size_t)(n - i) * d->size);
	memcpy(rs + (size_t)i * d->size, rule, d->size);
	r = d->apply(nf, rs, n + 1);
	free(rs);
	if (r)
		return r;
	if (bpf_map_update_elem(fd, &num, rule, BPF_NOEXIST)) {
		r = nfc_nf_error(nf, errno, "rule %s: write the record: %s",
				 key, strerror(errno));
		nfc_rules_reapply(nf, d);
	}
	return r;
}

int nfc_rules_del(struct nfc_nf *nf, const struct nfc_rules *d, const char *key)
{
	int fd = nfc_nf_map_fd(nf, d->map), r;
	uint8_t *rs;
	uint32_t num, n, i;

	r = nfc_rule_num(key, &num);
	if (r == -EDOM)
		return nfc_nf_error(nf, EINVAL, "rule '%s': write it as %u",
				    key, num);
	if (r)
		return nfc_nf_error(nf, EINVAL,
				    "rule '%s': the key is a rule number", key);
	r = nfc_rules_load(nf, d, (void **)&rs, &n, 0);
	if (r)
		return r;
	i = rule_pos(rs, n, d->size, &num);
	if (i == n || num_cmp(rs + (size_t)i * d->size, &num)) {
		free(rs);
		return nfc_nf_error(nf, ENOENT, "rule %s does not exist", key);
	}
	memmove(rs + (size_t)i * d->size, rs + (size_t)(i + 1) * d->size,
		(size_t)(n - i - 1) * d->size);
	r = d->apply(nf, rs, n - 1);
	free(rs);
	if (!r && bpf_map_delete_elem(fd, &num))
		r = nfc_nf_error(nf, errno, "rule %s: delete the record: %s",
				 key, strerror(errno));
	return r;
}

int nfc_rules_too_many(struct nfc_nf *nf, uint32_t num, const char *holder,
		       uint32_t max, uint32_t n)
{
	json_t *lines = nf->nfc->entry_lines, *v;
	unsigned long top = 0;
	const char *k;
	char key[16];

	snprintf(key, sizeof(key), "%u", num);
	/* num is the first rule past the limit in matching order. An import
	 * that adds to the rules held may not have given it (it named a
	 * rule held already, and no line; found by a helper): then the
	 * import's last rule in that order, its line named. */
	if (json_object_size(lines) && !json_object_get(lines, key))
		json_object_foreach (lines, k, v) {
			unsigned long x = strtoul(k, NULL, 10);

			if (x >= top && strlen(k) < sizeof(key)) {
				top = x;
				snprintf(key, sizeof(key), "%s", k);
			}
		}
	return nfc_nf_entry_error(nf, key, E2BIG,
				  "rule %s: %s holds at most %u rules (%u "
				  "given)",
				  key, holder, max, n);
}

int nfc_rules_replace(struct nfc_nf *nf, const struct nfc_rules *d, void *rs,
		      uint32_t n)
{
	int fd = nfc_nf_map_fd(nf, d->map), r;
	uint8_t *old, *nr = rs;
	uint32_t nold;

	qsort(rs, n, d->size, num_cmp);
	if (n > d->max) {
		uint32_t num;

		memcpy(&num, nr + (size_t)d->max * d->size, sizeof(num));
		return nfc_rules_too_many(nf, num, d->holder, d->max, n);
	}
	r = nfc_rules_load(nf, d, (void **)&old, &nold, 0);
	if (!r)
		r = d->apply(nf, rs, n);
	if (r) {
		free(old);
		return r;
	}
	/* The record made to hold exactly the new set: the numbers it
	 * loses go, every new rule is written. */
	for (uint32_t i = 0; i < nold; i++)
		if (!bsearch(old + (size_t)i * d->size, rs, n, d->size,
			     num_cmp))
			bpf_map_delete_elem(fd, old + (size_t)i * d->size);
	for (uint32_t i = 0; i < n && !r; i++)
		if (bpf_map_update_elem(fd, nr + (size_t)i * d->size,
					nr + (size_t)i * d->size, BPF_ANY))
			r = nfc_nf_error(nf, errno,
					 "rules: write the record: %s",
					 strerror(errno));
	if (r) {
		/* Back to the old set, record and data plane. */
		for (uint32_t i = 0; i < n; i++)
			bpf_map_delete_elem(fd, nr + (size_t)i * d->size);
		for (uint32_t i = 0; i < nold; i++)
			bpf_map_update_elem(fd, old + (size_t)i * d->size,
					    old + (size_t)i * d->size, BPF_ANY);
		d->apply(nf, old, nold);
	}
	free(old);
	return r;
}
