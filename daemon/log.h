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
 * double-quoted with \" \\ and control characters escaped. The result lives
 * in one of a few rotating static buffers: use it within one nfd_log(). */
const char *nfd_q(const char *s);

#endif
