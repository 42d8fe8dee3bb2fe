// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One HTTP request to nfchaind.
 *
 * Over the unix socket the CLI speaks HTTP/1.0 itself: one request, then
 * the answer up to EOF (HTTP/1.0 means no chunked encoding and the server
 * closes), status from the status line, body after the blank line. The
 * server is always nfchaind (libmicrohttpd). Why not libcurl here: loading
 * it pulls in 33 shared objects (TLS, Kerberos, LDAP, SSH...), measured at
 * 3.2 ms of a 3.9 ms start-up on these machines, most of the 5 ms p99 a CLI
 * call is allowed (bench/control). For --url (TCP, possibly through
 * proxies) libcurl is used, loaded with dlopen only then.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "cli.h"

/* The time a call may take: --timeout, or the default for it. */
static long timeout_of(const struct conn *c, const char *method,
		       const char *path)
{
	if (c->timeout_ms > 0)
		return c->timeout_ms;
	size_t n = strcspn(path, "?");

	/* An import of 250,000 routes took 32 s on a loaded machine: it
	 * waits as long as an apply. */
	if ((!strncmp(path, "/v1/state", 9) && strcmp(method, "GET")) ||
	    (n > 7 && !strncmp(path + n - 7, "/import", 7)))
		return CLI_APPLY_TIMEOUT_MS;
	return CLI_TIMEOUT_MS;
}

/* Says what was waited for and how to wait longer. */
void cli_timed_out(const struct conn *c, const char *method, const char *path,
		   long ms, const char *doing, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "no answer from nfchaind at %s within %ld%s (%s %s, %s); "
		 "--timeout SECONDS or NFCHAIN_TIMEOUT waits longer",
		 c->socket ? c->socket : c->url, ms % 1000 ? ms : ms / 1000,
		 ms % 1000 ? " ms" : " s", method, path, doing);
}

struct buf {
	char *p;
	size_t len;
};

static int buf_add(struct buf *b, const char *data, size_t n)
{
	char *p = realloc(b->p, b->len + n + 1);

	if (!p)
		return -1;
	memcpy(p + b->len, data, n);
	b->p = p;
	b->len += n;
	p[b->len] = 0;
	return 0;
}

static long long ms_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Sends all of p; the server may answer (413) and close before it has read
 * a large body: then the answer is still read. MSG_NOSIGNAL: no SIGPIPE. */
static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= w;
	}
	return 0;
}

/* The answer's head is kept in `in` until its blank line; the body goes
 * to `js` as it comes (at most Content-Length bytes of it). */
struct answer {
	struct buf in;
	struct jarr *js;
	long status;
	long long left; /* body bytes still wanted; -1: up to EOF */
	int body;
};

static int answer_add(struct answer *a, const char *d, size_t n)
{
	char *eoh, *cl;

	if (!a->body) {
		if (buf_add(&a->in, d, n))
			return -1;
		eoh = strstr(a->in.p, "\r\n\r\n");
		if (!eoh)
			return a->in.len > 65536 ? -1 : 0;
		if (strncmp(a->in.p, "HTTP/1.", 7) || a->in.len < 12)
			return -1;
		a->status = strtol(a->in.p + 9, NULL, 10);
		*eoh = 0;
		cl = strcasestr(a->in.p, "\r\ncontent-length:");
		a->left = cl ? strtoll(cl + 17, NULL, 10) : -1;
		a->body = 1;
		eoh += 4;
		d = eoh;
		n = a->in.len - (eoh - a->in.p);
	}
	if (a->left >= 0 && (long long)n > a->left)
		n = a->left;
	if (a->left >= 0)
		a->left -= n;
	return n ? jarr_feed(a->js, d, n) : 0;
}

static int unix_call(const struct conn *c, const char *method, const char *path,
		     const char *body, size_t body_len,
		     const char *content_type, long *status, struct jarr *js,
		     char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct answer a = {.js = js};
	char head[4096], chunk[65536];
	long tmo = timeout_of(c, method, path);
	long long deadline = ms_now() + tmo;
	struct timeval tv = {.tv_sec = tmo / 1000,
			     .tv_usec = tmo % 1000 * 1000};
	int fd, n, r;

	if (strlen(c->socket) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", c->socket);
		return -1;
	}
	strcpy(sa.sun_path, c->socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* connect() to a unix socket whose backlog is full waits, up to
	 * the send timeout; so does sending a body the server does not
	 * read. */
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno == EAGAIN || errno == EINPROGRESS)
			cli_timed_out(c, method, path, tmo, "connecting", err,
				      errlen);
		else
			snprintf(err, errlen,
				 "cannot reach nfchaind at unix:%s: %s%s",
				 c->socket, strerror(errno),
				 errno == ENOENT || errno == ECONNREFUSED
					 ? " (is nfchaind running?)"
					 : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.0\r\nHost: nfchaind\r\n"
		     "Accept: application/json\r\n",
		     method, path);
	if (body)
		n += snprintf(head + n, sizeof(head) - n,
			      "Content-Type: %s\r\nContent-Length: %zu\r\n",
			      content_type ? content_type : "application/json",
			      body_len);
	n += snprintf(head + n, sizeof(head) - n, "\r\n");
	if (n >= (int)sizeof(head)) {
		snprintf(err, errlen, "request too long");
		close(fd);
		return -1;
	}
	/* A small body goes in the head's buffer: one send, so that the
	 * daemon wakes once for the request, not twice. */
	if (body && body_len < sizeof(head) - n) {
		memcpy(head + n, body, body_len);
		n += body_len;
		body = NULL;
	}
	r = send_all(fd, head, n);
	if (!r && body)
		r = send_all(fd, body, body_len);
	if (r == -EAGAIN) {
		cli_timed_out(c, method, path, tmo, "sending the request", err,
			      errlen);
		close(fd);
		return -1;
	}
	if (r && r != -EPIPE && r != -ECONNRESET) {
		snprintf(err, errlen, "sending to nfchaind failed: %s",
			 strerror(-r));
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long long left = deadline - ms_now();
		ssize_t got;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			cli_timed_out(c, method, path, tmo,
				      a.in.len ? "reading the answer"
					       : "waiting for the answer",
				      err, errlen);
			goto fail;
		}
		got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == ECONNRESET && a.in.len)
			break;
		if (got < 0) {
			snprintf(err, errlen, "reading nfchaind's answer: %s",
				 strerror(errno));
			goto fail;
		}
		if (got == 0 || (a.body && a.left == 0))
			break;
		/* A listing streamed element by element may take longer
		 * than the timeout in all (a million entries): it bounds
		 * the wait for each next part instead. */
		if (js->on_elem)
			deadline = ms_now() + tmo;
		if (answer_add(&a, chunk, got)) {
			snprintf(err, errlen,
				 a.body ? "nfchaind's answer is not valid JSON"
					: "nfchaind sent no valid HTTP answer");
			goto fail;
		}
	}
	close(fd);
	if (!a.body) {
		snprintf(err, errlen, "nfchaind sent no valid HTTP answer");
		free(a.in.p);
		return -1;
	}
	*status = a.status;
	free(a.in.p);
	return 0;
fail:
	close(fd);
	free(a.in.p);
	return -1;
}

/* ---- libcurl, for --url
 * ------------------------------------------------------ */

static struct {
	CURL *(*init)(void);
	CURLcode (*setopt)(CURL *, CURLoption, ...);
	CURLcode (*perform)(CURL *);
	CURLcode (*getinfo)(CURL *, CURLINFO, ...);
	void (*cleanup)(CURL *);
	struct curl_slist *(*append)(struct curl_slist *, const char *);
	void (*free_all)(struct curl_slist *);
	const char *(*strerror)(CURLcode);
	CURLcode (*global_init)(long);
} cu;

static int curl_load(char *err, size_t errlen)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(err, errlen, "--url needs libcurl: %s", dlerror());
		return -1;
	}
#define SYM(f, n)                                             \
	if (!(*(void **)&cu.f = dlsym(h, n))) {               \
		snprintf(err, errlen, "libcurl lacks %s", n); \
		return -1;                                    \
	}
	SYM(init, "curl_easy_init");
	SYM(setopt, "curl_easy_setopt");
	SYM(perform, "curl_easy_perform");
	SYM(getinfo, "curl_easy_getinfo");
	SYM(cleanup, "curl_easy_cleanup");
	SYM(append, "curl_slist_append");
	SYM(free_all, "curl_slist_free_all");
	SYM(strerror, "curl_easy_strerror");
	SYM(global_init, "curl_global_init");
#undef SYM
	/* No TLS is ever used: skip initializing it. */
	cu.global_init(CURL_GLOBAL_NOTHING);
	return 0;
}

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	return jarr_feed(ctx, data, size * n) ? 0 : size * n;
}

static int curl_call(const struct conn *c, const char *method, const char *path,
		     const char *body, size_t body_len,
		     const char *content_type, long *status, struct jarr *js,
		     char *err, size_t errlen)
{
	char url[4096], auth[600], ctype[128], cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	CURLcode rc;
	CURL *h;

	if (!cu.init && curl_load(err, errlen))
		return -1;
	h = cu.init();
	if (!h) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	cu.setopt(h, CURLOPT_URL, url);
	cu.setopt(h, CURLOPT_CUSTOMREQUEST, method);
	cu.setopt(h, CURLOPT_WRITEFUNCTION, collect);
	cu.setopt(h, CURLOPT_WRITEDATA, js);
	cu.setopt(h, CURLOPT_ERRORBUFFER, cerr);
	cu.setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (js->on_elem) {
		/* As over the socket: the wait for each next part. */
		cu.setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			  timeout_of(c, method, path));
		cu.setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		cu.setopt(h, CURLOPT_LOW_SPEED_TIME,
			  (timeout_of(c, method, path) + 999) / 1000);
	} else {
		cu.setopt(h, CURLOPT_TIMEOUT_MS, timeout_of(c, method, path));
	}
	cu.setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	if (c->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 c->token);
		hdrs = cu.append(hdrs, auth);
	}
	if (body) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 content_type ? content_type : "application/json");
		hdrs = cu.append(hdrs, ctype);
		/* No "100 Continue" round trip before large bodies. */
		hdrs = cu.append(hdrs, "Expect:");
		cu.setopt(h, CURLOPT_POSTFIELDS, body);
		cu.setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	cu.setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = cu.perform(h);
	if (rc == CURLE_OK) {
		cu.getinfo(h, CURLINFO_RESPONSE_CODE, status);
	} else if (rc == CURLE_WRITE_ERROR) {
		snprintf(err, errlen, "nfchaind's answer is not valid JSON");
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		cli_timed_out(c, method, path, timeout_of(c, method, path),
			      *cerr ? cerr : "timed out", err, errlen);
	} else {
		snprintf(err, errlen, "cannot reach nfchaind at %s: %s%s",
			 c->url, *cerr ? cerr : cu.strerror(rc),
			 rc == CURLE_COULDNT_CONNECT ? " (is nfchaind running?)"
						     : "");
	}
	cu.free_all(hdrs);
	cu.cleanup(h);
	return rc == CURLE_OK ? 0 : -1;
}

int http_call_each(const struct conn *c, const char *method, const char *path,
		   int (*on_elem)(json_t *, void *), void *ctx, long *status,
		   json_t **answer, char *err, size_t errlen)
{
	struct jarr js;
	int r;

	*answer = NULL;
	jarr_init(&js, on_elem, ctx);
	r = c->socket ? unix_call(c, method, path, NULL, 0, NULL, status, &js,
				  err, errlen)
		      : curl_call(c, method, path, NULL, 0, NULL, status, &js,
				  err, errlen);
	if (jarr_end(&js, answer) && !r) {
		snprintf(err, errlen, "nfchaind's answer broke off");
		r = -1;
	}
	return r;
}

int http_call(const struct conn *c, const char *method, const char *path,
	      const char *body, size_t body_len, const char *content_type,
	      long *status, json_t **answer, char *err, size_t errlen)
{
	struct jarr js;
	int r;

	*answer = NULL;
	jarr_init(&js, NULL, NULL);
	r = c->socket ? unix_call(c, method, path, body, body_len, content_type,
				  status, &js, err, errlen)
		      : curl_call(c, method, path, body, body_len, content_type,
				  status, &js, err, errlen);
	jarr_end(&js, answer);
	return r;
}
