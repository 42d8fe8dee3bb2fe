// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * filter: a transparent NF that drops the packets a tcpdump expression
 * matches (action=drop), or every packet it does not match (action=keep).
 * The expression runs as a program of its own, translated from libpcap's
 * classic BPF by lib/cbpf.c and reached by tail call; it goes on to
 * filter_match or filter_nomatch below (see lib/cbpf.h). Replacing the
 * expression is one write of slot 0: no reload, no packet decided by
 * neither.
 */
#include "nfchain.bpf.h"
#include "filter.h"

#ifdef NFC_HOOK_XDP
#define FILTER_JMP filter_jmp_xdp
#else
#define FILTER_JMP filter_jmp_tc
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3); /* NFCI_CBPF_SLOTS */
	__type(key, __u32);
	__type(value, __u32);
} FILTER_JMP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FILTER_C_N);
	__type(key, __u32);
	__type(value, __u64);
} filter_cnt SEC(".maps");

/* action=keep: pass what matches, drop the rest. */
const volatile __u32 filter_keep = 0;

static __always_inline void filter_count(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&filter_cnt, &k);

	if (v)
		*v += 1;
}

static __always_inline int filt(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	/* the metadata crosses the two tail calls in the per-CPU map */
	if (nfc_meta_save(md))
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	bpf_tail_call(ctx, &FILTER_JMP, 0);
	filter_count(FILTER_C_NO_FILTER);
	return nfc_drop(ctx, md, NFC_R_TAIL_CALL);
}

NFC_NF(filt);

static __always_inline int verdict(nfc_ctx_t *ctx, int matched)
{
	struct nfc_meta *md = nfc_meta_mine();

	if (!md)
		return NFC_V_DROP;
	if (matched)
		filter_count(FILTER_C_MATCHED);
	if (matched == !filter_keep) {
		filter_count(FILTER_C_DROPPED);
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	}
	return nfc_pass_on(ctx, md);
}

SEC(NFC_SEC)
int filter_match(nfc_ctx_t *ctx)
{
	return verdict(ctx, 1);
}

SEC(NFC_SEC)
int filter_nomatch(nfc_ctx_t *ctx)
{
	return verdict(ctx, 0);
}
