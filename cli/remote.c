// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --url from the wholly static CLI.
 *
 * Where the static archives are there, `nfchain` is linked wholly static
 * (cli/build.mk): no loader, no libc.so to map and relocate, which is
 * 1.3 ms of CPU off the 2.3 ms start-up of every call on these machines
 * (perf stat -r 300 nfchain --help). A static program cannot host
 * libcurl, which --url loads with dlopen (libcurl brings its own libc.so),
 * so for --url this binary hands the call, with its arguments as given,
 * to its twin `nfchain-url`: the same CLI linked with a shared libc,
 * installed beside it (build tree) or in ../libexec/nfchain/.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Defined in cli/static/whole.c, which only the wholly static link has. */
extern const int nfc_cli_whole_static __attribute__((weak));

int cli_exec_remote(char **argv, char *err, size_t len)
{
	static const char *const where[] = {"/nfchain-url",
					    "/../libexec/nfchain/nfchain-url"};
	char self[PATH_MAX], twin[PATH_MAX + 40];
	ssize_t n;
	char *slash;

	if (!&nfc_cli_whole_static)
		return 0; /* shared libc: libcurl loads here */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		snprintf(err, len, "--url: cannot find this program: %s",
			 strerror(errno));
		return -1;
	}
	self[n] = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(twin, sizeof(twin), "%s%s", self, where[i]);
		if (access(twin, X_OK))
			continue;
		execv(twin, argv);
		snprintf(err, len, "--url: cannot run %s: %s", twin,
			 strerror(errno));
		return -1;
	}
	snprintf(err, len,
		 "--url needs nfchain-url, the CLI built with a shared libc, "
		 "in %s or %s/../libexec/nfchain (make install puts it there)",
		 self, self);
	return -1;
}
