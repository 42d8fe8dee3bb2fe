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
	struct rt_pfx ip; /* family 0: no address */
	uint8_t mac[6];
};

int rt_subnet_has(const struct rt_pfx *net, __be32 a);
__be32 rt_subnet_bcast(const struct rt_pfx *p);
/* Reads the ports from the model (pc: NFC_MAX_PORTS of them); validates
 * addresses and MACs. */
int rt_load_ports(struct nfc_nf *nf, struct rt_pcfg *pc);
/* The port whose subnet holds address a (IPv4), or -1. */
int rt_port_for(const struct rt_pcfg *pc, __be32 a);
int rt_is_own_addr(const struct rt_pcfg *pc, __be32 a);
void rt_subnets_str(const struct rt_pcfg *pc, char *buf, size_t len);
/* rt_ports from the model, writing only differences. */
int rt_ports_sync(struct nfc_nf *nf, const struct rt_pcfg *pc);
/* A port's rt_ports entry if the port is up; -1 if not. */
int rt_port_get(struct nfc_nf *nf, unsigned port, struct rt_port *out);

/* rt_fib.c: the FIB */
/* Connected, local and broadcast entries of the ports; e has room for
 * 4 * NFC_MAX_PORTS. */
int rt_fib_port_entries(const struct rt_pcfg *pc, struct fib_ent *e);
/* Where a static route goes with these ports: its port, or -1 (inactive),
 * -2 when a port's own entry (own, sorted) has the same key (shadowed). */
int rt_route_port(const struct rt_pcfg *pc, const struct fib_ent *own, int nown,
		  const struct rt_rib_key *k, const struct rt_rib_val *v);
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
int rt_routes_del(struct nfc_nf *nf, const char *key);
int rt_routes_list(struct nfc_nf *nf, json_t *out);
int rt_routes_replace(struct nfc_nf *nf, json_t *entries);
int rt_arp_add(struct nfc_nf *nf, const char *key, json_t *fields);
int rt_arp_del(struct nfc_nf *nf, const char *key);
int rt_arp_list(struct nfc_nf *nf, json_t *out);

/* rt_slow.c: the slow path and its per-process state (the NF's priv) */
struct rt_frame {
	size_t len;
	uint8_t data[];
};

/* A next hop being resolved, with the frames waiting for it: complete
 * but for the destination MAC. */
struct rt_pending {
	struct rt_pending *next;
	__be32 nh;
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
};

void rt_pending_free(struct rt_pending *pe);
void rt_pending_kick(struct nfc_nf *nf);
void rt_destroy(struct nfc_nf *nf);
void rt_send_arp_request(struct nfc_nf *nf, unsigned port, __be32 target,
			 const uint8_t *unicast);
/* The IPv4 packet of a frame, checked; NULL if there is none. */
const uint8_t *rt_frame_ip(const uint8_t *f, uint32_t len, size_t *ip_len);
void rt_icmp_error(struct nfc_nf *nf, unsigned in_port, const uint8_t *ip,
		   size_t ip_len, __u8 type, __u8 code, __be32 src,
		   unsigned stat);
void rt_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		  const uint8_t *data, uint32_t len, uint32_t pkt_len);

/* rt_tick.c: tick and stats */
void rt_tick(struct nfc_nf *nf, uint64_t now);
void rt_stats(struct nfc_nf *nf, int port, json_t *out);

#endif
