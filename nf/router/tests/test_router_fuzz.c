// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Random and mutated frames (tests/unit/fuzzpkt.h) through the router, in
 * XDP and in TC, by tail call and as the program attached to the port's
 * netdev. Each frame is judged against what the README says the router
 * does with it, worked out here from the frame and the configuration
 * below (a longest-prefix match of its own), not from router.bpf.c:
 *   - forwarded only if it is IPv4 for the in port's MAC, with a valid
 *     header (version 4, no options, total length within the frame,
 *     checksum), sources and destinations not martian, a TTL over 1, a
 *     route and a resolved next hop; then out of the route's port, to the
 *     next hop's MAC from the port's, TTL one less, header checksum valid,
 *     every other byte as it came;
 *   - echo requests to a router address answered in place when the reply
 *     leaves the in port: a valid reply (addresses swapped, TTL 64, ICMP
 *     checksum valid), and only to a whole, correct echo request of at
 *     most 512 bytes (longer ones: the slow path);
 *   - ARP requests for the in port's address answered in place, unless
 *     their sender is that address, loopback or multicast;
 *   - everything else dropped or sent up (a drop verdict), nothing sent.
 * No slow path serves the router here: nothing is learnt, the neighbour
 * table stays the static one.
 *
 *   p1 198.51.100.1/26  H1 198.51.100.2      routes 203.0.113.128/25 via H2
 *   p2 198.51.100.65/26 H2 198.51.100.66            0.0.0.0/0 via H3
 *   p3 203.0.113.1/26   H3 203.0.113.2
 *   p4 198.19.0.1/16    H4 198.19.5.5 (a subnet too large for rt_nbr)
 *
 *   test_router_fuzz [--seed S] [--seconds T] [--frames N]
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "fuzzpkt.h"
#include "router/router.h"

#define NP 4
static char root[128], dev[NP][IF_NAMESIZE], peer[NP][IF_NAMESIZE];
static struct fz_nf n;

static const char *const port_ip[NP] = {"198.51.100.1", "198.51.100.65",
					"203.0.113.1", "198.19.0.1"};
static const int port_plen[NP] = {26, 26, 26, 16};
static const struct {
	const char *ip;
	int port;
	__u8 mac[6];
} nbr[] = {
	{"198.51.100.2", 0, {2, 0, 0, 0, 0, 1}},
	{"198.51.100.66", 1, {2, 0, 0, 0, 0, 2}},
	{"203.0.113.2", 2, {2, 0, 0, 0, 0, 3}},
	{"198.19.5.5", 3, {2, 0, 0, 0, 0, 4}},
};
static const struct {
	const char *prefix;
	int plen;
	const char *via;
} routes[] = {{"203.0.113.128", 25, "198.51.100.66"},
	      {"0.0.0.0", 0, "203.0.113.2"}};

static __u8 macs[NP + 6][6]; /* ports', neighbours', broadcast, other */
static __be32 ip4s[32];
static int n_ip4;
static struct fz_hints hints;
static long outcome[4]; /* frames by expect.kind: how deep the fuzz got */

static __u32 h32(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return ntohl(a.s_addr);
}

static __u32 mask(int plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

/* ---- the oracle: the README's router, from the frame ------------------- */

enum { R_NONE, R_CONNECTED, R_VIA, R_LOCAL, R_BCAST };
struct rt {
	int type, port;
	__u32 nh;
};

static struct rt lookup(__u32 a)
{
	struct rt r = {R_NONE, -1, 0};
	int best = -1;

	for (int p = 0; p < NP; p++) {
		__u32 m = mask(port_plen[p]), pa = h32(port_ip[p]);

		if (a == pa)
			return (struct rt){R_LOCAL, p, 0};
		if (a == (pa | ~m))
			return (struct rt){R_BCAST, p, 0};
		if ((a & m) == (pa & m) && port_plen[p] > best) {
			best = port_plen[p];
			r = (struct rt){R_CONNECTED, p, a};
		}
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		__u32 m = mask(routes[i].plen);

		if ((a & m) == h32(routes[i].prefix) && routes[i].plen > best) {
			best = routes[i].plen;
			r = lookup(h32(routes[i].via));
			r.type = R_VIA;
		}
	}
	return r;
}

static int martian(__u32 a)
{
	return a >> 24 == 0 || a >> 24 == 127 || a >> 28 >= 0xe;
}

enum { X_DROP, X_FWD, X_ECHO, X_ARP };
struct expect {
	int kind, port;
	const __u8 *dmac;
	const char *why; /* X_DROP: the reason */
};

static struct expect drop(const char *why)
{
	return (struct expect){X_DROP, -1, NULL, why};
}

static struct expect ipv4(const __u8 *f, __u32 len, int in)
{
	const __u8 *ip = f + 14;
	__u32 room = len - 14, tot, src, dst;
	struct rt r, s;

	if (memcmp(f, macs[in], 6))
		return drop("IPv4 not for the port's MAC");
	if (room < 20)
		return drop("IPv4 header truncated");
	if (ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
		return drop("bad version or header length");
	if ((ip[0] & 15) > 5)
		return drop("IPv4 options");
	tot = fz_get16(ip + 2);
	if (tot < 20 || tot > room)
		return drop("total length disagrees with the frame");
	if (fz_fold(fz_sum(ip, 20, 0)))
		return drop("bad header checksum");
	src = fz_get32(ip + 12);
	dst = fz_get32(ip + 16);
	if (martian(src) || martian(dst))
		return drop("martian source or destination");
	if (src == h32(port_ip[in]))
		return drop("the in port's own address as the source");
	r = lookup(dst);
	if (r.type == R_LOCAL) {
		if (fz_get16(ip + 6) & 0x3fff)
			return drop("a fragment for the router");
		if (ip[9] != 1)
			return drop("for the router, not ICMP: slow path");
		if (tot < 28 || ip[20] != 8 || ip[21] != 0)
			return drop("for the router, not an echo request");
		if (fz_l4_ok(ip) != 1)
			return drop("an echo request with a bad ICMP checksum");
		if (tot - 20 > 512)
			return drop(
				"an echo request over 512 bytes: slow path");
		s = lookup(src);
		if ((s.type != R_CONNECTED && s.type != R_VIA) || s.port != in)
			return drop("an echo whose reply leaves another port");
		return (struct expect){X_ECHO, in, f + 6, NULL};
	}
	if (r.type == R_BCAST)
		return drop("a directed broadcast");
	if (r.type == R_NONE)
		return drop("no route");
	if (ip[8] <= 1)
		return drop("TTL 0 or 1");
	for (size_t i = 0; i < sizeof(nbr) / sizeof(nbr[0]); i++)
		if (h32(nbr[i].ip) == r.nh && nbr[i].port == r.port)
			return (struct expect){X_FWD, r.port, nbr[i].mac, NULL};
	return drop("next hop not resolved");
}

static struct expect expect(const __u8 *f, __u32 len, int in)
{
	const __u8 *a = f + 14;
	__u16 et = fz_get16(f + 12);

	if (et == 0x0800)
		return ipv4(f, len, in);
	if (et != 0x0806)
		return drop("neither IPv4 nor ARP");
	if (memcmp(f, macs[in], 6) && memcmp(f, "\xff\xff\xff\xff\xff\xff", 6))
		return drop("ARP not for the port's MAC nor broadcast");
	if (len < 14 + 28)
		return drop("ARP truncated");
	if (fz_get16(a) != 1 || fz_get16(a + 2) != 0x0800 || a[4] != 6 ||
	    a[5] != 4)
		return drop("ARP not Ethernet/IPv4");
	if (fz_get16(a + 6) != 1 || fz_get32(a + 24) != h32(port_ip[in]))
		return drop("not an ARP request for the port's address");
	{
		__u32 spa = fz_get32(a + 14);

		if (spa == h32(port_ip[in]) || spa >> 24 == 127 ||
		    spa >> 28 >= 0xe)
			return drop("ARP from the port's own address, loopback "
				    "or multicast");
	}
	return (struct expect){X_ARP, in, f + 6, NULL};
}

/* ---- what came out ------------------------------------------------------ */

/* The output of a forward or an echo reply against the input: MACs as
 * expected, a valid header, and the bytes outside `skip` (offsets from
 * the IP header) unchanged. */
static int same_but(struct fz_frame *f, const __u8 *dmac, const __u8 *smac,
		    const int *skip, int n_skip)
{
	const __u8 *i = f->in, *o = f->out;
	const char *bad;

	if (f->out_len != f->len)
		return fz_fail(f, "output is %u bytes, input %u", f->out_len,
			       f->len);
	if (memcmp(o, dmac, 6) || memcmp(o + 6, smac, 6))
		return fz_fail(f, "wrong MACs out");
	bad = fz_ipv4_bad(o + 14, f->out_len - 14);
	if (bad)
		return fz_fail(f, "output: %s", bad);
	for (__u32 k = 12; k < f->len; k++) {
		int s = 0;

		for (int j = 0; j < n_skip; j++)
			s |= (int)k - 14 == skip[j];
		if (!s && i[k] != o[k])
			return fz_fail(f, "output byte %u changed", k);
	}
	return 0;
}

/* Runs frame f in on port `in` and judges what the router did with it. */
static int judge(struct fz_frame *f, int in, int direct)
{
	/* forward: TTL and checksum; echo: addresses, TTL, checksums, type */
	static const int fwd_skip[] = {8, 10, 11};
	static const int echo_skip[] = {8,  10, 11, 12, 13, 14, 15,
					16, 17, 18, 19, 20, 22, 23};
	struct expect x = expect(f->in, f->len, in);
	int e, out = -1;
	__u64 sent;
	const __u8 *o;

	outcome[x.kind]++;
	e = fz_run(&n, f, in, direct);
	if (e)
		return e > 0 ? 0
			     : fz_fail(f, "the run failed: %s", strerror(-e));
	sent = fz_sent(&n);
	if (sent && !(sent & (sent - 1)))
		out = __builtin_ctzll(sent);
	if (f->verdict != n.hook->drop && f->verdict != n.hook->redirect)
		return fz_fail(f, "verdict %d: neither drop nor redirect",
			       f->verdict);
	if (f->verdict == n.hook->drop) {
		if (sent)
			return fz_fail(f, "dropped but counted out of 0x%llx",
				       (unsigned long long)sent);
		if (x.kind != X_DROP)
			return fz_fail(f, "dropped a frame to %s out of p%d",
				       x.kind == X_FWD	  ? "forward"
				       : x.kind == X_ECHO ? "answer (echo)"
							  : "answer (ARP)",
				       x.port + 1);
		return 0;
	}
	if (x.kind == X_DROP)
		return fz_fail(f,
			       "sent out of ports 0x%llx a frame to drop: %s",
			       (unsigned long long)sent, x.why);
	if (out != x.port)
		return fz_fail(f, "sent out of ports 0x%llx, not p%d",
			       (unsigned long long)sent, x.port + 1);
	o = f->out;
	if (x.kind == X_FWD) {
		if (same_but(f, x.dmac, macs[out], fwd_skip, 3))
			return -1;
		if (o[14 + 8] != f->in[14 + 8] - 1)
			return fz_fail(f, "TTL %u out, %u in", o[22],
				       f->in[22]);
		return 0;
	}
	if (x.kind == X_ECHO) {
		if (same_but(f, x.dmac, macs[in], echo_skip, 14))
			return -1;
		if (memcmp(o + 26, f->in + 30, 4) ||
		    memcmp(o + 30, f->in + 26, 4))
			return fz_fail(f, "echo reply: addresses not swapped");
		if (o[22] != 64 || o[34] != 0 || o[35] != 0)
			return fz_fail(f, "echo reply: TTL %u, type %u code %u",
				       o[22], o[34], o[35]);
		if (fz_l4_ok(o + 14) != 1)
			return fz_fail(f, "echo reply: ICMP checksum wrong");
		return 0;
	}
	/* ARP reply */
	if (f->out_len != f->len || memcmp(o, x.dmac, 6) ||
	    memcmp(o + 6, macs[in], 6) || fz_get16(o + 14 + 6) != 2 ||
	    memcmp(o + 14 + 8, macs[in], 6) ||
	    memcmp(o + 14 + 14, f->in + 14 + 24, 4) ||
	    memcmp(o + 14 + 18, f->in + 14 + 8, 10))
		return fz_fail(f, "not the ARP reply expected");
	return 0;
}

static int one(void *ctx, struct fz_rng *r, struct fz_frame *f)
{
	int in = fz_below(r, NP);

	hints.dst = macs[in];
	fz_make(r, &hints, f);
	return judge(f, in, *(int *)ctx);
}

/* Frames the fuzzer found, kept: from the source MAC on (the destination
 * is the in port's MAC, which changes from run to run). */
static const struct {
	int in;
	const char *what, *hex;
} found[] = {
	{0, "an echo request with a bad ICMP checksum, answered with one",
	 "020000000003080045c000867e1a0000ff01d664c6336402cb00"
	 "7101080003703cd81b7aef803bf1c165b93aa59ff5c15c3eb2e3215f674794df"
	 "39be3bdd4f6a3c3aa3602258bf3f2f5dd9e3078b045516f6996833cbc38821bb"
	 "9af3098b522c2d9ca0b276ebc937ab667c728d950d49b347cee56781823fadb2"
	 "c4116beec8e16d207181fb941c526eb09f1577b2"},
	{0,
	 "an echo request whose ICMP header is the frame's padding "
	 "(total length 20), answered",
	 "020000000001080045000014000100004001267ec6336402c63364010800e5ca"
	 "12340001000000000000000000000000000000000000"},
};

static void regressions(const char *name, int direct)
{
	static struct fz_frame f;

	for (size_t i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
		fz_from_hex(&f, 6, found[i].hex);
		memcpy(f.in, macs[found[i].in], 6);
		CHECK(!judge(&f, found[i].in, direct),
		      "%s: found before: %s%s%s", name, found[i].what,
		      f.what[0] ? ": " : "", f.what);
	}
}

/* ---- set-up ---------------------------------------------------------------
 */

static int setup(struct nfc *nfc, const char *mode)
{
	char key[32], ip[32];
	json_t *o;
	int r = nfc_nf_add(nfc, "router", "r1", mode, NULL);

	for (int p = 0; !r && p < NP; p++) {
		snprintf(key, sizeof(key), "p%d", p + 1);
		snprintf(ip, sizeof(ip), "%s/%d", port_ip[p], port_plen[p]);
		o = json_pack("{s:s}", "ip", ip);
		r = nfc_port_add(nfc, "r1", key, dev[p], o);
		json_decref(o);
	}
	for (size_t i = 0; !r && i < sizeof(nbr) / sizeof(nbr[0]); i++) {
		const __u8 *m = nbr[i].mac;

		snprintf(key, sizeof(key), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
		o = json_pack("{s:s}", "mac", key);
		r = nfc_coll_add(nfc, "r1", "arp", nbr[i].ip, o);
		json_decref(o);
	}
	for (size_t i = 0; !r && i < sizeof(routes) / sizeof(routes[0]); i++) {
		snprintf(key, sizeof(key), "%s/%d", routes[i].prefix,
			 routes[i].plen);
		o = json_pack("{s:s}", "nexthop", routes[i].via);
		r = nfc_coll_add(nfc, "r1", "routes", key, o);
		json_decref(o);
	}
	return r;
}

/* Ports' MACs (from rt_ports: the peers'), and the addresses frames are
 * made from. */
static void make_hints(void)
{
	static const char *const more[] = {
		"198.51.100.0",	  "198.51.100.63", "198.51.100.127",
		"203.0.113.63",	  "203.0.113.130", "203.0.113.200",
		"198.19.255.255", "198.51.100.10", "0.0.0.1",
		"127.0.0.1",	  "224.0.0.1",	   "255.255.255.255"};
	int fd = dpt_pinned(root, "nf/0-r1/map/rt_ports");

	for (__u32 p = 0; p < NP; p++) {
		struct rt_port v = {0};

		bpf_map_lookup_elem(fd, &p, &v);
		memcpy(macs[p], v.mac, 6);
	}
	close(fd);
	for (int i = 0; i < 4; i++)
		memcpy(macs[NP + i], nbr[i].mac, 6);
	memset(macs[NP + 4], 0xff, 6);
	memcpy(macs[NP + 5], "\x02\x00\x00\x00\x00\x77", 6);
	n_ip4 = 0;
	for (int twice = 0; twice < 2; twice++) {
		for (int p = 0; p < NP; p++)
			ip4s[n_ip4++] = htonl(h32(port_ip[p]));
		for (int i = 0; i < 4; i++)
			ip4s[n_ip4++] = htonl(h32(nbr[i].ip));
	}
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		ip4s[n_ip4++] = htonl(h32(more[i]));
	hints = (struct fz_hints){.macs = (const __u8(*)[6])macs,
				  .n_macs = NP + 6,
				  .ip4 = ip4s,
				  .n_ip4 = n_ip4};
}

int main(int argc, char **argv)
{
	static const int by_tail_call = 0, direct = 1;
	struct fz_opts o;
	struct nfc *nfc;
	char name[96];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fz_args(argc, argv, &o))
		return 2;
	fz_netns();
	dpt_root(root, sizeof(root), "rtfz");
	if (dpt_veths("rtz", NP, dev, peer))
		goto out;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	for (size_t h = 0; h < 2; h++) {
		const struct fz_hook *hk = &fz_hooks[h];

		if (setup(nfc, hk->mode) ||
		    fz_nf_open(&n, root, "nf/0-r1", 0, NP, hk)) {
			CHECK(0, "%s: set up r1: %s", hk->mode,
			      nfc_errmsg(nfc));
			continue;
		}
		make_hints();
		for (int i = 0; i < NP; i++)
			n.ifindex[i] = if_nametoindex(dev[i]);
		for (int d = 0; d < 2; d++) {
			snprintf(name, sizeof(name), "router %s, %s", hk->mode,
				 d ? "attached" : "by tail call");
			regressions(name, d);
			memset(outcome, 0, sizeof(outcome));
			fz_loop(&o, name, one,
				(void *)(d ? &direct : &by_tail_call));
			printf("# %s: to drop %ld, to forward %ld, echo "
			       "requests to answer %ld, ARP requests %ld\n",
			       name, outcome[X_DROP], outcome[X_FWD],
			       outcome[X_ECHO], outcome[X_ARP]);
		}
		fz_nf_close(&n);
		CHECK(!nfc_reset(nfc), "%s: reset", hk->mode);
	}
	nfc_close(nfc);
out:
	dpt_veths_del(NP, dev);
	dpt_root_gone(root);
	TEST_EXIT();
}
