// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int nfci_err(struct nfc *nfc, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nfc->err, sizeof(nfc->err), fmt, ap);
	va_end(ap);
	return err > 0 ? -err : (err ? err : -EINVAL);
}

const char *nfc_errmsg(const struct nfc *nfc)
{
	return nfc->err;
}

const char *nfc_pin_root(const struct nfc *nfc)
{
	return nfc->root;
}

_Static_assert(NFC_NAME_LEN == NFC_NAME_MAX - 1,
	       "the public name rule must fit the maps' name fields");

/* The name rule of include/nfchain/nfchain.h, with the library's messages.
 * `what` is "NF" or "port": the reserved words differ. */
int nfci_check_name(struct nfc *nfc, const char *what, const char *name)
{
	size_t at = 0;

	switch (nfc_name_check(name, &at)) {
	case NFC_NAME_OK:
		break;
	case NFC_NAME_EMPTY:
		return nfci_err(nfc, EINVAL, "%s: name is empty", what);
	case NFC_NAME_TOO_LONG:
		return nfci_err(nfc, EINVAL,
				"%s '%s': name longer than %d characters", what,
				name, NFC_NAME_LEN);
	case NFC_NAME_BAD_CHAR:
		return nfci_err(nfc, EINVAL,
				"%s '%s': character '%c' not allowed "
				"(use letters, digits, '_' and '-')",
				what, name, name[at]);
	case NFC_NAME_LEADING_DASH:
		return nfci_err(nfc, EINVAL, "%s '%s': name starts with '-'",
				what, name);
	}
	if (nfc_name_reserved(name, !strcmp(what, "port")))
		return nfci_err(nfc, EINVAL,
				"%s '%s': name is a word of the nfchain CLI "
				"grammar; choose another name",
				what, name);
	return 0;
}

/* FNV-1a: only to tell whether an embedded object changed. */
uint64_t nfci_hash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *c = p;

	if (!h)
		h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 1099511628211ULL;
	}
	return h;
}

int nfci_mkdirs(const char *path)
{
	char buf[512];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) && errno != ENOENT ? -1 : 0;
	return unlink(path) && errno != ENOENT ? -1 : 0;
}

int nfci_rmtree(const char *path)
{
	if (access(path, F_OK))
		return 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

/* Tests stretch a step with it, so that a kill -9 aimed at a random
 * point lands inside the step (crash_import.sh, routes_fold.sh): an
 * environment variable `env` in microseconds, up to a second; unset, 0
 * or out of range, no wait. Read at every call, which costs a getenv. */
void nfci_test_delay(const char *env)
{
	const char *e = getenv(env);
	long us = e ? strtol(e, NULL, 10) : 0;

	if (us > 0 && us <= 1000000)
		usleep((useconds_t)us);
}

const char *nfci_hook_name(int hook)
{
	return hook == HOOK_TC ? "tc" : "xdp";
}

const char *nfc_reason_name(unsigned reason)
{
	switch (reason) {
#define NFC_REASON_CASE(n, id, text) \
	case n:                      \
		return text;
		NFC_REASONS(NFC_REASON_CASE)
#undef NFC_REASON_CASE
	}
	return reason >= NFC_REASON_NF_BASE ? "NF-specific reason" : "unknown";
}

int nfc_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2],
			 &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = v[i];
	return 0;
}

/* "a.b.c.d/len" (or a bare address, len 32). Host bits set is an error
 * unless allow_host_bits (an interface address inside its subnet). */
int nfc_parse_prefix(const char *s, uint32_t *addr, unsigned *len,
		     int allow_host_bits)
{
	unsigned a, b, c, d, l = 32;
	char tail;
	int n;

	if (!s)
		return -EINVAL;
	n = sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &l, &tail);
	if (n != 5 && !(n == 4 && !strchr(s, '/')))
		return -EINVAL;
	if (a > 255 || b > 255 || c > 255 || d > 255)
		return -EINVAL;
	if (l > 32)
		return -ERANGE;
	*addr = a << 24 | b << 16 | c << 8 | d;
	*len = l;
	if (!allow_host_bits && l < 32 && (*addr & ~(l ? ~0u << (32 - l) : 0)))
		return -EEXIST; /* caller says "host bits set" */
	return 0;
}
