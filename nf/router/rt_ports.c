// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: small helpers (time, configuration, counters, MACs, prefixes as
 * text) and the port model: the ports read from the model and checked,
 * their subnets, and rt_ports written from them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "rt_int.h"

/* ---- small helpers ---- */

/* Control-plane counters: CPU 0's copy of their rt_cnt slot. */
void rt_cp_count(struct nfc_nf *nf, unsigned idx)
{
	nfc_percpu_add(nfc_nf_map_fd(nf, "rt_cnt"), RT_CP_BASE + idx,
		       sizeof(__u64), 0, 1);
}

int rt_mac_is_multicast(const uint8_t *m)
{
	return m[0] & 1;
}

const char *rt_pfx_str(const struct rt_pfx *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family == RT_AF_INET6 ? AF_INET6 : AF_INET, &p->a, a,
		  sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->plen);
	return buf;
}

void rt_mask6(uint8_t *a, unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > 8 * i ? plen - 8 * i : 0;

		a[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

int rt_is_ll6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* RFC 4291 2.5.1: the interface identifier is the MAC with the U/L bit
 * flipped and ff:fe in the middle. */
void rt_ll_of(const uint8_t *mac, uint8_t *ll)
{
	memset(ll, 0, 16);
	ll[0] = 0xfe;
	ll[1] = 0x80;
	ll[8] = mac[0] ^ 2;
	ll[9] = mac[1];
	ll[10] = mac[2];
	ll[11] = 0xff;
	ll[12] = 0xfe;
	ll[13] = mac[3];
	ll[14] = mac[4];
	ll[15] = mac[5];
}

int rt_subnet_has6(const struct rt_pfx *net, const uint8_t *a)
{
	uint8_t x[16], y[16];

	if (net->family != RT_AF_INET6)
		return 0;
	memcpy(x, a, 16);
	memcpy(y, net->a.v6, 16);
	rt_mask6(x, net->plen);
	rt_mask6(y, net->plen);
	return !memcmp(x, y, 16);
}

int rt_port_for6(const struct rt_pcfg *pc, const uint8_t *a)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (pc[p].used && rt_subnet_has6(&pc[p].ip6, a))
			return p;
	return -1;
}

int rt_is_own_addr6(const struct rt_pcfg *pc, const uint8_t *a)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (pc[p].used &&
		    ((pc[p].ip6.family && !memcmp(pc[p].ip6.a.v6, a, 16)) ||
		     !memcmp(pc[p].ll, a, 16)))
			return 1;
	return 0;
}

/* An IPv6 address or prefix (with host bits when allow_host), in its
 * canonical spelling (RFC 5952, as inet_ntop writes it). */
static int pfx6_parse(struct nfc_nf *nf, const char *what, const char *s,
		      int want_len, int allow_host, struct rt_pfx *p)
{
	const char *sl = strchr(s, '/');
	char a[64], canon[64], *e;
	unsigned long l = 128;
	uint8_t m[16];

	if ((want_len && !sl) || (!want_len && sl) || strlen(s) >= sizeof(a))
		goto bad;
	snprintf(a, sizeof(a), "%.*s", sl ? (int)(sl - s) : (int)strlen(s), s);
	if (inet_pton(AF_INET6, a, p->a.v6) != 1)
		goto bad;
	if (sl) {
		if (!sl[1] || sl[1] < '0' || sl[1] > '9')
			goto bad;
		l = strtoul(sl + 1, &e, 10);
		if (*e)
			goto bad;
		if (l > 128)
			return nfc_nf_error(nf, ERANGE,
					    "%s %s: prefix length is over 128",
					    what, s);
	}
	p->family = RT_AF_INET6;
	p->plen = l;
	memcpy(m, p->a.v6, 16);
	rt_mask6(m, l);
	if (!allow_host && memcmp(m, p->a.v6, 16)) {
		inet_ntop(AF_INET6, m, canon, sizeof(canon));
		return nfc_nf_error(nf, EINVAL,
				    "%s %s: host bits set (the prefix is "
				    "%s/%lu)",
				    what, s, canon, l);
	}
	inet_ntop(AF_INET6, p->a.v6, canon, sizeof(canon));
	if (strcmp(canon, a))
		return nfc_nf_error(nf, EINVAL, "%s '%s': write it as %s%s",
				    what, s, canon, sl ? sl : "");
	return 0;
bad:
	return nfc_nf_error(nf, EINVAL, "%s '%s': not %s", what, s,
			    want_len ? "an IPv6 prefix (like 2001:db8:100::/48)"
				     : "an IPv6 address");
}

int rt_pfx_parse(struct nfc_nf *nf, const char *what, const char *s,
		 int want_len, struct rt_pfx *p)
{
	uint32_t a;
	unsigned l;
	char canon[64];
	int r;

	memset(p, 0, sizeof(*p));
	if (strchr(s, ':'))
		return pfx6_parse(nf, what, s, want_len, 0, p);
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
		rt_pfx_str(p, canon, sizeof(canon));
	else
		inet_ntop(AF_INET, &p->a.v4, canon, sizeof(canon));
	if (strcmp(canon, s))
		return nfc_nf_error(nf, EINVAL, "%s '%s': write it as %s", what,
				    s, canon);
	return 0;
}

/* ---- the port model ---- */

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

int rt_subnet_has(const struct rt_pfx *net, __be32 a)
{
	return net->family == RT_AF_INET &&
	       !((a ^ net->a.v4) & rt_mask(net->plen));
}

__be32 rt_subnet_bcast(const struct rt_pfx *p)
{
	return p->plen >= 31 ? 0 : (p->a.v4 | ~rt_mask(p->plen));
}

/* Whether the data plane already has port p with this address: of two
 * ports whose subnets overlap, the error names first the one whose
 * address is new (the one the user just set), not the lower index. */
static int held(struct nfc_nf *nf, unsigned p, const struct rt_pcfg *c, int v6)
{
	struct rt_port cur;

	if (rt_port_get(nf, p, &cur))
		return 0;
	if (v6)
		return (cur.flags & RT_PORT_V6) && cur.v6_plen == c->ip6.plen &&
		       !memcmp(cur.v6_addr, c->ip6.a.v6, 16);
	return cur.v4_plen == c->ip.plen && cur.v4_addr == c->ip.a.v4;
}

static int overlap(struct nfc_nf *nf, const struct rt_pcfg *pc, unsigned p,
		   unsigned q, int v6)
{
	char b1[64], b2[64];
	struct rt_pfx a, b;

	if (held(nf, p, &pc[p], v6) && !held(nf, q, &pc[q], v6)) {
		unsigned t = p;

		p = q;
		q = t;
	}
	a = v6 ? pc[p].ip6 : pc[p].ip;
	b = v6 ? pc[q].ip6 : pc[q].ip;
	if (v6) {
		rt_mask6(a.a.v6, a.plen);
		rt_mask6(b.a.v6, b.plen);
	} else {
		a.a.v4 &= rt_mask(a.plen);
		b.a.v4 &= rt_mask(b.plen);
	}
	return nfc_nf_error(nf, EEXIST,
			    "port %s: subnet %s overlaps subnet %s of port %s",
			    pc[p].name, rt_pfx_str(&a, b1, sizeof(b1)),
			    rt_pfx_str(&b, b2, sizeof(b2)), pc[q].name);
}

static int load_ports(struct nfc_nf *nf, struct rt_pcfg *pc, int macs)
{
	memset(pc, 0, sizeof(*pc) * NFC_MAX_PORTS);
	for (unsigned p = 0; p < NFC_MAX_PORTS; p++) {
		json_t *cfg = nfc_nf_port_config(nf, p);
		const char *ip, *mac, *ip6;
		int ifx;

		pc[p].name = nfc_nf_port_name(nf, p);
		if (!pc[p].name)
			continue;
		pc[p].used = 1;
		ip = json_string_value(json_object_get(cfg, "ip"));
		mac = json_string_value(json_object_get(cfg, "mac"));
		ip6 = json_string_value(json_object_get(cfg, "ip6"));
		pc[p].mtu = json_integer_value(json_object_get(cfg, "mtu"));
		pc[p].ra = json_is_true(json_object_get(cfg, "ra"));
		if (ip6) {
			char what[64];
			const uint8_t *v6;

			snprintf(what, sizeof(what), "port %s: ip6",
				 pc[p].name);
			if (!strchr(ip6, '/'))
				return nfc_nf_error(nf, EINVAL,
						    "port %s: ip6 '%s' is not "
						    "address/length (like "
						    "2001:db8:1::1/64)",
						    pc[p].name, ip6);
			if (!strchr(ip6, ':'))
				return nfc_nf_error(nf, EINVAL,
						    "port %s: ip6 '%s' is not "
						    "an IPv6 address (IPv4 "
						    "goes in ip=)",
						    pc[p].name, ip6);
			if (pfx6_parse(nf, what, ip6, 1, 1, &pc[p].ip6))
				return -EINVAL;
			v6 = pc[p].ip6.a.v6;
			if (pc[p].ip6.plen == 0 || pc[p].ip6.plen == 128)
				return nfc_nf_error(nf, EINVAL,
						    "port %s: ip6 %s: the "
						    "prefix length must be "
						    "1-127",
						    pc[p].name, ip6);
			if (v6[0] == 0xff || rt_is_ll6(v6) ||
			    !memcmp(v6, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15))
				return nfc_nf_error(nf, EINVAL,
						    "port %s: ip6 %s is not a "
						    "global unicast address "
						    "(the link-local one comes "
						    "from the MAC)",
						    pc[p].name, ip6);
			/* As IPv4's network address: the subnet's routers
			 * all answer it (RFC 4291 2.6.1); a /127 has none
			 * (RFC 6164). */
			if (pc[p].ip6.plen < 127) {
				struct rt_pfx h = pc[p].ip6;

				rt_mask6(h.a.v6, h.plen);
				if (!memcmp(h.a.v6, v6, 16))
					return nfc_nf_error(
						nf, EINVAL,
						"port %s: ip6 %s is the "
						"Subnet-Router anycast address "
						"of its subnet (RFC 4291 "
						"2.6.1): give the port one "
						"with a host part",
						pc[p].name, ip6);
			}
		}
		if (pc[p].mtu && ip6 && pc[p].mtu < 1280)
			return nfc_nf_error(nf, EINVAL,
					    "port %s: mtu %u is below 1280, "
					    "the least an IPv6 link may have "
					    "(RFC 8200)",
					    pc[p].name, pc[p].mtu);
		if (pc[p].mtu && pc[p].mtu < 68)
			return nfc_nf_error(nf, EINVAL,
					    "port %s: mtu %u is below 68, the "
					    "least an IPv4 link may have "
					    "(RFC 791)",
					    pc[p].name, pc[p].mtu);
		if (pc[p].ra && !ip6)
			return nfc_nf_error(nf, EINVAL,
					    "port %s: ra=on needs an ip6 "
					    "(its prefix is what is "
					    "advertised)",
					    pc[p].name);
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
			if (rt_mac_is_multicast(pc[p].mac) ||
			    !memcmp(pc[p].mac, "\0\0\0\0\0\0", 6))
				return nfc_nf_error(nf, EINVAL,
						    "port %s: mac %s is not a "
						    "unicast address",
						    pc[p].name, mac);
		} else if (!macs || (ifx = nfc_nf_port_ifindex(nf, p)) <= 0 ||
			   netdev_mac(ifx, pc[p].mac)) {
			derived_mac(nfc_nf_name(nf), pc[p].name, pc[p].mac);
		}
		rt_ll_of(pc[p].mac, pc[p].ll);
	}
	for (unsigned p = 0; p < NFC_MAX_PORTS; p++)
		for (unsigned q = 0; q < p; q++) {
			struct rt_pfx a = pc[p].ip6, b = pc[q].ip6;

			if (!a.family || !b.family)
				continue;
			if (b.plen < a.plen) {
				a.plen = b.plen;
			} else {
				b.plen = a.plen;
			}
			if (rt_subnet_has6(&a, b.a.v6))
				return overlap(nf, pc, p, q, 1);
		}
	/* Subnets may not overlap: a destination would have two ports. */
	for (unsigned p = 0; p < NFC_MAX_PORTS; p++)
		for (unsigned q = 0; q < p; q++) {
			const struct rt_pfx *a = &pc[p].ip, *b = &pc[q].ip;
			unsigned l;

			if (!a->family || !b->family)
				continue;
			l = a->plen < b->plen ? a->plen : b->plen;
			if (!((a->a.v4 ^ b->a.v4) & rt_mask(l)))
				return overlap(nf, pc, p, q, 0);
		}
	return 0;
}

int rt_load_ports(struct nfc_nf *nf, struct rt_pcfg *pc)
{
	return load_ports(nf, pc, 1);
}

int rt_load_port_conf(struct nfc_nf *nf, struct rt_pcfg *pc)
{
	return load_ports(nf, pc, 0);
}

int rt_check_ports(struct nfc_nf *nf)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];

	/* No netdev read for the MACs: nothing checked rests on them. */
	return load_ports(nf, pc, 0);
}

int rt_port_for(const struct rt_pcfg *pc, __be32 a)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (pc[p].used && rt_subnet_has(&pc[p].ip, a))
			return p;
	return -1;
}

int rt_is_own_addr(const struct rt_pcfg *pc, __be32 a)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (pc[p].used && pc[p].ip.family == RT_AF_INET &&
		    pc[p].ip.a.v4 == a)
			return 1;
	return 0;
}

void rt_subnets_str(const struct rt_pcfg *pc, char *buf, size_t len)
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
			      pc[p].name, rt_pfx_str(&s, b, sizeof(b)));
	}
	if (!n)
		snprintf(buf, len, "none: no port has an ip");
}

/* ---- rt_ports ---- */

int rt_ports_sync(struct nfc_nf *nf, const struct rt_pcfg *pc,
		  uint64_t *changed, uint64_t *ra_off, uint64_t *moved,
		  uint8_t (*old_mac)[6])
{
	int fd = nfc_nf_map_fd(nf, "rt_ports");

	*changed = *ra_off = *moved = 0;
	memset(old_mac, 0, NFC_MAX_PORTS * sizeof(*old_mac));

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
				want.v4_bcast = rt_subnet_bcast(&pc[p].ip);
				if (pc[p].ip.plen >= 32 - RT_NBR_BITS)
					want.flags |= RT_PORT_NBR;
			}
			if (pc[p].ip6.family == RT_AF_INET6) {
				want.flags |= RT_PORT_V6;
				memcpy(want.v6_addr, pc[p].ip6.a.v6, 16);
				want.v6_plen = pc[p].ip6.plen;
				if (pc[p].ra)
					want.flags |= RT_PORT_RA;
			}
			want.mtu = pc[p].mtu;
		}
		if (bpf_map_lookup_elem(fd, &p, &cur))
			memset(&cur, 0, sizeof(cur));
		else if (!memcmp(&cur, &want, sizeof(cur)))
			continue;
		if (cur.flags & RT_PORT_UP)
			memcpy(old_mac[p], cur.mac, 6);
		*changed |= 1ull << p;
		if ((cur.flags & RT_PORT_RA) && !(want.flags & RT_PORT_RA) &&
		    (want.flags & RT_PORT_V6))
			*ra_off |= 1ull << p;
		/* Not a port new or back (a restore, an undo: nobody holds
		 * a MAC of it to correct). */
		if ((cur.flags & RT_PORT_UP) && (want.flags & RT_PORT_V4) &&
		    (memcmp(cur.mac, want.mac, 6) ||
		     cur.v4_addr != want.v4_addr))
			*moved |= 1ull << p;
		if (bpf_map_update_elem(fd, &p, &want, BPF_ANY))
			return nfc_nf_error(nf, errno, "write rt_ports: %s",
					    strerror(errno));
	}
	return 0;
}

int rt_port_get(struct nfc_nf *nf, unsigned port, struct rt_port *out)
{
	int fd = nfc_nf_map_fd(nf, "rt_ports");
	__u32 k = port;

	if (fd < 0 || port >= NFC_MAX_PORTS ||
	    bpf_map_lookup_elem(fd, &k, out) || !(out->flags & RT_PORT_UP))
		return -1;
	return 0;
}
