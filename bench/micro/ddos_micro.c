// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ddos_micro: the ddos NF's own cost per packet, BPF_PROG_TEST_RUN (XDP),
 * kernel-measured, in one run: a bare XDP drop (the floor), the netdev's
 * hook with the forwarder f1 alone (the path without dd0), and with dd0
 * first on it: allowed traffic at 10 and at 1,000,000 blocklisted prefixes
 * (dd0's own cost is the difference with f1 alone), and blocklisted
 * traffic dropped at 10 and at 1,000,000 prefixes: sources inside a /24
 * and a /32 of the list, which is spread over the whole IPv4 space (an
 * LPM trie of it is ~20 nodes deep wherever a source falls; a list packed
 * in one corner let sources elsewhere leave the trie near its root), and
 * the allowed source among them too. Last, the list with one more prefix
 * of each length 8..31: what allowed traffic costs when 26 lengths are in
 * use (one hash probe each). Then an allowlisted source and one under a
 * limit, with the allowlist and the limits in each of their two copies
 * (nf/ddos/ddos.h, DD_ST_ALLOW_1): which copy packets read costs them
 * nothing. A benchmark program (prints a table), not a test. Indicative
 * only on a loaded machine.
 *
 *   .output/bench/ddos_micro [RUNS]
 */
#include <errno.h>
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
#include "dptest.h"

#define REPEAT 1000

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static struct nfc *nfc;

static int udp(__u8 *f, const char *src)
{
	memset(f, 0, 64);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00",
	       14);
	f[14] = 0x45;
	f[17] = 50;
	f[22] = 64;
	f[23] = 17;
	inet_pton(AF_INET, src, f + 26);
	inet_pton(AF_INET, "198.51.100.2", f + 30);
	f[39] = 30;
	return 64;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median ns/packet over `runs` runs of REPEAT; exits on a wrong verdict. */
static double measure(int prog, __u8 *f, int len, int runs, int want, __u32 ifx)
{
	double *ns = calloc(runs, sizeof(*ns)), med;
	struct dpt_run r;

	for (int i = 0; i < runs; i++) {
		if (dpt_run_fd(prog, f, len, ifx, REPEAT, 0, &r) ||
		    r.verdict != want) {
			fprintf(stderr, "test run: verdict %d (want %d)\n",
				r.verdict, want);
			exit(1);
		}
		ns[i] = r.ns;
	}
	qsort(ns, runs, sizeof(*ns), cmp);
	med = ns[runs / 2];
	free(ns);
	return med;
}

static int drop_prog(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1},
		{.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "drop", "GPL", insns, 2, NULL);
}

/* Entry i of the list: even i the /24 number 16 i, odd i a /32 in the
 * middle of /24 number 16 i + 8; none near 198.51.100.0/24 (allowed)
 * nor 203.0.113.0/24 (listed apart). */
static unsigned entry(int i, unsigned *plen)
{
	unsigned b = (unsigned)i * 16 + (i & 1 ? 8 : 0);

	*plen = i & 1 ? 32 : 24;
	return (b << 8) | (i & 1 ? 7 : 0);
}

static void ntoa(unsigned a, char *buf)
{
	sprintf(buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		a & 255);
}

static char *feed(int n, int lens)
{
	char *t = malloc((size_t)n * 20 + 64 * 20), *p = t, a[16];
	unsigned l;

	for (int i = 0; i < n; i++) {
		ntoa(entry(i, &l), a);
		p += sprintf(p, "%s/%u\n", a, l);
	}
	p += sprintf(p, "203.0.113.0/24\n");
	/* 241.0.0.0 of each length but 24 and 32: in no source's way. */
	for (unsigned k = 8; lens && k < 32; k++)
		if (k != 24)
			p += sprintf(p, "241.0.0.0/%u\n", k);
	return t;
}

/* The allowlist and the limits made (again) what the rows below read;
 * `extra` differs between two calls, so that each is a change, built in
 * the copy packets do not read and switched in. */
static int swap_sets(int extra)
{
	char k[32];
	json_t *al = json_object(), *li = json_object();
	int e;

	json_object_set_new(al, "198.51.100.9/32", json_object());
	snprintf(k, sizeof(k), "241.0.%d.0/24", extra);
	json_object_set_new(al, k, json_object());
	json_object_set_new(
		li, "198.51.100.0/24",
		json_pack("{s:i,s:i}", "pps", 100000000, "burst", 1000000000));
	json_object_set_new(li, k, json_pack("{s:i}", "pps", 10));
	e = nfc_coll_replace(nfc, "dd0", "allowlist", al) ||
	    nfc_coll_replace(nfc, "dd0", "limits", li);
	if (e)
		fprintf(stderr, "replace: %s\n", nfc_errmsg(nfc));
	json_decref(al);
	json_decref(li);
	return e;
}

static int import(char *t)
{
	int e = nfc_coll_import_text(nfc, "dd0", "blocklist", t, strlen(t), 1);

	if (e)
		fprintf(stderr, "import: %s\n", nfc_errmsg(nfc));
	free(t);
	return e;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 300;
	int ifx, stub, dp = drop_prog();
	double floor_ns, f1_ns, a10, a1m, d10, d1m, dd1m, d32, alens;
	double al[2], lim[2];
	__u8 ok[64], bad[64], deep[64], deep32[64], white[64];
	char a[16];
	unsigned l;

	setvbuf(stdout, NULL, _IOLBF, 0);
	setenv("NFC_DDOS_FEED_DIR", "/tmp", 0);
	dpt_root(root, sizeof(root), "ddmb");
	if (dp < 0 || dpt_veths("ddm", 2, dev, peer))
		return 1;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	ifx = if_nametoindex(dev[0]);
	if (nfc_nf_add(nfc, "forwarder", "f1", "xdp", NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "ddos", "dd0", "xdp", NULL) ||
	    nfc_attach(nfc, "dd0", dev[0], "ingress", "first")) {
		fprintf(stderr, "set up: %s\n", nfc_errmsg(nfc));
		goto reset;
	}
	stub = dpt_hook_prog(root, ifx);
	if (stub < 0) {
		fprintf(stderr, "no stub on %s\n", dev[0]);
		goto reset;
	}
	udp(ok, "198.51.100.1");
	udp(bad, "203.0.113.1");
	udp(white, "198.51.100.9");
	/* Inside a /24 and a /32 of the million (entries 500,000, 500,001). */
	ntoa(entry(500000, &l) | 77, a);
	udp(deep, a);
	ntoa(entry(500001, &l), a);
	udp(deep32, a);
	import(feed(9, 0));
	floor_ns = measure(dp, ok, 64, runs, 1, 0);
	a10 = measure(stub, ok, 64, runs, 4, ifx);
	d10 = measure(stub, bad, 64, runs, 1, ifx);
	if (import(feed(999999, 0)))
		goto reset;
	a1m = measure(stub, ok, 64, runs, 4, ifx);
	d1m = measure(stub, bad, 64, runs, 1, ifx);
	dd1m = measure(stub, deep, 64, runs, 1, ifx);
	d32 = measure(stub, deep32, 64, runs, 1, ifx);
	if (import(feed(999999, 1)))
		goto reset;
	alens = measure(stub, ok, 64, runs, 4, ifx);
	/* Copy 1 first (the first replace switches to it), then copy 0. */
	for (int c = 1; c >= 0; c--) {
		if (swap_sets(c))
			goto reset;
		al[c] = measure(stub, white, 64, runs, 4, ifx);
		lim[c] = measure(stub, ok, 64, runs, 4, ifx);
	}
	nfc_detach(nfc, "dd0", dev[0]);
	close(stub);
	stub = dpt_hook_prog(root, ifx);
	f1_ns = stub >= 0 ? measure(stub, ok, 64, runs, 4, ifx) : 0;
	printf("case\tns/packet (median of %d runs of %d)\n", runs, REPEAT);
	printf("bare XDP drop\t%.1f\n", floor_ns);
	printf("hook -> f1 (no ddos)\t%.1f\n", f1_ns);
	printf("hook -> dd0 -> f1, allowed, 10 prefixes\t%.1f\t(dd0 own "
	       "%.1f)\n",
	       a10, a10 - f1_ns);
	printf("hook -> dd0 -> f1, allowed, 1,000,000 prefixes\t%.1f\t(dd0 own "
	       "%.1f)\n",
	       a1m, a1m - f1_ns);
	printf("hook -> dd0, blocklisted, dropped, 10 prefixes\t%.1f\t"
	       "(bare drop / this: %.0f%%)\n",
	       d10, 100.0 * floor_ns / d10);
	printf("hook -> dd0, blocklisted, dropped, 1,000,000 prefixes\t%.1f\t"
	       "(bare drop / this: %.0f%%)\n",
	       d1m, 100.0 * floor_ns / d1m);
	printf("hook -> dd0, blocklisted inside a /24 of the 1,000,000, "
	       "dropped\t%.1f\t(bare drop / this: %.0f%%)\n",
	       dd1m, 100.0 * floor_ns / dd1m);
	printf("hook -> dd0, blocklisted /32 of the 1,000,000, "
	       "dropped\t%.1f\t(bare drop / this: %.0f%%)\n",
	       d32, 100.0 * floor_ns / d32);
	printf("hook -> dd0 -> f1, allowed, 1,000,000 prefixes of 26 "
	       "lengths\t%.1f\t(dd0 own %.1f)\n",
	       alens, alens - f1_ns);
	for (int c = 0; c < 2; c++)
		printf("hook -> dd0 -> f1, allowlisted, allowlist copy "
		       "%d\t%.1f\t"
		       "(dd0 own %.1f)\n",
		       c, al[c], al[c] - f1_ns);
	for (int c = 0; c < 2; c++)
		printf("hook -> dd0 -> f1, under a limit, limits copy %d, "
		       "1,000,000 prefixes of 26 lengths\t%.1f\t(dd0 own "
		       "%.1f)\n",
		       c, lim[c], lim[c] - f1_ns);
reset:
	nfc_reset(nfc);
	nfc_close(nfc);
	{
		/* The blocklist's kept feed (dd_lists.c names it so). */
		char pr[128], fp[256];

		snprintf(pr, sizeof(pr), "%s", root);
		for (char *c = pr; *c; c++)
			if (*c == '/')
				*c = '_';
		snprintf(fp, sizeof(fp), "%s/ddos%s.dd0.blocklist.feed",
			 getenv("NFC_DDOS_FEED_DIR"), pr);
		unlink(fp);
	}
out:
	dpt_veths_del(2, dev);
	rmdir(root);
	return 0;
}
