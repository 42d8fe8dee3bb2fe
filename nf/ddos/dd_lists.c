// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ddos: the allowlist and the blocklist, LPM tries of source prefixes.
 * The blocklist is swapped as a whole (import --replace, apply): the new
 * list is written into the copy packets do not read, dd_state.live is
 * flipped with one write, and the old copy is emptied for the next time;
 * single adds and deletes go to the live copy. An entry's expiry is kept
 * in its trie value (wall-clock seconds), so that it survives a restart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include <zlib.h>

#include "dd_int.h"

/* The blocklist's entry that stands for an imported feed (its file, count
 * and CRC), so that the model, export and apply know the feed without a
 * million entries (README.md, "Feeds"). */
#define DD_FEED_KEY "feed"
static int feed_add(struct nfc_nf *nf, json_t *fields);
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

int dd_parse_pfx(struct nfc_nf *nf, const char *what, const char *s,
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

	snprintf(name, sizeof(name), "dd_block%d_%d", family, copy);
	return nfc_nf_map_fd(nf, name);
}

static __u32 expiry(json_t *fields)
{
	json_int_t s = json_integer_value(json_object_get(fields, "expires"));

	return s > 0 ? (__u32)(time(NULL) + s) : 0;
}

static int trie_write(struct nfc_nf *nf, int fd, const char *what,
		      const char *key, json_t *fields, int flags)
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
	v = expiry(fields);
	if (bpf_map_update_elem(fd, &k, &v, flags))
		return nfc_nf_error(nf, errno, "%s: write %s: %s", what, key,
				    strerror(errno));
	return 0;
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
	if (bpf_map_delete_elem(p.family == 4 ? fd4 : fd6, &k) &&
	    errno != ENOENT)
		return nfc_nf_error(nf, errno, "%s: delete %s: %s", what, key,
				    strerror(errno));
	return 0;
}

static void page_entry(int family, const struct dd_lpm6 *k, __u32 v, time_t now,
		       json_t *out)
{
	char b[64];
	json_t *e = json_pack("{s:s}", "prefix",
			      dd_pfx_str(family, k->plen, k->addr, b));

	if (v)
		json_object_set_new(
			e, "expires_in",
			json_integer(v > now ? (json_int_t)(v - now) : 0));
	json_array_append_new(out, e);
}

/* Appends {prefix, expires_in} for at most `max` entries of a trie after
 * `*k` (from the first when !*have), moving *k on; the count, and *end
 * set when the trie has no more. Read with BPF_MAP_LOOKUP_BATCH, up to
 * PAGE_BATCH keys a syscall: two syscalls a key (next key, lookup) made
 * a listing of 1,000,000 prefixes take ~55 s here. One key at a time
 * where the kernel has no batches for tries. */
#define PAGE_BATCH 1024

static size_t trie_page(int fd, int family, struct dd_lpm6 *k, int *have,
			size_t max, int *end, json_t *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t ksz =
		family == 4 ? sizeof(struct dd_lpm4) : sizeof(struct dd_lpm6);
	__u8 *keys = malloc(PAGE_BATCH * ksz);
	__u32 vals[PAGE_BATCH];
	time_t now = time(NULL);
	size_t n = 0;
	int batch = keys != NULL;

	*end = 0;
	if (fd < 0) {
		*end = 1;
		max = 0;
	}
	while (batch && n < max && !*end) {
		struct dd_lpm6 last = {0};
		__u32 cnt = max - n < PAGE_BATCH ? max - n : PAGE_BATCH;

		if (bpf_map_lookup_batch(fd, *have ? k : NULL, &last, keys,
					 vals, &cnt, &opts)) {
			if (errno != ENOENT) {
				batch = 0;
				break;
			}
			*end = 1;
		}
		for (__u32 i = 0; i < cnt; i++) {
			struct dd_lpm6 e = {0};

			memcpy(&e, keys + i * ksz, ksz);
			page_entry(family, &e, vals[i], now, out);
			*k = e;
			*have = 1;
		}
		n += cnt;
	}
	free(keys);
	while (!batch && n < max) {
		struct dd_lpm6 next;
		__u32 v = 0;

		if (bpf_map_get_next_key(fd, *have ? k : NULL, &next)) {
			*end = 1;
			break;
		}
		*k = next;
		*have = 1;
		bpf_map_lookup_elem(fd, k, &v);
		page_entry(family, k, v, now, out);
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
		char name[32];

		if (prefix)
			snprintf(name, sizeof(name), "%s%d", prefix, fam);
		fd = prefix ? nfc_nf_map_fd(nf, name)
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
	return page_of(nf, "dd_allow", cur, max, out);
}

int dd_block_check(struct nfc_nf *nf, const char *key)
{
	struct dd_pfx p;

	if (!strcmp(key, DD_FEED_KEY))
		return 0;
	return dd_parse_pfx(nf, "blocklist", key, &p);
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

int dd_allow_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct dd_pfx p;
	int r = dd_parse_pfx(nf, "allowlist", key, &p);

	if (r)
		return r;
	return trie_write(
		nf,
		nfc_nf_map_fd(nf, p.family == 4 ? "dd_allow4" : "dd_allow6"),
		"allowlist", key, fields, BPF_ANY);
}

int dd_allow_del(struct nfc_nf *nf, const char *key)
{
	return trie_del(nf, nfc_nf_map_fd(nf, "dd_allow4"),
			nfc_nf_map_fd(nf, "dd_allow6"), "allowlist", key);
}

int dd_allow_list(struct nfc_nf *nf, json_t *out)
{
	trie_list(nfc_nf_map_fd(nf, "dd_allow4"), 4, out);
	trie_list(nfc_nf_map_fd(nf, "dd_allow6"), 6, out);
	return 0;
}

int dd_block_add(struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct dd_pfx p;
	int r;

	if (!strcmp(key, DD_FEED_KEY))
		return feed_add(nf, fields);
	r = feed_fields_misplaced(nf, key, fields);
	if (!r)
		r = dd_parse_pfx(nf, "blocklist", key, &p);
	if (r)
		return r;
	r = trie_write(nf, block_fd(nf, p.family, live_copy(nf)), "blocklist",
		       key, fields, BPF_ANY);
	if (!r && json_object_get(fields, "expires"))
		note_expiry(nf);
	return r;
}

int dd_block_del(struct nfc_nf *nf, const char *key)
{
	int c = live_copy(nf);

	if (!strcmp(key, DD_FEED_KEY))
		return nfc_nf_error(nf, EINVAL,
				    "blocklist: 'feed' stands for the imported "
				    "feed; `blocklist import --replace -f "
				    "/dev/null` empties it");

	return trie_del(nf, block_fd(nf, 4, c), block_fd(nf, 6, c), "blocklist",
			key);
}

int dd_block_list(struct nfc_nf *nf, json_t *out)
{
	int c = live_copy(nf);

	trie_list(block_fd(nf, 4, c), 4, out);
	trie_list(block_fd(nf, 6, c), 6, out);
	return 0;
}

/* Empties a trie: delete the first key until there is none (an LPM trie
 * has no batch delete); at most `budget` keys (0: all). 1 when empty. */
/* Deletes up to `budget` keys (0: all) of a trie whose keys are `ksz`
 * bytes; 1 when it is empty. A batch of keys read from the start
 * (BPF_MAP_LOOKUP_BATCH) and deleted (BPF_MAP_DELETE_BATCH): two
 * syscalls a key made emptying the copy a replace left (1,000,000 keys)
 * cost more than the import itself. One key at a time where the kernel
 * has no batches for tries. */
#define CLEAR_BATCH 4096

static int trie_clear_one_by_one(int fd, size_t budget)
{
	struct dd_lpm6 k;

	for (size_t i = 0; !budget || i < budget; i++)
		if (bpf_map_get_next_key(fd, NULL, &k) ||
		    bpf_map_delete_elem(fd, &k))
			return 1;
	return 0;
}

static int trie_clear_some(int fd, size_t ksz, size_t budget)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u8 *keys;
	__u32 *vals;
	size_t done = 0;
	int end = 0;

	if (fd < 0)
		return 1;
	keys = malloc(CLEAR_BATCH * ksz);
	vals = malloc(CLEAR_BATCH * sizeof(*vals));
	while (keys && vals && !end && (!budget || done < budget)) {
		struct dd_lpm6 next;
		__u32 cnt = !budget || budget - done > CLEAR_BATCH
				    ? CLEAR_BATCH
				    : budget - done;

		if (bpf_map_lookup_batch(fd, NULL, &next, keys, vals, &cnt,
					 &opts)) {
			if (errno != ENOENT)
				break;
			end = 1; /* the last keys, or none */
		}
		if (cnt && bpf_map_delete_batch(fd, keys, &cnt, &opts))
			break;
		done += cnt;
	}
	free(keys);
	free(vals);
	if (end)
		return 1;
	if (!budget || done < budget)
		return trie_clear_one_by_one(fd, budget ? budget - done : 0);
	return 0;
}

static void trie_clear(int fd, size_t ksz)
{
	trie_clear_some(fd, ksz, 0);
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

struct dd_priv {
	time_t next_scan;   /* 0: a scan may start at the next tick */
	int scan_fam;	    /* 4 or 6: the trie a scan is in; 0: none */
	int scan_cur;	    /* `cur` holds the last key kept */
	struct dd_lpm6 cur; /* the scan's cursor */
	int left;	    /* future expiries this scan has seen */
	int again;	    /* one was written behind the cursor */
	int clear_copy;	    /* copy + 1 the ticks are emptying; 0: none */
};

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
	}
	return pv;
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
		pv->scan_fam = 0; /* its cursor was in the old copy */
		if (any_exp)
			pv->next_scan = 0;
	}
	return r;
}

/* The copy packets do not read, emptied now (a replace writes it). */
static void clear_spare(struct nfc_nf *nf, int spare)
{
	struct dd_priv *pv = priv_of(nf);

	trie_clear(block_fd(nf, 4, spare), sizeof(struct dd_lpm4));
	trie_clear(block_fd(nf, 6, spare), sizeof(struct dd_lpm6));
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

/* Part of a scan of the live copy: deletes the entries whose time has
 * come, up to `budget` keys; 1 when the family's trie is done. */
static int expire_some(struct dd_priv *pv, int fd, time_t now, int budget)
{
	struct dd_lpm6 next;

	if (fd < 0)
		return 1;
	while (budget-- > 0) {
		__u32 v = 0;

		if (bpf_map_get_next_key(fd, pv->scan_cur ? &pv->cur : NULL,
					 &next))
			return 1;
		if (!bpf_map_lookup_elem(fd, &next, &v) && v) {
			if ((time_t)v <= now && !bpf_map_delete_elem(fd, &next))
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
	if (pv->clear_copy) {
		int k = pv->clear_copy - 1;

		if (trie_clear_some(block_fd(nf, 4, k), sizeof(struct dd_lpm4),
				    DD_TICK_KEYS) &&
		    trie_clear_some(block_fd(nf, 6, k), sizeof(struct dd_lpm6),
				    DD_TICK_KEYS))
			pv->clear_copy = 0;
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
	if (!expire_some(pv, block_fd(nf, pv->scan_fam, c), now, DD_TICK_KEYS))
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
	const char *d = getenv("NFC_DDOS_FEED_DIR");
	char pr[256];

	/* Named by pin root and NF: two pin roots never share a feed. */
	snprintf(pr, sizeof(pr), "%s", nfc_nf_pin_root(nf));
	for (char *c = pr; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(buf, len, "%s/ddos%s.%s.blocklist.feed",
		 d && *d ? d : "/var/lib/nfchain", pr, name);
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
	long long exp = 0;
	int r;

	if (h)
		*h = 0;
	w = strtok_r(s, " \t\r", &save);
	if (!w)
		return 1;
	/* The line's number goes into the message only when there is one:
	 * formatting it for each of a million good lines cost ~3 % of an
	 * import. */
	r = dd_parse_pfx(nf, "blocklist", w, &p);
	if (r) {
		snprintf(what, sizeof(what), "line %u: blocklist", line);
		return dd_parse_pfx(nf, what, w, &p);
	}
	while ((w = strtok_r(NULL, " \t\r", &save))) {
		char *e2;

		if (strncmp(w, "expires=", 8))
			return nfc_nf_error(nf, EINVAL,
					    "line %u: blocklist: unknown field "
					    "'%s' (expires=N only)",
					    line, w);
		exp = strtoll(w + 8, &e2, 10);
		if (!w[8] || *e2 || exp < 1 || exp > 100000000)
			return nfc_nf_error(nf, EINVAL,
					    "line %u: blocklist: expires '%s' "
					    "is not in 1..100000000",
					    line, w + 8);
	}
	*family = p.family;
	lpm_key(&p, k);
	*v = exp ? (__u32)(time(NULL) + exp) : 0;
	return 0;
}

/*
 * Writes of one trie, BULK_BATCH at a time with BPF_MAP_UPDATE_BATCH: a
 * syscall an entry was most of an import (1,000,000 of them, ~8 s of
 * 11 on this VM, where a syscall's entry and exit are dear). The keys are
 * packed at the map's key size (the IPv4 trie's is 8 bytes), each with
 * its line for the error. A kernel without batch updates of LPM tries
 * gets the writes one at a time.
 */
#define BULK_BATCH 4096
#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's "no such map operation" */
#endif

struct bulk_out {
	int fd, family;
	size_t ksz, n;
	__u8 keys[BULK_BATCH * sizeof(struct dd_lpm6)];
	__u32 vals[BULK_BATCH];
	unsigned lines[BULK_BATCH];
};

static int bulk_flush(struct nfc_nf *nf, struct bulk_out *o, int *no_batch)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 done = 0;
	size_t i = 0;

	if (!o->n)
		return 0;
	if (!*no_batch) {
		__u32 cnt = o->n;

		if (!bpf_map_update_batch(o->fd, o->keys, o->vals, &cnt,
					  &opts)) {
			o->n = 0;
			return 0;
		}
		done = cnt;
		if (!done && (errno == EINVAL || errno == ENOTSUPP ||
			      errno == EOPNOTSUPP))
			*no_batch = 1;
	}
	/* One at a time: without batches, or from the entry a batch
	 * stopped at, so that the error names its line. */
	for (i = done; i < o->n; i++)
		if (bpf_map_update_elem(o->fd, o->keys + i * o->ksz,
					&o->vals[i], BPF_ANY)) {
			struct dd_lpm6 k = {0};
			char b[64];

			memcpy(&k, o->keys + i * o->ksz, o->ksz);
			return nfc_nf_error(
				nf, errno, "line %u: blocklist: write %s: %s",
				o->lines[i],
				dd_pfx_str(o->family, k.plen, k.addr, b),
				strerror(errno));
		}
	o->n = 0;
	return 0;
}

static int bulk_put(struct nfc_nf *nf, struct bulk_out *o, int *no_batch,
		    const struct dd_lpm6 *k, __u32 v, unsigned line)
{
	memcpy(o->keys + o->n * o->ksz, k, o->ksz);
	o->vals[o->n] = v;
	o->lines[o->n++] = line;
	return o->n == BULK_BATCH ? bulk_flush(nf, o, no_batch) : 0;
}

/* Every line checked, and written to fd4/fd6 unless they are < 0;
 * errors name the line. Prefixes in *n, an expiry seen in *any_exp. */
static int bulk_pass(struct nfc_nf *nf, struct lines *s, int fd4, int fd6,
		     size_t *n, int *any_exp)
{
	struct bulk_out *out = NULL;
	unsigned line = 0;
	const char *l;
	char buf[512];
	ssize_t len;
	int r = 0, no_batch = 0;

	*n = 0;
	if (fd4 >= 0) {
		out = calloc(2, sizeof(*out));
		if (!out)
			return nfc_nf_error(nf, ENOMEM,
					    "blocklist: out of memory");
		out[0].fd = fd4;
		out[0].family = 4;
		out[0].ksz = sizeof(struct dd_lpm4);
		out[1].fd = fd6;
		out[1].family = 6;
		out[1].ksz = sizeof(struct dd_lpm6);
	}
	while (!r && (len = lines_next(s, &l)) >= 0) {
		struct dd_lpm6 k;
		__u32 v = 0;
		int fam = 4;

		line++;
		if ((size_t)len >= sizeof(buf)) {
			r = nfc_nf_error(nf, EINVAL, "line %u: too long", line);
			break;
		}
		memcpy(buf, l, len);
		buf[len] = 0;
		r = bulk_line(nf, buf, line, &k, &v, &fam);
		if (r > 0) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		if (++*n > DD_MAX_PREFIXES) {
			r = nfc_nf_error(nf, E2BIG,
					 "line %u: blocklist: more than %d "
					 "prefixes",
					 line, DD_MAX_PREFIXES);
			break;
		}
		if (v)
			*any_exp = 1;
		if (out)
			r = bulk_put(nf, &out[fam == 6], &no_batch, &k, v,
				     line);
	}
	if (!r && out)
		r = bulk_flush(nf, &out[0], &no_batch)
			    ?: bulk_flush(nf, &out[1], &no_batch);
	free(out);
	return r;
}

/* Appends the file `from` (absent: nothing) to f. */
static int copy_into(FILE *f, const char *from)
{
	char buf[65536];
	FILE *in = fopen(from, "r");
	size_t n;
	int r = 0;

	if (!in)
		return errno == ENOENT ? 0 : -errno;
	while ((n = fread(buf, 1, sizeof(buf), in)))
		if (fwrite(buf, 1, n, f) != n) {
			r = -EIO;
			break;
		}
	if (ferror(in))
		r = -EIO;
	fclose(in);
	return r;
}

/* The kept feed becomes the text (replace) or gains it: written whole
 * to a temporary file, fsync'd, renamed over it. The version it replaces
 * stays as <feed>.prev until the next import: a process killed after the
 * rename but before the model named the new version finds the old one
 * there (feed_check), so that a reboot restores the old list or the
 * new, never refuses both. */
static int feed_save(struct nfc_nf *nf, const char *text, size_t len,
		     int replace)
{
	char path[512], tmp[600], prev[600];
	FILE *f;

	feed_path(nf, path, sizeof(path));
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
	if ((!replace && copy_into(f, path)) ||
	    fwrite(text, 1, len, f) != len ||
	    (len && text[len - 1] != '\n' && fputc('\n', f) == EOF) ||
	    fflush(f) || fsync(fileno(f))) {
		fclose(f);
		unlink(tmp);
		return nfc_nf_error(nf, EIO, "blocklist: write %s: %s", tmp,
				    strerror(errno));
	}
	fclose(f);
	unlink(prev);
	if (link(path, prev) && errno != ENOENT)
		return nfc_nf_error(nf, errno, "blocklist: keep %s: %s", prev,
				    strerror(errno));
	if (rename(tmp, path))
		return nfc_nf_error(nf, errno, "blocklist: rename %s: %s", tmp,
				    strerror(errno));
	return 0;
}

static int bulk_import(struct nfc_nf *nf, const char *text, size_t len,
		       int replace)
{
	int live = live_copy(nf), dst = replace ? !live : live, any_exp = 0;
	int fd4 = block_fd(nf, 4, dst), fd6 = block_fd(nf, 6, dst);
	struct lines s;
	size_t n;
	int r;

	if (fd4 < 0 || fd6 < 0)
		return nfc_nf_error(nf, ENOENT, "blocklist: maps not found");
	lines_text(&s, text, len);
	if (replace) {
		clear_spare(nf, dst);
		r = bulk_pass(nf, &s, fd4, fd6, &n, &any_exp);
		if (!r)
			r = feed_save(nf, text, len, 1);
		if (!r)
			r = switch_copy(nf, dst, any_exp);
		if (r)
			clear_spare(nf, dst);
		return r;
	}
	/* Added to the live copy, every line checked first: entries stand
	 * alone, so a packet meeting some of them only is no set nobody
	 * wrote. */
	r = bulk_pass(nf, &s, -1, -1, &n, &any_exp);
	if (!r)
		r = feed_save(nf, text, len, 0);
	if (!r) {
		lines_text(&s, text, len);
		r = bulk_pass(nf, &s, fd4, fd6, &n, &any_exp);
	}
	if (any_exp)
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
	char path[512], crc[9];
	size_t n;
	int found;

	feed_path(nf, path, sizeof(path));
	if (feed_sum(nf, path, &found, &n, crc) || !found)
		return NULL;
	if (!n) {
		unlink(path);
		return NULL;
	}
	return json_pack("{s:{s:s,s:I,s:s}}", DD_FEED_KEY, "file", path,
			 "prefixes", (json_int_t)n, "crc32", crc);
}

/* The entry `feed` of a replace or an add: the kept file it names must be
 * this NF's and hold what the model says. */
static int feed_check(struct nfc_nf *nf, json_t *f)
{
	const char *file = json_string_value(json_object_get(f, "file"));
	const char *want = json_string_value(json_object_get(f, "crc32"));
	json_int_t cnt = json_integer_value(json_object_get(f, "prefixes"));
	char path[512], crc[9];
	size_t n;
	int r, found;

	feed_path(nf, path, sizeof(path));
	if (json_object_get(f, "expires"))
		return nfc_nf_error(nf, EINVAL,
				    "blocklist: feed: expires is for prefixes "
				    "(the feed's lines carry their own)");
	if (!file || strcmp(file, path) || !want)
		return nfc_nf_error(nf, EINVAL,
				    "blocklist: feed: file=%s crc32=... "
				    "prefixes=N are needed (the feed this NF "
				    "keeps; %s given)",
				    path, file ? file : "no file");
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
			snprintf(crc, sizeof(crc), "%s", pcrc);
			n = pn;
		}
	}
	if (!found)
		return nfc_nf_error(nf, ENOENT,
				    "blocklist: feed %s is gone: import it "
				    "again (blocklist import --replace -f ...)",
				    path);
	if (strcmp(crc, want) || n != (size_t)cnt)
		return nfc_nf_error(nf, EINVAL,
				    "blocklist: feed %s holds %zu prefixes, "
				    "crc32 %s, not the %lld, %s the state "
				    "names: import it again",
				    path, n, crc, (long long)cnt, want);
	return 0;
}

/* The kept feed (checked by feed_check) written into fd4/fd6. */
static int feed_write(struct nfc_nf *nf, int fd4, int fd6)
{
	char path[512];
	struct lines s;
	size_t n;
	int any_exp = 0, r;

	feed_path(nf, path, sizeof(path));
	r = lines_file(&s, path);
	if (r)
		return nfc_nf_error(nf, -r, "blocklist: read %s: %s", path,
				    strerror(-r));
	r = bulk_pass(nf, &s, fd4, fd6, &n, &any_exp);
	lines_done(&s);
	if (any_exp)
		note_expiry(nf);
	return r;
}

static int feed_add(struct nfc_nf *nf, json_t *fields)
{
	int live = live_copy(nf);
	int r = feed_check(nf, fields);

	if (!r)
		r = feed_write(nf, block_fd(nf, 4, live),
			       block_fd(nf, 6, live));
	return r;
}

int dd_block_replace(struct nfc_nf *nf, json_t *entries)
{
	int live = live_copy(nf), next = !live, any_exp = 0, feed = 0;
	int fd4 = block_fd(nf, 4, next), fd6 = block_fd(nf, 6, next);
	const char *key;
	json_t *f;
	int r = 0;

	if (fd4 < 0 || fd6 < 0)
		return nfc_nf_error(nf, ENOENT, "blocklist: maps not found");
	/* Checked whole before anything is written. */
	json_object_foreach (entries, key, f) {
		struct dd_pfx p;

		if (!strcmp(key, DD_FEED_KEY)) {
			r = feed_check(nf, f);
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
		r = feed_write(nf, fd4, fd6);
	json_object_foreach (entries, key, f) {
		struct dd_pfx p;

		if (r)
			break;
		if (!strcmp(key, DD_FEED_KEY))
			continue;
		dd_parse_pfx(nf, "blocklist", key, &p);
		r = trie_write(nf, p.family == 4 ? fd4 : fd6, "blocklist", key,
			       f, BPF_ANY);
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
}
