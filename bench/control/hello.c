// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The smallest process ctlbench times (its "static hello" floor row):
 * linked statically, so no dynamic loader and no shared library runs
 * before main. What a CLI call costs above it is start-up of our own.
 */
#include <unistd.h>

int main(void)
{
	static const char msg[] = "hello\n";

	return write(1, msg, sizeof(msg) - 1) == sizeof(msg) - 1 ? 0 : 1;
}
