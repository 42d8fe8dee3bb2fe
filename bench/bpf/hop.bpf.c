/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The floor: one bare XDP redirect hop, what any XDP forwarder costs at
 * least, so it does nothing else: the harness counts its frames on the
 * netdevs around it. drop_every > 0 drops every n-th frame (and counts):
 * the fault the smoke test injects to prove that a losing stage is caught.
 * With drop_every a load-time constant 0, the verifier removes that branch
 * and the hop stays bare. Also the "empty" program of the micro benchmark.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "bench.h"

const volatile __u32 out_ifindex = 0;
const volatile __u32 drop_every = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFCB_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} nfcb_count SEC(".maps");

static __always_inline __u64 add(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&nfcb_count, &slot);

	if (!c)
		return 0;
	return ++*c;
}

SEC("xdp")
int nfcb_hop(struct xdp_md *ctx)
{
	(void)ctx;
	if (drop_every && add(NFCB_RX) % drop_every == 0) {
		add(NFCB_DROPPED);
		return XDP_DROP;
	}
	return bpf_redirect(out_ifindex, 0);
}

/* The same bare hop in TC (tcx ingress), for the TC floor: what the kernel
 * costs in that hook before nfchain's program does anything. */
SEC("tc")
int nfcb_hop_tc(struct __sk_buff *skb)
{
	(void)skb;
	return bpf_redirect(out_ifindex, 0);
}

/* The micro benchmark's floor: an XDP program that does nothing. */
SEC("xdp")
int nfcb_empty(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
