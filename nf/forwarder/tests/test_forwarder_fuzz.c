// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Random and mutated frames (tests/unit/fuzzpkt.h) through the forwarder,
 * in XDP and in TC, by tail call and as the program attached to the
 * netdev. Its contract (README): every frame that enters one port leaves
 * the other, untouched. So per frame: the verdict is the redirect, the
 * other port and only it counted the frame out, and the bytes are the
 * ones that came in.
 *
 *   test_forwarder_fuzz [--seed S] [--seconds T] [--frames N]
 */
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "fuzzpkt.h"

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static struct fz_nf n;
static const struct fz_hints hints; /* anything goes */

static int one(void *ctx, struct fz_rng *r, struct fz_frame *f)
{
	int direct = *(int *)ctx, port, e;

	fz_make(r, &hints, f);
	port = fz_below(r, 2);
	e = fz_run(&n, f, port, direct);
	if (e)
		return e > 0 ? 0
			     : fz_fail(f, "the run failed: %s", strerror(-e));
	if (f->verdict != n.hook->redirect)
		return fz_fail(f, "verdict %d, not the redirect to p%d",
			       f->verdict, 2 - port);
	if (fz_sent(&n) != 1ULL << (port ^ 1))
		return fz_fail(f, "counted out of ports 0x%llx, not p%d",
			       (unsigned long long)fz_sent(&n), 2 - port);
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
	dpt_root(root, sizeof(root), "fwfz");
	if (dpt_veths("fwz", 2, dev, peer))
		goto out;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	for (size_t h = 0; h < 2; h++) {
		const struct fz_hook *hk = &fz_hooks[h];

		if (nfc_nf_add(nfc, "forwarder", "f1", hk->mode, NULL) ||
		    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
		    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
		    fz_nf_open(&n, root, "nf/0-f1", 0, 2, hk)) {
			CHECK(0, "%s: set up f1: %s", hk->mode,
			      nfc_errmsg(nfc));
			continue;
		}
		for (int i = 0; i < 2; i++)
			n.ifindex[i] = if_nametoindex(dev[i]);
		snprintf(name, sizeof(name), "forwarder %s, by tail call",
			 hk->mode);
		fz_loop(&o, name, one, (void *)&by_tail_call);
		snprintf(name, sizeof(name), "forwarder %s, attached",
			 hk->mode);
		fz_loop(&o, name, one, (void *)&direct);
		fz_nf_close(&n);
		CHECK(!nfc_reset(nfc), "%s: reset", hk->mode);
	}
	nfc_close(nfc);
out:
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	TEST_EXIT();
}
