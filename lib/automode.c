// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mode=auto, the default: the runtime picks each NF's hook from the netdevs
 * its traffic crosses.
 *
 * Why not XDP everywhere: on a veth (and the other virtual devices: bridge,
 * vxlan, tun...) an XDP program sees one frame at a time, so the stack's
 * 64 KB GSO/GRO packets are cut into MTU-sized frames before the program
 * runs (attaching XDP to a veth even takes GSO off its peer). Measured here:
 * one iperf3 TCP stream through the router at 6.3 Gbit/s in XDP, 15.5 in TC,
 * 15.1 through the Linux router. TC sees the skb whole. On a NIC whose
 * driver runs XDP, packets arrive one frame at a time anyway and native
 * XDP is what gives the small-packet rates.
 *
 * The rule, per group of NFs that must share a hook (linked port to port,
 * attached to one another, or hooking the same netdev):
 *  1. an NF of the group with an explicit mode sets it for the rest;
 *  2. an NF type that runs in one hook only sets that hook;
 *  3. an attachment in the egress direction needs TC (XDP has no egress);
 *  4. any virtual netdev (or loopback) among the group's netdevs: TC;
 *  5. only hardware netdevs: native XDP;
 *  6. no netdev the runtime can see (none yet, or all gone): the hook picked
 *     before, else TC (what a first chain on veths will want).
 * An explicit mode=xdp | xdp-generic | tc is never changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define EGRESS_WHY "egress attachment"

static int is_auto(const struct mnf *n)
{
	return n->used && !strcmp(n->mode, "auto");
}

static int find(int *up, int i)
{
	while (up[i] != i)
		i = up[i] = up[up[i]];
	return i;
}

static void join(int *up, int a, int b)
{
	a = find(up, a);
	b = find(up, b);
	if (a != b)
		up[a] = b;
}

/* NFs that reach the netdev with this ifindex: by a port or an attachment. */
static void join_dev_users(const struct model *m, int *up, int ifindex, int nf)
{
	for (int i = 0; i < NFC_MAX_NFS; i++)
		for (int p = 0; m->nfs[i].used && p < NFC_MAX_PORTS; p++)
			if (m->nfs[i].ports[p].used &&
			    m->nfs[i].ports[p].peer.kind == PEER_DEV &&
			    m->nfs[i].ports[p].peer.ifindex == ifindex)
				join(up, i, nf);
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++)
		if (m->att[a].used && m->att[a].target.kind == PEER_DEV &&
		    m->att[a].target.ifindex == ifindex)
			join(up, m->att[a].nf, nf);
}

struct pick {
	int hook;    /* -1: nothing decided yet */
	int generic; /* hook XDP decided by an NF of mode xdp-generic */
	int rule;    /* the rule (above) that decided: lower wins */
	char why[40];
};

static void consider(struct pick *pk, int rule, int hook, const char *fmt,
		     const char *arg)
{
	if (pk->hook >= 0 && pk->rule <= rule)
		return;
	pk->hook = hook;
	pk->rule = rule;
	pk->generic = 0;
	snprintf(pk->why, sizeof(pk->why), fmt, arg);
}

static void consider_dev(struct pick *pk, int ifindex)
{
	char kind[32];

	if (netdev_kind(ifindex, kind, sizeof(kind)))
		return; /* gone: it tells nothing */
	if (kind[0])
		consider(pk, 4, HOOK_TC, "%s", kind);
	else
		consider(pk, 5, HOOK_XDP, "%s", "nic");
}

int paths_resolve_auto(struct nfc *nfc, struct model *m)
{
	int up[NFC_MAX_NFS];
	struct pick *pk;

	(void)nfc;
	for (int i = 0; i < NFC_MAX_NFS; i++)
		up[i] = i;
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &m->nfs[i];

		for (int p = 0; n->used && p < NFC_MAX_PORTS; p++) {
			const struct endpoint *e = &n->ports[p].peer;

			if (!n->ports[p].used)
				continue;
			if (e->kind == PEER_NF)
				join(up, i, e->nf);
			else if (e->kind == PEER_DEV)
				join_dev_users(m, up, e->ifindex, i);
		}
	}
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		const struct mattach *at = &m->att[a];

		if (!at->used)
			continue;
		if (at->target.kind == PEER_NF)
			join(up, at->nf, at->target.nf);
		else if (at->target.kind == PEER_DEV)
			join_dev_users(m, up, at->target.ifindex, at->nf);
	}

	pk = calloc(NFC_MAX_NFS, sizeof(*pk));
	if (!pk)
		return -ENOMEM;
	for (int i = 0; i < NFC_MAX_NFS; i++)
		pk[i].hook = -1;
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &m->nfs[i];
		struct pick *g = &pk[find(up, i)];

		if (!n->used)
			continue;
		if (!is_auto(n)) {
			int was = g->hook >= 0 && g->rule <= 1;

			consider(g, 1, mode_hook(n->mode), "with %s", n->name);
			if (!was)
				g->generic = !strcmp(n->mode, "xdp-generic");
		} else if (n->type->flags & NFC_TYPE_NO_TC)
			consider(g, 2, HOOK_XDP, "type %s", n->type->name);
		else if (n->type->flags & NFC_TYPE_NO_XDP)
			consider(g, 2, HOOK_TC, "type %s", n->type->name);
		for (int p = 0; p < NFC_MAX_PORTS; p++)
			if (n->ports[p].used &&
			    n->ports[p].peer.kind == PEER_DEV)
				consider_dev(g, n->ports[p].peer.ifindex);
		/* Rule 6 keeps the hook; the reason stays only if it still
		 * says something true ("nic" of a netdev that may come back),
		 * not "with X" of an NF no longer linked (maybe deleted) nor
		 * an egress attachment detached (found by a helper). */
		if (is_auto(n) && n->auto_why[0])
			consider(g, 6, n->auto_hook, "%s",
				 strncmp(n->auto_why, "with ", 5) &&
						 strcmp(n->auto_why, EGRESS_WHY)
					 ? n->auto_why
					 : "kept from before");
	}
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		const struct mattach *at = &m->att[a];
		struct pick *g = &pk[find(up, at->nf)];

		if (!at->used)
			continue;
		if (at->dirs & DIR_EG)
			consider(g, 3, HOOK_TC, "%s", EGRESS_WHY);
		if (at->target.kind == PEER_DEV)
			consider_dev(g, at->target.ifindex);
	}
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		struct mnf *n = &m->nfs[i];
		const struct pick *g = &pk[find(up, i)];

		if (!is_auto(n))
			continue;
		n->auto_generic = g->hook == HOOK_XDP && g->generic;
		if (g->hook < 0) {
			n->auto_hook = HOOK_TC;
			snprintf(n->auto_why, sizeof(n->auto_why), "%s",
				 "no netdev yet");
		} else {
			n->auto_hook = g->hook;
			snprintf(n->auto_why, sizeof(n->auto_why), "%s",
				 g->why);
		}
	}
	free(pk);
	return 0;
}
