// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * From the model to the hops the data plane follows: for every NF port and
 * every netdev hook, what comes next. Transparent NFs are spliced in here:
 * a path leaving NF port X toward its peer Y crosses X's egress attachments
 * (last to first), then Y's ingress attachments (first to last); the way
 * back is the mirror image. Also checks what the kernel would refuse
 * (mixed hook types, XDP egress) and the limits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "paths.h"

static int att_cmp_rank;

struct att_ref {
	int a, rank;
};

static int cmp_att(const void *x, const void *y)
{
	const struct att_ref *a = x, *b = y;

	return att_cmp_rank * (a->rank - b->rank);
}

/* Attachments on `target` that see direction `dir`, in crossing order. */
static int atts_on(const struct model *m, const struct endpoint *target,
		   int dir, struct att_ref *out)
{
	int n = 0;

	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		const struct mattach *at = &m->att[a];

		if (at->used && (at->dirs & dir) &&
		    endpoint_eq(&at->target, target)) {
			out[n].a = a;
			out[n].rank = at->rank;
			n++;
		}
	}
	att_cmp_rank = dir == DIR_IN ? 1 : -1;
	qsort(out, n, sizeof(*out), cmp_att);
	return n;
}

struct walk {
	const struct model *m;
	struct nfc_hop *hops;	   /* [NFC_GPORTS] */
	struct nfc_hop *stub_hops; /* [NFC_MAX_STUBS] */
};

/* Chain `n` attachments (crossed in `dir`) in front of `final`, starting
 * from *first; returns through *first the hop the source should take. */
static void splice(struct walk *w, const struct att_ref *refs, int n, int dir,
		   struct nfc_hop *first, struct nfc_hop final)
{
	struct nfc_hop next = final;

	for (int i = n - 1; i >= 0; i--) {
		const struct mattach *at = &w->m->att[refs[i].a];
		int in = 2 * at->pair + (dir == DIR_EG);
		int out = in ^ 1;

		w->hops[NFC_GPORT(at->nf, out)] = next;
		next = (struct nfc_hop){
			.kind = NFC_HOP_NF, .nf = at->nf, .port = in};
	}
	*first = next;
}

int netdev_peer_port(const struct model *m, int ifindex, int *nf, int *port)
{
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &m->nfs[i];

		if (!n->used)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++)
			if (n->ports[p].used &&
			    n->ports[p].peer.kind == PEER_DEV &&
			    n->ports[p].peer.ifindex == ifindex) {
				*nf = i;
				*port = p;
				return 1;
			}
	}
	return 0;
}

static void walk_port(struct walk *w, int nf, int port)
{
	const struct mport *mp = &w->m->nfs[nf].ports[port];
	struct endpoint self = {.kind = PEER_NF, .nf = nf, .port = port};
	struct att_ref out[NFC_MAX_ATTACHMENTS], in[NFC_MAX_ATTACHMENTS];
	struct nfc_hop final = {0}, mid, *src = &w->hops[NFC_GPORT(nf, port)];
	int nout, nin = 0;

	if (mp->peer.kind == PEER_NONE) {
		*src = (struct nfc_hop){.kind = NFC_HOP_NONE};
		return;
	}
	nout = atts_on(w->m, &self, DIR_EG, out);
	if (mp->peer.kind == PEER_NF) {
		nin = atts_on(w->m, &mp->peer, DIR_IN, in);
		final = (struct nfc_hop){.kind = NFC_HOP_NF,
					 .nf = mp->peer.nf,
					 .port = mp->peer.port};
		splice(w, in, nin, DIR_IN, &mid, final);
	} else {
		nin = atts_on(w->m, &mp->peer, DIR_EG, in);
		final = (struct nfc_hop){.kind = NFC_HOP_NETDEV,
					 .ifindex = mp->peer.ifindex};
		splice(w, in, nin, DIR_EG, &mid, final);
	}
	splice(w, out, nout, DIR_EG, src, mid);
}

static void walk_stub(struct walk *w, int s)
{
	const struct mstub *st = &w->m->stubs[s];
	struct endpoint dev = {.kind = PEER_DEV, .ifindex = st->ifindex};
	struct att_ref a[NFC_MAX_ATTACHMENTS], b[NFC_MAX_ATTACHMENTS];
	struct nfc_hop final = {.kind = NFC_HOP_PASS}, mid;
	int na, nb, nf, port;

	if (st->egress) {
		na = atts_on(w->m, &dev, DIR_EG, a);
		splice(w, a, na, DIR_EG, &w->stub_hops[s], final);
		return;
	}
	na = atts_on(w->m, &dev, DIR_IN, a);
	if (netdev_peer_port(w->m, st->ifindex, &nf, &port)) {
		struct endpoint y = {.kind = PEER_NF, .nf = nf, .port = port};

		nb = atts_on(w->m, &y, DIR_IN, b);
		final = (struct nfc_hop){
			.kind = NFC_HOP_NF, .nf = nf, .port = port};
		splice(w, b, nb, DIR_IN, &mid, final);
	} else {
		mid = final;
	}
	splice(w, a, na, DIR_IN, &w->stub_hops[s], mid);
}

void paths_compute(const struct model *m, struct nfc_hop *hops,
		   struct nfc_hop *stub_hops)
{
	struct walk w = {.m = m, .hops = hops, .stub_hops = stub_hops};

	memset(hops, 0, sizeof(*hops) * NFC_GPORTS);
	memset(stub_hops, 0, sizeof(*stub_hops) * NFC_MAX_STUBS);
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		if (!m->nfs[i].used ||
		    (m->nfs[i].type->flags & NFC_TYPE_TRANSPARENT))
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++)
			if (m->nfs[i].ports[p].used)
				walk_port(&w, i, p);
	}
	for (int s = 0; s < NFC_MAX_STUBS; s++)
		if (m->stubs[s].used)
			walk_stub(&w, s);
	/* The way back of an NF attached to a netdev's ingress only: what
	 * it sends out of the port a packet came in on (a firewall's RST
	 * answering a rejected SYN) leaves by the netdev. The chain's hops
	 * go one way, and that port had none: the RST was dropped. (With
	 * the egress attached too, that port leads on to the wire from the
	 * egress hook, and back stays the hook's own pass: the local
	 * stack.) */
	for (int i = 0; i < NFC_MAX_ATTACHMENTS; i++) {
		const struct mattach *at = &m->att[i];
		struct nfc_hop *h;

		if (!at->used || at->target.kind != PEER_DEV ||
		    !(at->dirs & DIR_IN))
			continue;
		h = &hops[NFC_GPORT(at->nf, 2 * at->pair)];
		if (h->kind == NFC_HOP_NONE)
			*h = (struct nfc_hop){.kind = NFC_HOP_NETDEV,
					      .ifindex = at->target.ifindex};
	}
}

/* ---- stubs: which netdev hooks the model needs ----------------------------
 */

struct stub_need {
	int ifindex, egress, hook, xdp_flags;
	char dev[IF_NAMESIZE];
	char why[96]; /* for errors: the NF that needs it */
};

static int xdp_flags_of(const struct mnf *n)
{
	/* 1 << 1: XDP_FLAGS_SKB_MODE, 1 << 2: XDP_FLAGS_DRV_MODE */
	return !strcmp(n->mode, "xdp-generic") ||
			       (!strcmp(n->mode, "auto") && n->auto_generic)
		       ? 1 << 1
		       : 1 << 2;
}

/* Adds a needed hook or checks it agrees with one already needed. */
static int need(struct nfc *nfc, struct stub_need *needs, int *n,
		const struct endpoint *dev, int egress, const struct mnf *by)
{
	int hook = nf_hook(by), flags = hook == HOOK_XDP ? xdp_flags_of(by) : 0;

	for (int i = 0; i < *n; i++) {
		if (needs[i].ifindex != dev->ifindex ||
		    needs[i].egress != egress)
			continue;
		if (needs[i].hook != hook || needs[i].xdp_flags != flags)
			return nfci_err(nfc, EINVAL,
					"%s: %s (mode %s) and %s hook the same "
					"netdev in different modes",
					dev->dev, by->name, by->mode,
					needs[i].why);
		return 0;
	}
	if (*n >= NFC_MAX_STUBS)
		return nfci_err(nfc, ENOSPC,
				"%s: limit of %d netdev hooks reached "
				"(NFC_MAX_STUBS)",
				dev->dev, NFC_MAX_STUBS);
	needs[*n] = (struct stub_need){.ifindex = dev->ifindex,
				       .egress = egress,
				       .hook = hook,
				       .xdp_flags = flags};
	snprintf(needs[*n].dev, sizeof(needs[*n].dev), "%s", dev->dev);
	snprintf(needs[*n].why, sizeof(needs[*n].why), "%s (mode %s)", by->name,
		 by->mode);
	(*n)++;
	return 0;
}

int paths_assign_stubs(struct nfc *nfc, struct model *m)
{
	struct stub_need *needs;
	int n = 0, r = paths_resolve_auto(nfc, m);

	if (r)
		return r;
	needs = calloc(NFC_MAX_STUBS, sizeof(*needs));
	if (!needs)
		return -ENOMEM;
	for (int i = 0; i < NFC_MAX_NFS && !r; i++) {
		const struct mnf *nf = &m->nfs[i];

		if (!nf->used)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS && !r; p++)
			if (nf->ports[p].used &&
			    nf->ports[p].peer.kind == PEER_DEV)
				r = need(nfc, needs, &n, &nf->ports[p].peer, 0,
					 nf);
	}
	for (int a = 0; a < NFC_MAX_ATTACHMENTS && !r; a++) {
		const struct mattach *at = &m->att[a];
		int pnf, pport;

		if (!at->used || at->target.kind != PEER_DEV)
			continue;
		/* Spliced into the chain's own hooks: its XDP ingress hook is
		 * the port's, whose flags it must take. An explicit xdp-generic
		 * on a native chain's netdev (or the other way) was taken
		 * silently, the NF running in the chain's mode and show
		 * saying its own (found by a helper). */
		if (netdev_peer_port(m, at->target.ifindex, &pnf, &pport)) {
			if ((at->dirs & DIR_IN) &&
			    nf_hook(&m->nfs[at->nf]) == HOOK_XDP &&
			    nf_hook(&m->nfs[pnf]) == HOOK_XDP)
				r = need(nfc, needs, &n, &at->target, 0,
					 &m->nfs[at->nf]);
			continue;
		}
		if (at->dirs & DIR_IN)
			r = need(nfc, needs, &n, &at->target, 0,
				 &m->nfs[at->nf]);
		if (!r && (at->dirs & DIR_EG))
			r = need(nfc, needs, &n, &at->target, 1,
				 &m->nfs[at->nf]);
	}
	if (r)
		goto out;
	/* Keep the number of every hook that stays as it was. */
	for (int s = 0; s < NFC_MAX_STUBS; s++) {
		struct mstub *st = &m->stubs[s];
		int keep = 0;

		if (!st->used)
			continue;
		for (int i = 0; i < n; i++) {
			if (needs[i].ifindex == st->ifindex &&
			    needs[i].egress == st->egress &&
			    needs[i].hook == st->hook &&
			    needs[i].xdp_flags == st->xdp_flags) {
				needs[i].ifindex = -1; /* placed */
				keep = 1;
				break;
			}
		}
		if (!keep)
			memset(st, 0, sizeof(*st));
	}
	for (int i = 0; i < n; i++) {
		int s;

		if (needs[i].ifindex < 0)
			continue;
		for (s = 0; s < NFC_MAX_STUBS && m->stubs[s].used; s++)
			;
		if (s == NFC_MAX_STUBS) {
			r = nfci_err(nfc, ENOSPC,
				     "%s: limit of %d netdev hooks reached",
				     needs[i].dev, NFC_MAX_STUBS);
			goto out;
		}
		m->stubs[s] = (struct mstub){.used = true,
					     .ifindex = needs[i].ifindex,
					     .egress = needs[i].egress,
					     .hook = needs[i].hook,
					     .xdp_flags = needs[i].xdp_flags};
		snprintf(m->stubs[s].dev, sizeof(m->stubs[s].dev), "%s",
			 needs[i].dev);
	}
out:
	free(needs);
	return r;
}

/* ---- checks over the whole model ------------------------------------------
 */

static int check_hooks(struct nfc *nfc, const struct model *m)
{
	char b1[80], b2[80];

	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &m->nfs[i];

		if (!n->used)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			const struct mport *mp = &n->ports[p];
			const struct mnf *o;

			if (!mp->used || mp->peer.kind != PEER_NF)
				continue;
			o = &m->nfs[mp->peer.nf];
			if (nf_hook(o) != nf_hook(n))
				return nfci_err(
					nfc, EINVAL,
					"port %s of %s: peer %s is mode %s, "
					"%s is mode %s; NFs linked together "
					"must share a hook type (xdp or tc): "
					"change both modes in one apply, or "
					"give them mode=auto",
					mp->name, n->name,
					endpoint_str(m, &mp->peer, b1,
						     sizeof(b1)),
					o->mode, n->name, n->mode);
		}
	}
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		const struct mattach *at = &m->att[a];
		const struct mnf *t;
		int pnf, pport, owner = -1;

		if (!at->used)
			continue;
		t = &m->nfs[at->nf];
		endpoint_str(m, &at->target, b1, sizeof(b1));
		if (at->target.kind == PEER_NF)
			owner = at->target.nf;
		else if (netdev_peer_port(m, at->target.ifindex, &pnf, &pport))
			owner = pnf;
		if (owner >= 0 && nf_hook(&m->nfs[owner]) != nf_hook(t))
			return nfci_err(
				nfc, EINVAL,
				"%s, attached to %s, is mode %s but the "
				"chain there (%s) is mode %s; they must share "
				"a hook type: change both modes in one apply, "
				"or give %s mode=auto",
				t->name, b1, t->mode, m->nfs[owner].name,
				m->nfs[owner].mode, t->name);
		if (owner < 0 && at->target.kind == PEER_DEV &&
		    (at->dirs & DIR_EG) && nf_hook(t) == HOOK_XDP)
			return nfci_err(nfc, EINVAL,
					"attach %s to %s: XDP has no egress "
					"hook; use direction=ingress, or an NF "
					"in mode=tc",
					t->name, b1);
		(void)b2;
	}
	return 0;
}

/* Most tail calls a packet can take from any netdev hook (an NF one, a
 * filter or capture three: NFC_TYPE_FILTER_CALLS), assuming an NF may send out
 * of any port but the one it came in on (a transparent NF only out of the
 * other side of its pair); and the NFs on that path. Counting NFs let a
 * path of 12 filters, 37 tail calls, through: every packet dropped (found
 * by a helper). */
struct depth_walk {
	const struct model *m;
	const struct nfc_hop *hops;
	unsigned char on_path[NFC_MAX_NFS];
	long budget;
	int worst, worst_nfs;
};

static void depth_dfs(struct depth_walk *d, const struct nfc_hop *h, int depth,
		      int nfs)
{
	const struct mnf *n;

	if (h->kind != NFC_HOP_NF || --d->budget < 0)
		return;
	n = &d->m->nfs[h->nf];
	depth += n->type->flags & NFC_TYPE_FILTER_CALLS ? 3 : 1;
	nfs++;
	if (depth > d->worst) {
		d->worst = depth;
		d->worst_nfs = nfs;
	}
	if (d->on_path[h->nf] || depth > NFC_MAX_DEPTH + 1)
		return;
	d->on_path[h->nf] = 1;
	if (n->type->flags & NFC_TYPE_TRANSPARENT) {
		depth_dfs(d, &d->hops[NFC_GPORT(h->nf, h->port ^ 1)], depth,
			  nfs);
	} else {
		for (unsigned p = 0; p < NFC_MAX_PORTS; p++)
			if (p != h->port && n->ports[p].used)
				depth_dfs(d, &d->hops[NFC_GPORT(h->nf, p)],
					  depth, nfs);
	}
	d->on_path[h->nf] = 0;
}

int paths_check(struct nfc *nfc, const struct model *m,
		const struct nfc_hop *hops, const struct nfc_hop *stub_hops)
{
	int r = check_hooks(nfc, m);

	if (r)
		return r;
	for (int s = 0; s < NFC_MAX_STUBS; s++) {
		struct depth_walk *d;
		int nfs;

		if (!m->stubs[s].used)
			continue;
		d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		d->m = m;
		d->hops = hops;
		d->budget = 200000; /* a pathological mesh is not worth more */
		depth_dfs(d, &stub_hops[s], 0, 0);
		r = d->worst;
		nfs = d->worst_nfs;
		free(d);
		if (r > NFC_MAX_DEPTH && r == nfs)
			return nfci_err(
				nfc, E2BIG,
				"chain from %s crosses %d NFs; the limit "
				"is %d (NFC_MAX_DEPTH: the kernel "
				"allows 33 tail calls)",
				m->stubs[s].dev, r, NFC_MAX_DEPTH);
		if (r > NFC_MAX_DEPTH)
			return nfci_err(
				nfc, E2BIG,
				"chain from %s crosses %d NFs, %d tail calls "
				"(a filter or capture takes three); the limit "
				"is %d (NFC_MAX_DEPTH: the kernel allows 33 "
				"tail calls)",
				m->stubs[s].dev, nfs, r, NFC_MAX_DEPTH);
	}
	return 0;
}
