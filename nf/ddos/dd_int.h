/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ddos control plane: what its files share (ddos.c: the type and stats;
 * dd_lists.c: allowlist, blocklist; dd_feedlog.c: the prefixes deleted
 * from a kept feed; dd_limits.c: rate limits).
 */
#ifndef NFC_DD_INT_H
#define NFC_DD_INT_H

#include <linux/types.h>
#include "nfchain/nf.h"
#include "ddos/ddos.h"

struct dd_pfx {
	int family; /* 4 or 6 */
	unsigned plen;
	__u8 addr[16];
};

/* "203.0.113.0/25" or "2001:db8::/32": host bits refused. */
int dd_parse_pfx(struct nfc_nf *nf, const char *what, const char *s,
		 struct dd_pfx *p);
const char *dd_pfx_str(int family, unsigned plen, const __u8 *addr,
		       char buf[64]);

int dd_block_check(struct nfc_nf *nf, const char *key);
json_t *dd_block_get(struct nfc_nf *nf, const char *key);
int dd_allow_check(struct nfc_nf *nf, const char *key);
int dd_limit_check(struct nfc_nf *nf, const char *key);
int dd_allow_add(struct nfc_nf *nf, const char *key, json_t *fields);
int dd_allow_del(struct nfc_nf *nf, const char *key);
int dd_allow_list(struct nfc_nf *nf, json_t *out);
int dd_block_add(struct nfc_nf *nf, const char *key, json_t *fields);
int dd_block_del(struct nfc_nf *nf, const char *key);
int dd_block_list(struct nfc_nf *nf, json_t *out);
int dd_block_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
		       json_t *out);
int dd_allow_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
		       json_t *out);
int dd_block_replace(struct nfc_nf *nf, json_t *entries);
void dd_block_expire(struct nfc_nf *nf);
void dd_block_rescan(struct nfc_nf *nf);
int dd_block_import(struct nfc_nf *nf, const char *text, size_t len,
		    int replace);
json_t *dd_block_import_ref(struct nfc_nf *nf);
void dd_block_removed(struct nfc_nf *nf, const char *name);
extern const struct nfc_field dd_block_fields[], dd_allow_fields[];

/* Prefixes deleted from the kept feed <feed> of CRC crc (dd_feedlog.c),
 * sorted for dd_dels_has. */
struct dd_del {
	int family;
	struct dd_lpm6 k; /* as lpm_key writes it: unused bytes 0 */
};
struct dd_dels {
	struct dd_del *v;
	size_t n;
};
int dd_dels_load(const char *feed, const char *crc, struct dd_dels *d);
int dd_dels_has(const struct dd_dels *d, int family, const struct dd_lpm6 *k);
void dd_dels_free(struct dd_dels *d);
int dd_dels_append(const char *feed, const char *crc, const char *pfx);
void dd_dels_prune(const char *feed, const char *keep);

/* Prefixes an import gave that the blocklist held already (an earlier
 * line, the kept feed, an add), each with the last line that gave it:
 * the kept feed keeps that line only, one line a prefix. */
struct dd_dup {
	struct dd_del d;
	unsigned line;
};
struct dd_dups {
	struct dd_dup *v;
	size_t n, cap;
};
int dd_dups_note(struct dd_dups *s, int family, const struct dd_lpm6 *k,
		 unsigned line);
void dd_dups_sort(struct dd_dups *s);
unsigned dd_dups_last(const struct dd_dups *s, int family,
		      const struct dd_lpm6 *k);
void dd_dups_free(struct dd_dups *s);

int dd_flags_sync(struct nfc_nf *nf);
int dd_flags_switch(struct nfc_nf *nf, __u32 bit);
/* The allowlist and the limits, two copies each (ddos.h, DD_ST_ALLOW_1):
 * which one packets read (bit DD_ST_ALLOW_1 or DD_ST_LIM_1), the map of
 * copy `copy` of base "dd_allow" or "dd_lim", a copy emptied. */
int dd_live(struct nfc_nf *nf, __u32 bit);
int dd_copy_fd(struct nfc_nf *nf, const char *base, int family, int copy);
int dd_copy_clear(struct nfc_nf *nf, const char *base, int copy, int say);
int dd_allow_replace(struct nfc_nf *nf, json_t *entries);
/* check() of an apply: more than `max` entries of `family` in the
 * document's collection `coll` refused before anything changes. */
int dd_count_check(struct nfc_nf *nf, const char *coll, int family, size_t max,
		   const char *key);
int dd_allow_check_entry(struct nfc_nf *nf, json_t *config, const char *key,
			 json_t *fields);
int dd_limit_replace(struct nfc_nf *nf, json_t *entries);
int dd_adopt(struct nfc_nf *nf);
int dd_flags_look(struct nfc_nf *nf, const char *what, int family);

int dd_limit_add(struct nfc_nf *nf, const char *key, json_t *fields);
int dd_limit_check_entry(struct nfc_nf *nf, json_t *config, const char *key,
			 json_t *fields);
int dd_limit_del(struct nfc_nf *nf, const char *key);
int dd_limit_list(struct nfc_nf *nf, json_t *out);
extern const struct nfc_field dd_limit_fields[];

#endif
