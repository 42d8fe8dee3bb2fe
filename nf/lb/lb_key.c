// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lb's keys (lb_key.h): each refusal names the part of the key that is
 * wrong, so that "203.0.113.100:80/tpc" says "protocol 'tpc'", not
 * "invalid key".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lb_key.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

/* An address at *s, bracketed if IPv6, up to the ':' or '/' or end that
 * follows; *s is moved past it. */
static int parse_addr(const char **s, const char *what, __u32 addr[4],
		      __u8 *family, char *err, size_t errlen)
{
	const char *p = *s, *e;
	char b[64];

	if (*p == '[') {
		e = memchr(p, ']', strcspn(p, "/"));
		if (!e || (size_t)(e - p - 1) >= sizeof(b))
			return ERR("%s address '%s': an IPv6 address needs "
				   "its closing ']'",
				   what, p);
		memcpy(b, p + 1, e - p - 1);
		b[e - p - 1] = 0;
		if (inet_pton(AF_INET6, b, addr) != 1)
			return ERR("%s address '%s' is not an IPv6 address",
				   what, b);
		*family = LB_AF_INET6;
		*s = e + 1;
		return 0;
	}
	e = p + strcspn(p, ":/");
	if (*e == ':' && memchr(e + 1, ':', strcspn(e + 1, "/")))
		return ERR("%s address '%s': write an IPv6 address in "
			   "brackets ([2001:db8::1]:80)",
			   what, p);
	if ((size_t)(e - p) >= sizeof(b) || e == p)
		return ERR("%s address missing in '%s'", what, p);
	memcpy(b, p, e - p);
	b[e - p] = 0;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, b, addr) != 1)
		return ERR("%s address '%s' is not an IPv4 address", what, b);
	*family = LB_AF_INET;
	*s = e;
	return 0;
}

static int parse_port(const char **s, const char *what, __u16 *port, char *err,
		      size_t errlen)
{
	char *end;
	unsigned long v;

	if (**s < '0' || **s > '9')
		return ERR("%s port missing or not a number at '%s'", what, *s);
	v = strtoul(*s, &end, 10);
	if (v < 1 || v > 65535)
		return ERR("%s port %lu is out of range (1-65535)", what, v);
	*port = htons(v);
	*s = end;
	return 0;
}

/* The service part; *s is moved past it. */
static int parse_svc(const char **s, struct lb_vip *v, char *err, size_t errlen)
{
	const char *p;
	size_t n;
	int r;

	memset(v, 0, sizeof(*v));
	r = parse_addr(s, "service", v->addr, &v->family, err, errlen);
	if (r)
		return r;
	if (**s != ':')
		return ERR("service '%s' needs a port (ADDR:PORT/PROTO)", *s);
	(*s)++;
	r = parse_port(s, "service", &v->port, err, errlen);
	if (r)
		return r;
	if (**s != '/')
		return ERR("service needs a protocol after the port "
			   "(ADDR:PORT/tcp or /udp)");
	p = ++*s;
	n = strcspn(p, "/");
	if (n == 3 && !strncmp(p, "tcp", 3))
		v->proto = IPPROTO_TCP;
	else if (n == 3 && !strncmp(p, "udp", 3))
		v->proto = IPPROTO_UDP;
	else
		return ERR("service protocol '%.*s' is not tcp or udp", (int)n,
			   p);
	*s = p + n;
	return 0;
}

/* A key has one spelling, the one show prints: the model keeps keys as
 * given, so "[2001:db8:0::100]:80/tcp" and a later delete of
 * "[2001:db8::100]:80/tcp" named one service by two keys, and the model's
 * brought the deleted service back at the next restore. */
static int canonical(const char *key, const char *want, char *err,
		     size_t errlen)
{
	if (strcmp(key, want))
		return ERR("write it as %s", want);
	return 0;
}

int lb_parse_svc(const char *key, struct lb_vip *v, char *err, size_t errlen)
{
	const char *s = key;
	int r = parse_svc(&s, v, err, errlen);
	char c[96];

	if (!r && *s)
		return ERR("service key: unexpected '%s' after the protocol "
			   "(a backend goes in backends)",
			   s);
	if (r)
		return r;
	lb_svc_str(v, c, sizeof(c));
	return canonical(key, c, err, errlen);
}

int lb_parse_be(const char *key, struct lb_vip *v, struct lb_be *be, char *err,
		size_t errlen)
{
	const char *s = key;
	char c[160];
	int r = parse_svc(&s, v, err, errlen);

	if (r)
		return r;
	if (*s != '/')
		return ERR("backend key needs the backend's address after the "
			   "service (SERVICE/ADDR[:PORT])");
	s++;
	memset(be, 0, sizeof(*be));
	r = parse_addr(&s, "backend", be->addr, &be->family, err, errlen);
	if (r)
		return r;
	if (*s == ':') {
		s++;
		r = parse_port(&s, "backend", &be->port, err, errlen);
		if (r)
			return r;
	}
	if (*s)
		return ERR("backend key: unexpected '%s' after the backend's "
			   "address",
			   s);
	if (be->family != v->family)
		return ERR("backend is IPv%d but its service is IPv%d: DSR and "
			   "NAT keep the family",
			   be->family, v->family);
	lb_be_str(v, be, c, sizeof(c));
	return canonical(key, c, err, errlen);
}

const char *lb_not_unicast(__u8 family, const __u32 *addr)
{
	const __u8 *b = (const __u8 *)addr;
	static const __u8 zero[16], one[16] = {[15] = 1},
				    mapped[12] = {[10] = 0xff, [11] = 0xff};

	/* An IPv4-mapped address is an IPv4 host (the family check would
	 * let one through under an IPv6 VIP), and a link-local one has no
	 * zone: neither is reached through ip6ip6 or a router (found by a
	 * helper: such a backend took its share and lost it). */
	if (family == LB_AF_INET6)
		return !memcmp(b, zero, 16)	? "the unspecified address"
		       : !memcmp(b, one, 16)	? "a loopback address"
		       : b[0] == 0xff		? "a multicast address"
		       : !memcmp(b, mapped, 12) ? "an IPv4-mapped address (an "
						  "IPv4 host)"
		       : b[0] == 0xfe && (b[1] & 0xc0) == 0x80
			       ? "a link-local address (no zone)"
			       : NULL;
	return !addr[0]			? "no address"
	       : addr[0] == 0xffffffffu ? "the broadcast address"
	       : b[0] >= 224		? "a multicast or reserved address"
	       : b[0] == 127		? "a loopback address"
					: NULL;
}

static void addr_str(__u8 family, const __u32 *a, char *b, size_t len)
{
	char t[INET6_ADDRSTRLEN];

	inet_ntop(family == LB_AF_INET6 ? AF_INET6 : AF_INET, a, t, sizeof(t));
	snprintf(b, len, family == LB_AF_INET6 ? "[%s]" : "%s", t);
}

void lb_svc_str(const struct lb_vip *v, char *b, size_t len)
{
	char a[INET6_ADDRSTRLEN + 2];

	addr_str(v->family, v->addr, a, sizeof(a));
	snprintf(b, len, "%s:%u/%s", a, ntohs(v->port),
		 v->proto == IPPROTO_TCP ? "tcp" : "udp");
}

void lb_be_str(const struct lb_vip *v, const struct lb_be *be, char *b,
	       size_t len)
{
	char s[96], a[INET6_ADDRSTRLEN + 2];

	lb_svc_str(v, s, sizeof(s));
	addr_str(be->family, be->addr, a, sizeof(a));
	if (be->port)
		snprintf(b, len, "%s/%s:%u", s, a, ntohs(be->port));
	else
		snprintf(b, len, "%s/%s", s, a);
}
