/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat: what the data plane (nat.bpf.c) and the control plane (nat.c,
 * nat_rule.c) share. Include vmlinux.h (BPF) or <linux/types.h> first.
 *
 * A translated connection has two records:
 *   - its conntrack entry (bpf/ct.h, ct_table), keyed by the tuple as the
 *     first packet arrived (before translation); nf_data holds the
 *     translation (struct nat_xlat) applied to its original direction;
 *   - a nat_rev entry keyed by the tuple its replies carry on the wire
 *     (after translation, seen from the reply's side), giving back the
 *     original tuple. Inserting it with BPF_NOEXIST is what makes a port
 *     pick atomic: two CPUs never get the same outside tuple.
 * IPv4 only: addresses are __be32, ports and ICMP echo ids __be16.
 */
#ifndef NFC_NAT_H
#define NFC_NAT_H

/* Rules in a set (first match wins); two halves, one live. */
#define NAT_MAX_RULES 64
/* Outside tuples tried for one new connection before it is refused as
 * exhausted (the original port, then this many random ports; a range no
 * larger, every port once). */
#define NAT_TRIES 32
#define NAT_REV_SIZE 131072

enum nat_type {
	NAT_T_NONE = 0,
	NAT_T_SNAT = 1,
	NAT_T_MASQ = 2,
	NAT_T_DNAT = 3,
};

/* A rule as the data plane matches it. Prefixes and ranges in host
 * order; proto 0: any. */
struct nat_rule {
	__u32 num;
	__u8 type; /* enum nat_type */
	__u8 proto;
	__u8 src_len, dst_len;
	__u32 src, dst; /* host order, masked */
	__u16 sport_lo, sport_hi;
	__u16 dport_lo, dport_hi;
	__u32 to_lo, to_hi;	      /* host order; MASQ: the live address */
	__u16 to_port_lo, to_port_hi; /* 0: keep / the NF's range */
};

/* nat_set[0]: which half is live and how many rules it has. */
struct nat_set {
	__u32 live;
	__u32 n[2];
	__u32 gen;
	__u16 port_lo, port_hi; /* ports=, host order */
};

/* The wire tuple of a direction (nat_rev's key). */
struct nat_tuple {
	__be32 src, dst;
	__be16 sport, dport;
	__u8 proto;
	__u8 pad[3];
};

/* The per-CPU flow cache's slot (nat.bpf.c says how it works); `mappings
 * show` adds what slots gathered and have not put in their entries. */
#define NAT_FC_BITS 13
#define NAT_FC_SLOTS (1 << NAT_FC_BITS) /* 64 bytes each, per CPU */

struct nat_fc_slot {
	/* The packet's tuple on the wire; pad[0]: its L4 checksum's offset
	 * (nat_fc_kind), so that a packet whose L4 header is rewritten
	 * another way (an echo id 0 beside another ICMP type) misses. */
	struct nat_tuple w;
	/* Its connection's tuple, this direction, untranslated (proto: w's):
	 * where the gathered counters go. */
	__be32 csrc, cdst;
	__be16 csport, cdport;
	__u32 gen;   /* ct_fc_gen when filled */
	__u64 ts;    /* when last synced with the entry; 0: empty */
	__u64 bytes; /* gathered since, not yet in the entry */
	__u32 packets;
	__be32 addr; /* the rewrite, as nat_rewrite takes it */
	__be16 port;
	/* What the rewrite adds to the IP header's and the L4 checksums
	 * (csum_delta): the old values are the key's, so they are known at
	 * fill time and a hit folds once per checksum. */
	__u16 d3, d4;
	__u8 dst;
	__u8 dir; /* NFCT_DIR_* of the packets */
};
_Static_assert(sizeof(struct nat_fc_slot) == 64, "one cache line");

/* nat_rev's value: the connection's original tuple (pre-translation) and
 * how it was translated. */
struct nat_rev {
	struct nat_tuple orig;
	__u8 type; /* NAT_T_SNAT/MASQ: replies get dst rewritten; DNAT: src */
	__u8 pad[3];
};

/* In nfct_entry.nf_data (20 bytes): the original direction's rewrite. */
struct nat_xlat {
	__be32 addr;  /* new source (SNAT) or destination (DNAT) */
	__be16 port;  /* new source / destination port or echo id */
	__u8 type;    /* enum nat_type; 0: not translated */
	__u8 ready;   /* written after the entry exists */
	__be32 raddr; /* the outside tuple's remote end, for the sweep */
	__be16 rport;
	__u16 pad;
	__u32 pad2;
};

enum nat_counter {
	NAT_C_SNAT = 0,	      /* new connections source-translated */
	NAT_C_DNAT = 1,	      /* new connections destination-translated */
	NAT_C_XLATED = 2,     /* packets rewritten (both directions) */
	NAT_C_EXHAUSTED = 3,  /* new connections refused: no free tuple */
	NAT_C_TABLE_FULL = 4, /* refused: conntrack or nat_rev full */
	NAT_C_NO_ADDR = 5,    /* masquerade with no address yet: passed */
	NAT_C_PASSED = 6,     /* not IPv4 or no rule: untouched */
	NAT_C_RACE = 7,	      /* lost a race on a new flow: dropped */
	NAT_C_BAD = 8,	      /* malformed or unwritable: dropped */
	NAT_C_ICMP_ERR = 9,   /* ICMP errors translated */
	NAT_NCOUNTERS = 10,
};

/* Drop reasons handed to nfc_drop (NF-specific range). */
#define NAT_R_BAD 80
#define NAT_R_REFUSED 81

#endif
