/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nfchain, the CLI: a thin client of nfchaind's REST API. Four pieces:
 * the grammar turns argv into one command (grammar.c, shared with nfctl),
 * request.c turns the command into an HTTP request, the client sends it
 * (client.c: HTTP over the unix socket, libcurl for --url), the printer
 * turns the answer into a table (print.c).
 */
#ifndef NFC_CLI_H
#define NFC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "grammar.h"

/* How an answer is printed without -j. */
enum view {
	V_QUIET,  /* a change: nothing on success */
	V_TYPES,  /* GET /v1/types */
	V_LOADED, /* GET /v1/types, the loaded ones only (types show) */
	V_TYPE,	  /* GET /v1/types/<type> (types show <type>) */
	V_SHOW,	  /* GET /v1/nfs */
	V_NF,	  /* GET /v1/nfs/{nf} */
	V_PORTS,  /* GET /v1/nfs/{nf}/ports */
	V_STATS,  /* GET /v1/nfs/{nf}/stats */
	V_COLL,	  /* GET /v1/nfs/{nf}/{coll} */
	V_PLAN,	  /* PUT /v1/state */
	V_EXPORT, /* GET /v1/state: always JSON */
};

struct cli_req {
	const char *method;
	char path[2048]; /* percent-encoded */
	json_t *body;	 /* JSON body, or NULL */
	char *raw;	 /* apply: the document as read */
	size_t raw_len;
	const char *content_type;
	enum view view;
	bool dry_run;
	/* `<type> add <name>`: checked against the daemon's types first so
	 * that a wrong type or a reserved name is a usage error. */
	const char *add_type;
	const char *add_name;
};

/* Fills `r` for the parsed command `c` (not CLI_HELP). 0; -1 with a usage
 * error in err; -2 with err set when apply's file cannot be read. */
int cli_request(const struct cli_cmd *c, struct cli_req *r, char *err,
		size_t errlen);
void cli_req_free(struct cli_req *r);

struct conn {
	const char *socket; /* unix socket, or NULL with url */
	const char *url;    /* http://host:port */
	char *token;
	/* How long a call may take, in ms; 0: the default for the call
	 * (CLI_TIMEOUT_MS, CLI_APPLY_TIMEOUT_MS for a state change). */
	long timeout_ms;
};

#define CLI_TIMEOUT_MS 30000
#define CLI_APPLY_TIMEOUT_MS 300000 /* a large state loads programs */

/* client.c: "no answer from nfchaind at ... within N s (METHOD PATH,
 * doing); --timeout ..." into err. */
void cli_timed_out(const struct conn *c, const char *method, const char *path,
		   long ms, const char *doing, char *err, size_t errlen);

/* Sends the request; 0 with *status and *answer (JSON, or NULL when the
 * answer was not JSON), or -1 with err set when the daemon could not be
 * reached. */
int http_call(const struct conn *c, const char *method, const char *path,
	      const char *body, size_t body_len, const char *content_type,
	      long *status, json_t **answer, char *err, size_t errlen);

/* jarr.c: an answer decoded as it arrives. A JSON array is handed to
 * on_elem an element at a time (each freed after the call; non-zero stops
 * with an error); anything else (an error object) is kept and decoded
 * whole by jarr_end. */
struct jarr {
	int (*on_elem)(json_t *e, void *ctx);
	void *ctx;
	char *buf;
	size_t len, off, cap, count;
	int state, first;
};

void jarr_init(struct jarr *j, int (*on_elem)(json_t *, void *), void *ctx);
/* 0, or -1: not JSON, out of memory, or on_elem refused. */
int jarr_feed(struct jarr *j, const char *data, size_t n);
/* The end of the answer: 0 when what came was whole; *whole is the answer
 * when it was not streamed (NULL otherwise). Frees what j holds. */
int jarr_end(struct jarr *j, json_t **whole);

/* http_call, with a 2xx array answer handed to on_elem an element at a
 * time as it arrives (not in *answer). */
int http_call_each(const struct conn *c, const char *method, const char *path,
		   int (*on_elem)(json_t *, void *), void *ctx, long *status,
		   json_t **answer, char *err, size_t errlen);

/* dump.c: GET `path` (a pcap stream of NF `nf`) over the unix socket, the
 * pcap to stdout, the end line (captured, lost, dropped) to stderr. The
 * exit status: 0, or 1 with the reason on stderr. */
int cli_dump(const struct conn *c, const char *path, const char *nf);

/* print.c */
void print_answer(enum view v, json_t *answer, bool dry_run);

/* A collection's listing printed as it arrives (V_COLL): coll_out_elem is
 * http_call_each's on_elem; coll_out_end prints what is still held. */
#define MAX_COLS 16
struct coll_out {
	bool json;
	json_t *first; /* the entries held until the columns are known */
	size_t n;
	int started, ncols, w[MAX_COLS], right[MAX_COLS];
	const char *hdr[MAX_COLS];
	char up[MAX_COLS][64], keys[MAX_COLS][64];
};

void coll_out_init(struct coll_out *o, bool json);
int coll_out_elem(json_t *e, void *ctx);
void coll_out_end(struct coll_out *o);

/* filter_test.c: `nfchain filter-test` (argv[0] is "filter-test"); runs
 * here, without the daemon. Returns the exit status. */
int cli_filter_test(int argc, char **argv, int json);

/* For --url: the wholly static CLI runs its twin nfchain-url with argv
 * (cli/remote.c). Returns 0 when this binary makes the call itself, -1
 * with err when the twin cannot be run; else it does not return. */
int cli_exec_remote(char **argv, char *err, size_t len);

#endif
