// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lb's Maglev builder (lb_maglev.c) and keys (lb_key.c), without a
 * kernel. On random backend sets: every slot filled with a backend of the
 * set; shares within 1% of the table of what the weights ask; the same
 * table whatever the order the backends come in; removing one backend of
 * N moves all of its slots and only a small fraction of the others (the
 * paper's extra disruption: measured and printed, and bounded).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "lb/lb_key.h"
#include "lb/lb_maglev.h"
#include "test.h"

static uint64_t rng = 0x243f6a8885a308d3ull; /* deterministic */

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* n distinct random backends (IPv4 or IPv6, some with a port), ids 0..n-1. */
static void random_set(struct lb_mg_be *b, size_t n, int weighted)
{
	for (size_t i = 0; i < n; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].family = rnd() % 4 ? 4 : 6;
		for (int k = 0; k < (b[i].family == 4 ? 4 : 16); k++)
			b[i].addr[k] = rnd();
		b[i].addr[0] = 198; /* distinct: the index in the last bytes */
		b[i].addr[2] = i >> 8;
		b[i].addr[3] = i;
		b[i].port = rnd() % 3 ? 0 : 1024 + rnd() % 1000;
		b[i].weight = weighted ? 1 + rnd() % 10 : 1;
		b[i].id = i;
	}
}

static void shuffle(struct lb_mg_be *b, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1);
		struct lb_mg_be t = b[i];

		b[i] = b[j];
		b[j] = t;
	}
}

static void test_primes(void)
{
	uint32_t t[16];
	struct lb_mg_be b = {.family = 4, .weight = 1};

	CHECK(lb_is_prime(65537) && lb_is_prime(2) && lb_is_prime(131071) &&
		      !lb_is_prime(65536) && !lb_is_prime(1) &&
		      !lb_is_prime(0) && !lb_is_prime(65539 * 3),
	      "primality");
	CHECK(lb_maglev_build(t, 15, &b, 1) == -EINVAL,
	      "a table size that is not prime is refused");
	CHECK(lb_maglev_build(t, 13, &b, 0) == -EINVAL, "no backend: refused");
	b.weight = 0;
	CHECK(lb_maglev_build(t, 13, &b, 1) == -EINVAL, "weight 0: refused");
}

/* Shares: weighted sets of 2-20 backends in the default table. */
static void test_weights(void)
{
	const uint32_t m = 65537;
	uint32_t *t = malloc(m * sizeof(*t)), cnt[20];
	struct lb_mg_be b[20];
	double worst = 0;
	int bad = 0, filled = 1;

	for (int run = 0; run < 100; run++) {
		size_t n = 2 + rnd() % 19;
		uint32_t wsum = 0;

		random_set(b, n, 1);
		memset(t, 0xff, m * sizeof(*t));
		if (lb_maglev_build(t, m, b, n)) {
			bad++;
			continue;
		}
		memset(cnt, 0, sizeof(cnt));
		for (uint32_t i = 0; i < m; i++) {
			if (t[i] >= n) {
				filled = 0;
				break;
			}
			cnt[t[i]]++;
		}
		for (size_t i = 0; i < n; i++)
			wsum += b[i].weight;
		for (size_t i = 0; i < n; i++) {
			double want = (double)m * b[i].weight / wsum;
			double off = (cnt[i] - want) / m;

			if (off < 0)
				off = -off;
			if (off > worst)
				worst = off;
		}
	}
	CHECK(!bad && filled, "100 weighted sets: every slot holds a backend");
	printf("# weights: worst share off by %.4f%% of the table\n",
	       100 * worst);
	CHECK(worst <= 0.01,
	      "shares within 1%% of the table of the weights' "
	      "(worst %.4f%%)",
	      100 * worst);
	free(t);
}

/* Order independence and disturbance on 1,000 random sets. */
static void test_sets(void)
{
	const uint32_t m = 16381; /* prime, >= 100 x 32 */
	uint32_t *t1 = malloc(m * sizeof(*t1)), *t2 = malloc(m * sizeof(*t2));
	struct lb_mg_be b[32], s[32];
	int same = 1, gone_moved = 1, err = 0;
	double sum = 0, worst = 0;

	CHECK(lb_is_prime(m), "the test's table size %u is prime", m);
	for (int run = 0; run < 1000; run++) {
		size_t n = 2 + rnd() % 31, x = rnd() % n, moved = 0, j = 0;

		random_set(b, n, run & 1);
		memcpy(s, b, sizeof(s));
		shuffle(s, n);
		err |= lb_maglev_build(t1, m, b, n);
		err |= lb_maglev_build(t2, m, s, n);
		if (memcmp(t1, t2, m * sizeof(*t1)))
			same = 0;
		/* Without backend x (ids stay: the table names ids). */
		for (size_t i = 0; i < n; i++)
			if (i != x)
				s[j++] = b[i];
		shuffle(s, j);
		err |= lb_maglev_build(t2, m, s, j);
		for (uint32_t i = 0; i < m; i++) {
			if (t2[i] == x)
				gone_moved = 0;
			if (t1[i] != x && t1[i] != t2[i])
				moved++;
		}
		sum += (double)moved / m;
		if ((double)moved / m > worst)
			worst = (double)moved / m;
	}
	CHECK(!err, "1000 sets built");
	CHECK(same, "1000 sets: the same table whatever the order of the "
		    "backends");
	CHECK(gone_moved, "a removed backend keeps no slot");
	printf("# removing 1 of 2-32 backends moves, besides its own slots, "
	       "%.3f%% of the table on average, %.3f%% at worst\n",
	       100 * sum / 1000, 100 * worst);
	/* Maglev trades a little disruption for balance; the paper measures
	 * a few percent. A bug (a table rebuilt from another order, another
	 * hash) moves most of the table. */
	CHECK(sum / 1000 < 0.02 && worst < 0.06,
	      "other backends' slots moved: %.3f%% on average, %.3f%% at worst "
	      "(bounds 2%%, 6%%)",
	      100 * sum / 1000, 100 * worst);
	free(t1);
	free(t2);
}

static void test_keys(void)
{
	struct lb_vip v;
	struct lb_be b;
	char e[256], s[128];

	CHECK(!lb_parse_svc("203.0.113.100:80/tcp", &v, e, sizeof(e)) &&
		      v.family == 4 &&
		      v.addr[0] == inet_addr("203.0.113.100") &&
		      v.port == htons(80) && v.proto == 6,
	      "service key IPv4");
	CHECK(!lb_parse_be("203.0.113.100:80/tcp/198.51.100.12:8080", &v, &b, e,
			   sizeof(e)) &&
		      b.port == htons(8080) &&
		      b.addr[0] == inet_addr("198.51.100.12"),
	      "backend key with a port");
	lb_be_str(&v, &b, s, sizeof(s));
	CHECK(!strcmp(s, "203.0.113.100:80/tcp/198.51.100.12:8080"),
	      "backend key printed back: %s", s);
	CHECK(!lb_parse_be("[2001:db8::100]:80/udp/[2001:db8::11]", &v, &b, e,
			   sizeof(e)) &&
		      v.family == 6 && b.family == 6 && v.proto == 17 &&
		      !b.port,
	      "IPv6 backend key");
	lb_be_str(&v, &b, s, sizeof(s));
	CHECK(!strcmp(s, "[2001:db8::100]:80/udp/[2001:db8::11]"),
	      "IPv6 key printed back: %s", s);
	/* Refused keys, each naming what is wrong. The last four: one
	 * spelling a key, the one show prints. */
	static const struct {
		int be; /* a backend key, else a service key */
		const char *key, *want, *want2, *what;
	} bad[] = {
		{0, "203.0.113.100:80/sctp", "protocol", NULL,
		 "bad protocol named"},
		{0, "203.0.113.300:80/tcp", "address", NULL,
		 "bad address named"},
		{0, "203.0.113.1:70000/tcp", "port", NULL, "bad port named"},
		{0, "203.0.113.1/tcp", "port", NULL, "missing port named"},
		{1, "203.0.113.1:80/tcp/[2001:db8::1]", "IPv6", "IPv4",
		 "family mismatch named"},
		{1, "203.0.113.1:80/tcp/2001:db8::1", "brackets", NULL,
		 "unbracketed IPv6 named"},
		{1, "[2001:db8::1:80/tcp/[2001:db8::2]", "]", NULL,
		 "unclosed bracket named"},
		{0, "[2001:db8:0::100]:80/tcp",
		 "write it as [2001:db8::100]:80/tcp", NULL,
		 "IPv6 service not in RFC 5952 form refused"},
		{0, "203.0.113.100:080/tcp", "write it as 203.0.113.100:80/tcp",
		 NULL, "service port with a leading zero refused"},
		{1, "203.0.113.100:80/tcp/198.51.100.11:080",
		 "write it as 203.0.113.100:80/tcp/198.51.100.11:80", NULL,
		 "backend port with a leading zero refused"},
		{1, "[2001:db8::100]:80/tcp/[2001:DB8::11]",
		 "write it as [2001:db8::100]:80/tcp/[2001:db8::11]", NULL,
		 "upper-case IPv6 backend refused"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = bad[i].be
				? lb_parse_be(bad[i].key, &v, &b, e, sizeof(e))
				: lb_parse_svc(bad[i].key, &v, e, sizeof(e));

		CHECK(r && strstr(e, bad[i].want) &&
			      (!bad[i].want2 || strstr(e, bad[i].want2)),
		      "%s: %s", bad[i].what, e);
	}
}

int main(void)
{
	test_primes();
	test_keys();
	test_weights();
	test_sets();
	TEST_EXIT();
}
