// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Classic BPF (what libpcap compiles a tcpdump expression to) translated
 * to eBPF by hand. The kernel converts cBPF to eBPF only for socket
 * filters (bpf_convert_filter, on an skb through helpers); nothing does it
 * for XDP or TC programs with direct packet access, so this file does.
 * Cloudflare's cbpfc and xdpcap were read for the pitfalls; see cbpf.h for
 * how an NF uses the result.
 *
 * Registers:
 *   r9 = A, r6 = X (callee-saved: they live across the TC pull helper)
 *   r7 = data, r8 = data_end (reloaded after a pull)
 *   r1..r5 scratch; ctx spilled at fp-8 (needed only for a pull, `len` in
 *   TC, and the final tail call)
 * Stack: M[i] at fp-72+4i (16 x 32 bits); fp-80 an offset kept across a
 * pull.
 *
 * Packet loads: cBPF jumps only go forward, so the program is a DAG of
 * basic blocks. A block's constant-offset loads (ld/ldh/ldb [k], ldxb
 * 4*([k]&0xf)) share one guard at the block's start for the furthest
 * byte any of them reads: if that byte is past the end, one of the loads
 * would fail and the program would return 0 anyway, so checking once
 * changes no verdict. A guard is skipped when every path into the block
 * has already checked as far (`known`, computed forward over the DAG).
 * An indirect load [x+k] checks its own bound. Past the end means "no
 * match", as in the kernel. In TC a failed guard on a packet that is long
 * enough pulls the missing bytes into the linear part
 * (bpf_skb_pull_data) and checks again.
 *
 * Offsets past 0xffff cannot be reached by direct packet access; such a
 * load is "no match" (no XDP frame is that long; in TC it would take a
 * GSO packet over 64 KiB and an expression reading past that).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "cbpf.h"

/* cBPF names the kernel's uapi lacks (linux/filter.h has them, but pulls
 * in its own struct names). */
#define C_MISC 0x07
#define C_TAX 0x00
#define C_TXA 0x80
#define C_MSH 0xa0
#define C_RVAL(c) ((c)&0x18)
#define C_MISCOP(c) ((c)&0xf8)
#define C_RET_A 0x10

#define R_A BPF_REG_9
#define R_X BPF_REG_6
#define R_DATA BPF_REG_7
#define R_END BPF_REG_8
#define FP_CTX (-8)
#define FP_MEM (-72)
#define FP_OFF (-80)
#define PKT_MAX 0xffff

/* Linux's ancillary loads (linux/filter.h's SKF_AD_*): offsets from
 * SKF_AD_OFF that read the skb, not the frame. libpcap's code for a live
 * Linux handle (TC, lib/cbpf_pcap.c) tests a VLAN tag so. */
#define C_AD_OFF 0xfffff000u /* SKF_AD_OFF, -0x1000 */
#define C_AD_VLAN_TAG 44
#define C_AD_VLAN_TAG_PRESENT 48
#define C_AD_VLAN_TPID 60

/* Jump targets that are not cBPF instructions: the two epilogues. */
enum { T_MATCH = -1, T_NOMATCH = -2 };

struct fix {
	unsigned at; /* the jump instruction */
	int target;  /* a cBPF index, or T_MATCH / T_NOMATCH */
};

struct tr {
	struct bpf_insn *ins;
	unsigned n, cap;
	struct fix *fix;
	unsigned nfix, capfix;
	enum nfci_cbpf_hook hook;
	int oom;
};

static void emit(struct tr *t, struct bpf_insn i)
{
	if (t->n == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 256;
		struct bpf_insn *p = realloc(t->ins, cap * sizeof(*p));

		if (!p) {
			t->oom = 1;
			return;
		}
		t->ins = p;
		t->cap = cap;
	}
	t->ins[t->n++] = i;
}

static struct bpf_insn I(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm) {
	struct bpf_insn i = {.code = code,
			     .dst_reg = dst,
			     .src_reg = src,
			     .off = off,
			     .imm = imm};
	return i;
}

/* A jump to a cBPF instruction or an epilogue, resolved at the end. */
static void
emit_jmp(struct tr *t, __u8 code, __u8 dst, __u8 src, __s32 imm, int target)
{
	if (t->nfix == t->capfix) {
		unsigned cap = t->capfix ? t->capfix * 2 : 128;
		struct fix *p = realloc(t->fix, cap * sizeof(*p));

		if (!p) {
			t->oom = 1;
			return;
		}
		t->fix = p;
		t->capfix = cap;
	}
	t->fix[t->nfix].at = t->n;
	t->fix[t->nfix++].target = target;
	emit(t, I(code, dst, src, 0, imm));
}

static void emit_ctx(struct tr *t, __u8 dst)
{
	emit(t, I(BPF_LDX | BPF_MEM | BPF_DW, dst, BPF_REG_10, FP_CTX, 0));
}

static void emit_reload_pkt(struct tr *t)
{
	int doff = t->hook == NFCI_CBPF_XDP
			   ? (int)offsetof(struct xdp_md, data)
			   : (int)offsetof(struct __sk_buff, data);
	int eoff = t->hook == NFCI_CBPF_XDP
			   ? (int)offsetof(struct xdp_md, data_end)
			   : (int)offsetof(struct __sk_buff, data_end);

	emit_ctx(t, BPF_REG_1);
	emit(t, I(BPF_LDX | BPF_MEM | BPF_W, R_DATA, BPF_REG_1, doff, 0));
	emit(t, I(BPF_LDX | BPF_MEM | BPF_W, R_END, BPF_REG_1, eoff, 0));
}

/* "No match" that the verifier's static pass sees as a conditional jump,
 * so that the instructions after it do not count as unreachable. */
static void emit_always_nomatch(struct tr *t)
{
	emit(t, I(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0));
	emit_jmp(t, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, 0, T_NOMATCH);
}

/* TC only: the packet's length is in r2 (>= the bytes wanted, checked by
 * the caller); pull them into the linear part, or "no match". */
static void emit_pull(struct tr *t, __u8 want_reg)
{
	if (want_reg != BPF_REG_2)
		emit(t,
		     I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, want_reg, 0, 0));
	emit_ctx(t, BPF_REG_1);
	emit(t, I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_pull_data));
	emit_jmp(t, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, T_NOMATCH);
	emit_reload_pkt(t);
}

/* Makes [data, data + need) readable or goes to "no match". */
static void emit_guard(struct tr *t, unsigned need)
{
	emit(t, I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, R_DATA, 0, 0));
	emit(t, I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, (__s32)need));
	if (t->hook == NFCI_CBPF_XDP) {
		emit_jmp(t, BPF_JMP | BPF_JGT | BPF_X, BPF_REG_1, R_END, 0,
			 T_NOMATCH);
		return;
	}
	/* if (data + need <= data_end) skip the slow part */
	unsigned skip = t->n;
	emit(t, I(BPF_JMP | BPF_JLE | BPF_X, BPF_REG_1, R_END, 0, 0));
	emit_ctx(t, BPF_REG_1);
	emit(t, I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
		  offsetof(struct __sk_buff, len), 0));
	emit_jmp(t, BPF_JMP | BPF_JLT | BPF_K, BPF_REG_2, 0, (__s32)need,
		 T_NOMATCH);
	emit(t, I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (__s32)need));
	emit_pull(t, BPF_REG_2);
	emit(t, I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, R_DATA, 0, 0));
	emit(t, I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, (__s32)need));
	emit_jmp(t, BPF_JMP | BPF_JGT | BPF_X, BPF_REG_1, R_END, 0, T_NOMATCH);
	t->ins[skip].off = (__s16)(t->n - skip - 1);
}

static int size_of(__u16 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W:
		return 4;
	case BPF_H:
		return 2;
	case BPF_B:
		return 1;
	}
	return 0;
}

/* dst = big-endian value of `size` bytes at *(ptr + 0). */
static void emit_load_at(struct tr *t, __u8 dst, __u8 ptr, int size)
{
	__u8 sz = size == 4 ? BPF_W : size == 2 ? BPF_H : BPF_B;

	emit(t, I(BPF_LDX | BPF_MEM | sz, dst, ptr, 0, 0));
	if (size > 1)
		emit(t, I(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, size * 8));
}

/* Constant-offset load; the block's guard already covers k + size. */
static void emit_load_abs(struct tr *t, __u8 dst, __u32 k, int size)
{
	if ((__u64)k + size > PKT_MAX) {
		emit_always_nomatch(t);
		return;
	}
	emit(t, I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, R_DATA, 0, 0));
	if (k)
		emit(t,
		     I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, (__s32)k));
	emit_load_at(t, dst, BPF_REG_1, size);
}

/*
 * An ancillary load: in TC the skb's VLAN tag, which the kernel keeps out
 * of the frame (as the socket filter reads it: bpf_convert_filter); the
 * TCI whole (libpcap masks the VID), the TPID in host order. Nothing else
 * has a meaning for an NF: the packet socket's own (pkttype for
 * inbound/outbound, ifindex, ...), and XDP, whose frame holds its tag.
 */
static int emit_load_anc(struct tr *t, __u32 k, char *err, size_t errlen)
{
	static const struct {
		__u32 ad;
		int off, be16;
	} f[] = {
		{C_AD_VLAN_TAG, offsetof(struct __sk_buff, vlan_tci), 0},
		{C_AD_VLAN_TAG_PRESENT,
		 offsetof(struct __sk_buff, vlan_present), 0},
		{C_AD_VLAN_TPID, offsetof(struct __sk_buff, vlan_proto), 1},
	};

	for (size_t i = 0;
	     t->hook == NFCI_CBPF_TC && i < sizeof(f) / sizeof(f[0]); i++) {
		if (k - C_AD_OFF != f[i].ad)
			continue;
		emit_ctx(t, BPF_REG_1);
		emit(t,
		     I(BPF_LDX | BPF_MEM | BPF_W, R_A, BPF_REG_1, f[i].off, 0));
		if (f[i].be16)
			emit(t,
			     I(BPF_ALU | BPF_END | BPF_TO_BE, R_A, 0, 0, 16));
		return 0;
	}
	/* Before, such a load read past the end of the frame: "no match",
	 * silently, for every packet. */
	snprintf(err, errlen,
		 "the expression asks what only a packet socket knows of a "
		 "packet (Linux's ancillary data %u: inbound/outbound, "
		 "ifindex...), which an NF's filter is not told",
		 k - C_AD_OFF);
	return -EINVAL;
}

/* [x + k]: its own bound check; the offset is data-dependent. `known`:
 * what the block's guard made readable, which a pull here must make
 * readable again for the verifier (a pull voids every packet range). */
static void emit_load_ind(struct tr *t, __u32 k, int size, unsigned known)
{
	unsigned fast_end[2], nfast = 0;

	/* r4 = x + k, 64-bit so that it cannot wrap */
	emit(t, I(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_4, R_X, 0, 0));
	emit(t, I(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (__s32)k));
	emit(t, I(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0));
	emit_jmp(t, BPF_JMP | BPF_JGT | BPF_K, BPF_REG_4, 0, PKT_MAX - size,
		 T_NOMATCH);
	for (int pass = 0; pass < (t->hook == NFCI_CBPF_TC ? 2 : 1); pass++) {
		if (pass == 1) {
			/* TC, past the linear part: pull up to x + k + size
			 * if the packet has them, then the same again. */
			emit(t, I(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10,
				  BPF_REG_4, FP_OFF, 0));
			emit_ctx(t, BPF_REG_1);
			emit(t,
			     I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
			       offsetof(struct __sk_buff, len), 0));
			emit(t, I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3,
				  BPF_REG_4, 0, 0));
			emit(t, I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0,
				  size));
			emit_jmp(t, BPF_JMP | BPF_JLT | BPF_X, BPF_REG_2,
				 BPF_REG_3, 0, T_NOMATCH);
			emit_pull(t, BPF_REG_3);
			if (known) {
				/* never taken: a pull only grows the
				 * linear part */
				emit(t, I(BPF_ALU64 | BPF_MOV | BPF_X,
					  BPF_REG_1, R_DATA, 0, 0));
				emit(t, I(BPF_ALU64 | BPF_ADD | BPF_K,
					  BPF_REG_1, 0, 0, (__s32)known));
				emit_jmp(t, BPF_JMP | BPF_JGT | BPF_X,
					 BPF_REG_1, R_END, 0, T_NOMATCH);
			}
			emit(t, I(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_4,
				  BPF_REG_10, FP_OFF, 0));
			/* the verifier needs the bound again after the
			 * spill */
			emit_jmp(t, BPF_JMP | BPF_JGT | BPF_K, BPF_REG_4, 0,
				 PKT_MAX - size, T_NOMATCH);
		}
		emit(t,
		     I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, R_DATA, 0, 0));
		emit(t, I(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_1, BPF_REG_4, 0,
			  0));
		emit(t, I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_1, 0,
			  0));
		emit(t, I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, size));
		if (pass == 0 && t->hook == NFCI_CBPF_TC) {
			/* short: go to the pull below */
			unsigned j = t->n;
			emit(t, I(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_3, R_END,
				  0, 0));
			emit_load_at(t, R_A, BPF_REG_1, size);
			fast_end[nfast++] = t->n;
			emit(t, I(BPF_JMP | BPF_JA, 0, 0, 0, 0));
			t->ins[j].off = (__s16)(t->n - j - 1);
		} else {
			emit_jmp(t, BPF_JMP | BPF_JGT | BPF_X, BPF_REG_3, R_END,
				 0, T_NOMATCH);
			emit_load_at(t, R_A, BPF_REG_1, size);
		}
	}
	for (unsigned i = 0; i < nfast; i++)
		t->ins[fast_end[i]].off = (__s16)(t->n - fast_end[i] - 1);
}

static void emit_len(struct tr *t, __u8 dst)
{
	if (t->hook == NFCI_CBPF_XDP) {
		emit(t, I(BPF_ALU64 | BPF_MOV | BPF_X, dst, R_END, 0, 0));
		emit(t, I(BPF_ALU64 | BPF_SUB | BPF_X, dst, R_DATA, 0, 0));
		emit(t, I(BPF_ALU | BPF_MOV | BPF_X, dst, dst, 0, 0));
		return;
	}
	emit_ctx(t, BPF_REG_1);
	emit(t, I(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1,
		  offsetof(struct __sk_buff, len), 0));
}

/* The bytes from the start a constant-offset load reads to its end, 0 if
 * none (or if it is beyond direct access: it never passes anyway). */
static unsigned abs_need(const struct nfci_cbpf_insn *c)
{
	unsigned long long end = 0;

	if (BPF_CLASS(c->code) == BPF_LD && BPF_MODE(c->code) == BPF_ABS)
		end = (unsigned long long)c->k + size_of(c->code);
	else if (c->code == (BPF_LDX | BPF_B | C_MSH))
		end = (unsigned long long)c->k + 1;
	return end > PKT_MAX ? 0 : (unsigned)end;
}

static int is_jump(__u16 code)
{
	return BPF_CLASS(code) == BPF_JMP || BPF_CLASS(code) == BPF_RET;
}

/* The furthest byte the constant-offset loads of the block starting at
 * `i` read. */
static unsigned block_need(const struct nfci_cbpf_insn *c, unsigned n,
			   const unsigned char *leader, unsigned i)
{
	unsigned need = 0;

	for (unsigned j = i; j < n; j++) {
		unsigned e = abs_need(&c[j]);

		if (e > need)
			need = e;
		if (is_jump(c[j].code) || (j + 1 < n && leader[j + 1]))
			break;
	}
	return need;
}

static int translate_one(struct tr *t, const struct nfci_cbpf_insn *c,
			 unsigned i, unsigned known, char *err, size_t errlen)
{
	__u16 code = c->code;
	__s32 k = (__s32)c->k;
	int size = size_of(code);
	__u8 op, cls = BPF_CLASS(code);

	switch (cls) {
	case BPF_LD:
		switch (BPF_MODE(code)) {
		case BPF_ABS:
			if (c->k >= C_AD_OFF)
				return emit_load_anc(t, c->k, err, errlen);
			emit_load_abs(t, R_A, c->k, size);
			return 0;
		case BPF_IND:
			emit_load_ind(t, c->k, size, known);
			return 0;
		case BPF_LEN:
			emit_len(t, R_A);
			return 0;
		case BPF_IMM:
			emit(t, I(BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, k));
			return 0;
		case BPF_MEM:
			if (c->k >= 16)
				break;
			emit(t, I(BPF_LDX | BPF_MEM | BPF_W, R_A, BPF_REG_10,
				  FP_MEM + 4 * k, 0));
			return 0;
		}
		break;
	case BPF_LDX:
		switch (BPF_MODE(code)) {
		case BPF_IMM:
			emit(t, I(BPF_ALU | BPF_MOV | BPF_K, R_X, 0, 0, k));
			return 0;
		case BPF_LEN:
			emit_len(t, R_X);
			return 0;
		case BPF_MEM:
			if (c->k >= 16)
				break;
			emit(t, I(BPF_LDX | BPF_MEM | BPF_W, R_X, BPF_REG_10,
				  FP_MEM + 4 * k, 0));
			return 0;
		case C_MSH:
			/* x = 4 * ([k] & 0xf): the IPv4 header length */
			emit_load_abs(t, R_X, c->k, 1);
			emit(t, I(BPF_ALU | BPF_AND | BPF_K, R_X, 0, 0, 0xf));
			emit(t, I(BPF_ALU | BPF_LSH | BPF_K, R_X, 0, 0, 2));
			return 0;
		}
		break;
	case BPF_ST:
	case BPF_STX:
		if (c->k >= 16)
			break;
		emit(t, I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10,
			  cls == BPF_ST ? R_A : R_X, FP_MEM + 4 * k, 0));
		return 0;
	case BPF_ALU:
		op = BPF_OP(code);
		if (op == BPF_NEG) {
			emit(t, I(BPF_ALU | BPF_NEG, R_A, 0, 0, 0));
			return 0;
		}
		if (op != BPF_ADD && op != BPF_SUB && op != BPF_MUL &&
		    op != BPF_DIV && op != BPF_MOD && op != BPF_AND &&
		    op != BPF_OR && op != BPF_XOR && op != BPF_LSH &&
		    op != BPF_RSH)
			break;
		if (BPF_SRC(code) == BPF_X) {
			/* cBPF: division by zero ends the program with 0 */
			if (op == BPF_DIV || op == BPF_MOD)
				emit_jmp(t, BPF_JMP32 | BPF_JEQ | BPF_K, R_X, 0,
					 0, T_NOMATCH);
			if (op == BPF_LSH || op == BPF_RSH) {
				/* libpcap's interpreter: a shift by 32 or
				 * more gives 0 (eBPF, like x86, would take
				 * the count modulo 32) */
				emit(t, I(BPF_JMP32 | BPF_JGT | BPF_K, R_X, 0,
					  2, 31));
				emit(t,
				     I(BPF_ALU | op | BPF_X, R_A, R_X, 0, 0));
				emit(t, I(BPF_JMP | BPF_JA, 0, 0, 1, 0));
				emit(t, I(BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0,
					  0));
				return 0;
			}
			emit(t, I(BPF_ALU | op | BPF_X, R_A, R_X, 0, 0));
		} else {
			if ((op == BPF_DIV || op == BPF_MOD) && c->k == 0) {
				emit_always_nomatch(t);
				return 0;
			}
			emit(t, I(BPF_ALU | op | BPF_K, R_A, 0, 0, k));
		}
		return 0;
	case BPF_JMP:
		op = BPF_OP(code);
		if (op == BPF_JA) {
			emit_jmp(t, BPF_JMP | BPF_JA, 0, 0, 0,
				 (int)(i + 1 + c->k));
			return 0;
		}
		if (op != BPF_JEQ && op != BPF_JGT && op != BPF_JGE &&
		    op != BPF_JSET)
			break;
		emit_jmp(t, BPF_JMP32 | op | BPF_SRC(code), R_A,
			 BPF_SRC(code) == BPF_X ? R_X : 0,
			 BPF_SRC(code) == BPF_X ? 0 : k, (int)(i + 1 + c->jt));
		if (c->jf)
			emit_jmp(t, BPF_JMP | BPF_JA, 0, 0, 0,
				 (int)(i + 1 + c->jf));
		return 0;
	case BPF_RET:
		if (C_RVAL(code) == BPF_K) {
			emit_jmp(t, BPF_JMP | BPF_JA, 0, 0, 0,
				 c->k ? T_MATCH : T_NOMATCH);
			return 0;
		}
		if (C_RVAL(code) == C_RET_A) {
			emit_jmp(t, BPF_JMP32 | BPF_JNE | BPF_K, R_A, 0, 0,
				 T_MATCH);
			emit_jmp(t, BPF_JMP | BPF_JA, 0, 0, 0, T_NOMATCH);
			return 0;
		}
		break;
	case C_MISC:
		if (C_MISCOP(code) == C_TAX) {
			emit(t, I(BPF_ALU | BPF_MOV | BPF_X, R_X, R_A, 0, 0));
			return 0;
		}
		if (C_MISCOP(code) == C_TXA) {
			emit(t, I(BPF_ALU | BPF_MOV | BPF_X, R_A, R_X, 0, 0));
			return 0;
		}
		break;
	}
	snprintf(err, errlen,
		 "classic BPF instruction %u (code 0x%02x, k %u): cannot "
		 "translate it",
		 i, code, c->k);
	return -EINVAL;
}

/* The tail call into slot `slot` of the jump table; the hook's drop
 * verdict if the slot is empty or the chain's tail-call budget is spent. */
static void emit_epilogue(struct tr *t, int jmp_fd, int slot)
{
	emit_ctx(t, BPF_REG_1);
	emit(t, I(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_MAP_FD, 0,
		  jmp_fd));
	emit(t, I(0, 0, 0, 0, 0));
	emit(t, I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, slot));
	emit(t, I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call));
	emit(t, I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0,
		  t->hook == NFCI_CBPF_XDP ? XDP_DROP : 2 /* TC_ACT_SHOT */));
	emit(t, I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

int nfci_cbpf_translate(struct nfci_cbpf_prog *p, enum nfci_cbpf_hook hook,
			int jmp_fd, char *err, size_t errlen)
{
	const struct nfci_cbpf_insn *c = p->cbpf;
	unsigned n = p->ncbpf;
	struct tr t = {.hook = hook};
	unsigned *start = NULL, *known = NULL, *gneed = NULL, *at = NULL, cur;
	unsigned char *reach = NULL, *leader = NULL;
	unsigned ep[2] = {0, 0}, need = 0;
	int r = -ENOMEM, used[2] = {0, 0};

	if (!n) {
		snprintf(err, errlen, "empty classic BPF program");
		return -EINVAL;
	}
	if (n > 4096) {
		snprintf(err, errlen,
			 "classic BPF program of %u instructions: over 4096",
			 n);
		return -EINVAL;
	}
	start = calloc(n, sizeof(*start));
	known = calloc(n, sizeof(*known));
	gneed = calloc(n, sizeof(*gneed));
	at = calloc(n, sizeof(*at));
	reach = calloc(n, 1);
	leader = calloc(n, 1);
	if (!start || !known || !gneed || !at || !reach || !leader)
		goto oom;

	/* Targets inside the program, reachability, block leaders and the
	 * bytes every path into an instruction has already checked. Forward
	 * jumps only: one pass in order sees every predecessor first.
	 * known[i] = UINT_MAX until a path reaches i. */
	for (unsigned i = 0; i < n; i++)
		known[i] = ~0u;
	reach[0] = leader[0] = 1;
	known[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		__u16 code = c[i].code;
		unsigned succ[2], ns = 0;

		if (BPF_CLASS(code) == BPF_JMP) {
			if (BPF_OP(code) == BPF_JA) {
				if ((__u32)(i + 1 + c[i].k) < i + 1) {
					/* libpcap makes a loop for protochain;
					 * the kernel's cBPF refuses it too */
					snprintf(
						err, errlen,
						"instruction %u jumps backward "
						"(a loop, as libpcap compiles "
						"protochain): not supported",
						i);
					r = -EOPNOTSUPP;
					goto out;
				}
				if (c[i].k >= n - i - 1) {
					snprintf(err, errlen,
						 "instruction %u jumps out of "
						 "the program",
						 i);
					r = -EINVAL;
					goto out;
				}
				succ[ns++] = i + 1 + c[i].k;
			} else {
				if (i + 1 + c[i].jt >= n ||
				    i + 1 + c[i].jf >= n) {
					snprintf(err, errlen,
						 "instruction %u jumps out of "
						 "the program",
						 i);
					r = -EINVAL;
					goto out;
				}
				succ[ns++] = i + 1 + c[i].jt;
				succ[ns++] = i + 1 + c[i].jf;
			}
			for (unsigned s = 0; s < ns; s++)
				leader[succ[s]] = 1;
		} else if (BPF_CLASS(code) != BPF_RET) {
			if (i + 1 >= n) {
				snprintf(err, errlen,
					 "the program does not end with a "
					 "return");
				r = -EINVAL;
				goto out;
			}
			succ[ns++] = i + 1;
		}
		if (is_jump(code) && i + 1 < n)
			leader[i + 1] = 1;
		if (!reach[i])
			continue;
		/* A leader's guard covers its whole block; a non-leader has
		 * one predecessor, the instruction before it. */
		cur = known[i];
		if (leader[i]) {
			need = block_need(c, n, leader, i);
			if (need > cur)
				gneed[i] = cur = need;
		}
		at[i] = cur;
		for (unsigned s = 0; s < ns; s++) {
			unsigned d = succ[s];

			reach[d] = 1;
			if (cur < known[d])
				known[d] = cur;
		}
	}

	/* Prologue: ctx kept, A, X and the scratch memory zeroed (cBPF
	 * starts with them 0; the verifier wants them written). */
	emit(&t,
	     I(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, BPF_REG_1, FP_CTX, 0));
	emit(&t, I(BPF_ALU64 | BPF_MOV | BPF_K, R_A, 0, 0, 0));
	emit(&t, I(BPF_ALU64 | BPF_MOV | BPF_K, R_X, 0, 0, 0));
	for (int m = 0; m < 16; m += 2)
		emit(&t, I(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0,
			   FP_MEM + 4 * m, 0));
	emit_reload_pkt(&t);

	for (unsigned i = 0; i < n; i++) {
		start[i] = t.n;
		if (!reach[i])
			continue;
		if (gneed[i])
			emit_guard(&t, gneed[i]);
		r = translate_one(&t, &c[i], i, at[i], err, errlen);
		if (r)
			goto out;
	}
	for (unsigned f = 0; f < t.nfix; f++)
		if (t.fix[f].target < 0)
			used[-t.fix[f].target - 1] = 1;
	for (int e = 0; e < 2; e++)
		if (used[e]) {
			ep[e] = t.n;
			emit_epilogue(&t, jmp_fd,
				      e == 0 ? NFCI_CBPF_SLOT_MATCH
					     : NFCI_CBPF_SLOT_NOMATCH);
		}
	if (t.oom)
		goto oom;
	for (unsigned f = 0; f < t.nfix; f++) {
		int tg = t.fix[f].target;
		unsigned to = tg >= 0 ? start[tg] : ep[-tg - 1];
		long off = (long)to - (long)t.fix[f].at - 1;

		if (off < 0 || off > 32767) {
			snprintf(err, errlen,
				 "translated program too long (%u "
				 "instructions)",
				 t.n);
			r = -E2BIG;
			goto out;
		}
		t.ins[t.fix[f].at].off = (__s16)off;
	}
	free(p->insns);
	p->insns = t.ins;
	p->ninsns = t.n;
	p->hook = hook;
	t.ins = NULL;
	r = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	r = -ENOMEM;
out:
	free(t.ins);
	free(t.fix);
	free(start);
	free(known);
	free(gneed);
	free(at);
	free(reach);
	free(leader);
	return r;
}

/* The verifier's last lines: where it stopped and why. */
static void log_tail(char *err, size_t errlen, const char *what,
		     const char *log, int e)
{
	size_t len = strlen(log);
	const char *p = log + len;
	int lines = 0;

	while (p > log && lines < 3)
		if (*--p == '\n' && p + 1 < log + len)
			lines++;
	if (*p == '\n')
		p++;
	snprintf(err, errlen, "%s: the verifier refused it (%s)%s%.*s", what,
		 strerror(e), *p ? ": " : "", (int)strlen(p), p);
	for (char *q = err; *q; q++)
		if (*q == '\n')
			*q = ' ';
}

int nfci_cbpf_load(const struct nfci_cbpf_prog *p, char *err, size_t errlen)
{
	static char log[1 << 20];
	const char *refuse = getenv("NFC_TEST_CBPF_REFUSE");
	unsigned n = p->ninsns;
	int fd;

	/* NFC_TEST_CBPF_REFUSE=EXPR, for tests only: that expression's
	 * translation is cut short, so that the verifier refuses it. No
	 * expression libpcap compiles is known to make the verifier refuse
	 * its translation, and the NFs' tests must still see that refusal
	 * end to end (the verifier's reason, nothing changed). */
	if (refuse && p->src && !strcmp(refuse, p->src) && n > 3)
		n = 3;

	log[0] = 0;
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log,
		    .log_size = sizeof(log),
		    .log_level = getenv("NFC_CBPF_LOG") ? 2 : 1);
	if (p->hook == NFCI_CBPF_XDP)
		o.expected_attach_type = BPF_XDP;
	fd = bpf_prog_load(p->hook == NFCI_CBPF_XDP ? BPF_PROG_TYPE_XDP
						    : BPF_PROG_TYPE_SCHED_CLS,
			   "nfc_cbpf", "Dual BSD/GPL", p->insns, n, &o);
	if (fd < 0) {
		int e = errno;

		/* NFC_CBPF_LOG=1: the whole verifier log, for debugging */
		if (getenv("NFC_CBPF_LOG"))
			fputs(log, stderr);
		log_tail(err, errlen, "translated filter", log, e);
		return -e;
	}
	return fd;
}

int nfci_cbpf_build_prog(struct nfci_cbpf_prog *p, enum nfci_cbpf_hook hook,
			 int jmp_fd, char *err, size_t errlen)
{
	int r = nfci_cbpf_translate(p, hook, jmp_fd, err, errlen);

	if (!r)
		r = nfci_cbpf_load(p, err, errlen);
	nfci_cbpf_free(p);
	return r;
}

int nfci_cbpf_build(const char *expr, unsigned snaplen,
		    enum nfci_cbpf_hook hook, int jmp_fd, char *err,
		    size_t errlen)
{
	struct nfci_cbpf_prog p;
	int r;

	r = nfci_cbpf_compile_hook(expr, snaplen, hook, &p, err, errlen);
	return r ? r : nfci_cbpf_build_prog(&p, hook, jmp_fd, err, errlen);
}

int nfci_cbpf_install(int jmp_fd, int prog_fd, char *err, size_t errlen)
{
	__u32 k = NFCI_CBPF_SLOT_FILTER;

	if (bpf_map_update_elem(jmp_fd, &k, &prog_fd, BPF_ANY)) {
		int e = errno;

		snprintf(err, errlen, "install the filter in its slot: %s",
			 strerror(e));
		return -e;
	}
	return 0;
}

void nfci_cbpf_free(struct nfci_cbpf_prog *p)
{
	free(p->cbpf);
	free(p->insns);
	memset(p, 0, sizeof(*p));
}

/* A program that returns `v`: the runner's MATCH and NOMATCH slots. */
static int const_prog(enum nfci_cbpf_hook hook, int v)
{
	struct bpf_insn ins[] = {
		I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, v),
		I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);

	if (hook == NFCI_CBPF_XDP)
		o.expected_attach_type = BPF_XDP;
	return bpf_prog_load(hook == NFCI_CBPF_XDP ? BPF_PROG_TYPE_XDP
						   : BPF_PROG_TYPE_SCHED_CLS,
			     v ? "nfc_cbpf_yes" : "nfc_cbpf_no", "Dual BSD/GPL",
			     ins, 2, &o);
}

/* The jump table and its two verdict programs, then `load` for slot 0. */
static int runner_open(struct nfci_cbpf_runner *r, enum nfci_cbpf_hook hook,
		       int (*load)(void *arg, int jmp_fd, char *err,
				   size_t errlen),
		       void *arg, char *err, size_t errlen)
{
	__u32 k;
	int e;

	r->prog_fd = r->match_fd = r->nomatch_fd = -1;
	r->jmp_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "nfc_cbpf_jmp", 4,
				   4, NFCI_CBPF_SLOTS, NULL);
	if (r->jmp_fd < 0) {
		e = errno;
		snprintf(err, errlen, "create the jump table: %s", strerror(e));
		return -e;
	}
	r->match_fd = const_prog(hook, 1);
	r->nomatch_fd = const_prog(hook, 0);
	if (r->match_fd < 0 || r->nomatch_fd < 0) {
		e = errno;
		snprintf(err, errlen, "load the verdict programs: %s",
			 strerror(e));
		goto fail;
	}
	k = NFCI_CBPF_SLOT_MATCH;
	if (bpf_map_update_elem(r->jmp_fd, &k, &r->match_fd, BPF_ANY)) {
		e = errno;
		snprintf(err, errlen, "fill the jump table: %s", strerror(e));
		goto fail;
	}
	k = NFCI_CBPF_SLOT_NOMATCH;
	if (bpf_map_update_elem(r->jmp_fd, &k, &r->nomatch_fd, BPF_ANY)) {
		e = errno;
		snprintf(err, errlen, "fill the jump table: %s", strerror(e));
		goto fail;
	}
	r->prog_fd = load(arg, r->jmp_fd, err, errlen);
	if (r->prog_fd < 0) {
		e = -r->prog_fd;
		r->prog_fd = -1;
		goto fail;
	}
	return 0;
fail:
	nfci_cbpf_runner_close(r);
	return -e;
}

struct expr_arg {
	const char *expr;
	unsigned snaplen;
	enum nfci_cbpf_hook hook;
};

static int load_expr(void *arg, int jmp_fd, char *err, size_t errlen)
{
	struct expr_arg *a = arg;

	return nfci_cbpf_build(a->expr, a->snaplen, a->hook, jmp_fd, err,
			       errlen);
}

int nfci_cbpf_runner_open(struct nfci_cbpf_runner *r, const char *expr,
			  unsigned snaplen, enum nfci_cbpf_hook hook, char *err,
			  size_t errlen)
{
	struct expr_arg a = {expr, snaplen, hook};

	return runner_open(r, hook, load_expr, &a, err, errlen);
}

struct prog_arg {
	struct nfci_cbpf_prog *p;
	enum nfci_cbpf_hook hook;
};

static int load_given(void *arg, int jmp_fd, char *err, size_t errlen)
{
	struct prog_arg *a = arg;
	int r = nfci_cbpf_translate(a->p, a->hook, jmp_fd, err, errlen);

	return r ? r : nfci_cbpf_load(a->p, err, errlen);
}

int nfci_cbpf_runner_open_prog(struct nfci_cbpf_runner *r,
			       struct nfci_cbpf_prog *p,
			       enum nfci_cbpf_hook hook, char *err,
			       size_t errlen)
{
	struct prog_arg a = {p, hook};

	return runner_open(r, hook, load_given, &a, err, errlen);
}

int nfci_cbpf_runner_run(struct nfci_cbpf_runner *r, const void *frame,
			 size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = 1);

	if (len > NFCI_CBPF_RUN_MAX)
		return -E2BIG;
	if (bpf_prog_test_run_opts(r->prog_fd, &o))
		return -errno;
	return o.retval == 1 ? 1 : o.retval == 0 ? 0 : -EPROTO;
}

void nfci_cbpf_runner_close(struct nfci_cbpf_runner *r)
{
	if (r->prog_fd >= 0)
		close(r->prog_fd);
	if (r->match_fd >= 0)
		close(r->match_fd);
	if (r->nomatch_fd >= 0)
		close(r->nomatch_fd);
	if (r->jmp_fd >= 0)
		close(r->jmp_fd);
	r->prog_fd = r->match_fd = r->nomatch_fd = r->jmp_fd = -1;
}
