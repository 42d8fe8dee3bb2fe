// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * counter: a transparent NF that counts packets and bytes per direction and
 * lets everything continue. Each attachment owns a port pair (ingress side
 * 2k, egress side 2k+1), so counting by in_port gives per-attachment,
 * per-direction figures.
 */
#include "nfchain.bpf.h"
#include "counter.h"

#ifdef COUNTER_REBUILD
/* Only for the upgrade test: a different build of the same NF. */
const volatile __u32 counter_rebuilt = 1;
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFC_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct counter_val);
} counter_dir SEC(".maps");

/* Set with `mark=N`: stamped into the metadata so that the order of two
 * counters on one path is visible downstream. Read at run time: a new
 * mark is a map write, not a new program. */
NFC_CFG_VAR(counter_mark);

static __always_inline int count(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	__u32 k = md->in_port;
	struct counter_val *v = bpf_map_lookup_elem(&counter_dir, &k);

	if (v) {
		v->packets++;
		v->bytes += nfc_pkt_len(ctx);
	}
	if (counter_mark)
		md->mark = (md->mark << 8) | (counter_mark & 0xff);
	return nfc_pass_on(ctx, md);
}

NFC_NF(count);
