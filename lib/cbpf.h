/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tcpdump expressions in the data plane: libpcap compiles the expression to
 * classic BPF, lib/cbpf.c translates that to eBPF by hand (no library does
 * this for XDP/TC programs), and the result is loaded as a program of the
 * NF's hook type that an NF reaches by tail call.
 *
 * Why a tail call and not freplace: a `__noinline` global function of the
 * NF replaced with freplace would cost one direct call, but this kernel
 * refuses every BPF_PROG_TYPE_EXT load with EPERM (measured 2026-12-02 and
 * 12-03 on 6.18, as root with CAP_BPF and CAP_PERFMON, by raw
 * bpf_prog_load and by libbpf alike), with an empty verifier log, even for
 * a plain unattached XDP target, and fentry the same: refused before the
 * verifier, by the host's security hook, not because of our programs
 * (nf/filter/freplace-probe.sh reproduces it; nf/filter/README.md). A tail call
 * through a constant slot is a direct jump once JIT-ed, and swapping the slot
 * is one map write, which is atomic: every packet runs the old program or the
 * new.
 *
 * How an NF's .bpf.c uses it (nf/filter/filter.bpf.c is the example):
 *
 *   struct {
 *           __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
 *           __uint(max_entries, NFCI_CBPF_SLOTS);
 *           __type(key, __u32);
 *           __type(value, __u32);
 *   } xxx_jmp SEC(".maps");                 // its own map, pinned, kept
 *
 *   SEC(NFC_SEC) int xxx_match(nfc_ctx_t *ctx)   { md = nfc_meta_mine(); ... }
 *   SEC(NFC_SEC) int xxx_nomatch(nfc_ctx_t *ctx) { md = nfc_meta_mine(); ... }
 *
 *   in the NF function:
 *           if (nfc_meta_save(md))          // the metadata crosses the call
 *                   return nfc_drop(...);
 *           bpf_tail_call(ctx, &xxx_jmp, NFCI_CBPF_SLOT_FILTER);
 *           // only if the slot is empty or the tail-call budget is spent
 *
 * The translated program tail-calls xxx_jmp[NFCI_CBPF_SLOT_MATCH] when the
 * expression matches and xxx_jmp[NFCI_CBPF_SLOT_NOMATCH] when it does not
 * (an out-of-bounds packet load is "no match", as in the kernel); if that
 * tail call fails it returns the hook's drop verdict. The control plane, in
 * configure() (after every load of the NF): writes its two continuation
 * programs into slots MATCH and NOMATCH (nfc_nf_prog_fd), then
 * nfci_cbpf_install() the compiled filter into slot FILTER. A change of the
 * expression is nfci_cbpf_install() again: no reload of the NF.
 *
 * Each tail call counts against the kernel's limit of 33 per packet: a
 * filter costs the chain two of them.
 *
 * Packet access: XDP frames are linear (the program is not loaded with
 * frags). In TC a load past the linear part falls back to
 * bpf_skb_load_bytes, so a non-linear skb is read whole without pulling it;
 * `len` is the wire length (XDP: data_end - data; TC: skb->len).
 */
#ifndef NFC_CBPF_H
#define NFC_CBPF_H

#include <stddef.h>
#include <stdint.h>

enum {
	NFCI_CBPF_SLOT_FILTER = 0,  /* the translated program */
	NFCI_CBPF_SLOT_MATCH = 1,   /* where it goes on a match */
	NFCI_CBPF_SLOT_NOMATCH = 2, /* where it goes otherwise */
	NFCI_CBPF_SLOTS = 3,
};

enum nfci_cbpf_hook {
	NFCI_CBPF_XDP,
	NFCI_CBPF_TC,
};

#define NFCI_CBPF_SNAPLEN_MAX 262144
#define NFCI_CBPF_ERRLEN 512

/* A classic BPF program as libpcap gives it (struct bpf_insn of pcap). */
struct nfci_cbpf_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

/* An expression compiled and translated: eBPF instructions (struct
 * bpf_insn) that still name the jump table by fd `jmp_fd` (an
 * LD_IMM64 of BPF_PSEUDO_MAP_FD). */
struct nfci_cbpf_prog {
	struct nfci_cbpf_insn *cbpf;
	unsigned ncbpf;
	void *insns; /* struct bpf_insn[] */
	unsigned ninsns;
	enum nfci_cbpf_hook hook;
	/* The expression it was compiled from (borrowed from the caller;
	 * NULL for a program of one's own): NFC_TEST_CBPF_REFUSE. */
	const char *src;
};

/* Compiles a pcap-filter expression with libpcap for Ethernet
 * (pcap_open_dead(DLT_EN10MB, snaplen) + pcap_compile, optimized).
 * 0, or -EINVAL with libpcap's own message in err ("syntax error", "unknown
 * host 'x'"...). Free with nfci_cbpf_free. */
int nfci_cbpf_compile(const char *expr, unsigned snaplen,
		      struct nfci_cbpf_prog *out, char *err, size_t errlen);
/* The same for a hook: TC's code tests a VLAN tag where the kernel keeps
 * it there, out of the frame (libpcap's code for a live Linux handle, made
 * on a packet socket on lo: root, or CAP_NET_RAW); XDP's is the one
 * above. */
int nfci_cbpf_compile_hook(const char *expr, unsigned snaplen,
			   enum nfci_cbpf_hook hook, struct nfci_cbpf_prog *out,
			   char *err, size_t errlen);

/* Translates out->cbpf into eBPF for `hook`, tail-calling through the
 * prog array `jmp_fd` (see above). 0, or -EINVAL with the reason (an
 * instruction it cannot translate: none that libpcap emits for Ethernet).
 * Pure: loads nothing, so the unit tests can look at the code. */
int nfci_cbpf_translate(struct nfci_cbpf_prog *p, enum nfci_cbpf_hook hook,
			int jmp_fd, char *err, size_t errlen);

/* Loads the translated program (XDP or SCHED_CLS) with the verifier log:
 * its fd, or -errno with the verifier's reason in err. */
int nfci_cbpf_load(const struct nfci_cbpf_prog *p, char *err, size_t errlen);

/* compile + translate + load in one call: the program fd or -errno with
 * the reason (libpcap's or the verifier's) in err. Nothing is installed. */
int nfci_cbpf_build(const char *expr, unsigned snaplen,
		    enum nfci_cbpf_hook hook, int jmp_fd, char *err,
		    size_t errlen);

/* translate + load of a compiled program, which it frees: the fd or
 * -errno, as nfci_cbpf_build. */
int nfci_cbpf_build_prog(struct nfci_cbpf_prog *p, enum nfci_cbpf_hook hook,
			 int jmp_fd, char *err, size_t errlen);

/* Writes prog_fd into jmp_fd[NFCI_CBPF_SLOT_FILTER]: one map update, so
 * every packet runs the old filter or the new one. 0 or -errno. */
int nfci_cbpf_install(int jmp_fd, int prog_fd, char *err, size_t errlen);

void nfci_cbpf_free(struct nfci_cbpf_prog *p);

/*
 * Offline runs (filter-test, the differential test): the same program, with
 * its own jump table whose MATCH and NOMATCH slots hold two tiny programs
 * returning 1 and 0, run by BPF_PROG_TEST_RUN. Nothing is attached.
 */
struct nfci_cbpf_runner {
	int jmp_fd, prog_fd, match_fd, nomatch_fd;
};
/* 0, or -errno with libpcap's or the verifier's reason in err. */
int nfci_cbpf_runner_open(struct nfci_cbpf_runner *r, const char *expr,
			  unsigned snaplen, enum nfci_cbpf_hook hook, char *err,
			  size_t errlen);
/* The same for a classic BPF program of one's own (p->cbpf; the unit
 * tests): translates it into p. */
int nfci_cbpf_runner_open_prog(struct nfci_cbpf_runner *r,
			       struct nfci_cbpf_prog *p,
			       enum nfci_cbpf_hook hook, char *err,
			       size_t errlen);
/* The longest frame an XDP test run holds whole: a page less the
 * headroom (256) and the room of the shared info (320). A longer one was
 * run on its first NFCI_CBPF_RUN_MAX bytes only (`len` and every load
 * past them wrong, silently): refused here with -E2BIG. */
#define NFCI_CBPF_RUN_MAX 3520
/* 1 match, 0 no match, -errno if the kernel could not run it. */
int nfci_cbpf_runner_run(struct nfci_cbpf_runner *r, const void *frame,
			 size_t len);
void nfci_cbpf_runner_close(struct nfci_cbpf_runner *r);

/*
 * Kept programs (lib/cbpf_keep.c; in the library, not the CLI). libpcap
 * looks host and port names up when it compiles, and a reboot compiles
 * every expression again: a name that no longer resolves then (no DNS yet
 * at boot, a name gone) refused the saved state whole, every NF of it
 * down and not only the filter. So an NF keeps what its expression
 * compiled to when it was accepted, in a file beside the state
 * (nfc_nf_keep_path), and a restore (nfc_nf_applying) whose compile
 * libpcap refuses takes the kept program of the same expression: the
 * addresses the name had when the expression was accepted, as a tcpdump
 * running since then would still use. A new expression is never given a
 * kept program: pass keep NULL then.
 */
/* nfci_cbpf_compile_hook; if libpcap refuses the expression and `keep`
 * holds a program of it (same snaplen, same hook): that one, 1, and a
 * line on stderr with libpcap's message. */
int nfci_cbpf_compile_kept(const char *expr, unsigned snaplen,
			   enum nfci_cbpf_hook hook, const char *keep,
			   struct nfci_cbpf_prog *out, char *err,
			   size_t errlen);
/* nfci_cbpf_build and nfci_cbpf_runner_open through it. */
int nfci_cbpf_build_kept(const char *expr, unsigned snaplen,
			 enum nfci_cbpf_hook hook, int jmp_fd, const char *keep,
			 char *err, size_t errlen);
int nfci_cbpf_runner_open_kept(struct nfci_cbpf_runner *r, const char *expr,
			       unsigned snaplen, enum nfci_cbpf_hook hook,
			       const char *keep, char *err, size_t errlen);
/* Writes the programs of an installed expression for both hooks into
 * `keep` (durably: temporary file, fsync, rename), with those of the one
 * expression it held before; nothing if it holds them already. 0, or
 * -errno with the file named in err. */
int nfci_cbpf_keep(const char *keep, const char *expr, unsigned snaplen,
		   char *err, size_t errlen);

/* Where an NF keeps them: its file in the daemon's state directory, or
 * NULL without one (no restore to keep them for). `name`: the NF's. */
struct nfc_nf;
const char *nfci_cbpf_keep_path(const struct nfc_nf *nf, const char *type,
				const char *name, char *buf, size_t len);
/* The NF is deleted (its removed()): its file goes. */
void nfci_cbpf_keep_remove(const struct nfc_nf *nf, const char *type,
			   const char *name);
/* What an NF that runs an expression (filter, capture) does with them.
 * validate(): the expression compiled, translated and passed by the
 * verifier for both hooks, nothing installed; a restore, or the
 * expression the NF runs now (its config's `field`), may take its kept
 * programs, a new expression may not. 0 or -errno, reason in err. */
int nfci_cbpf_nf_check(const struct nfc_nf *nf, const char *type,
		       const char *field, const char *expr, unsigned snaplen,
		       char *err, size_t errlen);
/* configure(): nfci_cbpf_build_kept with the NF's file: the expression
 * validate() passed moments ago, or one accepted before (a reload, pins
 * adopted, a restore), which alone can fail to compile now and is then
 * given its kept program. */
int nfci_cbpf_nf_build(const struct nfc_nf *nf, const char *type,
		       const char *expr, unsigned snaplen,
		       enum nfci_cbpf_hook hook, int jmp_fd, char *err,
		       size_t errlen);
/* configure(), once the expression is installed: its programs kept. A
 * failure is only logged: the data plane and the saved state have it,
 * only a restore that cannot look its names up again would miss it. */
void nfci_cbpf_nf_keep(const struct nfc_nf *nf, const char *type,
		       const char *expr, unsigned snaplen);

#endif
