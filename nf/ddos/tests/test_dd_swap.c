// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The allowlist and the limits swapped as a whole (ddos.h, DD_ST_ALLOW_1).
 *
 * At the packet level: a sender thread runs frames through dd0
 * (BPF_PROG_TEST_RUN, one frame a run) from sources spread over 10,000
 * /29s of 198.18.0.0/15, which the blocklist holds whole, while the main
 * thread replaces the allowlist:
 *
 *   set E: the /29s of the even probes     set O: those of the odd ones
 *
 * A frame from an even probe that goes on was decided by E, one dropped
 * by O; the other way round for an odd probe. So every frame tells which
 * set decided it, and a set changed entry by entry shows as frames of the
 * old set after frames of the new (an even probe dropped while E's last
 * entries go, then an odd one dropped while O's first come). Checked for
 * each swap (nfc_coll_replace, apply, an import --replace): both sets
 * decided frames, and none was decided by the old after one was by the
 * new. Frames are sent one after the other by one thread, so "after" is
 * exact.
 *
 * The limits, without a sender (a token bucket lets one packet a second
 * through whatever its limit, which no frame could tell from a swap):
 * a replace is read by packets at once, keeps the id (and so the
 * buckets) of a prefix it keeps, and a refused one (a bad entry, more
 * limits than fit) changes neither the copy packets read nor which. A
 * limit nested in another has an id of its own, a limit added after a
 * delete a new one (it met the deleted one's buckets), and an add to a
 * full family is refused as full.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nfchain/nf.h"
#include "nfchain/nfchain.h"
#include "ddos/ddos.h"
#include "dpswap.h"

#define NPROBES 10000
enum { V_DROP = 1, V_REDIRECT = 4 };
enum { BY_E, BY_O, OTHER };

static char root[128], dev[2][IF_NAMESIZE], peer[2][IF_NAMESIZE];
static struct nfc *nfc;

/* Ethernet + IPv4 + UDP from source `src` (network order). */
static void frame_from(__u8 *f, __be32 src)
{
	memset(f, 0, 64);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00",
	       14);
	f[14] = 0x45;
	f[17] = 28;
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, &src, 4);
	inet_pton(AF_INET, "198.51.100.2", f + 30);
	f[35] = 9;
	f[37] = 9;
	f[39] = 8;
}

/* Host address 1 of /29 i (198.18.0.0 + 8 i). */
static __be32 probe(unsigned i)
{
	return htonl((198u << 24 | 18u << 16) + 8u * i + 1);
}

/* Which set decided a frame of probe i that got verdict v. */
static int decided_by(unsigned i, int v)
{
	if (v != V_REDIRECT && v != V_DROP)
		return OTHER;
	return (v == V_REDIRECT) == !(i & 1) ? BY_E : BY_O;
}

static void probe_frame(unsigned k, __u8 *f)
{
	frame_from(f, probe(k));
}

static int probe_kind(unsigned k, const struct dpt_run *r, char *why,
		      size_t len)
{
	snprintf(why, len, "verdict %d", r->verdict);
	return decided_by(k, r->verdict);
}

/* ---- the sets ------------------------------------------------------------ */

static void key_of(unsigned i, char *key, size_t n)
{
	unsigned a = (198u << 24 | 18u << 16) + 8u * i;

	snprintf(key, n, "%u.%u.%u.%u/29", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

/* The allowlist object of set E (set 'E') or O. */
static json_t *allow_set(char set)
{
	json_t *o = json_object();
	char key[32];

	for (unsigned i = set == 'E' ? 0 : 1; i < NPROBES; i += 2) {
		key_of(i, key, sizeof(key));
		json_object_set_new(o, key, json_object());
	}
	return o;
}

static int replace_set(char set)
{
	json_t *o = allow_set(set);
	int r = nfc_coll_replace(nfc, "dd0", "allowlist", o);

	json_decref(o);
	return r;
}

/* The running document with dd0's allowlist made set `set`. */
static int apply_set(char set)
{
	return dps_apply_coll(nfc, "dd0", "allowlist", allow_set(set));
}

static int import_set(char set)
{
	size_t cap = NPROBES * 24, len = 0;
	char *t = malloc(cap), key[32];
	int r;

	if (!t)
		return -ENOMEM;
	for (unsigned i = set == 'E' ? 0 : 1; i < NPROBES; i += 2) {
		key_of(i, key, sizeof(key));
		len += snprintf(t + len, cap - len, "%s\n", key);
	}
	r = nfc_coll_import_text(nfc, "dd0", "allowlist", t, len, 1);
	free(t);
	return r;
}

static struct dps sender = {.root = root,
			    .prog = "nf/1-dd0/prog",
			    .nf = 1,
			    .nprobes = NPROBES,
			    .frame = probe_frame,
			    .kind = probe_kind};

static void during(const char *what, int old, int new, int (*swap)(char),
		   char set)
{
	sender.nfc = nfc;
	dps_during(&sender, what, old, new, swap, set);
}

static int run1(__be32 src)
{
	struct dpt_run r;
	__u8 f[64];

	frame_from(f, src);
	dpt_set_meta(root, 1, 0);
	dpt_run(root, "nf/1-dd0/prog", f, 64, &r);
	return r.verdict;
}

/* Every probe is decided by set `kind` now. */
static void all_by(const char *what, int kind)
{
	int bad = 0;

	for (unsigned i = 0; i < NPROBES; i++) {
		if (decided_by(i, run1(probe(i))) != kind)
			bad++;
		if (i == 64)
			i = NPROBES - 64; /* the ends of the range suffice */
	}
	CHECK(!bad, "%s: every probe decided by set %c (%d are not)", what,
	      "EO"[kind], bad);
}

/* ---- the limits ---------------------------------------------------------- */

static __u32 flags(void)
{
	int fd = dpt_pinned(root, "nf/1-dd0/map/dd_state");
	struct dd_state st = {0};
	__u32 z = 0;

	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &z, &st);
		close(fd);
	}
	return st.flags;
}

/* The id of limit `pfx` (IPv4) in copy `copy`; 0 if absent. */
static __u32 lim_id(int copy, const char *pfx)
{
	int fd = dpt_pinned(root, copy ? "nf/1-dd0/map/dd_lim4_1"
				       : "nf/1-dd0/map/dd_lim4");
	struct dd_lpm4 k = {0};
	struct dd_limit l = {0};
	char a[32], *sl;

	snprintf(a, sizeof(a), "%s", pfx);
	sl = strchr(a, '/');
	*sl = 0;
	k.plen = atoi(sl + 1);
	inet_pton(AF_INET, a, k.addr);
	if (fd >= 0) {
		/* An LPM lookup finds the longest match: exact only if its
		 * own entry. */
		struct dd_lpm4 nk, pk;
		void *prev = NULL;

		l.id = 0;
		while (!bpf_map_get_next_key(fd, prev, &nk)) {
			pk = nk;
			prev = &pk;
			if (!memcmp(&nk, &k, sizeof(k)))
				bpf_map_lookup_elem(fd, &nk, &l);
		}
		close(fd);
	}
	return l.id;
}

static int lim_replace(const char *json)
{
	json_t *o = json_loads(json, 0, NULL);
	int r = nfc_coll_replace(nfc, "dd0", "limits", o);

	json_decref(o);
	return r;
}

static void limits(void)
{
	__be32 s1 = inet_addr("203.0.113.77"), s2 = inet_addr("203.0.113.200");
	__u32 f0, id;
	int v[3], live, r;

	/* Out of the blocklist, out of the allowlist. */
	r = lim_replace("{\"203.0.113.0/25\": {\"pps\": 1, \"burst\": 2}}");
	live = !!(flags() & DD_ST_LIM_1);
	id = lim_id(live, "203.0.113.0/25");
	CHECK(!r && id,
	      "limits replaced by one: in the copy packets read "
	      "(copy %d, id %u)",
	      live, id);
	for (int i = 0; i < 3; i++)
		v[i] = run1(s1);
	CHECK(v[0] == V_REDIRECT && v[1] == V_REDIRECT && v[2] == V_DROP,
	      "pps=1 burst=2: two pass, the third is dropped (%d %d %d)", v[0],
	      v[1], v[2]);
	CHECK(run1(s2) == V_REDIRECT, "203.0.113.200 is under no limit");

	r = lim_replace("{\"203.0.113.0/25\": {\"pps\": 1, \"burst\": 2},"
			" \"203.0.113.128/25\": {\"pps\": 1, \"burst\": 1}}");
	CHECK(!r && !!(flags() & DD_ST_LIM_1) == !live,
	      "a replace with one more: the other copy is switched in");
	CHECK(lim_id(!live, "203.0.113.0/25") == id &&
		      lim_id(!live, "203.0.113.128/25") &&
		      lim_id(!live, "203.0.113.128/25") != id,
	      "the kept prefix keeps its id (%u), the new one has its own", id);
	CHECK(run1(s1) == V_DROP,
	      "the kept limit keeps its bucket: 203.0.113.77 still dropped");
	v[0] = run1(s2);
	v[1] = run1(s2);
	CHECK(v[0] == V_REDIRECT && v[1] == V_DROP,
	      "the new limit decides 203.0.113.200 (%d %d)", v[0], v[1]);

	f0 = flags();
	r = lim_replace("{\"203.0.113.0/24\": {\"pps\": 1000},"
			" \"203.0.113.0/26\": {\"pps\": 5, \"burst\": 2}}");
	CHECK(r && strstr(nfc_errmsg(nfc), "203.0.113.0/26") && flags() == f0 &&
		      lim_id(!live, "203.0.113.128/25") &&
		      !lim_id(!live, "203.0.113.0/24"),
	      "a set with a bad limit is refused naming it, nothing "
	      "switched: %s",
	      nfc_errmsg(nfc));
	{
		json_t *o = json_object();
		char key[32];

		for (int i = 0; i < DD_MAX_LIMITS + 1; i++) {
			snprintf(key, sizeof(key), "10.%d.%d.0/24", i >> 8,
				 i & 255);
			json_object_set_new(o, key,
					    json_pack("{s:i}", "pps", 9));
		}
		r = nfc_coll_replace(nfc, "dd0", "limits", o);
		json_decref(o);
		CHECK(r && strstr(nfc_errmsg(nfc), "limits at most") &&
			      flags() == f0 &&
			      lim_id(!live, "203.0.113.128/25"),
		      "%d limits are refused, nothing switched: %s",
		      DD_MAX_LIMITS + 1, nfc_errmsg(nfc));
	}
	r = lim_replace("{}");
	CHECK(!r && (flags() & DD_ST_NO_LIM4) && run1(s1) == V_REDIRECT,
	      "replaced by none: packets skip the limits, 203.0.113.77 goes "
	      "on");

	/* (a helper) ids: a limit nested in another took that one's id (an
	 * LPM lookup answers the longest prefix holding the key), and a new
	 * limit took a deleted one's, and with it its buckets. */
	{
		json_t *loose = json_pack("{s:i,s:i}", "pps", 100000000,
					  "burst", 1000000000),
		       *tight = json_pack("{s:i,s:i}", "pps", 1, "burst", 1);
		__u32 outer, inner, gone, fresh;
		int c;

		nfc_coll_add(nfc, "dd0", "limits", "203.0.113.0/24", tight);
		nfc_coll_add(nfc, "dd0", "limits", "203.0.113.64/26", loose);
		c = !!(flags() & DD_ST_LIM_1);
		outer = lim_id(c, "203.0.113.0/24");
		inner = lim_id(c, "203.0.113.64/26");
		CHECK(outer && inner && inner != outer,
		      "a limit nested in another has an id of its own (%u, "
		      "%u)",
		      outer, inner);
		for (int i = 0; i < 3; i++)
			run1(s2); /* the /24's bucket for .200: spent */
		v[0] = run1(inet_addr("203.0.113.70"));
		v[1] = run1(inet_addr("203.0.113.70"));
		CHECK(v[0] == V_REDIRECT && v[1] == V_REDIRECT,
		      "... its sources are under it alone (%d %d)", v[0], v[1]);
		/* A tight limit whose bucket for .100 is spent, deleted; a
		 * loose one added over .100: a reused id met that bucket. */
		nfc_coll_add(nfc, "dd0", "limits", "203.0.113.96/27", tight);
		gone = lim_id(c, "203.0.113.96/27");
		v[0] = run1(inet_addr("203.0.113.100"));
		v[1] = run1(inet_addr("203.0.113.100"));
		CHECK(v[0] == V_REDIRECT && v[1] == V_DROP,
		      "203.0.113.96/27 pps=1 burst=1: .100's second dropped "
		      "(%d %d)",
		      v[0], v[1]);
		nfc_coll_del(nfc, "dd0", "limits", "203.0.113.96/27");
		nfc_coll_add(nfc, "dd0", "limits", "203.0.113.96/28", loose);
		fresh = lim_id(c, "203.0.113.96/28");
		CHECK(fresh && fresh != gone && fresh != outer &&
			      fresh != inner,
		      "deleted, and 203.0.113.96/28 added: a new id (%u; the "
		      "deleted one had %u)",
		      fresh, gone);
		v[0] = run1(inet_addr("203.0.113.100"));
		v[1] = run1(inet_addr("203.0.113.100"));
		CHECK(v[0] == V_REDIRECT && v[1] == V_REDIRECT,
		      "... .100 under it meets no bucket of the deleted one "
		      "(%d %d)",
		      v[0], v[1]);
		r = lim_replace("{}");
		{
			json_t *o = json_object();
			char key[32];

			for (int i = 0; i < DD_MAX_LIMITS; i++) {
				snprintf(key, sizeof(key), "10.%d.%d.0/24",
					 i >> 8, i & 255);
				json_object_set_new(
					o, key, json_pack("{s:i}", "pps", 9));
			}
			r = nfc_coll_replace(nfc, "dd0", "limits", o);
			json_decref(o);
		}
		r = r ? r
		      : nfc_coll_add(nfc, "dd0", "limits", "11.0.0.0/8", loose);
		CHECK(r && strstr(nfc_errmsg(nfc), "does not fit: 1024 IPv4 "
						   "limits at most"),
		      "an add to 1,024 IPv4 limits: refused as full: %s",
		      nfc_errmsg(nfc));
		lim_replace("{}");
		json_decref(loose);
		json_decref(tight);
	}
}

static int setup(void)
{
	int e;

	e = nfc_nf_add(nfc, "forwarder", "f1", "xdp", NULL) ||
	    nfc_port_add(nfc, "f1", "p1", dev[0], NULL) ||
	    nfc_port_add(nfc, "f1", "p2", dev[1], NULL) ||
	    nfc_nf_add(nfc, "ddos", "dd0", "xdp", NULL) ||
	    nfc_attach(nfc, "dd0", dev[0], "ingress", "first") ||
	    nfc_coll_add(nfc, "dd0", "blocklist", "198.18.0.0/15", NULL);
	CHECK(!e, "f1 and dd0, 198.18.0.0/15 blocklisted%s%s", e ? ": " : "",
	      e ? nfc_errmsg(nfc) : "");
	return e;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setenv("NFC_DDOS_FEED_DIR", "/tmp", 1);
	dpt_root(root, sizeof(root), "ds");
	if (dpt_veths("dsw", 2, dev, peer))
		return 1;
	nfc = dpt_open(root);
	if (nfc && !setup()) {
		int r = replace_set('E');

		CHECK(!r, "allowlist set E (%d prefixes)%s%s", NPROBES / 2,
		      r ? ": " : "", r ? nfc_errmsg(nfc) : "");
		all_by("set E", BY_E);
		during("nfc_coll_replace E -> O", BY_E, BY_O, replace_set, 'O');
		all_by("set O", BY_O);
		during("apply O -> E", BY_O, BY_E, apply_set, 'E');
		all_by("set E again", BY_E);
		during("import --replace E -> O", BY_E, BY_O, import_set, 'O');
		all_by("set O again", BY_O);
		{
			json_t *bad = allow_set('E');

			json_object_set_new(bad, "198.18.0.1/24",
					    json_object());
			r = nfc_coll_replace(nfc, "dd0", "allowlist", bad);
			json_decref(bad);
			CHECK(r && strstr(nfc_errmsg(nfc), "198.18.0.1/24"),
			      "a set with one bad prefix is refused, naming "
			      "it: %s",
			      nfc_errmsg(nfc));
			all_by("refused set: set O still", BY_O);
		}
		limits();
	}
	if (nfc) {
		CHECK(!nfc_reset(nfc), "reset");
		nfc_close(nfc);
	}
	dpt_veths_del(2, dev);
	dpt_root_gone(root);
	printf("# %d failed\n", test_failures);
	TEST_EXIT();
}
