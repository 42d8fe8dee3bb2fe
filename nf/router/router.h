/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * router: what its data plane (router.bpf.c) and control plane (router.c)
 * share: map layouts, FIB entry types, neighbour states, reasons. Include
 * vmlinux.h (BPF) or <linux/types.h> (userspace) first.
 *
 * Addresses are kept in network byte order everywhere. The route and port
 * model is family-agnostic (struct rt_ip holds either family); the data
 * plane has one FIB and one neighbour table per family, like the kernel:
 * IPv4 (rt_fib4 and its fast form rt_dir, rt_arp and rt_nbr) and IPv6
 * (rt_fib6, an LPM trie, and rt_nd).
 */
#ifndef NFC_ROUTER_H
#define NFC_ROUTER_H

/* Sizes. LPM tries and hashes are created without preallocation, so an
 * entry costs memory only once it exists. */
/* Static routes of both families together (rt_rib). A full IPv4 table
 * (about 1,000,000 prefixes in 2026 is the DFZ; 500,000 is what issue 13
 * asks) or a full IPv6 one (about 220,000) fits; the maps are not
 * preallocated, so an unused entry costs nothing but the hashes' bucket
 * arrays (4 MiB for rt_rib). A route costs about 250 bytes of kernel
 * memory in all (README.md: rt_rib, rt_fib4 or rt_fib6). */
#define RT_MAX_ROUTES 524288
#define RT_MAX_FIB                                                           \
	(RT_MAX_ROUTES + 4 * NFC_MAX_PORTS) /* + connected, local, broadcast \
					     */
#define RT_MAX_NEIGH 16384		    /* neighbour (ARP) entries */
#define RT_MAX_SARP 1024		    /* static ARP entries */

/* Ports given a direct (constant-index) tail call in the data plane; a
 * port above goes through the indirect one (nfc_output, the contract's). */
#define RT_FAST_PORTS NFC_OUT_FAST_PORTS

enum rt_family { RT_AF_NONE = 0, RT_AF_INET = 4, RT_AF_INET6 = 6 };

/* An address of either family (network order). */
union rt_ip {
	__be32 v4;
	__u8 v6[16];
	__u32 w[4];
};

/* rt_ports (array, index: port): what the data plane knows of a port. */
#define RT_PORT_UP 1  /* configured: has a MAC (and maybe an address) */
#define RT_PORT_V4 2  /* has an IPv4 address */
#define RT_PORT_NBR 4 /* its neighbours are mirrored in rt_nbr (see there) */
#define RT_PORT_V6                                            \
	8 /* has an IPv6 address (v6_addr; its link-local one \
	   * is in rt_fib6 as a local entry) */
/* Advertises its prefix (ra=on): the control plane's, to tell a change of
 * it; the data plane does not read it. */
#define RT_PORT_RA 16
struct rt_port {
	__u8 mac[6];
	__u8 flags;
	__u8 v4_plen;
	__be32 v4_addr;
	__be32 v4_mask;
	__be32 v4_bcast;  /* 0 when the prefix is /31 or /32 */
	__u8 v6_addr[16]; /* its global IPv6 address (RT_PORT_V6) */
	__u8 v6_plen;
	__u8 pad[3];
	/* Largest IP packet (header included) sent out of the port; 0: not
	 * checked (port field mtu). A larger one goes to the slow path
	 * (fragmentation needed, packet too big, or fragmented). The
	 * forwarding cache's generation was here once: rt_dir's epoch. */
	__u32 mtu;
};

/* FIB entry types, as in the kernel's route types. */
enum rt_fib_type {
	RT_FIB_CONNECTED = 1, /* on a port's subnet: next hop is the dst */
	RT_FIB_VIA = 2,	      /* static route through a next hop */
	RT_FIB_LOCAL = 3,     /* one of the router's own addresses */
	RT_FIB_BCAST = 4,     /* a connected subnet's broadcast address */
};

struct rt_fib4_key {
	__u32 plen; /* LPM trie: prefix length first */
	__be32 addr;
};

struct rt_fib6_key {
	__u32 plen;
	__u8 addr[16];
};

struct rt_fib_val {
	__u32 type; /* enum rt_fib_type */
	__u32 port;
	union rt_ip nh; /* RT_FIB_VIA */
	__u32 plen;	/* of the entry's own prefix */
};

/*
 * rt_dir (array of __u64): the IPv4 FIB again, as a DIR-16-8-8 table for
 * the fast path, which finds a destination's entry in at most three array
 * lookups instead of an LPM trie walk (measured: ~10 ns with a few routes,
 * ~100 ns through 10,000 routes near the destination). Level 1 has an
 * entry per /16; an entry is a result, empty, or a pointer to a block of
 * 256 entries of the next level (/24s, then addresses). rt_fib4 stays the
 * record (and the slow path's FIB); the control plane keeps rt_dir in step
 * with it. Blocks come from two pools; when one runs out, the region is
 * marked "look in the trie" (correct, only slower).
 *
 * Level 1 is there twice, and the epoch entry says which copy is live: a
 * new FIB as a whole (configure, a routes replace) is built in the other
 * copy and in blocks the live one does not reach, then switched in by one
 * write of the epoch, so that every packet is decided by the old table or
 * the new one, never by a mix (rt_dir.h). The epoch's other bits are the
 * forwarding cache's generation (rt_cache below): that same write voids
 * every decision of the old table. The fast path reads the epoch once a
 * packet.
 *
 * Entry: bits 0-31 next hop (network order) or block number, 32-39 port,
 * 40-43 type, 44-49 prefix length, 50-51 kind.
 */
#define RT_DIR_L2_BLOCKS 1024
#define RT_DIR_L3_BLOCKS 2048
#define RT_DIR_L1 0u /* level 1, copy 0 */
#define RT_DIR_L2 65536u
#define RT_DIR_L3 (RT_DIR_L2 + RT_DIR_L2_BLOCKS * 256u)
#define RT_DIR_USE (RT_DIR_L3 + RT_DIR_L3_BLOCKS * 256u) /* blocks used */
/* Bit 0: the live level-1 copy; bits 1-63: the cache's generation. */
#define RT_DIR_EPOCH (RT_DIR_USE + 2)
#define RT_DIR_L1B (RT_DIR_EPOCH + 1) /* level 1, copy 1 */
#define RT_DIR_SIZE (RT_DIR_L1B + 65536u)
#define RT_DIR_L1_OF(epoch) ((epoch)&1 ? RT_DIR_L1B : RT_DIR_L1)
#define RT_DIR_IS_L1(i) ((i) < RT_DIR_L2 || (i) >= RT_DIR_L1B)
enum rt_dir_kind {
	RT_DIR_EMPTY = 0,
	RT_DIR_RES = 1,
	RT_DIR_PTR = 2,
	RT_DIR_TRIE = 3,
};
#define RT_DIR_KIND(e) ((__u32)((e) >> 50) & 3)
#define RT_DIR_PLEN(e) ((__u32)((e) >> 44) & 63)
#define RT_DIR_TYPE(e) ((__u32)((e) >> 40) & 15)
#define RT_DIR_PORT(e) ((__u32)((e) >> 32) & 255)
#define RT_DIR_LOW(e) ((__u32)(e))
#define RT_DIR_ENC(kind, plen, type, port, low)                            \
	((__u64)(kind) << 50 | (__u64)(plen) << 44 | (__u64)(type) << 40 | \
	 (__u64)(port) << 32 | (__u32)(low))

/* rt_nd (hash): resolved IPv6 neighbours, keyed by port and address (a
 * link-local address is only unique on its link). No fast-path mirror:
 * IPv6 takes the LPM trie and this hash, like the kernel's tables. */
struct rt_nd_key {
	__u32 port;
	__u8 addr[16];
};

/* rt_arp (hash, key: IPv4 address): resolved neighbours only; one not
 * found (or on another port than the route's) goes to the slow path.
 *
 * rt_nbr (array): the same entries, direct-mapped for the fast path, which
 * finds a next hop there with index arithmetic instead of a hash lookup
 * (measured: the hash lookup was ~20 ns of the router's ~50). Each port
 * owns a slice of RT_NBR_SLICE entries, indexed by the low bits of the
 * address: a port whose subnet has at most RT_NBR_BITS host bits (a /22 or
 * longer) has every neighbour at its own index (flag RT_PORT_NBR); a
 * larger subnet's neighbours are found in rt_arp. rt_arp stays the record:
 * the control plane mirrors every change of it into rt_nbr. */
#define RT_NBR_BITS 10
#define RT_NBR_SLICE (1u << RT_NBR_BITS)
#define RT_NBR_INDEX(port, addr_host) \
	((port)*RT_NBR_SLICE + ((addr_host) & (RT_NBR_SLICE - 1)))
/* rt_cache (per-CPU array, direct-mapped by destination and in port): the
 * last forwarding decision for a destination, so that a hit skips the FIB,
 * the out port and the neighbour lookups. An entry holds while rt_dir's
 * epoch (the generation, with the live table's bit) is what it was when
 * the entry was made: the control plane bumps it after every change it
 * makes (ports, routes, ARP, and every tick, so that a neighbour in use is
 * seen used by the aging within a tick). */
#define RT_CACHE_BITS 8
#define RT_CACHE_SLOTS (1 << RT_CACHE_BITS)
struct rt_cache_ent {
	__be32 dst;
	__u32 in;
	__u32 out;
	__u32 mtu; /* the out port's (rt_port.mtu) */
	__u64 gen;
	__u8 dmac[6]; /* the next hop's */
	__u8 smac[6]; /* the out port's */
	__u32 pad2;
};

/* rt_cache6: the same for IPv6 (rt_cache's slots, its epoch), keyed by
 * the whole destination address: a hit skips the trie walk of rt_fib6
 * (its depth follows the routes sharing the destination's leading bits),
 * the out port and the rt_nd lookups. */
struct rt_cache6_ent {
	__u8 dst[16];
	__u32 in;
	__u32 out;
	__u32 mtu;
	__u32 pad;
	__u64 gen;
	__u8 dmac[6];
	__u8 smac[6];
	__u32 pad2;
};

enum rt_neigh_state {
	RT_N_REACHABLE = 1, /* learnt; aged and re-probed by tick() */
	RT_N_STATIC = 2,    /* from `arp add`; never aged */
};

struct rt_neigh {
	__u8 mac[6];
	__u8 state; /* 0 in rt_nbr: an empty slot */
	__u8 hit;   /* set by the data plane when used; cleared on aging */
	__u32 port;
	__u32 probes;  /* refresh probes sent since the last confirmation */
	__be32 addr;   /* rt_nbr: whose slot it is */
	__u64 updated; /* CLOCK_MONOTONIC ns of the last confirmation */
};

/* rt_rib (hash): static routes as configured, the record that survives
 * restarts. configure() derives the FIB from it and the ports: a route
 * whose next hop is on no connected subnet stays here, inactive. */
struct rt_rib_key {
	__u8 family;
	__u8 plen;
	__u8 pad[2];
	union rt_ip addr;
};

struct rt_rib_val {
	__u8 nh_family;
	__u8 nh_port; /* a link-local next hop's port + 1; else 0 */
	__u8 pad[2];
	union rt_ip nh;
};

/* rt_sarp (hash): static ARP entries as configured (key: family, addr as
 * in rt_rib_key with plen = full length). */
struct rt_sarp_val {
	__u8 mac[6];
	__u8 pad[2];
	char port[32]; /* port name as given; empty: the one whose subnet has it
			*/
};

/*
 * Reasons: counted per router in rt_cnt (per-CPU array, by index below)
 * and, offset by NFC_REASON_NF_BASE, in the global drop counters. Slow-path
 * reasons tell packet_in what to do with the frame.
 */
#define RT_REASONS(X)                                                        \
	X(0, NONE, "none")                                                   \
	X(1, ECHO_REPLIED, "echo requests answered in the fast path")        \
	X(2, ARP_REPLIED, "ARP requests answered in the fast path")          \
	X(3, SP_ARP, "to slow path: ARP to learn from")                      \
	X(4, SP_NEIGH_MISS, "to slow path: next hop not resolved")           \
	X(5, SP_TTL, "to slow path: TTL exceeded")                           \
	X(6, SP_NO_ROUTE, "to slow path: no route")                          \
	X(7, SP_LOCAL, "to slow path: for the router, not an echo")          \
	X(8, D_TRUNCATED, "dropped: truncated header")                       \
	X(9, D_BAD_HDR, "dropped: bad IPv4 version, header or total length") \
	X(10, D_BAD_CSUM, "dropped: bad IPv4 header checksum")               \
	X(11, D_OPTIONS, "dropped: IPv4 options")                            \
	X(12, D_FRAG_LOCAL, "dropped: fragment for the router")              \
	X(13, D_MARTIAN, "dropped: martian source or destination")           \
	X(14, D_OTHERHOST, "dropped: not addressed to the port's MAC")       \
	X(15, D_PROTO, "dropped: not IPv4, IPv6 or ARP")                     \
	X(16, D_PORT_DOWN, "dropped: in or out port not configured")         \
	X(17, D_BCAST, "dropped: directed broadcast")                        \
	X(18, D_ARP, "dropped: ARP not for the router or malformed")         \
	X(19, D_RPF, "dropped: reverse path filter")                         \
	X(20, D_ICMP_CSUM, "dropped: echo request with a bad ICMP checksum") \
	X(21, SP_ND, "to slow path: IPv6 neighbour or router discovery")     \
	X(22, SP_MTU, "to slow path: larger than the out port's MTU")        \
	X(23, D_LINKLOCAL, "dropped: IPv6 link-local, not forwarded")        \
	X(24, D_MCAST, "dropped: multicast, not routed")

enum rt_reason {
#define RT_REASON_ENUM(n, id, text) RT_##id = n,
	RT_REASONS(RT_REASON_ENUM)
#undef RT_REASON_ENUM
		RT_NREASONS
};

/* Control-plane counters, in the same map as the reasons (rt_cnt, from
 * index RT_CP_BASE; written by the slow path on CPU 0's copy) so that any
 * process reading stats sees the slow path's figures. */
#define RT_CP_BASE 32
#define RT_CPSTATS(X)                \
	X(0, arp_requests_sent)      \
	X(1, arp_replies_received)   \
	X(2, neigh_learnt)           \
	X(3, neigh_expired)          \
	X(4, resolution_failed)      \
	X(5, queued)                 \
	X(6, queue_sent)             \
	X(7, queue_dropped)          \
	X(8, icmp_time_exceeded)     \
	X(9, icmp_net_unreachable)   \
	X(10, icmp_host_unreachable) \
	X(11, icmp_port_unreachable) \
	X(12, icmp_rate_limited)     \
	X(13, icmp_not_sent)         \
	X(14, slow_path_dropped)     \
	X(15, neigh_flushed)         \
	X(16, ns_sent)               \
	X(17, na_received)           \
	X(18, na_sent)               \
	X(19, ra_sent)               \
	X(20, icmp6_errors)          \
	X(21, icmp_frag_needed)      \
	X(22, fragmented)            \
	X(23, echo6_replied)

enum rt_cpstat {
#define RT_CPSTAT_ENUM(n, id) RT_CP_##id = n,
	RT_CPSTATS(RT_CPSTAT_ENUM)
#undef RT_CPSTAT_ENUM
		RT_NCPSTATS
};
#define RT_NCOUNTERS (RT_CP_BASE + RT_NCPSTATS)

#endif
