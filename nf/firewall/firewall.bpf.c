// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: a transparent, stateful packet filter.
 *
 * Per frame: parse L3/L4 (IPv4, IPv6 with its extension headers walked
 * within a bound); frames that are not IP, and IPv6 neighbour discovery,
 * pass. The conntrack state (when conntrack=on) picks the misc class
 * together with the direction and family; a class whose first possible
 * rule decides alone (an established flow behind `state=established
 * action=accept`) is decided there. An established flow whose verdict
 * its conntrack flow-cache slot holds skips all that (fw_cached).
 * Otherwise: six class lookups, six bit vectors, their AND by summaries
 * then words, the first bit set is the rule (fw.h). No match: the default. The
 * cost does not depend on how many rules there are, only on how many words all
 * six vectors have bits in before the first common one (README, "Classifier").
 */
/* Its load is the verifier's: see nfchain.bpf.h. */
#define NFC_ENTRY_STACK_META
#include "nfchain.bpf.h"
/* Established flows answered from a per-CPU cache (bpf/ct.h). */
#define NFCT_FLOW_CACHE
#include "ct.h"
#include "fw.h"

const volatile __u32 fw_default = FW_ACCEPT;
/* Read at run time: `set conntrack=` is a map write, not a new program.
 * Off, no packet looks at or adds to the table (state is new for all). */
NFC_CFG_VAR(fw_conntrack);
/* verdict_cache: fw_vc answers a stateless flow's next packets. */
NFC_CFG_VAR(fw_vcache);

/* ---- maps ---- */

struct fw_bv_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	/* Mmapable: the control plane copies a set's vectors straight in
	 * (tens of MB at 10,000 rules), without a syscall per entry. */
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	/* A size, not a type: the type would reach BTF only as a forward
	 * declaration, which libbpf cannot size. */
	__uint(value_size, sizeof(struct fw_pk));
};

/* Per half: the array of the rule set's bit vectors, by class (fw.h). An
 * inner map sized to the classes the set has, made by the control plane. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct fw_bv_inner);
} fw_bv SEC(".maps");

struct fw_at_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct fw_at_chunk));
};

/* Per half: the address classes (fw.h), made by the control plane. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct fw_at_inner);
} fw_at SEC(".maps");

/* Address classes (fw.h, struct fw_addr_key), both halves: the IPv6
 * prefixes of a field too many for fw_at. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * (FW_MAX_RULES + 1));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_addr_key);
	__type(value, __u32);
} fw_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * (FW_MAX_RULES + 1));
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_addr_key);
	__type(value, __u32);
} fw_dst SEC(".maps");

/* Port classes by FW_PORT_IDX. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_PORT_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} fw_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct fw_set);
} fw_set SEC(".maps");

/* Rule actions by FW_ACT_IDX. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * FW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fw_act);
} fw_act SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * FW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fw_hit);
} fw_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_NCOUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} fw_cnt SEC(".maps");

/* The control plane's record of the rules, by number (never read here):
 * declared in the object so that it is created and pinned with the NF. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FW_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct fw_rule);
} fw_rules SEC(".maps");

/* The stateless verdict cache (conntrack=off): per CPU, four ways a set,
 * the set picked by the tracker's slot hash of the packet's own tuple. A
 * stateless verdict is a function of what fw_pkt_of reads (the tuple,
 * whether it has ports) and the direction only, so a slot holding the
 * tuple and the FW_FC word of the set that decided it answers the flow's
 * next packets exactly: no class lookups, no vectors. A rule-set switch
 * (gen) or the other direction misses; fragments and REJECT never enter
 * it (their counters and the RST are the walk's). With conntrack on,
 * ct_fc plays this part.
 *
 * Four ways: direct-mapped, 1,024 flows in 4,096 slots left a fifth of
 * them sharing a slot with another, evicting each other on every packet
 * (each miss a full classification); two ways a set still left ~10 %
 * missing (three flows taking turns in a set of two miss every time).
 * Four ways of the same 4,096 slots leave the 1,024 flows' ~1-2 %. The
 * sets lie in FW_VC_PARTS per-CPU elements of FW_VC_SETS sets each, not
 * one element a slot: a lookup reads its element's address from a table
 * of 8 (one cache line, always warm) instead of one of 4,096 (32 KB of
 * pointers, a miss of its own). */
#define FW_VC_PARTS 8
#define FW_VC_SETS 128 /* a part: 128 sets of 4 × 56 bytes, 28 KB (<= 32) */
#define FW_VC_WAYS 4
struct fw_vc_slot {
	struct nfc_tuple t;
	__u64 nf;    /* FW_FC(...); 0: empty */
	__u32 ports; /* the tuple's ports are ports (NFC_FLOW_F_PORTS) */
	__u32 next;  /* way 0's: the way the set's next miss fills */
};
struct fw_vc_part {
	struct fw_vc_slot w[FW_VC_SETS][FW_VC_WAYS];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_VC_PARTS);
	__type(key, __u32);
	__type(value, struct fw_vc_part);
} fw_vc SEC(".maps");

static __always_inline int fw_vc_is(const struct fw_vc_slot *w,
				    const struct nfc_tuple *t, __u32 ports,
				    __u64 key)
{
	return w->ports == ports && (w->nf & FW_FC_KEY_MASK) == key &&
	       nfct_fc_tuple_eq(&w->t, t);
}

/* The slot answering the tuple, or NULL with *fill the one a miss fills
 * (the ways in turn; NULL without the map). */
static __always_inline struct fw_vc_slot *fw_vc_find(const struct nfc_tuple *t,
						     __u32 ports, __u64 key,
						     struct fw_vc_slot **fill)
{
	__u32 h = nfct_fc_hash(t), p = (h / FW_VC_SETS) & (FW_VC_PARTS - 1);
	struct fw_vc_part *v = bpf_map_lookup_elem(&fw_vc, &p);
	struct fw_vc_slot *w;
	__u32 n;

	*fill = NULL;
	if (!v)
		return NULL;
	w = v->w[h & (FW_VC_SETS - 1)];
	if (fw_vc_is(&w[0], t, ports, key))
		return &w[0];
	if (fw_vc_is(&w[1], t, ports, key))
		return &w[1];
	if (fw_vc_is(&w[2], t, ports, key))
		return &w[2];
	if (fw_vc_is(&w[3], t, ports, key))
		return &w[3];
	n = w[0].next & (FW_VC_WAYS - 1);
	w[0].next = n + 1;
	*fill = &w[n];
	return NULL;
}

static __always_inline void fw_count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&fw_cnt, &c);

	if (v)
		*v += 1;
}

/* ---- parse ---- */

/* What classification reads of a packet (from the shared parser's flow). */
struct fw_pkt {
	__u8 v6;
	__u8 proto;
	__u8 has_ports;
	__u8 pad;
	__u16 sport, dport;    /* host order */
	const __u8 *src, *dst; /* 16 bytes (IPv4: 4, at the start) */
};

static __always_inline void fw_pkt_of(const struct nfc_flow *fl,
				      struct fw_pkt *p)
{
	p->v6 = fl->t.family == NFC_FAMILY_V6;
	p->proto = fl->t.proto;
	/* Ports only where a port rule can ask for them; ICMP echo ids,
	 * which the parser keeps in the port fields, are no ports. A later
	 * fragment has them only if conntrack lent it its first's. */
	p->has_ports =
		(fl->flags & NFC_FLOW_F_PORTS) &&
		(p->proto == NFC_IPPROTO_TCP || p->proto == NFC_IPPROTO_UDP);
	p->sport = bpf_ntohs(fl->t.sport);
	p->dport = bpf_ntohs(fl->t.dport);
	/* IPv4 is held mapped (::ffff:a.b.c.d): its 4 bytes are the last. */
	p->src = (const __u8 *)fl->t.src + (p->v6 ? 0 : 12);
	p->dst = (const __u8 *)fl->t.dst + (p->v6 ? 0 : 12);
}

/* ---- classify ---- */

/* Index of the lowest bit set in x (not 0), without a branch (BPF has no
 * such instruction, and a branch per bit would multiply the verifier's
 * paths through the word loop by 64): the lowest bit times a De Bruijn
 * sequence puts a distinct 6-bit pattern in the top bits. */
static const __u8 fw_debruijn[64] = {
	0,  1,	48, 2,	57, 49, 28, 3,	61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,	13, 8,	7,  6,
};

static __always_inline __u32 fw_ctz(__u64 x)
{
	return fw_debruijn[((x & -x) * 0x03f79d71b4cb0a89ULL) >> 58];
}

/* An address's class in field f (n: its bytes): a chunk lookup per byte
 * from the second on, while the entry points to a further chunk; IPv4
 * takes one to three, an IPv6 /64 rule up to seven. */
static __always_inline __u32 fw_at_cls(void *at, __u32 v6, __u32 f,
				       const __u8 *a, const int n)
{
	struct fw_at_chunk *c;
	__u32 k = FW_AT_TOP(v6, f, a[0]), v;

	c = bpf_map_lookup_elem(at, &k);
	if (!c)
		return 0xffffffff;
	v = c->e[a[1]];
	/* Written out: clang refuses to unroll the loop with its exits, and
	 * the verifier would walk a plain one turn by turn anyway. */
#define FW_AT_STEP(i)                                    \
	do {                                             \
		if ((i) < n) {                           \
			if (!(v & FW_AT_PTR))            \
				return v;                \
			k = v & ~FW_AT_PTR;              \
			c = bpf_map_lookup_elem(at, &k); \
			if (!c)                          \
				return 0xffffffff;       \
			v = c->e[a[i]];                  \
		}                                        \
	} while (0)
	FW_AT_STEP(2);
	FW_AT_STEP(3);
	FW_AT_STEP(4);
	FW_AT_STEP(5);
	FW_AT_STEP(6);
	FW_AT_STEP(7);
	FW_AT_STEP(8);
	FW_AT_STEP(9);
	FW_AT_STEP(10);
	FW_AT_STEP(11);
	FW_AT_STEP(12);
	FW_AT_STEP(13);
	FW_AT_STEP(14);
	FW_AT_STEP(15);
#undef FW_AT_STEP
	return v;
}

/* The locators of a packet's six classes. */
struct fw_cls {
	__u32 c[6];
	__u32 half;
	__u32 nsums;
};

/* Per CPU, what would be on the stacks of fw_cls_g and fw_match_g, each
 * of which must fit beside fw_filter's in the verifier's 512 bytes: the
 * LPM key, and the classes the one finds for the other. */
struct fw_scr {
	struct fw_addr_key k;
	struct fw_cls in;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_scr);
} fw_scratch SEC(".maps");

/* Only IPv6 comes here (IPv4 is all in fw_at). */
static __always_inline __u32 fw_addr_cls(void *trie, __u32 half,
					 const __u8 *addr)
{
	__u32 zero = 0, *c;
	struct fw_scr *scr = bpf_map_lookup_elem(&fw_scratch, &zero);
	struct fw_addr_key *k;

	if (!scr)
		return 0xffffffff;
	k = &scr->k;
	k->prefixlen = FW_ADDR_HDR_BITS + 128;
	k->half = half;
	k->fam = 6;
	__builtin_memcpy(k->addr, addr, 16);
	c = bpf_map_lookup_elem(trie, k);
	return c ? *c : 0xffffffff;
}

/* The walk over the candidate words, one bpf_loop turn each. Kept
 * small: it is on the stack of fw_classify_g, which adds to
 * fw_filter's within the verifier's 512 bytes. */
struct fw_walk {
	__u64 *p[6]; /* each class's vector: its entry (fw.h, FW_LOC) */
	__u64 S;     /* candidate words of summary word si, not yet looked at */
	__u16 o[6];  /* and its offset in the entry */
	__s16 res;   /* the rule index found (< FW_MAX_RULES), -1 */
	__u8 si;     /* summary word (< FW_SUMS) */
	__u8 ns;     /* summary words in use */
};

/* Word i of vector k (masked: the verifier needs the bound). */
static __always_inline __u64 fw_rd(const struct fw_walk *wk, int k, __u32 i)
{
	i += wk->o[k];
	asm volatile("%[i] &= %[m]" : [i] "+r"(i) : [m] "i"(FW_PK_WORDS - 1));
	return wk->p[k][i];
}

/* One turn consumes a candidate word (a bit of S) or moves to the next
 * summary word. A bpf_loop callback: the verifier checks it once, where a
 * plain loop of FW_WORDS turns had it walk every turn's paths (past its
 * million instructions). */
static long fw_step(__u32 i, void *ctx)
{
	struct fw_walk *wk = ctx;
	__u64 W = ~0ULL, S = ~0ULL;
	__u32 w;

	(void)i;
	if (!wk->S) {
		wk->si++;
		if (wk->si >= wk->ns || wk->si >= FW_SUMS)
			return 1;
#pragma unroll
		for (int k = 0; k < 6; k++)
			S &= fw_rd(wk, k, wk->si);
		wk->S = S;
		return 0;
	}
	w = wk->si * 64 + fw_ctz(wk->S);
	wk->S &= wk->S - 1;
#pragma unroll
	for (int k = 0; k < 6; k++)
		W &= fw_rd(wk, k, wk->ns + w);
	if (!W)
		return 0;
	wk->res = w * 64 + fw_ctz(W);
	return 1;
}

/* The rule index of the first rule all six classes hold, or -1. */
static __always_inline int fw_match(const struct fw_cls *in)
{
	struct fw_walk wk = {.res = -1};
	__u32 e = in->half; /* one key slot for every lookup: stack */
	__u64 S = ~0ULL;
	void *inner;

	inner = bpf_map_lookup_elem(&fw_bv, &e);
	if (!inner)
		return -1;
#pragma unroll
	for (int k = 0; k < 6; k++) {
		e = in->c[k] >> FW_PK_SHIFT;
		wk.p[k] = bpf_map_lookup_elem(inner, &e);
		if (!wk.p[k])
			return -1;
		wk.o[k] = in->c[k] & (FW_PK_WORDS - 1);
		/* Summary word 0 at once: after the loop, it kept six more
		 * values live and spilled them past the stack fw_filter
		 * leaves. */
		S &= fw_rd(&wk, k, 0);
	}
	wk.ns = in->nsums;
	if (!wk.ns)
		return -1;
	wk.S = S;
	bpf_loop(FW_WORDS + FW_SUMS, fw_step, &wk, 0);
	return wk.res;
}

static __always_inline __u32 fw_port_cls(__u32 half, __u32 field,
					 const struct fw_pkt *p)
{
	__u32 k = FW_PORT_IDX(half, field,
			      !p->has_ports ? FW_NOPORT
			      : field	    ? p->dport
					    : p->sport);
	__u32 *c = bpf_map_lookup_elem(&fw_port, &k);

	return c ? *c : 0xffffffff;
}

/* The rule index of the first rule matching flow fl, or -1. */
/* The locators of flow fl's six classes into in (fw_match's). 0, or -1
 * where a table is missing. */
static __always_inline int fw_classify(const struct nfc_flow *fl, __u32 half,
				       __u32 misc, struct fw_cls *in)
{
	struct fw_pkt pk, *p = &pk;
	void *at;

	fw_pkt_of(fl, p);
	/* Here, in a function verified once: in fw_filter this branch took
	 * the TC program past the verifier's 1M instructions. */
	if (!p->has_ports &&
	    (p->proto == NFC_IPPROTO_TCP || p->proto == NFC_IPPROTO_UDP))
		fw_count(FW_C_NOPORTS);
	in->half = half;
	in->c[0] = FW_LOC(misc, 0);
	in->c[1] = FW_LOC(FW_CLS_PROTO + p->proto, 0);
	at = bpf_map_lookup_elem(&fw_at, &half);
	if (!at)
		return -1;
	if (p->v6) {
		in->c[2] = fw_at_cls(at, 1, 0, p->src, 16);
		if (in->c[2] == FW_AT_LPM)
			in->c[2] = fw_addr_cls(&fw_src, half, p->src);
		in->c[3] = fw_at_cls(at, 1, 1, p->dst, 16);
		if (in->c[3] == FW_AT_LPM)
			in->c[3] = fw_addr_cls(&fw_dst, half, p->dst);
	} else {
		in->c[2] = fw_at_cls(at, 0, 0, p->src, 4);
		in->c[3] = fw_at_cls(at, 0, 1, p->dst, 4);
	}
	in->c[4] = fw_port_cls(half, 0, p);
	in->c[5] = fw_port_cls(half, 1, p);
	return 0;
}

/* The classification as two global functions: the verifier checks each
 * once, on its own, with its arguments unknown. Inlined, it was walked
 * again for every path of fw_filter reaching it (conntrack states,
 * families, shortcuts): 966,779 of the verifier's 1,000,000 instructions
 * for the whole program, now 17x fewer. Two, not one: each one's stack
 * must fit beside fw_filter's in 512 bytes; the classes pass between
 * them in fw_scratch. Two BPF-to-BPF calls a packet. */
__noinline int fw_cls_g(const struct nfc_flow *fl, __u32 half, __u32 misc)
{
	__u32 zero = 0;
	struct fw_scr *scr = bpf_map_lookup_elem(&fw_scratch, &zero);

	if (!fl || !scr)
		return -1;
	return fw_classify(fl, half, misc, &scr->in);
}

/* The rule index of the first rule matching the classes fw_cls_g found,
 * or -1. */
__noinline int fw_match_g(__u32 nsums)
{
	__u32 zero = 0;
	struct fw_scr *scr = bpf_map_lookup_elem(&fw_scratch, &zero);

	if (!scr || nsums > FW_SUMS)
		return -1;
	scr->in.nsums = nsums;
	return fw_match(&scr->in);
}

/* The in-kernel RSTs' token bucket, one a CPU. */
struct fw_rl {
	__u64 tokens; /* in units of 1/FW_RST_RATE s, as ns */
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_rl);
} fw_rst_rl SEC(".maps");

/* One RST more this second on this CPU? A bucket of FW_RST_RATE tokens
 * refilled at FW_RST_RATE a second, kept in nanoseconds of credit. */
static __always_inline int fw_rst_allowed(void)
{
	const __u64 cost = 1000000000ULL / FW_RST_RATE, cap = 1000000000ULL;
	__u64 now = bpf_ktime_get_coarse_ns(), t;
	__u32 zero = 0;
	struct fw_rl *b = bpf_map_lookup_elem(&fw_rst_rl, &zero);

	if (!b)
		return 0;
	t = b->tokens + (now > b->last_ns ? now - b->last_ns : 0);
	if (t > cap)
		t = cap;
	b->last_ns = now;
	if (t < cost) {
		b->tokens = t;
		return 0;
	}
	b->tokens = t - cost;
	return 1;
}

static __always_inline __u16 fw_csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* The RST answering a rejected TCP segment, built in place over it and
 * sent back out of the port it came in on (the answer of fw_reject.c's
 * tcp_rst, without the slow path): addresses, ports and MACs swapped,
 * RFC 793's sequence numbers, the frame cut after the TCP header.
 * Returns -1 where it cannot (IPv4 options, IPv6 extension headers, a
 * RST, a fragment, a multicast or unspecified source, a frame or packet
 * sent to a group): the slow path answers those it may. */
static __always_inline int fw_rst(nfc_ctx_t *ctx, struct nfc_meta *md,
				  const struct nfc_flow *fl)
{
	void *data = nfc_data(ctx), *data_end = nfc_data_end(ctx);
	struct ethhdr *eth = data;
	__u32 l3 = fl->l3_off, l4 = fl->l4_off, hl, seq, ack, plen;
	__u8 *th, *ip, mac[6], fl8;
	__u64 sum;
	int v6 = fl->t.family == NFC_FAMILY_V6;

	if (fl->t.proto != NFC_IPPROTO_TCP || fl->frag != NFC_FRAG_NONE ||
	    (fl->tcp_flags & NFC_TCP_RST))
		return -1;
	hl = v6 ? 40 : 20;
	if (l4 != l3 + hl || l3 > 22)
		return -1;
	/* A frame to a group MAC (broadcast included) gets no answer. */
	if ((void *)(eth + 1) > data_end || (eth->h_dest[0] & 1))
		return -1;
	ip = NFC_FLOW_PTR(data, data_end, l3, 40);
	th = NFC_FLOW_PTR(data, data_end, l4, 20);
	if (!ip || !th)
		return -1;
	if (v6) {
		if (ip[8] == 0xff || ip[24] == 0xff ||
		    !(fl->t.src[0] | fl->t.src[1] | fl->t.src[2] |
		      fl->t.src[3]))
			return -1;
	} else {
		__u8 a0 = ip[12];

		if (a0 == 0 || a0 >= 224 || ip[16] >= 224)
			return -1;
	}
	if (!fw_rst_allowed()) {
		fw_count(FW_C_RST_LIMITED);
		return nfc_drop(ctx, md, FW_R_RULE);
	}
	fl8 = th[13];
	plen = fl->ip_len > hl + (th[12] >> 4) * 4
		       ? fl->ip_len - hl - (th[12] >> 4) * 4
		       : 0;
	seq = bpf_ntohl(*(__be32 *)(th + 4));
	ack = *(__u32 *)(th + 8);
	/* Ports swapped; doff 5, no options, window 0. */
	{
		__u16 sp = *(__u16 *)th;

		*(__u16 *)th = *(__u16 *)(th + 2);
		*(__u16 *)(th + 2) = sp;
	}
	if (fl8 & NFC_TCP_ACK) {
		*(__u32 *)(th + 4) = ack;
		*(__u32 *)(th + 8) = 0;
		th[13] = NFC_TCP_RST;
	} else {
		*(__u32 *)(th + 4) = 0;
		*(__be32 *)(th + 8) =
			bpf_htonl(seq + plen + !!(fl8 & NFC_TCP_SYN) +
				  !!(fl8 & NFC_TCP_FIN));
		th[13] = NFC_TCP_RST | NFC_TCP_ACK;
	}
	th[12] = 5 << 4;
	*(__u16 *)(th + 14) = 0; /* window */
	*(__u16 *)(th + 16) = 0; /* checksum, below */
	*(__u16 *)(th + 18) = 0; /* urgent */
	/* The pseudo-header: the addresses (swapped, the sum is the same),
	 * the protocol and the TCP length (20). */
	if (v6) {
		__u32 a[4];

		__builtin_memcpy(a, ip + 8, 16);
		__builtin_memcpy(ip + 8, ip + 24, 16);
		__builtin_memcpy(ip + 24, a, 16);
		*(__be16 *)(ip + 4) = bpf_htons(20);
		ip[6] = NFC_IPPROTO_TCP;
		ip[7] = 64;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(ip + 8), 32, 0);
	} else {
		__u32 a = *(__u32 *)(ip + 12);

		*(__u32 *)(ip + 12) = *(__u32 *)(ip + 16);
		*(__u32 *)(ip + 16) = a;
		ip[1] = 0;				 /* TOS */
		*(__be16 *)(ip + 2) = bpf_htons(40);	 /* total length */
		*(__u16 *)(ip + 4) = 0;			 /* id */
		*(__be16 *)(ip + 6) = bpf_htons(0x4000); /* DF */
		ip[8] = 64;
		*(__u16 *)(ip + 10) = 0;
		*(__u16 *)(ip + 10) = fw_csum_fold(
			bpf_csum_diff(NULL, 0, (__be32 *)ip, 20, 0));
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(ip + 12), 8, 0);
	}
	/* proto and length words: one 16-bit sum however they are laid */
	sum += bpf_htonl(NFC_IPPROTO_TCP + 20);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)th, 20, (__u32)sum);
	*(__u16 *)(th + 16) = fw_csum_fold(sum);
	__builtin_memcpy(mac, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, mac, 6);
#ifdef NFC_HOOK_XDP
	if (bpf_xdp_adjust_tail(ctx, (int)(l4 + 20) - (int)(data_end - data)))
		return nfc_drop(ctx, md, FW_R_RULE);
#else
	if (bpf_skb_change_tail(ctx, l4 + 20, 0))
		return nfc_drop(ctx, md, FW_R_RULE);
#endif
	fw_count(FW_C_RST_KERNEL);
	return nfc_output(ctx, md, md->in_port);
}

static __always_inline int fw_verdict(nfc_ctx_t *ctx, struct nfc_meta *md,
				      __u32 action, const struct nfc_flow *fl)
{
	int r;

	if (action == FW_ACCEPT)
		return nfc_pass_on(ctx, md);
	if (action == FW_REJECT) {
		fw_count(FW_C_REJECT);
		r = fw_rst(ctx, md, fl);
		if (r >= 0)
			return r;
		return nfc_to_slow_path(ctx, md, FW_R_REJECT);
	}
	return nfc_drop(ctx, md, FW_R_RULE);
}

/* A packet of an established flow whose verdict its flow-cache slot holds
 * (FW_FC): counted as the walk would have counted it. */
static __always_inline int fw_cached(nfc_ctx_t *ctx, struct nfc_meta *md,
				     __u64 c, __u32 len,
				     const struct nfc_flow *fl)
{
	__u32 rule = c & 0xffff, action = (c >> 16) & 0xff, k;
	struct fw_hit *h;

	if (c & (1u << 28))
		fw_count(FW_C_SHORTCUT);
	if (rule == FW_FC_DEFAULT) {
		/* The default of the program that reads the word: `set
		 * default=` loads a new program over the same maps and slots.
		 */
		action = fw_default;
		fw_count(action == FW_ACCEPT ? FW_C_DEF_ACCEPT : FW_C_DEF_DROP);
	} else {
		k = FW_ACT_IDX((c >> 30) & 1, rule & (FW_MAX_RULES - 1));
		h = bpf_map_lookup_elem(&fw_hits, &k);
		if (h) {
			h->packets++;
			h->bytes += len;
		}
		fw_count(action == FW_ACCEPT ? FW_C_ACCEPT : FW_C_DROP);
	}
	return fw_verdict(ctx, md, action, fl);
}

static __always_inline int fw_filter(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	struct nfc_flow fl;
	struct nfct_res ct = {};
	struct fw_set *live, *s;
	__u32 k = FW_SET_LIVE, half, misc, state = FW_ST_NEW, dir;
	/* Read once: the lookup and the confirm of one packet agree. */
	__u32 track = fw_conntrack, len;
	struct fw_act *act;
	struct fw_hit *h;
	struct fw_vc_slot *vc = NULL, *hit;
	__u32 ports = 0;
	__u64 fcw;
	int r, rule, action, sc;

	if (nfc_pull(ctx, NFC_FLOW_PULL))
		return nfc_drop(ctx, md, FW_R_BAD);
#ifdef NFC_HOOK_XDP
	/* Through the contract's accessors: a plain nfc_pkt_len() here let
	 * the compiler merge its ctx loads into one the verifier refuses. */
	len = nfc_data_end(ctx) - nfc_data(ctx);
#else
	len = ctx->len;
#endif
	r = nfc_flow_parse(nfc_data(ctx), nfc_data_end(ctx), &fl);
	if (r == NFC_FLOW_NOT_IP) {
		fw_count(FW_C_NOT_IP);
		return nfc_pass_on(ctx, md);
	}
	if (r != NFC_FLOW_OK) {
		fw_count(FW_C_BAD);
		return nfc_drop(ctx, md, FW_R_BAD);
	}
	/* Neighbour discovery (router and neighbour solicitations and
	 * advertisements, redirects) passes any policy: IPv6 stops working
	 * without it, as IPv4 without ARP (not IP: it passes too). */
	if (fl.t.family == NFC_FAMILY_V6 && fl.t.proto == NFC_IPPROTO_ICMPV6 &&
	    fl.icmp_type >= 133 && fl.icmp_type <= 137) {
		fw_count(FW_C_ND);
		return nfc_pass_on(ctx, md);
	}
	dir = md->direction == NFC_DIR_INGRESS ? FW_DIR_IN : FW_DIR_OUT;
	live = bpf_map_lookup_elem(&fw_set, &k);
	if (!live)
		return nfc_drop(ctx, md, FW_R_RULE);
	if (track) {
		nfct_lookup_cached(&fl, len, &ct);
		if (ct.cached && ct.fc &&
		    (ct.fc->nf & FW_FC_KEY_MASK) == FW_FC_KEY(live->gen, dir))
			return fw_cached(ctx, md, ct.fc->nf, len, &fl);
		state = ct.state & NFCT_ESTABLISHED ? FW_ST_ESTABLISHED
			: ct.state & NFCT_RELATED   ? FW_ST_RELATED
			: ct.state & NFCT_INVALID   ? FW_ST_INVALID
						    : FW_ST_NEW;
	} else if (fw_vcache && fl.frag == NFC_FRAG_NONE) {
		ports = !!(fl.flags & NFC_FLOW_F_PORTS);
		hit = fw_vc_find(&fl.t, ports, FW_FC_KEY(live->gen, dir), &vc);
		if (hit)
			return fw_cached(ctx, md, hit->nf, len, &fl);
	}
	misc = FW_MISC(dir, fl.t.family == NFC_FAMILY_V6, state);
	half = live->live & 1;
	k = FW_SET_HALF(half);
	s = bpf_map_lookup_elem(&fw_set, &k);
	if (!s)
		return nfc_drop(ctx, md, FW_R_RULE);
	rule = s->shortcut[misc & (FW_NMISC - 1)];
	sc = rule != FW_SC_NONE;
	if (!sc) {
		fw_count(FW_C_CLASSIFIED);
		rule = fw_cls_g(&fl, half, misc) ? -1 : fw_match_g(s->nsums);
	} else
		fw_count(FW_C_SHORTCUT);
	/* A set never written has rule index 0 in its shortcuts: the
	 * bound on nrules makes that the default too. */
	if (rule < 0 || (__u32)rule >= s->nrules || rule >= FW_MAX_RULES) {
		action = fw_default;
		fw_count(action == FW_ACCEPT ? FW_C_DEF_ACCEPT : FW_C_DEF_DROP);
	} else {
		k = FW_ACT_IDX(half, rule);
		h = bpf_map_lookup_elem(&fw_hits, &k);
		if (h) {
			h->packets++;
			h->bytes += len;
		}
		act = bpf_map_lookup_elem(&fw_act, &k);
		if (!act)
			return nfc_drop(ctx, md, FW_R_RULE);
		action = act->action;
		if (action != FW_REJECT)
			fw_count(action == FW_ACCEPT ? FW_C_ACCEPT : FW_C_DROP);
	}
	/* An accepted first packet opens its connection: the replies and
	 * the rest of it are then established. A full table lets it through
	 * untracked (counted by the tracker as refused). */
	if (track && action == FW_ACCEPT && (ct.state & NFCT_NEW))
		nfct_confirm(&fl, len, &ct);
	/* A flow in a cache (the tracker's, established; or fw_vc,
	 * stateless): its next packets take the verdict from its slot
	 * (fw_cached). The half's gen: the live entry's may be read torn
	 * against its half, the half's cannot. */
	fcw = FW_FC(s->gen, half, dir, sc, action,
		    rule < 0 || (__u32)rule >= s->nrules ? FW_FC_DEFAULT
							 : rule);
	if (ct.fc && action != FW_REJECT)
		ct.fc->nf = fcw;
	if (vc && action != FW_REJECT) {
		__builtin_memcpy(&vc->t, &fl.t, sizeof(vc->t));
		vc->ports = ports;
		vc->nf = fcw;
	}
	return fw_verdict(ctx, md, action, &fl);
}

NFC_NF(fw_filter);
