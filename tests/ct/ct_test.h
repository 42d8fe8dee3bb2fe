/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the conntrack test object (ct_test.bpf.c) and its test program
 * (test_ct_dp.c) share: the control word and the result of the last
 * packet. Include vmlinux.h (BPF) or <linux/types.h> (userspace) first.
 */
#ifndef NFC_CT_TEST_H
#define NFC_CT_TEST_H

#include "flow.h"

struct ct_test_ctl {
	__u32 accept; /* confirm NEW packets, as a firewall that accepts */
};

struct ct_test_res {
	struct nfc_flow fl;
	struct nfct_key key;
	__s32 parse;   /* nfc_flow_parse's return */
	__s32 confirm; /* nfct_confirm's return (0 if not called) */
	__u8 state;    /* NFCT_NEW ... (bpf/ct.h) */
	__u8 dir;
	__u8 has_entry; /* an entry after lookup (and confirm) */
	__u8 entry_state;
	__u32 pad;
};

#endif
