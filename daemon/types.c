// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loaded NF types (docs/sdk.md): POST /v1/types and DELETE
 * /v1/types/{name}. The objects are copied into <state-dir>/types/<name>/
 * so that the type comes back before the state does, after a restart or a
 * reboot (daemon_types_restore, called before nfc_open adopts the pins).
 */
#include <dirent.h>
#include <errno.h>
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
	rmdir(dir);
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out;
	char buf[65536];
	size_t n;
	int r = 0;

	if (!in)
		return -errno;
	out = fopen(to, "wb");
	if (!out) {
		r = -errno;
		fclose(in);
		return r;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			r = -EIO;
			break;
		}
	if (ferror(in))
		r = -EIO;
	fclose(in);
	if (fflush(out) || fsync(fileno(out)))
		r = r ?: -errno;
	if (fclose(out))
		r = r ?: -errno;
	return r;
}

/* Copies the objects into a fresh directory renamed into place: a crash
 * leaves the type whole or absent. */
static int keep_type(const char *state_dir, const char *name,
		     const char *const *objs, int n, char *err, size_t len)
{
	char dir[1024], tmp[1024], to[1100];
	int r;

	snprintf(dir, sizeof(dir), "%.900s/types", state_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		goto bad;
	snprintf(tmp, sizeof(tmp), "%.900s/types/.%s.new", state_dir, name);
	rm_type_dir(tmp);
	if (mkdir(tmp, 0700))
		goto bad;
	for (int i = 0; i < n; i++) {
		snprintf(to, sizeof(to), "%.1000s/obj%d.bpf.o", tmp, i);
		r = copy_file(objs[i], to);
		if (r) {
			errno = -r;
			rm_type_dir(tmp);
			goto bad;
		}
	}
	snprintf(dir, sizeof(dir), "%.900s/types/%s", state_dir, name);
	rm_type_dir(dir);
	if (rename(tmp, dir)) {
		rm_type_dir(tmp);
		goto bad;
	}
	return 0;
bad:
	snprintf(err, len, "keep type %s in %s/types: %s", name, state_dir,
		 strerror(errno));
	return -errno;
}

int daemon_types_restore(const char *state_dir)
{
	char dir[1024], a[1400], b[1400], err[2048];
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
		if (nfc_type_register(e->d_name, a, access(b, F_OK) ? NULL : b,
				      err, sizeof(err))) {
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
		{0},
	};
	const char *objs[2] = {NULL, NULL}, *name;
	char base[64], err[2048];
	json_t *a;
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
	name = body_str(c, "name");
	if (!name) {
		/* ttl.xdp.bpf.o -> ttl */
		const char *s = strrchr(objs[0], '/') + 1;

		snprintf(base, sizeof(base), "%.*s", (int)strcspn(s, "."), s);
		name = base;
	}
	if ((r = check_name(c, "type", name)))
		return r;
	r = nfc_type_register(name, objs[0], objs[1], err, sizeof(err));
	if (r)
		return fail(c,
			    r == -EEXIST   ? 409
			    : r == -ENOENT ? 404
					   : 400,
			    "types load: %s", err);
	if (c->api->state_dir && keep_type(c->api->state_dir, name, objs,
					   (int)n, err, sizeof(err))) {
		nfc_type_unregister(c->nfc, name);
		return fail(c, 500, "types load: %s", err);
	}
	refresh(c->api);
	nfd_log("info", "types", "loaded=%s objects=%zu", nfd_q(name), n);
	return reply(c, 201, type_json(c->api, name));
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
	}
	refresh(c->api);
	nfd_log("info", "types", "unloaded=%s", nfd_q(name));
	return reply(c, 200, json_pack("{s:s}", "unloaded", name));
}
