// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A byte region that survives the process: a pinned BPF_F_MMAPABLE array
 * map of 4 KB pages, mapped into this process. A store into it is in the
 * kernel's pages at once, so what was written before a kill -9 is there
 * for the next process, with no syscall per write. The intent journal
 * (intent.c) and the state log (state.c) keep their records in one each;
 * this file is what the two shared: opening the pin, and growing it.
 *
 * The first page is the owner's header, the records follow. A grow makes
 * a larger map, copies the header and the records into it and pins it
 * over the old one with a rename, so another process sees the old map or
 * the new one, whole.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "internal.h"

static void pin_path(struct nfc *nfc, const struct pinmem_kind *k, char *buf,
		     size_t len, const char *sfx)
{
	snprintf(buf, len, "%s/%s%s", nfc->root, k->file, sfx);
}

void pinmem_close(struct nfc_intent *m)
{
	if (m->mem) {
		munmap(m->mem, m->size);
		close(m->fd);
	}
	memset(m, 0, sizeof(*m));
}

/* Maps fd (taken: closed on failure) as m, in place of what m held. */
static int pinmem_map(struct nfc *nfc, struct nfc_intent *m,
		      const struct pinmem_kind *k, int fd, unsigned long ino)
{
	struct bpf_map_info info = {0};
	__u32 ilen = sizeof(info);
	void *mem;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) ||
	    !(info.map_flags & BPF_F_MMAPABLE) ||
	    info.value_size != PINMEM_PAGE || info.max_entries < 2) {
		close(fd);
		return nfci_err(nfc, EINVAL, "%s/%s: not %s %s", nfc->root,
				k->file, k->article, k->noun);
	}
	mem = mmap(NULL, (size_t)info.max_entries * PINMEM_PAGE,
		   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		close(fd);
		return nfci_err(nfc, errno, "map %s/%s: %s", nfc->root, k->file,
				strerror(errno));
	}
	pinmem_close(m);
	m->fd = fd;
	m->mem = mem;
	m->size = (uint64_t)info.max_entries * PINMEM_PAGE;
	m->ino = ino;
	return 0;
}

int pinmem_open(struct nfc *nfc, struct nfc_intent *m,
		const struct pinmem_kind *k)
{
	char path[300];
	struct stat st;
	int fd;

	pin_path(nfc, k, path, sizeof(path), "");
	if (stat(path, &st)) {
		pinmem_close(m);
		return -errno;
	}
	/* The mapping is kept while the pin is the same map: another
	 * process may have grown it since. */
	if (m->mem && m->ino == st.st_ino)
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return nfci_err(nfc, errno, "open %s: %s", path,
				strerror(errno));
	return pinmem_map(nfc, m, k, fd, st.st_ino);
}

int pinmem_grow(struct nfc *nfc, struct nfc_intent *m,
		const struct pinmem_kind *k, uint64_t need, size_t hdr,
		uint64_t used)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	uint64_t pages = PINMEM_MIN_PAGES;
	char path[300], tmp[310];
	struct stat st;
	uint8_t *mem;
	int fd, r;

	while (pages * PINMEM_PAGE < need + PINMEM_PAGE)
		pages *= 2;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, k->map, 4, PINMEM_PAGE, pages,
			    &o);
	if (fd < 0)
		return nfci_err(nfc, errno,
				"create a %llu-byte %s under %s: %s",
				(unsigned long long)(pages * PINMEM_PAGE),
				k->noun, nfc->root, strerror(errno));
	mem = mmap(NULL, pages * PINMEM_PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		r = -errno;
		close(fd);
		return nfci_err(nfc, r, "map the %s: %s", k->noun,
				strerror(-r));
	}
	if (m->mem) {
		if (used > m->size - PINMEM_PAGE)
			used = m->size - PINMEM_PAGE;
		memcpy(mem, m->mem, hdr);
		memcpy(mem + PINMEM_PAGE, m->mem + PINMEM_PAGE, used);
	}
	munmap(mem, pages * PINMEM_PAGE);
	pin_path(nfc, k, path, sizeof(path), "");
	pin_path(nfc, k, tmp, sizeof(tmp), "_new");
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp) || rename(tmp, path) || stat(path, &st)) {
		r = -errno;
		unlink(tmp);
		close(fd);
		return nfci_err(nfc, r, "pin %s: %s", path, strerror(-r));
	}
	return pinmem_map(nfc, m, k, fd, st.st_ino);
}
