// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ddos: the prefixes deleted from an imported feed since it was written.
 *
 * The kept feed (dd_lists.c) is loaded again line by line at a reboot or
 * an apply; a single `blocklist del` of one of its prefixes must not come
 * back then. Rewriting a 1,000,000-line feed for one delete would make
 * its cost follow the list, not the change (issue 13), so each delete is
 * a line appended to <feed>.<crc32 of the feed>.del, fsync'd before the
 * call returns, and the feed's lines it names are skipped whenever that
 * feed is loaded. An import writes a new feed without them (another CRC,
 * so no log yet); the log of the version it replaced stays until the
 * next import, with that version's .prev: a process killed before the
 * model named the new feed goes back to the old one and finds its log.
 *
 * The log only takes prefixes out of the feed: an entry added by hand
 * later lives in the model, which a restore writes whatever the feed
 * says, so a delete never needs taking back here.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "dd_int.h"

static void log_path(const char *feed, const char *crc, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%s.del", feed, crc);
}

static int del_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct dd_del));
}

/* A prefix as the sorted sets hold it: unused bytes 0, for del_cmp. */
static void del_of(struct dd_del *d, int family, const struct dd_lpm6 *k)
{
	memset(d, 0, sizeof(*d));
	d->family = family;
	d->k.plen = k->plen;
	memcpy(d->k.addr, k->addr, family == 4 ? 4 : 16);
}

/* "203.0.113.0/24" or "2001:db8::/48" into d; -1 for anything else (the
 * last line of a log a crash cut short). */
static int del_parse(char *s, struct dd_del *d)
{
	char *slash = strchr(s, '/'), *end;
	unsigned long plen;

	if (!slash)
		return -1;
	*slash = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (end == slash + 1 || *end)
		return -1;
	memset(d, 0, sizeof(*d));
	if (inet_pton(AF_INET, s, d->k.addr) == 1 && plen <= 32)
		d->family = 4;
	else if (inet_pton(AF_INET6, s, d->k.addr) == 1 && plen <= 128)
		d->family = 6;
	else
		return -1;
	d->k.plen = plen;
	return 0;
}

int dd_dels_load(const char *feed, const char *crc, struct dd_dels *d)
{
	char path[700], *line = NULL;
	size_t cap = 0, n = 0, room = 0;
	struct dd_del *v = NULL;
	ssize_t len;
	FILE *f;

	memset(d, 0, sizeof(*d));
	log_path(feed, crc, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct dd_del x;

		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (del_parse(line, &x))
			continue;
		if (n == room) {
			struct dd_del *nv;

			room = room ? 2 * room : 64;
			nv = realloc(v, room * sizeof(*v));
			if (!nv) {
				free(v);
				free(line);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = x;
	}
	free(line);
	if (ferror(f)) {
		free(v);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	if (n)
		qsort(v, n, sizeof(*v), del_cmp);
	d->v = v;
	d->n = n;
	return 0;
}

int dd_dels_has(const struct dd_dels *d, int family, const struct dd_lpm6 *k)
{
	struct dd_del x;

	if (!d || !d->n)
		return 0;
	del_of(&x, family, k);
	return bsearch(&x, d->v, d->n, sizeof(x), del_cmp) != NULL;
}

void dd_dels_free(struct dd_dels *d)
{
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

int dd_dels_append(const char *feed, const char *crc, const char *pfx)
{
	char path[700], line[80];
	size_t n = (size_t)snprintf(line, sizeof(line), "%s\n", pfx);

	log_path(feed, crc, path, sizeof(path));
	return nfc_append_durable(path, line, n);
}

void dd_dels_prune(const char *feed, const char *keep)
{
	char pat[700], k[700];
	glob_t g;

	snprintf(pat, sizeof(pat), "%s.*.del", feed);
	if (keep)
		log_path(feed, keep, k, sizeof(k));
	if (glob(pat, 0, NULL, &g))
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (!keep || strcmp(g.gl_pathv[i], k))
			unlink(g.gl_pathv[i]);
	globfree(&g);
}

int dd_dups_note(struct dd_dups *s, int family, const struct dd_lpm6 *k,
		 unsigned line)
{
	struct dd_dup *x;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;

		x = realloc(s->v, cap * sizeof(*x));
		if (!x)
			return -ENOMEM;
		s->v = x;
		s->cap = cap;
	}
	x = &s->v[s->n++];
	del_of(&x->d, family, k);
	x->line = line;
	return 0;
}

static int dup_key_cmp(const void *a, const void *b)
{
	return del_cmp(&((const struct dd_dup *)a)->d,
		       &((const struct dd_dup *)b)->d);
}

static int dup_cmp(const void *a, const void *b)
{
	const struct dd_dup *x = a, *y = b;
	int c = del_cmp(&x->d, &y->d);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorted by prefix, one element a prefix: its last line. */
void dd_dups_sort(struct dd_dups *s)
{
	size_t o = 0;

	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), dup_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (o && !del_cmp(&s->v[o - 1].d, &s->v[i].d))
			o--;
		s->v[o++] = s->v[i];
	}
	s->n = o;
}

/* The last line of the import that gave the prefix, 0 when it was
 * not given twice. */
unsigned dd_dups_last(const struct dd_dups *s, int family,
		      const struct dd_lpm6 *k)
{
	struct dd_dup x = {0}, *f;

	if (!s || !s->n)
		return 0;
	del_of(&x.d, family, k);
	f = bsearch(&x, s->v, s->n, sizeof(x), dup_key_cmp);
	return f ? f->line : 0;
}

void dd_dups_free(struct dd_dups *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
