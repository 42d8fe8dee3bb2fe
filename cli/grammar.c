// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The grammar (a contract: scripts and tests outside the tree use it;
 * docs/man/nfchain.8):
 *   types | show | export
 *   <type> add <name> [mode=...] [key=value ...]
 *   <name> show [ports|<collection>|stats]
 *   <name> set key=value ...          <name> del
 *   <name> ports add <port> [peer=...] [key=value ...]
 *   <name> ports <port> set key=value ...
 *   <name> ports del <port>
 *   <name> <collection> add <key> [key=value ...]
 *   <name> <collection> del <key>
 *   connect <nf>:<port> <netdev>|<nf>:<port>     disconnect <nf>:<port>
 *   attach <nf> <target> [direction=...] [position=...]
 *   detach <nf> <target>
 *   apply [--dry-run] -f FILE|-
 * Collections are whatever the NF's type declares: anything in second
 * place that is not show/set/del/ports is taken as one, and the daemon
 * says which exist if it is not.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int usage_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int usage_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

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

/* key=value words into `obj`; `lift` names keys that go to the top of the
 * body instead (mode=, peer=). */
static int kv(char **w, int n, json_t *obj, json_t *top,
	      const char *const *lift, char *err, size_t len)
{
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(w[i], '=');
		char key[128];
		json_t *dst = obj;

		if (!eq || eq == w[i])
			return usage_err(err, len,
					 "expected key=value, got "
					 "'%s'",
					 w[i]);
		if ((size_t)(eq - w[i]) >= sizeof(key))
			return usage_err(err, len, "key too long in '%.40s...'",
					 w[i]);
		memcpy(key, w[i], eq - w[i]);
		key[eq - w[i]] = 0;
		for (int k = 0; lift && lift[k]; k++)
			if (!strcmp(key, lift[k]))
				dst = top;
		if (json_object_get(dst, key))
			return usage_err(err, len, "'%s' is given twice", key);
		/* peer= (empty) means "no peer": disconnected. */
		json_object_set_new(dst, key,
				    dst == top && !eq[1] ? json_null()
							 : json_string(eq + 1));
	}
	return 0;
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

static int parse_apply(int argc, char **argv, struct cli_req *r, char *err,
		       size_t len)
{
	const char *file = NULL, *dot;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			r->dry_run = true;
		else if (!strcmp(argv[i], "-f") && i + 1 < argc && !file)
			file = argv[++i];
		else
			return usage_err(err, len, "apply: unexpected '%s'",
					 argv[i]);
	}
	if (!file)
		return usage_err(err, len,
				 "apply needs -f FILE (or -f - for "
				 "stdin)");
	r->raw = read_all(file, &r->raw_len, err, len);
	if (!r->raw)
		return -2; /* not a usage error: the file is unreadable */
	dot = strrchr(file, '.');
	if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
		r->content_type = "application/yaml";
	else if (dot && !strcmp(dot, ".json"))
		r->content_type = "application/json";
	set(r, "PUT", V_PLAN);
	snprintf(r->path, sizeof(r->path), "/v1/state%s",
		 r->dry_run ? "?dry_run=1" : "");
	return 0;
}

static int nf_port(const char *s, char *err, size_t len)
{
	const char *c = strchr(s, ':');

	if (!c || c == s || !c[1])
		return usage_err(err, len, "'%s' is not <nf>:<port>", s);
	return 0;
}

/* Commands that start with an NF name. */
static int parse_nf(int argc, char **argv, struct cli_req *r, char *err,
		    size_t len)
{
	static const char *const lift_mode[] = {"mode", NULL};
	static const char *const lift_peer[] = {"peer", NULL};
	const char *nf = argv[0], *w = argc > 1 ? argv[1] : NULL;
	json_t *cfg;

	if (!w)
		return usage_err(err, len,
				 "'%s' needs a command: show, set, "
				 "del, ports or a collection",
				 nf);
	strcpy(r->path, "/v1/nfs");
	path_add(r, nf);
	if (!strcmp(w, "show")) {
		if (argc > 3)
			return usage_err(err, len,
					 "show takes at most one of "
					 "ports, stats, <collection>");
		set(r, "GET", V_NF);
		if (argc == 3) {
			path_add(r, argv[2]);
			r->view = !strcmp(argv[2], "ports")   ? V_PORTS
				  : !strcmp(argv[2], "stats") ? V_STATS
							      : V_COLL;
		}
		return 0;
	}
	if (!strcmp(w, "del")) {
		if (argc != 2)
			return usage_err(err, len,
					 "'%s del' takes no more "
					 "words",
					 nf);
		set(r, "DELETE", V_QUIET);
		return 0;
	}
	if (!strcmp(w, "set")) {
		if (argc < 3)
			return usage_err(err, len, "set needs key=value");
		set(r, "PATCH", V_QUIET);
		r->body = json_object();
		cfg = json_object();
		if (kv(argv + 2, argc - 2, cfg, r->body, lift_mode, err, len)) {
			json_decref(cfg);
			return -1;
		}
		if (json_object_size(cfg))
			json_object_set(r->body, "config", cfg);
		json_decref(cfg);
		return 0;
	}
	if (!strcmp(w, "ports")) {
		path_add(r, "ports");
		if (argc >= 4 && !strcmp(argv[2], "add")) {
			set(r, "POST", V_QUIET);
			r->body = json_pack("{s:s}", "name", argv[3]);
			cfg = json_object();
			if (kv(argv + 4, argc - 4, cfg, r->body, lift_peer, err,
			       len)) {
				json_decref(cfg);
				return -1;
			}
			if (json_object_size(cfg))
				json_object_set(r->body, "config", cfg);
			json_decref(cfg);
			return 0;
		}
		if (argc == 4 && !strcmp(argv[2], "del")) {
			set(r, "DELETE", V_QUIET);
			return path_add(r, argv[3]);
		}
		if (argc >= 5 && !strcmp(argv[3], "set")) {
			set(r, "PATCH", V_QUIET);
			path_add(r, argv[2]);
			r->body = json_object();
			cfg = json_object();
			if (kv(argv + 4, argc - 4, cfg, r->body, lift_peer, err,
			       len)) {
				json_decref(cfg);
				return -1;
			}
			if (json_object_size(cfg))
				json_object_set(r->body, "config", cfg);
			json_decref(cfg);
			return 0;
		}
		return usage_err(err, len,
				 "expected 'ports add <port> ...', "
				 "'ports <port> set key=value ...' or "
				 "'ports del <port>'");
	}
	/* A collection of the NF's type. */
	path_add(r, w);
	if (argc >= 4 && !strcmp(argv[2], "add")) {
		set(r, "POST", V_QUIET);
		r->body = json_pack("{s:s}", "key", argv[3]);
		cfg = json_object();
		if (kv(argv + 4, argc - 4, cfg, NULL, NULL, err, len)) {
			json_decref(cfg);
			return -1;
		}
		if (json_object_size(cfg))
			json_object_set(r->body, "fields", cfg);
		json_decref(cfg);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[2], "del")) {
		set(r, "DELETE", V_QUIET);
		return path_add(r, argv[3]);
	}
	/* `<name> <collection> show`: the bridge issue's spelling of
	 * `<name> show <collection>`. */
	if (argc == 3 && !strcmp(argv[2], "show")) {
		set(r, "GET", V_COLL);
		return 0;
	}
	return usage_err(err, len,
			 "expected '%s %s add <key> [key=value ...]', "
			 "'%s %s del <key>' or '%s %s show'",
			 nf, w, nf, w, nf, w);
}

int cli_parse(int argc, char **argv, struct cli_req *r, char *err, size_t len)
{
	const char *cmd = argv[0];

	memset(r, 0, sizeof(*r));
	if (!strcmp(cmd, "types") || !strcmp(cmd, "show") ||
	    !strcmp(cmd, "export")) {
		if (argc != 1)
			return usage_err(err, len, "'%s' takes no arguments",
					 cmd);
		set(r, "GET",
		    cmd[0] == 't'   ? V_TYPES
		    : cmd[0] == 's' ? V_SHOW
				    : V_EXPORT);
		strcpy(r->path, cmd[0] == 't'	? "/v1/types"
				: cmd[0] == 's' ? "/v1/nfs"
						: "/v1/state");
		return 0;
	}
	if (!strcmp(cmd, "apply"))
		return parse_apply(argc, argv, r, err, len);
	if (!strcmp(cmd, "connect")) {
		if (argc != 3)
			return usage_err(err, len,
					 "connect <nf>:<port> "
					 "<netdev>|<nf>:<port>");
		if (nf_port(argv[1], err, len))
			return -1;
		set(r, "POST", V_QUIET);
		strcpy(r->path, "/v1/links");
		r->body = json_pack("{s:s,s:s}", "port", argv[1], "peer",
				    argv[2]);
		return 0;
	}
	if (!strcmp(cmd, "disconnect")) {
		if (argc != 2)
			return usage_err(err, len, "disconnect <nf>:<port>");
		if (nf_port(argv[1], err, len))
			return -1;
		set(r, "DELETE", V_QUIET);
		strcpy(r->path, "/v1/links");
		return path_add(r, argv[1]);
	}
	if (!strcmp(cmd, "attach")) {
		static const char *const lift[] = {"direction", "position",
						   NULL};
		json_t *rest;
		int rc;

		if (argc < 3)
			return usage_err(err, len,
					 "attach <nf> "
					 "<netdev>|<nf>:<port> "
					 "[direction=...] [position=...]");
		set(r, "POST", V_QUIET);
		strcpy(r->path, "/v1/attachments");
		r->body = json_pack("{s:s,s:s}", "nf", argv[1], "target",
				    argv[2]);
		rest = json_object();
		rc = kv(argv + 3, argc - 3, rest, r->body, lift, err, len);
		if (!rc && json_object_size(rest)) {
			const char *k =
				json_object_iter_key(json_object_iter(rest));

			rc = usage_err(err, len,
				       "attach takes direction= and "
				       "position=, not '%s='",
				       k);
		}
		json_decref(rest);
		return rc;
	}
	if (!strcmp(cmd, "detach")) {
		if (argc != 3)
			return usage_err(err, len,
					 "detach <nf> "
					 "<netdev>|<nf>:<port>");
		set(r, "DELETE", V_QUIET);
		strcpy(r->path, "/v1/attachments");
		path_add(r, argv[1]);
		return path_add(r, argv[2]);
	}
	if (argc >= 2 && !strcmp(argv[1], "add")) {
		static const char *const lift[] = {"mode", NULL};
		json_t *cfg;

		if (argc < 3)
			return usage_err(err, len,
					 "%s add <name> [mode=...] "
					 "[key=value ...]",
					 cmd);
		set(r, "POST", V_QUIET);
		strcpy(r->path, "/v1/nfs");
		r->add_type = cmd;
		r->add_name = argv[2];
		r->body = json_pack("{s:s,s:s}", "name", argv[2], "type", cmd);
		cfg = json_object();
		if (kv(argv + 3, argc - 3, cfg, r->body, lift, err, len)) {
			json_decref(cfg);
			return -1;
		}
		if (json_object_size(cfg))
			json_object_set(r->body, "config", cfg);
		json_decref(cfg);
		return 0;
	}
	return parse_nf(argc, argv, r, err, len);
}

void cli_req_free(struct cli_req *r)
{
	json_decref(r->body);
	free(r->raw);
	r->body = NULL;
	r->raw = NULL;
}
