/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * router: what the files of its control plane share (private; the data
 * plane's contract is router.h). The file map is in README.md.
 */
#ifndef NFC_RT_INT_H
#define NFC_RT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <bpf/libbpf.h>

#include "nfchain/nf.h"
#include "common.h"
#include "router.h"
#include "rt_dir.h"
#include "rt_pkt.h"

#define NS_PER_SEC 1000000000ull

/* rt_ports.c: small helpers */
/* Counts a slow-path event (RT_CP_*) in rt_cnt. */
void rt_cp_count(struct nfc_nf *nf, unsigned idx);
int rt_mac_is_multicast(const uint8_t *m);

/* A prefix or address of either family; parsed from text in its one
 * canonical spelling, so that the model's keys and ours always agree. */
struct rt_pfx {
	uint8_t family;
	uint8_t plen;
	union rt_ip a;
};

const char *rt_pfx_str(const struct rt_pfx *p, char *buf, size_t len);
/* what: "route", "arp entry"; want_len: a prefix (else an address). */
int rt_pfx_parse(struct nfc_nf *nf, const char *what, const char *s,
		 int want_len, struct rt_pfx *p);

/* rt_ports.c: the port model */
struct rt_pcfg {
	int used;
	const char *name;
	struct rt_pfx ip;  /* family 0: no address */
	struct rt_pfx ip6; /* family 0: no IPv6 address */
	uint8_t ll[16];	   /* its link-local address (EUI-64 of mac) */
	uint8_t mac[6];
	unsigned mtu; /* 0: not checked */
	int ra;	      /* router advertisements on */
};

int rt_subnet_has(const struct rt_pfx *net, __be32 a);
__be32 rt_subnet_bcast(const struct rt_pfx *p);
/* Reads the ports from the model (pc: NFC_MAX_PORTS of them); validates
 * addresses and MACs. */
int rt_load_ports(struct nfc_nf *nf, struct rt_pcfg *pc);
/* rt_load_ports' checks alone, nothing read from the netdevs: a set of a
 * config value (validate) stays a map write. */
int rt_check_ports(struct nfc_nf *nf);
/* The ports' addresses as rt_load_ports reads them, no MAC read. */
int rt_load_port_conf(struct nfc_nf *nf, struct rt_pcfg *pc);
/* The port whose subnet holds address a (IPv4), or -1. */
int rt_port_for(const struct rt_pcfg *pc, __be32 a);
int rt_is_own_addr(const struct rt_pcfg *pc, __be32 a);
void rt_subnets_str(const struct rt_pcfg *pc, char *buf, size_t len);
/* rt_ports from the model, writing only differences; *changed: a bit
 * for each port whose entry changed, *ra_off: for each that advertised
 * its prefix and no longer does (still up, with an IPv6 address),
 * *moved: for each up before and after with IPv4 whose MAC or IPv4
 * address changed (a gratuitous ARP tells its link); old_mac: each port's
 * MAC before, zeros for one that was not up. */
int rt_ports_sync(struct nfc_nf *nf, const struct rt_pcfg *pc,
		  uint64_t *changed, uint64_t *ra_off, uint64_t *moved,
		  uint8_t (*old_mac)[6]);
/* A port's rt_ports entry if the port is up; -1 if not. */
int rt_port_get(struct nfc_nf *nf, unsigned port, struct rt_port *out);

/* IPv6 helpers (rt_ports.c) */
int rt_subnet_has6(const struct rt_pfx *net, const uint8_t *a);
int rt_port_for6(const struct rt_pcfg *pc, const uint8_t *a);
int rt_is_own_addr6(const struct rt_pcfg *pc, const uint8_t *a);
void rt_mask6(uint8_t *a, unsigned plen);
int rt_is_ll6(const uint8_t *a);
void rt_ll_of(const uint8_t *mac, uint8_t *ll);

/* rt_fib.c: the static routes as rt_rib holds them */
struct rt_rib_ent {
	struct rt_rib_key k; /* first: rt_rib_cmp */
	struct rt_rib_val v;
};

int rt_rib_cmp(const void *x, const void *y);
/* *p (*cap elements of size) grown to hold at least want, doubling;
 * 0 or -ENOMEM (*p kept). */
int rt_grow(void **p, size_t *cap, size_t want, size_t size);
/* Calls fn on rt_rib's entries a chunk at a time (n of them), in one
 * batch a chunk where the kernel takes it; 0, -ENOMEM or fn's error. */
int rt_rib_each(int fd,
		int (*fn)(void *ctx, const struct rt_rib_key *k,
			  const struct rt_rib_val *v, size_t n),
		void *ctx);
/* All of rt_rib (fd), sorted by key, in one batch where the kernel takes
 * it: *n entries in *out (the caller frees it). 0 or -ENOMEM. */
int rt_rib_read(int fd, struct rt_rib_ent **out, size_t *n);
/* Writes n routes (v NULL: deletes them), batched where the kernel takes
 * it. */
int rt_rib_write(struct nfc_nf *nf, int fd, const struct rt_rib_key *k,
		 const struct rt_rib_val *v, size_t n);

/* The checks of one route (routes add, replace, an import's line: then
 * `line` goes into every message). A next hop on no connected subnet
 * is refused but for a route taken back as it was accepted: in a restore
 * or an undo (nfc_nf_applying), one rt_rib holds as it is (the rest of a
 * set handed over whole), or `taken` (read from the route store's own
 * files). */
int rt_route_check(struct nfc_nf *nf, const struct rt_pcfg *pc, const char *key,
		   unsigned line, json_t *fields, int taken,
		   struct rt_rib_key *k, struct rt_rib_val *v);
/* rt_rib made to hold exactly want (n, sorted by rt_rib_cmp; freed here),
 * the FIBs derived again and switched in by one write each. */
int rt_routes_set(struct nfc_nf *nf, const struct rt_pcfg *pc,
		  struct rt_rib_ent *want, size_t n);

/* rt_store.c: the routes an import brought, kept in files (the model
 * holds the one entry RT_STORE_KEY for them) */
#define RT_STORE_KEY "store"
struct rt_store {
	int state;    /* unknown (read the files), on, off */
	uint32_t crc; /* the base's, when on */
	/* The base's size: the log is folded into a new base when it
	 * passes a quarter of it (or NFC_RT_FOLD_MIN, 1 MiB). */
	size_t base_size;
	uint64_t fold_retry; /* a fold failed: not tried again before */
	/* On, but the base is not the store the model names (gone or
	 * damaged while no process ran): rebuilt from the maps adopted
	 * before anything else is logged. */
	int lost;
};
int rt_routes_import(struct nfc_nf *nf, const char *text, size_t len,
		     int replace);
json_t *rt_routes_import_ref(struct nfc_nf *nf);
/* replace() (whole) or add() of the entry `store`. */
int rt_store_replace(struct nfc_nf *nf, json_t *entries, int whole);
int rt_store_ref_check(struct nfc_nf *nf, json_t *ref);
/* A route added (fields) or deleted (NULL), logged durably if an import
 * made a store; 0 or -errno (then nothing may change). */
int rt_store_note(struct nfc_nf *nf, const char *key, json_t *fields);
void rt_store_off(struct nfc_nf *nf);
/* From the tick: the log folded into a new base once it passed its
 * share, out of any change's call. */
void rt_store_tick(struct nfc_nf *nf, uint64_t now);
void rt_store_removed(struct nfc_nf *nf, const char *name);
int rt_routes_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
			json_t *out);

/* rt_fib.c: the FIB */
/* Connected, local and broadcast entries of the ports; e has room for
 * 4 * NFC_MAX_PORTS. */
int rt_fib_port_entries(const struct rt_pcfg *pc, struct fib_ent *e);
/* Where a static route goes with these ports: its port, or -1 (inactive),
 * -2 when a port's own entry (own, sorted) has the same key (shadowed), -3
 * when its next hop is an address of the router. */
int rt_route_port(const struct rt_pcfg *pc, const struct fib_ent *own, int nown,
		  const struct rt_rib_key *k, const struct rt_rib_val *v);
/* The port an IPv4 next hop is reached through, -1 (on no subnet), -3 (an
 * address of the router). */
int rt_nh_port(const struct rt_pcfg *pc, __be32 nh);
/* rt_fib4 and rt_dir hold exactly `want` (sorted by rt_fib_cmp); rt_dir's
 * new table switched in by one write. */
int rt_fib_sync(struct nfc_nf *nf, struct fib_ent *want, size_t n);
/* The same for the FIB the ports and rt_rib make. */
int rt_fib_rebuild(struct nfc_nf *nf, const struct rt_pcfg *pc);
/* One prefix added (v) to or removed from (v NULL, old its value) the
 * trie already: rt_dir follows. */
void rt_dir_change(struct nfc_nf *nf, __be32 addr, unsigned plen,
		   const struct rt_fib_val *v, const struct rt_fib_val *old);
int rt_fib_lookup(struct nfc_nf *nf, __be32 dst, struct rt_fib_val *v);

/* rt_fib6.c: the IPv6 FIB (rt_fib6) from the ports and rt_rib */
int rt_fib6_rebuild(struct nfc_nf *nf, const struct rt_pcfg *pc);
/* Where an IPv6 static route goes: its port, -1 (inactive), -2 (shadowed),
 * -3 (its next hop an address of the router), -4 (its port's mtu below
 * 1280: no IPv6 there). */
int rt_route6_port(const struct rt_pcfg *pc, const struct rt_rib_key *k,
		   const struct rt_rib_val *v);
int rt_fib6_lookup(struct nfc_nf *nf, const uint8_t *dst, struct rt_fib_val *v);

/* rt_nbr.c: neighbours, rt_arp and its fast-path mirror rt_nbr */
void rt_nbr_mirror(struct nfc_nf *nf, __be32 addr, unsigned port,
		   const struct rt_neigh *n);
int rt_nbr_hit(struct nfc_nf *nf, __be32 addr, const struct rt_neigh *n);
int rt_nbr_sync(struct nfc_nf *nf);
int rt_neigh_sync(struct nfc_nf *nf, const struct rt_pcfg *pc);
/* port_down: the learnt neighbours of a port whose netdev went away. */
void rt_port_down(struct nfc_nf *nf, unsigned port);

/* rt_colls.c: the collections */
int rt_routes_add(struct nfc_nf *nf, const char *key, json_t *fields);
/* Route k made to hold v where it held *old (NULL: new), logged, in
 * place (rt_colls.c). */
int rt_route_write(struct nfc_nf *nf, const struct rt_pcfg *pc, const char *key,
		   json_t *fields, const struct rt_rib_key *k,
		   const struct rt_rib_val *v, const struct rt_rib_val *old,
		   json_t *old_fields);
int rt_routes_del(struct nfc_nf *nf, const char *key);
int rt_routes_check_key(struct nfc_nf *nf, const char *key);
int rt_routes_check(struct nfc_nf *nf, json_t *config, const char *key,
		    json_t *fields);
json_t *rt_routes_get(struct nfc_nf *nf, const char *key);
int rt_routes_list(struct nfc_nf *nf, json_t *out);
int rt_routes_replace(struct nfc_nf *nf, json_t *entries);
int rt_arp_add(struct nfc_nf *nf, const char *key, json_t *fields);
int rt_arp_del(struct nfc_nf *nf, const char *key);
int rt_arp_list(struct nfc_nf *nf, json_t *out);
/* The IPv4 entries of `arp show` (learnt and static). */
int rt_arp_list4(struct nfc_nf *nf, json_t *out);

/* rt_slow.c: the slow path and its per-process state (the NF's priv) */
struct rt_frame {
	size_t len;
	uint8_t data[];
};

/* A next hop being resolved, with the frames waiting for it: complete
 * but for the destination MAC. */
struct rt_pending {
	struct rt_pending *next;
	int family;
	union rt_ip nh;
	unsigned port;
	unsigned tries;
	uint64_t next_try;
	unsigned n, cap;
	struct rt_frame **q;
};

struct rt_priv {
	struct rt_pending *pend;
	double tokens; /* ICMP error budget */
	uint64_t tokens_at;
	uint16_t ip_id;
	uint64_t ra_at; /* last periodic router advertisement */
	struct rt_store store;
};

void rt_pending_free(struct rt_pending *pe);
void rt_pending_kick(struct nfc_nf *nf);
void rt_destroy(struct nfc_nf *nf);
/* A gratuitous ARP: the port's own IPv4 address asked for, broadcast. */
void rt_send_garp(struct nfc_nf *nf, unsigned port);
void rt_send_arp_request(struct nfc_nf *nf, unsigned port, __be32 target,
			 const uint8_t *unicast);
/* Asks for next hop nh (ARP or neighbour solicitation). */
void rt_resolve(struct nfc_nf *nf, unsigned port, int family,
		const union rt_ip *nh, const uint8_t *unicast);
/* Sends a frame (Ethernet header, source MAC set) to next hop nh out of
 * port: now if known, else queued while it is resolved. */
void rt_send_via(struct nfc_nf *nf, unsigned port, int family,
		 const union rt_ip *nh, const uint8_t *f, size_t len);
/* The pending resolution of nh on port, taken off the list; NULL: none. */
struct rt_pending *rt_pending_take(struct nfc_nf *nf, int family,
				   const union rt_ip *nh, unsigned port);
/* Sends a resolution's frames to mac and frees it. */
void rt_pending_send(struct nfc_nf *nf, struct rt_pending *pe,
		     const uint8_t *mac);
/* The ICMP error budget (shared by both families). */
int rt_icmp_allowed(struct nfc_nf *nf);
struct rt_priv *rt_priv_get(struct nfc_nf *nf);
/* The IPv4 packet of a frame, checked; NULL if there is none. */
const uint8_t *rt_frame_ip(const uint8_t *f, uint32_t len, size_t *ip_len);
void rt_icmp_error(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		   size_t ip_len, __u8 type, __u8 code, __be32 src,
		   unsigned stat);
void rt_icmp_error_info(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
			size_t ip_len, __u8 type, __u8 code, __be32 src,
			unsigned stat, __be32 rest);
void rt_icmp_error_mtu(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		       size_t ip_len, unsigned mtu);
const uint8_t *rt_frame_ip_cut(const uint8_t *f, uint32_t len, size_t *ip_len);
void rt_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		  const uint8_t *data, uint32_t len, uint32_t pkt_len);

/* rt_nd.c: the IPv6 slow path: NDP, ICMPv6, router advertisements */
void rt_send_ns(struct nfc_nf *nf, unsigned port, const uint8_t *target,
		const uint8_t *unicast);
void rt_nd_port_up(struct nfc_nf *nf, const struct rt_pcfg *pc, uint64_t ports,
		   uint64_t ra_off, uint8_t (*old_mac)[6]);
int rt_nd_sync(struct nfc_nf *nf, const struct rt_pcfg *pc);
/* Static IPv6 neighbours (`arp add` of an IPv6 address, checked by
 * rt_colls.c with the IPv4 ones): in rt_sarp as configured, in rt_nd on
 * their port as RT_N_STATIC (n); 0 or -errno. */
int rt_snd_add(struct nfc_nf *nf, const struct rt_pfx *ip, int port,
	       const struct rt_neigh *n);
int rt_snd_del(struct nfc_nf *nf, const char *key, const struct rt_pfx *ip);
/* The static IPv6 entries (all: also active ones, as `arp show` lists
 * them; else only those that apply nowhere now). */
int rt_snd_list(struct nfc_nf *nf, json_t *out, int all);
void rt_nd_port_down(struct nfc_nf *nf, unsigned port);
void rt_packet_in6(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		   const uint8_t *f, uint32_t len, uint32_t pkt_len);
void rt_icmp6_error(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		    size_t ip_len, __u8 type, __u8 code, __u32 info,
		    unsigned stat);
void rt_nd_tick(struct nfc_nf *nf, uint64_t now);
int rt_neighbours_list(struct nfc_nf *nf, json_t *out);

/* rt_tick.c: tick and stats */
void rt_tick(struct nfc_nf *nf, uint64_t now);
/* Neighbour aging, ARP's (rt_tick.c) and ND's (rt_nd.c): one batch walk
 * of the map (`fd`), a callback an entry. */
struct rt_age {
	struct nfc_nf *nf;
	int fd;
	unsigned retries;
	uint64_t now, timeout;
};
void rt_age_init(struct rt_age *a, struct nfc_nf *nf, const char *map,
		 uint64_t now);
/* 1 if the learnt entry at `key` (`seen`: the batch's copy of it) is past
 * arp_timeout, with *n the entry as it is now; 0 otherwise. */
int rt_age_due(const struct rt_age *a, const void *key,
	       const struct rt_neigh *seen, struct rt_neigh *n);
void rt_stats(struct nfc_nf *nf, int port, json_t *out);

#endif
