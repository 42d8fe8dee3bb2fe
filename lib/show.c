// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Introspection: show, export, types, counters. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

/* Every port slot of NF nf summed over the CPUs, in one batched lookup:
 * one syscall instead of 64 (a `show` of three NFs made 390 bpf calls,
 * most of its daemon time on these machines). */
static void nf_stats_all(struct nfc *nfc, int nf,
			 struct nfc_port_stats out[NFC_MAX_PORTS])
{
	/* The struct is u64 words only: summed word by word. */
	uint64_t sums[NFC_MAX_PORTS * sizeof(*out) / sizeof(uint64_t)];

	_Static_assert(sizeof(*out) % sizeof(uint64_t) == 0,
		       "nfc_port_stats is read as u64 words");
	if (nfc_percpu_sums(nfc->map_fd[SM_STATS], NFC_GPORT(nf, 0),
			    NFC_MAX_PORTS, sizeof(*out), sums))
		memset(sums, 0, sizeof(sums));
	memcpy(out, sums, sizeof(sums));
}

static json_t *stats_json(const struct nfc_port_stats *s)
{
	return json_pack(
		"{s:I,s:I,s:I,s:I,s:I}", "rx_packets",
		(json_int_t)s->rx_packets, "rx_bytes", (json_int_t)s->rx_bytes,
		"tx_packets", (json_int_t)s->tx_packets, "tx_bytes",
		(json_int_t)s->tx_bytes, "drops", (json_int_t)s->drops);
}

bool nfci_stat_reserved(const char *name)
{
	static const char *const own[] = {"rx_packets", "rx_bytes",
					  "tx_packets", "tx_bytes", "drops"};

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(name, own[i]))
			return true;
	return false;
}

/* The framework's figures, then what the type adds beside them. A type's
 * figure of one of those names took its place (the ddos NF's drops by
 * reason once did: its NF had no drop total left, in JSON or /metrics):
 * the type writes into an object of its own, and only its other keys are
 * taken. */
static json_t *stats_with_type(struct nfc *nfc, int id, int port,
			       const struct nfc_port_stats *s)
{
	const struct nfc_nf_type *t = nfc->m->nfs[id].type;
	json_t *st = stats_json(s), *add;

	if (t->stats) {
		add = json_object();
		t->stats(&nfc->handles[id], port, add);
		json_object_update_missing(st, add);
		json_decref(add);
	}
	return st;
}

static const char *dir_name(int dirs)
{
	return dirs == (DIR_IN | DIR_EG) ? "both"
	       : dirs == DIR_IN		 ? "ingress"
					 : "egress";
}

static json_t *peer_json(const struct model *m, const struct endpoint *e)
{
	char b[80];

	return e->kind == PEER_NONE
		       ? json_null()
		       : json_string(endpoint_str(m, e, b, sizeof(b)));
}

/* "up"; "down": the netdev it was attached to is gone (gone.c);
 * "unconnected": a port without a peer. */
static json_t *state_json(const struct endpoint *e)
{
	return json_string(e->kind == PEER_NONE ? "unconnected"
			   : endpoint_up(e)	? "up"
						: "down");
}

/* Attachments in the order they are crossed on ingress, grouped by target. */
static int att_order(const void *x, const void *y, void *arg)
{
	const struct model *m = arg;
	const struct mattach *a = &m->att[*(const int *)x],
			     *b = &m->att[*(const int *)y];
	char s1[80], s2[80];
	int c = strcmp(endpoint_str(m, &a->target, s1, sizeof(s1)),
		       endpoint_str(m, &b->target, s2, sizeof(s2)));

	return c ? c : a->rank - b->rank;
}

static int sorted_attachments(const struct model *m, int *idx)
{
	int n = 0;

	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++)
		if (m->att[a].used)
			idx[n++] = a;
	qsort_r(idx, n, sizeof(int), att_order, (void *)m);
	return n;
}

static json_t *nf_json(struct nfc *nfc, int id, int with_stats)
{
	const struct mnf *n = &nfc->m->nfs[id];
	json_t *o =
		json_pack("{s:s,s:s,s:s,s:O}", "name", n->name, "type",
			  n->type->name, "mode", n->mode, "config", n->config);
	/* The hook it runs in, and for mode auto why that one. */
	json_object_set_new(
		o, "hook",
		json_string(strcmp(n->mode, "auto") ? n->mode
			    : n->auto_generic && nf_hook(n) == HOOK_XDP
				    ? "xdp-generic"
				    : nfci_hook_name(nf_hook(n))));
	if (!strcmp(n->mode, "auto"))
		json_object_set_new(o, "hook_reason", json_string(n->auto_why));
	/* Which build runs: the file it was upgraded to, its loaded type's
	 * own (was said "built-in", found by a helper), or the built-in. */
	json_object_set_new(o, "object",
			    json_pack("{s:s,s:s}", "source",
				      n->obj[0] ? n->obj
				      : !n->type->elf_xdp && !n->type->elf_tc
					      ? "type"
					      : "built-in",
				      "sha256", n->obj_sha));
	json_t *ports = json_array();
	struct nfc_port_stats st_of[NFC_MAX_PORTS], all = {0};

	if (with_stats)
		nf_stats_all(nfc, id, st_of);

	for (int p = 0; p < NFC_MAX_PORTS; p++) {
		const struct mport *mp = &n->ports[p];
		json_t *po;

		if (!mp->used)
			continue;
		po = json_pack("{s:s,s:o,s:o,s:O}", "name", mp->name, "peer",
			       peer_json(nfc->m, &mp->peer), "state",
			       state_json(&mp->peer), "config", mp->config);
		if (with_stats) {
			json_object_set_new(
				po, "stats",
				stats_with_type(nfc, id, p, &st_of[p]));
		}
		json_array_append_new(ports, po);
	}
	json_object_set_new(o, "ports", ports);
	if (n->type->flags & NFC_TYPE_TRANSPARENT) {
		json_t *atts = json_array();

		for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
			const struct mattach *at = &nfc->m->att[a];
			json_t *ao;

			if (!at->used || at->nf != id)
				continue;
			ao = json_pack("{s:o,s:s,s:i,s:o}", "target",
				       peer_json(nfc->m, &at->target),
				       "direction", dir_name(at->dirs),
				       "position", at->rank, "state",
				       state_json(&at->target));
			/* the NF's ports this attachment owns: what its
			 * in_port says (a capture's pcapng names them) */
			json_object_set_new(ao, "ports",
					    json_pack("{s:i,s:i}", "ingress",
						      2 * at->pair, "egress",
						      2 * at->pair + 1));
			if (with_stats) {
				json_t *st = json_object();
				const struct nfc_port_stats
					in = st_of[2 * at->pair],
					eg = st_of[2 * at->pair + 1];
				json_object_set_new(
					st, "ingress_packets",
					json_integer(in.rx_packets));
				json_object_set_new(st, "ingress_bytes",
						    json_integer(in.rx_bytes));
				json_object_set_new(
					st, "egress_packets",
					json_integer(eg.rx_packets));
				json_object_set_new(st, "egress_bytes",
						    json_integer(eg.rx_bytes));
				json_object_set_new(
					st, "drops",
					json_integer(in.drops + eg.drops));
				json_object_set_new(ao, "stats", st);
			}
			json_array_append_new(atts, ao);
		}
		json_object_set_new(o, "attachments", atts);
	}
	if (with_stats) {
		/* Ports replaced since the NF was made (retire_stats, in
		 * reconcile.c) count in its totals still. */
		if (nfc_percpu_sums(nfc->map_fd[SM_STATS],
				    NFC_STATS_RETIRED(id), 1, sizeof(all),
				    (uint64_t *)&all))
			memset(&all, 0, sizeof(all));
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			all.rx_packets += st_of[p].rx_packets;
			all.rx_bytes += st_of[p].rx_bytes;
			all.tx_packets += st_of[p].tx_packets;
			all.tx_bytes += st_of[p].tx_bytes;
			all.drops += st_of[p].drops;
		}
		json_object_set_new(o, "stats",
				    stats_with_type(nfc, id, -1, &all));
	}
	return o;
}

static json_t *nf_export(struct nfc *nfc, int id, bool colls);

/* NF `name` as show (with stats) or export (without collections) has it. */
static json_t *one_nf(struct nfc *nfc, const char *name, bool export)
{
	json_t *o = NULL;
	int id;

	if (nfci_begin_ro(nfc))
		return NULL;
	id = model_find_nf(nfc->m, name);
	if (id >= 0)
		o = export ? nf_export(nfc, id, false) : nf_json(nfc, id, 1);
	else
		nfci_err(nfc, ENOENT, "NF %s does not exist", name);
	nfci_end(nfc);
	return o;
}

json_t *nfc_show_nf(struct nfc *nfc, const char *name)
{
	return one_nf(nfc, name, false);
}

json_t *nfc_show(struct nfc *nfc)
{
	json_t *doc, *nfs, *atts, *hooks;
	int *idx, n;

	if (nfci_begin_ro(nfc))
		return NULL;
	doc = json_object();
	nfs = json_array();
	atts = json_array();
	hooks = json_array();
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (nfc->m->nfs[i].used)
			json_array_append_new(nfs, nf_json(nfc, i, 1));
	idx = malloc(sizeof(int) * NFC_MAX_ATTACHMENTS);
	n = idx ? sorted_attachments(nfc->m, idx) : 0;
	for (int k = 0; k < n; k++) {
		const struct mattach *at = &nfc->m->att[idx[k]];

		json_array_append_new(
			atts,
			json_pack("{s:s,s:o,s:s,s:i,s:o}", "nf",
				  nfc->m->nfs[at->nf].name, "target",
				  peer_json(nfc->m, &at->target), "direction",
				  dir_name(at->dirs), "position", at->rank,
				  "state", state_json(&at->target)));
	}
	free(idx);
	for (int s = 0; s < NFC_MAX_STUBS; s++) {
		const struct mstub *st = &nfc->m->stubs[s];
		struct endpoint dev = {.kind = PEER_DEV,
				       .ifindex = st->ifindex};

		if (!st->used)
			continue;
		snprintf(dev.dev, sizeof(dev.dev), "%s", st->dev);
		json_array_append_new(
			hooks,
			json_pack(
				"{s:s,s:i,s:s,s:s,s:o}", "netdev", st->dev,
				"ifindex", st->ifindex, "hook",
				st->hook == HOOK_TC ? "tc"
						    : (st->xdp_flags & (1 << 1)
							       ? "xdp-generic"
							       : "xdp"),
				"direction", st->egress ? "egress" : "ingress",
				"state", state_json(&dev)));
	}
	json_object_set_new(doc, "nfs", nfs);
	json_object_set_new(doc, "attachments", atts);
	json_object_set_new(doc, "hooks", hooks);
	nfci_end(nfc);
	return doc;
}

json_t *nfc_export(struct nfc *nfc)
{
	return export_doc(nfc, true);
}

/* An NF's collections for an export: each collection object copied, its
 * entries shared. A collection is edited in place (an entry set or
 * deleted, an import's update), so a document must not share it; an
 * entry never is: it is replaced whole (import_swap's copies share them
 * too). A deep copy doubled the daemon's memory for a large collection
 * (its saved document is an export): ~10 MB more at 20,000 routes. */
static json_t *colls_copy(const struct nfc_nf_type *t, json_t *colls)
{
	json_t *o = json_object(), *v;
	const char *k;

	/* An emptied collection is as none: the model keeps {} after the
	 * last delete, a restore does not, and two exports of one state
	 * differed. In the type's order of collections, for the same
	 * reason (the model keeps the order they were first used in). */
	for (const struct nfc_collection *c = t->collections; c && c->name; c++)
		if ((v = json_object_get(colls, c->name)) &&
		    json_object_size(v))
			json_object_set_new(o, c->name, json_copy(v));
	json_object_foreach (colls, k, v)
		if (json_object_size(v) && !json_object_get(o, k))
			json_object_set_new(o, k, json_copy(v));
	return o;
}

/* A config in its type's order of fields (the rest after): the model
 * keeps the order it was given in, which a restore does not, and two
 * exports of one state differed. */
static json_t *config_copy(const struct nfc_field *f, json_t *cfg)
{
	json_t *o = json_object(), *v;
	const char *k;

	for (; f && f->name; f++)
		if ((v = json_object_get(cfg, f->name)))
			json_object_set_new(o, f->name, json_deep_copy(v));
	json_object_foreach (cfg, k, v)
		if (!json_object_get(o, k))
			json_object_set_new(o, k, json_deep_copy(v));
	return o;
}

/* NF `id` as the export shows it; with its collections or without. */
static json_t *nf_export(struct nfc *nfc, int id, bool colls)
{
	const struct mnf *nf = &nfc->m->nfs[id];
	json_t *ports = json_array(), *o;

	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (nf->ports[p].used)
			json_array_append_new(
				ports,
				json_pack("{s:s,s:o,s:o}", "name",
					  nf->ports[p].name, "peer",
					  peer_json(nfc->m, &nf->ports[p].peer),
					  "config",
					  config_copy(nf->type->port_config,
						      nf->ports[p].config)));
	/* Copies, not references: a collection change edits the
	 * model's objects in place, and a document sharing them would
	 * change after it was taken (the daemon compares the state it
	 * saved with the next export, and skipped every save after an
	 * NF's first collection change). */
	o = json_pack("{s:s,s:s,s:s,s:o,s:o}", "name", nf->name, "type",
		      nf->type->name, "mode", nf->mode, "config",
		      config_copy(nf->type->config, nf->config), "ports",
		      ports);
	if (nf->obj[0])
		json_object_set_new(o, "object", json_string(nf->obj));
	if (colls) {
		json_t *c = colls_copy(nf->type, nf->colls);

		if (json_object_size(c))
			json_object_set_new(o, "collections", c);
		else
			json_decref(c);
	}
	return o;
}

/* colls false: without collections, for a caller that needs the rest only
 * (nfc_apply's way back): copying 10,000 routes was a third of a no-op
 * apply. */
json_t *export_doc(struct nfc *nfc, bool colls)
{
	json_t *doc, *nfs, *atts;
	int *idx, n;

	if (nfci_begin_ro(nfc))
		return NULL;
	doc = json_object();
	nfs = json_array();
	atts = json_array();
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (nfc->m->nfs[i].used)
			json_array_append_new(nfs, nf_export(nfc, i, colls));
	idx = malloc(sizeof(int) * NFC_MAX_ATTACHMENTS);
	n = idx ? sorted_attachments(nfc->m, idx) : 0;
	for (int k = 0; k < n; k++) {
		const struct mattach *at = &nfc->m->att[idx[k]];

		json_array_append_new(
			atts, json_pack("{s:s,s:o,s:s}", "nf",
					nfc->m->nfs[at->nf].name, "target",
					peer_json(nfc->m, &at->target),
					"direction", dir_name(at->dirs)));
	}
	free(idx);
	json_object_set_new(doc, "nfs", nfs);
	json_object_set_new(doc, "attachments", atts);
	nfci_end(nfc);
	return doc;
}

json_t *nfc_export_nf(struct nfc *nfc, const char *name)
{
	return one_nf(nfc, name, true);
}

static const char *kind_name(enum nfc_field_kind k)
{
	static const char *const names[] = {
		[NFC_F_UINT] = "uint",	   [NFC_F_BOOL] = "bool",
		[NFC_F_STRING] = "string", [NFC_F_ENUM] = "enum",
		[NFC_F_MAC] = "mac",	   [NFC_F_IPV4] = "ipv4",
		[NFC_F_PREFIX] = "prefix", [NFC_F_UINT_LIST] = "uint-list",
		[NFC_F_PORT] = "port",	   [NFC_F_IP] = "ip",
	};
	return names[k];
}

static json_t *fields_json(const struct nfc_field *f)
{
	json_t *a = json_array();

	for (; f && f->name; f++) {
		json_t *o = json_pack("{s:s,s:s,s:b,s:b}", "name", f->name,
				      "kind", kind_name(f->kind), "required",
				      !!(f->flags & NFC_FIELD_REQUIRED),
				      "reload", nfc_field_reloads(f));

		if (f->def)
			json_object_set_new(o, "default", json_string(f->def));
		if (f->kind == NFC_F_UINT || f->kind == NFC_F_UINT_LIST) {
			json_object_set_new(o, "min", json_integer(f->min));
			json_object_set_new(o, "max", json_integer(f->max));
		}
		if (f->kind == NFC_F_STRING)
			json_object_set_new(
				o, "max_length",
				json_integer(f->max > 0 ? f->max : 255));
		if (f->choices)
			json_object_set_new(o, "choices",
					    json_string(f->choices));
		if (f->doc)
			json_object_set_new(o, "doc", json_string(f->doc));
		json_array_append_new(a, o);
	}
	return a;
}

/* What a type's stats callback adds, as declared: /metrics types and
 * documents those figures from it. */
static json_t *stats_doc_json(const struct nfc_stat *s)
{
	json_t *a = json_array();

	for (; s && s->name; s++) {
		const char *kind = s->kind == NFC_STAT_GAUGE	   ? "gauge"
				   : s->kind == NFC_STAT_JSON_ONLY ? "json-only"
				   : s->kind == NFC_STAT_LIST	   ? "list"
								   : "counter";
		json_t *o = json_pack("{s:s,s:s,s:s}", "name", s->name, "kind",
				      kind, "help", s->help ? s->help : "");

		if (s->label)
			json_object_set_new(o, "label", json_string(s->label));
		json_array_append_new(a, o);
	}
	return a;
}

json_t *nfc_types(void)
{
	const struct nfc_nf_type *const *all = nfci_type_all();
	json_t *arr = json_array();

	for (int i = 0; all[i]; i++) {
		const struct nfc_nf_type *t = all[i];
		json_t *colls = json_array(), *pn = json_null();

		for (const struct nfc_collection *c = t->collections;
		     c && c->name; c++)
			json_array_append_new(
				colls,
				json_pack("{s:s,s:s,s:o}", "name", c->name,
					  "key", c->key_doc, "fields",
					  fields_json(c->fields)));
		if (t->port_names) {
			pn = json_array();
			for (int k = 0; t->port_names[k]; k++)
				json_array_append_new(
					pn, json_string(t->port_names[k]));
		}
		json_array_append_new(
			arr,
			json_pack(
				"{s:s,s:s,s:b,s:i,s:o,s:o,s:o,s:o,s:o}", "name",
				t->name, "summary", t->summary, "transparent",
				!!(t->flags & NFC_TYPE_TRANSPARENT),
				"max_ports", t->max_ports, "port_names", pn,
				"config", fields_json(t->config), "port_config",
				fields_json(t->port_config), "collections",
				colls, "stats", stats_doc_json(t->stats_doc)));
		if (nfc_type_loaded(t->name))
			json_object_set_new(json_array_get(arr, i), "loaded",
					    json_true());
	}
	return arr;
}

json_t *nfc_global_stats(struct nfc *nfc)
{
	int ncpu = libbpf_num_possible_cpus();
	json_t *o, *drops;
	__u64 *v;

	if (nfci_begin_ro(nfc))
		return NULL;
	o = json_object();
	drops = json_object();
	v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));
	for (__u32 k = 0; v && k < NFC_G_SLOTS; k++) {
		__u64 sum = 0;

		if (nfc->map_fd[SM_GLOBAL] < 0 ||
		    bpf_map_lookup_elem(nfc->map_fd[SM_GLOBAL], &k, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += v[c];
		if (k == NFC_G_PKTIN)
			json_object_set_new(o, "slow_path_events",
					    json_integer(sum));
		else if (k == NFC_G_PKTIN_LOST)
			json_object_set_new(o, "slow_path_ring_drops",
					    json_integer(sum));
		else if (k > 0 && k < NFC_REASON_MAX && sum)
			json_object_set_new(drops, nfc_reason_name(k),
					    json_integer(sum));
	}
	free(v);
	json_object_set_new(o, "drops_by_reason", drops);
	nfci_end(nfc);
	return o;
}

int nfc_nf_map_open(struct nfc *nfc, const char *name, const char *type,
		    const char *map)
{
	int id, fd;

	if (nfci_begin_ro(nfc))
		return -EIO;
	id = model_find_nf(nfc->m, name);
	if (id < 0)
		fd = nfci_err(nfc, ENOENT, "NF %s does not exist", name);
	else if (type && strcmp(nfc->m->nfs[id].type->name, type))
		fd = nfci_err(nfc, EINVAL, "NF %s is a %s, not a %s", name,
			      nfc->m->nfs[id].type->name, type);
	else if ((fd = dp_nf_map_fd(nfc, id, map)) < 0)
		fd = nfci_err(nfc, -fd, "NF %s: map %s: %s", name, map,
			      strerror(-fd));
	else if ((fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		fd = nfci_err(nfc, errno, "NF %s: map %s: %s", name, map,
			      strerror(errno));
	nfci_end(nfc);
	return fd;
}
