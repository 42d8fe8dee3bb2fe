// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The bridge's data plane on crafted frames (BPF_PROG_TEST_RUN), in XDP
 * and in TC: VLAN classification, tags pushed, popped and rewritten,
 * learning (new, moved, refreshed, never over a static entry), known
 * unicast to one port, flooding, the drops. In XDP also a live-frames run
 * of a flood, which goes through the devmap broadcast and its egress
 * program for real.
 *
 * Ports: p1 access VLAN 10, p2 trunk 10,20, p3 access VLAN 20, p4 access
 * VLAN 10, each on a veth whose other end stays in the root namespace
 * (verdicts, data_out and counters are what is checked; the live flood
 * also counts what the far ends received).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "nfchain/nf.h"
#include "bridge/bridge.h"
#include "dptest.h"

enum { XDP_DROP_ = 1, XDP_REDIRECT_ = 4, TC_SHOT = 2, TC_REDIRECT = 7 };

#define NDEV 4
static char root[128], dev[NDEV][IF_NAMESIZE], peer[NDEV][IF_NAMESIZE];

static const __u8 BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const __u8 M1[6] = {2, 0, 0, 0, 1, 1}, M2[6] = {2, 0, 0, 0, 1, 2};
static const __u8 M3[6] = {2, 0, 0, 0, 1, 3}, M4[6] = {2, 0, 0, 0, 1, 4};
static const __u8 S[6] = {2, 0, 0, 0, 1, 0x99}, MC[6] = {3, 0, 0, 0, 1, 5};
/* IEEE 802.1D reserved: 01:80:c2:00:00:00 (STP) and ...:03 (802.1X). */
static const __u8 BPDU[6] = {1, 0x80, 0xc2, 0, 0, 0},
		  EAPOL[6] = {1, 0x80, 0xc2, 0, 0, 3}, ZERO[6];

/* A 60-byte frame (64 when tagged): tci < 0 means untagged. */
static int frame(__u8 *f, const __u8 *dst, const __u8 *src, int tci)
{
	int off = 12;

	memset(f, 0, 64);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (tci >= 0) {
		f[12] = NFC_ETH_P_8021Q >> 8;
		f[13] = NFC_ETH_P_8021Q & 0xff;
		f[14] = tci >> 8;
		f[15] = tci & 0xff;
		off = 16;
	}
	f[off] = 0x88;
	f[off + 1] = 0xb5;
	return tci >= 0 ? 64 : 60;
}

/* The frame's tag as the data plane left it: -1 if untagged. */
static int tag_of(const __u8 *f, __u32 len)
{
	if (len < NFC_VLAN_ETH_HLEN || (f[12] << 8 | f[13]) != NFC_ETH_P_8021Q)
		return -1;
	return f[14] << 8 | f[15];
}

static int obj(const char *rel)
{
	return dpt_pinned(root, rel);
}

static __u64 tx(int port)
{
	return dpt_port_stats(root, 0, port).tx_packets;
}

static __u64 counter(__u32 k)
{
	return dpt_percpu_sum(root, "nf/0-br0/map/br_counters", k, 0,
			      sizeof(__u64));
}

/* Learned port of {vid, mac}, -1 if none. */
static int learned(int vid, const __u8 *mac)
{
	int fd = obj("nf/0-br0/map/br_fdb"), r = -1;
	struct br_fdb_key k = {.vid = vid};
	struct br_fdb_val v;

	memcpy(k.mac, mac, 6);
	if (!bpf_map_lookup_elem(fd, &k, &v))
		r = v.port;
	close(fd);
	return r;
}

static int run(int in_port, const __u8 *f, int len, struct dpt_run *r)
{
	dpt_set_meta(root, 0, in_port);
	return dpt_run(root, "nf/0-br0/prog", f, len, r);
}

static int setup(struct nfc *nfc, const char *mode)
{
	json_t *c1 = json_pack("{s:i}", "vlan", 10);
	json_t *c2 =
		json_pack("{s:s, s:s}", "mode", "trunk", "allowed", "10,20");
	json_t *c3 = json_pack("{s:i}", "vlan", 20);
	json_t *c4 = json_pack("{s:i}", "vlan", 10);
	int r = nfc_nf_add(nfc, "bridge", "br0", mode, NULL);

	if (!r)
		r = nfc_port_add(nfc, "br0", "p1", dev[0], c1);
	if (!r)
		r = nfc_port_add(nfc, "br0", "p2", dev[1], c2);
	if (!r)
		r = nfc_port_add(nfc, "br0", "p3", dev[2], c3);
	if (!r)
		r = nfc_port_add(nfc, "br0", "p4", dev[3], c4);
	if (r)
		printf("# setup (%s): %s\n", mode, nfc_errmsg(nfc));
	json_decref(c1);
	json_decref(c2);
	json_decref(c3);
	json_decref(c4);
	return r;
}

static __u64 peer_rx(int i)
{
	return dpt_netdev_rx(peer[i]);
}

static void xdp_cases(struct nfc *nfc)
{
	__u8 f[64];
	struct dpt_run r;
	__u64 t0, t1, t2;
	int n;

	/* Learning and the flood's normalized frame. */
	n = frame(f, BCAST, M1, -1);
	run(0, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && tag_of(r.out, r.out_len) == 10,
	      "xdp: broadcast on access p1: flooded, tagged with VLAN 10 for "
	      "the fan-out (verdict %d, tag %d)",
	      r.verdict, tag_of(r.out, r.out_len));
	CHECK(learned(10, M1) == 0, "xdp: M1 learned on p1 in VLAN 10");
	CHECK(counter(BR_C_LEARNED) == 1 && counter(BR_C_FLOODED) == 1,
	      "xdp: counted: 1 learned, 1 flooded");

	/* Tag popped: trunk -> access. */
	t0 = tx(0);
	n = frame(f, M1, M2, 10);
	run(1, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && r.out_len == 60 &&
		      tag_of(r.out, r.out_len) < 0 && tx(0) == t0 + 1,
	      "xdp: tagged 10 from trunk p2 to M1: out of p1, tag popped "
	      "(len %u)",
	      r.out_len);
	CHECK(!memcmp(r.out, M1, 6) && !memcmp(r.out + 6, M2, 6) &&
		      r.out[12] == 0x88 && r.out[13] == 0xb5,
	      "xdp: ... addresses and ethertype intact");
	CHECK(learned(10, M2) == 1, "xdp: M2 learned on p2 in VLAN 10");

	/* Tag pushed: access -> trunk. */
	t1 = tx(1);
	n = frame(f, M2, M1, -1);
	run(0, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && r.out_len == 64 &&
		      tag_of(r.out, r.out_len) == 10 && tx(1) == t1 + 1 &&
		      r.out[16] == 0x88 && r.out[17] == 0xb5,
	      "xdp: untagged from p1 to M2: out of trunk p2, tag 10 pushed "
	      "(len %u, tag %d)",
	      r.out_len, tag_of(r.out, r.out_len));

	/* Priority tag: classified by the port, priority bits kept. */
	n = frame(f, M2, M4, 0x6000);
	run(0, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && tag_of(r.out, r.out_len) == 0x600a,
	      "xdp: priority-tagged frame on p1: VLAN 10, priority kept on "
	      "the trunk (tci 0x%x)",
	      tag_of(r.out, r.out_len));

	/* VLAN 20 is another FDB: M1 is unknown there. */
	t2 = tx(2);
	n = frame(f, M1, M3, 20);
	run(1, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && tag_of(r.out, r.out_len) < 0 &&
		      tx(2) == t2 + 1 && learned(20, M3) == 1 &&
		      learned(20, M1) < 0,
	      "xdp: M1 in VLAN 20 is unknown: flooded in 20, whose only other "
	      "member p3 gets it as a unicast, untagged; M3 learned there");
	t1 = tx(1);
	n = frame(f, M3, M4, -1);
	run(2, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && tag_of(r.out, r.out_len) == 20 &&
		      tx(1) == t1 + 1,
	      "xdp: access p3 (VLAN 20) to M3: trunk p2, tag 20 pushed");

	/* Drops. */
	n = frame(f, M1, M3, 30);
	run(1, f, n, &r);
	CHECK(r.verdict == XDP_DROP_ && counter(BR_C_DROP_VLAN) == 1,
	      "xdp: VLAN 30 on the trunk: dropped, counted");
	n = frame(f, M2, M4, 10);
	run(0, f, n, &r);
	CHECK(r.verdict == XDP_DROP_ && counter(BR_C_DROP_VLAN) == 2,
	      "xdp: tagged frame on an access port: dropped");
	n = frame(f, M2, MC, -1);
	run(0, f, n, &r);
	CHECK(r.verdict == XDP_DROP_ && counter(BR_C_DROP_SRC) == 1,
	      "xdp: multicast source: dropped");
	/* Found by a helper, beside a Linux bridge: both were forwarded. */
	n = frame(f, M2, ZERO, -1);
	run(0, f, n, &r);
	CHECK(r.verdict == XDP_DROP_ && counter(BR_C_DROP_SRC) == 2,
	      "xdp: all-zero source: dropped as a bad source");
	n = frame(f, EAPOL, M1, -1);
	run(0, f, n, &r);
	CHECK(r.verdict == XDP_DROP_,
	      "xdp: to 01:80:c2:00:00:03 (802.1X, reserved link-local): "
	      "dropped, not flooded (verdict %d)",
	      r.verdict);
	n = frame(f, BPDU, M1, -1);
	run(0, f, n, &r);
	CHECK(r.verdict != XDP_DROP_,
	      "xdp: to 01:80:c2:00:00:00 (STP, which the bridge does not "
	      "run): flooded as Linux does with STP off (verdict %d)",
	      r.verdict);

	/* A station that moves: relearned at once (here onto the port its
	 * destination is behind: learned, then dropped as a hairpin). */
	n = frame(f, M2, M1, 10);
	run(1, f, n, &r);
	CHECK(learned(10, M1) == 1 && counter(BR_C_MOVED) == 1,
	      "xdp: M1 seen on p2: moved there, counted");
	CHECK(r.verdict == XDP_DROP_ && counter(BR_C_DROP_HAIRPIN) == 1,
	      "xdp: ... its frame to M2, also behind p2, is not sent back");

	/* Static entries: win over learning, drop a claim from elsewhere. */
	{
		json_t *fl = json_pack("{s:s, s:i}", "port", "p3", "vlan", 20);
		int e = nfc_coll_add(nfc, "br0", "fdb", "02:00:00:00:01:99",
				     fl);

		json_decref(fl);
		CHECK(!e, "xdp: static S on p3 in VLAN 20 added (%s)",
		      e ? nfc_errmsg(nfc) : "ok");
	}
	n = frame(f, M3, S, 20);
	run(1, f, n, &r);
	CHECK(r.verdict == XDP_DROP_ && learned(20, S) < 0 &&
		      counter(BR_C_DROP_LOOP) == 1,
	      "xdp: S claimed on p2: dropped, not learned");
	t2 = tx(2);
	n = frame(f, S, M3, 20);
	run(1, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && r.out_len == 60 && tx(2) == t2 + 1,
	      "xdp: to static S from the trunk: out of p3 untagged");
	n = frame(f, S, M1, 10);
	run(1, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && tag_of(r.out, r.out_len) == 10 &&
		      tx(2) == t2 + 1,
	      "xdp: S in VLAN 10 is another key: flooded in VLAN 10");
}

/* Port of static entry {vid, mac} as the data plane reads it; -1 if
 * there is none. */
static long static_port(int vid, const __u8 *mac)
{
	int fd = obj("nf/0-br0/map/br_static");
	struct br_fdb_key k = {.vid = vid};
	struct br_static_val v;
	long r = -1;

	memcpy(k.mac, mac, 6);
	if (!bpf_map_lookup_elem(fd, &k, &v))
		r = v.port;
	close(fd);
	return r;
}

/* A broadcast from S in VLAN 20 in on p2: not dropped as a claim of a
 * static address, and S learned on p2 (an inactive entry acts as none). */
static int s_learned_on_p2(void)
{
	__u64 loops = counter(BR_C_DROP_LOOP);
	struct dpt_run r;
	__u8 f[64];
	int n = frame(f, BCAST, S, 20);

	run(1, f, n, &r);
	return counter(BR_C_DROP_LOOP) == loops && learned(20, S) == 1;
}

/* A static entry follows its port by name: inert while the port is gone,
 * out of it again once a port of that name is back. */
static void xdp_static_follow(struct nfc *nfc)
{
	json_t *c3 = json_pack("{s:i}", "vlan", 20);
	struct dpt_run r;
	__u8 f[64];
	int n, e;

	CHECK(static_port(20, S) == 2, "static: S resolves to p3 (index 2)");
	e = nfc_port_del(nfc, "br0", "p3");
	CHECK(!e && static_port(20, S) == BR_PORT_NONE,
	      "static: p3 deleted: S's entry is inert (%s)",
	      e ? nfc_errmsg(nfc) : "ok");
	/* Inactive, it acts as none: S is learned where it shows up. */
	CHECK(s_learned_on_p2(),
	      "static: while inactive, S seen on p2 is learned there, not "
	      "dropped (learned on %d)",
	      learned(20, S));
	nfc_tick(nfc);
	CHECK(learned(20, S) == 1,
	      "static: ... and a tick keeps it (it flushed it, as if the "
	      "static entry were active)");
	e = nfc_port_add(nfc, "br0", "p3", dev[2], c3);
	CHECK(!e && static_port(20, S) == 2,
	      "static: p3 added again: S resolves to it (%s)",
	      e ? nfc_errmsg(nfc) : "ok");
	CHECK(learned(20, S) < 0,
	      "static: ... and what was learned of S while inactive is gone");
	/* Its port no longer carrying its VLAN makes it inactive too, in the
	 * data plane as in `show fdb` (found by a helper: listed inactive,
	 * it still dropped S's frames on other ports). */
	{
		json_t *c20 = json_pack("{s:i}", "vlan", 30);

		e = nfc_port_set(nfc, "br0", "p3", c20);
		json_decref(c20);
		CHECK(!e && static_port(20, S) == BR_PORT_NONE,
		      "static: p3 moved to VLAN 30: S's entry is inert (%s)",
		      e ? nfc_errmsg(nfc) : "ok");
		CHECK(s_learned_on_p2(),
		      "static: ... S seen on p2 then: learned, not dropped");
		e = nfc_port_set(nfc, "br0", "p3", c3);
		CHECK(!e && static_port(20, S) == 2 && learned(20, S) < 0,
		      "static: p3 back in VLAN 20: S's entry resolves to it, "
		      "the learned one flushed (%s)",
		      e ? nfc_errmsg(nfc) : "ok");
	}
	n = frame(f, S, M3, 20);
	run(1, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && r.out_len == 60,
	      "static: to S from the trunk: out of p3 untagged again");
	json_decref(c3);
}

/*
 * The forwarding cache: per CPU, so the runs are pinned to one CPU (each
 * decision after the first is then a hit). A decision it holds must not
 * outlive the station moving, its entry deleted, or a static entry taking
 * its address. VLAN 10: p1, p2 (trunk), p4.
 */
static void xdp_cache(struct nfc *nfc)
{
	static const __u8 M5[6] = {2, 0, 0, 0, 1, 6};
	cpu_set_t one, was;
	__u64 t1, t3, fl;
	__u8 f[64];
	struct dpt_run r;
	json_t *fl4;
	int n, e, ok = 1;

	sched_getaffinity(0, sizeof(was), &was);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);

	n = frame(f, BCAST, M4, -1);
	run(3, f, n, &r); /* M4 now behind p4 */
	t3 = tx(3);
	n = frame(f, M4, M5, -1);
	for (int i = 0; i < 3; i++) {
		run(0, f, n, &r);
		ok &= r.verdict == XDP_REDIRECT_;
	}
	CHECK(ok && learned(10, M4) == 3 && tx(3) == t3 + 3,
	      "cache: M5 on p1 to M4 on p4, 3 times: out of p4");

	n = frame(f, BCAST, M4, 10);
	run(1, f, n, &r); /* M4 moves behind the trunk p2 */
	t1 = tx(1);
	t3 = tx(3);
	n = frame(f, M4, M5, -1);
	run(0, f, n, &r);
	CHECK(r.verdict == XDP_REDIRECT_ && tx(1) == t1 + 1 && tx(3) == t3,
	      "cache: M4 moved to p2: the next frame to it goes out of p2, "
	      "not the cached p4");

	e = nfc_coll_del(nfc, "br0", "fdb", "02:00:00:00:01:04@10");
	fl = counter(BR_C_FLOODED);
	run(0, f, n, &r);
	CHECK(!e && counter(BR_C_FLOODED) == fl + 1,
	      "cache: M4's entry deleted: the next frame to it is flooded "
	      "(%s)",
	      e ? nfc_errmsg(nfc) : "ok");

	n = frame(f, BCAST, M4, -1);
	run(3, f, n, &r); /* learned again, behind p4 */
	n = frame(f, M4, M5, -1);
	run(0, f, n, &r);
	run(0, f, n, &r);
	fl4 = json_pack("{s:s, s:i}", "port", "p2", "vlan", 10);
	e = nfc_coll_add(nfc, "br0", "fdb", "02:00:00:00:01:04", fl4);
	json_decref(fl4);
	t1 = tx(1);
	t3 = tx(3);
	run(0, f, n, &r);
	CHECK(!e && r.verdict == XDP_REDIRECT_ && tx(1) == t1 + 1 &&
		      tx(3) == t3,
	      "cache: M4 made static on p2: the next frame goes out of p2, "
	      "not the cached p4 (%s)",
	      e ? nfc_errmsg(nfc) : "ok");
	nfc_coll_del(nfc, "br0", "fdb", "02:00:00:00:01:04");
	sched_setaffinity(0, sizeof(was), &was);
}

/* A flood run for real: devmap broadcast, egress program per port. The
 * frame is a broadcast on p1 (VLAN 10 in the first bridge, 1 in the
 * plain one); `want` is how many copies each port should send. */
static void xdp_live_flood(const char *what, const int want[NDEV])
{
	__u64 t[NDEV], rx[NDEV];
	__u8 f[64];
	int fd = obj("nf/0-br0/prog"), n, e, good = 1;
	struct dpt_run r;

	for (int i = 0; i < NDEV; i++) {
		t[i] = tx(i);
		rx[i] = peer_rx(i);
	}
	n = frame(f, BCAST, M1, -1);
	/* The test run's "ingress" is p1's netdev: the broadcast must
	 * exclude it. */
	dpt_set_meta(root, 0, 0);
	e = dpt_run_fd(fd, f, n, if_nametoindex(dev[0]), 1,
		       BPF_F_TEST_XDP_LIVE_FRAMES, &r);
	close(fd);
	if (DPT_LIVE_REFUSED(e)) {
		DPT_SKIP_LIVE(what);
		return;
	}
	usleep(200000);
	CHECK(!e, "%s: flood run (%s)", what, e ? strerror(-e) : "ok");
	for (int i = 0; i < NDEV; i++)
		good &= tx(i) - t[i] == (__u64)want[i] &&
			peer_rx(i) - rx[i] == (__u64)want[i];
	CHECK(good,
	      "%s: egress program: copies out of p1..p4 %d %d %d %d (sent "
	      "%llu %llu %llu %llu, received %llu %llu %llu %llu)",
	      what, want[0], want[1], want[2], want[3],
	      (unsigned long long)(tx(0) - t[0]),
	      (unsigned long long)(tx(1) - t[1]),
	      (unsigned long long)(tx(2) - t[2]),
	      (unsigned long long)(tx(3) - t[3]),
	      (unsigned long long)(peer_rx(0) - rx[0]),
	      (unsigned long long)(peer_rx(1) - rx[1]),
	      (unsigned long long)(peer_rx(2) - rx[2]),
	      (unsigned long long)(peer_rx(3) - rx[3]));
}

/* A full FDB: the least recently used entry goes, and it is counted. */
static void xdp_eviction(struct nfc *nfc)
{
	__u8 f[64], src[6] = {2, 0, 0x10, 0, 0, 0}; /* apart from M1..M4 */
	struct dpt_run r;
	json_t *nf, *st;
	long long evicted = -1, present = -1;
	int kept = 1, n;

	for (int i = 0; i < 5000; i++) {
		src[3] = i >> 16;
		src[4] = i >> 8;
		src[5] = i;
		n = frame(f, M2, src, -1);
		run(0, f, n, &r);
		/* M1 keeps talking: it must never be the one evicted. */
		n = frame(f, M2, M1, -1);
		run(0, f, n, &r);
		kept &= learned(1, M1) == 0;
	}
	nf = nfc_show_nf(nfc, "br0");
	st = json_object_get(nf, "stats");
	if (st) {
		evicted = json_integer_value(json_object_get(st, "evicted"));
		present =
			json_integer_value(json_object_get(st, "fdb_learned"));
	}
	CHECK(present > 0 && present <= 1024,
	      "xdp: fdb_size=1024 bounds the FDB (%lld entries after 5001 "
	      "stations)",
	      present);
	CHECK(evicted > 0 && evicted + present == 5001,
	      "xdp: evictions counted: %lld evicted + %lld present = 5001",
	      evicted, present);
	CHECK(kept, "xdp: the station in use was never evicted");
	json_decref(nf);
}

/* An FDB larger than NFC_LIST_WHOLE, of static and learned entries, is
 * listed a page at a time (the REST GET streams them): every entry once,
 * the static map's then the learned one's. Built whole, a listing of
 * 60,000 entries held the daemon for seconds and ~65 MB (a helper). */
static void fdb_pages(struct nfc *nfc)
{
	struct dpt_pages pg = {0};
	json_t *all = NULL;
	size_t cap = 3000 * 40, len = 0;
	char *text = malloc(cap);
	__u8 f[64], src[6] = {2, 0, 0x30, 0, 0, 0};
	struct dpt_run r;
	int lr = -1;

	for (int k = 0; text && k < 3000; k++)
		len += snprintf(text + len, cap - len,
				"02:20:00:%02x:%02x:01@10 port=p1\n", k >> 8,
				k & 255);
	CHECK(text && !nfc_coll_import_text(nfc, "br0", "fdb", text, len, 0),
	      "3000 static entries imported%s%s", text ? ": " : "",
	      text ? nfc_errmsg(nfc) : "");
	free(text);
	for (int k = 0; k < 2500; k++) {
		int fl;

		src[4] = k >> 8;
		src[5] = k;
		fl = frame(f, M2, src, -1);
		run(0, f, fl, &r);
	}
	lr = nfc_coll_list(nfc, "br0", "fdb", &all) ||
	     dpt_list_pages(nfc, "br0", "fdb", &pg);
	CHECK(!lr && pg.pages >= 5 && !pg.dup && pg.n == json_array_size(all) &&
		      pg.n >= 5000,
	      "xdp: an FDB of %zu entries (3000 static, 2500 learned) listed "
	      "in %zu pages: %zu entries, %zu twice%s%s",
	      json_array_size(all), pg.pages, pg.n, pg.dup, lr ? ": " : "",
	      lr ? nfc_errmsg(nfc) : "");
	json_decref(all);
}

static void tc_cases(void)
{
	__u8 f[64];
	struct dpt_run r;
	__u64 t1, t2, t3;
	int n;

	t1 = tx(1);
	t2 = tx(2);
	t3 = tx(3);
	n = frame(f, M2, M1, -1);
	run(0, f, n, &r);
	CHECK(r.verdict == TC_SHOT && tx(1) == t1 + 1 && tx(3) == t3 + 1 &&
		      tx(2) == t2,
	      "tc: unknown unicast from p1: a clone out of p2 and p4 (VLAN "
	      "10), none out of p3 (verdict %d)",
	      r.verdict);
	CHECK(learned(10, M1) == 0, "tc: M1 learned on p1");
	n = frame(f, M1, M2, 10);
	run(1, f, n, &r);
	CHECK(r.verdict == TC_REDIRECT && r.out_len == 60 &&
		      tag_of(r.out, r.out_len) < 0 && learned(10, M2) == 1,
	      "tc: tagged 10 from the trunk to M1: redirected, tag popped, "
	      "M2 learned on p2 (verdict %d, len %u)",
	      r.verdict, r.out_len);
	t1 = tx(1);
	n = frame(f, M2, M1, -1);
	run(0, f, n, &r);
	CHECK(r.verdict == TC_REDIRECT && tx(1) == t1 + 1,
	      "tc: M1 to M2: out of p2 only");
	n = frame(f, M2, M1, 30);
	run(1, f, n, &r);
	CHECK(r.verdict == TC_SHOT, "tc: VLAN 30 on the trunk: dropped");
	n = frame(f, M2, M1, 10);
	run(1, f, n, &r);
	CHECK(learned(10, M1) == 1 && counter(BR_C_MOVED) == 1,
	      "tc: M1 moved to p2: relearned");
}

int main(void)
{
	char err[512];
	struct nfc_opts opts = {.pin_root = root};
	struct nfc *nfc;
	dpt_root(root, sizeof(root), "tbdp");
	if (dpt_veths("tbd", NDEV, dev, peer))
		return 1;
	if (nfc_open(&nfc, &opts, err, sizeof(err))) {
		CHECK(0, "open %s: %s", root, err);
		goto out;
	}
	if (!setup(nfc, "xdp")) {
		/* p1 is the ingress (excluded), p3 is in VLAN 20. */
		static const int want[NDEV] = {0, 1, 0, 1};

		xdp_cases(nfc);
		xdp_cache(nfc);
		xdp_live_flood("xdp live, VLANs", want);
		xdp_static_follow(nfc);
		fdb_pages(nfc);
	} else {
		CHECK(0, "xdp: set up the bridge");
	}
	nfc_reset(nfc);
	{
		json_t *cfg = json_pack("{s:i}", "fdb_size", 1024);

		/* Access ports of VLAN 1 only: a plain bridge, whose floods
		 * go untagged through the egress program. */
		static const int want[NDEV] = {0, 1, 1, 1};

		if (!nfc_nf_add(nfc, "bridge", "br0", "xdp", cfg) &&
		    !nfc_port_add(nfc, "br0", "p1", dev[0], NULL)) {
			xdp_eviction(nfc);
			if (!nfc_port_add(nfc, "br0", "p2", dev[1], NULL) &&
			    !nfc_port_add(nfc, "br0", "p3", dev[2], NULL) &&
			    !nfc_port_add(nfc, "br0", "p4", dev[3], NULL))
				xdp_live_flood("xdp live, plain bridge", want);
			else
				CHECK(0, "plain bridge: %s", nfc_errmsg(nfc));
		} else
			CHECK(0, "xdp: bridge with fdb_size=1024: %s",
			      nfc_errmsg(nfc));
		json_decref(cfg);
	}
	nfc_reset(nfc);
	if (!setup(nfc, "tc"))
		tc_cases();
	else
		CHECK(0, "tc: set up the bridge");
	nfc_reset(nfc);
	nfc_close(nfc);
out:
	dpt_veths_del(NDEV, dev);
	rmdir(root);
	TEST_EXIT();
}
