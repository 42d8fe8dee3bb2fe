// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The model is kept in the kernel beside the data plane it describes: one
 * pinned array map whose single value is the JSON document (length-prefixed).
 * A process that opens the pin root reads it and adopts everything; nothing
 * on disk can disagree with what is pinned. One map update replaces the
 * whole document, so a reader never sees half a change.
 *
 * Processes serialize on flock() of the pin root directory; each keeps the
 * generation it last read and reloads the model when another wrote since.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "internal.h"

/* The generation alone, in a map of its own: most calls only need to know
 * that nothing changed, and reading it costs 8 bytes, not 2 MiB. */
static int gen_fd(struct nfc *nfc)
{
	char path[300];
	int fd;

	if (nfc->gen_fd >= 0)
		return nfc->gen_fd;
	snprintf(path, sizeof(path), "%s/state_gen", nfc->root);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nfc_state_gen", 4,
				    sizeof(__u64), 1, NULL);
		if (fd < 0 || bpf_obj_pin(fd, path))
			return nfci_err(nfc, errno, "create %s: %s", path,
					strerror(errno));
	}
	nfc->gen_fd = fd;
	return fd;
}

/*
 * The document lives in two pinned BPF_F_MMAPABLE array maps, state0 and
 * state1, each a header page (struct slot_hdr) then the JSON text. A save
 * writes the slot that does not hold the current generation: its header is
 * first marked empty, then the text is copied in, then length and
 * generation are stored, generation last. A reader takes the slot with the
 * higher generation, so a writer killed half way leaves the previous
 * document readable. A slot too small is replaced: a new map is filled,
 * pinned beside it and renamed over it (bpffs renames atomically).
 */
#define SLOT_PAGE 4096u

/* A document larger than this is refused: 1 GiB, or NFC_STATE_MAX (bytes)
 * from the environment, for an operator who wants a tighter cap and for
 * the tests of the refusal, which cannot afford a gigabyte. */
uint64_t state_max(void)
{
	static uint64_t max;
	const char *e;

	if (!max) {
		char *end;
		unsigned long long v;

		max = 1ull << 30;
		e = getenv("NFC_STATE_MAX");
		if (!e)
			return max;
		errno = 0;
		v = strtoull(e, &end, 10);
		/* Any cap taken as given (values under a page were dropped
		 * for 1 GiB without a word; found by a helper); what is no
		 * number of bytes is said. */
		if (errno || end == e || *end || !v || *e == '-')
			fprintf(stderr,
				"nfchain: NFC_STATE_MAX='%s' is not a number "
				"of bytes; the cap is 1 GiB\n",
				e);
		else
			max = v;
	}
	return max;
}

struct slot_hdr {
	uint64_t gen; /* 0: empty or being written */
	uint64_t len;
	uint64_t size; /* bytes the map holds, header page included */
};

struct slot {
	int fd;
	uint8_t *mem;
	uint64_t size;
};

static void slot_close(struct slot *s)
{
	if (s->mem)
		munmap(s->mem, s->size);
	if (s->fd >= 0)
		close(s->fd);
	s->mem = NULL;
	s->fd = -1;
}

static int slot_map(struct slot *s, int fd, int prot)
{
	struct bpf_map_info info = {0};
	__u32 ilen = sizeof(info);

	s->fd = fd;
	s->mem = NULL;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) ||
	    !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.value_size != SLOT_PAGE || info.max_entries < 2)
		return -EINVAL;
	s->size = (uint64_t)info.max_entries * SLOT_PAGE;
	s->mem = mmap(NULL, s->size, prot, MAP_SHARED, fd, 0);
	if (s->mem == MAP_FAILED) {
		s->mem = NULL;
		return -errno;
	}
	return 0;
}

/* Opens slot i read-only; -ENOENT when it is not pinned. */
static int slot_open(struct nfc *nfc, int i, struct slot *s, int prot)
{
	char path[300];
	int fd, r;

	s->fd = -1;
	s->mem = NULL;
	snprintf(path, sizeof(path), "%s/state%d", nfc->root, i);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	r = slot_map(s, fd, prot);
	if (r)
		slot_close(s);
	return r;
}

static uint64_t slot_gen(const struct slot *s)
{
	const struct slot_hdr *h = (const void *)s->mem;
	uint64_t g = __atomic_load_n(&h->gen, __ATOMIC_ACQUIRE);

	if (!g || h->len > s->size - SLOT_PAGE)
		return 0;
	return g;
}

/* A new slot map of at least `need` bytes of text, pinned at tmp. */
static int slot_create(struct nfc *nfc, const char *tmp, uint64_t need,
		       struct slot *s)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	/* Room to grow by half before the next replacement. */
	uint64_t pages = 1 + (need + need / 2 + SLOT_PAGE - 1) / SLOT_PAGE;
	int fd, r;

	if (pages < 64)
		pages = 64;
	unlink(tmp);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nfc_state", 4, SLOT_PAGE,
			    pages, &o);
	if (fd < 0)
		return nfci_err(nfc, errno,
				"create a %llu-byte state map under %s: %s",
				(unsigned long long)(pages * SLOT_PAGE),
				nfc->root, strerror(errno));
	r = slot_map(s, fd, PROT_READ | PROT_WRITE);
	if (!r && bpf_obj_pin(fd, tmp))
		r = -errno;
	if (r) {
		slot_close(s);
		return nfci_err(nfc, r, "pin %s: %s", tmp, strerror(-r));
	}
	return 0;
}

/* The document last saved: its text (inside the mapping of `s`, which the
 * caller closes) or len 0 for a fresh pin root. The pre-slot layout (one
 * map "state" whose single value is the length-prefixed text) is read too,
 * so a root pinned by an older build is adopted; the next save moves it. */
static int doc_read(struct nfc *nfc, struct slot *s, int *idx,
		    const char **text, uint64_t *len, char **legacy)
{
	struct slot b[2];
	uint64_t g[2] = {0, 0};
	char path[300];
	int best, fd;

	*len = 0;
	*legacy = NULL;
	for (int i = 0; i < 2; i++) {
		int r = slot_open(nfc, i, &b[i], PROT_READ);

		if (r && r != -ENOENT) {
			slot_close(&b[0]);
			return nfci_err(nfc, r, "open %s/state%d: %s",
					nfc->root, i, strerror(-r));
		}
		g[i] = b[i].mem ? slot_gen(&b[i]) : 0;
	}
	best = g[1] > g[0];
	*idx = g[best] ? best : -1;
	*s = b[best];
	slot_close(&b[!best]);
	if (g[best]) {
		*text = (const char *)s->mem + SLOT_PAGE;
		*len = ((const struct slot_hdr *)s->mem)->len;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/state", nfc->root);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		struct bpf_map_info info = {0};
		__u32 ilen = sizeof(info), key = 0, l;
		char *buf = NULL;

		if (!bpf_obj_get_info_by_fd(fd, &info, &ilen) &&
		    info.value_size > 4)
			buf = malloc(info.value_size);
		if (buf && !bpf_map_lookup_elem(fd, &key, buf)) {
			memcpy(&l, buf, 4);
			if (l <= info.value_size - 4) {
				*legacy = buf;
				*text = buf + 4;
				*len = l;
				buf = NULL;
			}
		}
		free(buf);
		close(fd);
	}
	return 0;
}

/*
 * The log. A change of one collection entry is a record appended to a
 * pinned BPF_F_MMAPABLE array map, state_log, not a rewrite of the whole
 * document (at 60,000 routes that rewrite was most of a change's cost).
 * Its first page holds the generation of the document it extends and the
 * bytes of records that follow; a record is a JSON line {"nf", "coll",
 * "key", "value"}, value null for an entry deleted, or {"nf", "nf_fields"}
 * for a change of one NF's own fields (a `set`), all of that NF but its
 * collections (state_save_diff). The length is stored
 * after the record, so a record is whole or not counted, and a store
 * survives a kill -9 (the kernel holds the pages). A reader applies the
 * records only to the document they extend: when the log reaches a
 * quarter of the document, the whole document is saved under a new
 * generation first and the log emptied after, so a writer killed in
 * between leaves either the old document and its log, or the new one.
 */
#define LOG_MIN (64u << 10) /* below this, a log is not worth folding */

struct log_hdr {
	uint64_t base; /* generation of the document the records extend */
	uint64_t len;  /* bytes of whole records after the first page */
};

static const struct pinmem_kind log_kind = {"state_log", "nfc_state_log", "a",
					    "state log"};

void state_log_close(struct nfc *nfc)
{
	pinmem_close(&nfc->slog);
}

static int log_open(struct nfc *nfc)
{
	return pinmem_open(nfc, &nfc->slog, &log_kind);
}

/* A larger log holding what the current one holds. */
static int log_grow(struct nfc *nfc, uint64_t need)
{
	const struct log_hdr *h = (const struct log_hdr *)nfc->slog.mem;

	return pinmem_grow(nfc, &nfc->slog, &log_kind, need, sizeof(*h),
			   h ? h->len : 0);
}

/* The records that extend the document of generation g, and how many. */
static uint64_t log_records(struct nfc *nfc, uint64_t g, const char **p,
			    uint64_t *len)
{
	const struct log_hdr *h;
	uint64_t n = 0;

	*len = 0;
	if (log_open(nfc))
		return 0;
	h = (const struct log_hdr *)nfc->slog.mem;
	if (h->base != g)
		return 0;
	*len = __atomic_load_n(&h->len, __ATOMIC_ACQUIRE);
	if (*len > nfc->slog.size - PINMEM_PAGE)
		*len = 0;
	*p = (const char *)nfc->slog.mem + PINMEM_PAGE;
	for (const char *q = *p, *e = *p + *len; (q = memchr(q, '\n', e - q));
	     q++)
		n++;
	return n;
}

/* One record applied to the internal document (model_to_json's form): a
 * collection entry, or ({"nf", "nf_fields"}) all of one NF but its
 * collections. */
static void log_apply(json_t *doc, json_t *rec)
{
	const char *nf = json_string_value(json_object_get(rec, "nf")),
		   *coll = json_string_value(json_object_get(rec, "coll")),
		   *key = json_string_value(json_object_get(rec, "key"));
	json_t *v = json_object_get(rec, "value"), *n, *cs, *c;
	size_t i;

	json_t *fields = json_object_get(rec, "nf_fields");

	if (!nf || (!json_is_object(fields) && (!coll || !key)))
		return;
	json_array_foreach (json_object_get(doc, "nfs"), i, n) {
		if (strcmp(json_string_value(json_object_get(n, "name")) ?: "",
			   nf))
			continue;
		if (json_is_object(fields)) {
			/* An NF's own fields: replaced, its collections kept.
			 */
			json_t *o = json_copy(fields);

			if (o && json_object_get(n, "colls"))
				json_object_set(o, "colls",
						json_object_get(n, "colls"));
			if (o)
				json_array_set_new(json_object_get(doc, "nfs"),
						   i, o);
			return;
		}
		cs = json_object_get(n, "colls");
		if (!json_is_object(cs))
			json_object_set_new(n, "colls", cs = json_object());
		c = json_object_get(cs, coll);
		if (!c && json_is_object(v))
			json_object_set_new(cs, coll, c = json_object());
		if (json_is_object(v))
			json_object_set(c, key, v);
		else
			json_object_del(c, key);
		return;
	}
}

static void log_replay(json_t *doc, const char *p, uint64_t len)
{
	const char *e = p + len, *q;

	for (; p < e && (q = memchr(p, '\n', e - p)); p = q + 1) {
		json_t *rec = json_loadb(p, q - p, 0, NULL);

		if (rec)
			log_apply(doc, rec);
		json_decref(rec);
	}
}

/* After a save of the whole document: the log extends it, empty. */
static void log_reset(struct nfc *nfc)
{
	struct log_hdr *h;

	if (log_open(nfc))
		return;
	h = (struct log_hdr *)nfc->slog.mem;
	__atomic_store_n(&h->len, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&h->base, nfc->doc_gen, __ATOMIC_RELEASE);
}

/* A record appended to the log (or the whole document saved when the log
 * is due to be folded in). `o` is consumed. */
static int doc_write(struct nfc *nfc);

static int log_append(struct nfc *nfc, json_t *o)
{
	uint64_t len = 0, need, limit;
	struct log_hdr *h;
	__u32 k0 = 0;
	char *rec;
	int r;

	if (!nfc->doc_len) {
		json_decref(o);
		return doc_write(nfc); /* nothing for a record to extend */
	}
	r = log_open(nfc);
	if (r && r != -ENOENT) {
		json_decref(o);
		return r;
	}
	h = (struct log_hdr *)nfc->slog.mem;
	if (h && h->base == nfc->doc_gen)
		len = h->len;
	rec = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!rec)
		return nfci_err(nfc, ENOMEM, "save state: out of memory");
	need = strlen(rec) + 1;
	limit = nfc->doc_len / 4 > LOG_MIN ? nfc->doc_len / 4 : LOG_MIN;
	/* Folded into the document (which also says whether the whole is
	 * too large) when the log has grown to its share. */
	if (len + need > limit || nfc->doc_len + len + need > state_max()) {
		free(rec);
		return doc_write(nfc);
	}
	if (!h || len + need > nfc->slog.size - PINMEM_PAGE) {
		r = log_grow(nfc, 2 * (len + need));
		if (r) {
			free(rec);
			return r;
		}
		h = (struct log_hdr *)nfc->slog.mem;
	}
	if (h->base != nfc->doc_gen) {
		__atomic_store_n(&h->len, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&h->base, nfc->doc_gen, __ATOMIC_RELEASE);
		len = 0;
	}
	memcpy(nfc->slog.mem + PINMEM_PAGE + len, rec, need - 1);
	nfc->slog.mem[PINMEM_PAGE + len + need - 1] = '\n';
	free(rec);
	__atomic_store_n(&h->len, len + need, __ATOMIC_RELEASE);
	nfc->gen++;
	if (gen_fd(nfc) < 0 ||
	    bpf_map_update_elem(nfc->gen_fd, &k0, &nfc->gen, BPF_ANY))
		return nfci_err(nfc, errno, "save state generation: %s",
				strerror(errno));
	return 0;
}

/* One NF's own fields saved: still "one NF" if it is the same NF. */
static void saved_one(struct nfc *nfc, json_t *name)
{
	const char *s = json_string_value(name) ?: "";

	if (nfc->saved_what == NFC_SAVED_NONE) {
		nfc->saved_what = NFC_SAVED_NF;
		snprintf(nfc->saved_nf, sizeof(nfc->saved_nf), "%s", s);
	} else if (nfc->saved_what == NFC_SAVED_NF &&
		   strcmp(nfc->saved_nf, s)) {
		nfc->saved_what = NFC_SAVED_MORE;
	}
}

int nfc_take_saved(struct nfc *nfc, char *nf, size_t len)
{
	int r = nfc->saved_what;

	if (r == NFC_SAVED_NF && nf && len)
		snprintf(nf, len, "%s", nfc->saved_nf);
	nfc->saved_what = NFC_SAVED_NONE;
	return r;
}

int state_save_entry(struct nfc *nfc, int id, const char *coll, const char *key)
{
	const struct mnf *n = &nfc->m->nfs[id];
	json_t *v = json_object_get(json_object_get(n->colls, coll), key);

	nfc->saved_what = NFC_SAVED_MORE;
	return log_append(nfc, json_pack("{s:s,s:s,s:s,s:O}", "nf", n->name,
					 "coll", coll, "key", key, "value",
					 v ? v : json_null()));
}

/*
 * What changed from `old` to nfc->m, saved: nothing when nothing did; when
 * only the own fields of one NF did (a `set`: config, ports; its
 * collections the same objects), one log record of that NF without its
 * collections; else the whole document. A config value on a router of
 * 20,000 routes cost a 1.5 MB document rewrite (~40 ms) before.
 */
int state_save_diff(struct nfc *nfc, const struct model *old)
{
	json_t *x = model_to_json(old, 0), *y = model_to_json(nfc->m, 0);
	json_t *a = json_object_get(x, "nfs"), *b = json_object_get(y, "nfs");
	json_t *one = NULL, *v, *o;
	const char *k;
	size_t i;
	int r = 0, whole = !x || !y || json_array_size(a) != json_array_size(b);

	json_object_foreach (y, k, v)
		if (!whole && strcmp(k, "nfs") &&
		    !json_equal(v, json_object_get(x, k)))
			whole = 1;
	json_array_foreach (b, i, v) {
		if (whole)
			break;
		o = json_array_get(a, i);
		if (json_equal(o, v))
			continue;
		/* json_equal stops at the same object: the clone shares
		 * the collections of an NF whose entries were not edited. */
		if (one ||
		    !json_equal(json_object_get(o, "name"),
				json_object_get(v, "name")) ||
		    !json_equal(json_object_get(o, "colls"),
				json_object_get(v, "colls")))
			whole = 1;
		one = v;
	}
	if (whole) {
		r = state_save(nfc);
	} else if (one) {
		saved_one(nfc, json_object_get(one, "name"));
		o = json_copy(one);
		json_object_del(o, "colls");
		r = log_append(nfc, json_pack("{s:O,s:o}", "nf",
					      json_object_get(one, "name"),
					      "nf_fields", o));
	}
	json_decref(x);
	json_decref(y);
	return r;
}

int state_lock(struct nfc *nfc)
{
	if (flock(nfc->lock_fd, LOCK_EX))
		return nfci_err(nfc, errno, "lock %s: %s", nfc->root,
				strerror(errno));
	return 0;
}

void state_unlock(struct nfc *nfc)
{
	flock(nfc->lock_fd, LOCK_UN);
}

int state_load(struct nfc *nfc)
{
	struct slot sl = {.fd = -1};
	struct model *m;
	json_error_t je;
	const char *text, *logp = NULL;
	char *legacy;
	uint64_t gen, len, dgen = 0, nlog = 0, loglen = 0;
	__u32 key = 0;
	json_t *doc;
	int i, r;

	if (nfc->m && gen_fd(nfc) >= 0) {
		__u64 g = 0;

		if (!bpf_map_lookup_elem(nfc->gen_fd, &key, &g) &&
		    g == nfc->gen)
			return 0;
	}
	r = doc_read(nfc, &sl, &i, &text, &len, &legacy);
	if (r)
		return r;
	if (len == 0) { /* a fresh pin root */
		slot_close(&sl);
		state_log_close(nfc);
		nfc->doc_gen = nfc->doc_len = 0;
		return 0;
	}
	if (i >= 0) {
		dgen = ((const struct slot_hdr *)sl.mem)->gen;
		nlog = log_records(nfc, dgen, &logp, &loglen);
		if (nfc->m && dgen + nlog == nfc->gen) {
			slot_close(&sl);
			return 0;
		}
	}
	doc = json_loadb(text, len, 0, &je);
	slot_close(&sl);
	free(legacy);
	if (!doc)
		return nfci_err(nfc, EINVAL, "state under %s: %s", nfc->root,
				je.text);
	gen = json_integer_value(json_object_get(doc, "gen"));
	if (i >= 0) {
		log_replay(doc, logp, loglen);
		gen = dgen + nlog;
	}
	if (gen == nfc->gen && nfc->m) {
		json_decref(doc);
		return 0;
	}
	m = model_new();
	r = m ? model_from_json(nfc, doc, m, &gen) : -ENOMEM;
	json_decref(doc);
	if (r) {
		model_free(m);
		return r;
	}
	if (i >= 0)
		gen = dgen + nlog;
	/* Another process changed the model: what it loaded, we adopt from
	 * pins on first use; what we held for NFs it removed, we drop. */
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		if (nfc->m && nfc->m->nfs[i].used &&
		    (!m->nfs[i].used ||
		     strcmp(m->nfs[i].name, nfc->m->nfs[i].name) ||
		     strcmp(m->nfs[i].sig, nfc->m->nfs[i].sig))) {
			if (nfc->rt[i].prog_fd >= 0)
				close(nfc->rt[i].prog_fd);
			nfc->rt[i].prog_fd = -1;
		}
	}
	/* Another process's change: this one cannot say what it was. */
	if (nfc->m)
		nfc->saved_what = NFC_SAVED_MORE;
	model_free(nfc->m);
	nfc->m = m;
	nfc->gen = gen;
	/* A document of the pre-slot layout is not extended by a log: the
	 * next change saves it whole, in a slot. */
	nfc->doc_gen = dgen;
	nfc->doc_len = i >= 0 ? len : 0;
	return 0;
}

/* The whole document written (a log that outgrew its share is folded in
 * by this too: what changed is still only what the record said). */
static int doc_write(struct nfc *nfc)
{
	struct slot cur, w = {.fd = -1};
	struct slot_hdr *h;
	const char *text;
	char *legacy, path[300], tmp[310];
	uint64_t len, g0;
	__u32 key = 0;
	json_t *doc;
	int i, r;
	char *s;

	doc = model_to_json(nfc->m, nfc->gen + 1);
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!s)
		return nfci_err(nfc, ENOMEM, "save state: out of memory");
	len = strlen(s);
	if (len > state_max()) {
		free(s);
		return nfci_err(nfc, E2BIG,
				"the configuration is larger than the %llu "
				"bytes the pinned state holds",
				(unsigned long long)state_max());
	}
	/* Write the slot that does not hold the current document. */
	r = doc_read(nfc, &cur, &i, &text, &g0, &legacy);
	if (r) {
		free(s);
		return r;
	}
	free(legacy);
	i = i == 0 ? 1 : 0;
	slot_close(&cur);
	snprintf(path, sizeof(path), "%s/state%d", nfc->root, i);
	snprintf(tmp, sizeof(tmp), "%s/state%d_new", nfc->root, i);
	r = slot_open(nfc, i, &w, PROT_READ | PROT_WRITE);
	if (r || w.size - SLOT_PAGE < len) {
		slot_close(&w);
		r = slot_create(nfc, tmp, len, &w);
		if (r) {
			free(s);
			return r;
		}
	} else {
		tmp[0] = 0;
	}
	h = (struct slot_hdr *)w.mem;
	__atomic_store_n(&h->gen, 0, __ATOMIC_RELEASE);
	memcpy(w.mem + SLOT_PAGE, s, len);
	free(s);
	h->len = len;
	h->size = w.size;
	__atomic_store_n(&h->gen, nfc->gen + 1, __ATOMIC_RELEASE);
	slot_close(&w);
	if (tmp[0] && rename(tmp, path)) {
		r = nfci_err(nfc, errno, "rename %s to %s: %s", tmp, path,
			     strerror(errno));
		unlink(tmp);
		return r;
	}
	nfc->gen++;
	nfc->doc_gen = nfc->gen;
	nfc->doc_len = len;
	log_reset(nfc);
	if (gen_fd(nfc) < 0 ||
	    bpf_map_update_elem(nfc->gen_fd, &key, &nfc->gen, BPF_ANY))
		return nfci_err(nfc, errno, "save state generation: %s",
				strerror(errno));
	/* The pre-slot map of an older build, if any, is moved now. */
	snprintf(path, sizeof(path), "%s/state", nfc->root);
	unlink(path);
	return 0;
}

int state_save(struct nfc *nfc)
{
	nfc->saved_what = NFC_SAVED_MORE;
	return doc_write(nfc);
}

uint64_t nfc_state_gen(struct nfc *nfc)
{
	return nfc->gen;
}
