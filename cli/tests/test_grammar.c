// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The CLI grammar (cli/grammar.c) on argv arrays: every spelling of
 * docs/man/nfchain.8 parses to the command it names, and the wrong ones are
 * usage errors with the message the CLI has always printed. No daemon, no
 * kernel: cli/tests/grammar.sh checks the same words end to end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nfchain/nfchain.h"
#include "grammar.h"
#include "test.h"

#define MAXW 16

/* Splits `line` into words (in `buf`) and parses them. */
static int parse(const char *line, struct cli_cmd *c, char *err, size_t len,
		 char *buf, size_t blen)
{
	char *argv[MAXW], *tok, *save = NULL;
	int argc = 0;

	snprintf(buf, blen, "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < MAXW;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	err[0] = 0;
	return cli_parse(argc, argv, c, err, len);
}

static const char *s(const char *v)
{
	return v ? v : "(null)";
}

/* Accepted: op and the fields, written "field=value" in `want`
 * (kv=a=1,b=2 for the key=value words). */
static void accepts(const char *line, enum cli_op op, const char *want)
{
	char err[256], buf[512], got[512];
	struct cli_cmd c;
	size_t o = 0;
	int r = parse(line, &c, err, sizeof(err), buf, sizeof(buf));

	if (r) {
		CHECK(0, "'%s' parses (got: %s)", line, err);
		return;
	}
	got[0] = 0;
#define F(name)                                                       \
	do {                                                          \
		if (c.name)                                           \
			o += snprintf(got + o, sizeof(got) - o,       \
				      "%s" #name "=%s", o ? " " : "", \
				      s(c.name));                     \
	} while (0)
	F(type);
	F(nf);
	F(port);
	F(coll);
	F(key);
	F(what);
	F(ep_nf);
	F(ep_port);
	F(peer);
	F(target);
	F(file);
#undef F
	static const char *const lk[] = {"mode", "peer", "direction",
					 "position"};
	for (int k = 0; k < CLI_NLIFT; k++)
		if (c.lift[k])
			o += snprintf(got + o, sizeof(got) - o, "%s%s:=%s",
				      o ? " " : "", lk[k], c.lift[k]);
	for (int i = 0; i < c.nkv; i++)
		o += snprintf(got + o, sizeof(got) - o, "%s%s",
			      i ? "," : (o ? " kv=" : "kv="), c.kv[i]);
	if (c.dry_run)
		o += snprintf(got + o, sizeof(got) - o, "%sdry_run",
			      o ? " " : "");
	CHECK(c.op == op && !strcmp(got, want),
	      "'%s' -> op %d {%s} (want op %d {%s})", line, c.op, got, op,
	      want);
	cli_cmd_free(&c);
}

/* A usage error whose message contains `msg`. */
static void refuses(const char *line, const char *msg)
{
	char err[256], buf[512];
	struct cli_cmd c;
	int r = parse(line, &c, err, sizeof(err), buf, sizeof(buf));

	CHECK(r == -1 && strstr(err, msg), "'%s' is a usage error: \"%s\"",
	      line, err);
	if (!r)
		cli_cmd_free(&c);
}

int main(void)
{
	size_t i, n;

	/* Every spelling of the grammar. */
	accepts("types", CLI_TYPES, "");
	accepts("show", CLI_SHOW, "");
	accepts("export", CLI_EXPORT, "");
	accepts("help", CLI_HELP, "");
	accepts("help me please", CLI_HELP, "");
	accepts("apply -f x.json", CLI_APPLY, "file=x.json");
	accepts("apply -f - --dry-run", CLI_APPLY, "file=- dry_run");
	accepts("apply --dry-run -f x.yaml", CLI_APPLY, "file=x.yaml dry_run");
	accepts("forwarder add fw0", CLI_NF_ADD, "type=forwarder nf=fw0");
	accepts("forwarder add fwt mode=tc", CLI_NF_ADD,
		"type=forwarder nf=fwt mode:=tc");
	accepts("counter add c1 mark=3 mode=xdp", CLI_NF_ADD,
		"type=counter nf=c1 mode:=xdp kv=mark=3");
	accepts("fw0 show", CLI_NF_SHOW, "nf=fw0");
	accepts("fw0 show ports", CLI_NF_SHOW, "nf=fw0 what=ports");
	accepts("br0 show fdb", CLI_NF_SHOW, "nf=br0 what=fdb");
	accepts("c1 set mark=5", CLI_NF_SET, "nf=c1 kv=mark=5");
	accepts("f1 set mode=tc", CLI_NF_SET, "nf=f1 mode:=tc");
	accepts("fw0 del", CLI_NF_DEL, "nf=fw0");
	accepts("fw0 ports add p1", CLI_PORT_ADD, "nf=fw0 port=p1");
	accepts("fw0 ports add p1 peer=veth0 vlan=3", CLI_PORT_ADD,
		"nf=fw0 port=p1 peer:=veth0 kv=vlan=3");
	accepts("fw0 ports add p1 peer=", CLI_PORT_ADD,
		"nf=fw0 port=p1 peer:=");
	accepts("fw0 ports p2 set peer=veth1", CLI_PORT_SET,
		"nf=fw0 port=p2 peer:=veth1");
	accepts("fw0 ports del p1", CLI_PORT_DEL, "nf=fw0 port=p1");
	accepts("r1 routes add 10.0.0.0/8 via=10.1.1.1", CLI_COLL_ADD,
		"nf=r1 coll=routes key=10.0.0.0/8 kv=via=10.1.1.1");
	accepts("lb0 backends set 203.0.113.100:80/tcp/198.51.100.11 "
		"state=drain",
		CLI_COLL_SET,
		"nf=lb0 coll=backends key=203.0.113.100:80/tcp/198.51.100.11 "
		"kv=state=drain");
	accepts("r1 routes del 10.0.0.0/8", CLI_COLL_DEL,
		"nf=r1 coll=routes key=10.0.0.0/8");
	accepts("br0 fdb show", CLI_COLL_SHOW, "nf=br0 coll=fdb");
	accepts("r1 routes show 10.0.0.0/8", CLI_COLL_SHOW,
		"nf=r1 coll=routes key=10.0.0.0/8");
	accepts("r0 routes import -f -", CLI_COLL_IMPORT,
		"nf=r0 coll=routes file=-");
	accepts("r0 routes import --replace -f r.txt", CLI_COLL_IMPORT,
		"nf=r0 coll=routes file=r.txt");
	accepts("connect fw0:p2 veth1", CLI_CONNECT,
		"ep_nf=fw0 ep_port=p2 peer=veth1");
	accepts("connect a:p1 b:p2", CLI_CONNECT,
		"ep_nf=a ep_port=p1 peer=b:p2");
	accepts("disconnect fw0:p2", CLI_DISCONNECT, "ep_nf=fw0 ep_port=p2");
	accepts("attach c1 fw0:p1 direction=both position=first", CLI_ATTACH,
		"nf=c1 target=fw0:p1 direction:=both position:=first");
	accepts("attach c1 veth0 position=after=c2", CLI_ATTACH,
		"nf=c1 target=veth0 position:=after=c2");
	accepts("detach c1 veth0", CLI_DETACH, "nf=c1 target=veth0");

	/* Usage errors, with the messages the CLI prints. */
	refuses("types x", "'types' takes no arguments");
	refuses("show fw0", "'show' takes no arguments");
	refuses("apply", "apply needs -f FILE");
	refuses("apply --dry-run", "apply needs -f FILE");
	refuses("apply -f", "apply: unexpected '-f'");
	refuses("apply -f a -f b", "apply: unexpected '-f'");
	refuses("apply x.json", "apply: unexpected 'x.json'");
	refuses("forwarder add", "forwarder add <name> [mode=...]");
	refuses("forwarder add x1 bogus", "expected key=value, got 'bogus'");
	refuses("forwarder add x1 =3", "expected key=value, got '=3'");
	refuses("counter add x1 mark=1 mark=2", "'mark' is given twice");
	refuses("counter add x1 mode=tc mode=xdp", "'mode' is given twice");
	refuses("fw0", "'fw0' needs a command: show, set, del, upgrade, ports");
	refuses("fw0 show ports stats", "show takes at most one of");
	refuses("fw0 del now", "'fw0 del' takes no more words");
	refuses("c1 set", "set needs key=value");
	refuses("fw0 ports", "expected 'ports add <port> ...'");
	refuses("fw0 ports add", "expected 'ports add <port> ...'");
	refuses("r0 routes set 10.0.0.0/8", "set <key> key=value");
	refuses("fw0 ports del", "expected 'ports add <port> ...'");
	refuses("fw0 ports del p1 p2", "expected 'ports add <port> ...'");
	refuses("fw0 ports p2 set", "expected 'ports add <port> ...'");
	refuses("fw0 ports p2 show", "expected 'ports add <port> ...'");
	refuses("fw0 nocoll", "expected 'fw0 nocoll add <key> [key=value");
	refuses("fw0 nocoll del",
		"'fw0 nocoll del <key>', 'fw0 nocoll show [<key>]' or "
		"'fw0 nocoll import [--replace] -f FILE|-'");
	refuses("fw0 fdb import", "fw0 fdb import [--replace] -f FILE|-");
	refuses("fw0 fdb import -f x --dry-run", "unexpected '--dry-run'");
	refuses("apply -f x --replace", "unexpected '--replace'");
	refuses("fw0 nocoll show x y", "expected 'fw0 nocoll add");
	refuses("fw0 nocoll del k1 x=1", "expected 'fw0 nocoll add");
	refuses("connect fw0 veth1", "'fw0' is not <nf>:<port>");
	refuses("connect :p1 veth1", "':p1' is not <nf>:<port>");
	refuses("connect fw0: veth1", "'fw0:' is not <nf>:<port>");
	refuses("connect fw0:p1", "connect <nf>:<port> <netdev>|<nf>:<port>");
	refuses("disconnect", "disconnect <nf>:<port>");
	refuses("disconnect a:b c", "disconnect <nf>:<port>");
	refuses("attach c1", "attach <nf> <netdev>|<nf>:<port>");
	refuses("attach c1 fw0:p1 colour=red",
		"attach takes direction= and position=, not 'colour='");
	refuses("detach c1", "detach <nf> <netdev>|<nf>:<port>");
	refuses("detach c1 a b", "detach <nf> <netdev>|<nf>:<port>");

	/* The command words are the reserved NF names of nfchain.h, both
	 * ways: an NF named like a command could not be addressed, and a
	 * reserved word that is no command is a stale entry. */
	for (n = 0; cli_command_word(n); n++)
		CHECK(nfc_name_reserved(cli_command_word(n), 0),
		      "command '%s' is a reserved NF name",
		      cli_command_word(n));
#define X(w)                                                       \
	for (i = 0; i < n && strcmp(cli_command_word(i), #w); i++) \
		;                                                  \
	CHECK(i < n, "reserved NF name '%s' is a command of the grammar", #w);
	NFC_CLI_COMMANDS(X)
#undef X
	/* The words after `ports` cannot be port names. */
	CHECK(nfc_name_reserved("add", 1) && nfc_name_reserved("del", 1) &&
		      !nfc_name_reserved("p1", 1) &&
		      !nfc_name_reserved("show", 1),
	      "add and del, only, are reserved port names");

	/* The name rule itself. */
	CHECK(nfc_name_check("fw0", NULL) == NFC_NAME_OK &&
		      nfc_name_check("a_b-C9", NULL) == NFC_NAME_OK,
	      "plain names are names");
	CHECK(nfc_name_check("", NULL) == NFC_NAME_EMPTY &&
		      nfc_name_check(NULL, NULL) == NFC_NAME_EMPTY,
	      "an empty name is refused");
	CHECK(nfc_name_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL) ==
			      NFC_NAME_OK &&
		      nfc_name_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				     NULL) == NFC_NAME_TOO_LONG,
	      "31 characters are a name, 32 are not");
	{
		size_t at = 0;

		CHECK(nfc_name_check("a/b", &at) == NFC_NAME_BAD_CHAR &&
			      at == 1,
		      "a '/' is refused, at its index");
	}
	CHECK(nfc_name_check("..", NULL) == NFC_NAME_BAD_CHAR,
	      "'..' is refused");
	CHECK(nfc_name_check("-x", NULL) == NFC_NAME_LEADING_DASH,
	      "a leading '-' is refused (the CLI would take it for an option)");
	TEST_EXIT();
}
