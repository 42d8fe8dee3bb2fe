// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The NF plumbing of nfchain/nf.h (lib/nfutil.c, lib/mapcount.c): per-CPU
 * sums on a real per-CPU map, hash walks in slices and the kernel's count
 * of a hash map, MAC text, config values, the changed() hook, and a
 * durable append that a full disk cuts short. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "internal.h"
#include "test.h"

static int calls[4], last_id = -1;

static void on_changed(struct nfc_nf *nf, enum nfc_change why)
{
	calls[why]++;
	last_id = nfc_nf_id(nf);
}

static const struct nfc_nf_type hooked = {.name = "hooked",
					  .changed = on_changed};
static const struct nfc_nf_type plain = {.name = "plain"};

static void test_percpu(void)
{
	unsigned n = nfc_ncpus();
	/* Two u64 per CPU: 16-byte values, as the kernel strides them. */
	uint64_t v[2 * 64] = {0};
	uint32_t k = 1;
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "nfutil_t", 4, 16, 4,
				NULL);

	CHECK(fd >= 0, "per-CPU array created (%u CPUs)", n);
	if (fd < 0 || n > 64)
		return;
	for (unsigned c = 0; c < n; c++) {
		v[2 * c] = c + 1;
		v[2 * c + 1] = 100;
	}
	CHECK(!bpf_map_update_elem(fd, &k, v, BPF_ANY), "per-CPU values set");
	CHECK(nfc_percpu_sum(fd, k, 16, 0) == n * (n + 1) / 2,
	      "sum of the first u64 over the CPUs");
	CHECK(nfc_percpu_sum(fd, k, 16, 8) == 100ull * n,
	      "sum of the second u64 (offset 8)");
	CHECK(nfc_percpu_add(fd, k, 16, 8, 5) == 0 &&
		      nfc_percpu_sum(fd, k, 16, 8) == 100ull * n + 5,
	      "add goes to one CPU's copy and shows in the sum");
	CHECK(nfc_percpu_sum(fd, k, 16, 0) == n * (n + 1) / 2,
	      "add leaves the other field alone");
	CHECK(nfc_percpu_sum(fd, k, 16, 12) == 0 &&
		      nfc_percpu_add(fd, k, 16, 12, 1) < 0,
	      "a u64 past the value's end is refused");
	CHECK(nfc_percpu_sum(fd, 9, 16, 0) == 0, "a missing key sums to 0");
	CHECK(nfc_percpu_sum(-1, 0, 16, 0) == 0, "no map sums to 0");
	close(fd);
}

static void test_array_read(void)
{
	uint64_t v[300], got[300];
	int fd =
		bpf_map_create(BPF_MAP_TYPE_ARRAY, "nfutil_a", 4, 8, 300, NULL);
	int same = 1;

	CHECK(fd >= 0, "array map created");
	if (fd < 0)
		return;
	for (uint32_t i = 0; i < 300; i++) {
		v[i] = 1000 + i * 7;
		bpf_map_update_elem(fd, &i, &v[i], BPF_ANY);
	}
	memset(got, 0xff, sizeof(got));
	CHECK(!nfc_array_read(fd, got, 8, 300), "array_read: whole map");
	for (int i = 0; i < 300; i++)
		same &= got[i] == v[i];
	CHECK(same, "array_read: every entry, in index order");
	memset(got, 0xff, sizeof(got));
	CHECK(!nfc_array_read(fd, got, 8, 10) && got[9] == v[9] &&
		      got[10] == ~0ull,
	      "array_read: the first n entries only");
	CHECK(nfc_array_read(-1, got, 8, 1) < 0, "array_read: no map refused");
	close(fd);
}

static void test_changed(void)
{
	static struct nfc nfc;
	struct model *m = model_new();

	nfc.m = m;
	for (unsigned i = 0; i < NFC_MAX_NFS; i++)
		nfc.handles[i] = (struct nfc_nf){.nfc = &nfc, .id = i};
	m->nfs[3] = (struct mnf){.used = true, .type = &hooked};
	m->nfs[4] = (struct mnf){.used = true, .type = &plain};
	nf_changed(&nfc, 3, NFC_CHANGE_TICK);
	nf_changed(&nfc, 3, NFC_CHANGE_COLLECTION);
	nf_changed(&nfc, 4, NFC_CHANGE_TICK); /* no hook: nothing */
	CHECK(calls[NFC_CHANGE_TICK] == 1 &&
		      calls[NFC_CHANGE_COLLECTION] == 1 && last_id == 3,
	      "changed() runs for the NF that declares it, with the reason");

	m->nfs[3].config = json_pack("{s:i, s:s}", "a", 7, "b", "x");
	CHECK(nfc_nf_config_uint(&nfc.handles[3], "a", 1) == 7 &&
		      nfc_nf_config_uint(&nfc.handles[3], "b", 1) == 1 &&
		      nfc_nf_config_uint(&nfc.handles[3], "c", 2) == 2,
	      "config_uint: the value, or the default if absent or not an "
	      "integer");
	json_decref(m->nfs[3].config);
	m->nfs[3].config = NULL;
	m->nfs[3].used = m->nfs[4].used = false;
	model_free(m);
}

/* What a walk saw: each key's visits, the calls' slice sizes. */
#define WALK_N 20000
static unsigned char seen[WALK_N];

static int visit(const void *k, const void *v, void *arg)
{
	uint32_t key = *(const uint32_t *)k;
	uint64_t val = *(const uint64_t *)v;

	if (key < WALK_N && val == key * 3ull)
		seen[key]++;
	else
		(*(long *)arg)++; /* a key or value it should not have seen */
	return 0;
}

static int stop_at_ten(const void *k, const void *v, void *arg)
{
	(void)k;
	(void)v;
	return ++*(long *)arg == 10;
}

static void walk_map(int type, const char *what)
{
	/* Room to spare: an LRU map may evict before it is full. */
	int fd = bpf_map_create(type, "nfutil_w", 4, 8, 2 * WALK_N, NULL);
	struct nfc_walk cur = {0};
	long bad = 0, n, calls = 0, most = 0, total = 0, stopped = 0;
	int once = 1, odd = 0;

	CHECK(fd >= 0, "%s: map created", what);
	if (fd < 0)
		return;
	CHECK(nfc_map_count(fd) == 0 &&
		      nfc_hash_walk(fd, 4, 8, NULL, 0, visit, &bad) == 0,
	      "%s: empty: counted 0, walked 0", what);
	for (uint32_t k = 0; k < WALK_N; k++) {
		uint64_t v = k * 3ull;

		bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	}
	CHECK(nfc_map_count(fd) == WALK_N, "%s: the kernel counts %d (%ld)",
	      what, WALK_N, nfc_map_count(fd));
	memset(seen, 0, sizeof(seen));
	n = nfc_hash_walk(fd, 4, 8, NULL, 0, visit, &bad);
	for (int i = 0; i < WALK_N; i++)
		once &= seen[i] == 1;
	CHECK(n == WALK_N && once && !bad,
	      "%s: a whole walk sees every entry once (%ld)", what, n);
	/* In slices of ~4,096, as the bridge's aging walk goes. */
	memset(seen, 0, sizeof(seen));
	do {
		n = nfc_hash_walk(fd, 4, 8, &cur, 4096, visit, &bad);
		calls++;
		total += n;
		most = n > most ? n : most;
	} while (!cur.done && n > 0 && calls < 100);
	for (int i = 0; i < WALK_N; i++)
		once &= seen[i] == 1;
	CHECK(cur.done && once && !bad && total == WALK_N && calls >= 5 &&
		      most <= 4096 + 16,
	      "%s: slices of ~4096 see every entry once (%ld calls, at most "
	      "%ld, %ld in all)",
	      what, calls, most, total);
	/* Done: the next call starts over. */
	memset(seen, 0, sizeof(seen));
	n = nfc_hash_walk(fd, 4, 8, &cur, 4096, visit, &bad);
	for (int i = 0; i < WALK_N; i++)
		odd += seen[i] > 1;
	CHECK(n > 0 && n < 4096 + 1024 && !cur.done && !odd,
	      "%s: after the end a cursor starts over (%ld)", what, n);
	CHECK(nfc_hash_walk(fd, 4, 8, NULL, 0, stop_at_ten, &stopped) == 10 &&
		      stopped == 10,
	      "%s: a nonzero return stops the walk", what);
	for (uint32_t k = 0; k < WALK_N; k += 2)
		bpf_map_delete_elem(fd, &k);
	CHECK(nfc_map_count(fd) == WALK_N / 2, "%s: deletions counted (%ld)",
	      what, nfc_map_count(fd));
	close(fd);
}

static void test_walk(void)
{
	int afd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nfutil_a", 4, 8, 4, NULL);

	walk_map(BPF_MAP_TYPE_HASH, "hash");
	walk_map(BPF_MAP_TYPE_LRU_HASH, "lru hash");
	CHECK(nfc_map_count(afd) == -EINVAL && nfc_map_count(-1) == -EBADF,
	      "count: an array or no map is refused");
	close(afd);
}

static long file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) ? -1 : (long)st.st_size;
}

/* A full disk mid-record: RLIMIT_FSIZE makes the write short, as a
 * filesystem that fills up does. The file is cut back to what it held,
 * so that the next record is not glued to a torn one. */
static void test_append(void)
{
	char dir[] = "/tmp/nfc-append.XXXXXX", path[64], buf[64];
	struct rlimit old, lim;
	FILE *f;
	int r;

	if (!mkdtemp(dir)) {
		CHECK(0, "append: a temporary directory: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/log", dir);
	CHECK(!nfc_append_durable(path, "- 10.0.0.0/8\n", 13) &&
		      file_size(path) == 13,
	      "append: a new file holds the record");
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 20;
	setrlimit(RLIMIT_FSIZE, &lim);
	r = nfc_append_durable(path, "- 2001:db8::/32\n", 16);
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(r < 0 && file_size(path) == 13,
	      "append: a short write is refused and cut back (%d, %ld bytes)",
	      r, file_size(path));
	CHECK(!nfc_append_durable(path, "- 2001:db8::/32\n", 16),
	      "append: the next one is taken");
	f = fopen(path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f) &&
		      !strcmp(buf, "- 10.0.0.0/8\n") &&
		      fgets(buf, sizeof(buf), f) &&
		      !strcmp(buf, "- 2001:db8::/32\n") &&
		      !fgets(buf, sizeof(buf), f),
	      "append: two whole lines, nothing torn between them");
	if (f)
		fclose(f);
	unlink(path);
	setrlimit(RLIMIT_FSIZE, &lim);
	r = nfc_append_durable(path, "0123456789012345678901234", 25);
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(r < 0 && file_size(path) == -1,
	      "append: a file it created and could not fill is removed (%d)",
	      r);
	rmdir(dir);
}

int main(void)
{
	char buf[NFC_MAC_STRLEN];
	const uint8_t mac[6] = {0x02, 0, 0xab, 0xcd, 0xef, 0x1};

	CHECK(!strcmp(nfc_mac_str(mac, buf), "02:00:ab:cd:ef:01"),
	      "mac_str: lower-case, colon-separated, zero-padded");
	test_percpu();
	test_array_read();
	test_walk();
	test_changed();
	test_append();
	TEST_EXIT();
}
