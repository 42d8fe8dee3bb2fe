/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The layout of the per-CPU flow cache of bpf/ct.h (ct_fc), shared with
 * the control plane: `conntrack show` adds what the slots gathered and
 * have not put in their entries yet (nfct_pending_fc, lib/conntrack.c).
 * Include flow.h (or nfchain.bpf.h) first.
 */
#ifndef NFC_CT_FC_H
#define NFC_CT_FC_H

#define NFCT_FC_WAYS 4
#define NFCT_FC_PARTS 16
#define NFCT_FC_SETS 64 /* a part: 64 sets of 4 × 80 bytes, 20 KB (<= 32) */
#define NFCT_FC_SLOTS (NFCT_FC_PARTS * NFCT_FC_SETS * NFCT_FC_WAYS)
struct nfct_fc_slot {
	struct nfc_tuple t; /* the packet's own tuple, not normalised */
	__u64 gen;	    /* ct_fc_gen when filled */
	__u64 ts;	    /* when last synced with the entry, jiffies */
	__u64 bytes;	    /* gathered since, not yet in the entry */
	__u32 packets;
	__u8 dir;
	__u8 swapped;
	__u8 valid;
	__u8 next; /* way 0's: the way the set's next new flow takes */
	/* The NF's own answer for the flow (the firewall's verdict), 0 when
	 * filled: nfct_res.fc points here, the NF writes and checks it. */
	__u64 nf;
};
struct nfct_fc_part {
	struct nfct_fc_slot w[NFCT_FC_SETS][NFCT_FC_WAYS];
};

#endif
