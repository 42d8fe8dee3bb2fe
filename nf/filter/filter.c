// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * filter: transparent; drops what a tcpdump expression matches
 * (action=drop) or what it does not (action=keep). The expression is
 * compiled by libpcap and translated to eBPF by lib/cbpf.c; `set expr=`
 * swaps the translated program in one map write while traffic flows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nfchain/nf.h"
#include "cbpf.h"
#include "filter/filter.h"
#include "filter_xdp.skel.h"
#include "filter_tc.skel.h"

static const struct nfc_field filter_config[] = {
	{.name = "expr",
	 .kind = NFC_F_STRING,
	 .flags = NFC_FIELD_REQUIRED,
	 /* Found by a helper: 255 refused what filter-test ran. */
	 .max = NFC_EXPR_MAX,
	 .doc = "a tcpdump (pcap-filter) expression; replaced while traffic "
		"flows: every packet meets the old one or the new"},
	{.name = "action",
	 .kind = NFC_F_ENUM,
	 .flags = NFC_FIELD_RELOAD,
	 .def = "drop",
	 .choices = "drop|keep",
	 .doc = "drop: drop what the expression matches; keep: keep only "
		"what it matches"},
	NFC_FIELDS_END,
};

/* What configure() last installed, so that a configure for another
 * field (or a port) does not reload the same expression. */
struct filter_priv {
	char *expr;
	enum nfci_cbpf_hook hook;
	int jmp_fd; /* identifies the map: it changes if the NF was remade */
};

static const char *cfg_str(json_t *config, const char *name)
{
	return json_string_value(json_object_get(config, name));
}

static int filter_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	const char *a = cfg_str(nfc_nf_config(nf), "action");

	return nfc_obj_set_const(obj, "filter_keep", a && !strcmp(a, "keep"));
}

/* The expression is compiled, translated and passed by the verifier for
 * both hooks before anything changes: a mode change later must not meet
 * an expression one hook refuses. */
static int filter_validate(struct nfc_nf *nf, json_t *config)
{
	const char *expr = cfg_str(config, "expr");
	char err[NFCI_CBPF_ERRLEN];

	if (!expr)
		return nfc_nf_error(nf, EINVAL, "expr is needed");
	if (nfci_cbpf_nf_check(nf, "filter", "expr", expr,
			       NFCI_CBPF_SNAPLEN_MAX, err, sizeof(err)))
		return nfc_nf_error(nf, EINVAL, "%s", err);
	return 0;
}

/* The hook the NF's programs were loaded for, from their type. */
static int nf_hook_of(struct nfc_nf *nf, int prog_fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return nfc_nf_error(nf, errno, "read its program: %s",
				    strerror(errno));
	return info.type == BPF_PROG_TYPE_XDP ? NFCI_CBPF_XDP : NFCI_CBPF_TC;
}

static int filter_configure(struct nfc_nf *nf)
{
	struct filter_priv *pv = nfc_nf_priv(nf);
	const char *expr = cfg_str(nfc_nf_config(nf), "expr");
	int mfd = nfc_nf_prog_fd(nf, "filter_match");
	int nfd = nfc_nf_prog_fd(nf, "filter_nomatch");
	char err[NFCI_CBPF_ERRLEN];
	int hook, jmp, fd, r;
	__u32 k;

	if (mfd < 0 || nfd < 0)
		return nfc_nf_error(nf, ENOENT,
				    "its filter_match and "
				    "filter_nomatch programs are missing");
	hook = nf_hook_of(nf, mfd);
	if (hook < 0)
		return hook;
	jmp = nfc_nf_map_fd(nf, hook == NFCI_CBPF_XDP ? "filter_jmp_xdp"
						      : "filter_jmp_tc");
	if (jmp < 0)
		return nfc_nf_error(nf, ENOENT, "no jump table");
	/* Where the filter goes on before the filter itself: a reload made
	 * new filter_match/nomatch programs (another action). */
	k = NFCI_CBPF_SLOT_MATCH;
	if (bpf_map_update_elem(jmp, &k, &mfd, BPF_ANY))
		goto map_err;
	k = NFCI_CBPF_SLOT_NOMATCH;
	if (bpf_map_update_elem(jmp, &k, &nfd, BPF_ANY))
		goto map_err;
	if (pv && pv->expr && expr && !strcmp(pv->expr, expr) &&
	    pv->hook == (enum nfci_cbpf_hook)hook && pv->jmp_fd == jmp)
		return 0;
	fd = nfci_cbpf_nf_build(nf, "filter", expr, NFCI_CBPF_SNAPLEN_MAX, hook,
				jmp, err, sizeof(err));
	if (fd < 0)
		return nfc_nf_error(nf, -fd, "%s", err);
	r = nfci_cbpf_install(jmp, fd, err, sizeof(err));
	close(fd); /* the jump table holds it */
	if (r)
		return nfc_nf_error(nf, -r, "%s", err);
	nfci_cbpf_nf_keep(nf, "filter", expr, NFCI_CBPF_SNAPLEN_MAX);
	if (!pv) {
		pv = calloc(1, sizeof(*pv));
		if (!pv)
			return 0; /* only the memo is lost */
		nfc_nf_set_priv(nf, pv);
	}
	free(pv->expr);
	pv->expr = strdup(expr);
	pv->hook = hook;
	pv->jmp_fd = jmp;
	return 0;
map_err:
	return nfc_nf_error(nf, errno, "fill its jump table: %s",
			    strerror(errno));
}

static void filter_destroy(struct nfc_nf *nf)
{
	struct filter_priv *pv = nfc_nf_priv(nf);

	if (pv)
		free(pv->expr);
	free(pv);
	nfc_nf_set_priv(nf, NULL);
}

static void filter_removed(struct nfc_nf *nf, const char *name)
{
	nfci_cbpf_keep_remove(nf, "filter", name);
}

static void filter_stats(struct nfc_nf *nf, int port, json_t *out)
{
	static const char *const names[FILTER_C_N] = {"matched", "dropped",
						      "no_filter"};
	int fd = nfc_nf_map_fd(nf, "filter_cnt");

	if (port >= 0 || fd < 0)
		return;
	for (__u32 k = 0; k < FILTER_C_N; k++)
		json_object_set_new(out, names[k],
				    json_integer((json_int_t)nfc_percpu_sum(
					    fd, k, sizeof(__u64), 0)));
}

static const struct nfc_stat filter_stats_doc[] = {
	{"matched", NFC_STAT_COUNTER, NULL, "packets the expression matched"},
	{"dropped", NFC_STAT_COUNTER, NULL,
	 "packets dropped by the action (matched with action=drop, not "
	 "matched with action=keep)"},
	{"no_filter", NFC_STAT_COUNTER, NULL,
	 "packets dropped because no translated expression was in place (or "
	 "the chain had no tail call left)"},
	{0},
};

const struct nfc_nf_type nf_type_filter = {
	.name = "filter",
	.summary = "drops (or keeps only) what a tcpdump "
		   "expression matches",
	.flags = NFC_TYPE_TRANSPARENT | NFC_TYPE_FILTER_CALLS,
	.max_ports = 0,
	.config = filter_config,
	.stats_doc = filter_stats_doc,
	.elf_xdp = filter_xdp__elf_bytes,
	.elf_tc = filter_tc__elf_bytes,
	.prepare = filter_prepare,
	.validate = filter_validate,
	.configure = filter_configure,
	.destroy = filter_destroy,
	.removed = filter_removed,
	.stats = filter_stats,
};
