// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the control plane and slow path of the IPv4 router NF.
 *
 * State lives in the NF's pinned maps (router.h), never only here: every
 * nfctl call is a new process, and the daemon restarts. configure() derives
 * the data plane's maps (rt_ports; the FIB, rt_fib4 and its fast-path form
 * rt_dir; the static part of rt_arp and its mirror rt_nbr) from the ports'
 * configuration and the configured records (rt_rib: static routes,
 * rt_sarp: static ARP entries), writing only differences. What is
 * per process: packets waiting for ARP (a bounded queue per next hop) and
 * the ICMP rate limiter, in the NF's priv.
 *
 * The slow path (packet_in) resolves next hops, learns neighbours, and
 * builds ICMP errors (time exceeded, net/host/port unreachable, rate
 * limited); tick() retries resolutions, fails them with host unreachable
 * and ages neighbours (a used entry is re-probed, an unused one dropped).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nfchain/nf.h"
#include "common.h"
#include "router.h"
#include "rt_pkt.h"
#include "router_xdp.skel.h"
#include "router_tc.skel.h"

int nfc_obj_set_const(struct bpf_object *obj, const char *var, unsigned val);

#define NS_PER_SEC 1000000000ull

/* ---- declaration ---- */

static const struct nfc_field rt_config[] = {
	{.name = "arp_timeout",
	 .kind = NFC_F_UINT,
	 .def = "60",
	 .min = 5,
	 .max = 86400,
	 .doc = "seconds a learnt neighbour is trusted; then it is probed "
		"again if it was used, dropped if not"},
	{.name = "arp_retries",
	 .kind = NFC_F_UINT,
	 .def = "3",
	 .min = 1,
	 .max = 10,
	 .doc = "ARP requests (one a second) before a next hop is declared "
		"unreachable (ICMP host unreachable to the senders)"},
	{.name = "arp_queue",
	 .kind = NFC_F_UINT,
	 .def = "64",
	 .min = 1,
	 .max = 4096,
	 .doc = "packets held per next hop while it is being resolved; the "
		"oldest is dropped when full"},
	{.name = "icmp_rate",
	 .kind = NFC_F_UINT,
	 .def = "100",
	 .min = 0,
	 .max = 1000000,
	 .doc = "ICMP errors sent per second at most (burst: as many); 0: "
		"none"},
	{.name = "rp_filter",
	 .kind = NFC_F_BOOL,
	 .flags = NFC_FIELD_RELOAD,
	 .def = "false",
	 .doc = "strict reverse-path filter: drop a packet whose source is not "
		"routed back out of the port it came in on"},
	NFC_FIELDS_END,
};

static const struct nfc_field rt_port_config[] = {
	{.name = "ip",
	 .kind = NFC_F_PREFIX,
	 .doc = "IPv4 address/prefix length of the port; the subnet becomes a "
		"connected route"},
	{.name = "mac",
	 .kind = NFC_F_MAC,
	 .doc = "default: the peer netdev's MAC, else a locally administered "
		"one derived from the NF and port names (stable)"},
	NFC_FIELDS_END,
};

static const struct nfc_field rt_route_fields[] = {
	{.name = "nexthop",
	 .kind = NFC_F_IPV4,
	 .flags = NFC_FIELD_REQUIRED,
	 .doc = "next hop, on the subnet of one of the ports"},
	NFC_FIELDS_END,
};

static const struct nfc_field rt_arp_fields[] = {
	{.name = "mac",
	 .kind = NFC_F_MAC,
	 .flags = NFC_FIELD_REQUIRED,
	 .doc = "the neighbour's MAC"},
	{.name = "port",
	 .kind = NFC_F_PORT,
	 .doc = "port it is on (default: the port whose subnet holds it)"},
	NFC_FIELDS_END,
};

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static long long cfg_uint(struct nfc_nf *nf, const char *name, long long def)
{
	json_t *v = json_object_get(nfc_nf_config(nf), name);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

static int map_fd(struct nfc_nf *nf, const char *name)
{
	return nfc_nf_map_fd(nf, name);
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

/* Control-plane counters: CPU 0's copy of their rt_cnt slot. */
static void cp_count(struct nfc_nf *nf, unsigned idx)
{
	int fd = map_fd(nf, "rt_cnt"), n = ncpus();
	__u32 k = RT_CP_BASE + idx;
	__u64 *v;

	if (fd < 0)
		return;
	v = calloc(n, sizeof(*v));
	if (!v)
		return;
	if (!bpf_map_lookup_elem(fd, &k, v)) {
		v[0]++;
		bpf_map_update_elem(fd, &k, v, BPF_ANY);
	}
	free(v);
}

static int mac_is_multicast(const uint8_t *m)
{
	return m[0] & 1;
}

static void mac_str(const uint8_t *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

/* A prefix or address of either family; parsed from text in its one
 * canonical spelling, so that the model's keys and ours always agree. */
struct rt_pfx {
	uint8_t family;
	uint8_t plen;
	union rt_ip a;
};

static const char *pfx_str(const struct rt_pfx *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == RT_AF_INET6 ? AF_INET6 : AF_INET, &p->a, a,
		  sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->plen);
	return buf;
}

/* what: "route", "arp entry"; want_len: a prefix (else an address). */
static int pfx_parse(struct nfc_nf *nf, const char *what, const char *s,
		     int want_len, struct rt_pfx *p)
{
	uint32_t a;
	unsigned l;
	char canon[64];
	int r;

	memset(p, 0, sizeof(*p));
	if (strchr(s, ':'))
		return nfc_nf_error(nf, EAFNOSUPPORT,
				    "%s %s: IPv6 is not routed yet (IPv4 only "
				    "for now)",
				    what, s);
	r = nfc_parse_prefix(s, &a, &l, 0);
	if (r == -ERANGE)
		return nfc_nf_error(nf, ERANGE,
				    "%s %s: prefix length is over 32", what, s);
	if (r == -EEXIST) {
		nfc_parse_prefix(s, &a, &l, 1);
		a &= l ? ~0u << (32 - l) : 0;
		return nfc_nf_error(nf, EINVAL,
				    "%s %s: host bits set (the prefix is "
				    "%u.%u.%u.%u/%u)",
				    what, s, a >> 24, (a >> 16) & 255,
				    (a >> 8) & 255, a & 255, l);
	}
	if (r || (want_len && !strchr(s, '/')) || (!want_len && strchr(s, '/')))
		return nfc_nf_error(nf, EINVAL, "%s '%s': not %s", what, s,
				    want_len ? "an IPv4 prefix (like "
					       "203.0.113.0/24)"
					     : "an IPv4 address");
	p->family = RT_AF_INET;
	p->plen = l;
	p->a.v4 = htonl(a);
	if (want_len)
		pfx_str(p, canon, sizeof(canon));
	else
		inet_ntop(AF_INET, &p->a.v4, canon, sizeof(canon));
	if (strcmp(canon, s))
		return nfc_nf_error(nf, EINVAL, "%s '%s': write it as %s", what,
				    s, canon);
	return 0;
}

/* ---- the port model ---- */

struct rt_pcfg {
	int used;
	const char *name;
	struct rt_pfx ip; /* family 0: no address */
	uint8_t mac[6];
};

static int netdev_mac(int ifindex, uint8_t mac[6])
{
	struct ifreq ifr = {0};
	int fd, r = -1;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (!ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
		r = 0;
	}
	close(fd);
	return r;
}

/* Locally administered, unicast, from the NF and port names (FNV-1a): the
 * same after a restart or a rebuild from the saved state. */
static void derived_mac(const char *nf, const char *port, uint8_t mac[6])
{
	uint64_t h = 14695981039346656037ULL;
	const char *parts[3] = {nf, "/", port};

	for (int i = 0; i < 3; i++)
		for (const char *c = parts[i]; *c; c++) {
			h ^= (uint8_t)*c;
			h *= 1099511628211ULL;
		}
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = h >> (8 * i);
}

static int subnet_has(const struct rt_pfx *net, __be32 a)
{
	return net->family == RT_AF_INET &&
	       !((a ^ net->a.v4) & rt_mask(net->plen));
}

static __be32 subnet_bcast(const struct rt_pfx *p)
{
	return p->plen >= 31 ? 0 : (p->a.v4 | ~rt_mask(p->plen));
}

/* Reads the ports from the model; validates addresses and MACs. */
static int load_ports(struct nfc_nf *nf, struct rt_pcfg *pc)
{
	char b1[64], b2[64];

	memset(pc, 0, sizeof(*pc) * NFC_MAX_PORTS);
	for (unsigned p = 0; p < NFC_MAX_PORTS; p++) {
		json_t *cfg = nfc_nf_port_config(nf, p);
		const char *ip, *mac;
		int ifx;

		pc[p].name = nfc_nf_port_name(nf, p);
		if (!pc[p].name)
			continue;
		pc[p].used = 1;
		ip = json_string_value(json_object_get(cfg, "ip"));
		mac = json_string_value(json_object_get(cfg, "mac"));
		if (ip) {
			uint32_t a;
			unsigned l;

			if (nfc_parse_prefix(ip, &a, &l, 1))
				return nfc_nf_error(nf, EINVAL,
						    "port %s: ip '%s' is not "
						    "address/length",
						    pc[p].name, ip);
			pc[p].ip.family = RT_AF_INET;
			pc[p].ip.plen = l;
			pc[p].ip.a.v4 = htonl(a);
			if (l == 0)
				return nfc_nf_error(nf, EINVAL,
						    "port %s: ip %s: a /0 "
						    "subnet would hold every "
						    "address",
						    pc[p].name, ip);
			if (l <= 30 && (!(htonl(a) & ~rt_mask(l)) ||
					!(~htonl(a) & ~rt_mask(l))))
				return nfc_nf_error(
					nf, EINVAL,
					"port %s: ip %s is the %s address of "
					"its subnet",
					pc[p].name, ip,
					!(htonl(a) & ~rt_mask(l))
						? "network"
						: "broadcast");
			if ((a >> 24) == 0 || (a >> 24) == 127 ||
			    (a >> 28) >= 0xe)
				return nfc_nf_error(nf, EINVAL,
						    "port %s: ip %s is not a "
						    "unicast address",
						    pc[p].name, ip);
		}
		if (mac) {
			nfc_parse_mac(mac, pc[p].mac);
			if (mac_is_multicast(pc[p].mac) ||
			    !memcmp(pc[p].mac, "\0\0\0\0\0\0", 6))
				return nfc_nf_error(nf, EINVAL,
						    "port %s: mac %s is not a "
						    "unicast address",
						    pc[p].name, mac);
		} else if ((ifx = nfc_nf_port_ifindex(nf, p)) <= 0 ||
			   netdev_mac(ifx, pc[p].mac)) {
			derived_mac(nfc_nf_name(nf), pc[p].name, pc[p].mac);
		}
	}
	/* Subnets may not overlap: a destination would have two ports. */
	for (unsigned p = 0; p < NFC_MAX_PORTS; p++)
		for (unsigned q = 0; q < p; q++) {
			const struct rt_pfx *a = &pc[p].ip, *b = &pc[q].ip;
			unsigned l;
			struct rt_pfx na, nb;

			if (!a->family || !b->family)
				continue;
			l = a->plen < b->plen ? a->plen : b->plen;
			if ((a->a.v4 ^ b->a.v4) & rt_mask(l))
				continue;
			na = *a;
			nb = *b;
			na.a.v4 &= rt_mask(a->plen);
			nb.a.v4 &= rt_mask(b->plen);
			return nfc_nf_error(
				nf, EEXIST,
				"port %s: subnet %s overlaps "
				"subnet %s of port %s",
				pc[p].name, pfx_str(&na, b1, sizeof(b1)),
				pfx_str(&nb, b2, sizeof(b2)), pc[q].name);
		}
	return 0;
}

/* The port whose subnet holds address a (IPv4), or -1. */
static int port_for(const struct rt_pcfg *pc, __be32 a)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (pc[p].used && subnet_has(&pc[p].ip, a))
			return p;
	return -1;
}

static int is_own_addr(const struct rt_pcfg *pc, __be32 a)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (pc[p].used && pc[p].ip.family == RT_AF_INET &&
		    pc[p].ip.a.v4 == a)
			return 1;
	return 0;
}

static void subnets_str(const struct rt_pcfg *pc, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int p = 0; p < NFC_MAX_PORTS && n < len; p++) {
		char b[64];
		struct rt_pfx s;

		if (!pc[p].used || !pc[p].ip.family)
			continue;
		s = pc[p].ip;
		s.a.v4 &= rt_mask(s.plen);
		n += snprintf(buf + n, len - n, "%s%s %s", n ? ", " : "",
			      pc[p].name, pfx_str(&s, b, sizeof(b)));
	}
	if (!n)
		snprintf(buf, len, "none: no port has an ip");
}

/* ---- the FIB ---- */

struct fib_ent {
	struct rt_fib4_key k;
	struct rt_fib_val v;
};

static int fib_cmp(const void *x, const void *y)
{
	const struct fib_ent *a = x, *b = y;

	if (a->k.plen != b->k.plen)
		return a->k.plen < b->k.plen ? -1 : 1;
	return a->k.addr == b->k.addr
		       ? 0
		       : (ntohl(a->k.addr) < ntohl(b->k.addr) ? -1 : 1);
}

/* Connected, local and broadcast entries of the ports. */
static int fib_port_entries(const struct rt_pcfg *pc, struct fib_ent *e)
{
	int n = 0;

	for (int p = 0; p < NFC_MAX_PORTS; p++) {
		const struct rt_pfx *ip = &pc[p].ip;

		if (!pc[p].used || ip->family != RT_AF_INET)
			continue;
		if (ip->plen < 32)
			e[n++] = (struct fib_ent){
				{ip->plen, ip->a.v4 & rt_mask(ip->plen)},
				{.type = RT_FIB_CONNECTED,
				 .port = p,
				 .plen = ip->plen}};
		e[n++] = (struct fib_ent){
			{32, ip->a.v4},
			{.type = RT_FIB_LOCAL, .port = p, .plen = 32}};
		if (subnet_bcast(ip))
			e[n++] = (struct fib_ent){
				{32, subnet_bcast(ip)},
				{.type = RT_FIB_BCAST, .port = p, .plen = 32}};
	}
	return n;
}

/* Where a static route goes with these ports: its port, or -1 (inactive),
 * -2 when a port's own entry has the same key (shadowed). */
static int route_port(const struct rt_pcfg *pc, const struct fib_ent *own,
		      int nown, const struct rt_rib_key *k,
		      const struct rt_rib_val *v)
{
	struct fib_ent e = {.k = {k->plen, k->addr.v4}};

	if (bsearch(&e, own, nown, sizeof(*own), fib_cmp))
		return -2;
	return v->nh_family == RT_AF_INET ? port_for(pc, v->nh.v4) : -1;
}

static int dir_rebuild(struct nfc_nf *nf, const struct fib_ent *fib, size_t n);

/* Makes rt_fib4 hold exactly `want` (sorted), writing only differences:
 * new and changed entries first, stale ones removed last. An LPM lookup of
 * a key that exists returns that very entry (no longer prefix can match
 * within its length), so walking the keys gives the current values. */
static int fib_sync(struct nfc_nf *nf, struct fib_ent *want, size_t n)
{
	int fd = map_fd(nf, "rt_fib4"), r = 0;
	struct rt_fib4_key k, next, *prev = NULL;
	size_t nstale = 0, cap = 64;
	struct rt_fib4_key *stale = malloc(cap * sizeof(*stale));
	char *same = calloc(n + 1, 1);

	if (fd < 0)
		r = nfc_nf_error(nf, ENOENT, "map rt_fib4 not found");
	if (!stale || !same)
		r = -ENOMEM;
	while (!r && !bpf_map_get_next_key(fd, prev, &next)) {
		struct fib_ent e = {.k = next}, *w;
		struct rt_fib_val cur;

		k = next;
		prev = &k;
		w = bsearch(&e, want, n, sizeof(*want), fib_cmp);
		if (w) {
			same[w - want] = !bpf_map_lookup_elem(fd, &k, &cur) &&
					 !memcmp(&cur, &w->v, sizeof(cur));
			continue;
		}
		if (nstale == cap) {
			void *t = realloc(stale, 2 * cap * sizeof(*stale));

			if (!t) {
				r = -ENOMEM;
				break;
			}
			stale = t;
			cap *= 2;
		}
		stale[nstale++] = k;
	}
	for (size_t i = 0; !r && i < n; i++)
		if (!same[i] &&
		    bpf_map_update_elem(fd, &want[i].k, &want[i].v, BPF_ANY))
			r = nfc_nf_error(nf, errno,
					 "write the FIB: %s (at most %d "
					 "entries)",
					 strerror(errno), RT_MAX_FIB);
	for (size_t i = 0; !r && i < nstale; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	free(stale);
	free(same);
	return r ? r : dir_rebuild(nf, want, n);
}

/* ---- rt_dir: the FIB as a DIR-16-8-8 table (router.h) ---- */

/* The table in the map, or (full rebuilds) in memory first. */
struct dir_tab {
	int fd;
	__u64 *mem;
};

static __u64 dget(struct dir_tab *t, __u32 i)
{
	__u64 v = 0;

	if (t->mem)
		return t->mem[i];
	bpf_map_lookup_elem(t->fd, &i, &v);
	return v;
}

static void dset(struct dir_tab *t, __u32 i, __u64 v)
{
	if (t->mem)
		t->mem[i] = v;
	else
		bpf_map_update_elem(t->fd, &i, &v, BPF_ANY);
}

static __u64 dir_res(const struct rt_fib_val *v)
{
	return RT_DIR_ENC(RT_DIR_RES, v->plen, v->type, v->port, v->nh.v4);
}

/* A block of the next level below `e` (level 1: an L2 block, 2: L3), filled
 * with e, or -1 when its pool is used up. */
static int dir_block(struct dir_tab *t, int level, __u64 e)
{
	__u32 use = RT_DIR_USE + level - 1, n = dget(t, use);
	__u32 max = level == 1 ? RT_DIR_L2_BLOCKS : RT_DIR_L3_BLOCKS;
	__u32 base = level == 1 ? RT_DIR_L2 : RT_DIR_L3;

	if (n >= max)
		return -1;
	for (__u32 i = 0; i < 256; i++)
		dset(t, base + n * 256 + i, e);
	dset(t, use, n + 1);
	return n;
}

static __u32 dir_child(int level, __u64 e)
{
	return (level == 1 ? RT_DIR_L2 : RT_DIR_L3) + RT_DIR_LOW(e) * 256;
}

/* Entries [base+from, +n) of `level`: a prefix of length plen (value v)
 * goes over those held by prefixes no longer than it, through blocks. With
 * `old` non-zero, instead: entries equal to old become v (a delete). */
static void dir_over(struct dir_tab *t, int level, __u32 base, __u32 from,
		     __u32 n, __u64 v, unsigned plen, __u64 old)
{
	for (__u32 i = from; i < from + n; i++) {
		__u64 e = dget(t, base + i);

		if (RT_DIR_KIND(e) == RT_DIR_PTR)
			dir_over(t, level + 1, dir_child(level, e), 0, 256, v,
				 plen, old);
		else if (old ? e == old
			     : RT_DIR_KIND(e) != RT_DIR_TRIE &&
					 RT_DIR_PLEN(e) <= plen)
			dset(t, base + i, v);
	}
}

/* The entry at level 1 or 2 that a prefix longer than that level needs as
 * a block: made one if it is not (with_alloc), else -1. */
static int dir_down(struct dir_tab *t, int level, __u32 idx, int with_alloc,
		    __u32 *child)
{
	__u64 e = dget(t, idx);
	int b;

	if (RT_DIR_KIND(e) == RT_DIR_TRIE)
		return -1;
	if (RT_DIR_KIND(e) != RT_DIR_PTR) {
		if (!with_alloc)
			return -1;
		b = dir_block(t, level, e);
		if (b < 0) { /* the pool is used up: the trie answers here */
			dset(t, idx, RT_DIR_ENC(RT_DIR_TRIE, 0, 0, 0, 0));
			return -1;
		}
		/* The block is complete before anything points at it. */
		e = RT_DIR_ENC(RT_DIR_PTR, 0, 0, 0, b);
		dset(t, idx, e);
	}
	*child = dir_child(level, e);
	return 0;
}

/* Prefix addr/plen now holds v (old == 0), or no longer holds old and its
 * addresses fall back to v, the covering prefix's value (or empty). */
static void dir_apply(struct dir_tab *t, __be32 addr, unsigned plen, __u64 v,
		      __u64 old)
{
	__u32 h = ntohl(addr), b2, b3;

	if (plen <= 16) {
		dir_over(t, 1, RT_DIR_L1, h >> 16, 1u << (16 - plen), v, plen,
			 old);
		return;
	}
	if (dir_down(t, 1, RT_DIR_L1 + (h >> 16), !old, &b2))
		return;
	if (plen <= 24) {
		dir_over(t, 2, b2, (h >> 8) & 255, 1u << (24 - plen), v, plen,
			 old);
		return;
	}
	if (dir_down(t, 2, b2 + ((h >> 8) & 255), !old, &b3))
		return;
	dir_over(t, 3, b3, h & 255, 1u << (32 - plen), v, plen, old);
}

/* Rebuilds rt_dir from the whole FIB (configure): in memory, into blocks
 * not in use yet where the pools allow (nothing in use changes under the
 * fast path before the level-1 entries move over), then only the entries
 * that differ are written, deepest level first. */
static int dir_rebuild(struct nfc_nf *nf, const struct fib_ent *fib, size_t n)
{
	struct dir_tab t = {.fd = map_fd(nf, "rt_dir")};
	__u32 cnt = RT_DIR_SIZE, out, *keys = NULL;
	__u64 *cur = NULL;
	int r = 0;

	if (t.fd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_dir not found");
	t.mem = calloc(RT_DIR_SIZE, sizeof(__u64));
	cur = calloc(RT_DIR_SIZE, sizeof(__u64));
	keys = calloc(RT_DIR_SIZE, sizeof(__u32));
	if (!t.mem || !cur || !keys) {
		r = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_batch(t.fd, NULL, &out, keys, cur, &cnt, NULL) &&
	    errno != ENOENT)
		cnt = 0;
	if (cnt != RT_DIR_SIZE)
		for (__u32 i = 0; i < RT_DIR_SIZE; i++)
			bpf_map_lookup_elem(t.fd, &i, &cur[i]);
	for (int fresh = 1; fresh >= 0; fresh--) {
		int full = 0;

		/* Blocks in use stay as they are; level 1 starts empty. */
		memcpy(t.mem, cur, RT_DIR_SIZE * sizeof(__u64));
		memset(t.mem, 0, RT_DIR_L2 * sizeof(__u64));
		if (!fresh)
			t.mem[RT_DIR_USE] = t.mem[RT_DIR_USE + 1] = 0;
		for (size_t i = 0; i < n; i++)
			dir_apply(&t, fib[i].k.addr, fib[i].k.plen,
				  dir_res(&fib[i].v), 0);
		for (__u32 i = 0; i < RT_DIR_L2; i++)
			full |= RT_DIR_KIND(t.mem[i]) == RT_DIR_TRIE;
		if (!full)
			break;
	}
	for (__u32 i = RT_DIR_SIZE; i-- > 0;)
		if (t.mem[i] != cur[i] &&
		    bpf_map_update_elem(t.fd, &i, &t.mem[i], BPF_ANY)) {
			r = nfc_nf_error(nf, errno, "write rt_dir: %s",
					 strerror(errno));
			break;
		}
out:
	free(t.mem);
	free(cur);
	free(keys);
	return r;
}

/* One prefix added (v) to or removed from (v NULL) the trie: rt_dir
 * follows. A removed prefix's addresses go to the covering prefix. */
static void dir_change(struct nfc_nf *nf, __be32 addr, unsigned plen,
		       const struct rt_fib_val *v, const struct rt_fib_val *old)
{
	struct dir_tab t = {.fd = map_fd(nf, "rt_dir")};
	struct rt_fib4_key k = {plen ? plen - 1 : 0, addr};
	struct rt_fib_val cover;
	int ffd = map_fd(nf, "rt_fib4");

	if (t.fd < 0 || ffd < 0)
		return;
	if (v) {
		dir_apply(&t, addr, plen, dir_res(v), 0);
		return;
	}
	if (plen && !bpf_map_lookup_elem(ffd, &k, &cover))
		dir_apply(&t, addr, plen, dir_res(&cover), dir_res(old));
	else
		dir_apply(&t, addr, plen, 0, dir_res(old));
}

/* ---- configure: the data plane's maps from the model ---- */

static int ports_sync(struct nfc_nf *nf, const struct rt_pcfg *pc)
{
	int fd = map_fd(nf, "rt_ports");

	if (fd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_ports not found");
	for (__u32 p = 0; p < NFC_MAX_PORTS; p++) {
		struct rt_port want = {0}, cur;

		if (pc[p].used) {
			memcpy(want.mac, pc[p].mac, 6);
			want.flags = RT_PORT_UP;
			if (pc[p].ip.family == RT_AF_INET) {
				want.flags |= RT_PORT_V4;
				want.v4_plen = pc[p].ip.plen;
				want.v4_addr = pc[p].ip.a.v4;
				want.v4_mask = rt_mask(pc[p].ip.plen);
				want.v4_bcast = subnet_bcast(&pc[p].ip);
				if (pc[p].ip.plen >= 32 - RT_NBR_BITS)
					want.flags |= RT_PORT_NBR;
			}
		}
		/* The generation is gen_bump()'s, never reset from here: a
		 * port down and up again must not revive cache entries made
		 * before. */
		if (!bpf_map_lookup_elem(fd, &p, &cur)) {
			want.gen = cur.gen;
			if (!memcmp(&cur, &want, sizeof(cur)))
				continue;
		}
		if (bpf_map_update_elem(fd, &p, &want, BPF_ANY))
			return nfc_nf_error(nf, errno, "write rt_ports: %s",
					    strerror(errno));
	}
	return 0;
}

/* ---- rt_nbr: rt_arp mirrored for the fast path (router.h) ---- */

static int port_get(struct nfc_nf *nf, unsigned port, struct rt_port *out);

/* The rt_nbr slot of neighbour addr on port, if that port has a slice. */
static int nbr_slot(struct nfc_nf *nf, unsigned port, __be32 addr, __u32 *idx)
{
	struct rt_port pt;

	if (port_get(nf, port, &pt) || !(pt.flags & RT_PORT_NBR) ||
	    ((addr ^ pt.v4_addr) & pt.v4_mask))
		return -1;
	*idx = RT_NBR_INDEX(port, ntohl(addr));
	return 0;
}

/* Mirrors rt_arp's entry for addr on port (n; NULL: none) into rt_nbr. */
static void nbr_mirror(struct nfc_nf *nf, __be32 addr, unsigned port,
		       const struct rt_neigh *n)
{
	int fd = map_fd(nf, "rt_nbr");
	struct rt_neigh v = {0}, cur;
	__u32 idx;

	if (fd < 0 || nbr_slot(nf, port, addr, &idx))
		return;
	if (n) {
		v = *n;
		v.addr = addr;
	} else if (bpf_map_lookup_elem(fd, &idx, &cur) || cur.addr != addr) {
		return; /* the slot is another's (or empty) */
	}
	bpf_map_update_elem(fd, &idx, &v, BPF_ANY);
}

/* Whether the fast path used neighbour addr since the flag was cleared:
 * in rt_nbr for a port with a slice, else in rt_arp's entry n. */
static int nbr_hit(struct nfc_nf *nf, __be32 addr, const struct rt_neigh *n)
{
	int fd = map_fd(nf, "rt_nbr");
	struct rt_neigh cur;
	__u32 idx;

	if (n->hit)
		return 1;
	return fd >= 0 && !nbr_slot(nf, n->port, addr, &idx) &&
	       !bpf_map_lookup_elem(fd, &idx, &cur) && cur.addr == addr &&
	       cur.hit;
}

/* Makes rt_nbr the mirror of rt_arp, after ports or neighbours changed
 * (configure), writing only the slots that differ; a slot's hit flag is
 * kept for the same neighbour. */
static int nbr_sync(struct nfc_nf *nf)
{
	int fd = map_fd(nf, "rt_nbr"), afd = map_fd(nf, "rt_arp"), r = 0;
	__u32 n = NFC_MAX_PORTS * RT_NBR_SLICE, cnt = n, out, idx;
	struct rt_neigh *want = calloc(n, sizeof(*want));
	struct rt_neigh *cur = calloc(n, sizeof(*cur));
	__u32 *keys = calloc(n, sizeof(*keys));
	__be32 k, next, *prev = NULL;

	if (fd < 0 || afd < 0)
		r = nfc_nf_error(nf, ENOENT, "map rt_nbr not found");
	else if (!want || !cur || !keys)
		r = -ENOMEM;
	if (r)
		goto out;
	/* One batch read of the whole array; slot by slot if refused. */
	if (bpf_map_lookup_batch(fd, NULL, &out, keys, cur, &cnt, NULL) &&
	    errno != ENOENT)
		cnt = 0;
	if (cnt != n)
		for (__u32 i = 0; i < n; i++)
			bpf_map_lookup_elem(fd, &i, &cur[i]);
	while (!bpf_map_get_next_key(afd, prev, &next)) {
		struct rt_neigh e;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(afd, &k, &e) ||
		    nbr_slot(nf, e.port, k, &idx))
			continue;
		want[idx] = e;
		want[idx].addr = k;
	}
	for (__u32 i = 0; i < n; i++) {
		if (want[i].state && cur[i].addr == want[i].addr)
			want[i].hit |= cur[i].hit;
		if (!memcmp(&want[i], &cur[i], sizeof(cur[i])))
			continue;
		if (bpf_map_update_elem(fd, &i, &want[i], BPF_ANY)) {
			r = nfc_nf_error(nf, errno, "write rt_nbr: %s",
					 strerror(errno));
			break;
		}
	}
out:
	free(want);
	free(cur);
	free(keys);
	return r;
}

/* Where a static ARP entry applies: its port, or -1. */
static int sarp_port(const struct rt_pcfg *pc, const struct rt_rib_key *k,
		     const struct rt_sarp_val *v)
{
	if (k->family != RT_AF_INET)
		return -1;
	if (v->port[0]) {
		for (int p = 0; p < NFC_MAX_PORTS; p++)
			if (pc[p].used && !strcmp(pc[p].name, v->port))
				return subnet_has(&pc[p].ip, k->addr.v4) ? p
									 : -1;
		return -1;
	}
	return port_for(pc, k->addr.v4);
}

/* Dynamic entries that no longer fit a port go; static ones are rebuilt
 * from rt_sarp. */
static int neigh_sync(struct nfc_nf *nf, const struct rt_pcfg *pc)
{
	int afd = map_fd(nf, "rt_arp"), sfd = map_fd(nf, "rt_sarp");
	__be32 k, next, *prev = NULL, del[RT_MAX_NEIGH];
	struct rt_rib_key sk, snext, *sprev = NULL;
	unsigned ndel = 0;

	if (afd < 0 || sfd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_arp not found");
	while (!bpf_map_get_next_key(afd, prev, &next)) {
		struct rt_neigh n;
		int keep = 0;

		if (!bpf_map_lookup_elem(afd, &next, &n)) {
			if (n.state == RT_N_STATIC) {
				struct rt_rib_key key = {.family = RT_AF_INET,
							 .plen = 32};
				struct rt_sarp_val sv;

				key.addr.v4 = next;
				keep = !bpf_map_lookup_elem(sfd, &key, &sv) &&
				       sarp_port(pc, &key, &sv) == (int)n.port;
			} else {
				keep = n.port < NFC_MAX_PORTS &&
				       pc[n.port].used &&
				       subnet_has(&pc[n.port].ip, next);
			}
		}
		k = next;
		prev = &k;
		if (!keep && ndel < sizeof(del) / sizeof(del[0]))
			del[ndel++] = k;
	}
	/* Deleted after the walk, which a delete would restart. */
	for (unsigned i = 0; i < ndel; i++)
		bpf_map_delete_elem(afd, &del[i]);
	while (!bpf_map_get_next_key(sfd, sprev, &snext)) {
		struct rt_sarp_val sv;
		struct rt_neigh n = {0}, cur;
		int p;

		sk = snext;
		sprev = &sk;
		if (bpf_map_lookup_elem(sfd, &sk, &sv))
			continue;
		p = sarp_port(pc, &sk, &sv);
		if (p < 0)
			continue;
		memcpy(n.mac, sv.mac, 6);
		n.state = RT_N_STATIC;
		n.port = p;
		if (!bpf_map_lookup_elem(afd, &sk.addr.v4, &cur) &&
		    cur.state == RT_N_STATIC && cur.port == n.port &&
		    !memcmp(cur.mac, n.mac, 6))
			continue;
		if (bpf_map_update_elem(afd, &sk.addr.v4, &n, BPF_ANY))
			return nfc_nf_error(nf, errno, "write rt_arp: %s",
					    strerror(errno));
	}
	return 0;
}

static int rt_configure_do(struct nfc_nf *nf)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	int rfd = map_fd(nf, "rt_rib"), r;
	struct rt_rib_key k, next, *prev = NULL;
	struct fib_ent *want;
	size_t n = 0, cap = 4 * NFC_MAX_PORTS + 1024;
	int nown;

	r = load_ports(nf, pc);
	if (r)
		return r;
	if (rfd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_rib not found");
	want = malloc(cap * sizeof(*want));
	if (!want)
		return -ENOMEM;
	nown = fib_port_entries(pc, want);
	n = nown;
	qsort(want, nown, sizeof(*want), fib_cmp);
	while (!bpf_map_get_next_key(rfd, prev, &next)) {
		struct rt_rib_val v;
		int p;

		k = next;
		prev = &k;
		if (k.family != RT_AF_INET || bpf_map_lookup_elem(rfd, &k, &v))
			continue;
		p = route_port(pc, want, nown, &k, &v);
		if (p < 0)
			continue;
		if (n == cap) {
			void *t = realloc(want, 2 * cap * sizeof(*want));

			if (!t) {
				free(want);
				return -ENOMEM;
			}
			want = t;
			cap *= 2;
		}
		want[n++] = (struct fib_ent){{k.plen, k.addr.v4},
					     {.type = RT_FIB_VIA,
					      .port = p,
					      .nh = v.nh,
					      .plen = k.plen}};
	}
	qsort(want, n, sizeof(*want), fib_cmp);
	r = ports_sync(nf, pc);
	if (!r)
		r = fib_sync(nf, want, n);
	if (!r)
		r = neigh_sync(nf, pc);
	if (!r)
		r = nbr_sync(nf);
	free(want);
	return r;
}

static int rt_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	json_t *v = json_object_get(nfc_nf_config(nf), "rp_filter");

	return nfc_obj_set_const(obj, "rt_rp_filter", json_is_true(v));
}

/* ---- routes ---- */

static int routes_add_do(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_rib_key k = {0};
	struct rt_rib_val v = {0}, cur;
	struct rt_fib4_key fk;
	struct rt_fib_val fv = {.type = RT_FIB_VIA};
	int rfd = map_fd(nf, "rt_rib"), ffd = map_fd(nf, "rt_fib4");
	const char *nhs = json_string_value(json_object_get(fields, "nexthop"));
	struct rt_pfx dst, nh;
	char b[512];
	int r, p;

	if (rfd < 0 || ffd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	r = pfx_parse(nf, "route", key, 1, &dst);
	if (r)
		return r;
	if (!nhs)
		return nfc_nf_error(nf, EINVAL, "route %s: nexthop= is needed",
				    key);
	r = pfx_parse(nf, "route", nhs, 0, &nh);
	if (r)
		return r;
	r = load_ports(nf, pc);
	if (r)
		return r;
	k.family = dst.family;
	k.plen = dst.plen;
	k.addr = dst.a;
	if (!bpf_map_lookup_elem(rfd, &k, &cur)) {
		char a[INET6_ADDRSTRLEN];

		return nfc_nf_error(nf, EEXIST,
				    "route %s exists already (via %s); delete "
				    "it first",
				    key, rt_ntoa(cur.nh.v4, a));
	}
	for (int q = 0; q < NFC_MAX_PORTS; q++)
		if (pc[q].used && pc[q].ip.family &&
		    pc[q].ip.plen == dst.plen &&
		    subnet_has(&pc[q].ip, dst.a.v4) && dst.plen < 32)
			return nfc_nf_error(nf, EEXIST,
					    "route %s: it is the connected "
					    "subnet of port %s",
					    key, pc[q].name);
	if (dst.plen == 32 && is_own_addr(pc, dst.a.v4))
		return nfc_nf_error(nf, EEXIST,
				    "route %s: it is an address of this "
				    "router",
				    key);
	for (int q = 0; q < NFC_MAX_PORTS; q++)
		if (dst.plen == 32 && pc[q].used && pc[q].ip.family &&
		    subnet_bcast(&pc[q].ip) == dst.a.v4)
			return nfc_nf_error(nf, EEXIST,
					    "route %s: it is the broadcast "
					    "address of port %s's subnet",
					    key, pc[q].name);
	if (is_own_addr(pc, nh.a.v4))
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is an address of "
				    "this router",
				    key, nhs);
	p = port_for(pc, nh.a.v4);
	if (p < 0) {
		subnets_str(pc, b, sizeof(b));
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is not on a "
				    "connected subnet (%s)",
				    key, nhs, b);
	}
	if (subnet_bcast(&pc[p].ip) == nh.a.v4)
		return nfc_nf_error(nf, EINVAL,
				    "route %s: next hop %s is the broadcast "
				    "address of port %s's subnet",
				    key, nhs, pc[p].name);
	v.nh_family = RT_AF_INET;
	v.nh = nh.a;
	if (bpf_map_update_elem(rfd, &k, &v, BPF_NOEXIST))
		return nfc_nf_error(
			nf, errno, "route %s: %s (at most %d routes)", key,
			errno == E2BIG || errno == ENOMEM ? "the table is full"
							  : strerror(errno),
			RT_MAX_ROUTES);
	fk.plen = dst.plen;
	fk.addr = dst.a.v4;
	fv.port = p;
	fv.nh = nh.a;
	fv.plen = dst.plen;
	if (bpf_map_update_elem(ffd, &fk, &fv, BPF_ANY)) {
		r = nfc_nf_error(nf, errno, "route %s: write the FIB: %s", key,
				 strerror(errno));
		bpf_map_delete_elem(rfd, &k);
		return r;
	}
	dir_change(nf, fk.addr, fk.plen, &fv, NULL);
	return 0;
}

static int routes_del_do(struct nfc_nf *nf, const char *key)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_rib_key k = {0};
	struct rt_rib_val cur;
	struct fib_ent own[4 * NFC_MAX_PORTS];
	int rfd = map_fd(nf, "rt_rib"), ffd = map_fd(nf, "rt_fib4");
	struct rt_pfx dst;
	int r, nown;

	if (rfd < 0 || ffd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	r = pfx_parse(nf, "route", key, 1, &dst);
	if (r)
		return r;
	r = load_ports(nf, pc);
	if (r)
		return r;
	k.family = dst.family;
	k.plen = dst.plen;
	k.addr = dst.a;
	if (bpf_map_lookup_elem(rfd, &k, &cur)) {
		for (int q = 0; q < NFC_MAX_PORTS; q++)
			if (pc[q].used && pc[q].ip.family &&
			    pc[q].ip.plen == dst.plen && dst.plen < 32 &&
			    subnet_has(&pc[q].ip, dst.a.v4))
				return nfc_nf_error(
					nf, EINVAL,
					"route %s is the connected route of "
					"port %s: change the port's ip instead",
					key, pc[q].name);
		return nfc_nf_error(nf, ENOENT, "route %s does not exist", key);
	}
	nown = fib_port_entries(pc, own);
	qsort(own, nown, sizeof(*own), fib_cmp);
	/* Shadowed by a port's own entry: that one stays. */
	if (route_port(pc, own, nown, &k, &cur) != -2) {
		struct rt_fib4_key fk = {dst.plen, dst.a.v4};
		struct rt_fib_val old;

		/* An existing key's lookup returns that very entry. */
		if (!bpf_map_lookup_elem(ffd, &fk, &old) &&
		    !bpf_map_delete_elem(ffd, &fk))
			dir_change(nf, fk.addr, fk.plen, NULL, &old);
	}
	bpf_map_delete_elem(rfd, &k);
	return 0;
}

struct list_ent {
	struct rt_fib4_key k;
	json_t *o;
};

static int list_cmp(const void *x, const void *y)
{
	const struct list_ent *a = x, *b = y;

	if (a->k.addr != b->k.addr)
		return ntohl(a->k.addr) < ntohl(b->k.addr) ? -1 : 1;
	return (int)a->k.plen - (int)b->k.plen;
}

static int routes_list(struct nfc_nf *nf, json_t *out)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct fib_ent own[4 * NFC_MAX_PORTS];
	struct rt_rib_key k, next, *prev = NULL;
	int rfd = map_fd(nf, "rt_rib"), r, nown;
	struct list_ent *l = NULL;
	size_t n = 0, cap = 0;
	char b[64], a[INET6_ADDRSTRLEN];

	if (rfd < 0)
		return nfc_nf_error(nf, ENOENT, "map rt_rib not found");
	r = load_ports(nf, pc);
	if (r)
		return r;
	nown = fib_port_entries(pc, own);
	qsort(own, nown, sizeof(*own), fib_cmp);
	for (;;) {
		struct list_ent e;

		if (n == cap) {
			void *t = realloc(l, (cap = cap ? 2 * cap : 256) *
						     sizeof(*l));

			if (!t)
				break;
			l = t;
		}
		if (n < NFC_MAX_PORTS) {
			/* Connected routes first in the walk (sorted later). */
			int p = -1, seen = 0;

			for (int q = 0; q < NFC_MAX_PORTS; q++)
				if (pc[q].used && pc[q].ip.family &&
				    pc[q].ip.plen < 32 && seen++ == (int)n) {
					p = q;
					break;
				}
			if (p >= 0) {
				struct rt_pfx s = pc[p].ip;

				s.a.v4 &= rt_mask(s.plen);
				e.k = (struct rt_fib4_key){s.plen, s.a.v4};
				e.o = json_pack("{s:s,s:s,s:s,s:s}", "prefix",
						pfx_str(&s, b, sizeof(b)),
						"type", "connected", "port",
						pc[p].name, "state", "active");
				l[n++] = e;
				continue;
			}
		}
		if (bpf_map_get_next_key(rfd, prev, &next))
			break;
		k = next;
		prev = &k;
		{
			struct rt_rib_val v;
			struct rt_pfx s = {k.family, k.plen, k.addr};
			int p;

			if (k.family != RT_AF_INET ||
			    bpf_map_lookup_elem(rfd, &k, &v))
				continue;
			p = route_port(pc, own, nown, &k, &v);
			e.k = (struct rt_fib4_key){k.plen, k.addr.v4};
			e.o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "prefix",
					pfx_str(&s, b, sizeof(b)), "type",
					"static", "nexthop",
					rt_ntoa(v.nh.v4, a), "port",
					p >= 0 ? pc[p].name : "-", "state",
					p >= 0	  ? "active"
					: p == -2 ? "inactive (shadowed by a "
						    "connected route)"
						  : "inactive (next hop on no "
						    "connected subnet)");
			l[n++] = e;
		}
	}
	if (l)
		qsort(l, n, sizeof(*l), list_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, l[i].o);
	free(l);
	return 0;
}

/* ---- static ARP entries ---- */

static int arp_add_do(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_rib_key k = {0};
	struct rt_sarp_val v = {0}, cur;
	struct rt_neigh n = {0};
	int sfd = map_fd(nf, "rt_sarp"), afd = map_fd(nf, "rt_arp");
	const char *mac = json_string_value(json_object_get(fields, "mac"));
	const char *port = json_string_value(json_object_get(fields, "port"));
	struct rt_pfx ip;
	char b[512];
	int r, p;

	if (sfd < 0 || afd < 0)
		return nfc_nf_error(nf, ENOENT, "ARP maps not found");
	r = pfx_parse(nf, "arp entry", key, 0, &ip);
	if (r)
		return r;
	if (!mac || nfc_parse_mac(mac, v.mac))
		return nfc_nf_error(nf, EINVAL, "arp entry %s: mac= is needed",
				    key);
	if (mac_is_multicast(v.mac) || !memcmp(v.mac, "\0\0\0\0\0\0", 6))
		return nfc_nf_error(nf, EINVAL,
				    "arp entry %s: mac %s is not a unicast "
				    "address",
				    key, mac);
	r = load_ports(nf, pc);
	if (r)
		return r;
	k.family = RT_AF_INET;
	k.plen = 32;
	k.addr = ip.a;
	if (!bpf_map_lookup_elem(sfd, &k, &cur)) {
		mac_str(cur.mac, b);
		return nfc_nf_error(nf, EEXIST,
				    "arp entry %s exists already (mac %s); "
				    "delete it first",
				    key, b);
	}
	if (is_own_addr(pc, ip.a.v4))
		return nfc_nf_error(nf, EINVAL,
				    "arp entry %s: an address of this router",
				    key);
	if (port) {
		p = nfc_nf_port_index(nf, port);
		if (p < 0)
			return nfc_nf_error(nf, ENOENT,
					    "arp entry %s: no port %s", key,
					    port);
		if (!subnet_has(&pc[p].ip, ip.a.v4)) {
			subnets_str(pc, b, sizeof(b));
			return nfc_nf_error(nf, EINVAL,
					    "arp entry %s: not on the subnet "
					    "of port %s (subnets: %s)",
					    key, port, b);
		}
		snprintf(v.port, sizeof(v.port), "%s", port);
	} else {
		p = port_for(pc, ip.a.v4);
		if (p < 0) {
			subnets_str(pc, b, sizeof(b));
			return nfc_nf_error(nf, EINVAL,
					    "arp entry %s: not on a connected "
					    "subnet (%s)",
					    key, b);
		}
	}
	if (bpf_map_update_elem(sfd, &k, &v, BPF_NOEXIST))
		return nfc_nf_error(nf, errno,
				    "arp entry %s: %s (at most %d static "
				    "entries)",
				    key, strerror(errno), RT_MAX_SARP);
	memcpy(n.mac, v.mac, 6);
	n.state = RT_N_STATIC;
	n.port = p;
	if (bpf_map_update_elem(afd, &ip.a.v4, &n, BPF_ANY)) {
		r = nfc_nf_error(nf, errno, "arp entry %s: %s", key,
				 strerror(errno));
		bpf_map_delete_elem(sfd, &k);
		return r;
	}
	nbr_mirror(nf, ip.a.v4, p, &n);
	return 0;
}

/* Deletes a static entry, or flushes a learnt one. */
static int arp_del_do(struct nfc_nf *nf, const char *key)
{
	struct rt_rib_key k = {0};
	int sfd = map_fd(nf, "rt_sarp"), afd = map_fd(nf, "rt_arp");
	struct rt_neigh old;
	struct rt_pfx ip;
	int r, had;

	if (sfd < 0 || afd < 0)
		return nfc_nf_error(nf, ENOENT, "ARP maps not found");
	r = pfx_parse(nf, "arp entry", key, 0, &ip);
	if (r)
		return r;
	k.family = RT_AF_INET;
	k.plen = 32;
	k.addr = ip.a;
	had = !bpf_map_delete_elem(sfd, &k);
	if (!bpf_map_lookup_elem(afd, &ip.a.v4, &old)) {
		nbr_mirror(nf, ip.a.v4, old.port, NULL);
		had |= !bpf_map_delete_elem(afd, &ip.a.v4);
	}
	if (!had)
		return nfc_nf_error(nf, ENOENT, "arp entry %s does not exist",
				    key);
	return 0;
}

static int arp_list(struct nfc_nf *nf, json_t *out)
{
	int afd = map_fd(nf, "rt_arp"), sfd = map_fd(nf, "rt_sarp");
	__be32 k, next, *prev = NULL;
	struct rt_rib_key sk, snext, *sprev = NULL;
	uint64_t now = now_ns();
	char a[INET6_ADDRSTRLEN], m[18];

	if (afd < 0 || sfd < 0)
		return nfc_nf_error(nf, ENOENT, "ARP maps not found");
	while (!bpf_map_get_next_key(afd, prev, &next)) {
		struct rt_neigh n;
		const char *pn;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(afd, &k, &n))
			continue;
		pn = nfc_nf_port_name(nf, n.port);
		mac_str(n.mac, m);
		json_array_append_new(
			out,
			json_pack("{s:s,s:s,s:s,s:s,s:I}", "address",
				  rt_ntoa(k, a), "mac", m, "port",
				  pn ? pn : "-", "state",
				  n.state == RT_N_STATIC ? "static"
				  : n.probes		 ? "probing"
							 : "reachable",
				  "age",
				  (json_int_t)(n.state == RT_N_STATIC ||
							       now < n.updated
						       ? 0
						       : (now - n.updated) /
								 NS_PER_SEC)));
	}
	/* Static entries that apply nowhere now (their port went away). */
	while (!bpf_map_get_next_key(sfd, sprev, &snext)) {
		struct rt_sarp_val sv;
		struct rt_neigh n;

		sk = snext;
		sprev = &sk;
		if (bpf_map_lookup_elem(sfd, &sk, &sv) ||
		    (!bpf_map_lookup_elem(afd, &sk.addr.v4, &n) &&
		     n.state == RT_N_STATIC))
			continue;
		mac_str(sv.mac, m);
		json_array_append_new(
			out, json_pack("{s:s,s:s,s:s,s:s,s:I}", "address",
				       rt_ntoa(sk.addr.v4, a), "mac", m, "port",
				       sv.port[0] ? sv.port : "-", "state",
				       "static, inactive (not on a port's "
				       "subnet)",
				       "age", (json_int_t)0));
	}
	return 0;
}

/* ---- slow path: per-process state ---- */

struct rt_frame {
	size_t len;
	uint8_t data[];
};

/* A next hop being resolved, with the frames waiting for it: complete
 * but for the destination MAC. */
struct rt_pending {
	struct rt_pending *next;
	__be32 nh;
	unsigned port;
	unsigned tries;
	uint64_t next_try;
	unsigned n, cap;
	struct rt_frame **q;
};

struct rt_priv {
	struct rt_pending *pend;
	double tokens; /* ICMP error budget */
	uint64_t tokens_at;
	uint16_t ip_id;
};

static struct rt_priv *priv_get(struct nfc_nf *nf)
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

static void pending_free(struct rt_pending *pe)
{
	for (unsigned i = 0; i < pe->n; i++)
		free(pe->q[i]);
	free(pe->q);
	free(pe);
}

static void rt_destroy(struct nfc_nf *nf)
{
	struct rt_priv *p = nfc_nf_priv(nf);

	if (!p)
		return;
	while (p->pend) {
		struct rt_pending *pe = p->pend;

		p->pend = pe->next;
		pending_free(pe);
	}
	free(p);
	nfc_nf_set_priv(nf, NULL);
}

static int port_get(struct nfc_nf *nf, unsigned port, struct rt_port *out)
{
	int fd = map_fd(nf, "rt_ports");
	__u32 k = port;

	if (fd < 0 || port >= NFC_MAX_PORTS ||
	    bpf_map_lookup_elem(fd, &k, out) || !(out->flags & RT_PORT_UP))
		return -1;
	return 0;
}

static int fib_lookup(struct nfc_nf *nf, __be32 dst, struct rt_fib_val *v)
{
	struct rt_fib4_key k = {32, dst};
	int fd = map_fd(nf, "rt_fib4");

	return fd < 0 ? -1 : bpf_map_lookup_elem(fd, &k, v);
}

static void send_arp_request(struct nfc_nf *nf, unsigned port, __be32 target,
			     const uint8_t *unicast)
{
	struct rt_port pt;
	uint8_t f[64];
	size_t len;

	if (port_get(nf, port, &pt) || !(pt.flags & RT_PORT_V4))
		return;
	len = rt_build_arp_request(f, pt.mac, pt.v4_addr, target, unicast);
	if (!nfc_nf_packet_out(nf, port, f, len))
		cp_count(nf, RT_CP_arp_requests_sent);
}

/*
 * Sends a frame (Ethernet header present, source MAC set) to next hop nh
 * out of port: now if the neighbour is known, else after ARP resolves it.
 */
static void send_via(struct nfc_nf *nf, unsigned port, __be32 nh,
		     const uint8_t *f, size_t len)
{
	struct rt_priv *pv = priv_get(nf);
	int afd = map_fd(nf, "rt_arp");
	struct rt_pending *pe;
	struct rt_frame *fr;
	struct rt_neigh n;
	unsigned max = cfg_uint(nf, "arp_queue", 64);

	if (afd >= 0 && !bpf_map_lookup_elem(afd, &nh, &n) && n.port == port) {
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
		if (pe->nh == nh && pe->port == port)
			break;
	if (!pe) {
		pe = calloc(1, sizeof(*pe));
		if (!pe)
			return;
		pe->nh = nh;
		pe->port = port;
		pe->next = pv->pend;
		pv->pend = pe;
		send_arp_request(nf, port, nh, NULL);
		pe->tries = 1;
		pe->next_try = now_ns() + NS_PER_SEC;
	}
	if (pe->n == max) { /* full: the oldest goes */
		free(pe->q[0]);
		memmove(pe->q, pe->q + 1, (pe->n - 1) * sizeof(pe->q[0]));
		pe->n--;
		cp_count(nf, RT_CP_queue_dropped);
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
	cp_count(nf, RT_CP_queued);
}

/* Routes an IPv4 packet the router originates (ICMP) and sends it. */
static void send_ip(struct nfc_nf *nf, const uint8_t *ip, size_t len)
{
	const rt_iphdr *h = (const rt_iphdr *)ip;
	struct rt_fib_val r;
	struct rt_port pt;
	uint8_t f[2048];
	rt_ethhdr *eth = (rt_ethhdr *)f;
	__be32 nh;

	if (len + sizeof(*eth) > sizeof(f) || fib_lookup(nf, h->daddr, &r) ||
	    (r.type != RT_FIB_CONNECTED && r.type != RT_FIB_VIA) ||
	    port_get(nf, r.port, &pt)) {
		cp_count(nf, RT_CP_icmp_not_sent);
		return;
	}
	nh = r.type == RT_FIB_VIA ? r.nh.v4 : h->daddr;
	memset(eth->h_dest, 0, 6);
	memcpy(eth->h_source, pt.mac, 6);
	eth->h_proto = htons(ETH_P_IP);
	memcpy(eth + 1, ip, len);
	send_via(nf, r.port, nh, f, sizeof(*eth) + len);
}

/* Token bucket: icmp_rate a second, burst as large. */
static int icmp_allowed(struct nfc_nf *nf)
{
	struct rt_priv *pv = priv_get(nf);
	double rate = (double)cfg_uint(nf, "icmp_rate", 100);
	uint64_t now = now_ns();

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
static void icmp_error(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		       size_t ip_len, __u8 type, __u8 code, __be32 src,
		       unsigned stat)
{
	const rt_iphdr *o = (const rt_iphdr *)ip;
	uint8_t out[RT_ICMP_QUOTE_MAX];
	struct rt_priv *pv = priv_get(nf);
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
		if (!fib_lookup(nf, o->saddr, &r) &&
		    !port_get(nf, r.port, &pt) && (pt.flags & RT_PORT_V4))
			src = pt.v4_addr;
		else if (!port_get(nf, in_port, &pt) && (pt.flags & RT_PORT_V4))
			src = pt.v4_addr;
		else
			goto none;
	}
	if (!icmp_allowed(nf)) {
		cp_count(nf, RT_CP_icmp_rate_limited);
		return;
	}
	n = rt_build_icmp_error(out, src, ip, ip_len, type, code, pv->ip_id++);
	cp_count(nf, stat);
	send_ip(nf, out, n);
	return;
none:
	cp_count(nf, RT_CP_icmp_not_sent);
}

/* The IPv4 packet of a frame, checked; NULL if there is none. */
static const uint8_t *frame_ip(const uint8_t *f, uint32_t len, size_t *ip_len)
{
	const rt_iphdr *h = (const rt_iphdr *)(f + ETH_HLEN);
	size_t tot;

	if (len < ETH_HLEN + sizeof(*h) || h->version != 4 || h->ihl < 5)
		return NULL;
	tot = ntohs(h->tot_len);
	if (tot < h->ihl * 4u || tot > len - ETH_HLEN)
		return NULL;
	*ip_len = tot;
	return (const uint8_t *)h;
}

/* A neighbour confirmed: record it, send what waited for it. */
static void neigh_confirm(struct nfc_nf *nf, unsigned port, __be32 ip,
			  const uint8_t *mac, int create)
{
	struct rt_priv *pv = priv_get(nf);
	int afd = map_fd(nf, "rt_arp");
	struct rt_pending **pp, *pe = NULL;
	struct rt_neigh n = {0}, cur;
	int have;

	if (afd < 0)
		return;
	for (pp = pv ? &pv->pend : NULL; pp && *pp; pp = &(*pp)->next)
		if ((*pp)->nh == ip && (*pp)->port == port) {
			pe = *pp;
			*pp = pe->next;
			break;
		}
	have = !bpf_map_lookup_elem(afd, &ip, &cur);
	if (have && cur.state == RT_N_STATIC) {
		memcpy(n.mac, cur.mac, 6); /* static wins */
	} else if (have || create || pe) {
		memcpy(n.mac, mac, 6);
		n.state = RT_N_REACHABLE;
		n.port = port;
		n.hit = have ? cur.hit : 0;
		n.updated = now_ns();
		if (have && cur.port != port)
			nbr_mirror(nf, ip, cur.port, NULL);
		if (bpf_map_update_elem(afd, &ip, &n, BPF_ANY) == 0) {
			nbr_mirror(nf, ip, port, &n);
			if (!have)
				cp_count(nf, RT_CP_neigh_learnt);
		}
	}
	if (!pe)
		return;
	for (unsigned i = 0; i < pe->n; i++) {
		memcpy(pe->q[i]->data,
		       have && cur.state == RT_N_STATIC ? cur.mac : mac, 6);
		if (!nfc_nf_packet_out(nf, port, pe->q[i]->data, pe->q[i]->len))
			cp_count(nf, RT_CP_queue_sent);
	}
	pending_free(pe);
}

static void on_arp(struct nfc_nf *nf, unsigned in_port, const uint8_t *f,
		   uint32_t len)
{
	const struct rt_arp_pkt *a = (const void *)(f + ETH_HLEN);
	struct rt_port pt;
	__be32 spa, tpa;

	if (len < ETH_HLEN + sizeof(*a) || port_get(nf, in_port, &pt) ||
	    !(pt.flags & RT_PORT_V4))
		return;
	memcpy(&spa, a->spa, 4);
	memcpy(&tpa, a->tpa, 4);
	/* Only neighbours on the port's subnet, never ourselves. */
	if (!is_unicast_v4(spa) || spa == pt.v4_addr || spa == pt.v4_bcast ||
	    ((spa ^ pt.v4_addr) & pt.v4_mask) || mac_is_multicast(a->sha))
		return;
	if (ntohs(a->op) == 2) {
		cp_count(nf, RT_CP_arp_replies_received);
		/* Replies update what we asked about or already know. */
		neigh_confirm(nf, in_port, spa, a->sha, 0);
	} else if (ntohs(a->op) == 1 && tpa == pt.v4_addr) {
		/* A request for us: its sender will talk to us. */
		neigh_confirm(nf, in_port, spa, a->sha, 1);
	}
}

/* A packet to forward whose next hop is not resolved (or one the data
 * plane sent up for another reason that ends in forwarding). */
static void on_forward(struct nfc_nf *nf, unsigned in_port, const uint8_t *f,
		       uint32_t len)
{
	size_t ip_len;
	const uint8_t *ip = frame_ip(f, len, &ip_len);
	rt_iphdr *h;
	struct rt_fib_val r;
	struct rt_port pt;
	uint8_t out[2048];
	uint32_t sum;

	if (!ip || ETH_HLEN + ip_len > sizeof(out)) {
		cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	h = (rt_iphdr *)(out + ETH_HLEN);
	if (fib_lookup(nf, ((const rt_iphdr *)ip)->daddr, &r)) {
		icmp_error(nf, in_port, ip, ip_len, 3, 0, 0,
			   RT_CP_icmp_net_unreachable);
		return;
	}
	if ((r.type != RT_FIB_CONNECTED && r.type != RT_FIB_VIA) ||
	    port_get(nf, r.port, &pt) || ((const rt_iphdr *)ip)->ttl <= 1) {
		cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	/* The frame as the fast path would have sent it (the trailer, if
	 * any, dropped). */
	memcpy(out + ETH_HLEN, ip, ip_len);
	memcpy(out + 6, pt.mac, 6);
	((rt_ethhdr *)out)->h_proto = htons(ETH_P_IP);
	h->ttl--;
	sum = h->check + htons(0x0100);
	h->check = (uint16_t)(sum + (sum >= 0xffff));
	send_via(nf, r.port, r.type == RT_FIB_VIA ? r.nh.v4 : h->daddr, out,
		 ETH_HLEN + ip_len);
}

/* For the router itself, and not an echo request answered in the fast
 * path: echo requests whose reply leaves another port, UDP (port
 * unreachable, as a host without that service would say). */
static void on_local(struct nfc_nf *nf, unsigned in_port, const uint8_t *f,
		     uint32_t len)
{
	size_t ip_len, hl;
	const uint8_t *ip = frame_ip(f, len, &ip_len);
	const rt_iphdr *o = (const rt_iphdr *)ip;
	uint8_t out[2048];
	struct rt_priv *pv = priv_get(nf);

	if (!ip || !pv || ip_len > sizeof(out)) {
		cp_count(nf, RT_CP_slow_path_dropped);
		return;
	}
	hl = o->ihl * 4u;
	if (o->protocol == IPPROTO_UDP) {
		icmp_error(nf, in_port, ip, ip_len, 3, 3, o->daddr,
			   RT_CP_icmp_port_unreachable);
		return;
	}
	if (o->protocol == IPPROTO_ICMP && ip_len >= hl + 8 && ip[hl] == 8 &&
	    ip[hl + 1] == 0 && is_unicast_v4(o->saddr)) {
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
	cp_count(nf, RT_CP_slow_path_dropped);
}

static void rt_packet_in_do(struct nfc_nf *nf, unsigned in_port,
			    unsigned reason, const uint8_t *data, uint32_t len,
			    uint32_t pkt_len)
{
	size_t ip_len;
	const uint8_t *ip;

	if (len < pkt_len) { /* cut at NFC_PKTIN_MAX: cannot forward it */
		cp_count(nf, RT_CP_slow_path_dropped);
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
		ip = frame_ip(data, len, &ip_len);
		if (!ip)
			break;
		if (reason == RT_SP_TTL)
			icmp_error(nf, in_port, ip, ip_len, 11, 0, 0,
				   RT_CP_icmp_time_exceeded);
		else
			icmp_error(nf, in_port, ip, ip_len, 3, 0, 0,
				   RT_CP_icmp_net_unreachable);
		break;
	case RT_SP_LOCAL:
		on_local(nf, in_port, data, len);
		break;
	default:
		cp_count(nf, RT_CP_slow_path_dropped);
	}
}

/* ---- tick: retries, failures, aging ---- */

static void pending_fail(struct nfc_nf *nf, struct rt_pending *pe)
{
	cp_count(nf, RT_CP_resolution_failed);
	for (unsigned i = 0; i < pe->n; i++) {
		size_t ip_len;
		const uint8_t *ip =
			frame_ip(pe->q[i]->data, pe->q[i]->len, &ip_len);

		if (ip)
			icmp_error(nf, pe->port, ip, ip_len, 3, 1, 0,
				   RT_CP_icmp_host_unreachable);
	}
	pending_free(pe);
}

static void rt_tick_do(struct nfc_nf *nf, uint64_t now)
{
	struct rt_priv *pv = nfc_nf_priv(nf);
	unsigned retries = cfg_uint(nf, "arp_retries", 3);
	uint64_t timeout = cfg_uint(nf, "arp_timeout", 60) * NS_PER_SEC;
	int afd = map_fd(nf, "rt_arp");
	__be32 k, next, *prev = NULL, del[RT_MAX_NEIGH];
	unsigned ndel = 0;

	/* Resolutions: retry, or give up. Failed entries are taken off the
	 * list before their ICMP errors are sent (which may add entries). */
	while (pv) {
		struct rt_pending **pp, *pe = NULL;

		for (pp = &pv->pend; *pp; pp = &(*pp)->next)
			if ((*pp)->next_try <= now) {
				pe = *pp;
				break;
			}
		if (!pe)
			break;
		if (pe->tries >= retries) {
			*pp = pe->next;
			pending_fail(nf, pe);
			continue;
		}
		send_arp_request(nf, pe->port, pe->nh, NULL);
		pe->tries++;
		pe->next_try = now + NS_PER_SEC;
	}
	if (afd < 0)
		return;
	/* Aging: a learnt entry older than arp_timeout is probed (unicast,
	 * then broadcast) if it was used since, and dropped if not or if
	 * the probes go unanswered. */
	while (!bpf_map_get_next_key(afd, prev, &next)) {
		struct rt_neigh n;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(afd, &k, &n) ||
		    n.state != RT_N_REACHABLE || now < n.updated + timeout)
			continue;
		if ((!n.probes && !nbr_hit(nf, k, &n)) || n.probes >= retries) {
			nbr_mirror(nf, k, n.port, NULL);
			del[ndel++] = k;
			continue;
		}
		send_arp_request(nf, n.port, k, n.probes ? NULL : n.mac);
		n.probes++;
		n.hit = 0;
		if (!bpf_map_update_elem(afd, &k, &n, BPF_EXIST))
			nbr_mirror(nf, k, n.port, &n);
	}
	/* After the walk: a delete would restart it. */
	for (unsigned i = 0; i < ndel; i++) {
		bpf_map_delete_elem(afd, &del[i]);
		cp_count(nf, RT_CP_neigh_expired);
	}
}

/* ---- stats ---- */

static void rt_stats(struct nfc_nf *nf, int port, json_t *out)
{
	static const char *const reasons[RT_NREASONS] = {
#define RT_REASON_NAME(n, id, text) [n] = #id,
		RT_REASONS(RT_REASON_NAME)
#undef RT_REASON_NAME
	};
	static const char *const cps[RT_NCPSTATS] = {
#define RT_CP_NAME(n, id) [n] = #id,
		RT_CPSTATS(RT_CP_NAME)
#undef RT_CP_NAME
	};
	int fd = map_fd(nf, "rt_cnt"), n = ncpus();
	json_t *fp, *sp;
	__u64 *v;

	if (port >= 0) {
		struct rt_port pt;
		char m[18], a[INET_ADDRSTRLEN];

		if (!port_get(nf, port, &pt)) {
			mac_str(pt.mac, m);
			json_object_set_new(out, "mac", json_string(m));
			if (pt.flags & RT_PORT_V4)
				json_object_set_new(
					out, "ip",
					json_string(rt_ntoa(pt.v4_addr, a)));
		}
		return;
	}
	v = calloc(n, sizeof(*v));
	if (!v || fd < 0) {
		free(v);
		return;
	}
	fp = json_object();
	sp = json_object();
	for (__u32 k = 1; k < RT_NCOUNTERS; k++) {
		__u64 sum = 0;

		if (k >= RT_NREASONS && k < RT_CP_BASE)
			continue;
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < n; c++)
			sum += v[c];
		if (k < RT_NREASONS)
			json_object_set_new(fp, reasons[k], json_integer(sum));
		else
			json_object_set_new(sp, cps[k - RT_CP_BASE],
					    json_integer(sum));
	}
	free(v);
	json_object_set_new(out, "fast_path", fp);
	json_object_set_new(out, "slow_path", sp);
}

/* ---- the forwarding cache's generation ---- */

/*
 * Every operation that may change what the fast path decides ends with a
 * bump of the generation, which voids every forwarding cache entry made
 * before it (router.h); every rt_port carries it, where the fast path
 * reads it. Only this side writes them, under the runtime's lock, so a
 * read and a write do.
 */
static void gen_bump(struct nfc_nf *nf)
{
	int fd = map_fd(nf, "rt_ports");
	struct rt_port pt;
	__u32 g, zero = 0;

	/* Every port carries the same generation: port 0's is the current. */
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &pt))
		return;
	g = pt.gen + 1;
	/* Every port, up or not: one that comes back up later must not
	 * carry a generation its old cache entries still match. */
	for (__u32 p = 0; p < NFC_MAX_PORTS; p++)
		if (!bpf_map_lookup_elem(fd, &p, &pt)) {
			pt.gen = g;
			bpf_map_update_elem(fd, &p, &pt, BPF_ANY);
		}
}

static int rt_configure(struct nfc_nf *nf)
{
	int r = rt_configure_do(nf);

	gen_bump(nf);
	return r;
}

static int routes_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	int r = routes_add_do(nf, key, fields);

	gen_bump(nf);
	return r;
}

static int routes_del(struct nfc_nf *nf, const char *key)
{
	int r = routes_del_do(nf, key);

	gen_bump(nf);
	return r;
}

static int arp_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	int r = arp_add_do(nf, key, fields);

	gen_bump(nf);
	return r;
}

static int arp_del(struct nfc_nf *nf, const char *key)
{
	int r = arp_del_do(nf, key);

	gen_bump(nf);
	return r;
}

/* The slow path learns and forgets neighbours; a tick ages them, and
 * bumping on every tick also makes a neighbour in use miss the cache, and
 * so be marked used, at least once a tick. */
static void rt_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
			 const uint8_t *data, uint32_t len, uint32_t pkt_len)
{
	rt_packet_in_do(nf, in_port, reason, data, len, pkt_len);
	gen_bump(nf);
}

static void rt_tick(struct nfc_nf *nf, uint64_t now)
{
	rt_tick_do(nf, now);
	gen_bump(nf);
}

/* ---- the type ---- */

static const struct nfc_collection rt_collections[] = {
	{.name = "routes",
	 .key_doc = "IPv4 prefix (203.0.113.0/24; 0.0.0.0/0: default route)",
	 .fields = rt_route_fields,
	 .add = routes_add,
	 .del = routes_del,
	 .list = routes_list},
	{.name = "arp",
	 .key_doc = "IPv4 address of the neighbour",
	 .fields = rt_arp_fields,
	 .add = arp_add,
	 .del = arp_del,
	 .list = arp_list},
	{0},
};

static const struct nfc_stat rt_stats_doc[] = {
	{"fast_path", NFC_STAT_COUNTER, "reason",
	 "packets the fast path answered, sent to the slow path or dropped, "
	 "by reason"},
	{"slow_path", NFC_STAT_COUNTER, "event",
	 "slow path events: ARP, neighbour cache, queue, ICMP errors"},
	{0},
};

const struct nfc_nf_type nfc_type_router = {
	.name = "router",
	.summary = "IPv4 router: connected and static routes (LPM), ARP, ICMP "
		   "errors",
	.max_ports = NFC_MAX_PORTS,
	.config = rt_config,
	.port_config = rt_port_config,
	.collections = rt_collections,
	.stats_doc = rt_stats_doc,
	.elf_xdp = router_xdp__elf_bytes,
	.elf_tc = router_tc__elf_bytes,
	.prepare = rt_prepare,
	.configure = rt_configure,
	.packet_in = rt_packet_in,
	.tick = rt_tick,
	.stats = rt_stats,
	.destroy = rt_destroy,
};
