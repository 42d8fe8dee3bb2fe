/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pcap streams of capture NFs (GET /v1/nfs/<name>/pcap): the daemon reads
 * each capture's ring buffer from its event loop and fans every record out
 * to all the streams open on that NF, each with its own queue. A reader
 * too slow for its queue misses records, counted (its trailer, the NF's
 * stats); a full ring loses records for all, counted by the data plane.
 * Nothing here blocks: a stream with nothing to send is suspended and
 * resumed when records come, so other API calls are served meanwhile.
 */
#ifndef NFD_PCAP_H
#define NFD_PCAP_H

#include <stddef.h>
#include <jansson.h>

struct nfc;
struct pcap;
struct MHD_Connection;
struct MHD_Response;

/* Bytes of pcap a reader may have waiting before it misses records. */
#define PCAP_QUEUE_MAX (16u << 20)

/* Ring buffers are watched through `ep` with epoll data `tag`. */
struct pcap *pcap_start(struct nfc *nfc, int ep, unsigned tag);
/* Ends every stream (trailers sent) and resumes them, so that the HTTP
 * server can be stopped. */
void pcap_stop(struct pcap *p);
/* After the HTTP servers stopped (their streams, and so the taps, gone). */
void pcap_free(struct pcap *p);
/* The NF name if `url` is /v1/nfs/<name>/pcap (decoded into buf). */
const char *pcap_route(const char *url, char *buf, size_t len);
/* A stream for NF `name` with the query's count= and seconds=: 200 and
 * *resp, or a 4xx/5xx status with the reason in err. */
int pcap_open(struct pcap *p, struct MHD_Connection *conn, const char *name,
	      json_t *query, struct MHD_Response **resp, char *err,
	      size_t errlen);
/* The event loop: records are ready (the epoll tag). */
void pcap_poll(struct pcap *p);
/* Ends streams whose seconds= are over; with `peers`, also those whose
 * client went away. */
void pcap_tick(struct pcap *p, int peers);
/* ms until a stream's seconds= ends; -1: none. */
int pcap_timeout_ms(struct pcap *p);

#endif
