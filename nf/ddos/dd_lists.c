// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ddos: the allowlist (an LPM trie) and the blocklist (a hash of
 * {length, prefix} and the list of lengths in use, dd_lens: packets probe
 * the hash once per length; for IPv4 lengths up to 24, a bit per /24 in
 * dd_bm4 instead) of source prefixes. The blocklist is swapped
 * as a whole (import --replace, apply): the new list is written into the
 * copy packets do not read, dd_state.live is flipped with one write, and
 * the old copy is emptied for the next time; single adds and deletes go
 * to the live copy. An entry's expiry is kept in its value (wall-clock
 * seconds), so that it survives a restart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include <zlib.h>

#include "dd_int.h"

/* The blocklist's entry that stands for an imported feed (its file, count
 * and CRC), so that the model, export and apply know the feed without a
 * million entries (README.md, "Feeds"). */
#define DD_FEED_KEY "feed"
static int feed_add(struct nfc_nf *nf, json_t *fields);
static struct dd_state state_get(struct nfc_nf *nf);
static int state_put(struct nfc_nf *nf, const struct dd_state *st);
static void note_expiry(struct nfc_nf *nf);
static int feed_fields_misplaced(struct nfc_nf *nf, const char *key,
				 json_t *fields);

const struct nfc_field dd_block_fields[] = {
	{.name = "expires",
	 .kind = NFC_F_UINT,
	 .min = 1,
	 .max = 100000000,
	 .doc = "seconds after which the control plane removes the prefix "
		"from the data plane"},
	/* Written by the NF beside expires, so that a restore keeps the
	 * entry's end rather than giving it a new lifetime. */
	{.name = "until",
	 .kind = NFC_F_UINT,
	 .flags = NFC_FIELD_DERIVED,
	 .min = 1,
	 .max = 0xffffffffll,
	 .doc = "with expires: the Unix time it ends, written when the entry "
		"is added (a restore keeps it; an add computes it anew)"},
	/* The entry `feed` only: the model's reference to an imported feed
	 * (README.md, "Feeds"), written by the import, not by hand. */
	{.name = "file",
	 .kind = NFC_F_STRING,
	 .doc = "entry 'feed': the feed file this NF keeps"},
	{.name = "prefixes",
	 .kind = NFC_F_UINT,
	 .min = 0,
	 .max = 100000000,
	 .doc = "entry 'feed': prefixes in the feed file"},
	{.name = "crc32",
	 .kind = NFC_F_STRING,
	 .doc = "entry 'feed': CRC-32 of the feed file (zlib's), 8 hex digits"},
	NFC_FIELDS_END,
};

const struct nfc_field dd_allow_fields[] = {
	NFC_FIELDS_END,
};

/* A prefix as written; dd_parse_pfx wants it in its one spelling too. */
static int pfx_parse(struct nfc_nf *nf, const char *what, const char *s,
		     struct dd_pfx *p)
{
	char a[64];
	const char *sl = strchr(s, '/');
	char *e;
	unsigned long n;
	unsigned max;

	memset(p, 0, sizeof(*p));
	if (!sl || (size_t)(sl - s) >= sizeof(a))
		return nfc_nf_error(nf, EINVAL,
				    "%s: '%s' is not a prefix (address/length)",
				    what, s);
	memcpy(a, s, sl - s);
	a[sl - s] = 0;
	if (inet_pton(AF_INET, a, p->addr) == 1)
		p->family = 4;
	else if (inet_pton(AF_INET6, a, p->addr) == 1)
		p->family = 6;
	else
		return nfc_nf_error(nf, EINVAL,
				    "%s: '%s' is not an IPv4 or IPv6 address",
				    what, a);
	max = p->family == 4 ? 32 : 128;
	errno = 0;
	n = strtoul(sl + 1, &e, 10);
	if (!sl[1] || *e || errno || n > max)
		return nfc_nf_error(nf, EINVAL,
				    "%s: prefix length '%s' of '%s' is not in "
				    "0..%u",
				    what, sl + 1, s, max);
	p->plen = n;
	for (unsigned i = 0; i < max / 8; i++) {
		unsigned bits = i * 8;
		__u8 keep = bits >= n	    ? 0
			    : bits + 8 <= n ? 0xff
					    : (__u8)(0xff << (8 - (n - bits)));

		if (p->addr[i] & ~keep)
			return nfc_nf_error(nf, EINVAL,
					    "%s: '%s' has host bits set past "
					    "/%lu",
					    what, s, n);
	}
	return 0;
}

const char *dd_pfx_str(int family, unsigned plen, const __u8 *addr,
		       char buf[64])
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, a, sizeof(a));
	snprintf(buf, 64, "%s/%u", a, plen);
	return buf;
}

/* A collection key has one spelling, the one show prints: the model keeps
 * keys as given, so "198.51.100.0/024" beside "198.51.100.0/24" named one
 * trie entry by two keys, and deleting either left the other in the
 * model, which put the prefix back at the next restore. Feed lines are no
 * keys: any spelling inet_pton takes (pfx_parse). */
int dd_parse_pfx(struct nfc_nf *nf, const char *what, const char *s,
		 struct dd_pfx *p)
{
	char c[64];
	int r = pfx_parse(nf, what, s, p);

	if (r)
		return r;
	dd_pfx_str(p->family, p->plen, p->addr, c);
	if (strcmp(c, s))
		return nfc_nf_error(nf, EINVAL, "%s: '%s': write it as %s",
				    what, s, c);
	return 0;
}

/* The trie key of a prefix, in `k` (room for the IPv6 one). */
static size_t lpm_key(const struct dd_pfx *p, struct dd_lpm6 *k)
{
	memset(k, 0, sizeof(*k));
	k->plen = p->plen;
	memcpy(k->addr, p->addr, p->family == 4 ? 4 : 16);
	return p->family == 4 ? sizeof(struct dd_lpm4) : sizeof(struct dd_lpm6);
}

static int live_copy(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "dd_state");
	struct dd_state st = {0};
	__u32 z = 0;

	if (fd >= 0)
		bpf_map_lookup_elem(fd, &z, &st);
	return st.live & 1;
}

static int block_fd(struct nfc_nf *nf, int family, int copy)
{
	char name[32];

	snprintf(name, sizeof(name), "dd_bh%d_%d", family, copy);
	return nfc_nf_map_fd(nf, name);
}

/* The lengths copy `copy` may hold (dd_lens[copy]); zeroed if unread. */
static void lens_get(struct nfc_nf *nf, int copy, struct dd_lens *ln)
{
	int fd = nfc_nf_map_fd(nf, "dd_lens");
	__u32 k = copy;

	memset(ln, 0, sizeof(*ln));
	if (fd >= 0)
		bpf_map_lookup_elem(fd, &k, ln);
}

static int lens_put(struct nfc_nf *nf, int copy, const struct dd_lens *ln)
{
	int fd = nfc_nf_map_fd(nf, "dd_lens");
	__u32 k = copy;

	if (fd < 0 || bpf_map_update_elem(fd, &k, ln, BPF_ANY))
		return nfc_nf_error(nf, fd < 0 ? ENOENT : errno,
				    "blocklist: write dd_lens: %s",
				    fd < 0 ? "map not found" : strerror(errno));
	return 0;
}

/* Length `plen` of `family` in copy `copy`'s list (ln, as read by
 * lens_get), inserted longest first and written to the map when it is
 * new: before the first prefix of that length, so that no packet meets a
 * prefix its lookup would not probe. */
static int lens_need(struct nfc_nf *nf, int copy, struct dd_lens *ln,
		     int family, unsigned plen)
{
	__u8 *l = family == 4 ? ln->l4 : ln->l6;
	__u8 *n = family == 4 ? &ln->n4 : &ln->n6;
	unsigned i = 0;

	while (i < *n && l[i] > plen)
		i++;
	if (i < *n && l[i] == plen)
		return 0;
	memmove(l + i + 1, l + i, *n - i);
	l[i] = plen;
	++*n;
	return lens_put(nf, copy, ln);
}

#define DD_BM4_BYTES ((size_t)DD_BM4_WORDS * 8)

/* Copy `copy`'s IPv4 /24 bitmap, mapped; bm_done unmaps it. */
static __u64 *bm_get(struct nfc_nf *nf, int copy)
{
	char name[16];
	void *p;
	int fd;

	snprintf(name, sizeof(name), "dd_bm4_%d", copy);
	fd = nfc_nf_map_fd(nf, name);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, DD_BM4_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void bm_done(__u64 *bm)
{
	if (bm)
		munmap(bm, DD_BM4_BYTES);
}

static int bm_missing(struct nfc_nf *nf, int copy)
{
	return nfc_nf_error(nf, errno ? errno : ENOENT,
			    "blocklist: map dd_bm4_%d: %s", copy,
			    strerror(errno ? errno : ENOENT));
}

static __u32 addr4(const __u8 *addr)
{
	__u32 a;

	memcpy(&a, addr, 4);
	return ntohl(a);
}

/* The bits of the /24s an IPv4 prefix of length <= 24 covers, set. Only
 * this process writes the bitmap; packets read it meanwhile, so a word is
 * changed by one atomic operation. */
static void bm_set(__u64 *bm, __u32 a, unsigned plen)
{
	__u32 x = a >> 8, n = 1u << (24 - plen);

	if (n >= 64) { /* x is a multiple of n: whole words */
		for (__u32 w = x >> 6; w < (x + n) >> 6; w++)
			__atomic_store_n(&bm[w], ~0ULL, __ATOMIC_RELAXED);
		return;
	}
	for (__u32 i = x; i < x + n; i++)
		__atomic_fetch_or(&bm[i >> 6], 1ULL << (i & 63),
				  __ATOMIC_RELAXED);
}

/* Whether the IPv4 hash holds the prefix of length l holding address a. */
static int held4(int fd, __u32 a, unsigned l)
{
	struct dd_lpm4 k = {.plen = l};
	__u32 m = htonl(l ? a & (~0u << (32 - l)) : 0), v;

	memcpy(k.addr, &m, 4);
	return !bpf_map_lookup_elem(fd, &k, &v);
}

static long bm_rebuild(struct nfc_nf *nf, int copy);

/* Probes of the hash past which one pass over it is cheaper: a /0 took a
 * minute of probes (2^24 /24s times the lengths), stalling every call. */
#define BM_PROBES_MAX 65536

/* After the IPv4 prefix (a, plen <= 24) left copy `copy`'s hash: the bits
 * of its /24s that no other prefix of length <= 24 covers, cleared. */
static void bm_unset(struct nfc_nf *nf, int copy, __u32 a, unsigned plen)
{
	int fd = block_fd(nf, 4, copy);
	__u64 *bm = bm_get(nf, copy);
	__u32 x0 = a >> 8, n = 1u << (24 - plen);
	struct dd_lens ln;
	unsigned longer = 0;

	if (!bm || fd < 0)
		goto out;
	lens_get(nf, copy, &ln);
	/* Still covered whole by a prefix as long or shorter. */
	for (unsigned i = 0; i < ln.n4; i++)
		if (ln.l4[i] <= plen && held4(fd, a, ln.l4[i]))
			goto out;
	for (unsigned i = 0; i < ln.n4; i++)
		longer += ln.l4[i] > plen && ln.l4[i] <= 24;
	if ((unsigned long long)n * longer > BM_PROBES_MAX) {
		bm_done(bm);
		bm_rebuild(nf, copy);
		return;
	}
	for (__u32 x = x0; x < x0 + n; x++) {
		int cov = 0;

		for (unsigned i = 0; i < ln.n4 && !cov; i++)
			if (ln.l4[i] > plen && ln.l4[i] <= 24)
				cov = held4(fd, x << 8, ln.l4[i]);
		if (!cov)
			__atomic_fetch_and(&bm[x >> 6], ~(1ULL << (x & 63)),
					   __ATOMIC_RELAXED);
	}
out:
	bm_done(bm);
}

/*
 * Copy `copy`'s bitmap made again from its IPv4 hash, which is the truth:
 * a process killed between the hash write and the bitmap write of an
 * add or a delete (<= /24) left a bit wrong. The bitmap is built aside
 * in one pass over the hash (batches), then the words that differ are
 * stored, each by one atomic store: packets never see a word half made,
 * and the words that were right are never touched. The count of words
 * mended, or -1.
 */
static long bm_rebuild(struct nfc_nf *nf, int copy)
{
	enum { CHUNK = 4096 };
	static struct dd_lpm4 keys[CHUNK];
	static __u32 vals[CHUNK];
	int fd = block_fd(nf, 4, copy), have = 0, r = 0;
	__u64 *want = calloc(DD_BM4_WORDS, 8), *bm = bm_get(nf, copy);
	__u32 tok = 0;
	long n = -1;

	if (fd < 0 || !want || !bm)
		goto out;
	while (!r) {
		__u32 cnt = CHUNK, in = tok;

		r = bpf_map_lookup_batch(fd, have ? &in : NULL, &tok, keys,
					 vals, &cnt, NULL);
		if (r && errno != ENOENT)
			goto out;
		have = 1;
		for (__u32 i = 0; i < cnt; i++)
			if (keys[i].plen <= 24)
				bm_set(want, addr4(keys[i].addr), keys[i].plen);
	}
	n = 0;
	for (__u32 w = 0; w < DD_BM4_WORDS; w++)
		if (__atomic_load_n(&bm[w], __ATOMIC_RELAXED) != want[w]) {
			__atomic_store_n(&bm[w], want[w], __ATOMIC_RELAXED);
			n++;
		}
out:
	free(want);
	bm_done(bm);
	return n;
}

/* Copy `copy`'s bitmap emptied (the copy is not read by packets). */
static void bm_clear(struct nfc_nf *nf, int copy)
{
	__u64 *bm = bm_get(nf, copy);

	if (bm)
		memset(bm, 0, DD_BM4_BYTES);
	bm_done(bm);
}

/*
 * The Unix second an entry ends, 0 for never. An entry that has its end
 * (`until`) keeps it: taken back after a reboot (expires counted again
 * from the restore gave it a new lifetime), or handed over again with
 * the whole set when another entry changed (a replace). A `set` of the
 * entry drops it (NFC_FIELD_DERIVED), and a user's single add counts it
 * anew: both compute it from expires and write it into the entry's
 * fields, which the model keeps.
 */
static __u32 expiry(struct nfc_nf *nf, json_t *fields, int fresh)
{
	json_int_t s = json_integer_value(json_object_get(fields, "expires")),
		   u = json_integer_value(json_object_get(fields, "until"));

	if (s <= 0) {
		json_object_del(fields, "until");
		return 0;
	}
	if (u > 0 && !(fresh && !nfc_nf_applying(nf)))
		return (__u32)u;
	u = time(NULL) + s;
	json_object_set_new(fields, "until", json_integer(u));
	return (__u32)u;
}

static int trie_write(struct nfc_nf *nf, int fd, const char *what,
		      const char *key, json_t *fields, int flags, int fresh)
{
	struct dd_pfx p;
	struct dd_lpm6 k;
	__u32 v;
	int r = dd_parse_pfx(nf, what, key, &p);

	if (r)
		return r;
	if (fd < 0)
		return nfc_nf_error(nf, ENOENT, "%s: map not found", what);
	lpm_key(&p, &k);
	v = expiry(nf, fields, fresh);
	if (bpf_map_update_elem(fd, &k, &v, flags)) {
		int e = errno;
		struct bpf_map_info info = {0};
		__u32 ilen = sizeof(info);

		/* The hash's own errors for a full table: said as the import
		 * says them, not as "Argument list too long". */
		if ((e == E2BIG || e == ENOSPC || e == ENOMEM) &&
		    !bpf_obj_get_info_by_fd(fd, &info, &ilen))
			return nfc_nf_error(nf, E2BIG,
					    "%s: %s does not fit: the list is "
					    "full (at most %u IPv%d prefixes)",
					    what, key, info.max_entries,
					    p.family);
		return nfc_nf_error(nf, e, "%s: write %s: %s", what, key,
				    strerror(e));
	}
	return 0;
}

static void watch_add(struct nfc_nf *nf, int fam, const struct dd_lpm6 *k,
		      int copy);

/* A blocklist entry written into copy `copy`, its length listed first;
 * fresh: a user's single add (expiry()). */
static int block_write(struct nfc_nf *nf, int copy, const char *key,
		       json_t *fields, int fresh)
{
	struct dd_lens ln;
	struct dd_pfx p;
	int r = dd_parse_pfx(nf, "blocklist", key, &p);

	if (r)
		return r;
	lens_get(nf, copy, &ln);
	r = lens_need(nf, copy, &ln, p.family, p.plen);
	if (r)
		return r;
	/* The bitmap before the hash: a kill -9 between the two leaves a
	 * bit the hash lacks (packets of a prefix whose add was never
	 * answered dropped until the next start mends it), never a listed
	 * prefix whose packets pass. */
	if (p.family == 4 && p.plen <= 24) {
		__u64 *bm = bm_get(nf, copy);

		if (!bm)
			return bm_missing(nf, copy);
		bm_set(bm, addr4(p.addr), p.plen);
		bm_done(bm);
	}
	r = trie_write(nf, block_fd(nf, p.family, copy), "blocklist", key,
		       fields, BPF_ANY, fresh);
	if (r && p.family == 4 && p.plen <= 24)
		bm_unset(nf, copy, addr4(p.addr), p.plen);
	if (!r && json_object_get(fields, "expires")) {
		struct dd_lpm6 k;

		lpm_key(&p, &k);
		watch_add(nf, p.family, &k, copy);
	}
	return r;
}

/* Whether the list holds prefix `k` itself, its value in *v: the lists
 * are hashes of (length, address), one probe a length in use, so a
 * lookup is exact. */
static int list_has(int fd, const struct dd_lpm6 *k, __u32 *v)
{
	return !bpf_map_lookup_elem(fd, k, v);
}

static int trie_del(struct nfc_nf *nf, int fd4, int fd6, const char *what,
		    const char *key)
{
	struct dd_pfx p;
	struct dd_lpm6 k;
	int r = dd_parse_pfx(nf, what, key, &p);

	if (r)
		return r;
	lpm_key(&p, &k);
	if (!bpf_map_delete_elem(p.family == 4 ? fd4 : fd6, &k))
		return 0;
	if (errno == ENOENT)
		return nfc_nf_error(nf, ENOENT, "%s %s: no such entry", what,
				    key);
	return nfc_nf_error(nf, errno, "%s: delete %s: %s", what, key,
			    strerror(errno));
}

/* Appends {prefix, expires_in} for at most `max` entries of a trie after
 * `*k` (from the first when !*have), moving *k on; the count, and *end
 * set when the trie has no more. */
static size_t trie_page(int fd, int family, struct dd_lpm6 *k, int *have,
			size_t max, int *end, json_t *out)
{
	struct dd_lpm6 next;
	time_t now = time(NULL);
	size_t n = 0;
	char b[64];

	*end = 0;
	if (fd < 0) {
		*end = 1;
		return 0;
	}
	while (n < max) {
		__u32 v = 0;
		json_t *e;

		if (bpf_map_get_next_key(fd, *have ? k : NULL, &next)) {
			*end = 1;
			break;
		}
		*k = next;
		*have = 1;
		bpf_map_lookup_elem(fd, k, &v);
		e = json_pack("{s:s}", "prefix",
			      dd_pfx_str(family, k->plen, k->addr, b));
		if (v)
			json_object_set_new(
				e, "expires_in",
				json_integer(v > now ? (json_int_t)(v - now)
						     : 0));
		json_array_append_new(out, e);
		n++;
	}
	return n;
}

/* Appends {prefix, expires_in} for each entry of a trie. */
static void trie_list(int fd, int family, json_t *out)
{
	struct dd_lpm6 k;
	int have = 0, end = 0;

	while (!end)
		trie_page(fd, family, &k, &have, 1 << 20, &end, out);
}

/* The cursor of a paged listing: which family, and the last key given. */
struct list_cur {
	__u8 fam; /* 0: IPv4, 1: IPv6, 2: done */
	__u8 have;
	__u8 copy;
	__u8 pad;
	struct dd_lpm6 k;
};
_Static_assert(sizeof(struct list_cur) <= sizeof(struct nfc_cursor),
	       "a blocklist cursor fits in struct nfc_cursor");

static int page_of(struct nfc_nf *nf, const char *prefix,
		   struct nfc_cursor *cur, size_t max, json_t *out)
{
	struct list_cur lc;
	size_t n = 0;

	memcpy(&lc, cur->b, sizeof(lc));
	while (n < max && lc.fam < 2) {
		int fam = lc.fam ? 6 : 4, have = lc.have, end, fd;

		fd = prefix ? dd_copy_fd(nf, prefix, fam, lc.copy)
			    : block_fd(nf, fam, lc.copy);
		n += trie_page(fd, fam, &lc.k, &have, max - n, &end, out);
		lc.have = have;
		if (end) {
			lc.fam++;
			lc.have = 0;
		}
	}
	memcpy(cur->b, &lc, sizeof(lc));
	return (int)n;
}

int dd_block_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
		       json_t *out)
{
	struct list_cur lc;

	memcpy(&lc, cur->b, sizeof(lc));
	/* The copy packets read when the listing began: a replace meanwhile
	 * leaves it to be emptied, so the list ends early rather than mixes
	 * two sets. */
	if (!lc.fam && !lc.have) {
		lc.copy = live_copy(nf);
		memcpy(cur->b, &lc, sizeof(lc));
	}
	return page_of(nf, NULL, cur, max, out);
}

int dd_allow_list_page(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
		       json_t *out)
{
	struct list_cur lc;

	memcpy(&lc, cur->b, sizeof(lc));
	/* The copy packets read when the listing began: a replace meanwhile
	 * builds the other, and this one stays whole until the next. */
	if (!lc.fam && !lc.have) {
		lc.copy = dd_live(nf, DD_ST_ALLOW_1);
		memcpy(cur->b, &lc, sizeof(lc));
	}
	return page_of(nf, "dd_allow", cur, max, out);
}

int dd_block_check(struct nfc_nf *nf, const char *key)
{
	struct dd_pfx p;

	if (!strcmp(key, DD_FEED_KEY))
		return 0;
	return dd_parse_pfx(nf, "blocklist", key, &p);
}

/* A prefix of the kept feed (the model does not hold it): its fields,
 * for `blocklist set`. */
json_t *dd_block_get(struct nfc_nf *nf, const char *key)
{
	struct dd_lpm6 k;
	struct dd_pfx p;
	__u32 v = 0;

	if (!strcmp(key, DD_FEED_KEY) || dd_parse_pfx(nf, "blocklist", key, &p))
		return NULL;
	lpm_key(&p, &k);
	if (!list_has(block_fd(nf, p.family, live_copy(nf)), &k, &v))
		return NULL;
	return v ? json_pack("{s:I}", "until", (json_int_t)v) : json_object();
}

/* How many keys of collection object `c` (apply's view of the document)
 * are of `family`, counted once an object: apply checks each entry, and a
 * count an entry made a 100,000-entry check quadratic. The object counted
 * is held (a reference), so that no later document's object can take its
 * address: told apart by address and size alone, a document of 1,025
 * limits was taken for the 1,024 of the one before it, freed at that
 * address, and passed (found by a helper). Only a collection over its
 * family's limit is counted, and the model never holds one, so the held
 * object is a document's, not one that changes. */
static size_t count_family(json_t *c, int family)
{
	static json_t *last;
	static size_t last_size, n[2];
	const char *k;
	json_t *v;

	if (c != last || json_object_size(c) != last_size) {
		json_decref(last);
		last = json_incref(c);
		last_size = json_object_size(c);
		n[0] = n[1] = 0;
		json_object_foreach (c, k, v)
			n[strchr(k, ':') != NULL]++;
	}
	return n[family == 6];
}

int dd_count_check(struct nfc_nf *nf, const char *coll, int family, size_t max,
		   const char *key)
{
	json_t *c = nfc_nf_coll(nf, coll);
	size_t have;

	if (json_object_size(c) <= max)
		return 0;
	have = count_family(c, family);
	if (have <= max)
		return 0;
	return nfc_nf_entry_error(nf, key, E2BIG,
				  "%s: %zu IPv%d entries: at most %zu a "
				  "family",
				  coll, have, family, max);
}

int dd_allow_check_entry(struct nfc_nf *nf, json_t *config, const char *key,
			 json_t *fields)
{
	struct dd_pfx p;
	int r = dd_parse_pfx(nf, "allowlist", key, &p);

	(void)config;
	(void)fields;
	return r ? r
		 : dd_count_check(nf, "allowlist", p.family, DD_MAX_ALLOW, key);
}

int dd_allow_check(struct nfc_nf *nf, const char *key)
{
	struct dd_pfx p;

	return dd_parse_pfx(nf, "allowlist", key, &p);
}

int dd_limit_check(struct nfc_nf *nf, const char *key)
{
	struct dd_pfx p;

	return dd_parse_pfx(nf, "limits", key, &p);
}

static int map_empty(int fd)
{
	struct dd_lpm6 k;

	return fd >= 0 && bpf_map_get_next_key(fd, NULL, &k) != 0;
}

/* Flags `f` with the bits that let packets skip a lookup made to say
 * what the copies `f` names hold. */
static __u32 flags_of(struct nfc_nf *nf, __u32 f)
{
	int a = !!(f & DD_ST_ALLOW_1), l = !!(f & DD_ST_LIM_1);

	f &= ~(DD_ST_ALLOW4 | DD_ST_NO_ALLOW6 | DD_ST_NO_LIM4 | DD_ST_NO_LIM6);
	if (!map_empty(dd_copy_fd(nf, "dd_allow", 4, a)))
		f |= DD_ST_ALLOW4;
	if (map_empty(dd_copy_fd(nf, "dd_allow", 6, a)))
		f |= DD_ST_NO_ALLOW6;
	if (map_empty(dd_copy_fd(nf, "dd_lim", 4, l)))
		f |= DD_ST_NO_LIM4;
	if (map_empty(dd_copy_fd(nf, "dd_lim", 6, l)))
		f |= DD_ST_NO_LIM6;
	return f;
}

/* The flags that let packets skip a lookup made to say what the maps
 * hold: DD_ST_ALLOW4 set while the IPv4 allowlist holds an entry, the
 * DD_ST_NO_* set while their map is empty. Each is made "look" before a
 * map's first entry is written (dd_flags_look) and "skip" only here,
 * after its last is gone, so a packet never skips an entry. */
int dd_flags_sync(struct nfc_nf *nf)
{
	struct dd_state st = state_get(nf);
	__u32 f = flags_of(nf, st.flags);

	if (f == st.flags)
		return 0;
	st.flags = f;
	return state_put(nf, &st);
}

/* Packets switched to the other copy of the allowlist or the limits
 * (`bit`), and the skip bits made what that copy holds, in one write. */
int dd_flags_switch(struct nfc_nf *nf, __u32 bit)
{
	struct dd_state st = state_get(nf);

	st.flags = flags_of(nf, st.flags ^ bit);
	return state_put(nf, &st);
}

int dd_live(struct nfc_nf *nf, __u32 bit)
{
	return !!(state_get(nf).flags & bit);
}

int dd_copy_fd(struct nfc_nf *nf, const char *base, int family, int copy)
{
	char name[32];

	snprintf(name, sizeof(name), "%s%d%s", base, family, copy ? "_1" : "");
	return nfc_nf_map_fd(nf, name);
}

/* say: set the NF's error on failure (not when undoing after another). */
int dd_copy_clear(struct nfc_nf *nf, const char *base, int copy, int say)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		int fd = dd_copy_fd(nf, base, fam, copy), e = 0;
		struct dd_lpm6 k;

		if (fd < 0)
			e = ENOENT;
		while (!e && !bpf_map_get_next_key(fd, NULL, &k))
			if (bpf_map_delete_elem(fd, &k))
				e = errno;
		if (e && say)
			return nfc_nf_error(nf, e, "%s%d%s: empty: %s", base,
					    fam, copy ? "_1" : "",
					    e == ENOENT ? "map not found"
							: strerror(e));
		if (e)
			return -e;
	}
	return 0;
}

/* Before an entry is written to the allowlist ("allow") or the limits
 * of `family`: packets look it up from now on. */
int dd_flags_look(struct nfc_nf *nf, const char *what, int family)
{
	struct dd_state st = state_get(nf);
	__u32 f = st.flags;

	if (!strcmp(what, "allow"))
		f = family == 4 ? f | DD_ST_ALLOW4 : f & ~DD_ST_NO_ALLOW6;
	else
		f &= family == 4 ? ~DD_ST_NO_LIM4 : ~DD_ST_NO_LIM6;
	if (f == st.flags)
		return 0;
	st.flags = f;
	return state_put(nf, &st);
}

/* Single entries go to the copy packets read: one entry changes at one
 * instant anyway. */
static int allow_fd(struct nfc_nf *nf, int family)
{
	return dd_copy_fd(nf, "dd_allow", family, dd_live(nf, DD_ST_ALLOW_1));
}

int dd_allow_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct dd_pfx p;
	int r = dd_parse_pfx(nf, "allowlist", key, &p);

	if (!r)
		r = dd_flags_look(nf, "allow", p.family);
	if (r)
		return r;
	return trie_write(nf, allow_fd(nf, p.family), "allowlist", key, fields,
			  BPF_ANY, 0);
}

int dd_allow_del(struct nfc_nf *nf, const char *key)
{
	int r = trie_del(nf, allow_fd(nf, 4), allow_fd(nf, 6), "allowlist",
			 key);

	return r ? r : dd_flags_sync(nf);
}

int dd_allow_list(struct nfc_nf *nf, json_t *out)
{
	trie_list(allow_fd(nf, 4), 4, out);
	trie_list(allow_fd(nf, 6), 6, out);
	return 0;
}

/* The allowlist made exactly `entries`: built in the copy packets do not
 * read (emptied first: it holds the set before the last replace, kept
 * until now for packets and listings still in it), then switched in. */
int dd_allow_replace(struct nfc_nf *nf, json_t *entries)
{
	int c = !dd_live(nf, DD_ST_ALLOW_1), n[2] = {0, 0}, r;
	const char *key;
	json_t *f;

	json_object_foreach (entries, key, f) {
		struct dd_pfx p;

		r = dd_parse_pfx(nf, "allowlist", key, &p);
		if (r)
			return r;
		if (++n[p.family == 6] > DD_MAX_ALLOW)
			return nfc_nf_entry_error(
				nf, key, E2BIG,
				"allowlist: %s does not fit: the list is full "
				"(at most %u IPv%d prefixes)",
				key, DD_MAX_ALLOW, p.family);
	}
	r = dd_copy_clear(nf, "dd_allow", c, 1);
	json_object_foreach (entries, key, f) {
		struct dd_pfx p;

		if (r)
			break;
		dd_parse_pfx(nf, "allowlist", key, &p);
		r = trie_write(nf, dd_copy_fd(nf, "dd_allow", p.family, c),
			       "allowlist", key, f, BPF_ANY, 0);
	}
	if (!r)
		r = dd_flags_switch(nf, DD_ST_ALLOW_1);
	/* Packets never read it: emptied of a set that was refused. */
	if (r)
		dd_copy_clear(nf, "dd_allow", c, 0);
	return r;
}

static void add_mark(struct nfc_nf *nf, const struct dd_pfx *p, int had,
		     __u32 v);
static int add_take_back(struct nfc_nf *nf, const struct dd_pfx *p);

int dd_block_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	int live = live_copy(nf), had;
	struct dd_lpm6 k;
	struct dd_pfx p;
	__u32 v = 0;
	int r;

	if (!strcmp(key, DD_FEED_KEY))
		return feed_add(nf, fields);
	r = feed_fields_misplaced(nf, key, fields);
	/* until= alone was dropped without a word (found by a helper). */
	if (!r && json_object_get(fields, "until") &&
	    !json_object_get(fields, "expires") && !nfc_nf_applying(nf))
		r = nfc_nf_error(nf, EINVAL,
				 "blocklist %s: until= goes with expires= (the "
				 "end it gives, which the state keeps); give "
				 "expires=SECONDS",
				 key);
	if (!r)
		r = dd_parse_pfx(nf, "blocklist", key, &p);
	if (r)
		return r;
	lpm_key(&p, &k);
	had = list_has(block_fd(nf, p.family, live), &k, &v);
	r = block_write(nf, live, key, fields, 1);
	if (!r)
		add_mark(nf, &p, had, v);
	if (!r && json_object_get(fields, "expires"))
		note_expiry(nf);
	return r;
}

static void feed_path(struct nfc_nf *nf, char *buf, size_t len);
static int feed_crc_now(struct nfc_nf *nf, const char *path, char crc[9],
			int *found);

/* A delete of a prefix the list holds, while a kept feed exists, noted in
 * the feed's log first (durable when the call returns): the feed loaded
 * again (a reboot, an apply) leaves it out. Logged whether or not the feed
 * holds it: the log only ever skips the feed's own lines. */
static int feed_del_note(struct nfc_nf *nf, int copy, const char *key,
			 const struct dd_pfx *p)
{
	char path[512], crc[9], b[64];
	struct dd_lpm6 k;
	__u32 v;
	int r, found;

	lpm_key(p, &k);
	if (bpf_map_lookup_elem(block_fd(nf, p->family, copy), &k, &v))
		return 0; /* trie_del says why */
	feed_path(nf, path, sizeof(path));
	r = feed_crc_now(nf, path, crc, &found);
	if (r || !found)
		return r;
	r = dd_dels_append(path, crc,
			   dd_pfx_str(p->family, p->plen, p->addr, b));
	if (r)
		return nfc_nf_error(nf, -r,
				    "blocklist %s: not deleted: the feed's log "
				    "of deletions %s.%s.del cannot be written: "
				    "%s",
				    key, path, crc, strerror(-r));
	return 0;
}

int dd_block_del(struct nfc_nf *nf, const char *key)
{
	int c = live_copy(nf);

	if (!strcmp(key, DD_FEED_KEY))
		return nfc_nf_error(nf, EINVAL,
				    "blocklist: 'feed' stands for the imported "
				    "feed; `blocklist import --replace -f "
				    "/dev/null` empties it");

	struct dd_pfx p;
	int r = dd_parse_pfx(nf, "blocklist", key, &p);

	if (r)
		return r;
	/* The undo of the add just made (the runtime's put-back: the
	 * model never held the entry, a feed's prefix may be under it). */
	if (nfc_nf_applying(nf) && add_take_back(nf, &p))
		return 0;
	add_mark(nf, NULL, 0, 0);
	r = feed_del_note(nf, c, key, &p);
	if (!r)
		r = trie_del(nf, block_fd(nf, 4, c), block_fd(nf, 6, c),
			     "blocklist", key);
	if (!r && p.family == 4 && p.plen <= 24)
		bm_unset(nf, c, addr4(p.addr), p.plen);
	return r;
}

int dd_block_list(struct nfc_nf *nf, json_t *out)
{
	int c = live_copy(nf);

	trie_list(block_fd(nf, 4, c), 4, out);
	trie_list(block_fd(nf, 6, c), 6, out);
	return 0;
}

/* Empties up to `budget` entries (0: all) of a blocklist hash, in
 * batches from bucket `*tok` on (*have: a batch was taken, the token is
 * valid); 1 when it reached the end. Deleting the first key again and
 * again would rescan the emptied buckets each time (quadratic on a
 * hash of a million). */
static int hash_clear_some(int fd, size_t budget, __u32 *tok, int *have)
{
	enum { CHUNK = 4096 };
	static struct dd_lpm6 keys[CHUNK];
	static __u32 vals[CHUNK];
	size_t done = 0;

	if (fd < 0)
		return 1;
	while (!budget || done < budget) {
		__u32 cnt = CHUNK, in = *tok;
		int r = bpf_map_lookup_and_delete_batch(
			fd, *have ? &in : NULL, tok, keys, vals, &cnt, NULL);

		*have = 1;
		done += cnt;
		if (r)
			return 1; /* ENOENT: the end; else nothing more to do */
	}
	return 0;
}

/*
 * What the ticks do a little at a time, so that no call waits on a
 * whole scan of a 1,000,000-prefix list (the daemon has one loop: a full
 * scan in one tick held every call behind it for seconds):
 * - the expiry scan, DD_TICK_KEYS keys a tick from a cursor, and only
 *   when an entry with an expiry may exist (dd_state.flags, pinned, so
 *   that a restart knows without a scan);
 * - emptying the copy a replace switched away from.
 */
#define DD_TICK_KEYS 5000
#define DD_WATCH_MAX 4096

struct dd_priv {
	time_t next_scan;   /* 0: a scan may start at the next tick */
	int scan_fam;	    /* 4 or 6: the trie a scan is in; 0: none */
	int scan_cur;	    /* `cur` holds the last key kept */
	struct dd_lpm6 cur; /* the scan's cursor */
	int left;	    /* future expiries this scan has seen */
	int again;	    /* one was written behind the cursor */
	int clear_copy;	    /* copy + 1 the ticks are emptying; 0: none */
	int clear_fam;	    /* 0: IPv4 hash, 1: IPv6 (of clear_copy) */
	int clear_have;	    /* clear_tok is valid */
	__u32 clear_tok;    /* the bucket the emptying is at */
	char feed_crc[9];   /* the kept feed's CRC; "": not known yet */
	size_t feed_n;	    /* and its lines, with it */
	/* The prefix the last single add wrote, and what the list held
	 * there before (a feed's line, or nothing): what an undo of that
	 * add puts back, where a delete would lose the feed's line. */
	int add_set, add_had;
	struct dd_pfx add_p;
	__u32 add_v;
	/* Entries a single add or set gave an end, checked every tick: the
	 * scan alone reaches an entry of a 1,000,000-prefix list some 200 s
	 * after its end (a helper saw expires=2 end after 212 s). Imports'
	 * ends are left to the scan; a full list too. */
	unsigned nwatch;
	struct dd_watch {
		__u32 end;
		int fam;
		struct dd_lpm6 k;
	} watch[DD_WATCH_MAX];
};

/*
 * A dd0 of an nfchain before the hashes: its blocklist in LPM tries
 * (DD_OLD_TRIE), which this program declares too (their pins taken
 * over) and reads while DD_ST_HASHED is clear. The entries of the trie of
 * the copy packets read are written into the live hash (lengths first,
 * bitmap before the hash, as an add does); the count moved, or -1 (the
 * flag stays clear, packets keep reading the trie, the next start tries
 * again).
 */
static long migrate_tries(struct nfc_nf *nf)
{
	int c = live_copy(nf), fd;
	char name[32];
	struct dd_lens ln;
	__u64 *bm = bm_get(nf, c);
	long n = 0;

	lens_get(nf, c, &ln);
	for (int fam = 4; fam <= 6; fam += 2) {
		struct dd_lpm6 k, next;
		void *prev = NULL;
		__u32 v;

		snprintf(name, sizeof(name), DD_OLD_TRIE, fam, c);
		fd = nfc_nf_map_fd(nf, name);
		while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
			k = next;
			prev = &k;
			if (bpf_map_lookup_elem(fd, &k, &v))
				continue;
			if (lens_need(nf, c, &ln, fam, k.plen) ||
			    (fam == 4 && k.plen <= 24 && !bm)) {
				n = -1;
				goto out;
			}
			if (fam == 4 && k.plen <= 24)
				bm_set(bm, addr4(k.addr), k.plen);
			if (bpf_map_update_elem(block_fd(nf, fam, c), &k, &v,
						BPF_ANY)) {
				n = -1;
				goto out;
			}
			if (v)
				note_expiry(nf);
			n++;
		}
	}
out:
	bm_done(bm);
	return n;
}

/* Once DD_ST_HASHED is set: the old tries emptied (both copies). */
static void empty_tries(struct nfc_nf *nf)
{
	char name[32];

	for (int i = 0; i < 4; i++) {
		struct dd_lpm6 k;
		int fd;

		snprintf(name, sizeof(name), DD_OLD_TRIE, i < 2 ? 4 : 6, i & 1);
		fd = nfc_nf_map_fd(nf, name);
		while (fd >= 0 && !bpf_map_get_next_key(fd, NULL, &k))
			if (bpf_map_delete_elem(fd, &k))
				break;
	}
}

static struct dd_priv *priv_of(struct nfc_nf *nf);

/* p NULL: forgets the last add. */
static void add_mark(struct nfc_nf *nf, const struct dd_pfx *p, int had,
		     __u32 v)
{
	struct dd_priv *pv = priv_of(nf);

	if (!pv)
		return;
	pv->add_set = p != NULL;
	if (p) {
		pv->add_p = *p;
		pv->add_had = had;
		pv->add_v = v;
	}
}

/* The last add, of prefix p, taken back: the value it wrote over put
 * back, or the prefix deleted if there was none. 1 if it was that add. */
static int add_take_back(struct nfc_nf *nf, const struct dd_pfx *p)
{
	struct dd_priv *pv = priv_of(nf);
	int c = live_copy(nf), fd;
	struct dd_lpm6 k;

	if (!pv || !pv->add_set || memcmp(p, &pv->add_p, sizeof(*p)))
		return 0;
	pv->add_set = 0;
	lpm_key(p, &k);
	fd = block_fd(nf, p->family, c);
	if (pv->add_had) {
		bpf_map_update_elem(fd, &k, &pv->add_v, BPF_ANY);
		return 1;
	}
	bpf_map_delete_elem(fd, &k);
	if (p->family == 4 && p->plen <= 24)
		bm_unset(nf, c, addr4(p->addr), p->plen);
	return 1;
}

static struct dd_priv *priv_of(struct nfc_nf *nf)
{
	struct dd_priv *pv = nfc_nf_priv(nf);

	if (!pv) {
		pv = calloc(1, sizeof(*pv));
		if (!pv)
			return NULL;
		/* A process killed while emptying it left the copy packets
		 * do not read half full: finish it. */
		pv->clear_copy = !live_copy(nf) + 1;
		nfc_nf_set_priv(nf, pv);
		/* Pins of a process killed, or of an nfchain without the
		 * flags: DD_ST_* as the lists are now, and the live
		 * bitmap as the live hash is (a kill between the two writes
		 * of one add or delete). */
		dd_flags_sync(nf);
		long o = migrate_tries(nf);

		if (o > 0)
			fprintf(stderr,
				"%s: blocklist: %ld entries taken over from "
				"the LPM tries of an earlier nfchain\n",
				nfc_nf_name(nf), o);
		long m = bm_rebuild(nf, live_copy(nf));

		if (m > 0)
			fprintf(stderr,
				"%s: blocklist: %ld words of the live /24 "
				"bitmap did not match its hash: mended\n",
				nfc_nf_name(nf), m);
		/* Only now may packets skip the tries (and the front drop
		 * by the bitmap). */
		if (o >= 0 && m >= 0) {
			struct dd_state st = state_get(nf);

			if (!(st.flags & DD_ST_HASHED)) {
				st.flags |= DD_ST_HASHED;
				if (!state_put(nf, &st))
					empty_tries(nf);
			}
		}
	}
	return pv;
}

/* After a load (the NF's first, or a process taking it over with a new
 * program): what priv_of mends on first use, now, so that the first
 * tick is not what packets wait for (an earlier nfchain's tries taken
 * over, the live bitmap, the flags). */
int dd_adopt(struct nfc_nf *nf)
{
	return priv_of(nf)
		       ? 0
		       : nfc_nf_error(nf, ENOMEM, "ddos: %s", strerror(ENOMEM));
}

static struct dd_state state_get(struct nfc_nf *nf)
{
	int fd = nfc_nf_map_fd(nf, "dd_state");
	struct dd_state st = {0};
	__u32 z = 0;

	if (fd >= 0)
		bpf_map_lookup_elem(fd, &z, &st);
	return st;
}

static int state_put(struct nfc_nf *nf, const struct dd_state *st)
{
	int fd = nfc_nf_map_fd(nf, "dd_state");
	__u32 z = 0;

	if (fd < 0 || bpf_map_update_elem(fd, &z, st, BPF_ANY))
		return nfc_nf_error(nf, fd < 0 ? ENOENT : errno,
				    "blocklist: write dd_state: %s",
				    fd < 0 ? "map not found" : strerror(errno));
	return 0;
}

/* An entry with an expiry was written: the ticks must look for it. */
static void note_expiry(struct nfc_nf *nf)
{
	struct dd_state st = state_get(nf);
	struct dd_priv *pv = priv_of(nf);

	if (!(st.flags & DD_ST_EXPIRIES)) {
		st.flags |= DD_ST_EXPIRIES;
		state_put(nf, &st);
	}
	if (pv && !pv->scan_fam)
		pv->next_scan = 0;
	else if (pv)
		pv->again = 1;
}

/* Makes `to` the copy packets read, keeping the flags; the copy left is
 * emptied by the ticks. */
static int switch_copy(struct nfc_nf *nf, int to, int any_exp)
{
	struct dd_state st = state_get(nf);
	struct dd_priv *pv = priv_of(nf);
	int from = st.live & 1, r;

	st.live = to;
	if (any_exp)
		st.flags |= DD_ST_EXPIRIES;
	r = state_put(nf, &st);
	if (!r && pv) {
		pv->clear_copy = from + 1;
		pv->clear_fam = pv->clear_have = 0;
		pv->scan_fam = 0; /* its cursor was in the old copy */
		if (any_exp)
			pv->next_scan = 0;
	}
	return r;
}

/* The copy packets do not read, emptied now (a replace writes it); its
 * list of lengths with it, once it holds nothing. */
static void clear_spare(struct nfc_nf *nf, int spare)
{
	struct dd_priv *pv = priv_of(nf);
	struct dd_lens ln = {0};
	__u32 tok = 0;
	int have = 0;

	hash_clear_some(block_fd(nf, 4, spare), 0, &tok, &have);
	have = 0;
	hash_clear_some(block_fd(nf, 6, spare), 0, &tok, &have);
	bm_clear(nf, spare);
	lens_put(nf, spare, &ln);
	if (pv && pv->clear_copy == spare + 1)
		pv->clear_copy = 0;
}

void dd_block_rescan(struct nfc_nf *nf)
{
	/* A change of an entry that carries an expiry says so itself
	 * (note_expiry); rescanning a million entries at every change held
	 * each next call for seconds. */
	(void)nf;
}

/* An entry whose end has come, deleted from copy `copy`; 0 if it was. */
static int expire_key(struct nfc_nf *nf, int copy, int fam,
		      const struct dd_lpm6 *k)
{
	char b[64];

	if (bpf_map_delete_elem(block_fd(nf, fam, copy), k))
		return -1;
	if (fam == 4 && k->plen <= 24)
		bm_unset(nf, copy, addr4(k->addr), k->plen);
	/* Else the model keeps it, and a restore blocks it again for a new
	 * lifetime. */
	nfc_nf_forget(nf, "blocklist", dd_pfx_str(fam, k->plen, k->addr, b));
	return 0;
}

static void watch_add(struct nfc_nf *nf, int fam, const struct dd_lpm6 *k,
		      int copy)
{
	struct dd_priv *pv = priv_of(nf);
	__u32 v = 0;

	if (!pv || pv->nwatch == DD_WATCH_MAX ||
	    bpf_map_lookup_elem(block_fd(nf, fam, copy), k, &v) || !v)
		return;
	pv->watch[pv->nwatch++] =
		(struct dd_watch){.end = v, .fam = fam, .k = *k};
}

/* The watched entries whose end has come, if the live copy still holds
 * them with that end (deleted or given another since: no longer ours). */
static void watch_expire(struct nfc_nf *nf, struct dd_priv *pv, time_t now)
{
	int c = live_copy(nf);

	for (unsigned i = 0; i < pv->nwatch;) {
		struct dd_watch *w = &pv->watch[i];
		__u32 v = 0;

		if ((time_t)w->end > now) {
			i++;
			continue;
		}
		if (!bpf_map_lookup_elem(block_fd(nf, w->fam, c), &w->k, &v) &&
		    v == w->end)
			expire_key(nf, c, w->fam, &w->k);
		*w = pv->watch[--pv->nwatch];
	}
}

/* Part of a scan of the live copy: deletes the entries whose time has
 * come, up to `budget` keys; 1 when the family's trie is done. */
static int expire_some(struct nfc_nf *nf, struct dd_priv *pv, int copy,
		       time_t now, int budget)
{
	int fd = block_fd(nf, pv->scan_fam, copy);
	struct dd_lpm6 next;

	if (fd < 0)
		return 1;
	while (budget-- > 0) {
		__u32 v = 0;

		if (bpf_map_get_next_key(fd, pv->scan_cur ? &pv->cur : NULL,
					 &next))
			return 1;
		if (!bpf_map_lookup_elem(fd, &next, &v) && v) {
			if ((time_t)v <= now &&
			    !expire_key(nf, copy, pv->scan_fam, &next))
				continue; /* the cursor stays on a kept key */
			pv->left++;
		}
		pv->cur = next;
		pv->scan_cur = 1;
	}
	return 0;
}

void dd_block_expire(struct nfc_nf *nf)
{
	struct dd_priv *pv = priv_of(nf);
	time_t now = time(NULL);
	int c = live_copy(nf);

	if (!pv)
		return;
	watch_expire(nf, pv, now);
	if (pv->clear_copy) {
		int k = pv->clear_copy - 1;

		if (hash_clear_some(block_fd(nf, pv->clear_fam ? 6 : 4, k),
				    DD_TICK_KEYS, &pv->clear_tok,
				    &pv->clear_have)) {
			pv->clear_have = 0;
			if (!pv->clear_fam++)
				return;
			struct dd_lens ln = {0};

			bm_clear(nf, k);
			lens_put(nf, k, &ln);
			pv->clear_copy = 0;
			pv->clear_fam = 0;
		}
	}
	if (!pv->scan_fam) {
		if (pv->next_scan && now < pv->next_scan)
			return;
		if (!(state_get(nf).flags & DD_ST_EXPIRIES)) {
			pv->next_scan = now + 600;
			return;
		}
		pv->scan_fam = 4;
		pv->scan_cur = 0;
		pv->left = 0;
		pv->again = 0;
	}
	if (!expire_some(nf, pv, c, now, DD_TICK_KEYS))
		return;
	if (pv->scan_fam == 4) {
		pv->scan_fam = 6;
		pv->scan_cur = 0;
		return;
	}
	pv->scan_fam = 0;
	/* Every second while some are pending; none left: no more scans
	 * until an entry with an expiry is written. */
	pv->left += pv->again;
	pv->next_scan = now + (pv->left ? 1 : 600);
	if (!pv->left) {
		struct dd_state st = state_get(nf);

		st.flags &= ~DD_ST_EXPIRIES;
		state_put(nf, &st);
	}
}

/*
 * The bulk path of `blocklist import` (import_text): the NF parses the
 * feed itself, a line at a time, and writes the tries directly, with no
 * JSON object an entry (1,000,000 of them cost the generic path 52 s and
 * 1.3 GB, see README.md) and no array of them either: a replace writes
 * the copy packets do not read as it parses (a bad line empties it
 * again: nothing seen changed), an add checks every line in a first pass
 * and writes in a second. A copy of the feed is kept in a file
 * (feed_path), and the model holds a reference to it (the entry `feed`:
 * file, count, CRC) from which replace() and add() load it again, a line
 * at a time: apply, a lost pin root.
 */
static void feed_path_of(struct nfc_nf *nf, const char *name, char *buf,
			 size_t len)
{
	nfc_nf_keep_path(nf, getenv("NFC_DDOS_FEED_DIR"), "ddos", name,
			 "blocklist.feed", buf, len);
}

static void feed_path(struct nfc_nf *nf, char *buf, size_t len)
{
	feed_path_of(nf, nfc_nf_name(nf), buf, len);
}

/* Lines of a text in memory or of a file, with the CRC of what was read. */
struct lines {
	const char *text;
	size_t len, off;
	FILE *f;
	char *buf;
	size_t cap;
	uLong crc;
};

static void lines_text(struct lines *s, const char *text, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->text = text;
	s->len = len;
}

static int lines_file(struct lines *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->crc = crc32(0L, Z_NULL, 0);
	s->f = fopen(path, "r");
	return s->f ? 0 : -errno;
}

static void lines_done(struct lines *s)
{
	if (s->f)
		fclose(s->f);
	free(s->buf);
	s->f = NULL;
	s->buf = NULL;
}

/* The next line without its newline, its length; -1 at the end. */
static ssize_t lines_next(struct lines *s, const char **line)
{
	const char *nl;
	ssize_t n;

	if (s->f) {
		n = getline(&s->buf, &s->cap, s->f);
		if (n < 0)
			return -1;
		s->crc = crc32(s->crc, (const Bytef *)s->buf, (uInt)n);
		if (n && s->buf[n - 1] == '\n')
			s->buf[--n] = 0;
		*line = s->buf;
		return n;
	}
	if (s->off >= s->len)
		return -1;
	nl = memchr(s->text + s->off, '\n', s->len - s->off);
	n = nl ? nl - (s->text + s->off) : (ssize_t)(s->len - s->off);
	*line = s->text + s->off;
	s->off += n + 1;
	return n;
}

/* One line: "prefix [expires=N]", '#' comments; 0 entry, 1 none. */
static int bulk_line(struct nfc_nf *nf, char *s, unsigned line,
		     struct dd_lpm6 *k, __u32 *v, int *family)
{
	char *w, *save = NULL, *h = strchr(s, '#'), what[48];
	struct dd_pfx p;
	long long exp = 0, until = 0;
	int r;

	if (h)
		*h = 0;
	w = strtok_r(s, " \t\r", &save);
	if (!w)
		return 1;
	snprintf(what, sizeof(what), "line %u: blocklist", line);
	r = pfx_parse(nf, what, w, &p);
	if (r)
		return r;
	while ((w = strtok_r(NULL, " \t\r", &save))) {
		char *e2;

		/* What the kept feed writes for expires=N: its end. */
		if (!strncmp(w, "until=", 6)) {
			long long u = strtoll(w + 6, &e2, 10);

			if (!w[6] || *e2 || u < 1 || u > UINT32_MAX)
				return nfc_nf_error(nf, EINVAL,
						    "line %u: blocklist: until "
						    "'%s' is not a time (Unix "
						    "seconds)",
						    line, w + 6);
			if (until || exp)
				return nfc_nf_error(nf, EINVAL,
						    "line %u: blocklist: one "
						    "expires= or until= a line",
						    line);
			until = u;
			continue;
		}
		if (strncmp(w, "expires=", 8))
			return nfc_nf_error(nf, EINVAL,
					    "line %u: blocklist: unknown field "
					    "'%s' (expires=N or until=T)",
					    line, w);
		if (until || exp)
			return nfc_nf_error(nf, EINVAL,
					    "line %u: blocklist: one expires= "
					    "or until= a line",
					    line);
		exp = strtoll(w + 8, &e2, 10);
		if (!w[8] || *e2 || exp < 1 || exp > 100000000)
			return nfc_nf_error(nf, EINVAL,
					    "line %u: blocklist: expires '%s' "
					    "is not in 1..100000000",
					    line, w + 8);
	}
	*family = p.family;
	lpm_key(&p, k);
	*v = exp ? (__u32)(time(NULL) + exp) : (__u32)until;
	return 0;
}

/* What an import that adds to the live copy wrote, in order, to take back
 * if it cannot finish (the list full, the feed not kept): each key with
 * the value it had, or none. */
struct bulk_undo {
	struct undo_ent {
		struct dd_lpm6 k;
		__u32 v;
		__u8 fam, had;
	} * e;
	size_t n, cap;
};

static int bulk_lines(struct nfc_nf *nf, struct lines *s, int copy, int fd4,
		      int fd6, struct dd_lens *ln, __u64 *bm, size_t *n,
		      int *any_exp, const struct dd_dels *skip,
		      struct bulk_undo *u, struct dd_dups *dups, int *stale);
static int undo_note(struct bulk_undo *u, int fd, int fam,
		     const struct dd_lpm6 *k);

/* Every line checked, and written to blocklist copy `copy` unless it is
 * < 0 or in `skip` (a kept feed's deleted prefixes); errors name the line.
 * Prefixes in *n, an expiry seen in *any_exp; with `dups`, the prefixes
 * the copy held already. */
static int bulk_pass(struct nfc_nf *nf, struct lines *s, int copy, size_t *n,
		     int *any_exp, const struct dd_dels *skip,
		     struct bulk_undo *u, struct dd_dups *dups)
{
	int fd4 = copy < 0 ? -1 : block_fd(nf, 4, copy);
	int fd6 = copy < 0 ? -1 : block_fd(nf, 6, copy);
	struct dd_lens ln;
	__u64 *bm = NULL;
	int r, stale = 0;

	*n = 0;
	if (copy >= 0 && (fd4 < 0 || fd6 < 0))
		return nfc_nf_error(nf, ENOENT, "blocklist: maps not found");
	if (copy >= 0) {
		lens_get(nf, copy, &ln);
		bm = bm_get(nf, copy);
		if (!bm)
			return bm_missing(nf, copy);
	}
	r = bulk_lines(nf, s, copy, fd4, fd6, &ln, bm, n, any_exp, skip, u,
		       dups, &stale);
	bm_done(bm);
	/* A /24 or shorter taken away: what the bitmap says of it and of
	 * any prefix under it is the hash's to say again. */
	if (stale)
		bm_rebuild(nf, copy);
	return r;
}

static int bulk_lines(struct nfc_nf *nf, struct lines *s, int copy, int fd4,
		      int fd6, struct dd_lens *ln, __u64 *bm, size_t *n,
		      int *any_exp, const struct dd_dels *skip,
		      struct bulk_undo *u, struct dd_dups *dups, int *stale)
{
	/* An imported line is at most 511 characters; the kept feed's may
	 * be longer by what until=T adds to expires=N. */
	size_t most = s->f ? 1024 : 512;
	__u32 now = (__u32)time(NULL);
	unsigned line = 0;
	const char *l;
	char buf[1024];
	ssize_t len;

	while ((len = lines_next(s, &l)) >= 0) {
		struct dd_lpm6 k;
		__u32 v = 0;
		int fam = 4, r;

		line++;
		if ((size_t)len >= most)
			return nfc_nf_error(nf, EINVAL, "line %u: too long",
					    line);
		/* What follows a NUL was never read, nor checked, yet kept
		 * in the feed file (found by a helper): refused, as the
		 * generic import refuses it. */
		if (memchr(l, 0, len))
			return nfc_nf_error(nf, EINVAL,
					    "line %u: contains a NUL byte",
					    line);
		memcpy(buf, l, len);
		buf[len] = 0;
		r = bulk_line(nf, buf, line, &k, &v, &fam);
		if (r < 0)
			return r;
		if (r || dd_dels_has(skip, fam, &k))
			continue;
		/* An end already past (a kept line loaded after it): the
		 * data plane does not check it, the tick would only later.
		 * The line takes away what an earlier one put there: a set
		 * of a feed's prefix with an expiry is a line after the
		 * prefix's own, and the prefix came back, with no end, at
		 * the next load once its end had passed. */
		if (v && v <= now) {
			__u32 had;

			/* Noted as the prefix's last line: the kept feed
			 * drops its earlier lines and this one (feed_put).
			 * Kept, such a line was appended again at every
			 * import, and counted (found by a helper). */
			if (dups && dd_dups_note(dups, fam, &k, line))
				return nfc_nf_error(nf, ENOMEM,
						    "line %u: blocklist: out "
						    "of memory",
						    line);
			if (copy < 0 ||
			    !list_has(fam == 4 ? fd4 : fd6, &k, &had))
				continue;
			if (u && undo_note(u, fam == 4 ? fd4 : fd6, fam, &k))
				return nfc_nf_error(nf, ENOMEM,
						    "line %u: blocklist: out "
						    "of memory",
						    line);
			bpf_map_delete_elem(fam == 4 ? fd4 : fd6, &k);
			*stale |= fam == 4 && k.plen <= 24;
			continue;
		}
		if (++*n > DD_MAX_PREFIXES)
			return nfc_nf_error(nf, E2BIG,
					    "line %u: blocklist: more than %d "
					    "prefixes",
					    line, DD_MAX_PREFIXES);
		if (v)
			*any_exp = 1;
		if (copy < 0)
			continue;
		r = lens_need(nf, copy, ln, fam, k.plen);
		if (r)
			return r;
		if (u && undo_note(u, fam == 4 ? fd4 : fd6, fam, &k))
			return nfc_nf_error(nf, ENOMEM,
					    "line %u: blocklist: out of memory",
					    line);
		/* The bitmap first, as block_write does. */
		if (fam == 4 && k.plen <= 24)
			bm_set(bm, addr4(k.addr), k.plen);
		/* A prefix held already is noted, for the kept feed to
		 * keep one line of it (found by testing: a feed imported
		 * twice was kept twice, its count doubled, and the third
		 * time was refused at the reboot's load, over the
		 * limit). */
		r = bpf_map_update_elem(fam == 4 ? fd4 : fd6, &k, &v,
					dups ? BPF_NOEXIST : BPF_ANY);
		if (r && dups && errno == EEXIST) {
			if (dd_dups_note(dups, fam, &k, line))
				return nfc_nf_error(nf, ENOMEM,
						    "line %u: blocklist: out "
						    "of memory",
						    line);
			r = bpf_map_update_elem(fam == 4 ? fd4 : fd6, &k, &v,
						BPF_ANY);
		}
		if (r) {
			int e = errno;
			char b[64];

			if (fam == 4 && k.plen <= 24)
				bm_unset(nf, copy, addr4(k.addr), k.plen);
			if (e == E2BIG || e == ENOSPC || e == ENOMEM)
				return nfc_nf_error(
					nf, e,
					"line %u: blocklist: %s does not fit: "
					"the list is full (at most %d IPv%d "
					"prefixes)",
					line,
					dd_pfx_str(fam, k.plen, k.addr, b),
					DD_MAX_BLOCK, fam);
			return nfc_nf_error(
				nf, e, "line %u: blocklist: write %s: %s", line,
				dd_pfx_str(fam, k.plen, k.addr, b),
				strerror(e));
		}
	}
	return 0;
}

static int undo_note(struct bulk_undo *u, int fd, int fam,
		     const struct dd_lpm6 *k)
{
	struct undo_ent *x;

	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 1024;

		x = realloc(u->e, cap * sizeof(*x));
		if (!x)
			return -1;
		u->e = x;
		u->cap = cap;
	}
	x = &u->e[u->n++];
	memset(x, 0, sizeof(*x));
	x->k = *k;
	x->fam = fam;
	x->had = !bpf_map_lookup_elem(fd, k, &x->v);
	return 0;
}

/* Copy `copy` as it was before the writes noted in u, last first. */
static void undo_run(struct nfc_nf *nf, int copy, struct bulk_undo *u)
{
	while (u->n) {
		struct undo_ent *x = &u->e[--u->n];
		int fd = block_fd(nf, x->fam, copy);

		if (x->had) {
			bpf_map_update_elem(fd, &x->k, &x->v, BPF_ANY);
			/* Taken away by an expired line (bulk_lines). */
			if (x->fam == 4 && x->k.plen <= 24) {
				__u64 *bm = bm_get(nf, copy);

				if (bm)
					bm_set(bm, addr4(x->k.addr), x->k.plen);
				bm_done(bm);
			}
			continue;
		}
		bpf_map_delete_elem(fd, &x->k);
		if (x->fam == 4 && x->k.plen <= 24)
			bm_unset(nf, copy, addr4(x->k.addr), x->k.plen);
	}
	free(u->e);
	u->e = NULL;
	u->cap = 0;
}

/* Appends the file `from` (absent: nothing) to f, but for the lines of
 * the prefixes in `skip` (its deleted ones) and in `dups` (given again
 * by the import that follows them). */
static int copy_into(struct nfc_nf *nf, FILE *f, const char *from,
		     const struct dd_dels *skip, const struct dd_dups *dups)
{
	char buf[512];
	struct lines s;
	const char *l;
	ssize_t len;
	int r = lines_file(&s, from);

	if (r)
		return r == -ENOENT ? 0 : r;
	while (!r && (len = lines_next(&s, &l)) >= 0) {
		struct dd_lpm6 k;
		__u32 v;
		int fam;

		/* The feed's lines were checked when it was imported;
		 * one that no longer parses is copied as it is. */
		if (((skip && skip->n) || (dups && dups->n)) &&
		    (size_t)len < sizeof(buf)) {
			memcpy(buf, l, len);
			buf[len] = 0;
			if (!bulk_line(nf, buf, 0, &k, &v, &fam) &&
			    (dd_dels_has(skip, fam, &k) ||
			     dd_dups_last(dups, fam, &k)))
				continue;
		}
		if (fwrite(l, 1, len, f) != (size_t)len ||
		    fputc('\n', f) == EOF)
			r = -EIO;
	}
	if (!r && ferror(s.f))
		r = -EIO;
	lines_done(&s);
	return r;
}

static int feed_sum(struct nfc_nf *nf, const char *path, int *found, size_t *n,
		    char crc[9]);

/* The imported text into the kept feed, each `expires=N` written as the
 * end it gives, `until=T` (Unix seconds): loaded again at a reboot, a
 * line keeps the lifetime it was given, not a new one from the load.
 * The text was checked whole (bulk_pass) before. */
static int feed_put(struct nfc_nf *nf, FILE *f, const char *text, size_t len,
		    const struct dd_dups *dups)
{
	const char *p = text, *end = text + len;
	time_t now = time(NULL);
	unsigned line = 0;

	/* Most feeds carry no expiry and no prefix twice: written as they
	 * came. */
	if (!memmem(text, len, "expires=", 8) && !dups->n)
		return fwrite(text, 1, len, f) != len ||
				       (len && text[len - 1] != '\n' &&
					fputc('\n', f) == EOF)
			       ? -1
			       : 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end;
		const char *h = memchr(p, '#', le - p);

		line++;
		if (dups->n && (size_t)(le - p) < 512) {
			struct dd_lpm6 k;
			char buf[512];
			unsigned last;
			__u32 v;
			int fam;

			memcpy(buf, p, le - p);
			buf[le - p] = 0;
			/* A line given again later, or whose end has passed
			 * (noted by bulk_pass: it took its prefix away). A
			 * live line after a passed one is kept: only a later
			 * line supersedes. */
			if (!bulk_line(nf, buf, line, &k, &v, &fam) &&
			    ((v && v <= (__u32)now) ||
			     ((last = dd_dups_last(dups, fam, &k)) &&
			      last > line))) {
				p = nl ? nl + 1 : end;
				continue;
			}
		}
		const char *e = memmem(p, (h ? h : le) - p, "expires=", 8);

		if (e && (e == p || e[-1] == ' ' || e[-1] == '\t')) {
			char *x;
			long long n = strtoll(e + 8, &x, 10);

			if (fwrite(p, 1, e - p, f) != (size_t)(e - p) ||
			    fprintf(f, "until=%lld", (long long)now + n) < 0)
				return -1;
			p = x;
		}
		if (fwrite(p, 1, le - p, f) != (size_t)(le - p) ||
		    fputc('\n', f) == EOF)
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* Whether the feed at `path` has the same size as `prev` and the CRC
 * crc (read only when the sizes agree). */
static int same_bytes(struct nfc_nf *nf, const char *path, const char *prev,
		      const char *crc)
{
	struct stat a, b;
	char now[9];
	size_t n;
	int found;

	if (stat(path, &a) || stat(prev, &b) || a.st_size != b.st_size)
		return 0;
	return !feed_sum(nf, path, &found, &n, now) && found &&
	       !strcmp(now, crc);
}

/* The kept feed's CRC, known from now on ("": not known, it changed). */
static void crc_keep(struct nfc_nf *nf, const char *crc, size_t n)
{
	struct dd_priv *pv = priv_of(nf);

	if (pv) {
		snprintf(pv->feed_crc, sizeof(pv->feed_crc), "%s", crc);
		pv->feed_n = n;
	}
}

/* The CRC of the kept feed at `path` (*found 0: there is none), known
 * since it was last read or written, else read now (once a process). */
static int feed_crc_now(struct nfc_nf *nf, const char *path, char crc[9],
			int *found)
{
	struct dd_priv *pv = priv_of(nf);
	size_t n;
	int r;

	if (pv && pv->feed_crc[0]) {
		memcpy(crc, pv->feed_crc, 9);
		*found = 1;
		return 0;
	}
	r = feed_sum(nf, path, found, &n, crc);
	if (!r && *found)
		crc_keep(nf, crc, n);
	return r;
}

/* The kept feed becomes the text (replace) or gains it: written whole
 * to a temporary file, fsync'd, renamed over it. The version it replaces
 * stays as <feed>.prev until the next import: a process killed after the
 * rename but before the model named the new version finds the old one
 * there (feed_check), so that a reboot restores the old list or the
 * new, never refuses both. */
static int feed_save(struct nfc_nf *nf, const char *text, size_t len,
		     int replace, struct dd_dups *dups)
{
	char path[512], tmp[600], prev[600], old[9];
	struct dd_dels dels = {0};
	int r, found;
	FILE *f;

	feed_path(nf, path, sizeof(path));
	/* The version replaced keeps its log of deletions (with .prev);
	 * an import that adds to it leaves its deleted lines behind. */
	r = feed_crc_now(nf, path, old, &found);
	if (!r && found && !replace)
		r = dd_dels_load(path, old, &dels);
	if (r)
		return nfc_nf_error(nf, -r,
				    "blocklist: read the kept feed %s or its "
				    "deletions: %s",
				    path, strerror(-r));
	snprintf(tmp, sizeof(tmp), "%s", path);
	/* The directory, made on first use (the daemon's state dir). */
	if (strrchr(tmp, '/')) {
		*strrchr(tmp, '/') = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return nfc_nf_error(
				nf, errno,
				"blocklist: make %s for the feed: %s", tmp,
				strerror(errno));
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(prev, sizeof(prev), "%s.prev", path);
	f = fopen(tmp, "w");
	if (!f)
		return nfc_nf_error(nf, errno,
				    "blocklist: keep the feed in %s: %s", tmp,
				    strerror(errno));
	dd_dups_sort(dups);
	if ((!replace && copy_into(nf, f, path, &dels, dups)) ||
	    feed_put(nf, f, text, len, dups) || fflush(f) || fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		dd_dels_free(&dels);
		return nfc_nf_error(nf, EIO, "blocklist: write %s: %s", tmp,
				    strerror(errno));
	}
	fclose(f);
	dd_dels_free(&dels);
	unlink(prev);
	if (link(path, prev) && errno != ENOENT)
		return nfc_nf_error(nf, errno, "blocklist: keep %s: %s", prev,
				    strerror(errno));
	if (rename(tmp, path))
		return nfc_nf_error(nf, errno, "blocklist: rename %s: %s", tmp,
				    strerror(errno));
	crc_keep(nf, "", 0);
	/* Older versions' logs go; .prev's stays, unless the new version
	 * has the same bytes (a feed imported again whole, or its deleted
	 * lines imported again): its deletions must not apply to the new
	 * one. */
	if (found && same_bytes(nf, path, prev, old))
		found = 0;
	dd_dels_prune(path, found ? old : NULL);
	return 0;
}

static int bulk_import(struct nfc_nf *nf, const char *text, size_t len,
		       int replace)
{
	int live = live_copy(nf), dst = replace ? !live : live, any_exp = 0;
	struct dd_dups dups = {0};
	struct bulk_undo u = {0};
	struct dd_lens lens;
	struct lines s;
	size_t n;
	int r;

	add_mark(nf, NULL, 0, 0);
	lines_text(&s, text, len);
	if (replace) {
		clear_spare(nf, dst);
		r = bulk_pass(nf, &s, dst, &n, &any_exp, NULL, NULL, &dups);
		if (!r)
			r = feed_save(nf, text, len, 1, &dups);
		if (!r)
			r = switch_copy(nf, dst, any_exp);
		if (r)
			clear_spare(nf, dst);
		dd_dups_free(&dups);
		return r;
	}
	/* Added to the live copy, every line checked first: entries stand
	 * alone, so a packet meeting some of them only is no set nobody
	 * wrote. */
	r = bulk_pass(nf, &s, -1, &n, &any_exp, NULL, NULL, NULL);
	if (r)
		return r;
	/* Written, then kept: a list that fills up half way, or a feed
	 * that cannot be kept, leaves the live copy as it was. */
	lines_text(&s, text, len);
	lens_get(nf, dst, &lens);
	r = bulk_pass(nf, &s, dst, &n, &any_exp, NULL, &u, &dups);
	if (!r)
		r = feed_save(nf, text, len, 0, &dups);
	if (r) {
		undo_run(nf, dst, &u);
		/* The lengths the lines added went with them: left, each
		 * was a probe more a packet for nothing (found by a helper:
		 * a refused import changed dd_lens). */
		lens_put(nf, dst, &lens);
	}
	free(u.e);
	dd_dups_free(&dups);
	if (!r && any_exp)
		note_expiry(nf);
	return r;
}

int dd_block_import(struct nfc_nf *nf, const char *text, size_t len,
		    int replace)
{
	return bulk_import(nf, text, len, replace);
}

/* Prefixes and CRC of the kept feed, read a line at a time; 0 with
 * *found 0 when there is none. */
static int feed_sum(struct nfc_nf *nf, const char *path, int *found, size_t *n,
		    char crc[9])
{
	struct lines s;
	const char *l;
	ssize_t len;
	int r = lines_file(&s, path);

	*found = 0;
	*n = 0;
	if (r)
		return r == -ENOENT
			       ? 0
			       : nfc_nf_error(nf, -r, "blocklist: read %s: %s",
					      path, strerror(-r));
	*found = 1;
	/* A line holds one prefix (checked when it was imported), but for
	 * blanks and comments. */
	while ((len = lines_next(&s, &l)) >= 0) {
		ssize_t i = 0;

		while (i < len && (l[i] == ' ' || l[i] == '\t'))
			i++;
		if (i < len && l[i] != '#' && l[i] != '\r')
			(*n)++;
	}
	r = ferror(s.f) ? nfc_nf_error(nf, EIO, "blocklist: read %s", path) : 0;
	snprintf(crc, 9, "%08lx", (unsigned long)s.crc & 0xffffffffUL);
	lines_done(&s);
	return r;
}

/* The model's entry for the kept feed (import_ref): {"feed": {file,
 * prefixes, crc32}}, NULL when the feed is empty (its file goes). */
json_t *dd_block_import_ref(struct nfc_nf *nf)
{
	struct dd_priv *pv = priv_of(nf);
	char path[512], crc[9];
	size_t n;
	int found;

	feed_path(nf, path, sizeof(path));
	/* Known since the feed was last read or written (an apply asks
	 * after feed_check read it: a 1,000,000-line feed is not read a
	 * second time); an import forgot it. */
	if (pv && pv->feed_crc[0]) {
		memcpy(crc, pv->feed_crc, 9);
		n = pv->feed_n;
	} else if (feed_sum(nf, path, &found, &n, crc) || !found) {
		return NULL;
	}
	if (!n) {
		unlink(path);
		dd_dels_prune(path, NULL);
		crc_keep(nf, "", 0);
		return NULL;
	}
	crc_keep(nf, crc, n);
	return json_pack("{s:{s:s,s:I,s:s}}", DD_FEED_KEY, "file", path,
			 "prefixes", (json_int_t)n, "crc32", crc);
}

/* Whether the feed `file` (found, of n lines and CRC crc) is the one the
 * state names (want, cnt); `gone` says what to do when it is missing. */
static int feed_verdict(struct nfc_nf *nf, const char *file, int found,
			size_t n, const char *crc, const char *want,
			json_int_t cnt, const char *gone)
{
	if (!found)
		return nfc_nf_error(nf, ENOENT,
				    "blocklist: feed %s %s (blocklist import "
				    "--replace -f ...)",
				    file, gone);
	if (strcmp(crc, want) || n != (size_t)cnt)
		return nfc_nf_error(nf, EINVAL,
				    "blocklist: feed %s holds %zu prefixes, "
				    "crc32 %s, not the %lld, %s the state "
				    "names: import it again",
				    file, n, crc, (long long)cnt, want);
	return 0;
}

/* A feed another daemon kept (a document exported there and applied
 * here; or this state directory under another pin root: the name holds
 * the pin root) taken into this NF's own file, with its deletions, when
 * it holds what the document says. This NF's own version stays as .prev
 * (feed_check finds it again if the apply is refused). Found by a
 * helper: export -> apply into a fresh daemon was refused, naming the
 * very file that held the feed. */
static int feed_adopt(struct nfc_nf *nf, const char *from, const char *path,
		      const char *want, json_int_t cnt)
{
	char crc[9], prev[600], dfrom[700], dto[700];
	size_t n;
	int r, found;

	r = feed_sum(nf, from, &found, &n, crc);
	if (r)
		return r;
	r = feed_verdict(nf, from, found, n, crc, want, cnt,
			 "is not there: copy it there, or import the list "
			 "again");
	if (r)
		return r;
	snprintf(prev, sizeof(prev), "%s.prev", path);
	unlink(prev);
	if (link(path, prev) && errno != ENOENT)
		return nfc_nf_error(nf, errno, "blocklist: keep %s: %s", prev,
				    strerror(errno));
	snprintf(dfrom, sizeof(dfrom), "%s.%s.del", from, crc);
	snprintf(dto, sizeof(dto), "%s.%s.del", path, crc);
	r = nfc_copy_file(dfrom, dto);
	if (r == -ENOENT)
		unlink(dto), r = 0;
	if (!r)
		r = nfc_copy_file(from, path);
	if (r)
		return nfc_nf_error(nf, -r,
				    "blocklist: copy the feed %s to %s: %s",
				    from, path, strerror(-r));
	crc_keep(nf, "", 0);
	return 0;
}

/* The entry `feed` of a replace or an add: the kept file it names must be
 * this NF's (or one feed_adopt takes in) and hold what the model says;
 * its CRC in crc. */
static int feed_check(struct nfc_nf *nf, json_t *f, char crc[9])
{
	const char *file = json_string_value(json_object_get(f, "file"));
	const char *want = json_string_value(json_object_get(f, "crc32"));
	json_int_t cnt = json_integer_value(json_object_get(f, "prefixes"));
	char path[512];
	size_t n;
	int r, found;

	feed_path(nf, path, sizeof(path));
	if (json_object_get(f, "expires") || json_object_get(f, "until"))
		return nfc_nf_error(nf, EINVAL,
				    "blocklist: feed: expires is for prefixes "
				    "(the feed's lines carry their own)");
	if (!file || !*file || !want ||
	    !json_is_integer(json_object_get(f, "prefixes")))
		return nfc_nf_error(
			nf, EINVAL,
			"blocklist: feed: the entry an import "
			"writes needs file, crc32 and prefixes; to "
			"load a list, use blocklist import -f FILE");
	if (strcmp(file, path)) {
		r = feed_adopt(nf, file, path, want, cnt);
		if (r)
			return r;
	}
	r = feed_sum(nf, path, &found, &n, crc);
	if (r)
		return r;
	if (found && (strcmp(crc, want) || n != (size_t)cnt)) {
		char prev[600], pcrc[9];
		size_t pn;
		int pf;

		/* Killed between the feed's rename and the model's save:
		 * the version the model names is the one kept beside it. */
		snprintf(prev, sizeof(prev), "%s.prev", path);
		if (!feed_sum(nf, prev, &pf, &pn, pcrc) && pf &&
		    !strcmp(pcrc, want) && pn == (size_t)cnt &&
		    !rename(prev, path)) {
			memcpy(crc, pcrc, 9);
			n = pn;
		}
	}
	r = feed_verdict(nf, path, found, n, crc, want, cnt,
			 "is gone: import it again");
	if (r)
		return r;
	crc_keep(nf, crc, n);
	return 0;
}

/* The kept feed (checked by feed_check, of CRC crc) written into copy
 * `copy`, less the prefixes deleted from it since. */
static int feed_write(struct nfc_nf *nf, int copy, const char *crc)
{
	struct dd_dels dels;
	char path[512];
	struct lines s;
	size_t n;
	int any_exp = 0, r;

	feed_path(nf, path, sizeof(path));
	r = dd_dels_load(path, crc, &dels);
	if (r)
		return nfc_nf_error(nf, -r,
				    "blocklist: read the deletions from %s: "
				    "%s",
				    path, strerror(-r));
	r = lines_file(&s, path);
	if (r) {
		dd_dels_free(&dels);
		return nfc_nf_error(nf, -r, "blocklist: read %s: %s", path,
				    strerror(-r));
	}
	r = bulk_pass(nf, &s, copy, &n, &any_exp, &dels, NULL, NULL);
	lines_done(&s);
	dd_dels_free(&dels);
	if (any_exp)
		note_expiry(nf);
	return r;
}

static int feed_add(struct nfc_nf *nf, json_t *fields)
{
	int live = live_copy(nf);
	char crc[9];
	int r = feed_check(nf, fields, crc);

	if (!r)
		r = feed_write(nf, live, crc);
	return r;
}

int dd_block_replace(struct nfc_nf *nf, json_t *entries)
{
	int live = live_copy(nf), next = !live, any_exp = 0, feed = 0;
	int fd4 = block_fd(nf, 4, next), fd6 = block_fd(nf, 6, next);
	char crc[9];
	const char *key;
	json_t *f;
	int r = 0;

	if (fd4 < 0 || fd6 < 0)
		return nfc_nf_error(nf, ENOENT, "blocklist: maps not found");
	add_mark(nf, NULL, 0, 0);
	/* Checked whole before anything is written. */
	json_object_foreach (entries, key, f) {
		struct dd_pfx p;

		if (!strcmp(key, DD_FEED_KEY)) {
			r = feed_check(nf, f, crc);
			feed = 1;
		} else {
			r = feed_fields_misplaced(nf, key, f);
			if (!r)
				r = dd_parse_pfx(nf, "blocklist", key, &p);
			if (json_object_get(f, "expires"))
				any_exp = 1;
		}
		if (r)
			return r;
	}
	/* Left empty by the ticks after the last swap; emptied now in case
	 * they have not finished, or a write failed half way then. */
	clear_spare(nf, next);
	if (feed)
		r = feed_write(nf, next, crc);
	json_object_foreach (entries, key, f) {
		if (r)
			break;
		if (!strcmp(key, DD_FEED_KEY))
			continue;
		r = block_write(nf, next, key, f, 0);
	}
	if (!r)
		r = switch_copy(nf, next, any_exp);
	if (r)
		clear_spare(nf, next);
	return r;
}

static int feed_fields_misplaced(struct nfc_nf *nf, const char *key,
				 json_t *fields)
{
	static const char *const only[] = {"file", "prefixes", "crc32"};

	for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++)
		if (json_object_get(fields, only[i]))
			return nfc_nf_error(nf, EINVAL,
					    "blocklist %s: %s is for the entry "
					    "'feed' only",
					    key, only[i]);
	return 0;
}

/* dd0 deleted: its kept feed goes with it (a new dd0 under the same pin
 * root would otherwise start with the old list). */
void dd_block_removed(struct nfc_nf *nf, const char *name)
{
	char path[512], tmp[600];

	feed_path_of(nf, name, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(path);
	unlink(tmp);
	snprintf(tmp, sizeof(tmp), "%s.prev", path);
	unlink(tmp);
	dd_dels_prune(path, NULL);
}
