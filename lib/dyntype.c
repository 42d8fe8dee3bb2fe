// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * NF types loaded at run time from a user's BPF objects (docs/sdk.md): the
 * declaration a built-in NF writes in C is read here from the object's BTF.
 *   - `const volatile` globals of .rodata (but nfc_*) are config fields,
 *     set before every load (a change reloads the program);
 *   - maps named coll_<name> (hash, LRU hash or LPM trie) are collections,
 *     entry by entry, their key and value kinds taken from BTF.
 * The type then lives in the same table as the built-in ones (types.c), so
 * ports, chaining, modes, counters and adoption are theirs. A plugin (a
 * shared object exporting NFC_PLUGIN(), nfchain/nf.h) may add a control
 * plane in C: its declaration and callbacks, over the BTF-read ones.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "dataplane.h"

#define DYN_MAX_TYPES 16
#define DYN_MAX_COLLS 8
#define DYN_MAX_FIELDS 16
#define COLL_PREFIX "coll_"

enum dkind {
	DK_NONE,
	DK_UINT,
	DK_BOOL,
	DK_MAC,
	DK_IP4,
	DK_IP6,
	DK_PFX4,
	DK_PFX6
};

struct dfield {
	char name[64];
	enum dkind kind;
	unsigned off, size;
};

struct dcoll {
	char map[64];
	char name[64];
	char key_doc[64];
	struct dfield key;
	struct dfield val[DYN_MAX_FIELDS];
	int nval;
	unsigned key_size, val_size;
	unsigned map_type; /* an upgrade keeps it: a map recreated as
			    * another type lost the entries the model kept */
	struct nfc_field fields[DYN_MAX_FIELDS + 1];
	char defs[DYN_MAX_FIELDS][8];
};

struct dyn {
	struct nfc_nf_type t; /* first: a type pointer is a dyn pointer */
	char name[NFC_NAME_MAX];
	char summary[128];
	void *elf[2];
	size_t sz[2];
	struct dfield cfg[DYN_MAX_FIELDS];
	char cfg_def[DYN_MAX_FIELDS][48];
	char cfg_doc[DYN_MAX_FIELDS][96];
	struct nfc_field config[DYN_MAX_FIELDS + 1];
	int ncfg;
	struct dcoll coll[DYN_MAX_COLLS];
	struct nfc_collection colls[DYN_MAX_COLLS + 1];
	int ncoll;
	void *dl;		      /* the plugin's dlopen handle, or NULL */
	const struct nfc_nf_type *pt; /* the plugin's type, or NULL */
};

static struct dyn *dyns[DYN_MAX_TYPES];
/* Built-in types then loaded ones, NULL-ended: what nfci_type_all gives. */
static const struct nfc_nf_type *merged[128];

static struct dyn *dyn_of(const struct nfc_nf_type *t)
{
	for (int i = 0; i < DYN_MAX_TYPES; i++)
		if (dyns[i] && &dyns[i]->t == t)
			return dyns[i];
	return NULL;
}

const struct nfc_nf_type *const *
nfci_dyn_all(const struct nfc_nf_type *const *b)
{
	int n = 0;

	for (int i = 0; b[i] && n < 100; i++)
		merged[n++] = b[i];
	for (int i = 0; i < DYN_MAX_TYPES; i++)
		if (dyns[i])
			merged[n++] = &dyns[i]->t;
	merged[n] = NULL;
	return merged;
}

const void *nfci_dyn_elf(const struct nfc_nf_type *t, int hook, size_t *sz)
{
	struct dyn *d = dyn_of(t);

	if (!d)
		return NULL;
	*sz = d->sz[hook];
	return d->elf[hook];
}

/* ---- BTF: which kind a type is ------------------------------------------ */

static enum dkind kind_of(const struct btf *btf, __u32 id, unsigned *size)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t &&
	       (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t))) {
		const char *n = btf__name_by_offset(btf, t->name_off);

		if (btf_is_typedef(t) && n) {
			if (!strcmp(n, "nfc_mac_t"))
				return *size = 6, DK_MAC;
			if (!strcmp(n, "nfc_ip4_t"))
				return *size = 4, DK_IP4;
			if (!strcmp(n, "nfc_ip6_t"))
				return *size = 16, DK_IP6;
		}
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (!t)
		return DK_NONE;
	if (btf_is_int(t)) {
		*size = t->size;
		if (btf_int_encoding(t) & BTF_INT_BOOL)
			return DK_BOOL;
		/* Signed: a field's value is read and written unsigned, so
		 * `const volatile int d = -3` became 4294967293 (found by a
		 * helper); refused, named by its declaration. */
		if (btf_int_encoding(t) & BTF_INT_SIGNED)
			return DK_NONE;
		if (btf_int_offset(t) || btf_int_bits(t) != t->size * 8 ||
		    (t->size != 1 && t->size != 2 && t->size != 4 &&
		     t->size != 8))
			return DK_NONE;
		return DK_UINT;
	}
	if (btf_is_struct(t)) {
		const char *n = btf__name_by_offset(btf, t->name_off);

		*size = t->size;
		if (n && !strcmp(n, "nfc_lpm4") && t->size == 8)
			return DK_PFX4;
		if (n && !strcmp(n, "nfc_lpm6") && t->size == 20)
			return DK_PFX6;
	}
	return DK_NONE;
}

/* Whether a global's declared type says volatile (through typedefs and
 * const): only such a global is read by the program at run time. */
static bool is_volatile(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	for (;
	     t && (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t));
	     t = btf__type_by_id(btf, t->type))
		if (btf_is_volatile(t))
			return true;
	return false;
}

/* "an" or "a", as the kind is said ("an IPv6 address", "a MAC
 * address"). */
static const char *kind_art(enum dkind k)
{
	return k == DK_UINT || k == DK_IP4 || k == DK_IP6 || k == DK_PFX4 ||
			       k == DK_PFX6
		       ? "an"
		       : "a";
}

static const char *kind_doc(enum dkind k)
{
	switch (k) {
	case DK_UINT:
		return "integer";
	case DK_BOOL:
		return "boolean";
	case DK_MAC:
		return "MAC address";
	case DK_IP4:
		return "IPv4 address";
	case DK_IP6:
		return "IPv6 address";
	case DK_PFX4:
		return "IPv4 prefix";
	case DK_PFX6:
		return "IPv6 prefix";
	default:
		return "?";
	}
}

/* The field a kind is declared as; IPv6 is a string checked here. */
static void field_decl(struct nfc_field *f, const struct dfield *d)
{
	f->name = d->name;
	switch (d->kind) {
	case DK_UINT:
		f->kind = NFC_F_UINT;
		f->min = 0;
		f->max = d->size == 8 ? LLONG_MAX : (1LL << (8 * d->size)) - 1;
		break;
	case DK_BOOL:
		f->kind = NFC_F_BOOL;
		break;
	case DK_MAC:
		f->kind = NFC_F_MAC;
		break;
	case DK_IP4:
		f->kind = NFC_F_IPV4;
		break;
	default:
		f->kind = NFC_F_STRING;
		break;
	}
}

/* ---- values: text <-> bytes --------------------------------------------- */

static int parse_val(const struct dfield *f, json_t *v, void *to)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned long long n;
	long len = 0;

	switch (f->kind) {
	case DK_UINT:
		if (json_is_integer(v))
			n = json_integer_value(v);
		else if (s && *s && *s != '-') {
			errno = 0;
			n = strtoull(s, &slash, 0);
			len = *slash ? -1 : 0;
			if (errno == ERANGE)
				return -ERANGE;
		} else {
			return -EINVAL;
		}
		if (s && len)
			return -EINVAL;
		if (f->size < 8 && n >> (8 * f->size))
			return -ERANGE;
		memcpy(to, &n, f->size); /* little-endian host, as BPF */
		return 0;
	case DK_BOOL:
		*(__u8 *)to = json_is_true(v) ||
			      (s && (!strcmp(s, "true") || !strcmp(s, "1")));
		return 0;
	case DK_MAC:
		return s ? nfc_parse_mac(s, to) : -EINVAL;
	case DK_IP4:
		return s && inet_pton(AF_INET, s, to) == 1 ? 0 : -EINVAL;
	case DK_IP6:
		return s && inet_pton(AF_INET6, s, to) == 1 ? 0 : -EINVAL;
	case DK_PFX4:
	case DK_PFX6: {
		int six = f->kind == DK_PFX6, max = six ? 128 : 32;
		__u8 *a = (__u8 *)to + 4;
		char *end;

		if (!s || strlen(s) >= sizeof(buf))
			return -EINVAL;
		strcpy(buf, s);
		slash = strchr(buf, '/');
		len = max;
		if (slash) {
			*slash = 0;
			len = strtol(slash + 1, &end, 10);
			if (!slash[1] || *end || len < 0 || len > max)
				return -EINVAL;
		}
		if (inet_pton(six ? AF_INET6 : AF_INET, buf, a) != 1)
			return -EINVAL;
		for (int b = len; b < max; b++) /* host bits cleared */
			a[b / 8] &= ~(0x80 >> (b % 8));
		*(__u32 *)to = len;
		return 0;
	}
	default:
		return -EINVAL;
	}
}

static json_t *format_val(const struct dfield *f, const void *p)
{
	char b[INET6_ADDRSTRLEN + 8], m[NFC_MAC_STRLEN];
	unsigned long long n = 0;

	switch (f->kind) {
	case DK_UINT:
		memcpy(&n, p, f->size);
		/* A JSON integer is signed (jansson: 64 bits): above it, the
		 * number as a string, which parse_val reads back. */
		if (n > LLONG_MAX) {
			snprintf(b, sizeof(b), "%llu", n);
			return json_string(b);
		}
		return json_integer((json_int_t)n);
	case DK_BOOL:
		return json_boolean(*(const __u8 *)p);
	case DK_MAC:
		return json_string(nfc_mac_str(p, m));
	case DK_IP4:
		return json_string(inet_ntop(AF_INET, p, b, sizeof(b)));
	case DK_IP6:
		return json_string(inet_ntop(AF_INET6, p, b, sizeof(b)));
	case DK_PFX4:
	case DK_PFX6: {
		size_t l;

		inet_ntop(f->kind == DK_PFX6 ? AF_INET6 : AF_INET,
			  (const __u8 *)p + 4, b, sizeof(b) - 5);
		l = strlen(b);
		snprintf(b + l, sizeof(b) - l, "/%u", *(const __u32 *)p);
		return json_string(b);
	}
	default:
		return json_null();
	}
}

static void text_of(const struct dfield *f, const void *p, char *buf,
		    size_t len)
{
	json_t *v = format_val(f, p);

	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	json_decref(v);
}

/* ---- the callbacks every loaded type shares ------------------------------ */

static struct dyn *dyn_of_nf(const struct nfc_nf *nf)
{
	return dyn_of(nf->nfc->m->nfs[nf->id].type);
}

static int dyn_prepare(struct nfc_nf *nf, struct bpf_object *obj)
{
	struct dyn *d = dyn_of_nf(nf);
	json_t *cfg = nfc_nf_config(nf);

	for (int i = 0; d && i < d->ncfg; i++) {
		json_t *v = json_object_get(cfg, d->cfg[i].name);
		void *at;

		if (!v || json_is_null(v))
			continue;
		if (nfci_rodata_var(obj, d->cfg[i].name, &at, d->cfg[i].size))
			return nfc_nf_error(nf, ENOENT,
					    "its object has no const volatile "
					    "%s",
					    d->cfg[i].name);
		if (parse_val(&d->cfg[i], v, at))
			return nfc_nf_error(
				nf, EINVAL, "config field \'%s\': not %s %s",
				d->cfg[i].name, kind_art(d->cfg[i].kind),
				kind_doc(d->cfg[i].kind));
	}
	return d && d->pt && d->pt->prepare ? d->pt->prepare(nf, obj) : 0;
}

static int dyn_validate(struct nfc_nf *nf, json_t *config)
{
	struct dyn *d = dyn_of_nf(nf);
	__u8 tmp[32];

	for (int i = 0; d && i < d->ncfg; i++) {
		json_t *v = json_object_get(config, d->cfg[i].name);

		if (v && !json_is_null(v) && parse_val(&d->cfg[i], v, tmp))
			return nfc_nf_error(
				nf, EINVAL, "config field \'%s\': not %s %s",
				d->cfg[i].name, kind_art(d->cfg[i].kind),
				kind_doc(d->cfg[i].kind));
	}
	return d && d->pt && d->pt->validate ? d->pt->validate(nf, config) : 0;
}

static int coll_key(struct nfc_nf *nf, const struct dcoll *c, const char *key,
		    void *k)
{
	json_t *s = json_string(key);
	char canon[64];
	int r;

	memset(k, 0, c->key_size);
	r = s ? parse_val(&c->key, s, k) : -ENOMEM;
	json_decref(s);
	if (r == -ERANGE)
		return nfc_nf_error(nf, ERANGE, "%s: key '%s' is out of range",
				    c->name, key);
	if (r)
		return nfc_nf_error(nf, EINVAL, "%s: key '%s' is not %s %s",
				    c->name, key, kind_art(c->key.kind),
				    c->key_doc);
	/* One spelling a key, the one show prints: the model keeps keys as
	 * given, and two spellings of one map key (16 and 0x10,
	 * 198.51.100.1/24 and 198.51.100.0/24) were two model entries for
	 * one in the map, the deleted one back after a restore. */
	text_of(&c->key, k, canon, sizeof(canon));
	if (strcmp(canon, key))
		return nfc_nf_error(nf, EINVAL, "%s: key '%s': write it as %s",
				    c->name, key, canon);
	return 0;
}

/* The collection's map, whose key and value must be the sizes the type
 * declares: entries are read and written through that declaration (a
 * map of other sizes read with it walked its keys forever). */
static int coll_fd(struct nfc_nf *nf, const struct dcoll *c)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	int fd = nfc_nf_map_fd(nf, c->map);

	if (fd < 0)
		return nfc_nf_error(nf, ENOENT, "%s: map %s not found", c->name,
				    c->map);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return nfc_nf_error(nf, errno, "%s: map %s: %s", c->name,
				    c->map, strerror(errno));
	if (info.key_size != c->key_size || info.value_size != c->val_size)
		return nfc_nf_error(nf, EINVAL,
				    "%s: map %s holds %u-byte keys and %u-byte "
				    "values where the type declares %u and %u",
				    c->name, c->map, info.key_size,
				    info.value_size, c->key_size, c->val_size);
	return fd;
}

static int coll_add(int ci, struct nfc_nf *nf, const char *key, json_t *fields)
{
	struct dyn *d = dyn_of_nf(nf);
	const struct dcoll *c = &d->coll[ci];
	__u8 k[64], v[256];
	int fd = coll_fd(nf, c), r;

	if (fd < 0)
		return fd;
	if ((r = coll_key(nf, c, key, k)))
		return r;
	memset(v, 0, sizeof(v));
	for (int i = 0; i < c->nval; i++) {
		json_t *fv = json_object_get(fields, c->val[i].name);

		if (!fv || json_is_null(fv))
			continue;
		if (parse_val(&c->val[i], fv, v + c->val[i].off))
			return nfc_nf_error(nf, EINVAL,
					    "%s %s: \'%s\' is not %s %s",
					    c->name, key, c->val[i].name,
					    kind_art(c->val[i].kind),
					    kind_doc(c->val[i].kind));
	}
	if (bpf_map_update_elem(fd, k, v, BPF_ANY))
		return nfc_nf_error(nf, errno, "%s %s: map %s: %s", c->name,
				    key, c->map, strerror(errno));
	return 0;
}

static int coll_del(int ci, struct nfc_nf *nf, const char *key)
{
	struct dyn *d = dyn_of_nf(nf);
	const struct dcoll *c = &d->coll[ci];
	int fd = coll_fd(nf, c), r;
	__u8 k[64];

	if (fd < 0)
		return fd;
	if ((r = coll_key(nf, c, key, k)))
		return r;
	if (bpf_map_delete_elem(fd, k))
		return errno == ENOENT
			       ? nfc_nf_error(nf, ENOENT,
					      "%s %s: no such entry", c->name,
					      key)
			       : nfc_nf_error(nf, errno, "%s %s: map %s: %s",
					      c->name, key, c->map,
					      strerror(errno));
	return 0;
}

static int coll_list(int ci, struct nfc_nf *nf, json_t *out)
{
	struct dyn *d = dyn_of_nf(nf);
	const struct dcoll *c = &d->coll[ci];
	__u8 k[64], next[64], v[256];
	int fd = coll_fd(nf, c);
	void *prev = NULL;
	char ks[64];

	if (fd < 0)
		return fd;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		json_t *e;

		memcpy(k, next, c->key_size);
		prev = k;
		if (bpf_map_lookup_elem(fd, k, v))
			continue;
		text_of(&c->key, k, ks, sizeof(ks));
		e = json_pack("{s:s}", "key", ks);
		for (int i = 0; i < c->nval; i++)
			json_object_set_new(
				e, c->val[i].name,
				format_val(&c->val[i], v + c->val[i].off));
		json_array_append_new(out, e);
	}
	return 0;
}

static int coll_chk(int ci, struct nfc_nf *nf, const char *key)
{
	__u8 k[64];

	return coll_key(nf, &dyn_of_nf(nf)->coll[ci], key, k);
}

/* One set of callbacks a collection index: they are told no collection. */
#define COLL_FNS(i)                                                       \
	static int add_##i(struct nfc_nf *nf, const char *key, json_t *f) \
	{                                                                 \
		return coll_add(i, nf, key, f);                           \
	}                                                                 \
	static int del_##i(struct nfc_nf *nf, const char *key)            \
	{                                                                 \
		return coll_del(i, nf, key);                              \
	}                                                                 \
	static int list_##i(struct nfc_nf *nf, json_t *out)               \
	{                                                                 \
		return coll_list(i, nf, out);                             \
	}                                                                 \
	static int check_##i(struct nfc_nf *nf, const char *key)          \
	{                                                                 \
		return coll_chk(i, nf, key);                              \
	}
COLL_FNS(0)
COLL_FNS(1)
COLL_FNS(2)
COLL_FNS(3)
COLL_FNS(4)
COLL_FNS(5)
COLL_FNS(6)
COLL_FNS(7)
#define COLL_ENT(i)                                               \
	{                                                         \
		.add = add_##i, .del = del_##i, .list = list_##i, \
		.check_key = check_##i                            \
	}
static const struct nfc_collection coll_fns[DYN_MAX_COLLS] = {
	COLL_ENT(0), COLL_ENT(1), COLL_ENT(2), COLL_ENT(3),
	COLL_ENT(4), COLL_ENT(5), COLL_ENT(6), COLL_ENT(7),
};

/* ---- reading an object ----------------------------------------------------
 */

static int fail(char *err, size_t len, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t len, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -e;
}

static int read_file(const char *path, void **data, size_t *sz, char *err,
		     size_t len)
{
	struct stat st;
	FILE *f;
	long n;

	/* Never a FIFO or a device: a daemon must not block on a path. */
	if (stat(path, &st))
		return fail(err, len, errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size > (64 << 20))
		return fail(err, len, EINVAL,
			    "%s: not a regular file of at most 64 MB", path);
	f = fopen(path, "rb");
	if (!f)
		return fail(err, len, errno, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*sz = 0;
	if (n == 0) {
		fclose(f);
		return fail(err, len, EINVAL, "%s: an empty file", path);
	}
	*data = n > 0 ? malloc(n) : NULL;
	if (!*data || fread(*data, 1, n, f) != (size_t)n) {
		free(*data);
		*data = NULL;
		fclose(f);
		return fail(err, len, EINVAL, "%s: cannot read it", path);
	}
	fclose(f);
	*sz = n;
	return 0;
}

/* A global that is not const volatile (.bss, .data) is refused: each
 * `set` of a config field and each upgrade loads the program again, with
 * new internal maps, and it went back to its initial value without a
 * word (found by a helper: a counter in one). State that lasts lives in
 * a map. */
static int refuse_plain_globals(struct bpf_object *obj, const char *file,
				char *err, size_t len)
{
	struct btf *btf = bpf_object__btf(obj);
	__u32 n = btf__type_cnt(btf);

	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *sec = btf__type_by_id(btf, id);
		const char *sn = btf__name_by_offset(btf, sec->name_off);
		const struct btf_var_secinfo *vs = btf_var_secinfos(sec);

		if (!btf_is_datasec(sec) ||
		    (strncmp(sn, ".bss", 4) && strncmp(sn, ".data", 5)))
			continue;
		for (int i = 0; i < btf_vlen(sec); i++, vs++) {
			const struct btf_type *v =
				btf__type_by_id(btf, vs->type);
			const char *name =
				btf__name_by_offset(btf, v->name_off);

			if (!btf_is_var(v) || !strncmp(name, "nfc_", 4))
				continue;
			return fail(err, len, EINVAL,
				    "%s: global '%s' (%s) is not const "
				    "volatile: the program is loaded again at "
				    "each set and upgrade and it would start "
				    "over; keep such state in a map",
				    file, name, sn);
		}
	}
	return 0;
}

static int read_config(struct dyn *d, struct bpf_object *obj, const char *file,
		       char *err, size_t len)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	int r = refuse_plain_globals(obj, file, err, len);

	if (r)
		return r;
	if (id < 0)
		return 0;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);
		const char *name = btf__name_by_offset(btf, v->name_off);
		struct dfield *f = &d->cfg[d->ncfg];
		void *at;

		/* A plain const (a lookup table, a constant) is folded by
		 * the compiler or only read: no field. It was offered as
		 * one, and setting it changed nothing (found by a helper). */
		if (!btf_is_var(v) || !strncmp(name, "nfc_", 4) ||
		    !is_volatile(btf, v->type))
			continue;
		if (d->ncfg == DYN_MAX_FIELDS)
			return fail(err, len, E2BIG,
				    "%s: more than %d config globals", file,
				    DYN_MAX_FIELDS);
		snprintf(f->name, sizeof(f->name), "%s", name);
		/* `set mode=` moves the NF to another hook */
		if (!strcmp(name, "mode"))
			return fail(err, len, EINVAL,
				    "%s: config global 'mode': the name is the "
				    "NF's hook (set mode=xdp|tc ...)",
				    file);
		f->kind = kind_of(btf, v->type, &f->size);
		if (f->kind == DK_NONE || f->kind == DK_PFX4 ||
		    f->kind == DK_PFX6)
			return fail(
				err, len, EINVAL,
				"%s: config global '%s': its type is not "
				"an unsigned integer (__u8 .. __u64), bool, "
				"nfc_mac_t, nfc_ip4_t or nfc_ip6_t",
				file, name);
		if (nfci_rodata_var(obj, name, &at, f->size))
			continue;
		/* A field's numbers are JSON integers, signed 64-bit (jansson):
		 * a default above them loaded a type no NF could be added
		 * of (found by a helper). */
		if (f->kind == DK_UINT && f->size == 8) {
			unsigned long long v;

			memcpy(&v, at, sizeof(v));
			if (v > LLONG_MAX)
				return fail(err, len, ERANGE,
					    "%s: config global '%s': its "
					    "default %llu is above %lld, the "
					    "largest value a field takes",
					    file, name, v, LLONG_MAX);
		}
		text_of(f, at, d->cfg_def[d->ncfg], sizeof(d->cfg_def[0]));
		snprintf(d->cfg_doc[d->ncfg], sizeof(d->cfg_doc[0]),
			 "%s; const volatile %s of the object",
			 kind_doc(f->kind), name);
		field_decl(&d->config[d->ncfg], f);
		d->config[d->ncfg].flags = NFC_FIELD_RELOAD;
		d->config[d->ncfg].def = d->cfg_def[d->ncfg];
		d->config[d->ncfg].doc = d->cfg_doc[d->ncfg];
		d->ncfg++;
	}
	return 0;
}

static int read_value(struct dcoll *c, const struct btf *btf, __u32 id,
		      const char *file, char *err, size_t len)
{
	const struct btf_type *t;
	unsigned size;
	__u32 rid = btf__resolve_type(btf, id);

	c->val[0].kind = kind_of(btf, id, &size);
	if (c->val[0].kind != DK_NONE) {
		snprintf(c->val[0].name, sizeof(c->val[0].name), "value");
		c->val[0].size = size;
		c->nval = 1;
		return 0;
	}
	t = btf__type_by_id(btf, rid);
	if (!t || !btf_is_struct(t))
		return fail(err, len, EINVAL,
			    "%s: map %s: its value is neither a supported "
			    "scalar nor a struct of them",
			    file, c->map);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = btf_members(t) + i;
		struct dfield *f = &c->val[c->nval];

		if (c->nval == DYN_MAX_FIELDS || btf_member_bitfield_size(t, i))
			return fail(err, len, EINVAL,
				    "%s: map %s: more than %d value members, "
				    "or a bit field",
				    file, c->map, DYN_MAX_FIELDS);
		snprintf(f->name, sizeof(f->name), "%s",
			 btf__name_by_offset(btf, m->name_off));
		f->kind = kind_of(btf, m->type, &f->size);
		f->off = btf_member_bit_offset(t, i) / 8;
		if (f->kind == DK_NONE || f->kind == DK_PFX4 ||
		    f->kind == DK_PFX6 || !f->name[0])
			return fail(err, len, EINVAL,
				    "%s: map %s: value member '%s' is not an "
				    "unsigned integer, bool, nfc_mac_t, "
				    "nfc_ip4_t or nfc_ip6_t",
				    file, c->map, f->name);
		/* show lists an entry as {key, members...} */
		if (!strcmp(f->name, "key"))
			return fail(err, len, EINVAL,
				    "%s: map %s: a value member cannot be "
				    "named 'key' (show names the entry's key "
				    "so)",
				    file, c->map);
		c->nval++;
	}
	return 0;
}

/* Words the CLI reads after an NF's name: no collection may be one. */
static int coll_word(const char *n)
{
	static const char *const w[] = {"ports", "stats",   "show",
					"set",	 "del",	    "dump",
					"add",	 "upgrade", NULL};

	for (int i = 0; w[i]; i++)
		if (!strcmp(n, w[i]))
			return 1;
	return 0;
}

static int read_colls(struct dyn *d, struct bpf_object *obj, const char *file,
		      char *err, size_t len)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	int r;

	bpf_object__for_each_map (map, obj) {
		const char *mn = bpf_map__name(map);
		enum bpf_map_type mt = bpf_map__type(map);
		struct dcoll *c = &d->coll[d->ncoll];
		unsigned ks;

		if (strncmp(mn, COLL_PREFIX, strlen(COLL_PREFIX)))
			continue;
		if (d->ncoll == DYN_MAX_COLLS)
			return fail(err, len, E2BIG,
				    "%s: more than %d coll_ maps", file,
				    DYN_MAX_COLLS);
		snprintf(c->map, sizeof(c->map), "%s", mn);
		snprintf(c->name, sizeof(c->name), "%s",
			 mn + strlen(COLL_PREFIX));
		if (!c->name[0] || nfc_name_reserved(c->name, 0) ||
		    coll_word(c->name))
			return fail(err, len, EINVAL,
				    "%s: map %s: '%s' cannot name a collection",
				    file, mn, c->name);
		if (mt != BPF_MAP_TYPE_HASH && mt != BPF_MAP_TYPE_LRU_HASH &&
		    mt != BPF_MAP_TYPE_LPM_TRIE)
			return fail(err, len, EINVAL,
				    "%s: map %s: a collection is a hash, LRU "
				    "hash or LPM trie map, not %s",
				    file, mn,
				    libbpf_bpf_map_type_str(mt) ?: "this type");
		if (!btf || !bpf_map__btf_key_type_id(map) ||
		    !bpf_map__btf_value_type_id(map))
			return fail(err, len, EINVAL,
				    "%s: map %s: no BTF key/value types "
				    "(declare it with __type(key, ...) and "
				    "__type(value, ...))",
				    file, mn);
		c->key.kind = kind_of(btf, bpf_map__btf_key_type_id(map), &ks);
		c->key.size = ks;
		c->key_size = bpf_map__key_size(map);
		c->val_size = bpf_map__value_size(map);
		if (c->key.kind == DK_NONE || c->key.kind == DK_BOOL ||
		    c->key_size > 64 || c->key_size != ks)
			return fail(
				err, len, EINVAL,
				"%s: map %s: unsupported key type for a "
				"collection (an unsigned integer, nfc_mac_t, "
				"nfc_ip4_t, nfc_ip6_t, struct nfc_lpm4 or "
				"struct nfc_lpm6)",
				file, mn);
		if ((mt == BPF_MAP_TYPE_LPM_TRIE) !=
		    (c->key.kind == DK_PFX4 || c->key.kind == DK_PFX6))
			return fail(err, len, EINVAL,
				    "%s: map %s: a prefix key (struct "
				    "nfc_lpm4/6) goes with an LPM trie, and "
				    "an LPM trie with a prefix key",
				    file, mn);
		c->map_type = mt;
		if (c->val_size > 256)
			return fail(err, len, E2BIG,
				    "%s: map %s: values over 256 bytes", file,
				    mn);
		r = read_value(c, btf, bpf_map__btf_value_type_id(map), file,
			       err, len);
		if (r)
			return r;
		snprintf(c->key_doc, sizeof(c->key_doc), "%s",
			 kind_doc(c->key.kind));
		for (int i = 0; i < c->nval; i++) {
			field_decl(&c->fields[i], &c->val[i]);
			if (c->val[i].kind == DK_UINT ||
			    c->val[i].kind == DK_BOOL) {
				snprintf(c->defs[i], sizeof(c->defs[i]), "%s",
					 c->val[i].kind == DK_UINT ? "0"
								   : "false");
				c->fields[i].def = c->defs[i];
			} else {
				c->fields[i].flags = NFC_FIELD_REQUIRED;
			}
			c->fields[i].doc = kind_doc(c->val[i].kind);
		}
		d->colls[d->ncoll] = coll_fns[d->ncoll];
		d->colls[d->ncoll].name = c->name;
		d->colls[d->ncoll].key_doc = c->key_doc;
		d->colls[d->ncoll].fields = c->fields;
		d->ncoll++;
	}
	return 0;
}

/* Opens one object: which hook it is for, and that it has the contract. */
static int open_obj(const void *elf, size_t sz, const char *file,
		    struct bpf_object **out, int *hook, char *err, size_t len)
{
	/* libbpf names the object in its messages: the file's name. */
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = base);
	struct bpf_program *p;
	struct bpf_object *obj;
	void *at;

	bpflog_reset();
	obj = bpf_object__open_mem(elf, sz, &oo);
	if (!obj) {
		char why[128];
		const char *last = bpflog_last();

		/* libbpf's own codes (4001: not an ELF of BPF) have no
		 * strerror text; its last word says more ("BTF is
		 * required" for an object built without -g), and then its
		 * code only misleads (ENOENT: "No such file or directory"
		 * of a file that is there; found by a helper). */
		libbpf_strerror(errno, why, sizeof(why));
		return fail(err, len, EINVAL,
			    "%s: not a BPF object libbpf can open (%s%s)", file,
			    last[0] ? "libbpf: " : "", last[0] ? last : why);
	}
	p = bpf_object__find_program_by_name(obj, "nfc_entry");
	if (!p || nfci_rodata_var(obj, "nfc_self", &at, 4) ||
	    !bpf_object__find_map_by_name(obj, "nfc_progs")) {
		bpf_object__close(obj);
		return fail(err, len, EINVAL,
			    "%s: no nfchain contract in it (no nfc_entry "
			    "program or nfc_self): include "
			    "<nfchain/nfchain.bpf.h> and name the NF's "
			    "function with NFC_NF()",
			    file);
	}
	if (bpf_program__type(p) == BPF_PROG_TYPE_XDP)
		*hook = HOOK_XDP;
	else if (bpf_program__type(p) == BPF_PROG_TYPE_SCHED_CLS)
		*hook = HOOK_TC;
	else {
		bpf_object__close(obj);
		return fail(err, len, EINVAL,
			    "%s: nfc_entry is neither XDP nor TC", file);
	}
	*out = obj;
	return 0;
}

/* A load into a throwaway set of maps: the verifier's word now, not at the
 * first `add`. */
static int verify(const void *elf, size_t sz, const char *file, char *err,
		  size_t len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "nfc_check");
	struct bpf_object *obj = bpf_object__open_mem(elf, sz, &oo);
	struct bpf_map *m;
	int r;

	if (!obj)
		return fail(err, len, EINVAL, "%s: cannot open it", file);
	/* The shared maps only stand in: keep the big ones small. */
	bpf_object__for_each_map (m, obj)
		if (bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF)
			bpf_map__set_max_entries(m, 4096);
	bpflog_install();
	bpflog_reset();
	r = bpf_object__load(obj);
	if (r)
		r = fail(err, len, -r, "%s: the kernel refused its program: %s",
			 file, bpflog_tail());
	bpf_object__close(obj);
	return r;
}

static void dyn_free(struct dyn *d)
{
	if (!d)
		return;
	free(d->elf[0]);
	free(d->elf[1]);
	if (d->dl)
		dlclose(d->dl);
	free(d);
}

/* Opens a plugin and checks what it declares before anything uses it. */
static int open_plugin(struct dyn *d, const char *path, char *err, size_t len)
{
	const struct nfc_plugin *pl;
	const struct nfc_nf_type *t;
	struct stat st;

	if (stat(path, &st))
		return fail(err, len, errno, "plugin %s: %s", path,
			    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, len, EINVAL, "plugin %s: not a regular file",
			    path);
	/* RTLD_NOW: a symbol the daemon lacks is an error now, not a crash
	 * at the first call. */
	d->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!d->dl)
		return fail(err, len, EINVAL,
			    "plugin %s: cannot load it as a shared object: %s",
			    path, dlerror());
	pl = dlsym(d->dl, NFC_PLUGIN_SYMBOL);
	if (!pl)
		return fail(err, len, EINVAL,
			    "plugin %s: no symbol '%s': declare the type with "
			    "NFC_PLUGIN(type) (nfchain/nf.h)",
			    path, NFC_PLUGIN_SYMBOL);
	if (pl->abi != NFC_PLUGIN_ABI ||
	    pl->type_size != sizeof(struct nfc_nf_type))
		return fail(err, len, EPROTO,
			    "plugin %s: built for nfchain plugin ABI %u (type "
			    "of %u bytes), this nfchaind has ABI %u (%zu "
			    "bytes): rebuild it against this SDK",
			    path, pl->abi, pl->type_size, NFC_PLUGIN_ABI,
			    sizeof(struct nfc_nf_type));
	t = pl->type;
	if (!t)
		return fail(err, len, EINVAL, "plugin %s: its type is NULL",
			    path);
	if (t->max_ports > NFC_MAX_PORTS)
		return fail(err, len, EINVAL,
			    "plugin %s: max_ports %u, at most %d", path,
			    t->max_ports, NFC_MAX_PORTS);
	for (const struct nfc_field *f = t->config; f && f->name; f++)
		if (!nfc_field_reloads(f) && !(f->flags & NFC_FIELD_LIVE) &&
		    !t->configure)
			return fail(err, len, EINVAL,
				    "plugin %s: config field '%s' is neither "
				    "NFC_FIELD_RELOAD nor LIVE and the type "
				    "has no configure()",
				    path, f->name);
	for (const struct nfc_collection *c = t->collections; c && c->name; c++)
		if (!c->add || !c->del || !c->list || !c->fields)
			return fail(err, len, EINVAL,
				    "plugin %s: collection '%s' lacks add, "
				    "del, list or fields",
				    path, c->name);
	for (const struct nfc_stat *s = t->stats_doc; s && s->name; s++)
		if (nfci_stat_reserved(s->name))
			return fail(err, len, EINVAL,
				    "plugin %s: stat '%s' is a figure of "
				    "the framework's own (every NF has it): "
				    "name the type's figure otherwise",
				    path, s->name);
	d->pt = t;
	return 0;
}

/* A plugin config field named as an integer global of the object is
 * written into it with the global's width: its kind and range must fit.
 * A field of 0..1000 over a __u8 loaded, and every add of the type then
 * failed with "not an integer" (found by a helper). */
static int plugin_fields_fit(const struct dyn *d, const char *path, char *err,
			     size_t len)
{
	for (const struct nfc_field *f = d->pt->config; f && f->name; f++)
		for (int i = 0; i < d->ncfg; i++) {
			const struct dfield *g = &d->cfg[i];
			unsigned long long top =
				g->size >= 8 ? (unsigned long long)LLONG_MAX
					     : (1ULL << (8 * g->size)) - 1;

			if (strcmp(g->name, f->name) || g->kind != DK_UINT)
				continue;
			if (f->kind != NFC_F_UINT && f->kind != NFC_F_BOOL)
				return fail(err, len, EINVAL,
					    "plugin %s: config field '%s' is "
					    "not an integer, but the object's "
					    "global '%s' is one",
					    path, f->name, g->name);
			if (f->kind == NFC_F_UINT &&
			    (f->min < 0 || (unsigned long long)f->max > top))
				return fail(err, len, EINVAL,
					    "plugin %s: config field '%s' "
					    "ranges %lld..%lld, but the "
					    "object's %u-byte global '%s' "
					    "holds 0..%llu",
					    path, f->name, f->min, f->max,
					    g->size, g->name, top);
		}
	return 0;
}

/* The type a plugin makes: its declaration and callbacks, the object's
 * BTF-read config and collections where it declares none; prepare and
 * validate run the BTF-read part first (dyn_prepare, dyn_validate). */
static void plugin_type(struct dyn *d)
{
	const struct nfc_nf_type *p = d->pt;

	size_t n = strlen(d->summary);

	/* "loaded type (xdp, tc)" -> "loaded type (xdp, tc, plugin): ..." */
	if (n && d->summary[n - 1] == ')')
		snprintf(d->summary + n - 1, sizeof(d->summary) - n + 1,
			 ", plugin)%s%.80s", p->summary ? ": " : "",
			 p->summary ? p->summary : "");
	d->t.flags |= p->flags & NFC_TYPE_TRANSPARENT;
	if (p->max_ports)
		d->t.max_ports = p->max_ports;
	d->t.port_names = p->port_names;
	if (p->config)
		d->t.config = p->config;
	d->t.port_config = p->port_config;
	if (p->collections)
		d->t.collections = p->collections;
	d->t.stats_doc = p->stats_doc;
	d->t.configure = p->configure;
	d->t.packet_in = p->packet_in;
	d->t.tick = p->tick;
	d->t.stats = p->stats;
	d->t.destroy = p->destroy;
	d->t.removed = p->removed;
	d->t.changed = p->changed;
	d->t.port_down = p->port_down;
}

/* Two objects must declare alike: one type whatever the hook. */
/* The same name, kind and size, and for a member the same place: the
 * daemon writes a global by its name but an entry's members through the
 * type's declaration (two members swapped, of the same names and sizes,
 * had a `drop=true` written where the new program reads a weight). */
static int same_field(const struct dfield *a, const struct dfield *b,
		      int member)
{
	return !strcmp(a->name, b->name) && a->kind == b->kind &&
	       a->size == b->size && (!member || a->off == b->off);
}

static const struct dfield *field_named(const struct dfield *f, int n,
					const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

/* The first difference between field lists a (the type's) and b (the
 * object's) into why; 0 if none. `what` is "config global" or "member". */
static int fields_differ(const struct dfield *a, int na, const struct dfield *b,
			 int nb, int member, const char *what, char *why,
			 size_t len)
{
	for (int i = 0; i < na; i++) {
		const struct dfield *o = field_named(b, nb, a[i].name);

		if (!o) {
			snprintf(why, len, "%s '%s' is gone", what, a[i].name);
			return 1;
		}
		if (!same_field(&a[i], o, member)) {
			snprintf(why, len, "%s '%s' changed its %s", what,
				 a[i].name,
				 a[i].kind != o->kind || a[i].size != o->size
					 ? "kind or size"
					 : "place in the entry");
			return 1;
		}
	}
	for (int i = 0; i < nb; i++)
		if (!field_named(a, na, b[i].name)) {
			snprintf(why, len, "%s '%s' is new", what, b[i].name);
			return 1;
		}
	return 0;
}

/* Whether a (the type) and b (an object) declare alike; if not, the
 * first difference, named, into why. */
static int same_decl(const struct dyn *a, const struct dyn *b, char *why,
		     size_t len)
{
	char in[160];

	if (fields_differ(a->cfg, a->ncfg, b->cfg, b->ncfg, 0, "config global",
			  why, len))
		return 0;
	for (int i = 0; i < a->ncoll; i++) {
		const struct dcoll *x = &a->coll[i], *y = NULL;

		for (int j = 0; j < b->ncoll && !y; j++)
			if (!strcmp(a->coll[i].name, b->coll[j].name))
				y = &b->coll[j];
		if (!y) {
			snprintf(why, len, "collection '%s' is gone", x->name);
			return 0;
		}
		if (strcmp(x->map, y->map) || x->map_type != y->map_type) {
			snprintf(why, len,
				 "collection '%s' changed its map (name or "
				 "map type)",
				 x->name);
			return 0;
		}
		if (!same_field(&x->key, &y->key, 1) ||
		    x->key_size != y->key_size) {
			snprintf(why, len, "collection '%s' changed its key",
				 x->name);
			return 0;
		}
		snprintf(in, sizeof(in), "collection '%s': member", x->name);
		if (fields_differ(x->val, x->nval, y->val, y->nval, 1, in, why,
				  len))
			return 0;
		if (x->val_size != y->val_size) {
			snprintf(why, len,
				 "collection '%s' changed its value size "
				 "(%u to %u bytes)",
				 x->name, x->val_size, y->val_size);
			return 0;
		}
	}
	/* Alike by name but declared in another order: still refused, as
	 * the type speaks of them by their place. */
	for (int i = 0; i < a->ncfg; i++)
		if (strcmp(a->cfg[i].name, b->cfg[i].name)) {
			snprintf(
				why, len,
				"config global '%s' moved: declare them in the "
				"type's order",
				a->cfg[i].name);
			return 0;
		}
	for (int j = 0; j < b->ncoll; j++) {
		int found = 0;

		for (int i = 0; i < a->ncoll; i++)
			found |= !strcmp(a->coll[i].name, b->coll[j].name);
		if (!found) {
			snprintf(why, len, "collection '%s' is new",
				 b->coll[j].name);
			return 0;
		}
	}
	for (int i = 0; i < a->ncoll; i++)
		if (strcmp(a->coll[i].name, b->coll[i].name)) {
			snprintf(why, len,
				 "collection '%s' moved: declare them in the "
				 "type's order",
				 a->coll[i].name);
			return 0;
		}
	return 1;
}

/* An upgrade of an NF of a loaded type: the new object must declare what
 * the type does (the CLI, the API and the saved entries speak that
 * declaration), for the NF's hook. Not a loaded type: 0. */
int nfci_dyn_check_upgrade(const struct nfc_nf_type *t, int hook,
			   const char *path, char *err, size_t len)
{
	struct dyn *d = dyn_of(t), *tmp;
	struct bpf_object *obj = NULL;
	void *data = NULL;
	size_t sz = 0;
	int r, h = 0;
	char why[256];

	if (!d)
		return 0;
	tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		return fail(err, len, ENOMEM, "out of memory");
	r = read_file(path, &data, &sz, err, len);
	if (!r)
		r = open_obj(data, sz, path, &obj, &h, err, len);
	if (!r && h != hook)
		r = fail(err, len, EINVAL,
			 "the object is %s build and the NF runs in the %s "
			 "hook: give the %s build",
			 h == HOOK_TC ? "a TC" : "an XDP",
			 hook == HOOK_TC ? "TC" : "XDP",
			 hook == HOOK_TC ? "TC" : "XDP");
	if (!r)
		r = read_config(tmp, obj, path, err, len);
	if (!r)
		r = read_colls(tmp, obj, path, err, len);
	if (!r && !same_decl(d, tmp, why, sizeof(why)))
		r = fail(err, len, EINVAL,
			 "the object declares other config globals or "
			 "collections than type %s (%s): load it as a new "
			 "type",
			 d->name, why);
	if (obj)
		bpf_object__close(obj);
	free(data);
	free(tmp);
	return r;
}

int nfc_type_register(const char *name, const char *obj1, const char *obj2,
		      char *err, size_t len)
{
	return nfc_type_register_plugin(name, obj1, obj2, NULL, err, len);
}

int nfc_type_register_plugin(const char *name, const char *obj1,
			     const char *obj2, const char *plugin, char *err,
			     size_t len)
{
	const char *files[2] = {obj1, obj2};
	struct dyn *d = NULL, *tmp = NULL;
	int slot = -1, r = 0;
	size_t at;
	char why[256];

	err[0] = 0;
	if (!name || nfc_name_check(name, &at) != NFC_NAME_OK ||
	    nfc_name_reserved(name, 0))
		return fail(err, len, EINVAL,
			    "type name '%s': 1-31 of [A-Za-z0-9_-], not a "
			    "command word",
			    name ? name : "");
	if (nfci_type_find(name))
		return fail(err, len, EEXIST, "type '%s' exists already", name);
	for (int i = 0; i < DYN_MAX_TYPES; i++)
		if (!dyns[i]) {
			slot = i;
			break;
		}
	if (slot < 0)
		return fail(err, len, ENOSPC, "%d loaded types already",
			    DYN_MAX_TYPES);
	d = calloc(1, sizeof(*d));
	tmp = calloc(1, sizeof(*tmp));
	if (!d || !tmp) {
		r = fail(err, len, ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < 2 && files[i]; i++) {
		struct bpf_object *obj = NULL;
		struct dyn *into = d->elf[0] || d->elf[1] ? tmp : d;
		void *data = NULL;
		size_t sz = 0;
		int hook = 0;

		r = read_file(files[i], &data, &sz, err, len);
		if (r)
			goto out;
		r = open_obj(data, sz, files[i], &obj, &hook, err, len);
		if (r) {
			free(data);
			goto out;
		}
		if (d->elf[hook]) {
			bpf_object__close(obj);
			free(data);
			r = fail(err, len, EINVAL,
				 "%s and %s are both %s objects: give one "
				 "XDP and one TC build",
				 files[0], files[1], hook ? "TC" : "XDP");
			goto out;
		}
		r = read_config(into, obj, files[i], err, len);
		if (!r)
			r = read_colls(into, obj, files[i], err, len);
		bpf_object__close(obj);
		if (!r && into == tmp && !same_decl(d, tmp, why, sizeof(why)))
			r = fail(err, len, EINVAL,
				 "%s and %s declare different config globals "
				 "or collections (%s): build both from one "
				 "source",
				 files[0], files[1], why);
		if (!r)
			r = verify(data, sz, files[i], err, len);
		d->elf[hook] = data;
		d->sz[hook] = sz;
		if (r)
			goto out;
	}
	if (plugin && ((r = open_plugin(d, plugin, err, len)) ||
		       (r = plugin_fields_fit(d, plugin, err, len))))
		goto out;
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->summary, sizeof(d->summary), "loaded type (%s%s%s)",
		 d->elf[HOOK_XDP] ? "xdp" : "",
		 d->elf[HOOK_XDP] && d->elf[HOOK_TC] ? ", " : "",
		 d->elf[HOOK_TC] ? "tc" : "");
	d->t.name = d->name;
	d->t.summary = d->summary;
	d->t.flags = (d->elf[HOOK_XDP] ? 0 : NFC_TYPE_NO_XDP) |
		     (d->elf[HOOK_TC] ? 0 : NFC_TYPE_NO_TC);
	d->t.max_ports = NFC_MAX_PORTS;
	d->t.config = d->config;
	d->t.collections = d->ncoll ? d->colls : NULL;
	d->t.prepare = dyn_prepare;
	d->t.validate = dyn_validate;
	if (d->pt)
		plugin_type(d);
	dyns[slot] = d;
	d = NULL;
out:
	dyn_free(d);
	free(tmp);
	return r;
}

static int unregister(struct nfc *nfc, const char *name)
{
	const struct nfc_nf_type *t = nfci_type_find(name);
	struct dyn *d = t ? dyn_of(t) : NULL;

	if (!t)
		return nfci_err(nfc, ENOENT, "no NF type '%s'", name);
	if (!d)
		return nfci_err(nfc, EOPNOTSUPP,
				"type '%s' is built in: only a loaded type "
				"can be unloaded",
				name);
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (nfc->m->nfs[i].used && nfc->m->nfs[i].type == t)
			return nfci_err(nfc, EBUSY,
					"type '%s': NF %s is of this type; "
					"delete it first",
					name, nfc->m->nfs[i].name);
	for (int i = 0; i < DYN_MAX_TYPES; i++)
		if (dyns[i] == d)
			dyns[i] = NULL;
	dyn_free(d);
	return 0;
}

int nfc_type_loaded(const char *name)
{
	const struct nfc_nf_type *t = nfci_type_find(name);

	return t && dyn_of(t);
}

int nfc_type_unregister(struct nfc *nfc, const char *name)
{
	int r = nfci_begin_ro(nfc);

	if (r)
		return r;
	r = unregister(nfc, name);
	nfci_end(nfc);
	return r;
}

int nfc_object_check(const char *file, char *err, size_t len)
{
	struct bpf_object *obj = NULL;
	void *data = NULL;
	size_t sz = 0;
	int hook, r = read_file(file, &data, &sz, err, len);

	if (!r)
		r = open_obj(data, sz, file, &obj, &hook, err, len);
	if (obj)
		bpf_object__close(obj);
	free(data);
	return r;
}
