/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Definitions shared by the data plane and the runtime library: limits, the
 * layout of the shared maps and of a packet-in record. Both sides include
 * this one file, so the two can never drift apart.
 *
 * Types come from vmlinux.h on the BPF side and from <linux/types.h> in
 * userspace; include one of those first.
 */
#ifndef NFCHAIN_COMMON_H
#define NFCHAIN_COMMON_H

/* Limits. Each is written down in docs/limits.md; the runtime refuses a
 * change that would exceed one with an error naming it. */
#define NFC_MAX_NFS 256	   /* NF instances per pin root */
#define NFC_MAX_PORTS 64   /* ports per NF (bridge needs >= 64) */
#define NFC_MAX_STUBS 512  /* netdev hooks: ingress and egress count apart */
#define NFC_MAX_ATTACH 8   /* transparent NFs on one target */
#define NFC_MAX_DEPTH 32   /* tail calls a packet may take (kernel: 33) */
#define NFC_NAME_MAX 32	   /* NF, port and type names, NUL included */
#define NFC_PKTIN_MAX 2048 /* bytes of a frame copied to the slow path */

/* The section of the config globals a program reads at run time
 * (NFC_FIELD_RUNTIME); libbpf names its map after it. */
#define NFC_CFG_SEC ".data.nfc_cfg"

/* A power of two: the copy's length is masked for the verifier (see
 * nfc_to_slow_path). */
_Static_assert((NFC_PKTIN_MAX & (NFC_PKTIN_MAX - 1)) == 0, "NFC_PKTIN_MAX");

/*
 * Program-array layout (one array per hook type). Every slot that the hot
 * path tail-calls through is known to the verifier as a constant, so the JIT
 * emits a direct jump rather than a retpoline (these machines run with
 * retpolines): an NF's own id is a load-time constant, and so is the port in
 * most outputs.
 *   LINK slot  (nf, port): the program of the next NF on the path leaving
 *                           port `port` of NF `nf`.
 *   STUB slot  (k):        the program of the first NF behind netdev hook k.
 *   NF slot    (nf):       NF `nf`'s own nfc_entry, for a packet that raced
 *                           a rewire (nfc_meta_entry): off the hot path.
 * A pin root of an older build has no NF slots (its arrays are smaller):
 * such a packet is dropped and counted there, as before.
 */
#define NFC_LINK_SLOT(nf, port) ((nf)*NFC_MAX_PORTS + (port))
#define NFC_STUB_SLOT(k) (NFC_MAX_NFS * NFC_MAX_PORTS + (k))
#define NFC_NF_SLOT(nf) (NFC_MAX_NFS * NFC_MAX_PORTS + NFC_MAX_STUBS + (nf))
#define NFC_PROG_SLOTS \
	(NFC_MAX_NFS * NFC_MAX_PORTS + NFC_MAX_STUBS + NFC_MAX_NFS)
#define NFC_GPORT(nf, port) ((nf)*NFC_MAX_PORTS + (port))
#define NFC_GPORTS (NFC_MAX_NFS * NFC_MAX_PORTS)
/* nfc_stats has one slot more an NF, after the ports': the counts of its
 * ports that were replaced (lib/reconcile.c retire_stats), so that its
 * totals never go back. The data plane never writes it. */
#define NFC_STATS_RETIRED(nf) (NFC_GPORTS + (nf))
#define NFC_STATS_SLOTS (NFC_GPORTS + NFC_MAX_NFS)

/* Output ports 0 .. NFC_OUT_FAST_PORTS - 1 are a direct jump even when the
 * NF's port is a variable: nfc_output() (nfchain.bpf.h) has a constant-port
 * copy of the tail call for each. A port above is an indirect jump. */
#define NFC_OUT_FAST_PORTS 4

/*
 * Direct attachment: when a netdev's ingress hook leads straight to an NF
 * port, the NF's own program (nfc_direct) is attached there instead of the
 * stub, which saves the stub's run and a tail call on every packet. It
 * finds its in_port by the netdev's ifindex in its own slice of the
 * ifports table, direct-mapped by the low bits of the ifindex; a netdev
 * whose slot is taken (two ports of one NF whose ifindexes collide) keeps
 * its stub.
 */
#define NFC_IFSLOT_BITS 8
#define NFC_IFSLOTS (NFC_MAX_NFS << NFC_IFSLOT_BITS)
#define NFC_IFSLOT(nf, ifindex) \
	((nf) << NFC_IFSLOT_BITS | ((ifindex) & ((1 << NFC_IFSLOT_BITS) - 1)))

struct nfc_ifport {
	__u32 ifindex; /* 0: a free slot */
	__u32 port;
};

/* What lies behind a port (or a netdev hook): the value of the links map. */
enum nfc_hop_kind {
	NFC_HOP_NONE = 0,   /* unconnected: drop, counted */
	NFC_HOP_NF = 1,	    /* tail call into nf/port through the LINK slot */
	NFC_HOP_NETDEV = 2, /* redirect to ifindex (devmap in XDP) */
	NFC_HOP_PASS = 3,   /* hand to the kernel stack / let it continue */
};

struct nfc_hop {
	__u32 kind;
	__u32 nf;      /* NFC_HOP_NF: next NF id */
	__u32 port;    /* NFC_HOP_NF: its in_port */
	__u32 ifindex; /* NFC_HOP_NETDEV */
};

/*
 * Ethernet and 802.1Q, one set for every NF and the runtime. Host order:
 * compare EtherTypes with bpf_htons() / htons(). Prefixed, because
 * userspace also sees the kernel's ETH_P_* (<linux/if_ether.h>) and the BPF
 * side sees none (vmlinux.h has no macros).
 */
#define NFC_ETH_ALEN 6			    /* a MAC address */
#define NFC_ETH_HLEN (2 * NFC_ETH_ALEN + 2) /* dst, src, EtherType */
#define NFC_VLAN_HLEN 4			    /* TPID, TCI */
#define NFC_VLAN_ETH_HLEN (NFC_ETH_HLEN + NFC_VLAN_HLEN) /* with one tag */
#define NFC_ETH_P_IP 0x0800
#define NFC_ETH_P_ARP 0x0806
#define NFC_ETH_P_IPV6 0x86dd
#define NFC_ETH_P_8021Q 0x8100	  /* a VLAN tag (C-tag) */
#define NFC_ETH_P_8021AD 0x88a8	  /* an outer tag (S-tag, QinQ) */
#define NFC_VLAN_VID_MASK 0x0fff  /* a TCI's VID ... */
#define NFC_VLAN_PRIO_MASK 0xf000 /* ... and its PCP and DEI bits */
#define NFC_VLAN_N_VID (NFC_VLAN_VID_MASK + 1) /* VIDs 0..4095 */
_Static_assert(NFC_ETH_HLEN == 14 && NFC_VLAN_ETH_HLEN == 18, "802.3 sizes");
_Static_assert((NFC_VLAN_VID_MASK | NFC_VLAN_PRIO_MASK) == 0xffff &&
		       !(NFC_VLAN_VID_MASK & NFC_VLAN_PRIO_MASK),
	       "a TCI is PCP:3, DEI:1, VID:12");

/* Per-CPU packet metadata: set by whoever hands a packet to an NF (stub,
 * previous NF, packet-out), read by the NF. A per-CPU map rather than
 * data_meta: data_meta broke after ~1.7k frames under the live-frames generator
 * (bench/bpf/gen.bpf.c recycles pages with what the DUT wrote), a per-CPU
 * array never did. */
enum nfc_direction {
	NFC_DIR_INGRESS = 0, /* toward the NF the traffic is going into */
	NFC_DIR_EGRESS = 1,  /* away from it (transparent NFs: see docs) */
};

struct nfc_meta {
	__u32 nf;	 /* NF the packet is being handed to */
	__u32 in_port;	 /* its port the packet arrives on */
	__u32 direction; /* enum nfc_direction */
	__u32 mark;	 /* free for NFs; survives the whole chain */
	__u32 ifindex;	 /* netdev the packet entered the chain on */
	__u32 reserved;	 /* was the depth, which nothing read (a loop is cut
			  * by the kernel's tail-call limit, NFC_R_TAIL_CALL;
			  * a chain too long by the runtime); not set, so it
			  * holds anything. Kept, not removed: NF objects
			  * built against an older header bind this map by
			  * its size and read on_stack at offset 24 */
	__u32 on_stack;	 /* 1 in a program's own copy, 0 in the map (see
			  * nfc_meta_save) */
	__u32 pad;	 /* to 8 bytes: userspace reads the per-CPU map in
			  * 8-byte strides */
};

/* Per-port counters the framework keeps for every NF (per-CPU array,
 * index NFC_GPORT). */
struct nfc_port_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 drops;
};

/* Userspace reads per-CPU values in strides of the value size rounded up
 * to 8 bytes: a struct that is not a multiple of 8 gets every CPU but the
 * first wrong, silently (seen with a 28-byte nfc_meta). */
_Static_assert(sizeof(struct nfc_meta) % 8 == 0, "per-CPU stride");
_Static_assert(sizeof(struct nfc_port_stats) % 8 == 0, "per-CPU stride");

/*
 * Drop and slow-path reasons: one numbered table, printed by name by the
 * runtime (nfc_reason_name). NFs add their own from NFC_REASON_NF_BASE up
 * to NFC_REASON_MAX - 1; nfc_drop() counts a larger one as NF_DROP.
 */
#define NFC_REASONS(X)                                                   \
	X(0, NONE, "none")                                               \
	X(1, NF_DROP, "dropped by the NF")                               \
	X(2, NO_PEER, "output port not connected")                       \
	X(3, STALE_META, "metadata for another NF (rewire in progress)") \
	X(4, TAIL_CALL, "tail call failed (slot empty or too deep)")     \
	X(5, REDIRECT, "redirect failed")                                \
	X(6, BAD_PORT, "port out of range")                              \
	X(7, RING_FULL, "slow-path ring full")
/* 8 was TOO_DEEP, the per-hop depth check's, which is gone (see the
 * reserved field of nfc_meta): not reused, so that a count left in a
 * pinned nfc_global by an older data plane is never shown as another
 * reason. */

enum nfc_reason {
#define NFC_REASON_ENUM(n, id, text) NFC_R_##id = n,
	NFC_REASONS(NFC_REASON_ENUM)
#undef NFC_REASON_ENUM
		NFC_REASON_NF_BASE = 64,
	NFC_REASON_MAX = 128,
};

/* Global counters (per-CPU array nfc_global): one slot per reason (index:
 * enum nfc_reason), then NFC_G_NAMED named slots, two of them used. */
#define NFC_G_PKTIN NFC_REASON_MAX	   /* packets handed to the slow path */
#define NFC_G_PKTIN_LOST (NFC_G_PKTIN + 1) /* ... lost: the ring was full */
#define NFC_G_NAMED 8			   /* room for more */
#define NFC_G_SLOTS (NFC_REASON_MAX + NFC_G_NAMED)
_Static_assert(NFC_G_SLOTS == 136, "nfc_global is pinned and shared by every "
				   "NF object: resize it on purpose only");
_Static_assert(NFC_G_PKTIN_LOST < NFC_G_SLOTS, "named slots fit");

/* A packet-in record in the ring buffer: header then cap_len bytes. */
struct nfc_pktin {
	__u32 nf;
	__u32 in_port;
	__u32 direction;
	__u32 mark;
	__u32 ifindex;
	__u32 reason;
	__u32 pkt_len; /* length of the whole frame */
	__u32 cap_len; /* bytes that follow the header */
};

/* Packet-out: the frame handed to the inject program starts with this
 * header, which the program strips before acting as if NF `nf` had called
 * output(port). */
#define NFC_INJECT_MAGIC 0x6e66636fU /* "nfco" */
struct nfc_inject_hdr {
	__u32 magic;
	__u16 nf;
	__u16 port;
};

#endif
