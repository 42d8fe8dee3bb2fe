/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The L3/L4 packet parser every NF that looks past Ethernet shares
 * (firewall, conntrack, NAT, load balancer). BPF side only; include
 * nfchain.bpf.h (or vmlinux.h, bpf_helpers.h, bpf_endian.h) first;
 * userspace (<linux/types.h> first) gets the types only.
 *
 * Contract:
 *   int nfc_flow_parse(void *data, void *data_end, struct nfc_flow *fl)
 * reads the frame in [data, data_end) and fills *fl. The NF has made the
 * headers readable first (nfc_pull(ctx, NFC_FLOW_PULL) in TC). Returns
 *   NFC_FLOW_OK         an IPv4 or IPv6 packet, fl filled
 *   NFC_FLOW_NOT_IP     not IP (ARP, ...): only fl->l3_proto and the VLAN
 *                       fields are set
 *   NFC_FLOW_MALFORMED  IP, but a header is cut short or inconsistent
 *                       (bad IHL, an extension chain longer than the
 *                       bound): a firewall drops it or calls it invalid
 * Parsed: Ethernet with up to two VLAN tags (802.1Q / 802.1ad), IPv4 with
 * options, IPv6 with up to NFC_FLOW_V6_EXT extension headers (hop-by-hop,
 * routing, destination options, fragment, AH), then TCP, UDP, ICMP,
 * ICMPv6 (other protocols: no ports).
 *
 * Fragments: fl->frag says NFC_FRAG_NONE, FIRST (offset 0, more to come:
 * ports present) or LATER (offset > 0: no L4 header, so no ports;
 * NFC_FLOW_F_PORTS is clear and sport/dport are 0). A LATER fragment must
 * never match a port rule as if its ports were 0; conntrack (nfct_lookup)
 * can lend it its first fragment's ports, then sets NFC_FLOW_F_PORTS and
 * NFC_FLOW_F_PORTS_FROM_FIRST.
 *
 * ICMP errors (v4: unreachable, source quench, redirect, time exceeded,
 * parameter problem; v6: types 1-4) set NFC_FLOW_F_ICMP_ERR and, when the
 * quoted header is readable, NFC_FLOW_F_INNER with fl->inner holding the
 * quoted packet's tuple as it was sent (its src is who sent it, so the
 * error's destination normally equals inner.src).
 *
 * Ports: TCP/UDP source and destination; ICMP/ICMPv6 echo request and
 * reply: the identifier in both sport and dport (so that a reply's
 * reversed tuple is the request's); other ICMP: 0 and 0 (type and code
 * are in icmp_type/icmp_code). All in network order.
 */
#ifndef NFC_FLOW_H
#define NFC_FLOW_H

#include "ct_common.h"

enum {
	NFC_FLOW_OK = 0,
	NFC_FLOW_NOT_IP = 1,
	NFC_FLOW_MALFORMED = 2,
};

enum nfc_frag_kind {
	NFC_FRAG_NONE = 0,
	NFC_FRAG_FIRST = 1,
	NFC_FRAG_LATER = 2,
};

/* fl->flags */
#define NFC_FLOW_F_PORTS (1 << 0)    /* sport/dport are meaningful */
#define NFC_FLOW_F_ICMP_ERR (1 << 1) /* an ICMP/ICMPv6 error message */
#define NFC_FLOW_F_INNER (1 << 2)    /* fl->inner was parsed */
#define NFC_FLOW_F_IP_OPTS (1 << 3)  /* IPv4 options / IPv6 ext headers */
#define NFC_FLOW_F_PORTS_FROM_FIRST (1 << 4) /* LATER fragment, ports lent */
/* nfct_frag ran (an NF that rewrites addresses runs it on the wire's):
 * nfct_lookup does not run it again on the rewritten tuple. */
#define NFC_FLOW_F_FRAG_DONE (1 << 5)

/* Extension headers walked before giving up (MALFORMED); Linux walks
 * without bound, real traffic has 0-3. */
#define NFC_FLOW_V6_EXT 8
/* Bytes an NF should make readable (nfc_pull) for the parser to see every
 * header it reads, options and a quoted ICMP header included. */
#define NFC_FLOW_PULL 256
/* Largest L3 offset + header the parser accepts: keeps every variable
 * offset bounded for the verifier. */
#define NFC_FLOW_MAX_OFF 512

/* One direction's 5-tuple (and family). */
struct nfc_tuple {
	__u32 src[4]; /* 16 bytes, IPv4 mapped (ct_common.h) */
	__u32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family; /* enum nfc_family */
	__u16 pad;
};

struct nfc_flow {
	struct nfc_tuple t;	/* the packet's own */
	struct nfc_tuple inner; /* ICMP errors: the quoted packet's */
	__u16 l3_proto;		/* EtherType after the tags, host order */
	__u16 l3_off;		/* IP header, from the frame's start */
	__u16 l4_off;		/* L4 header; 0: none (LATER fragment) */
	__u16 ip_len;		/* IPv4 total / IPv6 40 + payload length */
	__u16 vlan[2];		/* TCIs, host order, outer first */
	__u8 vlans;		/* tags seen (0-2) */
	__u8 frag;		/* enum nfc_frag_kind */
	__u8 flags;		/* NFC_FLOW_F_* */
	__u8 tcp_flags;		/* byte 13 of the TCP header (FIN 0x01 ...) */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 ttl; /* TTL / hop limit */
	__u8 pad;
	__u32 frag_id; /* IPv4 id or IPv6 fragment id, when frag != NONE */
};

/* Same values as NFCT_TCP_* (ct_common.h). */
#define NFC_TCP_FIN NFCT_TCP_FIN
#define NFC_TCP_SYN NFCT_TCP_SYN
#define NFC_TCP_RST NFCT_TCP_RST
#define NFC_TCP_PSH NFCT_TCP_PSH
#define NFC_TCP_ACK NFCT_TCP_ACK

/* The parser itself is BPF code; userspace (tests) sees the types only. */
#ifdef __bpf__

/* A pointer to `len` readable bytes at `off`, or NULL. `off` is bounded
 * first so that the verifier knows the pointer's range. */
#define NFC_FLOW_PTR(data, data_end, off, len)                         \
	({                                                             \
		void *p_ = NULL;                                       \
		__u32 o_ = (off);                                      \
		if (o_ <= NFC_FLOW_MAX_OFF &&                          \
		    (void *)(data) + o_ + (len) <= (void *)(data_end)) \
			p_ = (void *)(data) + o_;                      \
		p_;                                                    \
	})

static __always_inline void nfc_flow_v4addr(__u32 a[4], __u32 v4)
{
	a[0] = 0;
	a[1] = 0;
	a[2] = bpf_htonl(NFCT_V4MAPPED_W2);
	a[3] = v4;
}

static __always_inline int nfc_icmp4_is_err(__u8 type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The L4 ports of a tuple from the L4 header at `off` (ICMP: echo id). A
 * quoted header (inner) may be cut after 8 bytes: ports and echo ids are
 * within them. Returns 0, or -1 if the header is not readable. */
static __always_inline int nfc_flow_ports(void *data, void *data_end, __u32 off,
					  struct nfc_tuple *t, __u8 *type)
{
	__u8 *l4 = NFC_FLOW_PTR(data, data_end, off, 8);

	if (!l4)
		return -1;
	switch (t->proto) {
	case NFC_IPPROTO_TCP:
	case NFC_IPPROTO_UDP:
		t->sport = *(__be16 *)l4;
		t->dport = *(__be16 *)(l4 + 2);
		break;
	case NFC_IPPROTO_ICMP:
		*type = l4[0];
		if (l4[0] == 8 || l4[0] == 0 || l4[0] == 13 || l4[0] == 14) {
			t->sport = *(__be16 *)(l4 + 4);
			t->dport = t->sport;
		}
		break;
	case NFC_IPPROTO_ICMPV6:
		*type = l4[0];
		if (l4[0] == 128 || l4[0] == 129) {
			t->sport = *(__be16 *)(l4 + 4);
			t->dport = t->sport;
		}
		break;
	}
	return 0;
}

/* The IPv4 header at `off`: addresses, protocol, fragment; returns the L4
 * offset (0 for a LATER fragment), or -1 if malformed. */
static __always_inline int nfc_flow_ip4(void *data, void *data_end, __u32 off,
					struct nfc_tuple *t, __u8 *frag,
					__u32 *frag_id, __u16 *ip_len,
					__u8 *ttl)
{
	struct iphdr *ip = NFC_FLOW_PTR(data, data_end, off, sizeof(*ip));
	__u32 ihl;
	__u16 fo;

	if (!ip || ip->version != 4 || ip->ihl < 5)
		return -1;
	ihl = ip->ihl * 4;
	t->family = NFC_FAMILY_V4;
	t->proto = ip->protocol;
	nfc_flow_v4addr(t->src, ip->saddr);
	nfc_flow_v4addr(t->dst, ip->daddr);
	*ip_len = bpf_ntohs(ip->tot_len);
	/* A total length short of the header is malformed (Linux's
	 * ip_rcv drops it). In TC 0 passes: an IPv4 BIG TCP packet carries
	 * 0 there; a frame in XDP is no such packet. Longer than the frame
	 * cannot be told here: in TC the rest may lie beyond the linear
	 * part. */
#ifdef NFC_HOOK_XDP
	if (*ip_len < ihl)
		return -1;
#else
	if (*ip_len && *ip_len < ihl)
		return -1;
#endif
	*ttl = ip->ttl;
	fo = bpf_ntohs(ip->frag_off);
	*frag = NFC_FRAG_NONE;
	if (fo & 0x3fff) { /* MF or an offset */
		*frag_id = bpf_ntohs(ip->id);
		if (fo & 0x1fff) {
			*frag = NFC_FRAG_LATER;
			return 0;
		}
		*frag = NFC_FRAG_FIRST;
	}
	return off + ihl;
}

/* The IPv6 header at `off` and its extension headers (at most `bound`);
 * same returns as nfc_flow_ip4, plus whether there were any (*ext). */
static __always_inline int nfc_flow_ip6(void *data, void *data_end, __u32 off,
					struct nfc_tuple *t, __u8 *frag,
					__u32 *frag_id, __u16 *ip_len,
					__u8 *ttl, __u8 *ext, const int bound)
{
	struct ipv6hdr *ip6 = NFC_FLOW_PTR(data, data_end, off, sizeof(*ip6));
	__u8 nh;

	if (!ip6 || ip6->version != 6)
		return -1;
	t->family = NFC_FAMILY_V6;
	__builtin_memcpy(t->src, &ip6->saddr, 16);
	__builtin_memcpy(t->dst, &ip6->daddr, 16);
	*ip_len = 40 + bpf_ntohs(ip6->payload_len);
	*ttl = ip6->hop_limit;
	*frag = NFC_FRAG_NONE;
	nh = ip6->nexthdr;
	off += sizeof(*ip6);
#pragma unroll
	for (int i = 0; i < bound; i++) {
		__u8 *h;

		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51) {
			t->proto = nh;
			return off;
		}
		*ext = 1;
		h = NFC_FLOW_PTR(data, data_end, off, 8);
		if (!h)
			return -1;
		if (nh == 44) { /* fragment: fixed 8 bytes */
			__u16 fo = bpf_ntohs(*(__be16 *)(h + 2));

			*frag_id = bpf_ntohl(*(__be32 *)(h + 4));
			if (fo & 0xfff8) {
				t->proto = h[0];
				*frag = NFC_FRAG_LATER;
				return 0;
			}
			if (fo & 1)
				*frag = NFC_FRAG_FIRST;
			off += 8;
		} else if (nh == 51) { /* AH: length in 4-byte units, minus 2 */
			off += (h[1] + 2) * 4;
		} else {
			off += (h[1] + 1) * 8;
		}
		nh = h[0];
	}
	return -1; /* longer chain than the bound */
}

/* An ICMP error's quoted header, after the 8-byte ICMP header at l4. */
static __always_inline void nfc_flow_inner(void *data, void *data_end,
					   struct nfc_flow *fl)
{
	__u32 off = fl->l4_off + 8;
	__u8 frag = 0, ttl, type = 0, ext = 0;
	__u32 id = 0;
	__u16 len;
	int l4;

	if (fl->t.family == NFC_FAMILY_V4)
		l4 = nfc_flow_ip4(data, data_end, off, &fl->inner, &frag, &id,
				  &len, &ttl);
	else
		l4 = nfc_flow_ip6(data, data_end, off, &fl->inner, &frag, &id,
				  &len, &ttl, &ext, 4);
	if (l4 <= 0 || frag == NFC_FRAG_LATER)
		return;
	/* An error about an error is never sent (RFC 1122 3.2.2, RFC 4443
	 * 2.4): a quoted ICMP error makes this one meaningless. */
	if (nfc_flow_ports(data, data_end, l4, &fl->inner, &type))
		return;
	if ((fl->inner.proto == NFC_IPPROTO_ICMP && nfc_icmp4_is_err(type)) ||
	    (fl->inner.proto == NFC_IPPROTO_ICMPV6 && type < 128))
		return;
	fl->flags |= NFC_FLOW_F_INNER;
}

static __always_inline int nfc_flow_parse(void *data, void *data_end,
					  struct nfc_flow *fl)
{
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u8 ext = 0, type = 0;
	int l4;

	__builtin_memset(fl, 0, sizeof(*fl));
	if ((void *)(eth + 1) > data_end)
		return NFC_FLOW_MALFORMED;
	fl->l3_proto = bpf_ntohs(eth->h_proto);
#pragma unroll
	for (int i = 0; i < 2; i++) {
		__be16 *tag;

		if (fl->l3_proto != NFC_ETH_P_8021Q &&
		    fl->l3_proto != NFC_ETH_P_8021AD)
			break;
		tag = NFC_FLOW_PTR(data, data_end, off, 4);
		if (!tag)
			return NFC_FLOW_MALFORMED;
		fl->vlan[i] = bpf_ntohs(tag[0]);
		fl->l3_proto = bpf_ntohs(tag[1]);
		fl->vlans = i + 1;
		off += 4;
	}
	fl->l3_off = off;
	if (fl->l3_proto == NFC_ETH_P_IP)
		l4 = nfc_flow_ip4(data, data_end, off, &fl->t, &fl->frag,
				  &fl->frag_id, &fl->ip_len, &fl->ttl);
	else if (fl->l3_proto == NFC_ETH_P_IPV6)
		l4 = nfc_flow_ip6(data, data_end, off, &fl->t, &fl->frag,
				  &fl->frag_id, &fl->ip_len, &fl->ttl, &ext,
				  NFC_FLOW_V6_EXT);
	else
		return NFC_FLOW_NOT_IP;
	if (l4 < 0)
		return NFC_FLOW_MALFORMED;
	if (ext || (fl->t.family == NFC_FAMILY_V4 && l4 > (int)off + 20))
		fl->flags |= NFC_FLOW_F_IP_OPTS;
	if (fl->frag == NFC_FRAG_LATER)
		return NFC_FLOW_OK;
	fl->l4_off = l4;
	if (fl->t.proto == NFC_IPPROTO_TCP) {
		__u8 *th = NFC_FLOW_PTR(data, data_end, l4, 20);

		if (!th)
			return NFC_FLOW_MALFORMED;
		fl->tcp_flags = th[13];
	}
	if (fl->t.proto != NFC_IPPROTO_TCP && fl->t.proto != NFC_IPPROTO_UDP &&
	    fl->t.proto != NFC_IPPROTO_ICMP &&
	    fl->t.proto != NFC_IPPROTO_ICMPV6)
		return NFC_FLOW_OK;
	if (nfc_flow_ports(data, data_end, l4, &fl->t, &type))
		return NFC_FLOW_MALFORMED;
	if (fl->t.proto == NFC_IPPROTO_TCP || fl->t.proto == NFC_IPPROTO_UDP)
		fl->flags |= NFC_FLOW_F_PORTS;
	if (fl->t.proto == NFC_IPPROTO_ICMP ||
	    fl->t.proto == NFC_IPPROTO_ICMPV6) {
		__u8 *ih = NFC_FLOW_PTR(data, data_end, l4, 2);

		if (ih) {
			fl->icmp_type = ih[0];
			fl->icmp_code = ih[1];
		}
		if ((fl->t.proto == NFC_IPPROTO_ICMP &&
		     nfc_icmp4_is_err(type)) ||
		    (fl->t.proto == NFC_IPPROTO_ICMPV6 && type >= 1 &&
		     type <= 4)) {
			fl->flags |= NFC_FLOW_F_ICMP_ERR;
			nfc_flow_inner(data, data_end, fl);
		}
	}
	return NFC_FLOW_OK;
}

#endif /* __bpf__ */

#endif
