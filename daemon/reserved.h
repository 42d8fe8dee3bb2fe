/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Words of the nfchain CLI grammar that cannot be names. The first word of
 * a command is a command, a type or an NF name, so an NF named like a
 * command or a type could never be addressed; a port named "add" or "del"
 * would make `<nf> ports add <port>` ambiguous. Shared by the daemon (which
 * refuses such names from any client) and the CLI (which says so early).
 */
#ifndef NFC_RESERVED_H
#define NFC_RESERVED_H

#include <string.h>

static const char *const nfc_reserved_nf_names[] = {
	"types",  "show",  "connect", "disconnect", "attach",
	"detach", "apply", "export",  "help",	    NULL,
};

static const char *const nfc_reserved_port_names[] = {"add", "del", NULL};

static inline int nfc_word_in(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(w, *list))
			return 1;
	return 0;
}

#endif
