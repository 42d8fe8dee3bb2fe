// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfchain: the command line of nfchaind. Exit status: 0 success, 1 the
 * daemon refused (its message on stderr) or could not be reached, 2 a
 * usage error (with the usage).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nfchain/nfchain.h"

#include "cli.h"

#define DEFAULT_SOCKET "/run/nfchain/nfchaind.sock"

static const char usage_text[] =
	"usage: nfchain [-j|--json] [--socket PATH | --url URL --token-file F] "
	"[--timeout SECONDS] COMMAND\n"
	"  (the options may also follow the command; after a lone -- no word "
	"is one)\n"
	"  nfchain types load FILE.bpf.o [name=N] [with=FILE2.bpf.o] "
	"[plugin=X.so]\n"
	"                                                 # an NF type of "
	"your own (docs/sdk.md)\n"
	"  nfchain types unload <type> | types show [<type>]\n"
	"  nfchain types                                  # NF types, their "
	"fields and collections\n"
	"  nfchain show                                   # every NF, port, "
	"link and attachment\n"
	"  nfchain <type> add <name> [mode=auto|xdp|xdp-generic|tc] [key=value "
	"...]\n"
	"  nfchain <name> show [ports|<collection>|stats]\n"
	"  nfchain <name> set key=value ...\n"
	"  nfchain <name> del\n"
	"  nfchain <name> upgrade [-f NEW.bpf.o] [migrate=recreate|refuse]\n"
	"  nfchain <name> dump [count=N] [seconds=S] [format=pcapng] > "
	"FILE.pcap  (capture NFs)\n"
	"  nfchain <name> ports add <port> [peer=<netdev>|<nf>:<port>] "
	"[key=value ...]\n"
	"  nfchain <name> ports <port> set key=value ...\n"
	"  nfchain <name> ports del <port>\n"
	"  nfchain <name> <collection> add <key> [key=value ...]\n"
	"  nfchain <name> <collection> set <key> key=value ...\n"
	"  nfchain <name> <collection> del <key>\n"
	"  nfchain <name> <collection> show [<key>]     # all, or one entry\n"
	"  nfchain <name> <collection> flush            # every entry: "
	"conntrack tables, NAT mappings\n"
	"  nfchain <name> <collection> import [--replace] -f FILE|-\n"
	"  nfchain connect <nf>:<port> <netdev>|<nf>:<port>\n"
	"  nfchain disconnect <nf>:<port>\n"
	"  nfchain attach <nf> <netdev>|<nf>:<port> "
	"[direction=ingress|egress|both (default)] "
	"[position=first|last|before=<nf>|after=<nf>]\n"
	"  nfchain detach <nf> <netdev>|<nf>:<port>\n"
	"  nfchain apply [--dry-run] -f FILE|-\n"
	"  nfchain export\n"
	"  nfchain filter-test 'EXPR' -r in.pcap [-w matched.pcap] [-j]\n";

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "nfchain: %s\n", msg);
	fputs(usage_text, stderr);
	return 2;
}

static char *read_token(const char *path)
{
	struct stat st;
	char buf[512];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "nfchain: cannot read token file %s: %m\n",
			path);
		return NULL;
	}
	/* A directory opens and reads nothing: the daemon then answered
	 * 401 to an empty token, which says nothing of the file. */
	if (!fstat(fileno(f), &st) && !S_ISREG(st.st_mode)) {
		fprintf(stderr,
			"nfchain: token file %s: not a regular file (%s): "
			"give the file that holds the token\n",
			path, S_ISDIR(st.st_mode) ? "a directory" : "special");
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The first line without its final blanks, as nfchaind reads it
	 * (daemon/listen.c daemon_read_token). */
	buf[strcspn(buf, "\r\n")] = 0;
	n = strlen(buf);
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = 0;
	if (!n) {
		fprintf(stderr,
			"nfchain: token file %s: its first line is "
			"empty\n",
			path);
		return NULL;
	}
	return strdup(buf);
}

static json_t *get_types(const struct conn *c, char *err, size_t len)
{
	json_t *a = NULL;
	long st = 0;

	if (http_call(c, "GET", "/v1/types", NULL, 0, NULL, &st, &a, err, len))
		return NULL;
	if (st != 200 || !json_is_array(a)) {
		snprintf(err, len, "nfchaind did not list its types (HTTP %ld)",
			 st);
		json_decref(a);
		return NULL;
	}
	return a;
}

static int is_type(json_t *types, const char *name, char *names, size_t len)
{
	size_t i, o = 0;
	json_t *t;
	int found = 0;

	names[0] = 0;
	json_array_foreach (types, i, t) {
		const char *n = json_string_value(json_object_get(t, "name"));

		if (!n)
			continue;
		if (!strcmp(n, name))
			found = 1;
		o += snprintf(names + o, len > o ? len - o : 0, "%s%s",
			      o ? ", " : "", n);
	}
	return found;
}

/* `<type> add <name>`: the type must exist and the name must not be a
 * command or a type, or the NF could not be addressed afterwards. */
static int check_add(const struct conn *c, const struct cli_req *r)
{
	char err[512], names[512], msg[800];
	json_t *types = get_types(c, err, sizeof(err));
	int ok;

	if (!types) {
		fprintf(stderr, "nfchain: %s\n", err);
		return 1;
	}
	ok = is_type(types, r->add_type, names, sizeof(names));
	if (!ok) {
		snprintf(msg, sizeof(msg),
			 "'%s' is neither a command nor an NF type (types: %s)",
			 r->add_type, names);
		json_decref(types);
		return usage(msg);
	}
	if (nfc_name_reserved(r->add_name, 0) ||
	    is_type(types, r->add_name, names, sizeof(names))) {
		snprintf(msg, sizeof(msg),
			 "'%s' is a command or type name; an NF cannot be "
			 "named so",
			 r->add_name);
		json_decref(types);
		return usage(msg);
	}
	json_decref(types);
	return 0;
}

/* Words for shell completion (dist/nfchain.bash), one a line:
 *   nfs, types, endpoints (every <nf>:<port>), ports:<nf> (its ports),
 *   portnames:<nf> (the names its type allows), colls:<nf>,
 *   fields:<nf>, portfields:<nf> ("name=", or "name=value" for each
 *   value of a choice or bool), typefields:<type>, collfields:<nf>:<coll>.
 */
static json_t *get(const struct conn *c, const char *path)
{
	char err[512];
	json_t *a = NULL;
	long st = 0;

	if (http_call(c, "GET", path, NULL, 0, NULL, &st, &a, err, sizeof(err)))
		return NULL;
	if (st != 200) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* The member of `arr` whose "name" is `name` (borrowed), or NULL. */
static json_t *named(json_t *arr, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach (arr, i, v)
		if (name &&
		    !strcmp(json_string_value(json_object_get(v, "name")) ?: "",
			    name))
			return v;
	return NULL;
}

/* The type of NF `nf`, or of type `type` if nf is NULL (new reference). */
static json_t *nf_type(const struct conn *c, const char *nf, const char *type)
{
	char path[128];
	json_t *n = NULL, *types, *r;

	if (nf) {
		snprintf(path, sizeof(path), "/v1/nfs/%.64s", nf);
		n = get(c, path);
		type = json_string_value(json_object_get(n, "type"));
	}
	types = get(c, "/v1/types");
	r = json_incref(named(types, type));
	json_decref(n);
	json_decref(types);
	return r;
}

static void put_names(json_t *arr)
{
	json_t *v;
	size_t i;

	json_array_foreach (arr, i, v)
		if (json_is_string(v))
			puts(json_string_value(v));
		else if (json_string_value(json_object_get(v, "name")))
			puts(json_string_value(json_object_get(v, "name")));
}

static void put_fields(json_t *fields)
{
	json_t *f;
	size_t i;

	json_array_foreach (fields, i, f) {
		const char *n = json_string_value(json_object_get(f, "name")),
			   *k = json_string_value(json_object_get(f, "kind")),
			   *ch = json_string_value(
				   json_object_get(f, "choices"));

		if (!n)
			continue;
		if (k && !strcmp(k, "bool")) {
			printf("%s=on\n%s=off\n", n, n);
		} else if (ch) {
			for (const char *a = ch, *e; *a; a = *e ? e + 1 : e) {
				e = strchr(a, '|') ?: a + strlen(a);
				printf("%s=%.*s\n", n, (int)(e - a), a);
			}
		} else {
			printf("%s=\n", n);
		}
	}
}

static int list_words(const struct conn *c, const char *what)
{
	const char *arg = strchr(what, ':');
	char path[128];
	json_t *a = NULL, *nf, *p;
	size_t i, j;

	arg = arg ? arg + 1 : "";
	if (!strcmp(what, "nfs") || !strcmp(what, "endpoints")) {
		a = get(c, "/v1/nfs");
		json_array_foreach (json_object_get(a, "nfs"), i, nf) {
			if (what[0] == 'n') {
				puts(json_string_value(
					json_object_get(nf, "name")));
				continue;
			}
			json_array_foreach (json_object_get(nf, "ports"), j, p)
				printf("%s:%s\n",
				       json_string_value(
					       json_object_get(nf, "name")),
				       json_string_value(
					       json_object_get(p, "name")));
		}
	} else if (!strcmp(what, "types")) {
		a = get(c, "/v1/types");
		put_names(a);
	} else if (!strncmp(what, "ports:", 6)) {
		snprintf(path, sizeof(path), "/v1/nfs/%.64s", arg);
		a = get(c, path);
		put_names(json_object_get(a, "ports"));
	} else if (!strncmp(what, "portnames:", 10)) {
		a = nf_type(c, arg, NULL);
		put_names(json_object_get(a, "port_names"));
	} else if (!strncmp(what, "colls:", 6)) {
		a = nf_type(c, arg, NULL);
		put_names(json_object_get(a, "collections"));
	} else if (!strncmp(what, "fields:", 7)) {
		a = nf_type(c, arg, NULL);
		put_fields(json_object_get(a, "config"));
	} else if (!strncmp(what, "typefields:", 11)) {
		a = nf_type(c, NULL, arg);
		put_fields(json_object_get(a, "config"));
	} else if (!strncmp(what, "portfields:", 11)) {
		a = nf_type(c, arg, NULL);
		put_fields(json_object_get(a, "port_config"));
	} else if (!strncmp(what, "collfields:", 11) && strchr(arg, ':')) {
		char nf[80];
		const char *coll = strchr(arg, ':') + 1;

		snprintf(nf, sizeof(nf), "%.*s", (int)(coll - 1 - arg), arg);
		a = nf_type(c, nf, NULL);
		put_fields(json_object_get(
			named(json_object_get(a, "collections"), coll),
			"fields"));
	} else {
		return usage("--list takes nfs, types, endpoints, ports:<nf>, "
			     "portnames:<nf>, colls:<nf>, fields:<nf>, "
			     "typefields:<type>, portfields:<nf> or "
			     "collfields:<nf>:<coll>");
	}
	json_decref(a);
	return 0;
}

/* The text view of an NF's stats leaves out the figures its type declares
 * JSON-only: the flat drop_<reason> a labelled `dropped` object gives
 * again, kept for the API's readers (each reason showed twice). */
static void drop_json_only(const struct conn *c, json_t *answer)
{
	json_t *t = nf_type(c, NULL,
			    json_string_value(json_object_get(answer, "type"))),
	       *stats = json_object_get(answer, "stats"), *st;
	size_t j;

	json_array_foreach (json_object_get(t, "stats"), j, st)
		if (!strcmp(json_string_value(json_object_get(st, "kind"))
				    ?: "",
			    "json-only"))
			json_object_del(
				stats,
				json_string_value(json_object_get(st, "name"))
					?: "");
	json_decref(t);
}

/* A timeout in seconds (--timeout, NFCHAIN_TIMEOUT), in ms; -1 if bad. */
static long parse_timeout(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0.001 && v <= 86400))
		return -1;
	return (long)(v * 1000 + 0.5);
}

/* The global options, wherever they are: users type `nfchain show -j` as
 * well as `nfchain -j show`. They are moved before the command words, in
 * order, so that getopt (which stops at the first command word, leaving
 * key=value and "-f -" alone) sees them. Only exact option words are
 * moved; a lone "--" ends them: `nfchain fw0 acl add -- -j` has key "-j".
 * Returns the new count: a "--" after the command words is dropped (it
 * was, with the count kept, and the last word came twice). */
static int globals_first(int argc, char **argv)
{
	static const char *const with_arg[] = {
		"--socket", "--url", "--token-file", "--timeout", "--list"};
	static const char *const alone[] = {"-j", "--json", "-h", "--help"};
	char **opt = calloc(argc, sizeof(*opt)),
	     **rest = calloc(argc, sizeof(*rest));
	int no = 0, nr = 0, i = 1;

	if (!opt || !rest)
		goto out;
	for (; i < argc; i++) {
		const char *a = argv[i];
		size_t k, len;
		int moved = 0;

		if (!strcmp(a, "--")) {
			/* Before the command it is getopt's; after, ours. */
			if (!nr)
				opt[no++] = argv[i];
			i++;
			break;
		}
		for (k = 0; k < sizeof(alone) / sizeof(alone[0]); k++)
			if (!strcmp(a, alone[k]))
				moved = 1;
		for (k = 0;
		     !moved && k < sizeof(with_arg) / sizeof(with_arg[0]);
		     k++) {
			len = strlen(with_arg[k]);
			if (strncmp(a, with_arg[k], len))
				continue;
			if (a[len] == '=') {
				moved = 1;
			} else if (!a[len]) {
				moved = 1;
				opt[no++] = argv[i];
				/* Its value, if any: getopt says if none. */
				a = i + 1 < argc ? argv[++i] : NULL;
			}
		}
		if (moved && a)
			opt[no++] = (char *)a;
		else
			rest[nr++] = argv[i];
	}
	while (i < argc)
		rest[nr++] = argv[i++];
	memcpy(argv + 1, opt, no * sizeof(*argv));
	memcpy(argv + 1 + no, rest, nr * sizeof(*argv));
	argc = 1 + no + nr;
	argv[argc] = NULL;
out:
	free(opt);
	free(rest);
	return argc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'},
		{"url", required_argument, NULL, 'u'},
		{"token-file", required_argument, NULL, 't'},
		{"list", required_argument, NULL, 'L'},
		{"timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct conn c = {.socket = DEFAULT_SOCKET};
	const char *url = NULL, *token_file = NULL, *list = NULL, *sock = NULL;
	struct cli_cmd cmd;
	struct cli_req r;
	char err[1024];
	json_t *answer = NULL;
	long status = 0;
	bool json = false, streamed = false;
	struct coll_out co = {0};
	int o, rc;

	if (getenv("NFCHAIN_TIMEOUT") && *getenv("NFCHAIN_TIMEOUT")) {
		c.timeout_ms = parse_timeout(getenv("NFCHAIN_TIMEOUT"));
		if (c.timeout_ms < 0)
			return usage("NFCHAIN_TIMEOUT must be a number of "
				     "seconds, from 0.001 to 86400");
	}
	/* filter-test loads a program itself and asks the daemon nothing */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "filter-test")) {
			int j = 0;

			for (int k = 1; k < i; k++)
				j |= !strcmp(argv[k], "-j") ||
				     !strcmp(argv[k], "--json");
			return cli_filter_test(argc - i, argv + i, j);
		}
		if (argv[i][0] != '-')
			break;
		/* A global option's value is no command word (found by a
		 * helper: `--socket S filter-test ...` took filter-test for
		 * an NF's name). */
		if (!strcmp(argv[i], "--socket") || !strcmp(argv[i], "--url") ||
		    !strcmp(argv[i], "--token-file") ||
		    !strcmp(argv[i], "--list") || !strcmp(argv[i], "--timeout"))
			i++;
	}
	/* Wholly static, this binary hands --url to its twin (remote.c). A
	 * false "--url" among the words only costs the twin's start-up: it
	 * is the same CLI. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--url") ||
		    !strncmp(argv[i], "--url=", 6)) {
			if (cli_exec_remote(argv, err, sizeof(err))) {
				fprintf(stderr, "nfchain: %s\n", err);
				return 1;
			}
			break;
		}
	argc = globals_first(argc, argv);
	/* '+': options end at the first command word, so key=value and
	 * "-f -" after the command are never taken for ours. */
	while ((o = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			json = true;
			break;
		case 's':
			sock = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'L':
			list = optarg;
			break;
		case 'T':
			c.timeout_ms = parse_timeout(optarg);
			if (c.timeout_ms < 0)
				return usage("--timeout takes a number of "
					     "seconds, from 0.001 to 86400");
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage(NULL);
		}
	}
	if (sock && url)
		return usage("--socket and --url exclude each other");
	if (!!url != !!token_file)
		return usage("--url and --token-file go together");
	if (url) {
		c.socket = NULL;
		c.url = url;
		if (!(c.token = read_token(token_file)))
			return 1;
	} else if (sock) {
		c.socket = sock;
	}
	if (list) {
		rc = list_words(&c, list);
		goto out_free;
	}
	if (optind >= argc) {
		rc = usage("a command is needed");
		goto out_free;
	}
	rc = cli_parse(argc - optind, argv + optind, &cmd, err, sizeof(err));
	if (rc) {
		rc = usage(err);
		goto out_free;
	}
	if (cmd.op == CLI_HELP) {
		fputs(usage_text, stdout);
		rc = 0;
		goto out_cmd;
	}
	rc = cli_request(&cmd, &r, err, sizeof(err));
	if (rc) {
		if (rc == -2) {
			fprintf(stderr, "nfchain: %s\n", err);
			rc = 1;
		} else {
			rc = usage(err);
		}
		goto out;
	}
	if (r.add_type && (rc = check_add(&c, &r)))
		goto out;
	if (cmd.op == CLI_NF_DUMP) {
		rc = cli_dump(&c, r.path, cmd.nf);
		goto out;
	}
	{
		char *body = r.raw;
		size_t len = r.raw_len;

		if (r.body) {
			body = json_dumps(r.body, JSON_COMPACT);
			len = body ? strlen(body) : 0;
		}
		if (r.view == V_COLL && !body && !cmd.key) {
			/* Printed as it comes: a listing may hold a million
			 * entries. */
			coll_out_init(&co, json);
			streamed = true;
			rc = http_call_each(&c, r.method, r.path, coll_out_elem,
					    &co, &status, &answer, err,
					    sizeof(err));
		} else {
			rc = http_call(&c, r.method, r.path, body, len,
				       r.content_type, &status, &answer, err,
				       sizeof(err));
		}
		if (body != r.raw)
			free(body);
	}
	if (streamed) {
		/* A listing that came as an array was printed as it came:
		 * what is still held goes out now (after an error too:
		 * the rows before it, then the error). */
		bool listed = !rc && status >= 200 && status <= 299 && !answer;

		if (listed || co.n)
			coll_out_end(&co);
		json_decref(co.first);
		if (listed) {
			rc = 0;
			goto out;
		}
	}
	if (rc) {
		fprintf(stderr, "nfchain: %s\n", err);
		rc = 1;
		goto out;
	}
	if (status < 200 || status > 299) {
		const char *msg =
			json_string_value(json_object_get(answer, "error"));

		fprintf(stderr, "nfchain: %s\n",
			msg ? msg : "the daemon refused the request");
		if (!msg)
			fprintf(stderr, "nfchain: HTTP status %ld\n", status);
		rc = 1;
		goto out;
	}
	if (json) {
		char *text = answer ? json_dumps(answer, JSON_INDENT(2)) : NULL;

		if (text)
			puts(text);
		free(text);
	} else {
		if (r.view == V_STATS || r.view == V_NF)
			drop_json_only(&c, answer);
		print_answer(r.view, answer, r.dry_run);
	}
	if (cmd.op == CLI_TYPE_LOAD &&
	    json_string_value(json_object_get(answer, "restore_pending")))
		fprintf(stderr,
			"nfchain: loaded; the restore still does not run: %s\n",
			json_string_value(
				json_object_get(answer, "restore_pending")));
	rc = 0;
out:
	json_decref(answer);
	cli_req_free(&r);
out_cmd:
	cli_cmd_free(&cmd);
out_free:
	free(c.token);
	return rc;
}
