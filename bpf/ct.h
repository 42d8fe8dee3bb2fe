/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Connection tracking, data plane: for any NF that needs per-connection
 * state (firewall, NAT, load balancer). Include after nfchain.bpf.h (or
 * vmlinux.h + bpf_helpers.h + bpf_endian.h); brings in flow.h.
 *
 * Including this header declares the tracker's maps in the NF's object
 * (ct_common.h lists them): ct_table, ct_cfg, ct_stats, ct_frags, ct_new. One
 * NF instance = one object = one table, shared by every CPU. Define
 * NFCT_TABLE_SIZE before including to change the default size; the
 * control plane sets the real one at load (nfct_prepare, lib/conntrack.h).
 *
 * Use, per packet:
 *
 *     struct nfc_flow fl;
 *     struct nfct_res ct;
 *
 *     if (nfc_flow_parse(data, data_end, &fl) != NFC_FLOW_OK) ...
 *     nfct_lookup(&fl, nfc_pkt_len(ctx), &ct);
 *     switch (ct.state) {
 *     case NFCT_ESTABLISHED: case NFCT_RELATED: ...  (skip the rules)
 *     case NFCT_NEW:         if the rules accept it:
 *                                nfct_confirm(&fl, nfc_pkt_len(ctx), &ct);
 *     case NFCT_INVALID:     ...  (the rules decide; usually drop)
 *     case NFCT_UNTRACKED:   ...  (NDP and the like: the rules decide)
 *     }
 *
 * nfct_lookup() updates an existing entry (counters, TCP state, time)
 * whatever the NF then decides, as Linux's conntrack does before the
 * filter; only nfct_confirm() creates one, so a dropped first packet
 * leaves nothing behind.
 *
 * States (bits, so that a rule's state=a,b list is one mask):
 *   NFCT_NEW          no entry yet (or one not answered yet); a TCP SYN,
 *                     a UDP datagram, an ICMP echo request, ...
 *   NFCT_ESTABLISHED  an entry that has seen traffic both ways
 *   NFCT_RELATED      an ICMP error quoting a packet of a tracked entry,
 *                     sent to that packet's sender
 *   NFCT_INVALID      cannot start a connection and belongs to none: a
 *                     TCP segment with flags that make no sense
 *                     (nfct_tcp_flags_valid), or without SYN and no
 *                     entry (unless tcp_loose), an ICMP echo reply with no
 * request, an ICMP error quoting nothing tracked, a later fragment whose first
 * one was not seen NFCT_UNTRACKED    ICMPv6 neighbour discovery and MLD (Linux
 * does not track them either)
 *
 * Cost on an established flow: one hash lookup, the coarse clock, the
 * counters of its direction; the timeouts are read and the clock written
 * back only when it moved by NFCT_TS_STEP_NS (docs/conntrack.md has the
 * measurement).
 */
#ifndef NFC_CT_H
#define NFC_CT_H

#include "ct_common.h"
#include "flow.h"
#include "ct_fc.h"

#ifndef NFCT_TABLE_SIZE
#define NFCT_TABLE_SIZE 65536
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NFCT_TABLE_SIZE);
	__type(key, struct nfct_key);
	__type(value, struct nfct_entry);
} ct_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfct_cfg);
} ct_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFCT_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ct_stats SEC(".maps");

/* nfct_confirm's new entry, built here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfct_entry);
} ct_new SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NFCT_FRAGS_MAX);
	__type(key, struct nfct_frag_key);
	__type(value, struct nfct_frag);
} ct_frags SEC(".maps");

#ifdef NFCT_FLOW_CACHE
/* The per-CPU flow cache (nfct_lookup_cached, below): sets of four slots
 * picked by a cheap hash of the packet's own tuple, and the generation the
 * control plane bumps after it deletes entries (nfct_fc_bump,
 * lib/conntrack.c). Four ways, not one slot a hash: direct-mapped, 1,024
 * flows in 4,096 slots left a fifth of them sharing a slot and evicting
 * each other on every packet (each a table lookup and a flush); four ways
 * of the same 4,096 leave ~1-2 %. The sets lie in NFCT_FC_PARTS per-CPU
 * elements, not one element a slot: a lookup reads its element's address
 * from a table of 16 (two cache lines, warm) instead of one of 4,096
 * (32 KB of pointers, a cache miss of its own). */
/* The slots' layout is in ct_fc.h: the control plane reads them too. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFCT_FC_PARTS);
	__type(key, __u32);
	__type(value, struct nfct_fc_part);
} ct_fc SEC(".maps");

#endif

#if defined(NFCT_FLOW_CACHE) || defined(NFCT_FC_GEN)
/* The generation of cached flows: bumped by the control plane after it
 * deletes entries (nfct_fc_bump, lib/conntrack.c) and by nfct_confirm
 * when it replaces one. An NF with a cache of its own (NAT) defines
 * NFCT_FC_GEN to get it without nfct_lookup_cached's slots. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ct_fc_gen SEC(".maps");
#define NFCT_HAS_FC_GEN 1

/* A slot answers for NFCT_FC_STEP_J jiffies after its sync: at most
 * 130 ms at the lowest HZ (100), within NFCT_TS_STEP_NS at any. Jiffies,
 * not the coarse clock, on the hit path: the verifier inlines
 * bpf_jiffies64 into one load, where bpf_ktime_get_coarse_ns is a helper
 * call on every packet. The lb's cache (nf/lb) ages its slots by it
 * too. */
#define NFCT_FC_STEP_J 13

#endif

/* Whether a packet may be answered by a flow cache: nothing in it can
 * change its entry's state (TCP: a bare ACK, no SYN, FIN or RST; no
 * fragment, no ICMP error). */
static __always_inline int nfct_fc_eligible(const struct nfc_flow *fl)
{
	if (fl->frag != NFC_FRAG_NONE || (fl->flags & NFC_FLOW_F_ICMP_ERR) ||
	    fl->t.family == NFC_FAMILY_NONE)
		return 0;
	/* An ICMP query and its answer the other way have the same tuple
	 * (the identifier stands for both ports): a slot an echo reply
	 * filled answered an echo request from the same side, which the
	 * entry calls invalid (nfct_icmp_query_dir). ICMP is no bulk
	 * traffic: the entry decides each packet. */
	if (fl->t.proto == NFC_IPPROTO_ICMP ||
	    fl->t.proto == NFC_IPPROTO_ICMPV6)
		return 0;
	if (fl->t.proto == NFC_IPPROTO_TCP)
		return (fl->tcp_flags & (NFC_TCP_SYN | NFC_TCP_FIN |
					 NFC_TCP_RST | NFC_TCP_ACK)) ==
		       NFC_TCP_ACK;
	return 1;
}

/* Makes every CPU's cached flows miss once: after the data plane replaced
 * an entry (a reopened connection), whose old slots must not answer for
 * the new one. */
static __always_inline void nfct_fc_invalidate(void)
{
#ifdef NFCT_HAS_FC_GEN
	__u32 zero = 0;
	__u64 *g = bpf_map_lookup_elem(&ct_fc_gen, &zero);

	if (g)
		__sync_fetch_and_add(g, 1);
#endif
}

struct nfct_res {
	struct nfct_key key;  /* the packet's (RELATED: the quoted one's) */
	struct nfct_entry *e; /* its entry; NULL if none (yet) */
	__u8 state;	      /* NFCT_NEW ... */
	__u8 dir;	      /* NFCT_DIR_ORIG / REPLY (against e) */
	__u8 swapped;	      /* the packet's source is key.b */
	__u8 reopen;	      /* NEW over a stale entry: confirm replaces it */
	__u8 cached;	      /* nfct_lookup_cached answered from its cache */
#ifdef NFCT_FLOW_CACHE
	/* The packet's flow-cache slot when it hit or was just filled
	 * (established, cacheable); NULL otherwise. */
	struct nfct_fc_slot *fc;
#endif
};

static __always_inline struct nfct_cfg *nfct_cfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ct_cfg, &zero);
}

static __always_inline void nfct_count(__u32 id)
{
	__u64 *c = bpf_map_lookup_elem(&ct_stats, &id);

	if (c)
		*c += 1;
}

/* The normalised key of a tuple; returns whether it was swapped (the
 * tuple's source is endpoint b). */
static __always_inline int nfct_key_of(const struct nfc_tuple *t,
				       struct nfct_key *k)
{
	int swap = 0;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (t->src[i] != t->dst[i]) {
			swap = bpf_ntohl(t->src[i]) > bpf_ntohl(t->dst[i]);
			goto decided;
		}
	}
	swap = bpf_ntohs(t->sport) > bpf_ntohs(t->dport);
decided:
	if (swap) {
		__builtin_memcpy(k->a, t->dst, 16);
		__builtin_memcpy(k->b, t->src, 16);
		k->pa = t->dport;
		k->pb = t->sport;
	} else {
		__builtin_memcpy(k->a, t->src, 16);
		__builtin_memcpy(k->b, t->dst, 16);
		k->pa = t->sport;
		k->pb = t->dport;
	}
	k->proto = t->proto;
	k->family = t->family;
	k->pad = 0;
	return swap;
}

static __always_inline __u64 nfct_timeout_ns(const struct nfct_cfg *cfg,
					     __u8 proto, __u8 state)
{
	__u32 i = nfct_timeout_index(proto, state);

	if (!cfg || i >= NFCT_T_MAX)
		return 0;
	return (__u64)cfg->timeout[i] * 1000000000ULL;
}

/* Whether an entry is past its timeout. The slack of one step covers the
 * lazily written last_ns. The control plane deletes such entries; until
 * it does, they count as absent. */
static __always_inline int nfct_expired(const struct nfct_cfg *cfg,
					const struct nfct_key *k,
					const struct nfct_entry *e, __u64 now)
{
	__u64 to = nfct_timeout_ns(cfg, k->proto, e->state);

	return now > e->last_ns && now - e->last_ns > to + NFCT_TS_STEP_NS;
}

/* A packet with no entry: may it open one (NEW), or is it INVALID or
 * UNTRACKED? As Linux's tcp_new / icmp_new / icmpv6 noct_valid_new. */
static __always_inline __u8 nfct_new_state(const struct nfc_flow *fl,
					   const struct nfct_cfg *cfg)
{
	__u8 f = fl->tcp_flags &
		 (NFC_TCP_SYN | NFC_TCP_ACK | NFC_TCP_RST | NFC_TCP_FIN);
	__u8 t = fl->icmp_type;

	switch (fl->t.proto) {
	case NFC_IPPROTO_TCP:
		if (f == NFC_TCP_SYN)
			return NFCT_NEW;
		/* Picked up midway only on an ACK without SYN, RST or FIN
		 * (Linux: a FIN-ACK from no state is sIV). A FIN-ACK made
		 * an established entry of five days. */
		if (cfg && (cfg->flags & NFCT_CFG_TCP_LOOSE) &&
		    !(f & (NFC_TCP_SYN | NFC_TCP_RST | NFC_TCP_FIN)) &&
		    (f & NFC_TCP_ACK))
			return NFCT_NEW;
		return NFCT_INVALID;
	case NFC_IPPROTO_ICMP: /* echo, timestamp, info, address mask */
		return t == 8 || t == 13 || t == 15 || t == 17 ? NFCT_NEW
							       : NFCT_INVALID;
	case NFC_IPPROTO_ICMPV6:
		if (t == 128 || t == 139) /* echo, node information query */
			return NFCT_NEW;
		if ((t >= 130 && t <= 136) || t == 143) /* MLD, NDP */
			return NFCT_UNTRACKED;
		return NFCT_INVALID;
	}
	return NFCT_NEW;
}

/* An ICMP query's direction from its type: NFCT_DIR_ORIG for a request
 * (echo, timestamp, information, address mask; ICMPv6 echo, node
 * information), NFCT_DIR_REPLY for its answer, -1 for anything else. */
static __always_inline int nfct_icmp_query_dir(const struct nfc_flow *fl)
{
	__u8 t = fl->icmp_type;

	/* A later fragment has no ICMP header to read the type from. */
	if (fl->frag == NFC_FRAG_LATER)
		return -1;
	if (fl->t.proto == NFC_IPPROTO_ICMP) {
		if (t == 8 || t == 13 || t == 15 || t == 17)
			return NFCT_DIR_ORIG;
		if (t == 0 || t == 14 || t == 16 || t == 18)
			return NFCT_DIR_REPLY;
	} else if (fl->t.proto == NFC_IPPROTO_ICMPV6) {
		if (t == 128 || t == 139)
			return NFCT_DIR_ORIG;
		if (t == 129 || t == 140)
			return NFCT_DIR_REPLY;
	}
	return -1;
}

static __always_inline int nfct_addr_eq(const __u32 *x, const __u32 *y)
{
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* An ICMP error: RELATED if it quotes a packet of a live entry and goes
 * back to that packet's sender (Linux nf_conntrack_inet_error), else
 * INVALID. */
static __always_inline int nfct_lookup_related(struct nfc_flow *fl,
					       const struct nfct_cfg *cfg,
					       __u64 now, struct nfct_res *r)
{
	struct nfct_entry *e;

	r->state = NFCT_INVALID;
	if (!(fl->flags & NFC_FLOW_F_INNER) ||
	    !nfct_addr_eq(fl->t.dst, fl->inner.src))
		goto invalid;
	r->swapped = nfct_key_of(&fl->inner, &r->key);
	e = bpf_map_lookup_elem(&ct_table, &r->key);
	if (!e || nfct_expired(cfg, &r->key, e, now))
		goto invalid;
	r->e = e;
	r->dir = r->swapped == !!(e->flags & NFCT_F_ORIG_IS_B) ? NFCT_DIR_ORIG
							       : NFCT_DIR_REPLY;
	r->state = NFCT_RELATED;
	nfct_count(NFCT_ST_RELATED);
	return r->state;
invalid:
	nfct_count(NFCT_ST_INVALID);
	return r->state;
}

/* A later fragment takes its first fragment's ports; a first fragment
 * leaves its ports for the later ones. Returns -1 for a later fragment
 * whose first was not seen (or was evicted). */
static __always_inline int nfct_frag(struct nfc_flow *fl)
{
	struct nfct_frag_key fk = {};
	struct nfct_frag *v, nv;

	__builtin_memcpy(fk.src, fl->t.src, 16);
	__builtin_memcpy(fk.dst, fl->t.dst, 16);
	fk.id = fl->frag_id;
	fk.proto = fl->t.proto;
	fk.family = fl->t.family;
	if (fl->frag == NFC_FRAG_FIRST) {
		nv.sport = fl->t.sport;
		nv.dport = fl->t.dport;
		bpf_map_update_elem(&ct_frags, &fk, &nv, BPF_ANY);
		return 0;
	}
	v = bpf_map_lookup_elem(&ct_frags, &fk);
	if (!v) {
		nfct_count(NFCT_ST_FRAG_MISS);
		return -1;
	}
	fl->t.sport = v->sport;
	fl->t.dport = v->dport;
	if (fl->t.proto == NFC_IPPROTO_TCP || fl->t.proto == NFC_IPPROTO_UDP)
		fl->flags |= NFC_FLOW_F_PORTS | NFC_FLOW_F_PORTS_FROM_FIRST;
	return 0;
}

/*
 * Classifies a parsed IP packet (nfc_flow_parse returned NFC_FLOW_OK) of
 * `len` bytes and fills *r; returns r->state. Updates the entry it
 * belongs to. A later fragment gets its first fragment's ports in *fl
 * (see flow.h), or is INVALID.
 */
static __always_inline int nfct_lookup_at(struct nfc_flow *fl, __u32 len,
					  struct nfct_res *r, __u64 now)
{
	struct nfct_entry *e;
	int refresh = 0;
	__u8 dir;

	r->e = NULL;
	r->dir = NFCT_DIR_ORIG;
	r->reopen = 0;
	if (fl->frag != NFC_FRAG_NONE && !(fl->flags & NFC_FLOW_F_FRAG_DONE) &&
	    nfct_frag(fl)) {
		r->swapped = nfct_key_of(&fl->t, &r->key);
		r->state = NFCT_INVALID;
		nfct_count(NFCT_ST_INVALID);
		return r->state;
	}
	if (fl->flags & NFC_FLOW_F_ICMP_ERR)
		return nfct_lookup_related(fl, nfct_cfg_get(), now, r);
	r->swapped = nfct_key_of(&fl->t, &r->key);
	if (fl->t.proto == NFC_IPPROTO_TCP && fl->frag != NFC_FRAG_LATER &&
	    !nfct_tcp_flags_valid(fl->tcp_flags)) {
		r->state = NFCT_INVALID;
		nfct_count(NFCT_ST_INVALID);
		return r->state;
	}
	e = bpf_map_lookup_elem(&ct_table, &r->key);
	/* An entry cannot expire within one step of its last_ns (timeouts
	 * are whole seconds): most packets of a busy flow skip the timeout
	 * check and its config lookup altogether. */
	if (e && now > e->last_ns && now - e->last_ns >= NFCT_TS_STEP_NS) {
		if (nfct_expired(nfct_cfg_get(), &r->key, e, now)) {
			r->reopen = 1;
			e = NULL;
		} else {
			refresh = 1;
		}
	}
	if (!e) {
		r->state = nfct_new_state(fl, nfct_cfg_get());
		if (r->state == NFCT_INVALID)
			nfct_count(NFCT_ST_INVALID);
		return r->state;
	}
	dir = r->swapped == !!(e->flags & NFCT_F_ORIG_IS_B) ? NFCT_DIR_ORIG
							    : NFCT_DIR_REPLY;
	r->dir = dir;
	if (fl->t.proto == NFC_IPPROTO_TCP) {
		__u8 s = nfct_tcp_next(e, fl->tcp_flags, dir);

		if (s == NFCT_S_NONE) { /* the tuple reused after a close */
			r->reopen = 1;
			r->state = NFCT_NEW;
			return r->state;
		}
		if (s == NFCT_S_INVALID) {
			r->state = NFCT_INVALID;
			nfct_count(NFCT_ST_INVALID);
			return r->state;
		}
		if (s != e->state)
			e->state = s;
	} else {
		/* An ICMP query goes from the entry's opener, its answer
		 * back: a request the other way (or an answer from the
		 * opener) is not part of it. The key holds the identifier,
		 * not the type, so they found the entry: an echo request
		 * from outside with the id of an inside host's ping passed
		 * as established (Linux's tuple has the type; found by a
		 * helper against nftables). It cannot have an entry of its
		 * own while this one lives: INVALID, where Linux says NEW. */
		int q = nfct_icmp_query_dir(fl);

		if (q >= 0 && q != dir) {
			r->state = NFCT_INVALID;
			nfct_count(NFCT_ST_INVALID);
			return r->state;
		}
		if (dir == NFCT_DIR_REPLY && e->state != NFCT_S_REPLIED)
			e->state = NFCT_S_REPLIED;
	}
	/* Plain adds: a flow's direction is mostly handled by one CPU (RSS);
	 * an atomic would cost every packet for a rare lost count. */
	e->packets[dir & 1] += 1;
	e->bytes[dir & 1] += len;
	if (refresh)
		e->last_ns = now;
	if (dir == NFCT_DIR_REPLY && !(e->flags & NFCT_F_SEEN_REPLY)) {
		e->flags |= NFCT_F_SEEN_REPLY;
		e->last_ns &= nfct_first_reply_keep(fl->tcp_flags);
	}
	r->e = e;
	r->state = (e->flags & NFCT_F_SEEN_REPLY) ? NFCT_ESTABLISHED : NFCT_NEW;
	return r->state;
}

static __always_inline int nfct_lookup(struct nfc_flow *fl, __u32 len,
				       struct nfct_res *r)
{
	return nfct_lookup_at(fl, len, r, bpf_ktime_get_coarse_ns());
}

/*
 * Creates the entry of a NEW packet the NF accepted (after nfct_lookup on
 * the same fl and r). Nothing to do for a NEW packet that already has one
 * (a SYN sent again). Returns 0, or -ENOSPC when the table is full (the
 * refusal is counted; the control plane evicts to make room, see
 * nfct_tick): the NF lets the packet through untracked or drops it, its
 * choice.
 */
static __always_inline int nfct_confirm(const struct nfc_flow *fl, __u32 len,
					struct nfct_res *r)
{
	__u32 zero = 0;
	struct nfct_entry *n;
	long err;

	if (r->state != NFCT_NEW || r->e)
		return 0;
	/* Built in a per-CPU slot, not on the stack: 64 bytes there took
	 * the firewall's program, whose stack and a global function's
	 * share 512, to the limit. */
	n = bpf_map_lookup_elem(&ct_new, &zero);
	if (!n)
		return 0;
	__builtin_memset(n, 0, sizeof(*n));
	n->last_ns = bpf_ktime_get_coarse_ns();
	n->packets[0] = 1;
	n->bytes[0] = len;
	n->flags = r->swapped ? NFCT_F_ORIG_IS_B : 0;
	if (fl->t.proto == NFC_IPPROTO_TCP)
		n->state = (fl->tcp_flags & NFC_TCP_SYN) ? NFCT_S_SYN_SENT
							 : NFCT_S_ESTABLISHED;
	else
		n->state = NFCT_S_UNREPLIED;
	err = bpf_map_update_elem(&ct_table, &r->key, n,
				  r->reopen ? BPF_ANY : BPF_NOEXIST);
	if (err == -17 /* EEXIST: another CPU made it first */)
		return 0;
	if (err) {
		nfct_count(NFCT_ST_REFUSED);
		return -28; /* ENOSPC */
	}
	if (r->reopen)
		nfct_fc_invalidate();
	nfct_count(NFCT_ST_CREATED);
	r->e = bpf_map_lookup_elem(&ct_table, &r->key);
	return 0;
}

#ifdef NFCT_FLOW_CACHE
/*
 * nfct_lookup with a per-CPU flow cache in front (define NFCT_FLOW_CACHE
 * before including this header). An established flow's plain packet (TCP
 * ACK without SYN, FIN or RST; UDP, ICMP echo, other protocols; no
 * fragment, no ICMP error) whose tuple this CPU saw less than
 * NFCT_FC_STEP_J jiffies ago is answered from the CPU's own slot: no hash
 * of the 40-byte key, no write to the shared entry. Its counters gather in
 * the slot and go into the entry at the next sync (every NFCT_FC_STEP_J
 * jiffies a slot, or when another flow takes the slot), which also writes
 * last_ns:
 * `conntrack show` lags by at most a step of traffic per CPU, and the
 * timeouts behave as before (last_ns was already written lazily).
 *
 * Why it stays exact: only entries in a state that such packets cannot
 * change are cached (TCP established, others replied); a packet that may
 * change it (SYN, FIN, RST) always takes the table; an entry the control
 * plane deletes bumps ct_fc_gen, and so does one the data plane replaces.
 *
 * On a hit r->e is NULL and r->key is not filled (r->cached is set):
 * an NF that needs the entry (its nf_data) uses nfct_lookup.
 */

/* The set of a tuple (nfct_fc_set_hash, ct_common.h). */
static __always_inline __u32 nfct_fc_hash(const struct nfc_tuple *t)
{
	return nfct_fc_set_hash(t->src, t->dst, t->sport, t->dport, t->proto);
}

static __always_inline int nfct_fc_tuple_eq(const struct nfc_tuple *a,
					    const struct nfc_tuple *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

/* Puts a slot's gathered counters into its entry (another flow is about
 * to take the slot). */
static __always_inline void nfct_fc_flush(struct nfct_fc_slot *s)
{
	struct nfct_key k;
	struct nfct_entry *e;

	nfct_key_of(&s->t, &k);
	e = bpf_map_lookup_elem(&ct_table, &k);
	if (e) {
		e->packets[s->dir & 1] += s->packets;
		e->bytes[s->dir & 1] += s->bytes;
	}
}

/* The slot of set w holding tuple t, or NULL. A tuple is in one slot of
 * its set at most: a miss refills the slot that holds it, if any. An
 * empty slot (all zero) holds none: a cached tuple's family is never 0
 * (nfct_fc_eligible). `valid` is not read here: it lies in the slot's
 * second cache line, and reading it first touched a line more a way. */
static __always_inline struct nfct_fc_slot *
nfct_fc_way(struct nfct_fc_slot *w, const struct nfc_tuple *t)
{
	if (nfct_fc_tuple_eq(&w[0].t, t))
		return &w[0];
	if (nfct_fc_tuple_eq(&w[1].t, t))
		return &w[1];
	if (nfct_fc_tuple_eq(&w[2].t, t))
		return &w[2];
	if (nfct_fc_tuple_eq(&w[3].t, t))
		return &w[3];
	return NULL;
}

static __always_inline int nfct_lookup_cached(struct nfc_flow *fl, __u32 len,
					      struct nfct_res *r)
{
	__u64 j = bpf_jiffies64(), now, *gen;
	struct nfct_fc_part *part;
	struct nfct_fc_slot *w, *s;
	__u32 zero = 0, h, p;
	int ok = nfct_fc_eligible(fl);

	r->cached = 0;
	r->fc = NULL;
	if (!ok)
		return nfct_lookup_at(fl, len, r, bpf_ktime_get_coarse_ns());
	h = nfct_fc_hash(&fl->t);
	p = (h / NFCT_FC_SETS) & (NFCT_FC_PARTS - 1);
	part = bpf_map_lookup_elem(&ct_fc, &p);
	gen = bpf_map_lookup_elem(&ct_fc_gen, &zero);
	if (!part || !gen)
		return nfct_lookup_at(fl, len, r, bpf_ktime_get_coarse_ns());
	w = part->w[h & (NFCT_FC_SETS - 1)];
	s = nfct_fc_way(w, &fl->t);
	if (s && s->gen == *gen && j - s->ts < NFCT_FC_STEP_J) {
		s->packets += 1;
		s->bytes += len;
		r->e = NULL;
		r->dir = s->dir;
		r->swapped = s->swapped;
		r->reopen = 0;
		r->cached = 1;
		r->fc = s;
		r->state = NFCT_ESTABLISHED;
		return r->state;
	}
	now = bpf_ktime_get_coarse_ns();
	nfct_lookup_at(fl, len, r, now);
	if (!r->e || r->state != NFCT_ESTABLISHED ||
	    r->e->state != (fl->t.proto == NFC_IPPROTO_TCP ? NFCT_S_ESTABLISHED
							   : NFCT_S_REPLIED))
		return r->state;
	if (s) {
		/* The flow's own slot, out of date: what it gathered is
		 * this entry's. */
		if (s->packets) {
			r->e->packets[r->dir & 1] += s->packets;
			r->e->bytes[r->dir & 1] += s->bytes;
		}
	} else {
		/* A new flow for the set: the ways in turn. */
		h = w[0].next & (NFCT_FC_WAYS - 1);
		w[0].next = h + 1;
		s = &w[h];
		if (s->valid && s->packets)
			nfct_fc_flush(s);
	}
	/* Synced now: the entry's clock is this packet's, so that it cannot
	 * lag by more than a step behind the flow's last cached packet. */
	r->e->last_ns = now;
	__builtin_memcpy(&s->t, &fl->t, sizeof(s->t));
	s->gen = *gen;
	s->ts = j;
	s->packets = 0;
	s->bytes = 0;
	s->dir = r->dir;
	s->swapped = r->swapped;
	s->valid = 1;
	s->nf = 0;
	r->fc = s;
	return r->state;
}
#endif

#endif
