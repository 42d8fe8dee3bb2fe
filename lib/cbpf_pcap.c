// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The libpcap half of the expression compiler: its own file because pcap's
 * struct bpf_insn (classic) and the kernel's (eBPF) share a name.
 *
 * A dead handle for XDP and offline files, where a VLAN tag is in the
 * frame. In TC the kernel has taken the tag out of the frame before the
 * program runs (skb->vlan_tci), as it has before a packet socket's filter:
 * there libpcap's code must be the one it makes for a live Linux handle,
 * which tests the tag with the ancillary loads SKF_AD_VLAN_TAG_PRESENT and
 * SKF_AD_VLAN_TAG (lib/cbpf.c gives them the skb's fields), and only a
 * live handle makes it (the flag is private to libpcap, set when a packet
 * socket is opened): compiled on a dead handle, `vlan` never matched in TC.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pcap/pcap.h>

#include "cbpf.h"

/*
 * libpcap is loaded when the first expression is compiled, not linked:
 * linked, it brings libdbus, libsystemd, libgcrypt, lzma, lz4... into
 * every process of the library (~1 MB of nfchaind's RSS and part of its
 * start-up) for a compiler that only filter and capture NFs use. The
 * CLI, statically linked for its start-up time, builds this file with
 * NFC_PCAP_LINKED and calls libpcap directly. When it cannot be loaded,
 * nfci_cbpf_compile fails with -ENOSYS and says so in err.
 */
struct pcap_fns {
	pcap_t *(*open_dead)(int, int);
	pcap_t *(*create)(const char *, char *);
	int (*set_snaplen)(pcap_t *, int);
	int (*set_buffer_size)(pcap_t *, int);
	int (*activate)(pcap_t *);
	int (*compile)(pcap_t *, struct bpf_program *, const char *, int,
		       bpf_u_int32);
	char *(*geterr)(pcap_t *);
	void (*freecode)(struct bpf_program *);
	void (*close)(pcap_t *);
};

#ifdef NFC_PCAP_LINKED
static const struct pcap_fns pcap_linked = {
	pcap_open_dead,	      pcap_create,   pcap_set_snaplen,
	pcap_set_buffer_size, pcap_activate, pcap_compile,
	pcap_geterr,	      pcap_freecode, pcap_close,
};

static const struct pcap_fns *pcap_fns(char *err, size_t errlen)
{
	(void)err, (void)errlen;
	return &pcap_linked;
}
#else
static struct pcap_fns pcap_dl;
static char pcap_dl_err[256];
static pthread_once_t pcap_dl_once = PTHREAD_ONCE_INIT;

static void pcap_dl_load(void)
{
	/* The run-time names Debian's libpcap0.8 (and upstream) install. */
	static const char *const names[] = {"libpcap.so.0.8", "libpcap.so.1",
					    "libpcap.so"};
	void *h = NULL;

	for (size_t i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(pcap_dl_err, sizeof(pcap_dl_err),
			 "libpcap is needed to compile a filter expression "
			 "and cannot be loaded (%s): install libpcap0.8",
			 dlerror());
		return;
	}
	*(void **)&pcap_dl.open_dead = dlsym(h, "pcap_open_dead");
	*(void **)&pcap_dl.create = dlsym(h, "pcap_create");
	*(void **)&pcap_dl.set_snaplen = dlsym(h, "pcap_set_snaplen");
	*(void **)&pcap_dl.set_buffer_size = dlsym(h, "pcap_set_buffer_size");
	*(void **)&pcap_dl.activate = dlsym(h, "pcap_activate");
	*(void **)&pcap_dl.compile = dlsym(h, "pcap_compile");
	*(void **)&pcap_dl.geterr = dlsym(h, "pcap_geterr");
	*(void **)&pcap_dl.freecode = dlsym(h, "pcap_freecode");
	*(void **)&pcap_dl.close = dlsym(h, "pcap_close");
	if (!pcap_dl.open_dead || !pcap_dl.create || !pcap_dl.set_snaplen ||
	    !pcap_dl.set_buffer_size || !pcap_dl.activate || !pcap_dl.compile ||
	    !pcap_dl.geterr || !pcap_dl.freecode || !pcap_dl.close) {
		snprintf(pcap_dl_err, sizeof(pcap_dl_err),
			 "libpcap loaded but lacks pcap_compile and its "
			 "helpers: %s",
			 dlerror());
		memset(&pcap_dl, 0, sizeof(pcap_dl));
		dlclose(h);
	}
	/* Else kept loaded for the life of the process: the next
	 * expression needs it again. */
}

static const struct pcap_fns *pcap_fns(char *err, size_t errlen)
{
	pthread_once(&pcap_dl_once, pcap_dl_load);
	if (pcap_dl.compile)
		return &pcap_dl;
	snprintf(err, errlen, "%s", pcap_dl_err);
	return NULL;
}
#endif

/* A live handle on lo, for its code generation only: activated (libpcap
 * compiles for no other), on the smallest ring, closed right after. */
static pcap_t *live_handle(const struct pcap_fns *f, unsigned snaplen,
			   char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = f->create("lo", perr);
	int r;

	if (!p) {
		snprintf(err, errlen, "libpcap: a handle on lo: %s", perr);
		return NULL;
	}
	f->set_snaplen(p, (int)snaplen);
	f->set_buffer_size(p, 1 << 16);
	r = f->activate(p);
	if (r < 0) {
		snprintf(err, errlen,
			 "libpcap: compiling for the TC hook takes a packet "
			 "socket on lo (Linux's VLAN code): %s",
			 f->geterr(p));
		f->close(p);
		return NULL;
	}
	return p;
}

int nfci_cbpf_compile(const char *expr, unsigned snaplen,
		      struct nfci_cbpf_prog *out, char *err, size_t errlen)
{
	return nfci_cbpf_compile_hook(expr, snaplen, NFCI_CBPF_XDP, out, err,
				      errlen);
}

static int compile_now(const char *expr, unsigned snaplen,
		       enum nfci_cbpf_hook hook, struct nfci_cbpf_prog *out,
		       char *err, size_t errlen)
{
	const struct pcap_fns *f;
	struct bpf_program bp;
	pcap_t *p;

	memset(out, 0, sizeof(*out));
	if (snaplen < 1 || snaplen > NFCI_CBPF_SNAPLEN_MAX) {
		snprintf(err, errlen, "snaplen %u: outside 1..%u", snaplen,
			 NFCI_CBPF_SNAPLEN_MAX);
		return -EINVAL;
	}
	f = pcap_fns(err, errlen);
	if (!f)
		return -ENOSYS;
	if (hook == NFCI_CBPF_TC) {
		p = live_handle(f, snaplen, err, errlen);
		if (!p)
			return -EPERM;
	} else {
		p = f->open_dead(DLT_EN10MB, (int)snaplen);
		if (!p) {
			snprintf(err, errlen,
				 "libpcap: cannot open a dead handle");
			return -ENOMEM;
		}
	}
	/* Netmask 0, as `tcpdump -r` (an NF port has no subnet): `ip
	 * broadcast` is then 255.255.255.255 or 0.0.0.0; with an unknown one
	 * libpcap refused it, where tcpdump takes it (found by a helper). */
	if (f->compile(p, &bp, expr, 1, 0)) {
		/* A long expression quoted whole pushed libpcap's reason
		 * past the end of the message (found by a helper): quoted
		 * up to 120 characters, its length said past that. */
		size_t n = strlen(expr);

		if (n > 120)
			snprintf(err, errlen,
				 "expression '%.100s ... %.12s' (%zu "
				 "characters): %s",
				 expr, expr + n - 12, n, f->geterr(p));
		else
			snprintf(err, errlen, "expression '%s': %s", expr,
				 f->geterr(p));
		f->close(p);
		return -EINVAL;
	}
	out->cbpf = calloc(bp.bf_len ? bp.bf_len : 1, sizeof(*out->cbpf));
	if (!out->cbpf) {
		f->freecode(&bp);
		f->close(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < bp.bf_len; i++) {
		out->cbpf[i].code = bp.bf_insns[i].code;
		out->cbpf[i].jt = bp.bf_insns[i].jt;
		out->cbpf[i].jf = bp.bf_insns[i].jf;
		out->cbpf[i].k = bp.bf_insns[i].k;
	}
	out->ncbpf = bp.bf_len;
	f->freecode(&bp);
	f->close(p);
	return 0;
}

/*
 * The last few programs compiled, for a while. One change of an
 * expression compiles it for both hooks in validate() and again for the
 * NF's hook in configure() (a capture's filter once more, for libpcap's
 * own message): measured 7.5 s for `set expr=` of 360 `host A or ...`
 * (8,000 characters), 90 % of it in pcap_compile. Only for MEMO_NS, so
 * that a host name is looked up again by a later change, as a tcpdump
 * started later would.
 */
#define MEMO_N 4
#define MEMO_NS (30ull * 1000000000ull)

static struct memo {
	char *expr;
	unsigned snaplen;
	enum nfci_cbpf_hook hook;
	struct nfci_cbpf_insn *cbpf;
	unsigned ncbpf;
	unsigned long long at;
} memo[MEMO_N];
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

static int prog_set(struct nfci_cbpf_prog *out, const struct nfci_cbpf_insn *c,
		    unsigned n, enum nfci_cbpf_hook hook)
{
	memset(out, 0, sizeof(*out));
	out->cbpf = malloc((n ? n : 1) * sizeof(*c));
	if (!out->cbpf)
		return -ENOMEM;
	memcpy(out->cbpf, c, n * sizeof(*c));
	out->ncbpf = n;
	out->hook = hook;
	return 0;
}

/* 1 and a copy in out if the memo has it, fresh. */
static int memo_get(const char *expr, unsigned snaplen,
		    enum nfci_cbpf_hook hook, struct nfci_cbpf_prog *out)
{
	unsigned long long now = mono_ns();
	int r = 0;

	pthread_mutex_lock(&memo_lock);
	for (int i = 0; i < MEMO_N && !r; i++)
		if (memo[i].expr && memo[i].snaplen == snaplen &&
		    memo[i].hook == hook && now - memo[i].at < MEMO_NS &&
		    !strcmp(memo[i].expr, expr))
			r = !prog_set(out, memo[i].cbpf, memo[i].ncbpf, hook);
	pthread_mutex_unlock(&memo_lock);
	return r;
}

static void memo_put(const char *expr, unsigned snaplen,
		     enum nfci_cbpf_hook hook, const struct nfci_cbpf_prog *p)
{
	struct memo m = {strdup(expr), snaplen,	 hook,
			 NULL,	       p->ncbpf, mono_ns()};
	int old = 0;

	m.cbpf = malloc((p->ncbpf ? p->ncbpf : 1) * sizeof(*p->cbpf));
	if (!m.expr || !m.cbpf) {
		free(m.expr);
		free(m.cbpf);
		return; /* only the memo is lost */
	}
	memcpy(m.cbpf, p->cbpf, p->ncbpf * sizeof(*p->cbpf));
	pthread_mutex_lock(&memo_lock);
	/* The same key's slot (gone stale), else a free one, else the
	 * oldest. */
	for (int i = 0; i < MEMO_N; i++) {
		if (!memo[i].expr ||
		    (memo[i].snaplen == snaplen && memo[i].hook == hook &&
		     !strcmp(memo[i].expr, expr))) {
			old = i;
			break;
		}
		if (memo[i].at < memo[old].at)
			old = i;
	}
	free(memo[old].expr);
	free(memo[old].cbpf);
	memo[old] = m;
	pthread_mutex_unlock(&memo_lock);
}

int nfci_cbpf_compile_hook(const char *expr, unsigned snaplen,
			   enum nfci_cbpf_hook hook, struct nfci_cbpf_prog *out,
			   char *err, size_t errlen)
{
	int r;

	if (memo_get(expr, snaplen, hook, out))
		r = 0;
	else if (!(r = compile_now(expr, snaplen, hook, out, err, errlen)))
		memo_put(expr, snaplen, hook, out);
	out->src = r ? NULL : expr;
	return r;
}
