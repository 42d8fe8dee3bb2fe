// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * router: the NF type of the IPv4 router (its fields and collections),
 * configure() and the forwarding cache's generation. The rest of its
 * control plane and slow path is in the rt_*.c files beside this one
 * (README.md, "Files", has the map; rt_int.h what they share).
 *
 * State lives in the NF's pinned maps (router.h), never only here: every
 * nfctl call is a new process, and the daemon restarts. configure() derives
 * the data plane's maps (rt_ports; the FIB, rt_fib4 and its fast-path form
 * rt_dir; the static part of rt_arp and its mirror rt_nbr) from the ports'
 * configuration and the configured records (rt_rib: static routes,
 * rt_sarp: static ARP entries), writing only differences. What is
 * per process: packets waiting for ARP (a bounded queue per next hop) and
 * the ICMP rate limiter, in the NF's priv (rt_slow.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "rt_int.h"
#include "router_xdp.skel.h"
#include "router_tc.skel.h"

/* ---- declaration ---- */

static const struct nfc_field rt_config[] = {
	{.name = "arp_timeout",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_LIVE,
	 .def = "60",
	 .min = 5,
	 .max = 86400,
	 .doc = "seconds a learnt neighbour is trusted; then it is probed "
		"again if it was used, dropped if not"},
	{.name = "arp_retries",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_LIVE,
	 .def = "3",
	 .min = 1,
	 .max = 10,
	 .doc = "ARP requests (one a second) before a next hop is declared "
		"unreachable (ICMP host unreachable to the senders)"},
	{.name = "arp_queue",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_LIVE,
	 .def = "64",
	 .min = 1,
	 .max = 4096,
	 .doc = "packets held per next hop while it is being resolved; the "
		"oldest is dropped when full"},
	{.name = "icmp_rate",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_LIVE,
	 .def = "100",
	 .min = 0,
	 .max = 1000000,
	 .doc = "ICMP errors sent per second at most (burst: as many); 0: "
		"none"},
	{.name = "rp_filter",
	 .kind = NFC_F_BOOL,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "rt_rp_filter",
	 .def = "false",
	 .doc = "strict reverse-path filter: drop a packet whose source is not "
		"routed back out of the port it came in on"},
	NFC_FIELDS_END,
};

static const struct nfc_field rt_port_config[] = {
	{.name = "ip",
	 .kind = NFC_F_PREFIX,
	 .doc = "IPv4 address/prefix length of the port; the subnet becomes a "
		"connected route"},
	{.name = "mac",
	 .kind = NFC_F_MAC,
	 .doc = "default: the peer netdev's MAC, else a locally administered "
		"one derived from the NF and port names (stable)"},
	{.name = "ip6",
	 .kind = NFC_F_STRING,
	 .doc = "IPv6 address/prefix length of the port (2001:db8:1::1/64); "
		"the subnet becomes a connected route. Every port also has a "
		"link-local address from its MAC (EUI-64)"},
	{.name = "mtu",
	 .kind = NFC_F_UINT,
	 .min = 68,
	 .max = 65535,
	 .doc = "largest IP packet sent out of the port (>= 1280 with ip6); "
		"larger: fragmentation needed (IPv4 with DF), fragmented "
		"(IPv4 without), packet too big (IPv6). Default: unchecked"},
	{.name = "ra",
	 .kind = NFC_F_BOOL,
	 .def = "false",
	 .doc = "send router advertisements of the ip6 prefix (autonomous: "
		"hosts configure an address and a default route, SLAAC)"},
	NFC_FIELDS_END,
};

static const struct nfc_field rt_route_fields[] = {
	/* Required of a route (rt_route_check says so); not of the entry
	 * `store`. */
	{.name = "nexthop",
	 .kind = NFC_F_IP,
	 .doc = "next hop (IPv4 or IPv6, the route's family), on the subnet "
		"of one of the ports, or IPv6 link-local with port="},
	{.name = "port",
	 .kind = NFC_F_PORT,
	 .doc = "the port of a link-local IPv6 next hop"},
	/* The entry `store` only: the model's reference to the routes an
	 * import kept in files (rt_store.c). */
	{.name = "file",
	 .kind = NFC_F_STRING,
	 .doc = "entry 'store': the file the routes are kept in"},
	{.name = "crc32",
	 .kind = NFC_F_STRING,
	 .doc = "entry 'store': CRC-32 of that file (zlib's), 8 hex digits"},
	{.name = "routes",
	 .kind = NFC_F_UINT,
	 .min = 0,
	 .max = RT_MAX_ROUTES,
	 .doc = "entry 'store': routes in that file"},
	NFC_FIELDS_END,
};

static const struct nfc_field rt_arp_fields[] = {
	{.name = "mac",
	 .kind = NFC_F_MAC,
	 .flags = NFC_FIELD_REQUIRED,
	 .doc = "the neighbour's MAC"},
	{.name = "port",
	 .kind = NFC_F_PORT,
	 .doc = "port it is on (default: the port whose subnet holds it; "
		"needed for an IPv6 link-local address)"},
	NFC_FIELDS_END,
};

static const struct nfc_field rt_nbr_fields[] = {
	NFC_FIELDS_END,
};

static int rt_nbr_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	(void)fields;
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "neighbour %s: neighbours are learnt; add a static "
			    "one with 'arp add'",
			    key);
}

/* As the firewall's conntrack: nothing to import (an empty --replace said
 * it emptied them, found by a helper). */
static int rt_nbr_import(struct nfc_nf *nf, const char *text, size_t len,
			 int replace)
{
	(void)text;
	(void)len;
	(void)replace;
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "neighbours are learnt, not imported; static ones "
			    "are arp entries ('arp import')");
}

static int rt_nbr_del(struct nfc_nf *nf, const char *key)
{
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "neighbour %s: use 'arp del' to delete a static "
			    "one or flush a learnt one",
			    key);
}

/* ---- configure: the data plane's maps from the model ---- */

/* The ports as the model has them, checked as configure would take them
 * (addresses, overlapping subnets), nothing written. */
static int rt_validate(struct nfc_nf *nf, json_t *config)
{
	(void)config;
	return rt_check_ports(nf);
}

static int rt_configure(struct nfc_nf *nf)
{
	struct rt_pcfg pc[NFC_MAX_PORTS];
	uint64_t changed = 0, ra_off = 0, moved = 0;
	uint8_t old_mac[NFC_MAX_PORTS][6];
	int r = rt_load_ports(nf, pc);

	if (!r)
		r = rt_ports_sync(nf, pc, &changed, &ra_off, &moved, old_mac);
	if (!r)
		r = rt_fib_rebuild(nf, pc);
	if (!r)
		r = rt_fib6_rebuild(nf, pc);
	if (!r)
		r = rt_neigh_sync(nf, pc);
	if (!r)
		r = rt_nd_sync(nf, pc);
	if (!r)
		r = rt_nbr_sync(nf);
	if (!r) {
		rt_pending_kick(nf);
		rt_nd_port_up(nf, pc, changed, ra_off, old_mac);
		/* IPv4's counterpart of the unsolicited advertisements: a
		 * gratuitous ARP (its own address asked for, broadcast), so
		 * that hosts holding the port's old MAC take the new one;
		 * they kept sending to the old one until their entry aged
		 * (found by a helper: 11.6 s of pings lost). */
		for (unsigned p = 0; p < NFC_MAX_PORTS; p++)
			if ((moved >> p & 1) && pc[p].used)
				rt_send_garp(nf, p);
	}
	return r;
}

/* ---- the forwarding cache's generation ---- */

/*
 * The runtime calls this after every operation that may change what the
 * fast path decides, whatever it was and whether it worked: configure, a
 * routes or arp change, each packet-in (the slow path learns and forgets
 * neighbours) and each tick (aging; a bump on every tick also makes a
 * neighbour in use miss the cache, and so be marked used, at least once a
 * tick). The bump of rt_dir's epoch (its generation bits; the live table's
 * bit stays) voids every forwarding cache entry made before it (router.h).
 * Only this side writes it, under the runtime's lock.
 */
static void rt_changed(struct nfc_nf *nf, enum nfc_change why)
{
	int fd = nfc_nf_map_fd(nf, "rt_dir");
	__u32 k = RT_DIR_EPOCH;
	__u64 e;

	(void)why;
	if (fd < 0 || bpf_map_lookup_elem(fd, &k, &e))
		return;
	e += 2;
	bpf_map_update_elem(fd, &k, &e, BPF_ANY);
}

/* ---- the type ---- */

static const struct nfc_collection rt_collections[] = {
	{.name = "routes",
	 .key_doc = "IPv4 or IPv6 prefix (203.0.113.0/24, 2001:db8::/32; "
		    "0.0.0.0/0, ::/0: default route)",
	 .fields = rt_route_fields,
	 .add = rt_routes_add,
	 .del = rt_routes_del,
	 .list = rt_routes_list,
	 .list_page = rt_routes_list_page,
	 .check_key = rt_routes_check_key,
	 .check = rt_routes_check,
	 /* Swapped as a whole: a packet is decided by the set. */
	 .replace = rt_routes_replace,
	 /* 500,000 routes: parsed here, kept in files (rt_store.c). */
	 .import_text = rt_routes_import,
	 .import_ref = rt_routes_import_ref,
	 .get = rt_routes_get},
	{.name = "arp",
	 .key_doc = "IPv4 or IPv6 address of the neighbour (a static "
		    "neighbour; IPv6 link-local: with port=)",
	 .fields = rt_arp_fields,
	 .add = rt_arp_add,
	 .del = rt_arp_del,
	 .list = rt_arp_list},
	{.name = "neighbours",
	 .key_doc = "IPv4 or IPv6 address (learnt: list only; static "
		    "entries are added with arp)",
	 .fields = rt_nbr_fields,
	 .add = rt_nbr_add,
	 .del = rt_nbr_del,
	 .list = rt_neighbours_list,
	 .import_text = rt_nbr_import},
	{0},
};

static const struct nfc_stat rt_stats_doc[] = {
	{"fast_path", NFC_STAT_COUNTER, "reason",
	 "packets the fast path answered, sent to the slow path or dropped, "
	 "by reason"},
	{"slow_path", NFC_STAT_COUNTER, "event",
	 "slow path events: ARP, neighbour cache (neigh_flushed: learnt "
	 "neighbours of a port whose netdev went away), queue, ICMP errors"},
	{0},
};

const struct nfc_nf_type nf_type_router = {
	.name = "router",
	.summary = "IPv4 and IPv6 router: connected and static routes (LPM), "
		   "ARP and NDP, ICMP and ICMPv6 errors, MTU",
	.max_ports = NFC_MAX_PORTS,
	.config = rt_config,
	.port_config = rt_port_config,
	.collections = rt_collections,
	.stats_doc = rt_stats_doc,
	.elf_xdp = router_xdp__elf_bytes,
	.elf_tc = router_tc__elf_bytes,
	.validate = rt_validate,
	.configure = rt_configure,
	.packet_in = rt_packet_in,
	.tick = rt_tick,
	.stats = rt_stats,
	.destroy = rt_destroy,
	.removed = rt_store_removed,
	.changed = rt_changed,
	.port_down = rt_port_down,
};
