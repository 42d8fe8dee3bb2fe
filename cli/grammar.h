/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The grammar of the nfchain CLI, shared by the nfchain client (which maps
 * a command to an HTTP call, cli/request.c) and nfctl (which maps it to a
 * library call, tools/nfctl.c). Parsing only: no I/O, no JSON, nothing
 * linked but libc, so that it can be tested on argv arrays alone
 * (cli/tests/test_grammar.c).
 *
 * The words (a contract: scripts and tests outside the tree use them;
 * docs/man/nfchain.8):
 *   types | show | export
 *   types load FILE.bpf.o [name=N] [with=FILE2]   types unload <type>
 *   types show                         (loaded types, docs/sdk.md)
 *   <type> add <name> [mode=...] [key=value ...]
 *   <name> show [ports|<collection>|stats]
 *   <name> set key=value ...          <name> del
 *   <name> dump [count=N] [seconds=S]  (a capture NF's pcap, on stdout)
 *   <name> ports add <port> [peer=...] [key=value ...]
 *   <name> ports <port> set key=value ...
 *   <name> ports del <port>
 *   <name> <collection> add <key> [key=value ...]
 *   <name> <collection> del <key>     <name> <collection> show [<key>]
 *   <name> <collection> import [--replace] -f FILE|-
 *   connect <nf>:<port> <netdev>|<nf>:<port>     disconnect <nf>:<port>
 *   attach <nf> <target> [direction=...] [position=...]
 *   detach <nf> <target>
 *   apply [--dry-run] -f FILE|-
 * Collections are whatever the NF's type declares: anything in second
 * place that is not show/set/del/ports is taken as one, and the one who
 * runs the command says which exist if it is not.
 */
#ifndef NFC_CLI_GRAMMAR_H
#define NFC_CLI_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>

enum cli_op {
	CLI_HELP,
	CLI_TYPES,
	CLI_SHOW,
	CLI_EXPORT,
	CLI_APPLY,
	CLI_CONNECT,
	CLI_DISCONNECT,
	CLI_ATTACH,
	CLI_DETACH,
	CLI_NF_ADD,
	CLI_NF_SHOW,
	CLI_NF_SET,
	CLI_NF_DEL,
	CLI_PORT_ADD,
	CLI_PORT_SET,
	CLI_PORT_DEL,
	CLI_COLL_ADD,
	CLI_COLL_DEL,
	CLI_COLL_SET,
	CLI_COLL_SHOW,
	CLI_COLL_IMPORT,
	CLI_NF_DUMP,
	CLI_NF_UPGRADE,
	CLI_TYPE_LOAD,
	CLI_TYPE_UNLOAD,
	CLI_TYPE_SHOW,
};

/* Keys that a command takes out of its key=value words (mode= of an NF,
 * peer= of a port, direction= and position= of an attachment): they are
 * not configuration fields. */
enum cli_lift { CLI_MODE, CLI_PEER, CLI_DIRECTION, CLI_POSITION, CLI_NLIFT };

/* One parsed command. Every string points into argv, but for `ep_nf` and
 * `ep_port` (owned: free with cli_cmd_free). */
struct cli_cmd {
	enum cli_op op;
	const char *type; /* <type> add */
	const char *nf;	  /* the NF the command is about */
	const char *port; /* ports add|set|del */
	const char *coll; /* <collection> */
	const char *key;  /* <collection> add|del <key> */
	const char *what; /* <name> show WHAT: NULL, ports, stats or a coll */
	const char *ep;	  /* connect|disconnect <nf>:<port>, as written */
	char *ep_nf;	  /* ... and split */
	char *ep_port;
	const char *peer;   /* connect's second word */
	const char *target; /* attach|detach */
	/* A lifted key given: its value ("" for `peer=`), else NULL. */
	const char *lift[CLI_NLIFT];
	/* The other key=value words, as written; no key twice. */
	char **kv;
	int nkv;
	/* apply, import */
	const char *file;
	bool dry_run;
	bool replace;	     /* import --replace */
	const char *migrate; /* upgrade migrate=... */
};

/* Fills `c` from the command words (global options already taken off).
 * 0, or -1 with a usage error in `err` (the caller prints it with its
 * usage and exits 2). */
int cli_parse(int argc, char **argv, struct cli_cmd *c, char *err,
	      size_t errlen);
void cli_cmd_free(struct cli_cmd *c);

/* Splits a key=value word that cli_parse accepted: the key into `key`
 * (truncated to len - 1), the value returned. */
const char *cli_kv_split(const char *word, char *key, size_t len);

/* The i-th command word of the grammar's table (the fixed first words:
 * types, show, ...), or NULL past the last: for the test that they are the
 * reserved NF names of nfchain.h. */
const char *cli_command_word(size_t i);

#endif
