/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control-plane side of an NF: what a type declares to the runtime
 * (fields, collections, callbacks). Validation, the REST API and the CLI
 * are generic over this declaration, so a new NF needs no daemon or CLI
 * code: it fills a struct nfc_nf_type in nf/<name>/<name>.c and adds one
 * line to nf/list.h.
 */
#ifndef NFCHAIN_NF_H
#define NFCHAIN_NF_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct nfc;
struct nfc_nf;
struct bpf_object;

enum nfc_field_kind {
	NFC_F_UINT,	 /* integer in [min, max] */
	NFC_F_BOOL,	 /* true/false, also "1"/"0"/"yes"/"no" */
	NFC_F_STRING,	 /* free text up to 255 bytes */
	NFC_F_ENUM,	 /* one of `choices` ("a|b|c") */
	NFC_F_MAC,	 /* 02:00:00:00:00:01 */
	NFC_F_IPV4,	 /* 198.51.100.1 */
	NFC_F_PREFIX,	 /* 198.51.100.1/24 (address inside a prefix) */
	NFC_F_UINT_LIST, /* 10,20,30, each in [min, max] */
	NFC_F_PORT,	 /* name of a port of this NF */
	NFC_F_IP,	 /* 198.51.100.1 or 2001:db8::1 */
};

enum {
	NFC_FIELD_REQUIRED = 1 << 0,
	/* The value is a load-time constant of the data plane: changing it
	 * swaps in a freshly loaded program (maps kept, no loss). */
	NFC_FIELD_RELOAD = 1 << 1,
	/* The NF's control plane reads the value when it needs it (tick,
	 * slow path) and no map holds it: a change is a model write and calls
	 * no configure(), which may rebuild large tables. */
	NFC_FIELD_LIVE = 1 << 2,
	/* With bpf_const: the global is a plain one in the NFC_CFG_SEC
	 * section (NFC_CFG_VAR in nfchain.bpf.h) that the program reads at
	 * run time; a change writes it in place, no reload. */
	NFC_FIELD_RUNTIME = 1 << 3,
	/* A collection entry's field the NF writes from the others (a ddos
	 * entry's end from its expires): a `set` of the entry that does not
	 * name it drops it, for the NF to compute again. */
	NFC_FIELD_DERIVED = 1 << 4,
};

struct nfc_field {
	const char *name;
	enum nfc_field_kind kind;
	unsigned flags;
	const char *def; /* default, as text; NULL: none */
	/* NFC_F_UINT and NFC_F_UINT_LIST: the range; NFC_F_STRING: max is
	 * its longest length (0: 255). */
	long long min, max;
	const char *choices; /* NFC_F_ENUM */
	const char *doc;
	/* A config field only: the name of the data plane's `const volatile`
	 * __u32 global that the runtime sets from the field's value (an
	 * integer; true 1, false 0) before every load, so that no NF needs a
	 * prepare() for it. Implies NFC_FIELD_RELOAD. */
	const char *bpf_const;
};

/* The longest tcpdump expression a filter or capture NF takes: a classic
 * BPF program of 4,096 instructions comes from far less. */
#define NFC_EXPR_MAX 8192

/* Whether a change of the field swaps in a freshly loaded program. */
static inline int nfc_field_reloads(const struct nfc_field *f)
{
	return (f->flags & NFC_FIELD_RELOAD) ||
	       (f->bpf_const && !(f->flags & NFC_FIELD_RUNTIME));
}

/* Whether the field is a global the program reads at run time. */
static inline int nfc_field_runtime(const struct nfc_field *f)
{
	return f->bpf_const && (f->flags & NFC_FIELD_RUNTIME);
}
#define NFC_FIELDS_END \
	{              \
		0      \
	}

/* Where a paged listing of a collection stands (list_page): zeroed to
 * start, moved on by each page; its bytes are the collection's own. */
struct nfc_cursor {
	/* Aligned as a struct of 64-bit members the collection keeps in
	 * it (struct nfc_page_cur): the daemon holds cursors at any offset
	 * of its own structs, and UBSan stopped on a misaligned one. */
	_Alignas(8) uint8_t b[64];
};
/* A list_page over hash maps lists a collection of up to this many entries
 * whole in its first page (what `list` gives, in its order), and a larger
 * one a page at a time in the table's order: one listing of 60,000 FDB
 * entries built whole took the daemon 1.3 s and 65 MB, and held them for
 * as long as its client read (found by a helper). */
#define NFC_LIST_WHOLE 4096

struct nfc_collection {
	const char *name;
	const char *key_doc; /* what the key is ("MAC address", "prefix") */
	const struct nfc_field *fields;
	/* Validate fully before touching anything: a rejected entry changes
	 * nothing. `fields` is already checked against the declaration. */
	int (*add)(struct nfc_nf *nf, const char *key, json_t *fields);
	int (*del)(struct nfc_nf *nf, const char *key);
	/* Appends entry objects to `out`. */
	int (*list)(struct nfc_nf *nf, json_t *out);
	/* Optional, and what declares the collection "swapped as a whole":
	 * makes it hold exactly `entries` (an object key -> fields, each
	 * checked against `fields` already) in one call, the new set built
	 * beside the old and switched in at one instant, so that a packet
	 * meets the old set or the new, never part of each. apply and
	 * nfc_coll_replace hand a changed set of such a collection over whole
	 * instead of deleting and adding entry by entry. For sets whose
	 * entries decide together (routes, rules). Validate everything
	 * before changing anything. NULL: "entry by entry" (an FDB, a
	 * conntrack table: independent entries). docs/runtime.md says more. */
	int (*replace)(struct nfc_nf *nf, json_t *entries);
	/* Optional: refuses a malformed key before anything is written, so
	 * that an import names the line of a bad key. */
	int (*check_key)(struct nfc_nf *nf, const char *key);
	/* Optional: takes an import's text itself (a line an entry), for a
	 * collection too large to hold as one JSON object an entry (a
	 * 1,000,000-prefix blocklist). All or nothing, errors naming the
	 * line. The entries so imported are the NF's to keep (its maps, a
	 * copy of the text): the model's collection is left as it was, or
	 * emptied by a replace. -EOPNOTSUPP with no error set, before
	 * touching anything: declined, the generic import takes the text. */
	int (*import_text)(struct nfc_nf *nf, const char *text, size_t len,
			   int replace);
	/* Optional, with import_text: after an import, the entries the
	 * model keeps for what the NF holds itself (a reference to its feed
	 * file: no million entries in the model), put into the collection
	 * (the whole of it after a replace); NULL for none. The collection's
	 * replace() and add() must take them back (apply, a lost pin). An
	 * entry's "file", if it has one, is what apply writes back into the
	 * model after the collection changed: an NF that took in a file
	 * another daemon named (export there, apply here) names its own. */
	json_t *(*import_ref)(struct nfc_nf *nf);
	/* Optional, for a collection too large to list at once (a
	 * 1,000,000-prefix blocklist): appends at most `max` entries to
	 * `out` from `cur` and moves it on; the count appended, 0 at the
	 * end, or a negative error. The REST GET and `show` then stream it
	 * a page at a time, never holding the whole list. An entry changed
	 * between two pages may be listed or not. */
	int (*list_page)(struct nfc_nf *nf, struct nfc_cursor *cur, size_t max,
			 json_t *out);
	/* Optional, with import_text: the fields of entry `key` when the NF
	 * holds it itself (imported, not in the model), a new reference;
	 * NULL when it holds no such entry. `set` of such an entry merges
	 * the given fields into these and hands the result to import_text
	 * as a one-line import, so that the NF keeps it as it keeps any
	 * imported line. */
	json_t *(*get)(struct nfc_nf *nf, const char *key);
	/* Optional: refuses, touching nothing, an entry that add() or
	 * replace() would refuse once the NF's config is `config`. apply
	 * calls it for the entries of a document (with the document's
	 * config) before it changes anything, so that an entry refused late
	 * cannot leave the document's other changes running until they are
	 * undone (a firewall's default=accept while its bad rule waits). */
	int (*check)(struct nfc_nf *nf, json_t *config, const char *key,
		     json_t *fields);
};

/* What just ran, for nfc_nf_type.changed. */
enum nfc_change {
	NFC_CHANGE_CONFIGURE,  /* configure(), whether it succeeded or not */
	NFC_CHANGE_COLLECTION, /* a collection's add(), del() or replace() */
	NFC_CHANGE_PACKET_IN,  /* packet_in() */
	NFC_CHANGE_TICK,       /* tick() */
	NFC_CHANGE_PORT_DOWN,  /* port_down() */
};

enum {
	/* Spliced into a path by attach; has no ports of its own. */
	NFC_TYPE_TRANSPARENT = 1 << 0,
	/* Not usable in this hook (its code needs the other one). */
	NFC_TYPE_NO_XDP = 1 << 1,
	NFC_TYPE_NO_TC = 1 << 2,
	/* A packet it handles takes three tail calls, not one: into it,
	 * into its translated filter, and into the program the filter's
	 * verdict picks (lib/cbpf.h). The path length check counts three. */
	NFC_TYPE_FILTER_CALLS = 1 << 3,
};

/* One figure an NF type's stats callback adds to the NF's stats object,
 * declared so that /metrics gives it the right type and its help text.
 * A figure whose value is an object (reason -> count) is one metric with
 * a label: `label` names it. */
enum nfc_stat_kind {
	NFC_STAT_COUNTER, /* only grows (until the NF is deleted) */
	NFC_STAT_GAUGE,	  /* goes up and down (entries in a table) */
	/* In the stats JSON only, not a metric: a flat figure kept for the
	 * API's readers whose metric is a labelled family declared beside
	 * it (one metric with a `reason` label, not one a reason). */
	NFC_STAT_JSON_ONLY,
	/* Not a metric either, but shown in the text view: a list of
	 * objects, each a row named by its first string (top talkers). */
	NFC_STAT_LIST,
};
struct nfc_stat {
	const char *name; /* its key in the stats object */
	enum nfc_stat_kind kind;
	const char *label; /* NULL: the value is a number */
	const char *help;
};

struct nfc_nf_type {
	const char *name;
	const char *summary;
	unsigned flags;
	unsigned max_ports;	       /* <= NFC_MAX_PORTS */
	const char *const *port_names; /* NULL-ended allowed names, or NULL */
	const struct nfc_field *config;
	const struct nfc_field *port_config;
	const struct nfc_collection *collections; /* {0}-ended, or NULL */
	const struct nfc_stat *stats_doc; /* what `stats` adds; {0}-ended */
	/* The embedded BPF objects (from the bpftool skeletons). */
	const void *(*elf_xdp)(size_t *sz);
	const void *(*elf_tc)(size_t *sz);

	/* All optional. Return 0 or -errno with nfc_nf_error() set. */
	/* Before load: set load-time constants (const volatile) from config. */
	int (*prepare)(struct nfc_nf *nf, struct bpf_object *obj);
	/* Check a whole new config (and port configs) before any change. */
	int (*validate)(struct nfc_nf *nf, json_t *config);
	/* After load and after every change to its config or ports: make the
	 * NF's maps match them (ports added, removed, reconfigured). */
	int (*configure)(struct nfc_nf *nf);
	/* Slow path: a packet this NF sent up. */
	void (*packet_in)(struct nfc_nf *nf, unsigned in_port, unsigned reason,
			  const uint8_t *data, uint32_t len, uint32_t pkt_len);
	/* About once a second (aging, retries). */
	void (*tick)(struct nfc_nf *nf, uint64_t now_ns);
	/* Adds type-specific figures to an NF's or a port's stats object. */
	void (*stats)(struct nfc_nf *nf, int port, json_t *out);
	/* Releases what the control plane allocated (nfc_nf_priv). */
	void (*destroy)(struct nfc_nf *nf);
	/* The NF is deleted (not merely closed with its process): removes
	 * what it keeps outside its pins (a feed file). Before destroy;
	 * the model no longer holds the NF, so its name comes along. An
	 * NF an apply deletes is removed once the apply is accepted (a
	 * refused one brings it back, files and all): after destroy then,
	 * nfc_nf_priv() NULL. Not called for an NF a refused change made. */
	void (*removed)(struct nfc_nf *nf, const char *name);
	/* After each call above that may change what the data plane decides
	 * (see enum nfc_change), also after a failed one: the place to void
	 * fast-path caches (a generation bump), so that no NF wraps its own
	 * operations to do it. */
	void (*changed)(struct nfc_nf *nf, enum nfc_change why);
	/* The netdev a port was attached to went away (deleted; or deleted
	 * and made again, which is a new device until the state is applied
	 * again): forget what was learnt on the port (FDB entries,
	 * neighbours), as Linux flushes a deleted device's tables, and count
	 * it. For a transparent NF, both ports of an attachment on that
	 * netdev. May come again for a port still down: flush idempotently. */
	void (*port_down)(struct nfc_nf *nf, unsigned port);
};

/*
 * A plugin: a loaded type's control plane in C (docs/sdk.md), a shared
 * object given to `nfchain types load X.bpf.o plugin=X.so`. It exports
 * its type with NFC_PLUGIN(); nfchaind checks the ABI before it uses any
 * of it. The data plane is the .bpf.o (elf_xdp and elf_tc are ignored);
 * a NULL config or collections keeps what the object declares in BTF.
 * The plugin calls the nfc_nf_* functions below, which nfchaind exports:
 * build it with -shared -fPIC, without linking libnfchain.
 */
/* 2: struct nfc_collection gained get and check (its array's stride
 * changed). */
#define NFC_PLUGIN_ABI 2
struct nfc_plugin {
	unsigned abi; /* NFC_PLUGIN_ABI of the headers it was built with */
	unsigned type_size; /* sizeof(struct nfc_nf_type) there */
	const struct nfc_nf_type *type;
};
#define NFC_PLUGIN_SYMBOL "nfc_plugin"
#define NFC_PLUGIN(t)                          \
	__attribute__((visibility("default"))) \
	const struct nfc_plugin nfc_plugin = { \
		NFC_PLUGIN_ABI, sizeof(struct nfc_nf_type), &(t)}

/* What an NF's control plane may ask of the runtime. */
const char *nfc_nf_name(const struct nfc_nf *nf);
/* The pin root the NF lives under (to name files kept beside its pins). */
const char *nfc_nf_pin_root(const struct nfc_nf *nf);
/* A file the NF keeps outside its pins (a feed, a route store, a compiled
 * filter): "<dir>/<type><pin root, '/' as '_'>.<name>.<what>", named by pin
 * root so that two daemons never share one. `dir` NULL or "": the daemon's
 * state directory ($NFC_STATE_DIR), else /var/lib/nfchain. `name`: the
 * NF's (removed() is given it, the model no longer has it). */
void nfc_nf_keep_path(const struct nfc_nf *nf, const char *dir,
		      const char *type, const char *name, const char *what,
		      char *buf, size_t len);
unsigned nfc_nf_id(const struct nfc_nf *nf);
const char *nfc_nf_mode(const struct nfc_nf *nf);
json_t *nfc_nf_config(const struct nfc_nf *nf); /* borrowed */
/* The entries of collection `coll` the model holds (key -> fields,
 * borrowed; NULL: none). In a collection's check() during an apply, the
 * document's: what the NF will hold (an lb backend checks its service). */
json_t *nfc_nf_coll(const struct nfc_nf *nf, const char *coll);
/* Port index by name, -1 if none; name by index, NULL if unused. */
int nfc_nf_port_index(const struct nfc_nf *nf, const char *name);
const char *nfc_nf_port_name(const struct nfc_nf *nf, unsigned port);
json_t *nfc_nf_port_config(const struct nfc_nf *nf, unsigned port);
/* ifindex of a port's netdev peer, 0 if its peer is not a netdev. */
int nfc_nf_port_ifindex(const struct nfc_nf *nf, unsigned port);
/* fd of one of the NF's own maps, by its name in the BPF source; the
 * runtime owns it (do not close). */
int nfc_nf_map_fd(const struct nfc_nf *nf, const char *map);
/* fd of another program of the NF's object (a devmap egress program, say),
 * by its function name; pinned beside the NF, owned by the runtime. */
int nfc_nf_prog_fd(const struct nfc_nf *nf, const char *prog);
void *nfc_nf_priv(const struct nfc_nf *nf);
void nfc_nf_set_priv(struct nfc_nf *nf, void *priv);
int nfc_nf_packet_out(struct nfc_nf *nf, unsigned port, const void *frame,
		      size_t len);
/* In tick(): an entry of collection `coll` that the NF let go by itself
 * (a blocklist prefix whose expiry came) leaves the model and the saved
 * state too, so that a restore does not bring it back. Nothing if the
 * model does not hold it. */
void nfc_nf_forget(struct nfc_nf *nf, const char *coll, const char *key);
/* 1 while a document this runtime accepted before is applied (a restore
 * from state.json, a mode change: nfc_apply_accepted): an entry that
 * names a port or a VLAN it no longer fits went inactive when the port
 * changed (its port deleted, its subnet or VLAN changed). An add() then
 * takes it back as inactive, as it was, instead of refusing it: a refusal
 * failed the whole restore. A single add, and an apply of a user's
 * document, keep refusing it. */
int nfc_nf_applying(const struct nfc_nf *nf);
/* 1 while nfc_apply changes the NF's config (validate(), configure())
 * and writes its collections: they are made the document's, whose
 * entries the collections' check() accepted against the new config and
 * the document's other collections before anything changed. validate()
 * may leave to those checks what it would say of the entries held now (a
 * firewall turning conntrack off in the document that also drops its
 * state= rules), and a collection's add()/replace() what it would say of
 * another collection written after it (an lb's services before their
 * backends: a table shrunk with the backends that needed it). */
int nfc_nf_applying_doc(const struct nfc_nf *nf);
/* Sets the error message of the call in progress; returns -err. */
int nfc_nf_error(struct nfc_nf *nf, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same, for an error about entry `key` of a set given whole to
 * replace(): an import then puts the line of that entry in front ("line
 * 17: ..."), as it does for the entries it checks itself. */
int nfc_nf_entry_error(struct nfc_nf *nf, const char *key, int err,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Field helpers shared by the runtime and NFs. */
int nfc_parse_mac(const char *s, uint8_t mac[6]);
int nfc_parse_prefix(const char *s, uint32_t *addr, unsigned *len,
		     int allow_host_bits);
/* Config value `name` of the NF if it is an integer, else `def`. */
long long nfc_nf_config_uint(const struct nfc_nf *nf, const char *name,
			     long long def);

/*
 * Plumbing every NF's control plane needs (lib/nfutil.c).
 */

/* In prepare(): sets a `const volatile` global of the data plane (a 32-bit
 * one, in .rodata) before load; -ENOENT if the object has none by that
 * name. */
int nfc_obj_set_const(struct bpf_object *obj, const char *var, unsigned val);
/* Possible CPUs: the number of values of a per-CPU map entry. */
unsigned nfc_ncpus(void);
/* Sum over the CPUs of the u64 at byte `off` of entry `key` of a per-CPU
 * map whose values are `value_size` bytes (a multiple of 8, as the kernel
 * lays them out); 0 if the lookup fails. */
uint64_t nfc_percpu_sum(int fd, uint32_t key, size_t value_size, size_t off);
/* Entries first..first+n-1 of a per-CPU array map whose values are
 * `value_size` bytes (a multiple of 8), each value's u64 words summed over
 * the CPUs: word w of entry first+i into sums[i * value_size / 8 + w]. One
 * batched lookup (a lookup a key costs a syscall each), entry by entry
 * where the kernel refuses batches; an entry that cannot be read sums to
 * 0, and so does every entry when the call fails. 0 or -errno. */
int nfc_percpu_sums(int fd, uint32_t first, uint32_t n, size_t value_size,
		    uint64_t *sums);
/* Adds `d` to CPU 0's copy of that u64: for control-plane counters, which
 * have one writer (calls hold the pin root's lock) and which the data plane
 * never writes. 0 or -errno. */
int nfc_percpu_add(int fd, uint32_t key, size_t value_size, size_t off,
		   uint64_t d);
/* Entries 0..n-1 of an array map (not per-CPU) into `vals`, `value_size`
 * bytes each: one batch read, entry by entry where the kernel refuses
 * batches; an entry that cannot be read is left as it was. 0 or -errno. */
int nfc_array_read(int fd, void *vals, size_t value_size, uint32_t n);
/* Where a sliced walk of a hash map (nfc_hash_walk) is: zeroed, it starts
 * at the beginning; `done` is set when a call reached the end (the next one
 * starts over). */
struct nfc_walk {
	uint64_t token;
	int started, done;
};
/* Calls fn(key, value, arg) for entries of hash map `fd` (keys and values
 * of key_size and value_size bytes), read in batches: a syscall for up to
 * a thousand entries, not two an entry. A nonzero return from fn stops the
 * walk. With `cur` NULL the walk covers the whole map; with a cursor it
 * resumes where the last call stopped and stops after about `max` entries
 * (whole buckets), so that a large table is visited in slices, one per
 * tick. Entries added or deleted meanwhile may or may not be seen, as with
 * any walk of a live map. Returns the entries visited, or -errno. */
typedef int (*nfc_walk_fn)(const void *key, const void *value, void *arg);
long nfc_hash_walk(int fd, size_t key_size, size_t value_size,
		   struct nfc_walk *cur, long max, nfc_walk_fn fn, void *arg);
/* The cursor of a list_page over hash maps, in struct nfc_cursor's bytes:
 * a phase of the NF's own (0 before the first page, then 1, 2, ... as its
 * list walks one map after another, NFC_PAGE_END at the end) and the walk
 * of the map it is in. */
struct nfc_page_cur {
	uint8_t phase;
	uint8_t pad[7];
	struct nfc_walk w;
};
#define NFC_PAGE_END 255
/* At a listing's first page, whether a collection of `count` entries
 * (negative: not known) is small enough to be listed whole: 1, and the
 * cursor is put at the end (the caller appends its whole `list`);
 * otherwise the cursor goes on to phase 1, and 0. Later pages: 0. */
int nfc_page_whole(struct nfc_cursor *cur, long count);
/* The cursor of the sliced walks of map `fd` (one a map, by its id, kept
 * by the library for the process's life): for a tick that walks a table
 * in slices and keeps nothing of its own. NULL if the map cannot be told. */
struct nfc_walk *nfc_walk_cursor(int fd);
/* The entries of a hash or LRU hash map (not per-CPU), from the kernel's
 * own count: no walk. -errno if it cannot be told. */
long nfc_map_count(int fd);
#define NFC_MAC_STRLEN 18
/* "02:00:00:00:00:01" into buf; returns buf. */
const char *nfc_mac_str(const uint8_t mac[6], char buf[NFC_MAC_STRLEN]);
/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
uint64_t nfc_now_ns(void);
/* fsync of the directory holding `path`: after a rename into it, or the
 * creation of a file there, what makes the name durable. 0 or -errno
 * (errno set). */
int nfc_fsync_dir_of(const char *path);
/* `len` bytes appended to the file at `path` (created if absent) and
 * fsync'd, with its name if it was created: durable when it returns 0.
 * On failure (-errno; a full disk's short write is -ENOSPC) the file is
 * cut back to what it held, so that no part of the record stays to be
 * read with the next one appended after it; a file it created is
 * removed. */
int nfc_append_durable(const char *path, const void *buf, size_t len);
/* `from` copied to `to` durably: a temporary file beside `to`, fsync'd,
 * renamed over it, the directory fsync'd. 0 or -errno; `to` is left as it
 * was on failure. */
int nfc_copy_file(const char *from, const char *to);

/*
 * Numbered rule sets (the firewall's, the NAT's): rules keyed by a number,
 * lower numbers first. The record, a hash map of the NF's keyed by the
 * number, is what the control plane reads; the data plane gets the whole
 * sorted set at every change from `apply`, which switches it in at once.
 * A change is applied, then recorded; a refusal of either leaves both as
 * they were. The NF parses its rules; these do the rest.
 */
#define NFC_RULE_NUM_MAX 999999999u
struct nfc_rules {
	const char *map;    /* the record */
	size_t size;	    /* of a rule, whose first __u32 is its number */
	uint32_t max;	    /* rules the NF holds at most */
	const char *holder; /* "the firewall": for the limit's error */
	/* The data plane switched to exactly rs, n rules sorted by number. */
	int (*apply)(struct nfc_nf *nf, const void *rs, uint32_t n);
};
/* A rule's key as its number: decimal, 0..NFC_RULE_NUM_MAX. 0, -EINVAL,
 * or -EDOM for a number not in its one spelling ("007": *num is 7). */
int nfc_rule_num(const char *key, uint32_t *num);
/* Every rule of the record sorted by number, into *rs (malloc'd, room for
 * `extra` more; the caller frees it, also on failure): *n of them. */
int nfc_rules_load(struct nfc_nf *nf, const struct nfc_rules *d, void **rs,
		   uint32_t *n, uint32_t extra);
/* `rule` (parsed, keyed `key`) added: refused if its number is taken or
 * the set is full. */
int nfc_rules_add(struct nfc_nf *nf, const struct nfc_rules *d, const char *key,
		  const void *rule);
int nfc_rules_del(struct nfc_nf *nf, const struct nfc_rules *d,
		  const char *key);
/* The set made exactly the n parsed rules at rs (sorted here), switched
 * in at once: for a collection's replace() ("swapped as a whole": an
 * import of several rules is not applied rule by rule). The caller has
 * checked every rule; a refusal leaves the record and the data plane as
 * they were. */
/* A set of n rules, more than `max`, refused as an error about rule `num`,
 * the first over the limit in matching order (an import names its line,
 * not that of whichever key the message's figures happened to spell). */
int nfc_rules_too_many(struct nfc_nf *nf, uint32_t num, const char *holder,
		       uint32_t max, uint32_t n);
int nfc_rules_replace(struct nfc_nf *nf, const struct nfc_rules *d, void *rs,
		      uint32_t n);
/* The recorded set handed to `apply` again (something it reads changed). */
int nfc_rules_reapply(struct nfc_nf *nf, const struct nfc_rules *d);

#endif
