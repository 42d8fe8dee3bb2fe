// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lb: lb_vidx, the direct-mapped index in front of lb_vips (lb.h).
 *
 * lb_vips stays the truth: a slot whose family is 0 sends its packets
 * there, so an index that is empty (a map created by an upgrade), held
 * or left half-written by a failure is slower, never wrong. A slot is
 * written whole by one update, but a packet may read it while it is
 * copied; so a slot never goes from one content to another directly.
 * Before the services change, every slot they touch is held (its bytes
 * kept, family 0); after lb_vips, lb_svcs and the tables are written, a
 * slot that differs from what the services now give is written with its
 * new bytes and family 0, then again with its family. Each step changes
 * one byte, or happens while the slot sends packets to lb_vips; a packet
 * that reads a family other than 0 reads the bytes that go with it.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "lb_int.h"

static int slot_write(struct nfc_nf *nf, int fd, __u32 k,
		      const struct lb_vslot *s)
{
	if (!bpf_map_update_elem(fd, &k, s, BPF_ANY))
		return 0;
	return nfc_nf_error(nf, errno, "lb_vidx slot %u: %s", k,
			    strerror(errno));
}

int lb_vidx_hold(struct nfc_nf *nf, const struct lb_vip *vips, size_t n)
{
	int fd = nfc_nf_map_fd(nf, "lb_vidx");
	struct lb_vslot cur[LB_VIDX_SLOTS];

	if (fd < 0 || nfc_array_read(fd, cur, sizeof(cur[0]), LB_VIDX_SLOTS))
		return nfc_nf_error(nf, EIO, "lb: cannot read lb_vidx");
	for (size_t i = 0; i < n; i++) {
		__u32 k = lb_vidx_slot(&vips[i]);
		int r;

		if (!cur[k].vip.family)
			continue;
		cur[k].vip.family = 0;
		r = slot_write(nf, fd, k, &cur[k]);
		if (r)
			return r;
	}
	return 0;
}

int lb_vidx_sync(struct nfc_nf *nf, const struct lb_state *st)
{
	int fd = nfc_nf_map_fd(nf, "lb_vidx"), r = 0;
	struct lb_vslot cur[LB_VIDX_SLOTS], want[LB_VIDX_SLOTS];
	int count[LB_VIDX_SLOTS] = {0};

	if (fd < 0 || nfc_array_read(fd, cur, sizeof(cur[0]), LB_VIDX_SLOTS))
		return nfc_nf_error(nf, EIO, "lb: cannot read lb_vidx");
	memset(want, 0, sizeof(want));
	for (int id = 0; id < LB_MAX_SVC; id++) {
		__u32 k;

		if (!st->svc[id].used)
			continue;
		k = lb_vidx_slot(&st->svc[id].vip);
		if (!count[k]++) {
			want[k].vip = st->svc[id].vip;
			want[k].svc = st->svc[id].svc;
		}
	}
	for (__u32 k = 0; k < LB_VIDX_SLOTS; k++) {
		if (count[k] > 1)
			memset(&want[k], 0, sizeof(want[k]));
		else if (!count[k])
			want[k].vip.family = LB_VS_NONE;
	}
	for (__u32 k = 0; k < LB_VIDX_SLOTS && !r; k++) {
		struct lb_vslot s = want[k];

		if (!memcmp(&cur[k], &want[k], sizeof(want[k])))
			continue;
		if (cur[k].vip.family) {
			cur[k].vip.family = 0;
			r = slot_write(nf, fd, k, &cur[k]);
		}
		s.vip.family = 0;
		if (!r && memcmp(&cur[k], &s, sizeof(s)))
			r = slot_write(nf, fd, k, &s);
		if (!r && want[k].vip.family)
			r = slot_write(nf, fd, k, &want[k]);
	}
	return r;
}
