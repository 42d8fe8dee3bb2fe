// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fw_micro: the firewall's control and data-plane figures at 10, 100, 1,000
 * and 10,000 ClassBench-like rules, in one run:
 *   - the time to apply the whole set (nfc_coll_replace: parse, compile,
 *     write the tables, switch, record, state saved), median of a few;
 *   - its own cost per packet, BPF_PROG_TEST_RUN (XDP, kernel-measured):
 *     the firewall plus the forwarder it sits on, minus the forwarder alone,
 *     for the packet decided deepest in the set (aimed at its last rules)
 *     and for packets spread over the set, each twice: as a flow's next
 *     packets (the stateless verdict cache answers them after the first)
 *     and classified every time (verdict_cache=off: a first packet's cost,
 *     what a flood of new flows pays).
 * A benchmark program (prints a table), not a test. Indicative only on a
 * loaded machine. NFC_FW_TIMING=1 also prints the parts of each apply.
 *
 *   .output/bench/fw_micro [RUNS]      (root; bpffs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>

#include "nfchain/nfchain.h"
#include "firewall/tests/fw_test.h"
#include "dptest.h"

#define REPEAT 1000

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* This thread's CPU time (user + system), ms: on a loaded machine the
 * wall time of an apply is mostly waiting for a CPU. */
static double cpu_ms(void)
{
	struct rusage u;

	getrusage(RUSAGE_THREAD, &u);
	return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
	       (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

static double median(double *v, int n)
{
	return dpt_median(v, n);
}

static json_t *entries_of(const struct fw_rule *rs, __u32 n)
{
	json_t *o = json_object();

	for (__u32 i = 0; i < n; i++) {
		json_t *e = fw_rule_json(&rs[i]);
		char k[16];

		json_object_del(e, "rule");
		snprintf(k, sizeof(k), "%u", rs[i].num);
		json_object_set_new(o, k, e);
	}
	return o;
}

/* Median ns a packet over `runs` runs of REPEAT, cycling through `np`
 * frames, of the chain as a frame arriving on netdev `ifname` meets it
 * (its XDP program, the ingress ifindex set: each repeat makes its
 * metadata afresh; fw_test.h, ft_xdp_prog). */
static double cost(const char *ifname, __u8 (*f)[200], int *len, int np,
		   int runs)
{
	__u32 ifx = if_nametoindex(ifname);
	int fd = ft_xdp_prog(ifx), other = 0;
	double *ns = calloc(runs, sizeof(*ns)), m;
	struct dpt_run r = {0};

	for (int i = 0; i < runs; i++) {
		ns[i] = 0;
		if (fd >= 0 &&
		    !dpt_run_fd(fd, f[i % np], len[i % np], ifx, REPEAT, 0, &r))
			ns[i] = r.ns;
		other += r.verdict != 4;
	}
	/* A frame that does not go through (verdict not XDP_REDIRECT)
	 * measures another path: said, not hidden. */
	if (fd < 0 || other)
		fprintf(stderr, "# %s: %d of %d runs not a redirect%s\n",
			ifname, other, runs, fd < 0 ? " (no XDP program)" : "");
	if (fd >= 0)
		close(fd);
	m = median(ns, runs);
	free(ns);
	return m;
}

/* fw1's verdict cache on or off (conntrack=off: every packet classified
 * when off). */
static int vcache(struct nfc *nfc, int on)
{
	json_t *c = json_pack("{s:b}", "verdict_cache", on);
	int e = nfc_nf_set(nfc, "fw1", c);

	json_decref(c);
	if (e)
		fprintf(stderr, "verdict_cache: %s\n", nfc_errmsg(nfc));
	return e;
}

/* A frame of p (TCP flags `fl`) through the chain from netdev `in`,
 * once; its verdict. */
static int once(const char *in, struct ft_pkt *p, int fl)
{
	__u8 f[200];
	int len = ft_frame(p, f), fd;
	__u32 ifx = if_nametoindex(in);
	struct dpt_run r = {0};

	f[14 + 20 + 13] = fl;
	fd = ft_xdp_prog(ifx);
	if (fd < 0 || dpt_run_fd(fd, f, len, ifx, 1, 0, &r))
		r.verdict = -1;
	if (fd >= 0)
		close(fd);
	return r.verdict;
}

/* The conntrack target: an established flow's own cost within
 * 10 ns of the forwarder's. fw1 again with conntrack on, default drop,
 * `10 state=established,related accept` and `20 dir=out accept`; the
 * inside's SYN out, the SYN-ACK in and the ACK out open the flow; then
 * its ACKs in (the flow cache's hit, the shortcut past the tables); then
 * the same behind a rule that needs the tables. */
static void established(struct nfc *nfc, double fwd, int runs)
{
	json_t *cfg = json_pack("{s:s,s:b}", "default", "drop", "conntrack", 1),
	       *set = json_pack("{s:{s:s,s:s},s:{s:s,s:s}}", "10", "action",
				"accept", "state", "established,related", "20",
				"action", "accept", "dir", "out");
	struct ft_pkt o = {.proto = 6,
			   .sport = 40000,
			   .dport = 80,
			   .dir = FW_DIR_OUT},
		      i = {.proto = 6,
			   .sport = 80,
			   .dport = 40000,
			   .dir = FW_DIR_IN};
	__u8 fr[1][200];
	int len[1], e, v1, v2, v3;

	inet_pton(AF_INET, "198.51.100.2", o.src);
	inet_pton(AF_INET, "203.0.113.9", o.dst);
	memcpy(i.src, o.dst, 16);
	memcpy(i.dst, o.src, 16);
	e = nfc_nf_del(nfc, "fw1") ||
	    nfc_nf_add(nfc, "firewall", "fw1", "xdp", cfg) ||
	    nfc_attach(nfc, "fw1", "f1:p2", "both", NULL) ||
	    nfc_coll_replace(nfc, "fw1", "rules", set);
	json_decref(cfg);
	json_decref(set);
	if (e) {
		fprintf(stderr, "established: %s\n", nfc_errmsg(nfc));
		return;
	}
	v1 = once(dev[0], &o, 0x02);
	v2 = once(dev[1], &i, 0x12);
	/* The handshake's last ACK: without it the connection is not
	 * established for the tracker (its SYN-ACK only answered), and its
	 * packets never hit the flow cache. */
	v3 = once(dev[0], &o, 0x10);
	len[0] = ft_frame(&i, fr[0]);
	printf("established flow (conntrack on, its ACKs in; SYN out verdict "
	       "%d, SYN-ACK in %d, ACK out %d): fw own ns %.0f (forwarder "
	       "alone %.0f)\n",
	       v1, v2, v3, cost(dev[1], fr, len, 1, runs) - fwd, fwd);
	/* The same flow behind a rule no shortcut decides (state and
	 * protocol): without the flow's cached verdict, the tables. */
	set = json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s}}", "10", "action",
			"accept", "state", "established,related", "proto",
			"tcp", "20", "action", "accept", "dir", "out");
	e = nfc_coll_replace(nfc, "fw1", "rules", set);
	json_decref(set);
	if (e) {
		fprintf(stderr, "established: %s\n", nfc_errmsg(nfc));
		return;
	}
	printf("established flow, `10 state=established,related proto=tcp "
	       "accept` (no shortcut): fw own ns %.0f\n",
	       cost(dev[1], fr, len, 1, runs) - fwd);
}

int main(int argc, char **argv)
{
	static const __u32 sizes[] = {10, 100, 1000, 10000};
	int runs = argc > 1 ? atoi(argv[1]) : 101;
	json_t *cfg =
		json_pack("{s:s,s:b}", "default", "accept", "conntrack", 0);
	struct nfc *nfc;
	double fwd;
	__u8 fr[64][200];
	int len[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	nfc = dpt_bench_f1(root, sizeof(root), "fwm", dev, peer);
	if (!nfc) {
		json_decref(cfg);
		return 1;
	}
	{
		/* The forwarder alone, on the path the firewall's frames
		 * take (in from p2's netdev, out of p1). */
		struct ft_pkt p = {.proto = 17, .sport = 1, .dport = 2};

		len[0] = ft_frame(&p, fr[0]);
		fwd = cost(dev[1], fr, len, 1, runs);
	}
	if (nfc_nf_add(nfc, "firewall", "fw1", "xdp", cfg) ||
	    nfc_attach(nfc, "fw1", "f1:p2", "both", NULL)) {
		fprintf(stderr, "set up: %s\n", nfc_errmsg(nfc));
		goto reset;
	}
	printf("rules\tapply ms (median of 3)\tits CPU ms\tfw own ns, deepest "
	       "match (rule index)\tfw own ns, spread\tclassified every "
	       "packet: deepest\tspread\t(forwarder alone %.0f ns; %d runs "
	       "of %d)\n",
	       fwd, runs, REPEAT);
	for (unsigned si = 0; si < sizeof(sizes) / sizeof(*sizes); si++) {
		__u32 n = sizes[si];
		struct fw_rule *rs = calloc(n, sizeof(*rs));
		__u64 s = 1000 + n;
		double ap[3], cp[3], last, spread, clast, cspread;
		int deep = -1;
		json_t *set;
		int bad = 0;

		for (__u32 i = 0; i < n; i++)
			ft_rule(&s, 10 * (i + 1), 1, &rs[i]);
		/* Every rule accepts, so that a packet runs the whole path. */
		for (__u32 i = 0; i < n; i++)
			rs[i].action = FW_ACCEPT;
		set = entries_of(rs, n);
		for (int k = 0; k < 3; k++) {
			/* From nothing, each time: an empty set first. */
			json_t *none = json_object();
			double t0, c0;

			bad |= nfc_coll_replace(nfc, "fw1", "rules", none);
			json_decref(none);
			t0 = now_ms();
			c0 = cpu_ms();
			bad |= nfc_coll_replace(nfc, "fw1", "rules", set);
			ap[k] = now_ms() - t0;
			cp[k] = cpu_ms() - c0;
		}
		json_decref(set);
		if (bad) {
			fprintf(stderr, "%u rules: %s\n", n, nfc_errmsg(nfc));
			free(rs);
			continue;
		}
		{
			/* The packet decided deepest in the set: aimed at
			 * rules near the end, the one whose first match (the
			 * walk's) has the highest index. */
			struct ft_pkt deep_pkt;
			int best = -1;

			for (int t = 0; t < 3000; t++) {
				struct ft_pkt p;
				int at;

				ft_packet(&s,
					  &rs[n - 1 - t % (n < 50 ? n : 50)],
					  &p);
				p.frag = 0;
				/* Inbound only: it goes on through f1, as the
				 * baseline's frame does. */
				p.dir = FW_DIR_IN;
				at = ft_ref(rs, n, &p);
				if (at > best) {
					best = at;
					deep_pkt = p;
					len[0] = ft_frame(&p, fr[0]);
				}
			}
			deep = best;
			last = best >= 0 ? cost(dev[1], fr, len, 1, runs) - fwd
					 : -1;
			for (int i = 0; i < 64; i++) {
				struct ft_pkt p;

				ft_packet(&s, &rs[(__u64)i * n / 64], &p);
				p.frag = 0;
				p.dir = FW_DIR_IN;
				len[i] = ft_frame(&p, fr[i]);
			}
			spread = cost(dev[1], fr, len, 64, runs) - fwd;
			if (vcache(nfc, 0)) {
				free(rs);
				break;
			}
			cspread = cost(dev[1], fr, len, 64, runs) - fwd;
			clast = -1;
			if (best >= 0) {
				len[0] = ft_frame(&deep_pkt, fr[0]);
				clast = cost(dev[1], fr, len, 1, runs) - fwd;
			}
			if (vcache(nfc, 1)) {
				free(rs);
				break;
			}
		}
		printf("%u\t%.0f\t%.0f\t%.0f (%d)\t%.0f\t%.0f\t%.0f\n", n,
		       median(ap, 3), median(cp, 3), last, deep, spread, clast,
		       cspread);
		free(rs);
	}
	established(nfc, fwd, runs);
reset:
	json_decref(cfg);
	dpt_bench_done(nfc, root, dev);
	return 0;
}
