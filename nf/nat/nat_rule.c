// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nat: a rule's text (the collection entry's fields) into struct nat_rule
 * and back. Every refusal names the rule and the field. No map or kernel
 * call here: tests compile it in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "nfchain/nf.h"
#include "nat_int.h"

#define NAT_ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

/* A field's text, or NULL when absent. */
static const char *str(json_t *fields, const char *name)
{
	json_t *v = json_object_get(fields, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Whether `s` is an IPv6 address (or prefix): refused with its own
 * message, since IPv6 is not translated. */
static int is_v6(const char *s)
{
	return strchr(s, ':') != NULL;
}

static int parse_addr(const char *s, __u32 *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	*a = ntohl(in.s_addr);
	return 0;
}

/* "198.51.100.0/24" or an address alone. */
static int parse_pfx(const char *s, __u32 *a, __u8 *len, char *err,
		     size_t errlen, const char *what)
{
	char buf[64], *slash, *end;
	unsigned long l = 32;

	if (is_v6(s))
		return NAT_ERR("%s=%s: IPv6 is not translated (NAT66 is not "
			       "supported); IPv6 passes untouched",
			       what, s);
	if (strchr(s, ','))
		return NAT_ERR(
			"%s=%s: one prefix a rule; write a rule for each", what,
			s);
	if (strlen(s) >= sizeof(buf))
		return NAT_ERR("%s=%s: not an IPv4 prefix", what, s);
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		errno = 0;
		l = strtoul(slash, &end, 10);
		if (!*slash || *end || errno || *slash < '0' || *slash > '9' ||
		    l > 32)
			return NAT_ERR("%s=%s: prefix length must be 0-32",
				       what, s);
	}
	if (parse_addr(buf, a))
		return NAT_ERR("%s=%s: '%s' is not an IPv4 address", what, s,
			       buf);
	if (l < 32 && (*a & ~(l ? ~0u << (32 - l) : 0)))
		return NAT_ERR("%s=%s: host bits set beyond /%lu (write the "
			       "prefix's first address)",
			       what, s, l);
	*len = l;
	return 0;
}

int nat_range_parse(const char *s, __u16 *lo, __u16 *hi, char *err,
		    size_t errlen, const char *what)
{
	unsigned long a, b;
	char *end;

	if (!s || !*s)
		return NAT_ERR("%s=: empty port range", what);
	if (*s < '0' || *s > '9')
		return NAT_ERR("%s=%s: not a port or range a-b", what, s);
	errno = 0;
	a = strtoul(s, &end, 10);
	b = a;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			return NAT_ERR("%s=%s: a range is a-b", what, s);
		b = strtoul(end + 1, &end, 10);
	}
	if (*end)
		return NAT_ERR("%s=%s: not a port or range a-b", what, s);
	if (errno || a > 65535 || b > 65535)
		return NAT_ERR("%s=%s: port outside 0-65535", what, s);
	if (b < a)
		return NAT_ERR("%s=%s: range %lu-%lu is reversed", what, s, a,
			       b);
	*lo = a;
	*hi = b;
	return 0;
}

static int parse_proto(const char *s, __u8 *p, char *err, size_t errlen)
{
	if (!strcmp(s, "tcp"))
		*p = 6;
	else if (!strcmp(s, "udp"))
		*p = 17;
	else if (!strcmp(s, "icmp"))
		*p = 1;
	else if (!strcmp(s, "any"))
		*p = 0;
	else if (!strcmp(s, "icmpv6"))
		return NAT_ERR("proto=icmpv6: IPv6 is not translated");
	else {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(s, &end, 10);
		if (!*s || *end || errno || v > 255 || *s < '0' || *s > '9')
			return NAT_ERR("proto=%s: tcp, udp, icmp, any or "
				       "0-255",
				       s);
		*p = v;
	}
	return 0;
}

/* to=: snat "A" or "A-B"; dnat "A" or "A:P" ("A:P-P" too). */
static int parse_to(const char *s, struct nat_rule *r, char *err, size_t errlen,
		    const char *mfam)
{
	char buf[64], *colon, *dash;

	if (is_v6(s) && !strchr(s, '.'))
		return NAT_ERR("to=%s: an IPv6 address, outside the family of "
			       "the match (%s); NAT66 is not supported",
			       s, mfam);
	if (strlen(s) >= sizeof(buf))
		return NAT_ERR("to=%s: not an address", s);
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon) {
		if (r->type != NAT_T_DNAT)
			return NAT_ERR("to=%s: a port in to= is for dnat; "
				       "snat picks ports in the NF's ports=",
				       s);
		*colon++ = 0;
		if (nat_range_parse(colon, &r->to_port_lo, &r->to_port_hi, err,
				    errlen, "to"))
			return -EINVAL;
		if (!r->to_port_lo)
			return NAT_ERR("to=%s: port 0", s);
		/* It kept the first port alone and said nothing (found by
		 * a helper against nftables, whose dnat picks one in the
		 * range); this NF translates to one port. */
		if (r->to_port_hi != r->to_port_lo)
			return NAT_ERR("to=%s: dnat translates to one port, "
				       "not a range (to=ADDRESS:PORT)",
				       s);
	}
	dash = strchr(buf, '-');
	if (dash) {
		if (r->type == NAT_T_DNAT)
			return NAT_ERR("to=%s: dnat takes one address", s);
		*dash++ = 0;
	}
	if (parse_addr(buf, &r->to_lo))
		return NAT_ERR("to=%s: '%s' is not an IPv4 address", s, buf);
	r->to_hi = r->to_lo;
	if (dash && parse_addr(dash, &r->to_hi))
		return NAT_ERR("to=%s: '%s' is not an IPv4 address", s, dash);
	if (r->to_hi < r->to_lo)
		return NAT_ERR("to=%s: address range is reversed", s);
	if (r->to_hi - r->to_lo >= 65536)
		return NAT_ERR("to=%s: more than 65,536 addresses", s);
	if (!r->to_lo)
		return NAT_ERR("to=%s: 0.0.0.0 is no address", s);
	return 0;
}

int nat_rule_parse(const char *key, json_t *fields, struct nat_rule *r,
		   char *err, size_t errlen)
{
	const char *type = str(fields, "type"), *s;
	const char *mfam = "IPv4";
	char sub[256];
	int e;

	memset(r, 0, sizeof(*r));
	r->sport_hi = r->dport_hi = 0xffff;
	e = nfc_rule_num(key, &r->num);
	if (e == -EDOM)
		return NAT_ERR("rule '%s': write it as %u", key, r->num);
	if (e)
		return NAT_ERR("rule '%s': the key is a rule number 0-%u", key,
			       NFC_RULE_NUM_MAX);
	if (!type)
		return NAT_ERR("rule %s: type= is required "
			       "(masquerade|snat|dnat)",
			       key);
	if (!strcmp(type, "masquerade"))
		r->type = NAT_T_MASQ;
	else if (!strcmp(type, "snat"))
		r->type = NAT_T_SNAT;
	else if (!strcmp(type, "dnat"))
		r->type = NAT_T_DNAT;
	else
		return NAT_ERR("rule %s: type=%s: masquerade, snat or dnat",
			       key, type);
#define SUB(call)                                                \
	do {                                                     \
		if (call) {                                      \
			snprintf(sub, sizeof(sub), "%s", err);   \
			return NAT_ERR("rule %s: %s", key, sub); \
		}                                                \
	} while (0)
	if ((s = str(fields, "src")))
		SUB(parse_pfx(s, &r->src, &r->src_len, err, errlen, "src"));
	if ((s = str(fields, "dst")))
		SUB(parse_pfx(s, &r->dst, &r->dst_len, err, errlen, "dst"));
	if ((s = str(fields, "proto")))
		SUB(parse_proto(s, &r->proto, err, errlen));
	if ((s = str(fields, "sport")))
		SUB(nat_range_parse(s, &r->sport_lo, &r->sport_hi, err, errlen,
				    "sport"));
	if ((s = str(fields, "dport")))
		SUB(nat_range_parse(s, &r->dport_lo, &r->dport_hi, err, errlen,
				    "dport"));
	if ((str(fields, "sport") || str(fields, "dport")) && r->proto != 6 &&
	    r->proto != 17)
		return NAT_ERR("rule %s: sport=/dport= need proto=tcp or udp",
			       key);
	s = str(fields, "to");
	if (r->type == NAT_T_MASQ && s)
		return NAT_ERR("rule %s: masquerade takes no to= (it uses the "
			       "target's address); use type=snat",
			       key);
	if (r->type != NAT_T_MASQ && !s)
		return NAT_ERR("rule %s: %s needs to= (%s)", key, type,
			       r->type == NAT_T_DNAT
				       ? "the inside address[:port]"
				       : "the outside address or range A-B");
	if (s)
		SUB(parse_to(s, r, err, errlen, mfam));
	/* A dport range, or none, all to the one port, as nftables' "dnat
	 * to A:P": the mapping keeps each connection's own port for the
	 * replies. */
	if (r->type == NAT_T_DNAT && r->to_port_lo && r->proto != 6 &&
	    r->proto != 17)
		return NAT_ERR("rule %s: dnat to a port needs proto=tcp or udp",
			       key);
#undef SUB
	return 0;
}

static const char *type_name(__u8 t)
{
	return t == NAT_T_MASQ	 ? "masquerade"
	       : t == NAT_T_SNAT ? "snat"
	       : t == NAT_T_DNAT ? "dnat"
				 : "none";
}

static void set_addr(json_t *o, const char *k, __u32 a, __u8 len, int pfx)
{
	char b[32], s[48];
	struct in_addr in = {.s_addr = htonl(a)};

	inet_ntop(AF_INET, &in, b, sizeof(b));
	if (pfx)
		snprintf(s, sizeof(s), "%s/%u", b, len);
	else
		snprintf(s, sizeof(s), "%s", b);
	json_object_set_new(o, k, json_string(s));
}

static void set_range(json_t *o, const char *k, __u16 lo, __u16 hi)
{
	char s[16];

	if (lo == hi)
		snprintf(s, sizeof(s), "%u", lo);
	else
		snprintf(s, sizeof(s), "%u-%u", lo, hi);
	json_object_set_new(o, k, json_string(s));
}

json_t *nat_rule_json(const struct nat_rule *r)
{
	json_t *o = json_object();
	char k[16];

	snprintf(k, sizeof(k), "%u", r->num);
	json_object_set_new(o, "rule", json_string(k));
	json_object_set_new(o, "type", json_string(type_name(r->type)));
	if (r->src_len)
		set_addr(o, "src", r->src, r->src_len, 1);
	if (r->dst_len)
		set_addr(o, "dst", r->dst, r->dst_len, 1);
	if (r->proto)
		json_object_set_new(o, "proto",
				    json_string(r->proto == 6	 ? "tcp"
						: r->proto == 17 ? "udp"
						: r->proto == 1	 ? "icmp"
								 : "other"));
	if (r->sport_lo || r->sport_hi != 0xffff)
		set_range(o, "sport", r->sport_lo, r->sport_hi);
	if (r->dport_lo || r->dport_hi != 0xffff)
		set_range(o, "dport", r->dport_lo, r->dport_hi);
	if (r->type != NAT_T_MASQ) {
		char a[32], b[32], s[96];
		struct in_addr x = {.s_addr = htonl(r->to_lo)},
			       y = {.s_addr = htonl(r->to_hi)};

		inet_ntop(AF_INET, &x, a, sizeof(a));
		inet_ntop(AF_INET, &y, b, sizeof(b));
		if (r->to_hi != r->to_lo)
			snprintf(s, sizeof(s), "%s-%s", a, b);
		else if (r->to_port_lo)
			snprintf(s, sizeof(s), "%s:%u", a, r->to_port_lo);
		else
			snprintf(s, sizeof(s), "%s", a);
		json_object_set_new(o, "to", json_string(s));
	} else if (r->to_lo) {
		set_addr(o, "address", r->to_lo, 32, 0);
	}
	return o;
}
