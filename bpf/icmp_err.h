/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The rewrite of an ICMP or ICMPv6 error (unreachable, time exceeded,
 * fragmentation needed, packet too big...) about a translated connection,
 * shared by the NFs that translate addresses (nat, lb). The NF finds what
 * the quote's translated end must become (struct nfc_ierr, from its own
 * tables); this puts it back:
 *  - the quoted address, the quoted port or echo id, the quoted IPv4
 *    header checksum, the quoted L4 checksum when it is quoted (TCP's at
 *    16 may be cut off; a UDP 0 stays 0; an ICMPv6 echo's covers its
 *    pseudo-header, an ICMP one's does not);
 *  - the outer address facing the translated end, as Linux does
 *    (nf_nat_icmp_reply_translation): a rewritten quoted source rewrites
 *    the outer destination, a quoted destination the outer source;
 *  - the ICMP checksum gets every change of the quote, and ICMPv6's the
 *    outer address too (its pseudo-header).
 * Written in place in both hooks: every change is balanced by a checksum,
 * so the packet's one's-complement sum (a receive CHECKSUM_COMPLETE) is
 * unchanged, and no ICMP checksum is offloaded.
 *
 * Include after nfchain.bpf.h and flow.h; the frame parsed by
 * nfc_flow_parse (fl with NFC_FLOW_F_INNER) and pulled (NFC_FLOW_PULL).
 * An IPv6 quote with an extension header before its L4 header is left
 * alone (its ports are not at a fixed place).
 */
#ifndef NFC_ICMP_ERR_H
#define NFC_ICMP_ERR_H

/* What the quote's translated end becomes. */
struct nfc_ierr {
	__u32 addr[4]; /* IPv4 in addr[0]; network order */
	__be16 port;
	__u8 qdst; /* 1: the quoted destination (and outer source) */
	__u8 ok;
};

/* RFC 1624 update of a checksum for a 32-bit (or 16-bit) field. */
static __always_inline void nfc_ierr_csum(__u16 *sum, __u32 from, __u32 to)
{
	__u32 s = (__u16) ~*sum;

	s += (~from & 0xffff) + (~from >> 16 & 0xffff) + (to & 0xffff) +
	     (to >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = ~s;
}

/* One family's copy (v6 a constant, so that the verifier sees every
 * address word's access in range). */
static __always_inline int nfc_ierr_xlat(nfc_ctx_t *ctx,
					 const struct nfc_flow *fl,
					 const struct nfc_ierr *t, const int v6)
{
	void *data = nfc_data(ctx), *end = nfc_data_end(ctx);
	const int words = v6 ? 4 : 1;
	__u16 *isum, *qsum = NULL, *qport = NULL, *ipsum = NULL;
	__u16 *qipsum = NULL, old16;
	__u32 *oaddr, *qaddr, old[4] = {};
	__u32 ql3 = fl->l4_off + 8, ql4, co = 0, po = 0;
	__u8 proto = fl->inner.proto;

	isum = NFC_FLOW_PTR(data, end, fl->l4_off + 2, 2);
	if (!isum)
		return -1;
	if (v6) {
		struct ipv6hdr *ip = NFC_FLOW_PTR(data, end, fl->l3_off, 40);
		struct ipv6hdr *q = NFC_FLOW_PTR(data, end, ql3, 40);

		if (!ip || !q)
			return -1;
		if (q->nexthdr != proto)
			return 0;
		ql4 = ql3 + 40;
		qaddr = t->qdst ? q->daddr.in6_u.u6_addr32
				: q->saddr.in6_u.u6_addr32;
		oaddr = t->qdst ? ip->saddr.in6_u.u6_addr32
				: ip->daddr.in6_u.u6_addr32;
	} else {
		struct iphdr *ip = NFC_FLOW_PTR(data, end, fl->l3_off, 20);
		struct iphdr *q = NFC_FLOW_PTR(data, end, ql3, 20);

		if (!ip || !q)
			return -1;
		ql4 = ql3 + q->ihl * 4;
		qaddr = t->qdst ? &q->daddr : &q->saddr;
		oaddr = t->qdst ? &ip->saddr : &ip->daddr;
		ipsum = &ip->check;
		qipsum = &q->check;
	}
	if (proto == NFC_IPPROTO_TCP || proto == NFC_IPPROTO_UDP) {
		po = t->qdst ? 2 : 0;
		co = proto == NFC_IPPROTO_TCP ? 16 : 6;
	} else if (proto == NFC_IPPROTO_ICMP || proto == NFC_IPPROTO_ICMPV6) {
		__u8 *ty = NFC_FLOW_PTR(data, end, ql4, 1);

		/* An echo's id (other quoted ICMP has none). */
		if (ty &&
		    (proto == NFC_IPPROTO_ICMP ? *ty == 8 || *ty == 0
					       : *ty == 128 || *ty == 129)) {
			po = 4;
			co = 2;
		}
	}
	if (co) {
		qport = NFC_FLOW_PTR(data, end, ql4 + po, 2);
		qsum = NFC_FLOW_PTR(data, end, ql4 + co, 2);
		if (!qport)
			return -1;
	}

	/* The quoted address, its IPv4 header checksum. */
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (i < words) {
			old[i] = qaddr[i];
			qaddr[i] = t->addr[i];
			nfc_ierr_csum(isum, old[i], t->addr[i]);
		}
	}
	if (qipsum) {
		old16 = *qipsum;
		nfc_ierr_csum(qipsum, old[0], t->addr[0]);
		nfc_ierr_csum(isum, old16, *qipsum);
	}
	if (qport) {
		__be16 op = *qport;

		*qport = t->port;
		nfc_ierr_csum(isum, op, t->port);
		if (qsum && (proto != NFC_IPPROTO_UDP || *qsum)) {
			old16 = *qsum;
			if (proto != NFC_IPPROTO_ICMP) {
#pragma unroll
				for (int i = 0; i < 4; i++)
					if (i < words)
						nfc_ierr_csum(qsum, old[i],
							      t->addr[i]);
			}
			nfc_ierr_csum(qsum, op, t->port);
			if (proto == NFC_IPPROTO_UDP && !*qsum)
				*qsum = 0xffff;
			nfc_ierr_csum(isum, old16, *qsum);
		}
	}

	/* The outer address facing the translated end: in IPv4's header
	 * checksum, in ICMPv6's pseudo-header. */
#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u32 o;

		if (i < words) {
			o = oaddr[i];
			oaddr[i] = t->addr[i];
			if (ipsum)
				nfc_ierr_csum(ipsum, o, t->addr[i]);
			else
				nfc_ierr_csum(isum, o, t->addr[i]);
		}
	}
	return 1;
}

/* 1: rewritten, 0: left alone (an IPv6 quote with extension headers),
 * -1: not writable (the caller drops it). Inlined: the callers are
 * subprograms of their own, and one more frame would take the lb's call
 * chain beyond BPF's 512 bytes of stack. */
static __always_inline int nfc_icmp_err_xlat(nfc_ctx_t *ctx,
					     const struct nfc_flow *fl,
					     const struct nfc_ierr *t)
{
	if (fl->t.family == NFC_FAMILY_V6)
		return nfc_ierr_xlat(ctx, fl, t, 1);
	return nfc_ierr_xlat(ctx, fl, t, 0);
}

#endif
