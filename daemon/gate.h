/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The door of an API listener (gate.c): accepts, holds each connection
 * until its request header is complete, then hands it to the HTTP server.
 */
#ifndef NFD_GATE_H
#define NFD_GATE_H

#include <stddef.h>

struct http;
struct gate;

/* Connections waiting for their header, per listener. Past this the
 * oldest is closed. Each costs an fd: main.c raises RLIMIT_NOFILE. */
#define GATE_MAX_PENDING 4096
/* A client that has not sent its whole header by then is answered 408:
 * nfchain sends its request at once, curl too. */
#define GATE_HEADER_MS 5000
/* Above these the gate answers 414 / 431 (the API's paths stop at 4 kB;
 * MHD's per-connection memory, 32 kB, must hold the header). */
#define GATE_LINE_MAX 8192
#define GATE_HEAD_MAX 16384
/* epoll data of the listening socket in the gate's set. */
#define GATE_LISTENER 0xffffffffu

/* Takes `listen_fd` (closed by gate_stop). NULL with a message on
 * failure. */
struct gate *gate_start(int listen_fd, struct http *h, const char *name,
			char *err, size_t errlen);
/* Readable when gate_run() has work. */
int gate_fd(struct gate *g);
void gate_run(struct gate *g);
/* ms until gate_run() must run even without events; -1: none. */
int gate_timeout_ms(struct gate *g);
void gate_stop(struct gate *g);

#endif
