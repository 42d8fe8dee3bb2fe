// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * POST /v1/nfs/{nf}/upgrade {"file": "/abs/x.bpf.o", "migrate": "recreate"}:
 * an NF's program replaced, its maps kept (nfc_nf_upgrade). The daemon
 * keeps a copy of the object in its state directory (objects/), named in
 * the saved state: a restart, or a boot that emptied the pin root, loads
 * that copy, never the built-in object again, and the user's file may go.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfchain/nfchain.h"
#include "api_int.h"

/* `src` into `dir`/<nf>-XXXXXX.bpf.o; the copy's name in out. */
static int copy_object(const char *dir, const char *nf, const char *src,
		       char *out, size_t len, char *err, size_t errlen)
{
	char buf[65536];
	int in, fd, r = 0;
	ssize_t n;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "create %s: %s", dir, strerror(errno));
		return -errno;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		r = -errno;
		snprintf(err, errlen, "object %s: %s", src, strerror(errno));
		return r;
	}
	snprintf(out, len, "%s/%s-XXXXXX.bpf.o", dir, nf);
	fd = mkstemps(out, 6);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "create a copy in %s: %s", dir,
			 strerror(errno));
		close(in);
		return r;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(fd)) {
		r = errno ? -errno : -EIO;
		snprintf(err, errlen, "copy %s to %s: %s", src, out,
			 strerror(-r));
		unlink(out);
	}
	close(fd);
	close(in);
	return r;
}

/* Copies no NF names any more (the one an upgrade replaced, or a failed
 * one's) go; removal is best effort. */
static void prune_objects(struct nfc *nfc, const char *dir)
{
	json_t *doc = nfc_export(nfc), *nf;
	struct dirent *e;
	char path[PATH_MAX];
	size_t i;
	DIR *d;

	if (!doc)
		return;
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		int used = 0;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		json_array_foreach (json_object_get(doc, "nfs"), i, nf) {
			const char *o = json_string_value(
				json_object_get(nf, "object"));

			used |= o && !strcmp(o, path);
		}
		if (!used)
			unlink(path);
	}
	if (d)
		closedir(d);
	json_decref(doc);
}

int h_nf_upgrade(struct call *c)
{
	static const struct bfield spec[] = {
		{"file", T_STR | T_NULL, false},
		{"migrate", T_STR | T_NULL, false},
		{0},
	};
	const char *file, *migrate;
	char copy[PATH_MAX] = "", err[512];
	json_t *nf;
	int r;

	if (check_name(c, "NF", c->arg[0]))
		return c->resp->status;
	nf = nfc_show_nf(c->nfc, c->arg[0]);
	if (!nf)
		return fail(c, 404, "upgrade: no NF named '%s'", c->arg[0]);
	json_decref(nf);
	if ((r = body_object(c, spec)))
		return r;
	file = body_str(c, "file");
	migrate = body_str(c, "migrate");
	if (migrate && strcmp(migrate, "recreate") && strcmp(migrate, "refuse"))
		return fail(c, 400,
			    "migrate must be 'recreate' (maps whose layout "
			    "changed start empty) or 'refuse' (the default), "
			    "not '%.64s'",
			    migrate);
	if (file && file[0] != '/')
		return fail(c, 400,
			    "file must be an absolute name on the daemon's "
			    "machine, not '%.200s'",
			    file);
	if (file && !c->api->obj_dir)
		return fail(c, 500,
			    "this daemon has no state directory to "
			    "keep the object in");
	if (file && copy_object(c->api->obj_dir, c->arg[0], file, copy,
				sizeof(copy), err, sizeof(err)))
		return fail(c, 400, "upgrade of %s: %s", c->arg[0], err);
	r = nfc_nf_upgrade(c->nfc, c->arg[0], file ? copy : NULL,
			   migrate && !strcmp(migrate, "recreate")
				   ? NFC_UPGRADE_RECREATE
				   : 0);
	if (r) {
		if (copy[0])
			unlink(copy);
		return lib_fail(c, r);
	}
	r = changed(c, 200, nfc_show_nf(c->nfc, c->arg[0]));
	if (c->api->obj_dir)
		prune_objects(c->nfc, c->api->obj_dir);
	return r;
}
