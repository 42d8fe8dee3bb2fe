// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bridge: a learning L2 switch with 802.1Q VLANs.
 *
 * Per frame: classify its VLAN by the in_port's mode (access: untagged
 * only, its VLAN; trunk: tagged with an allowed VID, or untagged on the
 * native VLAN), learn the source {VID, MAC} -> in_port in place, then send
 * known unicast out of one port (tag pushed, popped or rewritten as the
 * out port wants it) and flood the rest to every other member port of the
 * VLAN:
 *  - XDP: one devmap broadcast with the ingress excluded; the egress
 *    program br_egress drops the copies for ports outside the VLAN and
 *    pops the tag where the port is untagged. Ports whose hop is another NF
 *    get their copy through the slow path (packet-in, packet-out).
 *  - TC: bpf_clone_redirect to every netdev port, then a tail call into
 *    the first NF port, if any; further NF ports through the slow path.
 * Everything hook-specific is in the "tags" and "flood" sections.
 *
 * One file of ~860 lines, on purpose: a data plane is one BPF object, one
 * compilation unit, and the fast path (cache probe) and its slow half
 * (classify, learn, look up) are inlined into each other; splitting them
 * into headers of static inline code would only hide that. Its sections
 * are the units: maps, tags, flood, learning, the bridge (cache probe and
 * slow half) and the program entries.
 */
#include "nfchain.bpf.h"
#include "bridge.h"

#define BR_MACS (2 * NFC_ETH_ALEN) /* destination and source */
#define BR_BIT(p) (1ULL << ((p) & (NFC_MAX_PORTS - 1)))

/* Load-time settings. */
/* Read at run time (a new aging is a map write); 0: entries never age. */
NFC_CFG_VAR(br_aging_s);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536); /* fdb_size= sets it at creation */
	__type(key, struct br_fdb_key);
	__type(value, struct br_fdb_val);
} br_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BR_STATIC_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct br_fdb_key);
	__type(value, struct br_static_val);
} br_static SEC(".maps");

/* The control plane's index of br_static by collection key; the data
 * plane never reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BR_STATIC_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct br_static_idx_key);
	__type(value, struct br_fdb_key);
} br_static_idx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NFC_MAX_PORTS + 1);
	__type(key, __u32);
	__type(value, struct br_port);
} br_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BR_VLANS);
	__type(key, __u32);
	__type(value, struct br_vlan);
} br_vlans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NFC_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} br_ifport SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BR_C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} br_counters SEC(".maps");

/* The FDB's generation: bumped by the data plane when a station is learned
 * or moves, by the control plane (through a mapping: an atomic add) when
 * it deletes entries or changes the configuration. Cache entries of an
 * older generation are ignored. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} br_gen SEC(".maps");

#ifdef NFC_HOOK_XDP
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, NFC_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} br_flood SEC(".maps");
#endif

static __always_inline void br_count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&br_counters, &c);

	if (v)
		*v += 1;
}

/* ---- tags: the frame's 802.1Q tag, in the packet (XDP) or in the skb's
 * metadata (TC: the stack moved it there before the hook) ----------------- */

struct br_tag {
	__u16 present;
	__u16 tci;
};

struct vlan_eth {
	__u8 dst[NFC_ETH_ALEN];
	__u8 src[NFC_ETH_ALEN];
	__be16 tpid;
	__be16 tci;
	__be16 proto;
};
_Static_assert(sizeof(struct vlan_eth) == NFC_VLAN_ETH_HLEN, "one tag");

/*
 * The addresses and the tag of a frame. The addresses come out as FDB keys
 * with VID 0 (struct br_fdb_key read as one little-endian word: the VID in
 * bits 0-15, the MAC's bytes in order from bit 16), built in registers.
 * Copying the bytes to the stack and reading them back as one word stalls
 * the CPU's store forwarding (narrow stores, one wide load): measured at a
 * fifth of the bridge's time per frame.
 *
 * XDP reads the packet directly, in 2- and 4-byte loads (unaligned loads
 * are fine on the architectures the JIT serves here; the verifier only
 * checks alignment when asked to). TC copies the 12 address bytes out with
 * a helper: clang materializes the CO-RE offsets of __sk_buff's data
 * fields in registers, and the verifier refuses a load from ctx plus a
 * register (nfc_data() can fail the same way in TC).
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "br_fdb_key is read as a little-endian word");

#define BR_MAC_MCAST 0x10000ULL /* the group bit of a key's MAC */
/* 01:80:c2:00:00:XX as a key's MAC holds it, XX aside (the top byte). */
#define BR_MAC_LINK_LOCAL 0xc280010000ULL

struct br_hdr {
	__u64 dst; /* key of the destination, VID 0 */
	__u64 src; /* key of the source, VID 0 */
	struct br_tag t;
};

#ifdef NFC_HOOK_XDP
static __always_inline __u64 ld16(const __u8 *p)
{
	return *(const __u16 *)p;
}

static __always_inline __u64 ld32(const __u8 *p)
{
	return *(const __u32 *)p;
}
#endif

static __always_inline int hdr_read(nfc_ctx_t *ctx, struct br_hdr *h)
{
	/* All set even for a short frame: a field the compiler sees read
	 * uninitialized on some path may take any register's value. */
	*h = (struct br_hdr){};
#ifdef NFC_HOOK_XDP
	struct vlan_eth *e = nfc_data(ctx);
	const __u8 *b = (const __u8 *)e;

	if ((void *)e + NFC_ETH_HLEN > nfc_data_end(ctx))
		return -1;
	h->dst = (ld16(b) | ld32(b + 2) << 16) << 16;
	h->src = (ld32(b + 6) | ld16(b + 10) << 32) << 16;
	if ((void *)(e + 1) <= nfc_data_end(ctx) &&
	    e->tpid == bpf_htons(NFC_ETH_P_8021Q)) {
		h->t.present = 1;
		h->t.tci = bpf_ntohs(e->tci);
	}
	return 0;
#else
	__u64 w[2] = {};
	__be16 tag[2];

	if (bpf_skb_load_bytes(ctx, 0, w, BR_MACS))
		return -1;
	/* The second word read as the 4 bytes written: see above. */
	h->dst = (w[0] & 0xffffffffffffULL) << 16;
	h->src = (w[0] >> 48 | (__u64) * (__u32 *)&w[1] << 16) << 16;
	/* The stack moves an outer tag into the skb before TC sees it, an
	 * 802.1ad S-tag (0x88a8) too: that one is payload, as in XDP (the
	 * README's "no QinQ"); read as a C-tag it switched the frame in its
	 * S-VID (found by a helper). */
	h->t.present = ctx->vlan_present &&
		       ctx->vlan_proto == bpf_htons(NFC_ETH_P_8021Q);
	h->t.tci = h->t.present ? ctx->vlan_tci : 0;
	/* A frame that still carries its tag in its data (not seen so far)
	 * is handled alike; not under an S-tag, whose payload begins with
	 * the C-tag. */
	if (!ctx->vlan_present && ctx->protocol == bpf_htons(NFC_ETH_P_8021Q) &&
	    !bpf_skb_load_bytes(ctx, BR_MACS, tag, NFC_VLAN_HLEN) &&
	    tag[0] == bpf_htons(NFC_ETH_P_8021Q)) {
		h->t.present = 1;
		h->t.tci = bpf_ntohs(tag[1]);
	}
	return 0;
#endif
}

#ifdef NFC_HOOK_XDP
static __always_inline int tag_push(nfc_ctx_t *ctx, __u16 tci)
{
	struct vlan_eth *e;
	__u8 macs[BR_MACS];

	if (bpf_xdp_adjust_head(ctx, -NFC_VLAN_HLEN))
		return -1;
	e = nfc_data(ctx);
	if ((void *)e + NFC_VLAN_ETH_HLEN > nfc_data_end(ctx))
		return -1;
	__builtin_memcpy(macs, (void *)e + NFC_VLAN_HLEN, BR_MACS);
	__builtin_memcpy(e, macs, BR_MACS);
	e->tpid = bpf_htons(NFC_ETH_P_8021Q);
	e->tci = bpf_htons(tci);
	return 0;
}

static __always_inline int tag_pop(nfc_ctx_t *ctx)
{
	struct vlan_eth *e = nfc_data(ctx);
	__u8 macs[BR_MACS];

	if ((void *)e + NFC_VLAN_ETH_HLEN > nfc_data_end(ctx))
		return -1;
	__builtin_memcpy(macs, e, BR_MACS);
	__builtin_memcpy((void *)e + NFC_VLAN_HLEN, macs, BR_MACS);
	return bpf_xdp_adjust_head(ctx, NFC_VLAN_HLEN) ? -1 : 0;
}

static __always_inline int tag_rewrite(nfc_ctx_t *ctx, __u16 tci)
{
	struct vlan_eth *e = nfc_data(ctx);

	if ((void *)e + NFC_VLAN_ETH_HLEN > nfc_data_end(ctx))
		return -1;
	e->tci = bpf_htons(tci);
	return 0;
}
#else
static __always_inline int tag_push(nfc_ctx_t *ctx, __u16 tci)
{
	return bpf_skb_vlan_push(ctx, bpf_htons(NFC_ETH_P_8021Q), tci) ? -1 : 0;
}

static __always_inline int tag_pop(nfc_ctx_t *ctx)
{
	return bpf_skb_vlan_pop(ctx) ? -1 : 0;
}

static __always_inline int tag_rewrite(nfc_ctx_t *ctx, __u16 tci)
{
	/* A push would nest the old tag inside the new one. */
	if (tag_pop(ctx))
		return -1;
	return tag_push(ctx, tci);
}
#endif

/*
 * What a frame's tag needs to leave by a port: for VLAN `vid`, tagged
 * (keeping the priority bits of a tag it came with) or untagged. Decided
 * apart from doing it so that the forwarding cache can keep the decision.
 * *tci: the tag to push or to write.
 */
enum { BR_OP_KEEP, BR_OP_POP, BR_OP_PUSH, BR_OP_WRITE };

static __always_inline __u32 tag_op(const struct br_tag *t, __u16 vid,
				    int tagged, __u16 *tci)
{
	*tci = vid;
	if (!tagged)
		return t->present ? BR_OP_POP : BR_OP_KEEP;
	if (!t->present)
		return BR_OP_PUSH;
	*tci = (t->tci & NFC_VLAN_PRIO_MASK) | vid;
	return t->tci == *tci ? BR_OP_KEEP : BR_OP_WRITE;
}

static __always_inline int tag_apply(nfc_ctx_t *ctx, __u32 op, __u16 tci)
{
	switch (op) {
	case BR_OP_POP:
		return tag_pop(ctx);
	case BR_OP_PUSH:
		return tag_push(ctx, tci);
	case BR_OP_WRITE:
		return tag_rewrite(ctx, tci);
	}
	return 0;
}

/* tag_op and tag_apply in one, *t following the frame. */
static __always_inline int tag_set(nfc_ctx_t *ctx, struct br_tag *t, __u16 vid,
				   int tagged)
{
	__u16 tci;
	__u32 op = tag_op(t, vid, tagged, &tci);

	if (op == BR_OP_POP) {
		t->present = 0;
	} else if (op != BR_OP_KEEP) {
		t->present = 1;
		t->tci = tci;
	}
	return tag_apply(ctx, op, tci);
}

/* ---- flood -------------------------------------------------------------- */

/* The ports a flood must reach besides the netdev fan-out: members whose
 * hop is an NF (a peer NF, or a transparent NF spliced in). Also counts
 * the members that are plain netdevs. A bpf_loop callback: verified once,
 * where an open-coded loop over 64 ports multiplies the verifier's states
 * past its limit. */
struct fan {
	__u64 members;
	__u64 nf_ports;
	__u32 netdevs;
	__u32 first_nf;
	__u32 first_netdev;
};

static long fan_cb(__u64 i, void *data)
{
	struct fan *f = data;
	__u32 p = i & (NFC_MAX_PORTS - 1), k = NFC_GPORT(nfc_self, p);
	struct nfc_hop *hop;

	if (!(f->members >> p))
		return 1;
	if (!((f->members >> p) & 1))
		return 0;
	hop = bpf_map_lookup_elem(&nfc_links, &k);
	if (!hop)
		return 0;
	if (hop->kind == NFC_HOP_NETDEV) {
		if (!f->netdevs++)
			f->first_netdev = p;
	} else if (hop->kind == NFC_HOP_NF) {
		f->nf_ports |= BR_BIT(p);
		if (f->first_nf == NFC_MAX_PORTS)
			f->first_nf = p;
	}
	return 0;
}

static __always_inline void fan_out(__u64 members, struct fan *f)
{
	f->members = members;
	f->nf_ports = 0;
	f->netdevs = 0;
	f->first_nf = NFC_MAX_PORTS;
	f->first_netdev = NFC_MAX_PORTS;
	bpf_loop(NFC_MAX_PORTS, fan_cb, f, 0);
}

/* Remember which ports lead to NFs, for the slow path's half of a flood
 * (it cannot read the runtime's link table itself). Written only when it
 * changes: the line is shared by every CPU. Returns the state's flags. */
static __always_inline __u32 note_slow_ports(__u64 members, __u64 nf_ports)
{
	__u32 k = BR_STATE_KEY;
	struct br_state *s = bpf_map_lookup_elem(&br_ports, &k);
	__u64 v;

	if (!s)
		return 0;
	v = (s->slow_ports & ~members) | nf_ports;
	if (v != s->slow_ports)
		s->slow_ports = v;
	return s->flags;
}

/* The frame itself out of one port, tagged as that port wants it. */
static __always_inline int flood_to_one(nfc_ctx_t *ctx, struct nfc_meta *md,
					const struct br_vlan *vl,
					struct br_tag *t, __u16 vid, __u32 port)
{
	if (tag_set(ctx, t, vid, !(vl->untagged & BR_BIT(port))))
		return nfc_drop(ctx, md, BR_R_SHORT);
	return nfc_output(ctx, md, port);
}

#ifdef NFC_HOOK_XDP
static __always_inline int flood(nfc_ctx_t *ctx, struct nfc_meta *md,
				 const struct br_port *pc,
				 const struct br_vlan *vl, struct br_tag *t,
				 __u16 vid)
{
	__u64 others = vl->members & ~BR_BIT(md->in_port);
	__u64 flags = BPF_F_BROADCAST;
	__u32 state;
	struct fan f;

	fan_out(others, &f);
	state = note_slow_ports(others, f.nf_ports);
	br_count(BR_C_FLOODED);
	/* One other member: a flood to one port is a unicast. */
	if (f.netdevs == 1 && !f.nf_ports)
		return flood_to_one(ctx, md, vl, t, vid, f.first_netdev);
	if (!f.netdevs) {
		if (!f.nf_ports)
			return NFC_V_DROP; /* alone in its VLAN */
		/* Only one NF port: no copy needed, a tail call will do. */
		if (!(f.nf_ports & (f.nf_ports - 1)))
			return flood_to_one(ctx, md, vl, t, vid, f.first_nf);
	}
	/* Both halves see the frame tagged with its VLAN: br_egress and the
	 * slow path pop it where a port wants it untagged. */
	if (tag_set(ctx, t, vid, 1))
		return nfc_drop(ctx, md, BR_R_SHORT);
	if (f.nf_ports) {
		if (nfc_pkt_len(ctx) > NFC_PKTIN_MAX) {
			br_count(BR_C_FLOOD_CUT);
		} else {
			br_count(BR_C_FLOOD_SLOW);
			nfc_to_slow_path(ctx, md, BR_R_FLOOD);
		}
	}
	if (!f.netdevs)
		return NFC_V_DROP;
	/* A plain bridge (its netdev ports all access ports of one VLAN, the
	 * frame's): the copies go untagged, br_egress lets them through. */
	if ((state & BR_S_PLAIN) && tag_set(ctx, t, vid, 0))
		return nfc_drop(ctx, md, BR_R_SHORT);
	/* The ingress netdev is excluded only when the frame came from it:
	 * one that came from an NF may well have entered on a port of ours. */
	if (pc->flags & BR_P_NETDEV)
		flags |= BPF_F_EXCLUDE_INGRESS;
	return bpf_redirect_map(&br_flood, 0, flags);
}
#else
/* TC: a clone to every netdev member, tagged ones first so that the tag is
 * popped at most once, then the original to the first NF member by tail
 * call; any other NF member gets its copy through the slow path. */
struct clones {
	nfc_ctx_t *ctx;
	__u64 ports;
	__u32 len;
};

static long clone_cb(__u64 i, void *data)
{
	struct clones *c = data;
	__u32 p = i & (NFC_MAX_PORTS - 1), k = NFC_GPORT(nfc_self, p);
	struct nfc_hop *hop;

	if (!(c->ports >> p))
		return 1;
	if (!((c->ports >> p) & 1))
		return 0;
	hop = bpf_map_lookup_elem(&nfc_links, &k);
	if (hop && hop->kind == NFC_HOP_NETDEV &&
	    !bpf_clone_redirect(c->ctx, hop->ifindex, 0))
		nfc_count_tx(c->ctx, nfc_self, p);
	return 0;
}

/* The slow path needs the VLAN in the frame's bytes, and TC keeps the tag
 * in the skb: a second push moves it into the data (under a dummy tag in
 * the skb), the copy goes up, and the pop brings it back where it was. */
static __always_inline int to_slow_path_tagged(nfc_ctx_t *ctx,
					       struct nfc_meta *md,
					       struct br_tag *t, __u16 vid)
{
	if (tag_set(ctx, t, vid, 1) || tag_push(ctx, 0))
		return -1;
	nfc_to_slow_path(ctx, md, BR_R_FLOOD);
	return tag_pop(ctx);
}

static __always_inline int flood(nfc_ctx_t *ctx, struct nfc_meta *md,
				 const struct br_port *pc,
				 const struct br_vlan *vl, struct br_tag *t,
				 __u16 vid)
{
	__u64 others = vl->members & ~BR_BIT(md->in_port);
	struct clones c = {.ctx = ctx, .len = nfc_pkt_len(ctx)};
	struct fan f;

	(void)pc;
	fan_out(others, &f);
	br_count(BR_C_FLOODED);
	if (f.netdevs == 1 && !f.nf_ports)
		return flood_to_one(ctx, md, vl, t, vid, f.first_netdev);
	if (f.nf_ports & (f.nf_ports - 1)) {
		note_slow_ports(others, f.nf_ports);
		if (c.len + NFC_VLAN_HLEN > NFC_PKTIN_MAX) {
			br_count(BR_C_FLOOD_CUT);
		} else {
			br_count(BR_C_FLOOD_SLOW);
			if (to_slow_path_tagged(ctx, md, t, vid))
				return nfc_drop(ctx, md, BR_R_SHORT);
		}
	}
	for (int pass = 0; pass < 2 && f.netdevs; pass++) {
		/* pass 0: ports that want it tagged; pass 1: untagged ones */
		c.ports = others & (pass ? vl->untagged : ~vl->untagged);
		if (!c.ports)
			continue;
		if (tag_set(ctx, t, vid, !pass))
			return nfc_drop(ctx, md, BR_R_SHORT);
		bpf_loop(NFC_MAX_PORTS, clone_cb, &c, 0);
	}
	if (!f.nf_ports)
		return NFC_V_DROP;
	return flood_to_one(ctx, md, vl, t, vid, f.first_nf);
}
#endif

/* ---- learning ------------------------------------------------------------ */

#define BR_NS 1000000000ULL

static __always_inline __u64 aging_ns(void)
{
	return (__u64)br_aging_s * BR_NS;
}

static __always_inline int fresh(const struct br_fdb_val *e, __u64 now)
{
	return !br_aging_s || now - e->seen <= aging_ns();
}

/*
 * How long a station's entry may go without a refresh: an eighth of the
 * aging time, at most a second. Entries in use never look older than they
 * are by more than that.
 */
static __always_inline __u64 refresh_ns(void)
{
	__u64 r = br_aging_s ? aging_ns() >> 3 : BR_NS;

	return r > BR_NS ? BR_NS : r;
}

/*
 * Learn the source in place: a known station costs one lookup and, at most
 * every refresh interval, one store through the lookup pointer (no map
 * update per packet). A new or moved station bumps the generation. Returns
 * nonzero if the frame must be dropped (its source is a static entry of
 * another port).
 */
static __always_inline int learn(struct br_fdb_key *k, __u32 in, __u64 now,
				 __u64 *gen)
{
	struct br_fdb_val *e = bpf_map_lookup_elem(&br_fdb, k);
	struct br_static_val *s;
	struct br_fdb_val nv = {.port = in, .seen = now};

	if (e) {
		if (e->port != in) {
			e->port = in;
			e->seen = now;
			br_count(BR_C_MOVED);
			if (gen)
				__sync_fetch_and_add(gen, 1);
		} else if (now - e->seen > refresh_ns()) {
			e->seen = now;
		}
		return 0;
	}
	/* An inactive static entry (its port deleted) acts as none: its
	 * station is learned like any other, until the port is back
	 * (br_ports.c takes the learned entry away then). */
	s = bpf_map_lookup_elem(&br_static, k);
	if (s && s->port != BR_PORT_NONE)
		return s->port != in;
	if (!bpf_map_update_elem(&br_fdb, k, &nv, BPF_NOEXIST)) {
		br_count(BR_C_LEARNED);
		if (gen)
			__sync_fetch_and_add(gen, 1);
	}
	return 0;
}

/* Out port of {vid, dst}, or NFC_MAX_PORTS if unknown. */
static __always_inline __u32 lookup(struct br_fdb_key *k, __u64 now)
{
	struct br_fdb_val *e = bpf_map_lookup_elem(&br_fdb, k);
	struct br_static_val *s;

	if (e && fresh(e, now))
		return e->port;
	s = bpf_map_lookup_elem(&br_static, k);
	if (s && s->port < NFC_MAX_PORTS)
		return s->port;
	return NFC_MAX_PORTS;
}

/* ---- the bridge ------------------------------------------------------------
 */

/* Which VLAN is this frame in, by the in_port's mode? 0, or the reason to
 * drop it. Run by the bridge and again by the flood program. */
struct br_class {
	const struct br_port *pc;
	const struct br_vlan *vl;
	struct br_hdr h;
	__u16 vid;
};

static __always_inline int classify(nfc_ctx_t *ctx, __u32 in,
				    struct br_class *c)
{
	__u32 key = in;

	c->pc = bpf_map_lookup_elem(&br_ports, &key);
	if (!c->pc || !(c->pc->flags & BR_P_ON))
		return BR_R_PORT;
	if (hdr_read(ctx, &c->h))
		return BR_R_SHORT;
	c->vid = c->h.t.tci & NFC_VLAN_VID_MASK;
	if (c->h.t.present && c->vid) {
		if (!(c->pc->flags & BR_P_TRUNK))
			return BR_R_VLAN;
	} else {
		c->vid = c->pc->pvid; /* untagged or priority-tagged */
	}
	key = c->vid;
	c->vl = bpf_map_lookup_elem(&br_vlans, &key);
	if (!c->vid || !c->vl || !(c->vl->members & BR_BIT(in)))
		return BR_R_VLAN;
	return 0;
}

static __always_inline int drop_class(nfc_ctx_t *ctx, struct nfc_meta *md,
				      int reason)
{
	if (reason == BR_R_VLAN)
		br_count(BR_C_DROP_VLAN);
	return nfc_drop(ctx, md, reason);
}

/*
 * Floods go through a tail call into a program of their own (br_flood_prog,
 * below): its fan-out loops with bpf_loop, and a program that has a
 * callback (a bpf-to-bpf call) beside tail calls costs every frame about
 * 12 ns more on this kernel (measured: 45 vs 32 ns a frame, test run).
 * The slot is filled by libbpf at load time, so a reload refills it.
 */
int br_flood_prog(nfc_ctx_t *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(nfc_ctx_t *));
} br_jump SEC(".maps") = {
	.values = {[0] = (void *)&br_flood_prog},
};

/*
 * The forwarding cache, after the exact-match cache of Open vSwitch: per
 * CPU, direct-mapped, the whole decision for the last known unicast frame
 * that hashed to a slot: out port and what to do with the tag. It is keyed
 * by what that decision depends on as the frame comes in: in port, tag
 * (present or not, TCI) and both addresses. A hit skips the VLAN
 * classification and both FDB lookups (learning and forwarding), more
 * than half of the bridge's work per frame.
 *
 * An entry holds only while the generation it was made in is current, so
 * that nothing it decided outlives a change: the control plane bumps it
 * after every change of ports, VLANs or the FDB, the data plane when it
 * learns a station or sees one move. The tick bumps it too (every second
 * in the daemon): a station in use then goes through learning at least
 * once a tick, which keeps its entry fresh without a clock read per hit.
 *
 * One per-CPU element holds all the slots: the element's address does not
 * wait for the hash, only the offset in it does. Its head counts the hits
 * (struct br_cache in bridge.h): they are unicast frames that the bridge
 * then does not count in br_counters, a map it would touch for nothing
 * else (measured: ~2 ns a frame).
 */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct br_cache);
} br_cache SEC(".maps");

union br_key64 {
	struct br_fdb_key k;
	__u64 u;
};

static __always_inline struct br_cache_ent *
fwd_cache(struct br_cache *bc, __u64 src, __u64 dst, __u32 in)
{
	/* dst rotated: A to B and B to A are different slots. */
	__u64 x = (src ^ (dst >> 23 | dst << 41) ^ in) * 0x9e3779b97f4a7c15ULL;

	return &bc->e[x >> (64 - BR_CACHE_BITS)];
}

/* The cache key of a frame: its addresses with the tag as it came. */
static __always_inline __u64 key_src(const struct br_hdr *h)
{
	return h->src | (h->t.present ? h->t.tci : 0);
}

static __always_inline __u64 key_dst(const struct br_hdr *h)
{
	return h->dst | h->t.present;
}

/* A frame the cache did not know: the bridge itself. `ce` is the slot to
 * keep the decision in, NULL if none. */
static __always_inline int bridge_slow(nfc_ctx_t *ctx, struct nfc_meta *md,
				       struct br_cache_ent *ce)
{
	__u32 in = md->in_port, out, op, zero = 0;
	union br_key64 src, dst;
	__u64 now, gen, *genp;
	struct br_class c;
	int r;
	__u16 tci;

	/* The generation is read before anything the decision rests on: a
	 * change made after this read bumps it past what the entry made
	 * from this frame records. */
	genp = bpf_map_lookup_elem(&br_gen, &zero);
	gen = genp ? *(volatile __u64 *)genp : 0;
	r = classify(ctx, in, &c);
	if (r)
		return drop_class(ctx, md, r);
	now = bpf_ktime_get_coarse_ns();

	/* Learn the source. The map helpers read the keys from the stack:
	 * one word stored, see hdr_read(). */
	if ((c.h.src & BR_MAC_MCAST) || !c.h.src) {
		br_count(BR_C_DROP_SRC);
		return nfc_drop(ctx, md, BR_R_SRC);
	}
	src.u = c.h.src | c.vid;
	if (learn(&src.k, in, now, genp)) {
		br_count(BR_C_DROP_LOOP);
		return nfc_drop(ctx, md, BR_R_LOOP);
	}
	/* IEEE 802.1D reserved link-local groups 01:80:c2:00:00:01-0f
	 * (pause, LACP, 802.1X, LLDP...) are for the link, never forwarded;
	 * :00, STP, is flooded as a bridge that does not run STP does
	 * (Linux, group_fwd_mask 0). */
	if ((c.h.dst & ~(0xffULL << 56)) == BR_MAC_LINK_LOCAL &&
	    (c.h.dst >> 56) - 1 < 15)
		return nfc_drop(ctx, md, BR_R_LINK_LOCAL);

	/* Forward: broadcast, multicast and unknown unicast are flooded. */
	dst.u = c.h.dst | c.vid;
	out = (c.h.dst & BR_MAC_MCAST) ? NFC_MAX_PORTS : lookup(&dst.k, now);
	if (out >= NFC_MAX_PORTS) {
		if (nfc_meta_save(md))
			return NFC_V_DROP;
		bpf_tail_call(ctx, &br_jump, 0);
		/* nfc_drop counts the reason: once. */
		return nfc_drop(ctx, md, NFC_R_TAIL_CALL);
	}
	if (out == in) {
		br_count(BR_C_DROP_HAIRPIN);
		return nfc_drop(ctx, md, BR_R_HAIRPIN);
	}
	if (!(c.vl->members & BR_BIT(out))) {
		/* A static entry on a port outside the VLAN: never cross. */
		br_count(BR_C_DROP_VLAN);
		return nfc_drop(ctx, md, BR_R_VLAN);
	}
	op = tag_op(&c.h.t, c.vid, !(c.vl->untagged & BR_BIT(out)), &tci);
	if (ce) {
		ce->src = key_src(&c.h);
		ce->dst = key_dst(&c.h);
		ce->in = in;
		ce->act = out | op << 8 | (__u32)tci << 16;
		ce->gen = gen;
	}
	if (tag_apply(ctx, op, tci))
		return nfc_drop(ctx, md, BR_R_SHORT);
	br_count(BR_C_UNICAST);
	return nfc_output(ctx, md, out);
}

/* The fast path: a frame the cache knows. Straight-line, and apart from
 * the slow path, so that few values live across its two map lookups. */
static __always_inline int bridge(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	__u32 in = md->in_port, act, zero = 0;
	struct br_cache_ent *ce;
	struct br_cache *bc;
	struct br_hdr h;
	__u64 *genp, rs, rd;

	genp = bpf_map_lookup_elem(&br_gen, &zero);
	bc = bpf_map_lookup_elem(&br_cache, &zero);
	if (!genp || !bc || hdr_read(ctx, &h))
		return bridge_slow(ctx, md, NULL);
	rs = key_src(&h);
	rd = key_dst(&h);
	ce = fwd_cache(bc, rs, rd, in);
	if (ce->src != rs || ce->dst != rd || ce->in != in ||
	    ce->gen != *(volatile __u64 *)genp)
		return bridge_slow(ctx, md, ce);
	act = ce->act;
	if (tag_apply(ctx, (act >> 8) & 0xff, act >> 16))
		return nfc_drop(ctx, md, BR_R_SHORT);
	bc->hits++;
	return nfc_output(ctx, md, act & 0xff);
}

NFC_NF(bridge);

/* The flood: reached from the bridge by the tail call above, with the
 * metadata the bridge got (counted there already). */
SEC(NFC_SEC)
int br_flood_prog(nfc_ctx_t *ctx)
{
	struct nfc_meta *md = nfc_meta_mine();
	struct br_class c;
	int r;

	if (!md)
		return NFC_V_DROP;
	r = classify(ctx, md->in_port, &c);
	if (r)
		return drop_class(ctx, md, r);
	return flood(ctx, md, c.pc, c.vl, &c.h.t, c.vid);
}

#ifdef NFC_HOOK_XDP
/*
 * The devmap egress program: runs once for every copy of a flooded frame
 * (tagged with its VLAN by flood(), or untagged on a plain bridge), on the
 * way out of one netdev port.
 * Drops the copy if the port is not in the VLAN or its hop is no longer
 * that netdev (a transparent NF was spliced in: the slow path serves it),
 * pops the tag if the port sends the VLAN untagged, counts tx.
 */
SEC("xdp/devmap")
int br_egress(struct xdp_md *ctx)
{
	__u32 ifx = ctx->egress_ifindex, port, k;
	struct vlan_eth *e = nfc_data(ctx);
	struct nfc_hop *hop;
	struct br_vlan *vl;
	__u32 *pp;

	if ((void *)e + NFC_ETH_HLEN > nfc_data_end(ctx))
		return XDP_DROP;
	pp = bpf_map_lookup_elem(&br_ifport, &ifx);
	if (!pp || *pp >= NFC_MAX_PORTS)
		return XDP_DROP;
	port = *pp;
	k = NFC_GPORT(nfc_self, port);
	hop = bpf_map_lookup_elem(&nfc_links, &k);
	if (!hop || hop->kind != NFC_HOP_NETDEV || hop->ifindex != ifx)
		return XDP_DROP;
	if ((void *)(e + 1) > nfc_data_end(ctx) ||
	    e->tpid != bpf_htons(NFC_ETH_P_8021Q)) {
		/* Untagged: a plain bridge's flood (see flood()). */
		struct br_state *s;

		k = BR_STATE_KEY;
		s = bpf_map_lookup_elem(&br_ports, &k);
		if (!s || !(s->flags & BR_S_PLAIN))
			return XDP_DROP;
		nfc_count_tx(ctx, nfc_self, port);
		return XDP_PASS;
	}
	k = bpf_ntohs(e->tci) & NFC_VLAN_VID_MASK;
	vl = bpf_map_lookup_elem(&br_vlans, &k);
	if (!vl || !(vl->members & BR_BIT(port)))
		return XDP_DROP;
	if ((vl->untagged & BR_BIT(port)) && tag_pop(ctx))
		return XDP_DROP;
	nfc_count_tx(ctx, nfc_self, port);
	return XDP_PASS;
}
#endif
