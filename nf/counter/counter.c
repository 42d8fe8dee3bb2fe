// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * counter: transparent; counts packets and bytes per direction and passes
 * everything on. The smallest example of a transparent NF, and of an NF
 * with a map of its own and a setting the program reads at run time
 * (mark).
 */
#include <stddef.h>
#include <linux/types.h>

#include "nfchain/nf.h"
#include "common.h"
#include "counter/counter.h"
#include "counter_xdp.skel.h"
#include "counter_tc.skel.h"

static const struct nfc_field counter_config[] = {
	{.name = "mark",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "counter_mark",
	 .def = "0",
	 .min = 0,
	 .max = 255,
	 .doc = "if set, shifted into the packet mark as it passes, so the "
		"order of NFs on a path shows downstream"},
	NFC_FIELDS_END,
};

/* Sum of the per-CPU counters of ports matching `parity` (0: ingress side
 * of each attachment, 1: egress side). */
static void sum_dir(struct nfc_nf *nf, int parity, __u64 *pk, __u64 *by)
{
	const size_t words = sizeof(struct counter_val) / sizeof(__u64);
	uint64_t sums[NFC_MAX_PORTS * sizeof(struct counter_val) /
		      sizeof(__u64)];

	*pk = *by = 0;
	/* Every port's slot in one batched lookup, not two a port. */
	if (nfc_percpu_sums(nfc_nf_map_fd(nf, "counter_dir"), 0, NFC_MAX_PORTS,
			    sizeof(struct counter_val), sums))
		return;
	for (__u32 k = parity; k < NFC_MAX_PORTS; k += 2) {
		*pk += sums[k * words +
			    offsetof(struct counter_val, packets) / 8];
		*by += sums[k * words +
			    offsetof(struct counter_val, bytes) / 8];
	}
}

static void counter_stats(struct nfc_nf *nf, int port, json_t *out)
{
	__u64 pk, by;

	if (port >= 0)
		return;
	sum_dir(nf, 0, &pk, &by);
	json_object_set_new(out, "ingress_packets", json_integer(pk));
	json_object_set_new(out, "ingress_bytes", json_integer(by));
	sum_dir(nf, 1, &pk, &by);
	json_object_set_new(out, "egress_packets", json_integer(pk));
	json_object_set_new(out, "egress_bytes", json_integer(by));
}

static const struct nfc_stat counter_stats_doc[] = {
	{"ingress_packets", NFC_STAT_COUNTER, NULL,
	 "packets counted on the ingress side of its attachments"},
	{"ingress_bytes", NFC_STAT_COUNTER, NULL,
	 "bytes counted on the ingress side of its attachments"},
	{"egress_packets", NFC_STAT_COUNTER, NULL,
	 "packets counted on the egress side of its attachments"},
	{"egress_bytes", NFC_STAT_COUNTER, NULL,
	 "bytes counted on the egress side of its attachments"},
	{0},
};

const struct nfc_nf_type nf_type_counter = {
	.name = "counter",
	.summary = "counts packets and bytes per direction",
	.flags = NFC_TYPE_TRANSPARENT,
	.max_ports = 0,
	.config = counter_config,
	.stats_doc = counter_stats_doc,
	.elf_xdp = counter_xdp__elf_bytes,
	.elf_tc = counter_tc__elf_bytes,
	.stats = counter_stats,
};
