// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The counter's data plane on crafted frames (BPF_PROG_TEST_RUN), in XDP
 * and in TC: attached both ways on a forwarder's port, it counts packets
 * and bytes per direction (its own map, one port pair per attachment),
 * passes every frame on to where it was going, stamps its mark into the
 * metadata (shifted in, so that the order of two counters shows), and a
 * change of mark (a reload) keeps its counts.
 *
 * f1 (NF 0): p1 on veth dev[0], p2 on dev[1]; c1 (NF 1) attached on f1:p2:
 * its ingress side (port 0) sees what comes in from dev[1] on its way to
 * f1, its egress side (port 1) what f1 sends out of p2.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "dptest.h"

enum { XDP_REDIRECT_ = 4, TC_REDIRECT = 7 };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];

/* A frame of `len` bytes, an ethertype no stack answers. */
static void frame(__u8 *f, int len)
{
	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x88\xb5",
	       14);
}

/* c1 on side `port` with the metadata's mark `mark` (on CPU 0, where this
 * test runs: the mark is read back from there). */
static int run(int port, __u32 mark, int len, struct dpt_run *r)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = dpt_pinned(root, "meta");
	struct nfc_meta *m = calloc(ncpu, sizeof(*m));
	__u8 f[128];
	__u32 k = 0;

	for (int c = 0; m && c < ncpu; c++)
		m[c] = (struct nfc_meta){
			.nf = 1, .in_port = port, .mark = mark};
	if (fd >= 0 && m)
		bpf_map_update_elem(fd, &k, m, BPF_ANY);
	free(m);
	if (fd >= 0)
		close(fd);
	frame(f, len);
	return dpt_run(root, "nf/1-c1/prog", f, len, r);
}

static __u64 dir(int port, int field)
{
	return dpt_percpu_sum(root, "nf/1-c1/map/counter_dir", port,
			      field * sizeof(__u64), 2 * sizeof(__u64));
}

static long long nf_stat(struct nfc *nfc, const char *key)
{
	json_t *nf = nfc_show_nf(nfc, "c1");
	long long v = json_integer_value(
		json_object_get(json_object_get(nf, "stats"), key));

	json_decref(nf);
	return v;
}

static int set_mark(struct nfc *nfc, int mark)
{
	json_t *cfg = json_pack("{s:i}", "mark", mark);
	int e = nfc_nf_set(nfc, "c1", cfg);

	json_decref(cfg);
	return e;
}

static void one_mode(struct nfc *nfc, const char *mode, int redirect)
{
	json_t *cfg = json_pack("{s:i}", "mark", 5);
	struct dpt_run r;
	__u64 t0, t1;
	int e;

	test_group = mode;
	e = nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "counter", "c1", mode, cfg) ||
	    nfc_attach(nfc, "c1", "f1:p2", "both", NULL);
	json_decref(cfg);
	if (e) {
		CHECK(0, "set up f1 and c1 on f1:p2: %s", nfc_errmsg(nfc));
		return;
	}

	t0 = dpt_port_stats(root, 0, 0).tx_packets;
	CHECK(!run(0, 0, 100, &r) && r.verdict == redirect &&
		      dpt_port_stats(root, 0, 0).tx_packets == t0 + 1,
	      "ingress side: passed on to f1, which sends it out of p1 "
	      "(verdict %d)",
	      r.verdict);
	CHECK(dir(0, 0) == 1 && dir(0, 1) == 100 && dir(1, 0) == 0,
	      "ingress side counted: 1 packet, 100 bytes; egress side 0");
	CHECK(dpt_meta(root, 0).mark == 5, "mark=5 stamped (mark 0x%x)",
	      dpt_meta(root, 0).mark);

	t1 = dpt_port_stats(root, 0, 1).tx_packets;
	CHECK(!run(1, 0, 60, &r) && r.verdict == redirect &&
		      dpt_port_stats(root, 0, 1).tx_packets == t1,
	      "egress side: passed on out of f1:p2's netdev (verdict %d)",
	      r.verdict);
	run(1, 0, 64, &r);
	CHECK(dir(1, 0) == 2 && dir(1, 1) == 124 && dir(0, 0) == 1,
	      "egress side counted: 2 packets, 124 bytes; ingress side "
	      "still 1");
	CHECK(nf_stat(nfc, "ingress_packets") == 1 &&
		      nf_stat(nfc, "ingress_bytes") == 100 &&
		      nf_stat(nfc, "egress_packets") == 2 &&
		      nf_stat(nfc, "egress_bytes") == 124,
	      "NF stats: ingress 1 / 100 B, egress 2 / 124 B");

	run(0, 0x3, 60, &r);
	CHECK(dpt_meta(root, 0).mark == 0x305,
	      "a mark already there is shifted up (0x3 -> 0x%x)",
	      dpt_meta(root, 0).mark);
	e = set_mark(nfc, 0);
	CHECK(!e, "mark=0 (a reload)%s%s", e ? ": " : "",
	      e ? nfc_errmsg(nfc) : "");
	run(0, 0x3, 60, &r);
	CHECK(r.verdict == redirect && dpt_meta(root, 0).mark == 0x3,
	      "mark=0 leaves the mark alone (0x%x)", dpt_meta(root, 0).mark);
	CHECK(dir(0, 0) == 3 && dir(1, 0) == 2,
	      "counts kept across the reload (ingress %llu, egress %llu)",
	      (unsigned long long)dir(0, 0), (unsigned long long)dir(1, 0));
	CHECK(!nfc_reset(nfc), "reset");
}

static void all_tests(struct nfc *nfc)
{
	one_mode(nfc, "xdp", XDP_REDIRECT_);
	one_mode(nfc, "tc", TC_REDIRECT);
}

int main(void)
{
	dpt_main(root, sizeof(root), "cndp", "cnd", dev, peer, all_tests);
	TEST_EXIT();
}
