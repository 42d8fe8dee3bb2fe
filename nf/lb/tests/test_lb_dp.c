// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lb's data plane on crafted frames (BPF_PROG_TEST_RUN), in XDP and
 * in TC. lb0 (NF 1) is attached both ways on f1:p1 (f1, a forwarder, NF
 * 0); a frame on the attachment's ingress side (port 0) to the VIP comes
 * out encapsulated, and a parser here checks every outer header byte (the
 * IPv4 header checksum recomputed from the bytes), that the Ethernet header
 * and the whole inner packet are unchanged, and that the frame went on to
 * f1 (which sent it out of p2). Other traffic, and the egress side, pass
 * untouched; a drained backend keeps its flow and gets no SYN; with no
 * backend up the frame is dropped; src_bits spreads the outer source.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <bpf/bpf.h>

#include <linux/types.h>

#include "nfchain/nfchain.h"
#include "dptest.h"
#include "fuzzpkt.h"
#include "lb/lb.h"

enum { XDP_DROP_ = 1, XDP_REDIRECT_ = 4, TC_SHOT = 2, TC_REDIRECT = 7 };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];

/* The Internet checksum of p's len bytes: 0 over bytes whose checksum
 * is right. */
static __u16 csum(const __u8 *p, int len)
{
	return fz_fold(fz_sum(p, len, 0));
}

/* Ethernet + IPv4 (tos 0x10, DF, ttl 63) + TCP or UDP to dst:dport from
 * 198.51.100.2:sport, 10 bytes of payload. Returns its length. */
static int frame(__u8 *f, const char *dst, int proto, int sport, int dport,
		 __u8 tcpflags)
{
	int l4 = proto == 6 ? 20 : 8, len = 14 + 20 + l4 + 10;
	__u8 *ip = f + 14, *th = ip + 20;
	__u32 a;

	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00",
	       14);
	ip[0] = 0x45;
	ip[1] = 0x10;
	ip[2] = (len - 14) >> 8;
	ip[3] = (len - 14) & 0xff;
	ip[4] = 0x12;
	ip[5] = 0x34;
	ip[6] = 0x40; /* DF */
	ip[8] = 63;
	ip[9] = proto;
	a = inet_addr("198.51.100.2");
	memcpy(ip + 12, &a, 4);
	a = inet_addr(dst);
	memcpy(ip + 16, &a, 4);
	a = csum(ip, 20);
	ip[10] = a >> 8;
	ip[11] = a & 0xff;
	th[0] = sport >> 8;
	th[1] = sport & 0xff;
	th[2] = dport >> 8;
	th[3] = dport & 0xff;
	if (proto == 6) {
		th[12] = 5 << 4;
		th[13] = tcpflags;
	} else {
		th[5] = l4 + 10;
	}
	memcpy(th + l4, "0123456789", 10);
	return len;
}

static int run(int port, const __u8 *f, int len, struct dpt_run *r)
{
	dpt_set_meta(root, 1, port);
	return dpt_run(root, "nf/1-lb0/prog", f, len, r);
}

/* The outer header, parsed: what is wrong with it, or NULL. */
static const char *check_encap(const __u8 *in, int len, const struct dpt_run *r,
			       const char *src, __u32 srcmask, const char *dst)
{
	const __u8 *o = r->out + 14;
	static char why[128];
	__u32 a;

	if ((int)r->out_len != len + 20)
		return "length is not the input's + 20";
	if (memcmp(r->out, in, 14))
		return "Ethernet header changed";
	if (memcmp(r->out + 34, in + 14, len - 14))
		return "inner packet changed";
	if (o[0] != 0x45 || o[1] != 0x10 || o[9] != 4 || o[8] != 64)
		return "version/ihl, tos (inner's), protocol 4 or ttl 64 wrong";
	if ((o[2] << 8 | o[3]) != len - 14 + 20)
		return "total length is not the inner's + 20";
	if ((o[6] & 0x40) != 0x40 || (o[6] & 0x3f) || o[7])
		return "DF not copied, or fragment bits set";
	if (csum(o, 20) != 0)
		return "header checksum does not verify";
	memcpy(&a, o + 12, 4);
	if ((ntohl(a) & srcmask) != (ntohl(inet_addr(src)) & srcmask)) {
		snprintf(why, sizeof(why), "outer source %u.%u.%u.%u, want %s",
			 o[12], o[13], o[14], o[15], src);
		return why;
	}
	memcpy(&a, o + 16, 4);
	if (a != inet_addr(dst))
		return "outer destination is not the backend";
	return NULL;
}

/* The TCP/UDP checksum of an IPv4 packet at `ip`, pseudo-header included:
 * 0 when it verifies. */
static __u16 l4_verify(const __u8 *ip)
{
	int l4 = (ip[2] << 8 | ip[3]) - 20;

	return fz_fold(fz_sum(ip + 20, l4, fz_pseudo4(ip, l4, ip[9])));
}

/* A TCP frame with a correct checksum (the frame() above leaves it 0). */
static int frame_csum(__u8 *f, const char *dst, int sport, int dport,
		      __u8 flags)
{
	int len = frame(f, dst, 6, sport, dport, flags);
	__u16 c = l4_verify(f + 14);

	f[14 + 20 + 16] = c >> 8;
	f[14 + 20 + 17] = c & 0xff;
	return len;
}

/* The TCP checksum of an IPv6 packet at `ip` (no extension header),
 * pseudo-header included: 0 when it verifies. */
static __u16 l4_verify6(const __u8 *ip)
{
	int l4 = ip[4] << 8 | ip[5];

	return fz_fold(fz_sum(ip + 40, l4, fz_pseudo6(ip, l4, ip[6])));
}

/* The NAT backend 198.51.100.12:8080's answer to 198.51.100.2:40002,
 * TCP flags `flags`, checksums right. Returns its length. */
static int nat_answer(__u8 *f, __u8 flags)
{
	int len = frame_csum(f, "198.51.100.2", 8080, 40002, flags);
	__u16 c;

	memcpy(f + 26, "\xc6\x33\x64\x0c", 4);
	f[24] = f[25] = 0;
	c = csum(f + 14, 20);
	f[24] = c >> 8;
	f[25] = c & 0xff;
	f[14 + 20 + 16] = f[14 + 20 + 17] = 0;
	c = l4_verify(f + 14);
	f[14 + 20 + 16] = c >> 8;
	f[14 + 20 + 17] = c & 0xff;
	return len;
}

/* Entries of lb0's conntrack collection (the shared tracker). */
static int ct_count(struct nfc *nfc)
{
	json_t *a = NULL;
	int n = nfc_coll_list(nfc, "lb0", "conntrack", &a)
			? -1
			: (int)json_array_size(a);

	json_decref(a);
	return n;
}

/* lb0's tracker holds one entry: the NAT-ed 198.51.100.2:40002 ->
 * 198.51.100.12:8080 in `state`, one packet each way. */
static int ct_is(struct nfc *nfc, const char *state)
{
	json_t *a = NULL, *c;
	int ok;

	if (nfc_coll_list(nfc, "lb0", "conntrack", &a))
		return 0;
	c = json_array_get(a, 0);
	ok = json_array_size(a) == 1 &&
	     !strcmp(json_string_value(json_object_get(c, "src")) ?: "",
		     "198.51.100.2") &&
	     !strcmp(json_string_value(json_object_get(c, "dst")) ?: "",
		     "198.51.100.12") &&
	     json_integer_value(json_object_get(c, "sport")) == 40002 &&
	     json_integer_value(json_object_get(c, "dport")) == 8080 &&
	     !strcmp(json_string_value(json_object_get(c, "state")) ?: "",
		     state) &&
	     json_integer_value(json_object_get(c, "packets_orig")) == 1 &&
	     json_integer_value(json_object_get(c, "packets_reply")) == 1;
	if (!ok) {
		char *d = json_dumps(a, JSON_COMPACT);

		printf("# conntrack: %s\n", d ?: "?");
		free(d);
	}
	json_decref(a);
	return ok;
}

static int set(struct nfc *nfc, const char *coll, const char *key,
	       const char *k, const char *v)
{
	json_t *f = json_pack("{s:s}", k, v);
	int e = nfc_coll_set(nfc, "lb0", coll, key, f);

	json_decref(f);
	return e;
}

/* A figure of every backend of lb0, summed ("packets", "new_connections"). */
static json_int_t be_sum(struct nfc *nfc, const char *field)
{
	json_t *a = NULL, *s, *b;
	json_int_t n = 0;
	size_t i, j;

	if (nfc_coll_list(nfc, "lb0", "services", &a))
		return -1;
	json_array_foreach (a, i, s)
		json_array_foreach (json_object_get(s, "backends"), j, b)
			n += json_integer_value(json_object_get(b, field));
	json_decref(a);
	return n;
}

static void one_mode(struct nfc *nfc, const char *mode, int redirect, int drop)
{
	const char *svc = "203.0.113.100:80/tcp",
		   *be = "203.0.113.100:80/tcp/198.51.100.11";
	json_t *cfg = json_pack("{s:s}", "src", "198.51.100.200");
	json_t *w2 = json_pack("{s:i}", "weight", 2);
	struct dpt_run r;
	const char *why;
	__u8 f[128];
	int len, e;
	__u64 tx;
	__u32 id = 0;

	test_group = mode;
	e = nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "lb", "lb0", mode, cfg) ||
	    nfc_attach(nfc, "lb0", "f1:p1", "both", NULL) ||
	    nfc_coll_add(nfc, "lb0", "services", svc, NULL) ||
	    nfc_coll_add(nfc, "lb0", "backends", be, w2);
	json_decref(cfg);
	json_decref(w2);
	if (e) {
		CHECK(0, "set up f1, lb0 on f1:p1: %s", nfc_errmsg(nfc));
		nfc_reset(nfc);
		return;
	}
	len = frame(f, "203.0.113.100", 6, 40000, 80, 0x02);
	tx = dpt_port_stats(root, 0, 1).tx_packets;
	CHECK(!run(0, f, len, &r) && r.verdict == redirect &&
		      dpt_port_stats(root, 0, 1).tx_packets == tx + 1,
	      "a SYN to the VIP goes on to f1, out of p2 (verdict %d)",
	      r.verdict);
	why = check_encap(f, len, &r, "198.51.100.200", ~0u, "198.51.100.11");
	CHECK(!why, "encapsulated in IPv4 to the backend from src: %s",
	      why ? why : "every outer field right");

	len = frame(f, "203.0.113.100", 6, 40000, 80, 0x10);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect &&
		      !check_encap(f, len, &r, "198.51.100.200", ~0u,
				   "198.51.100.11"),
	      "the flow's next packet (ACK) too");

	len = frame(f, "203.0.113.100", 6, 40000, 81, 0x02);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect && (int)r.out_len == len &&
		      !memcmp(r.out, f, len),
	      "another port of the VIP: passed on untouched");
	len = frame(f, "203.0.113.100", 17, 40000, 80, 0);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect && (int)r.out_len == len &&
		      !memcmp(r.out, f, len),
	      "UDP to a TCP service's port: passed on untouched");
	len = frame(f, "203.0.113.100", 6, 40000, 80, 0x02);
	run(1, f, len, &r);
	CHECK((int)r.out_len == len && !memcmp(r.out, f, len),
	      "egress side: passed on untouched (verdict %d)", r.verdict);

	/* Drain: the flow keeps it, a new connection finds none up. */
	CHECK(!set(nfc, "backends", be, "state", "drain"),
	      "backends set state=drain");
	len = frame(f, "203.0.113.100", 6, 40000, 80, 0x10);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect &&
		      !check_encap(f, len, &r, "198.51.100.200", ~0u,
				   "198.51.100.11"),
	      "drained: the open flow still reaches its backend");
	len = frame(f, "203.0.113.100", 6, 40001, 80, 0x02);
	run(0, f, len, &r);
	CHECK(r.verdict == drop,
	      "drained, the only backend: a new SYN is dropped (verdict %d)",
	      r.verdict);
	CHECK(!set(nfc, "backends", be, "state", "up"), "state=up again");

	/* forward=nat: destination to the backend's, reply's source back. */
	{
		json_t *nat = json_pack("{s:s}", "forward", "nat");
		__u8 out[128];
		int ok;

		e = nfc_coll_add(nfc, "lb0", "services", "203.0.113.100:81/tcp",
				 nat) ||
		    nfc_coll_add(nfc, "lb0", "backends",
				 "203.0.113.100:81/tcp/198.51.100.12:8080",
				 NULL);
		json_decref(nat);
		CHECK(!e, "NAT service :81, backend 198.51.100.12:8080");
		len = frame_csum(f, "203.0.113.100", 40002, 81, 0x02);
		CHECK(l4_verify(f + 14) == 0, "the crafted SYN's checksum");
		run(0, f, len, &r);
		memcpy(out, r.out, sizeof(out));
		ok = r.verdict == redirect && (int)r.out_len == len &&
		     !memcmp(out + 30, "\xc6\x33\x64\x0c", 4) &&
		     out[36] == 8080 >> 8 && out[37] == (8080 & 0xff) &&
		     !memcmp(out + 26, f + 26, 4) &&
		     !memcmp(out + 34, f + 34, 2) && csum(out + 14, 20) == 0 &&
		     l4_verify(out + 14) == 0;
		CHECK(ok,
		      "NAT: destination 198.51.100.12:8080, source kept, "
		      "IPv4 and TCP checksums verify (verdict %d)",
		      r.verdict);
		/* The backend's answer, on the egress side. */
		len = nat_answer(f, 0x12);
		run(1, f, len, &r);
		ok = (int)r.out_len == len &&
		     !memcmp(r.out + 26, "\xcb\x00\x71\x64", 4) &&
		     r.out[34] == 0 && r.out[35] == 81 &&
		     !memcmp(r.out + 30, f + 30, 4) &&
		     csum(r.out + 14, 20) == 0 && l4_verify(r.out + 14) == 0;
		CHECK(ok, "NAT reply: source back to 203.0.113.100:81, "
			  "checksums verify");
		/* The connection is the shared tracker's, keyed by the
		 * rewritten tuple: its SYN one way, SYN-ACK the other. */
		CHECK(ct_is(nfc, "syn_recv"),
		      "NAT: conntrack shows tcp 198.51.100.2:40002 -> "
		      "198.51.100.12:8080 syn_recv, 1 packet each way");
		CHECK(!nfc_coll_del(nfc, "lb0", "conntrack", "flush") &&
			      ct_count(nfc) == 0,
		      "NAT: conntrack flush empties the tracker");
		/* The next segment of the flow the connection table knows
		 * is picked up midway, and its answer rewritten again. */
		len = frame_csum(f, "203.0.113.100", 40002, 81, 0x10);
		run(0, f, len, &r);
		CHECK(r.verdict == redirect &&
			      !memcmp(r.out + 30, "\xc6\x33\x64\x0c", 4) &&
			      ct_count(nfc) == 1,
		      "NAT: after a flush, an ACK of the known flow goes to "
		      "the same backend and is tracked again");
		len = nat_answer(f, 0x10);
		run(1, f, len, &r);
		CHECK(!memcmp(r.out + 26, "\xcb\x00\x71\x64", 4) &&
			      r.out[35] == 81 && l4_verify(r.out + 14) == 0,
		      "NAT: ... and its answer leaves from the VIP again");
	}

	/* src_bits: the low bits from the flow's hash. */
	CHECK(!set(nfc, "backends", be, "weight", "1"), "weight=1");
	{
		json_t *c = json_pack("{s:s,s:i}", "src", "198.51.100.0",
				      "src_bits", 6);
		json_t *bad = json_pack("{s:i}", "src_bits", 17),
		       *bads = json_pack("{s:s}", "src", "198.51.100.300");
		int seen[64] = {0}, n = 0;

		id = dpt_prog_id(root, "nf/1-lb0/prog");
		e = nfc_nf_set(nfc, "lb0", c);
		json_decref(c);
		CHECK(!e, "src=198.51.100.0 src_bits=6 (run-time values)");
		for (int p = 0; p < 64; p++) {
			len = frame(f, "203.0.113.100", 6, 41000 + p, 80, 0x02);
			run(0, f, len, &r);
			if (check_encap(f, len, &r, "198.51.100.0", ~0x3fu,
					"198.51.100.11"))
				break;
			n += !seen[r.out[14 + 15] & 0x3f]++;
		}
		CHECK(n >= 20,
		      "64 flows: outer sources in 198.51.100.0/26, %d distinct",
		      n);
		CHECK(nfc_nf_set(nfc, "lb0", bad) &&
			      nfc_nf_set(nfc, "lb0", bads),
		      "src_bits=17, src=198.51.100.300: refused");
		len = frame(f, "203.0.113.100", 6, 41000, 80, 0x02);
		run(0, f, len, &r);
		CHECK(!check_encap(f, len, &r, "198.51.100.0", ~0x3fu,
				   "198.51.100.11"),
		      "... and nothing changed (outer source in the /26)");
		json_decref(bad);
		json_decref(bads);
	}
	/* mtu: a DF packet the outer header takes beyond it comes back as
	 * an ICMP fragmentation-needed, out of the port it came in by. */
	{
		json_t *c = json_pack("{s:s,s:i,s:i}", "src", "198.51.100.0",
				      "src_bits", 6, "mtu", 88),
		       *low = json_pack("{s:i}", "mtu", 87);
		const __u8 *o = r.out, *ic = r.out + 34;
		/* lb0's port 0: the side the client is on */
		__u64 tx0 = dpt_port_stats(root, 1, 0).tx_packets;
		json_int_t bp0, bc0;
		int ok;

		e = nfc_nf_set(nfc, "lb0", low);
		json_decref(low);
		CHECK(e && strstr(nfc_errmsg(nfc), "at least 88"),
		      "mtu=87: refused (a fragmentation-needed would tell "
		      "67, under IPv4's 68): %s",
		      e ? nfc_errmsg(nfc) : "accepted");
		e = nfc_nf_set(nfc, "lb0", c);
		json_decref(c);
		CHECK(!e, "mtu=88: %s", e ? nfc_errmsg(nfc) : "");
		/* 70 bytes of IPv4 (20 more than frame() makes): 90 once
		 * encapsulated */
		len = frame(f, "203.0.113.100", 6, 42000, 80, 0x02) + 20;
		memset(f + len - 20, 0, 20);
		f[14 + 3] = 70;
		f[14 + 10] = f[14 + 11] = 0;
		{
			__u16 cs = csum(f + 14, 20);

			f[24] = cs >> 8;
			f[25] = cs & 0xff;
		}
		bp0 = be_sum(nfc, "packets");
		bc0 = be_sum(nfc, "new_connections");
		run(0, f, len, &r);
		CHECK(be_sum(nfc, "packets") == bp0 &&
			      be_sum(nfc, "new_connections") == bc0,
		      "... counted on no backend: it reaches none (packets "
		      "%lld -> %lld, connections %lld -> %lld)",
		      (long long)bp0, (long long)be_sum(nfc, "packets"),
		      (long long)bc0,
		      (long long)be_sum(nfc, "new_connections"));
		ok = r.verdict == redirect && r.out_len == 70 &&
		     !memcmp(o, f + 6, 6) && !memcmp(o + 6, f, 6) &&
		     o[12] == 8 && o[13] == 0 && o[14] == 0x45 && o[16] == 0 &&
		     o[17] == 56 && o[23] == 1 && !memcmp(o + 26, f + 30, 4) &&
		     !memcmp(o + 30, f + 26, 4) && csum(o + 14, 20) == 0 &&
		     ic[0] == 3 && ic[1] == 4 && ic[6] == 0 && ic[7] == 68 &&
		     csum(ic, 36) == 0 && !memcmp(ic + 8, f + 14, 28) &&
		     dpt_port_stats(root, 1, 0).tx_packets == tx0 + 1;
		CHECK(ok,
		      "90 bytes beyond mtu=88 with DF: ICMP 3/4 from the VIP "
		      "to the client, MTU 68, checksums, the quote, out of "
		      "p1 (verdict %d, %u bytes)",
		      r.verdict, r.out_len);
		f[14 + 6] = 0; /* no DF: encapsulated all the same */
		f[14 + 10] = f[14 + 11] = 0;
		{
			__u16 cs = csum(f + 14, 20);

			f[24] = cs >> 8;
			f[25] = cs & 0xff;
		}
		run(0, f, len, &r);
		CHECK(r.verdict == redirect && (int)r.out_len == len + 20,
		      "without DF: encapsulated (the backend's path "
		      "fragments)");
		CHECK(id && dpt_prog_id(root, "nf/1-lb0/prog") == id,
		      "src, src_bits and mtu set with no reload (program id "
		      "%u kept)",
		      id);
	}
	CHECK(!nfc_reset(nfc), "reset");
}

/* ---- IPv6 ---- */

/* Ethernet + IPv6 (traffic class 0x10, hop limit 63) + TCP from
 * [src]:sport to [dst]:dport, 10 bytes of payload, the TCP checksum
 * right. Returns its length. */
static int frame6(__u8 *f, const char *src, const char *dst, int sport,
		  int dport, __u8 tcpflags)
{
	int len = 14 + 40 + 20 + 10;
	__u8 *ip = f + 14, *th = ip + 40;
	__u16 c;

	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd",
	       14);
	ip[0] = 0x61; /* version 6, traffic class 0x10 */
	ip[5] = 30;   /* payload length */
	ip[6] = 6;
	ip[7] = 63;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	th[0] = sport >> 8;
	th[1] = sport & 0xff;
	th[2] = dport >> 8;
	th[3] = dport & 0xff;
	th[12] = 5 << 4;
	th[13] = tcpflags;
	memcpy(th + 20, "0123456789", 10);
	c = l4_verify6(ip);
	th[16] = c >> 8;
	th[17] = c & 0xff;
	return len;
}

static int addr6_is(const __u8 *a, const char *want)
{
	__u8 w[16];

	inet_pton(AF_INET6, want, w);
	return !memcmp(a, w, 16);
}

/* The ip6ip6 outer header, parsed: what is wrong with it, or NULL. */
static const char *check_encap6(const __u8 *in, int len,
				const struct dpt_run *r, const char *src,
				const char *dst)
{
	const __u8 *o = r->out + 14;

	if ((int)r->out_len != len + 40)
		return "length is not the input's + 40";
	if (memcmp(r->out, in, 14))
		return "Ethernet header changed";
	if (memcmp(r->out + 54, in + 14, len - 14))
		return "inner packet changed";
	if (o[0] != 0x61 || (o[1] & 0xf0) != 0)
		return "version 6 or traffic class (inner's 0x10) wrong";
	if ((o[4] << 8 | o[5]) != len - 14)
		return "payload length is not the inner packet's whole length";
	if (o[6] != 41 || o[7] != 64)
		return "next header 41 (IPv6) or hop limit 64 wrong";
	if (!addr6_is(o + 8, src))
		return "outer source wrong";
	if (!addr6_is(o + 24, dst))
		return "outer destination is not the backend";
	return NULL;
}

static void ipv6(struct nfc *nfc, const char *mode, int redirect, int drop)
{
	const char *svc = "[2001:db8::100]:80/tcp",
		   *be = "[2001:db8::100]:80/tcp/[2001:db8:2::11]",
		   *nsvc = "[2001:db8::100]:81/tcp",
		   *nbe = "[2001:db8::100]:81/tcp/[2001:db8:2::12]:8080";
	json_t *nat = json_pack("{s:s}", "forward", "nat");
	struct dpt_run r;
	const char *why;
	__u8 f[160], out[160];
	int len, e, ok, labels = 0, seen[64] = {0};

	e = nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "lb", "lb0", mode, NULL) ||
	    nfc_attach(nfc, "lb0", "f1:p1", "both", NULL) ||
	    nfc_coll_add(nfc, "lb0", "services", svc, NULL) ||
	    nfc_coll_add(nfc, "lb0", "backends", be, NULL) ||
	    nfc_coll_add(nfc, "lb0", "services", nsvc, nat) ||
	    nfc_coll_add(nfc, "lb0", "backends", nbe, NULL);
	json_decref(nat);
	if (e) {
		CHECK(0, "IPv6: set up f1, lb0, two IPv6 services: %s",
		      nfc_errmsg(nfc));
		nfc_reset(nfc);
		return;
	}
	len = frame6(f, "2001:db8:1::2", "2001:db8::100", 40000, 80, 0x02);
	CHECK(l4_verify6(f + 14) == 0, "IPv6: the crafted SYN's checksum");
	run(0, f, len, &r);
	why = check_encap6(f, len, &r, "2001:db8:1::2", "2001:db8:2::11");
	CHECK(r.verdict == redirect && !why,
	      "IPv6 DSR: a SYN goes on in ip6ip6 to the backend: %s "
	      "(verdict %d)",
	      why ? why : "every outer field right", r.verdict);
	len = frame6(f, "2001:db8:1::2", "2001:db8::100", 40000, 80, 0x10);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect &&
		      !check_encap6(f, len, &r, "2001:db8:1::2",
				    "2001:db8:2::11"),
	      "IPv6 DSR: the flow's next packet (ACK) too");
	for (int p = 0; p < 64; p++) {
		len = frame6(f, "2001:db8:1::2", "2001:db8::100", 41000 + p, 80,
			     0x02);
		run(0, f, len, &r);
		labels += !seen[r.out[14 + 3] & 0x3f]++;
	}
	CHECK(labels >= 20, "IPv6 DSR: 64 flows, %d distinct flow labels",
	      labels);
	len = frame6(f, "2001:db8:1::2", "2001:db8::101", 40000, 80, 0x02);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect && (int)r.out_len == len &&
		      !memcmp(r.out, f, len),
	      "IPv6: another address: passed on untouched");

	/* mtu: a packet the outer header takes beyond it comes back as an
	 * ICMPv6 packet-too-big, out of the port it came in by. Below 1320
	 * (an MTU told below IPv6's 1280) it is refused. */
	{
		json_t *c = json_pack("{s:i}", "mtu", 1320),
		       *lo = json_pack("{s:i}", "mtu", 1319);
		const __u8 *o = r.out, *ip = r.out + 14, *ic = r.out + 54;
		__u64 tx0;
		__u8 big[14 + 40 + 1300] = {0};
		const char *msg;

		e = nfc_nf_set(nfc, "lb0", c);
		json_decref(c);
		CHECK(!e, "IPv6: mtu=1320: %s", e ? nfc_errmsg(nfc) : "");
		e = nfc_nf_set(nfc, "lb0", lo);
		json_decref(lo);
		msg = e ? nfc_errmsg(nfc) : "";
		CHECK(e && strstr(msg, "1320") && strstr(msg, svc),
		      "IPv6: mtu=1319 with an IPv6 DSR service: refused (%s)",
		      msg);
		tx0 = dpt_port_stats(root, 1, 0).tx_packets;
		/* 1,241 bytes of TCP: 1,281 + 40 encapsulated, beyond 1,320 */
		frame6(big, "2001:db8:1::2", "2001:db8::100", 42000, 80, 0x02);
		big[14 + 4] = 1241 >> 8;
		big[14 + 5] = 1241 & 0xff;
		len = 14 + 40 + 1241;
		run(0, big, len, &r);
		ok = r.verdict == redirect && r.out_len == 14 + 40 + 56 &&
		     !memcmp(o, big + 6, 6) && !memcmp(o + 6, big, 6) &&
		     o[12] == 0x86 && o[13] == 0xdd && ip[0] == 0x60 &&
		     ip[4] == 0 && ip[5] == 56 && ip[6] == 58 &&
		     addr6_is(ip + 8, "2001:db8::100") &&
		     addr6_is(ip + 24, "2001:db8:1::2") && ic[0] == 2 &&
		     ic[1] == 0 && ic[4] == 0 && ic[5] == 0 &&
		     ic[6] == 1280 >> 8 && ic[7] == (1280 & 0xff) &&
		     !fz_fold(fz_sum(ic, 56, fz_pseudo6(ip, 56, 58))) &&
		     !memcmp(ic + 8, big + 14, 48) &&
		     dpt_port_stats(root, 1, 0).tx_packets == tx0 + 1;
		CHECK(ok,
		      "IPv6: 1,321 bytes encapsulated beyond mtu=1320 (kept "
		      "after the refused 1319): ICMPv6 packet-too-big from the "
		      "VIP to the client, MTU 1280, checksum, the quote, out "
		      "of "
		      "p1 (verdict %d, %u bytes)",
		      r.verdict, r.out_len);
		/* 1 byte shorter: 1,320 once encapsulated, which fits (the
		 * output is beyond the run's 512-byte buffer: the kernel
		 * says ENOSPC and gives its length) */
		big[14 + 5] = 1240 & 0xff;
		len--;
		run(0, big, len, &r);
		CHECK((r.verdict == redirect || r.verdict == -ENOSPC) &&
			      (int)r.out_len == len + 40 && r.out[12] == 0x86 &&
			      r.out[14 + 6] == 41,
		      "IPv6: 1,320 bytes once encapsulated, mtu=1320: "
		      "encapsulated (verdict %d, %u bytes)",
		      r.verdict, r.out_len);
	}
	/* NAT: destination to [2001:db8:2::12]:8080, the reply back. */
	len = frame6(f, "2001:db8:1::2", "2001:db8::100", 40002, 81, 0x02);
	run(0, f, len, &r);
	memcpy(out, r.out, sizeof(out));
	ok = r.verdict == redirect && (int)r.out_len == len &&
	     addr6_is(out + 14 + 24, "2001:db8:2::12") &&
	     addr6_is(out + 14 + 8, "2001:db8:1::2") && out[56] == 8080 >> 8 &&
	     out[57] == (8080 & 0xff) && !memcmp(out + 54, f + 54, 2) &&
	     l4_verify6(out + 14) == 0;
	CHECK(ok,
	      "IPv6 NAT: destination [2001:db8:2::12]:8080, source kept, TCP "
	      "checksum verifies (verdict %d)",
	      r.verdict);
	len = frame6(f, "2001:db8:2::12", "2001:db8:1::2", 8080, 40002, 0x12);
	run(1, f, len, &r);
	ok = (int)r.out_len == len &&
	     addr6_is(r.out + 14 + 8, "2001:db8::100") &&
	     addr6_is(r.out + 14 + 24, "2001:db8:1::2") && r.out[54] == 0 &&
	     r.out[55] == 81 && l4_verify6(r.out + 14) == 0;
	CHECK(ok, "IPv6 NAT reply: source back to [2001:db8::100]:81, TCP "
		  "checksum verifies");
	/* An lb whose mtu is below 1320 takes IPv6 NAT and IPv4 services,
	 * not an IPv6 DSR one. */
	{
		json_t *c = json_pack("{s:i}", "mtu", 1000),
		       *nat6 = json_pack("{s:s}", "forward", "nat");
		const char *msg;

		e = nfc_nf_add(nfc, "lb", "lb1", mode, c) ||
		    nfc_attach(nfc, "lb1", "f1:p2", "both", NULL);
		json_decref(c);
		CHECK(!e, "IPv6: lb1 with mtu=1000: %s",
		      e ? nfc_errmsg(nfc) : "added");
		e = nfc_coll_add(nfc, "lb1", "services",
				 "[2001:db8::200]:80/tcp", NULL);
		msg = e ? nfc_errmsg(nfc) : "";
		CHECK(e && strstr(msg, "1320") && strstr(msg, "mtu"),
		      "IPv6: a DSR service on lb1 (mtu=1000): refused (%s)",
		      msg);
		CHECK(!nfc_coll_add(nfc, "lb1", "services",
				    "[2001:db8::200]:81/tcp", nat6) &&
			      !nfc_coll_add(nfc, "lb1", "services",
					    "203.0.113.200:80/tcp", NULL),
		      "IPv6: lb1 (mtu=1000) takes an IPv6 NAT service and an "
		      "IPv4 DSR one: %s",
		      nfc_errmsg(nfc));
		json_decref(nat6);
	}

	(void)drop;
	CHECK(!nfc_reset(nfc), "reset");
}

/* ---- affinity, the table switch, the counters (issue 17) ---- */

/* The outer destination of an encapsulated frame, as text ("-" if not). */
static const char *outer_dst(const struct dpt_run *r, int len)
{
	static char b[INET_ADDRSTRLEN];

	if ((int)r->out_len != len + 20 || r->out[14 + 9] != 4)
		return "-";
	return inet_ntop(AF_INET, r->out + 14 + 16, b, sizeof(b)) ?: "-";
}

/* The backend `key`'s object in lb0's services show, or NULL (a new
 * reference). */
static json_t *be_shown(struct nfc *nfc, const char *svc, const char *key)
{
	json_t *a = NULL, *s, *b, *found = NULL;
	size_t i, j;

	if (nfc_coll_list(nfc, "lb0", "services", &a))
		return NULL;
	json_array_foreach (a, i, s) {
		if (strcmp(json_string_value(json_object_get(s, "service"))
				   ?: "",
			   svc))
			continue;
		json_array_foreach (json_object_get(s, "backends"), j, b)
			if (!strcmp(json_string_value(
					    json_object_get(b, "backend"))
					    ?: "",
				    key))
				found = json_incref(b);
	}
	json_decref(a);
	return found;
}

static json_int_t be_num(struct nfc *nfc, const char *svc, const char *key,
			 const char *field)
{
	json_t *b = be_shown(nfc, svc, key);
	json_int_t v = b ? json_integer_value(json_object_get(b, field)) : -1;

	json_decref(b);
	return v;
}

/* The map id of service `sid`'s table, 0 if none. */
static __u32 ring_id(__u32 sid)
{
	char path[256];
	__u32 id = 0;
	int outer;

	snprintf(path, sizeof(path), "%s/nf/1-lb0/map/lb_rings", root);
	outer = bpf_obj_get(path);
	if (outer < 0)
		return 0;
	if (bpf_map_lookup_elem(outer, &sid, &id))
		id = 0;
	close(outer);
	return id;
}

/* A digest of a table map's every slot. */
static __u64 ring_sum(int fd)
{
	__u64 h = 0;
	__u32 v;

	for (__u32 k = 0; k < 65537; k++)
		h = h * 31 + (bpf_map_lookup_elem(fd, &k, &v) ? 0xffff : v);
	return h;
}

static void affinity(struct nfc *nfc, const char *mode, int redirect)
{
	const char *udp = "203.0.113.100:53/udp",
		   *ua = "203.0.113.100:53/udp/198.51.100.21",
		   *ub = "203.0.113.100:53/udp/198.51.100.22",
		   *tcp = "203.0.113.100:80/tcp",
		   *ta = "203.0.113.100:80/tcp/198.51.100.21",
		   *tb = "203.0.113.100:80/tcp/198.51.100.22",
		   *tc = "203.0.113.100:80/tcp/198.51.100.23";
	json_t *cfg = json_pack("{s:i}", "udp_timeout", 1),
	       *heavy = json_pack("{s:i}", "weight", 1000);
	struct dpt_run r;
	__u8 f[128];
	int len, e, sp = 0, others = 0, fd[2], t;
	__u32 before[2], after[2];
	__u64 sum[2];

	test_group = mode;
	e = nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "lb", "lb0", mode, cfg) ||
	    nfc_attach(nfc, "lb0", "f1:p1", "both", NULL) ||
	    nfc_coll_add(nfc, "lb0", "services", udp, NULL) ||
	    nfc_coll_add(nfc, "lb0", "backends", ua, NULL) ||
	    nfc_coll_add(nfc, "lb0", "backends", ub, NULL) ||
	    nfc_coll_add(nfc, "lb0", "services", tcp, NULL) ||
	    nfc_coll_add(nfc, "lb0", "backends", ta, NULL) ||
	    nfc_coll_add(nfc, "lb0", "backends", tb, NULL);
	json_decref(cfg);
	if (e) {
		CHECK(0, "affinity: set up lb0 (udp_timeout=1): %s",
		      nfc_errmsg(nfc));
		json_decref(heavy);
		nfc_reset(nfc);
		return;
	}
	/* UDP: a flow on .21; drained, .21 keeps it while it is not idle
	 * for udp_timeout, and takes no new flow. */
	for (int p = 50000; p < 50064 && !sp; p++) {
		len = frame(f, "203.0.113.100", 17, p, 53, 0);
		run(0, f, len, &r);
		if (!strcmp(outer_dst(&r, len), "198.51.100.21"))
			sp = p;
	}
	CHECK(sp, "UDP: a flow on 198.51.100.21 among 64");
	CHECK(!set(nfc, "backends", ua, "state", "drain"), "UDP: drain .21");
	len = frame(f, "203.0.113.100", 17, sp, 53, 0);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect &&
		      !strcmp(outer_dst(&r, len), "198.51.100.21"),
	      "UDP: the flow keeps the drained .21 (to %s)",
	      outer_dst(&r, len));
	for (int p = 51000; p < 51032; p++) {
		len = frame(f, "203.0.113.100", 17, p, 53, 0);
		run(0, f, len, &r);
		others += !strcmp(outer_dst(&r, len), "198.51.100.22");
	}
	CHECK(others == 32, "UDP: 32 new flows, %d to .22, none to .21",
	      others);
	/* A lower bound only: idle for longer than udp_timeout (1 s). */
	usleep(2500000);
	len = frame(f, "203.0.113.100", 17, sp, 53, 0);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect &&
		      !strcmp(outer_dst(&r, len), "198.51.100.22"),
	      "UDP: idle beyond udp_timeout, the flow is picked anew: .22 "
	      "(to %s)",
	      outer_dst(&r, len));

	/* TCP: an established connection keeps its backend when the set
	 * changes under it; a SYN on its tuple is picked anew. The new
	 * table is a new map, swapped in whole: the old one stays as it
	 * was (a reader holding it sees no mix). */
	sp = 0;
	for (int p = 52000; p < 52064 && !sp; p++) {
		len = frame(f, "203.0.113.100", 6, p, 80, 0x02);
		run(0, f, len, &r);
		if (!strcmp(outer_dst(&r, len), "198.51.100.21"))
			sp = p;
	}
	CHECK(sp, "TCP: a connection on 198.51.100.21 among 64");
	for (int i = 0; i < 2; i++) {
		before[i] = ring_id(i);
		fd[i] = bpf_map_get_fd_by_id(before[i]);
		sum[i] = fd[i] >= 0 ? ring_sum(fd[i]) : 0;
	}
	/* the TCP service's table: the one the change below replaces */
	e = nfc_coll_add(nfc, "lb0", "backends", tc, heavy);
	CHECK(!e, "TCP: add 198.51.100.23 weight=1000");
	after[0] = ring_id(0);
	after[1] = ring_id(1);
	t = before[0] != after[0] ? 0 : 1;
	CHECK(before[0] && before[1] && before[t] != after[t] &&
		      before[!t] == after[!t],
	      "the change swapped in a new map for the TCP service's table "
	      "(%u -> %u), the UDP service's kept its own (%u)",
	      before[t], after[t], after[!t]);
	CHECK(fd[t] >= 0 && ring_sum(fd[t]) == sum[t],
	      "the old table, still held, is as it was: never edited in "
	      "place");
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	len = frame(f, "203.0.113.100", 6, sp, 80, 0x10);
	run(0, f, len, &r);
	CHECK(r.verdict == redirect &&
		      !strcmp(outer_dst(&r, len), "198.51.100.21"),
	      "TCP: the established connection keeps .21 after .23 "
	      "(weight 1000) came (to %s)",
	      outer_dst(&r, len));
	len = frame(f, "203.0.113.100", 6, sp, 80, 0x02);
	run(0, f, len, &r);
	CHECK(!strcmp(outer_dst(&r, len), "198.51.100.23"),
	      "TCP: a new SYN on the same tuple is picked from the new "
	      "table: .23 (to %s)",
	      outer_dst(&r, len));
	json_decref(heavy);

	/* The counters of services show, per backend. */
	CHECK(be_num(nfc, tcp, ta, "new_connections") >= 1 &&
		      be_num(nfc, tcp, tc, "new_connections") == 1 &&
		      be_num(nfc, tcp, tc, "packets") == 1 &&
		      be_num(nfc, tcp, tc, "bytes") == len,
	      "services show: .23 has 1 new connection, 1 packet, %d bytes "
	      "(%lld, %lld, %lld)",
	      len, (long long)be_num(nfc, tcp, tc, "new_connections"),
	      (long long)be_num(nfc, tcp, tc, "packets"),
	      (long long)be_num(nfc, tcp, tc, "bytes"));
	CHECK(be_num(nfc, udp, ua, "new_connections") == 1,
	      "services show: the drained UDP .21 had 1 new flow (%lld)",
	      (long long)be_num(nfc, udp, ua, "new_connections"));
	CHECK(!nfc_reset(nfc), "reset");
}

/* lb0's lb_vidx slot of VIP addr:port/tcp, read from its pin. */
static int vslot(const char *addr, int port, struct lb_vslot *s)
{
	struct lb_vip v = {.port = htons(port), .proto = 6, .family = 4};
	char path[256];
	__u32 k;
	int fd, e;

	v.addr[0] = inet_addr(addr);
	k = lb_vidx_slot(&v);
	snprintf(path, sizeof(path), "%s/nf/1-lb0/map/lb_vidx", root);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -1;
	e = bpf_map_lookup_elem(fd, &k, s);
	close(fd);
	return e;
}

static __u32 vslot_of(const char *addr, int port)
{
	struct lb_vip v = {.port = htons(port), .proto = 6, .family = 4};

	v.addr[0] = inet_addr(addr);
	return lb_vidx_slot(&v);
}

/* The first port from `from` on whose slot (with addr) `want` is, or is
 * not (want < 0: -want - 1 is the slot to avoid). */
static int port_at(const char *addr, int from, long want)
{
	for (int p = from; p < 65536; p++)
		if (want >= 0 ? vslot_of(addr, p) == (__u32)want
			      : vslot_of(addr, p) != (__u32)(-want - 1))
			return p;
	return -1;
}

/* A SYN to addr:port goes to backend `be` (NULL: passed untouched). */
static int syn_to(const char *addr, int port, const char *be, int redirect)
{
	static int sport = 41000;
	struct dpt_run r;
	__u8 f[128];
	int len = frame(f, addr, 6, sport++, port, 0x02);

	if (run(0, f, len, &r) || r.verdict != redirect)
		return 0;
	if (!be)
		return (int)r.out_len == len && !memcmp(r.out, f, len);
	return !check_encap(f, len, &r, "198.51.100.2", ~0u, be);
}

/*
 * lb_vidx, the direct-mapped index in front of lb_vips: a VIP alone in
 * its slot is found there, two VIPs in one slot send it to lb_vips, a
 * slot with no VIP says so, and an index emptied (an lb upgraded on
 * older pins) still balances every VIP and is rebuilt by a configure.
 */
static void vidx(struct nfc *nfc, const char *mode, int redirect)
{
	const char *a = "203.0.113.100", *b = "203.0.113.101",
		   *c = "203.0.113.102";
	int pa = 80, pb, pc, pn;
	struct lb_vslot s;
	char key[64], be[80];
	json_t *cfg;
	int e;

	test_group = mode;
	pb = port_at(b, 1, vslot_of(a, pa));
	pc = port_at(c, 1, -(long)vslot_of(a, pa) - 1);
	pn = port_at(c, pc + 1, vslot_of(c, pc));
	if (pb < 0 || pc < 0 || pn < 0) {
		CHECK(0, "vidx: ports for the slots found");
		return;
	}
	e = nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "lb", "lb0", mode, NULL) ||
	    nfc_attach(nfc, "lb0", "f1:p1", "both", NULL);
	for (int i = 0; i < 3 && !e; i++) {
		const char *ad = i == 0 ? a : i == 1 ? b : c;
		int po = i == 0 ? pa : i == 1 ? pb : pc;

		snprintf(key, sizeof(key), "%s:%d/tcp", ad, po);
		snprintf(be, sizeof(be), "%s/198.51.100.%d", key, 11 + i);
		e = nfc_coll_add(nfc, "lb0", "services", key, NULL) ||
		    nfc_coll_add(nfc, "lb0", "backends", be, NULL);
	}
	if (e) {
		CHECK(0, "vidx: set up three services: %s", nfc_errmsg(nfc));
		nfc_reset(nfc);
		return;
	}
	CHECK(!vslot(a, pa, &s) && s.vip.family == 0,
	      "vidx: two VIPs in one slot leave it to lb_vips (family %u)",
	      s.vip.family);
	CHECK(!vslot(c, pc, &s) && s.vip.family == 4 &&
		      s.vip.addr[0] == inet_addr(c) &&
		      s.vip.port == htons(pc) && s.svc.table == LB_TABLE_DEF,
	      "vidx: a VIP alone in its slot is there, with its service");
	CHECK(syn_to(a, pa, "198.51.100.11", redirect) &&
		      syn_to(b, pb, "198.51.100.12", redirect),
	      "vidx: both VIPs of the shared slot reach their backends");
	CHECK(syn_to(c, pc, "198.51.100.13", redirect),
	      "vidx: the VIP found in its slot reaches its backend");
	CHECK(syn_to(c, pn, NULL, redirect),
	      "vidx: its address with another port of that slot: untouched");
	snprintf(key, sizeof(key), "%s:%d/tcp", b, pb);
	snprintf(be, sizeof(be), "%s/198.51.100.12", key);
	CHECK(!nfc_coll_del(nfc, "lb0", "backends", be) &&
		      !nfc_coll_del(nfc, "lb0", "services", key),
	      "vidx: the second VIP of the shared slot deleted");
	CHECK(!vslot(a, pa, &s) && s.vip.family == 4 && s.vip.port == htons(pa),
	      "vidx: the slot now holds the first VIP alone");
	CHECK(syn_to(a, pa, "198.51.100.11", redirect) &&
		      syn_to(b, pb, NULL, redirect),
	      "vidx: the first reaches its backend, the deleted one passes");
	CHECK(!vslot(b, pb + 1, &s) &&
		      (s.vip.family == LB_VS_NONE || s.vip.family == 4),
	      "vidx: every slot is built (family %u)", s.vip.family);
	{
		char path[256];
		struct lb_vslot z = {0};
		int fd;

		snprintf(path, sizeof(path), "%s/nf/1-lb0/map/lb_vidx", root);
		fd = bpf_obj_get(path);
		for (__u32 k = 0; fd >= 0 && k < LB_VIDX_SLOTS; k++)
			bpf_map_update_elem(fd, &k, &z, BPF_ANY);
		if (fd >= 0)
			close(fd);
	}
	CHECK(syn_to(a, pa, "198.51.100.11", redirect) &&
		      syn_to(c, pc, "198.51.100.13", redirect) &&
		      syn_to(c, pn, NULL, redirect),
	      "vidx: an emptied index still balances every VIP (lb_vips)");
	/* A load-time field: the program is loaded anew on the same maps,
	 * as an upgrade would, and configured. */
	cfg = json_pack("{s:s}", "src6", "2001:db8::1");
	CHECK(!nfc_nf_set(nfc, "lb0", cfg), "vidx: lb0 set src6 (a reload)");
	json_decref(cfg);
	CHECK(!vslot(c, pc, &s) && s.vip.family == 4 && s.vip.port == htons(pc),
	      "vidx: the reload's configure rebuilt the index");
	CHECK(syn_to(c, pc, "198.51.100.13", redirect),
	      "vidx: and the VIP is found there again");
	CHECK(!nfc_reset(nfc), "reset");
}

static void all_tests(struct nfc *nfc)
{
	one_mode(nfc, "xdp", XDP_REDIRECT_, XDP_DROP_);
	one_mode(nfc, "tc", TC_REDIRECT, TC_SHOT);
	affinity(nfc, "xdp", XDP_REDIRECT_);
	affinity(nfc, "tc", TC_REDIRECT);
	vidx(nfc, "xdp", XDP_REDIRECT_);
	vidx(nfc, "tc", TC_REDIRECT);
	test_group = "xdp";
	ipv6(nfc, "xdp", XDP_REDIRECT_, XDP_DROP_);
	test_group = "tc";
	ipv6(nfc, "tc", TC_REDIRECT, TC_SHOT);
}

int main(void)
{
	dpt_main(root, sizeof(root), "lbdp", "lbd", dev, peer, all_tests);
	TEST_EXIT();
}
