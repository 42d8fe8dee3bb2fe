// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Bulk changes to one collection (nfc_coll_import): every entry checked
 * before any is written, then written with an undo log, then saved once.
 * A refusal at any step (a bad entry, the NF's add refusing, the save
 * failing) undoes what was written: the data plane, the model and the
 * pinned state stay as they were.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* One step done, to be undone in reverse order: `key` was added (old
 * NULL: undone by a delete) or deleted (old: its value, added back). */
struct undo {
	const char *key;
	json_t *old;
};

/* "line N: " before the error of entry i, when the caller gave lines. */
static int at_line(struct nfc *nfc, json_t *e, int r)
{
	json_int_t line = json_integer_value(json_object_get(e, "line"));
	char keep[sizeof(nfc->err)];

	if (!line)
		return r;
	snprintf(keep, sizeof(keep), "%s", nfc->err[0] ? nfc->err : "");
	if (!keep[0])
		snprintf(keep, sizeof(keep), "%s", strerror(-r));
	snprintf(nfc->err, sizeof(nfc->err), "line %lld: %.*s", (long long)line,
		 (int)sizeof(keep) - 32, keep);
	return r;
}

/* Whether key k stands in s as a word of its own (198.51.100.1 is not in
 * 198.51.100.11, nor a service's key in its backend's). */
static int names_key(const char *s, const char *k)
{
	size_t l = strlen(k);

	for (const char *p = strstr(s, k); l && p; p = strstr(p + 1, k)) {
		char b = p > s ? p[-1] : ' ', a = p[l];

		/* "KEY: why" ends the key with a colon too. */
		if (a == ':' && (p[l + 1] == ' ' || !p[l + 1]))
			a = ' ';
		if (!strchr("0123456789abcdefABCDEF.:/[]_-", b) &&
		    (!a || !strchr("0123456789abcdefABCDEF.:/[]_-", a)))
			return 1;
	}
	return 0;
}

/* An NF's error about one entry of a set it checks whole, said without
 * its line (nfc_nf_error, not nfc_nf_entry_error): the line of the
 * longest key the message names goes before it, as for the others. */
static void line_of_error(struct nfc *nfc, json_t *lines)
{
	const char *k, *best = NULL;
	json_t *v, *line = NULL;

	if (!nfc->err[0] || !strncmp(nfc->err, "line ", 5) ||
	    strstr(nfc->err, ": line "))
		return;
	json_object_foreach (lines, k, v)
		if ((!best || strlen(k) > strlen(best)) &&
		    names_key(nfc->err, k))
			best = k, line = v;
	if (best) {
		json_t *e = json_pack("{s:O}", "line", line);

		at_line(nfc, e, -EINVAL);
		json_decref(e);
	}
}

static void undo_all(struct nfc *nfc, int id, const struct nfc_collection *c,
		     struct undo *u, size_t n)
{
	char keep[sizeof(nfc->err)];
	int was = nfc->applying;

	memcpy(keep, nfc->err, sizeof(keep));
	/* What is put back was accepted before: an entry that went inactive
	 * since (its port's VLAN or subnet changed) comes back inactive. As
	 * a new add it was refused, and a refused import lost it. */
	nfc->applying = 1;
	while (n-- > 0) {
		if (u[n].old)
			c->add(&nfc->handles[id], u[n].key, u[n].old);
		else
			c->del(&nfc->handles[id], u[n].key);
	}
	nfc->applying = was;
	nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
	memcpy(nfc->err, keep, sizeof(keep));
}

/* Checks every entry; on success norm[i] holds entry i's fields as the NF
 * declared them. A key given twice is refused: the file would say two
 * things. */
static int check_all(struct nfc *nfc, const char *nf, const char *coll,
		     json_t *entries, json_t **norm, int *id,
		     const struct nfc_collection **c)
{
	json_t *seen = json_object(), *e;
	size_t i;
	int r = 0;

	if (!seen)
		return -ENOMEM;
	json_array_foreach (entries, i, e) {
		const char *key = json_string_value(json_object_get(e, "key"));
		json_t *prev;

		r = coll_check(nfc, nf, coll, key, json_object_get(e, "fields"),
			       &norm[i], id, c);
		if (r) {
			r = at_line(nfc, e, r);
			break;
		}
		prev = json_object_get(seen, key);
		if (prev) {
			r = at_line(
				nfc, e,
				nfci_err(nfc, EINVAL,
					 "%s %s of %s is given twice "
					 "(first on line %lld)",
					 coll, key, nf,
					 (long long)json_integer_value(prev)));
			break;
		}
		json_object_set_new(seen, key,
				    json_integer(json_integer_value(
					    json_object_get(e, "line"))));
	}
	json_decref(seen);
	return r;
}

/* A collection its NF swaps as a whole gets the new set in one call, so
 * packets see the old set or the new one, never a mix; a failed save swaps
 * the old set back. */
static int import_swap(struct nfc *nfc, int id, const struct nfc_collection *c,
		       json_t *cur, json_t *want, int replace)
{
	struct nfc_nf *h = &nfc->handles[id];
	json_t *colls = nfc->m->nfs[id].colls, *next, *old;
	int r;

	/* `want` is this import's own object, not the caller's: the model
	 * takes it as it is (a copy was another table of every key). */
	next = replace || !cur ? json_incref(want) : json_copy(cur);
	if (!next)
		return nfci_err(nfc, ENOMEM, "import: out of memory");
	if (!replace && cur)
		json_object_update(next, want);
	r = intent_note(nfc, nfc->m->nfs[id].name, c->name, NULL);
	if (r) {
		json_decref(next);
		return r;
	}
	r = c->replace(h, next);
	nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
	if (r) {
		if (!nfc->err[0])
			nfci_err(nfc, r, "%s of %s: replace: %s", c->name,
				 nfc->m->nfs[id].name, strerror(-r));
		json_decref(next);
		return r;
	}
	old = json_incref(cur);
	json_object_set_new(colls, c->name, next);
	r = state_save(nfc);
	if (r) {
		char keep[sizeof(nfc->err)];
		json_t *none = json_object();

		memcpy(keep, nfc->err, sizeof(keep));
		c->replace(h, old ? old : none);
		nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
		if (old)
			json_object_set(colls, c->name, old);
		else
			json_object_del(colls, c->name);
		json_decref(none);
		memcpy(nfc->err, keep, sizeof(keep));
	}
	json_decref(old);
	return r;
}

/* own: `entries` may be emptied once it is no longer needed (the text
 * import's own array; at 60,000 routes the parsed lines were ~40% of the
 * import's peak RSS). */
static int coll_import(struct nfc *nfc, const char *nf, const char *coll,
		       json_t *entries, int replace, int own)
{
	size_t n = json_array_size(entries), nu = 0, i;
	const struct nfc_collection *c = NULL;
	struct undo *u = NULL;
	json_t **norm = NULL, *cur, *want = NULL, *e, *v, *none = NULL;
	const char *key;
	int id = -1, r;

	if (!json_is_array(entries))
		return nfci_err(nfc, EINVAL,
				"import: entries must be an array");
	r = nfci_begin(nfc);
	if (r)
		return r;
	norm = calloc(n + 1, sizeof(*norm));
	want = json_object();
	none = json_object();
	if (!norm || !want || !none) {
		r = nfci_err(nfc, ENOMEM, "import: out of memory");
		goto out;
	}
	/* The NF and collection exist even for an empty file. */
	r = coll_check(nfc, nf, coll, "-", none, &norm[n], &id, &c);
	if (r && (id < 0 || !c))
		goto out;
	nfc->err[0] = 0;
	json_decref(norm[n]);
	norm[n] = NULL;
	r = check_all(nfc, nf, coll, entries, norm, &id, &c);
	if (r)
		goto out;
	cur = json_object_get(nfc->m->nfs[id].colls, coll);
	u = calloc(json_object_size(cur) + 2 * n + 1, sizeof(*u));
	if (!u) {
		r = nfci_err(nfc, ENOMEM, "import: out of memory");
		goto out;
	}
	json_array_foreach (entries, i, e)
		json_object_set(want,
				json_string_value(json_object_get(e, "key")),
				norm[i]);
	if (c->replace) {
		/* The NF checks the whole set itself: its error about one
		 * entry names the line (nfc_nf_entry_error). */
		json_t *lines = json_object();

		json_array_foreach (entries, i, e)
			if (json_object_get(e, "line"))
				json_object_set(
					lines,
					json_string_value(
						json_object_get(e, "key")),
					json_object_get(e, "line"));
		if (own)
			json_array_clear(entries);
		nfc->entry_lines = lines;
		r = import_swap(nfc, id, c, cur, want, replace);
		if (r)
			line_of_error(nfc, lines);
		nfc->entry_lines = NULL;
		json_decref(lines);
		goto out;
	}
	/* Removals first: a full table makes room before it grows. */
	if (replace)
		json_object_foreach (cur, key, v) {
			if (json_object_get(want, key))
				continue;
			r = intent_note(nfc, nf, coll, key);
			if (!r)
				r = coll_del_known(nfc, id, c, key);
			if (r) {
				if (!nfc->err[0])
					nfci_err(nfc, r, "%s %s of %s: %s",
						 coll, key, nf, strerror(-r));
				goto undo;
			}
			u[nu++] = (struct undo){key, v};
		}
	json_array_foreach (entries, i, e) {
		key = json_string_value(json_object_get(e, "key"));
		v = json_object_get(cur, key);
		if (v && json_equal(v, norm[i]))
			continue;
		r = intent_note(nfc, nf, coll, key);
		if (r) {
			r = at_line(nfc, e, r);
			goto undo;
		}
		/* A changed entry is removed first: an NF may refuse to
		 * overwrite (the router's "exists already"). */
		if (v) {
			r = coll_del_known(nfc, id, c, key);
			if (r) {
				if (!nfc->err[0])
					nfci_err(nfc, r, "%s %s of %s: %s",
						 coll, key, nf, strerror(-r));
				r = at_line(nfc, e, r);
				goto undo;
			}
			u[nu++] = (struct undo){key, v};
		}
		r = c->add(&nfc->handles[id], key, norm[i]);
		if (r) {
			if (!nfc->err[0])
				nfci_err(nfc, r, "%s %s of %s: %s", coll, key,
					 nf, strerror(-r));
			r = at_line(nfc, e, r);
			goto undo;
		}
		u[nu++] = (struct undo){key, NULL};
	}
	nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
	/* The model: the collection as the file says (replace) or with the
	 * file's entries over it. Built aside so that a failed save puts the
	 * old object back untouched. */
	{
		json_t *colls = nfc->m->nfs[id].colls, *next, *old;

		next = replace ? json_incref(want) : json_copy(cur ?: want);
		if (!replace && cur)
			json_object_update(next, want);
		old = json_incref(cur);
		json_object_set_new(colls, coll, next);
		r = state_save(nfc);
		if (r) {
			if (old)
				json_object_set(colls, coll, old);
			else
				json_object_del(colls, coll);
			json_decref(old);
			goto undo;
		}
		json_decref(old);
	}
	goto out;
undo:
	undo_all(nfc, id, c, u, nu);
out:
	for (i = 0; norm && i <= n; i++)
		json_decref(norm[i]);
	free(norm);
	free(u);
	json_decref(want);
	json_decref(none);
	nfci_end(nfc);
	return r;
}

int nfc_coll_import(struct nfc *nfc, const char *nf, const char *coll,
		    json_t *entries, int replace)
{
	return coll_import(nfc, nf, coll, entries, replace, 0);
}

int nfci_coll_import_own(struct nfc *nfc, const char *nf, const char *coll,
			 json_t *entries, int replace)
{
	return coll_import(nfc, nf, coll, entries, replace, 1);
}
