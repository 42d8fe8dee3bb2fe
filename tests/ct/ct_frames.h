/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frames for connection-tracking tests: Ethernet (optionally VLAN-tagged)
 * IPv4 / IPv6 (with extension headers, fragments) and TCP, UDP, ICMP,
 * ICMPv6, and ICMP errors quoting another frame. Checksums are left zero:
 * the tracker does not read them. Any L3/L4 NF's tests may use it.
 */
#ifndef NFC_CT_FRAMES_H
#define NFC_CT_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

struct ctf {
	uint8_t b[512];
	uint32_t len;
	uint32_t l3; /* where the IP header starts */
};

/* An endpoint: address text (IPv4 or IPv6) and port (or echo id). */
struct ctf_ep {
	const char *addr;
	uint16_t port;
};

static inline void ctf_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void ctf_put32(uint8_t *p, uint32_t v)
{
	ctf_put16(p, v >> 16);
	ctf_put16(p + 2, v);
}

/* Ethernet with `tags` VLAN tags (802.1ad outer, 802.1Q inner). */
static inline void ctf_eth(struct ctf *f, int v6, int tags)
{
	static const uint8_t mac[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};

	memset(f, 0, sizeof(*f));
	memcpy(f->b, mac, 12);
	f->len = 12;
	for (int i = 0; i < tags; i++) {
		ctf_put16(f->b + f->len, i == 0 && tags == 2 ? 0x88a8 : 0x8100);
		ctf_put16(f->b + f->len + 2, 100 + i);
		f->len += 4;
	}
	ctf_put16(f->b + f->len, v6 ? 0x86dd : 0x0800);
	f->len += 2;
	f->l3 = f->len;
}

static inline int ctf_is_v6(const char *a)
{
	return strchr(a, ':') != NULL;
}

/* Appends an IPv4 header: `opt` bytes of options (a multiple of 4), a
 * fragment offset (in 8-byte units) and MF, id. The total length is
 * fixed by ctf_end. */
static inline void ctf_ip4(struct ctf *f, const char *src, const char *dst,
			   uint8_t proto, int opt, uint16_t frag_units, int mf,
			   uint16_t id)
{
	uint8_t *ip = f->b + f->len;

	ip[0] = 0x40 | (5 + opt / 4);
	ctf_put16(ip + 4, id);
	ctf_put16(ip + 6, (mf ? 0x2000 : 0) | frag_units);
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	for (int i = 0; i < opt; i++)
		ip[20 + i] = 1; /* NOP options */
	f->len += 20 + opt;
}

/* Appends an IPv6 header and the extension headers `ext` (0-terminated
 * list of next-header values: 0 hop-by-hop, 43 routing, 60 destination
 * options, 51 AH, 44 fragment, taking frag_units / mf / id), then `proto`. */
static inline void ctf_ip6(struct ctf *f, const char *src, const char *dst,
			   uint8_t proto, const uint8_t *ext, int n_ext,
			   uint16_t frag_units, int mf, uint32_t id)
{
	uint8_t *ip = f->b + f->len, *nh = ip + 6;

	ip[0] = 0x60;
	ip[7] = 64;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
	f->len += 40;
	for (int i = 0; i < n_ext; i++) {
		uint8_t *h = f->b + f->len;

		*nh = ext[i];
		nh = h;
		if (ext[i] == 44) {
			ctf_put16(h + 2, (frag_units << 3) | (mf ? 1 : 0));
			ctf_put32(h + 4, id);
			f->len += 8;
		} else if (ext[i] == 51) {
			h[1] = 2; /* (2 + 2) * 4 = 16 bytes */
			f->len += 16;
		} else {
			h[1] = 1; /* (1 + 1) * 8 = 16 bytes, PadN inside */
			h[2] = 1;
			h[3] = 12;
			f->len += 16;
		}
	}
	*nh = proto;
}

static inline void ctf_ip(struct ctf *f, const char *src, const char *dst,
			  uint8_t proto)
{
	if (ctf_is_v6(src))
		ctf_ip6(f, src, dst, proto, NULL, 0, 0, 0, 0);
	else
		ctf_ip4(f, src, dst, proto, 0, 0, 0, 0);
}

static inline void ctf_tcp(struct ctf *f, uint16_t sp, uint16_t dp,
			   uint8_t flags)
{
	uint8_t *t = f->b + f->len;

	ctf_put16(t, sp);
	ctf_put16(t + 2, dp);
	t[12] = 5 << 4;
	t[13] = flags;
	ctf_put16(t + 14, 65535);
	f->len += 20;
}

static inline void ctf_udp(struct ctf *f, uint16_t sp, uint16_t dp)
{
	uint8_t *u = f->b + f->len;

	ctf_put16(u, sp);
	ctf_put16(u + 2, dp);
	ctf_put16(u + 4, 8 + 16);
	f->len += 8 + 16; /* 16 bytes of payload */
}

static inline void ctf_icmp(struct ctf *f, uint8_t type, uint8_t code,
			    uint16_t id)
{
	uint8_t *i = f->b + f->len;

	i[0] = type;
	i[1] = code;
	ctf_put16(i + 4, id);
	ctf_put16(i + 6, 1);
	f->len += 8 + 8;
}

/* Sets the IP length fields from the frame's length. */
static inline void ctf_end(struct ctf *f)
{
	uint8_t *ip = f->b + f->l3;

	if ((ip[0] >> 4) == 4)
		ctf_put16(ip + 2, f->len - f->l3);
	else
		ctf_put16(ip + 4, f->len - f->l3 - 40);
	if (f->len < 60)
		f->len = 60; /* Ethernet's minimum; the padding is not IP */
}

enum { CTF_TCP = 6, CTF_UDP = 17, CTF_ICMP = 1, CTF_ICMP6 = 58 };

/* Whole frames, untagged. */
static inline struct ctf ctf_tcp_frame(struct ctf_ep s, struct ctf_ep d,
				       uint8_t flags)
{
	struct ctf f;

	ctf_eth(&f, ctf_is_v6(s.addr), 0);
	ctf_ip(&f, s.addr, d.addr, CTF_TCP);
	ctf_tcp(&f, s.port, d.port, flags);
	ctf_end(&f);
	return f;
}

static inline struct ctf ctf_udp_frame(struct ctf_ep s, struct ctf_ep d)
{
	struct ctf f;

	ctf_eth(&f, ctf_is_v6(s.addr), 0);
	ctf_ip(&f, s.addr, d.addr, CTF_UDP);
	ctf_udp(&f, s.port, d.port);
	ctf_end(&f);
	return f;
}

/* An ICMP or ICMPv6 message of `type` (echo: id), by the family of src. */
static inline struct ctf ctf_icmp_frame(const char *src, const char *dst,
					uint8_t type, uint8_t code, uint16_t id)
{
	struct ctf f;
	int v6 = ctf_is_v6(src);

	ctf_eth(&f, v6, 0);
	ctf_ip(&f, src, dst, v6 ? CTF_ICMP6 : CTF_ICMP);
	ctf_icmp(&f, type, code, id);
	ctf_end(&f);
	return f;
}

/* An ICMP error from `from` to `to` quoting `quoted` (its IP header on):
 * the first `qlen` bytes of it (0: all). */
static inline struct ctf ctf_icmp_err(const char *from, const char *to,
				      uint8_t type, uint8_t code,
				      const struct ctf *quoted, uint32_t qlen)
{
	struct ctf f;
	int v6 = ctf_is_v6(from);
	uint32_t n = quoted->len - quoted->l3;

	if (qlen && qlen < n)
		n = qlen;
	ctf_eth(&f, v6, 0);
	ctf_ip(&f, from, to, v6 ? CTF_ICMP6 : CTF_ICMP);
	f.b[f.len] = type;
	f.b[f.len + 1] = code;
	f.len += 8;
	memcpy(f.b + f.len, quoted->b + quoted->l3, n);
	f.len += n;
	ctf_end(&f);
	return f;
}

#endif
