// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The desired state: saved after every accepted change (persist.c), put
 * back on the pins at start, and re-applied when a netdev it names comes
 * back. A netdev that goes away is noted, and what the NFs learnt on its
 * ports is flushed; its packets drop until it returns, and the state is
 * not rewritten without it.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfchain/nfchain.h"

#include "daemon.h"
#include "log.h"
#include "persist.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; glibc's net/if.h stops short */
#endif

/* A change that could not be saved is taken back: the running system is
 * moved to what it was before, the saved document (or, while that one
 * could not be restored, what was pinned at start). A save that failed
 * after its rename may have left the new file: put the old one back. */
static void seed_macs(struct daemon *d);

static void undo_unsaved(struct daemon *d, char *err, size_t errlen)
{
	json_t *to = d->api.blocked ? d->pinned : d->saved, *on_disk = NULL;
	char e2[512];
	size_t n = strlen(err);

	if (!to)
		return; /* at start: nothing ran before */
	if (nfc_apply_accepted(d->nfc, to, NULL)) {
		snprintf(err + n, errlen - n,
			 "; undoing the change failed too (%s): it is "
			 "running, unsaved",
			 nfc_errmsg(d->nfc));
		nfd_log("error", "undo", "error=%s", nfd_q(nfc_errmsg(d->nfc)));
		return;
	}
	snprintf(err + n, errlen - n, "; the change was undone");
	if (d->saved &&
	    (persist_load(d->state_dir, &on_disk, e2, sizeof(e2)) ||
	     !json_equal(on_disk, d->saved)) &&
	    persist_save(d->state_dir, d->saved, e2, sizeof(e2)))
		nfd_log("error", "undo", "error=%s", nfd_q(e2));
	json_decref(on_disk);
	nfd_log("info", "undo", "msg=%s",
		nfd_q("a change that could not be saved was undone"));
}

int daemon_save(void *ctx, json_t *state, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	int r;

	if (!state) {
		snprintf(err, errlen, "cannot export the state: %s",
			 nfc_errmsg(d->nfc));
		r = -EIO;
		goto fail;
	}
	/* A change the library can say in one record came as one
	 * (api.c changed()): this is the whole document. */
	if (d->saved && json_equal(d->saved, state))
		return 0; /* nothing new: spare the fsyncs */
	r = persist_save(d->state_dir, state, err, errlen);
	if (r)
		goto fail;
	json_decref(d->saved);
	d->saved = json_incref(state);
	json_decref(d->pinned);
	d->pinned = NULL;
	seed_macs(d); /* a port's new netdev */
	return 0;
fail:
	nfd_log("error", "save", "error=%s", nfd_q(err));
	undo_unsaved(d, err, errlen);
	return r;
}

/* The collection the saved document holds for an entry record
 * (borrowed), NULL if none. */
static json_t *saved_coll(json_t *doc, json_t *rec)
{
	const char *nf = json_string_value(json_object_get(rec, "nf"));
	const char *coll = json_string_value(json_object_get(rec, "coll"));
	json_t *n;
	size_t i;

	json_array_foreach (json_object_get(doc, "nfs"), i, n)
		if (nf &&
		    !strcmp(json_string_value(json_object_get(n, "name")) ?: "",
			    nf))
			return json_object_get(
				json_object_get(n, "collections"), coll ?: "");
	return NULL;
}

/* ... and the entry it holds there (borrowed), NULL if none. */
static json_t *saved_entry(json_t *doc, json_t *rec)
{
	const char *key = json_string_value(json_object_get(rec, "key"));

	return json_object_get(saved_coll(doc, rec), key ?: "");
}

/* A record journaled, and the saved document moved as a replay of the
 * journal would; `rec` is consumed. */
static int journaled(struct daemon *d, json_t *rec, char *err, size_t errlen)
{
	const char *key = json_string_value(json_object_get(rec, "key"));
	int r = 1;

	if (d->saved && !d->pinned && rec)
		r = persist_append_rec(d->state_dir, rec, err, errlen);
	if (r < 0) {
		nfd_log("error", "save", "error=%s", nfd_q(err));
		/* One entry changed: taken back through its NF first, so
		 * that what the NF keeps in files of its own goes back too
		 * (the apply below compares models only). */
		if (key &&
		    nfc_coll_undo_in(
			    d->nfc,
			    json_string_value(json_object_get(rec, "nf")),
			    json_string_value(json_object_get(rec, "coll")),
			    key, saved_entry(d->saved, rec),
			    saved_coll(d->saved, rec)))
			nfd_log("error", "undo", "error=%s",
				nfd_q(nfc_errmsg(d->nfc)));
		undo_unsaved(d, err, errlen);
	} else if (!r) {
		persist_apply(d->saved, rec);
	}
	json_decref(rec);
	return r;
}

int daemon_save_entry(void *ctx, const char *nf, const char *coll,
		      const char *key, json_t *value, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	json_t *rec =
		json_pack("{s:s,s:s,s:s,s:O}", "nf", nf, "coll", coll, "key",
			  key, "value", value ? value : json_null());
	json_t *was =
		d->saved && !d->pinned ? saved_entry(d->saved, rec) : NULL;

	/* Saved as it is already: an entry the model never held (a route
	 * of the router's store, a ddos feed's prefix: the NF's own log
	 * has its delete), or a change back to the saved value. Nothing to
	 * write, so no write that could fail and be undone. */
	if (d->saved && !d->pinned &&
	    (was ? value && json_equal(was, value) : !value)) {
		json_decref(rec);
		return 0;
	}
	return journaled(d, rec, err, errlen);
}

void daemon_save_forgotten(struct daemon *d)
{
	json_t *f = nfc_take_forgotten(d->nfc), *e;
	char err[1024];
	size_t i;
	int r = 0;

	/* Nothing to undo here: the data plane let the entries go already.
	 * Not saved, a restore brings them back for a lifetime, and they
	 * expire again. */
	json_array_foreach (f, i, e) {
		json_t *rec;

		if (!d->saved || d->pinned || d->api.blocked)
			break;
		rec = json_pack("{s:O,s:O,s:O,s:n}", "nf", json_array_get(e, 0),
				"coll", json_array_get(e, 1), "key",
				json_array_get(e, 2), "value");
		r = persist_append_rec(d->state_dir, rec, err, sizeof(err));
		if (!r)
			persist_apply(d->saved, rec);
		json_decref(rec);
		if (r)
			break;
	}
	if (r > 0) {
		json_t *state = nfc_export(d->nfc);

		r = state ? persist_save(d->state_dir, state, err, sizeof(err))
			  : -EIO;
		if (!r) {
			json_decref(d->saved);
			d->saved = json_incref(state);
		} else if (!state) {
			snprintf(err, sizeof(err),
				 "cannot export the state: %s",
				 nfc_errmsg(d->nfc));
		}
		json_decref(state);
	}
	if (r)
		nfd_log("error", "save", "what=%s error=%s",
			nfd_q("entries that expired"), nfd_q(err));
	json_decref(f);
}

int daemon_save_nf(void *ctx, json_t *nf, char *err, size_t errlen)
{
	json_t *f = json_copy(nf);

	json_object_del(f, "collections");
	return journaled(ctx,
			 json_pack("{s:O,s:o}", "nf",
				   json_object_get(nf, "name"), "nf_fields", f),
			 err, errlen);
}

/* Netdev names the state refers to: port peers and attachment targets
 * without a ':' (those are NF ports). */
static void netdevs_named(json_t *doc, json_t *out)
{
	json_t *nf, *p, *a;
	size_t i, j;

	json_array_foreach (json_object_get(doc, "nfs"), i, nf)
		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			const char *peer =
				json_string_value(json_object_get(p, "peer"));

			if (peer && !strchr(peer, ':'))
				json_object_set_new(out, peer, json_true());
		}
	json_array_foreach (json_object_get(doc, "attachments"), i, a) {
		const char *t = json_string_value(json_object_get(a, "target"));

		if (t && !strchr(t, ':'))
			json_object_set_new(out, t, json_true());
	}
}

/* The MACs of the netdevs that ports of the saved state connect to, for
 * those not seen yet (daemon_on_link compares each event's with it). */
static void seed_macs(struct daemon *d)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	json_t *nf, *p;
	size_t i, j;

	if (s < 0)
		return;
	json_array_foreach (json_object_get(d->saved, "nfs"), i, nf)
		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			const char *peer =
				json_string_value(json_object_get(p, "peer"));
			struct ifreq ifr = {0};
			const unsigned char *m =
				(const unsigned char *)ifr.ifr_hwaddr.sa_data;
			char mac[18];

			if (!peer || strchr(peer, ':') ||
			    strlen(peer) >= sizeof(ifr.ifr_name) ||
			    json_object_get(d->macs, peer))
				continue;
			memcpy(ifr.ifr_name, peer, strlen(peer));
			if (ioctl(s, SIOCGIFHWADDR, &ifr))
				continue;
			snprintf(mac, sizeof(mac),
				 "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
				 m[2], m[3], m[4], m[5]);
			json_object_set_new(d->macs, peer, json_string(mac));
		}
	close(s);
}

static bool names_netdev(struct daemon *d, const char *name)
{
	json_t *names = json_object();
	bool r;

	netdevs_named(d->saved, names);
	r = json_object_get(names, name) != NULL;
	json_decref(names);
	return r;
}

/* The desired state without any reference to the netdevs in `gone` (an
 * object whose keys are their names): their ports unconnected, their
 * attachments gone. */
static json_t *doc_without(json_t *doc, json_t *gone)
{
	json_t *d = json_deep_copy(doc), *nf, *p, *a;
	json_t *atts;
	size_t i, j;

	json_array_foreach (json_object_get(d, "nfs"), i, nf)
		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			const char *peer =
				json_string_value(json_object_get(p, "peer"));

			if (peer && json_object_get(gone, peer))
				json_object_set_new(p, "peer", json_null());
		}
	atts = json_array();
	json_array_foreach (json_object_get(d, "attachments"), i, a) {
		const char *t = json_string_value(json_object_get(a, "target"));

		if (!t || !json_object_get(gone, t))
			json_array_append(atts, a);
	}
	json_object_set_new(d, "attachments", atts);
	return d;
}

/* The saved state did not run, and it names netdevs that do not exist
 * (not created yet after a boot: a container's veth, a tunnel): run all
 * of it that does not need them, so that one missing netdev does not
 * leave every NF down. Calls still wait (api.blocked) until the whole
 * state runs, since a change saved now would be saved without those
 * ports. Returns 1 if a part runs (`names` lists the netdevs it runs
 * without), 0 if no netdev is missing or the part does not run either. */
static int run_without_missing(struct daemon *d, char *names, size_t len)
{
	json_t *named = json_object(), *gone = json_object(), *v, *part;
	const char *n;
	size_t off = 0;
	int r = 0;

	names[0] = 0;
	netdevs_named(d->saved, named);
	json_object_foreach (named, n, v)
		if (!if_nametoindex(n)) {
			json_object_set_new(gone, n, json_true());
			off += snprintf(names + off, off < len ? len - off : 0,
					"%s%s", off ? ", " : "", n);
		}
	if (json_object_size(gone)) {
		part = doc_without(d->saved, gone);
		r = !nfc_apply_accepted(d->nfc, part, NULL);
		json_decref(part);
		if (r) {
			nfd_log("info", "restore",
				"source=state.json status=partial "
				"missing=%s",
				nfd_q(names));
			/* What an undo goes back to while blocked. */
			json_decref(d->pinned);
			d->pinned = nfc_export(d->nfc);
		} else {
			nfd_log("error", "restore",
				"source=state.json status=partial error=%s",
				nfd_q(nfc_errmsg(d->nfc)));
		}
	}
	json_decref(gone);
	json_decref(named);
	return r;
}

/* The saved state does not run: calls wait (api.blocked) with the
 * library's reason for it, the latest (a retry that fails on another NF
 * than the first says so: it kept naming a type already loaded). When
 * netdevs it names are missing, the rest of it is run meanwhile
 * (run_without_missing), and the reason says so. */
static void block(struct daemon *d)
{
	char err[1536], why[512], missing[512];
	json_t *pinned;
	bool part = false;

	/* Taken first: the export below begins a call, which clears it. */
	snprintf(why, sizeof(why), "%s", nfc_errmsg(d->nfc));
	pinned = nfc_export(d->nfc);
	if (pinned && d->saved)
		part = run_without_missing(d, missing, sizeof(missing));

	/* Pins it cannot read (nfc_open's adopt_later): they forward, but
	 * nothing of them can be shown, their slow paths are idle, and
	 * "not running" was untrue (found by a helper). */
	if (!pinned)
		snprintf(err, sizeof(err),
			 "the NFs pinned under %s keep forwarding, but this "
			 "daemon cannot read them: %s; until it can, it "
			 "shows none, their slow paths (ARP, ICMP errors, "
			 "expiry) are idle and every change waits",
			 nfc_pin_root(d->nfc), why);
	else if (part)
		snprintf(err, sizeof(err),
			 "the saved state %s/state.json is not running whole: "
			 "%s; what does not need %s runs meanwhile (those "
			 "ports unconnected, those attachments off); the "
			 "whole state is applied when they appear, every "
			 "change waits until then, and a new whole state "
			 "(nfchain apply) replaces it",
			 d->state_dir, why, missing);
	else
		snprintf(err, sizeof(err),
			 "the saved state %s/state.json is not running: %s; "
			 "it is retried when netdevs appear or types are "
			 "loaded, and a new whole state (nfchain apply) "
			 "replaces it",
			 d->state_dir, why);
	json_decref(pinned);
	free(d->api.blocked);
	d->api.blocked = strdup(err);
}

/* The state at start: what is pinned, reconciled with state.json. The
 * saved document is the desired state: when the pins differ (nothing
 * pinned after a reboot, or a change the previous daemon made and died
 * before saving) the pins are moved to it. */
int daemon_restore(struct daemon *d)
{
	char err[1024];
	json_t *pinned = nfc_export(d->nfc), *plan = NULL;
	int r;

	r = persist_load(d->state_dir, &d->saved, err, sizeof(err));
	if (r && r != -ENOENT) {
		nfd_log("error", "restore", "error=%s hint=%s", nfd_q(err),
			nfd_q("fix or move the file away; nothing was "
			      "changed"));
		json_decref(pinned);
		return r;
	}
	if (!d->saved && !pinned) {
		/* Pins this process cannot read yet (nfc_open's adopt_later)
		 * and nothing saved: they are adopted and saved as they are
		 * once `types load` makes them readable (reapply). */
		nfd_log("error", "restore", "source=pins error=%s",
			nfd_q(nfc_errmsg(d->nfc)));
		block(d);
		return 0;
	}
	if (!d->saved) {
		nfd_log("info", "restore", "source=pins nfs=%zu saved=none",
			json_array_size(json_object_get(pinned, "nfs")));
		r = daemon_save(d, pinned, err, sizeof(err));
		json_decref(pinned);
		return r;
	}
	if (json_equal(pinned, d->saved)) {
		nfd_log("info", "restore", "source=pins nfs=%zu saved=same",
			json_array_size(json_object_get(pinned, "nfs")));
		json_decref(pinned);
		return 0;
	}
	r = nfc_apply_accepted(d->nfc, d->saved, &plan);
	if (r) {
		nfd_log("error", "restore",
			"source=state.json pinned_nfs=%zu "
			"error=%s",
			json_array_size(json_object_get(pinned, "nfs")),
			nfd_q(nfc_errmsg(d->nfc)));
		d->api.pending = json_incref(d->saved);
		d->pinned = json_incref(pinned);
		block(d);
	} else {
		nfd_log("info", "restore",
			"source=state.json pinned_nfs=%zu "
			"nfs=%zu steps=%zu",
			json_array_size(json_object_get(pinned, "nfs")),
			json_array_size(json_object_get(d->saved, "nfs")),
			json_array_size(plan));
	}
	json_decref(plan);
	json_decref(pinned);
	return 0;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* A netdev the state names came back (or a pending restore may now
 * succeed): move the running system to the desired state again. The
 * library keeps a vanished netdev's name in its model and compares by
 * name, so applying the same state may see nothing to do; then the
 * netdev's ports and attachments are taken out and put back, which
 * resolves the new ifindex and attaches a new stub. */
static void reapply(struct daemon *d, const char *netdev)
{
	json_t *plan = NULL, *without;
	long long t0 = now_ms();
	size_t steps;
	int r;

	if (!d->saved) { /* pins not read at start, nothing saved */
		char err[1024];
		json_t *pinned = nfc_export(d->nfc);

		r = pinned ? daemon_save(d, pinned, err, sizeof(err)) : -1;
		json_decref(pinned);
		if (r) {
			nfd_log("warn", "reapply", "error=%s",
				nfd_q(pinned ? err : nfc_errmsg(d->nfc)));
			return;
		}
		api_unblock(&d->api);
		nfd_log("info", "restore", "source=pins status=running");
		return;
	}
	r = nfc_apply_accepted(d->nfc, d->saved, &plan);

	steps = json_array_size(plan);
	json_decref(plan);
	plan = NULL;
	if (!r && !steps && netdev && !d->api.blocked) {
		json_t *gone = json_pack("{s:b}", netdev, 1);

		without = doc_without(d->saved, gone);
		json_decref(gone);
		r = nfc_apply_accepted(d->nfc, without, &plan);
		steps = json_array_size(plan);
		json_decref(plan);
		plan = NULL;
		if (!r)
			r = nfc_apply_accepted(d->nfc, d->saved, &plan);
		steps += json_array_size(plan);
		json_decref(plan);
		json_decref(without);
	}
	if (r) {
		nfd_log("warn", "reapply", "reason=%s error=%s",
			nfd_q(netdev ? netdev : "-"),
			nfd_q(nfc_errmsg(d->nfc)));
		if (d->api.blocked)
			block(d);
		return;
	}
	nfd_log("info", "reapply", "reason=%s steps=%zu ms=%lld",
		nfd_q(netdev ? netdev : "-"), steps, now_ms() - t0);
	if (d->api.blocked) {
		api_unblock(&d->api);
		nfd_log("info", "restore", "source=state.json status=running");
	}
}

void daemon_retry_restore(void *ctx)
{
	struct daemon *d = ctx;

	if (d->api.blocked)
		reapply(d, NULL);
}

/* A netdev that comes back is usually being set up by a few commands in a
 * row (created, moved, brought up, its peer configured); re-applying at
 * the first event could see it half done. Each event of the name pushes
 * its re-apply SETTLE_MS later, and the loop wakes up when the first is
 * due. Short: the port is down until then (issue 14 asks for traffic
 * within 2 s of the device being up), and a set-up takes milliseconds. */
#define SETTLE_MS 200
/* Native XDP redirects into a veth only once the runtime has turned GRO
 * on at its far end, and the kernel (6.18) makes a veth a redirect target
 * only when that happens while the far end is up: GRO turned on while it
 * is down leaves our end refusing redirected frames after it comes up
 * (measured: the far end up 1 s after ours, then nothing ever arrived).
 * So a netdev without carrier (its far end down) waits for the carrier
 * event, which pushes the re-apply to SETTLE_MS; NO_CARRIER_MS bounds the
 * wait for a netdev whose carrier never comes. */
#define NO_CARRIER_MS 10000

static void settle_later(struct daemon *d, const char *name, unsigned flags)
{
	json_object_set_new(d->settling, name,
			    json_integer(now_ms() + (flags & IFF_LOWER_UP
							     ? SETTLE_MS
							     : NO_CARRIER_MS)));
}

int daemon_settle_timeout_ms(struct daemon *d)
{
	long long now = now_ms(), first = -1;
	const char *name;
	json_t *v;

	json_object_foreach (d->settling, name, v)
		if (first < 0 || json_integer_value(v) < first)
			first = json_integer_value(v);
	if (first < 0)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

void daemon_run_settled(struct daemon *d)
{
	long long now;
	const char *name;
	json_t *v, *due;
	size_t i;

	if (!json_object_size(d->settling))
		return;
	now = now_ms();
	due = json_array();
	json_object_foreach (d->settling, name, v)
		if (json_integer_value(v) <= now)
			json_array_append_new(due, json_string(name));
	json_array_foreach (due, i, v) {
		json_object_del(d->settling, json_string_value(v));
		reapply(d, json_string_value(v));
	}
	json_decref(due);
}

/* Ports whose netdev went away: the runtime has their NFs flush what they
 * learnt there (nfc_netdevs_check). A netdev of the state that is missing
 * is noted gone; one that is there under its name but is not the device
 * the ports were attached to was made again unseen (while no daemon ran,
 * or in lost events): it is re-applied like one that comes back. */
static void check_netdevs(struct daemon *d, const char *why)
{
	json_t *names = json_object(), *down = NULL, *v;
	const char *n;
	int ports;
	size_t i;

	netdevs_named(d->saved, names);
	json_object_foreach (names, n, v)
		if (!if_nametoindex(n) && !json_object_get(d->gone, n)) {
			nfd_log("warn", "netdev_missing", "netdev=%s",
				nfd_q(n));
			json_object_set_new(d->gone, n, json_true());
		}
	ports = nfc_netdevs_check(d->nfc, &down);
	if (ports > 0)
		nfd_log("info", "ports_down", "reason=%s ports=%d", nfd_q(why),
			ports);
	json_array_foreach (down, i, v) {
		n = json_string_value(v);
		if (!json_object_get(names, n) || !if_nametoindex(n) ||
		    json_object_get(d->gone, n) ||
		    json_object_get(d->settling, n))
			continue;
		nfd_log("info", "netdev_back", "netdev=%s ifindex=%u", nfd_q(n),
			if_nametoindex(n));
		settle_later(d, n, IFF_LOWER_UP);
	}
	json_decref(down);
	json_decref(names);
}

void daemon_note_missing(struct daemon *d)
{
	check_netdevs(d, "start");
	seed_macs(d);
}

void daemon_on_link(void *ctx, enum nl_event ev, int ifindex, const char *name,
		    unsigned flags, const char *mac)
{
	struct daemon *d = ctx;

	if (ev == NL_OVERRUN) {
		nfd_log("warn", "netlink", "msg=%s",
			nfd_q("link events were lost; rescanning"));
		check_netdevs(d, "rescan");
		return;
	}
	if (!*name)
		return;
	if (!names_netdev(d, name)) {
		char old[IF_NAMESIZE];

		/* Renamed away from a name of the state: as gone for the
		 * state (its ports down, what was learnt there flushed),
		 * and its hooks off. It was shown down and kept feeding
		 * the NFs, and a new netdev of the old name was never
		 * attached (found by a helper). */
		if (ev == NL_LINK_NEW &&
		    nfc_netdev_renamed(d->nfc, ifindex, name, old) > 0 &&
		    !json_object_get(d->gone, old)) {
			nfd_log("warn", "netdev_gone",
				"netdev=%s ifindex=%d renamed_to=%s",
				nfd_q(old), ifindex, nfd_q(name));
			json_object_set_new(d->gone, old, json_true());
			json_object_del(d->settling, old);
			check_netdevs(d, old);
		}
		return;
	}
	if (ev == NL_LINK_DEL) {
		json_object_del(d->macs, name);
		nfd_log("warn", "netdev_gone", "netdev=%s ifindex=%d",
			nfd_q(name), ifindex);
		json_object_set_new(d->gone, name, json_true());
		json_object_del(d->settling, name);
		check_netdevs(d, name);
		return;
	}
	if (json_object_get(d->gone, name)) {
		nfd_log("info", "netdev_back",
			"netdev=%s ifindex=%d carrier=%s", nfd_q(name), ifindex,
			flags & IFF_LOWER_UP ? "yes" : "no");
		json_object_del(d->gone, name);
		settle_later(d, name, flags);
	} else if (json_object_get(d->settling, name) || d->api.blocked) {
		settle_later(d, name, flags);
	} else if (*mac && json_object_get(d->macs, name) &&
		   strcmp(json_string_value(json_object_get(d->macs, name)),
			  mac)) {
		/* A port's netdev took another MAC: a router's port is that
		 * MAC, and took it only at the next re-apply, set off by
		 * another netdev's event, its IPv4 neighbours never told
		 * (found by a helper). Its NFs configure again, now: not a
		 * re-apply, whose disconnect and reconnect of the port sent
		 * the router's last word from its old link-local address
		 * while the port had no peer. */
		int n = nfc_netdev_reconfigure(d->nfc, name);

		nfd_log(n < 0 ? "warn" : "info", "netdev_mac",
			"netdev=%s was=%s mac=%s nfs=%d%s%s", nfd_q(name),
			json_string_value(json_object_get(d->macs, name)), mac,
			n < 0 ? 0 : n, n < 0 ? " error=" : "",
			n < 0 ? nfd_q(nfc_errmsg(d->nfc)) : "");
	}
	if (ev == NL_LINK_NEW && *mac && json_object_get(d->macs, name))
		json_object_set_new(d->macs, name, json_string(mac));
}
