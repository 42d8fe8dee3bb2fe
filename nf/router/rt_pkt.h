/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Userspace frame helpers of the router: checksums, address text, and the
 * frames the slow path builds (ARP requests, ICMP messages), defined in
 * rt_pkt.c. The router's tests build the same frames with them: a test
 * compiles rt_pkt.c in (the library exports only the nfc_* API).
 * Addresses are in network byte order.
 */
#ifndef NFC_ROUTER_PKT_H
#define NFC_ROUTER_PKT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <netinet/in.h>

#include "common.h"

#define RT_ICMP_QUOTE_MAX 576 /* RFC 1812 4.3.2.3: an error fits in 576 */

/* Headers laid over byte buffers. Our own copies of the kernel's, marked
 * may_alias (and packed: a frame's IP header sits at offset 14): writing a
 * struct iphdr into a uint8_t array is undefined behaviour that GCC 12 -O2
 * exploits (it dropped a checksum store). */
typedef struct {
	__u8 h_dest[6];
	__u8 h_source[6];
	__be16 h_proto;
} __attribute__((packed, may_alias)) rt_ethhdr;

typedef struct {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u8 ihl : 4, version : 4;
#else
	__u8 version : 4, ihl : 4;
	/* The ICMPv6 (or UDP, TCP) checksum of `len` bytes at p with the IPv6
	 * pseudo-header (RFC 8200 8.1); over a message whose checksum field
	 * holds its checksum, 0. */
	uint16_t rt_csum6(const uint8_t *src, const uint8_t *dst, __u8 proto,
			  const void *p, size_t len);
	/*
	 * A forwarded IPv4 or IPv6 packet (no extension headers, not a
	 * fragment) whose TCP or UDP checksum was left to offload
	 * (CHECKSUM_PARTIAL: the field holds the pseudo-header's sum) gets its
	 * full checksum. The slow path sends such a frame itself (held while
	 * the next hop's address is resolved); as it came, the receiver would
	 * drop it as corrupt.
	 */
	void rt_l4_csum_complete(uint8_t *ip, size_t len);
	/* An IPv6 header; `len` is the payload length. */
	void rt_build_ip6(rt_ip6hdr *h, const uint8_t *src, const uint8_t *dst,
			  __u8 nexthdr, __u8 hop, size_t len);

#endif
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__be32 saddr;
	__be32 daddr;
} __attribute__((packed, may_alias)) rt_iphdr;

typedef struct {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__be32 rest; /* id and sequence, or unused */
} __attribute__((packed, may_alias)) rt_icmphdr;

typedef struct {
	__be32 vtc_flow; /* version 6, traffic class, flow label */
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
} __attribute__((packed, may_alias)) rt_ip6hdr;

struct rt_arp_pkt { /* ARP for IPv4 over Ethernet */
	__be16 htype, ptype;
	__u8 hlen, plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed, may_alias));

/* The Internet checksum of n bytes (network order, ready to store). */
uint16_t rt_csum(const void *p, size_t n);
const char *rt_ntoa(__be32 a, char *buf);
/* The netmask of a prefix length (network order). */
__be32 rt_mask(unsigned plen);
/* A 42-byte ARP request (dst_mac NULL: broadcast). Returns its length. */
size_t rt_build_arp_request(uint8_t *f, const uint8_t *src_mac, __be32 spa,
			    __be32 tpa, const uint8_t *dst_mac);
/* An IPv4 header with its checksum; `len` is the payload length. */
void rt_build_ip(rt_iphdr *ip, __be32 src, __be32 dst, __u8 proto, __u8 tos,
		 __u8 ttl, __u16 id, size_t len);
/*
 * An ICMP error (type, code) about the IPv4 packet `orig` (orig_len bytes),
 * from `src`: IP header, ICMP header, then as much of the original as fits
 * in 576 bytes. Written at `out` (room for RT_ICMP_QUOTE_MAX); returns the
 * IP packet's length.
 */
size_t rt_build_icmp_error(uint8_t *out, __be32 src, const uint8_t *orig,
			   size_t orig_len, __u8 type, __u8 code, __u16 id);

/* The ICMPv6 (or UDP, TCP) checksum of `len` bytes at p with the IPv6
 * pseudo-header (RFC 8200 8.1); over a message whose checksum field holds
 * its checksum, 0. */
uint16_t rt_csum6(const uint8_t *src, const uint8_t *dst, __u8 proto,
		  const void *p, size_t len);
/*
 * A forwarded IPv4 or IPv6 packet (no extension headers, not a fragment)
 * whose TCP or UDP checksum was left to offload (CHECKSUM_PARTIAL: the
 * field holds the pseudo-header's sum) gets its full checksum. The slow
 * path sends such a frame itself (held while the next hop's address is
 * resolved); as it came, the receiver would drop it as corrupt.
 */
void rt_l4_csum_complete(uint8_t *ip, size_t len);
/* An IPv6 header; `len` is the payload length. */
void rt_build_ip6(rt_ip6hdr *h, const uint8_t *src, const uint8_t *dst,
		  __u8 nexthdr, __u8 hop, size_t len);

#endif
