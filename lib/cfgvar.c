// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Config fields the data plane reads at run time (NFC_FIELD_RUNTIME): a
 * __u32 global in the program's NFC_CFG_SEC section (NFC_CFG_VAR), set in the
 * object before load and written into the running program's section map at
 * every change. A change is one map write where a `bpf_const` field
 * costs a new program (~80 ms); the program pays one load from a map
 * value whose address the verifier resolves, no lookup call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "dataplane.h"

/* A field's 4 bytes as the program reads them: a number, a bool as 0/1,
 * an IPv4 address in network order (as packets carry it; unset: 0). */
static __u32 field_val(json_t *config, const struct nfc_field *f)
{
	json_t *v = json_object_get(config, f->name);
	struct in_addr a = {0};

	if (f->kind == NFC_F_IPV4) {
		if (json_is_string(v))
			inet_pton(AF_INET, json_string_value(v), &a);
		return a.s_addr;
	}
	return json_is_integer(v) ? (__u32)json_integer_value(v)
				  : json_is_true(v);
}

/* Where `var` (4 bytes) lies in the section, -ENOENT if not there. */
static long var_off(const struct btf *btf, const char *var, size_t size)
{
	return nfci_datasec_off(btf, NFC_CFG_SEC, var, 4, size);
}

int dp_cfg_vars_init(struct nfc *nfc, const struct mnf *n,
		     struct bpf_object *obj)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, NFC_CFG_SEC);
	struct btf *btf = bpf_object__btf(obj);
	size_t size = 0;
	/* Writable before load, whatever the declaration says. */
	char *data = map ? (char *)bpf_map__initial_value(map, &size) : NULL;

	for (const struct nfc_field *f = n->type->config; f && f->name; f++) {
		__u32 val = field_val(n->config, f);
		long off;

		if (!nfc_field_runtime(f))
			continue;
		off = data && btf ? var_off(btf, f->bpf_const, size) : -ENOENT;
		if (off < 0)
			return nfci_err(nfc, ENOENT,
					"NF %s: config field %s: its object "
					"has no %s in section %s",
					n->name, f->name, f->bpf_const,
					NFC_CFG_SEC);
		memcpy(data + off, &val, sizeof(val));
	}
	return 0;
}

/* The running program's section map: its fd and info, -ENOENT if none. */
static int cfg_map(int prog_fd, struct bpf_map_info *mi)
{
	struct bpf_prog_info pi = {0};
	__u32 ids[64], len = sizeof(pi);
	int fd;

	pi.nr_map_ids = 64;
	pi.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &pi, &len))
		return -errno;
	for (__u32 i = 0; i < pi.nr_map_ids && i < 64; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(mi, 0, sizeof(*mi));
		len = sizeof(*mi);
		if (!bpf_obj_get_info_by_fd(fd, mi, &len) &&
		    !strcmp(mi->name, NFC_CFG_SEC))
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int dp_cfg_vars_write(struct nfc *nfc, int id, const struct mnf *old,
		      const struct mnf *n)
{
	struct bpf_map_info mi;
	struct btf *btf = NULL;
	const char *why = NULL;
	char *buf = NULL;
	__u32 k0 = 0;
	int fd = -1, r = 0, pfd;

	for (const struct nfc_field *f = n->type->config; f && f->name; f++)
		if (nfc_field_runtime(f) &&
		    field_val(old->config, f) != field_val(n->config, f))
			r = 1;
	if (!r)
		return 0;
	pfd = dp_nf_fd(nfc, id);
	fd = pfd < 0 ? pfd : cfg_map(pfd, &mi);
	if (fd < 0) {
		r = fd, why = "find its config section";
		goto out;
	}
	btf = btf__load_from_kernel_by_id(mi.btf_id);
	buf = calloc(1, mi.value_size);
	if (!btf || !buf) {
		r = -(errno ? errno : ENOMEM), why = "read its BTF";
		goto out;
	}
	if (bpf_map_lookup_elem(fd, &k0, buf)) {
		r = -errno, why = "read its config section";
		goto out;
	}
	for (const struct nfc_field *f = n->type->config; f && f->name; f++) {
		__u32 val = field_val(n->config, f);
		long off;

		if (!nfc_field_runtime(f))
			continue;
		off = var_off(btf, f->bpf_const, mi.value_size);
		if (off < 0) {
			r = -ENOENT, why = f->bpf_const;
			goto out;
		}
		memcpy(buf + off, &val, sizeof(val));
	}
	/* One write of the whole section, each field on its own aligned 4
	 * bytes: a packet sees a field's old value or its new one. */
	if (bpf_map_update_elem(fd, &k0, buf, BPF_ANY))
		r = -errno, why = "write its config section";
	else
		r = 0;
out:
	if (r)
		nfci_err(nfc, r,
			 "NF %s: set its config in the data plane (%s): %s",
			 n->name, why, strerror(-r));
	btf__free(btf);
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}
