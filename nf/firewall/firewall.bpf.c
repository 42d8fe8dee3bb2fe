// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: a transparent, stateful packet filter.
 *
 * Per frame: parse L3/L4 (IPv4, IPv6 with its extension headers walked
 * within a bound); frames that are not IP, and IPv6 neighbour discovery,
 * pass. The conntrack state (when conntrack=on) picks the misc class
 * together with the direction and family; a class whose first possible
 * rule decides alone (an established flow behind `state=established
 * action=accept`) is decided there. Otherwise: six class lookups, six bit
 * vectors, their AND by summaries then words, the first bit set is the
 * rule (fw.h). No match: the default. The cost does not depend on how many
 * rules there are, only on how many words all six vectors have bits in
 * before the first common one (README, "Classifier").
 */
#include "nfchain.bpf.h"
#include "fw.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_SCTP_ 132
#define IPPROTO_UDPLITE_ 136
#define IP_OFFSET_ 0x1fff
/* IPv6 extension headers walked before giving up (then: no ports). */
#define FW_V6_EXT_MAX 6
/* How far the parse reads into the frame at most: Ethernet, a VLAN tag, an
 * IPv6 header and its walked extension headers (each at most 2 KiB, but a
 * frame longer than this has its ports read by load_bytes). */
#define FW_PULL 256

const volatile __u32 fw_default = FW_ACCEPT;
const volatile __u32 fw_conntrack = 1;

/* ---- maps ---- */

struct fw_bv_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	/* A size, not a type: the type would reach BTF only as a forward
	 * declaration, which libbpf cannot size. */
	__uint(value_size, sizeof(struct fw_bv));
};

/* Per half: the array of the rule set's bit vectors, by class (fw.h). An
 * inner map sized to the classes the set has, made by the control plane. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct fw_bv_inner);
} fw_bv SEC(".maps");

/* Address classes (fw.h, struct fw_addr_key), both halves. */
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

static __always_inline void fw_count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&fw_cnt, &c);

	if (v)
		*v += 1;
}

/* ---- parse ---- */

struct fw_pkt {
	__u8 v6;
	__u8 proto;
	__u8 has_ports;
	__u8 icmp_type;
	__u16 sport, dport; /* host order */
	__u8 src[16], dst[16];
};

/* The ports at offset `off` of the frame, if the frame has them. */
static __always_inline void fw_ports(nfc_ctx_t *ctx, __u32 off,
				     struct fw_pkt *p)
{
	__be16 pp[2];

	if (p->proto != IPPROTO_TCP_ && p->proto != IPPROTO_UDP_ &&
	    p->proto != IPPROTO_SCTP_ && p->proto != IPPROTO_UDPLITE_)
		return;
	if (nfc_load_bytes(ctx, off & 0xffff, pp, 4) < 0) {
		fw_count(FW_C_NOPORTS);
		return;
	}
	p->sport = bpf_ntohs(pp[0]);
	p->dport = bpf_ntohs(pp[1]);
	p->has_ports = 1;
}

/* 0: parsed; 1: not IP (pass); -1: malformed (drop). */
static __always_inline int fw_parse(nfc_ctx_t *ctx, struct fw_pkt *p)
{
	void *data, *end;
	struct ethhdr *eth;
	__u32 off = NFC_ETH_HLEN;
	__u16 proto;

	if (nfc_pull(ctx, FW_PULL))
		return -1;
	data = nfc_data(ctx);
	end = nfc_data_end(ctx);
	eth = data;
	if ((void *)(eth + 1) > end)
		return 1;
	proto = eth->h_proto;
	if (proto == bpf_htons(NFC_ETH_P_8021Q) ||
	    proto == bpf_htons(NFC_ETH_P_8021AD)) {
		__be16 *inner = data + NFC_ETH_HLEN + 2;

		if ((void *)(inner + 1) > end)
			return 1;
		proto = *inner;
		off = NFC_VLAN_ETH_HLEN;
	}
	if (proto == bpf_htons(NFC_ETH_P_IP)) {
		struct iphdr *ip = data + off;
		__u32 hl;

		if ((void *)(ip + 1) > end)
			return -1;
		hl = ip->ihl * 4;
		if (ip->version != 4 || hl < sizeof(*ip))
			return -1;
		p->proto = ip->protocol;
		__builtin_memcpy(p->src, &ip->saddr, 4);
		__builtin_memcpy(p->dst, &ip->daddr, 4);
		if (!(ip->frag_off & bpf_htons(IP_OFFSET_)))
			fw_ports(ctx, off + hl, p);
		if (p->proto == IPPROTO_ICMP_)
			nfc_load_bytes(ctx, (off + hl) & 0xffff, &p->icmp_type,
				       1);
		return 0;
	}
	if (proto == bpf_htons(NFC_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		__u8 nh;

		if ((void *)(ip6 + 1) > end)
			return -1;
		if (ip6->version != 6)
			return -1;
		p->v6 = 1;
		__builtin_memcpy(p->src, &ip6->saddr, 16);
		__builtin_memcpy(p->dst, &ip6->daddr, 16);
		nh = ip6->nexthdr;
		off += sizeof(*ip6);
#pragma clang loop unroll(full)
		for (int i = 0; i < FW_V6_EXT_MAX; i++) {
			__u8 h[2];
			__be16 fo;

			if (nh != 0 && nh != 43 && nh != 44 && nh != 60 &&
			    nh != 51)
				break;
			if (nfc_load_bytes(ctx, off & 0xffff, h, 2) < 0)
				return -1;
			if (nh == 44) {
				/* A fragment: a non-first one carries no
				 * ports, whatever it claims. */
				if (nfc_load_bytes(ctx, (off + 2) & 0xffff, &fo,
						   2) < 0)
					return -1;
				nh = h[0];
				off += 8;
				if (fo & bpf_htons(0xfff8)) {
					p->proto = nh;
					return 0;
				}
				continue;
			}
			/* AH counts its length in 4-byte units, the
			 * others in 8-byte units past the first 8. */
			off += nh == 51 ? (h[1] + 2) * 4 : (h[1] + 1) * 8;
			nh = h[0];
		}
		p->proto = nh;
		if (nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51)
			return 0; /* too many headers: no ports */
		fw_ports(ctx, off, p);
		if (nh == IPPROTO_ICMPV6_)
			nfc_load_bytes(ctx, off & 0xffff, &p->icmp_type, 1);
		return 0;
	}
	return 1;
}

/* ---- classify ---- */

/* Index of the lowest bit set in x (not 0): no such instruction in BPF. */
static __always_inline __u32 fw_ctz(__u64 x)
{
	__u32 n = 0;

	if (!(x & 0xffffffffULL)) {
		n += 32;
		x >>= 32;
	}
	if (!(x & 0xffff)) {
		n += 16;
		x >>= 16;
	}
	if (!(x & 0xff)) {
		n += 8;
		x >>= 8;
	}
	if (!(x & 0xf)) {
		n += 4;
		x >>= 4;
	}
	if (!(x & 0x3)) {
		n += 2;
		x >>= 2;
	}
	if (!(x & 0x1))
		n += 1;
	return n;
}

static __always_inline __u32 fw_addr_cls(void *trie, __u32 half,
					 const struct fw_pkt *p,
					 const __u8 *addr)
{
	struct fw_addr_key k = {.half = half, .fam = p->v6 ? 6 : 4};
	__u32 *c;

	k.prefixlen = FW_ADDR_HDR_BITS + (p->v6 ? 128 : 32);
	__builtin_memcpy(k.addr, addr, 16);
	c = bpf_map_lookup_elem(trie, &k);
	return c ? *c : 0xffffffff;
}

/* The rule index of the first rule matching, or -1. */
static __always_inline int fw_classify(__u32 half, const struct fw_set *s,
				       const struct fw_pkt *p, __u32 misc)
{
	struct fw_bv *b0, *b1, *b2, *b3, *b4, *b5;
	__u32 c, k, ns = s->nsums;
	void *inner;
	__u64 S = 0;
	__u32 si = 0;

	inner = bpf_map_lookup_elem(&fw_bv, &half);
	if (!inner)
		return -1;
	b0 = bpf_map_lookup_elem(inner, &misc);
	c = FW_CLS_PROTO + p->proto;
	b1 = bpf_map_lookup_elem(inner, &c);
	c = fw_addr_cls(&fw_src, half, p, p->src);
	b2 = bpf_map_lookup_elem(inner, &c);
	c = fw_addr_cls(&fw_dst, half, p, p->dst);
	b3 = bpf_map_lookup_elem(inner, &c);
	k = FW_PORT_IDX(half, 0, p->has_ports ? p->sport : FW_NOPORT);
	{
		__u32 *pc = bpf_map_lookup_elem(&fw_port, &k);

		c = pc ? *pc : 0xffffffff;
	}
	b4 = bpf_map_lookup_elem(inner, &c);
	k = FW_PORT_IDX(half, 1, p->has_ports ? p->dport : FW_NOPORT);
	{
		__u32 *pc = bpf_map_lookup_elem(&fw_port, &k);

		c = pc ? *pc : 0xffffffff;
	}
	b5 = bpf_map_lookup_elem(inner, &c);
	if (!b0 || !b1 || !b2 || !b3 || !b4 || !b5)
		return -1;
	if (ns > FW_SUMS)
		ns = FW_SUMS;
	if (!ns)
		return -1;
	S = b0->sum[0] & b1->sum[0] & b2->sum[0] & b3->sum[0] & b4->sum[0] &
	    b5->sum[0];
	/* Each turn consumes a candidate word (a bit of S) or moves to the
	 * next summary word: at most FW_WORDS + FW_SUMS turns. */
	for (int t = 0; t < FW_WORDS + FW_SUMS; t++) {
		__u32 w, b;
		__u64 W;

		if (!S) {
			si++;
			if (si >= ns)
				return -1;
			si &= FW_SUMS - 1;
			S = b0->sum[si] & b1->sum[si] & b2->sum[si] &
			    b3->sum[si] & b4->sum[si] & b5->sum[si];
			continue;
		}
		b = fw_ctz(S);
		S &= S - 1;
		w = (si * 64 + b) & (FW_WORDS - 1);
		W = b0->w[w] & b1->w[w] & b2->w[w] & b3->w[w] & b4->w[w] &
		    b5->w[w];
		if (W)
			return w * 64 + fw_ctz(W);
	}
	return -1;
}

static __always_inline int fw_verdict(nfc_ctx_t *ctx, struct nfc_meta *md,
				      __u32 action)
{
	if (action == FW_ACCEPT)
		return nfc_pass_on(ctx, md);
	if (action == FW_REJECT) {
		fw_count(FW_C_REJECT);
		return nfc_to_slow_path(ctx, md, FW_R_REJECT);
	}
	return nfc_drop(ctx, md, FW_R_RULE);
}

static __always_inline int fw_filter(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	struct fw_pkt p = {};
	struct fw_set *live, *s;
	__u32 k = FW_SET_LIVE, half, misc, state = FW_ST_NEW, dir;
	struct fw_act *act;
	struct fw_hit *h;
	int r, rule;

	r = fw_parse(ctx, &p);
	if (r > 0) {
		fw_count(FW_C_NOT_IP);
		return nfc_pass_on(ctx, md);
	}
	if (r < 0) {
		fw_count(FW_C_BAD);
		return nfc_drop(ctx, md, FW_R_BAD);
	}
	/* Neighbour discovery (router and neighbour solicitations and
	 * advertisements, redirects) passes any policy: IPv6 stops working
	 * without it, as ARP for IPv4, which is not IP and passes too. */
	if (p.v6 && p.proto == IPPROTO_ICMPV6_ && p.icmp_type >= 133 &&
	    p.icmp_type <= 137) {
		fw_count(FW_C_ND);
		return nfc_pass_on(ctx, md);
	}
	dir = md->direction == NFC_DIR_INGRESS ? FW_DIR_IN : FW_DIR_OUT;
	(void)fw_conntrack;
	misc = FW_MISC(dir, p.v6, state);

	live = bpf_map_lookup_elem(&fw_set, &k);
	if (!live)
		return nfc_drop(ctx, md, FW_R_RULE);
	half = live->live & 1;
	k = FW_SET_HALF(half);
	s = bpf_map_lookup_elem(&fw_set, &k);
	if (!s)
		return nfc_drop(ctx, md, FW_R_RULE);
	rule = s->shortcut[misc & (FW_NMISC - 1)];
	if (rule == FW_SC_NONE)
		rule = fw_classify(half, s, &p, misc);
	else
		fw_count(FW_C_SHORTCUT);
	/* A set never written has rule index 0 in its shortcuts: the
	 * bound on nrules makes that the default too. */
	if (rule < 0 || (__u32)rule >= s->nrules || rule >= FW_MAX_RULES) {
		if (fw_default == FW_ACCEPT) {
			fw_count(FW_C_DEF_ACCEPT);
			return nfc_pass_on(ctx, md);
		}
		fw_count(FW_C_DEF_DROP);
		return nfc_drop(ctx, md, FW_R_RULE);
	}
	k = FW_ACT_IDX(half, rule);
	h = bpf_map_lookup_elem(&fw_hits, &k);
	if (h) {
		h->packets++;
		h->bytes += nfc_pkt_len(ctx);
	}
	act = bpf_map_lookup_elem(&fw_act, &k);
	if (!act)
		return nfc_drop(ctx, md, FW_R_RULE);
	if (act->action != FW_REJECT)
		fw_count(act->action == FW_ACCEPT ? FW_C_ACCEPT : FW_C_DROP);
	return fw_verdict(ctx, md, act->action);
}

NFC_NF(fw_filter);
