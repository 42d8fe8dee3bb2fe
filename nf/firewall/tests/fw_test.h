/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the firewall's tests share: a frame builder (IPv4 or IPv6, TCP, UDP,
 * ICMP or any protocol, IPv6 extension headers, fragments) and a random
 * rule and packet generator, plain or ClassBench-like (prefix pairs with
 * the lengths ACL sets have, port ranges from the usual classes, protocol
 * or any), with packets aimed at the rules so that matches spread over the
 * whole set.
 */
#ifndef NFC_FW_TEST_H
#define NFC_FW_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "firewall/fw_int.h"

/* The XDP program attached to netdev ifx (the first NF's nfc_direct),
 * or -1. Benchmarks run it by BPF_PROG_TEST_RUN with the ingress ifindex
 * set: every repeat then makes its metadata afresh and runs the whole
 * chain. An NF's own program (nf/<id>/prog) after dpt_set_meta ran
 * properly on the first repeat only: that run rewrites the per-CPU
 * metadata for the next NF, and every later repeat was dropped as stale
 * metadata (XDP_DROP), so a mean over repeats measured mostly that drop. */
static inline int ft_xdp_prog(__u32 ifx)
{
	__u32 id = 0;

	if (bpf_xdp_query_id((int)ifx, 0, &id) || !id)
		return -1;
	return bpf_prog_get_fd_by_id(id);
}

/* A packet as the tests describe it. */
struct ft_pkt {
	int v6;
	int proto;
	__u8 src[16], dst[16];
	int sport, dport; /* -1: none written (a portless protocol) */
	int frag;	  /* 1: a non-first fragment (no ports) */
	int ext;	  /* IPv6: extension headers before L4 (0-2) */
	int dir;	  /* FW_DIR_IN or FW_DIR_OUT */
	__u32 id;	  /* written as the payload's last 4 bytes */
};

static inline __u16 ft_csum(const void *p, size_t n)
{
	const __u8 *b = p;
	__u32 s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += b[i] << 8 | b[i + 1];
	if (n & 1)
		s += b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons(~s);
}

static inline int ft_has_ports(int proto)
{
	return proto == 6 || proto == 17;
}

/* The frame of p into f (room for 200 bytes); its length. */
static inline int ft_frame(const struct ft_pkt *p, __u8 *f)
{
	int o = 14, l4, len;
	__u8 nh = p->proto;

	memset(f, 0, 200);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (!p->v6) {
		f[12] = 0x08;
		f[14] = 0x45;
		f[14 + 8] = 64;
		f[14 + 9] = p->proto;
		if (p->frag)
			f[14 + 6] = 0x00, f[14 + 7] = 0x10; /* offset 128 */
		memcpy(f + 14 + 12, p->src, 4);
		memcpy(f + 14 + 16, p->dst, 4);
		l4 = o + 20;
	} else {
		f[12] = 0x86;
		f[13] = 0xdd;
		f[14] = 0x60;
		f[14 + 7] = 64;
		memcpy(f + 14 + 8, p->src, 16);
		memcpy(f + 14 + 24, p->dst, 16);
		l4 = o + 40;
		/* Extension headers: hop-by-hop, then destination options,
		 * then a fragment header; nhp is the next-header byte to
		 * fill. */
		int nhp = 14 + 6;

		for (int i = 0; i < p->ext; i++) {
			f[nhp] = i ? 60 : 0;
			nhp = l4;
			f[l4 + 2] = 1, f[l4 + 3] = 4; /* PadN, 4 bytes */
			l4 += 8;
		}
		if (p->frag) {
			f[nhp] = 44;
			nhp = l4;
			f[l4 + 2] = 0x04; /* offset 128 */
			f[l4 + 4] = 0x12;
			l4 += 8;
		}
		f[nhp] = nh;
	}
	if (!p->frag && ft_has_ports(p->proto)) {
		f[l4] = p->sport >> 8;
		f[l4 + 1] = p->sport;
		f[l4 + 2] = p->dport >> 8;
		f[l4 + 3] = p->dport;
		if (p->proto == 6)
			f[l4 + 12] = 0x50, f[l4 + 13] = 0x10; /* ACK */
	} else if (!p->frag && (p->proto == 1 || p->proto == 58)) {
		f[l4] = p->proto == 1 ? 8 : 128; /* echo request */
	}
	len = l4 + 24;
	memcpy(f + len - 4, &p->id, 4);
	if (!p->v6) {
		f[14 + 2] = (len - 14) >> 8;
		f[14 + 3] = len - 14;
		f[14 + 4] = p->id >> 8;
		f[14 + 5] = p->id;
		memcpy(f + 14 + 10, (__u16[]){ft_csum(f + 14, 20)}, 2);
	} else {
		f[14 + 4] = (len - 54) >> 8;
		f[14 + 5] = len - 54;
	}
	return len;
}

/* ---- random rules and packets ---- */

static inline __u32 ft_rand(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s >> 11;
}

static inline void ft_mask(__u8 *a, int plen)
{
	for (int i = 0; i < 16; i++) {
		int bits = plen - 8 * i;

		a[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : 0xff << (8 - bits);
	}
}

/* An address of family v6 drawn from a few pools (so that rules and
 * packets meet): 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 as
 * the tests may use, and random ones. */
static inline void ft_addr(__u64 *s, int v6, __u8 *a)
{
	memset(a, 0, 16);
	if (!v6) {
		__u32 x = ft_rand(s);
		int pool = ft_rand(s) % 4;

		if (pool == 0)
			a[0] = 198, a[1] = 51, a[2] = 100;
		else if (pool == 1)
			a[0] = 203, a[1] = 0, a[2] = 113;
		else if (pool == 2)
			a[0] = 198, a[1] = 51, a[2] = x >> 24;
		else
			a[0] = x >> 24, a[1] = x >> 16, a[2] = x >> 8;
		a[3] = x;
	} else {
		a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
		for (int i = 4; i < 16; i++)
			a[i] = (i < 14 && ft_rand(s) % 3) ? 0 : ft_rand(s);
		if (ft_rand(s) % 4 == 0)
			for (int i = 4; i < 8; i++)
				a[i] = ft_rand(s);
	}
}

/* Prefix lengths as ClassBench's ACL seeds spread them: mostly /32 and
 * /24-/31 hosts and subnets, some /16-/23, a few short or wildcard. */
static inline int ft_plen(__u64 *s, int v6, int classbench)
{
	int x = ft_rand(s) % 100;

	if (!classbench)
		return ft_rand(s) % (v6 ? 129 : 33);
	if (v6)
		return x < 40	? 128
		       : x < 70 ? 64 + ft_rand(s) % 64
				: 16 + ft_rand(s) % 48;
	return x < 45	? 32
	       : x < 75 ? 24 + ft_rand(s) % 8
	       : x < 92 ? 16 + ft_rand(s) % 8
			: ft_rand(s) % 16;
}

/* Port fields as ClassBench has them: wildcard, an exact port, the
 * well-known or ephemeral range, or an arbitrary range; sometimes a list. */
static inline void ft_ports(__u64 *s, struct fw_range *r, __u8 *n,
			    int classbench)
{
	int x = ft_rand(s) % 100;

	*n = 0;
	if (x < (classbench ? 45 : 30))
		return;
	if (x < 70) {
		r[0].lo = r[0].hi =
			ft_rand(s) % 3 ? ft_rand(s) % 1024 : ft_rand(s) % 65536;
	} else if (x < 78) {
		r[0].lo = 0, r[0].hi = 1023;
	} else if (x < 85) {
		r[0].lo = 1024, r[0].hi = 65535;
	} else if (x < 94 || classbench) {
		__u16 a = ft_rand(s), b = ft_rand(s);

		r[0].lo = a < b ? a : b;
		r[0].hi = a < b ? b : a;
	} else {
		int k = 2 + ft_rand(s) % 4;

		for (int i = 0; i < k; i++) {
			r[i].lo = ft_rand(s) % 2048;
			r[i].hi = r[i].lo +
				  (ft_rand(s) % 3 ? 0 : ft_rand(s) % 64);
		}
		*n = k;
		return;
	}
	*n = 1;
}

/* A random stateless rule numbered num. */
static inline void ft_rule(__u64 *s, __u32 num, int classbench,
			   struct fw_rule *r)
{
	int x = ft_rand(s) % 100, fam;

	memset(r, 0, sizeof(*r));
	r->num = num;
	r->action = ft_rand(s) % 2 ? FW_ACCEPT : FW_DROP;
	r->dir = classbench ? 0 : ft_rand(s) % 3;
	fam = ft_rand(s) % 10 < 7 ? 4 : 6;
	if (ft_rand(s) % 10 < (classbench ? 9 : 6)) {
		r->src.fam = fam;
		ft_addr(s, fam == 6, r->src.addr);
		r->src.plen = ft_plen(s, fam == 6, classbench);
		ft_mask(r->src.addr, r->src.plen);
	}
	if (ft_rand(s) % 10 < (classbench ? 9 : 6)) {
		r->dst.fam = fam;
		ft_addr(s, fam == 6, r->dst.addr);
		r->dst.plen = ft_plen(s, fam == 6, classbench);
		ft_mask(r->dst.addr, r->dst.plen);
	}
	r->fam = r->src.fam ? r->src.fam : r->dst.fam;
	r->proto = x < 50   ? 6
		   : x < 75 ? 17
		   : x < 80 ? (fam == 6 ? 58 : 1)
		   : x < 83 ? (int)(ft_rand(s) % 256)
			    : -1;
	if ((r->proto == 1 && r->fam == 6) || (r->proto == 58 && r->fam == 4))
		r->proto = -1;
	if (ft_has_ports(r->proto)) {
		ft_ports(s, r->sport, &r->nsport, classbench);
		ft_ports(s, r->dport, &r->ndport, classbench);
	}
}

/* A packet aimed at rule r (its fields where r has them, random
 * elsewhere), or a random one when r is NULL. */
static inline void ft_packet(__u64 *s, const struct fw_rule *r,
			     struct ft_pkt *p)
{
	int x = ft_rand(s) % 100;

	memset(p, 0, sizeof(*p));
	p->v6 = r && r->fam ? r->fam == 6 : ft_rand(s) % 10 < 3;
	p->dir = r && r->dir ? r->dir - 1 : (int)(ft_rand(s) % 2);
	ft_addr(s, p->v6, p->src);
	ft_addr(s, p->v6, p->dst);
	if (r && r->src.fam)
		for (int i = 0; i < 16; i++) {
			int bits = r->src.plen - 8 * i;
			__u8 m = bits >= 8   ? 0xff
				 : bits <= 0 ? 0
					     : 0xff << (8 - bits);

			p->src[i] = (r->src.addr[i] & m) | (p->src[i] & ~m);
		}
	if (r && r->dst.fam)
		for (int i = 0; i < 16; i++) {
			int bits = r->dst.plen - 8 * i;
			__u8 m = bits >= 8   ? 0xff
				 : bits <= 0 ? 0
					     : 0xff << (8 - bits);

			p->dst[i] = (r->dst.addr[i] & m) | (p->dst[i] & ~m);
		}
	if (r && r->proto >= 0 && ft_rand(s) % 8)
		p->proto = r->proto;
	else
		p->proto = x < 45   ? 6
			   : x < 80 ? 17
			   : x < 90 ? (p->v6 ? 58 : 1)
				    : (int)(ft_rand(s) % 256);
	/* Protocols the stack or the firewall treat apart. */
	if (p->proto == 0 || p->proto == 43 || p->proto == 44 ||
	    p->proto == 60 || p->proto == 51 || p->proto == 50 ||
	    p->proto == 59 || (p->v6 && p->proto == 58) ||
	    (!p->v6 && p->proto == 41))
		p->proto = 17;
	p->sport = p->dport = -1;
	if (ft_has_ports(p->proto)) {
		p->sport = (int)(ft_rand(s) % 65536);
		p->dport =
			ft_rand(s) % 3 ? ft_rand(s) % 1100 : ft_rand(s) % 65536;
		if (r && r->nsport && ft_rand(s) % 4) {
			const struct fw_range *g =
				&r->sport[ft_rand(s) % r->nsport];

			p->sport = g->lo + ft_rand(s) % (g->hi - g->lo + 1);
		}
		if (r && r->ndport && ft_rand(s) % 4) {
			const struct fw_range *g =
				&r->dport[ft_rand(s) % r->ndport];

			p->dport = g->lo + ft_rand(s) % (g->hi - g->lo + 1);
		}
	}
	if (p->v6)
		p->ext = ft_rand(s) % 8 == 0 ? 1 + ft_rand(s) % 2 : 0;
	p->frag = ft_rand(s) % 50 == 0;
}

/* The reference verdict: the first rule of a plain walk. */
static inline int ft_ref(const struct fw_rule *rs, __u32 n,
			 const struct ft_pkt *p)
{
	int nop = p->frag || !ft_has_ports(p->proto);

	return fw_rules_match(rs, n, p->dir, p->v6, FW_ST_NEW, p->proto, p->src,
			      p->dst, nop ? -1 : p->sport, nop ? -1 : p->dport);
}

#endif
