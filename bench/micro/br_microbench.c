// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * br_microbench: the bridge's per-frame cost, kernel-timed with
 * BPF_PROG_TEST_RUN and a large repeat, beside the forwarder's (the
 * framework's own share) in the same run. A benchmark that prints a table,
 * not a test (the runner runs test_*).
 *
 *   br_microbench [REPEAT]        (default 2000000)
 *
 * Frames: known unicast, 60 bytes, untagged, between two access ports.
 * The test run does not redirect for real, so this is the programs' cost
 * alone; bench/scenarios/bridge.sh measures the whole path. The veths'
 * IPv6 is off: a frame from the stack arriving on a port mid-run would
 * rewrite the per-CPU metadata under the test run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nfchain.h"

static char root[128];
static int ncpu, pid;

static int obj(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return bpf_obj_get(p);
}

static void set_meta(int nf, int port)
{
	struct nfc_meta *m = calloc(ncpu, sizeof(*m));
	int fd = obj("meta");
	__u32 k = 0;

	for (int c = 0; m && c < ncpu; c++)
		m[c] = (struct nfc_meta){.nf = nf, .in_port = port};
	bpf_map_update_elem(fd, &k, m, BPF_ANY);
	free(m);
	close(fd);
}

/* ns a frame, or -1; *ret: the verdict of the last run. */
static double run(const char *prog, int nf, int port, const __u8 *f, int repeat,
		  int *ret)
{
	int fd = obj(prog), e;

	set_meta(nf, port);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = 60,
		    .repeat = repeat);
	e = bpf_prog_test_run_opts(fd, &o);
	close(fd);
	*ret = o.retval;
	return e ? -1.0 : (double)o.duration;
}

static int sh(const char *fmt, const char *mode)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), fmt, pid, pid, pid, pid, pid, pid, mode);
	return system(cmd);
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {"xdp", "xdp-generic", "tc"};
	int repeat = argc > 1 ? atoi(argv[1]) : 2000000;
	/* to 02:..:02 (learned behind p2) from 02:..:01 */
	__u8 f[60] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
	__u8 back[60] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
	struct nfc_opts opts = {.pin_root = root};
	char err[256], dev[4][16];
	int rc = 0;

	ncpu = libbpf_num_possible_cpus();
	pid = getpid() % 100000;
	snprintf(root, sizeof(root), "/sys/fs/bpf/nfc-brmb%d", pid);
	for (int i = 0; i < 4; i++)
		snprintf(dev[i], sizeof(dev[i]), "brmb%d%c", pid, 'a' + i);
	if (sh("for x in a b c d; do ip link add brmb%d$x type veth peer name "
	       "brmb%dp$x && sysctl -qw net.ipv6.conf.brmb%d$x.disable_ipv6=1 "
	       "net.ipv6.conf.brmb%dp$x.disable_ipv6=1 && ip link set "
	       "brmb%d$x up && ip link set brmb%dp$x up || exit 1; done%s",
	       "")) {
		fprintf(stderr, "br_microbench: cannot create veths\n");
		rc = 1;
		goto out;
	}
	printf("| mode | forwarder, ns/frame | bridge, ns/frame | bridge - "
	       "forwarder |\n|---|---:|---:|---:|\n");
	for (int m = 0; m < 3; m++) {
		struct nfc *nfc;
		double fw = 1e9, br = 1e9;
		int ret;

		if (nfc_open(&nfc, &opts, err, sizeof(err))) {
			fprintf(stderr, "br_microbench: %s\n", err);
			rc = 1;
			break;
		}
		if (nfc_nf_add(nfc, "bridge", "br0", modes[m], NULL) ||
		    nfc_port_add(nfc, "br0", "p1", dev[0], NULL) ||
		    nfc_port_add(nfc, "br0", "p2", dev[1], NULL) ||
		    nfc_nf_add(nfc, "forwarder", "f0", modes[m], NULL) ||
		    nfc_port_add(nfc, "f0", "p1", dev[2], NULL) ||
		    nfc_port_add(nfc, "f0", "p2", dev[3], NULL)) {
			fprintf(stderr, "br_microbench: %s: %s\n", modes[m],
				nfc_errmsg(nfc));
			rc = 1;
		} else {
			/* Both stations learned, then the best of three. */
			run("nf/0-br0/prog", 0, 1, back, 1, &ret);
			run("nf/0-br0/prog", 0, 0, f, 1, &ret);
			for (int i = 0; i < 3; i++) {
				double a = run("nf/1-f0/prog", 1, 0, f, repeat,
					       &ret);
				double b = run("nf/0-br0/prog", 0, 0, f, repeat,
					       &ret);

				fw = a >= 0 && a < fw ? a : fw;
				br = b >= 0 && b < br ? b : br;
			}
			printf("| %s | %.0f | %.0f | %.0f |\n", modes[m], fw,
			       br, br - fw);
		}
		nfc_reset(nfc);
		nfc_close(nfc);
	}
out:
	for (int i = 0; i < 4; i++) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "ip link del %s 2>/dev/null",
			 dev[i]);
		if (system(cmd))
			(void)0;
	}
	rmdir(root);
	return rc;
}
