/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ddos: what its data plane (ddos.bpf.c) and control plane (dd_*.c)
 * share. Include vmlinux.h (BPF) or <linux/types.h> (userspace) first.
 *
 * Maps (pinned under the NF, kept across reloads):
 *   dd_allow4/6,    LPM tries: source prefixes never limited nor
 *   dd_allow4/6_1   blocked, twice per family (DD_ST_ALLOW_1 says which
 *                   copy packets read: a replace builds the other)
 *   dd_bh4_0/1,     hashes of {prefix length, prefix}: the blocklist,
 *   dd_bh6_0/1      twice per family; dd_state.live says which copy
 *                   packets read, so that a whole new list is built in
 *                   the other and switched in by one write (import
 *                   --replace, apply)
 *   dd_lens         array [2] of struct dd_lens: per copy, the prefix
 *                   lengths the copy may hold, longest first: a lookup
 *                   probes the hash once per length (README.md, "Lookup")
 *   dd_bm4_0/1      array (mmapable) of __u64: per copy, a bit per IPv4
 *                   /24, set when a prefix of length <= 24 of the copy
 *                   covers it: one load answers every length up to /24,
 *                   the hash is probed only for lengths 25..32
 *   dd_state        array [1] of struct dd_state
 *   dd_block4/6_0/1 LPM tries: the blocklist of an nfchain before the
 *                   hashes, read until moved (DD_ST_HASHED), else empty
 *   dd_lim4/6,      LPM tries: rate limits by source prefix (dd_limit),
 *   dd_lim4/6_1     twice per family (DD_ST_LIM_1), as the allowlist
 *   dd_bkt          LRU hash: token buckets of sources seen lately
 *   dd_bkt_est      LRU hash: buckets of sources that kept to their limit
 *                   for DD_PROMOTE_NS: a flood of new sources evicts from
 *                   dd_bkt only, never these (evictions of both counted)
 *   dd_syn          LRU hash: SYNs a second per destination (dd_synwin)
 *   dd_flows        LRU hash: TCP flows let through a SYN-cookie check or
 *                   whose SYN passed, so that their later packets pass
 *                   while their destination is under SYN cookies
 *   dd_stats        per-CPU array [DD_S_MAX] of __u64: enum dd_stat
 *   dd_ids          array [1] of __u32: the next id a new limit takes
 *                   (control plane only; ids are never reused)
 */
#ifndef NFC_DDOS_H
#define NFC_DDOS_H

/* A blocklist copy holds this many prefixes per family; the kernel
 * allocates entries as they come (BPF_F_NO_PREALLOC), but a hash's bucket
 * array (16 bytes a bucket, DD_MAX_BLOCK of them) is allocated whole when
 * the NF loads: 16 MB per map, 64 MB for the four. */
#define DD_MAX_BLOCK (1 << 20)
/* The IPv4 /24 bitmap: 2^24 bits, 2 MB a copy. */
#define DD_BM4_WORDS (1u << 18)
/* A feed may hold this many prefixes (both families). */
#define DD_MAX_PREFIXES (2 * DD_MAX_BLOCK)
#define DD_MAX_ALLOW 65536
#define DD_MAX_LIMITS 1024
#define DD_MAX_BUCKETS 65536
#define DD_MAX_FLOWS 65536
/* A source that kept to its limit this long moves to dd_bkt_est. */
#define DD_PROMOTE_NS (3ULL * 1000000000ULL)
/* A destination stays under SYN cookies this long after its SYN rate
 * went above syn_rate, so that the ACKs of the cookies it sent are still
 * checked when the next second is quiet. */
#define DD_SYN_HOLD_NS (10ULL * 1000000000ULL)

/* An nfchain before the hashes pinned the blocklist as LPM tries under
 * these names (dd_block4_0 ...). The data plane still declares them (the
 * same layout, so that their pins are taken over) and reads the live one
 * until DD_ST_HASHED says its entries are in the hashes; then the control
 * plane empties them (dd_lists.c, migrate_tries). */
#define DD_OLD_TRIE "dd_block%d_%d"

struct dd_lpm4 {
	__u32 plen;
	__u8 addr[4];
};
struct dd_lpm6 {
	__u32 plen;
	__u8 addr[16];
};

/* The prefix lengths a blocklist copy may hold, longest first. The
 * control plane adds a length before it writes the first prefix of it and
 * empties the list only with the copy, so the list is never short of a
 * length present (a length whose prefixes were all deleted stays until
 * the copy is replaced: a wasted probe, never a missed one). */
struct dd_lens {
	__u8 n4, n6; /* lengths in l4, l6 */
	__u8 pad[2];
	__u8 l4[36];  /* 0..32 */
	__u8 l6[132]; /* 0..128 */
};

struct dd_state {
	__u32 live;  /* 0 or 1: the blocklist copy packets read */
	__u32 flags; /* DD_ST_*: written by the control plane only */
};
/* Some blocklist entry may carry an expiry: the ticks scan for it. */
#define DD_ST_EXPIRIES 1u
/* The allowlist may hold an IPv4 prefix: set before the first is written,
 * cleared once it is empty; while it is clear, the data plane's front
 * (ddos.bpf.c, dd_front) drops blocklisted IPv4 sources without asking. */
#define DD_ST_ALLOW4 2u
/* The IPv6 allowlist, the IPv4 limits, the IPv6 limits are empty: packets
 * skip their lookup (and, with no limit and no TCP, the clock). Set only
 * once the map is empty, cleared before its first entry is written: a
 * dd0 of an nfchain without them (the bits clear) looks everything up. */
#define DD_ST_NO_ALLOW6 4u
#define DD_ST_NO_LIM4 8u
#define DD_ST_NO_LIM6 16u
/* The blocklist is in the hashes and the bitmap alone: the old LPM tries
 * (DD_OLD_TRIE) are not read. Clear on the pins of an nfchain before the
 * hashes: packets read the live trie too (and the front defers) until
 * its entries are moved; so an upgrade never meets an empty hash. */
#define DD_ST_HASHED 32u
/* Packets read the second copy of the allowlist (dd_allow4_1,
 * dd_allow6_1), of the limits (dd_lim4_1, dd_lim6_1). A replace fills
 * the other copy, then writes the flags once: this bit flipped and the
 * emptiness bits above as the new copy is, so that a packet meets the
 * old set or the new whole. A single add or delete writes the live copy
 * (one entry changes at one instant anyway). Clear on the pins of an
 * nfchain with one copy: its maps are the first copy. */
#define DD_ST_ALLOW_1 64u
#define DD_ST_LIM_1 128u

struct dd_limit {
	__u64 interval_ns; /* 1e9 / pps */
	__u64 tau_ns;	   /* (burst - 1) * interval: how far ahead a source
			    * may run */
	__u32 id;	   /* which limit a bucket belongs to */
	__u32 per_len;	   /* the source address masked to this length */
};

struct dd_bkt_key {
	__u32 id;
	__u32 family; /* 4 or 6 */
	__u8 addr[16];
};

struct dd_bkt {
	__u64 tat;	/* GCRA: theoretical arrival time of the next packet */
	__u64 first_ns; /* when the bucket was made (promotion) */
	__u64 packets;	/* passed */
	__u64 drops;	/* over the limit */
};

struct dd_synwin {
	__u64 sec;	   /* the second (ktime / 1e9) being counted */
	__u64 count;	   /* SYNs in it */
	__u64 cookies_til; /* under SYN cookies until then (ktime ns) */
};

struct dd_flow {
	__u32 family;
	__u16 sport, dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Counters by reason: drops first, then what passed and what happened. */
#define DD_STATS(X)                              \
	X(0, DROP_BLOCKLIST, "drop_blocklist")   \
	X(1, DROP_RATE, "drop_rate")             \
	X(2, DROP_SYN, "drop_syn")               \
	X(3, DROP_MALFORMED, "drop_malformed")   \
	X(4, PASS_ALLOWLIST, "pass_allowlist")   \
	X(5, PASS, "pass")                       \
	X(6, SYNCOOKIE_SENT, "syncookie_sent")   \
	X(7, SYNCOOKIE_OK, "syncookie_ok")       \
	X(8, BUCKET_NEW, "bucket_new")           \
	X(9, BUCKET_PROMOTED, "bucket_promoted") \
	X(10, NOT_IP, "pass_not_ip")

enum dd_stat {
#define DD_STAT_ENUM(n, id, name) DD_S_##id = n,
	DD_STATS(DD_STAT_ENUM)
#undef DD_STAT_ENUM
		DD_S_MAX = 16,
};

#endif
