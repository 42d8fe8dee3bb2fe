// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The door of an API listener: nfchaind accepts connections itself and
 * hands one to libmicrohttpd only once its request header is complete.
 *
 * Why: MHD holds every connection it accepts, complete or not, until its
 * idle timeout, up to its connection limit; past the limit it stops
 * accepting, and a CLI call then waits behind hundreds of clients that
 * sent half a request (slowloris) — 27 s measured with 500 of them. Here a
 * connection that has not sent its header costs a slot in a table and an
 * fd, nothing else; it is dropped after GATE_HEADER_MS, and when the table
 * is full the oldest goes, so that a new client, which sends its request
 * at once, always finds room.
 *
 * The gate also answers itself what MHD would answer with an HTML page: a
 * request line that is not HTTP, a URL or a header too long. Those get the
 * API's {"error": ...} JSON like every other error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gate.h"
#include "http.h"
#include "log.h"

struct pend {
	int fd; /* -1: free slot */
	long long t0;
	struct sockaddr_storage sa;
	socklen_t salen;
};

struct gate {
	int lfd, ep;
	struct http *h;
	const char *name;
	struct pend *p;
	unsigned n, used, free_hint;
	long long next_expiry, last_note;
	/* Dropped since the last log line: logged as sums, at most once a
	 * second, since an attack must not flood the log as well. */
	unsigned long timed_out, evicted;
	char buf[GATE_HEAD_MAX + 1];
};

static long long ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void drop(struct gate *g, unsigned i)
{
	epoll_ctl(g->ep, EPOLL_CTL_DEL, g->p[i].fd, NULL);
	close(g->p[i].fd);
	g->p[i].fd = -1;
	g->used--;
	g->free_hint = i;
}

/* An HTTP/1.0 answer in the API's JSON, then close. The peeked bytes are
 * read first: closing with unread data would reset the connection and the
 * client could lose the answer. */
static void answer(struct gate *g, unsigned i, int status, const char *reason,
		   const char *msg, size_t peeked)
{
	char out[1024];
	json_t *j = json_pack("{s:s}", "error", msg);
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int n;

	if (peeked) {
		/* Logged like the requests MHD serves; the 408s of a slow
		 * client flood are summed up in gate_run instead. */
		char line[256];
		size_t k =
			peeked < sizeof(line) - 1 ? peeked : sizeof(line) - 1;

		memcpy(line, g->buf, k);
		line[k] = 0;
		line[strcspn(line, "\r\n")] = 0;
		nfd_log("warn", "request",
			"listener=%s request=%s status=%d error=%s", g->name,
			nfd_q(line), status, nfd_q(msg));
		(void)!recv(g->p[i].fd, g->buf, peeked, MSG_DONTWAIT);
	}
	n = snprintf(out, sizeof(out),
		     "HTTP/1.0 %d %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
		     status, reason, (body ? strlen(body) : 2) + 1,
		     body ? body : "{}");
	if (n > 0 && n < (int)sizeof(out))
		(void)!send(g->p[i].fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(g->p[i].fd, SHUT_WR);
	free(body);
	json_decref(j);
	http_count(g->h, status);
	drop(g, i);
}

/* Whether buf[0..n) can begin a request line "METHOD SP TARGET SP
 * HTTP/1.x": 1 complete line and valid, 0 valid so far, -1 not HTTP. */
static int line_ok(const char *b, size_t n)
{
	static const char http[] = "HTTP/1.";
	size_t i = 0, t;

	while (i < n && b[i] >= 'A' && b[i] <= 'Z')
		i++;
	if (i == n)
		return 0;
	if (!i || b[i++] != ' ')
		return -1;
	t = i;
	while (i < n && (unsigned char)b[i] > ' ' && b[i] != 0x7f)
		i++;
	if (i == n)
		return 0;
	if (i == t || b[i++] != ' ')
		return -1;
	for (t = 0; http[t]; t++, i++) {
		if (i == n)
			return 0;
		if (b[i] != http[t])
			return -1;
	}
	if (i == n)
		return 0;
	if (b[i] < '0' || b[i] > '9')
		return -1;
	if (++i == n || (b[i] == '\r' && i + 1 == n))
		return 0;
	if (b[i] == '\r')
		i++;
	return b[i] == '\n' ? 1 : -1;
}

static int is_header(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && line[n] == ':' && !strncasecmp(line, name, n);
}

/* The header lines [p, end) that MHD would refuse with an HTML page of
 * its own: the status to answer with msg set, or 0 when they are fine. */
static int headers_ok(const char *p, const char *end, char *msg, size_t len,
		      unsigned max)
{
	/* The first Content-Length, and whether chunked was named: two
	 * lengths that differ, or a length beside chunked, frame the body
	 * two ways, and what one reader takes as the body another takes
	 * as the next request (RFC 9112 6.3: smuggling; found by a helper,
	 * a request hidden in a body was answered). */
	long cl = -1;
	int te = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *v;
		size_t n = (nl ? nl : end) - p, vn;

		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			break;
		if (*p != ' ' && *p != '\t' && !memchr(p, ':', n)) {
			snprintf(msg, len,
				 "malformed header line (no ':'): %.40s", p);
			msg[strcspn(msg, "\r\n")] = 0;
			return 400;
		}
		v = memchr(p, ':', n);
		v = v ? v + 1 : p + n;
		while (v < p + n && (*v == ' ' || *v == '\t'))
			v++;
		vn = p + n - v;
		while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		if (is_header(p, n, "content-length")) {
			size_t k = 0;

			while (k < vn && v[k] >= '0' && v[k] <= '9')
				k++;
			if (!vn || k != vn) {
				snprintf(msg, len,
					 "Content-Length is not a number");
				return 400;
			}
			if (vn > 9 || strtoul(v, NULL, 10) > max) {
				snprintf(msg, len,
					 "request body larger than %u bytes",
					 max);
				return 413;
			}
			if (cl >= 0 &&
			    (unsigned long)cl != strtoul(v, NULL, 10)) {
				snprintf(msg, len,
					 "two Content-Length headers that "
					 "differ");
				return 400;
			}
			cl = (long)strtoul(v, NULL, 10);
		}
		if (is_header(p, n, "transfer-encoding"))
			te = 1;
		if (te && cl >= 0) {
			snprintf(msg, len,
				 "a Content-Length and a Transfer-Encoding: "
				 "one of them");
			return 400;
		}
		if (is_header(p, n, "transfer-encoding") &&
		    (vn != 7 || strncasecmp(v, "chunked", 7))) {
			snprintf(msg, len,
				 "Transfer-Encoding %.*s is not supported "
				 "(chunked or a Content-Length)",
				 (int)(vn > 40 ? 40 : vn), v);
			return 501;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* A readable pending connection: wait for more, answer, or hand over. */
static void look(struct gate *g, unsigned i)
{
	struct pend *p = &g->p[i];
	ssize_t n = recv(p->fd, g->buf, sizeof(g->buf) - 1,
			 MSG_PEEK | MSG_DONTWAIT);
	const char *eol, *end;
	char msg[160];
	size_t rest;
	int ok, big;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(g, i);
		return;
	}
	g->buf[n] = 0;
	eol = memchr(g->buf, '\n', n);
	ok = line_ok(g->buf, eol ? (size_t)(eol - g->buf + 1) : (size_t)n);
	if (ok < 0) {
		answer(g, i, 400, "Bad Request",
		       "malformed request: expected \"METHOD /path "
		       "HTTP/1.1\" and headers",
		       n);
		return;
	}
	if ((eol ? eol - g->buf : n) > GATE_LINE_MAX) {
		snprintf(msg, sizeof(msg),
			 "the request line is longer than %d bytes",
			 GATE_LINE_MAX);
		answer(g, i, 414, "URI Too Long", msg, n);
		return;
	}
	/* memmem, not strstr: a NUL byte in a header must not hide the
	 * end of it. */
	rest = eol ? (size_t)(n - (eol - g->buf)) : 0;
	end = eol ? memmem(eol, rest, "\n\r\n", 3) : NULL;
	if (!end && eol)
		end = memmem(eol, rest, "\n\n", 2);
	/* A collection import may be larger (http.c's max_body): 500,000
	 * routes are some 17 MB. */
	{
		const char *sp = memchr(g->buf, ' ', n), *q;

		q = sp && eol ? memchr(sp + 1, ' ', eol - sp - 1) : NULL;
		if (q && memchr(sp + 1, '?', q - sp - 1))
			q = memchr(sp + 1, '?', q - sp - 1);
		big = q && q - sp > 7 && !memcmp(q - 7, "/import", 7);
	}
	if (end && (ok = headers_ok(eol + 1, end + 1, msg, sizeof(msg),
				    big ? HTTP_MAX_IMPORT : HTTP_MAX_BODY))) {
		answer(g, i, ok,
		       ok == 413   ? "Content Too Large"
		       : ok == 501 ? "Not Implemented"
				   : "Bad Request",
		       msg, n);
		return;
	}
	if (end) {
		int fd = p->fd;

		/* From here MHD owns the fd: out of our epoll set first. */
		epoll_ctl(g->ep, EPOLL_CTL_DEL, fd, NULL);
		p->fd = -1;
		g->used--;
		g->free_hint = i;
		http_add(g->h, fd, (struct sockaddr *)&p->sa, p->salen);
		return;
	}
	if (n >= GATE_HEAD_MAX) {
		snprintf(msg, sizeof(msg),
			 "the request header is longer than %d bytes",
			 GATE_HEAD_MAX);
		answer(g, i, 431, "Request Header Fields Too Large", msg, n);
	}
}

static unsigned oldest(struct gate *g)
{
	unsigned best = 0;

	for (unsigned i = 1; i < g->n; i++)
		if (g->p[i].fd >= 0 &&
		    (g->p[best].fd < 0 || g->p[i].t0 < g->p[best].t0))
			best = i;
	return best;
}

static unsigned free_slot(struct gate *g)
{
	if (g->used == g->n) {
		/* Full: the oldest goes. A real client has sent its request
		 * long before it would be the oldest. */
		unsigned i = oldest(g);

		drop(g, i);
		g->evicted++;
		return i;
	}
	if (g->p[g->free_hint].fd < 0)
		return g->free_hint;
	for (unsigned i = 0; i < g->n; i++)
		if (g->p[i].fd < 0)
			return i;
	return 0; /* not reached: used < n */
}

static void accept_all(struct gate *g)
{
	for (int k = 0; k < 256; k++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		/* Edge-triggered: a client's bytes are looked at when more
		 * arrive, not again on every turn of the loop. */
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP |
						   EPOLLET};
		int fd = accept4(g->lfd, (struct sockaddr *)&sa, &salen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned i;

		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) && g->used) {
				/* Out of fds: make room as when full. */
				drop(g, oldest(g));
				g->evicted++;
				continue;
			}
			return;
		}
		i = free_slot(g);
		g->p[i] =
			(struct pend){.fd = fd, .t0 = ms_now(), .salen = salen};
		memcpy(&g->p[i].sa, &sa, salen);
		ev.data.u32 = i;
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			g->p[i].fd = -1;
			continue;
		}
		g->used++;
		if (!g->next_expiry ||
		    g->next_expiry > g->p[i].t0 + GATE_HEADER_MS)
			g->next_expiry = g->p[i].t0 + GATE_HEADER_MS;
	}
}

static void expire(struct gate *g, long long now)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "no complete request header within %d s",
		 GATE_HEADER_MS / 1000);
	g->next_expiry = 0;
	for (unsigned i = 0; i < g->n; i++) {
		long long due;

		if (g->p[i].fd < 0)
			continue;
		due = g->p[i].t0 + GATE_HEADER_MS;
		if (due <= now) {
			answer(g, i, 408, "Request Timeout", msg, 0);
			g->timed_out++;
		} else if (!g->next_expiry || due < g->next_expiry) {
			g->next_expiry = due;
		}
	}
}

void gate_run(struct gate *g)
{
	struct epoll_event evs[64];
	long long now;
	int n;

	/* The listener first: a new client gets a slot before the old
	 * ones' bytes are looked at. */
	accept_all(g);
	/* Bounded: the rest waits for the next turn, the loop's other
	 * work too must go on. */
	for (int k = 0; k < 16 && (n = epoll_wait(g->ep, evs, 64, 0)) > 0; k++)
		for (int i = 0; i < n; i++)
			if (evs[i].data.u32 == GATE_LISTENER)
				accept_all(g);
			else if (g->p[evs[i].data.u32].fd >= 0)
				look(g, evs[i].data.u32);
	now = ms_now();
	if (g->next_expiry && now >= g->next_expiry)
		expire(g, now);
	if ((g->timed_out || g->evicted) && now - g->last_note >= 1000) {
		nfd_log("warn", "gate",
			"listener=%s timed_out=%lu evicted=%lu pending=%u "
			"msg=%s",
			g->name, g->timed_out, g->evicted, g->used,
			nfd_q("connections dropped before a complete request "
			      "header"));
		g->timed_out = g->evicted = 0;
		g->last_note = now;
	}
}

int gate_timeout_ms(struct gate *g)
{
	long long left;

	if (!g->next_expiry && !g->timed_out && !g->evicted)
		return -1;
	left = (g->next_expiry ? g->next_expiry : ms_now() + 1000) - ms_now();
	return left < 0 ? 0 : left > 1000 ? 1000 : (int)left;
}

int gate_fd(struct gate *g)
{
	return g->ep;
}

struct gate *gate_start(int listen_fd, struct http *h, const char *name,
			char *err, size_t errlen)
{
	struct gate *g = calloc(1, sizeof(*g));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = GATE_LISTENER};

	if (!g || !(g->p = calloc(GATE_MAX_PENDING, sizeof(*g->p)))) {
		snprintf(err, errlen, "out of memory");
		free(g);
		return NULL;
	}
	g->n = GATE_MAX_PENDING;
	for (unsigned i = 0; i < g->n; i++)
		g->p[i].fd = -1;
	g->lfd = listen_fd;
	g->h = h;
	g->name = name;
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	/* accept4 must never block the loop. */
	if (g->ep < 0 ||
	    fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) ||
	    epoll_ctl(g->ep, EPOLL_CTL_ADD, listen_fd, &ev)) {
		snprintf(err, errlen, "setting up the %s listener: %s", name,
			 strerror(errno));
		gate_stop(g);
		return NULL;
	}
	return g;
}

void gate_stop(struct gate *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->n; i++)
		if (g->p[i].fd >= 0)
			close(g->p[i].fd);
	if (g->ep >= 0)
		close(g->ep);
	close(g->lfd);
	free(g->p);
	free(g);
}
