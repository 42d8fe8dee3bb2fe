// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfctl: drives libnfchain directly, without the daemon, with the grammar
 * of the nfchain CLI. For tests, benchmarks and debugging: every call opens
 * the pin root, adopts what is there, makes one change and exits, which is
 * also the plainest test that state outlives its process.
 *
 *   nfctl [--pin-root DIR] [-j] COMMAND
 *   (the nfchain grammar: types, show, export, apply, <type> add, <name> ...,
 *    connect, disconnect, attach, detach) and, for tests:
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

static int json_out;

static void usage(void)
{
	fprintf(stderr,
		"usage: nfctl [--pin-root DIR] [-j] COMMAND\n"
		"  types | show | export | stats | reset\n"
		"  apply [--dry-run] -f FILE|-\n"
		"  <type> add <name> [mode=xdp|xdp-generic|tc] [key=value "
		"...]\n"
		"  <name> show [ports|<collection>|stats]\n"
		"  <name> set key=value ... | <name> del\n"
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
		"  run SECONDS | packet-out NF PORT HEXFRAME\n");
	exit(2);
}

/* key=value words into a JSON object of strings (the runtime converts by
 * the declared kind). `take`: keys pulled out into *vals, in order. */
static json_t *kv_args(int argc, char **argv, const char *const *take,
		       const char **vals)
{
	json_t *o = json_object();

	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		int taken = 0;

		if (!eq || eq == argv[i]) {
			fprintf(stderr, "nfctl: '%s' is not key=value\n",
				argv[i]);
			exit(2);
		}
		*eq = 0;
		for (int k = 0; take && take[k]; k++)
			if (!strcmp(take[k], argv[i])) {
				vals[k] = eq + 1;
				taken = 1;
			}
		if (!taken)
			json_object_set_new(o, argv[i], json_string(eq + 1));
		*eq = '=';
	}
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

static int split_port(char *s, char **nf, char **port)
{
	char *c = strchr(s, ':');

	if (!c)
		return -1;
	*c = 0;
	*nf = s;
	*port = c + 1;
	return 0;
}

static int cmd_apply(struct nfc *nfc, int argc, char **argv)
{
	const char *file = NULL;
	int dry = 0, r;
	json_error_t je;
	json_t *doc, *plan = NULL;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			dry = 1;
		else if (!strcmp(argv[i], "-f") && i + 1 < argc)
			file = argv[++i];
		else
			usage();
	}
	if (!file)
		usage();
	doc = !strcmp(file, "-") ? json_loadf(stdin, 0, &je)
				 : json_load_file(file, 0, &je);
	if (!doc) {
		fprintf(stderr, "nfctl: %s: line %d: %s\n", file, je.line,
			je.text);
		return 1;
	}
	r = nfc_apply(nfc, doc, dry, &plan);
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

static int dispatch(struct nfc *nfc, int argc, char **argv)
{
	const char *cmd = argv[0];
	json_t *j, *cfg;
	int r;

	if (!strcmp(cmd, "types")) {
		j = nfc_types();
		print_json(j);
		json_decref(j);
		return 0;
	}
	if (!strcmp(cmd, "show") || !strcmp(cmd, "export") ||
	    !strcmp(cmd, "stats")) {
		j = !strcmp(cmd, "show")     ? nfc_show(nfc)
		    : !strcmp(cmd, "export") ? nfc_export(nfc)
					     : nfc_global_stats(nfc);
		if (!j)
			return fail(nfc);
		if (!strcmp(cmd, "show"))
			print_show(j);
		else
			print_json(j);
		json_decref(j);
		return 0;
	}
	if (!strcmp(cmd, "reset"))
		return nfc_reset(nfc) ? fail(nfc) : 0;
	if (!strcmp(cmd, "apply"))
		return cmd_apply(nfc, argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return run(nfc, argc > 1 ? atof(argv[1]) : 1e9);
	if (!strcmp(cmd, "packet-out")) {
		unsigned char buf[4096];
		size_t n = 0;

		if (argc != 4)
			usage();
		for (const char *h = argv[3]; h[0] && h[1] && n < sizeof(buf);
		     h += 2) {
			if (hexval(h[0]) < 0 || hexval(h[1]) < 0)
				usage();
			buf[n++] = hexval(h[0]) << 4 | hexval(h[1]);
		}
		return nfc_packet_out(nfc, argv[1], argv[2], buf, n) ? fail(nfc)
								     : 0;
	}
	if (!strcmp(cmd, "connect") || !strcmp(cmd, "disconnect")) {
		char *nf, *port;

		if (argc != (cmd[0] == 'c' ? 3 : 2) ||
		    split_port(argv[1], &nf, &port))
			usage();
		r = cmd[0] == 'c' ? nfc_connect(nfc, nf, port, argv[2])
				  : nfc_disconnect(nfc, nf, port);
		return r ? fail(nfc) : 0;
	}
	if (!strcmp(cmd, "attach")) {
		static const char *const take[] = {"direction", "position",
						   NULL};
		const char *v[2] = {NULL, NULL};

		if (argc < 3)
			usage();
		cfg = kv_args(argc - 3, argv + 3, take, v);
		if (json_object_size(cfg)) {
			fprintf(stderr, "nfctl: attach takes direction= and "
					"position= only\n");
			return 2;
		}
		json_decref(cfg);
		return nfc_attach(nfc, argv[1], argv[2], v[0], v[1]) ? fail(nfc)
								     : 0;
	}
	if (!strcmp(cmd, "detach")) {
		if (argc != 3)
			usage();
		return nfc_detach(nfc, argv[1], argv[2]) ? fail(nfc) : 0;
	}
	if (argc < 2)
		usage();
	/* <type> add <name> ... */
	if (!strcmp(argv[1], "add") && argc >= 3) {
		static const char *const take[] = {"mode", NULL};
		const char *mode[1] = {NULL};

		cfg = kv_args(argc - 3, argv + 3, take, mode);
		r = nfc_nf_add(nfc, cmd, argv[2], mode[0], cfg);
		json_decref(cfg);
		return r ? fail(nfc) : 0;
	}
	/* <name> ... */
	if (!strcmp(argv[1], "del") && argc == 2)
		return nfc_nf_del(nfc, cmd) ? fail(nfc) : 0;
	if (!strcmp(argv[1], "set")) {
		cfg = kv_args(argc - 2, argv + 2, NULL, NULL);
		r = nfc_nf_set(nfc, cmd, cfg);
		json_decref(cfg);
		return r ? fail(nfc) : 0;
	}
	if (!strcmp(argv[1], "show")) {
		json_t *nf = nfc_show_nf(nfc, cmd), *out = nf;

		if (!nf)
			return fail(nfc);
		if (argc >= 3 && !strcmp(argv[2], "ports"))
			out = json_object_get(nf, "ports");
		else if (argc >= 3 && !strcmp(argv[2], "stats"))
			out = json_object_get(nf, "stats");
		else if (argc >= 3) {
			json_t *list;

			if (nfc_coll_list(nfc, cmd, argv[2], &list)) {
				json_decref(nf);
				return fail(nfc);
			}
			print_json(list);
			json_decref(list);
			json_decref(nf);
			return 0;
		}
		print_json(out);
		json_decref(nf);
		return 0;
	}
	if (!strcmp(argv[1], "ports") && argc >= 4) {
		if (!strcmp(argv[2], "add")) {
			static const char *const take[] = {"peer", NULL};
			const char *peer[1] = {NULL};

			cfg = kv_args(argc - 4, argv + 4, take, peer);
			r = nfc_port_add(nfc, cmd, argv[3], peer[0], cfg);
			json_decref(cfg);
			return r ? fail(nfc) : 0;
		}
		if (!strcmp(argv[2], "del") && argc == 4)
			return nfc_port_del(nfc, cmd, argv[3]) ? fail(nfc) : 0;
		if (!strcmp(argv[3], "set")) {
			cfg = kv_args(argc - 4, argv + 4, NULL, NULL);
			r = nfc_port_set(nfc, cmd, argv[2], cfg);
			json_decref(cfg);
			return r ? fail(nfc) : 0;
		}
		usage();
	}
	if (argc >= 4 && !strcmp(argv[2], "add")) {
		cfg = kv_args(argc - 4, argv + 4, NULL, NULL);
		r = nfc_coll_add(nfc, cmd, argv[1], argv[3], cfg);
		json_decref(cfg);
		return r ? fail(nfc) : 0;
	}
	if (argc == 4 && !strcmp(argv[2], "del"))
		return nfc_coll_del(nfc, cmd, argv[1], argv[3]) ? fail(nfc) : 0;
	usage();
	return 2;
}

int main(int argc, char **argv)
{
	struct nfc_opts opts = {0};
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
	if (!strcmp(argv[i], "types")) {
		json_t *t = nfc_types();

		print_json(t);
		json_decref(t);
		return 0;
	}
	r = nfc_open(&nfc, &opts, err, sizeof(err));
	if (r) {
		fprintf(stderr, "nfctl: %s\n", err);
		return 1;
	}
	r = dispatch(nfc, argc - i, argv + i);
	nfc_close(nfc);
	return r;
}
