// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfc_map_count(): the entries of a hash map, from the kernel's own count
 * (bpf/mapcount.bpf.c, an iterator over the maps) in ~10 us, where a walk
 * costs a syscall per thousand entries at best (~10 ms for 60,000). The
 * iterator is loaded once per process, at the first call: that load
 * parses the kernel's BTF (~50 ms). Where it cannot load (a kernel without
 * bpf_map_sum_elem_count, before 6.6), the entries are counted by a walk.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "mapcount_xdp.skel.h"

static struct {
	pthread_mutex_t lock;
	struct mapcount_xdp *skel;
	struct bpf_link *link;
	int tried;
} mc = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int iter_load(void)
{
	if (mc.tried)
		return mc.link ? 0 : -ENOTSUP;
	mc.tried = 1;
	mc.skel = mapcount_xdp__open_and_load();
	if (mc.skel)
		mc.link = bpf_program__attach_iter(mc.skel->progs.nfc_map_count,
						   NULL);
	if (!mc.link) {
		mapcount_xdp__destroy(mc.skel);
		mc.skel = NULL;
		return -ENOTSUP;
	}
	return 0;
}

static long iter_count(__u32 id)
{
	long long n = -1;
	char rest[8];
	int it;

	mc.skel->bss->want_id = id;
	it = bpf_iter_create(bpf_link__fd(mc.link));
	if (it < 0)
		return -errno;
	if (read(it, &n, sizeof(n)) != sizeof(n))
		n = -ENOENT;
	while (read(it, rest, sizeof(rest)) > 0)
		;
	close(it);
	return n;
}

static int count_one(const void *k, const void *v, void *arg)
{
	(void)k;
	(void)v;
	(void)arg;
	return 0;
}

long nfc_map_count(int fd)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	long n = -ENOTSUP;

	if (fd < 0)
		return -EBADF;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_HASH &&
	    info.type != BPF_MAP_TYPE_LRU_HASH)
		return -EINVAL;
	pthread_mutex_lock(&mc.lock);
	if (!iter_load())
		n = iter_count(info.id);
	pthread_mutex_unlock(&mc.lock);
	if (n < 0)
		n = nfc_hash_walk(fd, info.key_size, info.value_size, NULL, 0,
				  count_one, NULL);
	return n;
}
