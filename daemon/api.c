// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The REST dispatcher: route table, request checks shared by every
 * resource, the mapping of library errors to HTTP statuses, and saving the
 * state after each accepted change. The resources are in handlers.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "nfchain/nfchain.h"

#include "api_int.h"
#include "doc.h"
#include "log.h"

#define MAX_SEGS 8
#define MAX_PATH 4096

/*
 * The tree. {x} matches one path segment (percent-decoded) and is passed
 * to the handler in c->arg[]; the first matching pattern wins, so literal
 * segments ("ports", "stats") come before the {coll} catch-all.
 */
struct route {
	const char *pat;
	handler_fn get, post, put, patch, del;
};

static const struct route routes[] = {
	{"metrics", .get = h_metrics_get},
	{"v1/types", .get = h_types_get, .post = h_types_post},
	{"v1/types/{type}", .get = h_type_get, .del = h_type_del},
	{"v1/nfs", .get = h_nfs_get, .post = h_nfs_post},
	{"v1/nfs/{nf}", .get = h_nf_get, .patch = h_nf_patch, .del = h_nf_del},
	{"v1/nfs/{nf}/ports", .get = h_ports_get, .post = h_ports_post},
	{"v1/nfs/{nf}/ports/{port}", .get = h_port_get, .patch = h_port_patch,
	 .del = h_port_del},
	{"v1/nfs/{nf}/stats", .get = h_stats_get},
	{"v1/nfs/{nf}/upgrade", .post = h_nf_upgrade},
	/* GET is a stream served by http.c and pcap.c; the route is here
	 * so that no other method is taken for a collection "pcap" (the
	 * Allow header listed a POST that could never work). */
	{"v1/nfs/{nf}/pcap", .get = h_pcap_get},
	{"v1/nfs/{nf}/{coll}", .get = h_coll_get, .post = h_coll_post},
	{"v1/nfs/{nf}/{coll}/import", .post = h_coll_import},
	{"v1/nfs/{nf}/{coll}/{key}", .get = h_coll_key_get,
	 .patch = h_coll_key_patch, .del = h_coll_key_del},
	{"v1/links", .get = h_links_get, .post = h_links_post},
	{"v1/links/{port}", .del = h_link_del},
	{"v1/attachments", .get = h_att_get, .post = h_att_post},
	{"v1/attachments/{nf}/{target}", .del = h_att_del},
	{"v1/state", .get = h_state_get, .put = h_state_put},
};

int api_init(struct api *api, struct nfc *nfc)
{
	memset(api, 0, sizeof(*api));
	api->nfc = nfc;
	api->types = nfc_types();
	return api->types ? 0 : -ENOMEM;
}

void api_unblock(struct api *api)
{
	free(api->blocked);
	json_decref(api->pending);
	api->blocked = NULL;
	api->pending = NULL;
}

void api_fini(struct api *api)
{
	json_decref(api->types);
	api->types = NULL;
	api_unblock(api);
}

void api_resp_free(struct api_resp *resp)
{
	json_decref(resp->json);
	free(resp->text);
	resp->json = NULL;
	resp->text = NULL;
}

void api_count(struct api *api, int status)
{
	if (status >= 0 && status < API_MAX_STATUS)
		api->requests[status]++;
}

/* ---- answers ------------------------------------------------------------ */

int reply(struct call *c, int status, json_t *json)
{
	json_decref(c->resp->json);
	c->resp->status = status;
	/* An error answer always says something (a NULL json is a body
	 * that could not be built). */
	if (!json && status >= 400)
		json = json_pack("{s:s}", "error",
				 "the error message could not be encoded");
	c->resp->json = json ? json : json_object();
	return status;
}

int fail(struct call *c, int status, const char *fmt, ...)
{
	char msg[1024], clean[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Names from the request or the kernel may hold any byte, and the
	 * cut at 1 kB may split a character: JSON takes only UTF-8. */
	return reply(c, status,
		     json_pack("{s:s}", "error",
			       nfd_utf8(msg, clean, sizeof(clean))));
}

/* Status for a library refusal. Resources named in the path are checked
 * before the call (404), so ENOENT from the library means a reference in
 * the body, except for a DELETE of a sub-resource that is not there. */
static int status_of(int rc, const char *method)
{
	switch (-rc) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return strcmp(method, "DELETE") ? 400 : 404;
	case ESRCH: /* the entry a PATCH names */
		return 404;
	case EEXIST:
	case EBUSY:
	case EISCONN:
	case ENOTEMPTY:
	case EALREADY:
		return 409;
	case ENOSPC: /* a limit (NFs, ports, chain depth) is reached */
	case E2BIG:
	case EMLINK:
	case EDQUOT:
		return 409;
	case EINVAL:
	case ERANGE:
	case EDOM:
	case EOPNOTSUPP:
	case ENAMETOOLONG:
	case ELOOP:
	case ENOTCONN:
	case EBADMSG:
	case EILSEQ:
	case EPROTONOSUPPORT:
	case EAFNOSUPPORT:
		return 400;
	default:
		return 500;
	}
}

int lib_fail(struct call *c, int rc)
{
	return lib_fail_named(c, rc, NULL, NULL);
}

int lib_fail_named(struct call *c, int rc, const char *copy, const char *orig)
{
	const char *msg = nfc_errmsg(c->nfc), *at;
	char named[2048];

	if (msg && copy && copy[0] && orig && (at = strstr(msg, copy))) {
		snprintf(named, sizeof(named), "%.*s%s%s", (int)(at - msg), msg,
			 orig, at + strlen(copy));
		msg = named;
	}

	if (!msg || !*msg)
		return fail(c, 500, "%s %s failed: %s", c->req->method,
			    c->req->path, strerror(-rc));
	/* The library's ENOSPC is a limit reached (409); an NF that could not
	 * write its own file in the state directory (a ddos feed, an upgrade's
	 * object) passes on the write's own errno text, whatever code it
	 * returns: a full disk is 507 wherever it is met. */
	if (strstr(msg, strerror(ENOSPC)) || strstr(msg, strerror(EDQUOT)))
		return fail(c, 507, "%s", msg);
	return fail(c, status_of(rc, c->req->method), "%s", msg);
}

int changed(struct call *c, int status, json_t *json)
{
	struct api *api = c->api;
	char err[1024], one[64];
	json_t *state;
	uint64_t gen;
	/* The library says what its saves changed: one NF's own fields (a
	 * `set`, a PATCH, an apply that only did that) is one record. */
	int what = nfc_take_saved(c->nfc, one, sizeof(one));
	int r;

	c->resp->changed = 1;
	if (!api->save)
		return reply(c, status, json);
	gen = nfc_state_gen(c->nfc);
	if (gen && gen == api->saved_gen && !api->blocked)
		return reply(c, status, json); /* a no-op apply of 10,000 */
	r = 1;
	if (c->jkey && api->save_entry && !api->blocked) {
		json_t *v = nfc_coll_get(c->nfc, c->jnf, c->jcoll, c->jkey);

		r = api->save_entry(api->save_ctx, c->jnf, c->jcoll, c->jkey, v,
				    err, sizeof(err));
		json_decref(v);
	} else if ((c->jfields || what == NFC_SAVED_NF) && api->save_nf &&
		   !api->blocked && !c->jwhole) {
		json_t *nf = nfc_export_nf(c->nfc, c->jfields ? c->jnf : one);

		r = nf ? api->save_nf(api->save_ctx, nf, err, sizeof(err)) : 1;
		json_decref(nf);
	}
	if (r > 0) {
		state = nfc_export(c->nfc);
		r = api->save(api->save_ctx, state, err, sizeof(err));
		json_decref(state);
	}
	if (r) {
		/* Not durable, so not accepted: save() undid it. */
		c->resp->changed = 0;
		json_decref(json);
		return fail(c, disk_status(r, 500), "%s", err);
	}
	api->saved_gen = gen;
	return reply(c, status, json);
}

/* ---- request checks ---------------------------------------------------- */

static const char *const kind_names[] = {
	[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
	[JSON_STRING] = "a string",  [JSON_INTEGER] = "an integer",
	[JSON_REAL] = "a number",    [JSON_TRUE] = "a boolean",
	[JSON_FALSE] = "a boolean",  [JSON_NULL] = "null",
};

static const char *jtype(const json_t *v)
{
	return kind_names[json_typeof(v)];
}

static void types_str(unsigned t, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	/* JSON_FALSE is skipped: "a boolean" is said once, for JSON_TRUE. */
	for (int k = JSON_OBJECT; k <= JSON_NULL && o < len; k++)
		if ((t & (1u << k)) && k != JSON_FALSE)
			o += snprintf(buf + o, len - o, "%s%s", o ? " or " : "",
				      kind_names[k]);
}

int body_object(struct call *c, const struct bfield *spec)
{
	char err[512], expect[256];
	const char *key;
	json_t *v;
	size_t o = 0;

	expect[0] = 0;
	for (const struct bfield *f = spec; f->name; f++)
		o += snprintf(expect + o, sizeof(expect) - o, "%s%s",
			      o ? ", " : "", f->name);
	if (!c->req->body_len)
		return fail(c, 400,
			    "the request body is empty: a JSON object "
			    "with %s was expected",
			    expect);
	c->body = doc_parse_json(c->req->body, c->req->body_len, err,
				 sizeof(err));
	if (!c->body)
		return fail(c, 400, "request body: %s", err);
	if (!json_is_object(c->body))
		return fail(c, 400,
			    "the request body is %s: a JSON object "
			    "with %s was expected",
			    jtype(c->body), expect);
	json_object_foreach (c->body, key, v) {
		const struct bfield *f = spec;

		while (f->name && strcmp(f->name, key))
			f++;
		if (!f->name)
			return fail(c, 400,
				    "unknown field '%s' in the request "
				    "body (fields: %s)",
				    key, expect);
		if (!(f->types & (1u << json_typeof(v)))) {
			types_str(f->types, err, sizeof(err));
			return fail(c, 400, "field '%s' must be %s, not %s",
				    key, err, jtype(v));
		}
	}
	for (const struct bfield *f = spec; f->name; f++)
		if (f->required && !json_object_get(c->body, f->name))
			return fail(c, 400,
				    "missing field '%s' in the request "
				    "body",
				    f->name);
	return 0;
}

json_t *body_get(struct call *c, const char *name)
{
	json_t *v = json_object_get(c->body, name);

	return json_is_null(v) ? NULL : v;
}

const char *body_str(struct call *c, const char *name)
{
	return json_string_value(json_object_get(c->body, name));
}

/* The syntax of the name rule (nfchain.h); reserved words are checked only
 * where a name is given to something new. */
bool name_ok(const char *s)
{
	return nfc_name_check(s, NULL) == NFC_NAME_OK;
}

int check_name(struct call *c, const char *what, const char *s)
{
	if (name_ok(s))
		return 0;
	return fail(c, 400,
		    "invalid %s name '%.64s': a name is 1 to %d "
		    "letters, digits, '_' or '-', not starting with '-'",
		    what, s ?: "", NFC_NAME_LEN);
}

bool is_type(struct api *api, const char *name)
{
	json_t *t;
	size_t i;

	if (json_is_object(api->types))
		return json_object_get(api->types, name) != NULL;
	json_array_foreach (api->types, i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")) ?: "",
			    name))
			return true;
	return false;
}

const char *type_names(struct api *api, char *buf, size_t len)
{
	size_t o = 0, i;
	const char *k;
	json_t *t;

	buf[0] = 0;
	if (json_is_object(api->types)) {
		json_object_foreach (api->types, k, t)
			o += snprintf(buf + o, len > o ? len - o : 0, "%s%s",
				      o ? ", " : "", k);
	} else {
		json_array_foreach (api->types, i, t)
			o += snprintf(
				buf + o, len > o ? len - o : 0, "%s%s",
				o ? ", " : "",
				json_string_value(json_object_get(t, "name")));
	}
	return buf;
}

int check_nf_name_free(struct call *c, const char *s)
{
	int r = check_name(c, "NF", s);

	if (r)
		return r;
	if (nfc_name_reserved(s, 0))
		return fail(c, 400,
			    "NF name '%s' is a command of the nfchain "
			    "CLI; choose another name",
			    s);
	if (is_type(c->api, s))
		return fail(c, 400,
			    "NF name '%s' is the name of an NF type; "
			    "choose another name",
			    s);
	return 0;
}

int check_port_name(struct call *c, const char *s)
{
	int r = check_name(c, "port", s);

	if (r)
		return r;
	if (nfc_name_reserved(s, 1))
		return fail(c, 400,
			    "port name '%s' is a word of the nfchain "
			    "CLI grammar; choose another name",
			    s);
	return 0;
}

int check_doc_names(struct call *c, json_t *doc)
{
	json_t *nf, *port;
	size_t i, j;
	int r;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf) {
		const char *n = json_string_value(json_object_get(nf, "name"));

		if (n && (r = check_nf_name_free(c, n)))
			return r;
		json_array_foreach (json_object_get(nf, "ports"), j, port) {
			const char *p = json_string_value(
				json_object_get(port, "name"));

			if (p && (r = check_port_name(c, p)))
				return r;
		}
	}
	return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

/* Splits "/v1/nfs/a%2Fb" into decoded segments. Percent-decoding happens
 * per segment, after the split, so an encoded '/' stays inside its
 * segment (a prefix as a collection key: 198.51.100.0%2F24). */
static int split_path(struct call *c, char *buf, char **seg, int *n)
{
	char *save = NULL, *s;

	*n = 0;
	if (buf[0] != '/')
		return fail(c, 400, "the path must start with '/'");
	for (s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		size_t len;

		if (*n == MAX_SEGS)
			return fail(c, 404, "no resource at %.200s",
				    c->req->path);
		len = MHD_http_unescape(s);
		if (len != strlen(s) || len == 0)
			return fail(c, 400,
				    "path segment %d contains a NUL "
				    "or is empty",
				    *n + 1);
		seg[(*n)++] = s;
	}
	return 0;
}

static const struct route *match(char **seg, int n, struct call *c)
{
	for (size_t r = 0; r < sizeof(routes) / sizeof(routes[0]); r++) {
		char pat[128], *save = NULL, *p;
		int i = 0, a = 0;
		bool ok = true;

		snprintf(pat, sizeof(pat), "%s", routes[r].pat);
		for (p = strtok_r(pat, "/", &save); p && ok;
		     p = strtok_r(NULL, "/", &save), i++) {
			if (i >= n)
				ok = false;
			else if (p[0] == '{')
				c->arg[a++] = seg[i];
			else if (strcmp(p, seg[i]))
				ok = false;
		}
		if (ok && i == n)
			return &routes[r];
	}
	return NULL;
}

static handler_fn pick(const struct route *r, const char *m)
{
	if (!strcmp(m, "GET") || !strcmp(m, "HEAD"))
		return r->get;
	if (!strcmp(m, "POST"))
		return r->post;
	if (!strcmp(m, "PUT"))
		return r->put;
	if (!strcmp(m, "PATCH"))
		return r->patch;
	if (!strcmp(m, "DELETE"))
		return r->del;
	return NULL;
}

static int check_query(struct call *c, handler_fn h)
{
	const char *k;
	json_t *v;

	v = json_object_get(c->req->query, HTTP_QUERY_TWICE);
	if (v)
		return fail(c, 400, "query parameter '%.64s' is given twice",
			    json_string_value(v));
	json_object_foreach (c->req->query, k, v) {
		if (h == h_state_put && !strcmp(k, "dry_run"))
			continue;
		if (h == h_coll_import && !strcmp(k, "replace"))
			continue;
		if (h == h_pcap_get)
			continue; /* h_pcap_get names the NF first */
		return fail(c, 400, "unknown query parameter '%.64s'%s", k,
			    h == h_state_put ? " (known: dry_run)" : "");
	}
	return 0;
}

static void dispatch(struct call *c)
{
	char path[MAX_PATH], *seg[MAX_SEGS];
	const struct route *r;
	const char *m = c->req->method ? c->req->method : "";
	bool reads;
	handler_fn h;
	int n;

	if (!c->req->path || strlen(c->req->path) >= sizeof(path)) {
		fail(c, 414, "the path is longer than %d bytes", MAX_PATH - 1);
		return;
	}
	snprintf(path, sizeof(path), "%s", c->req->path);
	if (split_path(c, path, seg, &n))
		return;
	r = match(seg, n, c);
	if (!r) {
		/* Under /v1/ the likely slip is a key's '/' (a prefix) left
		 * as it is (found by a helper: "the API is under /v1/"). */
		fail(c, 404, "no resource at %.200s (%s)", c->req->path,
		     strncmp(c->req->path, "/v1/", 4)
			     ? "the API is under /v1/"
			     : "a '/' inside a key is written %2F, as in "
			       "198.51.100.0%2F24");
		return;
	}
	h = pick(r, m);
	if (!h) {
		size_t o = 0;
		const char *names[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
		handler_fn hs[] = {r->get, r->post, r->put, r->patch, r->del};

		for (int i = 0; i < 5; i++)
			if (hs[i])
				o += snprintf(c->resp->allow + o,
					      sizeof(c->resp->allow) - o,
					      "%s%s", o ? ", " : "", names[i]);
		fail(c, 405,
		     "method %.16s is not allowed on %.200s (allowed: "
		     "%s)",
		     m, c->req->path, c->resp->allow);
		return;
	}
	if (check_query(c, h))
		return;
	reads = h == r->get;
	if (reads && c->req->body_len) {
		fail(c, 400, "%s takes no request body", m);
		return;
	}
	if (!reads && !strcmp(m, "DELETE") && c->req->body_len) {
		fail(c, 400, "DELETE takes no request body");
		return;
	}
	/* A type load changes no state, and may be what the restore
	 * waits for ("unknown type"): refused, there was no way out but
	 * an apply over the saved state (found by a helper). */
	/* Nor an unload: a wrong build loaded while the restore waits
	 * could be neither unloaded nor replaced (found by a helper); the
	 * library refuses it while an NF of the type runs. */
	if (!reads && c->api->blocked && h != h_state_put &&
	    h != h_types_post && h != h_type_del) {
		fail(c, 409, "%s", c->api->blocked);
		return;
	}
	h(c);
}

void api_handle(struct api *api, const struct api_req *req,
		struct api_resp *resp)
{
	struct call c = {.api = api, .nfc = api->nfc, .req = req, .resp = resp};

	memset(resp, 0, sizeof(*resp));
	dispatch(&c);
	if (!resp->status)
		fail(&c, 500, "internal error: no answer for %s", req->path);
	json_decref(c.body);
	api_count(api, resp->status);
}
