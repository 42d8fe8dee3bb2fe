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

#include "internal.h"
#include "inject_xdp.skel.h"
#include "inject_tc.skel.h"

/* The largest frame a packet-out takes. */
#define NFC_PKTOUT_MAX 3000

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
	if (n->type->packet_in) {
		n->type->packet_in(&nfc->handles[p->nf], p->in_port, p->reason,
				   (const uint8_t *)(p + 1), p->cap_len,
				   p->pkt_len);
		nf_changed(nfc, p->nf, NFC_CHANGE_PACKET_IN);
	}
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
		return nfci_err(nfc, errno, "open the slow-path ring: %s",
				strerror(errno));
	if (nfc->ep >= 0) {
		struct epoll_event ev = {.events = EPOLLIN};

		epoll_ctl(nfc->ep, EPOLL_CTL_ADD,
			  ring_buffer__epoll_fd(nfc->rb), &ev);
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
	if (nfc->inject_sock >= 0)
		close(nfc->inject_sock);
	nfc->inject_sock = -1;
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
	r = nfci_begin_ro(nfc);
	if (r)
		return r;
	r = nfc->rb ? ring_buffer__consume(nfc->rb) : 0;
	nfci_end(nfc);
	return r;
}

void nfc_tick(struct nfc *nfc)
{
	uint64_t now;

	if (nfci_begin_ro(nfc))
		return;
	now = nfc_now_ns();
	for (int i = 0; i < NFC_MAX_NFS; i++)
		if (nfc->m->nfs[i].used && nfc->m->nfs[i].type->tick) {
			nfc->m->nfs[i].type->tick(&nfc->handles[i], now);
			nf_changed(nfc, i, NFC_CHANGE_TICK);
		}
	nfci_end(nfc);
}

static int inject_xdp_fd(struct nfc *nfc)
{
	struct inject_xdp *skel;

	if (nfc->inject_fd[HOOK_XDP] >= 0)
		return nfc->inject_fd[HOOK_XDP];
	skel = inject_xdp__open();
	if (!skel)
		return nfci_err(nfc, errno, "packet-out: open inject: %s",
				strerror(errno));
	if (dp_bind_maps(nfc, skel->obj, HOOK_XDP, NULL) ||
	    inject_xdp__load(skel)) {
		inject_xdp__destroy(skel);
		return nfci_err(nfc, errno, "packet-out: load inject: %s",
				strerror(errno));
	}
	nfc->inject_fd[HOOK_XDP] = dup(bpf_program__fd(skel->progs.nfc_inject));
	inject_xdp__destroy(skel);
	return nfc->inject_fd[HOOK_XDP];
}

/*
 * TC has no live-frames test run, so packet-out goes through a veth pair of
 * the runtime's own: a frame sent on one end (AF_PACKET, with the target
 * NF and port in SO_MARK, which a veth keeps within a namespace) arrives at
 * the other, where the TC inject program acts as if that NF had output it.
 */
static void inject_names(struct nfc *nfc, const char *ends, char *a, char *b)
{
	unsigned h = (unsigned)nfci_hash(nfc->root, strlen(nfc->root), 0);

	snprintf(a, IF_NAMESIZE, "nfi%08x%c", h, ends[0]);
	snprintf(b, IF_NAMESIZE, "nfi%08x%c", h, ends[1]);
}

/* The pairs: "ab" for TC; "cd" for XDP when live frames are refused (c
 * is sent on, d runs the inject program in native XDP). */
#define INJECT_TC "ab"
#define INJECT_XDP "cd"

/* A veth pair of the runtime's own for the inject path, up, b first: a,
 * the end we send on, then finds its peer up and gets its carrier and its
 * qdisc in the same call. Up first, a would wait for the carrier-on
 * event, which the kernel batches (up to a second under load), and until
 * then drop what is sent on it: the first packet-out went missing. */
static int inject_veth(struct nfc *nfc, const char *a, const char *b,
		       const char *what)
{
	int r;

	if (if_nametoindex(a))
		return 0;
	r = netdev_veth_create(a, b);
	if (r)
		return nfci_err(nfc, r,
				"packet-out (%s): create veth %s/%s: %s", what,
				a, b, strerror(-r));
	netdev_no_ipv6(a);
	netdev_no_ipv6(b);
	/* Room for the largest frame packet_out takes, and its header. */
	netdev_set_mtu(a, NFC_PKTOUT_MAX + 64);
	netdev_set_mtu(b, NFC_PKTOUT_MAX + 64);
	netdev_up(b);
	netdev_up(a);
	return 1;
}

/* Attaches `prog` to netdev `dev` (attach type `type`) by a link pinned at
 * `pin`, which holds it from then on. */
static int inject_attach(struct nfc *nfc, int prog, const char *dev, int type,
			 const char *pin, const char *what)
{
	int link = bpf_link_create(prog, if_nametoindex(dev), type, NULL);
	int r = link < 0 || bpf_obj_pin(link, pin) ? -errno : 0;

	if (link >= 0)
		close(link);
	if (r)
		return nfci_err(nfc, r, "packet-out (%s): attach to %s: %s",
				what, dev, strerror(-r));
	return 0;
}

/*
 * Some kernels refuse live-frames test runs even to root (EPERM in a
 * sandboxed guest: they could put frames on any netdev). Then the XDP
 * packet-out goes as the TC one does, through a veth pair of the
 * runtime's own, whose far end runs the XDP inject program in native
 * mode: the frame keeps its nfc_inject_hdr in front, which that program
 * reads and strips, so that it acts as it does in a test run.
 */
static int inject_xdp_sock(struct nfc *nfc)
{
	char c[IF_NAMESIZE], d[IF_NAMESIZE], pin[300];
	int prog, r;

	if (nfc->inject_sock >= 0)
		return nfc->inject_sock;
	prog = inject_xdp_fd(nfc);
	if (prog < 0)
		return prog;
	inject_names(nfc, INJECT_XDP, c, d);
	snprintf(pin, sizeof(pin), "%s/inject_xdp", nfc->root);
	r = inject_veth(nfc, c, d, "xdp");
	if (r < 0)
		return r;
	if (r)
		unlink(pin);
	if (access(pin, F_OK) &&
	    (r = inject_attach(nfc, prog, d, BPF_XDP, pin, "xdp")))
		return r;
	nfc->inject_sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (nfc->inject_sock < 0)
		return nfci_err(nfc, errno, "packet-out (xdp): socket: %s",
				strerror(errno));
	return nfc->inject_sock;
}

static int inject_tc_fd(struct nfc *nfc)
{
	char a[IF_NAMESIZE], b[IF_NAMESIZE], pin[300];
	struct inject_tc *skel;
	int r, fd;

	if (nfc->inject_fd[HOOK_TC] >= 0)
		return nfc->inject_fd[HOOK_TC];
	inject_names(nfc, INJECT_TC, a, b);
	snprintf(pin, sizeof(pin), "%s/inject_tc", nfc->root);
	r = inject_veth(nfc, a, b, "tc");
	if (r < 0)
		return r;
	if (r)
		unlink(pin);
	if (access(pin, F_OK)) {
		skel = inject_tc__open();
		if (!skel || dp_bind_maps(nfc, skel->obj, HOOK_TC, NULL) ||
		    inject_tc__load(skel)) {
			inject_tc__destroy(skel);
			return nfci_err(nfc, errno, "packet-out (tc): load: %s",
					strerror(errno));
		}
		r = inject_attach(nfc, bpf_program__fd(skel->progs.nfc_inject),
				  b, 46 /* BPF_TCX_INGRESS */, pin, "tc");
		inject_tc__destroy(skel);
		if (r)
			return r;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nfci_err(nfc, errno, "packet-out (tc): socket: %s",
				strerror(errno));
	nfc->inject_fd[HOOK_TC] = fd;
	return fd;
}

void sp_remove_inject(struct nfc *nfc)
{
	char a[IF_NAMESIZE], b[IF_NAMESIZE];

	inject_names(nfc, INJECT_TC, a, b);
	netdev_del(a);
	inject_names(nfc, INJECT_XDP, a, b);
	netdev_del(a);
}

/* Sends `len` bytes on the inject veth end `ifname` (the frame's first
 * six bytes as the link address, which nothing reads), with SO_MARK. */
static int inject_send(struct nfc *nfc, int fd, const char *ifname, __u32 mark,
		       const void *buf, size_t len, const char *ctx)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_halen = NFC_ETH_ALEN};

	sll.sll_ifindex = if_nametoindex(ifname);
	memcpy(sll.sll_addr, buf, NFC_ETH_ALEN);
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ||
	    sendto(fd, buf, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return nfci_err(nfc, errno, "%s: send: %s", ctx,
				strerror(errno));
	return 0;
}

static int packet_out_tc(struct nfc *nfc, const char *ctx, int nf, int port,
			 const void *frame, size_t len)
{
	char a[IF_NAMESIZE], b[IF_NAMESIZE];
	int fd = inject_tc_fd(nfc);
	__u32 mark = (NFC_INJECT_MAGIC & 0xff000000) | nf << 8 | port;

	if (fd < 0)
		return fd;
	inject_names(nfc, INJECT_TC, a, b);
	return inject_send(nfc, fd, a, mark, frame, len, ctx);
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
	if (len < NFC_ETH_HLEN || len > NFC_PKTOUT_MAX)
		return nfci_err(nfc, EINVAL, "%s: frame of %zu bytes", ctx,
				len);
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
	r = nfc->inject_live >= 0 ? bpf_prog_test_run_opts(fd, &o) : -1;
	if (r && nfc->inject_live >= 0) {
		r = -errno;
		/* Refused (a sandboxed guest) or unknown (before 5.18):
		 * the veth path from now on. */
		if (nfc->inject_live == 0 &&
		    (r == -EPERM || r == -EINVAL || r == -EOPNOTSUPP))
			nfc->inject_live = -1;
		else
			r = nfci_err(nfc, -r, "%s: %s", ctx, strerror(-r));
	} else if (!r) {
		nfc->inject_live = 1;
	}
	if (nfc->inject_live < 0) {
		char c[IF_NAMESIZE], d[IF_NAMESIZE];

		fd = inject_xdp_sock(nfc);
		inject_names(nfc, INJECT_XDP, c, d);
		r = fd < 0 ? fd
			   : inject_send(nfc, fd, c, 0, buf, sizeof(*h) + len,
					 ctx);
	}
	free(buf);
	return r;
}

int nfc_nf_packet_out(struct nfc_nf *nf, unsigned port, const void *frame,
		      size_t len)
{
	return packet_out(nf->nfc, nf->id, port, frame, len);
}

int nfc_packet_out(struct nfc *nfc, const char *nf, const char *port,
		   const void *frame, size_t len)
{
	int id, p, r = nfci_begin_ro(nfc);

	if (r)
		return r;
	id = model_find_nf(nfc->m, nf);
	if (id < 0)
		r = nfci_err(nfc, ENOENT, "NF %s does not exist", nf);
	else if ((p = model_find_port(&nfc->m->nfs[id], port)) < 0)
		r = nfci_err(nfc, ENOENT, "NF %s has no port %s", nf, port);
	else
		r = packet_out(nfc, id, p, frame, len);
	nfci_end(nfc);
	return r;
}
