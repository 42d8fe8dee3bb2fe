/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the dispatcher (api.c) and the resource handlers. */
#ifndef NFD_API_INT_H
#define NFD_API_INT_H

#include <errno.h>
#include <stdbool.h>

#include "api.h"

struct call {
	struct api *api;
	struct nfc *nfc;
	const struct api_req *req;
	struct api_resp *resp;
	const char *arg[4]; /* decoded {placeholders} of the route */
	json_t *body;	    /* the parsed body, once a handler asked for it */
	/* Set by a handler whose change is one collection entry: what
	 * changed() may journal instead of saving the whole state. */
	const char *jnf, *jcoll, *jkey;
	/* Set (with jnf) by a handler whose change is one NF's own fields. */
	bool jfields;
	/* Set by a handler whose change state.json itself must say: an
	 * upgrade (objects no longer named by state.json are pruned). */
	bool jwhole;
};

typedef int (*handler_fn)(struct call *c);

/* JSON types a body field may have. */
#define T_STR (1u << JSON_STRING)
#define T_OBJ (1u << JSON_OBJECT)
#define T_NULL (1u << JSON_NULL)
#define T_BOOL ((1u << JSON_TRUE) | (1u << JSON_FALSE))

struct bfield {
	const char *name;
	unsigned types;
	bool required;
};

/* Answers; each returns the status it set. `json` is stolen. */
int reply(struct call *c, int status, json_t *json);
int fail(struct call *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A library call failed with rc (-errno): its message, a fitting status. */
int lib_fail(struct call *c, int rc);
/* The same, the daemon's copy of a user's file (`copy`, in the object
 * store) named as the user gave it (`orig`) in the message. */
int lib_fail_named(struct call *c, int rc, const char *copy, const char *orig);
/* A write to the state directory that failed (-errno): 507 when it is
 * full (nfchaind.8), else `other`. */
static inline int disk_status(int r, int other)
{
	return r == -ENOSPC || r == -EDQUOT ? 507 : other;
}
/* A library change succeeded: save the state, then answer. */
int changed(struct call *c, int status, json_t *json);

/* Parses the body as a JSON object and checks it against spec (unknown,
 * missing and mistyped fields are 400s naming the field). 0 or a status. */
int body_object(struct call *c, const struct bfield *spec);
/* Field of the parsed body, NULL when absent or JSON null. */
const char *body_str(struct call *c, const char *name);
json_t *body_get(struct call *c, const char *name);

/* Names: 1-31 of [A-Za-z0-9_-], as the library's pin paths need. */
bool name_ok(const char *s);
int check_name(struct call *c, const char *what, const char *s);
int check_nf_name_free(struct call *c, const char *s);
int check_port_name(struct call *c, const char *s);
/* Checks every NF and port name of a whole-state document. */
int check_doc_names(struct call *c, json_t *doc);
bool is_type(struct api *api, const char *name);
const char *type_names(struct api *api, char *buf, size_t len);

/* handlers.c */
int h_types_get(struct call *c);
/* types.c: loaded NF types */
int h_types_post(struct call *c);
int h_type_get(struct call *c);
int h_type_del(struct call *c);
int h_nfs_get(struct call *c);
int h_nfs_post(struct call *c);
int h_nf_get(struct call *c);
int h_nf_patch(struct call *c);
int h_nf_del(struct call *c);
int h_nf_upgrade(struct call *c); /* upgrade.c */
/* A user's object file (an upgrade's, an apply's), checked where the user
 * left it and, if copy_it, copied into the store (`copy`: its name
 * there). `who` begins the messages. 0, or the status of the refusal it
 * made. */
int object_take(struct call *c, const char *who, const char *file, bool copy_it,
		char *copy, size_t len);
/* objstore.c: <state-dir>/objects/, keyed by SHA-256. Copies `src` in
 * (its name, <dir>/<sha256><suffix>, in out); removes what no NF and no
 * loaded type names any more. */
int objstore_put(const char *dir, const char *src, const char *suffix,
		 char *out, size_t len, char *err, size_t errlen);
void objstore_prune(struct api *api, struct nfc *nfc);
int h_ports_get(struct call *c);
int h_ports_post(struct call *c);
int h_port_get(struct call *c);
int h_port_patch(struct call *c);
int h_port_del(struct call *c);
int h_stats_get(struct call *c);
int h_pcap_get(struct call *c);
int h_coll_get(struct call *c);
int h_coll_post(struct call *c);
int h_coll_import(struct call *c);
int h_coll_key_get(struct call *c);
int h_coll_key_patch(struct call *c);
int h_coll_key_del(struct call *c);
int h_links_get(struct call *c);
int h_links_post(struct call *c);
int h_link_del(struct call *c);
int h_att_get(struct call *c);
int h_att_post(struct call *c);
int h_att_del(struct call *c);
int h_state_get(struct call *c);
int h_state_put(struct call *c);
int h_metrics_get(struct call *c);

#endif
