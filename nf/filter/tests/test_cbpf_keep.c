// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kept programs (lib/cbpf_keep.c): what an accepted expression compiled
 * to, written beside the state, and given back only when libpcap refuses
 * that same expression (a name it cannot look up any more) for that same
 * hook and snaplen. The file holds the current expression and the one
 * before, survives being cut short, and is not rewritten for nothing.
 *
 * A name that resolved and then does not is made by editing the file: the
 * entries of `udp port 53` renamed to an expression naming a host under
 * .invalid, which never resolves (RFC 6761).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cbpf.h"
#include "test.h"

#define SNAP NFCI_CBPF_SNAPLEN_MAX
#define GONE "host nfc-gone.invalid"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, n + 1);
	if (s && fread(s, 1, n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static void spit(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fwrite(s, 1, n, f);
		fclose(f);
	}
}

/* Every "e H S LEN N\n<from>\n" of the file made "... <to>". */
static void rename_expr(const char *path, const char *from, const char *to)
{
	char *s = slurp(path), *out, *p, *q;

	if (!s)
		return;
	out = calloc(1, strlen(s) * 2 + 256);
	for (p = s, q = out; *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);

		if (!strncmp(p, from, strlen(from)) &&
		    p[strlen(from)] == '\n') {
			q += sprintf(q, "%s\n", to);
		} else if (p[0] == 'e' && p[1] == ' ') {
			/* "e H S LEN N": LEN is the third number */
			char line[128];
			unsigned h, sn, l, n;

			snprintf(line, sizeof(line), "%.*s", (int)len, p);
			if (sscanf(line, "e %u %u %u %u", &h, &sn, &l, &n) ==
				    4 &&
			    l == strlen(from))
				q += sprintf(q, "e %u %u %zu %u\n", h, sn,
					     strlen(to), n);
			else
				q += sprintf(q, "%s", line);
		} else {
			memcpy(q, p, len);
			q += len;
		}
		p += len;
	}
	spit(path, out, q - out);
	free(out);
	free(s);
}

static int same_prog(const struct nfci_cbpf_prog *a,
		     const struct nfci_cbpf_prog *b)
{
	return a->ncbpf == b->ncbpf &&
	       !memcmp(a->cbpf, b->cbpf, a->ncbpf * sizeof(*a->cbpf));
}

static unsigned count(const char *s, const char *needle)
{
	unsigned n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

int main(void)
{
	char dir[] = "/tmp/nfc-keep.XXXXXX", path[256], err[NFCI_CBPF_ERRLEN];
	struct nfci_cbpf_prog want[2], got;
	struct stat st0, st1;
	char *s;
	int r;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/f0.cbpf", dir);
	for (int h = NFCI_CBPF_XDP; h <= NFCI_CBPF_TC; h++)
		CHECK(!nfci_cbpf_compile_hook("udp port 53", SNAP, h, &want[h],
					      err, sizeof(err)),
		      "udp port 53 compiles for %s", h ? "tc" : "xdp");

	CHECK(!nfci_cbpf_keep(path, "udp port 53", SNAP, err, sizeof(err)),
	      "keep udp port 53: %s", err);
	s = slurp(path);
	CHECK(s && !strncmp(s, "nfchain-cbpf 1\n", 15) &&
		      count(s, "\nudp port 53\n") == 2,
	      "the file holds its programs for both hooks");
	free(s);

	stat(path, &st0);
	CHECK(!nfci_cbpf_keep(path, "udp port 53", SNAP, err, sizeof(err)),
	      "keep it again");
	stat(path, &st1);
	CHECK(st0.st_ino == st1.st_ino,
	      "... the file is not rewritten (inode %lu, then %lu)",
	      (unsigned long)st0.st_ino, (unsigned long)st1.st_ino);

	/* The name stops resolving. */
	rename_expr(path, "udp port 53", GONE);
	for (int h = NFCI_CBPF_XDP; h <= NFCI_CBPF_TC; h++) {
		r = nfci_cbpf_compile_kept(GONE, SNAP, h, NULL, &got, err,
					   sizeof(err));
		CHECK(r == -EINVAL && strstr(err, "unknown host"),
		      "%s: without a keep file, libpcap's refusal: %d %s",
		      h ? "tc" : "xdp", r, err);
		r = nfci_cbpf_compile_kept(GONE, SNAP, h, path, &got, err,
					   sizeof(err));
		CHECK(r == 1 && same_prog(&got, &want[h]) && got.src &&
			      !strcmp(got.src, GONE),
		      "%s: with it, the kept program (%d, %u instructions)",
		      h ? "tc" : "xdp", r, got.ncbpf);
		nfci_cbpf_free(&got);
		r = nfci_cbpf_compile_kept(GONE, 1500, h, path, &got, err,
					   sizeof(err));
		CHECK(r == -EINVAL, "%s: another snaplen is not given it (%d)",
		      h ? "tc" : "xdp", r);
	}
	r = nfci_cbpf_compile_kept("host nfc-other.invalid", SNAP,
				   NFCI_CBPF_XDP, path, &got, err, sizeof(err));
	CHECK(r == -EINVAL, "another expression is not given it (%d)", r);
	r = nfci_cbpf_compile_kept("udp port", SNAP, NFCI_CBPF_XDP, path, &got,
				   err, sizeof(err));
	CHECK(r == -EINVAL && strstr(err, "syntax"),
	      "a syntax error stays one: %s", err);
	{
		struct nfci_cbpf_runner rn;
		static const unsigned char dns[42] = {
			[12] = 0x08, [14] = 0x45, [16] = 0, [17] = 28,
			[22] = 64,   [23] = 17,	  [36] = 0, [37] = 53,
		};

		r = nfci_cbpf_runner_open_kept(&rn, GONE, SNAP, NFCI_CBPF_XDP,
					       path, err, sizeof(err));
		CHECK(!r, "a runner of the kept program opens: %s", err);
		if (!r) {
			CHECK(nfci_cbpf_runner_run(&rn, dns, sizeof(dns)) == 1,
			      "... and matches a UDP datagram to port 53");
			nfci_cbpf_runner_close(&rn);
		}
	}

	/* A kept expression whose name resolves again is compiled, and the
	 * file then holds it first and the one before it after. */
	CHECK(!nfci_cbpf_keep(path, "tcp port 80", SNAP, err, sizeof(err)),
	      "keep tcp port 80: %s", err);
	s = slurp(path);
	CHECK(s && count(s, "\ntcp port 80\n") == 2 &&
		      count(s, "\n" GONE "\n") == 2 &&
		      strstr(s, "tcp port 80") < strstr(s, GONE),
	      "... the file holds it, then the one before");
	free(s);
	CHECK(!nfci_cbpf_keep(path, "icmp", SNAP, err, sizeof(err)),
	      "keep icmp: %s", err);
	s = slurp(path);
	CHECK(s && count(s, "\nicmp\n") == 2 &&
		      count(s, "\ntcp port 80\n") == 2 && !strstr(s, GONE),
	      "... two expressions at most: the oldest went");
	free(s);

	/* Cut short (a crash in the middle of a copy made by hand): the
	 * entries whole before the cut still count, the rest is ignored. */
	rename_expr(path, "tcp port 80", GONE);
	s = slurp(path);
	spit(path, s, strstr(s, GONE) - s + strlen(GONE) + 1 + 5);
	free(s);
	r = nfci_cbpf_compile_kept(GONE, SNAP, NFCI_CBPF_XDP, path, &got, err,
				   sizeof(err));
	CHECK(r == -EINVAL, "a cut entry is not given (%d)", r);
	nfci_cbpf_free(&got);
	spit(path, "garbage\n", 8);
	r = nfci_cbpf_compile_kept(GONE, SNAP, NFCI_CBPF_XDP, path, &got, err,
				   sizeof(err));
	CHECK(r == -EINVAL, "a file of another format gives nothing (%d)", r);
	CHECK(!nfci_cbpf_keep(path, "icmp", SNAP, err, sizeof(err)),
	      "... and is replaced by the next keep: %s", err);

	CHECK(nfci_cbpf_keep("/nonexistent-dir/f0.cbpf", "icmp", SNAP, err,
			     sizeof(err)) < 0 &&
		      strstr(err, "/nonexistent-dir/f0.cbpf"),
	      "a keep that cannot write names the file: %s", err);

	for (int h = 0; h < 2; h++)
		nfci_cbpf_free(&want[h]);
	unlink(path);
	rmdir(dir);
	TEST_EXIT();
}
