// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lb's forward=nat and ICMP errors (BPF_PROG_TEST_RUN, XDP and TC):
 * an error about a NAT-ed connection, from the backends' side (egress:
 * about a request as the backend got it) or from the client's (ingress:
 * about a reply as the client got it), IPv4 and IPv6, is rewritten so that
 * its receiver finds the connection. The oracle: the error its receiver
 * would get if there were no NAT, built here from scratch (every checksum
 * computed from the bytes, none updated), compared byte for byte; every
 * checksum of the output verified too. Errors about no connection of the
 * lb's pass untouched. lb0 (NF 1) is attached both ways on f1:p1.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "dptest.h"
#include "fuzzpkt.h"

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];

#define CLI "198.51.100.2"
#define VIP "203.0.113.100"
#define BE_T "198.51.100.12" /* :8080, the TCP service's (:81) backend */
#define BE_U "198.51.100.13" /* the UDP service's (:53), port kept */
#define CLI6 "2001:db8:1::2"
#define VIP6 "2001:db8::100"
#define BE6 "2001:db8:2::12" /* :8080 */

/* The Internet checksum of `len` bytes after `s` (a partial sum: a
 * pseudo-header's, fuzzpkt.h). */
static __u16 cksum(__u32 s, const __u8 *p, int len)
{
	return fz_fold(fz_sum(p, len, s));
}

/* TCP (flags, window 512) or UDP from sp to dp with 10 bytes of payload
 * at `t`, its checksum from the pseudo-header's partial sum `ps` and the
 * bytes (ps -1: left 0, UDP's "none"). */
static void l4fill(__u8 *t, int sp, int dp, int proto, int flags, long ps)
{
	int l4 = proto == 6 ? 20 : 8;
	__u16 c;

	fz_put16(t, sp);
	fz_put16(t + 2, dp);
	if (proto == 6) {
		fz_put16(t + 4, 0x1111);
		t[12] = 5 << 4;
		t[13] = flags;
		fz_put16(t + 14, 512);
	} else {
		fz_put16(t + 4, l4 + 10);
	}
	memcpy(t + l4, "0123456789", 10);
	if (ps < 0)
		return;
	c = cksum(ps, t, l4 + 10);
	if (proto == 17 && !c)
		c = 0xffff;
	fz_put16(t + (proto == 6 ? 16 : 6), c);
}

/* An IPv4 packet (id 0x1234, ttl `ttl`, DF) with TCP (flags, 10 bytes of
 * payload) or UDP (`udpsum`: 0 leaves its checksum 0), checksums from
 * scratch. Returns its length. */
static int pkt4(__u8 *p, const char *s, int sp, const char *d, int dp,
		int proto, int flags, int udpsum, int ttl)
{
	int l4 = proto == 6 ? 20 : 8, len = 20 + l4 + 10;
	__u8 *t = p + 20;
	__u32 a;

	memset(p, 0, len);
	p[0] = 0x45;
	fz_put16(p + 2, len);
	fz_put16(p + 4, 0x1234);
	p[6] = 0x40;
	p[8] = ttl;
	p[9] = proto;
	a = inet_addr(s);
	memcpy(p + 12, &a, 4);
	a = inet_addr(d);
	memcpy(p + 16, &a, 4);
	fz_put16(p + 10, cksum(0, p, 20));
	l4fill(t, sp, dp, proto, flags,
	       proto == 6 || udpsum ? (long)fz_pseudo4(p, l4 + 10, proto) : -1);
	return len;
}

/* The same in IPv6 (hop limit `ttl`), TCP or UDP, checksum from scratch. */
static int pkt6(__u8 *p, const char *s, int sp, const char *d, int dp,
		int proto, int flags, int ttl)
{
	int l4 = proto == 6 ? 20 : 8, len = 40 + l4 + 10;
	__u8 *t = p + 40;

	memset(p, 0, len);
	p[0] = 0x60;
	fz_put16(p + 4, l4 + 10);
	p[6] = proto;
	p[7] = ttl;
	inet_pton(AF_INET6, s, p + 8);
	inet_pton(AF_INET6, d, p + 24);
	l4fill(t, sp, dp, proto, flags, fz_pseudo6(p, l4 + 10, proto));
	return len;
}

static void eth(__u8 *f, int v6)
{
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	fz_put16(f + 12, v6 ? 0x86dd : 0x0800);
}

/* Ethernet + IPv4 from s to d + ICMP type/code (bytes 4-7: `rest`)
 * quoting `q` (qlen bytes). Checksums from scratch. Returns its length. */
static int icmp4(__u8 *f, const char *s, const char *d, int type, int code,
		 __u32 rest, const __u8 *q, int qlen)
{
	__u8 *ip = f + 14, *ic = ip + 20;
	int len = 20 + 8 + qlen;
	__u32 a;

	memset(f, 0, 14 + len);
	eth(f, 0);
	ip[0] = 0x45;
	ip[1] = 0xc0;
	fz_put16(ip + 2, len);
	fz_put16(ip + 4, 0x4321);
	ip[8] = 64;
	ip[9] = 1;
	a = inet_addr(s);
	memcpy(ip + 12, &a, 4);
	a = inet_addr(d);
	memcpy(ip + 16, &a, 4);
	fz_put16(ip + 10, cksum(0, ip, 20));
	ic[0] = type;
	ic[1] = code;
	fz_put16(ic + 4, rest >> 16);
	fz_put16(ic + 6, rest & 0xffff);
	memcpy(ic + 8, q, qlen);
	fz_put16(ic + 2, cksum(0, ic, 8 + qlen));
	return 14 + len;
}

/* Ethernet + IPv6 + ICMPv6, the checksum over its pseudo-header. */
static int icmp6(__u8 *f, const char *s, const char *d, int type, int code,
		 __u32 rest, const __u8 *q, int qlen)
{
	__u8 *ip = f + 14, *ic = ip + 40;
	int len = 8 + qlen;

	memset(f, 0, 14 + 40 + len);
	eth(f, 1);
	ip[0] = 0x60;
	fz_put16(ip + 4, len);
	ip[6] = 58;
	ip[7] = 64;
	inet_pton(AF_INET6, s, ip + 8);
	inet_pton(AF_INET6, d, ip + 24);
	ic[0] = type;
	ic[1] = code;
	fz_put16(ic + 4, rest >> 16);
	fz_put16(ic + 6, rest & 0xffff);
	memcpy(ic + 8, q, qlen);
	fz_put16(ic + 2, cksum(fz_pseudo6(ip, len, 58), ic, len));
	return 14 + 40 + len;
}

/* Every checksum of an ICMP error frame verifies (outer IPv4 header,
 * ICMP or ICMPv6 with its pseudo-header, the quoted IPv4 header, the
 * quoted TCP/UDP segment when whole): NULL, or what does not. */
static const char *verify(const __u8 *f, int len)
{
	int v6 = f[12] == 0x86, l3 = 14, l4 = v6 ? 54 : 34;
	const __u8 *ip = f + l3, *ic = f + l4, *q = ic + 8, *qt;
	int ilen = len - l4, qh, ql;

	if (!v6 && cksum(0, ip, 20))
		return "outer IPv4 header checksum";
	if (v6 ? cksum(fz_pseudo6(ip, ilen, 58), ic, ilen) : cksum(0, ic, ilen))
		return "ICMP checksum";
	if (!v6 && cksum(0, q, 20))
		return "quoted IPv4 header checksum";
	qh = v6 ? 40 : 20;
	qt = q + qh;
	ql = ilen - 8 - qh;
	if (v6 ? cksum(fz_pseudo6(q, ql, q[6]), qt, ql)
	    : (q[9] == 17 && !qt[6] && !qt[7])
		    ? 0
		    : cksum(fz_pseudo4(q, ql, q[9]), qt, ql))
		return "quoted TCP/UDP checksum";
	return NULL;
}

static int run(int port, const __u8 *f, int len, struct dpt_run *r)
{
	dpt_set_meta(root, 1, port);
	return dpt_run(root, "nf/1-lb0/prog", f, len, r);
}

/* The error `in` through lb0 on `port` comes out as `want`. */
static int xlat_is(int port, const __u8 *in, int len, const __u8 *want,
		   int wlen, const char *what)
{
	struct dpt_run r;
	const char *why;
	int i = 0;

	if (run(port, in, len, &r)) {
		CHECK(0, "%s: the run failed", what);
		return 0;
	}
	why = verify(r.out, r.out_len);
	while (i < wlen && i < (int)r.out_len && r.out[i] == want[i])
		i++;
	CHECK((int)r.out_len == wlen && i == wlen && !why,
	      "%s: %s (verdict %d, %u bytes, first difference at %d)", what,
	      why ? why : "every byte as built from scratch, checksums verify",
	      r.verdict, r.out_len, i);
	return 1;
}

static void untouched(int port, const __u8 *in, int len, const char *what)
{
	struct dpt_run r;

	run(port, in, len, &r);
	CHECK((int)r.out_len == len && !memcmp(r.out, in, len),
	      "%s: passed on untouched (verdict %d)", what, r.verdict);
}

static void ipv4(struct nfc *nfc)
{
	__u8 f[256], q[128], in[256], want[256];
	struct dpt_run r;
	int ql, len, wl;

	(void)nfc;
	/* the connections: a SYN and a UDP datagram, each to a VIP */
	ql = pkt4(q, CLI, 40002, VIP, 81, 6, 0x02, 0, 63);
	eth(f, 0);
	memcpy(f + 14, q, ql);
	run(0, f, 14 + ql, &r);
	CHECK(r.out_len == 14 + (__u32)ql &&
		      !memcmp(r.out + 30, "\xc6\x33\x64\x0c", 4),
	      "NAT: the SYN goes to " BE_T ":8080");
	ql = pkt4(q, CLI, 5000, VIP, 53, 17, 0, 1, 63);
	memcpy(f + 14, q, ql);
	run(0, f, 14 + ql, &r);
	CHECK(r.out_len == 14 + (__u32)ql &&
		      !memcmp(r.out + 30, "\xc6\x33\x64\x0d", 4),
	      "NAT: the UDP datagram goes to " BE_U);

	/* Backends' side: a router on the way quotes the SYN as the
	 * backend would have got it; the client must get it about its own
	 * SYN, from the VIP. */
	ql = pkt4(q, CLI, 40002, BE_T, 8080, 6, 0x02, 0, 62);
	len = icmp4(in, "198.51.100.1", CLI, 3, 4, 1400, q, ql);
	ql = pkt4(q, CLI, 40002, VIP, 81, 6, 0x02, 0, 62);
	wl = icmp4(want, VIP, CLI, 3, 4, 1400, q, ql);
	xlat_is(1, in, len, want, wl,
		"fragmentation needed about the NAT-ed SYN, egress: from "
		"the VIP, quoting the SYN to the VIP:81");
	/* time exceeded, the quote cut to the IP header and 8 bytes (no
	 * TCP checksum quoted) */
	ql = pkt4(q, CLI, 40002, BE_T, 8080, 6, 0x02, 0, 1);
	len = icmp4(in, "198.51.100.1", CLI, 11, 0, 0, q, 28);
	ql = pkt4(q, CLI, 40002, VIP, 81, 6, 0x02, 0, 1);
	wl = icmp4(want, VIP, CLI, 11, 0, 0, q, 28);
	{
		struct dpt_run r2;
		int i = 0;

		run(1, in, len, &r2);
		while (i < wl && r2.out[i] == want[i])
			i++;
		CHECK((int)r2.out_len == wl && i == wl &&
			      !cksum(0, r2.out + 14, 20) &&
			      !cksum(0, r2.out + 34, 36) &&
			      !cksum(0, r2.out + 42, 20),
		      "time exceeded quoting 28 bytes, egress: rewritten, "
		      "IP and ICMP checksums (first difference at %d)",
		      i);
	}
	/* UDP with a checksum, a port unreachable from the backend */
	ql = pkt4(q, CLI, 5000, BE_U, 53, 17, 0, 1, 62);
	len = icmp4(in, BE_U, CLI, 3, 3, 0, q, ql);
	ql = pkt4(q, CLI, 5000, VIP, 53, 17, 0, 1, 62);
	wl = icmp4(want, VIP, CLI, 3, 3, 0, q, ql);
	xlat_is(1, in, len, want, wl,
		"port unreachable from the UDP backend, egress: from the VIP, "
		"quoted UDP checksum");
	/* UDP without a checksum: it stays 0 */
	ql = pkt4(q, CLI, 5000, BE_U, 53, 17, 0, 0, 62);
	len = icmp4(in, BE_U, CLI, 3, 3, 0, q, ql);
	ql = pkt4(q, CLI, 5000, VIP, 53, 17, 0, 0, 62);
	wl = icmp4(want, VIP, CLI, 3, 3, 0, q, ql);
	xlat_is(1, in, len, want, wl,
		"the same, the quoted UDP checksum 0: stays 0");

	/* Client's side: the client (or a router before it) quotes a
	 * reply as it got it, from the VIP; the backend must get it about
	 * its own reply. */
	ql = pkt4(q, VIP, 81, CLI, 40002, 6, 0x12, 0, 60);
	len = icmp4(in, "198.51.100.1", VIP, 3, 1, 0, q, ql);
	ql = pkt4(q, BE_T, 8080, CLI, 40002, 6, 0x12, 0, 60);
	wl = icmp4(want, "198.51.100.1", BE_T, 3, 1, 0, q, ql);
	xlat_is(0, in, len, want, wl,
		"host unreachable about the SYN-ACK, ingress: to the backend, "
		"quoting its SYN-ACK from :8080");
	ql = pkt4(q, VIP, 53, CLI, 5000, 17, 0, 1, 60);
	len = icmp4(in, CLI, VIP, 3, 3, 0, q, ql);
	ql = pkt4(q, BE_U, 53, CLI, 5000, 17, 0, 1, 60);
	wl = icmp4(want, CLI, BE_U, 3, 3, 0, q, ql);
	xlat_is(0, in, len, want, wl,
		"port unreachable from the client about a UDP reply, "
		"ingress: to the UDP backend");

	/* Errors about no connection of the lb's. */
	ql = pkt4(q, CLI, 40003, BE_T, 8080, 6, 0x02, 0, 62);
	len = icmp4(in, "198.51.100.1", CLI, 3, 4, 1400, q, ql);
	untouched(1, in, len, "an error about another port of the client");
	ql = pkt4(q, VIP, 81, CLI, 40009, 6, 0x12, 0, 60);
	len = icmp4(in, CLI, VIP, 3, 3, 0, q, ql);
	untouched(0, in, len, "an error about an unknown flow to the VIP");
	ql = pkt4(q, CLI, 40002, BE_T, 8080, 6, 0x02, 0, 62);
	len = icmp4(in, "198.51.100.1", CLI, 3, 4, 1400, q, ql);
	untouched(0, in, len, "a backend-side error seen on the ingress side");
}

static void ipv6(struct nfc *nfc)
{
	__u8 f[256], q[128], in[256], want[256];
	struct dpt_run r;
	int ql, len, wl;

	(void)nfc;
	ql = pkt6(q, CLI6, 40002, VIP6, 81, 6, 0x02, 63);
	eth(f, 1);
	memcpy(f + 14, q, ql);
	run(0, f, 14 + ql, &r);
	CHECK(r.out_len == 14 + (__u32)ql && r.out[14 + 40 + 2] == 8080 >> 8,
	      "IPv6 NAT: the SYN goes to [" BE6 "]:8080");
	/* packet too big from a router toward the backend */
	ql = pkt6(q, CLI6, 40002, BE6, 8080, 6, 0x02, 62);
	len = icmp6(in, "2001:db8:2::1", CLI6, 2, 0, 1280, q, ql);
	ql = pkt6(q, CLI6, 40002, VIP6, 81, 6, 0x02, 62);
	wl = icmp6(want, VIP6, CLI6, 2, 0, 1280, q, ql);
	xlat_is(1, in, len, want, wl,
		"IPv6: packet too big about the NAT-ed SYN, egress: from the "
		"VIP, quoting the SYN to [VIP]:81, ICMPv6 checksum");
	/* the client's side: unreachable about the SYN-ACK */
	ql = pkt6(q, VIP6, 81, CLI6, 40002, 6, 0x12, 60);
	len = icmp6(in, CLI6, VIP6, 1, 4, 0, q, ql);
	ql = pkt6(q, BE6, 8080, CLI6, 40002, 6, 0x12, 60);
	wl = icmp6(want, CLI6, BE6, 1, 4, 0, q, ql);
	xlat_is(0, in, len, want, wl,
		"IPv6: port unreachable about the SYN-ACK, ingress: to the "
		"backend, quoting its SYN-ACK from :8080");
	ql = pkt6(q, VIP6, 81, CLI6, 40077, 6, 0x12, 60);
	len = icmp6(in, CLI6, VIP6, 1, 4, 0, q, ql);
	untouched(0, in, len, "IPv6: an error about an unknown flow");
}

static void one_mode(struct nfc *nfc, const char *mode)
{
	json_t *nat = json_pack("{s:s}", "forward", "nat");
	int e;

	test_group = mode;
	e = nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "lb", "lb0", mode, NULL) ||
	    nfc_attach(nfc, "lb0", "f1:p1", "both", NULL) ||
	    nfc_coll_add(nfc, "lb0", "services", VIP ":81/tcp", nat) ||
	    nfc_coll_add(nfc, "lb0", "backends", VIP ":81/tcp/" BE_T ":8080",
			 NULL) ||
	    nfc_coll_add(nfc, "lb0", "services", VIP ":53/udp", nat) ||
	    nfc_coll_add(nfc, "lb0", "backends", VIP ":53/udp/" BE_U, NULL) ||
	    nfc_coll_add(nfc, "lb0", "services", "[" VIP6 "]:81/tcp", nat) ||
	    nfc_coll_add(nfc, "lb0", "backends",
			 "[" VIP6 "]:81/tcp/[" BE6 "]:8080", NULL);
	json_decref(nat);
	if (e) {
		CHECK(0, "set up f1, lb0 on f1:p1, NAT services: %s",
		      nfc_errmsg(nfc));
		nfc_reset(nfc);
		return;
	}
	ipv4(nfc);
	ipv6(nfc);
	CHECK(!nfc_reset(nfc), "reset");
}

static void all_tests(struct nfc *nfc)
{
	one_mode(nfc, "xdp");
	one_mode(nfc, "tc");
}

int main(void)
{
	dpt_main(root, sizeof(root), "lbic", "lbi", dev, peer, all_tests);
	TEST_EXIT();
}
