// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfchaind: the one point of control of nfchain. One thread, one epoll
 * loop over
 *   - the HTTP API (unix socket; TCP with a bearer token when asked),
 *   - packet-in from the data plane (the runtime's ring buffer),
 *   - a 1 s timer for the NFs' aging and retries,
 *   - rtnetlink link events (a netdev that goes away or comes back),
 *   - SIGINT/SIGTERM for a clean stop.
 * The data plane lives in the kernel and in pins: stopping or killing the
 * daemon does not stop traffic, and a new daemon adopts what is pinned.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <net/if.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nfchain/nfchain.h"

#include "api.h"
#include "http.h"
#include "log.h"
#include "netlink.h"
#include "state.h"

#define DEFAULT_SOCKET "/run/nfchain/nfchaind.sock"
#define DEFAULT_STATE_DIR "/var/lib/nfchain"

enum { EV_HTTP_UNIX, EV_HTTP_TCP, EV_PKTIN, EV_TIMER, EV_SIGNAL, EV_NETLINK };

struct daemon {
	const char *socket_path, *state_dir, *pin_root, *listen, *token_file;
	struct nfc *nfc;
	struct api api;
	struct http *http[2]; /* unix, tcp */
	int ep, tfd, sfd, nlfd;
	json_t *saved; /* the desired state: what state.json holds */
	json_t *gone;  /* netdevs the state names that are missing: {name:1} */
	/* Netdevs back, waiting to settle before the state is re-applied:
	 * {name: deadline in ms of CLOCK_MONOTONIC}. */
	json_t *settling;
	bool stop;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfchaind [--socket PATH] [--state-dir DIR] [--pin-root "
		"DIR]\n"
		"                [--listen ADDR:PORT --token-file FILE]\n"
		"  --socket PATH      unix socket of the API (default %s)\n"
		"  --state-dir DIR    where state.json is saved (default %s)\n"
		"  --pin-root DIR     bpffs directory of the data plane "
		"(default %s)\n"
		"  --listen ADDR:PORT also serve the API over TCP "
		"(127.0.0.1:8080)\n"
		"  --token-file FILE  bearer token every TCP request must "
		"carry\n",
		DEFAULT_SOCKET, DEFAULT_STATE_DIR, NFC_DEFAULT_PIN_ROOT);
}

/* ---- saved state ----------------------------------------------------------
 */

static int save_cb(void *ctx, json_t *state, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	int r;

	if (d->saved && json_equal(d->saved, state))
		return 0; /* nothing new: spare the fsyncs */
	r = state_save(d->state_dir, state, err, errlen);
	if (r) {
		nfd_log("error", "save", "error=%s", nfd_q(err));
		return r;
	}
	json_decref(d->saved);
	d->saved = json_incref(state);
	return 0;
}

/* Netdev names the state refers to: port peers and attachment targets
 * without a ':' (those are NF ports). */
static void netdevs_named(json_t *doc, json_t *out)
{
	json_t *nf, *p, *a;
	size_t i, j;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf)
		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			const char *peer =
				json_string_value(json_object_get(p, "peer"));

			if (peer && !strchr(peer, ':'))
				json_object_set_new(out, peer, json_true());
		}
	json_array_foreach (json_object_get(doc, "attachments"), i, a) {
		const char *t = json_string_value(json_object_get(a, "target"));

		if (t && !strchr(t, ':'))
			json_object_set_new(out, t, json_true());
	}
}

static bool names_netdev(struct daemon *d, const char *name)
{
	json_t *names = json_object();
	bool r;

	netdevs_named(d->saved, names);
	r = json_object_get(names, name) != NULL;
	json_decref(names);
	return r;
}

static void note_missing_netdevs(struct daemon *d)
{
	json_t *names = json_object(), *v;
	const char *n;

	netdevs_named(d->saved, names);
	json_object_foreach (names, n, v)
		if (!if_nametoindex(n) && !json_object_get(d->gone, n)) {
			nfd_log("warn", "netdev_missing", "netdev=%s",
				nfd_q(n));
			json_object_set_new(d->gone, n, json_true());
		}
	json_decref(names);
}

/* The state at start: what is pinned, reconciled with state.json. The
 * saved document is the desired state: when the pins differ (nothing
 * pinned after a reboot, or a change the previous daemon made and died
 * before saving) the pins are moved to it. */
static int restore(struct daemon *d)
{
	char err[1024];
	json_t *pinned = nfc_export(d->nfc), *plan = NULL;
	int r;

	r = state_load(d->state_dir, &d->saved, err, sizeof(err));
	if (r && r != -ENOENT) {
		nfd_log("error", "restore", "error=%s hint=%s", nfd_q(err),
			nfd_q("fix or move the file away; nothing was "
			      "changed"));
		json_decref(pinned);
		return r;
	}
	if (!d->saved) {
		nfd_log("info", "restore", "source=pins nfs=%zu saved=none",
			json_array_size(json_object_get(pinned, "nfs")));
		r = save_cb(d, pinned, err, sizeof(err));
		json_decref(pinned);
		return r;
	}
	if (json_equal(pinned, d->saved)) {
		nfd_log("info", "restore", "source=pins nfs=%zu saved=same",
			json_array_size(json_object_get(pinned, "nfs")));
		json_decref(pinned);
		return 0;
	}
	r = nfc_apply(d->nfc, d->saved, 0, &plan);
	if (r) {
		snprintf(err, sizeof(err),
			 "the saved state %s/state.json is not running: %s; it "
			 "is retried when netdevs appear, and a new whole "
			 "state (nfchain apply) replaces it",
			 d->state_dir, nfc_errmsg(d->nfc));
		nfd_log("error", "restore",
			"source=state.json pinned_nfs=%zu "
			"error=%s",
			json_array_size(json_object_get(pinned, "nfs")),
			nfd_q(nfc_errmsg(d->nfc)));
		d->api.blocked = strdup(err);
	} else {
		nfd_log("info", "restore",
			"source=state.json pinned_nfs=%zu "
			"nfs=%zu steps=%zu",
			json_array_size(json_object_get(pinned, "nfs")),
			json_array_size(json_object_get(d->saved, "nfs")),
			json_array_size(plan));
	}
	json_decref(plan);
	json_decref(pinned);
	return 0;
}

/* The desired state without any reference to `netdev`: its ports
 * unconnected, its attachments gone. */
static json_t *doc_without(json_t *doc, const char *netdev)
{
	json_t *d = json_deep_copy(doc), *nf, *p, *atts, *a;
	size_t i, j;

	json_array_foreach (json_object_get(d, "nfs"), i, nf)
		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			const char *peer =
				json_string_value(json_object_get(p, "peer"));

			if (peer && !strcmp(peer, netdev))
				json_object_set_new(p, "peer", json_null());
		}
	atts = json_array();
	json_array_foreach (json_object_get(d, "attachments"), i, a) {
		const char *t = json_string_value(json_object_get(a, "target"));

		if (!t || strcmp(t, netdev))
			json_array_append(atts, a);
	}
	json_object_set_new(d, "attachments", atts);
	return d;
}

/* A netdev the state names came back (or a pending restore may now
 * succeed): move the running system to the desired state again. The
 * library keeps a vanished netdev's name in its model and compares by
 * name, so applying the same state may see nothing to do; then the
 * netdev's ports and attachments are taken out and put back, which
 * resolves the new ifindex and attaches a new stub. */
static void reapply(struct daemon *d, const char *netdev)
{
	json_t *plan = NULL, *without;
	size_t steps;
	int r = nfc_apply(d->nfc, d->saved, 0, &plan);

	steps = json_array_size(plan);
	json_decref(plan);
	plan = NULL;
	if (!r && !steps && netdev && !d->api.blocked) {
		without = doc_without(d->saved, netdev);
		r = nfc_apply(d->nfc, without, 0, &plan);
		steps = json_array_size(plan);
		json_decref(plan);
		plan = NULL;
		if (!r)
			r = nfc_apply(d->nfc, d->saved, 0, &plan);
		steps += json_array_size(plan);
		json_decref(plan);
		json_decref(without);
	}
	if (r) {
		nfd_log("warn", "reapply", "reason=%s error=%s",
			nfd_q(netdev ? netdev : "-"),
			nfd_q(nfc_errmsg(d->nfc)));
		return;
	}
	nfd_log("info", "reapply", "reason=%s steps=%zu",
		nfd_q(netdev ? netdev : "-"), steps);
	if (d->api.blocked) {
		free(d->api.blocked);
		d->api.blocked = NULL;
		nfd_log("info", "restore", "source=state.json status=running");
	}
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* A netdev that comes back is usually being set up by a few commands in a
 * row (created, moved, brought up, its peer configured); re-applying at
 * the first event could see it half done. Each event of the name pushes
 * its re-apply SETTLE_MS later; the 1 s tick runs the due ones. */
#define SETTLE_MS 1000

static void settle_later(struct daemon *d, const char *name)
{
	json_object_set_new(d->settling, name,
			    json_integer(now_ms() + SETTLE_MS));
}

static void run_settled(struct daemon *d)
{
	long long now = now_ms();
	const char *name;
	json_t *v, *due = json_array();
	size_t i;

	json_object_foreach (d->settling, name, v)
		if (json_integer_value(v) <= now)
			json_array_append_new(due, json_string(name));
	json_array_foreach (due, i, v) {
		json_object_del(d->settling, json_string_value(v));
		reapply(d, json_string_value(v));
	}
	json_decref(due);
}

static void on_link(void *ctx, enum nl_event ev, int ifindex, const char *name)
{
	struct daemon *d = ctx;

	if (ev == NL_OVERRUN) {
		nfd_log("warn", "netlink", "msg=%s",
			nfd_q("link events were lost; rescanning"));
		note_missing_netdevs(d);
		return;
	}
	if (!*name || !names_netdev(d, name))
		return;
	if (ev == NL_LINK_DEL) {
		nfd_log("warn", "netdev_gone", "netdev=%s ifindex=%d",
			nfd_q(name), ifindex);
		json_object_set_new(d->gone, name, json_true());
		json_object_del(d->settling, name);
		return;
	}
	if (json_object_get(d->gone, name)) {
		nfd_log("info", "netdev_back", "netdev=%s ifindex=%d",
			nfd_q(name), ifindex);
		json_object_del(d->gone, name);
		settle_later(d, name);
	} else if (json_object_get(d->settling, name) || d->api.blocked) {
		settle_later(d, name);
	}
}

/* ---- listeners --------------------------------------------------------------
 */

static int mkdir_parent(const char *path)
{
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes",
			 path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	if ((r = mkdir_parent(path))) {
		snprintf(err, errlen, "cannot create the directory of %s: %s",
			 path, strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A socket file left by a daemon that died is removed; one that
	 * answers belongs to a running daemon. */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "another nfchaind is serving %s", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* Created 0600 from the start: there is no moment in which another
	 * user could connect. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || chmod(path, 0600) || listen(fd, 128)) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", path,
			 strerror(errno));
		close(fd);
		return r;
	}
	return fd;
fail:
	r = -errno;
	snprintf(err, errlen, "cannot create a unix socket: %s",
		 strerror(errno));
	return r;
}

static int listen_tcp(const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV},
			*ai = NULL;
	char host[128], *port;
	int fd, r, one = 1;

	snprintf(host, sizeof(host), "%s", spec);
	port = strrchr(host, ':');
	if (!port || port == host) {
		snprintf(err, errlen,
			 "--listen %s: expected ADDRESS:PORT "
			 "(127.0.0.1:8080 or [::1]:8080)",
			 spec);
		return -EINVAL;
	}
	*port++ = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r) {
		snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", spec,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return r;
	}
	freeaddrinfo(ai);
	return fd;
}

static char *read_token(const char *path, char *err, size_t errlen)
{
	char buf[512];
	struct stat st;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "cannot read token file %s: %s", path,
			 strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (!fstat(fileno(f), &st) && (st.st_mode & 077))
		nfd_log("warn", "token", "file=%s msg=%s", nfd_q(path),
			nfd_q("the token file is readable by other users; "
			      "chmod 600 it"));
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = 0;
	if (strlen(buf) < 16) {
		snprintf(err, errlen,
			 "token file %s: the token must be at "
			 "least 16 characters on its first line",
			 path);
		return NULL;
	}
	return strdup(buf);
}

/* ---- the loop ---------------------------------------------------------------
 */

static int ep_add(struct daemon *d, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int setup_loop(struct daemon *d, char *err, size_t errlen)
{
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	sigset_t ss;
	int fd;

	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	d->sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->ep < 0 || d->tfd < 0 || d->sfd < 0 ||
	    timerfd_settime(d->tfd, 0, &its, NULL)) {
		snprintf(err, errlen, "event loop setup failed: %s",
			 strerror(errno));
		return -errno;
	}
	d->nlfd = nl_open();
	if (d->nlfd < 0) {
		snprintf(err, errlen, "rtnetlink socket failed: %s",
			 strerror(-d->nlfd));
		return d->nlfd;
	}
	for (int i = 0; i < 2; i++)
		if (d->http[i])
			ep_add(d, http_fd(d->http[i]),
			       i ? EV_HTTP_TCP : EV_HTTP_UNIX);
	fd = nfc_events_fd(d->nfc);
	if (fd >= 0)
		ep_add(d, fd, EV_PKTIN);
	else
		nfd_log("warn", "pktin", "msg=%s",
			nfd_q("no packet-in fd from the runtime; the slow "
			      "path is not served"));
	ep_add(d, d->tfd, EV_TIMER);
	ep_add(d, d->sfd, EV_SIGNAL);
	ep_add(d, d->nlfd, EV_NETLINK);
	return 0;
}

static void run(struct daemon *d)
{
	struct epoll_event evs[16];

	while (!d->stop) {
		int timeout = -1, n;

		for (int i = 0; i < 2; i++) {
			int t = d->http[i] ? http_timeout_ms(d->http[i]) : -1;

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
		}
		n = epoll_wait(d->ep, evs, 16, timeout);
		if (n < 0 && errno != EINTR) {
			nfd_log("error", "loop", "error=%s",
				nfd_q(strerror(errno)));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t ticks;
			struct signalfd_siginfo si;

			switch (evs[i].data.u32) {
			case EV_PKTIN:
				nfc_poll(d->nfc, 0);
				break;
			case EV_TIMER:
				if (read(d->tfd, &ticks, sizeof(ticks)) > 0) {
					nfc_tick(d->nfc);
					run_settled(d);
				}
				break;
			case EV_SIGNAL:
				if (read(d->sfd, &si, sizeof(si)) > 0) {
					nfd_log("info", "signal", "signal=%s",
						strsignal(si.ssi_signo));
					d->stop = true;
				}
				break;
			case EV_NETLINK:
				nl_read(d->nlfd, on_link, d);
				break;
			}
		}
		/* MHD also has timeouts to run; with nothing ready, MHD_run
		 * returns at once. */
		for (int i = 0; i < 2; i++)
			if (d->http[i])
				http_run(d->http[i]);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"state-dir", required_argument, NULL, 'd'},
		{"pin-root", required_argument, NULL, 'p'},
		{"listen", required_argument, NULL, 'l'},
		{"token-file", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct daemon d = {.socket_path = DEFAULT_SOCKET,
			   .state_dir = DEFAULT_STATE_DIR,
			   .ep = -1,
			   .tfd = -1,
			   .sfd = -1,
			   .nlfd = -1};
	struct nfc_opts nopts = {0};
	char err[1024], *token = NULL;
	int c, fd, r = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			d.socket_path = optarg;
			break;
		case 'd':
			d.state_dir = optarg;
			break;
		case 'p':
			d.pin_root = optarg;
			break;
		case 'l':
			d.listen = optarg;
			break;
		case 't':
			d.token_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nfchaind: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!!d.listen != !!d.token_file) {
		fprintf(stderr, "nfchaind: --listen and --token-file go "
				"together: TCP clients must present a token\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* A fixed mmap threshold: glibc otherwise raises it after the first
	 * large free, and the runtime's megabyte-sized state buffers would
	 * then stay in the heap, resident, for the life of the daemon. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (d.token_file &&
	    !(token = read_token(d.token_file, err, sizeof(err)))) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		return 1;
	}
	if (state_init(d.state_dir, err, sizeof(err))) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		goto out;
	}
	nopts.pin_root = d.pin_root;
	if (nfc_open(&d.nfc, &nopts, err, sizeof(err))) {
		nfd_log("error", "start", "pin_root=%s error=%s",
			nfd_q(d.pin_root ?: NFC_DEFAULT_PIN_ROOT), nfd_q(err));
		goto out;
	}
	if (api_init(&d.api, d.nfc)) {
		nfd_log("error", "start", "error=%s",
			nfd_q("cannot read the NF types"));
		goto out;
	}
	d.api.save = save_cb;
	d.api.save_ctx = &d;
	d.gone = json_object();
	d.settling = json_object();
	if (restore(&d))
		goto out;
	note_missing_netdevs(&d);

	/* Listen only once the state is restored: a client that can connect
	 * sees the final state, never a half-restored one. */
	fd = listen_unix(d.socket_path, err, sizeof(err));
	if (fd < 0 || !(d.http[0] = http_start(&d.api, fd, NULL, "unix", err,
					       sizeof(err)))) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		goto out;
	}
	if (d.listen) {
		fd = listen_tcp(d.listen, err, sizeof(err));
		if (fd < 0 || !(d.http[1] = http_start(&d.api, fd, token, "tcp",
						       err, sizeof(err)))) {
			nfd_log("error", "start", "error=%s", nfd_q(err));
			goto out;
		}
	}
	if (setup_loop(&d, err, sizeof(err))) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		goto out;
	}
	nfd_log("info", "start",
		"pid=%d socket=%s listen=%s pin_root=%s "
		"state_dir=%s nfs=%zu",
		(int)getpid(), nfd_q(d.socket_path), nfd_q(d.listen ?: "-"),
		nfd_q(nfc_pin_root(d.nfc)), nfd_q(d.state_dir),
		json_array_size(json_object_get(d.saved, "nfs")));
	run(&d);
	r = 0;
	nfd_log("info", "stop", "msg=%s",
		nfd_q("the data plane keeps running; a new nfchaind adopts "
		      "it"));
out:
	for (int i = 0; i < 2; i++)
		http_stop(d.http[i]);
	if (d.http[0])
		unlink(d.socket_path);
	int fds[] = {d.ep, d.tfd, d.sfd, d.nlfd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (d.api.types)
		api_fini(&d.api);
	if (d.nfc)
		nfc_close(d.nfc);
	json_decref(d.saved);
	json_decref(d.gone);
	json_decref(d.settling);
	free(token);
	return r;
}
