// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The ddos data plane on crafted frames (BPF_PROG_TEST_RUN, XDP): dd0
 * (NF 1) attached on the ingress of f1's p1 netdev. What passes goes on
 * (a redirect out of f1); the allowlist wins over the blocklist; IPv6
 * sources are matched; a truncated header is dropped as malformed; a
 * blocklist replaced as a whole (import --replace) is decided by the new
 * list at once; a rate limit drops what exceeds its burst; above syn_rate
 * a SYN is answered in place by a SYN-ACK carrying a cookie, whose ACK
 * passes while a made-up ACK is dropped.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "dptest.h"
#include "ddos/ddos.h"

enum { V_DROP = 1, V_TX = 3, V_REDIRECT = 4 };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];

static __u16 csum16(const void *p, int n)
{
	const __u8 *b = p;
	__u32 s = 0;

	for (int i = 0; i + 1 < n; i += 2)
		s += b[i] << 8 | b[i + 1];
	if (n & 1)
		s += b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/* Frames are byte arrays: words go in and out with memcpy (alignment). */
static void put32(__u8 *p, __u32 v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static __u32 get32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* Ethernet + IPv4 + TCP (20 bytes, no options) or UDP. */
static int v4(__u8 *f, const char *src, const char *dst, int tcpflags,
	      __u32 seq, __u32 ack)
{
	memset(f, 0, 128);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00",
	       14);
	f[14] = 0x45;
	f[16] = 0;
	f[17] = tcpflags >= 0 ? 40 : 28;
	f[22] = 64;
	f[23] = tcpflags >= 0 ? 6 : 17;
	inet_pton(AF_INET, src, f + 26);
	inet_pton(AF_INET, dst, f + 30);
	{
		__u16 c = htons(csum16(f + 14, 20));

		memcpy(f + 24, &c, 2);
	}
	f[34] = 0x9c; /* source port 40000 */
	f[35] = 0x40;
	f[37] = 80;
	if (tcpflags < 0) {
		f[39] = 8;
		return 14 + 28;
	}
	put32(f + 38, seq);
	put32(f + 42, ack);
	f[46] = 5 << 4;
	f[47] = tcpflags;
	f[48] = 0xff;
	f[49] = 0xff;
	return 14 + 40;
}

static int v6(__u8 *f, const char *src)
{
	memset(f, 0, 128);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd",
	       14);
	f[14] = 0x60;
	f[19] = 8;
	f[20] = 17;
	f[21] = 64;
	inet_pton(AF_INET6, src, f + 22);
	inet_pton(AF_INET6, "2001:db8:1::2", f + 38);
	return 14 + 40 + 8;
}

static int run(const __u8 *f, int len, struct dpt_run *r)
{
	dpt_set_meta(root, 1, 0);
	return dpt_run(root, "nf/1-dd0/prog", f, len, r);
}

static __u64 stat(int s)
{
	return dpt_percpu_sum(root, "nf/1-dd0/map/dd_stats", s, 0,
			      sizeof(__u64));
}

static int coll(struct nfc *nfc, const char *c, const char *key,
		const char *fields)
{
	json_t *j = fields ? json_loads(fields, 0, NULL) : NULL;
	int e = nfc_coll_add(nfc, "dd0", c, key, j);

	json_decref(j);
	if (e)
		fprintf(stderr, "# %s add %s: %s\n", c, key, nfc_errmsg(nfc));
	return e;
}

/* The program on dev[0]'s hook (dd0's nfc_direct, whose front drops a
 * blocklisted /24 at once while the IPv4 allowlist is empty), with the
 * blocklist holding 198.51.100.0/24 and the allowlist 198.51.100.1/32:
 * the allowlist still wins there; once it is empty the front drops, and
 * counts as the whole path would (by reason, the port's rx and drops). */
static void direct(struct nfc *nfc, __u8 *f)
{
	__u32 ifx = if_nametoindex(dev[0]);
	int fd = dpt_hook_prog(root, ifx), n;
	struct nfc_port_stats p0, p1;
	struct dpt_run r;
	__u64 s0;

	CHECK(fd >= 0, "dd0 runs on %s's hook", dev[0]);
	if (fd < 0)
		return;
	n = v4(f, "198.51.100.1", "198.51.100.2", -1, 0, 0);
	CHECK(!dpt_run_fd(fd, f, n, ifx, 1, 0, &r) && r.verdict == V_REDIRECT,
	      "hook: the allowlisted /32 wins (verdict %d)", r.verdict);
	CHECK(!nfc_coll_del(nfc, "dd0", "allowlist", "198.51.100.1/32"),
	      "allowlist emptied");
	s0 = stat(DD_S_DROP_BLOCKLIST);
	p0 = dpt_port_stats(root, 1, 0);
	CHECK(!dpt_run_fd(fd, f, n, ifx, 5, 0, &r) && r.verdict == V_DROP,
	      "hook, empty allowlist: 198.51.100.1 dropped (verdict %d)",
	      r.verdict);
	p1 = dpt_port_stats(root, 1, 0);
	CHECK(stat(DD_S_DROP_BLOCKLIST) == s0 + 5 &&
		      p1.rx_packets == p0.rx_packets + 5 &&
		      p1.drops == p0.drops + 5 &&
		      p1.rx_bytes == p0.rx_bytes + 5 * (__u64)n,
	      "5 drops counted by reason and on dd0's port (%llu, %llu rx, "
	      "%llu drops)",
	      (unsigned long long)(stat(DD_S_DROP_BLOCKLIST) - s0),
	      (unsigned long long)(p1.rx_packets - p0.rx_packets),
	      (unsigned long long)(p1.drops - p0.drops));
	coll(nfc, "allowlist", "198.51.100.1/32", NULL);
	CHECK(!dpt_run_fd(fd, f, n, ifx, 1, 0, &r) && r.verdict == V_REDIRECT,
	      "hook: allowlisted again, it goes on (verdict %d)", r.verdict);
	close(fd);
}

/* One bit of the live /24 bitmap flipped in place (what a process
 * killed between the hash write and the bitmap write of an add or a
 * delete leaves); 0 when done. */
static int flip(const char *src)
{
	struct dd_state st = {0};
	char m[64];
	__u32 z = 0, a = ntohl(inet_addr(src)), w = a >> 14;
	__u64 v = 0;
	int fd = dpt_pinned(root, "nf/1-dd0/map/dd_state"), e = -1;

	if (fd < 0)
		return -1;
	e = bpf_map_lookup_elem(fd, &z, &st);
	close(fd);
	snprintf(m, sizeof(m), "nf/1-dd0/map/dd_bm4_%u", st.live & 1);
	fd = e ? -1 : dpt_pinned(root, m);
	if (fd < 0)
		return -1;
	e = bpf_map_lookup_elem(fd, &w, &v);
	v ^= 1ULL << ((a >> 8) & 63);
	if (!e)
		e = bpf_map_update_elem(fd, &w, &v, BPF_ANY);
	close(fd);
	return e;
}

/* A dd0 as an nfchain before the hashes left it: DD_ST_HASHED clear and
 * the blocklist in the LPM trie of the live copy (dd_block4_<c>), here
 * `pfx`/`plen`. */
static int old_trie(const char *pfx, unsigned plen)
{
	struct dd_state st = {0};
	struct dd_lpm4 k = {.plen = plen};
	char p[64];
	__u32 z = 0, v = 0;
	int fd = dpt_pinned(root, "nf/1-dd0/map/dd_state"), e;

	if (fd < 0)
		return -1;
	e = bpf_map_lookup_elem(fd, &z, &st);
	st.flags &= ~DD_ST_HASHED;
	if (!e)
		e = bpf_map_update_elem(fd, &z, &st, BPF_ANY);
	close(fd);
	snprintf(p, sizeof(p), "nf/1-dd0/map/dd_block4_%u", st.live & 1);
	fd = e ? -1 : dpt_pinned(root, p);
	if (fd < 0)
		return -1;
	inet_pton(AF_INET, pfx, k.addr);
	e = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	close(fd);
	return e;
}

/* Whether DD_ST_HASHED is set and the old tries empty. */
static int hashed(void)
{
	struct dd_state st = {0};
	struct dd_lpm6 k;
	char p[64];
	__u32 z = 0;
	int fd = dpt_pinned(root, "nf/1-dd0/map/dd_state"), ok;

	if (fd < 0)
		return 0;
	ok = !bpf_map_lookup_elem(fd, &z, &st) && (st.flags & DD_ST_HASHED);
	close(fd);
	for (int i = 0; i < 4 && ok; i++) {
		snprintf(p, sizeof(p), "nf/1-dd0/map/dd_block%d_%d",
			 i < 2 ? 4 : 6, i & 1);
		fd = dpt_pinned(root, p);
		ok = fd >= 0 && bpf_map_get_next_key(fd, NULL, &k) != 0;
		if (fd >= 0)
			close(fd);
	}
	return ok;
}

/* With the blocklist holding 203.0.113.0/24 alone: its bit cleared and
 * 198.51.100.0/24's set by hand, the lookups go wrong; the next process
 * to open the pin root (the daemon after a kill -9) mends the bitmap
 * from the hash at its first tick, and they are right again. */
static void adopt(struct nfc **nfc, __u8 *f)
{
	int nb = v4(f, "203.0.113.9", "198.51.100.2", -1, 0, 0), ng;
	__u8 g[128];
	struct dpt_run r, q;

	ng = v4(g, "198.51.100.3", "198.51.100.2", -1, 0, 0);
	CHECK(!flip("203.0.113.0") && !flip("198.51.100.0"),
	      "two bits of the live bitmap flipped");
	CHECK(!run(f, nb, &r) && r.verdict == V_REDIRECT && !run(g, ng, &q) &&
		      q.verdict == V_DROP,
	      "the flipped bits decide: 203.0.113.9 goes on, 198.51.100.3 "
	      "dropped (%d %d)",
	      r.verdict, q.verdict);
	CHECK(!old_trie("100.64.0.0", 10),
	      "the list of an earlier nfchain: 100.64.0.0/10 in the live LPM "
	      "trie, DD_ST_HASHED clear");
	{
		int o = v4(g, "100.64.1.1", "198.51.100.2", -1, 0, 0);

		CHECK(!run(g, o, &q) && q.verdict == V_DROP,
		      "before anything moved it: 100.64.1.1 dropped by the "
		      "trie (%d)",
		      q.verdict);
	}
	nfc_close(*nfc);
	*nfc = dpt_open(root);
	CHECK(*nfc != NULL, "the pin root adopted");
	if (!*nfc)
		return;
	nfc_tick(*nfc);
	{
		int o = v4(g, "100.64.1.1", "198.51.100.2", -1, 0, 0);

		CHECK(!run(g, o, &q) && q.verdict == V_DROP,
		      "the old trie's 100.64.0.0/10 taken over: 100.64.1.1 "
		      "dropped (%d)",
		      q.verdict);
		CHECK(hashed(), "DD_ST_HASHED set and the old tries emptied");
		ng = v4(g, "198.51.100.3", "198.51.100.2", -1, 0, 0);
	}
	CHECK(!run(f, nb, &r) && r.verdict == V_DROP && !run(g, ng, &q) &&
		      q.verdict == V_REDIRECT,
	      "after adoption the bitmap is the hash's: 203.0.113.9 dropped, "
	      "198.51.100.3 goes on (%d %d)",
	      r.verdict, q.verdict);
}

int main(void)
{
	cpu_set_t one;
	struct nfc *nfc;
	struct dpt_run r;
	__u8 f[128];
	int n, e;
	json_t *cfg;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	dpt_root(root, sizeof(root), "dddp");
	/* The blocklist keeps a copy of imported feeds: in /tmp, removed at
	 * the end. */
	setenv("NFC_DDOS_FEED_DIR", "/tmp", 1);
	if (dpt_veths("ddd", 2, dev, peer))
		goto out;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	test_group = "xdp";
	cfg = json_pack("{s:i}", "syn_rate", 2);
	e = nfc_nf_add(nfc, "forwarder", "f1", "xdp", NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "ddos", "dd0", "xdp", cfg) ||
	    nfc_attach(nfc, "dd0", dev[0], "ingress", "first");
	json_decref(cfg);
	if (e) {
		CHECK(0, "set up f1 and dd0: %s", nfc_errmsg(nfc));
		goto close;
	}

	n = v4(f, "198.51.100.1", "198.51.100.2", -1, 0, 0);
	CHECK(!run(f, n, &r) && r.verdict == V_REDIRECT,
	      "UDP from 198.51.100.1 goes on (verdict %d)", r.verdict);
	coll(nfc, "blocklist", "198.51.100.0/24", NULL);
	CHECK(!run(f, n, &r) && r.verdict == V_DROP &&
		      stat(DD_S_DROP_BLOCKLIST) == 1,
	      "blocklisted 198.51.100.0/24: dropped, counted (verdict %d)",
	      r.verdict);
	coll(nfc, "allowlist", "198.51.100.1/32", NULL);
	CHECK(!run(f, n, &r) && r.verdict == V_REDIRECT,
	      "allowlisted /32 inside it wins (verdict %d)", r.verdict);
	n = v4(f, "198.51.100.3", "198.51.100.2", -1, 0, 0);
	CHECK(!run(f, n, &r) && r.verdict == V_DROP,
	      "its neighbour 198.51.100.3 is still dropped");
	/* Behind one tag or two (found by a helper: with two, XDP passed
	 * it as not IP where TC, which sees the inner tag only, dropped). */
	{
		static const char *const tags[] = {
			"\x81\x00", "\x88\xa8\x81\x00", "\x81\x00\x81\x00"};
		static const char *const what[] = {"802.1Q", "802.1ad+802.1Q",
						   "802.1Q+802.1Q"};

		for (int t = 0; t < 3; t++) {
			__u8 g[160];
			int k = (int)strlen(tags[t]) / 2, m;
			__u64 b = stat(DD_S_DROP_BLOCKLIST);

			m = v4(g, "198.51.100.3", "198.51.100.2", -1, 0, 0);
			memmove(g + 12 + 4 * k, g + 12, m - 12);
			for (int i = 0; i < k; i++) {
				memcpy(g + 12 + 4 * i, tags[t] + 2 * i, 2);
				g[14 + 4 * i] = 0;
				g[15 + 4 * i] = 10 + i;
			}
			CHECK(!run(g, m + 4 * k, &r) && r.verdict == V_DROP &&
				      stat(DD_S_DROP_BLOCKLIST) == b + 1,
			      "... behind %s: dropped as blocklisted (verdict "
			      "%d)",
			      what[t], r.verdict);
		}
	}
	direct(nfc, f);

	coll(nfc, "blocklist", "2001:db8:bad::/48", NULL);
	n = v6(f, "2001:db8:bad::7");
	CHECK(!run(f, n, &r) && r.verdict == V_DROP,
	      "IPv6 source in 2001:db8:bad::/48 dropped (verdict %d)",
	      r.verdict);
	n = v6(f, "2001:db8:bae::7");
	CHECK(!run(f, n, &r) && r.verdict == V_REDIRECT,
	      "IPv6 source outside it goes on (verdict %d)", r.verdict);

	n = v4(f, "203.0.113.9", "198.51.100.2", -1, 0, 0);
	CHECK(!run(f, 14 + 10, &r) && r.verdict == V_DROP &&
		      stat(DD_S_DROP_MALFORMED) == 1,
	      "a truncated IPv4 header is dropped as malformed");

	{
		const char *feed = "# feed\n203.0.113.0/24 expires=600\n";

		e = nfc_coll_import_text(nfc, "dd0", "blocklist", feed,
					 strlen(feed), 1);
		CHECK(!e, "import --replace%s%s", e ? ": " : "",
		      e ? nfc_errmsg(nfc) : "");
	}
	CHECK(!run(f, n, &r) && r.verdict == V_DROP,
	      "after the replace 203.0.113.9 is dropped");
	n = v4(f, "198.51.100.3", "198.51.100.2", -1, 0, 0);
	CHECK(!run(f, n, &r) && r.verdict == V_REDIRECT,
	      "and 198.51.100.3 (only in the old list) goes on");
	{
		const char *bad = "203.0.113.0/24\n198.51.100.9/24\n";

		e = nfc_coll_import_text(nfc, "dd0", "blocklist", bad,
					 strlen(bad), 1);
		CHECK(e && strstr(nfc_errmsg(nfc), "line 2"),
		      "a feed with a host-bits line refused: %s",
		      nfc_errmsg(nfc));
	}
	n = v4(f, "203.0.113.9", "198.51.100.2", -1, 0, 0);
	CHECK(!run(f, n, &r) && r.verdict == V_DROP,
	      "the refused feed changed nothing");

	/* Prefixes of several lengths, some not a multiple of 8 (the data
	 * plane masks the source to each length in use and probes a hash). */
	{
		static const char *feed =
			"203.0.113.0/24\n198.51.100.64/26\n198.51.100.7/32\n"
			"2001:db8:1:2::/64\n2001:db8::1:0:0:5/128\n"
			"2001:db8:e000::/35\n2001:db8:0:0:8000::/65\n"
			"100.64.0.0/16\n100.64.16.0/20\n";
		static const struct {
			const char *src;
			int drop;
		} pr[] = {
			{"198.51.100.7", 1},
			{"198.51.100.8", 0},
			{"198.51.100.100", 1},
			{"198.51.100.130", 0},
			{"203.0.113.9", 1},
			{"2001:db8:1:2::99", 1},
			{"2001:db8:1:3::1", 0},
			{"2001:db8::1:0:0:5", 1},
			{"2001:db8::1:0:0:6", 0},
			{"2001:db8:f123::1", 1},
			{"2001:db8:d000::1", 0},
			{"2001:db8::8000:0:0:1", 1},
			{"2001:db8::7fff:0:0:1", 0},
			{"100.64.200.1", 1},
			{"100.65.0.1", 0},
			{"100.64.17.1", 1},
		};

		e = nfc_coll_import_text(nfc, "dd0", "blocklist", feed,
					 strlen(feed), 1);
		CHECK(!e, "import --replace of 7 lengths%s%s", e ? ": " : "",
		      e ? nfc_errmsg(nfc) : "");
		for (size_t i = 0; i < sizeof(pr) / sizeof(pr[0]); i++) {
			n = strchr(pr[i].src, ':')
				    ? v6(f, pr[i].src)
				    : v4(f, pr[i].src, "198.51.100.2", -1, 0,
					 0);
			CHECK(!run(f, n, &r) &&
				      r.verdict == (pr[i].drop ? V_DROP
							       : V_REDIRECT),
			      "%s %s (verdict %d)", pr[i].src,
			      pr[i].drop ? "dropped" : "goes on", r.verdict);
		}
		nfc_coll_del(nfc, "dd0", "blocklist", "198.51.100.64/26");
		n = v4(f, "198.51.100.100", "198.51.100.2", -1, 0, 0);
		CHECK(!run(f, n, &r) && r.verdict == V_REDIRECT,
		      "198.51.100.64/26 deleted: 198.51.100.100 goes on");
		/* Lengths up to 24 are bits of /24s: a delete clears only
		 * those no other prefix covers. */
		nfc_coll_del(nfc, "dd0", "blocklist", "100.64.0.0/16");
		n = v4(f, "100.64.200.1", "198.51.100.2", -1, 0, 0);
		CHECK(!run(f, n, &r) && r.verdict == V_REDIRECT,
		      "100.64.0.0/16 deleted: 100.64.200.1 goes on");
		n = v4(f, "100.64.17.1", "198.51.100.2", -1, 0, 0);
		CHECK(!run(f, n, &r) && r.verdict == V_DROP,
		      "100.64.17.1 still dropped (100.64.16.0/20)");
		coll(nfc, "blocklist", "203.0.112.0/20", NULL);
		n = v4(f, "203.0.114.1", "198.51.100.2", -1, 0, 0);
		CHECK(!run(f, n, &r) && r.verdict == V_DROP,
		      "203.0.112.0/20 added: 203.0.114.1 dropped");
		nfc_coll_del(nfc, "dd0", "blocklist", "203.0.112.0/20");
		CHECK(!run(f, n, &r) && r.verdict == V_REDIRECT,
		      "203.0.112.0/20 deleted: 203.0.114.1 goes on");
		n = v4(f, "203.0.113.9", "198.51.100.2", -1, 0, 0);
		CHECK(!run(f, n, &r) && r.verdict == V_DROP,
		      "and 203.0.113.9 still dropped (203.0.113.0/24)");
		feed = "203.0.113.0/24 expires=600\n";
		e = nfc_coll_import_text(nfc, "dd0", "blocklist", feed,
					 strlen(feed), 1);
		CHECK(!e, "import --replace back to one prefix");
	}
	adopt(&nfc, f);
	if (!nfc)
		goto out;

	coll(nfc, "limits", "198.51.100.128/25", "{\"pps\": 1, \"burst\": 2}");
	n = v4(f, "198.51.100.200", "198.51.100.2", -1, 0, 0);
	{
		int v[3];

		for (int i = 0; i < 3; i++) {
			run(f, n, &r);
			v[i] = r.verdict;
		}
		CHECK(v[0] == V_REDIRECT && v[1] == V_REDIRECT &&
			      v[2] == V_DROP && stat(DD_S_DROP_RATE) == 1,
		      "pps=1 burst=2: two pass, the third is dropped (%d %d "
		      "%d)",
		      v[0], v[1], v[2]);
	}

	/* SYN cookies: syn_rate=2, so the third SYN is answered here. */
	{
		__u32 cookie, seq = 1000;
		int v = 0;

		for (int i = 0; i < 3; i++) {
			/* The first two from elsewhere: a SYN let through
			 * makes its flow known, and its ACK would pass as
			 * such. */
			n = v4(f, i < 2 ? "198.51.100.4" : "198.51.100.5",
			       "198.51.100.2", 0x02, seq, 0);
			run(f, n, &r);
			v = r.verdict;
		}
		CHECK(v == V_TX && r.out[47] == 0x12,
		      "the SYN above syn_rate is answered by a SYN-ACK "
		      "(verdict %d, flags 0x%x)",
		      v, r.out[47]);
		CHECK(r.out[34] == 0 && r.out[35] == 80 && r.out[36] == 0x9c &&
			      get32(r.out + 42) == seq + 1 &&
			      !memcmp(r.out + 26, f + 30, 4),
		      "ports and addresses swapped, ack = seq + 1");
		CHECK(csum16(r.out + 14, 20) == 0, "its IPv4 checksum holds");
		cookie = get32(r.out + 38);
		n = v4(f, "198.51.100.5", "198.51.100.2", 0x10, seq + 1,
		       cookie + 1);
		CHECK(!run(f, n, &r) && r.verdict == V_REDIRECT &&
			      stat(DD_S_SYNCOOKIE_OK) == 1,
		      "the ACK with the cookie goes on (verdict %d)",
		      r.verdict);
		n = v4(f, "198.51.100.6", "198.51.100.2", 0x10, seq + 1,
		       cookie + 7);
		CHECK(!run(f, n, &r) && r.verdict == V_DROP &&
			      stat(DD_S_DROP_SYN) == 1,
		      "a made-up ACK is dropped (verdict %d)", r.verdict);
	}
	/* syn_cookies is read at run time: off, a SYN to the destination
	 * under cookies goes on; a bad value changes nothing; on again, it
	 * is answered. The program stays the same one throughout. */
	{
		__u32 id = dpt_prog_id(root, "nf/1-dd0/prog");
		json_t *off = json_pack("{s:b}", "syn_cookies", 0),
		       *on = json_pack("{s:b}", "syn_cookies", 1),
		       *bad = json_pack("{s:s}", "syn_cookies", "maybe");

		n = v4(f, "198.51.100.7", "198.51.100.2", 0x02, 2000, 0);
		CHECK(!nfc_nf_set(nfc, "dd0", off) && !run(f, n, &r) &&
			      r.verdict == V_REDIRECT,
		      "syn_cookies=off: a SYN goes on (verdict %d) %s",
		      r.verdict, nfc_errmsg(nfc));
		CHECK(nfc_nf_set(nfc, "dd0", bad) && !run(f, n, &r) &&
			      r.verdict == V_REDIRECT,
		      "syn_cookies=maybe refused, still off (verdict %d)",
		      r.verdict);
		n = v4(f, "198.51.100.8", "198.51.100.2", 0x02, 2000, 0);
		CHECK(!nfc_nf_set(nfc, "dd0", on) && !run(f, n, &r) &&
			      r.verdict == V_TX,
		      "syn_cookies=on: a SYN is answered again (verdict %d)",
		      r.verdict);
		CHECK(id && dpt_prog_id(root, "nf/1-dd0/prog") == id,
		      "... with no reload (program id %u kept)", id);
		json_decref(off);
		json_decref(on);
		json_decref(bad);
	}
close:
	CHECK(!nfc_reset(nfc), "reset");
	{
		char fp[256];

		snprintf(fp, sizeof(fp), "/tmp/ddos%s.dd0.blocklist.feed",
			 root);
		for (char *c = fp + strlen("/tmp/ddos"); *c; c++)
			if (*c == '/')
				*c = '_';
		/* The reset deleted dd0, and with it its kept feed. */
		CHECK(unlink(fp) && errno == ENOENT,
		      "the kept feed %s went with dd0", fp);
	}
	nfc_close(nfc);
out:
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	TEST_EXIT();
}
