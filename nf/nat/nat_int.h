/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat: what its control-plane files share. nat_rule.c makes no kernel
 * call (the unit tests compile it in); nat.c is the NF type.
 */
#ifndef NFC_NAT_INT_H
#define NFC_NAT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <jansson.h>

#include "nat.h"

/* The entry's fields into *r; on -EINVAL, err names the rule and field.
 * A masquerade rule gets no address here (to_lo 0): nat.c fills it from
 * the target. */
int nat_rule_parse(const char *key, json_t *fields, struct nat_rule *r,
		   char *err, size_t errlen);
/* The rule as `rules show` prints it. */
json_t *nat_rule_json(const struct nat_rule *r);
/* "lo-hi" (ports=): 0 or -EINVAL with err. */
int nat_range_parse(const char *s, __u16 *lo, __u16 *hi, char *err,
		    size_t errlen, const char *what);

/* ---- nat_addr.c ---- */
struct nfc_nf;
/* The IPv4 address (host order) of what the NF is attached to, 0 if it
 * has none; returns whether the NF is attached at all. */
int nat_target_addr4(const struct nfc_nf *nf, __u32 *addr);

#endif
