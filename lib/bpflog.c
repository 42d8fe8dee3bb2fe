// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libbpf's messages, captured: libbpf prints the verifier's reason for a
 * refused program, and an error that only says "load failed" is useless.
 * The last lines are kept so that load.c and stubs.c can put the reason
 * into the error they return (NFC_DEBUG=1 also prints everything).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "dataplane.h"

/* Per thread: an NF's two programs may load at once (load_split.c). */
static __thread char bpf_log[4096];
static __thread size_t bpf_log_len;

static int log_cb(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	const size_t cap = sizeof(bpf_log) - 1;
	char *s = NULL;
	int n;

	if (getenv("NFC_DEBUG")) {
		va_list cp;

		va_copy(cp, ap);
		vfprintf(stderr, fmt, cp);
		va_end(cp);
	}
	if (lvl == LIBBPF_DEBUG)
		return 0;
	/* Whole, then its end kept: libbpf hands the verifier's log over in
	 * one call, often longer than the buffer, and its last lines say why
	 * (an object of one's own, docs/sdk.md). */
	n = vasprintf(&s, fmt, ap);
	if (n <= 0)
		return 0;
	if ((size_t)n >= cap) {
		memcpy(bpf_log, s + n - cap, cap);
		bpf_log_len = cap;
	} else {
		if (bpf_log_len + n > cap) {
			size_t drop = bpf_log_len + n - cap;

			memmove(bpf_log, bpf_log + drop, bpf_log_len - drop);
			bpf_log_len -= drop;
		}
		memcpy(bpf_log + bpf_log_len, s, n);
		bpf_log_len += n;
	}
	bpf_log[bpf_log_len] = 0;
	free(s);
	return 0;
}

/* The verifier's reason: the last lines before its "processed N insns"
 * summary. */
const char *bpflog_tail(void)
{
	char *end = strstr(bpf_log, "\nprocessed ");
	char *p;
	int lines = 0;

	static const char begin[] = "-- BEGIN PROG LOAD LOG --";

	if (!end)
		end = bpf_log + bpf_log_len;
	*end = 0;
	/* The verifier passed it (its log holds only the summary) and the
	 * load still failed: a check after the verifier's, most often a map
	 * kept from before that does not fit this program. Said so, rather
	 * than libbpf's header with nothing after it. */
	if (end - bpf_log >= (long)sizeof(begin) - 1 &&
	    !strcmp(end - (sizeof(begin) - 1), begin))
		return "the verifier accepted it, and the kernel refused it "
		       "after that: a map it keeps does not fit it (a program "
		       "array holds programs of the other hook, or a map's "
		       "type or size changed); delete the NF and add it "
		       "again, or run it in its old mode";
	for (p = end; p > bpf_log && lines < 2; p--)
		if (p[-1] == '\n' && p != end)
			lines++;
	while (*p == '\n')
		p++;
	for (char *q = p; *q; q++)
		if (*q == '\n')
			*q = ' ';
	return p;
}

void bpflog_reset(void)
{
	bpf_log_len = 0;
	bpf_log[0] = 0;
}

void bpflog_install(void)
{
	libbpf_set_print(log_cb);
}

const char *bpflog_last(void)
{
	static __thread char line[256];
	size_t end = bpf_log_len, start;

	while (end && (bpf_log[end - 1] == '\n' || bpf_log[end - 1] == ' '))
		end--;
	start = end;
	while (start && bpf_log[start - 1] != '\n')
		start--;
	if (!strncmp(bpf_log + start, "libbpf: ", 8) && end - start >= 8)
		start += 8;
	snprintf(line, sizeof(line), "%.*s", (int)(end - start),
		 bpf_log + start);
	return line;
}
