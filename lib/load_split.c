// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loading a large NF's two programs at once. Creating a firewall, a NAT or
 * a load balancer is mostly the verifier's time, once for nfc_entry and
 * once for nfc_direct (~10k instructions each), and the kernel verifies
 * one program per bpf() call, on the calling thread. So the object is
 * loaded as three: the NF's own object creates the maps and loads no
 * program; two more opens of the same ELF, bound to those maps, load
 * nfc_entry (with any other program) and nfc_direct, each on its own
 * thread. libbpf 1.1 has no step between creating the maps and loading
 * the programs (bpf_object__prepare came in 1.6), hence the extra opens.
 *
 * Small NFs load as one object: their verification is a few ms, less than
 * the extra opens. NFC_SERIAL_LOAD=1 turns the split off (to compare).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "dataplane.h"

/* Split at this many instructions of nfc_direct (before relocation): the
 * firewall, lb and nat have 9.5k-16k, ddos 4k, the router 2k. Below it
 * the split measured no gain (ddos: its maps' creation dominates). */
#define SPLIT_INSNS 8000

struct part {
	struct bpf_object *obj;
	int r;
	char why[512];
};

static void *part_load(void *arg)
{
	struct part *p = arg;

	bpflog_reset();
	p->r = bpf_object__load(p->obj);
	if (p->r)
		snprintf(p->why, sizeof(p->why), "%s", bpflog_tail());
	return NULL;
}

/* Another open of the NF's object into p->obj, bound map for map to
 * `owner`'s (the same ELF: the same maps in the same order), loading only
 * the programs `want` says: the direct one, or all the others. */
static int part_open(struct nfc *nfc, const struct mnf *n,
		     struct bpf_object *owner, const void *elf, size_t sz,
		     const unsigned char *want, int direct, struct part *pt)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = n->name);
	struct bpf_object *obj = bpf_object__open_mem(elf, sz, &oo);
	struct bpf_map *m, *om = NULL;
	struct bpf_program *p;
	int i = 0, r;

	if (!obj)
		return nfci_err(nfc, errno, "NF %s: open its object again: %s",
				n->name, strerror(errno));
	bpf_object__for_each_program (p, obj) {
		int is_direct = !strcmp(bpf_program__name(p), "nfc_direct");

		bpf_program__set_autoload(p, want[i++] && is_direct == direct);
	}
	bpf_object__for_each_map (m, obj) {
		om = bpf_object__next_map(owner, om);
		/* Not by name: a map bound to a pin took the kernel's
		 * (truncated) name in `owner`. */
		if (!om || bpf_map__type(m) != bpf_map__type(om)) {
			r = nfci_err(nfc, EINVAL,
				     "NF %s: its object opened twice has "
				     "different maps",
				     n->name);
			goto fail;
		}
		r = bpf_map__reuse_fd(m, bpf_map__fd(om));
		if (r) {
			r = nfci_err(nfc, r, "NF %s: bind map %s: %s", n->name,
				     bpf_map__name(m), strerror(-r));
			goto fail;
		}
	}
	pt->obj = obj;
	return 0;
fail:
	bpf_object__close(obj);
	return r;
}

int dp_load_progs(struct nfc *nfc, const struct mnf *n, struct bpf_object *obj,
		  const void *elf, size_t sz, struct bpf_object *parts[2])
{
	struct bpf_program *p,
		*d = bpf_object__find_program_by_name(obj, "nfc_direct");
	const char *off = getenv("NFC_SERIAL_LOAD");
	struct part pe = {0}, pd = {0};
	unsigned char *want;
	pthread_t t;
	int i = 0, np = 0, threaded, r;

	parts[0] = parts[1] = NULL;
	if (!d || !bpf_program__autoload(d) ||
	    bpf_program__insn_cnt(d) < SPLIT_INSNS || (off && strcmp(off, "0")))
		goto whole;
	bpf_object__for_each_program (p, obj)
		np++;
	want = calloc(np, 1);
	if (!want)
		goto whole;
	/* The maps alone: every program off, what the NF wanted noted. */
	bpf_object__for_each_program (p, obj) {
		want[i++] = bpf_program__autoload(p);
		bpf_program__set_autoload(p, false);
	}
	bpflog_reset();
	r = bpf_object__load(obj);
	if (r) {
		free(want);
		return nfci_err(nfc, r, "NF %s: create its maps: %s", n->name,
				bpflog_tail());
	}
	r = part_open(nfc, n, obj, elf, sz, want, 0, &pe);
	if (!r)
		r = part_open(nfc, n, obj, elf, sz, want, 1, &pd);
	free(want);
	if (r) {
		bpf_object__close(pe.obj);
		return r;
	}
	/* No thread (out of them): one after the other, as a whole load. */
	threaded = !pthread_create(&t, NULL, part_load, &pd);
	part_load(&pe);
	if (threaded)
		pthread_join(t, NULL);
	else
		part_load(&pd);
	if (pe.r || pd.r) {
		struct part *bad = pe.r ? &pe : &pd;

		r = nfci_err(nfc, bad->r,
			     "NF %s: the kernel refused its program%s: %s",
			     n->name, bad == &pd ? " nfc_direct" : "",
			     bad->why);
		bpf_object__close(pe.obj);
		bpf_object__close(pd.obj);
		return r;
	}
	parts[0] = pe.obj;
	parts[1] = pd.obj;
	return 0;
whole:
	bpflog_reset();
	r = bpf_object__load(obj);
	if (r)
		return nfci_err(nfc, r,
				"NF %s: the kernel refused its program: %s",
				n->name, bpflog_tail());
	return 0;
}

struct bpf_program *dp_loaded_prog(struct bpf_object *obj,
				   struct bpf_object *parts[2],
				   const char *name)
{
	struct bpf_object *in[3] = {obj, parts[0], parts[1]};

	for (int i = 0; i < 3; i++) {
		struct bpf_program *p =
			in[i] ? bpf_object__find_program_by_name(in[i], name)
			      : NULL;

		if (p && bpf_program__fd(p) >= 0)
			return p;
	}
	return NULL;
}
