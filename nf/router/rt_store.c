// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the routes an import brought, kept beside the daemon's state
 * rather than in its model (issue 13: 500,000 routes as one JSON object
 * each cost the daemon ~3 KB a route). rt_rib is the store the control
 * plane reads; two files make it durable:
 *
 *   <dir>/router<pin root>.<nf>.routes       the base: the whole set at
 *                                             the last import, sorted, a
 *                                             route a line (the import's
 *                                             own form)
 *   <base>.<crc32 of the base>.log           the single adds and deletes
 *                                             since ("+ route ...",
 *                                             "- route"), one fsync each
 *
 * The model holds one entry for them all, `store` (file, crc32, routes),
 * as the DDoS blocklist's `feed`; replace() and add() of that entry load
 * the base and its log again (a lost pin root, apply). The log is named
 * by its base's CRC, so a base and a log never pair up wrongly: a process
 * killed between an import's rename and the model's save finds the base
 * the model names as <base>.prev (renamed back) with its own log.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <zlib.h>

#include "rt_int.h"

/* The base file; `name`: the NF's (removed() is given it). */
static void base_path(struct nfc_nf *nf, const char *name, char *buf,
		      size_t len)
{
	const char *d = getenv("NFC_STATE_DIR");
	char pr[256];

	/* Named by pin root and NF: two pin roots never share a store. */
	snprintf(pr, sizeof(pr), "%s", nfc_nf_pin_root(nf));
	for (char *c = pr; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(buf, len, "%s/router%s.%s.routes",
		 d && *d ? d : "/var/lib/nfchain", pr, name);
}

static void log_path(const char *base, uint32_t crc, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%08x.log", base, crc);
}

/* ---- reading routes, a line at a time ---- */

struct src {
	const char *text; /* in memory, or */
	size_t len, off;
	FILE *f; /* a file */
	unsigned line;
};

/* The next line into buf (NUL-ended, no newline); 0 at the end, -1 when
 * it is longer than buf. */
static int src_next(struct src *s, char *buf, size_t cap)
{
	size_t n;

	s->line++;
	if (s->f) {
		if (!fgets(buf, (int)cap, s->f))
			return 0;
		n = strlen(buf);
		if (n && buf[n - 1] == '\n')
			buf[--n] = 0;
		else if (n == cap - 1 && !feof(s->f))
			return -1;
		return 1;
	}
	if (s->off >= s->len)
		return 0;
	{
		const char *p = s->text + s->off,
			   *nl = memchr(p, '\n', s->len - s->off);

		n = nl ? (size_t)(nl - p) : s->len - s->off;
		s->off += n + 1;
		if (n >= cap)
			return -1;
		memcpy(buf, p, n);
		buf[n] = 0;
	}
	return 1;
}

/* One line "route nexthop=X [port=P]" ('#' comments; in the log with
 * "+ " or "- " before it: *del) checked against the ports into e; 1 for a
 * line with none, 0 or -errno naming the line. */
static int route_line(struct nfc_nf *nf, const struct rt_pcfg *pc, char *s,
		      unsigned line, int is_log, struct rt_rib_ent *e, int *del)
{
	char *h = strchr(s, '#'), *w, *save = NULL, *key;
	struct rt_pfx dst;
	json_t *f;
	int r = 0;

	if (h)
		*h = 0;
	key = strtok_r(s, " \t\r", &save);
	*del = 0;
	if (key && is_log) {
		*del = !strcmp(key, "-");
		key = strtok_r(NULL, " \t\r", &save);
	}
	if (!key)
		return 1;
	if (*del) {
		r = rt_pfx_parse(nf, "route", key, 1, &dst);
		memset(e, 0, sizeof(*e));
		e->k.family = dst.family;
		e->k.plen = dst.plen;
		e->k.addr = dst.a;
		return r;
	}
	f = json_object();
	while (!r && (w = strtok_r(NULL, " \t\r", &save))) {
		char *eq = strchr(w, '=');

		if (!eq ||
		    (strncmp(w, "nexthop=", 8) && strncmp(w, "port=", 5)))
			r = nfc_nf_error(nf, EINVAL,
					 "line %u: route %s: '%s' is not "
					 "nexthop=ADDRESS or port=NAME",
					 line, key, w);
		else if (*eq = 0, json_object_get(f, w))
			r = nfc_nf_error(nf, EINVAL,
					 "line %u: route %s: %s given twice",
					 line, key, w);
		else
			json_object_set_new(f, w, json_string(eq + 1));
	}
	if (!r)
		r = rt_route_check(nf, pc, key, line, f, &e->k, &e->v);
	json_decref(f);
	return r;
}

/* ---- a set of routes and changes to it ---- */

struct ents {
	struct rt_rib_ent *e;
	size_t n, cap;
};

static int ents_push(struct ents *a, const struct rt_rib_ent *x)
{
	if (rt_grow((void **)&a->e, &a->cap, a->n + 1 < 1024 ? 1024 : a->n + 1,
		    sizeof(*a->e)))
		return -ENOMEM;
	a->e[a->n++] = *x;
	return 0;
}

/* A change: an add (or a replaced next hop) or a delete, in order. */
struct op {
	struct rt_rib_ent e;
	uint32_t seq;
	int del;
};

struct ops {
	struct op *o;
	size_t n, cap;
};

static int ops_push(struct ops *l, const struct rt_rib_ent *e, int del)
{
	if (rt_grow((void **)&l->o, &l->cap, l->n + 1 < 256 ? 256 : l->n + 1,
		    sizeof(*l->o)))
		return -ENOMEM;
	l->o[l->n] = (struct op){*e, (uint32_t)l->n, del};
	l->n++;
	return 0;
}

static int op_cmp(const void *x, const void *y)
{
	const struct op *a = x, *b = y;
	int c = rt_rib_cmp(&a->e, &b->e);

	return c ? c : a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorted by key with the duplicates dropped, the later kept. */
static void ents_sort(struct ents *a)
{
	size_t w = 0;

	for (size_t i = 0; i < a->n; i++)
		if (i && rt_rib_cmp(&a->e[i - 1], &a->e[i]) > 0) {
			qsort(a->e, a->n, sizeof(*a->e), rt_rib_cmp);
			break;
		}
	for (size_t i = 0; i < a->n; i++) {
		if (w && !rt_rib_cmp(&a->e[w - 1], &a->e[i]))
			w--;
		a->e[w++] = a->e[i];
	}
	a->n = w;
}

/*
 * The changes l applied to the sorted set a, in place: the last change of
 * a key wins. Merged from the end into room made at the end of a, so that
 * no copy of the set is made (at 500,000 routes one is 20 MB).
 */
static int ents_apply(struct ents *a, struct ops *l)
{
	size_t m = 0, adds = 0, total;
	ssize_t i, j, w;

	qsort(l->o, l->n, sizeof(*l->o), op_cmp);
	for (size_t k = 0; k < l->n; k++) {
		if (m && !rt_rib_cmp(&l->o[m - 1].e, &l->o[k].e))
			m--;
		l->o[m++] = l->o[k];
	}
	l->n = m;
	for (size_t k = 0; k < m; k++)
		adds += !l->o[k].del;
	if (rt_grow((void **)&a->e, &a->cap, a->n + adds + 1, sizeof(*a->e)))
		return -ENOMEM;
	total = a->n + adds;
	i = (ssize_t)a->n - 1;
	j = (ssize_t)m - 1;
	w = (ssize_t)total - 1;
	while (j >= 0) {
		int c = i >= 0 ? rt_rib_cmp(&a->e[i], &l->o[j].e) : -1;

		if (c > 0) {
			a->e[w--] = a->e[i--];
			continue;
		}
		if (!l->o[j].del)
			a->e[w--] = l->o[j].e;
		i -= !c;
		j--;
	}
	/* a[0..i] are in place; what was written ends at total - 1. */
	memmove(&a->e[w - i], &a->e[0], (size_t)(i + 1) * sizeof(*a->e));
	a->n = total - (size_t)(w - i);
	memmove(a->e, &a->e[w - i], a->n * sizeof(*a->e));
	return 0;
}

/* The sorted set cur merged under the sorted set a, in place (a's
 * routes win): from the end, into room made at the end of a. */
static int ents_under(struct ents *a, const struct rt_rib_ent *cur, size_t ncur)
{
	ssize_t i = (ssize_t)a->n - 1, j = (ssize_t)ncur - 1, w;
	size_t total = a->n + ncur;

	if (!ncur)
		return 0;
	if (rt_grow((void **)&a->e, &a->cap, total, sizeof(*a->e)))
		return -ENOMEM;
	w = (ssize_t)total - 1;
	while (j >= 0) {
		int c = i >= 0 ? rt_rib_cmp(&a->e[i], &cur[j]) : -1;

		if (c >= 0)
			a->e[w--] = a->e[i--];
		else
			a->e[w--] = cur[j];
		j -= c <= 0;
	}
	/* a[0..i] are in place; what was written ends at total - 1. */
	memmove(&a->e[w - i], &a->e[0], (size_t)(i + 1) * sizeof(*a->e));
	a->n = total - (size_t)(w - i);
	memmove(a->e, &a->e[w - i], a->n * sizeof(*a->e));
	return 0;
}

/* ---- the files ---- */

static int fsync_dir(const char *path)
{
	char d[512], *s;
	int fd, r;

	snprintf(d, sizeof(d), "%s", path);
	s = strrchr(d, '/');
	if (!s)
		return 0;
	*s = 0;
	fd = open(d, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	r = fsync(fd) ? -errno : 0;
	close(fd);
	return r;
}

/* A route in the files' form (key, then fields). */
static void route_text(struct nfc_nf *nf, const struct rt_rib_ent *e, char *buf,
		       size_t len)
{
	struct rt_pfx p = {e->k.family, e->k.plen, e->k.addr};
	char k[64], a[INET6_ADDRSTRLEN];
	const char *port =
		e->v.nh_port ? nfc_nf_port_name(nf, e->v.nh_port - 1u) : NULL;

	inet_ntop(e->v.nh_family == RT_AF_INET6 ? AF_INET6 : AF_INET, &e->v.nh,
		  a, sizeof(a));
	snprintf(buf, len, "%s nexthop=%s%s%s\n", rt_pfx_str(&p, k, sizeof(k)),
		 a, port ? " port=" : "", port ? port : "");
}

/* The CRC and count of a base; -ENOENT when there is none. */
static int base_sum(const char *path, uint32_t *crc, size_t *n)
{
	char buf[65536];
	FILE *f = fopen(path, "r");
	uLong c = crc32(0L, Z_NULL, 0);
	size_t got;
	int r = 0;

	if (!f)
		return -errno;
	*n = 0;
	while ((got = fread(buf, 1, sizeof(buf), f))) {
		c = crc32(c, (const Bytef *)buf, (uInt)got);
		for (size_t i = 0; i < got; i++)
			*n += buf[i] == '\n';
	}
	if (ferror(f))
		r = -EIO;
	fclose(f);
	*crc = (uint32_t)c;
	return r;
}

/* The whole set a written to <base>.tmp, fsync'd: its CRC in *crc. */
static int base_write(struct nfc_nf *nf, const char *base, const struct ents *a,
		      uint32_t *crc)
{
	char tmp[600], line[160], dir[512];
	uLong c = crc32(0L, Z_NULL, 0);
	FILE *f;
	int ok;

	snprintf(dir, sizeof(dir), "%s", base);
	if (strrchr(dir, '/')) {
		*strrchr(dir, '/') = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return nfc_nf_error(nf, errno,
					    "routes: make %s for the store: %s",
					    dir, strerror(errno));
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", base);
	f = fopen(tmp, "w");
	if (!f)
		return nfc_nf_error(nf, errno, "routes: keep them in %s: %s",
				    tmp, strerror(errno));
	ok = 1;
	for (size_t i = 0; ok && i < a->n; i++) {
		size_t l;

		route_text(nf, &a->e[i], line, sizeof(line));
		l = strlen(line);
		c = crc32(c, (const Bytef *)line, (uInt)l);
		ok = fwrite(line, 1, l, f) == l;
	}
	if (!ok || fflush(f) || fsync(fileno(f))) {
		int e = errno ? errno : EIO;

		fclose(f);
		unlink(tmp);
		return nfc_nf_error(nf, e, "routes: write %s: %s", tmp,
				    strerror(e));
	}
	fclose(f);
	*crc = (uint32_t)c;
	return 0;
}

/* Logs other than those of crc a and b go (older bases' logs). */
static void logs_prune(const char *base, uint32_t a, uint32_t b)
{
	char pat[600], la[600], lb[600];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s.*.log", base);
	log_path(base, a, la, sizeof(la));
	log_path(base, b, lb, sizeof(lb));
	if (glob(pat, 0, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (strcmp(g.gl_pathv[i], la) && strcmp(g.gl_pathv[i], lb))
			unlink(g.gl_pathv[i]);
	globfree(&g);
}

/* ---- whether the routes are kept here (per process, from the files) ---- */

enum { ST_UNKNOWN, ST_ON, ST_OFF };

static struct rt_store *store_of(struct nfc_nf *nf)
{
	struct rt_priv *p = rt_priv_get(nf);
	char base[512];
	size_t n;

	if (!p)
		return NULL;
	if (p->store.state == ST_UNKNOWN) {
		/* A process that adopted the pins: the base says. */
		base_path(nf, nfc_nf_name(nf), base, sizeof(base));
		p->store.state =
			base_sum(base, &p->store.crc, &n) ? ST_OFF : ST_ON;
	}
	return &p->store;
}

/* One change appended to the log, fsync'd: durable when the call
 * returns. fields NULL: a delete. A no-op when no import made a store. */
int rt_store_note(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct rt_store *s = store_of(nf);
	char base[512], path[600], line[200];
	const char *nh, *port;
	int fd, r = 0;
	struct stat st;

	if (!s || s->state != ST_ON)
		return 0;
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	log_path(base, s->crc, path, sizeof(path));
	nh = json_string_value(json_object_get(fields, "nexthop"));
	port = json_string_value(json_object_get(fields, "port"));
	snprintf(line, sizeof(line), "%c %s%s%s%s%s\n", fields ? '+' : '-', key,
		 nh ? " nexthop=" : "", nh ? nh : "", port ? " port=" : "",
		 port ? port : "");
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
	    fsync(fd) || (!st.st_size && fsync_dir(path)))
		r = nfc_nf_error(nf, errno ? errno : EIO,
				 "route %s: not saved (%s: %s)", key, path,
				 strerror(errno ? errno : EIO));
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- the model's entry `store` ---- */

json_t *rt_routes_import_ref(struct nfc_nf *nf)
{
	struct rt_store *s = store_of(nf);
	char base[512], crc[9];
	uint32_t c;
	size_t n;

	if (!s || s->state != ST_ON)
		return NULL;
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	if (base_sum(base, &c, &n))
		return NULL;
	snprintf(crc, sizeof(crc), "%08x", c);
	return json_pack("{s:{s:s,s:s,s:I}}", RT_STORE_KEY, "file", base,
			 "crc32", crc, "routes", (json_int_t)n);
}

/* The base `store` names (its file ours, its CRC that of the base, or of
 * <base>.prev, renamed back: killed between an import's rename and the
 * model's save); its CRC in *crc. */
static int store_check(struct nfc_nf *nf, json_t *ref, const char *base,
		       uint32_t *crc)
{
	const char *file = json_string_value(json_object_get(ref, "file"));
	const char *want = json_string_value(json_object_get(ref, "crc32"));
	char prev[600], got[9];
	uint32_t c;
	size_t n;
	int r;

	if (!file || strcmp(file, base) || !want)
		return nfc_nf_error(nf, EINVAL,
				    "routes: store: file=%s crc32=... are "
				    "needed (the routes this router keeps; %s "
				    "given)",
				    base, file ? file : "no file");
	snprintf(prev, sizeof(prev), "%s.prev", base);
	r = base_sum(base, &c, &n);
	snprintf(got, sizeof(got), "%08x", c);
	if (r || strcmp(got, want)) {
		uint32_t pc;

		if (!base_sum(prev, &pc, &n)) {
			snprintf(got, sizeof(got), "%08x", pc);
			if (!strcmp(got, want) && !rename(prev, base)) {
				*crc = pc;
				return 0;
			}
		}
		return nfc_nf_error(nf, r ? -r : EINVAL,
				    "routes: store %s %s: import the routes "
				    "again (routes import --replace -f ...)",
				    base,
				    r ? "is gone"
				      : "is not the one the state "
					"names");
	}
	*crc = c;
	return 0;
}

/* Lines of src into a (a base) or l (a log); errors name the line. */
static int read_routes(struct nfc_nf *nf, const struct rt_pcfg *pc,
		       struct src *s, const char *what, int is_log,
		       struct ents *a, struct ops *l)
{
	char buf[512];
	int r, del;

	while ((r = src_next(s, buf, sizeof(buf)))) {
		struct rt_rib_ent e;

		if (r < 0)
			return nfc_nf_error(nf, EINVAL, "%sline %u: too long",
					    what, s->line);
		r = route_line(nf, pc, buf, s->line, is_log, &e, &del);
		if (r < 0)
			return r;
		if (r)
			continue;
		r = l ? ops_push(l, &e, del) : ents_push(a, &e);
		if (r)
			return r;
		if ((a ? a->n : l->n) > RT_MAX_ROUTES + (l ? RT_MAX_ROUTES : 0))
			return nfc_nf_error(nf, E2BIG,
					    "%sline %u: more than %d routes",
					    what, s->line, RT_MAX_ROUTES);
	}
	return 0;
}

static int read_file(struct nfc_nf *nf, const struct rt_pcfg *pc,
		     const char *path, int is_log, struct ents *a,
		     struct ops *l)
{
	struct src s = {0};
	char what[600];
	int r;

	s.f = fopen(path, "r");
	if (!s.f)
		return errno == ENOENT && is_log
			       ? 0
			       : nfc_nf_error(nf, errno, "routes: read %s: %s",
					      path, strerror(errno));
	snprintf(what, sizeof(what), "%s: ", path);
	r = read_routes(nf, pc, &s, what, is_log, a, l);
	fclose(s.f);
	return r;
}

static int set_limit(struct nfc_nf *nf, size_t n)
{
	return n > RT_MAX_ROUTES
		       ? nfc_nf_error(nf, E2BIG,
				      "%zu routes: the table holds at most %d",
				      n, RT_MAX_ROUTES)
		       : 0;
}

/*
 * replace() (whole) or add() of the entry `store`: the base and its log
 * loaded again, the model's other entries (routes added by hand, also in
 * the log) over them, the set switched in as a whole.
 */
int rt_store_replace(struct nfc_nf *nf, json_t *entries, int whole)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_store *s = store_of(nf);
	int rfd = nfc_nf_map_fd(nf, "rt_rib"), r;
	struct ents a = {0};
	struct ops l = {0};
	char base[512], lp[600];
	const char *key;
	uint32_t crc = 0;
	json_t *f;

	if (!s || rfd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	r = rt_load_ports(nf, pc);
	if (!r)
		r = store_check(nf, json_object_get(entries, RT_STORE_KEY),
				base, &crc);
	if (!r && !whole) {
		/* Added to what is there: the current set, the base over
		 * it. */
		size_t n = 0;

		r = rt_rib_read(rfd, &a.e, &n);
		a.n = a.cap = n;
	}
	if (!r)
		r = read_file(nf, pc, base, 0, a.n ? NULL : &a,
			      a.n ? &l : NULL);
	if (!r) {
		ents_sort(&a);
		log_path(base, crc, lp, sizeof(lp));
		r = read_file(nf, pc, lp, 1, NULL, &l);
	}
	json_object_foreach (entries, key, f) {
		struct rt_rib_ent e;

		if (r || !strcmp(key, RT_STORE_KEY))
			continue;
		r = rt_route_check(nf, pc, key, 0, f, &e.k, &e.v);
		if (!r)
			r = ops_push(&l, &e, 0);
	}
	if (!r)
		r = ents_apply(&a, &l);
	free(l.o);
	if (!r)
		r = set_limit(nf, a.n);
	if (r) {
		free(a.e);
		return r;
	}
	r = rt_routes_set(nf, pc, a.e, a.n);
	if (!r) {
		s->state = ST_ON;
		s->crc = crc;
	}
	return r;
}

/*
 * `routes import [--replace]` (import_text): the text parsed here, a line
 * at a time, with no JSON object a route; the resulting set written as
 * the new base (tmp, fsync), switched in as a whole (rt_routes_set), then
 * the base renamed into place. Without --replace the lines are added to
 * the routes there (a route already there takes the line's next hop).
 */
int rt_routes_import(struct nfc_nf *nf, const char *text, size_t len,
		     int replace)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_store *s = store_of(nf);
	int rfd = nfc_nf_map_fd(nf, "rt_rib"), r;
	struct src src = {.text = text, .len = len};
	struct ents a = {0};
	char base[512], tmp[600], prev[600], lp[600];
	uint32_t crc = 0, old = 0;
	size_t n0;

	if (!s || rfd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	/* A small import (fewer lines than NFC_RT_IMPORT_MIN, 65,536 by
	 * default) into a router whose routes the model holds stays in the
	 * model, as before: declined, the generic import takes it. */
	if (s->state != ST_ON) {
		const char *e = getenv("NFC_RT_IMPORT_MIN");
		size_t min = e && *e ? strtoul(e, NULL, 10) : 65536, lines = 0;

		for (const char *p = text; p && p < text + len && lines < min;
		     lines++) {
			p = memchr(p, '\n', text + len - p);
			p = p ? p + 1 : NULL;
		}
		if (lines < min)
			return -EOPNOTSUPP;
	}
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	r = rt_load_ports(nf, pc);
	if (!r)
		r = read_routes(nf, pc, &src, "", 0, &a, NULL);
	n0 = a.n;
	if (!r)
		ents_sort(&a);
	if (!r && a.n != n0)
		r = nfc_nf_error(nf, EINVAL,
				 "routes: %zu routes are given twice in the "
				 "file",
				 n0 - a.n);
	if (!r && !replace) {
		struct rt_rib_ent *cur = NULL;
		size_t ncur = 0;

		r = rt_rib_read(rfd, &cur, &ncur);
		if (!r)
			r = ents_under(&a, cur, ncur);
		free(cur);
	}
	if (!r)
		r = set_limit(nf, a.n);
	if (!r)
		r = base_write(nf, base, &a, &crc);
	if (r) {
		free(a.e);
		return r;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", base);
	snprintf(prev, sizeof(prev), "%s.prev", base);
	r = rt_routes_set(nf, pc, a.e, a.n);
	if (r) {
		unlink(tmp);
		return r;
	}
	/* The new base's log starts empty (an older base of the same CRC
	 * may have left one); the one it replaces stays as .prev with its
	 * log until the next import. */
	log_path(base, crc, lp, sizeof(lp));
	unlink(lp);
	if (s->state == ST_ON)
		old = s->crc;
	unlink(prev);
	if ((link(base, prev) && errno != ENOENT) || rename(tmp, base) ||
	    fsync_dir(base))
		return nfc_nf_error(nf, errno, "routes: keep %s: %s", base,
				    strerror(errno));
	logs_prune(base, crc, old);
	s->state = ST_ON;
	s->crc = crc;
	return 0;
}

/* The model holds the routes again (a replace without `store`): the base
 * goes, kept as .prev for a process killed before the model's save. */
void rt_store_off(struct nfc_nf *nf)
{
	struct rt_store *s = store_of(nf);
	char base[512], prev[600];

	if (!s || s->state != ST_ON)
		return;
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	snprintf(prev, sizeof(prev), "%s.prev", base);
	if (!rename(base, prev))
		fsync_dir(base);
	s->state = ST_OFF;
}

/* The router deleted: its files go with it (a new router of that name
 * under the same pin root would otherwise start with these routes). */
void rt_store_removed(struct nfc_nf *nf, const char *name)
{
	char base[512], p[600];

	base_path(nf, name, base, sizeof(base));
	logs_prune(base, 0, 0);
	unlink(base);
	snprintf(p, sizeof(p), "%s.prev", base);
	unlink(p);
	snprintf(p, sizeof(p), "%s.tmp", base);
	unlink(p);
	if (nfc_nf_priv(nf))
		rt_priv_get(nf)->store.state = ST_UNKNOWN;
}
