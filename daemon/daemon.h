/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Between the files of nfchaind: main.c (options, start-up, shutdown),
 * restore.c (the desired state at start and when netdevs come back),
 * listen.c (the API's sockets), loop.c (the event loop).
 */
#ifndef NFD_DAEMON_H
#define NFD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "api.h"
#include "gate.h"
#include "http.h"
#include "netlink.h"
#include "pcap.h"

struct daemon {
	const char *socket_path, *state_dir, *pin_root, *listen, *token_file;
	struct nfc *nfc;
	struct api api;
	struct http *http[2]; /* unix, tcp */
	struct gate *gate[2]; /* their doors */
	struct pcap *pcap;    /* capture NFs' pcap streams */
	int ep, tfd, sfd, nlfd;
	json_t *saved;	/* the desired state: what state.json holds */
	json_t *pinned; /* while saved could not be restored: what runs */
	json_t *gone;	/* netdevs the state names that are missing: {name:1} */
	/* Netdevs back, waiting to settle before the state is re-applied:
	 * {name: deadline in ms of CLOCK_MONOTONIC}. */
	json_t *settling;
	/* The MAC last seen of each netdev the state names: {name: "02:.."}.
	 * A change configures their NFs again (nfc_netdev_reconfigure), so
	 * that a router's port takes the new one at once and tells its link. */
	json_t *macs;
	bool stop;
};

/* restore.c */
/* api.save: saves the state document unless it is the one saved; when
 * that fails, the change is undone and err says so. */
int daemon_save(void *ctx, json_t *state, char *err, size_t errlen);
/* api.save_entry: one collection entry changed, journaled (persist.h). */
int daemon_save_entry(void *ctx, const char *nf, const char *coll,
		      const char *key, json_t *value, char *err, size_t errlen);
/* After a tick: the entries the NFs let go by themselves (expired), out
 * of state.json too. */
void daemon_save_forgotten(struct daemon *d);
/* api.save_nf: one NF's own fields changed, journaled. */
int daemon_save_nf(void *ctx, json_t *nf, char *err, size_t errlen);
/* At start: the pins moved to the saved state (or the pins saved). */
int daemon_restore(struct daemon *d);
/* types.c: registers the loaded types kept in <state_dir>/types; how many. */
int daemon_types_restore(const char *state_dir);
void daemon_note_missing(struct daemon *d);
/* Re-applies for netdevs that came back and settled; the loop calls it
 * when daemon_settle_timeout_ms (-1: none waiting) says one is due. */
void daemon_run_settled(struct daemon *d);
int daemon_settle_timeout_ms(struct daemon *d);
/* api.retry: the saved state applied again if it is still pending. */
void daemon_retry_restore(void *ctx);
void daemon_on_link(void *ctx, enum nl_event ev, int ifindex, const char *name,
		    unsigned flags, const char *mac);

/* listen.c. Before anything is changed: refused (-EADDRINUSE, -EBUSY,
 * err said) while another nfchaind serves `sock` or manages `pin_root`;
 * else the fd of the pin root's lock, held for the daemon's life (-2: no
 * lock can be taken on this machine). A second daemon restoring its own
 * state over a running one's pins tore that one's NFs down. */
#define NFD_LOCK_DIR "/run/nfchain"
int daemon_claim(const char *sock, const char *pin_root, char *err,
		 size_t errlen);
/* At a clean stop: the lock file goes, so stopped daemons leave none. */
void daemon_release(int fd, const char *pin_root);
/* A listening fd, or -errno with err set. */
int daemon_listen_unix(const char *path, char *err, size_t errlen);
int daemon_listen_tcp(const char *spec, char *err, size_t errlen);
/* Whether --listen's ADDRESS:PORT reads: a bad option, found before the
 * daemon starts anything (its exit status is 2, not 1). */
int daemon_listen_check(const char *spec, char *err, size_t errlen);
char *daemon_read_token(const char *path, char *err, size_t errlen);

/* loop.c */
int daemon_loop_setup(struct daemon *d, char *err, size_t errlen);
void daemon_loop_run(struct daemon *d);

#endif
