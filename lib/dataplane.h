/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Between the files of the data plane only (bpflog.c, pins.c, load.c,
 * stubs.c, reconcile.c); what the rest of the library calls is in
 * internal.h.
 */
#ifndef NFC_DATAPLANE_H
#define NFC_DATAPLANE_H

#include "internal.h"

/* bpflog.c: libbpf's messages, so that a refused load can say why. */
void bpflog_install(void);
void bpflog_reset(void);
/* The verifier's reason: the last lines before its "processed" summary. */
const char *bpflog_tail(void);
/* The last line libbpf printed (a warning: "BTF is required, ..."),
 * without its "libbpf: " and newline; "" when none. */
const char *bpflog_last(void);

/* pins.c */
/* The index of a shared map by its BPF-side name, or -1: an NF's own. */
int dp_shared_index(const char *bpf_name, int hook);
int dp_pin_path(struct nfc *nfc, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* load.c */
int dp_nf_load(struct nfc *nfc, struct model *m, int id);
/* load.c: where `var` (`want` bytes) lies in the data section `sec` of
 * `size` bytes, by the BTF; -ENOENT if not there. */
struct btf;
long nfci_datasec_off(const struct btf *btf, const char *sec, const char *var,
		      size_t want, size_t size);
/* cfgvar.c: NFC_FIELD_RUNTIME fields, into the object before load, and
 * into the running program when they changed from `old` to `n`. */
int dp_cfg_vars_init(struct nfc *nfc, const struct mnf *n,
		     struct bpf_object *obj);
int dp_cfg_vars_write(struct nfc *nfc, int id, const struct mnf *old,
		      const struct mnf *n);
void dp_nf_unload(struct nfc *nfc, const struct mnf *n, int id);
/* An NF's object: built in, or the file it was upgraded to (NULL and
 * errno if that cannot be read). */
const void *dp_nf_elf(const struct mnf *n, size_t *sz);
/* What a load of NF n would refuse of its object before loading it: no
 * build for its hook, an unreadable file, programs of the other hook. */
int dp_nf_obj_check(struct nfc *nfc, const struct mnf *n);
/* The load signature: a different one means reload. */
void dp_nf_sig(const struct mnf *n, char *buf, size_t len);

/* load_split.c: loads `obj`'s programs, a large NF's two at once: then
 * `obj` holds the maps and parts[0], parts[1] the programs (the caller
 * closes them); else parts are NULL and `obj` holds all. 0 or -errno,
 * the error said. */
int dp_load_progs(struct nfc *nfc, const struct mnf *n, struct bpf_object *obj,
		  const void *elf, size_t sz, struct bpf_object *parts[2]);
/* Program `name` of the load above, loaded, or NULL. */
struct bpf_program *dp_loaded_prog(struct bpf_object *obj,
				   struct bpf_object *parts[2],
				   const char *name);

/* stubs.c */
int dp_prog_id(int fd); /* 0 if fd is not a program */
/* Attaches netdev hook `idx`, or retargets its link: to `want` (an NF's
 * nfc_direct program) or, with want < 0, to its stub. */
int dp_stub_up(struct nfc *nfc, const struct mstub *st, int idx, int want);
void dp_stub_down(struct nfc *nfc, int idx);

#endif
