// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ddos: transparent early-drop NF (see ddos.bpf.c and README.md): the
 * type, its settings, its stats (drops by reason, buckets and their
 * evictions, top talkers).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "dd_int.h"
#include "ddos_xdp.skel.h"
#include "ddos_tc.skel.h"

static const struct nfc_field dd_config[] = {
	{.name = "syn_cookies",
	 .kind = NFC_F_BOOL,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "dd_syn_cookies",
	 .def = "true",
	 .doc = "answer SYNs with SYN cookies from the data plane when a "
		"destination receives more than syn_rate SYNs a second"},
	{.name = "syn_rate",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "dd_syn_rate",
	 .def = "1000",
	 .min = 1,
	 .max = 100000000,
	 .doc = "SYNs a second to one destination above which it is "
		"protected by SYN cookies"},
	NFC_FIELDS_END,
};

static const struct nfc_collection dd_collections[] = {
	{.name = "blocklist",
	 .key_doc = "source prefix, IPv4 or IPv6 (203.0.113.0/25)",
	 .fields = dd_block_fields,
	 .add = dd_block_add,
	 .del = dd_block_del,
	 .list = dd_block_list,
	 .list_page = dd_block_list_page,
	 /* Swapped as a whole: a feed replaces the list at one instant. */
	 .replace = dd_block_replace,
	 .check_key = dd_block_check,
	 .import_text = dd_block_import,
	 .import_ref = dd_block_import_ref,
	 .get = dd_block_get},
	{.name = "allowlist",
	 .key_doc = "source prefix never limited nor blocked",
	 .fields = dd_allow_fields,
	 .add = dd_allow_add,
	 .del = dd_allow_del,
	 .list = dd_allow_list,
	 .list_page = dd_allow_list_page,
	 /* Swapped as a whole, as the limits: an import or apply of
	  * several entries reaches packets at one instant. */
	 .replace = dd_allow_replace,
	 .check_key = dd_allow_check,
	 .check = dd_allow_check_entry},
	{.name = "limits",
	 .key_doc = "source prefix the limit applies to (0.0.0.0/0: all)",
	 .fields = dd_limit_fields,
	 .add = dd_limit_add,
	 .del = dd_limit_del,
	 .list = dd_limit_list,
	 /* Swapped as a whole: the longest prefix decides, so limits
	  * decide together. */
	 .replace = dd_limit_replace,
	 .check_key = dd_limit_check,
	 .check = dd_limit_check_entry},
	{0},
};

static const char *const stat_names[DD_S_MAX] = {
#define DD_STAT_NAME(n, id, name) [n] = name,
	DD_STATS(DD_STAT_NAME)
#undef DD_STAT_NAME
};

struct talker {
	struct dd_bkt_key k;
	struct dd_bkt b;
};

static int by_packets(const void *a, const void *b)
{
	const struct talker *x = a, *y = b;
	__u64 tx = x->b.packets + x->b.drops, ty = y->b.packets + y->b.drops;

	return tx < ty ? 1 : tx > ty ? -1 : 0;
}

/* Entries of a bucket table, and the heaviest TOP of them in `top`. */
#define TOP 10
static __u64 scan_buckets(int fd, struct talker *top, size_t *ntop)
{
	struct dd_bkt_key k, next;
	void *prev = NULL;
	__u64 n = 0;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		struct talker t;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &t.b))
			continue;
		n++;
		t.k = k;
		if (*ntop < TOP) {
			top[(*ntop)++] = t;
		} else if (by_packets(&t, &top[TOP - 1]) < 0) {
			top[TOP - 1] = t;
		} else {
			continue;
		}
		qsort(top, *ntop, sizeof(*top), by_packets);
	}
	return n;
}

static void dd_stats_cb(struct nfc_nf *nf, int port, json_t *out)
{
	int fd = nfc_nf_map_fd(nf, "dd_stats");
	json_t *drops = json_object(), *ev = json_object();
	uint64_t s[DD_S_MAX] = {0};
	__u64 live_new, live_est;
	struct talker top[TOP * 2];
	size_t ntop = 0;
	json_t *tt = json_array();
	char b[64];

	if (port >= 0 || fd < 0)
		return;
	nfc_percpu_sums(fd, 0, DD_S_MAX, sizeof(__u64), s);
	for (int i = 0; i < DD_S_MAX; i++)
		if (stat_names[i] && !strncmp(stat_names[i], "drop_", 5))
			json_object_set_new(drops, stat_names[i] + 5,
					    json_integer(s[i]));
	json_object_set_new(out, "dropped", drops);
	json_object_set_new(out, "passed", json_integer(s[DD_S_PASS]));
	json_object_set_new(out, "passed_allowlist",
			    json_integer(s[DD_S_PASS_ALLOWLIST]));
	json_object_set_new(out, "passed_not_ip", json_integer(s[DD_S_NOT_IP]));
	json_object_set_new(out, "syncookies_sent",
			    json_integer(s[DD_S_SYNCOOKIE_SENT]));
	json_object_set_new(out, "syncookies_valid",
			    json_integer(s[DD_S_SYNCOOKIE_OK]));
	live_new = scan_buckets(nfc_nf_map_fd(nf, "dd_bkt"), top, &ntop);
	live_est = scan_buckets(nfc_nf_map_fd(nf, "dd_bkt_est"), top, &ntop);
	json_object_set_new(out, "buckets", json_integer(live_new + live_est));
	json_object_set_new(out, "buckets_established", json_integer(live_est));
	/* The LRU tables say nothing when they evict: what was made and
	 * moved, less what is still there, is what they evicted (or what a
	 * limit's delete left to age out). */
	json_object_set_new(
		ev, "new",
		json_integer(
			s[DD_S_BUCKET_NEW] > s[DD_S_BUCKET_PROMOTED] + live_new
				? s[DD_S_BUCKET_NEW] - s[DD_S_BUCKET_PROMOTED] -
					  live_new
				: 0));
	json_object_set_new(
		ev, "established",
		json_integer(s[DD_S_BUCKET_PROMOTED] > live_est
				     ? s[DD_S_BUCKET_PROMOTED] - live_est
				     : 0));
	json_object_set_new(out, "bucket_evictions", ev);
	for (size_t i = 0; i < ntop; i++)
		json_array_append_new(
			tt, json_pack("{s:s,s:I,s:I}", "source",
				      dd_pfx_str(top[i].k.family, 0,
						 top[i].k.addr, b),
				      "packets", (json_int_t)top[i].b.packets,
				      "dropped", (json_int_t)top[i].b.drops));
	/* "/0" is the bucket's address only: keep the address. */
	for (size_t i = 0; i < json_array_size(tt); i++) {
		json_t *e = json_array_get(tt, i);
		char a[64];
		char *sl;

		snprintf(a, sizeof(a), "%s",
			 json_string_value(json_object_get(e, "source")));
		sl = strchr(a, '/');
		if (sl)
			*sl = 0;
		json_object_set_new(e, "source", json_string(a));
	}
	json_object_set_new(out, "top_talkers", tt);
}

static const struct nfc_stat dd_stats_doc[] = {
	{"dropped", NFC_STAT_COUNTER, "reason",
	 "packets dropped, by reason: blocklist, rate, syn (no valid "
	 "cookie while under SYN cookies), malformed"},
	{"passed", NFC_STAT_COUNTER, NULL, "packets let through after checks"},
	{"passed_allowlist", NFC_STAT_COUNTER, NULL,
	 "packets let through by the allowlist"},
	{"passed_not_ip", NFC_STAT_COUNTER, NULL,
	 "packets neither IPv4 nor IPv6 (ARP...), let through"},
	{"syncookies_sent", NFC_STAT_COUNTER, NULL,
	 "SYNs answered with a SYN cookie"},
	{"syncookies_valid", NFC_STAT_COUNTER, NULL,
	 "ACKs let through on a valid SYN cookie"},
	{"buckets", NFC_STAT_GAUGE, NULL, "rate-limit buckets in use"},
	{"buckets_established", NFC_STAT_GAUGE, NULL,
	 "buckets of sources that kept to their limit (out of reach of new "
	 "sources)"},
	{"bucket_evictions", NFC_STAT_COUNTER, "table",
	 "rate-limit buckets evicted from their LRU table"},
	{"top_talkers", NFC_STAT_LIST, NULL,
	 "the heaviest sources of the rate-limit tables"},
	{0},
};

static void dd_tick(struct nfc_nf *nf, uint64_t now_ns)
{
	(void)now_ns;
	dd_block_expire(nf);
}

static void dd_changed(struct nfc_nf *nf, enum nfc_change why)
{
	if (why == NFC_CHANGE_COLLECTION)
		dd_block_rescan(nf);
}

static void dd_destroy(struct nfc_nf *nf)
{
	free(nfc_nf_priv(nf));
	nfc_nf_set_priv(nf, NULL);
}

const struct nfc_nf_type nf_type_ddos = {
	.name = "ddos",
	.summary = "blocklist, allowlist, per-source rate "
		   "limits, SYN cookies",
	.flags = NFC_TYPE_TRANSPARENT,
	.max_ports = 0,
	.config = dd_config,
	.collections = dd_collections,
	.stats_doc = dd_stats_doc,
	.elf_xdp = ddos_xdp__elf_bytes,
	.elf_tc = ddos_tc__elf_bytes,
	.stats = dd_stats_cb,
	.configure = dd_adopt,
	.tick = dd_tick,
	.changed = dd_changed,
	.destroy = dd_destroy,
	.removed = dd_block_removed,
};
