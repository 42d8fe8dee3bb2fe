// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lb: a transparent L4 load balancer. On the ingress side of its
 * attachment, a TCP or UDP packet to a service's VIP gets a backend: the
 * one its connection already has (lb_conns), else the one the service's
 * Maglev table gives the flow's hash, remembered for the flow's next
 * packets. forward=dsr: the packet goes on unchanged inside an IPv4-in-IPv4
 * header to the backend, which decapsulates and answers the client itself.
 * The frame keeps its MAC addresses: it continues to where it was going
 * (the router port behind the attachment, or the stack), which routes it
 * by the new outer destination (README.md, "Where the packet goes next").
 * forward=nat: the destination becomes the backend's, and on the egress
 * side the replies of such flows get the VIP back as their source.
 * Everything else passes on untouched.
 */
#include "nfchain.bpf.h"
#include "lb.h"

#define IP_MF 0x2000
#define IP_DF 0x4000
#define IP_OFFSET 0x1fff
#define LB_PROTO_IPIP 4
#define LB_PULL (NFC_ETH_HLEN + 60 + 20) /* IPv4 with options, TCP */
#define LB_TCP_SYN 0x02
#define LB_TCP_ACK 0x10

/* Outer source: the client's own address when 0 (what it would have been
 * anyway), else this one with its low lb_src_bits bits taken from the
 * flow's hash, so that the backend's receive hashing spreads flows. */
const volatile __u32 lb_src = 0;
const volatile __u32 lb_src_bits = 0;
/* Seconds a UDP flow keeps its backend after its last packet. */
const volatile __u32 lb_udp_timeout = 30;

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

/* forward=nat: a reply's flow (backend -> client) -> the VIP and port it
 * must come from again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_MAX_CONNS);
	__type(key, struct lb_flow);
	__type(value, struct lb_nat);
} lb_nats SEC(".maps");

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

/* The backend of the flow: its connection's while that backend is still
 * the one it was given (same slot generation, not removed) and, for UDP,
 * the flow not idle for lb_udp_timeout; else a new pick from the table,
 * which holds only backends that are up. A TCP SYN starts a new
 * connection: it is picked anew even if its 5-tuple (a reused source
 * port) is remembered, as Katran does, or a drained backend would get new
 * connections from old ports. NULL: no backend up. */
static __always_inline struct lb_be *pick(const struct lb_flow *f,
					  const struct lb_svc *svc, int syn,
					  __u32 *id, int *isnew)
{
	struct lb_conn *c = syn ? NULL : bpf_map_lookup_elem(&lb_conns, f);
	__u64 now = bpf_ktime_get_ns();
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

/*
 * forward=nat: the destination (dst) or source address and port of the
 * packet rewritten, with the IPv4 and TCP/UDP checksums. In TC through the
 * helpers, which also handle a checksum left to offload (CHECKSUM_PARTIAL,
 * where the field holds only the pseudo-header's sum); in XDP in place
 * (the runtime turns TX checksum offload off at a native-XDP peer). A UDP
 * checksum of 0 (none) stays 0. 0 or -1.
 */
static __always_inline int nat_rewrite(nfc_ctx_t *ctx, struct iphdr *ip,
				       __u16 *ports, int dst, __u32 naddr,
				       __u16 nport)
{
	int udp = ip->protocol == IPPROTO_UDP;
	__u32 oaddr = dst ? ip->daddr : ip->saddr;
	__u16 oport = ports[dst ? 1 : 0];
#ifdef NFC_HOOK_XDP
	__u16 *l4sum = udp ? &ports[3] : &ports[8];

	if ((void *)(l4sum + 1) > nfc_data_end(ctx))
		return -1;
	if (!udp || *l4sum) {
		csum_upd(l4sum, oaddr, naddr);
		csum_upd(l4sum, oport, nport);
		if (udp && !*l4sum)
			*l4sum = 0xffff;
	}
	csum_upd(&ip->check, oaddr, naddr);
	if (dst)
		ip->daddr = naddr;
	else
		ip->saddr = naddr;
	ports[dst ? 1 : 0] = nport;
	return 0;
#else
	__u32 l3 = (void *)ip - nfc_data(ctx),
	      l4 = (void *)ports - nfc_data(ctx);
	__u32 coff = l4 + (udp ? 6 : 16), fl = udp ? BPF_F_MARK_MANGLED_0 : 0;

	if ((void *)(ports + 9) > nfc_data_end(ctx))
		return -1;
	if (bpf_l4_csum_replace(ctx, coff, oaddr, naddr,
				BPF_F_PSEUDO_HDR | fl | sizeof(naddr)) ||
	    bpf_l4_csum_replace(ctx, coff, oport, nport, fl | sizeof(nport)) ||
	    bpf_l3_csum_replace(ctx, l3 + 10, oaddr, naddr, sizeof(naddr)) ||
	    bpf_skb_store_bytes(ctx, l3 + (dst ? 16 : 12), &naddr,
				sizeof(naddr), 0) ||
	    bpf_skb_store_bytes(ctx, l4 + (dst ? 2 : 0), &nport, sizeof(nport),
				0))
		return -1;
	return 0;
#endif
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

static __always_inline int lb(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	struct lb_flow f = {};
	struct lb_vip v = {};
	struct ethhdr *eth;
	struct iphdr *ip, o = {};
	struct lb_svc *svc;
	struct lb_be *be;
	__u16 *ports;
	__u32 id, len = frame_len(ctx), ihl;
	int isnew, syn = 0;

	if (nfc_pull(ctx, LB_PULL))
		return nfc_pass_on(ctx, md);
	eth = nfc_data(ctx);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > nfc_data_end(ctx) ||
	    eth->h_proto != bpf_htons(NFC_ETH_P_IP) || ip->version != 4 ||
	    (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
		return nfc_pass_on(ctx, md);
	ihl = ip->ihl * 4;
	/* Fragments carry no ports (but the first): they go on as they
	 * came. */
	if (ihl < sizeof(*ip) || ihl > 60 ||
	    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return nfc_pass_on(ctx, md);
	ports = (void *)ip + ihl;
	if ((void *)(ports + 2) > nfc_data_end(ctx))
		return nfc_pass_on(ctx, md);
	if (ip->protocol == IPPROTO_TCP) {
		__u8 *fl = (__u8 *)ports + 13;

		if ((void *)(fl + 1) > nfc_data_end(ctx))
			return nfc_pass_on(ctx, md);
		syn = (*fl & (LB_TCP_SYN | LB_TCP_ACK)) == LB_TCP_SYN;
	}
	f.saddr[0] = ip->saddr;
	f.daddr[0] = ip->daddr;
	f.sport = ports[0];
	f.dport = ports[1];
	f.proto = ip->protocol;
	f.family = LB_AF_INET;
	if (md->direction != NFC_DIR_INGRESS) {
		/* A reply of a NAT-ed connection: from the VIP again. */
		struct lb_nat *n = bpf_map_lookup_elem(&lb_nats, &f);

		if (n && nat_rewrite(ctx, ip, ports, 0, n->addr, n->port))
			return nfc_drop(ctx, md, LB_R_ENCAP);
		return nfc_pass_on(ctx, md);
	}
	v.addr[0] = ip->daddr;
	v.port = ports[1];
	v.proto = ip->protocol;
	v.family = LB_AF_INET;
	svc = bpf_map_lookup_elem(&lb_vips, &v);
	if (!svc)
		return nfc_pass_on(ctx, md);
	count(&lb_svc_stats, svc->id, len, 0);
	be = pick(&f, svc, syn, &id, &isnew);
	if (!be || be->family != LB_AF_INET)
		return nfc_drop(ctx, md, LB_R_NO_BACKEND);
	count(&lb_be_stats, id, len, isnew);
	if (svc->forward == LB_FWD_NAT) {
		struct lb_flow r = {};
		struct lb_nat n = {.addr = ip->daddr, .port = ports[1]};
		__u16 bport = be->port ? be->port : ports[1];

		r.saddr[0] = be->addr[0];
		r.daddr[0] = ip->saddr;
		r.sport = bport;
		r.dport = ports[0];
		r.proto = ip->protocol;
		r.family = LB_AF_INET;
		/* Written for a new connection, and refreshed if the LRU let
		 * it go. */
		if (isnew || !bpf_map_lookup_elem(&lb_nats, &r))
			bpf_map_update_elem(&lb_nats, &r, &n, BPF_ANY);
		if (nat_rewrite(ctx, ip, ports, 1, be->addr[0], bport))
			return nfc_drop(ctx, md, LB_R_ENCAP);
		return nfc_pass_on(ctx, md);
	}
	o.version = 4;
	o.ihl = 5;
	o.tos = ip->tos;
	o.tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + sizeof(struct iphdr));
	o.frag_off = ip->frag_off & bpf_htons(IP_DF);
	o.ttl = 64;
	o.protocol = LB_PROTO_IPIP;
	o.saddr = ip->saddr;
	if (lb_src) {
		__u32 m = lb_src_bits ? (1U << lb_src_bits) - 1 : 0;

		o.saddr = bpf_htonl((bpf_ntohl(lb_src) & ~m) |
				    (flow_hash(&f) & m));
	}
	o.daddr = be->addr[0];
	if (encap4(ctx, &o))
		return nfc_drop(ctx, md, LB_R_ENCAP);
	return nfc_pass_on(ctx, md);
}

NFC_NF(lb);
