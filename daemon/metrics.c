// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * /metrics in the Prometheus text format (version 0.0.4). Rendered from
 * the same JSON the API serves, so the figures are the ones `nfchain show`
 * prints: per NF and port counters, the NF types' own figures, the
 * runtime's global counters (slow path, ring drops, drops by reason) and
 * the API's answers by status.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfchain/nfchain.h"

#include "api.h"

/* Label values: backslash, double quote and newline are escaped. */
static void label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*: anything else becomes '_'. */
static void metric_name(char *out, size_t len, const char *prefix,
			const char *key)
{
	size_t o = snprintf(out, len, "%s", prefix);

	for (; *key && o + 1 < len; key++)
		out[o++] = isalnum((unsigned char)*key) ? *key : '_';
	out[o] = 0;
}

static const char *const port_counters[] = {
	"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops", NULL,
};

static void port_metrics(FILE *f, json_t *nfs)
{
	for (int k = 0; port_counters[k]; k++) {
		const char *key = port_counters[k];
		json_t *nf, *p;
		size_t i, j;

		fprintf(f,
			"# HELP nfchain_port_%s_total %s of an NF port, "
			"kept by the framework\n",
			key, key);
		fprintf(f, "# TYPE nfchain_port_%s_total counter\n", key);
		json_array_foreach (nfs, i, nf)
			json_array_foreach (json_object_get(nf, "ports"), j,
					    p) {
				json_t *v = json_object_get(
					json_object_get(p, "stats"), key);

				if (!json_is_integer(v))
					continue;
				fprintf(f, "nfchain_port_%s_total{nf=", key);
				label(f, json_string_value(
						 json_object_get(nf, "name")));
				fputs(",port=", f);
				label(f, json_string_value(
						 json_object_get(p, "name")));
				fprintf(f, "} %lld\n",
					(long long)json_integer_value(v));
			}
	}
}

/* NF-level figures a type adds (a counter's per-direction packets):
 * one gauge-or-counter per key, labelled by NF. Nested objects are one
 * level deeper, with the inner key in label `key`. */
static void nf_metrics(FILE *f, json_t *nfs)
{
	json_t *seen = json_object(), *nf;
	size_t i;

	json_array_foreach (nfs, i, nf) {
		json_t *st = json_object_get(nf, "stats"), *v;
		const char *k;

		json_object_foreach (st, k, v) {
			char name[128];
			json_t *iv;
			const char *ik;

			metric_name(name, sizeof(name), "nfchain_nf_", k);
			if (!json_object_get(seen, name)) {
				fprintf(f, "# TYPE %s untyped\n", name);
				json_object_set_new(seen, name, json_true());
			}
			if (json_is_integer(v)) {
				fprintf(f, "%s{nf=", name);
				label(f, json_string_value(
						 json_object_get(nf, "name")));
				fprintf(f, "} %lld\n",
					(long long)json_integer_value(v));
			}
			json_object_foreach (v, ik, iv) {
				if (!json_is_integer(iv))
					continue;
				fprintf(f, "%s{nf=", name);
				label(f, json_string_value(
						 json_object_get(nf, "name")));
				fputs(",key=", f);
				label(f, ik);
				fprintf(f, "} %lld\n",
					(long long)json_integer_value(iv));
			}
		}
	}
	json_decref(seen);
}

/* Transparent NFs count per attachment (a counter's per-direction
 * packets and bytes): nfchain_attachment_<key>{nf,target}. */
static void attachment_metrics(FILE *f, json_t *nfs)
{
	json_t *seen = json_object(), *nf, *a;
	size_t i, j;

	json_array_foreach (nfs, i, nf)
		json_array_foreach (json_object_get(nf, "attachments"), j, a) {
			const char *k;
			json_t *v;

			json_object_foreach (json_object_get(a, "stats"), k,
					     v) {
				char name[128];

				if (!json_is_integer(v))
					continue;
				metric_name(name, sizeof(name),
					    "nfchain_attachment_", k);
				if (!json_object_get(seen, name)) {
					fprintf(f, "# TYPE %s counter\n", name);
					json_object_set_new(seen, name,
							    json_true());
				}
				fprintf(f, "%s{nf=", name);
				label(f, json_string_value(
						 json_object_get(nf, "name")));
				fputs(",target=", f);
				label(f, json_string_value(
						 json_object_get(a, "target")));
				fprintf(f, "} %lld\n",
					(long long)json_integer_value(v));
			}
		}
	json_decref(seen);
}

static void global_metrics(FILE *f, json_t *g)
{
	const char *k, *ik;
	json_t *v, *iv;

	json_object_foreach (g, k, v) {
		char name[128];

		metric_name(name, sizeof(name), "nfchain_", k);
		if (json_is_integer(v)) {
			fprintf(f, "# TYPE %s untyped\n%s %lld\n", name, name,
				(long long)json_integer_value(v));
			continue;
		}
		if (!json_is_object(v))
			continue;
		fprintf(f, "# TYPE %s untyped\n", name);
		json_object_foreach (v, ik, iv) {
			if (!json_is_integer(iv))
				continue;
			fprintf(f, "%s{name=", name);
			label(f, ik);
			fprintf(f, "} %lld\n",
				(long long)json_integer_value(iv));
		}
	}
}

char *metrics_text(struct api *api)
{
	json_t *show = nfc_show(api->nfc), *g = nfc_global_stats(api->nfc);
	json_t *nfs = json_is_array(show) ? show : json_object_get(show, "nfs");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		json_decref(show);
		json_decref(g);
		return NULL;
	}
	port_metrics(f, nfs);
	nf_metrics(f, nfs);
	attachment_metrics(f, nfs);
	global_metrics(f, g);
	fputs("# HELP nfchain_api_requests_total API requests answered, by "
	      "HTTP status\n# TYPE nfchain_api_requests_total counter\n",
	      f);
	for (int s = 0; s < API_MAX_STATUS; s++)
		if (api->requests[s])
			fprintf(f,
				"nfchain_api_requests_total{code=\"%d\"} "
				"%llu\n",
				s, api->requests[s]);
	fclose(f);
	json_decref(show);
	json_decref(g);
	return buf;
}
