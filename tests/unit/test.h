/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A few macros for C tests: each CHECK prints an ok / not ok line that the
 * runner counts. */
#ifndef NFC_TEST_H
#define NFC_TEST_H
#include <stdio.h>

static int test_failures;

/* `cond` is evaluated once: it may have side effects. */
#define CHECK(cond, ...)                                    \
	do {                                                \
		int ok_ = !!(cond);                         \
		printf(ok_ ? "ok - " : "not ok - ");        \
		test_failures += !ok_;                      \
		printf(__VA_ARGS__);                        \
		printf("%s\n", ok_ ? "" : "  [" #cond "]"); \
	} while (0)

#define TEST_EXIT() return test_failures ? 1 : 0
#endif
