// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

void nfd_log(const char *level, const char *event, const char *fmt, ...)
{
	char ts[32], line[4096];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s event=%s", ts,
		     (long)tv.tv_usec / 1000, level, event);
	if (fmt && *fmt && n < (int)sizeof(line) - 1) {
		line[n++] = ' ';
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
	}
	/* One fputs of the whole line: lines from this process never
	 * interleave mid-way, whatever stderr's buffering. */
	fprintf(stderr, "%s\n", line);
}

unsigned nfd_u8len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned n, cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, above U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

char *nfd_utf8(const char *s, char *out, size_t n)
{
	size_t o = 0;

	while (*s) {
		unsigned k = nfd_u8len(s);
		const char *c = k ? s : "\xef\xbf\xbd"; /* U+FFFD */
		unsigned w = k ? k : 3;

		if (o + w >= n)
			break;
		memcpy(out + o, c, w);
		o += w;
		s += k ? k : 1;
	}
	out[o] = 0;
	return out;
}

const char *nfd_q(const char *s)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t o = 0, cap = sizeof(bufs[0]);
	int bare;

	if (!s)
		s = "";
	bare = *s != 0;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p >= 0x7f)
			bare = 0;
	if (bare) {
		snprintf(b, cap, "%s", s);
		return b;
	}
	b[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s;
	     *p && o < cap - 6;) {
		unsigned k = *p >= 0x80 ? nfd_u8len((const char *)p) : 1;

		if (*p == '"' || *p == '\\') {
			b[o++] = '\\';
			b[o++] = *p++;
		} else if (*p < ' ' || *p == 0x7f || !k) {
			/* A byte that is no character: escaped, so that
			 * the line stays UTF-8 and the byte is still seen. */
			o += snprintf(b + o, cap - o, "\\x%02x", *p++);
		} else if (o + k < cap - 6) {
			memcpy(b + o, p, k);
			o += k;
			p += k;
		} else {
			break; /* never half a character */
		}
	}
	b[o++] = '"';
	b[o] = 0;
	return b;
}
