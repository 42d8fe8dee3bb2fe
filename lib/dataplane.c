// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data plane under the pin root: shared maps, NF programs, netdev stubs,
 * and reconcile, which moves it from one model to another.
 *
 * Pin layout (documented in docs/runtime.md):
 *   <root>/state                      the model (see state.c)
 *   <root>/progs_xdp, progs_tc, links, stubs, meta, stats, global, devmap,
 *   <root>/ring, scratch, ifports     maps shared by every NF
 *   <root>/nf/<id>-<name>/prog        an NF's program
 *   <root>/nf/<id>-<name>/map/<map>   its own maps (kept across reloads)
 *   <root>/stub/<n>/prog, link        netdev hook n (bpf_link: it outlives us;
 *                                     it runs the stub, or the first NF's
 *                                     nfc_direct program, see common.h)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "paths.h"
#include "stub_xdp.skel.h"
#include "stub_tc.skel.h"

#ifndef BPF_TCX_INGRESS
/* Not in Debian's 6.1 uapi headers; values from the kernel's uapi. */
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

static const char *const shared_names[SM_COUNT] = {
	[SM_PROGS_XDP] = "progs_xdp", [SM_PROGS_TC] = "progs_tc",
	[SM_LINKS] = "links",	      [SM_STUBS] = "stubs",
	[SM_META] = "meta",	      [SM_STATS] = "stats",
	[SM_GLOBAL] = "global",	      [SM_DEVMAP] = "devmap",
	[SM_RING] = "ring",	      [SM_SCRATCH] = "scratch",
	[SM_IFPORTS] = "ifports",
};

/* The BPF-side name of each shared map (nfchain.bpf.h). */
static int shared_index(const char *bpf_name, int hook)
{
	static const struct {
		const char *name;
		int sm;
	} tab[] = {
		{"nfc_links", SM_LINKS},     {"nfc_stubs", SM_STUBS},
		{"nfc_meta", SM_META},	     {"nfc_stats", SM_STATS},
		{"nfc_global", SM_GLOBAL},   {"nfc_devmap", SM_DEVMAP},
		{"nfc_ring", SM_RING},	     {"nfc_scratch", SM_SCRATCH},
		{"nfc_ifports", SM_IFPORTS},
	};

	if (!strcmp(bpf_name, "nfc_progs"))
		return hook == HOOK_TC ? SM_PROGS_TC : SM_PROGS_XDP;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(tab[i].name, bpf_name))
			return tab[i].sm;
	return -1;
}

/* ---- libbpf messages: kept so that a refused load says why ----------------
 */

static char bpf_log[4096];
static size_t bpf_log_len;

static int log_cb(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	int n;

	if (getenv("NFC_DEBUG")) {
		va_list cp;

		va_copy(cp, ap);
		vfprintf(stderr, fmt, cp);
		va_end(cp);
	}
	if (lvl == LIBBPF_DEBUG)
		return 0;
	if (bpf_log_len >= sizeof(bpf_log) - 1)
		bpf_log_len = 0; /* keep the latest lines */
	n = vsnprintf(bpf_log + bpf_log_len, sizeof(bpf_log) - bpf_log_len, fmt,
		      ap);
	if (n > 0)
		bpf_log_len += (size_t)n < sizeof(bpf_log) - bpf_log_len
				       ? (size_t)n
				       : sizeof(bpf_log) - 1 - bpf_log_len;
	return 0;
}

/* The verifier's reason: the last lines before its "processed N insns"
 * summary. */
static const char *bpf_log_tail(void)
{
	char *end = strstr(bpf_log, "\nprocessed ");
	char *p;
	int lines = 0;

	if (!end)
		end = bpf_log + bpf_log_len;
	*end = 0;
	for (p = end; p > bpf_log && lines < 2; p--)
		if (p[-1] == '\n' && p != end)
			lines++;
	while (*p == '\n')
		p++;
	for (char *q = p; *q; q++)
		if (*q == '\n')
			*q = ' ';
	return p;
}

static void bpf_log_reset(void)
{
	bpf_log_len = 0;
	bpf_log[0] = 0;
}

/* ---- shared maps -----------------------------------------------------------
 */

static int pin_path(struct nfc *nfc, char *buf, size_t len, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));
static int pin_path(struct nfc *nfc, char *buf, size_t len, const char *fmt,
		    ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s/", nfc->root);

	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return 0;
}

/* The id is part of the name: an NF replaced by one of the same name in
 * one change (type or mode changed) must not share the old one's pins. */
char *dp_nf_dir(struct nfc *nfc, int id, const char *name, char *buf,
		size_t len)
{
	pin_path(nfc, buf, len, "nf/%d-%s", id, name); /* bpffs refuses dots */
	return buf;
}

/* Shared maps are created from the stub object's own definitions, so the
 * runtime and the data plane cannot disagree on a map's shape. */
int dp_open_shared(struct nfc *nfc)
{
	struct stub_xdp *skel;
	struct bpf_map *map;
	char path[512];
	int r = 0;

	libbpf_set_print(log_cb);
	skel = stub_xdp__open();
	if (!skel)
		return nfc_err(nfc, errno, "open the stub object: %s",
			       strerror(errno));
	bpf_object__for_each_map (map, skel->obj) {
		int sm = shared_index(bpf_map__name(map), HOOK_XDP);
		int copies = sm == SM_PROGS_XDP ? 2 : 1;

		for (int c = 0; c < copies && sm >= 0; c++) {
			int idx = sm + c, fd;

			pin_path(nfc, path, sizeof(path), "%s",
				 shared_names[idx]);
			fd = bpf_obj_get(path);
			if (fd < 0) {
				fd = bpf_map_create(
					bpf_map__type(map), shared_names[idx],
					bpf_map__key_size(map),
					bpf_map__value_size(map),
					bpf_map__max_entries(map), NULL);
				if (fd < 0 || bpf_obj_pin(fd, path)) {
					r = nfc_err(nfc, errno,
						    "create shared map %s: %s",
						    path, strerror(errno));
					if (fd >= 0)
						close(fd);
					goto out;
				}
			}
			nfc->map_fd[idx] = fd;
		}
	}
out:
	stub_xdp__destroy(skel);
	return r;
}

/* ---- loading ----------------------------------------------------------------
 */

static int set_rodata_impl(struct bpf_object *obj, const char *var, __u32 val)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	struct bpf_map *map;
	size_t size;
	void *data;
	int id;

	bpf_object__for_each_map (map, obj)
		if (bpf_map__is_internal(map) &&
		    strstr(bpf_map__name(map), ".rodata"))
			break;
	if (!map || !btf)
		return -ENOENT;
	data = (void *)bpf_map__initial_value(map, &size);
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (!data || id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (!strcmp(btf__name_by_offset(btf, v->name_off), var) &&
		    vs->offset + sizeof(val) <= size) {
			memcpy((char *)data + vs->offset, &val, sizeof(val));
			return 0;
		}
	}
	return -ENOENT;
}

int nfc_obj_set_const(struct bpf_object *obj, const char *var, __u32 val)
{
	return set_rodata_impl(obj, var, val);
}

/* Binds every map of `obj`: shared ones to the pinned shared maps, the
 * NF's own to its pins when they exist (a reload keeps its state). */
int dp_bind_maps(struct nfc *nfc, struct bpf_object *obj, int hook,
		 const char *nf_dir)
{
	struct bpf_map *map;
	char path[512];

	bpf_object__for_each_map (map, obj) {
		const char *name = bpf_map__name(map);
		int sm = shared_index(name, hook), fd, r;

		if (sm >= 0) {
			r = bpf_map__reuse_fd(map, nfc->map_fd[sm]);
			if (r)
				return nfc_err(nfc, r, "bind map %s: %s", name,
					       strerror(-r));
			continue;
		}
		if (bpf_map__is_internal(map) || !nf_dir)
			continue;
		snprintf(path, sizeof(path), "%s/map/%s", nf_dir, name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		r = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (r)
			return nfc_err(nfc, r,
				       "reuse map %s: %s (did its definition "
				       "change?)",
				       path, strerror(-r));
	}
	return 0;
}

static int pin_prog(struct nfc *nfc, int fd, const char *path)
{
	char tmp[520];

	/* Pin beside and rename over: the old pin is never missing. */
	snprintf(tmp, sizeof(tmp), "%s_new", path); /* no dots on bpffs */
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp) || rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return nfc_err(nfc, e, "pin %s: %s", path, strerror(e));
	}
	return 0;
}

/*
 * An NF's object: the one built into the library, or, when NFC_OBJ_DIR is
 * set and holds <type>.<xdp|tc>.bpf.o, that file (a development aid: try a
 * rebuilt NF on a running chain without relinking). Read once and kept.
 */
struct obj_override {
	char name[NFC_NAME_MAX + 8];
	void *data;
	size_t size;
};
static struct obj_override overrides[16];

static const void *override_elf(const char *type, int hook, size_t *sz)
{
	const char *dir = getenv("NFC_OBJ_DIR");
	char key[NFC_NAME_MAX + 8], path[512];
	struct obj_override *o = NULL;
	FILE *f;
	long n;

	if (!dir)
		return NULL;
	snprintf(key, sizeof(key), "%s.%s", type,
		 hook == HOOK_TC ? "tc" : "xdp");
	for (int i = 0; i < 16; i++) {
		if (!strcmp(overrides[i].name, key)) {
			*sz = overrides[i].size;
			return overrides[i].data;
		}
		if (!o && !overrides[i].name[0])
			o = &overrides[i];
	}
	snprintf(path, sizeof(path), "%s/%s.bpf.o", dir, key);
	f = fopen(path, "rb");
	if (!f || !o) {
		if (f)
			fclose(f);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	o->data = n > 0 ? malloc(n) : NULL;
	if (!o->data || fread(o->data, 1, n, f) != (size_t)n) {
		free(o->data);
		o->data = NULL;
		fclose(f);
		return NULL;
	}
	fclose(f);
	o->size = n;
	snprintf(o->name, sizeof(o->name), "%s", key);
	*sz = o->size;
	return o->data;
}

const void *dp_type_elf(const struct nfc_nf_type *t, int hook, size_t *sz)
{
	const void *o = override_elf(t->name, hook, sz);

	if (o)
		return o;
	return hook == HOOK_TC ? t->elf_tc(sz) : t->elf_xdp(sz);
}

/* The load signature: what the program was built from. Config fields
 * marked NFC_FIELD_RELOAD are compiled into it as constants. */
void dp_nf_sig(const struct mnf *n, char *buf, size_t len)
{
	/* Hashing an object is ~100 KB of work: once per object, not once
	 * per NF and change. */
	static struct {
		const void *elf;
		size_t sz;
		uint64_t h;
	} memo[32];
	size_t sz;
	const void *elf = dp_type_elf(n->type, nf_hook(n), &sz);
	uint64_t h = 0;
	int i;

	for (i = 0; i < 32 && memo[i].elf; i++)
		if (memo[i].elf == elf && memo[i].sz == sz) {
			h = memo[i].h;
			break;
		}
	if (!h) {
		h = nfc_hash(elf, sz, 0);
		if (i < 32)
			memo[i].elf = elf, memo[i].sz = sz, memo[i].h = h;
	}

	for (const struct nfc_field *f = n->type->config; f && f->name; f++) {
		char *s;

		if (!(f->flags & NFC_FIELD_RELOAD))
			continue;
		s = json_dumps(json_object_get(n->config, f->name),
			       JSON_ENCODE_ANY | JSON_COMPACT);
		h = nfc_hash(f->name, strlen(f->name), h);
		if (s)
			h = nfc_hash(s, strlen(s), h);
		free(s);
	}
	snprintf(buf, len, "%s:%s:%016llx", n->type->name, n->mode,
		 (unsigned long long)h);
}

int dp_nf_prog_fd(struct nfc *nfc, int id, const char *name)
{
	char dir[400], path[512];
	struct rnf *rt = &nfc->rt[id];
	char key[NFC_NAME_MAX + 2];
	int fd;

	if (rt->obj) {
		struct bpf_program *p =
			bpf_object__find_program_by_name(rt->obj, name);

		return p ? bpf_program__fd(p) : -ENOENT;
	}
	/* Cached with the adopted maps, under a name no map can have. */
	snprintf(key, sizeof(key), "/%s", name);
	for (int i = 0; i < rt->nmaps; i++)
		if (!strcmp(rt->map_name[i], key))
			return rt->map_fd[i];
	dp_nf_dir(nfc, id, nfc->m->nfs[id].name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/progs/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	if (rt->nmaps == NFC_RT_FDS) {
		close(fd);
		return -EMFILE;
	}
	snprintf(rt->map_name[rt->nmaps], sizeof(rt->map_name[0]), "%s", key);
	rt->map_fd[rt->nmaps++] = fd;
	return fd;
}

static void close_maps(struct rnf *rt)
{
	for (int i = 0; i < rt->nmaps; i++)
		close(rt->map_fd[i]);
	rt->nmaps = 0;
}

static int nf_load(struct nfc *nfc, struct model *m, int id)
{
	struct mnf *n = &m->nfs[id];
	int hook = nf_hook(n), fd, r;
	struct bpf_program *prog;
	struct bpf_object *obj;
	char dir[400], path[512];
	struct bpf_map *map;
	const void *elf;
	size_t sz;

	elf = dp_type_elf(n->type, hook, &sz);
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = n->name);
	bpf_log_reset();
	obj = bpf_object__open_mem(elf, sz, &oo);
	if (!obj)
		return nfc_err(nfc, errno, "NF %s: open %s object: %s", n->name,
			       n->type->name, strerror(errno));
	dp_nf_dir(nfc, id, n->name, dir, sizeof(dir));
	if (set_rodata_impl(obj, "nfc_self", id) ||
	    set_rodata_impl(obj, "nfc_transparent",
			    !!(n->type->flags & NFC_TYPE_TRANSPARENT))) {
		r = nfc_err(nfc, EINVAL,
			    "NF %s: its object lacks the nfchain contract "
			    "(nfc_self)",
			    n->name);
		goto fail;
	}
	/* Remember the NF's own maps now: once bound by bind_maps, shared maps
	 * take the names of the pinned ones. */
	struct bpf_map *own[16];
	int nown = 0;

	bpf_object__for_each_map (map, obj)
		if (!bpf_map__is_internal(map) &&
		    shared_index(bpf_map__name(map), hook) < 0 && nown < 16)
			own[nown++] = map;
	r = dp_bind_maps(nfc, obj, hook, dir);
	if (r)
		goto fail;
	if (n->type->prepare) {
		r = n->type->prepare(&nfc->handles[id], obj);
		if (r)
			goto fail;
	}
	r = bpf_object__load(obj);
	if (r) {
		r = nfc_err(nfc, r, "NF %s: the kernel refused its program: %s",
			    n->name, bpf_log_tail());
		goto fail;
	}
	prog = bpf_object__find_program_by_name(obj, "nfc_entry");
	if (!prog) {
		r = nfc_err(nfc, ENOENT, "NF %s: no nfc_entry program",
			    n->name);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/map", dir);
	r = nfc_mkdirs(path);
	if (r) {
		r = nfc_err(nfc, r, "NF %s: create %s: %s", n->name, path,
			    strerror(-r));
		goto fail;
	}
	for (int i = 0; i < nown; i++) {
		const char *name = bpf_map__name(own[i]);

		map = own[i];
		snprintf(path, sizeof(path), "%s/map/%s", dir, name);
		if (access(path, F_OK) == 0)
			continue;
		if (bpf_obj_pin(bpf_map__fd(map), path)) {
			r = nfc_err(nfc, errno, "NF %s: pin %s: %s", n->name,
				    path, strerror(errno));
			goto fail;
		}
	}
	/* Other programs of the object (devmap egress programs and the like)
	 * are pinned too, so that an adopting process can hand them out. */
	{
		struct bpf_program *o;

		bpf_object__for_each_program (o, obj) {
			if (o == prog)
				continue;
			snprintf(path, sizeof(path), "%s/progs", dir);
			nfc_mkdirs(path);
			snprintf(path, sizeof(path), "%s/progs/%s", dir,
				 bpf_program__name(o));
			r = pin_prog(nfc, bpf_program__fd(o), path);
			if (r)
				goto fail;
		}
	}
	snprintf(path, sizeof(path), "%s/prog", dir);
	r = pin_prog(nfc, bpf_program__fd(prog), path);
	if (r)
		goto fail;
	fd = dup(bpf_program__fd(prog));
	if (nfc->rt[id].prog_fd >= 0)
		close(nfc->rt[id].prog_fd);
	if (nfc->rt[id].obj)
		bpf_object__close(nfc->rt[id].obj);
	close_maps(&nfc->rt[id]);
	nfc->rt[id].prog_fd = fd;
	nfc->rt[id].obj = obj;
	dp_nf_sig(n, n->sig, sizeof(n->sig));
	return 0;
fail:
	bpf_object__close(obj);
	return r;
}

int dp_nf_fd(struct nfc *nfc, int id)
{
	char dir[400], path[512];

	if (nfc->rt[id].prog_fd >= 0)
		return nfc->rt[id].prog_fd;
	dp_nf_dir(nfc, id, nfc->m->nfs[id].name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/prog", dir);
	nfc->rt[id].prog_fd = bpf_obj_get(path);
	return nfc->rt[id].prog_fd;
}

int dp_nf_map_fd(struct nfc *nfc, int id, const char *map)
{
	char dir[400], path[512];

	int sm = shared_index(map, nf_hook(&nfc->m->nfs[id]));

	if (sm >= 0)
		return nfc->map_fd[sm];
	if (nfc->rt[id].obj) {
		struct bpf_map *mp =
			bpf_object__find_map_by_name(nfc->rt[id].obj, map);

		return mp ? bpf_map__fd(mp) : -ENOENT;
	}
	/* Adopted: open from the pin once; the fd stays ours (borrowed by
	 * the caller) until the NF is unloaded. */
	for (int i = 0; i < nfc->rt[id].nmaps; i++)
		if (!strcmp(nfc->rt[id].map_name[i], map))
			return nfc->rt[id].map_fd[i];
	dp_nf_dir(nfc, id, nfc->m->nfs[id].name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/map/%s", dir, map);
	int fd = bpf_obj_get(path);
	struct rnf *rt = &nfc->rt[id];

	if (fd < 0)
		return -ENOENT;
	if (rt->nmaps == NFC_RT_FDS) {
		close(fd);
		return -EMFILE;
	}
	snprintf(rt->map_name[rt->nmaps], sizeof(rt->map_name[0]), "%s", map);
	rt->map_fd[rt->nmaps++] = fd;
	return fd;
}

static void nf_unload(struct nfc *nfc, const struct mnf *n, int id)
{
	char dir[400];

	if (n->type->destroy)
		n->type->destroy(&nfc->handles[id]);
	nfc->rt[id].priv = NULL;
	if (nfc->rt[id].prog_fd >= 0)
		close(nfc->rt[id].prog_fd);
	if (nfc->rt[id].obj)
		bpf_object__close(nfc->rt[id].obj);
	close_maps(&nfc->rt[id]);
	nfc->rt[id].prog_fd = -1;
	nfc->rt[id].obj = NULL;
	nfc_rmtree(dp_nf_dir(nfc, id, n->name, dir, sizeof(dir)));
}

/* ---- stubs -----------------------------------------------------------------
 */

static int prog_id(int fd)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* An attached hook's link runs `want` (the first NF's nfc_direct) or, with
 * want < 0, the stub pinned beside it. Swapped in one step by the kernel:
 * no packet sees the hook empty. */
static int link_retarget(struct nfc *nfc, const struct mstub *st,
			 const char *dir, int want)
{
	char path[512];
	struct bpf_link_info info = {0};
	__u32 len = sizeof(info);
	int link, stub = -1, r = 0;

	snprintf(path, sizeof(path), "%s/link", dir);
	link = bpf_obj_get(path);
	if (link < 0)
		return nfc_err(nfc, errno, "%s: open its hook's link %s: %s",
			       st->dev, path, strerror(errno));
	if (want < 0) {
		snprintf(path, sizeof(path), "%s/prog", dir);
		want = stub = bpf_obj_get(path);
	}
	if (want < 0)
		r = nfc_err(nfc, errno, "%s: open its stub %s: %s", st->dev,
			    path, strerror(errno));
	else if (bpf_obj_get_info_by_fd(link, &info, &len))
		r = nfc_err(nfc, errno, "%s: read its hook's link: %s", st->dev,
			    strerror(errno));
	else if (info.prog_id != (__u32)prog_id(want) &&
		 bpf_link_update(link, want, NULL))
		r = nfc_err(nfc, errno, "%s: swap the program on its hook: %s",
			    st->dev, strerror(errno));
	if (stub >= 0)
		close(stub);
	close(link);
	return r;
}

static int stub_up(struct nfc *nfc, const struct mstub *st, int idx, int want)
{
	char dir[400], path[512];
	struct bpf_object *obj;
	struct bpf_program *prog;
	int fd, link, r, at;

	pin_path(nfc, dir, sizeof(dir), "stub/%d", idx);
	snprintf(path, sizeof(path), "%s/link", dir);
	if (access(path, F_OK) == 0) /* attached by us or an earlier process */
		return link_retarget(nfc, st, dir, want);
	struct stub_tc *stc = NULL;
	struct stub_xdp *sxdp = NULL;

	if (st->hook == HOOK_TC) {
		stc = stub_tc__open();
		obj = stc ? stc->obj : NULL;
		if (stc)
			stc->rodata->stub_idx = idx;
	} else {
		sxdp = stub_xdp__open();
		obj = sxdp ? sxdp->obj : NULL;
		if (sxdp)
			sxdp->rodata->stub_idx = idx;
	}
	if (!obj)
		return nfc_err(nfc, errno, "%s: open stub object: %s", st->dev,
			       strerror(errno));
	bpf_log_reset();
	r = dp_bind_maps(nfc, obj, st->hook, NULL);
	if (!r && (r = bpf_object__load(obj)))
		nfc_err(nfc, r, "%s: load stub: %s", st->dev, bpf_log_tail());
	if (r)
		goto out;
	prog = bpf_object__find_program_by_name(obj, "nfc_stub");
	fd = bpf_program__fd(prog);
	/* The stub is loaded and pinned even when the hook starts with the
	 * first NF's own program: it is what the hook falls back to. */
	if (st->hook == HOOK_TC) {
		at = st->egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS;
		link = bpf_link_create(want >= 0 ? want : fd, st->ifindex, at,
				       NULL);
	} else {
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = st->xdp_flags);
		link = bpf_link_create(want >= 0 ? want : fd, st->ifindex,
				       BPF_XDP, &lo);
	}
	if (link < 0) {
		int e = errno;

		if (st->hook == HOOK_XDP && (st->xdp_flags & (1 << 2)) &&
		    (e == EOPNOTSUPP || e == EINVAL))
			r = nfc_err(nfc, e,
				    "%s: no native XDP on this netdev (%s); "
				    "use mode=xdp-generic",
				    st->dev, strerror(e));
		else if (e == EBUSY || e == EEXIST)
			r = nfc_err(nfc, e,
				    "%s: another %s program is attached there "
				    "already; detach it first",
				    st->dev, nfc_hook_name(st->hook));
		else
			r = nfc_err(nfc, e, "%s: attach %s hook: %s", st->dev,
				    nfc_hook_name(st->hook), strerror(e));
		goto out;
	}
	r = nfc_mkdirs(dir);
	snprintf(path, sizeof(path), "%s/prog", dir);
	if (!r && bpf_obj_pin(fd, path))
		r = -errno;
	snprintf(path, sizeof(path), "%s/link", dir);
	if (!r && bpf_obj_pin(link, path))
		r = -errno;
	if (r) {
		nfc_err(nfc, r, "%s: pin stub under %s: %s", st->dev, dir,
			strerror(-r));
		nfc_rmtree(dir);
	}
	close(link); /* the pin holds it now */
out:
	stub_tc__destroy(stc);
	stub_xdp__destroy(sxdp);
	return r;
}

static void stub_down(struct nfc *nfc, int idx)
{
	char dir[400];

	/* Removing the last reference to the link detaches the program. */
	pin_path(nfc, dir, sizeof(dir), "stub/%d", idx);
	nfc_rmtree(dir);
}

/* ---- reconcile
 * ---------------------------------------------------------------- */

/* Sets one program-array slot to the program of NF `want_nf` (or empties
 * it), skipping the write when it already holds that program: every write
 * re-patches the direct jumps that point at the slot. */
static int set_slot(struct nfc *nfc, int hook, __u32 slot, int want_fd)
{
	int map = nfc->map_fd[hook == HOOK_TC ? SM_PROGS_TC : SM_PROGS_XDP];
	__u32 cur = 0;
	int have = !bpf_map_lookup_elem(map, &slot, &cur);

	if (want_fd < 0) {
		if (have && bpf_map_delete_elem(map, &slot) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (have && (int)cur == prog_id(want_fd))
		return 0;
	return bpf_map_update_elem(map, &slot, &want_fd, BPF_ANY) ? -errno : 0;
}

static int set_hop(int map, __u32 key, const struct nfc_hop *want)
{
	struct nfc_hop cur;

	if (!bpf_map_lookup_elem(map, &key, &cur) &&
	    !memcmp(&cur, want, sizeof(cur)))
		return 0;
	return bpf_map_update_elem(map, &key, want, BPF_ANY) ? -errno : 0;
}

static void zero_stats(struct nfc *nfc, int nf, int port)
{
	int ncpu = libbpf_num_possible_cpus();
	struct nfc_port_stats *z = calloc(ncpu > 0 ? ncpu : 1, sizeof(*z));
	__u32 k = NFC_GPORT(nf, port);

	if (z)
		bpf_map_update_elem(nfc->map_fd[SM_STATS], &k, z, BPF_ANY);
	free(z);
}

/* Writes the hop behind one source (an NF port or a stub) and its slot. */
static int wire(struct nfc *nfc, const struct model *m, int hook, int hop_map,
		__u32 key, __u32 slot, const struct nfc_hop *h)
{
	int fd = -1, r;

	if (h->kind == NFC_HOP_NF) {
		fd = dp_nf_fd(nfc, h->nf);
		if (fd < 0)
			return nfc_err(nfc, ENOENT,
				       "NF %s: program not found under %s",
				       m->nfs[h->nf].name, nfc->root);
	}
	/* Toward an NF, the slot first: a packet reading the new hop with
	 * the old slot reaches an NF that drops it as metadata for another
	 * (counted), never a wrong port. Away from one, the hop first: the
	 * slot must stay until no packet can read the old hop. */
	if (fd >= 0) {
		r = set_slot(nfc, hook, slot, fd);
		if (!r)
			r = set_hop(nfc->map_fd[hop_map], key, h);
	} else {
		r = set_hop(nfc->map_fd[hop_map], key, h);
		if (!r)
			r = set_slot(nfc, hook, slot, -1);
	}
	if (r)
		return nfc_err(nfc, r, "write hop %u: %s", key, strerror(-r));
	return 0;
}

static int devmap_needed(const struct model *m, const struct nfc_hop *hops,
			 int ifindex)
{
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		if (!m->nfs[i].used || nf_hook(&m->nfs[i]) != HOOK_XDP)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			const struct nfc_hop *h = &hops[NFC_GPORT(i, p)];

			if (h->kind == NFC_HOP_NETDEV &&
			    (int)h->ifindex == ifindex)
				return 1;
		}
	}
	return 0;
}

/* 2: native XDP, 1: generic XDP, 0: neither. Packet-out redirects
 * natively even for generic NFs (live-frames test runs), so both want NAPI
 * at the far end of a veth; only native cannot do without it. */
static int xdp_peer(const struct model *m, int ifindex)
{
	int nf, port;

	if (!netdev_peer_port(m, ifindex, &nf, &port) ||
	    nf_hook(&m->nfs[nf]) != HOOK_XDP)
		return 0;
	return strcmp(m->nfs[nf].mode, "xdp") ? 1 : 2;
}

/*
 * The program netdev hook `st` should run: the nfc_direct program of the
 * NF its hop leads to, once that NF's ifports slot for the netdev says
 * which port it arrives on; or -1: the stub. A slot another netdev holds
 * (claimed in this reconcile, or still held from the last one) leaves this
 * one on its stub. NFC_NO_DIRECT=1 keeps every hook on its stub (to
 * measure the difference, or to rule it out).
 */
static int direct_target(struct nfc *nfc, const struct mstub *st,
			 const struct nfc_hop *h, unsigned char *claimed)
{
	struct nfc_ifport cur = {0}, want;
	int map = nfc->map_fd[SM_IFPORTS], fd;
	const char *off = getenv("NFC_NO_DIRECT");
	__u32 k;

	if (st->egress || h->kind != NFC_HOP_NF || map < 0 ||
	    (off && strcmp(off, "0")))
		return -1;
	fd = dp_nf_prog_fd(nfc, h->nf, "nfc_direct");
	if (fd < 0)
		return -1; /* an NF object built before nfc_direct */
	k = NFC_IFSLOT(h->nf, st->ifindex);
	bpf_map_lookup_elem(map, &k, &cur);
	if (cur.ifindex && cur.ifindex != (__u32)st->ifindex)
		return -1;
	want = (struct nfc_ifport){.ifindex = st->ifindex, .port = h->port};
	if (memcmp(&cur, &want, sizeof(want)) &&
	    bpf_map_update_elem(map, &k, &want, BPF_ANY))
		return -1;
	claimed[k] = 1;
	return fd;
}

/* Frees the ifports slots of hooks that no longer run an NF directly
 * (their links were switched away before). */
static void direct_release(struct nfc *nfc, const struct model *old,
			   const struct nfc_hop *oshops,
			   const unsigned char *claimed)
{
	int map = nfc->map_fd[SM_IFPORTS];

	for (int s = 0; s < NFC_MAX_STUBS && map >= 0; s++) {
		const struct mstub *st = &old->stubs[s];
		struct nfc_ifport cur = {0}, none = {0};
		__u32 k;

		if (!st->used || st->egress || oshops[s].kind != NFC_HOP_NF)
			continue;
		k = NFC_IFSLOT(oshops[s].nf, st->ifindex);
		if (!claimed[k] && !bpf_map_lookup_elem(map, &k, &cur) &&
		    cur.ifindex == (__u32)st->ifindex)
			bpf_map_update_elem(map, &k, &none, BPF_ANY);
	}
}

int dp_reconcile(struct nfc *nfc, const struct model *old, struct model *new)
{
	unsigned char *claimed = calloc(NFC_IFSLOTS, 1);
	struct nfc_hop *hops = calloc(NFC_GPORTS, sizeof(*hops));
	struct nfc_hop *shops = calloc(NFC_MAX_STUBS, sizeof(*shops));
	struct nfc_hop *ohops = calloc(NFC_GPORTS, sizeof(*ohops));
	struct nfc_hop *oshops = calloc(NFC_MAX_STUBS, sizeof(*oshops));
	unsigned char reloaded[NFC_MAX_NFS] = {0};
	char sig[160];
	int r = 0;

	if (!hops || !shops || !ohops || !oshops || !claimed) {
		r = -ENOMEM;
		goto out;
	}
	r = paths_assign_stubs(nfc, new);
	if (r)
		goto out;
	paths_compute(new, hops, shops);
	r = paths_check(nfc, new, hops, shops);
	if (r)
		goto out;
	/* What the data plane holds now, to write only the differences. */
	paths_compute(old, ohops, oshops);

	/* 1. Programs: load new NFs, reload changed ones (maps kept). An NF
	 * whose signature is unchanged keeps its program: no interruption. */
	for (int i = 0; i < NFC_MAX_NFS && !r; i++) {
		struct mnf *n = &new->nfs[i];

		if (!n->used)
			continue;
		dp_nf_sig(n, sig, sizeof(sig));
		if (strcmp(sig, n->sig) || dp_nf_fd(nfc, i) < 0) {
			reloaded[i] = 1;
			r = nf_load(nfc, new, i);
			if (!r && !(old->nfs[i].used &&
				    !strcmp(old->nfs[i].name, n->name)))
				for (int p = 0; p < NFC_MAX_PORTS; p++)
					zero_stats(nfc, i, p);
		}
	}
	if (r)
		goto out;

	/* 2. Redirect targets before anything can send to them. */
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &new->nfs[i];

		if (!n->used || nf_hook(n) != HOOK_XDP)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS && !r; p++) {
			__u32 ifx = hops[NFC_GPORT(i, p)].ifindex;

			if (hops[NFC_GPORT(i, p)].kind != NFC_HOP_NETDEV)
				continue;
			/* A netdev that went away is not an error: its
			 * packets drop until it is back and the model names
			 * its new ifindex (nfc_apply re-resolves names). */
			if (!netdev_exists(ifx))
				continue;
			if (bpf_map_update_elem(nfc->map_fd[SM_DEVMAP], &ifx,
						&ifx, BPF_ANY)) {
				r = nfc_err(nfc, errno,
					    "port %s of %s: add %s to the "
					    "redirect map: %s",
					    n->ports[p].name, n->name,
					    n->ports[p].peer.dev,
					    strerror(errno));
				break;
			}
			/* Once per new XDP veth peer: it forks. */
			if (xdp_peer(new, ifx) && !xdp_peer(old, ifx)) {
				r = netdev_ensure_napi_peer(
					nfc, ifx, n->ports[p].peer.dev);
				if (r && xdp_peer(new, ifx) == 1) {
					r = 0; /* generic: best effort */
					nfc->err[0] = 0;
				}
			}
		}
	}
	if (r)
		goto out;

	/* 3. Hops and slots of every port of every NF. What a hop leads to
	 * must be wired before the hop: new and transparent NFs first (a
	 * spliced-in NF forwards before anything sends to it), then the
	 * rest. */
	for (int pass = 0; pass < 2 && !r; pass++)
		for (int i = 0; i < NFC_MAX_NFS && !r; i++) {
			const struct mnf *n = &new->nfs[i];
			int is_new = !(old->nfs[i].used &&
				       !strcmp(old->nfs[i].name, n->name));
			int first = is_new ||
				    (n->type &&
				     (n->type->flags & NFC_TYPE_TRANSPARENT));

			if (!n->used || first != !pass)
				continue;
			for (int p = 0; p < NFC_MAX_PORTS && !r; p++) {
				int fresh = n->ports[p].used &&
					    !(old->nfs[i].used &&
					      old->nfs[i].ports[p].used &&
					      !strcmp(old->nfs[i].ports[p].name,
						      n->ports[p].name));

				int g = NFC_GPORT(i, p);

				if (fresh && old->nfs[i].used)
					zero_stats(nfc, i, p);
				/* Unchanged: same NF, same hop, and the NF it
				 * leads to kept its program. */
				if (!nfc->full_sync && !is_new &&
				    !memcmp(&hops[g], &ohops[g],
					    sizeof(hops[g])) &&
				    (hops[g].kind != NFC_HOP_NF ||
				     !reloaded[hops[g].nf]))
					continue;
				r = wire(nfc, new, nf_hook(n), SM_LINKS,
					 NFC_GPORT(i, p), NFC_LINK_SLOT(i, p),
					 &hops[NFC_GPORT(i, p)]);
			}
		}
	/* 4. Netdev hooks: hop first, then attach. */
	for (int s = 0; s < NFC_MAX_STUBS && !r; s++) {
		const struct mstub *st = &new->stubs[s];

		if (!st->used)
			continue;
		if (old->stubs[s].used &&
		    (old->stubs[s].ifindex != st->ifindex ||
		     old->stubs[s].egress != st->egress ||
		     old->stubs[s].hook != st->hook ||
		     old->stubs[s].xdp_flags != st->xdp_flags))
			stub_down(nfc, s);
		r = wire(nfc, new, st->hook, SM_STUBS, s, NFC_STUB_SLOT(s),
			 &shops[s]);
		if (!r && netdev_exists(st->ifindex))
			r = stub_up(nfc, st, s,
				    direct_target(nfc, st, &shops[s], claimed));
	}
	if (r)
		goto out;

	/* 5. What the new model no longer has. */
	for (int s = 0; s < NFC_MAX_STUBS; s++) {
		const struct mstub *st = &old->stubs[s];
		struct nfc_hop none = {0};

		if (!st->used || new->stubs[s].used)
			continue;
		stub_down(nfc, s);
		set_hop(nfc->map_fd[SM_STUBS], s, &none);
		set_slot(nfc, st->hook, NFC_STUB_SLOT(s), -1);
	}
	direct_release(nfc, old, oshops, claimed);
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &old->nfs[i];
		struct nfc_hop none = {0};

		if (!n->used ||
		    (new->nfs[i].used && !strcmp(new->nfs[i].name, n->name)))
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			set_hop(nfc->map_fd[SM_LINKS], NFC_GPORT(i, p), &none);
			set_slot(nfc, nf_hook(n), NFC_LINK_SLOT(i, p), -1);
		}
		nf_unload(nfc, n, i);
	}
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &old->nfs[i];

		if (!n->used || nf_hook(n) != HOOK_XDP)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			const struct mport *mp = &n->ports[p];
			__u32 ifx = mp->peer.ifindex;

			if (mp->used && mp->peer.kind == PEER_DEV &&
			    !devmap_needed(new, hops, ifx))
				bpf_map_delete_elem(nfc->map_fd[SM_DEVMAP],
						    &ifx);
		}
	}
out:
	free(claimed);
	free(hops);
	free(shops);
	free(ohops);
	free(oshops);
	return r;
}

void dp_release(struct nfc *nfc)
{
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		if (nfc->rt[i].prog_fd >= 0)
			close(nfc->rt[i].prog_fd);
		if (nfc->rt[i].obj)
			bpf_object__close(nfc->rt[i].obj);
		close_maps(&nfc->rt[i]);
		nfc->rt[i].prog_fd = -1;
		nfc->rt[i].obj = NULL;
	}
	for (int i = 0; i < SM_COUNT; i++)
		if (nfc->map_fd[i] >= 0) {
			close(nfc->map_fd[i]);
			nfc->map_fd[i] = -1;
		}
}
