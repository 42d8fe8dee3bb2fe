// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfc_apply: moves the running system to a whole desired-state document
 * with the fewest changes. The document is checked whole first (shape,
 * then every edit on a copy of the model, then the data-plane rules); only
 * then is anything touched, in one transaction. An NF whose type, mode and
 * load-time config are unchanged keeps its program: its traffic does not
 * stop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "internal.h"
#include "paths.h"
#include "dataplane.h"

static int only_keys(struct nfc *nfc, json_t *o, const char *where,
		     const char *const *keys)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return nfci_err(nfc, EINVAL, "%s: not an object", where);
	json_object_foreach (o, k, v) {
		int ok = 0;

		for (int i = 0; keys[i]; i++)
			ok |= !strcmp(keys[i], k);
		if (!ok)
			return nfci_err(nfc, EINVAL, "%s: unknown field '%s'",
					where, k);
	}
	return 0;
}

static const char *str_field(struct nfc *nfc, json_t *o, const char *key,
			     const char *where, int required, int *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		if (required)
			*err = nfci_err(nfc, EINVAL,
					"%s: field '%s' is required", where,
					key);
		return NULL;
	}
	if (!json_is_string(v)) {
		*err = nfci_err(nfc, EINVAL, "%s: field '%s' must be a string",
				where, key);
		return NULL;
	}
	return json_string_value(v);
}

/* The name of list element k (checked to be a string). */
static const char *name_at(json_t *list, size_t k)
{
	return json_string_value(
		json_object_get(json_array_get(list, k), "name"));
}

/* Shape only; the edits check the values. */
static int check_shape(struct nfc *nfc, json_t *doc)
{
	static const char *const top[] = {"nfs", "attachments", NULL};
	static const char *const nfk[] = {"name",   "type",    "mode",
					  "config", "ports",   "collections",
					  "object", "migrate", NULL};
	static const char *const pk[] = {"name", "peer", "config", NULL};
	static const char *const ak[] = {"nf", "target", "direction", NULL};
	json_t *nf, *p, *a, *ports;
	size_t i, j;
	char where[128];
	int r = only_keys(nfc, doc, "document", top);

	if (r)
		return r;
	/* A document is the whole state: without its list of NFs (`{}`, a
	 * truncated file) it read as "no NFs" and deleted every one (found
	 * by a helper). An empty state says so: {"nfs": []}. */
	if (!json_object_get(doc, "nfs"))
		return nfci_err(nfc, EINVAL,
				"document: 'nfs' is missing (the whole state "
				"is a list of NFs; an empty one is "
				"{\"nfs\": []})");
	if (!json_is_array(json_object_get(doc, "nfs")))
		return nfci_err(nfc, EINVAL, "document: 'nfs' must be a list");
	if (json_object_get(doc, "attachments") &&
	    !json_is_array(json_object_get(doc, "attachments")))
		return nfci_err(nfc, EINVAL,
				"document: 'attachments' must be a list");
	json_array_foreach (json_object_get(doc, "nfs"), i, nf) {
		const char *name;

		snprintf(where, sizeof(where), "nfs[%zu]", i);
		r = only_keys(nfc, nf, where, nfk);
		if (r)
			return r;
		name = str_field(nfc, nf, "name", where, 1, &r);
		if (!r)
			str_field(nfc, nf, "type", where, 1, &r);
		if (!r)
			str_field(nfc, nf, "mode", where, 0, &r);
		if (r)
			return r;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(name,
				    json_string_value(json_object_get(
					    json_array_get(
						    json_object_get(doc, "nfs"),
						    k),
					    "name"))))
				return nfci_err(nfc, EINVAL,
						"%s: NF %s is listed twice",
						where, name);
		if (json_object_get(nf, "ports") &&
		    !json_is_array(json_object_get(nf, "ports")))
			return nfci_err(nfc, EINVAL,
					"%s: 'ports' must be a list", where);
		if (json_object_get(nf, "collections") &&
		    !json_is_object(json_object_get(nf, "collections")))
			return nfci_err(nfc, EINVAL,
					"%s: 'collections' must be an object",
					where);
		ports = json_object_get(nf, "ports");
		json_array_foreach (ports, j, p) {
			snprintf(where, sizeof(where),
				 "nfs[%zu] (%s).ports[%zu]", i, name, j);
			r = only_keys(nfc, p, where, pk);
			if (!r)
				str_field(nfc, p, "name", where, 1, &r);
			if (!r)
				str_field(nfc, p, "peer", where, 0, &r);
			if (r)
				return r;
			/* the second of two was dropped without a word */
			for (size_t k = 0; k < j; k++)
				if (!strcmp(name_at(ports, j),
					    name_at(ports, k)))
					return nfci_err(
						nfc, EINVAL,
						"%s: port %s is listed twice",
						where, name_at(ports, j));
		}
	}
	json_array_foreach (json_object_get(doc, "attachments"), i, a) {
		snprintf(where, sizeof(where), "attachments[%zu]", i);
		r = only_keys(nfc, a, where, ak);
		if (!r)
			str_field(nfc, a, "nf", where, 1, &r);
		if (!r)
			str_field(nfc, a, "target", where, 1, &r);
		if (!r)
			str_field(nfc, a, "direction", where, 0, &r);
		if (r)
			return r;
	}
	return 0;
}

static void plan_add(json_t *plan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void plan_add(json_t *plan, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!plan)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(plan, json_string(buf));
}

struct apply_ctx {
	json_t *doc;
	json_t *plan;
};

static const char *mode_of(json_t *nf)
{
	const char *m = json_string_value(json_object_get(nf, "mode"));

	return m ? m : "auto";
}

static json_t *doc_nf(json_t *doc, const char *name)
{
	size_t i;
	json_t *nf;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf)
		if (!strcmp(json_string_value(json_object_get(nf, "name")),
			    name))
			return nf;
	return NULL;
}

static json_t *doc_port(json_t *nf, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach (json_object_get(nf, "ports"), i, p)
		if (!strcmp(json_string_value(json_object_get(p, "name")),
			    name))
			return p;
	return NULL;
}

/* The NF's object ("object": a file; absent: the built-in one) and, for
 * this change only, what becomes of maps whose layout changed. */
static int set_object(struct nfc *nfc, json_t *plan, struct mnf *n, json_t *nf)
{
	json_t *o = json_object_get(nf, "object"), *mg;
	const char *path = json_is_string(o) ? json_string_value(o) : "";
	const char *how;

	if (o && !json_is_null(o) && !json_is_string(o))
		return nfci_err(nfc, EINVAL,
				"NF %s: 'object' must be a file name", n->name);
	if (strlen(path) >= sizeof(n->obj))
		return nfci_err(nfc, ENAMETOOLONG,
				"NF %s: object file name longer than %zu",
				n->name, sizeof(n->obj) - 1);
	mg = json_object_get(nf, "migrate");
	how = json_string_value(mg);
	if (mg && !json_is_null(mg) &&
	    (!how || (strcmp(how, "recreate") && strcmp(how, "refuse"))))
		return nfci_err(nfc, EINVAL,
				"NF %s: migrate must be 'recreate' (maps whose "
				"layout changed start empty) or 'refuse'",
				n->name);
	/* A file that is not there was taken, the old program kept running
	 * under its name, and the next reboot found nothing to load (found
	 * by a helper: an export applied after the store had pruned its
	 * object). */
	if (*path && strcmp(path, n->obj) && access(path, R_OK))
		return nfci_err(nfc, errno, "NF %s: object %s: %s", n->name,
				path, strerror(errno));
	if (strcmp(path, n->obj))
		plan_add(plan, "upgrade NF %s to %s", n->name,
			 *path ? path : "its built-in object");
	snprintf(n->obj, sizeof(n->obj), "%s", path);
	if (how && !strcmp(how, "recreate")) {
		n->migrate = 1;
		n->sig[0] = 0; /* reload even if the object is the same */
	}
	return 0;
}

/* Whether the maps the type's XDP and TC objects both declare are
 * declared the same way (types, sizes): then they serve either hook, and
 * a mode change keeps them. A map of one hook only (the bridge's XDP
 * flood devmap, br_flood) is that program's own, filled by the NF's
 * configure at the reload, as when mode auto moves an NF. Until
 * 2026-12-06 such a map made a bridge's mode change a new NF: its FDB
 * and counters gone (found by a helper). */
static const void *hook_elf(const struct nfc_nf_type *t, int hook, size_t *sz)
{
	if (!t->elf_xdp && !t->elf_tc) /* a loaded type */
		return nfci_dyn_elf(t, hook, sz);
	if (hook == HOOK_TC)
		return t->elf_tc ? t->elf_tc(sz) : NULL;
	return t->elf_xdp ? t->elf_xdp(sz) : NULL;
}

static int same_maps(const struct nfc_nf_type *t)
{
	const void *ex, *et;
	struct bpf_object *ox = NULL, *ot = NULL;
	struct bpf_map *a, *b;
	size_t sx = 0, st = 0;
	int same = 0;

	/* A loaded type's builds are the store's, not elf_xdp/elf_tc:
	 * taken as "not the same", every mode change of such an NF made
	 * it a new one, its counters and own maps gone (found by a
	 * helper). With one build, the change stays in its hook
	 * (mode_runs): the same object, the same maps. */
	ex = hook_elf(t, HOOK_XDP, &sx);
	et = hook_elf(t, HOOK_TC, &st);
	if (!ex || !et)
		return 1;
	ox = ex ? bpf_object__open_mem(ex, sx, NULL) : NULL;
	ot = et ? bpf_object__open_mem(et, st, NULL) : NULL;
	if (!ox || !ot)
		goto out;
	same = 1;
	/* Global data (.rodata, .data: load-time constants and config
	 * words) is the program's own, written anew at every load. */
	for (a = bpf_object__next_map(ox, NULL); a && same;
	     a = bpf_object__next_map(ox, a)) {
		if (bpf_map__is_internal(a))
			continue;
		b = bpf_object__find_map_by_name(ot, bpf_map__name(a));
		same = !b ||
		       (bpf_map__type(a) == bpf_map__type(b) &&
			bpf_map__key_size(a) == bpf_map__key_size(b) &&
			bpf_map__value_size(a) == bpf_map__value_size(b) &&
			bpf_map__max_entries(a) == bpf_map__max_entries(b));
	}
out:
	bpf_object__close(ox);
	bpf_object__close(ot);
	return same;
}

/* Whether an NF of type t may move to `mode` keeping its maps: a mode
 * the type runs in (do_nf_add says why not, on the replace path). */
static int mode_fits(const struct nfc_nf_type *t, const char *mode)
{
	return mode_runs(t, mode) > 0 && same_maps(t);
}

/* The NFs on target t in their order (by rank), those of `keep` only:
 * into ids, their count. */
static int order_on(const struct mattach *att, const struct endpoint *t,
		    const struct mattach *keep, int *ids)
{
	int n = 0, rank[NFC_MAX_ATTACHMENTS];

	for (int k = 0; k < NFC_MAX_ATTACHMENTS; k++) {
		int in = 0, j;

		if (!att[k].used || !endpoint_eq(&att[k].target, t))
			continue;
		for (int q = 0; q < NFC_MAX_ATTACHMENTS && !in; q++)
			in = keep[q].used && keep[q].nf == att[k].nf &&
			     endpoint_eq(&keep[q].target, t);
		if (!in)
			continue;
		for (j = n; j > 0 && rank[j - 1] > att[k].rank; j--) {
			rank[j] = rank[j - 1];
			ids[j] = ids[j - 1];
		}
		rank[j] = att[k].rank;
		ids[j] = att[k].nf;
		n++;
	}
	return n;
}

/* Targets whose attachments, those kept, come in another order: the
 * apply reorders them, and the plan said "no changes" (found by a
 * helper). */
static void plan_reorders(struct apply_ctx *c, const struct model *m,
			  const struct mattach *old_att)
{
	int a[NFC_MAX_ATTACHMENTS], b[NFC_MAX_ATTACHMENTS];

	for (int k = 0; k < NFC_MAX_ATTACHMENTS; k++) {
		const struct mattach *t = &m->att[k];
		char tgt[2 * NFC_NAME_MAX + 2], list[512];
		int n, first = 1, off = 0;

		if (!t->used)
			continue;
		for (int q = 0; q < k && first; q++)
			first = !(m->att[q].used &&
				  endpoint_eq(&m->att[q].target, &t->target));
		if (!first)
			continue;
		n = order_on(m->att, &t->target, old_att, a);
		if (order_on(old_att, &t->target, m->att, b) != n ||
		    !memcmp(a, b, n * sizeof(a[0])))
			continue;
		for (int i = 0; i < n; i++)
			off += snprintf(
				list + off,
				off < (int)sizeof(list) ? sizeof(list) - off
							: 0,
				"%s%s", i ? ", " : "", m->nfs[a[i]].name);
		endpoint_str(m, &t->target, tgt, sizeof(tgt));
		plan_add(c->plan, "reorder the attachments on %s: %s", tgt,
			 list);
	}
}
/* A netdev `dev` named by the document for NF nf's port `port` (NULL: an
 * attachment of nf): it exists, or it went away from that very port or
 * attachment of the running model; else the error a new one gets. */
static int gone_new(struct nfc *nfc, const char *nf, const char *port,
		    const char *dev)
{
	int id = model_find_nf(nfc->m, nf);
	const struct mnf *n = id >= 0 ? &nfc->m->nfs[id] : NULL;
	const struct endpoint *e = NULL;

	if (strchr(dev, ':') || netdev_ifindex(dev) > 0)
		return 0;
	if (n && port && model_find_port(n, port) >= 0)
		e = &n->ports[model_find_port(n, port)].peer;
	for (int k = 0; n && !port && k < NFC_MAX_ATTACHMENTS; k++)
		if (nfc->m->att[k].used && nfc->m->att[k].nf == id &&
		    nfc->m->att[k].target.kind == PEER_DEV &&
		    !strcmp(nfc->m->att[k].target.dev, dev))
			e = &nfc->m->att[k].target;
	if (e && e->kind == PEER_DEV && !strcmp(e->dev, dev))
		return 0;
	if (port)
		return nfci_err(nfc, ENODEV,
				"port %s of %s: peer %s does not exist", port,
				nf, dev);
	return nfci_err(nfc, ENODEV,
			"attach %s to %s: netdev %s does not exist", nf, dev,
			dev);
}

static int edit_rebuild(struct nfc *nfc, struct model *m, void *arg)
{
	struct apply_ctx *c = arg;
	json_t *nf, *p, *a;
	size_t i, j;
	int r;

	/* 1. NFs that go, or whose type or mode changes (those are replaced).
	 */
	for (int id = 0; id < NFC_MAX_NFS; id++) {
		struct mnf *n = &m->nfs[id];
		json_t *want;

		if (!n->used)
			continue;
		want = doc_nf(c->doc, n->name);
		if (want &&
		    !strcmp(json_string_value(json_object_get(want, "type")),
			    n->type->name) &&
		    !strcmp(mode_of(want), n->mode))
			continue;
		/* Only the mode: the NF stays and is loaded in its new hook
		 * with its maps kept (its connections, counters, learnt
		 * tables), as a mode auto's move is. An upgraded NF's
		 * object is of the hook it leaves: that one is replaced by
		 * one from the type's own objects. */
		if (want && !n->obj[0] &&
		    !strcmp(json_string_value(json_object_get(want, "type")),
			    n->type->name) &&
		    mode_fits(n->type, mode_of(want))) {
			plan_add(c->plan, "reload NF %s in mode %s (maps kept)",
				 n->name, mode_of(want));
			snprintf(n->mode, sizeof(n->mode), "%s", mode_of(want));
			continue;
		}
		plan_add(c->plan,
			 want ? "replace NF %s (type or mode changes)"
			      : "delete NF %s",
			 n->name);
		nf_remove(m, id);
	}
	/* 2. Peers and attachments are rebuilt from the document; unchanged
	 * ones come out identical, and reconcile writes only differences. */
	for (int id = 0; id < NFC_MAX_NFS; id++)
		for (int pi = 0; m->nfs[id].used && pi < NFC_MAX_PORTS; pi++)
			memset(&m->nfs[id].ports[pi].peer, 0,
			       sizeof(struct endpoint));
	struct mattach *old_att = malloc(sizeof(m->att));
	/* Targets named now: an NF port's NF may be gone when the plan
	 * says what was detached. */
	char(*old_tgt)[2 * NFC_NAME_MAX + 2] =
		calloc(NFC_MAX_ATTACHMENTS, sizeof(*old_tgt));

	if (!old_att || !old_tgt) {
		free(old_att);
		free(old_tgt);
		return -ENOMEM;
	}
	memcpy(old_att, m->att, sizeof(m->att));
	for (int k = 0; k < NFC_MAX_ATTACHMENTS; k++)
		if (m->att[k].used)
			endpoint_str(m, &m->att[k].target, old_tgt[k],
				     sizeof(old_tgt[k]));
	memset(m->att, 0, sizeof(m->att));

	/* 3. NFs that come, config of those that stay, their ports. */
	json_array_foreach (json_object_get(c->doc, "nfs"), i, nf) {
		const char *name =
			json_string_value(json_object_get(nf, "name"));
		json_t *cfg = json_object_get(nf, "config");
		int id = model_find_nf(m, name);

		if (id < 0) {
			struct nf_add_args aa = {
				json_string_value(json_object_get(nf, "type")),
				name, mode_of(nf), cfg};

			plan_add(c->plan, "add NF %s (%s, %s)", name, aa.type,
				 aa.mode);
			r = do_nf_add(nfc, m, &aa);
			if (r)
				goto out;
			id = model_find_nf(m, name);
		} else {
			struct nf_set_args sa = {name, cfg};
			json_t *before = json_incref(m->nfs[id].config);

			/* The document's config is the whole config. */
			json_decref(m->nfs[id].config);
			m->nfs[id].config = json_object();
			r = do_nf_set(nfc, m, &sa);
			if (!r && !json_equal(before, m->nfs[id].config))
				plan_add(c->plan, "set config of NF %s", name);
			json_decref(before);
			if (r)
				goto out;
		}
		r = set_object(nfc, c->plan, &m->nfs[id], nf);
		if (r)
			goto out;
		for (int pi = 0; pi < NFC_MAX_PORTS; pi++) {
			struct mport *mp = &m->nfs[id].ports[pi];
			struct port_args pa = {name, mp->name, NULL, NULL};

			if (!mp->used || doc_port(nf, mp->name))
				continue;
			plan_add(c->plan, "delete port %s of %s", mp->name,
				 name);
			r = do_port_del(nfc, m, &pa);
			if (r)
				goto out;
		}
		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			struct port_args pa = {
				name,
				json_string_value(json_object_get(p, "name")),
				NULL, json_object_get(p, "config")};
			int pi = model_find_port(&m->nfs[id], pa.port);

			if (pi < 0) {
				plan_add(c->plan, "add port %s of %s", pa.port,
					 name);
				r = do_port_add(nfc, m, &pa);
			} else {
				json_t *before = json_incref(
					m->nfs[id].ports[pi].config);

				json_decref(m->nfs[id].ports[pi].config);
				m->nfs[id].ports[pi].config = json_object();
				r = do_port_set(nfc, m, &pa);
				if (!r &&
				    !json_equal(before,
						m->nfs[id].ports[pi].config))
					plan_add(c->plan,
						 "set config of port %s of %s",
						 pa.port, name);
				json_decref(before);
			}
			if (r)
				goto out;
		}
	}
	/* 4. Peers, once every port exists. Each NF-to-NF link is listed on
	 * both of its ports; the second mention must agree. */
	json_array_foreach (json_object_get(c->doc, "nfs"), i, nf) {
		const char *name =
			json_string_value(json_object_get(nf, "name"));
		int id = model_find_nf(m, name);

		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			const char *peer =
				json_string_value(json_object_get(p, "peer"));
			int pi = model_find_port(
				&m->nfs[id],
				json_string_value(json_object_get(p, "name")));
			struct mport *mp = &m->nfs[id].ports[pi];
			struct endpoint e;
			char ctx[96];

			if (!peer || !*peer)
				continue;
			snprintf(ctx, sizeof(ctx), "port %s of %s", mp->name,
				 name);
			if (mp->peer.kind != PEER_NONE) {
				r = endpoint_parse(nfc, m, peer, &e, ctx);
				if (r)
					goto out;
				if (!endpoint_eq(&e, &mp->peer)) {
					r = nfci_err(
						nfc, EINVAL,
						"%s: peer %s disagrees with "
						"the other end's peer",
						ctx, peer);
					goto out;
				}
				continue;
			}
			r = gone_new(nfc, name, mp->name, peer);
			if (!r)
				r = set_peer(nfc, m, id, pi, peer);
			if (r)
				goto out;
		}
	}
	/* 5. Attachments, in document order per target; an attachment that
	 * already existed keeps its port pair (and so its counters). */
	json_array_foreach (json_object_get(c->doc, "attachments"), i, a) {
		struct attach_args aa = {
			json_string_value(json_object_get(a, "nf")),
			json_string_value(json_object_get(a, "target")),
			json_string_value(json_object_get(a, "direction")),
			"last"};
		int before = -1, slot;

		for (int k = 0; k < NFC_MAX_ATTACHMENTS; k++)
			if (m->att[k].used)
				before = k > before ? k : before;
		r = aa.nf && aa.target ? gone_new(nfc, aa.nf, NULL, aa.target)
				       : 0;
		if (!r)
			r = do_attach(nfc, m, &aa);
		if (r)
			goto out;
		for (slot = 0; slot < NFC_MAX_ATTACHMENTS; slot++) {
			struct mattach *na = &m->att[slot];
			int found = 0;

			if (!na->used || slot <= before)
				continue;
			for (int k = 0; k < NFC_MAX_ATTACHMENTS; k++) {
				struct mattach *o = &old_att[k];

				if (o->used && o->nf == na->nf &&
				    endpoint_eq(&o->target, &na->target)) {
					found = 1;
					if (o->pair != na->pair) {
						/* Swap pairs with whoever has
						 * the old one. */
						for (int q = 0;
						     q < NFC_MAX_ATTACHMENTS;
						     q++)
							if (q != slot &&
							    m->att[q].used &&
							    m->att[q].nf ==
								    na->nf &&
							    m->att[q].pair ==
								    o->pair)
								m->att[q].pair =
									na->pair;
						na->pair = o->pair;
					}
					if (o->dirs != na->dirs)
						plan_add(c->plan,
							 "change direction of "
							 "%s on %s",
							 aa.nf, aa.target);
				}
			}
			if (!found)
				plan_add(c->plan, "attach %s to %s", aa.nf,
					 aa.target);
		}
	}
	plan_reorders(c, m, old_att);
	/* Peers that change on ports that stay. */
	for (int id = 0; id < NFC_MAX_NFS; id++) {
		const struct mnf *n = &m->nfs[id];
		int oid = n->used ? model_find_nf(nfc->m, n->name) : -1;

		if (oid < 0 || nfc->m->nfs[oid].type != n->type)
			continue;
		for (int pi = 0; pi < NFC_MAX_PORTS; pi++) {
			const struct mport *np = &n->ports[pi];
			int op = np->used ? model_find_port(&nfc->m->nfs[oid],
							    np->name)
					  : -1;
			char was[80], now[80];

			if (op < 0)
				continue;
			endpoint_str(nfc->m, &nfc->m->nfs[oid].ports[op].peer,
				     was, sizeof(was));
			endpoint_str(m, &np->peer, now, sizeof(now));
			if (!strcmp(was, now) &&
			    (np->peer.kind != PEER_DEV ||
			     np->peer.ifindex ==
				     nfc->m->nfs[oid].ports[op].peer.ifindex))
				continue;
			if (!now[0])
				plan_add(c->plan, "disconnect %s:%s", n->name,
					 np->name);
			else if (!strcmp(was, now))
				plan_add(c->plan,
					 "reconnect %s:%s to %s (a new netdev "
					 "of that name)",
					 n->name, np->name, now);
			else
				plan_add(c->plan, "connect %s:%s to %s",
					 n->name, np->name, now);
		}
	}
	for (int k = 0; k < NFC_MAX_ATTACHMENTS; k++) {
		struct mattach *o = &old_att[k];
		int kept = 0;

		if (!o->used || !m->nfs[o->nf].used)
			continue;
		for (int q = 0; q < NFC_MAX_ATTACHMENTS; q++)
			kept |= m->att[q].used && m->att[q].nf == o->nf &&
				endpoint_eq(&m->att[q].target, &o->target);
		if (!kept)
			plan_add(c->plan, "detach %s from %s",
				 m->nfs[o->nf].name, old_tgt[k]);
	}
	r = 0;
out:
	free(old_tgt);
	free(old_att);
	return r;
}

/* A netdev that went away stays named by the ports and attachments that
 * had it (runtime.md): a document naming it again keeps them, down. An
 * apply of the running export refused "netdev X does not exist", and so
 * did the undo of an unsaved change, which left that change running
 * (found by a helper). A new port or attachment on it is still refused
 * (gone_new). */
static int edit_apply(struct nfc *nfc, struct model *m, void *arg)
{
	int r;

	nfc->keep_gone = 1;
	r = edit_rebuild(nfc, m, arg);
	nfc->keep_gone = 0;
	return r;
}

/* What apply_collections changed, to put back if a later entry fails. */
struct undo {
	size_t n, cap;
	struct undo_entry {
		char nf[NFC_NAME_MAX], coll[NFC_NAME_MAX], key[72];
		json_t *old; /* NULL: the entry did not exist */
	} * e;
};

static void undo_note(struct undo *u, const char *nf, const char *coll,
		      const char *key, json_t *old)
{
	struct undo_entry *e;

	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 64;
		void *p = realloc(u->e, cap * sizeof(*u->e));

		if (!p)
			return;
		u->e = p;
		u->cap = cap;
	}
	e = &u->e[u->n++];
	snprintf(e->nf, sizeof(e->nf), "%s", nf);
	snprintf(e->coll, sizeof(e->coll), "%s", coll);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->old = json_incref(old);
}

static int undo_one(struct nfc *nfc, const struct undo_entry *e)
{
	if (!e->key[0])
		return coll_replace_nosave(nfc, e->nf, e->coll, e->old);
	coll_del_nosave(nfc, e->nf, e->coll, e->key);
	return e->old ? coll_add_nosave(nfc, e->nf, e->coll, e->key, e->old)
		      : 0;
}

/* An empty key notes a whole set replaced; `old` is the set before. Taken
 * back last change first; one an NF refused then (it needs another that
 * comes back after it: an lb's backends and the table they fit) once
 * more at the end. Ignored, such a refusal left a refused apply's lb
 * with 2 of its 5 backends (found by a helper). */
static void undo_run(struct nfc *nfc, struct undo *u)
{
	int was = nfc->applying;
	char *again = calloc(u->n ? u->n : 1, 1);
	size_t failed = 0;

	/* Taken back as accepted before: inactive entries too (import.c's
	 * undo_all says why). */
	nfc->applying = 1;
	for (size_t k = u->n; k-- > 0;)
		if (undo_one(nfc, &u->e[k]) && again) {
			again[k] = 1;
			failed++;
		}
	for (size_t k = u->n; failed && k-- > 0;)
		if (again[k])
			undo_one(nfc, &u->e[k]);
	for (size_t k = 0; k < u->n; k++)
		json_decref(u->e[k].old);
	nfc->applying = was;
	free(again);
	free(u->e);
	u->e = NULL;
	u->n = 0;
	u->cap = 0;
}

static void undo_free(struct undo *u)
{
	for (size_t k = 0; k < u->n; k++)
		json_decref(u->e[k].old);
	free(u->e);
	memset(u, 0, sizeof(*u));
}

/* After a collection with import_ref changed: the file of the entries
 * the NF keeps for what it holds itself (a ddos feed, a router's route
 * store) as the NF names it. A document exported by another daemon names that
 * daemon's file, which the NF took in under its own name; the model then
 * names its own, or the next reboot would need the other daemon's file
 * still there. */
static void refs_own(struct nfc *nfc, const char *name,
		     const struct nfc_collection *c)
{
	int id = model_find_nf(nfc->m, name);
	json_t *ref, *colls, *v;
	const char *k;

	if (id < 0 || !c->import_ref)
		return;
	colls = json_object_get(nfc->m->nfs[id].colls, c->name);
	ref = c->import_ref(&nfc->handles[id]);
	/* The file only: the rest is the model's record (a route store's
	 * count is the import's, which folds do not change), and a model
	 * that differs from the saved state is applied again at the next
	 * start instead of adopted. */
	json_object_foreach (ref, k, v) {
		json_t *e = json_object_get(colls, k),
		       *f = json_object_get(v, "file");

		if (json_is_object(e) && json_is_string(f) &&
		    !json_equal(json_object_get(e, "file"), f))
			json_object_set(e, "file", f);
	}
	json_decref(ref);
}

/*
 * Collection `c` of NF `name` made to hold `want` (the document's; NULL:
 * none) where it holds `have` (the model's; NULL: none): entries that
 * differ are (re)added, entries `want` lacks deleted. A collection its NF
 * swaps as a whole (c->replace) gets the whole new set in one call
 * instead, so that packets meet the old set or the new one, never a mix
 * (nf.h). With `u` NULL it only checks and plans.
 */
static int coll_sync(struct nfc *nfc, const char *name,
		     const struct nfc_collection *c, json_t *have, json_t *want,
		     json_t *plan, struct undo *u, struct nfc_nf *h,
		     json_t *config, int recheck, struct model *view)
{
	struct model *keep = nfc->m;
	const char *key;
	json_t *e;
	void *tmp;
	int r, changed = 0, nadd = 0, ndel = 0;

	json_object_foreach (want, key, e) {
		json_t *cur = json_object_get(have, key), *norm = NULL;
		char owner[160];

		if (cur && json_equal(cur, e)) {
			/* Kept, under a config that changes (conntrack off
			 * while a rule keeps its state=). */
			if (!u && recheck && h && c->check) {
				nfc->m = view ?: keep;
				r = c->check(h, config, key, cur);
				nfc->m = keep;
				if (r)
					return r;
			}
			continue;
		}
		changed = 1;
		nadd++;
		if (!u) {
			if (cur) /* "add" it said, for a change (a helper) */
				plan_add(plan, "change %s %s of %s", c->name,
					 key, name);
			else
				plan_add(plan, "add %s %s to %s", c->name, key,
					 name);
			snprintf(owner, sizeof(owner), "%s %s of %s", c->name,
				 key, name);
			/* The NF's own check, against the config, ports
			 * and collections it will have: the view, the model
			 * the document makes (an NF it creates has its
			 * handle, and no maps yet). Found by a helper: a
			 * dry run passed what the apply then refused. */
			nfc->m = view ?: keep;
			r = nfci_fields_check(nfc, owner, c->fields, e, 1,
					      view ? h : NULL, &norm);
			if (!r && h && c->check_key)
				r = c->check_key(h, key);
			if (!r && h && c->check)
				r = c->check(h, config, key, norm ? norm : e);
			nfc->m = keep;
			json_decref(norm);
			if (r)
				return r;
			continue;
		}
		if (c->replace)
			continue;
		undo_note(u, name, c->name, key, cur);
		if (cur)
			coll_del_nosave(nfc, name, c->name, key);
		r = coll_add_nosave(nfc, name, c->name, key, e);
		if (r)
			return r;
	}
	json_object_foreach_safe (have, tmp, key, e) {
		if (json_object_get(want, key))
			continue;
		changed = 1;
		ndel++;
		if (!u)
			plan_add(plan, "delete %s %s of %s", c->name, key,
				 name);
		if (!u || c->replace)
			continue;
		undo_note(u, name, c->name, key, e);
		r = coll_del_nosave(nfc, name, c->name, key);
		if (r)
			return r;
	}
	/* What was done, one line a collection: the dry run listed every
	 * entry, but an answer of 10,000 lines is not worth its cost. */
	if (u && changed)
		plan_add(plan, "%s of %s: %d added or changed, %d deleted",
			 c->name, name, nadd, ndel);
	if (!u || !changed)
		return 0;
	if (c->replace) {
		json_t *old = have ? json_deep_copy(have) : json_object();

		/* Noted once made: a replace() refused changed nothing, and
		 * handing it the old set again would (a double-buffered NF
		 * switches copies: the ddos limits' dd_state). */
		r = coll_replace_nosave(nfc, name, c->name, want);
		if (!r)
			undo_note(u, name, c->name, "", old);
		json_decref(old);
		if (r)
			return r;
	}
	refs_own(nfc, name, c);
	return 0;
}

/* Whether two sets of entries differ, a missing one empty. */
static int coll_differs(json_t *a, json_t *b)
{
	if (!json_object_size(a) || !json_object_size(b))
		return json_object_size(a) != json_object_size(b);
	return !json_equal(a, b);
}

/*
 * Collections: each declared collection of each NF made to hold what the
 * document lists (coll_sync). With `u` NULL it only checks and plans: the
 * collection exists, the fields fit its declaration (for an NF the
 * document creates, against its type). The NF's own add() or replace()
 * validates before it changes anything.
 */
static int apply_collections(struct nfc *nfc, json_t *doc, json_t *plan,
			     struct undo *u, struct model *view)
{
	size_t i;
	json_t *nf;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf) {
		const char *name =
			json_string_value(json_object_get(nf, "name"));
		const struct nfc_nf_type *t = nfci_type_find(
			json_string_value(json_object_get(nf, "type")));
		json_t *want = json_object_get(nf, "collections");
		int id = model_find_nf(nfc->m, name);
		json_t *have, *set, *config, *ncfg;
		struct model *nview;
		struct nfc_nf *h;
		const char *coll;
		int r, recheck, nchanged;

		if (id >= 0 && nfc->m->nfs[id].type != t)
			id = -1; /* replaced: starts empty */
		config = json_object_get(nf, "config");
		/* The entries are checked against the config as the model
		 * holds it, its values read ("conntrack": "true" is on), not
		 * as the document spells them: a firewall's state= rules
		 * were refused as if conntrack were off (found by a helper). */
		ncfg = config;
		if (view) {
			int vid = model_find_nf(view, name);

			if (vid >= 0 && view->nfs[vid].config)
				ncfg = view->nfs[vid].config;
		} else if (id >= 0 && nfc->m->nfs[id].config) {
			ncfg = nfc->m->nfs[id].config;
		}
		/* Against the config as the view holds it, defaults filled:
		 * a document that leaves them out changes nothing, and its
		 * kept entries need no second check (a no-op apply of
		 * 10,000 routes checked each again, 70-100 ms). */
		recheck = id >= 0 && !json_equal(ncfg, nfc->m->nfs[id].config);
		have = id >= 0 ? nfc->m->nfs[id].colls : NULL;
		json_object_foreach (want, coll, set) {
			const struct nfc_collection *c =
				t ? nfci_coll_find(t, coll) : NULL;

			if (!c)
				return nfci_err(nfc, ENOENT,
						"NF %s (%s) has no collection "
						"'%s'",
						name, t ? t->name : "?", coll);
			if (!json_is_object(set))
				return nfci_err(
					nfc, EINVAL,
					"NF %s: collection '%s' must be "
					"an object of key: fields",
					name, coll);
		}
		h = id >= 0 ? &nfc->handles[id] : NULL;
		/* The view holds this NF in its own slot, unless the
		 * document makes it anew (a mode change that reloads it):
		 * then its checks read the running model, as before. */
		nview = view;
		if (view && id >= 0 &&
		    (!view->nfs[id].used || strcmp(view->nfs[id].name, name)))
			nview = NULL;
		/* An NF the document creates is checked through the slot
		 * the view gives it, if no NF of the running model holds
		 * that slot (whose maps its checks would read). */
		if (!u && view && id < 0) {
			int vid = model_find_nf(view, name);

			if (vid >= 0 && !nfc->m->nfs[vid].used)
				h = &nfc->handles[vid];
		}
		/* Which collections change: the entries kept in the others
		 * are checked again (a service deleted under its kept
		 * backend: the dry run planned what the apply refused). */
		nchanged = 0;
		for (const struct nfc_collection *c = t ? t->collections : NULL;
		     !u && nview && id >= 0 && c && c->name; c++)
			nchanged +=
				coll_differs(json_object_get(have, c->name),
					     json_object_get(want, c->name));
		for (const struct nfc_collection *c = t ? t->collections : NULL;
		     c && c->name; c++) {
			int self = nchanged &&
				   coll_differs(json_object_get(have, c->name),
						json_object_get(want, c->name));

			r = coll_sync(nfc, name, c,
				      json_object_get(have, c->name),
				      json_object_get(want, c->name), plan, u,
				      h, ncfg, recheck || nchanged > self,
				      u ? NULL : nview);
			if (r)
				return r;
		}
	}
	return 0;
}

static bool has_ports(const struct mnf *n)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (n->ports[p].used)
			return true;
	return false;
}

/* An NF with other ports, or a new one with ports: its type's validate()
 * sees them, on the copy. The router checks its ports together (one
 * subnet on two ports), the bridge a trunk's VLANs, when they configure
 * them, after the change; a dry run never got there and printed a plan
 * the apply then refused (found by helpers). */
static int ports_check(struct nfc *nfc, struct model *m)
{
	struct model *keep = nfc->m;
	int r = 0;

	for (int i = 0; i < NFC_MAX_NFS && !r; i++) {
		const struct mnf *n = &m->nfs[i], *o = &keep->nfs[i];
		bool stays = o->used && !strcmp(n->name, o->name);

		if (!n->used || !n->type->validate ||
		    (stays ? !nf_ports_differ(n, o) : !has_ports(n)))
			continue;
		nfc->m = m;
		r = n->type->validate(&nfc->handles[i], n->config);
		nfc->m = keep;
	}
	return r;
}

/* An NF that will be loaded in another hook, or from another object:
 * what the load would refuse of its object. An upgraded XDP build with
 * the document's mode=tc got a plan, and the apply then refused it after
 * 9-10 s of reloads (found by a helper). After paths_assign_stubs, which
 * settles the auto mode's hooks. */
static int objects_check(struct nfc *nfc, struct model *m)
{
	int r = 0;

	for (int i = 0; i < NFC_MAX_NFS && !r; i++) {
		const struct mnf *n = &m->nfs[i], *o = &nfc->m->nfs[i];

		if (n->used &&
		    (!o->used || strcmp(n->name, o->name) ||
		     nf_hook(n) != nf_hook(o) || strcmp(n->obj, o->obj)))
			r = dp_nf_obj_check(nfc, n);
	}
	return r;
}

static int dry_edit(struct nfc *nfc, struct model *m, void *arg)
{
	struct nfc_hop *hops, *shops;
	int r = edit_apply(nfc, m, arg);

	if (!r)
		r = ports_check(nfc, m);
	if (r)
		return r;
	hops = calloc(NFC_GPORTS, sizeof(*hops));
	shops = calloc(NFC_MAX_STUBS, sizeof(*shops));
	r = hops && shops ? paths_assign_stubs(nfc, m) : -ENOMEM;
	if (!r)
		r = objects_check(nfc, m);
	if (!r) {
		paths_compute(m, hops, shops);
		r = paths_check(nfc, m, hops, shops);
	}
	free(hops);
	free(shops);
	return r;
}

/* At least the length of j's compact text (a byte of a string or key is
 * at most 6 escaped, a number at most 32), stopping once past `limit`:
 * measuring a 10,000-rule document with json_dumpb formatted all of it,
 * a ninth of a no-op apply, to learn that it was far below the limit. */
static size_t text_bound(json_t *j, size_t limit)
{
	size_t n = 2, i;
	const char *k;
	json_t *v;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		json_object_foreach (j, k, v) {
			n += 6 * strlen(k) + 4 + text_bound(v, limit);
			if (n > limit)
				return n;
		}
		return n;
	case JSON_ARRAY:
		json_array_foreach (j, i, v) {
			n += 1 + text_bound(v, limit);
			if (n > limit)
				return n;
		}
		return n;
	case JSON_STRING:
		return 6 * json_string_length(j) + 2;
	default:
		return 32;
	}
}

/* The view's NFs hold the document's collections: what an NF's check
 * reads of its other collections (an lb backend's service) is what the
 * apply would make. */
static void view_colls(struct model *m, json_t *doc)
{
	json_t *nf;
	size_t i;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf) {
		json_t *want = json_object_get(nf, "collections");
		int id = model_find_nf(
			m, json_string_value(json_object_get(nf, "name")));

		if (id < 0)
			continue;
		json_decref(m->nfs[id].colls);
		m->nfs[id].colls = want ? json_incref(want) : json_object();
	}
}

/*
 * A document whose state the pinned state map cannot hold is refused
 * before anything is touched: `m` is the model the edits give, the
 * collections are the document's (it lists each NF's entries whole). Only
 * large documents are measured (a serialization costs what a save does);
 * a small one that still does not fit is undone after the failed save.
 */
static int check_size(struct nfc *nfc, struct model *m, json_t *doc)
{
	json_t *j;
	size_t len;
	char *s;

	if (text_bound(doc, state_max() / 2) < state_max() / 2 ||
	    json_dumpb(doc, NULL, 0, JSON_COMPACT) < state_max() / 2)
		return 0;
	/* m's collections are the document's already (view_colls). */
	j = model_to_json(m, nfc->gen + 1);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return nfci_err(nfc, ENOMEM, "out of memory");
	len = strlen(s);
	free(s);
	if (len > state_max())
		return nfci_err(nfc, E2BIG,
				"the configuration would be %zu bytes, larger "
				"than the %llu bytes the pinned state holds; "
				"nothing was changed",
				len, (unsigned long long)state_max());
	return 0;
}

/*
 * The NFs the document deletes or gives another type, with their
 * collections (references: the model shares them, and an NF deleted
 * leaves its objects untouched), for the way back: edit_apply recreates
 * such an NF empty, and a refused apply left it so (found by a helper:
 * a firewall's rules gone after an unrelated NF's entry was refused).
 */
static json_t *doomed_colls(struct nfc *nfc, json_t *doc)
{
	json_t *out = json_array(), *nf;
	size_t i;

	for (int id = 0; id < NFC_MAX_NFS && out; id++) {
		const struct mnf *n = &nfc->m->nfs[id];
		int kept = 0;

		if (!n->used || !json_object_size(n->colls))
			continue;
		json_array_foreach (json_object_get(doc, "nfs"), i, nf)
			kept |= !strcmp(json_string_value(
						json_object_get(nf, "name"))
						?: "",
					n->name) &&
				!strcmp(json_string_value(
						json_object_get(nf, "type"))
						?: "",
					n->type->name);
		if (!kept)
			json_array_append_new(
				out, json_pack("{s:s,s:s,s:O}", "name", n->name,
					       "type", n->type->name,
					       "collections", n->colls));
	}
	return out;
}

/* Their entries put back into the NFs the way back recreated, as
 * accepted before (inactive ones too). */
static int doomed_restore(struct nfc *nfc, json_t *nfs)
{
	json_t *doc, *plan = json_array();
	struct undo u = {0};
	int was = nfc->applying, r;

	if (!json_array_size(nfs)) {
		json_decref(plan);
		return 0;
	}
	doc = json_pack("{s:O}", "nfs", nfs);
	nfc->applying = 1;
	r = doc && plan ? apply_collections(nfc, doc, plan, &u, NULL) : -ENOMEM;
	nfc->applying = was;
	undo_free(&u);
	json_decref(doc);
	json_decref(plan);
	return r;
}

int nfc_apply(struct nfc *nfc, json_t *doc, int dry_run, json_t **plan)
{
	struct apply_ctx c = {.doc = doc};
	struct undo u = {0};
	struct model *copy;
	json_t *prev = NULL, *doomed = NULL;
	size_t planned;
	int r = nfci_begin(nfc);

	if (plan)
		*plan = NULL;
	if (r)
		return r;
	r = check_shape(nfc, doc);
	if (r)
		goto out;
	/* Check everything, collections included, on a copy first. */
	c.plan = json_array();
	copy = model_clone(nfc->m);
	/* The entries are checked against the new config right after. */
	nfc->doc_checked = 1;
	r = copy ? dry_edit(nfc, copy, &c) : -ENOMEM;
	nfc->doc_checked = 0;
	if (!r) {
		int was = nfc->applying;

		/* As the apply will: a state accepted before (a restore)
		 * takes back its inactive entries (a route on no subnet, an
		 * FDB entry of a port gone), which the checks, seeing the
		 * NF through the view since 2026-12-06, refused. */
		nfc->applying = nfc->accepted;
		view_colls(copy, doc);
		r = apply_collections(nfc, doc, c.plan, NULL, copy);
		nfc->applying = was;
	}
	if (!r)
		r = check_size(nfc, copy, doc);
	model_free(copy);
	if (r || dry_run)
		goto out;
	planned = json_array_size(c.plan);
	json_array_clear(c.plan);
	/* The way back: edit_apply reads no collections (undo_run puts
	 * the entries back). */
	prev = export_doc(nfc, false);
	doomed = doomed_colls(nfc, doc);
	nfc->doc_checked = 1;
	nfc->defer_removed = 1;
	r = nfci_transact(nfc, edit_apply, &c);
	nfc->doc_checked = 0;
	/* The check above planned no entry change (a no-op apply, or one of
	 * config and ports only): a second walk of every entry would find
	 * none either (the transaction edits no collection), and at 10,000
	 * rules it was a seventh of a no-op apply. */
	if (!r && planned) {
		/* The document was checked whole above: its collections
		 * are written in their declared order, and an NF checks an
		 * entry against the document's other collections, not the
		 * half-written maps (an lb's table shrunk with the backends
		 * that needed it, refused while the dry run passed it). */
		nfc->applying = nfc->accepted;
		nfc->doc_checked = 1;
		r = apply_collections(nfc, doc, c.plan, &u, NULL);
		nfc->doc_checked = 0;
		nfc->applying = 0;
		if (!r && u.n)
			r = state_save(nfc);
		if (r) {
			/* An NF refused an entry, or the state could not be
			 * saved: put back the entries and then the rest of
			 * the running state. */
			char keep[sizeof(nfc->err)];
			struct apply_ctx back = {.doc = prev};

			memcpy(keep, nfc->err, sizeof(keep));
			nfc->undoing++;
			nfc->doc_checked = 1; /* what ran before: whole */
			undo_run(nfc, &u);
			nfc->doc_checked = 0;
			/* Saved whatever the entries' fate: the model is
			 * what runs. */
			if (!nfci_transact(nfc, edit_apply, &back) &&
			    json_array_size(doomed)) {
				doomed_restore(nfc, doomed);
				state_save(nfc);
			}
			nfc->undoing--;
			memcpy(nfc->err, keep, sizeof(keep));
		}
	}
	if (nfc->defer_removed) {
		nfc->defer_removed = 0;
		nfci_removed_run(nfc, !r);
	}
	undo_free(&u);
out:
	json_decref(doomed);
	json_decref(prev);
	if (plan && !r)
		*plan = c.plan;
	else
		json_decref(c.plan);
	nfci_end(nfc);
	return r;
}

int nfc_coll_replace(struct nfc *nfc, const char *nf, const char *coll,
		     json_t *entries)
{
	const struct nfc_collection *c = NULL;
	struct undo u = {0};
	json_t *have = NULL;
	int id, r = nfci_begin(nfc);

	if (r)
		return r;
	id = model_find_nf(nfc->m, nf);
	if (id < 0)
		r = nfci_err(nfc, ENOENT, "NF %s does not exist", nf);
	else if (!(c = nfci_coll_find(nfc->m->nfs[id].type, coll)))
		r = nfci_err(nfc, ENOENT, "NF %s (%s) has no collection '%s'",
			     nf, nfc->m->nfs[id].type->name, coll);
	else if (entries && !json_is_object(entries))
		r = nfci_err(nfc, EINVAL,
			     "NF %s: collection '%s' must be an object of "
			     "key: fields",
			     nf, coll);
	if (!r) {
		have = json_object_get(nfc->m->nfs[id].colls, coll);
		/* Every entry checked before anything changes. */
		r = coll_sync(nfc, nf, c, have, entries, NULL, NULL, NULL, NULL,
			      0, NULL);
	}
	if (!r) {
		r = coll_sync(nfc, nf, c, have, entries, NULL, &u, NULL, NULL,
			      0, NULL);
		if (!r && u.n)
			r = state_save(nfc);
		if (r) {
			char keep[sizeof(nfc->err)];

			memcpy(keep, nfc->err, sizeof(keep));
			undo_run(nfc, &u);
			memcpy(nfc->err, keep, sizeof(keep));
		}
	}
	undo_free(&u);
	nfci_end(nfc);
	return r;
}

int nfc_apply_accepted(struct nfc *nfc, json_t *doc, json_t **plan)
{
	int r;

	nfc->accepted = 1;
	r = nfc_apply(nfc, doc, 0, plan);
	nfc->accepted = 0;
	return r;
}

int nfc_nf_set_mode(struct nfc *nfc, const char *name, const char *mode,
		    json_t *config)
{
	json_t *doc = nfc_export(nfc), *nf = NULL, *v, *cfg;
	size_t i;
	int r;

	if (!doc)
		return nfci_err(nfc, ENOMEM,
				"NF %s: exporting the state to "
				"move it failed",
				name);
	json_array_foreach (json_object_get(doc, "nfs"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "",
			    name))
			nf = v;
	if (!nf) {
		json_decref(doc);
		return nfci_err(nfc, ENOENT, "NF %s does not exist", name);
	}
	/* A new mode is a new NF from the type's own object (runtime.md):
	 * an upgraded NF's object is of the hook it leaves. */
	json_object_del(nf, "object");
	json_object_del(nf, "migrate");
	json_object_set_new(nf, "mode", json_string(mode));
	cfg = json_object_get(nf, "config");
	if (config && !json_is_object(cfg)) {
		cfg = json_object();
		json_object_set_new(nf, "config", cfg);
	}
	if (config)
		json_object_update(cfg, config);
	r = nfc_apply_accepted(nfc, doc, NULL);
	json_decref(doc);
	return r;
}
