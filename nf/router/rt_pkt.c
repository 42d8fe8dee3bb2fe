// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the frames the slow path builds (ARP requests, ICMP errors and
 * echo replies) and their checksums (rt_pkt.h). Pure, like rt_dir.c: the
 * router's tests compile this file in to build the same frames.
 */
#include "rt_pkt.h"

uint16_t rt_csum(const void *p, size_t n)
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

const char *rt_ntoa(__be32 a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

__be32 rt_mask(unsigned plen)
{
	return htonl(plen ? ~0u << (32 - plen) : 0);
}

size_t rt_build_arp_request(uint8_t *f, const uint8_t *src_mac, __be32 spa,
			    __be32 tpa, const uint8_t *dst_mac)
{
	rt_ethhdr *eth = (rt_ethhdr *)f;
	struct rt_arp_pkt *a = (struct rt_arp_pkt *)(eth + 1);

	memset(f, 0, sizeof(*eth) + sizeof(*a));
	if (dst_mac)
		memcpy(eth->h_dest, dst_mac, 6);
	else
		memset(eth->h_dest, 0xff, 6);
	memcpy(eth->h_source, src_mac, 6);
	eth->h_proto = htons(NFC_ETH_P_ARP);
	a->htype = htons(1);
	a->ptype = htons(NFC_ETH_P_IP);
	a->hlen = 6;
	a->plen = 4;
	a->op = htons(1);
	memcpy(a->sha, src_mac, 6);
	memcpy(a->spa, &spa, 4);
	memcpy(a->tpa, &tpa, 4);
	return sizeof(*eth) + sizeof(*a);
}

void rt_build_ip(rt_iphdr *ip, __be32 src, __be32 dst, __u8 proto, __u8 tos,
		 __u8 ttl, __u16 id, size_t len)
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

size_t rt_build_icmp_error(uint8_t *out, __be32 src, const uint8_t *orig,
			   size_t orig_len, __u8 type, __u8 code, __u16 id)
{
	const rt_iphdr *o = (const rt_iphdr *)orig;
	rt_iphdr *ip = (rt_iphdr *)out;
	rt_icmphdr *ic = (rt_icmphdr *)(ip + 1);
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

uint16_t rt_csum6(const uint8_t *src, const uint8_t *dst, __u8 proto,
		  const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (int i = 0; i < 16; i += 2)
		s += (uint32_t)src[i] << 8 | src[i + 1];
	for (int i = 0; i < 16; i += 2)
		s += (uint32_t)dst[i] << 8 | dst[i + 1];
	s += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + proto;
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

void rt_build_ip6(rt_ip6hdr *h, const uint8_t *src, const uint8_t *dst,
		  __u8 nexthdr, __u8 hop, size_t len)
{
	h->vtc_flow = htonl(6u << 28);
	h->payload_len = htons((uint16_t)len);
	h->nexthdr = nexthdr;
	h->hop_limit = hop;
	memcpy(h->saddr, src, 16);
	memcpy(h->daddr, dst, 16);
}

/* The one's-complement sum of n bytes, folded, not complemented. */
static uint32_t sum_bytes(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

void rt_l4_csum_complete(uint8_t *ip, size_t len)
{
	uint8_t *l4, proto;
	size_t hl, l4len, co;
	uint32_t ps;
	uint16_t field, full;

	if (len < 28)
		return;
	if ((ip[0] >> 4) == 4) {
		hl = (ip[0] & 15) * 4;
		/* A fragment's checksum covers bytes that are not here. */
		if (hl < 20 || (ip[6] & 0x3f) || ip[7] || hl >= len)
			return;
		proto = ip[9];
		l4len = (size_t)(ip[2] << 8 | ip[3]);
		if (l4len > len || l4len <= hl)
			return;
		l4len -= hl;
		ps = sum_bytes(ip + 12, 8, proto + (uint32_t)l4len);
	} else if ((ip[0] >> 4) == 6) {
		hl = 40;
		proto = ip[6]; /* extension headers: left as they are */
		l4len = (size_t)(ip[4] << 8 | ip[5]);
		if (len < hl || l4len + hl > len || !l4len)
			return;
		ps = sum_bytes(ip + 8, 32, proto + (uint32_t)l4len);
	} else {
		return;
	}
	co = proto == 6 ? 16 : proto == 17 ? 6 : 0;
	if (!co || l4len < co + 2)
		return;
	l4 = ip + hl;
	field = (uint16_t)(l4[co] << 8 | l4[co + 1]);
	/* Only a checksum left to offload: the pseudo-header's sum, where
	 * a finished one would be; a UDP 0 (none) and a checksum that is
	 * simply wrong stay as they are. */
	if (field != ps || (proto == 17 && !field))
		return;
	l4[co] = l4[co + 1] = 0;
	full = (uint16_t)~sum_bytes(l4, l4len, ps);
	if (proto == 17 && !full)
		full = 0xffff;
	l4[co] = full >> 8;
	l4[co + 1] = full & 0xff;
}
