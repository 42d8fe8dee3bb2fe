/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nfchaind's log: one line per event on stderr, logfmt style
 *   ts=2026-11-26T12:00:00.123Z level=info event=request method=GET ...
 * so that journald, grep and log shippers can all split it without a
 * parser of their own.
 */
#ifndef NFD_LOG_H
#define NFD_LOG_H

/* `fmt` renders the event's own key=value fields. */
void nfd_log(const char *level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A value for a key=value field: bare when it is one safe word, otherwise
 * double-quoted with \" \\, control characters and bytes that are not
 * UTF-8 escaped (\xff); cut, if too long, at a character boundary. The result
 * lives in one of a few rotating static buffers: use it within one nfd_log().
 */
const char *nfd_q(const char *s);

/* The length of the valid UTF-8 character at p (1 to 4), 0 if the bytes
 * there are not one (a stray, overlong or cut sequence). */
unsigned nfd_u8len(const char *p);

/* s as valid UTF-8 in out (size n, n >= 4): each byte that is not part of
 * a character becomes U+FFFD, and a cut never splits a character. JSON
 * (jansson) refuses anything else. Returns out. */
char *nfd_utf8(const char *s, char *out, size_t n);

#endif
