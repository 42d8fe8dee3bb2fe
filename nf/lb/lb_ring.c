// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lb: Maglev tables into the data plane. A new table is a new inner map,
 * filled completely, then put in its service's slot of lb_rings with one
 * update: the kernel swaps the pointer (RCU), so a packet is looked up in
 * the old table or the new one, whole; the old one is freed when the last
 * reader is gone. This is the "inactive half, one flip" of a
 * double-buffered table, with the kernel keeping the halves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "lb_int.h"

int lb_state_load(struct nfc_nf *nf, struct lb_state *st)
{
	int sfd = nfc_nf_map_fd(nf, "lb_svcs"),
	    bfd = nfc_nf_map_fd(nf, "lb_bes");

	memset(st, 0, sizeof(*st));
	if (sfd < 0 || bfd < 0)
		return nfc_nf_error(nf, ENOENT, "lb maps not found");
	if (nfc_array_read(sfd, st->svc, sizeof(st->svc[0]), LB_MAX_SVC) ||
	    nfc_array_read(bfd, st->be, sizeof(st->be[0]), LB_MAX_BE))
		return nfc_nf_error(nf, EIO, "lb: cannot read its maps");
	return 0;
}

int lb_svc_find(const struct lb_state *st, const struct lb_vip *v)
{
	for (int i = 0; i < LB_MAX_SVC; i++)
		if (st->svc[i].used && !memcmp(&st->svc[i].vip, v, sizeof(*v)))
			return i;
	return -1;
}

int lb_svc_nbe(const struct lb_state *st, __u32 sid)
{
	int n = 0;

	for (int i = 0; i < LB_MAX_BE; i++)
		n += st->be[i].state != LB_BE_FREE && st->be[i].svc == sid;
	return n;
}

void lb_stat_zero(struct nfc_nf *nf, const char *map, __u32 id)
{
	int fd = nfc_nf_map_fd(nf, map);
	void *z = calloc(nfc_ncpus(), sizeof(struct lb_stat));

	if (fd >= 0 && z)
		bpf_map_update_elem(fd, &id, z, BPF_ANY);
	free(z);
}

int lb_ring_publish(struct nfc_nf *nf, const struct lb_state *st, __u32 sid)
{
	int rfd = nfc_nf_map_fd(nf, "lb_rings"), fd, r;
	__u32 m = st->svc[sid].svc.table, n = 0, *tab = NULL, *keys = NULL;
	struct lb_mg_be *mb = calloc(LB_MAX_BE, sizeof(*mb));
	char vs[96];
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_INNER_MAP);

	if (rfd < 0 || !mb) {
		free(mb);
		return nfc_nf_error(nf, ENOENT, "lb: map lb_rings not found");
	}
	lb_svc_str(&st->svc[sid].vip, vs, sizeof(vs));
	for (__u32 i = 0; i < LB_MAX_BE; i++) {
		const struct lb_be *b = &st->be[i];

		if (b->state != LB_BE_UP || b->svc != sid)
			continue;
		mb[n].family = b->family;
		memcpy(mb[n].addr, b->addr, 16);
		mb[n].port = ntohs(b->port);
		mb[n].weight = b->weight;
		mb[n].id = i;
		n++;
	}
	if (!n) {
		free(mb);
		bpf_map_delete_elem(rfd, &sid);
		return 0;
	}
	tab = malloc(m * sizeof(*tab));
	keys = malloc(m * sizeof(*keys));
	r = tab && keys ? lb_maglev_build(tab, m, mb, n) : -ENOMEM;
	free(mb);
	if (r) {
		free(tab);
		free(keys);
		return nfc_nf_error(nf, -r, "service %s: build its table: %s",
				    vs, strerror(-r));
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lb_ring", sizeof(__u32),
			    sizeof(__u32), m, &o);
	if (fd < 0) {
		r = nfc_nf_error(nf, errno,
				 "service %s: make its table of %u slots: %s",
				 vs, m, strerror(errno));
		goto out;
	}
	for (__u32 i = 0; i < m; i++)
		keys[i] = i;
	{
		__u32 cnt = m;

		if (bpf_map_update_batch(fd, keys, tab, &cnt, NULL))
			for (__u32 i = 0; i < m; i++)
				if (bpf_map_update_elem(fd, &i, &tab[i],
							BPF_ANY)) {
					r = nfc_nf_error(nf, errno,
							 "service %s: fill its "
							 "table: %s",
							 vs, strerror(errno));
					goto out;
				}
	}
	if (bpf_map_update_elem(rfd, &sid, &fd, BPF_ANY))
		r = nfc_nf_error(nf, errno, "service %s: switch its table: %s",
				 vs, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(tab);
	free(keys);
	return r;
}

int lb_ring_read(struct nfc_nf *nf, __u32 sid, __u32 *out, __u32 m)
{
	int rfd = nfc_nf_map_fd(nf, "lb_rings"), fd;
	struct bpf_map_info info = {};
	__u32 id, len = sizeof(info);

	if (rfd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(rfd, &sid, &id))
		return 0;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return -errno;
	}
	if (out)
		nfc_array_read(fd, out, sizeof(__u32),
			       info.max_entries < m ? info.max_entries : m);
	close(fd);
	return info.max_entries;
}
