// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The model: what was asked for, as plain data (see internal.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct model *model_new(void)
{
	return calloc(1, sizeof(struct model));
}

static void nf_free(struct mnf *n)
{
	json_decref(n->config);
	json_decref(n->colls);
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		json_decref(n->ports[p].config);
}

void model_free(struct model *m)
{
	if (!m)
		return;
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (m->nfs[i].used)
			nf_free(&m->nfs[i]);
	free(m);
}

/* Copies what is used only: the model is large (every NF's every port
 * slot) and mostly empty, and its untouched pages cost nothing. */
struct model *model_clone(const struct model *m)
{
	struct model *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *o = &m->nfs[i];
		struct mnf *n = &c->nfs[i];

		if (!o->used)
			continue;
		memcpy(n, o, offsetof(struct mnf, ports));
		n->config = json_deep_copy(o->config);
		/* Shared, not copied (a copy of 10,000 routes was most of a
		 * config change's cost): collections are edited in place only
		 * on the live model, between transactions, when no clone of
		 * it is alive; an edit of a clone replaces the object. */
		n->colls = json_incref(o->colls);
		for (int p = 0; p < NFC_MAX_PORTS; p++)
			if (o->ports[p].used) {
				n->ports[p] = o->ports[p];
				n->ports[p].config =
					json_deep_copy(o->ports[p].config);
			}
	}
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++)
		if (m->att[a].used)
			c->att[a] = m->att[a];
	for (int s = 0; s < NFC_MAX_STUBS; s++)
		if (m->stubs[s].used)
			c->stubs[s] = m->stubs[s];
	return c;
}

int model_find_nf(const struct model *m, const char *name)
{
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (m->nfs[i].used && !strcmp(m->nfs[i].name, name))
			return i;
	return -1;
}

int model_find_port(const struct mnf *n, const char *name)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		if (n->ports[p].used && !strcmp(n->ports[p].name, name))
			return p;
	return -1;
}

int nf_hook(const struct mnf *n)
{
	return strcmp(n->mode, "auto") ? mode_hook(n->mode) : n->auto_hook;
}

bool endpoint_eq(const struct endpoint *a, const struct endpoint *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == PEER_DEV)
		return a->ifindex == b->ifindex;
	if (a->kind == PEER_NF)
		return a->nf == b->nf && a->port == b->port;
	return true;
}

const char *endpoint_str(const struct model *m, const struct endpoint *e,
			 char *buf, size_t len)
{
	if (e->kind == PEER_DEV)
		snprintf(buf, len, "%s", e->dev);
	else if (e->kind == PEER_NF)
		snprintf(buf, len, "%s:%s", m->nfs[e->nf].name,
			 m->nfs[e->nf].ports[e->port].name);
	else
		snprintf(buf, len, "%s", "");
	return buf;
}

int endpoint_parse(struct nfc *nfc, const struct model *m, const char *s,
		   struct endpoint *e, const char *ctx)
{
	const char *colon = strchr(s, ':');

	memset(e, 0, sizeof(*e));
	if (colon) {
		char nf[NFC_NAME_MAX];
		size_t l = colon - s;
		int i, p;

		if (l >= sizeof(nf))
			return nfci_err(nfc, EINVAL, "%s: no NF '%.*s'", ctx,
					(int)l, s);
		memcpy(nf, s, l);
		nf[l] = 0;
		i = model_find_nf(m, nf);
		if (i < 0)
			return nfci_err(nfc, ENOENT, "%s: NF %s does not exist",
					ctx, nf);
		p = model_find_port(&m->nfs[i], colon + 1);
		if (p < 0)
			return nfci_err(nfc, ENOENT,
					"%s: NF %s has no port '%s'", ctx, nf,
					colon + 1);
		e->kind = PEER_NF;
		e->nf = i;
		e->port = p;
		return 0;
	}
	if (strlen(s) >= IF_NAMESIZE)
		return nfci_err(nfc, EINVAL,
				"%s: '%s' is too long for a netdev", ctx, s);
	e->ifindex = netdev_ifindex(s);
	if (e->ifindex <= 0 && nfc->keep_gone && nfc->m &&
	    gone_endpoint(nfc->m, s, e))
		return 0;
	if (e->ifindex <= 0)
		return nfci_err(nfc, ENODEV, "%s: %s %s does not exist", ctx,
				/* an attachment's target is no peer */
				!strncmp(ctx, "attach ", 7) ||
						!strncmp(ctx, "detach ", 7)
					? "netdev"
					: "peer",
				s);
	e->kind = PEER_DEV;
	snprintf(e->dev, sizeof(e->dev), "%s", s);
	return 0;
}

static json_t *endpoint_json(const struct model *m, const struct endpoint *e)
{
	char buf[80];

	if (e->kind == PEER_NONE)
		return json_null();
	return json_string(endpoint_str(m, e, buf, sizeof(buf)));
}

/* The internal document adds ids, port indexes, attachment pairs and stub
 * numbers to the exported one: what a new process needs to find the pins. */
json_t *model_to_json(const struct model *m, uint64_t gen)
{
	json_t *doc = json_object(), *nfs = json_array(), *atts = json_array(),
	       *stubs = json_array();

	json_object_set_new(doc, "gen", json_integer(gen));
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &m->nfs[i];
		json_t *o, *ports;

		if (!n->used)
			continue;
		ports = json_array();
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			const struct mport *mp = &n->ports[p];

			if (!mp->used)
				continue;
			json_array_append_new(
				ports,
				json_pack("{s:i,s:s,s:o,s:i,s:o}", "i", p,
					  "name", mp->name, "peer",
					  endpoint_json(m, &mp->peer),
					  "ifindex", mp->peer.ifindex, "config",
					  json_incref(mp->config)));
		}
		/* References, not copies: state_save, the one caller, dumps
		 * the document at once and drops it, and a copy of a large
		 * collection is most of a change's cost. (The export, which
		 * the daemon keeps, copies: nfc_export.) */
		o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "id", i,
			      "name", n->name, "type", n->type->name, "mode",
			      n->mode, "sig", n->sig, "config",
			      json_incref(n->config), "colls",
			      json_incref(n->colls), "ports", ports);
		if (n->obj[0])
			json_object_set_new(o, "obj", json_string(n->obj));
		if (n->obj_sha[0])
			json_object_set_new(o, "obj_sha",
					    json_string(n->obj_sha));
		if (n->auto_why[0]) {
			json_object_set_new(o, "auto_hook",
					    json_integer(n->auto_hook));
			if (n->auto_generic)
				json_object_set_new(o, "auto_generic",
						    json_true());
			json_object_set_new(o, "auto_why",
					    json_string(n->auto_why));
		}
		json_array_append_new(nfs, o);
	}
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		const struct mattach *at = &m->att[a];

		if (!at->used)
			continue;
		json_array_append_new(
			atts, json_pack("{s:s,s:i,s:o,s:i,s:i,s:i}", "nf",
					m->nfs[at->nf].name, "pair", at->pair,
					"target", endpoint_json(m, &at->target),
					"ifindex", at->target.ifindex, "dirs",
					at->dirs, "rank", at->rank));
	}
	for (int s = 0; s < NFC_MAX_STUBS; s++) {
		const struct mstub *st = &m->stubs[s];

		if (!st->used)
			continue;
		json_array_append_new(
			stubs, json_pack("{s:i,s:i,s:s,s:i,s:i,s:i}", "idx", s,
					 "ifindex", st->ifindex, "dev", st->dev,
					 "egress", st->egress, "hook", st->hook,
					 "xdp_flags", st->xdp_flags));
	}
	json_object_set_new(doc, "nfs", nfs);
	json_object_set_new(doc, "attachments", atts);
	json_object_set_new(doc, "stubs", stubs);
	return doc;
}

/* Resolve a stored endpoint. Netdevs keep the ifindex they had: a netdev
 * that went away is still named in the model until the user changes it. */
static int endpoint_load(struct nfc *nfc, const struct model *m, json_t *v,
			 int ifindex, struct endpoint *e)
{
	const char *s = json_string_value(v);
	const char *colon;

	memset(e, 0, sizeof(*e));
	if (!s)
		return 0;
	colon = strchr(s, ':');
	if (!colon) {
		e->kind = PEER_DEV;
		snprintf(e->dev, sizeof(e->dev), "%s", s);
		e->ifindex = ifindex;
		return 0;
	}
	return endpoint_parse(nfc, m, s, e, "state");
}

int model_from_json(struct nfc *nfc, json_t *doc, struct model *m,
		    uint64_t *gen)
{
	json_t *nfs = json_object_get(doc, "nfs"), *v;
	size_t i;

	*gen = json_integer_value(json_object_get(doc, "gen"));
	/* Two passes: NF-to-NF peers need every NF and port named first. */
	json_array_foreach (nfs, i, v) {
		int id = json_integer_value(json_object_get(v, "id"));
		struct mnf *n;
		json_t *pv;
		size_t j;

		if (id < 0 || id >= NFC_MAX_NFS)
			return nfci_err(nfc, EINVAL, "state: bad NF id %d", id);
		n = &m->nfs[id];
		n->used = true;
		snprintf(n->name, sizeof(n->name), "%s",
			 json_string_value(json_object_get(v, "name")));
		n->type = nfci_type_find(
			json_string_value(json_object_get(v, "type")));
		if (!n->type)
			return nfci_err(
				nfc, EINVAL,
				"state: NF %s has type '%s', which is "
				"neither built in nor loaded (nfchain types "
				"load)",
				n->name,
				json_string_value(json_object_get(v, "type")));
		snprintf(n->mode, sizeof(n->mode), "%s",
			 json_string_value(json_object_get(v, "mode")));
		snprintf(n->sig, sizeof(n->sig), "%s",
			 json_string_value(json_object_get(v, "sig")));
		snprintf(n->obj, sizeof(n->obj), "%s",
			 json_string_value(json_object_get(v, "obj")) ?: "");
		snprintf(n->obj_sha, sizeof(n->obj_sha), "%s",
			 json_string_value(json_object_get(v, "obj_sha"))
				 ?: "");
		n->auto_hook =
			json_integer_value(json_object_get(v, "auto_hook"));
		n->auto_generic =
			json_is_true(json_object_get(v, "auto_generic"));
		snprintf(n->auto_why, sizeof(n->auto_why), "%s",
			 json_string_value(json_object_get(v, "auto_why"))
				 ?: "");
		n->config = json_incref(json_object_get(v, "config"));
		n->colls = json_incref(json_object_get(v, "colls"));
		json_array_foreach (json_object_get(v, "ports"), j, pv) {
			int p = json_integer_value(json_object_get(pv, "i"));

			if (p < 0 || p >= NFC_MAX_PORTS)
				return nfci_err(nfc, EINVAL,
						"state: bad port index");
			n->ports[p].used = true;
			snprintf(
				n->ports[p].name, sizeof(n->ports[p].name),
				"%s",
				json_string_value(json_object_get(pv, "name")));
			n->ports[p].config =
				json_incref(json_object_get(pv, "config"));
		}
	}
	json_array_foreach (nfs, i, v) {
		int id = json_integer_value(json_object_get(v, "id"));
		json_t *pv;
		size_t j;

		json_array_foreach (json_object_get(v, "ports"), j, pv) {
			int p = json_integer_value(json_object_get(pv, "i"));
			int r = endpoint_load(
				nfc, m, json_object_get(pv, "peer"),
				json_integer_value(
					json_object_get(pv, "ifindex")),
				&m->nfs[id].ports[p].peer);
			if (r)
				return r;
		}
	}
	json_array_foreach (json_object_get(doc, "attachments"), i, v) {
		struct mattach *a;
		int id;

		if (i >= NFC_MAX_ATTACHMENTS)
			break;
		a = &m->att[i];
		id = model_find_nf(m,
				   json_string_value(json_object_get(v, "nf")));
		if (id < 0)
			return nfci_err(nfc, EINVAL,
					"state: attachment of an "
					"unknown NF");
		a->used = true;
		a->nf = id;
		a->pair = json_integer_value(json_object_get(v, "pair"));
		a->dirs = json_integer_value(json_object_get(v, "dirs"));
		a->rank = json_integer_value(json_object_get(v, "rank"));
		if (endpoint_load(
			    nfc, m, json_object_get(v, "target"),
			    json_integer_value(json_object_get(v, "ifindex")),
			    &a->target))
			return -EINVAL;
	}
	json_array_foreach (json_object_get(doc, "stubs"), i, v) {
		int s = json_integer_value(json_object_get(v, "idx"));
		struct mstub *st;

		if (s < 0 || s >= NFC_MAX_STUBS)
			return nfci_err(nfc, EINVAL, "state: bad stub index");
		st = &m->stubs[s];
		st->used = true;
		st->ifindex = json_integer_value(json_object_get(v, "ifindex"));
		snprintf(st->dev, sizeof(st->dev), "%s",
			 json_string_value(json_object_get(v, "dev")));
		st->egress = json_integer_value(json_object_get(v, "egress"));
		st->hook = json_integer_value(json_object_get(v, "hook"));
		st->xdp_flags =
			json_integer_value(json_object_get(v, "xdp_flags"));
	}
	return 0;
}
