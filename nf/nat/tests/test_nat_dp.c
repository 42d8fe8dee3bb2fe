// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The NAT's data plane on crafted frames (BPF_PROG_TEST_RUN), in XDP and
 * in TC. f1 (NF 0, a forwarder) has p1 on dev[0] and p2 on dev[1]; nat1
 * (NF 1) is attached on f1:p2: its port 1 sees what leaves through p2
 * (out), port 0 what enters from it (in).
 *
 * Checked on the frames that come out: addresses and ports as the rules
 * say, the source port kept when free and another in the range when not,
 * replies translated back, ICMP echo ids, DNAT, checksums valid (computed
 * here from scratch, RFC 1071) and a UDP checksum of 0 left 0, a tiny
 * range exhausted and counted, IPv6 untouched, mappings show.
 */
#include <sched.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "nfchain/nf.h"
#include "dptest.h"
#include "fuzzpkt.h"
#include "../../../tests/ct/ct_frames.h"
#include "ct_common.h"
#include "nat/nat.h"

enum { XDP_REDIRECT_ = 4, TC_REDIRECT = 7, XDP_DROP_ = 1, TC_SHOT = 2 };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static int v_pass, v_drop;

/* IPv4 frame at l3: the L4 checksum's offset in the L4 header. */
static int csum_off(uint8_t proto)
{
	return proto == 6 ? 16 : proto == 17 ? 6 : proto == 1 ? 2 : -1;
}

/* Fills in valid IPv4 and L4 checksums (UDP: unless zero_udp). */
static void csum_fill(struct ctf *f, int zero_udp)
{
	uint8_t *ip = f->b + f->l3, *l4 = ip + (ip[0] & 15) * 4;
	size_t tot = (ip[2] << 8 | ip[3]), l4len = tot - (l4 - ip);
	int co = csum_off(ip[9]);
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = fz_fold(fz_sum(ip, (ip[0] & 15) * 4, 0));
	ctf_put16(ip + 10, c);
	if (co < 0)
		return;
	l4[co] = l4[co + 1] = 0;
	if (ip[9] == 17 && zero_udp)
		return;
	c = fz_fold(fz_sum(l4, l4len,
			   ip[9] == 1 ? 0 : fz_pseudo4(ip, l4len, ip[9])));
	if (ip[9] == 17 && !c)
		c = 0xffff;
	ctf_put16(l4 + co, c);
}

/* Whether the IPv4 and L4 checksums of a frame verify (a UDP 0: only
 * if want_zero). */
static int csum_ok(const uint8_t *b, uint32_t l3, int want_zero)
{
	const uint8_t *ip = b + l3, *l4 = ip + (ip[0] & 15) * 4;
	size_t tot = (ip[2] << 8 | ip[3]), l4len = tot - (l4 - ip);
	int co = csum_off(ip[9]);

	if (fz_fold(fz_sum(ip, (ip[0] & 15) * 4, 0)))
		return 0;
	if (co < 0)
		return 1;
	if (ip[9] == 17 && !l4[co] && !l4[co + 1])
		return want_zero;
	if (want_zero)
		return 0;
	return !fz_fold(fz_sum(l4, l4len,
			       ip[9] == 1 ? 0 : fz_pseudo4(ip, l4len, ip[9])));
}

struct out {
	int verdict; /* 1 passed on, 0 dropped, <0 error */
	char src[16], dst[16];
	int sport, dport, csum;
};

/* Runs a frame through nat1 in direction `out_dir` and reads back what
 * came out. */
static struct out run(struct ctf *f, int out_dir, int zero_udp)
{
	struct dpt_run r;
	struct out o = {0};
	const uint8_t *ip, *l4;

	csum_fill(f, zero_udp);
	dpt_set_meta(root, 1, out_dir ? 1 : 0);
	if (dpt_run(root, "nf/1-nat1/prog", f->b, f->len, &r)) {
		o.verdict = -1;
		return o;
	}
	o.verdict = r.verdict == v_pass ? 1 : r.verdict == v_drop ? 0 : -2;
	if (r.out_len < f->l3 + 28)
		return o;
	ip = r.out + f->l3;
	l4 = ip + (ip[0] & 15) * 4;
	inet_ntop(AF_INET, ip + 12, o.src, sizeof(o.src));
	inet_ntop(AF_INET, ip + 16, o.dst, sizeof(o.dst));
	if (ip[9] == 1) {
		o.sport = o.dport = l4[4] << 8 | l4[5];
	} else {
		o.sport = l4[0] << 8 | l4[1];
		o.dport = l4[2] << 8 | l4[3];
	}
	o.csum = csum_ok(r.out, f->l3, zero_udp);
	return o;
}

/* The same frame three times on this CPU (main pins it): the second
 * fills the flow cache's slot, the third is answered from it. */
static struct out run_cached(struct ctf *f, int out_dir, int zero_udp)
{
	struct out o = run(f, out_dir, zero_udp);

	for (int i = 0; i < 2 && o.verdict == 1; i++)
		o = run(f, out_dir, zero_udp);
	return o;
}

/* UDP with 4 bytes of IP options: keyed by the parser, not before it. */
static struct ctf udp_opts(const char *s, int sp, const char *d, int dp)
{
	struct ctf f;

	ctf_eth(&f, 0, 0);
	ctf_ip4(&f, s, d, CTF_UDP, 4, 0, 0, 0);
	ctf_udp(&f, sp, dp);
	ctf_end(&f);
	return f;
}

static int add(struct nfc *nfc, const char *key, const char *kv)
{
	json_t *fl = json_object();
	char buf[512], *save, *w;
	int e;

	snprintf(buf, sizeof(buf), "%s", kv);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');

		*eq = 0;
		json_object_set_new(fl, w, json_string(eq + 1));
	}
	e = nfc_coll_add(nfc, "nat1", "rules", key, fl);
	json_decref(fl);
	return e;
}

static __u64 counter(int c)
{
	return dpt_percpu_sum(root, "nf/1-nat1/map/nat_cnt", c, 0,
			      sizeof(__u64));
}

static __u64 ct_stat(int c)
{
	return dpt_percpu_sum(root, "nf/1-nat1/map/ct_stats", c, 0,
			      sizeof(__u64));
}

static struct ctf udp(const char *s, int sp, const char *d, int dp)
{
	return ctf_udp_frame((struct ctf_ep){s, sp}, (struct ctf_ep){d, dp});
}

static struct ctf tcp(const char *s, int sp, const char *d, int dp, int fl)
{
	return ctf_tcp_frame((struct ctf_ep){s, sp}, (struct ctf_ep){d, dp},
			     fl);
}

#define IS(o, s, sp, d, dp)                                              \
	((o).verdict == 1 && !strcmp((o).src, s) && (o).sport == (sp) && \
	 !strcmp((o).dst, d) && (o).dport == (dp) && (o).csum)
#define SHOW(o) (o).verdict, (o).src, (o).sport, (o).dst, (o).dport, (o).csum

/* An established flow's frame, answered from the flow cache (run_cached),
 * comes out as s:sp > d:dp with valid checksums. */
static void cached(struct ctf f, int out_dir, const char *s, int sp,
		   const char *d, int dp, const char *what)
{
	struct out o = run_cached(&f, out_dir, 0);

	CHECK(IS(o, s, sp, d, dp),
	      "%s from the flow cache (v%d %s:%d > %s:%d csum %d)", what,
	      SHOW(o));
}

/* A UDP datagram's fragment from s to d, id 77: the first (offset 0,
 * MF, the UDP header sp > dp) or a later one (offset 24 bytes, no L4
 * header). Only the IP checksum is filled for a later one. */
static struct ctf frag(const char *s, int sp, const char *d, int dp, int later)
{
	struct ctf f;
	uint8_t *ip;

	ctf_eth(&f, 0, 0);
	ctf_ip4(&f, s, d, CTF_UDP, 0, later ? 3 : 0, !later, 77);
	if (!later) {
		ctf_udp(&f, sp, dp);
	} else {
		memset(f.b + f.len, 0xab, 16);
		f.len += 16;
	}
	ctf_end(&f);
	if (later) {
		ip = f.b + f.l3;
		ip[10] = ip[11] = 0;
		ctf_put16(ip + 10, fz_fold(fz_sum(ip, 20, 0)));
	}
	return f;
}

/* A later fragment through the NAT: passed, its destination (out_dir 0)
 * or source now `want`, its IP checksum valid. */
static int later_is(struct ctf *f, int out_dir, const char *want)
{
	struct dpt_run r;
	char a[INET_ADDRSTRLEN];
	const uint8_t *ip;

	dpt_set_meta(root, 1, out_dir ? 1 : 0);
	if (dpt_run(root, "nf/1-nat1/prog", f->b, f->len, &r) ||
	    r.verdict != v_pass || r.out_len < f->l3 + 20)
		return 0;
	ip = r.out + f->l3;
	inet_ntop(AF_INET, ip + (out_dir ? 12 : 16), a, sizeof(a));
	return !strcmp(a, want) && fz_fold(fz_sum(ip, 20, 0)) == 0;
}

/* A port forward's handshake: the client 203.0.113.77:cport's SYN to
 * 203.0.113.20:dport goes to inside:80, and the SYN-ACK goes out from the
 * port the client sent to. */
static void dnat_handshake(int cport, int dport, const char *inside)
{
	struct ctf f = tcp("203.0.113.77", cport, "203.0.113.20", dport, 0x02);
	struct out o = run(&f, 0, 0);

	CHECK(IS(o, "203.0.113.77", cport, inside, 80),
	      "DNAT: SYN to :%d in goes to %s:80 (v%d %s:%d > %s:%d csum %d)",
	      dport, inside, SHOW(o));
	f = tcp(inside, 80, "203.0.113.77", cport, 0x12);
	o = run(&f, 1, 0);
	CHECK(IS(o, "203.0.113.20", dport, "203.0.113.77", cport),
	      "DNAT: the SYN-ACK out comes from 203.0.113.20:%d (v%d %s:%d > "
	      "%s:%d csum %d)",
	      dport, SHOW(o));
}

static void snat(struct nfc *nfc)
{
	struct ctf f;
	struct out o;
	int p2;

	CHECK(!add(nfc, "10",
		   "type=snat src=198.51.100.0/24 to=203.0.113.20") &&
		      !add(nfc, "20",
			   "type=dnat proto=tcp dport=8080 "
			   "to=198.51.100.10:80"),
	      "rules added: %s", nfc_errmsg(nfc));
	CHECK(add(nfc, "30", "type=masquerade") &&
		      strstr(nfc_errmsg(nfc), "without an IPv4 address"),
	      "masquerade on a target without an address refused: %s",
	      nfc_errmsg(nfc));

	f = udp("198.51.100.2", 40000, "203.0.113.9", 53);
	o = run(&f, 1, 0);
	CHECK(IS(o, "203.0.113.20", 40000, "203.0.113.9", 53),
	      "UDP out: source 203.0.113.20, port 40000 kept, checksums "
	      "valid (v%d %s:%d > %s:%d csum %d)",
	      SHOW(o));
	f = udp("203.0.113.9", 53, "203.0.113.20", 40000);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.9", 53, "198.51.100.2", 40000),
	      "UDP reply in: back to 198.51.100.2:40000, checksums valid "
	      "(v%d %s:%d > %s:%d csum %d)",
	      SHOW(o));
	cached(f, 0, "203.0.113.9", 53, "198.51.100.2", 40000, "UDP reply in");
	/* Found by a helper against Linux: a reply's later fragments were
	 * passed untranslated (the first one was filed under the inside
	 * address, they were looked up by the outside one). */
	f = frag("203.0.113.9", 53, "203.0.113.20", 40000, 0);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.9", 53, "198.51.100.2", 40000),
	      "a reply's first fragment: back to 198.51.100.2:40000 (v%d "
	      "%s:%d > %s:%d csum %d)",
	      SHOW(o));
	f = frag("203.0.113.9", 53, "203.0.113.20", 40000, 1);
	CHECK(later_is(&f, 0, "198.51.100.2"),
	      "... its later fragment: to 198.51.100.2 too, IP checksum "
	      "valid");
	f = frag("198.51.100.2", 40000, "203.0.113.9", 53, 0);
	o = run(&f, 1, 0);
	CHECK(IS(o, "203.0.113.20", 40000, "203.0.113.9", 53),
	      "an outgoing first fragment: from 203.0.113.20:40000 (v%d "
	      "%s:%d > %s:%d csum %d)",
	      SHOW(o));
	f = frag("198.51.100.2", 40000, "203.0.113.9", 53, 1);
	CHECK(later_is(&f, 1, "203.0.113.20"),
	      "... its later fragment: from 203.0.113.20 too");
	/* Found by a helper: a later fragment that came before its first
	 * (a router cut the larger ones again in its slow path) left with
	 * the inside address, and its miss was counted twice. */
	{
		__u64 miss = ct_stat(NFCT_ST_FRAG_MISS),
		      passed = counter(NAT_C_PASSED);

		f = frag("198.51.100.4", 40000, "203.0.113.9", 53, 1);
		o = run(&f, 1, 0);
		CHECK(o.verdict == 0,
		      "a later fragment before its first, from a host a rule "
		      "translates: dropped (verdict %d), not sent as "
		      "198.51.100.4",
		      o.verdict);
		CHECK(ct_stat(NFCT_ST_FRAG_MISS) == miss + 1,
		      "... counted once as conntrack_frag_miss (%llu -> %llu)",
		      (unsigned long long)miss,
		      (unsigned long long)ct_stat(NFCT_ST_FRAG_MISS));
		f = frag("203.0.113.70", 40000, "203.0.113.9", 53, 1);
		CHECK(later_is(&f, 1, "203.0.113.70") &&
			      counter(NAT_C_PASSED) == passed + 1,
		      "... from a host no rule translates: passed as it is");
	}
	cached(udp("198.51.100.2", 40000, "203.0.113.9", 53), 1, "203.0.113.20",
	       40000, "203.0.113.9", 53, "UDP out");
	cached(udp_opts("198.51.100.2", 40000, "203.0.113.9", 53), 1,
	       "203.0.113.20", 40000, "203.0.113.9", 53,
	       "UDP out with IP options");
	f = udp("198.51.100.3", 40000, "203.0.113.9", 53);
	o = run(&f, 1, 0);
	p2 = o.sport;
	CHECK(o.verdict == 1 && !strcmp(o.src, "203.0.113.20") && p2 != 40000 &&
		      p2 >= 1024 && o.csum,
	      "a second host, same port: another port in 1024-65535 (%d), "
	      "checksums valid",
	      p2);
	f = udp("203.0.113.9", 53, "203.0.113.20", p2);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.9", 53, "198.51.100.3", 40000),
	      "its reply goes to 198.51.100.3:40000 (v%d %s:%d > %s:%d "
	      "csum %d)",
	      SHOW(o));
	f = udp("198.51.100.4", 41000, "203.0.113.9", 53);
	o = run(&f, 1, 1);
	CHECK(o.verdict == 1 && !strcmp(o.src, "203.0.113.20") && o.csum,
	      "a UDP checksum of 0 stays 0 (v%d %s csum %d)", o.verdict, o.src,
	      o.csum);
	o = run_cached(&f, 1, 1);
	CHECK(o.verdict == 1 && !strcmp(o.src, "203.0.113.20") && o.csum,
	      "a UDP checksum of 0 stays 0 from the flow cache (v%d %s csum "
	      "%d)",
	      o.verdict, o.src, o.csum);

	/* Found by a helper (an lb's backend answering a client through
	 * the same port): a reply of an inbound connection no rule
	 * translated was taken for a new outbound one, and rule 10 gave it
	 * the NAT's address; the client dropped it. */
	f = udp("203.0.113.9", 5555, "198.51.100.7", 5000);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.9", 5555, "198.51.100.7", 5000),
	      "UDP in that no rule translates: passed as it is (v%d %s:%d > "
	      "%s:%d csum %d)",
	      SHOW(o));
	f = udp("198.51.100.7", 5000, "203.0.113.9", 5555);
	o = run(&f, 1, 0);
	CHECK(IS(o, "198.51.100.7", 5000, "203.0.113.9", 5555),
	      "... its reply out: not translated by rule 10 (v%d %s:%d > %s:%d "
	      "csum %d)",
	      SHOW(o));
	cached(f, 1, "198.51.100.7", 5000, "203.0.113.9", 5555,
	       "... its reply out, again");

	f = tcp("198.51.100.2", 45000, "203.0.113.9", 443, 0x02);
	o = run(&f, 1, 0);
	CHECK(IS(o, "203.0.113.20", 45000, "203.0.113.9", 443),
	      "TCP SYN out translated (v%d %s:%d > %s:%d csum %d)", SHOW(o));
	f = tcp("203.0.113.9", 443, "203.0.113.20", 45000, 0x12);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.9", 443, "198.51.100.2", 45000),
	      "TCP SYN-ACK in translated back (v%d %s:%d > %s:%d csum %d)",
	      SHOW(o));
	f = tcp("198.51.100.2", 45000, "203.0.113.9", 443, 0x10);
	o = run(&f, 1, 0);
	CHECK(IS(o, "203.0.113.20", 45000, "203.0.113.9", 443),
	      "TCP ACK out (established) translated (v%d %s:%d > %s:%d csum "
	      "%d)",
	      SHOW(o));
	cached(f, 1, "203.0.113.20", 45000, "203.0.113.9", 443, "TCP ACK out");
	cached(tcp("203.0.113.9", 443, "203.0.113.20", 45000, 0x10), 0,
	       "203.0.113.9", 443, "198.51.100.2", 45000, "TCP ACK in");
	/* A connection the NAT has no entry for (flushed, expired, lost in
	 * a reboot), met at an ACK: picked up and translated, its port kept
	 * (it went out untranslated, found by a helper); its replies come
	 * back. */
	f = tcp("198.51.100.2", 45001, "203.0.113.9", 443, 0x18);
	o = run(&f, 1, 0);
	CHECK(IS(o, "203.0.113.20", 45001, "203.0.113.9", 443),
	      "a TCP ACK out of a connection with no entry: picked up and "
	      "translated (v%d %s:%d > %s:%d csum %d)",
	      SHOW(o));
	f = tcp("203.0.113.9", 443, "203.0.113.20", 45001, 0x10);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.9", 443, "198.51.100.2", 45001),
	      "... its reply translated back (v%d %s:%d > %s:%d csum %d)",
	      SHOW(o));

	f = ctf_icmp_frame("198.51.100.2", "203.0.113.9", 8, 0, 777);
	o = run(&f, 1, 0);
	CHECK(IS(o, "203.0.113.20", 777, "203.0.113.9", 777),
	      "ICMP echo out: id 777 kept, checksum valid (v%d %s:%d > %s:%d "
	      "csum %d)",
	      SHOW(o));
	cached(f, 1, "203.0.113.20", 777, "203.0.113.9", 777, "ICMP echo out");
	f = ctf_icmp_frame("198.51.100.5", "203.0.113.9", 8, 0, 777);
	o = run(&f, 1, 0);
	p2 = o.sport;
	CHECK(o.verdict == 1 && p2 != 777 && o.csum,
	      "ICMP echo of another host, same id: another id (%d)", p2);
	f = ctf_icmp_frame("203.0.113.9", "203.0.113.20", 0, 0, p2);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.9", 777, "198.51.100.5", 777),
	      "its echo reply back to 198.51.100.5 id 777 (v%d %s:%d > %s:%d "
	      "csum %d)",
	      SHOW(o));
	cached(f, 0, "203.0.113.9", 777, "198.51.100.5", 777,
	       "its echo reply (id rewritten)");

	dnat_handshake(5555, 8080, "198.51.100.10");
	cached(tcp("203.0.113.77", 5555, "203.0.113.20", 8080, 0x10), 0,
	       "203.0.113.77", 5555, "198.51.100.10", 80, "DNAT: ACKs in");
	cached(tcp("198.51.100.10", 80, "203.0.113.77", 5555, 0x10), 1,
	       "203.0.113.20", 8080, "203.0.113.77", 5555, "DNAT: ACKs out");
	/* Found by a helper against nftables: an inside host opening a
	 * connection from the forwarded port to the forward's client kept
	 * its port, took the client's tuple, and the client's packets went
	 * to it. Another port, as Linux (nf_nat_used_tuple). */
	f = tcp("198.51.100.6", 8080, "203.0.113.77", 5555, 0x02);
	o = run(&f, 1, 0);
	CHECK(o.verdict == 1 && !strcmp(o.src, "203.0.113.20") &&
		      o.sport != 8080 && o.csum,
	      "an inside SYN from :8080 to the DNAT client: another port "
	      "than the forward's (%s:%d)",
	      o.src, o.sport);
	f = tcp("203.0.113.77", 5555, "203.0.113.20", 8080, 0x10);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.77", 5555, "198.51.100.10", 80),
	      "... the client's ACK still goes to 198.51.100.10:80 (v%d "
	      "%s:%d > %s:%d csum %d)",
	      SHOW(o));
	f = tcp("203.0.113.77", 5556, "203.0.113.20", 8081, 0x02);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.77", 5556, "203.0.113.20", 8081),
	      "no rule: passed untouched (v%d %s:%d > %s:%d csum %d)", SHOW(o));

	{
		struct ctf g =
			ctf_udp_frame((struct ctf_ep){"2001:db8::2", 4000},
				      (struct ctf_ep){"2001:db8::9", 53});
		struct dpt_run r;

		dpt_set_meta(root, 1, 1);
		CHECK(!dpt_run(root, "nf/1-nat1/prog", g.b, g.len, &r) &&
			      r.verdict == v_pass && r.out_len == g.len &&
			      !memcmp(r.out, g.b, g.len),
		      "IPv6 passes untouched");
	}
	{
		json_t *l = NULL;

		CHECK(!nfc_coll_list(nfc, "nat1", "mappings", &l) &&
			      json_array_size(l) == 9,
		      "mappings show: 9 (%zu)", json_array_size(l));
		json_decref(l);
	}
	/* A dport range to one port, as nftables' "dnat to A:P" (found by
	 * a helper: refused, "needs one dport=, not a range"). */
	CHECK(!add(nfc, "25",
		   "type=dnat proto=tcp dport=9000-9010 to=198.51.100.11:80"),
	      "a dnat of a dport range to one port is taken: %s",
	      nfc_errmsg(nfc));
	dnat_handshake(5557, 9005, "198.51.100.11");
	CHECK(add(nfc, "26", "type=dnat proto=icmp to=198.51.100.11:80") &&
		      strstr(nfc_errmsg(nfc), "needs proto=tcp or udp"),
	      "a dnat to a port with proto=icmp: refused naming why: %s",
	      nfc_errmsg(nfc));
}

/* The flush takes the mappings of the connections it flushed
 * (map_prune), and a flow goes on after it. Last: it forgets what the
 * tests before made. */
static void flush(struct nfc *nfc)
{
	json_t *l = NULL;
	struct ctf f;
	struct out o;

	CHECK(!nfc_coll_del(nfc, "nat1", "mappings", "all"),
	      "mappings del all: %s", nfc_errmsg(nfc));
	CHECK(!nfc_coll_list(nfc, "nat1", "mappings", &l) &&
		      json_array_size(l) == 0,
	      "... none left (%zu)", json_array_size(l));
	json_decref(l);
	f = udp("198.51.100.2", 40000, "203.0.113.9", 53);
	o = run(&f, 1, 0);
	CHECK(o.verdict == 1 && !strcmp(o.src, "203.0.113.20") && o.csum,
	      "... a flow's next packet: translated again (v%d %s:%d)",
	      o.verdict, o.src, o.sport);
	f = udp("203.0.113.9", 53, "203.0.113.20", o.sport);
	o = run(&f, 0, 0);
	CHECK(IS(o, "203.0.113.9", 53, "198.51.100.2", 40000),
	      "... and its reply back (v%d %s:%d > %s:%d csum %d)", SHOW(o));
}

/* An ICMP error through nat1: what came out, the outer header and the
 * quoted one (its L4 ports or echo id), every checksum checked. */
struct qout {
	int verdict, csum, qcsum;
	char src[16], dst[16], qsrc[16], qdst[16];
	int qsport, qdport;
	uint8_t type, code;
	uint16_t mtu;
};

static struct qout run_err(const char *from, const char *to, int type, int code,
			   struct ctf *quoted, int zero_udp, uint32_t qlen,
			   int out_dir)
{
	struct qout o = {0};
	struct ctf f;
	struct dpt_run r;
	const uint8_t *ip, *l4, *q, *ql4;
	size_t tot, ql;

	csum_fill(quoted, zero_udp);
	f = ctf_icmp_err(from, to, type, code, quoted, qlen);
	if (type == 3 && code == 4)
		ctf_put16(f.b + f.l3 + 20 + 6, 1400); /* the next-hop MTU */
	csum_fill(&f, 0);
	dpt_set_meta(root, 1, out_dir ? 1 : 0);
	if (dpt_run(root, "nf/1-nat1/prog", f.b, f.len, &r)) {
		o.verdict = -1;
		return o;
	}
	o.verdict = r.verdict == v_pass ? 1 : r.verdict == v_drop ? 0 : -2;
	if (r.out_len < f.l3 + 56)
		return o;
	ip = r.out + f.l3;
	l4 = ip + 20;
	q = l4 + 8;
	ql4 = q + (q[0] & 15) * 4;
	inet_ntop(AF_INET, ip + 12, o.src, sizeof(o.src));
	inet_ntop(AF_INET, ip + 16, o.dst, sizeof(o.dst));
	inet_ntop(AF_INET, q + 12, o.qsrc, sizeof(o.qsrc));
	inet_ntop(AF_INET, q + 16, o.qdst, sizeof(o.qdst));
	o.type = l4[0];
	o.code = l4[1];
	o.mtu = l4[6] << 8 | l4[7];
	if (q[9] == 1) {
		o.qsport = o.qdport = ql4[4] << 8 | ql4[5];
	} else {
		o.qsport = ql4[0] << 8 | ql4[1];
		o.qdport = ql4[2] << 8 | ql4[3];
	}
	/* The outer IP and ICMP checksums over what the IP length says. */
	o.csum = csum_ok(r.out, f.l3, 0);
	/* The quote: its IP checksum always; its L4 checksum when it is
	 * all there (a cut quote's L4 checksum cannot be checked). */
	tot = ip[2] << 8 | ip[3];
	ql = tot - 28;
	if (fz_fold(fz_sum(q, (q[0] & 15) * 4, 0)))
		o.qcsum = 0;
	else if (ql < (size_t)(q[2] << 8 | q[3]))
		o.qcsum = 1;
	else
		o.qcsum = csum_ok(r.out, f.l3 + 28, zero_udp);
	return o;
}

#define QIS(o, s, d, qs, qsp, qd, qdp)                                     \
	((o).verdict == 1 && !strcmp((o).src, s) && !strcmp((o).dst, d) && \
	 !strcmp((o).qsrc, qs) && (o).qsport == (qsp) &&                   \
	 !strcmp((o).qdst, qd) && (o).qdport == (qdp) && (o).csum &&       \
	 (o).qcsum)
#define QSHOW(o)                                                       \
	(o).verdict, (o).src, (o).dst, (o).qsrc, (o).qsport, (o).qdst, \
		(o).qdport, (o).csum, (o).qcsum

/* After snat(): its connections are there. */
static void icmp_errors(void)
{
	__u64 before = counter(NAT_C_ICMP_ERR);
	struct ctf q;
	struct qout o;

	q = udp("203.0.113.20", 40000, "203.0.113.9", 53);
	o = run_err("203.0.113.1", "203.0.113.20", 11, 0, &q, 0, 0, 0);
	CHECK(QIS(o, "203.0.113.1", "198.51.100.2", "198.51.100.2", 40000,
		  "203.0.113.9", 53),
	      "time exceeded in about an SNAT'd UDP packet: outer dst and "
	      "quoted source back to 198.51.100.2:40000, all checksums "
	      "valid (v%d %s > %s quoting %s:%d > %s:%d csum %d/%d)",
	      QSHOW(o));

	q = tcp("203.0.113.20", 45000, "203.0.113.9", 443, 0x10);
	o = run_err("203.0.113.1", "203.0.113.20", 3, 4, &q, 0, 28, 0);
	CHECK(QIS(o, "203.0.113.1", "198.51.100.2", "198.51.100.2", 45000,
		  "203.0.113.9", 443) &&
		      o.type == 3 && o.code == 4 && o.mtu == 1400,
	      "frag needed in, quote cut after 8 TCP bytes: translated, "
	      "MTU 1400 kept (v%d %s > %s quoting %s:%d > %s:%d csum %d/%d "
	      "mtu %u)",
	      QSHOW(o), o.mtu);

	q = ctf_icmp_frame("203.0.113.20", "203.0.113.9", 8, 0, 777);
	o = run_err("203.0.113.1", "203.0.113.20", 11, 0, &q, 0, 0, 0);
	CHECK(QIS(o, "203.0.113.1", "198.51.100.2", "198.51.100.2", 777,
		  "203.0.113.9", 777),
	      "time exceeded in about an echo: back to 198.51.100.2 id 777 "
	      "(v%d %s > %s quoting %s:%d > %s:%d csum %d/%d)",
	      QSHOW(o));

	q = udp("203.0.113.20", 41000, "203.0.113.9", 53);
	o = run_err("203.0.113.1", "203.0.113.20", 3, 3, &q, 1, 0, 0);
	CHECK(QIS(o, "203.0.113.1", "198.51.100.4", "198.51.100.4", 41000,
		  "203.0.113.9", 53),
	      "a quoted UDP checksum of 0 stays 0 (v%d %s > %s quoting "
	      "%s:%d > %s:%d csum %d/%d)",
	      QSHOW(o));

	q = udp("203.0.113.9", 53, "198.51.100.2", 40000);
	o = run_err("198.51.100.2", "203.0.113.9", 3, 3, &q, 0, 0, 1);
	CHECK(QIS(o, "203.0.113.20", "203.0.113.9", "203.0.113.9", 53,
		  "203.0.113.20", 40000),
	      "port unreachable out from the inside host about a reply: "
	      "outer source and quoted destination 203.0.113.20:40000 "
	      "(v%d %s > %s quoting %s:%d > %s:%d csum %d/%d)",
	      QSHOW(o));

	q = tcp("203.0.113.20", 8080, "203.0.113.77", 5555, 0x12);
	o = run_err("203.0.113.1", "203.0.113.20", 3, 1, &q, 0, 0, 0);
	CHECK(QIS(o, "203.0.113.1", "198.51.100.10", "198.51.100.10", 80,
		  "203.0.113.77", 5555),
	      "host unreachable in about a DNAT'd server's reply: to "
	      "198.51.100.10:80 (v%d %s > %s quoting %s:%d > %s:%d csum "
	      "%d/%d)",
	      QSHOW(o));

	q = tcp("203.0.113.77", 5555, "198.51.100.10", 80, 0x02);
	o = run_err("198.51.100.10", "203.0.113.77", 3, 13, &q, 0, 0, 1);
	CHECK(QIS(o, "203.0.113.20", "203.0.113.77", "203.0.113.77", 5555,
		  "203.0.113.20", 8080),
	      "an error out from the DNAT'd server about the SYN: from "
	      "203.0.113.20:8080 (v%d %s > %s quoting %s:%d > %s:%d csum "
	      "%d/%d)",
	      QSHOW(o));

	q = udp("203.0.113.20", 39999, "203.0.113.9", 53);
	o = run_err("203.0.113.1", "203.0.113.20", 11, 0, &q, 0, 0, 0);
	CHECK(QIS(o, "203.0.113.1", "203.0.113.20", "203.0.113.20", 39999,
		  "203.0.113.9", 53),
	      "an error about no mapping passes untouched (v%d %s > %s "
	      "quoting %s:%d > %s:%d csum %d/%d)",
	      QSHOW(o));
	CHECK(counter(NAT_C_ICMP_ERR) == before + 7,
	      "icmp_errors_translated counted 7 (%llu)",
	      (unsigned long long)(counter(NAT_C_ICMP_ERR) - before));
}

static void exhaustion(struct nfc *nfc)
{
	json_t *cfg = json_pack("{s:s}", "ports", "2000-2001");
	struct ctf f;
	struct out o[3];
	__u64 before = counter(NAT_C_EXHAUSTED);

	CHECK(!nfc_nf_set(nfc, "nat1", cfg), "ports=2000-2001: %s",
	      nfc_errmsg(nfc));
	json_decref(cfg);
	for (int i = 0; i < 3; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.51.100.%d", 100 + i);
		f = udp(a, 30000, "203.0.113.50", 123);
		o[i] = run(&f, 1, 0);
	}
	CHECK(o[0].verdict == 1 && o[1].verdict == 1 &&
		      o[0].sport != o[1].sport && o[0].sport >= 2000 &&
		      o[0].sport <= 2001 && o[1].sport >= 2000 &&
		      o[1].sport <= 2001,
	      "two flows get ports 2000 and 2001 (%d, %d)", o[0].sport,
	      o[1].sport);
	CHECK(o[2].verdict == 0, "the third is refused (dropped: %d)",
	      o[2].verdict);
	CHECK(counter(NAT_C_EXHAUSTED) == before + 1,
	      "exhaustion counted (%llu)",
	      (unsigned long long)(counter(NAT_C_EXHAUSTED) - before));

	/* A SYN takes the port of a connection in TIME_WAIT, as Linux
	 * lets it (found by a helper: 10 of 40 quick connections). */
	struct out t[3];
	static const char *const in[3] = {"198.51.100.110", "198.51.100.111",
					  "198.51.100.112"};

	for (int i = 0; i < 3; i++) {
		f = tcp(in[i], 31000, "203.0.113.51", 443, 0x02);
		t[i] = run(&f, 1, 0);
	}
	CHECK(t[0].verdict == 1 && t[1].verdict == 1 && t[2].verdict == 0,
	      "TCP: two connections get the two ports, a third SYN is "
	      "refused (%d %d %d)",
	      t[0].verdict, t[1].verdict, t[2].verdict);
	f = tcp("203.0.113.51", 443, "203.0.113.20", t[0].sport, 0x12);
	o[0] = run(&f, 0, 0);
	f = tcp(in[0], 31000, "203.0.113.51", 443, 0x10);
	o[1] = run(&f, 1, 0);
	f = tcp(in[0], 31000, "203.0.113.51", 443, 0x11);
	o[2] = run(&f, 1, 0);
	f = tcp("203.0.113.51", 443, "203.0.113.20", t[0].sport, 0x11);
	run(&f, 0, 0);
	f = tcp(in[0], 31000, "203.0.113.51", 443, 0x10);
	run(&f, 1, 0);
	CHECK(o[0].verdict == 1 && o[1].verdict == 1 && o[2].verdict == 1,
	      "... the first one opened and closed both ways (%d %d %d)",
	      o[0].verdict, o[1].verdict, o[2].verdict);
	f = tcp(in[2], 31000, "203.0.113.51", 443, 0x02);
	o[0] = run(&f, 1, 0);
	CHECK(o[0].verdict == 1 && o[0].sport == t[0].sport,
	      "... the third's SYN then takes its port in TIME_WAIT (v%d "
	      "port %d, was %d)",
	      o[0].verdict, o[0].sport, t[0].sport);
	f = tcp("203.0.113.51", 443, "203.0.113.20", t[0].sport, 0x12);
	o[1] = run(&f, 0, 0);
	CHECK(IS(o[1], "203.0.113.51", 443, in[2], 31000),
	      "... and its SYN-ACK reaches it (v%d %s:%d > %s:%d csum %d)",
	      SHOW(o[1]));
}

/* More mappings than NFC_LIST_WHOLE are listed a page at a time (the
 * REST GET streams them): every one once. Built whole, a listing of
 * 60,000 entries held the daemon for seconds and ~65 MB (a helper). */
static void map_pages(struct nfc *nfc)
{
	json_t *cfg = json_pack("{s:s}", "ports", "10000-30000"), *all = NULL;
	struct dpt_pages pg;
	int ok, lr;
	struct ctf f;

	ok = !nfc_nf_set(nfc, "nat1", cfg);
	json_decref(cfg);
	for (int sp = 0; ok && sp < NFC_LIST_WHOLE + 1000; sp++) {
		f = udp("198.51.100.2", 20000 + sp, "203.0.113.9", 53);
		ok &= run(&f, 1, 0).verdict == 1;
	}
	CHECK(ok && !nfc_coll_list(nfc, "nat1", "mappings", &all) &&
		      json_array_size(all) >= NFC_LIST_WHOLE + 1000,
	      "%d UDP flows out translated: %zu mappings%s%s",
	      NFC_LIST_WHOLE + 1000, json_array_size(all), ok ? "" : ": ",
	      ok ? "" : nfc_errmsg(nfc));
	lr = dpt_list_pages(nfc, "nat1", "mappings", &pg);
	CHECK(!lr && pg.pages >= 5 && !pg.dup && pg.n == json_array_size(all),
	      "mappings listed in %zu pages: %zu of %zu, %zu twice%s%s",
	      pg.pages, pg.n, json_array_size(all), pg.dup, lr ? ": " : "",
	      lr ? nfc_errmsg(nfc) : "");
	json_decref(all);
	CHECK(!nfc_coll_del(nfc, "nat1", "mappings", "all"),
	      "mappings del all: %s", nfc_errmsg(nfc));
}

static void one_mode(struct nfc *nfc, const char *mode, int pass, int drop)
{
	int e;

	test_group = mode;
	v_pass = pass;
	v_drop = drop;
	e = nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "nat", "nat1", mode, NULL) ||
	    nfc_attach(nfc, "nat1", "f1:p2", "both", NULL);
	if (e) {
		CHECK(0, "set up f1 and nat1 on f1:p2: %s", nfc_errmsg(nfc));
		return;
	}
	snat(nfc);
	icmp_errors();
	exhaustion(nfc);
	flush(nfc);
	map_pages(nfc);
	CHECK(!nfc_reset(nfc), "reset");
}

static void all_tests(struct nfc *nfc)
{
	one_mode(nfc, "xdp", XDP_REDIRECT_, XDP_DROP_);
	one_mode(nfc, "tc", TC_REDIRECT, TC_SHOT);
}

int main(void)
{
	dpt_main(root, sizeof(root), "natdp", "ntd", dev, peer, all_tests);
	TEST_EXIT();
}
