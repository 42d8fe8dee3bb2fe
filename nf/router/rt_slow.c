// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the slow path: what the fast path sends up (packet_in). ARP
 * resolution with the packets held for it (per process, in the NF's priv),
 * learning neighbours, and ICMP errors built as RFC 1812 says, rate
 * limited; echo replies the fast path could not send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "rt_int.h"

/* ---- per-process state (struct rt_priv, rt_int.h) ---- */

struct rt_priv *rt_priv_get(struct nfc_nf *nf)
{
	struct rt_priv *p = nfc_nf_priv(nf);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->tokens = -1; /* full on first use */
		p->ip_id = (uint16_t)getpid();
		nfc_nf_set_priv(nf, p);
	}
	return p;
}

void rt_pending_free(struct rt_pending *pe)
{
	for (unsigned i = 0; i < pe->n; i++)
		free(pe->q[i]);
	free(pe->q);
	free(pe);
}

void rt_destroy(struct nfc_nf *nf)
{
	struct rt_priv *p = nfc_nf_priv(nf);

	if (!p)
		return;
	while (p->pend) {
		struct rt_pending *pe = p->pend;

		p->pend = pe->next;
		rt_pending_free(pe);
	}
	free(p);
	nfc_nf_set_priv(nf, NULL);
}

void rt_send_arp_request(struct nfc_nf *nf, unsigned port, __be32 target,
			 const uint8_t *unicast)
{
	struct rt_port pt;
	uint8_t f[64];
	size_t len;

	if (rt_port_get(nf, port, &pt) || !(pt.flags & RT_PORT_V4))
		return;
	len = rt_build_arp_request(f, pt.mac, pt.v4_addr, target, unicast);
	if (!nfc_nf_packet_out(nf, port, f, len))
		rt_cp_count(nf, RT_CP_arp_requests_sent);
}

void rt_send_garp(struct nfc_nf *nf, unsigned port)
{
	struct rt_port pt;
	uint8_t f[64];
	size_t len;

	/* Not counted as a request: arp_requests_sent counts resolutions
	 * (and the rt_cnt map keeps its size across versions). */
	if (rt_port_get(nf, port, &pt) || !(pt.flags & RT_PORT_V4))
		return;
	len = rt_build_arp_request(f, pt.mac, pt.v4_addr, pt.v4_addr, NULL);
	nfc_nf_packet_out(nf, port, f, len);
}

void rt_resolve(struct nfc_nf *nf, unsigned port, int family,
		const union rt_ip *nh, const uint8_t *unicast)
{
	if (family == RT_AF_INET6)
		rt_send_ns(nf, port, nh->v6, unicast);
	else
		rt_send_arp_request(nf, port, nh->v4, unicast);
}

/* After configure (a port whose netdev came back is one): every pending
 * resolution asks again now. Its last requests may have gone out of a
 * port that had no device, and waiting for the next retry (a tick, up to
 * a second or two) would hold its frames that long. */
void rt_pending_kick(struct nfc_nf *nf)
{
	struct rt_priv *pv = nfc_nf_priv(nf);
	uint64_t now = nfc_now_ns();

	for (struct rt_pending *pe = pv ? pv->pend : NULL; pe; pe = pe->next) {
		rt_resolve(nf, pe->port, pe->family, &pe->nh, NULL);
		pe->tries = 1;
		pe->next_try = now + NS_PER_SEC;
	}
}

static int nh_eq(int family, const union rt_ip *a, const union rt_ip *b)
{
	return family == RT_AF_INET6 ? !memcmp(a->v6, b->v6, 16)
				     : a->v4 == b->v4;
}

struct rt_pending *rt_pending_take(struct nfc_nf *nf, int family,
				   const union rt_ip *nh, unsigned port)
{
	struct rt_priv *pv = nfc_nf_priv(nf);
	struct rt_pending **pp, *pe;

	for (pp = pv ? &pv->pend : NULL; pp && *pp; pp = &(*pp)->next)
		if ((*pp)->family == family && (*pp)->port == port &&
		    nh_eq(family, &(*pp)->nh, nh)) {
			pe = *pp;
			*pp = pe->next;
			return pe;
		}
	return NULL;
}

void rt_pending_send(struct nfc_nf *nf, struct rt_pending *pe,
		     const uint8_t *mac)
{
	for (unsigned i = 0; i < pe->n; i++) {
		memcpy(pe->q[i]->data, mac, 6);
		if (!nfc_nf_packet_out(nf, pe->port, pe->q[i]->data,
				       pe->q[i]->len))
			rt_cp_count(nf, RT_CP_queue_sent);
	}
	rt_pending_free(pe);
}

/*
 * Sends a frame (Ethernet header present, source MAC set) to next hop nh
 * out of port: now if the neighbour is known, else after ARP resolves it.
 */
void rt_send_via(struct nfc_nf *nf, unsigned port, int family,
		 const union rt_ip *nh, const uint8_t *f, size_t len)
{
	struct rt_priv *pv = rt_priv_get(nf);
	int afd = nfc_nf_map_fd(nf, family == RT_AF_INET6 ? "rt_nd" : "rt_arp");
	struct rt_pending *pe;
	struct rt_frame *fr;
	struct rt_neigh n;
	unsigned max = nfc_nf_config_uint(nf, "arp_queue", 64);
	struct rt_nd_key nk = {.port = port};
	const void *key = &nh->v4;
	int known;

	if (family == RT_AF_INET6) {
		memcpy(nk.addr, nh->v6, 16);
		key = &nk;
	}
	known = afd >= 0 && !bpf_map_lookup_elem(afd, key, &n) &&
		n.port == port;
	if (known && family == RT_AF_INET6 && !n.state)
		known = 0;
	if (known) {
		uint8_t *c = malloc(len);

		if (!c)
			return;
		memcpy(c, f, len);
		memcpy(c, n.mac, 6);
		nfc_nf_packet_out(nf, port, c, len);
		free(c);
		return;
	}
	if (!pv)
		return;
	for (pe = pv->pend; pe; pe = pe->next)
		if (pe->family == family && pe->port == port &&
		    nh_eq(family, &pe->nh, nh))
			break;
	if (!pe) {
		pe = calloc(1, sizeof(*pe));
		if (!pe)
			return;
		pe->family = family;
		pe->nh = *nh;
		pe->port = port;
		pe->next = pv->pend;
		pv->pend = pe;
		rt_resolve(nf, port, family, nh, NULL);
		pe->tries = 1;
		pe->next_try = nfc_now_ns() + NS_PER_SEC;
	}
	if (pe->n == max) { /* full: the oldest goes */
		free(pe->q[0]);
		memmove(pe->q, pe->q + 1, (pe->n - 1) * sizeof(pe->q[0]));
		pe->n--;
		rt_cp_count(nf, RT_CP_queue_dropped);
	}
	if (pe->n == pe->cap) {
		unsigned cap = pe->cap ? 2 * pe->cap : 8;
		void *t;

		if (cap > max)
			cap = max;
		t = realloc(pe->q, cap * sizeof(pe->q[0]));
		if (!t)
			return;
		pe->q = t;
		pe->cap = cap;
	}
	fr = malloc(sizeof(*fr) + len);
	if (!fr)
		return;
	fr->len = len;
	memcpy(fr->data, f, len);
	pe->q[pe->n++] = fr;
	rt_cp_count(nf, RT_CP_queued);
}

static void on_mtu(struct nfc_nf *nf, unsigned in_port,
		   const struct rt_port *pt, unsigned port,
		   const union rt_ip *nh, const uint8_t *f, size_t len);

/* Routes an IPv4 packet the router originates (ICMP) and sends it. */
static void send_ip(struct nfc_nf *nf, const uint8_t *ip, size_t len)
{
	const rt_iphdr *h = (const rt_iphdr *)ip;
	struct rt_fib_val r;
	struct rt_port pt;
	uint8_t f[2048];
	rt_ethhdr *eth = (rt_ethhdr *)f;
	union rt_ip nh = {0};

	if (len + sizeof(*eth) > sizeof(f) || rt_fib_lookup(nf, h->daddr, &r) ||
	    (r.type != RT_FIB_CONNECTED && r.type != RT_FIB_VIA) ||
	    rt_port_get(nf, r.port, &pt)) {
		rt_cp_count(nf, RT_CP_icmp_not_sent);
		return;
	}
	nh.v4 = r.type == RT_FIB_VIA ? r.nh.v4 : h->daddr;
	memset(eth->h_dest, 0, 6);
	memcpy(eth->h_source, pt.mac, 6);
	eth->h_proto = htons(NFC_ETH_P_IP);
	memcpy(eth + 1, ip, len);
	/* Larger than the out port's MTU (a large echo request's reply):
	 * sent in fragments, as Linux sends its own (it went whole, past
	 * the `mtu` the port promised; found by a helper). Ours never have
	 * DF set. */
	if (pt.mtu && len > pt.mtu) {
		on_mtu(nf, r.port, &pt, r.port, &nh, f, sizeof(*eth) + len);
		return;
	}
	rt_send_via(nf, r.port, RT_AF_INET, &nh, f, sizeof(*eth) + len);
}

/* Token bucket: icmp_rate a second, burst as large. */
int rt_icmp_allowed(struct nfc_nf *nf)
{
	struct rt_priv *pv = rt_priv_get(nf);
	double rate = (double)nfc_nf_config_uint(nf, "icmp_rate", 100);
	uint64_t now = nfc_now_ns();

	if (!pv || rate <= 0)
		return 0;
	if (pv->tokens < 0)
		pv->tokens = rate;
	pv->tokens += rate * (double)(now - pv->tokens_at) / NS_PER_SEC;
	if (pv->tokens > rate)
		pv->tokens = rate;
	pv->tokens_at = now;
	if (pv->tokens < 1)
		return 0;
	pv->tokens -= 1;
	return 1;
}

static int is_unicast_v4(__be32 a)
{
	uint32_t h = ntohl(a);

	return h && (h >> 24) != 0 && (h >> 24) != 127 && (h >> 28) < 0xe;
}

/*
 * An ICMP error about the IPv4 packet at `ip` (ip_len bytes), unless the
 * rules say none (RFC 1812 4.3.2.7: not about an ICMP error, a non-first
 * fragment, or a packet not from a unicast host), or the rate is exceeded.
 * src: 0 to use the address of the port the error leaves through.
 */
void rt_icmp_error(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		   size_t ip_len, __u8 type, __u8 code, __be32 src,
		   unsigned stat)
{
	rt_icmp_error_info(nf, in_port, ip, ip_len, type, code, src, stat, 0);
}

/* The same with the ICMP header's second word set (rest: the next-hop
 * MTU of a fragmentation needed). */
void rt_icmp_error_info(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
			size_t ip_len, __u8 type, __u8 code, __be32 src,
			unsigned stat, __be32 rest)
{
	const rt_iphdr *o = (const rt_iphdr *)ip;
	uint8_t out[RT_ICMP_QUOTE_MAX];
	struct rt_priv *pv = rt_priv_get(nf);
	struct rt_fib_val r;
	struct rt_port pt;
	size_t hl, n;

	if (ip_len < sizeof(*o) || !pv)
		return;
	hl = o->ihl * 4u;
	if (o->frag_off & htons(0x1fff) || !is_unicast_v4(o->saddr))
		goto none;
	if (o->protocol == IPPROTO_ICMP && ip_len >= hl + 1) {
		__u8 t = ip[hl];

		if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
			goto none;
	}
	if (!src) {
		if (!rt_fib_lookup(nf, o->saddr, &r) &&
		    !rt_port_get(nf, r.port, &pt) && (pt.flags & RT_PORT_V4))
			src = pt.v4_addr;
		else if (!rt_port_get(nf, in_port, &pt) &&
			 (pt.flags & RT_PORT_V4))
			src = pt.v4_addr;
		else
			goto none;
	}
	if (!rt_icmp_allowed(nf)) {
		rt_cp_count(nf, RT_CP_icmp_rate_limited);
		return;
	}
	n = rt_build_icmp_error(out, src, ip, ip_len, type, code, pv->ip_id++);
	if (rest) {
		rt_icmphdr *ic = (rt_icmphdr *)(out + sizeof(rt_iphdr));

		ic->rest = rest;
		ic->checksum = 0;
		ic->checksum = rt_csum(ic, n - sizeof(rt_iphdr));
	}
	rt_cp_count(nf, stat);
	send_ip(nf, out, n);
	return;
none:
	rt_cp_count(nf, RT_CP_icmp_not_sent);
}

const uint8_t *rt_frame_ip(const uint8_t *f, uint32_t len, size_t *ip_len)
{
	const rt_iphdr *h = (const rt_iphdr *)(f + NFC_ETH_HLEN);
	size_t tot;

	if (len < NFC_ETH_HLEN + sizeof(*h) || h->version != 4 || h->ihl < 5)
		return NULL;
	tot = ntohs(h->tot_len);
	if (tot < h->ihl * 4u || tot > len - NFC_ETH_HLEN)
		return NULL;
	*ip_len = tot;
	return (const uint8_t *)h;
}

/* The IPv4 packet of a frame that may be cut short (at NFC_PKTIN_MAX):
 * the header checked, ip_len what is there of the packet. */
const uint8_t *rt_frame_ip_cut(const uint8_t *f, uint32_t len, size_t *ip_len)
{
	const rt_iphdr *h = (const rt_iphdr *)(f + NFC_ETH_HLEN);
	size_t tot;

	if (len < NFC_ETH_HLEN + sizeof(*h) || h->version != 4 || h->ihl < 5)
		return NULL;
	tot = ntohs(h->tot_len);
	if (tot < h->ihl * 4u)
		return NULL;
	*ip_len = tot > len - NFC_ETH_HLEN ? len - NFC_ETH_HLEN : tot;
	return (const uint8_t *)h;
}

/* An ICMP fragmentation needed (3/4) with the next-hop MTU (RFC 1191). */
void rt_icmp_error_mtu(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		       size_t ip_len, unsigned mtu)
{
	rt_icmp_error_info(nf, in_port, ip, ip_len, 3, 4, 0,
			   RT_CP_icmp_frag_needed, htonl(mtu & 0xffff));
}

static void on_forward_ip(struct nfc_nf *nf, unsigned in_port,
			  const uint8_t *ip, size_t ip_len);

/* The fast path's SP_MTU: fragmentation needed when DF is set (only the
 * header is needed for that, so a frame cut at NFC_PKTIN_MAX will do),
 * else the packet is forwarded in fragments (it must be whole then). */
static void on_mtu_in(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		      size_t ip_len, int cut)
{
	const rt_iphdr *h = (const rt_iphdr *)ip;
	struct rt_fib_val r;
	struct rt_port pt;

	if (rt_fib_lookup(nf, h->daddr, &r) ||
	    (r.type != RT_FIB_CONNECTED && r.type != RT_FIB_VIA) ||
	    rt_port_get(nf, r.port, &pt) || !pt.mtu) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	if (h->frag_off & htons(0x4000)) {
		rt_icmp_error_mtu(nf, in_port, ip, ip_len, pt.mtu);
		return;
	}
	if (cut) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	on_forward_ip(nf, in_port, ip, ip_len);
}

/* A neighbour confirmed: record it, send what waited for it. */
static void neigh_confirm(struct nfc_nf *nf, unsigned port, __be32 ip,
			  const uint8_t *mac, int create)
{
	int afd = nfc_nf_map_fd(nf, "rt_arp");
	union rt_ip a = {.v4 = ip};
	struct rt_pending *pe;
	struct rt_neigh n = {0}, cur;
	int have;

	if (afd < 0)
		return;
	pe = rt_pending_take(nf, RT_AF_INET, &a, port);
	have = !bpf_map_lookup_elem(afd, &ip, &cur);
	if (have && cur.state == RT_N_STATIC) {
		memcpy(n.mac, cur.mac, 6); /* static wins */
	} else if (have || create || pe) {
		memcpy(n.mac, mac, 6);
		n.state = RT_N_REACHABLE;
		n.port = port;
		n.hit = have ? cur.hit : 0;
		n.updated = nfc_now_ns();
		if (have && cur.port != port)
			rt_nbr_mirror(nf, ip, cur.port, NULL);
		if (bpf_map_update_elem(afd, &ip, &n, BPF_ANY) == 0) {
			rt_nbr_mirror(nf, ip, port, &n);
			if (!have)
				rt_cp_count(nf, RT_CP_neigh_learnt);
		}
	}
	if (pe)
		rt_pending_send(nf, pe,
				have && cur.state == RT_N_STATIC ? cur.mac
								 : mac);
}

static void on_arp(struct nfc_nf *nf, unsigned in_port, const uint8_t *f,
		   uint32_t len)
{
	const struct rt_arp_pkt *a = (const void *)(f + NFC_ETH_HLEN);
	struct rt_port pt;
	__be32 spa, tpa;

	if (len < NFC_ETH_HLEN + sizeof(*a) || rt_port_get(nf, in_port, &pt) ||
	    !(pt.flags & RT_PORT_V4))
		return;
	memcpy(&spa, a->spa, 4);
	memcpy(&tpa, a->tpa, 4);
	/* Only neighbours on the port's subnet, never ourselves. */
	if (!is_unicast_v4(spa) || spa == pt.v4_addr || spa == pt.v4_bcast ||
	    ((spa ^ pt.v4_addr) & pt.v4_mask) || rt_mac_is_multicast(a->sha))
		return;
	if (ntohs(a->op) == 2) {
		rt_cp_count(nf, RT_CP_arp_replies_received);
		/* Replies update what we asked about or already know. */
		neigh_confirm(nf, in_port, spa, a->sha, 0);
	} else if (ntohs(a->op) == 1 && tpa == pt.v4_addr) {
		/* A request for us: its sender will talk to us. */
		neigh_confirm(nf, in_port, spa, a->sha, 1);
	} else if (ntohs(a->op) == 1) {
		/* For another address (gratuitous): updates a neighbour
		 * known already, learns none. */
		neigh_confirm(nf, in_port, spa, a->sha, 0);
	}
}

/*
 * An IPv4 packet larger than its out port's MTU (f: the frame ready to
 * go, TTL decremented). With DF: fragmentation needed, with that MTU (RFC
 * 1191), which is what path-MTU discovery learns from. Without: cut into
 * fragments here (RFC 791), each sent like the packet; the fast path
 * never fragments (a frame cannot become several there).
 */
static void on_mtu(struct nfc_nf *nf, unsigned in_port,
		   const struct rt_port *pt, unsigned port,
		   const union rt_ip *nh, const uint8_t *f, size_t len)
{
	const rt_iphdr *h = (const rt_iphdr *)(f + NFC_ETH_HLEN);
	size_t ip_len = len - NFC_ETH_HLEN, hl = h->ihl * 4u, off = 0;
	size_t chunk = (pt->mtu - hl) & ~(size_t)7, pl = ip_len - hl;
	uint16_t fo = ntohs(h->frag_off);
	uint8_t frag[2048];

	if (fo & 0x4000) {
		uint8_t q[2048];

		/* The quote is of the packet as it arrived: TTL as sent. */
		memcpy(q, f + NFC_ETH_HLEN, ip_len);
		((rt_iphdr *)q)->ttl++;
		((rt_iphdr *)q)->check = 0;
		((rt_iphdr *)q)->check = rt_csum(q, hl);
		rt_icmp_error_mtu(nf, in_port, q, ip_len, pt->mtu);
		return;
	}
	if (chunk < 8 || len > sizeof(frag)) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	rt_cp_count(nf, RT_CP_fragmented);
	while (off < pl) {
		size_t n = pl - off > chunk ? chunk : pl - off;
		rt_iphdr *g = (rt_iphdr *)(frag + NFC_ETH_HLEN);
		uint16_t nfo = (uint16_t)((fo & 0x1fff) + off / 8);

		memcpy(frag, f, NFC_ETH_HLEN + hl);
		memcpy(frag + NFC_ETH_HLEN + hl, (const uint8_t *)h + hl + off,
		       n);
		/* MF on all but the last, and on the last if the packet was
		 * itself a fragment with more to come. */
		if (off + n < pl || (fo & 0x2000))
			nfo |= 0x2000;
		g->frag_off = htons(nfo);
		g->tot_len = htons((uint16_t)(hl + n));
		g->check = 0;
		g->check = rt_csum(g, hl);
		rt_send_via(nf, port, RT_AF_INET, nh, frag,
			    NFC_ETH_HLEN + hl + n);
		off += n;
	}
}

/* A packet to forward whose next hop is not resolved (or one the data
 * plane sent up for another reason that ends in forwarding). */
static void on_forward_ip(struct nfc_nf *nf, unsigned in_port,
			  const uint8_t *ip, size_t ip_len)
{
	rt_iphdr *h;
	struct rt_fib_val r;
	struct rt_port pt;
	uint8_t out[2048];
	uint32_t sum;
	union rt_ip nh = {0};

	if (NFC_ETH_HLEN + ip_len > sizeof(out)) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	h = (rt_iphdr *)(out + NFC_ETH_HLEN);
	if (rt_fib_lookup(nf, ((const rt_iphdr *)ip)->daddr, &r)) {
		rt_icmp_error(nf, in_port, ip, ip_len, 3, 0, 0,
			      RT_CP_icmp_net_unreachable);
		return;
	}
	if ((r.type != RT_FIB_CONNECTED && r.type != RT_FIB_VIA) ||
	    rt_port_get(nf, r.port, &pt) || ((const rt_iphdr *)ip)->ttl <= 1) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	/* The frame as the fast path would have sent it (the trailer, if
	 * any, dropped). */
	memcpy(out + NFC_ETH_HLEN, ip, ip_len);
	rt_l4_csum_complete(out + NFC_ETH_HLEN, ip_len);
	memcpy(out + 6, pt.mac, 6);
	((rt_ethhdr *)out)->h_proto = htons(NFC_ETH_P_IP);
	h->ttl--;
	sum = h->check + htons(0x0100);
	h->check = (uint16_t)(sum + (sum >= 0xffff));
	nh.v4 = r.type == RT_FIB_VIA ? r.nh.v4 : h->daddr;
	if (pt.mtu && ip_len > pt.mtu) {
		on_mtu(nf, in_port, &pt, r.port, &nh, out,
		       NFC_ETH_HLEN + ip_len);
		return;
	}
	rt_send_via(nf, r.port, RT_AF_INET, &nh, out, NFC_ETH_HLEN + ip_len);
}

static void on_forward(struct nfc_nf *nf, unsigned in_port, const uint8_t *f,
		       uint32_t len)
{
	size_t ip_len;
	const uint8_t *ip = rt_frame_ip(f, len, &ip_len);

	if (!ip) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	on_forward_ip(nf, in_port, ip, ip_len);
}

/* For the router itself, and not an echo request answered in the fast
 * path: echo requests whose reply leaves another port, UDP (port
 * unreachable, as a host without that service would say). */
static void on_local(struct nfc_nf *nf, unsigned in_port, const uint8_t *f,
		     uint32_t len)
{
	size_t ip_len, hl;
	const uint8_t *ip = rt_frame_ip(f, len, &ip_len);
	const rt_iphdr *o = (const rt_iphdr *)ip;
	uint8_t out[2048];
	struct rt_priv *pv = rt_priv_get(nf);

	if (!ip || !pv || ip_len > sizeof(out)) {
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	hl = o->ihl * 4u;
	if (o->protocol == IPPROTO_UDP) {
		rt_icmp_error(nf, in_port, ip, ip_len, 3, 3, o->daddr,
			      RT_CP_icmp_port_unreachable);
		return;
	}
	/* A corrupted request gets no reply (RFC 1122 3.2.2), as in the
	 * fast path: this one would compute a valid checksum for it. */
	if (o->protocol == IPPROTO_ICMP && ip_len >= hl + 8 && ip[hl] == 8 &&
	    ip[hl + 1] == 0 && is_unicast_v4(o->saddr) &&
	    !rt_csum(ip + hl, ip_len - hl)) {
		rt_iphdr *h = (rt_iphdr *)out;
		size_t pl = ip_len - hl;
		uint16_t sum;

		memcpy(out + sizeof(*h), ip + hl, pl);
		out[sizeof(*h)] = 0; /* echo reply */
		out[sizeof(*h) + 2] = out[sizeof(*h) + 3] = 0;
		sum = rt_csum(out + sizeof(*h), pl);
		memcpy(out + sizeof(*h) + 2, &sum, 2);
		rt_build_ip(h, o->daddr, o->saddr, IPPROTO_ICMP, o->tos, 64,
			    pv->ip_id++, pl);
		send_ip(nf, out, sizeof(*h) + pl);
		return;
	}
	rt_cp_count(nf, RT_CP_slow_path_dropped);
}

void rt_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		  const uint8_t *data, uint32_t len, uint32_t pkt_len)
{
	size_t ip_len;
	const uint8_t *ip;

	if (len >= NFC_ETH_HLEN &&
	    ((const rt_ethhdr *)data)->h_proto == htons(NFC_ETH_P_IPV6)) {
		rt_packet_in6(nf, in_port, reason, data, len, pkt_len);
		return;
	}
	if (reason == RT_SP_MTU && (ip = rt_frame_ip_cut(data, len, &ip_len))) {
		on_mtu_in(nf, in_port, ip, ip_len, len < pkt_len);
		return;
	}
	if (len < pkt_len) { /* cut at NFC_PKTIN_MAX: cannot forward it */
		rt_cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	switch (reason) {
	case RT_SP_ARP:
		on_arp(nf, in_port, data, len);
		break;
	case RT_SP_NEIGH_MISS:
		on_forward(nf, in_port, data, len);
		break;
	case RT_SP_TTL:
	case RT_SP_NO_ROUTE:
		ip = rt_frame_ip(data, len, &ip_len);
		if (!ip)
			break;
		if (reason == RT_SP_TTL)
			rt_icmp_error(nf, in_port, ip, ip_len, 11, 0, 0,
				      RT_CP_icmp_time_exceeded);
		else
			rt_icmp_error(nf, in_port, ip, ip_len, 3, 0, 0,
				      RT_CP_icmp_net_unreachable);
		break;
	case RT_SP_LOCAL:
		on_local(nf, in_port, data, len);
		break;
	default:
		rt_cp_count(nf, RT_CP_slow_path_dropped);
	}
}
