// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Control-plane benchmark of nfchaind and the nfchain CLI:
 *   - CLI call latency, p50/p99, of `show` and of two kinds of change
 *     (a collection entry, a config value), each a whole process run as a
 *     user would run it; beside it the floor (the CLI's own start-up with
 *     no request) and the API alone over a kept-open connection;
 *   - time to apply a document with 1,000 NF config entries (static FDB
 *     entries of a bridge), from nothing, again (no-op), and with 10
 *     entries changed;
 *   - the daemon's RSS idle, after the apply, and its peak;
 *   - a bridge that has learned 60,000 stations (written into its FDB
 *     map as its data plane would): `show` and the idle daemon's CPU
 *     (the aging walk, in slices);
 *   - a firewall tracking 60,000 connections (written into its table):
 *     `show`, the idle daemon's CPU (the sweep, in slices), a flush.
 * Targets: p99 <= 5 ms, RSS idle <= 10 MB, after <= 20 MB. It starts its own
 * nfchaind on a private socket, state dir and pin root, and removes them at the
 * end.
 *
 *   - scale (--routes N, default 60,000; 0: skip): apply of 10,000
 *     routes from nothing and again (no-op), import of N routes from a
 *     file with the CLI, one more route after that, the daemon's RSS
 *     before, at its peak during and after the import, and the time a
 *     daemon killed with -9 takes to adopt that state and answer.
 *
 *   - firewall (--fw-rules N, default 10,000; 0: skip): N ClassBench-like
 *     rules (the firewall tests' generator) imported with --replace into
 *     an empty firewall by the CLI, three times: wall time and the
 *     daemon's CPU time (issue 15's target: 10,000 in <= 1 s).
 *
 *   - rules (--rules N, default 10,000; 0: skip): apply of a firewall
 *     with N rules from nothing and again (no-op).
 *
 * Applies print the daemon's CPU time beside their wall time: on a loaded
 * machine the wall time is mostly waiting for a CPU.
 *
 *   - blocklist (--blocklist N, default 1,000,000; 0: skip): the ddos
 *     NF's blocklist (nf/ddos), N /24 and /32 prefixes imported with
 *     `import --replace` by the CLI: import time (and the daemon's CPU),
 *     the same import again, one more entry (CLI and API), a whole
 *     listing (REST GET, streamed; the CLI's show, with its peak RSS),
 *     the daemon's RSS
 *     before, at its peak and after, and a kill -9 and restart with the
 *     list pinned: adoption time and the pings through dd0 lost
 *     meanwhile (a veth pair, one end in a namespace of its own).
 *
 *   nfc_ctlbench [--bin DIR] [--runs N] [--routes N] [--rules N] [--fw-rules N]
 *                [--blocklist N]
 *   (root; bpffs)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <glob.h>
#include <curl/curl.h>
#include <bpf/bpf.h>
#include <jansson.h>

#include "firewall/tests/fw_test.h"

extern char **environ;

static char bindir[512] = ".output/bin", sock[256], statedir[256], pin[256];
static pid_t daemon_pid;
static long rss_idle_kb;

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static long pid_kb(pid_t pid, const char *field);

/* Runs argv with stdout and stderr to /dev/null: its exit status or -1;
 * with maxrss_kb, its peak RSS (VmHWM) in KB, polled: the child's
 * ru_maxrss would count this process's memory too (the vfork'd image it
 * exec'd from). */
static int run_rss(char *const argv[], long *maxrss_kb)
{
	posix_spawn_file_actions_t fa;
	pid_t pid, w;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (maxrss_kb)
		*maxrss_kb = -1;
	while (maxrss_kb && (w = waitpid(pid, &st, WNOHANG)) == 0) {
		long kb = pid_kb(pid, "VmHWM:");

		if (kb > *maxrss_kb)
			*maxrss_kb = kb;
		usleep(10000);
	}
	if (!maxrss_kb)
		w = waitpid(pid, &st, 0);
	if (w < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run(char *const argv[])
{
	return run_rss(argv, NULL);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct lat {
	double p50, p99, max;
	int fails;
};

static struct lat stats(double *v, int n, int fails)
{
	struct lat l = {0};

	qsort(v, n, sizeof(double), cmpd);
	l.p50 = v[n / 2];
	l.p99 = v[(int)(n * 0.99) < n ? (int)(n * 0.99) : n - 1];
	l.max = v[n - 1];
	l.fails = fails;
	return l;
}

/* ---- the API over one kept-open libcurl handle -----------------------------
 */

static CURL *api_h;

static size_t sink(char *d, size_t s, size_t n, void *ctx)
{
	(void)d;
	(void)ctx;
	return s * n;
}

static long api(const char *method, const char *path, const char *body)
{
	char url[512];
	long st = 0;

	snprintf(url, sizeof(url), "http://nfchaind%s", path);
	curl_easy_setopt(api_h, CURLOPT_URL, url);
	curl_easy_setopt(api_h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(api_h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(api_h, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)(body ? strlen(body) : 0));
	if (!body)
		curl_easy_setopt(api_h, CURLOPT_HTTPGET, 1L);
	if (curl_easy_perform(api_h) != CURLE_OK)
		return -1;
	curl_easy_getinfo(api_h, CURLINFO_RESPONSE_CODE, &st);
	return st;
}

/* ---- the daemon
 * ---------------------------------------------------------------- */

static long pid_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = atol(line + strlen(field) + 1);
	if (f)
		fclose(f);
	return v;
}

static long rss_kb(const char *field)
{
	return pid_kb(daemon_pid, field);
}

/* The daemon's RSS once it has been idle long enough to give back what a
 * large call freed: it trims when no large request was answered for 2 s,
 * at its 1 s tick (daemon/loop.c), so that a burst of calls keeps its
 * pages instead of faulting them in again at each call. */
static long rss_settled_kb(void)
{
	usleep(3500000);
	return rss_kb("VmRSS:");
}

/* 50 ms polls before a start is declared failed (adopting a large state
 * takes long: the restart measurement waits more). */
static int start_polls = 100;

static int start_daemon(void)
{
	char exe[600];
	char *argv[] = {exe,	  "--socket",	sock, "--state-dir",
			statedir, "--pin-root", pin,  NULL};
	int devnull = open("/dev/null", O_WRONLY);

	snprintf(exe, sizeof(exe), "%s/nfchaind", bindir);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		dup2(devnull, 2);
		execv(exe, argv);
		_exit(127);
	}
	close(devnull);
	for (int i = 0; i < start_polls; i++) {
		if (api("GET", "/v1/nfs", NULL) == 200)
			return 0;
		usleep(50000);
	}
	fprintf(stderr, "ctlbench: %s did not start\n", exe);
	return -1;
}

static void stop_daemon(void)
{
	char exe[600];
	char *argv[] = {exe, "--pin-root", pin, "reset", NULL};

	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
	}
	snprintf(exe, sizeof(exe), "%s/nfctl", bindir);
	run(argv);
	rmdir(pin);
}

/* ---- measurements
 * ---------------------------------------------------------------- */

static double daemon_cpu_ms(void);
/* The daemon's CPU ms per call in the last cli_lat (warm-up included). */
static double call_cpu;

/* `nfchain --socket S <words>`, with %d in a word replaced by i. */
/* Runs of `exe words...` (with the daemon's socket when `sock_arg`): each
 * a whole process, spawned and waited for. */
static struct lat proc_lat(int runs, const char *exe, int sock_arg,
			   const char *const *words)
{
	double *v = calloc(runs, sizeof(double));
	char buf[8][64];
	char *argv[12];
	int fails = 0;

	double c0 = daemon_cpu_ms();

	for (int i = -20; i < runs; i++) {
		int a = 0, w;
		double t0;

		argv[a++] = (char *)exe;
		if (sock_arg) {
			argv[a++] = "--socket";
			argv[a++] = sock;
		}
		for (w = 0; words[w] && w < 8; w++) {
			snprintf(buf[w], sizeof(buf[w]), words[w],
				 (i + 20) & 0xff, ((i + 20) >> 8) & 0xff);
			argv[a++] = buf[w];
		}
		argv[a] = NULL;
		t0 = now_ms();
		if (run(argv) != 0)
			fails++;
		if (i >= 0)
			v[i] = now_ms() - t0;
	}
	call_cpu = (daemon_cpu_ms() - c0) / (runs + 20);
	struct lat l = stats(v, runs, fails);
	free(v);
	return l;
}

static struct lat cli_lat(int runs, const char *const *words)
{
	char exe[600];

	snprintf(exe, sizeof(exe), "%s/nfchain", bindir);
	return proc_lat(runs, exe, 1, words);
}

static struct lat api_lat(int runs, const char *method, const char *fmt)
{
	double *v = calloc(runs, sizeof(double));
	char body[256];
	int fails = 0;

	for (int i = -20; i < runs; i++) {
		double t0;
		long st;

		snprintf(body, sizeof(body), fmt ? fmt : "", (i + 20) & 0xff,
			 ((i + 20) >> 8) & 0xff);
		t0 = now_ms();
		st = fmt ? api(method, "/v1/nfs/br0/fdb", body)
			 : api(method, "/v1/nfs", NULL);
		if (st < 200 || st > 299)
			fails++;
		if (i >= 0)
			v[i] = now_ms() - t0;
	}
	struct lat l = stats(v, runs, fails);
	free(v);
	return l;
}

/* The document: what is running, plus `n` static FDB entries on br0
 * (MACs 02:00:00:01:xx:yy, `shift` moves the first ten). */
static char *doc_with_fdb(int n, int shift)
{
	json_t *doc =
		json_pack("{s:[{s:s,s:s,s:[{s:s}],s:{s:{}}}],s:[]}", "nfs",
			  "name", "br0", "type", "bridge", "ports", "name",
			  "p1", "collections", "fdb", "attachments");
	json_t *fdb = json_object_get(
		json_object_get(json_array_get(json_object_get(doc, "nfs"), 0),
				"collections"),
		"fdb");
	char key[32], *s;

	for (int i = 0; i < n; i++) {
		int k = i < 10 ? i + shift : i;

		snprintf(key, sizeof(key), "02:00:00:01:%02x:%02x", k >> 8,
			 k & 0xff);
		json_object_set_new(fdb, key, json_pack("{s:s}", "port", "p1"));
	}
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

/* The daemon's CPU time so far (user + system), in ms: on a loaded
 * machine the wall time of a call is mostly waiting for a CPU, and this
 * says what the call itself cost. */
static double daemon_cpu_ms(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", daemon_pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* After "pid (comm)": state is field 3, utime 14, stime 15. */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%lu %lu",
			 &ut, &st) != 2)
		return 0;
	return (ut + st) * 1000.0 / sysconf(_SC_CLK_TCK);
}

static double last_cpu; /* the daemon's CPU ms in the last timed_apply */

static double timed_apply(const char *doc, long *st)
{
	double t0 = now_ms(), c0 = daemon_cpu_ms();

	*st = api("PUT", "/v1/state", doc);
	last_cpu = daemon_cpu_ms() - c0;
	return now_ms() - t0;
}

static void row(const char *what, struct lat l, int runs);
static void row_cpu(const char *what, struct lat l, int runs);

/* Route i: /24s in 10.0.0.0/8, then /32s in 11.0.0.0/8. */
static void route_key(int i, char *key, size_t len)
{
	if (i < 40000)
		snprintf(key, len, "10.%d.%d.0/24", i >> 8 & 255, i & 255);
	else
		snprintf(key, len, "11.%d.%d.%d/32", i >> 16 & 255,
			 i >> 8 & 255, i & 255);
}

/* ---- scale: a router's routes --------------------------------------------
 */

/* The document: a router rs0 with one port and n routes (/24 and /32). */
static char *doc_with_routes(int n)
{
	json_t *doc =
		json_pack("{s:[{s:s,s:s,s:[{s:s,s:{s:s}}],s:{s:{}}}],s:[]}",
			  "nfs", "name", "rs0", "type", "router", "ports",
			  "name", "p1", "config", "ip", "203.0.113.1/24",
			  "collections", "routes", "attachments");
	json_t *set = json_object_get(
		json_object_get(json_array_get(json_object_get(doc, "nfs"), 0),
				"collections"),
		"routes");
	char key[32], *s;

	for (int i = 0; i < n; i++) {
		route_key(i, key, sizeof(key));
		json_object_set_new(
			set, key, json_pack("{s:s}", "nexthop", "203.0.113.9"));
	}
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

static void clear_hwm(void)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", daemon_pid);
	f = fopen(path, "w");
	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

/* ---- rules: a firewall's rule set (swapped as a whole) ---------------------
 */

/* A firewall fwb with n rules: accept or drop, udp, one port each
 * (flip: every rule's action the other one). */
static char *doc_with_rules(int n, int flip)
{
	json_t *doc = json_pack("{s:[{s:s,s:s,s:{s:s},s:{s:{}}}],s:[]}", "nfs",
				"name", "fwb", "type", "firewall", "config",
				"default", "drop", "collections", "rules",
				"attachments");
	json_t *set = json_object_get(
		json_object_get(json_array_get(json_object_get(doc, "nfs"), 0),
				"collections"),
		"rules");
	char key[16], port[16], *s;

	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%d", i + 1);
		snprintf(port, sizeof(port), "%d", 1 + i % 65535);
		json_object_set_new(
			set, key,
			json_pack("{s:s,s:s,s:s}", "action",
				  (i + flip) % 2 ? "accept" : "drop", "proto",
				  "udp", "dport", port));
	}
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

static void rules(int n)
{
	double t_apply, t_noop, c_apply, t_chg, c_chg, c_noop;
	char *d = doc_with_rules(n, 0), *d2 = doc_with_rules(n, 1);
	long st;

	printf("\nrules: firewall fwb, %d rules (udp, one port each)\n", n);
	api("PUT", "/v1/state", "{\"nfs\":[],\"attachments\":[]}");
	t_apply = timed_apply(d, &st);
	c_apply = last_cpu;
	if (st != 200)
		printf("  apply of %d rules failed: HTTP %ld\n", n, st);
	t_noop = timed_apply(d, &st);
	c_noop = last_cpu;
	/* A rule-set change alone: the NF exists, its program stays (no
	 * load, no verifier); only the other half's maps are written. */
	t_chg = timed_apply(d2, &st);
	c_chg = last_cpu;
	if (st != 200)
		printf("  apply of %d changed rules failed: HTTP %ld\n", n, st);
	free(d);
	free(d2);
	printf("  %-46s %8.1f ms  (NF created: program load and verifier; "
	       "daemon CPU %.0f ms)\n",
	       "apply of the rules from nothing", t_apply, c_apply);
	printf("  %-46s %8.1f ms  (target <= 50; daemon CPU %.0f ms)\n",
	       "no-op apply of it", t_noop, c_noop);
	printf("  %-46s %8.1f ms  (target <= 1000; daemon CPU %.0f ms)\n",
	       "apply with every rule's action changed", t_chg, c_chg);
	api("PUT", "/v1/state", "{\"nfs\":[],\"attachments\":[]}");
}

/* Runs an import (argv: the CLI call) and times it, with the daemon's
 * RSS before, at its peak during, and after it. */
struct imp {
	double ms, cpu;
	long rss0, peak, after;
	int rc;
};

static struct imp timed_import(char *const argv[])
{
	struct imp m;
	double t0, c0;

	m.rss0 = rss_kb("VmRSS:");
	clear_hwm();
	t0 = now_ms();
	c0 = daemon_cpu_ms();
	m.rc = run(argv);
	m.ms = now_ms() - t0;
	m.cpu = daemon_cpu_ms() - c0;
	m.peak = rss_kb("VmHWM:");
	m.after = rss_settled_kb();
	return m;
}

/* `model`: the entries went into the model, JSON objects, ~0.6 KB each
 * (docs/limits.md): the RSS targets are those of the 1,000,000
 * import, which goes to a store (the blocklist below), not of this. */
static void print_rss(const struct imp *m, const char *before, int model)
{
	printf("  %-46s %8.1f MB\n", before, m->rss0 / 1024.0);
	printf("  %-46s %8.1f MB  %s\n", "daemon RSS peak during the import",
	       m->peak / 1024.0,
	       model ? "(held in the model: no target)" : "(target <= 64)");
	printf("  %-46s %8.1f MB  %s\n", "daemon RSS after it (idle)",
	       m->after / 1024.0,
	       model ? "(held in the model: no target)" : "(target <= 20)");
}

/* One change of each kind on rs0 holding `what`: a config value (a map
 * write), a route added and deleted; the daemon's CPU a call beside. */
static void one_change_rows(const char *what, int runs)
{
	static const char *const set[] = {"rs0", "set", "arp_timeout=1%d",
					  NULL};
	static const char *const add[] = {
		"rs0", "routes", "add", "13.%d.%d.0/24", "nexthop=203.0.113.9",
		NULL};
	static const char *const del[] = {"rs0", "routes", "del",
					  "13.%d.%d.0/24", NULL};
	printf("  one change on rs0 with %s:\n", what);
	row_cpu("    CLI: rs0 set arp_timeout=N", cli_lat(runs, set), runs);
	row_cpu("    CLI: rs0 routes add <prefix>", cli_lat(runs, add), runs);
	row_cpu("    CLI: rs0 routes del <prefix>", cli_lat(runs, del), runs);
}

static void scale(int n, int runs)
{
	char file[300], exe[600], *d;
	char *argv[] = {exe,	  "--socket", sock, "rs0", "routes",
			"import", "-f",	      file, NULL};
	double t0, t_apply, t_noop, t_restart, c_apply;
	const char *e;
	struct imp m;
	long st, min;
	FILE *f;

	printf("\nscale: router rs0's routes (/24 and /32 prefixes)\n");
	d = doc_with_routes(0);
	api("PUT", "/v1/state", "{\"nfs\":[],\"attachments\":[]}");
	timed_apply(d, &st);
	free(d);
	one_change_rows("no routes", runs);
	d = doc_with_routes(10000);
	api("PUT", "/v1/state", "{\"nfs\":[],\"attachments\":[]}");
	t_apply = timed_apply(d, &st);
	c_apply = last_cpu;
	if (st != 200)
		printf("  apply of 10,000 routes failed: HTTP %ld\n", st);
	t_noop = timed_apply(d, &st);
	free(d);
	printf("  %-46s %8.1f ms  (target <= 1000; daemon CPU %.0f ms)\n",
	       "apply of 10,000 routes from nothing", t_apply, c_apply);
	printf("  %-46s %8.1f ms  (target <= 50; daemon CPU %.0f ms)\n",
	       "no-op apply of it", t_noop, last_cpu);

	snprintf(file, sizeof(file), "%s/routes.txt", statedir);
	f = fopen(file, "w");
	for (int i = 0; f && i < n; i++) {
		char key[32];

		route_key(i, key, sizeof(key));
		fprintf(f, "%s nexthop=203.0.113.9\n", key);
	}
	if (f)
		fclose(f);
	snprintf(exe, sizeof(exe), "%s/nfchain", bindir);
	m = timed_import(argv);
	printf("  %-46s %8.1f ms  (target <= 10000 for 1,000,000; daemon "
	       "CPU %.0f ms)%s\n",
	       "import of the routes (CLI, --replace-less)", m.ms, m.cpu,
	       m.rc ? " FAILED" : "");
	printf("  (%d routes: the router's table holds at most 524,288, "
	       "so not 1,000,000)\n",
	       n);
	/* Which path the import took (nf/router/README.md, "Many
	 * routes"): the RSS rows below mean different things. */
	e = getenv("NFC_RT_IMPORT_MIN");
	min = e && *e ? atol(e) : 65536;
	if (n < min)
		printf("  (fewer than %ld lines into routes the model "
		       "holds: kept in the model, a JSON object a "
		       "route; the store takes larger imports)\n",
		       min);
	else
		printf("  (%ld lines or more: kept in the router's "
		       "store, not in the model)\n",
		       min);
	{
		static const char *const more[] = {"rs0",
						   "routes",
						   "add",
						   "12.%d.%d.0/24",
						   "nexthop=203.0.113.9",
						   NULL};

		row_cpu("  CLI: one more route after that", cli_lat(runs, more),
			runs);
	}
	{
		char what[64];

		snprintf(what, sizeof(what), "%d routes", n);
		one_change_rows(what, runs);
	}
	print_rss(&m, "daemon RSS before the import", n < min);
	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, NULL, 0);
	t0 = now_ms();
	start_polls = 12000;
	if (start_daemon() == 0) {
		t_restart = now_ms() - t0;
		printf("  %-46s %8.1f ms  (packets lost: not measured here)\n",
		       "kill -9, start: adopted and answering", t_restart);
		printf("  %-46s %8.1f MB\n", "daemon RSS after adoption",
		       rss_kb("VmRSS:") / 1024.0);
	}
	unlink(file);
}

static void fw_ports_str(char *b, size_t len, const struct fw_range *r, int n)
{
	size_t o = 0;

	for (int i = 0; i < n && o < len; i++)
		o += snprintf(b + o, len - o, "%s%u-%u", i ? "," : "", r[i].lo,
			      r[i].hi);
}

static void fw_pfx_str(char *b, size_t len, const struct fw_pfx *p)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->fam == 6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
	snprintf(b, len, "%s/%u", a, p->plen);
}

/* Issue 15's apply target: n ClassBench-like rules into firewall fwc. */
static void fw_scale(int n)
{
	char file[300], empty[300], exe[600], b[400];
	char *argv[] = {exe,	  "--socket",  sock, "fwc", "rules",
			"import", "--replace", "-f", file,  NULL};
	double wall[3], cpu[3];
	__u64 seed = 1000 + n;
	FILE *f;
	int rc = 0;

	printf("\nfirewall fwc: %d ClassBench-like rules, import --replace "
	       "(CLI) into an empty set\n",
	       n);
	api("POST", "/v1/nfs", "{\"name\":\"fwc\",\"type\":\"firewall\"}");
	snprintf(file, sizeof(file), "%s/fw-rules.txt", statedir);
	snprintf(empty, sizeof(empty), "%s/fw-empty.txt", statedir);
	f = fopen(file, "w");
	for (int i = 0; f && i < n; i++) {
		struct fw_rule r;
		static const char *const act[] = {"", "accept", "drop",
						  "reject"};

		ft_rule(&seed, 10 * (i + 1), 1, &r);
		fprintf(f, "%u action=%s", r.num, act[r.action & 3]);
		if (r.src.fam) {
			fw_pfx_str(b, sizeof(b), &r.src);
			fprintf(f, " src=%s", b);
		}
		if (r.dst.fam) {
			fw_pfx_str(b, sizeof(b), &r.dst);
			fprintf(f, " dst=%s", b);
		}
		if (r.proto >= 0)
			fprintf(f, " proto=%d", r.proto);
		if (r.nsport) {
			fw_ports_str(b, sizeof(b), r.sport, r.nsport);
			fprintf(f, " sport=%s", b);
		}
		if (r.ndport) {
			fw_ports_str(b, sizeof(b), r.dport, r.ndport);
			fprintf(f, " dport=%s", b);
		}
		fprintf(f, "\n");
	}
	if (f)
		fclose(f);
	f = fopen(empty, "w");
	if (f)
		fclose(f);
	snprintf(exe, sizeof(exe), "%s/nfchain", bindir);
	for (int k = 0; k < 3; k++) {
		double t0, c0;

		argv[8] = empty;
		rc |= run(argv);
		argv[8] = file;
		c0 = daemon_cpu_ms();
		t0 = now_ms();
		rc |= run(argv);
		wall[k] = now_ms() - t0;
		cpu[k] = daemon_cpu_ms() - c0;
	}
	if (rc) {
		/* Why, once more with the CLI's message shown. */
		char cmd[1400];

		snprintf(cmd, sizeof(cmd),
			 "%s --socket %s fwc rules import --replace -f %s 2>&1 "
			 "| head -3",
			 exe, sock, file);
		if (system(cmd))
			rc = -1;
	}
	qsort(wall, 3, sizeof(double), cmpd);
	qsort(cpu, 3, sizeof(double), cmpd);
	printf("  %-46s %8.1f ms  (target <= 1000)%s\n",
	       "apply, wall (median of 3)", wall[1], rc ? " FAILED" : "");
	printf("  %-46s %8.1f ms  (min %.1f, max %.1f)\n",
	       "  the daemon's CPU time in it (median)", cpu[1], cpu[0],
	       cpu[2]);
	printf("  (a loaded machine: the wall time is mostly waiting for a "
	       "CPU; the CPU time is what an idle one would take)\n");
	api("DELETE", "/v1/nfs/fwc", NULL);
	unlink(file);
	unlink(empty);
}

/* ---- blocklist: the ddos NF's 1,000,000 prefixes ------------------------
 */

static size_t count_sink(char *d, size_t s, size_t n, void *ctx)
{
	(void)d;
	*(size_t *)ctx += s * n;
	return s * n;
}

/* Prefix i: /24s in 20.0.0.0/8 and up, then /32s in 100.0.0.0/8. */
static void blk_key(int i, int n, char *key, size_t len)
{
	if (i < n / 2)
		snprintf(key, len, "%d.%d.%d.0/24", 20 + (i >> 16),
			 i >> 8 & 255, i & 255);
	else
		snprintf(key, len, "100.%d.%d.%d/32", (i - n / 2) >> 16 & 255,
			 (i - n / 2) >> 8 & 255, (i - n / 2) & 255);
}

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void blocklist(int n, int runs)
{
	char file[300], exe[600], ns[32], veth[16], body[128], out[300];
	char *argv[] = {exe,	  "--socket",  sock, "dd0", "blocklist",
			"import", "--replace", "-f", file,  NULL};
	char *ping[] = {"/usr/sbin/ip", "netns", "exec",	 ns,
			"ping",		"-q",	 "-i",		 "0.005",
			"-W",		"1",	 "198.51.100.1", NULL};
	double t0, t_get, t_restart = -1, *v, c0, c1;
	long gpeak, st;
	struct imp m;
	int rc;
	size_t bytes = 0;
	int fails = 0, sent = -1, recv = -1, netok;
	pid_t pp = -1;
	FILE *f;

	printf("\nblocklist: ddos dd0's blocklist, %d prefixes (/24 and /32), "
	       "import --replace\n",
	       n);
	snprintf(ns, sizeof(ns), "nfcb%d", getpid());
	snprintf(veth, sizeof(veth), "nfcb%da", getpid());
	netok = !sh("ip netns add %s && ip link add %s type veth peer name "
		    "%sb && ip link set %sb netns %s && ip addr add "
		    "198.51.100.1/24 dev %s && ip link set %s up && ip -n %s "
		    "addr add 198.51.100.2/24 dev %sb && ip -n %s link set %sb "
		    "up && ip -n %s link set lo up",
		    ns, veth, veth, veth, ns, veth, veth, ns, veth, ns, veth,
		    ns);
	api("POST", "/v1/nfs", "{\"name\":\"dd0\",\"type\":\"ddos\"}");
	snprintf(body, sizeof(body), "{\"nf\":\"dd0\",\"target\":\"%s\"}",
		 veth);
	if (netok && api("POST", "/v1/attachments", body) != 201)
		netok = 0;
	snprintf(file, sizeof(file), "%s/feed.txt", statedir);
	f = fopen(file, "w");
	for (int i = 0; f && i < n; i++) {
		char key[32];

		blk_key(i, n, key, sizeof(key));
		fprintf(f, "%s\n", key);
	}
	if (f)
		fclose(f);
	snprintf(exe, sizeof(exe), "%s/nfchain", bindir);
	{
		static const char *const first[] = {"dd0", "blocklist", "add",
						    "32.%d.%d.0/24", NULL};

		row_cpu("  CLI: an entry into the empty list",
			cli_lat(runs, first), runs);
	}
	m = timed_import(argv);
	printf("  %-46s %8.1f ms  (target <= 10000; daemon CPU %.0f ms)%s\n",
	       "import --replace (CLI)", m.ms, m.cpu, m.rc ? " FAILED" : "");
	/* Again: the second replace also empties the copy the first
	 * switched away from (what the ticks have not emptied yet). */
	t0 = now_ms();
	c1 = daemon_cpu_ms();
	rc = run(argv);
	printf("  %-46s %8.1f ms  (daemon CPU %.1f ms)%s\n",
	       "the same import --replace again", now_ms() - t0,
	       daemon_cpu_ms() - c1, rc ? " FAILED" : "");
	{
		static const char *const more[] = {"dd0", "blocklist", "add",
						   "30.%d.%d.0/24", NULL};

		row_cpu("  CLI: one more entry after that", cli_lat(runs, more),
			runs);
	}
	v = calloc(runs, sizeof(double));
	c0 = daemon_cpu_ms();
	for (int i = -20; i < runs; i++) {
		double t1;

		snprintf(body, sizeof(body), "{\"key\":\"31.%d.%d.0/24\"}",
			 (i + 20) >> 8 & 255, (i + 20) & 255);
		t1 = now_ms();
		st = api("POST", "/v1/nfs/dd0/blocklist", body);
		if (st != 201)
			fails++;
		if (i >= 0)
			v[i] = now_ms() - t1;
	}
	call_cpu = (daemon_cpu_ms() - c0) / (runs + 20);
	row_cpu("  API: one more entry (kept-open connection)",
		stats(v, runs, fails), runs);
	free(v);
	clear_hwm();
	curl_easy_setopt(api_h, CURLOPT_WRITEFUNCTION, count_sink);
	curl_easy_setopt(api_h, CURLOPT_WRITEDATA, &bytes);
	t0 = now_ms();
	st = api("GET", "/v1/nfs/dd0/blocklist", NULL);
	t_get = now_ms() - t0;
	curl_easy_setopt(api_h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(api_h, CURLOPT_WRITEDATA, NULL);
	gpeak = rss_kb("VmHWM:");
	printf("  %-46s %8.1f ms  (%zu bytes, HTTP %ld)\n",
	       "GET of the whole list (streamed)", t_get, bytes, st);
	{
		char *show[] = {exe,	     "--socket", sock, "dd0",
				"blocklist", "show",	 NULL};
		long cli_rss;

		t0 = now_ms();
		rc = run_rss(show, &cli_rss);
		printf("  %-46s %8.1f ms  (CLI peak RSS %.1f MB)%s\n",
		       "nfchain dd0 blocklist show (whole list)", now_ms() - t0,
		       cli_rss / 1024.0, rc ? " FAILED" : "");
	}
	printf("  %-46s %8.1f MB  (target <= 10)\n", "daemon RSS idle",
	       rss_idle_kb / 1024.0);
	print_rss(&m, "daemon RSS before the import (dd0 loaded)", 0);
	printf("  %-46s %8.1f MB\n", "daemon RSS peak during the GET",
	       gpeak / 1024.0);
	/* kill -9 and a restart with the list pinned, pings through dd0. */
	snprintf(out, sizeof(out), "%s/ping.txt", statedir);
	if (netok) {
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(
			&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
						 0);
		if (posix_spawn(&pp, ping[0], &fa, NULL, ping, environ))
			pp = -1;
		posix_spawn_file_actions_destroy(&fa);
		usleep(500000);
	}
	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, NULL, 0);
	t0 = now_ms();
	start_polls = 12000;
	if (start_daemon() == 0)
		t_restart = now_ms() - t0;
	if (pp > 0) {
		char line[256];

		usleep(500000);
		kill(pp, SIGINT);
		waitpid(pp, NULL, 0);
		f = fopen(out, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "transmitted"))
				sscanf(line, "%d packets transmitted, %d",
				       &sent, &recv);
		if (f)
			fclose(f);
	}
	printf("  %-46s %8.1f ms\n", "kill -9, start: adopted and answering",
	       t_restart);
	if (sent >= 0)
		printf("  %-46s %5d of %d  (target 0)\n",
		       "  pings through dd0 lost meanwhile", sent - recv, sent);
	else
		printf("  %-46s %s\n", "  pings through dd0 lost meanwhile",
		       "not measured (no veth pair)");
	printf("  %-46s %8.1f MB\n", "daemon RSS after adoption",
	       rss_kb("VmRSS:") / 1024.0);
	sh("ip netns del %s 2>/dev/null; ip link del %s 2>/dev/null", ns, veth);
	unlink(file);
	unlink(out);
}

/* Writes n entries into the pinned map `map` of NF `nf` (under pin), as its
 * data plane would have made them. 0 or -1. */
static int fill_map(const char *nf, const char *map, const void *k,
		    const void *v, int n)
{
	char pat[300];
	glob_t g = {0};
	__u32 cnt = n;
	int fd = -1, r = -1;

	snprintf(pat, sizeof(pat), "%s/nf/*-%s/map/%s", pin, nf, map);
	if (k && v && !glob(pat, 0, NULL, &g) && g.gl_pathc == 1)
		fd = bpf_obj_get(g.gl_pathv[0]);
	if (fd >= 0) {
		r = bpf_map_update_batch(fd, k, v, &cnt, NULL) ||
		    cnt != (__u32)n;
		close(fd);
	}
	globfree(&g);
	return r;
}

static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* br0 as if it had learned n stations, entries as bridge.bpf.c makes
 * them (VLAN 0, port p1, seen now). */
static int fill_fdb(int n)
{
	struct fdb_key {
		__u16 vid;
		__u8 mac[6];
	} *k = calloc(n, sizeof(*k));
	struct fdb_val {
		__u32 port, pad;
		__u64 seen;
	} *v = calloc(n, sizeof(*v));
	__u64 now = coarse_ns();
	int r;

	for (int i = 0; k && v && i < n; i++) {
		k[i].mac[0] = 2;
		k[i].mac[1] = 0xfd;
		k[i].mac[3] = i >> 16;
		k[i].mac[4] = i >> 8;
		k[i].mac[5] = i;
		v[i].seen = now;
	}
	r = fill_map("br0", "br_fdb", k, v, n);
	free(k);
	free(v);
	return r;
}

/* fwk's conntrack table as if it tracked n UDP flows, answered and fresh
 * (bpf/ct_common.h's key and entry; state replied). */
static int fill_ct(int n)
{
	struct ct_key {
		__u32 a[4], b[4];
		__u16 pa, pb;
		__u8 proto, family;
		__u16 pad;
	} *k = calloc(n, sizeof(*k));
	struct ct_entry {
		__u64 last, packets[2], bytes[2];
		__u8 state, flags;
		__u16 pad;
		__u32 nf_data[5];
	} *v = calloc(n, sizeof(*v));
	__u64 now = coarse_ns();
	int r;

	for (int i = 0; k && v && i < n; i++) {
		k[i].a[0] = htonl(0xc6336400 | 1); /* 198.51.100.1 */
		k[i].b[0] = htonl(0xcb007100 | 2); /* 203.0.113.2 */
		k[i].pa = htons(1024 + i % 60000);
		k[i].pb = htons(53 + i / 60000);
		k[i].proto = 17;
		k[i].family = 4;
		v[i].last = now;
		v[i].state = 8; /* NFCT_S_REPLIED */
	}
	r = fill_map("fwk", "ct_table", k, v, n);
	free(k);
	free(v);
	return r;
}

/* `show` on a daemon holding a large table, and its CPU while idle (the
 * tick's walks over it). */
static void show_and_idle(int runs, const char *ticks)
{
	static const char *const show[] = {"show", NULL};
	double c0;

	row("CLI: nfchain show", cli_lat(runs, show), runs);
	/* /proc counts CPU time in 10 ms ticks: 10 s give 1 ms a second. */
	c0 = daemon_cpu_ms();
	sleep(10);
	printf("  %-42s %8.1f ms a second (%s)\n", "idle daemon's CPU",
	       (daemon_cpu_ms() - c0) / 10, ticks);
}

static void big_fdb(int runs)
{
	printf("\nbridge br0 with 60,000 learned stations (fdb_size 65,536)\n");
	if (fill_fdb(60000)) {
		printf("  (could not write br0's FDB map)\n");
		return;
	}
	show_and_idle(runs, "aging walk in slices");
}

static void big_ct(int runs)
{
	char *flush[] = {NULL,	      "--socket", sock, "fwk",
			 "conntrack", "flush",	  NULL};
	char exe[600];
	double t0;
	int rc;

	printf("\nfirewall fwk tracking 60,000 connections (table 65,536)\n");
	if (api("POST", "/v1/nfs",
		"{\"name\":\"fwk\",\"type\":\"firewall\","
		"\"config\":{\"conntrack\":\"on\"}}") != 201 ||
	    fill_ct(60000)) {
		printf("  (could not make fwk or write its table)\n");
		return;
	}
	show_and_idle(runs, "sweep in slices");
	snprintf(exe, sizeof(exe), "%s/nfchain", bindir);
	flush[0] = exe;
	t0 = now_ms();
	rc = run(flush);
	printf("  %-42s %8.1f ms%s\n", "nfchain fwk conntrack flush",
	       now_ms() - t0, rc ? " FAILED" : "");
	api("DELETE", "/v1/nfs/fwk", NULL);
}

static void row(const char *what, struct lat l, int runs)
{
	printf("%-44s %7.2f %7.2f %7.2f  %s%s\n", what, l.p50, l.p99, l.max,
	       l.p99 <= 5.0 ? "ok" : "OVER",
	       l.fails ? " (some calls failed!)" : "");
	(void)runs;
}

/* A row with the daemon's CPU per call beside it: on a loaded machine
 * the wall time is mostly waiting; this says what one change cost. */
static void row_cpu(const char *what, struct lat l, int runs)
{
	row(what, l, runs);
	printf("  %-42s %7.2f ms of daemon CPU a call\n", "", call_cpu);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bin", required_argument, NULL, 'b'},
		{"runs", required_argument, NULL, 'r'},
		{"routes", required_argument, NULL, 'n'},
		{"rules", required_argument, NULL, 'R'},
		{"fw-rules", required_argument, NULL, 'f'},
		{"blocklist", required_argument, NULL, 'B'},
		{0},
	};
	int runs = 300, o, nroutes = 60000, nrules = 10000, nfw = 10000;
	int nblock = 1000000;
	long st, rss_idle, rss_after, rss_peak;
	char *d0, *d1;
	double t_first, t_noop, t_ten;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'b')
			snprintf(bindir, sizeof(bindir), "%s", optarg);
		else if (o == 'r')
			runs = atoi(optarg);
		else if (o == 'n')
			nroutes = atoi(optarg);
		else if (o == 'f')
			nfw = atoi(optarg);
		else if (o == 'R')
			nrules = atoi(optarg);
		else if (o == 'B')
			nblock = atoi(optarg);
		else
			return 2;
	}
	snprintf(sock, sizeof(sock), "/tmp/nfc-ctlbench-%d.sock", getpid());
	snprintf(statedir, sizeof(statedir), "/tmp/nfc-ctlbench-%d", getpid());
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/nfc-ctlbench-%d", getpid());
	{
		char feeds[300];

		/* The ddos NF keeps its feed beside the state, not in
		 * /var/lib/nfchain. */
		snprintf(feeds, sizeof(feeds), "%s/feeds", statedir);
		setenv("NFC_DDOS_FEED_DIR", feeds, 1);
	}
	curl_global_init(CURL_GLOBAL_NOTHING);
	api_h = curl_easy_init();
	curl_easy_setopt(api_h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(api_h, CURLOPT_WRITEFUNCTION, sink);
	if (start_daemon())
		return 1;
	usleep(300000);
	rss_idle = rss_idle_kb = rss_kb("VmRSS:");

	/* A small realistic state: a forwarder, a counter attached to it, a
	 * bridge with a port. */
	api("POST", "/v1/nfs", "{\"name\":\"fw0\",\"type\":\"forwarder\"}");
	api("POST", "/v1/nfs/fw0/ports", "{\"name\":\"p1\"}");
	api("POST", "/v1/nfs", "{\"name\":\"cnt0\",\"type\":\"counter\"}");
	api("POST", "/v1/attachments",
	    "{\"nf\":\"cnt0\",\"target\":\"fw0:p1\"}");
	api("POST", "/v1/nfs", "{\"name\":\"br0\",\"type\":\"bridge\"}");
	api("POST", "/v1/nfs/br0/ports", "{\"name\":\"p1\"}");
	api("POST", "/v1/nfs", "{\"name\":\"r0\",\"type\":\"router\"}");

	printf("nfchaind control plane, %d runs each (ms)\n\n", runs);
	printf("%-44s %7s %7s %7s  %s\n", "call", "p50", "p99", "max",
	       "p99<=5ms");
	{
		static const char *const help[] = {"--help", NULL};
		static const char *const show[] = {"show", NULL};
		static const char *const fdb[] = {
			"br0",	   "fdb", "add", "02:00:00:02:%02x:%02x",
			"port=p1", NULL};
		static const char *const fdbdel[] = {
			"br0", "fdb", "del", "02:00:00:02:%02x:%02x", NULL};
		static const char *const set[] = {"cnt0", "set", "mark=%d",
						  NULL};
		static const char *const rset[] = {"r0", "set",
						   "arp_timeout=1%d", NULL};

		static const char *const none[] = {NULL};
		char hello[600];

		/* The floor no CLI goes below on this machine: a process
		 * spawned and waited for, with the dynamic loader and libc
		 * (what the CLI keeps), and without (a static binary). */
		snprintf(hello, sizeof(hello), "%s/nfc_hello_static", bindir);
		row("floor: spawn of /bin/true (loader + libc)",
		    proc_lat(runs, "/bin/true", 0, none), runs);
		row("floor: spawn of a static hello (no loader)",
		    proc_lat(runs, hello, 0, none), runs);
		row("CLI start-up alone (nfchain --help)", cli_lat(runs, help),
		    runs);
		row("CLI: nfchain show", cli_lat(runs, show), runs);
		row("CLI: nfchain br0 fdb add <mac> port=p1",
		    cli_lat(runs, fdb), runs);
		cli_lat(runs, fdbdel);
		row("CLI: nfchain r0 set arp_timeout=N (a map)",
		    cli_lat(runs, rset), runs);
		row("CLI: nfchain cnt0 set mark=N (run-time var)",
		    cli_lat(runs, set), runs);
		row("API: GET /v1/nfs (kept-open connection)",
		    api_lat(runs, "GET", NULL), runs);
		row("API: POST /v1/nfs/br0/fdb",
		    api_lat(runs, "POST",
			    "{\"key\":\"02:00:00:03:%02x:%02x\","
			    "\"fields\":{\"port\":\"p1\"}}"),
		    runs);
	}

	d0 = doc_with_fdb(1000, 0);
	d1 = doc_with_fdb(1000, 2000);
	api("PUT", "/v1/state", "{\"nfs\":[],\"attachments\":[]}");
	t_first = timed_apply(d0, &st);
	if (st != 200)
		printf("apply of 1,000 entries failed: HTTP %ld\n", st);
	t_noop = timed_apply(d0, &st);
	t_ten = timed_apply(d1, &st);
	rss_after = rss_settled_kb();
	rss_peak = rss_kb("VmHWM:");
	printf("\napply a document with 1,000 NF config entries (bridge br0, "
	       "static FDB), %zu bytes\n",
	       strlen(d0));
	printf("  %-42s %8.1f ms\n", "from nothing (NF load + 1,000 entries)",
	       t_first);
	printf("  %-42s %8.1f ms\n", "the same document again (no-op)", t_noop);
	printf("  %-42s %8.1f ms\n", "with 10 entries changed", t_ten);
	printf("\nnfchaind RSS\n");
	printf("  %-42s %8.1f MB  %s\n", "idle, just started",
	       rss_idle / 1024.0, rss_idle <= 10 * 1024 ? "ok" : "OVER 10 MB");
	printf("  %-42s %8.1f MB  %s\n", "after the 1,000-entry apply (idle)",
	       rss_after / 1024.0,
	       rss_after <= 20 * 1024 ? "ok" : "OVER 20 MB");
	printf("  %-42s %8.1f MB\n", "peak (VmHWM)", rss_peak / 1024.0);
	free(d0);
	free(d1);
	big_fdb(runs);
	big_ct(runs);
	if (nrules > 0)
		rules(nrules);
	if (nfw > 0)
		fw_scale(nfw);
	/* Every latency row takes `runs` calls: a p99 of 20 or 100 calls is
	 * their maximum, one stall of the guest, not a percentile. */
	if (nroutes > 0)
		scale(nroutes, runs);
	if (nblock > 0) {
		/* A daemon of its own, from nothing: the routes' import
		 * left its heap. */
		api("PUT", "/v1/state", "{\"nfs\":[],\"attachments\":[]}");
		stop_daemon();
		start_polls = 100;
		if (start_daemon() == 0) {
			usleep(300000);
			rss_idle_kb = rss_kb("VmRSS:");
			blocklist(nblock, runs);
		}
	}
	stop_daemon();
	curl_easy_cleanup(api_h);
	unlink(sock);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", statedir);
		if (system(cmd))
			return 1;
	}
	return 0;
}
