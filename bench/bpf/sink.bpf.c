/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Sink: counts and drops. Attached (native XDP) on the veth at the end of
 * the path; being an XDP program it also turns NAPI on for that veth,
 * without which XDP-redirected frames would be dropped silently on the way
 * in. IPv4/UDP and IPv6/UDP frames are ours (also IPv4/UDP inside IPIP: a
 * DSR load balancer's output); anything else is counted apart, so a stray
 * frame (neighbour discovery, say) shows up instead of padding the count.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NFCB_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} nfcb_count SEC(".maps");

static __always_inline void add(__u32 slot, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&nfcb_count, &slot);

	if (c)
		*c += v;
}

SEC("xdp")
int nfcb_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct ipv6hdr *ip6 = (void *)(eth + 1);

	/* IPv6: UDP straight after the fixed header, as the generator
	 * writes it (NDP, MLD are ICMPv6: foreign). */
	if ((void *)(ip6 + 1) <= end && eth->h_proto == bpf_htons(ETH_P_IPV6) &&
	    ip6->nexthdr == IPPROTO_UDP) {
		add(NFCB_RX, 1);
		add(NFCB_RX_BYTES, end - data);
		return XDP_DROP;
	}
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto foreign;
	/* A load balancer's DSR: our frame inside an outer IPv4 header
	 * (IPIP, no options), which the backend would strip. */
	if (ip->protocol == IPPROTO_IPIP && ip->ihl == 5) {
		ip++;
		if ((void *)(ip + 1) > end)
			goto foreign;
	}
	if (ip->protocol != IPPROTO_UDP)
		goto foreign;
	add(NFCB_RX, 1);
	add(NFCB_RX_BYTES, end - data);
	return XDP_DROP;
foreign:
	add(NFCB_FOREIGN, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
