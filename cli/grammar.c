// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The grammar as one table (the words are listed in grammar.h). A rule is
 * a pattern of words, literal or slot ("<nf>"); its first `head` words
 * choose it, the first matching rule wins, and from then on a mismatch is
 * a usage error with that rule's message, so that `nfchain fw0 ports add`
 * says how to spell a ports command rather than "unknown collection".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "grammar.h"

/* What may follow the words of a rule. */
enum tail {
	T_NONE,	     /* nothing */
	T_KV,	     /* key=value words, maybe none */
	T_KV_SOME,   /* at least one key=value word */
	T_LIFT_ONLY, /* key=value words, lifted keys only */
	T_OPTS,	     /* apply's options */
	T_IGNORE,    /* anything (help) */
};

#define USAGE_ONLY -1 /* a rule that only says how to spell a command */
#define L(k) (1u << (k))

struct rule {
	int op; /* enum cli_op, or USAGE_ONLY */
	const char *w[5];
	unsigned char head;
	unsigned char opt; /* the last `opt` slots may be missing */
	unsigned char tail;
	unsigned char lift; /* L(enum cli_lift) bits */
	const char *usage;  /* $1, $2: the first two words as given */
};

static const char *const lift_key[CLI_NLIFT] = {
	[CLI_MODE] = "mode",
	[CLI_PEER] = "peer",
	[CLI_DIRECTION] = "direction",
	[CLI_POSITION] = "position",
};

#define PORTS_USAGE                                                          \
	"expected 'ports add <port> ...', 'ports <port> set key=value ...' " \
	"or 'ports del <port>'"
#define COLL_USAGE                                             \
	"expected '$1 $2 add <key> [key=value ...]', "         \
	"'$1 $2 set <key> key=value ...', '$1 $2 del <key>', " \
	"'$1 $2 show [<key>]' or "                             \
	"'$1 $2 import [--replace] -f FILE|-'"

/* Order matters: commands, then `<type> add`, then the words after an NF
 * name, the collection catch-all last. */
static const struct rule rules[] = {
	{CLI_HELP, {"help"}, 1, 0, T_IGNORE, 0, NULL},
	{CLI_TYPE_LOAD,
	 {"types", "load", "<file>"},
	 2,
	 0,
	 T_KV,
	 0,
	 "types load FILE.bpf.o [name=N] [with=FILE2.bpf.o] "
	 "[plugin=FILE.so]"},
	{CLI_TYPE_UNLOAD,
	 {"types", "unload", "<type>"},
	 2,
	 0,
	 T_NONE,
	 0,
	 "types unload <type>"},
	{CLI_TYPE_SHOW,
	 {"types", "show", "<type>"},
	 2,
	 1,
	 T_NONE,
	 0,
	 "types show [<type>]"},
	{CLI_TYPES, {"types"}, 1, 0, T_NONE, 0, "'$1' takes no arguments"},
	{CLI_SHOW, {"show"}, 1, 0, T_NONE, 0, "'$1' takes no arguments"},
	{CLI_EXPORT, {"export"}, 1, 0, T_NONE, 0, "'$1' takes no arguments"},
	{CLI_APPLY,
	 {"apply"},
	 1,
	 0,
	 T_OPTS,
	 0,
	 "apply needs -f FILE (or -f - for stdin)"},
	{CLI_CONNECT,
	 {"connect", "<ep>", "<peer>"},
	 1,
	 0,
	 T_NONE,
	 0,
	 "connect <nf>:<port> <netdev>|<nf>:<port>"},
	{CLI_DISCONNECT,
	 {"disconnect", "<ep>"},
	 1,
	 0,
	 T_NONE,
	 0,
	 "disconnect <nf>:<port>"},
	{CLI_ATTACH,
	 {"attach", "<nf>", "<target>"},
	 1,
	 0,
	 T_LIFT_ONLY,
	 L(CLI_DIRECTION) | L(CLI_POSITION),
	 "attach <nf> <netdev>|<nf>:<port> [direction=...] [position=...]"},
	{CLI_DETACH,
	 {"detach", "<nf>", "<target>"},
	 1,
	 0,
	 T_NONE,
	 0,
	 "detach <nf> <netdev>|<nf>:<port>"},
	{CLI_NF_ADD,
	 {"<type>", "add", "<nf>"},
	 2,
	 0,
	 T_KV,
	 L(CLI_MODE),
	 "$1 add <name> [mode=...] [key=value ...]"},
	{CLI_NF_SHOW,
	 {"<nf>", "show", "<what>"},
	 2,
	 1,
	 T_NONE,
	 0,
	 "show takes at most one of ports, stats, <collection>"},
	{CLI_NF_DEL,
	 {"<nf>", "del"},
	 2,
	 0,
	 T_NONE,
	 0,
	 "'$1 del' takes no more words"},
	{CLI_NF_DUMP,
	 {"<nf>", "dump"},
	 2,
	 0,
	 T_KV,
	 0,
	 "'$1 dump' takes count=N, seconds=S and format=pcap|pcapng"},
	{CLI_NF_UPGRADE,
	 {"<nf>", "upgrade"},
	 2,
	 0,
	 T_OPTS,
	 0,
	 "$1 upgrade [-f OBJECT.bpf.o] [migrate=recreate|refuse]"},
	{CLI_NF_SET,
	 {"<nf>", "set"},
	 2,
	 0,
	 T_KV_SOME,
	 L(CLI_MODE),
	 "set needs key=value"},
	{CLI_PORT_ADD,
	 {"<nf>", "ports", "add", "<port>"},
	 3,
	 0,
	 T_KV,
	 L(CLI_PEER),
	 PORTS_USAGE},
	{CLI_PORT_DEL,
	 {"<nf>", "ports", "del", "<port>"},
	 3,
	 0,
	 T_NONE,
	 0,
	 PORTS_USAGE},
	{CLI_PORT_SET,
	 {"<nf>", "ports", "<port>", "set"},
	 4,
	 0,
	 T_KV_SOME,
	 L(CLI_PEER),
	 PORTS_USAGE},
	/* `<nf> ports show`, as `<nf> show ports` (the man page's
	 * `<name> <collection> show` said so, and it was a usage error);
	 * `<nf> <coll> show <key>`: one entry. */
	{CLI_COLL_SHOW,
	 {"<nf>", "<coll>", "show", "<key>"},
	 3,
	 1,
	 T_NONE,
	 0,
	 COLL_USAGE},
	{USAGE_ONLY, {"<nf>", "ports"}, 2, 0, T_NONE, 0, PORTS_USAGE},
	{CLI_COLL_ADD,
	 {"<nf>", "<coll>", "add", "<key>"},
	 3,
	 0,
	 T_KV,
	 0,
	 COLL_USAGE},
	{CLI_COLL_DEL,
	 {"<nf>", "<coll>", "del", "<key>"},
	 3,
	 0,
	 T_NONE,
	 0,
	 COLL_USAGE},
	{CLI_COLL_SET,
	 {"<nf>", "<coll>", "set", "<key>"},
	 3,
	 0,
	 T_KV_SOME,
	 0,
	 COLL_USAGE},
	/* A del of every entry: the collection's del() gets the key "all"
	 * (a conntrack table's flush). */
	{CLI_COLL_DEL,
	 {"<nf>", "<coll>", "flush"},
	 3,
	 0,
	 T_NONE,
	 0,
	 COLL_USAGE},
	/* The bridge's spelling of `<name> show <collection>`. */
	{CLI_COLL_SHOW,
	 {"<nf>", "<coll>", "show"},
	 3,
	 0,
	 T_NONE,
	 0,
	 COLL_USAGE},
	{CLI_COLL_IMPORT,
	 {"<nf>", "<coll>", "import"},
	 3,
	 0,
	 T_OPTS,
	 0,
	 "$1 $2 import [--replace] -f FILE|- (FILE: a line an entry, "
	 "'<key> [key=value ...]')"},
	{USAGE_ONLY, {"<nf>", "<coll>"}, 2, 0, T_NONE, 0, COLL_USAGE},
	{USAGE_ONLY,
	 {"<nf>"},
	 1,
	 0,
	 T_NONE,
	 0,
	 "'$1' needs a command: show, set, del, upgrade, ports or a "
	 "collection"},
};

static int usage_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int usage_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A rule's message with $1 and $2 replaced by the words given. */
static int rule_usage(const struct rule *r, int argc, char **argv, char *err,
		      size_t len)
{
	size_t o = 0;

	for (const char *s = r->usage; *s && o + 1 < len; s++) {
		if (s[0] == '$' && (s[1] == '1' || s[1] == '2')) {
			int i = s[1] - '1';

			o += snprintf(err + o, len - o, "%s",
				      i < argc ? argv[i] : "");
			if (o >= len)
				o = len - 1;
			s++;
		} else {
			err[o++] = *s;
		}
	}
	err[o] = 0;
	return -1;
}

static bool is_slot(const char *w)
{
	return w[0] == '<';
}

static size_t rule_words(const struct rule *r)
{
	size_t n = 0;

	while (n < sizeof(r->w) / sizeof(r->w[0]) && r->w[n])
		n++;
	return n;
}

static bool chooses(const struct rule *r, int argc, char **argv)
{
	if (argc < r->head)
		return false;
	for (int i = 0; i < r->head; i++)
		if (!is_slot(r->w[i]) && strcmp(r->w[i], argv[i]))
			return false;
	return true;
}

static int set_slot(struct cli_cmd *c, const char *slot, const char *word,
		    char *err, size_t len)
{
	const char *colon;

	if (!strcmp(slot, "<nf>"))
		c->nf = word;
	else if (!strcmp(slot, "<type>"))
		c->type = word;
	else if (!strcmp(slot, "<port>"))
		c->port = word;
	else if (!strcmp(slot, "<coll>"))
		c->coll = word;
	else if (!strcmp(slot, "<file>"))
		c->file = word;
	else if (!strcmp(slot, "<key>")) {
		/* `show ''` listed the whole collection (a path ending in
		 * '/'); no collection has an empty key. */
		if (!*word)
			return usage_err(err, len, "an empty key");
		c->key = word;
	} else if (!strcmp(slot, "<what>"))
		c->what = word;
	else if (!strcmp(slot, "<peer>"))
		c->peer = word;
	else if (!strcmp(slot, "<target>"))
		c->target = word;
	else if (!strcmp(slot, "<ep>")) {
		colon = strchr(word, ':');
		if (!colon || colon == word || !colon[1])
			return usage_err(err, len, "'%s' is not <nf>:<port>",
					 word);
		c->ep = word;
		c->ep_nf = strndup(word, colon - word);
		c->ep_port = strdup(colon + 1);
		if (!c->ep_nf || !c->ep_port)
			return usage_err(err, len, "out of memory");
	}
	return 0;
}

const char *cli_kv_split(const char *word, char *key, size_t len)
{
	const char *eq = strchr(word, '=');
	size_t n = eq ? (size_t)(eq - word) : strlen(word);

	if (n >= len)
		n = len - 1;
	memcpy(key, word, n);
	key[n] = 0;
	return eq ? eq + 1 : "";
}

static int lift_names(unsigned mask, char *buf, size_t len)
{
	size_t o = 0;
	int n = 0;

	buf[0] = 0;
	for (int k = 0; k < CLI_NLIFT; k++)
		if (mask & L(k))
			n++;
	for (int k = 0, i = 0; k < CLI_NLIFT; k++) {
		if (!(mask & L(k)))
			continue;
		o += snprintf(buf + o, len > o ? len - o : 0, "%s%s=",
			      !i	   ? ""
			      : i == n - 1 ? " and "
					   : ", ",
			      lift_key[k]);
		i++;
	}
	return 0;
}

/* The key=value words after a rule's words. */
static int parse_kv(const struct rule *r, int n, char **w, struct cli_cmd *c,
		    char *err, size_t len)
{
	char key[128], other[128], names[64];

	c->kv = calloc(n ? n : 1, sizeof(*c->kv));
	if (!c->kv)
		return usage_err(err, len, "out of memory");
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(w[i], '='), *val;
		int k;

		if (!eq || eq == w[i])
			return usage_err(err, len,
					 "expected key=value, got '%s'", w[i]);
		if ((size_t)(eq - w[i]) >= sizeof(key))
			return usage_err(err, len, "key too long in '%.40s...'",
					 w[i]);
		val = cli_kv_split(w[i], key, sizeof(key));
		for (int j = 0; j < i; j++) {
			cli_kv_split(w[j], other, sizeof(other));
			if (!strcmp(key, other))
				return usage_err(err, len,
						 "'%s' is given twice", key);
		}
		for (k = 0; k < CLI_NLIFT; k++)
			if (r->lift & L(k) && !strcmp(key, lift_key[k]))
				break;
		if (k < CLI_NLIFT) {
			c->lift[k] = val;
			continue;
		}
		if (r->tail == T_LIFT_ONLY) {
			lift_names(r->lift, names, sizeof(names));
			return usage_err(err, len, "%s takes %s, not '%s='",
					 r->w[0], names, key);
		}
		c->kv[c->nkv++] = w[i];
	}
	return 0;
}

static int parse_opts(const struct rule *r, int argc, char **argv, int from,
		      struct cli_cmd *c, char *err, size_t len)
{
	for (int i = from; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run") && r->op == CLI_APPLY)
			c->dry_run = true;
		else if (!strcmp(argv[i], "--replace") &&
			 r->op == CLI_COLL_IMPORT)
			c->replace = true;
		else if (!strcmp(argv[i], "-f") && i + 1 < argc && !c->file)
			c->file = argv[++i];
		else if (!strncmp(argv[i], "migrate=", 8) &&
			 r->op == CLI_NF_UPGRADE && !c->migrate)
			c->migrate = argv[i] + 8;
		else
			return usage_err(err, len, "%s: unexpected '%s'",
					 argv[0], argv[i]);
	}
	if (!c->file && r->op != CLI_NF_UPGRADE)
		return rule_usage(r, argc, argv, err, len);
	return 0;
}

static int apply_rule(const struct rule *r, int argc, char **argv,
		      struct cli_cmd *c, char *err, size_t len)
{
	int n = (int)rule_words(r), need = n - r->opt;
	int took = argc < n ? argc : n;

	if (r->op == USAGE_ONLY || argc < need)
		return rule_usage(r, argc, argv, err, len);
	for (int i = r->head; i < took; i++)
		if (!is_slot(r->w[i]) && strcmp(r->w[i], argv[i]))
			return rule_usage(r, argc, argv, err, len);
	c->op = r->op;
	for (int i = 0; i < took; i++)
		if (is_slot(r->w[i]) && set_slot(c, r->w[i], argv[i], err, len))
			return -1;
	switch (r->tail) {
	case T_NONE:
		return argc > took ? rule_usage(r, argc, argv, err, len) : 0;
	case T_IGNORE:
		return 0;
	case T_OPTS:
		return parse_opts(r, argc, argv, took, c, err, len);
	case T_KV_SOME:
		if (argc == took)
			return rule_usage(r, argc, argv, err, len);
		/* fall through */
	default:
		return parse_kv(r, argc - took, argv + took, c, err, len);
	}
}

int cli_parse(int argc, char **argv, struct cli_cmd *c, char *err, size_t len)
{
	memset(c, 0, sizeof(*c));
	if (argc < 1)
		return usage_err(err, len, "a command is needed");
	/* Every word may go into a JSON body, which holds UTF-8 only: such
	 * a word was dropped on the way and the daemon answered 'the request
	 * body is empty' or 'field port is required'. */
	for (int i = 0; i < argc; i++) {
		json_t *w = json_string(argv[i]);

		if (!w)
			return usage_err(err, len,
					 "word %d of the command is not UTF-8 "
					 "text",
					 i + 1);
		json_decref(w);
	}
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (chooses(&rules[i], argc, argv)) {
			if (!apply_rule(&rules[i], argc, argv, c, err, len))
				return 0;
			cli_cmd_free(c);
			return -1;
		}
	return usage_err(err, len, "a command is needed"); /* not reached */
}

void cli_cmd_free(struct cli_cmd *c)
{
	free(c->ep_nf);
	free(c->ep_port);
	free(c->kv);
	c->ep_nf = c->ep_port = NULL;
	c->kv = NULL;
	c->nkv = 0;
}

const char *cli_command_word(size_t i)
{
	for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++)
		if (!is_slot(rules[k].w[0]) && i-- == 0)
			return rules[k].w[0];
	return NULL;
}
