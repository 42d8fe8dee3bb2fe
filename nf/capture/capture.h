/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * capture: what its data plane (capture.bpf.c), its control plane
 * (capture.c) and the daemon's pcap streams (daemon/pcap.c) share. Include
 * vmlinux.h (BPF) or <linux/types.h> (userspace) first.
 *
 * Maps (pinned under the NF, kept across reloads, so a filter change loses
 * neither readers nor counts):
 *   cap_ring  ring buffer of records: struct cap_rec, then cap_len bytes
 *   cap_ctl   array [1] of struct cap_ctl, written by the daemon: readers
 *   cap_cnt   per-CPU array [1] of struct cap_cnt
 *   cap_buf   array [CPUs] of struct cap_buf: a record is staged there
 *             because a ring reservation wants a constant size
 */
#ifndef NFC_CAPTURE_H
#define NFC_CAPTURE_H

/* The largest snaplen: tcpdump's own default and maximum (MAXIMUM_SNAPLEN
 * in libpcap). A power of two, so that one mask bounds a copy for the
 * verifier. */
#define CAP_SNAP_MAX 262144u
#define CAP_RING_DEFAULT (4u << 20)

struct cap_rec {
	__u64 ts_ns;	  /* CLOCK_TAI: wall clock once userspace shifts it */
	__u32 wire_len;	  /* the frame's length on the wire */
	__u32 cap_len;	  /* bytes that follow, min(wire_len, snaplen) */
	__u16 in_port;	  /* the NF port it came in on: attachment 2k|dir */
	__u8 dir;	  /* 0: ingress side of the attachment, 1: egress */
	__u8 vlan;	  /* 1: the frame's 802.1Q tag was held apart (TC:
			   * skb->vlan_tci), not in the bytes that follow: the
			   * daemon puts it back at byte 12, as tcpdump does */
	__be16 vlan_tpid; /* then its TPID, network order */
	__u16 vlan_tci;	  /* and its TCI, host order */
};
_Static_assert(sizeof(struct cap_rec) == 24, "record header layout");

/* Written by the daemon only; the data plane reads `readers`. */
struct cap_ctl {
	__u32 readers; /* 0: nothing is copied, the fast path only passes */
	__u32 pad;
	__u64 reader_dropped; /* records a slow reader missed, all readers */
};

struct cap_cnt {
	__u64 matched;	/* filter matched while a reader was attached */
	__u64 captured; /* written to the ring */
	__u64 lost;	/* matched but the ring was full */
};
_Static_assert(sizeof(struct cap_cnt) % 8 == 0, "per-CPU stride");

struct cap_buf {
	struct cap_rec hdr;
	__u8 data[CAP_SNAP_MAX];
};

#endif
