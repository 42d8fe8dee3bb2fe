// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nat: the NF type (fields, the rules and mappings collections, stats). A
 * transparent NF, typically on a router's outside port.
 *
 * The rules live in the pinned record nat_rec (by number): every CLI call
 * is a new process and the daemon restarts. A change writes the complete
 * new set into the inactive half of nat_rules and switches nat_set to it
 * at one instant. Masquerade rules get the target's address written in
 * at every switch and every tick (it follows the address).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nfchain/nf.h"
#include "conntrack.h"
#include "nat_int.h"
#include "nat_xdp.skel.h"
#include "nat_tc.skel.h"

static const struct nfc_field nat_config[] = {
	{.name = "ports",
	 .kind = NFC_F_STRING,
	 .def = "1024-65535",
	 .doc = "source ports (and ICMP echo ids) snat and masquerade pick "
		"from when the original one is taken or outside it"},
	{.name = "timeout_tcp",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_LIVE,
	 .def = "7440",
	 .min = 1,
	 .max = 86400 * 30,
	 .doc = "seconds an idle established TCP mapping is kept"},
	{.name = "timeout_udp",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_LIVE,
	 .def = "300",
	 .min = 1,
	 .max = 86400 * 30,
	 .doc = "seconds an idle UDP mapping is kept"},
	{.name = "timeout_icmp",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_LIVE,
	 .def = "30",
	 .min = 1,
	 .max = 86400,
	 .doc = "seconds an idle ICMP echo mapping is kept"},
	{.name = "conntrack_size",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RELOAD,
	 .def = NFCT_SIZE_DEFAULT,
	 .min = 64,
	 .max = NFCT_SIZE_MAX,
	 .doc = "connections translated at most; fixed when the NF is "
		"created"},
	NFC_FIELDS_END,
};

static const struct nfc_field nat_rule_fields[] = {
	{.name = "type",
	 .kind = NFC_F_ENUM,
	 .flags = NFC_FIELD_REQUIRED,
	 .choices = "masquerade|snat|dnat",
	 .doc = "snat/masquerade: connections leaving the target (out); "
		"dnat: entering it (in)"},
	{.name = "src", .kind = NFC_F_STRING, .doc = "source IPv4 prefix"},
	{.name = "dst", .kind = NFC_F_STRING, .doc = "destination IPv4 prefix"},
	{.name = "proto",
	 .kind = NFC_F_STRING,
	 .doc = "tcp, udp, icmp, any, 0-255"},
	{.name = "sport",
	 .kind = NFC_F_STRING,
	 .doc = "source port or range a-b (proto=tcp or udp)"},
	{.name = "dport",
	 .kind = NFC_F_STRING,
	 .doc = "destination port or range a-b (proto=tcp or udp)"},
	{.name = "to",
	 .kind = NFC_F_STRING,
	 .doc = "snat: an address or range A-B; dnat: address[:port]; "
		"masquerade: none (the target's address)"},
	NFC_FIELDS_END,
};

/* The tracker's timeouts from the NAT's own fields. */
static void nat_ct_cfg(struct nfc_nf *nf, struct nfct_cfg *cfg)
{
	long long tcp = nfc_nf_config_uint(nf, "timeout_tcp", 7440),
		  udp = nfc_nf_config_uint(nf, "timeout_udp", 300),
		  icmp = nfc_nf_config_uint(nf, "timeout_icmp", 30);

	nfct_cfg_default(cfg);
	cfg->timeout[NFCT_T_ESTABLISHED] = tcp;
	cfg->timeout[NFCT_T_UDP] = udp;
	cfg->timeout[NFCT_T_UDP_STREAM] = udp;
	cfg->timeout[NFCT_T_ICMP] = icmp;
	/* A TCP connection whose entry is gone (expired, flushed, lost in
	 * a reboot) is picked up from its next segment, as Linux's NAT
	 * (nf_conntrack_tcp_loose=1): as INVALID it went out untranslated,
	 * the inside address on the outside link (found by a helper). */
	cfg->flags |= NFCT_CFG_TCP_LOOSE;
}

static int nat_ports(struct nfc_nf *nf, json_t *config, __u16 *lo, __u16 *hi)
{
	const char *s = json_string_value(json_object_get(config, "ports"));
	char err[256];

	if (!s)
		s = "1024-65535";
	if (nat_range_parse(s, lo, hi, err, sizeof(err), "ports"))
		return nfc_nf_error(nf, EINVAL, "%s", err);
	if (!*lo)
		return nfc_nf_error(nf, EINVAL,
				    "ports=%s: port 0 cannot be handed out", s);
	return 0;
}

/* The data plane switched to exactly `rs` (sorted), masquerade rules
 * given the target's current address. */
static int rules_apply(struct nfc_nf *nf, const void *rules, __u32 n)
{
	const struct nat_rule *rs = rules;
	int rfd = nfc_nf_map_fd(nf, "nat_rules"),
	    sfd = nfc_nf_map_fd(nf, "nat_set");
	struct nat_set set = {0};
	__u32 zero = 0, half, addr;

	if (rfd < 0 || sfd < 0)
		return nfc_nf_error(nf, ENOENT, "nat maps not found");
	if (nat_ports(nf, nfc_nf_config(nf), &set.port_lo, &set.port_hi))
		return -EINVAL;
	nat_target_addr4(nf, &addr);
	{
		struct nat_set cur = {0};

		bpf_map_lookup_elem(sfd, &zero, &cur);
		set = (struct nat_set){.live = cur.live,
				       .n = {cur.n[0], cur.n[1]},
				       .gen = cur.gen,
				       .port_lo = set.port_lo,
				       .port_hi = set.port_hi};
	}
	half = !(set.live & 1);
	for (__u32 i = 0; i < n; i++) {
		__u32 k = half * NAT_MAX_RULES + i;
		struct nat_rule r = rs[i];

		if (r.type == NAT_T_MASQ)
			r.to_lo = r.to_hi = addr;
		if (bpf_map_update_elem(rfd, &k, &r, BPF_ANY))
			return nfc_nf_error(nf, errno, "rules: write: %s",
					    strerror(errno));
	}
	set.n[half] = n;
	set.live = half;
	set.gen++;
	if (bpf_map_update_elem(sfd, &zero, &set, BPF_ANY))
		return nfc_nf_error(nf, errno, "rules: switch: %s",
				    strerror(errno));
	return 0;
}

static const struct nfc_rules nat_rules_d = {
	.map = "nat_rec",
	.size = sizeof(struct nat_rule),
	.max = NAT_MAX_RULES,
	.holder = "the NAT",
	.apply = rules_apply,
};

static int rules_reapply(struct nfc_nf *nf)
{
	return nfc_rules_reapply(nf, &nat_rules_d);
}

/* Found by a helper: to=224.0.0.1, 255.255.255.255 or 127.0.0.1 were
 * taken (0.0.0.0 was refused). A state saved before the check is taken
 * as it was. */
static int to_check(struct nfc_nf *nf, const char *key,
		    const struct nat_rule *r)
{
	const char *bad = r->to_hi >> 28 >= 0xe
				  ? "multicast, reserved or broadcast "
				    "addresses"
			  : r->to_lo >> 24 <= 127 && r->to_hi >> 24 >= 127
				  ? "loopback addresses"
				  : NULL;

	if (!r->to_lo || !bad || nfc_nf_applying(nf))
		return 0;
	return nfc_nf_entry_error(nf, key, EINVAL, "rule %s: to= holds %s", key,
				  bad);
}

/* A rule of an apply's document, before the apply changes anything (its
 * config changes would otherwise run until this rule's refusal undid
 * them). The masquerade's address is the target's, checked by add(). */
static int nat_rules_check(struct nfc_nf *nf, json_t *config, const char *key,
			   json_t *fields)
{
	struct nat_rule nr;
	char err[320];
	int r = nat_rule_parse(key, fields, &nr, err, sizeof(err));

	(void)config;
	return r ? nfc_nf_entry_error(nf, key, -r, "%s", err)
		 : to_check(nf, key, &nr);
}

/* Rule `key` parsed into *nr and checked as add() and replace() take it. */
static int nat_rule_of(struct nfc_nf *nf, const char *key, json_t *fields,
		       struct nat_rule *nr)
{
	char err[320];
	__u32 addr;
	int r = nat_rule_parse(key, fields, nr, err, sizeof(err));

	if (r)
		return nfc_nf_entry_error(nf, key, -r, "%s", err);
	if ((r = to_check(nf, key, nr)))
		return r;
	/* A check for the user's sake, of a fact outside the state (the
	 * target's address; a rule added before the attach waits for one):
	 * a restore takes the rule as accepted, and a reboot that brings
	 * nfchaind up before the address restored nothing (found by a
	 * helper). */
	if (nr->type == NAT_T_MASQ && !nfc_nf_applying(nf) &&
	    nat_target_addr4(nf, &addr) && !addr)
		return nfc_nf_entry_error(nf, key, EINVAL,
					  "rule %s: masquerade: %s is attached "
					  "to a target without an IPv4 "
					  "address; give it one (ip=) or use "
					  "type=snat to=",
					  key, nfc_nf_name(nf));
	return 0;
}

static int nat_rules_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct nat_rule nr;
	int r = nat_rule_of(nf, key, fields, &nr);

	return r ? r : nfc_rules_add(nf, &nat_rules_d, key, &nr);
}

/* The whole set at once (apply, import): every rule checked first, then
 * switched in at one instant. Rule by rule, a refused import wrote its
 * first rules to the spare half of the tables (and voided the flow
 * cache) before its undo (found by a helper), and a packet could meet
 * part of an imported set. */
static int nat_rules_replace(struct nfc_nf *nf, json_t *entries)
{
	size_t n = json_object_size(entries), i = 0;
	struct nat_rule *rs;
	const char *key;
	json_t *f;
	int r = 0;

	rs = calloc(n + 1, sizeof(*rs)); /* the limit: nfc_rules_replace */
	if (!rs)
		return nfc_nf_error(nf, ENOMEM, "rules: out of memory");
	json_object_foreach (entries, key, f) {
		r = nat_rule_of(nf, key, f, &rs[i++]);
		if (r)
			break;
	}
	if (!r)
		r = nfc_rules_replace(nf, &nat_rules_d, rs, n);
	free(rs);
	return r;
}

static int nat_rules_del(struct nfc_nf *nf, const char *key)
{
	return nfc_rules_del(nf, &nat_rules_d, key);
}

static int nat_rules_list(struct nfc_nf *nf, json_t *out)
{
	struct nat_rule *rs;
	__u32 n, addr;
	int r = nfc_rules_load(nf, &nat_rules_d, (void **)&rs, &n, 0);

	if (!r) {
		nat_target_addr4(nf, &addr);
		for (__u32 i = 0; i < n; i++) {
			if (rs[i].type == NAT_T_MASQ)
				rs[i].to_lo = addr;
			json_array_append_new(out, nat_rule_json(&rs[i]));
		}
	}
	free(rs);
	return r;
}

/* ---- mappings: nat_rev with its conntrack entries ---- */

/* The tracker's key of a tuple; returns whether it was swapped (the
 * tuple's source is endpoint b). */
static int tuple_key(const struct nat_tuple *t, struct nfct_key *k)
{
	__u32 s[4] = {0, 0, htonl(NFCT_V4MAPPED_W2), t->src},
	      d[4] = {0, 0, htonl(NFCT_V4MAPPED_W2), t->dst};
	int swap = ntohl(t->src) > ntohl(t->dst) ||
		   (t->src == t->dst && ntohs(t->sport) > ntohs(t->dport));

	memset(k, 0, sizeof(*k));
	memcpy(k->a, swap ? d : s, 16);
	memcpy(k->b, swap ? s : d, 16);
	k->pa = swap ? t->dport : t->sport;
	k->pb = swap ? t->sport : t->dport;
	k->proto = t->proto;
	k->family = NFC_FAMILY_V4;
	return swap;
}

/* A mapping's connection as `conntrack show` prints it and `mappings
 * del` takes it: the original, untranslated tuple. */
static void orig_str(const struct nat_tuple *orig, char *buf, size_t len)
{
	struct nfct_entry fe = {0};
	struct nfct_key k;

	fe.flags = tuple_key(orig, &k) ? NFCT_F_ORIG_IS_B : 0;
	nfct_key_str(&k, &fe, buf, len);
}

static const char *ap(__be32 a, __be16 p, char *buf, size_t len)
{
	char b[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, b, sizeof(b));
	snprintf(buf, len, "%s:%u", b, ntohs(p));
	return buf;
}

struct rev_arg {
	struct nfc_nf *nf;
	int rfd, tfd;
	void (*fn)(struct nfc_nf *, int, const struct nat_tuple *,
		   const struct nat_rev *, const struct nfct_entry *, void *);
	void *arg;
};

static int rev_one(const void *k, const void *v, void *arg)
{
	const struct nat_rev *rv = v;
	struct rev_arg *a = arg;
	struct nfct_key ck;
	struct nfct_entry e;
	int have;

	tuple_key(&rv->orig, &ck);
	have = !bpf_map_lookup_elem(a->tfd, &ck, &e);
	a->fn(a->nf, a->rfd, k, rv, have ? &e : NULL, a->arg);
	return 0;
}

/* Each mapping with its connection's entry (NULL if gone), read in
 * batches (nfc_hash_walk); with a cursor, the next ~max only (the walk's
 * count, or -errno). A batch is
 * a copy, so fn may delete the mapping it is given: the walk key by key
 * started over from the first bucket after each such delete. */
static long rev_walk_from(struct nfc_nf *nf,
			  void (*fn)(struct nfc_nf *, int,
				     const struct nat_tuple *,
				     const struct nat_rev *,
				     const struct nfct_entry *, void *),
			  void *arg, struct nfc_walk *cur, long max)
{
	struct rev_arg a = {.nf = nf,
			    .rfd = nfc_nf_map_fd(nf, "nat_rev"),
			    .tfd = nfc_nf_map_fd(nf, "ct_table"),
			    .fn = fn,
			    .arg = arg};

	if (a.rfd < 0 || a.tfd < 0)
		return -ENOENT;
	return nfc_hash_walk(a.rfd, sizeof(struct nat_tuple),
			     sizeof(struct nat_rev), cur, max, rev_one, &a);
}

/* Calls fn for every mapping; `e` NULL when its connection is gone. */
static void rev_walk(struct nfc_nf *nf,
		     void (*fn)(struct nfc_nf *, int, const struct nat_tuple *,
				const struct nat_rev *,
				const struct nfct_entry *, void *),
		     void *arg)
{
	rev_walk_from(nf, fn, arg, NULL, 0);
}

struct list_arg {
	json_t *out;
	struct nfct_cfg cfg;
	uint64_t now;
	struct nfct_pending pend;
};

/* What every CPU's nat_fc slots gathered and have not put in their
 * entries (nat_fc_fill gives them, to the entry of the slot's
 * connection tuple). */
static int fc_pending(struct nfc_nf *nf, struct nfct_pending *p)
{
	enum { CHUNK = 512 };
	int fd = nfc_nf_map_fd(nf, "nat_fc");
	unsigned ncpu = nfc_ncpus();
	__u32 keys[CHUNK], in = 0, out = 0;
	struct nat_fc_slot *v;
	int r = 0, first = 1;

	if (fd < 0)
		return 0;
	/* In batches: a lookup a slot was 8,192 syscalls a show. */
	v = calloc((size_t)CHUNK * ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (!r) {
		__u32 n = CHUNK;
		int e = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					     v, &n, NULL);

		if (e && errno != ENOENT) {
			r = -errno;
			break;
		}
		for (__u32 i = 0; i < n * ncpu && !r; i++) {
			const struct nat_fc_slot *s = &v[i];
			struct nat_tuple t = {.src = s->csrc,
					      .dst = s->cdst,
					      .sport = s->csport,
					      .dport = s->cdport,
					      .proto = s->w.proto};
			struct nfct_key k;

			if (!s->ts || !s->packets)
				continue;
			tuple_key(&t, &k);
			r = nfct_pending_add(p, &k, s->dir, s->packets,
					     s->bytes);
		}
		if (e)
			break; /* ENOENT: that was the last batch */
		in = out;
		first = 0;
	}
	free(v);
	return r;
}

static void map_json(struct nfc_nf *nf, int rfd, const struct nat_tuple *k,
		     const struct nat_rev *v, const struct nfct_entry *e,
		     void *arg)
{
	struct list_arg *a = arg;
	json_t *o = json_object();
	char b[64];
	int dnat = v->type == NAT_T_DNAT;
	const char *pn = v->orig.proto == 6    ? "tcp"
			 : v->orig.proto == 17 ? "udp"
			 : v->orig.proto == 1  ? "icmp"
					       : "other";

	(void)nf;
	(void)rfd;
	json_object_set_new(o, "type",
			    json_string(dnat			? "dnat"
					: v->type == NAT_T_MASQ ? "masquerade"
								: "snat"));
	json_object_set_new(o, "proto", json_string(pn));
	orig_str(&v->orig, b, sizeof(b));
	json_object_set_new(o, "key", json_string(b));
	/* inside: the inside host's end; outside: what the far side sees;
	 * remote: the far side. */
	if (dnat) {
		json_object_set_new(
			o, "inside",
			json_string(ap(k->src, k->sport, b, sizeof(b))));
		json_object_set_new(o, "outside",
				    json_string(ap(v->orig.dst, v->orig.dport,
						   b, sizeof(b))));
		json_object_set_new(o, "remote",
				    json_string(ap(v->orig.src, v->orig.sport,
						   b, sizeof(b))));
	} else {
		json_object_set_new(o, "inside",
				    json_string(ap(v->orig.src, v->orig.sport,
						   b, sizeof(b))));
		json_object_set_new(
			o, "outside",
			json_string(ap(k->dst, k->dport, b, sizeof(b))));
		json_object_set_new(o, "remote",
				    json_string(ap(v->orig.dst, v->orig.dport,
						   b, sizeof(b))));
	}
	if (e) {
		struct nfct_entry ec = *e;
		struct nfct_key ck;
		const struct nfct_pend *pd;
		__u32 i = nfct_timeout_index(v->orig.proto, e->state);
		uint64_t to = i < NFCT_T_MAX ? a->cfg.timeout[i] * 1000000000ULL
					     : 0,
			 age = a->now > e->last_ns ? a->now - e->last_ns : 0;

		json_object_set_new(
			o, "state",
			json_string(nfct_state_name(v->orig.proto, e->state)));
		json_object_set_new(
			o, "timeout",
			json_integer(age < to ? (to - age) / 1000000000ULL
					      : 0));
		tuple_key(&v->orig, &ck);
		pd = nfct_pending_find(&a->pend, &ck);
		for (int d = 0; pd && d < 2; d++) {
			ec.packets[d] += pd->packets[d];
			ec.bytes[d] += pd->bytes[d];
		}
		json_object_set_new(o, "packets_orig",
				    json_integer(ec.packets[0]));
		json_object_set_new(o, "bytes_orig", json_integer(ec.bytes[0]));
		json_object_set_new(o, "packets_reply",
				    json_integer(ec.packets[1]));
		json_object_set_new(o, "bytes_reply",
				    json_integer(ec.bytes[1]));
	} else {
		json_object_set_new(o, "state", json_string("gone"));
	}
	json_array_append_new(a->out, o);
}

static int nat_maps_list(struct nfc_nf *nf, json_t *out)
{
	struct list_arg a = {.out = out, .now = nfc_now_ns()};
	int r = fc_pending(nf, &a.pend);

	if (r) {
		nfct_pending_free(&a.pend);
		return nfc_nf_error(nf, -r, "mappings: read the flow cache: %s",
				    strerror(-r));
	}
	nat_ct_cfg(nf, &a.cfg);
	rev_walk(nf, map_json, &a);
	nfct_pending_free(&a.pend);
	return 0;
}

static int nat_maps_list_page(struct nfc_nf *nf, struct nfc_cursor *cur,
			      size_t max, json_t *out)
{
	struct nfc_page_cur *c = (struct nfc_page_cur *)cur->b;
	struct list_arg a = {.out = out, .now = nfc_now_ns()};
	int r;

	if (nfc_page_whole(cur, nfc_map_count(nfc_nf_map_fd(nf, "nat_rev")))) {
		r = nat_maps_list(nf, out);
		return r ? r : (int)json_array_size(out);
	}
	if (c->phase != 1)
		return 0;
	r = fc_pending(nf, &a.pend);
	if (r) {
		nfct_pending_free(&a.pend);
		return nfc_nf_error(nf, -r, "mappings: read the flow cache: %s",
				    strerror(-r));
	}
	nat_ct_cfg(nf, &a.cfg);
	/* An empty page is the end: go on until one holds a mapping. */
	while (!json_array_size(out) && c->phase == 1) {
		long n = rev_walk_from(nf, map_json, &a, &c->w, (long)max);

		if (n < 0) {
			nfct_pending_free(&a.pend);
			return nfc_nf_error(nf, (int)-n,
					    "mappings: read them: %s",
					    strerror((int)-n));
		}
		if (c->w.done)
			c->phase = NFC_PAGE_END;
	}
	nfct_pending_free(&a.pend);
	return (int)json_array_size(out);
}

/* A mapping whose connection the tracker no longer has (expired, evicted,
 * flushed) frees its outside tuple. */
static void map_prune(struct nfc_nf *nf, int rfd, const struct nat_tuple *k,
		      const struct nat_rev *v, const struct nfct_entry *e,
		      void *arg)
{
	const struct nat_xlat *x = e ? (const void *)e->nf_data : NULL;
	int dnat = v->type == NAT_T_DNAT;

	(void)nf;
	(void)arg;
	/* The entry may be a newer connection of the same tuple with another
	 * translation: then this mapping is stale too. */
	if (x && x->ready &&
	    (dnat ? (x->addr == k->src && x->port == k->sport)
		  : (x->addr == k->dst && x->port == k->dport)))
		return;
	if (x && !x->ready)
		return; /* being made */
	bpf_map_delete_elem(rfd, k);
}

/* A masquerade's connection made with the target's old address (arg:
 * it, network order) is forgotten, its mapping with it: its next packet
 * is a new connection that takes the new address, as Linux drops them
 * when the address goes (found by a helper: a running flow kept leaving
 * as the old address, whose replies nobody answered for any more). */
static void map_old_masq(struct nfc_nf *nf, int rfd, const struct nat_tuple *k,
			 const struct nat_rev *v, const struct nfct_entry *e,
			 void *arg)
{
	const struct nat_xlat *x = e ? (const void *)e->nf_data : NULL;
	__be32 old = *(const __be32 *)arg;
	struct nfct_key ck;

	if (v->type != NAT_T_MASQ || k->dst != old)
		return;
	if (x && x->ready && x->addr == old) {
		tuple_key(&v->orig, &ck);
		bpf_map_delete_elem(nfc_nf_map_fd(nf, "ct_table"), &ck);
	}
	bpf_map_delete_elem(rfd, k);
}

static const struct nfc_field nat_map_fields[] = {NFC_FIELDS_END};

static int nat_maps_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	(void)fields;
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "mappings %s: made by traffic the rules translate, "
			    "not added",
			    key);
}

/* As the firewall's conntrack (fw_ct_import): nothing to import. */
static int nat_maps_import(struct nfc_nf *nf, const char *text, size_t len,
			   int replace)
{
	(void)text;
	(void)len;
	(void)replace;
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "mappings: made by traffic the rules translate, "
			    "not imported; 'mappings del all' empties them");
}

/* Deletes the mappings of one connection (arg: its tracker key). */
struct map_del_arg {
	const struct nfct_key *k;
	int n;
};

static void map_del_one(struct nfc_nf *nf, int rfd, const struct nat_tuple *k,
			const struct nat_rev *v, const struct nfct_entry *e,
			void *arg)
{
	struct map_del_arg *a = arg;
	struct nfct_key ck;

	(void)nf;
	(void)e;
	tuple_key(&v->orig, &ck);
	if (!memcmp(&ck, a->k, sizeof(ck)) && !bpf_map_delete_elem(rfd, k))
		a->n++;
}

/* One connection's mapping, by the connection as show prints it
 * ("key": proto,src,sport,dst,dport, untranslated; either
 * direction): its tracker entry and its mapping go, as conntrack -D
 * does in Linux. The connection's next packet is a new one to the rules
 * (TCP picked up midway, README). */
static int maps_del_conn(struct nfc_nf *nf, const char *key)
{
	int tfd = nfc_nf_map_fd(nf, "ct_table");
	struct nfct_key k;
	struct map_del_arg a = {.k = &k};
	char err[256];
	int r;

	if (tfd < 0)
		return nfc_nf_error(nf, ENOENT, "nat: ct_table not found");
	if (nfct_key_parse(key, &k, err, sizeof(err)))
		return nfc_nf_error(nf, EINVAL,
				    "mappings %s: %s; or 'all' (every mapping "
				    "and its connection)",
				    key, err);
	r = nfct_del_fd(tfd, &k);
	rev_walk(nf, map_del_one, &a);
	if (r == -ENOENT && !a.n)
		return nfc_nf_error(nf, ENOENT,
				    "mappings %s: no such connection "
				    "(mappings show gives each one's key)",
				    key);
	if (r && r != -ENOENT)
		return nfc_nf_error(nf, -r, "mappings %s: delete: %s", key,
				    strerror(-r));
	nfct_fc_bump(nf);
	return 0;
}

static int nat_maps_del(struct nfc_nf *nf, const char *key)
{
	if (strcmp(key, "all") && strcmp(key, "flush"))
		return maps_del_conn(nf, key);
	long n = nfct_flush(nf);

	/* Only the mappings whose connection went (map_prune): deleting
	 * every one also took those of connections traffic made again
	 * since the flush, whose replies then passed untranslated, and
	 * whose outside port the next host was given (found by a helper
	 * against Linux's conntrack -F). */
	rev_walk(nf, map_prune, NULL);
	return n < 0 ? (int)n : 0;
}

/* ---- the type ---- */

static int nat_validate(struct nfc_nf *nf, json_t *config)
{
	__u16 lo, hi;
	int r = nat_ports(nf, config, &lo, &hi);

	return r ? r : nfct_validate(nf, config);
}

static int nat_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	return nfct_prepare(nf, obj);
}

static int nat_write_cfg(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "ct_cfg");
	struct nfct_cfg cfg, cur;
	__u32 zero = 0;

	if (fd < 0)
		return nfc_nf_error(nf, ENOENT, "nat: ct_cfg not found");
	nat_ct_cfg(nf, &cfg);
	if (!bpf_map_lookup_elem(fd, &zero, &cur) &&
	    !memcmp(&cur, &cfg, sizeof(cfg)))
		return 0;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return nfc_nf_error(nf, errno, "write timeouts: %s",
				    strerror(errno));
	return 0;
}

static int nat_configure(struct nfc_nf *nf)
{
	int r = nat_write_cfg(nf);

	return r ? r : rules_reapply(nf);
}

static void nat_tick(struct nfc_nf *nf, uint64_t now_ns)
{
	int tfd = nfc_nf_map_fd(nf, "ct_table"),
	    sfd = nfc_nf_map_fd(nf, "nat_set");
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info), zero = 0, addr;
	struct nfct_cfg cfg;
	struct nfct_sweep sw = {0};
	struct nat_set set;

	if (tfd < 0)
		return;
	nat_write_cfg(nf);
	nat_ct_cfg(nf, &cfg);
	if (!bpf_obj_get_info_by_fd(tfd, &info, &len))
		nfct_sweep_slice(tfd, nfc_nf_map_fd(nf, "ct_stats"), &cfg,
				 info.max_entries, now_ns, nfc_walk_cursor(tfd),
				 NFCT_SWEEP_SLICE, &sw);
	if (sw.expired || sw.evicted)
		nfct_fc_bump(nf); /* the data plane's flow cache (nat.bpf.c) */
	/* Mappings of gone connections, 4,096 a tick: each costs a lookup
	 * of its connection (no batch reads by key), and a whole walk of
	 * 60,000 every second held the daemon for a good part of it. */
	rev_walk_from(nf, map_prune, NULL,
		      nfc_walk_cursor(nfc_nf_map_fd(nf, "nat_rev")), 4096);
	/* Masquerade follows the target's address. */
	nat_target_addr4(nf, &addr);
	if (sfd >= 0 && !bpf_map_lookup_elem(sfd, &zero, &set)) {
		int rfd = nfc_nf_map_fd(nf, "nat_rules");
		__u32 h = set.live & 1;

		for (__u32 i = 0; rfd >= 0 && i < set.n[h] && i < NAT_MAX_RULES;
		     i++) {
			struct nat_rule r;
			__u32 k = h * NAT_MAX_RULES + i;

			if (!bpf_map_lookup_elem(rfd, &k, &r) &&
			    r.type == NAT_T_MASQ && r.to_lo != addr) {
				__be32 was = htonl(r.to_lo);

				rules_reapply(nf);
				if (was) {
					rev_walk(nf, map_old_masq, &was);
					nfct_fc_bump(nf);
				}
				break;
			}
		}
	}
}

static const char *const nat_cnt_names[NAT_NCOUNTERS] = {
	[NAT_C_SNAT] = "snat_connections",
	[NAT_C_DNAT] = "dnat_connections",
	[NAT_C_XLATED] = "translated",
	[NAT_C_EXHAUSTED] = "exhausted",
	[NAT_C_TABLE_FULL] = "table_full",
	[NAT_C_NO_ADDR] = "no_address",
	[NAT_C_PASSED] = "passed",
	[NAT_C_RACE] = "race_dropped",
	[NAT_C_BAD] = "malformed",
	[NAT_C_ICMP_ERR] = "icmp_errors_translated",
};

static void nat_stats(struct nfc_nf *nf, int port, json_t *out)
{
	int fd = nfc_nf_map_fd(nf, "nat_cnt"),
	    rfd = nfc_nf_map_fd(nf, "nat_rev");
	json_t *o = json_object();
	long n;

	if (port >= 0 || fd < 0) {
		json_decref(o);
		return;
	}
	nfct_stats(nf, out);
	for (__u32 c = 0; c < NAT_NCOUNTERS; c++)
		json_object_set_new(
			o, nat_cnt_names[c],
			json_integer(nfc_percpu_sum(fd, c, sizeof(__u64), 0)));
	json_object_set_new(out, "nat", o);
	/* The kernel's count of the mappings, not a walk at every show and
	 * metrics scrape. */
	n = nfc_map_count(rfd);
	json_object_set_new(out, "mappings", json_integer(n > 0 ? n : 0));
}

static const struct nfc_stat nat_stats_doc[] = {
	{"nat", NFC_STAT_COUNTER, "what",
	 "connections and packets by what the NAT did"},
	{"mappings", NFC_STAT_GAUGE, NULL, "outside tuples in use"},
	NFCT_STATS_DOC,
	{0},
};

static const struct nfc_collection nat_collections[] = {
	{.name = "rules",
	 .key_doc = "rule number: lower first, the first match decides",
	 .fields = nat_rule_fields,
	 .add = nat_rules_add,
	 .del = nat_rules_del,
	 .list = nat_rules_list,
	 .replace = nat_rules_replace,
	 .check = nat_rules_check},
	{.name = "mappings",
	 .key_doc = "a connection as show prints it "
		    "(proto,src,sport,dst,dport): its mapping and its "
		    "tracker entry go; 'all' removes every one",
	 .fields = nat_map_fields,
	 .add = nat_maps_add,
	 .del = nat_maps_del,
	 .list = nat_maps_list,
	 .import_text = nat_maps_import,
	 .list_page = nat_maps_list_page},
	{0},
};

const struct nfc_nf_type nf_type_nat = {
	.name = "nat",
	.summary = "NAT: snat, masquerade (out), dnat / port "
		   "forwarding (in), on the shared connection tracking",
	.flags = NFC_TYPE_TRANSPARENT,
	.max_ports = 0,
	.config = nat_config,
	.collections = nat_collections,
	.stats_doc = nat_stats_doc,
	.elf_xdp = nat_xdp__elf_bytes,
	.elf_tc = nat_tc__elf_bytes,
	.prepare = nat_prepare,
	.validate = nat_validate,
	.configure = nat_configure,
	.stats = nat_stats,
	.tick = nat_tick,
};
