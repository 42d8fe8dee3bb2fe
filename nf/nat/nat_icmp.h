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
 * The quoted end that was translated is put back (address, port or echo
 * id, the quoted IP checksum, the quoted L4 checksum when quoted — a UDP
 * 0 stays 0) and the outer address facing it follows, as Linux does: a
 * rewritten quoted source rewrites the outer destination, a quoted
 * destination the outer source. The ICMP checksum gets every change of
 * the quote. Written in place in both hooks: every change is balanced
 * by its checksum, so the packet's one's-complement sum (a receive
 * CHECKSUM_COMPLETE) is unchanged, and no ICMP checksum is offloaded.
 */
#ifndef NFC_NAT_ICMP_H
#define NFC_NAT_ICMP_H

/* How one ICMP error is rewritten. */
struct nat_ierr {
	__be32 addr;
	__be16 port;
	__u8 qdst; /* 1: the quoted destination (and outer source) */
	__u8 ok;
};

/* What the error quotes, from the reverse of its tuple (see above). */
static __always_inline void nat_ierr_find(const struct nfc_flow *fl,
					  struct nat_ierr *t)
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
		t->addr = t->qdst ? rev->orig.dst : rev->orig.src;
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
	t->addr = x->addr;
	t->port = x->port;
	t->ok = 1;
}

/* 1: translated, 0: not about a translated connection (pass), -1: not
 * writable (drop). */
static __noinline int nat_icmp_err(nfc_ctx_t *ctx, const struct nfc_flow *fl)
{
	void *data = nfc_data(ctx), *end = nfc_data_end(ctx);
	struct nat_ierr t = {};
	struct iphdr *ip, *qip;
	__u16 *isum, *qsum = NULL, *qport = NULL, old16;
	__be32 *oaddr, *qaddr, old;
	__u32 ql3, ql4, co, po;
	__u8 proto = fl->inner.proto;

	if (!(fl->flags & NFC_FLOW_F_INNER) ||
	    fl->inner.family != NFC_FAMILY_V4)
		return 0;
	nat_ierr_find(fl, &t);
	if (!t.ok)
		return 0;

	ip = NFC_FLOW_PTR(data, end, fl->l3_off, sizeof(*ip));
	isum = NFC_FLOW_PTR(data, end, fl->l4_off + 2, 2);
	ql3 = fl->l4_off + 8;
	qip = NFC_FLOW_PTR(data, end, ql3, sizeof(*qip));
	if (!ip || !isum || !qip)
		return -1;
	ql4 = ql3 + qip->ihl * 4;
	if (proto == NFC_IPPROTO_TCP || proto == NFC_IPPROTO_UDP) {
		po = t.qdst ? 2 : 0;
		co = proto == NFC_IPPROTO_TCP ? 16 : 6;
	} else if (proto == NFC_IPPROTO_ICMP) {
		__u8 *ty = NFC_FLOW_PTR(data, end, ql4, 1);

		/* An echo's id (other quoted ICMP has none). */
		po = ty && (*ty == 8 || *ty == 0) ? 4 : 0;
		co = po ? 2 : 0;
	} else {
		po = co = 0;
	}
	if (co) {
		/* The 8 quoted L4 bytes hold the port; its checksum may be
		 * cut off (TCP's is at 16): then there is none to fix. */
		qport = NFC_FLOW_PTR(data, end, ql4 + po, 2);
		qsum = NFC_FLOW_PTR(data, end, ql4 + co, 2);
		if (!qport)
			return -1;
	}

	/* The quoted address, its IP checksum, the ICMP checksum. */
	qaddr = t.qdst ? &qip->daddr : &qip->saddr;
	old = *qaddr;
	*qaddr = t.addr;
	csum_upd(isum, old, t.addr);
	old16 = qip->check;
	csum_upd(&qip->check, old, t.addr);
	csum_upd(isum, old16, qip->check);
	if (qport) {
		__be16 op = *qport;

		*qport = t.port;
		csum_upd(isum, op, t.port);
		if (qsum && (proto != NFC_IPPROTO_UDP || *qsum)) {
			old16 = *qsum;
			if (proto != NFC_IPPROTO_ICMP)
				csum_upd(qsum, old, t.addr);
			csum_upd(qsum, op, t.port);
			if (proto == NFC_IPPROTO_UDP && !*qsum)
				*qsum = 0xffff;
			csum_upd(isum, old16, *qsum);
		}
	}

	/* The outer address facing the translated end. */
	oaddr = t.qdst ? &ip->saddr : &ip->daddr;
	old = *oaddr;
	*oaddr = t.addr;
	csum_upd(&ip->check, old, t.addr);
	return 1;
}

#endif
