/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The lb's collection keys, parsed and printed (lb_key.c; no kernel, so
 * that a test checks them directly):
 *   service  ADDR:PORT/PROTO            203.0.113.100:80/tcp
 *   backend  SERVICE/ADDR[:PORT]        203.0.113.100:80/tcp/198.51.100.12:8080
 * IPv6 addresses in brackets: [2001:db8::100]:80/tcp/[2001:db8::11].
 */
#ifndef NFC_LB_KEY_H
#define NFC_LB_KEY_H

#include <stddef.h>
#include <linux/types.h>

#include "lb.h"

/* 0, or -EINVAL with a message naming the field in err. */
int lb_parse_svc(const char *s, struct lb_vip *v, char *err, size_t errlen);
/* The backend's service and address (be->port 0: none given). */
int lb_parse_be(const char *s, struct lb_vip *v, struct lb_be *be, char *err,
		size_t errlen);
/* Why a VIP or a backend at addr cannot be one (no address, broadcast,
 * multicast, loopback), or NULL for a unicast address. */
const char *lb_not_unicast(__u8 family, const __u32 *addr);
/* The canonical spelling of a key (what list prints). */
void lb_svc_str(const struct lb_vip *v, char *b, size_t len);
void lb_be_str(const struct lb_vip *v, const struct lb_be *be, char *b,
	       size_t len);

#endif
