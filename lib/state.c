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
		e = getenv("NFC_STATE_MAX");
		max = e && strtoull(e, NULL, 10) >= SLOT_PAGE
			      ? strtoull(e, NULL, 10)
			      : 1ull << 30;
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
	const char *text;
	char *legacy;
	uint64_t gen, len;
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
		return 0;
	}
	doc = json_loadb(text, len, 0, &je);
	slot_close(&sl);
	free(legacy);
	if (!doc)
		return nfci_err(nfc, EINVAL, "state under %s: %s", nfc->root,
				je.text);
	gen = json_integer_value(json_object_get(doc, "gen"));
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
	model_free(nfc->m);
	nfc->m = m;
	nfc->gen = gen;
	return 0;
}

int state_save(struct nfc *nfc)
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
	if (gen_fd(nfc) < 0 ||
	    bpf_map_update_elem(nfc->gen_fd, &key, &nfc->gen, BPF_ANY))
		return nfci_err(nfc, errno, "save state generation: %s",
				strerror(errno));
	/* The pre-slot map of an older build, if any, is moved now. */
	snprintf(path, sizeof(path), "%s/state", nfc->root);
	unlink(path);
	return 0;
}

uint64_t nfc_state_gen(struct nfc *nfc)
{
	return nfc->gen;
}
