/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lb: what its control-plane files share (lb.c: the type; lb_colls.c: the
 * services and backends collections; lb_ring.c: tables into maps).
 */
#ifndef NFC_LB_INT_H
#define NFC_LB_INT_H

#include <linux/types.h>

#include "nfchain/nf.h"
#include "lb/lb.h"
#include "lb/lb_key.h"
#include "lb/lb_maglev.h"

/* The lb's records, read whole from its maps (the state lives there: every
 * nfctl call is a new process). */
struct lb_state {
	struct lb_svc_rec svc[LB_MAX_SVC];
	struct lb_be be[LB_MAX_BE];
};

int lb_state_load(struct nfc_nf *nf, struct lb_state *st);
/* Service id of a VIP, -1 if none. */
int lb_svc_find(const struct lb_state *st, const struct lb_vip *v);
/* Backends of service `sid` in use (up or drain). */
int lb_svc_nbe(const struct lb_state *st, __u32 sid);
/* Builds service `sid`'s table from its backends that are up and swaps
 * it in (none up: the slot is emptied, packets dropped and counted). */
int lb_ring_publish(struct nfc_nf *nf, const struct lb_state *st, __u32 sid);
/* The table of service `sid` as the data plane holds it, in `out` (its
 * size `m`); returns m, 0 if there is none, or -errno. `out` NULL: size
 * only. */
int lb_ring_read(struct nfc_nf *nf, __u32 sid, __u32 *out, __u32 m);
/* lb_vidx (lb_vidx.c): before the services change, the slots of `vips`
 * are held (sent to lb_vips); after, sync writes every slot that differs
 * from what st's services give. */
int lb_vidx_hold(struct nfc_nf *nf, const struct lb_vip *vips, size_t n);
int lb_vidx_sync(struct nfc_nf *nf, const struct lb_state *st);
/* Zeroes a per-CPU stats entry (an id given to a new service or backend). */
void lb_stat_zero(struct nfc_nf *nf, const char *map, __u32 id);

/* ip6ip6 adds 40 bytes: below this mtu the packet-too-big would tell an
 * MTU under IPv6's 1280, which senders do not follow (RFC 8201). */
#define LB_MTU6_MIN 1320
/* IPv4 (RFC 791): 68 bytes every link takes, plus the IPIP header. */
#define LB_MTU4_MIN 88
/* 1 and the key of an IPv6 forward=dsr service (the first), else 0. */
int lb_dsr6_find(struct nfc_nf *nf, char *key, size_t len);

int lb_svcs_add(struct nfc_nf *nf, const char *key, json_t *fields);
int lb_svcs_check_key(struct nfc_nf *nf, const char *key);
int lb_bes_check_key(struct nfc_nf *nf, const char *key);
int lb_svcs_check(struct nfc_nf *nf, json_t *config, const char *key,
		  json_t *fields);
int lb_svcs_del(struct nfc_nf *nf, const char *key);
int lb_svcs_list(struct nfc_nf *nf, json_t *out);
int lb_svcs_replace(struct nfc_nf *nf, json_t *entries);
int lb_bes_add(struct nfc_nf *nf, const char *key, json_t *fields);
int lb_bes_check(struct nfc_nf *nf, json_t *config, const char *key,
		 json_t *fields);
int lb_bes_del(struct nfc_nf *nf, const char *key);
int lb_bes_list(struct nfc_nf *nf, json_t *out);
int lb_bes_replace(struct nfc_nf *nf, json_t *entries);

#endif
