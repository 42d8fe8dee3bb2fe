// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The router's data plane on crafted frames (BPF_PROG_TEST_RUN), in XDP and
 * in TC: TTL and incremental checksum, MAC rewrite, longest-prefix choice,
 * echo and ARP replies, the malformed and unroutable packets (each dropped
 * or sent up, and counted under its reason), the slow path end to end (an
 * unresolved next hop: ARP request out, reply in, the held packet sent;
 * time exceeded built and sent), aging, the reverse-path filter (a reload
 * that keeps the maps), state kept across a reopen. Then, once: bad
 * configuration (errors that name the object, nothing changed) and a table
 * of 10,000 routes.
 *
 * Ports p1..p3 are veths whose other ends stay in the root namespace; the
 * frames the slow path sends are read there with a packet socket.
 *
 *   p1 198.51.100.1/26   host H1 198.51.100.2   (static ARP)
 *   p2 198.51.100.65/26  host H2 198.51.100.66  (static ARP)
 *   p3 203.0.113.1/26    host H3 203.0.113.2, H5 203.0.113.5 (static ARP)
 *   routes: 203.0.113.128/25 via H2, 203.0.113.192/26 via H1,
 *           0.0.0.0/0 via H3
 *
 * One file (~1,050 lines) because every case runs on the same set-up (the
 * veths, the router in each mode) that takes seconds to build; the cases
 * are a table (CASE) and a few end-to-end sequences.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <linux/if_ether.h> /* ETH_P_ALL, for packet sockets */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "router/router.h"
#include "router/rt_pkt.h"
#include "dptest.h"

enum { XDP_DROP_ = 1, XDP_REDIRECT_ = 4, TC_SHOT = 2, TC_REDIRECT = 7 };

static char root[128], dev[4][IF_NAMESIZE], peer[4][IF_NAMESIZE];
static struct nfc *nfc;
static int verdict_out, verdict_drop;
static const char *mode;

static const __u8 H1[6] = {2, 0, 0, 0, 0, 1}, H2[6] = {2, 0, 0, 0, 0, 2};
static const __u8 H3[6] = {2, 0, 0, 0, 0, 3}, H5[6] = {2, 0, 0, 0, 0, 5};
static const __u8 H9[6] = {2, 0, 0, 0, 0, 9}, OTHER[6] = {2, 0, 0, 0, 0, 0x77};
static __u8 PM[4][6]; /* the ports' MACs */

static __be32 ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* ---- maps ---------------------------------------------------------------- */

static int pinned(const char *rel)
{
	return dpt_pinned(root, rel);
}

static void set_meta(int nf, int port)
{
	dpt_set_meta(root, nf, port);
}

static __u64 percpu_sum(const char *rel, __u32 k, size_t off)
{
	size_t vs = !strcmp(rel, "stats") ? sizeof(struct nfc_port_stats) : 8;

	return dpt_percpu_sum(root, rel, k, off, vs);
}

static __u64 cnt(unsigned idx)
{
	return percpu_sum("nf/0-r1/map/rt_cnt", idx, 0);
}

static __u64 tx(int port)
{
	return percpu_sum("stats", NFC_GPORT(0, port),
			  offsetof(struct nfc_port_stats, tx_packets));
}

static __u64 drops(int port)
{
	return percpu_sum("stats", NFC_GPORT(0, port),
			  offsetof(struct nfc_port_stats, drops));
}

static void read_port_macs(void)
{
	int fd = pinned("nf/0-r1/map/rt_ports");

	for (__u32 p = 0; p < 4; p++) {
		struct rt_port v = {0};

		bpf_map_lookup_elem(fd, &p, &v);
		memcpy(PM[p], v.mac, 6);
	}
	close(fd);
}

/* ---- frames ----------------------------------------------------------------
 */

struct frame {
	__u8 d[256];
	size_t len;
};

/* Ethernet + IPv4 (+ `pl` bytes of payload: an ICMP echo request when
 * proto is ICMP, else a pattern). */
static struct frame ipf(const __u8 *dst, const char *src, const char *daddr,
			__u8 ttl, __u8 proto, size_t pl)
{
	struct frame f = {.len = NFC_ETH_HLEN + 20 + pl};
	rt_ethhdr *e = (rt_ethhdr *)f.d;
	rt_iphdr *ip = (rt_iphdr *)(e + 1);
	__u8 *p = (__u8 *)(ip + 1);

	memcpy(e->h_dest, dst, 6);
	memcpy(e->h_source, H1, 6);
	e->h_proto = htons(NFC_ETH_P_IP);
	for (size_t i = 0; i < pl; i++)
		p[i] = (__u8)i;
	if (proto == IPPROTO_ICMP && pl >= 8) {
		memset(p, 0, 8);
		p[0] = 8; /* echo request */
		p[5] = 1;
		uint16_t sum = rt_csum(p, pl);

		memcpy(p + 2, &sum, 2);
	}
	rt_build_ip(ip, ip4(src), ip4(daddr), proto, 0, ttl, 0x1234, pl);
	return f;
}

static struct frame arpf(const __u8 *edst, const __u8 *sha, const char *spa,
			 const char *tpa, int op)
{
	struct frame f;

	f.len = rt_build_arp_request(f.d, sha, ip4(spa), ip4(tpa), edst);
	((struct rt_arp_pkt *)(f.d + NFC_ETH_HLEN))->op = htons(op);
	return f;
}

static rt_iphdr *iph(struct frame *f)
{
	return (rt_iphdr *)(f->d + NFC_ETH_HLEN);
}

static int ip_sum_ok(const rt_iphdr *ip)
{
	return rt_csum(ip, ip->ihl * 4) == 0;
}

/* Runs the router on frame `in` arriving on port `port`; returns the
 * verdict, the frame as it leaves in *out. */
static int run(int port, const struct frame *in, struct frame *out)
{
	struct dpt_run r;

	set_meta(0, port);
	dpt_run(root, "nf/0-r1/prog", in->d, in->len, &r);
	if (out) {
		out->len =
			r.out_len < sizeof(out->d) ? r.out_len : sizeof(out->d);
		memcpy(out->d, r.out, out->len);
	}
	return r.verdict < 0 ? -1 : r.verdict;
}

/* ---- frames the slow path sends, read at the ports' peers ------------------
 */

static int sock[3];

static void sock_open(void)
{
	for (int p = 0; p < 3; p++) {
		struct sockaddr_ll sll = {.sll_family = AF_PACKET,
					  .sll_protocol = htons(ETH_P_ALL),
					  .sll_ifindex =
						  (int)if_nametoindex(peer[p])};

		sock[p] = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK,
				 htons(ETH_P_ALL));
		if (sock[p] < 0 ||
		    bind(sock[p], (struct sockaddr *)&sll, sizeof(sll)))
			fprintf(stderr, "# packet socket on %s: %s\n", peer[p],
				strerror(errno));
	}
}

static void sock_drain(void)
{
	__u8 b[2048];

	for (int p = 0; p < 3; p++)
		while (recv(sock[p], b, sizeof(b), 0) > 0)
			;
}

/* The next frame of ethertype `proto` seen at port p's peer (1 s at most). */
static int capture(int p, __u16 proto, struct frame *f)
{
	for (int i = 0; i < 100; i++) {
		struct pollfd pf = {.fd = sock[p], .events = POLLIN};
		ssize_t n;

		nfc_poll(nfc, 0);
		if (poll(&pf, 1, 10) <= 0)
			continue;
		n = recv(sock[p], f->d, sizeof(f->d), 0);
		if (n >= NFC_ETH_HLEN &&
		    ((rt_ethhdr *)f->d)->h_proto == htons(proto)) {
			f->len = n;
			return 0;
		}
	}
	return -1;
}

/* ---- the cases
 * ---------------------------------------------------------------- */

static json_t *obj(const char *k1, const char *v1, const char *k2,
		   const char *v2)
{
	json_t *o = json_object();

	if (k1)
		json_object_set_new(o, k1, json_string(v1));
	if (k2)
		json_object_set_new(o, k2, json_string(v2));
	return o;
}

static int coll_add(const char *coll, const char *key, const char *k1,
		    const char *v1, const char *k2, const char *v2)
{
	json_t *o = obj(k1, v1, k2, v2);
	int r = nfc_coll_add(nfc, "r1", coll, key, o);

	json_decref(o);
	return r;
}

static int port_add(const char *name, const char *peerdev, const char *ip,
		    const char *ip6)
{
	json_t *o = obj("ip", ip, ip6 ? "ip6" : NULL, ip6);
	int r = nfc_port_add(nfc, "r1", name, peerdev, o);

	json_decref(o);
	return r;
}

static int setup(void)
{
	int r = nfc_nf_add(nfc, "router", "r1", mode, NULL);

	r = r ?: port_add("p1", dev[0], "198.51.100.1/26", "2001:db8:1::1/64");
	r = r ?: port_add("p2", dev[1], "198.51.100.65/26", NULL);
	r = r ?: port_add("p3", dev[2], "203.0.113.1/26", "2001:db8:3::1/64");
	/* A subnet too large for the direct-mapped neighbour slice. */
	r = r ?: port_add("p4", dev[3], "198.19.0.1/16", NULL);
	r = r
		    ?: coll_add("arp", "198.19.5.5", "mac", "02:00:00:00:00:05",
				NULL, NULL);
	r = r
		    ?: coll_add("arp", "198.51.100.2", "mac",
				"02:00:00:00:00:01", NULL, NULL);
	r = r
		    ?: coll_add("arp", "198.51.100.66", "mac",
				"02:00:00:00:00:02", "port", "p2");
	r = r
		    ?: coll_add("arp", "203.0.113.2", "mac",
				"02:00:00:00:00:03", NULL, NULL);
	r = r
		    ?: coll_add("arp", "203.0.113.5", "mac",
				"02:00:00:00:00:05", NULL, NULL);
	r = r
		    ?: coll_add("routes", "203.0.113.128/25", "nexthop",
				"198.51.100.66", NULL, NULL);
	r = r
		    ?: coll_add("routes", "203.0.113.192/26", "nexthop",
				"198.51.100.2", NULL, NULL);
	r = r
		    ?: coll_add("routes", "0.0.0.0/0", "nexthop", "203.0.113.2",
				NULL, NULL);
	CHECK(!r, "set up r1 (%s)", r ? nfc_errmsg(nfc) : "4 ports, routes");
	read_port_macs();
	return r;
}

static void forwarding(void)
{
	static const struct {
		const char *dst;
		int port;
		const __u8 *mac;
		const char *why;
	} lpm[] = {
		{"203.0.113.5", 2, H5, "connected subnet of p3"},
		{"203.0.113.130", 1, H2, "203.0.113.128/25 via H2"},
		{"203.0.113.200", 0, H1, "the longer 203.0.113.192/26 via H1"},
		{"198.51.100.150", 2, H3, "the default route via H3"},
		{"198.51.100.66", 1, H2, "connected subnet of p2"},
		{"198.19.5.5", 3, H5, "a /16's neighbour (hash, not a slice)"},
	};
	struct frame in, out;

	for (size_t i = 0; i < sizeof(lpm) / sizeof(lpm[0]); i++) {
		__u64 t = tx(lpm[i].port);
		int v;

		in = ipf(PM[0], "198.51.100.2", lpm[i].dst, 64, IPPROTO_UDP,
			 26);
		v = run(0, &in, &out);
		CHECK(v == verdict_out && tx(lpm[i].port) == t + 1 &&
			      !memcmp(out.d, lpm[i].mac, 6) &&
			      !memcmp(out.d + 6, PM[lpm[i].port], 6),
		      "to %s: out of p%d to its MAC: %s (verdict %d)",
		      lpm[i].dst, lpm[i].port + 1, lpm[i].why, v);
	}
	in = ipf(PM[0], "198.51.100.2", "203.0.113.5", 64, IPPROTO_UDP, 26);
	run(0, &in, &out);
	CHECK(out.len == in.len && iph(&out)->ttl == 63 &&
		      ip_sum_ok(iph(&out)) &&
		      !memcmp(out.d + NFC_ETH_HLEN, in.d + NFC_ETH_HLEN, 8) &&
		      out.d[NFC_ETH_HLEN + 9] == in.d[NFC_ETH_HLEN + 9] &&
		      !memcmp(out.d + NFC_ETH_HLEN + 12,
			      in.d + NFC_ETH_HLEN + 12,
			      in.len - NFC_ETH_HLEN - 12),
	      "TTL 64 -> 63, checksum valid, the rest untouched");
	/* The incremental update across every checksum value's neighbourhood:
	 * vary the id so that the sum takes the carry paths too. */
	int bad = 0;

	for (unsigned id = 0; id < 65536; id += 97) {
		in = ipf(PM[0], "198.51.100.2", "203.0.113.5", 1 + id % 255,
			 IPPROTO_UDP, 26);
		iph(&in)->id = htons(id);
		iph(&in)->check = 0;
		iph(&in)->check = rt_csum(iph(&in), 20);
		if (iph(&in)->ttl <= 1)
			continue;
		run(0, &in, &out);
		bad += !ip_sum_ok(iph(&out)) ||
		       iph(&out)->ttl != iph(&in)->ttl - 1;
	}
	CHECK(!bad,
	      "checksum after the TTL update valid for 675 ids and TTLs "
	      "(%d bad)",
	      bad);
}

/*
 * The forwarding cache (per CPU: the runs are pinned to one, so that every
 * frame after the first to a destination is a hit). What it decided must
 * not outlive a new MAC for the next hop, a new route or a route deleted;
 * and a hit still honours the TTL.
 */
static int to_130(struct frame *out)
{
	struct frame in = ipf(PM[0], "198.51.100.2", "203.0.113.130", 64,
			      IPPROTO_UDP, 26);

	return run(0, &in, out);
}

static void cache(void)
{
	static const __u8 HA[6] = {2, 0, 0, 0, 0, 0x0a};
	cpu_set_t one, was;
	struct frame in, out;
	__u64 t1, t2, ttl;
	int ok = 1, e;

	sched_getaffinity(0, sizeof(was), &was);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);

	for (int i = 0; i < 3; i++)
		ok &= to_130(&out) == verdict_out && !memcmp(out.d, H2, 6);
	CHECK(ok, "cache: to 203.0.113.130, 3 times: out of p2 to H2");

	e = nfc_coll_del(nfc, "r1", "arp", "198.51.100.66");
	e = e
		    ?: coll_add("arp", "198.51.100.66", "mac",
				"02:00:00:00:00:0a", "port", "p2");
	CHECK(!e && to_130(&out) == verdict_out && !memcmp(out.d, HA, 6),
	      "cache: the next hop's MAC changed: the next frame carries the "
	      "new one (%s)",
	      e ? nfc_errmsg(nfc) : "ok");

	e = coll_add("routes", "203.0.113.128/26", "nexthop", "198.51.100.2",
		     NULL, NULL);
	t1 = tx(0);
	CHECK(!e && to_130(&out) == verdict_out && tx(0) == t1 + 1 &&
		      !memcmp(out.d, H1, 6),
	      "cache: a longer route added: the next frame takes it, out of "
	      "p1 to H1 (%s)",
	      e ? nfc_errmsg(nfc) : "ok");
	e = nfc_coll_del(nfc, "r1", "routes", "203.0.113.128/26");
	t2 = tx(1);
	CHECK(!e && to_130(&out) == verdict_out && tx(1) == t2 + 1,
	      "cache: that route deleted: back out of p2");

	ttl = cnt(RT_SP_TTL);
	in = ipf(PM[0], "198.51.100.2", "203.0.113.130", 1, IPPROTO_UDP, 26);
	CHECK(run(0, &in, &out) != verdict_out && cnt(RT_SP_TTL) == ttl + 1,
	      "cache: TTL 1 to a cached destination: not forwarded, time "
	      "exceeded");

	e = nfc_coll_del(nfc, "r1", "arp", "198.51.100.66");
	e = e
		    ?: coll_add("arp", "198.51.100.66", "mac",
				"02:00:00:00:00:02", "port", "p2");
	CHECK(!e, "cache: H2's entry restored (%s)",
	      e ? nfc_errmsg(nfc) : "ok");
	sched_setaffinity(0, sizeof(was), &was);
}

static void malformed(void)
{
	struct frame f;
	struct {
		const char *what;
		unsigned reason;
		int port;
		struct frame f;
	} c[16];
	int n = 0;

#define CASE(w, r, p, expr)                                                    \
	do {                                                                   \
		f = ipf(PM[p], "198.51.100.2", "203.0.113.5", 64, IPPROTO_UDP, \
			26);                                                   \
		expr;                                                          \
		c[n++] = (typeof(c[0])){w, r, p, f};                           \
	} while (0)
	CASE("truncated IPv4 header", RT_D_TRUNCATED, 0,
	     f.len = NFC_ETH_HLEN + 12);
	CASE("version 6 in an IPv4 header", RT_D_BAD_HDR, 0,
	     iph(&f)->version = 6);
	CASE("header length 4 words", RT_D_BAD_HDR, 0, iph(&f)->ihl = 4);
	CASE("total length beyond the frame", RT_D_BAD_HDR, 0,
	     iph(&f)->tot_len = htons(300));
	CASE("total length under 20", RT_D_BAD_HDR, 0,
	     iph(&f)->tot_len = htons(12));
	CASE("bad header checksum", RT_D_BAD_CSUM, 0, iph(&f)->check ^= 0x0101);
	CASE("IP options", RT_D_OPTIONS, 0, iph(&f)->ihl = 6);
	CASE("fragment for the router", RT_D_FRAG_LOCAL, 0,
	     iph(&f)->daddr = ip4("198.51.100.1");
	     iph(&f)->frag_off = htons(0x2000); iph(&f)->check = 0;
	     iph(&f)->check = rt_csum(iph(&f), 20));
	CASE("martian source 127.0.0.1", RT_D_MARTIAN, 0,
	     iph(&f)->saddr = ip4("127.0.0.1");
	     iph(&f)->check = 0; iph(&f)->check = rt_csum(iph(&f), 20));
	CASE("source the in port's own address 198.51.100.1", RT_D_MARTIAN, 0,
	     iph(&f)->saddr = ip4("198.51.100.1");
	     iph(&f)->check = 0; iph(&f)->check = rt_csum(iph(&f), 20));
	CASE("not addressed to the port's MAC", RT_D_OTHERHOST, 0,
	     memcpy(f.d, OTHER, 6));
	CASE("IPv6 ethertype over an IPv4 header", RT_D_BAD_HDR, 0,
	     ((rt_ethhdr *)f.d)->h_proto = htons(NFC_ETH_P_IPV6));
	CASE("neither IPv4, IPv6 nor ARP", RT_D_PROTO, 0,
	     ((rt_ethhdr *)f.d)->h_proto = htons(0x88b5));
	CASE("directed broadcast 198.51.100.127", RT_D_BCAST, 0,
	     iph(&f)->daddr = ip4("198.51.100.127");
	     iph(&f)->check = 0; iph(&f)->check = rt_csum(iph(&f), 20));
#undef CASE
	c[n++] = (typeof(c[0])){
		"ARP request for another address", RT_D_ARP, 0,
		arpf(NULL, H1, "198.51.100.2", "198.51.100.9", 1)};
	for (int i = 0; i < n; i++) {
		__u64 before = cnt(c[i].reason), d = drops(c[i].port);

		/* The kernel's skb test run refuses a frame too short for an
		 * IPv4 header before the program sees it. */
		if (verdict_drop == TC_SHOT && c[i].reason == RT_D_TRUNCATED)
			continue;
		__u64 t = tx(0) + tx(1) + tx(2);
		int v = run(c[i].port, &c[i].f, NULL);

		CHECK(v == verdict_drop && cnt(c[i].reason) == before + 1 &&
			      drops(c[i].port) == d + 1 &&
			      tx(0) + tx(1) + tx(2) == t,
		      "%s: dropped, counted (verdict %d)", c[i].what, v);
	}
	(void)f;
}

static void local(void)
{
	struct frame in, out;
	int v;

	/* Echo requests to either of our addresses, answered in place. */
	for (int far = 0; far < 2; far++) {
		const char *to = far ? "203.0.113.1" : "198.51.100.1";

		in = ipf(PM[0], "198.51.100.2", to, 64, IPPROTO_ICMP, 16);
		v = run(0, &in, &out);
		CHECK(v == verdict_out && !memcmp(out.d, H1, 6) &&
			      !memcmp(out.d + 6, PM[0], 6) &&
			      iph(&out)->saddr == ip4(to) &&
			      iph(&out)->daddr == ip4("198.51.100.2") &&
			      iph(&out)->ttl == 64 && ip_sum_ok(iph(&out)) &&
			      out.d[NFC_ETH_HLEN + 20] == 0 &&
			      rt_csum(out.d + NFC_ETH_HLEN + 20, 16) == 0,
		      "echo request to %s: reply from it, out of p1 (verdict "
		      "%d)",
		      to, v);
	}
	/* ARP for p1's address: reply in place. */
	in = arpf(NULL, H1, "198.51.100.2", "198.51.100.1", 1);
	__u64 sp = cnt(RT_SP_ARP);

	v = run(0, &in, &out);
	{
		struct rt_arp_pkt *a = (void *)(out.d + NFC_ETH_HLEN);

		CHECK(v == verdict_out && !memcmp(out.d, H1, 6) &&
			      !memcmp(out.d + 6, PM[0], 6) &&
			      a->op == htons(2) && !memcmp(a->sha, PM[0], 6) &&
			      !memcmp(a->tha, H1, 6) &&
			      !memcmp(a->spa, "\xc6\x33\x64\x01", 4) &&
			      !memcmp(a->tpa, "\xc6\x33\x64\x02", 4) &&
			      cnt(RT_SP_ARP) == sp,
		      "ARP request for 198.51.100.1: answered, no slow path "
		      "for a known sender (verdict %d)",
		      v);
	}
	/* From an unknown sender: answered too, and learnt. */
	in = arpf(NULL, H9, "198.51.100.9", "198.51.100.1", 1);
	v = run(0, &in, &out);
	nfc_poll(nfc, 0);
	json_t *l = NULL;
	int learnt = 0;

	nfc_coll_list(nfc, "r1", "arp", &l);
	for (size_t i = 0; i < json_array_size(l); i++)
		learnt |= !strcmp(json_string_value(json_object_get(
					  json_array_get(l, i), "address")),
				  "198.51.100.9");
	json_decref(l);
	CHECK(v == verdict_out && cnt(RT_SP_ARP) == sp + 1 && learnt,
	      "ARP request from an unknown sender: answered and learnt");
	/* Found by a helper, beside Linux: a gratuitous request (arping
	 * -U, a failover) left the old MAC; a request from our own address
	 * or loopback was answered. */
	in = arpf(NULL, OTHER, "198.51.100.9", "198.51.100.9", 1);
	v = run(0, &in, &out);
	nfc_poll(nfc, 0);
	{
		int afd = pinned("nf/0-r1/map/rt_arp");
		__be32 ip = ip4("198.51.100.9");
		struct rt_neigh n = {0};

		CHECK(v == verdict_drop && afd >= 0 &&
			      !bpf_map_lookup_elem(afd, &ip, &n) &&
			      !memcmp(n.mac, OTHER, 6),
		      "a gratuitous ARP request from 198.51.100.9 with a new "
		      "MAC: not answered, the neighbour's MAC updated");
		if (afd >= 0)
			close(afd);
	}
	in = arpf(NULL, H1, "198.51.100.1", "198.51.100.1", 1);
	CHECK(run(0, &in, &out) == verdict_drop,
	      "ARP request from our own address: not answered");
	in = arpf(NULL, H1, "127.0.0.1", "198.51.100.1", 1);
	CHECK(run(0, &in, &out) == verdict_drop,
	      "ARP request from 127.0.0.1: not answered");
}

static void slow_path(void)
{
	struct frame in, out, cap;
	int v;

	/* TTL 1: sent up; time exceeded back to H1 from p1's address. */
	sock_drain();
	in = ipf(PM[0], "198.51.100.2", "203.0.113.5", 1, IPPROTO_UDP, 26);
	__u64 c = cnt(RT_SP_TTL);

	v = run(0, &in, &out);
	CHECK(v == verdict_drop && cnt(RT_SP_TTL) == c + 1,
	      "TTL 1: to the slow path, not forwarded");
	if (!capture(0, NFC_ETH_P_IP, &cap)) {
		rt_iphdr *ip = iph(&cap);
		__u8 *ic = (__u8 *)(ip + 1);

		CHECK(!memcmp(cap.d, H1, 6) && !memcmp(cap.d + 6, PM[0], 6) &&
			      ip->saddr == ip4("198.51.100.1") &&
			      ip->daddr == ip4("198.51.100.2") &&
			      ip->protocol == IPPROTO_ICMP && ip_sum_ok(ip) &&
			      ic[0] == 11 && ic[1] == 0 &&
			      rt_csum(ic, ntohs(ip->tot_len) - 20) == 0 &&
			      ntohs(ip->tot_len) == 20 + 8 + 46 &&
			      !memcmp(ic + 8, in.d + NFC_ETH_HLEN, 46),
		      "time exceeded sent to H1: from 198.51.100.1, quoting "
		      "the packet, checksums valid");
	} else {
		CHECK(0, "time exceeded sent to H1 (nothing seen at p1's "
			 "peer)");
	}

	/* An unresolved next hop: ARP request out of p3, reply in, the
	 * held packet out to the new neighbour, then the fast path. */
	sock_drain();
	in = ipf(PM[0], "198.51.100.2", "203.0.113.9", 64, IPPROTO_UDP, 26);
	c = cnt(RT_SP_NEIGH_MISS);
	v = run(0, &in, &out);
	CHECK(v == verdict_drop && cnt(RT_SP_NEIGH_MISS) == c + 1,
	      "next hop 203.0.113.9 unknown: to the slow path");
	if (!capture(2, NFC_ETH_P_ARP, &cap)) {
		struct rt_arp_pkt *a = (void *)(cap.d + NFC_ETH_HLEN);

		CHECK(!memcmp(cap.d, "\xff\xff\xff\xff\xff\xff", 6) &&
			      a->op == htons(1) && !memcmp(a->sha, PM[2], 6) &&
			      !memcmp(a->spa, "\xcb\x00\x71\x01", 4) &&
			      !memcmp(a->tpa, "\xcb\x00\x71\x09", 4),
		      "ARP request for 203.0.113.9 out of p3, from "
		      "203.0.113.1");
	} else {
		CHECK(0, "ARP request out of p3 (nothing seen)");
	}
	sock_drain();
	in = arpf(PM[2], H9, "203.0.113.9", "203.0.113.1", 2);
	run(2, &in, NULL);
	if (!capture(2, NFC_ETH_P_IP, &cap))
		CHECK(!memcmp(cap.d, H9, 6) && !memcmp(cap.d + 6, PM[2], 6) &&
			      iph(&cap)->daddr == ip4("203.0.113.9") &&
			      iph(&cap)->ttl == 63 && ip_sum_ok(iph(&cap)),
		      "ARP reply in: the held packet goes out to it, TTL 63");
	else
		CHECK(0, "ARP reply in: the held packet goes out (nothing "
			 "seen)");
	in = ipf(PM[0], "198.51.100.2", "203.0.113.9", 64, IPPROTO_UDP, 26);
	v = run(0, &in, &out);
	CHECK(v == verdict_out && !memcmp(out.d, H9, 6),
	      "the next packet to 203.0.113.9 takes the fast path");

	/* No route (the default route deleted). */
	CHECK(!nfc_coll_del(nfc, "r1", "routes", "0.0.0.0/0"),
	      "delete the default route");
	sock_drain();
	in = ipf(PM[0], "198.51.100.2", "198.51.100.150", 64, IPPROTO_UDP, 26);
	c = cnt(RT_SP_NO_ROUTE);
	v = run(0, &in, &out);
	CHECK(v == verdict_drop && cnt(RT_SP_NO_ROUTE) == c + 1,
	      "no route: to the slow path");
	if (!capture(0, NFC_ETH_P_IP, &cap)) {
		__u8 *ic = cap.d + NFC_ETH_HLEN + 20;

		CHECK(ic[0] == 3 && ic[1] == 0 &&
			      iph(&cap)->saddr == ip4("198.51.100.1"),
		      "net unreachable sent to H1 from 198.51.100.1");
	} else {
		CHECK(0, "net unreachable sent to H1 (nothing seen)");
	}
	coll_add("routes", "0.0.0.0/0", "nexthop", "203.0.113.2", NULL, NULL);
}

/* Aging: an entry past arp_timeout is dropped when unused, probed when
 * used (hit set by the fast path). The clock is moved by backdating. */
static void aging(void)
{
	int fd = pinned("nf/0-r1/map/rt_arp");
	__be32 used = ip4("203.0.113.9"), idle = ip4("198.51.100.9");
	struct rt_neigh n;
	__u64 sent = cnt(RT_CP_BASE + RT_CP_arp_requests_sent);

	for (int i = 0; i < 2; i++) {
		__be32 k = i ? used : idle;

		if (!bpf_map_lookup_elem(fd, &k, &n)) {
			n.updated = 1; /* long ago (uptime may be short) */
			bpf_map_update_elem(fd, &k, &n, BPF_EXIST);
		}
	}
	nfc_tick(nfc);
	CHECK(bpf_map_lookup_elem(fd, &idle, &n) && errno == ENOENT,
	      "an unused neighbour past arp_timeout is dropped");
	CHECK(!bpf_map_lookup_elem(fd, &used, &n) && n.probes == 1 &&
		      cnt(RT_CP_BASE + RT_CP_arp_requests_sent) == sent + 1,
	      "a used one is kept and probed");
	n.probes = 3;
	bpf_map_update_elem(fd, &used, &n, BPF_EXIST);
	nfc_tick(nfc);
	CHECK(bpf_map_lookup_elem(fd, &used, &n) && errno == ENOENT,
	      "... and dropped when the probes go unanswered");
	close(fd);
}

static void rp_filter(void)
{
	json_t *on = json_pack("{s:s}", "rp_filter", "true");
	json_t *off = json_pack("{s:s}", "rp_filter", "false");
	json_t *bad = json_pack("{s:s}", "rp_filter", "maybe");
	__u32 id = dpt_prog_id(root, "nf/0-r1/prog");
	struct frame in, out;
	int v;

	/* A run-time value: the running program reads the new one. */
	CHECK(!nfc_nf_set(nfc, "r1", on), "rp_filter=true %s", nfc_errmsg(nfc));
	CHECK(id && dpt_prog_id(root, "nf/0-r1/prog") == id,
	      "... with no reload (program id %u kept)", id);
	/* From H1's address but in on p2: the way back is p1. */
	in = ipf(PM[1], "198.51.100.2", "203.0.113.5", 64, IPPROTO_UDP, 26);
	__u64 c = cnt(RT_D_RPF);

	v = run(1, &in, &out);
	CHECK(v == verdict_drop && cnt(RT_D_RPF) == c + 1,
	      "rp_filter: a source routed out of another port is dropped");
	/* Found by a helper: to the router's own address it was answered,
	 * its reply sent to the spoofed source. */
	in = ipf(PM[1], "198.51.100.2", "198.51.100.65", 64, IPPROTO_UDP, 26);
	v = run(1, &in, &out);
	CHECK(v == verdict_drop && cnt(RT_D_RPF) == c + 2,
	      "rp_filter: ... to the router's own address too");
	in = ipf(PM[0], "198.51.100.2", "203.0.113.200", 64, IPPROTO_UDP, 26);
	v = run(0, &in, &out);
	CHECK(v == verdict_out && !memcmp(out.d, H1, 6),
	      "a source routed back out of its in port passes");
	CHECK(nfc_nf_set(nfc, "r1", bad), "rp_filter=maybe refused");
	in = ipf(PM[1], "198.51.100.2", "203.0.113.5", 64, IPPROTO_UDP, 26);
	CHECK(run(1, &in, NULL) == verdict_drop &&
		      dpt_prog_id(root, "nf/0-r1/prog") == id,
	      "... and nothing changed (still on, same program)");
	nfc_nf_set(nfc, "r1", off);
	CHECK(run(1, &in, NULL) == verdict_out &&
		      dpt_prog_id(root, "nf/0-r1/prog") == id,
	      "rp_filter=false again, same program");
	json_decref(on);
	json_decref(off);
	json_decref(bad);
}

static void reopen(void)
{
	struct nfc_opts opts = {.pin_root = root};
	char err[256];
	json_t *l = NULL;
	struct frame in, out;

	nfc_close(nfc);
	if (nfc_open(&nfc, &opts, err, sizeof(err))) {
		CHECK(0, "reopen: %s", err);
		exit(1);
	}
	nfc_coll_list(nfc, "r1", "routes", &l);
	CHECK(json_array_size(l) == 9,
	      "after a reopen: 6 connected (4 IPv4, 2 IPv6) and 3 static "
	      "routes listed (%zu)",
	      json_array_size(l));
	json_decref(l);
	in = ipf(PM[0], "198.51.100.2", "203.0.113.130", 64, IPPROTO_UDP, 26);
	CHECK(run(0, &in, &out) == verdict_out && !memcmp(out.d, H2, 6),
	      "after a reopen: forwarding as before");
}

/* ---- bad configuration: a clear error, nothing changed ------------------- */

static char *dump(void)
{
	json_t *a = NULL, *b = NULL, *o;
	char *s;

	nfc_coll_list(nfc, "r1", "routes", &a);
	nfc_coll_list(nfc, "r1", "arp", &b);
	/* A learnt entry's age moves on while the case runs. */
	for (size_t i = 0; i < json_array_size(b); i++)
		json_object_del(json_array_get(b, i), "age");
	o = json_pack("{s:o,s:o,s:o}", "routes", a ? a : json_null(), "arp",
		      b ? b : json_null(), "nf", nfc_show_nf(nfc, "r1"));
	json_object_del(json_object_get(o, "nf"), "stats");
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	return s;
}

static void bad_input(void)
{
	static const struct {
		const char *what, *coll, *key, *k1, *v1, *k2, *v2, *msg;
	} c[] = {
		{"prefix length 33", "routes", "10.0.0.1/33", "nexthop",
		 "198.51.100.66", NULL, NULL, "over 32"},
		{"host bits set", "routes", "203.0.113.1/24", "nexthop",
		 "198.51.100.66", NULL, NULL, "host bits set"},
		{"not a prefix", "routes", "203.0.113.0/2x", "nexthop",
		 "198.51.100.66", NULL, NULL, "not an IPv4 prefix"},
		{"duplicate route", "routes", "203.0.113.128/25", "nexthop",
		 "198.51.100.67", NULL, NULL, "exists already"},
		{"next hop off every subnet", "routes", "198.18.0.0/15",
		 "nexthop", "198.18.0.1", NULL, NULL,
		 "not on a connected subnet"},
		{"next hop is the router", "routes", "198.18.0.0/15", "nexthop",
		 "198.51.100.65", NULL, NULL, "address of this router"},
		{"a connected subnet", "routes", "198.51.100.64/26", "nexthop",
		 "198.51.100.2", NULL, NULL, "connected subnet of port p2"},
		{"the router's own address", "routes", "203.0.113.1/32",
		 "nexthop", "198.51.100.2", NULL, NULL,
		 "an address of this router"},
		{"a subnet's broadcast address", "routes", "198.51.100.127/32",
		 "nexthop", "198.51.100.2", NULL, NULL,
		 "broadcast address of port p2"},
		{"no next hop", "routes", "198.18.0.0/15", NULL, NULL, NULL,
		 NULL, "nexthop"},
		{"IPv6 route", "routes", "2001:db8::/32", "nexthop",
		 "198.51.100.66", NULL, NULL, "IPv6"},
		{"ARP entry on the wrong port", "arp", "198.51.100.10", "mac",
		 "02:00:00:00:00:10", "port", "p3",
		 "not on the subnet of port "
		 "p3"},
		{"ARP entry off every subnet", "arp", "198.18.0.1", "mac",
		 "02:00:00:00:00:10", NULL, NULL, "not on a connected subnet"},
		{"ARP entry with a multicast MAC", "arp", "198.51.100.10",
		 "mac", "01:00:5e:00:00:01", NULL, NULL, "not a unicast"},
		{"duplicate ARP entry", "arp", "198.51.100.2", "mac",
		 "02:00:00:00:00:10", NULL, NULL, "exists already"},
	};
	char *before = dump(), *after, msg[512];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r = coll_add(c[i].coll, c[i].key, c[i].k1, c[i].v1, c[i].k2,
				 c[i].v2);

		snprintf(msg, sizeof(msg), "%s", nfc_errmsg(nfc));
		after = dump();
		CHECK(r < 0 && strstr(msg, c[i].msg) && !strcmp(before, after),
		      "%s refused, nothing changed: \"%s\"", c[i].what, msg);
		free(after);
	}
	struct {
		const char *what, *port, *dev, *ip, *msg;
	} p[] = {
		{"overlapping port subnets", "p5", NULL, "198.51.100.30/24",
		 "overlaps"},
		{"port address is the subnet's broadcast", "p5", NULL,
		 "198.18.0.255/24", "broadcast address"},
	};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		int r = port_add(p[i].port, p[i].dev, p[i].ip, NULL);

		snprintf(msg, sizeof(msg), "%s", nfc_errmsg(nfc));
		after = dump();
		CHECK(r < 0 && strstr(msg, p[i].msg) && !strcmp(before, after),
		      "%s refused, nothing changed: \"%s\"", p[i].what, msg);
		free(after);
	}
	json_t *cfg = json_pack("{s:s}", "ip", "198.51.100.70/26");
	int r = nfc_port_set(nfc, "r1", "p1", cfg);

	json_decref(cfg);
	snprintf(msg, sizeof(msg), "%s", nfc_errmsg(nfc));
	after = dump();
	CHECK(r < 0 && strstr(msg, "overlaps") && !strcmp(before, after),
	      "port p1 moved onto p2's subnet refused, nothing changed: "
	      "\"%s\"",
	      msg);
	free(after);
	r = nfc_coll_del(nfc, "r1", "routes", "198.51.100.0/26");
	CHECK(r < 0 && strstr(nfc_errmsg(nfc), "connected route of port p1"),
	      "deleting a connected route refused: \"%s\"", nfc_errmsg(nfc));
	r = nfc_coll_del(nfc, "r1", "routes", "198.18.0.0/15");
	CHECK(r < 0 && strstr(nfc_errmsg(nfc), "does not exist"),
	      "deleting a missing route refused: \"%s\"", nfc_errmsg(nfc));
	free(before);
}

/* 10,000 /29 routes in the benchmarking range 198.18.0.0/15 (RFC 2544),
 * through next hops on p1 and p2: added, chosen, listed, kept across a
 * port change. Fewer under the sanitizers: each add saves the runtime's
 * whole state document, so the table costs O(n^2) there. */
#if defined(__SANITIZE_ADDRESS__)
#define ROUTES 2000
#else
#define ROUTES 10000
#endif
static void many_routes(void)
{
	struct timespec t0, t1;
	int r = 0, n = ROUTES;
	char key[32];
	double s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n && !r; i++) {
		unsigned a = (198u << 24 | 18u << 16) + 8u * i;

		snprintf(key, sizeof(key), "%u.%u.%u.%u/29", a >> 24,
			 (a >> 16) & 255, (a >> 8) & 255, a & 255);
		r = coll_add("routes", key, "nexthop",
			     i & 1 ? "198.51.100.66" : "198.51.100.2", NULL,
			     NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(!r, "%d routes added in %.1f s (%.0f a second) %s", n, s, n / s,
	      r ? nfc_errmsg(nfc) : "");
	for (int i = 1; i < 4; i++) {
		int k = i * (n / 3 - 2) + 1; /* various, odd and even */
		unsigned a = (198u << 24 | 18u << 16) + 8u * k + 3;
		struct frame in, out;

		snprintf(key, sizeof(key), "%u.%u.%u.%u", a >> 24,
			 (a >> 16) & 255, (a >> 8) & 255, a & 255);
		in = ipf(PM[0], "198.51.100.2", key, 64, IPPROTO_UDP, 26);
		CHECK(run(0, &in, &out) == verdict_out &&
			      !memcmp(out.d, k & 1 ? H2 : H1, 6),
		      "among %d routes, %s takes route %d", n, key, k);
	}
	json_t *l = NULL;

	nfc_coll_list(nfc, "r1", "routes", &l);
	CHECK(json_array_size(l) == 9 + (size_t)n, "routes show lists %zu",
	      json_array_size(l));
	json_decref(l);
	/* A port change rebuilds the FIB from the records: all stay. */
	json_t *cfg = json_pack("{s:s}", "mac", "02:00:00:00:01:01");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = nfc_port_set(nfc, "r1", "p3", cfg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	json_decref(cfg);
	s = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(!r, "a port change with %d routes: configure in %.3f s", n, s);
}

/* The state `routes show` gives route key; "" if it is not listed. */
static const char *route_state(const char *key)
{
	static char st[128];
	json_t *l = NULL, *e;
	size_t i;

	st[0] = 0;
	nfc_coll_list(nfc, "r1", "routes", &l);
	json_array_foreach (l, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "prefix"))
				    ?: "",
			    key))
			snprintf(st, sizeof(st), "%s",
				 json_string_value(json_object_get(e, "state"))
					 ?: "");
	json_decref(l);
	return st;
}

static int port_ip(const char *port, const char *k, const char *v)
{
	json_t *cfg = json_pack("{s:s}", k, v);
	int r = nfc_port_set(nfc, "r1", port, cfg);

	json_decref(cfg);
	return r;
}

/* A port given a route's next hop as its address after the route (found
 * by a helper): the route stayed active, listed and in the FIB, sending
 * its packets to the router itself. It goes inactive, and comes back when
 * the port's address moves off it. */
static void nexthop_own(void)
{
	struct frame in, out;
	int r;

	r = coll_add("routes", "198.18.0.0/16", "nexthop", "203.0.113.7", NULL,
		     NULL);
	r = r
		    ?: coll_add("routes", "2001:db8:f::/48", "nexthop",
				"2001:db8:3::7", NULL, NULL);
	CHECK(!r && !strcmp(route_state("198.18.0.0/16"), "active") &&
		      !strcmp(route_state("2001:db8:f::/48"), "active"),
	      "own next hop: routes via 203.0.113.7 and 2001:db8:3::7 "
	      "active (%s)",
	      r ? nfc_errmsg(nfc) : route_state("198.18.0.0/16"));
	r = port_ip("p3", "ip", "203.0.113.7/26");
	r = r ?: port_ip("p3", "ip6", "2001:db8:3::7/64");
	CHECK(!r &&
		      strstr(route_state("198.18.0.0/16"),
			     "address of this router") &&
		      strstr(route_state("2001:db8:f::/48"),
			     "address of this router"),
	      "own next hop: p3 takes both addresses: the routes are "
	      "inactive (%s; %s)",
	      r ? nfc_errmsg(nfc) : route_state("198.18.0.0/16"),
	      route_state("2001:db8:f::/48"));
	/* Out of the FIB: the default route (via H3) takes the packet. */
	in = ipf(PM[0], "198.51.100.2", "198.18.1.1", 64, IPPROTO_UDP, 26);
	CHECK(run(0, &in, &out) == verdict_out && !memcmp(out.d, H3, 6),
	      "own next hop: to 198.18.1.1 by the default route now");
	r = port_ip("p3", "ip", "203.0.113.1/26");
	r = r ?: port_ip("p3", "ip6", "2001:db8:3::1/64");
	CHECK(!r && !strcmp(route_state("198.18.0.0/16"), "active") &&
		      !strcmp(route_state("2001:db8:f::/48"), "active"),
	      "own next hop: p3's addresses back: the routes active again "
	      "(%s)",
	      r ? nfc_errmsg(nfc) : route_state("198.18.0.0/16"));
	nfc_coll_del(nfc, "r1", "routes", "198.18.0.0/16");
	nfc_coll_del(nfc, "r1", "routes", "2001:db8:f::/48");
}

/* rt_dir read the way the fast path reads it: in the live level-1 copy. */
static int dir_lookup(int fd, int ffd, __be32 dst, struct rt_fib_val *v)
{
	__u32 h = ntohl(dst), i = RT_DIR_EPOCH;
	__u64 e = 0;

	bpf_map_lookup_elem(fd, &i, &e);
	i = RT_DIR_L1_OF(e) + (h >> 16);
	e = 0;
	bpf_map_lookup_elem(fd, &i, &e);
	if (RT_DIR_KIND(e) == RT_DIR_PTR) {
		i = RT_DIR_L2 + RT_DIR_LOW(e) * 256 + ((h >> 8) & 255);
		bpf_map_lookup_elem(fd, &i, &e);
		if (RT_DIR_KIND(e) == RT_DIR_PTR) {
			i = RT_DIR_L3 + RT_DIR_LOW(e) * 256 + (h & 255);
			bpf_map_lookup_elem(fd, &i, &e);
		}
	}
	if (RT_DIR_KIND(e) == RT_DIR_TRIE) {
		struct rt_fib4_key k = {32, dst};

		return bpf_map_lookup_elem(ffd, &k, v) ? -1 : 0;
	}
	if (RT_DIR_KIND(e) != RT_DIR_RES)
		return -1;
	memset(v, 0, sizeof(*v));
	v->type = RT_DIR_TYPE(e);
	v->port = RT_DIR_PORT(e);
	v->nh.v4 = RT_DIR_LOW(e);
	return 0;
}

/* Addresses that disagree between rt_dir and the trie (the record). */
static int dir_mismatches(unsigned seed, int samples)
{
	int fd = pinned("nf/0-r1/map/rt_dir"),
	    ffd = pinned("nf/0-r1/map/rt_fib4");
	int bad = 0;

	srand(seed);
	for (int s = 0; s < samples; s++) {
		/* Mostly 198.18.0.0/15, where the routes are; some anywhere
		 * in the documentation ranges. */
		__u32 h = s % 8 ? (198u << 24 | 18u << 16) + (rand() & 0x1ffff)
			  : s % 16 ? (198u << 24 | 51u << 16 | 100u << 8) +
					     (rand() & 255)
				   : (203u << 24 | 113u << 8) + (rand() & 255);
		struct rt_fib4_key k = {32, htonl(h)};
		struct rt_fib_val a, b;
		int ra = dir_lookup(fd, ffd, htonl(h), &a);
		int rb = bpf_map_lookup_elem(ffd, &k, &b) ? -1 : 0;

		if (ra != rb ||
		    (!ra && (a.type != b.type || a.port != b.port ||
			     (a.type == RT_FIB_VIA && a.nh.v4 != b.nh.v4)))) {
			if (bad++ < 3)
				printf("# %u.%u.%u.%u: dir %d %u/%u, trie %d "
				       "%u/%u\n",
				       h >> 24, (h >> 16) & 255, (h >> 8) & 255,
				       h & 255, ra, a.type, a.port, rb, b.type,
				       b.port);
		}
	}
	close(fd);
	close(ffd);
	return bad;
}

/* Random adds and deletes of routes of every length in 198.18.0.0/15: the
 * fast path's table (rt_dir) must agree with the trie everywhere, after
 * the incremental changes and after a full rebuild. */
static void dir_consistency(void)
{
	char keys[600][32];
	int n = 0, r = 0, bad;

	srand(7);
	for (int i = 0; i < 600; i++) {
		unsigned plen = 15 + rand() % 18;
		__u32 a = ((198u << 24 | 18u << 16) + (rand() & 0x1ffff)) &
			  (plen ? ~0u << (32 - plen) : 0);

		snprintf(keys[n], sizeof(keys[n]), "%u.%u.%u.%u/%u", a >> 24,
			 (a >> 16) & 255, (a >> 8) & 255, a & 255, plen);
		if (!coll_add("routes", keys[n], "nexthop",
			      i & 1 ? "198.51.100.66" : "198.51.100.2", NULL,
			      NULL))
			n++;
	}
	for (int i = 0; i < n; i += 2)
		r |= nfc_coll_del(nfc, "r1", "routes", keys[i]);
	bad = dir_mismatches(1, 40000);
	CHECK(!r && !bad,
	      "%d random routes of every length added, half deleted: the "
	      "fast path's table agrees with the trie (%d of 40000 "
	      "addresses differ)",
	      n, bad);
	json_t *cfg = json_pack("{s:s}", "mac", "02:00:00:00:01:02");

	r = nfc_port_set(nfc, "r1", "p3", cfg);
	json_decref(cfg);
	bad = dir_mismatches(2, 40000);
	CHECK(!r && !bad,
	      "... and after a full rebuild (a port change): %d differ", bad);
	for (int i = 1; i < n; i += 2)
		nfc_coll_del(nfc, "r1", "routes", keys[i]);
	bad = dir_mismatches(3, 20000);
	CHECK(!bad, "... and with all of them deleted again: %d differ", bad);
}

/* ---- IPv6 ---------------------------------------------------------------- */

static void ip6a(const char *s, __u8 *a)
{
	inet_pton(AF_INET6, s, a);
}

/* Ethernet + IPv6 + `pl` bytes: an ICMPv6 message of type `icmp` (its
 * checksum right) when icmp is non-zero, else UDP-looking bytes. */
static struct frame ip6f(const __u8 *dst, const char *src, const char *daddr,
			 __u8 hop, __u8 icmp, size_t pl)
{
	struct frame f = {.len = NFC_ETH_HLEN + 40 + pl};
	rt_ethhdr *e = (rt_ethhdr *)f.d;
	rt_ip6hdr *ip = (rt_ip6hdr *)(e + 1);
	__u8 *p = (__u8 *)(ip + 1), s6[16], d6[16];

	memcpy(e->h_dest, dst, 6);
	memcpy(e->h_source, H1, 6);
	e->h_proto = htons(NFC_ETH_P_IPV6);
	ip6a(src, s6);
	ip6a(daddr, d6);
	for (size_t i = 0; i < pl; i++)
		p[i] = (__u8)i;
	rt_build_ip6(ip, s6, d6, icmp ? 58 : 17, hop, pl);
	if (icmp) {
		memset(p, 0, 8);
		p[0] = icmp;
		uint16_t sum = rt_csum6(s6, d6, 58, p, pl);

		memcpy(p + 2, &sum, 2);
	}
	return f;
}

static rt_ip6hdr *ip6h(struct frame *f)
{
	return (rt_ip6hdr *)(f->d + NFC_ETH_HLEN);
}

/* IPv6 neighbour aging, as aging() for ARP: two neighbours on p3 past
 * arp_timeout (backdated), one unused (dropped, counted), one used (hit:
 * probed with a solicitation), then dropped when its probes go
 * unanswered; one that is fresh stays as it was. */
static void nd_aging(void)
{
	int fd = pinned("nf/0-r1/map/rt_nd");
	struct rt_nd_key idle = {.port = 2}, used = {.port = 2},
			 fresh = {.port = 2};
	struct rt_neigh n = {.state = RT_N_REACHABLE, .port = 2}, got;
	__u64 sent = cnt(RT_CP_BASE + RT_CP_ns_sent),
	      exp = cnt(RT_CP_BASE + RT_CP_neigh_expired);
	struct timespec ts;

	ip6a("2001:db8:3::21", idle.addr);
	ip6a("2001:db8:3::22", used.addr);
	ip6a("2001:db8:3::23", fresh.addr);
	memcpy(n.mac, H5, 6);
	n.updated = 1; /* long ago (uptime may be short) */
	bpf_map_update_elem(fd, &idle, &n, BPF_ANY);
	n.hit = 1;
	bpf_map_update_elem(fd, &used, &n, BPF_ANY);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n.updated = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	n.hit = 0;
	bpf_map_update_elem(fd, &fresh, &n, BPF_ANY);
	nfc_tick(nfc);
	CHECK(bpf_map_lookup_elem(fd, &idle, &got) && errno == ENOENT &&
		      cnt(RT_CP_BASE + RT_CP_neigh_expired) == exp + 1,
	      "IPv6: an unused neighbour past arp_timeout is dropped, "
	      "counted");
	CHECK(!bpf_map_lookup_elem(fd, &used, &got) && got.probes == 1 &&
		      !got.hit && cnt(RT_CP_BASE + RT_CP_ns_sent) == sent + 1,
	      "IPv6: a used one is kept and probed (probes %u)", got.probes);
	CHECK(!bpf_map_lookup_elem(fd, &fresh, &got) && !got.probes,
	      "IPv6: a fresh one is left alone");
	bpf_map_lookup_elem(fd, &used, &n);
	n.probes = 3;
	bpf_map_update_elem(fd, &used, &n, BPF_EXIST);
	nfc_tick(nfc);
	CHECK(bpf_map_lookup_elem(fd, &used, &got) && errno == ENOENT &&
		      cnt(RT_CP_BASE + RT_CP_neigh_expired) == exp + 2,
	      "IPv6: ... and dropped when the probes go unanswered");
	bpf_map_delete_elem(fd, &fresh);
	close(fd);
}

static void ipv6(void)
{
	static const struct {
		const char *what, *src, *dst;
		__u8 hop, icmp;
		unsigned reason;
	} sp[] =
		{
			{"hop limit 1", "2001:db8:1::2", "2001:db8:3::5", 1, 0,
			 RT_SP_TTL},
			{"no route", "2001:db8:1::2", "2001:db8:99::1", 64, 0,
			 RT_SP_NO_ROUTE},
			{"neighbour not resolved", "2001:db8:1::2",
			 "2001:db8:3::9", 64, 0, RT_SP_NEIGH_MISS},
			{"for the router", "2001:db8:1::2", "2001:db8:3::1", 64,
			 128, RT_SP_LOCAL},
			{"a neighbour solicitation to a multicast group",
			 "2001:db8:1::2", "ff02::1:ff00:1", 255, 135, RT_SP_ND},
		},
	  dr[] = {
		  {"to another link's link-local address", "2001:db8:1::2",
		   "fe80::5", 64, 0, RT_D_LINKLOCAL},
		  {"from a link-local source", "fe80::2", "2001:db8:3::5", 64,
		   0, RT_D_LINKLOCAL},
		  {"multicast UDP", "2001:db8:1::2", "ff02::1", 64, 0,
		   RT_D_MCAST},
		  {"multicast source", "ff02::1", "2001:db8:3::5", 64, 0,
		   RT_D_MARTIAN},
		  /* Found by a helper: forwarded, where Linux drops them. */
		  {"loopback source ::1", "::1", "2001:db8:3::5", 64, 0,
		   RT_D_MARTIAN},
		  {"unspecified source ::", "::", "2001:db8:3::5", 64, 0,
		   RT_D_MARTIAN},
		  {"IPv4-mapped source", "::ffff:198.51.100.2", "2001:db8:3::5",
		   64, 0, RT_D_MARTIAN},
		  {"to the loopback ::1 (no ICMPv6 error either)",
		   "2001:db8:1::2", "::1", 64, 0, RT_D_MARTIAN},
		  {"to the unspecified ::", "2001:db8:1::2", "::", 64, 0,
		   RT_D_MARTIAN},
	  };
	int fd = pinned("nf/0-r1/map/rt_nd"), v;
	struct rt_nd_key k = {.port = 2};
	struct rt_neigh n = {.state = RT_N_REACHABLE, .port = 2};
	struct frame in, out;

	read_port_macs(); /* the cases before may have changed them */
	/* A resolved neighbour on p3, as the slow path would record it. */
	ip6a("2001:db8:3::5", k.addr);
	memcpy(n.mac, H5, 6);
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		n.updated = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	}
	CHECK(!bpf_map_update_elem(fd, &k, &n, BPF_ANY),
	      "IPv6 neighbour 2001:db8:3::5 written");
	close(fd);
	CHECK(!coll_add("routes", "2001:db8:100::/48", "nexthop",
			"2001:db8:3::5", NULL, NULL),
	      "IPv6 route 2001:db8:100::/48 via 2001:db8:3::5 (%s)",
	      nfc_errmsg(nfc));
	for (int via = 0; via < 2; via++) {
		const char *dst = via ? "2001:db8:100:7::1" : "2001:db8:3::5";
		__u8 d6[16];

		in = ip6f(PM[0], "2001:db8:1::2", dst, 64, 0, 32);
		ip6a(dst, d6);
		v = run(0, &in, &out);
		CHECK(v == verdict_out && !memcmp(out.d, H5, 6) &&
			      !memcmp(out.d + 6, PM[2], 6) &&
			      ip6h(&out)->hop_limit == 63 &&
			      !memcmp(ip6h(&out)->daddr, d6, 16) &&
			      out.len == in.len,
		      "IPv6 to %s (%s): out of p3 to its MAC, hop limit 63 "
		      "(verdict %d)",
		      dst, via ? "a static route" : "connected", v);
	}
	for (size_t i = 0; i < sizeof(sp) / sizeof(sp[0]); i++) {
		__u64 before = cnt(sp[i].reason), t = tx(0) + tx(1) + tx(2);

		in = ip6f(PM[0], sp[i].src, sp[i].dst, sp[i].hop, sp[i].icmp,
			  32);
		if (sp[i].reason == RT_SP_ND)
			memcpy(in.d, "\x33\x33\xff\x00\x00\x01", 6);
		v = run(0, &in, NULL);
		CHECK(v != verdict_out && cnt(sp[i].reason) == before + 1 &&
			      tx(0) + tx(1) + tx(2) == t,
		      "IPv6 %s: to the slow path (verdict %d)", sp[i].what, v);
	}
	for (size_t i = 0; i < sizeof(dr) / sizeof(dr[0]); i++) {
		__u64 before = cnt(dr[i].reason), d = drops(0);

		in = ip6f(PM[0], dr[i].src, dr[i].dst, dr[i].hop, dr[i].icmp,
			  32);
		v = run(0, &in, NULL);
		CHECK(v == verdict_drop && cnt(dr[i].reason) == before + 1 &&
			      drops(0) == d + 1,
		      "IPv6 %s: dropped, counted (verdict %d)", dr[i].what, v);
	}
	/* The slow path answers a solicitation for p1's address with an
	 * advertisement (checksum over the pseudo-header right). */
	{
		__u8 sn[16], me[16], s6[16], *m;
		struct frame cap;
		int found = 0;

		ip6a("ff02::1:ff00:1", sn);
		ip6a("2001:db8:1::1", me);
		ip6a("2001:db8:1::2", s6);
		in = ip6f(PM[0], "2001:db8:1::2", "ff02::1:ff00:1", 255, 0, 32);
		memcpy(in.d, "\x33\x33\xff\x00\x00\x01", 6);
		m = in.d + NFC_ETH_HLEN + 40;
		ip6h(&in)->nexthdr = 58;
		memset(m, 0, 32);
		m[0] = 135;
		memcpy(m + 8, me, 16);
		m[24] = 1;
		m[25] = 1;
		memcpy(m + 26, H1, 6);
		uint16_t sum = rt_csum6(s6, sn, 58, m, 32);

		memcpy(m + 2, &sum, 2);
		sock_drain();
		run(0, &in, NULL);
		while (!found && !capture(0, NFC_ETH_P_IPV6, &cap)) {
			m = cap.d + NFC_ETH_HLEN + 40;
			found = cap.len >= NFC_ETH_HLEN + 40 + 32 &&
				ip6h(&cap)->nexthdr == 58 && m[0] == 136 &&
				!memcmp(m + 8, me, 16) &&
				!memcmp(ip6h(&cap)->daddr, s6, 16) &&
				!memcmp(cap.d, H1, 6) && m[24] == 2 &&
				!memcmp(m + 26, PM[0], 6) && (m[4] & 0x40) &&
				!rt_csum6(ip6h(&cap)->saddr, s6, 58, m,
					  ntohs(ip6h(&cap)->payload_len));
		}
		CHECK(found, "neighbour solicitation for 2001:db8:1::1: "
			     "solicited advertisement with p1's MAC");
	}
	nd_aging();
}

static void one_mode(const char *m, int out, int drop)
{
	struct nfc_opts opts = {.pin_root = root};
	char err[256];

	mode = m;
	test_group = m;
	verdict_out = out;
	verdict_drop = drop;
	if (nfc_open(&nfc, &opts, err, sizeof(err))) {
		CHECK(0, "open: %s", err);
		return;
	}
	if (!setup()) {
		forwarding();
		cache();
		malformed();
		local();
		slow_path();
		aging();
		rp_filter();
		reopen();
		if (!strcmp(m, "xdp")) {
			bad_input();
			nexthop_own();
			dir_consistency();
			many_routes();
		}
		ipv6();
	}
	nfc_reset(nfc);
	nfc_close(nfc);
	nfc = NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	dpt_root(root, sizeof(root), "rt");
	dpt_veths("rt", 4, dev, peer);
	sock_open();
	one_mode("xdp", XDP_REDIRECT_, XDP_DROP_);
	one_mode("tc", TC_REDIRECT, TC_SHOT);
	for (int i = 0; i < 3; i++)
		close(sock[i]);
	dpt_veths_del(4, dev);
	rmdir(root);
	printf("# %d failed\n", test_failures);
	TEST_EXIT();
}
