/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bridge: what the files of its control plane share (private; the data
 * plane's contract is bridge.h). The file map is in README.md.
 */
#ifndef NFC_BR_INT_H
#define NFC_BR_INT_H

#include <stdint.h>
#include <linux/types.h>
#include <jansson.h>

#include "common.h"
#include "nfchain/nf.h"
#include "bridge/bridge.h"

/* A port's bit in a port set (br_vlan members, untagged; slow_ports). */
#define BIT(p) (1ULL << (p))

/* br_ports.c: ports and VLANs */
int br_configure(struct nfc_nf *nf);
int br_ports_check(struct nfc_nf *nf);

/* br_fdb.c: the fdb collection, aging, counters */
/* Control-plane counters: the data plane never writes these keys. */
void br_counter_add(struct nfc_nf *nf, __u32 k, __u64 d);

/* Walks the learned entries; `drop` (NULL: none) says which to delete.
 * Returns how many were deleted; *remaining (if not NULL) how many were
 * kept. */
typedef int (*br_fdb_pred)(const struct br_fdb_key *k,
			   const struct br_fdb_val *v, void *arg);
long br_fdb_prune(struct nfc_nf *nf, br_fdb_pred drop, void *arg,
		  long *remaining);

int br_fdb_add(struct nfc_nf *nf, const char *key, json_t *fields);
int br_fdb_del(struct nfc_nf *nf, const char *key);
int br_fdb_list(struct nfc_nf *nf, json_t *out);
int br_fdb_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
		     json_t *out);
void br_tick(struct nfc_nf *nf, uint64_t now_ns);
void br_port_down(struct nfc_nf *nf, unsigned port);
void br_stats(struct nfc_nf *nf, int port, json_t *out);

/* br_flood.c: the slow path */
void br_packet_in(struct nfc_nf *nf, unsigned in_port, unsigned reason,
		  const uint8_t *data, uint32_t len, uint32_t pkt_len);

#endif
