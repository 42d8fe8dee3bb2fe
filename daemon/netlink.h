/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Netdevs appearing and disappearing, from rtnetlink (RTNLGRP_LINK). The
 * daemon logs both and, when a netdev that a port or attachment names
 * comes back, re-applies the desired state so that its stub is re-attached.
 */
#ifndef NFD_NETLINK_H
#define NFD_NETLINK_H

enum nl_event { NL_LINK_NEW, NL_LINK_DEL, NL_OVERRUN };

/* flags: the link's IFF_* (IFF_LOWER_UP: it has carrier, which a veth has
 * once both its ends are up); mac: its address as "02:00:..", "" if it
 * has none of 6 bytes. */
typedef void (*nl_fn)(void *ctx, enum nl_event ev, int ifindex,
		      const char *ifname, unsigned flags, const char *mac);

/* A non-blocking socket subscribed to link events, or -errno. */
int nl_open(void);
/* Reads what is pending and calls fn for each link message. NL_OVERRUN
 * (ifindex 0) means events were lost: the caller should rescan. */
void nl_read(int fd, nl_fn fn, void *ctx);

#endif
