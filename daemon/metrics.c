// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * /metrics in the Prometheus text format (version 0.0.4). Rendered from
 * the same JSON the API serves, so the figures are the ones `nfchain show`
 * prints: per NF and port counters, whether ports, attachments and hooks
 * are up, the NF types' own figures, the
 * runtime's global counters (slow path, ring drops, drops by reason) and
 * the API's answers by status.
 *
 * Names follow Prometheus' naming guide, and `promtool check metrics`
 * accepts the page (daemon/tests/metrics.sh): counters end in `_total`,
 * units are in the name, and what differs only by reason, direction or
 * status is one metric with a label. Each family's samples are written
 * together under one HELP and one TYPE line. An NF type's own figures take
 * their type and help from its declaration (`stats_doc` in
 * include/nfchain/nf.h, served by nfc_types()); a figure it does not
 * declare is untyped, with a help line that says so.
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

/* HELP and TYPE of a family; help text escapes backslash and newline. */
static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s ", name);
	for (; *help; help++) {
		if (*help == '\\')
			fputs("\\\\", f);
		else if (*help == '\n')
			fputs("\\n", f);
		else
			fputc(*help, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* Metric names are [a-zA-Z_:][a-zA-Z0-9_:]*: anything else becomes '_'.
 * A counter ends in _total, once. */
static void metric_name(char *out, size_t len, const char *prefix,
			const char *key, int counter)
{
	size_t o = snprintf(out, len, "%s", prefix), kl = strlen(key);

	if (counter && kl >= 6 && !strcmp(key + kl - 6, "_total"))
		counter = 0;
	for (; *key && o + 1 < len; key++)
		out[o++] = isalnum((unsigned char)*key) ? *key : '_';
	out[o] = 0;
	if (counter)
		snprintf(out + o, len - o, "_total");
}

static const char *nf_name(json_t *nf)
{
	return json_string_value(json_object_get(nf, "name"));
}

/* The framework's own figures of every port, and their sum over an NF's
 * ports in the NF's stats object. */
static const struct {
	const char *key, *what;
} port_counters[] = {
	{"rx_packets", "packets received"}, {"rx_bytes", "bytes received"},
	{"tx_packets", "packets sent"},	    {"tx_bytes", "bytes sent"},
	{"drops", "packets dropped"},
};
#define N_PORT_COUNTERS (sizeof(port_counters) / sizeof(port_counters[0]))

static void port_metrics(FILE *f, json_t *nfs)
{
	for (size_t k = 0; k < N_PORT_COUNTERS; k++) {
		const char *key = port_counters[k].key;
		char name[128], help[128];
		json_t *nf, *p;
		size_t i, j;

		metric_name(name, sizeof(name), "nfchain_port_", key, 1);
		snprintf(help, sizeof(help), "%s by an NF port",
			 port_counters[k].what);
		family(f, name, "counter", help);
		json_array_foreach (nfs, i, nf)
			json_array_foreach (json_object_get(nf, "ports"), j,
					    p) {
				json_t *v = json_object_get(
					json_object_get(p, "stats"), key);

				if (!json_is_integer(v))
					continue;
				fprintf(f, "%s{nf=", name);
				label(f, nf_name(nf));
				fputs(",port=", f);
				label(f, json_string_value(
						 json_object_get(p, "name")));
				fprintf(f, "} %lld\n",
					(long long)json_integer_value(v));
			}
	}
}

/* How one figure of an NF's stats object is exposed. */
struct figure {
	char name[128];
	const char *type;  /* counter, gauge, untyped */
	const char *label; /* an object's keys: this label */
	char help[256];
};

/* A declared label must be a label name ([a-zA-Z_][a-zA-Z0-9_]*, `__`
 * reserved) other than the `nf` every sample carries: else it is `key`. */
static const char *label_name(const char *s)
{
	if (!s || !*s || isdigit((unsigned char)*s) || !strcmp(s, "nf") ||
	    !strncmp(s, "__", 2))
		return "key";
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			return "key";
	return s;
}

/* The declaration of `key` in the type's `stats` array, or NULL. */
static json_t *stat_doc(json_t *types, const char *type, const char *key)
{
	json_t *t, *s;
	size_t i, j;

	json_array_foreach (types, i, t) {
		if (strcmp(json_string_value(json_object_get(t, "name")) ?: "",
			   type))
			continue;
		json_array_foreach (json_object_get(t, "stats"), j, s)
			if (!strcmp(json_string_value(
					    json_object_get(s, "name"))
					    ?: "",
				    key))
				return s;
	}
	return NULL;
}

/* Declared as kept in the JSON only (its metric is another, labelled
 * one), or a list: not a metric. */
static int json_only(json_t *types, json_t *nf, const char *key)
{
	json_t *d = stat_doc(
		types, json_string_value(json_object_get(nf, "type")) ?: "",
		key);
	const char *k = json_string_value(json_object_get(d, "kind")) ?: "";

	return d && (!strcmp(k, "json-only") || !strcmp(k, "list"));
}

static void figure_of(struct figure *fg, json_t *types, json_t *nf,
		      const char *key)
{
	const char *type = json_string_value(json_object_get(nf, "type")) ?: "";
	json_t *d;

	/* The framework's sums over the ports: no type's figure takes
	 * their names (lib/show.c keeps them). */
	for (size_t k = 0; k < N_PORT_COUNTERS; k++)
		if (!strcmp(key, port_counters[k].key)) {
			metric_name(fg->name, sizeof(fg->name), "nfchain_nf_",
				    key, 1);
			fg->type = "counter";
			fg->label = NULL;
			snprintf(fg->help, sizeof(fg->help),
				 "%s by an NF, all its ports summed",
				 port_counters[k].what);
			return;
		}
	d = stat_doc(types, type, key);
	if (d) {
		const char *kind =
			json_string_value(json_object_get(d, "kind"));
		int counter = !kind || strcmp(kind, "gauge");

		metric_name(fg->name, sizeof(fg->name), "nfchain_nf_", key,
			    counter);
		fg->type = counter ? "counter" : "gauge";
		fg->label = label_name(
			json_string_value(json_object_get(d, "label")));
		snprintf(fg->help, sizeof(fg->help), "%s (%s)",
			 json_string_value(json_object_get(d, "help")) ?: key,
			 type);
		return;
	}
	/* Not declared: nothing says whether it only grows. */
	metric_name(fg->name, sizeof(fg->name), "nfchain_nf_", key, 0);
	fg->type = "untyped";
	fg->label = "key";
	snprintf(fg->help, sizeof(fg->help),
		 "figure '%s' of a %s NF's stats, not declared by its type",
		 key, type);
}

static void nf_samples(FILE *f, const char *name, const char *nf,
		       const char *lab, json_t *v)
{
	const char *ik;
	json_t *iv;

	if (json_is_integer(v)) {
		fprintf(f, "%s{nf=", name);
		label(f, nf);
		fprintf(f, "} %lld\n", (long long)json_integer_value(v));
	}
	json_object_foreach (v, ik, iv) {
		if (!json_is_integer(iv))
			continue;
		fprintf(f, "%s{nf=", name);
		label(f, nf);
		fprintf(f, ",%s=", lab ? lab : "key");
		label(f, ik);
		fprintf(f, "} %lld\n", (long long)json_integer_value(iv));
	}
}

/* Whether a value of an NF's stats object is a figure at all (a router
 * port's MAC is not). */
static int is_figure(json_t *v)
{
	const char *k;
	json_t *iv;

	if (json_is_integer(v))
		return 1;
	json_object_foreach (v, k, iv)
		if (json_is_integer(iv))
			return 1;
	return 0;
}

/* Every NF's stats object: the framework's sums over its ports and what
 * its type adds, one family per figure (two NFs of a type, or two types
 * declaring the same key alike, share it). A first pass sorts the figures
 * into families, so the page costs one declaration lookup per figure. */
static void nf_metrics(FILE *f, json_t *nfs, json_t *types)
{
	json_t *fams = json_object(), *nf, *fam;
	const char *name;
	size_t i;

	json_array_foreach (nfs, i, nf) {
		json_t *v;
		const char *k;

		json_object_foreach (json_object_get(nf, "stats"), k, v) {
			struct figure fg;

			if (!is_figure(v) || json_only(types, nf, k))
				continue;
			figure_of(&fg, types, nf, k);
			fam = json_object_get(fams, fg.name);
			if (!fam) {
				fam = json_pack("{s:s,s:s,s:[]}", "type",
						fg.type, "help", fg.help,
						"rows");
				json_object_set_new(fams, fg.name, fam);
			} else if (strcmp(json_string_value(
						  json_object_get(fam, "help")),
					  fg.help)) {
				/* Two types' figures of one name (a filter's
				 * dropped, a bridge's by reason): the HELP
				 * of neither alone (found by a helper). */
				char h[320];

				snprintf(h, sizeof(h),
					 "figure '%s' of the NFs' stats, as "
					 "each NF type declares it (nfchain "
					 "types show)",
					 k);
				json_object_set_new(fam, "help",
						    json_string(h));
			}
			json_array_append_new(json_object_get(fam, "rows"),
					      json_pack("{s:O,s:s,s:s?}", "nf",
							nf, "key", k, "label",
							fg.label));
		}
	}
	json_object_foreach (fams, name, fam) {
		json_t *row;
		size_t j;

		family(f, name, json_string_value(json_object_get(fam, "type")),
		       json_string_value(json_object_get(fam, "help")));
		json_array_foreach (json_object_get(fam, "rows"), j, row) {
			json_t *rnf = json_object_get(row, "nf");
			const char *k =
				json_string_value(json_object_get(row, "key"));

			nf_samples(f, name, nf_name(rnf),
				   json_string_value(
					   json_object_get(row, "label")),
				   json_object_get(
					   json_object_get(rnf, "stats"), k));
		}
	}
	json_decref(fams);
}

/* A transparent NF's per-attachment figures, as lib/show.c makes them:
 * packets and bytes per direction, drops. */
static const struct {
	const char *key, *metric, *direction, *help;
} att_figures[] = {
	{"ingress_packets", "packets", "ingress",
	 "packets a transparent NF saw on one attachment, by direction"},
	{"egress_packets", "packets", "egress", NULL},
	{"ingress_bytes", "bytes", "ingress",
	 "bytes a transparent NF saw on one attachment, by direction"},
	{"egress_bytes", "bytes", "egress", NULL},
	{"drops", "drops", NULL,
	 "packets a transparent NF dropped on one attachment"},
};

static void attachment_metrics(FILE *f, json_t *nfs)
{
	for (size_t k = 0; k < sizeof(att_figures) / sizeof(att_figures[0]);
	     k++) {
		char name[128];
		json_t *nf, *a;
		size_t i, j;

		metric_name(name, sizeof(name), "nfchain_attachment_",
			    att_figures[k].metric, 1);
		/* The first of a family's rows carries its help. */
		if (att_figures[k].help)
			family(f, name, "counter", att_figures[k].help);
		json_array_foreach (nfs, i, nf)
			json_array_foreach (json_object_get(nf, "attachments"),
					    j, a) {
				json_t *v = json_object_get(
					json_object_get(a, "stats"),
					att_figures[k].key);

				if (!json_is_integer(v))
					continue;
				fprintf(f, "%s{nf=", name);
				label(f, nf_name(nf));
				fputs(",target=", f);
				label(f, json_string_value(
						 json_object_get(a, "target")));
				if (att_figures[k].direction) {
					fputs(",direction=", f);
					label(f, att_figures[k].direction);
				}
				fprintf(f, "} %lld\n",
					(long long)json_integer_value(v));
			}
	}
}

/* 1 when up, 0 when not: a port without a peer, or a port, attachment or
 * hook whose netdev went away (the "state" of nfc_show). */
static void up_sample(FILE *f, const char *name, json_t *o, const char *l1,
		      const char *v1, const char *l2, const char *v2)
{
	const char *st = json_string_value(json_object_get(o, "state"));

	if (!st)
		return;
	fprintf(f, "%s{%s=", name, l1);
	label(f, v1);
	fprintf(f, ",%s=", l2);
	label(f, v2);
	fprintf(f, "} %d\n", !strcmp(st, "up"));
}

static void state_metrics(FILE *f, json_t *show, json_t *nfs)
{
	json_t *nf, *o;
	size_t i, j;

	family(f, "nfchain_port_up", "gauge",
	       "1 if an NF port's peer is there; 0 if it has none or its "
	       "netdev is gone");
	json_array_foreach (nfs, i, nf)
		json_array_foreach (json_object_get(nf, "ports"), j, o)
			up_sample(
				f, "nfchain_port_up", o, "nf", nf_name(nf),
				"port",
				json_string_value(json_object_get(o, "name")));
	family(f, "nfchain_attachment_up", "gauge",
	       "1 if a transparent NF's attachment is in its path; 0 while "
	       "the netdev it is on is gone");
	json_array_foreach (json_object_get(show, "attachments"), i, o)
		up_sample(f, "nfchain_attachment_up", o, "nf",
			  json_string_value(json_object_get(o, "nf")), "target",
			  json_string_value(json_object_get(o, "target")));
	family(f, "nfchain_hook_up", "gauge",
	       "1 if a netdev hook of nfchain is attached; 0 while its "
	       "netdev is gone");
	json_array_foreach (json_object_get(show, "hooks"), i, o)
		up_sample(f, "nfchain_hook_up", o, "netdev",
			  json_string_value(json_object_get(o, "netdev")),
			  "direction",
			  json_string_value(json_object_get(o, "direction")));
}

/* The runtime's global figures (nfc_global_stats). */
static const struct {
	const char *key, *metric, *label, *help;
} global_figures[] = {
	{"slow_path_events", "nfchain_slow_path_events_total", NULL,
	 "packets the data plane sent up to the slow path"},
	{"slow_path_ring_drops", "nfchain_slow_path_ring_drops_total", NULL,
	 "packets for the slow path lost: its ring was full"},
	{"drops_by_reason", "nfchain_drops_total", "reason",
	 "packets the data plane dropped, all NFs, by reason"},
};

static void global_metrics(FILE *f, json_t *g)
{
	const char *k, *ik;
	json_t *v, *iv;

	json_object_foreach (g, k, v) {
		const char *lab = "key";
		char name[128], help[160];
		size_t n;

		if (!is_figure(v) && !json_is_object(v))
			continue;
		for (n = 0;
		     n < sizeof(global_figures) / sizeof(global_figures[0]);
		     n++)
			if (!strcmp(k, global_figures[n].key))
				break;
		if (n < sizeof(global_figures) / sizeof(global_figures[0])) {
			snprintf(name, sizeof(name), "%s",
				 global_figures[n].metric);
			lab = global_figures[n].label ?: lab;
			family(f, name, "counter", global_figures[n].help);
		} else {
			metric_name(name, sizeof(name), "nfchain_", k, 0);
			snprintf(help, sizeof(help),
				 "global figure '%s' of the runtime, not "
				 "described here",
				 k);
			family(f, name, "untyped", help);
		}
		if (json_is_integer(v)) {
			fprintf(f, "%s %lld\n", name,
				(long long)json_integer_value(v));
			continue;
		}
		json_object_foreach (v, ik, iv) {
			if (!json_is_integer(iv))
				continue;
			fprintf(f, "%s{%s=", name, lab);
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
	nf_metrics(f, nfs, api->types);
	attachment_metrics(f, nfs);
	state_metrics(f, show, nfs);
	global_metrics(f, g);
	family(f, "nfchain_api_requests_total", "counter",
	       "API requests answered, by HTTP status");
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
