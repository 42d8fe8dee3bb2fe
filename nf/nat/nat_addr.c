// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nat: the address masquerade uses, from what the NF is attached to: a
 * router (or other NF) port's ip= config, or a netdev's first IPv4
 * address. Read again every tick, so that masquerade follows a change.
 */
#include <ifaddrs.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "internal.h"
#include "nat_int.h"

static __u32 dev_addr4(const char *dev)
{
	struct ifaddrs *ifa, *i;
	__u32 a = 0;

	if (getifaddrs(&ifa))
		return 0;
	for (i = ifa; i && !a; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    !strcmp(i->ifa_name, dev))
			a = ntohl(((struct sockaddr_in *)i->ifa_addr)
					  ->sin_addr.s_addr);
	freeifaddrs(ifa);
	return a;
}

int nat_target_addr4(const struct nfc_nf *nf, __u32 *addr)
{
	const struct model *m = nf->nfc->m;
	int attached = 0;

	*addr = 0;
	for (int i = 0; i < NFC_MAX_ATTACHMENTS && !*addr; i++) {
		const struct mattach *a = &m->att[i];

		if (!a->used || a->nf != (int)nf->id)
			continue;
		attached = 1;
		if (a->target.kind == PEER_DEV) {
			*addr = dev_addr4(a->target.dev);
		} else if (a->target.kind == PEER_NF) {
			const struct mport *p =
				&m->nfs[a->target.nf].ports[a->target.port];
			const char *ip = json_string_value(
				json_object_get(p->config, "ip"));
			uint32_t v;
			unsigned len;

			if (p->used && ip && !nfc_parse_prefix(ip, &v, &len, 1))
				*addr = v;
		}
	}
	return attached;
}
