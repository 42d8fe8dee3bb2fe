// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lb: a transparent L4 load balancer. On the ingress side of its
 * attachment, a TCP or UDP packet to a service's VIP gets a backend: the
 * one its connection already has (lb_conns), else the one the service's
 * Maglev table gives the flow's hash, remembered for the flow's next
 * packets; IPv4 and IPv6 alike. forward=dsr: the packet goes on unchanged
 * inside an outer IPv4 (IPIP) or IPv6 (ip6ip6) header to the backend,
 * which decapsulates and answers the client itself.
 * The frame keeps its MAC addresses: it continues to where it was going
 * (the router port behind the attachment, or the stack), which routes it
 * by the new outer destination (README.md, "Where the packet goes next").
 * forward=nat: the destination becomes the backend's, the rewritten
 * connection (client <-> backend) is tracked by the shared connection
 * tracker (bpf/ct.h) with the VIP and port in its entry's nf_data, and on
 * the egress side a reply of such an entry gets the VIP back as source.
 * Everything else passes on untouched.
 */
#include "nfchain.bpf.h"
/* ct_fc_gen: the tracker's generation of cached flows, for lb_fc. */
#define NFCT_FC_GEN 1
#include "ct.h"
#include "icmp_err.h"
#include "lb.h"

#define IP_MF 0x2000
#define IP_DF 0x4000
#define IP_OFFSET 0x1fff
#define LB_PROTO_IPIP 4
#define LB_PROTO_IPV6 41		 /* ip6ip6's next header */
#define LB_PULL (NFC_ETH_HLEN + 60 + 20) /* IPv4 with options, TCP */
#define LB_TCP_SYN 0x02
#define LB_TCP_ACK 0x10

/* Outer source: the client's own address when 0 (what it would have been
 * anyway), else this one with its low lb_src_bits bits taken from the
 * flow's hash, so that the backend's receive hashing spreads flows. Both
 * read at run time: a `set` of src, src_bits or mtu is a map write. */
NFC_CFG_VAR(lb_src);
NFC_CFG_VAR(lb_src_bits);
/* The same for IPv6 (ip6ip6): src6, all zero when not set. A load-time
 * constant: one config string that is four words (docs/runtime.md). */
const volatile __u32 lb_src6_0 = 0, lb_src6_1 = 0, lb_src6_2 = 0, lb_src6_3 = 0;
/* Seconds a UDP flow keeps its backend after its last packet; read at
 * run time (a new timeout is a map write). */
NFC_CFG_VAR(lb_udp_timeout);
/* DSR: the path MTU toward the backends; 0: not checked. */
NFC_CFG_VAR(lb_mtu);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SVC);
	__type(key, struct lb_vip);
	__type(value, struct lb_svc);
} lb_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_SVC);
	__type(key, __u32);
	__type(value, struct lb_svc_rec);
} lb_svcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_VIDX_SLOTS);
	__type(key, __u32);
	__type(value, struct lb_vslot);
} lb_vidx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BE);
	__type(key, __u32);
	__type(value, struct lb_be);
} lb_bes SEC(".maps");

/* The inner maps' template: the control plane makes each table at its
 * service's size (BPF_F_INNER_MAP lets the sizes differ). */
struct lb_ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_INNER_MAP);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_MAX_SVC);
	__type(key, __u32);
	__array(values, struct lb_ring);
} lb_rings SEC(".maps");

/* Not per-CPU: a flow's packets may come on any CPU (NF-NOTES). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_MAX_CONNS);
	__type(key, struct lb_flow);
	__type(value, struct lb_conn);
} lb_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_SVC);
	__type(key, __u32);
	__type(value, struct lb_stat);
} lb_svc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_BE);
	__type(key, __u32);
	__type(value, struct lb_stat);
} lb_be_stats SEC(".maps");

/* Murmur3's 32-bit mixing: the flow's hash, which picks its slot. */
static __always_inline __u32 mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = (k << 15) | (k >> 17);
	k *= 0x1b873593;
	h ^= k;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 flow_hash(const struct lb_flow *f)
{
	__u32 h = 0x6c62;

	for (int i = 0; i < 4; i++)
		h = mix(h, f->saddr[i]);
	for (int i = 0; i < 4; i++)
		h = mix(h, f->daddr[i]);
	h = mix(h, f->sport | (__u32)f->dport << 16);
	h = mix(h, f->proto);
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ (h >> 16);
}

static __always_inline void count(void *map, __u32 id, __u32 len, int conn)
{
	struct lb_stat *s = bpf_map_lookup_elem(map, &id);

	if (s) {
		s->packets++;
		s->bytes += len;
		s->conns += conn;
	}
}

/* count() taken back: a packet answered with a frag-needed reaches no
 * backend. It was counted on the one picked, a connection of it too
 * (found by a helper). */
static __always_inline void uncount(void *map, __u32 id, __u32 len, int conn)
{
	struct lb_stat *s = bpf_map_lookup_elem(map, &id);

	if (s) {
		s->packets--;
		s->bytes -= len;
		s->conns -= conn;
	}
}

/* The backend of the flow: its connection's while that backend is still
 * the one it was given (same slot generation, not removed) and, for UDP,
 * the flow not idle for lb_udp_timeout; else a new pick from the table,
 * which holds only backends that are up. A TCP SYN starts a new
 * connection: it is picked anew even if its 5-tuple (a reused source
 * port) is remembered, as Katran does, or a drained backend would get new
 * connections from old ports. NULL: no backend up. */
static __always_inline struct lb_be *pick(const struct lb_flow *f,
					  const struct lb_svc *svc, int syn,
					  __u64 now, __u32 *id, int *isnew)
{
	struct lb_conn *c = syn ? NULL : bpf_map_lookup_elem(&lb_conns, f);
	struct lb_be *be;
	struct lb_conn nc;
	__u32 sid = svc->id, slot, *idp;
	void *ring;

	if (c) {
		__u32 cid = c->be;

		be = bpf_map_lookup_elem(&lb_bes, &cid);
		if (be && be->gen == c->gen && be->state != LB_BE_FREE &&
		    be->svc == sid &&
		    (f->proto == IPPROTO_TCP ||
		     now - c->seen < (__u64)lb_udp_timeout * 1000000000ULL)) {
			/* A write per second at most: every packet writing a
			 * shared line would cost more than the lookup. */
			if (now - c->seen > 1000000000ULL)
				c->seen = now;
			*id = cid;
			*isnew = 0;
			return be;
		}
	}
	ring = bpf_map_lookup_elem(&lb_rings, &sid);
	if (!ring || !svc->table)
		return NULL;
	slot = flow_hash(f) % svc->table;
	idp = bpf_map_lookup_elem(ring, &slot);
	if (!idp)
		return NULL;
	slot = *idp;
	be = bpf_map_lookup_elem(&lb_bes, &slot);
	if (!be || be->state != LB_BE_UP || be->svc != sid)
		return NULL;
	nc.be = slot;
	nc.gen = be->gen;
	nc.seen = now;
	bpf_map_update_elem(&lb_conns, f, &nc, BPF_ANY);
	*id = slot;
	*isnew = 1;
	return be;
}

static __always_inline __u16 csum_ip(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 s = 0;

	for (int i = 0; i < 10; i++)
		s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/* Puts an outer IPv4 header (from `o`, checksum filled in) between the
 * Ethernet header and the packet's own. 0 or -1. */
static __always_inline int encap4(nfc_ctx_t *ctx, struct iphdr *o)
{
	struct ethhdr *eth;
	struct iphdr *ip;

	o->check = 0;
	o->check = csum_ip(o);
#ifdef NFC_HOOK_XDP
	{
		struct ethhdr *old;

		if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
			return -1;
		eth = nfc_data(ctx);
		old = (void *)eth + sizeof(struct iphdr);
		if ((void *)(old + 1) > nfc_data_end(ctx))
			return -1;
		__builtin_memcpy(eth, old, sizeof(*eth));
	}
#else
	if (bpf_skb_adjust_room(ctx, sizeof(struct iphdr), BPF_ADJ_ROOM_MAC,
				BPF_F_ADJ_ROOM_ENCAP_L3_IPV4))
		return -1;
	if (nfc_pull(ctx, NFC_ETH_HLEN + sizeof(struct iphdr)))
		return -1;
	eth = nfc_data(ctx);
#endif
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > nfc_data_end(ctx))
		return -1;
	*ip = *o;
	return 0;
}

/* One's-complement update of a checksum for a 32-bit (or 16-bit, `to`
 * and `from` below 1 << 16) field changed from `from` to `to`, both in
 * network order (RFC 1624). */
static __always_inline __attribute__((unused)) void
csum_upd(__u16 *sum, __u32 from, __u32 to)
{
	__u32 s = (__u16) ~*sum;

	s += (~from & 0xffff) + (~from >> 16 & 0xffff) + (to & 0xffff) +
	     (to >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = ~s;
}

/* 1 or 4 words, one by one: a loop would become a memcpy of a variable
 * size, which BPF has not, and the packet's words may be unaligned. */
static __always_inline void copy_addr(__u32 *to, const __u32 *from, int words)
{
	to[0] = from[0];
	if (words == 4) {
		to[1] = from[1];
		to[2] = from[2];
		to[3] = from[3];
	}
}

/*
 * forward=nat: the destination (dst) or source address and port of the
 * packet rewritten, with the TCP/UDP checksum (and IPv4's header one). In
 * TC through the helpers, which also handle a checksum left to offload
 * (CHECKSUM_PARTIAL, where the field holds only the pseudo-header's sum);
 * in XDP in place (the runtime turns TX checksum offload off at a
 * native-XDP peer). A UDP checksum of 0 (none, IPv4 only) stays 0.
 * `addr` points at the packet's address field (4 or 16 bytes, `words`
 * 32-bit words), `l3` at its IP header, `csum_ip` its IPv4 checksum or
 * NULL. 0 or -1.
 */
static __always_inline int nat_rewrite(nfc_ctx_t *ctx, void *l3, __u32 *addr,
				       __u16 *csum_ip, __u16 *ports, int words,
				       int udp, int dst, const __u32 *naddr,
				       __u16 nport)
{
	__u16 oport = ports[dst ? 1 : 0];
#ifdef NFC_HOOK_XDP
	__u16 *l4sum = udp ? &ports[3] : &ports[8];

	(void)l3;
	if ((void *)(l4sum + 1) > nfc_data_end(ctx))
		return -1;
	if (!udp || *l4sum || words == 4) {
		for (int i = 0; i < words; i++)
			csum_upd(l4sum, addr[i], naddr[i]);
		csum_upd(l4sum, oport, nport);
		if (udp && !*l4sum)
			*l4sum = 0xffff;
	}
	if (csum_ip)
		csum_upd(csum_ip, addr[0], naddr[0]);
	copy_addr(addr, naddr, words);
	ports[dst ? 1 : 0] = nport;
	return 0;
#else
	/* Offsets taken now: the helpers below invalidate packet pointers. */
	__u32 aoff = (void *)addr - nfc_data(ctx),
	      l4 = (void *)ports - nfc_data(ctx),
	      l3off = (void *)l3 - nfc_data(ctx);
	__u32 coff = l4 + (udp ? 6 : 16),
	      fl = udp && words == 1 ? BPF_F_MARK_MANGLED_0 : 0;
	__u32 old[4] = {}, nw[4] = {};
	__s64 diff;

	/* To the end of the checksum the helpers rewrite: a UDP header is 8
	 * bytes and its payload may be 1 (ports + 9, TCP's, dropped every
	 * UDP datagram under 10 bytes, DNS-sized ones among them). */
	if ((void *)(ports + (udp ? 4 : 9)) > nfc_data_end(ctx))
		return -1;
	copy_addr(old, addr, words);
	copy_addr(nw, naddr, words);
	/* The address's share of the pseudo-header as one difference: one
	 * helper call for 16 bytes as for 4. */
	diff = bpf_csum_diff(old, words * 4, nw, words * 4, 0);
	if (diff < 0 ||
	    bpf_l4_csum_replace(ctx, coff, 0, diff, BPF_F_PSEUDO_HDR | fl) ||
	    bpf_l4_csum_replace(ctx, coff, oport, nport, fl | sizeof(nport)))
		return -1;
	if (csum_ip &&
	    bpf_l3_csum_replace(ctx, l3off + 10, old[0], nw[0], sizeof(nw[0])))
		return -1;
	if (bpf_skb_store_bytes(ctx, aoff, nw, words * 4, 0) ||
	    bpf_skb_store_bytes(ctx, l4 + (dst ? 2 : 0), &nport, sizeof(nport),
				0))
		return -1;
	return 0;
#endif
}

/* Puts an outer IPv6 header (from `o`) between the Ethernet header and
 * the packet's own IPv6 one: ip6ip6 (RFC 2473). 0 or -1. */
static __always_inline int encap6(nfc_ctx_t *ctx, const struct ipv6hdr *o)
{
	struct ethhdr *eth;
	struct ipv6hdr *ip6;

#ifdef NFC_HOOK_XDP
	{
		struct ethhdr *old;

		if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct ipv6hdr)))
			return -1;
		eth = nfc_data(ctx);
		old = (void *)eth + sizeof(struct ipv6hdr);
		if ((void *)(old + 1) > nfc_data_end(ctx))
			return -1;
		__builtin_memcpy(eth, old, sizeof(*eth));
	}
#else
	if (bpf_skb_adjust_room(ctx, sizeof(struct ipv6hdr), BPF_ADJ_ROOM_MAC,
				BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
		return -1;
	if (nfc_pull(ctx, NFC_ETH_HLEN + sizeof(struct ipv6hdr)))
		return -1;
	eth = nfc_data(ctx);
#endif
	ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > nfc_data_end(ctx))
		return -1;
	*ip6 = *o;
	return 0;
}

/* nfc_pkt_len, through the helpers that hide ctx from the compiler: the
 * framework reads the length too, and clang would merge the two reads of
 * ctx into one at a computed offset, which the verifier refuses. */
static __always_inline __u32 frame_len(nfc_ctx_t *ctx)
{
#ifdef NFC_HOOK_XDP
	return nfc_data_end(ctx) - nfc_data(ctx);
#else
	return nfc_pkt_len(ctx);
#endif
}

/* A packet as the lb reads it, either family. */
struct lb_pkt {
	void *l3;
	__u32 *saddr, *daddr; /* in the packet */
	__u16 *csum_ip;	      /* IPv4's header checksum; NULL in IPv6 */
	__u16 *ports;
	int words; /* of an address: 1 or 4 */
	int syn;
	__u8 tcp_flags;
};

/* Reads an IPv4 or IPv6 TCP/UDP packet into `f` and `p`; LB_P_ICMP: an
 * ICMP or ICMPv6 packet (maybe an error about a NAT-ed connection: one
 * parse tells it); -1: not one the lb handles (another protocol, a
 * fragment but the first, an IPv6 extension header), passed on untouched. */
#define LB_P_ICMP 1
static __always_inline int parse(nfc_ctx_t *ctx, struct lb_flow *f,
				 struct lb_pkt *p)
{
	struct ethhdr *eth = nfc_data(ctx);
	void *end = nfc_data_end(ctx);

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(NFC_ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 ihl;

		if ((void *)(ip + 1) > end || ip->version != 4)
			return -1;
		if (ip->protocol == NFC_IPPROTO_ICMP)
			return LB_P_ICMP;
		if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
			return -1;
		ihl = ip->ihl * 4;
		/* Fragments carry no ports (but the first): they go on as
		 * they came. */
		if (ihl < sizeof(*ip) || ihl > 60 ||
		    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			return -1;
		p->l3 = ip;
		p->saddr = &ip->saddr;
		p->daddr = &ip->daddr;
		p->csum_ip = &ip->check;
		p->ports = (void *)ip + ihl;
		p->words = 1;
		f->saddr[0] = ip->saddr;
		f->daddr[0] = ip->daddr;
		f->proto = ip->protocol;
		f->family = LB_AF_INET;
	} else if (eth->h_proto == bpf_htons(NFC_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		/* TCP or UDP right after the fixed header; with an
		 * extension header (a fragment, routing...) the ports are
		 * not where they are looked for: passed on. */
		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return -1;
		if (ip6->nexthdr == NFC_IPPROTO_ICMPV6)
			return LB_P_ICMP;
		if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
			return -1;
		p->l3 = ip6;
		p->saddr = ip6->saddr.in6_u.u6_addr32;
		p->daddr = ip6->daddr.in6_u.u6_addr32;
		p->csum_ip = NULL;
		p->ports = (void *)(ip6 + 1);
		p->words = 4;
		/* Word by word: the packet's addresses may be unaligned for
		 * a memcpy the compiler would emit. */
		f->saddr[0] = p->saddr[0];
		f->saddr[1] = p->saddr[1];
		f->saddr[2] = p->saddr[2];
		f->saddr[3] = p->saddr[3];
		f->daddr[0] = p->daddr[0];
		f->daddr[1] = p->daddr[1];
		f->daddr[2] = p->daddr[2];
		f->daddr[3] = p->daddr[3];
		f->proto = ip6->nexthdr;
		f->family = LB_AF_INET6;
	} else {
		return -1;
	}
	if ((void *)(p->ports + 2) > end)
		return -1;
	p->syn = 0;
	p->tcp_flags = 0;
	if (f->proto == IPPROTO_TCP) {
		__u8 *fl = (__u8 *)p->ports + 13;

		if ((void *)(fl + 1) > end)
			return -1;
		p->tcp_flags = *fl;
		p->syn = (*fl & (LB_TCP_SYN | LB_TCP_ACK)) == LB_TCP_SYN;
	}
	f->sport = p->ports[0];
	f->dport = p->ports[1];
	return 0;
}

/* The outer source: the client's, or src (src6) with its low src_bits
 * from the flow's hash. */
static __always_inline __u32 outer_src(__u32 base, __u32 client, __u32 h)
{
	__u32 bits = lb_src_bits & 31; /* validated 0..16 */
	__u32 m = bits ? (1U << bits) - 1 : 0;

	if (!base)
		return client;
	return bpf_htonl((bpf_ntohl(base) & ~m) | (h & m));
}

/*
 * The IP length of the largest packet this one stands for on the wire
 * (`l3len`: its own). In TC a GSO skb (a local sender's TSO, a veth's
 * GRO) is cut into segments of gso_size bytes of payload later, each with
 * these headers (the encapsulation keeps it GSO): its own length, up to
 * 64 KB, drew a fragmentation-needed for every segment, the sender's
 * MTU already lowered, and an upload stalled (found by a helper).
 */
static __always_inline __u32 wire_len(nfc_ctx_t *ctx, const struct lb_pkt *p,
				      __u8 proto, __u32 l3len)
{
#ifndef NFC_HOOK_XDP
	__u32 gso = ctx->gso_size, h;
	__u8 *l4 = (__u8 *)p->ports;

	if (!gso)
		return l3len;
	h = (__u32)(l4 - (__u8 *)p->l3);
	if (proto == IPPROTO_TCP) {
		if ((void *)(l4 + 13) > nfc_data_end(ctx))
			return l3len;
		h += (l4[12] >> 4) * 4;
	} else {
		h += 8;
	}
	return h + gso < l3len ? h + gso : l3len;
#else
	(void)ctx;
	(void)p;
	(void)proto;
	return l3len;
#endif
}

/*
 * An IPv4 packet with DF that the outer header would take beyond the mtu
 * becomes, in place, the ICMP fragmentation-needed (3/4, RFC 1191) its
 * sender gets: from the VIP (the address it sent to, as Katran does), its
 * MACs swapped, next-hop MTU mtu - 20, quoting its IP header and 8
 * bytes. Sent back out of the port it came in by. A packet with IP
 * options is dropped instead (the quote would not be at a fixed place).
 */
#define LB_ICMP_LEN (NFC_ETH_HLEN + 20 + 8 + 28)
/* What TC may add to a quote: the rest of a TCP header (its checksum). */
#define LB_QUOTE_MORE 12
/*
 * The packet made `head` bytes longer in front (room for the new IP and
 * ICMP headers) and cut to `len`, for frag_needed and pkt_too_big. In TC
 * a segment whose checksum is left to offload (CHECKSUM_PARTIAL: a local
 * TCP sender's, on a veth) cannot be cut before its checksum field: the
 * kernel refuses, and the sender never learnt the MTU (found by a
 * helper). Its quote then takes LB_QUOTE_MORE bytes more, the whole TCP
 * header (RFC 792 asks for at least 8 bytes); the field stays the
 * sender's to fill, which the receiving end of a veth or tap trusts.
 * Returns the bytes added to the quote (0 or LB_QUOTE_MORE), or -1.
 */
static __always_inline int icmp_room(nfc_ctx_t *ctx, int head, int len)
{
#ifdef NFC_HOOK_XDP
	if (bpf_xdp_adjust_head(ctx, -head) ||
	    bpf_xdp_adjust_tail(ctx,
				len - (int)(nfc_data_end(ctx) - nfc_data(ctx))))
		return -1;
	return 0;
#else
	int more = 0;

	if (bpf_skb_adjust_room(ctx, head, BPF_ADJ_ROOM_MAC, 0))
		return -1;
	if (bpf_skb_change_tail(ctx, len, 0)) {
		if (bpf_skb_change_tail(ctx, len + LB_QUOTE_MORE, 0))
			return -1;
		more = LB_QUOTE_MORE;
	}
	return nfc_pull(ctx, len + more) ? -1 : more;
#endif
}
static __always_inline int frag_needed(nfc_ctx_t *ctx, struct nfc_meta *md,
				       __u32 mtu)
{
	struct ethhdr *eth, e;
	struct iphdr *ip, *q;
	__u8 *icmp;
	__u32 s = 0;
	__u16 *w;
	int more = 0;

	eth = nfc_data(ctx);
	q = (void *)(eth + 1);
	if ((void *)(q + 1) > nfc_data_end(ctx) || q->ihl != 5)
		return nfc_drop(ctx, md, LB_R_ENCAP);
	e = *eth;
	more = icmp_room(ctx, 28, LB_ICMP_LEN);
	if (more < 0)
		return nfc_drop(ctx, md, LB_R_ENCAP);
	eth = nfc_data(ctx);
	ip = (void *)(eth + 1);
	icmp = (void *)(ip + 1);
	q = (void *)(icmp + 8);
	if ((void *)q + 28 + LB_QUOTE_MORE > nfc_data_end(ctx) && more)
		return nfc_drop(ctx, md, LB_R_ENCAP);
	if ((void *)q + 28 > nfc_data_end(ctx))
		return nfc_drop(ctx, md, LB_R_ENCAP);
	__builtin_memcpy(eth->h_dest, e.h_source, 6);
	__builtin_memcpy(eth->h_source, e.h_dest, 6);
	eth->h_proto = bpf_htons(NFC_ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(20 + 8 + 28 + more);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = q->daddr;
	ip->daddr = q->saddr;
	ip->check = 0;
	ip->check = csum_ip(ip);
	icmp[0] = 3;
	icmp[1] = 4;
	icmp[2] = icmp[3] = icmp[4] = icmp[5] = 0;
	*(__u16 *)(icmp + 6) = bpf_htons(mtu - 20);
	w = (__u16 *)icmp;
	for (int i = 0; i < 18; i++)
		s += w[i];
	if (more)
		for (int i = 18; i < 18 + LB_QUOTE_MORE / 2; i++)
			s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*(__u16 *)(icmp + 2) = ~s;
	return nfc_output(ctx, md, md->in_port);
}

/*
 * The IPv6 twin of frag_needed (IPv6 routers never fragment, so every
 * packet the outer header would take beyond the mtu): in place, the ICMPv6
 * packet-too-big (type 2, RFC 4443 3.2) its sender gets, from the VIP,
 * MTU mtu - 40, quoting its IPv6 header and 8 bytes (where the kernel
 * finds the socket), checksum over the pseudo-header. Sent back out of
 * the port it came in by.
 */
#define LB_ICMP6_LEN (NFC_ETH_HLEN + 40 + 8 + 48)
static __always_inline int pkt_too_big(nfc_ctx_t *ctx, struct nfc_meta *md,
				       __u32 mtu)
{
	struct ethhdr *eth, e;
	struct ipv6hdr *ip6, *q;
	__u8 *icmp;
	__u32 s = 0;
	__u16 *w;
	int more = 0;

	eth = nfc_data(ctx);
	if ((void *)(eth + 1) + 48 > nfc_data_end(ctx))
		return nfc_drop(ctx, md, LB_R_ENCAP);
	e = *eth;
	more = icmp_room(ctx, 48, LB_ICMP6_LEN);
	if (more < 0)
		return nfc_drop(ctx, md, LB_R_ENCAP);
	eth = nfc_data(ctx);
	ip6 = (void *)(eth + 1);
	icmp = (void *)(ip6 + 1);
	q = (void *)(icmp + 8);
	if ((void *)q + 48 + LB_QUOTE_MORE > nfc_data_end(ctx) && more)
		return nfc_drop(ctx, md, LB_R_ENCAP);
	if ((void *)q + 48 > nfc_data_end(ctx))
		return nfc_drop(ctx, md, LB_R_ENCAP);
	__builtin_memcpy(eth->h_dest, e.h_source, 6);
	__builtin_memcpy(eth->h_source, e.h_dest, 6);
	eth->h_proto = bpf_htons(NFC_ETH_P_IPV6);
	*(__u32 *)ip6 = bpf_htonl(6U << 28);
	ip6->payload_len = bpf_htons(8 + 48 + more);
	ip6->nexthdr = NFC_IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	copy_addr(ip6->saddr.in6_u.u6_addr32, q->daddr.in6_u.u6_addr32, 4);
	copy_addr(ip6->daddr.in6_u.u6_addr32, q->saddr.in6_u.u6_addr32, 4);
	icmp[0] = 2;
	icmp[1] = 0;
	icmp[2] = icmp[3] = 0;
	*(__u32 *)(icmp + 4) = bpf_htonl(mtu - 40);
	/* Pseudo-header: the addresses, the length (56) and next header. */
	s = bpf_htons(8 + 48 + more) + bpf_htons(NFC_IPPROTO_ICMPV6);
	w = (__u16 *)&ip6->saddr;
	for (int i = 0; i < 16; i++)
		s += w[i];
	w = (__u16 *)icmp;
	for (int i = 0; i < 28; i++)
		s += w[i];
	if (more)
		for (int i = 28; i < 28 + LB_QUOTE_MORE / 2; i++)
			s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*(__u16 *)(icmp + 2) = ~s;
	return nfc_output(ctx, md, md->in_port);
}

static __always_inline int dsr4(nfc_ctx_t *ctx, const struct lb_pkt *p,
				const struct lb_flow *f, const struct lb_be *be)
{
	struct iphdr *ip = p->l3, o = {};
	__u32 src;

	/* Checked again: the verifier lost parse()'s bound where the
	 * families' paths met. */
	if ((void *)(ip + 1) > nfc_data_end(ctx))
		return -1;
	o.version = 4;
	o.ihl = 5;
	o.tos = ip->tos;
	o.tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + sizeof(struct iphdr));
	o.frag_off = ip->frag_off & bpf_htons(IP_DF);
	o.ttl = 64;
	o.protocol = LB_PROTO_IPIP;
	src = lb_src; /* once: one packet, one value */
	o.saddr = src ? outer_src(src, 0, flow_hash(f)) : ip->saddr;
	o.daddr = be->addr[0];
	return encap4(ctx, &o);
}

/* ip6ip6: traffic class copied, the flow label from the flow's hash (a
 * backend's receive hashing may use it, RFC 6438), hop limit 64. */
static __always_inline int dsr6(nfc_ctx_t *ctx, const struct lb_pkt *p,
				const struct lb_flow *f, const struct lb_be *be)
{
	struct ipv6hdr *ip6 = p->l3, o = {};
	__u32 h = flow_hash(f), w0;

	if ((void *)(ip6 + 1) > nfc_data_end(ctx))
		return -1;
	w0 = *(__u32 *)ip6;

	/* version 6, the inner traffic class, a 20-bit label */
	*(__u32 *)&o = bpf_htonl((bpf_ntohl(w0) & 0xfff00000) | (h & 0xfffff));
	o.payload_len =
		bpf_htons(bpf_ntohs(ip6->payload_len) + sizeof(struct ipv6hdr));
	o.nexthdr = LB_PROTO_IPV6;
	o.hop_limit = 64;
	if (lb_src6_0 | lb_src6_1 | lb_src6_2 | lb_src6_3) {
		o.saddr.in6_u.u6_addr32[0] = lb_src6_0;
		o.saddr.in6_u.u6_addr32[1] = lb_src6_1;
		o.saddr.in6_u.u6_addr32[2] = lb_src6_2;
		o.saddr.in6_u.u6_addr32[3] = outer_src(lb_src6_3, 0, h);
	} else {
		o.saddr = ip6->saddr;
	}
	__builtin_memcpy(&o.daddr, be->addr, 16);
	return encap6(ctx, &o);
}

/* The working set of the tracker's calls and of lb_icmp_err: off the
 * stack, which the main path nearly fills (512 bytes for every frame of
 * a call chain). */
struct lb_iscratch {
	struct nfc_flow fl;
	struct nfc_ierr t;
	struct nfc_tuple ct;
	struct nfct_key k;
	struct lb_flow f;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_iscratch);
} lb_iscratch SEC(".maps");

/* The tracker's view of a flow the lb parsed itself (nfc_flow_parse
 * would parse the packet a second time): IPv4 held IPv4-mapped, as
 * ct_common.h wants; no fragment, no ICMP (parse() lets neither by). */
static __always_inline void ct_flow(struct nfc_flow *fl,
				    const struct lb_flow *f, __u8 tcp_flags)
{
	__builtin_memset(fl, 0, sizeof(*fl));
	if (f->family == LB_AF_INET) {
		fl->t.src[2] = fl->t.dst[2] = bpf_htonl(NFCT_V4MAPPED_W2);
		fl->t.src[3] = f->saddr[0];
		fl->t.dst[3] = f->daddr[0];
		fl->t.family = NFC_FAMILY_V4;
	} else {
		__builtin_memcpy(fl->t.src, f->saddr, 16);
		__builtin_memcpy(fl->t.dst, f->daddr, 16);
		fl->t.family = NFC_FAMILY_V6;
	}
	fl->t.sport = f->sport;
	fl->t.dport = f->dport;
	fl->t.proto = f->proto;
	fl->tcp_flags = tcp_flags;
	fl->flags = NFC_FLOW_F_PORTS;
}

/*
 * The per-CPU flow cache: what the connection table (and, forward=nat,
 * the tracker) answered for a packet's tuple, so that the next packets of
 * the flow on this CPU cost one slot instead of lb_conns and ct_table
 * (two hash walks over shared, mostly cold memory, and the tracker's
 * state machine). Looked up after lb_vips, whose one entry per VIP stays
 * hot: a packet to no VIP pays nothing for it (looked up first, with the
 * service kept in the slot, a hit saved ~15-25 ns in lb_micro and a packet
 * to no VIP paid 30-40 ns more for the probe). A slot answers for
 * NFCT_FC_STEP_J jiffies after it was filled; then the flow takes the
 * tables again (lb_conns' `seen`, the tracker's state and clock are
 * refreshed there). Exact because only packets that change nothing hit
 * (TCP: a bare ACK, no SYN, FIN or RST; UDP: any), the backend is checked
 * as pick() checks it (slot generation, not free, same service), the
 * service's forward mode must be the one the slot was filled under, and
 * a tracker entry the control plane deletes (or the data plane replaces)
 * bumps ct_fc_gen. forward=nat: the packets and bytes of hits gather in
 * the slot and go into the tracker's entry at the next fill (or when
 * another flow takes the slot), as the NAT NF's cache does.
 *
 * Sets of four ways, as the tracker's cache (bpf/ct.h): direct-mapped,
 * 1,024 flows in 4,096 slots missed on a quarter of their packets (flows
 * sharing a slot evict each other on every packet, and a miss walks
 * lb_conns and the tracker): NAT's own cost in bench/lb-table went from
 * ~145 to ~100 ns with four ways, which miss on ~3 % (a set of more than
 * four flows, and each flow once a step). The sets lie in LB_FC_PARTS
 * per-CPU elements, as the tracker's do.
 */
#define LB_FC_WAYS 4
#define LB_FC_PARTS 16
#define LB_FC_SETS 64 /* a part: 64 sets of 4 x 64 bytes, 16 KB */

struct lb_fc_slot {
	struct lb_flow w; /* the packet's tuple, as lb_conns keys it */
	__u32 ts;	  /* jiffies when filled; w.family 0: empty */
	__u32 bytes;	  /* nat: gathered since (a step's worth at most) */
	__u32 packets;
	__u32 be;    /* backend id | forward mode << 16 */
	__u32 begen; /* the backend's generation when filled */
	__u32 ctgen; /* nat: ct_fc_gen when filled */
};
_Static_assert(sizeof(struct lb_fc_slot) == 64, "one cache line");

struct lb_fc_part {
	struct lb_fc_slot w[LB_FC_SETS][LB_FC_WAYS];
	__u8 next[LB_FC_SETS]; /* the way a set's next new flow takes */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_FC_PARTS);
	__type(key, __u32);
	__type(value, struct lb_fc_part);
} lb_fc SEC(".maps");

/* The tracker cache's set hash (ct_common.h): the words folded in
 * parallel and mixed once, not three mixes in series. */
static __always_inline __u32 lb_fc_hash(const struct lb_flow *f)
{
	return nfct_fc_set_hash(f->saddr, f->daddr, f->sport, f->dport,
				f->proto);
}

static __always_inline int lb_flow_eq(const struct lb_flow *a,
				      const struct lb_flow *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

static __always_inline __u32 lb_ct_gen(void)
{
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&ct_fc_gen, &zero);

	return g ? (__u32)*g : 0;
}

/* Whether a packet may be answered by lb_fc: nothing in it changes the
 * connection table or the tracker (TCP: a bare ACK). */
static __always_inline int lb_fc_eligible(const struct lb_flow *f,
					  const struct lb_pkt *p)
{
	if (f->proto == IPPROTO_TCP)
		return (p->tcp_flags & (LB_TCP_SYN | LB_TCP_ACK | 0x05)) ==
		       LB_TCP_ACK; /* 0x05: FIN, RST */
	return 1;
}

/* The way of set w that holds flow f, or NULL. A flow is in one way of
 * its set at most: a miss refills the way that holds it, if any. An empty
 * way (all zero) holds none: a flow's family is never 0. */
static __always_inline struct lb_fc_slot *lb_fc_way(struct lb_fc_slot *w,
						    const struct lb_flow *f)
{
	if (lb_flow_eq(&w[0].w, f))
		return &w[0];
	if (lb_flow_eq(&w[1].w, f))
		return &w[1];
	if (lb_flow_eq(&w[2].w, f))
		return &w[2];
	if (lb_flow_eq(&w[3].w, f))
		return &w[3];
	return NULL;
}

/* The slot's backend, if slot s (which holds flow f) still answers for
 * it as a flow of `svc` at jiffies j. */
static __always_inline struct lb_be *lb_fc_hit(struct lb_fc_slot *s,
					       const struct lb_flow *f,
					       const struct lb_svc *svc,
					       __u32 j)
{
	struct lb_be *be;
	__u32 id = s->be & 0xffff;

	if (j - s->ts >= NFCT_FC_STEP_J || s->be >> 16 != svc->forward)
		return NULL;
	be = bpf_map_lookup_elem(&lb_bes, &id);
	if (!be || be->gen != s->begen || be->state == LB_BE_FREE ||
	    be->svc != svc->id || be->family != f->family)
		return NULL;
	if (svc->forward == LB_FWD_NAT && s->ctgen != lb_ct_gen())
		return NULL;
	return be;
}

/* nf_data of an lb entry: the VIP in [0..3] (IPv4 in [0]), its port in
 * the low half of [4] with LB_CT_MARK above, so that an entry made by
 * the lb is told from a zeroed one. */
#define LB_CT_MARK (1U << 16)

/*
 * forward=nat, ingress: the rewritten connection (client -> backend:bport)
 * in the tracker, the VIP and port it came to in its nf_data. A flow the
 * lb's connection table already knows (not new) but the tracker does not
 * (a segment without SYN after the entry expired or was flushed, or the
 * lb reloaded) is picked up midway, as tcp_loose would: the lb decided it
 * belongs to a live connection. -1: the tracker is full (the new
 * connection is refused; the sweep makes room within a tick).
 */
static __always_inline int nat_track(const struct lb_flow *f,
				     const struct lb_pkt *p,
				     const struct lb_be *be, __u16 bport,
				     __u32 len, int isnew,
				     struct nfct_entry **ep, __u8 *dir)
{
	struct lb_iscratch *sc;
	struct nfct_res res, *ct = &res; /* on the stack: it holds a pointer */
	struct nfct_entry *e;
	__u32 mark = bpf_ntohs(f->dport) | LB_CT_MARK, zero = 0;

	sc = bpf_map_lookup_elem(&lb_iscratch, &zero);
	if (!sc)
		return -1;
	sc->f = *f;
	__builtin_memcpy(sc->f.daddr, be->addr, sizeof(sc->f.daddr));
	sc->f.dport = bport;
	ct_flow(&sc->fl, &sc->f, p->tcp_flags);
	nfct_lookup(&sc->fl, len, ct);
	if (ct->state == NFCT_INVALID && !ct->e && !isnew &&
	    nfct_tcp_flags_valid(p->tcp_flags))
		ct->state = NFCT_NEW;
	if (ct->state == NFCT_NEW && !ct->e && nfct_confirm(&sc->fl, len, ct))
		return -1;
	e = ct->e;
	if (e && e->nf_data[4] != mark) {
		__builtin_memcpy(e->nf_data, f->daddr, 16);
		e->nf_data[4] = mark;
	}
	*ep = e;
	*dir = ct->dir;
	return 0;
}

/* forward=nat: what a slot gathered goes into its flow's tracker entry
 * (client -> backend:port, the entry's original direction). `e`: that
 * entry if the caller has it. */
static __always_inline void lb_fc_flush(struct lb_fc_slot *s,
					struct nfct_entry *e)
{
	struct lb_iscratch *sc;
	struct lb_be *be;
	__u32 zero = 0, id = s->be & 0xffff;

	if (!s->w.family || s->be >> 16 != LB_FWD_NAT || !s->packets)
		return;
	if (!e) {
		be = bpf_map_lookup_elem(&lb_bes, &id);
		sc = bpf_map_lookup_elem(&lb_iscratch, &zero);
		/* A backend gone since: its connections went with it. */
		if (!be || !sc || be->gen != s->begen)
			return;
		sc->f = s->w;
		__builtin_memcpy(sc->f.daddr, be->addr, sizeof(sc->f.daddr));
		if (be->port)
			sc->f.dport = be->port;
		ct_flow(&sc->fl, &sc->f, 0);
		nfct_key_of(&sc->fl.t, &sc->k);
		e = bpf_map_lookup_elem(&ct_table, &sc->k);
		if (!e)
			return;
	}
	e->packets[NFCT_DIR_ORIG] += s->packets;
	e->bytes[NFCT_DIR_ORIG] += s->bytes;
}

/* After the tables answered packet f (at `now`, jiffies j): set `set`
 * of part `pt` remembers it, in the way that held the flow (s) or else
 * the set's next one. forward=nat: `e` is its tracker entry, which must
 * be in a state that the cached packets cannot change (TCP established),
 * and the packet in its original direction. */
static __always_inline struct lb_fc_slot *
lb_fc_take(struct lb_fc_part *pt, __u32 set, struct lb_fc_slot *s)
{
	__u32 way;

	if (s)
		return s;
	way = pt->next[set] & (LB_FC_WAYS - 1);
	pt->next[set] = way + 1;
	return &pt->w[set][way];
}

static __always_inline void
lb_fc_fill(struct lb_fc_part *pt, __u32 set, struct lb_fc_slot *s,
	   const struct lb_flow *f, __u32 fwd, __u32 id, const struct lb_be *be,
	   struct nfct_entry *e, __u8 dir, __u64 now, __u32 j)
{
	set &= LB_FC_SETS - 1;
	/* The checks and the uses of `e` in one branch: the verifier does
	 * not carry `fwd != NAT` from one test of it to the next. */
	if (fwd == LB_FWD_NAT) {
		if (!e || dir != NFCT_DIR_ORIG ||
		    (f->proto == IPPROTO_TCP && e->state != NFCT_S_ESTABLISHED))
			return;
		s = lb_fc_take(pt, set, s);
		lb_fc_flush(s, lb_flow_eq(&s->w, f) ? e : NULL);
		/* Synced: the entry's clock is this packet's, so that it
		 * never lags more than a step behind the flow's last hit. */
		e->last_ns = now;
		s->ctgen = lb_ct_gen();
	} else {
		s = lb_fc_take(pt, set, s);
		lb_fc_flush(s, NULL);
	}
	s->w = *f;
	s->ts = j;
	s->bytes = 0;
	s->packets = 0;
	s->be = id | fwd << 16;
	s->begen = be->gen;
}

/* forward=nat: a packet the cache does not take (a FIN, a RST) of a
 * flow it may hold: what the flow's slot gathered goes to its entry now,
 * and the slot is emptied. Left there, it was lost unless another flow
 * took the slot (an HTTP request's GET missing from its connection's
 * counts). */
static __always_inline void lb_fc_leave(const struct lb_flow *f,
					struct nfct_entry *e)
{
	__u32 h = lb_fc_hash(f), pi = (h / LB_FC_SETS) & (LB_FC_PARTS - 1);
	struct lb_fc_part *pt = bpf_map_lookup_elem(&lb_fc, &pi);
	struct lb_fc_slot *s;

	if (!pt)
		return;
	s = lb_fc_way(pt->w[h & (LB_FC_SETS - 1)], f);
	if (!s)
		return;
	lb_fc_flush(s, e);
	s->packets = 0;
	s->bytes = 0;
	s->w.family = 0;
}

/* forward=nat, egress: a reply of a tracked NAT-ed connection gets its
 * VIP back as source. The entry is checked first without nfct_lookup, so
 * that the egress traffic that is none of the lb's (most of it) is not
 * counted invalid by the tracker. */
static __always_inline int nat_reply(nfc_ctx_t *ctx, const struct lb_flow *f,
				     const struct lb_pkt *p, __u32 len)
{
	struct lb_iscratch *sc;
	struct nfct_res res, *ct = &res; /* on the stack: it holds a pointer */
	struct nfct_entry *e;
	__u32 vip[4], zero = 0;
	__u16 port;

	sc = bpf_map_lookup_elem(&lb_iscratch, &zero);
	if (!sc)
		return 0;
	ct_flow(&sc->fl, f, p->tcp_flags);
	nfct_key_of(&sc->fl.t, &sc->k);
	e = bpf_map_lookup_elem(&ct_table, &sc->k);
	if (!e || !(e->nf_data[4] & LB_CT_MARK))
		return 0;
	nfct_lookup(&sc->fl, len, ct);
	e = ct->e;
	if (!e || ct->dir != NFCT_DIR_REPLY || !(e->nf_data[4] & LB_CT_MARK))
		return 0;
	__builtin_memcpy(vip, e->nf_data, 16);
	port = bpf_htons(e->nf_data[4] & 0xffff);
	return nat_rewrite(ctx, p->l3, p->saddr, p->csum_ip, p->ports, p->words,
			   f->proto == IPPROTO_UDP, 0, vip, port);
}

/*
 * forward=nat: an ICMP or ICMPv6 error (unreachable, fragmentation
 * needed, packet too big, time exceeded...) about a NAT-ed connection,
 * rewritten by the NAT NF's code (bpf/icmp_err.h), so that its receiver
 * finds the socket it is about:
 *  - egress (toward the clients): an error from the backends' side about
 *    a request as the backend got it (quoted client -> backend:bport, the
 *    tracker entry's original direction): the quoted destination and the
 *    outer source become the VIP and its port;
 *  - ingress (from the clients): an error about a reply as the client
 *    got it (quoted VIP:port -> client): the quote's reverse is the flow
 *    lb_conns gave a backend; with that backend's tracker entry naming the
 *    quoted VIP, the quoted source and the outer destination become the
 *    backend's (it then goes where the connection's requests go).
 * 1: rewritten, 0: none of the lb's NAT-ed connections (passed on as it
 * came), -1: not writable.
 */
static __always_inline int lb_icmp_err(nfc_ctx_t *ctx, int egress)
{
	struct lb_iscratch *sc;
	struct nfc_flow *fl;
	struct nfc_ierr *t;
	struct nfc_tuple *ct;
	struct nfct_entry *e;
	__u32 zero = 0;
	int v6, swapped;

	sc = bpf_map_lookup_elem(&lb_iscratch, &zero);
	if (!sc || nfc_pull(ctx, NFC_FLOW_PULL))
		return 0;
	fl = &sc->fl;
	t = &sc->t;
	ct = &sc->ct;
	if (nfc_flow_parse(nfc_data(ctx), nfc_data_end(ctx), fl) !=
		    NFC_FLOW_OK ||
	    !(fl->flags & NFC_FLOW_F_INNER) ||
	    (fl->inner.proto != NFC_IPPROTO_TCP &&
	     fl->inner.proto != NFC_IPPROTO_UDP) ||
	    fl->inner.family != fl->t.family)
		return 0;
	v6 = fl->t.family == NFC_FAMILY_V6;
	__builtin_memset(t, 0, sizeof(*t));
	if (egress) {
		*ct = fl->inner;
	} else {
		struct lb_flow *f = &sc->f;
		struct lb_conn *c;
		struct lb_be *be;
		__u32 cid;

		__builtin_memset(f, 0, sizeof(*f));
		if (v6) {
			__builtin_memcpy(f->saddr, fl->inner.dst, 16);
			__builtin_memcpy(f->daddr, fl->inner.src, 16);
			f->family = LB_AF_INET6;
		} else {
			f->saddr[0] = fl->inner.dst[3];
			f->daddr[0] = fl->inner.src[3];
			f->family = LB_AF_INET;
		}
		f->sport = fl->inner.dport;
		f->dport = fl->inner.sport;
		f->proto = fl->inner.proto;
		c = bpf_map_lookup_elem(&lb_conns, f);
		if (!c)
			return 0;
		cid = c->be;
		be = bpf_map_lookup_elem(&lb_bes, &cid);
		if (!be || be->gen != c->gen || be->state == LB_BE_FREE)
			return 0;
		__builtin_memset(ct, 0, sizeof(*ct));
		__builtin_memcpy(ct->src, fl->inner.dst, 16);
		if (v6)
			__builtin_memcpy(ct->dst, be->addr, 16);
		else
			nfc_flow_v4addr(ct->dst, be->addr[0]);
		ct->sport = fl->inner.dport;
		ct->dport = be->port ? be->port : fl->inner.sport;
		ct->proto = fl->inner.proto;
		ct->family = fl->inner.family;
	}
	/* The tuple must be the entry's original direction, client ->
	 * backend, of an entry the lb made. */
	swapped = nfct_key_of(ct, &sc->k);
	e = bpf_map_lookup_elem(&ct_table, &sc->k);
	if (!e || !(e->nf_data[4] & LB_CT_MARK) ||
	    swapped != !!(e->flags & NFCT_F_ORIG_IS_B))
		return 0;
	if (egress) {
		t->qdst = 1;
		if (v6)
			__builtin_memcpy(t->addr, e->nf_data, 16);
		else
			t->addr[0] = e->nf_data[0];
		t->port = bpf_htons(e->nf_data[4] & 0xffff);
	} else {
		/* The quoted VIP and port are the ones the entry keeps. */
		if (bpf_htons(e->nf_data[4] & 0xffff) != fl->inner.sport)
			return 0;
		if (v6 ? e->nf_data[0] != fl->inner.src[0] ||
				    e->nf_data[1] != fl->inner.src[1] ||
				    e->nf_data[2] != fl->inner.src[2] ||
				    e->nf_data[3] != fl->inner.src[3]
		       : e->nf_data[0] != fl->inner.src[3])
			return 0;
		if (v6)
			__builtin_memcpy(t->addr, ct->dst, 16);
		else
			t->addr[0] = ct->dst[3];
		t->port = ct->dport;
	}
	return nfc_icmp_err_xlat(ctx, fl, t);
}

/* The service of VIP v, or NULL: its lb_vidx slot, else lb_vips. The
 * slot's family is read once: the control plane moves a slot from one
 * content to another only through family 0 (lb_vidx.c), so a packet
 * that reads a VIP there reads that VIP's whole entry. */
static __always_inline struct lb_svc *lb_vip_find(const struct lb_vip *v)
{
	__u32 k = lb_vidx_slot(v), tail;
	struct lb_vslot *vs = bpf_map_lookup_elem(&lb_vidx, &k);
	const __u64 *a, *b = (const __u64 *)v;
	__u8 fam;

	if (!vs) /* k < LB_VIDX_SLOTS: never */
		return NULL;
	/* port, proto and family: one word, the family its high byte */
	tail = *(volatile __u32 *)&vs->vip.port;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	fam = tail >> 24;
#else
	fam = tail;
#endif
	if (fam == LB_VS_NONE)
		return NULL;
	if (!fam)
		return bpf_map_lookup_elem(&lb_vips, v);
	a = (const __u64 *)&vs->vip;
	if (a[0] != b[0] || a[1] != b[1] || tail != *(const __u32 *)&v->port)
		return NULL;
	return &vs->svc;
}

static __always_inline int lb(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	struct lb_flow f = {};
	struct lb_pkt p;
	struct lb_svc *svc;
	struct lb_be *be;
	struct lb_fc_slot *fc = NULL;
	struct lb_fc_part *pt = NULL;
	struct nfct_entry *e = NULL;
	/* 8-aligned: lb_vip_find reads it as words */
	struct lb_vip v __attribute__((aligned(8))) = {};
	/* The coarse clock (a tick's resolution, ample for timeouts): the
	 * precise one reads the hypervisor's clock source on a VM. Read on
	 * a cache miss only: it is a helper call, where j (jiffies, for the
	 * cache) is one inlined load. */
	__u64 now;
	__u32 id, fwd, mtu, len = frame_len(ctx), j, set = 0;
	__u16 bport;
	__u8 dir = 0;
	int isnew = 0, r;

	if (nfc_pull(ctx, LB_PULL))
		return nfc_pass_on(ctx, md);
	r = parse(ctx, &f, &p);
	if (r) {
		if (r == LB_P_ICMP &&
		    lb_icmp_err(ctx, md->direction != NFC_DIR_INGRESS) < 0)
			return nfc_drop(ctx, md, LB_R_ENCAP);
		return nfc_pass_on(ctx, md);
	}
	if (md->direction != NFC_DIR_INGRESS) {
		/* A reply of a NAT-ed connection: from the VIP again. */
		if (nat_reply(ctx, &f, &p, len))
			return nfc_drop(ctx, md, LB_R_ENCAP);
		return nfc_pass_on(ctx, md);
	}
	v.port = f.dport;
	v.proto = f.proto;
	v.family = f.family;
	__builtin_memcpy(v.addr, f.daddr, sizeof(v.addr));
	svc = lb_vip_find(&v);
	if (!svc)
		return nfc_pass_on(ctx, md);
	j = bpf_jiffies64();
	if (lb_fc_eligible(&f, &p)) {
		__u32 h = lb_fc_hash(&f),
		      pi = (h / LB_FC_SETS) & (LB_FC_PARTS - 1);

		set = h & (LB_FC_SETS - 1);
		pt = bpf_map_lookup_elem(&lb_fc, &pi);
		if (pt)
			fc = lb_fc_way(pt->w[set], &f);
	}
	be = fc ? lb_fc_hit(fc, &f, svc, j) : NULL;
	fwd = svc->forward;
	count(&lb_svc_stats, svc->id, len, 0);
	if (be) {
		id = fc->be & 0xffff;
		count(&lb_be_stats, id, len, 0);
		if (fwd == LB_FWD_NAT) {
			fc->packets += 1;
			fc->bytes += len;
		}
	} else {
		now = bpf_ktime_get_coarse_ns();
		be = pick(&f, svc, p.syn, now, &id, &isnew);
		if (!be || be->family != f.family)
			return nfc_drop(ctx, md, LB_R_NO_BACKEND);
		count(&lb_be_stats, id, len, isnew);
		if (fwd == LB_FWD_NAT &&
		    nat_track(&f, &p, be, be->port ? be->port : f.dport, len,
			      isnew, &e, &dir))
			return nfc_drop(ctx, md, LB_R_CT_FULL);
		if (pt)
			lb_fc_fill(pt, set, fc, &f, fwd, id, be, e, dir, now,
				   j);
		else if (fwd == LB_FWD_NAT && e)
			lb_fc_leave(&f, e);
	}
	bport = be->port ? be->port : f.dport;
	if (fwd == LB_FWD_NAT) {
		if (nat_rewrite(ctx, p.l3, p.daddr, p.csum_ip, p.ports, p.words,
				f.proto == IPPROTO_UDP, 1, be->addr, bport))
			return nfc_drop(ctx, md, LB_R_ENCAP);
		return nfc_pass_on(ctx, md);
	}
	/* Read once: the check and the MTU the ICMP error names agree. */
	mtu = lb_mtu;
	if (mtu && f.family == LB_AF_INET) {
		struct iphdr *ip = p.l3;

		if ((void *)(ip + 1) > nfc_data_end(ctx))
			return nfc_drop(ctx, md, LB_R_ENCAP);
		if ((ip->frag_off & bpf_htons(IP_DF)) &&
		    wire_len(ctx, &p, f.proto, bpf_ntohs(ip->tot_len)) +
				    sizeof(struct iphdr) >
			    mtu) {
			uncount(&lb_be_stats, id, len, isnew);
			return frag_needed(ctx, md, mtu);
		}
	}
	if (mtu && f.family == LB_AF_INET6) {
		struct ipv6hdr *ip6 = p.l3;

		if ((void *)(ip6 + 1) > nfc_data_end(ctx))
			return nfc_drop(ctx, md, LB_R_ENCAP);
		if (wire_len(ctx, &p, f.proto,
			     bpf_ntohs(ip6->payload_len) + sizeof(*ip6)) +
			    sizeof(*ip6) >
		    mtu) {
			uncount(&lb_be_stats, id, len, isnew);
			return pkt_too_big(ctx, md, mtu);
		}
	}
	if (f.family == LB_AF_INET ? dsr4(ctx, &p, &f, be)
				   : dsr6(ctx, &p, &f, be))
		return nfc_drop(ctx, md, LB_R_ENCAP);
	return nfc_pass_on(ctx, md);
}

NFC_NF(lb);
