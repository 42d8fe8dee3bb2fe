// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router_micro: the router's own cost per packet, BPF_PROG_TEST_RUN (XDP),
 * kernel-measured, beside an empty XDP program and the forwarder NF in the
 * same run. A benchmark program (prints a table), not a test: the runner
 * does not run it.
 *
 *   .output/bench/router_micro [RUNS]
 *
 * A test run repeats the program on the same buffer, which the router
 * rewrites: each run is 250 repeats of a frame sent with TTL 255 (the TTL
 * goes down by one a repeat), and the next hops' ARP entries hold the
 * router's own p1 MAC (the rewritten frame is still addressed to it).
 * RUNS runs (default 2000) give the median. Cases: the
 * forwarder (what every NF pays: metadata, counters, redirect), the
 * router to a host on a connected subnet, through a static route, and
 * through a static route among 10,000 (198.18.0.0/15, RFC 2544), and
 * the last two again with rp_filter on, which turns the forwarding cache
 * off: every repeat walks rt_dir.
 */
#include <errno.h>
#include <signal.h>
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
#include "router/rt_pkt.h"
#include "dptest.h"

#define REPEAT 250

static char root[128], dev[6][16];
static struct nfc *nfc;

static int pinned(const char *rel)
{
	return dpt_pinned(root, rel);
}

static void set_meta(int nf, int port)
{
	dpt_set_meta(root, nf, port);
}

/* Ethernet + IPv4 + UDP, 64 bytes, TTL 255, to the router's p1 MAC. */
static size_t frame(__u8 *f, const __u8 *dmac, const char *dst)
{
	rt_iphdr *ip = (rt_iphdr *)(f + NFC_ETH_HLEN);
	struct in_addr s, d;

	memset(f, 0, 64);
	memcpy(f, dmac, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	inet_pton(AF_INET, "198.51.100.2", &s);
	inet_pton(AF_INET, dst, &d);
	rt_build_ip(ip, s.s_addr, d.s_addr, IPPROTO_UDP, 0, 255, 1, 30);
	return 64;
}

/* Median ns/packet over `runs` runs of REPEAT; checks the verdict. The
 * metadata is written before each run: a frame arriving at a stub (the
 * kernel's own chatter on a veth) would overwrite it. `ifindex`, if not 0,
 * is the netdev the frame enters on: what a directly attached NF
 * (nfc_direct) finds its port by. */
static double measure(int prog, __u8 *f, size_t len, int runs, int want, int nf,
		      __u32 ifindex)
{
	double *ns = calloc(runs, sizeof(*ns)), med;
	struct dpt_run r;

	for (int i = 0; i < runs; i++) {
		if (nf >= 0)
			set_meta(nf, 0);
		if (dpt_run_fd(prog, f, len, ifindex, REPEAT, 0, &r) ||
		    r.verdict != want) {
			fprintf(stderr, "test run: %s, verdict %d (want %d)\n",
				r.verdict < 0 ? strerror(-r.verdict) : "ok",
				r.verdict, want);
			exit(1);
		}
		ns[i] = r.ns;
	}
	for (int i = 1; i < runs; i++) /* insertion sort: runs are few */
		for (int j = i; j > 0 && ns[j] < ns[j - 1]; j--) {
			double t = ns[j];

			ns[j] = ns[j - 1];
			ns[j - 1] = t;
		}
	med = ns[runs / 2];
	free(ns);
	return med;
}

static int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1},
		{.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "empty", "GPL", insns, 2, NULL);
}

static json_t *kv(const char *k, const char *v)
{
	return json_pack("{s:s}", k, v);
}

/* 10,000 /29 routes via `nh` beside r1's others, in one apply (one
 * save, not 10,000). */
static int add_routes(json_t *nh)
{
	json_t *doc = nfc_export(nfc), *nf, *set;
	char key[32];
	size_t i;
	int r = -1;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf) {
		if (strcmp(json_string_value(json_object_get(nf, "name")),
			   "r1"))
			continue;
		set = json_object_get(json_object_get(nf, "collections"),
				      "routes");
		for (unsigned k = 0; set && k < 10000; k++) {
			unsigned a = (198u << 24 | 18u << 16) + 8u * k;

			snprintf(key, sizeof(key), "%u.%u.%u.%u/29", a >> 24,
				 (a >> 16) & 255, (a >> 8) & 255, a & 255);
			json_object_set(set, key, nh);
		}
		r = set ? nfc_apply(nfc, doc, 0, NULL) : -1;
	}
	json_decref(doc);
	return r;
}

/* Output into a chained NF: the tail call's slot is a constant for ports
 * below RT_FAST_PORTS (a direct jump) and a variable above (an indirect
 * one). Run through the program on r1 p1's netdev: r1 attached directly
 * (nfc_direct), which finds its port by the ingress netdev and sets the
 * metadata each time (the chained forwarder changes it). r1 p3 (index 2)
 * and p6 (index 5) each lead to a forwarder whose other port is a
 * netdev. */
static void chained(int runs, const __u8 *pm)
{
	static const char *const ip[] = {
		"198.51.100.129/29", "198.51.100.137/29", "198.51.100.145/29",
		"198.51.100.153/29"};
	char mac[32];
	int r = 0, fd;
	__u32 id = 0, in;
	__u8 f[64];
	json_t *c;

	r |= nfc_nf_add(nfc, "forwarder", "fa", "xdp", NULL);
	r |= nfc_nf_add(nfc, "forwarder", "fb", "xdp", NULL);
	r |= nfc_port_add(nfc, "fa", "p1", NULL, NULL);
	r |= nfc_port_add(nfc, "fb", "p1", NULL, NULL);
	r |= nfc_port_add(nfc, "fa", "p2", dev[4], NULL);
	r |= nfc_port_add(nfc, "fb", "p2", dev[5], NULL);
	for (int i = 0; i < 4; i++) {
		char name[8];

		snprintf(name, sizeof(name), "p%d", i + 3);
		c = kv("ip", ip[i]);
		r |= nfc_port_add(nfc, "r1", name,
				  i == 0   ? "fa:p1"
				  : i == 3 ? "fb:p1"
					   : NULL,
				  c);
		json_decref(c);
	}
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", pm[0],
		 pm[1], pm[2], pm[3], pm[4], pm[5]);
	c = kv("mac", mac);
	r |= nfc_coll_add(nfc, "r1", "arp", "198.51.100.130", c);
	r |= nfc_coll_add(nfc, "r1", "arp", "198.51.100.154", c);
	json_decref(c);
	c = kv("nexthop", "198.51.100.130");
	r |= nfc_coll_add(nfc, "r1", "routes", "203.0.113.64/28", c);
	json_decref(c);
	c = kv("nexthop", "198.51.100.154");
	r |= nfc_coll_add(nfc, "r1", "routes", "203.0.113.80/28", c);
	json_decref(c);
	if (r || bpf_xdp_query_id(if_nametoindex(dev[2]), 0, &id) ||
	    (fd = bpf_prog_get_fd_by_id(id)) < 0) {
		fprintf(stderr, "router_micro: chained: %s\n", nfc_errmsg(nfc));
		return;
	}
	in = if_nametoindex(dev[2]);
	frame(f, pm, "203.0.113.130");
	printf("| router attached directly, out to a netdev | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, -1, in));
	frame(f, pm, "203.0.113.70");
	printf("| router attached directly + forwarder, out of port 3 (direct "
	       "jump) | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, -1, in));
	frame(f, pm, "203.0.113.85");
	printf("| router attached directly + forwarder, out of port 6 "
	       "(indirect jump) | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, -1, in));
	close(fd);
}

/* Its veths live in the root namespace: they go on every exit, an early
 * error or Ctrl-C included (a run cut short once left six pairs). */
static void cleanup(void)
{
	if (nfc) {
		nfc_reset(nfc);
		nfc_close(nfc);
		nfc = NULL;
	}
	for (int i = 0; i < 6; i++) {
		char cmd[128];

		if (!dev[i][0])
			continue;
		snprintf(cmd, sizeof(cmd), "ip link del %s 2>/dev/null",
			 dev[i]);
		if (system(cmd)) {
			/* already gone */
		}
		dev[i][0] = 0;
	}
	if (root[0])
		rmdir(root);
}

static void on_signal(int sig)
{
	(void)sig;
	exit(1); /* runs cleanup(); not async-signal-safe, fine for a
		  * tool run by hand */
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 2000, fd, r = 0;
	struct nfc_opts opts = {.pin_root = root};
	__u8 f[64], pm[6];
	char err[256], key[32];
	json_t *c;

	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	dpt_root(root, sizeof(root), "rm");
	for (int i = 0; i < 6; i++) {
		char far[20];

		snprintf(dev[i], sizeof(dev[i]), "rm%d%c", getpid(), 'a' + i);
		snprintf(far, sizeof(far), "%sp", dev[i]);
		r |= dpt_veth(dev[i], far);
	}
	if (r || nfc_open(&nfc, &opts, err, sizeof(err))) {
		fprintf(stderr, "router_micro: set up: %s\n", err);
		return 1;
	}
	/* NF 0: the forwarder; NF 1: the router. */
	nfc_nf_add(nfc, "forwarder", "f1", "xdp", NULL);
	nfc_port_add(nfc, "f1", "p1", dev[0], NULL);
	nfc_port_add(nfc, "f1", "p2", dev[1], NULL);
	nfc_nf_add(nfc, "router", "r1", "xdp", NULL);
	c = kv("ip", "198.51.100.1/26");
	r |= nfc_port_add(nfc, "r1", "p1", dev[2], c);
	json_decref(c);
	c = kv("ip", "203.0.113.1/26");
	r |= nfc_port_add(nfc, "r1", "p2", dev[3], c);
	json_decref(c);
	if (r) {
		fprintf(stderr, "router_micro: %s\n", nfc_errmsg(nfc));
		return 1;
	}
	{
		int pfd = pinned("nf/1-r1/map/rt_ports");
		__u32 k = 0;
		struct {
			__u8 mac[6];
			__u8 rest[34];
		} v;

		bpf_map_lookup_elem(pfd, &k, &v);
		memcpy(pm, v.mac, 6);
		close(pfd);
	}
	snprintf(key, sizeof(key), "%02x:%02x:%02x:%02x:%02x:%02x", pm[0],
		 pm[1], pm[2], pm[3], pm[4], pm[5]);
	c = kv("mac", key);
	r |= nfc_coll_add(nfc, "r1", "arp", "203.0.113.2", c);
	r |= nfc_coll_add(nfc, "r1", "arp", "203.0.113.5", c);
	json_decref(c);
	c = kv("nexthop", "203.0.113.2");
	r |= nfc_coll_add(nfc, "r1", "routes", "203.0.113.128/25", c);
	if (r) {
		fprintf(stderr, "router_micro: %s\n", nfc_errmsg(nfc));
		return 1;
	}

	printf("| case | ns/packet (median of %d runs of %d) |\n|---|---:|\n",
	       runs, REPEAT);
	fd = empty_prog();
	frame(f, pm, "203.0.113.130");
	printf("| empty XDP program | %.1f |\n",
	       measure(fd, f, 64, runs, 1, -1, 0));
	close(fd);
	fd = pinned("nf/0-f1/prog");
	printf("| forwarder NF | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, 0, 0));
	close(fd);
	fd = pinned("nf/1-r1/prog");
	frame(f, pm, "203.0.113.5");
	printf("| router, connected host | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, 1, 0));
	frame(f, pm, "203.0.113.130");
	printf("| router, static route | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, 1, 0));
	r = add_routes(c);
	json_decref(c);
	if (r) {
		fprintf(stderr, "router_micro: 10,000 routes: %s\n",
			nfc_errmsg(nfc));
		return 1;
	}
	printf("| router, static route among 10,000 | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, 1, 0));
	frame(f, pm, "198.18.100.1");
	printf("| router, a /29 among 10,000 | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, 1, 0));
	close(fd);
	chained(runs, pm);
	/* With rp_filter the cache is off: every packet takes the FIB walk
	 * (rt_dir, twice: destination and source), the path a FIB change
	 * touches. */
	c = json_pack("{s:b}", "rp_filter", 1);
	r = nfc_nf_set(nfc, "r1", c);
	json_decref(c);
	fd = r ? -1 : pinned("nf/1-r1/prog");
	if (fd < 0) {
		fprintf(stderr, "router_micro: rp_filter: %s\n",
			nfc_errmsg(nfc));
		return 1;
	}
	frame(f, pm, "203.0.113.130");
	printf("| router, rp_filter (no cache), static route among 10,000 | "
	       "%.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, 1, 0));
	frame(f, pm, "198.18.100.1");
	printf("| router, rp_filter (no cache), a /29 among 10,000 | %.1f |\n",
	       measure(fd, f, 64, runs, XDP_REDIRECT, 1, 0));
	close(fd);
	return 0;
}
