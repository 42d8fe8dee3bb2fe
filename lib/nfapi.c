// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What an NF's control plane may ask of the runtime, and collections. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "conntrack.h"

static const struct mnf *mnf_of(const struct nfc_nf *nf)
{
	return &nf->nfc->m->nfs[nf->id];
}

const char *nfc_nf_name(const struct nfc_nf *nf)
{
	return mnf_of(nf)->name;
}

const char *nfc_nf_pin_root(const struct nfc_nf *nf)
{
	return nfc_pin_root(nf->nfc);
}

void nfc_nf_keep_path(const struct nfc_nf *nf, const char *dir,
		      const char *type, const char *name, const char *what,
		      char *buf, size_t len)
{
	char pr[256];

	/* A daemon given its own --state-dir keeps its files there, not in
	 * /var/lib/nfchain: nfchaind sets NFC_STATE_DIR. */
	if (!dir || !*dir)
		dir = getenv("NFC_STATE_DIR");
	snprintf(pr, sizeof(pr), "%s", nfc_nf_pin_root(nf));
	for (char *c = pr; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(buf, len, "%s/%s%s.%s.%s",
		 dir && *dir ? dir : "/var/lib/nfchain", type, pr, name, what);
}

unsigned nfc_nf_id(const struct nfc_nf *nf)
{
	return nf->id;
}

const char *nfc_nf_mode(const struct nfc_nf *nf)
{
	return mnf_of(nf)->mode;
}

json_t *nfc_nf_config(const struct nfc_nf *nf)
{
	return mnf_of(nf)->config;
}

json_t *nfc_nf_coll(const struct nfc_nf *nf, const char *coll)
{
	return json_object_get(mnf_of(nf)->colls, coll);
}

int nfc_nf_port_index(const struct nfc_nf *nf, const char *name)
{
	return model_find_port(mnf_of(nf), name);
}

const char *nfc_nf_port_name(const struct nfc_nf *nf, unsigned port)
{
	const struct mnf *n = mnf_of(nf);

	if (port >= NFC_MAX_PORTS || !n->ports[port].used)
		return NULL;
	return n->ports[port].name;
}

json_t *nfc_nf_port_config(const struct nfc_nf *nf, unsigned port)
{
	const struct mnf *n = mnf_of(nf);

	if (port >= NFC_MAX_PORTS || !n->ports[port].used)
		return NULL;
	return n->ports[port].config;
}

int nfc_nf_port_ifindex(const struct nfc_nf *nf, unsigned port)
{
	const struct mnf *n = mnf_of(nf);

	if (port >= NFC_MAX_PORTS || !n->ports[port].used ||
	    n->ports[port].peer.kind != PEER_DEV)
		return 0;
	return n->ports[port].peer.ifindex;
}

int nfc_nf_map_fd(const struct nfc_nf *nf, const char *map)
{
	return dp_nf_map_fd(nf->nfc, nf->id, map);
}

int nfc_nf_prog_fd(const struct nfc_nf *nf, const char *prog)
{
	return dp_nf_prog_fd(nf->nfc, nf->id, prog);
}

void *nfc_nf_priv(const struct nfc_nf *nf)
{
	return nf->nfc->rt[nf->id].priv;
}

void nfc_nf_set_priv(struct nfc_nf *nf, void *priv)
{
	nf->nfc->rt[nf->id].priv = priv;
}

void nfc_nf_forget(struct nfc_nf *nf, const char *coll, const char *key)
{
	struct nfc *nfc = nf->nfc;
	struct mnf *n = &nfc->m->nfs[nf->id];
	json_t *set = json_object_get(n->colls, coll);

	if (!json_object_get(set, key))
		return;
	json_object_del(set, key);
	/* A failed save leaves the entry in the pinned state: a restore
	 * brings it back for its lifetime again, and it expires again. */
	state_save_entry(nfc, nf->id, coll, key);
	if (!nfc->forgotten)
		nfc->forgotten = json_array();
	json_array_append_new(nfc->forgotten,
			      json_pack("[sss]", n->name, coll, key));
}

int nfc_nf_applying(const struct nfc_nf *nf)
{
	/* A restore's own checks (validate, configure) too, not only its
	 * entries' adds. */
	return nf->nfc->applying || nf->nfc->accepted;
}

int nfc_nf_applying_doc(const struct nfc_nf *nf)
{
	return nf->nfc->doc_checked;
}

json_t *nfc_take_forgotten(struct nfc *nfc)
{
	json_t *f = nfc->forgotten;

	nfc->forgotten = NULL;
	return f;
}

/* "line N: " (an import's line of the entry, 0: none), "NF name: ",
 * then the message; -err back. */
static int nf_verror(struct nfc_nf *nf, json_int_t line, int err,
		     const char *fmt, va_list ap)
{
	struct nfc *nfc = nf->nfc;
	int n = line ? snprintf(nfc->err, sizeof(nfc->err),
				"line %lld: ", (long long)line)
		     : 0;

	n += snprintf(nfc->err + n, sizeof(nfc->err) - n,
		      "NF %s: ", nfc_nf_name(nf));
	vsnprintf(nfc->err + n, sizeof(nfc->err) - n, fmt, ap);
	return err > 0 ? -err : (err ? err : -EINVAL);
}

int nfc_nf_error(struct nfc_nf *nf, int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = nf_verror(nf, 0, err, fmt, ap);
	va_end(ap);
	return r;
}

int nfc_nf_entry_error(struct nfc_nf *nf, const char *key, int err,
		       const char *fmt, ...)
{
	json_int_t line = json_integer_value(
		json_object_get(nf->nfc->entry_lines, key ? key : ""));
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = nf_verror(nf, line, err, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- collections ------------------------------------------------------------
 */

static int coll_lookup(struct nfc *nfc, const char *nf, const char *coll,
		       int *id, const struct nfc_collection **c)
{
	*id = model_find_nf(nfc->m, nf);
	if (*id < 0)
		return nfci_err(nfc, ENOENT, "NF %s does not exist", nf);
	*c = nfci_coll_find(nfc->m->nfs[*id].type, coll);
	if (!*c)
		return nfci_err(nfc, ENOENT,
				"NF %s (%s) has no collection '%s'", nf,
				nfc->m->nfs[*id].type->name, coll);
	return 0;
}

/* Collection entries change the NF's maps directly (no reload, no
 * reconcile); the model records them so that export, apply and a rebuild
 * from saved state bring them back. The _nosave forms run inside a call
 * already begun and leave saving to it: nfc_apply saves once for a
 * thousand entries. */
int coll_check(struct nfc *nfc, const char *nf, const char *coll,
	       const char *key, json_t *fields, json_t **norm, int *idp,
	       const struct nfc_collection **cp)
{
	char owner[160];
	int r = coll_lookup(nfc, nf, coll, idp, cp);

	if (r)
		return r;
	snprintf(owner, sizeof(owner), "%s %s of %s", coll, key ? key : "", nf);
	if (!key || !*key || strlen(key) > 64)
		return nfci_err(nfc, EINVAL, "%s: the key is empty or too long",
				owner);
	if ((*cp)->check_key) {
		r = (*cp)->check_key(&nfc->handles[*idp], key);
		if (r)
			return r;
	}
	return nfci_fields_check(nfc, owner, (*cp)->fields, fields, 1,
				 &nfc->handles[*idp], norm);
}

int coll_add_nosave(struct nfc *nfc, const char *nf, const char *coll,
		    const char *key, json_t *fields)
{
	const struct nfc_collection *c;
	json_t *norm = NULL, *colls, *set;
	int id, r = coll_check(nfc, nf, coll, key, fields, &norm, &id, &c);

	if (!r)
		r = intent_note(nfc, nf, coll, key);
	if (r) {
		json_decref(norm);
		return r;
	}
	r = c->add(&nfc->handles[id], key, norm);
	nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
	if (r) {
		if (!nfc->err[0])
			nfci_err(nfc, r, "%s %s of %s: %s", coll, key, nf,
				 strerror(-r));
		json_decref(norm);
		return r;
	}
	colls = nfc->m->nfs[id].colls;
	set = json_object_get(colls, coll);
	if (!set) {
		set = json_object();
		json_object_set_new(colls, coll, set);
	}
	json_object_set_new(set, key, norm);
	return 0;
}

int coll_del_nosave(struct nfc *nfc, const char *nf, const char *coll,
		    const char *key)
{
	const struct nfc_collection *c;
	int id, r = coll_lookup(nfc, nf, coll, &id, &c);

	if (!r)
		r = intent_note(nfc, nf, coll, key);
	if (r)
		return r;
	if (json_object_get(json_object_get(nfc->m->nfs[id].colls, coll), key))
		r = coll_del_known(nfc, id, c, key);
	else
		r = c->del(&nfc->handles[id], key);
	nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
	if (r) {
		if (!nfc->err[0])
			nfci_err(nfc, r, "%s %s of %s: %s", coll, key, nf,
				 r == -ENOENT ? "no such entry" : strerror(-r));
		return r;
	}
	json_object_del(json_object_get(nfc->m->nfs[id].colls, coll), key);
	return 0;
}

/* The delete of an entry the model holds. The data plane may have let it
 * go already (a ddos blocklist entry that expired): the model's copy is
 * what is left to delete, so "no such entry" is not an error here. */
int coll_del_known(struct nfc *nfc, int id, const struct nfc_collection *c,
		   const char *key)
{
	int r = c->del(&nfc->handles[id], key);

	if (r == -ENOENT) {
		nfc->err[0] = 0;
		r = 0;
	}
	return r;
}

/* The entry as the model holds it (a new reference), NULL if absent. */
static json_t *coll_entry(struct nfc *nfc, const char *nf, const char *coll,
			  const char *key)
{
	int id = model_find_nf(nfc->m, nf);

	if (id < 0)
		return NULL;
	return json_incref(json_object_get(
		json_object_get(nfc->m->nfs[id].colls, coll), key));
}

/* Entry `key` made `old` again (NULL: none), inactive or not, as a
 * restore takes it (import.c's undo_all): deleted (absent already: the
 * change was an add of a new entry), then added back. */
static int coll_put_back(struct nfc *nfc, const char *nf, const char *coll,
			 const char *key, json_t *old)
{
	int was = nfc->applying, r;

	nfc->applying = 1;
	r = coll_del_nosave(nfc, nf, coll, key);
	if (r == -ENOENT) {
		nfc->err[0] = 0;
		r = 0;
	}
	if (!r && old)
		r = coll_add_nosave(nfc, nf, coll, key, old);
	nfc->applying = was;
	return r;
}

/* The model's collection `coll` of NF nf (NULL if none). */
static json_t *coll_set(struct nfc *nfc, const char *nf, const char *coll)
{
	int id = model_find_nf(nfc->m, nf);

	return id < 0 ? NULL : json_object_get(nfc->m->nfs[id].colls, coll);
}

/* The key after `key` in the model's collection, NULL if last or absent
 * (a copy, to free): where a deleted entry goes back. */
static char *coll_next_key(struct nfc *nfc, const char *nf, const char *coll,
			   const char *key)
{
	json_t *set = coll_set(nfc, nf, coll);
	void *it = set ? json_object_iter_at(set, key) : NULL;

	it = it ? json_object_iter_next(set, it) : NULL;
	return it ? strdup(json_object_iter_key(it)) : NULL;
}

/* Entry `key`, put back at the end, moved before `next` (its place): an
 * undone delete changed the export's order, if not its content (found by
 * a helper watching `export | sha256sum`). Rebuilt only here, on a
 * refusal: a walk of the collection. */
static void coll_place(struct nfc *nfc, const char *nf, const char *coll,
		       const char *key, const char *next)
{
	int id = model_find_nf(nfc->m, nf);
	json_t *set = coll_set(nfc, nf, coll), *out, *v, *mine;
	const char *k;

	if (!next || !set || !(mine = json_object_get(set, key)) ||
	    !json_object_get(set, next))
		return;
	out = json_object();
	json_object_foreach (set, k, v) {
		if (!strcmp(k, key))
			continue;
		if (!strcmp(k, next))
			json_object_set(out, key, mine);
		json_object_set(out, k, v);
	}
	json_object_set_new(nfc->m->nfs[id].colls, coll, out);
}

/* The state could not be saved after one entry changed: put the entry
 * back as it was (before `next`, when given), keeping the save's error
 * for the answer. */
static void coll_restore(struct nfc *nfc, const char *nf, const char *coll,
			 const char *key, json_t *old, const char *next)
{
	char keep[sizeof(nfc->err)];

	memcpy(keep, nfc->err, sizeof(keep));
	if (!coll_put_back(nfc, nf, coll, key, old))
		coll_place(nfc, nf, coll, key, next);
	snprintf(nfc->err, sizeof(nfc->err), "%s; the change was undone", keep);
}

/* The model's entries of a collection in the order of `like`'s keys,
 * those it lacks after them. */
static void coll_order(struct nfc *nfc, const char *nf, const char *coll,
		       json_t *like)
{
	int id = model_find_nf(nfc->m, nf);
	json_t *set, *out, *v;
	const char *k;

	if (id < 0 || !json_is_object(like))
		return;
	set = json_object_get(nfc->m->nfs[id].colls, coll);
	if (!json_is_object(set))
		return;
	out = json_object();
	json_object_foreach (like, k, v)
		if ((v = json_object_get(set, k)))
			json_object_set(out, k, v);
	json_object_foreach (set, k, v)
		if (!json_object_get(out, k))
			json_object_set(out, k, v);
	json_object_set_new(nfc->m->nfs[id].colls, coll, out);
}

int nfc_coll_undo_in(struct nfc *nfc, const char *nf, const char *coll,
		     const char *key, json_t *old, json_t *like)
{
	int r = nfci_begin(nfc);

	if (r)
		return r;
	r = coll_put_back(nfc, nf, coll, key, old);
	if (!r) {
		coll_order(nfc, nf, coll, like);
		r = state_save_entry(nfc, model_find_nf(nfc->m, nf), coll, key);
	}
	nfci_end(nfc);
	return r;
}

int nfc_coll_undo(struct nfc *nfc, const char *nf, const char *coll,
		  const char *key, json_t *old)
{
	return nfc_coll_undo_in(nfc, nf, coll, key, old, NULL);
}

/* A collection swapped as a whole (its type's replace()) made to hold
 * exactly `entries` (NULL: none) in one call: every entry checked and
 * normalized first, then handed over together. */
int coll_replace_nosave(struct nfc *nfc, const char *nf, const char *coll,
			json_t *entries)
{
	const struct nfc_collection *c;
	json_t *set = json_object(), *f, *norm;
	const char *key;
	int id, r = coll_lookup(nfc, nf, coll, &id, &c);

	if (!r && !c->replace)
		r = nfci_err(nfc, EOPNOTSUPP,
			     "NF %s: collection '%s' is changed entry by entry",
			     nf, coll);
	if (!r && entries && !json_is_object(entries))
		r = nfci_err(nfc, EINVAL,
			     "NF %s: collection '%s' must be an object of key: "
			     "fields",
			     nf, coll);
	json_object_foreach (entries, key, f) {
		if (r)
			break;
		r = coll_check(nfc, nf, coll, key, f, &norm, &id, &c);
		if (!r)
			json_object_set_new(set, key, norm);
	}
	if (!r)
		r = intent_note(nfc, nf, coll, NULL);
	if (r) {
		json_decref(set);
		return r;
	}
	r = c->replace(&nfc->handles[id], set);
	nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
	if (r) {
		if (!nfc->err[0])
			nfci_err(nfc, r, "%s of %s: replace: %s", coll, nf,
				 strerror(-r));
		json_decref(set);
		return r;
	}
	json_object_set_new(nfc->m->nfs[id].colls, coll, set);
	return 0;
}

/* An entry the NF keeps itself, outside the model (a prefix of a ddos
 * feed, a route of the router's store), is there too: a hand entry added
 * over a feed's prefix with expires= took the prefix out of the data
 * plane when it ended, and a reboot brought the feed's line back (found
 * by a helper). */
static int kept_exists(struct nfc *nfc, const char *nf, const char *coll,
		       const char *key)
{
	const struct nfc_collection *c;
	json_t *kept = NULL;
	int id;

	if (coll_lookup(nfc, nf, coll, &id, &c) || !c->get || !c->import_text)
		return 0; /* the add says why, if it fails */
	kept = c->get(&nfc->handles[id], key);
	nfc->err[0] = 0; /* a malformed key: the add says so */
	if (!kept)
		return 0;
	json_decref(kept);
	return nfci_err(nfc, EEXIST,
			"%s: entry %s of %s exists already, imported (change "
			"it with '%s set', or delete it first)",
			nf, key, coll, coll);
}

int nfc_coll_add(struct nfc *nfc, const char *nf, const char *coll,
		 const char *key, json_t *fields)
{
	json_t *old;
	int r = nfci_begin(nfc);

	if (r)
		return r;
	old = coll_entry(nfc, nf, coll, key);
	/* One rule for every type (the bridge's FDB and the ddos lists
	 * overwrote, the others refused): an add does not replace. */
	if (old)
		r = nfci_err(nfc, EEXIST,
			     "%s: entry %s of %s exists already (change it "
			     "with '%s set', or delete it first)",
			     nf, key, coll, coll);
	else
		r = kept_exists(nfc, nf, coll, key);
	if (!r)
		r = coll_add_nosave(nfc, nf, coll, key, fields);
	if (!r) {
		r = state_save_entry(nfc, model_find_nf(nfc->m, nf), coll, key);
		if (r)
			coll_restore(nfc, nf, coll, key, old, NULL);
	}
	json_decref(old);
	nfci_end(nfc);
	return r;
}

int nfc_coll_del(struct nfc *nfc, const char *nf, const char *coll,
		 const char *key)
{
	json_t *old;
	char *next;
	int r = nfci_begin(nfc);

	if (r)
		return r;
	old = coll_entry(nfc, nf, coll, key);
	next = old ? coll_next_key(nfc, nf, coll, key) : NULL;
	r = coll_del_nosave(nfc, nf, coll, key);
	/* `flush` is a del of "all", which only a table's collection takes
	 * (a conntrack table, NAT mappings); elsewhere the NF's answer
	 * spoke of a key nobody typed ("route 'all': not an IPv4 prefix",
	 * found by a helper). */
	if ((r == -EINVAL || r == -ENOENT) && !old && !strcmp(key, "all"))
		nfci_err(nfc, EINVAL,
			 "%s of %s has no flush (conntrack tables and NAT "
			 "mappings have one); import --replace -f /dev/null "
			 "empties it",
			 coll, nf);
	/* An entry the model never held (a route of the router's store, a
	 * prefix of a ddos feed) the NF keeps durable in its own log,
	 * written before the delete: the model is unchanged, so there is no
	 * save to fail, and none to undo with an old value the model lacks. */
	if (!r && old) {
		r = state_save_entry(nfc, model_find_nf(nfc->m, nf), coll, key);
		if (r)
			coll_restore(nfc, nf, coll, key, old, next);
	}
	free(next);
	json_decref(old);
	nfci_end(nfc);
	return r;
}

/* A set of an entry the NF keeps itself: the merged entry as a line of
 * an import (`key k=v ...`), which the NF takes over the one it holds. */
static int set_kept(struct nfc *nfc, const char *nf, const char *coll,
		    const char *key, json_t *fields)
{
	size_t len = strlen(key), cap = len + 2;
	const char *k;
	char *line, *p;
	json_t *v;
	int r;

	json_object_foreach (fields, k, v)
		cap += strlen(k) + 2 +
		       (json_is_string(v) ? json_string_length(v) : 32);
	p = line = malloc(cap);
	if (!line)
		return nfci_err(nfc, ENOMEM, "%s %s of %s: out of memory", coll,
				key, nf);
	p += snprintf(p, cap, "%s", key);
	json_object_foreach (fields, k, v) {
		const char *s = json_string_value(v);

		/* A word of the line cannot hold a blank or a '#' (nor its
		 * field's name an '='). */
		if (strpbrk(k, " \t\r\n#=") ||
		    (s && (!*s || strpbrk(s, " \t\r\n#")))) {
			free(line);
			return nfci_err(nfc, EINVAL,
					"%s %s of %s: %s='%s': a blank or '#' "
					"cannot be set on an imported entry",
					coll, key, nf, k, s ? s : "");
		}
		if (s)
			p += snprintf(p, cap - (p - line), " %s=%s", k, s);
		else if (json_is_integer(v))
			p += snprintf(p, cap - (p - line),
				      " %s=%" JSON_INTEGER_FORMAT, k,
				      json_integer_value(v));
		else if (json_is_real(v))
			p += snprintf(p, cap - (p - line), " %s=%.17g", k,
				      json_real_value(v));
		else if (json_is_boolean(v))
			p += snprintf(p, cap - (p - line), " %s=%s", k,
				      json_is_true(v) ? "true" : "false");
		else {
			free(line);
			return nfci_err(nfc, EINVAL,
					"%s %s of %s: %s: not a string, number "
					"or boolean",
					coll, key, nf, k);
		}
	}
	r = nfc_coll_import_text(nfc, nf, coll, line, p - line, 0);
	free(line);
	/* The user gave no file: its one line is not worth naming. */
	if (r && !strncmp(nfc->err, "line 1: ", 8))
		memmove(nfc->err, nfc->err + 8, strlen(nfc->err + 8) + 1);
	return r;
}

/* A key no entry has: the NF's word on its spelling ("write it as ...")
 * before "no such entry", as a del says it (found by a helper: an lb's
 * `backends set` of a misspelt key said only that it did not exist). */
static int key_misspelt(struct nfc *nfc, int id, const struct nfc_collection *c,
			const char *key)
{
	if (!key || !c->check_key)
		return 0;
	nfc->err[0] = 0;
	return c->check_key(&nfc->handles[id], key);
}

/* An entry's fields changed in place: the entry must exist, the given
 * fields replace theirs and the rest stay, and the result goes through
 * import as a one-line file, so that it is checked as add would check it
 * and written as import writes a changed entry (the NF's replace() for a
 * set swapped as a whole, else delete and add with undo), saved once. */
int nfc_coll_set(struct nfc *nfc, const char *nf, const char *coll,
		 const char *key, json_t *fields)
{
	const struct nfc_collection *c;
	json_t *old = NULL, *entries, *merged;
	int id, r = nfci_begin(nfc), kept = 0;

	if (r)
		return r;
	r = coll_lookup(nfc, nf, coll, &id, &c);
	if (!r)
		old = coll_entry(nfc, nf, coll, key ? key : "");
	if (!r && !old && key && c->get && c->import_text) {
		/* An entry the NF keeps itself (an imported route). */
		nfc->err[0] = 0;
		old = c->get(&nfc->handles[id], key);
		kept = old != NULL;
		if (!kept && nfc->err[0]) /* the key malformed: its error */
			r = -EINVAL;
	}
	if (!r && !old)
		r = key_misspelt(nfc, id, c, key);
	if (!r && !old)
		r = nfci_err(nfc, ESRCH, "%s %s of %s: no such entry", coll,
			     key ? key : "", nf);
	if (!r && fields && !json_is_object(fields))
		r = nfci_err(nfc, EINVAL,
			     "%s %s of %s: fields must be an object", coll, key,
			     nf);
	nfci_end(nfc);
	if (r) {
		json_decref(old);
		return r;
	}
	/* old is the model's own object: the merge works on a copy. */
	entries = json_pack("[{s:s,s:o}]", "key", key, "fields",
			    json_deep_copy(old));
	json_decref(old);
	if (!entries)
		return nfci_err(nfc, ENOMEM, "%s %s of %s: out of memory", coll,
				key, nf);
	merged = json_object_get(json_array_get(entries, 0), "fields");
	json_object_update(merged, fields);
	/* `k=` (or null) unsets a field, as in an NF's set (ops.c). */
	nfci_fields_unset(merged, fields, c->fields);
	/* What the NF derived from the old fields goes, unless given. */
	for (const struct nfc_field *f = c->fields; f && f->name; f++)
		if ((f->flags & NFC_FIELD_DERIVED) &&
		    !json_object_get(fields, f->name))
			json_object_del(merged, f->name);
	r = kept ? set_kept(nfc, nf, coll, key, merged)
		 : nfc_coll_import(nfc, nf, coll, entries, 0);
	json_decref(entries);
	return r;
}

json_t *nfc_coll_get(struct nfc *nfc, const char *nf, const char *coll,
		     const char *key)
{
	json_t *e, *copy;

	if (nfci_begin_ro(nfc))
		return NULL;
	e = coll_entry(nfc, nf, coll, key);
	copy = json_deep_copy(e);
	json_decref(e);
	nfci_end(nfc);
	return copy;
}

/* An NF's list hook builds entries its own way; a listing shows the
 * declared fields in the declaration's order (the CLI's columns follow
 * the entries' keys), the key before them and counters after. Rebuilt
 * only when out of order: a 1,000,000-entry listing mostly is not. */
static int field_rank(const struct nfc_field *fields, const char *k)
{
	for (int i = 0; fields && fields[i].name; i++)
		if (!strcmp(fields[i].name, k))
			return i;
	return -1;
}

static json_t *entry_in_order(const struct nfc_field *fields, json_t *e)
{
	const char *k;
	json_t *v, *o;
	int last = -1, rank, phase = 0; /* key, fields, counters */

	json_object_foreach (e, k, v) {
		rank = field_rank(fields, k);
		if (rank >= 0 && (phase == 2 || rank < last))
			break;
		if (rank >= 0)
			phase = 1, last = rank;
		else if (phase == 1)
			phase = 2;
	}
	if (!k)
		return NULL;
	o = json_object();
	json_object_foreach (e, k, v) {
		if (field_rank(fields, k) >= 0)
			break;
		json_object_set(o, k, v);
	}
	for (int i = 0; fields && fields[i].name; i++)
		if ((v = json_object_get(e, fields[i].name)))
			json_object_set(o, fields[i].name, v);
	json_object_foreach (e, k, v)
		if (!json_object_get(o, k))
			json_object_set(o, k, v);
	return o;
}

static void list_in_order(const struct nfc_collection *c, json_t *list)
{
	json_t *e, *o;
	size_t i;

	json_array_foreach (list, i, e)
		if ((o = entry_in_order(c->fields, e)))
			json_array_set_new(list, i, o);
}

int nfc_coll_list(struct nfc *nfc, const char *nf, const char *coll,
		  json_t **out)
{
	const struct nfc_collection *c;
	int id, r = nfci_begin_ro(nfc);

	if (r)
		return r;
	r = coll_lookup(nfc, nf, coll, &id, &c);
	if (!r) {
		*out = json_array();
		r = c->list(&nfc->handles[id], *out);
		if (r) {
			json_decref(*out);
			*out = NULL;
		} else {
			list_in_order(c, *out);
		}
	}
	nfci_end(nfc);
	return r;
}

int nfc_coll_list_page(struct nfc *nfc, const char *nf, const char *coll,
		       struct nfc_cursor *cur, size_t max, json_t **out)
{
	const struct nfc_collection *c;
	int id, r;

	*out = NULL;
	r = nfci_begin_ro(nfc);
	if (r)
		return r;
	r = coll_lookup(nfc, nf, coll, &id, &c);
	if (!r) {
		*out = json_array();
		if (c->list_page) {
			r = c->list_page(&nfc->handles[id], cur, max ? max : 1,
					 *out);
			r = r < 0 ? r : 0;
		} else if (!cur->b[0]) {
			cur->b[0] = 1; /* the whole list, once */
			r = c->list(&nfc->handles[id], *out);
		}
		if (r) {
			json_decref(*out);
			*out = NULL;
		} else {
			list_in_order(c, *out);
		}
	}
	nfci_end(nfc);
	return r;
}

/* A listing's entry names its key first (list_in_order keeps it there:
 * "prefix", "rule", "backend", ...), or in "key" (a conntrack entry). */
static int entry_is(json_t *e, const char *key)
{
	void *it = json_object_iter(e);
	const char *v =
		it ? json_string_value(json_object_iter_value(it)) : NULL;

	if (v && !strcmp(v, key))
		return 1;
	v = json_string_value(json_object_get(e, "key"));
	return v && !strcmp(v, key);
}

/* A connection's key names it either way (docs/conntrack.md): `del`
 * took the reply's order and `show` did not (found by a helper, on
 * conntrack and NAT mappings). *k: key as a connection, when it parses
 * as one. */
static int entry_is_conn(json_t *e, const struct nfct_key *k)
{
	const char *v = json_string_value(json_object_get(e, "key"));
	struct nfct_key ek;
	char err[200];

	if (!v) {
		void *it = json_object_iter(e);

		v = it ? json_string_value(json_object_iter_value(it)) : NULL;
	}
	return v && !nfct_key_parse(v, &ek, err, sizeof(err)) &&
	       !memcmp(&ek, k, sizeof(ek));
}

int nfc_coll_show_entry(struct nfc *nfc, const char *nf, const char *coll,
			const char *key, size_t max_scan, json_t **out)
{
	const struct nfc_collection *c;
	struct nfc_cursor cur;
	json_t *page = NULL, *e;
	size_t i, seen = 0;
	int r, id, held = 1, conn;
	struct nfct_key ck;
	char err[200];

	*out = NULL;
	/* An entry of a large collection that the NF holds itself (a ddos
	 * feed's prefix, a router store's route) is told by its get(), one
	 * of the model by the model: a key that is neither is answered at
	 * once, not after a walk of a million entries (a helper's lookups
	 * each held the daemon for 7-10 s). */
	r = nfci_begin_ro(nfc);
	if (r)
		return r;
	r = coll_lookup(nfc, nf, coll, &id, &c);
	if (!r && c->list_page && c->get &&
	    !json_object_get(json_object_get(nfc->m->nfs[id].colls, coll),
			     key)) {
		json_t *f = c->get(&nfc->handles[id], key);

		held = f != NULL;
		json_decref(f);
	}
	nfci_end(nfc);
	if (r)
		return r;
	/* Neither: only what the NF lists of its own (a router's
	 * connected routes, ahead of the rest) may still be it, within the
	 * first page. "has no entry" was said of a listed connected route
	 * (found by a helper). */
	if (!held)
		max_scan = 1024;
	memset(&cur, 0, sizeof(cur));
	conn = !nfct_key_parse(key, &ck, err, sizeof(err));
	while (!(r = nfc_coll_list_page(nfc, nf, coll, &cur, 1024, &page)) &&
	       json_array_size(page)) {
		json_array_foreach (page, i, e)
			if (entry_is(e, key) ||
			    (conn && entry_is_conn(e, &ck))) {
				*out = json_incref(e);
				json_decref(page);
				return 0;
			}
		seen += json_array_size(page);
		json_decref(page);
		page = NULL;
		if (max_scan && seen >= max_scan && !held)
			break; /* not there: "has no entry" below */
		if (max_scan && seen >= max_scan) {
			r = nfci_begin_ro(nfc);
			if (!r) {
				r = nfci_err(nfc, E2BIG,
					     "NF %s: %s holds more than %zu "
					     "entries, too many to look one "
					     "up by key here: list them "
					     "(streamed) and filter",
					     nf, coll, max_scan);
				nfci_end(nfc);
			}
			return r;
		}
	}
	json_decref(page);
	if (r)
		return r;
	r = nfci_begin_ro(nfc);
	if (r)
		return r;
	r = coll_lookup(nfc, nf, coll, &id, &c);
	if (!r && !conn)
		r = key_misspelt(nfc, id, c, key);
	if (!r)
		r = nfci_err(nfc, ESRCH, "NF %s: %s has no entry '%s'", nf,
			     coll, key);
	nfci_end(nfc);
	return r;
}
