// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Opening a pin root, adopting what is there, and the transaction that
 * every change goes through. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "dataplane.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* bpffs is not mounted at boot on these machines: mount it where the pin
 * root lives if nothing is mounted there yet. */
static int ensure_bpffs(struct nfc *nfc)
{
	struct statfs sf;

	if (!statfs("/sys/fs/bpf", &sf) && sf.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return nfci_err(nfc, errno, "mount bpffs on /sys/fs/bpf: %s",
				strerror(errno));
	return 0;
}

static int root_open(struct nfc *nfc)
{
	struct statfs sf;
	int r;

	r = nfci_mkdirs(nfc->root);
	if (r)
		return nfci_err(nfc, r, "create pin root %s: %s", nfc->root,
				strerror(-r));
	if (statfs(nfc->root, &sf) || sf.f_type != BPF_FS_MAGIC)
		return nfci_err(nfc, EINVAL, "pin root %s is not on bpffs",
				nfc->root);
	nfc->lock_fd = open(nfc->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (nfc->lock_fd < 0)
		return nfci_err(nfc, errno, "open %s: %s", nfc->root,
				strerror(errno));
	return 0;
}

static void root_close(struct nfc *nfc)
{
	intent_close(nfc);
	state_log_close(nfc);
	dp_release(nfc);
	if (nfc->state_fd >= 0)
		close(nfc->state_fd);
	if (nfc->gen_fd >= 0)
		close(nfc->gen_fd);
	if (nfc->lock_fd >= 0)
		close(nfc->lock_fd);
	nfc->state_fd = nfc->gen_fd = nfc->lock_fd = -1;
	nfc->gen = nfc->doc_gen = nfc->doc_len = 0;
}

/* The root was removed (the last NF went, here or in another process):
 * start over on a fresh one. */
static int root_check(struct nfc *nfc)
{
	struct stat a, b;

	if (nfc->lock_fd >= 0 && !fstat(nfc->lock_fd, &a) &&
	    !stat(nfc->root, &b) && a.st_ino == b.st_ino && a.st_nlink > 0)
		return 0;
	sp_close(nfc);
	root_close(nfc);
	model_free(nfc->m);
	nfc->m = model_new();
	if (!nfc->m)
		return -ENOMEM;
	return root_open(nfc);
}

int nfci_begin(struct nfc *nfc)
{
	int r;

	if (nfc->in_call++)
		return 0;
	nfc->err[0] = 0;
	/* The root may go (the last NF deleted elsewhere) between the check
	 * and the lock: then the lock is on a dead directory; check again. */
	for (int tries = 0;; tries++) {
		struct stat a, b;

		r = root_check(nfc);
		if (!r)
			r = state_lock(nfc);
		if (r) {
			nfc->in_call--;
			return r;
		}
		if ((!fstat(nfc->lock_fd, &a) && !stat(nfc->root, &b) &&
		     a.st_ino == b.st_ino && a.st_nlink > 0) ||
		    tries == 10)
			break;
		state_unlock(nfc);
	}
	if (nfc->map_fd[SM_LINKS] < 0)
		r = dp_open_shared(nfc);
	if (!r)
		r = state_load(nfc);
	/* A change whose process died may have left the maps ahead of the
	 * model: put what it touched back (intent.c). */
	if (!r)
		r = intent_recover(nfc);
	if (!r)
		r = sp_open(nfc);
	if (r) {
		/* The model may not be the root's (its state refused, e.g. an
		 * NF of a type this process does not know): empty, it would
		 * have the root removed with every pin under it, as a refused
		 * `nfctl show` once did. */
		nfc->keep_root = 1;
		nfci_end(nfc);
		nfc->keep_root = 0;
	}
	return r;
}

/* Read-only calls on a pin root that does not exist see an empty model and
 * create nothing: an idle daemon polling and ticking must not churn bpffs. */
int nfci_begin_ro(struct nfc *nfc)
{
	if (nfc->in_call || !access(nfc->root, F_OK))
		return nfci_begin(nfc);
	nfc->in_call++;
	nfc->absent = 1;
	nfc->err[0] = 0;
	if (nfc->lock_fd >= 0) {
		sp_close(nfc);
		root_close(nfc);
		model_free(nfc->m);
		nfc->m = model_new();
		if (!nfc->m) {
			nfci_end(nfc);
			return -ENOMEM;
		}
	}
	return 0;
}

/* When the model is empty nothing of nfchain may stay pinned: remove the
 * shared maps, the state and the root itself. */
static void remove_if_empty(struct nfc *nfc)
{
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (nfc->m->nfs[i].used)
			return;
	sp_close(nfc);
	intent_close(nfc);
	state_log_close(nfc);
	dp_release(nfc);
	if (nfc->state_fd >= 0)
		close(nfc->state_fd);
	if (nfc->gen_fd >= 0)
		close(nfc->gen_fd);
	nfc->state_fd = nfc->gen_fd = -1;
	sp_remove_inject(nfc);
	nfci_rmtree(nfc->root);
	nfc->gen = nfc->doc_gen = nfc->doc_len = 0;
}

void nfci_end(struct nfc *nfc)
{
	/* Saved or undone by now: what the call noted is done with. */
	if (nfc->in_call == 1) {
		nf_changed_flush(nfc);
		intent_clear(nfc);
	}
	if (--nfc->in_call)
		return;
	if (nfc->absent) {
		nfc->absent = 0;
		return;
	}
	if (!nfc->keep_root)
		remove_if_empty(nfc);
	state_unlock(nfc);
}

/* nfci_transact, begun. */
static int nfci_transact_in(struct nfc *nfc, nfci_edit_fn fn, void *arg)
{
	struct model *old, *new;
	int r;

	old = nfc->m;
	new = model_clone(old);
	if (!new) {
		nfci_end(nfc);
		return nfci_err(nfc, ENOMEM, "out of memory");
	}
	r = fn ? fn(nfc, new, arg) : 0;
	if (!r) {
		/* NF callbacks read the model through nfc->m: let them see the
		 * one being applied. */
		nfc->m = new;
		r = dp_reconcile(nfc, old, new);
		if (!r)
			r = nf_configure_changed(nfc, old, new);
		/* A change the pinned state cannot hold (too large) is not
		 * accepted: it is undone like a refusal of the kernel. */
		if (!r)
			r = state_save_diff(nfc, old);
		nfc->m = old;
		if (r) {
			/* Keep the first error: it is the one the user needs.
			 */
			char keep[sizeof(nfc->err)];

			memcpy(keep, nfc->err, sizeof(keep));
			if (!keep[0])
				snprintf(keep, sizeof(keep), "%s",
					 strerror(-r));
			/* An NF the change reloaded runs the new program,
			 * while `old` still has the signature of its old
			 * one: the way back must load it again, or it stays
			 * in the other hook's program (a refused mode change
			 * left an XDP program in a TC chain, and every later
			 * wiring failed). */
			for (int i = 0; i < NFC_MAX_NFS; i++)
				if (nfc->reloaded[i] && old->nfs[i].used &&
				    new->nfs[i].used &&
				    !strcmp(old->nfs[i].name, new->nfs[i].name))
					old->nfs[i].sig[0] = 0;
			nfc->undoing++;
			dp_reconcile(nfc, new, old);
			nf_configure_changed(nfc, new, old);
			nfc->undoing--;
			memcpy(nfc->err, keep, sizeof(keep));
		}
	}
	if (r) {
		model_free(new);
		nfci_end(nfc);
		return r;
	}
	nfc->m = new;
	model_free(old);
	nfci_end(nfc);
	return 0;
}

int nfci_transact(struct nfc *nfc, nfci_edit_fn fn, void *arg)
{
	int r = nfci_begin(nfc), adopt = nfc->adopt_pending;

	if (r)
		return r;
	/* The pins nfc_open could not adopt read now: this change adopts
	 * them too, as nfc_open would have (a rebuilt program swapped). */
	if (adopt)
		nfc->full_sync = 1;
	r = nfci_transact_in(nfc, fn, arg);
	if (adopt) {
		nfc->full_sync = 0;
		if (!r)
			nfc->adopt_pending = 0;
	}
	return r;
}

/* NF pin directories the model does not name: left by a process killed
 * inside a change that had loaded them (an apply's new NFs) before the
 * state naming them was saved, which the next process rolled back. Their
 * maps stayed in the kernel, and a later NF of that index sat beside
 * them. Under the lock: no other process is inside a change. */
static void sweep_orphans(struct nfc *nfc)
{
	char dir[400], path[700];
	struct dirent *e;
	DIR *d;

	if (nfci_begin(nfc))
		return;
	dp_pin_path(nfc, dir, sizeof(dir), "nf");
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		const char *dash = strchr(e->d_name, '-');
		int id = atoi(e->d_name);

		if (e->d_name[0] == '.' ||
		    (dash && id >= 0 && id < NFC_MAX_NFS &&
		     nfc->m->nfs[id].used &&
		     !strcmp(dash + 1, nfc->m->nfs[id].name)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		nfci_rmtree(path);
	}
	if (d)
		closedir(d);
	nfci_end(nfc);
}

int nfc_open(struct nfc **out, const struct nfc_opts *opts, char *err,
	     size_t errlen)
{
	struct nfc *nfc = calloc(1, sizeof(*nfc));
	const char *root =
		opts && opts->pin_root ? opts->pin_root : NFC_DEFAULT_PIN_ROOT;
	int r;

	if (!nfc)
		return -ENOMEM;
	nfc->lock_fd = nfc->state_fd = nfc->gen_fd = -1;
	for (int i = 0; i < SM_COUNT; i++)
		nfc->map_fd[i] = -1;
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		nfc->rt[i].prog_fd = -1;
		nfc->handles[i].nfc = nfc;
		nfc->handles[i].id = i;
	}
	nfc->inject_fd[0] = nfc->inject_fd[1] = nfc->inject_sock = -1;
	nfc->ep = epoll_create1(EPOLL_CLOEXEC);
	if (strlen(root) >= sizeof(nfc->root) - 64 || root[0] != '/') {
		r = nfci_err(nfc, EINVAL,
			     "pin root '%s': need an absolute path "
			     "under 190 characters",
			     root);
		goto fail;
	}
	snprintf(nfc->root, sizeof(nfc->root), "%s", root);
	nfc->m = model_new();
	r = nfc->m ? ensure_bpffs(nfc) : -ENOMEM;
	if (!r)
		r = root_open(nfc);
	/* Adopt: read the model; a rebuilt NF program (a newer object than
	 * the pinned one) is swapped in now, its maps kept. */
	if (!r) {
		nfc->full_sync = 1;
		r = nfci_transact(nfc, NULL, NULL);
		nfc->full_sync = 0;
		if (r && opts && opts->adopt_later &&
		    !access(nfc->root, F_OK)) {
			if (err)
				snprintf(err, errlen, "%s",
					 nfc->err[0] ? nfc->err : strerror(-r));
			nfc->adopt_pending = 1;
			*out = nfc;
			return 1;
		}
	}
	if (r)
		goto fail;
	sweep_orphans(nfc);
	*out = nfc;
	return 0;
fail:
	if (err)
		snprintf(err, errlen, "%s",
			 nfc->err[0] ? nfc->err : strerror(-r));
	nfc_close(nfc);
	return r;
}

void nfc_close(struct nfc *nfc)
{
	if (!nfc)
		return;
	sp_close(nfc);
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (nfc->m && nfc->m->nfs[i].used &&
		    nfc->m->nfs[i].type->destroy && nfc->rt[i].priv)
			nfc->m->nfs[i].type->destroy(&nfc->handles[i]);
	root_close(nfc);
	model_free(nfc->m);
	json_decref(nfc->forgotten);
	if (nfc->ep >= 0)
		close(nfc->ep);
	free(nfc);
}
