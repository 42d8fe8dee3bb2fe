// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Connection tracking's pure logic, in userspace: the TCP state machine
 * (nfct_tcp_next) and flag check, the timeout rows, the config fields and
 * their reading, keys as text. The data plane around them is
 * tests/ct/test_ct_dp.c.
 */
#include <errno.h>
#include <string.h>
#include <linux/types.h>

#include "conntrack.h"
#include "test.h"

enum { O = NFCT_DIR_ORIG, R = NFCT_DIR_REPLY };
#define SYN NFCT_TCP_SYN
#define ACK NFCT_TCP_ACK
#define FIN NFCT_TCP_FIN
#define RST NFCT_TCP_RST
#define PSH NFCT_TCP_PSH
#define URG NFCT_TCP_URG

static const struct nfc_field fields[] = {NFCT_CONFIG_FIELDS, NFC_FIELDS_END};

/* A segment sequence and the state after each. */
struct step {
	__u8 flags, dir, state;
};

static void walk(const char *name, const struct step *s, int n)
{
	struct nfct_entry e = {.state = NFCT_S_SYN_SENT};
	int ok = 1, at = -1;

	for (int i = 0; i < n && ok; i++) {
		__u8 st = nfct_tcp_next(&e, s[i].flags, s[i].dir);

		ok = st == s[i].state;
		if (!ok)
			at = i;
		if (st != NFCT_S_INVALID) /* as nfct_lookup: unchanged */
			e.state = st;
	}
	CHECK(ok, "tcp: %s (first wrong step: %d)", name, at);
}

static void test_tcp(void)
{
	static const struct step hs[] = {
		{SYN, O, NFCT_S_SYN_SENT},
		{SYN | ACK, R, NFCT_S_SYN_RECV},
		{ACK, O, NFCT_S_ESTABLISHED},
		{ACK | PSH, R, NFCT_S_ESTABLISHED},
		{FIN | ACK, O, NFCT_S_FIN_WAIT},
		{ACK, R, NFCT_S_FIN_WAIT},
		{FIN | ACK, R, NFCT_S_TIME_WAIT},
		{ACK, O, NFCT_S_TIME_WAIT},
		{SYN, O, NFCT_S_NONE},
	};
	static const struct step rst[] = {
		{SYN | ACK, R, NFCT_S_SYN_RECV},
		{RST, R, NFCT_S_CLOSE},
		{ACK, O, NFCT_S_CLOSE},
		{SYN, R, NFCT_S_NONE},
	};
	static const struct step stuck[] = {
		{ACK, O, NFCT_S_INVALID}, /* no SYN-ACK yet: Linux sIV */
		{FIN | ACK, O, NFCT_S_INVALID},
		{SYN | ACK, O, NFCT_S_INVALID},
		{SYN, O, NFCT_S_SYN_SENT},
		{SYN, R, NFCT_S_SYN_RECV}, /* simultaneous open */
		{SYN | ACK, R, NFCT_S_SYN_RECV},
		{ACK, R, NFCT_S_SYN_RECV}, /* only the opener's ACK counts */
		{ACK, O, NFCT_S_ESTABLISHED},
		{SYN | ACK, R, NFCT_S_ESTABLISHED},
	};

	walk("handshake, close by FINs, reuse", hs, 6 + 3);
	walk("reset after the SYN-ACK, reopened from the other side", rst, 4);
	walk("what does not move the handshake", stuck, 9);
	{
		/* Linux's table: a bare SYN from the answering side is sIV
		 * in ESTABLISHED and the closing states, ignored (kept) in
		 * SYN_SENT/SYN_RECV (simultaneous open); from the opener it
		 * is ignored in ESTABLISHED. */
		struct nfct_entry e = {.state = NFCT_S_ESTABLISHED};

		CHECK(nfct_tcp_next(&e, SYN, R) == NFCT_S_INVALID &&
			      e.state == NFCT_S_ESTABLISHED,
		      "tcp: a SYN from the answering side of an established "
		      "connection is invalid");
		CHECK(nfct_tcp_next(&e, SYN, O) == NFCT_S_ESTABLISHED,
		      "tcp: ... from the opener it changes nothing");
		CHECK(nfct_tcp_next(&e, SYN | ACK, R) == NFCT_S_ESTABLISHED,
		      "tcp: ... a SYN-ACK from the answering side neither");
		e.state = NFCT_S_FIN_WAIT;
		CHECK(nfct_tcp_next(&e, SYN, R) == NFCT_S_INVALID,
		      "tcp: ... in fin_wait it is invalid too");
		e.state = NFCT_S_SYN_RECV;
		CHECK(nfct_tcp_next(&e, SYN, R) == NFCT_S_SYN_RECV,
		      "tcp: ... in syn_recv (a simultaneous open) it is kept");
		/* A SYN-ACK from the opener: sIV past the handshake (it
		 * passed in time_wait, found by a helper against
		 * nftables). */
		e.state = NFCT_S_TIME_WAIT;
		CHECK(nfct_tcp_next(&e, SYN | ACK, O) == NFCT_S_INVALID,
		      "tcp: a SYN-ACK from the opener in time_wait is "
		      "invalid");
		e.state = NFCT_S_ESTABLISHED;
		CHECK(nfct_tcp_next(&e, SYN | ACK, O) == NFCT_S_INVALID &&
			      nfct_tcp_next(&e, SYN | ACK | PSH, O) ==
				      NFCT_S_INVALID,
		      "tcp: ... and in established");
		e.state = NFCT_S_SYN_RECV;
		CHECK(nfct_tcp_next(&e, SYN | ACK, O) == NFCT_S_SYN_RECV,
		      "tcp: ... kept in syn_recv (a simultaneous open)");
	}
	{
		struct nfct_entry e = {.state = NFCT_S_ESTABLISHED};

		nfct_tcp_next(&e, FIN | ACK, R);
		CHECK(e.flags == NFCT_F_FIN_REPLY,
		      "tcp: a FIN marks its direction");
	}
	{
		/* Linux: in SYN_SENT a FIN from the other end is sIV
		 * (found by a helper against nftables); an ACK is sIG,
		 * kept: a TIME_WAIT socket's challenge ACK (dropped, a
		 * reconnect from the same port hung). */
		struct nfct_entry e = {.state = NFCT_S_SYN_SENT};

		CHECK(nfct_tcp_next(&e, FIN | ACK, R) == NFCT_S_INVALID,
		      "tcp: a FIN from the other end in syn_sent is invalid");
		CHECK(nfct_tcp_next(&e, ACK, R) == NFCT_S_SYN_SENT &&
			      nfct_tcp_next(&e, ACK | PSH, R) ==
				      NFCT_S_SYN_SENT,
		      "tcp: ... an ACK from it (a challenge ACK) passes, "
		      "syn_sent kept");
	}
	/* The first answer a RST: the entry's last_ns goes to 0 (bpf/ct.h),
	 * any other keeps it. */
	CHECK(nfct_first_reply_keep(RST) == 0 &&
		      nfct_first_reply_keep(RST | ACK) == 0 &&
		      nfct_first_reply_keep(SYN | ACK) == ~0ULL &&
		      nfct_first_reply_keep(ACK | PSH) == ~0ULL &&
		      nfct_first_reply_keep(0) == ~0ULL,
	      "tcp: a first answer that is a RST ends the entry");
}

static void test_flags(void)
{
	/* Linux nf_conntrack_proto_tcp.c tcp_valid_flags[] */
	static const __u8 valid[] = {SYN,	SYN | URG, SYN | ACK,	    RST,
				     RST | ACK, FIN | ACK, FIN | ACK | URG, ACK,
				     ACK | URG};
	int bad = 0;

	for (int f = 0; f < 64; f++) {
		int want = 0;

		for (size_t i = 0; i < sizeof(valid); i++)
			want |= valid[i] == (f & ~PSH);
		bad += nfct_tcp_flags_valid(f) != want;
		/* PSH, ECE, CWR do not change the answer */
		bad += nfct_tcp_flags_valid(f | 0x08 | 0x40 | 0x80) != want;
	}
	CHECK(!bad, "tcp flags: valid exactly as Linux's table (%d wrong)",
	      bad);
}

static void test_timeouts(void)
{
	struct nfct_cfg c;
	json_t *j = json_object();
	int n = 0, seen = 0;

	nfct_cfg_default(&c);
	CHECK(c.timeout[nfct_timeout_index(6, NFCT_S_ESTABLISHED)] == 432000 &&
		      c.timeout[nfct_timeout_index(6, NFCT_S_SYN_SENT)] ==
			      120 &&
		      c.timeout[nfct_timeout_index(6, NFCT_S_CLOSE)] == 10 &&
		      c.timeout[nfct_timeout_index(17, NFCT_S_UNREPLIED)] ==
			      30 &&
		      c.timeout[nfct_timeout_index(17, NFCT_S_REPLIED)] ==
			      120 &&
		      c.timeout[nfct_timeout_index(1, NFCT_S_REPLIED)] == 30 &&
		      c.timeout[nfct_timeout_index(58, NFCT_S_UNREPLIED)] ==
			      30 &&
		      c.timeout[nfct_timeout_index(47, NFCT_S_REPLIED)] ==
			      600 &&
		      !(c.flags & NFCT_CFG_TCP_LOOSE),
	      "timeouts: Linux's defaults by protocol and state");
	for (int i = 0; i < NFCT_T_MAX; i++)
		n += c.timeout[i] == 0;
	CHECK(n == 0, "timeouts: no row left at 0 (expired at once)");

	/* every timeout_ field of the declaration is read, each into its
	 * own row */
	for (const struct nfc_field *f = fields; f->name; f++)
		if (!strncmp(f->name, "timeout_", 8))
			json_object_set_new(j, f->name,
					    json_integer(1000 + n++));
	json_object_set_new(j, "tcp_loose", json_true());
	nfct_cfg_from_json(j, &c);
	for (int i = 0; i < NFCT_T_MAX; i++)
		seen += c.timeout[i] >= 1000 && c.timeout[i] < 1000u + n;
	CHECK(n == 10 && seen == n && (c.flags & NFCT_CFG_TCP_LOOSE),
	      "config: %d timeout fields, each read into its row (%d)", n,
	      seen);
	json_decref(j);
	CHECK(nfct_is_assured(6, NFCT_S_ESTABLISHED) &&
		      !nfct_is_assured(6, NFCT_S_FIN_WAIT) &&
		      !nfct_is_assured(6, NFCT_S_SYN_RECV) &&
		      nfct_is_assured(17, NFCT_S_REPLIED) &&
		      !nfct_is_assured(17, NFCT_S_UNREPLIED),
	      "eviction: established TCP and answered others are kept");
	{
		struct nfct_key k = {.proto = 6};
		struct nfct_entry picked = {.state = NFCT_S_ESTABLISHED},
				  answered = {.state = NFCT_S_ESTABLISHED,
					      .flags = NFCT_F_SEEN_REPLY};

		CHECK(!nfct_entry_assured(&k, &picked) &&
			      nfct_entry_assured(&k, &answered),
		      "eviction: a connection picked up midway is not kept "
		      "until answered");
	}
}

static void test_keys(void)
{
	/* the text names the original direction, which the entry's flag
	 * says: b_opened when the opener has the higher address */
	static const struct {
		const char *s;
		int b_opened;
	} good[] = {
		{"tcp,198.51.100.1,40000,203.0.113.5,80", 0},
		{"udp,2001:db8::1,53,2001:db8::2,5353", 0},
		{"icmp,203.0.113.9,7,198.51.100.3,7", 1},
		{"47,198.51.100.1,0,198.51.100.2,0", 0},
		{"tcp,198.51.100.1,80,198.51.100.1,70", 1},
	};
	char err[256], buf[160];
	struct nfct_key k;
	struct nfct_entry e = {0};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = nfct_key_parse(good[i].s, &k, err, sizeof(err));

		e.flags = good[i].b_opened ? NFCT_F_ORIG_IS_B : 0;
		nfct_key_str(&k, &e, buf, sizeof(buf));
		CHECK(r == 0 && !strcmp(buf, good[i].s), "key: '%s' -> '%s'",
		      good[i].s, buf);
	}
	CHECK(nfct_key_parse("tcp,198.51.100.1,1,203.0.113.5", &k, err,
			     sizeof(err)) == -EINVAL &&
		      strstr(err, "proto,src,sport,dst,dport"),
	      "key: four fields: %s", err);
	CHECK(nfct_key_parse("sctp,198.51.100.1,1,203.0.113.5,2", &k, err,
			     sizeof(err)) == -EINVAL &&
		      strstr(err, "sctp"),
	      "key: unknown protocol named: %s", err);
	CHECK(nfct_key_parse("tcp,198.51.100.300,1,203.0.113.5,2", &k, err,
			     sizeof(err)) == -EINVAL &&
		      strstr(err, "198.51.100.300"),
	      "key: bad address named: %s", err);
	CHECK(!strcmp(nfct_state_name(6, NFCT_S_TIME_WAIT), "time_wait") &&
		      !strcmp(nfct_state_name(17, NFCT_S_REPLIED), "replied"),
	      "names of states");
}

int main(void)
{
	test_tcp();
	test_flags();
	test_timeouts();
	test_keys();
	TEST_EXIT();
}
