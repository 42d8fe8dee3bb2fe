// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The firewall's control plane without a kernel: the rule grammar (every
 * refusal of the issue, each naming its field) and the compiled tables
 * (fw_build.c) against a plain first-match walk of the rules, on random and
 * ClassBench-like sets of 1 to 10,000 rules and packets aimed at them.
 */
#include <time.h>

#include "fw_test.h"
#include "test.h"

static int parse(const char *key, const char *kv, int ct, struct fw_rule *r,
		 char *err, size_t len)
{
	json_t *f = json_object();
	char buf[512], *save, *w;
	int e;

	snprintf(buf, sizeof(buf), "%s", kv);
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(w, '=');

		*eq = 0;
		json_object_set_new(f, w, json_string(eq + 1));
	}
	e = fw_rule_parse(key, f, ct, r, err, len);
	json_decref(f);
	return e;
}

static void grammar(void)
{
	static const struct {
		const char *key, *kv;
		int ct;
		const char *want; /* substring of the error; NULL: accepted */
	} cases[] = {
		{"10", "action=accept state=established,related", 1, NULL},
		{"20", "action=accept dir=out proto=tcp dport=80,443", 1, NULL},
		{"30",
		 "action=drop dir=in src=203.0.113.0/25 proto=udp "
		 "dport=1000-2000",
		 1, NULL},
		{"40", "action=accept src=2001:db8::/32 proto=icmpv6", 1, NULL},
		{"41", "action=accept proto=47", 1, NULL},
		{"42", "action=reject dst=198.51.100.7 proto=tcp sport=0-65535",
		 0, NULL},
		{"x1", "action=accept", 1, "rule number"},
		{"50", "action=allow", 1, "action=allow"},
		{"51", "dir=in", 1, "action= is needed"},
		{"52", "action=accept src=203.0.113.1/24", 1, "host bits"},
		{"53", "action=accept src=203.0.113.0/33", 1, "prefix length"},
		{"54", "action=accept dst=2001:db8::/129", 1, "prefix length"},
		{"54", "action=accept src=203.0.113.0/024", 1,
		 "write it as 24"},
		{"54", "action=accept src=0.0.0.0/00", 1, "write it as 0"},
		{"54", "action=accept src=0.0.0.0/0", 1, NULL},
		{"55", "action=accept src=203.0.113", 1, "not an IPv4 or IPv6"},
		{"55", "action=accept src=198.51.100.1/32,198.51.100.2", 1,
		 "one prefix a rule"},
		{"56", "action=accept src=203.0.113.0/24 dst=2001:db8::/32", 1,
		 "one family"},
		{"57", "action=accept proto=tcp dport=70000", 1,
		 "outside 0-65535"},
		{"58", "action=accept proto=tcp dport=2000-1000", 1,
		 "reversed"},
		{"59", "action=accept proto=icmp dport=80", 1, "has no ports"},
		{"60", "action=accept dport=80", 1, "has no ports"},
		{"61", "action=accept state=new", 0, "conntrack=on"},
		{"62", "action=accept state=old", 1, "state=old"},
		{"63", "action=accept proto=256", 1, "proto=256"},
		{"63", "action=accept proto=256", 1, "sctp, udplite, any"},
		{"63", "action=accept proto=sctp dport=9", 1,
		 "tcp and udp only"},
		{"64", "action=accept proto=tcp sport=80,", 1, "ends with"},
		{"65", "action=accept dir=up", 1, "dir=up"},
		{"66", "action=accept proto=icmpv6 src=203.0.113.0/24", 1,
		 "icmpv6"},
		{"67",
		 "action=accept proto=tcp dport=1-2,3,4,5,6,7,8,9,10,11,12,"
		 "13,14,15,16,17,18",
		 1, "at most"},
	};

	test_group = "grammar";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fw_rule r;
		char err[320] = "";
		int e = parse(cases[i].key, cases[i].kv, cases[i].ct, &r, err,
			      sizeof(err));

		if (!cases[i].want)
			CHECK(!e, "rule %s %s accepted%s%s", cases[i].key,
			      cases[i].kv, e ? ": " : "", err);
		else
			CHECK(e && strstr(err, cases[i].want),
			      "rule %s %s refused: %s", cases[i].key,
			      cases[i].kv, err);
	}
	{
		struct fw_rule r;
		char err[320];
		json_t *o;

		parse("20",
		      "action=accept dir=out proto=tcp dport=80,443,1000-2000",
		      1, &r, err, sizeof(err));
		o = fw_rule_json(&r);
		CHECK(!strcmp(json_string_value(json_object_get(o, "dport")),
			      "80,443,1000-2000") &&
			      !strcmp(json_string_value(
					      json_object_get(o, "dir")),
				      "out"),
		      "a rule printed back as given");
		json_decref(o);
	}
}

/* n random rules (sorted), `npk` packets: tables against the walk. */
static void one_set(__u64 seed, __u32 n, int classbench, int npk)
{
	struct fw_rule *rs = calloc(n + 1, sizeof(*rs));
	struct fw_tables t;
	struct timespec a, b;
	int bad = 0, e, hits = 0;
	__u64 s = seed;

	for (__u32 i = 0; i < n; i++)
		ft_rule(&s, 10 * (i + 1), classbench, &rs[i]);
	clock_gettime(CLOCK_MONOTONIC, &a);
	e = fw_build(rs, n, &t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (e) {
		CHECK(0, "build %u rules: %d", n, e);
		free(rs);
		return;
	}
	for (int i = 0; i < npk; i++) {
		struct ft_pkt p;
		int want, got, nop;

		ft_packet(&s,
			  ft_rand(&s) % 5 && n ? &rs[ft_rand(&s) % n] : NULL,
			  &p);
		nop = p.frag || !ft_has_ports(p.proto);
		want = ft_ref(rs, n, &p);
		got = fw_tables_classify(&t, p.dir, p.v6, FW_ST_NEW, p.proto,
					 p.src, p.dst, nop ? -1 : p.sport,
					 nop ? -1 : p.dport);
		hits += want >= 0;
		if (want != got && bad++ < 3)
			printf("# seed %llu packet %d: walk says %d, tables "
			       "%d\n",
			       (unsigned long long)seed, i, want, got);
	}
	CHECK(!bad,
	      "%s set of %u rules, seed %llu: %d packets (%d matched a "
	      "rule), tables agree with the walk (%d differ); %u classes, "
	      "built in %.1f ms",
	      classbench ? "ClassBench-like" : "random", n,
	      (unsigned long long)seed, npk, hits, bad, t.ncls,
	      (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
	fw_tables_free(&t);
	free(rs);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	grammar();
	test_group = "tables";
	one_set(1, 0, 0, 1000);
	one_set(2, 1, 0, 1000);
	one_set(3, 10, 0, 20000);
	one_set(4, 100, 0, 20000);
	one_set(5, 1000, 0, 20000);
	one_set(6, 100, 1, 20000);
	one_set(7, 1000, 1, 20000);
	one_set(8, 10000, 1, 5000);
	one_set(9, 130, 0, 20000); /* more than two words */
	TEST_EXIT();
}
