/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The saved desired state: <state-dir>/state.json, the document
 * nfc_export() gave after the last accepted change. Written so that a crash
 * at any instant leaves either the old file or the new one, never a mix.
 */
#ifndef NFD_PERSIST_H
#define NFD_PERSIST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Creates the directory (mode 0700) if needed. */
int persist_init(const char *dir, char *err, size_t errlen);
/* 0 and *doc, -ENOENT when there is no saved state, other -errno on a
 * file that cannot be read or parsed. */
int persist_load(const char *dir, json_t **doc, char *err, size_t errlen);
/* write to state.json.tmp, fsync, rename over state.json, fsync the
 * directory. */
int persist_save(const char *dir, json_t *doc, char *err, size_t errlen);

/* The journal is folded into state.json when it is larger than a quarter
 * of it and than this (NFD_JOURNAL_MIN in the environment, in bytes, sets
 * another). */
#define PERSIST_JOURNAL_MIN (64u << 10)
/* A record ({"nf", "coll", "key", "value"}: one collection entry
 * changed, value null when deleted; or {"nf", "nf_fields"}: one NF's own
 * fields, all of it but its collections) appended to state.journal and
 * fsync'd, whatever the size of the state. 0 done; 1 when the whole state
 * is to be saved instead (the journal is due to be folded in); -errno
 * when it could not be made durable (nothing half written stays).
 * persist_load replays the journal over state.json; persist_save empties
 * it. */
int persist_append_rec(const char *dir, json_t *rec, char *err, size_t errlen);
/* A journal record ({"nf", "coll", "key", "value"}) applied to a state
 * document as the export would show it. */
void persist_apply(json_t *doc, json_t *rec);
/* Bytes in the journal: a clean stop folds them into state.json. */
uint64_t persist_journal_len(void);
/* At a clean stop, after the journal was folded in: state.journal (which
 * names an older state.json) removed. */
void persist_end(const char *dir);

#endif
