// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Pure logic of the runtime: names, field checks, prefixes, the paths a
 * model compiles to (splicing and mirror order), stub numbering, limits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "paths.h"
#include "test.h"

static struct nfc nfc_buf;

static int nf_new(struct model *m, int id, const char *name, const char *type,
		  const char *mode)
{
	struct mnf *n = &m->nfs[id];

	n->used = true;
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->mode, sizeof(n->mode), "%s", mode);
	n->type = nfci_type_find(type);
	return id;
}

static void port_new(struct model *m, int nf, int p, const char *name)
{
	m->nfs[nf].ports[p].used = true;
	snprintf(m->nfs[nf].ports[p].name, NFC_NAME_MAX, "%s", name);
}

static void peer_dev(struct model *m, int nf, int p, const char *dev, int ifx)
{
	struct endpoint *e = &m->nfs[nf].ports[p].peer;

	e->kind = PEER_DEV;
	snprintf(e->dev, sizeof(e->dev), "%s", dev);
	e->ifindex = ifx;
}

static void peer_nf(struct model *m, int a, int pa, int b, int pb)
{
	m->nfs[a].ports[pa].peer =
		(struct endpoint){.kind = PEER_NF, .nf = b, .port = pb};
	m->nfs[b].ports[pb].peer =
		(struct endpoint){.kind = PEER_NF, .nf = a, .port = pa};
}

static void attach(struct model *m, int slot, int nf, int pair,
		   struct endpoint t, int dirs, int rank)
{
	m->att[slot] = (struct mattach){.used = true,
					.nf = nf,
					.pair = pair,
					.target = t,
					.dirs = dirs,
					.rank = rank};
}

/* dev0 - f0 - f1 - ... - f<n-1> - dev1, NF ids 0..n-1 */
static void forwarder_line(struct model *m, int n)
{
	for (int i = 0; i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		nf_new(m, i, name, "forwarder", "xdp");
		port_new(m, i, 0, "p1");
		port_new(m, i, 1, "p2");
		if (i)
			peer_nf(m, i - 1, 1, i, 0);
	}
	peer_dev(m, 0, 0, "dev0", 10);
	peer_dev(m, n - 1, 1, "dev1", 11);
}

static int hop_is(const struct nfc_hop *h, int kind, int nf, int port)
{
	return (int)h->kind == kind &&
	       (kind != NFC_HOP_NF ||
		((int)h->nf == nf && (int)h->port == port));
}

static void test_names(struct nfc *nfc)
{
	CHECK(!nfci_check_name(nfc, "NF", "br0_x-1"), "plain name accepted");
	CHECK(nfci_check_name(nfc, "NF", "a/b") && strstr(nfc->err, "'/'"),
	      "slash refused, named: %s", nfc->err);
	CHECK(nfci_check_name(nfc, "NF", ".."), "dots refused");
	CHECK(nfci_check_name(nfc, "NF", ""), "empty refused");
	CHECK(nfci_check_name(nfc, "NF", "-x"), "leading dash refused");
	CHECK(nfci_check_name(nfc, "NF", "0123456789012345678901234567890123"),
	      "too long refused");
}

static void test_parsers(void)
{
	uint8_t mac[6];
	uint32_t a;
	unsigned l;

	CHECK(!nfc_parse_mac("02:00:00:00:00:01", mac) && mac[5] == 1,
	      "MAC parsed");
	CHECK(nfc_parse_mac("02:00:00:00:00", mac), "short MAC refused");
	CHECK(nfc_parse_mac("02:00:00:00:00:01:02", mac), "long MAC refused");
	CHECK(!nfc_parse_prefix("198.51.100.0/24", &a, &l, 0) && l == 24 &&
		      a == 0xc6336400,
	      "prefix parsed");
	CHECK(nfc_parse_prefix("10.0.0.1/33", &a, &l, 0) == -ERANGE,
	      "/33 refused as out of range");
	CHECK(nfc_parse_prefix("198.51.100.1/24", &a, &l, 0) == -EEXIST,
	      "host bits set reported");
	CHECK(!nfc_parse_prefix("198.51.100.1/24", &a, &l, 1),
	      "host bits allowed for an interface address");
	CHECK(nfc_parse_prefix("198.51.300.1/24", &a, &l, 1), "octet > 255");
	CHECK(!nfc_parse_prefix("0.0.0.0/0", &a, &l, 0) && l == 0,
	      "default route");
}

static void test_fields(struct nfc *nfc)
{
	static const struct nfc_field f[] = {
		{.name = "aging",
		 .kind = NFC_F_UINT,
		 .def = "300",
		 .min = 1,
		 .max = 86400},
		{.name = "mode",
		 .kind = NFC_F_ENUM,
		 .choices = "access|trunk",
		 .def = "access"},
		{.name = "allowed",
		 .kind = NFC_F_UINT_LIST,
		 .min = 1,
		 .max = 4094},
		{.name = "on", .kind = NFC_F_BOOL},
		{.name = "ip", .kind = NFC_F_PREFIX},
		NFC_FIELDS_END,
	};
	json_t *in, *out = NULL;
	int r;

	in = json_pack("{s:s,s:s,s:s}", "aging", "60", "allowed", "10,20", "on",
		       "yes");
	r = nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out);
	CHECK(!r && json_integer_value(json_object_get(out, "aging")) == 60,
	      "string converted by kind");
	CHECK(out && !strcmp(json_string_value(json_object_get(out, "mode")),
			     "access"),
	      "default filled in");
	CHECK(out && json_array_size(json_object_get(out, "allowed")) == 2,
	      "list parsed");
	CHECK(out && json_is_true(json_object_get(out, "on")), "bool parsed");
	json_decref(in);
	json_decref(out);
	in = json_pack("{s:s}", "speed", "1");
	CHECK(nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out) &&
		      strstr(nfc->err, "unknown field 'speed'"),
	      "unknown field named: %s", nfc->err);
	json_decref(in);
	in = json_pack("{s:i}", "aging", 0);
	CHECK(nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out) &&
		      strstr(nfc->err, "outside 1..86400"),
	      "range named: %s", nfc->err);
	json_decref(in);
	in = json_pack("{s:s}", "mode", "hybrid");
	CHECK(nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out) &&
		      strstr(nfc->err, "not one of access|trunk"),
	      "enum choices named: %s", nfc->err);
	json_decref(in);
	in = json_pack("{s:s}", "allowed", "10,5000");
	CHECK(nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out) &&
		      strstr(nfc->err, "'allowed': 5000 is outside 1..4094"),
	      "list member out of range refused, worded as one number's: %s",
	      nfc->err);
	json_decref(in);
	in = json_pack("{s:s}", "ip", "10.0.0.1/33");
	CHECK(nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out) &&
		      strstr(nfc->err, "over 32"),
	      "prefix length named: %s", nfc->err);
	json_decref(in);
	in = json_pack("{s:b}", "aging", 1);
	CHECK(nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out) &&
		      strstr(nfc->err, "wrong type: 'true'"),
	      "wrong JSON type named, with the value: %s", nfc->err);
	json_decref(in);
	in = json_pack("{s:s}", "on", "maybe");
	CHECK(nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out) &&
		      strstr(nfc->err, "'maybe' (on or off"),
	      "a bad bool quotes the value: %s", nfc->err);
	json_decref(in);
	in = json_pack("{s:s}", "aging", "-1");
	CHECK(nfci_fields_check(nfc, "NF t", f, in, 1, NULL, &out) &&
		      strstr(nfc->err, "'-1' is not a number in"),
	      "a negative number typed names the range: %s", nfc->err);
	json_decref(in);
}

/* dev0 - [c0, c1 on dev0] - f:p1  f:p2 - [c2 on f:p2] - g:p1 ; g:p2 - dev1 */
static void test_paths(struct nfc *nfc)
{
	struct model *m = model_new();
	struct nfc_hop *h = calloc(NFC_GPORTS, sizeof(*h));
	struct nfc_hop *s = calloc(NFC_MAX_STUBS, sizeof(*s));
	struct endpoint dev0 = {.kind = PEER_DEV, .ifindex = 10};
	struct endpoint fp2 = {.kind = PEER_NF, .nf = 0, .port = 1};
	int f = nf_new(m, 0, "f", "forwarder", "xdp");
	int g = nf_new(m, 1, "g", "forwarder", "xdp");
	int c0 = nf_new(m, 2, "c0", "counter", "xdp");
	int c1 = nf_new(m, 3, "c1", "counter", "xdp");
	int c2 = nf_new(m, 4, "c2", "counter", "xdp");
	int in, out;

	snprintf(dev0.dev, sizeof(dev0.dev), "dev0");
	port_new(m, f, 0, "p1");
	port_new(m, f, 1, "p2");
	port_new(m, g, 0, "p1");
	port_new(m, g, 1, "p2");
	peer_dev(m, f, 0, "dev0", 10);
	peer_nf(m, f, 1, g, 0);
	peer_dev(m, g, 1, "dev1", 11);
	attach(m, 0, c1, 0, dev0, DIR_IN | DIR_EG, 1);
	attach(m, 1, c0, 3, dev0, DIR_IN | DIR_EG, 0); /* first */
	attach(m, 2, c2, 0, fp2, DIR_EG, 0);	       /* egress only */

	CHECK(!paths_assign_stubs(nfc, m), "stubs assigned");
	in = m->stubs[0].ifindex == 10 ? 0 : 1;
	out = in ^ 1;
	CHECK(m->stubs[in].used && m->stubs[out].used &&
		      m->stubs[out].ifindex == 11 && !m->stubs[in].egress,
	      "one ingress hook per netdev peer");
	paths_compute(m, h, s);
	/* ingress on dev0: c0 (first), c1, then f:p1 */
	CHECK(hop_is(&s[in], NFC_HOP_NF, c0, 6),
	      "dev0 ingress enters c0 first, on its ingress side");
	CHECK(hop_is(&h[NFC_GPORT(c0, 7)], NFC_HOP_NF, c1, 0), "then c1");
	CHECK(hop_is(&h[NFC_GPORT(c1, 1)], NFC_HOP_NF, f, 0), "then f:p1");
	/* the mirror: f:p1 out crosses c1 then c0 (egress sides), then dev0 */
	CHECK(hop_is(&h[NFC_GPORT(f, 0)], NFC_HOP_NF, c1, 1),
	      "f:p1 out enters c1 egress side");
	CHECK(hop_is(&h[NFC_GPORT(c1, 0)], NFC_HOP_NF, c0, 7), "then c0");
	CHECK(h[NFC_GPORT(c0, 6)].kind == NFC_HOP_NETDEV &&
		      h[NFC_GPORT(c0, 6)].ifindex == 10,
	      "then out to dev0");
	/* f:p2 -> g:p1 crosses c2 (egress only); the way back does not */
	CHECK(hop_is(&h[NFC_GPORT(f, 1)], NFC_HOP_NF, c2, 1),
	      "f:p2 out crosses c2");
	CHECK(hop_is(&h[NFC_GPORT(c2, 0)], NFC_HOP_NF, g, 0), "then g:p1");
	CHECK(hop_is(&h[NFC_GPORT(g, 0)], NFC_HOP_NF, f, 1),
	      "g:p1 back straight to f:p2");
	CHECK(paths_check(nfc, m, h, s) == 0,
	      "a legal model passes the checks");

	/* renumbering keeps existing stubs */
	int keep = m->stubs[in].ifindex;
	m->att[2].used = false;
	CHECK(!paths_assign_stubs(nfc, m) && m->stubs[in].ifindex == keep,
	      "an unchanged hook keeps its number");

	/* a TC NF linked to an XDP one is refused */
	snprintf(m->nfs[g].mode, sizeof(m->nfs[g].mode), "tc");
	CHECK(paths_check(nfc, m, h, s) &&
		      strstr(nfc->err, "share a hook type"),
	      "mixed hooks refused: %s", nfc->err);
	model_free(m);

	/* depth: a line of 33 forwarders is one too many */
	m = model_new();
	forwarder_line(m, 33);
	paths_assign_stubs(nfc, m);
	paths_compute(m, h, s);
	CHECK(paths_check(nfc, m, h, s) == -E2BIG &&
		      strstr(nfc->err, "limit is 32"),
	      "33 NFs in a row: %s", nfc->err);
	m->nfs[32].used = false;
	m->nfs[31].ports[1].peer.kind = PEER_NONE;
	paths_assign_stubs(nfc, m);
	paths_compute(m, h, s);
	CHECK(paths_check(nfc, m, h, s) == 0, "32 in a row is allowed");
	model_free(m);

	/* A filter (and a capture) takes three tail calls: 30 forwarders and
	 * a counter fit, 30 and a filter do not, 29 and a filter do. Found
	 * by a helper: 12 filters on a path passed the NF count and every
	 * packet was dropped. */
	for (int n = 30, t = 0; t < 3; t++) {
		struct endpoint out;
		const char *type = t == 0 ? "counter" : "filter";
		int r;

		if (t == 2)
			n = 29;
		m = model_new();
		forwarder_line(m, n);
		out = (struct endpoint){
			.kind = PEER_NF, .nf = n - 1, .port = 1};
		nf_new(m, n, "x", type, "xdp");
		attach(m, 0, n, 0, out, DIR_EG, 0);
		paths_assign_stubs(nfc, m);
		paths_compute(m, h, s);
		r = paths_check(nfc, m, h, s);
		if (t == 1)
			CHECK(r == -E2BIG &&
				      strstr(nfc->err, "31 NFs, 33 tail calls"),
			      "30 forwarders and a filter: %s", nfc->err);
		else
			CHECK(r == 0, "%d forwarders and a %s: allowed (%s)", n,
			      type, r ? nfc->err : "");
		model_free(m);
	}
	free(h);
	free(s);
}

static void test_model_json(struct nfc *nfc)
{
	struct model *m = model_new(), *back = model_new();
	json_t *doc;
	uint64_t gen;
	int f = nf_new(m, 3, "f", "forwarder", "tc");

	m->nfs[f].config = json_object();
	m->nfs[f].colls = json_object();
	port_new(m, f, 1, "p2");
	m->nfs[f].ports[1].config = json_object();
	peer_dev(m, f, 1, "eth9", 99);
	doc = model_to_json(m, 7);
	CHECK(!model_from_json(nfc, doc, back, &gen) && gen == 7,
	      "model round trip");
	CHECK(back->nfs[3].used && !strcmp(back->nfs[3].mode, "tc") &&
		      back->nfs[3].ports[1].peer.ifindex == 99,
	      "ids, modes and peers survive");
	json_decref(doc);
	model_free(m);
	model_free(back);
}

/* mode auto: the hook per group of NFs (lib/automode.c). "lo" is the one
 * netdev every namespace has (virtual: TC); an ifindex nobody has is a
 * netdev that went away, which tells nothing. No NIC here to see XDP
 * picked for one: a previous pick stands in for it. */
static void test_automode(struct nfc *nfc)
{
	struct model *m = model_new();
	struct endpoint gone = {
		.kind = PEER_DEV, .dev = "gone0", .ifindex = 0x7ffffff0};
	int a, b, c, d, e, f, g, cnt;

	a = nf_new(m, 0, "a", "forwarder", "auto");
	port_new(m, a, 0, "p1");
	peer_dev(m, a, 0, "lo", 1);
	b = nf_new(m, 1, "b", "forwarder", "auto");
	c = nf_new(m, 2, "c", "forwarder", "xdp");
	port_new(m, b, 0, "p1");
	port_new(m, c, 0, "p1");
	peer_nf(m, b, 0, c, 0);
	port_new(m, b, 1, "p2");
	peer_dev(m, b, 1, gone.dev, gone.ifindex + 3);
	d = nf_new(m, 3, "d", "forwarder", "auto");
	port_new(m, d, 0, "p1");
	peer_dev(m, d, 0, gone.dev, gone.ifindex);
	e = nf_new(m, 4, "e", "forwarder", "auto");
	port_new(m, e, 0, "p1");
	peer_dev(m, e, 0, gone.dev, gone.ifindex + 1);
	m->nfs[e].auto_hook = HOOK_XDP; /* picked before, for a NIC */
	snprintf(m->nfs[e].auto_why, sizeof(m->nfs[e].auto_why), "nic");
	cnt = nf_new(m, 5, "cnt", "counter", "auto");
	f = nf_new(m, 6, "f", "forwarder", "auto");
	port_new(m, f, 0, "p1");
	peer_dev(m, f, 0, gone.dev, gone.ifindex + 2);
	attach(m, 0, cnt, 0, m->nfs[f].ports[0].peer, DIR_IN | DIR_EG, 0);
	m->nfs[f].auto_hook = HOOK_XDP;
	snprintf(m->nfs[f].auto_why, sizeof(m->nfs[f].auto_why), "nic");
	/* Linked to an XDP NF before, alone now (found by a helper: show
	 * named the NF it had been linked to, deleted since). */
	g = nf_new(m, 7, "g", "counter", "auto");
	m->nfs[g].auto_hook = HOOK_XDP;
	snprintf(m->nfs[g].auto_why, sizeof(m->nfs[g].auto_why), "with zz");

	CHECK(!paths_resolve_auto(nfc, m), "resolve");
	CHECK(nf_hook(&m->nfs[a]) == HOOK_TC &&
		      !strcmp(m->nfs[a].auto_why, "loopback"),
	      "virtual netdev: tc (%s)", m->nfs[a].auto_why);
	CHECK(nf_hook(&m->nfs[b]) == HOOK_XDP &&
		      !strcmp(m->nfs[b].auto_why, "with c"),
	      "linked to an explicit xdp NF: xdp, whatever its netdev (%s)",
	      m->nfs[b].auto_why);
	CHECK(nf_hook(&m->nfs[c]) == HOOK_XDP, "explicit xdp stays xdp");
	/* b on lo too: one netdev, one group, and c's mode wins over it */
	peer_dev(m, b, 1, "lo", 1);
	CHECK(!paths_resolve_auto(nfc, m) && nf_hook(&m->nfs[a]) == HOOK_XDP &&
		      !strcmp(m->nfs[a].auto_why, "with c"),
	      "NFs on one netdev share a hook: a follows c (%s)",
	      m->nfs[a].auto_why);
	CHECK(nf_hook(&m->nfs[d]) == HOOK_TC &&
		      !strcmp(m->nfs[d].auto_why, "no netdev yet"),
	      "no netdev to go by: tc (%s)", m->nfs[d].auto_why);
	CHECK(nf_hook(&m->nfs[e]) == HOOK_XDP &&
		      !strcmp(m->nfs[e].auto_why, "nic"),
	      "its netdev gone: the previous pick stays (%s)",
	      m->nfs[e].auto_why);
	CHECK(nf_hook(&m->nfs[f]) == HOOK_TC &&
		      nf_hook(&m->nfs[cnt]) == HOOK_TC &&
		      !strcmp(m->nfs[f].auto_why, "egress attachment"),
	      "an egress attachment on the group's netdev: tc for both (%s)",
	      m->nfs[f].auto_why);
	CHECK(nf_hook(&m->nfs[g]) == HOOK_XDP &&
		      !strcmp(m->nfs[g].auto_why, "kept from before"),
	      "unlinked from the NF it followed: its hook kept, not its "
	      "reason (%s)",
	      m->nfs[g].auto_why);
	model_free(m);
}

int main(void)
{
	struct nfc *nfc = &nfc_buf;

	test_names(nfc);
	test_parsers();
	test_fields(nfc);
	test_paths(nfc);
	test_model_json(nfc);
	test_automode(nfc);
	TEST_EXIT();
}
