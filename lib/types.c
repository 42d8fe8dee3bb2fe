// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The registry of NF types and the generic checking of declared fields. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "internal.h"

#define NFC_TYPE(n) extern const struct nfc_nf_type nf_type_##n;
#include "list.h"
#undef NFC_TYPE

static const struct nfc_nf_type *const all_types[] = {
#define NFC_TYPE(n) &nf_type_##n,
#include "list.h"
#undef NFC_TYPE
	NULL,
};

const struct nfc_nf_type *const *nfci_type_all(void)
{
	return nfci_dyn_all(all_types); /* and the loaded ones (dyntype.c) */
}

/* The built-in types' embedded objects (9 MB of the binary's read-only
 * data) are read when an NF is loaded, and parts of them at start: their
 * pages stayed in the daemon's RSS, ~1.4 MB of an idle daemon's 9-10.
 * Given back here; a later load reads them again from the page cache. */
void nfc_release_embedded(void)
{
	long pg = sysconf(_SC_PAGESIZE);

	for (int i = 0; all_types[i]; i++) {
		const void *(*elf[2])(size_t *) = {all_types[i]->elf_xdp,
						   all_types[i]->elf_tc};

		for (int h = 0; h < 2; h++) {
			size_t sz = 0;
			uintptr_t a, b;
			const void *p = elf[h] ? elf[h](&sz) : NULL;

			if (!p || pg <= 0)
				continue;
			/* Whole pages inside the object only: its neighbours
			 * may be data in use. */
			a = ((uintptr_t)p + pg - 1) & ~(uintptr_t)(pg - 1);
			b = ((uintptr_t)p + sz) & ~(uintptr_t)(pg - 1);
			if (b > a)
				(void)madvise((void *)a, b - a, MADV_DONTNEED);
		}
	}
}

const struct nfc_nf_type *nfci_type_find(const char *name)
{
	const struct nfc_nf_type *const *all = nfci_type_all();

	for (int i = 0; name && all[i]; i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

const struct nfc_field *nfci_field_find(const struct nfc_field *f,
					const char *name)
{
	for (; f && f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

/* A key that is no field stays, for the check to refuse (a typo as
 * "arp_timout=" passed as an unset). */
void nfci_fields_unset(json_t *merged, json_t *changes,
		       const struct nfc_field *fields)
{
	const char *key;
	json_t *v;

	json_object_foreach (changes, key, v)
		if ((json_is_null(v) ||
		     (json_is_string(v) && !*json_string_value(v))) &&
		    nfci_field_find(fields, key))
			json_object_del(merged, key);
}

const struct nfc_collection *nfci_coll_find(const struct nfc_nf_type *t,
					    const char *name)
{
	for (const struct nfc_collection *c = t->collections; c && c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int mode_hook(const char *mode)
{
	if (!strcmp(mode, "xdp") || !strcmp(mode, "xdp-generic"))
		return HOOK_XDP;
	if (!strcmp(mode, "tc"))
		return HOOK_TC;
	return -1;
}

int mode_runs(const struct nfc_nf_type *t, const char *mode)
{
	int hook;

	if (!strcmp(mode, "auto"))
		return 1;
	hook = mode_hook(mode);
	if (hook < 0)
		return -1;
	return !((hook == HOOK_XDP && (t->flags & NFC_TYPE_NO_XDP)) ||
		 (hook == HOOK_TC && (t->flags & NFC_TYPE_NO_TC)));
}

static int parse_uint(const char *s, long long *v)
{
	char *end;

	/* Digits only: strtoll also skips leading blanks (' 5' was taken,
	 * '5 ' refused). */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return (*end || errno) ? -EINVAL : 0;
}

/* One value: returns a new normalized JSON value, or NULL with the error
 * set. Strings are accepted for every kind so that key=value input works
 * without knowing the schema. */
static json_t *field_value(struct nfc *nfc, const char *owner,
			   const struct nfc_field *f, json_t *v,
			   const struct nfc_nf *nf)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	char buf[64];
	long long n;

	switch (f->kind) {
	case NFC_F_UINT:
		if (json_is_integer(v))
			n = json_integer_value(v);
		else if (!s)
			goto bad_type;
		else if (parse_uint(s, &n)) {
			/* Typed as `weight=-1`: say what is wanted. */
			nfci_err(nfc, EINVAL,
				 "%s: field '%s': '%s' is not a number in "
				 "%lld..%lld",
				 owner, f->name, s, f->min, f->max);
			return NULL;
		}
		if (n < f->min || n > f->max) {
			nfci_err(nfc, ERANGE,
				 "%s: field '%s': %lld is outside %lld..%lld",
				 owner, f->name, n, f->min, f->max);
			return NULL;
		}
		return json_integer(n);
	case NFC_F_BOOL:
		if (json_is_boolean(v))
			return json_incref(v);
		/* What the message offers: 1/0 as JSON numbers too. */
		if (json_is_integer(v) &&
		    (json_integer_value(v) == 0 || json_integer_value(v) == 1))
			return json_boolean(json_integer_value(v));
		if (s && (!strcmp(s, "true") || !strcmp(s, "1") ||
			  !strcmp(s, "yes") || !strcmp(s, "on")))
			return json_true();
		if (s && (!strcmp(s, "false") || !strcmp(s, "0") ||
			  !strcmp(s, "no") || !strcmp(s, "off")))
			return json_false();
		goto bad_type;
	case NFC_F_STRING:
		if (!s)
			goto bad_type;
		if (strlen(s) > (size_t)(f->max > 0 ? f->max : 255)) {
			nfci_err(nfc, EINVAL,
				 "%s: field '%s': longer than %lld characters",
				 owner, f->name, f->max > 0 ? f->max : 255);
			return NULL;
		}
		return json_string(s);
	case NFC_F_ENUM: {
		size_t l;
		const char *c = f->choices;

		if (!s)
			goto bad_type;
		l = strlen(s);
		while (c && *c) {
			const char *e = strchr(c, '|');
			size_t cl = e ? (size_t)(e - c) : strlen(c);

			if (cl == l && !strncmp(c, s, l))
				return json_string(s);
			c = e ? e + 1 : NULL;
		}
		nfci_err(nfc, EINVAL, "%s: field '%s': '%s' is not one of %s",
			 owner, f->name, s, f->choices);
		return NULL;
	}
	case NFC_F_MAC: {
		uint8_t mac[6];

		if (!s)
			goto bad_type;
		if (nfc_parse_mac(s, mac)) {
			nfci_err(nfc, EINVAL,
				 "%s: field '%s': '%s' is not a MAC address "
				 "(like 02:00:00:00:00:01)",
				 owner, f->name, s ? s : "(not a string)");
			return NULL;
		}
		return json_string(nfc_mac_str(mac, buf));
	}
	case NFC_F_IP:
		if (!s)
			goto bad_type;
		if (strchr(s, ':')) {
			struct in6_addr a6;

			if (inet_pton(AF_INET6, s, &a6) != 1) {
				nfci_err(nfc, EINVAL,
					 "%s: field '%s': '%s' is not an IPv4 "
					 "or IPv6 address",
					 owner, f->name, s);
				return NULL;
			}
			inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
			return json_string(buf);
		}
		/* An IPv4 address: as NFC_F_IPV4. */
		__attribute__((fallthrough));
	case NFC_F_IPV4:
	case NFC_F_PREFIX: {
		uint32_t a;
		unsigned l;
		int r;

		if (!s)
			goto bad_type;
		r = nfc_parse_prefix(s, &a, &l, 1);

		if (!r && f->kind != NFC_F_PREFIX && strchr(s, '/'))
			r = -EINVAL;
		if (!r && f->kind == NFC_F_PREFIX && !strchr(s, '/'))
			r = -EINVAL;
		if (r == -ERANGE) {
			nfci_err(nfc, ERANGE,
				 "%s: field '%s': prefix length in '%s' is "
				 "over 32",
				 owner, f->name, s);
			return NULL;
		}
		if (r) {
			nfci_err(nfc, EINVAL, "%s: field '%s': '%s' is not %s",
				 owner, f->name, s ? s : "(not a string)",
				 f->kind == NFC_F_IPV4 ? "an IPv4 address"
				 : f->kind == NFC_F_IP
					 ? "an IPv4 or IPv6 address"
					 : "an address/length");
			return NULL;
		}
		if (f->kind != NFC_F_PREFIX)
			snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24,
				 (a >> 16) & 255, (a >> 8) & 255, a & 255);
		else
			snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", a >> 24,
				 (a >> 16) & 255, (a >> 8) & 255, a & 255, l);
		return json_string(buf);
	}
	case NFC_F_UINT_LIST: {
		json_t *arr = json_array(), *in, *x;
		struct nfc_field ef = *f;
		size_t i;

		if (json_is_array(v)) {
			in = json_incref(v);
		} else if (s) {
			/* "10,20": its members, each read as one number is;
			 * an empty one too ("10,,20" was taken as 10,20). */
			const char *p = s, *c;

			in = json_array();
			do {
				c = strchr(p, ',');
				json_array_append_new(
					in, json_stringn(p, c ? (size_t)(c - p)
							      : strlen(p)));
				p = c + 1;
			} while (c);
		} else {
			json_decref(arr);
			goto bad_type;
		}
		ef.kind = NFC_F_UINT;
		json_array_foreach (in, i, x) {
			json_t *one = field_value(nfc, owner, &ef, x, nf);

			if (!one) {
				json_decref(in);
				json_decref(arr);
				return NULL;
			}
			json_array_append_new(arr, one);
		}
		json_decref(in);
		/* One value once: `allowed=10,10` was kept as [10, 10]. A
		 * state saved before is taken as it was. */
		for (size_t i = 0; !nfc->applying && i < json_array_size(arr);
		     i++)
			for (size_t j = 0; j < i; j++)
				if (json_integer_value(
					    json_array_get(arr, i)) ==
				    json_integer_value(
					    json_array_get(arr, j))) {
					nfci_err(
						nfc, EINVAL,
						"%s: field '%s': %lld is given "
						"twice",
						owner, f->name,
						(long long)json_integer_value(
							json_array_get(arr,
								       i)));
					json_decref(arr);
					return NULL;
				}
		return arr;
	}
	case NFC_F_PORT:
		if (!s)
			goto bad_type;
		/* A whole document's entry may name a port deleted after it
		 * was added: inactive, taken back as such (nfc_nf_applying). */
		if (nf && !nfc->applying && nfc_nf_port_index(nf, s) < 0) {
			nfci_err(nfc, ENOENT, "%s: field '%s': no port '%s'",
				 owner, f->name, s);
			return NULL;
		}
		return json_string(s);
	}
bad_type : {
	/* The value as given: a user who typed slow_path=maybe sees it. */
	char *txt = s ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	nfci_err(nfc, EINVAL,
		 "%s: field '%s': wrong type: '%.64s' (%s expected)", owner,
		 f->name,
		 s     ? s
		 : txt ? txt
		       : "?",
		 f->kind == NFC_F_UINT	 ? "an integer"
		 : f->kind == NFC_F_BOOL ? "on or off (true/false, yes/no, 1/0)"
		 : f->kind == NFC_F_UINT_LIST
			 ? "a list of integers, or a string like 10,20"
			 : "a string");
	free(txt);
	return NULL;
}
}

int nfci_fields_check(struct nfc *nfc, const char *owner,
		      const struct nfc_field *fields, json_t *in, int defaults,
		      const struct nfc_nf *nf, json_t **out)
{
	json_t *res = json_object();
	const char *key;
	json_t *v;

	if (in && !json_is_object(in)) {
		json_decref(res);
		return nfci_err(nfc, EINVAL, "%s: config is not an object",
				owner);
	}
	if (in) {
		json_object_foreach (in, key, v) {
			const struct nfc_field *f =
				nfci_field_find(fields, key);
			json_t *nv;

			if (!f) {
				json_decref(res);
				return nfci_err(nfc, EINVAL,
						"%s: unknown field '%s'", owner,
						key);
			}
			nv = field_value(nfc, owner, f, v, nf);
			if (!nv) {
				json_decref(res);
				return -EINVAL;
			}
			json_object_set_new(res, key, nv);
		}
	}
	for (const struct nfc_field *f = fields; f && f->name; f++) {
		if (json_object_get(res, f->name))
			continue;
		if (defaults && f->def) {
			json_t *d = json_string(f->def), *nv;

			nv = field_value(nfc, owner, f, d, nf);
			json_decref(d);
			if (!nv) {
				json_decref(res);
				return -EINVAL;
			}
			json_object_set_new(res, f->name, nv);
		} else if (defaults && (f->flags & NFC_FIELD_REQUIRED)) {
			json_decref(res);
			return nfci_err(nfc, EINVAL,
					"%s: field '%s' is required", owner,
					f->name);
		}
	}
	/* In the declaration's order, whatever the input's: the model keeps
	 * what this gives, and an entry set field by field (or restored
	 * from a file) listed its fields in another order in exports. */
	{
		json_t *in_order = json_object();

		for (const struct nfc_field *f = fields; f && f->name; f++)
			if ((v = json_object_get(res, f->name)))
				json_object_set(in_order, f->name, v);
		json_decref(res);
		res = in_order;
	}
	*out = res;
	return 0;
}
