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
struct bulk_ent;
static int bulk_write(struct nfc_nf *nf, int fd4, int fd6,
		      const struct bulk_ent *e, size_t n);
static int feed_load(struct nfc_nf *nf, json_t *f, struct bulk_ent **e,
		     size_t *n);
static int feed_add(struct nfc_nf *nf, json_t *fields);
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

/* Appends {prefix, expires_in} for each entry of a trie. */
static void trie_list(int fd, int family, json_t *out)
{
	struct dd_lpm6 k, next;
	void *prev = NULL;
	time_t now = time(NULL);
	char b[64];

	if (fd < 0)
		return;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		__u32 v = 0;
		json_t *e;

		k = next;
		prev = &k;
		bpf_map_lookup_elem(fd, &k, &v);
		e = json_pack("{s:s}", "prefix",
			      dd_pfx_str(family, k.plen, k.addr, b));
		if (v)
			json_object_set_new(
				e, "expires_in",
				json_integer(v > now ? (json_int_t)(v - now)
						     : 0));
		json_array_append_new(out, e);
	}
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
	return trie_write(nf, block_fd(nf, p.family, live_copy(nf)),
			  "blocklist", key, fields, BPF_ANY);
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
 * has no batch delete). */
static void trie_clear(int fd)
{
	struct dd_lpm6 k;

	if (fd < 0)
		return;
	while (!bpf_map_get_next_key(fd, NULL, &k))
		if (bpf_map_delete_elem(fd, &k))
			break;
}

int dd_block_replace(struct nfc_nf *nf, json_t *entries)
{
	int live = live_copy(nf), next = !live;
	int fd4 = block_fd(nf, 4, next), fd6 = block_fd(nf, 6, next);
	int sfd = nfc_nf_map_fd(nf, "dd_state");
	struct dd_state st = {.live = next};
	struct bulk_ent *be = NULL;
	size_t nbe = 0;
	const char *key;
	json_t *f;
	__u32 z = 0;
	int r = 0;

	if (fd4 < 0 || fd6 < 0 || sfd < 0)
		return nfc_nf_error(nf, ENOENT, "blocklist: maps not found");
	/* Checked whole before anything is written. */
	json_object_foreach (entries, key, f) {
		struct dd_pfx p;

		if (!strcmp(key, DD_FEED_KEY)) {
			r = feed_load(nf, f, &be, &nbe);
		} else {
			r = feed_fields_misplaced(nf, key, f);
			if (!r)
				r = dd_parse_pfx(nf, "blocklist", key, &p);
		}
		if (r) {
			free(be);
			return r;
		}
	}
	/* Left empty by the last swap; emptied again in case a write
	 * failed half way then. */
	trie_clear(fd4);
	trie_clear(fd6);
	r = bulk_write(nf, fd4, fd6, be, nbe);
	free(be);
	if (r) {
		trie_clear(fd4);
		trie_clear(fd6);
		return r;
	}
	json_object_foreach (entries, key, f) {
		struct dd_pfx p;

		if (!strcmp(key, DD_FEED_KEY))
			continue;
		dd_parse_pfx(nf, "blocklist", key, &p);
		r = trie_write(nf, p.family == 4 ? fd4 : fd6, "blocklist", key,
			       f, BPF_ANY);
		if (r) {
			trie_clear(fd4);
			trie_clear(fd6);
			return r;
		}
	}
	if (bpf_map_update_elem(sfd, &z, &st, BPF_ANY)) {
		r = nfc_nf_error(nf, errno, "blocklist: switch copies: %s",
				 strerror(errno));
		trie_clear(fd4);
		trie_clear(fd6);
		return r;
	}
	trie_clear(block_fd(nf, 4, live));
	trie_clear(block_fd(nf, 6, live));
	return 0;
}

/* Deletes the live copy's entries whose time has come. A scan of the
 * whole list, at most once a minute and only while entries with an
 * expiry may exist (a restart rescans once). */
static void expire_trie(int fd, time_t now, int *left)
{
	struct dd_lpm6 k, next, *dead;
	void *prev = NULL;
	size_t n = 0, cap = 64;

	if (fd < 0)
		return;
	dead = malloc(cap * sizeof(*dead));
	while (dead && !bpf_map_get_next_key(fd, prev, &next)) {
		__u32 v = 0;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v) || !v)
			continue;
		if ((time_t)v > now) {
			(*left)++;
			continue;
		}
		if (n == cap) {
			void *d = realloc(dead, 2 * cap * sizeof(*dead));

			if (!d)
				break;
			dead = d;
			cap *= 2;
		}
		dead[n++] = k;
	}
	for (size_t i = 0; dead && i < n; i++)
		bpf_map_delete_elem(fd, &dead[i]);
	free(dead);
}

struct dd_priv {
	time_t next_scan; /* 0: scan at the next tick */
	int any;	  /* entries with an expiry were seen */
};

void dd_block_rescan(struct nfc_nf *nf)
{
	struct dd_priv *pv = nfc_nf_priv(nf);

	if (pv)
		pv->next_scan = 0;
}

void dd_block_expire(struct nfc_nf *nf)
{
	struct dd_priv *pv = nfc_nf_priv(nf);
	time_t now = time(NULL);
	int c = live_copy(nf), left = 0;

	if (!pv) {
		pv = calloc(1, sizeof(*pv));
		if (!pv)
			return;
		nfc_nf_set_priv(nf, pv);
	}
	if (pv->next_scan && now < pv->next_scan)
		return;
	expire_trie(block_fd(nf, 4, c), now, &left);
	expire_trie(block_fd(nf, 6, c), now, &left);
	/* Every second while some are pending, else rarely: a 1,000,000
	 * line list without expiries is scanned once a ten minutes. */
	pv->next_scan = now + (left ? 1 : 600);
}

/*
 * The bulk path of `blocklist import` (import_text): the NF parses the
 * feed itself into an array of prefixes and writes the tries directly,
 * with no JSON object an entry (1,000,000 of them cost the generic path
 * 52 s and 1.3 GB, see README.md). All lines are checked before anything
 * is written; a replace builds the copy packets do not read and flips
 * dd_state. A copy of the feed is kept in a file (feed_path), and the
 * model holds a reference to it (the entry `feed`: file, count, CRC) from
 * which replace() and add() load it again: apply, a lost pin root.
 */
struct bulk_ent {
	struct dd_lpm6 k;
	__u32 v;
	int family;
};

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

/* One line: "prefix [expires=N]", '#' comments; 0 entry, 1 none. */
static int bulk_line(struct nfc_nf *nf, char *s, unsigned line,
		     struct bulk_ent *e)
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
	snprintf(what, sizeof(what), "line %u: blocklist", line);
	r = dd_parse_pfx(nf, what, w, &p);
	if (r)
		return r;
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
	e->family = p.family;
	lpm_key(&p, &e->k);
	e->v = exp ? (__u32)(time(NULL) + exp) : 0;
	return 0;
}

static int bulk_write(struct nfc_nf *nf, int fd4, int fd6,
		      const struct bulk_ent *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char b[64];

		if (bpf_map_update_elem(e[i].family == 4 ? fd4 : fd6, &e[i].k,
					&e[i].v, BPF_ANY))
			return nfc_nf_error(
				nf, errno,
				"blocklist: write %s (%zu of %zu): %s",
				dd_pfx_str(e[i].family, e[i].k.plen,
					   e[i].k.addr, b),
				i + 1, n, strerror(errno));
	}
	return 0;
}

static int feed_save(struct nfc_nf *nf, const char *text, size_t len,
		     int replace)
{
	char path[512], tmp[600];
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
	f = fopen(replace ? tmp : path, replace ? "w" : "a");
	if (!f)
		return nfc_nf_error(nf, errno,
				    "blocklist: keep the feed in %s: %s", path,
				    strerror(errno));
	if (fwrite(text, 1, len, f) != len ||
	    (len && text[len - 1] != '\n' && fputc('\n', f) == EOF) ||
	    fflush(f) || fsync(fileno(f))) {
		fclose(f);
		return nfc_nf_error(nf, EIO, "blocklist: write %s: %s", path,
				    strerror(errno));
	}
	fclose(f);
	if (replace && rename(tmp, path))
		return nfc_nf_error(nf, errno, "blocklist: rename %s: %s", tmp,
				    strerror(errno));
	return 0;
}

/* The feed's lines into an array; all checked, errors naming the line. */
static int bulk_parse(struct nfc_nf *nf, const char *text, size_t len,
		      struct bulk_ent **out, size_t *nout)
{
	struct bulk_ent *e = NULL;
	size_t n = 0, cap = 0, i = 0;
	unsigned line = 0;
	char buf[512];
	int r = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (text + i)) : len - i;

		line++;
		if (l >= sizeof(buf)) {
			r = nfc_nf_error(nf, EINVAL, "line %u: too long", line);
			goto out;
		}
		memcpy(buf, text + i, l);
		buf[l] = 0;
		i += l + 1;
		if (n == cap) {
			void *m =
				realloc(e, (cap ? 2 * cap : 4096) * sizeof(*e));

			if (!m) {
				r = nfc_nf_error(nf, ENOMEM,
						 "blocklist: out of memory");
				goto out;
			}
			e = m;
			cap = cap ? 2 * cap : 4096;
		}
		r = bulk_line(nf, buf, line, &e[n]);
		if (r < 0)
			goto out;
		if (!r)
			n++;
		r = 0;
	}
	if (n > DD_MAX_PREFIXES)
		r = nfc_nf_error(nf, E2BIG,
				 "blocklist: %zu prefixes; a family holds at "
				 "most %d",
				 n, DD_MAX_PREFIXES);
out:
	if (r) {
		free(e);
		e = NULL;
		n = 0;
	}
	*out = e;
	*nout = n;
	return r;
}

static int bulk_import(struct nfc_nf *nf, const char *text, size_t len,
		       int replace, int save)
{
	int live = live_copy(nf), dst = replace ? !live : live;
	int fd4 = block_fd(nf, 4, dst), fd6 = block_fd(nf, 6, dst);
	int sfd = nfc_nf_map_fd(nf, "dd_state");
	struct bulk_ent *e = NULL;
	size_t n = 0;
	__u32 z = 0;
	int r;

	if (fd4 < 0 || fd6 < 0 || sfd < 0)
		return nfc_nf_error(nf, ENOENT, "blocklist: maps not found");
	r = bulk_parse(nf, text, len, &e, &n);
	if (r)
		return r;
	if (replace) {
		struct dd_state st = {.live = dst};

		trie_clear(fd4);
		trie_clear(fd6);
		r = bulk_write(nf, fd4, fd6, e, n);
		if (!r && save)
			r = feed_save(nf, text, len, 1);
		if (!r && bpf_map_update_elem(sfd, &z, &st, BPF_ANY))
			r = nfc_nf_error(nf, errno,
					 "blocklist: switch copies: %s",
					 strerror(errno));
		if (r) {
			trie_clear(fd4);
			trie_clear(fd6);
			goto out;
		}
		trie_clear(block_fd(nf, 4, live));
		trie_clear(block_fd(nf, 6, live));
	} else {
		/* Added to the live copy: entries stand alone, so a packet
		 * meeting some of them only is no set nobody wrote. */
		r = save ? feed_save(nf, text, len, 0) : 0;
		if (!r)
			r = bulk_write(nf, fd4, fd6, e, n);
	}
out:
	free(e);
	return r;
}

int dd_block_import(struct nfc_nf *nf, const char *text, size_t len,
		    int replace)
{
	return bulk_import(nf, text, len, replace, 1);
}

/* The kept feed's text (NULL, 0 when there is none). */
static int feed_read(struct nfc_nf *nf, char **text, size_t *len)
{
	char path[512];
	FILE *f;
	long sz;

	*text = NULL;
	*len = 0;
	feed_path(nf, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0
				       : nfc_nf_error(nf, errno,
						      "blocklist: read %s: %s",
						      path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, 0)) {
		fclose(f);
		return nfc_nf_error(nf, EIO, "blocklist: read %s", path);
	}
	*text = malloc(sz + 1);
	if (!*text || fread(*text, 1, sz, f) != (size_t)sz) {
		fclose(f);
		free(*text);
		*text = NULL;
		return nfc_nf_error(nf, EIO, "blocklist: read %s", path);
	}
	fclose(f);
	*len = sz;
	return 0;
}

/* Prefixes in a kept feed: its lines hold one each (checked when they
 * were imported), but for blanks and comments. */
static size_t feed_count(const char *t, size_t len)
{
	size_t n = 0, i = 0;

	while (i < len) {
		while (i < len && (t[i] == ' ' || t[i] == '\t'))
			i++;
		if (i < len && t[i] != '\n' && t[i] != '#' && t[i] != '\r')
			n++;
		while (i < len && t[i] != '\n')
			i++;
		i++;
	}
	return n;
}

static void feed_crc(const char *t, size_t len, char out[9])
{
	uLong c = crc32(0L, Z_NULL, 0);

	for (size_t i = 0; i < len; i += 1 << 30)
		c = crc32(c, (const Bytef *)t + i,
			  len - i > 1u << 30 ? 1u << 30 : (uInt)(len - i));
	snprintf(out, 9, "%08lx", (unsigned long)c & 0xffffffffUL);
}

/* The model's entry for the kept feed (import_ref): {"feed": {file,
 * prefixes, crc32}}, NULL when the feed is empty (its file goes). */
json_t *dd_block_import_ref(struct nfc_nf *nf)
{
	char path[512], crc[9];
	size_t len, n;
	char *text;
	json_t *ref;

	if (feed_read(nf, &text, &len) || !text)
		return NULL;
	n = feed_count(text, len);
	feed_crc(text, len, crc);
	free(text);
	feed_path(nf, path, sizeof(path));
	if (!n) {
		unlink(path);
		return NULL;
	}
	ref = json_pack("{s:{s:s,s:I,s:s}}", DD_FEED_KEY, "file", path,
			"prefixes", (json_int_t)n, "crc32", crc);
	return ref;
}

/* The entry `feed` of a replace or an add: the kept file it names must be
 * this NF's and hold what the model says; its prefixes into `e`. */
static int feed_load(struct nfc_nf *nf, json_t *f, struct bulk_ent **e,
		     size_t *n)
{
	const char *file = json_string_value(json_object_get(f, "file"));
	const char *want = json_string_value(json_object_get(f, "crc32"));
	json_int_t cnt = json_integer_value(json_object_get(f, "prefixes"));
	char path[512], crc[9];
	size_t len;
	char *text;
	int r;

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
	r = feed_read(nf, &text, &len);
	if (r)
		return r;
	if (!text)
		return nfc_nf_error(nf, ENOENT,
				    "blocklist: feed %s is gone: import it "
				    "again (blocklist import --replace -f ...)",
				    path);
	feed_crc(text, len, crc);
	if (strcmp(crc, want) || feed_count(text, len) != (size_t)cnt) {
		r = nfc_nf_error(nf, EINVAL,
				 "blocklist: feed %s holds %zu prefixes, crc32 "
				 "%s, not the %lld, %s the state names: import "
				 "it again",
				 path, feed_count(text, len), crc,
				 (long long)cnt, want);
		free(text);
		return r;
	}
	r = bulk_parse(nf, text, len, e, n);
	free(text);
	return r;
}

static int feed_add(struct nfc_nf *nf, json_t *fields)
{
	int live = live_copy(nf);
	struct bulk_ent *e = NULL;
	size_t n = 0;
	int r = feed_load(nf, fields, &e, &n);

	if (!r)
		r = bulk_write(nf, block_fd(nf, 4, live), block_fd(nf, 6, live),
			       e, n);
	free(e);
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
}
