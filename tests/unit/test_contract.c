// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data-plane contract on crafted packets (BPF_PROG_TEST_RUN): output to
 * the right port, per-port counters, drop, pass, the slow-path hand-off, a
 * tail call into the next NF, stale metadata, and nfc_pull (through the
 * router, its user), in XDP and TC builds.
 * Needs root: it loads real programs under a private pin root and makes
 * two veth pairs for the ports' peers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "router/router.h"
#include "dptest.h"

static char root[128];
static char dev[4][16];

static int pinned(const char *rel)
{
	return dpt_pinned(root, rel);
}

static void set_meta(int nf, int port)
{
	dpt_set_meta(root, nf, port);
}

static struct nfc_port_stats port_stats(int nf, int port)
{
	return dpt_port_stats(root, nf, port);
}

static __u64 global(int slot)
{
	return dpt_percpu_sum(root, "global", slot, 0, sizeof(__u64));
}

/* An Ethernet + IPv4 + UDP frame of `len` bytes. */
static void frame(unsigned char *f, size_t len)
{
	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00",
	       14);
	f[14] = 0x45;
	f[23] = 17;
	for (size_t i = 42; i < len; i++)
		f[i] = (unsigned char)i;
}

/* The program pinned at `prog` on a 128-byte frame, `repeat` times. */
static int run_n(const char *prog, int *retval, void *out, __u32 *out_len,
		 int repeat)
{
	unsigned char f[128];
	struct dpt_run r;
	int fd = pinned(prog), e;

	frame(f, sizeof(f));
	e = dpt_run_fd(fd, f, sizeof(f), 0, repeat, 0, &r);
	close(fd);
	*retval = r.verdict;
	if (out_len) {
		*out_len = r.out_len < *out_len ? r.out_len : *out_len;
		memcpy(out, r.out, *out_len);
	}
	return e;
}

static int run(const char *prog, int *retval, void *out, __u32 *out_len)
{
	return run_n(prog, retval, out, out_len, 1);
}

/* One run of `prog` on frame `in`; the frame as it leaves in out. */
static int run_frame(const char *prog, const void *in, __u32 len, int *retval,
		     void *out, __u32 *out_len)
{
	int fd = pinned(prog), r;

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = out, .data_size_out = *out_len, .repeat = 1);
	r = bpf_prog_test_run_opts(fd, &o);
	close(fd);
	*retval = o.retval;
	*out_len = o.data_size_out;
	return r;
}

static struct {
	int seen;
	unsigned char data[256];
	unsigned len, reason;
	char port[32];
} pktin;

static void on_pktin(void *ctx, const struct nfc_pktin_info *p)
{
	(void)ctx;
	pktin.seen++;
	pktin.len = p->cap_len < sizeof(pktin.data) ? p->cap_len : 0;
	memcpy(pktin.data, p->data, pktin.len);
	pktin.reason = p->reason;
	snprintf(pktin.port, sizeof(pktin.port), "%s", p->port);
}

static void contract(const char *mode, int redirect, int pass, int drop)
{
	char err[512];
	struct nfc *nfc;
	struct nfc_opts opts = {.pin_root = root};
	struct nfc_port_stats a, b;
	unsigned char expect[128];
	int ret;
	__u64 g;

	printf("# mode %s\n", mode);
	if (nfc_open(&nfc, &opts, err, sizeof(err))) {
		CHECK(0, "%s: open: %s", mode, err);
		return;
	}
	json_t *cfg = json_pack("{s:s}", "slow_path", "off");
	CHECK(!nfc_nf_add(nfc, "forwarder", "f1", mode, cfg), "%s: add f1 %s",
	      mode, nfc_errmsg(nfc));
	json_decref(cfg);
	nfc_port_add(nfc, "f1", "p1", dev[0], NULL);
	nfc_port_add(nfc, "f1", "p2", dev[1], NULL);

	/* output: in on p1 (0), out of p2 (1), counted both sides */
	set_meta(0, 0);
	CHECK(!run("nf/0-f1/prog", &ret, NULL, NULL) && ret == redirect,
	      "%s: in on p1 -> redirect (verdict %d)", mode, ret);
	a = port_stats(0, 0);
	b = port_stats(0, 1);
	CHECK(a.rx_packets == 1 && a.rx_bytes == 128,
	      "%s: p1 rx 1 / 128 B (%llu / %llu)", mode, a.rx_packets,
	      a.rx_bytes);
	CHECK(b.tx_packets == 1 && b.tx_bytes == 128 && a.tx_packets == 0,
	      "%s: p2 tx 1 / 128 B, p1 tx 0", mode);
	set_meta(0, 1);
	run("nf/0-f1/prog", &ret, NULL, NULL);
	CHECK(port_stats(0, 0).tx_packets == 1, "%s: in on p2 -> out of p1",
	      mode);

	/* metadata for another NF: dropped, counted, never forwarded */
	g = global(NFC_R_STALE_META);
	set_meta(7, 0);
	run("nf/0-f1/prog", &ret, NULL, NULL);
	CHECK(ret == drop && global(NFC_R_STALE_META) == g + 1 &&
		      port_stats(0, 1).tx_packets == 1,
	      "%s: stale metadata dropped and counted", mode);

	/* drop: p2 unconnected */
	nfc_disconnect(nfc, "f1", "p2");
	g = global(NFC_R_NO_PEER);
	set_meta(0, 0);
	run("nf/0-f1/prog", &ret, NULL, NULL);
	a = port_stats(0, 0);
	CHECK(ret == drop && a.drops == 1 && global(NFC_R_NO_PEER) == g + 1,
	      "%s: output to an unconnected port: drop, counted on p1 and as "
	      "'%s'",
	      mode, nfc_reason_name(NFC_R_NO_PEER));

	/* tail call: f1:p2 -> f2:p1, f2:p2 -> netdev */
	nfc_nf_add(nfc, "forwarder", "f2", mode, NULL);
	nfc_port_add(nfc, "f2", "p1", "f1:p2", NULL);
	CHECK(!nfc_port_add(nfc, "f2", "p2", dev[1], NULL), "%s: chain f1-f2",
	      mode);
	set_meta(0, 0);
	unsigned char out[256];
	__u32 out_len = sizeof(out);

	frame(expect, sizeof(expect));
	CHECK(!run("nf/0-f1/prog", &ret, out, &out_len) && ret == redirect &&
		      port_stats(1, 0).rx_packets == 1 &&
		      port_stats(1, 1).tx_packets == 1,
	      "%s: f1 tail-calls f2, which redirects", mode);
	CHECK(out_len == 128 && !memcmp(out, expect, 128),
	      "%s: the frame is untouched", mode);

	/* pass: a counter on a lone netdev, ingress; its chain ends in the
	 * stack */
	nfc_nf_add(nfc, "counter", "c1", mode, NULL);
	CHECK(!nfc_attach(nfc, "c1", dev[2], "ingress", NULL),
	      "%s: counter on a lone netdev: %s", mode, nfc_errmsg(nfc));
	json_t *show = nfc_show(nfc);
	json_t *hooks = json_object_get(show, "hooks"), *h;
	size_t i;
	int stub = -1;

	json_array_foreach (hooks, i, h)
		if (!strcmp(json_string_value(json_object_get(h, "netdev")),
			    dev[2]))
			stub = (int)i;
	json_decref(show);
	/* Stub numbers follow allocation order: f1's two netdevs, then this. */
	char stub_prog[64];

	snprintf(stub_prog, sizeof(stub_prog), "stub/%d/prog", stub);
	CHECK(stub >= 0 && !run(stub_prog, &ret, NULL, NULL) && ret == pass &&
		      port_stats(2, 0).rx_packets == 1,
	      "%s: stub -> counter -> pass to the stack (verdict %d)", mode,
	      ret);

	/* slow path: the frame and its metadata reach the callback */
	if (!strcmp(mode, "tc")) {
		/* same mechanism, same code: XDP covers it */
		nfc_reset(nfc);
		nfc_close(nfc);
		return;
	}
	nfc_set_pktin_hook(nfc, on_pktin, NULL);
	cfg = json_pack("{s:s}", "slow_path", "on");
	CHECK(!nfc_nf_set(nfc, "f2", cfg), "%s: f2 slow_path=on", mode);
	json_decref(cfg);
	memset(&pktin, 0, sizeof(pktin));
	set_meta(1, 0);
	run("nf/1-f2/prog", &ret, NULL, NULL);
	nfc_poll(nfc, 100);
	CHECK(ret == drop && pktin.seen == 1 && pktin.len == 128 &&
		      !memcmp(pktin.data, expect, 128) &&
		      !strcmp(pktin.port, "p1") &&
		      pktin.reason == NFC_REASON_NF_BASE,
	      "%s: packet-in carries the frame, its port and reason", mode);
	json_t *gs = nfc_global_stats(nfc);

	CHECK(json_integer_value(json_object_get(gs, "slow_path_events")) == 1,
	      "%s: slow-path events counted", mode);
	json_decref(gs);

	/* A ring that nobody drains fills up: the packet-ins that do not fit
	 * are dropped and counted, and every one is accounted for. 50,000
	 * records of 160 bytes are eight times the 1 MiB ring. */
	memset(&pktin, 0, sizeof(pktin));
	run_n("nf/1-f2/prog", &ret, NULL, NULL, 50000);
	while (nfc_poll(nfc, 0) > 0)
		;
	gs = nfc_global_stats(nfc);
	json_int_t lost =
		json_integer_value(json_object_get(gs, "slow_path_ring_drops"));
	json_int_t events =
		json_integer_value(json_object_get(gs, "slow_path_events"));
	CHECK(lost > 0 && pktin.seen + lost == 50000 && events == 50001,
	      "%s: ring full: %lld delivered + %lld counted as lost = 50000",
	      mode, (long long)pktin.seen, (long long)lost);
	json_decref(gs);
	CHECK(!nfc_reset(nfc), "%s: reset", mode);
	nfc_close(nfc);
}

/*
 * nfc_pull, in both hooks: the router pulls its first 64 bytes before it
 * reads a header, so loading it proves the verifier takes nfc_pull, and an
 * ARP request for its port's address shorter than that (42 bytes: the pull
 * must stop at the frame's end) and one longer (padded to 128) must both
 * be answered. A test run's skb is linear: the pull itself is exercised by
 * the namespace tests, where frames come off a veth.
 */
static void pull(const char *mode, int redirect)
{
	static const unsigned char arp[42] =
		{
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2,	 0,
			0,    0,    0,	  1,	0x08, 0x06, 0,	 1,
			0x08, 0,    6,	  4,	0,    1, /* Ethernet, IPv4,
							    request */
			2,    0,    0,	  0,	0,    1,    198, 51,
			100,  2, /* sender */
			0,    0,    0,	  0,	0,    0,    198, 51,
			100,  1, /* target: the port */
		};
	json_t *ip = json_pack("{s:s}", "ip", "198.51.100.1/26");
	unsigned char in[128] = {0}, out[256];
	struct nfc_opts opts = {.pin_root = root};
	struct rt_port rp = {0};
	__u32 k = 0, out_len;
	struct nfc *nfc;
	char err[512];
	int fd, ret;

	if (nfc_open(&nfc, &opts, err, sizeof(err))) {
		CHECK(0, "%s: open: %s", mode, err);
		json_decref(ip);
		return;
	}
	CHECK(!nfc_nf_add(nfc, "router", "r1", mode, NULL) &&
		      !nfc_port_add(nfc, "r1", "p1", dev[0], ip),
	      "%s: a router (it calls nfc_pull) loads: %s", mode,
	      nfc_errmsg(nfc));
	json_decref(ip);
	fd = pinned("nf/0-r1/map/rt_ports");
	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &k, &rp);
		close(fd);
	}
	memcpy(in, arp, sizeof(arp));
	for (__u32 len = sizeof(arp); len <= sizeof(in); len += 128 - 42) {
		set_meta(0, 0);
		out_len = sizeof(out);
		CHECK(!run_frame("nf/0-r1/prog", in, len, &ret, out,
				 &out_len) &&
			      ret == redirect && out_len == len &&
			      out[21] == 2 && !memcmp(out, arp + 6, 6) &&
			      !memcmp(out + 6, rp.mac, 6) &&
			      !memcmp(out + 22, rp.mac, 6),
		      "%s: a %u-byte ARP request is answered out of p1 "
		      "(verdict %d, %u bytes)",
		      mode, len, ret, out_len);
	}
	CHECK(!nfc_reset(nfc), "%s: reset", mode);
	nfc_close(nfc);
}

int main(void)
{
	char far[3][20];

	dpt_root(root, sizeof(root), "ct");
	for (int i = 0; i < 4; i++)
		snprintf(dev[i], sizeof(dev[i]), "ct%d%c", getpid() % 100000,
			 'a' + i);
	for (int i = 1; i < 3; i++)
		snprintf(far[i], sizeof(far[i]), "%sx", dev[i]);
	dpt_veth(dev[0], dev[3]);
	dpt_veth(dev[1], far[1]);
	dpt_veth(dev[2], far[2]);
	contract("xdp", XDP_REDIRECT, XDP_PASS, XDP_DROP);
	contract("xdp-generic", XDP_REDIRECT, XDP_PASS, XDP_DROP);
	contract("tc", 7 /* TC_ACT_REDIRECT */, 0 /* TC_ACT_OK */,
		 2 /* TC_ACT_SHOT */);
	pull("xdp", XDP_REDIRECT);
	pull("tc", 7 /* TC_ACT_REDIRECT */);
	dpt_sh("ip link del %s; ip link del %s; ip link del %s", dev[0], dev[1],
	       dev[2]);
	dpt_root_gone(root);
	TEST_EXIT();
}
