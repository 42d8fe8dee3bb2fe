// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcap streams of capture NFs; see pcap.h. One tap per capture NF being
 * read (its ring buffer, watched in the daemon's epoll set), each with the
 * readers open on it; every record goes to every reader's queue.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "nfchain/nfchain.h"
#include "nfchain/nf.h"
#include "capture/capture.h"
#include "api.h"
#include "log.h"
#include "pcap.h"

/* Classic pcap with nanosecond timestamps (libpcap's
 * NSEC_TCPDUMP_MAGIC), Ethernet frames. Or, with format=pcapng, pcapng
 * (draft-ietf-opsawg-pcapng): classic pcap has no field for the NF port
 * and the direction a record carries; pcapng gives each of the NF's ports
 * an interface block named after its attachment ("veth1 ingress") and each
 * packet the direction in epb_flags, which tshark and Wireshark show
 * (frame.interface_name, frame.packet_flags_direction). */
#define PCAP_MAGIC_NS 0xa1b23c4du
#define LINKTYPE_ETHERNET 1
#define PCAP_BLOCK (64u << 10) /* what MHD asks of a stream at a time */
#define NG_SHB 0x0a0d0d0au
#define NG_IDB 1u
#define NG_EPB 6u
#define NG_BOM 0x1a2b3c4du
#define NG_OPT_END 0
#define NG_IF_NAME 2
#define NG_IF_DESCRIPTION 3
#define NG_IF_TSRESOL 9
#define NG_EPB_FLAGS 2
#define NG_FLAG_INBOUND 1u
#define NG_FLAG_OUTBOUND 2u
#define NG_PORTS 64 /* NFC_MAX_PORTS: in_port is below it */

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
};
struct pcap_rec_hdr {
	uint32_t sec, nsec, caplen, len;
};
struct ng_epb {
	uint32_t type, len, ifid, ts_hi, ts_lo, caplen, origlen;
};
struct ng_epb_tail {
	uint16_t code, optlen; /* epb_flags */
	uint32_t flags;
	uint32_t end; /* opt_endofopt */
	uint32_t len; /* the block's length again */
};

struct tap;

struct reader {
	struct reader *next;
	struct tap *tap;
	struct MHD_Connection *conn;
	struct MHD_Response *resp;
	char *q; /* pcap bytes not yet sent: q[off..len) */
	size_t off, len, cap;
	uint64_t packets, dropped, count, lost0;
	long long deadline_ms; /* 0: none */
	int fd;		       /* the client's socket, to see it close */
	bool suspended, done;
	bool ng;		/* pcapng, not pcap */
	int16_t ifid[NG_PORTS]; /* pcapng interface of an NF port; -1 none */
	uint32_t nif;
	uint32_t snaplen; /* the NF's when the stream opened: its headers' */
};

struct tap {
	struct tap *next;
	struct pcap *p;
	char name[32];
	__u32 ring_id;
	int ring_fd, ctl_fd, cnt_fd;
	struct ring_buffer *rb;
	struct reader *readers;
	unsigned nreaders;
	uint64_t dropped; /* not yet added to cap_ctl.reader_dropped */
	bool discard;	  /* draining records older than the first reader */
	uint32_t snaplen; /* the NF's, read at each open and once a second */
	char port_name[NG_PORTS][96]; /* "veth1 ingress"; "" unknown */
};

struct pcap {
	struct nfc *nfc;
	int ep;
	unsigned tag;
	struct tap *taps;
	int64_t tai_off; /* CLOCK_TAI - CLOCK_REALTIME, ns */
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static int64_t clock_ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* A daemon that died with streams open left their count in cap_ctl: the
 * data plane would copy into rings nobody reads. No stream survives a
 * restart, so every capture NF starts with none. */
static void readers_reset(struct nfc *nfc)
{
	json_t *all = nfc_show(nfc), *nfs = json_object_get(all, "nfs"), *n;
	size_t i;

	json_array_foreach (nfs, i, n) {
		const char *name =
			json_string_value(json_object_get(n, "name"));
		struct cap_ctl c = {0};
		__u32 k = 0;
		int fd;

		if (!name ||
		    strcmp(json_string_value(json_object_get(n, "type")) ?: "",
			   "capture"))
			continue;
		fd = nfc_nf_map_open(nfc, name, "capture", "cap_ctl");
		if (fd < 0)
			continue;
		if (!bpf_map_lookup_elem(fd, &k, &c) && c.readers) {
			c.readers = 0;
			bpf_map_update_elem(fd, &k, &c, 0);
		}
		close(fd);
	}
	json_decref(all);
}

struct pcap *pcap_start(struct nfc *nfc, int ep, unsigned tag)
{
	struct pcap *p = calloc(1, sizeof(*p));

	readers_reset(nfc);

	if (p) {
		p->nfc = nfc;
		p->ep = ep;
		p->tag = tag;
	}
	return p;
}

static int q_add3(struct reader *r, const void *a, size_t na, const void *b,
		  size_t nb, const void *c, size_t nc)
{
	if (r->len - r->off + na + nb + nc > PCAP_QUEUE_MAX)
		return -1;
	if (r->off && r->off >= r->len / 2) {
		memmove(r->q, r->q + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->len + na + nb + nc > r->cap) {
		size_t cap = r->cap ? r->cap : 65536;
		char *q;

		while (cap < r->len + na + nb + nc)
			cap *= 2;
		q = realloc(r->q, cap);
		if (!q)
			return -1;
		r->q = q;
		r->cap = cap;
	}
	memcpy(r->q + r->len, a, na);
	if (nb)
		memcpy(r->q + r->len + na, b, nb);
	if (nc)
		memcpy(r->q + r->len + na + nb, c, nc);
	r->len += na + nb + nc;
	return 0;
}

static int q_add(struct reader *r, const void *a, size_t na, const void *b,
		 size_t nb)
{
	return q_add3(r, a, na, b, nb, NULL, 0);
}

/* The names of the NF's ports from its attachments: port 2k is the
 * ingress side of an attachment, 2k+1 its egress side. */
static void tap_names(struct tap *t)
{
	json_t *nf = nfc_show_nf(t->p->nfc, t->name), *a;
	size_t i;

	memset(t->port_name, 0, sizeof(t->port_name));
	json_array_foreach (json_object_get(nf, "attachments"), i, a) {
		json_t *ports = json_object_get(a, "ports");
		const char *tg =
			json_string_value(json_object_get(a, "target"));
		static const char *const side[2] = {"ingress", "egress"};

		for (int d = 0; d < 2; d++) {
			json_int_t p = json_integer_value(
				json_object_get(ports, side[d]));

			if (tg &&
			    json_is_integer(json_object_get(ports, side[d])) &&
			    p >= 0 && p < NG_PORTS)
				snprintf(t->port_name[p],
					 sizeof(t->port_name[p]), "%s %s", tg,
					 side[d]);
		}
	}
	json_decref(nf);
}

/* A pcapng option: code, length, value padded to 4 bytes. */
static size_t ng_opt(char *b, uint16_t code, const void *v, uint16_t n)
{
	memcpy(b, &code, 2);
	memcpy(b + 2, &n, 2);
	memcpy(b + 4, v, n);
	memset(b + 4 + n, 0, (4 - n % 4) % 4);
	return 4 + n + (4 - n % 4) % 4;
}

/* The interface block for NF port `port`, the first time this reader
 * meets it: its id, or -1 if the queue is full. */
static int ng_ifid(struct reader *r, unsigned port)
{
	struct tap *t = r->tap;
	char b[512], name[96], desc[192];
	uint32_t len, end = 0, snap = r->snaplen;
	uint16_t lt = LINKTYPE_ETHERNET, rsv = 0;
	uint8_t tsresol = 9; /* 10^-9: nanoseconds */
	size_t n = 8;

	if (port >= NG_PORTS)
		port = NG_PORTS - 1;
	if (r->ifid[port] >= 0)
		return r->ifid[port];
	if (!t->port_name[port][0])
		tap_names(t);
	if (t->port_name[port][0])
		snprintf(name, sizeof(name), "%s", t->port_name[port]);
	else
		snprintf(name, sizeof(name), "port %u", port);
	snprintf(desc, sizeof(desc), "nfchain capture %s, port %u: %s", t->name,
		 port, name);
	memcpy(b + n, &lt, 2);
	memcpy(b + n + 2, &rsv, 2);
	memcpy(b + n + 4, &snap, 4);
	n += 8;
	n += ng_opt(b + n, NG_IF_NAME, name, strlen(name));
	n += ng_opt(b + n, NG_IF_DESCRIPTION, desc, strlen(desc));
	n += ng_opt(b + n, NG_IF_TSRESOL, &tsresol, 1);
	memcpy(b + n, &end, 4);
	n += 4;
	len = n + 4;
	memcpy(b, &(uint32_t){NG_IDB}, 4);
	memcpy(b + 4, &len, 4);
	if (q_add(r, b, n, &len, 4))
		return -1;
	r->ifid[port] = r->nif++;
	return r->ifid[port];
}

/* One record as a pcapng enhanced packet block. */
static int ng_add(struct reader *r, const struct cap_rec *rec, int64_t ts)
{
	static const char zero[4];
	size_t pad = (4 - rec->cap_len % 4) % 4;
	int id = ng_ifid(r, rec->in_port);
	struct ng_epb h = {NG_EPB, 0, 0, 0, 0, rec->cap_len, rec->wire_len};
	struct ng_epb_tail tl = {NG_EPB_FLAGS, 4,
				 rec->dir ? NG_FLAG_OUTBOUND : NG_FLAG_INBOUND,
				 NG_OPT_END, 0};

	if (id < 0)
		return -1;
	h.len = tl.len = sizeof(h) + rec->cap_len + pad + sizeof(tl);
	h.ifid = id;
	h.ts_hi = (uint64_t)ts >> 32;
	h.ts_lo = (uint32_t)ts;
	/* the data's padding is the tail's first bytes: put it in front */
	{
		char tail[sizeof(tl) + 4];

		memcpy(tail, zero, pad);
		memcpy(tail + pad, &tl, sizeof(tl));
		return q_add3(r, &h, sizeof(h), rec + 1, rec->cap_len, tail,
			      pad + sizeof(tl));
	}
}

static uint64_t tap_lost(struct tap *t)
{
	return nfc_percpu_sum(t->cnt_fd, 0, sizeof(struct cap_cnt),
			      offsetof(struct cap_cnt, lost));
}

/* cap_ctl as the data plane and the stats need it: how many read, and the
 * records slow readers missed. */
static void tap_ctl_write(struct tap *t)
{
	struct cap_ctl c = {0};
	__u32 k = 0;

	bpf_map_lookup_elem(t->ctl_fd, &k, &c);
	c.readers = t->nreaders;
	c.reader_dropped += t->dropped;
	t->dropped = 0;
	if (bpf_map_update_elem(t->ctl_fd, &k, &c, 0))
		nfd_log("warn", "pcap", "nf=%s error=%s", nfd_q(t->name),
			nfd_q(strerror(errno)));
}

/* The NF's snaplen now (it changes without a reload). */
static uint32_t tap_snaplen(struct tap *t)
{
	json_t *nf = nfc_export_nf(t->p->nfc, t->name);
	json_t *v = json_object_get(json_object_get(nf, "config"), "snaplen");
	uint32_t n = json_is_integer(v) ? (uint32_t)json_integer_value(v)
		     : t->snaplen	? t->snaplen
					: CAP_SNAP_MAX;

	json_decref(nf);
	return n;
}

/*
 * The record of a frame whose VLAN tag the kernel held apart (TC) with the
 * tag put back at byte 12, as tcpdump's packet socket puts it back from its
 * auxiliary data: the dump is the frame as it was on the wire, within the
 * snaplen. The copy is static: records are handled one at a time.
 *
 * The snaplen is the one the data plane cut with: a frame it cut was cut
 * at exactly cap_len, so the tagged one is too; a whole one is cut at the
 * NF's snaplen as last read (t->snaplen). A snaplen shared by the NF's
 * streams and set at each open cut one stream's tagged frames at another
 * one's, long gone (found by a helper).
 */
static const struct cap_rec *with_tag(const struct cap_rec *rec,
				      unsigned snaplen)
{
	static struct {
		struct cap_rec h;
		__u8 d[CAP_SNAP_MAX + 4];
	} b;
	const __u8 *d = (const __u8 *)(rec + 1);
	__be16 tci = htons(rec->vlan_tci);
	size_t n = rec->cap_len;

	b.h = *rec;
	b.h.wire_len += 4;
	if (n < 12) { /* cut before the tag's place */
		memcpy(b.d, d, n);
		return &b.h;
	}
	memcpy(b.d, d, 12);
	memcpy(b.d + 12, &rec->vlan_tpid, 2);
	memcpy(b.d + 14, &tci, 2);
	memcpy(b.d + 16, d + 12, n - 12);
	if (n < rec->wire_len)
		snaplen = n;
	b.h.cap_len = n + 4 < snaplen ? n + 4 : snaplen;
	return &b.h;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct tap *t = ctx;
	const struct cap_rec *rec = data;
	struct pcap_rec_hdr h;
	int64_t ts;

	if (t->discard || size < sizeof(*rec) ||
	    rec->cap_len > size - sizeof(*rec))
		return 0;
	if (rec->vlan)
		rec = with_tag(rec, t->snaplen);
	ts = (int64_t)rec->ts_ns - t->p->tai_off;
	h.sec = ts / 1000000000;
	h.nsec = ts % 1000000000;
	h.caplen = rec->cap_len;
	h.len = rec->wire_len;
	for (struct reader *r = t->readers; r; r = r->next) {
		if (r->done)
			continue;
		if (r->ng ? ng_add(r, rec, ts)
			  : q_add(r, &h, sizeof(h), rec + 1, rec->cap_len)) {
			r->dropped++;
			t->dropped++;
			continue;
		}
		if (++r->packets == r->count)
			r->done = true;
	}
	return 0;
}

static void wake(struct reader *r)
{
	if (r->suspended && (r->done || r->len > r->off)) {
		r->suspended = false;
		MHD_resume_connection(r->conn);
	}
}

void pcap_poll(struct pcap *p)
{
	p->tai_off = clock_ns(CLOCK_TAI) - clock_ns(CLOCK_REALTIME);
	for (struct tap *t = p->taps; t; t = t->next) {
		ring_buffer__consume(t->rb);
		if (t->dropped)
			tap_ctl_write(t);
		for (struct reader *r = t->readers; r; r = r->next)
			wake(r);
	}
}

/* A suspended stream's client may have gone: MHD does not look while it
 * is suspended. */
static bool peer_closed(struct reader *r)
{
	char c;

	return r->fd >= 0 && recv(r->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* The NF was deleted (or deleted and added again: a new ring, which
 * this stream never reads). */
static bool tap_gone(struct tap *t)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	int fd = nfc_nf_map_open(t->p->nfc, t->name, "capture", "cap_ring");
	bool gone = fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    info.id != t->ring_id;

	if (fd >= 0)
		close(fd);
	return gone;
}

void pcap_tick(struct pcap *p, int peers)
{
	long long now = now_ms();

	for (struct tap *t = p->taps; t; t = t->next) {
		/* Once a second: its streams end with their trailers, as
		 * tcpdump's does when its interface goes, instead of
		 * waiting for packets that cannot come. */
		bool gone = peers && t->readers && tap_gone(t);

		if (peers && t->readers && !gone)
			t->snaplen = tap_snaplen(t);

		for (struct reader *r = t->readers; r; r = r->next) {
			if (r->deadline_ms && now >= r->deadline_ms)
				r->done = true;
			if (peers && r->suspended && peer_closed(r))
				r->done = true;
			if (gone)
				r->done = true;
			wake(r);
		}
	}
}

int pcap_timeout_ms(struct pcap *p)
{
	long long now = now_ms(), best = -1;

	for (struct tap *t = p ? p->taps : NULL; t; t = t->next)
		for (struct reader *r = t->readers; r; r = r->next)
			if (r->deadline_ms && !r->done) {
				long long d = r->deadline_ms - now;

				d = d < 0 ? 0 : d;
				if (best < 0 || d < best)
					best = d;
			}
	return best > 60000 ? 60000 : (int)best;
}

static void footer(struct reader *r, const char *k, uint64_t v)
{
	char s[32];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	MHD_add_response_footer(r->resp, k, s);
}

static ssize_t reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct reader *r = cls;
	size_t n = r->len - r->off;

	(void)pos;
	if (n) {
		n = n < max ? n : max;
		memcpy(buf, r->q + r->off, n);
		r->off += n;
		return n;
	}
	if (r->done) {
		uint64_t lost = tap_lost(r->tap) - r->lost0;

		footer(r, "X-Pcap-Packets", r->packets);
		footer(r, "X-Pcap-Lost", lost);
		footer(r, "X-Pcap-Dropped", r->dropped);
		nfd_log("info", "pcap",
			"nf=%s packets=%llu lost=%llu dropped=%llu",
			nfd_q(r->tap->name), (unsigned long long)r->packets,
			(unsigned long long)lost,
			(unsigned long long)r->dropped);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	r->suspended = true;
	MHD_suspend_connection(r->conn);
	return 0;
}

static void tap_free(struct tap *t)
{
	struct tap **pp = &t->p->taps;

	while (*pp && *pp != t)
		pp = &(*pp)->next;
	if (*pp)
		*pp = t->next;
	if (t->rb) {
		epoll_ctl(t->p->ep, EPOLL_CTL_DEL, ring_buffer__epoll_fd(t->rb),
			  NULL);
		ring_buffer__free(t->rb);
	}
	if (t->ring_fd >= 0)
		close(t->ring_fd);
	if (t->cnt_fd >= 0)
		close(t->cnt_fd);
	if (t->ctl_fd >= 0)
		close(t->ctl_fd);
	free(t);
}

/* MHD is done with the stream (sent, or the client went away). */
static void reader_free(void *cls)
{
	struct reader *r = cls, **pp = &r->tap->readers;
	struct tap *t = r->tap;

	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;
	t->nreaders--;
	tap_ctl_write(t);
	if (!t->nreaders)
		tap_free(t);
	free(r->q);
	free(r);
}

static struct tap *tap_get(struct pcap *p, const char *name, char *err,
			   size_t errlen, int *status)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = p->tag};
	struct tap *t;
	int fd = nfc_nf_map_open(p->nfc, name, "capture", "cap_ring");

	if (fd < 0) {
		*status = fd == -ENOENT ? 404 : fd == -EINVAL ? 400 : 500;
		snprintf(err, errlen, "%s%s", nfc_errmsg(p->nfc),
			 fd == -EINVAL ? ": only a capture NF has a pcap "
					 "stream"
				       : "");
		return NULL;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(err, errlen, "NF %s: cap_ring: %s", name,
			 strerror(errno));
		close(fd);
		*status = 500;
		return NULL;
	}
	/* By the ring's id, not the name: a deleted and added NF has a new
	 * ring. */
	for (t = p->taps; t; t = t->next)
		if (t->ring_id == info.id) {
			close(fd);
			return t;
		}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		*status = 500;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->p = p;
	t->ring_fd = fd;
	t->ring_id = info.id;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->ctl_fd = nfc_nf_map_open(p->nfc, name, "capture", "cap_ctl");
	t->cnt_fd = nfc_nf_map_open(p->nfc, name, "capture", "cap_cnt");
	t->next = p->taps;
	p->taps = t;
	if (t->ctl_fd < 0 || t->cnt_fd < 0 ||
	    !(t->rb = ring_buffer__new(fd, on_record, t, NULL)) ||
	    epoll_ctl(p->ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(t->rb),
		      &ev)) {
		snprintf(err, errlen, "NF %s: reading its ring buffer: %s",
			 name, strerror(errno));
		*status = 500;
		tap_free(t);
		return NULL;
	}
	/* What a reader of before left in the ring is not this one's. */
	t->discard = true;
	ring_buffer__consume(t->rb);
	t->discard = false;
	return t;
}

/* A query argument as a positive integer: 0 if absent, -1 if bad. */
static long long qnum(json_t *query, const char *k, long long max)
{
	const char *s = json_string_value(json_object_get(query, k));
	char *end;
	long long v;

	if (!s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < 1 || v > max)
		return -1;
	return v;
}

int pcap_open(struct pcap *p, struct MHD_Connection *conn, const char *name,
	      json_t *query, struct MHD_Response **resp, char *err,
	      size_t errlen)
{
	struct pcap_file_hdr fh = {PCAP_MAGIC_NS,    2, 4, 0, 0, CAP_SNAP_MAX,
				   LINKTYPE_ETHERNET};
	const union MHD_ConnectionInfo *ci;
	long long count = qnum(query, "count", 1LL << 62),
		  secs = qnum(query, "seconds", 1 << 30);
	const char *k;
	struct reader *r;
	struct tap *t;
	json_t *v;
	int status = 500;

	const char *fmt =
		json_string_value(json_object_get(query, "format")) ?: "pcap";
	struct {
		uint32_t type, len, bom;
		uint16_t major, minor;
		int64_t section;
		uint32_t len2;
	} __attribute__((packed)) shb = {NG_SHB, 28, NG_BOM, 1, 0, -1, 28};
	bool ng;

	if ((v = json_object_get(query, HTTP_QUERY_TWICE))) {
		snprintf(err, errlen, "query argument %s is given twice",
			 json_string_value(v));
		return 400;
	}
	json_object_foreach (query, k, v)
		if (strcmp(k, "count") && strcmp(k, "seconds") &&
		    strcmp(k, "format")) {
			snprintf(err, errlen,
				 "unknown query argument %s (count=N, "
				 "seconds=S, format=pcap|pcapng)",
				 k);
			return 400;
		}
	if (strcmp(fmt, "pcap") && strcmp(fmt, "pcapng")) {
		snprintf(err, errlen, "format=%s: expected pcap or pcapng",
			 fmt);
		return 400;
	}
	ng = !strcmp(fmt, "pcapng");
	/* The bound named too: seconds=99999999999 is a whole number
	 * (found by a helper). */
	if (count < 0 || secs < 0) {
		snprintf(err, errlen,
			 "%s must be a whole number from 1 to %lld",
			 count < 0 ? "count" : "seconds",
			 count < 0 ? 1LL << 62 : 1LL << 30);
		return 400;
	}
	t = tap_get(p, name, err, errlen, &status);
	if (!t)
		return status;
	fh.snaplen = t->snaplen = tap_snaplen(t);
	/* Attachments may have changed since the tap was opened. */
	if (ng)
		tap_names(t);
	r = calloc(1, sizeof(*r));
	if (r) {
		r->ng = ng;
		r->snaplen = fh.snaplen;
		memset(r->ifid, -1, sizeof(r->ifid));
	}
	if (!r || (ng ? q_add(r, &shb, sizeof(shb), NULL, 0)
		      : q_add(r, &fh, sizeof(fh), NULL, 0))) {
		free(r);
		if (!t->nreaders)
			tap_free(t);
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	r->tap = t;
	r->conn = conn;
	r->count = count;
	r->deadline_ms = secs ? now_ms() + secs * 1000 : 0;
	r->lost0 = tap_lost(t);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	r->fd = ci ? ci->connect_fd : -1;
	r->resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, PCAP_BLOCK, reader_cb, r, reader_free);
	if (!r->resp) {
		free(r->q);
		free(r);
		if (!t->nreaders)
			tap_free(t);
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	MHD_add_response_header(r->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				ng ? "application/x-pcapng"
				   : "application/vnd.tcpdump.pcap");
	MHD_add_response_header(r->resp, "Trailer",
				"X-Pcap-Packets, X-Pcap-Lost, X-Pcap-Dropped");
	r->next = t->readers;
	t->readers = r;
	t->nreaders++;
	tap_ctl_write(t);
	*resp = r->resp;
	return 200;
}

void pcap_stop(struct pcap *p)
{
	if (!p)
		return;
	for (struct tap *t = p->taps; t; t = t->next)
		for (struct reader *r = t->readers; r; r = r->next) {
			r->done = true;
			wake(r);
		}
	/* The taps go with their last reader, when MHD stops. */
}

void pcap_free(struct pcap *p)
{
	while (p && p->taps)
		tap_free(p->taps);
	free(p);
}

const char *pcap_route(const char *url, char *buf, size_t len)
{
	const char *s, *e;

	if (strncmp(url, "/v1/nfs/", 8))
		return NULL;
	s = url + 8;
	e = strchr(s, '/');
	if (!e || e == s || strcmp(e, "/pcap") || (size_t)(e - s) >= len)
		return NULL;
	memcpy(buf, s, e - s);
	buf[e - s] = 0;
	MHD_http_unescape(buf);
	return buf;
}
