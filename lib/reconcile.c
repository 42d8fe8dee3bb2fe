// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reconcile: moves the data plane under the pin root from one model to
 * another, writing only the differences, in an order where no packet ever
 * meets a half-made path (programs, redirect targets, hops and slots, netdev
 * hooks, then what went away). Loading is load.c, hooks stubs.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "dataplane.h"
#include "paths.h"

/* Sets one program-array slot to the program of NF `want_nf` (or empties
 * it), skipping the write when it already holds that program: every write
 * re-patches the direct jumps that point at the slot. */
static int set_slot(struct nfc *nfc, int hook, __u32 slot, int want_fd)
{
	int map = nfc->map_fd[hook == HOOK_TC ? SM_PROGS_TC : SM_PROGS_XDP];
	__u32 cur = 0;
	int have = !bpf_map_lookup_elem(map, &slot, &cur);

	if (want_fd < 0) {
		if (have && bpf_map_delete_elem(map, &slot) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (have && (int)cur == dp_prog_id(want_fd))
		return 0;
	return bpf_map_update_elem(map, &slot, &want_fd, BPF_ANY) ? -errno : 0;
}

static int set_hop(int map, __u32 key, const struct nfc_hop *want)
{
	struct nfc_hop cur;

	if (!bpf_map_lookup_elem(map, &key, &cur) &&
	    !memcmp(&cur, want, sizeof(cur)))
		return 0;
	return bpf_map_update_elem(map, &key, want, BPF_ANY) ? -errno : 0;
}

/* Whether program fd is of hook's type. A daemon killed in the middle
 * of a mode change left the pinned program of the new hook under the
 * model of the old one: its signature matched, it was kept, and writing
 * it into the old hook's jump table failed at every start after ("write
 * hop 0: Invalid argument", found by a helper). Such a program is
 * loaded again. Cannot tell: kept. */
static int prog_in_hook(int fd, int hook)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 1;
	return info.type ==
	       (hook == HOOK_TC ? BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE_XDP);
}

static void zero_stats_key(struct nfc *nfc, __u32 k)
{
	int ncpu = libbpf_num_possible_cpus();
	struct nfc_port_stats *z = calloc(ncpu > 0 ? ncpu : 1, sizeof(*z));

	if (z)
		bpf_map_update_elem(nfc->map_fd[SM_STATS], &k, z, BPF_ANY);
	free(z);
}

/* A port that starts again at zero (a new port or attachment in a slot
 * an earlier one used) first gives its counts to the NF's retired slot:
 * the NF's own totals (show, nfchain_nf_*_total) never go back while it
 * lives (found by a helper: a detach and attach zeroed a ddos filter's
 * rx_packets, leaving fewer than its drops). A pin root of an older
 * build has no such slot: the counts are lost, as before. */
static void retire_stats(struct nfc *nfc, int nf, int port)
{
	int fd = nfc->map_fd[SM_STATS];
	uint64_t sums[sizeof(struct nfc_port_stats) / sizeof(uint64_t)];

	if (!nfc_percpu_sums(fd, NFC_GPORT(nf, port), 1, sizeof(sums), sums))
		for (size_t w = 0; w < sizeof(sums) / sizeof(sums[0]); w++)
			nfc_percpu_add(fd, NFC_STATS_RETIRED(nf), sizeof(sums),
				       w * sizeof(uint64_t), sums[w]);
	zero_stats_key(nfc, NFC_GPORT(nf, port));
}

/* A new NF (or one loaded again under another name) starts at zero. */
static void zero_nf_stats(struct nfc *nfc, int nf)
{
	for (int p = 0; p < NFC_MAX_PORTS; p++)
		zero_stats_key(nfc, NFC_GPORT(nf, p));
	zero_stats_key(nfc, NFC_STATS_RETIRED(nf));
}

/* Writes the hop behind one source (an NF port or a stub) and its slot. */
static int wire(struct nfc *nfc, const struct model *m, int hook, int hop_map,
		__u32 key, __u32 slot, const struct nfc_hop *h)
{
	int fd = -1, r;

	if (h->kind == NFC_HOP_NF) {
		fd = dp_nf_fd(nfc, h->nf);
		if (fd < 0)
			return nfci_err(nfc, ENOENT,
					"NF %s: program not found under %s",
					m->nfs[h->nf].name, nfc->root);
	}
	/* Toward an NF, the slot first: a packet reading the new hop with
	 * the old slot reaches an NF that drops it as metadata for another
	 * (counted), never a wrong port. Away from one, the hop first: the
	 * slot must stay until no packet can read the old hop. */
	if (fd >= 0) {
		r = set_slot(nfc, hook, slot, fd);
		if (!r)
			r = set_hop(nfc->map_fd[hop_map], key, h);
	} else {
		r = set_hop(nfc->map_fd[hop_map], key, h);
		if (!r)
			r = set_slot(nfc, hook, slot, -1);
	}
	if (r)
		return nfci_err(nfc, r, "write hop %u: %s", key, strerror(-r));
	return 0;
}

/*
 * The hops todo[0..n) (global ports) written so that a hop toward an NF
 * comes after that NF's own hops of the same batch: a packet sent on
 * meets a wired NF. In NF order, a counter attached after another on one
 * netdev was led to before its own hop was written, and dropped a packet
 * an attach as "output port not connected" (found by a helper). A loop of
 * NFs (no order exists) is written as it comes. pending[nf]: the NF's
 * hops in the batch, pport[g]: port g's, both counted down to 0.
 */
static int wire_in_order(struct nfc *nfc, const struct model *m,
			 const struct nfc_hop *hops, int *todo, int n,
			 int *pending, unsigned char *pport)
{
	int left = n, r = 0, forced = 0;

	while (left && !r) {
		int moved = 0;

		for (int k = 0; k < n && !r; k++) {
			int g = todo[k], nf, t;

			if (g < 0)
				continue;
			nf = g / NFC_MAX_PORTS;
			t = hops[g].kind == NFC_HOP_NF ? (int)hops[g].nf : -1;
			/* Its target still has a hop to write, the one a
			 * packet leaves by (a transparent NF: the other side
			 * of the pair it enters; another NF: any): later,
			 * unless a pass moved nothing (a loop: the first one
			 * left goes, then on in order). */
			if (!forced && t >= 0 && t != nf &&
			    (m->nfs[t].type->flags & NFC_TYPE_TRANSPARENT
				     ? pport[NFC_GPORT(t, hops[g].port ^ 1)]
				     : pending[t]))
				continue;
			r = wire(nfc, m, nf_hook(&m->nfs[nf]), SM_LINKS, g,
				 NFC_LINK_SLOT(nf, g % NFC_MAX_PORTS),
				 &hops[g]);
			todo[k] = -1;
			pport[g] = 0;
			pending[nf]--;
			left--;
			moved++;
			if (forced)
				break;
		}
		forced = !moved;
	}
	return r;
}

static int devmap_needed(const struct model *m, const struct nfc_hop *hops,
			 int ifindex)
{
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		if (!m->nfs[i].used || nf_hook(&m->nfs[i]) != HOOK_XDP)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			const struct nfc_hop *h = &hops[NFC_GPORT(i, p)];

			if (h->kind == NFC_HOP_NETDEV &&
			    (int)h->ifindex == ifindex)
				return 1;
		}
	}
	return 0;
}

/* 2: native XDP, 1: generic XDP, 0: neither. Packet-out redirects
 * natively even for generic NFs (live-frames test runs), so both want NAPI
 * at the far end of a veth; only native cannot do without it. */
static int xdp_peer(const struct model *m, int ifindex)
{
	int nf, port;

	if (!netdev_peer_port(m, ifindex, &nf, &port) ||
	    nf_hook(&m->nfs[nf]) != HOOK_XDP)
		return 0;
	return strcmp(m->nfs[nf].mode, "xdp-generic") &&
			       !(!strcmp(m->nfs[nf].mode, "auto") &&
				 m->nfs[nf].auto_generic)
		       ? 2
		       : 1;
}

/*
 * The program netdev hook `st` should run: the nfc_direct program of the
 * NF its hop leads to, once that NF's ifports slot for the netdev says
 * which port it arrives on; or -1: the stub. A slot another netdev holds
 * (claimed in this reconcile, or still held from the last one) leaves this
 * one on its stub. NFC_NO_DIRECT=1 keeps every hook on its stub (to
 * measure the difference, or to rule it out).
 */
static int direct_target(struct nfc *nfc, const struct mstub *st,
			 const struct nfc_hop *h, unsigned char *claimed)
{
	struct nfc_ifport cur = {0}, want;
	int map = nfc->map_fd[SM_IFPORTS], fd;
	const char *off = getenv("NFC_NO_DIRECT");
	__u32 k;

	if (st->egress || h->kind != NFC_HOP_NF || map < 0 ||
	    (off && strcmp(off, "0")))
		return -1;
	fd = dp_nf_prog_fd(nfc, h->nf, "nfc_direct");
	if (fd < 0)
		return -1; /* an NF object built before nfc_direct */
	k = NFC_IFSLOT(h->nf, st->ifindex);
	bpf_map_lookup_elem(map, &k, &cur);
	if (cur.ifindex && cur.ifindex != (__u32)st->ifindex)
		return -1;
	want = (struct nfc_ifport){.ifindex = st->ifindex, .port = h->port};
	if (memcmp(&cur, &want, sizeof(want)) &&
	    bpf_map_update_elem(map, &k, &want, BPF_ANY))
		return -1;
	claimed[k] = 1;
	return fd;
}

/* Frees the ifports slots of hooks that no longer run an NF directly
 * (their links were switched away before). */
static void direct_release(struct nfc *nfc, const struct model *old,
			   const struct nfc_hop *oshops,
			   const unsigned char *claimed)
{
	int map = nfc->map_fd[SM_IFPORTS];

	for (int s = 0; s < NFC_MAX_STUBS && map >= 0; s++) {
		const struct mstub *st = &old->stubs[s];
		struct nfc_ifport cur = {0}, none = {0};
		__u32 k;

		if (!st->used || st->egress || oshops[s].kind != NFC_HOP_NF)
			continue;
		k = NFC_IFSLOT(oshops[s].nf, st->ifindex);
		if (!claimed[k] && !bpf_map_lookup_elem(map, &k, &cur) &&
		    cur.ifindex == (__u32)st->ifindex)
			bpf_map_update_elem(map, &k, &none, BPF_ANY);
	}
}

/* The same NF attached to the same target on the same port pair before. */
static int att_kept(const struct model *old, const struct model *new,
		    const struct mattach *na)
{
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++) {
		const struct mattach *o = &old->att[a];

		if (o->used && o->nf == na->nf && o->pair == na->pair &&
		    old->nfs[o->nf].used &&
		    !strcmp(old->nfs[o->nf].name, new->nfs[na->nf].name) &&
		    endpoint_eq(&o->target, &na->target))
			return 1;
	}
	return 0;
}

static int stub_same(const struct mstub *a, const struct mstub *b)
{
	return a->used && b->used && a->ifindex == b->ifindex &&
	       a->egress == b->egress && a->hook == b->hook &&
	       a->xdp_flags == b->xdp_flags;
}

static int xdp_wanted(const struct model *m, int ifindex)
{
	for (int s = 0; s < NFC_MAX_STUBS; s++)
		if (m->stubs[s].used && m->stubs[s].hook == HOOK_XDP &&
		    m->stubs[s].ifindex == ifindex)
			return 1;
	return 0;
}

int dp_reconcile(struct nfc *nfc, const struct model *old, struct model *new)
{
	unsigned char *claimed = calloc(NFC_IFSLOTS, 1);
	unsigned char *unwire = calloc(NFC_GPORTS, 1);
	int *todo = calloc(NFC_GPORTS, sizeof(*todo)), ntodo = 0;
	int *pending = calloc(NFC_MAX_NFS, sizeof(*pending));
	unsigned char *pport = calloc(NFC_GPORTS, 1);
	struct nfc_hop *hops = calloc(NFC_GPORTS, sizeof(*hops));
	struct nfc_hop *shops = calloc(NFC_MAX_STUBS, sizeof(*shops));
	struct nfc_hop *ohops = calloc(NFC_GPORTS, sizeof(*ohops));
	struct nfc_hop *oshops = calloc(NFC_MAX_STUBS, sizeof(*oshops));
	char sig[160];
	int r = 0;

	memset(nfc->reloaded, 0, sizeof(nfc->reloaded));
	if (!hops || !shops || !ohops || !oshops || !claimed || !unwire ||
	    !todo || !pending || !pport) {
		r = -ENOMEM;
		goto out;
	}
	r = paths_assign_stubs(nfc, new);
	if (r)
		goto out;
	paths_compute(new, hops, shops);
	r = paths_check(nfc, new, hops, shops);
	if (r)
		goto out;
	/* What the data plane holds now, to write only the differences. */
	paths_compute(old, ohops, oshops);

	/* 1. Programs: load new NFs, reload changed ones (maps kept). An NF
	 * whose signature is unchanged keeps its program: no interruption. */
	for (int i = 0; i < NFC_MAX_NFS && !r; i++) {
		struct mnf *n = &new->nfs[i];

		if (!n->used)
			continue;
		dp_nf_sig(n, sig, sizeof(sig));
		if (strcmp(sig, n->sig) || dp_nf_fd(nfc, i) < 0 ||
		    !prog_in_hook(dp_nf_fd(nfc, i), nf_hook(n))) {
			r = dp_nf_load(nfc, new, i);
			nfc->reloaded[i] = !r;
			if (!r && !(old->nfs[i].used &&
				    !strcmp(old->nfs[i].name, n->name)))
				zero_nf_stats(nfc, i);
		}
	}
	if (r)
		goto out;
	/* 1b. Each NF's own slot, where a packet that raced a rewire goes
	 * on to the NF its hop named (nfc_meta_entry). Best effort: a pin
	 * root of an older build has no such slots (E2BIG), and there such
	 * a packet is dropped and counted, as before. */
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (new->nfs[i].used && dp_nf_fd(nfc, i) >= 0)
			set_slot(nfc, nf_hook(&new->nfs[i]), NFC_NF_SLOT(i),
				 dp_nf_fd(nfc, i));

	/* 2. Redirect targets before anything can send to them. */
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &new->nfs[i];

		if (!n->used || nf_hook(n) != HOOK_XDP)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS && !r; p++) {
			__u32 ifx = hops[NFC_GPORT(i, p)].ifindex, cur;

			if (hops[NFC_GPORT(i, p)].kind != NFC_HOP_NETDEV)
				continue;
			/* A netdev that went away is not an error: its
			 * packets drop until it is back and the model names
			 * its new ifindex (nfc_apply re-resolves names). */
			if (!netdev_exists(ifx))
				continue;
			/* An entry already there is left alone: a devmap
			 * hash replaces one by unlinking the old node before
			 * linking the new, so a redirect on another CPU in
			 * between misses it and drops the frame (seen by
			 * test_rt_swap during applies that changed no
			 * port). */
			if ((bpf_map_lookup_elem(nfc->map_fd[SM_DEVMAP], &ifx,
						 &cur) ||
			     cur != ifx) &&
			    bpf_map_update_elem(nfc->map_fd[SM_DEVMAP], &ifx,
						&ifx, BPF_ANY)) {
				r = nfci_err(nfc, errno,
					     "port %s of %s: add %s to the "
					     "redirect map: %s",
					     n->ports[p].name, n->name,
					     n->ports[p].peer.dev,
					     strerror(errno));
				break;
			}
			/* Once per new XDP veth peer: it forks. */
			if (xdp_peer(new, ifx) && !xdp_peer(old, ifx)) {
				r = netdev_ensure_napi_peer(
					nfc, ifx, n->ports[p].peer.dev);
				if (r && xdp_peer(new, ifx) == 1) {
					r = 0; /* generic: best effort */
					nfc->err[0] = 0;
				}
			}
		}
	}
	if (r)
		goto out;

	/* A new attachment starts at zero: its port pair may be one an
	 * earlier attachment of the NF used (found by a helper: a counter
	 * attached elsewhere showed the old place's packets). */
	for (int a = 0; a < NFC_MAX_ATTACHMENTS; a++)
		if (new->att[a].used && !att_kept(old, new, &new->att[a])) {
			retire_stats(nfc, new->att[a].nf, 2 * new->att[a].pair);
			retire_stats(nfc, new->att[a].nf,
				     2 * new->att[a].pair + 1);
		}

	/* 3. Hops and slots of every port of every NF. What a hop leads to
	 * must be wired before the hop: new and transparent NFs first (a
	 * spliced-in NF forwards before anything sends to it), then the
	 * rest; within each, targets first (wire_in_order). */
	for (int pass = 0; pass < 2 && !r; pass++) {
		ntodo = 0;
		for (int i = 0; i < NFC_MAX_NFS && !r; i++) {
			const struct mnf *n = &new->nfs[i];
			int is_new = !(old->nfs[i].used &&
				       !strcmp(old->nfs[i].name, n->name));
			int first = is_new ||
				    (n->type &&
				     (n->type->flags & NFC_TYPE_TRANSPARENT));

			if (!n->used || first != !pass)
				continue;
			for (int p = 0; p < NFC_MAX_PORTS && !r; p++) {
				int fresh = n->ports[p].used &&
					    !(old->nfs[i].used &&
					      old->nfs[i].ports[p].used &&
					      !strcmp(old->nfs[i].ports[p].name,
						      n->ports[p].name));

				int g = NFC_GPORT(i, p);

				if (fresh && old->nfs[i].used)
					retire_stats(nfc, i, p);
				/* Unchanged: same NF, same hop, and the NF it
				 * leads to kept its program. */
				if (!nfc->full_sync && !is_new &&
				    !memcmp(&hops[g], &ohops[g],
					    sizeof(hops[g])) &&
				    (hops[g].kind != NFC_HOP_NF ||
				     !nfc->reloaded[hops[g].nf]))
					continue;
				/* Unwired last, once nothing leads here any
				 * more (step 4b): a transparent NF detached
				 * dropped what still came in for ms. */
				if (hops[g].kind == NFC_HOP_NONE &&
				    ohops[g].kind != NFC_HOP_NONE) {
					unwire[g] = 1;
					continue;
				}
				todo[ntodo++] = g;
				pending[i]++;
				pport[g] = 1;
			}
		}
		if (!r)
			r = wire_in_order(nfc, new, hops, todo, ntodo, pending,
					  pport);
	}
	/* 4. Netdev hooks: hop first, then attach. A netdev holds one XDP
	 * program: an old XDP hook that a new one replaces on the same netdev
	 * (under another index, or the other XDP mode) comes off first. */
	for (int s = 0; s < NFC_MAX_STUBS; s++)
		if (old->stubs[s].used && old->stubs[s].hook == HOOK_XDP &&
		    !stub_same(&old->stubs[s], &new->stubs[s]) &&
		    xdp_wanted(new, old->stubs[s].ifindex))
			dp_stub_down(nfc, s);
	for (int s = 0; s < NFC_MAX_STUBS && !r; s++) {
		const struct mstub *st = &new->stubs[s];

		if (!st->used)
			continue;
		if (old->stubs[s].used && !stub_same(&old->stubs[s], st))
			dp_stub_down(nfc, s);
		r = wire(nfc, new, st->hook, SM_STUBS, s, NFC_STUB_SLOT(s),
			 &shops[s]);
		if (!r && netdev_exists(st->ifindex))
			r = dp_stub_up(
				nfc, st, s,
				direct_target(nfc, st, &shops[s], claimed));
	}
	if (r)
		goto out;

	/* 4b. Ports left unconnected, now that no hop or hook leads to them. */
	for (int i = 0; i < NFC_MAX_NFS && !r; i++)
		for (int p = 0; p < NFC_MAX_PORTS && !r; p++)
			if (unwire[NFC_GPORT(i, p)])
				r = wire(nfc, new, nf_hook(&new->nfs[i]),
					 SM_LINKS, NFC_GPORT(i, p),
					 NFC_LINK_SLOT(i, p),
					 &hops[NFC_GPORT(i, p)]);
	if (r)
		goto out;

	/* 5. What the new model no longer has. */
	for (int s = 0; s < NFC_MAX_STUBS; s++) {
		const struct mstub *st = &old->stubs[s];
		struct nfc_hop none = {0};

		if (!st->used || new->stubs[s].used)
			continue;
		dp_stub_down(nfc, s);
		set_hop(nfc->map_fd[SM_STUBS], s, &none);
		set_slot(nfc, st->hook, NFC_STUB_SLOT(s), -1);
	}
	direct_release(nfc, old, oshops, claimed);
	/* An NF that stays but moved hook (mode auto, its netdevs changed):
	 * its slots in the other program array would keep the old programs
	 * alive. */
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &old->nfs[i];

		if (!n->used || !new->nfs[i].used ||
		    strcmp(new->nfs[i].name, n->name) ||
		    nf_hook(n) == nf_hook(&new->nfs[i]))
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++)
			set_slot(nfc, nf_hook(n), NFC_LINK_SLOT(i, p), -1);
		set_slot(nfc, nf_hook(n), NFC_NF_SLOT(i), -1);
	}
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &old->nfs[i];
		struct nfc_hop none = {0};

		if (!n->used ||
		    (new->nfs[i].used && !strcmp(new->nfs[i].name, n->name)))
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			set_hop(nfc->map_fd[SM_LINKS], NFC_GPORT(i, p), &none);
			set_slot(nfc, nf_hook(n), NFC_LINK_SLOT(i, p), -1);
		}
		/* Unless the NF in its place (another name, same id) took
		 * it in 1b. */
		if (!new->nfs[i].used || nf_hook(&new->nfs[i]) != nf_hook(n))
			set_slot(nfc, nf_hook(n), NFC_NF_SLOT(i), -1);
		dp_nf_unload(nfc, n, i);
	}
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct mnf *n = &old->nfs[i];

		if (!n->used || nf_hook(n) != HOOK_XDP)
			continue;
		for (int p = 0; p < NFC_MAX_PORTS; p++) {
			const struct mport *mp = &n->ports[p];
			__u32 ifx = mp->peer.ifindex;

			if (mp->used && mp->peer.kind == PEER_DEV &&
			    !devmap_needed(new, hops, ifx))
				bpf_map_delete_elem(nfc->map_fd[SM_DEVMAP],
						    &ifx);
		}
	}
out:
	free(unwire);
	free(todo);
	free(pending);
	free(pport);
	free(claimed);
	free(hops);
	free(shops);
	free(ohops);
	free(oshops);
	return r;
}
