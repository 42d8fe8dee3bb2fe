// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * capture: transparent; passes everything on and, while the daemon has
 * pcap readers on it, copies what its tcpdump filter matches into a ring
 * buffer (daemon/pcap.c streams it). Config: the filter, snaplen and the
 * ring's size.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nfchain/nf.h"
#include "common.h"
#include "capture/capture.h"
#include "cbpf.h"
#include "capture_xdp.skel.h"
#include "capture_tc.skel.h"

static const struct nfc_field capture_config[] = {
	{.name = "filter",
	 .kind = NFC_F_STRING,
	 .def = "",
	 .max = NFC_EXPR_MAX,
	 .doc = "a tcpdump (pcap-filter) expression; packets it matches are "
		"captured. Empty: every packet. Changed while traffic flows "
		"without loss"},
	{.name = "snaplen",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "cap_snaplen",
	 .def = "262144",
	 .min = 1,
	 .max = CAP_SNAP_MAX,
	 .doc = "bytes of each packet captured at most"},
	{.name = "ring",
	 .kind = NFC_F_STRING,
	 .def = "4M",
	 .doc = "size of the ring buffer between the data plane and the "
		"daemon: a power of two from 4k to 1G (k, M, G suffixes). "
		"Fixed once added"},
	NFC_FIELDS_END,
};

/* "4M" -> 4194304; 0 if not a power of two in 4k..1G. */
static unsigned long long ring_bytes(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s ? s : "", &end, 10);

	if (!s || end == s)
		return 0;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10, end++;
		break;
	case 'm':
	case 'M':
		v <<= 20, end++;
		break;
	case 'g':
	case 'G':
		v <<= 30, end++;
		break;
	}
	if (*end || v < 4096 || v > (1ull << 30) || (v & (v - 1)))
		return 0;
	return v;
}

static const char *cfg_str(json_t *cfg, const char *k)
{
	return json_string_value(json_object_get(cfg, k));
}

static int capture_validate(struct nfc_nf *nf, json_t *cfg)
{
	const char *ring = cfg_str(cfg, "ring"), *expr = cfg_str(cfg, "filter");
	json_t *old = nfc_nf_config(nf);
	char err[NFCI_CBPF_ERRLEN];

	/* libpcap's message for an expression it refuses, then the
	 * verifier's, for both hooks, before anything changes: an NF not
	 * attached yet loads nothing, and a mode change later must not meet
	 * a filter one hook refuses (as the filter NF does). */
	if (expr && *expr &&
	    nfci_cbpf_nf_check(nf, "capture", "filter", expr, CAP_SNAP_MAX, err,
			       sizeof(err)))
		return nfc_nf_error(nf, EINVAL, "filter: %s", err);

	if (!ring_bytes(ring))
		return nfc_nf_error(nf, EINVAL,
				    "ring=%s: expected a power of two from "
				    "4k to 1G bytes (65536, 64k, 4M, 1G)",
				    ring ? ring : "");
	/* The ring is a pinned map kept across reloads; its size is part of
	 * its definition. */
	if (old && cfg_str(old, "ring") &&
	    ring_bytes(cfg_str(old, "ring")) != ring_bytes(ring))
		return nfc_nf_error(nf, EINVAL,
				    "ring=%s: the ring's size is fixed once "
				    "added (%s); delete and add %s again to "
				    "change it",
				    ring, cfg_str(old, "ring"),
				    nfc_nf_name(nf));
	return 0;
}

/* Maps reused from their pins already have their size (and a reused
 * map's size cannot be set). */
static int set_size(struct nfc_nf *nf, struct bpf_object *obj, const char *name,
		    unsigned n)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		return nfc_nf_error(nf, ENOENT, "its object has no map %s",
				    name);
	if (bpf_map__fd(m) >= 0)
		return 0;
	if (bpf_map__set_max_entries(m, n))
		return nfc_nf_error(nf, EINVAL, "map %s: cannot size it %u",
				    name, n);
	return 0;
}

static int capture_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	json_t *cfg = nfc_nf_config(nf);

	return set_size(nf, obj, "cap_ring",
			ring_bytes(cfg_str(cfg, "ring")) ?: CAP_RING_DEFAULT)
		       ?: set_size(nf, obj, "cap_buf", nfc_ncpus());
}

/* The hook the NF's programs were loaded for, from one of them. */
static int nf_hook(struct nfc_nf *nf, int prog_fd, enum nfci_cbpf_hook *hook)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return nfc_nf_error(nf, errno, "cap_match: %s",
				    strerror(errno));
	*hook = info.type == BPF_PROG_TYPE_XDP ? NFCI_CBPF_XDP : NFCI_CBPF_TC;
	return 0;
}

/* What configure installed last, so that a change of something else (an
 * attachment) loads no new filter. */
struct cap_priv {
	char *expr;
	__u32 match_id; /* cap_match's program id: a reload changes it */
};

/* After every load and change: the continuations into their slots (a
 * reload made new ones), then the filter, compiled, translated and loaded
 * beside the NF, swapped in by one write to its slot: every packet meets
 * the old filter or the new. An empty filter empties the slot, which the
 * data plane reads as "match everything". */
static int capture_configure(struct nfc_nf *nf)
{
	const char *expr = cfg_str(nfc_nf_config(nf), "filter") ?: "";
	int jmp = nfc_nf_map_fd(nf, "cap_jmp"),
	    match = nfc_nf_prog_fd(nf, "cap_match"),
	    nomatch = nfc_nf_prog_fd(nf, "cap_nomatch"), fd, r;
	__u32 k, id = 0, len = sizeof(struct bpf_prog_info);
	struct cap_priv *pv = nfc_nf_priv(nf);
	struct bpf_prog_info info = {0};
	char err[NFCI_CBPF_ERRLEN];
	enum nfci_cbpf_hook hook = NFCI_CBPF_XDP;

	if (jmp < 0 || match < 0 || nomatch < 0)
		return nfc_nf_error(nf, ENOENT,
				    "its object lacks cap_jmp, cap_match or "
				    "cap_nomatch");
	if (!bpf_obj_get_info_by_fd(match, &info, &len))
		id = info.id;
	if (!pv) {
		pv = calloc(1, sizeof(*pv));
		if (!pv)
			return nfc_nf_error(nf, ENOMEM, "out of memory");
		nfc_nf_set_priv(nf, pv);
	}
	if (pv->expr && !strcmp(pv->expr, expr) && pv->match_id == id)
		return 0;
	k = NFCI_CBPF_SLOT_MATCH;
	if (bpf_map_update_elem(jmp, &k, &match, 0))
		return nfc_nf_error(nf, errno, "cap_jmp: install cap_match: %s",
				    strerror(errno));
	k = NFCI_CBPF_SLOT_NOMATCH;
	if (bpf_map_update_elem(jmp, &k, &nomatch, 0))
		return nfc_nf_error(nf, errno,
				    "cap_jmp: install cap_nomatch: %s",
				    strerror(errno));
	if (!*expr) {
		k = NFCI_CBPF_SLOT_FILTER;
		bpf_map_delete_elem(jmp, &k);
	} else {
		r = nf_hook(nf, match, &hook);
		if (r)
			return r;
		fd = nfci_cbpf_nf_build(nf, "capture", expr, CAP_SNAP_MAX, hook,
					jmp, err, sizeof(err));
		if (fd < 0)
			return nfc_nf_error(nf, -fd, "filter: %s", err);
		r = nfci_cbpf_install(jmp, fd, err, sizeof(err));
		close(fd);
		if (r)
			return nfc_nf_error(nf, -r, "filter '%s': %s", expr,
					    err);
		nfci_cbpf_nf_keep(nf, "capture", expr, CAP_SNAP_MAX);
	}
	free(pv->expr);
	pv->expr = strdup(expr);
	pv->match_id = id;
	return 0;
}

static void capture_removed(struct nfc_nf *nf, const char *name)
{
	nfci_cbpf_keep_remove(nf, "capture", name);
}

static void capture_destroy(struct nfc_nf *nf)
{
	struct cap_priv *pv = nfc_nf_priv(nf);

	if (pv)
		free(pv->expr);
	free(pv);
}

static void capture_stats(struct nfc_nf *nf, int port, json_t *out)
{
	int fd = nfc_nf_map_fd(nf, "cap_cnt");
	const size_t sz = sizeof(struct cap_cnt);
	struct cap_ctl ctl = {0};

	if (port >= 0)
		return;
	json_object_set_new(
		out, "matched",
		json_integer(nfc_percpu_sum(
			fd, 0, sz, offsetof(struct cap_cnt, matched))));
	json_object_set_new(
		out, "captured",
		json_integer(nfc_percpu_sum(
			fd, 0, sz, offsetof(struct cap_cnt, captured))));
	json_object_set_new(
		out, "lost",
		json_integer(nfc_percpu_sum(fd, 0, sz,
					    offsetof(struct cap_cnt, lost))));
	nfc_array_read(nfc_nf_map_fd(nf, "cap_ctl"), &ctl, sizeof(ctl), 1);
	json_object_set_new(out, "readers", json_integer(ctl.readers));
	json_object_set_new(out, "reader_dropped",
			    json_integer(ctl.reader_dropped));
}

static const struct nfc_stat capture_stats_doc[] = {
	{"matched", NFC_STAT_COUNTER, NULL,
	 "packets the filter matched while a reader was attached"},
	{"captured", NFC_STAT_COUNTER, NULL,
	 "packets written to the ring buffer"},
	{"lost", NFC_STAT_COUNTER, NULL,
	 "packets matched but lost: the ring buffer was full"},
	{"readers", NFC_STAT_GAUGE, NULL, "pcap streams open on the NF"},
	{"reader_dropped", NFC_STAT_COUNTER, NULL,
	 "packets a pcap reader missed because it read too slowly (summed "
	 "over readers)"},
	{0},
};

const struct nfc_nf_type nf_type_capture = {
	.name = "capture",
	.summary = "passes everything on, captures what a "
		   "tcpdump filter matches (pcap streams)",
	.flags = NFC_TYPE_TRANSPARENT | NFC_TYPE_FILTER_CALLS,
	.max_ports = 0,
	.config = capture_config,
	.stats_doc = capture_stats_doc,
	.elf_xdp = capture_xdp__elf_bytes,
	.elf_tc = capture_tc__elf_bytes,
	.validate = capture_validate,
	.prepare = capture_prepare,
	.configure = capture_configure,
	.destroy = capture_destroy,
	.removed = capture_removed,
	.stats = capture_stats,
};
