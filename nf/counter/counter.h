/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * counter: what its data plane (counter.bpf.c) and control plane
 * (counter.c) share. Include vmlinux.h (BPF) or <linux/types.h> (userspace)
 * first.
 *
 * Map (pinned under the NF, kept across reloads):
 *   counter_dir  per-CPU array [NFC_MAX_PORTS] by in_port of struct
 *                counter_val: an attachment's ingress side is port 2k, its
 *                egress side 2k + 1.
 */
#ifndef NFC_COUNTER_H
#define NFC_COUNTER_H

struct counter_val {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct counter_val) % 8 == 0, "per-CPU stride");

#endif
