/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by the benchmark's BPF programs (bench/bpf/) and its userspace
 * tool (bench/src/nfcb.c): the generator's settings and the counter slots.
 * Include vmlinux.h (BPF) or <linux/types.h> (userspace) first.
 */
#ifndef NFCB_BENCH_H
#define NFCB_BENCH_H

/*
 * Generator settings, filled in by nfcb before load (a const volatile in
 * .rodata, so the verifier sees constants). Addresses and ports are in host
 * order; the program converts. A frame's flow is its sequence number in a
 * mixed radix over (src addr, dst addr, src port, dst port), so the flow
 * count is the product of the four counts and consecutive frames always
 * differ in their source address: no two neighbours share a flow, which
 * keeps any batching or merging (GRO, flow caches) from flattering a DUT.
 */
struct nfcb_gen_cfg {
	__u32 ifindex;	 /* redirect every frame to this netdev */
	__u32 frame_len; /* bytes per frame (what data_in holds) */
	__u8 dst_mac[6];
	__u8 src_mac[6];
	__u32 saddr;   /* first source address */
	__u32 daddr;   /* first destination address */
	__u32 n_saddr; /* number of source addresses, >= 1 */
	__u32 n_daddr;
	__u16 sport; /* first source port */
	__u16 dport;
	__u32 n_sport;
	__u32 n_dport;
	/* Number of the first frame's flow (mixed radix, below): a run
	 * that starts past its warm-up's flows sends only flows never seen
	 * (new-flow runs). */
	__u64 first;
	/* IPv6 frames instead of IPv4 (family 6): the addresses are the
	 * 96-bit prefixes below followed by saddr/daddr (+ the flow's
	 * offset) as their last 32 bits. */
	__u32 family;
	__u8 saddr6[12];
	__u8 daddr6[12];
	/* TCP SYNs (IPv4, no options) instead of UDP datagrams, each with
	 * its checksums right: a SYN flood from spoofed sources that a
	 * server would take (nf/ddos/tests/ddos.sh). */
	__u32 tcp_syn;
};

/* Generator counters (.bss). */
struct nfcb_gen_stats {
	__u64 generated;    /* frames written and handed to bpf_redirect */
	__u64 short_frames; /* frames too short for the headers: dropped */
};

/* Sink and hop counters: per-CPU array slots. */
enum nfcb_slot {
	NFCB_RX = 0, /* sink: our frames (IPv4 or IPv6 UDP, or IPIP around an
		      * IPv4 one: a load balancer's DSR); hop: frames seen */
	NFCB_RX_BYTES = 1,
	NFCB_FOREIGN = 2, /* sink: anything else (should stay 0) */
	NFCB_DROPPED = 3, /* hop: frames dropped on purpose (fault injection) */
	NFCB_SLOTS = 8,
};

#ifndef ETH_P_IP /* vmlinux.h has no macros */
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif

/* Frame layout the generator writes: Ethernet + IPv4 (no options) + UDP. */
#define NFCB_HDR_LEN (14 + 20 + 8)
#define NFCB_HDR6_LEN (14 + 40 + 8) /* the same with IPv6 */
#define NFCB_SYN_LEN (14 + 20 + 20) /* IPv4 + TCP SYN (--syn) */
#define NFCB_MIN_FRAME 60	    /* Ethernet minimum without FCS */
#define NFCB_MAX_FRAME 3000 /* live frames must fit one page with headroom */

#endif
