// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Netdevs that went away. The model keeps a vanished netdev's name and
 * ifindex (the user's state names it; it may come back), so "down" is
 * found, not stored: an endpoint whose ifindex no longer belongs to a
 * netdev of its name. What an NF learnt on such a port (FDB entries,
 * neighbours) describes hosts behind a device that no longer exists, and
 * a host that comes back behind the new device may have another MAC: the
 * NF types flush it (port_down), as Linux does for a deleted device.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "dataplane.h"

static void port_down(struct nfc *nfc, int nf, unsigned port)
{
	const struct nfc_nf_type *t = nfc->m->nfs[nf].type;

	if (!t->port_down)
		return;
	t->port_down(&nfc->handles[nf], port);
	nf_changed(nfc, nf, NFC_CHANGE_PORT_DOWN);
}

static void note(json_t *down, const char *dev)
{
	if (!down)
		return;
	for (size_t i = 0; i < json_array_size(down); i++)
		if (!strcmp(json_string_value(json_array_get(down, i)), dev))
			return;
	json_array_append_new(down, json_string(dev));
}

bool gone_endpoint(const struct model *m, const char *dev, struct endpoint *e)
{
	for (int i = 0; i < NFC_MAX_NFS; i++)
		for (int p = 0; m->nfs[i].used && p < NFC_MAX_PORTS; p++) {
			const struct endpoint *x = &m->nfs[i].ports[p].peer;

			if (m->nfs[i].ports[p].used && x->kind == PEER_DEV &&
			    !strcmp(x->dev, dev) && !endpoint_up(x)) {
				*e = *x;
				return true;
			}
		}
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		const struct endpoint *x = &m->att[a].target;

		if (m->att[a].used && x->kind == PEER_DEV &&
		    !strcmp(x->dev, dev) && !endpoint_up(x)) {
			*e = *x;
			return true;
		}
	}
	return false;
}

int nfc_netdevs_check(struct nfc *nfc, json_t **down)
{
	json_t *names = down ? json_array() : NULL;
	int n = 0, r = nfci_begin_ro(nfc);

	if (down)
		*down = NULL;
	if (r) {
		json_decref(names);
		return r;
	}
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		struct mnf *m = &nfc->m->nfs[i];

		if (!m->used)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++)
			if (m->ports[p].used &&
			    !endpoint_up(&m->ports[p].peer)) {
				note(names, m->ports[p].peer.dev);
				port_down(nfc, i, p);
				n++;
			}
	}
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		const struct mattach *at = &nfc->m->att[a];

		if (!at->used || endpoint_up(&at->target))
			continue;
		note(names, at->target.dev);
		port_down(nfc, at->nf, 2 * at->pair);
		port_down(nfc, at->nf, 2 * at->pair + 1);
		n += 2;
	}
	nfci_end(nfc);
	if (down)
		*down = names;
	return n;
}

int nfc_netdev_reconfigure(struct nfc *nfc, const char *name)
{
	int n = 0, r = nfci_begin(nfc);

	if (r)
		return r;
	for (int i = 0; i < NFC_MAX_NFS && !r; i++) {
		const struct mnf *m = &nfc->m->nfs[i];
		bool on = false;

		for (int p = 0; m->used && p < NFC_MAX_PORTS; p++)
			on |= m->ports[p].used &&
			      m->ports[p].peer.kind == PEER_DEV &&
			      !strcmp(m->ports[p].peer.dev, name) &&
			      endpoint_up(&m->ports[p].peer);
		if (!on || !m->type->configure)
			continue;
		r = m->type->configure(&nfc->handles[i]);
		nf_changed(nfc, i, NFC_CHANGE_CONFIGURE);
		if (r && !nfc->err[0])
			nfci_err(nfc, r, "NF %s: configure: %s", m->name,
				 strerror(-r));
		n++;
	}
	nfci_end(nfc);
	return r ? r : n;
}

int nfc_netdev_renamed(struct nfc *nfc, int ifindex, const char *name,
		       char *old)
{
	int n = 0, r = nfci_begin_ro(nfc);

	old[0] = 0;
	if (r)
		return r;
	for (int s = 0; s < NFC_MAX_STUBS; s++) {
		const struct mstub *st = &nfc->m->stubs[s];

		if (!st->used || st->ifindex != ifindex ||
		    !strcmp(st->dev, name))
			continue;
		snprintf(old, IF_NAMESIZE, "%s", st->dev);
		dp_stub_down(nfc, s);
		n++;
	}
	nfci_end(nfc);
	return n;
}
