/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal to libnfchain. Two halves:
 *  - the model: what the user asked for (NFs, ports, peers, attachments,
 *    stub numbers), plain data that can be cloned, compared, serialized to
 *    the pinned state map and restored to roll a failed change back;
 *  - the runtime: file descriptors and control-plane state of this process,
 *    derived from the model and the pins.
 * Every change is: clone model, edit the clone, validate it, reconcile the
 * data plane to it, save it. On failure the data plane is reconciled back.
 *
 * Names: nfc_* is the public API, declared in include/nfchain/ and listed
 * in lib/libnfchain.map (the only names the library exports). Internals
 * shared between files of lib/ are nfci_* or carry their module's prefix
 * (model_, state_, dp_, netdev_, sp_, paths_; nf_type_<name> for the
 * NF types, nf/list.h); none uses nfc_*, so none can
 * be mistaken for API or collide with a user's name. (nfci_check_name is
 * the one left: its rule moves to the public header.)
 */
#ifndef NFC_INTERNAL_H
#define NFC_INTERNAL_H

#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "common.h"
#include "nfchain/nfchain.h"
#include "nfchain/nf.h"

#define NFC_MAX_ATTACHMENTS 1024

enum hook { HOOK_XDP = 0, HOOK_TC = 1 };

enum peer_kind { PEER_NONE = 0, PEER_DEV, PEER_NF };

/* A port's peer, or an attachment's target. */
struct endpoint {
	int kind;	       /* enum peer_kind */
	char dev[IF_NAMESIZE]; /* PEER_DEV */
	int ifindex;	       /* PEER_DEV */
	int nf, port;	       /* PEER_NF */
};

struct mport {
	bool used;
	char name[NFC_NAME_MAX];
	struct endpoint peer;
	json_t *config;
};

struct mnf {
	bool used;
	char name[NFC_NAME_MAX];
	const struct nfc_nf_type *type;
	char mode[16]; /* auto | xdp | xdp-generic | tc */
	/* mode auto: the hook the runtime picked (paths_resolve_auto) and
	 * why, shown to the user ("veth", "nic", "no netdev yet"); empty
	 * until first picked. */
	int auto_hook;
	/* auto_hook XDP from a group member of mode xdp-generic: generic
	 * too (one netdev cannot run the two XDP modes at once). */
	int auto_generic;
	char auto_why[40];
	json_t *config;
	json_t *colls; /* desired collection entries: {coll: {key: fields}} */
	/* What the pinned program was built from (object hash and load-time
	 * config): a different one at reconcile means reload. */
	char sig[160];
	/* The object it runs: a file the user upgraded it to (nfc_nf_upgrade,
	 * kept in the model so that no later process reverts it), or "" for
	 * the built-in one; its SHA-256 once loaded. */
	char obj[256];
	char obj_sha[65];
	/* This change only: maps whose layout differs from their pins are
	 * created anew, empty (migrate=recreate), instead of refused. */
	int migrate;
	struct mport ports[NFC_MAX_PORTS];
};

struct mattach {
	bool used;
	int nf;	  /* the transparent NF */
	int pair; /* its ports 2*pair (ingress side), 2*pair+1 */
	struct endpoint target;
	int dirs; /* bit 0 ingress, bit 1 egress */
	int rank; /* order on the target, lower first */
};
#define DIR_IN 1
#define DIR_EG 2

struct mstub {
	bool used;
	int ifindex;
	char dev[IF_NAMESIZE];
	int egress;
	int hook;
	int xdp_flags;
};

struct model {
	struct mnf nfs[NFC_MAX_NFS];
	struct mattach att[NFC_MAX_ATTACHMENTS];
	struct mstub stubs[NFC_MAX_STUBS];
};

/* An fd this process holds for an adopted NF, by map name ("/<prog>" for
 * a program: no map name starts with a slash). */
struct rfd {
	char name[NFC_NAME_MAX + 2];
	int fd;
};

/* What this process holds for a loaded NF. */
struct rnf {
	int prog_fd;		/* -1: not loaded or adopted yet */
	struct bpf_object *obj; /* NULL when adopted from pins */
	void *priv;
	/* Maps (and other programs) of an adopted NF, opened from their
	 * pins on first use; as many as it has (dp_fd_add grows it). */
	struct rfd *fds;
	int nfds, cap;
};

struct rstub {
	int prog_fd;
	int link_fd;
};

struct nfc_nf {
	struct nfc *nfc;
	unsigned id;
};

enum shared_map {
	SM_PROGS_XDP,
	SM_PROGS_TC,
	SM_LINKS,
	SM_STUBS,
	SM_META,
	SM_STATS,
	SM_GLOBAL,
	SM_DEVMAP,
	SM_RING,
	SM_SCRATCH,
	SM_IFPORTS,
	SM_COUNT
};

/* A pinned byte region as this process maps it (pinmem.c): the intent
 * journal's (intent.c) and the state log's (state.c). */
struct nfc_intent {
	int fd;
	uint8_t *mem; /* NULL: not open */
	uint64_t size;
	unsigned long ino; /* of the pin mapped, to see it replaced */
	int noted;	   /* records were added in this call */
};

struct nfc {
	char root[256];
	char err[1024];
	int lock_fd;
	int state_fd;
	int gen_fd;
	uint64_t gen; /* of the state document this process last read */
	int map_fd[SM_COUNT];
	struct model *m;
	struct rnf rt[NFC_MAX_NFS];
	struct rstub rs[NFC_MAX_STUBS];
	struct nfc_nf handles[NFC_MAX_NFS];
	int inject_fd[2];
	/* XDP packet-out: 0 live-frames test runs not tried yet, 1 they
	 * work, -1 the kernel refuses them (a sandbox): the frames go
	 * through a veth whose far end runs the inject program natively,
	 * sent on inject_sock. */
	int inject_live, inject_sock;
	int ep; /* stable epoll fd for packet-in (nfc_events_fd) */
	struct ring_buffer *rb;
	nfc_pktin_fn pktin_fn;
	void *pktin_ctx;
	int in_call;   /* nesting of public calls: lock once */
	int absent;    /* this call found no pin root (read-only) */
	int keep_root; /* the model was not loaded: it says nothing of the
			* root, which must not be removed as empty */
	/* NFs whose collections changed in this call: told once at its end
	 * (nf_changed), not once an entry (an apply of 10,000). */
	bool coll_changed[NFC_MAX_NFS];
	/* Rewrite every hop, not just the changed ones (adoption). */
	int full_sync;
	/* A netdev that went away may be named where the running model
	 * names it already: an apply rebuilding the same ports and
	 * attachments (the undo of an unsaved change among them), a detach.
	 * Set around those only: a new port or attachment needs its netdev. */
	int keep_gone;
	/* nfc_open's adoption refused (opts.adopt_later): the first change
	 * that reads the state adopts it, with full_sync. */
	int adopt_pending;
	/* The NF being loaded may recreate maps whose layout changed
	 * (mnf.migrate), set by dp_nf_load around its dp_bind_maps. */
	int migrating;
	struct nfc_intent intent;
	/* The pinned state log (state.c), mapped like the intent map, and
	 * the generation and length of the document it extends. */
	struct nfc_intent slog;
	uint64_t doc_gen, doc_len;
	/* What the saves since the last nfc_take_saved() changed
	 * (NFC_SAVED_*), and the NF when it was one NF's own fields. */
	int saved_what;
	char saved_nf[NFC_NAME_MAX];
	/* Entries the NFs let go by themselves since the last
	 * nfc_take_forgotten(): [[nf, coll, key], ...], or NULL. */
	json_t *forgotten;
	/* Set while nfc_apply writes the entries of a document this
	 * runtime accepted before (nfc_apply_accepted; nfc_nf_applying). */
	int applying, accepted;
	/* Moving back to the model before a refused change: an NF that goes
	 * is one the change made, and what it keeps outside its pins (a feed
	 * file) is the state's, not the NF's to remove (dp_nf_unload). */
	int undoing;
	/* Set while nfc_apply may still be refused: the NFs it deletes
	 * keep their files until it is accepted (a refused apply brings
	 * them back, and a feed it removed was lost), and `removed` runs
	 * then (dp_nf_unload, nfci_removed_run). */
	int defer_removed;
	int nremoved;
	struct removed_nf {
		const struct nfc_nf_type *type;
		char name[NFC_NAME_MAX];
		unsigned id;
	} removed[NFC_MAX_NFS];
	/* Set while nfc_apply edits the model: the entries it then writes
	 * were checked against the document's config (nfc_nf_applying_doc). */
	int doc_checked;
	/* The NFs the last dp_reconcile loaded anew (nfci_transact's way
	 * back loads them again). */
	unsigned char reloaded[NFC_MAX_NFS];
	/* During an import's replace(): key -> line of its entries, for
	 * nfc_nf_entry_error. */
	json_t *entry_lines;
};

/* util.c */
int nfci_err(struct nfc *nfc, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int nfci_check_name(struct nfc *nfc, const char *what, const char *name);
uint64_t nfci_hash(const void *p, size_t n, uint64_t h);
int nfci_mkdirs(const char *path);
int nfci_rmtree(const char *path);
const char *nfci_hook_name(int hook);
void nfci_test_delay(const char *env);
/* sha256.c */
void nfci_sha256_hex(const void *data, size_t n, char out[65]);

/* types.c */
const struct nfc_nf_type *nfci_type_find(const char *name);
const struct nfc_nf_type *const *nfci_type_all(void);
/* dyntype.c: the built-in types followed by the loaded ones; the object
 * of a loaded type (NULL for a built-in one). */
const struct nfc_nf_type *const *
nfci_dyn_all(const struct nfc_nf_type *const *builtin);
const void *nfci_dyn_elf(const struct nfc_nf_type *t, int hook, size_t *sz);
/* load.c: a const volatile global's place in an object's .rodata. */
int nfci_rodata_var(struct bpf_object *obj, const char *var, void **at,
		    size_t want);
int nfci_dyn_check_upgrade(const struct nfc_nf_type *t, int hook,
			   const char *path, char *err, size_t len);
/* Removes from `merged` the declared fields that `changes` gives empty
 * ("" from the CLI's `key=`) or null: a set's unset. */
void nfci_fields_unset(json_t *merged, json_t *changes,
		       const struct nfc_field *fields);
const struct nfc_field *nfci_field_find(const struct nfc_field *f,
					const char *name);
const struct nfc_collection *nfci_coll_find(const struct nfc_nf_type *t,
					    const char *name);
/* nfc_coll_import that may empty `entries` once it no longer needs them
 * (lib/import.c); the caller still holds its reference. */
int nfci_coll_import_own(struct nfc *nfc, const char *nf, const char *coll,
			 json_t *entries, int replace);
/* Normalizes `in` (object of field->value) against `fields` into *out
 * (defaults filled in when `defaults`); errors name the field. `owner`
 * prefixes messages ("nf br0", "port p1 of br0"). */
int nfci_fields_check(struct nfc *nfc, const char *owner,
		      const struct nfc_field *fields, json_t *in, int defaults,
		      const struct nfc_nf *nf, json_t **out);
int mode_hook(const char *mode);
/* Whether type t runs in `mode`: 1 yes (auto always), 0 no, -1 no such
 * mode. */
int mode_runs(const struct nfc_nf_type *t, const char *mode);

/* model.c */
struct model *model_new(void);
void model_free(struct model *m);
struct model *model_clone(const struct model *m);
int model_find_nf(const struct model *m, const char *name);
/* load.c: the NF deletions an apply deferred (struct nfc, defer_removed). */
void nfci_removed_run(struct nfc *nfc, int run);
int model_find_port(const struct mnf *n, const char *name);
json_t *model_to_json(const struct model *m, uint64_t gen);
int model_from_json(struct nfc *nfc, json_t *doc, struct model *m,
		    uint64_t *gen);
const char *endpoint_str(const struct model *m, const struct endpoint *e,
			 char *buf, size_t len);
/* Parses "nf:port" or a netdev name; the netdev must exist, or, while
 * nfc->keep_gone is set, be one that went away and that the running
 * model still names (gone.c). */
int endpoint_parse(struct nfc *nfc, const struct model *m, const char *s,
		   struct endpoint *e, const char *ctx);
bool endpoint_eq(const struct endpoint *a, const struct endpoint *b);
/* Whether two NFs' ports differ: set, names, peers or configs (ops.c). */
bool nf_ports_differ(const struct mnf *a, const struct mnf *b);
int model_validate(struct nfc *nfc, struct model *m);
int nf_hook(const struct mnf *n);
/* automode.c */
int paths_resolve_auto(struct nfc *nfc, struct model *m);

/* state.c: the document under the pin root and the inter-process lock */
int state_lock(struct nfc *nfc);
void state_unlock(struct nfc *nfc);
int state_load(struct nfc *nfc); /* refresh the model if another wrote */
int state_save(struct nfc *nfc);
/* What changed since `old` (nfc->m the new model): nothing, one log
 * record (one NF's own fields), or the whole document. */
int state_save_diff(struct nfc *nfc, const struct model *old);
uint64_t state_max(void); /* the largest document state_save takes */
/* Saves a change of one entry of NF id's collection (the model holds its
 * new value, or none): a record appended to the pinned log, the whole
 * document only when the log has grown to a share of it. */
int state_save_entry(struct nfc *nfc, int id, const char *coll,
		     const char *key);
void state_log_close(struct nfc *nfc);

/* intent.c: what a collection change is about to touch, noted before it
 * touches it (a key; NULL: the whole set), emptied when the call ends, put
 * back to the model by the next process if the writer died. */
int intent_note(struct nfc *nfc, const char *nf, const char *coll,
		const char *key);
void intent_clear(struct nfc *nfc);
int intent_recover(struct nfc *nfc);
void intent_close(struct nfc *nfc);

/* pinmem.c: a region in a pinned BPF_F_MMAPABLE array of PINMEM_PAGE
 * pages, kept across processes; the first page is its owner's header. */
#define PINMEM_PAGE 4096u
#define PINMEM_MIN_PAGES 16
struct pinmem_kind {
	const char *file;    /* its pin under the root: "intent" */
	const char *map;     /* the map's name */
	const char *article; /* of the noun, for errors: "an" */
	const char *noun;    /* "intent map" */
};
/* Maps the pin (kept if it is still the map m holds); -ENOENT: none. */
int pinmem_open(struct nfc *nfc, struct nfc_intent *m,
		const struct pinmem_kind *k);
/* A new map of at least `need` bytes after the header page, holding m's
 * first `hdr` bytes and `used` bytes of records, pinned over the old one
 * and mapped as m. */
int pinmem_grow(struct nfc *nfc, struct nfc_intent *m,
		const struct pinmem_kind *k, uint64_t need, size_t hdr,
		uint64_t used);
void pinmem_close(struct nfc_intent *m);

/* The data plane: pins.c (pin root, shared maps, fds of NFs), load.c,
 * stubs.c, reconcile.c; what they share among themselves is dataplane.h. */
int dp_open_shared(struct nfc *nfc);
int dp_reconcile(struct nfc *nfc, const struct model *old, struct model *new);
int dp_nf_fd(struct nfc *nfc, int id); /* adopt from pins if needed */
/* Binds an object's maps: shared ones to the pins, an NF's own (under
 * nf_dir, if not NULL) to their pins when they exist. */
int dp_bind_maps(struct nfc *nfc, struct bpf_object *obj, int hook,
		 const char *nf_dir);
int dp_nf_map_fd(struct nfc *nfc, int id, const char *map);
int dp_nf_prog_fd(struct nfc *nfc, int id, const char *prog);
void dp_release(struct nfc *nfc);
char *dp_nf_dir(struct nfc *nfc, int id, const char *name, char *buf,
		size_t len);
/* The fd cache of an adopted NF: find (or -ENOENT), add (takes the fd
 * over; returns it, or -ENOMEM with it closed), close all. */
int dp_fd_find(const struct rnf *rt, const char *name);
int dp_fd_add(struct rnf *rt, const char *name, int fd);
void dp_close_fds(struct rnf *rt);
/* An object's own maps (load.c); the caller frees the array. */
struct bpf_map **dp_own_maps(struct bpf_object *obj, int hook, int *n);

/* netdev.c */
int netdev_ifindex(const char *name);
bool netdev_exists(int ifindex);
/* Whether the netdev an endpoint was resolved to is still there: the
 * device with that ifindex exists and has that name. */
bool endpoint_up(const struct endpoint *e);
/* gone.c: the endpoint of a netdev named `dev` that went away, as model m
 * still holds it (a port's peer or an attachment's target). */
bool gone_endpoint(const struct model *m, const char *dev, struct endpoint *e);
int netdev_kind(int ifindex, char *kind, size_t len);
int netdev_ensure_napi_peer(struct nfc *nfc, int ifindex, const char *ctx);
int netdev_veth_create(const char *a, const char *b);
int netdev_del(const char *name);
int netdev_mtu(const char *name);
int netdev_set_mtu(const char *name, int mtu);
int netdev_up(const char *name);
void netdev_no_ipv6(const char *name);

/* slowpath.c */
int sp_open(struct nfc *nfc);
void sp_close(struct nfc *nfc);
/* Removes the TC packet-out veth pair, if this pin root made one. */
void sp_remove_inject(struct nfc *nfc);

/* nfutil.c: calls the type's changed() hook of NF `id`. */
void nf_changed(struct nfc *nfc, int id, enum nfc_change why);
void nf_changed_flush(struct nfc *nfc);

/* show.c: nfc_export, with or without the collections. */
json_t *export_doc(struct nfc *nfc, bool colls);
/* show.c: whether `name` is one of the framework's figures of a port and
 * an NF (rx_packets ... drops), which no type's stats may take. */
bool nfci_stat_reserved(const char *name);

/* ops.c: run a change as one transaction */
typedef int (*nfci_edit_fn)(struct nfc *nfc, struct model *m, void *arg);
int nfci_transact(struct nfc *nfc, nfci_edit_fn fn, void *arg);
int nfci_begin(struct nfc *nfc);
/* For calls that change nothing: no pin root is made if there is none. */
int nfci_begin_ro(struct nfc *nfc);
/* Calls the type's configure() for NFs whose config or ports differ. */
int nf_configure_changed(struct nfc *nfc, const struct model *old,
			 const struct model *new);
void nfci_end(struct nfc *nfc);

/* nfapi.c: collections inside a call already begun, not saved. */
int coll_check(struct nfc *nfc, const char *nf, const char *coll,
	       const char *key, json_t *fields, json_t **norm, int *idp,
	       const struct nfc_collection **cp);
int coll_add_nosave(struct nfc *nfc, const char *nf, const char *coll,
		    const char *key, json_t *fields);
int coll_del_known(struct nfc *nfc, int id, const struct nfc_collection *c,
		   const char *key);
int coll_del_nosave(struct nfc *nfc, const char *nf, const char *coll,
		    const char *key);
int coll_replace_nosave(struct nfc *nfc, const char *nf, const char *coll,
			json_t *entries);

/* The edits behind the public calls, for nfc_apply to combine. */
struct nf_add_args {
	const char *type, *name, *mode;
	json_t *config;
};
struct nf_set_args {
	const char *name;
	json_t *config;
};
struct port_args {
	const char *nf, *port, *peer;
	json_t *config;
};
struct attach_args {
	const char *nf, *target, *direction, *position;
};
int do_nf_add(struct nfc *nfc, struct model *m, void *arg);
int do_nf_set(struct nfc *nfc, struct model *m, void *arg);
int do_port_add(struct nfc *nfc, struct model *m, void *arg);
int do_port_set(struct nfc *nfc, struct model *m, void *arg);
int do_port_del(struct nfc *nfc, struct model *m, void *arg);
int do_attach(struct nfc *nfc, struct model *m, void *arg);
void nf_remove(struct model *m, int id);
int set_peer(struct nfc *nfc, struct model *m, int nf, int p, const char *peer);

#endif
