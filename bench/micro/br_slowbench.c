// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * br_slowbench: what a flood to a port whose peer is another NF costs
 * when it goes through the slow path (XDP: packet-in, then packet-out).
 * A benchmark that prints a table, not a test (the runner runs test_*).
 *
 *   .output/bench/br_slowbench [FRAMES [BURST]]     (default 20000 frames,
 * bursts of 256)
 *
 * Topology, in the root namespace, on veths whose far ends count:
 *   br0 p1 (veth A: the frames "arrive" there)
 *       p2 (veth B: a netdev member, so every flood needs the devmap
 *           fan-out AND the slow path)
 *       p3 ── f0 p1, f0 p2 (veth C: what the slow path delivered)
 * Broadcast frames are run into br0 with BPF_PROG_TEST_RUN live frames
 * (as if received on A), a burst at a time; after each burst the slow
 * path is served in this process (nfc_poll: the bridge's packet_in, then
 * packet-out into f0). Reported: frames that reached B (kernel fan-out)
 * and C (slow path), ring losses, and the slow path's time per frame (its
 * share of one CPU: packet_in and one packet-out, a live-frames test run,
 * per copy). The kernel half's cost is bench/scenarios/bridge.sh's flood.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "dptest.h"

static char root[128], dev[3][IF_NAMESIZE], peer[3][IF_NAMESIZE];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long rx(int i)
{
	return dpt_netdev_rx(peer[i]);
}

static unsigned long long global(struct nfc *nfc, const char *key)
{
	json_t *g = nfc_global_stats(nfc);
	json_t *v = json_object_get(g, key);
	unsigned long long r = v ? json_integer_value(v) : 0;

	json_decref(g);
	return r;
}

/* As the stub would: the frame is for br0 (id 0), port p1 (0). */
static void set_meta(int fd, int ncpu)
{
	struct nfc_meta *m = calloc(ncpu, sizeof(*m));
	__u32 k = 0;

	if (!m)
		return;
	bpf_map_update_elem(fd, &k, m, BPF_ANY);
	free(m);
}

int main(int argc, char **argv)
{
	long frames = argc > 1 ? atol(argv[1]) : 20000;
	long burst = argc > 2 ? atol(argv[2]) : 256;
	struct nfc_opts opts = {.pin_root = root};
	unsigned long long b0, c0, lost0, b1, c1, lost1;
	double t_slow = 0, t0;
	long sent;
	int pid = getpid() % 100000, ncpu = libbpf_num_possible_cpus();
	struct nfc *nfc;
	char err[512], cmd[512];
	__u8 f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2,
		      0,    0,	  0,	2,    1,    0x88, 0xb5};
	int fd, meta, r = 1;
	__u32 in;

	dpt_root(root, sizeof(root), "brsb");
	for (int i = 0; i < 3; i++) {
		snprintf(dev[i], sizeof(dev[i]), "brsb%d%c", pid, 'a' + i);
		snprintf(peer[i], sizeof(peer[i]), "brsb%d%c", pid, 'x' + i);
		if (dpt_veth(dev[i], peer[i])) {
			fprintf(stderr, "br_slowbench: cannot create veths\n");
			goto out;
		}
	}
	if (nfc_open(&nfc, &opts, err, sizeof(err))) {
		fprintf(stderr, "br_slowbench: %s\n", err);
		goto out;
	}
	if (nfc_nf_add(nfc, "bridge", "br0", "xdp", NULL) ||
	    nfc_nf_add(nfc, "forwarder", "f0", "xdp", NULL) ||
	    nfc_port_add(nfc, "f0", "p2", dev[2], NULL) ||
	    nfc_port_add(nfc, "f0", "p1", NULL, NULL) ||
	    nfc_port_add(nfc, "br0", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "br0", "p2", dev[1], NULL) ||
	    nfc_port_add(nfc, "br0", "p3", "f0:p1", NULL)) {
		fprintf(stderr, "br_slowbench: set up: %s\n", nfc_errmsg(nfc));
		goto close;
	}
	snprintf(cmd, sizeof(cmd), "%s/nf/0-br0/prog", root);
	fd = bpf_obj_get(cmd);
	snprintf(cmd, sizeof(cmd), "%s/meta", root);
	meta = bpf_obj_get(cmd);
	in = if_nametoindex(dev[0]);
	usleep(100000);
	b0 = rx(1), c0 = rx(2), lost0 = global(nfc, "slow_path_ring_drops");
	for (sent = 0; sent < frames; sent += burst) {
		/* One frame a run: the live-frames pool recycles its pages
		 * with what the bridge wrote into them (a tag pushed), so a
		 * repeat would send different frames after the first few.
		 * The metadata is set before each: the stub would set it, and
		 * packet-out (the inject program) leaves its own there. */
		for (long i = 0; i < burst; i++) {
			struct dpt_run res;

			set_meta(meta, ncpu);
			if (dpt_run_fd(fd, f, sizeof(f), in, 1,
				       BPF_F_TEST_XDP_LIVE_FRAMES, &res)) {
				fprintf(stderr, "br_slowbench: test run: %s\n",
					strerror(-res.verdict));
				goto close;
			}
		}
		t0 = now_s();
		while (nfc_poll(nfc, 0) > 0)
			;
		t_slow += now_s() - t0;
	}
	usleep(200000);
	b1 = rx(1), c1 = rx(2), lost1 = global(nfc, "slow_path_ring_drops");
	printf("| frames flooded | reached the netdev port (kernel) | reached "
	       "the NF port (slow path) | lost: ring full | slow path, "
	       "us/frame | slow path, max kpps |\n");
	printf("|---:|---:|---:|---:|---:|---:|\n");
	printf("| %ld | %llu | %llu | %llu | %.2f | %.0f |\n", sent, b1 - b0,
	       c1 - c0, lost1 - lost0, c1 > c0 ? t_slow * 1e6 / (c1 - c0) : 0,
	       c1 > c0 ? (c1 - c0) / t_slow / 1e3 : 0);
	r = 0;
close:
	nfc_reset(nfc);
	nfc_close(nfc);
out:
	for (int i = 0; i < 3; i++) {
		if (dev[i][0])
			dpt_sh("ip link del %s 2>/dev/null", dev[i]);
	}
	rmdir(root);
	return r;
}
