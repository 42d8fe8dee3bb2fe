/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bridge: what its data plane (bridge.bpf.c) and its control plane
 * (bridge.c, br_*.c) share: the layout of every map of the bridge, its
 * counters and its drop / slow-path reasons. Include vmlinux.h (BPF) or
 * <linux/types.h> (userspace) and common.h first.
 *
 * Maps (each pinned under the NF, kept across reloads):
 *   br_fdb      LRU hash {vid, mac} -> learned port and last-seen time.
 *               Written by the data plane (learning); LRU eviction when
 *               full. Never holds a static key.
 *   br_static   hash {vid, mac} -> static entry; the control plane's.
 *   br_static_idx hash collection key -> {vid, mac}: finds a static
 *               entry by the key it was added as (control plane only).
 *   br_ports    array [NFC_MAX_PORTS + 1]: port settings; the extra last
 *               entry is bridge-wide state (BR_STATE_KEY).
 *   br_vlans    array [4096] by VID: which ports are members, which of
 *               them send the VLAN untagged.
 *   br_ifport   hash ifindex -> port: for the devmap egress program.
 *   br_flood    devmap hash (XDP only) of the netdev peers, each with the
 *               egress program br_egress: the flood's fan-out.
 *   br_counters per-CPU array of enum br_counter.
 *   br_cache    per-CPU array [1]: the forwarding cache, BR_CACHE_SLOTS
 *               struct br_cache_ent.
 *   br_gen      array [1], mmapable: the FDB's generation, which every
 *               change the cache must not outlive bumps.
 */
#ifndef NFC_BRIDGE_H
#define NFC_BRIDGE_H

#define BR_VLANS NFC_VLAN_N_VID /* VIDs 0..4095; 1..4094 are usable */
#define BR_VID_MAX (NFC_VLAN_VID_MASK - 1) /* 4095 is reserved */
#define BR_STATIC_MAX 131072		   /* static FDB entries per bridge */
#define BR_STATE_KEY NFC_MAX_PORTS
#define BR_PORT_NONE 0xffffffffu /* static entry whose port is gone */

struct br_fdb_key {
	__u16 vid;
	__u8 mac[6];
};

/* A learned entry. `seen` is bpf_ktime_get_coarse_ns() of the last frame
 * from the station (CLOCK_MONOTONIC_COARSE in userspace), refreshed in
 * place through the lookup pointer, at most every BR_REFRESH_NS. */
struct br_fdb_val {
	__u32 port;
	__u32 pad;
	__u64 seen;
};

/* A forwarding cache entry (br_cache, per CPU; see bridge.bpf.c): the
 * decision for one {in port, tag, source MAC, destination MAC}. */
#define BR_CACHE_BITS 8
#define BR_CACHE_SLOTS (1 << BR_CACHE_BITS)
struct br_cache_ent {
	__u64 src; /* source MAC << 16 | the TCI the frame came with */
	__u64 dst; /* destination MAC << 16 | 1 if it came tagged */
	__u64 gen; /* br_gen when it was made */
	__u32 in;
	__u32 act; /* out port | tag op << 8 | tag to push or write << 16 */
};

/* br_cache's one element, per CPU. */
struct br_cache {
	__u64 hits; /* known unicast forwarded from the cache (part of
		     * BR_C_UNICAST, which counts the rest) */
	__u64 pad[7];
	struct br_cache_ent e[BR_CACHE_SLOTS];
};
_Static_assert(sizeof(struct br_cache) % 8 == 0, "per-CPU stride");

struct br_static_val {
	__u32 port; /* index, or BR_PORT_NONE */
	__u32 pad;
	char port_name[NFC_NAME_MAX]; /* what the user named: survives a
				       * port deleted and added again */
	char key[32];		      /* the collection key it was added as */
};

/* br_static_idx's key: a br_static_val.key, zero-padded. */
struct br_static_idx_key {
	char key[32];
};

enum {
	BR_P_ON = 1 << 0,     /* a port of the bridge, configured */
	BR_P_TRUNK = 1 << 1,  /* mode=trunk */
	BR_P_NETDEV = 1 << 2, /* its peer is a netdev (frames from it
			       * arrive on that netdev) */
};

struct br_port {
	__u32 flags;
	__u16 pvid; /* access: its VLAN; trunk: the native VLAN, 0 none */
	__u16 pad;
	char name[NFC_NAME_MAX]; /* port name: a reused index is noticed */
};

/* br_ports[BR_STATE_KEY]: bridge-wide state. */
enum {
	/* Set by the control plane: every netdev port is an access port of
	 * one and the same VLAN. Then a flood's devmap fan-out needs no VLAN
	 * filtering, and goes untagged (no tag pushed, then popped). */
	BR_S_PLAIN = 1 << 0,
};

struct br_state {
	__u32 flags; /* BR_S_ */
	__u16 pvid;
	__u16 pad;
	/* Kept by the data plane: ports last seen (while flooding) whose hop
	 * is not a netdev: another NF, or a transparent NF spliced in. The
	 * slow path floods to those (in TC, to all of them but the lowest,
	 * which a tail call serves). */
	__u64 slow_ports;
	char pad2[NFC_NAME_MAX - 8];
};

struct br_vlan {
	__u64 members;	/* bit p: port p carries this VLAN */
	__u64 untagged; /* bit p: ... and sends it untagged */
};

/* Counters: per-CPU array. The data plane writes the first ones, the
 * control plane the BR_C_CTL_ ones (each key has a single writer). */
/* In three groups, in the order of their keys in br_counters: the drops
 * (names "drop_<reason>") are also one figure by reason for /metrics. */
#define BR_COUNTERS(X) BR_C_FRAMES(X) BR_C_DROPS(X) BR_C_CONTROL(X)
#define BR_C_FRAMES(X)                                                    \
	X(LEARNED, "learned", "new stations learned")                     \
	X(MOVED, "moved", "stations relearned on another port")           \
	X(UNICAST, "unicast", "known unicast frames forwarded")           \
	X(FLOODED, "flooded", "frames flooded")                           \
	X(FLOOD_SLOW, "flooded_slow", "floods that needed the slow path") \
	X(FLOOD_CUT, "flood_too_long",                                    \
	  "floods not sent to NF ports: longer than a packet-in copy")
#define BR_C_DROPS(X)                                                 \
	X(DROP_VLAN, "drop_vlan", "frames dropped: VLAN not allowed") \
	X(DROP_LOOP, "drop_static_src",                               \
	  "frames dropped: source is a static entry of another port") \
	X(DROP_SRC, "drop_bad_src",                                   \
	  "frames dropped: multicast or all-zero source")             \
	X(DROP_HAIRPIN, "drop_hairpin",                               \
	  "frames dropped: destination behind the port they came in on")
#define BR_C_CONTROL(X)                                                      \
	X(CTL_AGED, "aged", "entries removed by aging")                      \
	X(CTL_DELETED, "deleted", "learned entries deleted by the user")     \
	X(CTL_FLUSHED, "flushed",                                            \
	  "learned entries flushed (port removed, VLAN left, static added)") \
	X(CTL_GONE, "fdb_flushed",                                           \
	  "learned entries flushed: their port's netdev went away")

enum br_counter {
#define BR_C_ENUM(id, name, doc) BR_C_##id,
	BR_COUNTERS(BR_C_ENUM)
#undef BR_C_ENUM
		BR_C_MAX
};

/* Drop and slow-path reasons of the bridge (nfc_drop, nfc_to_slow_path). */
enum br_reason {
	BR_R_FLOOD = NFC_REASON_NF_BASE, /* slow path: flood to NF ports */
	BR_R_PORT,			 /* drop: port not configured */
	BR_R_VLAN, /* drop: VLAN not allowed on the port */
	BR_R_SRC,  /* drop: multicast source MAC */
	BR_R_LOOP, /* drop: source is a static entry of another port */
	BR_R_HAIRPIN,
	BR_R_SHORT,	 /* drop: not an Ethernet frame */
	BR_R_LINK_LOCAL, /* drop: to an IEEE 802.1D reserved group */
};

#endif
