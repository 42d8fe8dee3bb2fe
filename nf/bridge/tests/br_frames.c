// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * br_frames: crafted Ethernet frames for the bridge's namespace tests.
 *
 *   br_frames send IF DST SRC ETHERTYPE [COUNT [VID]]
 *       COUNT (default 1) frames of 60 bytes, tagged with VID if given
 *   br_frames count IF ETHERTYPE SECONDS [SRC]
 *       prints how many frames of ETHERTYPE (inner, if tagged) IF received
 *       within SECONDS, optionally only those from SRC; then, per VLAN
 *       seen, "vlan=N:count" (0: untagged). With BRF_READY=PATH in the
 *       environment it writes its pid to PATH once its socket is bound,
 *       and SIGTERM ends the count early: it stops when no frame came for
 *       QUIET_MS (the frames already sent may still be on their way
 *       through a veth's queue), SECONDS then being only a bound. A fixed
 *       window alone lost frames on a loaded machine: a counter not bound
 *       yet when the first frame came, or a window over before the last.
 *
 * Not a test itself (the runner runs test_* programs): a tool the
 * scripts in this folder call inside host namespaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "nfchain/nf.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: br_frames send IF DST SRC ETHERTYPE [COUNT [VID]]\n"
		"       br_frames count IF ETHERTYPE SECONDS [SRC]\n");
	return 2;
}

static int open_sock(const char *ifname, int *ifindex)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL)};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0) {
		perror("br_frames: socket");
		return -1;
	}
	*ifindex = if_nametoindex(ifname);
	sll.sll_ifindex = *ifindex;
	if (!*ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "br_frames: bind %s: %s\n", ifname,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int do_send(int argc, char **argv)
{
	unsigned char f[64] = {0};
	unsigned long type, count = 1, vid = 0;
	int ifindex, fd, off = 12;

	if (argc < 4)
		return usage();
	if (nfc_parse_mac(argv[1], f) || nfc_parse_mac(argv[2], f + 6)) {
		fprintf(stderr, "br_frames: bad MAC address\n");
		return 2;
	}
	type = strtoul(argv[3], NULL, 0);
	if (argc > 4)
		count = strtoul(argv[4], NULL, 0);
	if (argc > 5)
		vid = strtoul(argv[5], NULL, 0);
	if (vid) {
		f[12] = NFC_ETH_P_8021Q >> 8;
		f[13] = NFC_ETH_P_8021Q & 0xff;
		f[14] = vid >> 8;
		f[15] = vid & 0xff;
		off = 16;
	}
	f[off] = type >> 8;
	f[off + 1] = type & 0xff;
	memcpy(f + off + 2, "nfchain bridge test", 19);
	fd = open_sock(argv[0], &ifindex);
	if (fd < 0)
		return 1;
	for (unsigned long i = 0; i < count; i++) {
		struct sockaddr_ll to = {.sll_family = AF_PACKET,
					 .sll_ifindex = ifindex,
					 .sll_halen = ETH_ALEN};

		memcpy(to.sll_addr, f, ETH_ALEN);
		if (sendto(fd, f, 60 + (vid ? 4 : 0), 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0) {
			perror("br_frames: send");
			return 1;
		}
	}
	close(fd);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Long enough for a copy the slow path makes (a flood to an NF port in
 * XDP: packet-in, then packet-out) on a loaded machine. */
#define QUIET_MS 1000
static volatile sig_atomic_t count_stop;

static void on_term(int sig)
{
	(void)sig;
	count_stop = 1;
}

static int do_count(int argc, char **argv)
{
	const char *ready = getenv("BRF_READY");
	unsigned long type;
	unsigned char src[6], buf[2048];
	int ifindex, fd, one = 1, use_src = 0;
	unsigned long total = 0, by_vlan[4096] = {0};
	double end;

	if (argc < 3)
		return usage();
	type = strtoul(argv[1], NULL, 0);
	end = now_s() + atof(argv[2]);
	if (argc > 3) {
		if (nfc_parse_mac(argv[3], src))
			return usage();
		use_src = 1;
	}
	fd = open_sock(argv[0], &ifindex);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
	if (ready) {
		struct sigaction sa = {.sa_handler = on_term};
		char tmp[512];
		FILE *f;

		sigaction(SIGTERM, &sa, NULL);
		/* Written whole, then renamed: a reader never sees half a pid.
		 */
		snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) ||
		    rename(tmp, ready)) {
			perror(ready);
			return 1;
		}
	}
	for (;;) {
		double left = end - now_s();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} ctl;
		struct sockaddr_ll from;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = &ctl,
				    .msg_controllen = sizeof(ctl)};
		unsigned vid = 0, off = 12;
		ssize_t n;

		int wait_ms = (int)(left * 1000) + 1, pr;

		if (left <= 0)
			break;
		if (count_stop && wait_ms > QUIET_MS)
			wait_ms = QUIET_MS;
		pr = poll(&pfd, 1, wait_ms);
		if (pr == 0 && count_stop)
			break; /* asked to stop and quiet for QUIET_MS */
		if (pr <= 0)
			continue;
		n = recvmsg(fd, &mh, 0);
		if (n < NFC_ETH_HLEN || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			struct tpacket_auxdata *a = (void *)CMSG_DATA(c);

			if (c->cmsg_level == SOL_PACKET &&
			    c->cmsg_type == PACKET_AUXDATA &&
			    (a->tp_status & TP_STATUS_VLAN_VALID))
				vid = a->tp_vlan_tci & NFC_VLAN_VID_MASK;
		}
		if (!vid && n >= NFC_VLAN_ETH_HLEN &&
		    (buf[12] << 8 | buf[13]) == NFC_ETH_P_8021Q) {
			vid = ((buf[14] << 8) | buf[15]) & NFC_VLAN_VID_MASK;
			off = 16;
		}
		if ((unsigned long)((buf[off] << 8) | buf[off + 1]) != type)
			continue;
		if (use_src && memcmp(buf + 6, src, 6))
			continue;
		total++;
		by_vlan[vid]++;
	}
	printf("%lu", total);
	for (int v = 0; v < 4096; v++)
		if (by_vlan[v])
			printf(" vlan=%d:%lu", v, by_vlan[v]);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "send"))
		return do_send(argc - 2, argv + 2);
	if (!strcmp(argv[1], "count"))
		return do_count(argc - 2, argv + 2);
	return usage();
}
