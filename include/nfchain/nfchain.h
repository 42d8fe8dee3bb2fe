/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libnfchain: loads network functions into the running kernel, wires them
 * into chains and leaves them running after the process exits.
 *
 * Conventions: every call returns 0 or a negative errno; on failure the
 * message that names the object and the cause is in nfc_errmsg(), and the
 * running state is exactly what it was before the call. Names follow the
 * name rule below.
 *
 * The state lives under the pin root (default /sys/fs/bpf/nfchain). A
 * process that opens the same pin root adopts everything found there. The
 * handle is not thread-safe; separate processes serialize on a lock on the
 * pin root.
 */
#ifndef NFCHAIN_NFCHAIN_H
#define NFCHAIN_NFCHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#define NFC_DEFAULT_PIN_ROOT "/sys/fs/bpf/nfchain"

struct nfc;

/* ---- the name rule --------------------------------------------------------
 * One rule for the library, the daemon and the CLI. NF and port names
 * become bpffs path components and words of the nfchain CLI: 1 to
 * NFC_NAME_LEN letters, digits, '_' or '-', not starting with '-' (the CLI
 * would take it for an option).
 *
 * The first word of a CLI command is a command, a type or an NF name, so an
 * NF named like a command could never be addressed; a port named "add" or
 * "del" would make `<nf> ports add <port>` ambiguous. Those words are
 * reserved. (An NF named like a type is refused too, by whoever knows the
 * types.) The command words of the CLI grammar's table (cli/grammar.c)
 * are exactly this list: cli/tests/test_grammar.c checks it both ways.
 */
#define NFC_NAME_LEN 31
/* clang-format off */
#define NFC_CLI_COMMANDS(X) \
	X(types) X(show) X(export) X(apply) X(connect) X(disconnect) \
	X(attach) X(detach) X(help)
/* clang-format on */
#define NFC_RESERVED_PORT_NAMES "add", "del"

enum nfc_name_fault {
	NFC_NAME_OK,
	NFC_NAME_EMPTY,
	NFC_NAME_TOO_LONG,
	NFC_NAME_BAD_CHAR, /* *at: index of the character */
	NFC_NAME_LEADING_DASH,
};

/* The syntax of a name; `at` (may be NULL) receives the index of a
 * character that is not allowed. */
static inline enum nfc_name_fault nfc_name_check(const char *name, size_t *at)
{
	size_t n, i;

	if (!name || !*name)
		return NFC_NAME_EMPTY;
	n = strlen(name);
	if (n > NFC_NAME_LEN)
		return NFC_NAME_TOO_LONG;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			if (at)
				*at = i;
			return NFC_NAME_BAD_CHAR;
		}
	}
	return name[0] == '-' ? NFC_NAME_LEADING_DASH : NFC_NAME_OK;
}

/* Whether `name` is a word of the CLI grammar that an NF (port == 0) or a
 * port (port != 0) cannot be named. */
static inline int nfc_name_reserved(const char *name, int port)
{
#define NFC_CLI_WORD_(w) #w,
	/* filter-test: a command the CLI runs itself (no daemon). */
	static const char *const nf_words[] = {
		NFC_CLI_COMMANDS(NFC_CLI_WORD_) "filter-test"};
#undef NFC_CLI_WORD_
	static const char *const port_words[] = {NFC_RESERVED_PORT_NAMES};
	const char *const *w = port ? port_words : nf_words;
	size_t n = port ? sizeof(port_words) / sizeof(port_words[0])
			: sizeof(nf_words) / sizeof(nf_words[0]);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, w[i]))
			return 1;
	return 0;
}

struct nfc_opts {
	const char *pin_root; /* NULL: NFC_DEFAULT_PIN_ROOT */
	/* A pinned state this process cannot read yet (an NF of a type not
	 * loaded, whose file went): nfc_open returns 1 instead of failing,
	 * with the reason in err; every call is refused with it until the
	 * state reads, and the first call that reads it adopts the pins
	 * (nfchaind, whose `types load` mends it; its pins keep running). */
	int adopt_later;
};

int nfc_open(struct nfc **out, const struct nfc_opts *opts, char *err,
	     size_t errlen);
/* Releases the handle; the data plane stays as it is. */
void nfc_close(struct nfc *nfc);
const char *nfc_errmsg(const struct nfc *nfc);
const char *nfc_pin_root(const struct nfc *nfc);

/* ---- changes ------------------------------------------------------------
 * `config` arguments are JSON objects of field -> value; a string value is
 * converted by the field's declared kind ("300" for a number), so that
 * key=value input needs no knowledge of the schema. NULL means "none".
 */
int nfc_nf_add(struct nfc *nfc, const char *type, const char *name,
	       const char *mode, json_t *config);
int nfc_nf_set(struct nfc *nfc, const char *name, json_t *config);
/* NF `name` in mode `mode`, with `config` (NULL: none) merged into its
 * own: reloaded in the other hook with its group, as one whole-state step
 * (nfc_apply_accepted of the export so edited), so that it is either
 * moved or left as it was. */
int nfc_nf_set_mode(struct nfc *nfc, const char *name, const char *mode,
		    json_t *config);
int nfc_nf_del(struct nfc *nfc, const char *name);
/* Replaces NF `name`'s program by the object file `path` (NULL: the
 * built-in one), without a packet lost: its maps are kept, so its state and
 * counters are. An object whose maps differ from the pinned ones (name,
 * type, key or value size) is refused unless flags has
 * NFC_UPGRADE_RECREATE: those maps then start empty. The choice is part of
 * the state: a later process keeps it. The file must stay where it is. */
#define NFC_UPGRADE_RECREATE 1u
int nfc_nf_upgrade(struct nfc *nfc, const char *name, const char *path,
		   unsigned flags);
/* Deletes every NF; afterwards nothing of nfchain is attached or pinned. */
int nfc_reset(struct nfc *nfc);

/* peer: NULL (unconnected), a netdev name, or "nf:port". */
int nfc_port_add(struct nfc *nfc, const char *nf, const char *port,
		 const char *peer, json_t *config);
int nfc_port_set(struct nfc *nfc, const char *nf, const char *port,
		 json_t *config);
int nfc_port_del(struct nfc *nfc, const char *nf, const char *port);
int nfc_connect(struct nfc *nfc, const char *nf, const char *port,
		const char *peer);
int nfc_disconnect(struct nfc *nfc, const char *nf, const char *port);
/* Reconnects a port in one step: off its peer (both ends of a link to an
 * NF port), onto `peer` (NULL or "": left unconnected), with `config`
 * merged as nfc_port_set (NULL: unchanged). */
int nfc_port_repeer(struct nfc *nfc, const char *nf, const char *port,
		    const char *peer, json_t *config);

/* target: a netdev name or "nf:port". direction: "ingress", "egress",
 * "both" (NULL: both). position: "first", "last" (NULL: last),
 * "before=<nf>", "after=<nf>". */
int nfc_attach(struct nfc *nfc, const char *nf, const char *target,
	       const char *direction, const char *position);
int nfc_detach(struct nfc *nfc, const char *nf, const char *target);

/* Collections (fdb, routes, arp, ...) of an NF, as its type declares them. */
int nfc_coll_add(struct nfc *nfc, const char *nf, const char *coll,
		 const char *key, json_t *fields);
int nfc_coll_del(struct nfc *nfc, const char *nf, const char *coll,
		 const char *key);
/* Changes some fields of an existing entry (the others stay): refused,
 * changing nothing, if the entry does not exist or the result is not an
 * entry add would take. An entry that does not exist is -ESRCH, apart
 * from -ENOENT for what the fields name (a port): the daemon answers 404
 * for the one and 400 for the other. */
int nfc_coll_set(struct nfc *nfc, const char *nf, const char *coll,
		 const char *key, json_t *fields);
/* A single-entry change its caller could not make durable, taken back:
 * the entry made `old` again (NULL: none) through the NF, inactive or
 * not, as a restore would. The NF's own files go back with it (the
 * router's route store logs the delete), which an apply of the saved
 * document cannot do: the model never held what they keep. */
int nfc_coll_undo(struct nfc *nfc, const char *nf, const char *coll,
		  const char *key, json_t *old);
/* The same, and the collection's entries then put in the order of `like`
 * (the collection as saved: an object; NULL keeps the model's): the entry
 * put back went last, and a refused `set` or `del` moved it in export. */
int nfc_coll_undo_in(struct nfc *nfc, const char *nf, const char *coll,
		     const char *key, json_t *old, json_t *like);
/* The entry `key` as the saved state holds it (a copy, as nfc_export
 * would give it), or NULL when there is none: what a journal of single
 * changes records. */
json_t *nfc_coll_get(struct nfc *nfc, const char *nf, const char *coll,
		     const char *key);
/* *out: a new JSON array of entry objects. */
int nfc_coll_list(struct nfc *nfc, const char *nf, const char *coll,
		  json_t **out);
struct nfc_cursor;
/* A page of at most `max` entries from `cur` (zeroed to start), `*out` a
 * new array, empty at the end. A collection without a paged listing
 * (list_page) gives its whole list in the first page. */
int nfc_coll_list_page(struct nfc *nfc, const char *nf, const char *coll,
		       struct nfc_cursor *cur, size_t max, json_t **out);
/* One entry as the listing shows it (its figures included), `*out` a new
 * object: the entry whose first member, or whose "key", is `key` as
 * written. -ESRCH, naming it, if there is none. The listing is read a
 * page at a time (a lookup holds no more than a page); with max_scan
 * nonzero, a walk past that many entries gives up (-E2BIG): a caller
 * that serves others (nfchaind) is not held by a million-entry walk. A
 * key the NF does not hold in a collection that it keeps itself (get())
 * is answered at once. */
int nfc_coll_show_entry(struct nfc *nfc, const char *nf, const char *coll,
			const char *key, size_t max_scan, json_t **out);
/* Many entries of one collection in one change (one save): entries is an
 * array of {"key": ..., "fields": {...}, "line": N}; "line", if given, is
 * named in errors ("line 17: ..."). replace: the entries become the whole
 * collection. Every entry is checked before any is written; any refusal
 * leaves everything as it was. */
int nfc_coll_import(struct nfc *nfc, const char *nf, const char *coll,
		    json_t *entries, int replace);
/* The same from text: one entry a line, `key k=v ...` (the CLI's words),
 * `#` comments and blank lines skipped. */
int nfc_coll_import_text(struct nfc *nfc, const char *nf, const char *coll,
			 const char *text, size_t len, int replace);
/* Makes collection `coll` hold exactly `entries` (an object key -> fields;
 * NULL or {}: empty), all or nothing: a collection its NF swaps as a whole
 * (routes) changes at one instant for packets; another one entry by
 * entry, undone if an entry is refused. What import --replace calls. */
int nfc_coll_replace(struct nfc *nfc, const char *nf, const char *coll,
		     json_t *entries);

/* ---- the desired state as one document ----------------------------------
 * {"nfs":[{"name","type","mode","config":{},"ports":[{"name","peer",
 *  "config":{}}]}], "attachments":[{"nf","target","direction"}]}
 * Attachments of one target are listed in their order (first .. last).
 */
json_t *nfc_export(struct nfc *nfc);
/* One NF of it, without its collections (a `set` saves just that). */
json_t *nfc_export_nf(struct nfc *nfc, const char *nf);
/* The generation of the pinned state this handle last read or wrote; it
 * changes with every change saved, so an unchanged one says that a call
 * changed nothing (no export, no comparison needed). */
uint64_t nfc_state_gen(struct nfc *nfc);
/* What the changes saved since the last call changed, and forgets it:
 * NFC_SAVED_NONE nothing; NFC_SAVED_NF only the own fields (config, mode,
 * ports) of one NF, whose name is put in `nf` (its collections, the other
 * NFs and the attachments as they were: a `set`, saved as that NF alone);
 * NFC_SAVED_MORE anything else. Changes undone count too: the answer may
 * say more changed than did, never less. */
enum { NFC_SAVED_NONE, NFC_SAVED_NF, NFC_SAVED_MORE };
int nfc_take_saved(struct nfc *nfc, char *nf, size_t len);
/* The collection entries the NFs let go by themselves (nfc_nf_forget: a
 * blocklist prefix that expired) since the last call, saved in the pinned
 * state already, as a JSON array of [nf, collection, key]; NULL if none.
 * A daemon with a state of its own saves them there. The caller owns it. */
json_t *nfc_take_forgotten(struct nfc *nfc);
/* Moves the running system to `doc` with the fewest changes: NFs whose
 * definition is unchanged are neither reloaded nor interrupted. With
 * `plan` non-NULL, *plan receives the list of steps (a JSON array of
 * strings); with dry_run nothing is changed. */
int nfc_apply(struct nfc *nfc, json_t *doc, int dry_run, json_t **plan);
/* nfc_apply of a document this runtime accepted before: the saved state
 * at a restore, or the running one's export edited (a mode change). An
 * entry that went inactive after it was accepted (its port deleted, its
 * subnet or VLAN changed) is taken back as it was (nfc_nf_applying),
 * where nfc_apply refuses it as it refuses a single add. */
int nfc_apply_accepted(struct nfc *nfc, json_t *doc, json_t **plan);

/* ---- introspection -------------------------------------------------------
 * Each returns a new reference. */
json_t *nfc_show(struct nfc *nfc);		      /* every NF, with ports */
json_t *nfc_show_nf(struct nfc *nfc, const char *nf); /* NULL if unknown */
/* Gives back the pages of the built-in types' embedded objects that this
 * process read (they are read again when needed): for a long-lived
 * process's idle RSS. */
void nfc_release_embedded(void);
json_t *nfc_types(void); /* types and schemas */
/* Loaded NF types (docs/sdk.md), process-wide. Registers type `name` from
 * one or two BPF objects built from one source (an XDP and a TC build, in
 * either order; obj2 may be NULL): reads its config fields and collections
 * from BTF and has the kernel verify it. 0, or -errno with `err` set.
 * Before nfc_open() too, so that an adopted NF of the type is known. */
int nfc_type_register(const char *name, const char *obj1, const char *obj2,
		      char *err, size_t errlen);
/* The same with a plugin (a shared object exporting NFC_PLUGIN(), see
 * nfchain/nf.h) for the type's control plane; plugin may be NULL. */
int nfc_type_register_plugin(const char *name, const char *obj1,
			     const char *obj2, const char *plugin, char *err,
			     size_t errlen);
/* Whether `file` is a BPF object with the NF contract (an upgrade's, a
 * type's), before anything copies it: 0, or -errno with `err` naming
 * the file and libbpf's reason. */
int nfc_object_check(const char *file, char *err, size_t errlen);
/* The SHA-256 of a file (a regular one, up to 256 MB) as 64 hex digits,
 * as `show` gives an object's: 0 or -errno. */
int nfc_sha256_file(const char *path, char out[65]);
/* Refused while an NF of the type exists, or for a built-in type. */
int nfc_type_unregister(struct nfc *nfc, const char *name);
/* 1 if `name` is a loaded (not built-in) type. */
int nfc_type_loaded(const char *name);
/* Global counters: slow-path events, ring drops, drops by reason. */
json_t *nfc_global_stats(struct nfc *nfc);
/* A new fd (the caller closes it) of map `map` of NF `nf`, which must be of
 * type `type` (NULL: any): for a daemon that serves an NF's data itself (the
 * capture's pcap streams). -errno with nfc_errmsg set. */
int nfc_nf_map_open(struct nfc *nfc, const char *nf, const char *type,
		    const char *map);

/* ---- slow path ------------------------------------------------------------
 */

struct nfc_pktin_info {
	const char *nf;	  /* NF that sent it up */
	const char *port; /* its in_port */
	uint32_t direction, mark, ifindex, reason, pkt_len;
	const uint8_t *data;
	uint32_t cap_len;
};

typedef void (*nfc_pktin_fn)(void *ctx, const struct nfc_pktin_info *p);
/* Called for every packet-in after the NF type's own handler. */
void nfc_set_pktin_hook(struct nfc *nfc, nfc_pktin_fn fn, void *ctx);
/* A file descriptor to poll for packet-in, then call nfc_poll(nfc, 0). */
int nfc_events_fd(struct nfc *nfc);
/* Delivers pending packet-ins; waits up to timeout_ms. Returns the count. */
int nfc_poll(struct nfc *nfc, int timeout_ms);
/* Runs NF timers (aging and the like); call about once a second. */
void nfc_tick(struct nfc *nfc);

/* ---- netdevs that come and go ---------------------------------------------
 * A port whose peer is a netdev, an attachment on a netdev and a netdev's
 * hook are down while the netdev they were attached to (by its ifindex) is
 * gone: deleted, or deleted and made again under the same name, which is a
 * new device until the state is applied again (nfc_apply of the same
 * document attaches to it). nfc_show says "state": "up" or "down".
 *
 * Finds the ports down and tells their NF types (port_down in nf.h), so
 * that nothing learnt on a vanished device outlives it. Call it when a
 * netdev goes away (rtnetlink), and after start. With `down` non-NULL,
 * *down receives the names of the netdevs found gone (a new JSON array).
 * Returns how many ports are down, or -errno. */
int nfc_netdevs_check(struct nfc *nfc, json_t **down);
/* Netdev `ifindex` is no longer called by the name the model knows it by
 * (renamed away): its hooks come off, since the kernel keeps them on the
 * device under its new name, which the state does not name. Into `old`
 * (IF_NAMESIZE bytes), that name. Returns the hooks taken off; 0 when the
 * model has no hook on the device under another name. */
int nfc_netdev_renamed(struct nfc *nfc, int ifindex, const char *name,
		       char *old);
/* Netdev `name`, a port's peer, took another MAC: the NFs with a port on
 * it configure again (a router's port is that MAC, and tells its link).
 * Returns how many NFs did, or -errno. */
int nfc_netdev_reconfigure(struct nfc *nfc, const char *name);

/* Sends `frame` out of port `port` of NF `nf`, whatever its peer. */
int nfc_packet_out(struct nfc *nfc, const char *nf, const char *port,
		   const void *frame, size_t len);

/* Name of a drop / slow-path reason. */
const char *nfc_reason_name(unsigned reason);

#endif
