// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the IPv6 slow path. Neighbour discovery (RFC 4861) as ARP is
 * done for IPv4: solicitations for the router's addresses (global and
 * link-local) answered, next hops resolved with the frames waiting for
 * them (rt_slow.c's queue), unsolicited advertisements when ports are
 * configured, aging; router advertisements on ports with ra=on (a prefix
 * with the autonomous flag, for SLAAC). ICMPv6 (RFC 4443): echo replies,
 * time exceeded, destination unreachable, packet too big, rate limited
 * with the IPv4 errors' budget.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "rt_int.h"

#define ICMP6_DST_UNREACH 1
#define ICMP6_PKT_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ND_RS 133
#define ND_RA 134
#define ND_NS 135
#define ND_NA 136
#define ND_NA_R 0x80 /* first byte of the flags word */
#define ND_NA_S 0x40
#define ND_NA_O 0x20
#define IP6_MIN_MTU 1280
#define IP6_HLEN 40

static const uint8_t all_nodes[16] = {0xff, 2, [15] = 1};
static const uint8_t unspec[16];

/* An ICMPv6 message (msg, n bytes, its checksum field zero) from src to
 * dst in a frame at f; the checksum computed. Returns the frame length. */
static size_t frame6(uint8_t *f, const uint8_t *dmac, const uint8_t *smac,
		     const uint8_t *src, const uint8_t *dst, __u8 hop,
		     const uint8_t *msg, size_t n)
{
	rt_ethhdr *eth = (rt_ethhdr *)f;
	rt_ip6hdr *h = (rt_ip6hdr *)(eth + 1);
	uint8_t *m = (uint8_t *)(h + 1);
	uint16_t sum;

	memcpy(eth->h_dest, dmac, 6);
	memcpy(eth->h_source, smac, 6);
	eth->h_proto = htons(NFC_ETH_P_IPV6);
	rt_build_ip6(h, src, dst, IPPROTO_ICMPV6, hop, n);
	memcpy(m, msg, n);
	m[2] = m[3] = 0;
	sum = rt_csum6(src, dst, IPPROTO_ICMPV6, m, n);
	memcpy(m + 2, &sum, 2);
	return sizeof(*eth) + sizeof(*h) + n;
}

/* 33:33 and the address's last 32 bits (RFC 2464 7). */
static void mcast_mac(const uint8_t *a, uint8_t *mac)
{
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}

static int port6(struct nfc_nf *nf, unsigned port, struct rt_port *pt,
		 uint8_t *ll)
{
	if (rt_port_get(nf, port, pt))
		return -1;
	rt_ll_of(pt->mac, ll);
	return 0;
}

void rt_send_ns(struct nfc_nf *nf, unsigned port, const uint8_t *target,
		const uint8_t *unicast)
{
	uint8_t f[128], msg[32] = {ND_NS}, ll[16], dst[16], dmac[6];
	struct rt_port pt;

	if (port6(nf, port, &pt, ll))
		return;
	memcpy(msg + 8, target, 16);
	msg[24] = 1; /* source link-layer address */
	msg[25] = 1;
	memcpy(msg + 26, pt.mac, 6);
	if (unicast) {
		memcpy(dst, target, 16);
		memcpy(dmac, unicast, 6);
	} else { /* the solicited-node group, ff02::1:ffXX:XXXX */
		static const uint8_t sn[13] = {0xff, 2, [11] = 1, [12] = 0xff};

		memcpy(dst, sn, 13);
		memcpy(dst + 13, target + 13, 3);
		mcast_mac(dst, dmac);
	}
	if (!nfc_nf_packet_out(
		    nf, port, f,
		    frame6(f, dmac, pt.mac, ll, dst, 255, msg, sizeof(msg))))
		rt_cp_count(nf, RT_CP_ns_sent);
}

static void send_na(struct nfc_nf *nf, unsigned port, const uint8_t *dmac,
		    const uint8_t *dst, const uint8_t *target, uint8_t flags)
{
	uint8_t f[128], msg[32] = {ND_NA}, ll[16];
	struct rt_port pt;

	if (port6(nf, port, &pt, ll))
		return;
	msg[4] = flags;
	memcpy(msg + 8, target, 16);
	msg[24] = 2; /* target link-layer address */
	msg[25] = 1;
	memcpy(msg + 26, pt.mac, 6);
	if (!nfc_nf_packet_out(nf, port, f,
			       frame6(f, dmac, pt.mac, target, dst, 255, msg,
				      sizeof(msg))))
		rt_cp_count(nf, RT_CP_na_sent);
}

/* A router advertisement of port p's prefix (pc) to dst (all nodes, or a
 * soliciting host): the router a default router for `life` seconds (30
 * minutes; 0: no longer one), the prefix on-link and autonomous (RFC 4862
 * SLAAC), the port's MTU. */
static void send_ra_life(struct nfc_nf *nf, const struct rt_pcfg *pc,
			 unsigned p, const uint8_t *dmac, const uint8_t *dst,
			 unsigned life)
{
	uint8_t f[192], msg[16 + 8 + 8 + 32] = {ND_RA}, *o = msg + 16;
	struct rt_pfx pfx = pc[p].ip6;
	size_t n;
	uint32_t v;

	msg[4] = 64;	    /* hop limit hosts should use */
	msg[6] = life >> 8; /* router lifetime, s */
	msg[7] = life & 255;
	o[0] = 1; /* source link-layer address */
	o[1] = 1;
	memcpy(o + 2, pc[p].mac, 6);
	o += 8;
	if (pc[p].mtu) {
		o[0] = 5;
		o[1] = 1;
		v = htonl(pc[p].mtu);
		memcpy(o + 4, &v, 4);
		o += 8;
	}
	rt_mask6(pfx.a.v6, pfx.plen);
	o[0] = 3; /* prefix information */
	o[1] = 4;
	o[2] = pfx.plen;
	o[3] = 0xc0; /* on-link, autonomous */
	v = htonl(86400);
	memcpy(o + 4, &v, 4);
	v = htonl(14400);
	memcpy(o + 8, &v, 4);
	memcpy(o + 16, pfx.a.v6, 16);
	o += 32;
	n = o - msg;
	if (!nfc_nf_packet_out(
		    nf, p, f,
		    frame6(f, dmac, pc[p].mac, pc[p].ll, dst, 255, msg, n)))
		rt_cp_count(nf, RT_CP_ra_sent);
}

static void send_ra(struct nfc_nf *nf, const struct rt_pcfg *pc, unsigned p,
		    const uint8_t *dmac, const uint8_t *dst)
{
	send_ra_life(nf, pc, p, dmac, dst, 1800);
}

/* After configure, each port whose addresses, MAC or ra changed (`ports`,
 * a bit each) tells its link (unsolicited advertisements, RFC 4861 7.2.6,
 * so that hosts holding an old MAC learn the new one) and, with ra=on,
 * advertises its prefix; one whose ra went off (`ra_off`) says it is no
 * longer a default router (a final advertisement, router lifetime 0, RFC
 * 4861 6.2.5). A helper found ra=on quiet until the next 10 s tick and
 * ra=off leaving hosts a default route for 30 minutes. A configure that
 * changed nothing sends nothing. */
void rt_nd_port_up(struct nfc_nf *nf, const struct rt_pcfg *pc, uint64_t ports,
		   uint64_t ra_off, uint8_t (*old_mac)[6])
{
	static const uint8_t mac_all[6] = {0x33, 0x33, 0, 0, 0, 1};

	for (unsigned p = 0; p < NFC_MAX_PORTS; p++) {
		if (!(ports >> p & 1) || !pc[p].used || !pc[p].ip6.family)
			continue;
		/* A new MAC is a new link-local address (EUI-64): the old
		 * one, the default router hosts learnt from its RAs, says
		 * it is one no more (a final advertisement from it, RFC
		 * 4861 6.2.5). Hosts kept it preferred and lost their
		 * traffic for ~45 s (found by a helper). */
		if (pc[p].ra && memcmp(old_mac[p], "\0\0\0\0\0\0", 6) &&
		    memcmp(old_mac[p], pc[p].mac, 6)) {
			struct rt_pcfg was[NFC_MAX_PORTS];

			memcpy(was, pc, sizeof(was));
			memcpy(was[p].mac, old_mac[p], 6);
			rt_ll_of(old_mac[p], was[p].ll);
			send_ra_life(nf, was, p, mac_all, all_nodes, 0);
		}
		send_na(nf, p, mac_all, all_nodes, pc[p].ll, ND_NA_R | ND_NA_O);
		send_na(nf, p, mac_all, all_nodes, pc[p].ip6.a.v6,
			ND_NA_R | ND_NA_O);
		if (pc[p].ra)
			send_ra(nf, pc, p, mac_all, all_nodes);
		else if (ra_off >> p & 1)
			send_ra_life(nf, pc, p, mac_all, all_nodes, 0);
	}
}

/* A neighbour confirmed on port: recorded (created only when asked to, or
 * when it was being resolved), and the frames that waited for it sent. */
static void neigh6_confirm(struct nfc_nf *nf, unsigned port, const uint8_t *a,
			   const uint8_t *mac, int create)
{
	int fd = nfc_nf_map_fd(nf, "rt_nd");
	struct rt_nd_key k = {.port = port};
	struct rt_neigh n = {0}, cur;
	struct rt_pending *pe;
	union rt_ip ip;
	int have;

	if (fd < 0 || rt_mac_is_multicast(mac))
		return;
	memcpy(k.addr, a, 16);
	memcpy(ip.v6, a, 16);
	pe = rt_pending_take(nf, RT_AF_INET6, &ip, port);
	have = !bpf_map_lookup_elem(fd, &k, &cur);
	if (have && cur.state == RT_N_STATIC) {
		mac = cur.mac;
	} else if (have || create || pe) {
		memcpy(n.mac, mac, 6);
		n.state = RT_N_REACHABLE;
		n.port = port;
		n.hit = have ? cur.hit : 0;
		n.updated = nfc_now_ns();
		if (!bpf_map_update_elem(fd, &k, &n, BPF_ANY) && !have)
			rt_cp_count(nf, RT_CP_neigh_learnt);
	}
	if (pe)
		rt_pending_send(nf, pe, mac);
}

/* An option of an NDP message (opts, n bytes): the link-layer address of
 * type `type` (1 source, 2 target), or NULL. */
static const uint8_t *nd_lladdr(const uint8_t *opts, size_t n, uint8_t type)
{
	while (n >= 8) {
		size_t l = opts[1] * 8u;

		if (!l || l > n)
			return NULL;
		if (opts[0] == type && l >= 8)
			return opts + 2;
		opts += l;
		n -= l;
	}
	return NULL;
}

/* Neighbour and router discovery to the router (multicast or unicast). */
static void on_nd(struct nfc_nf *nf, unsigned in_port, const uint8_t *f,
		  const rt_ip6hdr *h, const uint8_t *m, size_t n)
{
	const rt_ethhdr *eth = (const rt_ethhdr *)f;
	const uint8_t *lla, *target = m + 8;
	struct rt_port pt;
	uint8_t ll[16];
	int src_unspec = !memcmp(h->saddr, unspec, 16);

	/* RFC 4861 7.1.1: hop limit 255 (from the link itself), a valid
	 * checksum, code 0. */
	if (h->hop_limit != 255 || n < 8 || m[1] ||
	    rt_csum6(h->saddr, h->daddr, IPPROTO_ICMPV6, m, n) ||
	    port6(nf, in_port, &pt, ll) || h->saddr[0] == 0xff)
		return;
	if (m[0] == ND_NS && n >= 24) {
		int ours = !memcmp(target, ll, 16) ||
			   ((pt.flags & RT_PORT_V6) &&
			    !memcmp(target, pt.v6_addr, 16));

		if (!ours)
			return;
		lla = nd_lladdr(m + 24, n - 24, 1);
		if (!src_unspec && lla)
			neigh6_confirm(nf, in_port, h->saddr, lla, 1);
		if (src_unspec) { /* duplicate address detection */
			static const uint8_t mac_all[6] = {0x33, 0x33, 0,
							   0,	 0,    1};

			send_na(nf, in_port, mac_all, all_nodes, target,
				ND_NA_R | ND_NA_O);
		} else {
			send_na(nf, in_port, lla ? lla : eth->h_source,
				h->saddr, target, ND_NA_R | ND_NA_S | ND_NA_O);
		}
	} else if (m[0] == ND_NA && n >= 24 && target[0] != 0xff) {
		lla = nd_lladdr(m + 24, n - 24, 2);
		rt_cp_count(nf, RT_CP_na_received);
		neigh6_confirm(nf, in_port, target, lla ? lla : eth->h_source,
			       0);
	} else if (m[0] == ND_RS) {
		struct rt_pcfg pc[NFC_MAX_PORTS];

		if (rt_load_ports(nf, pc) || !pc[in_port].ra)
			return;
		lla = n > 8 ? nd_lladdr(m + 8, n - 8, 1) : NULL;
		if (src_unspec || !lla) {
			static const uint8_t mac_all[6] = {0x33, 0x33, 0,
							   0,	 0,    1};

			send_ra(nf, pc, in_port, mac_all, all_nodes);
		} else {
			neigh6_confirm(nf, in_port, h->saddr, lla, 1);
			send_ra(nf, pc, in_port, lla, h->saddr);
		}
	}
}

/* A packet the router originates (f: its frame, the packet `len` bytes
 * after the Ethernet header, no extension header) larger than the out
 * port's MTU, sent in fragments (RFC 8200 4.5: the source fragments), as
 * Linux sends a large echo request's reply. It went whole, past the
 * `mtu` the port promised (found by a helper). */
static void send_frags6(struct nfc_nf *nf, unsigned port, const union rt_ip *nh,
			const uint8_t *f, size_t len, unsigned mtu)
{
	static uint32_t ident;
	const rt_ip6hdr *h = (const rt_ip6hdr *)(f + NFC_ETH_HLEN);
	size_t pl = len - IP6_HLEN, chunk = (mtu - IP6_HLEN - 8) & ~(size_t)7;
	uint32_t id = htonl(++ident);
	uint8_t g[2048];

	if (mtu < IP6_HLEN + 16 || len > sizeof(g) - NFC_ETH_HLEN - 8) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	rt_cp_count(nf, RT_CP_fragmented);
	for (size_t off = 0; off < pl; off += chunk) {
		size_t n = pl - off > chunk ? chunk : pl - off;
		rt_ip6hdr *gh = (rt_ip6hdr *)(g + NFC_ETH_HLEN);
		uint8_t *fh = g + NFC_ETH_HLEN + IP6_HLEN;
		uint16_t fo = (uint16_t)(off | (off + n < pl));

		memcpy(g, f, NFC_ETH_HLEN + IP6_HLEN);
		gh->nexthdr = 44; /* Fragment */
		gh->payload_len = htons((uint16_t)(8 + n));
		fh[0] = h->nexthdr;
		fh[1] = 0;
		fo = htons(fo);
		memcpy(fh + 2, &fo, 2);
		memcpy(fh + 4, &id, 4);
		memcpy(fh + 8, (const uint8_t *)h + IP6_HLEN + off, n);
		rt_send_via(nf, port, RT_AF_INET6, nh, g,
			    NFC_ETH_HLEN + IP6_HLEN + 8 + n);
	}
}

/* Routes and sends an IPv6 packet the router originates; a link-local
 * destination goes out of `port` (the one it was heard on). */
static void send_ip6(struct nfc_nf *nf, unsigned port, const uint8_t *pkt,
		     size_t len)
{
	const rt_ip6hdr *h = (const rt_ip6hdr *)pkt;
	uint8_t f[2048];
	rt_ethhdr *eth = (rt_ethhdr *)f;
	struct rt_fib_val r = {.type = RT_FIB_CONNECTED, .port = port};
	struct rt_port pt;
	union rt_ip nh;

	if (len + sizeof(*eth) > sizeof(f) ||
	    (!rt_is_ll6(h->daddr) && rt_fib6_lookup(nf, h->daddr, &r)) ||
	    (r.type != RT_FIB_CONNECTED && r.type != RT_FIB_VIA) ||
	    rt_port_get(nf, r.port, &pt)) {
		rt_cp_count(nf, RT_CP_icmp_not_sent);
		return;
	}
	memcpy(nh.v6, r.type == RT_FIB_VIA ? r.nh.v6 : h->daddr, 16);
	memset(eth->h_dest, 0, 6);
	memcpy(eth->h_source, pt.mac, 6);
	eth->h_proto = htons(NFC_ETH_P_IPV6);
	memcpy(eth + 1, pkt, len);
	if (pt.mtu && len > pt.mtu) {
		send_frags6(nf, r.port, &nh, f, len, pt.mtu);
		return;
	}
	rt_send_via(nf, r.port, RT_AF_INET6, &nh, f, sizeof(*eth) + len);
}

/* The router's address to answer src from: the global address of the
 * port that leads back to src, else the in port's link-local one. */
static int reply_src(struct nfc_nf *nf, unsigned in_port, const uint8_t *src,
		     uint8_t *out)
{
	struct rt_fib_val r;
	struct rt_port pt;

	if (!rt_is_ll6(src) && !rt_fib6_lookup(nf, src, &r) &&
	    !rt_port_get(nf, r.port, &pt) && (pt.flags & RT_PORT_V6)) {
		memcpy(out, pt.v6_addr, 16);
		return 0;
	}
	if (!rt_is_ll6(src) && !rt_port_get(nf, in_port, &pt) &&
	    (pt.flags & RT_PORT_V6)) {
		memcpy(out, pt.v6_addr, 16);
		return 0;
	}
	return port6(nf, in_port, &pt, out);
}

/*
 * Whether the packet at ip (len bytes, perhaps cut) is an ICMPv6 error,
 * found past its extension headers (hop-by-hop, routing, destination
 * options, a first fragment; at most 8, as far as the bytes go) as Linux
 * does (ipv6_skip_exthdr): looking at the fixed header's next header
 * only, an error behind a hop-by-hop header drew an error (found by a
 * helper). An ICMPv6 header cut off counts as an error (Linux sends
 * none then either).
 */
static int icmp6_is_error(const uint8_t *ip, size_t len)
{
	__u8 nh = ((const rt_ip6hdr *)ip)->nexthdr;
	size_t off = IP6_HLEN;

	for (int i = 0; i < 8; i++) {
		if (nh == IPPROTO_ICMPV6)
			return off >= len || ip[off] < 128;
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
			return 0;
		if (off + 8 > len)
			return 0;
		if (nh == IPPROTO_FRAGMENT) {
			/* a later fragment: no ICMPv6 header in it */
			if ((ip[off + 2] << 8 | ip[off + 3]) & 0xfff8)
				return 0;
			nh = ip[off];
			off += 8;
		} else {
			nh = ip[off];
			off += (ip[off + 1] + 1) * 8;
		}
	}
	return 0;
}

/*
 * An ICMPv6 error about the packet at ip (ip_len bytes, perhaps cut),
 * unless RFC 4443 2.4 (e) says none: not about an ICMPv6 error, not to a
 * multicast or unspecified source, not about a packet sent to multicast
 * (packet too big excepted); and within the rate.
 */
void rt_icmp6_error(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		    size_t ip_len, __u8 type, __u8 code, __u32 info,
		    unsigned stat)
{
	const rt_ip6hdr *o = (const rt_ip6hdr *)ip;
	uint8_t out[IP6_MIN_MTU], src[16];
	rt_ip6hdr *h = (rt_ip6hdr *)out;
	uint8_t *m = out + IP6_HLEN;
	size_t q = ip_len;
	uint32_t v = htonl(info);
	struct rt_fib_val r;
	uint16_t sum;

	if (ip_len < IP6_HLEN || o->saddr[0] == 0xff ||
	    !memcmp(o->saddr, unspec, 16) ||
	    (o->daddr[0] == 0xff && type != ICMP6_PKT_TOO_BIG) ||
	    icmp6_is_error(ip, ip_len) ||
	    reply_src(nf, in_port, o->saddr, src)) {
		rt_cp_count(nf, RT_CP_icmp_not_sent);
		return;
	}
	/* About a packet for the router: from the address it was sent to,
	 * as Linux answers. */
	if (!rt_fib6_lookup(nf, o->daddr, &r) && r.type == RT_FIB_LOCAL)
		memcpy(src, o->daddr, 16);
	if (!rt_icmp_allowed(nf)) {
		rt_cp_count(nf, RT_CP_icmp_rate_limited);
		return;
	}
	if (q > sizeof(out) - IP6_HLEN - 8)
		q = sizeof(out) - IP6_HLEN - 8;
	memset(m, 0, 8);
	m[0] = type;
	m[1] = code;
	memcpy(m + 4, &v, 4);
	memcpy(m + 8, ip, q);
	rt_build_ip6(h, src, o->saddr, IPPROTO_ICMPV6, 64, 8 + q);
	sum = rt_csum6(src, o->saddr, IPPROTO_ICMPV6, m, 8 + q);
	memcpy(m + 2, &sum, 2);
	rt_cp_count(nf, stat);
	rt_cp_count(nf, RT_CP_icmp6_errors);
	send_ip6(nf, in_port, out, IP6_HLEN + 8 + q);
}

/* For the router: echo requests answered, NDP, UDP port unreachable. */
static void on_local6(struct nfc_nf *nf, unsigned in_port, const uint8_t *f,
		      const uint8_t *ip, size_t ip_len, int cut)
{
	const rt_ip6hdr *o = (const rt_ip6hdr *)ip;
	const uint8_t *m = ip + IP6_HLEN;
	size_t n = ip_len - IP6_HLEN;
	uint8_t out[2048];

	if (o->nexthdr == IPPROTO_ICMPV6 && n >= 4 && m[0] >= ND_RS &&
	    m[0] <= ND_NA + 1) {
		on_nd(nf, in_port, f, o, m, n);
		return;
	}
	if (o->nexthdr == IPPROTO_ICMPV6 && n >= 8 && !cut &&
	    m[0] == ICMP6_ECHO_REQUEST && !m[1] &&
	    !rt_csum6(o->saddr, o->daddr, IPPROTO_ICMPV6, m, n) &&
	    o->saddr[0] != 0xff && ip_len <= sizeof(out)) {
		rt_ip6hdr *h = (rt_ip6hdr *)out;
		uint8_t *r = out + IP6_HLEN;
		uint16_t sum;

		memcpy(r, m, n);
		r[0] = ICMP6_ECHO_REPLY;
		r[2] = r[3] = 0;
		rt_build_ip6(h, o->daddr, o->saddr, IPPROTO_ICMPV6, 64, n);
		sum = rt_csum6(o->daddr, o->saddr, IPPROTO_ICMPV6, r, n);
		memcpy(r + 2, &sum, 2);
		rt_cp_count(nf, RT_CP_echo6_replied);
		send_ip6(nf, in_port, out, ip_len);
		return;
	}
	if (o->nexthdr == IPPROTO_UDP) {
		rt_icmp6_error(nf, in_port, ip, ip_len, ICMP6_DST_UNREACH, 4, 0,
			       RT_CP_icmp_port_unreachable);
		return;
	}
	rt_cp_count(nf, RT_CP_slow_path_dropped);
}

/* A packet to forward: its next hop not resolved yet, or larger than
 * the out port's MTU. */
static void on_forward6(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
			size_t ip_len, int cut)
{
	const rt_ip6hdr *o = (const rt_ip6hdr *)ip;
	uint8_t out[2048];
	rt_ip6hdr *h = (rt_ip6hdr *)(out + NFC_ETH_HLEN);
	struct rt_fib_val r;
	struct rt_port pt;
	union rt_ip nh;

	if (rt_fib6_lookup(nf, o->daddr, &r)) {
		rt_icmp6_error(nf, in_port, ip, ip_len, ICMP6_DST_UNREACH, 0, 0,
			       RT_CP_icmp_net_unreachable);
		return;
	}
	if ((r.type != RT_FIB_CONNECTED && r.type != RT_FIB_VIA) ||
	    rt_port_get(nf, r.port, &pt) || o->hop_limit <= 1) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	if (pt.mtu && ip_len > pt.mtu) {
		rt_icmp6_error(nf, in_port, ip, ip_len, ICMP6_PKT_TOO_BIG, 0,
			       pt.mtu, RT_CP_icmp_frag_needed);
		return;
	}
	if (cut || NFC_ETH_HLEN + ip_len > sizeof(out)) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	memcpy(h, ip, ip_len);
	rt_l4_csum_complete((uint8_t *)h, ip_len);
	memcpy(out + 6, pt.mac, 6);
	((rt_ethhdr *)out)->h_proto = htons(NFC_ETH_P_IPV6);
	h->hop_limit--;
	memcpy(nh.v6, r.type == RT_FIB_VIA ? r.nh.v6 : o->daddr, 16);
	rt_send_via(nf, r.port, RT_AF_INET6, &nh, out, NFC_ETH_HLEN + ip_len);
}

void rt_packet_in6(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		   const uint8_t *f, uint32_t len, uint32_t pkt_len)
{
	const rt_ip6hdr *h = (const rt_ip6hdr *)(f + NFC_ETH_HLEN);
	const uint8_t *ip = (const uint8_t *)h;
	size_t ip_len;
	int cut = len < pkt_len;

	if (len < NFC_ETH_HLEN + IP6_HLEN || (ip[0] >> 4) != 6) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	ip_len = IP6_HLEN + ntohs(h->payload_len);
	if (ip_len > len - NFC_ETH_HLEN) {
		if (!cut) {
			rt_cp_count(nf, RT_CP_slow_path_dropped);
			return;
		}
		ip_len = len - NFC_ETH_HLEN;
	}
	switch (reason) {
	case RT_SP_ND:
		if (h->nexthdr == IPPROTO_ICMPV6 && !cut)
			on_nd(nf, in_port, f, h, ip + IP6_HLEN,
			      ip_len - IP6_HLEN);
		break;
	case RT_SP_LOCAL:
		on_local6(nf, in_port, f, ip, ip_len, cut);
		break;
	case RT_SP_TTL:
		rt_icmp6_error(nf, in_port, ip, ip_len, ICMP6_TIME_EXCEEDED, 0,
			       0, RT_CP_icmp_time_exceeded);
		break;
	case RT_SP_NO_ROUTE:
		rt_icmp6_error(nf, in_port, ip, ip_len, ICMP6_DST_UNREACH, 0, 0,
			       RT_CP_icmp_net_unreachable);
		break;
	case RT_SP_NEIGH_MISS:
	case RT_SP_MTU:
		on_forward6(nf, in_port, ip, ip_len, cut);
		break;
	default:
		rt_cp_count(nf, RT_CP_slow_path_dropped);
	}
}

/* ---- the neighbour table: configure, port down, aging, listing ---- */

static int nd_static(int fd, const struct rt_nd_key *k)
{
	struct rt_neigh n;

	return !bpf_map_lookup_elem(fd, k, &n) && n.state == RT_N_STATIC;
}

/* Learnt entries whose port went away (all: configure) or whose netdev
 * went (port >= 0: static ones stay, the user's, right again when the
 * netdev is back) go. */
static void nd_prune(struct nfc_nf *nf, const struct rt_pcfg *pc, int port)
{
	int fd = nfc_nf_map_fd(nf, "rt_nd");
	struct rt_nd_key k, next, *prev = NULL, *del;
	unsigned ndel = 0;

	if (fd < 0)
		return;
	del = calloc(RT_MAX_NEIGH, sizeof(*del));
	if (!del)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (ndel < RT_MAX_NEIGH &&
		    (port >= 0 ? (int)k.port == port && !nd_static(fd, &k)
			       : k.port >= NFC_MAX_PORTS || !pc[k.port].used))
			del[ndel++] = k;
	}
	for (unsigned i = 0; i < ndel; i++)
		if (!bpf_map_delete_elem(fd, &del[i]) && port >= 0)
			rt_cp_count(nf, RT_CP_neigh_flushed);
	free(del);
}

static int snd_sync(struct nfc_nf *nf, const struct rt_pcfg *pc);

int rt_nd_sync(struct nfc_nf *nf, const struct rt_pcfg *pc)
{
	nd_prune(nf, pc, -1);
	return snd_sync(nf, pc);
}

void rt_nd_port_down(struct nfc_nf *nf, unsigned port)
{
	nd_prune(nf, NULL, port);
}

static int nd_age_one(const void *key, const void *val, void *arg)
{
	struct rt_age *a = arg;
	struct rt_nd_key k;
	struct rt_neigh n;

	memcpy(&k, key, sizeof(k));
	if (!rt_age_due(a, &k, val, &n))
		return 0;
	if ((!n.probes && !n.hit) || n.probes >= a->retries) {
		/* A batch is a copy: deleting does not disturb the walk. */
		if (!bpf_map_delete_elem(a->fd, &k))
			rt_cp_count(a->nf, RT_CP_neigh_expired);
		return 0;
	}
	rt_send_ns(a->nf, k.port, k.addr, n.probes ? NULL : n.mac);
	n.probes++;
	n.hit = 0;
	bpf_map_update_elem(a->fd, &k, &n, BPF_EXIST);
	return 0;
}

/* Aging as for ARP (rt_tick.c): a learnt entry older than arp_timeout is
 * probed (unicast, then multicast) if used since, else dropped; and every
 * 10 s (RFC 4861 allows more), ports with ra=on advertise again. Read in
 * batches, as rt_arp: key by key, a get_next_key and a lookup an entry,
 * and a 16,384-key array allocated every second for the deletes. */
void rt_nd_tick(struct nfc_nf *nf, uint64_t now)
{
	struct rt_age a;
	struct rt_priv *pv = rt_priv_get(nf);

	if (pv && now >= pv->ra_at + 10 * NS_PER_SEC) {
		static const uint8_t mac_all[6] = {0x33, 0x33, 0, 0, 0, 1};
		struct rt_pcfg pc[NFC_MAX_PORTS];

		pv->ra_at = now;
		if (!rt_load_ports(nf, pc))
			for (unsigned p = 0; p < NFC_MAX_PORTS; p++)
				if (pc[p].used && pc[p].ra)
					send_ra(nf, pc, p, mac_all, all_nodes);
	}
	rt_age_init(&a, nf, "rt_nd", now);
	if (a.fd < 0)
		return;
	nfc_hash_walk(a.fd, sizeof(struct rt_nd_key), sizeof(struct rt_neigh),
		      NULL, 0, nd_age_one, &a);
}

/* `neighbours show`: the ARP entries as `arp show` gives them, then the
 * IPv6 ones, each with its family. */
int rt_neighbours_list(struct nfc_nf *nf, json_t *out)
{
	int fd = nfc_nf_map_fd(nf, "rt_nd"), r;
	struct rt_nd_key k, next, *prev = NULL;
	uint64_t now = nfc_now_ns();
	char a[INET6_ADDRSTRLEN], m[NFC_MAC_STRLEN];
	size_t i;
	json_t *e;

	r = rt_arp_list4(nf, out);
	if (r)
		return r;
	json_array_foreach (out, i, e)
		json_object_set_new(e, "family", json_string("ipv4"));
	r = rt_snd_list(nf, out, 0);
	if (r)
		return r;
	json_array_foreach (out, i, e)
		if (!json_object_get(e, "family"))
			json_object_set_new(e, "family", json_string("ipv6"));
	if (fd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_nd not found");
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct rt_neigh n;
		const char *pn;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &n))
			continue;
		pn = nfc_nf_port_name(nf, k.port);
		nfc_mac_str(n.mac, m);
		inet_ntop(AF_INET6, k.addr, a, sizeof(a));
		json_array_append_new(
			out,
			json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "address", a,
				  "mac", m, "port", pn ? pn : "-", "state",
				  n.state == RT_N_STATIC ? "static"
				  : n.probes		 ? "probing"
							 : "reachable",
				  "age",
				  (json_int_t)(n.state == RT_N_STATIC ||
							       now < n.updated
						       ? 0
						       : (now - n.updated) /
								 NS_PER_SEC),
				  "family", "ipv6"));
	}
	return 0;
}

/* ---- static IPv6 neighbours (`arp add` of an IPv6 address) ---- */

/* Where a static IPv6 entry applies: its port (given, with the address on
 * its subnet or link-local; or the port whose subnet holds it), or -1. */
static int snd_port(const struct rt_pcfg *pc, const struct rt_rib_key *k,
		    const struct rt_sarp_val *v)
{
	const uint8_t *a = k->addr.v6;

	if (k->family != RT_AF_INET6)
		return -1;
	if (!v->port[0])
		return rt_port_for6(pc, a);
	for (int p = 0; p < NFC_MAX_PORTS; p++) {
		if (!pc[p].used || strcmp(pc[p].name, v->port))
			continue;
		return rt_is_ll6(a) || rt_subnet_has6(&pc[p].ip6, a) ? p : -1;
	}
	return -1;
}

int rt_snd_add(struct nfc_nf *nf, const struct rt_pfx *ip, int port,
	       const struct rt_neigh *n)
{
	struct rt_nd_key nk = {.port = port};
	int fd = nfc_nf_map_fd(nf, "rt_nd");

	memcpy(nk.addr, ip->a.v6, 16);
	return fd < 0					  ? -ENOENT
	       : bpf_map_update_elem(fd, &nk, n, BPF_ANY) ? -errno
							  : 0;
}

/* Deletes a static entry, or flushes learnt ones (on any port). */
int rt_snd_del(struct nfc_nf *nf, const char *key, const struct rt_pfx *ip)
{
	struct rt_rib_key k = {.family = RT_AF_INET6, .plen = 128};
	struct rt_nd_key nk, next, *prev = NULL, del[NFC_MAX_PORTS];
	int sfd = nfc_nf_map_fd(nf, "rt_sarp"), fd = nfc_nf_map_fd(nf, "rt_nd");
	unsigned ndel = 0;
	int had;

	if (sfd < 0 || fd < 0)
		return nfc_nf_error(nf, ENOENT, "neighbour maps not found");
	memcpy(k.addr.v6, ip->a.v6, 16);
	had = !bpf_map_delete_elem(sfd, &k);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		nk = next;
		prev = &nk;
		if (!memcmp(nk.addr, ip->a.v6, 16) && ndel < NFC_MAX_PORTS)
			del[ndel++] = nk;
	}
	for (unsigned i = 0; i < ndel; i++)
		had |= !bpf_map_delete_elem(fd, &del[i]);
	if (!had)
		return nfc_nf_error(nf, ENOENT, "arp entry %s does not exist",
				    key);
	return 0;
}

/* Static entries back in rt_nd where they apply; ones there that no
 * longer do (their port went, or its subnet moved) go. */
static int snd_sync(struct nfc_nf *nf, const struct rt_pcfg *pc)
{
	int sfd = nfc_nf_map_fd(nf, "rt_sarp"), fd = nfc_nf_map_fd(nf, "rt_nd");
	struct rt_rib_key sk, snext, *sprev = NULL;
	struct rt_nd_key nk, next, *prev = NULL, *del;
	unsigned ndel = 0;

	if (sfd < 0 || fd < 0)
		return nfc_nf_error(nf, ENOENT, "neighbour maps not found");
	del = calloc(RT_MAX_NEIGH, sizeof(*del));
	if (!del)
		return nfc_nf_error(nf, ENOMEM, "static IPv6 neighbours: %s",
				    strerror(ENOMEM));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct rt_rib_key key = {.family = RT_AF_INET6, .plen = 128};
		struct rt_sarp_val sv;
		struct rt_neigh n;

		nk = next;
		prev = &nk;
		if (bpf_map_lookup_elem(fd, &nk, &n) || n.state != RT_N_STATIC)
			continue;
		memcpy(key.addr.v6, nk.addr, 16);
		if ((bpf_map_lookup_elem(sfd, &key, &sv) ||
		     snd_port(pc, &key, &sv) != (int)nk.port) &&
		    ndel < RT_MAX_NEIGH)
			del[ndel++] = nk;
	}
	for (unsigned i = 0; i < ndel; i++)
		bpf_map_delete_elem(fd, &del[i]);
	free(del);
	while (!bpf_map_get_next_key(sfd, sprev, &snext)) {
		struct rt_sarp_val sv;
		struct rt_neigh n = {0}, cur;
		int p;

		sk = snext;
		sprev = &sk;
		if (bpf_map_lookup_elem(sfd, &sk, &sv))
			continue;
		p = snd_port(pc, &sk, &sv);
		if (p < 0)
			continue;
		nk = (struct rt_nd_key){.port = p};
		memcpy(nk.addr, sk.addr.v6, 16);
		memcpy(n.mac, sv.mac, 6);
		n.state = RT_N_STATIC;
		n.port = p;
		if (!bpf_map_lookup_elem(fd, &nk, &cur) &&
		    cur.state == RT_N_STATIC && !memcmp(cur.mac, n.mac, 6))
			continue;
		if (bpf_map_update_elem(fd, &nk, &n, BPF_ANY))
			return nfc_nf_error(nf, errno, "write rt_nd: %s",
					    strerror(errno));
	}
	return 0;
}

int rt_snd_list(struct nfc_nf *nf, json_t *out, int all)
{
	int sfd = nfc_nf_map_fd(nf, "rt_sarp"), fd = nfc_nf_map_fd(nf, "rt_nd");
	struct rt_rib_key sk, snext, *sprev = NULL;
	struct rt_pcfg pc[NFC_MAX_PORTS];
	char a[INET6_ADDRSTRLEN], m[NFC_MAC_STRLEN];
	int r;

	if (sfd < 0 || fd < 0)
		return nfc_nf_error(nf, ENOENT, "neighbour maps not found");
	r = rt_load_ports(nf, pc);
	if (r)
		return r;
	while (!bpf_map_get_next_key(sfd, sprev, &snext)) {
		struct rt_sarp_val sv;
		struct rt_nd_key nk = {0};
		struct rt_neigh n;
		int p, active;

		sk = snext;
		sprev = &sk;
		if (sk.family != RT_AF_INET6 ||
		    bpf_map_lookup_elem(sfd, &sk, &sv))
			continue;
		p = snd_port(pc, &sk, &sv);
		nk.port = p < 0 ? 0 : p;
		memcpy(nk.addr, sk.addr.v6, 16);
		active = p >= 0 && !bpf_map_lookup_elem(fd, &nk, &n) &&
			 n.state == RT_N_STATIC;
		if (active && !all)
			continue;
		nfc_mac_str(sv.mac, m);
		inet_ntop(AF_INET6, sk.addr.v6, a, sizeof(a));
		json_array_append_new(
			out,
			json_pack("{s:s,s:s,s:s,s:s,s:I}", "address", a, "mac",
				  m, "port",
				  active       ? pc[p].name
				  : sv.port[0] ? sv.port
					       : "-",
				  "state",
				  active ? "static"
					 : "static, inactive (not on a port's "
					   "subnet)",
				  "age", (json_int_t)0));
	}
	return 0;
}
