// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Random and mutated frames (tests/unit/fuzzpkt.h) through the counter,
 * in XDP and in TC, attached both ways on port p2 of a forwarder f1: by
 * tail call on either side, and as the program attached to p2's netdev
 * (its ingress side). Its contract (README): it counts every frame and
 * lets it continue, untouched. So per frame: the verdict is the redirect
 * (the egress side's to p2's netdev; the ingress side's through a tail
 * call into f1, which sends it out of p1), the frame is counted on its
 * side (one packet, its length in bytes) and the bytes are unchanged.
 *
 *   test_counter_fuzz [--seed S] [--seconds T] [--frames N]
 */
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "fuzzpkt.h"
#include "counter/counter.h"

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static struct fz_nf n, f1; /* c1, and f1 for its counters only */
static const struct fz_hints hints;
static int dir_fd;

static void dir_read(int side, __u64 *pk, __u64 *by)
{
	struct counter_val v[n.ncpu];
	__u32 k = side;

	*pk = *by = 0;
	if (!bpf_map_lookup_elem(dir_fd, &k, v))
		for (int c = 0; c < n.ncpu; c++) {
			*pk += v[c].packets;
			*by += v[c].bytes;
		}
}

static int one(void *ctx, struct fz_rng *r, struct fz_frame *f)
{
	int direct = *(int *)ctx, side, e;
	__u64 p0, b0, p1, b1;

	fz_make(r, &hints, f);
	side = direct ? 0 : (int)fz_below(r, 2);
	dir_read(side, &p0, &b0);
	fz_tx(&f1, f1.tx0);
	e = fz_run(&n, f, side, direct);
	if (e)
		return e > 0 ? 0
			     : fz_fail(f, "the run failed: %s", strerror(-e));
	fz_tx(&f1, f1.tx1);
	dir_read(side, &p1, &b1);
	if (f->verdict != n.hook->redirect)
		return fz_fail(f, "verdict %d, not a redirect", f->verdict);
	if (p1 != p0 + 1 || b1 != b0 + f->len)
		return fz_fail(f, "side %d counted %llu frames, %llu bytes",
			       side, (unsigned long long)(p1 - p0),
			       (unsigned long long)(b1 - b0));
	/* The ingress side hands it to f1, which sends it out of p1; the
	 * egress side's frame has left f1 already. */
	if (fz_sent(&f1) != (side ? 0 : 1))
		return fz_fail(f, "f1 counted out of ports 0x%llx",
			       (unsigned long long)fz_sent(&f1));
	if (f->out_len != f->len || memcmp(f->out, f->in, f->len))
		return fz_fail(f, "the frame was changed");
	return 0;
}

int main(int argc, char **argv)
{
	static const int by_tail_call = 0, direct = 1;
	struct fz_opts o;
	struct nfc *nfc;
	char name[96];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fz_args(argc, argv, &o))
		return 2;
	fz_netns();
	dpt_root(root, sizeof(root), "cnfz");
	if (dpt_veths("cnz", 2, dev, peer))
		goto out;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	for (size_t h = 0; h < 2; h++) {
		const struct fz_hook *hk = &fz_hooks[h];

		if (nfc_nf_add(nfc, "forwarder", "f1", hk->mode, NULL) ||
		    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
		    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
		    nfc_nf_add(nfc, "counter", "c1", hk->mode, NULL) ||
		    nfc_attach(nfc, "c1", "f1:p2", "both", NULL) ||
		    fz_nf_open(&n, root, "nf/1-c1", 1, 2, hk) ||
		    fz_nf_open(&f1, root, "nf/0-f1", 0, 2, hk)) {
			CHECK(0, "%s: set up f1 and c1 on f1:p2: %s", hk->mode,
			      nfc_errmsg(nfc));
			continue;
		}
		dir_fd = dpt_pinned(root, "nf/1-c1/map/counter_dir");
		n.ifindex[0] = if_nametoindex(dev[1]);
		snprintf(name, sizeof(name), "counter %s, by tail call",
			 hk->mode);
		fz_loop(&o, name, one, (void *)&by_tail_call);
		snprintf(name, sizeof(name), "counter %s, attached", hk->mode);
		fz_loop(&o, name, one, (void *)&direct);
		close(dir_fd);
		fz_nf_close(&n);
		fz_nf_close(&f1);
		CHECK(!nfc_reset(nfc), "%s: reset", hk->mode);
	}
	nfc_close(nfc);
out:
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	TEST_EXIT();
}
