// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The resources of the REST tree (the table is in api.c). Each handler
 * checks what the path names (404) and what the body holds (400) before it
 * calls the library once; a change that needs several edits at once (a new
 * mode, a port's new peer) goes through nfc_apply() on an edited export, so
 * it is still one all-or-nothing step.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfchain/nfchain.h"

#include "api_int.h"
#include "doc.h"

static json_t *find_named(json_t *arr, const char *key, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach (arr, i, v) {
		const char *n = json_string_value(json_object_get(v, key));

		if (n && !strcmp(n, name))
			return v;
	}
	return NULL;
}

/* The NF named by the path as `get` gives it (show: with statistics;
 * export: without), or NULL with the answer set (a 404). */
static json_t *need_nf_as(struct call *c, const char *name,
			  json_t *(*get)(struct nfc *, const char *))
{
	json_t *nf;

	if (check_name(c, "NF", name))
		return NULL;
	nf = get(c->nfc, name);
	if (!nf)
		fail(c, 404, "no NF named '%s'", name);
	return nf;
}

static json_t *need_nf(struct call *c, const char *name)
{
	return need_nf_as(c, name, nfc_show_nf);
}

/* A change checks a name, the mode or the ports only: reading every
 * per-CPU counter of the NF for that was a fifth of a `set`'s daemon
 * time. */
static json_t *need_nf_cfg(struct call *c, const char *name)
{
	return need_nf_as(c, name, nfc_export_nf);
}

static json_t *need_port(struct call *c, json_t *nf, const char *port)
{
	json_t *p;

	if (check_name(c, "port", port))
		return NULL;
	p = find_named(json_object_get(nf, "ports"), "name", port);
	if (!p)
		fail(c, 404, "NF %s has no port '%s'",
		     json_string_value(json_object_get(nf, "name")), port);
	return p;
}

/* Collections of a type, as nfc_types() declares them: an array of
 * objects with a name, or an object keyed by name. */
static json_t *type_colls(struct api *api, const char *type)
{
	json_t *t = NULL, *v;
	size_t i;

	if (json_is_object(api->types))
		t = json_object_get(api->types, type);
	else
		json_array_foreach (api->types, i, v)
			if (!strcmp(json_string_value(
					    json_object_get(v, "name"))
					    ?: "",
				    type))
				t = v;
	return json_object_get(t, "collections");
}

static int need_coll(struct call *c, json_t *nf, const char *coll)
{
	const char *type = json_string_value(json_object_get(nf, "type"));
	json_t *colls = type_colls(c->api, type ?: ""), *v;
	char names[256] = "";
	size_t o = 0, i;
	const char *k;

	if (json_is_object(colls)) {
		if (json_object_get(colls, coll))
			return 0;
		json_object_foreach (colls, k, v)
			o += snprintf(names + o, sizeof(names) - o, "%s%s",
				      o ? ", " : "", k);
	} else {
		if (find_named(colls, "name", coll))
			return 0;
		json_array_foreach (colls, i, v)
			o += snprintf(
				names + o, sizeof(names) - o, "%s%s",
				o ? ", " : "",
				json_string_value(json_object_get(v, "name")));
	}
	if (!o)
		return fail(c, 404,
			    "NF %s (type %s) has no collections, so "
			    "none named '%.64s'",
			    c->arg[0], type, coll);
	return fail(c, 404,
		    "NF %s (type %s) has no collection '%.64s' "
		    "(collections: ports, stats, %s)",
		    c->arg[0], type, coll, names);
}

/* ---- types, NFs ---------------------------------------------------------- */

int h_types_get(struct call *c)
{
	return reply(c, 200, json_incref(c->api->types));
}

int h_type_get(struct call *c)
{
	json_t *t;
	size_t i;

	json_array_foreach (c->api->types, i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")) ?: "",
			    c->arg[0]))
			return reply(c, 200, json_incref(t));
	return fail(c, 404,
		    "no NF type named '%.64s' (GET /v1/types lists them)",
		    c->arg[0]);
}

int h_nfs_get(struct call *c)
{
	json_t *s = nfc_show(c->nfc), *e;

	/* Pins this daemon cannot read yet (a loaded type's files gone):
	 * nothing to list, and restore_pending says why and what mends it. */
	if (!s && c->api->blocked)
		s = json_pack("{s:[], s:[]}", "nfs", "attachments");
	if (!s)
		return fail(c, 500, "show failed: %s", nfc_errmsg(c->nfc));
	if (json_is_array(s))
		s = json_pack("{s:o}", "nfs", s);
	if (!json_object_get(s, "attachments")) {
		e = nfc_export(c->nfc);
		json_object_set(s, "attachments",
				json_object_get(e, "attachments")
					?: json_array());
		json_decref(e);
	}
	/* What runs is not the desired state yet: say so where a user
	 * looks first, or `show` reads as "the NFs were lost". */
	if (c->api->blocked)
		json_object_set_new(s, "restore_pending",
				    json_string(c->api->blocked));
	return reply(c, 200, s);
}

int h_nfs_post(struct call *c)
{
	static const struct bfield spec[] = {
		{"name", T_STR, true},
		{"type", T_STR, true},
		/* null: the default, auto (`mode=` on the CLI, found by a
		 * helper: "must be a string, not null"). */
		{"mode", T_STR | T_NULL, false},
		{"config", T_OBJ | T_NULL, false},
		{0},
	};
	const char *name, *type;
	char types[256];
	int r;

	if ((r = body_object(c, spec)))
		return r;
	name = body_str(c, "name");
	type = body_str(c, "type");
	if ((r = check_nf_name_free(c, name)))
		return r;
	if (!is_type(c->api, type))
		return fail(c, 400, "unknown NF type '%.64s' (types: %s)", type,
			    type_names(c->api, types, sizeof(types)));
	r = nfc_nf_add(c->nfc, type, name, body_str(c, "mode"),
		       body_get(c, "config"));
	if (r)
		return lib_fail(c, r);
	return changed(c, 201, nfc_show_nf(c->nfc, name));
}

int h_nf_get(struct call *c)
{
	json_t *nf = need_nf(c, c->arg[0]);

	return nf ? reply(c, 200, nf) : c->resp->status;
}

int h_nf_patch(struct call *c)
{
	static const struct bfield spec[] = {
		{"config", T_OBJ, false},
		{"mode", T_STR | T_NULL, false},
		{0},
	};
	json_t *nf = need_nf_cfg(c, c->arg[0]), *config;
	const char *mode;
	char cur[32];
	int r;

	if (!nf)
		return c->resp->status;
	snprintf(cur, sizeof(cur), "%s",
		 json_string_value(json_object_get(nf, "mode")) ?: "");
	json_decref(nf);
	if ((r = body_object(c, spec)))
		return r;
	config = body_get(c, "config");
	mode = body_str(c, "mode");
	/* An unset mode is its default, as an unset config value is. */
	if (json_is_null(json_object_get(c->body, "mode")))
		mode = "auto";
	if (!config && !mode)
		return fail(c, 400,
			    "nothing to change: the body needs "
			    "'config' or 'mode'");
	if (mode && strcmp(mode, cur)) {
		/* A new mode reloads the NF in the other hook: a whole-state
		 * step, so that the NF is either moved or left as it was. */
		if ((r = nfc_nf_set_mode(c->nfc, c->arg[0], mode, config)))
			return lib_fail(c, r);
	} else if ((r = nfc_nf_set(c->nfc, c->arg[0], config))) {
		return lib_fail(c, r);
	} else {
		c->jnf = c->arg[0], c->jfields = true;
	}
	return changed(c, 200, nfc_show_nf(c->nfc, c->arg[0]));
}

int h_nf_del(struct call *c)
{
	json_t *nf = need_nf(c, c->arg[0]);
	const char *src;
	int upgraded, r;

	if (!nf)
		return c->resp->status;
	/* An upgraded NF's object copy goes with it (upgrade.c). */
	src = json_string_value(
		json_object_get(json_object_get(nf, "object"), "source"));
	upgraded = src && strcmp(src, "built-in");
	json_decref(nf);
	if ((r = nfc_nf_del(c->nfc, c->arg[0])))
		return lib_fail(c, r);
	r = changed(c, 200, json_pack("{s:s}", "deleted", c->arg[0]));
	if (upgraded)
		objstore_prune(c->api, c->nfc);
	return r;
}

/* ---- ports -----------------------------------------------------------------
 */

int h_ports_get(struct call *c)
{
	json_t *nf = need_nf(c, c->arg[0]);
	int r;

	if (!nf)
		return c->resp->status;
	r = reply(c, 200, json_incref(json_object_get(nf, "ports")));
	json_decref(nf);
	return r;
}

static json_t *port_obj(struct call *c, const char *port)
{
	json_t *nf = nfc_show_nf(c->nfc, c->arg[0]);
	json_t *p = json_incref(
		find_named(json_object_get(nf, "ports"), "name", port));

	json_decref(nf);
	return p;
}

int h_ports_post(struct call *c)
{
	static const struct bfield spec[] = {
		{"name", T_STR, true},
		{"peer", T_STR | T_NULL, false},
		{"config", T_OBJ | T_NULL, false},
		{0},
	};
	json_t *nf = need_nf_cfg(c, c->arg[0]);
	const char *port;
	int r;

	if (!nf)
		return c->resp->status;
	json_decref(nf);
	if ((r = body_object(c, spec)))
		return r;
	port = body_str(c, "name");
	if ((r = check_port_name(c, port)))
		return r;
	r = nfc_port_add(c->nfc, c->arg[0], port, body_str(c, "peer"),
			 body_get(c, "config"));
	if (r)
		return lib_fail(c, r);
	return changed(c, 201, port_obj(c, port));
}

int h_port_get(struct call *c)
{
	json_t *nf = need_nf(c, c->arg[0]), *p;
	int r;

	if (!nf)
		return c->resp->status;
	p = need_port(c, nf, c->arg[1]);
	r = p ? reply(c, 200, json_incref(p)) : c->resp->status;
	json_decref(nf);
	return r;
}

int h_port_patch(struct call *c)
{
	static const struct bfield spec[] = {
		{"config", T_OBJ, false},
		{"peer", T_STR | T_NULL, false},
		{0},
	};
	json_t *nf = need_nf_cfg(c, c->arg[0]);
	int r;

	if (!nf)
		return c->resp->status;
	r = need_port(c, nf, c->arg[1]) ? 0 : c->resp->status;
	json_decref(nf);
	if (r || (r = body_object(c, spec)))
		return r;
	if (json_object_get(c->body, "peer")) {
		/* Rewire (and maybe reconfigure) in one step, both ends of
		 * a link to an NF port: an edit of this port's peer alone
		 * in the document was undone by the other end's, and
		 * "peer": "" answered 200 and left the link up (found by a
		 * helper). */
		if ((r = nfc_port_repeer(c->nfc, c->arg[0], c->arg[1],
					 body_str(c, "peer"),
					 body_get(c, "config"))))
			return lib_fail(c, r);
	} else if (!body_get(c, "config")) {
		return fail(c, 400,
			    "nothing to change: the body needs "
			    "'config' or 'peer'");
	} else if ((r = nfc_port_set(c->nfc, c->arg[0], c->arg[1],
				     body_get(c, "config")))) {
		return lib_fail(c, r);
	}
	return changed(c, 200, port_obj(c, c->arg[1]));
}

int h_port_del(struct call *c)
{
	json_t *nf = need_nf_cfg(c, c->arg[0]);
	int r;

	if (!nf)
		return c->resp->status;
	r = need_port(c, nf, c->arg[1]) ? 0 : c->resp->status;
	json_decref(nf);
	if (r)
		return r;
	if ((r = nfc_port_del(c->nfc, c->arg[0], c->arg[1])))
		return lib_fail(c, r);
	return changed(c, 200, json_pack("{s:s}", "deleted", c->arg[1]));
}

int h_stats_get(struct call *c)
{
	json_t *nf = need_nf(c, c->arg[0]), *out, *ports, *p;
	size_t i;

	if (!nf)
		return c->resp->status;
	ports = json_array();
	json_array_foreach (json_object_get(nf, "ports"), i, p)
		json_array_append_new(
			ports,
			json_pack("{s:O,s:O,s:O}", "name",
				  json_object_get(p, "name"), "peer",
				  json_object_get(p, "peer") ?: json_null(),
				  "stats",
				  json_object_get(p, "stats")
					  ?: json_object()));
	out = json_pack(
		"{s:O,s:O,s:O,s:o}", "name", json_object_get(nf, "name"),
		"type", json_object_get(nf, "type"), "stats",
		json_object_get(nf, "stats") ?: json_object(), "ports", ports);
	/* A transparent NF counts per attachment (and direction). */
	if (json_object_get(nf, "attachments"))
		json_object_set(out, "attachments",
				json_object_get(nf, "attachments"));
	json_decref(nf);
	return reply(c, 200, out);
}

/* Reached only when http.c does not serve the stream itself: a HEAD, or
 * a daemon whose pcap service did not start. */
int h_pcap_get(struct call *c)
{
	json_t *nf = need_nf(c, c->arg[0]);
	const char *type;
	int r;

	if (!nf)
		return c->resp->status;
	type = json_string_value(json_object_get(nf, "type"));
	if (!type || strcmp(type, "capture"))
		r = fail(c, 400,
			 "NF %s is a %s, not a capture: only a capture NF has "
			 "a pcap stream",
			 c->arg[0], type ? type : "NF of no type");
	else if (strcmp(c->req->method, "GET") &&
		 snprintf(c->resp->allow, sizeof(c->resp->allow), "GET"))
		r = fail(c, 405, "the pcap stream of %s is served to GET only",
			 c->arg[0]);
	else
		r = fail(c, 503,
			 "pcap streams are not available: the daemon could "
			 "not start its capture service (see its log)");
	json_decref(nf);
	return r;
}

/* ---- collections ------------------------------------------------------------
 */

static int need_nf_coll(struct call *c)
{
	json_t *nf = need_nf_cfg(c, c->arg[0]);
	int r;

	if (!nf)
		return c->resp->status;
	r = need_coll(c, nf, c->arg[1]);
	json_decref(nf);
	return r;
}

int h_coll_get(struct call *c)
{
	json_t *list = NULL;
	int r;

	if ((r = need_nf_coll(c)))
		return r;
	/* A page at a time (a 1,000,000-prefix blocklist is never held
	 * whole): the first here, for its errors; http.c asks the rest. */
	memset(&c->resp->cur, 0, sizeof(c->resp->cur));
	if ((r = nfc_coll_list_page(c->nfc, c->arg[0], c->arg[1], &c->resp->cur,
				    API_PAGE, &list)))
		return lib_fail(c, r);
	c->resp->pages = 1;
	snprintf(c->resp->nf, sizeof(c->resp->nf), "%s", c->arg[0]);
	snprintf(c->resp->coll, sizeof(c->resp->coll), "%s", c->arg[1]);
	return reply(c, 200, list);
}

int h_coll_post(struct call *c)
{
	static const struct bfield spec[] = {
		{"key", T_STR, true},
		{"fields", T_OBJ | T_NULL, false},
		{0},
	};
	int r;

	if ((r = need_nf_coll(c)) || (r = body_object(c, spec)))
		return r;
	r = nfc_coll_add(c->nfc, c->arg[0], c->arg[1], body_str(c, "key"),
			 body_get(c, "fields"));
	if (r)
		return lib_fail(c, r);
	c->jnf = c->arg[0], c->jcoll = c->arg[1], c->jkey = body_str(c, "key");
	return changed(c, 201,
		       json_pack("{s:s,s:s,s:s}", "nf", c->arg[0], "collection",
				 c->arg[1], "key", body_str(c, "key")));
}

/* GET .../{coll}/{key}: one entry as the listing shows it. */
int h_coll_key_get(struct call *c)
{
	json_t *e = NULL;
	int r;

	if ((r = need_nf_coll(c)))
		return r;
	/* At most 64 pages walked: ~0.1-0.5 s of the daemon's one thread. */
	if ((r = nfc_coll_show_entry(c->nfc, c->arg[0], c->arg[1], c->arg[2],
				     64 * API_PAGE, &e)))
		return lib_fail(c, r);
	return reply(c, 200, e);
}

/* PATCH .../{coll}/{key} {"fields": {...}}: some fields of one entry. */
int h_coll_key_patch(struct call *c)
{
	static const struct bfield spec[] = {
		{"fields", T_OBJ, true},
		{0},
	};
	json_t *held;
	int r;

	if ((r = need_nf_coll(c)) || (r = body_object(c, spec)))
		return r;
	r = nfc_coll_set(c->nfc, c->arg[0], c->arg[1], c->arg[2],
			 body_get(c, "fields"));
	if (r)
		return lib_fail(c, r);
	held = nfc_coll_get(c->nfc, c->arg[0], c->arg[1], c->arg[2]);
	/* An entry its NF keeps itself (an imported route) was set as an
	 * import: what the model names for the import (its CRC) changed,
	 * so the whole state is saved, not one entry. */
	if (held)
		c->jnf = c->arg[0], c->jcoll = c->arg[1], c->jkey = c->arg[2];
	json_decref(held);
	return changed(c, 200,
		       json_pack("{s:s,s:s,s:s}", "nf", c->arg[0], "collection",
				 c->arg[1], "key", c->arg[2]));
}

int h_coll_key_del(struct call *c)
{
	int r;

	if ((r = need_nf_coll(c)))
		return r;
	if ((r = nfc_coll_del(c->nfc, c->arg[0], c->arg[1], c->arg[2])))
		return lib_fail(c, r);
	c->jnf = c->arg[0], c->jcoll = c->arg[1], c->jkey = c->arg[2];
	return changed(c, 200, json_pack("{s:s}", "deleted", c->arg[2]));
}

/* POST .../{coll}/import[?replace=1]: a text body, one entry a line
 * (import.c); one change, one save. */
int h_coll_import(struct call *c)
{
	const char *rep =
		json_string_value(json_object_get(c->req->query, "replace"));
	int r, replace = rep && (!strcmp(rep, "1") || !strcmp(rep, "true"));

	/* Stricter than dry_run=: no bare ?replace nor yes for what
	 * empties a collection. */
	if (rep && !replace && strcmp(rep, "0") && strcmp(rep, "false"))
		return fail(c, 400, "replace must be 1 or 0, not '%.32s'", rep);
	if ((r = need_nf_coll(c)))
		return r;
	r = nfc_coll_import_text(c->nfc, c->arg[0], c->arg[1], c->req->body,
				 c->req->body_len, replace);
	if (r)
		return lib_fail(c, r);
	return changed(c, 200,
		       json_pack("{s:s,s:s,s:b}", "nf", c->arg[0], "collection",
				 c->arg[1], "replace", replace));
}

/* ---- links ----------------------------------------------------------------
 */

int h_links_get(struct call *c)
{
	json_t *doc = nfc_export(c->nfc), *out = json_array(), *nf, *p;
	size_t i, j;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf)
		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			char port[80];

			if (!json_is_string(json_object_get(p, "peer")))
				continue;
			snprintf(port, sizeof(port), "%s:%s",
				 json_string_value(json_object_get(nf, "name")),
				 json_string_value(json_object_get(p, "name")));
			json_array_append_new(
				out,
				json_pack("{s:s,s:O}", "port", port, "peer",
					  json_object_get(p, "peer")));
		}
	json_decref(doc);
	return reply(c, 200, out);
}

/* "nf:port" into its two names, checked. */
static int split_port(struct call *c, const char *s, char *nf, char *port)
{
	const char *colon = strchr(s, ':');
	int r;

	if (!colon || (size_t)(colon - s) >= 32 || strlen(colon + 1) >= 32)
		return fail(c, 400, "'%.64s' is not <nf>:<port>", s);
	memcpy(nf, s, colon - s);
	nf[colon - s] = 0;
	strcpy(port, colon + 1);
	if ((r = check_name(c, "NF", nf)) || (r = check_name(c, "port", port)))
		return r;
	return 0;
}

int h_links_post(struct call *c)
{
	static const struct bfield spec[] = {
		{"port", T_STR, true},
		{"peer", T_STR, true},
		{0},
	};
	char nf[32], port[32];
	int r;

	if ((r = body_object(c, spec)) ||
	    (r = split_port(c, body_str(c, "port"), nf, port)))
		return r;
	if ((r = nfc_connect(c->nfc, nf, port, body_str(c, "peer"))))
		return lib_fail(c, r);
	return changed(c, 201,
		       json_pack("{s:s,s:s}", "port", body_str(c, "port"),
				 "peer", body_str(c, "peer")));
}

int h_link_del(struct call *c)
{
	char nf[32], port[32];
	json_t *n, *p;
	int r;

	if ((r = split_port(c, c->arg[0], nf, port)))
		return r;
	if (!(n = need_nf_cfg(c, nf)))
		return c->resp->status;
	p = need_port(c, n, port);
	r = !p ? c->resp->status
	    : !json_is_string(json_object_get(p, "peer"))
		    ? fail(c, 404, "port %s of %s is not connected", port, nf)
		    : 0;
	json_decref(n);
	if (r)
		return r;
	if ((r = nfc_disconnect(c->nfc, nf, port)))
		return lib_fail(c, r);
	return changed(c, 200, json_pack("{s:s}", "deleted", c->arg[0]));
}

/* ---- attachments -----------------------------------------------------------
 */

int h_att_get(struct call *c)
{
	json_t *doc = nfc_export(c->nfc);
	json_t *a = json_incref(json_object_get(doc, "attachments"));

	json_decref(doc);
	return reply(c, 200, a ?: json_array());
}

int h_att_post(struct call *c)
{
	static const struct bfield spec[] = {
		{"nf", T_STR, true},
		{"target", T_STR, true},
		{"direction", T_STR | T_NULL, false},
		{"position", T_STR | T_NULL, false},
		{0},
	};
	int r;

	if ((r = body_object(c, spec)) ||
	    (r = check_name(c, "NF", body_str(c, "nf"))))
		return r;
	r = nfc_attach(c->nfc, body_str(c, "nf"), body_str(c, "target"),
		       body_str(c, "direction"), body_str(c, "position"));
	if (r)
		return lib_fail(c, r);
	return changed(c, 201,
		       json_pack("{s:s,s:s}", "nf", body_str(c, "nf"), "target",
				 body_str(c, "target")));
}

int h_att_del(struct call *c)
{
	json_t *nf = need_nf_cfg(c, c->arg[0]);
	int r;

	if (!nf)
		return c->resp->status;
	json_decref(nf);
	if ((r = nfc_detach(c->nfc, c->arg[0], c->arg[1])))
		return lib_fail(c, r);
	return changed(
		c, 200,
		json_pack("{s:s,s:s}", "nf", c->arg[0], "target", c->arg[1]));
}

/* ---- the whole state --------------------------------------------------------
 */

int h_state_get(struct call *c)
{
	json_t *doc = c->api->pending ? json_deep_copy(c->api->pending)
				      : nfc_export(c->nfc);

	if (!doc)
		return fail(c, 500, "export failed: %s", nfc_errmsg(c->nfc));
	return reply(c, 200, doc);
}

static int dry_run_arg(struct call *c, int *dry)
{
	const char *v =
		json_string_value(json_object_get(c->req->query, "dry_run"));

	*dry = 0;
	if (!v)
		return 0;
	if (!*v || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*dry = 1;
	else if (strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "no"))
		return fail(c, 400,
			    "query parameter dry_run must be 1 or 0, "
			    "not '%.32s'",
			    v);
	return 0;
}

/* The objects a whole state names ("object" of an NF) go into the store,
 * as an upgrade's does, and the document names the copies: the user's
 * file may then go, and a reboot finds them (found by a helper: an
 * apply ran an object from wherever it lay, and another daemon's
 * store). A dry run only checks them. */
static int store_doc_objects(struct call *c, json_t *doc, int dry,
			     json_t *copies)
{
	char copy[PATH_MAX], who[128];
	const char *file, *dir = c->api->obj_dir;
	size_t i, dl = dir ? strlen(dir) : 0;
	json_t *nf;
	int r;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf) {
		file = json_string_value(json_object_get(nf, "object"));
		if (!file || !*file)
			continue;
		/* Its own copy already (an export of this daemon): the
		 * library refuses it if it went. */
		if (dir && file[0] == '/' && !strncmp(file, dir, dl) &&
		    file[dl] == '/')
			continue;
		snprintf(who, sizeof(who), "NF %.64s",
			 json_string_value(json_object_get(nf, "name")) ?: "?");
		if ((r = object_take(c, who, file, !dry && dir, copy,
				     sizeof(copy))))
			return r;
		if (dry || !dir)
			continue;
		json_object_set_new(copies, copy, json_string(file));
		json_object_set_new(nf, "object", json_string(copy));
	}
	return 0;
}

/* A refused apply names the user's file, not the store's copy of it
 * (found by a helper: a wrong-hook object was named by a copy removed
 * right after). */
static int apply_fail(struct call *c, int rc, json_t *copies)
{
	const char *msg = nfc_errmsg(c->nfc), *copy;
	json_t *orig;

	json_object_foreach (copies, copy, orig)
		if (msg && strstr(msg, copy))
			return lib_fail_named(c, rc, copy,
					      json_string_value(orig));
	return lib_fail(c, rc);
}

int h_state_put(struct call *c)
{
	char err[512];
	json_t *plan = NULL, *step, *copies;
	size_t i;
	int dry, r;

	if ((r = dry_run_arg(c, &dry)))
		return r;
	c->body = doc_parse(c->req->body ?: "", c->req->body_len,
			    c->req->content_type, err, sizeof(err));
	if (!c->body)
		return fail(c, 400, "state document: %s", err);
	if (!json_is_object(c->body))
		return fail(c, 400,
			    "the state document must be an object "
			    "with nfs and attachments");
	if ((r = check_doc_names(c, c->body)))
		return r;
	copies = json_object();
	r = store_doc_objects(c, c->body, dry, copies);
	if (!r && (r = nfc_apply(c->nfc, c->body, dry, &plan)))
		r = apply_fail(c, r, copies);
	/* A refused apply's copies go: only what nothing names. */
	if (r && json_object_size(copies))
		objstore_prune(c->api, c->nfc);
	json_decref(copies);
	if (r) {
		json_decref(plan);
		return r;
	}
	if (!plan)
		plan = json_array();
	if (dry)
		return reply(
			c, 200,
			json_pack("{s:b,s:o}", "dry_run", 1, "plan", plan));
	/* An object replaced: a whole save, as an upgrade's. The prune below
	 * keeps what state.json names, and a record of the NF alone would
	 * leave it naming the objects replaced. */
	json_array_foreach (plan, i, step)
		if (!strncmp(json_string_value(step) ?: "", "upgrade NF ", 11))
			c->jwhole = true;
	r = changed(c, 200, json_pack("{s:b,s:o}", "dry_run", 0, "plan", plan));
	/* A whole new state supersedes the one that could not be
	 * restored; one that could not be saved did not. */
	if (r < 300 && c->api->blocked)
		api_unblock(c->api);
	/* An object replaced: the old copy goes (a prune exports the state
	 * and reads state.json: not for every apply). */
	if (c->jwhole)
		objstore_prune(c->api, c->nfc);
	return r;
}

int h_metrics_get(struct call *c)
{
	char *text = metrics_text(c->api);

	if (!text)
		return fail(c, 500, "out of memory rendering metrics");
	c->resp->text = text;
	c->resp->text_type = "text/plain; version=0.0.4; charset=utf-8";
	c->resp->status = 200;
	return 200;
}
