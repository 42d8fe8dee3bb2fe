/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * firewall: what its data plane (firewall.bpf.c) and control plane
 * (firewall.c, fw_*.c) share. Include vmlinux.h (BPF) or <linux/types.h>
 * (userspace) first.
 *
 * Classification is a bit-vector search with aggregated bit vectors (README,
 * "Classifier"): the rule set is compiled into per-field tables that map a
 * packet's field to a class, and each class to the bit vector of the rules
 * it satisfies (bit i: the i-th rule in number order). The packet's rule is
 * the first bit set in the AND of its six vectors. Each vector carries a
 * summary (bit j: word j has a bit set), so the AND starts on the summaries
 * and looks only at words every field has something in: a fixed number of
 * lookups a packet, and a few words read whatever the rule count.
 *
 * Fields and their classes:
 *   misc   direction, family and conntrack state together: class
 *          FW_MISC(dir, v6, state), 16 classes
 *   proto  the L4 protocol: class FW_CLS_PROTO + proto
 *   src    LPM trie fw_src: the longest rule prefix holding the address
 *   dst    LPM trie fw_dst, the same
 *   sport  array fw_port by port (FW_NOPORT: a packet without ports)
 *   dport  the same, the dport half
 *
 * Every table exists twice (half 0 and 1); fw_set's entry FW_SET_LIVE says
 * which half the data plane reads. A new rule set is built in the other half
 * and switched in by one write, so that every packet meets the old set or
 * the new one.
 */
#ifndef NFC_FW_H
#define NFC_FW_H

/* The documented limit (README): 16,384 rules (the issue asks >= 10,000).
 * It sets the bit vectors' width: 256 words of 64 bits, 4 summary words. */
#define FW_MAX_RULES 16384
#define FW_WORDS (FW_MAX_RULES / 64)
#define FW_SUMS (FW_WORDS / 64)

/* A class's bit vector: an entry of an inner map of fw_bv. */
struct fw_bv {
	__u64 sum[FW_SUMS];
	__u64 w[FW_WORDS];
};

/* How the data plane holds the vectors: sized to the set and packed.
 * An entry of an inner map of fw_bv is FW_PK_WORDS words holding several
 * classes back to back; a class is at locator FW_LOC(entry, offset): its
 * nsums summary words, then its nwords words (the set's, not FW_WORDS).
 * The table entries (fw_at, fw_port, the tries) hold locators, not class
 * numbers; the misc and proto classes (c < FW_CLS_FREE) are at
 * FW_LOC(c, 0), which the data plane computes. At 10,000 ClassBench-like
 * rules: 26 MB where a struct fw_bv a class took 43 MB (README). Storing
 * only the words a summary marks was tried: these sets' summaries are
 * dense (no smaller), and the rank it needs (a popcount a vector a word)
 * took the verifier past its million instructions with conntrack on. */
#define FW_PK_WORDS 512
#define FW_PK_SHIFT 9
#define FW_LOC(e, off) ((e) << FW_PK_SHIFT | (off))
struct fw_pk {
	__u64 w[FW_PK_WORDS];
};

enum fw_action {
	FW_ACCEPT = 1,
	FW_DROP = 2,
	FW_REJECT = 3,
};

enum fw_ct_state {
	FW_ST_NEW = 0,
	FW_ST_ESTABLISHED = 1,
	FW_ST_RELATED = 2,
	FW_ST_INVALID = 3,
};

enum fw_dir {
	FW_DIR_IN = 0,	/* entering the attachment's target */
	FW_DIR_OUT = 1, /* leaving it */
};

/* Class numbers in an fw_bv inner map. */
#define FW_MISC(dir, v6, state) ((dir) | (v6) << 1 | (state) << 2)
#define FW_NMISC 16
#define FW_CLS_PROTO FW_NMISC
#define FW_CLS_FREE (FW_CLS_PROTO + 256) /* address and port classes */

/* fw_src, fw_dst: LPM tries; data is the half, the family (4 or 6) and the
 * address (IPv4 in the first 4 bytes). prefixlen counts the 16 bits of half
 * and family; a prefixlen of 8 (the half alone) is the class of addresses no
 * rule prefix holds. */
struct fw_addr_key {
	__u32 prefixlen;
	__u8 half;
	__u8 fam;
	__u8 addr[16];
};
#define FW_ADDR_HDR_BITS 16

/* fw_at: per half, an inner map holding the address classes of both
 * address fields and both families as a multibit trie (an LPM trie
 * lookup costs 50-150 ns at hundreds to thousands of prefixes; this is a
 * few array lookups whatever the rule count). The map is an array of
 * chunks of 256 class numbers: an address's class is entry a[1] of chunk
 * FW_AT_TOP(v6, field, a[0]); an entry with FW_AT_PTR set instead names
 * the chunk where the next byte of the address is looked up (a[2], a[3],
 * ...). Chunks from FW_AT_NTOP on are allocated as the rule prefixes
 * longer than /16, /24, ... need them. A field with fewer than
 * FW_AT_V6_MIN IPv6 prefixes, or whose IPv6 prefixes would take more than
 * FW_AT_V6_CHUNKS chunks, keeps them in its LPM trie (fw_src, fw_dst)
 * instead: its IPv6 top entries are all FW_AT_LPM. */
#define FW_AT_FAN 256
#define FW_AT_TOP(v6, field, b0) (((v6)*2 + (field)) * FW_AT_FAN + (b0))
#define FW_AT_NTOP (4 * FW_AT_FAN)
#define FW_AT_PTR 0x80000000u
#define FW_AT_LPM 0x7fffffffu
#define FW_AT_V6_CHUNKS 8192 /* 8 MiB a field */
/* Fewer IPv6 prefixes than this in a field: its trie is shallow, and
 * cheaper than up to 15 chunk lookups (README, "Where the time goes"). */
#define FW_AT_V6_MIN 32
struct fw_at_chunk {
	__u32 e[FW_AT_FAN];
};

/* fw_port: array of class numbers, FW_PORT_IDX(half, field, port); field 0
 * is sport, 1 dport. Port FW_NOPORT: a packet without ports (no TCP, UDP,
 * SCTP or UDP-Lite header, or a non-first fragment). */
#define FW_NOPORT 65536
#define FW_PORT_STRIDE 65537
#define FW_PORT_IDX(half, field, port) \
	(((half)*2 + (field)) * FW_PORT_STRIDE + (port))
#define FW_PORT_SIZE (4 * FW_PORT_STRIDE)

/* fw_set: entry FW_SET_LIVE holds the live half in `live`; entries 1 and 2
 * describe halves 0 and 1. */
#define FW_SET_LIVE 0
#define FW_SET_HALF(h) (1 + (h))
/* shortcut[misc]: no rule can decide a packet of that misc class: the
 * default; FW_SC_NONE: walk the tables. */
#define FW_SC_DEFAULT (-1)
#define FW_SC_NONE (-2)
struct fw_set {
	__u32 live;
	__u32 nrules;
	__u32 nsums; /* summary words in use */
	__u32 gen;   /* bumped with every switch (information) */
	/* A rule index (>= 0) when the first rule a misc class allows matches
	 * every packet of the class (no other field): it decides alone, and
	 * the packet skips the tables (an established flow behind `state=
	 * established,related action=accept`, say). */
	__s32 shortcut[FW_NMISC];
};

/* An established flow's verdict in its conntrack flow-cache slot (bpf/ct.h,
 * nfct_fc_slot.nf): the rule index (FW_FC_DEFAULT: none) and action the
 * set of generation gen (fw_set's, bumped with every switch) gave it, in
 * half `half`, for packets of direction dir, and whether a shortcut decided
 * it (for the counters). Its next packets skip the tables and fw_act; a
 * rule-set change or a conntrack change (ct_fc_gen) makes it miss, and a
 * SYN, FIN or RST never hits. 0: none. */
#define FW_FC_DEFAULT 0xffff
#define FW_FC(gen, half, dir, sc, action, rule)                           \
	((__u64)(gen) << 32 | 1u << 31 | (__u32)(half) << 30 |            \
	 (__u32)(dir) << 29 | (__u32)(sc) << 28 | (__u32)(action) << 16 | \
	 ((__u32)(rule)&0xffff))
#define FW_FC_KEY(gen, dir) ((__u64)(gen) << 32 | 1u << 31 | (__u32)(dir) << 29)
#define FW_FC_KEY_MASK (0xffffffff80000000ULL | 1u << 29)

/* fw_act: the action of rule index i of half h at FW_ACT_IDX(h, i), and
 * its number (for the control plane, which carries hits over by number);
 * fw_hits (per-CPU) counts at the same index. */
#define FW_ACT_IDX(h, i) ((h)*FW_MAX_RULES + (i))
struct fw_act {
	__u32 action;
	__u32 num;
};
struct fw_hit {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct fw_hit) % 8 == 0, "per-CPU stride");

/* fw_cnt (per-CPU array of __u64): what happened to packets. */
enum fw_counter {
	FW_C_ACCEPT,	  /* accepted by a rule */
	FW_C_DROP,	  /* dropped by a rule */
	FW_C_REJECT,	  /* rejected by a rule (to the slow path) */
	FW_C_DEF_ACCEPT,  /* no rule: default accept */
	FW_C_DEF_DROP,	  /* no rule: default drop */
	FW_C_NOT_IP,	  /* not IPv4 or IPv6: passed */
	FW_C_ND,	  /* IPv6 neighbour discovery: passed */
	FW_C_SHORTCUT,	  /* decided without the tables */
	FW_C_BAD,	  /* truncated IP header: dropped */
	FW_C_NOPORTS,	  /* TCP/UDP classified without ports (a later
			   * fragment conntrack lent none) */
	FW_C_RST_KERNEL,  /* reject: RST sent back by the data plane itself */
	FW_C_RST_LIMITED, /* reject: over FW_RST_RATE, dropped unanswered */
	FW_C_CLASSIFIED,  /* went through the class lookups (no cache hit) */
	FW_NCOUNTERS,
};

/* In-kernel TCP RSTs a CPU may send a second (and as a burst): beyond,
 * a rejected segment is dropped unanswered (counted). */
#define FW_RST_RATE 1000

/* A rule as the control plane keeps it (fw_rules, by number; the data
 * plane never reads it). */
#define FW_LIST_MAX 16 /* ports in a list, ranges included */
struct fw_range {
	__u16 lo, hi;
};
struct fw_pfx {
	__u8 addr[16]; /* masked */
	__u8 fam;      /* 0: any (no prefix given), 4 or 6 */
	__u8 plen;
};
struct fw_rule {
	__u32 num;
	__u8 action; /* enum fw_action */
	__u8 dir;    /* 0: any, 1 + enum fw_dir */
	__u8 fam;    /* 0: any, 4 or 6 (from src/dst) */
	__u8 state;  /* 1 << enum fw_ct_state bits; 0: any */
	__s16 proto; /* -1: any */
	__u8 nsport, ndport;
	struct fw_pfx src, dst;
	struct fw_range sport[FW_LIST_MAX], dport[FW_LIST_MAX];
};

/* Drop and slow-path reasons (the contract's table, from the NF base). */
#define FW_R_RULE 64   /* dropped by a rule or the default */
#define FW_R_REJECT 65 /* reject: to the slow path for an RST/ICMP error */
#define FW_R_BAD 66    /* truncated or malformed IP header */

#endif
