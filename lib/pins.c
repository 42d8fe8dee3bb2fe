// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pin root: where every pin lives, the maps shared by every NF, and the
 * file descriptors this process holds for NFs it loaded or adopted from
 * pins. Loading is load.c, netdev hooks stubs.c, reconcile reconcile.c.
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
#include <bpf/libbpf.h>

#include "internal.h"
#include "dataplane.h"
#include "stub_xdp.skel.h"

static const char *const shared_names[SM_COUNT] = {
	[SM_PROGS_XDP] = "progs_xdp", [SM_PROGS_TC] = "progs_tc",
	[SM_LINKS] = "links",	      [SM_STUBS] = "stubs",
	[SM_META] = "meta",	      [SM_STATS] = "stats",
	[SM_GLOBAL] = "global",	      [SM_DEVMAP] = "devmap",
	[SM_RING] = "ring",	      [SM_SCRATCH] = "scratch",
	[SM_IFPORTS] = "ifports",
};

/* The BPF-side name of each shared map (nfchain.bpf.h). */
int dp_shared_index(const char *bpf_name, int hook)
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

int dp_pin_path(struct nfc *nfc, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int dp_pin_path(struct nfc *nfc, char *buf, size_t len, const char *fmt, ...)
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
	dp_pin_path(nfc, buf, len, "nf/%d-%s", id,
		    name); /* bpffs refuses dots */
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

	bpflog_install();
	skel = stub_xdp__open();
	if (!skel)
		return nfci_err(nfc, errno, "open the stub object: %s",
				strerror(errno));
	bpf_object__for_each_map (map, skel->obj) {
		int sm = dp_shared_index(bpf_map__name(map), HOOK_XDP);
		int copies = sm == SM_PROGS_XDP ? 2 : 1;

		for (int c = 0; c < copies && sm >= 0; c++) {
			int idx = sm + c, fd;

			dp_pin_path(nfc, path, sizeof(path), "%s",
				    shared_names[idx]);
			fd = bpf_obj_get(path);
			if (fd < 0) {
				fd = bpf_map_create(
					bpf_map__type(map), shared_names[idx],
					bpf_map__key_size(map),
					bpf_map__value_size(map),
					bpf_map__max_entries(map), NULL);
				if (fd < 0 || bpf_obj_pin(fd, path)) {
					r = nfci_err(nfc, errno,
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

/*
 * A pinned map is reused only if the object declares it the same way:
 * 0 same, 1 differs and the change may recreate it (migrate), or the
 * error naming what differs. Not max_entries: NFs size some maps from
 * their config (fdb_size, conntrack_size), and a reused map keeps its own. An
 * upgrade whose maps changed shape must say what becomes of their contents; the
 * pins of an older build too.
 */
static int layout_check(struct nfc *nfc, struct bpf_map *map, int fd,
			const char *path)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	char what[160] = "";
	size_t o = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0; /* let the reuse say why */
#define DIFF(field, now)                                                   \
	if (info.field != (now))                                           \
		o += snprintf(what + o, sizeof(what) - o, "%s%s %u -> %u", \
			      o ? ", " : "", #field, info.field,           \
			      (unsigned)(now));
	DIFF(type, bpf_map__type(map));
	DIFF(key_size, bpf_map__key_size(map));
	DIFF(value_size, bpf_map__value_size(map));
#undef DIFF
	if (!o)
		return 0;
	if (nfc->migrating)
		return 1;
	return nfci_err(nfc, EEXIST,
			"map %s changed its layout (%s): its contents cannot "
			"be kept; the same upgrade with migrate=recreate "
			"(`nfchain <nf> upgrade -f FILE migrate=recreate`) "
			"starts it empty",
			path, what);
}

/* The program type a program array was first used by (fdinfo's
 * owner_prog_type): it takes programs of that type only, for good. -1:
 * not used yet, or not said. No libbpf call gives it. */
static int owner_type(int fd)
{
	char path[64], line[128];
	int t = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "owner_prog_type: %d", &t) == 1)
			break;
	if (f)
		fclose(f);
	return t;
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
		int sm = dp_shared_index(name, hook), fd, r;

		if (sm >= 0) {
			r = bpf_map__reuse_fd(map, nfc->map_fd[sm]);
			if (r)
				return nfci_err(nfc, r, "bind map %s: %s", name,
						strerror(-r));
			continue;
		}
		if (bpf_map__is_internal(map) || !nf_dir)
			continue;
		snprintf(path, sizeof(path), "%s/map/%s", nf_dir, name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		/* An NF moving to the other hook: its program array holds
		 * the old hook's programs and would refuse the new ones (the
		 * load failed after the verifier). A new one takes its pin
		 * once loaded, and the NF fills it again in configure(), as
		 * after any reload: its programs are all new. */
		if (bpf_map__type(map) == BPF_MAP_TYPE_PROG_ARRAY &&
		    (r = owner_type(fd)) >= 0 &&
		    r != (hook == HOOK_TC ? BPF_PROG_TYPE_SCHED_CLS
					  : BPF_PROG_TYPE_XDP)) {
			close(fd);
			continue;
		}
		r = layout_check(nfc, map, fd, path);
		if (r == 1) { /* migrate=recreate: a new, empty one */
			close(fd);
			continue;
		}
		if (!r) {
			r = bpf_map__reuse_fd(map, fd);
			if (r)
				nfci_err(nfc, r,
					 "reuse map %s: %s (did its definition "
					 "change? the same upgrade with "
					 "migrate=recreate starts it empty)",
					 path, strerror(-r));
		}
		close(fd);
		if (r)
			return r;
	}
	return 0;
}

/*
 * The fds of an adopted NF's maps and programs, opened from their pins on
 * first use and kept until the NF is unloaded. Grown on demand: an NF has
 * as many maps and programs as its object defines, with no cap here.
 */
int dp_fd_find(const struct rnf *rt, const char *name)
{
	for (int i = 0; i < rt->nfds; i++)
		if (!strcmp(rt->fds[i].name, name))
			return rt->fds[i].fd;
	return -ENOENT;
}

/* Takes `fd` over, even on failure (then closed). */
int dp_fd_add(struct rnf *rt, const char *name, int fd)
{
	if (rt->nfds == rt->cap) {
		int cap = rt->cap ? 2 * rt->cap : 8;
		struct rfd *p = realloc(rt->fds, cap * sizeof(*p));

		if (!p) {
			close(fd);
			return -ENOMEM;
		}
		rt->fds = p;
		rt->cap = cap;
	}
	snprintf(rt->fds[rt->nfds].name, sizeof(rt->fds[0].name), "%s", name);
	rt->fds[rt->nfds++].fd = fd;
	return fd;
}

void dp_close_fds(struct rnf *rt)
{
	for (int i = 0; i < rt->nfds; i++)
		close(rt->fds[i].fd);
	free(rt->fds);
	rt->fds = NULL;
	rt->nfds = rt->cap = 0;
}

int dp_nf_prog_fd(struct nfc *nfc, int id, const char *name)
{
	char dir[400], path[512];
	struct rnf *rt = &nfc->rt[id];
	char key[sizeof(rt->fds[0].name)];
	int fd;

	if (rt->obj) {
		struct bpf_program *p =
			bpf_object__find_program_by_name(rt->obj, name);

		if (!p)
			return -ENOENT;
		/* Not loaded there: a split load's (load_split.c), cached. */
		if (bpf_program__fd(p) >= 0)
			return bpf_program__fd(p);
	}
	/* Cached with the adopted maps, under a name no map can have. */
	snprintf(key, sizeof(key), "/%s", name);
	fd = dp_fd_find(rt, key);
	if (fd >= 0)
		return fd;
	dp_nf_dir(nfc, id, nfc->m->nfs[id].name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/progs/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	return dp_fd_add(rt, key, fd);
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
	struct rnf *rt = &nfc->rt[id];
	int sm = dp_shared_index(map, nf_hook(&nfc->m->nfs[id])), fd;

	if (sm >= 0)
		return nfc->map_fd[sm];
	if (rt->obj) {
		struct bpf_map *mp = bpf_object__find_map_by_name(rt->obj, map);

		return mp ? bpf_map__fd(mp) : -ENOENT;
	}
	/* Adopted: open from the pin once; the fd stays ours (borrowed by
	 * the caller) until the NF is unloaded. */
	fd = dp_fd_find(rt, map);
	if (fd >= 0)
		return fd;
	dp_nf_dir(nfc, id, nfc->m->nfs[id].name, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/map/%s", dir, map);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	return dp_fd_add(rt, map, fd);
}

void dp_release(struct nfc *nfc)
{
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		if (nfc->rt[i].prog_fd >= 0)
			close(nfc->rt[i].prog_fd);
		if (nfc->rt[i].obj)
			bpf_object__close(nfc->rt[i].obj);
		dp_close_fds(&nfc->rt[i]);
		nfc->rt[i].prog_fd = -1;
		nfc->rt[i].obj = NULL;
	}
	for (int i = 0; i < SM_COUNT; i++)
		if (nfc->map_fd[i] >= 0) {
			close(nfc->map_fd[i]);
			nfc->map_fd[i] = -1;
		}
}
