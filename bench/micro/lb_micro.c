// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lb_micro: the lb NF's own cost per packet, BPF_PROG_TEST_RUN (XDP, one
 * run per frame: repeats would rewrite or encapsulate the same buffer
 * again, and live frames add a veth transmit whose noise is larger than
 * the lb), kernel-measured, in one run: 1,024 flows (64 client addresses x 16
 * source ports) to one VIP with 10 backends, the netdev's hook with the
 * forwarder f1 alone (the path without the lb), then with lb0 on f1:p1: NAT and
 * DSR, established flows (an ACK: the connection table's hit) and new flows (a
 * SYN: picked anew from the Maglev table and written to the connection table,
 * as every new connection is), and UDP flows to a NAT and a DSR VIP (the
 * protocol of bench/lb-table, whose packets the flow cache lb_fc answers
 * after the first; a TCP ACK of NAT here never fills it, its tracker entry
 * never being established). Own cost = the difference with f1 alone. A
 * benchmark program (prints a table), not a test. Indicative only on a loaded
 * machine; the ratios of one run are what to read.
 *
 *   .output/bench/lb_micro [PASSES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "dptest.h"

#define FLOWS 1024
#define BACKENDS 10

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static struct nfc *nfc;

/* A 64-byte TCP frame of flow i to 203.0.113.100:dport. */
static void tcp(__u8 *f, int i, int dport, __u8 flags)
{
	memset(f, 0, 64);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00",
	       14);
	f[14] = 0x45;
	f[17] = 50 - 4;
	f[20] = 0x40;
	f[22] = 64;
	f[23] = 6;
	inet_pton(AF_INET, "198.51.100.0", f + 26);
	f[29] = 100 + i / 16; /* 198.51.100.100-163 */
	inet_pton(AF_INET, "203.0.113.100", f + 30);
	f[34] = 0x9c;
	f[35] = i % 16; /* 39936 + 0..15 */
	f[36] = dport >> 8;
	f[37] = dport & 0xff;
	f[46] = 5 << 4;
	f[47] = flags;
}

/* The same flow as UDP: the benchmark's (bench/lb-table) protocol, whose
 * every packet after the first may be answered by the lb's flow cache
 * (lb_fc); a TCP ACK of NAT never is in this micro, as its connection
 * never becomes established in the tracker (no reply is sent). */
static void udp(__u8 *f, int i, int dport)
{
	tcp(f, i, dport, 0);
	f[23] = 17;
	f[38] = 0;
	f[39] = 50 - 4 - 20; /* UDP length (IP's 46 - 20); checksum 0: none */
	memset(f + 40, 0, 8);
}

struct lm_pass {
	int prog, dport, repeat;
	__u32 ifx;
	__u8 flags; /* TCP flags; LM_UDP: a UDP frame */
};
#define LM_UDP 0xff

/* ns/packet over the 1,024 flows (each run `repeat` times). */
static double lm_pass(void *arg, int k)
{
	const struct lm_pass *p = arg;
	struct dpt_run r;
	double sum = 0;
	__u8 f[64];

	(void)k;
	for (int i = 0; i < FLOWS; i++) {
		if (p->flags == LM_UDP)
			udp(f, i, p->dport);
		else
			tcp(f, i, p->dport, p->flags);
		if (dpt_run_fd(p->prog, f, 64, p->ifx, p->repeat, 0, &r) ||
		    r.verdict != 4 /* XDP_REDIRECT: to f1's p2 */) {
			fprintf(stderr, "test run: verdict %d\n", r.verdict);
			exit(1);
		}
		sum += r.ns;
	}
	return sum / FLOWS;
}

/* The median of `runs` passes. */
static double measure(int prog, __u32 ifx, int dport, __u8 flags, int runs,
		      int repeat)
{
	struct lm_pass p = {prog, dport, repeat, ifx, flags};

	return dpt_median_of(runs, lm_pass, &p);
}

/* The stub program on dev[0]'s ingress: the one whose link is there. */
static int stub_prog(__u32 ifx)
{
	for (int i = 0; i < 64; i++) {
		char p[256];
		struct bpf_link_info li = {0};
		__u32 sz = sizeof(li);
		int lfd, fd;

		snprintf(p, sizeof(p), "%s/stub/%d/link", root, i);
		lfd = bpf_obj_get(p);
		if (lfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(lfd, &li, &sz) &&
		    li.type == BPF_LINK_TYPE_XDP && li.xdp.ifindex == ifx) {
			close(lfd);
			snprintf(p, sizeof(p), "%s/stub/%d/prog", root, i);
			fd = bpf_obj_get(p);
			return fd;
		}
		close(lfd);
	}
	return -1;
}

/* Packets the lb counted for its services (proof the frames reached it). */
static long long lb_packets(void)
{
	json_t *l = NULL, *s;
	long long n = 0;
	size_t i;

	if (!nfc_coll_list(nfc, "lb0", "services", &l))
		json_array_foreach (l, i, s)
			n += json_integer_value(json_object_get(s, "packets"));
	json_decref(l);
	return n;
}

static int add_service(int port, const char *proto, const char *fwd)
{
	json_t *f = json_pack("{s:s}", "forward", fwd);
	char svc[64], be[96];
	int e;

	snprintf(svc, sizeof(svc), "203.0.113.100:%d/%s", port, proto);
	e = nfc_coll_add(nfc, "lb0", "services", svc, f);
	json_decref(f);
	for (int b = 0; b < BACKENDS && !e; b++) {
		snprintf(be, sizeof(be), "%s/203.0.113.%d", svc, 140 + b);
		e = nfc_coll_add(nfc, "lb0", "backends", be, NULL);
	}
	return e;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 31, repeat = 1;
	double f1, nat_est, nat_new, dsr_est, dsr_new, miss, nat_udp, dsr_udp;
	long long pk;
	int ifx, stub;

	setvbuf(stdout, NULL, _IOLBF, 0);
	nfc = dpt_bench_f1(root, sizeof(root), "lbm", dev, peer);
	if (!nfc)
		return 1;
	ifx = if_nametoindex(dev[0]);
	if (nfc_nf_add(nfc, "lb", "lb0", "xdp", NULL) ||
	    nfc_attach(nfc, "lb0", "f1:p1", "ingress", NULL) ||
	    add_service(80, "tcp", "nat") || add_service(81, "tcp", "dsr") ||
	    add_service(83, "udp", "nat") || add_service(84, "udp", "dsr")) {
		fprintf(stderr, "set up: %s\n", nfc_errmsg(nfc));
		goto reset;
	}
	stub = stub_prog(ifx);
	if (stub < 0) {
		fprintf(stderr, "no stub on %s\n", dev[0]);
		goto reset;
	}
	nat_new = measure(stub, ifx, 80, 0x02, runs, repeat);
	nat_est = measure(stub, ifx, 80, 0x10, runs, repeat);
	dsr_new = measure(stub, ifx, 81, 0x02, runs, repeat);
	dsr_est = measure(stub, ifx, 81, 0x10, runs, repeat);
	nat_udp = measure(stub, ifx, 83, LM_UDP, runs, repeat);
	dsr_udp = measure(stub, ifx, 84, LM_UDP, runs, repeat);
	miss = measure(stub, ifx, 82, 0x10, runs, repeat);
	pk = lb_packets();
	nfc_detach(nfc, "lb0", "f1:p1");
	close(stub);
	stub = stub_prog(ifx);
	f1 = stub >= 0 ? measure(stub, ifx, 80, 0x10, runs, repeat) : 0;
	if (stub >= 0)
		close(stub);
	printf("case (%d flows, one VIP, %d backends)\tns/packet\tlb own\n",
	       FLOWS, BACKENDS);
	printf("hook -> f1 (no lb)\t%.1f\t-\n", f1);
	printf("lb, not to a VIP (passed on)\t%.1f\t%.1f\n", miss, miss - f1);
	printf("lb NAT, new flows (SYN)\t%.1f\t%.1f\n", nat_new, nat_new - f1);
	printf("lb NAT, established flows\t%.1f\t%.1f\n", nat_est,
	       nat_est - f1);
	printf("lb DSR (IPIP), new flows (SYN)\t%.1f\t%.1f\n", dsr_new,
	       dsr_new - f1);
	printf("lb DSR (IPIP), established flows\t%.1f\t%.1f\n", dsr_est,
	       dsr_est - f1);
	printf("lb NAT, UDP flows (after the first pass: lb_fc)\t%.1f\t%.1f\n",
	       nat_udp, nat_udp - f1);
	printf("lb DSR (IPIP), UDP flows (after the first pass: lb_fc)\t%.1f\t"
	       "%.1f\n",
	       dsr_udp, dsr_udp - f1);
	printf("(median of %d passes over the flows, one frame each; the lb "
	       "counted %lld packets, %lld expected)\n",
	       runs, pk, 6LL * runs * FLOWS * repeat);
reset:
	dpt_bench_done(nfc, root, dev);
	return 0;
}
