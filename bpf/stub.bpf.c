// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The per-netdev stub: one instance per netdev hook (ingress, or TC egress).
 * It tells the first NF where the packet came from and tail-calls it
 * through its own STUB slot, a constant index, so a direct jump.
 */
#include "nfchain.bpf.h"

const volatile __u32 stub_idx = 0;

SEC(NFC_SEC)
int nfc_stub(nfc_ctx_t *ctx)
{
	struct nfc_meta *md = nfc_meta_get();
	__u32 k = stub_idx;
	struct nfc_hop *hop;

	hop = bpf_map_lookup_elem(&nfc_stubs, &k);
	if (!md || !hop || hop->kind != NFC_HOP_NF)
		return NFC_V_PASS; /* nothing wired (yet): leave it to the stack
				    */
	nfc_meta_enter(md, hop->nf, hop->port, NFC_IN_IFINDEX(ctx));
	bpf_tail_call(ctx, &nfc_progs, NFC_STUB_SLOT(stub_idx));
	nfc_count_global(NFC_R_TAIL_CALL);
	return NFC_V_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
