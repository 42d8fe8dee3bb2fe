/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers for data-plane tests on crafted packets: read and write the
 * shared maps pinned under a test's private pin root. Used by the runtime's
 * contract tests and by NFs' own tests (nf/<name>/tests/).
 */
#ifndef NFC_DPTEST_H
#define NFC_DPTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"

static inline int dpt_pinned(const char *root, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return bpf_obj_get(path);
}

/* The metadata a stub or the previous NF would have set, on every CPU:
 * BPF_PROG_TEST_RUN runs on whichever CPU the caller is on. */
static inline void dpt_set_meta(const char *root, int nf, int port)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = dpt_pinned(root, "meta");
	struct nfc_meta *m = calloc(ncpu, sizeof(*m));
	__u32 k = 0;

	for (int c = 0; m && c < ncpu; c++) {
		m[c].nf = nf;
		m[c].in_port = port;
	}
	if (fd >= 0 && m)
		bpf_map_update_elem(fd, &k, m, BPF_ANY);
	free(m);
	if (fd >= 0)
		close(fd);
}

/* Sum over CPUs of the __u64 at `off` in entry `k` of a per-CPU map whose
 * values are `vsize` bytes. */
static inline __u64 dpt_percpu_sum(const char *root, const char *rel, __u32 k,
				   size_t off, size_t vsize)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = dpt_pinned(root, rel);
	__u8 *v = calloc(ncpu, vsize);
	__u64 s = 0;

	if (fd >= 0 && v && !bpf_map_lookup_elem(fd, &k, v))
		for (int c = 0; c < ncpu; c++)
			s += *(__u64 *)(v + c * vsize + off);
	free(v);
	if (fd >= 0)
		close(fd);
	return s;
}

static inline struct nfc_port_stats dpt_port_stats(const char *root, int nf,
						   int port)
{
	const size_t vs = sizeof(struct nfc_port_stats);
	__u32 k = NFC_GPORT(nf, port);

	return (struct nfc_port_stats){
		.rx_packets = dpt_percpu_sum(root, "stats", k, 0, vs),
		.rx_bytes = dpt_percpu_sum(root, "stats", k, 8, vs),
		.tx_packets = dpt_percpu_sum(root, "stats", k, 16, vs),
		.tx_bytes = dpt_percpu_sum(root, "stats", k, 24, vs),
		.drops = dpt_percpu_sum(root, "stats", k, 32, vs),
	};
}

/* rx_packets of a netdev in this namespace, 0 if it cannot be read. */
static inline __u64 dpt_netdev_rx(const char *dev)
{
	char p[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/class/net/%s/statistics/rx_packets", dev);
	f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

#endif
