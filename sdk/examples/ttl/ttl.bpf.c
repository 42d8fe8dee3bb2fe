// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ttl: an example NF loaded at run time (docs/sdk.md). Two ports; what
 * enters one leaves the other with its IPv4 TTL (IPv6 hop limit) lowered
 * by `ttl_dec`, dropped when that would reach 0, as a router does. The
 * collection `dst` (map coll_dst) overrides the new TTL by destination
 * prefix:
 *
 *     nfchain types load ttl.bpf.o
 *     nfchain ttl add t0 ttl_dec=1
 *     nfchain t0 ports add p1 peer=veth1 && nfchain t0 ports add p2 peer=veth2
 *     nfchain t0 dst add 198.51.100.0/24 ttl=7
 */
#include <nfchain/nfchain.bpf.h>

/* Config fields: every const volatile global (but nfc_*). */
const volatile __u8 ttl_dec = 1;

struct ttl_set {
	__u8 ttl; /* the TTL (hop limit) packets to the prefix leave with */
};

/* A collection: a map named coll_<name>. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct nfc_lpm4);
	__type(value, struct ttl_set);
} coll_dst SEC(".maps");

/* The IPv4 header checksum after one 16-bit word changed (RFC 1624). */
static __always_inline void csum_replace2(__u16 *sum, __u16 old, __u16 new)
{
	__u32 c = (__u16)~bpf_ntohs(*sum) + (__u16)~bpf_ntohs(old) +
		  bpf_ntohs(new);

	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	*sum = bpf_htons(~c & 0xffff);
}

static __always_inline int ttl(nfc_ctx_t *ctx, struct nfc_meta *md)
{
	__u32 out = md->in_port == 0 ? 1 : 0;
	struct ethhdr *eth;
	void *end;

	if (nfc_pull(ctx, NFC_ETH_HLEN + sizeof(struct ipv6hdr)))
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	eth = nfc_data(ctx);
	end = nfc_data_end(ctx);
	if ((void *)(eth + 1) > end)
		return nfc_drop(ctx, md, NFC_R_NF_DROP);
	if (eth->h_proto == bpf_htons(NFC_ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct nfc_lpm4 k = {.prefixlen = 32};
		struct ttl_set *set;
		__u16 old, new;
		__u8 t;

		if ((void *)(ip + 1) > end)
			return nfc_drop(ctx, md, NFC_R_NF_DROP);
		if (ip->ttl <= ttl_dec)
			return nfc_drop(ctx, md, NFC_R_NF_DROP);
		t = ip->ttl - ttl_dec;
		k.addr = ip->daddr;
		set = bpf_map_lookup_elem(&coll_dst, &k);
		if (set && set->ttl)
			t = set->ttl;
		old = bpf_htons((__u16)ip->ttl << 8 | ip->protocol);
		new = bpf_htons((__u16)t << 8 | ip->protocol);
		ip->ttl = t;
		csum_replace2(&ip->check, old, new);
	} else if (eth->h_proto == bpf_htons(NFC_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u8 *type;

		if ((void *)(ip6 + 1) > end)
			return nfc_drop(ctx, md, NFC_R_NF_DROP);
		/* Neighbour discovery passes as it came: a host discards it
		 * unless its hop limit is 255 (RFC 4861), and with it lowered
		 * no neighbour was ever found across the NF. */
		if (ip6->nexthdr == 58 /* ICMPv6 */ && ip6->hop_limit == 255) {
			if (nfc_pull(ctx, NFC_ETH_HLEN + sizeof(*ip6) + 1))
				return nfc_drop(ctx, md, NFC_R_NF_DROP);
			eth = nfc_data(ctx);
			end = nfc_data_end(ctx);
			ip6 = (void *)(eth + 1);
			type = (void *)(ip6 + 1);
			if ((void *)(type + 1) > end)
				return nfc_drop(ctx, md, NFC_R_NF_DROP);
			if (*type >= 133 && *type <= 137)
				return nfc_output(ctx, md, out);
		}
		if (ip6->hop_limit <= ttl_dec)
			return nfc_drop(ctx, md, NFC_R_NF_DROP);
		ip6->hop_limit -= ttl_dec;
	}
	return nfc_output(ctx, md, out);
}

NFC_NF(ttl);
