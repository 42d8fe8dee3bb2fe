// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The expression compiler (lib/cbpf.c) against libpcap, its oracle.
 *
 * Without arguments, unit tests of the translator: classic BPF programs
 * written here, one per instruction class, and random ones (every class,
 * scratch memory, loads at and past the end of the frame, division by a
 * zero X), each run in the kernel (BPF_PROG_TEST_RUN, XDP and TC) over
 * frames of many lengths and compared with libpcap's own interpreter,
 * bpf_filter(); and the errors: libpcap's message for a bad expression,
 * the verifier's reason for a program it refuses.
 *
 * With `--diff FRAMES.pcap EXPRS.txt` (nf/filter/tests/cbpf_diff.sh): for
 * every expression and every frame, the translated program's verdict in
 * XDP (and in TC, every third frame) equals pcap_offline_filter()'s.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "cbpf.h"
#include "test.h"

static const char *hook_name(enum nfci_cbpf_hook h)
{
	return h == NFCI_CBPF_XDP ? "xdp" : "tc";
}

/* ---- unit tests ---------------------------------------------------- */

#define C(code_, jt_, jf_, k_)                                       \
	{                                                            \
		.code = (code_), .jt = (jt_), .jf = (jf_), .k = (k_) \
	}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)rnd_state;
}

/* Runs `prog` on `frames` in both hooks; counts disagreements with
 * bpf_filter. 0, or -1 if it could not be loaded (err set). */
static int run_vs_pcap(const struct nfci_cbpf_insn *prog, unsigned n,
		       unsigned char frames[][200], const unsigned *lens,
		       unsigned nframes, unsigned *bad, char *err,
		       size_t errlen)
{
	struct bpf_insn pins[512];

	for (unsigned i = 0; i < n; i++) {
		pins[i].code = prog[i].code;
		pins[i].jt = prog[i].jt;
		pins[i].jf = prog[i].jf;
		pins[i].k = prog[i].k;
	}
	*bad = 0;
	for (int h = NFCI_CBPF_XDP; h <= NFCI_CBPF_TC; h++) {
		struct nfci_cbpf_prog p = {0};
		struct nfci_cbpf_runner r;

		p.cbpf = malloc(n * sizeof(*p.cbpf));
		if (!p.cbpf)
			return -1;
		memcpy(p.cbpf, prog, n * sizeof(*p.cbpf));
		p.ncbpf = n;
		if (nfci_cbpf_runner_open_prog(&r, &p, h, err, errlen)) {
			nfci_cbpf_free(&p);
			return -1;
		}
		for (unsigned f = 0; f < nframes; f++) {
			int want = bpf_filter(pins, frames[f], lens[f],
					      lens[f]) != 0;
			int got = nfci_cbpf_runner_run(&r, frames[f], lens[f]);

			if (got != want) {
				if (*bad < 3)
					printf("# %s frame %u (%u bytes): "
					       "libpcap %d, ebpf %d\n",
					       hook_name(h), f, lens[f], want,
					       got);
				(*bad)++;
			}
		}
		nfci_cbpf_runner_close(&r);
		nfci_cbpf_free(&p);
	}
	return 0;
}

static unsigned char frames[64][200];
static unsigned lens[64];

static void make_frames(void)
{
	for (unsigned f = 0; f < 64; f++) {
		/* 14..200 bytes; a few bytes kept small so that computed
		 * indexes (X) land inside and outside the frame */
		lens[f] = 14 + f * 3 > 200 ? 200 : 14 + f * 3;
		for (unsigned i = 0; i < 200; i++)
			frames[f][i] = (unsigned char)rnd();
		frames[f][14] = 0x45;
		frames[f][0] = (unsigned char)(f & 0x7);
		frames[f][1] = (unsigned char)(f % 3);
	}
}

struct hand {
	const char *name;
	struct nfci_cbpf_insn p[16];
	unsigned n;
};

static const struct hand hands[] = {
	{"ld/ldh/ldb [k], jeq/jgt/jge/jset k",
	 {C(0x20, 0, 0, 10), C(0x15, 0, 4, 0), C(0x28, 0, 0, 20),
	  C(0x25, 2, 0, 1000), C(0x30, 0, 0, 3), C(0x45, 1, 0, 0x80),
	  C(0x06, 0, 0, 0), C(0x06, 0, 0, 65535)},
	 8},
	{"len, jge, ret a",
	 {C(0x80, 0, 0, 0), C(0x35, 0, 1, 100), C(0x16, 0, 0, 0),
	  C(0x06, 0, 0, 0)},
	 4},
	{"ldxb 4*([14]&0xf), ldh [x+16], jeq",
	 {C(0xb1, 0, 0, 14), C(0x48, 0, 0, 16), C(0x54, 0, 0, 1),
	  C(0x15, 0, 1, 1), C(0x06, 0, 0, 1), C(0x06, 0, 0, 0)},
	 6},
	{"div and mod by x, x zero on half the frames",
	 {C(0x30, 0, 0, 0), C(0x54, 0, 0, 1), C(0x07, 0, 0, 0),
	  C(0x30, 0, 0, 30), C(0x3c, 0, 0, 0), C(0x9c, 0, 0, 0),
	  C(0x04, 0, 0, 1), C(0x16, 0, 0, 0)},
	 8},
	{"scratch memory st/stx/ld/ldx mem, tax/txa, neg, alu x",
	 {C(0x20, 0, 0, 16), C(0x02, 0, 0, 3), C(0x07, 0, 0, 0),
	  C(0x84, 0, 0, 0), C(0x03, 0, 0, 15), C(0x61, 0, 0, 3),
	  C(0x0c, 0, 0, 0), C(0x60, 0, 0, 15), C(0x1c, 0, 0, 0),
	  C(0x87, 0, 0, 0), C(0xac, 0, 0, 0), C(0x54, 0, 0, 0x10000),
	  C(0x16, 0, 0, 0)},
	 13},
	{"ldb [x+k] past the end, ldx len, jgt/jeq/jset x, ja",
	 {C(0x81, 0, 0, 0), C(0x50, 0, 0, 0xfffffff0), C(0x01, 0, 0, 30),
	  C(0x50, 0, 0, 100), C(0x3d, 0, 2, 0), C(0x05, 0, 0, 1),
	  C(0x06, 0, 0, 7), C(0x45, 0, 1, 0), C(0x06, 0, 0, 9),
	  C(0x1d, 0, 1, 0), C(0x06, 0, 0, 0), C(0x06, 0, 0, 1)},
	 12},
	{"ld [k] beyond 64 KiB never matches",
	 {C(0x20, 0, 0, 70000), C(0x06, 0, 0, 1)},
	 2},
	{"lsh/rsh/and/or/xor/mul/sub k and x",
	 {C(0x28, 0, 0, 12), C(0x64, 0, 0, 3), C(0x74, 0, 0, 1),
	  C(0x54, 0, 0, 0x7ff), C(0x44, 0, 0, 0x3), C(0xa4, 0, 0, 0x55),
	  C(0x24, 0, 0, 7), C(0x14, 0, 0, 5), C(0x01, 0, 0, 4),
	  C(0x6c, 0, 0, 0), C(0x7c, 0, 0, 0), C(0x2c, 0, 0, 0),
	  C(0x45, 0, 1, 0x10), C(0x06, 0, 0, 1), C(0x06, 0, 0, 0)},
	 15},
};

/* A random valid program: scratch memory written first (libpcap's
 * interpreter leaves it uninitialized), then `body` random instructions
 * of every class with forward jumps only, then returns. */
static unsigned random_prog(struct nfci_cbpf_insn *p, unsigned body)
{
	static const uint16_t alu[] = {0x04, 0x14, 0x24, 0x34, 0x44, 0x54,
				       0x64, 0x74, 0x84, 0x94, 0xa4};
	static const uint16_t jmp[] = {0x15, 0x25, 0x35, 0x45};
	unsigned n = 0, end;

	for (unsigned m = 0; m < 16; m++) {
		p[n++] = (struct nfci_cbpf_insn)C(0x00, 0, 0, rnd() % 300);
		p[n++] = (struct nfci_cbpf_insn)C(0x02, 0, 0, m);
	}
	end = n + body;
	while (n < end) {
		unsigned left = end - n; /* instructions before the rets */
		uint32_t k = rnd() % 4 == 0 ? rnd() : rnd() % 220;
		uint16_t code;

		switch (rnd() % 12) {
		case 0: /* ld abs */
			code = (uint16_t[]){0x20, 0x28, 0x30}[rnd() % 3];
			p[n++] = (struct nfci_cbpf_insn)C(code, 0, 0, k);
			break;
		case 1: /* ld ind: x is whatever it is */
			code = (uint16_t[]){0x40, 0x48, 0x50}[rnd() % 3];
			p[n++] = (struct nfci_cbpf_insn)C(code, 0, 0,
							  rnd() % 64);
			break;
		case 2: /* ldx imm, len, mem, msh */
			code = (uint16_t[]){0x01, 0x81, 0x61, 0xb1}[rnd() % 4];
			p[n++] = (struct nfci_cbpf_insn)C(
				code, 0, 0,
				code == 0x61   ? rnd() % 16
				: code == 0x01 ? rnd() % 40
				: code == 0xb1 ? rnd() % 60
					       : 0);
			break;
		case 3: /* ld imm, len, mem */
			code = (uint16_t[]){0x00, 0x80, 0x60}[rnd() % 3];
			p[n++] = (struct nfci_cbpf_insn)C(
				code, 0, 0, code == 0x60 ? rnd() % 16 : k);
			break;
		case 4: /* st, stx */
			p[n++] = (struct nfci_cbpf_insn)C(
				rnd() % 2 ? 0x02 : 0x03, 0, 0, rnd() % 16);
			break;
		case 5:
		case 6: { /* alu k or x; shifts by k < 32 (libpcap refuses
			   * more), by any x */
			uint16_t op = alu[rnd() % 11];
			int x = rnd() % 2;

			if (op == 0x84) {
				p[n++] =
					(struct nfci_cbpf_insn)C(0x84, 0, 0, 0);
				break;
			}
			if (!x && (op == 0x64 || op == 0x74))
				k %= 32;
			if (!x && (op == 0x34 || op == 0x94) && !k)
				k = 3;
			p[n++] = (struct nfci_cbpf_insn)C(op | (x ? 0x08 : 0),
							  0, 0, k);
			break;
		}
		case 7: /* tax, txa */
			p[n++] = (struct nfci_cbpf_insn)C(
				rnd() % 2 ? 0x07 : 0x87, 0, 0, 0);
			break;
		case 8:
		case 9:
		case 10: { /* jumps, forward, within the body or to a ret */
			uint16_t op = jmp[rnd() % 4] | (rnd() % 2 ? 0x08 : 0);
			unsigned span = left + 1;

			p[n++] = (struct nfci_cbpf_insn)C(
				op,
				(uint8_t)(rnd() % (span < 255 ? span : 255)),
				(uint8_t)(rnd() % (span < 255 ? span : 255)),
				rnd() % 3 ? rnd() % 256 : rnd());
			break;
		}
		case 11:
			p[n++] = (struct nfci_cbpf_insn)C(0x05, 0, 0,
							  rnd() % (left + 1));
			break;
		}
	}
	/* Jumps may land up to one past the body: the rets are there. */
	p[n++] = (struct nfci_cbpf_insn)C(0x16, 0, 0, 0); /* ret a */
	p[n++] = (struct nfci_cbpf_insn)C(0x06, 0, 0, 1);
	return n;
}

/* A jump that the shifts' prefix moved past the end is pulled back. */
static void fix_jumps(struct nfci_cbpf_insn *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if ((p[i].code & 0x07) != 0x05)
			continue;
		if (p[i].code == 0x05) {
			if (i + 1 + p[i].k >= n)
				p[i].k = n - i - 2;
			continue;
		}
		if (i + 1 + p[i].jt >= n)
			p[i].jt = (uint8_t)(n - i - 2);
		if (i + 1 + p[i].jf >= n)
			p[i].jf = (uint8_t)(n - i - 2);
	}
}

static int unit_tests(void)
{
	char err[NFCI_CBPF_ERRLEN];
	struct nfci_cbpf_insn p[512];
	unsigned bad, total = 0, progs = 0, refused = 0;
	struct nfci_cbpf_prog cp;

	make_frames();
	for (unsigned i = 0; i < sizeof(hands) / sizeof(hands[0]); i++) {
		int r = run_vs_pcap(hands[i].p, hands[i].n, frames, lens, 64,
				    &bad, err, sizeof(err));

		if (r)
			printf("# %s\n", err);
		CHECK(!r && !bad,
		      "%s: same verdict as libpcap on 64 frames, "
		      "XDP and TC",
		      hands[i].name);
	}
	for (unsigned t = 0; t < 300; t++) {
		unsigned n = random_prog(p, 8 + rnd() % 40);

		fix_jumps(p, n);
		if (run_vs_pcap(p, n, frames, lens, 64, &bad, err,
				sizeof(err))) {
			printf("# random program %u refused: %s\n", t, err);
			for (unsigned i = 0; i < n && refused < 1; i++)
				printf("#   %3u: code 0x%02x jt %u jf %u k "
				       "%u\n",
				       i, p[i].code, p[i].jt, p[i].jf, p[i].k);
			refused++;
			continue;
		}
		progs++;
		if (bad) {
			printf("# random program %u (%u insns) differs on %u "
			       "runs\n",
			       t, n, bad);
			for (unsigned i = 0; i < n; i++)
				printf("#   %3u: code 0x%02x jt %u jf %u k "
				       "%u\n",
				       i, p[i].code, p[i].jt, p[i].jf, p[i].k);
		}
		total += bad;
	}
	CHECK(!refused,
	      "300 random classic BPF programs: the verifier "
	      "takes every translation (%u refused)",
	      refused);
	CHECK(!total && progs > 0,
	      "%u random programs x 64 frames x 2 hooks: same verdicts as "
	      "libpcap's bpf_filter (%u differ)",
	      progs, total);

	/* Guards coalesced: "tcp port 80" reads 9 constant offsets */
	CHECK(!nfci_cbpf_compile("ip and udp and ip[8] > 1 and ip[9] = 17 and "
				 "ether[0] = 2",
				 262144, &cp, err, sizeof(err)),
	      "compile a 5-load expression");
	if (!nfci_cbpf_translate(&cp, NFCI_CBPF_XDP, 0, err, sizeof(err))) {
		/* guard: jgt r1, r8 (0x2d, dst 1, src 8) */
		const struct {
			uint8_t code, regs;
			int16_t off;
			int32_t imm;
		} *e = cp.insns;
		unsigned guards = 0, loads = 0;

		for (unsigned i = 0; i < cp.ninsns; i++)
			guards += e[i].code == 0x2d && e[i].regs == 0x81;
		for (unsigned i = 0; i < cp.ncbpf; i++)
			loads += (cp.cbpf[i].code & 0xe7) == 0x20;
		CHECK(guards < loads,
		      "bounds checks coalesced: %u guards for %u loads", guards,
		      loads);
	}
	nfci_cbpf_free(&cp);

	CHECK(nfci_cbpf_compile("tcp port", 262144, &cp, err, sizeof(err)) ==
			      -EINVAL &&
		      strstr(err, "syntax error"),
	      "a syntax error gives libpcap's message (%s)", err);
	{
		struct nfci_cbpf_prog pc;
		int r = nfci_cbpf_compile("ip6 protochain 6", 262144, &pc, err,
					  sizeof(err));

		if (!r)
			r = nfci_cbpf_translate(&pc, NFCI_CBPF_XDP, 0, err,
						sizeof(err));
		CHECK(r == -EOPNOTSUPP && strstr(err, "protochain"),
		      "protochain (a loop) is refused, saying why (%s)", err);
		nfci_cbpf_free(&pc);
	}
	CHECK(nfci_cbpf_compile("tcp", 0, &cp, err, sizeof(err)) == -EINVAL &&
		      strstr(err, "snaplen"),
	      "snaplen 0 is refused (%s)", err);
	CHECK(!nfci_cbpf_compile("tcp", 262144, &cp, err, sizeof(err)) &&
		      !nfci_cbpf_translate(&cp, NFCI_CBPF_XDP, 0, err,
					   sizeof(err)),
	      "translate tcp");
	/* a translation cut short: the verifier says why */
	cp.ninsns = 3;
	{
		int fd = nfci_cbpf_load(&cp, err, sizeof(err));

		CHECK(fd < 0 && strstr(err, "verifier"),
		      "a program the verifier refuses gives its reason (%s)",
		      err);
	}
	nfci_cbpf_free(&cp);
	{
		struct nfci_cbpf_insn jout[] = {C(0x15, 5, 0, 1),
						C(0x06, 0, 0, 1)};

		cp = (struct nfci_cbpf_prog){.cbpf = jout, .ncbpf = 2};
		CHECK(nfci_cbpf_translate(&cp, NFCI_CBPF_XDP, 0, err,
					  sizeof(err)) == -EINVAL,
		      "a jump out of the program is refused (%s)", err);
	}
	TEST_EXIT();
}

/* ---- the differential test over a pcap ------------------------------ */

struct frame {
	struct pcap_pkthdr h;
	unsigned char *data;
};

static int diff(const char *pcapf, const char *exprf)
{
	char perr[PCAP_ERRBUF_SIZE], err[NFCI_CBPF_ERRLEN], line[1024];
	struct frame *fr = NULL;
	size_t nfr = 0, cap = 0, short_frames = 0;
	struct pcap_pkthdr *h;
	const unsigned char *d;
	unsigned nexpr = 0;
	pcap_t *p, *dead;
	FILE *ef;

	p = pcap_open_offline(pcapf, perr);
	if (!p) {
		printf("not ok - read %s: %s\n", pcapf, perr);
		return 1;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (nfr == cap) {
			cap = cap ? cap * 2 : 4096;
			fr = realloc(fr, cap * sizeof(*fr));
			if (!fr)
				return 1;
		}
		fr[nfr].h = *h;
		fr[nfr].data = malloc(h->caplen ? h->caplen : 1);
		memcpy(fr[nfr].data, d, h->caplen);
		nfr++;
	}
	pcap_close(p);
	ef = fopen(exprf, "r");
	if (!ef) {
		printf("not ok - read %s: %s\n", exprf, strerror(errno));
		return 1;
	}
	dead = pcap_open_dead(DLT_EN10MB, NFCI_CBPF_SNAPLEN_MAX);
	while (fgets(line, sizeof(line), ef)) {
		struct bpf_program bp;
		unsigned long match = 0, bad[2] = {0, 0}, tc_unrun = 0;
		struct nfci_cbpf_runner r[2];
		int open_ok = 1;

		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		nexpr++;
		if (pcap_compile(dead, &bp, line, 1, 0)) {
			printf("not ok - '%s': libpcap refused it: %s\n", line,
			       pcap_geterr(dead));
			continue;
		}
		for (int hk = 0; hk < 2; hk++)
			if (nfci_cbpf_runner_open(&r[hk], line,
						  NFCI_CBPF_SNAPLEN_MAX, hk,
						  err, sizeof(err))) {
				printf("not ok - '%s' (%s): %s\n", line,
				       hook_name(hk), err);
				open_ok = 0;
				if (hk)
					nfci_cbpf_runner_close(&r[0]);
				break;
			}
		if (!open_ok) {
			pcap_freecode(&bp);
			continue;
		}
		short_frames = 0;
		for (size_t f = 0; f < nfr; f++) {
			int want = pcap_offline_filter(&bp, &fr[f].h,
						       fr[f].data) != 0;

			/* the test run takes no frame under an Ethernet
			 * header; neither does any port */
			if (fr[f].h.caplen < 14) {
				short_frames++;
				continue;
			}
			match += want;
			for (int hk = 0; hk < 2; hk++) {
				int got = nfci_cbpf_runner_run(
					&r[hk], fr[f].data, fr[f].h.caplen);

				/* TC on every third frame: the same
				 * translation but for `len` and the pulls,
				 * and the runs are what takes the time */
				if (hk == NFCI_CBPF_TC && f % 3)
					continue;
				/* the skb test run refuses a frame whose IP
				 * header is cut short (XDP's takes it) */
				if (hk == NFCI_CBPF_TC && got == -EINVAL) {
					tc_unrun++;
					continue;
				}
				if (got != want) {
					if (bad[hk] < 3)
						printf("# '%s' %s frame %zu "
						       "(%u "
						       "bytes): libpcap %d, "
						       "ebpf %d\n",
						       line, hook_name(hk), f,
						       fr[f].h.caplen, want,
						       got);
					bad[hk]++;
				}
			}
		}
		CHECK(!bad[0] && !bad[1] && tc_unrun < nfr / 30,
		      "'%s': %zu frames, %lu match, XDP and TC agree with "
		      "libpcap (%lu, %lu differ; %lu not run in TC)",
		      line, nfr - short_frames, match, bad[0], bad[1],
		      tc_unrun);
		nfci_cbpf_runner_close(&r[0]);
		nfci_cbpf_runner_close(&r[1]);
		pcap_freecode(&bp);
	}
	fclose(ef);
	pcap_close(dead);
	printf("# %u expressions x %zu frames\n", nexpr, nfr);
	for (size_t f = 0; f < nfr; f++)
		free(fr[f].data);
	free(fr);
	TEST_EXIT();
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--diff"))
		return diff(argv[2], argv[3]);
	if (argc != 1) {
		fprintf(stderr,
			"usage: test_cbpf [--diff FRAMES.pcap EXPRS.txt]\n");
		return 2;
	}
	return unit_tests();
}
