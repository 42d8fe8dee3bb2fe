// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * firewall: the NF type (fields, the rules collection, stats). A transparent
 * NF: attached to a netdev, a router or bridge port, both directions.
 *
 * The rules live in the pinned record fw_rules (by number), never only
 * here: every CLI call is a new process and the daemon restarts. Any change
 * (an add, a del, a whole set) compiles the complete new set (fw_build.c)
 * and switches the data plane to it at one instant (fw_tables.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nfchain/nf.h"
#include "conntrack.h"
#include "fw_int.h"
#include "firewall_xdp.skel.h"
#include "firewall_tc.skel.h"

static const struct nfc_field fw_config[] = {
	{.name = "default",
	 .kind = NFC_F_ENUM,
	 .flags = NFC_FIELD_RELOAD,
	 .choices = "accept|drop",
	 .def = "accept",
	 .doc = "what a packet no rule matches gets"},
	{.name = "conntrack",
	 .kind = NFC_F_BOOL,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "fw_conntrack",
	 .def = "true",
	 .doc = "track connections (state= in rules); off: a stateless "
		"filter"},
	{.name = "verdict_cache",
	 .kind = NFC_F_BOOL,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "fw_vcache",
	 .def = "true",
	 .doc = "conntrack=off: a flow's next packets take its first's verdict "
		"from a per-CPU cache, without the tables (off: every packet "
		"is classified)"},
	NFCT_CONFIG_FIELDS,
	NFC_FIELDS_END,
};

static const struct nfc_field fw_rule_fields[] = {
	{.name = "action",
	 .kind = NFC_F_ENUM,
	 .flags = NFC_FIELD_REQUIRED,
	 .choices = "accept|drop|reject",
	 .doc = "what a matching packet gets; reject: a TCP RST or an ICMP "
		"port unreachable back to the sender"},
	{.name = "dir",
	 .kind = NFC_F_ENUM,
	 .choices = "in|out|any",
	 .doc = "in: entering the attachment's target; out: leaving it"},
	{.name = "src",
	 .kind = NFC_F_STRING,
	 .doc = "source IPv4 or IPv6 prefix (the rule then applies to that "
		"family only)"},
	{.name = "dst", .kind = NFC_F_STRING, .doc = "destination prefix"},
	{.name = "proto",
	 .kind = NFC_F_STRING,
	 .doc = "tcp, udp, icmp, icmpv6, sctp, udplite, any or 0-255"},
	{.name = "sport",
	 .kind = NFC_F_STRING,
	 .doc = "source port: 80, a range 1000-2000 or a list 80,443,8000-8080 "
		"(needs proto=tcp or udp)"},
	{.name = "dport",
	 .kind = NFC_F_STRING,
	 .doc = "destination port, as "
		"sport"},
	{.name = "state",
	 .kind = NFC_F_STRING,
	 .doc = "conntrack states, a list of new, established, related, "
		"invalid (needs conntrack=on)"},
	NFC_FIELDS_END,
};

static int fw_conntrack_on(struct nfc_nf *nf)
{
	json_t *v = json_object_get(nfc_nf_config(nf), "conntrack");

	return !v || json_is_true(v);
}

/* The data plane switched to exactly `rules` (sorted). */
static int rules_apply(struct nfc_nf *nf, const void *rules, __u32 n)
{
	struct fw_tables t;
	uint64_t t0 = nfc_now_ns();
	int r = fw_build(rules, n, &t);

	if (r)
		return nfc_nf_error(nf, -r, "rules: compile %u rules: %s", n,
				    strerror(-r));
	if (getenv("NFC_FW_TIMING"))
		fprintf(stderr, "# build %u rules: %.1f ms, %u classes\n", n,
			(nfc_now_ns() - t0) / 1e6, t.ncls);
	t0 = nfc_now_ns();
	r = fw_tables_write(nf, &t);
	if (getenv("NFC_FW_TIMING"))
		fprintf(stderr, "# write: %.1f ms\n",
			(nfc_now_ns() - t0) / 1e6);
	fw_tables_free(&t);
	return r;
}

static const struct nfc_rules fw_rules_d = {
	.map = "fw_rules",
	.size = sizeof(struct fw_rule),
	.max = FW_MAX_RULES,
	.holder = "the firewall",
	.apply = rules_apply,
};

/* Every rule of the record, sorted by number; *n of them. */
static int rules_load(struct nfc_nf *nf, struct fw_rule **out, __u32 *n,
		      __u32 extra)
{
	return nfc_rules_load(nf, &fw_rules_d, (void **)out, n, extra);
}

static int fw_rules_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct fw_rule nr;
	char err[320];
	int r = fw_rule_parse(key, fields, fw_conntrack_on(nf), &nr, err,
			      sizeof(err));

	if (r)
		return nfc_nf_error(nf, -r, "%s", err);
	return nfc_rules_add(nf, &fw_rules_d, key, &nr);
}

/* A rule of an apply's document, against the document's config: refused
 * before the apply changes anything (a default changed in the same
 * document would otherwise run until the rule's refusal undid it). */
static int fw_rules_check(struct nfc_nf *nf, json_t *config, const char *key,
			  json_t *fields)
{
	json_t *v = json_object_get(config, "conntrack");
	struct fw_rule nr;
	char err[320];
	int r = fw_rule_parse(key, fields, !v || json_is_true(v), &nr, err,
			      sizeof(err));

	return r ? nfc_nf_entry_error(nf, key, -r, "%s", err) : 0;
}

static int fw_rules_del(struct nfc_nf *nf, const char *key)
{
	return nfc_rules_del(nf, &fw_rules_d, key);
}

/* The record made to hold exactly rs: the old rules it lacks deleted, its
 * rules written, each in one call where the kernel batches (a syscall a
 * rule was a tenth of applying 10,000). */
static int record_write(struct nfc_nf *nf, int fd, const struct fw_rule *rs,
			size_t n, const struct fw_rule *old, __u32 nold)
{
	__u32 *keys = calloc(n + nold + 1, sizeof(*keys)), nd = 0, cnt;
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	int r = 0;

	if (!keys)
		return nfc_nf_error(nf, ENOMEM, "rules: out of memory");
	for (__u32 i = 0; i < nold; i++)
		if (!bsearch(&old[i], rs, n, sizeof(*rs), fw_rule_cmp))
			keys[nd++] = old[i].num;
	cnt = nd;
	if (nd && (bpf_map_delete_batch(fd, keys, &cnt, &o) || cnt != nd))
		for (__u32 i = 0; i < nd; i++)
			bpf_map_delete_elem(fd, &keys[i]);
	for (size_t i = 0; i < n; i++)
		keys[i] = rs[i].num;
	cnt = n;
	if (n && (bpf_map_update_batch(fd, keys, rs, &cnt, &o) || cnt != n))
		for (size_t i = 0; i < n && !r; i++)
			if (bpf_map_update_elem(fd, &rs[i].num, &rs[i],
						BPF_ANY))
				r = nfc_nf_error(nf, errno,
						 "rules: write the record: %s",
						 strerror(errno));
	free(keys);
	return r;
}

/* The whole set at once (apply, import): every rule checked first, the
 * tables switched, then the record made to hold exactly them. */
static int fw_rules_replace(struct nfc_nf *nf, json_t *entries)
{
	int fd = nfc_nf_map_fd(nf, "fw_rules"), r = 0, ct = fw_conntrack_on(nf);
	size_t n = json_object_size(entries), i = 0;
	struct fw_rule *rs, *old = NULL;
	__u32 nold = 0;
	const char *key;
	char err[320];
	json_t *f;

	if (fd < 0)
		return nfc_nf_error(nf, ENOENT,
				    "rules: the record is not "
				    "there");
	rs = calloc(n + 1, sizeof(*rs));
	if (!rs)
		return nfc_nf_error(nf, ENOMEM, "rules: out of memory");
	json_object_foreach (entries, key, f) {
		r = fw_rule_parse(key, f, ct, &rs[i], err, sizeof(err));
		if (r) {
			r = nfc_nf_entry_error(nf, key, -r, "%s", err);
			goto out;
		}
		i++;
	}
	/* Keys are unique and each number has one spelling (nfc_rule_num):
	 * no number is given twice. */
	qsort(rs, n, sizeof(*rs), fw_rule_cmp);
	if (n > FW_MAX_RULES) {
		r = nfc_rules_too_many(nf, rs[FW_MAX_RULES].num, "the firewall",
				       FW_MAX_RULES, n);
		goto out;
	}
	r = rules_apply(nf, rs, n);
	if (r)
		goto out;
	uint64_t t0 = nfc_now_ns();
	r = rules_load(nf, &old, &nold, 0);
	if (r)
		goto out;
	r = record_write(nf, fd, rs, n, old, nold);
	if (getenv("NFC_FW_TIMING"))
		fprintf(stderr, "# record: %.1f ms\n",
			(nfc_now_ns() - t0) / 1e6);
out:
	free(rs);
	free(old);
	return r;
}

static int fw_rules_list(struct nfc_nf *nf, json_t *out)
{
	struct fw_rule *rs = NULL;
	struct fw_hit *hits = calloc(FW_MAX_RULES, sizeof(*hits));
	__u32 *nums = calloc(FW_MAX_RULES, sizeof(*nums)), n;
	int r = rules_load(nf, &rs, &n, 0), nh;

	if (!hits || !nums) {
		r = r ? r : nfc_nf_error(nf, ENOMEM, "rules: out of memory");
		goto out;
	}
	if (r)
		goto out;
	nh = fw_hits_read(nf, hits, nums, FW_MAX_RULES);
	for (__u32 i = 0; i < n; i++) {
		json_t *o = fw_rule_json(&rs[i]);
		__u64 pk = 0, by = 0;

		/* Both lists are in number order. */
		for (int j = 0; j < nh; j++)
			if (nums[j] == rs[i].num) {
				pk = hits[j].packets;
				by = hits[j].bytes;
				break;
			}
		json_object_set_new(o, "packets", json_integer(pk));
		json_object_set_new(o, "bytes", json_integer(by));
		json_array_append_new(out, o);
	}
out:
	free(rs);
	free(hits);
	free(nums);
	return r;
}

static int fw_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	const char *d = json_string_value(
		json_object_get(nfc_nf_config(nf), "default"));

	int r = nfc_obj_set_const(obj, "fw_default",
				  d && !strcmp(d, "drop") ? FW_DROP
							  : FW_ACCEPT);

	return r ? r : nfct_prepare(nf, obj);
}

/* conntrack=off is refused while a rule has state=. */
static int fw_validate(struct nfc_nf *nf, json_t *config)
{
	json_t *ct = json_object_get(config, "conntrack");
	struct fw_rule *rs = NULL;
	__u32 n;
	int r = 0;

	r = nfct_validate(nf, config);
	/* In an apply the document's rules replace these, each checked
	 * against this config already (fw_rules_check). */
	if (r || !ct || json_is_true(ct) || nfc_nf_map_fd(nf, "fw_rules") < 0 ||
	    nfc_nf_applying_doc(nf))
		return r;
	if (rules_load(nf, &rs, &n, 0))
		return 0; /* a new NF: no rules yet */
	for (__u32 i = 0; i < n && !r; i++)
		if (rs[i].state)
			r = nfc_nf_error(nf, EINVAL,
					 "conntrack=off: rule %u has state=; "
					 "delete or change it first",
					 rs[i].num);
	free(rs);
	return r;
}

/* After a load: a firewall that has never had a set gets its record's
 * (empty for a new one), so that the default decides from the start. */
static int fw_configure(struct nfc_nf *nf)
{
	int sfd = nfc_nf_map_fd(nf, "fw_set");
	struct fw_set live = {0};
	__u32 k = FW_SET_LIVE;
	int r;

	if (sfd < 0)
		return nfc_nf_error(nf, ENOENT, "firewall maps not found");
	r = nfct_configure(nf);
	if (r || (!bpf_map_lookup_elem(sfd, &k, &live) && live.gen))
		return r;
	return nfc_rules_reapply(nf, &fw_rules_d);
}

static const char *const fw_cnt_names[FW_NCOUNTERS] = {
	[FW_C_ACCEPT] = "accepted",
	[FW_C_DROP] = "dropped",
	[FW_C_REJECT] = "rejected",
	[FW_C_DEF_ACCEPT] = "default_accepted",
	[FW_C_DEF_DROP] = "default_dropped",
	[FW_C_NOT_IP] = "not_ip",
	[FW_C_ND] = "neighbour_discovery",
	[FW_C_SHORTCUT] = "shortcut",
	[FW_C_BAD] = "malformed",
	[FW_C_NOPORTS] = "ports_unreadable",
	[FW_C_RST_KERNEL] = "rejected_in_kernel",
	[FW_C_RST_LIMITED] = "rejected_rate_limited",
	[FW_C_CLASSIFIED] = "classified",
};

static void fw_stats(struct nfc_nf *nf, int port, json_t *out)
{
	int fd = nfc_nf_map_fd(nf, "fw_cnt"), sfd = nfc_nf_map_fd(nf, "fw_set");
	json_t *o = json_object();
	struct fw_set live = {0}, s = {0};
	uint64_t sums[FW_NCOUNTERS];
	__u32 k = FW_SET_LIVE;

	if (port >= 0 || fd < 0) {
		json_decref(o);
		return;
	}
	nfct_stats(nf, out);
	nfc_percpu_sums(fd, 0, FW_NCOUNTERS, sizeof(__u64), sums);
	for (__u32 c = 0; c < FW_NCOUNTERS; c++)
		json_object_set_new(o, fw_cnt_names[c], json_integer(sums[c]));
	json_object_set_new(out, "packets", o);
	if (sfd >= 0 && !bpf_map_lookup_elem(sfd, &k, &live)) {
		k = FW_SET_HALF(live.live & 1);
		bpf_map_lookup_elem(sfd, &k, &s);
		json_object_set_new(out, "rules", json_integer(s.nrules));
		json_object_set_new(out, "rule_set_switches",
				    json_integer(live.gen));
	}
}

static const struct nfc_stat fw_stats_doc[] = {
	{"packets", NFC_STAT_COUNTER, "verdict",
	 "packets by what the firewall did with them"},
	{"rules", NFC_STAT_GAUGE, NULL, "rules in the live set"},
	{"rule_set_switches", NFC_STAT_COUNTER, NULL,
	 "times a new rule set was switched in"},
	NFCT_STATS_DOC,
	{0},
};

/* ---- conntrack: the tracker's table, shown and pruned ---- */

static const struct nfc_field fw_ct_fields[] = {NFC_FIELDS_END};

static int fw_ct_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	(void)fields;
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "conntrack %s: entries are made by traffic the "
			    "rules accept, not added",
			    key);
}

/* An import is of entries to add: none here. `import --replace` of an
 * empty file said it emptied the table, and every entry stayed (found by
 * a helper). */
static int fw_ct_import(struct nfc_nf *nf, const char *text, size_t len,
			int replace)
{
	(void)text;
	(void)len;
	(void)replace;
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "conntrack: entries are made by traffic, not "
			    "imported; 'conntrack del all' empties it");
}

static int fw_ct_del(struct nfc_nf *nf, const char *key)
{
	if (!key || !strcmp(key, "flush")) {
		long n = nfct_flush(nf);

		return n < 0 ? (int)n : 0;
	}
	return nfct_del(nf, key);
}

static int fw_ct_list(struct nfc_nf *nf, json_t *out)
{
	return nfct_list(nf, out);
}

static void fw_tick(struct nfc_nf *nf, uint64_t now_ns)
{
	nfct_tick(nf, now_ns);
}

static const struct nfc_collection fw_collections[] = {
	{.name = "rules",
	 .key_doc = "rule number: lower first, the first match decides",
	 .fields = fw_rule_fields,
	 .add = fw_rules_add,
	 .del = fw_rules_del,
	 .list = fw_rules_list,
	 /* Swapped as a whole: the first match among them decides. */
	 .replace = fw_rules_replace,
	 .check = fw_rules_check},
	{.name = "conntrack",
	 .key_doc = "proto,src,sport,dst,dport (as show prints it); 'all' or "
		    "'flush' removes every entry",
	 .fields = fw_ct_fields,
	 .add = fw_ct_add,
	 .del = fw_ct_del,
	 .list = fw_ct_list,
	 .import_text = fw_ct_import,
	 .list_page = nfct_list_page},
	{0},
};

const struct nfc_nf_type nf_type_firewall = {
	.name = "firewall",
	.summary = "stateful firewall: numbered rules (first match), "
		   "classification whose cost does not grow with the rules",
	.flags = NFC_TYPE_TRANSPARENT,
	.max_ports = 0,
	.config = fw_config,
	.collections = fw_collections,
	.stats_doc = fw_stats_doc,
	.elf_xdp = firewall_xdp__elf_bytes,
	.elf_tc = firewall_tc__elf_bytes,
	.prepare = fw_prepare,
	.validate = fw_validate,
	.configure = fw_configure,
	.stats = fw_stats,
	.tick = fw_tick,
	.packet_in = fw_packet_in,
};
