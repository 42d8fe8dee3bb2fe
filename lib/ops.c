// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The public changes. Each is an edit of a copy of the model, checked whole
 * before the data plane is touched (nfci_transact), so that a refused call
 * changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "dataplane.h"

/* ---- helpers ------------------------------------------------------------- */

static int find_nf(struct nfc *nfc, const struct model *m, const char *name)
{
	int i = model_find_nf(m, name);

	if (i < 0)
		nfci_err(nfc, ENOENT, "NF %s does not exist", name);
	return i;
}

static int find_port(struct nfc *nfc, const struct model *m, int nf,
		     const char *port)
{
	int p = model_find_port(&m->nfs[nf], port);

	if (p < 0)
		nfci_err(nfc, ENOENT, "NF %s has no port %s", m->nfs[nf].name,
			 port);
	return p;
}

static bool is_transparent(const struct mnf *n)
{
	return n->type->flags & NFC_TYPE_TRANSPARENT;
}

/* Who already uses this netdev as a peer, for the error message. */
static int netdev_user(const struct model *m, int ifindex, int *nf, int *port)
{
	for (int i = 0; i < NFC_MAX_NFS; i++)
		for (int p = 0; m->nfs[i].used && p < NFC_MAX_PORTS; p++)
			if (m->nfs[i].ports[p].used &&
			    m->nfs[i].ports[p].peer.kind == PEER_DEV &&
			    m->nfs[i].ports[p].peer.ifindex == ifindex) {
				*nf = i;
				*port = p;
				return 1;
			}
	return 0;
}

/* Parses `peer` for port (nf, p) and links both ends. */
int set_peer(struct nfc *nfc, struct model *m, int nf, int p, const char *peer)
{
	struct mport *mp = &m->nfs[nf].ports[p];
	char ctx[96];
	struct endpoint e;
	int r, on, op;

	snprintf(ctx, sizeof(ctx), "port %s of %s", mp->name, m->nfs[nf].name);
	if (mp->peer.kind != PEER_NONE) {
		char b[80];

		return nfci_err(nfc, EBUSY,
				"%s: already connected to %s; disconnect it "
				"first",
				ctx, endpoint_str(m, &mp->peer, b, sizeof(b)));
	}
	r = endpoint_parse(nfc, m, peer, &e, ctx);
	if (r)
		return r;
	if (e.kind == PEER_DEV) {
		if (netdev_user(m, e.ifindex, &on, &op))
			return nfci_err(nfc, EBUSY,
					"%s: peer %s is already the peer of "
					"port %s of %s",
					ctx, e.dev, m->nfs[on].ports[op].name,
					m->nfs[on].name);
	} else {
		struct mport *o = &m->nfs[e.nf].ports[e.port];

		if (e.nf == nf && e.port == p)
			return nfci_err(nfc, EINVAL,
					"%s: cannot be its own peer", ctx);
		if (is_transparent(&m->nfs[e.nf]))
			return nfci_err(nfc, EINVAL,
					"%s: %s is transparent; attach it "
					"instead",
					ctx, m->nfs[e.nf].name);
		if (o->peer.kind != PEER_NONE)
			return nfci_err(nfc, EBUSY,
					"%s: peer %s:%s is already connected",
					ctx, m->nfs[e.nf].name, o->name);
		o->peer =
			(struct endpoint){.kind = PEER_NF, .nf = nf, .port = p};
	}
	mp->peer = e;
	return 0;
}

static void clear_peer(struct model *m, int nf, int p)
{
	struct mport *mp = &m->nfs[nf].ports[p];

	if (mp->peer.kind == PEER_NF)
		memset(&m->nfs[mp->peer.nf].ports[mp->peer.port].peer, 0,
		       sizeof(struct endpoint));
	memset(&mp->peer, 0, sizeof(mp->peer));
}

/* Attachments whose target is port p of nf (or any port, p < 0), or that
 * belong to transparent NF nf. */
static void drop_attachments(struct model *m, int nf, int p)
{
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		struct mattach *at = &m->att[a];

		if (!at->used)
			continue;
		if (at->nf == nf ||
		    (at->target.kind == PEER_NF && at->target.nf == nf &&
		     (p < 0 || at->target.port == p)))
			memset(at, 0, sizeof(*at));
	}
}

static int check_config(struct nfc *nfc, const char *owner,
			const struct nfc_field *fields, json_t *base,
			json_t *changes, int nf, json_t **out)
{
	json_t *merged = base ? json_deep_copy(base) : json_object();
	int r;

	if (changes && !json_is_object(changes)) {
		json_decref(merged);
		return nfci_err(nfc, EINVAL, "%s: config is not an object",
				owner);
	}
	if (changes)
		json_object_update(merged, changes);
	/* `key=` (the CLI sends "") or null unsets a field: back to its
	 * default, or refused below if the field is required. Without it a
	 * port's mtu, once set, could not be taken off again. */
	nfci_fields_unset(merged, changes, fields);
	r = nfci_fields_check(nfc, owner, fields, merged, 1,
			      nf >= 0 ? &nfc->handles[nf] : NULL, out);
	json_decref(merged);
	return r;
}

/* ---- NFs
 * --------------------------------------------------------------------- */

int do_nf_add(struct nfc *nfc, struct model *m, void *arg)
{
	struct nf_add_args *a = arg;
	const struct nfc_nf_type *t;
	char owner[64];
	struct mnf *n;
	int id, r, runs;

	r = nfci_check_name(nfc, "NF", a->name);
	if (r)
		return r;
	t = nfci_type_find(a->type);
	if (!t)
		return nfci_err(
			nfc, ENOENT,
			"NF %s: unknown type '%s' (see `nfchain types`; a type "
			"of "
			"your own is loaded with `nfchain types load` first)",
			a->name, a->type);
	if (nfci_type_find(a->name))
		return nfci_err(nfc, EINVAL,
				"NF %s: a name equal to a type name is refused",
				a->name);
	if (model_find_nf(m, a->name) >= 0)
		return nfci_err(nfc, EEXIST, "NF %s already exists", a->name);
	runs = mode_runs(t, a->mode);
	if (runs < 0)
		return nfci_err(
			nfc, EINVAL,
			"NF %s: mode '%s' is not auto, xdp, xdp-generic or tc",
			a->name, a->mode);
	if (!runs)
		return nfci_err(nfc, EINVAL, "NF %s: type %s cannot run in %s",
				a->name, t->name, a->mode);
	/* A fresh id, also unused in the running model: an id freed and
	 * reused in one change would confuse reconcile. */
	for (id = 0; id < NFC_MAX_NFS; id++)
		if (!m->nfs[id].used && !nfc->m->nfs[id].used)
			break;
	if (id == NFC_MAX_NFS) {
		int in_m = 0;

		for (int i = 0; i < NFC_MAX_NFS; i++)
			in_m += m->nfs[i].used;
		if (in_m < NFC_MAX_NFS)
			/* The change frees an id it would reuse: at the
			 * limit, an apply that swaps or retypes an NF was
			 * told the limit was reached (found by a helper). */
			return nfci_err(nfc, ENOSPC,
					"NF %s: %d NFs run, the limit "
					"(NFC_MAX_NFS), and an NF this change "
					"deletes or replaces keeps its slot "
					"until the change is done: delete it "
					"first, then add",
					a->name, NFC_MAX_NFS);
		return nfci_err(nfc, ENOSPC,
				"NF %s: limit of %d NFs reached (NFC_MAX_NFS)",
				a->name, NFC_MAX_NFS);
	}
	n = &m->nfs[id];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", a->name);
	snprintf(n->mode, sizeof(n->mode), "%s", a->mode);
	/* mode auto: a first guess, until paths_resolve_auto sees the ports */
	n->auto_hook = (t->flags & NFC_TYPE_NO_TC) ? HOOK_XDP : HOOK_TC;
	n->type = t;
	snprintf(owner, sizeof(owner), "NF %s", a->name);
	r = check_config(nfc, owner, t->config, NULL, a->config, -1,
			 &n->config);
	if (r)
		return r;
	n->colls = json_object();
	n->used = true;
	if (t->validate) {
		/* Its callbacks read the model through nfc->m: let them see
		 * the NF being added (its name for messages). */
		struct model *keep = nfc->m;

		nfc->m = m;
		r = t->validate(&nfc->handles[id], n->config);
		nfc->m = keep;
		if (r) {
			json_decref(n->config);
			json_decref(n->colls);
			memset(n, 0, sizeof(*n));
		}
	}
	return r;
}

int nfc_nf_add(struct nfc *nfc, const char *type, const char *name,
	       const char *mode, json_t *config)
{
	struct nf_add_args a = {type, name, mode ? mode : "auto", config};

	if (!type || !name)
		return nfci_err(nfc, EINVAL,
				"NF add: type and name are needed");
	return nfci_transact(nfc, do_nf_add, &a);
}

int do_nf_set(struct nfc *nfc, struct model *m, void *arg)
{
	struct nf_set_args *a = arg;
	int id = find_nf(nfc, m, a->name), r;
	char owner[64];
	json_t *cfg;

	if (id < 0)
		return -ENOENT;
	snprintf(owner, sizeof(owner), "NF %s", a->name);
	r = check_config(nfc, owner, m->nfs[id].type->config, m->nfs[id].config,
			 a->config, id, &cfg);
	if (r)
		return r;
	if (m->nfs[id].type->validate) {
		r = m->nfs[id].type->validate(&nfc->handles[id], cfg);
		if (r) {
			json_decref(cfg);
			return r;
		}
	}
	json_decref(m->nfs[id].config);
	m->nfs[id].config = cfg;
	return 0;
}

int nfc_nf_set(struct nfc *nfc, const char *name, json_t *config)
{
	struct nf_set_args a = {name, config};

	return nfci_transact(nfc, do_nf_set, &a);
}

struct nf_upgrade_args {
	const char *name, *path;
	unsigned flags;
};

static int do_nf_upgrade(struct nfc *nfc, struct model *m, void *arg)
{
	struct nf_upgrade_args *a = arg;
	int id = find_nf(nfc, m, a->name);
	struct mnf *n;

	if (id < 0)
		return -ENOENT;
	n = &m->nfs[id];
	if (a->path && strlen(a->path) >= sizeof(n->obj))
		return nfci_err(nfc, ENAMETOOLONG,
				"NF %s: object file name longer than %zu",
				a->name, sizeof(n->obj) - 1);
	if (a->path && access(a->path, R_OK))
		return nfci_err(nfc, errno, "NF %s: object %s: %s", a->name,
				a->path, strerror(errno));
	if (a->path) {
		char err[512];

		if (nfci_dyn_check_upgrade(n->type, nf_hook(n), a->path, err,
					   sizeof(err)))
			return nfci_err(nfc, EINVAL, "NF %s: %s", a->name, err);
	}
	snprintf(n->obj, sizeof(n->obj), "%s", a->path ? a->path : "");
	n->migrate = !!(a->flags & NFC_UPGRADE_RECREATE);
	n->sig[0] = 0; /* reloaded, even from the same object */
	return 0;
}

int nfc_nf_upgrade(struct nfc *nfc, const char *name, const char *path,
		   unsigned flags)
{
	struct nf_upgrade_args a = {name, path && *path ? path : NULL, flags};

	if (!name)
		return nfci_err(nfc, EINVAL, "NF upgrade: a name is needed");
	return nfci_transact(nfc, do_nf_upgrade, &a);
}

void nf_remove(struct model *m, int id)
{
	struct mnf *n = &m->nfs[id];

	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (n->ports[p].used)
			clear_peer(m, id, p);
	drop_attachments(m, id, -1);
	json_decref(n->config);
	json_decref(n->colls);
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		json_decref(n->ports[p].config);
	memset(n, 0, sizeof(*n));
}

static int do_nf_del(struct nfc *nfc, struct model *m, void *arg)
{
	int id = find_nf(nfc, m, arg);

	if (id < 0)
		return -ENOENT;
	nf_remove(m, id);
	return 0;
}

int nfc_nf_del(struct nfc *nfc, const char *name)
{
	return nfci_transact(nfc, do_nf_del, (void *)name);
}

static int do_reset(struct nfc *nfc, struct model *m, void *arg)
{
	(void)nfc;
	(void)arg;
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (m->nfs[i].used)
			nf_remove(m, i);
	return 0;
}

int nfc_reset(struct nfc *nfc)
{
	return nfci_transact(nfc, do_reset, NULL);
}

/* ---- ports
 * ------------------------------------------------------------------- */

int do_port_add(struct nfc *nfc, struct model *m, void *arg)
{
	struct port_args *a = arg;
	int id = find_nf(nfc, m, a->nf), p, r, count = 0;
	const struct nfc_nf_type *t;
	char owner[96];
	struct mnf *n;

	if (id < 0)
		return -ENOENT;
	n = &m->nfs[id];
	t = n->type;
	r = nfci_check_name(nfc, "port", a->port);
	if (r)
		return r;
	if (is_transparent(n))
		return nfci_err(nfc, EINVAL,
				"NF %s is transparent (%s): it has no ports; "
				"attach it to a netdev or a port",
				n->name, t->name);
	if (model_find_port(n, a->port) >= 0)
		return nfci_err(nfc, EEXIST, "port %s of %s already exists",
				a->port, n->name);
	if (t->port_names) {
		int ok = 0;

		char names[128] = "";
		size_t o = 0;

		for (int i = 0; t->port_names[i]; i++) {
			ok |= !strcmp(t->port_names[i], a->port);
			/* All of them: "p1, ..." hid a forwarder's p2. */
			if (o < sizeof(names))
				o += snprintf(names + o, sizeof(names) - o,
					      "%s%s", i ? ", " : "",
					      t->port_names[i]);
		}
		if (!ok)
			return nfci_err(nfc, EINVAL,
					"port %s of %s: a %s has ports named "
					"%s only",
					a->port, n->name, t->name, names);
	}
	for (p = 0; p < NFC_MAX_PORTS; p++)
		count += n->ports[p].used;
	if (count >= (int)t->max_ports)
		return nfci_err(nfc, ENOSPC,
				"port %s of %s: a %s has at most %u ports",
				a->port, n->name, t->name, t->max_ports);
	/* Named ports keep their index (p1 is 0, p2 is 1): the data plane
	 * may rely on it. */
	p = -1;
	if (t->port_names)
		for (int i = 0; t->port_names[i]; i++)
			if (!strcmp(t->port_names[i], a->port))
				p = i;
	if (p < 0)
		for (p = 0; p < NFC_MAX_PORTS && n->ports[p].used; p++)
			;
	snprintf(owner, sizeof(owner), "port %s of %s", a->port, n->name);
	r = check_config(nfc, owner, t->port_config, NULL, a->config, id,
			 &n->ports[p].config);
	if (r)
		return r;
	n->ports[p].used = true;
	snprintf(n->ports[p].name, sizeof(n->ports[p].name), "%s", a->port);
	if (a->peer && *a->peer)
		return set_peer(nfc, m, id, p, a->peer);
	return 0;
}

int nfc_port_add(struct nfc *nfc, const char *nf, const char *port,
		 const char *peer, json_t *config)
{
	struct port_args a = {nf, port, peer, config};

	return nfci_transact(nfc, do_port_add, &a);
}

int do_port_set(struct nfc *nfc, struct model *m, void *arg)
{
	struct port_args *a = arg;
	int id = find_nf(nfc, m, a->nf), p;
	char owner[96];
	json_t *cfg;
	int r;

	if (id < 0 || (p = find_port(nfc, m, id, a->port)) < 0)
		return -ENOENT;
	snprintf(owner, sizeof(owner), "port %s of %s", a->port, a->nf);
	r = check_config(nfc, owner, m->nfs[id].type->port_config,
			 m->nfs[id].ports[p].config, a->config, id, &cfg);
	if (r)
		return r;
	json_decref(m->nfs[id].ports[p].config);
	m->nfs[id].ports[p].config = cfg;
	return 0;
}

int nfc_port_set(struct nfc *nfc, const char *nf, const char *port,
		 json_t *config)
{
	struct port_args a = {nf, port, NULL, config};

	return nfci_transact(nfc, do_port_set, &a);
}

int do_port_del(struct nfc *nfc, struct model *m, void *arg)
{
	struct port_args *a = arg;
	int id = find_nf(nfc, m, a->nf), p;

	if (id < 0 || (p = find_port(nfc, m, id, a->port)) < 0)
		return -ENOENT;
	clear_peer(m, id, p);
	drop_attachments(m, id, p);
	json_decref(m->nfs[id].ports[p].config);
	memset(&m->nfs[id].ports[p], 0, sizeof(struct mport));
	return 0;
}

int nfc_port_del(struct nfc *nfc, const char *nf, const char *port)
{
	struct port_args a = {nf, port, NULL, NULL};

	return nfci_transact(nfc, do_port_del, &a);
}

static int do_connect(struct nfc *nfc, struct model *m, void *arg)
{
	struct port_args *a = arg;
	int id = find_nf(nfc, m, a->nf), p;

	if (id < 0 || (p = find_port(nfc, m, id, a->port)) < 0)
		return -ENOENT;
	return set_peer(nfc, m, id, p, a->peer);
}

int nfc_connect(struct nfc *nfc, const char *nf, const char *port,
		const char *peer)
{
	struct port_args a = {nf, port, peer, NULL};

	if (!peer || !*peer)
		return nfci_err(nfc, EINVAL, "connect %s:%s: no peer given", nf,
				port);
	return nfci_transact(nfc, do_connect, &a);
}

static int do_disconnect(struct nfc *nfc, struct model *m, void *arg)
{
	struct port_args *a = arg;
	int id = find_nf(nfc, m, a->nf), p;

	if (id < 0 || (p = find_port(nfc, m, id, a->port)) < 0)
		return -ENOENT;
	if (m->nfs[id].ports[p].peer.kind == PEER_NONE)
		return nfci_err(nfc, ENOTCONN, "port %s of %s is not connected",
				a->port, a->nf);
	clear_peer(m, id, p);
	return 0;
}

int nfc_disconnect(struct nfc *nfc, const char *nf, const char *port)
{
	struct port_args a = {nf, port, NULL, NULL};

	return nfci_transact(nfc, do_disconnect, &a);
}

static int do_port_repeer(struct nfc *nfc, struct model *m, void *arg)
{
	struct port_args *a = arg;
	int id = find_nf(nfc, m, a->nf), p, r;

	if (id < 0 || (p = find_port(nfc, m, id, a->port)) < 0)
		return -ENOENT;
	clear_peer(m, id, p);
	if (a->peer && *a->peer && (r = set_peer(nfc, m, id, p, a->peer)))
		return r;
	return a->config ? do_port_set(nfc, m, arg) : 0;
}

int nfc_port_repeer(struct nfc *nfc, const char *nf, const char *port,
		    const char *peer, json_t *config)
{
	struct port_args a = {nf, port, peer, config};

	return nfci_transact(nfc, do_port_repeer, &a);
}

/* ---- attachments
 * --------------------------------------------------------------- */

static int find_attachment(const struct model *m, int nf,
			   const struct endpoint *t)
{
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++)
		if (m->att[a].used && m->att[a].nf == nf &&
		    endpoint_eq(&m->att[a].target, t))
			return a;
	return -1;
}

static int rank_cmp(const void *x, const void *y)
{
	const struct mattach *const *a = x, *const *b = y;

	return (*a)->rank - (*b)->rank;
}

/* The attachments on target t, in their order (by rank); their count. */
static int on_target(struct model *m, const struct endpoint *t,
		     struct mattach **list)
{
	int n = 0;

	for (int i = 0; i < NFC_MAX_ATTACHMENTS; i++)
		if (m->att[i].used && endpoint_eq(&m->att[i].target, t))
			list[n++] = &m->att[i];
	qsort(list, n, sizeof(list[0]), rank_cmp);
	return n;
}

int do_attach(struct nfc *nfc, struct model *m, void *arg)
{
	struct attach_args *a = arg;
	struct mattach *list[NFC_MAX_ATTACHMENTS + 1], *na;
	int id = find_nf(nfc, m, a->nf), n, pos, slot, pair, r;
	char ctx[128];
	struct endpoint t;
	int dirs;

	if (id < 0)
		return -ENOENT;
	snprintf(ctx, sizeof(ctx), "attach %s to %s", a->nf, a->target);
	if (!is_transparent(&m->nfs[id]))
		return nfci_err(nfc, EINVAL,
				"%s: %s is a %s, not a transparent NF; connect "
				"its ports instead",
				ctx, a->nf, m->nfs[id].type->name);
	r = endpoint_parse(nfc, m, a->target, &t, ctx);
	if (r)
		return r;
	if (t.kind == PEER_NF && is_transparent(&m->nfs[t.nf]))
		return nfci_err(nfc, EINVAL, "%s: target is transparent", ctx);
	if (!a->direction || !strcmp(a->direction, "both"))
		dirs = DIR_IN | DIR_EG;
	else if (!strcmp(a->direction, "ingress"))
		dirs = DIR_IN;
	else if (!strcmp(a->direction, "egress"))
		dirs = DIR_EG;
	else
		return nfci_err(nfc, EINVAL,
				"%s: direction '%s' is not ingress, egress or "
				"both",
				ctx, a->direction);
	if (find_attachment(m, id, &t) >= 0)
		return nfci_err(nfc, EEXIST, "%s: already attached there", ctx);
	n = on_target(m, &t, list);
	if (n >= NFC_MAX_ATTACH)
		return nfci_err(nfc, ENOSPC,
				"%s: limit of %d transparent NFs on one target "
				"(NFC_MAX_ATTACH)",
				ctx, NFC_MAX_ATTACH);
	/* Where it goes in the order. */
	if (!a->position || !strcmp(a->position, "last")) {
		pos = n;
	} else if (!strcmp(a->position, "first")) {
		pos = 0;
	} else if (!strncmp(a->position, "before=", 7) ||
		   !strncmp(a->position, "after=", 6)) {
		int after = a->position[0] == 'a';
		const char *other = a->position + (after ? 6 : 7);

		for (pos = 0; pos < n; pos++)
			if (!strcmp(m->nfs[list[pos]->nf].name, other))
				break;
		if (pos == n)
			return nfci_err(
				nfc, ENOENT,
				"%s: position %s: %s is not attached to "
				"%s",
				ctx, a->position, other, a->target);
		pos += after;
	} else {
		return nfci_err(nfc, EINVAL,
				"%s: position '%s' is not first, last, "
				"before=<nf> or after=<nf>",
				ctx, a->position);
	}
	for (slot = 0; slot < NFC_MAX_ATTACHMENTS && m->att[slot].used; slot++)
		;
	if (slot == NFC_MAX_ATTACHMENTS)
		return nfci_err(nfc, ENOSPC, "%s: limit of %d attachments", ctx,
				NFC_MAX_ATTACHMENTS);
	for (pair = 0; pair < NFC_MAX_PORTS / 2; pair++) {
		int used = 0;

		for (int i = 0; i < NFC_MAX_ATTACHMENTS; i++)
			used |= m->att[i].used && m->att[i].nf == id &&
				m->att[i].pair == pair;
		if (!used)
			break;
	}
	if (pair == NFC_MAX_PORTS / 2)
		return nfci_err(nfc, ENOSPC,
				"%s: %s is attached in %d places already, its "
				"limit",
				ctx, a->nf, NFC_MAX_PORTS / 2);
	na = &m->att[slot];
	*na = (struct mattach){.used = true,
			       .nf = id,
			       .pair = pair,
			       .target = t,
			       .dirs = dirs};
	memmove(&list[pos + 1], &list[pos], (n - pos) * sizeof(list[0]));
	list[pos] = na;
	for (int i = 0; i <= n; i++)
		list[i]->rank = i;
	return 0;
}

int nfc_attach(struct nfc *nfc, const char *nf, const char *target,
	       const char *direction, const char *position)
{
	struct attach_args a = {nf, target, direction, position};

	return nfci_transact(nfc, do_attach, &a);
}

static int do_detach(struct nfc *nfc, struct model *m, void *arg)
{
	struct attach_args *a = arg;
	int id = find_nf(nfc, m, a->nf), at, r;
	char ctx[128];
	struct endpoint t;

	if (id < 0)
		return -ENOENT;
	snprintf(ctx, sizeof(ctx), "detach %s from %s", a->nf, a->target);
	/* An attachment whose netdev went away is listed (down): it can be
	 * detached by that name (found by a helper). */
	nfc->keep_gone = 1;
	r = endpoint_parse(nfc, m, a->target, &t, ctx);
	nfc->keep_gone = 0;
	if (r)
		return r;
	at = find_attachment(m, id, &t);
	if (at < 0)
		return nfci_err(nfc, ENOENT, "%s: not attached there", ctx);
	memset(&m->att[at], 0, sizeof(m->att[at]));
	/* The others on the target closed up: positions 0..n-1, as an apply
	 * of the same state gives (a gap stayed, and showed). */
	{
		struct mattach *list[NFC_MAX_ATTACHMENTS];
		int n = on_target(m, &t, list);

		for (int i = 0; i < n; i++)
			list[i]->rank = i;
	}
	return 0;
}

int nfc_detach(struct nfc *nfc, const char *nf, const char *target)
{
	struct attach_args a = {nf, target, NULL, NULL};

	return nfci_transact(nfc, do_detach, &a);
}

/* ---- NF callbacks after a change
 * ------------------------------------------------- */

static bool field_live(const struct nfc_field *decl, const char *name)
{
	for (const struct nfc_field *f = decl; f && f->name; f++)
		if (!strcmp(f->name, name))
			return (f->flags & NFC_FIELD_LIVE) ||
			       nfc_field_runtime(f);
	return false;
}

/* Whether two configs differ in a field other than NFC_FIELD_LIVE ones:
 * only those need configure(). */
static bool config_differs(const struct nfc_field *decl, json_t *a, json_t *b)
{
	const char *k;
	json_t *v;

	if (json_equal(a, b))
		return false;
	if (!json_is_object(a) || !json_is_object(b))
		return true;
	json_object_foreach (a, k, v)
		if (!json_equal(v, json_object_get(b, k)) &&
		    !field_live(decl, k))
			return true;
	json_object_foreach (b, k, v)
		if (!json_object_get(a, k) && !field_live(decl, k))
			return true;
	return false;
}

bool nf_ports_differ(const struct mnf *a, const struct mnf *b)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++) {
		const struct mport *x = &a->ports[p], *y = &b->ports[p];

		if (x->used != y->used)
			return true;
		if (x->used && (strcmp(x->name, y->name) ||
				!endpoint_eq(&x->peer, &y->peer) ||
				!json_equal(x->config, y->config)))
			return true;
	}
	return false;
}

/* Whether NF `i`'s attachments differ: a transparent NF may take what it
 * writes from its targets (a NAT's masquerade address), and its first
 * packets after an attach must not wait for its next tick. */
static bool attachments_differ(const struct model *a, const struct model *b,
			       int i)
{
	for (int k = 0; k < NFC_MAX_ATTACHMENTS; k++) {
		const struct mattach *x = &a->att[k], *y = &b->att[k];
		bool xi = x->used && x->nf == i, yi = y->used && y->nf == i;

		if (xi != yi)
			return true;
		if (xi && !endpoint_eq(&x->target, &y->target))
			return true;
	}
	return false;
}

static bool nf_differs(const struct model *old, const struct model *new, int i)
{
	const struct mnf *a = &old->nfs[i], *b = &new->nfs[i];

	return !a->used || strcmp(a->name, b->name) || strcmp(a->sig, b->sig) ||
	       config_differs(b->type->config, a->config, b->config) ||
	       nf_ports_differ(a, b) || attachments_differ(old, new, i);
}

int nf_configure_changed(struct nfc *nfc, const struct model *old,
			 const struct model *new)
{
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &new->nfs[i];
		int r;

		if (!n->used)
			continue;
		/* The same program running (else it was loaded with them). */
		if (old->nfs[i].used && !strcmp(old->nfs[i].name, n->name) &&
		    !strcmp(old->nfs[i].sig, n->sig)) {
			r = dp_cfg_vars_write(nfc, i, &old->nfs[i], n);
			if (r)
				return r;
		}
		if (!n->type->configure || !nf_differs(old, new, i))
			continue;
		r = n->type->configure(&nfc->handles[i]);
		nf_changed(nfc, i, NFC_CHANGE_CONFIGURE);
		if (r) {
			if (!nfc->err[0])
				nfci_err(nfc, r, "NF %s: configure: %s",
					 n->name, strerror(-r));
			return r;
		}
	}
	return 0;
}
