/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef NFC_PATHS_H
#define NFC_PATHS_H
#include "internal.h"

/* hops: [NFC_GPORTS], stub_hops: [NFC_MAX_STUBS]; both overwritten. */
void paths_compute(const struct model *m, struct nfc_hop *hops,
		   struct nfc_hop *stub_hops);
/* Decides which netdev hooks the model needs; keeps existing numbers. */
int paths_assign_stubs(struct nfc *nfc, struct model *m);
/* Hook-type agreement and the chain-depth limit. */
int paths_check(struct nfc *nfc, const struct model *m,
		const struct nfc_hop *hops, const struct nfc_hop *stub_hops);
/* The NF port whose peer is this netdev, if any. */
int netdev_peer_port(const struct model *m, int ifindex, int *nf, int *port);
#endif
