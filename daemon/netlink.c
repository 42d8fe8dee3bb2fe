// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"

int nl_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_LINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void link_msg(struct nlmsghdr *nh, nl_fn fn, void *ctx)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	char name[IF_NAMESIZE] = "", mac[18] = "";

	if (len < 0)
		return;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);
		const unsigned char *m = RTA_DATA(a);

		if (a->rta_type == IFLA_ADDRESS && n == 6)
			snprintf(mac, sizeof(mac),
				 "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
				 m[2], m[3], m[4], m[5]);
		if (a->rta_type != IFLA_IFNAME)
			continue;
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, RTA_DATA(a), n);
		name[n] = 0;
	}
	fn(ctx, nh->nlmsg_type == RTM_NEWLINK ? NL_LINK_NEW : NL_LINK_DEL,
	   ifi->ifi_index, name, ifi->ifi_flags, mac);
}

void nl_read(int fd, nl_fn fn, void *ctx)
{
	char buf[16384] __attribute__((aligned(4)));

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* The kernel dropped messages for us. */
			fn(ctx, NL_OVERRUN, 0, "", 0, "");
			continue;
		}
		if (n <= 0)
			return;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf;
		     NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n))
			if (nh->nlmsg_type == RTM_NEWLINK ||
			    nh->nlmsg_type == RTM_DELLINK)
				link_msg(nh, fn, ctx);
	}
}
