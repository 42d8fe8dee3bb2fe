// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Netdev helpers. The one that matters: native XDP on a veth needs two
 * things from the far end, which is usually a host in another namespace:
 *  - NAPI on (GRO enabled, or an XDP program), or frames XDP-redirected into
 *    the veth are dropped silently (measured: 100,000 redirected, 0 received);
 *  - no TX checksum offload: a frame the far end's stack sends with its
 *    checksum left to offload (CHECKSUM_PARTIAL) loses that state when XDP
 *    redirects it, and arrives with a bad checksum (ping works, TCP does
 *    not: measured here).
 * The runtime sets both on the far end itself.
 *
 * Hand-written netlink: two small requests (a link's peer namespace id, a
 * namespace's id), not worth a library dependency.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "internal.h"

int netdev_ifindex(const char *name)
{
	return (int)if_nametoindex(name);
}

bool netdev_exists(int ifindex)
{
	char name[IF_NAMESIZE];

	return ifindex > 0 && if_indextoname(ifindex, name);
}

/* By ifindex and name: a netdev made again under the same name has a new
 * ifindex, and nothing of ours is attached to it until the state is
 * applied again. */
bool endpoint_up(const struct endpoint *e)
{
	char name[IF_NAMESIZE];

	if (e->kind != PEER_DEV)
		return true;
	return e->ifindex > 0 && if_indextoname(e->ifindex, name) &&
	       !strcmp(name, e->dev);
}

static int ethtool(int fd, const char *ifname, void *data)
{
	struct ifreq ifr = {0};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

static int is_veth(int fd, const char *ifname)
{
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};

	return !ethtool(fd, ifname, &di) && !strcmp(di.driver, "veth");
}

/* veth reports its peer's ifindex as the ethtool statistic peer_ifindex. */
static int veth_peer_ifindex(int fd, const char *ifname)
{
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};
	struct ethtool_gstrings *names;
	struct ethtool_stats *st;
	int peer = -1;
	__u32 n;

	if (ethtool(fd, ifname, &di) || !di.n_stats)
		return -1;
	n = di.n_stats;
	names = calloc(1, sizeof(*names) + n * ETH_GSTRING_LEN);
	st = calloc(1, sizeof(*st) + n * sizeof(__u64));
	if (!names || !st)
		goto out;
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = n;
	if (ethtool(fd, ifname, names) || ethtool(fd, ifname, st))
		goto out;
	for (__u32 i = 0; i < n; i++)
		if (!strncmp((char *)names->data + i * ETH_GSTRING_LEN,
			     "peer_ifindex", ETH_GSTRING_LEN))
			peer = (int)st->data[i];
out:
	free(names);
	free(st);
	return peer;
}

static int nl_request(void *req, size_t len, char *reply, size_t rlen)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ssize_t n = -1;

	if (fd < 0)
		return -errno;
	if (sendto(fd, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) >= 0)
		n = recv(fd, reply, rlen, 0);
	close(fd);
	return n < 0 ? -errno : (int)n;
}

/* RTM_GETLINK of one ifindex into buf (aligned by the caller): its
 * RTM_NEWLINK message, or NULL if there is none (gone, or no answer). */
static struct nlmsghdr *link_get(int ifindex, char *buf, size_t len)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {.nlmsg_len = sizeof(req),
		       .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST},
		.ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex},
	};
	struct nlmsghdr *nh = (void *)buf;
	int n = ifindex > 0 ? nl_request(&req, sizeof(req), buf, len) : -1;

	if (n <= 0 || !NLMSG_OK(nh, (unsigned)n) ||
	    nh->nlmsg_type != RTM_NEWLINK)
		return NULL;
	return nh;
}

/* Netns id of a link's peer as seen from here; -1: same namespace. */
static int link_netnsid(int ifindex)
{
	char buf[16384] __attribute__((aligned(8)));
	struct nlmsghdr *nh = link_get(ifindex, buf, sizeof(buf));
	struct rtattr *rta;
	int len;

	if (!nh)
		return -1;
	rta = IFLA_RTA(NLMSG_DATA(nh));
	len = IFLA_PAYLOAD(nh);
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_LINK_NETNSID)
			return *(int *)RTA_DATA(rta);
	return -1;
}

/*
 * What kind of device a netdev is, for the automatic hook choice: the
 * rtnetlink kind of a virtual device ("veth", "bridge", "vxlan"...),
 * "loopback", or "" for a device that a driver registered for hardware
 * (rtnetlink gives those no kind). Asked over netlink, not /sys: the daemon
 * may run with another namespace's /sys (nsenter). -ENODEV if it is gone.
 */
int netdev_kind(int ifindex, char *kind, size_t len)
{
	char buf[16384] __attribute__((aligned(8)));
	struct nlmsghdr *nh = link_get(ifindex, buf, sizeof(buf));
	struct ifinfomsg *ifi;
	struct rtattr *rta, *in;
	int rlen, ilen;

	kind[0] = 0;
	if (!nh)
		return -ENODEV;
	ifi = NLMSG_DATA(nh);
	if (ifi->ifi_flags & IFF_LOOPBACK) {
		snprintf(kind, len, "loopback");
		return 0;
	}
	rta = IFLA_RTA(ifi);
	rlen = IFLA_PAYLOAD(nh);
	for (; RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
		if (rta->rta_type != IFLA_LINKINFO)
			continue;
		in = RTA_DATA(rta);
		ilen = RTA_PAYLOAD(rta);
		for (; RTA_OK(in, ilen); in = RTA_NEXT(in, ilen))
			if (in->rta_type == IFLA_INFO_KIND)
				snprintf(kind, len, "%.*s",
					 (int)RTA_PAYLOAD(in),
					 (char *)RTA_DATA(in));
	}
	return 0;
}

/* The id this namespace gives the namespace behind fd, or -1. */
static int nsid_of_fd(int nsfd)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr a;
		__u32 fd;
	} req = {
		.nh = {.nlmsg_len = sizeof(req),
		       .nlmsg_type = RTM_GETNSID,
		       .nlmsg_flags = NLM_F_REQUEST},
		.g = {.rtgen_family = AF_UNSPEC},
		.a = {.rta_len = RTA_LENGTH(sizeof(__u32)),
		      .rta_type = NETNSA_FD},
		.fd = (__u32)nsfd,
	};
	char buf[4096];
	int n = nl_request(&req, sizeof(req), buf, sizeof(buf));
	struct nlmsghdr *nh = (void *)buf;
	struct rtattr *rta;
	int len;

	if (n <= 0 || !NLMSG_OK(nh, (unsigned)n) ||
	    nh->nlmsg_type != RTM_NEWNSID)
		return -1;
	rta = (struct rtattr *)((char *)NLMSG_DATA(nh) +
				NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	len = nh->nlmsg_len -
	      NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == NETNSA_NSID)
			return *(int *)RTA_DATA(rta);
	return -1;
}

/* Finds an fd for the namespace with this id: named ones first, then
 * those of running processes. */
static int netns_fd_by_id(int nsid)
{
	const char *dirs[] = {"/run/netns", "/proc"};

	for (int d = 0; d < 2; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		while (dir && (e = readdir(dir))) {
			char path[300];
			int fd;

			if (e->d_name[0] == '.')
				continue;
			if (d == 1 &&
			    (e->d_name[0] < '0' || e->d_name[0] > '9'))
				continue;
			snprintf(path, sizeof(path),
				 d ? "%s/%s/ns/net" : "%s/%s", dirs[d],
				 e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (nsid_of_fd(fd) == nsid) {
				closedir(dir);
				return fd;
			}
			close(fd);
		}
		if (dir)
			closedir(dir);
	}
	return -1;
}

/* In a child, so that this process never leaves its namespace. */
static int gro_on_in_ns(int nsfd, int ifindex)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct ethtool_value v = {.cmd = ETHTOOL_SGRO, .data = 1};
		struct ethtool_value c = {.cmd = ETHTOOL_STXCSUM, .data = 0};
		char name[IF_NAMESIZE];
		int fd;

		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET))
			_exit(2);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || !if_indextoname(ifindex, name))
			_exit(3);
		if (ethtool(fd, name, &v))
			_exit(4);
		_exit(ethtool(fd, name, &c) ? 5 : 0);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -EIO;
	return 0;
}

int netdev_ensure_napi_peer(struct nfc *nfc, int ifindex, const char *ctx)
{
	char name[IF_NAMESIZE];
	int fd, peer, nsid, nsfd = -1, r = 0;

	if (!if_indextoname(ifindex, name))
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (!is_veth(fd, name)) {
		close(fd);
		return 0;
	}
	peer = veth_peer_ifindex(fd, name);
	close(fd);
	nsid = link_netnsid(ifindex);
	if (peer > 0 && nsid >= 0)
		nsfd = netns_fd_by_id(nsid);
	if (peer <= 0 || (nsid >= 0 && nsfd < 0) || gro_on_in_ns(nsfd, peer))
		r = nfci_err(nfc, EOPNOTSUPP,
			     "%s: native XDP on a veth needs GRO on and TX "
			     "checksum offload off at its peer, and the "
			     "runtime could not set them; run `ethtool -K "
			     "<peer> gro on tx off` in the peer's namespace, "
			     "or use mode=xdp-generic or mode=tc",
			     ctx);
	if (nsfd >= 0)
		close(nsfd);
	return r;
}

/* ---- the runtime's own veth pair (TC packet-out) ----------------------------
 */

static void rta_add(struct nlmsghdr *nh, int type, const void *data, int len)
{
	struct rtattr *rta = (void *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static struct rtattr *rta_nest(struct nlmsghdr *nh, int type)
{
	struct rtattr *rta = (void *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta_add(nh, type, NULL, 0);
	return rta;
}

static void rta_end(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len = (char *)nh + nh->nlmsg_len - (char *)nest;
}

/* The acknowledgement's error code. */
static int nl_ack(void *req, size_t len)
{
	char buf[4096];
	int n = nl_request(req, len, buf, sizeof(buf));
	struct nlmsghdr *nh = (void *)buf;

	if (n < 0)
		return n;
	if (NLMSG_OK(nh, (unsigned)n) && nh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	return 0;
}

int netdev_veth_create(const char *a, const char *b)
{
	char buf[1024] __attribute__((aligned(8))) = {0};
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct rtattr *info, *data, *peer;
	struct ifinfomsg *pifi;

	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	nh->nlmsg_type = RTM_NEWLINK;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	ifi->ifi_family = AF_UNSPEC;
	rta_add(nh, IFLA_IFNAME, a, strlen(a) + 1);
	info = rta_nest(nh, IFLA_LINKINFO);
	rta_add(nh, IFLA_INFO_KIND, "veth", 4);
	data = rta_nest(nh, IFLA_INFO_DATA);
	peer = rta_nest(nh, 1 /* VETH_INFO_PEER */);
	/* The peer's attributes follow its own ifinfomsg. */
	pifi = (struct ifinfomsg *)(buf + nh->nlmsg_len);
	pifi->ifi_family = AF_UNSPEC;
	nh->nlmsg_len += NLMSG_ALIGN(sizeof(*pifi));
	rta_add(nh, IFLA_IFNAME, b, strlen(b) + 1);
	rta_end(nh, peer);
	rta_end(nh, data);
	rta_end(nh, info);
	return nl_ack(buf, nh->nlmsg_len);
}

int netdev_up(const char *name)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!r && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(fd);
	return r;
}

int netdev_mtu(const char *name)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	r = ioctl(fd, SIOCGIFMTU, &ifr) < 0 ? -errno : ifr.ifr_mtu;
	close(fd);
	return r;
}

int netdev_set_mtu(const char *name, int mtu)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = mtu;
	if (ioctl(fd, SIOCSIFMTU, &ifr) < 0)
		r = -errno;
	close(fd);
	return r;
}

int netdev_del(const char *name)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {.nlmsg_len = sizeof(req),
		       .nlmsg_type = RTM_DELLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK},
		.ifi = {.ifi_family = AF_UNSPEC},
	};

	req.ifi.ifi_index = if_nametoindex(name);
	if (!req.ifi.ifi_index)
		return 0;
	return nl_ack(&req, sizeof(req));
}

/* IPv6 off: nothing of the host's own should cross the inject path. */
void netdev_no_ipv6(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			(void)0; /* no IPv6 in this kernel: nothing to quiet */
		close(fd);
	}
}
