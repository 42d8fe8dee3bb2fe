// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the IPv4 and IPv6 forwarding fast path (IPv6: do_ipv6).
 *
 * Per frame: check the Ethernet destination (the in port's MAC; broadcast
 * only for ARP), validate the IPv4 header, one longest-prefix match in
 * the FIB (which holds connected, static, local and broadcast entries, so
 * one lookup decides; at most three array lookups in rt_dir), one lookup
 * of the next hop (rt_nbr, by index), then decrement the TTL with an
 * incremental checksum update, rewrite both MACs and output.
 * A per-CPU cache of those decisions by destination (router.h) skips the
 * lookups for a destination seen before.
 * Everything else leaves the fast path with a reason (router.h):
 *   - to the slow path: ARP to learn from, next hop not resolved, TTL
 *     exceeded, no route, traffic for the router other than echo requests;
 *   - dropped and counted: truncated or bad headers, bad checksum, IP
 *     options, fragments for the router, martians, directed broadcasts.
 * Answered here: ARP requests for the in port's address and echo requests
 * for any of the router's addresses (when the reply leaves the in port).
 */
#include "nfchain.bpf.h"
#include "router.h"

#define IPPROTO_ICMP 1
#define IPPROTO_ICMPV6 58
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP_DF 0x4000

/* ---- maps: the router's own, pinned and kept across reloads ---- */

/* Per port: MAC and addresses (written by configure()). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NFC_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct rt_port);
} rt_ports SEC(".maps");

/* The IPv4 FIB: connected, static, local and broadcast entries. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RT_MAX_FIB);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rt_fib4_key);
	__type(value, struct rt_fib_val);
} rt_fib4 SEC(".maps");

/* The IPv6 FIB: connected, static and local (global and link-local)
 * entries. An LPM trie: its lookup walks at most one node per prefix
 * length present on the way, not one per route. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, RT_MAX_FIB);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rt_fib6_key);
	__type(value, struct rt_fib_val);
} rt_fib6 SEC(".maps");

/* Resolved IPv6 neighbours (router.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RT_MAX_NEIGH);
	__type(key, struct rt_nd_key);
	__type(value, struct rt_neigh);
} rt_nd SEC(".maps");

/* Resolved IPv4 neighbours (key: address, network order). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RT_MAX_NEIGH);
	__type(key, __be32);
	__type(value, struct rt_neigh);
} rt_arp SEC(".maps");

/* The IPv4 FIB as a DIR-16-8-8 table (router.h): the fast path's. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RT_DIR_SIZE);
	__type(key, __u32);
	__type(value, __u64);
} rt_dir SEC(".maps");

/* Resolved IPv4 neighbours, direct-mapped by port and address (router.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NFC_MAX_PORTS *RT_NBR_SLICE);
	__type(key, __u32);
	__type(value, struct rt_neigh);
} rt_nbr SEC(".maps");

/* Counters by reason, then the control plane's (router.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} rt_cnt SEC(".maps");

/* Control-plane records (never read here): static routes and static ARP
 * entries as configured. Declared in the object so that they are created
 * and pinned with the NF and live as long as it does. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RT_MAX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rt_rib_key);
	__type(value, struct rt_rib_val);
} rt_rib SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RT_MAX_SARP);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rt_rib_key);
	__type(value, struct rt_sarp_val);
} rt_sarp SEC(".maps");

/* The forwarding cache (router.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct rt_cache_ent);
} rt_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct rt_cache6_ent);
} rt_cache6 SEC(".maps");

/* Config rp_filter: strict reverse-path check, an extra FIB lookup per
 * packet when on. Read at run time (a `set` is a map write, not a new
 * program): one load per packet when off. */
NFC_CFG_VAR(rt_rp_filter);

/* ---- helpers ---- */

struct rt_arp_eth { /* ARP for IPv4 over Ethernet; byte arrays: unaligned */
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[NFC_ETH_ALEN];
	__u8 spa[4];
	__u8 tha[NFC_ETH_ALEN];
	__u8 tpa[4];
};

static __always_inline void rt_count(__u32 reason)
{
	__u64 *v = bpf_map_lookup_elem(&rt_cnt, &reason);

	if (v)
		*v += 1;
}

/* The handlers below return the port to send the frame out of (>= 0) or
 * -reason: one exit per verdict keeps the program small. */
#define RT_OUT(port) ((int)(port))
#define RT_NOT(reason) (-(int)(reason))
#define RT_IS_SLOW(reason)                                     \
	(((reason) >= RT_SP_ARP && (reason) <= RT_SP_LOCAL) || \
	 (reason) == RT_SP_ND || (reason) == RT_SP_MTU)

/* What the fast path reads and writes (Ethernet, IPv4 without options,
 * ICMP echo or ARP) lies within the first RT_PULL bytes. */
#define RT_PULL 64
_Static_assert(RT_PULL >= NFC_ETH_HLEN + sizeof(struct iphdr) +
				       sizeof(struct icmphdr) &&
		       RT_PULL >= NFC_ETH_HLEN + sizeof(struct rt_arp_eth),
	       "RT_PULL covers the headers the fast path touches");
_Static_assert(NFC_REASON_NF_BASE + RT_NREASONS <= NFC_REASON_MAX,
	       "the router's reasons fit the global counters");

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

static __always_inline void mac_copy(__u8 *d, const __u8 *s)
{
	*(__u32 *)d = *(const __u32 *)s;
	*(__u16 *)(d + 4) = *(const __u16 *)(s + 4);
}

/* A forwarded frame's rewrite: TTL - 1 (the checksum word {ttl, protocol}
 * grows by 0x0100), next hop's and out port's MACs. */
static __always_inline void forward_rewrite(struct ethhdr *eth,
					    struct iphdr *iph, const __u8 *dmac,
					    const __u8 *smac)
{
	__u32 sum = iph->check + bpf_htons(0x0100);

	iph->check = (__u16)(sum + (sum >= 0xffff));
	iph->ttl--;
	mac_copy(eth->h_dest, dmac);
	mac_copy(eth->h_source, smac);
}

static __always_inline int mac_is_bcast(const __u8 *a)
{
	return *(const __u32 *)a == 0xffffffff &&
	       *(const __u16 *)(a + 4) == 0xffff;
}

static __always_inline __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* RFC 1624 incremental update of a 16-bit word; byte order does not matter
 * as long as all three are in the same one. */
static __always_inline void csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	__u32 s = (__u16) ~*sum;

	s += (__u16)~from;
	s += to;
	*sum = csum_fold(s);
}

/* Martian addresses (RFC 1812 5.3.7): 0/8, 127/8, class D and E. */
/* A fragment (not DF) to a port with an mtu goes the slow path even when
 * it fits: its datagram's larger fragments go there to be cut again, and
 * this one, sent at once, overtook them. A later fragment that reaches a
 * NAT or firewall before its first has no ports: Linux reassembles, the
 * conntrack here cannot (found by a helper: a ping -s 3000 through a
 * port with mtu=1280 and a masquerade lost every reply, and its last
 * fragment left with the inside address). */
static __always_inline int frag_keep_order(const struct iphdr *iph)
{
	return (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) &&
	       !(iph->frag_off & bpf_htons(IP_DF));
}

static __always_inline int martian_src(__be32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe;
}

static __always_inline int martian_dst(__be32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe;
}

/* rt_dir's epoch (router.h): the live level-1 copy and the cache's
 * generation. Read once a packet, so that every lookup of one packet is
 * made in the same table. */
static __always_inline __u64 dir_epoch(void)
{
	__u32 k = RT_DIR_EPOCH;
	__u64 *e = bpf_map_lookup_elem(&rt_dir, &k);

	return e ? *(volatile __u64 *)e : 0;
}

/* The FIB entry for dst in the table of `epoch`: rt_dir, at most three
 * array lookups; the trie only for a region marked so. Returns 0 and fills
 * *out, or -1: no route. */
static __always_inline int fib4(__u64 epoch, __be32 dst, struct rt_fib_val *out)
{
	__u32 h = bpf_ntohl(dst), i = RT_DIR_L1_OF(epoch) + (h >> 16);
	__u64 *e = bpf_map_lookup_elem(&rt_dir, &i), v;

	if (!e)
		return -1;
	v = *e;
	if (RT_DIR_KIND(v) == RT_DIR_PTR) {
		i = RT_DIR_L2 + RT_DIR_LOW(v) * 256 + ((h >> 8) & 255);
		e = bpf_map_lookup_elem(&rt_dir, &i);
		if (!e)
			return -1;
		v = *e;
		if (RT_DIR_KIND(v) == RT_DIR_PTR) {
			i = RT_DIR_L3 + RT_DIR_LOW(v) * 256 + (h & 255);
			e = bpf_map_lookup_elem(&rt_dir, &i);
			if (!e)
				return -1;
			v = *e;
		}
	}
	if (RT_DIR_KIND(v) == RT_DIR_RES) {
		out->type = RT_DIR_TYPE(v);
		out->port = RT_DIR_PORT(v);
		out->nh.v4 = RT_DIR_LOW(v);
		return 0;
	}
	if (RT_DIR_KIND(v) == RT_DIR_TRIE) {
		struct rt_fib4_key k = {.plen = 32, .addr = dst};
		struct rt_fib_val *r = bpf_map_lookup_elem(&rt_fib4, &k);

		if (r) {
			out->type = r->type;
			out->port = r->port;
			out->nh.v4 = r->nh.v4;
			return 0;
		}
	}
	return -1;
}

/* ---- ARP ---- */

static __always_inline int do_arp(nfc_ctx_t *ctx, struct nfc_meta *md,
				  struct rt_port *port, struct ethhdr *eth,
				  void *end)
{
	struct rt_arp_eth *a = (void *)(eth + 1);
	struct rt_neigh *n;
	__be32 spa, tpa;

	if ((void *)(a + 1) > end)
		return RT_NOT(RT_D_TRUNCATED);
	if (a->htype != bpf_htons(1) || a->ptype != bpf_htons(NFC_ETH_P_IP) ||
	    a->hlen != NFC_ETH_ALEN || a->plen != 4 ||
	    !(port->flags & RT_PORT_V4))
		return RT_NOT(RT_D_ARP);
	__builtin_memcpy(&spa, a->spa, 4);
	__builtin_memcpy(&tpa, a->tpa, 4);
	if (a->op == bpf_htons(2)) /* reply: resolves a pending next hop */
		return RT_NOT(RT_SP_ARP);
	if (a->op != bpf_htons(1))
		return RT_NOT(RT_D_ARP);
	if (tpa != port->v4_addr) {
		/* Not for us, but from a neighbour we know with another
		 * MAC (a gratuitous request, `arping -U`, a failover): the
		 * slow path takes the new MAC, as Linux does. */
		n = bpf_map_lookup_elem(&rt_arp, &spa);
		if (n && n->port == md->in_port && !mac_eq(n->mac, a->sha))
			return RT_NOT(RT_SP_ARP);
		return RT_NOT(RT_D_ARP);
	}
	/* A sender that is us, loopback or multicast: not answered (Linux
	 * finds no route back to it). */
	if (spa == port->v4_addr || (bpf_ntohl(spa) >> 24) == 127 ||
	    (bpf_ntohl(spa) >> 28) >= 0xe)
		return RT_NOT(RT_D_ARP);

	/* A request for us. The slow path learns the sender (so the reply
	 * to its traffic needs no ARP of ours) unless it is known already. */
	if (spa) {
		n = bpf_map_lookup_elem(&rt_arp, &spa);
		if (!n || n->port != md->in_port || !mac_eq(n->mac, a->sha)) {
			rt_count(RT_SP_ARP);
			nfc_to_slow_path(ctx, md, RT_SP_ARP); /* a copy */
		}
	}
	/* Turn the request into the reply, in place. */
	a->op = bpf_htons(2);
	mac_copy(a->tha, a->sha);
	__builtin_memcpy(a->tpa, a->spa, 4);
	mac_copy(a->sha, port->mac);
	__builtin_memcpy(a->spa, &port->v4_addr, 4);
	mac_copy(eth->h_dest, eth->h_source);
	mac_copy(eth->h_source, port->mac);
	rt_count(RT_ARP_REPLIED);
	return RT_OUT(md->in_port);
}

/* ---- IPv4 ---- */

/* The longest echo request (ICMP message, bytes) answered in place; ping
 * sends 64. Its checksum is verified first, word by word: a corrupted
 * request gets no reply (RFC 1122 3.2.2; Linux drops it), and the reply's
 * checksum, updated incrementally, would carry the error out. Longer
 * requests go to the slow path, which checks them too. */
#define RT_ECHO_MAX 512
_Static_assert((RT_ECHO_MAX & (RT_ECHO_MAX - 1)) == 0, "a mask");

/* Nonzero if the `len` bytes (at most RT_ECHO_MAX) at p do not sum to a
 * valid Internet checksum, or are not all in the frame. Words are summed
 * in host order: the test for all ones holds in either. */
static __always_inline int icmp_bad(const __u8 *p, __u32 len, void *end)
{
	__u32 s = 0;

#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < RT_ECHO_MAX / 2; i++) {
		const __u8 *q = p + 2 * i;

		if (2 * i + 2 > len)
			break;
		if ((void *)(q + 2) > end)
			return 1;
		s += *(const __u16 *)q;
	}
	if (len & 1) {
		const __u8 *q = p + ((len - 1) & (RT_ECHO_MAX - 1));

		if ((void *)(q + 1) > end)
			return 1;
		s += *q; /* the high byte of a word padded with zero */
	}
	return csum_fold(s) != 0;
}

/* An echo request for one of our addresses, answered in place when the
 * reply leaves the port the request came in on (the usual case); else
 * the slow path answers it through the FIB. Only a whole request: its
 * ICMP header within the IP packet (not in the frame's padding), its
 * checksum right. */
static __always_inline int do_echo(nfc_ctx_t *ctx, struct nfc_meta *md,
				   struct rt_port *port, struct ethhdr *eth,
				   struct iphdr *iph, void *end, __u64 epoch)
{
	struct icmphdr *ic = (void *)(iph + 1);
	struct rt_fib_val r;
	__u32 len;
	__be32 a;
	__u16 old;

	if ((void *)(ic + 1) > end || ic->type != 8 || ic->code != 0)
		return RT_NOT(RT_SP_LOCAL);
	if (fib4(epoch, iph->saddr, &r) || r.port != md->in_port ||
	    (r.type != RT_FIB_CONNECTED && r.type != RT_FIB_VIA))
		return RT_NOT(RT_SP_LOCAL);
	/* do_ipv4 checked: no options, total length within the frame. */
	len = bpf_ntohs(iph->tot_len) - sizeof(*iph);
	/* A reply larger than the port's mtu: the slow path sends it in
	 * fragments. */
	if (len < sizeof(*ic) || len > RT_ECHO_MAX ||
	    (port->mtu && len + sizeof(*iph) > port->mtu))
		return RT_NOT(RT_SP_LOCAL);
	/* The whole message in reach (TC: linear); the pointers anew. */
	if (nfc_pull(ctx, NFC_ETH_HLEN + sizeof(*iph) + RT_ECHO_MAX))
		return RT_NOT(RT_D_TRUNCATED);
	eth = nfc_data(ctx);
	end = nfc_data_end(ctx);
	iph = (void *)(eth + 1);
	ic = (void *)(iph + 1);
	if ((void *)(ic + 1) > end)
		return RT_NOT(RT_D_TRUNCATED);
	if (icmp_bad((const __u8 *)ic, len, end))
		return RT_NOT(RT_D_ICMP_CSUM);
	/* ICMP: type 8 -> 0. */
	/* The words are written out rather than loaded back through a cast:
	 * clang reused the value loaded before the store. */
	ic->type = 0;
	csum_replace2(&ic->checksum, bpf_htons(8 << 8), 0);
	/* IP: swap addresses (the sum is unchanged), fresh TTL. */
	a = iph->saddr;
	iph->saddr = iph->daddr;
	iph->daddr = a;
	old = bpf_htons(iph->ttl << 8 | iph->protocol);
	iph->ttl = 64;
	csum_replace2(&iph->check, old, bpf_htons(64 << 8 | iph->protocol));
	/* Back to whoever sent it: its MAC is the frame's source. */
	mac_copy(eth->h_dest, eth->h_source);
	mac_copy(eth->h_source, port->mac);
	rt_count(RT_ECHO_REPLIED);
	return RT_OUT(md->in_port);
}

/*
 * Whether a packet of network length len is over the out port's mtu. A
 * GSO packet (TC: the stack's and GRO's packets of up to 64 KB) is cut
 * into segments on its way out, and each segment must fit, not the whole
 * (as Linux's skb_gso_validate_network_len). Found by a helper: every
 * GSO packet of a TCP flow through a port with mtu= got a packet too big
 * its sender could not act on (its segments fitted already), and the
 * flow stalled. l4: the transport header, after l3len bytes of network
 * headers; a TCP header out of reach is taken at its largest.
 */
static __always_inline int over_mtu(nfc_ctx_t *ctx, __u32 len, __u32 mtu,
				    void *l4, __u32 l3len, __u8 proto,
				    void *end)
{
	if (len <= mtu)
		return 0;
#ifdef NFC_HOOK_TC
	{
		__u32 gso = ctx->gso_size, l4len = 60;
		struct tcphdr *th = l4;

		if (!gso)
			return 1;
		if (proto == IPPROTO_UDP)
			l4len = sizeof(struct udphdr);
		else if (proto != IPPROTO_TCP)
			return 1;
		else if ((void *)(th + 1) <= end)
			l4len = th->doff * 4;
		return l3len + l4len + gso > mtu;
	}
#else
	(void)ctx, (void)l4, (void)l3len, (void)proto, (void)end;
	return 1;
#endif
}

static __always_inline int do_ipv4(nfc_ctx_t *ctx, struct nfc_meta *md,
				   struct rt_port *port, struct ethhdr *eth,
				   void *end)
{
	struct iphdr *iph = (void *)(eth + 1);
	struct rt_cache_ent *ce = NULL;
	struct rt_fib_val rv, *r = &rv;
	struct rt_port *out;
	struct rt_neigh *n;
	/* Read once: a packet is decided by one value of it, old or new. */
	__u32 rpf = rt_rp_filter;
	__u32 tot;
	__u64 epoch;
	__be32 nh;

	if ((void *)(iph + 1) > end)
		return RT_NOT(RT_D_TRUNCATED);
	if (iph->version != 4 || iph->ihl < 5)
		return RT_NOT(RT_D_BAD_HDR);
	if (iph->ihl != 5)
		return RT_NOT(RT_D_OPTIONS);
	tot = bpf_ntohs(iph->tot_len);
	if (tot < sizeof(*iph) || tot + sizeof(*eth) > nfc_pkt_len(ctx))
		return RT_NOT(RT_D_BAD_HDR);
	/* The header's sum in five 32-bit words (a one's complement sum is
	 * the same in any word size once folded): half the loads of 16-bit
	 * words. */
	{
		__u64 s64 = 0;

#pragma unroll
		for (int i = 0; i < 5; i++)
			s64 += ((__u32 *)iph)[i];
		s64 = (s64 & 0xffffffff) + (s64 >> 32);
		s64 = (s64 & 0xffffffff) + (s64 >> 32);
		if (csum_fold((__u32)s64) != 0)
			return RT_NOT(RT_D_BAD_CSUM);
	}
	/* The port's own address as a source: a martian to Linux too
	 * (fib_validate_source, with or without rp_filter). Only the in
	 * port's, which is at hand: the others' would cost a lookup a
	 * packet, and rp_filter catches them. */
	if (martian_src(iph->saddr) ||
	    (iph->saddr == port->v4_addr && port->v4_addr))
		return RT_NOT(RT_D_MARTIAN);

	/* The cache answers only where the FIB would have forwarded: not
	 * with rp_filter (the source decides too). A miss, or an entry of an
	 * older epoch, goes the whole way and refills the slot. */
	epoch = dir_epoch();
	if (!rpf) {
		__u32 slot =
			(bpf_ntohl(iph->daddr) ^ md->in_port * 0x9e3779b1u) *
				0x9e3779b1u >>
			(32 - RT_CACHE_BITS);

		ce = bpf_map_lookup_elem(&rt_cache, &slot);
		if (ce && ce->dst == iph->daddr && ce->in == md->in_port &&
		    ce->gen == epoch) {
			if (iph->ttl <= 1)
				return RT_NOT(RT_SP_TTL);
			if (ce->mtu &&
			    (over_mtu(ctx, tot, ce->mtu, iph + 1, sizeof(*iph),
				      iph->protocol, end) ||
			     frag_keep_order(iph)))
				return RT_NOT(RT_SP_MTU);
			forward_rewrite(eth, iph, ce->dmac, ce->smac);
			return RT_OUT(ce->out);
		}
	}
	/* The destination's own checks: a hit above passed them when its
	 * entry was made. */
	if (martian_dst(iph->daddr))
		return RT_NOT(RT_D_MARTIAN);
	if (fib4(epoch, iph->daddr, r))
		return RT_NOT(RT_SP_NO_ROUTE);
	if (r->type == RT_FIB_BCAST)
		return RT_NOT(RT_D_BCAST);
	/* Before the router's own addresses too: a spoofed source had its
	 * echo replies and ICMP errors sent to it (found by a helper; Linux
	 * answers nothing). */
	if (rpf) {
		struct rt_fib_val s;

		if (fib4(epoch, iph->saddr, &s) || s.port != md->in_port ||
		    (s.type != RT_FIB_CONNECTED && s.type != RT_FIB_VIA))
			return RT_NOT(RT_D_RPF);
	}
	if (r->type == RT_FIB_LOCAL) {
		if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
			return RT_NOT(RT_D_FRAG_LOCAL);
		if (iph->protocol == IPPROTO_ICMP)
			return do_echo(ctx, md, port, eth, iph, end, epoch);
		return RT_NOT(RT_SP_LOCAL);
	}
	if (iph->ttl <= 1)
		return RT_NOT(RT_SP_TTL);
	nh = r->type == RT_FIB_VIA ? r->nh.v4 : iph->daddr;
	out = bpf_map_lookup_elem(&rt_ports, &r->port);
	if (!out || !(out->flags & RT_PORT_UP))
		return RT_NOT(RT_D_PORT_DOWN);
	if (out->mtu && (over_mtu(ctx, tot, out->mtu, iph + 1, sizeof(*iph),
				  iph->protocol, end) ||
			 frag_keep_order(iph)))
		return RT_NOT(RT_SP_MTU);
	if (out->flags & RT_PORT_NBR) {
		__u32 i = RT_NBR_INDEX(r->port, bpf_ntohl(nh));

		n = bpf_map_lookup_elem(&rt_nbr, &i);
		if (n && n->addr != nh)
			n = NULL;
	} else {
		n = bpf_map_lookup_elem(&rt_arp, &nh);
	}
	if (!n || !n->state || n->port != r->port)
		return RT_NOT(RT_SP_NEIGH_MISS);
	if (!n->hit)
		n->hit = 1; /* written once per aging period, not per packet */
	if (ce) {
		ce->dst = iph->daddr;
		ce->in = md->in_port;
		ce->out = r->port;
		ce->gen = epoch;
		ce->mtu = out->mtu;
		mac_copy(ce->dmac, n->mac);
		mac_copy(ce->smac, out->mac);
	}

	forward_rewrite(eth, iph, n->mac, out->mac);
	return RT_OUT(r->port);
}

/* ---- IPv6 ---- */

static __always_inline int fib6(const struct in6_addr *dst,
				struct rt_fib_val *out)
{
	struct rt_fib6_key k = {.plen = 128};
	struct rt_fib_val *r;

	__builtin_memcpy(k.addr, dst, 16);
	r = bpf_map_lookup_elem(&rt_fib6, &k);
	if (!r)
		return -1;
	*out = *r;
	return 0;
}

/* fe80::/10 */
static __always_inline int is_linklocal6(const struct in6_addr *a)
{
	return (bpf_ntohl(a->in6_u.u6_addr32[0]) & 0xffc00000) == 0xfe800000;
}

/* a: the link-local address of port p (EUI-64 of its MAC), which two
 * ports of one MAC share (the FIB names the first). */
static __always_inline int is_own_ll(const struct rt_port *p,
				     const struct in6_addr *a)
{
	const __u8 *b = a->in6_u.u6_addr8, *m = p->mac;

	return !a->in6_u.u6_addr32[1] && b[8] == (m[0] ^ 2) && b[9] == m[1] &&
	       b[10] == m[2] && b[11] == 0xff && b[12] == 0xfe &&
	       b[13] == m[3] && b[14] == m[4] && b[15] == m[5];
}

/* :: and ::1 are never forwarded (RFC 4291 2.5.2, 2.5.3), nor an
 * IPv4-mapped source (2.5.5.2): Linux drops all three at input. */
static __always_inline int is_unspec_or_lo6(const struct in6_addr *a)
{
	const __u32 *w = a->in6_u.u6_addr32;

	return !(w[0] | w[1] | w[2]) && (!w[3] || w[3] == bpf_htonl(1));
}

static __always_inline int is_martian_src6(const struct in6_addr *a)
{
	const __u32 *w = a->in6_u.u6_addr32;

	return is_unspec_or_lo6(a) ||
	       (!(w[0] | w[1]) && w[2] == bpf_htonl(0xffff));
}

/*
 * IPv6 (RFC 8200, 4291): multicast is never routed (neighbour and router
 * discovery go to the slow path), link-local addresses never leave their
 * link, everything for the router goes to the slow path (echo, NDP sent
 * to a unicast address, UDP), the rest is forwarded with the hop limit
 * decremented (IPv6 has no header checksum to update).
 */
static __always_inline int do_ipv6(nfc_ctx_t *ctx, struct nfc_meta *md,
				   struct rt_port *port, struct ethhdr *eth,
				   void *end)
{
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct rt_cache6_ent *ce = NULL;
	struct rt_fib_val rv, *r = &rv;
	struct rt_nd_key nk;
	__u64 epoch;
	struct rt_port *out;
	struct rt_neigh *n;
	__u32 len;

	if ((void *)(ip6 + 1) > end)
		return RT_NOT(RT_D_TRUNCATED);
	if (ip6->version != 6)
		return RT_NOT(RT_D_BAD_HDR);
	len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	if (len + sizeof(*eth) > nfc_pkt_len(ctx))
		return RT_NOT(RT_D_BAD_HDR);
	if (ip6->daddr.in6_u.u6_addr8[0] == 0xff) {
		/* Neighbour and router discovery (ICMPv6 133-137) come to
		 * multicast groups; extension headers before them are not
		 * looked for (NDP is sent without). */
		__u8 *t = (void *)(ip6 + 1);

		if (ip6->nexthdr == IPPROTO_ICMPV6 && (void *)(t + 1) <= end &&
		    *t >= 133 && *t <= 137)
			return RT_NOT(RT_SP_ND);
		return RT_NOT(RT_D_MCAST);
	}
	if (!mac_eq(eth->h_dest, port->mac))
		return RT_NOT(RT_D_OTHERHOST);
	if (ip6->saddr.in6_u.u6_addr8[0] == 0xff ||
	    is_martian_src6(&ip6->saddr))
		return RT_NOT(RT_D_MARTIAN);

	/* The forwarding cache, as for IPv4 (the same epoch: every change
	 * of routes, ports or neighbours voids it). A hit stands for the
	 * destination's checks and lookups; the source's and the hop
	 * limit's are made on every packet. */
	epoch = dir_epoch();
	{
		__u32 *d = ip6->daddr.in6_u.u6_addr32;
		__u32 *c, slot = ((bpf_ntohl(d[0] ^ d[1] ^ d[2] ^ d[3]) ^
				   md->in_port * 0x9e3779b1u) *
				  0x9e3779b1u) >>
				 (32 - RT_CACHE_BITS);

		ce = bpf_map_lookup_elem(&rt_cache6, &slot);
		c = ce ? (__u32 *)ce->dst : NULL;
		if (c && ce->gen == epoch && ce->in == md->in_port &&
		    !((c[0] ^ d[0]) | (c[1] ^ d[1]) | (c[2] ^ d[2]) |
		      (c[3] ^ d[3]))) {
			if (is_linklocal6(&ip6->saddr))
				return RT_NOT(RT_D_LINKLOCAL);
			if (ip6->hop_limit <= 1)
				return RT_NOT(RT_SP_TTL);
			if (ce->mtu &&
			    over_mtu(ctx, len, ce->mtu, ip6 + 1, sizeof(*ip6),
				     ip6->nexthdr, end))
				return RT_NOT(RT_SP_MTU);
			ip6->hop_limit--;
			mac_copy(eth->h_dest, ce->dmac);
			mac_copy(eth->h_source, ce->smac);
			return RT_OUT(ce->out);
		}
	}
	/* Before the lookup: a default route would take them, and a
	 * destination dropped here is never cached. */
	if (is_unspec_or_lo6(&ip6->daddr))
		return RT_NOT(RT_D_MARTIAN);
	if (fib6(&ip6->daddr, r)) {
		if (is_linklocal6(&ip6->daddr))
			return RT_NOT(RT_D_LINKLOCAL);
		return RT_NOT(RT_SP_NO_ROUTE);
	}
	if (r->type == RT_FIB_LOCAL) {
		/* Another port's link-local address is not the router's
		 * on this link (RFC 4291 2.5.6): an echo to it was answered
		 * from it (found by a helper). */
		if (is_linklocal6(&ip6->daddr) && r->port != md->in_port &&
		    !is_own_ll(port, &ip6->daddr))
			return RT_NOT(RT_D_LINKLOCAL);
		return RT_NOT(RT_SP_LOCAL);
	}
	if (is_linklocal6(&ip6->daddr) || is_linklocal6(&ip6->saddr))
		return RT_NOT(RT_D_LINKLOCAL);
	if (ip6->hop_limit <= 1)
		return RT_NOT(RT_SP_TTL);
	out = bpf_map_lookup_elem(&rt_ports, &r->port);
	if (!out || !(out->flags & RT_PORT_UP))
		return RT_NOT(RT_D_PORT_DOWN);
	if (out->mtu && over_mtu(ctx, len, out->mtu, ip6 + 1, sizeof(*ip6),
				 ip6->nexthdr, end))
		return RT_NOT(RT_SP_MTU);
	nk.port = r->port;
	if (r->type == RT_FIB_VIA)
		__builtin_memcpy(nk.addr, r->nh.v6, 16);
	else
		__builtin_memcpy(nk.addr, &ip6->daddr, 16);
	n = bpf_map_lookup_elem(&rt_nd, &nk);
	if (!n || !n->state)
		return RT_NOT(RT_SP_NEIGH_MISS);
	if (!n->hit)
		n->hit = 1;
	if (ce) {
		__builtin_memcpy(ce->dst, &ip6->daddr, 16);
		ce->in = md->in_port;
		ce->out = r->port;
		ce->gen = epoch;
		ce->mtu = out->mtu;
		mac_copy(ce->dmac, n->mac);
		mac_copy(ce->smac, out->mac);
	}
	ip6->hop_limit--;
	mac_copy(eth->h_dest, n->mac);
	mac_copy(eth->h_source, out->mac);
	return RT_OUT(r->port);
}

static __always_inline int classify(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	struct rt_port *port;
	struct ethhdr *eth;
	__u32 k = md->in_port;
	void *end;

	if (nfc_pull(ctx, RT_PULL))
		return RT_NOT(RT_D_TRUNCATED);
	eth = nfc_data(ctx);
	end = nfc_data_end(ctx);
	if ((void *)(eth + 1) > end)
		return RT_NOT(RT_D_TRUNCATED);
	port = bpf_map_lookup_elem(&rt_ports, &k);
	if (!port || !(port->flags & RT_PORT_UP))
		return RT_NOT(RT_D_PORT_DOWN);
	if (eth->h_proto == bpf_htons(NFC_ETH_P_IP)) {
		if (!mac_eq(eth->h_dest, port->mac))
			return RT_NOT(RT_D_OTHERHOST);
		return do_ipv4(ctx, md, port, eth, end);
	}
	if (eth->h_proto == bpf_htons(NFC_ETH_P_ARP)) {
		if (!mac_eq(eth->h_dest, port->mac) &&
		    !mac_is_bcast(eth->h_dest))
			return RT_NOT(RT_D_OTHERHOST);
		return do_arp(ctx, md, port, eth, end);
	}
	if (eth->h_proto == bpf_htons(NFC_ETH_P_IPV6))
		return do_ipv6(ctx, md, port, eth, end);
	return RT_NOT(RT_D_PROTO);
}

static __always_inline int route(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	int v = classify(ctx, md);
	__u32 reason;

	if (v >= 0)
		return nfc_output(ctx, md, v);
	reason = -v;
	rt_count(reason);
	if (RT_IS_SLOW(reason))
		return nfc_to_slow_path(ctx, md, reason);
	return nfc_drop(ctx, md, NFC_REASON_NF_BASE + reason);
}

NFC_NF(route);
