// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "nfchain/nfchain.h"
#include "api.h"
#include "http.h"
#include "log.h"
#include "pcap.h"

/* Connections MHD holds at most, per listener. They all have sent a whole
 * header (gate.c); above half of this, answers close the connection
 * instead of keeping it alive, so idle keep-alive clients cannot fill it. */
#define HTTP_MAX_CONNS 1024
/* Past HTTP_MAX_CONNS - HTTP_RESERVE connections, each new one pushes out
 * the oldest request still receiving its body after HTTP_BODY_GRACE_MS:
 * a body sent a byte at a time is never idle, so MHD's timeout never
 * dropped it, and 1,024 of them shut the API (found by a helper). A real
 * client sends its body at once: 30 MB in well under the grace. */
#define HTTP_RESERVE 64
#define HTTP_BODY_GRACE_MS 1000

struct req;

struct http {
	struct MHD_Daemon *d;
	struct api *api;
	char *token;
	const char *name;
	struct pcap *pcap;
	int big; /* a large request was answered since http_took_big */
	/* Requests receiving their body, oldest first. */
	struct req *up_head, *up_tail;
	unsigned long evicted; /* not yet logged */
	struct timespec logged;
};

/* What one request accumulates between the access-handler calls. */
struct req {
	char *body;
	size_t len, cap;
	int too_big;
	struct timespec t0;
	struct http *h;
	struct req *prev, *next; /* in h's list while its body comes */
	int fd;			 /* its connection's socket */
	bool uploading;
};

static void up_unlink(struct req *rq)
{
	struct http *h = rq->h;

	if (!rq->uploading)
		return;
	if (rq->prev)
		rq->prev->next = rq->next;
	else
		h->up_head = rq->next;
	if (rq->next)
		rq->next->prev = rq->prev;
	else
		h->up_tail = rq->prev;
	rq->prev = rq->next = NULL;
	rq->uploading = false;
}

static void up_link(struct http *h, struct req *rq)
{
	rq->h = h;
	rq->prev = h->up_tail;
	rq->next = NULL;
	if (h->up_tail)
		h->up_tail->next = rq;
	else
		h->up_head = rq;
	h->up_tail = rq;
	rq->uploading = true;
}

static double since_us(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e6 + (t.tv_nsec - t0->tv_nsec) / 1e3;
}

static unsigned conns(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return i ? i->num_connections : 0;
}

static int busy(struct MHD_Daemon *d)
{
	return conns(d) > HTTP_MAX_CONNS / 2;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status,
				 char *text, const char *type,
				 const char *allow, int bearer)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(text), text, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow && *allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (bearer)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"nfchaind\"");
	if (busy(MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON)
			 ->daemon))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A long array (a collection of 200,000 routes) is sent an element at a
 * time as the socket takes it, not dumped whole first: its text would be
 * tens of megabytes beside the array itself. */
#define STREAM_MIN 1024
/* Seconds a streamed answer waits for its reader (send_stream). */
#define HTTP_STREAM_TIMEOUT 3600

struct jstream {
	json_t *arr;
	size_t next; /* element to dump next */
	size_t sent; /* elements dumped */
	char *pend;  /* text not sent yet */
	size_t plen, poff;
	int done;
	/* A collection listed a page at a time: arr is the page. */
	struct nfc *nfc;
	int more;
	char nf[32], coll[64];
	struct nfc_cursor cur;
};

/* The next page of a paged listing into js->arr; 0 at the end, -1 when
 * the next page could not be read: the stream is then cut, not closed
 * as a whole array, or a client would take the part for the list. */
static int jstream_page(struct jstream *js)
{
	json_t *page = NULL;
	int r;

	if (!js->more)
		return 0;
	r = nfc_coll_list_page(js->nfc, js->nf, js->coll, &js->cur, API_PAGE,
			       &page);
	if (r || !json_array_size(page)) {
		json_decref(page);
		js->more = 0;
		if (r)
			nfd_log("error", "list", "nf=%s coll=%s error=%s",
				nfd_q(js->nf), nfd_q(js->coll),
				nfd_q(nfc_errmsg(js->nfc)));
		return r ? -1 : 0;
	}
	json_decref(js->arr);
	js->arr = page;
	js->next = 0;
	return 1;
}

static ssize_t jstream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct jstream *js = cls;
	size_t n = 0;

	(void)pos;
	while (n < max) {
		if (js->poff == js->plen) {
			json_t *e;
			int pg;

			free(js->pend);
			js->pend = NULL;
			js->plen = js->poff = 0;
			if (js->done)
				break;
			pg = js->next == json_array_size(js->arr)
				     ? jstream_page(js)
				     : 1;

			if (pg < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			if (!pg) {
				js->pend = strdup(js->sent ? "]\n" : "[]\n");
				js->done = 1;
			} else {
				char *t;

				e = json_array_get(js->arr, js->next);
				t = json_dumps(e,
					       JSON_COMPACT | JSON_ENCODE_ANY);
				if (t && asprintf(&js->pend, "%s%s",
						  js->sent ? "," : "[", t) < 0)
					js->pend = NULL;
				free(t);
				js->next++;
				js->sent++;
			}
			if (!js->pend)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			js->plen = strlen(js->pend);
		}
		size_t k = js->plen - js->poff < max - n ? js->plen - js->poff
							 : max - n;
		memcpy(buf + n, js->pend + js->poff, k);
		js->poff += k;
		n += k;
	}
	return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void jstream_free(void *cls)
{
	struct jstream *js = cls;

	json_decref(js->arr);
	free(js->pend);
	free(js);
}

/* `resp`, when given, says the array is the first page of a listing. */
static enum MHD_Result send_stream(struct MHD_Connection *conn, int status,
				   json_t *arr, struct nfc *nfc,
				   const struct api_resp *resp)
{
	struct jstream *js = calloc(1, sizeof(*js));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!js)
		return MHD_NO;
	js->arr = json_incref(arr);
	if (resp && resp->pages) {
		js->nfc = nfc;
		js->more = 1;
		snprintf(js->nf, sizeof(js->nf), "%s", resp->nf);
		snprintf(js->coll, sizeof(js->coll), "%s", resp->coll);
		js->cur = resp->cur;
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536,
					      jstream_read, js, jstream_free);
	if (!r) {
		jstream_free(js);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	/* A listing read at the pace of its reader (`show | less`) waits
	 * on that reader, not on a stuck one: the daemon's 10 s of
	 * inactivity cut a 300,000-entry blocklist paused for 15 s ("the
	 * answer broke off"). A page is made when the reader takes it, so a
	 * reader that waits costs only its connection. */
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
				  (unsigned)HTTP_STREAM_TIMEOUT);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, int status,
				 json_t *j, const char *allow, int bearer)
{
	char *text;
	size_t n;

	if (json_is_array(j) && json_array_size(j) >= STREAM_MIN &&
	    (!allow || !*allow) && !bearer)
		return send_stream(conn, status, j, NULL, NULL);
	text = json_dumps(j, JSON_COMPACT);
	if (!text)
		return MHD_NO;
	/* A newline makes `curl --unix-socket` output readable. */
	n = strlen(text);
	text = realloc(text, n + 2);
	if (!text)
		return MHD_NO;
	text[n] = '\n';
	text[n + 1] = 0;
	return send_text(conn, status, text, "application/json", allow, bearer);
}

static enum MHD_Result send_error(struct http *h, struct MHD_Connection *conn,
				  const char *method, const char *url,
				  int status, const char *msg, int bearer)
{
	json_t *j = json_pack("{s:s}", "error", msg);
	enum MHD_Result r = send_json(conn, status, j, NULL, bearer);

	json_decref(j);
	api_count(h->api, status);
	nfd_log("warn", "request",
		"listener=%s method=%s path=%s status=%d "
		"error=%s",
		h->name, nfd_q(method), nfd_q(url), status, nfd_q(msg));
	return r;
}

/* Constant time: how long the comparison takes says nothing about how
 * much of the token was right. */
static int token_ok(const char *want, const char *auth)
{
	size_t n = strlen(want), m;
	unsigned char diff = 0;

	/* The scheme is case-insensitive (RFC 9110 11.1). */
	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return 0;
	auth += 7;
	m = strlen(auth);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)want[i] ^
			(unsigned char)(i < m ? auth[i] : 0);
	return !diff && m == n;
}

/* The query arguments, decoded, as a JSON object. */
static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	char *v = strdup(value ? value : "");

	(void)kind;
	if (v) {
		MHD_http_unescape(v);
		/* Given twice, the last one won without a word (found by a
		 * helper: replace=0&replace=1 replaced the whole list): the
		 * key is noted for the API to refuse. */
		if (json_object_get(cls, key))
			json_object_set_new(cls, HTTP_QUERY_TWICE,
					    json_string(key));
		json_object_set_new(cls, key, json_string(v) ?: json_null());
		free(v);
	}
	return MHD_YES;
}

/* A collection import is text of a line an entry: a million entries is
 * some 40 MB, more than any JSON request needs. */
static size_t max_body(const char *url)
{
	size_t n = url ? strlen(url) : 0;

	if (n > 7 && !strcmp(url + n - 7, "/import"))
		return HTTP_MAX_IMPORT;
	return HTTP_MAX_BODY;
}

/* GET /v1/nfs/<name>/pcap: a stream served by pcap.c, not an answer of
 * api.c (which answers whole documents). */
static enum MHD_Result pcap_answer(struct http *h, struct MHD_Connection *conn,
				   const char *url, const char *name,
				   json_t *query, struct req *rq)
{
	struct MHD_Response *r = NULL;
	char err[512];
	enum MHD_Result ret;
	int st;

	st = pcap_open(h->pcap, conn, name, query, &r, err, sizeof(err));
	json_decref(query);
	if (st != 200)
		return send_error(h, conn, "GET", url, st, err, 0);
	api_count(h->api, 200);
	nfd_log("info", "request",
		"listener=%s method=GET path=%s status=200 dur_us=%.0f "
		"stream=pcap",
		h->name, nfd_q(url), since_us(&rq->t0));
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct req *rq = *con_cls;
	struct api_req areq = {0};
	struct api_resp resp;
	json_t *query;
	enum MHD_Result ret;

	(void)version;
	if (!rq) {
		/* First call: headers only. Refuse early what must not be
		 * read: a missing token, a body announced too big. */
		const char *cl = MHD_lookup_connection_value(
			conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		const union MHD_ConnectionInfo *ci;

		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &rq->t0);
		*con_cls = rq;
		ci = MHD_get_connection_info(conn,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		rq->fd = ci ? ci->connect_fd : -1;
		if (rq->fd >= 0 && ((cl && strtoull(cl, NULL, 10) > 0) ||
				    MHD_lookup_connection_value(
					    conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_TRANSFER_ENCODING)))
			up_link(h, rq);
		if (h->token &&
		    !token_ok(h->token, MHD_lookup_connection_value(
						conn, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_AUTHORIZATION)))
			return send_error(h, conn, method, url, 401,
					  "missing or wrong bearer token "
					  "(Authorization: Bearer <token from "
					  "--token-file>)",
					  1);
		if (cl && strtoull(cl, NULL, 10) > max_body(url)) {
			char msg[128];

			snprintf(msg, sizeof(msg),
				 "request body larger than "
				 "%zu bytes",
				 max_body(url));
			return send_error(h, conn, method, url, 413, msg, 0);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (rq->too_big || rq->len + n > max_body(url)) {
			/* A chunked body that grew too big: read and drop
			 * the rest, then answer 413 at the end. */
			rq->too_big = 1;
			return MHD_YES;
		}
		if (rq->len + n + 1 > rq->cap) {
			size_t cap = rq->cap ? rq->cap : 4096;
			char *b;

			while (cap < rq->len + n + 1)
				cap *= 2;
			b = realloc(rq->body, cap);
			if (!b)
				return MHD_NO;
			rq->body = b;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload, n);
		rq->len += n;
		rq->body[rq->len] = 0;
		return MHD_YES;
	}
	up_unlink(rq); /* its body is whole */
	if (rq->too_big) {
		char msg[128];

		snprintf(msg, sizeof(msg), "request body larger than %zu bytes",
			 max_body(url));
		return send_error(h, conn, method, url, 413, msg, 0);
	}

	query = json_object();
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg,
				  query);
	if (h->pcap && !strcmp(method, "GET")) {
		char name[64];

		if (pcap_route(url, name, sizeof(name)))
			return pcap_answer(h, conn, url, name, query, rq);
	}
	areq.method = method;
	areq.path = url;
	areq.query = json_object_size(query) ? query : NULL;
	areq.body = rq->body;
	areq.body_len = rq->len;
	areq.content_type = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	api_handle(h->api, &areq, &resp);
	json_decref(query);
	if (rq->len >= 16384)
		h->big = 1;

	nfd_log(resp.status >= 500   ? "error"
		: resp.status >= 400 ? "warn"
				     : "info",
		"request",
		"listener=%s method=%s path=%s status=%d dur_us=%.0f%s%s",
		h->name, nfd_q(method), nfd_q(url), resp.status,
		since_us(&rq->t0), resp.status >= 400 ? " error=" : "",
		resp.status >= 400 ? nfd_q(json_string_value(json_object_get(
					     resp.json, "error")))
				   : "");
	if (resp.text) {
		ret = send_text(conn, resp.status, resp.text, resp.text_type,
				NULL, 0);
		resp.text = NULL; /* owned by the response now */
	} else if (resp.pages && resp.status == 200) {
		ret = send_stream(conn, resp.status, resp.json, h->api->nfc,
				  &resp);
	} else {
		ret = send_json(conn, resp.status, resp.json, resp.allow, 0);
	}
	api_resp_free(&resp);
	return ret;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq) {
		up_unlink(rq);
		free(rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

/* The oldest request still receiving its body past the grace is shut
 * (MHD sees the end of its stream, drops it and frees its slot). */
static bool evict_slow_body(struct http *h)
{
	struct req *rq = h->up_head;

	if (!rq || since_us(&rq->t0) < HTTP_BODY_GRACE_MS * 1000.0)
		return false;
	shutdown(rq->fd, SHUT_RDWR);
	up_unlink(rq);
	h->evicted++;
	/* Summed, at most once a second: an attack must not flood the log
	 * as well. */
	if (since_us(&h->logged) >= 1e6) {
		nfd_log("warn", "http", "listener=%s msg=%s dropped=%lu",
			h->name,
			nfd_q("connections full: dropped the slowest "
			      "request bodies"),
			h->evicted);
		h->evicted = 0;
		clock_gettime(CLOCK_MONOTONIC, &h->logged);
	}
	return true;
}

/* Leave the path percent-encoded: api.c splits it first and decodes each
 * segment, so that an encoded '/' stays inside a key. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	/* Connections come from gate.c, so MHD does not know those of the
	 * unix listener are no TCP and says so once; nothing is wrong. */
	if (!strcmp(cls, "unix") &&
	    (!strncmp(msg, "Setting TCP_", 12) ||
	     !strncmp(msg, "Failed to push the data", 23)))
		return;
	nfd_log("warn", "http", "listener=%s msg=%s", (const char *)cls,
		nfd_q(msg));
}

struct http *http_start(struct api *api, const char *token, const char *name,
			char *err, size_t errlen)
{
	struct http *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->api = api;
	h->name = name;
	h->token = token ? strdup(token) : NULL;
	h->d = MHD_start_daemon(
		/* No listening socket: gate.c accepts and hands over. */
		/* Suspend/resume: a pcap stream with nothing to send waits
		 * without a thread and without busy looping. */
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET |
			MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, access_cb, h,
		/* First, so that no message goes to MHD's own logger. */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)name,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
		MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
		/* A client stuck in its body or idle after an answer is
		 * dropped; others are never blocked by it since nothing here
		 * waits on one connection. */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS,
		MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen,
			 "starting the HTTP server on the %s "
			 "listener failed",
			 name);
		free(h->token);
		free(h);
		return NULL;
	}
	return h;
}

void http_add(struct http *h, int fd, const struct sockaddr *sa,
	      socklen_t salen)
{
	static const char full[] =
		"HTTP/1.0 503 Service Unavailable\r\n"
		"Content-Type: application/json\r\nConnection: close\r\n\r\n"
		"{\"error\":\"too many connections; try again\"}\n";

	/* Near the limit a new connection pushes out the slowest body,
	 * and MHD reaps it at once: its slot is this one's. */
	if (conns(h->d) >= HTTP_MAX_CONNS - HTTP_RESERVE && evict_slow_body(h))
		MHD_run(h->d);
	/* MHD would close it without a word. */
	if (conns(h->d) >= HTTP_MAX_CONNS) {
		(void)!send(fd, full, sizeof(full) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		http_count(h, 503);
		return;
	}
	/* MHD closes the fd itself when it fails. */
	if (MHD_add_connection(h->d, fd, sa, salen) != MHD_YES)
		nfd_log("warn", "http", "listener=%s msg=%s", h->name,
			nfd_q("cannot take a new connection"));
}

void http_set_pcap(struct http *h, struct pcap *p)
{
	h->pcap = p;
}

void http_count(struct http *h, int status)
{
	api_count(h->api, status);
}

int http_fd(struct http *h)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

void http_run(struct http *h)
{
	MHD_run(h->d);
}

int http_took_big(struct http *h)
{
	int r = h->big;

	h->big = 0;
	return r;
}

int http_timeout_ms(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(h->d, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h->token);
	free(h);
}
