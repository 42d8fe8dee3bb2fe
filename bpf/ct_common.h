/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Connection tracking: what the data plane (bpf/ct.h) and the control
 * plane (lib/conntrack.c) share. One definition for both sides, like common.h.
 * Include vmlinux.h (BPF) or <linux/types.h> (userspace) first.
 *
 * The table is keyed by a normalised tuple (struct nfct_key: the lower
 * endpoint first), so a packet and its reply find the same entry with one
 * lookup, and the entry says which endpoint opened the connection.
 *
 * Maps an NF gets from NFCT_MAPS() (bpf/ct.h), pinned with the NF's own:
 *   ct_table  hash nfct_key -> nfct_entry, shared by every CPU (a reply
 *             may arrive on another one); size set by the NF at load
 *   ct_cfg    array[1] of struct nfct_cfg: timeouts, written live by the
 *             control plane (nfct_configure)
 *   ct_stats  per-CPU array[NFCT_ST_MAX] of __u64 counters
 *   ct_frags  LRU hash nfct_frag_key -> nfct_frag: the ports of an IP
 *             datagram's first fragment, for its later fragments
 */
#ifndef NFC_CT_COMMON_H
#define NFC_CT_COMMON_H

/* The helpers below are inlined in BPF (no subprogram calls next to tail
 * calls) and plain inline functions in userspace. */
#define NFCT_INLINE inline __attribute__((always_inline))

/* An address in 16 bytes. IPv4 is held IPv4-mapped (::ffff:a.b.c.d, RFC
 * 4291 2.5.5.2), so one layout serves both families and an IPv6-shaped
 * prefix (::ffff:0:0/96 + v4 prefix) can match IPv4 too. Network order. */
#define NFCT_V4MAPPED_W2 \
	0x0000ffffU /* word 2 of a mapped address, host order */

/* Families, as the parser reports them. */
enum nfc_family {
	NFC_FAMILY_NONE = 0, /* not IP (ARP, LLDP ...): not tracked */
	NFC_FAMILY_V4 = 4,
	NFC_FAMILY_V6 = 6,
};

/* L4 protocols the tracker knows by name; any other is tracked as a
 * "generic" pseudo-connection on (addresses, protocol). */
#define NFC_IPPROTO_ICMP 1
#define NFC_IPPROTO_TCP 6
#define NFC_IPPROTO_UDP 17
#define NFC_IPPROTO_ICMPV6 58

/* The normalised key: endpoint a is the smaller (address, then port) of
 * the two, b the other; padding zeroed (the key is hashed byte by byte). */
struct nfct_key {
	__u32 a[4];
	__u32 b[4];
	__be16 pa; /* ports; ICMP echo: the identifier, in both */
	__be16 pb;
	__u8 proto;
	__u8 family; /* enum nfc_family */
	__u16 pad;
};

/* The state of an entry (struct nfct_entry.state). TCP follows a reduced
 * Linux nf_conntrack machine (docs/conntrack.md has the table); other
 * protocols have two states. Each has its own timeout (nfct_cfg). */
enum nfct_state_id {
	NFCT_S_NONE = 0,
	NFCT_S_SYN_SENT = 1,	/* SYN seen, nothing back yet */
	NFCT_S_SYN_RECV = 2,	/* SYN-ACK seen back */
	NFCT_S_ESTABLISHED = 3, /* the ACK of the SYN-ACK seen */
	NFCT_S_FIN_WAIT = 4,	/* a FIN seen one way */
	NFCT_S_TIME_WAIT = 5,	/* FINs seen both ways */
	NFCT_S_CLOSE = 6,	/* RST seen */
	NFCT_S_UNREPLIED = 7,	/* UDP, ICMP echo, other: one way only */
	NFCT_S_REPLIED = 8,	/* ... seen both ways */
	NFCT_S_MAX = 9,
};

/* The Linux defaults (nf_conntrack sysctls), in seconds; a config may set
 * any of them (short ones for tests). ICMP and "generic" share the
 * non-TCP states with UDP but have their own timeouts: nfct_cfg.timeout
 * is by state for TCP, and the UDP/ICMP/other rows below for the rest. */
#define NFCT_TO_SYN_SENT 120
#define NFCT_TO_SYN_RECV 60
#define NFCT_TO_ESTABLISHED 432000 /* 5 days */
#define NFCT_TO_FIN_WAIT 120
#define NFCT_TO_TIME_WAIT 120
#define NFCT_TO_CLOSE 10
#define NFCT_TO_UDP 30	       /* unreplied */
#define NFCT_TO_UDP_STREAM 120 /* replied */
#define NFCT_TO_ICMP 30
#define NFCT_TO_GENERIC 600

/* Index into nfct_cfg.timeout: a state for TCP, a row per protocol class
 * for the others. nfct_timeout_index() (below) picks it. */
enum nfct_timeout_id {
	NFCT_T_SYN_SENT = NFCT_S_SYN_SENT,
	NFCT_T_SYN_RECV = NFCT_S_SYN_RECV,
	NFCT_T_ESTABLISHED = NFCT_S_ESTABLISHED,
	NFCT_T_FIN_WAIT = NFCT_S_FIN_WAIT,
	NFCT_T_TIME_WAIT = NFCT_S_TIME_WAIT,
	NFCT_T_CLOSE = NFCT_S_CLOSE,
	NFCT_T_UDP = 7,
	NFCT_T_UDP_STREAM = 8,
	NFCT_T_ICMP = 9,
	NFCT_T_GENERIC = 10,
	NFCT_T_MAX = 16,
};

/* What nfct_lookup says of a packet (nfct_res.state, bpf/ct.h): bits, so
 * that a rule's state list (state=established,related) is one mask. */
#define NFCT_NEW (1 << 0)
#define NFCT_ESTABLISHED (1 << 1)
#define NFCT_RELATED (1 << 2)
#define NFCT_INVALID (1 << 3)
#define NFCT_UNTRACKED (1 << 4)

/* Entry flags. */
#define NFCT_F_ORIG_IS_B (1 << 0) /* endpoint b opened the connection */
#define NFCT_F_SEEN_REPLY (1 << 1)
#define NFCT_F_FIN_ORIG (1 << 2) /* a FIN went in the original direction */
#define NFCT_F_FIN_REPLY (1 << 3)

/* Directions of a packet against its entry. */
#define NFCT_DIR_ORIG 0
#define NFCT_DIR_REPLY 1

struct nfct_entry {
	/* bpf_ktime_get_coarse_ns() of the last packet, rewritten only when
	 * it moved by NFCT_TS_STEP_NS or more: an established flow does not
	 * write its entry's cache line for the clock on every packet. The
	 * entry expires at last_ns + its state's timeout. */
	__u64 last_ns;
	__u64 packets[2]; /* [NFCT_DIR_ORIG], [NFCT_DIR_REPLY] */
	__u64 bytes[2];
	__u8 state; /* enum nfct_state_id */
	__u8 flags; /* NFCT_F_* */
	__u16 pad;
	/* Free for the NF that owns the table (NAT: its translation, LB: the
	 * backend); created zero, never read or written by the tracker. */
	__u32 nf_data[5];
};
_Static_assert(sizeof(struct nfct_key) == 40, "key layout");
_Static_assert(sizeof(struct nfct_entry) == 64, "one cache line");

/* Granularity of last_ns: ~134 ms, well under the shortest timeout a
 * test sets (1 s), and rare enough to keep the write off the hot path. */
#define NFCT_TS_STEP_NS (1ULL << 27)

/* Live settings (ct_cfg[0]). */
struct nfct_cfg {
	__u32 timeout[NFCT_T_MAX]; /* seconds, by enum nfct_timeout_id */
	__u32 flags;		   /* NFCT_CFG_* */
	__u32 pad;
};
/* Pick up TCP connections from the middle (an ACK with no entry is NEW),
 * as Linux with nf_conntrack_tcp_loose=1. Off: such a packet is INVALID
 * (loose=0), which is what a firewall wants. */
#define NFCT_CFG_TCP_LOOSE (1 << 0)

/* Counters (ct_stats, per CPU, summed by the control plane). */
enum nfct_stat_id {
	NFCT_ST_CREATED = 0,   /* entries confirmed (NFs' accepted new flows) */
	NFCT_ST_REFUSED = 1,   /* insertions refused: table full */
	NFCT_ST_EVICTED = 2,   /* evicted to make room (control plane) */
	NFCT_ST_EXPIRED = 3,   /* timed out and removed (control plane) */
	NFCT_ST_INVALID = 4,   /* packets classified invalid */
	NFCT_ST_RELATED = 5,   /* ICMP errors matched to an entry */
	NFCT_ST_FRAG_MISS = 6, /* later fragments whose first was not seen */
	NFCT_ST_MAX = 8,
};

/* A datagram's fragments: (addresses, protocol, IP id) -> the first
 * fragment's ports. */
struct nfct_frag_key {
	__u32 src[4];
	__u32 dst[4];
	__u32 id; /* IPv4: the 16-bit id; IPv6: the fragment header's */
	__u8 proto;
	__u8 family;
	__u16 pad;
};
struct nfct_frag {
	__be16 sport;
	__be16 dport;
};
#define NFCT_FRAGS_MAX 8192 /* datagrams in reassembly at once, all CPUs */

/* TCP flags (byte 13 of the header), as nfc_flow.tcp_flags holds them. */
#define NFCT_TCP_FIN 0x01
#define NFCT_TCP_SYN 0x02
#define NFCT_TCP_RST 0x04
#define NFCT_TCP_PSH 0x08
#define NFCT_TCP_ACK 0x10
#define NFCT_TCP_SYN_ACK_FIN (NFCT_TCP_SYN | NFCT_TCP_ACK | NFCT_TCP_FIN)

/* Not a state: what nfct_tcp_next returns for a segment that is invalid
 * in the entry's state (the packet is INVALID, the entry left alone). */
#define NFCT_S_INVALID 0xff

/* 1 for a bare SYN from the answering side or a SYN-ACK from the opener
 * of a connection past its handshake (established, fin_wait, time_wait),
 * else 0. Arithmetic, one branch where it is used: the firewall's program
 * is at the verifier's limit. */
static NFCT_INLINE __u64 nfct_syn_past_handshake(__u8 s, __u8 f, __u8 dir)
{
	__u64 syn = (f >> 1) & 1, ack = (f >> 4) & 1;
	__u64 in = ((__u64)(__u8)(s - NFCT_S_ESTABLISHED) -
		    (NFCT_S_TIME_WAIT - NFCT_S_ESTABLISHED + 1)) >>
		   63;

	return syn & (ack ^ (dir & 1)) & in;
}

/* TCP: the entry's next state on a segment with flags `f` going `dir`.
 * Returns the new state, NFCT_S_NONE for "a new connection on this
 * tuple" (a SYN after the old one closed), or NFCT_S_INVALID. Sets the
 * FIN bits of e->flags. Pure: the unit tests (tests/unit/test_ct.c) walk
 * it in userspace. */
static NFCT_INLINE __u8 nfct_tcp_next(struct nfct_entry *e, __u8 f, __u8 dir)
{
	__u8 s = e->state;

	if (f & NFCT_TCP_RST)
		return NFCT_S_CLOSE;
	if ((f & (NFCT_TCP_SYN | NFCT_TCP_ACK)) == NFCT_TCP_SYN &&
	    (s == NFCT_S_TIME_WAIT || s == NFCT_S_CLOSE))
		return NFCT_S_NONE;
	/* A bare SYN from the answering side of a connection past its
	 * handshake opens nothing and belongs to nothing (Linux: sIV in
	 * ESTABLISHED and the closing states). It passed as established: a
	 * firewall with "accept established" let an outside host's SYN in
	 * to any inside host:port it had a connection with (found by a
	 * helper against nftables, 2026-12-07). SYN_RECV keeps it: there it
	 * may be a simultaneous open's SYN sent again. */
	if (nfct_syn_past_handshake(s, f, dir))
		return NFCT_S_INVALID;
	switch (s) {
	case NFCT_S_SYN_SENT:
		/* SYN-ACK, or simultaneous open */
		/* SYN-ACK, or simultaneous open. A FIN from the other end
		 * answers no SYN (Linux: sIV; it passed, found by a helper
		 * against nftables): INVALID (0xff) by a mask, not a
		 * branch. An ACK passes, the state kept (Linux: sIG): it
		 * may be a TIME_WAIT socket's challenge ACK, which the
		 * opener answers with the RST that clears it; dropped, a
		 * reconnect from the same port hung instead of being
		 * refused (found by a helper). */
		if (dir == NFCT_DIR_REPLY)
			return (f & NFCT_TCP_SYN)
				       ? NFCT_S_SYN_RECV
				       : (__u8)(s |
						(__u8) - (f & NFCT_TCP_FIN));
		/* From the opener only its SYN again: an ACK, FIN or
		 * SYN-ACK before anything came back answers nothing
		 * (Linux: sIV). An ACK passed as new (found by a helper
		 * against nftables). No flags at all here is a later
		 * fragment of the SYN (a flagless segment is refused
		 * before the table is read): it follows its first, as
		 * after Linux's reassembly; it was dropped as invalid (a
		 * fragmented SYN, found by a helper). One test for both,
		 * RST having returned above: a branch more overflows the
		 * firewall's verification. */
		return !(f & (NFCT_TCP_ACK | NFCT_TCP_FIN)) ? s
							    : NFCT_S_INVALID;
	case NFCT_S_SYN_RECV:
		if (dir == NFCT_DIR_ORIG && (f & NFCT_TCP_ACK) &&
		    !(f & NFCT_TCP_SYN))
			s = NFCT_S_ESTABLISHED;
		break;
	}
	if (f & NFCT_TCP_FIN) {
		__u8 bit = dir == NFCT_DIR_ORIG ? NFCT_F_FIN_ORIG
						: NFCT_F_FIN_REPLY;

		if (!(e->flags & bit))
			e->flags |= bit;
	}
	if (s >= NFCT_S_ESTABLISHED && s <= NFCT_S_FIN_WAIT &&
	    (e->flags & (NFCT_F_FIN_ORIG | NFCT_F_FIN_REPLY)))
		s = (e->flags & NFCT_F_FIN_ORIG) &&
				    (e->flags & NFCT_F_FIN_REPLY)
			    ? NFCT_S_TIME_WAIT
			    : NFCT_S_FIN_WAIT;
	return s;
}

/* What keeps an entry's last_ns when the first packet back from the other
 * end comes (bpf/ct.h): all ones, or 0 when it is a RST. Linux deletes an
 * entry whose only answer is a RST ("connection refused"); this one
 * expires then, its last_ns 0, so the next packet finds no entry, and an
 * ACK, data or a SYN-ACK from outside is invalid, not established. It
 * stayed in `close`, every such packet passing and keeping it alive
 * (found by a helper against nftables). A mask, not a branch: the
 * firewall's program is at the verifier's limit. */
static NFCT_INLINE __u64 nfct_first_reply_keep(__u8 tcp_flags)
{
	return ~-(__u64)((tcp_flags >> 2) & 1);
}

/* Whether a TCP segment's flags make sense (Linux tcp_valid_flags): SYN,
 * SYN-ACK, RST, RST-ACK, FIN-ACK, ACK, each with or without URG; PSH,
 * ECE and CWR do not matter. Anything else (no flags, SYN-FIN, a FIN
 * without ACK, "Christmas tree") is INVALID whatever the table holds. */
#define NFCT_TCP_URG 0x20
#define NFCT_TCP_CHECKED                                             \
	(NFCT_TCP_FIN | NFCT_TCP_SYN | NFCT_TCP_RST | NFCT_TCP_ACK | \
	 NFCT_TCP_URG)
static NFCT_INLINE int nfct_tcp_flags_valid(__u8 flags)
{
	const __u64 ok =
		1ULL << NFCT_TCP_SYN | 1ULL << (NFCT_TCP_SYN | NFCT_TCP_URG) |
		1ULL << (NFCT_TCP_SYN | NFCT_TCP_ACK) | 1ULL << NFCT_TCP_RST |
		1ULL << (NFCT_TCP_RST | NFCT_TCP_ACK) |
		1ULL << (NFCT_TCP_FIN | NFCT_TCP_ACK) |
		1ULL << (NFCT_TCP_FIN | NFCT_TCP_ACK | NFCT_TCP_URG) |
		1ULL << NFCT_TCP_ACK | 1ULL << (NFCT_TCP_ACK | NFCT_TCP_URG);

	return (ok >> (flags & NFCT_TCP_CHECKED)) & 1;
}

/* Which timeout row an entry uses. */
static NFCT_INLINE __u32 nfct_timeout_index(__u8 proto, __u8 state)
{
	if (proto == NFC_IPPROTO_TCP)
		return state < NFCT_S_UNREPLIED ? state : NFCT_T_CLOSE;
	if (proto == NFC_IPPROTO_UDP)
		return state == NFCT_S_REPLIED ? NFCT_T_UDP_STREAM : NFCT_T_UDP;
	if (proto == NFC_IPPROTO_ICMP || proto == NFC_IPPROTO_ICMPV6)
		return NFCT_T_ICMP;
	return NFCT_T_GENERIC;
}

/* Established for eviction: a connection that has proved itself (TCP past
 * its handshake and not closing, others answered). Never evicted while an
 * entry that is not remains; see docs/conntrack.md. */
static NFCT_INLINE int nfct_is_assured(__u8 proto, __u8 state)
{
	if (proto == NFC_IPPROTO_TCP)
		return state == NFCT_S_ESTABLISHED;
	return state == NFCT_S_REPLIED;
}

/* The same for an entry: also answered, so that a TCP connection picked
 * up midway (tcp_loose: established from its first ACK) is not protected
 * before anything came back (an ACK scan would fill the table with
 * entries nothing may evict). What the sweep uses. */
static NFCT_INLINE int nfct_entry_assured(const struct nfct_key *k,
					  const struct nfct_entry *e)
{
	return nfct_is_assured(k->proto, e->state) &&
	       (e->flags & NFCT_F_SEEN_REPLY);
}

/* Murmur3's finaliser: every input bit reaches every output bit. What
 * varies between flows is in the same top bits of the words as loaded
 * (network order on a little-endian CPU: an address's last byte, a
 * port's low byte): XORed together, or multiplied (which carries bits
 * only upwards), they gave the benchmark's 1,024 flows 256-557 slots of
 * 8,192, each shared slot a miss on every packet. Mixed word by word:
 * 952. */
static NFCT_INLINE __u32 nfct_mix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* The set of a tuple in a per-CPU flow cache (bpf/ct.h, the firewall's
 * fw_vc), from its words as loaded: the addresses (16 bytes, IPv4
 * mapped) and the ports (network order) folded into one word each (in
 * parallel), those combined at three rotations (what varies between flows
 * is in the same top bits of each word: an address's last byte, a port's
 * low byte; the rotations keep them apart), then one finaliser. Three
 * finalisers in series, as before 2026-12-05, cost ~35 cycles of latency
 * before the slot's address was known; this ~15. The harness's 1,024
 * flows take 671 of 1,024 sets (the three finalisers: 640) and random
 * tuples ~650. Not symmetric: a flow's two directions get two sets.
 * Here, not in ct.h, so that a test can find tuples of one set. */
static NFCT_INLINE __u32 nfct_rotl32(__u32 x, int r)
{
	return x << r | x >> (32 - r);
}

static NFCT_INLINE __u32 nfct_fc_set_hash(const __u32 *src, const __u32 *dst,
					  __u16 sport, __u16 dport, __u8 proto)
{
	__u32 s = src[0] ^ src[1] ^ src[2] ^ src[3];
	__u32 d = dst[0] ^ dst[1] ^ dst[2] ^ dst[3];
	__u32 p = ((__u32)sport << 16 | dport) ^ proto;

	return nfct_mix32(s ^ nfct_rotl32(d, 11) ^ nfct_rotl32(p, 21));
}

#endif
