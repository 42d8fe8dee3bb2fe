/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Traffic generator, run by BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES: every invocation writes one frame (UDP, or
 * a TCP SYN with cfg.tcp_syn) and redirects it to the generator's veth.
 *
 * It writes EVERY header byte of EVERY frame. The live-frames page pool
 * recycles each page with whatever the device under test left in it: a
 * generator that only changed a port let the kernel's forwarding rewrite
 * the MACs of the first 64 frames, and every later frame then arrived
 * addressed elsewhere ("otherhost") and was dropped. Payload bytes are
 * never rewritten by our DUTs, so they keep what data_in held.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

const volatile struct nfcb_gen_cfg cfg = {};
struct nfcb_gen_stats stats = {};
static __u64 seq;

static __always_inline __u16 ip_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* A SYN (no options) after the IPv4 header: a new flow's first segment,
 * its sequence number spread by the frame's number, its checksum right
 * (over the pseudo-header: the receiving stack verifies it, so a wrong one
 * would make the flood harmless to the server before any defence). */
static __always_inline int write_syn(struct iphdr *ip, void *end, __u64 n,
				     __u16 sp, __u16 dp)
{
	struct tcphdr *th = (void *)(ip + 1);
	const __u16 *w = (const __u16 *)th;
	__u32 sum;

	if ((void *)(th + 1) > end)
		return -1;
	th->source = bpf_htons(sp);
	th->dest = bpf_htons(dp);
	th->seq = bpf_htonl((__u32)(n * 2654435761u));
	th->ack_seq = 0;
	*(__u16 *)((void *)th + 12) = bpf_htons(0x5002); /* doff 5, SYN */
	th->window = bpf_htons(64240);
	th->check = 0;
	th->urg_ptr = 0;
	sum = (ip->saddr & 0xffff) + (ip->saddr >> 16) + (ip->daddr & 0xffff) +
	      (ip->daddr >> 16) + bpf_htons(IPPROTO_TCP) +
	      bpf_htons(sizeof(*th));
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	th->check = ~sum;
	return 0;
}

/* IPv6 and UDP after the Ethernet header. The UDP checksum stays 0
 * (invalid in IPv6 for an endpoint, RFC 8200 8.1): no forwarder or
 * filter on the path checks it, and computing it would add the
 * generator's cost to every run. */
static __always_inline int write_ip6(struct ethhdr *eth, void *end, __u32 len,
				     __u64 sa, __u64 da, __u64 sp, __u64 dp)
{
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip6 + 1);
	__u32 s = bpf_htonl(cfg.saddr + (__u32)sa);
	__u32 d = bpf_htonl(cfg.daddr + (__u32)da);

	if ((void *)(udp + 1) > end)
		return -1;
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	*(__u32 *)ip6 = bpf_htonl(0x60000000); /* version, class, flow */
	ip6->payload_len = bpf_htons(len - sizeof(*eth) - sizeof(*ip6));
	ip6->nexthdr = IPPROTO_UDP;
	ip6->hop_limit = 64;
#pragma unroll
	for (int i = 0; i < 12; i++) {
		ip6->saddr.in6_u.u6_addr8[i] = cfg.saddr6[i];
		ip6->daddr.in6_u.u6_addr8[i] = cfg.daddr6[i];
	}
	ip6->saddr.in6_u.u6_addr32[3] = s;
	ip6->daddr.in6_u.u6_addr32[3] = d;
	udp->source = bpf_htons(cfg.sport + (__u16)sp);
	udp->dest = bpf_htons(cfg.dport + (__u16)dp);
	udp->len = ip6->payload_len;
	udp->check = 0;
	return 0;
}

SEC("xdp")
int nfcb_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u64 n, sa, da, sp, dp;
	__u32 len;

	if ((void *)(udp + 1) > end) {
		stats.short_frames++;
		return XDP_DROP;
	}
	len = end - data;

	/* Flow of this frame: mixed radix over the four counts (bench.h). */
	n = seq++ + cfg.first;
	sa = n % cfg.n_saddr;
	n /= cfg.n_saddr;
	da = n % cfg.n_daddr;
	n /= cfg.n_daddr;
	sp = n % cfg.n_sport;
	n /= cfg.n_sport;
	dp = n % cfg.n_dport;

	/* Byte by byte: each read of the volatile config stays a load. A
	 * memcpy would cast volatile away, and the compiler would then fold
	 * the all-zero initialiser into the frame. */
#pragma unroll
	for (int i = 0; i < 6; i++) {
		eth->h_dest[i] = cfg.dst_mac[i];
		eth->h_source[i] = cfg.src_mac[i];
	}
	if (cfg.family == 6) {
		if (write_ip6(eth, end, len, sa, da, sp, dp)) {
			stats.short_frames++;
			return XDP_DROP;
		}
		stats.generated++;
		return bpf_redirect(cfg.ifindex, 0);
	}
	eth->h_proto = bpf_htons(ETH_P_IP);

	ip->ihl = 5;
	ip->version = 4;
	ip->tos = 0;
	/* A SYN's datagram ends at its TCP header: the rest of the frame
	 * is Ethernet padding. */
	ip->tot_len = bpf_htons(cfg.tcp_syn ? NFCB_SYN_LEN - sizeof(*eth)
					    : len - sizeof(struct ethhdr));
	ip->id = bpf_htons((__u16)seq);
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = cfg.tcp_syn ? IPPROTO_TCP : IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = bpf_htonl(cfg.saddr + (__u32)sa);
	ip->daddr = bpf_htonl(cfg.daddr + (__u32)da);
	ip->check = ip_csum(ip);
	if (cfg.tcp_syn) {
		if (write_syn(ip, end, seq, cfg.sport + (__u16)sp,
			      cfg.dport + (__u16)dp)) {
			stats.short_frames++;
			return XDP_DROP;
		}
		stats.generated++;
		return bpf_redirect(cfg.ifindex, 0);
	}

	udp->source = bpf_htons(cfg.sport + (__u16)sp);
	udp->dest = bpf_htons(cfg.dport + (__u16)dp);
	udp->len =
		bpf_htons(len - sizeof(struct ethhdr) - sizeof(struct iphdr));
	udp->check = 0; /* optional in IPv4: nothing on the path checks it */

	stats.generated++;
	return bpf_redirect(cfg.ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
