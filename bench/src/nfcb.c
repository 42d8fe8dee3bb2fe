// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfcb: the benchmark's one userspace tool. The harness (bench/run) builds
 * namespaces and calls it inside them (nsenter --net keeps our bpffs mount):
 *
 *   nfcb gen   --dev IF --dst-mac MAC --count N [...]  run the generator
 *              [--cpus 0,1,...]                     one per CPU, at once
 *              [--family 6 [--src6 A --dst6 A]]     IPv6 frames
 *              [--syn]                              IPv4 TCP SYNs
 *   nfcb sink  attach --dev IF --pin DIR                count-and-drop sink
 *   nfcb sink  read --pin DIR                           print its counters
 *   nfcb hop   attach --dev IF --to IF2 --pin DIR       the floor: one bare
 *                                                       XDP redirect hop
 *   nfcb hop   read --pin DIR
 *   nfcb micro [--case LABEL:HOPS:PIN|NETDEV]...       ns/packet table
 *
 * Attachments are bpf_links pinned under DIR, so they outlive this process
 * and disappear with the pins (the harness removes DIR on exit). Every
 * result is one JSON object on stdout; errors go to stderr and exit 1.
 *
 * One file (~900 lines): a self-contained tool the harness builds apart
 * from the library (it links libbpf only), its subcommands each a section.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/types.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.h"
#include "gen.skel.h"
#include "sink.skel.h"
#include "hop.skel.h"

/* Debian's 6.1 uapi header may predate it (kernel 5.18). */
#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

static const char *prog_name = "nfcb";

static void die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* libbpf's warnings carry the verifier log when a load fails: keep them. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static unsigned long parse_ulong(const char *what, const char *s,
				 unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max)
		die("%s: '%s' is not a number in [%lu, %lu]", what, s, min,
		    max);
	return v;
}

static void parse_mac(const char *what, const char *s, __u8 mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		die("%s: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", what,
		    s);
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			die("%s: '%s' is not a MAC address", what, s);
		mac[i] = b[i];
	}
}

static __u32 parse_ip4(const char *what, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		die("%s: '%s' is not an IPv4 address", what, s);
	return ntohl(a.s_addr);
}

/* An IPv6 address as the generator takes it: 96 bits of prefix, and the
 * last 32 (host order) from which the flows count up. */
static void parse_ip6(const char *what, const char *s, __u8 pfx[12], __u32 *low)
{
	__u8 a[16];

	if (inet_pton(AF_INET6, s, a) != 1)
		die("%s: '%s' is not an IPv6 address", what, s);
	memcpy(pfx, a, 12);
	*low = (__u32)a[12] << 24 | (__u32)a[13] << 16 | (__u32)a[14] << 8 |
	       a[15];
}

static int ifindex_of(const char *dev)
{
	int idx = if_nametoindex(dev);

	if (!idx)
		die("netdev %s: %s (in this network namespace)", dev,
		    strerror(errno));
	return idx;
}

static void mac_of(const char *dev, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("MAC address of %s: %s", dev, strerror(errno));
	close(fd);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("pinning to CPU %d: %s", cpu, strerror(errno));
}

static int default_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	/* The last CPU: CPU 0 takes most of the machine's other interrupts. */
	return n > 1 ? (int)n - 1 : 0;
}

/* Sum slot `slot` of a per-CPU __u64 array over all possible CPUs. */
static __u64 percpu_sum(int map_fd, __u32 slot)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v, sum = 0;

	if (ncpu <= 0)
		die("counting CPUs: %s", strerror(-ncpu));
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		die("out of memory");
	if (bpf_map_lookup_elem(map_fd, &slot, v))
		die("reading counter slot %u: %s", slot, strerror(errno));
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	free(v);
	return sum;
}

static void pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		die("pin path %s/%s too long", dir, name);
}

static void make_pin_dir(const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		die("creating pin directory %s: %s (is bpffs mounted on "
		    "/sys/fs/bpf?)",
		    dir, strerror(errno));
}

/* Attach `prog` at XDP (native) on `ifindex` through a bpf_link pinned at
 * DIR/link, and pin its counter map at DIR/count. */
/* Hooks a program can be attached to (the hop's --mode). */
enum hook { HOOK_XDP, HOOK_XDP_GENERIC, HOOK_TC };

static void attach_pinned_at(struct bpf_program *prog, struct bpf_map *map,
			     const char *dev, const char *dir, enum hook hook)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	enum bpf_attach_type at = BPF_XDP;
	char path[PATH_MAX];
	int fd, err;

	make_pin_dir(dir);
	if (hook == HOOK_XDP_GENERIC)
		opts.flags = 1U << 1; /* XDP_FLAGS_SKB_MODE */
	if (hook == HOOK_TC)
		at = 46; /* BPF_TCX_INGRESS: older headers lack the name */
	fd = bpf_link_create(bpf_program__fd(prog), ifindex_of(dev), at, &opts);
	if (fd < 0)
		die("attaching program %s to %s: %s", bpf_program__name(prog),
		    dev, strerror(errno));
	pin_path(path, sizeof(path), dir, "link");
	if (bpf_obj_pin(fd, path))
		die("pinning the link of %s on %s at %s: %s",
		    bpf_program__name(prog), dev, path, strerror(errno));
	close(fd); /* the pin keeps it */
	pin_path(path, sizeof(path), dir, "count");
	err = bpf_map__pin(map, path);
	if (err)
		die("pinning the counters of %s at %s: %s",
		    bpf_program__name(prog), path, strerror(-err));
}

static void attach_pinned(struct bpf_program *prog, struct bpf_map *map,
			  const char *dev, const char *dir)
{
	attach_pinned_at(prog, map, dev, dir, HOOK_XDP);
}

static int open_counters(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	pin_path(path, sizeof(path), dir, "count");
	fd = bpf_obj_get(path);
	if (fd < 0)
		die("opening counters %s: %s", path, strerror(errno));
	return fd;
}

/* ---- sink --------------------------------------------------------------- */

static int cmd_sink(int argc, char **argv)
{
	const char *dev = NULL, *dir = NULL, *verb;
	static const struct option opts[] = {
		{"dev", required_argument, NULL, 'd'},
		{"pin", required_argument, NULL, 'p'},
		{},
	};
	int c;

	if (argc < 2)
		die("sink: attach --dev IF --pin DIR | read --pin DIR");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'p':
			dir = optarg;
			break;
		default:
			die("sink: unknown option");
		}
	}
	if (!dir)
		die("sink %s: --pin DIR is required", verb);
	if (!strcmp(verb, "attach")) {
		struct sink_bpf *skel;

		if (!dev)
			die("sink attach: --dev IF is required");
		skel = sink_bpf__open_and_load();
		if (!skel)
			die("loading the sink program: %s", strerror(errno));
		attach_pinned(skel->progs.nfcb_sink, skel->maps.nfcb_count, dev,
			      dir);
		sink_bpf__destroy(skel);
		return 0;
	}
	if (!strcmp(verb, "read")) {
		int fd = open_counters(dir);

		printf("{\"rx\":%llu,\"rx_bytes\":%llu,\"foreign\":%llu}\n",
		       (unsigned long long)percpu_sum(fd, NFCB_RX),
		       (unsigned long long)percpu_sum(fd, NFCB_RX_BYTES),
		       (unsigned long long)percpu_sum(fd, NFCB_FOREIGN));
		close(fd);
		return 0;
	}
	die("sink: unknown verb '%s' (attach, read)", verb);
}

/* ---- hop (the floor) ----------------------------------------------------- */

static int cmd_hop(int argc, char **argv)
{
	const char *dev = NULL, *to = NULL, *dir = NULL, *verb;
	unsigned long drop_every = 0;
	enum hook hook = HOOK_XDP;
	static const struct option opts[] = {
		{"dev", required_argument, NULL, 'd'},
		{"to", required_argument, NULL, 't'},
		{"pin", required_argument, NULL, 'p'},
		{"drop-every", required_argument, NULL, 'x'},
		{"mode", required_argument, NULL, 'm'},
		{},
	};
	int c;

	if (argc < 2)
		die("hop: attach --dev IF --to IF2 --pin DIR [--drop-every N] "
		    "[--mode xdp|xdp-generic|tc] | read --pin DIR");
	verb = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'p':
			dir = optarg;
			break;
		case 'x':
			drop_every = parse_ulong("--drop-every", optarg, 0,
						 UINT32_MAX);
			break;
		case 'm':
			if (!strcmp(optarg, "xdp"))
				hook = HOOK_XDP;
			else if (!strcmp(optarg, "xdp-generic"))
				hook = HOOK_XDP_GENERIC;
			else if (!strcmp(optarg, "tc"))
				hook = HOOK_TC;
			else
				die("hop: --mode %s: want xdp, xdp-generic or "
				    "tc",
				    optarg);
			break;
		default:
			die("hop: unknown option");
		}
	}
	if (!dir)
		die("hop %s: --pin DIR is required", verb);
	if (!strcmp(verb, "attach")) {
		struct hop_bpf *skel;

		if (!dev || !to)
			die("hop attach: --dev IF and --to IF2 are required");
		skel = hop_bpf__open();
		if (!skel)
			die("opening the hop program: %s", strerror(errno));
		if (hook == HOOK_TC && drop_every)
			die("hop attach: --drop-every is for XDP only");
		skel->rodata->out_ifindex = ifindex_of(to);
		skel->rodata->drop_every = drop_every;
		/* The micro benchmark's empty program is not needed here, nor
		 * the hop of the other hook type. */
		bpf_program__set_autoload(skel->progs.nfcb_empty, false);
		bpf_program__set_autoload(hook == HOOK_TC
						  ? skel->progs.nfcb_hop
						  : skel->progs.nfcb_hop_tc,
					  false);
		if (hop_bpf__load(skel))
			die("loading the hop program: %s", strerror(errno));
		attach_pinned_at(hook == HOOK_TC ? skel->progs.nfcb_hop_tc
						 : skel->progs.nfcb_hop,
				 skel->maps.nfcb_count, dev, dir, hook);
		hop_bpf__destroy(skel);
		return 0;
	}
	if (!strcmp(verb, "read")) {
		int fd = open_counters(dir);

		/* Only counted when --drop-every was set (the bare hop counts
		 * nothing). */
		printf("{\"seen\":%llu,\"dropped\":%llu}\n",
		       (unsigned long long)percpu_sum(fd, NFCB_RX),
		       (unsigned long long)percpu_sum(fd, NFCB_DROPPED));
		close(fd);
		return 0;
	}
	die("hop: unknown verb '%s' (attach, read)", verb);
}

/* ---- generator ------------------------------------------------------------
 */

/* One CPU's line of /proc/stat, in USER_HZ ticks. */
struct cpu_ticks {
	unsigned long long user, nice, system, idle, iowait, irq, softirq,
		steal;
};

static bool cpu_ticks(int cpu, struct cpu_ticks *t)
{
	char name[16], line[256];
	FILE *f = fopen("/proc/stat", "re");
	bool found = false;
	int n = snprintf(name, sizeof(name), "cpu%d ", cpu);

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n))
			found = sscanf(line + n,
				       "%llu %llu %llu %llu %llu %llu %llu "
				       "%llu",
				       &t->user, &t->nice, &t->system, &t->idle,
				       &t->iowait, &t->irq, &t->softirq,
				       &t->steal) == 8;
	fclose(f);
	return found;
}

/* Build the frame data_in starts as. The program rewrites all its headers
 * on every frame; the payload is a fixed pattern. */
static void build_frame(__u8 *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (__u8)i;
}

/*
 * The sink's count, watched from another CPU while the generator runs.
 * BPF_PROG_TEST_RUN spends ~10 ms setting up before its first frame and
 * ~18 ms tearing down after its last (measured here: 1,000 frames took
 * 26 ms, 1,000,000 took 86 ms), so its syscall time would understate a
 * 2M-frame run's rate by 10-25 %. The rate is taken from the sink instead:
 * frames counted between the first and the last change of its count, over
 * the time between them, each to within one poll (~0.1 ms).
 */
struct poller {
	int map_fd;
	int cpu;
	int stop;    /* set by the main thread (atomic) */
	__u64 value; /* last count seen (atomic: read by the main thread) */
	uint64_t t_change; /* when it was first seen (atomic) */
	__u64 first_value; /* count at the first change seen; read after join */
	uint64_t t_first;  /* when; 0 while there was none */
};

static void *poll_sink(void *arg)
{
	struct poller *p = arg;
	struct timespec ts = {0, 50000};

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* 50 us means 50 us */
	if (p->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(p->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		__u64 v = percpu_sum(p->map_fd, NFCB_RX);

		if (v != __atomic_load_n(&p->value, __ATOMIC_RELAXED)) {
			uint64_t t = now_ns();

			/* time first: whoever sees the value sees its time */
			__atomic_store_n(&p->t_change, t, __ATOMIC_RELAXED);
			__atomic_store_n(&p->value, v, __ATOMIC_RELEASE);
			if (!p->t_first) {
				p->t_first = t;
				p->first_value = v;
			}
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * The generator is done (at t1): wait until the sink has counted `want`,
 * has been quiet for 50 ms, or settle_ms have passed; stop the poller, and
 * time the run from the first to the last frame the sink counted, when it
 * saw them (else from the generator's own start and end, already in
 * *t_start, *t_done, *timed).
 */
static void sink_finish(struct poller *pl, pthread_t th, int sink_fd,
			__u64 want, __u64 t1, unsigned long settle_ms,
			__u64 *timed, __u64 *t_start, __u64 *t_done,
			__u64 *sink1, __u64 *foreign1)
{
	uint64_t deadline = t1 + settle_ms * 1000000ull;

	for (;;) { /* bounded by the deadline */
		__u64 v = __atomic_load_n(&pl->value, __ATOMIC_ACQUIRE);
		uint64_t tc = __atomic_load_n(&pl->t_change, __ATOMIC_RELAXED);
		uint64_t t = now_ns();

		if (v >= want || t > deadline ||
		    t - (tc > t1 ? tc : t1) > 50000000ull)
			break;
		usleep(1000);
	}
	__atomic_store_n(&pl->stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	*sink1 = percpu_sum(sink_fd, NFCB_RX);
	/* A frame counted after the poller's last look: the run ended no
	 * earlier than now. */
	*t_done = *sink1 == pl->value ? pl->t_change : now_ns();
	if (pl->t_first && *t_done > pl->t_first && *sink1 > pl->first_value) {
		*timed = *sink1 - pl->first_value;
		*t_start = pl->t_first;
	}
	*foreign1 = percpu_sum(sink_fd, NFCB_FOREIGN);
}

/*
 * The sink of a run on every CPU at once. There is no CPU left for a
 * poller of its own: looking every 50 us, as for one CPU, it took about a
 * fifth of a generator's CPU time, and every run on 2 CPUs came out
 * "disturbed" (off_cpu 0.13-0.40). It looks every millisecond, keeps each
 * look (the time and every CPU's count), and the rate is taken afterwards
 * over the window in which every CPU's sink was counting: from the look
 * at which the last CPU to start had started to the last look before the
 * first CPU to finish had finished. Counts and times are both those of
 * the looks, so the poll interval shortens the window but biases nothing;
 * a CPU that started late or finished early is not taken for the others'
 * speed or slowness.
 */
#define MPOLL_NS 1000000ull
#define MPOLL_MAX 20000 /* looks: 20 s */

struct mpoller {
	int map_fd, ncpu;
	int stop; /* set by the main thread (atomic) */
	int n;	  /* looks taken (atomic: read by the main thread) */
	uint64_t *t;
	__u64 *v; /* n looks of ncpu counts */
};

static void mpoll_look(struct mpoller *p)
{
	int n = __atomic_load_n(&p->n, __ATOMIC_RELAXED);
	__u32 slot = NFCB_RX;
	uint64_t t0;

	if (n >= MPOLL_MAX)
		return;
	t0 = now_ns();
	if (bpf_map_lookup_elem(p->map_fd, &slot, p->v + (size_t)n * p->ncpu))
		die("reading the sink's counters: %s", strerror(errno));
	p->t[n] = t0 + (now_ns() - t0) / 2;
	__atomic_store_n(&p->n, n + 1, __ATOMIC_RELEASE);
}

static void *mpoll_run(void *arg)
{
	struct mpoller *p = arg;
	struct timespec ts = {0, MPOLL_NS};

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		mpoll_look(p);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static __u64 mpoll_total(const struct mpoller *p, int i)
{
	__u64 sum = 0;

	for (int c = 0; c < p->ncpu; c++)
		sum += p->v[(size_t)i * p->ncpu + c];
	return sum;
}

/*
 * The window every counting CPU was in (looks a, b), or, if there is none
 * of at least two looks (a run too short for the poll interval), the
 * whole run: from the first look that saw a frame to the first that saw
 * the last. 0 if the sink counted nothing.
 */
static int mpoll_window(const struct mpoller *p, int *a, int *b)
{
	int n = p->n, first = n, last = 0, lo = 0, hi = n - 1;
	const __u64 *v0 = p->v, *vn = p->v + (size_t)(n - 1) * p->ncpu;

	if (n < 2)
		return 0;
	for (int c = 0; c < p->ncpu; c++) {
		int f = -1, l = -1;

		if (vn[c] == v0[c])
			continue;
		for (int i = 1; i < n && l < 0; i++) {
			__u64 x = p->v[(size_t)i * p->ncpu + c];

			if (f < 0 && x != v0[c])
				f = i;
			if (x == vn[c])
				l = i;
		}
		/* c counted from look f on, and was done at look l */
		lo = f > lo ? f : lo;
		hi = l - 1 < hi ? l - 1 : hi;
		first = f < first ? f : first;
		last = l > last ? l : last;
	}
	if (first == n)
		return 0;
	if (hi - lo >= 2) {
		*a = lo, *b = hi;
	} else {
		*a = first - 1, *b = last;
	}
	return 1;
}

/*
 * Every CPU at once (--cpus): one generator thread per CPU, pinned, each
 * with its own program and its own flows (source addresses and source MAC
 * offset by its rank), as RSS would spread a NIC's traffic: a veth with a
 * queue per CPU keeps each CPU's frames on that CPU from generator to sink.
 * The threads start together at a barrier; the aggregate rate is the sink's
 * count over the window in which every CPU was counting (struct mpoller).
 */
struct gen_thread {
	int cpu;
	struct gen_bpf *skel;
	__u8 *frame;
	unsigned long count, size, batch;
	pthread_barrier_t *start;
	uint64_t t0, t1;
	__u32 duration; /* ns a frame, by the kernel's timer */
	int err;
};

static void *gen_thread_run(void *arg)
{
	struct gen_thread *g = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(g->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		g->err = EINVAL;
		pthread_barrier_wait(g->start);
		return NULL;
	}
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = g->frame,
		    .data_size_in = g->size, .repeat = (int)g->count,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = g->batch);
	pthread_barrier_wait(g->start);
	g->t0 = now_ns();
	if (bpf_prog_test_run_opts(bpf_program__fd(g->skel->progs.nfcb_gen),
				   &run))
		g->err = errno;
	g->t1 = now_ns();
	g->duration = run.duration;
	return NULL;
}

static int gen_multi(const char *dev, const char *cpus,
		     const struct nfcb_gen_cfg *base, unsigned long count,
		     unsigned long size, unsigned long batch,
		     const char *sink_pin, unsigned long settle_ms)
{
	struct gen_thread g[CPU_SETSIZE];
	pthread_t th[CPU_SETSIZE];
	pthread_barrier_t start;
	struct mpoller pl = {.map_fd = -1};
	pthread_t poll_thread;
	__u64 sink0 = 0, sink1 = 0, foreign0 = 0, foreign1 = 0, gen = 0,
	      shrt = 0, timed = 0, t0 = UINT64_MAX, t1 = 0, t_done, t_start;
	double inv = 0; /* sum over threads of frames a ns */
	int n = 0, sink_fd = -1;
	char *list = strdup(cpus), *tok, *save = NULL;

	if (!list)
		die("out of memory");
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct nfcb_gen_cfg cfg = *base;

		if (n == CPU_SETSIZE)
			die("gen: --cpus: too many CPUs");
		memset(&g[n], 0, sizeof(g[n]));
		g[n].cpu = parse_ulong("--cpus", tok, 0, CPU_SETSIZE - 1);
		/* Its own flows and its own source MAC (a bridge learns
		 * each CPU's MAC apart). */
		cfg.saddr = base->saddr + n * base->n_saddr;
		cfg.src_mac[5] ^= (__u8)n;
		g[n].skel = gen_bpf__open();
		if (!g[n].skel)
			die("opening the generator program: %s",
			    strerror(errno));
		memcpy((void *)&g[n].skel->rodata->cfg, &cfg, sizeof(cfg));
		if (gen_bpf__load(g[n].skel))
			die("loading the generator program: %s",
			    strerror(errno));
		g[n].frame = calloc(1, size);
		if (!g[n].frame)
			die("out of memory");
		build_frame(g[n].frame, size);
		g[n].count = count;
		g[n].size = size;
		g[n].batch = batch;
		g[n].start = &start;
		n++;
	}
	free(list);
	if (!n)
		die("gen: --cpus: no CPU given");
	pthread_barrier_init(&start, NULL, n + 1);
	if (sink_pin) {
		sink_fd = open_counters(sink_pin);
		foreign0 = percpu_sum(sink_fd, NFCB_FOREIGN);
		pl.map_fd = sink_fd;
		pl.ncpu = libbpf_num_possible_cpus();
		pl.t = calloc(MPOLL_MAX, sizeof(*pl.t));
		pl.v = calloc((size_t)MPOLL_MAX * pl.ncpu, sizeof(*pl.v));
		if (pl.ncpu <= 0 || !pl.t || !pl.v)
			die("the sink poller: out of memory");
		mpoll_look(&pl); /* look 0: the counts before the run */
		sink0 = mpoll_total(&pl, 0);
	}
	for (int i = 0; i < n; i++) {
		errno = pthread_create(&th[i], NULL, gen_thread_run, &g[i]);
		if (errno)
			die("starting generator %d: %s", i, strerror(errno));
	}
	if (sink_fd >= 0) {
		errno = pthread_create(&poll_thread, NULL, mpoll_run, &pl);
		if (errno)
			die("starting the sink poller: %s", strerror(errno));
	}
	pthread_barrier_wait(&start);
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (g[i].err)
			die("BPF_PROG_TEST_RUN (live frames) on %s, CPU %d: %s",
			    dev, g[i].cpu, strerror(g[i].err));
		gen += g[i].skel->bss->stats.generated;
		shrt += g[i].skel->bss->stats.short_frames;
		t0 = g[i].t0 < t0 ? g[i].t0 : t0;
		t1 = g[i].t1 > t1 ? g[i].t1 : t1;
		if (g[i].duration)
			inv += 1.0 / g[i].duration;
	}
	t_start = t0;
	t_done = t1;
	timed = gen;
	if (sink_fd >= 0) {
		uint64_t deadline = t1 + settle_ms * 1000000ull, tc = t1;
		__u64 seen = 0;
		int a, b;

		/* until the sink has counted every frame, been quiet for
		 * 50 ms, or settle_ms have passed */
		for (;;) {
			int k = __atomic_load_n(&pl.n, __ATOMIC_ACQUIRE);
			__u64 v = k ? mpoll_total(&pl, k - 1) : sink0;
			uint64_t t = now_ns();

			if (v != seen)
				seen = v, tc = t;
			if (v >= sink0 + gen || t > deadline ||
			    t - tc > 50000000ull || k >= MPOLL_MAX)
				break;
			usleep(1000);
		}
		__atomic_store_n(&pl.stop, 1, __ATOMIC_RELEASE);
		pthread_join(poll_thread, NULL);
		mpoll_look(&pl); /* the counts after the run */
		sink1 = mpoll_total(&pl, pl.n - 1);
		if (mpoll_window(&pl, &a, &b)) {
			timed = mpoll_total(&pl, b) - mpoll_total(&pl, a);
			t_start = pl.t[a];
			t_done = pl.t[b];
		}
		foreign1 = percpu_sum(sink_fd, NFCB_FOREIGN);
		free(pl.t);
		free(pl.v);
		close(sink_fd);
	}
	/* kernel_ns_per_frame: the threads' kernel-timed rates added up, as
	 * one figure comparable with the aggregate pps. */
	printf("{\"generated\":%llu,\"short\":%llu,\"repeat\":%lu,\"size\":%lu,"
	       "\"flows\":%llu,\"cpu\":%d,\"cpus\":%d,\"timed_frames\":%llu,"
	       "\"elapsed_ns\":%llu,\"pps\":%.1f,\"syscall_ns\":%llu,"
	       "\"kernel_ns_per_frame\":%u",
	       (unsigned long long)gen, (unsigned long long)shrt, count, size,
	       (unsigned long long)base->n_saddr * base->n_daddr *
		       base->n_sport * base->n_dport * n,
	       g[0].cpu, n, (unsigned long long)timed,
	       (unsigned long long)(t_done - t_start),
	       t_done > t_start ? timed * 1e9 / (t_done - t_start) : 0.0,
	       (unsigned long long)(t1 - t0),
	       inv > 0 ? (unsigned)(1.0 / inv + 0.5) : 0);
	if (sink_pin)
		printf(",\"sink_rx\":%llu,\"sink_foreign\":%llu",
		       (unsigned long long)(sink1 - sink0),
		       (unsigned long long)(foreign1 - foreign0));
	printf("}\n");
	pthread_barrier_destroy(&start);
	for (int i = 0; i < n; i++) {
		free(g[i].frame);
		gen_bpf__destroy(g[i].skel);
	}
	return 0;
}

static int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dev", required_argument, NULL, 'd'},
		{"dst-mac", required_argument, NULL, 'm'},
		{"src-mac", required_argument, NULL, 'M'},
		{"count", required_argument, NULL, 'n'},
		{"size", required_argument, NULL, 's'},
		{"src", required_argument, NULL, 'a'},
		{"dst", required_argument, NULL, 'b'},
		{"sport", required_argument, NULL, 'P'},
		{"dport", required_argument, NULL, 'Q'},
		{"saddrs", required_argument, NULL, 'A'},
		{"daddrs", required_argument, NULL, 'B'},
		{"sports", required_argument, NULL, 'S'},
		{"first", required_argument, NULL, 'F'},
		{"dports", required_argument, NULL, 'D'},
		{"cpu", required_argument, NULL, 'c'},
		{"cpus", required_argument, NULL, 'C'},
		{"batch", required_argument, NULL, 'k'},
		{"sink-pin", required_argument, NULL, 'p'},
		{"settle-ms", required_argument, NULL, 't'},
		{"family", required_argument, NULL, 'f'},
		{"src6", required_argument, NULL, 'x'},
		{"dst6", required_argument, NULL, 'y'},
		{"syn", no_argument, NULL, 'z'},
		{},
	};
	const char *dev = NULL, *sink_pin = NULL, *cpus = NULL;
	const char *src6 = "2001:db8:100::80", *dst6 = "2001:db8:8001:86a0::80";
	bool have_dst = false, have_src = false;
	unsigned long count = 1000000, size = 64, batch = 0, settle_ms = 3000;
	int cpu = default_cpu();
	struct nfcb_gen_cfg cfg = {
		.saddr = 0xc6336480, /* 198.51.100.128: the generator's side */
		.daddr = 0xcb007180, /* 203.0.113.128: the sink's side */
		.n_saddr = 8,
		.n_daddr = 8,
		.sport = 10000,
		.dport = 20000,
		.n_sport = 4,
		.n_dport = 4,
	};
	struct gen_bpf *skel;
	__u8 *frame;
	int c, err, sink_fd = -1;
	__u64 sink0 = 0, sink1 = 0, foreign0 = 0, foreign1 = 0, t0, t1, t_done,
	      t_start, timed;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'm':
			parse_mac("--dst-mac", optarg, cfg.dst_mac);
			have_dst = true;
			break;
		case 'M':
			parse_mac("--src-mac", optarg, cfg.src_mac);
			have_src = true;
			break;
		case 'n':
			count = parse_ulong("--count", optarg, 1, INT_MAX);
			break;
		case 's':
			size = parse_ulong("--size", optarg, NFCB_MIN_FRAME,
					   NFCB_MAX_FRAME);
			break;
		case 'a':
			cfg.saddr = parse_ip4("--src", optarg);
			break;
		case 'b':
			cfg.daddr = parse_ip4("--dst", optarg);
			break;
		case 'P':
			cfg.sport = parse_ulong("--sport", optarg, 1, 65535);
			break;
		case 'Q':
			cfg.dport = parse_ulong("--dport", optarg, 1, 65535);
			break;
		case 'A':
			cfg.n_saddr = parse_ulong("--saddrs", optarg, 1, 65536);
			break;
		case 'B':
			cfg.n_daddr = parse_ulong("--daddrs", optarg, 1, 65536);
			break;
		case 'S':
			cfg.n_sport = parse_ulong("--sports", optarg, 1, 65536);
			break;
		case 'D':
			cfg.n_dport = parse_ulong("--dports", optarg, 1, 65536);
			break;
		case 'F':
			cfg.first = parse_ulong("--first", optarg, 0, INT_MAX);
			break;
		case 'c':
			cpu = parse_ulong("--cpu", optarg, 0, CPU_SETSIZE - 1);
			break;
		case 'C':
			cpus = optarg;
			break;
		case 'k':
			batch = parse_ulong("--batch", optarg, 0, 256);
			break;
		case 'p':
			sink_pin = optarg;
			break;
		case 't':
			settle_ms =
				parse_ulong("--settle-ms", optarg, 0, 60000);
			break;
		case 'f':
			cfg.family = parse_ulong("--family", optarg, 4, 6);
			if (cfg.family == 5)
				die("--family: 4 or 6");
			break;
		case 'x':
			src6 = optarg;
			break;
		case 'y':
			dst6 = optarg;
			break;
		case 'z':
			cfg.tcp_syn = 1;
			break;
		default:
			die("gen: unknown option");
		}
	}
	if (!dev || !have_dst)
		die("gen: --dev IF and --dst-mac MAC are required");
	/* IPv6: the generator's side 2001:db8:100::/64, the destinations
	 * in 2001:db8:8001:86a0::/64 (routed, bench/scenarios/router.sh). */
	if (cfg.family == 6) {
		parse_ip6("--src6", src6, cfg.saddr6, &cfg.saddr);
		parse_ip6("--dst6", dst6, cfg.daddr6, &cfg.daddr);
		if (size < NFCB_HDR6_LEN)
			die("gen: --size %lu: IPv6/UDP frames need %d bytes",
			    size, NFCB_HDR6_LEN);
	} else {
		cfg.family = 4;
	}
	if (cfg.tcp_syn && cfg.family == 6)
		die("gen: --syn: IPv4 only");
	if (cfg.sport + cfg.n_sport - 1 > 65535 ||
	    cfg.dport + cfg.n_dport - 1 > 65535)
		die("gen: port range runs past 65535");
	cfg.ifindex = ifindex_of(dev);
	cfg.frame_len = size;
	if (!have_src)
		mac_of(dev, cfg.src_mac);
	if (cpus)
		return gen_multi(dev, cpus, &cfg, count, size, batch, sink_pin,
				 settle_ms);

	/* The live-frames run executes on the calling CPU, and so do the
	 * veth NAPI polls it triggers: pin it so the whole path stays on one
	 * known core from run to run. */
	pin_cpu(cpu);

	skel = gen_bpf__open();
	if (!skel)
		die("opening the generator program: %s", strerror(errno));
	memcpy((void *)&skel->rodata->cfg, &cfg, sizeof(cfg));
	if (gen_bpf__load(skel))
		die("loading the generator program: %s", strerror(errno));

	frame = calloc(1, size);
	if (!frame)
		die("out of memory");
	build_frame(frame, size);

	struct poller pl = {.map_fd = -1, .cpu = -1};
	struct cpu_ticks tk0 = {}, tk1 = {};
	bool have_ticks;
	pthread_t poll_thread;

	if (sink_pin) {
		sink_fd = open_counters(sink_pin);
		sink0 = percpu_sum(sink_fd, NFCB_RX);
		foreign0 = percpu_sum(sink_fd, NFCB_FOREIGN);
		pl.map_fd = sink_fd;
		pl.value = sink0;
		/* Any CPU but the generator's, so that polling steals nothing
		 * from the path being measured. */
		pl.cpu = cpu == 0 && sysconf(_SC_NPROCESSORS_ONLN) > 1
				 ? 1
				 : (cpu > 0 ? 0 : -1);
		errno = pthread_create(&poll_thread, NULL, poll_sink, &pl);
		if (errno)
			die("starting the sink poller: %s", strerror(errno));
	}

	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame,
		    .data_size_in = size, .repeat = (int)count,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
	/* Whatever else runs on our CPU during the run (other processes'
	 * user time, or the hypervisor's steal) is time the path did not get:
	 * reported, so that a disturbed run can be told from a slow DUT. Our
	 * own path is all kernel time, so user time here is someone else's. */
	have_ticks = cpu_ticks(cpu, &tk0);
	t0 = now_ns();
	pl.t_change = t0;
	t_start = t0;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.nfcb_gen),
				     &run);
	t1 = now_ns();
	if (err)
		die("BPF_PROG_TEST_RUN (live frames) on %s: %s", dev,
		    strerror(errno));
	have_ticks = have_ticks && cpu_ticks(cpu, &tk1);

	/*
	 * Frames still in flight when the run returns sit in veth rings and are
	 * polled within microseconds. Wait until the sink has them all, or
	 * until its count has not moved for 50 ms (then the rest is lost).
	 */
	t_done = t1;
	timed = skel->bss->stats.generated;
	if (sink_fd >= 0) {
		sink_finish(&pl, poll_thread, sink_fd,
			    sink0 + skel->bss->stats.generated, t1, settle_ms,
			    &timed, &t_start, &t_done, &sink1, &foreign1);
		close(sink_fd);
	}

	/* pps: frames timed over the time they took (see struct poller). */
	printf("{\"generated\":%llu,\"short\":%llu,\"repeat\":%lu,\"size\":%lu,"
	       "\"flows\":%llu,\"cpu\":%d,\"timed_frames\":%llu,\"elapsed_ns\":"
	       "%llu,"
	       "\"pps\":%.1f,\"syscall_ns\":%llu,\"kernel_ns_per_frame\":%u",
	       (unsigned long long)skel->bss->stats.generated,
	       (unsigned long long)skel->bss->stats.short_frames, count, size,
	       (unsigned long long)cfg.n_saddr * cfg.n_daddr * cfg.n_sport *
		       cfg.n_dport,
	       cpu, (unsigned long long)timed,
	       (unsigned long long)(t_done - t_start),
	       t_done > t_start ? timed * 1e9 / (t_done - t_start) : 0.0,
	       (unsigned long long)(t1 - t0), run.duration);
	if (have_ticks) {
		unsigned long long other =
			(tk1.user + tk1.nice) - (tk0.user + tk0.nice);
		unsigned long long steal = tk1.steal - tk0.steal;
		unsigned long long all =
			other + steal + (tk1.system - tk0.system) +
			(tk1.idle - tk0.idle) + (tk1.iowait - tk0.iowait) +
			(tk1.irq - tk0.irq) + (tk1.softirq - tk0.softirq);

		printf(",\"cpu_ticks\":%llu,\"cpu_other\":%.3f,\"cpu_steal\":%."
		       "3f",
		       all, all ? (double)other / all : 0.0,
		       all ? (double)steal / all : 0.0);
	}
	if (sink_pin)
		printf(",\"sink_rx\":%llu,\"sink_foreign\":%llu",
		       (unsigned long long)(sink1 - sink0),
		       (unsigned long long)(foreign1 - foreign0));
	printf("}\n");

	free(frame);
	gen_bpf__destroy(skel);
	return 0;
}

/* ---- micro benchmark ---------------------------------------------------- */

struct micro_case {
	char label[64];
	int hops; /* NF hops behind the stub; -1 for our own programs */
	int prog_fd;
	__u32 ifindex; /* ingress_ifindex in the context (0: none) */
	__u32 want;    /* retval that proves the whole path ran */
	double *kernel_ns;
	__u32 retval;
};

/* A 64-byte IPv4/UDP frame like the generator's. */
static void build_micro_frame(__u8 *f, size_t len)
{
	static const __u8 hdr[] = {
		0x02, 0,    0,	  0,	0,    2, 0x02, 0,   0,
		0,    0,    1,	  0x08, 0x00, /* ethernet */
		0x45, 0,    0,	  50,	0,    1, 0,    0,   64,
		17,   0,    0, /* IPv4, csum filled in below */
		198,  51,   100,  128,	203,  0, 113,  128, 0x27,
		0x10, 0x4e, 0x20, 0,	30,   0, 0, /* UDP 10000 -> 20000 */
	};

	__u32 sum = 0;

	memset(f, 0, len);
	memcpy(f, hdr, sizeof(hdr));
	/* A valid header checksum: a router drops a frame without one. */
	for (int i = 14; i < 34; i += 2)
		sum += f[i] << 8 | f[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~((sum & 0xffff) + (sum >> 16)) & 0xffff;
	f[24] = sum >> 8;
	f[25] = sum & 0xff;
}

static void micro_run(struct micro_case *mc, int repeat, int run, __u8 *frame,
		      size_t len)
{
	struct xdp_md ctx = {.data_end = len, .ingress_ifindex = mc->ifindex};
	int err;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = len, .repeat = repeat,
		    .ctx_in = mc->ifindex ? &ctx : NULL,
		    .ctx_size_in = mc->ifindex ? sizeof(ctx) : 0);
	err = bpf_prog_test_run_opts(mc->prog_fd, &opts);
	if (err)
		die("micro %s: BPF_PROG_TEST_RUN: %s", mc->label,
		    strerror(errno));
	if (opts.retval != mc->want)
		die("micro %s: the program returned %u, expected %u: the "
		    "packet did not take "
		    "the whole path, so its time would mean nothing",
		    mc->label, opts.retval, mc->want);
	mc->retval = opts.retval;
	/* The kernel's own clock, around the program runs only: a wall clock
	 * around the syscall would add a fixed cost that differs from program
	 * to program (measured: 1 to 12 ms a call). Whole ns, so the per-hop
	 * cost is taken as a slope over many hops, not from one difference. */
	mc->kernel_ns[run] = opts.duration;
}

static int cmd_micro(int argc, char **argv)
{
	static const struct option opts[] = {
		{"case", required_argument, NULL, 'c'},
		{"repeat", required_argument, NULL, 'r'},
		{"runs", required_argument, NULL, 'k'},
		{"cpu", required_argument, NULL, 'C'},
		{},
	};
	struct micro_case cases[64] = {};
	int ncases = 2, repeat = 1000000, runs = 5, cpu = default_cpu(), c;
	struct hop_bpf *skel;
	__u8 frame[64];

	skel = hop_bpf__open();
	if (!skel)
		die("opening the hop program: %s", strerror(errno));
	skel->rodata->out_ifindex =
		1; /* not followed: test runs never transmit */
	if (hop_bpf__load(skel))
		die("loading the hop program: %s", strerror(errno));
	snprintf(cases[0].label, sizeof(cases[0].label), "empty XDP program");
	cases[0].hops = -1;
	cases[0].prog_fd = bpf_program__fd(skel->progs.nfcb_empty);
	cases[0].want = XDP_DROP;
	snprintf(cases[1].label, sizeof(cases[1].label), "bare XDP redirect");
	cases[1].hops = -1;
	cases[1].prog_fd = bpf_program__fd(skel->progs.nfcb_hop);
	cases[1].want = XDP_REDIRECT;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			repeat = parse_ulong("--repeat", optarg, 1, INT_MAX);
			break;
		case 'k':
			runs = parse_ulong("--runs", optarg, 1, 1000);
			break;
		case 'C':
			cpu = parse_ulong("--cpu", optarg, 0, CPU_SETSIZE - 1);
			break;
		case 'c': {
			/* LABEL:HOPS:TARGET[:RETVAL]; TARGET is a program pin
			 * (a path) or a netdev, whose attached XDP program (for
			 * nfchain: the stub in front of the chain) is run with
			 * that netdev as the ingress in its context. */
			struct micro_case *mc;
			char *str, *f[4] = {};
			int n = 0;

			if (ncases >= (int)(sizeof(cases) / sizeof(cases[0])))
				die("micro: too many --case");
			str = strdup(optarg);
			if (!str)
				die("out of memory");
			for (char *p = str, *tok;
			     n < 4 && (tok = strsep(&p, ":"));)
				f[n++] = tok;
			if (n < 3)
				die("micro: --case %s: want "
				    "LABEL:HOPS:PIN|NETDEV[:RETVAL]",
				    optarg);
			mc = &cases[ncases++];
			snprintf(mc->label, sizeof(mc->label), "%s", f[0]);
			mc->hops = parse_ulong("--case hops", f[1], 0, 64);
			if (f[2][0] == '/') {
				mc->prog_fd = bpf_obj_get(f[2]);
				if (mc->prog_fd < 0)
					die("micro %s: opening program pin %s: "
					    "%s",
					    f[0], f[2], strerror(errno));
			} else {
				__u32 id = 0;
				int err;

				mc->ifindex = ifindex_of(f[2]);
				err = bpf_xdp_query_id(mc->ifindex, 0, &id);
				if (err || !id)
					die("micro %s: no XDP program attached "
					    "to %s%s%s",
					    f[0], f[2], err ? ": " : "",
					    err ? strerror(-err) : "");
				mc->prog_fd = bpf_prog_get_fd_by_id(id);
				if (mc->prog_fd < 0)
					die("micro %s: program %u on %s: %s",
					    f[0], id, f[2], strerror(errno));
			}
			mc->want =
				n > 3 ? parse_ulong("--case retval", f[3], 0, 4)
				      : XDP_REDIRECT;
			free(str);
			break;
		}
		default:
			die("micro: unknown option");
		}
	}
	pin_cpu(cpu);
	build_micro_frame(frame, sizeof(frame));
	for (int i = 0; i < ncases; i++) {
		cases[i].kernel_ns = calloc(runs, sizeof(double));
		if (!cases[i].kernel_ns)
			die("out of memory");
	}
	/* Warm up every path once (first-touch of maps, caches), then run the
	 * cases round-robin so that drift over time hits them all alike. */
	for (int i = 0; i < ncases; i++)
		micro_run(&cases[i], repeat / 10 + 1, 0, frame, sizeof(frame));
	for (int r = 0; r < runs; r++)
		for (int i = 0; i < ncases; i++)
			micro_run(&cases[i], repeat, r, frame, sizeof(frame));

	for (int i = 0; i < ncases; i++) {
		struct micro_case *mc = &cases[i];

		printf("{\"case\":\"%s\",\"hops\":%d,\"repeat\":%d,\"retval\":%"
		       "u,\"kernel_ns\":[",
		       mc->label, mc->hops, repeat, mc->retval);
		for (int r = 0; r < runs; r++)
			printf("%s%.0f", r ? "," : "", mc->kernel_ns[r]);
		printf("]}\n");
		if (mc->hops >= 0)
			close(mc->prog_fd);
		free(mc->kernel_ns);
	}
	hop_bpf__destroy(skel);
	return 0;
}

/* Exit 0 if the kernel runs live-frames test runs, 77 if it refuses them
 * (EPERM: some sandboxed guests do, even to root): the generator needs
 * them, so the harness and its smoke test say so and stop. */
static int cmd_live_probe(void)
{
	struct bpf_insn drop[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1},
		{.code = BPF_JMP | BPF_EXIT},
	};
	__u8 frame[64] = {0};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "nfcb_probe", "GPL", drop, 2,
			       NULL);

	if (fd < 0)
		die("live-probe: load an XDP program: %s", strerror(errno));
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = sizeof(frame), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	if (bpf_prog_test_run_opts(fd, &o)) {
		int e = errno;

		close(fd);
		fprintf(stderr,
			"nfcb: this kernel refuses live-frames test runs (%s); "
			"the generator needs them\n",
			strerror(e));
		return e == EPERM || e == EINVAL || e == EOPNOTSUPP ? 77 : 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_print(libbpf_print);
	if (argc < 2)
		die("usage: nfcb gen|sink|hop|micro ... (see "
		    "bench/src/nfcb.c)");
	prog_name = "nfcb";
	if (!strcmp(argv[1], "gen"))
		return cmd_gen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sink"))
		return cmd_sink(argc - 1, argv + 1);
	if (!strcmp(argv[1], "hop"))
		return cmd_hop(argc - 1, argv + 1);
	if (!strcmp(argv[1], "micro"))
		return cmd_micro(argc - 1, argv + 1);
	if (!strcmp(argv[1], "live-probe"))
		return cmd_live_probe();
	die("unknown command '%s' (gen, sink, hop, micro)", argv[1]);
}
