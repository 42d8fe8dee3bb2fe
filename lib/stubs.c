// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Netdev hooks. Each hook n is a bpf_link pinned at <root>/stub/<n>/link
 * (it outlives this process) beside the stub program it falls back to. The
 * link runs the stub, which follows the hop in the stubs map, or the first
 * NF's nfc_direct program (see bpf/common.h); switching between them is one
 * link update, so no packet sees the hook empty.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "dataplane.h"
#include "stub_xdp.skel.h"
#include "stub_tc.skel.h"

#ifndef BPF_TCX_INGRESS
/* Not in Debian's 6.1 uapi headers; values from the kernel's uapi. */
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

int dp_prog_id(int fd)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* An attached hook's link runs `want` (the first NF's nfc_direct) or, with
 * want < 0, the stub pinned beside it. Swapped in one step by the kernel:
 * no packet sees the hook empty. */
static int link_retarget(struct nfc *nfc, const struct mstub *st,
			 const char *dir, int want)
{
	char path[512];
	struct bpf_link_info info = {0};
	__u32 len = sizeof(info);
	int link, stub = -1, r = 0;

	snprintf(path, sizeof(path), "%s/link", dir);
	link = bpf_obj_get(path);
	if (link < 0)
		return nfci_err(nfc, errno, "%s: open its hook's link %s: %s",
				st->dev, path, strerror(errno));
	if (want < 0) {
		snprintf(path, sizeof(path), "%s/prog", dir);
		want = stub = bpf_obj_get(path);
	}
	if (want < 0)
		r = nfci_err(nfc, errno, "%s: open its stub %s: %s", st->dev,
			     path, strerror(errno));
	else if (bpf_obj_get_info_by_fd(link, &info, &len))
		r = nfci_err(nfc, errno, "%s: read its hook's link: %s",
			     st->dev, strerror(errno));
	else if (info.prog_id != (__u32)dp_prog_id(want) &&
		 bpf_link_update(link, want, NULL))
		r = nfci_err(nfc, errno, "%s: swap the program on its hook: %s",
			     st->dev, strerror(errno));
	if (stub >= 0)
		close(stub);
	close(link);
	return r;
}

/*
 * XDP has one program a netdev (a libxdp dispatcher is one program running
 * several): name the one there, as `bpftool net` does, and what to do.
 * nfchain does not join a libxdp dispatcher (docs/runtime.md, "Sharing a
 * netdev"); its TC hook (tcx) shares with any other tcx program.
 */
static int xdp_busy(struct nfc *nfc, const struct mstub *st, int e)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info), id;
	char name[64] = "?";
	int fd;

	if (bpf_xdp_query(st->ifindex, 0, &q))
		q.prog_id = 0;
	id = q.prog_id;
	fd = id ? bpf_prog_get_fd_by_id(id) : -1;
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		snprintf(name, sizeof(name), "%s", info.name);
	if (fd >= 0)
		close(fd);
	if (!strncmp(name, "xdp_dispatcher", 14))
		return nfci_err(
			nfc, e,
			"%s: XDP is taken by libxdp's dispatcher (program %s "
			"id %u: xdp-filter, xdp-loader or another libxdp "
			"user; `xdp-loader status %s` lists them): give this "
			"NF mode=tc (tcx shares the netdev), or unload them "
			"first (`xdp-loader unload %s --all`)",
			st->dev, name, id, st->dev, st->dev);
	return nfci_err(nfc, e,
			"%s: XDP is taken by program %s id %u (`bpftool net "
			"show dev %s`): give this NF mode=tc (tcx shares the "
			"netdev), or detach it first",
			st->dev, name, id, st->dev);
}

int dp_stub_up(struct nfc *nfc, const struct mstub *st, int idx, int want)
{
	char dir[400], path[512];
	struct bpf_object *obj;
	struct bpf_program *prog;
	int fd, link, r, at;

	dp_pin_path(nfc, dir, sizeof(dir), "stub/%d", idx);
	snprintf(path, sizeof(path), "%s/link", dir);
	if (access(path, F_OK) == 0) /* attached by us or an earlier process */
		return link_retarget(nfc, st, dir, want);
	struct stub_tc *stc = NULL;
	struct stub_xdp *sxdp = NULL;

	if (st->hook == HOOK_TC) {
		stc = stub_tc__open();
		obj = stc ? stc->obj : NULL;
		if (stc)
			stc->rodata->stub_idx = idx;
	} else {
		sxdp = stub_xdp__open();
		obj = sxdp ? sxdp->obj : NULL;
		if (sxdp)
			sxdp->rodata->stub_idx = idx;
	}
	if (!obj)
		return nfci_err(nfc, errno, "%s: open stub object: %s", st->dev,
				strerror(errno));
	bpflog_reset();
	r = dp_bind_maps(nfc, obj, st->hook, NULL);
	if (!r && (r = bpf_object__load(obj)))
		nfci_err(nfc, r, "%s: load stub: %s", st->dev, bpflog_tail());
	if (r)
		goto out;
	prog = bpf_object__find_program_by_name(obj, "nfc_stub");
	fd = bpf_program__fd(prog);
	/* The stub is loaded and pinned even when the hook starts with the
	 * first NF's own program: it is what the hook falls back to. */
	if (st->hook == HOOK_TC) {
		at = st->egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS;
		link = bpf_link_create(want >= 0 ? want : fd, st->ifindex, at,
				       NULL);
	} else {
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = st->xdp_flags);
		link = bpf_link_create(want >= 0 ? want : fd, st->ifindex,
				       BPF_XDP, &lo);
	}
	if (link < 0) {
		int e = errno;

		if (st->hook == HOOK_XDP && (st->xdp_flags & (1 << 2)) &&
		    (e == EOPNOTSUPP || e == EINVAL))
			r = nfci_err(nfc, e,
				     "%s: no native XDP on this netdev (%s); "
				     "use mode=xdp-generic",
				     st->dev, strerror(e));
		else if (st->hook == HOOK_XDP && e == ERANGE)
			/* The kernel's only word here is ERANGE: a frame must
			 * fit one page for an XDP program that does not take
			 * multi-buffer frames (a veth: MTU 3,506 at most). */
			r = nfci_err(nfc, e,
				     "%s: its MTU %d is too large for XDP "
				     "(a frame must fit one page); lower the "
				     "MTU or use mode=tc or mode=xdp-generic",
				     st->dev, netdev_mtu(st->dev));
		else if ((e == EBUSY || e == EEXIST) && st->hook == HOOK_XDP)
			r = xdp_busy(nfc, st, e);
		else if (e == EBUSY || e == EEXIST)
			r = nfci_err(nfc, e,
				     "%s: another %s program is attached there "
				     "already; detach it first",
				     st->dev, nfci_hook_name(st->hook));
		else
			r = nfci_err(nfc, e, "%s: attach %s hook: %s", st->dev,
				     nfci_hook_name(st->hook), strerror(e));
		goto out;
	}
	r = nfci_mkdirs(dir);
	snprintf(path, sizeof(path), "%s/prog", dir);
	if (!r && bpf_obj_pin(fd, path))
		r = -errno;
	snprintf(path, sizeof(path), "%s/link", dir);
	if (!r && bpf_obj_pin(link, path))
		r = -errno;
	if (r) {
		nfci_err(nfc, r, "%s: pin stub under %s: %s", st->dev, dir,
			 strerror(-r));
		nfci_rmtree(dir);
	}
	close(link); /* the pin holds it now */
out:
	stub_tc__destroy(stc);
	stub_xdp__destroy(sxdp);
	return r;
}

void dp_stub_down(struct nfc *nfc, int idx)
{
	char dir[400], path[512];
	int link;

	dp_pin_path(nfc, dir, sizeof(dir), "stub/%d", idx);
	/* Detach first: removing the pin only drops a reference, and the
	 * kernel frees a link whose last reference was a bpffs pin from a
	 * work item after an RCU grace period. Until then the program stays
	 * on the netdev, and a generic XDP attach made right after (a mode
	 * change xdp -> xdp-generic) failed with "XDP is taken by program
	 * nfc_direct" (3 times in 40 flips). */
	snprintf(path, sizeof(path), "%s/link", dir);
	link = bpf_obj_get(path);
	if (link >= 0) {
		bpf_link_detach(link);
		close(link);
	}
	nfci_rmtree(dir);
}
