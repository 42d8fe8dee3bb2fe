// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The intent journal. A collection change writes an NF's maps first and
 * saves the model after (once for a whole import or apply): a process
 * killed in between would leave the data plane ahead of the saved state.
 * So before a change touches an NF's maps, what it will touch (one key, or
 * a whole set) is appended to a pinned BPF_F_MMAPABLE array map, "intent";
 * the call empties it when it ends, saved or undone. An append is a copy
 * into shared memory, no syscall: a store that was made survives a kill -9
 * (the kernel holds the pages), so nothing is touched that is not noted.
 *
 * Whoever opens the pin root next (nfci_begin, under the lock, so never
 * while the writer lives) finds the records and puts every key listed back
 * to what the pinned model says: the entry deleted, then the model's one
 * added; a whole set handed to the NF's replace() again. The data plane
 * then matches the model, whichever of the old or new one the save left.
 * A reboot loses the pins and the records with them: the daemon rebuilds
 * everything from state.json then.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The first page: how many bytes of records follow it. Stored last (after
 * the record), so a record is either whole or not counted. */
struct intent_hdr {
	uint64_t len;
};

/* A record: lengths, then NF name, collection name, key (no key: the
 * whole set). Names are under 32 bytes, keys at most 64 (coll_check). */
struct intent_rec {
	uint8_t nlen, clen, klen;
};

static const struct pinmem_kind intent_kind = {"intent", "nfc_intent", "an",
					       "intent map"};

void intent_close(struct nfc *nfc)
{
	pinmem_close(&nfc->intent);
}

static int intent_open(struct nfc *nfc)
{
	return pinmem_open(nfc, &nfc->intent, &intent_kind);
}

/* A map of at least `need` bytes of records, holding what the current
 * one holds. */
static int intent_grow(struct nfc *nfc, uint64_t need)
{
	const struct intent_hdr *h = (const struct intent_hdr *)nfc->intent.mem;

	return pinmem_grow(nfc, &nfc->intent, &intent_kind, need, sizeof(*h),
			   h ? h->len : 0);
}

int intent_note(struct nfc *nfc, const char *nf, const char *coll,
		const char *key)
{
	struct intent_rec rec = {strlen(nf), strlen(coll),
				 key ? strlen(key) : 0};
	uint64_t len, need = sizeof(rec) + rec.nlen + rec.clen + rec.klen;
	struct intent_hdr *h;
	uint8_t *p;
	int r;

	if (!nfc->intent.mem || !nfc->intent.noted) {
		/* First note of this call: the pin may have moved since. */
		r = intent_open(nfc);
		if (r && r != -ENOENT)
			return r;
	}
	len = nfc->intent.mem ? ((struct intent_hdr *)nfc->intent.mem)->len : 0;
	if (!nfc->intent.mem || len + need > nfc->intent.size - PINMEM_PAGE) {
		r = intent_grow(nfc, 2 * (len + need));
		if (r)
			return r;
	}
	h = (struct intent_hdr *)nfc->intent.mem;
	p = nfc->intent.mem + PINMEM_PAGE + len;
	memcpy(p, &rec, sizeof(rec));
	p += sizeof(rec);
	memcpy(p, nf, rec.nlen);
	memcpy(p + rec.nlen, coll, rec.clen);
	if (rec.klen)
		memcpy(p + rec.nlen + rec.clen, key, rec.klen);
	__atomic_store_n(&h->len, len + need, __ATOMIC_RELEASE);
	nfc->intent.noted = 1;
	/* Stretches a change between its notes, so a test's kill -9 aimed
	 * at a random point lands inside one: an import of a few hundred
	 * entries is otherwise over in a few milliseconds, and whether a
	 * kill caught it was luck (daemon/tests/crash_import.sh). */
	nfci_test_delay("NFC_TEST_INTENT_DELAY_US");
	return 0;
}

void intent_clear(struct nfc *nfc)
{
	struct intent_hdr *h = (struct intent_hdr *)nfc->intent.mem;
	uint64_t len;

	if (!nfc->intent.noted)
		return;
	nfc->intent.noted = 0;
	if (!h)
		return;
	/* Emptied first, then wiped: the map reads as it did before the
	 * call, so a refused call leaves every pinned map as it was. */
	len = h->len;
	__atomic_store_n(&h->len, 0, __ATOMIC_RELEASE);
	if (len > nfc->intent.size - PINMEM_PAGE)
		len = nfc->intent.size - PINMEM_PAGE;
	memset(nfc->intent.mem + PINMEM_PAGE, 0, len);
}

/* One record put back to the model. Best effort: an entry the NF refuses
 * now was accepted before, and the rest must still be put back. */
static void replay(struct nfc *nfc, const char *nf, const char *coll,
		   const char *key)
{
	int id = model_find_nf(nfc->m, nf);
	const struct nfc_collection *c;
	struct nfc_nf *h;
	json_t *set, *v;

	if (id < 0 || !(c = nfci_coll_find(nfc->m->nfs[id].type, coll)))
		return; /* the NF is not in the model: nothing to match */
	h = &nfc->handles[id];
	set = json_object_get(nfc->m->nfs[id].colls, coll);
	if (!key[0]) {
		json_t *none = json_object();

		if (c->replace)
			c->replace(h, set ? set : none);
		json_decref(none);
	} else {
		c->del(h, key);
		v = json_object_get(set, key);
		if (v)
			c->add(h, key, v);
	}
	nf_changed(nfc, id, NFC_CHANGE_COLLECTION);
}

int intent_recover(struct nfc *nfc)
{
	char nf[256], coll[256], key[256];
	uint64_t len, off = 0, n = 0;
	struct intent_rec rec;
	const uint8_t *p;
	int r = intent_open(nfc);

	/* Made with the pin root, not at the first change: a refused first
	 * change must not leave a new map behind. */
	if (r == -ENOENT)
		return intent_grow(nfc, 0);
	if (r)
		return r;
	len = __atomic_load_n(&((struct intent_hdr *)nfc->intent.mem)->len,
			      __ATOMIC_ACQUIRE);
	if (!len)
		return 0;
	if (len > nfc->intent.size - PINMEM_PAGE)
		len = nfc->intent.size - PINMEM_PAGE;
	p = nfc->intent.mem + PINMEM_PAGE;
	while (off + sizeof(rec) <= len) {
		memcpy(&rec, p + off, sizeof(rec));
		off += sizeof(rec);
		if (off + rec.nlen + rec.clen + rec.klen > len)
			break;
		memcpy(nf, p + off, rec.nlen);
		nf[rec.nlen] = 0;
		memcpy(coll, p + off + rec.nlen, rec.clen);
		coll[rec.clen] = 0;
		memcpy(key, p + off + rec.nlen + rec.clen, rec.klen);
		key[rec.klen] = 0;
		off += rec.nlen + rec.clen + rec.klen;
		replay(nfc, nf, coll, key);
		n++;
	}
	nfc->err[0] = 0;
	fprintf(stderr,
		"nfchain: %s: a change was interrupted; the %llu entries it "
		"touched were put back to the saved state\n",
		nfc->root, (unsigned long long)n);
	nfc->intent.noted = 1; /* emptied when this call ends */
	return 0;
}
