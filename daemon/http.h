/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * HTTP front of the API: libmicrohttpd driven from nfchaind's own event
 * loop (MHD_USE_EPOLL without an internal thread). Every library call
 * therefore happens on the loop's one thread: the libnfchain handle is not
 * thread-safe, and this way it needs no lock.
 */
#ifndef NFD_HTTP_H
#define NFD_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

struct api;
struct http;

/* Request bodies above this get 413 (a 10k-entry state is ~2 MB). */
#define HTTP_MAX_BODY (16u << 20)
#define HTTP_MAX_IMPORT (512u << 20) /* POST .../import */

/* Serves `api` on the connections http_add() gives it. With a token, every
 * request needs "Authorization: Bearer <token>" or gets 401 before anything
 * else. `name` tags log lines (unix, tcp). NULL with a message on failure. */
struct http *http_start(struct api *api, const char *token, const char *name,
			char *err, size_t errlen);
/* A connection whose request header has arrived (gate.c); the fd is the
 * server's from then on. */
void http_add(struct http *h, int fd, const struct sockaddr *sa,
	      socklen_t salen);
/* Serves GET /v1/nfs/<name>/pcap from `p` (pcap.h). */
struct pcap;
void http_set_pcap(struct http *h, struct pcap *p);
/* Counts an answer given outside MHD in the API's status figures. */
void http_count(struct http *h, int status);
/* An fd that is readable when http_run() has work. */
int http_fd(struct http *h);
void http_run(struct http *h);
/* Whether a request with a large body (an apply, an import: 16 KiB or
 * more) was answered since the last call. */
int http_took_big(struct http *h);
/* ms until http_run() must be called even without events; -1: none. */
int http_timeout_ms(struct http *h);
void http_stop(struct http *h);

#endif
