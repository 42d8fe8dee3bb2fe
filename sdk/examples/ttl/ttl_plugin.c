// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ttl_plugin: a control plane in C for the ttl example (docs/sdk.md),
 * loaded with it:
 *
 *     nfchain types load ttl.bpf.o plugin=ttl_plugin.so name=ttlp
 *
 * The object's BTF already gives ttl_dec and the dst collection; the
 * plugin narrows ttl_dec to 1..16 (its own declaration of the field),
 * refuses one value in it with a check of its own (validate: 13, to
 * show where such a check goes), and adds a figure to the NF's stats:
 * how many dst entries the map holds.
 */
#include <errno.h>
#include <bpf/bpf.h>
#include <nfchain/nf.h>

static const struct nfc_field config[] = {
	{.name = "ttl_dec",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RELOAD,
	 .def = "1",
	 .min = 1,
	 .max = 16,
	 .doc = "how much the TTL (hop limit) is lowered, 1..16"},
	NFC_FIELDS_END,
};

static const struct nfc_stat stats_doc[] = {
	{"dst_entries", NFC_STAT_GAUGE, NULL, "entries of the dst collection"},
	{0},
};

/* Entries of the object's coll_dst map, walked key by key. */
static void stats(struct nfc_nf *nf, int port, json_t *out)
{
	int fd = nfc_nf_map_fd(nf, "coll_dst");
	unsigned char k[8], next[8];
	long long n = 0;
	void *prev = NULL;

	if (port >= 0 || fd < 0)
		return;
	while (n < 1 << 20 && !bpf_map_get_next_key(fd, prev, next)) {
		__builtin_memcpy(k, next, sizeof(k));
		prev = k;
		n++;
	}
	json_object_set_new(out, "dst_entries", json_integer(n));
}

/* A validate of its own: runs after the runtime's checks of the fields. */
static int validate(struct nfc_nf *nf, json_t *cfg)
{
	json_t *v = json_object_get(cfg, "ttl_dec");

	if (json_is_integer(v) && json_integer_value(v) == 13)
		return nfc_nf_error(nf, EINVAL,
				    "ttl_plugin: ttl_dec 13 is unlucky");
	return 0;
}

static const struct nfc_nf_type ttl_plugin = {
	.name = "ttl",
	.summary = "TTL rewriter with a C control plane",
	.config = config,
	.stats_doc = stats_doc,
	.validate = validate,
	.stats = stats,
};

NFC_PLUGIN(ttl_plugin);
