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
 * This file: options, start-up and shutdown; the rest is in restore.c,
 * listen.c and loop.c (daemon.h).
 */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "nfchain/nfchain.h"

#include "api_int.h"
#include "daemon.h"
#include "log.h"
#include "persist.h"

#define DEFAULT_SOCKET "/run/nfchain/nfchaind.sock"
#define DEFAULT_STATE_DIR "/var/lib/nfchain"

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

/* Every connection waiting for its header holds an fd (gate.h): 1,024,
 * the usual soft limit, would be reached by a few hundred slow clients on
 * each listener. */
static void raise_nofile(void)
{
	const rlim_t want = 2 * GATE_MAX_PENDING + 4096;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want; /* allowed to root */
	if (setrlimit(RLIMIT_NOFILE, &rl) &&
	    getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		nfd_log("warn", "start", "nofile=%llu msg=%s",
			(unsigned long long)rl.rlim_cur,
			nfd_q("cannot raise the open file limit; slow clients "
			      "are dropped sooner"));
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
	static char obj_dir[4096];
	struct daemon d = {.socket_path = DEFAULT_SOCKET,
			   .state_dir = DEFAULT_STATE_DIR,
			   .ep = -1,
			   .tfd = -1,
			   .sfd = -1,
			   .nlfd = -1};
	struct nfc_opts nopts = {0};
	char err[1024], *token = NULL;
	int c, fd, lock, r = 1, ufd = -1, lfd = -1, opened;

	/* Every change builds a new model (1.4 MB, mostly zeros) and path
	 * tables beside the old: allocated by mmap each time, their pages
	 * fault in anew on every call (400 faults, most of a change's CPU on
	 * a VM). Kept in the heap, they are reused; the state is no longer
	 * copied through megabyte buffers, so what stays resident is about
	 * two models. Fixed values: glibc's dynamic threshold would move.
	 * The top of the heap is not given back at each free either (a
	 * 10,000-rule apply grows it by ~10 MB, which faults in again at the
	 * next): the loop trims when the daemon is idle (loop.c). */
	mallopt(M_MMAP_THRESHOLD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
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
	if (d.listen && daemon_listen_check(d.listen, err, sizeof(err))) {
		fprintf(stderr, "nfchaind: %s\n", err);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* NFs that keep files beside the state (a router's imported routes)
	 * keep them here: a reboot keeps the state directory. */
	setenv("NFC_STATE_DIR", d.state_dir, 1);
	if (d.token_file &&
	    !(token = daemon_read_token(d.token_file, err, sizeof(err)))) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		return 1;
	}
	lock = daemon_claim(d.socket_path, d.pin_root ?: NFC_DEFAULT_PIN_ROOT,
			    err, sizeof(err));
	if (lock < 0 && lock != -2) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		return 1;
	}
	if (persist_init(d.state_dir, err, sizeof(err))) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		goto out;
	}
	/* Before nfc_open: an adopted NF may be of a loaded type. */
	daemon_types_restore(d.state_dir);
	nopts.pin_root = d.pin_root;
	/* Pins of a loaded type whose files went (moved away, corrupted, a
	 * plugin an upgrade of nfchaind cannot open): the daemon starts and
	 * its restore waits for `types load`, as after a reboot; it exited,
	 * leaving what runs beyond control (found by a helper). */
	nopts.adopt_later = 1;
	opened = nfc_open(&d.nfc, &nopts, err, sizeof(err));
	if (opened < 0) {
		nfd_log("error", "start", "pin_root=%s error=%s",
			nfd_q(d.pin_root ?: NFC_DEFAULT_PIN_ROOT), nfd_q(err));
		goto out;
	}
	if (opened > 0)
		nfd_log("error", "start", "pin_root=%s adopt=pending error=%s",
			nfd_q(d.pin_root ?: NFC_DEFAULT_PIN_ROOT), nfd_q(err));
	if (api_init(&d.api, d.nfc)) {
		nfd_log("error", "start", "error=%s",
			nfd_q("cannot read the NF types"));
		goto out;
	}
	d.api.state_dir = d.state_dir;
	d.api.save = daemon_save;
	d.api.save_ctx = &d;
	d.api.save_entry = daemon_save_entry;
	d.api.save_nf = daemon_save_nf;
	d.api.retry = daemon_retry_restore;
	snprintf(obj_dir, sizeof(obj_dir), "%s/objects", d.state_dir);
	d.api.obj_dir = obj_dir;
	d.gone = json_object();
	d.settling = json_object();
	d.macs = json_object();
	/* Bound before the restore, accepted from only after it: a client
	 * that connects meanwhile waits in the backlog and sees the final
	 * state, never a half-restored one; before, it was refused
	 * ("Connection refused") for as long as a large restore took. */
	raise_nofile();
	ufd = daemon_listen_unix(d.socket_path, err, sizeof(err));
	if (ufd >= 0 && d.listen)
		lfd = daemon_listen_tcp(d.listen, err, sizeof(err));
	if (ufd < 0 || (d.listen && lfd < 0)) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		goto out;
	}
	if (daemon_restore(&d))
		goto out;
	daemon_note_missing(&d);
	/* A copy a kill -9 cut short (.in-XXXXXX), or one made just before
	 * it and never named: nothing else removes them (found by a
	 * helper: 400 MB left through restarts). */
	objstore_prune(&d.api, d.nfc);

	fd = ufd;
	ufd = -1; /* the gate's from here */
	if (!(d.http[0] = http_start(&d.api, NULL, "unix", err, sizeof(err))) ||
	    !(d.gate[0] =
		      gate_start(fd, d.http[0], "unix", err, sizeof(err)))) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		goto out;
	}
	if (d.listen) {
		fd = lfd;
		lfd = -1;
		if (!(d.http[1] = http_start(&d.api, token, "tcp", err,
					     sizeof(err))) ||
		    !(d.gate[1] = gate_start(fd, d.http[1], "tcp", err,
					     sizeof(err)))) {
			nfd_log("error", "start", "error=%s", nfd_q(err));
			goto out;
		}
	}
	if (daemon_loop_setup(&d, err, sizeof(err))) {
		nfd_log("error", "start", "error=%s", nfd_q(err));
		goto out;
	}
	nfd_log("info", "start",
		"pid=%d socket=%s listen=%s pin_root=%s "
		"state_dir=%s nfs=%zu",
		(int)getpid(), nfd_q(d.socket_path), nfd_q(d.listen ?: "-"),
		nfd_q(nfc_pin_root(d.nfc)), nfd_q(d.state_dir),
		json_array_size(json_object_get(d.saved, "nfs")));
	/* Start-up (restore, adoption, the first reconcile) leaves ~1 MB of
	 * freed buffers in the heap, under M_TRIM_THRESHOLD: given back now,
	 * not at the first tick, so an idle daemon is idle-sized at once. */
	malloc_trim(0);
	nfc_release_embedded();
	daemon_loop_run(&d);
	r = 0;
	/* A clean stop leaves state.json whole: the journal folded in. */
	if (d.saved && persist_journal_len() &&
	    persist_save(d.state_dir, d.saved, err, sizeof(err)))
		nfd_log("error", "stop", "error=%s", nfd_q(err));
	persist_end(d.state_dir);
	nfd_log("info", "stop", "msg=%s",
		nfd_q("the data plane keeps running; a new nfchaind adopts "
		      "it"));
out:
	pcap_stop(d.pcap); /* MHD stops only with no stream suspended */
	for (int i = 0; i < 2; i++) {
		gate_stop(d.gate[i]);
		http_stop(d.http[i]);
	}
	pcap_free(d.pcap);
	if (lfd >= 0)
		close(lfd);
	if (ufd >= 0)
		close(ufd);
	if (d.http[0] || ufd >= 0)
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
	json_decref(d.pinned);
	json_decref(d.gone);
	json_decref(d.settling);
	json_decref(d.macs);
	free(token);
	daemon_release(lock, d.pin_root ?: NFC_DEFAULT_PIN_ROOT);
	return r;
}
