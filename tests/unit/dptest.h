/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers for data-plane tests on crafted packets, with test.h for the
 * checks: the netdevs a test makes (dpt_sh, dpt_veth), its private pin root
 * (dpt_root), running a pinned program on a frame (dpt_run), and reading
 * and writing the shared maps pinned there (metadata, per-CPU sums, port
 * stats). Used by the runtime's contract tests, by NFs' own tests
 * (nf/<name>/tests/) and by the micro benchmarks (bench/micro/).
 */
#ifndef NFC_DPTEST_H
#define NFC_DPTEST_H

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "nfchain/nf.h"
#include "test.h"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

/* Some kernels refuse live-frames test runs even to root (EPERM: a
 * sandboxed guest, where they could put frames on any netdev). A check
 * that needs one says so and is skipped there; the namespace tests move
 * real frames through the same programs. */
#define DPT_LIVE_REFUSED(e) ((e) == -EPERM)
#define DPT_SKIP_LIVE(what)                                           \
	CHECK(1,                                                      \
	      "%s # SKIP: this kernel refuses live-frames test runs " \
	      "(EPERM)",                                              \
	      what)

/* Runs a shell command (ip, sysctl); says which one failed. Returns
 * system()'s status. */
static inline int dpt_sh(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline int dpt_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	if (r)
		fprintf(stderr, "# command failed: %s\n", cmd);
	return r;
}

/* A veth pair, both ends up in this namespace. IPv6 off first: autoconf
 * chatter would cross the chain between the crafted frames and spoil the
 * counts. */
static inline int dpt_veth(const char *a, const char *b)
{
	return dpt_sh("ip link add %s type veth peer name %s && "
		      "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 "
		      "net.ipv6.conf.%s.disable_ipv6=1 && "
		      "ip link set %s up && ip link set %s up",
		      a, b, a, b, a, b);
}

/* n veth pairs, named from `tag` and this process's id: dev[i] ends in
 * 'a' + i (a port's peer), peer[i] in 'A' + i (its far end, which counts
 * what the port sent). A failure is reported as a check. */
static inline int dpt_veths(const char *tag, int n, char (*dev)[IF_NAMESIZE],
			    char (*peer)[IF_NAMESIZE])
{
	int pid = getpid() % 100000;

	for (int i = 0; i < n; i++) {
		snprintf(dev[i], IF_NAMESIZE, "%s%d%c", tag, pid, 'a' + i);
		snprintf(peer[i], IF_NAMESIZE, "%s%d%c", tag, pid, 'A' + i);
		if (dpt_veth(dev[i], peer[i])) {
			CHECK(0, "create veth %s", dev[i]);
			return -1;
		}
	}
	return 0;
}

/* Deleting one end deletes the pair. */
static inline void dpt_veths_del(int n, char (*dev)[IF_NAMESIZE])
{
	for (int i = 0; i < n; i++)
		if (dev[i][0])
			dpt_sh("ip link del %s 2>/dev/null", dev[i]);
}

/* A pin root of this process's own: /sys/fs/bpf/nfc-<tag><pid>. */
static inline void dpt_root(char *root, size_t len, const char *tag)
{
	snprintf(root, len, "/sys/fs/bpf/nfc-%s%d", tag, (int)getpid());
}

/* The runtime on that pin root; NULL, reported as a check, if it fails. */
static inline struct nfc *dpt_open(const char *root)
{
	struct nfc_opts opts = {.pin_root = root};
	struct nfc *nfc;
	char err[512];

	if (nfc_open(&nfc, &opts, err, sizeof(err))) {
		CHECK(0, "open %s: %s", root, err);
		return NULL;
	}
	return nfc;
}

/* The last check of a test that reset what it built: nothing of it is
 * left pinned. */
static inline void dpt_root_gone(const char *root)
{
	test_group = NULL;
	CHECK(access(root, F_OK), "nothing left under %s", root);
	rmdir(root);
}

/* What a data-plane test's main does around its body: stdout by lines,
 * the process on CPU 0 (per-CPU maps are read back on the CPU that wrote
 * them), its pin root (dpt_root's `tag`) and two veth pairs (dpt_veths'
 * `vtag`) made and a handle opened, body(nfc) run, then the handle closed
 * and the rest removed, the root's removal checked. TEST_EXIT() after. */
static inline void dpt_main(char *root, size_t len, const char *tag,
			    const char *vtag, char (*dev)[IF_NAMESIZE],
			    char (*peer)[IF_NAMESIZE],
			    void (*body)(struct nfc *nfc))
{
	struct nfc *nfc;
	cpu_set_t one;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	dpt_root(root, len, tag);
	if (!dpt_veths(vtag, 2, dev, peer) && (nfc = dpt_open(root))) {
		body(nfc);
		nfc_close(nfc);
	}
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
}

static inline int dpt_pinned(const char *root, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return bpf_obj_get(path);
}

/* The kernel's id of the program pinned at `rel` under `root`, 0 if none:
 * the same id after a config change says it was not reloaded. */
static inline __u32 dpt_prog_id(const char *root, const char *rel)
{
	struct bpf_prog_info pi = {0};
	__u32 sz = sizeof(pi);
	int fd = dpt_pinned(root, rel);

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &pi, &sz))
		pi.id = 0;
	close(fd);
	return pi.id;
}

/* One run of a program on a frame: its verdict and the frame it leaves. */
struct dpt_run {
	int verdict; /* the program's return value; -errno if the run failed */
	__u32 ns;    /* the kernel's mean time per repeat */
	__u32 out_len;
	__u8 out[512];
};

/* Runs program `fd` `repeat` times on `in`. An XDP program sees
 * `ifindex` as its ingress netdev when it is not 0 (what a program that
 * finds its port by netdev, such as nfc_direct, needs); `flags` are
 * BPF_F_TEST_* (live frames). Returns 0 or -errno, as r->verdict does. */
static inline int dpt_run_fd(int fd, const void *in, __u32 len, __u32 ifindex,
			     int repeat, __u32 flags, struct dpt_run *r)
{
	struct xdp_md ctx = {.data_end = len, .ingress_ifindex = ifindex};
	int e;

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = len,
		    .data_out = flags ? NULL : r->out,
		    .data_size_out = flags ? 0 : sizeof(r->out),
		    .ctx_in = ifindex ? &ctx : NULL,
		    .ctx_size_in = ifindex ? sizeof(ctx) : 0, .repeat = repeat,
		    .flags = flags);
	e = bpf_prog_test_run_opts(fd, &o) ? -errno : 0;
	r->verdict = e ? e : (int)o.retval;
	r->ns = o.duration;
	r->out_len = o.data_size_out;
	return e;
}

/* The program netdev `ifindex`'s XDP hook under `root` runs (its link's:
 * the stub pinned beside it, or the first NF's nfc_direct): an fd, or -1.
 */
static inline int dpt_hook_prog(const char *root, __u32 ifindex)
{
	for (int i = 0; i < NFC_MAX_STUBS; i++) {
		struct bpf_link_info li = {0};
		__u32 sz = sizeof(li);
		char p[256];
		int lfd, fd = -1;

		snprintf(p, sizeof(p), "%s/stub/%d/link", root, i);
		lfd = bpf_obj_get(p);
		if (lfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(lfd, &li, &sz) &&
		    li.type == BPF_LINK_TYPE_XDP && li.xdp.ifindex == ifindex)
			fd = bpf_prog_get_fd_by_id(li.prog_id);
		close(lfd);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/* dpt_run_fd on the program pinned at `rel` under `root`, once. */
static inline int dpt_run(const char *root, const char *rel, const void *in,
			  __u32 len, struct dpt_run *r)
{
	int fd = dpt_pinned(root, rel), e;

	if (fd < 0) {
		r->verdict = -errno;
		r->out_len = 0;
		fprintf(stderr, "# %s/%s: %s\n", root, rel, strerror(errno));
		return r->verdict;
	}
	e = dpt_run_fd(fd, in, len, 0, 1, 0, r);
	close(fd);
	return e;
}

/* The metadata a stub or the previous NF would have set, on every CPU:
 * BPF_PROG_TEST_RUN runs on whichever CPU the caller is on. */
static inline void dpt_set_meta(const char *root, int nf, int port)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = dpt_pinned(root, "meta");
	struct nfc_meta *m = calloc(ncpu, sizeof(*m));
	__u32 k = 0;

	for (int c = 0; m && c < ncpu; c++) {
		m[c].nf = nf;
		m[c].in_port = port;
	}
	if (fd >= 0 && m)
		bpf_map_update_elem(fd, &k, m, BPF_ANY);
	free(m);
	if (fd >= 0)
		close(fd);
}

/* The metadata as CPU `cpu` holds it (after a run there: what the
 * program left for the next NF). Zeroes if it cannot be read. */
static inline struct nfc_meta dpt_meta(const char *root, int cpu)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = dpt_pinned(root, "meta");
	struct nfc_meta *m = calloc(ncpu, sizeof(*m)), r = {0};
	__u32 k = 0;

	if (fd >= 0 && m && cpu < ncpu && !bpf_map_lookup_elem(fd, &k, m))
		r = m[cpu];
	free(m);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Sum over CPUs of the __u64 at `off` in entry `k` of a per-CPU map whose
 * values are `vsize` bytes. */
static inline __u64 dpt_percpu_sum(const char *root, const char *rel, __u32 k,
				   size_t off, size_t vsize)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = dpt_pinned(root, rel);
	__u8 *v = calloc(ncpu, vsize);
	__u64 s = 0;

	if (fd >= 0 && v && !bpf_map_lookup_elem(fd, &k, v))
		for (int c = 0; c < ncpu; c++)
			s += *(__u64 *)(v + c * vsize + off);
	free(v);
	if (fd >= 0)
		close(fd);
	return s;
}

static inline struct nfc_port_stats dpt_port_stats(const char *root, int nf,
						   int port)
{
	const size_t vs = sizeof(struct nfc_port_stats);
	__u32 k = NFC_GPORT(nf, port);

	return (struct nfc_port_stats){
		.rx_packets = dpt_percpu_sum(root, "stats", k, 0, vs),
		.rx_bytes = dpt_percpu_sum(root, "stats", k, 8, vs),
		.tx_packets = dpt_percpu_sum(root, "stats", k, 16, vs),
		.tx_bytes = dpt_percpu_sum(root, "stats", k, 24, vs),
		.drops = dpt_percpu_sum(root, "stats", k, 32, vs),
	};
}

static inline int dpt_dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n-1] (n >= 1); sorts v. */
static inline double dpt_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), dpt_dcmp);
	return v[n / 2];
}

/* The median of what pass(arg, k) measures for k = 0 .. passes-1 (a
 * micro benchmark's passes over its flows: the median keeps one pass that
 * another helper's burst slowed from moving the figure). */
static inline double dpt_median_of(int passes, double (*pass)(void *, int),
				   void *arg)
{
	double *v = calloc(passes, sizeof(*v)), m;

	if (!v)
		return 0;
	for (int k = 0; k < passes; k++)
		v[k] = pass(arg, k);
	m = dpt_median(v, passes);
	free(v);
	return m;
}

/*
 * What a micro benchmark stands on: its own pin root (dpt_root, `tag`),
 * two veth pairs and the runtime on that root, with the forwarder f1 in
 * XDP, p1 on dev[0] and p2 on dev[1]. NULL, said on stderr, if any of it
 * fails (then nothing of it is left). dpt_bench_done takes it down.
 */
static inline struct nfc *dpt_bench_f1(char *root, size_t len, const char *tag,
				       char (*dev)[IF_NAMESIZE],
				       char (*peer)[IF_NAMESIZE])
{
	struct nfc *nfc;

	dpt_root(root, len, tag);
	if (dpt_veths(tag, 2, dev, peer))
		goto out;
	nfc = dpt_open(root);
	if (!nfc)
		goto out;
	if (!nfc_nf_add(nfc, "forwarder", "f1", "xdp", NULL) &&
	    !nfc_port_add(nfc, "f1", "p1", dev[0], NULL) &&
	    !nfc_port_add(nfc, "f1", "p2", dev[1], NULL))
		return nfc;
	fprintf(stderr, "set up f1: %s\n", nfc_errmsg(nfc));
	nfc_reset(nfc);
	nfc_close(nfc);
out:
	dpt_veths_del(2, dev);
	rmdir(root);
	return NULL;
}

static inline void dpt_bench_done(struct nfc *nfc, const char *root,
				  char (*dev)[IF_NAMESIZE])
{
	nfc_reset(nfc);
	nfc_close(nfc);
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
}

/* rx_packets of a netdev in this namespace, 0 if it cannot be read. */
static inline __u64 dpt_netdev_rx(const char *dev)
{
	char p[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/class/net/%s/statistics/rx_packets", dev);
	f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* A collection's listing read page by page (nfc_coll_list_page, pages of
 * 1,024): the pages, the entries and those seen twice (by "key", else the
 * first member). 0, or the library's error. */
struct dpt_pages {
	size_t pages, n, dup;
};

static inline int dpt_list_pages(struct nfc *nfc, const char *nf,
				 const char *coll, struct dpt_pages *out)
{
	struct nfc_cursor cur;
	json_t *seen = json_object(), *page = NULL, *e;
	size_t i;
	int r = 0;

	memset(&cur, 0, sizeof(cur));
	memset(out, 0, sizeof(*out));
	while (out->pages < 100000 &&
	       !(r = nfc_coll_list_page(nfc, nf, coll, &cur, 1024, &page)) &&
	       json_array_size(page)) {
		out->pages++;
		json_array_foreach (page, i, e) {
			void *it = json_object_iter(e);
			const char *k =
				json_string_value(json_object_get(e, "key"));

			if (!k && it)
				k = json_string_value(
					json_object_iter_value(it));
			out->dup += json_object_get(seen, k ? k : "") != NULL;
			json_object_set_new(seen, k ? k : "", json_true());
			out->n++;
		}
		json_decref(page);
		page = NULL;
	}
	json_decref(page);
	json_decref(seen);
	return r;
}

#endif
