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

static int state_fd(struct nfc *nfc)
{
	char path[300];
	int fd;

	if (nfc->state_fd >= 0)
		return nfc->state_fd;
	snprintf(path, sizeof(path), "%s/state", nfc->root);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nfc_state", 4,
				    NFC_STATE_SIZE, 1, NULL);
		if (fd < 0 || bpf_obj_pin(fd, path))
			return nfci_err(nfc, errno, "create %s: %s", path,
					strerror(errno));
	}
	nfc->state_fd = fd;
	return fd;
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
	int fd = state_fd(nfc), r;
	struct model *m;
	json_error_t je;
	uint64_t gen;
	__u32 key = 0, len;
	char *buf;
	json_t *doc;

	if (fd < 0)
		return fd;
	if (nfc->m && gen_fd(nfc) >= 0) {
		__u64 g = 0;

		if (!bpf_map_lookup_elem(nfc->gen_fd, &key, &g) &&
		    g == nfc->gen)
			return 0;
	}
	buf = malloc(NFC_STATE_SIZE);
	if (!buf)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, buf)) {
		free(buf);
		return nfci_err(nfc, errno, "read state: %s", strerror(errno));
	}
	memcpy(&len, buf, sizeof(len));
	if (len == 0) { /* a fresh pin root */
		free(buf);
		return 0;
	}
	if (len > NFC_STATE_SIZE - 4) {
		free(buf);
		return nfci_err(nfc, EINVAL, "state under %s is corrupt",
				nfc->root);
	}
	doc = json_loadb(buf + 4, len, 0, &je);
	free(buf);
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
	int fd = state_fd(nfc);
	json_t *doc;
	__u32 key = 0, len;
	char *buf, *s;

	if (fd < 0)
		return fd;
	doc = model_to_json(nfc->m, nfc->gen + 1);
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!s)
		return -ENOMEM;
	len = strlen(s);
	if (len > NFC_STATE_SIZE - 4) {
		free(s);
		return nfci_err(nfc, E2BIG,
				"the configuration is larger than the %u bytes "
				"the state map holds",
				NFC_STATE_SIZE - 4);
	}
	buf = calloc(1, NFC_STATE_SIZE);
	if (!buf) {
		free(s);
		return -ENOMEM;
	}
	memcpy(buf, &len, 4);
	memcpy(buf + 4, s, len);
	free(s);
	if (bpf_map_update_elem(fd, &key, buf, BPF_ANY)) {
		free(buf);
		return nfci_err(nfc, errno, "save state: %s", strerror(errno));
	}
	free(buf);
	nfc->gen++;
	if (gen_fd(nfc) < 0 ||
	    bpf_map_update_elem(nfc->gen_fd, &key, &nfc->gen, BPF_ANY))
		return nfci_err(nfc, errno, "save state generation: %s",
				strerror(errno));
	return 0;
}
