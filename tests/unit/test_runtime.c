// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the runtime holds per NF, without a kernel: the fd cache of an
 * adopted NF and the list of an object's own maps have no fixed cap (an NF
 * with more maps than a cap used to lose the rest without a word). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "internal.h"
#include "test.h"

#define MANY 100 /* well past the old cap of 32 */

static void test_fd_cache(void)
{
	struct rnf rt = {.prog_fd = -1};
	int fds[MANY], found = 0, added = 0, closed = 0;
	char name[32];

	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "map%d", i);
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		added += dp_fd_add(&rt, name, fds[i]) == fds[i];
	}
	CHECK(added == MANY && rt.nfds == MANY, "%d fds cached (%d)", MANY,
	      rt.nfds);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "map%d", i);
		found += dp_fd_find(&rt, name) == fds[i];
	}
	CHECK(found == MANY, "each found by its name (%d)", found);
	CHECK(dp_fd_find(&rt, "map100") == -ENOENT, "an unknown name is not");
	dp_close_fds(&rt);
	for (int i = 0; i < MANY; i++)
		closed += fcntl(fds[i], F_GETFD) < 0;
	CHECK(closed == MANY && !rt.fds && !rt.nfds, "all closed and freed");
}

/* Every NF object built in: its own maps are exactly those neither shared
 * nor internal, counted independently. Opening parses the ELF only. */
static void test_own_maps(void)
{
	for (const struct nfc_nf_type *const *t = nfci_type_all(); *t; t++) {
		size_t sz;
		const void *elf = (*t)->elf_xdp(&sz);
		struct bpf_object *obj = bpf_object__open_mem(elf, sz, NULL);
		struct bpf_map *map, **own;
		int n = 0, want = 0, right = 0;

		if (!obj) {
			CHECK(0, "%s: open its object", (*t)->name);
			continue;
		}
		bpf_object__for_each_map (map, obj)
			want += !bpf_map__is_internal(map) &&
				dp_shared_index(bpf_map__name(map), HOOK_XDP) <
					0;
		own = dp_own_maps(obj, HOOK_XDP, &n);
		for (int i = 0; own && i < n; i++)
			right += !bpf_map__is_internal(own[i]) &&
				 dp_shared_index(bpf_map__name(own[i]),
						 HOOK_XDP) < 0;
		CHECK(own && n == want && right == n,
		      "%s: its %d own maps, none left out", (*t)->name, want);
		free(own);
		bpf_object__close(obj);
	}
}

/* No built-in type's figure takes a framework figure's name: the ddos
 * NF's drops by reason once hid its NF's drop total. lib/dyntype.c
 * refuses a plugin's so. */
static void test_stat_names(void)
{
	for (const struct nfc_nf_type *const *t = nfci_type_all(); *t; t++) {
		const char *taken = NULL;

		for (const struct nfc_stat *s = (*t)->stats_doc; s && s->name;
		     s++)
			if (nfci_stat_reserved(s->name))
				taken = s->name;
		CHECK(!taken, "%s: its stats keep the framework's names (%s)",
		      (*t)->name, taken ? taken : "none taken");
	}
	CHECK(nfci_stat_reserved("drops") && !nfci_stat_reserved("dropped"),
	      "drops is the framework's, dropped is not");
}

int main(void)
{
	libbpf_set_print(NULL);
	test_fd_cache();
	test_own_maps();
	test_stat_names();
	TEST_EXIT();
}
