// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rt_l4_csum_complete (rt_pkt.c) without a kernel: the slow path sends a
 * packet it held while the next hop was resolved, and veth may have handed
 * it over with its TCP or UDP checksum left to offload (CHECKSUM_PARTIAL:
 * the field holds the pseudo-header's sum). Such a packet, IPv4 and IPv6,
 * TCP and UDP, even and odd lengths, must leave with the checksum a plain
 * RFC 1071 sum over the pseudo-header and the segment gives (computed here
 * byte by byte, apart from rt_pkt.c); a UDP sum of 0 goes out as 0xffff.
 * Everything else is left byte for byte as it was: a finished checksum, a
 * wrong one, a UDP 0 (no checksum), a fragment, a truncated packet, a
 * protocol without a checksum there.
 *
 * Linked with the library's objects (Makefile), as every test is.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "router/rt_pkt.h"
#include "test.h"

static uint64_t rng = 0x2545f4914f6cdd1dull; /* deterministic */

static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

/* The reference: the one's-complement sum of a byte string, folded. */
static uint32_t ref_sum(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i++)
		s += i & 1 ? b[i] : (uint32_t)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* The pseudo-header as bytes (RFC 768, RFC 8200 8.1). */
static size_t pseudo(const uint8_t *ip, uint8_t *ph, size_t l4len)
{
	if ((ip[0] >> 4) == 4) {
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = ip[9];
		ph[10] = (uint8_t)(l4len >> 8);
		ph[11] = (uint8_t)l4len;
		return 12;
	}
	memcpy(ph, ip + 8, 32);
	ph[32] = ph[33] = 0;
	ph[34] = (uint8_t)(l4len >> 8);
	ph[35] = (uint8_t)l4len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = ip[6];
	return 40;
}

/* The folded sum of the pseudo-header and the segment. */
static uint32_t seg_sum(const uint8_t *ip, size_t hl, size_t l4len)
{
	uint8_t ph[40];
	size_t n = pseudo(ip, ph, l4len);

	return ref_sum(ip + hl, l4len, ref_sum(ph, n, 0));
}

/* A packet: IPv4 (20-byte header) or IPv6, TCP (20-byte header) or UDP,
 * `pay` random payload bytes; the checksum field left to offload (the
 * pseudo-header's sum). Returns the total length, *hl the IP header's,
 * *co the checksum's offset in the segment. */
static size_t build(uint8_t *p, int v6, uint8_t proto, size_t pay, size_t *hl,
		    size_t *co)
{
	size_t l4h = proto == 6 ? 20 : 8, l4len = l4h + pay, tot;
	uint8_t ph[40], *l4;

	*hl = v6 ? 40 : 20;
	*co = proto == 6 ? 16 : 6;
	tot = *hl + l4len;
	memset(p, 0, tot);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)(l4len >> 8);
		p[5] = (uint8_t)l4len;
		p[6] = proto;
		p[7] = 64;
		/* 2001:db8::2 -> 2001:db8:1::2 */
		p[8] = 0x20, p[9] = 0x01, p[10] = 0x0d, p[11] = 0xb8, p[23] = 2;
		p[24] = 0x20, p[25] = 0x01, p[26] = 0x0d, p[27] = 0xb8;
		p[29] = 1, p[39] = 2;
	} else {
		uint32_t s;

		p[0] = 0x45;
		p[2] = (uint8_t)(tot >> 8);
		p[3] = (uint8_t)tot;
		p[6] = 0x40; /* DF: not a fragment */
		p[8] = 64;
		p[9] = proto;
		p[12] = 198, p[13] = 51, p[14] = 100, p[15] = 2;
		p[16] = 203, p[17] = 0, p[18] = 113, p[19] = 2;
		s = ref_sum(p, 20, 0);
		p[10] = (uint8_t)(~s >> 8);
		p[11] = (uint8_t)~s;
	}
	l4 = p + *hl;
	l4[0] = 0x9c, l4[1] = 0x40; /* 40000 */
	l4[2] = 0x00, l4[3] = 0x35; /* 53 */
	if (proto == 6) {
		l4[12] = 0x50;
		l4[13] = 0x18;
		l4[15] = 0xff;
	} else {
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
	}
	for (size_t i = 0; i < pay; i++)
		l4[l4h + i] = rnd8();
	/* What the sender's stack leaves for the offload. */
	uint32_t ps = ref_sum(ph, pseudo(p, ph, l4len), 0);
	l4[*co] = (uint8_t)(ps >> 8);
	l4[*co + 1] = (uint8_t)ps;
	return tot;
}

static void set_field(uint8_t *l4, size_t co, uint16_t v)
{
	l4[co] = (uint8_t)(v >> 8);
	l4[co + 1] = (uint8_t)v;
}

static uint16_t field(const uint8_t *l4, size_t co)
{
	return (uint16_t)(l4[co] << 8 | l4[co + 1]);
}

/* Completed: the segment sums to 0xffff (valid), and the field is what
 * the reference computes (0xffff for a UDP sum of 0). */
static void completes(int v6, uint8_t proto, size_t pay)
{
	uint8_t p[1600], q[1600];
	size_t hl, co, tot = build(p, v6, proto, pay, &hl, &co);
	uint16_t want;

	memcpy(q, p, tot);
	set_field(q + hl, co, 0);
	want = (uint16_t)~seg_sum(q, hl, tot - hl);
	if (proto == 17 && !want)
		want = 0xffff;
	rt_l4_csum_complete(p, tot);
	CHECK(field(p + hl, co) == want && seg_sum(p, hl, tot - hl) == 0xffff &&
		      !memcmp(p, q, hl),
	      "IPv%d %s, %zu payload bytes: checksum completed (0x%04x, want "
	      "0x%04x), segment valid, IP header untouched",
	      v6 ? 6 : 4, proto == 6 ? "TCP" : "UDP", pay, field(p + hl, co),
	      want);
}

/* rt_l4_csum_complete leaves the `len` bytes of p exactly as they were. */
static int untouched(uint8_t *p, size_t len)
{
	uint8_t q[1600];

	memcpy(q, p, len);
	rt_l4_csum_complete(p, len);
	return !memcmp(p, q, len);
}

/* UDP whose full sum is 0: two payload bytes chosen to make it so. */
static void udp_zero(int v6)
{
	uint8_t p[1600];
	size_t hl, co, tot = build(p, v6, 17, 10, &hl, &co);
	uint16_t ps = field(p + hl, co);
	uint32_t s;

	set_field(p + hl, co, 0);
	set_field(p + hl, 8, 0);
	s = seg_sum(p, hl, tot - hl);
	/* s + w = 0xffff (one's complement): the sum is 0xffff, its
	 * complement, the checksum, 0. */
	set_field(p + hl, 8, (uint16_t)(0xffff - s));
	CHECK(seg_sum(p, hl, tot - hl) == 0xffff, "IPv%d UDP built to sum to 0",
	      v6 ? 6 : 4);
	set_field(p + hl, co, ps);
	rt_l4_csum_complete(p, tot);
	CHECK(field(p + hl, co) == 0xffff && seg_sum(p, hl, tot - hl) == 0xffff,
	      "IPv%d UDP whose checksum computes to 0 goes out as 0xffff "
	      "(0x%04x)",
	      v6 ? 6 : 4, field(p + hl, co));
}

static void left_alone(int v6)
{
	uint8_t p[1600];
	size_t hl, co, tot;
	const char *f = v6 ? "IPv6" : "IPv4";

	/* A finished checksum. */
	tot = build(p, v6, 17, 33, &hl, &co);
	rt_l4_csum_complete(p, tot);
	CHECK(untouched(p, tot), "%s UDP with a finished checksum: untouched",
	      f);
	tot = build(p, v6, 6, 100, &hl, &co);
	rt_l4_csum_complete(p, tot);
	CHECK(untouched(p, tot), "%s TCP with a finished checksum: untouched",
	      f);
	/* Wrong, but not the pseudo-header's sum: not ours to mend. */
	tot = build(p, v6, 6, 40, &hl, &co);
	set_field(p + hl, co, (uint16_t)(field(p + hl, co) ^ 0x0101));
	CHECK(untouched(p, tot), "%s TCP with a wrong checksum: untouched", f);
	/* UDP 0: no checksum, stays none. */
	tot = build(p, v6, 17, 20, &hl, &co);
	set_field(p + hl, co, 0);
	CHECK(untouched(p, tot), "%s UDP with checksum 0: stays 0", f);
	/* Truncated: the segment is not all here. */
	tot = build(p, v6, 17, 200, &hl, &co);
	CHECK(untouched(p, tot - 1),
	      "%s UDP cut short of its length: untouched", f);
	/* No checksum at a known offset. */
	tot = build(p, v6, 17, 20, &hl, &co);
	p[v6 ? 6 : 9] = 132; /* SCTP */
	CHECK(untouched(p, tot), "%s SCTP: untouched", f);
	/* A TCP header cut before its checksum. */
	tot = build(p, v6, 6, 0, &hl, &co);
	CHECK(untouched(p, hl + 17), "%s TCP cut inside its header: untouched",
	      f);
}

int main(void)
{
	static const size_t pays[] = {0, 1, 2, 17, 64, 511, 1400};
	uint8_t p[1600];
	size_t hl, co, tot;

	for (int v6 = 0; v6 <= 1; v6++)
		for (size_t i = 0; i < sizeof(pays) / sizeof(pays[0]); i++) {
			completes(v6, 17, pays[i]);
			completes(v6, 6, pays[i]);
		}
	udp_zero(0);
	udp_zero(1);
	left_alone(0);
	left_alone(1);

	/* IPv4 fragments: the checksum covers bytes that are not here. */
	tot = build(p, 0, 17, 64, &hl, &co);
	p[6] = 0x20; /* MF, offset 0 */
	CHECK(untouched(p, tot), "IPv4 first fragment (MF): untouched");
	tot = build(p, 0, 17, 64, &hl, &co);
	p[6] = 0, p[7] = 8; /* offset 64 */
	CHECK(untouched(p, tot), "IPv4 later fragment: untouched");
	/* IPv4 options: the segment starts after them. */
	{
		uint8_t q[1600];
		size_t t2;

		tot = build(q, 0, 17, 50, &hl, &co);
		/* The same packet with 4 bytes of options (NOPs). */
		memcpy(p, q, 20);
		memset(p + 20, 1, 4);
		memcpy(p + 24, q + 20, tot - 20);
		t2 = tot + 4;
		p[0] = 0x46;
		p[2] = (uint8_t)(t2 >> 8);
		p[3] = (uint8_t)t2;
		rt_l4_csum_complete(p, t2);
		CHECK(seg_sum(p, 24, t2 - 24) == 0xffff,
		      "IPv4 with options, UDP: checksum completed");
	}
	/* A packet that is no IP at all. */
	memset(p, 0x11, 64);
	CHECK(untouched(p, 64), "not IP: untouched");
	TEST_EXIT();
}
