// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loading an NF: open its object (built in, or from NFC_OBJ_DIR), set its
 * load-time constants, bind its maps to the pins, load it, and pin its
 * program, its other programs and its own maps under <root>/nf/<id>-<name>/.
 * A reload is the same call: the own maps are reused from their pins and the
 * program pin is swapped by rename, so state and the running path survive.
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
#include "dataplane.h"

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

static int pin_prog(struct nfc *nfc, int fd, const char *path)
{
	char tmp[520];

	/* Pin beside and rename over: the old pin is never missing. */
	snprintf(tmp, sizeof(tmp), "%s_new", path); /* no dots on bpffs */
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp) || rename(tmp, path)) {
		int e = errno;

		unlink(tmp);
		return nfci_err(nfc, e, "pin %s: %s", path, strerror(e));
	}
	return 0;
}

/*
 * An NF's object: the one built into the library, or, when NFC_OBJ_DIR is
 * set and holds <type>.<xdp|tc>.bpf.o, that file (a development aid: try a
 * rebuilt NF on a running chain without relinking). Read once and kept.
 */
struct obj_override {
	struct obj_override *next;
	char name[NFC_NAME_MAX + 8];
	void *data;
	size_t size;
};
static struct obj_override *overrides; /* one per type and hook read */

static const void *override_elf(const char *type, int hook, size_t *sz)
{
	const char *dir = getenv("NFC_OBJ_DIR");
	char key[NFC_NAME_MAX + 8], path[512];
	struct obj_override *o;
	FILE *f;
	long n;

	if (!dir)
		return NULL;
	snprintf(key, sizeof(key), "%s.%s", type,
		 hook == HOOK_TC ? "tc" : "xdp");
	for (o = overrides; o; o = o->next)
		if (!strcmp(o->name, key)) {
			*sz = o->size;
			return o->data;
		}
	snprintf(path, sizeof(path), "%s/%s.bpf.o", dir, key);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	o = calloc(1, sizeof(*o));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (o)
		o->data = n > 0 ? malloc(n) : NULL;
	if (!o || !o->data || fread(o->data, 1, n, f) != (size_t)n) {
		if (o)
			free(o->data);
		free(o);
		fclose(f);
		return NULL;
	}
	fclose(f);
	o->size = n;
	snprintf(o->name, sizeof(o->name), "%s", key);
	o->next = overrides;
	overrides = o;
	*sz = o->size;
	return o->data;
}

const void *dp_type_elf(const struct nfc_nf_type *t, int hook, size_t *sz)
{
	const void *o = override_elf(t->name, hook, sz);

	if (o)
		return o;
	if (!t->elf_xdp && !t->elf_tc) /* a loaded type */
		return nfci_dyn_elf(t, hook, sz);
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
		h = nfci_hash(elf, sz, 0);
		if (i < 32)
			memo[i].elf = elf, memo[i].sz = sz, memo[i].h = h;
	}

	for (const struct nfc_field *f = n->type->config; f && f->name; f++) {
		char *s;

		if (!nfc_field_reloads(f))
			continue;
		s = json_dumps(json_object_get(n->config, f->name),
			       JSON_ENCODE_ANY | JSON_COMPACT);
		h = nfci_hash(f->name, strlen(f->name), h);
		if (s)
			h = nfci_hash(s, strlen(s), h);
		free(s);
	}
	/* mode auto names its hook: a new pick is a new program. */
	snprintf(buf, len, "%s:%s%s%s:%016llx", n->type->name, n->mode,
		 strcmp(n->mode, "auto") ? "" : "-",
		 strcmp(n->mode, "auto") ? "" : nfci_hook_name(nf_hook(n)),
		 (unsigned long long)h);
}

/* Every map of the object that is the NF's own (neither shared nor
 * internal), however many it has; NULL if out of memory. Called before
 * dp_bind_maps: once bound, shared maps take the names of the pinned ones
 * and would no longer be told apart. */
struct bpf_map **dp_own_maps(struct bpf_object *obj, int hook, int *n)
{
	struct bpf_map *map, **own;
	int all = 0;

	bpf_object__for_each_map (map, obj)
		all++;
	own = calloc(all ? all : 1, sizeof(*own));
	*n = 0;
	if (!own)
		return NULL;
	bpf_object__for_each_map (map, obj)
		if (!bpf_map__is_internal(map) &&
		    dp_shared_index(bpf_map__name(map), hook) < 0)
			own[(*n)++] = map;
	return own;
}

/* The config fields declared with bpf_const, into the object's .rodata. */
static int set_bpf_consts(struct nfc *nfc, const struct mnf *n,
			  struct bpf_object *obj)
{
	for (const struct nfc_field *f = n->type->config; f && f->name; f++) {
		json_t *v;
		__u32 val;

		if (!f->bpf_const)
			continue;
		v = json_object_get(n->config, f->name);
		val = json_is_integer(v) ? (__u32)json_integer_value(v)
					 : json_is_true(v);
		if (set_rodata_impl(obj, f->bpf_const, val))
			return nfci_err(
				nfc, ENOENT,
				"NF %s: config field %s: its object has "
				"no const volatile %s",
				n->name, f->name, f->bpf_const);
	}
	return 0;
}

int dp_nf_load(struct nfc *nfc, struct model *m, int id)
{
	struct mnf *n = &m->nfs[id];
	int hook = nf_hook(n), fd, r;
	struct bpf_program *prog;
	struct bpf_object *obj;
	char dir[400], path[512];
	struct bpf_map *map, **own = NULL;
	int nown = 0;
	const void *elf;
	size_t sz;

	elf = dp_type_elf(n->type, hook, &sz);
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = n->name);
	bpflog_reset();
	obj = bpf_object__open_mem(elf, sz, &oo);
	if (!obj)
		return nfci_err(nfc, errno, "NF %s: open %s object: %s",
				n->name, n->type->name, strerror(errno));
	dp_nf_dir(nfc, id, n->name, dir, sizeof(dir));
	if (set_rodata_impl(obj, "nfc_self", id) ||
	    set_rodata_impl(obj, "nfc_transparent",
			    !!(n->type->flags & NFC_TYPE_TRANSPARENT))) {
		r = nfci_err(nfc, EINVAL,
			     "NF %s: its object lacks the nfchain contract "
			     "(nfc_self)",
			     n->name);
		goto fail;
	}
	/* Its own maps now: once bound, shared maps take the pinned names. */
	own = dp_own_maps(obj, hook, &nown);
	if (!own) {
		r = nfci_err(nfc, ENOMEM, "NF %s: list its maps: %s", n->name,
			     strerror(ENOMEM));
		goto fail;
	}
	r = dp_bind_maps(nfc, obj, hook, dir);
	if (r)
		goto fail;
	r = set_bpf_consts(nfc, n, obj);
	if (r)
		goto fail;
	if (n->type->prepare) {
		r = n->type->prepare(&nfc->handles[id], obj);
		if (r)
			goto fail;
	}
	r = bpf_object__load(obj);
	if (r) {
		r = nfci_err(nfc, r,
			     "NF %s: the kernel refused its program: %s",
			     n->name, bpflog_tail());
		goto fail;
	}
	prog = bpf_object__find_program_by_name(obj, "nfc_entry");
	if (!prog) {
		r = nfci_err(nfc, ENOENT, "NF %s: no nfc_entry program",
			     n->name);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/map", dir);
	r = nfci_mkdirs(path);
	if (r) {
		r = nfci_err(nfc, r, "NF %s: create %s: %s", n->name, path,
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
			r = nfci_err(nfc, errno, "NF %s: pin %s: %s", n->name,
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
			nfci_mkdirs(path);
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
	dp_close_fds(&nfc->rt[id]);
	nfc->rt[id].prog_fd = fd;
	nfc->rt[id].obj = obj;
	dp_nf_sig(n, n->sig, sizeof(n->sig));
	free(own);
	return 0;
fail:
	free(own);
	bpf_object__close(obj);
	return r;
}

void dp_nf_unload(struct nfc *nfc, const struct mnf *n, int id)
{
	char dir[400];

	if (n->type->removed)
		n->type->removed(&nfc->handles[id], n->name);
	if (n->type->destroy)
		n->type->destroy(&nfc->handles[id]);
	nfc->rt[id].priv = NULL;
	if (nfc->rt[id].prog_fd >= 0)
		close(nfc->rt[id].prog_fd);
	if (nfc->rt[id].obj)
		bpf_object__close(nfc->rt[id].obj);
	dp_close_fds(&nfc->rt[id]);
	nfc->rt[id].prog_fd = -1;
	nfc->rt[id].obj = NULL;
	nfci_rmtree(dp_nf_dir(nfc, id, n->name, dir, sizeof(dir)));
}
