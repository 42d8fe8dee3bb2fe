// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfctl: drives libnfchain directly, without the daemon, with the grammar
 * of the nfchain CLI. For tests, benchmarks and debugging: every call opens
 * the pin root, adopts what is there, makes one change and exits, which is
 * also the plainest test that state outlives its process.
 *
 *   nfctl [--pin-root DIR] [-j] COMMAND
 *   (the nfchain grammar, parsed by the CLI's own cli/grammar.c: types,
 *    show, export, apply, <type> add, <name> ..., connect, disconnect,
 *    attach, detach) and, for tests:
 *   nfctl reset                          delete everything
 *   nfctl run SECONDS                    serve the slow path for a while
 *   nfctl packet-out NF PORT HEXFRAME    send a frame out of a port
 *   nfctl stats                          global counters
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfchain/nfchain.h"

#include "grammar.h"

static int json_out;

static const char usage_text[] =
	"usage: nfctl [--pin-root DIR] [-j] COMMAND\n"
	"  types | show | export | stats | reset\n"
	"  apply [--dry-run] -f FILE|-\n"
	"  <type> add <name> [mode=auto|xdp|xdp-generic|tc] [key=value "
	"...]\n"
	"  <name> show [ports|<collection>|stats]\n"
	"  <name> set key=value ... | <name> del\n"
	"  <name> upgrade [-f OBJECT.bpf.o] [migrate=recreate]\n"
	"  <name> ports add <port> [peer=<netdev>|<nf>:<port>] "
	"[key=value ...]\n"
	"  <name> ports <port> set key=value ... | <name> ports del "
	"<port>\n"
	"  <name> <collection> add <key> [key=value ...] | "
	"<name> <collection> del <key>\n"
	"  connect <nf>:<port> <netdev>|<nf>:<port> | disconnect "
	"<nf>:<port>\n"
	"  attach <nf> <netdev>|<nf>:<port> [direction=...] "
	"[position=...]\n"
	"  detach <nf> <netdev>|<nf>:<port>\n"
	"  run SECONDS | packet-out NF PORT HEXFRAME\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

/* The key=value words of a parsed command as a JSON object of strings
 * (the runtime converts by the declared kind). */
static json_t *kv_json(const struct cli_cmd *c)
{
	json_t *o = json_object();
	char key[128];

	for (int i = 0; i < c->nkv; i++) {
		const char *v = cli_kv_split(c->kv[i], key, sizeof(key));

		json_object_set_new(o, key, json_string(v));
	}
	return o;
}

/* The library's set calls take mode= and peer= as fields, as they came. */
static json_t *kv_json_with(const struct cli_cmd *c, enum cli_lift k,
			    const char *name)
{
	json_t *o = kv_json(c);

	if (c->lift[k])
		json_object_set_new(o, name, json_string(c->lift[k]));
	return o;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (s)
		puts(s);
	free(s);
}

static void print_show(json_t *doc)
{
	size_t i, j;
	json_t *nf, *p, *a;

	if (json_out) {
		print_json(doc);
		return;
	}
	printf("%-12s %-10s %-12s %-8s %-16s %10s %10s %8s\n", "NF", "TYPE",
	       "MODE", "PORT", "PEER", "RX_PKTS", "TX_PKTS", "DROPS");
	json_array_foreach (json_object_get(doc, "nfs"), i, nf) {
		const char *name =
			json_string_value(json_object_get(nf, "name"));

		const char *why =
			json_string_value(json_object_get(nf, "hook_reason"));

		/* mode auto: the hook picked and why, as nfchain shows it */
		if (why)
			printf("%-12s %-10s %s (auto: %s)\n", name,
			       json_string_value(json_object_get(nf, "type")),
			       json_string_value(json_object_get(nf, "hook")),
			       why);
		else
			printf("%-12s %-10s %-12s\n", name,
			       json_string_value(json_object_get(nf, "type")),
			       json_string_value(json_object_get(nf, "mode")));
		json_array_foreach (json_object_get(nf, "ports"), j, p) {
			json_t *st = json_object_get(p, "stats");
			json_t *peer = json_object_get(p, "peer");

			printf("%-12s %-10s %-12s %-8s %-16s %10lld %10lld "
			       "%8lld\n",
			       "", "", "",
			       json_string_value(json_object_get(p, "name")),
			       json_is_string(peer) ? json_string_value(peer)
						    : "-",
			       json_integer_value(
				       json_object_get(st, "rx_packets")),
			       json_integer_value(
				       json_object_get(st, "tx_packets")),
			       json_integer_value(
				       json_object_get(st, "drops")));
		}
	}
	json_array_foreach (json_object_get(doc, "attachments"), i, a)
		printf("attached: %s on %s (%s, position %lld)\n",
		       json_string_value(json_object_get(a, "nf")),
		       json_string_value(json_object_get(a, "target")),
		       json_string_value(json_object_get(a, "direction")),
		       json_integer_value(json_object_get(a, "position")));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static volatile sig_atomic_t stop;
static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static void on_pktin(void *ctx, const struct nfc_pktin_info *p)
{
	(void)ctx;
	printf("packet-in nf=%s port=%s reason=%u len=%u mark=0x%x\n", p->nf,
	       p->port, p->reason, p->pkt_len, p->mark);
	fflush(stdout);
}

static int run(struct nfc *nfc, double seconds)
{
	struct timespec t0, now, last;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	nfc_set_pktin_hook(nfc, on_pktin, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	last = t0;
	while (!stop) {
		int r = nfc_poll(nfc, 100);

		if (r < 0) {
			fprintf(stderr, "nfctl: %s\n", nfc_errmsg(nfc));
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec != last.tv_sec) {
			nfc_tick(nfc);
			last = now;
		}
		if (now.tv_sec - t0.tv_sec + (now.tv_nsec - t0.tv_nsec) / 1e9 >=
		    seconds)
			break;
	}
	return 0;
}

static int fail(struct nfc *nfc)
{
	fprintf(stderr, "nfctl: %s\n", nfc_errmsg(nfc));
	return 1;
}

static int cmd_apply(struct nfc *nfc, const struct cli_cmd *c)
{
	json_error_t je;
	json_t *doc, *plan = NULL;
	int r;

	doc = !strcmp(c->file, "-") ? json_loadf(stdin, 0, &je)
				    : json_load_file(c->file, 0, &je);
	if (!doc) {
		fprintf(stderr, "nfctl: %s: line %d: %s\n", c->file, je.line,
			je.text);
		return 1;
	}
	r = nfc_apply(nfc, doc, c->dry_run, &plan);
	json_decref(doc);
	if (plan) {
		size_t i;
		json_t *s;

		json_array_foreach (plan, i, s)
			printf("%s\n", json_string_value(s));
		json_decref(plan);
	}
	return r ? fail(nfc) : 0;
}

static int print_new(struct nfc *nfc, json_t *j)
{
	if (!j)
		return fail(nfc);
	print_json(j);
	json_decref(j);
	return 0;
}

static int nf_show(struct nfc *nfc, const struct cli_cmd *c)
{
	json_t *nf = nfc_show_nf(nfc, c->nf), *list;

	if (!nf)
		return fail(nfc);
	if (!c->what)
		print_json(nf);
	else if (!strcmp(c->what, "ports") || !strcmp(c->what, "stats"))
		print_json(json_object_get(nf, c->what));
	else if (nfc_coll_list(nfc, c->nf, c->what, &list)) {
		json_decref(nf);
		return fail(nfc);
	} else {
		print_json(list);
		json_decref(list);
	}
	json_decref(nf);
	return 0;
}

/* A library call returning 0 or -errno; `cfg` (may be NULL) is released. */
static int done(struct nfc *nfc, int r, json_t *cfg)
{
	json_decref(cfg);
	return r ? fail(nfc) : 0;
}

static int cmd_import(struct nfc *nfc, const struct cli_cmd *c)
{
	FILE *f = strcmp(c->file, "-") ? fopen(c->file, "re") : stdin;
	char *text = NULL, chunk[65536];
	size_t len = 0, n;
	FILE *m;
	int r;

	if (!f) {
		fprintf(stderr, "nfctl: cannot read %s: %s\n", c->file,
			strerror(errno));
		return 1;
	}
	m = open_memstream(&text, &len);
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	if (m)
		fclose(m);
	if (f != stdin)
		fclose(f);
	r = nfc_coll_import_text(nfc, c->nf, c->coll, text, len, c->replace);
	free(text);
	return done(nfc, r, NULL);
}

/* The file is used where it is (nfchaind keeps a copy; nfctl cannot):
 * by its absolute name, so that any later process finds it. */
static int cmd_upgrade(struct nfc *nfc, const struct cli_cmd *c)
{
	char *abs = NULL;
	int r;

	if (c->migrate && strcmp(c->migrate, "recreate") &&
	    strcmp(c->migrate, "refuse")) {
		fprintf(stderr, "nfctl: migrate must be recreate or refuse\n");
		return 1;
	}
	if (c->file && !(abs = realpath(c->file, NULL))) {
		fprintf(stderr, "nfctl: %s: %s\n", c->file, strerror(errno));
		return 1;
	}
	r = nfc_nf_upgrade(nfc, c->nf, abs,
			   c->migrate && !strcmp(c->migrate, "recreate")
				   ? NFC_UPGRADE_RECREATE
				   : 0);
	free(abs);
	return done(nfc, r, NULL);
}

/* The parsed command (cli/grammar.c) as a library call. */
static int dispatch(struct nfc *nfc, const struct cli_cmd *c)
{
	json_t *j, *cfg;

	switch (c->op) {
	case CLI_HELP:
		fputs(usage_text, stdout);
		return 0;
	case CLI_NF_DUMP:
		fprintf(stderr,
			"nfctl: dump needs nfchaind (nfchain %s dump)\n",
			c->nf);
		return 1;
	case CLI_TYPE_LOAD:
	case CLI_TYPE_UNLOAD:
	case CLI_TYPE_SHOW:
		/* A loaded type lives in a daemon's process (docs/sdk.md). */
		fprintf(stderr, "nfctl: loaded types need nfchaind (nfchain "
				"types ...)\n");
		return 1;
	case CLI_TYPES:
		return print_new(nfc, nfc_types());
	case CLI_SHOW:
		j = nfc_show(nfc);
		if (!j)
			return fail(nfc);
		print_show(j);
		json_decref(j);
		return 0;
	case CLI_EXPORT:
		return print_new(nfc, nfc_export(nfc));
	case CLI_APPLY:
		return cmd_apply(nfc, c);
	case CLI_CONNECT:
		return done(nfc,
			    nfc_connect(nfc, c->ep_nf, c->ep_port, c->peer),
			    NULL);
	case CLI_DISCONNECT:
		return done(nfc, nfc_disconnect(nfc, c->ep_nf, c->ep_port),
			    NULL);
	case CLI_ATTACH:
		return done(nfc,
			    nfc_attach(nfc, c->nf, c->target,
				       c->lift[CLI_DIRECTION],
				       c->lift[CLI_POSITION]),
			    NULL);
	case CLI_DETACH:
		return done(nfc, nfc_detach(nfc, c->nf, c->target), NULL);
	case CLI_NF_ADD:
		cfg = kv_json(c);
		return done(
			nfc,
			nfc_nf_add(nfc, c->type, c->nf, c->lift[CLI_MODE], cfg),
			cfg);
	case CLI_NF_SHOW:
		return nf_show(nfc, c);
	case CLI_NF_SET:
		cfg = kv_json(c);
		/* A new mode moves the NF, as nfchaind does. */
		return done(nfc,
			    c->lift[CLI_MODE]
				    ? nfc_nf_set_mode(nfc, c->nf,
						      c->lift[CLI_MODE], cfg)
				    : nfc_nf_set(nfc, c->nf, cfg),
			    cfg);
	case CLI_NF_DEL:
		return done(nfc, nfc_nf_del(nfc, c->nf), NULL);
	case CLI_NF_UPGRADE:
		return cmd_upgrade(nfc, c);
	case CLI_PORT_ADD:
		cfg = kv_json(c);
		return done(nfc,
			    nfc_port_add(nfc, c->nf, c->port, c->lift[CLI_PEER],
					 cfg),
			    cfg);
	case CLI_PORT_SET:
		cfg = kv_json_with(c, CLI_PEER, "peer");
		return done(nfc, nfc_port_set(nfc, c->nf, c->port, cfg), cfg);
	case CLI_PORT_DEL:
		return done(nfc, nfc_port_del(nfc, c->nf, c->port), NULL);
	case CLI_COLL_ADD:
		cfg = kv_json(c);
		return done(nfc, nfc_coll_add(nfc, c->nf, c->coll, c->key, cfg),
			    cfg);
	case CLI_COLL_SET:
		cfg = kv_json(c);
		return done(nfc, nfc_coll_set(nfc, c->nf, c->coll, c->key, cfg),
			    cfg);
	case CLI_COLL_DEL:
		/* `<nf> <coll> flush` has no key: "all", as the CLI sends. */
		return done(nfc,
			    nfc_coll_del(nfc, c->nf, c->coll,
					 c->key ? c->key : "all"),
			    NULL);
	case CLI_COLL_IMPORT:
		return cmd_import(nfc, c);
	case CLI_COLL_SHOW:
		if (c->key ? nfc_coll_show_entry(nfc, c->nf, c->coll, c->key, 0,
						 &j)
			   : nfc_coll_list(nfc, c->nf, c->coll, &j))
			return fail(nfc);
		print_json(j);
		json_decref(j);
		return 0;
	}
	return 2;
}

static int cmd_reset(struct nfc *nfc, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return nfc_reset(nfc) ? fail(nfc) : 0;
}

static int cmd_stats(struct nfc *nfc, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return print_new(nfc, nfc_global_stats(nfc));
}

static int cmd_run(struct nfc *nfc, int argc, char **argv)
{
	return run(nfc, argc > 1 ? atof(argv[1]) : 1e9);
}

static int cmd_packet_out(struct nfc *nfc, int argc, char **argv)
{
	unsigned char buf[4096];
	size_t n = 0;

	if (argc != 4)
		usage();
	for (const char *h = argv[3]; h[0] && h[1] && n < sizeof(buf); h += 2) {
		if (hexval(h[0]) < 0 || hexval(h[1]) < 0)
			usage();
		buf[n++] = hexval(h[0]) << 4 | hexval(h[1]);
	}
	return nfc_packet_out(nfc, argv[1], argv[2], buf, n) ? fail(nfc) : 0;
}

/* Commands of nfctl alone, for tests; they take their words as they come. */
static const struct {
	const char *word;
	int (*fn)(struct nfc *nfc, int argc, char **argv);
} extras[] = {
	{"reset", cmd_reset},
	{"stats", cmd_stats},
	{"run", cmd_run},
	{"packet-out", cmd_packet_out},
};

int main(int argc, char **argv)
{
	int (*extra)(struct nfc *, int, char **) = NULL;
	struct nfc_opts opts = {0};
	struct cli_cmd c = {0};
	char err[1024];
	struct nfc *nfc;
	int i = 1, r;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--pin-root") && i + 1 < argc)
			opts.pin_root = argv[++i];
		else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			json_out = 1;
		else
			usage();
	}
	if (i >= argc)
		usage();
	for (size_t k = 0; k < sizeof(extras) / sizeof(extras[0]); k++)
		if (!strcmp(argv[i], extras[k].word))
			extra = extras[k].fn;
	if (!extra && cli_parse(argc - i, argv + i, &c, err, sizeof(err))) {
		fprintf(stderr, "nfctl: %s\n", err);
		usage();
	}
	/* Types and help need no pin root. */
	if (!extra && (c.op == CLI_TYPES || c.op == CLI_HELP)) {
		r = dispatch(NULL, &c);
		cli_cmd_free(&c);
		return r;
	}
	r = nfc_open(&nfc, &opts, err, sizeof(err));
	if (r) {
		fprintf(stderr, "nfctl: %s\n", err);
		cli_cmd_free(&c);
		return 1;
	}
	r = extra ? extra(nfc, argc - i, argv + i) : dispatch(nfc, &c);
	nfc_close(nfc);
	cli_cmd_free(&c);
	return r;
}
