// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nat: source NAT (snat, masquerade) for connections leaving the target
 * (out), destination NAT (dnat, port forwarding) for connections entering
 * it (in), on the shared connection tracking (bpf/ct.h). IPv4 only; IPv6
 * and anything not IP pass untouched.
 *
 * Per packet, after the parser:
 *  1. its wire tuple in nat_rev: a reply of a translated connection. The
 *     tuple is put back to what it would be untranslated, conntrack
 *     updates the entry, the packet is rewritten back (nat.h);
 *  2. else conntrack on its own tuple: a known connection's original
 *     direction gets the entry's translation (nf_data);
 *  3. else a NEW packet is matched against the rules (first match), an
 *     outside tuple is picked (the original port if free, else random
 *     ports of the range: nat_pick), the connection confirmed.
 * Before 1: a per-CPU flow cache (nat_fc, below) answers the plain
 * packets of a known connection with no lookup in the shared tables; an
 * untagged IPv4 packet without options is keyed on it before the parser
 * runs (nat_fc_key), so that a hit costs no parse either.
 * Checksums are updated incrementally (RFC 1624); a UDP checksum of 0
 * stays 0. Later fragments carry no ports: they get their address
 * rewritten by the connection their first fragment opened.
 */
#include "nfchain.bpf.h"
#define NFCT_TABLE_SIZE 65536
#define NFCT_FC_GEN
#include "ct.h"
#include "nat.h"

/* ---- maps ---- */

struct nat_pick {
	struct nat_tuple k; /* the reply's wire tuple being tried */
	struct nat_rev v;
	__u32 lo, n, start; /* range, host order */
	__u8 icmp, done;
	__u8 syn; /* the new connection's packet is a TCP SYN */
	int err;
};

/* Both halves of the rule set, NAT_MAX_RULES each, by number. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * NAT_MAX_RULES);
	__type(key, __u32);
	__type(value, struct nat_rule);
} nat_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_set);
} nat_set SEC(".maps");

/* Reply wire tuple -> original tuple (nat.h). Shared by every CPU; a plain
 * hash (an LRU would drop live mappings at will). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NAT_REV_SIZE);
	__type(key, struct nat_tuple);
	__type(value, struct nat_rev);
} nat_rev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NAT_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} nat_cnt SEC(".maps");

/* The control plane's record of the rules, by number (never read here). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NAT_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct nat_rule);
} nat_rec SEC(".maps");

/* Scratch for a new connection's port pick: off the stack, which the
 * parser's flow and the conntrack result already fill. */
struct nat_scr {
	struct nat_pick pk;
	struct nfc_flow fl;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nat_scr);
} nat_scratch SEC(".maps");

/*
 * The per-CPU flow cache: what steps 1-2 found for a packet's wire tuple
 * (its rewrite, and its connection's tuple to account to), so that the
 * next plain packets of the flow on this CPU cost one array slot instead
 * of a nat_rev and a ct_table lookup (two hash walks on shared, mostly
 * cold memory: most of the NAT's cost). As nfct_lookup_cached in ct.h,
 * which cannot serve here: it keys on the tuple conntrack knows, not the
 * one on the wire, and caches only answered connections (a one-way flow
 * is translated all the same). A slot answers for NFCT_TS_STEP_NS after
 * it was synced with the entry; its packets and bytes gather in the slot
 * and go into the entry at the next sync or when another flow takes the
 * slot. Exact because only packets that cannot change the entry's state
 * hit (TCP: a bare ACK of an established connection; others: any, once
 * the lookup that filled the slot updated the state), and a deleted or
 * replaced entry bumps ct_fc_gen.
 */
/* struct nat_fc_slot: nat.h (the control plane reads the slots too). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NAT_FC_SLOTS);
	__type(key, __u32);
	__type(value, struct nat_fc_slot);
} nat_fc SEC(".maps");

static __always_inline void nat_count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&nat_cnt, &c);

	if (v)
		*v += 1;
}

/* ---- checksums and rewriting ---- */

/* What a 32-bit (or 16-bit) field changed from `from` to `to`, both in
 * network order, adds to a checksum over it: ~m + m' of RFC 1624, eq. 3,
 * folded to 16 bits. */
static __always_inline __u16 csum_delta(__u32 from, __u32 to)
{
	__u32 s = (~from & 0xffff) + (~from >> 16 & 0xffff) + (to & 0xffff) +
		  (to >> 16);

	s = (s & 0xffff) + (s >> 16);
	return (s & 0xffff) + (s >> 16);
}

static __always_inline __u16 csum_add16(__u16 a, __u16 b)
{
	__u32 s = (__u32)a + b;

	return (s & 0xffff) + (s >> 16);
}

/* HC' = ~(~HC + delta) */
static __always_inline void csum_apply(__u16 *sum, __u16 d)
{
	*sum = ~csum_add16((__u16) ~*sum, d);
}

static __always_inline __attribute__((unused)) void
csum_upd(__u16 *sum, __u32 from, __u32 to)
{
	csum_apply(sum, csum_delta(from, to));
}

/* Where the L4 checksum is, from the L4 header; 0: none we update. */
static __always_inline __u32 l4_csum_off(__u8 proto)
{
	return proto == NFC_IPPROTO_TCP	   ? 16
	       : proto == NFC_IPPROTO_UDP  ? 6
	       : proto == NFC_IPPROTO_ICMP ? 2
					   : 0;
}

/*
 * The source (dst = 0) or destination (dst = 1) address of the IPv4
 * packet described by fl rewritten to naddr, and its port (TCP/UDP) or
 * echo id (ICMP) to nport, checksums with them. `l4` 0: no L4 header to
 * touch (a later fragment, a protocol without ports). In TC through the
 * helpers, which also handle a checksum left to offload
 * (CHECKSUM_PARTIAL); in XDP in place. 0 or -1.
 */
static __always_inline int nat_write(nfc_ctx_t *ctx, __u32 l3, __u32 l4,
				     __u8 proto, int dst, __be32 naddr,
				     __be16 nport)
{
	void *data = nfc_data(ctx), *end = nfc_data_end(ctx);
	struct iphdr *ip = NFC_FLOW_PTR(data, end, l3, sizeof(*ip));
	__u32 coff = l4_csum_off(proto);
	__u32 poff = proto == NFC_IPPROTO_ICMP ? 4 : dst ? 2 : 0;
	__be32 oaddr;
	__be16 oport = 0;
	__be16 *port = NULL;
	__u16 *sum = NULL;

	if (!ip)
		return -1;
	oaddr = dst ? ip->daddr : ip->saddr;
	if (l4 && coff) {
		/* Each field bounded on its own: one pointer per field keeps
		 * the verifier from reading a merged offset. */
		port = NFC_FLOW_PTR(data, end, l4 + poff, 2);
		sum = NFC_FLOW_PTR(data, end, l4 + coff, 2);
		if (!port || !sum)
			return -1;
		oport = *port;
	}
#ifdef NFC_HOOK_XDP
	if (port) {
		/* The ICMP checksum covers no pseudo-header. */
		if (proto != NFC_IPPROTO_UDP || *sum) {
			if (proto != NFC_IPPROTO_ICMP)
				csum_upd(sum, oaddr, naddr);
			csum_upd(sum, oport, nport);
			if (proto == NFC_IPPROTO_UDP && !*sum)
				*sum = 0xffff;
		}
		*port = nport;
	}
	csum_upd(&ip->check, oaddr, naddr);
	if (dst)
		ip->daddr = naddr;
	else
		ip->saddr = naddr;
	return 0;
#else
	if (port) {
		__u64 fl = proto == NFC_IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

		if (proto != NFC_IPPROTO_ICMP &&
		    bpf_l4_csum_replace(ctx, l4 + coff, oaddr, naddr,
					BPF_F_PSEUDO_HDR | fl | 4))
			return -1;
		if (bpf_l4_csum_replace(ctx, l4 + coff, oport, nport, fl | 2) ||
		    bpf_skb_store_bytes(ctx, l4 + poff, &nport, 2, 0))
			return -1;
	}
	if (bpf_l3_csum_replace(ctx, l3 + 10, oaddr, naddr, 4) ||
	    bpf_skb_store_bytes(ctx, l3 + (dst ? 16 : 12), &naddr, 4, 0))
		return -1;
	return 0;
#endif
}

#include "nat_icmp.h"

/* Whether the flow's L4 header has a port or id we translate. */
static __always_inline int nat_has_port(const struct nfc_flow *fl)
{
	if (fl->t.proto == NFC_IPPROTO_TCP || fl->t.proto == NFC_IPPROTO_UDP)
		return (fl->flags & NFC_FLOW_F_PORTS) != 0;
	return fl->t.proto == NFC_IPPROTO_ICMP && fl->frag == NFC_FRAG_NONE &&
	       (fl->icmp_type == 8 || fl->icmp_type == 0 ||
		fl->icmp_type == 13 || fl->icmp_type == 14);
}

static __always_inline int nat_rewrite(nfc_ctx_t *ctx,
				       const struct nfc_flow *fl, int dst,
				       __be32 naddr, __be16 nport)
{
	__u32 l4 = fl->frag == NFC_FRAG_LATER || !nat_has_port(fl) ? 0
								   : fl->l4_off;

	if (nat_write(ctx, fl->l3_off, l4, fl->t.proto, dst, naddr, nport))
		return -1;
	nat_count(NAT_C_XLATED);
	return 0;
}

/* ---- rules ---- */

struct nat_match {
	__u32 half, n;
	__u32 src, dst; /* host order */
	__u16 sport, dport;
	__u8 proto, out, ports; /* ports: 1 known, 0 none, NAT_ANY_PORT */
	int res;
};
/* A later fragment that came before its first: its ports are unknown, so
 * a rule matching on ports may be the one. */
#define NAT_ANY_PORT 2

static __always_inline int in_pfx(__u32 a, __u32 p, __u8 len)
{
	__u32 m = len ? ~0u << (32 - (len & 31)) : 0;

	if (len >= 32)
		m = ~0u;
	return ((a ^ p) & m) == 0;
}

static long nat_match_one(__u32 i, void *ctx)
{
	struct nat_match *m = ctx;
	__u32 k = m->half * NAT_MAX_RULES + i;
	struct nat_rule *r;

	if (i >= m->n)
		return 1;
	r = bpf_map_lookup_elem(&nat_rules, &k);
	if (!r)
		return 1;
	if ((r->type == NAT_T_DNAT) == (m->out != 0))
		return 0;
	if (r->proto && r->proto != m->proto)
		return 0;
	if (!in_pfx(m->src, r->src, r->src_len) ||
	    !in_pfx(m->dst, r->dst, r->dst_len))
		return 0;
	if ((r->sport_lo || r->sport_hi != 0xffff) &&
	    m->ports != NAT_ANY_PORT) {
		if (!m->ports || m->sport < r->sport_lo ||
		    m->sport > r->sport_hi)
			return 0;
	}
	if ((r->dport_lo || r->dport_hi != 0xffff) &&
	    m->ports != NAT_ANY_PORT) {
		if (!m->ports || m->dport < r->dport_lo ||
		    m->dport > r->dport_hi)
			return 0;
	}
	m->res = k;
	return 1;
}

/* ---- port pick ---- */

/* The conntrack entry of the connection whose tuple (either way) is o,
 * and its key in *k. */
static __always_inline struct nfct_entry *nat_ct_of(const struct nat_tuple *o,
						    struct nfct_key *k)
{
	struct nfc_tuple t = {
		.sport = o->sport,
		.dport = o->dport,
		.proto = o->proto,
		.family = NFC_FAMILY_V4,
	};

	t.src[2] = t.dst[2] = bpf_htonl(NFCT_V4MAPPED_W2);
	t.src[3] = o->src;
	t.dst[3] = o->dst;
	nfct_key_of(&t, k);
	return bpf_map_lookup_elem(&ct_table, k);
}

/* Whether the connection of original tuple o is closing (TCP in
 * TIME_WAIT or CLOSE): a new SYN may take its outside tuple, as Linux
 * lets it (found by a helper: with ports=2000-2009, 10 of 40 quick
 * connections in a row, the rest refused while the first ones sat in
 * TIME_WAIT for 120 s; Linux took 40 of 40). */
static __always_inline int nat_orig_closing(const struct nat_tuple *o)
{
	struct nfct_entry *e;
	struct nfct_key k;

	if (o->proto != NFC_IPPROTO_TCP)
		return 0;
	e = nat_ct_of(o, &k);
	return e && (e->state == NFCT_S_TIME_WAIT || e->state == NFCT_S_CLOSE);
}

/* Whether the reply tuple being tried is the tuple of a live connection
 * that came in untranslated or DNAT-ed (a port forward's client): its
 * packets, read as replies of the new mapping, would go to the wrong
 * host. Linux's nf_nat_used_tuple refuses such a tuple as well (found by
 * a helper: an inside host sending from a forwarded port to that
 * forward's client took over the client's connection). */
static __always_inline int nat_tuple_busy(const struct nat_tuple *k)
{
	struct nfct_key ck;
	struct nfct_entry *e = nat_ct_of(k, &ck);

	return e &&
	       !nfct_expired(nfct_cfg_get(), &ck, e, bpf_ktime_get_coarse_ns());
}

static __always_inline int nat_try(struct nat_pick *p)
{
	struct nat_rev *cur;
	long e = bpf_map_update_elem(&nat_rev, &p->k, &p->v, BPF_NOEXIST);

	if (!e) {
		if (!nat_tuple_busy(&p->k))
			return 1;
		bpf_map_delete_elem(&nat_rev, &p->k);
		return 0;
	}
	if (e != -17) { /* not EEXIST: the table is full */
		p->err = NAT_C_TABLE_FULL;
		return 1;
	}
	/* Ours already (the same connection opened again after it
	 * expired): take it over. */
	cur = bpf_map_lookup_elem(&nat_rev, &p->k);
	if (cur && cur->orig.src == p->v.orig.src &&
	    cur->orig.dst == p->v.orig.dst &&
	    cur->orig.sport == p->v.orig.sport &&
	    cur->orig.dport == p->v.orig.dport &&
	    cur->orig.proto == p->v.orig.proto && cur->type == p->v.type)
		return 1;
	if (cur && p->syn && nat_orig_closing(&cur->orig) &&
	    !bpf_map_update_elem(&nat_rev, &p->k, &p->v, BPF_EXIST))
		return 1;
	return 0;
}

struct nat_pick_ctx {
	struct nat_pick *p;
};

static long nat_pick_one(__u32 i, void *ctx)
{
	struct nat_pick *p = ((struct nat_pick_ctx *)ctx)->p;
	__be16 port;
	__u32 off;

	if (!p->n)
		return 1;
	/* A small range is walked whole, every port once. A large one gets
	 * a fresh random port each try: walked from one random start, the
	 * tries fell inside any run of 32 taken ports (the kept source ports
	 * of one busy host are such a run), and a new connection was refused
	 * with most of the range free. */
	off = p->n <= NAT_TRIES ? p->start + i : bpf_get_prandom_u32();
	port = bpf_htons(p->lo + (__u16)(off % p->n));
	p->k.dport = port;
	if (p->icmp)
		p->k.sport = port;
	if (nat_try(p)) {
		p->done = 1;
		return 1;
	}
	return 0;
}

/* ---- the NF ---- */

static __always_inline void nat_tuple_of(const struct nfc_tuple *t,
					 struct nat_tuple *w)
{
	w->src = t->src[3];
	w->dst = t->dst[3];
	w->sport = t->sport;
	w->dport = t->dport;
	w->proto = t->proto;
	w->pad[0] = w->pad[1] = w->pad[2] = 0;
}

/*
 * A key's two words, as they lie in memory, built from
 * its fields: the compiler takes them from the registers the packet was
 * read into, where a wide load of the key just written to the stack would
 * wait for the narrow stores to reach the cache.
 */
static __always_inline void nat_key_words(const struct nat_tuple *k, __u64 *x0,
					  __u64 *x1)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	*x0 = (__u64)k->dst << 32 | k->src;
	*x1 = (__u64)k->pad[2] << 56 | (__u64)k->pad[1] << 48 |
	      (__u64)k->pad[0] << 40 | (__u64)k->proto << 32 |
	      (__u32)k->dport << 16 | k->sport;
#else
	*x0 = (__u64)k->src << 32 | k->dst;
	*x1 = (__u64)k->sport << 48 | (__u64)k->dport << 32 |
	      (__u32)k->proto << 24 | (__u32)k->pad[0] << 16 |
	      (__u32)k->pad[1] << 8 | k->pad[2];
#endif
}

/*
 * The slot of a key (its words): they are multiplied (Fibonacci hashing),
 * the slot number the top bits of the last product, which depend on every
 * bit of the key. Two multiplies where three chained murmur finalisers
 * (nfct_mix32) took ~55 instructions in series on the hit path, each one
 * waiting for the last. What varies between flows sits in the top bits of
 * the words as loaded (an address's last byte, a port's low byte), which
 * a multiply carries only upwards: into the bits taken. The benchmark's
 * 1,024 flows get 1,018 slots of 8,192 (the finalisers: 957, random keys
 * ~962), their replies 957 (961). Not symmetric: a flow's two directions
 * get two slots.
 */
static __always_inline __u32 nat_fc_slot_of(__u64 x0, __u64 x1)
{
	return ((x0 * 0x9e3779b97f4a7c15ULL ^ x1) * 0xc2b2ae3d27d4eb4fULL) >>
	       (64 - NAT_FC_BITS);
}

static __always_inline __u32 nat_fc_index(const struct nat_tuple *w)
{
	__u64 x0, x1;

	nat_key_words(w, &x0, &x1);
	return nat_fc_slot_of(x0, x1);
}

static __always_inline __u32 nat_fc_gen(void)
{
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&ct_fc_gen, &zero);

	return g ? (__u32)*g : 0;
}

/* The connection entry a slot accounts to. */
static __always_inline struct nfct_entry *
nat_fc_entry(const struct nat_fc_slot *s)
{
	struct nfc_tuple t = {
		.sport = s->csport,
		.dport = s->cdport,
		.proto = s->w.proto,
		.family = NFC_FAMILY_V4,
	};
	struct nfct_key k;

	t.src[2] = t.dst[2] = bpf_htonl(NFCT_V4MAPPED_W2);
	t.src[3] = s->csrc;
	t.dst[3] = s->cdst;
	nfct_key_of(&t, &k);
	return bpf_map_lookup_elem(&ct_table, &k);
}

/* A key's kind (nat_fc_slot.w.pad[0]): where the L4 checksum is that the
 * rewrite updates, 0 if it touches no L4 header. */
static __always_inline __u8 nat_fc_kind(const struct nfc_flow *fl)
{
	return fl->frag != NFC_FRAG_LATER && nat_has_port(fl)
		       ? l4_csum_off(fl->t.proto)
		       : 0;
}

/*
 * After steps 1-2 translated a packet of entry e (its lookup done with
 * `now`): the slot remembers the rewrite, if the entry is in a state the
 * cached packets cannot change. `k` is the packet's wire tuple (its key
 * but for the kind, taken from fl), `c` the connection's tuple in the
 * packet's direction. What the slot gathered for another flow goes into
 * that flow's entry first.
 */
static __always_inline void
nat_fc_fill(struct nat_fc_slot *s, const struct nfc_flow *fl,
	    const struct nat_tuple *k, const struct nat_tuple *c,
	    struct nfct_entry *e, __u8 dir, __u64 now, int dst, __be32 addr,
	    __be16 port)
{
	struct nfct_entry *o;
	__be32 oaddr = dst ? k->dst : k->src;
	__be16 oport =
		dst && k->proto != NFC_IPPROTO_ICMP ? k->dport : k->sport;
	__u8 kind = nat_fc_kind(fl);
	int same;

	if (!s)
		return;
	same = s->w.src == k->src && s->w.dst == k->dst &&
	       s->w.sport == k->sport && s->w.dport == k->dport &&
	       s->w.proto == k->proto && s->w.pad[0] == kind;
	if (!nfct_fc_eligible(fl) || (fl->t.proto == NFC_IPPROTO_TCP &&
				      e->state != NFCT_S_ESTABLISHED)) {
		/* The flow leaves the cache (a FIN, a RST, the close): what
		 * its slot gathered goes to its entry now. Left there, it
		 * was lost unless another flow took the slot: a 3 MB
		 * download's mapping showed its SYN, ACK and FIN only. */
		if (same && s->ts && s->packets) {
			e->packets[s->dir & 1] += s->packets;
			e->bytes[s->dir & 1] += s->bytes;
			s->packets = 0;
			s->bytes = 0;
			s->ts = 0;
		}
		return;
	}
	if (s->ts && s->packets) {
		o = same ? e : nat_fc_entry(s);
		if (o) {
			o->packets[s->dir & 1] += s->packets;
			o->bytes[s->dir & 1] += s->bytes;
		}
	}
	/* Synced now: the entry's clock is this packet's, so that it never
	 * lags more than a step behind the flow's last cached packet. */
	e->last_ns = now;
	s->w = *k;
	s->w.pad[0] = kind;
	s->csrc = c->src;
	s->cdst = c->dst;
	s->csport = c->sport;
	s->cdport = c->dport;
	s->ts = now;
	s->bytes = 0;
	s->packets = 0;
	s->gen = nat_fc_gen();
	s->addr = addr;
	s->port = port;
	s->d3 = csum_delta(oaddr, addr);
	/* The ICMP checksum covers no pseudo-header. */
	s->d4 = csum_add16(k->proto == NFC_IPPROTO_ICMP ? 0 : s->d3,
			   csum_delta(oport, port));
	s->dst = dst;
	s->dir = dir;
}

/*
 * The cache's key of a plain packet, read with no parse: untagged IPv4
 * without options, not a fragment, and a TCP segment with ACK alone of
 * SYN/FIN/RST/ACK, a UDP datagram or an ICMP echo/timestamp (what
 * nfct_fc_eligible lets in, and nat_fc_kind keys). 1: *k filled, the L3
 * header at ETH_HLEN and L4 20 bytes on; 0: anything else (the parser
 * decides).
 */
static __always_inline int nat_fc_key(void *data, void *end,
				      struct nat_tuple *k)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u8 *l4 = (void *)(ip + 1);

	if ((void *)(l4 + 8) > end || eth->h_proto != bpf_htons(NFC_ETH_P_IP) ||
	    *(__u8 *)ip != 0x45 || (ip->frag_off & bpf_htons(0x3fff)))
		return 0;
	k->sport = *(__be16 *)l4;
	k->dport = *(__be16 *)(l4 + 2);
	switch (ip->protocol) {
	case NFC_IPPROTO_TCP:
		if ((void *)(l4 + 20) > end ||
		    (l4[13] & (NFC_TCP_SYN | NFC_TCP_FIN | NFC_TCP_RST |
			       NFC_TCP_ACK)) != NFC_TCP_ACK)
			return 0;
		break;
	case NFC_IPPROTO_UDP:
		break;
	case NFC_IPPROTO_ICMP:
		if (l4[0] != 8 && l4[0] != 0 && l4[0] != 13 && l4[0] != 14)
			return 0;
		k->sport = k->dport = *(__be16 *)(l4 + 4);
		break;
	default:
		return 0;
	}
	k->src = ip->saddr;
	k->dst = ip->daddr;
	k->proto = ip->protocol;
	k->pad[0] = l4_csum_off(ip->protocol);
	k->pad[1] = k->pad[2] = 0;
	return 1;
}

/* The slot for key k, if it answers for it at `now`; else NULL. */
static __always_inline struct nat_fc_slot *
nat_fc_hit(struct nat_fc_slot *s, const struct nat_tuple *k, __u64 now)
{
	const __u64 *w;
	__u64 x0, x1;

	if (!s)
		return NULL;
	w = (const __u64 *)&s->w;
	nat_key_words(k, &x0, &x1);
	if (s->ts && now >= s->ts && now - s->ts < NFCT_TS_STEP_NS &&
	    w[0] == x0 && w[1] == x1 && s->gen == nat_fc_gen())
		return s;
	return NULL;
}

/*
 * A packet its slot answers for, rewritten: in XDP in place, the slot's
 * deltas folded into the checksums (a UDP checksum of 0 stays 0); in TC
 * through nat_write's helpers (a checksum left to offload takes the
 * address change only, which a combined delta cannot tell apart).
 */
static __always_inline int
nat_fc_write(nfc_ctx_t *ctx, const struct nat_fc_slot *s, __u32 l3, __u32 l4)
{
	__u8 coff = s->w.pad[0], proto = s->w.proto;
#ifdef NFC_HOOK_XDP
	void *data = nfc_data(ctx), *end = nfc_data_end(ctx);
	struct iphdr *ip = NFC_FLOW_PTR(data, end, l3, sizeof(*ip));

	if (!ip)
		return -1;
	if (coff) {
		__u32 poff = proto == NFC_IPPROTO_ICMP ? 4 : s->dst ? 2 : 0;
		__be16 *port = NFC_FLOW_PTR(data, end, l4 + poff, 2);
		__u16 *sum = NFC_FLOW_PTR(data, end, l4 + (coff & 31), 2);

		if (!port || !sum)
			return -1;
		if (proto != NFC_IPPROTO_UDP || *sum) {
			csum_apply(sum, s->d4);
			if (proto == NFC_IPPROTO_UDP && !*sum)
				*sum = 0xffff;
		}
		*port = s->port;
	}
	csum_apply(&ip->check, s->d3);
	if (s->dst)
		ip->daddr = s->addr;
	else
		ip->saddr = s->addr;
	return 0;
#else
	return nat_write(ctx, l3, coff ? l4 : 0, proto, s->dst, s->addr,
			 s->port);
#endif
}

static __always_inline __u32 nat_len(nfc_ctx_t *ctx)
{
#ifdef NFC_HOOK_XDP
	return nfc_data_end(ctx) - nfc_data(ctx);
#else
	return ctx->len;
#endif
}

static __always_inline int nat_pass(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	nat_count(NAT_C_PASSED);
	return nfc_pass_on(ctx, md);
}

static __always_inline int nat_bad(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	nat_count(NAT_C_BAD);
	return nfc_drop(ctx, md, NAT_R_BAD);
}

static __always_inline int nat_refuse(nfc_ctx_t *ctx, struct nfc_meta *md,
				      __u32 why)
{
	nat_count(why);
	return nfc_drop(ctx, md, NAT_R_REFUSED);
}

/* A later fragment whose first was not seen (reordered on the way, or its
 * first evicted): no ports, so no connection to find. One a rule could
 * translate is dropped: passed, it showed the inside address outside
 * (found by a helper; Linux reassembles first, which an XDP or TC program
 * cannot). Counted once, as conntrack_frag_miss (nfct_frag). Any other
 * passes, as the NAT passes what no rule translates. */
static __always_inline int nat_orphan(nfc_ctx_t *ctx, struct nfc_meta *md,
				      const struct nfc_flow *fl, int out)
{
	__u32 zero = 0;
	struct nat_set *set = bpf_map_lookup_elem(&nat_set, &zero);
	struct nat_match m = {
		.src = bpf_ntohl(fl->t.src[3]),
		.dst = bpf_ntohl(fl->t.dst[3]),
		.proto = fl->t.proto,
		.out = out,
		.ports = NAT_ANY_PORT,
		.res = -1,
	};

	if (!set)
		return nat_pass(ctx, md);
	m.half = set->live & 1;
	m.n = set->n[m.half & 1];
	if (m.n > NAT_MAX_RULES)
		m.n = NAT_MAX_RULES;
	bpf_loop(NAT_MAX_RULES, nat_match_one, &m, 0);
	if (m.res >= 0)
		return nfc_drop(ctx, md, NAT_R_REFUSED);
	return nat_pass(ctx, md);
}

/* A packet its slot answered for. */
static __always_inline int nat_fc_serve(nfc_ctx_t *ctx, struct nfc_meta *md,
					struct nat_fc_slot *s, __u32 l3,
					__u32 l4, __u32 len)
{
	s->packets += 1;
	s->bytes += len;
	if (nat_fc_write(ctx, s, l3, l4))
		return nat_bad(ctx, md);
	nat_count(NAT_C_XLATED);
	return nfc_pass_on(ctx, md);
}

/* The original direction of a known connection. fc: its slot in the
 * flow cache, to fill (NULL: not cached). */
static __always_inline int nat_known(nfc_ctx_t *ctx, struct nfc_meta *md,
				     const struct nfc_flow *fl,
				     struct nfct_entry *e,
				     struct nat_fc_slot *fc,
				     const struct nat_tuple *k, __u64 now)
{
	struct nat_xlat *x = (struct nat_xlat *)e->nf_data;
	int dnat = x->type == NAT_T_DNAT;

	if (!x->type)
		return nat_pass(ctx, md);
	if (!x->ready) /* another CPU is still writing it */
		return nat_refuse(ctx, md, NAT_C_RACE);
	if (nat_rewrite(ctx, fl, dnat, x->addr, x->port))
		return nat_bad(ctx, md);
	nat_fc_fill(fc, fl, k, k, e, NFCT_DIR_ORIG, now, dnat, x->addr,
		    x->port);
	return nfc_pass_on(ctx, md);
}

static __always_inline int nat(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	struct nat_scr *scr;
	struct nfc_flow *fl;
	struct nfct_res ctr, *ct = &ctr; /* on the stack: it holds a pointer
					  * the verifier tracks; zeroed past
					  * the cache's hit */
	struct nat_tuple w; /* first the cache's key (nat_fc_key) */
	struct nat_rev *rev;
	struct nat_set *set;
	struct nat_rule *rule;
	struct nat_xlat *x;
	struct nat_fc_slot *fc = NULL;
	__u64 now;
	__u32 len = nat_len(ctx), zero = 0;
	int r, keyed, out = md->direction == NFC_DIR_EGRESS;

	if (nfc_pull(ctx, NFC_FLOW_PULL))
		return nat_bad(ctx, md);
	/* 0. The flow cache, before the parser when the packet allows. */
	now = bpf_ktime_get_coarse_ns();
	keyed = nat_fc_key(nfc_data(ctx), nfc_data_end(ctx), &w);
	if (keyed) {
		__u32 i = nat_fc_index(&w);

		fc = bpf_map_lookup_elem(&nat_fc, &i);
		if (nat_fc_hit(fc, &w, now))
			return nat_fc_serve(ctx, md, fc, NFC_ETH_HLEN,
					    NFC_ETH_HLEN + 20, len);
	}
	__builtin_memset(&ctr, 0, sizeof(ctr));
	/* The flow lives off the stack, which the bpf_loop callbacks
	 * share with this function. */
	scr = bpf_map_lookup_elem(&nat_scratch, &zero);
	if (!scr)
		return nat_bad(ctx, md);
	fl = &scr->fl;

	r = nfc_flow_parse(nfc_data(ctx), nfc_data_end(ctx), fl);
	if (r == NFC_FLOW_NOT_IP)
		return nat_pass(ctx, md);
	if (r != NFC_FLOW_OK)
		return nat_bad(ctx, md);
	if (fl->t.family != NFC_FAMILY_V4)
		return nat_pass(ctx, md);
	if (fl->flags & NFC_FLOW_F_ICMP_ERR) {
		r = nat_icmp_err(ctx, fl);
		if (r < 0)
			return nat_bad(ctx, md);
		if (!r)
			return nat_pass(ctx, md);
		nat_count(NAT_C_ICMP_ERR);
		return nfc_pass_on(ctx, md);
	}

	/* A fragment leaves, or takes, its datagram's ports by the addresses
	 * on the wire: a reply's first fragment was filed under the inside
	 * address it is rewritten to, and its later fragments, which carry
	 * the outside one, were never translated (found by a helper against
	 * Linux: 0 of 5 replies of 4,000 bytes). */
	if (fl->frag != NFC_FRAG_NONE) {
		if (nfct_frag(fl))
			return nat_orphan(ctx, md, fl, out);
		fl->flags |= NFC_FLOW_F_FRAG_DONE;
	}

	/* The cache again for what nat_fc_key leaves to the parser (VLAN
	 * tags, IP options). */
	nat_tuple_of(&fl->t, &w);
	if (!keyed) {
		__u32 i;

		/* Looked up for a packet the cache does not serve too (a
		 * FIN): its slot's counts go to the entry (nat_fc_fill). */
		w.pad[0] = nat_fc_kind(fl);
		i = nat_fc_index(&w);
		fc = bpf_map_lookup_elem(&nat_fc, &i);
		if (nfct_fc_eligible(fl) && nat_fc_hit(fc, &w, now))
			return nat_fc_serve(ctx, md, fc, fl->l3_off, fl->l4_off,
					    len);
	}
	w.pad[0] = 0; /* nat_rev's key from here on */

	/* 1. A reply of a translated connection. */
	rev = bpf_map_lookup_elem(&nat_rev, &w);
	if (rev) {
		struct nat_tuple o = rev->orig;
		int dnat = rev->type == NAT_T_DNAT;
		__be32 a = dnat ? o.dst : o.src;
		__be16 p = dnat ? o.dport : o.sport;

		if (dnat) {
			fl->t.src[3] = a;
			fl->t.sport = p;
		} else {
			fl->t.dst[3] = a;
			fl->t.dport = p;
		}
		if (fl->t.proto == NFC_IPPROTO_ICMP)
			fl->t.sport = fl->t.dport = p;
		nfct_lookup_at(fl, len, ct, now);
		if (!ct->e || ct->dir != NFCT_DIR_REPLY)
			return nat_pass(ctx, md); /* expired mapping */
		if (nat_rewrite(ctx, fl, !dnat, a, p))
			return nat_bad(ctx, md);
		/* The connection's tuple, this way: fl->t put back above. */
		nat_tuple_of(&fl->t, &o);
		nat_fc_fill(fc, fl, &w, &o, ct->e, NFCT_DIR_REPLY, now, !dnat,
			    a, p);
		return nfc_pass_on(ctx, md);
	}

	/* 2. A known connection. */
	nfct_lookup_at(fl, len, ct, now);
	if (ct->e) {
		if (ct->dir != NFCT_DIR_ORIG)
			return nat_pass(ctx, md);
		return nat_known(ctx, md, fl, ct->e, fc, &w, now);
	}
	if (!(ct->state & NFCT_NEW))
		return nat_pass(ctx, md);

	/* 3. A new one: the rules. */
	set = bpf_map_lookup_elem(&nat_set, &zero);
	if (!set)
		return nat_pass(ctx, md);
	struct nat_match m = {
		.half = set->live & 1,
		.src = bpf_ntohl(w.src),
		.dst = bpf_ntohl(w.dst),
		.sport = bpf_ntohs(w.sport),
		.dport = bpf_ntohs(w.dport),
		.proto = w.proto,
		.out = out,
		.ports = (fl->flags & NFC_FLOW_F_PORTS) != 0,
		.res = -1,
	};
	m.n = set->n[m.half & 1];
	if (m.n > NAT_MAX_RULES)
		m.n = NAT_MAX_RULES;
	bpf_loop(NAT_MAX_RULES, nat_match_one, &m, 0);
	if (m.res < 0) {
		/* An inbound connection no rule translates is tracked as it
		 * is, as Linux's conntrack does: its replies are then known
		 * (2.), never taken for new outbound connections to
		 * masquerade (a load balancer's backend answering a client
		 * through this port: the reply left from the NAT's address,
		 * not the VIP). A full table only leaves it untracked. */
		if (!out && !nfct_confirm(fl, len, ct) && ct->e)
			((struct nat_xlat *)ct->e->nf_data)->ready = 1;
		return nat_pass(ctx, md);
	}
	r = m.res;
	rule = bpf_map_lookup_elem(&nat_rules, &r);
	if (!rule)
		return nat_pass(ctx, md);

	struct nat_pick *pk = &scr->pk;
	struct nat_pick_ctx pc = {.p = pk};
	__be32 naddr;

	if (!pk)
		return nat_bad(ctx, md);
	__builtin_memset(pk, 0, sizeof(*pk));
	__be16 nport = w.sport;
	int dnat = rule->type == NAT_T_DNAT, has_port = nat_has_port(fl);

	pk->v.orig = w;
	pk->v.type = rule->type;
	pk->icmp = fl->t.proto == NFC_IPPROTO_ICMP;
	pk->syn = fl->t.proto == NFC_IPPROTO_TCP &&
		  (fl->tcp_flags & (NFC_TCP_SYN | NFC_TCP_ACK)) == NFC_TCP_SYN;
	if (dnat) {
		naddr = bpf_htonl(rule->to_lo);
		nport = rule->to_port_lo && has_port
				? bpf_htons(rule->to_port_lo)
				: w.dport;
		pk->k.src = naddr;
		pk->k.dst = w.src;
		pk->k.sport = nport;
		pk->k.dport = w.sport;
		pk->k.proto = w.proto;
		if (!nat_try(pk))
			return nat_refuse(ctx, md, NAT_C_EXHAUSTED);
	} else {
		__u32 lo = rule->to_lo, n = rule->to_hi - rule->to_lo + 1;
		__u16 plo = rule->to_port_lo ?: set->port_lo,
		      phi = rule->to_port_lo ? rule->to_port_hi : set->port_hi;
		/* The original port is kept if free and in the range; an
		 * echo id has no range to respect: kept if free. */
		__u16 p0 = bpf_ntohs(w.sport);

		if (!lo)
			return nat_refuse(ctx, md, NAT_C_NO_ADDR);
		/* The same inside host always gets the same outside address
		 * (Linux's default): a hash of its address. */
		naddr = bpf_htonl(lo + (n > 1 ? (m.src * 2654435761u) % n : 0));
		pk->k.src = w.dst;
		pk->k.dst = naddr;
		pk->k.sport = pk->icmp ? w.sport : w.dport;
		pk->k.dport = w.sport;
		pk->k.proto = w.proto;
		if (!has_port) {
			if (!nat_try(pk))
				return nat_refuse(ctx, md, NAT_C_EXHAUSTED);
		} else if (!((pk->icmp || (p0 >= plo && p0 <= phi)) &&
			     nat_try(pk))) {
			if (pk->err)
				return nat_refuse(ctx, md, pk->err);
			pk->lo = plo;
			pk->n = phi >= plo ? phi - plo + 1 : 0;
			pk->start = bpf_get_prandom_u32();
			bpf_loop(NAT_TRIES, nat_pick_one, &pc, 0);
			if (!pk->done)
				return nat_refuse(ctx, md, NAT_C_EXHAUSTED);
		}
		nport = pk->k.dport;
	}
	if (pk->err)
		return nat_refuse(ctx, md, pk->err);

	if (nfct_confirm(fl, len, ct)) {
		bpf_map_delete_elem(&nat_rev, &pk->k);
		return nat_refuse(ctx, md, NAT_C_TABLE_FULL);
	}
	if (!ct->e) {
		/* Another CPU confirmed this connection first: its
		 * translation stands, ours goes. */
		struct nfct_entry *e = bpf_map_lookup_elem(&ct_table, &ct->key);

		bpf_map_delete_elem(&nat_rev, &pk->k);
		if (!e)
			return nat_refuse(ctx, md, NAT_C_RACE);
		return nat_known(ctx, md, fl, e, NULL, &w, now);
	}
	x = (struct nat_xlat *)ct->e->nf_data;
	x->addr = naddr;
	x->port = nport;
	x->type = rule->type;
	x->raddr = dnat ? w.src : w.dst;
	x->rport = dnat ? w.sport : w.dport;
	x->ready = 1;
	nat_count(dnat ? NAT_C_DNAT : NAT_C_SNAT);
	if (nat_rewrite(ctx, fl, dnat, naddr, nport))
		return nat_bad(ctx, md);
	return nfc_pass_on(ctx, md);
}

NFC_NF(nat);
