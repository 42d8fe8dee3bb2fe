// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * POST /v1/nfs/{nf}/upgrade {"file": "/abs/x.bpf.o", "migrate": "recreate"}:
 * an NF's program replaced, its maps kept (nfc_nf_upgrade). The daemon
 * keeps a copy of the object in its store (objstore.c), named in the saved
 * state: a restart, or a boot that emptied the pin root, loads that copy,
 * never the built-in object again, and the user's file may go.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nfchain/nfchain.h"
#include "api_int.h"

int object_take(struct call *c, const char *who, const char *file, bool copy_it,
		char *copy, size_t len)
{
	char err[1024];
	int r;

	if (file[0] != '/')
		return fail(c, 400,
			    "%s: file must be an absolute name on the "
			    "daemon's machine, not '%.200s'",
			    who, file);
	if (copy_it && !c->api->obj_dir)
		return fail(c, 500,
			    "this daemon has no state directory to "
			    "keep the object in");
	/* Checked where the user left it, before the store copies it: a
	 * file that is no BPF object was reported under its copy's name,
	 * as a 500 "Unknown error 4001" (found by a helper). */
	if (nfc_object_check(file, err, sizeof(err)))
		return fail(c, access(file, R_OK) ? 404 : 400, "%s: %s", who,
			    err);
	if (copy_it && (r = objstore_put(c->api->obj_dir, file, ".bpf.o", copy,
					 len, err, sizeof(err))))
		/* The user's file unreadable: 400; the store not writable:
		 * the state directory's statuses (nfchaind.8). */
		return fail(
			c, disk_status(r, r == -EROFS || r == -EIO ? 500 : 400),
			"%s: %s", who, err);
	return 0;
}

int h_nf_upgrade(struct call *c)
{
	static const struct bfield spec[] = {
		{"file", T_STR | T_NULL, false},
		{"migrate", T_STR | T_NULL, false},
		{0},
	};
	const char *file, *migrate;
	char copy[PATH_MAX] = "", who[128], pair[PATH_MAX];
	json_t *nf;
	size_t n;
	int r;

	if (check_name(c, "NF", c->arg[0]))
		return c->resp->status;
	nf = nfc_show_nf(c->nfc, c->arg[0]);
	if (!nf)
		return fail(c, 404, "upgrade: no NF named '%s'", c->arg[0]);
	if ((r = body_object(c, spec))) {
		json_decref(nf);
		return r;
	}
	file = body_str(c, "file");
	/* X.bpf.o that is not there stands for the build of the NF's hook,
	 * X.xdp.bpf.o or X.tc.bpf.o, as `types load X.bpf.o` takes the pair
	 * (found by a helper: the SDK's example upgraded by that name
	 * failed, "No such file"). */
	if (file && access(file, F_OK) && (n = strlen(file)) > 6 &&
	    n < sizeof(pair) - 8 && !strcmp(file + n - 6, ".bpf.o")) {
		const char *hook =
			json_string_value(json_object_get(nf, "hook"));

		snprintf(pair, sizeof(pair), "%.*s.%s.bpf.o", (int)(n - 6),
			 file, hook && !strcmp(hook, "tc") ? "tc" : "xdp");
		if (!access(pair, F_OK))
			file = pair;
	}
	json_decref(nf);
	migrate = body_str(c, "migrate");
	if (migrate && strcmp(migrate, "recreate") && strcmp(migrate, "refuse"))
		return fail(c, 400,
			    "migrate must be 'recreate' (maps whose layout "
			    "changed start empty) or 'refuse' (the default), "
			    "not '%.64s'",
			    migrate);
	snprintf(who, sizeof(who), "upgrade of %s", c->arg[0]);
	if (file && (r = object_take(c, who, file, true, copy, sizeof(copy))))
		return r;
	r = nfc_nf_upgrade(c->nfc, c->arg[0], file ? copy : NULL,
			   migrate && !strcmp(migrate, "recreate")
				   ? NFC_UPGRADE_RECREATE
				   : 0);
	if (r) {
		r = lib_fail_named(c, r, copy, file);
		/* The copy may be another NF's too: only what nothing
		 * names goes. */
		if (copy[0])
			objstore_prune(c->api, c->nfc);
		return r;
	}
	/* A whole save: the prune below keeps what state.json names, and
	 * a journal record would leave it naming the old object. */
	c->jwhole = true;
	r = changed(c, 200, nfc_show_nf(c->nfc, c->arg[0]));
	objstore_prune(c->api, c->nfc);
	return r;
}
