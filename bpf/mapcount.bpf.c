// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * How many entries a hash map holds, from the kernel's own count
 * (bpf_map_sum_elem_count), so that a control plane need not walk a table
 * of 65,536 entries to print its size: an iterator over the maps that
 * writes the count of the one whose id is in want_id (lib/mapcount.c).
 * Built like the runtime's other programs; the hook macros do not apply.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern s64 bpf_map_sum_elem_count(const struct bpf_map *map) __ksym;

__u32 want_id = 0;

SEC("iter/bpf_map")
int nfc_map_count(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;
	__s64 n;

	if (!map || map->id != want_id)
		return 0;
	n = bpf_map_sum_elem_count(map);
	bpf_seq_write(ctx->meta->seq, &n, sizeof(n));
	return 0;
}

/* The kfunc and the iterator need a GPL-compatible licence. */
char _license[] SEC("license") = "Dual BSD/GPL";
