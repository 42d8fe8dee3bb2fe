// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Atomic rule sets, at the packet level: a sender thread runs frames
 * through the router (BPF_PROG_TEST_RUN, one frame a run, destinations
 * spread over 10,000 routes) while the main thread replaces the whole set
 * of routes by another one, with `apply` and with nfc_coll_replace (and
 * a set with one bad route is refused, leaving the old one). The
 * next hop a frame leaves for tells which set decided it:
 *
 *   set A: 10,000 /29s of 198.18.0.0/15 (RFC 2544) via HA
 *   set B: the same 10,000 /29s via HB (every rule differs from A's)
 *   set A': 5,000 /28s covering the same addresses, via HA (a route
 *           replaced by a shorter one, and back)
 *   in all of them: 0.0.0.0/0 via HC, the catch-all no complete set lets
 *   a probe reach.
 *
 * Checked for each swap: no frame reached HC or was left without an answer
 * (no route, no neighbour, dropped), both sets decided frames (the swap
 * happened while they flowed), and the sets never alternate: once a frame
 * was decided by the new set, no later one is decided by the old. Frames
 * are sent one after the other by one thread, so "later" is exact.
 *
 *   p1 198.51.100.1/26 (frames come in here)
 *   p2 203.0.113.1/26: HA 203.0.113.10, HB .11, HC .12 (static ARP)
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

#include "common.h"
#include "nfchain/nf.h"
#include "nfchain/nfchain.h"
#include "router/router.h"
#include "router/rt_pkt.h"
#include "dpswap.h"

#define NROUTES 10000
enum { XDP_REDIRECT_ = 4 };
enum { TO_A, TO_B, TO_C, OTHER };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static struct nfc *nfc;
static __u8 PM[6]; /* p1's MAC */
static const __u8 HMAC[3][6] = {
	{2, 0, 0, 0, 0, 0xa}, {2, 0, 0, 0, 0, 0xb}, {2, 0, 0, 0, 0, 0xc}};
static const char *const HIP[3] = {"203.0.113.10", "203.0.113.11",
				   "203.0.113.12"};

/* ---- the frames ---------------------------------------------------------- */

static void frame_to(__u8 *f, __be32 dst)
{
	memset(f, 0, 64);
	memcpy(f, PM, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	rt_build_ip((rt_iphdr *)(f + NFC_ETH_HLEN), inet_addr("198.51.100.2"),
		    dst, IPPROTO_UDP, 0, 64, 1, 30);
}

/* Host address 1 of route i of set A (198.18.0.0 + 8 i). */
static __be32 probe(unsigned i)
{
	return htonl((198u << 24 | 18u << 16) + 8u * i + 1);
}

static void probe_frame(unsigned k, __u8 *f)
{
	frame_to(f, probe(k));
}

/* The next hop a frame leaves for tells which set decided it. */
static int probe_kind(unsigned k, const struct dpt_run *r, char *why,
		      size_t len)
{
	(void)k;
	if (r->verdict == XDP_REDIRECT_)
		for (int h = 0; h < 3; h++)
			if (!memcmp(r->out, HMAC[h], 6))
				return h;
	snprintf(why, len,
		 "verdict %d, out %02x:%02x:%02x:%02x:%02x:%02x, %u bytes",
		 r->verdict, r->out[0], r->out[1], r->out[2], r->out[3],
		 r->out[4], r->out[5], r->out_len);
	return OTHER;
}

/* ---- the sets ------------------------------------------------------------ */

/* The routes object of a set: A (via HA), B (via HB) or A' (/28s via
 * HA); the catch-all in each. */
static json_t *routes(char set)
{
	json_t *o = json_object();
	char key[32];
	int step = set == 'P' ? 2 : 1, plen = set == 'P' ? 28 : 29;
	const char *nh = set == 'B' ? HIP[1] : HIP[0];

	for (unsigned i = 0; i < NROUTES; i += step) {
		unsigned a = (198u << 24 | 18u << 16) + 8u * i;

		snprintf(key, sizeof(key), "%u.%u.%u.%u/%d", a >> 24,
			 (a >> 16) & 255, (a >> 8) & 255, a & 255, plen);
		json_object_set_new(o, key, json_pack("{s:s}", "nexthop", nh));
	}
	json_object_set_new(o, "0.0.0.0/0",
			    json_pack("{s:s}", "nexthop", HIP[2]));
	return o;
}

/* The running document with r1's routes replaced by set `set`. */
static int apply_set(char set)
{
	return dps_apply_coll(nfc, "r1", "routes", routes(set));
}

/* r1's routes replaced by set `set` through the library call. */
static int replace_set(char set)
{
	json_t *o = routes(set);
	int r = nfc_coll_replace(nfc, "r1", "routes", o);

	json_decref(o);
	return r;
}

static struct dps sender = {.root = root,
			    .prog = "nf/0-r1/prog",
			    .nf = 0,
			    .nprobes = NROUTES,
			    .frame = probe_frame,
			    .kind = probe_kind};

static void during(const char *what, int old, int new, int (*swap)(char),
		   char set)
{
	sender.nfc = nfc;
	dps_during(&sender, what, old, new, swap, set);
}

/* Every probe is decided by set `kind` now. */
static void all_by(const char *what, int kind)
{
	int prog = dpt_pinned(root, "nf/0-r1/prog"), bad = 0;
	__u8 f[64];

	for (unsigned i = 0; i < NROUTES && prog >= 0; i++) {
		struct dpt_run r;

		dpt_set_meta(root, 0, 0);
		frame_to(f, probe(i));
		if (dpt_run_fd(prog, f, 64, 0, 1, 0, &r) ||
		    r.verdict != XDP_REDIRECT_ || memcmp(r.out, HMAC[kind], 6))
			bad++;
		if (i == 64)
			i = NROUTES - 64; /* the ends of the range suffice */
	}
	if (prog >= 0)
		close(prog);
	CHECK(prog >= 0 && !bad, "%s: every probe goes to H%c (%d do not)",
	      what, "ABC"[kind], bad);
}

static int setup(void)
{
	json_t *c;
	int r = 0, fd;
	__u32 k = 0;
	struct rt_port pt = {0};
	char mac[NFC_MAC_STRLEN];

	r |= nfc_nf_add(nfc, "router", "r1", "xdp", NULL);
	c = json_pack("{s:s}", "ip", "198.51.100.1/26");
	r |= nfc_port_add(nfc, "r1", "p1", dev[0], c);
	json_decref(c);
	c = json_pack("{s:s}", "ip", "203.0.113.1/26");
	r |= nfc_port_add(nfc, "r1", "p2", dev[1], c);
	json_decref(c);
	for (int h = 0; h < 3 && !r; h++) {
		c = json_pack("{s:s}", "mac", nfc_mac_str(HMAC[h], mac));
		r |= nfc_coll_add(nfc, "r1", "arp", HIP[h], c);
		json_decref(c);
	}
	fd = dpt_pinned(root, "nf/0-r1/map/rt_ports");
	if (fd < 0 || bpf_map_lookup_elem(fd, &k, &pt))
		r = -1;
	memcpy(PM, pt.mac, 6);
	if (fd >= 0)
		close(fd);
	CHECK(!r, "router with two ports and three next hops%s%s",
	      r ? ": " : "", r ? nfc_errmsg(nfc) : "");
	return r;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	dpt_root(root, sizeof(root), "rs");
	if (dpt_veths("rs", 2, dev, peer))
		return 1;
	nfc = dpt_open(root);
	if (nfc && !setup()) {
		int r = apply_set('A');

		CHECK(!r, "apply set A (%d routes)%s%s", NROUTES, r ? ": " : "",
		      r ? nfc_errmsg(nfc) : "");
		all_by("set A", TO_A);
		during("apply A -> B", TO_A, TO_B, apply_set, 'B');
		all_by("set B", TO_B);
		during("apply B -> A' (/29s -> /28s)", TO_B, TO_A, apply_set,
		       'P');
		all_by("set A'", TO_A);
		during("apply A' -> B (/28s -> /29s)", TO_A, TO_B, apply_set,
		       'B');
		all_by("set B again", TO_B);
		during("nfc_coll_replace B -> A", TO_B, TO_A, replace_set, 'A');
		all_by("set A again", TO_A);
		r = replace_set('A');
		CHECK(!r, "nfc_coll_replace with the same set: accepted");
		{
			json_t *bad = routes('B');

			json_object_set_new(bad, "198.18.200.0/24",
					    json_pack("{s:s}", "nexthop",
						      "198.51.100.200"));
			r = nfc_coll_replace(nfc, "r1", "routes", bad);
			json_decref(bad);
			CHECK(r && strstr(nfc_errmsg(nfc), "198.18.200.0/24"),
			      "a set with one bad route is refused, naming it: "
			      "%s",
			      nfc_errmsg(nfc));
			all_by("refused set: set A still", TO_A);
		}
	}
	if (nfc) {
		CHECK(!nfc_reset(nfc), "reset");
		nfc_close(nfc);
	}
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	printf("# %d failed\n", test_failures);
	TEST_EXIT();
}
