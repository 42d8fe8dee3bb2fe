// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's one store of the files the data plane runs (docs/sdk.md):
 * <state-dir>/objects/<sha256><suffix>, an upgrade's object (named in the
 * saved state), a loaded type's objects and its plugin (types/<name>/ holds
 * links to them). Named by content, a file is kept once however many NFs
 * and types use it, and never rewritten in place while it runs (a plugin
 * is mapped from it). What nothing names any more goes (objstore_prune),
 * a week after it was last named (an export taken as a backup names it).
 *
 * State dirs of earlier versions are read as they are: objects/<nf>-XXXXXX
 * .bpf.o named in the state, and types/<name>/ holding the files
 * themselves, are loaded by those names and kept while something uses them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nfchain/nfchain.h"
#include "api_int.h"

static int copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return errno ? -errno : -EIO;
	if (n < 0)
		return -errno;
	return fsync(out) ? -errno : 0;
}

int objstore_put(const char *dir, const char *src, const char *suffix,
		 char *out, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX], sha[65];
	struct stat st;
	int in, fd, r, made = !mkdir(dir, 0700);

	if (!made && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "create %s: %s", dir, strerror(-r));
		return r;
	}
	in = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (in < 0 || fstat(in, &st) || !S_ISREG(st.st_mode)) {
		r = in < 0 ? -errno : -EINVAL;
		snprintf(err, errlen, "%s: %s", src,
			 r == -EINVAL ? "not a regular file" : strerror(-r));
		if (in >= 0)
			close(in);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/.in-XXXXXX", dir);
	fd = mkstemp(tmp);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "create a copy in %s: %s", dir,
			 strerror(-r));
		close(in);
		goto out;
	}
	r = copy_fd(in, fd);
	close(fd);
	close(in);
	/* The copy's hash, not the source's: the user's file may change. */
	if (!r)
		r = nfc_sha256_file(tmp, sha);
	if (!r) {
		struct stat old;
		int had;

		snprintf(out, len, "%s/%s%s", dir, sha, suffix);
		had = !stat(out, &old);
		/* Renamed over one already there, not trusted by its name:
		 * a copy corrupted since kept failing every restart while
		 * the load that brought the good file succeeded (found by a
		 * helper). Atomic, and a plugin mapped from the old file
		 * keeps its inode. */
		if (rename(tmp, out))
			r = -errno;
		/* With the old one's mode and times: they say whether an
		 * accepted state names it (objstore_prune). The new copy's
		 * 0600 ("never named") made a refused call's prune delete
		 * a retired file an export backup names (found by a
		 * helper). */
		if (!r && had) {
			struct timespec t[2] = {old.st_atim, old.st_mtim};

			chmod(out, old.st_mode & 0777);
			utimensat(AT_FDCWD, out, t, 0);
		}
	}
	if (r) {
		snprintf(err, errlen, "copy %s into %s: %s", src, dir,
			 strerror(-r));
		unlink(tmp);
	}
out:
	/* A refused call leaves no trace: the directory it made goes (only
	 * if empty, so never a file another call put there). */
	if (r && made)
		rmdir(dir);
	return r;
}

/* The store's names the types use: types/<name>/{obj0,obj1,plugin} links. */
static int used_by_type(const char *state_dir, const char *base)
{
	static const char *const files[] = {"obj0.bpf.o", "obj1.bpf.o",
					    "plugin.so"};
	char dir[PATH_MAX], p[PATH_MAX + 300], l[PATH_MAX];
	struct dirent *e;
	int used = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/types", state_dir);
	d = opendir(dir);
	while (d && !used && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (int i = 0; i < 3 && !used; i++) {
			ssize_t n;
			const char *b;

			snprintf(p, sizeof(p), "%s/%.255s/%s", dir, e->d_name,
				 files[i]);
			n = readlink(p, l, sizeof(l) - 1);
			if (n <= 0)
				continue;
			l[n] = 0;
			b = strrchr(l, '/');
			used = !strcmp(b ? b + 1 : l, base);
		}
	}
	if (d)
		closedir(d);
	return used;
}

/* The saved state (state.json) as text, mapped: a state that is not
 * running yet (a netdev missing at start) names objects the running model
 * does not, and they must stay. */
static const char *saved_state(const char *state_dir, size_t *len)
{
	char p[PATH_MAX];
	struct stat st;
	void *m;
	int fd;

	*len = 0;
	if (!state_dir)
		return NULL;
	snprintf(p, sizeof(p), "%s/state.json", state_dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	m = fstat(fd, &st) || st.st_size <= 0
		    ? MAP_FAILED
		    : mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return NULL;
	*len = st.st_size;
	return m;
}

/* A file the state named is marked in use (mode 0444); when nothing names
 * it any more it is retired (0400, its mtime the moment it was let go) and
 * removed a week later: an export taken as a backup names the copy, and
 * the copy went with the NF's delete, so that the backup could not be
 * applied (found by a helper). A file no accepted state ever named (a
 * refused upgrade's copy, one a crash cut short) goes at once. */
#define OBJ_IN_USE 0444
#define OBJ_RETIRED 0400
#define OBJ_KEEP_S (7 * 24 * 3600)

static int prune_one(const char *path, int used)
{
	struct stat st;
	mode_t m;

	if (stat(path, &st))
		return 0;
	m = st.st_mode & 0777;
	if (used)
		return m == OBJ_IN_USE ? 0 : chmod(path, OBJ_IN_USE);
	if (m == OBJ_IN_USE) {
		chmod(path, OBJ_RETIRED);
		return utimensat(AT_FDCWD, path, NULL, 0);
	}
	if (m == OBJ_RETIRED && time(NULL) - st.st_mtime < OBJ_KEEP_S)
		return 0;
	return unlink(path);
}

void objstore_prune(struct api *api, struct nfc *nfc)
{
	const char *dir = api->obj_dir, *saved;
	json_t *doc = dir ? nfc_export(nfc) : NULL, *nf;
	char path[PATH_MAX + 300];
	struct dirent *e;
	size_t i, slen;
	DIR *d;

	if (!doc)
		return;
	saved = saved_state(api->state_dir, &slen);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		int used = 0;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		/* .in-XXXXXX: a copy a crash cut short. */
		if (e->d_name[0] != '.') {
			json_array_foreach (json_object_get(doc, "nfs"), i,
					    nf) {
				const char *o = json_string_value(
					json_object_get(nf, "object"));

				used |= o && !strcmp(o, path);
			}
			used = used ||
			       (api->state_dir &&
				used_by_type(api->state_dir, e->d_name));
			used = used || (saved && memmem(saved, slen, e->d_name,
							strlen(e->d_name)));
		}
		if (e->d_name[0] == '.')
			unlink(path);
		else
			prune_one(path, used);
	}
	if (d)
		closedir(d);
	if (saved)
		munmap((void *)saved, slen);
	json_decref(doc);
}
