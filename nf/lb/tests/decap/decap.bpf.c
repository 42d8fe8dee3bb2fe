// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A DSR backend's decapsulation, for kernels without the ipip module (this
 * one: CONFIG_NET_IPIP is not set): on the backend's ingress (TC), an
 * IPv4-in-IPv4 (or IPv6-in-IPv6) packet loses its outer header, and the inner
 * one, addressed to the VIP the backend holds on lo, goes up its stack as if it
 * had come so. Where ipip exists, an ipip device does the same (README.md).
 * Built by ../lb.sh with clang; attached with tc.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV4
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#endif
#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV6
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)
#endif

SEC("tc")
int lb_decap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct ipv6hdr *ip6 = (void *)(eth + 1);

	/* ip6ip6 (no ip6_tunnel here either: CONFIG_IPV6_TUNNEL is not
	 * set). */
	if ((void *)(ip6 + 1) <= end && eth->h_proto == bpf_htons(ETH_P_IPV6) &&
	    ip6->nexthdr == IPPROTO_IPV6) {
		if (bpf_skb_adjust_room(skb, -(int)sizeof(*ip6),
					BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_DECAP_L3_IPV6))
			return TC_ACT_SHOT;
		return TC_ACT_OK;
	}
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_IPIP || ip->ihl != 5)
		return TC_ACT_OK;
	if (bpf_skb_adjust_room(skb, -(int)sizeof(*ip), BPF_ADJ_ROOM_MAC,
				BPF_F_ADJ_ROOM_DECAP_L3_IPV4))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
