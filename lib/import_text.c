// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The text of a collection import (nfchain <nf> <coll> import, POST
 * .../import): one entry a line in the CLI's own words, `key k=v ...`; `#`
 * starts a comment, blank lines are skipped. Parsed into the entries
 * nfc_coll_import takes, each with its line number so that its errors name
 * the line.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include "internal.h"

#define WORD_MAX 256

static int line_err(char *err, size_t len, unsigned line, const char *msg,
		    const char *w, size_t wl)
{
	snprintf(err, len, "line %u: %s '%.*s'", line, msg,
		 (int)(wl > 64 ? 64 : wl), w);
	return -1;
}

/* The next word of s[0..n) from *i (blanks: space, tab, CR), its start
 * in *b; its length, 0 at the end of the line. */
static size_t next_word(const char *s, size_t n, size_t *i, size_t *b)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r'))
		(*i)++;
	*b = *i;
	while (*i < n && s[*i] != ' ' && s[*i] != '\t' && s[*i] != '\r')
		(*i)++;
	return *i - *b;
}

/* One line (no newline) into `out`; 0 when it holds no entry. */
static int parse_line(const char *s, size_t n, unsigned line, json_t *out,
		      char *err, size_t len)
{
	json_t *fields = NULL, *e;
	char key[WORD_MAX], k[WORD_MAX], v[WORD_MAX];
	size_t i = 0;
	int words = 0;

	while (i < n) {
		size_t b, wl = next_word(s, n, &i, &b);
		const char *eq;

		if (!wl || s[b] == '#')
			break;
		if (wl >= WORD_MAX)
			return line_err(err, len, line, "word too long:", s + b,
					wl);
		if (!words++) {
			memcpy(key, s + b, wl);
			key[wl] = 0;
			fields = json_object();
			continue;
		}
		eq = memchr(s + b, '=', wl);
		if (!eq || eq == s + b) {
			json_decref(fields);
			return line_err(err, len, line,
					"expected key=value, got", s + b, wl);
		}
		memcpy(k, s + b, eq - (s + b));
		k[eq - (s + b)] = 0;
		memcpy(v, eq + 1, wl - (eq - (s + b)) - 1);
		v[wl - (eq - (s + b)) - 1] = 0;
		if (json_object_get(fields, k)) {
			json_decref(fields);
			return line_err(err, len, line, "given twice:", k,
					strlen(k));
		}
		json_object_set_new(fields, k, json_string(v));
	}
	if (!words)
		return 0;
	e = json_pack("{s:s,s:o,s:i}", "key", key, "fields", fields, "line",
		      (int)line);
	if (!e || json_array_append_new(out, e)) {
		snprintf(err, len, "line %u: out of memory", line);
		return -1;
	}
	return 0;
}

static json_t *import_parse(const char *text, size_t len, char *err,
			    size_t elen)
{
	json_t *out = json_array();
	unsigned line = 0;
	size_t i = 0;

	while (out && i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		line++;
		if (memchr(text + i, 0, n)) {
			snprintf(err, elen, "line %u: contains a NUL byte",
				 line);
			json_decref(out);
			return NULL;
		}
		/* Its words become JSON strings, UTF-8 only: jansson's own
		 * check (such a line was reported 'out of memory'). */
		{
			json_t *t = json_stringn(text + i, n);

			if (!t) {
				snprintf(err, elen, "line %u: not UTF-8 text",
					 line);
				json_decref(out);
				return NULL;
			}
			json_decref(t);
		}
		if (parse_line(text + i, n, line, out, err, elen)) {
			json_decref(out);
			return NULL;
		}
		i += n + 1;
	}
	if (!out)
		snprintf(err, elen, "out of memory");
	return out;
}

/* `w` (wl bytes) if it is an IP prefix, in the one spelling keys are
 * given in: inet_ntop's (RFC 5952), the length without leading zeros.
 * A line may spell a prefix any way inet_pton reads (2001:DB8::/64,
 * 198.51.100.0/024), an entry by hand may not. 0 if it is no prefix. */
static int prefix_canon(const char *w, size_t wl, char *out, size_t olen)
{
	char a[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = memchr(w, '/', wl);
	unsigned char bin[16];
	unsigned long plen;
	int fam;

	if (!slash || (size_t)(slash - w) >= sizeof(a) || slash + 1 == w + wl ||
	    wl - (slash + 1 - w) > 8)
		return 0;
	memcpy(a, w, slash - w);
	a[slash - w] = 0;
	fam = strchr(a, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, a, bin) != 1)
		return 0;
	{
		char l[9];

		memcpy(l, slash + 1, wl - (slash + 1 - w));
		l[wl - (slash + 1 - w)] = 0;
		if (l[0] < '0' || l[0] > '9')
			return 0;
		plen = strtoul(l, &end, 10);
		if (*end || plen > (fam == AF_INET ? 32u : 128u))
			return 0;
	}
	if (!inet_ntop(fam, bin, a, sizeof(a)))
		return 0;
	return snprintf(out, olen, "%s/%lu", a, plen) < (int)olen;
}

/* The keys of `set` (the model's entries of the collection) that a line
 * of `text` names, in an array (NULL: none, or out of memory). An import
 * that the NF keeps itself (import_text) takes such a line's value over
 * the entry held by hand, as it does over one of its own: the entry then
 * leaves the model, or a restore would add it again over the line. A
 * line names a key as written, or as the same IP prefix spelled another
 * way (a hand entry spelled one way and a feed line another left the
 * hand entry, and its expiry, in the model: a reboot then expired the
 * prefix the feed still held; found by a helper). */
static json_t *keys_named(const char *text, size_t len, json_t *set,
			  json_t *ref)
{
	json_t *out = NULL, *v;
	size_t i = 0, hand = 0;
	const char *k;

	/* Most imports meet no entry by hand: no walk of their lines. */
	json_object_foreach (set, k, v)
		hand += !json_object_get(ref, k);
	while (hand && i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i, j = 0, b;
		size_t wl = next_word(text + i, n, &j, &b);
		char canon[INET6_ADDRSTRLEN + 8];
		json_t *key = NULL;

		if (wl && text[i + b] != '#') {
			if (json_object_getn(set, text + i + b, wl))
				key = json_stringn(text + i + b, wl);
			else if (prefix_canon(text + i + b, wl, canon,
					      sizeof(canon)) &&
				 json_object_get(set, canon))
				key = json_string(canon);
		}
		if (key) {
			if (!out)
				out = json_array();
			json_array_append_new(out, key);
		}
		i += n + 1;
	}
	return out;
}

/* "NF x: line N: ..." (the NF's own import names the line after the
 * prefix nfc_nf_error gives) as the generic import writes it, "line N:
 * NF x: ...": one order for every collection's errors. */
static void line_first(char *err)
{
	char *l = strstr(err, ": line "), *end, tmp[64];
	size_t head, tail;

	if (strncmp(err, "NF ", 3) || !l || memchr(err, ':', l - err))
		return;
	strtoul(l + 7, &end, 10);
	if (end == l + 7 || strncmp(end, ": ", 2))
		return;
	head = l - err + 2;	  /* "NF x: " */
	tail = end + 2 - (l + 2); /* "line N: " */
	if (tail >= sizeof(tmp))
		return;
	memcpy(tmp, l + 2, tail);
	memmove(err + tail, err, head);
	memcpy(err, tmp, tail);
}

int nfc_coll_import_text(struct nfc *nfc, const char *nf, const char *coll,
			 const char *text, size_t len, int replace)
{
	char err[512];
	json_t *entries, *none = json_object(), *norm = NULL;
	const struct nfc_collection *c = NULL;
	int r, id = -1;

	/* A collection that takes the text itself: no JSON an entry. */
	r = nfci_begin(nfc);
	if (r) {
		json_decref(none);
		return r;
	}
	coll_check(nfc, nf, coll, "-", none, &norm, &id, &c);
	json_decref(norm);
	json_decref(none);
	if (id >= 0 && c && c->import_text) {
		nfc->err[0] = 0;
		/* Killed between the NF's switch and the save below, the
		 * next process puts the set back to the model it reads. */
		r = intent_note(nfc, nf, coll, NULL);
		if (!r)
			r = c->import_text(&nfc->handles[id], text ?: "",
					   text ? len : 0, replace);
		nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
		if (r == -EOPNOTSUPP && !nfc->err[0]) {
			/* Declined, nothing touched (a router's small
			 * import): the generic path below takes it. */
			nfci_end(nfc);
			goto generic;
		}
		if (!r && (replace || c->import_ref)) {
			json_t *colls = nfc->m->nfs[id].colls, *over = NULL,
			       *ref = c->import_ref
					      ? c->import_ref(&nfc->handles[id])
					      : NULL,
			       *set = json_object_get(colls, coll), *k;
			size_t i;

			if (!replace)
				over = keys_named(text ?: "", text ? len : 0,
						  set, ref);
			json_array_foreach (over, i, k)
				json_object_del(set, json_string_value(k));
			json_decref(over);
			if (replace || !json_object_get(colls, coll))
				json_object_set_new(colls, coll, json_object());
			if (ref)
				json_object_update(json_object_get(colls, coll),
						   ref);
			json_decref(ref);
			r = state_save(nfc);
		}
		if (r && !nfc->err[0])
			nfci_err(nfc, r, "%s of %s: import: %s", coll, nf,
				 strerror(-r));
		if (r)
			line_first(nfc->err);
		nfci_end(nfc);
		return r;
	}
	nfci_end(nfc);
generic:
	nfc->err[0] = 0;
	entries = import_parse(text ?: "", text ? len : 0, err, sizeof(err));
	if (!entries)
		return nfci_err(nfc, EINVAL, "%s", err);
	r = nfci_coll_import_own(nfc, nf, coll, entries, replace);
	json_decref(entries);
	return r;
}
