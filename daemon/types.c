// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loaded NF types (docs/sdk.md): POST /v1/types and DELETE
 * /v1/types/{name}. The objects and the plugin are kept in the daemon's
 * store (objstore.c), linked from <state-dir>/types/<name>/ (obj0.bpf.o,
 * obj1.bpf.o, plugin.so), so that the type comes back before the state
 * does, after a restart or a reboot (daemon_types_restore, called before
 * nfc_open adopts the pins). A directory of an earlier version holds the
 * files themselves: read alike.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfchain/nfchain.h"

#include "api_int.h"
#include "log.h"

#define T_ARR (1u << JSON_ARRAY)

static void rm_type_dir(const char *dir)
{
	char p[1100];

	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%.1000s/obj%d.bpf.o", dir, i);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%.1000s/plugin.so", dir);
	unlink(p);
	rmdir(dir);
}

/* Puts the objects and the plugin into the store (objstore.c) and links
 * them from a fresh directory (`tmp`), which keep_type renames into place
 * once the type is registered: a crash leaves the type whole or absent.
 * The store's name of the plugin in `so`. */
static int stage_type(struct api *api, const char *name,
		      const char *const *objs, int n, const char *plugin,
		      char *tmp, size_t tlen, char *so, size_t slen, char *err,
		      size_t len)
{
	char dir[1024], to[1100], in[PATH_MAX], ln[PATH_MAX + 16];
	int r;

	snprintf(dir, sizeof(dir), "%.900s/types", api->state_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		goto bad;
	snprintf(tmp, tlen, "%.900s/types/.%s.new", api->state_dir, name);
	rm_type_dir(tmp);
	if (mkdir(tmp, 0700))
		goto bad;
	for (int i = 0; i <= n; i++) {
		const char *from = i < n ? objs[i] : plugin;

		if (!from)
			break;
		r = objstore_put(api->obj_dir, from, i < n ? ".bpf.o" : ".so",
				 in, sizeof(in), err, len);
		if (r) {
			rm_type_dir(tmp);
			return r;
		}
		if (i < n)
			snprintf(to, sizeof(to), "%.1000s/obj%d.bpf.o", tmp, i);
		else
			snprintf(to, sizeof(to), "%.1000s/plugin.so", tmp);
		/* Relative: the state dir may move. */
		snprintf(ln, sizeof(ln), "../../objects/%s",
			 strrchr(in, '/') + 1);
		if (symlink(ln, to)) {
			rm_type_dir(tmp);
			goto bad;
		}
		if (i == n)
			snprintf(so, slen, "%s", in);
	}
	return 0;
bad:
	snprintf(err, len, "keep type %s in %s/types: %s", name, api->state_dir,
		 strerror(errno));
	return -errno;
}

static int keep_type(const char *state_dir, const char *name, const char *tmp,
		     char *err, size_t len)
{
	char dir[1024];

	snprintf(dir, sizeof(dir), "%.900s/types/%s", state_dir, name);
	rm_type_dir(dir);
	if (rename(tmp, dir)) {
		snprintf(err, len, "keep type %s in %s/types: %s", name,
			 state_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* A message naming the staged copy names the user's file instead. */
static void user_path(char *err, size_t len, const char *copy, const char *orig)
{
	char *at = strstr(err, copy), tail[2048];

	if (!at || !orig)
		return;
	snprintf(tail, sizeof(tail), "%s", at + strlen(copy));
	snprintf(at, len - (at - err), "%s%s", orig, tail);
}

/* The file of a type's link, if the type has one: the link itself, not
 * what it points at. A link whose store file was lost is the type's file
 * gone (the load then fails, and the restore waits, saying so), not a
 * type without it: a type came back without its plugin, its checks and
 * stats gone and nothing said (found by a helper). */
static const char *has_link(const char *p)
{
	struct stat st;

	return lstat(p, &st) ? NULL : p;
}

int daemon_types_restore(const char *state_dir)
{
	char dir[1024], a[1400], b[1400], so[1400], err[2048];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%.900s/types", state_dir);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(a, sizeof(a), "%.1000s/%s/obj0.bpf.o", dir, e->d_name);
		snprintf(b, sizeof(b), "%.1000s/%s/obj1.bpf.o", dir, e->d_name);
		snprintf(so, sizeof(so), "%.1000s/%s/plugin.so", dir,
			 e->d_name);
		if (nfc_type_register_plugin(e->d_name, a, has_link(b),
					     has_link(so), err, sizeof(err))) {
			nfd_log("error", "types", "type=%s error=%s",
				nfd_q(e->d_name), nfd_q(err));
			continue;
		}
		n++;
	}
	closedir(d);
	if (n)
		nfd_log("info", "types", "loaded=%d dir=%s", n, nfd_q(dir));
	return n;
}

static json_t *type_json(struct api *api, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach (api->types, i, t)
		if (!strcmp(json_string_value(json_object_get(t, "name")) ?: "",
			    name))
			return json_incref(t);
	return json_null();
}

static void refresh(struct api *api)
{
	json_t *t = nfc_types();

	if (t) {
		json_decref(api->types);
		api->types = t;
	}
}

int h_types_post(struct call *c)
{
	static const struct bfield spec[] = {
		{"name", T_STR, false},
		{"objects", T_ARR, true},
		{"plugin", T_STR, false},
		{0},
	};
	const char *objs[2] = {NULL, NULL}, *name, *plugin;
	char base[64], err[2048], tmp[1024] = "", so[PATH_MAX] = "";
	json_t *a, *out;
	size_t n;
	int r;

	if ((r = body_object(c, spec)))
		return r;
	a = body_get(c, "objects");
	n = json_array_size(a);
	if (n < 1 || n > 2)
		return fail(c, 400,
			    "objects: one or two BPF object paths (an XDP "
			    "and a TC build of one source)");
	for (size_t i = 0; i < n; i++) {
		objs[i] = json_string_value(json_array_get(a, i));
		if (!objs[i] || objs[i][0] != '/')
			return fail(c, 400,
				    "objects: absolute paths on the daemon's "
				    "host, got %s",
				    objs[i] ? objs[i] : "a non-string");
	}
	plugin = body_str(c, "plugin");
	if (plugin && plugin[0] != '/')
		return fail(c, 400,
			    "plugin: an absolute path on the daemon's host, "
			    "got %s",
			    plugin);
	name = body_str(c, "name");
	if (!name) {
		/* ttl.xdp.bpf.o -> ttl */
		const char *s = strrchr(objs[0], '/') + 1;

		snprintf(base, sizeof(base), "%.*s", (int)strcspn(s, "."), s);
		name = base;
	}
	if ((r = check_name(c, "type", name)))
		return r;
	if (nfc_type_loaded(name) || is_type(c->api, name))
		return fail(c, 409, "types load: type '%s' exists already",
			    name);
	{
		/* A type named like an NF would make the saved state one that
		 * a reboot refuses (NF names equal to type names are). */
		json_t *nf = nfc_show_nf(c->nfc, name);

		json_decref(nf);
		if (nf)
			return fail(c, 409,
				    "types load: an NF is named '%s'; a type "
				    "cannot take an NF's name (name=...)",
				    name);
	}
	/* Checked where the user left them, before the store copies them: a
	 * 3 GB file was copied whole (the API stalled 20 s) to be refused
	 * after (found by a helper). */
	for (size_t i = 0; i < n; i++)
		if (nfc_object_check(objs[i], err, sizeof(err)))
			return fail(c, access(objs[i], R_OK) ? 404 : 400,
				    "types load: %s", err);
	/* The plugin is opened from the daemon's copy: the user may rebuild
	 * theirs in place while it runs. */
	if (c->api->state_dir && c->api->obj_dir) {
		r = stage_type(c->api, name, objs, (int)n, plugin, tmp,
			       sizeof(tmp), so, sizeof(so), err, sizeof(err));
		if (r) {
			objstore_prune(c->api, c->nfc);
			return fail(c,
				    r == -ENOENT   ? 404
				    : r == -EINVAL ? 400
						   : 500,
				    "types load: %s", err);
		}
	}
	r = nfc_type_register_plugin(name, objs[0], objs[1],
				     so[0] ? so : plugin, err, sizeof(err));
	if (r) {
		user_path(err, sizeof(err), so, plugin);
		if (tmp[0]) {
			rm_type_dir(tmp);
			objstore_prune(c->api, c->nfc);
		}
		return fail(c,
			    r == -EEXIST   ? 409
			    : r == -ENOENT ? 404
					   : 400,
			    "types load: %s", err);
	}
	if (tmp[0] &&
	    keep_type(c->api->state_dir, name, tmp, err, sizeof(err))) {
		nfc_type_unregister(c->nfc, name);
		rm_type_dir(tmp);
		objstore_prune(c->api, c->nfc);
		return fail(c, 500, "types load: %s", err);
	}
	/* Its files marked in use now: left as new copies (0600), the
	 * unload's prune took them for a refused call's and deleted them at
	 * once, not a week later (found by a helper). */
	objstore_prune(c->api, c->nfc);
	refresh(c->api);
	nfd_log("info", "types", "loaded=%s objects=%zu plugin=%s", nfd_q(name),
		n, plugin ? nfd_q(plugin) : "none");
	out = type_json(c->api, name);
	/* The restore that waited for a type runs now; if it still fails
	 * (another build, whose declarations the saved state does not
	 * fit), the answer says so: a load answered 201 and nothing else
	 * while the data plane stayed down (found by a helper). */
	if (c->api->blocked && c->api->retry) {
		c->api->retry(c->api->save_ctx);
		if (c->api->blocked && json_is_object(out))
			json_object_set_new(out, "restore_pending",
					    json_string(c->api->blocked));
	}
	return reply(c, 201, out);
}

int h_type_del(struct call *c)
{
	const char *name = c->arg[0];
	char dir[1024];
	int r;

	r = nfc_type_unregister(c->nfc, name);
	if (r)
		return lib_fail(c, r);
	if (c->api->state_dir) {
		snprintf(dir, sizeof(dir), "%.900s/types/%s", c->api->state_dir,
			 name);
		rm_type_dir(dir);
		objstore_prune(c->api, c->nfc);
	}
	refresh(c->api);
	nfd_log("info", "types", "unloaded=%s", nfd_q(name));
	return reply(c, 200, json_pack("{s:s}", "unloaded", name));
}
