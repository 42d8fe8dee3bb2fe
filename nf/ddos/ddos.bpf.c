// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ddos: a transparent NF that drops attack traffic before anything else
 * spends a cycle on it. Checks run cheapest first (NF-NOTES): allowlist
 * (passes everything), blocklist (a hash probed once per prefix length in
 * use, in the copy dd_state says is live),
 * per-source rate limit (GCRA token bucket), then SYN-flood defence: a
 * destination that receives more than syn_rate SYNs a second is answered
 * with SYN cookies from here, and only ACKs carrying a valid cookie (or
 * packets of flows already let through) reach it. Only the ingress side
 * of an attachment filters; its egress side passes everything.
 */
/* nfc_direct runs dd_front first (see there). */
#define NFC_DIRECT_FRONT(ctx, port)           \
	do {                                  \
		int v_ = dd_front(ctx, port); \
		if (v_ >= 0)                  \
			return v_;            \
	} while (0)
#include "nfchain.bpf.h"
#include "ddos.h"

#define ETH_P_IP_BE bpf_htons(0x0800)
#define ETH_P_IPV6_BE bpf_htons(0x86DD)
#define ETH_P_8021Q_BE bpf_htons(0x8100)
#define ETH_P_8021AD_BE bpf_htons(0x88A8)
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_FIN 0x01

/* Read at run time: a new value of syn_cookies or syn_rate is a map
 * write, not a new program. */
NFC_CFG_VAR(dd_syn_cookies);
NFC_CFG_VAR(dd_syn_rate);
/* The MSS the SYN-ACKs advertise (the server's). */
const volatile __u32 dd_mss4 = 1460;
const volatile __u32 dd_mss6 = 1440;

#define LPM(name, kt, n)                              \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);  \
		__uint(max_entries, n);               \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, struct kt);               \
		__type(value, __u32);                 \
	} name SEC(".maps")

/* Two copies each of the allowlist and of the limits: a whole new set is
 * built in the copy packets do not read and switched in by one write of
 * dd_state.flags (DD_ST_ALLOW_1, DD_ST_LIM_1). The first copy keeps the
 * names of an nfchain with one, so that its pins are taken over. */
LPM(dd_allow4, dd_lpm4, DD_MAX_ALLOW);
LPM(dd_allow6, dd_lpm6, DD_MAX_ALLOW);
LPM(dd_allow4_1, dd_lpm4, DD_MAX_ALLOW);
LPM(dd_allow6_1, dd_lpm6, DD_MAX_ALLOW);

/* The blocklist: {length, prefix} hashes, not LPM tries, so that a
 * lookup costs one probe per length in use whatever the number of
 * prefixes (a trie of a million /24s walked ~20 nodes: 129 ns against
 * 23 for a source outside them; README.md, "Lookup"). */
#define BLOCK(name, kt)                               \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_HASH);      \
		__uint(max_entries, DD_MAX_BLOCK);    \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, struct kt);               \
		__type(value, __u32);                 \
	} name SEC(".maps")

/* The blocklist of an nfchain before the hashes (DD_OLD_TRIE): read
 * while DD_ST_HASHED is clear, so that packets meet the list a process
 * taking such a dd0 over is still moving into the hashes. Empty after
 * (no preallocation: nothing allocated). */
LPM(dd_block4_0, dd_lpm4, DD_MAX_PREFIXES);
LPM(dd_block4_1, dd_lpm4, DD_MAX_PREFIXES);
LPM(dd_block6_0, dd_lpm6, DD_MAX_PREFIXES);
LPM(dd_block6_1, dd_lpm6, DD_MAX_PREFIXES);

BLOCK(dd_bh4_0, dd_lpm4);
BLOCK(dd_bh4_1, dd_lpm4);
BLOCK(dd_bh6_0, dd_lpm6);
BLOCK(dd_bh6_1, dd_lpm6);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct dd_lens);
} dd_lens SEC(".maps");

/* Mmapable: the control plane sets and clears bits in place. */
#define BM4(name)                                  \
	struct {                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY);  \
		__uint(max_entries, DD_BM4_WORDS); \
		__uint(map_flags, BPF_F_MMAPABLE); \
		__type(key, __u32);                \
		__type(value, __u64);              \
	} name SEC(".maps")

BM4(dd_bm4_0);
BM4(dd_bm4_1);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dd_state);
} dd_state SEC(".maps");

/* The control plane's only: the next id a new limit takes (dd_limits.c).
 * Ids are never reused, so a new limit never meets the buckets a deleted
 * one left in the LRU tables. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dd_ids SEC(".maps");

#define LIM(name, kt)                                 \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);  \
		__uint(max_entries, DD_MAX_LIMITS);   \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, struct kt);               \
		__type(value, struct dd_limit);       \
	} name SEC(".maps")

LIM(dd_lim4, dd_lpm4);
LIM(dd_lim6, dd_lpm6);
LIM(dd_lim4_1, dd_lpm4);
LIM(dd_lim6_1, dd_lpm6);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DD_MAX_BUCKETS);
	__type(key, struct dd_bkt_key);
	__type(value, struct dd_bkt);
} dd_bkt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DD_MAX_BUCKETS);
	__type(key, struct dd_bkt_key);
	__type(value, struct dd_bkt);
} dd_bkt_est SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct dd_bkt_key); /* id 0, the destination address */
	__type(value, struct dd_synwin);
} dd_syn SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DD_MAX_FLOWS);
	__type(key, struct dd_flow);
	__type(value, __u64);
} dd_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DD_S_MAX);
	__type(key, __u32);
	__type(value, __u64);
} dd_stats SEC(".maps");

static __always_inline void count(__u32 s)
{
	__u64 *v = bpf_map_lookup_elem(&dd_stats, &s);

	if (v)
		(*v)++;
}

/* What the checks need of a packet, parsed once. */
struct pkt {
	__u32 family;
	__u32 l3; /* offset of the IP header */
	__u32 l4; /* offset of the TCP header; 0: not TCP or not the first
		   * fragment */
	__u8 saddr[16] __attribute__((aligned(8)));
	__u8 daddr[16];
	__u8 tcp_flags;
};

static __always_inline int parse(nfc_ctx_t *ctx, struct pkt *p)
{
	void *data, *end;
	struct ethhdr *eth;
	__u16 proto;
	__u32 off = sizeof(struct ethhdr);

	if (nfc_pull(ctx, 14 + 8 + 40 + 20))
		nfc_pull(ctx, nfc_pkt_len(ctx) < 128 ? nfc_pkt_len(ctx) : 128);
	data = nfc_data(ctx);
	end = nfc_data_end(ctx);
	eth = data;
	if ((void *)(eth + 1) > end)
		return -1;
	proto = eth->h_proto;
	/* Two tags (QinQ, 802.1ad or 802.1Q outside): XDP sees both where
	 * TC sees the inner one only (the kernel took the outer off), and
	 * a blocklisted source passed in XDP with a second tag (found by a
	 * helper). */
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != ETH_P_8021Q_BE && proto != ETH_P_8021AD_BE)
			break;
		if ((void *)(vh + 1) > end)
			return -1;
		proto = vh->h_vlan_encapsulated_proto;
		off += sizeof(*vh);
	}
	p->l3 = off;
	p->l4 = 0;
	p->tcp_flags = 0;
	if (proto == ETH_P_IP_BE) {
		struct iphdr *ip = data + off;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return -1;
		ihl = ip->ihl * 4;
		if (ip->version != 4 || ihl < sizeof(*ip))
			return -1;
		p->family = 4;
		__builtin_memcpy(p->saddr, &ip->saddr, 4);
		__builtin_memcpy(p->daddr, &ip->daddr, 4);
		/* A later fragment carries no TCP header: no SYN check. */
		if (ip->protocol == IPPROTO_TCP &&
		    !(ip->frag_off & bpf_htons(0x1fff)) && ihl == sizeof(*ip)) {
			struct tcphdr *th = (void *)(ip + 1);

			if ((void *)(th + 1) > end)
				return -1;
			p->l4 = off + sizeof(*ip);
			p->tcp_flags = ((__u8 *)th)[13];
		}
		return 0;
	}
	if (proto == ETH_P_IPV6_BE) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > end)
			return -1;
		if (ip6->version != 6)
			return -1;
		p->family = 6;
		__builtin_memcpy(p->saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->daddr, &ip6->daddr, 16);
		/* TCP straight after the header only: extension headers go
		 * through unchecked by the SYN defence (not by the lists). */
		if (ip6->nexthdr == IPPROTO_TCP) {
			struct tcphdr *th = (void *)(ip6 + 1);

			if ((void *)(th + 1) > end)
				return -1;
			p->l4 = off + sizeof(*ip6);
			p->tcp_flags = ((__u8 *)th)[13];
		}
		return 0;
	}
	return 1;
}

static __always_inline int lpm_hit(void *m4, void *m6, struct pkt *p)
{
	if (p->family == 4) {
		struct dd_lpm4 k = {.plen = 32};
		void *v;

		__builtin_memcpy(k.addr, p->saddr, 4);
		/* Kept apart from the IPv6 call (dd_front says why): merged,
		 * the two allowlist copies' four lookups became two calls of
		 * a chosen map, +10 ns an allowlisted packet. */
		v = bpf_map_lookup_elem(m4, &k);
		asm volatile("" : "+r"(v));
		return v != NULL;
	}
	struct dd_lpm6 k6 = {.plen = 128};

	__builtin_memcpy(k6.addr, p->saddr, 16);
	return bpf_map_lookup_elem(m6, &k6) != NULL;
}

/* Whether a blocklisted prefix holds the IPv4 source: its /24's bit
 * (every length up to 24), then one hash probe a length in `ln` above 24,
 * longest first, the source masked to it. Any hit blocks (a blocklist
 * needs no longest match). */
static __always_inline int hit4(void *m, void *bm, struct dd_lens *ln,
				struct pkt *p)
{
	struct dd_lpm4 k;
	__u32 a, n = ln->n4, wi;
	__u64 *w64;

	__builtin_memcpy(&a, p->saddr, 4);
	a = bpf_ntohl(a);
	wi = a >> 14;
	w64 = bpf_map_lookup_elem(bm, &wi);
	if (w64 && (*w64 >> ((a >> 8) & 63)) & 1)
		return 1;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < 33; i++) {
		__u32 l, w;

		if (i >= n)
			break;
		l = ln->l4[i];
		if (l > 32 || l <= 24)
			break;
		w = bpf_htonl(a & (~0u << (32 - l)));
		k.plen = l;
		__builtin_memcpy(k.addr, &w, 4);
		if (bpf_map_lookup_elem(m, &k))
			return 1;
	}
	return 0;
}

static __always_inline int hit6(void *m, struct dd_lens *ln, struct pkt *p)
{
	struct dd_lpm6 k;
	__u64 hi, lo;
	__u32 n = ln->n6;

	__builtin_memcpy(&hi, p->saddr, 8);
	__builtin_memcpy(&lo, p->saddr + 8, 8);
	hi = bpf_be64_to_cpu(hi);
	lo = bpf_be64_to_cpu(lo);
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < 129; i++) {
		__u64 mh, ml;
		__u32 l;

		if (i >= n)
			break;
		l = ln->l6[i];
		if (l > 128)
			break;
		if (l > 64) {
			mh = hi;
			ml = lo & (~0ULL << (128 - l));
		} else {
			mh = l ? hi & (~0ULL << (64 - l)) : 0;
			ml = 0;
		}
		mh = bpf_cpu_to_be64(mh);
		ml = bpf_cpu_to_be64(ml);
		k.plen = l;
		__builtin_memcpy(k.addr, &mh, 8);
		__builtin_memcpy(k.addr + 8, &ml, 8);
		if (bpf_map_lookup_elem(m, &k))
			return 1;
	}
	return 0;
}

static __always_inline int blocked(struct dd_state *st, struct pkt *p)
{
	struct dd_lens *ln;
	__u32 c;

	c = st ? st->live & 1 : 0;
	if (!st || !(st->flags & DD_ST_HASHED)) {
		if (c ? lpm_hit(&dd_block4_1, &dd_block6_1, p)
		      : lpm_hit(&dd_block4_0, &dd_block6_0, p))
			return 1;
	}
	ln = bpf_map_lookup_elem(&dd_lens, &c);
	if (!ln)
		return 0;
	/* Each map named at its own call: the verifier inlines a lookup
	 * only where it knows the map. */
	if (p->family == 4)
		return c ? hit4(&dd_bh4_1, &dd_bm4_1, ln, p)
			 : hit4(&dd_bh4_0, &dd_bm4_0, ln, p);
	return c ? hit6(&dd_bh6_1, ln, p) : hit6(&dd_bh6_0, ln, p);
}

/*
 * The front of nfc_direct, when dd0 is the first thing on a netdev's
 * ingress hook: an untagged IPv4 frame whose source's /24 is blocklisted
 * in the live copy is dropped here, before the metadata is made and the
 * NF's checks run: a header bounds check, two inlined array lookups
 * (dd_state, the bitmap's word), the counters. The counters are those
 * the whole path would have written (the port's rx and drops, drops by
 * reason, the global NF_DROP), so nothing tells the two apart. While the
 * allowlist may hold an IPv4 prefix (DD_ST_ALLOW4), while the old tries
 * may hold the list (DD_ST_HASHED clear), or for anything else
 * (IPv6, VLAN, /25../32, an odd port), it returns -1 and the packet goes
 * the whole way.
 */
static __always_inline int dd_front(nfc_ctx_t *ctx, __u32 port)
{
	void *data = nfc_data(ctx), *end = nfc_data_end(ctx);
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct nfc_port_stats *ps;
	struct dd_state *st;
	__u32 z = 0, a, wi;
	__u64 *w;

	if ((void *)(ip + 1) > end || eth->h_proto != ETH_P_IP_BE || (port & 1))
		return -1;
	st = bpf_map_lookup_elem(&dd_state, &z);
	if (!st || (st->flags & (DD_ST_ALLOW4 | DD_ST_HASHED)) != DD_ST_HASHED)
		return -1;
	a = bpf_ntohl(ip->saddr);
	wi = a >> 14;
	/* One lookup call per map, each a constant the verifier inlines:
	 * left to itself, clang makes one call of a chosen map, which the
	 * kernel runs through a retpoline (+10 ns here). The asm keeps the
	 * two calls apart. */
	if (st->live & 1) {
		w = bpf_map_lookup_elem(&dd_bm4_1, &wi);
		asm volatile("" : "+r"(w));
	} else {
		w = bpf_map_lookup_elem(&dd_bm4_0, &wi);
	}
	if (!w || !((*w >> ((a >> 8) & 63)) & 1))
		return -1;
	ps = nfc_port_stats(nfc_self, port);
	if (ps) {
		ps->rx_packets++;
		ps->rx_bytes += nfc_pkt_len(ctx);
		ps->drops++;
	}
	count(DD_S_DROP_BLOCKLIST);
	nfc_count_global(NFC_R_NF_DROP);
	return NFC_V_DROP;
}

/* The source masked to the limit's per_len, so that per=prefix/N shares
 * one bucket among a prefix. */
static __always_inline void mask_addr(__u8 *a, __u32 n, __u32 len)
{
#pragma unroll
	for (int i = 0; i < 16; i++) {
		__u32 bits = i * 8;

		if (i >= n)
			a[i] = 0;
		else if (bits >= len)
			a[i] = 0;
		else if (bits + 8 > len)
			a[i] &= (__u8)(0xff << (8 - (len - bits)));
	}
}

/* 1: over the limit, drop. GCRA: a bucket is one timestamp, `tat`; a
 * packet may come when tat is at most tau ahead of now, and moves it one
 * interval on. Updates race between CPUs: a lost update lets one more
 * packet through, which is all it costs. */
static __always_inline int over_limit(struct pkt *p, __u32 fl, __u64 *now)
{
	struct dd_limit *lim;
	struct dd_bkt_key bk = {};
	struct dd_bkt *b;
	__u64 t;

	if (p->family == 4) {
		struct dd_lpm4 k = {.plen = 32};

		__builtin_memcpy(k.addr, p->saddr, 4);
		/* Two calls kept apart (dd_front says why). */
		if (fl & DD_ST_LIM_1) {
			lim = bpf_map_lookup_elem(&dd_lim4_1, &k);
			asm volatile("" : "+r"(lim));
		} else {
			lim = bpf_map_lookup_elem(&dd_lim4, &k);
		}
	} else {
		struct dd_lpm6 k6 = {.plen = 128};

		__builtin_memcpy(k6.addr, p->saddr, 16);
		if (fl & DD_ST_LIM_1) {
			lim = bpf_map_lookup_elem(&dd_lim6_1, &k6);
			asm volatile("" : "+r"(lim));
		} else {
			lim = bpf_map_lookup_elem(&dd_lim6, &k6);
		}
	}
	if (!lim)
		return 0;
	*now = bpf_ktime_get_ns();
	bk.id = lim->id;
	bk.family = p->family;
	__builtin_memcpy(bk.addr, p->saddr, 16);
	mask_addr(bk.addr, p->family == 4 ? 4 : 16, lim->per_len);
	b = bpf_map_lookup_elem(&dd_bkt_est, &bk);
	if (!b) {
		b = bpf_map_lookup_elem(&dd_bkt, &bk);
		if (!b) {
			struct dd_bkt nb = {.tat = *now + lim->interval_ns,
					    .first_ns = *now,
					    .packets = 1};

			bpf_map_update_elem(&dd_bkt, &bk, &nb, BPF_NOEXIST);
			count(DD_S_BUCKET_NEW);
			return 0;
		}
		/* Kept to its limit long enough: out of reach of a flood of
		 * new sources. */
		if (*now - b->first_ns > DD_PROMOTE_NS && !b->drops) {
			struct dd_bkt cp = *b;

			if (!bpf_map_update_elem(&dd_bkt_est, &bk, &cp,
						 BPF_NOEXIST)) {
				bpf_map_delete_elem(&dd_bkt, &bk);
				count(DD_S_BUCKET_PROMOTED);
				b = bpf_map_lookup_elem(&dd_bkt_est, &bk);
				if (!b)
					return 0;
			}
		}
	}
	t = b->tat;
	if (t < *now)
		t = *now;
	if (t - *now > lim->tau_ns) {
		b->drops++;
		return 1;
	}
	b->tat = t + lim->interval_ns;
	b->packets++;
	return 0;
}

static __always_inline void flow_key(struct pkt *p, struct tcphdr *th,
				     struct dd_flow *f)
{
	f->family = p->family;
	f->sport = th->source;
	f->dport = th->dest;
	__builtin_memcpy(f->saddr, p->saddr, 16);
	__builtin_memcpy(f->daddr, p->daddr, 16);
}

/* Whether the destination is under SYN cookies now; a SYN also counts. */
static __always_inline int syn_mode(struct pkt *p, __u64 now, int is_syn)
{
	struct dd_bkt_key k = {.family = p->family};
	struct dd_synwin *w;
	__u64 sec = now / 1000000000ULL;

	__builtin_memcpy(k.addr, p->daddr, 16);
	w = bpf_map_lookup_elem(&dd_syn, &k);
	if (!w) {
		struct dd_synwin nw = {.sec = sec, .count = is_syn};

		if (is_syn)
			bpf_map_update_elem(&dd_syn, &k, &nw, BPF_ANY);
		return 0;
	}
	if (is_syn) {
		if (w->sec != sec) {
			w->sec = sec;
			w->count = 0;
		}
		if (++w->count > dd_syn_rate)
			w->cookies_til = now + DD_SYN_HOLD_NS;
	}
	return w->cookies_til > now;
}

static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 t[6];

	__builtin_memcpy(t, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, t, 6);
}

/* Turns the SYN in place into the SYN-ACK carrying `cookie`, with an MSS
 * option when the frame has room for it (the SYN's options are dropped:
 * the IP length cuts them off). */
static __always_inline void make_synack(struct tcphdr *th, __u32 cookie,
					__u16 mss, int opt)
{
	__u32 seq = bpf_ntohl(th->seq);
	__u16 p = th->source;

	th->source = th->dest;
	th->dest = p;
	th->ack_seq = bpf_htonl(seq + 1);
	th->seq = bpf_htonl(cookie);
	((__u8 *)th)[12] = (opt ? 6 : 5) << 4;
	((__u8 *)th)[13] = TCP_SYN | TCP_ACK;
	th->window = bpf_htons(65535);
	th->check = 0;
	th->urg_ptr = 0;
	if (opt) {
		__u8 *o = (__u8 *)(th + 1);

		o[0] = 2; /* MSS */
		o[1] = 4;
		o[2] = mss >> 8;
		o[3] = mss & 0xff;
	}
}

#ifdef NFC_HOOK_XDP
#define DD_TX(ctx) XDP_TX
#else
#define DD_TX(ctx) bpf_redirect((ctx)->ifindex, 0)
#endif

/* A SYN to a destination under cookies: answered from here. */
static __always_inline int syn_cookie(nfc_ctx_t *ctx, struct pkt *p)
{
	__u8 tbuf[60] = {};
	void *data, *end;
	struct tcphdr *th;
	__u32 tlen, hl;
	__s64 c;
	int opt;
	__u64 s;

	if (nfc_load_bytes(ctx, p->l4 + 12, tbuf, 1))
		return -1;
	tlen = (tbuf[0] >> 4) * 4;
	if (tlen < 20 || tlen > 60)
		return -1;
	if (nfc_load_bytes(ctx, p->l4, tbuf, tlen))
		return -1;
	if (nfc_pull(ctx, p->l4 + 24))
		nfc_pull(ctx, p->l4 + 20);
	data = nfc_data(ctx);
	end = nfc_data_end(ctx);
	if (p->family == 4) {
		struct iphdr *ip = data + sizeof(struct ethhdr);

		if (p->l3 != sizeof(struct ethhdr) || (void *)(ip + 1) > end)
			return -1;
		{
			struct iphdr ipc = *ip;

			c = bpf_tcp_raw_gen_syncookie_ipv4(&ipc, (void *)tbuf,
							   tlen);
		}
		if (c < 0)
			return -1;
		th = (void *)(ip + 1);
		if ((void *)(th + 1) > end)
			return -1;
		opt = (void *)th + 24 <= end;
		hl = opt ? 24 : 20;
		make_synack(th, (__u32)c, dd_mss4, opt);
		{
			__be32 a = ip->saddr;

			ip->saddr = ip->daddr;
			ip->daddr = a;
		}
		ip->tot_len = bpf_htons(sizeof(*ip) + hl);
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000);
		ip->ttl = 64;
		ip->tos = 0;
		ip->check = 0;
		ip->check = csum_fold(
			bpf_csum_diff(0, 0, (void *)ip, sizeof(*ip), 0));
		s = (__u64)ip->saddr + ip->daddr + bpf_htons(IPPROTO_TCP) +
		    bpf_htons(hl);
		if (opt) {
			if ((void *)th + 24 > end)
				return -1;
			s += bpf_csum_diff(0, 0, (void *)th, 24, 0);
		} else {
			s += bpf_csum_diff(0, 0, (void *)th, 20, 0);
		}
		th->check = csum_fold(s);
	} else {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
		__u8 t[16];

		if (p->l3 != sizeof(struct ethhdr) || (void *)(ip6 + 1) > end)
			return -1;
		{
			struct ipv6hdr ipc = *ip6;

			c = bpf_tcp_raw_gen_syncookie_ipv6(&ipc, (void *)tbuf,
							   tlen);
		}
		if (c < 0)
			return -1;
		th = (void *)(ip6 + 1);
		if ((void *)(th + 1) > end)
			return -1;
		opt = (void *)th + 24 <= end;
		hl = opt ? 24 : 20;
		make_synack(th, (__u32)c, dd_mss6, opt);
		__builtin_memcpy(t, &ip6->saddr, 16);
		__builtin_memcpy(&ip6->saddr, &ip6->daddr, 16);
		__builtin_memcpy(&ip6->daddr, t, 16);
		ip6->payload_len = bpf_htons(hl);
		ip6->hop_limit = 64;
		s = bpf_csum_diff(0, 0, (void *)&ip6->saddr, 32, 0);
		s += bpf_htonl(hl) + bpf_htonl(IPPROTO_TCP);
		if (opt) {
			if ((void *)th + 24 > end)
				return -1;
			s += bpf_csum_diff(0, 0, (void *)th, 24, 0);
		} else {
			s += bpf_csum_diff(0, 0, (void *)th, 20, 0);
		}
		th->check = csum_fold(s);
	}
	{
		struct ethhdr *eth = data;

		if ((void *)(eth + 1) > end)
			return -1;
		swap_macs(eth);
	}
	count(DD_S_SYNCOOKIE_SENT);
	return 0;
}

/* 1: the ACK carries a cookie this host made (in the last two minutes). */
static __always_inline int cookie_ok(nfc_ctx_t *ctx, struct pkt *p)
{
	struct tcphdr th;

	if (nfc_load_bytes(ctx, p->l4, &th, sizeof(th)))
		return 0;
	if (p->family == 4) {
		struct iphdr ip;

		if (nfc_load_bytes(ctx, p->l3, &ip, sizeof(ip)))
			return 0;
		return bpf_tcp_raw_check_syncookie_ipv4(&ip, &th) == 0;
	}
	struct ipv6hdr ip6;

	if (nfc_load_bytes(ctx, p->l3, &ip6, sizeof(ip6)))
		return 0;
	return bpf_tcp_raw_check_syncookie_ipv6(&ip6, &th) == 0;
}

/* -1 drop, 0 pass, 1 answered (SYN-ACK to send back). */
static __always_inline int syn_check(nfc_ctx_t *ctx, struct pkt *p, __u64 now)
{
	__u8 fl = p->tcp_flags;
	int is_syn = (fl & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
	struct dd_flow f = {};
	struct tcphdr th;
	__u64 one = now;

	if (!dd_syn_cookies)
		return 0;
	if (nfc_load_bytes(ctx, p->l4, &th, sizeof(th)))
		return -1;
	flow_key(p, &th, &f);
	if (!syn_mode(p, now, is_syn)) {
		/* Remembered so that it still passes if its destination
		 * comes under cookies. */
		if (is_syn)
			bpf_map_update_elem(&dd_flows, &f, &one, BPF_ANY);
		return 0;
	}
	if (is_syn)
		return syn_cookie(ctx, p) ? -1 : 1;
	if (bpf_map_lookup_elem(&dd_flows, &f))
		return 0;
	/* Any ACK but a SYN or RST, data and FIN included: the client's
	 * request or close carries the same cookie when the handshake's
	 * last ACK was lost. */
	if ((fl & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_ACK &&
	    cookie_ok(ctx, p)) {
		bpf_map_update_elem(&dd_flows, &f, &one, BPF_ANY);
		count(DD_S_SYNCOOKIE_OK);
		return 0;
	}
	/* A RST may close what we do not know: let the server decide. */
	if (fl & TCP_RST)
		return 0;
	return -1;
}

/* Whether the allowlist, the limits of the packet's family may hold an
 * entry: the control plane's flags say when they are empty, and packets
 * skip the lookup (an LPM trie's, not inlined: ~5 ns each, and the
 * clock's ~10 with the limits; ddos.h, DD_ST_*). */
static __always_inline int may_allow(__u32 fl, struct pkt *p)
{
	return p->family == 4 ? !!(fl & DD_ST_ALLOW4) : !(fl & DD_ST_NO_ALLOW6);
}

static __always_inline int may_limit(__u32 fl, struct pkt *p)
{
	return !(fl & (p->family == 4 ? DD_ST_NO_LIM4 : DD_ST_NO_LIM6));
}

static __always_inline int allowed(__u32 fl, struct pkt *p)
{
	int hit;

	if (!may_allow(fl, p))
		return 0;
	/* Two calls kept apart (dd_front says why). */
	if (fl & DD_ST_ALLOW_1) {
		hit = lpm_hit(&dd_allow4_1, &dd_allow6_1, p);
		asm volatile("" : "+r"(hit));
	} else {
		hit = lpm_hit(&dd_allow4, &dd_allow6, p);
	}
	return hit;
}

static __always_inline int ddos(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	struct pkt p = {};
	struct dd_state *st;
	__u32 z = 0, fl;
	__u64 now = 0;
	int r;

	if (md->in_port & 1)
		return nfc_pass_on(ctx, md);
	r = parse(ctx, &p);
	if (r > 0) {
		count(DD_S_NOT_IP);
		return nfc_pass_on(ctx, md);
	}
	if (r < 0) {
		count(DD_S_DROP_MALFORMED);
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	}
	st = bpf_map_lookup_elem(&dd_state, &z);
	/* The flags read once: a packet meets one copy of the allowlist
	 * and one of the limits, the old set or the new, never part of
	 * each. No dd_state (never: an array's only entry) looks
	 * everything up in the first copies. */
	fl = st ? *(volatile __u32 *)&st->flags : DD_ST_ALLOW4;
	if (allowed(fl, &p)) {
		count(DD_S_PASS_ALLOWLIST);
		return nfc_pass_on(ctx, md);
	}
	if (blocked(st, &p)) {
		count(DD_S_DROP_BLOCKLIST);
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	}
	/* The clock only for a limit or a TCP check: ~10 ns (kvm-clock). */
	if (may_limit(fl, &p) && over_limit(&p, fl, &now)) {
		count(DD_S_DROP_RATE);
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	}
	if (p.l4) {
		if (!now)
			now = bpf_ktime_get_ns();
		r = syn_check(ctx, &p, now);
		if (r < 0) {
			count(DD_S_DROP_SYN);
			return nfc_drop(ctx, md, NFC_R_NF_DROP);
		}
		if (r > 0)
			return DD_TX(ctx);
	}
	count(DD_S_PASS);
	return nfc_pass_on(ctx, md);
}

NFC_NF(ddos);
