/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The REST API as a pure function: a request (method, path, query, body)
 * in, a status and a JSON document out. No HTTP here, so the whole API can
 * be unit-tested and fuzzed without a socket (daemon/tests/fuzz_api.c).
 *
 * Every change request is validated before the library is called, and the
 * library leaves the running state untouched when it refuses; so a 4xx
 * answer means nothing changed, running or saved.
 */
#ifndef NFD_API_H
#define NFD_API_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "nfchain/nf.h"

struct nfc;

#define API_MAX_STATUS 600
/* Entries a page of a streamed collection listing. */
#define API_PAGE 1024
/* In an API request's query object: the name of a parameter given twice
 * (a key no parameter can have). */
#define HTTP_QUERY_TWICE "\x01twice"

struct api {
	struct nfc *nfc;
	json_t *types; /* nfc_types(): renewed when a type is (un)loaded */
	const char *state_dir; /* where loaded types are kept; NULL: nowhere */
	/* Called after every change with the new nfc_export() (NULL if
	 * that failed); a failure undoes the change and turns the answer
	 * into a 507 (no space) or 500 with err. */
	int (*save)(void *ctx, json_t *state, char *err, size_t errlen);
	void *save_ctx;
	/* Optional: one collection entry changed (value NULL: deleted),
	 * saved without the whole document. 0 saved, 1 not done (save()
	 * is called instead), -errno refused and undone, as save(). */
	int (*save_entry)(void *ctx, const char *nf, const char *coll,
			  const char *key, json_t *value, char *err,
			  size_t errlen);
	/* Optional: only the own fields of one NF changed (`nf`, its
	 * export without collections), as save_entry. */
	int (*save_nf)(void *ctx, json_t *nf, char *err, size_t errlen);
	/* Non-NULL while the saved state could not be restored: changes
	 * other than a whole new state (PUT /v1/state) are refused with
	 * this reason, so that they cannot overwrite the unapplied state. */
	char *blocked;
	/* Optional: a type was loaded while blocked (the one the saved
	 * state waited for, maybe): try the restore again. */
	void (*retry)(void *ctx);
	/* Meanwhile, the saved state that is not running: what an export
	 * answers, so that a backup taken then (and applied back) is that
	 * state, not the empty one running. */
	json_t *pending;
	/* Where upgraded NF objects are kept (<state dir>/objects). */
	const char *obj_dir;
	/* The library's state generation when a change was last saved: a
	 * call that leaves it so changed nothing to save. */
	uint64_t saved_gen;
	unsigned long long requests[API_MAX_STATUS]; /* by status code */
};

/* The saved state runs again, or a new whole state replaced it. */
void api_unblock(struct api *api);

struct api_req {
	const char *method;
	const char *path; /* as sent, percent-encoded, without the query */
	json_t *query;	  /* object of decoded query arguments, or NULL */
	const char *body; /* may be NULL when body_len is 0 */
	size_t body_len;
	const char *content_type; /* or NULL */
};

struct api_resp {
	int status;
	json_t *json; /* the answer, or NULL when `text` is set */
	char *text;   /* /metrics (malloc'd) */
	const char *text_type;
	char allow[64]; /* 405: the methods the resource has */
	int changed;	/* an accepted change was made (for the log) */
	/* `json` is the first page of a collection whose next pages
	 * nfc_coll_list_page gives from `cur`: streamed a page at a time. */
	int pages;
	char nf[32], coll[64];
	struct nfc_cursor cur;
};

int api_init(struct api *api, struct nfc *nfc);
void api_fini(struct api *api);
void api_handle(struct api *api, const struct api_req *req,
		struct api_resp *resp);
void api_resp_free(struct api_resp *resp);
/* Counts an answer given without api_handle (401, 413 in the HTTP layer). */
void api_count(struct api *api, int status);

/* /metrics in Prometheus text format (metrics.c). */
char *metrics_text(struct api *api);

#endif
