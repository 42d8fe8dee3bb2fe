// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: what `action=reject` sends back, built in the slow path. The
 * data plane hands a rejected packet up (reason FW_R_REJECT) and drops it;
 * here the answer iptables' REJECT gives by default is built and sent out
 * of the port the packet came in on, toward its sender:
 *   - TCP: a RST (the sequence numbers of RFC 793's reset generation);
 *   - any other IPv4: ICMP port unreachable (3/3) quoting the packet;
 *   - any other IPv6: ICMPv6 port unreachable (1/4) quoting it.
 * The firewall has no address of its own: the answer comes from the
 * packet's destination, as a bridge firewall's reject does (nftables'
 * bridge family). Nothing answers a RST, an ICMP error, a non-first
 * fragment or a packet from a multicast, broadcast or unspecified source,
 * so that two firewalls never answer each other's answers; nor a frame
 * or packet sent to a group (a broadcast or multicast MAC, IPv4
 * 224.0.0.0/3 and 255.255.255.255, IPv6 ff00::/8), as RFC 1122 (3.2.2)
 * and RFC 4443 (2.4) ask and iptables' REJECT does.
 */
#include <string.h>
#include <arpa/inet.h>
#include <linux/types.h>

#include "nfchain/nf.h"
#include "fw_int.h"

#define ETH_HLEN_ 14
/* IPv4 quotes up to 536 bytes of the packet (as the kernel's bridge
 * reject), IPv6 as much as keeps the answer within 1280. */
#define Q4_MAX 536
#define Q6_MAX (1280 - 40 - 8)
#define OUT_MAX (ETH_HLEN_ + 4 + 40 + 8 + Q6_MAX)

static __u32 sum_add(__u32 s, const __u8 *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (__u32)p[n - 1] << 8;
	return s;
}

static __u16 sum_fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((__u16)~s);
}

/* The L4 checksum with its pseudo-header (IPv4 or IPv6 by alen). */
static __u16 l4_csum(const __u8 *src, const __u8 *dst, size_t alen, __u8 proto,
		     const __u8 *l4, size_t len)
{
	__u32 s = sum_add(0, src, alen);

	s = sum_add(s, dst, alen);
	s += proto + (__u32)(len >> 16) + (__u32)(len & 0xffff);
	return sum_fold(sum_add(s, l4, len));
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* The RST answering TCP segment `th` (tlen bytes of TCP, header and
 * payload, as the IP header says) into out at its L4 offset; 20. */
static size_t tcp_rst(__u8 *o, const __u8 *th, size_t tlen)
{
	__u8 flags = th[13];
	size_t doff = (th[12] >> 4) * 4u;

	memset(o, 0, 20);
	memcpy(o, th + 2, 2); /* ports swapped */
	memcpy(o + 2, th, 2);
	o[12] = 5 << 4;
	if (flags & 0x10) { /* ACK: the RST takes its number */
		memcpy(o + 4, th + 8, 4);
		o[13] = 0x04;
	} else {
		__u32 ack = get32(th + 4) + (flags & 0x02 ? 1 : 0) +
			    (flags & 0x01 ? 1 : 0) +
			    (__u32)(tlen > doff ? tlen - doff : 0);

		put32(o + 8, ack);
		o[13] = 0x14; /* RST, ACK */
	}
	return 20;
}

static int src4_ok(const __u8 *a)
{
	return !(a[0] == 0 || a[0] >= 224 ||
		 (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255));
}

/* The answer to an IPv4 packet ip (cap bytes there) into out (after the
 * Ethernet header); its length, or 0 for none. */
static size_t answer4(__u8 *out, const __u8 *ip, size_t cap)
{
	size_t hl = (ip[0] & 0x0f) * 4u, tot = (size_t)ip[2] << 8 | ip[3], n;
	__u8 proto = ip[9], *l4 = out + 20;

	if (hl < 20 || cap < hl || tot < hl || !src4_ok(ip + 12) ||
	    ip[16] >= 224)
		return 0;
	if ((ip[6] & 0x1f) | ip[7]) /* a later fragment */
		return 0;
	if (tot > cap)
		tot = cap;
	if (proto == 6) {
		if (tot < hl + 20 || ip[hl + 13] & 0x04) /* a RST */
			return 0;
		n = tcp_rst(l4, ip + hl, ((size_t)ip[2] << 8 | ip[3]) - hl);
		put16(l4 + 16, 0);
		put16(l4 + 16, ntohs(l4_csum(ip + 16, ip + 12, 4, 6, l4, n)));
	} else {
		if (proto == 1 && tot >= hl + 1) {
			__u8 t = ip[hl];

			if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
				return 0; /* an error */
		}
		n = tot < Q4_MAX ? tot : Q4_MAX;
		memset(l4, 0, 8);
		l4[0] = 3; /* destination unreachable */
		l4[1] = 3; /* port */
		memcpy(l4 + 8, ip, n);
		n += 8;
		put16(l4 + 2, ntohs(sum_fold(sum_add(0, l4, n))));
	}
	memset(out, 0, 20);
	out[0] = 0x45;
	put16(out + 2, (__u16)(20 + n));
	out[6] = 0x40; /* DF */
	out[8] = 64;
	out[9] = proto == 6 ? 6 : 1;
	memcpy(out + 12, ip + 16, 4);
	memcpy(out + 16, ip + 12, 4);
	put16(out + 10, ntohs(sum_fold(sum_add(0, out, 20))));
	return 20 + n;
}

/* The upper-layer header of an IPv6 packet: its protocol and offset, past
 * the hop-by-hop, routing and destination options headers (a fragment
 * header ends the walk: a first fragment's TCP is answered with ICMPv6,
 * and a later one not at all). -1: nothing to answer. */
static int walk6(const __u8 *ip, size_t cap, size_t *off)
{
	__u8 nh = ip[6];
	size_t o = 40;

	for (int i = 0; i < 8; i++) {
		if (nh == 0 || nh == 43 || nh == 60) {
			if (cap < o + 8)
				return -1;
			nh = ip[o];
			o += (ip[o + 1] + 1u) * 8;
			continue;
		}
		if (nh == 44) {
			if (cap < o + 8 || ((ip[o + 2] << 8 | ip[o + 3]) & ~7))
				return -1; /* cut short, or a later fragment */
			*off = o;
			return 44;
		}
		break;
	}
	*off = o;
	return nh;
}

static size_t answer6(__u8 *out, const __u8 *ip, size_t cap)
{
	size_t tot = 40 + ((size_t)ip[4] << 8 | ip[5]), off = 0, n;
	int nh;
	__u8 *l4 = out + 40;
	static const __u8 zero[16];

	if (cap < 40 || ip[8] == 0xff || !memcmp(ip + 8, zero, 16) ||
	    ip[24] == 0xff)
		return 0; /* multicast or unspecified source, or to a group */
	if (tot > cap)
		tot = cap;
	nh = walk6(ip, tot, &off);
	if (nh < 0)
		return 0;
	if (nh == 58 && off < tot && ip[off] < 128)
		return 0; /* an ICMPv6 error */
	if (nh == 6) {
		if (tot < off + 20 || ip[off + 13] & 0x04)
			return 0;
		n = tcp_rst(l4, ip + off, tot - off);
		put16(l4 + 16, 0);
		put16(l4 + 16, ntohs(l4_csum(ip + 24, ip + 8, 16, 6, l4, n)));
	} else {
		n = tot < Q6_MAX ? tot : Q6_MAX;
		memset(l4, 0, 8);
		l4[0] = 1; /* destination unreachable */
		l4[1] = 4; /* port */
		memcpy(l4 + 8, ip, n);
		n += 8;
		put16(l4 + 2, ntohs(l4_csum(ip + 24, ip + 8, 16, 58, l4, n)));
	}
	memset(out, 0, 40);
	out[0] = 0x60;
	put16(out + 4, (__u16)n);
	out[6] = nh == 6 ? 6 : 58;
	out[7] = 64;
	memcpy(out + 8, ip + 24, 16);
	memcpy(out + 24, ip + 8, 16);
	return 40 + n;
}

size_t fw_reject_build(const __u8 *f, size_t len, __u8 *out, size_t outlen)
{
	size_t o = 12, n = 0;
	__u16 type;

	_Static_assert(OUT_MAX <= FW_REJECT_MAX, "room for any answer");
	if (outlen < OUT_MAX || len < ETH_HLEN_ || (f[0] & 1))
		return 0;
	type = (__u16)(f[12] << 8 | f[13]);
	if (type == 0x8100 && len >= 18) { /* one VLAN tag, kept */
		o = 16;
		type = (__u16)(f[16] << 8 | f[17]);
	}
	memcpy(out, f + 6, 6); /* to the sender */
	memcpy(out + 6, f, 6);
	memcpy(out + 12, f + 12, o + 2 - 12);
	if (type == 0x0800 && len >= o + 2 + 20 && (f[o + 2] >> 4) == 4)
		n = answer4(out + o + 2, f + o + 2, len - o - 2);
	else if (type == 0x86dd && len >= o + 2 + 40 && (f[o + 2] >> 4) == 6)
		n = answer6(out + o + 2, f + o + 2, len - o - 2);
	return n ? o + 2 + n : 0;
}

void fw_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		  const uint8_t *data, uint32_t len, uint32_t pkt_len)
{
	static __u8 out[OUT_MAX];
	size_t n;

	(void)pkt_len;
	if (reason != FW_R_REJECT)
		return;
	n = fw_reject_build(data, len, out, sizeof(out));
	if (n)
		nfc_nf_packet_out(nf, in_port, out, n);
}
