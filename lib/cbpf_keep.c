// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Compiled expressions kept for a restore (see "Kept programs" in
 * cbpf.h): a small text file per NF, rewritten whole (temporary file,
 * fsync, rename) when the expression it holds first changes:
 *
 *   nfchain-cbpf 1
 *   e <hook 0 xdp|1 tc> <snaplen> <bytes of the expression> <instructions>
 *   <the expression, on one line>
 *   <code> <jt> <jf> <k>            one line per instruction
 *   e ...                           the expression held before, if any
 *
 * Text, not the structs' bytes: a file written by one build is read by
 * the next, whatever its struct layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfchain/nf.h"
#include "cbpf.h"

#define KEEP_MAGIC "nfchain-cbpf 1\n"
/* The expression written last and the one before it (a refused change
 * may have written its own before the old one was configured again). */
#define KEEP_EXPRS 2
#define KEEP_MAX (64u << 20)

struct kept {
	char *expr;
	unsigned snaplen;
	enum nfci_cbpf_hook hook;
	struct nfci_cbpf_insn *cbpf;
	unsigned ncbpf;
};

struct kept_set {
	struct kept e[2 * KEEP_EXPRS];
	unsigned n;
};

static void set_free(struct kept_set *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		free(s->e[i].expr);
		free(s->e[i].cbpf);
	}
	s->n = 0;
}

/* The entries of the file; a missing or unreadable file, or one cut
 * short, gives those read before: a kept program is a fallback only. */
static void set_read(const char *path, struct kept_set *s)
{
	FILE *f = fopen(path, "re");
	char line[96];

	s->n = 0;
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f) || strcmp(line, KEEP_MAGIC))
		goto out;
	while (s->n < 2 * KEEP_EXPRS && fgets(line, sizeof(line), f)) {
		struct kept k = {0};
		unsigned hook, len, i;

		if (sscanf(line, "e %u %u %u %u", &hook, &k.snaplen, &len,
			   &k.ncbpf) != 4 ||
		    hook > NFCI_CBPF_TC || len > KEEP_MAX ||
		    k.ncbpf > KEEP_MAX / sizeof(*k.cbpf))
			break;
		k.hook = hook;
		k.expr = malloc(len + 2);
		k.cbpf = calloc(k.ncbpf ? k.ncbpf : 1, sizeof(*k.cbpf));
		if (!k.expr || !k.cbpf ||
		    fread(k.expr, 1, len + 1, f) != len + 1 ||
		    k.expr[len] != '\n')
			goto bad;
		k.expr[len] = 0;
		for (i = 0; i < k.ncbpf; i++) {
			unsigned code, jt, jf, kk;

			if (!fgets(line, sizeof(line), f) ||
			    sscanf(line, "%u %u %u %u", &code, &jt, &jf, &kk) !=
				    4 ||
			    code > 0xffff || jt > 0xff || jf > 0xff)
				goto bad;
			k.cbpf[i] = (struct nfci_cbpf_insn){code, jt, jf, kk};
		}
		s->e[s->n++] = k;
		continue;
	bad:
		free(k.expr);
		free(k.cbpf);
		break;
	}
out:
	fclose(f);
}

static struct kept *set_find(struct kept_set *s, const char *expr,
			     unsigned snaplen, enum nfci_cbpf_hook hook)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->e[i].hook == hook && s->e[i].snaplen == snaplen &&
		    !strcmp(s->e[i].expr, expr))
			return &s->e[i];
	return NULL;
}

int nfci_cbpf_compile_kept(const char *expr, unsigned snaplen,
			   enum nfci_cbpf_hook hook, const char *keep,
			   struct nfci_cbpf_prog *out, char *err, size_t errlen)
{
	int r = nfci_cbpf_compile_hook(expr, snaplen, hook, out, err, errlen);
	struct kept_set s;
	struct kept *k;

	/* -EINVAL: libpcap refused the expression (a name it could not
	 * look up); anything else would refuse a kept program too. */
	if (r != -EINVAL || !keep)
		return r;
	set_read(keep, &s);
	k = set_find(&s, expr, snaplen, hook);
	if (k) {
		memset(out, 0, sizeof(*out));
		out->cbpf = k->cbpf;
		out->ncbpf = k->ncbpf;
		out->hook = hook;
		out->src = expr;
		k->cbpf = NULL; /* out owns it now */
		fprintf(stderr,
			"nfchain: %s; the program it compiled to when it "
			"was accepted is used (kept in %s)\n",
			err, keep);
		r = 1;
	}
	set_free(&s);
	return r;
}

static int put(FILE *f, const struct kept *k)
{
	if (fprintf(f, "e %u %u %zu %u\n%s\n", (unsigned)k->hook, k->snaplen,
		    strlen(k->expr), k->ncbpf, k->expr) < 0)
		return -1;
	for (unsigned i = 0; i < k->ncbpf; i++)
		if (fprintf(f, "%u %u %u %u\n", k->cbpf[i].code, k->cbpf[i].jt,
			    k->cbpf[i].jf, k->cbpf[i].k) < 0)
			return -1;
	return 0;
}

/* The set written to `path` whole: a temporary file, fsync'd, renamed. */
static int set_write(const char *path, const struct kept_set *s, char *err,
		     size_t errlen)
{
	char tmp[4200];
	FILE *f;
	int e = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		e = errno;
		goto fail;
	}
	if (fputs(KEEP_MAGIC, f) < 0)
		e = errno ? errno : EIO;
	for (unsigned i = 0; !e && i < s->n; i++)
		if (put(f, &s->e[i]))
			e = errno ? errno : EIO;
	if (!e && (fflush(f) || fsync(fileno(f))))
		e = errno;
	if (fclose(f) && !e)
		e = errno;
	if (!e && rename(tmp, path))
		e = errno;
	if (!e && nfc_fsync_dir_of(path))
		e = errno;
	if (!e)
		return 0;
	unlink(tmp);
fail:
	snprintf(err, errlen, "keep the compiled expression in %s: %s", path,
		 strerror(e));
	return -e;
}

int nfci_cbpf_keep(const char *keep, const char *expr, unsigned snaplen,
		   char *err, size_t errlen)
{
	struct kept_set old, s = {.n = 0};
	int r = 0;

	set_read(keep, &old);
	/* Nothing to write when the file already starts with it: a
	 * configure() of the same expression after a reload or a restore. */
	if (old.n >= 2 && !strcmp(old.e[0].expr, expr) &&
	    !strcmp(old.e[1].expr, expr) && old.e[0].snaplen == snaplen &&
	    old.e[1].snaplen == snaplen && old.e[0].hook != old.e[1].hook) {
		set_free(&old);
		return 0;
	}
	for (int h = NFCI_CBPF_XDP; h <= NFCI_CBPF_TC; h++) {
		struct nfci_cbpf_prog p;

		r = nfci_cbpf_compile_kept(expr, snaplen, h, keep, &p, err,
					   errlen);
		if (r < 0)
			goto out;
		s.e[s.n++] = (struct kept){strdup(expr), snaplen, h, p.cbpf,
					   p.ncbpf};
		p.cbpf = NULL;
		nfci_cbpf_free(&p);
		if (!s.e[s.n - 1].expr) {
			r = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	/* Then the entries of the one other expression held before. */
	for (unsigned i = 0; i < old.n && s.n < 2 * KEEP_EXPRS; i++)
		if (strcmp(old.e[i].expr, expr) &&
		    (s.n == 2 || !strcmp(old.e[i].expr, s.e[2].expr))) {
			s.e[s.n++] = old.e[i];
			old.e[i] = (struct kept){0};
		}
	r = set_write(keep, &s, err, errlen);
out:
	set_free(&old);
	set_free(&s);
	return r < 0 ? r : 0;
}

int nfci_cbpf_build_kept(const char *expr, unsigned snaplen,
			 enum nfci_cbpf_hook hook, int jmp_fd, const char *keep,
			 char *err, size_t errlen)
{
	struct nfci_cbpf_prog p;
	int r = nfci_cbpf_compile_kept(expr, snaplen, hook, keep, &p, err,
				       errlen);

	return r < 0 ? r : nfci_cbpf_build_prog(&p, hook, jmp_fd, err, errlen);
}

int nfci_cbpf_runner_open_kept(struct nfci_cbpf_runner *r, const char *expr,
			       unsigned snaplen, enum nfci_cbpf_hook hook,
			       const char *keep, char *err, size_t errlen)
{
	struct nfci_cbpf_prog p;
	int e = nfci_cbpf_compile_kept(expr, snaplen, hook, keep, &p, err,
				       errlen);

	if (e < 0)
		return e;
	e = nfci_cbpf_runner_open_prog(r, &p, hook, err, errlen);
	nfci_cbpf_free(&p);
	return e;
}

const char *nfci_cbpf_keep_path(const struct nfc_nf *nf, const char *type,
				const char *name, char *buf, size_t len)
{
	/* Without a state directory there is no restore to keep it for
	 * (nfctl, the tests' own runtimes). */
	if (!getenv("NFC_STATE_DIR") || !*getenv("NFC_STATE_DIR"))
		return NULL;
	nfc_nf_keep_path(nf, NULL, type, name, "cbpf", buf, len);
	return buf;
}

void nfci_cbpf_keep_remove(const struct nfc_nf *nf, const char *type,
			   const char *name)
{
	char path[4096], tmp[4200];

	if (!nfci_cbpf_keep_path(nf, type, name, path, sizeof(path)))
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(path);
	unlink(tmp);
	nfc_fsync_dir_of(path);
}

int nfci_cbpf_nf_check(const struct nfc_nf *nf, const char *type,
		       const char *field, const char *expr, unsigned snaplen,
		       char *err, size_t errlen)
{
	const char *cur =
		json_string_value(json_object_get(nfc_nf_config(nf), field));
	char kp[4096];
	/* A restore, or the expression the NF runs now, kept as it is (an
	 * apply of the export, a set of another field): a name gone since
	 * it was accepted froze every apply and every set of the NF until
	 * the user rewrote the expression (found by a helper). */
	const char *keep =
		nfc_nf_applying(nf) || (cur && !strcmp(cur, expr))
			? nfci_cbpf_keep_path(nf, type, nfc_nf_name(nf), kp,
					      sizeof(kp))
			: NULL;

	for (int h = NFCI_CBPF_XDP; h <= NFCI_CBPF_TC; h++) {
		struct nfci_cbpf_runner r;
		int e = nfci_cbpf_runner_open_kept(&r, expr, snaplen, h, keep,
						   err, errlen);

		if (e)
			return e;
		nfci_cbpf_runner_close(&r);
	}
	return 0;
}

int nfci_cbpf_nf_build(const struct nfc_nf *nf, const char *type,
		       const char *expr, unsigned snaplen,
		       enum nfci_cbpf_hook hook, int jmp_fd, char *err,
		       size_t errlen)
{
	char kp[4096];

	return nfci_cbpf_build_kept(
		expr, snaplen, hook, jmp_fd,
		nfci_cbpf_keep_path(nf, type, nfc_nf_name(nf), kp, sizeof(kp)),
		err, errlen);
}

void nfci_cbpf_nf_keep(const struct nfc_nf *nf, const char *type,
		       const char *expr, unsigned snaplen)
{
	char kp[4096], err[NFCI_CBPF_ERRLEN];
	const char *keep =
		nfci_cbpf_keep_path(nf, type, nfc_nf_name(nf), kp, sizeof(kp));

	if (keep && nfci_cbpf_keep(keep, expr, snaplen, err, sizeof(err)))
		fprintf(stderr, "nfchain: %s %s: %s\n", type, nfc_nf_name(nf),
			err);
}
