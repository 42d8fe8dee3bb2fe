/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * filter: what its data plane (filter.bpf.c) and control plane (filter.c)
 * share. Include vmlinux.h (BPF) or <linux/types.h> (userspace) first.
 *
 * Maps (pinned under the NF, kept across reloads):
 *   filter_jmp_xdp / filter_jmp_tc  the jump table of lib/cbpf.h: slot 0
 *        the translated expression, 1 filter_match, 2 filter_nomatch. One
 *        per hook: a program array belongs to the program type that first
 *        used it, and a mode change must not meet the other's.
 *   filter_cnt  per-CPU array of __u64 by enum filter_counter.
 */
#ifndef NFC_FILTER_H
#define NFC_FILTER_H

enum filter_counter {
	FILTER_C_MATCHED,   /* the expression matched */
	FILTER_C_DROPPED,   /* dropped by the action */
	FILTER_C_NO_FILTER, /* no program in slot 0 (or no tail call left) */
	FILTER_C_N,
};

#endif
