// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Differential test against the kernel: the same rule sets (random ones and
 * ClassBench-like ones) loaded into nftables and into the firewall, the
 * same crafted packets through both, the verdict of every packet compared.
 *
 * Kernel side: in a namespace of its own, two veth pairs; an nft netdev
 * table with an egress chain on each sending end (one for dir=in packets,
 * one for dir=out), holding the rules of that direction in order with the
 * same default as the chain's policy. A packet sent on the end
 * (AF_PACKET) that reaches the far end (AF_PACKET, by the id in its last
 * bytes) was accepted. Firewall side: BPF_PROG_TEST_RUN of the firewall
 * attached on a forwarder's port, with the direction's in_port. Stateless
 * (conntrack=off): rules of the 5-tuple shape ClassBench writes, plus
 * direction, port lists, protocol numbers, IPv6 extension headers and
 * later fragments (no ports: no port rule matches them, on either side).
 */
#include <poll.h>
#include <sched.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>

#include "fw_test.h"
#include "nfchain/nfchain.h"
#include "dptest.h"

enum { XDP_REDIRECT_ = 4, XDP_DROP_ = 1 };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static char ns[64];
static const __u32 magic = 0x77665544;

/* One nft rule line per combination of the rule's port lists. */
static void nft_rule(FILE *f, const struct fw_rule *r)
{
	unsigned ns_ = r->nsport ? r->nsport : 1,
		 nd = r->ndport ? r->ndport : 1;
	char a[INET6_ADDRSTRLEN];

	for (unsigned i = 0; i < ns_; i++)
		for (unsigned j = 0; j < nd; j++) {
			fprintf(f, "  ");
			if (r->fam)
				fprintf(f, "meta protocol %s ",
					r->fam == 6 ? "ip6" : "ip");
			if (r->src.fam && r->src.plen) {
				inet_ntop(r->fam == 6 ? AF_INET6 : AF_INET,
					  r->src.addr, a, sizeof(a));
				fprintf(f, "%s saddr %s/%u ",
					r->fam == 6 ? "ip6" : "ip", a,
					r->src.plen);
			}
			if (r->dst.fam && r->dst.plen) {
				inet_ntop(r->fam == 6 ? AF_INET6 : AF_INET,
					  r->dst.addr, a, sizeof(a));
				fprintf(f, "%s daddr %s/%u ",
					r->fam == 6 ? "ip6" : "ip", a,
					r->dst.plen);
			}
			if (r->proto >= 0)
				fprintf(f, "meta l4proto %d ", r->proto);
			if (r->nsport)
				fprintf(f, "th sport %u-%u ", r->sport[i].lo,
					r->sport[i].hi);
			if (r->ndport)
				fprintf(f, "th dport %u-%u ", r->dport[j].lo,
					r->dport[j].hi);
			fprintf(f, "counter %s\n",
				r->action == FW_ACCEPT ? "accept" : "drop");
		}
}

static int nft_load(const struct fw_rule *rs, __u32 n, int def_accept)
{
	char path[128], cmd[512];
	FILE *f;
	int e;

	snprintf(path, sizeof(path), "/tmp/%s.nft", ns);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "flush ruleset\ntable netdev fwt {\n");
	for (int d = 0; d < 2; d++) {
		fprintf(f,
			" chain c%d {\n  type filter hook egress device "
			"\"v%c\" priority 0; policy %s;\n",
			d, 'a' + 2 * d, def_accept ? "accept" : "drop");
		for (__u32 i = 0; i < n; i++)
			if (!rs[i].dir || rs[i].dir - 1 == d)
				nft_rule(f, &rs[i]);
		fprintf(f, " }\n");
	}
	fprintf(f, "}\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "ip netns exec %s nft -f %s", ns, path);
	e = dpt_sh("%s", cmd);
	unlink(path);
	return e;
}

static int sock_on(const char *ifname)
{
	struct sockaddr_ll sa = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ALL)};
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), big = 64 << 20;

	if (fd < 0)
		return -1;
	sa.sll_ifindex = if_nametoindex(ifname);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Ids of the frames that arrived, marked in `got`, until `quiet_ms` pass
 * with none. */
static void drain(int fd, __u8 *got, __u32 n, int quiet_ms)
{
	__u8 b[2048];
	struct pollfd p = {.fd = fd, .events = POLLIN};

	while (poll(&p, 1, quiet_ms) > 0) {
		ssize_t l = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		__u32 id, m;

		if (l < 12)
			continue;
		memcpy(&m, b + l - 8, 4);
		memcpy(&id, b + l - 4, 4);
		if (m == magic && id < n)
			got[id] = 1;
	}
}

static int fw_run(const struct ft_pkt *p, const __u8 *f, int len)
{
	struct dpt_run r;

	dpt_set_meta(root, 1, p->dir == FW_DIR_IN ? 0 : 1);
	if (dpt_run(root, "nf/1-fw1/prog", f, len, &r))
		return -1;
	return r.verdict == XDP_REDIRECT_ ? 1 : r.verdict == XDP_DROP_ ? 0 : -2;
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

static long long total;

static void one_set(struct nfc *nfc, int nsfd, int rootfd, __u64 seed, __u32 n,
		    int cb, int def_accept, __u32 npk)
{
	struct fw_rule *rs = calloc(n + 1, sizeof(*rs));
	struct ft_pkt *pk = calloc(npk, sizeof(*pk));
	__u8 *got = calloc(npk, 1), *fwv = calloc(npk, 1);
	__u8 *unsent = calloc(npk, 1);
	int nuns = 0;
	int tx[2] = {-1, -1}, rx[2] = {-1, -1}, bad = 0, acc = 0, e;
	json_t *set, *cfg;
	__u64 s = seed;

	for (__u32 i = 0; i < n; i++)
		ft_rule(&s, 10 * (i + 1), cb, &rs[i]);
	cfg = json_pack("{s:s}", "default", def_accept ? "accept" : "drop");
	set = entries_of(rs, n);
	e = nfc_nf_set(nfc, "fw1", cfg) ||
	    nfc_coll_replace(nfc, "fw1", "rules", set);
	json_decref(cfg);
	json_decref(set);
	if (e || nft_load(rs, n, def_accept)) {
		CHECK(0, "load %u rules into the firewall and nft: %s", n,
		      nfc_errmsg(nfc));
		goto out;
	}
	/* The firewall's verdicts. */
	for (__u32 i = 0; i < npk; i++) {
		__u8 f[200];
		int len;

		ft_packet(&s,
			  ft_rand(&s) % 5 && n ? &rs[ft_rand(&s) % n] : NULL,
			  &pk[i]);
		pk[i].id = i;
		/* Later fragments apart: nft reads "ports" out of their
		 * payload (its fast payload path skips the fragment check
		 * its slow path makes), the firewall gives them none
		 * (README, "Fragments"); test_fw_dp has them. */
		pk[i].frag = 0;
		len = ft_frame(&pk[i], f);
		memcpy(f + len - 8, &magic, 4);
		fwv[i] = fw_run(&pk[i], f, len);
	}
	/* The kernel's. */
	if (setns(nsfd, CLONE_NEWNET)) {
		CHECK(0, "enter %s", ns);
		goto out;
	}
	tx[0] = sock_on("va");
	tx[1] = sock_on("vc");
	rx[0] = sock_on("vb");
	rx[1] = sock_on("vd");
	for (__u32 i = 0; i < npk; i++) {
		__u8 f[200];
		int len = ft_frame(&pk[i], f), d = pk[i].dir == FW_DIR_OUT;

		memcpy(f + len - 8, &magic, 4);
		/* A frame nft drops makes send() fail (ENOBUFS): that is
		 * the verdict, not an error; only what arrives counts. */
		if (send(tx[d], f, len, 0) != len && errno != ENOBUFS)
			unsent[i] = 1;
		if (i % 64 == 63) {
			drain(rx[0], got, npk, 0);
			drain(rx[1], got, npk, 0);
			usleep(100);
		}
	}
	drain(rx[0], got, npk, 200);
	drain(rx[1], got, npk, 200);
	if (setns(rootfd, CLONE_NEWNET))
		CHECK(0, "back to the test's namespace");
	for (__u32 i = 0; i < npk; i++) {
		if (unsent[i]) {
			nuns++;
			continue;
		}
		acc += got[i];
		if (fwv[i] != got[i] && bad++ < 5) {
			__u8 f[200];
			int len = ft_frame(&pk[i], f);

			printf("# seed %llu packet %u: nft %s, firewall %s "
			       "(walk: rule index %d) frame:",
			       (unsigned long long)seed, i,
			       got[i] ? "accepts" : "drops",
			       fwv[i] == 1   ? "accepts"
			       : fwv[i] == 0 ? "drops"
					     : "fails",
			       ft_ref(rs, n, &pk[i]));
			for (int b = 0; b < len; b++)
				printf("%s%02x", b % 4 ? "" : " ", f[b]);
			printf("\n");
		}
	}
	total += npk - nuns;
	CHECK(!bad && nuns < (int)npk / 100,
	      "%s set of %u rules, default %s: %u packets (%d could not be "
	      "sent), nft accepted %d; the firewall's verdict differs on %d",
	      cb ? "ClassBench-like" : "random", n,
	      def_accept ? "accept" : "drop", npk, nuns, acc, bad);
out:
	for (int d = 0; d < 2; d++) {
		if (tx[d] >= 0)
			close(tx[d]);
		if (rx[d] >= 0)
			close(rx[d]);
	}
	free(rs);
	free(pk);
	free(got);
	free(fwv);
	free(unsent);
}

int main(void)
{
	cpu_set_t one;
	struct nfc *nfc = NULL;
	json_t *cfg;
	char p[128];
	int nsfd = -1, rootfd = -1, e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (system("nft --version >/dev/null 2>&1")) {
		printf("# nft not installed\n");
		return 77;
	}
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	snprintf(ns, sizeof(ns), "nfwd%d", (int)getpid());
	dpt_root(root, sizeof(root), "fwnft");
	if (dpt_veths("fwn", 2, dev, peer))
		goto out;
	if (dpt_sh("ip netns add %s && "
		   "ip -n %s link add va type veth peer name vb && "
		   "ip -n %s link add vc type veth peer name vd && "
		   "ip netns exec %s sysctl -qw "
		   "net.ipv6.conf.all.disable_ipv6=1 "
		   "net.ipv6.conf.default.disable_ipv6=1 && "
		   "for d in va vb vc vd; do ip -n %s link set $d up; done",
		   ns, ns, ns, ns, ns))
		goto out;
	snprintf(p, sizeof(p), "/var/run/netns/%s", ns);
	nsfd = open(p, O_RDONLY);
	rootfd = open("/proc/self/ns/net", O_RDONLY);
	nfc = dpt_open(root);
	if (!nfc || nsfd < 0 || rootfd < 0)
		goto out;
	cfg = json_pack("{s:b}", "conntrack", 0);
	e = nfc_nf_add(nfc, "forwarder", "f1", "xdp", NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "firewall", "fw1", "xdp", cfg) ||
	    nfc_attach(nfc, "fw1", "f1:p2", "both", NULL);
	json_decref(cfg);
	if (e) {
		CHECK(0, "set up f1 and fw1: %s", nfc_errmsg(nfc));
		goto out;
	}
	one_set(nfc, nsfd, rootfd, 101, 10, 0, 0, 10000);
	one_set(nfc, nsfd, rootfd, 102, 50, 0, 1, 15000);
	one_set(nfc, nsfd, rootfd, 103, 200, 0, 0, 15000);
	one_set(nfc, nsfd, rootfd, 104, 100, 1, 1, 15000);
	one_set(nfc, nsfd, rootfd, 105, 1000, 1, 0, 25000);
	one_set(nfc, nsfd, rootfd, 106, 2000, 1, 1, 25000);
	CHECK(total >= 100000, "%lld packets compared in all", total);
	CHECK(!nfc_reset(nfc), "reset");
out:
	if (nfc)
		nfc_close(nfc);
	if (nsfd >= 0)
		close(nsfd);
	if (rootfd >= 0)
		close(rootfd);
	dpt_sh("ip netns del %s 2>/dev/null", ns);
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	TEST_EXIT();
}
