// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The slow path. Packet-in: NFs write frames into the shared ring buffer;
 * nfc_poll hands each to its NF type's packet_in callback and to the
 * user's hook. Packet-out: a frame is sent as if an NF had output it on a
 * port, through the inject program (XDP: a live-frames test run, which
 * really redirects and tail-calls).
 */
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>

#include "internal.h"
#include "inject_xdp.skel.h"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1) /* not in the 6.1 uapi */
#endif

static int on_event(void *ctx, void *data, size_t size)
{
	struct nfc *nfc = ctx;
	const struct nfc_pktin *p = data;
	const struct mnf *n;
	struct nfc_pktin_info info;

	if (size < sizeof(*p) || p->cap_len > size - sizeof(*p) ||
	    p->nf >= NFC_MAX_NFS)
		return 0;
	n = &nfc->m->nfs[p->nf];
	if (!n->used)
		return 0; /* its NF went away since */
	if (n->type->packet_in)
		n->type->packet_in(&nfc->handles[p->nf], p->in_port, p->reason,
				   (const uint8_t *)(p + 1), p->cap_len,
				   p->pkt_len);
	if (nfc->pktin_fn) {
		info = (struct nfc_pktin_info){
			.nf = n->name,
			.port = p->in_port < NFC_MAX_PORTS &&
					n->ports[p->in_port].used
				? n->ports[p->in_port].name
				: "",
			.direction = p->direction,
			.mark = p->mark,
			.ifindex = p->ifindex,
			.reason = p->reason,
			.pkt_len = p->pkt_len,
			.data = (const uint8_t *)(p + 1),
			.cap_len = p->cap_len,
		};
		nfc->pktin_fn(nfc->pktin_ctx, &info);
	}
	return 0;
}

int sp_open(struct nfc *nfc)
{
	if (nfc->rb || nfc->map_fd[SM_RING] < 0)
		return 0;
	nfc->rb = ring_buffer__new(nfc->map_fd[SM_RING], on_event, nfc, NULL);
	if (!nfc->rb)
		return nfc_err(nfc, errno, "open the slow-path ring: %s",
			       strerror(errno));
	if (nfc->ep >= 0) {
		struct epoll_event ev = {.events = EPOLLIN};

		epoll_ctl(nfc->ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(nfc->rb),
			  &ev);
	}
	return 0;
}

void sp_close(struct nfc *nfc)
{
	if (nfc->rb) {
		if (nfc->ep >= 0)
			epoll_ctl(nfc->ep, EPOLL_CTL_DEL,
				  ring_buffer__epoll_fd(nfc->rb), NULL);
		ring_buffer__free(nfc->rb);
		nfc->rb = NULL;
	}
	for (int h = 0; h < 2; h++)
		if (nfc->inject_fd[h] >= 0) {
			close(nfc->inject_fd[h]);
			nfc->inject_fd[h] = -1;
		}
}

void nfc_set_pktin_hook(struct nfc *nfc, nfc_pktin_fn fn, void *ctx)
{
	nfc->pktin_fn = fn;
	nfc->pktin_ctx = ctx;
}

/* Stable across pin-root re-creation: the ring's own epoll fd is nested in
 * it and swapped when the ring is. */
int nfc_events_fd(struct nfc *nfc)
{
	return nfc->ep;
}

int nfc_poll(struct nfc *nfc, int timeout_ms)
{
	struct epoll_event ev;
	int r;

	if (timeout_ms)
		epoll_wait(nfc->ep, &ev, 1, timeout_ms);
	r = nfc_begin(nfc);
	if (r)
		return r;
	r = nfc->rb ? ring_buffer__consume(nfc->rb) : 0;
	nfc_end(nfc);
	return r;
}

void nfc_tick(struct nfc *nfc)
{
	struct timespec ts;
	uint64_t now;

	if (nfc_begin(nfc))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (nfc->m->nfs[i].used && nfc->m->nfs[i].type->tick)
			nfc->m->nfs[i].type->tick(&nfc->handles[i], now);
	nfc_end(nfc);
}

static int inject_xdp_fd(struct nfc *nfc)
{
	struct inject_xdp *skel;
	struct bpf_map *map;

	if (nfc->inject_fd[HOOK_XDP] >= 0)
		return nfc->inject_fd[HOOK_XDP];
	skel = inject_xdp__open();
	if (!skel)
		return nfc_err(nfc, errno, "packet-out: open inject: %s",
			       strerror(errno));
	bpf_object__for_each_map(map, skel->obj)
	{
		const char *n = bpf_map__name(map);
		int fd = -1;

		if (!strcmp(n, "nfc_progs"))
			fd = nfc->map_fd[SM_PROGS_XDP];
		else if (!strcmp(n, "nfc_links"))
			fd = nfc->map_fd[SM_LINKS];
		else if (!strcmp(n, "nfc_stubs"))
			fd = nfc->map_fd[SM_STUBS];
		else if (!strcmp(n, "nfc_meta"))
			fd = nfc->map_fd[SM_META];
		else if (!strcmp(n, "nfc_stats"))
			fd = nfc->map_fd[SM_STATS];
		else if (!strcmp(n, "nfc_global"))
			fd = nfc->map_fd[SM_GLOBAL];
		else if (!strcmp(n, "nfc_devmap"))
			fd = nfc->map_fd[SM_DEVMAP];
		else if (!strcmp(n, "nfc_ring"))
			fd = nfc->map_fd[SM_RING];
		else if (!strcmp(n, "nfc_scratch"))
			fd = nfc->map_fd[SM_SCRATCH];
		if (fd >= 0)
			bpf_map__reuse_fd(map, fd);
	}
	if (inject_xdp__load(skel)) {
		inject_xdp__destroy(skel);
		return nfc_err(nfc, errno, "packet-out: load inject: %s",
			       strerror(errno));
	}
	nfc->inject_fd[HOOK_XDP] = dup(bpf_program__fd(skel->progs.nfc_inject));
	inject_xdp__destroy(skel);
	return nfc->inject_fd[HOOK_XDP];
}

/* TC: only a port whose hop is a netdev; the frame leaves through an
 * AF_PACKET socket on it, which is what bpf_redirect to its egress does. */
static int packet_out_tc(struct nfc *nfc, const char *ctx, int nf, int port,
			 const void *frame, size_t len)
{
	struct nfc_hop hop;
	__u32 k = NFC_GPORT(nf, port);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};
	int fd, r = 0;

	if (bpf_map_lookup_elem(nfc->map_fd[SM_LINKS], &k, &hop) ||
	    hop.kind != NFC_HOP_NETDEV)
		return nfc_err(nfc, EOPNOTSUPP,
			       "%s: packet-out in mode tc reaches netdev peers "
			       "only (this port leads to an NF)",
			       ctx);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nfc_err(nfc, errno, "%s: packet socket: %s", ctx,
			       strerror(errno));
	sll.sll_ifindex = hop.ifindex;
	sll.sll_halen = ETH_ALEN;
	memcpy(sll.sll_addr, frame, ETH_ALEN);
	if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		r = nfc_err(nfc, errno, "%s: send: %s", ctx, strerror(errno));
	close(fd);
	return r;
}

static int packet_out(struct nfc *nfc, int id, int port, const void *frame,
		      size_t len)
{
	const struct mnf *n = &nfc->m->nfs[id];
	struct nfc_inject_hdr *h;
	char ctx[96];
	char *buf;
	int fd, r;

	snprintf(ctx, sizeof(ctx), "packet-out on port %s of %s",
		 n->ports[port].used ? n->ports[port].name : "?", n->name);
	if (len < ETH_HLEN || len > 3000)
		return nfc_err(nfc, EINVAL, "%s: frame of %zu bytes", ctx, len);
	if (nf_hook(n) == HOOK_TC)
		return packet_out_tc(nfc, ctx, id, port, frame, len);
	fd = inject_xdp_fd(nfc);
	if (fd < 0)
		return fd;
	buf = malloc(sizeof(*h) + len);
	if (!buf)
		return -ENOMEM;
	h = (struct nfc_inject_hdr *)buf;
	h->magic = NFC_INJECT_MAGIC;
	h->nf = id;
	h->port = port;
	memcpy(buf + sizeof(*h), frame, len);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = sizeof(*h) + len, .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	r = bpf_prog_test_run_opts(fd, &o);
	free(buf);
	if (r)
		return nfc_err(nfc, errno, "%s: %s", ctx, strerror(errno));
	return 0;
}

int nfc_nf_packet_out(struct nfc_nf *nf, unsigned port, const void *frame,
		      size_t len)
{
	return packet_out(nf->nfc, nf->id, port, frame, len);
}

int nfc_packet_out(struct nfc *nfc, const char *nf, const char *port,
		   const void *frame, size_t len)
{
	int id, p, r = nfc_begin(nfc);

	if (r)
		return r;
	id = model_find_nf(nfc->m, nf);
	if (id < 0)
		r = nfc_err(nfc, ENOENT, "NF %s does not exist", nf);
	else if ((p = model_find_port(&nfc->m->nfs[id], port)) < 0)
		r = nfc_err(nfc, ENOENT, "NF %s has no port %s", nf, port);
	else
		r = packet_out(nfc, id, p, frame, len);
	nfc_end(nfc);
	return r;
}
