// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The event loop: one thread, one epoll set over the HTTP listeners,
 * packet-in, a 1 s timer, SIGINT/SIGTERM (as a signalfd, so a signal is an
 * event like the others) and rtnetlink link events.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "nfchain/nfchain.h"

#include "daemon.h"
#include "log.h"

/* What an epoll event is from (its data.u32). */
enum {
	EV_HTTP_UNIX,
	EV_HTTP_TCP,
	EV_PKTIN,
	EV_TIMER,
	EV_SIGNAL,
	EV_NETLINK,
	EV_GATE_UNIX,
	EV_GATE_TCP,
	EV_PCAP
};

static int ep_add(struct daemon *d, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int daemon_loop_setup(struct daemon *d, char *err, size_t errlen)
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
	d->pcap = pcap_start(d->nfc, d->ep, EV_PCAP);
	for (int i = 0; i < 2; i++)
		if (d->http[i]) {
			http_set_pcap(d->http[i], d->pcap);
			ep_add(d, http_fd(d->http[i]),
			       i ? EV_HTTP_TCP : EV_HTTP_UNIX);
			ep_add(d, gate_fd(d->gate[i]),
			       i ? EV_GATE_TCP : EV_GATE_UNIX);
		}
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

/*
 * A large request (an apply of 1,000 entries, a listing) frees what it
 * built, but glibc hands back only the top of the heap: the rest stays in
 * RSS. malloc_trim gives back the free pages wherever they are, but pages
 * given back fault in again at the next large request, and a fault is
 * costly on these machines: a no-op apply of 10,000 rules took 24 ms
 * after one like it and 58 ms after a trim (2,500 faults). So the trim
 * waits until the daemon is idle: at a tick, when no large request was
 * answered for TRIM_IDLE_NS and one was (or more than 1 MiB more is free
 * than after the last trim) since the last trim. A burst of calls keeps
 * its pages; an idle daemon is back to its idle size within ~3 s.
 */
#define TRIM_IDLE_NS 2000000000ull

static struct {
	size_t seen;	  /* free bytes after the last trim */
	int dirty;	  /* something large was freed since */
	uint64_t last_ns; /* when a large request was last answered */
} trim;

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

static void trim_note_big(void)
{
	trim.dirty = 1;
	trim.last_ns = mono_ns();
}

static void trim_if_idle(void)
{
	struct mallinfo2 mi = mallinfo2();

	if (mi.fordblks > trim.seen + (1u << 20))
		trim.dirty = 1;
	else if (mi.fordblks < trim.seen)
		trim.seen = mi.fordblks; /* reused since */
	if (!trim.dirty || mono_ns() - trim.last_ns < TRIM_IDLE_NS)
		return;
	malloc_trim(0);
	nfc_release_embedded(); /* an NF loaded since read its object */
	trim.seen = mallinfo2().fordblks;
	trim.dirty = 0;
}

void daemon_loop_run(struct daemon *d)
{
	struct epoll_event evs[16];

	while (!d->stop) {
		int timeout = -1, n;

		for (int i = 0; i < 3; i++) {
			int t = i == 2	     ? daemon_settle_timeout_ms(d)
				: d->http[i] ? http_timeout_ms(d->http[i])
					     : -1,
			    u = i < 2 && d->gate[i]
					? gate_timeout_ms(d->gate[i])
					: -1;

			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
			if (u >= 0 && (timeout < 0 || u < timeout))
				timeout = u;
		}
		if (d->pcap) {
			int t = pcap_timeout_ms(d->pcap);

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
					daemon_save_forgotten(d);
				}
				trim_if_idle();
				if (d->pcap)
					pcap_tick(d->pcap, 1);
				break;
			case EV_PCAP:
				pcap_poll(d->pcap);
				break;
			case EV_SIGNAL:
				if (read(d->sfd, &si, sizeof(si)) > 0) {
					nfd_log("info", "signal", "signal=%s",
						strsignal(si.ssi_signo));
					d->stop = true;
				}
				break;
			case EV_NETLINK:
				nl_read(d->nlfd, daemon_on_link, d);
				break;
			}
		}
		daemon_run_settled(d);
		if (d->pcap)
			pcap_tick(d->pcap, 0); /* seconds= ends */
		/* The gates first: what they hand over is then served in
		 * the same turn. MHD also has timeouts to run; with nothing
		 * ready, gate_run and MHD_run return at once. */
		for (int i = 0; i < 2; i++)
			if (d->http[i]) {
				gate_run(d->gate[i]);
				http_run(d->http[i]);
				/* Answered: what it built is freed. */
				if (http_took_big(d->http[i]))
					trim_note_big();
			}
	}
}
