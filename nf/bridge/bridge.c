// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bridge: the control plane of the learning switch (data plane:
 * bridge.bpf.c, shared layouts: bridge.h).
 *
 * Stateless by design: everything it needs is in the bridge's pinned maps
 * and in the model (config, ports), so a process that adopts a running
 * bridge (nfctl, a restarted daemon) has nothing to rebuild.
 *  - configure(): ports and VLANs into br_ports / br_vlans / br_ifport /
 *    br_flood; static entries re-resolved by port name; learned entries
 *    that no longer fit the ports flushed.
 *  - the "fdb" collection: static entries (br_static), listing of static
 *    and learned ones, deletion of either.
 *  - packet_in(): the slow path's half of a flood: a copy to every member
 *    port whose hop is another NF (in TC, all but the first, which the
 *    data plane reached by tail call).
 *  - tick(): aging (the data plane already treats an old entry as absent;
 *    this frees its slot) and counters.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nf.h"
#include "bridge/bridge.h"
#include "bridge_xdp.skel.h"
#include "bridge_tc.skel.h"

#define BIT(p) (1ULL << (p))

_Static_assert(sizeof(struct br_state) == sizeof(struct br_port),
	       "br_state lives in a br_ports slot");

static const char *const counter_names[BR_C_MAX] = {
#define BR_C_NAME(id, name, doc) [BR_C_##id] = name,
	BR_COUNTERS(BR_C_NAME)
#undef BR_C_NAME
};

/* ---- declaration ------------------------------------------------------------
 */

static const struct nfc_field br_config[] = {
	{.name = "aging",
	 .kind = NFC_F_UINT,
	 .bpf_const = "br_aging_s",
	 .def = "300",
	 .min = 0,
	 .max = 1000000,
	 .doc = "seconds a learned entry lives without a frame from its "
		"station; 0: never ages"},
	{.name = "fdb_size",
	 .kind = NFC_F_UINT,
	 .def = "65536",
	 .min = 256,
	 .max = 16777216,
	 .doc = "learned entries at most; when full the least recently used "
		"is evicted (counted). Fixed when the bridge is created"},
	NFC_FIELDS_END,
};

static const struct nfc_field br_port_config[] = {
	{.name = "mode",
	 .kind = NFC_F_ENUM,
	 .def = "access",
	 .choices = "access|trunk",
	 .doc = "access: one VLAN, untagged on the wire; trunk: tagged VLANs "
		"(allowed) and an optional untagged one (native)"},
	{.name = "vlan",
	 .kind = NFC_F_UINT,
	 .def = "1",
	 .min = 1,
	 .max = BR_VID_MAX,
	 .doc = "access port: its VLAN"},
	{.name = "allowed",
	 .kind = NFC_F_UINT_LIST,
	 .min = 1,
	 .max = BR_VID_MAX,
	 .doc = "trunk port: the VLANs it carries tagged (required, "
		"like 10,20)"},
	{.name = "native",
	 .kind = NFC_F_UINT,
	 .def = "0",
	 .min = 0,
	 .max = BR_VID_MAX,
	 .doc = "trunk port: the VLAN of its untagged frames, sent untagged; "
		"0: none (untagged frames are dropped)"},
	NFC_FIELDS_END,
};

static const struct nfc_field br_fdb_fields[] = {
	{.name = "port",
	 .kind = NFC_F_PORT,
	 .flags = NFC_FIELD_REQUIRED,
	 .doc = "the port the MAC address is behind"},
	{.name = "vlan",
	 .kind = NFC_F_UINT,
	 .min = 1,
	 .max = BR_VID_MAX,
	 .doc = "its VLAN (default: the key's @VID, else 1)"},
	NFC_FIELDS_END,
};

/* ---- small helpers ----------------------------------------------------------
 */

/* Bump the FDB's generation: every forwarding cache entry made before is
 * void (bridge.bpf.c). Through a mapping of the map: the data plane bumps
 * it too, with an atomic add, and a lookup-then-update from here could
 * undo one of those. */
static void gen_bump(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "br_gen");
	long page = sysconf(_SC_PAGESIZE);
	__u64 *g;

	if (fd < 0)
		return;
	g = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (g == MAP_FAILED)
		return;
	__atomic_fetch_add(g, 1, __ATOMIC_SEQ_CST);
	munmap(g, page);
}

static __u64 now_coarse(void)
{
	struct timespec ts;

	/* The clock of bpf_ktime_get_coarse_ns(). */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A key is "MAC" or "MAC@VID". *vid is 0 when the key names no VLAN. */
static int parse_key(const char *key, __u8 mac[6], unsigned *vid)
{
	char buf[32];
	const char *at = strchr(key, '@');
	char *end;
	long v;

	*vid = 0;
	if (!at)
		return nfc_parse_mac(key, mac);
	if ((size_t)(at - key) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, key, at - key);
	buf[at - key] = 0;
	if (nfc_parse_mac(buf, mac))
		return -EINVAL;
	v = strtol(at + 1, &end, 10);
	if (!at[1] || *end || v < 1 || v > BR_VID_MAX)
		return -ERANGE;
	*vid = v;
	return 0;
}

static __u64 counter_get(struct nfc_nf *nf, __u32 k)
{
	return nfc_percpu_sum(nfc_nf_map_fd(nf, "br_counters"), k,
			      sizeof(__u64), 0);
}

/* The forwarding cache's hits, summed over the CPUs: unicast frames not
 * in br_counters (bridge.bpf.c). */
static __u64 cache_hits(struct nfc_nf *nf)
{
	return nfc_percpu_sum(nfc_nf_map_fd(nf, "br_cache"), 0,
			      sizeof(struct br_cache),
			      offsetof(struct br_cache, hits));
}

/* Control-plane counters: the data plane never writes these keys. */
static void counter_add(struct nfc_nf *nf, __u32 k, __u64 d)
{
	nfc_percpu_add(nfc_nf_map_fd(nf, "br_counters"), k, sizeof(__u64), 0,
		       d);
}

/* ---- ports and VLANs --------------------------------------------------------
 */

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

/* Static entries follow their port by name: resolved again after every
 * change (a port deleted makes its entries inert until it comes back). */
static void sync_static(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "br_static");
	struct br_fdb_key key, next, *prev = NULL;
	struct br_static_val v;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &v)) {
			int p = nfc_nf_port_index(nf, v.port_name);
			__u32 want = p < 0 ? BR_PORT_NONE : (__u32)p;

			if (v.port != want) {
				v.port = want;
				bpf_map_update_elem(fd, &next, &v, BPF_EXIST);
			}
		}
		key = next;
		prev = &key;
	}
}

/* Walks the learned entries; `drop` says which to delete. Returns how
 * many were deleted. The keys are collected first: deleting while
 * iterating a hash restarts the walk. */
typedef int (*fdb_pred)(const struct br_fdb_key *k, const struct br_fdb_val *v,
			void *arg);

static long fdb_prune(struct nfc_nf *nf, fdb_pred drop, void *arg,
		      long *remaining)
{
	int fd = nfc_nf_map_fd(nf, "br_fdb");
	struct br_fdb_key key, next, *prev = NULL, *del = NULL;
	struct br_fdb_val v;
	long n = 0, cap = 0, kept = 0, deleted = 0;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &v)) {
			if (drop && drop(&next, &v, arg)) {
				if (n == cap) {
					void *d;

					cap = cap ? cap * 2 : 256;
					d = realloc(del, cap * sizeof(*del));
					if (!d)
						break;
					del = d;
				}
				del[n++] = next;
			} else {
				kept++;
			}
		}
		key = next;
		prev = &key;
	}
	for (long i = 0; i < n; i++)
		deleted += !bpf_map_delete_elem(fd, &del[i]);
	free(del);
	if (remaining)
		*remaining = kept;
	return deleted;
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

static int br_configure(struct nfc_nf *nf)
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
	sync_static(nf);
	fa.pl = pl;
	counter_add(nf, BR_C_CTL_FLUSHED, fdb_prune(nf, flush_pred, &fa, NULL));
out:
	free(pl);
	return r;
}

/* ---- the fdb collection -----------------------------------------------------
 */

/* The static entry added under `key`, if any. */
static int static_by_key(int fd, const char *key, struct br_fdb_key *out,
			 struct br_static_val *val)
{
	struct br_fdb_key k, next, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, val) &&
		    !strncmp(val->key, key, sizeof(val->key))) {
			*out = next;
			return 1;
		}
		k = next;
		prev = &k;
	}
	return 0;
}

static int fdb_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	int sfd = nfc_nf_map_fd(nf, "br_static"),
	    lfd = nfc_nf_map_fd(nf, "br_fdb");
	int vfd = nfc_nf_map_fd(nf, "br_vlans");
	const char *port = json_string_value(json_object_get(fields, "port"));
	json_t *fv = json_object_get(fields, "vlan");
	struct br_fdb_key k = {0}, oldk;
	struct br_static_val v = {0}, cur;
	struct br_vlan vl = {0};
	unsigned kvid;
	char macs[24];
	int p, r, had_old;

	if (sfd < 0 || lfd < 0 || vfd < 0)
		return nfc_nf_error(nf, ENOENT, "its maps are missing");
	r = parse_key(key, k.mac, &kvid);
	if (r == -ERANGE)
		return nfc_nf_error(nf, ERANGE,
				    "fdb %s: the VLAN after '@' must be in "
				    "1..%d",
				    key, BR_VID_MAX);
	if (r)
		return nfc_nf_error(
			nf, EINVAL,
			"fdb %s: not a MAC address (like "
			"02:00:00:00:00:01, or 02:00:00:00:00:01@10)",
			key);
	if (fv && kvid && (unsigned)json_integer_value(fv) != kvid)
		return nfc_nf_error(nf, EINVAL,
				    "fdb %s: vlan=%lld contradicts the key's "
				    "@%u",
				    key, (long long)json_integer_value(fv),
				    kvid);
	k.vid = kvid ? kvid : fv ? (unsigned)json_integer_value(fv) : 1;
	nfc_mac_str(k.mac, macs);
	if (k.mac[0] & 1)
		return nfc_nf_error(nf, EINVAL,
				    "fdb %s: %s is a multicast address; a "
				    "static entry needs a unicast one",
				    key, macs);
	if (!(k.mac[0] | k.mac[1] | k.mac[2] | k.mac[3] | k.mac[4] | k.mac[5]))
		return nfc_nf_error(nf, EINVAL,
				    "fdb %s: 00:00:00:00:00:00 is not a "
				    "station's address",
				    key);
	p = port ? nfc_nf_port_index(nf, port) : -1;
	if (p < 0)
		return nfc_nf_error(nf, ENOENT,
				    "fdb %s: port %s does not exist", key,
				    port ? port : "(none)");
	{
		__u32 vk = k.vid;

		bpf_map_lookup_elem(vfd, &vk, &vl);
	}
	if (!(vl.members & BIT(p)))
		return nfc_nf_error(nf, EINVAL,
				    "fdb %s: port %s does not carry VLAN %u",
				    key, port, k.vid);
	if (!bpf_map_lookup_elem(sfd, &k, &cur) &&
	    strncmp(cur.key, key, sizeof(cur.key)))
		return nfc_nf_error(nf, EEXIST,
				    "fdb %s: %s in VLAN %u is already the "
				    "static entry '%s'",
				    key, macs, k.vid, cur.key);
	if (strlen(key) >= sizeof(v.key))
		return nfc_nf_error(nf, EINVAL, "fdb %s: key too long", key);
	had_old = static_by_key(sfd, key, &oldk, &cur);
	v.port = p;
	snprintf(v.port_name, sizeof(v.port_name), "%s", port);
	snprintf(v.key, sizeof(v.key), "%s", key);
	if (bpf_map_update_elem(sfd, &k, &v, BPF_ANY))
		return nfc_nf_error(nf, errno,
				    "fdb %s: %s (at most %d static entries)",
				    key, strerror(errno), BR_STATIC_MAX);
	/* The same key added again replaces its entry. */
	if (had_old && memcmp(&oldk, &k, sizeof(k)))
		bpf_map_delete_elem(sfd, &oldk);
	/* Static wins: a learned entry for it goes (the data plane never
	 * learns a static key; the tick catches one learned in between). */
	if (!bpf_map_delete_elem(lfd, &k))
		counter_add(nf, BR_C_CTL_FLUSHED, 1);
	return 0;
}

struct mac_arg {
	__u8 mac[6];
};

static int same_mac(const struct br_fdb_key *k, const struct br_fdb_val *v,
		    void *arg)
{
	(void)v;
	return !memcmp(k->mac, ((struct mac_arg *)arg)->mac, 6);
}

static int fdb_del(struct nfc_nf *nf, const char *key)
{
	int sfd = nfc_nf_map_fd(nf, "br_static"),
	    lfd = nfc_nf_map_fd(nf, "br_fdb");
	struct br_fdb_key k = {0};
	struct br_static_val cur;
	struct mac_arg ma;
	unsigned vid;
	long n;

	if (sfd < 0 || lfd < 0)
		return nfc_nf_error(nf, ENOENT, "its maps are missing");
	if (static_by_key(sfd, key, &k, &cur)) {
		if (bpf_map_delete_elem(sfd, &k))
			return nfc_nf_error(nf, errno, "fdb %s: %s", key,
					    strerror(errno));
		return 0;
	}
	if (parse_key(key, k.mac, &vid))
		return nfc_nf_error(
			nf, EINVAL,
			"fdb %s: not a MAC address (like "
			"02:00:00:00:00:01, or 02:00:00:00:00:01@10)",
			key);
	if (vid) {
		k.vid = vid;
		if (!bpf_map_lookup_elem(sfd, &k, &cur))
			return nfc_nf_error(nf, EINVAL,
					    "fdb %s: this is the static entry "
					    "'%s'; delete it by that key",
					    key, cur.key);
		if (bpf_map_delete_elem(lfd, &k))
			return nfc_nf_error(nf, ENOENT, "fdb %s: no such entry",
					    key);
		counter_add(nf, BR_C_CTL_DELETED, 1);
		return 0;
	}
	/* A bare MAC: its learned entries in every VLAN. */
	memcpy(ma.mac, k.mac, 6);
	n = fdb_prune(nf, same_mac, &ma, NULL);
	if (!n)
		return nfc_nf_error(nf, ENOENT, "fdb %s: no such entry", key);
	counter_add(nf, BR_C_CTL_DELETED, n);
	return 0;
}

static int aging_s(struct nfc_nf *nf)
{
	return json_integer_value(json_object_get(nfc_nf_config(nf), "aging"));
}

static int entry_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t vx = json_integer_value(json_object_get(x, "vlan"));
	json_int_t vy = json_integer_value(json_object_get(y, "vlan"));

	if (vx != vy)
		return vx < vy ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "mac")),
		      json_string_value(json_object_get(y, "mac")));
}

static json_t *entry(const struct br_fdb_key *k, const char *key,
		     const char *type, const char *port)
{
	char mac[24], kbuf[40];

	nfc_mac_str(k->mac, mac);
	if (!key) {
		snprintf(kbuf, sizeof(kbuf), "%s@%u", mac, k->vid);
		key = kbuf;
	}
	return json_pack("{s:s, s:s, s:i, s:s, s:s}", "key", key, "mac", mac,
			 "vlan", (int)k->vid, "port", port ? port : "?", "type",
			 type);
}

static int fdb_list(struct nfc_nf *nf, json_t *out)
{
	int sfd = nfc_nf_map_fd(nf, "br_static"),
	    lfd = nfc_nf_map_fd(nf, "br_fdb");
	struct br_fdb_key key, next, *prev = NULL;
	struct br_static_val sv;
	struct br_fdb_val lv;
	__u64 now = now_coarse(), aging = (__u64)aging_s(nf) * 1000000000ull;
	json_t **all = NULL, *e;
	size_t n = 0, cap = 0;

	if (sfd < 0 || lfd < 0)
		return nfc_nf_error(nf, ENOENT, "its maps are missing");
	for (int pass = 0; pass < 2; pass++) {
		int fd = pass ? lfd : sfd;

		prev = NULL;
		while (!bpf_map_get_next_key(fd, prev, &next)) {
			key = next;
			prev = &key;
			if (!pass) {
				if (bpf_map_lookup_elem(fd, &next, &sv))
					continue;
				e = entry(&next, sv.key, "static",
					  sv.port_name);
				json_object_set_new(
					e, "active",
					json_boolean(sv.port != BR_PORT_NONE));
				json_object_set_new(e, "age", json_null());
			} else {
				if (bpf_map_lookup_elem(fd, &next, &lv))
					continue;
				/* Old entries are gone to the data plane
				 * already; the next tick frees them. */
				if (aging && now > lv.seen &&
				    now - lv.seen > aging)
					continue;
				e = entry(&next, NULL, "learned",
					  nfc_nf_port_name(nf, lv.port));
				json_object_set_new(
					e, "age",
					json_integer(
						now > lv.seen
							? (now - lv.seen) /
								  1000000000ull
							: 0));
			}
			if (n == cap) {
				void *d;

				cap = cap ? cap * 2 : 64;
				d = realloc(all, cap * sizeof(*all));
				if (!d) {
					json_decref(e);
					break;
				}
				all = d;
			}
			all[n++] = e;
		}
	}
	qsort(all, n, sizeof(*all), entry_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, all[i]);
	free(all);
	return 0;
}

static const struct nfc_collection br_collections[] = {
	{.name = "fdb",
	 .key_doc = "MAC address, or MAC@VID to name its VLAN",
	 .fields = br_fdb_fields,
	 .add = fdb_add,
	 .del = fdb_del,
	 .list = fdb_list},
	{0},
};

/* ---- slow path: flood to NF ports -----------------------------------------
 */

static void br_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
			 const uint8_t *data, uint32_t len, uint32_t pkt_len)
{
	int ports = nfc_nf_map_fd(nf, "br_ports"),
	    vlans = nfc_nf_map_fd(nf, "br_vlans");
	__u32 sk = BR_STATE_KEY, vid;
	struct br_state st;
	struct br_vlan vl;
	uint8_t frame[NFC_PKTIN_MAX];
	__u64 targets;

	/* Tagged by the data plane with its VLAN (flood()); a frame cut
	 * short by the packet-in size cannot be sent on whole. */
	if (reason != BR_R_FLOOD || len != pkt_len || len < NFC_VLAN_ETH_HLEN ||
	    len > sizeof(frame) ||
	    (data[12] << 8 | data[13]) != NFC_ETH_P_8021Q ||
	    in_port >= NFC_MAX_PORTS)
		return;
	vid = ((data[NFC_ETH_HLEN] << 8) | data[NFC_ETH_HLEN + 1]) &
	      NFC_VLAN_VID_MASK;
	if (bpf_map_lookup_elem(ports, &sk, &st) ||
	    bpf_map_lookup_elem(vlans, &vid, &vl))
		return;
	targets = st.slow_ports & vl.members & ~BIT(in_port);
	/* TC: the data plane sent the frame to the first of them itself. */
	if (!strcmp(nfc_nf_mode(nf), "tc"))
		targets &= targets - 1;
	for (unsigned p = 0; p < NFC_MAX_PORTS && targets >> p; p++) {
		if (!((targets >> p) & 1))
			continue;
		if (vl.untagged & BIT(p)) {
			memcpy(frame, data, 12);
			memcpy(frame + 12, data + 16, len - 16);
			nfc_nf_packet_out(nf, p, frame, len - 4);
		} else {
			nfc_nf_packet_out(nf, p, data, len);
		}
	}
}

/* ---- aging and counters -----------------------------------------------------
 */

struct age_arg {
	__u64 now, aging;
	int sfd;
	long aged, flushed;
};

static int age_pred(const struct br_fdb_key *k, const struct br_fdb_val *v,
		    void *arg)
{
	struct age_arg *a = arg;
	struct br_static_val sv;

	if (a->aging && a->now > v->seen && a->now - v->seen > a->aging) {
		a->aged++;
		return 1;
	}
	/* Learned just as it was made static (a race with fdb add). */
	if (a->sfd >= 0 && !bpf_map_lookup_elem(a->sfd, k, &sv)) {
		a->flushed++;
		return 1;
	}
	return 0;
}

static void br_tick(struct nfc_nf *nf, uint64_t now_ns)
{
	struct age_arg a = {.now = now_coarse(),
			    .aging = (__u64)aging_s(nf) * 1000000000ull,
			    .sfd = nfc_nf_map_fd(nf, "br_static")};

	(void)now_ns;
	fdb_prune(nf, age_pred, &a, NULL);
	counter_add(nf, BR_C_CTL_AGED, a.aged);
	counter_add(nf, BR_C_CTL_FLUSHED, a.flushed);
}

/*
 * The forwarding caches hold whole decisions and the hit path checks
 * nothing but the generation, so every change of the maps voids them:
 * after a configure (even one that failed part-way), a change of the
 * fdb, and every tick (so that each station in use is seen by learning,
 * and refreshed, at least once a tick). A flood through the slow path
 * changes nothing the caches hold.
 */
static void br_changed(struct nfc_nf *nf, enum nfc_change why)
{
	if (why != NFC_CHANGE_PACKET_IN)
		gen_bump(nf);
}

static void br_stats(struct nfc_nf *nf, int port, json_t *out)
{
	__u64 c[BR_C_MAX], removed, evicted = 0;
	long learned = 0, statics = 0;
	int sfd = nfc_nf_map_fd(nf, "br_static");
	struct br_fdb_key key, next, *prev = NULL;

	if (port >= 0)
		return;
	for (__u32 k = 0; k < BR_C_MAX; k++) {
		c[k] = counter_get(nf, k);
		if (k == BR_C_UNICAST)
			c[k] += cache_hits(nf);
		json_object_set_new(out, counter_names[k], json_integer(c[k]));
	}
	fdb_prune(nf, NULL, NULL, &learned);
	while (sfd >= 0 && !bpf_map_get_next_key(sfd, prev, &next)) {
		statics++;
		key = next;
		prev = &key;
	}
	/* The LRU map evicts silently: what was learned and is neither
	 * there nor removed by us was evicted. */
	removed = c[BR_C_CTL_AGED] + c[BR_C_CTL_DELETED] + c[BR_C_CTL_FLUSHED];
	if (c[BR_C_LEARNED] > removed + learned)
		evicted = c[BR_C_LEARNED] - removed - learned;
	json_object_set_new(out, "evicted", json_integer(evicted));
	json_object_set_new(out, "fdb_learned", json_integer(learned));
	json_object_set_new(out, "fdb_static", json_integer(statics));
}

/* ---- lifecycle -------------------------------------------------------------
 */

static int br_validate(struct nfc_nf *nf, json_t *config)
{
	json_t *old = nfc_nf_config(nf);
	json_t *o = json_object_get(old, "fdb_size");
	json_t *n = json_object_get(config, "fdb_size");

	if (o && n && json_integer_value(o) != json_integer_value(n))
		return nfc_nf_error(nf, EINVAL,
				    "fdb_size is fixed when the bridge is "
				    "created (it sizes a pinned map); delete "
				    "and add %s again to change it",
				    nfc_nf_name(nf));
	return 0;
}

static int br_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	json_t *cfg = nfc_nf_config(nf);
	struct bpf_map *fdb = bpf_object__find_map_by_name(obj, "br_fdb");
	unsigned size = json_integer_value(json_object_get(cfg, "fdb_size"));

	/* A bridge reloaded keeps its pinned FDB whatever this says; a new
	 * one gets its map sized here. */
	if (fdb && size)
		bpf_map__set_max_entries(fdb, size);
	return 0;
}

static const struct nfc_stat br_stats_doc[] = {
#define BR_C_STAT(id, name, doc) {name, NFC_STAT_COUNTER, NULL, doc},
	BR_COUNTERS(BR_C_STAT)
#undef BR_C_STAT
		{"evicted", NFC_STAT_COUNTER, NULL,
		 "learned entries evicted by a full FDB"},
	{"fdb_learned", NFC_STAT_GAUGE, NULL, "learned entries in the FDB"},
	{"fdb_static", NFC_STAT_GAUGE, NULL, "static entries in the FDB"},
	{0},
};

const struct nfc_nf_type nf_type_bridge = {
	.name = "bridge",
	.summary = "learning L2 switch with 802.1Q VLANs (access and trunk "
		   "ports)",
	.max_ports = NFC_MAX_PORTS,
	.config = br_config,
	.port_config = br_port_config,
	.collections = br_collections,
	.stats_doc = br_stats_doc,
	.elf_xdp = bridge_xdp__elf_bytes,
	.elf_tc = bridge_tc__elf_bytes,
	.prepare = br_prepare,
	.validate = br_validate,
	.configure = br_configure,
	.packet_in = br_packet_in,
	.tick = br_tick,
	.stats = br_stats,
	.changed = br_changed,
};
