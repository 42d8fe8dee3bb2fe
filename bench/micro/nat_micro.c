// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nat_micro: the nat NF's own cost per packet, its program run alone by
 * BPF_PROG_TEST_RUN (XDP, one run per frame: a repeat would translate the
 * already translated frame), kernel-measured. nat1 is attached on a
 * forwarder's port (f1:p2) with one rule, snat 198.51.100.0/24 to
 * 203.0.113.20, as masquerade on a router's outside port: 1,024 UDP flows
 * (64 inside hosts x 16 source ports, toward 8 outside hosts). Cases:
 * an ARP frame (the NF passes it at once: the run's fixed cost, subtracted
 * as "own"), established flows going out (the hot case of the benchmark's
 * nfc-nat-* scenarios), their replies coming in, and new flows (each frame
 * a new connection: rule match, port pick, two inserts). The NAT's
 * per-CPU flow cache answers a flow for ~134 ms after its last lookup on
 * that CPU: a pass slower than that, or one that moved to the other CPU,
 * misses it, which live traffic at speed does not; this is the cost
 * without the cache's help, near enough (bench/run gives the live one).
 * The hit case runs one flow whose rule translates it to itself, repeated:
 * the hit path alone, from L1, against the same ARP frame repeated.
 * A benchmark
 * program (prints a table), not a test; on a loaded machine indicative
 * only, the differences within one run are what to read.
 *
 *   .output/bench/nat_micro [PASSES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "dptest.h"
#include "../../tests/ct/ct_frames.h"

#define FLOWS 1024
#define PROG "nf/1-nat1/prog"

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];

enum nm_case { NM_ARP, NM_ARP_IN, NM_OUT, NM_REPLY, NM_NEW, NM_HIT };

/* The hit case: one flow of the host whose rule translates it to itself
 * (rule 5), so that a frame translated is the frame again and a repeat
 * runs it through the flow cache's hit every time after the first two
 * (the new connection, the lookup that fills its slot). */
#define HIT_HOST "198.51.100.250"
#define HIT_REPEAT 100000

/* Flow i of pass `pass`: inside 198.51.100.(100 + i/16), port base + i%16,
 * to 203.0.113.(130 + i%8):53. New flows move the port base each pass. */
static struct ctf nm_frame(enum nm_case c, int i, int pass)
{
	char in[32], out[32];
	int sp = (c == NM_NEW ? 20000 + pass * 16 : 40000) + i % 16;
	struct ctf f;

	if (c == NM_HIT)
		return ctf_udp_frame((struct ctf_ep){HIT_HOST, 40000},
				     (struct ctf_ep){"203.0.113.130", 53});
	snprintf(in, sizeof(in), "198.51.100.%d", 100 + i / 16);
	snprintf(out, sizeof(out), "203.0.113.%d", 130 + i % 8);
	if (c == NM_REPLY)
		return ctf_udp_frame((struct ctf_ep){out, 53},
				     (struct ctf_ep){"203.0.113.20", sp});
	f = ctf_udp_frame((struct ctf_ep){in, sp}, (struct ctf_ep){out, 53});
	if (c == NM_ARP || c == NM_ARP_IN)
		ctf_put16(f.b + 12, 0x0806);
	return f;
}

struct nm_pass {
	int prog;
	enum nm_case c;
};

/* Mean ns/frame over the flows in pass k. */
static double nm_pass(void *arg, int k)
{
	const struct nm_pass *p = arg;
	struct dpt_run r;
	double sum = 0;

	for (int i = 0; i < FLOWS; i++) {
		struct ctf f = nm_frame(p->c, i, k);

		/* Each run: the program leaves the metadata to the next NF.
		 * Port 1 of nat1 is f1:p2's way out, port 0 its way in. */
		dpt_set_meta(root, 1,
			     p->c == NM_REPLY || p->c == NM_ARP_IN ? 0 : 1);
		if (dpt_run_fd(p->prog, f.b, f.len, 0, 1, 0, &r) ||
		    r.verdict < 0) {
			fprintf(stderr, "test run: %d\n", r.verdict);
			exit(1);
		}
		sum += r.ns;
	}
	return sum / FLOWS;
}

/* ns/frame of HIT_REPEAT runs of one frame (the hit case, or ARP: the
 * fixed cost beside it), as the kernel times a repeat. */
static double nm_rep_pass(void *arg, int k)
{
	const struct nm_pass *p = arg;
	struct ctf f = nm_frame(p->c, 0, k);
	struct dpt_run r;

	dpt_set_meta(root, 1, 1);
	if (dpt_run_fd(p->prog, f.b, f.len, 0, HIT_REPEAT, 0, &r) ||
	    r.verdict < 0) {
		fprintf(stderr, "test run: %d\n", r.verdict);
		exit(1);
	}
	return r.ns;
}

static double nm_measure(int prog, enum nm_case c, int passes)
{
	struct nm_pass p = {prog, c};

	return dpt_median_of(passes, nm_pass, &p);
}

int main(int argc, char **argv)
{
	int passes = argc > 1 ? atoi(argv[1]) : 31, prog;
	double arp, arp_in, out, reply, nnew, hit, hit_arp;
	struct nfc *nfc;
	json_t *rule, *self;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (passes < 1 || passes > 60)
		passes = 31;
	nfc = dpt_bench_f1(root, sizeof(root), "natm", dev, peer);
	if (!nfc)
		return 1;
	rule = json_pack("{s:s,s:s,s:s}", "type", "snat", "src",
			 "198.51.100.0/24", "to", "203.0.113.20");
	self = json_pack("{s:s,s:s,s:s}", "type", "snat", "src", HIT_HOST "/32",
			 "to", HIT_HOST);
	if (nfc_nf_add(nfc, "nat", "nat1", "xdp", NULL) ||
	    nfc_attach(nfc, "nat1", "f1:p2", "both", NULL) ||
	    nfc_coll_add(nfc, "nat1", "rules", "10", rule) ||
	    nfc_coll_add(nfc, "nat1", "rules", "5", self)) {
		fprintf(stderr, "set up: %s\n", nfc_errmsg(nfc));
		json_decref(rule);
		json_decref(self);
		goto reset;
	}
	json_decref(rule);
	json_decref(self);
	prog = dpt_pinned(root, PROG);
	if (prog < 0) {
		fprintf(stderr, "no program at %s/%s\n", root, PROG);
		goto reset;
	}
	/* The first pass opens the flows; new flows get fewer passes, each
	 * FLOWS connections more in the table. */
	nnew = nm_measure(prog, NM_NEW, passes < 11 ? passes : 11);
	nm_measure(prog, NM_OUT, 1);
	reply = nm_measure(prog, NM_REPLY, passes);
	arp_in = nm_measure(prog, NM_ARP_IN, passes);
	out = nm_measure(prog, NM_OUT, passes);
	arp = nm_measure(prog, NM_ARP, passes);
	{
		struct nm_pass h = {prog, NM_HIT}, a = {prog, NM_ARP};

		/* Alternated, so that a loaded machine disturbs both alike. */
		hit = hit_arp = 0;
		for (int i = 0; i < 2; i++) {
			hit = dpt_median_of(passes, nm_rep_pass, &h);
			hit_arp = dpt_median_of(passes, nm_rep_pass, &a);
		}
	}
	close(prog);
	printf("case (%d UDP flows, snat)\tns/frame\tnat own\n", FLOWS);
	printf("ARP out, passed at once (the run's fixed cost)\t%.1f\t-\n",
	       arp);
	printf("ARP in, passed at once\t%.1f\t-\n", arp_in);
	printf("established, out (translated)\t%.1f\t%.1f\n", out, out - arp);
	printf("replies in (16 tuples: the kept ports), translated "
	       "back\t%.1f\t%.1f\n",
	       reply, reply - arp_in);
	printf("new flows (rule, port pick, inserts)\t%.1f\t%.1f\n", nnew,
	       nnew - arp);
	printf("established, a flow-cache hit (one flow, "
	       "repeated)\t%.1f\t%.1f\n",
	       hit, hit - hit_arp);
	printf("(median of %d passes over the flows, one frame each; the "
	       "hit: of %d runs of %d repeats, ARP beside it %.1f)\n",
	       passes, passes, HIT_REPEAT, hit_arp);
reset:
	dpt_bench_done(nfc, root, dev);
	return 0;
}
