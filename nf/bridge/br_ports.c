// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bridge: ports and VLANs. configure() plans the maps' contents from the
 * ports' configuration (checking all of it before the first write), then
 * writes only what changed: br_vlans before br_ports (a port never points
 * at a VLAN that does not have it yet), br_ifport and the br_flood devmap
 * by ifindex; static entries re-resolved by port name; learned entries
 * that no longer fit the ports flushed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "br_int.h"

_Static_assert(sizeof(struct br_state) == sizeof(struct br_port),
	       "br_state lives in a br_ports slot");

struct plan {
	struct br_port ports[NFC_MAX_PORTS];
	struct br_vlan vlans[BR_VLANS];
};

/* The maps' contents for the current ports; refuses what cannot work. */
static int plan_ports(struct nfc_nf *nf, struct plan *pl)
{
	memset(pl, 0, sizeof(*pl));
	for (unsigned p = 0; p < NFC_MAX_PORTS; p++) {
		const char *name = nfc_nf_port_name(nf, p);
		json_t *cfg = nfc_nf_port_config(nf, p), *allowed;
		struct br_port *bp = &pl->ports[p];
		const char *mode;

		if (!name)
			continue;
		snprintf(bp->name, sizeof(bp->name), "%s", name);
		bp->flags = BR_P_ON;
		if (nfc_nf_port_ifindex(nf, p) > 0)
			bp->flags |= BR_P_NETDEV;
		mode = json_string_value(json_object_get(cfg, "mode"));
		if (!mode || strcmp(mode, "trunk")) {
			unsigned v = json_integer_value(
				json_object_get(cfg, "vlan"));

			if (v < 1 || v > BR_VID_MAX)
				return nfc_nf_error(
					nf, EINVAL,
					"port %s: vlan %u is outside "
					"1..%d",
					name, v, BR_VID_MAX);
			bp->pvid = v;
			pl->vlans[v].members |= BIT(p);
			pl->vlans[v].untagged |= BIT(p);
			continue;
		}
		bp->flags |= BR_P_TRUNK;
		allowed = json_object_get(cfg, "allowed");
		if (!json_is_array(allowed) || !json_array_size(allowed))
			return nfc_nf_error(
				nf, EINVAL,
				"port %s: a trunk needs a non-empty "
				"allowed list (allowed=10,20)",
				name);
		for (size_t i = 0; i < json_array_size(allowed); i++) {
			json_int_t v =
				json_integer_value(json_array_get(allowed, i));

			if (v < 1 || v > BR_VID_MAX)
				return nfc_nf_error(
					nf, EINVAL,
					"port %s: allowed VLAN %lld "
					"is outside 1..%d",
					name, (long long)v, BR_VID_MAX);
			pl->vlans[v].members |= BIT(p);
		}
		bp->pvid = json_integer_value(json_object_get(cfg, "native"));
		if (bp->pvid) {
			pl->vlans[bp->pvid].members |= BIT(p);
			pl->vlans[bp->pvid].untagged |= BIT(p);
		}
	}
	return 0;
}

/* Makes a map keyed by ifindex (br_ifport, or the br_flood devmap when
 * egress_fd >= 0) hold exactly the netdev ports of the plan: ifindex ->
 * port index, or ifindex -> {ifindex, egress program}. */
static int sync_by_ifindex(struct nfc_nf *nf, int fd, const struct plan *pl,
			   int egress_fd, const char *what)
{
	__u32 key, next, *prev = NULL;
	__u32 stale[NFC_MAX_PORTS]; /* both maps hold at most that many */
	int nstale = 0;

	/* Entries of netdevs that are no longer a port's peer. */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		int keep = 0;

		for (unsigned p = 0; p < NFC_MAX_PORTS && !keep; p++)
			keep = (pl->ports[p].flags & BR_P_NETDEV) &&
			       (__u32)nfc_nf_port_ifindex(nf, p) == next;
		if (!keep && nstale < (int)(sizeof(stale) / sizeof(stale[0])))
			stale[nstale++] = next;
		key = next;
		prev = &key;
	}
	for (unsigned p = 0; p < NFC_MAX_PORTS; p++) {
		__u32 ifx = nfc_nf_port_ifindex(nf, p);
		int r;

		if (!(pl->ports[p].flags & BR_P_NETDEV))
			continue;
		if (egress_fd >= 0) {
			struct bpf_devmap_val v = {.ifindex = ifx,
						   .bpf_prog.fd = egress_fd};

			r = bpf_map_update_elem(fd, &ifx, &v, BPF_ANY);
		} else {
			r = bpf_map_update_elem(fd, &ifx, &p, BPF_ANY);
		}
		if (r)
			return nfc_nf_error(nf, errno, "port %s: add to %s: %s",
					    pl->ports[p].name, what,
					    strerror(errno));
	}
	for (int i = 0; i < nstale; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	return 0;
}

struct static_arg {
	struct nfc_nf *nf;
	const struct plan *pl;
};

static int static_one(const void *key, const void *val, void *arg)
{
	struct static_arg *sa = arg;
	struct nfc_nf *nf = sa->nf;
	const struct br_fdb_key *fk = key;
	struct br_static_val v;
	int p;
	__u32 want;

	memcpy(&v, val, sizeof(v));
	p = nfc_nf_port_index(nf, v.port_name);
	/* Inactive, as `show fdb` says, also when its port no longer
	 * carries its VLAN: it still dropped the station's frames on the
	 * other ports and sent its unicast where the VLAN ends (found by a
	 * helper). */
	if (p >= 0 &&
	    (fk->vid >= BR_VLANS || !(sa->pl->vlans[fk->vid].members & BIT(p))))
		p = -1;
	want = p < 0 ? BR_PORT_NONE : (__u32)p;
	if (v.port != want) {
		int fd = nfc_nf_map_fd(nf, "br_static");

		/* Static wins again: what was learned of its station while
		 * it was inactive goes (the lookup reads learning first). */
		if (want != BR_PORT_NONE &&
		    !bpf_map_delete_elem(nfc_nf_map_fd(nf, "br_fdb"), key))
			br_counter_add(nf, BR_C_CTL_FLUSHED, 1);
		v.port = want;
		/* The walk reads copies: an entry written now is not met
		 * again, nor skipped. */
		bpf_map_update_elem(fd, key, &v, BPF_EXIST);
	}
	return 0;
}

/* Static entries follow their port by name: resolved again after every
 * change (a port deleted makes its entries inert until it comes back).
 * Read in batches: key by key, a get_next_key and a lookup an entry on
 * every configure. */
static void sync_static(struct nfc_nf *nf, const struct plan *pl)
{
	int fd = nfc_nf_map_fd(nf, "br_static");
	struct static_arg sa = {nf, pl};

	if (fd >= 0)
		nfc_hash_walk(fd, sizeof(struct br_fdb_key),
			      sizeof(struct br_static_val), NULL, 0, static_one,
			      &sa);
}

struct flush_arg {
	const struct plan *pl;
	__u64 renamed; /* ports whose index now has another name */
};

static int flush_pred(const struct br_fdb_key *k, const struct br_fdb_val *v,
		      void *arg)
{
	struct flush_arg *a = arg;

	if (v->port >= NFC_MAX_PORTS || k->vid >= BR_VLANS)
		return 1;
	return !(a->pl->ports[v->port].flags & BR_P_ON) ||
	       (a->renamed & BIT(v->port)) ||
	       !(a->pl->vlans[k->vid].members & BIT(v->port));
}

/* The ports' configuration checked as configure() will, writing nothing:
 * from validate(), so that an apply's dry run, which validates the NF on
 * the document's view, refuses what the apply would (a trunk without
 * `allowed` passed the dry run; a helper). */
int br_ports_check(struct nfc_nf *nf)
{
	struct plan *pl = malloc(sizeof(*pl));
	int r;

	if (!pl)
		return nfc_nf_error(nf, ENOMEM, "bridge: out of memory");
	r = plan_ports(nf, pl);
	free(pl);
	return r;
}

int br_configure(struct nfc_nf *nf)
{
	int ports = nfc_nf_map_fd(nf, "br_ports"),
	    vlans = nfc_nf_map_fd(nf, "br_vlans");
	int ifport = nfc_nf_map_fd(nf, "br_ifport"),
	    flood = nfc_nf_map_fd(nf, "br_flood");
	struct plan *pl = calloc(1, sizeof(*pl));
	struct flush_arg fa = {0};
	struct br_vlan cur;
	struct br_port old;
	int r = 0, egress = -1;

	if (!pl)
		return -ENOMEM;
	if (ports < 0 || vlans < 0 || ifport < 0) {
		r = nfc_nf_error(nf, ENOENT, "its maps are missing");
		goto out;
	}
	/* Everything is checked before the first write. */
	r = plan_ports(nf, pl);
	if (r)
		goto out;
	if (flood >= 0) {
		egress = nfc_nf_prog_fd(nf, "br_egress");
		if (egress < 0) {
			r = nfc_nf_error(
				nf, ENOENT,
				"its devmap egress program is missing");
			goto out;
		}
	}
	/* VLANs first, then ports: a port never points at a VLAN that does
	 * not have it yet. Only what changed is written. */
	for (__u32 v = 0; v < BR_VLANS; v++) {
		if (!bpf_map_lookup_elem(vlans, &v, &cur) &&
		    !memcmp(&cur, &pl->vlans[v], sizeof(cur)))
			continue;
		if (bpf_map_update_elem(vlans, &v, &pl->vlans[v], BPF_ANY)) {
			r = nfc_nf_error(nf, errno, "write VLAN %u: %s", v,
					 strerror(errno));
			goto out;
		}
	}
	for (__u32 p = 0; p < NFC_MAX_PORTS; p++) {
		if (!bpf_map_lookup_elem(ports, &p, &old)) {
			if (!memcmp(&old, &pl->ports[p], sizeof(old)))
				continue;
			if ((old.flags & BR_P_ON) &&
			    strcmp(old.name, pl->ports[p].name))
				fa.renamed |= BIT(p);
		}
		if (bpf_map_update_elem(ports, &p, &pl->ports[p], BPF_ANY)) {
			r = nfc_nf_error(nf, errno, "write port %u: %s", p,
					 strerror(errno));
			goto out;
		}
	}
	/* Plain: every netdev port an access port of one VLAN. */
	{
		__u32 k = BR_STATE_KEY, plain = 1, vid = 0;
		struct br_state st = {0};

		for (unsigned p = 0; p < NFC_MAX_PORTS; p++) {
			const struct br_port *bp = &pl->ports[p];

			if (!(bp->flags & BR_P_NETDEV))
				continue;
			if ((bp->flags & BR_P_TRUNK) ||
			    (vid && bp->pvid != vid))
				plain = 0;
			vid = bp->pvid;
		}
		bpf_map_lookup_elem(ports, &k, &st);
		if (!!(st.flags & BR_S_PLAIN) != plain) {
			st.flags = plain ? st.flags | BR_S_PLAIN
					 : st.flags & ~BR_S_PLAIN;
			bpf_map_update_elem(ports, &k, &st, BPF_ANY);
		}
	}
	r = sync_by_ifindex(nf, ifport, pl, -1, "the port table");
	if (!r && flood >= 0)
		r = sync_by_ifindex(nf, flood, pl, egress, "the flood devmap");
	if (r)
		goto out;
	sync_static(nf, pl);
	fa.pl = pl;
	br_counter_add(nf, BR_C_CTL_FLUSHED,
		       br_fdb_prune(nf, flush_pred, &fa, NULL));
out:
	free(pl);
	return r;
}
