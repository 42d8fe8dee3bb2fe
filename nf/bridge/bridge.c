// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bridge: the control plane of the learning switch (data plane:
 * bridge.bpf.c, shared layouts: bridge.h). This file holds the NF type
 * (its fields, the fdb collection's declaration, stats' documentation),
 * prepare/validate and the forwarding cache's generation; the rest is in
 * the br_*.c files beside it (README.md, "Files", has the map; br_int.h
 * what they share).
 *
 * Stateless by design: everything it needs is in the bridge's pinned maps
 * and in the model (config, ports), so a process that adopts a running
 * bridge (nfctl, a restarted daemon) has nothing to rebuild.
 */
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>

#include "br_int.h"
#include "bridge_xdp.skel.h"
#include "bridge_tc.skel.h"

/* ---- declaration ---- */

static const struct nfc_field br_config[] = {
	{.name = "aging",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "br_aging_s",
	 .def = "300",
	 .min = 0,
	 .max = 1000000,
	 .doc = "seconds a learned entry lives without a frame from its "
		"station; 0: never ages"},
	{.name = "fdb_size",
	 .kind = NFC_F_UINT,
	 .def = "65536",
	 .min = 256,
	 .max = 16777216,
	 .doc = "learned entries at most; when full the least recently used "
		"is evicted (counted). Fixed when the bridge is created"},
	NFC_FIELDS_END,
};

static const struct nfc_field br_port_config[] = {
	{.name = "mode",
	 .kind = NFC_F_ENUM,
	 .def = "access",
	 .choices = "access|trunk",
	 .doc = "access: one VLAN, untagged on the wire; trunk: tagged VLANs "
		"(allowed) and an optional untagged one (native)"},
	{.name = "vlan",
	 .kind = NFC_F_UINT,
	 .def = "1",
	 .min = 1,
	 .max = BR_VID_MAX,
	 .doc = "access port: its VLAN"},
	{.name = "allowed",
	 .kind = NFC_F_UINT_LIST,
	 .min = 1,
	 .max = BR_VID_MAX,
	 .doc = "trunk port: the VLANs it carries tagged (required, "
		"like 10,20)"},
	{.name = "native",
	 .kind = NFC_F_UINT,
	 .def = "0",
	 .min = 0,
	 .max = BR_VID_MAX,
	 .doc = "trunk port: the VLAN of its untagged frames, sent untagged; "
		"0: none (untagged frames are dropped)"},
	NFC_FIELDS_END,
};

static const struct nfc_field br_fdb_fields[] = {
	{.name = "port",
	 .kind = NFC_F_PORT,
	 .flags = NFC_FIELD_REQUIRED,
	 .doc = "the port the MAC address is behind"},
	{.name = "vlan",
	 .kind = NFC_F_UINT,
	 .min = 1,
	 .max = BR_VID_MAX,
	 .doc = "its VLAN (default: the key's @VID, else 1)"},
	NFC_FIELDS_END,
};

static const struct nfc_collection br_collections[] = {
	{.name = "fdb",
	 .key_doc = "MAC address, or MAC@VID to name its VLAN",
	 .fields = br_fdb_fields,
	 .add = br_fdb_add,
	 .del = br_fdb_del,
	 .list = br_fdb_list,
	 .list_page = br_fdb_list_page},
	{0},
};

/* ---- the forwarding cache's generation ---- */

/* Bump the FDB's generation: every forwarding cache entry made before is
 * void (bridge.bpf.c). Through a mapping of the map: the data plane bumps
 * it too, with an atomic add, and a lookup-then-update from here could
 * undo one of those. */
static void gen_bump(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "br_gen");
	long page = sysconf(_SC_PAGESIZE);
	__u64 *g;

	if (fd < 0)
		return;
	g = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (g == MAP_FAILED)
		return;
	__atomic_fetch_add(g, 1, __ATOMIC_SEQ_CST);
	munmap(g, page);
}

/*
 * The forwarding caches hold whole decisions and the hit path checks
 * nothing but the generation, so every change of the maps voids them:
 * after a configure (even one that failed part-way), a change of the
 * fdb, and every tick (so that each station in use is seen by learning,
 * and refreshed, at least once a tick). A flood through the slow path
 * changes nothing the caches hold.
 */
static void br_changed(struct nfc_nf *nf, enum nfc_change why)
{
	if (why != NFC_CHANGE_PACKET_IN)
		gen_bump(nf);
}

/* ---- lifecycle ---- */

static int br_validate(struct nfc_nf *nf, json_t *config)
{
	json_t *old = nfc_nf_config(nf);
	json_t *o = json_object_get(old, "fdb_size");
	json_t *n = json_object_get(config, "fdb_size");

	if (o && n && json_integer_value(o) != json_integer_value(n))
		return nfc_nf_error(nf, EINVAL,
				    "fdb_size is fixed when the bridge is "
				    "created (it sizes a pinned map); delete "
				    "and add %s again to change it",
				    nfc_nf_name(nf));
	return br_ports_check(nf);
}

static int br_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	json_t *cfg = nfc_nf_config(nf);
	struct bpf_map *fdb = bpf_object__find_map_by_name(obj, "br_fdb");
	unsigned size = json_integer_value(json_object_get(cfg, "fdb_size"));

	/* A bridge reloaded keeps its pinned FDB whatever this says; a new
	 * one gets its map sized here. */
	if (fdb && size)
		bpf_map__set_max_entries(fdb, size);
	return 0;
}

static const struct nfc_stat br_stats_doc[] = {
#define BR_C_STAT(id, name, doc) {name, NFC_STAT_COUNTER, NULL, doc},
#define BR_C_JSON(id, name, doc) {name, NFC_STAT_JSON_ONLY, NULL, doc},
	BR_C_FRAMES(BR_C_STAT) BR_C_CONTROL(BR_C_STAT) BR_C_DROPS(BR_C_JSON)
#undef BR_C_STAT
#undef BR_C_JSON
		{"dropped", NFC_STAT_COUNTER, "reason",
		 "frames the bridge dropped, by reason (the drop_<reason> "
		 "figures)"},
	{"evicted", NFC_STAT_COUNTER, NULL,
	 "learned entries evicted by a full FDB"},
	{"fdb_learned", NFC_STAT_GAUGE, NULL, "learned entries in the FDB"},
	{"fdb_static", NFC_STAT_GAUGE, NULL, "static entries in the FDB"},
	{0},
};

const struct nfc_nf_type nf_type_bridge = {
	.name = "bridge",
	.summary = "learning L2 switch with 802.1Q VLANs (access and trunk "
		   "ports)",
	.max_ports = NFC_MAX_PORTS,
	.config = br_config,
	.port_config = br_port_config,
	.collections = br_collections,
	.stats_doc = br_stats_doc,
	.elf_xdp = bridge_xdp__elf_bytes,
	.elf_tc = bridge_tc__elf_bytes,
	.prepare = br_prepare,
	.validate = br_validate,
	.configure = br_configure,
	.packet_in = br_packet_in,
	.tick = br_tick,
	.stats = br_stats,
	.changed = br_changed,
	.port_down = br_port_down,
};
