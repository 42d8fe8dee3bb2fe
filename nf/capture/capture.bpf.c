// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * capture: a transparent NF that passes every packet on unchanged and, while
 * a reader is attached (cap_ctl.readers, set by the daemon), copies those
 * its filter matches, up to snaplen, with a timestamp, the wire length, the
 * port and the direction, into a ring buffer that the daemon turns into
 * pcap streams. With no reader the cost is one array read and a compare:
 * the filter is not even run. The filter is a tail call (lib/cbpf.h).
 */
#include "nfchain.bpf.h"
#include "capture.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CAP_RING_DEFAULT); /* ring=, set in prepare */
} cap_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cap_ctl);
} cap_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cap_cnt);
} cap_cnt SEC(".maps");

/* Not per-CPU: a per-CPU value is limited to 32 kB, a record is 256 kB.
 * One entry per possible CPU (set in prepare), indexed by the CPU: a
 * packet is handled on one CPU from start to end. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cap_buf);
} cap_buf SEC(".maps");

/* The filter by tail call (lib/cbpf.h): slot FILTER holds the translated
 * tcpdump expression, which goes on to cap_match or cap_nomatch. An empty
 * slot (no filter set) is "match everything". */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3); /* NFCI_CBPF_SLOTS */
	__type(key, __u32);
	__type(value, __u32);
} cap_jmp SEC(".maps");

/* Read at run time (a new snaplen is a map write, not a new program): the
 * mask below bounds the copy for the verifier whatever value it holds. */
NFC_CFG_VAR(cap_snaplen);

static __always_inline void capture(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	__u32 zero = 0, cpu = bpf_get_smp_processor_id(), wire, n;
	struct cap_cnt *cnt = bpf_map_lookup_elem(&cap_cnt, &zero);
	struct cap_buf *b;
	__u64 len;

	if (!cnt)
		return;
	cnt->matched++;
	b = bpf_map_lookup_elem(&cap_buf, &cpu);
	if (!b)
		goto lost;
#ifdef NFC_HOOK_XDP
	wire = bpf_xdp_get_buff_len(ctx);
#else
	wire = ctx->len;
#endif
	n = cap_snaplen; /* once: one packet, one value */
	n = wire < n ? wire : n;
	if (!n)
		return;
	/* n - 1 masked, then 1 added: the verifier sees 1..CAP_SNAP_MAX. */
	len = n - 1;
	asm volatile("%[l] &= %[m]"
		     : [l] "+r"(len)
		     : [m] "i"(CAP_SNAP_MAX - 1));
	len += 1;
	if (nfc_load_bytes(ctx, 0, b->data, len) < 0)
		goto lost;
	b->hdr.ts_ns = bpf_ktime_get_tai_ns();
	b->hdr.wire_len = wire;
	b->hdr.cap_len = len;
	b->hdr.in_port = md->in_port;
	b->hdr.dir = md->direction;
#ifdef NFC_HOOK_TC
	b->hdr.vlan = ctx->vlan_present;
	b->hdr.vlan_tpid = ctx->vlan_proto;
	b->hdr.vlan_tci = ctx->vlan_tci;
#else
	b->hdr.vlan = 0; /* an XDP frame holds its tag */
#endif
	if (bpf_ringbuf_output(&cap_ring, b, sizeof(b->hdr) + len, 0))
		goto lost;
	cnt->captured++;
	return;
lost:
	cnt->lost++;
}

/* Where the filter goes on a match: capture, then on as always. */
SEC(NFC_SEC)
int cap_match(nfc_ctx_t *ctx)
{
	struct nfc_meta *md = nfc_meta_mine();

	if (!md)
		return NFC_V_DROP;
	capture(ctx, md);
	return nfc_pass_on(ctx, md);
}

SEC(NFC_SEC)
int cap_nomatch(nfc_ctx_t *ctx)
{
	struct nfc_meta *md = nfc_meta_mine();

	if (!md)
		return NFC_V_DROP;
	return nfc_pass_on(ctx, md);
}

static __always_inline int cap(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	__u32 zero = 0;
	struct cap_ctl *c = bpf_map_lookup_elem(&cap_ctl, &zero);

	/* No reader: the filter does not even run. */
	if (!c || !c->readers)
		return nfc_pass_on(ctx, md);
	if (nfc_meta_save(md))
		return nfc_pass_on(ctx, md);
	bpf_tail_call(ctx, &cap_jmp, 0 /* NFCI_CBPF_SLOT_FILTER */);
	/* No filter set, or the tail-call budget spent: capture all. */
	capture(ctx, md);
	return nfc_pass_on(ctx, md);
}

NFC_NF(cap);
