// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Random and mutated frames (tests/unit/fuzzpkt.h) through the lb, in XDP
 * and in TC, attached both ways on port p1 of a forwarder f1, with a DSR
 * service and a NAT service on 203.0.113.100 (the generator is hinted at
 * the VIP and the backends). Its contract (README): every frame goes on
 * (a redirect) or, only if it is for a VIP, may be dropped; a frame not
 * for a VIP on the ingress side goes on unchanged; a frame it
 * encapsulates keeps its Ethernet header and its whole packet inside an
 * outer IPv4 header whose checksum verifies; a NAT rewrite keeps the
 * length.
 *
 *   test_lb_fuzz [--seed S] [--seconds T] [--frames N]
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "fuzzpkt.h"

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static struct fz_nf n;
static __be32 ip4[3];
static struct fz_hints hints = {.ip4 = ip4, .n_ip4 = 3};

static int for_vip(const struct fz_frame *f)
{
	return f->len >= 34 && f->in[12] == 0x08 && f->in[13] == 0x00 &&
	       !memcmp(f->in + 30, &ip4[0], 4);
}

static int one(void *ctx, struct fz_rng *r, struct fz_frame *f)
{
	int side, e;

	(void)ctx;
	fz_make(r, &hints, f);
	side = (int)fz_below(r, 2);
	e = fz_run(&n, f, side, 0);
	if (e)
		return e > 0 ? 0
			     : fz_fail(f, "the run failed: %s", strerror(-e));
	if (f->verdict != n.hook->redirect &&
	    !(f->verdict == n.hook->drop && for_vip(f)))
		return fz_fail(f, "verdict %d for a frame not to a VIP",
			       f->verdict);
	if (f->verdict != n.hook->redirect)
		return 0;
	if (f->out_len == f->len + 20) {
		if (side || !for_vip(f))
			return fz_fail(f, "encapsulated, not to a VIP");
		if (memcmp(f->out, f->in, 14) ||
		    memcmp(f->out + 34, f->in + 14, f->len - 14))
			return fz_fail(f, "the encapsulated frame changed");
		if (fz_fold(fz_sum(f->out + 14, 20, 0)))
			return fz_fail(f, "outer checksum does not verify");
		return 0;
	}
	if (f->out_len != f->len)
		return fz_fail(f, "length %u, in %u", f->out_len, f->len);
	if (!side && !for_vip(f) && memcmp(f->out, f->in, f->len))
		return fz_fail(f, "a frame not to a VIP changed");
	return 0;
}

int main(int argc, char **argv)
{
	struct fz_opts o;
	struct nfc *nfc;
	char name[96];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fz_args(argc, argv, &o))
		return 2;
	ip4[0] = inet_addr("203.0.113.100");
	ip4[1] = inet_addr("198.51.100.11");
	ip4[2] = inet_addr("198.51.100.2");
	fz_netns();
	dpt_root(root, sizeof(root), "lbfz");
	if (dpt_veths("lbz", 2, dev, peer))
		goto out;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	for (size_t h = 0; h < 2; h++) {
		const struct fz_hook *hk = &fz_hooks[h];
		json_t *nat = json_pack("{s:s}", "forward", "nat");
		int e;

		e = nfc_nf_add(nfc, "forwarder", "f1", hk->mode, NULL) ||
		    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
		    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
		    nfc_nf_add(nfc, "lb", "lb0", hk->mode, NULL) ||
		    nfc_attach(nfc, "lb0", "f1:p1", "both", NULL) ||
		    nfc_coll_add(nfc, "lb0", "services", "203.0.113.100:80/tcp",
				 NULL) ||
		    nfc_coll_add(nfc, "lb0", "services", "203.0.113.100:81/tcp",
				 nat) ||
		    nfc_coll_add(nfc, "lb0", "backends",
				 "203.0.113.100:80/tcp/198.51.100.11", NULL) ||
		    nfc_coll_add(nfc, "lb0", "backends",
				 "203.0.113.100:81/tcp/198.51.100.11:8080",
				 NULL) ||
		    fz_nf_open(&n, root, "nf/1-lb0", 1, 2, hk);
		json_decref(nat);
		if (e) {
			CHECK(0, "%s: set up f1 and lb0 on f1:p1: %s", hk->mode,
			      nfc_errmsg(nfc));
			nfc_reset(nfc);
			continue;
		}
		snprintf(name, sizeof(name), "lb %s, by tail call", hk->mode);
		fz_loop(&o, name, one, NULL);
		fz_nf_close(&n);
		CHECK(!nfc_reset(nfc), "%s: reset", hk->mode);
	}
	nfc_close(nfc);
out:
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	TEST_EXIT();
}
