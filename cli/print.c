// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Human output: aligned tables built from the API's JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct table {
	int ncols, nrows, cap;
	char **cells; /* row-major; row 0 is the header */
};

static void table_init(struct table *t, int ncols, const char *const *hdr)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->cap = 16;
	t->cells = calloc(t->cap * ncols, sizeof(char *));
	for (int c = 0; c < ncols; c++)
		t->cells[c] = strdup(hdr[c]);
	t->nrows = 1;
}

static void table_row(struct table *t, char **cells)
{
	if (t->nrows == t->cap) {
		t->cap *= 2;
		t->cells =
			realloc(t->cells, t->cap * t->ncols * sizeof(char *));
	}
	for (int c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] =
			strdup(cells[c] ? cells[c] : "-");
	t->nrows++;
}

static int numeric(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* Column widths, and which columns are numbers (right-aligned). A column
 * of "-" only (a port-less NF's PORT, PEER, STATE) is text: right-aligned
 * it read as part of the column after it. */
static void table_layout(const struct table *t, int *w, int *right)
{
	for (int c = 0; c < t->ncols; c++) {
		int nums = 0;

		w[c] = 0;
		right[c] = 1;
		for (int r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + c];
			int n = strlen(s);

			if (n > w[c])
				w[c] = n;
			if (!r)
				continue;
			if (numeric(s))
				nums++;
			else if (strcmp(s, "-"))
				right[c] = 0;
		}
		right[c] = right[c] && nums;
	}
}

/* Numbers are right-aligned, text left-aligned; the last column is not
 * padded (no trailing blanks). */
static void row_print(int ncols, char *const *cells, const int *w,
		      const int *right, const char *indent)
{
	fputs(indent, stdout);
	for (int c = 0; c < ncols; c++) {
		const char *s = cells[c];
		int last = c == ncols - 1;

		if (right[c])
			printf("%*s", w[c], s);
		else if (last)
			fputs(s, stdout);
		else
			printf("%-*s", w[c], s);
		if (!last)
			fputs("  ", stdout);
	}
}

static void table_free(struct table *t)
{
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

static void table_print(struct table *t, const char *indent)
{
	int w[MAX_COLS], right[MAX_COLS];

	table_layout(t, w, right);
	for (int r = 0; r < t->nrows; r++) {
		row_print(t->ncols, t->cells + r * t->ncols, w, right, indent);
		putchar('\n');
	}
	table_free(t);
}

/* A JSON value as one cell, whole: a service's backends with their counters
 * run past any fixed buffer (a 256-byte one cut the third backend of a
 * row off, unmarked). */
static void cell_put(FILE *f, json_t *v)
{
	size_t i;
	json_t *e;
	const char *k;
	int first = 1;

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		fputs(json_string_value(v), f);
		break;
	case JSON_INTEGER:
		fprintf(f, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(f, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("yes", f);
		break;
	case JSON_FALSE:
		fputs("no", f);
		break;
	case JSON_ARRAY:
		if (!json_array_size(v))
			fputs("-", f);
		json_array_foreach (v, i, e) {
			if (i)
				fputc(',', f);
			cell_put(f, e);
		}
		break;
	case JSON_OBJECT:
		if (!json_object_size(v))
			fputs("-", f);
		/* key=value as `set` takes it: a bool on or off, as the docs
		 * spell it (slow_path=yes beside a README's off|on). */
		json_object_foreach (v, k, e) {
			fprintf(f, "%s%s=", first ? "" : " ", k);
			if (json_is_boolean(e))
				fputs(json_is_true(e) ? "on" : "off", f);
			else
				cell_put(f, e);
			first = 0;
		}
		break;
	default:
		fputs("-", f);
	}
}

/* The cell, malloc'd (NULL: out of memory). */
static char *cell_dup(json_t *v)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return NULL;
	cell_put(f, v);
	if (fclose(f)) {
		free(s);
		return NULL;
	}
	return s;
}

/* The cell in buf, for the short ones (a peer, a mode, a config). */
static const char *cell(json_t *v, char *buf, size_t len)
{
	char *s = cell_dup(v);

	snprintf(buf, len, "%s", s ? s : "-");
	free(s);
	return buf;
}

static const char *sget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *num(json_t *o, const char *k, char *buf)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		return "-";
	sprintf(buf, "%lld", (long long)json_integer_value(v));
	return buf;
}

static const char *const port_hdr[] = {
	"NF",	   "TYPE",     "MODE",	  "PORT",     "PEER",  "STATE",
	"RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES", "DROPS",
};

/* An NF's mode as the user reads it: the explicit one, or for mode auto
 * the hook the runtime picked and why ("tc (auto: veth)"). */
static const char *mode_cell(json_t *nf, char *buf, size_t len)
{
	const char *why = json_string_value(json_object_get(nf, "hook_reason"));

	if (strcmp(sget(nf, "mode"), "auto") || !why)
		return sget(nf, "mode");
	snprintf(buf, len, "%s (auto: %s)", sget(nf, "hook"), why);
	return buf;
}

/* One row per port (or one for a port-less NF) into a 11-column table. */
static void nf_rows(struct table *t, json_t *nf, int with_nf)
{
	json_t *ports = json_object_get(nf, "ports"), *p;
	char mode[64];
	size_t i;

	mode_cell(nf, mode, sizeof(mode));

	if (!json_array_size(ports)) {
		char *row[11] = {(char *)sget(nf, "name"),
				 (char *)sget(nf, "type"),
				 (char *)mode_cell(nf, mode, sizeof(mode))};
		table_row(t, row);
		return;
	}
	json_array_foreach (ports, i, p) {
		char b[5][32], peer[128];
		json_t *st = json_object_get(p, "stats");
		char *row[11] = {
			(char *)(with_nf && !i ? sget(nf, "name") : ""),
			(char *)(with_nf && !i ? sget(nf, "type") : ""),
			(char *)(with_nf && !i
					 ? mode_cell(nf, mode, sizeof(mode))
					 : ""),
			(char *)sget(p, "name"),
			(char *)cell(json_object_get(p, "peer"), peer,
				     sizeof(peer)),
			(char *)sget(p, "state"),
			(char *)num(st, "rx_packets", b[0]),
			(char *)num(st, "rx_bytes", b[1]),
			(char *)num(st, "tx_packets", b[2]),
			(char *)num(st, "tx_bytes", b[3]),
			(char *)num(st, "drops", b[4]),
		};
		table_row(t, row);
	}
}

/* What a port's stats hold beyond the five counters every port has (a
 * router port's mac, ip, ip6_link_local): new, to free. */
static json_t *port_extra(json_t *st)
{
	static const char *const common[] = {"rx_packets", "rx_bytes",
					     "tx_packets", "tx_bytes", "drops"};
	json_t *x = json_object();

	json_object_update(x, st);
	for (size_t k = 0; k < sizeof(common) / sizeof(common[0]); k++)
		json_object_del(x, common[k]);
	return x;
}

/* The ports of `show ports`, or of `show stats`, whose answer has no
 * state or config: those columns are left out then, not shown as "-"
 * for a port that is up. A last column, DETAILS, when a port's stats
 * hold more than the counters. */
static void ports_table(json_t *nf)
{
	static const char *const full[] = {
		"PORT",	    "PEER",    "STATE",	   "CONFIG", "RX_PKTS",
		"RX_BYTES", "TX_PKTS", "TX_BYTES", "DROPS",  "DETAILS"};
	static const char *const counts[] = {"PORT",	 "PEER",    "RX_PKTS",
					     "RX_BYTES", "TX_PKTS", "TX_BYTES",
					     "DROPS",	 "DETAILS"};
	json_t *ports = json_object_get(nf, "ports"), *p;
	int all = json_object_get(json_array_get(ports, 0), "state") != NULL;
	int details = 0;
	struct table t;
	size_t i;

	json_array_foreach (ports, i, p) {
		json_t *x = port_extra(json_object_get(p, "stats"));

		details |= json_object_size(x) > 0;
		json_decref(x);
	}
	table_init(&t, (all ? 9 : 7) + details, all ? full : counts);
	json_array_foreach (ports, i, p) {
		char b[5][32], peer[128], cfg[512], det[512];
		json_t *st = json_object_get(p, "stats"), *x = port_extra(st);
		char *row[10] = {
			(char *)sget(p, "name"),
			(char *)cell(json_object_get(p, "peer"), peer,
				     sizeof(peer)),
			(char *)sget(p, "state"),
			(char *)cell(json_object_get(p, "config"), cfg,
				     sizeof(cfg)),
			(char *)num(st, "rx_packets", b[0]),
			(char *)num(st, "rx_bytes", b[1]),
			(char *)num(st, "tx_packets", b[2]),
			(char *)num(st, "tx_bytes", b[3]),
			(char *)num(st, "drops", b[4]),
			(char *)cell(x, det, sizeof(det)),
		};

		if (!all) /* no STATE, CONFIG */
			memmove(row + 2, row + 4, 6 * sizeof(row[0]));
		table_row(&t, row);
		json_decref(x);
	}
	table_print(&t, "");
}

/* Attachments of a transparent NF with its per-direction counters. */
static void att_table(json_t *atts, const char *nf)
{
	static const char *const hdr[] = {
		"NF",	   "TARGET",   "STATE",	  "DIRECTION", "POSITION",
		"IN_PKTS", "IN_BYTES", "EG_PKTS", "EG_BYTES",  "DROPS"};
	struct table t;
	json_t *a;
	size_t i;

	table_init(&t, 10, hdr);
	json_array_foreach (atts, i, a) {
		char b[6][32];
		json_t *st = json_object_get(a, "stats");
		char *row[10] = {
			(char *)(sget(a, "nf") ?: nf),
			(char *)sget(a, "target"),
			(char *)sget(a, "state"),
			(char *)sget(a, "direction"),
			(char *)num(a, "position", b[5]),
			(char *)num(st, "ingress_packets", b[0]),
			(char *)num(st, "ingress_bytes", b[1]),
			(char *)num(st, "egress_packets", b[2]),
			(char *)num(st, "egress_bytes", b[3]),
			(char *)num(st, "drops", b[4]),
		};
		table_row(&t, row);
	}
	table_print(&t, "");
}

static json_t *find_named(json_t *arr, const char *key, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach (arr, i, v)
		if (name && sget(v, key) && !strcmp(sget(v, key), name))
			return v;
	return NULL;
}

static void show_all(json_t *a)
{
	json_t *nfs = json_object_get(a, "nfs"), *nf, *at, *atts, *h;
	struct table t;
	size_t i;

	if (sget(a, "restore_pending"))
		printf("restore pending: %s\n", sget(a, "restore_pending"));
	if (!json_array_size(nfs)) {
		puts("no NFs");
		return;
	}
	table_init(&t, 11, port_hdr);
	json_array_foreach (nfs, i, nf)
		nf_rows(&t, nf, 1);
	table_print(&t, "");

	/* The chain-level attachment list, with each one's counters taken
	 * from its NF's own attachment entries. */
	atts = json_array();
	json_array_foreach (json_object_get(a, "attachments"), i, at) {
		json_t *o = json_deep_copy(at);
		json_t *n = find_named(nfs, "name", sget(at, "nf"));
		json_t *mine = find_named(json_object_get(n, "attachments"),
					  "target", sget(at, "target"));

		if (json_object_get(mine, "stats"))
			json_object_set(o, "stats",
					json_object_get(mine, "stats"));
		json_array_append_new(atts, o);
	}
	if (json_array_size(atts)) {
		putchar('\n');
		att_table(atts, NULL);
	}
	json_decref(atts);
	if (json_array_size(json_object_get(a, "hooks"))) {
		static const char *const hdr[] = {"NETDEV", "IFINDEX", "HOOK",
						  "DIRECTION", "STATE"};
		putchar('\n');
		table_init(&t, 5, hdr);
		json_array_foreach (json_object_get(a, "hooks"), i, h) {
			char b[32];
			/* A gone netdev's ifindex names nothing now. */
			int gone = !strcmp(sget(h, "state") ?: "", "down");
			char *row[5] = {(char *)sget(h, "netdev"),
					gone ? "-"
					     : (char *)num(h, "ifindex", b),
					(char *)sget(h, "hook"),
					(char *)sget(h, "direction"),
					(char *)sget(h, "state")};
			table_row(&t, row);
		}
		table_print(&t, "");
	}
}

/* A list of objects (a ddos NF's top talkers): a row each, named by its
 * first string (the source), the rest as key=value. */
static void list_rows(struct table *t, json_t *a, const char *key)
{
	size_t i;
	json_t *e;

	json_array_foreach (a, i, e) {
		json_t *rest = json_copy(e);
		const char *k, *name = NULL;
		char rk[192];
		json_t *v;

		json_object_foreach (e, k, v)
			if (json_is_string(v)) {
				name = json_string_value(v);
				json_object_del(rest, k);
				break;
			}
		if (name)
			snprintf(rk, sizeof(rk), "%s.%s", key, name);
		else
			snprintf(rk, sizeof(rk), "%s.%zu", key, i);
		char *row[2] = {rk, cell_dup(rest)};

		table_row(t, row);
		free(row[1]);
		json_decref(rest);
	}
}

/* key/value rows of an object, nested objects flattened as a.b. */
static void kv_rows(struct table *t, json_t *o, const char *prefix)
{
	const char *k;
	json_t *v;

	json_object_foreach (o, k, v) {
		char key[128];

		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "",
			 k);
		if (json_is_object(v) && json_object_size(v)) {
			kv_rows(t, v, key);
			continue;
		}
		if (json_is_array(v) && json_is_object(json_array_get(v, 0))) {
			list_rows(t, v, key);
			continue;
		}
		char *row[2] = {key, cell_dup(v)};

		table_row(t, row);
		free(row[1]);
	}
}

static void show_nf(json_t *nf)
{
	static const char *const hdr[] = {"STAT", "VALUE"};
	struct table t;
	char cfg[1024], mode[64];

	if (json_object_get(nf, "hook_reason"))
		printf("%s: %s, mode auto, hook %s\n", sget(nf, "name"),
		       sget(nf, "type"), mode_cell(nf, mode, sizeof(mode)));
	else
		printf("%s: %s, mode %s\n", sget(nf, "name"), sget(nf, "type"),
		       sget(nf, "mode"));
	printf("config: %s\n",
	       cell(json_object_get(nf, "config"), cfg, sizeof(cfg)));
	if (json_array_size(json_object_get(nf, "ports"))) {
		putchar('\n');
		ports_table(nf);
	}
	if (json_array_size(json_object_get(nf, "attachments"))) {
		putchar('\n');
		att_table(json_object_get(nf, "attachments"), sget(nf, "name"));
	}
	if (json_object_size(json_object_get(nf, "stats"))) {
		putchar('\n');
		table_init(&t, 2, hdr);
		kv_rows(&t, json_object_get(nf, "stats"), "");
		table_print(&t, "");
	}
}

static void show_stats(json_t *s)
{
	static const char *const hdr[] = {"STAT", "VALUE"};
	struct table t;

	table_init(&t, 2, hdr);
	kv_rows(&t, json_object_get(s, "stats"), "");
	table_print(&t, "");
	if (json_array_size(json_object_get(s, "ports"))) {
		putchar('\n');
		ports_table(s);
	}
	if (json_array_size(json_object_get(s, "attachments"))) {
		putchar('\n');
		att_table(json_object_get(s, "attachments"), sget(s, "name"));
	}
}

static int col_of(const char **hdr, int n, const char *k)
{
	for (int j = 0; j < n; j++)
		if (!strcmp(hdr[j], k))
			return j;
	return -1;
}

/* Entries of a collection: the columns are the union of their keys, each
 * new one placed before the next of its entry's keys already placed, so
 * that entries listing their fields in one order (the declaration's) give
 * columns in that order, whichever entry names a field first. */
static int coll_columns(json_t *list, const char **hdr, char up[][64])
{
	json_t *e, *v;
	const char *k;
	int n = 0;
	size_t i;

	json_array_foreach (list, i, e)
		json_object_foreach (e, k, v) {
			const char *k2;
			json_t *v2;
			int at = n, seen = 0;

			if (col_of(hdr, n, k) >= 0 || n == MAX_COLS)
				continue;
			json_object_foreach (e, k2, v2) {
				if (seen && col_of(hdr, n, k2) >= 0) {
					at = col_of(hdr, n, k2);
					break;
				}
				seen |= k2 == k;
			}
			memmove(hdr + at + 1, hdr + at,
				(n - at) * sizeof(hdr[0]));
			hdr[at] = k;
			n++;
		}
	for (int j = 0; j < n; j++) {
		int c;

		for (c = 0; hdr[j][c] && c < 63; c++)
			up[j][c] = hdr[j][c] >= 'a' && hdr[j][c] <= 'z'
					   ? hdr[j][c] - 32
					   : hdr[j][c];
		up[j][c] = 0;
	}
	return n;
}

/* The cells of entry e under the columns hdr, malloc'd (cells_free). */
static void coll_cells(json_t *e, int n, const char *const *hdr, char **row)
{
	for (int j = 0; j < n; j++) {
		json_t *v = json_object_get(e, hdr[j]);

		row[j] = v ? cell_dup(v) : NULL;
		if (!row[j])
			row[j] = strdup("-");
	}
}

static void cells_free(int n, char **row)
{
	for (int j = 0; j < n; j++)
		free(row[j]);
}

static void coll_table(json_t *list, struct table *t, const char **hdr,
		       char up[][64])
{
	const char *uh[MAX_COLS];
	int n = coll_columns(list, hdr, up);
	json_t *e;
	size_t i;

	for (int j = 0; j < n; j++)
		uh[j] = up[j];
	table_init(t, n, uh);
	json_array_foreach (list, i, e) {
		char *row[MAX_COLS];

		coll_cells(e, n, hdr, row);
		table_row(t, row);
		cells_free(n, row);
	}
}

static void show_coll(json_t *list)
{
	const char *hdr[MAX_COLS];
	char up[MAX_COLS][64];
	struct table t;

	if (!json_array_size(list)) {
		puts("no entries");
		return;
	}
	coll_table(list, &t, hdr, up);
	table_print(&t, "");
}

/*
 * A listing printed as it arrives (nfchain <nf> <coll> show of a
 * 1,000,000-prefix blocklist): the first COLL_BLOCK entries are held to
 * choose the columns and their widths, printed, and each entry after
 * them is printed with those as it comes, never held. A shorter listing
 * prints exactly as a whole answer does. A later entry with a field that
 * the first ones lack shows it as key=value after its columns.
 */
#define COLL_BLOCK 1024

void coll_out_init(struct coll_out *o, bool json)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	o->first = json_array();
}

static void json_elem(struct coll_out *o, json_t *e)
{
	char *t = json_dumps(e, JSON_INDENT(2) | JSON_ENCODE_ANY);

	/* As json_dumps of the whole array with JSON_INDENT(2) prints it:
	 * each element's lines two more spaces in. */
	fputs(o->n ? ",\n  " : "[\n  ", stdout);
	for (const char *p = t ? t : "null"; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			fputs("  ", stdout);
	}
	free(t);
}

static void coll_start(struct coll_out *o)
{
	struct table t;

	coll_table(o->first, &t, o->hdr, o->up);
	o->ncols = t.ncols;
	table_layout(&t, o->w, o->right);
	for (int r = 0; r < t.nrows; r++) {
		row_print(t.ncols, t.cells + r * t.ncols, o->w, o->right, "");
		putchar('\n');
	}
	table_free(&t);
	/* The header names point into the entries held: copied. */
	for (int j = 0; j < o->ncols; j++) {
		snprintf(o->keys[j], sizeof(o->keys[j]), "%s", o->hdr[j]);
		o->hdr[j] = o->keys[j];
	}
	json_array_clear(o->first);
	o->started = 1;
}

int coll_out_elem(json_t *e, void *ctx)
{
	struct coll_out *o = ctx;
	char *row[MAX_COLS];
	const char *k;
	json_t *v;

	if (o->json) {
		json_elem(o, e);
		o->n++;
		return 0;
	}
	o->n++;
	if (!o->started) {
		json_array_append(o->first, e);
		if (json_array_size(o->first) == COLL_BLOCK)
			coll_start(o);
		return 0;
	}
	coll_cells(e, o->ncols, o->hdr, row);
	row_print(o->ncols, row, o->w, o->right, "");
	cells_free(o->ncols, row);
	json_object_foreach (e, k, v) {
		int j;

		for (j = 0; j < o->ncols && strcmp(o->hdr[j], k); j++)
			;
		if (j == o->ncols) {
			char *c = cell_dup(v);

			printf("  %s=%s", k, c ? c : "-");
			free(c);
		}
	}
	putchar('\n');
	return ferror(stdout) ? -1 : 0;
}

void coll_out_end(struct coll_out *o)
{
	if (o->json)
		puts(o->n ? "\n]" : "[]");
	else if (!o->started)
		show_coll(o->first);
	json_decref(o->first);
	o->first = NULL;
}

static void fields_table(json_t *fields, const char *indent)
{
	static const char *const hdr[] = {"FIELD", "KIND", "DEFAULT", "VALUES",
					  "DOC"};
	struct table t;
	json_t *f;
	size_t i;

	if (!json_array_size(fields)) {
		printf("%s(none)\n", indent);
		return;
	}
	table_init(&t, 5, hdr);
	json_array_foreach (fields, i, f) {
		char name[96], vals[128] = "-";

		snprintf(name, sizeof(name), "%s%s", sget(f, "name"),
			 json_is_true(json_object_get(f, "required")) ? " *"
								      : "");
		if (sget(f, "choices"))
			snprintf(vals, sizeof(vals), "%s", sget(f, "choices"));
		else if (json_is_integer(json_object_get(f, "min")))
			snprintf(vals, sizeof(vals), "%lld..%lld",
				 (long long)json_integer_value(
					 json_object_get(f, "min")),
				 (long long)json_integer_value(
					 json_object_get(f, "max")));
		else if (json_is_integer(json_object_get(f, "max_length")))
			snprintf(vals, sizeof(vals), "up to %lld chars",
				 (long long)json_integer_value(
					 json_object_get(f, "max_length")));
		char *row[5] = {name, (char *)sget(f, "kind"),
				(char *)sget(f, "default"), vals,
				(char *)sget(f, "doc")};
		table_row(&t, row);
	}
	table_print(&t, indent);
}

static void show_types(json_t *types)
{
	json_t *t, *c;
	size_t i, j;

	json_array_foreach (types, i, t) {
		char pn[256];

		if (i)
			putchar('\n');
		printf("%s%s: %s\n", sget(t, "name"),
		       json_is_true(json_object_get(t, "transparent"))
			       ? " (transparent: attach it)"
			       : "",
		       sget(t, "summary") ?: "");
		if (!json_is_true(json_object_get(t, "transparent")))
			printf("  ports: %s (at most %lld)\n",
			       json_is_array(json_object_get(t, "port_names"))
				       ? cell(json_object_get(t, "port_names"),
					      pn, sizeof(pn))
				       : "any name",
			       (long long)json_integer_value(
				       json_object_get(t, "max_ports")));
		printf("  config (key=value; * required):\n");
		fields_table(json_object_get(t, "config"), "    ");
		if (json_array_size(json_object_get(t, "port_config"))) {
			printf("  port config:\n");
			fields_table(json_object_get(t, "port_config"), "    ");
		}
		json_array_foreach (json_object_get(t, "collections"), j, c) {
			printf("  collection %s (key: %s):\n", sget(c, "name"),
			       sget(c, "key") ?: "-");
			fields_table(json_object_get(c, "fields"), "    ");
		}
	}
}

static void show_plan(json_t *a, bool dry_run)
{
	json_t *plan = json_object_get(a, "plan"), *s;
	size_t i;

	if (!json_array_size(plan)) {
		puts(dry_run ? "no changes would be made" : "no changes");
		return;
	}
	if (dry_run)
		puts("plan (dry run, nothing was changed):");
	json_array_foreach (plan, i, s) {
		char b[1024];

		printf("  %s\n", cell(s, b, sizeof(b)));
	}
}

void print_answer(enum view v, json_t *a, bool dry_run)
{
	char *text;

	switch (v) {
	case V_QUIET:
		return;
	case V_TYPES:
		show_types(a);
		return;
	case V_TYPE: {
		json_t *l = json_pack("[O]", a);

		show_types(l);
		json_decref(l);
		return;
	}
	case V_LOADED: {
		json_t *l = json_array(), *t;
		size_t i;

		json_array_foreach (a, i, t)
			if (json_is_true(json_object_get(t, "loaded")))
				json_array_append(l, t);
		if (json_array_size(l))
			show_types(l);
		else
			puts("no loaded types");
		json_decref(l);
		return;
	}
	case V_SHOW:
		show_all(a);
		return;
	case V_NF:
		show_nf(a);
		return;
	case V_PORTS: {
		json_t *o = json_pack("{s:O}", "ports", a);

		ports_table(o);
		json_decref(o);
		return;
	}
	case V_STATS:
		show_stats(a);
		return;
	case V_COLL:
		if (json_is_object(a)) { /* one entry: show <key> */
			json_t *one = json_pack("[O]", a);

			show_coll(one);
			json_decref(one);
			return;
		}
		show_coll(a);
		return;
	case V_PLAN:
		show_plan(a, dry_run);
		return;
	case V_EXPORT:
		text = json_dumps(a, JSON_INDENT(2));
		if (text)
			puts(text);
		free(text);
		return;
	}
}
