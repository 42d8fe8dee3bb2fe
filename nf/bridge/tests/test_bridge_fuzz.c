// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Random and mutated frames (tests/unit/fuzzpkt.h) through the bridge, in
 * XDP and in TC, by tail call and as the program attached to the port's
 * netdev. Each frame is judged against what the README says, worked out
 * here from the frame and the configuration below, not from
 * bridge.bpf.c:
 *   - dropped, nothing sent: a tag with a VID on an access port, a VID
 *     the trunk does not carry, a multicast source MAC, the static
 *     entry's MAC as the source from another port, a VLAN with no other
 *     member;
 *   - otherwise, whatever it does, only to other members of the frame's
 *     VLAN (the static entry's MAC: to its port only), never back out of
 *     the in port; the bytes are the frame's with the tag as the out port
 *     wants it (XDP: exactly; TC, whose tags the test run cannot show,
 *     the frame's without its tags). A flood (XDP's devmap broadcast)
 *     carries the VLAN's tag.
 * The FDB learns as it goes; where a unicast goes is checked only against
 * the VLAN.
 *
 *   p1 access 10   p2 trunk 10,20 native 30   p3 access 20   p4 access 10
 *   static: 02:00:00:00:01:01 on p1, VLAN 10
 *
 *   test_bridge_fuzz [--seed S] [--seconds T] [--frames N]
 */
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "fuzzpkt.h"

#define NP 4
static char root[128], dev[NP][IF_NAMESIZE], peer[NP][IF_NAMESIZE];
static struct fz_nf n;

static const __u8 STATIC_MAC[6] = {2, 0, 0, 0, 1, 1};
static const int pvid[NP] = {10, 30, 20, 10}; /* p2: its native VLAN */
static const __u64 members[4096] = {[10] = 0xb, [20] = 0x6, [30] = 0x2};
static const __u64 untagged[4096] = {[10] = 0x9, [20] = 0x4, [30] = 0x2};
#define TRUNK 1

static const __u8 macs[][6] = {
	{2, 0, 0, 0, 1, 1},    {2, 0, 0, 0, 1, 2},
	{2, 0, 0, 0, 1, 3},    {2, 0, 0, 0, 1, 4},
	{2, 0, 0, 0, 1, 5},    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	{1, 0, 0x5e, 0, 0, 1}, {3, 0, 0, 0, 1, 2},
};
static const __u16 vids[] = {0, 10, 10, 20, 20, 30, 1};
/* Frames by what became of them: how deep the fuzz got. */
static long to_drop, dropped, one_port, flooded;
static const struct fz_hints hints = {
	.macs = macs, .n_macs = 8, .vids = vids, .n_vids = 7};

struct expect {
	const char *drop; /* the reason it must be dropped, or NULL */
	int tagged;	  /* came with an 802.1Q tag */
	__u16 tci, vid;
	__u64 allowed; /* ports it may leave by */
};

static struct expect expect(const __u8 *f, __u32 len, int in, int tc)
{
	struct expect x = {0};

	/* XDP reads a tag only with the whole tag header (18 bytes) in the
	 * frame; TC (an skb whose protocol is 802.1Q) with the tag's 4. */
	x.tagged = fz_get16(f + 12) == 0x8100 && len >= (tc ? 16u : 18u);
	if (x.tagged) {
		x.tci = fz_get16(f + 14);
		x.vid = x.tci & 0xfff;
	}
	if (x.tagged && x.vid) {
		if (in != TRUNK)
			x.drop = "a tagged frame on an access port";
		else if (x.vid != 10 && x.vid != 20)
			x.drop = "a VLAN the trunk does not carry";
		if (x.drop)
			return x;
	} else {
		x.vid = pvid[in];
	}
	if (f[6] & 1)
		x.drop = "a multicast source MAC";
	else if (!memcmp(f + 6, STATIC_MAC, 6) && x.vid == 10 && in != 0)
		x.drop = "the static entry's MAC as source from another port";
	x.allowed = members[x.vid] & ~(1ULL << in);
	if (!memcmp(f, STATIC_MAC, 6) && x.vid == 10)
		x.allowed &= 1; /* its own port only */
	if (!x.drop && !x.allowed)
		x.drop = "nowhere to go in its VLAN";
	return x;
}

/* The frame as it leaves for a port that wants it tagged or not: the tag
 * it came with taken off, the VLAN's pushed (priority bits kept). */
static __u32 as_sent(const struct fz_frame *f, const struct expect *x,
		     int tagged, __u8 *o)
{
	__u32 skip = x->tagged ? 4 : 0, n = 12;

	memcpy(o, f->in, 12);
	if (tagged) {
		fz_put16(o + 12, 0x8100);
		fz_put16(o + 14, (x->tagged ? x->tci & 0xf000 : 0) | x->vid);
		n = 16;
	}
	memcpy(o + n, f->in + 12 + skip, f->len - 12 - skip);
	return n + f->len - 12 - skip;
}

/* Without its 802.1Q and 802.1ad tags (TC's test run shows only those in
 * the data, not the skb's). */
static __u32 untag(const __u8 *f, __u32 len, __u8 *o)
{
	__u32 off = 12;

	while (off + 4 <= len &&
	       (fz_get16(f + off) == 0x8100 || fz_get16(f + off) == 0x88a8))
		off += 4;
	memcpy(o, f, 12);
	memcpy(o + 12, f + off, len - off);
	return len - off + 12;
}

static int judge(struct fz_frame *f, int in, int direct)
{
	static __u8 a[FZ_MAX + 8], b[FZ_MAX + 8];
	struct expect x = expect(f->in, f->len, in, n.hook->tc);
	int e, fwd;
	__u32 la, lb;
	__u64 sent;

	e = fz_run(&n, f, in, direct);
	if (e)
		return e > 0 ? 0
			     : fz_fail(f, "the run failed: %s", strerror(-e));
	sent = fz_sent(&n);
	if (f->verdict != n.hook->drop && f->verdict != n.hook->redirect)
		return fz_fail(f, "verdict %d: neither drop nor redirect",
			       f->verdict);
	fwd = f->verdict == n.hook->redirect || sent;
	to_drop += !!x.drop;
	dropped += !x.drop && !fwd;
	one_port += fwd && sent && !(sent & (sent - 1));
	flooded += fwd && (!sent || (sent & (sent - 1)));
	if (x.drop && fwd)
		return fz_fail(f,
			       "forwarded (ports 0x%llx) a frame to drop: %s",
			       (unsigned long long)sent, x.drop);
	if (!fwd)
		return 0;
	if (sent & ~x.allowed)
		return fz_fail(f,
			       "VLAN %u: sent out of ports 0x%llx, allowed "
			       "0x%llx",
			       x.vid, (unsigned long long)sent,
			       (unsigned long long)x.allowed);
	if (f->verdict == n.hook->drop) /* TC's flood: clones, then a drop */
		return n.hook->tc ? 0 : fz_fail(f, "dropped but counted out");
	if (sent & (sent - 1))
		return fz_fail(f, "one redirect counted out of ports 0x%llx",
			       (unsigned long long)sent);
	if (n.hook->tc) {
		la = untag(f->in, f->len, a);
		lb = untag(f->out, f->out_len, b);
	} else {
		/* To one port (counted): tagged as it wants; a flood
		 * (devmap broadcast, counted by the egress program): with
		 * the VLAN's tag, which the egress program pops where
		 * wanted. */
		int q = sent ? __builtin_ctzll(sent) : -1;

		la = as_sent(f, &x, q < 0 || !(untagged[x.vid] >> q & 1), a);
		memcpy(b, f->out, lb = f->out_len);
	}
	if (la != lb || memcmp(a, b, la))
		return fz_fail(f, "out of ports 0x%llx: not the frame expected",
			       (unsigned long long)sent);
	return 0;
}

static int one(void *ctx, struct fz_rng *r, struct fz_frame *f)
{
	int in = fz_below(r, NP);

	fz_make(r, &hints, f);
	return judge(f, in, *(int *)ctx);
}

static int setup(struct nfc *nfc, const char *mode)
{
	json_t *c[NP] = {
		json_pack("{s:i}", "vlan", 10),
		json_pack("{s:s, s:s, s:i}", "mode", "trunk", "allowed",
			  "10,20", "native", 30),
		json_pack("{s:i}", "vlan", 20),
		json_pack("{s:i}", "vlan", 10),
	};
	json_t *st = json_pack("{s:s, s:i}", "port", "p1", "vlan", 10);
	char name[8];
	int r = nfc_nf_add(nfc, "bridge", "br0", mode, NULL);

	for (int p = 0; p < NP; p++) {
		snprintf(name, sizeof(name), "p%d", p + 1);
		if (!r)
			r = nfc_port_add(nfc, "br0", name, dev[p], c[p]);
		json_decref(c[p]);
	}
	if (!r)
		r = nfc_coll_add(nfc, "br0", "fdb", "02:00:00:00:01:01", st);
	json_decref(st);
	return r;
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
	dpt_root(root, sizeof(root), "brfz");
	if (dpt_veths("brz", NP, dev, peer))
		goto out;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	for (size_t h = 0; h < 2; h++) {
		const struct fz_hook *hk = &fz_hooks[h];

		if (setup(nfc, hk->mode) ||
		    fz_nf_open(&n, root, "nf/0-br0", 0, NP, hk)) {
			CHECK(0, "%s: set up br0: %s", hk->mode,
			      nfc_errmsg(nfc));
			continue;
		}
		for (int i = 0; i < NP; i++)
			n.ifindex[i] = if_nametoindex(dev[i]);
		for (int d = 0; d < 2; d++) {
			snprintf(name, sizeof(name), "bridge %s, %s", hk->mode,
				 d ? "attached" : "by tail call");
			to_drop = dropped = one_port = flooded = 0;
			fz_loop(&o, name, one,
				(void *)(d ? &direct : &by_tail_call));
			printf("# %s: to drop %ld, dropped anyway %ld, out "
			       "of one port %ld, flooded %ld\n",
			       name, to_drop, dropped, one_port, flooded);
		}
		fz_nf_close(&n);
		CHECK(!nfc_reset(nfc), "%s: reset", hk->mode);
	}
	nfc_close(nfc);
out:
	dpt_veths_del(NP, dev);
	dpt_root_gone(root);
	TEST_EXIT();
}
