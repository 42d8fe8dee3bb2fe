// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Connection tracking, control plane: config, show, delete, flush, and the
 * sweep that expires and evicts (see conntrack.h). The data plane is
 * bpf/ct.h; the layout both share is bpf/ct_common.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "conntrack.h"
#include "flow.h"
#include "ct_fc.h"

/* Entries read or deleted per syscall: the kernel holds a bucket lock per
 * bucket of a batch, never the whole table, so the data plane waits at
 * most for one bucket. */
#define CT_BATCH 1024

static const struct {
	const char *field;
	unsigned id;
	unsigned def;
} ct_timeouts[] = {
	{"timeout_tcp_syn_sent", NFCT_T_SYN_SENT, NFCT_TO_SYN_SENT},
	{"timeout_tcp_syn_recv", NFCT_T_SYN_RECV, NFCT_TO_SYN_RECV},
	{"timeout_tcp_established", NFCT_T_ESTABLISHED, NFCT_TO_ESTABLISHED},
	{"timeout_tcp_fin_wait", NFCT_T_FIN_WAIT, NFCT_TO_FIN_WAIT},
	{"timeout_tcp_time_wait", NFCT_T_TIME_WAIT, NFCT_TO_TIME_WAIT},
	{"timeout_tcp_close", NFCT_T_CLOSE, NFCT_TO_CLOSE},
	{"timeout_udp", NFCT_T_UDP, NFCT_TO_UDP},
	{"timeout_udp_stream", NFCT_T_UDP_STREAM, NFCT_TO_UDP_STREAM},
	{"timeout_icmp", NFCT_T_ICMP, NFCT_TO_ICMP},
	{"timeout_generic", NFCT_T_GENERIC, NFCT_TO_GENERIC},
};
#define CT_NTIMEOUTS (sizeof(ct_timeouts) / sizeof(ct_timeouts[0]))

void nfct_cfg_default(struct nfct_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < CT_NTIMEOUTS; i++)
		cfg->timeout[ct_timeouts[i].id] = ct_timeouts[i].def;
	/* TCP states not given a field of their own (none today) and index
	 * 0 get the generic timeout rather than 0 ("expired at once"). */
	for (unsigned i = 0; i < NFCT_T_MAX; i++)
		if (!cfg->timeout[i])
			cfg->timeout[i] = NFCT_TO_GENERIC;
}

void nfct_cfg_from_json(json_t *config, struct nfct_cfg *cfg)
{
	json_t *v;

	nfct_cfg_default(cfg);
	for (size_t i = 0; i < CT_NTIMEOUTS; i++) {
		v = json_object_get(config, ct_timeouts[i].field);
		if (json_is_integer(v) && json_integer_value(v) > 0)
			cfg->timeout[ct_timeouts[i].id] = json_integer_value(v);
	}
	v = json_object_get(config, "tcp_loose");
	if (json_is_true(v))
		cfg->flags |= NFCT_CFG_TCP_LOOSE;
}

const char *nfct_state_name(uint8_t proto, uint8_t state)
{
	static const char *const tcp[] = {
		[NFCT_S_NONE] = "none",
		[NFCT_S_SYN_SENT] = "syn_sent",
		[NFCT_S_SYN_RECV] = "syn_recv",
		[NFCT_S_ESTABLISHED] = "established",
		[NFCT_S_FIN_WAIT] = "fin_wait",
		[NFCT_S_TIME_WAIT] = "time_wait",
		[NFCT_S_CLOSE] = "close",
	};

	if (proto == NFC_IPPROTO_TCP && state < sizeof(tcp) / sizeof(tcp[0]))
		return tcp[state];
	if (state == NFCT_S_UNREPLIED)
		return "unreplied";
	if (state == NFCT_S_REPLIED)
		return "replied";
	return "unknown";
}

static const char *ct_proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case NFC_IPPROTO_TCP:
		return "tcp";
	case NFC_IPPROTO_UDP:
		return "udp";
	case NFC_IPPROTO_ICMP:
		return "icmp";
	case NFC_IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

static void ct_addr_str(const __u32 a[4], uint8_t family, char *buf, size_t len)
{
	if (family == NFC_FAMILY_V4)
		inet_ntop(AF_INET, &a[3], buf, len);
	else
		inet_ntop(AF_INET6, a, buf, len);
}

/* The original direction's endpoints of an entry. */
static void ct_orig(const struct nfct_key *k, const struct nfct_entry *e,
		    const __u32 **src, const __u32 **dst, uint16_t *sport,
		    uint16_t *dport)
{
	int b = e && (e->flags & NFCT_F_ORIG_IS_B);

	*src = b ? k->b : k->a;
	*dst = b ? k->a : k->b;
	*sport = ntohs(b ? k->pb : k->pa);
	*dport = ntohs(b ? k->pa : k->pb);
}

void nfct_key_str(const struct nfct_key *k, const struct nfct_entry *e,
		  char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], p[8];
	const __u32 *src, *dst;
	uint16_t sp, dp;

	ct_orig(k, e, &src, &dst, &sp, &dp);
	ct_addr_str(src, k->family, s, sizeof(s));
	ct_addr_str(dst, k->family, d, sizeof(d));
	snprintf(buf, len, "%s,%s,%u,%s,%u", ct_proto_name(k->proto, p, 8), s,
		 sp, d, dp);
}

static int ct_parse_addr(const char *s, __u32 a[4], uint8_t *family)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		a[0] = a[1] = 0;
		a[2] = htonl(NFCT_V4MAPPED_W2);
		a[3] = v4.s_addr;
		*family = NFC_FAMILY_V4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*family = NFC_FAMILY_V6;
		return 0;
	}
	return -1;
}

static int ct_parse_num(const char *s, long max, long *v)
{
	char *end;

	if (!*s)
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	return errno || *end || *v < 0 || *v > max ? -1 : 0;
}

/* The same normalisation as nfct_key_of (bpf/ct.h): the lower endpoint
 * (address word by word in network order, then port) is a. */
static void ct_key_norm(struct nfct_key *k, const __u32 src[4],
			const __u32 dst[4], uint16_t sp, uint16_t dp)
{
	int swap = 0, i;

	for (i = 0; i < 4 && src[i] == dst[i]; i++)
		;
	if (i < 4)
		swap = ntohl(src[i]) > ntohl(dst[i]);
	else
		swap = sp > dp;
	memcpy(k->a, swap ? dst : src, 16);
	memcpy(k->b, swap ? src : dst, 16);
	k->pa = htons(swap ? dp : sp);
	k->pb = htons(swap ? sp : dp);
}

int nfct_key_parse(const char *s, struct nfct_key *k, char *err, size_t errlen)
{
	char buf[256], *f[6], *save = NULL;
	__u32 src[4], dst[4];
	uint8_t fs, fd;
	long proto, sp, dp;
	int n = 0;

	memset(k, 0, sizeof(*k));
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	for (char *t = strtok_r(buf, ",", &save); t && n < 6;
	     t = strtok_r(NULL, ",", &save))
		f[n++] = t;
	if (n != 5)
		goto bad;
	if (!strcmp(f[0], "tcp"))
		proto = NFC_IPPROTO_TCP;
	else if (!strcmp(f[0], "udp"))
		proto = NFC_IPPROTO_UDP;
	else if (!strcmp(f[0], "icmp"))
		proto = NFC_IPPROTO_ICMP;
	else if (!strcmp(f[0], "icmpv6"))
		proto = NFC_IPPROTO_ICMPV6;
	else if (ct_parse_num(f[0], 255, &proto)) {
		snprintf(err, errlen,
			 "conntrack key '%s': unknown protocol '%s'", s, f[0]);
		return -EINVAL;
	}
	if (ct_parse_addr(f[1], src, &fs) || ct_parse_addr(f[3], dst, &fd) ||
	    fs != fd) {
		snprintf(err, errlen,
			 "conntrack key '%s': addresses '%s' and '%s' are not "
			 "two IPv4 or two IPv6 addresses",
			 s, f[1], f[3]);
		return -EINVAL;
	}
	if (ct_parse_num(f[2], 65535, &sp) || ct_parse_num(f[4], 65535, &dp)) {
		snprintf(err, errlen,
			 "conntrack key '%s': ports '%s' and '%s' must be "
			 "0-65535",
			 s, f[2], f[4]);
		return -EINVAL;
	}
	ct_key_norm(k, src, dst, sp, dp);
	k->proto = proto;
	k->family = fs;
	return 0;
bad:
	snprintf(err, errlen,
		 "conntrack key '%s': want proto,src,sport,dst,dport "
		 "(tcp,198.51.100.1,40000,203.0.113.5,80)",
		 s);
	return -EINVAL;
}

int nfct_del_fd(int table_fd, const struct nfct_key *k)
{
	return bpf_map_delete_elem(table_fd, k) ? -errno : 0;
}

/* Calls fn on every entry, a batch at a time; fn sees a batch's keys and
 * values. 0 or -errno. */
typedef int (*ct_batch_fn)(const struct nfct_key *keys,
			   const struct nfct_entry *vals, uint32_t n,
			   void *arg);

static int ct_walk(int fd, ct_batch_fn fn, void *arg)
{
	struct nfct_key *keys = calloc(CT_BATCH, sizeof(*keys));
	struct nfct_entry *vals = calloc(CT_BATCH, sizeof(*vals));
	__u32 in = 0, out = 0;
	int first = 1, r = 0;

	if (!keys || !vals) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 n = CT_BATCH;
		int e = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys,
					     vals, &n, NULL);

		e = e ? -errno : 0;
		if (e && e != -ENOENT) {
			/* A bucket larger than a batch cannot happen with
			 * CT_BATCH entries: the kernel caps buckets far
			 * lower. Anything else is a real failure. */
			r = e;
			break;
		}
		if (n) {
			r = fn(keys, vals, n, arg);
			if (r)
				break;
		}
		if (e == -ENOENT)
			break;
		in = out;
		first = 0;
	}
out:
	free(keys);
	free(vals);
	return r;
}

static int ct_expired(const struct nfct_cfg *cfg, const struct nfct_key *k,
		      const struct nfct_entry *e, uint64_t now)
{
	uint64_t to =
		(uint64_t)cfg->timeout[nfct_timeout_index(k->proto, e->state)] *
		1000000000ULL;

	return now > e->last_ns && now - e->last_ns > to + NFCT_TS_STEP_NS;
}

static uint64_t ct_left_s(const struct nfct_cfg *cfg, const struct nfct_key *k,
			  const struct nfct_entry *e, uint64_t now)
{
	uint64_t to =
		(uint64_t)cfg->timeout[nfct_timeout_index(k->proto, e->state)] *
		1000000000ULL;
	uint64_t end = e->last_ns + to;

	return end > now ? (end - now + 999999999ULL) / 1000000000ULL : 0;
}

struct ct_list_arg {
	const struct nfct_cfg *cfg;
	uint64_t now;
	json_t *out;
	struct nfct_pending *pend;
};

static int ct_list_batch(const struct nfct_key *keys,
			 const struct nfct_entry *vals, uint32_t n, void *arg)
{
	struct ct_list_arg *a = arg;

	for (uint32_t i = 0; i < n; i++) {
		const struct nfct_key *k = &keys[i];
		const struct nfct_pend *pd;
		struct nfct_entry e = vals[i];
		char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], p[8], key[160];
		const __u32 *src, *dst;
		uint16_t sp, dp;

		if (ct_expired(a->cfg, k, &e, a->now))
			continue; /* gone for the data plane already */
		pd = a->pend ? nfct_pending_find(a->pend, k) : NULL;
		for (int dir = 0; pd && dir < 2; dir++) {
			e.packets[dir] += pd->packets[dir];
			e.bytes[dir] += pd->bytes[dir];
		}
		ct_orig(k, &e, &src, &dst, &sp, &dp);
		ct_addr_str(src, k->family, s, sizeof(s));
		ct_addr_str(dst, k->family, d, sizeof(d));
		nfct_key_str(k, &e, key, sizeof(key));
		json_array_append_new(
			a->out,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, "
				  "s:I, s:I, s:I, s:I, s:I, s:b}",
				  "key", key, "proto",
				  ct_proto_name(k->proto, p, sizeof(p)),
				  "family",
				  k->family == NFC_FAMILY_V4 ? "ipv4" : "ipv6",
				  "src", s, "dst", d, "sport", sp, "dport", dp,
				  "state", nfct_state_name(k->proto, e.state),
				  "timeout",
				  (json_int_t)ct_left_s(a->cfg, k, &e, a->now),
				  "packets_orig", (json_int_t)e.packets[0],
				  "bytes_orig", (json_int_t)e.bytes[0],
				  "packets_reply", (json_int_t)e.packets[1],
				  "bytes_reply", (json_int_t)e.bytes[1],
				  "assured", nfct_entry_assured(k, &e)));
	}
	return 0;
}

int nfct_list_pend_fd(int table_fd, const struct nfct_cfg *cfg, uint64_t now_ns,
		      struct nfct_pending *pend, json_t *out)
{
	struct ct_list_arg a = {cfg, now_ns, out, pend};

	return ct_walk(table_fd, ct_list_batch, &a);
}

int nfct_list_fd(int table_fd, const struct nfct_cfg *cfg, uint64_t now_ns,
		 json_t *out)
{
	return nfct_list_pend_fd(table_fd, cfg, now_ns, NULL, out);
}

/* ---- what the flow caches hold back ---- */

static int pend_cmp(const void *x, const void *y)
{
	return memcmp(&((const struct nfct_pend *)x)->k,
		      &((const struct nfct_pend *)y)->k,
		      sizeof(struct nfct_key));
}

int nfct_pending_add(struct nfct_pending *p, const struct nfct_key *k,
		     unsigned dir, uint64_t packets, uint64_t bytes)
{
	struct nfct_pend *e;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		void *v = realloc(p->v, cap * sizeof(*p->v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	/* One record a slot; the same entry's records are merged by the
	 * reader (nfct_pending_find sums the run of equal keys). */
	e = &p->v[p->n++];
	memset(e, 0, sizeof(*e));
	e->k = *k;
	e->packets[dir & 1] = packets;
	e->bytes[dir & 1] = bytes;
	p->sorted = 0;
	return 0;
}

const struct nfct_pend *nfct_pending_find(struct nfct_pending *p,
					  const struct nfct_key *k)
{
	struct nfct_pend want, *hit;
	size_t i, j;

	if (!p->n)
		return NULL;
	if (!p->sorted) {
		/* Sorted, then each run of one key folded into its first. */
		qsort(p->v, p->n, sizeof(*p->v), pend_cmp);
		for (i = 0, j = 0; i < p->n; i++) {
			if (j && !pend_cmp(&p->v[j - 1], &p->v[i])) {
				for (int d = 0; d < 2; d++) {
					p->v[j - 1].packets[d] +=
						p->v[i].packets[d];
					p->v[j - 1].bytes[d] +=
						p->v[i].bytes[d];
				}
				continue;
			}
			p->v[j++] = p->v[i];
		}
		p->n = j;
		p->sorted = 1;
	}
	memset(&want, 0, sizeof(want));
	want.k = *k;
	hit = bsearch(&want, p->v, p->n, sizeof(*p->v), pend_cmp);
	return hit;
}

void nfct_pending_free(struct nfct_pending *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* The same normalisation as nfct_key_of (bpf/ct.h), of a whole tuple. */
static void ct_key_of_tuple(const struct nfc_tuple *t, struct nfct_key *k)
{
	memset(k, 0, sizeof(*k));
	ct_key_norm(k, t->src, t->dst, ntohs(t->sport), ntohs(t->dport));
	k->proto = t->proto;
	k->family = t->family;
}

int nfct_pending_fc(int fc_fd, struct nfct_pending *p)
{
	unsigned ncpu = nfc_ncpus();
	/* Per-CPU values are laid out 8-byte aligned, one a CPU. */
	size_t sz = (sizeof(struct nfct_fc_part) + 7) & ~(size_t)7;
	char *buf = malloc(sz * ncpu);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (__u32 part = 0; part < NFCT_FC_PARTS && !r; part++) {
		if (bpf_map_lookup_elem(fc_fd, &part, buf)) {
			r = -errno;
			break;
		}
		for (unsigned c = 0; c < ncpu && !r; c++) {
			const struct nfct_fc_part *pt =
				(const void *)(buf + c * sz);

			for (int set = 0; set < NFCT_FC_SETS && !r; set++)
				for (int w = 0; w < NFCT_FC_WAYS && !r; w++) {
					const struct nfct_fc_slot *s =
						&pt->w[set][w];
					struct nfct_key k;

					/* As nfct_fc_flush gives them. */
					if (!s->valid || !s->packets)
						continue;
					ct_key_of_tuple(&s->t, &k);
					r = nfct_pending_add(p, &k, s->dir,
							     s->packets,
							     s->bytes);
				}
		}
	}
	free(buf);
	return r;
}

/* What a sweep collects: keys to expire, and eviction candidates (not
 * assured) with the time they were last used. */
struct ct_cand {
	struct nfct_key key;
	uint64_t last_ns;
};

struct ct_vec {
	struct ct_cand *v;
	size_t n, cap;
};

static int ct_vec_push(struct ct_vec *v, const struct nfct_key *k,
		       uint64_t last)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 256;
		struct ct_cand *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		v->v = n;
		v->cap = cap;
	}
	v->v[v->n].key = *k;
	v->v[v->n].last_ns = last;
	v->n++;
	return 0;
}

struct ct_sweep_arg {
	const struct nfct_cfg *cfg;
	uint64_t now;
	uint64_t live;
	struct ct_vec expired, cand;
};

static int ct_sweep_batch(const struct nfct_key *keys,
			  const struct nfct_entry *vals, uint32_t n, void *arg)
{
	struct ct_sweep_arg *a = arg;
	int r = 0;

	for (uint32_t i = 0; i < n && !r; i++) {
		if (ct_expired(a->cfg, &keys[i], &vals[i], a->now)) {
			r = ct_vec_push(&a->expired, &keys[i], vals[i].last_ns);
			continue;
		}
		a->live++;
		if (!nfct_entry_assured(&keys[i], &vals[i]))
			r = ct_vec_push(&a->cand, &keys[i], vals[i].last_ns);
	}
	return r;
}

static int ct_cand_cmp(const void *x, const void *y)
{
	const struct ct_cand *a = x, *b = y;

	return a->last_ns < b->last_ns ? -1 : a->last_ns > b->last_ns;
}

/* Deletes the candidates [0, n) that are still what the sweep saw: a
 * packet may have refreshed one (or made it established) since it was
 * read, and a connection in use must not go. Each is taken out and
 * checked in one step (one syscall); the rare one found refreshed is put
 * back at once, unless the data plane made a new entry meanwhile. Returns
 * how many went. */
static uint64_t ct_delete(int fd, struct ct_vec *v, size_t n,
			  const struct nfct_cfg *cfg, uint64_t now, int evict)
{
	uint64_t gone = 0;

	for (size_t i = 0; i < n; i++) {
		const struct nfct_key *k = &v->v[i].key;
		struct nfct_entry e;
		int still;

		if (bpf_map_lookup_and_delete_elem(fd, k, &e))
			continue; /* gone already */
		if (evict)
			still = e.last_ns == v->v[i].last_ns &&
				!nfct_entry_assured(k, &e);
		else
			still = ct_expired(cfg, k, &e, now);
		if (still)
			gone++;
		else
			bpf_map_update_elem(fd, k, &e, BPF_NOEXIST);
	}
	return gone;
}

int nfct_sweep_fd(int table_fd, int stats_fd, const struct nfct_cfg *cfg,
		  uint32_t size, uint64_t now_ns, struct nfct_sweep *out)
{
	struct ct_sweep_arg a = {.cfg = cfg, .now = now_ns};
	uint64_t high = (uint64_t)size * NFCT_EVICT_HIGH / 16;
	uint64_t low = (uint64_t)size * NFCT_EVICT_LOW / 16;
	int r;

	memset(out, 0, sizeof(*out));
	r = ct_walk(table_fd, ct_sweep_batch, &a);
	if (r)
		goto out;
	out->expired =
		ct_delete(table_fd, &a.expired, a.expired.n, cfg, now_ns, 0);
	if (a.live > high && a.cand.n) {
		size_t want = a.live - low;

		if (want > a.cand.n)
			want = a.cand.n;
		qsort(a.cand.v, a.cand.n, sizeof(*a.cand.v), ct_cand_cmp);
		out->evicted =
			ct_delete(table_fd, &a.cand, want, cfg, now_ns, 1);
	}
	out->entries = a.live - out->evicted;
	if (stats_fd >= 0) {
		const size_t vs = sizeof(__u64);

		if (out->expired)
			nfc_percpu_add(stats_fd, NFCT_ST_EXPIRED, vs, 0,
				       out->expired);
		if (out->evicted)
			nfc_percpu_add(stats_fd, NFCT_ST_EVICTED, vs, 0,
				       out->evicted);
	}
out:
	free(a.expired.v);
	free(a.cand.v);
	return r;
}

struct ct_slice_arg {
	const struct nfct_cfg *cfg;
	uint64_t now;
	struct ct_vec expired;
};

static int ct_slice_one(const void *k, const void *v, void *arg)
{
	const struct nfct_entry *e = v;
	struct ct_slice_arg *a = arg;

	if (!ct_expired(a->cfg, k, e, a->now))
		return 0;
	return ct_vec_push(&a->expired, k, e->last_ns) != 0;
}

int nfct_sweep_slice(int table_fd, int stats_fd, const struct nfct_cfg *cfg,
		     uint32_t size, uint64_t now_ns, struct nfc_walk *cur,
		     long max, struct nfct_sweep *out)
{
	struct ct_slice_arg a = {.cfg = cfg, .now = now_ns};
	long n = nfc_map_count(table_fd);
	long r;

	if (!cur || n < 0 || n <= max ||
	    (uint64_t)n > (uint64_t)size * NFCT_EVICT_HIGH / 16)
		return nfct_sweep_fd(table_fd, stats_fd, cfg, size, now_ns,
				     out);
	memset(out, 0, sizeof(*out));
	r = nfc_hash_walk(table_fd, sizeof(struct nfct_key),
			  sizeof(struct nfct_entry), cur, max, ct_slice_one,
			  &a);
	out->expired =
		ct_delete(table_fd, &a.expired, a.expired.n, cfg, now_ns, 0);
	out->entries = (uint64_t)n - out->expired;
	if (stats_fd >= 0 && out->expired)
		nfc_percpu_add(stats_fd, NFCT_ST_EXPIRED, sizeof(__u64), 0,
			       out->expired);
	free(a.expired.v);
	return r < 0 ? (int)r : 0;
}

static int ct_keys_batch(const struct nfct_key *keys,
			 const struct nfct_entry *vals, uint32_t n, void *arg)
{
	int r = 0;

	(void)vals;
	for (uint32_t i = 0; i < n && !r; i++)
		r = ct_vec_push(arg, &keys[i], 0);
	return r;
}

long nfct_flush_fd(int table_fd)
{
	struct ct_vec v = {0};
	struct nfct_key *keys = NULL;
	long n = 0;
	int r;

	/* The keys first, by a batch walk (deleting while walking by bucket
	 * token may skip entries), then deleted in batches: taking the
	 * first key again until none was left took 1.3 s for 60,000
	 * entries, each call scanning the buckets from the first. Entries
	 * the data plane makes meanwhile are new connections: kept. */
	r = ct_walk(table_fd, ct_keys_batch, &v);
	if (!r && !(keys = calloc(CT_BATCH, sizeof(*keys))))
		r = -ENOMEM;
	if (r) {
		free(v.v);
		return r;
	}
	for (size_t i = 0; i < v.n;) {
		__u32 cnt = v.n - i < CT_BATCH ? v.n - i : CT_BATCH;
		int e;

		for (__u32 j = 0; j < cnt; j++)
			keys[j] = v.v[i + j].key;
		e = bpf_map_delete_batch(table_fd, keys, &cnt, NULL);
		n += cnt;
		i += cnt;
		/* The key at i failed (gone already: the data plane deleted
		 * it, or it expired): go on after it. */
		if (e)
			i++;
	}
	free(keys);
	free(v.v);
	return n;
}

/* ---- nf level ----------------------------------------------------------- */

static int ct_fd(struct nfc_nf *nf, const char *map)
{
	int fd = nfc_nf_map_fd(nf, map);

	if (fd < 0)
		return nfc_nf_error(nf, ENOENT,
				    "no %s map (does its data plane "
				    "include bpf/ct.h?)",
				    map);
	return fd;
}

int nfct_validate(struct nfc_nf *nf, json_t *config)
{
	json_t *o = json_object_get(nfc_nf_config(nf), "conntrack_size");
	json_t *n = json_object_get(config, "conntrack_size");

	if (o && n && json_integer_value(o) != json_integer_value(n))
		return nfc_nf_error(
			nf, EINVAL,
			"conntrack_size is fixed when %s is created "
			"(it sizes a pinned map); delete and add it "
			"again to change it",
			nfc_nf_name(nf));
	return 0;
}

int nfct_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "ct_table");
	long long size = nfc_nf_config_uint(nf, "conntrack_size", 0);

	/* A reload keeps its pinned table whatever this says. */
	if (m && size > 0)
		return bpf_map__set_max_entries(m, size);
	return 0;
}

int nfct_configure(struct nfc_nf *nf)
{
	struct nfct_cfg cfg;
	__u32 zero = 0;
	int fd = ct_fd(nf, "ct_cfg");

	if (fd < 0)
		return fd;
	nfct_cfg_from_json(nfc_nf_config(nf), &cfg);
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		return nfc_nf_error(nf, errno, "write conntrack timeouts: %s",
				    strerror(errno));
	return 0;
}

static uint32_t ct_size(int fd)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

/* After entries were deleted: every CPU's flow cache (NFCT_FLOW_CACHE or
 * NFCT_FC_GEN, bpf/ct.h) forgets what it held, so that no cached flow
 * outlives its entry. Nothing to do for an NF without a cache. */
void nfct_fc_bump(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "ct_fc_gen");
	__u32 zero = 0;
	__u64 g = 0;

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &g))
		return;
	g++;
	bpf_map_update_elem(fd, &zero, &g, BPF_ANY);
}

void nfct_tick(struct nfc_nf *nf, uint64_t now_ns)
{
	int tfd = nfc_nf_map_fd(nf, "ct_table"),
	    cfd = nfc_nf_map_fd(nf, "ct_cfg");
	struct nfct_cfg cfg, cur;
	struct nfct_sweep sw;
	__u32 zero = 0;

	if (tfd < 0 || cfd < 0)
		return;
	nfct_cfg_from_json(nfc_nf_config(nf), &cfg);
	if (bpf_map_lookup_elem(cfd, &zero, &cur) ||
	    memcmp(&cur, &cfg, sizeof(cfg)))
		bpf_map_update_elem(cfd, &zero, &cfg, BPF_ANY);
	memset(&sw, 0, sizeof(sw));
	nfct_sweep_slice(tfd, nfc_nf_map_fd(nf, "ct_stats"), &cfg, ct_size(tfd),
			 now_ns, nfc_walk_cursor(tfd), NFCT_SWEEP_SLICE, &sw);
	if (sw.expired || sw.evicted)
		nfct_fc_bump(nf);
}

void nfct_stats(struct nfc_nf *nf, json_t *out)
{
	static const char *const names[NFCT_ST_MAX] = {
		[NFCT_ST_CREATED] = "conntrack_created",
		[NFCT_ST_REFUSED] = "conntrack_refused",
		[NFCT_ST_EVICTED] = "conntrack_evicted",
		[NFCT_ST_EXPIRED] = "conntrack_expired",
		[NFCT_ST_INVALID] = "conntrack_invalid",
		[NFCT_ST_RELATED] = "conntrack_related",
		[NFCT_ST_FRAG_MISS] = "conntrack_frag_miss",
	};
	int tfd = nfc_nf_map_fd(nf, "ct_table"),
	    sfd = nfc_nf_map_fd(nf, "ct_stats");
	uint64_t sums[NFCT_ST_MAX];

	if (tfd >= 0) {
		/* The kernel's own count: a walk of a full table (65,536
		 * records of ~100 bytes) took ~10 ms of every show and
		 * metrics scrape. */
		long c = nfc_map_count(tfd); /* a walk where it must */

		json_object_set_new(out, "conntrack_entries",
				    json_integer(c > 0 ? c : 0));
		json_object_set_new(out, "conntrack_size",
				    json_integer(ct_size(tfd)));
	}
	if (nfc_percpu_sums(sfd, 0, NFCT_ST_MAX, sizeof(__u64), sums))
		return;
	for (unsigned i = 0; i < NFCT_ST_MAX; i++)
		if (names[i])
			json_object_set_new(out, names[i],
					    json_integer(sums[i]));
}

int nfct_list(struct nfc_nf *nf, json_t *out)
{
	int tfd = ct_fd(nf, "ct_table");
	struct nfct_cfg cfg;
	int r;

	if (tfd < 0)
		return tfd;
	nfct_cfg_from_json(nfc_nf_config(nf), &cfg);
	if (nfc_nf_map_fd(nf, "ct_fc") >= 0) {
		struct nfct_pending pend = {0};

		r = nfct_pending_fc(nfc_nf_map_fd(nf, "ct_fc"), &pend);
		if (!r)
			r = nfct_list_pend_fd(tfd, &cfg, nfc_now_ns(), &pend,
					      out);
		nfct_pending_free(&pend);
	} else {
		r = nfct_list_fd(tfd, &cfg, nfc_now_ns(), out);
	}
	if (r)
		return nfc_nf_error(nf, -r, "read the conntrack table: %s",
				    strerror(-r));
	return 0;
}

static int ct_list_one(const void *k, const void *v, void *arg)
{
	return ct_list_batch(k, v, 1, arg);
}

int nfct_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
		   json_t *out)
{
	struct nfc_page_cur *c = (struct nfc_page_cur *)cur->b;
	int tfd = ct_fd(nf, "ct_table"), r = 0;
	struct nfct_pending pend = {0};
	struct nfct_cfg cfg;

	if (tfd < 0)
		return tfd;
	if (nfc_page_whole(cur, nfc_map_count(tfd))) {
		r = nfct_list(nf, out);
		return r ? r : (int)json_array_size(out);
	}
	if (c->phase != 1)
		return 0;
	nfct_cfg_from_json(nfc_nf_config(nf), &cfg);
	if (nfc_nf_map_fd(nf, "ct_fc") >= 0)
		r = nfct_pending_fc(nfc_nf_map_fd(nf, "ct_fc"), &pend);
	/* Entries expired but not swept yet are skipped: go on until the
	 * page holds one, since an empty page is the end. */
	while (!r && !json_array_size(out) && c->phase == 1) {
		struct ct_list_arg a = {&cfg, nfc_now_ns(), out,
					nfc_nf_map_fd(nf, "ct_fc") >= 0 ? &pend
									: NULL};
		long n = nfc_hash_walk(tfd, sizeof(struct nfct_key),
				       sizeof(struct nfct_entry), &c->w,
				       (long)max, ct_list_one, &a);

		if (n < 0)
			r = (int)n;
		else if (c->w.done)
			c->phase = NFC_PAGE_END;
	}
	nfct_pending_free(&pend);
	if (r)
		return nfc_nf_error(nf, -r, "read the conntrack table: %s",
				    strerror(-r));
	return (int)json_array_size(out);
}

int nfct_del(struct nfc_nf *nf, const char *key)
{
	int tfd = ct_fd(nf, "ct_table");
	struct nfct_key k;
	char err[256];
	int r;

	if (tfd < 0)
		return tfd;
	if (!strcmp(key, "all")) {
		long n = nfct_flush_fd(tfd);

		nfct_fc_bump(nf);
		return n < 0 ? nfc_nf_error(nf, -n, "flush conntrack: %s",
					    strerror(-n))
			     : 0;
	}
	r = nfct_key_parse(key, &k, err, sizeof(err));
	if (r)
		return nfc_nf_error(nf, -r, "%s", err);
	r = nfct_del_fd(tfd, &k);
	if (!r)
		nfct_fc_bump(nf);
	if (r)
		return nfc_nf_error(nf, -r, "conntrack entry %s: %s", key,
				    r == -ENOENT ? "no such connection"
						 : strerror(-r));
	return 0;
}

long nfct_flush(struct nfc_nf *nf)
{
	int tfd = ct_fd(nf, "ct_table");
	long n;

	if (tfd < 0)
		return tfd;
	n = nfct_flush_fd(tfd);
	nfct_fc_bump(nf);
	return n;
}
