// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The firewall's data plane on crafted frames (BPF_PROG_TEST_RUN), in XDP
 * and in TC: attached both ways on a forwarder's port, it passes or drops
 * by the issue's rules; random and ClassBench-like sets of up to 10,000
 * rules, loaded through the runtime, decide every packet as a first-match
 * walk of the same rules does; bad rules are refused and change nothing;
 * hits are counted per rule and survive a replace; with conntrack on, the
 * reply of an accepted connection is established and an unsolicited SYN
 * from outside is not.
 *
 * f1 (NF 0): p1 on veth dev[0], p2 on dev[1]; fw1 (NF 1) attached on f1:p2:
 * its port 0 sees what enters f1 from dev[1] (dir=in), port 1 what f1
 * sends out of p2 (dir=out).
 */
#include <sched.h>
#include <time.h>
#include <net/if.h>

#include "fw_test.h"
#include "nfchain/nfchain.h"
#include "nfchain/nf.h"
#include "dptest.h"
#include "ct_common.h"

enum { XDP_REDIRECT_ = 4, TC_REDIRECT = 7, XDP_DROP_ = 1, TC_SHOT = 2 };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static int v_pass, v_drop;

static int run(const struct ft_pkt *p)
{
	struct dpt_run r;
	__u8 f[200];
	int len = ft_frame(p, f);

	dpt_set_meta(root, 1, p->dir == FW_DIR_IN ? 0 : 1);
	if (dpt_run(root, "nf/1-fw1/prog", f, len, &r))
		return -1;
	return r.verdict == v_pass ? 1 : r.verdict == v_drop ? 0 : -2;
}

/* run(), with the IPv4 header's total length made `tot` */
static int run_tot(const struct ft_pkt *p, int tot)
{
	struct dpt_run r;
	__u8 f[200];
	int len = ft_frame(p, f);

	f[16] = tot >> 8;
	f[17] = tot & 0xff;
	dpt_set_meta(root, 1, p->dir == FW_DIR_IN ? 0 : 1);
	if (dpt_run(root, "nf/1-fw1/prog", f, len, &r))
		return -1;
	return r.verdict == v_pass ? 1 : r.verdict == v_drop ? 0 : -2;
}

static void addr4(__u8 *a, const char *s)
{
	memset(a, 0, 16);
	inet_pton(AF_INET, s, a);
}

static struct ft_pkt pk4(int dir, const char *src, const char *dst, int proto,
			 int sport, int dport)
{
	struct ft_pkt p = {
		.dir = dir, .proto = proto, .sport = sport, .dport = dport};

	addr4(p.src, src);
	addr4(p.dst, dst);
	return p;
}

static int add(struct nfc *nfc, const char *key, const char *kv)
{
	json_t *f = json_object();
	char buf[512], *save, *w;
	int e;

	snprintf(buf, sizeof(buf), "%s", kv);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');

		*eq = 0;
		json_object_set_new(f, w, json_string(eq + 1));
	}
	e = nfc_coll_add(nfc, "fw1", "rules", key, f);
	json_decref(f);
	return e;
}

static json_t *rule_of(struct nfc *nfc, const char *num)
{
	json_t *l = NULL, *e, *found = NULL;
	size_t i;

	if (nfc_coll_list(nfc, "fw1", "rules", &l))
		return NULL;
	json_array_foreach (l, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "rule")), num))
			found = json_incref(e);
	json_decref(l);
	return found;
}

static size_t nrules(struct nfc *nfc)
{
	json_t *l = NULL;
	size_t n;

	if (nfc_coll_list(nfc, "fw1", "rules", &l))
		return (size_t)-1;
	n = json_array_size(l);
	json_decref(l);
	return n;
}

/* stats.packets.<name> of fw1 */
static long long pkt_stat(struct nfc *nfc, const char *name)
{
	json_t *nf = nfc_show_nf(nfc, "fw1");
	long long v = json_integer_value(json_object_get(
		json_object_get(json_object_get(nf, "stats"), "packets"),
		name));

	json_decref(nf);
	return v;
}

static void issue_rules(struct nfc *nfc)
{
	long long nop;
	struct ft_pkt p;
	json_t *r;
	size_t n;
	int e;

	e = add(nfc, "20", "action=accept dir=out proto=tcp dport=80,443") ||
	    add(nfc, "30",
		"action=drop dir=in src=203.0.113.0/25 proto=udp "
		"dport=1000-2000") ||
	    add(nfc, "40", "action=accept dir=in proto=udp") ||
	    add(nfc, "50", "action=accept src=2001:db8::/32 proto=icmpv6");
	CHECK(!e, "the issue's rules added%s%s", e ? ": " : "",
	      e ? nfc_errmsg(nfc) : "");
	p = pk4(FW_DIR_OUT, "198.51.100.2", "203.0.113.9", 6, 40000, 443);
	CHECK(run(&p) == 1, "out tcp dport 443: accepted (rule 20)");
	p.dport = 8080;
	CHECK(run(&p) == 0, "out tcp dport 8080: default drop");
	p = pk4(FW_DIR_IN, "198.51.100.2", "203.0.113.9", 6, 40000, 443);
	CHECK(run(&p) == 0, "in tcp dport 443: default drop (rule 20 is out)");
	p = pk4(FW_DIR_IN, "203.0.113.100", "198.51.100.2", 17, 53, 1500);
	CHECK(run(&p) == 0, "in udp from 203.0.113.100 dport 1500: dropped "
			    "(rule 30)");
	p.dport = 2001;
	CHECK(run(&p) == 1, "... dport 2001: accepted (rule 40)");
	p = pk4(FW_DIR_IN, "203.0.113.200", "198.51.100.2", 17, 53, 1500);
	CHECK(run(&p) == 1, "from 203.0.113.200 (outside /25): accepted");
	p.frag = 1;
	nop = pkt_stat(nfc, "ports_unreadable");
	CHECK(run(&p) == 1, "a later fragment (no ports, conntrack off): not "
			    "matched by rule 30, accepted by rule 40");
	CHECK(pkt_stat(nfc, "ports_unreadable") == nop + 1,
	      "... counted in ports_unreadable (%lld -> %lld)", nop,
	      pkt_stat(nfc, "ports_unreadable"));
	/* The flow rule 40 accepts, with an IPv4 total length short of its
	 * own header: malformed, never matched. */
	p.frag = 0;
	nop = pkt_stat(nfc, "malformed");
	CHECK(run_tot(&p, 19) == 0 && pkt_stat(nfc, "malformed") == nop + 1,
	      "total length 19 (< the 20-byte header): dropped as malformed "
	      "(%lld -> %lld), not accepted by rule 40",
	      nop, pkt_stat(nfc, "malformed"));
	if (!strcmp(test_group, "tc"))
		CHECK(run_tot(&p, 0) == 1, "total length 0 (IPv4 BIG TCP in "
					   "TC): accepted by rule 40");
	else
		CHECK(run_tot(&p, 0) == 0,
		      "total length 0 in XDP (no BIG TCP there): malformed");
	p = pk4(FW_DIR_IN, "203.0.113.1", "198.51.100.2", 1, -1, -1);
	CHECK(run(&p) == 0, "in icmp: default drop");
	memset(&p, 0, sizeof(p));
	p.v6 = 1;
	p.proto = 58;
	p.sport = p.dport = -1;
	inet_pton(AF_INET6, "2001:db8::1", p.src);
	inet_pton(AF_INET6, "2001:db8::2", p.dst);
	CHECK(run(&p) == 1, "icmpv6 from 2001:db8::/32: accepted (rule 50)");
	p.ext = 2;
	CHECK(run(&p) == 1, "the same behind two extension headers");
	inet_pton(AF_INET6, "2001:db9::1", p.src);
	CHECK(run(&p) == 0, "icmpv6 from 2001:db9::1: default drop");
	{
		__u8 f[200];
		struct dpt_run rr;
		int len;

		p = pk4(FW_DIR_IN, "203.0.113.1", "198.51.100.2", 17, 1, 2);
		len = ft_frame(&p, f);
		f[12] = 0x08, f[13] = 0x06; /* ARP */
		dpt_set_meta(root, 1, 0);
		dpt_run(root, "nf/1-fw1/prog", f, len, &rr);
		CHECK(rr.verdict == v_pass, "ARP passes a default drop");
	}

	/* Hits. */
	p = pk4(FW_DIR_OUT, "198.51.100.2", "203.0.113.9", 6, 40000, 80);
	run(&p);
	run(&p);
	r = rule_of(nfc, "20");
	CHECK(r && json_integer_value(json_object_get(r, "packets")) == 3 &&
		      json_integer_value(json_object_get(r, "bytes")) == 3 * 58,
	      "rules show: rule 20 has 3 packets, 174 bytes (%lld, %lld)",
	      (long long)json_integer_value(json_object_get(r, "packets")),
	      (long long)json_integer_value(json_object_get(r, "bytes")));
	json_decref(r);

	/* Bad input: refused, nothing changed. */
	n = nrules(nfc);
	CHECK(add(nfc, "20", "action=drop") == -EEXIST &&
		      strstr(nfc_errmsg(nfc), "exists already"),
	      "rule number already used: %s", nfc_errmsg(nfc));
	CHECK(add(nfc, "60", "action=drop bogus=1") &&
		      strstr(nfc_errmsg(nfc), "bogus"),
	      "unknown field: %s", nfc_errmsg(nfc));
	CHECK(add(nfc, "60", "action=drop state=new") &&
		      strstr(nfc_errmsg(nfc), "conntrack=on"),
	      "state= with conntrack off: %s", nfc_errmsg(nfc));
	CHECK(add(nfc, "60", "action=drop src=203.0.113.1/24") &&
		      strstr(nfc_errmsg(nfc), "src="),
	      "host bits: %s", nfc_errmsg(nfc));
	CHECK(add(nfc, "60", "action=drop proto=udp dport=5-1") &&
		      strstr(nfc_errmsg(nfc), "dport="),
	      "reversed range: %s", nfc_errmsg(nfc));
	CHECK(nrules(nfc) == n, "nothing changed: %zu rules", nrules(nfc));
	p = pk4(FW_DIR_OUT, "198.51.100.2", "203.0.113.9", 6, 40000, 80);
	CHECK(run(&p) == 1, "and the set still decides as before");

	CHECK(!nfc_coll_del(nfc, "fw1", "rules", "20") && nrules(nfc) == n - 1,
	      "rule 20 deleted");
	CHECK(run(&p) == 0, "out tcp dport 80: now the default");
	CHECK(nfc_coll_del(nfc, "fw1", "rules", "20") == -ENOENT,
	      "deleting it again: %s", nfc_errmsg(nfc));
}

static json_t *entries_of(const struct fw_rule *rs, __u32 n)
{
	json_t *o = json_object();

	for (__u32 i = 0; i < n; i++) {
		json_t *e = fw_rule_json(&rs[i]);
		char k[16];

		json_object_del(e, "rule");
		snprintf(k, sizeof(k), "%u", rs[i].num);
		json_object_set_new(o, k, e);
	}
	return o;
}

/* A random set through the runtime, npk packets against the walk. */
static void random_set(struct nfc *nfc, __u64 seed, __u32 n, int cb, int npk)
{
	struct fw_rule *rs = calloc(n + 1, sizeof(*rs));
	struct timespec a, b;
	json_t *set;
	int e, bad = 0, matched = 0, maxidx = -1;
	__u64 s = seed;
	double ms;

	for (__u32 i = 0; i < n; i++)
		ft_rule(&s, 10 * (i + 1), cb, &rs[i]);
	set = entries_of(rs, n);
	clock_gettime(CLOCK_MONOTONIC, &a);
	e = nfc_coll_replace(nfc, "fw1", "rules", set);
	clock_gettime(CLOCK_MONOTONIC, &b);
	json_decref(set);
	ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
	if (e) {
		CHECK(0, "replace with %u rules: %s", n, nfc_errmsg(nfc));
		free(rs);
		return;
	}
	for (int i = 0; i < npk; i++) {
		struct ft_pkt p;
		int want, got, wv;

		ft_packet(&s,
			  ft_rand(&s) % 5 && n ? &rs[ft_rand(&s) % n] : NULL,
			  &p);
		p.id = i;
		want = ft_ref(rs, n, &p);
		wv = want < 0 ? 0 : rs[want].action == FW_ACCEPT;
		got = run(&p);
		/* Again: from the verdict cache (conntrack is off here). */
		if (got == wv)
			got = run(&p);
		if (want >= 0)
			matched++;
		if (want > maxidx)
			maxidx = want;
		if (got != wv && bad++ < 3)
			printf("# seed %llu packet %d: rule index %d, verdict "
			       "%d, data plane %d\n",
			       (unsigned long long)seed, i, want, wv, got);
	}
	CHECK(!bad,
	      "%s set of %u rules (replaced in %.0f ms): %d packets, %d by a "
	      "rule (deepest: index %d), verdicts as the walk's (%d differ)",
	      cb ? "ClassBench-like" : "random", n, ms, npk, matched, maxidx,
	      bad);
	{
		/* Information, not a check (a loaded machine): the kernel's
		 * mean time a packet, over packets aimed at rules across the
		 * whole set. */
		__u32 ifx[2] = {if_nametoindex(dev[1]), if_nametoindex(dev[0])};
		int fd[2] = {ft_xdp_prog(ifx[0]), ft_xdp_prog(ifx[1])};
		const char *rep_s = getenv("FW_COST_REPEAT");
		int rep = rep_s ? atoi(rep_s) : 2000;
		__u64 sum[2] = {0, 0};
		int cnt[2] = {0, 0};

		/* The chain as a frame from the netdev meets it: inbound
		 * frames from p2's netdev (fw1 then f1), outbound from
		 * p1's (f1 then fw1). XDP only (tc: no XDP program). */
		for (int i = 0; fd[0] >= 0 && fd[1] >= 0 && i < 64; i++) {
			struct ft_pkt p;
			struct dpt_run r;
			__u8 f[200];
			int len, d;

			ft_packet(&s, n ? &rs[(__u64)i * n / 64] : NULL, &p);
			p.frag = 0;
			len = ft_frame(&p, f);
			d = p.dir == FW_DIR_IN ? 0 : 1;
			if (!dpt_run_fd(fd[d], f, len, ifx[d], rep, 0, &r)) {
				sum[p.v6] += r.ns;
				cnt[p.v6]++;
			}
		}
		for (int d = 0; d < 2; d++)
			if (fd[d] >= 0)
				close(fd[d]);
		if (cnt[0] + cnt[1])
			printf("# cost: %u rules: %.0f ns a packet "
			       "(BPF_PROG_TEST_RUN, "
			       "firewall + forwarder; IPv4 %.0f ns x %d, IPv6 "
			       "%.0f "
			       "ns x %d)\n",
			       n,
			       cnt[0] + cnt[1] ? (double)(sum[0] + sum[1]) /
							 (cnt[0] + cnt[1])
					       : 0.0,
			       cnt[0] ? (double)sum[0] / cnt[0] : 0.0, cnt[0],
			       cnt[1] ? (double)sum[1] / cnt[1] : 0.0, cnt[1]);
	}
	/* The issue's target is 1 s; on this shared, loaded machine only a
	 * generous bound is checked, and the time printed (README). */
	if (n == 10000)
		CHECK(ms < 10000,
		      "10,000 rules applied in under 10 s (%.0f ms)", ms);
	free(rs);
}

static int set_cfg(struct nfc *nfc, const char *k, json_t *v)
{
	json_t *c = json_object();
	int e;

	json_object_set_new(c, k, v);
	e = nfc_nf_set(nfc, "fw1", c);
	json_decref(c);
	return e;
}

static long long rule_packets(struct nfc *nfc, const char *num)
{
	json_t *r = rule_of(nfc, num);
	long long n =
		r ? json_integer_value(json_object_get(r, "packets")) : -1;

	json_decref(r);
	return n;
}

/* The stateless verdict cache (conntrack=off): a flow's second packet is
 * answered from its slot; whatever would change its verdict (a rule added
 * or deleted, the other direction, `set default=`, no ports) must miss. */
static void verdict_cache(struct nfc *nfc)
{
	json_t *none = json_object();
	struct ft_pkt p, q;
	int e, a, b, c;

	e = nfc_coll_replace(nfc, "fw1", "rules", none) ||
	    add(nfc, "10", "action=accept proto=udp dport=53");
	json_decref(none);
	CHECK(!e, "verdict cache: rule 10 alone%s%s", e ? ": " : "",
	      e ? nfc_errmsg(nfc) : "");
	p = pk4(FW_DIR_IN, "203.0.113.7", "198.51.100.2", 17, 5353, 53);
	a = run(&p), b = run(&p), c = run(&p);
	CHECK(a == 1 && b == 1 && c == 1 && rule_packets(nfc, "10") == 3,
	      "a flow's three packets accepted, the cached two counted on "
	      "rule 10 too (%d %d %d, %lld packets)",
	      a, b, c, rule_packets(nfc, "10"));
	CHECK(!add(nfc, "5", "action=drop proto=udp dport=53") &&
		      run(&p) == 0 && run(&p) == 0 &&
		      rule_packets(nfc, "5") == 2,
	      "rule 5 added: the cached flow dropped at once (%lld on rule 5)",
	      rule_packets(nfc, "5"));
	CHECK(!nfc_coll_del(nfc, "fw1", "rules", "5") && run(&p) == 1,
	      "rule 5 deleted: accepted again");
	CHECK(!add(nfc, "7", "action=drop dir=out proto=udp"),
	      "rule 7 (out only) added");
	q = p;
	q.dir = FW_DIR_OUT;
	a = run(&p), b = run(&q), c = run(&p);
	CHECK(a == 1 && b == 0 && c == 1 && run(&q) == 0,
	      "the same tuple in and out: each direction its own verdict "
	      "(%d %d %d)",
	      a, b, c);
	q = pk4(FW_DIR_IN, "203.0.113.7", "198.51.100.2", 6, 5353, 9999);
	a = run(&q), b = run(&q);
	CHECK(a == 0 && b == 0, "no rule: the default drop, twice");
	CHECK(!set_cfg(nfc, "default", json_string("accept")) && run(&q) == 1 &&
		      run(&q) == 1,
	      "set default=accept: the cached default follows");
	CHECK(!set_cfg(nfc, "default", json_string("drop")) && run(&q) == 0,
	      "set default=drop: dropped again");
	/* A later fragment of the accepted flow: no ports, so rule 10
	 * cannot match it and the default drops it, cached flow or not. */
	run(&p);
	q = p;
	q.frag = 1;
	a = run(&q);
	CHECK(!set_cfg(nfc, "verdict_cache", json_false()),
	      "verdict_cache=off: %s", nfc_errmsg(nfc));
	b = run(&q);
	c = run(&p);
	CHECK(a == 0 && b == 0 && c == 1 && run(&p) == 1,
	      "a later fragment never takes its flow's cached verdict (%d, "
	      "off %d); off, the flow is still accepted (%d)",
	      a, b, c);
	CHECK(!set_cfg(nfc, "verdict_cache", json_true()) && run(&p) == 1,
	      "verdict_cache=on again");
}

/* The firewall's `classified` packets: those the class lookups decided
 * (no cached verdict). */
static long long classified(struct nfc *nfc)
{
	return pkt_stat(nfc, "classified");
}

/* The verdict cache's set of an IPv4 tuple: the data plane's own hash
 * (nfct_fc_set_hash, ct_common.h) of the tuple as the parser holds it,
 * the address IPv4-mapped, words and ports as they lie in memory. */
static __u32 vc_set(const struct ft_pkt *p)
{
	__u32 s[4] = {0, 0, htonl(0x0000ffffu)},
	      d[4] = {0, 0, htonl(0x0000ffffu)};

	memcpy(&s[3], p->src, 4);
	memcpy(&d[3], p->dst, 4);
	return nfct_fc_set_hash(s, d, htons(p->sport), htons(p->dport),
				p->proto) &
	       1023; /* FW_VC_PARTS x FW_VC_SETS sets */
}

/* Four ways a set: four flows that share a set all stay cached, taking
 * turns; a fifth takes the way filled longest ago, whose flow is then
 * classified again, once. Verdicts stay those of the rules throughout. */
static void verdict_sets(struct nfc *nfc)
{
	json_t *none = json_object();
	struct ft_pkt f[5];
	int n = 0, e, ok = 1, sport;
	long long c0, c1;

	e = nfc_coll_replace(nfc, "fw1", "rules", none) ||
	    add(nfc, "10", "action=accept proto=udp dport=53");
	json_decref(none);
	CHECK(!e, "verdict sets: rule 10 alone");
	f[n++] = pk4(FW_DIR_IN, "203.0.113.7", "198.51.100.2", 17, 1024, 53);
	for (sport = 1025; n < 5 && sport < 65536; sport++) {
		f[n] = f[0];
		f[n].sport = sport;
		if (vc_set(&f[n]) == vc_set(&f[0]))
			n++;
	}
	CHECK(n == 5, "five flows of one set found (%d)", n);
	if (n < 5)
		return;
	for (int i = 0; i < 4; i++)
		ok &= run(&f[i]) == 1;
	c0 = classified(nfc);
	for (int r = 0; r < 3; r++)
		for (int i = 0; i < 4; i++)
			ok &= run(&f[i]) == 1;
	c1 = classified(nfc);
	CHECK(ok && c1 == c0,
	      "four flows of one set, three turns each: all from the cache "
	      "(%lld classified, accepted %d)",
	      c1 - c0, ok);
	ok = run(&f[4]) == 1 && run(&f[4]) == 1;
	for (int i = 1; i < 4; i++)
		ok &= run(&f[i]) == 1;
	c0 = classified(nfc);
	CHECK(ok && c0 == c1 + 1,
	      "a fifth: classified once, then cached; three of the four still "
	      "cached (%lld classified)",
	      c0 - c1);
	ok = run(&f[0]) == 1 && run(&f[0]) == 1;
	c1 = classified(nfc);
	CHECK(ok && c1 == c0 + 1,
	      "the first, whose way the fifth took: classified once again "
	      "(%lld)",
	      c1 - c0);
	CHECK(!add(nfc, "5", "action=drop proto=udp sport=1024-65535"),
	      "rule 5 added");
	ok = 1;
	for (int i = 0; i < 5; i++)
		ok &= run(&f[i]) == 0;
	CHECK(ok, "rule 5 added: all five flows of the set dropped at once");
	CHECK(!nfc_coll_del(nfc, "fw1", "rules", "5"), "rule 5 deleted");
}

static size_t ct_entries(struct nfc *nfc)
{
	json_t *l = NULL;
	size_t n = nfc_coll_list(nfc, "fw1", "conntrack", &l)
			   ? (size_t)-1
			   : json_array_size(l);

	json_decref(l);
	return n;
}

/* A conntrack table larger than NFC_LIST_WHOLE is listed a page at a time
 * (the REST GET streams them): every entry once, none twice. A small one
 * comes whole, in order, in the first page. Built whole, a listing of
 * 60,000 entries held the daemon for seconds and ~65 MB (a helper). */
static void ct_pages(struct nfc *nfc)
{
	struct nfc_cursor cur = {0};
	struct dpt_pages pg;
	json_t *page = NULL, *l = NULL;
	size_t whole;
	int ok = 1, lr = 0;

	for (int sp = 10000; sp < 10000 + NFC_LIST_WHOLE + 1000; sp++) {
		struct ft_pkt p = pk4(FW_DIR_OUT, "198.51.100.2", "203.0.113.9",
				      17, sp, 53);

		ok &= run(&p) == 1;
	}
	whole = ct_entries(nfc);
	CHECK(ok && whole >= NFC_LIST_WHOLE + 1000,
	      "%d UDP flows out: accepted and tracked (%zu entries)",
	      NFC_LIST_WHOLE + 1000, whole);
	lr = dpt_list_pages(nfc, "fw1", "conntrack", &pg);
	CHECK(!lr && pg.pages >= 5 && !pg.dup && pg.n == whole,
	      "conntrack listed in pages of ~1024: %zu pages, %zu entries of "
	      "%zu, %zu twice%s%s",
	      pg.pages, pg.n, whole, pg.dup, lr ? ": " : "",
	      lr ? nfc_errmsg(nfc) : "");
	CHECK(!nfc_coll_del(nfc, "fw1", "conntrack", "all"), "flushed");
	for (int sp = 20000; sp < 20003; sp++) {
		struct ft_pkt p = pk4(FW_DIR_OUT, "198.51.100.2", "203.0.113.9",
				      17, sp, 53);

		run(&p);
	}
	memset(&cur, 0, sizeof(cur));
	page = NULL;
	lr = nfc_coll_list_page(nfc, "fw1", "conntrack", &cur, 1024, &page) ||
	     nfc_coll_list(nfc, "fw1", "conntrack", &l);
	CHECK(!lr && json_array_size(l) == 3 && json_equal(page, l),
	      "3 entries: the first page is the whole list, in order");
	json_decref(page);
	page = NULL;
	lr = nfc_coll_list_page(nfc, "fw1", "conntrack", &cur, 1024, &page);
	CHECK(!lr && !json_array_size(page), "... and the next page is empty");
	json_decref(page);
	json_decref(l);
	CHECK(!nfc_coll_del(nfc, "fw1", "conntrack", "all"),
	      "flushed again (the table empty, as before)");
}

/* conntrack is read by the running program: off and on again with the same
 * program. A flow that passed while it was off is unknown once it is on,
 * until its next accepted packet opens it (README: conntrack at run time). */
static void conntrack_runtime(struct nfc *nfc)
{
	json_t *off = json_pack("{s:b}", "conntrack", 0),
	       *on = json_pack("{s:b}", "conntrack", 1),
	       *bad = json_pack("{s:s}", "conntrack", "maybe");
	__u32 id = dpt_prog_id(root, "nf/1-fw1/prog");
	struct ft_pkt out = pk4(FW_DIR_OUT, "198.51.100.2", "203.0.113.9", 17,
				5000, 53),
		      in = pk4(FW_DIR_IN, "203.0.113.9", "198.51.100.2", 17, 53,
			       5000);

	CHECK(!nfc_coll_del(nfc, "fw1", "rules", "10") &&
		      !nfc_nf_set(nfc, "fw1", off),
	      "rule 10 deleted, conntrack=off%s%s",
	      nfc_errmsg(nfc)[0] ? ": " : "", nfc_errmsg(nfc));
	CHECK(run(&out) == 1 && ct_entries(nfc) == 0 && run(&in) == 0,
	      "off: a UDP datagram out accepted, not tracked; its reply "
	      "dropped");
	CHECK(nfc_nf_set(nfc, "fw1", bad) && run(&out) == 1 &&
		      ct_entries(nfc) == 0,
	      "conntrack=maybe refused, still off");
	CHECK(!nfc_nf_set(nfc, "fw1", on) &&
		      !add(nfc, "10", "action=accept state=established"),
	      "conntrack=on, rule 10 established again%s%s",
	      nfc_errmsg(nfc)[0] ? ": " : "", nfc_errmsg(nfc));
	CHECK(run(&in) == 0,
	      "on: a reply of the flow that passed while off: dropped "
	      "(unknown)");
	CHECK(run(&out) == 1 && ct_entries(nfc) == 1 && run(&in) == 1,
	      "its next datagram out opens it; the reply is established, "
	      "accepted");
	CHECK(id && dpt_prog_id(root, "nf/1-fw1/prog") == id,
	      "conntrack off and on with no reload (program id %u kept)", id);
	json_decref(off);
	json_decref(on);
	json_decref(bad);
}

static void conntrack(struct nfc *nfc, const char *mode)
{
	json_t *cfg = json_pack("{s:s,s:b}", "default", "drop", "conntrack", 1);
	struct ft_pkt p;
	json_t *l = NULL;
	int e;

	e = nfc_nf_del(nfc, "fw1") ||
	    nfc_nf_add(nfc, "firewall", "fw1", mode, cfg) ||
	    nfc_attach(nfc, "fw1", "f1:p2", "both", NULL);
	json_decref(cfg);
	CHECK(!e, "fw1 again with conntrack=on default=drop%s%s", e ? ": " : "",
	      e ? nfc_errmsg(nfc) : "");
	e = add(nfc, "10", "action=accept state=established,related") ||
	    add(nfc, "20", "action=accept dir=out");
	CHECK(!e, "rules: 10 established,related; 20 accept out%s%s",
	      e ? ": " : "", e ? nfc_errmsg(nfc) : "");
	p = pk4(FW_DIR_IN, "203.0.113.9", "198.51.100.2", 6, 80, 40000);
	CHECK(run(&p) == 0, "an unsolicited segment from outside: dropped");
	p = pk4(FW_DIR_OUT, "198.51.100.2", "203.0.113.9", 6, 40000, 80);
	{
		__u8 f[200];
		struct dpt_run r;
		int len = ft_frame(&p, f);

		f[14 + 20 + 13] = 0x02; /* SYN */
		dpt_set_meta(root, 1, 1);
		dpt_run(root, "nf/1-fw1/prog", f, len, &r);
		CHECK(r.verdict == v_pass, "the inside's SYN out: accepted");
		p = pk4(FW_DIR_IN, "203.0.113.9", "198.51.100.2", 6, 80, 40000);
		len = ft_frame(&p, f);
		f[14 + 20 + 13] = 0x12; /* SYN-ACK */
		dpt_set_meta(root, 1, 0);
		dpt_run(root, "nf/1-fw1/prog", f, len, &r);
		CHECK(r.verdict == v_pass, "its SYN-ACK in: established, "
					   "accepted");
	}
	p = pk4(FW_DIR_IN, "203.0.113.9", "198.51.100.2", 6, 80, 40001);
	CHECK(run(&p) == 0, "another port from outside: dropped");
	/* ACKs each way, twice: the first of each direction fills this
	 * CPU's flow cache slot (bpf/ct.h), the second is answered by it;
	 * the flush below must empty it, or the reply would still pass. */
	p = pk4(FW_DIR_OUT, "198.51.100.2", "203.0.113.9", 6, 40000, 80);
	CHECK(run(&p) == 1 && run(&p) == 1,
	      "the inside's ACKs out: accepted (flow cache filled, then hit)");
	p = pk4(FW_DIR_IN, "203.0.113.9", "198.51.100.2", 6, 80, 40000);
	CHECK(run(&p) == 1 && run(&p) == 1,
	      "the outside's ACKs in: established, accepted (cached too)");
	/* The flow's verdict is cached with its slot: a rule-set change
	 * must reach it at once, and the hits it takes stay exact. */
	e = add(nfc, "5", "action=drop dir=in proto=tcp state=established");
	CHECK(!e, "rule 5: drop established tcp in%s%s", e ? ": " : "",
	      e ? nfc_errmsg(nfc) : "");
	CHECK(run(&p) == 0 && run(&p) == 0 && run(&p) == 0,
	      "the outside's ACKs in after rule 5: dropped (cached verdict "
	      "forgotten, the new one cached)");
	{
		json_t *r5 = rule_of(nfc, "5");

		CHECK(r5 && json_integer_value(
				    json_object_get(r5, "packets")) == 3,
		      "rules show: rule 5 has exactly 3 packets (%lld)",
		      (long long)json_integer_value(
			      json_object_get(r5, "packets")));
		json_decref(r5);
	}
	CHECK(!nfc_coll_del(nfc, "fw1", "rules", "5") && run(&p) == 1,
	      "rule 5 deleted: the ACKs in accepted again");
	CHECK(!nfc_coll_list(nfc, "fw1", "conntrack", &l) &&
		      json_array_size(l) == 1,
	      "conntrack show: 1 entry (%zu)", json_array_size(l));
	{
		/* The key the reply's way names it too, as for del (found
		 * by a helper: show said "no entry"). */
		const char *k = json_string_value(
			json_object_get(json_array_get(l, 0), "key"));
		char pr[16], a[64], b[64], rev[200];
		unsigned pa, pb;
		json_t *one = NULL;

		CHECK(k && sscanf(k, "%15[^,],%63[^,],%u,%63[^,],%u", pr, a,
				  &pa, b, &pb) == 5,
		      "conntrack key '%s'", k ? k : "(none)");
		snprintf(rev, sizeof(rev), "%s,%s,%u,%s,%u", pr, b, pb, a, pa);
		CHECK(k &&
			      !nfc_coll_show_entry(nfc, "fw1", "conntrack", rev,
						   0, &one) &&
			      !strcmp(json_string_value(
					      json_object_get(one, "key")),
				      k),
		      "conntrack show %s (the reply's order): the entry %s: %s",
		      rev, k ? k : "", nfc_errmsg(nfc));
		json_decref(one);
	}
	json_decref(l);
	CHECK(!nfc_coll_del(nfc, "fw1", "conntrack", "all"),
	      "conntrack flush%s%s", nfc_errmsg(nfc)[0] ? ": " : "",
	      nfc_errmsg(nfc));
	l = NULL;
	CHECK(!nfc_coll_list(nfc, "fw1", "conntrack", &l) &&
		      json_array_size(l) == 0,
	      "conntrack show: empty after the flush");
	json_decref(l);
	p = pk4(FW_DIR_IN, "203.0.113.9", "198.51.100.2", 6, 80, 40000);
	CHECK(run(&p) == 0, "the reply after the flush: dropped");
	cfg = json_pack("{s:b}", "conntrack", 0);
	CHECK(nfc_nf_set(nfc, "fw1", cfg) && strstr(nfc_errmsg(nfc), "rule 10"),
	      "conntrack=off refused while rule 10 has state=: %s",
	      nfc_errmsg(nfc));
	json_decref(cfg);
	ct_pages(nfc);
	conntrack_runtime(nfc);
}

/* A rejected SYN answered by the data plane itself: a RST+ACK back out of
 * the port it came in on, its checksums right (no slow path running). */
static void reject_rst(struct nfc *nfc)
{
	struct ft_pkt p =
		pk4(FW_DIR_IN, "203.0.113.9", "198.51.100.2", 6, 40000, 8080);
	__u8 f[200], ps[12 + 20], *ip, *th;
	struct dpt_run r;
	int len = ft_frame(&p, f), e, want;

	e = add(nfc, "5", "action=reject dir=in proto=tcp dport=8080");
	CHECK(!e, "rule 5: reject tcp dport 8080%s%s", e ? ": " : "",
	      e ? nfc_errmsg(nfc) : "");
	f[14 + 20 + 13] = 0x02;	 /* SYN */
	f[14 + 20 + 4 + 3] = 41; /* sequence 41 */
	/* RFC 793: the RST+ACK acknowledges the SYN and its payload. */
	want = 41 + 1 + (f[16] << 8 | f[17]) - 40;
	dpt_set_meta(root, 1, 0);
	dpt_run(root, "nf/1-fw1/prog", f, len, &r);
	ip = r.out + 14;
	th = ip + 20;
	memcpy(ps, ip + 12, 8);
	ps[8] = 0, ps[9] = 6, ps[10] = 0, ps[11] = 20;
	memcpy(ps + 12, th, 20);
	CHECK(r.out_len == 54 && ip[9] == 6 && !memcmp(ip + 12, f + 30, 4) &&
		      !memcmp(ip + 16, f + 26, 4) && ft_csum(ip, 20) == 0 &&
		      !memcmp(r.out, f + 6, 6) && th[0] == f[36] &&
		      th[1] == f[37] && th[2] == f[34] && th[3] == f[35] &&
		      th[13] == 0x14 && th[11] == want && ft_csum(ps, 32) == 0,
	      "reject: the SYN answered in the data plane by a RST+ACK to its "
	      "sender (%u bytes, flags %#x, ack %u of %d, checksums %s)",
	      r.out_len, th[13], th[11], want,
	      ft_csum(ip, 20) == 0 && ft_csum(ps, 32) == 0 ? "good" : "bad");
	/* Found by a helper: answers went to multicast and broadcast
	 * senders' groups, from the group's address. RFC 1122 (3.2.2) and
	 * RFC 4443 (2.4): nothing answers a packet sent to a group. */
	{
		static const char *const why[] = {
			"to 224.0.0.251", "to 255.255.255.255",
			"to a broadcast MAC", "to ff02::fb"};
		__u8 g[200], out[FW_REJECT_MAX];

		for (int i = 0; i < 4; i++) {
			struct ft_pkt m = p;
			int gl, tf;

			if (i == 0)
				addr4(m.dst, "224.0.0.251");
			if (i == 1)
				addr4(m.dst, "255.255.255.255");
			if (i == 3) {
				m.v6 = 1;
				inet_pton(AF_INET6, "2001:db8:9::9", m.src);
				inet_pton(AF_INET6, "ff02::fb", m.dst);
			}
			gl = ft_frame(&m, g);
			tf = 14 + (i == 3 ? 40 : 20) + 13;
			g[tf] = 0x02; /* SYN */
			if (i == 2)
				memset(g, 0xff, 6);
			dpt_set_meta(root, 1, 0);
			dpt_run(root, "nf/1-fw1/prog", g, gl, &r);
			CHECK(r.verdict >= 0 &&
				      !(r.out_len == (__u32)tf + 8 &&
					r.out[tf] & 0x04) &&
				      !fw_reject_build(g, gl, out, sizeof(out)),
			      "reject: a SYN %s gets no RST (data plane: %u "
			      "bytes back; slow path: none)",
			      why[i], r.out_len);
		}
	}
	CHECK(!nfc_coll_del(nfc, "fw1", "rules", "5"), "rule 5 deleted");
}

static void one_mode(struct nfc *nfc, const char *mode, int pass, int drop)
{
	json_t *cfg = json_pack("{s:s,s:b}", "default", "drop", "conntrack", 0);
	int e;

	test_group = mode;
	v_pass = pass;
	v_drop = drop;
	e = nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "firewall", "fw1", mode, cfg) ||
	    nfc_attach(nfc, "fw1", "f1:p2", "both", NULL);
	json_decref(cfg);
	if (e) {
		CHECK(0, "set up f1 and fw1 on f1:p2: %s", nfc_errmsg(nfc));
		return;
	}
	issue_rules(nfc);
	reject_rst(nfc);
	verdict_cache(nfc);
	verdict_sets(nfc);
	random_set(nfc, 11, 10, 0, 3000);
	random_set(nfc, 12, 100, 0, 3000);
	random_set(nfc, 13, 1000, 1, 3000);
	if (!strcmp(mode, "xdp")) {
		random_set(nfc, 14, 10000, 1, 3000);
		/* The cost at 10 rules from the generator the 10,000 came
		 * from: the issue's ratio compares these two. */
		random_set(nfc, 15, 10, 1, 1000);
	}
	conntrack(nfc, mode);
	CHECK(!nfc_reset(nfc), "reset");
}

static void all_tests(struct nfc *nfc)
{
	one_mode(nfc, "xdp", XDP_REDIRECT_, XDP_DROP_);
	one_mode(nfc, "tc", TC_REDIRECT, TC_SHOT);
}

int main(void)
{
	dpt_main(root, sizeof(root), "fwdp", "fwd", dev, peer, all_tests);
	TEST_EXIT();
}
