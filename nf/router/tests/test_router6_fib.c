// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A full IPv6 table: 100,000 routes (20,000 in the sanitized build) (aggregates
 * /32-/44, /48s under them, /49-/64s and host routes under those) imported at
 * once with nfc_coll_replace, then every probe run through the router's fast
 * path (BPF_PROG_TEST_RUN) and its next hop compared with the longest-prefix
 * match Python's ipaddress gives (lpm6_oracle.py, which also makes the
 * routes and the probes: inside routes, at their first and last address,
 * anywhere). Again after a replace that removes 2% of the routes, and
 * after 5 more removed one at a time (routes del). The replace is
 * left out of the sanitized build (each phase costs tens of seconds there
 * on a loaded machine; the runner runs both builds).
 *
 *   p1 2001:db8:1::1/64 (probes come in here)
 *   p2 2001:db8:2::1/64: next hops 2001:db8:2::100 + i, i < NNH, each
 *      with its own MAC (written into rt_nd as the slow path would)
 *
 * NFC_LPM6_SEED=S repeats a run (the seed is printed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "router/router.h"
#include "router/rt_pkt.h"
#include "dptest.h"

#ifndef __SANITIZE_ADDRESS__
#define NROUTES 100000
#define NPROBES 12000
#else
/* The sanitized build checks the same code paths at a fifth of the size:
 * the scale is the plain build's to check, and the runner's budget is
 * tight for both on a loaded machine. */
#define NROUTES 20000
#define NPROBES 4000
#endif
#define NNH 200
enum { XDP_REDIRECT_ = 4 };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static struct nfc *nfc;
static __u8 PM[6]; /* p1's MAC */

struct probe {
	__u8 a[16];
	/* next hop index: whole set, after the replace, after it and the
	 * deletions, after the deletions alone */
	short want[4];
};

static struct {
	json_t *all, *less; /* route sets: whole, without the D lines */
	char (*e)[64];	    /* removed one at a time */
	int ne;
	struct probe *p;
	int np;
} o;

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void nh_addr(int i, __u8 *a)
{
	inet_pton(AF_INET6, "2001:db8:2::100", a);
	a[14] += i >> 8;
	a[15] += i & 255;
}

static void nh_mac(int i, __u8 *m)
{
	memcpy(m, "\x02\x00\x00\x10\x00\x00", 6);
	m[4] = i >> 8;
	m[5] = i;
}

/* "addr/len" as the router wants it written (inet_ntop's spelling). */
static int canon(const char *in, char *out, size_t len)
{
	char a[64], *sl;
	__u8 b[16];

	snprintf(a, sizeof(a), "%s", in);
	sl = strchr(a, '/');
	if (!sl)
		return -1;
	*sl = 0;
	if (inet_pton(AF_INET6, a, b) != 1 ||
	    !inet_ntop(AF_INET6, b, out, len - 5))
		return -1;
	snprintf(out + strlen(out), 5, "/%s", sl + 1);
	return 0;
}

/* Runs the oracle and reads what it says. */
static int read_oracle(unsigned seed)
{
	const char *top = getenv("NFC_TOP");
	char cmd[512], line[256], key[64], pfx[64], nhs[64];
	json_t *dels = json_object();
	FILE *f;
	int r;

	snprintf(cmd, sizeof(cmd),
		 "python3 %s/nf/router/tests/lpm6_oracle.py %u %d %d %d",
		 top ? top : ".", seed, NROUTES, NPROBES, NNH);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	o.all = json_object();
	o.e = calloc(64, sizeof(*o.e));
	o.p = calloc(NPROBES, sizeof(*o.p));
	while (fgets(line, sizeof(line), f)) {
		int nh, a, b, c, d;
		__u8 x[16];

		if (sscanf(line, "R %63s %d", pfx, &nh) == 2) {
			if (canon(pfx, key, sizeof(key)))
				break;
			nh_addr(nh, x);
			inet_ntop(AF_INET6, x, nhs, sizeof(nhs));
			json_object_set_new(o.all, key,
					    json_pack("{s:s}", "nexthop", nhs));
		} else if (sscanf(line, "D %63s", pfx) == 1) {
			if (canon(pfx, key, sizeof(key)))
				break;
			json_object_set_new(dels, key, json_true());
		} else if (sscanf(line, "E %63s", pfx) == 1 && o.ne < 64) {
			if (canon(pfx, o.e[o.ne++], sizeof(o.e[0])))
				break;
		} else if (sscanf(line, "P %63s %d %d %d %d", pfx, &a, &b, &c,
				  &d) == 5 &&
			   o.np < NPROBES) {
			struct probe *p = &o.p[o.np++];

			if (inet_pton(AF_INET6, pfx, p->a) != 1)
				break;
			p->want[0] = a;
			p->want[1] = b;
			p->want[2] = c;
			p->want[3] = d;
		}
	}
	r = pclose(f);
	o.less = json_deep_copy(o.all);
	{
		const char *k;
		json_t *v;

		json_object_foreach (dels, k, v)
			json_object_del(o.less, k);
	}
	json_decref(dels);
	return r || json_object_size(o.all) != NROUTES || o.np != NPROBES ||
			       !o.ne
		       ? -1
		       : 0;
}

static size_t frame6(__u8 *f, const __u8 *dst)
{
	__u8 s[16];

	memset(f, 0, 86);
	memcpy(f, PM, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	inet_pton(AF_INET6, "2001:db8:1::2", s);
	rt_build_ip6((rt_ip6hdr *)(f + NFC_ETH_HLEN), s, dst, IPPROTO_UDP, 64,
		     32);
	return 86;
}

/* Every probe through the fast path; its next hop against column `col`. */
static void probe_all(const char *what, int col)
{
	int prog = dpt_pinned(root, "nf/0-r1/prog");
	int meta = dpt_pinned(root, "meta");
	int ncpu = libbpf_num_possible_cpus(), bad = 0, shown = 0;
	struct nfc_meta *m = calloc(ncpu, sizeof(*m));
	__u32 zero = 0;
	__u8 f[86];
	double t0 = now_ms();

	for (int i = 0; i < o.np && prog >= 0 && meta >= 0 && m; i++) {
		struct probe *p = &o.p[i];
		struct dpt_run r;
		__u8 want[6];

		/* The metadata a stub sets, before each frame. */
		bpf_map_update_elem(meta, &zero, m, BPF_ANY);
		nh_mac(p->want[col], want);
		if (!dpt_run_fd(prog, f, frame6(f, p->a), 0, 1, 0, &r) &&
		    r.verdict == XDP_REDIRECT_ && !memcmp(r.out, want, 6))
			continue;
		if (shown++ < 5) {
			char a[64];

			inet_ntop(AF_INET6, p->a, a, sizeof(a));
			printf("# %s: %s: verdict %d, to %02x:%02x, want "
			       "next hop %d\n",
			       what, a, r.verdict, r.out[4], r.out[5],
			       p->want[col]);
		}
		bad++;
	}
	printf("# %s: %d probes in %.0f ms\n", what, o.np, now_ms() - t0);
	CHECK(prog >= 0 && meta >= 0 && !bad,
	      "%s: %d probes leave for the next hop of their longest prefix "
	      "(Python ipaddress); %d do not",
	      what, o.np, bad);
	free(m);
	if (prog >= 0)
		close(prog);
	if (meta >= 0)
		close(meta);
}

static int fib6_count(void)
{
	int fd = dpt_pinned(root, "nf/0-r1/map/rt_fib6"), n = 0;
	struct rt_fib6_key k, next, *prev = NULL;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	if (fd >= 0)
		close(fd);
	return n;
}

static int setup(void)
{
	int r = 0, fd;
	__u32 k = 0;
	struct rt_port pt = {0};
	json_t *c;

	r |= nfc_nf_add(nfc, "router", "r1", "xdp", NULL);
	c = json_pack("{s:s}", "ip6", "2001:db8:1::1/64");
	r |= nfc_port_add(nfc, "r1", "p1", dev[0], c);
	json_decref(c);
	c = json_pack("{s:s}", "ip6", "2001:db8:2::1/64");
	r |= nfc_port_add(nfc, "r1", "p2", dev[1], c);
	json_decref(c);
	fd = dpt_pinned(root, "nf/0-r1/map/rt_ports");
	if (fd < 0 || bpf_map_lookup_elem(fd, &k, &pt))
		r = -1;
	memcpy(PM, pt.mac, 6);
	if (fd >= 0)
		close(fd);
	fd = dpt_pinned(root, "nf/0-r1/map/rt_nd");
	for (int i = 0; i < NNH && fd >= 0 && !r; i++) {
		struct rt_nd_key nk = {.port = 1};
		struct rt_neigh n = {.state = RT_N_REACHABLE, .port = 1};

		nh_addr(i, nk.addr);
		nh_mac(i, n.mac);
		/* Fresh for the whole run: no tick runs here to age it. */
		n.updated = (__u64)now_ms() * 1000000ull;
		r |= bpf_map_update_elem(fd, &nk, &n, BPF_ANY);
	}
	if (fd < 0)
		r = -1;
	else
		close(fd);
	CHECK(!r, "router with two IPv6 ports and %d next hops%s%s", NNH,
	      r ? ": " : "", r ? nfc_errmsg(nfc) : "");
	return r;
}

int main(void)
{
	const char *s = getenv("NFC_LPM6_SEED");
	unsigned seed = s ? (unsigned)atoi(s) : (unsigned)time(NULL) % 100000;
	double t0;
	int r, n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# seed %u (NFC_LPM6_SEED)\n", seed);
	t0 = now_ms();
	CHECK(!read_oracle(seed),
	      "oracle: %zu routes, %d probes (lpm6_oracle.py, %.0f ms)",
	      json_object_size(o.all), o.np, now_ms() - t0);
	dpt_root(root, sizeof(root), "r6f");
	if (!o.np || dpt_veths("r6f", 2, dev, peer))
		TEST_EXIT();
	nfc = dpt_open(root);
	if (nfc && !setup()) {
		t0 = now_ms();
		r = nfc_coll_replace(nfc, "r1", "routes", o.all);
		CHECK(!r,
		      "import of %zu IPv6 routes (nfc_coll_replace, %.0f "
		      "ms)%s%s",
		      json_object_size(o.all), now_ms() - t0, r ? ": " : "",
		      r ? nfc_errmsg(nfc) : "");
		/* + a connected /64, a local /128 and a link-local /128 a
		 * port. */
		n = fib6_count();
		CHECK(n == NROUTES + 6, "rt_fib6 holds %d entries (want %d)", n,
		      NROUTES + 6);
		probe_all("whole table", 0);
#ifndef __SANITIZE_ADDRESS__
		t0 = now_ms();
		r = nfc_coll_replace(nfc, "r1", "routes", o.less);
		CHECK(!r, "replace by %zu routes (%zu fewer; %.0f ms)%s%s",
		      json_object_size(o.less),
		      json_object_size(o.all) - json_object_size(o.less),
		      now_ms() - t0, r ? ": " : "", r ? nfc_errmsg(nfc) : "");
		n = fib6_count();
		CHECK(n == (int)json_object_size(o.less) + 6,
		      "rt_fib6 holds %d entries (want %zu)", n,
		      json_object_size(o.less) + 6);
		probe_all("after the replace", 1);
#endif
		t0 = now_ms();
		r = 0;
		for (int i = 0; i < o.ne && !r; i++)
			r = nfc_coll_del(nfc, "r1", "routes", o.e[i]);
		CHECK(!r, "%d routes deleted one at a time (%.0f ms)%s%s", o.ne,
		      now_ms() - t0, r ? ": " : "", r ? nfc_errmsg(nfc) : "");
#ifndef __SANITIZE_ADDRESS__
		probe_all("after the deletions", 2);
#else
		probe_all("after the deletions", 3);
#endif
	}
	if (nfc) {
		CHECK(!nfc_reset(nfc), "reset");
		nfc_close(nfc);
	}
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	json_decref(o.all);
	json_decref(o.less);
	free(o.e);
	free(o.p);
	printf("# %d failed\n", test_failures);
	TEST_EXIT();
}
