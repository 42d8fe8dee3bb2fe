// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The conntrack component under test, outside any NF: what an NF would do
 * with bpf/flow.h and bpf/ct.h, with every result written to a map for
 * tests/ct/test_ct_dp.c to check, and two programs for the cost figure
 * (docs/conntrack.md): a plain MAC-swapping forwarder and the same with
 * parse + lookup in front.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "common.h"
#define NFCT_FLOW_CACHE
#include "ct.h"
#include "ct_test.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_test_ctl);
} ct_test_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_test_res);
} ct_test_res SEC(".maps");

SEC("xdp")
int ct_test(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ct_test_res *res;
	struct ct_test_ctl *ctl;
	struct nfct_res r = {};
	__u32 zero = 0;

	res = bpf_map_lookup_elem(&ct_test_res, &zero);
	ctl = bpf_map_lookup_elem(&ct_test_ctl, &zero);
	if (!res || !ctl)
		return XDP_ABORTED;
	__builtin_memset(res, 0, sizeof(*res));
	res->parse = nfc_flow_parse(data, data_end, &res->fl);
	if (res->parse != NFC_FLOW_OK)
		return XDP_PASS;
	nfct_lookup(&res->fl, data_end - data, &r);
	if (r.state == NFCT_NEW && ctl->accept)
		res->confirm = nfct_confirm(&res->fl, data_end - data, &r);
	res->state = r.state;
	res->dir = r.dir;
	res->key = r.key;
	if (r.e) {
		res->has_entry = 1;
		res->entry_state = r.e->state;
	}
	return r.state == NFCT_INVALID ? XDP_DROP : XDP_PASS;
}

static __always_inline int swap_tx(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	__u8 tmp[NFC_ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_source, NFC_ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, NFC_ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, NFC_ETH_ALEN);
	return XDP_TX;
}

/* The baseline of the cost figure. */
SEC("xdp")
int ct_bench_fwd(struct xdp_md *ctx)
{
	return swap_tx((void *)(long)ctx->data, (void *)(long)ctx->data_end);
}

/* The same with the tracker in front, as a stateful NF would have it:
 * established and related go on, new is confirmed, invalid dropped. */
SEC("xdp")
int ct_bench_ct(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct nfct_res r;
	struct nfc_flow fl;

	if (nfc_flow_parse(data, data_end, &fl) != NFC_FLOW_OK)
		return XDP_DROP;
	nfct_lookup(&fl, data_end - data, &r);
	if (r.state == NFCT_NEW)
		nfct_confirm(&fl, data_end - data, &r);
	else if (r.state != NFCT_ESTABLISHED && r.state != NFCT_RELATED)
		return XDP_DROP;
	return swap_tx(data, data_end);
}

/* The same through the per-CPU flow cache (nfct_lookup_cached). */
SEC("xdp")
int ct_bench_ctfc(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct nfct_res r;
	struct nfc_flow fl;

	if (nfc_flow_parse(data, data_end, &fl) != NFC_FLOW_OK)
		return XDP_DROP;
	nfct_lookup_cached(&fl, data_end - data, &r);
	if (r.state == NFCT_NEW)
		nfct_confirm(&fl, data_end - data, &r);
	else if (r.state != NFCT_ESTABLISHED && r.state != NFCT_RELATED)
		return XDP_DROP;
	return swap_tx(data, data_end);
}

/* Every run a new connection: the source port and address come from a
 * counter, so that each repeat of BPF_PROG_TEST_RUN is a first SYN that
 * is looked up, found absent and confirmed (the new-connection rate). */
__u32 ct_bench_seq = 0;

SEC("xdp")
int ct_bench_new(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 seq = ct_bench_seq++;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__be16 *sport = (void *)(ip + 1);
	struct nfct_res r;
	struct nfc_flow fl;

	if ((void *)(sport + 1) > data_end)
		return XDP_DROP;
	*sport = bpf_htons(1024 + (seq & 0x7fff));
	((__u8 *)&ip->saddr)[3] = seq >> 15;
	if (nfc_flow_parse(data, data_end, &fl) != NFC_FLOW_OK)
		return XDP_DROP;
	nfct_lookup(&fl, data_end - data, &r);
	if (r.state != NFCT_NEW || nfct_confirm(&fl, data_end - data, &r))
		return XDP_DROP;
	return swap_tx(data, data_end);
}

/* Parsing alone, to split the figure. */
SEC("xdp")
int ct_bench_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct nfc_flow fl;

	if (nfc_flow_parse(data, data_end, &fl) != NFC_FLOW_OK)
		return XDP_DROP;
	return swap_tx(data, data_end);
}

char _license[] SEC("license") = "Dual BSD/GPL";
