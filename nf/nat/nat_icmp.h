/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat: ICMP errors (unreachable, time exceeded, fragmentation needed...)
 * about a translated connection. Included by nat.bpf.c after its maps.
 *
 * The quoted packet is one the far side saw, so its tuple is on the wire
 * form of one direction; its reverse is either
 *  - a nat_rev key: the quote is an original-direction packet after its
 *    translation (SNAT: an outgoing packet, the error comes in; DNAT: an
 *    incoming packet, the error goes out from inside), or
 *  - the original tuple of a conntrack entry: the quote is a reply after
 *    it was translated back (SNAT: the error goes out from inside; DNAT:
 *    it comes in about what the server sent).
 * The quoted end that was translated is put back, and the outer address
 * facing it follows, by the rewrite the lb shares (bpf/icmp_err.h).
 */
#ifndef NFC_NAT_ICMP_H
#define NFC_NAT_ICMP_H

#include "icmp_err.h"

/* What the error quotes, from the reverse of its tuple (see above). */
static __always_inline void nat_ierr_find(const struct nfc_flow *fl,
					  struct nfc_ierr *t)
{
	struct nat_tuple rq = {
		.src = fl->inner.dst[3],
		.dst = fl->inner.src[3],
		.sport = fl->inner.dport,
		.dport = fl->inner.sport,
		.proto = fl->inner.proto,
	};
	struct nfc_tuple ot = {};
	struct nfct_key key = {};
	struct nfct_entry *e;
	struct nat_xlat *x;
	struct nat_rev *rev;
	int swapped;

	rev = bpf_map_lookup_elem(&nat_rev, &rq);
	if (rev) {
		t->qdst = rev->type == NAT_T_DNAT;
		t->addr[0] = t->qdst ? rev->orig.dst : rev->orig.src;
		t->port = t->qdst ? rev->orig.dport : rev->orig.sport;
		t->ok = 1;
		return;
	}
	__builtin_memcpy(ot.src, fl->inner.dst, 16);
	__builtin_memcpy(ot.dst, fl->inner.src, 16);
	ot.sport = rq.sport;
	ot.dport = rq.dport;
	ot.proto = rq.proto;
	ot.family = NFC_FAMILY_V4;
	swapped = nfct_key_of(&ot, &key);
	e = bpf_map_lookup_elem(&ct_table, &key);
	if (!e || swapped != !!(e->flags & NFCT_F_ORIG_IS_B))
		return;
	x = (struct nat_xlat *)e->nf_data;
	if (!x->type || !x->ready)
		return;
	t->qdst = x->type != NAT_T_DNAT;
	t->addr[0] = x->addr;
	t->port = x->port;
	t->ok = 1;
}

/* 1: translated, 0: not about a translated connection (pass), -1: not
 * writable (drop). */
static __noinline int nat_icmp_err(nfc_ctx_t *ctx, const struct nfc_flow *fl)
{
	struct nfc_ierr t = {};

	if (!(fl->flags & NFC_FLOW_F_INNER) ||
	    fl->inner.family != NFC_FAMILY_V4)
		return 0;
	nat_ierr_find(fl, &t);
	if (!t.ok)
		return 0;
	return nfc_icmp_err_xlat(ctx, fl, &t);
}

#endif
