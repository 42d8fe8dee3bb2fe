// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Connection tracking (bpf/flow.h, bpf/ct.h, lib/conntrack.c) on crafted
 * frames, run with BPF_PROG_TEST_RUN through tests/ct/ct_test.bpf.c, which
 * does what a stateful NF does (parse, look up, confirm what it accepts)
 * and reports each result. Cases: the parser (VLAN tags, IPv4 options,
 * IPv6 extension headers, fragments, malformed frames), a TCP handshake
 * both ways and its close, UDP and ICMP echo pseudo-connections, ICMP
 * errors related or not, IPv6, fragments, timeouts in the data plane and
 * expiry by the control plane, a full table (refusal and eviction
 * counted, established entries kept, least recently used evicted first),
 * show / delete / flush.
 *
 * `--bench` prints the cost figure of docs/conntrack.md instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conntrack.h"
#include "ct_test.h"
#include "ct_frames.h"
#include "ct_test.skel.h"
#include "test.h"

#define XDP_DROP_ 1
#define XDP_PASS_ 2

struct ctt {
	struct ct_test *sk;
	int prog, res, ctl, tbl, cfg, stats;
};

static struct ctt T;

static int ctt_open(struct ctt *t, uint32_t size)
{
	memset(t, 0, sizeof(*t));
	t->sk = ct_test__open();
	if (!t->sk)
		return -errno;
	if (size)
		bpf_map__set_max_entries(t->sk->maps.ct_table, size);
	if (ct_test__load(t->sk)) {
		ct_test__destroy(t->sk);
		t->sk = NULL;
		return -errno;
	}
	t->prog = bpf_program__fd(t->sk->progs.ct_test);
	t->res = bpf_map__fd(t->sk->maps.ct_test_res);
	t->ctl = bpf_map__fd(t->sk->maps.ct_test_ctl);
	t->tbl = bpf_map__fd(t->sk->maps.ct_table);
	t->cfg = bpf_map__fd(t->sk->maps.ct_cfg);
	t->stats = bpf_map__fd(t->sk->maps.ct_stats);
	return 0;
}

static void set_cfg(struct ctt *t, const struct nfct_cfg *c)
{
	__u32 zero = 0;

	bpf_map_update_elem(t->cfg, &zero, c, BPF_ANY);
}

/* Runs one frame; `accept`: confirm it if NEW. Returns the result. */
static struct ct_test_res run_on(struct ctt *t, const struct ctf *f, int accept)
{
	struct ct_test_ctl ctl = {.accept = accept};
	struct ct_test_res r;
	__u8 out[512];
	__u32 zero = 0;

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = f->len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	memset(&r, 0, sizeof(r));
	bpf_map_update_elem(t->ctl, &zero, &ctl, BPF_ANY);
	if (bpf_prog_test_run_opts(t->prog, &o)) {
		r.parse = -errno;
		return r;
	}
	bpf_map_lookup_elem(t->res, &zero, &r);
	return r;
}

static struct ct_test_res run(const struct ctf *f, int accept)
{
	return run_on(&T, f, accept);
}

static uint64_t stat(struct ctt *t, unsigned id)
{
	return nfc_percpu_sum(t->stats, id, sizeof(__u64), 0);
}

static long entries(struct ctt *t)
{
	struct nfct_key k, n;
	long c = 0;
	int first = 1;

	while (!bpf_map_get_next_key(t->tbl, first ? NULL : &k, &n)) {
		k = n;
		first = 0;
		c++;
	}
	return c;
}

static int entry_of(struct ctt *t, const struct nfct_key *k,
		    struct nfct_entry *e)
{
	return bpf_map_lookup_elem(t->tbl, k, e) ? -errno : 0;
}

static const char *sname(int s)
{
	switch (s) {
	case NFCT_NEW:
		return "new";
	case NFCT_ESTABLISHED:
		return "established";
	case NFCT_RELATED:
		return "related";
	case NFCT_INVALID:
		return "invalid";
	case NFCT_UNTRACKED:
		return "untracked";
	}
	return "?";
}

#define EXPECT(r, st, what)                                            \
	CHECK((r).parse == NFC_FLOW_OK && (r).state == (st),           \
	      "%s: %s (got parse %d, %s)", what, sname(st), (r).parse, \
	      sname((r).state))

static const struct ctf_ep A = {"198.51.100.10", 40000},
			   B = {"203.0.113.20", 80};
static const struct ctf_ep A6 = {"2001:db8:1::10", 40001},
			   B6 = {"2001:db8:2::20", 443};

/* ---- the parser ---------------------------------------------------------- */

static void test_parse(void)
{
	struct ctf f;
	struct ct_test_res r;
	static const uint8_t ext3[] = {0, 60, 43};
	static const uint8_t ext_ah[] = {51};
	uint8_t ext9[9];

	/* QinQ */
	ctf_eth(&f, 0, 2);
	ctf_ip(&f, A.addr, B.addr, CTF_TCP);
	ctf_tcp(&f, A.port, B.port, NFC_TCP_SYN);
	ctf_end(&f);
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_OK && r.fl.vlans == 2 && r.fl.l3_off == 22 &&
		      r.fl.vlan[0] == 100 && r.fl.vlan[1] == 101 &&
		      ntohs(r.fl.t.sport) == A.port &&
		      ntohs(r.fl.t.dport) == B.port &&
		      (r.fl.flags & NFC_FLOW_F_PORTS) &&
		      r.fl.tcp_flags == NFC_TCP_SYN,
	      "parse: two VLAN tags, then TCP ports and flags");
	CHECK(r.fl.t.family == NFC_FAMILY_V4 && r.fl.t.src[0] == 0 &&
		      r.fl.t.src[2] == htonl(0xffff) &&
		      r.fl.t.src[3] == inet_addr(A.addr),
	      "parse: IPv4 addresses held IPv4-mapped");

	/* IPv4 options */
	ctf_eth(&f, 0, 0);
	ctf_ip4(&f, A.addr, B.addr, CTF_UDP, 8, 0, 0, 0);
	ctf_udp(&f, 5353, 53);
	ctf_end(&f);
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_OK && r.fl.l4_off == 14 + 28 &&
		      ntohs(r.fl.t.dport) == 53 &&
		      (r.fl.flags & NFC_FLOW_F_IP_OPTS),
	      "parse: IPv4 with 8 bytes of options, ports after them");

	/* IPv6 hop-by-hop, destination options, routing */
	ctf_eth(&f, 1, 0);
	ctf_ip6(&f, A6.addr, B6.addr, CTF_TCP, ext3, 3, 0, 0, 0);
	ctf_tcp(&f, A6.port, B6.port, NFC_TCP_SYN);
	ctf_end(&f);
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_OK && r.fl.t.proto == CTF_TCP &&
		      r.fl.l4_off == 14 + 40 + 48 &&
		      ntohs(r.fl.t.dport) == B6.port &&
		      (r.fl.flags & NFC_FLOW_F_IP_OPTS),
	      "parse: IPv6 hop-by-hop, dest-opts, routing walked to TCP");

	ctf_eth(&f, 1, 0);
	ctf_ip6(&f, A6.addr, B6.addr, CTF_UDP, ext_ah, 1, 0, 0, 0);
	ctf_udp(&f, 500, 4500);
	ctf_end(&f);
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_OK && r.fl.t.proto == CTF_UDP &&
		      r.fl.l4_off == 14 + 40 + 16 &&
		      ntohs(r.fl.t.dport) == 4500,
	      "parse: IPv6 AH (4-byte units) walked to UDP");

	memset(ext9, 60, sizeof(ext9));
	ctf_eth(&f, 1, 0);
	ctf_ip6(&f, A6.addr, B6.addr, CTF_TCP, ext9, 9, 0, 0, 0);
	ctf_tcp(&f, A6.port, B6.port, NFC_TCP_SYN);
	ctf_end(&f);
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_MALFORMED,
	      "parse: 9 extension headers (bound 8) is malformed, got %d",
	      r.parse);

	/* cut short */
	f = ctf_tcp_frame(A, B, NFC_TCP_SYN);
	f.len = 14 + 20 + 10;
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_MALFORMED,
	      "parse: TCP header cut short is malformed, got %d", r.parse);
	f = ctf_tcp_frame(A, B, NFC_TCP_SYN);
	f.b[14] = 0x44; /* IHL 4 */
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_MALFORMED, "parse: IHL < 5 is malformed");

	/* not IP */
	memset(&f, 0, sizeof(f));
	f.b[12] = 0x08;
	f.b[13] = 0x06;
	f.len = 60;
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_NOT_IP && r.fl.l3_proto == 0x0806,
	      "parse: ARP is not IP");

	/* fragments */
	ctf_eth(&f, 0, 0);
	ctf_ip4(&f, A.addr, B.addr, CTF_UDP, 0, 0, 1, 777);
	ctf_udp(&f, 1111, 2222);
	ctf_end(&f);
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_OK && r.fl.frag == NFC_FRAG_FIRST &&
		      r.fl.frag_id == 777 && (r.fl.flags & NFC_FLOW_F_PORTS) &&
		      ntohs(r.fl.t.dport) == 2222,
	      "parse: IPv4 first fragment has its ports");
	ctf_eth(&f, 0, 0);
	ctf_ip4(&f, A.addr, B.addr, CTF_UDP, 0, 3, 0, 778);
	ctf_udp(&f, 1111, 2222); /* payload bytes that look like ports */
	ctf_end(&f);
	r = run(&f, 0);
	CHECK(r.parse == NFC_FLOW_OK && r.fl.frag == NFC_FRAG_LATER &&
		      !(r.fl.flags & NFC_FLOW_F_PORTS) && r.fl.l4_off == 0 &&
		      r.fl.t.dport == 0,
	      "parse: IPv4 later fragment has no ports (not its payload's)");
}

/* ---- TCP ------------------------------------------------------------------
 */

static void test_tcp(void)
{
	struct ctf syn = ctf_tcp_frame(A, B, NFC_TCP_SYN),
		   synack = ctf_tcp_frame(B, A, NFC_TCP_SYN | NFC_TCP_ACK),
		   ack = ctf_tcp_frame(A, B, NFC_TCP_ACK),
		   data_r = ctf_tcp_frame(B, A, NFC_TCP_ACK | NFC_TCP_PSH),
		   fin_o = ctf_tcp_frame(A, B, NFC_TCP_FIN | NFC_TCP_ACK),
		   fin_r = ctf_tcp_frame(B, A, NFC_TCP_FIN | NFC_TCP_ACK);
	struct ct_test_res r;
	struct nfct_entry e;

	r = run(&ack, 1);
	EXPECT(r, NFCT_INVALID, "tcp: an ACK with no connection");
	r = run(&synack, 1);
	EXPECT(r, NFCT_INVALID, "tcp: a SYN-ACK with no connection");
	CHECK(entries(&T) == 0, "tcp: invalid packets create nothing");

	r = run(&syn, 0);
	EXPECT(r, NFCT_NEW, "tcp: SYN");
	CHECK(entries(&T) == 0, "tcp: a NEW packet not accepted creates "
				"nothing");
	r = run(&syn, 1);
	EXPECT(r, NFCT_NEW, "tcp: SYN accepted");
	CHECK(r.confirm == 0 && r.has_entry && r.entry_state == NFCT_S_SYN_SENT,
	      "tcp: entry made in syn_sent");
	r = run(&syn, 1);
	EXPECT(r, NFCT_NEW, "tcp: SYN sent again (no reply yet)");
	r = run(&synack, 0);
	EXPECT(r, NFCT_ESTABLISHED, "tcp: SYN-ACK");
	CHECK(r.dir == NFCT_DIR_REPLY && r.entry_state == NFCT_S_SYN_RECV,
	      "tcp: SYN-ACK is the reply, syn_recv");
	r = run(&ack, 0);
	EXPECT(r, NFCT_ESTABLISHED, "tcp: ACK of the SYN-ACK");
	CHECK(r.dir == NFCT_DIR_ORIG && r.entry_state == NFCT_S_ESTABLISHED,
	      "tcp: original direction, established");
	r = run(&data_r, 0);
	EXPECT(r, NFCT_ESTABLISHED, "tcp: data from the server");
	CHECK(entry_of(&T, &r.key, &e) == 0 && e.packets[0] == 3 &&
		      e.packets[1] == 2 && e.bytes[0] == 3 * 60 &&
		      e.bytes[1] == 2 * 60 && !(e.flags & NFCT_F_ORIG_IS_B) &&
		      nfct_is_assured(CTF_TCP, e.state),
	      "tcp: counters by direction (%llu/%llu packets)",
	      (unsigned long long)e.packets[0],
	      (unsigned long long)e.packets[1]);
	CHECK(entries(&T) == 1, "tcp: one entry for both directions");
	{
		struct ctf xmas = ctf_tcp_frame(A, B, 0x3f),
			   null = ctf_tcp_frame(B, A, 0),
			   synfin = ctf_tcp_frame(A, B,
						  NFC_TCP_SYN | NFC_TCP_FIN);

		r = run(&xmas, 1);
		EXPECT(r, NFCT_INVALID,
		       "tcp: every flag set, on a tracked flow");
		r = run(&null, 1);
		EXPECT(r, NFCT_INVALID, "tcp: no flag set, on a tracked flow");
		r = run(&synfin, 1);
		EXPECT(r, NFCT_INVALID, "tcp: SYN-FIN");
		CHECK(entry_of(&T, &r.key, &e) == 0 && e.packets[0] == 3 &&
			      e.state == NFCT_S_ESTABLISHED,
		      "tcp: invalid segments leave the entry alone");
	}

	{
		/* A SYN from the server's side (a forged one: the outside
		 * host of a firewall) belongs to nothing: it passed as
		 * established. */
		struct ctf syn_r = ctf_tcp_frame(B, A, NFC_TCP_SYN);

		r = run(&syn_r, 1);
		EXPECT(r, NFCT_INVALID,
		       "tcp: a SYN from the answering side, established");
		CHECK(entry_of(&T, &r.key, &e) == 0 && e.packets[1] == 2 &&
			      e.state == NFCT_S_ESTABLISHED,
		      "tcp: ... leaves the entry alone");
		r = run(&syn, 1);
		EXPECT(r, NFCT_ESTABLISHED,
		       "tcp: a SYN from the opener is ignored, as Linux");
	}
	r = run(&fin_r, 0);
	EXPECT(r, NFCT_ESTABLISHED, "tcp: FIN from the server");
	CHECK(r.entry_state == NFCT_S_FIN_WAIT, "tcp: fin_wait");
	r = run(&fin_o, 0);
	CHECK(r.entry_state == NFCT_S_TIME_WAIT, "tcp: FINs both ways: "
						 "time_wait");
	r = run(&ack, 0);
	EXPECT(r, NFCT_ESTABLISHED, "tcp: last ACK still belongs to it");

	/* the tuple used again */
	r = run(&syn, 1);
	EXPECT(r, NFCT_NEW, "tcp: SYN on a closed tuple opens a new one");
	CHECK(r.has_entry && r.entry_state == NFCT_S_SYN_SENT &&
		      entry_of(&T, &r.key, &e) == 0 && e.packets[0] == 1 &&
		      e.packets[1] == 0,
	      "tcp: the new connection starts afresh");

	/* RST, and a connection opened from the other side */
	{
		struct ctf_ep c = {"203.0.113.99", 5555};
		struct ctf s2 = ctf_tcp_frame(c, A, NFC_TCP_SYN),
			   sa = ctf_tcp_frame(A, c, NFC_TCP_SYN | NFC_TCP_ACK),
			   rst = ctf_tcp_frame(A, c, NFC_TCP_RST | NFC_TCP_ACK);

		r = run(&s2, 1);
		EXPECT(r, NFCT_NEW, "tcp: SYN from the higher address");
		r = run(&sa, 0);
		EXPECT(r, NFCT_ESTABLISHED, "tcp: its SYN-ACK");
		r = run(&rst, 0);
		EXPECT(r, NFCT_ESTABLISHED, "tcp: RST in reply");
		CHECK(r.dir == NFCT_DIR_REPLY && r.entry_state == NFCT_S_CLOSE,
		      "tcp: RST closes (its opener was endpoint b)");
	}
	/* A RST the only answer to a SYN ("connection refused"): Linux
	 * deletes the entry. It stayed in close, and an ACK, data or a
	 * SYN-ACK from the other end passed as established, keeping it
	 * alive (found by a helper against nftables). */
	{
		struct ctf_ep c = {"198.51.100.77", 42600},
			      o = {"203.0.113.77", 80};
		struct ctf syn = ctf_tcp_frame(c, o, NFC_TCP_SYN),
			   rst = ctf_tcp_frame(o, c, NFC_TCP_RST | NFC_TCP_ACK),
			   ack = ctf_tcp_frame(o, c, NFC_TCP_ACK | NFC_TCP_PSH),
			   sa = ctf_tcp_frame(o, c, NFC_TCP_SYN | NFC_TCP_ACK),
			   fin = ctf_tcp_frame(o, c, NFC_TCP_FIN | NFC_TCP_ACK);

		r = run(&syn, 1);
		EXPECT(r, NFCT_NEW, "refused: the SYN");
		r = run(&fin, 0);
		EXPECT(r, NFCT_INVALID,
		       "refused: a FIN from the other end before any answer");
		r = run(&rst, 0);
		EXPECT(r, NFCT_ESTABLISHED, "refused: its RST passes back");
		r = run(&ack, 0);
		EXPECT(r, NFCT_INVALID, "refused: then data from outside");
		r = run(&sa, 0);
		EXPECT(r, NFCT_INVALID, "refused: then a SYN-ACK from outside");
		r = run(&syn, 1);
		EXPECT(r, NFCT_NEW, "refused: the SYN again opens it anew");
		CHECK(r.has_entry && r.entry_state == NFCT_S_SYN_SENT,
		      "refused: ... in syn_sent");
	}
}

static void test_tcp_loose(void)
{
	struct ctf_ep c = {"198.51.100.40", 41000}, s = {"203.0.113.40", 22};
	struct ctf ack = ctf_tcp_frame(c, s, NFC_TCP_ACK),
		   back = ctf_tcp_frame(s, c, NFC_TCP_ACK | NFC_TCP_PSH),
		   rst = ctf_tcp_frame(s, c, NFC_TCP_RST);
	struct ct_test_res r;
	struct nfct_cfg cfg;

	nfct_cfg_default(&cfg);
	cfg.flags |= NFCT_CFG_TCP_LOOSE;
	set_cfg(&T, &cfg);
	r = run(&rst, 1);
	EXPECT(r, NFCT_INVALID, "loose: a RST still opens nothing");
	{
		struct ctf fin = ctf_tcp_frame(c, s, NFC_TCP_FIN | NFC_TCP_ACK);
		long n = entries(&T);

		/* Linux: sIV from no state. It made an established entry
		 * of five days. */
		r = run(&fin, 1);
		EXPECT(r, NFCT_INVALID, "loose: a FIN-ACK opens nothing");
		CHECK(entries(&T) == n, "loose: ... and makes no entry");
	}
	r = run(&ack, 1);
	EXPECT(r, NFCT_NEW, "loose: an ACK midway opens a connection");
	CHECK(r.has_entry && r.entry_state == NFCT_S_ESTABLISHED,
	      "loose: picked up as established");
	r = run(&back, 0);
	EXPECT(r, NFCT_ESTABLISHED, "loose: its answer");
	nfct_cfg_default(&cfg);
	set_cfg(&T, &cfg);
}

/* ---- UDP, ICMP -------------------------------------------------------- */

static void test_udp_icmp(void)
{
	struct ctf_ep u1 = {"198.51.100.11", 5000}, u2 = {"203.0.113.21", 53};
	struct ctf q = ctf_udp_frame(u1, u2), a = ctf_udp_frame(u2, u1);
	struct ct_test_res r;

	r = run(&q, 0);
	EXPECT(r, NFCT_NEW, "udp: first datagram");
	r = run(&a, 1);
	EXPECT(r, NFCT_NEW,
	       "udp: an answer to a datagram not accepted is "
	       "new itself");
	r = run(&q, 1);
	EXPECT(r, NFCT_ESTABLISHED,
	       "udp: the datagram back (now tracked the "
	       "other way)");
	CHECK(r.dir == NFCT_DIR_REPLY && r.entry_state == NFCT_S_REPLIED,
	      "udp: the opener was the server side, replied");

	{
		struct ctf_ep v1 = {"198.51.100.12", 6000},
			      v2 = {"203.0.113.22", 6001};
		struct ctf x = ctf_udp_frame(v1, v2), y = ctf_udp_frame(v2, v1);

		r = run(&x, 1);
		CHECK(r.state == NFCT_NEW && r.entry_state == NFCT_S_UNREPLIED,
		      "udp: accepted, unreplied");
		r = run(&x, 1);
		EXPECT(r, NFCT_NEW, "udp: more one way: still new");
		r = run(&y, 0);
		EXPECT(r, NFCT_ESTABLISHED, "udp: reply");
		r = run(&x, 0);
		EXPECT(r, NFCT_ESTABLISHED, "udp: then established");
	}

	/* ICMP echo */
	{
		struct ctf req = ctf_icmp_frame(A.addr, B.addr, 8, 0, 0x4242),
			   rep = ctf_icmp_frame(B.addr, A.addr, 0, 0, 0x4242),
			   rep2 = ctf_icmp_frame(B.addr, A.addr, 0, 0, 0x4343);

		r = run(&rep2, 1);
		EXPECT(r, NFCT_INVALID, "icmp: echo reply with no request");
		r = run(&req, 1);
		EXPECT(r, NFCT_NEW, "icmp: echo request");
		CHECK(ntohs(r.fl.t.sport) == 0x4242 &&
			      ntohs(r.fl.t.dport) == 0x4242,
		      "icmp: the echo id stands for both ports");
		r = run(&rep, 0);
		EXPECT(r, NFCT_ESTABLISHED, "icmp: echo reply");
		r = run(&rep2, 0);
		EXPECT(r, NFCT_INVALID, "icmp: echo reply with another id");
		{
			/* The key holds the id, not the type: these found
			 * the entry and passed as established (a helper,
			 * against nftables). */
			struct ctf rreq = ctf_icmp_frame(B.addr, A.addr, 8, 0,
							 0x4242),
				   rrep = ctf_icmp_frame(A.addr, B.addr, 0, 0,
							 0x4242),
				   ts = ctf_icmp_frame(B.addr, A.addr, 13, 0,
						       0x4242);
			struct nfct_entry e;
			uint64_t before;

			r = run(&rreq, 1);
			EXPECT(r, NFCT_INVALID,
			       "icmp: an echo request the other way, same id");
			entry_of(&T, &r.key, &e);
			before = e.packets[1];
			r = run(&rrep, 1);
			EXPECT(r, NFCT_INVALID,
			       "icmp: an echo reply from the requester");
			r = run(&ts, 1);
			EXPECT(r, NFCT_INVALID,
			       "icmp: a timestamp request the other way");
			CHECK(entry_of(&T, &r.key, &e) == 0 &&
				      e.packets[1] == before &&
				      e.packets[0] == 1,
			      "icmp: ... none counted in the entry");
			r = run(&rep, 0);
			EXPECT(r, NFCT_ESTABLISHED,
			       "icmp: the real reply still is");
		}
	}

	/* ICMP errors */
	{
		struct ctf_ep s = {"198.51.100.13", 33434},
			      d = {"203.0.113.23", 33435};
		struct ctf probe = ctf_udp_frame(s, d), te, te2, bad, cut,
			   tcp_syn = ctf_tcp_frame(A, B, NFC_TCP_SYN);
		const char *router = "203.0.113.254";

		te = ctf_icmp_err(router, s.addr, 11, 0, &probe, 0);
		r = run(&te, 1);
		EXPECT(r, NFCT_INVALID,
		       "icmp: time exceeded quoting nothing "
		       "tracked (as Linux)");
		r = run(&probe, 1);
		EXPECT(r, NFCT_NEW, "icmp: traceroute probe");
		r = run(&te, 1);
		EXPECT(r, NFCT_RELATED, "icmp: time exceeded quoting it");
		CHECK(r.dir == NFCT_DIR_REPLY || r.dir == NFCT_DIR_ORIG,
		      "icmp: related has a direction");
		CHECK((r.fl.flags & NFC_FLOW_F_INNER) &&
			      ntohs(r.fl.inner.dport) == d.port,
		      "icmp: the quoted tuple parsed");
		cut = ctf_icmp_err(router, s.addr, 3, 3, &probe, 20 + 8);
		r = run(&cut, 0);
		EXPECT(r, NFCT_RELATED,
		       "icmp: unreachable quoting just IP + 8 "
		       "bytes");
		bad = ctf_icmp_err(router, "198.51.100.99", 11, 0, &probe, 0);
		r = run(&bad, 0);
		EXPECT(r, NFCT_INVALID,
		       "icmp: an error sent to someone else "
		       "than the quoted sender");
		cut = ctf_icmp_err(router, s.addr, 3, 3, &probe, 20 + 4);
		r = run(&cut, 0);
		EXPECT(r, NFCT_INVALID, "icmp: quoted ports cut off");
		/* the TCP connection of test_tcp is in syn_sent again */
		te2 = ctf_icmp_err(router, A.addr, 3, 4, &tcp_syn, 0);
		r = run(&te2, 0);
		EXPECT(r, NFCT_RELATED, "icmp: frag needed quoting a TCP SYN");
		{
			struct ctf e2 =
				ctf_icmp_err(router, s.addr, 11, 0, &te, 0);

			r = run(&e2, 0);
			EXPECT(r, NFCT_INVALID,
			       "icmp: an error quoting an error");
		}
	}
}

/* ---- IPv6 ------------------------------------------------------------- */

static void test_v6(void)
{
	static const uint8_t ext2[] = {0, 60};
	struct ctf syn, synack, ack;
	struct ct_test_res r;

	ctf_eth(&syn, 1, 0);
	ctf_ip6(&syn, A6.addr, B6.addr, CTF_TCP, ext2, 2, 0, 0, 0);
	ctf_tcp(&syn, A6.port, B6.port, NFC_TCP_SYN);
	ctf_end(&syn);
	synack = ctf_tcp_frame(B6, A6, NFC_TCP_SYN | NFC_TCP_ACK);
	ack = ctf_tcp_frame(A6, B6, NFC_TCP_ACK);
	r = run(&syn, 1);
	EXPECT(r, NFCT_NEW, "v6: SYN behind hop-by-hop and dest-opts");
	r = run(&synack, 0);
	EXPECT(r, NFCT_ESTABLISHED, "v6: SYN-ACK without ext headers");
	r = run(&ack, 0);
	CHECK(r.state == NFCT_ESTABLISHED &&
		      r.entry_state == NFCT_S_ESTABLISHED,
	      "v6: established");
	{
		struct ctf ptb =
			ctf_icmp_err("2001:db8:ff::1", A6.addr, 2, 0, &ack, 0);
		struct ctf ns =
			ctf_icmp_frame(A6.addr, "ff02::1:ff00:20", 135, 0, 0);
		struct ctf req = ctf_icmp_frame(A6.addr, B6.addr, 128, 0, 9),
			   rep = ctf_icmp_frame(B6.addr, A6.addr, 129, 0, 9);

		r = run(&ptb, 0);
		EXPECT(r, NFCT_RELATED, "v6: packet too big quoting the flow");
		r = run(&ns, 1);
		EXPECT(r, NFCT_UNTRACKED, "v6: neighbour solicitation");
		r = run(&req, 1);
		EXPECT(r, NFCT_NEW, "v6: echo request");
		r = run(&rep, 0);
		EXPECT(r, NFCT_ESTABLISHED, "v6: echo reply");
		{
			struct ctf rreq =
				ctf_icmp_frame(B6.addr, A6.addr, 128, 0, 9);

			r = run(&rreq, 1);
			EXPECT(r, NFCT_INVALID,
			       "v6: an echo request the other way, same id");
		}
	}
}

/* ---- fragments --------------------------------------------------------- */

static void test_frags(void)
{
	struct ctf first, later, orphan;
	static const uint8_t fr[] = {44};
	struct ct_test_res r;
	uint64_t miss = stat(&T, NFCT_ST_FRAG_MISS);

	ctf_eth(&first, 0, 0);
	ctf_ip4(&first, A.addr, B.addr, CTF_UDP, 0, 0, 1, 4242);
	ctf_udp(&first, 7000, 7001);
	ctf_end(&first);
	ctf_eth(&later, 0, 0);
	ctf_ip4(&later, A.addr, B.addr, CTF_UDP, 0, 2, 0, 4242);
	ctf_end(&later);
	later.len = 14 + 20 + 40;
	ctf_end(&later);
	ctf_eth(&orphan, 0, 0);
	ctf_ip4(&orphan, A.addr, B.addr, CTF_UDP, 0, 2, 0, 4343);
	ctf_end(&orphan);

	r = run(&orphan, 1);
	EXPECT(r, NFCT_INVALID,
	       "frag: a later fragment whose first was not "
	       "seen");
	CHECK(!(r.fl.flags & NFC_FLOW_F_PORTS) &&
		      stat(&T, NFCT_ST_FRAG_MISS) == miss + 1,
	      "frag: ... has no ports, counted");
	r = run(&first, 1);
	EXPECT(r, NFCT_NEW, "frag: first fragment");
	r = run(&later, 1);
	CHECK(r.state == NFCT_NEW && r.has_entry &&
		      (r.fl.flags & NFC_FLOW_F_PORTS_FROM_FIRST) &&
		      ntohs(r.fl.t.dport) == 7001,
	      "frag: the later fragment gets its first's ports and entry");

	/* A fragmented SYN (data on it, TCP Fast Open): the later
	 * fragment follows the first's entry, not judged as a flagless
	 * segment in syn_sent. */
	ctf_eth(&first, 0, 0);
	ctf_ip4(&first, A.addr, B.addr, CTF_TCP, 0, 0, 1, 4545);
	ctf_tcp(&first, 7100, 80, 0x02);
	ctf_end(&first);
	ctf_eth(&later, 0, 0);
	ctf_ip4(&later, A.addr, B.addr, CTF_TCP, 0, 3, 0, 4545);
	later.len = 14 + 20 + 40;
	ctf_end(&later);
	r = run(&first, 1);
	EXPECT(r, NFCT_NEW, "frag: first fragment of a SYN");
	r = run(&later, 1);
	CHECK(r.state == NFCT_NEW && r.has_entry && ntohs(r.fl.t.dport) == 80,
	      "frag: the SYN's later fragment: new, its first's entry "
	      "(state %u)",
	      r.state);

	ctf_eth(&first, 1, 0);
	ctf_ip6(&first, A6.addr, B6.addr, CTF_UDP, fr, 1, 0, 1, 0xabcdef);
	ctf_udp(&first, 8000, 8001);
	ctf_end(&first);
	ctf_eth(&later, 1, 0);
	ctf_ip6(&later, A6.addr, B6.addr, CTF_UDP, fr, 1, 5, 0, 0xabcdef);
	ctf_udp(&later, 1, 2); /* payload, not ports */
	ctf_end(&later);
	r = run(&later, 1);
	EXPECT(r, NFCT_INVALID, "frag: v6 later fragment before its first");
	r = run(&first, 1);
	CHECK(r.state == NFCT_NEW && r.fl.frag == NFC_FRAG_FIRST &&
		      ntohs(r.fl.t.dport) == 8001,
	      "frag: v6 first fragment, ports");
	r = run(&later, 0);
	CHECK(r.fl.frag == NFC_FRAG_LATER && ntohs(r.fl.t.dport) == 8001 &&
		      r.has_entry,
	      "frag: v6 later fragment gets the first's ports");
}

/* ---- timeouts and the control plane ------------------------------------ */

static void test_timeouts(void)
{
	struct nfct_cfg cfg;
	struct nfct_sweep sw;
	struct ctf_ep c = {"198.51.100.30", 1000}, s = {"203.0.113.30", 2000};
	struct ctf q = ctf_udp_frame(c, s), a = ctf_udp_frame(s, c);
	struct ct_test_res r;
	uint64_t now;
	long before;
	json_t *list;

	nfct_cfg_default(&cfg);
	cfg.timeout[NFCT_T_UDP] = 1;
	set_cfg(&T, &cfg);
	r = run(&q, 1);
	EXPECT(r, NFCT_NEW, "timeout: UDP with a 1 s timeout");
	usleep(1400 * 1000);
	r = run(&a, 0);
	EXPECT(r, NFCT_NEW,
	       "timeout: its answer after 1.4 s is new (the "
	       "entry is past its timeout)");
	r = run(&q, 1);
	CHECK(r.state == NFCT_NEW && r.has_entry && r.confirm == 0,
	      "timeout: a new datagram replaces the stale entry");
	r = run(&a, 0);
	EXPECT(r, NFCT_ESTABLISHED, "timeout: and its answer is established");

	/* expiry by the control plane, with time moved forward */
	nfct_cfg_default(&cfg);
	cfg.timeout[NFCT_T_CLOSE] = 2;
	cfg.timeout[NFCT_T_TIME_WAIT] = 3;
	cfg.timeout[NFCT_T_UDP_STREAM] = 4;
	cfg.timeout[NFCT_T_UDP] = 4;
	cfg.timeout[NFCT_T_ICMP] = 4;
	cfg.timeout[NFCT_T_SYN_SENT] = 4;
	set_cfg(&T, &cfg);
	before = entries(&T);
	now = nfc_now_ns();
	CHECK(nfct_sweep_fd(T.tbl, T.stats, &cfg, 1 << 16, now, &sw) == 0 &&
		      sw.expired == 0 && (long)sw.entries == before,
	      "expire: nothing due now (%ld entries)", before);
	list = json_array();
	nfct_list_fd(T.tbl, &cfg, now, list);
	CHECK((long)json_array_size(list) == before,
	      "show: every live entry listed");
	{
		int found = 0;
		size_t i;
		json_t *o;

		json_array_foreach (list, i, o) {
			const char *st =
				json_string_value(json_object_get(o, "state"));
			const char *pr =
				json_string_value(json_object_get(o, "proto"));

			if (!strcmp(pr, "tcp") && !strcmp(st, "close") &&
			    json_integer_value(json_object_get(o, "timeout")) <=
				    2 &&
			    !strcmp(json_string_value(
					    json_object_get(o, "src")),
				    "203.0.113.99") &&
			    json_integer_value(json_object_get(o, "dport")) ==
				    A.port &&
			    json_integer_value(
				    json_object_get(o, "packets_orig")) == 1 &&
			    json_integer_value(
				    json_object_get(o, "packets_reply")) == 2)
				found = 1;
		}
		CHECK(found, "show: the RST-closed connection, opener first, "
			     "timeout <= 2 s, counters");
	}
	json_decref(list);
	now += 2500ULL * 1000 * 1000;
	CHECK(nfct_sweep_fd(T.tbl, T.stats, &cfg, 1 << 16, now, &sw) == 0 &&
		      sw.expired >= 1 && sw.entries == before - sw.expired,
	      "expire: closed connection gone at +2.5 s (%llu expired)",
	      (unsigned long long)sw.expired);
	now += 10ULL * 1000 * 1000 * 1000;
	CHECK(nfct_sweep_fd(T.tbl, T.stats, &cfg, 1 << 16, now, &sw) == 0,
	      "expire: sweep at +12.5 s");
	CHECK(entries(&T) == (long)sw.entries,
	      "expire: only established TCP left (%ld)", entries(&T));
	CHECK(stat(&T, NFCT_ST_EXPIRED) == (uint64_t)(before - entries(&T)),
	      "expire: every expiry counted");
	nfct_cfg_default(&cfg);
	set_cfg(&T, &cfg);
}

static void test_del_flush(void)
{
	struct ctf_ep c = {"2001:db8:5::1", 1234}, s = {"2001:db8:5::2", 4321};
	struct ctf q = ctf_udp_frame(c, s), a = ctf_udp_frame(s, c);
	struct nfct_key k, k2;
	char err[256], key[160];
	struct ct_test_res r;
	struct nfct_entry e;

	r = run(&q, 1);
	EXPECT(r, NFCT_NEW, "del: a v6 UDP flow");
	CHECK(entry_of(&T, &r.key, &e) == 0, "del: tracked");
	nfct_key_str(&r.key, &e, key, sizeof(key));
	CHECK(!strcmp(key, "udp,2001:db8:5::1,1234,2001:db8:5::2,4321"),
	      "del: key text '%s'", key);
	CHECK(nfct_key_parse("udp,2001:db8:5::2,4321,2001:db8:5::1,1234", &k,
			     err, sizeof(err)) == 0 &&
		      !memcmp(&k, &r.key, sizeof(k)),
	      "del: a key given the other way round is the same");
	CHECK(nfct_key_parse("udp,2001:db8:5::1,1234,198.51.100.1,4321", &k2,
			     err, sizeof(err)) == -EINVAL &&
		      strstr(err, "198.51.100.1"),
	      "del: mixed families refused: %s", err);
	CHECK(nfct_key_parse("tcp,198.51.100.1,70000,198.51.100.2,1", &k2, err,
			     sizeof(err)) == -EINVAL &&
		      strstr(err, "70000"),
	      "del: port out of range refused: %s", err);
	CHECK(nfct_key_parse("bogus", &k2, err, sizeof(err)) == -EINVAL,
	      "del: malformed key refused: %s", err);
	CHECK(nfct_del_fd(T.tbl, &k) == 0, "del: deleted");
	CHECK(nfct_del_fd(T.tbl, &k) == -ENOENT, "del: gone");
	r = run(&a, 0);
	EXPECT(r, NFCT_NEW, "del: its answer is new now");
	{
		long n = entries(&T);

		CHECK(n > 0 && nfct_flush_fd(T.tbl) == n && entries(&T) == 0,
		      "flush: %ld entries removed", n);
	}
}

/* ---- a full table ------------------------------------------------------ */

/* A tick's sweep on a large table goes in slices (nfct_sweep_slice):
 * here 200 entries, slices of 32. Half expired, half fresh. */
static void put_udp(struct ctt *t, int i, uint64_t last)
{
	struct nfct_key k = {.proto = 17, .family = NFC_FAMILY_V4};
	struct nfct_entry e = {.last_ns = last, .state = NFCT_S_UNREPLIED};

	k.a[0] = htonl(0xc6336400 | 7); /* 198.51.100.7 */
	k.b[0] = htonl(0xcb007100 | 8); /* 203.0.113.8 */
	k.pa = htons(2000 + i);
	k.pb = htons(53);
	bpf_map_update_elem(t->tbl, &k, &e, BPF_ANY);
}

static void test_sweep_slice(void)
{
	struct nfct_cfg cfg;
	struct nfct_sweep sw;
	struct nfc_walk cur = {0};
	/* A sweep's clock of our own, 2,000 s ahead: the monotonic clock
	 * counts from boot, and on a machine up for less than 1,000 s the
	 * expired stamps (now - 1,000 s) wrapped into the future (CI on a
	 * fresh machine failed here). */
	uint64_t now = nfc_now_ns() + 2000ULL * 1000000000,
		 x0 = stat(&T, NFCT_ST_EXPIRED), most = 0, gone = 0;
	int calls = 0, ok = 1;

	nfct_cfg_default(&cfg);
	nfct_flush_fd(T.tbl);
	for (int i = 0; i < 200; i++)
		put_udp(&T, i, i % 2 ? now : now - 1000ULL * 1000000000);
	do {
		ok &= !nfct_sweep_slice(T.tbl, T.stats, &cfg, 1 << 16, now,
					&cur, 32, &sw);
		gone += sw.expired;
		most = sw.expired > most ? sw.expired : most;
		calls++;
	} while (!cur.done && calls < 50);
	CHECK(ok && gone == 100 && entries(&T) == 100 && calls >= 4 &&
		      most < 100,
	      "slice: 100 expired of 200 gone in %d slices of 32 (at most "
	      "%llu a slice), the fresh 100 kept",
	      calls, (unsigned long long)most);
	CHECK(stat(&T, NFCT_ST_EXPIRED) - x0 == 100,
	      "slice: every expiry counted");
	/* A table no larger than a slice is swept whole, in one call. */
	for (int i = 0; i < 200; i += 2)
		put_udp(&T, i, now - 1000ULL * 1000000000);
	CHECK(!nfct_sweep_slice(T.tbl, T.stats, &cfg, 1 << 16, now, &cur, 500,
				&sw) &&
		      sw.expired == 100 && entries(&T) == 100,
	      "slice: a table within one slice swept whole (%llu)",
	      (unsigned long long)sw.expired);
	/* Past the high watermark (size 100: 93 entries) the whole sweep
	 * runs, which evicts: eviction needs every entry's age. */
	CHECK(!nfct_sweep_slice(T.tbl, T.stats, &cfg, 100, now, &cur, 32,
				&sw) &&
		      sw.evicted == 100 - 100 * NFCT_EVICT_LOW / 16 &&
		      entries(&T) == 100 * NFCT_EVICT_LOW / 16,
	      "slice: a table past its high watermark swept whole, %llu "
	      "evicted",
	      (unsigned long long)sw.evicted);
	nfct_flush_fd(T.tbl);
}

static void test_full(void)
{
	struct ctt t;
	struct nfct_cfg cfg;
	struct nfct_sweep sw;
	struct ct_test_res r;
	char ip[64];
	int ok = 1, refused = 0;

	if (ctt_open(&t, 64)) {
		CHECK(0, "full: load a 64-entry table");
		return;
	}
	nfct_cfg_default(&cfg);
	set_cfg(&t, &cfg);
	/* 40 answered UDP flows (established) */
	for (int i = 0; i < 40; i++) {
		struct ctf_ep c = {ip, 1000 + i}, s = {"203.0.113.50", 53};
		struct ctf q, a;

		snprintf(ip, sizeof(ip), "198.51.100.%d", 100 + i);
		q = ctf_udp_frame(c, s);
		a = ctf_udp_frame(s, c);
		ok &= run_on(&t, &q, 1).confirm == 0;
		ok &= run_on(&t, &a, 0).state == NFCT_ESTABLISHED;
	}
	CHECK(ok, "full: 40 established UDP flows");
	/* 12 old SYNs, then 12 newer ones: the table is full */
	for (int g = 0; g < 2; g++) {
		for (int i = 0; i < 12; i++) {
			struct ctf_ep c = {"198.51.100.200",
					   2000 + g * 100 + i},
				      s = {"203.0.113.51", 80};
			struct ctf syn = ctf_tcp_frame(c, s, NFC_TCP_SYN);

			ok &= run_on(&t, &syn, 1).confirm == 0;
		}
		if (!g)
			usleep(300 * 1000); /* > the coarse clock's step */
	}
	CHECK(ok && entries(&t) == 64, "full: 64 entries (%ld)", entries(&t));
	for (int i = 0; i < 3; i++) {
		struct ctf_ep c = {"198.51.100.201", 3000 + i},
			      s = {"203.0.113.51", 80};
		struct ctf syn = ctf_tcp_frame(c, s, NFC_TCP_SYN);

		r = run_on(&t, &syn, 1);
		refused += r.state == NFCT_NEW && r.confirm == -ENOSPC &&
			   !r.has_entry;
	}
	CHECK(refused == 3 && stat(&t, NFCT_ST_REFUSED) == 3,
	      "full: 3 insertions refused, counted (%llu)",
	      (unsigned long long)stat(&t, NFCT_ST_REFUSED));
	CHECK(nfct_sweep_fd(t.tbl, t.stats, &cfg, 64, nfc_now_ns(), &sw) == 0 &&
		      sw.evicted == 64 - 64 * NFCT_EVICT_LOW / 16 &&
		      sw.expired == 0 &&
		      entries(&t) == 64 * NFCT_EVICT_LOW / 16,
	      "full: the sweep evicts down to %d/16 (%llu evicted)",
	      NFCT_EVICT_LOW, (unsigned long long)sw.evicted);
	CHECK(stat(&t, NFCT_ST_EVICTED) == sw.evicted, "full: evictions "
						       "counted");
	{
		int est = 0, newer = 0, older = 0;
		struct nfct_key k, n;
		struct nfct_entry e;
		int first = 1;

		while (!bpf_map_get_next_key(t.tbl, first ? NULL : &k, &n)) {
			k = n;
			first = 0;
			if (bpf_map_lookup_elem(t.tbl, &k, &e))
				continue;
			if (k.proto == CTF_UDP)
				est++;
			else if (ntohs(k.pa) >= 2100 || ntohs(k.pb) >= 2100)
				newer++;
			else
				older++;
		}
		CHECK(est == 40, "full: every established flow kept (%d)", est);
		CHECK(newer == 12 && older == 12 - (int)sw.evicted,
		      "full: the least recently used SYNs went first "
		      "(%d older, %d newer left)",
		      older, newer);
	}
	{
		struct ctf_ep c = {"198.51.100.201", 3000},
			      s = {"203.0.113.51", 80};
		struct ctf syn = ctf_tcp_frame(c, s, NFC_TCP_SYN);

		r = run_on(&t, &syn, 1);
		CHECK(r.confirm == 0 && r.has_entry,
		      "full: room again for a new connection");
	}
	/* all established: nothing evictable, never an established one */
	ct_test__destroy(t.sk);
	if (ctt_open(&t, 64)) {
		CHECK(0, "full: load again");
		return;
	}
	set_cfg(&t, &cfg);
	for (int i = 0; i < 64; i++) {
		struct ctf_ep c = {"198.51.100.77", 1000 + i},
			      s = {"203.0.113.50", 53};
		struct ctf q = ctf_udp_frame(c, s), a = ctf_udp_frame(s, c);

		run_on(&t, &q, 1);
		run_on(&t, &a, 0);
	}
	CHECK(nfct_sweep_fd(t.tbl, t.stats, &cfg, 64, nfc_now_ns(), &sw) == 0 &&
		      sw.evicted == 0 && entries(&t) == 64,
	      "full: a table of established flows: nothing evicted");
	ct_test__destroy(t.sk);
}

/* ---- cost --------------------------------------------------------------- */

static __u32 bench_prog(int fd, const struct ctf *f, int repeat)
{
	__u8 out[512];

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = f->len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = repeat);
	if (bpf_prog_test_run_opts(fd, &o))
		return 0;
	/* A run that did not end in XDP_TX measured a drop path. */
	return o.retval == XDP_TX ? o.duration : 0;
}

/* New connections: each run a SYN of a flow never seen, on an empty
 * table big enough for all of them. */
static int bench_new(void)
{
	struct ctf syn = ctf_tcp_frame(A, B, NFC_TCP_SYN);
	const int rep = 50000;
	struct nfct_cfg cfg;
	struct ctt t;
	__u32 ns;
	__u8 out[512];

	if (ctt_open(&t, 1 << 17))
		return 1;
	nfct_cfg_default(&cfg);
	set_cfg(&t, &cfg);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = syn.b,
		    .data_size_in = syn.len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = rep);
	if (bpf_prog_test_run_opts(bpf_program__fd(t.sk->progs.ct_bench_new),
				   &o))
		return 1;
	ns = o.duration;
	printf("new connection (parse, lookup, confirm): %u ns/packet, %ld "
	       "entries made, %llu refused (one run of %d)\n",
	       ns, entries(&t), (unsigned long long)stat(&t, NFCT_ST_REFUSED),
	       rep);
	ct_test__destroy(t.sk);
	return 0;
}

/* The control plane's sweep of a table of `n` entries: a walk that
 * finds nothing to do, then one that expires everything. */
static int bench_sweep(void)
{
	const uint32_t size = 65536, n = 60000;
	struct nfct_sweep sw;
	struct nfct_cfg cfg;
	struct ctt t;
	uint64_t now, t0, t1, t2;

	if (ctt_open(&t, size))
		return 1;
	nfct_cfg_default(&cfg);
	now = nfc_now_ns();
	for (uint32_t i = 0; i < n; i++) {
		struct nfct_key k = {.proto = CTF_UDP, .family = NFC_FAMILY_V4};
		struct nfct_entry e = {.last_ns = now,
				       .state = NFCT_S_REPLIED,
				       .flags = NFCT_F_SEEN_REPLY};

		k.a[2] = k.b[2] = htonl(NFCT_V4MAPPED_W2);
		k.a[3] = htonl(0xc6336400 + (i >> 16));
		k.b[3] = htonl(0xcb007100);
		k.pa = htons(i & 0xffff);
		k.pb = htons(53);
		bpf_map_update_elem(t.tbl, &k, &e, BPF_NOEXIST);
	}
	t0 = nfc_now_ns();
	nfct_sweep_fd(t.tbl, t.stats, &cfg, size, now, &sw);
	t1 = nfc_now_ns();
	nfct_sweep_fd(t.tbl, t.stats, &cfg, size, now + 3600ULL * 1000000000,
		      &sw);
	t2 = nfc_now_ns();
	printf("sweep of %u entries: %.1f ms with nothing due, %.1f ms "
	       "expiring all (%llu)\n",
	       n, (t1 - t0) / 1e6, (t2 - t1) / 1e6,
	       (unsigned long long)sw.expired);
	ct_test__destroy(t.sk);
	return 0;
}

static int bench(void)
{
	struct ctf syn = ctf_tcp_frame(A, B, NFC_TCP_SYN),
		   synack = ctf_tcp_frame(B, A, NFC_TCP_SYN | NFC_TCP_ACK),
		   ack = ctf_tcp_frame(A, B, NFC_TCP_ACK);
	int fwd = bpf_program__fd(T.sk->progs.ct_bench_fwd),
	    par = bpf_program__fd(T.sk->progs.ct_bench_parse),
	    ct = bpf_program__fd(T.sk->progs.ct_bench_ct),
	    fc = bpf_program__fd(T.sk->progs.ct_bench_ctfc);
	const int rounds = 5, rep = 1000000;
	__u32 best[4] = {~0u, ~0u, ~0u, ~0u};
	struct nfct_cfg cfg;

	nfct_cfg_default(&cfg);
	set_cfg(&T, &cfg);
	bench_prog(ct, &syn, 1);
	bench_prog(ct, &synack, 1);
	bench_prog(ct, &ack, 1);
	/* Interleaved rounds, the best of each: the machine is shared. */
	for (int i = 0; i < rounds; i++) {
		__u32 v[4] = {
			bench_prog(fwd, &ack, rep), bench_prog(par, &ack, rep),
			bench_prog(ct, &ack, rep), bench_prog(fc, &ack, rep)};

		for (int j = 0; j < 4; j++)
			if (v[j] && v[j] < best[j])
				best[j] = v[j];
	}
	printf("| program | ns/packet (best of %d x %d) |\n|---|---|\n", rounds,
	       rep);
	printf("| forwarder (MAC swap, XDP_TX) | %u |\n", best[0]);
	printf("| + nfc_flow_parse | %u |\n", best[1]);
	printf("| + nfct_lookup, established TCP | %u |\n", best[2]);
	printf("| + nfct_lookup_cached (flow cache hit), established TCP | "
	       "%u |\n",
	       best[3]);
	printf("conntrack own cost: %d ns (parse %d ns, lookup %d ns); "
	       "through the flow cache %d ns (lookup %d ns)\n",
	       (int)best[2] - (int)best[0], (int)best[1] - (int)best[0],
	       (int)best[2] - (int)best[1], (int)best[3] - (int)best[0],
	       (int)best[3] - (int)best[1]);
	return bench_new() || bench_sweep();
}

int main(int argc, char **argv)
{
	struct nfct_cfg cfg;

	if (ctt_open(&T, 0)) {
		CHECK(0, "load the conntrack test object: %s", strerror(errno));
		TEST_EXIT();
	}
	nfct_cfg_default(&cfg);
	set_cfg(&T, &cfg);
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return bench();
	test_parse();
	test_tcp();
	test_tcp_loose();
	test_udp_icmp();
	test_v6();
	test_frags();
	test_timeouts();
	test_del_flush();
	test_sweep_slice();
	test_full();
	ct_test__destroy(T.sk);
	TEST_EXIT();
}
