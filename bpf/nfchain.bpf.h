/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The data-plane contract: the one header every NF includes.
 *
 * An NF writes one function against this API and names it with NFC_NF():
 *
 *     static __always_inline int fwd(nfc_ctx_t *ctx, struct nfc_meta *md)
 *     {
 *             return nfc_output(ctx, md, md->in_port ^ 1);
 *     }
 *     NFC_NF(fwd)
 *
 * The same source is compiled twice, with -DNFC_HOOK_XDP and with
 * -DNFC_HOOK_TC; everything hook-specific lives below in this file. The
 * NF function sees the packet metadata (md: in_port, direction, its own id,
 * a mark) and returns one of:
 *   nfc_output(ctx, md, port)           send out of one of its ports
 *   nfc_drop(ctx, md, reason)           drop, counted on the in_port
 *   nfc_pass(ctx, md)                   hand to the kernel stack
 *   nfc_to_slow_path(ctx, md, reason)   hand to userspace (packet-in)
 * The framework counts rx/tx packets and bytes and drops per port for every
 * NF; the NF writes no code for it. To read headers, an NF calls nfc_pull()
 * and bounds-checks each against nfc_data_end() (see nfc_pull).
 */
#ifndef NFCHAIN_BPF_H
#define NFCHAIN_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "common.h"

#if defined(NFC_HOOK_XDP)
/* A macro, not a typedef: CO-RE relocations must name the kernel type. */
#define nfc_ctx_t struct xdp_md
#define NFC_SEC "xdp"
#define NFC_V_PASS XDP_PASS
#define NFC_V_DROP XDP_DROP
#elif defined(NFC_HOOK_TC)
#define nfc_ctx_t struct __sk_buff
#define NFC_SEC "tc"
#define NFC_V_PASS 0 /* TC_ACT_OK */
#define NFC_V_DROP 2 /* TC_ACT_SHOT */
#else
#error "compile with -DNFC_HOOK_XDP or -DNFC_HOOK_TC"
#endif

/* ---- shared maps: the runtime hands every NF the same pinned ones ------ */

/* LINK and STUB slots, see common.h. Named alike in the XDP and TC builds;
 * the runtime binds each to the array of its hook type. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NFC_PROG_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} nfc_progs SEC(".maps");

/* What lies behind each NF port (index NFC_GPORT). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NFC_GPORTS);
	__type(key, __u32);
	__type(value, struct nfc_hop);
} nfc_links SEC(".maps");

/* What lies behind each netdev hook (index: stub number). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NFC_MAX_STUBS);
	__type(key, __u32);
	__type(value, struct nfc_hop);
} nfc_stubs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfc_meta);
} nfc_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFC_STATS_SLOTS);
	__type(key, __u32);
	__type(value, struct nfc_port_stats);
} nfc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFC_G_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} nfc_global SEC(".maps");

/* In_port by netdev, for an NF attached to the netdev directly (index
 * NFC_IFSLOT, see common.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NFC_IFSLOTS);
	__type(key, __u32);
	__type(value, struct nfc_ifport);
} nfc_ifports SEC(".maps");

/* Netdev targets of XDP redirects (key and value: ifindex). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, NFC_MAX_STUBS);
	__type(key, __u32);
	__type(value, __u32);
} nfc_devmap SEC(".maps");

/* 1 MiB: the daemon maps a ring's data twice (the kernel's wrap-around
 * mapping) and every page of it counts in its RSS at once, so 4 MiB cost
 * it 8 MB at all times. 1 MiB still queues ~10,000 small packet-ins (ARP,
 * a flood burst) while the slow path catches up; past that they are
 * dropped and counted (slow_path_ring_drops). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} nfc_ring SEC(".maps");

/* What nfc_to_slow_path masks the copy's length with, for the verifier:
 * the smallest all-ones mask that keeps every length up to NFC_PKTIN_MAX
 * (a power of two, common.h). */
#define NFC_PKTIN_MASK (2 * NFC_PKTIN_MAX - 1)

struct nfc_pktin_buf {
	struct nfc_pktin hdr;
	/* Room for any masked length: the verifier checks the copy into it
	 * and the ring record made of it against the mask, not the clamp. */
	__u8 data[NFC_PKTIN_MASK + 1];
};
_Static_assert(NFC_PKTIN_MASK >= NFC_PKTIN_MAX &&
		       (NFC_PKTIN_MASK & (NFC_PKTIN_MASK + 1)) == 0,
	       "the mask keeps every length the clamp lets through");

/* Staging area for a packet-in: ringbuf_reserve wants a constant size, and
 * a frame-sized reservation per event would waste most of the ring. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nfc_pktin_buf);
} nfc_scratch SEC(".maps");

/* Set by the runtime at load time: this instance's NF id and whether it is
 * transparent. Constants to the verifier, so LINK slots are direct jumps. */
const volatile __u32 nfc_self = 0;
const volatile __u32 nfc_transparent = 0;

/* A config value the program reads at run time (a field declared with
 * .bpf_const = "name" and NFC_FIELD_RUNTIME): the runtime writes it in
 * place at every change, where a `const volatile` one costs a reload. */
#define NFC_CFG_VAR(name) volatile __u32 name SEC(NFC_CFG_SEC) = 0

/*
 * Kinds a loaded NF type (docs/sdk.md) declares its config globals and its
 * collections' keys and values with: the runtime reads them from BTF by
 * these names, so that `nfchain <nf> <coll> add 198.51.100.0/24` and
 * `mac=02:00:00:00:00:01` need no control-plane code. Addresses are in
 * network order, as in the packet; integers in host order.
 */
typedef struct {
	__u8 a[6];
} nfc_mac_t;
typedef __be32 nfc_ip4_t;
typedef struct {
	__u8 a[16];
} nfc_ip6_t;
struct nfc_lpm4 { /* the key of an LPM trie of IPv4 prefixes */
	__u32 prefixlen;
	nfc_ip4_t addr;
};
struct nfc_lpm6 {
	__u32 prefixlen;
	nfc_ip6_t addr;
};

/* ---- hook-specific primitives ------------------------------------------ */

/* The netdev a packet came in on (the hook's own, in TC). */
#ifdef NFC_HOOK_XDP
#define NFC_IN_IFINDEX(ctx) ((ctx)->ingress_ifindex)
#else
#define NFC_IN_IFINDEX(ctx) ((ctx)->ifindex)
#endif

/* The first empty asm hides where ctx came from: otherwise clang may merge
 * the loads of two ctx fields on two paths into one load from ctx plus an
 * offset chosen at run time, which the verifier refuses ("dereference of
 * modified ctx ptr"). The second makes the pointer a 64-bit value at once:
 * the field is a __u32, and with 32-bit instructions (-mcpu=v3) clang may
 * keep it as one and spill it with a 4-byte store, which the verifier
 * refuses for a packet pointer ("invalid size of register spill"; the
 * load balancer's TC program). */
#define NFC_CTX_PTR(ctx, field)               \
	({                                    \
		nfc_ctx_t *c_ = (ctx);        \
		void *p_;                     \
		asm volatile("" : "+r"(c_));  \
		p_ = (void *)(long)c_->field; \
		asm volatile("" : "+r"(p_));  \
		p_;                           \
	})

static __always_inline void *nfc_data(nfc_ctx_t *ctx)
{
	return NFC_CTX_PTR(ctx, data);
}

static __always_inline void *nfc_data_end(nfc_ctx_t *ctx)
{
	return NFC_CTX_PTR(ctx, data_end);
}

static __always_inline __u32 nfc_pkt_len(nfc_ctx_t *ctx)
{
#ifdef NFC_HOOK_XDP
	return ctx->data_end - ctx->data;
#else
	return ctx->len;
#endif
}

/*
 * How an NF reads headers: nfc_pull(ctx, N) once, with N the most it will
 * read or write from the start, then each header bounds-checked against
 * nfc_data_end() before it is touched, as the verifier wants:
 *
 *     struct ethhdr *eth;
 *
 *     if (nfc_pull(ctx, 64))
 *             return nfc_drop(ctx, md, NFC_R_NF_DROP);
 *     eth = nfc_data(ctx);
 *     if ((void *)(eth + 1) > nfc_data_end(ctx))
 *             return nfc_drop(ctx, md, NFC_R_NF_DROP);
 *
 * nfc_pull makes the frame's first `len` bytes, or all of it if it is
 * shorter, readable and writable in place: XDP frames are linear, and in TC
 * a non-linear skb is pulled (a linear one costs no helper call; a cloned
 * one the kernel copies before a program that writes packet data runs,
 * pull or none). Packet
 * pointers taken before the call are stale after it. 0, or -1 if the pull
 * failed (out of memory).
 */
static __always_inline int nfc_pull(nfc_ctx_t *ctx, __u32 len)
{
#ifdef NFC_HOOK_XDP
	(void)ctx;
	(void)len;
	return 0;
#else
	__u32 n = ctx->len < len ? ctx->len : len;

	/* Lengths compared, not pointers: `data + n` may be compiled as a
	 * 32-bit add on a packet pointer, which the verifier refuses; a
	 * difference of packet pointers it accepts. */
	if ((__u32)(nfc_data_end(ctx) - nfc_data(ctx)) >= n)
		return 0;
	return bpf_skb_pull_data(ctx, n) ? -1 : 0;
#endif
}

static __always_inline int nfc_load_bytes(nfc_ctx_t *ctx, __u32 off, void *to,
					  __u32 len)
{
#ifdef NFC_HOOK_XDP
	return bpf_xdp_load_bytes(ctx, off, to, len);
#else
	return bpf_skb_load_bytes(ctx, off, to, len);
#endif
}

/* ---- counters ---------------------------------------------------------- */

static __always_inline void nfc_count_global(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&nfc_global, &slot);

	if (v)
		*v += 1;
}

static __always_inline struct nfc_port_stats *nfc_port_stats(__u32 nf,
							     __u32 port)
{
	__u32 k = NFC_GPORT(nf, port);

	return bpf_map_lookup_elem(&nfc_stats, &k);
}

/* Count the frame in ctx as sent out of the port whose NFC_GPORT is
 * *gport: a key already on the stack, so that nfc_follow's two lookups
 * share it; its length is read only if the counters are there. */
static __always_inline void nfc_count_tx_at(nfc_ctx_t *ctx, const __u32 *gport)
{
	struct nfc_port_stats *st = bpf_map_lookup_elem(&nfc_stats, gport);

	if (st) {
		st->tx_packets++;
		st->tx_bytes += nfc_pkt_len(ctx);
	}
}

/* The frame in ctx sent out of port `port` of NF `nf`. nfc_output() counts
 * its own; an NF that sends copies by other means (a clone, a devmap
 * broadcast) counts each with this. */
static __always_inline void nfc_count_tx(nfc_ctx_t *ctx, __u32 nf, __u32 port)
{
	__u32 k = NFC_GPORT(nf, port);

	nfc_count_tx_at(ctx, &k);
}

static __always_inline struct nfc_meta *nfc_meta_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&nfc_meta, &zero);
}

/*
 * The metadata an NF sees is the per-CPU map's element when the packet
 * came by tail call (nfc_entry), and a copy on the stack when the program
 * was attached to the netdev itself (nfc_direct): that one then touches
 * the map only when it hands the packet on by tail call, which saves a map
 * lookup and a line of stores per packet. Before such a tail call, the
 * copy is saved to the map; md->on_stack tells the two apart (the compiler
 * folds it away in nfc_direct). An NF that tail-calls a program of its
 * own calls this first, too.
 */
static __always_inline int nfc_meta_save(struct nfc_meta *md)
{
	struct nfc_meta *pm;

	if (!md->on_stack)
		return 0;
	pm = nfc_meta_get();
	if (!pm)
		return -1;
	*pm = *md;
	pm->on_stack = 0;
	return 0;
}

/* The metadata of a packet this NF got by tail call (into nfc_entry, or
 * into a program of its own after nfc_meta_save()): NULL, counted, if it
 * is addressed to another NF (a rewire raced the packet). */
static __always_inline struct nfc_meta *nfc_meta_mine(void)
{
	struct nfc_meta *md = nfc_meta_get();

	if (!md)
		return NULL;
	if (md->nf != nfc_self || md->in_port >= NFC_MAX_PORTS) {
		nfc_count_global(NFC_R_STALE_META);
		return NULL;
	}
	return md;
}

/* A packet entering the chain from a netdev, handed to port `port` of NF
 * `nf` (by the stub, or by the NF's own nfc_direct). The direction is the
 * receiving NF's to set. */
static __always_inline void nfc_meta_enter(struct nfc_meta *md, __u32 nf,
					   __u32 port, __u32 ifindex)
{
	md->nf = nf;
	md->in_port = port;
	md->mark = 0;
	md->ifindex = ifindex;
	md->on_stack = 0;
}

/* ---- verdicts ---------------------------------------------------------- */

/* Dropped by NF `self` (nfc_self but in the packet-out program, which
 * sends as any NF: its drops were counted on NF 0's port of that number,
 * found by a helper). */
static __always_inline int nfc_drop_by(nfc_ctx_t *ctx, struct nfc_meta *md,
				       __u32 self, __u32 reason)
{
	struct nfc_port_stats *st = nfc_port_stats(self, md->in_port);

	(void)ctx;
	if (st)
		st->drops++;
	nfc_count_global(reason < NFC_REASON_MAX ? reason : NFC_R_NF_DROP);
	return NFC_V_DROP;
}

static __always_inline int nfc_drop(nfc_ctx_t *ctx, struct nfc_meta *md,
				    __u32 reason)
{
	return nfc_drop_by(ctx, md, nfc_self, reason);
}

static __always_inline int nfc_pass(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	(void)ctx;
	(void)md;
	return NFC_V_PASS;
}

/*
 * Follow the hop behind port `port` of NF `self`. With `self` and `port`
 * known to the verifier the tail call is a direct jump; the packet-out
 * program calls this with values from the frame and pays an indirect one.
 */
static __always_inline int nfc_follow(nfc_ctx_t *ctx, struct nfc_meta *md,
				      __u32 self, __u32 port)
{
	struct nfc_hop *hop;
	__u32 k, why;

	/* One drop for every reason: a copy of nfc_drop per check put its
	 * cold code between the pieces of the hot path, which a long chain
	 * pays in instruction cache (the forwarder's image 2,483 -> 2,139
	 * bytes; docs/performance.md). */
	why = NFC_R_BAD_PORT;
	if (port >= NFC_MAX_PORTS)
		goto drop;
	k = NFC_GPORT(self, port);
	hop = bpf_map_lookup_elem(&nfc_links, &k);
	why = NFC_R_NO_PEER;
	if (!hop || hop->kind == NFC_HOP_NONE)
		goto drop;
	nfc_count_tx_at(ctx, &k);
	if (hop->kind == NFC_HOP_NF) {
		/* No depth check: the runtime refuses a chain longer than
		 * NFC_MAX_DEPTH (paths_check) and the kernel cuts a loop at
		 * its tail-call limit, counted as NFC_R_TAIL_CALL. The check
		 * was a load, a compare and an increment on every hop. */
		md->nf = hop->nf;
		md->in_port = hop->port;
		if (nfc_meta_save(md))
			return NFC_V_DROP;
		bpf_tail_call(ctx, &nfc_progs, NFC_LINK_SLOT(self, port));
		nfc_count_global(NFC_R_TAIL_CALL);
		return NFC_V_DROP;
	}
	if (hop->kind == NFC_HOP_NETDEV)
#ifdef NFC_HOOK_XDP
		return bpf_redirect_map(&nfc_devmap, hop->ifindex, XDP_DROP);
#else
		return bpf_redirect(hop->ifindex, 0);
#endif
	if (hop->kind == NFC_HOP_PASS)
		return NFC_V_PASS;
	nfc_count_global(NFC_R_NO_PEER);
	return NFC_V_DROP;
drop:
	return nfc_drop_by(ctx, md, self, why);
}

/*
 * A port the compiler knows gives a direct jump. A variable one would be an
 * indirect jump through a retpoline (20-30 ns here), so the first
 * NFC_OUT_FAST_PORTS ports get a constant-index copy each, as Polycube
 * does; the asm keeps the compiler from folding the copies back into one
 * with a variable index. An NF calls this with whatever port it computed
 * (a variable, an int known to be >= 0): it needs no switch of its own.
 */
#define NFC_OUT_CASE(n)                        \
	case n:                                \
		asm volatile("" ::: "memory"); \
		return nfc_follow(ctx, md, nfc_self, n)

static __always_inline int nfc_output(nfc_ctx_t *ctx, struct nfc_meta *md,
				      __u32 port)
{
	if (__builtin_constant_p(port))
		return nfc_follow(ctx, md, nfc_self, port);
	switch (port) {
		NFC_OUT_CASE(0);
		NFC_OUT_CASE(1);
		NFC_OUT_CASE(2);
		NFC_OUT_CASE(3);
	}
	_Static_assert(NFC_OUT_FAST_PORTS == 4, "one case per fast port");
	return nfc_follow(ctx, md, nfc_self, port);
}

/* A transparent NF lets a packet continue on its way: out of the other port
 * of the attachment's pair. */
static __always_inline int nfc_pass_on(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	return nfc_output(ctx, md, md->in_port ^ 1);
}

/*
 * Hand the frame (metadata and its first NFC_PKTIN_MAX bytes) to the NF's
 * control plane in userspace, which sends it (or another) on with
 * packet-out. What it returns consumes the frame (a drop verdict); an NF
 * that only wants a copy sent up (the router's ARP, the bridge's flood)
 * ignores it and goes on with the frame, untouched. A copy that could not
 * be made is counted as a drop on the in_port all the same.
 */
static __always_inline int nfc_to_slow_path(nfc_ctx_t *ctx, struct nfc_meta *md,
					    __u32 reason)
{
	struct nfc_pktin_buf *buf;
	__u32 zero = 0;
	__u64 len;

	nfc_count_global(NFC_G_PKTIN);
	buf = bpf_map_lookup_elem(&nfc_scratch, &zero);
	if (!buf)
		return NFC_V_DROP;
	len = nfc_pkt_len(ctx);
	buf->hdr.nf = nfc_self;
	buf->hdr.in_port = md->in_port;
	buf->hdr.direction = md->direction;
	buf->hdr.mark = md->mark;
	buf->hdr.ifindex = md->ifindex;
	buf->hdr.reason = reason;
	buf->hdr.pkt_len = len;
	if (len > NFC_PKTIN_MAX)
		len = NFC_PKTIN_MAX;
	/* The compiler drops a plain mask (it knows the bound); the verifier
	 * needs to see one on the register actually passed. */
	asm volatile("%[l] &= %[m]" : [l] "+r"(len) : [m] "i"(NFC_PKTIN_MASK));
	if (len < NFC_ETH_HLEN)
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	buf->hdr.cap_len = len;
	if (nfc_load_bytes(ctx, 0, buf->data, len) < 0)
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	if (bpf_ringbuf_output(&nfc_ring, buf, sizeof(buf->hdr) + len, 0)) {
		nfc_count_global(NFC_G_PKTIN_LOST);
		return nfc_drop(ctx, md, NFC_R_RING_FULL);
	}
	return NFC_V_DROP;
}

/* ---- the entry point ---------------------------------------------------- */

/* An NF may define NFC_DIRECT_FRONT(ctx, in_port) before including this
 * file: a statement nfc_direct runs first, before the metadata and the rx
 * count, which may return a verdict of its own (the ddos NF drops
 * blocklisted sources there). Whatever it finishes it counts itself. */
#ifndef NFC_DIRECT_FRONT
#define NFC_DIRECT_FRONT(ctx, port)
#endif

/*
 * An NF may define NFC_ENTRY_STACK_META before including this file:
 * nfc_entry then works on a stack copy of the metadata, as nfc_direct
 * does, instead of the per-CPU map's element. The verifier keeps what it
 * learnt of a stack slot (in_port < NFC_MAX_PORTS, on_stack == 1) and
 * forgets it for map memory at every read, so a large NF's branches on
 * the port and the direction multiply its states: the firewall's nfc_entry
 * went from 472,082 to 268,874 verified instructions. The price is a
 * 32-byte copy in, and one out before a tail
 * call: worth it for an NF whose own work is tens of ns, not for a
 * forwarder whose hop is a few.
 */
/*
 * The metadata of a packet tail-called into nfc_entry. One addressed to
 * another NF raced a rewire: it read the hop before the rewire wrote it
 * and came through the slot after (or the other way round). It goes on to
 * the NF the hop named, through that NF's own slot: the rewire keeps that
 * NF wired until nothing leads to it any more, so the packet leaves as it
 * would have a moment before. Before, it was dropped: a transparent NF
 * spliced in or out of a busy path lost a packet or a run of them at each
 * change (found by a helper). Counted and dropped only when that NF is gone
 * too (or the pin root is of an older build, without NF slots).
 */
static __always_inline struct nfc_meta *nfc_meta_entry(nfc_ctx_t *ctx)
{
	struct nfc_meta *md = nfc_meta_get();

	if (!md)
		return NULL;
	if (md->nf == nfc_self && md->in_port < NFC_MAX_PORTS)
		return md;
	if (md->nf != nfc_self && md->nf < NFC_MAX_NFS)
		bpf_tail_call(ctx, &nfc_progs, NFC_NF_SLOT(md->nf));
	nfc_count_global(NFC_R_STALE_META);
	return NULL;
}

#ifdef NFC_ENTRY_STACK_META
#define NFC_ENTRY_BODY(ctx)                                      \
	struct nfc_meta *pm = nfc_meta_entry(ctx), md;           \
	if (!pm)                                                 \
		return NFC_V_DROP;                               \
	md = *pm;                                                \
	md.on_stack = 1;                                         \
	/* nfc_meta_entry checked it; said again for the copy */ \
	if (md.in_port >= NFC_MAX_PORTS)                         \
		return NFC_V_DROP;                               \
	return nfc_deliver(ctx, &md)
#else
#define NFC_ENTRY_BODY(ctx)                        \
	struct nfc_meta *md = nfc_meta_entry(ctx); \
	if (!md)                                   \
		return NFC_V_DROP;                 \
	return nfc_deliver(ctx, md)
#endif

/*
 * NFC_NF(fn) defines the two programs the runtime loads:
 *  - nfc_entry, the target of tail calls (from a stub or another NF): it
 *    checks that the metadata is addressed to this instance (a packet
 *    racing a rewire is dropped, never misdelivered);
 *  - nfc_direct, attached to a netdev's ingress hook in place of the stub
 *    when that hook leads straight to one of this NF's ports: it sets the
 *    metadata itself, finding its in_port by the netdev's ifindex.
 * Both count rx on the in_port, derive the direction for transparent NFs
 * (even port: ingress side of the attachment, odd port: egress side) and
 * call fn. Its own names start with nfc__: an NF function named st, ctx
 * or md was hidden by them ("called object type ... is not a function";
 * found by a helper).
 */
#define NFC_NF(fn)                                                             \
	static __always_inline int nfc_deliver(nfc_ctx_t *nfc__ctx,            \
					       struct nfc_meta *nfc__md)       \
	{                                                                      \
		struct nfc_port_stats *nfc__st;                                \
		nfc__st = nfc_port_stats(nfc_self, nfc__md->in_port);          \
		if (nfc__st) {                                                 \
			nfc__st->rx_packets++;                                 \
			nfc__st->rx_bytes += nfc_pkt_len(nfc__ctx);            \
		}                                                              \
		if (nfc_transparent)                                           \
			nfc__md->direction = nfc__md->in_port & 1;             \
		else                                                           \
			nfc__md->direction = NFC_DIR_INGRESS;                  \
		return fn(nfc__ctx, nfc__md);                                  \
	}                                                                      \
	SEC(NFC_SEC)                                                           \
	int nfc_entry(nfc_ctx_t *ctx)                                          \
	{                                                                      \
		NFC_ENTRY_BODY(ctx);                                           \
	}                                                                      \
	SEC(NFC_SEC)                                                           \
	int nfc_direct(nfc_ctx_t *ctx)                                         \
	{                                                                      \
		__u32 ifx = NFC_IN_IFINDEX(ctx);                               \
		__u32 k = NFC_IFSLOT(nfc_self, ifx);                           \
		struct nfc_ifport *ip = bpf_map_lookup_elem(&nfc_ifports, &k); \
		struct nfc_meta md;                                            \
		if (!ip || ip->ifindex != ifx || ip->port >= NFC_MAX_PORTS) {  \
			nfc_count_global(NFC_R_STALE_META);                    \
			return NFC_V_DROP;                                     \
		}                                                              \
		NFC_DIRECT_FRONT(ctx, ip->port);                               \
		nfc_meta_enter(&md, nfc_self, ip->port, ifx);                  \
		md.on_stack = 1;                                               \
		return nfc_deliver(ctx, &md);                                  \
	}                                                                      \
	char _license[] SEC("license") = "Dual BSD/GPL"

#endif
