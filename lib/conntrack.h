/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Connection tracking, control plane (lib/conntrack.c): what an NF whose data
 * plane includes bpf/ct.h calls from its own callbacks. The tracker has no
 * NF type of its own; the firewall, the NAT and the load balancer each
 * embed one table and forward to these:
 *
 *   config fields     NFCT_CONFIG_FIELDS in the NF's field list
 *   validate()        nfct_validate(nf, config) size fixed once created
 *   prepare()         nfct_prepare(nf, obj)     table size from config
 *   configure()       nfct_configure(nf)        timeouts into ct_cfg
 *   tick()            nfct_tick(nf, now_ns)     expiry and eviction
 *   stats()           nfct_stats(nf, out)       and NFCT_STATS_DOC
 *   show / del / flush  nfct_list, nfct_del, nfct_flush
 *
 * The nf-level calls find the maps with nfc_nf_map_fd and wrap the
 * fd-level ones (nfct_*_fd), which tests call directly on a table they
 * loaded themselves.
 */
#ifndef NFC_LIB_CONNTRACK_H
#define NFC_LIB_CONNTRACK_H

#include <stdint.h>
#include <linux/types.h>
#include <jansson.h>

#include "ct_common.h"
#include "nfchain/nf.h"

/* The config fields of the tracker, to put in an NF's field list (before
 * NFC_FIELDS_END). Names: conntrack_size, timeout_tcp_syn_sent,
 * timeout_tcp_syn_recv, timeout_tcp_established, timeout_tcp_fin_wait,
 * timeout_tcp_time_wait, timeout_tcp_close, timeout_udp,
 * timeout_udp_stream, timeout_icmp, timeout_generic (seconds, defaults
 * Linux's), tcp_loose. */
#define NFCT_SIZE_DEFAULT "65536"
#define NFCT_SIZE_MAX 4194304
/* Not NFC_FIELD_LIVE: the data plane reads them from ct_cfg, which
 * configure() (nfct_configure) writes. As live fields they reached it only
 * at the next tick: up to a second late in nfchaind, never with nfctl
 * (found 2026-12-07: `set tcp_loose=true` picked nothing up). */
#define NFCT_TO_FIELD(n, d, what)                                     \
	{                                                             \
		.name = "timeout_" #n, .kind = NFC_F_UINT, .def = #d, \
		.min = 1, .max = 86400 * 30,                          \
		.doc = "seconds an idle connection " what             \
		       " is kept (conntrack)"                         \
	}
#define NFCT_CONFIG_FIELDS                                                    \
	{.name = "conntrack_size",                                            \
	 .kind = NFC_F_UINT,                                                  \
	 .flags = NFC_FIELD_RELOAD,                                           \
	 .def = NFCT_SIZE_DEFAULT,                                            \
	 .min = 64,                                                           \
	 .max = NFCT_SIZE_MAX,                                                \
	 .doc = "connections tracked at most; fixed when the NF is created"}, \
		NFCT_TO_FIELD(tcp_syn_sent, 120, "after its SYN"),            \
		NFCT_TO_FIELD(tcp_syn_recv, 60, "after its SYN-ACK"),         \
		NFCT_TO_FIELD(tcp_established, 432000, "once established"),   \
		NFCT_TO_FIELD(tcp_fin_wait, 120, "after a FIN one way"),      \
		NFCT_TO_FIELD(tcp_time_wait, 120, "after FINs both ways"),    \
		NFCT_TO_FIELD(tcp_close, 10, "after a RST"),                  \
		NFCT_TO_FIELD(udp, 30, "(UDP, one way)"),                     \
		NFCT_TO_FIELD(udp_stream, 120, "(UDP, answered)"),            \
		NFCT_TO_FIELD(icmp, 30, "(ICMP echo)"),                       \
		NFCT_TO_FIELD(generic, 600, "(other protocols)"),             \
	{                                                                     \
		.name = "tcp_loose", .kind = NFC_F_BOOL, .def = "false",      \
		.doc = "a TCP segment without SYN may open a connection "     \
		       "(Linux nf_conntrack_tcp_loose)"                       \
	}

/* What nfct_stats adds, for the NF's stats_doc (before its {0}). */
#define NFCT_STATS_DOC                                                      \
	{"conntrack_entries", NFC_STAT_GAUGE, NULL, "connections tracked"}, \
		{"conntrack_size", NFC_STAT_GAUGE, NULL,                    \
		 "connections the table holds at most"},                    \
		{"conntrack_created", NFC_STAT_COUNTER, NULL,               \
		 "connections confirmed"},                                  \
		{"conntrack_refused", NFC_STAT_COUNTER, NULL,               \
		 "new connections not tracked: table full"},                \
		{"conntrack_evicted", NFC_STAT_COUNTER, NULL,               \
		 "connections evicted to make room"},                       \
		{"conntrack_expired", NFC_STAT_COUNTER, NULL,               \
		 "connections removed after their timeout"},                \
		{"conntrack_invalid", NFC_STAT_COUNTER, NULL,               \
		 "packets classified invalid"},                             \
		{"conntrack_related", NFC_STAT_COUNTER, NULL,               \
		 "ICMP errors matched to a connection"},                    \
	{                                                                   \
		"conntrack_frag_miss", NFC_STAT_COUNTER, NULL,              \
			"later fragments whose first was not seen"          \
	}

/* Eviction starts above this share of the table (in 1/16ths) and brings
 * it down to NFCT_EVICT_LOW: room for a burst of new connections between
 * two ticks, which the data plane would otherwise refuse. */
#define NFCT_EVICT_HIGH 15
#define NFCT_EVICT_LOW 14

/* ---- fd level: a table, its config and counters ----------------------- */

/* Timeouts and flags from an NF config object (defaults for what it lacks). */
void nfct_cfg_from_json(json_t *config, struct nfct_cfg *cfg);
/* Defaults only: Linux's timeouts, tcp_loose off. */
void nfct_cfg_default(struct nfct_cfg *cfg);

/* What one sweep did. */
struct nfct_sweep {
	uint64_t entries; /* left in the table */
	uint64_t expired;
	uint64_t evicted;
};

/* One sweep of the table: deletes every entry past its timeout at
 * `now_ns` (CLOCK_MONOTONIC, the data plane's clock), then, if more than
 * NFCT_EVICT_HIGH/16 of `size` remain, the least recently used entries
 * that are not established (nfct_is_assured) down to NFCT_EVICT_LOW/16,
 * and never an established one. Reads and deletes in batches, so the data
 * plane is never held for more than one batch. Adds the expired and
 * evicted counts to ct_stats (stats_fd, -1: not). 0 or -errno. */
int nfct_sweep_fd(int table_fd, int stats_fd, const struct nfct_cfg *cfg,
		  uint32_t size, uint64_t now_ns, struct nfct_sweep *out);
/* What a tick runs: nfct_sweep_fd itself while the table holds at most
 * `max` entries or is past NFCT_EVICT_HIGH/16 of `size` (eviction needs
 * the whole table's ages); otherwise only the expiry, over the next ~`max`
 * entries from `cur` (nfc_walk_cursor), so that a tick on a large table holds
 * the daemon for a few ms, not tens: a full table is gone through in
 * size/max ticks. 0 or -errno. */
int nfct_sweep_slice(int table_fd, int stats_fd, const struct nfct_cfg *cfg,
		     uint32_t size, uint64_t now_ns, struct nfc_walk *cur,
		     long max, struct nfct_sweep *out);
/* Entries a tick's sweep looks at (nfct_sweep_slice's `max`). */
#define NFCT_SWEEP_SLICE 8192
/* Appends one JSON object per entry to the array `out`: key (what
 * nfct_del takes), proto, family, src, dst, sport, dport (original
 * direction), state, timeout (seconds left), packets_orig, bytes_orig,
 * packets_reply, bytes_reply, assured. */
int nfct_list_fd(int table_fd, const struct nfct_cfg *cfg, uint64_t now_ns,
		 json_t *out);
/*
 * What per-CPU flow caches gathered for entries and have not put in them
 * yet. A slot gives its counts to the entry at its next sync or when
 * another flow takes it: a flow that ended, or went on on another CPU,
 * may leave them there for good. A listing adds them, so that its
 * counters are what crossed.
 */
struct nfct_pend {
	struct nfct_key k;
	uint64_t packets[2], bytes[2]; /* [NFCT_DIR_ORIG], [NFCT_DIR_REPLY] */
};
struct nfct_pending {
	struct nfct_pend *v;
	size_t n, cap;
	int sorted;
};
/* Adds a slot's counts to entry k's, direction dir. 0 or -ENOMEM. */
int nfct_pending_add(struct nfct_pending *p, const struct nfct_key *k,
		     unsigned dir, uint64_t packets, uint64_t bytes);
/* The counts of entry k, or NULL: after the last add. */
const struct nfct_pend *nfct_pending_find(struct nfct_pending *p,
					  const struct nfct_key *k);
void nfct_pending_free(struct nfct_pending *p);
/* Reads every CPU's slots of a ct_fc map (bpf/ct_fc.h) into p. */
int nfct_pending_fc(int fc_fd, struct nfct_pending *p);
/* nfct_list_fd with what `pend` holds added to each entry's counters. */
int nfct_list_pend_fd(int table_fd, const struct nfct_cfg *cfg, uint64_t now_ns,
		      struct nfct_pending *pend, json_t *out);
/* Parses a key "proto,src,sport,dst,dport" (proto: tcp, udp, icmp,
 * icmpv6 or a number; addresses IPv4 or IPv6, both of one family; ICMP
 * echo: the identifier as both ports); either direction. 0 or -EINVAL
 * with a message in err. */
int nfct_key_parse(const char *s, struct nfct_key *k, char *err, size_t errlen);
/* The key of an entry as nfct_key_parse reads it (original direction). */
void nfct_key_str(const struct nfct_key *k, const struct nfct_entry *e,
		  char *buf, size_t len);
/* Deletes one entry: 0, -ENOENT. */
int nfct_del_fd(int table_fd, const struct nfct_key *k);
/* Deletes every entry; returns how many, or -errno. */
long nfct_flush_fd(int table_fd);
/* The state's name as shown ("syn_sent", "established", "replied" ...). */
const char *nfct_state_name(uint8_t proto, uint8_t state);

/* ---- nf level: for an NF's callbacks ------------------------------------ */

/* In validate(): refuses a change of conntrack_size (it sizes a pinned
 * map) with an error naming the NF. */
int nfct_validate(struct nfc_nf *nf, json_t *config);
int nfct_prepare(struct nfc_nf *nf, struct bpf_object *obj);
int nfct_configure(struct nfc_nf *nf);
/* Writes the config's timeouts into ct_cfg if they changed, then sweeps
 * (timeout fields are NFC_FIELD_LIVE: no configure() runs for them). */
void nfct_tick(struct nfc_nf *nf, uint64_t now_ns);
/* After deleting entries (an NF's own sweep): every CPU's cached flows
 * miss once (bpf/ct.h, ct_fc_gen). Nothing for an NF without a cache. */
void nfct_fc_bump(struct nfc_nf *nf);
void nfct_stats(struct nfc_nf *nf, json_t *out);
int nfct_list(struct nfc_nf *nf, json_t *out);
/* The same a page at a time (nfc_collection.list_page): whole in the
 * first page up to NFC_LIST_WHOLE entries, else ~max entries a call in
 * the table's order. */
int nfct_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
		   json_t *out);
/* Key as nfct_key_parse; "all" flushes. Errors name the key. */
int nfct_del(struct nfc_nf *nf, const char *key);
long nfct_flush(struct nfc_nf *nf);

#endif
