// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * br_microbench: the bridge's per-frame cost, kernel-timed with
 * BPF_PROG_TEST_RUN and a large repeat, beside the forwarder's (the
 * framework's own share) in the same run. A benchmark that prints a table,
 * not a test (the runner runs test_*).
 *
 *   .output/bench/br_microbench [REPEAT]        (default 2000000)
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
#include "dptest.h"

static char root[128];

/* ns a frame, or -1; *ret: the verdict of the last run. */
static double run(const char *prog, int nf, int port, const __u8 *f, int repeat,
		  int *ret)
{
	int fd = dpt_pinned(root, prog), e;
	struct dpt_run r;

	dpt_set_meta(root, nf, port);
	e = dpt_run_fd(fd, f, 60, 0, repeat, 0, &r);
	close(fd);
	*ret = r.verdict;
	return e ? -1.0 : (double)r.ns;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {"xdp", "xdp-generic", "tc"};
	int repeat = argc > 1 ? atoi(argv[1]) : 2000000;
	/* to 02:..:02 (learned behind p2) from 02:..:01 */
	__u8 f[60] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
	__u8 back[60] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
	struct nfc_opts opts = {.pin_root = root};
	char err[256], dev[4][16] = {{0}};
	int rc = 0;

	int pid = getpid() % 100000;

	dpt_root(root, sizeof(root), "brmb");
	for (int i = 0; i < 4; i++) {
		char far[20];

		snprintf(dev[i], sizeof(dev[i]), "brmb%d%c", pid, 'a' + i);
		snprintf(far, sizeof(far), "brmb%dp%c", pid, 'a' + i);
		if (dpt_veth(dev[i], far)) {
			fprintf(stderr, "br_microbench: cannot create veths\n");
			rc = 1;
			goto out;
		}
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
		if (dev[i][0])
			dpt_sh("ip link del %s 2>/dev/null", dev[i]);
	}
	rmdir(root);
	return rc;
}
