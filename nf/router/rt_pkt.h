/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Userspace frame helpers of the router: checksums, address text, and the
 * frames the slow path builds (ARP requests, ICMP messages). Header-only,
 * so that the router's tests build the same frames the same way.
 * Addresses are in network byte order.
 */
#ifndef NFC_ROUTER_PKT_H
#define NFC_ROUTER_PKT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/icmp.h>

#define RT_ICMP_QUOTE_MAX 576 /* RFC 1812 4.3.2.3: an error fits in 576 */

struct rt_arp_pkt { /* ARP for IPv4 over Ethernet */
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

static inline uint16_t rt_csum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static inline const char *rt_ntoa(__be32 a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static inline __be32 rt_mask(unsigned plen)
{
	return htonl(plen ? ~0u << (32 - plen) : 0);
}

/* A 42-byte ARP request (dst_mac NULL: broadcast). Returns its length. */
static inline size_t rt_build_arp_request(uint8_t *f, const uint8_t *src_mac,
					  __be32 spa, __be32 tpa,
					  const uint8_t *dst_mac)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct rt_arp_pkt *a = (struct rt_arp_pkt *)(eth + 1);

	memset(f, 0, sizeof(*eth) + sizeof(*a));
	if (dst_mac)
		memcpy(eth->h_dest, dst_mac, 6);
	else
		memset(eth->h_dest, 0xff, 6);
	memcpy(eth->h_source, src_mac, 6);
	eth->h_proto = htons(ETH_P_ARP);
	a->htype = htons(1);
	a->ptype = htons(ETH_P_IP);
	a->hlen = 6;
	a->plen = 4;
	a->op = htons(1);
	memcpy(a->sha, src_mac, 6);
	memcpy(a->spa, &spa, 4);
	memcpy(a->tpa, &tpa, 4);
	return sizeof(*eth) + sizeof(*a);
}

/* An IPv4 header with its checksum; `len` is the payload length. */
static inline void rt_build_ip(struct iphdr *ip, __be32 src, __be32 dst,
			       __u8 proto, __u8 tos, __u8 ttl, __u16 id,
			       size_t len)
{
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = tos;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + len));
	ip->id = htons(id);
	ip->ttl = ttl;
	ip->protocol = proto;
	ip->saddr = src;
	ip->daddr = dst;
	ip->check = rt_csum(ip, sizeof(*ip));
}

/*
 * An ICMP error (type, code) about the IPv4 packet `orig` (orig_len bytes),
 * from `src`: IP header, ICMP header, then as much of the original as fits
 * in 576 bytes. Written at `out` (room for RT_ICMP_QUOTE_MAX); returns the
 * IP packet's length.
 */
static inline size_t rt_build_icmp_error(uint8_t *out, __be32 src,
					 const uint8_t *orig, size_t orig_len,
					 __u8 type, __u8 code, __u16 id)
{
	const struct iphdr *o = (const struct iphdr *)orig;
	struct iphdr *ip = (struct iphdr *)out;
	struct icmphdr *ic = (struct icmphdr *)(ip + 1);
	size_t q = orig_len;

	if (q > RT_ICMP_QUOTE_MAX - sizeof(*ip) - sizeof(*ic))
		q = RT_ICMP_QUOTE_MAX - sizeof(*ip) - sizeof(*ic);
	memset(ic, 0, sizeof(*ic));
	ic->type = type;
	ic->code = code;
	memcpy(ic + 1, orig, q);
	ic->checksum = rt_csum(ic, sizeof(*ic) + q);
	/* Precedence "internetwork control", as the kernel does. */
	rt_build_ip(ip, src, o->saddr, IPPROTO_ICMP, 0xc0, 64, id,
		    sizeof(*ic) + q);
	return sizeof(*ip) + sizeof(*ic) + q;
}

#endif
