/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lb: what its data plane (lb.bpf.c) and control plane (lb*.c) share.
 * Include vmlinux.h (BPF) or <linux/types.h> (userspace) first.
 *
 * Maps (pinned under the NF, kept across reloads):
 *   lb_vips      hash: a VIP (struct lb_vip) -> its service (struct lb_svc)
 *   lb_vidx      array [LB_VIDX_SLOTS]: lb_vips in front, direct-mapped
 *                by lb_vidx_slot(): a slot holds the one VIP that maps
 *                there with its service, LB_VS_NONE when none does, or
 *                nothing (family 0: several, or not known) and the packet
 *                asks lb_vips (lb_vidx.c)
 *   lb_svcs      array [LB_MAX_SVC]: the services by id, the control
 *                plane's record (key and fields), which the fast path
 *                does not read
 *   lb_bes       array [LB_MAX_BE]: backends by id (struct lb_be)
 *   lb_rings     array of maps [LB_MAX_SVC]: each service's Maglev table,
 *                an array of backend ids; a new table is a new inner map
 *                swapped in by one update of the slot (the kernel
 *                publishes the pointer at once: a lookup sees the old
 *                table or the new one, never a mix)
 *   lb_conns     LRU hash: a flow (struct lb_flow) -> its backend
 *                (struct lb_conn): the connection table, looked up before
 *                the Maglev table, so that a flow keeps its backend when
 *                the backend set changes
 *   ct_table ... the shared connection tracker's maps (bpf/ct.h):
 *                forward=nat's connections, keyed by the rewritten tuple
 *                (client <-> backend), the VIP and port in nf_data
 *   lb_svc_stats, lb_be_stats  per-CPU counters by service and backend id
 *   lb_fc        per-CPU array: the flow cache in front of lb_conns and
 *                the tracker (lb.bpf.c), with the tracker's ct_fc_gen
 */
#ifndef NFC_LB_H
#define NFC_LB_H

#define LB_MAX_SVC 64	   /* services per lb */
#define LB_MAX_BE 1024	   /* backends per lb, all services together */
#define LB_MAX_CONNS 65536 /* connection table entries (LRU) */
/* The largest table allowed (a prime): 1 MiB of map per service. */
#define LB_TABLE_MAX 131071
#define LB_TABLE_DEF 65537 /* Katran's and the Maglev paper's size */
#define LB_WEIGHT_MAX 1000

enum { LB_AF_INET = 4, LB_AF_INET6 = 6 };
enum { LB_FWD_DSR = 0, LB_FWD_NAT = 1 };
enum { LB_BE_FREE = 0, LB_BE_UP = 1, LB_BE_DRAIN = 2 };

/* A service's address: IPv4 in addr[0], network order. */
struct lb_vip {
	__u32 addr[4];
	__u16 port; /* network order */
	__u8 proto; /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family;
};

struct lb_svc {
	__u32 id;
	__u32 forward; /* LB_FWD_* */
	__u32 table;   /* size of its Maglev table (a prime) */
	__u32 pad;
};

/* lb_vidx. An array lookup and a compare instead of a hash lookup:
 * lb_vips took ~19 of the lb's ~105 ns a packet (perf, 1,024 NAT flows).
 * 256 slots for at most 64 VIPs: two share a slot now and then, and
 * those packets ask lb_vips, as all did before. */
#define LB_VIDX_SLOTS 256
#define LB_VS_NONE 0xfe /* vip.family of a slot that no VIP maps to */
struct lb_vslot {
	struct lb_vip vip; /* family 0: ask lb_vips; LB_VS_NONE: no VIP */
	struct lb_svc svc;
};

/* The slot of VIP v: both planes compute it alike (BPF and C). */
static inline __u32 lb_vidx_slot(const struct lb_vip *v)
{
	__u32 x = v->addr[0] ^ v->addr[1] ^ v->addr[2] ^ v->addr[3] ^
		  ((__u32)v->port << 16 | (__u32)v->proto << 8 | v->family);

	return (x * 0x9e3779b1u) >> 24;
}

/* lb_svcs: what the control plane keeps about service `id`. */
struct lb_svc_rec {
	struct lb_vip vip;
	struct lb_svc svc;
	__u32 used;
	__u32 pad;
};

struct lb_be {
	__u32 addr[4]; /* IPv4 in addr[0], network order */
	__u16 port;    /* network order; 0: the VIP's port */
	__u8 family;
	__u8 state; /* LB_BE_*: FREE is an unused slot */
	__u32 svc;  /* its service's id */
	__u32 weight;
	/* Bumped whenever the slot is given to another backend: a connection
	 * that remembers (id, gen) finds out its backend went away. */
	__u32 gen;
	__u32 pad;
};

/* A flow as the connection table keys it (the client's direction). */
struct lb_flow {
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

struct lb_conn {
	__u32 be;
	__u32 gen;
	__u64 seen; /* bpf_ktime_get_coarse_ns() of its last packet (UDP) */
};

struct lb_stat {
	__u64 packets;
	__u64 bytes;
	__u64 conns; /* new connections sent to it */
};
_Static_assert(sizeof(struct lb_stat) % 8 == 0, "per-CPU stride");

/* The lb's own drop reasons (nfc_global slots, printed by name). */
#define LB_R_NO_BACKEND 80 /* a VIP with no backend up: dropped */
#define LB_R_ENCAP 81	   /* the encapsulation could not be made */
#define LB_R_CT_FULL 82	   /* NAT: a new connection, the tracker full */

#endif
