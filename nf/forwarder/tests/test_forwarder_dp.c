// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The forwarder's data plane on crafted frames (BPF_PROG_TEST_RUN), in each
 * mode: what enters p1 leaves p2 and back, untouched and counted; its
 * directly attached program (nfc_direct) finds the port by the netdev the
 * frame came in on; in XDP a live-frames run puts the frame on the peer
 * netdev for real; slow_path=on sends the frame up (packet-in), and the
 * forwarder's control plane sends it on out of the other port.
 *
 * Ports: p1 on veth dev[0], p2 on dev[1]; the far ends (peer[]) stay in the
 * root namespace and count what they received.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include "nfchain/nfchain.h"
#include "dptest.h"

enum { XDP_DROP_ = 1, XDP_REDIRECT_ = 4, TC_SHOT = 2, TC_REDIRECT = 7 };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];

/* 60 bytes, an ethertype no stack answers (local experimental). */
static void frame(__u8 *f)
{
	memset(f, 0, 60);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x88\xb5",
	       14);
	for (int i = 14; i < 60; i++)
		f[i] = (__u8)i;
}

static int run(int in_port, struct dpt_run *r)
{
	__u8 f[60];

	frame(f);
	dpt_set_meta(root, 0, in_port);
	return dpt_run(root, "nf/0-f1/prog", f, sizeof(f), r);
}

/* nfc_direct as the hook on dev[in] runs it: no metadata set. */
static int run_direct(int in, __u32 flags, struct dpt_run *r)
{
	int fd = dpt_pinned(root, "nf/0-f1/progs/nfc_direct"), e;
	__u8 f[60];

	frame(f);
	e = dpt_run_fd(fd, f, sizeof(f), if_nametoindex(dev[in]), 1, flags, r);
	if (fd >= 0)
		close(fd);
	return e;
}

static __u64 tx(int port)
{
	return dpt_port_stats(root, 0, port).tx_packets;
}

static struct {
	int seen;
	char port[16];
	unsigned reason;
} pktin;

static void on_pktin(void *ctx, const struct nfc_pktin_info *p)
{
	(void)ctx;
	pktin.seen++;
	snprintf(pktin.port, sizeof(pktin.port), "%s", p->port);
	pktin.reason = p->reason;
}

/* rx of peer[i] reaching `want` within a second: frames sent for real
 * arrive asynchronously. */
static int peer_rx_reaches(int i, __u64 want)
{
	for (int t = 0; t < 100 && dpt_netdev_rx(peer[i]) < want; t++)
		usleep(10000);
	return dpt_netdev_rx(peer[i]) >= want;
}

static void one_mode(struct nfc *nfc, const char *mode, int redirect, int drop)
{
	struct nfc_port_stats a, b;
	struct dpt_run r;
	__u8 f[60];
	__u64 t, rx;
	json_t *cfg;
	int e;

	test_group = mode;
	frame(f);
	if (nfc_nf_add(nfc, "forwarder", "f1", mode, NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL)) {
		CHECK(0, "set up f1: %s", nfc_errmsg(nfc));
		return;
	}

	CHECK(!run(0, &r) && r.verdict == redirect,
	      "in on p1: redirected (verdict %d)", r.verdict);
	CHECK(r.out_len == sizeof(f) && !memcmp(r.out, f, sizeof(f)),
	      "... the frame untouched (%u bytes)", r.out_len);
	a = dpt_port_stats(root, 0, 0);
	b = dpt_port_stats(root, 0, 1);
	CHECK(a.rx_packets == 1 && a.rx_bytes == 60 && b.tx_packets == 1 &&
		      b.tx_bytes == 60 && a.tx_packets == 0,
	      "... counted: p1 rx 1 / 60 B, p2 tx 1 / 60 B, p1 tx 0");
	CHECK(!run(1, &r) && r.verdict == redirect && tx(0) == 1,
	      "in on p2: out of p1");

	if (strcmp(mode, "tc")) {
		t = tx(1);
		CHECK(!run_direct(0, 0, &r) && r.verdict == redirect &&
			      tx(1) == t + 1,
		      "nfc_direct on p1's netdev: out of p2 (verdict %d)",
		      r.verdict);
		t = tx(0);
		CHECK(!run_direct(1, 0, &r) && r.verdict == redirect &&
			      tx(0) == t + 1,
		      "nfc_direct on p2's netdev: out of p1");
	}
	if (!strcmp(mode, "xdp")) {
		int e;

		rx = dpt_netdev_rx(peer[1]);
		e = run_direct(0, BPF_F_TEST_XDP_LIVE_FRAMES, &r);
		if (DPT_LIVE_REFUSED(e))
			DPT_SKIP_LIVE("live frames in on p1 and p2");
		else {
			CHECK(!e && peer_rx_reaches(1, rx + 1),
			      "live frame in on p1: received by p2's peer "
			      "(%llu -> %llu)",
			      (unsigned long long)rx,
			      (unsigned long long)dpt_netdev_rx(peer[1]));
			rx = dpt_netdev_rx(peer[0]);
			CHECK(!run_direct(1, BPF_F_TEST_XDP_LIVE_FRAMES, &r) &&
				      peer_rx_reaches(0, rx + 1),
			      "live frame in on p2: received by p1's peer");
		}
	}

	/* slow_path=on: up, then out of the other port by packet-out. */
	cfg = json_pack("{s:s}", "slow_path", "on");
	e = nfc_nf_set(nfc, "f1", cfg);
	CHECK(!e, "slow_path=on%s%s", e ? ": " : "", e ? nfc_errmsg(nfc) : "");
	json_decref(cfg);
	memset(&pktin, 0, sizeof(pktin));
	rx = dpt_netdev_rx(peer[1]);
	t = tx(1);
	CHECK(!run(0, &r) && r.verdict == drop && tx(1) == t,
	      "slow path: in on p1, not forwarded in the kernel (verdict %d)",
	      r.verdict);
	for (int i = 0; i < 10 && !pktin.seen; i++)
		nfc_poll(nfc, 100);
	CHECK(pktin.seen == 1 && !strcmp(pktin.port, "p1") &&
		      pktin.reason == NFC_REASON_NF_BASE,
	      "slow path: one packet-in from p1 (%d, port '%s', reason %u)",
	      pktin.seen, pktin.port, pktin.reason);
	CHECK(peer_rx_reaches(1, rx + 1),
	      "slow path: packet-out reached p2's peer (%llu -> %llu)",
	      (unsigned long long)rx,
	      (unsigned long long)dpt_netdev_rx(peer[1]));

	cfg = json_pack("{s:s}", "slow_path", "off");
	nfc_nf_set(nfc, "f1", cfg);
	json_decref(cfg);
	t = tx(1);
	CHECK(!run(0, &r) && r.verdict == redirect && tx(1) == t + 1,
	      "slow_path=off: in the kernel again, counters kept (p2 tx "
	      "%llu)",
	      (unsigned long long)tx(1));
	CHECK(!nfc_reset(nfc), "reset");
}

int main(void)
{
	struct nfc *nfc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	dpt_root(root, sizeof(root), "fwdp");
	if (dpt_veths("fwd", 2, dev, peer))
		goto out;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	nfc_set_pktin_hook(nfc, on_pktin, NULL);
	one_mode(nfc, "xdp", XDP_REDIRECT_, XDP_DROP_);
	one_mode(nfc, "xdp-generic", XDP_REDIRECT_, XDP_DROP_);
	one_mode(nfc, "tc", TC_REDIRECT, TC_SHOT);
	nfc_close(nfc);
out:
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	TEST_EXIT();
}
