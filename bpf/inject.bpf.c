// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet-out: sends a frame from the control plane as if NF `nf` had called
 * output(port). XDP: run through BPF_PROG_TEST_RUN with live frames, the
 * frame prefixed with struct nfc_inject_hdr. TC: attached to the ingress of
 * the runtime's inject veth, the target carried in skb->mark (set with
 * SO_MARK on the sending socket).
 */
#include "nfchain.bpf.h"

SEC(NFC_SEC)
int nfc_inject(nfc_ctx_t *ctx)
{
	struct nfc_meta *md = nfc_meta_get();
	__u32 nf, port;

	if (!md)
		return NFC_V_DROP;
#ifdef NFC_HOOK_XDP
	struct nfc_inject_hdr *h = nfc_data(ctx);

	if ((void *)(h + 1) > nfc_data_end(ctx) || h->magic != NFC_INJECT_MAGIC)
		return XDP_DROP;
	nf = h->nf;
	port = h->port;
	if (bpf_xdp_adjust_head(ctx, sizeof(*h)))
		return XDP_DROP;
#else
	if ((ctx->mark & 0xff000000) != (NFC_INJECT_MAGIC & 0xff000000))
		return NFC_V_DROP;
	nf = (ctx->mark >> 8) & 0xffff;
	port = ctx->mark & 0xff;
	ctx->mark = 0;
#endif
	if (nf >= NFC_MAX_NFS)
		return NFC_V_DROP;
	md->nf = nf;
	md->in_port = port;
	md->direction = NFC_DIR_EGRESS;
	md->mark = 0;
	md->ifindex = 0;
	md->on_stack = 0;
	return nfc_follow(ctx, md, nf, port);
}

char _license[] SEC("license") = "Dual BSD/GPL";
