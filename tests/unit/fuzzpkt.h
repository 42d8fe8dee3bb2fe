/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet fuzzing of an NF's data plane (BPF_PROG_TEST_RUN), shared by the
 * NFs' fuzz tests (nf/<name>/tests/test_<name>_fuzz.c), with dptest.h for
 * running programs:
 *   - a seeded PRNG: frame i of a run with seed S is made from seed S + i
 *     alone, so `--seed S+i --frames 1` makes that frame again;
 *   - a frame generator: Ethernet with 0-3 VLAN tags (802.1Q, 802.1ad,
 *     0x9100), then IPv4 (options, fragments, UDP/TCP/ICMP with valid
 *     checksums), IPv6 with extension-header chains, ARP variants or
 *     an unknown EtherType, from addresses the NF cares about (hints);
 *   - a mutator: truncation, trailing bytes, wrong lengths, header length
 *     and version, bad or fixed-up checksums, flipped bytes;
 *   - checks an oracle uses on what a program output (L3 offset, IPv4
 *     header and L4 checksums, lengths), computed here from the bytes,
 *     never from the NF's code;
 *   - the loop: a time or frame budget per case, frames per second, and on
 *     a violation the seed, the frame in hex and what the program did.
 *
 * A test calls fz_args() once, then fz_loop() per case (an NF in a hook)
 * with a function that makes one frame, runs it and judges it.
 */
#ifndef NFC_FUZZPKT_H
#define NFC_FUZZPKT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sched.h>
#include <linux/types.h>

#include "dptest.h"

/* ---- PRNG: splitmix64, one state per frame ------------------------------ */

struct fz_rng {
	__u64 s;
};

static inline __u64 fz_next(struct fz_rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 0 .. n-1 (n > 0) */
static inline __u32 fz_below(struct fz_rng *r, __u32 n)
{
	return (__u32)(fz_next(r) % n);
}

/* True with probability pct / 100. */
static inline int fz_pct(struct fz_rng *r, __u32 pct)
{
	return fz_below(r, 100) < pct;
}

static inline void fz_bytes(struct fz_rng *r, __u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (__u8)fz_next(r);
}

/* ---- checksums and headers, from the bytes alone ------------------------ */

#define FZ_MAX 1600 /* frames are at most this long */

static inline __u32 fz_sum(const __u8 *p, size_t n, __u32 s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (__u32)p[n - 1] << 8;
	return s;
}

static inline __u16 fz_fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* The partial sums of the pseudo-headers over which TCP, UDP and ICMPv6
 * checksums are taken: the addresses of the IPv4 packet at ip (or of the
 * IPv6 one at ip6), the protocol (next header) and the segment's length n
 * (RFC 768, RFC 793, RFC 8200 8.1). */
static inline __u32 fz_pseudo4(const __u8 *ip, __u32 n, __u8 proto)
{
	return fz_sum(ip + 12, 8, 0) + proto + n;
}

static inline __u32 fz_pseudo6(const __u8 *ip6, __u32 n, __u8 nh)
{
	return fz_sum(ip6 + 8, 32, 0) + nh + n;
}

static inline __u16 fz_get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static inline __u32 fz_get32(const __u8 *p)
{
	return (__u32)fz_get16(p) << 16 | fz_get16(p + 2);
}

static inline void fz_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline int fz_is_tpid(__u16 t)
{
	return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

/* Offset of the L3 header past every VLAN tag, and its EtherType; -1 if
 * the frame is shorter than its Ethernet header and tags. */
static inline int fz_l3(const __u8 *f, __u32 len, __u16 *etype)
{
	__u32 off = 12;

	while (off + 2 <= len && fz_is_tpid(fz_get16(f + off)) &&
	       off + 6 <= len)
		off += 4;
	if (off + 2 > len)
		return -1;
	*etype = fz_get16(f + off);
	return (int)off + 2;
}

/* NULL if the IPv4 header at `ip` (`room` bytes to the frame's end) is
 * valid: version 4, header length 5..15 words within the total length,
 * total length within the frame, checksum right. Else what is wrong. */
static inline const char *fz_ipv4_bad(const __u8 *ip, __u32 room)
{
	__u32 hl, tot;

	if (room < 20)
		return "IPv4 header truncated";
	hl = (ip[0] & 15) * 4u;
	tot = fz_get16(ip + 2);
	if (ip[0] >> 4 != 4)
		return "IPv4 version is not 4";
	if (hl < 20 || hl > room)
		return "IPv4 header length out of the frame";
	if (tot < hl || tot > room)
		return "IPv4 total length disagrees with the frame";
	if (fz_fold(fz_sum(ip, hl, 0)))
		return "IPv4 header checksum wrong";
	return NULL;
}

/* The L4 checksum of a valid IPv4 packet's first fragment: 1 right, 0
 * wrong, -1 not checkable (a fragment, a protocol without one, UDP 0). */
static inline int fz_l4_ok(const __u8 *ip)
{
	__u32 hl = (ip[0] & 15) * 4u, tot = fz_get16(ip + 2), n = tot - hl;
	const __u8 *l4 = ip + hl;
	__u32 s = 0;

	if (fz_get16(ip + 6) & 0x3fff) /* MF or an offset */
		return -1;
	switch (ip[9]) {
	case 1: /* ICMP: no pseudo-header */
		return n >= 4 ? !fz_fold(fz_sum(l4, n, 0)) : -1;
	case 6:
		if (n < 20)
			return -1;
		break;
	case 17:
		if (n < 8 || !fz_get16(l4 + 6))
			return -1;
		break;
	default:
		return -1;
	}
	s = fz_pseudo4(ip, n, ip[9]);
	return !fz_fold(fz_sum(l4, n, s));
}

static inline void fz_ipv4_fix(__u8 *ip)
{
	__u32 hl = (ip[0] & 15) * 4u;

	fz_put16(ip + 10, 0);
	fz_put16(ip + 10, fz_fold(fz_sum(ip, hl, 0)));
}

/* Sets the L4 checksum of the IPv4 packet at ip (header valid, `tot`
 * bytes all present). */
static inline void fz_l4_fix(__u8 *ip)
{
	__u32 hl = (ip[0] & 15) * 4u, tot = fz_get16(ip + 2), n = tot - hl;
	__u8 *l4 = ip + hl;
	int at = ip[9] == 1 ? 2 : ip[9] == 6 ? 16 : ip[9] == 17 ? 6 : -1;
	__u32 s = 0;

	if (at < 0 || n < (__u32)at + 2)
		return;
	fz_put16(l4 + at, 0);
	if (ip[9] != 1)
		s = fz_pseudo4(ip, n, ip[9]);
	fz_put16(l4 + at, fz_fold(fz_sum(l4, n, s)));
	if (ip[9] == 17 && !fz_get16(l4 + at))
		fz_put16(l4 + at, 0xffff);
}

/* ---- the generator ------------------------------------------------------ */

/* What the NF cares about: frames are made from these more often than
 * from random values, so that they get past its first checks. */
struct fz_hints {
	const __u8 (*macs)[6]; /* port MACs, known stations */
	int n_macs;
	const __be32 *ip4; /* its addresses, neighbours, routed, martian */
	int n_ip4;
	const __u16 *vids;
	int n_vids;
	const __u8 *dst; /* if set, the destination MAC of most frames (the
			  * in port's own, for an NF that checks it) */
};

static inline void fz_mac(struct fz_rng *r, const struct fz_hints *h, __u8 *m)
{
	__u32 c = fz_below(r, 10);

	if (c < 6 && h->n_macs) {
		memcpy(m, h->macs[fz_below(r, h->n_macs)], 6);
	} else if (c == 6) {
		memset(m, 0xff, 6);
	} else if (c == 7) {
		memcpy(m, "\x01\x00\x5e\x00\x00\x01", 6);
	} else {
		fz_bytes(r, m, 6);
		if (fz_pct(r, 70))
			m[0] &= 0xfe; /* mostly unicast */
	}
}

static inline __be32 fz_ip4(struct fz_rng *r, const struct fz_hints *h)
{
	__be32 a;

	if (h->n_ip4 && fz_pct(r, 80)) {
		a = h->ip4[fz_below(r, h->n_ip4)];
		/* a neighbour of a hinted address now and then */
		if (fz_pct(r, 20))
			((__u8 *)&a)[3] += (__u8)(fz_below(r, 5) - 2);
		return a;
	}
	fz_bytes(r, (__u8 *)&a, 4);
	return a;
}

static inline __u16 fz_vid(struct fz_rng *r, const struct fz_hints *h)
{
	static const __u16 odd[] = {0, 1, 4094, 4095};

	if (h->n_vids && fz_pct(r, 70))
		return h->vids[fz_below(r, h->n_vids)];
	if (fz_pct(r, 50))
		return odd[fz_below(r, 4)];
	return fz_below(r, 4096);
}

/* IPv4 options: NOP, EOL, record route, timestamp, router alert, or
 * garbage (wrong lengths included). Fills `n` bytes (a multiple of 4). */
static inline void fz_ip4_options(struct fz_rng *r, __u8 *o, __u32 n)
{
	__u32 i = 0;

	while (i < n) {
		__u32 left = n - i, k = fz_below(r, 6), l;

		if (k == 0 || left < 4) {
			o[i++] = fz_pct(r, 80) ? 1 : 0; /* NOP, EOL */
			continue;
		}
		l = k == 5 ? fz_below(r, left + 3)
			   : 4 + 4 * fz_below(r, left / 4);
		if (l > left)
			l = left;
		o[i] = k == 1	? 7
		       : k == 2 ? 68
		       : k == 3 ? 148
				: (__u8)fz_next(r);
		if (i + 1 < n)
			o[i + 1] = (__u8)l;
		if (i + 2 < n)
			o[i + 2] = 4 + 4 * fz_below(r, 3);
		for (__u32 j = 3; j < l && i + j < n; j++)
			o[i + j] = (__u8)fz_next(r);
		i += l > 0 ? l : 1;
	}
}

/* An L4 header and payload of `n` bytes at p for protocol `proto`. */
static inline void fz_l4(struct fz_rng *r, const struct fz_hints *h, __u8 *p,
			 __u32 n, __u8 proto)
{
	(void)h;
	fz_bytes(r, p, n);
	if (proto == 1 && n >= 8 && fz_pct(r, 70)) {
		p[0] = fz_pct(r, 70) ? 8 : fz_below(r, 20); /* echo mostly */
		p[1] = fz_pct(r, 90) ? 0 : (__u8)fz_next(r);
	} else if (proto == 6 && n >= 20) {
		p[12] = (__u8)((5 + fz_below(r, 11)) << 4);
	} else if (proto == 17 && n >= 8) {
		fz_put16(p + 4, (__u16)n);
	}
}

/* An IPv4 packet at p, at most `room` bytes; returns its length. */
static inline __u32 fz_ipv4(struct fz_rng *r, const struct fz_hints *h, __u8 *p,
			    __u32 room)
{
	static const __u8 protos[] = {1, 1, 6, 17, 17, 47, 50, 132};
	static const __u8 ttls[] = {0, 1, 2, 64, 255};
	__u32 opt = fz_pct(r, 25) ? 4 * (1 + fz_below(r, 10)) : 0;
	__u32 hl = 20 + opt,
	      pay = fz_pct(r, 10) ? fz_below(r, 1400) : fz_below(r, 120);

	if (hl + pay > room)
		pay = room > hl ? room - hl : 0;
	if (hl > room)
		return 0;
	memset(p, 0, hl);
	p[0] = (__u8)(0x40 | hl / 4);
	p[1] = fz_pct(r, 80) ? 0 : (__u8)fz_next(r);
	fz_put16(p + 2, (__u16)(hl + pay));
	fz_put16(p + 4, (__u16)fz_next(r));
	if (fz_pct(r, 15)) /* a fragment: MF and/or an offset */
		fz_put16(p + 6,
			 (__u16)(fz_below(r, 2) << 13 |
				 (fz_pct(r, 50) ? fz_below(r, 200) : 0)));
	else if (fz_pct(r, 50))
		fz_put16(p + 6, 0x4000); /* DF */
	p[8] = fz_pct(r, 60) ? ttls[fz_below(r, 5)] : (__u8)fz_next(r);
	p[9] = fz_pct(r, 90) ? protos[fz_below(r, 8)] : (__u8)fz_next(r);
	memcpy(p + 12, &(__be32){fz_ip4(r, h)}, 4);
	memcpy(p + 16, &(__be32){fz_ip4(r, h)}, 4);
	fz_ip4_options(r, p + 20, opt);
	fz_l4(r, h, p + hl, pay, p[9]);
	fz_ipv4_fix(p);
	fz_l4_fix(p);
	return hl + pay;
}

/* An IPv6 packet with a chain of extension headers. */
static inline __u32 fz_ipv6(struct fz_rng *r, const struct fz_hints *h, __u8 *p,
			    __u32 room)
{
	static const __u8 ext[] = {0, 43, 44, 60, 51, 135};
	static const __u8 last[] = {6, 17, 58, 59, 4, 41};
	__u32 off = 40, n = fz_pct(r, 60) ? fz_below(r, 6) : 0;
	__u8 *nh = p + 6;

	if (room < 40)
		return 0;
	fz_bytes(r, p, 40);
	p[0] = 0x60 | (p[0] & 15);
	p[7] = fz_pct(r, 50) ? 64 : p[7];
	if (h->n_ip4 && fz_pct(r, 30)) /* v4-mapped, to tempt a parser */
		memcpy(p + 36, &(__be32){fz_ip4(r, h)}, 4);
	for (__u32 i = 0; i < n; i++) {
		__u8 t = ext[fz_below(r, sizeof(ext))];
		__u32 l = t == 44   ? 8
			  : t == 51 ? 8 * (1 + fz_below(r, 3))
				    : 8 * (1 + fz_below(r, 4));

		if (off + l > room)
			break;
		*nh = t;
		fz_bytes(r, p + off, l);
		if (t == 51)
			p[off + 1] = (__u8)(l / 4 - 2);
		else if (t != 44)
			p[off + 1] = (__u8)(l / 8 - 1);
		if (fz_pct(r, 5)) /* a length past the end */
			p[off + 1] = 0xff;
		nh = p + off;
		off += l;
	}
	*nh = fz_pct(r, 90) ? last[fz_below(r, sizeof(last))]
			    : (__u8)fz_next(r);
	n = fz_below(r, 100);
	if (off + n > room)
		n = room - off;
	fz_bytes(r, p + off, n);
	off += n;
	fz_put16(p + 4, (__u16)(off - 40));
	return off;
}

/* ARP: mostly Ethernet/IPv4, requests and replies; sometimes other
 * hardware or protocol types, lengths or opcodes. */
static inline __u32 fz_arp(struct fz_rng *r, const struct fz_hints *h, __u8 *p,
			   __u32 room)
{
	if (room < 28)
		return 0;
	fz_bytes(r, p, 28);
	fz_put16(p, fz_pct(r, 85) ? 1 : (__u16)fz_next(r));
	fz_put16(p + 2, fz_pct(r, 85) ? 0x0800 : (__u16)fz_next(r));
	p[4] = fz_pct(r, 90) ? 6 : (__u8)fz_next(r);
	p[5] = fz_pct(r, 90) ? 4 : (__u8)fz_next(r);
	fz_put16(p + 6, fz_pct(r, 90) ? 1 + fz_below(r, 2) : fz_below(r, 10));
	fz_mac(r, h, p + 8);
	memcpy(p + 14, &(__be32){fz_ip4(r, h)}, 4);
	if (fz_pct(r, 50))
		memset(p + 18, 0, 6);
	memcpy(p + 24, &(__be32){fz_ip4(r, h)}, 4);
	return 28;
}

/* A whole frame into f (FZ_MAX bytes); returns its length (>= 14). */
static inline __u32 fz_gen(struct fz_rng *r, const struct fz_hints *h, __u8 *f)
{
	static const __u16 tpids[] = {0x8100, 0x8100, 0x8100, 0x88a8, 0x9100};
	__u32 off = 12, tags = 0, c, n = 0, len;

	if (h->dst && fz_pct(r, 75))
		memcpy(f, h->dst, 6);
	else
		fz_mac(r, h, f);
	fz_mac(r, h, f + 6);
	c = fz_below(r, 100);
	if (c >= 55)
		tags = c >= 92 ? 2 + fz_below(r, 2) : 1;
	for (__u32 i = 0; i < tags; i++, off += 4) {
		fz_put16(f + off, tpids[fz_below(r, 5)]);
		fz_put16(f + off + 2,
			 (__u16)(fz_below(r, 16) << 12 | fz_vid(r, h)));
	}
	c = fz_below(r, 100);
	if (c < 50) {
		fz_put16(f + off, 0x0800);
		n = fz_ipv4(r, h, f + off + 2, FZ_MAX - off - 2);
	} else if (c < 65) {
		fz_put16(f + off, 0x0806);
		n = fz_arp(r, h, f + off + 2, FZ_MAX - off - 2);
	} else if (c < 85) {
		fz_put16(f + off, 0x86dd);
		n = fz_ipv6(r, h, f + off + 2, FZ_MAX - off - 2);
	} else {
		fz_put16(f + off,
			 (__u16)fz_next(r)); /* any, 802.3 lengths too */
		n = fz_below(r, 100);
		fz_bytes(r, f + off + 2, n);
	}
	len = off + 2 + n;
	if (len < 60 && fz_pct(r, 80)) { /* padded to the minimum, mostly */
		memset(f + len, fz_pct(r, 70) ? 0 : 0xa5, 60 - len);
		len = 60;
	}
	return len;
}

/* ---- the mutator -------------------------------------------------------- */

/* 1 to 3 damages to the frame; returns its new length (>= 14). Header
 * fields are often changed with the checksum fixed up after, so that the
 * frame gets past the checksum to the check that field is for. */
static inline __u32 fz_mutate(struct fz_rng *r, __u8 *f, __u32 len)
{
	__u32 n = 1 + fz_below(r, 3);
	__u16 et;

	for (__u32 i = 0; i < n; i++) {
		int l3 = fz_l3(f, len, &et);
		__u8 *ip = l3 >= 0 && et == 0x0800 && (__u32)l3 + 20 <= len
				   ? f + l3
				   : NULL;
		__u32 k = fz_below(r, 10);

		if (ip && k < 5) {
			switch (fz_below(r, 6)) {
			case 0: /* total length: short, long, past the frame */
				fz_put16(
					ip + 2,
					(__u16)(fz_pct(r, 50)
							? fz_below(r, 64)
							: fz_get16(ip + 2) +
								  fz_below(r,
									   64) -
								  32));
				break;
			case 1:
				ip[0] = (ip[0] & 0xf0) | fz_below(r, 16);
				break;
			case 2:
				ip[0] = (__u8)(fz_below(r, 16) << 4 |
					       (ip[0] & 15));
				break;
			case 3:
				ip[8] = fz_below(r, 3);
				break;
			case 4:
				ip[10 + fz_below(r, 2)] ^= 1 << fz_below(r, 8);
				continue; /* a bad checksum: not fixed */
			default:
				ip[fz_below(r, 20)] = (__u8)fz_next(r);
				break;
			}
			if (fz_pct(r, 75) && (ip[0] & 15) * 4u <= len - l3)
				fz_ipv4_fix(ip);
		} else if (k < 7) { /* truncated */
			len = 14 + fz_below(r, len - 13);
		} else if (k < 8 && len < FZ_MAX - 64) { /* trailing bytes */
			__u32 m = fz_below(r, 64);

			fz_bytes(r, f + len, m);
			len += m;
		} else { /* bytes flipped anywhere */
			f[fz_below(r, len)] ^= (__u8)(1 + fz_below(r, 255));
		}
	}
	return len;
}

/* ---- the loop ----------------------------------------------------------- */

struct fz_opts {
	__u64 seed;
	double seconds; /* per case */
	long frames;	/* per case; 0: by time */
	int max_fail;	/* violations reported per case */
};

static inline double fz_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* --seed S, --seconds T (per case), --frames N (per case). Defaults: a
 * seed from the clock, NFC_FUZZ_PKT_SECONDS or 0.25 s: the short budget of
 * `make test`; `make fuzz-packets` gives a long one. */
static inline int fz_args(int argc, char **argv, struct fz_opts *o)
{
	const char *env = getenv("NFC_FUZZ_PKT_SECONDS");

	o->seed = (__u64)time(NULL) * 1000003ULL ^ (__u64)getpid() << 20;
	o->seconds = env ? atof(env) : 0.25;
	o->frames = 0;
	o->max_fail = 5;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--seed") && v)
			o->seed = strtoull(v, NULL, 0);
		else if (!strcmp(argv[i], "--seconds") && v)
			o->seconds = atof(v);
		else if (!strcmp(argv[i], "--frames") && v)
			o->frames = atol(v);
		else {
			fprintf(stderr,
				"usage: %s [--seed S] [--seconds T] "
				"[--frames N]\n",
				argv[0]);
			return -1;
		}
		i++;
	}
	return 0;
}

static inline void fz_hex(const char *what, const __u8 *p, __u32 n)
{
	printf("#   %s (%u bytes):", what, n);
	for (__u32 i = 0; i < n; i++)
		printf("%s%02x", i % 32 ? "" : "\n#     ", p[i]);
	printf("\n");
}

/* One frame of a case: made, run and judged by the NF's test. */
struct fz_frame {
	__u8 in[FZ_MAX];
	__u32 len;
	int in_port;	 /* the port it was run on, -1 if none */
	int verdict;	 /* the program's */
	const __u8 *out; /* what it left (NULL: not read) */
	__u32 out_len;
	char what[256]; /* the violation */
	int skipped;	/* the kernel would not run it in this hook */
};

static inline void fz_reset(struct fz_frame *f)
{
	f->in_port = -1;
	f->verdict = 0;
	f->out = NULL;
	f->out_len = 0;
	f->what[0] = 0;
	f->skipped = 0;
}

/* Makes frame `f` from `r`: generated, mutated half of the time. */
static inline void fz_make(struct fz_rng *r, const struct fz_hints *h,
			   struct fz_frame *f)
{
	fz_reset(f);
	f->len = fz_gen(r, h, f->in);
	if (fz_pct(r, 50))
		f->len = fz_mutate(r, f->in, f->len);
}

/* Frame `f` from hex (a violation's report, kept as a regression case),
 * written from byte `at` on: a test fills the bytes before (a MAC that
 * changes from run to run). */
static inline void fz_from_hex(struct fz_frame *f, __u32 at, const char *hex)
{
	unsigned v;

	fz_reset(f);
	f->len = at;
	while (f->len < FZ_MAX && sscanf(hex, "%2x", &v) == 1) {
		f->in[f->len++] = (__u8)v;
		hex += 2;
	}
}

/* Judges one frame: 0, or -1 with f->what saying what broke. The rng is
 * the frame's own; f is to be filled by fz_make. */
typedef int (*fz_one_fn)(void *ctx, struct fz_rng *r, struct fz_frame *f);

/* Runs `one` on frames seeded o->seed, o->seed + 1, ... for the budget;
 * reports the first violations (seed, frames) and one CHECK for the
 * case, with its frames per second on the line before. Returns the
 * frames per second. */
static inline double fz_loop(const struct fz_opts *o, const char *name,
			     fz_one_fn one, void *ctx)
{
	static struct fz_frame f;
	double t0 = fz_now(), t = 0;
	long i, fails = 0, skipped = 0;

	for (i = 0; o->frames ? i < o->frames : t < o->seconds; i++) {
		struct fz_rng r = {o->seed + (__u64)i};

		int bad = one(ctx, &r, &f);

		skipped += f.skipped;
		if (bad && ++fails <= o->max_fail) {
			printf("# %s: frame seed %llu (reproduce: --seed %llu "
			       "--frames 1): %s\n",
			       name, (unsigned long long)(o->seed + i),
			       (unsigned long long)(o->seed + i), f.what);
			printf("#   in_port %d, verdict %d\n", f.in_port,
			       f.verdict);
			fz_hex("in", f.in, f.len);
			if (f.out)
				fz_hex("out", f.out, f.out_len);
		}
		if (!(i & 63))
			t = fz_now() - t0;
	}
	t = fz_now() - t0;
	printf("# %s: %ld frames in %.2f s, %.0f frames/s, seed %llu (%ld "
	       "the kernel would not run in this hook)\n",
	       name, i, t, t > 0 ? i / t : 0, (unsigned long long)o->seed,
	       skipped);
	CHECK(!fails,
	      "%s: %ld random frames, each verdict and output as documented "
	      "(%ld violations)",
	      name, i, fails);
	return t > 0 ? i / t : 0;
}

/* ---- an NF under test -------------------------------------------------- */

/* A hook type as the runtime builds it: its mode and the verdicts an NF's
 * program returns there. */
struct fz_hook {
	const char *mode;
	int tc;
	int drop, pass, redirect;
};

static const struct fz_hook fz_hooks[] = {
	{"xdp", 0, 1 /* XDP_DROP */, 2 /* XDP_PASS */, 4 /* XDP_REDIRECT */},
	{"tc", 1, 2 /* TC_ACT_SHOT */, 0 /* TC_ACT_OK */,
	 7 /* TC_ACT_REDIRECT */},
};

/* The programs and shared maps of NF `nf` under the pin root, opened once:
 * a frame costs a metadata write, the run and two reads of its ports'
 * counters. */
struct fz_nf {
	const struct fz_hook *hook;
	int nf, ports, ncpu;
	int prog, direct, meta, stats;
	__u32 ifindex[NFC_MAX_PORTS]; /* of each port's netdev, 0 if none */
	__u64 tx0[NFC_MAX_PORTS], tx1[NFC_MAX_PORTS];
	__u8 out[FZ_MAX + 64];
	__u32 out_len;
};

/* In a network namespace of its own: what the programs send for real (TC
 * clones, live frames) reaches no stack but this one. */
static inline void fz_netns(void)
{
	if (unshare(CLONE_NEWNET))
		printf("# unshare(CLONE_NEWNET): %s: staying in this "
		       "namespace\n",
		       strerror(errno));
	else
		dpt_sh("ip link set lo up");
}

/* dir: the NF's pin directory under root ("nf/0-r1"). */
static inline int fz_nf_open(struct fz_nf *n, const char *root, const char *dir,
			     int nf, int ports, const struct fz_hook *hook)
{
	char rel[96];

	memset(n, 0, sizeof(*n));
	n->hook = hook;
	n->nf = nf;
	n->ports = ports;
	n->ncpu = libbpf_num_possible_cpus();
	snprintf(rel, sizeof(rel), "%s/prog", dir);
	n->prog = dpt_pinned(root, rel);
	snprintf(rel, sizeof(rel), "%s/progs/nfc_direct", dir);
	n->direct = dpt_pinned(root, rel);
	n->meta = dpt_pinned(root, "meta");
	n->stats = dpt_pinned(root, "stats");
	return n->prog < 0 || n->meta < 0 || n->stats < 0 ? -1 : 0;
}

static inline void fz_nf_close(struct fz_nf *n)
{
	int *fds[] = {&n->prog, &n->direct, &n->meta, &n->stats};

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

static inline void fz_tx(struct fz_nf *n, __u64 *tx)
{
	struct nfc_port_stats st[n->ncpu];

	for (int p = 0; p < n->ports; p++) {
		__u32 k = NFC_GPORT(n->nf, p);

		tx[p] = 0;
		if (!bpf_map_lookup_elem(n->stats, &k, st))
			for (int c = 0; c < n->ncpu; c++)
				tx[p] += st[c].tx_packets;
	}
}

/* Ports whose tx grew in the last run, as a bit mask. */
static inline __u64 fz_sent(const struct fz_nf *n)
{
	__u64 m = 0;

	for (int p = 0; p < n->ports; p++)
		if (n->tx1[p] != n->tx0[p])
			m |= 1ULL << p;
	return m;
}

/* BPF_PROG_TEST_RUN refuses (EINVAL) to make an skb of a frame whose IPv4
 * or IPv6 header is cut short: the stack would not hand one to TC either
 * (the driver's frame reaches TC whole, and the L3 checks come after). */
static inline int fz_tc_refuses(const struct fz_frame *f)
{
	__u16 et = fz_get16(f->in + 12);

	return (et == 0x0800 && f->len < 14 + 20) ||
	       (et == 0x86dd && f->len < 14 + 40);
}

/* Runs frame f on port `port`: by tail call's entry (metadata set as the
 * stub or the previous NF would) or, with `direct`, as the program
 * attached to the port's netdev (which finds its port by the ingress
 * netdev). Fills f->verdict, f->out, the counters before and after.
 * -errno if the run itself failed; 1 if the kernel refused a frame it
 * refuses to run in this hook (f->skipped: not to be judged). */
static inline int fz_run(struct fz_nf *n, struct fz_frame *f, int port,
			 int direct)
{
	struct xdp_md xctx = {.data_end = f->len,
			      .ingress_ifindex = n->ifindex[port]};
	struct __sk_buff sctx = {.ifindex = n->ifindex[port]};
	struct nfc_meta m[n->ncpu];
	__u32 k = 0;
	int e;

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->in,
		    .data_size_in = f->len, .data_out = n->out,
		    .data_size_out = sizeof(n->out), .repeat = 1);
	if (direct) {
		o.ctx_in = n->hook->tc ? (void *)&sctx : (void *)&xctx;
		o.ctx_size_in = n->hook->tc ? sizeof(sctx) : sizeof(xctx);
	} else {
		memset(m, 0, sizeof(m));
		for (int c = 0; c < n->ncpu; c++) {
			m[c].nf = n->nf;
			m[c].in_port = port;
		}
		bpf_map_update_elem(n->meta, &k, m, BPF_ANY);
	}
	f->in_port = port;
	fz_tx(n, n->tx0);
	e = bpf_prog_test_run_opts(direct ? n->direct : n->prog, &o) ? -errno
								     : 0;
	fz_tx(n, n->tx1);
	f->verdict = e ? e : (int)o.retval;
	if (e == -EINVAL && n->hook->tc && fz_tc_refuses(f)) {
		f->skipped = 1;
		return 1;
	}
	if (e)
		return e;
	n->out_len = o.data_size_out;
	f->out = n->out;
	f->out_len = n->out_len;
	return 0;
}

/* The verdicts every NF's program may return in this hook: drop, pass
 * (a hop to the stack) and redirect (to a netdev, or what a tail-called
 * NF returned). Anything else (XDP_ABORTED, XDP_TX, TC_ACT_UNSPEC...) is
 * outside the contract. */
static inline int fz_verdict_known(const struct fz_nf *n, int v)
{
	return v == n->hook->drop || v == n->hook->pass ||
	       v == n->hook->redirect;
}

/* f->what = the formatted violation; returns -1 for `return fz_fail()`. */
static inline int fz_fail(struct fz_frame *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int fz_fail(struct fz_frame *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->what, sizeof(f->what), fmt, ap);
	va_end(ap);
	return -1;
}

#endif
