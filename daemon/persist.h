/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The saved desired state: <state-dir>/state.json, the document
 * nfc_export() gave after the last accepted change. Written so that a crash
 * at any instant leaves either the old file or the new one, never a mix.
 */
#ifndef NFD_PERSIST_H
#define NFD_PERSIST_H

#include <stddef.h>
#include <jansson.h>

/* Creates the directory (mode 0700) if needed. */
int persist_init(const char *dir, char *err, size_t errlen);
/* 0 and *doc, -ENOENT when there is no saved state, other -errno on a
 * file that cannot be read or parsed. */
int persist_load(const char *dir, json_t **doc, char *err, size_t errlen);
/* write to state.json.tmp, fsync, rename over state.json, fsync the
 * directory. */
int persist_save(const char *dir, json_t *doc, char *err, size_t errlen);

#endif
