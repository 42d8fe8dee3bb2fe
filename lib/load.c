// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loading an NF: open its object (built in, or the file it was upgraded
 * to), set its load-time constants, bind its maps to the pins, load it, and pin
 * its program, its other programs and its own maps under
 * <root>/nf/<id>-<name>/. A reload is the same call: the own maps are reused
 * from their pins and the program pin is swapped by rename, so state and the
 * running path survive.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "dataplane.h"

/* Where `var`, a `const volatile` global of at least `want` bytes, lies in
 * the object's .rodata image (set before load). The one lookup of the
 * runtime: built-in NFs' constants and loaded types' config fields. */
int nfci_rodata_var(struct bpf_object *obj, const char *var, void **at,
		    size_t want)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	size_t size;
	char *data;
	long off;

	/* .rodata itself, not .rodata.str1.1 (string literals). */
	bpf_object__for_each_map (map, obj)
		if (bpf_map__is_internal(map) &&
		    strstr(bpf_map__name(map), ".rodata") &&
		    !strstr(bpf_map__name(map), ".str"))
			break;
	if (!map || !btf)
		return -ENOENT;
	data = (char *)bpf_map__initial_value(map, &size);
	off = data ? nfci_datasec_off(btf, ".rodata", var, want, size)
		   : -ENOENT;
	if (off < 0)
		return -ENOENT;
	*at = data + off;
	return 0;
}

long nfci_datasec_off(const struct btf *btf, const char *secname,
		      const char *var, size_t want, size_t size)
{
	int id = btf__find_by_name_kind(btf, secname, BTF_KIND_DATASEC);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;

	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (!strcmp(btf__name_by_offset(btf, v->name_off), var) &&
		    vs->offset + want <= size)
			return vs->offset;
	}
	return -ENOENT;
}

static int set_rodata_impl(struct bpf_object *obj, const char *var, __u32 val)
{
	void *at;
	int r = nfci_rodata_var(obj, var, &at, sizeof(val));

	if (!r)
		memcpy(at, &val, sizeof(val));
	return r;
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
 * An NF's object: the one built into the library, or the file it was
 * upgraded to (mnf.obj, nfc_nf_upgrade). A file is read once and kept, by
 * path, size and time, with its hash: the daemon gives each upgrade a file
 * of its own. A kept file whose path now holds another, or that is gone
 * (the store prunes what no NF names), is dropped when a file is read: they
 * were kept for good, ~77 KB an upgrade (found by a helper).
 */
struct obj_file {
	struct obj_file *next;
	char path[256];
	off_t size;
	struct timespec mtime;
	void *data;
	uint64_t h;
	int hashed;
};
static struct obj_file *obj_files;

static void obj_files_drop_stale(const char *path)
{
	struct obj_file **pp = &obj_files, *o;
	struct stat st;

	while ((o = *pp)) {
		if (!strcmp(o->path, path) || stat(o->path, &st) ||
		    st.st_size != o->size ||
		    st.st_mtim.tv_sec != o->mtime.tv_sec ||
		    st.st_mtim.tv_nsec != o->mtime.tv_nsec) {
			*pp = o->next;
			free(o->data);
			free(o);
			continue;
		}
		pp = &o->next;
	}
}

static struct obj_file *file_get(const char *path)
{
	struct obj_file *o;
	struct stat st;
	FILE *f;

	if (stat(path, &st))
		return NULL;
	for (o = obj_files; o; o = o->next)
		if (!strcmp(o->path, path) && o->size == st.st_size &&
		    o->mtime.tv_sec == st.st_mtim.tv_sec &&
		    o->mtime.tv_nsec == st.st_mtim.tv_nsec)
			return o;
	if (st.st_size <= 0) {
		errno = ENOEXEC;
		return NULL;
	}
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (o)
		o->data = malloc(st.st_size);
	if (!o || !o->data ||
	    fread(o->data, 1, st.st_size, f) != (size_t)st.st_size) {
		if (o)
			free(o->data);
		free(o);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	obj_files_drop_stale(path);
	snprintf(o->path, sizeof(o->path), "%s", path);
	o->size = st.st_size;
	o->mtime = st.st_mtim;
	o->next = obj_files;
	obj_files = o;
	return o;
}

const void *dp_nf_elf(const struct mnf *n, size_t *sz)
{
	int hook = nf_hook(n);

	if (n->obj[0]) {
		struct obj_file *o = file_get(n->obj);

		*sz = o ? (size_t)o->size : 0;
		return o ? o->data : NULL;
	}
	if (!n->type->elf_xdp && !n->type->elf_tc) /* a loaded type */
		return nfci_dyn_elf(n->type, hook, sz);
	return hook == HOOK_TC ? n->type->elf_tc(sz) : n->type->elf_xdp(sz);
}

/* The hash of an NF's object. Hashing one is ~100 KB of work: once per
 * object, not once per NF and change; a file's is kept with it, the
 * library's and a loaded type's (which live as long as the process or
 * the type) by address. 0: no object. */
static uint64_t obj_hash(const struct mnf *n)
{
	static struct {
		const void *elf;
		size_t sz;
		uint64_t h;
	} memo[32];
	size_t sz = 0;
	const void *elf;
	int i;

	if (n->obj[0]) {
		struct obj_file *o = file_get(n->obj);

		if (o && !o->hashed) {
			o->h = nfci_hash(o->data, o->size, 0);
			o->hashed = 1;
		}
		return o ? o->h : 0;
	}
	elf = dp_nf_elf(n, &sz);
	if (!elf)
		return 0;
	for (i = 0; i < 32 && memo[i].elf; i++)
		if (memo[i].elf == elf && memo[i].sz == sz)
			return memo[i].h;
	if (i < 32) {
		memo[i].elf = elf, memo[i].sz = sz;
		memo[i].h = nfci_hash(elf, sz, 0);
		return memo[i].h;
	}
	return nfci_hash(elf, sz, 0);
}

/* The load signature: what the program was built from. Config fields
 * marked NFC_FIELD_RELOAD are compiled into it as constants. */
void dp_nf_sig(const struct mnf *n, char *buf, size_t len)
{
	uint64_t h = obj_hash(n);

	/* An upgraded NF's file gone (nfctl names it where the user left
	 * it): the pinned program still runs and stays; only a load that
	 * must happen (no pins, a boot) fails, saying which file. */
	if (!h && n->sig[0]) {
		if (buf != n->sig)
			snprintf(buf, len, "%s", n->sig);
		return;
	}
	if (!h)
		h = nfci_hash(n->obj, strlen(n->obj), 0);

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

/* The object's SHA-256, once per object: a reload for a config change
 * (counter's mark=) loads the same object again. */
static void obj_sha(const void *elf, size_t sz, char out[65])
{
	static struct {
		const void *elf;
		size_t sz;
		char hex[65];
	} memo[32];
	static int next;
	int i;

	for (i = 0; i < 32; i++)
		if (memo[i].elf == elf && memo[i].sz == sz) {
			memcpy(out, memo[i].hex, 65);
			return;
		}
	nfci_sha256_hex(elf, sz, out);
	i = next++ % 32;
	memo[i].elf = elf;
	memo[i].sz = sz;
	memcpy(memo[i].hex, out, 65);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);

	return fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static __u32 pinned_id(const char *path)
{
	int fd = bpf_obj_get(path);
	__u32 id = map_id(fd);

	if (fd >= 0)
		close(fd);
	return id;
}

static int own_has(struct bpf_map **own, int nown, const char *name)
{
	for (int i = 0; i < nown; i++)
		if (!strcmp(bpf_map__name(own[i]), name))
			return 1;
	return 0;
}

/*
 * A reload whose object names other maps than those pinned (one added,
 * one gone) changes the NF's state layout: refused, unless the change
 * says to migrate (the new ones start empty, the old ones' pins go).
 * A first load (no pinned maps) has nothing to compare.
 */
/* Whether a built-in NF moves to the other hook: its pinned program is
 * of the other type. Its type's two objects may differ in maps (the
 * bridge's br_flood devmap is XDP's only, the filter has a jump table a
 * hook): the maps of the hook it leaves stay pinned (other_obj), those
 * of the hook it goes to start empty the first time, and configure()
 * fills them as after a first load. */
static int hook_moves(const struct mnf *n, const char *dir, int hook)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);
	char path[512];
	int fd, moves = 0;

	if (n->obj[0])
		return 0; /* a user's object: one hook's build */
	snprintf(path, sizeof(path), "%s/prog", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		moves = info.type != (hook == HOOK_TC ? BPF_PROG_TYPE_SCHED_CLS
						      : BPF_PROG_TYPE_XDP);
	close(fd);
	return moves;
}

/* The type's object for the other hook (a built-in NF's): the maps it
 * has that this one lacks are the NF's too, pinned while it ran there
 * (the filter's jump table of that hook). Kept, not counted as gone: a
 * refused move's way back, and a move back, find them as they were,
 * instead of an empty jump table that dropped every packet until the
 * change ended. NULL for a user's object. */
static struct bpf_object *other_obj(const struct mnf *n, int hook)
{
	const void *(*elf_of)(size_t *) =
		hook == HOOK_TC ? n->type->elf_xdp : n->type->elf_tc;
	const void *elf;
	size_t sz;

	if (n->obj[0] || !elf_of || !(elf = elf_of(&sz)))
		return NULL;
	return bpf_object__open_mem(elf, sz, NULL);
}

static int names_check(struct nfc *nfc, const struct mnf *n,
		       struct bpf_map **own, int nown, const char *dir,
		       int moves, struct bpf_object *other)
{
	char path[512], gone[200] = "", added[200] = "";
	size_t og = 0, oa = 0;
	struct dirent *e;
	int pinned = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/map", dir);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		pinned++;
		if (!own_has(own, nown, e->d_name) &&
		    !(other &&
		      bpf_object__find_map_by_name(other, e->d_name)) &&
		    og < sizeof(gone))
			og += snprintf(gone + og, sizeof(gone) - og, "%s%s",
				       og ? " " : "", e->d_name);
	}
	closedir(d);
	for (int i = 0; i < nown && pinned; i++) {
		const char *name = bpf_map__name(own[i]);

		snprintf(path, sizeof(path), "%s/map/%s", dir, name);
		if (access(path, F_OK) && oa < sizeof(added))
			oa += snprintf(added + oa, sizeof(added) - oa, "%s%s",
				       oa ? " " : "", name);
	}
	if (!og && !oa)
		return 0;
	if (n->migrate || moves)
		return 0;
	/* Only maps added to the object built into this nfchain (a newer
	 * build adopting an older one's pins): no contents are lost, and
	 * the NF's control plane, of the same build, fills them (nf/ddos
	 * moves its blocklist into maps it added). Refused, the daemon could
	 * not start on the pins, and nothing could upgrade the NF. */
	if (!og && !n->obj[0])
		return 0;
	return nfci_err(nfc, EEXIST,
			"NF %s: its new object has other maps than the "
			"running one (%s%s%s%s%s): their contents cannot be "
			"kept; the same upgrade with migrate=recreate "
			"(`nfchain %s upgrade %smigrate=recreate`) "
			"starts them empty",
			n->name, oa ? "new: " : "", added, oa && og ? "; " : "",
			og ? "gone: " : "", gone, n->name,
			n->obj[0] ? "-f FILE " : "");
}

/* After a migration: the pins of maps the new object no longer has. */
static void drop_stale_pins(const char *dir, struct bpf_map **own, int nown,
			    struct bpf_object *other)
{
	char path[800];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/map", dir);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || own_has(own, nown, e->d_name) ||
		    (other && bpf_object__find_map_by_name(other, e->d_name)))
			continue;
		snprintf(path, sizeof(path), "%s/map/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

/* The config fields declared with bpf_const, into the object's .rodata. */
static int set_bpf_consts(struct nfc *nfc, const struct mnf *n,
			  struct bpf_object *obj)
{
	for (const struct nfc_field *f = n->type->config; f && f->name; f++) {
		json_t *v;
		__u32 val;

		if (!f->bpf_const || nfc_field_runtime(f))
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

/* Every program of `obj` is of `hook`'s type. The first program to use
 * a program array makes it that type's for good: an object of the other
 * hook, loaded, once left progs_xdp a TC array, and every XDP NF failed to
 * load after it until the pin root went. */
static int obj_hook_check(struct nfc *nfc, const struct mnf *n,
			  struct bpf_object *obj, int hook)
{
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, obj) {
		int tc = bpf_program__type(prog) == BPF_PROG_TYPE_SCHED_CLS;

		if (tc != (hook == HOOK_TC) ||
		    (!tc && bpf_program__type(prog) != BPF_PROG_TYPE_XDP))
			return nfci_err(nfc, EINVAL,
					"NF %s: its object%s%s is not %s build "
					"(program %s): the NF runs in the %s "
					"hook",
					n->name, n->obj[0] ? " " : "", n->obj,
					hook == HOOK_TC ? "a TC" : "an XDP",
					bpf_program__name(prog),
					hook == HOOK_TC ? "TC" : "XDP");
	}
	return 0;
}

/* NF n's object for its hook, read (*elf, *sz) and opened (parsed only),
 * or the error a load would give; *obj NULL when it cannot be opened. */
static int nf_obj_open(struct nfc *nfc, const struct mnf *n,
		       struct bpf_object **obj, const void **elfp, size_t *szp)
{
	int hook = nf_hook(n);
	const void *elf;
	size_t sz;

	*obj = NULL;
	errno = 0;
	elf = dp_nf_elf(n, &sz);
	*elfp = elf;
	*szp = sz;
	/* A loaded type given one hook's build only, its NF pulled into the
	 * other hook (linked to a TC NF): "read its object : Resource
	 * temporarily unavailable" said nothing of that (found by a
	 * helper). */
	if (!elf && !n->obj[0])
		return nfci_err(nfc, EINVAL,
				"NF %s: type %s has no %s build (it was "
				"loaded without one): it cannot run in the %s "
				"hook, nor with NFs that do",
				n->name, n->type->name,
				hook == HOOK_TC ? "TC" : "XDP",
				hook == HOOK_TC ? "TC" : "XDP");
	if (!elf)
		return nfci_err(nfc, errno ? errno : EIO,
				"NF %s: read its object %s: %s", n->name,
				n->obj, strerror(errno ? errno : EIO));
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = n->name);
	bpflog_reset();
	*obj = bpf_object__open_mem(elf, sz, &oo);
	if (!*obj)
		return nfci_err(nfc, errno, "NF %s: open %s object%s%s: %s",
				n->name, n->type->name, n->obj[0] ? " " : "",
				n->obj, strerror(errno));
	return 0;
}

int dp_nf_obj_check(struct nfc *nfc, const struct mnf *n)
{
	struct bpf_object *obj;
	const void *elf;
	size_t sz;
	int r;

	/* A built-in type's builds are its own, and a loaded type's were
	 * checked when it was loaded: only a missing one can fail here. */
	if (!n->obj[0] && dp_nf_elf(n, &sz))
		return 0;
	r = nf_obj_open(nfc, n, &obj, &elf, &sz);
	if (!r)
		r = obj_hook_check(nfc, n, obj, nf_hook(n));
	bpf_object__close(obj);
	return r;
}

int dp_nf_load(struct nfc *nfc, struct model *m, int id)
{
	struct mnf *n = &m->nfs[id];
	int hook = nf_hook(n), fd, r, moves;
	struct bpf_object *other = NULL;
	struct bpf_program *prog;
	struct bpf_object *obj;
	char dir[400], path[512];
	struct bpf_map *map, **own = NULL;
	struct bpf_object *parts[2] = {NULL, NULL};
	int nown = 0;
	const void *elf;
	size_t sz;

	r = nf_obj_open(nfc, n, &obj, &elf, &sz);
	if (r)
		return r;
	r = obj_hook_check(nfc, n, obj, hook);
	if (r)
		goto fail;
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
	moves = hook_moves(n, dir, hook);
	/* A migrate starts every map anew: the other hook's go too. */
	other = n->migrate ? NULL : other_obj(n, hook);
	r = names_check(nfc, n, own, nown, dir, moves, other);
	if (r)
		goto fail;
	nfc->migrating = n->migrate;
	r = dp_bind_maps(nfc, obj, hook, dir);
	nfc->migrating = 0;
	if (r) {
		if (strncmp(nfc->err, "NF ", 3)) {
			char keep[sizeof(nfc->err)];

			memcpy(keep, nfc->err, sizeof(keep));
			nfci_err(nfc, r, "NF %s: %.900s", n->name, keep);
		}
		goto fail;
	}
	r = set_bpf_consts(nfc, n, obj);
	if (!r)
		r = dp_cfg_vars_init(nfc, n, obj);
	if (r)
		goto fail;
	if (n->type->prepare) {
		r = n->type->prepare(&nfc->handles[id], obj);
		if (r)
			goto fail;
	}
	r = dp_load_progs(nfc, n, obj, elf, sz, parts);
	if (r)
		goto fail;
	prog = dp_loaded_prog(obj, parts, "nfc_entry");
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
		if (access(path, F_OK) == 0) {
			/* Reused, or recreated (migrate): then the new one
			 * takes the pin, by rename, only now it is loaded. */
			if (pinned_id(path) == map_id(bpf_map__fd(map)))
				continue;
			r = pin_prog(nfc, bpf_map__fd(map), path);
			if (r)
				goto fail;
			continue;
		}
		if (bpf_obj_pin(bpf_map__fd(map), path)) {
			r = nfci_err(nfc, errno, "NF %s: pin %s: %s", n->name,
				     path, strerror(errno));
			goto fail;
		}
	}
	/* Other programs of the object (devmap egress programs and the like)
	 * are pinned too, so that an adopting process can hand them out. */
	for (int i = 0; i < 3; i++) {
		struct bpf_object *in = i ? parts[i - 1] : obj;
		struct bpf_program *o;

		if (!in)
			continue;
		bpf_object__for_each_program (o, in) {
			if (o == prog || bpf_program__fd(o) < 0)
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
	/* A split load's programs are not in `obj`: their fds stay in the
	 * cache dp_nf_prog_fd looks in after it. */
	for (int i = 0; i < 2; i++) {
		struct bpf_program *o;

		if (!parts[i])
			continue;
		bpf_object__for_each_program (o, parts[i]) {
			char key[64];
			int pfd = bpf_program__fd(o);

			if (pfd < 0)
				continue;
			snprintf(key, sizeof(key), "/%s", bpf_program__name(o));
			pfd = dup(pfd);
			if (pfd >= 0)
				dp_fd_add(&nfc->rt[id], key, pfd);
		}
		bpf_object__close(parts[i]);
		parts[i] = NULL;
	}
	if (n->migrate || moves)
		drop_stale_pins(dir, own, nown, other);
	n->migrate = 0;
	dp_nf_sig(n, n->sig, sizeof(n->sig));
	obj_sha(elf, sz, n->obj_sha);
	free(own);
	bpf_object__close(other);
	return 0;
fail:
	free(own);
	bpf_object__close(other);
	bpf_object__close(parts[0]);
	bpf_object__close(parts[1]);
	bpf_object__close(obj);
	return r;
}

/* The `removed` calls an apply deferred: made once it is accepted (run),
 * else dropped (the NFs came back). By then the NF's slot may hold
 * another NF: the call sees no private data (nfc_nf_priv NULL), as the
 * NF was destroyed. An NF of that name and type back in the model keeps
 * its files. */
void nfci_removed_run(struct nfc *nfc, int run)
{
	for (int i = 0; run && i < nfc->nremoved; i++) {
		struct removed_nf *d = &nfc->removed[i];
		int id = model_find_nf(nfc->m, d->name);
		void *keep = nfc->rt[d->id].priv;

		if (id >= 0 && nfc->m->nfs[id].type == d->type)
			continue;
		nfc->rt[d->id].priv = NULL;
		d->type->removed(&nfc->handles[d->id], d->name);
		nfc->rt[d->id].priv = keep;
	}
	nfc->nremoved = 0;
}

void dp_nf_unload(struct nfc *nfc, const struct mnf *n, int id)
{
	char dir[400];

	if (n->type->removed && !nfc->undoing && nfc->defer_removed) {
		if (nfc->nremoved < NFC_MAX_NFS) {
			struct removed_nf *d = &nfc->removed[nfc->nremoved++];

			d->type = n->type;
			d->id = id;
			snprintf(d->name, sizeof(d->name), "%s", n->name);
		}
	} else if (n->type->removed && !nfc->undoing) {
		n->type->removed(&nfc->handles[id], n->name);
	}
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
