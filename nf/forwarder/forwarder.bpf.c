// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* forwarder: two ports, p1 (0) and p2 (1); what enters one leaves the other.
 * With slow_path=on every frame takes the round trip through userspace
 * instead (packet-in, then packet-out on the other port): the plainest
 * exercise of the slow path. */
#include "nfchain.bpf.h"

/* Read at run time: `set slow_path=` is a map write. */
NFC_CFG_VAR(fwd_slow_path);

#define FWD_R_SLOW_PATH NFC_REASON_NF_BASE

static __always_inline int forward(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	if (fwd_slow_path)
		return nfc_to_slow_path(ctx, md, FWD_R_SLOW_PATH);
	/* Two constant outputs, so that both tail calls are direct jumps. */
	if (md->in_port == 0)
		return nfc_output(ctx, md, 1);
	return nfc_output(ctx, md, 0);
}

NFC_NF(forward);
