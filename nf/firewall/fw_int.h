/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * firewall: what its control-plane files share. fw_rule.c and fw_build.c
 * make no kernel call (the tests compile them in); fw_tables.c writes the
 * maps; firewall.c is the NF type.
 */
#ifndef NFC_FW_INT_H
#define NFC_FW_INT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <jansson.h>

#include "fw.h"

/* ---- fw_rule.c ---- */

/* The entry's fields into *r; on -EINVAL, err names the rule and field. */
int fw_rule_parse(const char *key, json_t *fields, int conntrack,
		  struct fw_rule *r, char *err, size_t errlen);
/* The rule as `rules show` prints it (without its hits). */
json_t *fw_rule_json(const struct fw_rule *r);

/* ---- fw_build.c: a rule set compiled into the data plane's tables ---- */

struct fw_addr_ent {
	__u8 fam, plen;
	__u8 addr[16];
	__u32 cls;
};

struct fw_tables {
	__u32 nrules, nwords, nsums;
	__u32 ncls;
	struct fw_bv *bv; /* ncls vectors */
	size_t bvlen;	  /* bytes reserved at bv */
	/* Per address field (0 src, 1 dst): the class of each distinct
	 * prefix, and of an address no prefix holds. */
	struct fw_addr_ent *addr[2];
	__u32 naddr[2];
	__u32 addr_default[2];
	__u32 *port[2]; /* FW_PORT_STRIDE classes each */
	__u32 *act;	/* nrules actions */
	__u32 *num;	/* nrules rule numbers */
	__s32 shortcut[FW_NMISC];
	/* Address classes as fw_at holds them (fw.h): nat chunks. */
	struct fw_at_chunk *at;
	__u32 nat;
	__u8 at6_lpm[2]; /* field f's IPv6 prefixes are in its LPM trie */
};

/* Compiles `n` rules, sorted by number, into *t. 0 or -ENOMEM/-E2BIG. */
int fw_build(const struct fw_rule *rules, __u32 n, struct fw_tables *t);
void fw_tables_free(struct fw_tables *t);
/* fw_at.c: t->at from t->addr; 0 or -ENOMEM. */
int fw_at_build(struct fw_tables *t);
/* The class of address a (4 or 16 bytes) in field f, as the data plane
 * finds it in t->at (FW_AT_LPM: ask the trie). */
__u32 fw_at_cls(const struct fw_tables *t, int f, int v6, const __u8 *a);
/* The rule index the tables give a packet (-1: none), as the data plane
 * computes it: for tests. `addr` are 16 bytes each (IPv4 in the first 4);
 * sport/dport < 0: the packet has no ports. */
int fw_tables_classify(const struct fw_tables *t, int dir, int v6, int state,
		       int proto, const __u8 *src, const __u8 *dst, int sport,
		       int dport);
/* The same by walking the rules in order: the reference. */
int fw_rules_match(const struct fw_rule *rules, __u32 n, int dir, int v6,
		   int state, int proto, const __u8 *src, const __u8 *dst,
		   int sport, int dport);

int fw_rule_cmp(const void *a, const void *b);

/* ---- fw_tables.c ---- */
struct nfc_nf;
/* The tables written into the inactive half and switched in. */
int fw_tables_write(struct nfc_nf *nf, const struct fw_tables *t);
/* The live set's rule numbers and hits, in rule order; how many, or
 * -errno. */
int fw_hits_read(struct nfc_nf *nf, struct fw_hit *sum, __u32 *nums, __u32 n);

/* ---- fw_reject.c: what action=reject sends back (slow path) ---- */

/* The answer to frame f (len bytes there) into out: a TCP RST, or an ICMP
 * or ICMPv6 port unreachable, addressed to its sender; its length, or 0
 * when nothing is to be sent (a RST, an ICMP error, a later fragment...).
 * outlen: at least FW_REJECT_MAX. */
#define FW_REJECT_MAX 1300
size_t fw_reject_build(const __u8 *f, size_t len, __u8 *out, size_t outlen);
void fw_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		  const uint8_t *data, uint32_t len, uint32_t pkt_len);

#endif
