/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A few macros for C tests: each CHECK prints an ok / not ok line that the
 * runner counts. */
#ifndef NFC_TEST_H
#define NFC_TEST_H
#include <stdio.h>

static int test_failures __attribute__((unused));
/* If set, every CHECK's name starts with "group: " (a mode, a case set):
 * tests that run the same checks in several settings set it once. */
static const char *test_group __attribute__((unused));

/* `cond` is evaluated once: it may have side effects. Flushed at once so
 * that a crash later leaves the lines before it in the log. */
#define CHECK(cond, ...)                                    \
	do {                                                \
		int ok_ = !!(cond);                         \
		printf(ok_ ? "ok - " : "not ok - ");        \
		test_failures += !ok_;                      \
		if (test_group)                             \
			printf("%s: ", test_group);         \
		printf(__VA_ARGS__);                        \
		printf("%s\n", ok_ ? "" : "  [" #cond "]"); \
		fflush(stdout);                             \
	} while (0)

#define TEST_EXIT() return test_failures ? 1 : 0
#endif
