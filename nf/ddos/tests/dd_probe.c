// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dd_probe: the verdicts of a ddos NF's data plane on probe addresses,
 * against a reference's.
 *
 *   dd_probe ROOT NF NETDEV PROBES
 *
 * PROBES holds lines "ADDRESS 0|1" (1: the reference lists it; dd_tools.py
 * feed writes them). Each address is the source of a crafted frame
 * (Ethernet, IPv4 or IPv6, UDP or a TCP ACK in turn) run with
 * BPF_PROG_TEST_RUN through the programs loaded under pin root ROOT, as
 * they are: NF's entry (nf/<id>-NF/prog, the metadata set as the stub or
 * the previous NF sets it for NF's port 0) and the program on NETDEV's
 * XDP hook, which must be NF's own nfc_direct (NF first on NETDEV's
 * ingress: its front and then the same checks). Listed means dropped
 * (XDP_DROP, nothing sent on); not listed means sent on out of NF's
 * port 1 (XDP_REDIRECT, through what follows it). The NF's blocklist
 * drop counter must have grown by the drops seen.
 *
 * Prints the first disagreements (address, the reference's verdict,
 * each program's) and a summary; exits 1 on any disagreement.
 *
 * Not a test itself (the runner runs test_* programs): a tool scale.sh
 * calls, which makes the lists and the reference.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "fuzzpkt.h"
#include "ddos/ddos.h"

#define SHOWN 5 /* disagreements printed in full */

enum { V_DROP = 1, V_REDIRECT = 4 };

/* The NF's pin directory under root ("nf/<id>-<name>") and its id; -1 if
 * there is none. */
static int nf_dir(const char *root, const char *name, char *dir, size_t len)
{
	char path[256], tail[64];
	struct dirent *d;
	int id = -1;
	DIR *nd;

	snprintf(path, sizeof(path), "%s/nf", root);
	nd = opendir(path);
	if (!nd) {
		fprintf(stderr, "dd_probe: cannot open %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	while (id < 0 && (d = readdir(nd))) {
		unsigned n;

		if (sscanf(d->d_name, "%u-%63s", &n, tail) == 2 &&
		    !strcmp(tail, name)) {
			id = (int)n;
			snprintf(dir, len, "nf/%.56s", d->d_name);
		}
	}
	closedir(nd);
	if (id < 0)
		fprintf(stderr, "dd_probe: no NF %s under %s\n", name, path);
	return id;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info pi = {0};
	__u32 sz = sizeof(pi);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &pi, &sz) ? pi.id : 0;
}

/* A frame from `src` (4 or 16 bytes, by `fam`) to the server's address:
 * UDP with 4 bytes of payload, or a TCP ACK (no SYN: the SYN defence has
 * nothing to say about it while no destination is under cookies).
 * Checksums right. Returns its length. */
static __u32 frame(__u8 *f, int fam, const __u8 *src, int tcp)
{
	__u32 l3 = 14, hl = fam == 4 ? 20 : 40, l4 = l3 + hl;
	__u32 n = tcp ? 20 : 12;
	__u8 *t = f + l4;

	memset(f, 0, l4 + n);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	fz_put16(f + 12, fam == 4 ? 0x0800 : 0x86dd);
	if (fam == 4) {
		f[l3] = 0x45;
		fz_put16(f + l3 + 2, hl + n);
		f[l3 + 8] = 64;
		f[l3 + 9] = tcp ? 6 : 17;
		memcpy(f + l3 + 12, src, 4);
		inet_pton(AF_INET, "198.51.100.2", f + l3 + 16);
	} else {
		f[l3] = 0x60;
		fz_put16(f + l3 + 4, n);
		f[l3 + 6] = tcp ? 6 : 17;
		f[l3 + 7] = 64;
		memcpy(f + l3 + 8, src, 16);
		inet_pton(AF_INET6, "2001:db8::2", f + l3 + 24);
	}
	fz_put16(t, 40000);
	fz_put16(t + 2, 80);
	if (tcp) {
		t[12] = 5 << 4;
		t[13] = 0x10; /* ACK */
		fz_put16(t + 14, 0xffff);
	} else {
		fz_put16(t + 4, n);
		memcpy(t + 8, "prob", 4);
	}
	if (fam == 4) {
		fz_ipv4_fix(f + l3);
		fz_l4_fix(f + l3);
	} else {
		__u32 s = fz_pseudo6(f + l3, n, f[l3 + 6]);

		fz_put16(t + (tcp ? 16 : 6), fz_fold(fz_sum(t, n, s)));
	}
	return l4 + n;
}

/* What a program did with one probe, by the contract above. */
enum { DROPPED, WENT_ON, NEITHER };
static const char *const outcome_name[] = {"dropped", "went on", "neither"};

static int outcome(const struct fz_nf *n, const struct fz_frame *f)
{
	if (f->verdict == V_DROP && !fz_sent(n))
		return DROPPED;
	if (f->verdict == V_REDIRECT && fz_sent(n) == 2)
		return WENT_ON;
	return NEITHER;
}

struct tally {
	const char *name;
	long seen[3], disagree; /* seen: by outcome */
};

/* The probes of `in` through both programs of `n` (under `root`): 0 if
 * every verdict is the reference's and the counter agrees, 1 if not, 2 if
 * a run failed. */
static int probe_all(struct fz_nf *n, const char *root, const char *stats,
		     FILE *in)
{
	struct tally t[2] = {{.name = "entry"}, {.name = "hook"}};
	struct fz_frame *f = calloc(1, sizeof(*f));
	long probes = 0, listed = 0, shown = 0;
	char line[128], addr[64];
	int res[2], ref;
	__u64 drops0;
	int want, rc = 0;

	if (!f)
		return 2;
	drops0 = dpt_percpu_sum(root, stats, DD_S_DROP_BLOCKLIST, 0, 8);
	while (rc < 2 && fgets(line, sizeof(line), in)) {
		__u8 src[16];
		int fam;

		if (sscanf(line, "%63s %d", addr, &want) != 2)
			continue;
		fam = strchr(addr, ':') ? 6 : 4;
		if (inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, src) != 1) {
			fprintf(stderr, "dd_probe: not an address: %s\n", addr);
			rc = 2;
			break;
		}
		fz_reset(f);
		/* UDP and TCP in turn, across both halves (the listed probes
		 * are every other line). */
		f->len = frame(f->in, fam, src, (probes >> 1) & 1);
		ref = want ? DROPPED : WENT_ON;
		for (int d = 0; d < 2 && rc < 2; d++) {
			if (fz_run(n, f, 0, d)) {
				fprintf(stderr, "dd_probe: %s run on %s: %s\n",
					t[d].name, addr, strerror(-f->verdict));
				rc = 2;
				break;
			}
			res[d] = outcome(n, f);
			t[d].seen[res[d]]++;
			t[d].disagree += res[d] != ref;
		}
		if (rc < 2 && (res[0] != ref || res[1] != ref) &&
		    shown++ < SHOWN)
			printf("disagree: %s reference %s, entry %s, hook %s\n",
			       addr, want ? "listed" : "not listed",
			       outcome_name[res[0]], outcome_name[res[1]]);
		probes++;
		listed += want;
	}
	free(f);
	if (rc)
		return rc;
	printf("probes %ld, listed by the reference %ld\n", probes, listed);
	for (int d = 0; d < 2; d++) {
		printf("%s: dropped %ld, went on %ld, neither %ld, "
		       "disagreements %ld\n",
		       t[d].name, t[d].seen[DROPPED], t[d].seen[WENT_ON],
		       t[d].seen[NEITHER], t[d].disagree);
		rc |= t[d].disagree != 0;
	}
	drops0 =
		dpt_percpu_sum(root, stats, DD_S_DROP_BLOCKLIST, 0, 8) - drops0;
	printf("blocklist drops counted %llu, seen %ld\n",
	       (unsigned long long)drops0,
	       t[0].seen[DROPPED] + t[1].seen[DROPPED]);
	rc |= drops0 != (__u64)(t[0].seen[DROPPED] + t[1].seen[DROPPED]);
	return rc | !probes;
}

int main(int argc, char **argv)
{
	char dir[64], stats[96];
	__u32 ifx, direct_id;
	struct fz_nf n;
	int id, rc = 2;
	FILE *in;

	if (argc != 5) {
		fprintf(stderr, "usage: %s ROOT NF NETDEV PROBES\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	id = nf_dir(argv[1], argv[2], dir, sizeof(dir));
	if (id < 0)
		return 2;
	ifx = if_nametoindex(argv[3]);
	if (!ifx) {
		fprintf(stderr, "dd_probe: no netdev %s: %s\n", argv[3],
			strerror(errno));
		return 2;
	}
	if (fz_nf_open(&n, argv[1], dir, id, 2, &fz_hooks[0]) || n.direct < 0) {
		fprintf(stderr,
			"dd_probe: cannot open %s's programs and maps under "
			"%s/%s: %s\n",
			argv[2], argv[1], dir, strerror(errno));
		goto out;
	}
	n.ifindex[0] = ifx;
	/* The frames go through what NETDEV's hook runs: NF's nfc_direct
	 * when NF is first there. */
	direct_id = prog_id(n.direct);
	close(n.direct);
	n.direct = dpt_hook_prog(argv[1], ifx);
	if (!direct_id || prog_id(n.direct) != direct_id) {
		fprintf(stderr,
			"dd_probe: %s's hook does not run %s's nfc_direct "
			"(program %u, not %u)\n",
			argv[3], argv[2], prog_id(n.direct), direct_id);
		goto out;
	}
	in = fopen(argv[4], "r");
	if (!in) {
		fprintf(stderr, "dd_probe: cannot open %s: %s\n", argv[4],
			strerror(errno));
		goto out;
	}
	snprintf(stats, sizeof(stats), "%s/map/dd_stats", dir);
	rc = probe_all(&n, argv[1], stats, in);
	fclose(in);
out:
	fz_nf_close(&n);
	return rc;
}
