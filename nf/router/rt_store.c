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
 * by its base's CRC, so a base and a log never pair up wrongly.
 *
 * When the log passes a quarter of the base (at least NFC_RT_FOLD_MIN
 * bytes, 1 MiB), the next tick folds it into a new base (not the change
 * that passed it: a fold reads and writes the whole set, seconds at
 * 500,000 routes, which no single change should wait for; a process
 * with no tick folds in the change past twice that): base + log written to
 * <base>.tmp, fsync'd, the base linked to <base>.prev, the new one
 * renamed over it; its log starts empty. A folded base opens with
 * "# nfchain routes: store ID fold N" (ID: the crc32 the model names,
 * that of the import's base, so the model need not change) and ends with
 * "# crc32 C routes N" over all before it, which tells a damaged one.
 * Every step leaves a pair a start reads whole: before the rename the old
 * base and its log, after it the new base and no log.
 *
 * A start that finds the base gone, damaged or of another store (killed
 * between an import's rename and the model's save) rebuilds it from
 * <base>.prev (which must be of the store the model names) and .prev's
 * log, the fold done again: its bytes and so its CRC are those of the
 * base it replaces, whose log is then found by name. A log that no base
 * rebuilt this way accounts for means changes would be lost: the store
 * is refused, its files left as they are, and the error names the base.
 * A process that adopts the pins (kill -9) while the base is lost
 * rebuilds it from the maps instead: they are the state it took over
 * (store_rebuild).
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
#include <bpf/bpf.h>

#include "internal.h"
#include "rt_int.h"

/* The base file; `name`: the NF's (removed() is given it). */
static void base_path(struct nfc_nf *nf, const char *name, char *buf,
		      size_t len)
{
	nfc_nf_keep_path(nf, NULL, "router", name, "routes", buf, len);
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
		      unsigned line, int is_log, int own, struct rt_rib_ent *e,
		      int *del)
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
		r = rt_route_check(nf, pc, key, line, f, own, &e->k, &e->v);
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

	if (l->n) /* qsort(NULL, 0): undefined */
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

/* A route's words: its key into key, its next hop into nh; its port's
 * name (a link-local next hop's), or NULL. */
static const char *route_words(struct nfc_nf *nf, const struct rt_rib_ent *e,
			       char *key, size_t klen, char *nh)
{
	struct rt_pfx p = {e->k.family, e->k.plen, e->k.addr};

	rt_pfx_str(&p, key, klen);
	inet_ntop(e->v.nh_family == RT_AF_INET6 ? AF_INET6 : AF_INET, &e->v.nh,
		  nh, INET6_ADDRSTRLEN);
	return e->v.nh_port ? nfc_nf_port_name(nf, e->v.nh_port - 1u) : NULL;
}

/* A route in the files' form (key, then fields). */
static void route_text(struct nfc_nf *nf, const struct rt_rib_ent *e, char *buf,
		       size_t len)
{
	char k[64], a[INET6_ADDRSTRLEN];
	const char *port = route_words(nf, e, k, sizeof(k), a);

	snprintf(buf, len, "%s nexthop=%s%s%s\n", k, a, port ? " port=" : "",
		 port ? port : "");
}

/* A route's fields as the log writes them, its key into key. */
static json_t *ent_fields(struct nfc_nf *nf, const struct rt_rib_ent *e,
			  char *key, size_t klen)
{
	char a[INET6_ADDRSTRLEN];
	const char *port = route_words(nf, e, key, klen, a);
	json_t *f = json_pack("{s:s}", "nexthop", a);

	if (f && port)
		json_object_set_new(f, "port", json_string(port));
	return f;
}

/* One route of an import over the imported set, checked already: put in
 * place and logged (rt_route_write), over the route of its key if any. */
static int put_one(struct nfc_nf *nf, const struct rt_pcfg *pc, int rfd,
		   const struct rt_rib_ent *e)
{
	struct rt_rib_ent old = {.k = e->k};
	char key[64];
	int had = !bpf_map_lookup_elem(rfd, &e->k, &old.v), r;
	json_t *of = had ? ent_fields(nf, &old, key, sizeof(key)) : NULL,
	       *f = ent_fields(nf, e, key, sizeof(key));

	r = f && (of || !had) ? rt_route_write(nf, pc, key, f, &e->k, &e->v,
					       had ? &old.v : NULL, of)
			      : -ENOMEM;
	json_decref(f);
	json_decref(of);
	return r;
}

/* What a start needs of a base, read without parsing its routes. */
struct base_meta {
	uint32_t crc;	/* of the whole file: its log's name */
	uint32_t id;	/* the store's: the crc32 the model names */
	unsigned fold;	/* folds since the import (0: the import's own) */
	size_t n, size; /* routes, bytes */
};

#define FOLD_HEAD "# nfchain routes: store %08x fold %u\n"
#define FOLD_TAIL "# crc32 %08x routes %zu\n"

/* The base at path scanned: -ENOENT when there is none, -EBADMSG when a
 * folded one's last line does not vouch for the rest (damaged). */
static int base_scan(const char *path, struct base_meta *m)
{
	char line[512];
	uLong c = crc32(0L, Z_NULL, 0), before = c;
	FILE *f = fopen(path, "r");
	int head = 0, tail = 0, r = 0;
	unsigned tc = 0;
	size_t tn = 0;

	memset(m, 0, sizeof(*m));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);

		if (!m->size &&
		    sscanf(line, "# nfchain routes: store %8x fold %u", &m->id,
			   &m->fold) == 2)
			head = 1;
		before = c;
		c = crc32(c, (const Bytef *)line, (uInt)l);
		m->size += l;
		tail = head &&
		       sscanf(line, "# crc32 %8x routes %zu", &tc, &tn) == 2;
		m->n += line[0] != '#' && line[0] != '\n';
	}
	if (ferror(f))
		r = -EIO;
	fclose(f);
	m->crc = (uint32_t)c;
	if (!head)
		m->id = m->crc; /* the import's own: named by its CRC */
	else if (!tail || tc != (uint32_t)before || tn != m->n)
		r = r ?: -EBADMSG;
	return r;
}

/* The whole set a written to <base>.tmp, fsync'd: its CRC in *crc, its
 * size in *size. fold > 0: a folded base of the store id (FOLD_HEAD and
 * FOLD_TAIL around the routes). */
static int base_write(struct nfc_nf *nf, const char *base, const struct ents *a,
		      uint32_t id, unsigned fold, uint32_t *crc, size_t *size)
{
	char tmp[600], line[160], dir[512];
	uLong c = crc32(0L, Z_NULL, 0);
	size_t sz = 0;
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
	for (size_t i = 0; ok && i < a->n + (fold ? 2 : 0); i++) {
		size_t l;

		if (fold && !i)
			snprintf(line, sizeof(line), FOLD_HEAD, id, fold);
		else if (fold && i == a->n + 1)
			snprintf(line, sizeof(line), FOLD_TAIL, (uint32_t)c,
				 a->n);
		else
			route_text(nf, &a->e[i - !!fold], line, sizeof(line));
		l = strlen(line);
		c = crc32(c, (const Bytef *)line, (uInt)l);
		sz += l;
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
	*size = sz;
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

/* The model's entry `store` (borrowed); NULL when the model holds the
 * routes itself. */
static json_t *model_ref(struct nfc_nf *nf)
{
	return json_object_get(
		json_object_get(nf->nfc->m->nfs[nf->id].colls, "routes"),
		RT_STORE_KEY);
}

/* The store that entry names (the crc32 of its import's base). */
static int ref_id(json_t *ref, uint32_t *id)
{
	const char *want = json_string_value(json_object_get(ref, "crc32"));
	char *end;
	unsigned long v;

	if (!want)
		return -EINVAL;
	v = strtoul(want, &end, 16);
	if (*end || end == want || v > UINT32_MAX)
		return -EINVAL;
	*id = (uint32_t)v;
	return 0;
}

/* Why the base is not the one of store id (r and m: its base_scan). */
static void base_why(int r, const struct base_meta *m, uint32_t id, char *why,
		     size_t len)
{
	if (r == -ENOENT)
		snprintf(why, len, "is gone");
	else if (r == -EBADMSG)
		snprintf(why, len,
			 "is damaged (its last line's crc32 does not match)");
	else if (r)
		snprintf(why, len, "cannot be read (%s)", strerror(-r));
	else
		snprintf(why, len,
			 "holds store %08x, not %08x (another import's, or "
			 "damaged)",
			 m->id, id);
}

/* The store's state as this process first meets it, without deciding
 * anything (replace() reads the files itself). */
static struct rt_store *store_get(struct nfc_nf *nf)
{
	struct rt_priv *p = rt_priv_get(nf);

	return p ? &p->store : NULL;
}

static struct rt_store *store_of(struct nfc_nf *nf)
{
	struct rt_store *s = store_get(nf);
	struct base_meta m;
	char base[512];
	uint32_t id;
	json_t *ref;
	int r;

	if (!s || s->state != ST_UNKNOWN)
		return s;
	/* A process that adopted the pins. The model names the store: the
	 * base must be that store's, else it is lost (gone, damaged or
	 * another's while no process ran) and is rebuilt from the maps
	 * adopted before any change is taken (store_rebuild). The model
	 * holds the routes: the base says (one an import wrote before its
	 * process died is moved aside by the replace that follows). */
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	r = base_scan(base, &m);
	ref = model_ref(nf);
	s->lost = ref && (r || ref_id(ref, &id) || m.id != id);
	s->state = s->lost || r != -ENOENT ? ST_ON : ST_OFF;
	s->crc = s->lost ? 0 : m.crc;
	s->base_size = s->lost ? 0 : m.size;
	return s;
}

/*
 * A lost base (store_of) rebuilt from rt_rib, the set this process
 * adopted: the maps hold every change acknowledged (each was logged
 * before it was made, and one in flight when the last process died was
 * put back by the intent journal), so they are the state to keep. The
 * new base is a fold of the store the model names; the logs of the lost
 * one go, .prev's stays (a start from the files may still rebuild the
 * base from it). Said on stderr.
 */
static int store_rebuild(struct nfc_nf *nf, struct rt_store *s)
{
	int rfd = nfc_nf_map_fd(nf, "rt_rib"), r;
	char base[512], tmp[600], prev[600], lp[600], why[160];
	struct base_meta m, pm;
	struct ents a = {0};
	uint32_t id = 0, crc;
	size_t n = 0, size;

	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	if (ref_id(model_ref(nf), &id))
		return nfc_nf_error(nf, EINVAL,
				    "routes: rebuild %s: the state names no "
				    "store",
				    base);
	base_why(base_scan(base, &m), &m, id, why, sizeof(why));
	if (rfd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	r = rt_rib_read(rfd, &a.e, &n);
	if (r)
		return nfc_nf_error(nf, -r,
				    "routes: rebuild %s: read rt_rib: %s", base,
				    strerror(-r));
	a.n = a.cap = n;
	ents_sort(&a);
	r = base_write(nf, base, &a, id, 1, &crc, &size);
	free(a.e);
	if (r)
		return r;
	/* An older base of the same bytes may have left a log. */
	log_path(base, crc, lp, sizeof(lp));
	unlink(lp);
	snprintf(tmp, sizeof(tmp), "%s.tmp", base);
	if (rename(tmp, base) || nfc_fsync_dir_of(base))
		return nfc_nf_error(nf, errno, "routes: keep %s: %s", base,
				    strerror(errno));
	snprintf(prev, sizeof(prev), "%s.prev", base);
	logs_prune(base, crc, base_scan(prev, &pm) ? crc : pm.crc);
	fprintf(stderr,
		"nfchain: router %s: routes: store %s %s: rebuilt from the %zu "
		"routes adopted from the pins\n",
		nfc_nf_name(nf), base, why, n);
	s->lost = 0;
	s->crc = crc;
	s->base_size = size;
	return 0;
}

static int read_file(struct nfc_nf *nf, const struct rt_pcfg *pc,
		     const char *path, int is_log, struct ents *a,
		     struct ops *l);

/* The base src (of meta m) and its log folded into <base>.tmp, fsync'd:
 * the next fold of the same store, its CRC and size in *crc, *size. */
static int fold_write(struct nfc_nf *nf, const char *src,
		      const struct base_meta *m, const char *base,
		      uint32_t *crc, size_t *size)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct ents a = {0};
	struct ops l = {0};
	char lp[600];
	int r = rt_load_ports(nf, pc);

	if (!r)
		r = read_file(nf, pc, src, 0, &a, NULL);
	if (!r) {
		ents_sort(&a);
		log_path(base, m->crc, lp, sizeof(lp));
		r = read_file(nf, pc, lp, 1, NULL, &l);
	}
	if (!r)
		r = ents_apply(&a, &l);
	free(l.o);
	if (!r)
		r = base_write(nf, base, &a, m->id, m->fold + 1, crc, size);
	free(a.e);
	return r;
}

/* The log folded into a new base (the head of this file says how). */
static int store_fold(struct nfc_nf *nf, struct rt_store *s)
{
	char base[512], tmp[600], prev[600];
	struct base_meta m;
	uint32_t crc;
	size_t size;
	int r;

	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	r = base_scan(base, &m);
	if (r)
		return nfc_nf_error(
			nf, -r, "routes: fold the log into %s: %s", base,
			r == -EBADMSG ? "the base is damaged" : strerror(-r));
	r = fold_write(nf, base, &m, base, &crc, &size);
	if (r)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", base);
	snprintf(prev, sizeof(prev), "%s.prev", base);
	/* Each step stretched by a test, so that its kill -9 lands between
	 * them (nf/router/tests/routes_fold.sh). */
	nfci_test_delay("NFC_TEST_FOLD_DELAY_US");
	unlink(prev);
	if (link(base, prev) && errno != ENOENT) {
		r = nfc_nf_error(nf, errno, "routes: keep %s: %s", prev,
				 strerror(errno));
		unlink(tmp);
		return r;
	}
	nfci_test_delay("NFC_TEST_FOLD_DELAY_US");
	if (rename(tmp, base) || nfc_fsync_dir_of(base))
		return nfc_nf_error(nf, errno, "routes: keep %s: %s", base,
				    strerror(errno));
	nfci_test_delay("NFC_TEST_FOLD_DELAY_US");
	/* .prev's log stays: a start that finds the base damaged folds
	 * .prev with it again. */
	logs_prune(base, crc, m.crc);
	s->crc = crc;
	s->base_size = size;
	return 0;
}

/* The log's size past which it is folded into a new base. */
static size_t fold_limit(const struct rt_store *s)
{
	const char *e = getenv("NFC_RT_FOLD_MIN");
	size_t min = e && *e ? strtoul(e, NULL, 10) : 1u << 20;

	return s->base_size / 4 > min ? s->base_size / 4 : min;
}

/* The log (size bytes) folded into a new base when it passed limit,
 * unless a fold failed less than a minute ago (a full disk: said on
 * stderr once a minute, not at every tick). */
static void fold_if_due(struct nfc_nf *nf, struct rt_store *s, const char *log,
			size_t size, size_t limit, uint64_t now)
{
	int r;

	if (size <= limit || now < s->fold_retry)
		return;
	r = store_fold(nf, s);
	s->fold_retry = r ? now + 60 * NS_PER_SEC : 0;
	if (r)
		fprintf(stderr,
			"nfchain: router %s: routes: %s not folded into a new "
			"base (%s); tried again in a minute\n",
			nfc_nf_name(nf), log, strerror(-r));
}

void rt_store_tick(struct nfc_nf *nf, uint64_t now)
{
	struct rt_store *s = store_of(nf);
	char base[512], path[600];
	struct stat st;

	if (!s || s->state != ST_ON)
		return;
	if (s->lost) {
		/* Not left for the next change: a reboot before it would
		 * find no base for the changes already logged. */
		if (now >= s->fold_retry && store_rebuild(nf, s)) {
			s->fold_retry = now + 60 * NS_PER_SEC;
			fprintf(stderr,
				"nfchain: %s; tried again in a minute\n",
				nfc_errmsg(nf->nfc));
		}
		return;
	}
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	log_path(base, s->crc, path, sizeof(path));
	if (!stat(path, &st))
		fold_if_due(nf, s, path, (size_t)st.st_size, fold_limit(s),
			    now);
}

/* One change appended to the log, fsync'd: durable when the call
 * returns. fields NULL: a delete. A no-op when no import made a store. */
int rt_store_note(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct rt_store *s = store_of(nf);
	char base[512], path[600], line[200];
	const char *nh, *port;
	int r = 0;
	struct stat st;

	if (!s || s->state != ST_ON)
		return 0;
	/* No base to log against: a change that cannot be kept is not
	 * made. */
	if (s->lost && (r = store_rebuild(nf, s)))
		return r;
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	log_path(base, s->crc, path, sizeof(path));
	nh = json_string_value(json_object_get(fields, "nexthop"));
	port = json_string_value(json_object_get(fields, "port"));
	snprintf(line, sizeof(line), "%c %s%s%s%s%s\n", fields ? '+' : '-', key,
		 nh ? " nexthop=" : "", nh ? nh : "", port ? " port=" : "",
		 port ? port : "");
	r = nfc_append_durable(path, line, strlen(line));
	if (r)
		return nfc_nf_error(nf, -r, "route %s: not saved (%s: %s)", key,
				    path, strerror(-r));
	/* Durable already. The tick folds the log past its share, so that
	 * no change waits for a whole base to be written; a process with
	 * no tick (nfctl: one change, then out) folds it here, past twice
	 * the share. A fold that fails leaves the log as it is and the
	 * change stands. */
	if (!stat(path, &st))
		fold_if_due(nf, s, path, (size_t)st.st_size, 2 * fold_limit(s),
			    nfc_now_ns());
	return 0;
}

/* ---- the model's entry `store` ---- */

json_t *rt_routes_import_ref(struct nfc_nf *nf)
{
	struct rt_store *s = store_of(nf);
	struct base_meta m;
	char base[512], crc[9];

	if (!s || s->state != ST_ON)
		return NULL;
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	if (base_scan(base, &m))
		return NULL;
	snprintf(crc, sizeof(crc), "%08x", m.id);
	return json_pack("{s:{s:s,s:s,s:I}}", RT_STORE_KEY, "file", base,
			 "crc32", crc, "routes", (json_int_t)m.n);
}

/* Logs of base other than those of crc a and b that hold a change. */
static int logs_other(const char *base, uint32_t a, uint32_t b, char *one,
		      size_t len)
{
	char pat[600], la[600], lb[600];
	struct stat st;
	glob_t g;
	int n = 0;

	snprintf(pat, sizeof(pat), "%s.*.log", base);
	log_path(base, a, la, sizeof(la));
	log_path(base, b, lb, sizeof(lb));
	if (glob(pat, 0, NULL, &g))
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (strcmp(g.gl_pathv[i], la) && strcmp(g.gl_pathv[i], lb) &&
		    !stat(g.gl_pathv[i], &st) && st.st_size && !n++)
			snprintf(one, len, "%s", g.gl_pathv[i]);
	globfree(&g);
	return n;
}

/*
 * The base rebuilt from <base>.prev (meta pm, of the store the model
 * names) and its log: the fold done again. Written beside, checked, then
 * renamed in; refused, with the files left as they are, when a log with
 * changes is not the new base's (they would be lost).
 */
static int store_recover(struct nfc_nf *nf, const char *base,
			 const struct base_meta *pm, const char *why,
			 uint32_t *crc, size_t *size)
{
	char prev[600], tmp[600], other[600];
	int r;

	snprintf(prev, sizeof(prev), "%s.prev", base);
	snprintf(tmp, sizeof(tmp), "%s.tmp", base);
	/* .prev whole with its own log and no other log holding changes (a
	 * deleted router's base moved aside, the delete then undone; a fold
	 * killed before its rename): put back as it is, its log still named
	 * by its CRC. No write: the fold below wrote the whole base again,
	 * which a full disk refused, and a router delete refused for want
	 * of space could not be undone (found by a helper, 2026-12-07). */
	if (!logs_other(base, pm->crc, pm->crc, other, sizeof(other)) &&
	    !rename(prev, base) && !nfc_fsync_dir_of(base)) {
		*crc = pm->crc;
		*size = pm->size;
		fprintf(stderr,
			"nfchain: router %s: routes: store %s %s: %s put "
			"back\n",
			nfc_nf_name(nf), base, why, prev);
		return 0;
	}
	r = fold_write(nf, prev, pm, base, crc, size);
	if (r)
		return r;
	if (logs_other(base, pm->crc, *crc, other, sizeof(other))) {
		unlink(tmp);
		return nfc_nf_error(nf, EBADMSG,
				    "routes: store %s %s, and %s with its log "
				    "does not give the base that %s follows: "
				    "import the routes again (routes import "
				    "--replace -f FILE)",
				    base, why, prev, other);
	}
	if (rename(tmp, base) || nfc_fsync_dir_of(base))
		return nfc_nf_error(nf, errno, "routes: keep %s: %s", base,
				    strerror(errno));
	logs_prune(base, *crc, pm->crc);
	fprintf(stderr,
		"nfchain: router %s: routes: store %s %s: rebuilt from %s and "
		"its log\n",
		nfc_nf_name(nf), base, why, prev);
	return 0;
}

/* A store another daemon kept (a document exported there and applied
 * here, or this state directory under another pin root: the name holds
 * the pin root), taken in under this router's own name with its logs
 * when it is the store named (id). This router's own base stays as
 * .prev, as store_check expects after a refused change. */
/* The refusal of a named store file that base_scan read as r (0: of
 * another store than the one named). */
static int store_unfit(struct nfc_nf *nf, const char *from, int r)
{
	return nfc_nf_error(nf, r == -ENOENT ? ENOENT : EBADMSG,
			    "routes: store %s %s: copy it there, or import the "
			    "routes again (routes import --replace -f FILE)",
			    from,
			    r == -ENOENT ? "is not there"
			    : r		 ? "is damaged"
					 : "is of another store than the one "
					   "named");
}

static int store_adopt(struct nfc_nf *nf, const char *from, const char *base,
		       uint32_t id)
{
	char pat[600], to[700], prev[600];
	struct base_meta m;
	glob_t g;
	int r = base_scan(from, &m);

	if (r || m.id != id)
		return store_unfit(nf, from, r);
	snprintf(prev, sizeof(prev), "%s.prev", base);
	unlink(prev);
	if (link(base, prev) && errno != ENOENT)
		return nfc_nf_error(nf, errno, "routes: keep %s: %s", prev,
				    strerror(errno));
	snprintf(pat, sizeof(pat), "%s.*.log", from);
	if (!glob(pat, 0, NULL, &g)) {
		for (size_t i = 0; i < g.gl_pathc && !r; i++) {
			snprintf(to, sizeof(to), "%s%s", base,
				 g.gl_pathv[i] + strlen(from));
			r = nfc_copy_file(g.gl_pathv[i], to);
		}
		globfree(&g);
	}
	if (!r)
		r = nfc_copy_file(from, base);
	if (r)
		return nfc_nf_error(nf, -r,
				    "routes: copy the store %s to %s: %s", from,
				    base, strerror(-r));
	return 0;
}

/* The file and store id an entry `store` names, refused if it holds
 * anything else. */
static int store_named(struct nfc_nf *nf, json_t *ref, const char **file,
		       uint32_t *id)
{
	const char *k;
	json_t *v;

	/* A route's fields on it (routes set store nexthop=...) were kept
	 * in the saved state. (`routes` is the import's count, as export
	 * gives it: folds change the base, not the model.) */
	json_object_foreach (ref, k, v)
		if (strcmp(k, "file") && strcmp(k, "crc32") &&
		    strcmp(k, "routes"))
			return nfc_nf_error(nf, EINVAL,
					    "routes: store: %s= is not the "
					    "store's (file, crc32, routes): "
					    "the store stands for the "
					    "imported routes",
					    k);
	*file = json_string_value(json_object_get(ref, "file"));
	if (!*file || !**file || ref_id(ref, id))
		return nfc_nf_error(nf, EINVAL,
				    "routes: store: an entry an import writes, "
				    "with file and crc32; to load routes, use "
				    "routes import -f FILE");
	return 0;
}

/* The base `store` names: its file ours, its store (FOLD_HEAD's, or the
 * CRC of an import's base) the one named. Else rebuilt from <base>.prev
 * when that is of the store named (store_recover), else refused naming
 * the file. Its CRC and size in *crc, *size. */
static int store_check(struct nfc_nf *nf, json_t *ref, const char *base,
		       uint32_t *crc, size_t *size)
{
	struct base_meta m, pm;
	char prev[600], why[160];
	const char *file;
	uint32_t id;
	int r, pr;

	if (store_named(nf, ref, &file, &id))
		return -EINVAL;
	r = base_scan(base, &m);
	/* Another daemon's file: taken in, unless this router's base is
	 * that store already (the same document applied again here copied
	 * it again each time, found by a helper). */
	if (strcmp(file, base) && (r || m.id != id)) {
		r = store_adopt(nf, file, base, id);
		if (r)
			return r;
		r = base_scan(base, &m);
	}
	if (!r && m.id == id) {
		*crc = m.crc;
		*size = m.size;
		return 0;
	}
	base_why(r, &m, id, why, sizeof(why));
	snprintf(prev, sizeof(prev), "%s.prev", base);
	pr = base_scan(prev, &pm);
	if (!pr && pm.id == id)
		return store_recover(nf, base, &pm, why, crc, size);
	return nfc_nf_error(nf, r == -ENOENT ? ENOENT : EBADMSG,
			    "routes: store %s %s, and %s %s: import the routes "
			    "again (routes import --replace -f FILE)",
			    base, why, prev,
			    pr == -ENOENT ? "is gone"
			    : pr	  ? "is damaged"
					  : "is of another store");
}

/* Lines of src into a (a base) or l (a log); errors name the line. */
static int read_routes(struct nfc_nf *nf, const struct rt_pcfg *pc,
		       struct src *s, const char *what, int is_log, int own,
		       struct ents *a, struct ops *l)
{
	char buf[512];
	int r, del;

	while ((r = src_next(s, buf, sizeof(buf)))) {
		struct rt_rib_ent e;

		if (r < 0)
			return nfc_nf_error(nf, EINVAL, "%sline %u: too long",
					    what, s->line);
		r = route_line(nf, pc, buf, s->line, is_log, own, &e, &del);
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
	/* The store's own files: routes accepted before, some of which
	 * may have gone inactive since. */
	r = read_routes(nf, pc, &s, what, is_log, 1, a, l);
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

/* The store entry of a document, checked without changing anything (an
 * apply's check, its dry run): the file it names is there and of the
 * store named, or, named as this router's own, its .prev is. A dry run of
 * a document naming a file that was not there planned it; the apply then
 * refused (found by a helper). */
int rt_store_ref_check(struct nfc_nf *nf, json_t *ref)
{
	char base[512], prev[600];
	struct base_meta m;
	const char *file;
	uint32_t id;
	int r;

	if (store_named(nf, ref, &file, &id))
		return -EINVAL;
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	snprintf(prev, sizeof(prev), "%s.prev", base);
	r = base_scan(file, &m);
	if ((!r && m.id == id) ||
	    (!strcmp(file, base) && !base_scan(prev, &m) && m.id == id))
		return 0;
	return store_unfit(nf, file, r);
}

/*
 * replace() (whole) or add() of the entry `store`: the base and its log
 * loaded again, the model's other entries (routes added by hand, also in
 * the log) over them, the set switched in as a whole.
 */
int rt_store_replace(struct nfc_nf *nf, json_t *entries, int whole)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	struct rt_store *s = store_get(nf);
	int rfd = nfc_nf_map_fd(nf, "rt_rib"), r;
	struct ents a = {0};
	struct ops l = {0};
	char base[512], lp[600];
	const char *key;
	uint32_t crc = 0;
	size_t size = 0;
	json_t *f;

	if (!s || rfd < 0)
		return nfc_nf_error(nf, ENOENT, "route maps not found");
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	r = rt_load_ports(nf, pc);
	if (!r)
		r = store_check(nf, json_object_get(entries, RT_STORE_KEY),
				base, &crc, &size);
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
		r = rt_route_check(nf, pc, key, 0, f, 0, &e.k, &e.v);
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
	/* Stretched by a test, so that its kill -9 lands before the switch
	 * or after it (nf/router/tests/routes_replay.sh). */
	nfci_test_delay("NFC_TEST_REPLAY_DELAY_US");
	r = rt_routes_set(nf, pc, a.e, a.n);
	nfci_test_delay("NFC_TEST_REPLAY_DELAY_US");
	if (!r) {
		s->state = ST_ON;
		s->lost = 0;
		s->crc = crc;
		s->base_size = size;
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
	size_t n0, size = 0;

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
		r = read_routes(nf, pc, &src, "", 0, 0, &a, NULL);
	n0 = a.n;
	if (!r)
		ents_sort(&a);
	if (!r && a.n != n0)
		r = nfc_nf_error(nf, EINVAL,
				 "routes: %zu routes are given twice in the "
				 "file",
				 n0 - a.n);
	/* One line over the imported set (a `routes set` of an imported
	 * route): written in place and logged, as an add is, not a new base
	 * of the whole set (0.4 s at 70,000 routes). */
	if (!r && !replace && s->state == ST_ON && a.n == 1) {
		r = put_one(nf, pc, rfd, &a.e[0]);
		free(a.e);
		return r;
	}
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
		r = base_write(nf, base, &a, 0, 0, &crc, &size);
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
	if (s->state == ST_ON && !s->lost)
		old = s->crc;
	unlink(prev);
	if ((link(base, prev) && errno != ENOENT) || rename(tmp, base) ||
	    nfc_fsync_dir_of(base))
		return nfc_nf_error(nf, errno, "routes: keep %s: %s", base,
				    strerror(errno));
	logs_prune(base, crc, old);
	s->state = ST_ON;
	s->lost = 0;
	s->crc = crc;
	s->base_size = size;
	return 0;
}

/* The base (m: its scan, whole) moved aside to .prev with its log, the
 * .prev it replaces going first with every other log: a model that names
 * the store again gets exactly it back (store_check rebuilds the base
 * from .prev and its log). In this order a kill -9 leaves the base with
 * its log, or .prev with it; never a log that no base accounts for,
 * which would have that refused. */
static void base_aside(const char *base, const struct base_meta *m)
{
	char prev[600];

	snprintf(prev, sizeof(prev), "%s.prev", base);
	unlink(prev);
	logs_prune(base, m->crc, m->crc);
	if (!rename(base, prev))
		nfc_fsync_dir_of(base);
}

/* The model holds the routes again (a replace without `store`): the base
 * goes, kept as .prev for a process killed before the model's save. That
 * is also the intent journal putting back a restore killed in its
 * routes: the router it had made holds none yet in the pinned model, and
 * the restore that follows takes the store back from .prev. */
void rt_store_off(struct nfc_nf *nf)
{
	struct rt_store *s = store_of(nf);
	struct base_meta m;
	char base[512];

	if (!s || s->state != ST_ON)
		return;
	base_path(nf, nfc_nf_name(nf), base, sizeof(base));
	/* A damaged base stays, with its .prev, for whoever looks into it
	 * (a refused restore's rollback comes here). */
	if (!base_scan(base, &m))
		base_aside(base, &m);
	s->state = ST_OFF;
	s->lost = 0;
}

/* The router unloaded: deleted, or rolled back by an apply that failed
 * (a start whose restore is refused, retried when netdevs appear). The
 * base is moved aside to .prev with its log, the rest goes: a new router
 * of that name starts without routes, and a model that still names the
 * store gets it back from .prev (store_check). A damaged base is left as
 * it is, with everything beside it, for whoever looks into it. */
void rt_store_removed(struct nfc_nf *nf, const char *name)
{
	char base[512], p[600];
	struct base_meta m;

	base_path(nf, name, base, sizeof(base));
	snprintf(p, sizeof(p), "%s.tmp", base);
	unlink(p);
	if (!base_scan(base, &m))
		base_aside(base, &m);
	if (nfc_nf_priv(nf)) {
		rt_priv_get(nf)->store.state = ST_UNKNOWN;
		rt_priv_get(nf)->store.lost = 0;
	}
}
