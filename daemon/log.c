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
	     *p && o < cap - 6; p++) {
		if (*p == '"' || *p == '\\') {
			b[o++] = '\\';
			b[o++] = *p;
		} else if (*p < ' ' || *p == 0x7f) {
			o += snprintf(b + o, cap - o, "\\x%02x", *p);
		} else {
			b[o++] = *p;
		}
	}
	b[o++] = '"';
	b[o] = 0;
	return b;
}
