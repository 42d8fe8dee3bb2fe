// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The nfchain CLI's action for a parsed command (grammar.c): which HTTP
 * call of nfchaind's REST API it is, with its body, and how the answer is
 * printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Appends "/seg" to the path, percent-encoded (all but RFC 3986's
 * unreserved characters and ':'): a prefix key such as 198.51.100.0/24
 * stays one segment. */
static int path_add(struct cli_req *r, const char *seg)
{
	static const char keep[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				   "qrstuvwxyz0123456789-._~:@";
	size_t o = strlen(r->path);

	if (o + 1 >= sizeof(r->path))
		return -1;
	r->path[o++] = '/';
	for (const unsigned char *s = (const unsigned char *)seg; *s; s++) {
		if (o + 4 >= sizeof(r->path))
			return -1;
		if (strchr(keep, *s))
			r->path[o++] = *s;
		else
			o += sprintf(r->path + o, "%%%02X", *s);
	}
	r->path[o] = 0;
	return 0;
}

static void set(struct cli_req *r, const char *method, enum view v)
{
	r->method = method;
	r->view = v;
}

static char *read_all(const char *file, size_t *len, char *err, size_t elen)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	char *buf = NULL, chunk[65536];
	FILE *m;
	size_t n;

	if (!f) {
		snprintf(err, elen, "cannot read %s: %s", file,
			 strerror(errno));
		return NULL;
	}
	m = open_memstream(&buf, len);
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	if (!m || ferror(f)) {
		snprintf(err, elen, "cannot read %s: %s", file,
			 strerror(errno));
		if (m)
			fclose(m);
		free(buf);
		buf = NULL;
	} else {
		fclose(m);
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

/* The key=value words that are not lifted, as an object of strings under
 * `name` (config, fields): the daemon converts them by the declared kind. */
static void kv_into(json_t *body, const char *name, const struct cli_cmd *c)
{
	char key[128];
	json_t *o;

	if (!c->nkv)
		return;
	o = json_object();
	for (int i = 0; i < c->nkv; i++) {
		const char *v = cli_kv_split(c->kv[i], key, sizeof(key));

		json_object_set_new(o, key, json_string(v));
	}
	json_object_set_new(body, name, o);
}

/* A lifted key goes to the top of the body; empty means "none" (peer=:
 * disconnected). */
static void lift_into(json_t *body, const struct cli_cmd *c, enum cli_lift k,
		      const char *name)
{
	if (c->lift[k])
		json_object_set_new(body, name,
				    c->lift[k][0] ? json_string(c->lift[k])
						  : json_null());
}

static int apply_file(const struct cli_cmd *c, struct cli_req *r, char *err,
		      size_t len)
{
	const char *dot = strrchr(c->file, '.');

	r->raw = read_all(c->file, &r->raw_len, err, len);
	if (!r->raw)
		return -2;
	if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
		r->content_type = "application/yaml";
	else if (dot && !strcmp(dot, ".json"))
		r->content_type = "application/json";
	else /* stdin, or another name: the daemon tells by the content */
		r->content_type = "text/plain";
	r->dry_run = c->dry_run;
	snprintf(r->path, sizeof(r->path), "/v1/state%s",
		 c->dry_run ? "?dry_run=1" : "");
	return 0;
}

/* An object path the daemon can open (it may run elsewhere in the tree). */
static json_t *abs_path(const char *file, char *err, size_t len)
{
	char *p = realpath(file, NULL);
	json_t *s;

	if (!p) {
		snprintf(err, len, "%s: %s", file, strerror(errno));
		return NULL;
	}
	s = json_string(p);
	free(p);
	return s;
}

/* The sibling build of an object: ttl.xdp.bpf.o <-> ttl.tc.bpf.o, as
 * nfchain-nf.mk names them. NULL if none. */
static char *sibling(const char *file, const char *from, const char *to)
{
	size_t l = strlen(file), fl = strlen(from);
	char *s;

	if (l < fl || strcmp(file + l - fl, from))
		return NULL;
	s = malloc(l - fl + strlen(to) + 1);
	if (s)
		sprintf(s, "%.*s%s", (int)(l - fl), file, to);
	if (s && access(s, R_OK)) {
		free(s);
		s = NULL;
	}
	return s;
}

/* X.bpf.o that is not there, beside X.xdp.bpf.o or X.tc.bpf.o: its
 * absolute name, for an upgrade (the daemon takes the build of the NF's
 * hook); NULL if neither build is there. */
static char *pair_abs(const char *file)
{
	char *x = sibling(file, ".bpf.o", ".xdp.bpf.o");
	char *t = sibling(file, ".bpf.o", ".tc.bpf.o"), *dir = NULL,
	     *abs = NULL;
	const char *base = strrchr(file, '/'), *slash;

	if (x && !access(x, F_OK))
		dir = realpath(x, NULL);
	else if (t && !access(t, F_OK))
		dir = realpath(t, NULL);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && asprintf(&abs, "%.*s/%s", (int)(slash - dir), dir,
			      base ? base + 1 : file) < 0)
		abs = NULL;
	free(dir);
	free(x);
	free(t);
	return abs;
}

/*
 * types load FILE [name=N] [with=FILE2] [plugin=SO]: the files as absolute
 * paths.
 * FILE ttl.bpf.o that is not there stands for ttl.xdp.bpf.o and
 * ttl.tc.bpf.o; either of those brings the other along.
 */
static int type_load_body(const struct cli_cmd *c, struct cli_req *r, char *err,
			  size_t len)
{
	char key[128], *first = NULL, *other = NULL;
	const char *with = NULL, *name = NULL, *plugin = NULL;
	json_t *objs = json_array(), *p, *so = NULL;
	int rc = -1;

	for (int i = 0; i < c->nkv; i++) {
		const char *v = cli_kv_split(c->kv[i], key, sizeof(key));

		if (!strcmp(key, "name"))
			name = v;
		else if (!strcmp(key, "with"))
			with = v;
		else if (!strcmp(key, "plugin"))
			plugin = v;
		else {
			snprintf(err, len,
				 "types load takes name=, with= and plugin=, "
				 "not '%s='",
				 key);
			goto out;
		}
	}
	if (access(c->file, F_OK) &&
	    (first = sibling(c->file, ".bpf.o", ".xdp.bpf.o")))
		other = sibling(c->file, ".bpf.o", ".tc.bpf.o");
	else if (access(c->file, F_OK)) /* a TC-only type */
		first = sibling(c->file, ".bpf.o", ".tc.bpf.o");
	else if (!with &&
		 !(other = sibling(c->file, ".xdp.bpf.o", ".tc.bpf.o")))
		other = sibling(c->file, ".tc.bpf.o", ".xdp.bpf.o");
	if (!(p = abs_path(first ? first : c->file, err, len)))
		goto out;
	json_array_append_new(objs, p);
	if (with || other) {
		if (!(p = abs_path(with ? with : other, err, len)))
			goto out;
		json_array_append_new(objs, p);
	}
	if (plugin && !(so = abs_path(plugin, err, len)))
		goto out;
	r->body = json_pack("{s:O}", "objects", objs);
	if (so)
		json_object_set_new(r->body, "plugin", so);
	if (name)
		json_object_set_new(r->body, "name", json_string(name));
	rc = 0;
out:
	if (rc && !err[0])
		snprintf(err, len, "out of memory");
	free(first);
	free(other);
	json_decref(objs);
	return rc ? -2 : 0;
}

/* The path: a fixed start and segments, each percent-encoded. */
static int path(struct cli_req *r, const char *start, const char *a,
		const char *b)
{
	snprintf(r->path, sizeof(r->path), "%s", start);
	if ((a && path_add(r, a)) || (b && path_add(r, b)))
		return -1;
	return 0;
}

int cli_request(const struct cli_cmd *c, struct cli_req *r, char *err,
		size_t len)
{
	int rc = 0;

	memset(r, 0, sizeof(*r));
	switch (c->op) {
	case CLI_HELP:
		break;
	case CLI_TYPES:
		set(r, "GET", V_TYPES);
		rc = path(r, "/v1/types", NULL, NULL);
		break;
	case CLI_TYPE_LOAD:
		set(r, "POST", V_QUIET);
		if (path(r, "/v1/types", NULL, NULL))
			break;
		return type_load_body(c, r, err, len);
	case CLI_TYPE_UNLOAD:
		set(r, "DELETE", V_QUIET);
		rc = path(r, "/v1/types", c->type, NULL);
		break;
	case CLI_TYPE_SHOW:
		/* One type, loaded or built in; without one, the loaded ones.
		 */
		set(r, "GET", c->type ? V_TYPE : V_LOADED);
		rc = path(r, "/v1/types", c->type, NULL);
		break;
	case CLI_SHOW:
		set(r, "GET", V_SHOW);
		rc = path(r, "/v1/nfs", NULL, NULL);
		break;
	case CLI_EXPORT:
		set(r, "GET", V_EXPORT);
		rc = path(r, "/v1/state", NULL, NULL);
		break;
	case CLI_APPLY:
		set(r, "PUT", V_PLAN);
		return apply_file(c, r, err, len);
	case CLI_CONNECT:
		set(r, "POST", V_QUIET);
		rc = path(r, "/v1/links", NULL, NULL);
		r->body =
			json_pack("{s:s,s:s}", "port", c->ep, "peer", c->peer);
		break;
	case CLI_DISCONNECT:
		set(r, "DELETE", V_QUIET);
		rc = path(r, "/v1/links", c->ep, NULL);
		break;
	case CLI_ATTACH:
		set(r, "POST", V_QUIET);
		rc = path(r, "/v1/attachments", NULL, NULL);
		r->body = json_pack("{s:s,s:s}", "nf", c->nf, "target",
				    c->target);
		lift_into(r->body, c, CLI_DIRECTION, "direction");
		lift_into(r->body, c, CLI_POSITION, "position");
		break;
	case CLI_DETACH:
		set(r, "DELETE", V_QUIET);
		rc = path(r, "/v1/attachments", c->nf, c->target);
		break;
	case CLI_NF_ADD:
		set(r, "POST", V_QUIET);
		rc = path(r, "/v1/nfs", NULL, NULL);
		r->add_type = c->type;
		r->add_name = c->nf;
		r->body =
			json_pack("{s:s,s:s}", "name", c->nf, "type", c->type);
		lift_into(r->body, c, CLI_MODE, "mode");
		kv_into(r->body, "config", c);
		break;
	case CLI_NF_SHOW:
		set(r, "GET",
		    !c->what			? V_NF
		    : !strcmp(c->what, "ports") ? V_PORTS
		    : !strcmp(c->what, "stats") ? V_STATS
						: V_COLL);
		rc = path(r, "/v1/nfs", c->nf, c->what);
		break;
	case CLI_NF_DEL:
		set(r, "DELETE", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, NULL);
		break;
	case CLI_NF_DUMP:
		set(r, "GET", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, "pcap");
		for (int i = 0; !rc && i < c->nkv; i++) {
			char key[32];
			const char *v =
				cli_kv_split(c->kv[i], key, sizeof(key));
			size_t o = strlen(r->path);

			if (strcmp(key, "count") && strcmp(key, "seconds") &&
			    strcmp(key, "format")) {
				snprintf(err, len,
					 "dump takes count=N, seconds=S and "
					 "format=pcap|pcapng, not %s",
					 key);
				return -1;
			}
			if (!strcmp(key, "format") && strcmp(v, "pcap") &&
			    strcmp(v, "pcapng")) {
				snprintf(err, len,
					 "format=%s: expected pcap or pcapng",
					 v);
				return -1;
			}
			if ((strcmp(key, "format") &&
			     strspn(v, "0123456789") != strlen(v)) ||
			    o + strlen(c->kv[i]) + 2 >= sizeof(r->path)) {
				snprintf(err, len, "%s=%s: expected a number",
					 key, v);
				return -1;
			}
			snprintf(r->path + o, sizeof(r->path) - o, "%c%s=%s",
				 i ? '&' : '?', key, v);
		}
		break;
	case CLI_NF_SET:
		set(r, "PATCH", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, NULL);
		r->body = json_object();
		lift_into(r->body, c, CLI_MODE, "mode");
		kv_into(r->body, "config", c);
		break;
	case CLI_NF_UPGRADE:
		/* The daemon reads the file (and keeps a copy): its name must
		 * not depend on the CLI's directory. */
		set(r, "POST", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, "upgrade");
		r->body = json_object();
		if (c->file) {
			char *abs = realpath(c->file, NULL);

			if (!abs && errno == ENOENT)
				abs = pair_abs(c->file);
			if (!abs) {
				snprintf(err, len, "%s: %s", c->file,
					 strerror(ENOENT));
				return -2;
			}
			json_object_set_new(r->body, "file", json_string(abs));
			free(abs);
		}
		if (c->migrate)
			json_object_set_new(r->body, "migrate",
					    json_string(c->migrate));
		break;
	case CLI_PORT_ADD:
		set(r, "POST", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, "ports");
		r->body = json_pack("{s:s}", "name", c->port);
		lift_into(r->body, c, CLI_PEER, "peer");
		kv_into(r->body, "config", c);
		break;
	case CLI_PORT_SET:
	case CLI_PORT_DEL:
		set(r, c->op == CLI_PORT_SET ? "PATCH" : "DELETE", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, "ports") || path_add(r, c->port);
		if (c->op == CLI_PORT_SET) {
			r->body = json_object();
			lift_into(r->body, c, CLI_PEER, "peer");
			kv_into(r->body, "config", c);
		}
		break;
	case CLI_COLL_ADD:
		set(r, "POST", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, c->coll);
		r->body = json_pack("{s:s}", "key", c->key);
		kv_into(r->body, "fields", c);
		break;
	case CLI_COLL_SET:
		set(r, "PATCH", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, c->coll) || path_add(r, c->key);
		r->body = json_object();
		kv_into(r->body, "fields", c);
		break;
	case CLI_COLL_DEL:
		set(r, "DELETE", V_QUIET);
		rc = path(r, "/v1/nfs", c->nf, c->coll) ||
		     path_add(r, c->key ? c->key : "all");
		break;
	case CLI_COLL_SHOW:
		/* `<nf> stats show` and `<nf> ports show` read as `<nf> show
		 * stats|ports`: the API's error lists them among the
		 * collections, and stats printed "no entries". */
		set(r, "GET",
		    !strcmp(c->coll, "stats")	? V_STATS
		    : !strcmp(c->coll, "ports") ? V_PORTS
						: V_COLL);
		if (c->key && r->view != V_COLL) {
			snprintf(err, len, "'%s %s show' takes no key", c->nf,
				 c->coll);
			return -1;
		}
		rc = path(r, "/v1/nfs", c->nf, c->coll);
		if (!rc && c->key)
			rc = path_add(r, c->key);
		break;
	case CLI_COLL_IMPORT:
		set(r, "POST", V_QUIET);
		r->raw = read_all(c->file, &r->raw_len, err, len);
		if (!r->raw)
			return -2;
		r->content_type = "text/plain";
		rc = path(r, "/v1/nfs", c->nf, c->coll) ||
		     path_add(r, "import");
		if (!rc && c->replace)
			strncat(r->path, "?replace=1",
				sizeof(r->path) - strlen(r->path) - 1);
		break;
	}
	if (rc) {
		snprintf(err, len, "the request path is too long");
		return -1;
	}
	return 0;
}

void cli_req_free(struct cli_req *r)
{
	json_decref(r->body);
	free(r->raw);
	r->body = NULL;
	r->raw = NULL;
}
