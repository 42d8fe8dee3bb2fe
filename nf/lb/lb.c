// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lb: the NF type of the L4 load balancer (its fields, collections and
 * figures). A transparent NF: attached on the netdev or router port that
 * receives the VIPs' traffic. State lives in its pinned maps (lb.h);
 * lb_colls.c keeps them, lb_ring.c builds and switches the Maglev tables,
 * lb_maglev.c is the table builder, lb_key.c the keys.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conntrack.h"
#include "lb_int.h"
#include "lb_xdp.skel.h"
#include "lb_tc.skel.h"

static const struct nfc_field lb_config[] = {
	{.name = "src",
	 .kind = NFC_F_IPV4,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "lb_src",
	 .doc = "outer source address of DSR packets (default: the client's "
		"own); with src_bits, the low bits come from the flow's hash"},
	{.name = "src6",
	 .kind = NFC_F_STRING,
	 .flags = NFC_FIELD_RELOAD,
	 .doc = "outer source address of IPv6 DSR packets (ip6ip6; default: "
		"the client's own); src_bits applies to it too"},
	{.name = "src_bits",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "lb_src_bits",
	 .def = "0",
	 .min = 0,
	 .max = 16,
	 .doc = "low bits of src taken from the flow's hash, so that a "
		"backend's receive hashing spreads flows (src=198.51.100.0 "
		"src_bits=8: 198.51.100.0-255)"},
	{.name = "mtu",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "lb_mtu",
	 .def = "0",
	 .min = 0,
	 .max = 65535,
	 .doc = "DSR: the path MTU toward the backends; an IPv4 packet with "
		"DF that the outer header would take beyond it gets an ICMP "
		"fragmentation-needed (MTU - 20) back to its sender, an IPv6 "
		"one an ICMPv6 packet-too-big (MTU - 40); 0: not checked, "
		"else at least 88"},
	{.name = "udp_timeout",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_RUNTIME,
	 .bpf_const = "lb_udp_timeout",
	 .def = "30",
	 .min = 1,
	 .max = 86400,
	 .doc = "seconds a UDP flow keeps its backend after its last packet"},
	/* forward=nat's connections live in the shared tracker. */
	NFCT_CONFIG_FIELDS,
	NFC_FIELDS_END,
};

static const struct nfc_field lb_svc_fields[] = {
	{.name = "forward",
	 .kind = NFC_F_ENUM,
	 .def = "dsr",
	 .choices = "dsr|nat",
	 .doc = "dsr: to the backend unchanged inside IPIP, which answers the "
		"client itself; nat: destination rewritten to the backend, "
		"replies rewritten back as they leave through the lb"},
	{.name = "table",
	 .kind = NFC_F_UINT,
	 .def = "65537",
	 .min = 3,
	 .max = LB_TABLE_MAX,
	 .doc = "slots of the Maglev table, a prime at least 100 times the "
		"backend count"},
	NFC_FIELDS_END,
};

static const struct nfc_field lb_be_fields[] = {
	{.name = "weight",
	 .kind = NFC_F_UINT,
	 .def = "1",
	 .min = 1,
	 .max = LB_WEIGHT_MAX,
	 .doc = "share of new connections, relative to the service's other "
		"backends"},
	{.name = "state",
	 .kind = NFC_F_ENUM,
	 .def = "up",
	 .choices = "up|drain",
	 .doc = "drain: no new connections; its connections stay"},
	NFC_FIELDS_END,
};

/* src6, an address as text, into the data plane's lb_src6_* (network
 * order, as the packet has them). src is a run-time field (NFC_F_IPV4:
 * the runtime writes it the same way). */
static int lb_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	json_t *cfg = nfc_nf_config(nf);
	const char *s6 = json_string_value(json_object_get(cfg, "src6"));
	struct in6_addr a6 = {0};
	char var[16];
	__u32 w[4];
	int r = 0;

	if (s6 && inet_pton(AF_INET6, s6, &a6) != 1)
		return nfc_nf_error(nf, EINVAL, "src6 %s: not an IPv6 address",
				    s6);
	memcpy(w, &a6, sizeof(w));
	for (int i = 0; i < 4 && !r; i++) {
		snprintf(var, sizeof(var), "lb_src6_%d", i);
		r = nfc_obj_set_const(obj, var, w[i]);
	}
	return r ? r : nfct_prepare(nf, obj);
}

static void lb_stats(struct nfc_nf *nf, int port, json_t *out)
{
	/* The kernel's count of the table, not a walk of up to 65,536
	 * connections at every show and metrics scrape. */
	long n = nfc_map_count(nfc_nf_map_fd(nf, "lb_conns"));

	if (port >= 0)
		return;
	json_object_set_new(out, "connections", json_integer(n > 0 ? n : 0));
	nfct_stats(nf, out);
}

static const struct nfc_stat lb_stats_doc[] = {
	{"connections", NFC_STAT_GAUGE, NULL,
	 "entries in the connection table (flows that keep their backend)"},
	NFCT_STATS_DOC,
	{0},
};

/* ---- conntrack: forward=nat's connections in the shared tracker ---- */

static const struct nfc_field lb_ct_fields[] = {NFC_FIELDS_END};

static int lb_ct_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	(void)fields;
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "conntrack %s: entries are made by NAT-ed "
			    "connections, not added",
			    key);
}

/* As the firewall's (fw_ct_import): nothing to import. */
static int lb_ct_import(struct nfc_nf *nf, const char *text, size_t len,
			int replace)
{
	(void)text;
	(void)len;
	(void)replace;
	return nfc_nf_error(nf, EOPNOTSUPP,
			    "conntrack: entries are made by NAT-ed "
			    "connections, not imported; 'conntrack del flush' "
			    "empties it");
}

static int lb_ct_del(struct nfc_nf *nf, const char *key)
{
	if (!key || !strcmp(key, "flush")) {
		long n = nfct_flush(nf);

		return n < 0 ? (int)n : 0;
	}
	return nfct_del(nf, key);
}

static int lb_ct_list(struct nfc_nf *nf, json_t *out)
{
	return nfct_list(nf, out);
}

/* DSR's outer source: a unicast address (a multicast or broadcast one
 * was taken, and every DSR packet was lost), IPv6 in its one spelling as
 * keys are (RFC 5952). 0.0.0.0 and :: are "none": the client's own. */
static int src_check(struct nfc_nf *nf, json_t *config)
{
	const char *s4 = json_string_value(json_object_get(config, "src")),
		   *s6 = json_string_value(json_object_get(config, "src6"));
	struct in6_addr a6;
	struct in_addr a4;
	char canon[INET6_ADDRSTRLEN];
	const char *bad;

	/* A state saved before these checks is taken as it was. */
	if (nfc_nf_applying(nf))
		return 0;
	/* As a VIP's or a backend's (lb_not_unicast): a loopback, mapped
	 * or link-local source was taken too, and the backend's kernel
	 * dropped every DSR packet as a martian (found by a helper). */
	if (s4 && inet_pton(AF_INET, s4, &a4) == 1 && a4.s_addr &&
	    (bad = lb_not_unicast(LB_AF_INET, &a4.s_addr)))
		return nfc_nf_error(nf, EINVAL,
				    "src=%s: not a unicast address (%s): a "
				    "backend drops what comes from it",
				    s4, bad);
	if (!s6)
		return 0;
	if (inet_pton(AF_INET6, s6, &a6) != 1)
		return nfc_nf_error(nf, EINVAL, "src6 %s: not an IPv6 address",
				    s6);
	if (memcmp(&a6, &in6addr_any, sizeof(a6)) &&
	    (bad = lb_not_unicast(LB_AF_INET6, (const __u32 *)&a6)))
		return nfc_nf_error(nf, EINVAL,
				    "src6=%s: not a unicast address (%s): a "
				    "backend drops what comes from it",
				    s6, bad);
	inet_ntop(AF_INET6, &a6, canon, sizeof(canon));
	if (strcmp(canon, s6))
		return nfc_nf_error(nf, EINVAL, "src6=%s: write it as %s", s6,
				    canon);
	return 0;
}

static int lb_validate(struct nfc_nf *nf, json_t *config)
{
	json_int_t mtu = json_integer_value(json_object_get(config, "mtu"));
	char key[128];
	int r = src_check(nf, config);

	if (r)
		return r;

	/* Taken back as accepted before (a restore), not refused now. */
	if (mtu > 0 && mtu < LB_MTU4_MIN && !nfc_nf_applying(nf))
		return nfc_nf_error(nf, EINVAL,
				    "mtu=%lld: at least %d (or 0): a "
				    "fragmentation-needed tells mtu - 20, and "
				    "no IPv4 path is under 68",
				    (long long)mtu, LB_MTU4_MIN);
	/* In an apply, the document's services are checked against this
	 * mtu each (svc_parse), not the ones held now: a document lowering
	 * the mtu as it makes its IPv6 service forward=nat was refused
	 * (found by a helper). */
	if (mtu > 0 && mtu < LB_MTU6_MIN && !nfc_nf_applying_doc(nf) &&
	    lb_dsr6_find(nf, key, sizeof(key)))
		return nfc_nf_error(nf, EINVAL,
				    "mtu=%lld: the IPv6 forward=dsr service %s "
				    "needs at least %d (or 0): ip6ip6 adds 40 "
				    "bytes, and a packet-too-big below IPv6's "
				    "1280 is not followed",
				    (long long)mtu, key, LB_MTU6_MIN);
	return nfct_validate(nf, config);
}

static int lb_configure(struct nfc_nf *nf)
{
	struct lb_state *st;
	int r = nfct_configure(nf);

	/* lb_vidx from the services, for an lb whose index is new (its
	 * program upgraded on older pins) or was left held by a failure:
	 * nothing is written when it agrees. */
	if (r || nfc_nf_map_fd(nf, "lb_vidx") < 0)
		return r;
	st = malloc(sizeof(*st));
	if (!st)
		return nfc_nf_error(nf, ENOMEM, "lb: out of memory");
	r = lb_state_load(nf, st);
	if (!r)
		r = lb_vidx_sync(nf, st);
	free(st);
	return r;
}

static void lb_tick(struct nfc_nf *nf, uint64_t now_ns)
{
	nfct_tick(nf, now_ns);
}

static const struct nfc_collection lb_collections[] = {
	{.name = "services",
	 .key_doc = "VIP:PORT/PROTO (203.0.113.100:80/tcp; IPv6 in brackets)",
	 .fields = lb_svc_fields,
	 .add = lb_svcs_add,
	 .del = lb_svcs_del,
	 .list = lb_svcs_list,
	 .replace = lb_svcs_replace,
	 .check_key = lb_svcs_check_key,
	 .check = lb_svcs_check},
	{.name = "backends",
	 .key_doc = "SERVICE/ADDR[:PORT] "
		    "(203.0.113.100:80/tcp/198.51.100.11)",
	 .fields = lb_be_fields,
	 .add = lb_bes_add,
	 .del = lb_bes_del,
	 .list = lb_bes_list,
	 /* Swapped as a whole: the backends of a service decide its table
	  * together, and `set` must keep a backend's id. */
	 .replace = lb_bes_replace,
	 .check_key = lb_bes_check_key,
	 .check = lb_bes_check},
	{.name = "conntrack",
	 .key_doc = "proto,src,sport,dst,dport (a NAT-ed connection, "
		    "client <-> backend; \"flush\" deletes all)",
	 .fields = lb_ct_fields,
	 .add = lb_ct_add,
	 .del = lb_ct_del,
	 .list = lb_ct_list,
	 .import_text = lb_ct_import,
	 .list_page = nfct_list_page},
	{0},
};

const struct nfc_nf_type nf_type_lb = {
	.name = "lb",
	.summary = "L4 load balancer (Maglev, connection "
		   "affinity, DSR over IPIP or NAT)",
	.flags = NFC_TYPE_TRANSPARENT,
	.max_ports = 0,
	.config = lb_config,
	.collections = lb_collections,
	.stats_doc = lb_stats_doc,
	.elf_xdp = lb_xdp__elf_bytes,
	.elf_tc = lb_tc__elf_bytes,
	.prepare = lb_prepare,
	.validate = lb_validate,
	.configure = lb_configure,
	.tick = lb_tick,
	.stats = lb_stats,
};
