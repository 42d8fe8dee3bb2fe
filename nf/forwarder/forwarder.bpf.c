// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* forwarder: two ports, p1 (0) and p2 (1); what enters one leaves the other. */
#include "nfchain.bpf.h"

static __always_inline int forward(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	/* Written as two constant outputs so both tail calls are direct jumps. */
	if (md->in_port == 0)
		return nfc_output(ctx, md, 1);
	return nfc_output(ctx, md, 0);
}

NFC_NF(forward);
