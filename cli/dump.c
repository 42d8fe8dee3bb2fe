// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfchain <name> dump: a capture NF's pcap stream to stdout. HTTP/1.1 over
 * the unix socket (the other calls speak 1.0): the stream is chunked, and
 * its trailer carries the end figures (X-Pcap-Packets, -Lost, -Dropped)
 * that only the daemon knows. Records are written whole, so that a dump
 * cut short by Ctrl-C is still a pcap tcpdump reads to the end; with
 * format=pcapng, blocks are (the stream's first bytes say which).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop;

static void on_int(int sig)
{
	(void)sig;
	stop = 1;
}

struct dump {
	int fd;
	char *in; /* bytes read, not yet parsed: in[off..len) */
	size_t off, len, cap;
	char *rec; /* pcap bytes not yet a whole record */
	size_t rlen, rcap;
	int header_done; /* the 24-byte file header written */
	int ng;		 /* pcapng: whole blocks, packets are EPBs */
	unsigned long long packets;
	long long trailer[3]; /* packets, lost, dropped; -1 unknown */
	/* Until the stream begins, --timeout bounds the wait (CLOCK_MONOTONIC
	 * ms; 0: none): a daemon that never answered held the dump forever
	 * (found by a helper). Packets may take as long as they take. */
	long long deadline;
	int timed_out;
};

static long long mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Reads more into d->in; 0 at EOF, -1 on error or interrupt. */
static int fill(struct dump *d)
{
	for (;;) {
		struct pollfd p = {.fd = d->fd, .events = POLLIN};
		ssize_t n;

		if (stop)
			return -1;
		if (d->deadline && mono_ms() >= d->deadline) {
			d->timed_out = 1;
			return -1;
		}
		if (poll(&p, 1, 200) <= 0)
			continue;
		if (d->off && d->off == d->len)
			d->off = d->len = 0;
		if (d->len + 65536 > d->cap) {
			size_t cap = d->cap ? d->cap * 2 : 131072;
			char *b = realloc(d->in, cap);

			if (!b)
				return -1;
			d->in = b;
			d->cap = cap;
		}
		n = read(d->fd, d->in + d->len, d->cap - d->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		d->len += n;
		return n ? 1 : 0;
	}
}

/* The next CRLF-ended line (without it), or NULL at EOF. */
static char *line(struct dump *d)
{
	for (;;) {
		char *s = d->in + d->off,
		     *e = d->in ? memmem(s, d->len - d->off, "\r\n", 2) : NULL;

		if (e) {
			*e = 0;
			d->off = e + 2 - d->in;
			return s;
		}
		if (fill(d) <= 0)
			return NULL;
	}
}

/* Appends pcap bytes and writes every whole record they complete. */
static int out(struct dump *d, const char *p, size_t n)
{
	size_t o = 0;

	if (d->rlen + n > d->rcap) {
		size_t cap = d->rcap ? d->rcap : 65536;
		char *b;

		while (cap < d->rlen + n)
			cap *= 2;
		b = realloc(d->rec, cap);
		if (!b)
			return -1;
		d->rec = b;
		d->rcap = cap;
	}
	memcpy(d->rec + d->rlen, p, n);
	d->rlen += n;
	for (;;) {
		size_t need;
		uint32_t w[2];

		if (!d->header_done && d->rlen - o >= 4) {
			memcpy(w, d->rec + o, 4);
			d->ng = w[0] == 0x0a0d0d0au; /* a section header */
		}
		if (d->ng) {
			/* every block: type, total length, ..., length */
			if (d->rlen - o < 8)
				break;
			memcpy(w, d->rec + o, 8);
			need = w[1] < 12 ? 12 : w[1];
			if (d->rlen - o < need)
				break;
			if (fwrite(d->rec + o, 1, need, stdout) != need)
				return -1;
			d->packets += w[0] == 6; /* enhanced packet block */
			d->header_done = 1;
			o += need;
			continue;
		}
		if (!d->header_done) {
			need = 24;
		} else {
			uint32_t caplen;

			if (d->rlen - o < 16)
				break;
			memcpy(&caplen, d->rec + o + 8, 4);
			need = 16 + (size_t)caplen;
		}
		if (d->rlen - o < need)
			break;
		if (fwrite(d->rec + o, 1, need, stdout) != need)
			return -1;
		if (d->header_done)
			d->packets++;
		d->header_done = 1;
		o += need;
	}
	memmove(d->rec, d->rec + o, d->rlen - o);
	d->rlen -= o;
	return fflush(stdout) ? -1 : 0;
}

/* The chunked body; 0 once the last chunk and the trailer are read. */
static int body(struct dump *d)
{
	for (;;) {
		char *l = line(d), *end;
		unsigned long n;

		if (!l)
			return -1;
		n = strtoul(l, &end, 16);
		if (end == l)
			return -1;
		if (!n)
			break;
		while (n) {
			size_t have = d->len - d->off, take;

			if (!have && fill(d) <= 0)
				return -1;
			have = d->len - d->off;
			take = have < n ? have : n;
			if (out(d, d->in + d->off, take))
				return -1;
			d->off += take;
			n -= take;
		}
		if (!(l = line(d)))
			return -1;
	}
	for (char *l; (l = line(d)) && *l;) {
		static const char *const k[3] = {
			"X-Pcap-Packets:", "X-Pcap-Lost:", "X-Pcap-Dropped:"};

		for (int i = 0; i < 3; i++)
			if (!strncasecmp(l, k[i], strlen(k[i])))
				d->trailer[i] =
					strtoll(l + strlen(k[i]), NULL, 10);
	}
	return 0;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

int cli_dump(const struct conn *c, const char *path, const char *nf)
{
	struct dump d = {.fd = -1, .trailer = {-1, -1, -1}};
	struct sigaction sa = {.sa_handler = on_int};
	char head[2400], *l, err[600];
	int n, rc = 1, chunked = 0;
	long status, tmo = c->timeout_ms > 0 ? c->timeout_ms : CLI_TIMEOUT_MS;

	if (!c->socket) {
		fprintf(stderr, "nfchain: dump works over the unix socket "
				"(--socket), not --url\n");
		return 1;
	}
	d.fd = connect_unix(c->socket);
	if (d.fd < 0) {
		fprintf(stderr,
			"nfchain: cannot reach nfchaind at unix:%s: %s\n",
			c->socket, strerror(errno));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	n = snprintf(head, sizeof(head),
		     "GET %s HTTP/1.1\r\nHost: nfchaind\r\nTE: trailers\r\n"
		     "Connection: close\r\n\r\n",
		     path);
	if (send(d.fd, head, n, MSG_NOSIGNAL) != n) {
		fprintf(stderr, "nfchain: sending to nfchaind failed: %s\n",
			strerror(errno));
		goto out;
	}
	d.deadline = mono_ms() + tmo;
	l = line(&d);
	if (!l || strncmp(l, "HTTP/1.", 7) || strlen(l) < 12) {
		if (d.timed_out)
			cli_timed_out(c, "GET", path, tmo,
				      "waiting for the answer", err,
				      sizeof(err));
		fprintf(stderr, "nfchain: %s\n",
			d.timed_out ? err
			: stop	    ? "interrupted"
				    : "nfchaind sent no valid answer");
		goto out;
	}
	status = strtol(l + 9, NULL, 10);
	while ((l = line(&d)) && *l)
		if (!strncasecmp(l, "Transfer-Encoding:", 18) &&
		    strcasestr(l + 18, "chunked"))
			chunked = 1;
	if (!l) {
		if (d.timed_out) {
			cli_timed_out(c, "GET", path, tmo,
				      "waiting for the answer", err,
				      sizeof(err));
			fprintf(stderr, "nfchain: %s\n", err);
		}
		goto out;
	}
	if (status == 200)
		d.deadline = 0;
	if (status != 200) {
		json_t *j;
		const char *msg;

		while (fill(&d) > 0)
			;
		j = json_loadb(d.in + d.off, d.len - d.off, 0, NULL);
		msg = json_string_value(json_object_get(j, "error"));
		fprintf(stderr, "nfchain: %s\n",
			msg ? msg : "the daemon refused the request");
		json_decref(j);
		goto out;
	}
	if (!chunked) {
		fprintf(stderr, "nfchain: nfchaind's pcap stream is not "
				"chunked\n");
		goto out;
	}
	if (body(&d)) {
		fprintf(stderr, "%s: %llu packets captured (%s)\n", nf,
			d.packets,
			stop ? "interrupted" : "the stream broke off");
		rc = stop ? 0 : 1;
		goto out;
	}
	fprintf(stderr,
		"%s: %llu packets captured, %lld lost (ring full), %lld "
		"dropped (reader too slow)\n",
		nf, d.packets, d.trailer[1], d.trailer[2]);
	rc = 0;
out:
	close(d.fd);
	free(d.in);
	free(d.rec);
	return rc;
}
