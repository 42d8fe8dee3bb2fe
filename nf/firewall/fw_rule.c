// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: a rule's text (the collection entry's fields) into struct
 * fw_rule and back. Every refusal names the rule and the field. No map or
 * kernel call here: tests compile it in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "nfchain/nf.h"
#include "fw_int.h"

#define FW_ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

/* "203.0.113.0/25", "2001:db8::/32", or an address alone (a host). */
static int parse_pfx(const char *s, struct fw_pfx *p, char *err, size_t errlen,
		     const char *what)
{
	char a[64], *slash;
	unsigned long plen;
	int max;

	/* A list reads as a bad prefix length otherwise ("/32,198..."). */
	if (strchr(s, ','))
		return FW_ERR("%s=%s: one prefix a rule (a list is for ports); "
			      "write a rule for each",
			      what, s);
	if (strlen(s) >= sizeof(a))
		return FW_ERR("%s=%s: not an address or prefix", what, s);
	strcpy(a, s);
	slash = strchr(a, '/');
	if (slash)
		*slash++ = 0;
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, a, p->addr) == 1) {
		p->fam = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, a, p->addr) == 1) {
		p->fam = 6;
		max = 128;
	} else {
		return FW_ERR("%s=%s: '%s' is not an IPv4 or IPv6 address",
			      what, s, a);
	}
	plen = max;
	if (slash) {
		char *end;

		errno = 0;
		plen = strtoul(slash, &end, 10);
		if (!*slash || *end || errno || *slash < '0' || *slash > '9' ||
		    plen > (unsigned long)max)
			return FW_ERR("%s=%s: prefix length must be 0-%d", what,
				      s, max);
		/* One spelling a rule, as for its number: export and the
		 * listing write /24. */
		if (*slash == '0' && slash[1])
			return FW_ERR("%s=%s: prefix length '%s': write it as "
				      "%lu",
				      what, s, slash, plen);
	}
	p->plen = plen;
	for (int i = 0; i < 16; i++) {
		int bits = (int)plen - 8 * i;
		__u8 m = bits >= 8 ? 0xff : bits <= 0 ? 0 : 0xff << (8 - bits);

		if (p->addr[i] & ~m)
			return FW_ERR("%s=%s: host bits set beyond /%lu "
				      "(write the prefix's first address)",
				      what, s, plen);
	}
	return 0;
}

/* "80", "1000-2000", "80,443,8000-8080". */
static int parse_ports(const char *s, struct fw_range *r, __u8 *n, char *err,
		       size_t errlen, const char *what)
{
	const char *p = s;

	*n = 0;
	if (!*s)
		return FW_ERR("%s=: empty", what);
	while (*p) {
		unsigned long lo, hi;
		char *end;

		if (*n == FW_LIST_MAX)
			return FW_ERR("%s=%s: at most %d ports or ranges in a "
				      "list",
				      what, s, FW_LIST_MAX);
		if (*p < '0' || *p > '9')
			return FW_ERR("%s=%s: not a port, range a-b or list "
				      "a,b,c",
				      what, s);
		errno = 0;
		lo = strtoul(p, &end, 10);
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return FW_ERR("%s=%s: a range is a-b", what, s);
			hi = strtoul(p, &end, 10);
		}
		if (errno || lo > 65535 || hi > 65535)
			return FW_ERR("%s=%s: port outside 0-65535", what, s);
		if (hi < lo)
			return FW_ERR("%s=%s: range %lu-%lu is reversed", what,
				      s, lo, hi);
		if (*end && *end != ',')
			return FW_ERR("%s=%s: not a port, range a-b or list "
				      "a,b,c",
				      what, s);
		r[*n].lo = lo;
		r[*n].hi = hi;
		(*n)++;
		p = *end ? end + 1 : end;
		if (*end == ',' && !*p)
			return FW_ERR("%s=%s: list ends with ','", what, s);
	}
	return 0;
}

static const char *const proto_names[] = {
	[1] = "icmp",	 [6] = "tcp",	 [17] = "udp",
	[58] = "icmpv6", [132] = "sctp", [136] = "udplite",
};
#define NPROTO_NAMES (sizeof(proto_names) / sizeof(proto_names[0]))

static int parse_proto(const char *s, __s16 *proto, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	if (!strcmp(s, "any")) {
		*proto = -1;
		return 0;
	}
	for (unsigned i = 0; i < NPROTO_NAMES; i++)
		if (proto_names[i] && !strcmp(s, proto_names[i])) {
			*proto = i;
			return 0;
		}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *s < '0' || *s > '9' || *end || errno || v > 255)
		return FW_ERR("proto=%s: expected tcp, udp, icmp, icmpv6, "
			      "sctp, udplite, any or 0-255",
			      s);
	*proto = v;
	return 0;
}

static int parse_state(const char *s, __u8 *st, char *err, size_t errlen)
{
	static const char *const names[] = {"new", "established", "related",
					    "invalid"};
	const char *p = s;

	*st = 0;
	while (*p) {
		size_t l = strcspn(p, ",");
		unsigned i;

		for (i = 0; i < 4; i++)
			if (strlen(names[i]) == l && !strncmp(p, names[i], l))
				break;
		if (i == 4)
			return FW_ERR("state=%s: expected a list of new, "
				      "established, related, invalid",
				      s);
		*st |= 1 << i;
		p += l;
		if (*p == ',' && !*++p)
			return FW_ERR("state=%s: list ends with ','", s);
	}
	if (!*st)
		return FW_ERR("state=: empty");
	return 0;
}

/* A field's value as text: strings as given, integers printed. */
static const char *field(json_t *fields, const char *name, char *buf,
			 size_t len)
{
	json_t *v = json_object_get(fields, name);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

static int has_ports(__s16 proto)
{
	/* The shared parser (bpf/flow.h) reads the ports of these two. */
	return proto == 6 || proto == 17;
}

int fw_rule_parse(const char *key, json_t *fields, int conntrack,
		  struct fw_rule *r, char *err, size_t errlen)
{
	char nb[32];
	const char *s;
	int e;

	memset(r, 0, sizeof(*r));
	r->proto = -1;
	e = nfc_rule_num(key, &r->num);
	if (e == -EDOM)
		return FW_ERR("rule '%s': write it as %u", key, r->num);
	if (e)
		return FW_ERR("rule '%s': the key is a rule number, 0-%u", key,
			      NFC_RULE_NUM_MAX);
#define SUB(call)                                                              \
	do {                                                                   \
		char m[256];                                                   \
		char *serr = err;                                              \
		size_t slen = errlen;                                          \
		{                                                              \
			char *err = m;                                         \
			size_t errlen = sizeof(m);                             \
			e = call;                                              \
		}                                                              \
		if (e)                                                         \
			return snprintf(serr, slen, "rule %s: %s", key, m), e; \
	} while (0)
	s = field(fields, "action", nb, sizeof(nb));
	if (!s)
		return FW_ERR("rule %s: action= is needed (accept, drop or "
			      "reject)",
			      key);
	if (!strcmp(s, "accept"))
		r->action = FW_ACCEPT;
	else if (!strcmp(s, "drop"))
		r->action = FW_DROP;
	else if (!strcmp(s, "reject"))
		r->action = FW_REJECT;
	else
		return FW_ERR("rule %s: action=%s: expected accept, drop or "
			      "reject",
			      key, s);
	s = field(fields, "dir", nb, sizeof(nb));
	if (s) {
		if (!strcmp(s, "in"))
			r->dir = 1 + FW_DIR_IN;
		else if (!strcmp(s, "out"))
			r->dir = 1 + FW_DIR_OUT;
		else if (strcmp(s, "any"))
			return FW_ERR("rule %s: dir=%s: expected in, out or "
				      "any",
				      key, s);
	}
	s = field(fields, "src", nb, sizeof(nb));
	if (s)
		SUB(parse_pfx(s, &r->src, err, errlen, "src"));
	s = field(fields, "dst", nb, sizeof(nb));
	if (s)
		SUB(parse_pfx(s, &r->dst, err, errlen, "dst"));
	if (r->src.fam && r->dst.fam && r->src.fam != r->dst.fam)
		return FW_ERR("rule %s: src= is IPv%d and dst= IPv%d: a rule "
			      "is of one family",
			      key, r->src.fam, r->dst.fam);
	r->fam = r->src.fam ? r->src.fam : r->dst.fam;
	s = field(fields, "proto", nb, sizeof(nb));
	if (s)
		SUB(parse_proto(s, &r->proto, err, errlen));
	if ((r->proto == 1 && r->fam == 6) || (r->proto == 58 && r->fam == 4))
		return FW_ERR("rule %s: proto=%s with IPv%d addresses", key,
			      r->proto == 1 ? "icmp" : "icmpv6", r->fam);
	s = field(fields, "sport", nb, sizeof(nb));
	if (s)
		SUB(parse_ports(s, r->sport, &r->nsport, err, errlen, "sport"));
	s = field(fields, "dport", nb, sizeof(nb));
	if (s)
		SUB(parse_ports(s, r->dport, &r->ndport, err, errlen, "dport"));
	if ((r->nsport || r->ndport) && (r->proto == 132 || r->proto == 136))
		return FW_ERR("rule %s: %s= with proto=%s: ports are matched "
			      "for tcp and udp only",
			      key, r->nsport ? "sport" : "dport",
			      field(fields, "proto", nb, sizeof(nb)));
	if ((r->nsport || r->ndport) && !has_ports(r->proto))
		return FW_ERR("rule %s: %s= needs proto=tcp or udp (proto %s "
			      "has no ports)",
			      key, r->nsport ? "sport" : "dport",
			      r->proto < 0
				      ? "any"
				      : field(fields, "proto", nb, sizeof(nb)));
	s = field(fields, "state", nb, sizeof(nb));
	if (s) {
		if (!conntrack)
			return FW_ERR("rule %s: state=%s needs conntrack=on "
				      "(this firewall has conntrack=off)",
				      key, s);
		SUB(parse_state(s, &r->state, err, errlen));
	}
#undef SUB
	return 0;
}

static void pfx_str(const struct fw_pfx *p, char *b, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->fam == 4 ? AF_INET : AF_INET6, p->addr, a, sizeof(a));
	snprintf(b, len, "%s/%u", a, p->plen);
}

static void ports_str(const struct fw_range *r, unsigned n, char *b, size_t len)
{
	size_t o = 0;

	b[0] = 0;
	for (unsigned i = 0; i < n && o < len; i++) {
		if (r[i].lo == r[i].hi)
			o += snprintf(b + o, len - o, "%s%u", i ? "," : "",
				      r[i].lo);
		else
			o += snprintf(b + o, len - o, "%s%u-%u", i ? "," : "",
				      r[i].lo, r[i].hi);
	}
}

json_t *fw_rule_json(const struct fw_rule *r)
{
	static const char *const act[] = {"?", "accept", "drop", "reject"};
	static const char *const st[] = {"new", "established", "related",
					 "invalid"};
	json_t *o = json_object();
	char b[256];

	snprintf(b, sizeof(b), "%u", r->num);
	json_object_set_new(o, "rule", json_string(b));
	json_object_set_new(o, "action", json_string(act[r->action & 3]));
	if (r->dir)
		json_object_set_new(o, "dir",
				    json_string(r->dir == 1 ? "in" : "out"));
	if (r->src.fam) {
		pfx_str(&r->src, b, sizeof(b));
		json_object_set_new(o, "src", json_string(b));
	}
	if (r->dst.fam) {
		pfx_str(&r->dst, b, sizeof(b));
		json_object_set_new(o, "dst", json_string(b));
	}
	if (r->proto >= 0) {
		if ((unsigned)r->proto < NPROTO_NAMES && proto_names[r->proto])
			snprintf(b, sizeof(b), "%s", proto_names[r->proto]);
		else
			snprintf(b, sizeof(b), "%d", r->proto);
		json_object_set_new(o, "proto", json_string(b));
	}
	if (r->nsport) {
		ports_str(r->sport, r->nsport, b, sizeof(b));
		json_object_set_new(o, "sport", json_string(b));
	}
	if (r->ndport) {
		ports_str(r->dport, r->ndport, b, sizeof(b));
		json_object_set_new(o, "dport", json_string(b));
	}
	if (r->state) {
		size_t o2 = 0;

		b[0] = 0;
		for (int i = 0; i < 4; i++)
			if (r->state & (1 << i))
				o2 += snprintf(b + o2, sizeof(b) - o2, "%s%s",
					       o2 ? "," : "", st[i]);
		json_object_set_new(o, "state", json_string(b));
	}
	return o;
}
