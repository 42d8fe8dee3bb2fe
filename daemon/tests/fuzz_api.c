// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * API fuzzer: drives api_handle() (no HTTP) with malformed JSON, wrong
 * types, huge and deep bodies, unknown paths and methods, names with '/'
 * and '..', valid requests in between so that the state moves. Checks for
 * every request: the status is 2xx or 4xx, and a 4xx changed neither the
 * running state (nfc_export before and after) nor the saved one (no save).
 * Crashes and leaks are ASan's to catch: build with SAN=1.
 *
 *   fuzz_api --pin-root DIR [--netdev IF]... [--seconds N] [--seed N]
 *
 * Prints "ok - ..." / "not ok - ..." lines; exit 0 if every check held.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfchain/nfchain.h"

#include "../api.h"

static unsigned long long rng_state;

static unsigned rnd(unsigned n)
{
	/* xorshift64*: reproducible from --seed, good enough to fuzz. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 2685821657736338717ULL) >> 33) % n;
}

#define PICK(a) (a[rnd(sizeof(a) / sizeof(a[0]))])

static const char *netdevs[4];
static int nnetdevs;

static const char *const methods[] = {
	"GET",	  "GET",    "POST", "POST",    "PUT", "PATCH", "PATCH",
	"DELETE", "DELETE", "HEAD", "OPTIONS", "",    "get",   "POST ",
};

static const char *const names[] = {
	"fw0",
	"fw0",
	"cnt0",
	"cnt0",
	"fw1",
	"p1",
	"p2",
	"x",
	"..",
	"...",
	"%2e%2e",
	"a%2Fb",
	"%2F",
	"fw0%2Fp1",
	"%00",
	"fw0%00x",
	"show",
	"types",
	"forwarder",
	"add",
	"del",
	"ports",
	"stats",
	"nosuch",
	"0123456789012345678901234567890123456789",
	"%C3%A9",
	"-",
	"_",
	"fw0:p1",
	"fw0:p2",
	"cnt0:p1",
	"%",
	"%zz",
	"a b",
	"\"'",
	"*",
};

static const char *const paths[] = {
	"/v1/types",
	"/v1/nfs",
	"/v1/nfs/%s",
	"/v1/nfs/%s/ports",
	"/v1/nfs/%s/ports/%s",
	"/v1/nfs/%s/stats",
	"/v1/nfs/%s/%s",
	"/v1/nfs/%s/%s/%s",
	"/v1/links",
	"/v1/links/%s",
	"/v1/attachments",
	"/v1/attachments/%s/%s",
	"/v1/state",
	"/metrics",
	"/",
	"",
	"v1/nfs",
	"/v1",
	"/v2/nfs",
	"/v1/nfs/",
	"//v1//nfs",
	"/v1/nfs/%s/ports/%s/x",
	"/v1/../v1/nfs",
	"/v1/nfs/../state",
	"/v1/state/%s",
	"/v1/nfs/%s/%s/%s/%s/%s/%s/%s/%s/%s",
};

/* Bodies that are valid for some endpoint; mutations start from these. */
static const char *const bodies[] = {
	"{\"name\":\"fw1\",\"type\":\"forwarder\"}",
	"{\"name\":\"fw1\",\"type\":\"forwarder\",\"mode\":\"xdp-generic\"}",
	"{\"name\":\"c1\",\"type\":\"counter\",\"config\":{\"mark\":\"3\"}}",
	"{\"name\":\"c1\",\"type\":\"counter\",\"config\":{\"mark\":300}}",
	"{\"config\":{\"mark\":\"7\"}}",
	"{\"mode\":\"tc\"}",
	"{\"mode\":\"xdp-generic\",\"config\":{}}",
	"{\"name\":\"p2\"}",
	"{\"name\":\"p2\",\"peer\":null}",
	"{\"name\":\"p2\",\"peer\":\"fw0:p1\"}",
	"{\"name\":\"p2\",\"peer\":\"%N\"}",
	"{\"peer\":\"%N\"}",
	"{\"peer\":null}",
	"{\"port\":\"fw0:p2\",\"peer\":\"%N\"}",
	"{\"port\":\"fw1:p1\",\"peer\":\"fw0:p2\"}",
	"{\"nf\":\"cnt0\",\"target\":\"fw0:p2\"}",
	"{\"nf\":\"cnt0\",\"target\":\"%N\",\"direction\":\"ingress\","
	"\"position\":\"first\"}",
	"{\"nf\":\"c1\",\"target\":\"fw0:p1\",\"position\":\"before=cnt0\"}",
	"{\"key\":\"02:00:00:00:00:01\",\"fields\":{\"port\":\"p1\"}}",
	"{\"nfs\":[],\"attachments\":[]}",
	"{\"nfs\":[{\"name\":\"fw0\",\"type\":\"forwarder\",\"mode\":\"xdp\","
	"\"config\":{},\"ports\":[{\"name\":\"p1\",\"peer\":\"%N\","
	"\"config\":{}}]}],\"attachments\":[]}",
	"nfs:\n  - name: fw0\n    type: forwarder\n    ports:\n      - name: "
	"p1\n",
	"nfs: [ {name: fw0, type: forwarder, mode: tc} ]\nattachments: []\n",
	"{}",
	"[]",
	"null",
	"\"x\"",
	"42",
};

struct valid {
	const char *method, *path, *body;
};

static const struct valid valids[] = {
	{"GET", "/v1/nfs", NULL},
	{"GET", "/v1/nfs/fw0", NULL},
	{"GET", "/v1/nfs/cnt0/stats", NULL},
	{"GET", "/metrics", NULL},
	{"POST", "/v1/nfs", "{\"name\":\"fw1\",\"type\":\"forwarder\"}"},
	{"POST", "/v1/nfs", "{\"name\":\"c1\",\"type\":\"counter\"}"},
	{"POST", "/v1/nfs/fw1/ports", "{\"name\":\"p1\"}"},
	{"POST", "/v1/nfs/fw1/ports", "{\"name\":\"p2\",\"peer\":\"%N\"}"},
	{"POST", "/v1/nfs/fw0/ports", "{\"name\":\"p2\",\"peer\":\"fw1:p1\"}"},
	{"PATCH", "/v1/nfs/cnt0", "{\"config\":{\"mark\":\"5\"}}"},
	{"PATCH", "/v1/nfs/fw1", "{\"mode\":\"tc\"}"},
	{"PATCH", "/v1/nfs/fw0/ports/p2", "{\"peer\":null}"},
	{"PATCH", "/v1/nfs/fw0/ports/p2", "{\"peer\":\"%N\"}"},
	{"POST", "/v1/links", "{\"port\":\"fw1:p1\",\"peer\":\"fw0:p2\"}"},
	{"DELETE", "/v1/links/fw0:p2", NULL},
	{"POST", "/v1/attachments",
	 "{\"nf\":\"c1\",\"target\":\"fw0:p1\","
	 "\"position\":\"first\"}"},
	{"POST", "/v1/attachments", "{\"nf\":\"c1\",\"target\":\"%N\"}"},
	{"DELETE", "/v1/attachments/c1/fw0:p1", NULL},
	{"DELETE", "/v1/attachments/cnt0/fw0:p1", NULL},
	{"DELETE", "/v1/nfs/fw1/ports/p1", NULL},
	{"DELETE", "/v1/nfs/c1", NULL},
	{"DELETE", "/v1/nfs/fw1", NULL},
	{"PUT", "/v1/state", "{\"nfs\":[],\"attachments\":[]}"},
};

static const char *const junk[] = {
	"{",  "}",     "[",	  "]",	      ",",	  ":",
	"\"", "\\",    "\\u0000", "null",     "true",	  "1e999",
	"-",  "0x10",  "'",	  "\n",	      "\t",	  "&a",
	"*a", "---\n", "%N",	  "\xff\xfe", "\xc3\x28", "{\"a\":1,\"a\":2}",
};

/* A wrong-typed value for a field. */
static const char *const wrong[] = {
	"42",	   "-1",
	"1.5",	   "true",
	"false",   "null",
	"[]",	   "{}",
	"[\"x\"]", "{\"a\":{}}",
	"\"\"",	   "\"../..\"",
	"\"a/b\"", "18446744073709551616",
};

/* `base` with %N replaced by a netdev, then `n` random mutations. */
static char *mutate_n(const char *base, int n)
{
	size_t cap = strlen(base) * 2 + 4096, len;
	char *s = malloc(cap), *p;

	/* %N: a netdev that exists (or one that does not). */
	len = 0;
	for (const char *b = base; *b; b++) {
		if (b[0] == '%' && b[1] == 'N') {
			const char *nd = nnetdevs && rnd(4)
						 ? netdevs[rnd(nnetdevs)]
						 : "nfcfuzz-none0";
			len += snprintf(s + len, cap - len, "%s", nd);
			b++;
			continue;
		}
		s[len++] = *b;
	}
	s[len] = 0;
	for (int i = 0; i < n && len; i++) {
		size_t at = rnd(len + 1);
		const char *j;

		switch (rnd(5)) {
		case 0: /* truncate */
			s[at] = 0;
			len = at;
			break;
		case 1: /* insert junk */
			j = PICK(junk);
			if (len + strlen(j) + 1 >= cap)
				break;
			memmove(s + at + strlen(j), s + at, len - at + 1);
			memcpy(s + at, j, strlen(j));
			len += strlen(j);
			break;
		case 2: /* flip a byte */
			if (at < len)
				s[at] ^= 1 << rnd(8);
			break;
		case 3: /* a value of the wrong type after a colon */
			p = strchr(s + at, ':');
			if (p && p[1] == '"') {
				char *end = strchr(p + 2, '"');

				j = PICK(wrong);
				if (end && len + strlen(j) < cap) {
					size_t tail = len - (end + 1 - s);

					memmove(p + 1 + strlen(j), end + 1,
						tail + 1);
					memcpy(p + 1, j, strlen(j));
					len = strlen(s);
				}
			}
			break;
		default: /* an unknown field */
			p = strchr(s, '{');
			if (p && len + 16 < cap) {
				memmove(p + 12, p + 1, len - (p + 1 - s) + 1);
				memcpy(p + 1, "\"bogus\":1, ", 11);
				p[12 - 1] = ' ';
				len = strlen(s);
			}
		}
	}
	return s;
}

static char *mutate(const char *base)
{
	return mutate_n(base, rnd(4));
}

/* Big bodies: a long string, a deep array, many keys. */
static char *monster(void)
{
	size_t n = 1 + rnd(3) * (1u << 20);
	char *s = malloc(n + 64);

	switch (rnd(3)) {
	case 0:
		strcpy(s, "{\"name\":\"");
		memset(s + 9, 'a', n);
		strcpy(s + 9 + n, "\",\"type\":\"forwarder\"}");
		break;
	case 1: {
		size_t d = n / 2 > 200000 ? 200000 : n / 2;

		memset(s, '[', d);
		memset(s + d, ']', d);
		s[2 * d] = 0;
		break;
	}
	default: {
		size_t o = sprintf(s, "{\"config\":{");

		while (o + 32 < n)
			o += sprintf(s + o, "\"k%zu\":1,", o);
		strcpy(s + o, "\"z\":1}}");
	}
	}
	return s;
}

struct fuzz {
	struct api api;
	unsigned long saves;
};

static int count_save(void *ctx, json_t *state, char *err, size_t len)
{
	(void)state;
	(void)err;
	(void)len;
	((struct fuzz *)ctx)->saves++;
	return 0;
}

static void call(struct fuzz *f, const char *method, const char *path,
		 const char *body, json_t *query, struct api_resp *resp)
{
	struct api_req req = {
		.method = method,
		.path = path,
		.query = query,
		.body = body,
		.body_len = body ? strlen(body) : 0,
	};

	api_handle(&f->api, &req, resp);
}

static void base_state(struct fuzz *f)
{
	char doc[1024];
	struct api_resp r;

	snprintf(doc, sizeof(doc),
		 "{\"nfs\":[{\"name\":\"fw0\",\"type\":\"forwarder\","
		 "\"ports\":[{\"name\":\"p1\",\"peer\":%s%s%s},{\"name\":"
		 "\"p2\"}]},"
		 "{\"name\":\"cnt0\",\"type\":\"counter\"}],"
		 "\"attachments\":[{\"nf\":\"cnt0\",\"target\":\"fw0:p1\"}]}",
		 nnetdevs ? "\"" : "", nnetdevs ? netdevs[0] : "null",
		 nnetdevs ? "\"" : "");
	call(f, "PUT", "/v1/state", doc, NULL, &r);
	if (r.status != 200)
		printf("# base state refused (%d): %s\n", r.status,
		       json_string_value(json_object_get(r.json, "error")));
	api_resp_free(&r);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pin-root", required_argument, NULL, 'p'},
		{"netdev", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'S'},
		{0},
	};
	struct nfc_opts no = {0};
	struct fuzz f = {0};
	struct nfc *nfc;
	char err[512];
	unsigned long n = 0, by[6] = {0}, bad_status = 0, bad_change = 0;
	double seconds = 20;
	time_t t0;
	int o;

	rng_state = (unsigned long long)time(NULL) * 2654435761u;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			no.pin_root = optarg;
			break;
		case 'n':
			if (nnetdevs < 4)
				netdevs[nnetdevs++] = optarg;
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'S':
			rng_state = strtoull(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (!rng_state)
		rng_state = 1;
	printf("# seed %llu\n", rng_state);
	if (!no.pin_root) {
		fprintf(stderr, "fuzz_api: --pin-root is required (never fuzz "
				"the default pin root)\n");
		return 2;
	}
	if (nfc_open(&nfc, &no, err, sizeof(err))) {
		printf("not ok - fuzz_api: nfc_open: %s\n", err);
		return 1;
	}
	api_init(&f.api, nfc);
	f.api.save = count_save;
	f.api.save_ctx = &f;
	base_state(&f);
	t0 = time(NULL);
	while (difftime(time(NULL), t0) < seconds) {
		char path[8192];
		const char *pt = PICK(paths), *m = PICK(methods);
		char *body = NULL;
		json_t *query = NULL, *before, *after;
		struct api_resp r;
		unsigned long saves;

		if (n % 40 == 39)
			base_state(&f);
		saves = f.saves;
		snprintf(path, sizeof(path), pt, PICK(names), PICK(names),
			 PICK(names), PICK(names), PICK(names), PICK(names),
			 PICK(names), PICK(names), PICK(names));
		if (rnd(3) == 0) {
			/* A coherent request, so that the state moves and
			 * the 2xx paths are exercised too. */
			const struct valid *v = &valids[rnd(sizeof(valids) /
							    sizeof(valids[0]))];

			m = v->method;
			snprintf(path, sizeof(path), "%s", v->path);
			body = v->body ? mutate_n(v->body, rnd(3) ? 0 : 1)
				       : NULL;
			goto send;
		}
		switch (rnd(10)) {
		case 0:
			break; /* no body */
		case 1:
			body = monster();
			break;
		case 2:
			body = strdup(PICK(bodies));
			break;
		default:
			body = mutate(PICK(bodies));
		}
	send:
		if (!rnd(6))
			query = json_pack("{s:s}", rnd(2) ? "dry_run" : "bogus",
					  PICK(names));
		before = nfc_export(nfc);
		call(&f, m, path, body, query, &r);
		after = nfc_export(nfc);
		n++;
		by[r.status / 100 < 6 ? r.status / 100 : 5]++;
		if (r.status < 200 || r.status >= 500 || (!r.json && !r.text)) {
			bad_status++;
			printf("# %s %s -> %d: %s\n#   body: %.200s\n", m, path,
			       r.status,
			       json_string_value(
				       json_object_get(r.json, "error")),
			       body ? body : "");
		} else if (r.status >= 400 &&
			   (!json_equal(before, after) || f.saves != saves)) {
			bad_change++;
			printf("# %s %s -> %d but the state changed%s\n"
			       "#   body: %.200s\n",
			       m, path, r.status,
			       f.saves != saves ? " (and was saved)" : "",
			       body ? body : "");
		}
		api_resp_free(&r);
		json_decref(before);
		json_decref(after);
		json_decref(query);
		free(body);
	}
	printf("# %lu requests in %.0f s: 2xx %lu, 4xx %lu, 5xx %lu\n", n,
	       difftime(time(NULL), t0), by[2], by[4], by[5]);
	printf("%s - fuzz_api: every answer 2xx or 4xx (%lu requests)\n",
	       bad_status ? "not ok" : "ok", n);
	printf("%s - fuzz_api: no 4xx changed the running or saved state\n",
	       bad_change ? "not ok" : "ok");
	nfc_reset(nfc);
	api_fini(&f.api);
	nfc_close(nfc);
	return bad_status || bad_change || n < 10;
}
